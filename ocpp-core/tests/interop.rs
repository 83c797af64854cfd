//! Interop against an implementation nobody here wrote: the Python `ocpp` package (PyPI),
//! as a charging station against our server and as a CSMS against our client, for OCPP 1.6
//! and 2.0.1.
//!
//! The interpreter is `$OCPP_INTEROP_PYTHON` (a venv made by `tests/interop/setup.sh`). When it
//! is unset or cannot import `ocpp`, every test prints a SKIPPED line and passes, except under
//! `CI=true`, where it fails.

#![cfg(all(feature = "server", feature = "client"))]

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ocpp_core::transport::{AllowAll, Server, StationClient};
use ocpp_core::types::{decode_payload, DateTime, Decode, DecodeOptions};
use ocpp_core::{async_trait, BootState, CallContext, CallError, MemoryQueue, StationConfig};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

type Log = Arc<Mutex<Vec<String>>>;

fn msg<T: Decode>(json: &str) -> T {
    decode_payload(json, &DecodeOptions::STRICT).unwrap()
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(name)
}

/// The venv python, or `None` (after printing why) when the test is to be skipped.
fn python(test: &str) -> Option<String> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let why = match std::env::var("OCPP_INTEROP_PYTHON") {
        Err(_) => "OCPP_INTEROP_PYTHON is not set".to_owned(),
        Ok(p) => {
            let ok = std::process::Command::new(&p)
                .args(["-c", "import ocpp.v16, ocpp.v201, websockets"])
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                return Some(p);
            }
            format!("{p} cannot import the `ocpp` package")
        }
    };
    assert!(
        !ci,
        "{test}: {why}; run ocpp-core/tests/interop/setup.sh and export OCPP_INTEROP_PYTHON"
    );
    println!("SKIPPED {test}: {why} (run ocpp-core/tests/interop/setup.sh)");
    None
}

// ------------------------------------------------------------------------------------------
// Python station -> our server

