//! Faults against `csms serve` (the real binary, as a child process): a station that stops
//! reading (slow reader), a station whose TCP connection went half-open (it never answers a
//! ping), and the database unavailable for a while (PostgreSQL and SQLite).
//!
//! Each test asserts that the server stays up, that the other stations are unaffected, and
//! that the fault is counted in `/metrics` and visible in the API.

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ocpp201::Ocpp201;
use ocpp_core::transport::StationClient;
use ocpp_core::Peer;
use ocpp_types::{DecodeOptions, Protocol};
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};

mod common;

use common::process::{self, serve_command, Csms};
use common::raw::upgrade_tcp;
use common::station::{connect_to, NoCalls};
use common::{metrics, postgres_url, text_frame, wait_until, PgDatabase};

fn serve(db: &str, extra: &[&str]) -> Csms {
    let mut cmd = serve_command(db);
    cmd.args(extra)
        // The flood below makes one warning per refused CALL; errors only.
        .env("CSMS_LOG", "error")
        .stderr(Stdio::inherit());
    process::spawn(cmd)
}

/// Opens a WebSocket by hand on a socket with the given receive buffer (bytes; `None`: the
/// kernel's default) and returns the raw TCP stream after the `101` answer.
async fn raw_ws(addr: &str, station: &str, subprotocol: &str, rcvbuf: Option<u32>) -> TcpStream {
    let sock = TcpSocket::new_v4().unwrap();
    if let Some(n) = rcvbuf {
        sock.set_recv_buffer_size(n).unwrap();
    }
    let tcp = sock.connect(addr.parse().unwrap()).await.unwrap();
    upgrade_tcp(tcp, addr, station, subprotocol).await
}

async fn get(url: &str) -> Value {
    let r = reqwest::get(url).await.unwrap();
    assert!(r.status().is_success(), "{url}: {}", r.status());
    r.json().await.unwrap()
}

/// The value of one metric line (`name{labels}`), 0 when absent.
fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

async fn connected(api: &str, station: &str) -> Option<bool> {
    let r = reqwest::get(format!("{api}/api/stations/{station}"))
        .await
        .unwrap();
    if !r.status().is_success() {
        return None;
    }
    r.json::<Value>().await.unwrap()["connected"].as_bool()
}

/// A well-behaved 2.0.1 station (the ocpp-core client: it reads all the time and answers
/// pings), booted.
struct GoodStation {
    _client: StationClient,
    peer: Peer<Ocpp201>,
}

impl GoodStation {
    async fn connect(addr: &str, id: &str) -> Self {
        let (client, peer) = connect_to::<Ocpp201>(
            addr,
            id,
            r#"{"chargingStation":{"model":"M","vendorName":"V"},"reason":"PowerUp"}"#,
            Arc::new(NoCalls),
            Duration::from_secs(30),
        )
        .await;
        GoodStation {
            _client: client,
            peer,
        }
    }

    /// A Heartbeat, and the answer's currentTime.
    async fn heartbeat(&self) -> String {
        let a = Ocpp201::action_from_name("Heartbeat").unwrap();
        let req = Ocpp201::decode_request(a, "{}", &DecodeOptions::STRICT)
            .unwrap()
            .0;
        let resp = self.peer.call_any(req).await.expect("Heartbeat answered");
        let v: Value =
            serde_json::from_str(&Ocpp201::encode_response(&resp, &DecodeOptions::STRICT).unwrap())
                .unwrap();
        v["currentTime"].as_str().expect("currentTime").to_owned()
    }
}

