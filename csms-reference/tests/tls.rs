//! Security profile 2 end to end: `csms serve` with TLS (a self-signed certificate made in the
//! test) and Basic auth; a station with the right password charges over `wss://`, a wrong
//! password, a missing one and plain `ws://` are refused, and the password is stored hashed.

use std::sync::Arc;
use std::time::Duration;

use csms_reference::config::{FileSettings, Settings, StationSettings};
use csms_reference::server::start;
use ocpp_core::transport::{Backoff, ClientTls, StationClient};
use ocpp_core::{BootState, MemoryQueue, StationConfig};
use ocpp_types::{DecodeOptions, Protocol};
use serde_json::Value;

mod common;

use common::loopback;
use common::station::NoCalls;

fn client(url: &str, id: &str, password: Option<&str>, tls: Option<ClientTls>) -> StationClient {
    type P = ocpp201::Ocpp201;
    let a = <P as Protocol>::action_from_name("BootNotification").unwrap();
    let boot = <P as Protocol>::decode_request(
        a,
        r#"{"chargingStation":{"model":"T","vendorName":"V"},"reason":"PowerUp"}"#,
        &DecodeOptions::STRICT,
    )
    .unwrap()
    .0;
    let mut backoff = Backoff::default();
    backoff.initial = Duration::from_millis(100);
    backoff.max = Duration::from_millis(200);
    let mut b = StationClient::builder(url, id)
        .version::<P, _>(
            Arc::new(NoCalls),
            StationConfig::new(boot),
            MemoryQueue::new(),
        )
        .backoff(backoff);
    if let Some(p) = password {
        b = b.security_profile(2).password(p);
    }
    if let Some(t) = tls {
        b = b.tls(t);
    }
    b.start().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_profile_2_over_tls_with_basic_auth() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert_pem, key_pem) = (cert.cert.pem(), cert.signing_key.serialize_pem());
    let cert_file = dir.path().join("cert.pem");
    let key_file = dir.path().join("key.pem");
    std::fs::write(&cert_file, &cert_pem).unwrap();
    std::fs::write(&key_file, &key_pem).unwrap();
    let settings = Settings::validate(FileSettings {
        tls_cert: Some(cert_file),
        tls_key: Some(key_file),
        security_profile: Some(2),
        station: vec![StationSettings {
            id: "TLS1".into(),
            security_profile: None,
            password: Some("tls-station-secret".into()),
            lenient: None,
        }],
        ..loopback(format!("sqlite:{}", dir.path().join("tls.db").display()))
    })
    .unwrap();
    let csms = start(settings).await.unwrap();
    assert!(csms.tls);
    assert!(csms.station_url().starts_with("wss://"));
    let port = csms.ocpp_addr.port();
    let wss = format!("wss://localhost:{port}/ocpp");
    let roots = ClientTls::from_pem(cert_pem.as_bytes(), None).unwrap();

    // The right password over TLS: accepted, and a session runs.
    let good = client(
        &wss,
        "TLS1",
        Some("tls-station-secret"),
        Some(roots.clone()),
    );
    let mut st = good.status();
    tokio::time::timeout(
        Duration::from_secs(10),
        st.wait_for(|s| s.boot == BootState::Accepted && s.connected.is_some()),
    )
    .await
    .expect("the profile-2 station boots")
    .unwrap();
    let peer = good.peer::<ocpp201::Ocpp201>().unwrap();
    peer.call(ocpp201::HeartbeatRequest::new()).await.unwrap();

    // A wrong password, no password, plain ws: refused before any OCPP session.
    let refused = |c: StationClient| async move {
        let mut st = c.status();
        tokio::time::timeout(
            Duration::from_secs(10),
            st.wait_for(|s| s.last_error.is_some()),
        )
        .await
        .expect("the attempt fails")
        .unwrap();
        let s = c.status().borrow().clone();
        assert_eq!(s.connections, 0, "{s:?}");
        c.shutdown().await;
        s.last_error.unwrap()
    };
    let e = refused(client(
        &wss,
        "TLS1",
        Some("not-the-password"),
        Some(roots.clone()),
    ))
    .await;
    assert!(e.contains("401"), "{e}");
    let e = refused(client(&wss, "TLS2", None, Some(roots.clone()))).await;
    assert!(
        e.contains("401"),
        "an unknown station needs profile 2 too: {e}"
    );
    let e = refused(client(
        &format!("ws://127.0.0.1:{port}/ocpp"),
        "TLS1",
        None,
        None,
    ))
    .await;
    assert!(!e.is_empty());

    // Through the API: profile 2 in use, the password stored only as an Argon2id hash.
    let api = format!("http://{}", csms.api_addr);
    let s: Value = reqwest::get(format!("{api}/api/stations/TLS1"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["securityProfileInUse"], 2, "{s}");
    assert_eq!(s["hasPassword"], true, "{s}");
    assert!(!s.to_string().contains("tls-station-secret"));
    let rec = csms.csms.store().station("TLS1").await.unwrap().unwrap();
    assert!(rec.password_hash.unwrap().starts_with("$argon2id$"));
    assert_eq!(csms.connections.len(), 1);
    good.shutdown().await;
    csms.shutdown().await;
}
