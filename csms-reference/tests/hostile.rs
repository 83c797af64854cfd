//! Hostile and broken clients against `csms serve` (the real binary, as a child process):
//! binary frames, invalid UTF-8, oversized frames, a flood of CALLs sent without waiting for
//! answers, two connections claiming one station id, station ids with path tricks or over-long,
//! and repeated failed Basic-auth attempts. Each test asserts that the server stays up, that a
//! well-behaved station is unaffected, and what `/metrics` counted.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use ocpp_core::transport::StationClient;
use ocpp_core::Peer;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;

mod common;

use common::process::{self, serve_command};
use common::raw::{self, Ws};
use common::station::{connect_to, NoCalls};

/// Starts `csms serve` on free ports and a temp database, with an optional TOML file.
fn serve(dir: &tempfile::TempDir, config: Option<&str>) -> Csms {
    let db = format!("sqlite:{}", dir.path().join("hostile.db").display());
    let mut cmd = serve_command(&db);
    cmd.env("CSMS_LOG", "warn")
        .env_remove("CSMS_API_TOKEN")
        .stderr(Stdio::null());
    if let Some(c) = config {
        let path = dir.path().join("csms.toml");
        std::fs::write(&path, c).unwrap();
        cmd.arg("--config").arg(path);
    }
    Csms {
        server: process::spawn(cmd),
        db,
    }
}

/// `csms serve` and its database URL.
struct Csms {
    server: process::Csms,
    db: String,
}

impl std::ops::Deref for Csms {
    type Target = process::Csms;
    fn deref(&self) -> &process::Csms {
        &self.server
    }
}

impl std::ops::DerefMut for Csms {
    fn deref_mut(&mut self) -> &mut process::Csms {
        &mut self.server
    }
}

impl Csms {
    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.api))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The value of one metric line (`name{labels}`), 0 when absent.
    async fn metric(&self, series: &str) -> u64 {
        let m = self.metrics().await;
        m.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .map_or(0, |v| v.parse().unwrap())
    }

    async fn api_ok(&self) -> Value {
        let r = reqwest::get(format!("{}/api/stations", self.api))
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        r.json().await.unwrap()
    }
}

/// A well-behaved 2.0.1 station through the library's station role.
async fn good_station(ocpp: &str, id: &str) -> (StationClient, Peer<ocpp201::Ocpp201>) {
    connect_to(ocpp, id, BOOT, Arc::new(NoCalls), Duration::from_secs(10)).await
}

async fn heartbeat(peer: &Peer<ocpp201::Ocpp201>) {
    tokio::time::timeout(
        Duration::from_secs(10),
        peer.call(ocpp201::HeartbeatRequest::new()),
    )
    .await
    .expect("answered in time")
    .expect("the good station is served");
}

const BOOT: &str = r#"{"chargingStation":{"model":"H","vendorName":"V"},"reason":"PowerUp"}"#;

/// A raw WebSocket connection speaking OCPP 2.0.1.
async fn ws(ocpp: &str, id: &str) -> Ws {
    raw::ws(ocpp, id, "ocpp2.0.1").await
}

/// The next OCPP frame (text), skipping pings; `None` when the connection ended.
async fn next_frame(w: &mut Ws) -> Option<Result<Value, Option<u16>>> {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), w.next())
            .await
            .expect("the server answers or closes in time");
        match m {
            Some(Ok(Message::Text(t))) => return Some(Ok(serde_json::from_str(&t).unwrap())),
            Some(Ok(Message::Close(f))) => return Some(Err(f.map(|f| u16::from(f.code)))),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return None,
        }
    }
}