/// A station floods CALLs and never reads its answers: the CSMS's writes towards it stop
/// (kernel buffers full), and once a write waits past `write_timeout` the connection is
/// dropped, counted as `slow_peer`, and the station is shown disconnected. A well-behaved
/// station is served throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_station_that_does_not_read_is_dropped_and_others_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("csms.db").display());
    let csms = serve(&db, &["--write-timeout", "2"]);
    let good = GoodStation::connect(&csms.ocpp, "GOOD").await;

    // A 4 KiB receive window: the CSMS's answers pile up in its own socket buffer.
    let slow = raw_ws(&csms.ocpp, "SLOW", "ocpp1.6", Some(4096)).await;
    wait_until(Duration::from_secs(10), "SLOW shown connected", || async {
        connected(&csms.api, "SLOW").await == Some(true)
    })
    .await;
    let (_read_half_never_read, mut write) = slow.into_split();
    // Each CALL (before any BootNotification) is answered at once with a SecurityError
    // CALLERROR of ~110 bytes; 120,000 of them are far more than the socket buffers hold.
    let flood = tokio::spawn(async move {
        let mut batch = Vec::new();
        for i in 0..120_000u32 {
            batch.extend(text_frame(&format!(
                r#"[2,"slow-reader-{i:024}","Heartbeat",{{}}]"#
            )));
            if batch.len() > 64 * 1024 {
                if write.write_all(&batch).await.is_err() {
                    return;
                }
                batch.clear();
            }
        }
        let _ = write.write_all(&batch).await;
        // Keep the socket open (and unread) until the CSMS drops it.
        let _ = write.flush().await;
        std::future::pending::<()>().await;
    });

    wait_until(
        Duration::from_secs(120),
        "the slow reader is dropped (csms_disconnects_total{reason=\"slow_peer\"} 1)",
        || async {
            metric(
                &metrics(&csms.api).await,
                "csms_disconnects_total{reason=\"slow_peer\"}",
            ) == 1.0
        },
    )
    .await;
    flood.abort();
    wait_until(
        Duration::from_secs(10),
        "SLOW shown disconnected",
        || async { connected(&csms.api, "SLOW").await == Some(false) },
    )
    .await;
    // The other station was never affected and is still served.
    assert!(!good.heartbeat().await.is_empty());
    assert_eq!(connected(&csms.api, "GOOD").await, Some(true));
    let m = metrics(&csms.api).await;
    assert_eq!(
        metric(&m, "csms_connected_stations{version=\"2.0.1\"}"),
        1.0
    );
    assert_eq!(metric(&m, "csms_connected_stations{version=\"1.6\"}"), 0.0);
}

/// A station whose TCP connection is half-open (the handshake done, then nothing: no frame,
/// no pong; the kernel still acknowledges) is dropped by the ping/pong keepalive after
/// `ping_interval + pong_timeout` of silence and shown disconnected in the API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_open_connection_is_detected_by_the_keepalive() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("csms.db").display());
    let csms = serve(&db, &["--ping-interval", "1", "--pong-timeout", "1"]);
    let good = GoodStation::connect(&csms.ocpp, "ALIVE").await;

    let silent = raw_ws(&csms.ocpp, "GHOST", "ocpp2.0.1", None).await;
    wait_until(Duration::from_secs(10), "GHOST shown connected", || async {
        connected(&csms.api, "GHOST").await == Some(true)
    })
    .await;
    wait_until(
        Duration::from_secs(30),
        "GHOST dropped (csms_disconnects_total{reason=\"keepalive_timeout\"} 1)",
        || async {
            metric(
                &metrics(&csms.api).await,
                "csms_disconnects_total{reason=\"keepalive_timeout\"}",
            ) == 1.0
        },
    )
    .await;
    assert_eq!(connected(&csms.api, "GHOST").await, Some(false));
    // The well-behaved station answers pings (tungstenite does) and reads: it stays.
    assert!(!good.heartbeat().await.is_empty());
    assert_eq!(connected(&csms.api, "ALIVE").await, Some(true));
    let st = get(&format!("{}/api/stations/ALIVE", csms.api)).await;
    assert_eq!(st["connected"], true, "{st}");
    drop(silent);
}

/// A 2.0.1 station over a plain WebSocket client, for messages whose CALLERROR the test
/// wants to see (the ocpp-core client would queue and retry transaction messages).
struct RawStation {
    ws: tokio_tungstenite::WebSocketStream<TcpStream>,
    next: u32,
}

impl RawStation {
    async fn connect(addr: &str, id: &str) -> Self {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = format!("ws://{addr}/ocpp/{id}")
            .into_client_request()
            .unwrap();
        req.headers_mut()
            .insert("Sec-WebSocket-Protocol", "ocpp2.0.1".parse().unwrap());
        let tcp = TcpStream::connect(addr).await.unwrap();
        let (ws, _) = tokio_tungstenite::client_async(req, tcp).await.unwrap();
        RawStation { ws, next: 0 }
    }

