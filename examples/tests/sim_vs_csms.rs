//! The simulator against the reference CSMS (`csms serve`, started in-process on loopback with a
//! temporary SQLite database): a short charging scenario per version with no CALLERROR, and
//! every transaction the simulated stations started is in the CSMS's database, ended.

use std::sync::Arc;
use std::time::Duration;

use csms_reference::config::{FileSettings, Settings};
use csms_reference::server::start;
use csms_reference::store::Page;
use examples::sim::{run, Scenario, SimConfig, Stats};
use ocpp_types::OcppVersion;

async fn charging_against_csms_serve(version: OcppVersion) {
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
        stations: 3,
        versions: vec![version],
        scenario: Scenario::Charging,
        ramp_up: 200.0,
        interval: Duration::from_millis(150),
        session: Duration::from_millis(700),
        pause: Duration::from_millis(100),
        duration: Duration::from_secs(2),
        boot_timeout: Duration::from_secs(10),
        reconnect: Duration::from_millis(100),
        ..SimConfig::default()
    };
    let s = run(cfg, Arc::new(Stats::default())).await;
    println!("{version} against csms serve:\n{s}");
    assert_eq!((s.connected, s.failed), (3, 0), "{s}");
    assert_eq!(s.errors_total(), 0, "no CALLERROR: {s}");
    assert_eq!(s.timeouts, 0, "{s}");
    assert!(s.tx_started >= 3, "{s}");
    assert_eq!(s.tx_started, s.tx_ended, "{s}");
    let page = Page {
        limit: 1000,
        offset: 0,
    };
    let txs = csms.csms.store().transactions(None, page).await.unwrap();
    assert_eq!(
        txs.len() as u64,
        s.tx_started,
        "every started transaction is stored"
    );
    assert!(
        txs.iter()
            .all(|t| t.status == "Ended" && t.version == version.as_str()),
        "{txs:?}"
    );
    csms.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_16_against_csms_serve() {
    charging_against_csms_serve(OcppVersion::V16).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_201_against_csms_serve() {
    charging_against_csms_serve(OcppVersion::V201).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_21_against_csms_serve() {
    charging_against_csms_serve(OcppVersion::V21).await;
}
