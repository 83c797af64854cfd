//! The load test CI can afford: `csms serve` in-process on a temporary SQLite database, loaded by
//! the simulator with 500 stations of the three versions (half 1.6, a quarter each 2.0.1 and
//! 2.1) for about 20 s of charging sessions, heartbeats and status reports. It asserts what must
//! hold at any speed: every station connected and stayed connected, no CALLERROR, no call went
//! unanswered, and every transaction a station started is in the database, ended. No timing
//! is asserted (the numbers are printed; `benches/README.md` has the measured runs).
//!
//! `OCPP_LOAD_STATIONS` changes the number of stations (default 500).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use csms_reference::config::{FileSettings, Settings};
use csms_reference::server::start;
use csms_reference::store::Page;
use examples::sim::{run, Scenario, SimConfig, Stats};
use ocpp_types::OcppVersion;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_mixed_stations_against_csms_serve_on_sqlite() {
    let stations: usize = std::env::var("OCPP_LOAD_STATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    // Two sockets per station in this process (client and server side).
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap();
    assert!(
        limit as usize > 2 * stations + 100,
        "open files limit {limit} too low for {stations} stations"
    );
    let dir = tempfile::tempdir().unwrap();
    let settings = FileSettings {
        ocpp_listen: Some("127.0.0.1:0".into()),
        api_listen: Some("127.0.0.1:0".into()),
        database_url: Some(format!("sqlite:{}", dir.path().join("csms.db").display())),
        ..Default::default()
    };
    let csms = start(Settings::validate(settings).unwrap()).await.unwrap();
    let cfg = SimConfig {
        url: format!("ws://{}/ocpp", csms.ocpp_addr),
        stations,
        versions: vec![OcppVersion::V16, OcppVersion::V201, OcppVersion::V21],
        weights: vec![2, 1, 1],
        heartbeat: Some(Duration::from_secs(5)),
        scenario: Scenario::Charging,
        ramp_up: 100.0,
        interval: Duration::from_secs(2),
        session: Duration::from_secs(6),
        pause: Duration::from_secs(3),
        duration: Duration::from_secs(20),
        boot_timeout: Duration::from_secs(60),
        // Generous: a slow debug build under load is not a lost message.
        call_timeout: Duration::from_secs(60),
        ..SimConfig::default()
    };
    let s = run(cfg.clone(), Arc::new(Stats::default())).await;
    println!("{stations} stations against csms serve (SQLite):\n{s}");

    assert_eq!((s.connected, s.failed), (stations as u64, 0), "{s}");
    assert_eq!(
        s.peak_online, stations as u64,
        "every station online at once: {s}"
    );
    assert_eq!(
        s.final_online, stations as u64,
        "still online at the end: {s}"
    );
    assert_eq!(s.reconnects, 0, "no connection dropped: {s}");
    assert_eq!(s.errors_total(), 0, "no CALLERROR: {s}");
    assert_eq!(s.lost(), 0, "no call unanswered: {s}");
    for action in ["StatusNotification", "Heartbeat", "Authorize"] {
        let n = s.sent.get(action).copied().unwrap_or(0);
        assert!(n >= stations as u64, "{action}: {s}");
    }
    assert!(s.tx_started >= stations as u64 / 2, "sessions ran: {s}");
    assert_eq!(s.tx_started, s.tx_ended, "{s}");

    // Every transaction the stations started is stored and ended, per version in the ratio.
    let txs = csms
        .csms
        .store()
        .transactions(
            None,
            Page {
                limit: 1_000_000,
                offset: 0,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        txs.len() as u64,
        s.tx_started,
        "every started transaction is stored"
    );
    let open: Vec<_> = txs.iter().filter(|t| t.status != "Ended").collect();
    assert!(open.is_empty(), "transactions not ended: {open:?}");
    let mut per_version: BTreeMap<&str, u64> = BTreeMap::new();
    for t in &txs {
        *per_version.entry(t.version.as_str()).or_default() += 1;
    }
    for v in ["1.6", "2.0.1", "2.1"] {
        assert!(
            per_version.get(v).copied().unwrap_or(0) > 0,
            "{per_version:?}"
        );
    }
    // The stations' versions as the CSMS recorded them follow the ratio 2:1:1.
    let stored = csms
        .csms
        .store()
        .stations(Page {
            limit: 1_000_000,
            offset: 0,
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), stations);
    let v16 = stored
        .iter()
        .filter(|st| st.version.as_deref() == Some("1.6"))
        .count();
    assert_eq!(
        v16,
        (0..stations)
            .filter(|n| cfg.version_of(*n) == OcppVersion::V16)
            .count()
    );
    assert_eq!(v16, stations / 2, "half the stations are 1.6");
    csms.shutdown().await;
}