    /// One CALL; its answer frame (CALLRESULT or CALLERROR), and how long it took. A CSMS
    /// that hangs fails the test after 90 s.
    async fn call(&mut self, action: &str, payload: &str) -> (Value, Duration) {
        use futures_util::{SinkExt, StreamExt};
        use tokio_tungstenite::tungstenite::Message;
        self.next += 1;
        let id = format!("m{}", self.next);
        let started = Instant::now();
        self.ws
            .send(Message::text(format!(r#"[2,"{id}","{action}",{payload}]"#)))
            .await
            .unwrap();
        loop {
            let m = tokio::time::timeout(Duration::from_secs(90), self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("{action}: no answer within 90 s"))
                .expect("the connection stays open")
                .unwrap();
            if let Message::Text(t) = m {
                let v: Value = serde_json::from_str(t.as_str()).unwrap();
                if v[1] == id.as_str() {
                    return (v, started.elapsed());
                }
            }
        }
    }
}

const BOOT_201: &str = r#"{"chargingStation":{"model":"M","vendorName":"V"},"reason":"PowerUp"}"#;

fn tx_started(tx: &str) -> String {
    format!(
        r#"{{"eventType":"Started","timestamp":"2025-01-01T10:00:00Z","triggerReason":"CablePluggedIn","seqNo":0,"transactionInfo":{{"transactionId":"{tx}"}},"evse":{{"id":1,"connectorId":1}}}}"#
    )
}

/// What the fault tests read back from the database after the fault: the transactions and
/// transaction events stored for a transaction id.
trait Counts {
    async fn rows(&self, table: &str, tx: &str) -> i64;
}

impl Counts for sqlx::SqlitePool {
    async fn rows(&self, table: &str, tx: &str) -> i64 {
        sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM {table} WHERE transaction_id = ?"
        ))
        .bind(tx)
        .fetch_one(self)
        .await
        .unwrap()
    }
}

impl Counts for sqlx::PgPool {
    async fn rows(&self, table: &str, tx: &str) -> i64 {
        sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM {table} WHERE transaction_id = $1"
        ))
        .bind(tx)
        .fetch_one(self)
        .await
        .unwrap()
    }
}

/// The station's TransactionEvent during the fault is answered InternalError within the
/// store timeout (plus the best-effort logging of the failure, also bounded), and nothing of
/// it is stored; once the fault is gone the same event is accepted and stored once.
async fn assert_fault_answered_then_recovered(
    station: &mut RawStation,
    tx: &str,
    db: &impl Counts,
    fault_ends: impl std::future::Future<Output = ()>,
) {
    let (answer, took) = station.call("TransactionEvent", &tx_started(tx)).await;
    assert_eq!(answer[0], 4, "a CALLERROR during the fault: {answer}");
    assert_eq!(answer[2], "InternalError", "{answer}");
    println!("{tx}: InternalError after {took:?}");
    fault_ends.await;
    assert_eq!(db.rows("transactions", tx).await, 0, "nothing half-written");
    assert_eq!(
        db.rows("transaction_events", tx).await,
        0,
        "nothing half-written"
    );
    // The station sends the message again (it got an error): now it is stored, once.
    let (answer, _) = station.call("TransactionEvent", &tx_started(tx)).await;
    assert_eq!(answer[0], 3, "accepted once the database is back: {answer}");
    assert_eq!(db.rows("transactions", tx).await, 1);
    assert_eq!(db.rows("transaction_events", tx).await, 1);
}

