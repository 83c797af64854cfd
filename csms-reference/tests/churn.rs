//! Connection churn against `csms serve` (the real binary, as a child process): 1,000
//! connections of 1.6, 2.0.1 and 2.1 stations that connect and go away in every manner —
//! a TCP connect dropped before the upgrade, an upgrade dropped at once, a BootNotification
//! sent and the socket dropped before the answer (mid-boot), a full boot then a clean close,
//! a full boot then a dropped socket. Afterwards the server is up and serves a new station,
//! the connected-stations gauge is back to 0, every connection is counted as ended, and the
//! process holds no more file descriptors than before the churn (no leaked socket or task
//! holding one).

use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod common;

use common::process::{self, serve_command, Csms};
use common::raw::upgrade_tcp;
use common::{metrics, text_frame, wait_until};

/// How many connections the churn makes.
const CONNECTIONS: usize = 1000;
/// How many of them are open at the same time.
const CONCURRENCY: usize = 25;

fn serve(db: &str) -> Csms {
    let mut cmd = serve_command(db);
    cmd.env("CSMS_LOG", "error").stderr(Stdio::inherit());
    process::spawn(cmd)
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

fn threads(pid: u32) -> usize {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:")?.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The sum of every series of a metric family matching `prefix` (e.g. `name{`).
fn metric_sum(text: &str, prefix: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// A client close frame with code 1000.
const CLOSE_FRAME: [u8; 8] = [0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8];

async fn upgrade(addr: &str, station: &str, subprotocol: &str) -> TcpStream {
    let tcp = TcpStream::connect(addr).await.unwrap();
    upgrade_tcp(tcp, addr, station, subprotocol).await
}

fn boot_frame(version: &str) -> String {
    if version == "ocpp1.6" {
        r#"[2,"b1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]"#.into()
    } else {
        r#"[2,"b1","BootNotification",{"chargingStation":{"model":"M","vendorName":"V"},"reason":"PowerUp"}]"#.into()
    }
}

/// Reads until the answer to the boot (`[3,"b1",...]`) has come.
async fn read_boot_answer(tcp: &mut TcpStream) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let needle = br#"[3,"b1","#;
    tokio::time::timeout(Duration::from_secs(60), async {
        while !seen.windows(needle.len()).any(|w| w == needle) {
            let n = tcp.read(&mut buf).await.unwrap();
            assert!(
                n > 0,
                "the connection stays open until the boot is answered"
            );
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("the boot is answered");
}

/// One connection of the churn, in the manner `i` picks; returns whether it got a WebSocket.
async fn one(addr: String, i: usize) -> bool {
    let version = ["ocpp1.6", "ocpp2.0.1", "ocpp2.1"][i % 3];
    let station = format!("CHURN-{i}");
    match (i / 3) % 5 {
        // A TCP connection dropped before any HTTP.
        0 => {
            drop(TcpStream::connect(&addr).await.unwrap());
            false
        }
        // An upgrade, then the socket dropped without a close frame.
        1 => {
            drop(upgrade(&addr, &station, version).await);
            true
        }
        // Mid-boot: the BootNotification sent, the socket dropped before its answer.
        2 => {
            let mut tcp = upgrade(&addr, &station, version).await;
            tcp.write_all(&text_frame(&boot_frame(version)))
                .await
                .unwrap();
            drop(tcp);
            true
        }
        // A full boot, then a clean close.
        3 => {
            let mut tcp = upgrade(&addr, &station, version).await;
            tcp.write_all(&text_frame(&boot_frame(version)))
                .await
                .unwrap();
            read_boot_answer(&mut tcp).await;
            tcp.write_all(&CLOSE_FRAME).await.unwrap();
            // The server answers the close and ends the TCP connection.
            let mut buf = [0u8; 1024];
            let _ = tokio::time::timeout(Duration::from_secs(10), async {
                while tcp.read(&mut buf).await.is_ok_and(|n| n > 0) {}
            })
            .await;
            true
        }
        // A full boot, then the socket dropped.
        _ => {
            let mut tcp = upgrade(&addr, &station, version).await;
            tcp.write_all(&text_frame(&boot_frame(version)))
                .await
                .unwrap();
            read_boot_answer(&mut tcp).await;
            true
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_connects_and_disconnects_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("csms.db").display());
    let csms = serve(&db);
    let pid = csms.child.id();

    // Warm up (the database connection, the runtime's worker threads, the API's listener),
    // then count the process's file descriptors.
    let mut warm = upgrade(&csms.ocpp, "WARM", "ocpp2.0.1").await;
    warm.write_all(&text_frame(&boot_frame("ocpp2.0.1")))
        .await
        .unwrap();
    read_boot_answer(&mut warm).await;
    drop(warm);
    wait_until(Duration::from_secs(30), "WARM disconnected", || async {
        metric_sum(&metrics(&csms.api).await, "csms_connected_stations{") == 0.0
    })
    .await;
    let fds_before = open_fds(pid);
    let threads_before = threads(pid);
    assert!(fds_before > 0, "/proc/{pid}/fd is readable");

    let started = Instant::now();
    let mut upgraded = 0;
    let mut next = 0;
    let mut running = tokio::task::JoinSet::new();
    while next < CONNECTIONS || !running.is_empty() {
        while next < CONNECTIONS && running.len() < CONCURRENCY {
            running.spawn(one(csms.ocpp.clone(), next));
            next += 1;
        }
        if let Some(r) = running.join_next().await {
            upgraded += usize::from(r.expect("a churn connection panicked"));
        }
    }
    let churn_time = started.elapsed();

    // Every WebSocket ends (the server notices each dropped socket), the gauge is back to 0.
    wait_until(
        Duration::from_secs(120),
        "every churn connection counted as ended and none connected",
        || async {
            let m = metrics(&csms.api).await;
            metric_sum(&m, "csms_connected_stations{") == 0.0
                && metric_sum(&m, "csms_disconnects_total{") == (upgraded + 1) as f64
        },
    )
    .await;
    // Sockets of ended connections are closed: the count returns to where it was (the
    // last closes may still be in progress right after the gauge drops).
    wait_until(
        Duration::from_secs(30),
        "the file descriptors return to the count before the churn",
        || async { open_fds(pid) <= fds_before },
    )
    .await;
    let fds_after = open_fds(pid);
    let threads_after = threads(pid);

    // The server is up: a new station boots, and the API answers.
    let mut last = upgrade(&csms.ocpp, "AFTER", "ocpp2.1").await;
    last.write_all(&text_frame(&boot_frame("ocpp2.1")))
        .await
        .unwrap();
    read_boot_answer(&mut last).await;
    let st: serde_json::Value = reqwest::get(format!("{}/api/stations/AFTER", csms.api))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(st["connected"], true, "{st}");
    assert!(
        csms.child.id() == pid && std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "the same server process"
    );
    println!(
        "churn: {CONNECTIONS} connections ({upgraded} upgraded) in {:.1} s; fds {fds_before} -> {fds_after}; threads {threads_before} -> {threads_after}",
        churn_time.as_secs_f64()
    );
}
