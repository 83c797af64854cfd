//! The simulator against an in-process CSMS (`ocpp_core::transport::Server` with the recording
//! CSMS of `examples::csms`): a short charging scenario per version, CSMS-initiated calls
//! answered from the simulated hardware and the configuration stores, and a CSMS restart under
//! load that loses no transaction message.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use examples::csms::{server, Received};
use examples::sim::{run, Scenario, SimConfig, Stats, Summary};
use ocpp_core::transport::{AllowAll, Server};
use ocpp_types::{decode_payload, Decode, DecodeOptions, OcppVersion};

fn msg<T: Decode>(json: &str) -> T {
    decode_payload(json, &DecodeOptions::STRICT).unwrap()
}

async fn csms(rx: &Arc<Received>, addr: &str) -> Server {
    server(rx.clone())
        .authenticator(AllowAll)
        .bind(addr)
        .await
        .unwrap()
}

fn config(url: String, versions: Vec<OcppVersion>, stations: usize) -> SimConfig {
    SimConfig {
        url,
        stations,
        versions,
        scenario: Scenario::Charging,
        ramp_up: 200.0,
        interval: Duration::from_millis(150),
        session: Duration::from_millis(700),
        pause: Duration::from_millis(100),
        duration: Duration::from_secs(2),
        boot_timeout: Duration::from_secs(10),
        reconnect: Duration::from_millis(100),
        ..SimConfig::default()
    }
}

fn assert_clean(s: &Summary, rx: &Received, stations: u64) {
    assert_eq!((s.connected, s.failed), (stations, 0), "{s}");
    assert_eq!(s.errors_total(), 0, "{s}");
    assert_eq!(s.timeouts, 0, "{s}");
    assert!(s.tx_started >= stations, "{s}");
    assert_eq!(s.tx_started, s.tx_ended, "{s}");
    let (started, ended) = (rx.started.lock().unwrap(), rx.ended.lock().unwrap());
    assert_eq!(
        *started, *ended,
        "every transaction the CSMS saw start, it saw end"
    );
    assert_eq!(started.len() as u64, s.tx_started, "{s}");
    assert!(s.calls > 0 && s.p50_ms <= s.p90_ms && s.p90_ms <= s.p99_ms && s.p99_ms <= s.max_ms);
    // Every measured call is in exactly one phase (connect ramp, steady window, teardown)
    // and in one 10 s slice of the timeline.
    let phases = [&s.ramp_latency, &s.steady_latency, &s.teardown_latency];
    assert_eq!(phases.iter().map(|l| l.calls).sum::<u64>(), s.calls, "{s}");
    assert_eq!(
        s.timeline.iter().map(|(_, l)| l.calls).sum::<u64>(),
        s.calls,
        "{s}"
    );
    for l in phases.into_iter().filter(|l| l.calls > 0) {
        assert!(
            l.p50_ms <= l.p99_ms && l.p99_ms <= l.max_ms && l.max_ms <= s.max_ms,
            "{l:?}"
        );
    }
}