/// SQLite: another process holds the database's write lock (`BEGIN EXCLUSIVE`) for longer
/// than the store timeout. The station's message gets InternalError in bounded time, nothing
/// of it is kept, and the CSMS recovers without a restart when the lock is released.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_locked_by_another_process_gives_a_timely_internal_error() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("csms.db");
    let db = format!("sqlite:{}", file.display());
    let csms = serve(&db, &["--store-timeout", "2"]);
    let mut st = RawStation::connect(&csms.ocpp, "LOCKED-1").await;
    let (boot, _) = st.call("BootNotification", BOOT_201).await;
    assert_eq!(boot[2]["status"], "Accepted", "{boot}");
    let (ok, _) = st.call("TransactionEvent", &tx_started("T-BEFORE")).await;
    assert_eq!(ok[0], 3, "{ok}");

    let reader = sqlx::SqlitePool::connect(&db).await.unwrap();
    let mut locker = sqlx::SqliteConnection::connect(&db).await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut locker)
        .await
        .unwrap();
    let release = async move {
        sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();
        locker.close().await.unwrap();
    };
    // Store timeout 2 s: the unit of work, then the best-effort log of the call and of the
    // error, each wait at most that long (a CSMS that hangs fails after 90 s).
    assert_fault_answered_then_recovered(&mut st, "T-LOCKED", &reader, release).await;
    let m = metrics(&csms.api).await;
    assert!(
        metric(
            &m,
            "csms_call_errors_total{direction=\"out\",code=\"InternalError\"}"
        ) >= 1.0,
        "the InternalError is counted"
    );
}

/// PostgreSQL: a table the message writes to is locked (`LOCK TABLE transactions IN ACCESS
/// EXCLUSIVE MODE`, held by a side connection) — the message gets InternalError within the
/// store timeout (`lock_timeout`) rather than hanging; then the database refuses every
/// connection and the CSMS's are terminated (`ALLOW_CONNECTIONS false`,
/// `pg_terminate_backend`) — InternalError again (the pool gives up after the store
/// timeout); each time nothing is half-written and the CSMS recovers without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_unavailable_gives_a_timely_internal_error_and_recovers() {
    let Some(admin_url) =
        postgres_url("postgres_unavailable_gives_a_timely_internal_error_and_recovers")
    else {
        return;
    };
    let pg = PgDatabase::create(&admin_url, "csms_fault_db").await;
    let csms = serve(&pg.url, &["--store-timeout", "2"]);
    let mut st = RawStation::connect(&csms.ocpp, "PG-FAULT-1").await;
    let (boot, _) = st.call("BootNotification", BOOT_201).await;
    assert_eq!(boot[2]["status"], "Accepted", "{boot}");
    let reader = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&pg.url)
        .await
        .unwrap();

    // 1. A lock held elsewhere.
    let mut locker = reader.begin().await.unwrap();
    sqlx::query("LOCK TABLE transactions IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *locker)
        .await
        .unwrap();
    let release = async move {
        locker.rollback().await.unwrap();
    };
    assert_fault_answered_then_recovered(&mut st, "T-PG-LOCK", &reader, release).await;

    // 2. The database refuses connections, and the CSMS's are cut.
    reader.close().await;
    sqlx::query(&format!(
        "ALTER DATABASE {} ALLOW_CONNECTIONS false",
        pg.name
    ))
    .execute(&pg.admin)
    .await
    .unwrap();
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&pg.name)
    .execute(&pg.admin)
    .await
    .unwrap();
    let admin = pg.admin.clone();
    let name = pg.name.clone();
    let back = async move {
        sqlx::query(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
            .execute(&admin)
            .await
            .unwrap();
    };
    let (answer, took) = st.call("TransactionEvent", &tx_started("T-PG-DOWN")).await;
    assert_eq!(answer[2], "InternalError", "{answer}");
    println!("T-PG-DOWN: InternalError after {took:?}");
    back.await;
    let reader = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&pg.url)
        .await
        .unwrap();
    assert_eq!(reader.rows("transactions", "T-PG-DOWN").await, 0);
    let (answer, _) = st.call("TransactionEvent", &tx_started("T-PG-DOWN")).await;
    assert_eq!(answer[0], 3, "accepted once the database is back: {answer}");
    assert_eq!(reader.rows("transactions", "T-PG-DOWN").await, 1);
    assert_eq!(reader.rows("transaction_events", "T-PG-DOWN").await, 1);
    // The API reads again too.
    let s = get(&format!("{}/api/stations/PG-FAULT-1", csms.api)).await;
    assert_eq!(s["connected"], true, "{s}");
    reader.close().await;
    drop(csms);
    pg.drop_it().await;
}