async fn raw_call(w: &mut Ws, id: &str, action: &str, payload: &str) -> Value {
    w.send(Message::text(format!(r#"[2,"{id}","{action}",{payload}]"#)))
        .await
        .unwrap();
    match next_frame(w).await {
        Some(Ok(v)) => {
            assert_eq!(v[1], id, "{v}");
            v
        }
        other => panic!("{action}: no answer: {other:?}"),
    }
}

/// Whether the server ends the connection (a close frame or the socket closing); the close
/// code when one came.
async fn ended(w: &mut Ws) -> Option<u16> {
    loop {
        match next_frame(w).await {
            Some(Ok(_)) => continue,
            Some(Err(code)) => return code,
            None => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_frames_and_floods_leave_the_server_and_others_unaffected() {
    let dir = tempfile::tempdir().unwrap();
    let mut csms = serve(&dir, None);
    let (good, peer) = good_station(&csms.ocpp, "GOOD").await;
    let mut good_heartbeats = 0;

    // A binary frame: OCPP-J is text only; it is ignored and the connection stays usable.
    let mut w = ws(&csms.ocpp, "BIN1").await;
    let boot = raw_call(&mut w, "b", "BootNotification", BOOT).await;
    assert_eq!(boot[2]["status"], "Accepted");
    w.send(Message::binary(vec![0xff, 0x00, 0x5b, 0x32]))
        .await
        .unwrap();
    let hb = raw_call(&mut w, "h", "Heartbeat", "{}").await;
    assert_eq!(hb[0], 3, "{hb}");
    heartbeat(&peer).await;
    good_heartbeats += 1;

    // Invalid UTF-8 in a text frame: the connection is dropped.
    let mut w = ws(&csms.ocpp, "UTF8BAD").await;
    raw_call(&mut w, "b", "BootNotification", BOOT).await;
    w.send(Message::Frame(Frame::message(
        vec![0x5b, 0x32, 0x2c, 0xff, 0xfe, 0x5d],
        OpCode::Data(Data::Text),
        true,
    )))
    .await
    .unwrap();
    ended(&mut w).await;
    heartbeat(&peer).await;
    good_heartbeats += 1;

    // A frame past the 256 KiB limit: closed with 1009.
    let mut w = ws(&csms.ocpp, "BIG1").await;
    raw_call(&mut w, "b", "BootNotification", BOOT).await;
    let big = format!(
        r#"[2,"x","DataTransfer",{{"vendorId":"v","data":"{}"}}]"#,
        "a".repeat(300 * 1024)
    );
    let _ = w.send(Message::text(big)).await;
    let code = ended(&mut w).await;
    assert!(matches!(code, Some(1009) | None), "{code:?}");
    heartbeat(&peer).await;
    good_heartbeats += 1;

    // A flood: 300 CALLs without waiting for answers. Each gets exactly one answer: a result,
    // or a CALLERROR once too many wait; the connection and the server stay up.
    let mut w = ws(&csms.ocpp, "FLOOD1").await;
    raw_call(&mut w, "b", "BootNotification", BOOT).await;
    const FLOOD: usize = 300;
    for i in 0..FLOOD {
        w.feed(Message::text(format!(r#"[2,"f{i}","Heartbeat",{{}}]"#)))
            .await
            .unwrap();
    }
    w.flush().await.unwrap();
    let mut answered = vec![0u32; FLOOD];
    let (mut results, mut errors) = (0u64, 0u64);
    for _ in 0..FLOOD {
        let v = match next_frame(&mut w).await {
            Some(Ok(v)) => v,
            other => panic!("flood: the connection ended: {other:?}"),
        };
        let i: usize = v[1].as_str().unwrap()[1..].parse().unwrap();
        answered[i] += 1;
        match v[0].as_u64() {
            Some(3) => results += 1,
            Some(4) => {
                assert_eq!(v[2], "GenericError", "{v}");
                errors += 1;
            }
            _ => panic!("{v}"),
        }
    }
    assert!(answered.iter().all(|&n| n == 1), "every CALL answered once");
    assert!(results >= 1);
    println!("flood: {results} answered, {errors} refused (too many waiting)");
    let hb = raw_call(&mut w, "after", "Heartbeat", "{}").await;
    assert_eq!(hb[0], 3, "the flooding connection is still served: {hb}");
    heartbeat(&peer).await;
    good_heartbeats += 1;

    // Up, and counted: the two dropped connections by their reason.
    assert!(csms.alive());
    csms.api_ok().await;
    tokio::time::timeout(Duration::from_secs(10), async {
        while csms
            .metric("csms_disconnects_total{reason=\"error\"}")
            .await
            != 1
            || csms
                .metric("csms_disconnects_total{reason=\"message_too_big\"}")
                .await
                != 1
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("invalid UTF-8 counted as an error, the big frame as message_too_big");
    assert_eq!(
        csms.metric("csms_messages_total{direction=\"in\",action=\"Heartbeat\"}")
            .await,
        results + 2 + good_heartbeats,
        "every Heartbeat the CSMS processed, none twice"
    );
    assert_eq!(
        csms.metric("csms_connected_stations{version=\"2.0.1\"}")
            .await,
        3,
        "GOOD, BIN1 and FLOOD1 are connected; the two dropped ones are not"
    );
    // The refusals and the unusable frames are counted by kind.
    assert_eq!(csms.metric("csms_flood_refusals_total").await, errors);
    assert_eq!(
        csms.metric("csms_refused_messages_total{code=\"GenericError\"}")
            .await,
        errors
    );
    assert_eq!(
        csms.metric("csms_bad_frames_total{kind=\"binary\"}").await,
        1
    );
    assert_eq!(
        csms.metric("csms_bad_frames_total{kind=\"invalid_utf8\"}")
            .await,
        1
    );
    good.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_connection_with_the_same_station_id_replaces_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut csms = serve(&dir, None);
    let (good, peer) = good_station(&csms.ocpp, "GOOD").await;
    let mut first = ws(&csms.ocpp, "DUP").await;
    raw_call(&mut first, "b", "BootNotification", BOOT).await;
    // The newer connection replaces the older (the rule of OCPP 2.0.1 part 4, 2.2 / 1.6 J,
    // documented on ocpp_core::transport::Connections): the older one is closed.
    let mut second = ws(&csms.ocpp, "DUP").await;
    ended(&mut first).await;
    let hb = raw_call(&mut second, "h", "Heartbeat", "{}").await;
    assert_eq!(
        hb[0], 3,
        "the station booted before needs no new boot: {hb}"
    );
    heartbeat(&peer).await;
    assert!(csms.alive());

    // The older connection's end (once its socket is gone) does not mark the station
    // disconnected, and the gauge counts the station once.
    drop(first);
    tokio::time::timeout(Duration::from_secs(10), async {
        while csms
            .metric("csms_connected_stations{version=\"2.0.1\"}")
            .await
            != 2
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("GOOD and the one DUP are counted");
    let st: Value = reqwest::get(format!("{}/api/stations/DUP", csms.api))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(st["connected"], true, "{st}");
    let store = csms_reference::store::SqliteStore::connect(&csms.db)
        .await
        .unwrap();
    let rec = csms_reference::store::Store::station(&store, "DUP")
        .await
        .unwrap()
        .unwrap();
    assert!(
        rec.connected,
        "the stored flag follows the newer connection"
    );
    drop(second);
    good.shutdown().await;
}

/// A raw upgrade request; the HTTP status of the answer.
async fn upgrade(ocpp: &str, path: &str, basic: Option<(&str, &str)>) -> u16 {
    use base64::Engine as _;
    let mut s = TcpStream::connect(ocpp).await.unwrap();
    let mut req = format!(
        "GET {path} HTTP/1.1\r\nHost: {ocpp}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: ocpp2.0.1\r\n"
    );
    if let Some((u, p)) = basic {
        let b = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
        req.push_str(&format!("Authorization: Basic {b}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut chunk))
            .await
            .expect("answered in time")
            .unwrap();
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    head.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn station_ids_with_path_tricks_or_too_long_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut csms = serve(&dir, None);
    let (good, peer) = good_station(&csms.ocpp, "GOOD").await;
    let long = "y".repeat(4000);
    let refused_by_id = [
        "/ocpp/a%2Fb".to_owned(),
        "/ocpp/..%2F..%2Fapi%2Fstations".to_owned(),
        "/ocpp/%2e%2e".to_owned(),
        "/ocpp/..".to_owned(),
        "/ocpp/x%00y".to_owned(),
        "/ocpp/a:b".to_owned(),
        "/ocpp/a%20b".to_owned(),
        "/ocpp/caf%C3%A9".to_owned(),
        "/ocpp/%3Cscript%3E".to_owned(),
        format!("/ocpp/{}", "x".repeat(49)),
        format!("/ocpp/{long}"),
    ];
    for p in &refused_by_id {
        assert_eq!(upgrade(&csms.ocpp, p, None).await, 401, "{p}");
    }
    // Refused by the transport before any id is read.
    assert_eq!(upgrade(&csms.ocpp, "/ocpp/a/b", None).await, 404);
    assert_eq!(upgrade(&csms.ocpp, "/ocpp/", None).await, 404);
    assert_eq!(upgrade(&csms.ocpp, "/other/CS1", None).await, 404);
    assert_eq!(upgrade(&csms.ocpp, "/ocpp/%ff", None).await, 400);
    // The longest valid id is accepted.
    let ok = "z".repeat(48);
    assert_eq!(upgrade(&csms.ocpp, &format!("/ocpp/{ok}"), None).await, 101);

    heartbeat(&peer).await;
    assert!(csms.alive());
    let list = csms.api_ok().await;
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["GOOD", ok.as_str()], "no refused id was recorded");
    assert_eq!(
        csms.metric("csms_refused_connections_total{reason=\"bad_station_id\"}")
            .await,
        refused_by_id.len() as u64
    );
    good.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_basic_auth_is_throttled_per_station_and_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let mut csms = serve(
        &dir,
        Some(
            "security_profile = 1\n\
             [[station]]\nid = \"PW1\"\npassword = \"pw1-secret\"\n\
             [[station]]\nid = \"PW2\"\npassword = \"pw2-secret\"\n\
             [[station]]\nid = \"OPEN\"\nsecurity_profile = 0\n",
        ),
    );
    let o = csms.ocpp.clone();
    // Five wrong passwords for PW1, then even the right one is refused: throttled.
    for _ in 0..5 {
        assert_eq!(upgrade(&o, "/ocpp/PW1", Some(("PW1", "guess"))).await, 401);
    }
    assert_eq!(
        upgrade(&o, "/ocpp/PW1", Some(("PW1", "pw1-secret"))).await,
        401
    );
    // Another station from the same address is not held back by PW1's failures.
    assert_eq!(
        upgrade(&o, "/ocpp/PW2", Some(("PW2", "pw2-secret"))).await,
        101
    );
    // Fifteen more failures from this address, over other ids: 20 in the window.
    for i in 0..15 {
        let id = format!("X{i}");
        assert_eq!(
            upgrade(&o, &format!("/ocpp/{id}"), Some((&id, "guess"))).await,
            401
        );
    }
    // Now the address is throttled: the right password of PW2 is refused too.
    assert_eq!(
        upgrade(&o, "/ocpp/PW2", Some(("PW2", "pw2-secret"))).await,
        401
    );
    // A station that needs no password is not affected; the server is up.
    assert_eq!(upgrade(&o, "/ocpp/OPEN", None).await, 101);
    assert!(csms.alive());
    csms.api_ok().await;
    assert_eq!(
        csms.metric("csms_refused_connections_total{reason=\"wrong_password\"}")
            .await,
        20
    );
    assert_eq!(
        csms.metric("csms_refused_connections_total{reason=\"throttled\"}")
            .await,
        2
    );
}

/// The operator's console going away (stdout closed, as when a supervisor's log pipe dies)
/// neither stops the server nor makes it fail on the lines it prints later (at shutdown).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stdout_does_not_stop_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = serve_command(&format!("sqlite:{}", dir.path().join("s.db").display()))
        .env("CSMS_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut api = None;
    {
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        for line in lines {
            let line = line.unwrap();
            if let Some(r) = line.strip_prefix("csms: operator API at http://") {
                api = r.split('/').next().map(str::to_owned);
                break;
            }
        }
        // The pipe's read end closes here.
    }
    let api = format!("http://{}", api.unwrap());
    let r = reqwest::get(format!("{api}/api/stations")).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(
        status.success(),
        "a graceful shutdown, not a panic on the closed stdout: {status:?}"
    );
}

/// 100,000 distinct failing sources (each a new station id from a new address) within one
/// window: the throttle never holds more keys than its capacity (evicting the oldest), and a
/// source that has just passed its limit is still refused.
#[test]
fn the_auth_throttle_stays_bounded_under_100k_distinct_failing_sources() {
    use csms_reference::ocpp::AuthThrottle;
    use std::net::{IpAddr, Ipv6Addr};
    for capacity in [1_000, AuthThrottle::MAX_KEYS] {
        let t = AuthThrottle::with_capacity(capacity);
        let mut peak = 0;
        for i in 0..100_000u32 {
            let addr = IpAddr::V6(Ipv6Addr::new(
                0x2001,
                0xdb8,
                0,
                0,
                0,
                0,
                (i >> 16) as u16,
                i as u16,
            ));
            t.failed(&format!("CS{i}"), addr);
            peak = peak.max(t.len());
        }
        assert!(peak <= capacity, "capacity {capacity}: peak {peak} keys");
        assert!(
            t.len() > capacity / 2,
            "it still remembers the recent failures"
        );
        // The newest offender goes over its per-address limit and is locked out.
        let addr: IpAddr = "2001:db8::ffff:ffff".parse().unwrap();
        for n in 0..AuthThrottle::PER_ADDRESS {
            assert!(
                t.begin(&format!("X{n}"), addr),
                "attempt {n} may be checked"
            );
        }
        assert!(!t.begin("X-next", addr), "locked out past the limit");
        assert!(t.throttled("X-next", addr));
        assert!(t.len() <= capacity);
        println!("auth throttle: capacity {capacity}, 100000 sources, peak {peak} keys");
    }
}