struct Core16(Log);
#[async_trait]
impl ocpp16::csms::CoreHandler for Core16 {
    async fn boot_notification(
        &self,
        ctx: &CallContext<ocpp16::Ocpp16>,
        r: ocpp16::BootNotificationRequest,
    ) -> Result<ocpp16::BootNotificationResponse, CallError> {
        self.0.lock().unwrap().push(format!(
            "boot {} {} {}",
            ctx.station_id, r.charge_point_vendor, r.charge_point_model
        ));
        Ok(ocpp16::BootNotificationResponse::new(
            ocpp16::RegistrationStatus::Accepted,
            DateTime::now(),
            123,
        ))
    }
    async fn heartbeat(
        &self,
        _: &CallContext<ocpp16::Ocpp16>,
        _: ocpp16::HeartbeatRequest,
    ) -> Result<ocpp16::HeartbeatResponse, CallError> {
        self.0.lock().unwrap().push("heartbeat".into());
        Ok(msg(r#"{"currentTime":"2030-01-02T03:04:05Z"}"#))
    }
    async fn status_notification(
        &self,
        _: &CallContext<ocpp16::Ocpp16>,
        r: ocpp16::StatusNotificationRequest,
    ) -> Result<ocpp16::StatusNotificationResponse, CallError> {
        self.0.lock().unwrap().push(format!(
            "status {} {:?} {:?}",
            r.connector_id, r.status, r.error_code
        ));
        Ok(ocpp16::StatusNotificationResponse::new())
    }
}

struct Csms201(Log);
#[async_trait]
impl ocpp201::csms::ProvisioningHandler for Csms201 {
    async fn boot_notification(
        &self,
        ctx: &CallContext<ocpp201::Ocpp201>,
        r: ocpp201::BootNotificationRequest,
    ) -> Result<ocpp201::BootNotificationResponse, CallError> {
        self.0.lock().unwrap().push(format!(
            "boot {} {} {} {:?}",
            ctx.station_id, r.charging_station.vendor_name, r.charging_station.model, r.reason
        ));
        Ok(ocpp201::BootNotificationResponse::new(
            DateTime::now(),
            123,
            ocpp201::RegistrationStatusEnumType::Accepted,
        ))
    }
}
#[async_trait]
impl ocpp201::csms::AvailabilityHandler for Csms201 {
    async fn heartbeat(
        &self,
        _: &CallContext<ocpp201::Ocpp201>,
        _: ocpp201::HeartbeatRequest,
    ) -> Result<ocpp201::HeartbeatResponse, CallError> {
        self.0.lock().unwrap().push("heartbeat".into());
        Ok(msg(r#"{"currentTime":"2030-01-02T03:04:05Z"}"#))
    }
    async fn status_notification(
        &self,
        _: &CallContext<ocpp201::Ocpp201>,
        r: ocpp201::StatusNotificationRequest,
    ) -> Result<ocpp201::StatusNotificationResponse, CallError> {
        self.0.lock().unwrap().push(format!(
            "status {} {} {:?}",
            r.evse_id, r.connector_id, r.connector_status
        ));
        Ok(ocpp201::StatusNotificationResponse::new())
    }
}

async fn python_station(version: &str, want: &[&str]) {
    let Some(py) = python(&format!("python_station_{version}")) else {
        return;
    };
    let log = Log::default();
    let server = Server::builder()
        .path("/ocpp")
        .protocol::<ocpp16::Ocpp16>(Arc::new(
            ocpp16::csms::Router::new().core(Core16(log.clone())),
        ))
        .protocol::<ocpp201::Ocpp201>(Arc::new(
            ocpp201::csms::Router::new()
                .provisioning(Csms201(log.clone()))
                .availability(Csms201(log.clone())),
        ))
        .authenticator(AllowAll)
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let url = format!(
        "ws://{}/ocpp/PY-{}",
        server.local_addr(),
        version.replace('.', "")
    );
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        Command::new(&py)
            .arg(script("station.py"))
            .args([version, &url])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("python station finished in time")
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "station.py failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("python station {version} received: {stdout}");
    // What the Python station received from us.
    for needle in [
        r#""boot_status": "Accepted""#,
        r#""boot_interval": 123"#,
        r#""heartbeat_time": "2030-01-02T03:04:05Z""#,
        r#""status_answered": true"#,
    ] {
        assert!(stdout.contains(needle), "{needle} not in {stdout}");
    }
    let sub = format!(r#""subprotocol": "ocpp{version}""#);
    assert!(stdout.contains(&sub), "{stdout}");
    // What our handlers received, typed.
    let got = log.lock().unwrap().clone();
    assert_eq!(got, want, "handlers received {got:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn python_station_1_6() {
    python_station(
        "1.6",
        &[
            "boot PY-16 PyVendor PyModel",
            "heartbeat",
            "status 1 Preparing NoError",
        ],
    )
    .await;
}

#[tokio::test]
async fn python_station_2_0_1() {
    python_station(
        "2.0.1",
        &[
            "boot PY-201 PyVendor PyModel PowerUp",
            "heartbeat",
            "status 1 2 Occupied",
        ],
    )
    .await;
}

// ------------------------------------------------------------------------------------------
// Our station client -> Python CSMS

struct Station16(Log);
#[async_trait]
impl ocpp16::station::CoreHandler for Station16 {
    async fn get_configuration(
        &self,
        _: &CallContext<ocpp16::Ocpp16>,
        r: ocpp16::GetConfigurationRequest,
    ) -> Result<ocpp16::GetConfigurationResponse, CallError> {
        self.0
            .lock()
            .unwrap()
            .push(format!("GetConfiguration {:?}", r.key.unwrap_or_default()));
        Ok(msg(
            r#"{"configurationKey":[{"key":"HeartbeatInterval","readonly":false,"value":"123"}]}"#,
        ))
    }
}

struct Station201(Log);
#[async_trait]
impl ocpp201::station::ProvisioningHandler for Station201 {
    async fn reset(
        &self,
        _: &CallContext<ocpp201::Ocpp201>,
        r: ocpp201::ResetRequest,
    ) -> Result<ocpp201::ResetResponse, CallError> {
        self.0.lock().unwrap().push(format!("Reset {:?}", r.type_));
        Ok(ocpp201::ResetResponse::new(
            ocpp201::ResetStatusEnumType::Scheduled,
        ))
    }
}

async fn python_csms(version: &str) {
    let Some(py) = python(&format!("python_csms_{version}")) else {
        return;
    };
    let mut child = Command::new(&py)
        .arg(script("csms.py"))
        .arg(version)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("csms.py listening in time")
        .unwrap()
        .unwrap_or_default();
    let port: u16 = first
        .strip_prefix("PORT ")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
    let url = format!("ws://127.0.0.1:{port}/ocpp");
    let log = Log::default();
    let id = format!("RS-{}", version.replace('.', ""));
    let builder = StationClient::builder(url, &id);
    let client = match version {
        "1.6" => builder.version::<ocpp16::Ocpp16, _>(
            Arc::new(ocpp16::station::Router::new().core(Station16(log.clone()))),
            StationConfig::new(
                msg::<ocpp16::BootNotificationRequest>(
                    r#"{"chargePointVendor":"RustVendor","chargePointModel":"RustModel"}"#,
                )
                .into(),
            ),
            MemoryQueue::new(),
        ),
        _ => builder.version::<ocpp201::Ocpp201, _>(
            Arc::new(ocpp201::station::Router::new().provisioning(Station201(log.clone()))),
            StationConfig::new(
                msg::<ocpp201::BootNotificationRequest>(
                    r#"{"chargingStation":{"model":"RustModel","vendorName":"RustVendor"},"reason":"PowerUp"}"#,
                )
                .into(),
            ),
            MemoryQueue::new(),
        ),
    }
    .start()
    .unwrap();
    let mut status = client.status();
    tokio::time::timeout(
        Duration::from_secs(30),
        status.wait_for(|s| s.boot == BootState::Accepted),
    )
    .await
    .expect("boot accepted by the Python CSMS")
    .unwrap();
    // Station-initiated messages, typed.
    if version == "1.6" {
        let peer = client.peer::<ocpp16::Ocpp16>().unwrap();
        peer.call(ocpp16::HeartbeatRequest::new()).await.unwrap();
        peer.call(msg::<ocpp16::StatusNotificationRequest>(
            r#"{"connectorId":2,"errorCode":"NoError","status":"Charging"}"#,
        ))
        .await
        .unwrap();
    } else {
        let peer = client.peer::<ocpp201::Ocpp201>().unwrap();
        peer.call(ocpp201::HeartbeatRequest::new()).await.unwrap();
        peer.call(msg::<ocpp201::StatusNotificationRequest>(
            r#"{"timestamp":"2025-01-01T00:00:00Z","connectorStatus":"Reserved","evseId":3,"connectorId":1}"#,
        ))
        .await
        .unwrap();
    }
    let summary = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("csms.py summary in time")
        .unwrap()
        .unwrap_or_default();
    println!("python CSMS {version} received: {summary}");
    let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
    let expected: &[&str] = if version == "1.6" {
        &[
            r#""station_id": "RS-16""#,
            r#""subprotocol": "ocpp1.6""#,
            r#""boot": {"vendor": "RustVendor", "model": "RustModel"}"#,
            r#""heartbeat": true"#,
            r#""status": {"connector_id": 2, "status": "Charging", "error_code": "NoError"}"#,
            r#""key": "HeartbeatInterval""#,
            r#""value": "123""#,
        ]
    } else {
        &[
            r#""station_id": "RS-201""#,
            r#""subprotocol": "ocpp2.0.1""#,
            r#""boot": {"vendor": "RustVendor", "model": "RustModel", "reason": "PowerUp"}"#,
            r#""heartbeat": true"#,
            r#""status": {"connector_status": "Reserved", "evse_id": 3, "connector_id": 1}"#,
            r#""reset_status": "Scheduled""#,
        ]
    };
    for needle in expected {
        assert!(summary.contains(needle), "{needle} not in {summary}");
    }
    let want = if version == "1.6" {
        r#"GetConfiguration ["HeartbeatInterval"]"#
    } else {
        "Reset Immediate"
    };
    assert_eq!(log.lock().unwrap().clone(), [want.to_owned()]);
    client.shutdown().await;
}

#[tokio::test]
async fn python_csms_1_6() {
    python_csms("1.6").await;
}

#[tokio::test]
async fn python_csms_2_0_1() {
    python_csms("2.0.1").await;
}