async fn charging(version: OcppVersion) {
    let rx = Arc::new(Received::default());
    rx.set_profile_on_start.store(true, Ordering::Relaxed);
    let srv = csms(&rx, "127.0.0.1:0").await;
    let url = format!("ws://{}/ocpp", srv.local_addr());
    let s = run(config(url, vec![version], 3), Arc::new(Stats::default())).await;
    println!("{version}:\n{s}");
    assert_clean(&s, &rx, 3);
    // What the stations sent is what the CSMS received.
    for action in [
        "StatusNotification",
        "Authorize",
        "StartTransaction",
        "MeterValues",
        "StopTransaction",
        "TransactionEvent",
    ] {
        assert_eq!(
            s.sent.get(action).copied().unwrap_or(0),
            rx.of(action),
            "{action}"
        );
    }
    let meter = if version == OcppVersion::V16 {
        "MeterValues"
    } else {
        "TransactionEvent"
    };
    assert!(rx.of(meter) > s.tx_started, "meter values were sent: {s}");
    // The CSMS set a profile at every start; the simulated hardware applied it.
    assert_eq!(
        s.received.get("SetChargingProfile").copied(),
        Some(s.tx_started),
        "{s}"
    );
    assert_eq!(
        rx.profiles_accepted.load(Ordering::Relaxed) as u64,
        s.tx_started
    );
    assert_eq!(s.to_json()["callErrorsTotal"], 0);
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn charging_16() {
    charging(OcppVersion::V16).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn charging_201() {
    charging(OcppVersion::V201).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn charging_21() {
    charging(OcppVersion::V21).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csms_restart_under_load_loses_no_transaction_message() {
    let rx = Arc::new(Received::default());
    let srv = csms(&rx, "127.0.0.1:0").await;
    let addr = srv.local_addr();
    let url = format!("ws://{addr}/ocpp");
    let mut cfg = config(
        url,
        vec![OcppVersion::V16, OcppVersion::V201, OcppVersion::V21],
        6,
    );
    cfg.duration = Duration::from_secs(4);
    cfg.session = Duration::from_millis(1200);
    let stats = Arc::new(Stats::default());
    let sim = tokio::spawn(run(cfg, stats.clone()));
    tokio::time::sleep(Duration::from_millis(1000)).await;
    srv.shutdown().await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let srv = csms(&rx, &addr.to_string()).await;
    let s = sim.await.unwrap();
    println!("{s}");
    assert!(s.reconnects >= 6, "every station reconnected: {s}");
    assert_clean(&s, &rx, 6);
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csms_initiated_calls_are_answered_from_the_simulated_hardware() {
    let rx = Arc::new(Received::default());
    let srv = csms(&rx, "127.0.0.1:0").await;
    let url = format!("ws://{}/ocpp", srv.local_addr());
    let mut cfg = config(url, vec![OcppVersion::V16, OcppVersion::V201], 2);
    // Long pauses: the stations idle until the CSMS starts a session remotely.
    cfg.pause = Duration::from_secs(60);
    cfg.session = Duration::from_secs(60);
    cfg.duration = Duration::from_secs(6);
    cfg.id_prefix = "R".into();
    let stats = Arc::new(Stats::default());
    let sim = tokio::spawn(run(cfg, stats.clone()));
    let conns = srv.connections();
    let wait = |what: &'static str, f: Box<dyn Fn() -> bool + Send>| async move {
        for _ in 0..500 {
            if f() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{what}");
    };
    let c2 = conns.clone();
    wait("both connected", Box::new(move || c2.len() == 2)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    // 1.6: configuration keys, remote start and stop, trigger.
    let p16 = conns
        .get("R-0001")
        .unwrap()
        .peer::<ocpp16::Ocpp16>()
        .unwrap();
    let r = p16
        .call(msg::<ocpp16::GetConfigurationRequest>(
            r#"{"key":["HeartbeatInterval","Nope"]}"#,
        ))
        .await
        .unwrap();
    assert_eq!(
        r.configuration_key.unwrap()[0].value.as_deref(),
        Some("300")
    );
    assert_eq!(r.unknown_key.unwrap(), ["Nope"]);
    let r = p16
        .call(msg::<ocpp16::ChangeConfigurationRequest>(
            r#"{"key":"NumberOfConnectors","value":"2"}"#,
        ))
        .await
        .unwrap();
    assert_eq!(r.status, ocpp16::ConfigurationStatus::Rejected);
    let r = p16
        .call(msg::<ocpp16::TriggerMessageRequest>(
            r#"{"requestedMessage":"Heartbeat"}"#,
        ))
        .await
        .unwrap();
    assert_eq!(r.status, ocpp16::TriggerMessageStatus::Accepted);
    let r = p16
        .call(msg::<ocpp16::RemoteStartTransactionRequest>(
            r#"{"connectorId":1,"idTag":"REMOTE1"}"#,
        ))
        .await
        .unwrap();
    assert_eq!(r.status, ocpp16::RemoteStartStopStatus::Accepted);
    let rx2 = rx.clone();
    wait(
        "1.6 remote start",
        Box::new(move || rx2.of("StartTransaction") == 1),
    )
    .await;
    let id = rx
        .started
        .lock()
        .unwrap()
        .iter()
        .next()
        .unwrap()
        .split('/')
        .nth(1)
        .unwrap()
        .to_owned();
    let r = p16
        .call(msg::<ocpp16::RemoteStopTransactionRequest>(&format!(
            r#"{{"transactionId":{id}}}"#
        )))
        .await
        .unwrap();
    assert_eq!(r.status, ocpp16::RemoteStartStopStatus::Accepted);
    let rx2 = rx.clone();
    wait(
        "1.6 remote stop",
        Box::new(move || rx2.of("StopTransaction") == 1),
    )
    .await;

    // 2.0.1: device model, base report with pages, remote start and stop, availability.
    let p201 = conns
        .get("R-0002")
        .unwrap()
        .peer::<ocpp201::Ocpp201>()
        .unwrap();
    let r = p201.call(msg::<ocpp201::SetVariablesRequest>(r#"{"setVariableData":[{"component":{"name":"SampledDataCtrlr"},"variable":{"name":"TxUpdatedInterval"},"attributeValue":"1"},{"component":{"name":"SecurityCtrlr"},"variable":{"name":"SecurityProfile"},"attributeValue":"2"}]}"#)).await.unwrap();
    let statuses: Vec<_> = r
        .set_variable_result
        .iter()
        .map(|r| r.attribute_status.as_str().to_owned())
        .collect();
    assert_eq!(statuses, ["Accepted", "Rejected"]);
    let r = p201.call(msg::<ocpp201::GetVariablesRequest>(r#"{"getVariableData":[{"component":{"name":"SampledDataCtrlr"},"variable":{"name":"TxUpdatedInterval"}}]}"#)).await.unwrap();
    assert_eq!(
        r.get_variable_result[0].attribute_value.as_deref(),
        Some("1")
    );
    let r = p201
        .call(msg::<ocpp201::GetBaseReportRequest>(
            r#"{"requestId":5,"reportBase":"FullInventory"}"#,
        ))
        .await
        .unwrap();
    assert_eq!(r.status.as_str(), "Accepted");
    let pages = ocpp201::device_model::DeviceModel::standard()
        .report(&ocpp201::ReportBaseEnumType::FullInventory)
        .len()
        .div_ceil(20) as u64;
    let rx2 = rx.clone();
    wait(
        "NotifyReport pages",
        Box::new(move || rx2.of("NotifyReport") == pages),
    )
    .await;
    let r = p201
        .call(msg::<ocpp201::RequestStartTransactionRequest>(
            r#"{"idToken":{"idToken":"REMOTE2","type":"ISO14443"},"remoteStartId":9}"#,
        ))
        .await
        .unwrap();
    assert_eq!(r.status.as_str(), "Accepted");
    let rx2 = rx.clone();
    wait(
        "2.0.1 remote start",
        Box::new(move || rx2.started.lock().unwrap().len() == 2),
    )
    .await;
    let r = p201
        .call(msg::<ocpp201::RequestStopTransactionRequest>(
            r#"{"transactionId":"R-0002-1"}"#,
        ))
        .await
        .unwrap();
    assert_eq!(r.status.as_str(), "Accepted");
    let rx2 = rx.clone();
    wait(
        "2.0.1 remote stop",
        Box::new(move || rx2.ended.lock().unwrap().len() == 2),
    )
    .await;
    let r = p201
        .call(msg::<ocpp201::ChangeAvailabilityRequest>(
            r#"{"operationalStatus":"Inoperative"}"#,
        ))
        .await
        .unwrap();
    assert_eq!(r.status.as_str(), "Accepted");
    let r = p201
        .call(msg::<ocpp201::ResetRequest>(r#"{"type":"OnIdle"}"#))
        .await
        .unwrap();
    assert_eq!(r.status.as_str(), "Accepted");

    let s = sim.await.unwrap();
    println!("{s}");
    assert_eq!(s.errors_total(), 0, "{s}");
    for a in [
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "TriggerMessage",
        "RequestStartTransaction",
        "RequestStopTransaction",
        "ChangeAvailability",
        "Reset",
    ] {
        assert_eq!(s.received.get(a).copied(), Some(1), "{a}: {s}");
    }
    assert!(
        s.sent.get("Heartbeat").copied().unwrap_or(0) >= 1,
        "triggered heartbeat: {s}"
    );
    srv.shutdown().await;
}
