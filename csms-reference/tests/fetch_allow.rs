//! URLs the CSMS may fetch, against `csms serve` (the real binary): station-supplied URLs
//! (OCSP responder, firmware locations, ...) are never fetched, and an OCPI partner's URLs
//! are fetched only when `[security] fetch_allow` allows their host
//! (`csms_reference::fetch_allow`). A local listener stands for the target: the test checks
//! that nothing connected to it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ocpi::client::Client;
use ocpi::v221::{Credentials, CredentialsRole, VersionNumber};
use serde_json::{json, Value};

mod common;

use common::raw::{ws, ws_call as call};

struct Csms {
    child: Child,
    ocpp: String,
    api: String,
    ocpi_versions: Option<String>,
}

impl Drop for Csms {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &tempfile::TempDir, config: &str) -> Csms {
    let db = format!("sqlite:{}", dir.path().join("fetch.db").display());
    let path = dir.path().join("csms.toml");
    std::fs::write(&path, config).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_csms"))
        .arg("serve")
        .args([
            "--ocpp-listen",
            "127.0.0.1:0",
            "--api-listen",
            "127.0.0.1:0",
        ])
        .args(["--database-url", &db])
        .arg("--config")
        .arg(&path)
        .env("CSMS_LOG", "warn")
        .env_remove("CSMS_API_TOKEN")
        .env_remove("CSMS_DATA_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut ocpp, mut api, mut ocpi_versions) = (None, None, None);
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(r) = line.strip_prefix("csms: stations connect to ws://") {
            ocpp = r.split('/').next().map(str::to_owned);
        }
        if let Some(r) = line.strip_prefix("csms: operator API at http://") {
            api = r.split('/').next().map(str::to_owned);
        }
        if let Some(r) = line.strip_prefix("csms: OCPI CPO at ") {
            ocpi_versions = r.split(' ').next().map(str::to_owned);
        }
        if line.starts_with("csms: database") {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    Csms {
        child,
        ocpp: ocpp.expect("station URL printed"),
        api: format!("http://{}", api.expect("API address printed")),
        ocpi_versions,
    }
}

/// A listener that counts the connections made to it; its base URL.
async fn target() -> (String, Arc<AtomicUsize>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let n = Arc::new(AtomicUsize::new(0));
    let counted = n.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(s);
        }
    });
    (url, n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_a_station_supplies_are_never_fetched() {
    let dir = tempfile::tempdir().unwrap();
    let csms = serve(&dir, "");
    let (url, connections) = target().await;
    let mut w = ws(&csms.ocpp, "CS-URLS", "ocpp2.0.1").await;
    let boot = call(
        &mut w,
        "b",
        "BootNotification",
        json!({"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"}),
    )
    .await;
    assert_eq!(boot[2]["status"], "Accepted", "{boot}");
    // OCSP: a CSMS is expected to query the responder for the station; this one does not.
    let ocsp = call(
        &mut w,
        "o",
        "GetCertificateStatus",
        json!({"ocspRequestData": {"hashAlgorithm": "SHA256", "issuerNameHash": "aa",
            "issuerKeyHash": "bb", "serialNumber": "01", "responderURL": format!("{url}/ocsp")}}),
    )
    .await;
    let firmware = call(
        &mut w,
        "p",
        "PublishFirmwareStatusNotification",
        json!({"status": "Published", "location": [format!("{url}/firmware.bin")], "requestId": 1}),
    )
    .await;
    let event = call(
        &mut w,
        "s",
        "SecurityEventNotification",
        json!({"type": "FirmwareUpdated", "timestamp": "2026-01-01T00:00:00Z",
            "techInfo": format!("{url}/log")}),
    )
    .await;
    let data = call(
        &mut w,
        "d",
        "DataTransfer",
        json!({"vendorId": "x", "data": {"url": format!("{url}/data")}}),
    )
    .await;
    for v in [&ocsp, &firmware, &event, &data] {
        assert!(v[0] == 3 || v[0] == 4, "answered: {v}");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(connections.load(Ordering::SeqCst), 0, "nothing fetched");
}

fn credentials(versions_url: String) -> Credentials {
    let role: CredentialsRole = serde_json::from_value(json!({"role": "EMSP", "party_id": "MSP",
        "country_code": "NL", "business_details": {"name": "MSP"}}))
    .unwrap();
    Credentials {
        token: ocpi::credentials::generate_token().into(),
        url: versions_url.into(),
        roles: vec![role],
        extra: Default::default(),
    }
}

async fn token_a(csms: &Csms) -> String {
    let r: Value = reqwest::Client::new()
        .post(format!("{}/api/ocpi/partners", csms.api))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["token_a"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_url_outside_fetch_allow_is_not_fetched() {
    let dir = tempfile::tempdir().unwrap();
    let csms = serve(
        &dir,
        "[ocpi]\nlisten = \"127.0.0.1:0\"\n[security]\nfetch_allow = [\"emsp.example.com\"]\n",
    );
    let cpo = csms.ocpi_versions.clone().expect("OCPI address printed");
    let (url, connections) = target().await;
    // The partner registers and gives a versions URL on a host not in the list: the CPO
    // refuses to call it, and the handshake fails.
    let err = Client::register(
        &token_a(&csms).await,
        &cpo,
        &[VersionNumber::V2_2_1],
        &credentials(format!("{url}/versions")),
    )
    .await
    .expect_err("the handshake cannot complete");
    assert!(err.to_string().contains("not allowed"), "{err}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(connections.load(Ordering::SeqCst), 0, "nothing fetched");
    let partners: Value = reqwest::get(format!("{}/api/ocpi/partners", csms.api))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(partners[0]["state"], "registered", "{partners}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_url_inside_fetch_allow_is_fetched() {
    let dir = tempfile::tempdir().unwrap();
    let csms = serve(
        &dir,
        "[ocpi]\nlisten = \"127.0.0.1:0\"\n[security]\nfetch_allow = [\"127.0.0.0/8\"]\n",
    );
    let cpo = csms.ocpi_versions.clone().expect("OCPI address printed");
    let (url, connections) = target().await;
    // Allowed: the CPO calls the partner (whose listener is no OCPI server, so the handshake
    // still fails, after the connection).
    let err = Client::register(
        &token_a(&csms).await,
        &cpo,
        &[VersionNumber::V2_2_1],
        &credentials(format!("{url}/versions")),
    )
    .await
    .expect_err("the listener is no OCPI server");
    assert!(!err.to_string().contains("not allowed"), "{err}");
    assert!(
        connections.load(Ordering::SeqCst) >= 1,
        "the URL was fetched"
    );
}
