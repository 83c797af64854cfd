//! The operator API's failure answers for CSMS-initiated calls (409 not connected, 504 no
//! answer in time, 400 invalid payload with its JSON path, 502 CALLERROR with code and
//! description), reservation expiry, and decimals kept as the station wrote them on SQLite and
//! PostgreSQL.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use csms_reference::config::{FileSettings, Settings};
use csms_reference::server::{start, start_with_store, RunningCsms};
use csms_reference::store::{PgStore, Store};
use ocpp_core::transport::StationClient;
use ocpp_core::{CallContext, CallError, Dispatch, Peer};
use ocpp_types::{DecodeOptions, ErrorCode, Protocol};
use serde_json::json;

mod common;

use common::station::{call_text, connect};
use common::{get, post};
use common::{loopback, sqlite_url};

/// Answers: Reset after 3 s (past the CSMS's 1 s call timeout), ReserveNow Accepted,
/// UnlockConnector with a CALLERROR, anything else NotSupported.
struct Slow;

#[async_trait]
impl<P: Protocol> Dispatch<P> for Slow {
    async fn dispatch(
        &self,
        _: CallContext<P>,
        req: P::AnyRequest,
    ) -> Result<P::AnyResponse, CallError> {
        let action = P::request_action(&req);
        let answer = match P::action_name(action) {
            "Reset" => {
                tokio::time::sleep(Duration::from_secs(3)).await;
                r#"{"status":"Accepted"}"#
            }
            "ReserveNow" => r#"{"status":"Accepted"}"#,
            "UnlockConnector" => {
                return Err(CallError::new(
                    ErrorCode::InternalError,
                    "the latch is stuck",
                ))
            }
            other => return Err(ocpp_core::not_supported(other)),
        };
        Ok(P::decode_response(action, answer, &DecodeOptions::STRICT)
            .unwrap()
            .0)
    }
    async fn dispatch_send(&self, _: CallContext<P>, _: P::AnyRequest) {}
}

fn settings(dir: &tempfile::TempDir) -> Settings {
    Settings::validate(FileSettings {
        call_timeout: Some(1),
        ..loopback(sqlite_url(dir))
    })
    .unwrap()
}

async fn station<P: Protocol>(
    csms: &RunningCsms,
    id: &str,
    boot: &str,
) -> (StationClient, Peer<P>) {
    connect(csms, id, boot, Arc::new(Slow)).await
}

const BOOT2: &str = r#"{"chargingStation":{"model":"W","vendorName":"V"},"reason":"PowerUp"}"#;
const BOOT16: &str = r#"{"chargePointVendor":"V","chargePointModel":"W"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_failures_are_answered_with_their_status() {
    let dir = tempfile::tempdir().unwrap();
    let csms = start(settings(&dir)).await.unwrap();
    let api = format!("http://{}", csms.api_addr);
    let (c201, _p) = station::<ocpp201::Ocpp201>(&csms, "SLOW1", BOOT2).await;

    // 502: a CALLERROR, with its code and description.
    let (s, r) = post(
        &api,
        "/api/stations/SLOW1/calls/UnlockConnector",
        json!({"evseId": 1, "connectorId": 1}),
    )
    .await;
    assert_eq!(
        (s, r["code"].as_str(), r["description"].as_str()),
        (502, Some("InternalError"), Some("the latch is stuck")),
        "{r}"
    );

    // 400: an invalid payload names the JSON path of the fault.
    let (s, r) = post(
        &api,
        "/api/stations/SLOW1/calls/SetVariables",
        json!({"setVariableData": [{"attributeType": "Sideways", "attributeValue": "1", "component": {"name": "C"}, "variable": {"name": "V"}}]}),
    )
    .await;
    assert_eq!(
        (s, r["path"].as_str()),
        (400, Some("/setVariableData/0/attributeType")),
        "{r}"
    );
    let (s, r) = post(&api, "/api/stations/SLOW1/calls/Reset", json!({})).await;
    assert_eq!(
        (s, r["path"].as_str()),
        (400, Some("/type")),
        "a missing member: {r}"
    );
    // An action the station's version lacks (1.6 only) is a 400 as well.
    let (s, _) = post(
        &api,
        "/api/stations/SLOW1/calls/RemoteStartTransaction",
        json!({"idTag": "X"}),
    )
    .await;
    assert_eq!(s, 400);

    // 504: the station answers after the 1 s call timeout (last: the station stays busy
    // with it for 3 s).
    let (s, r) = post(
        &api,
        "/api/stations/SLOW1/calls/Reset",
        json!({"type": "Immediate"}),
    )
    .await;
    assert_eq!(s, 504, "{r}");
    assert!(r["error"].as_str().unwrap().contains("no answer"), "{r}");
    let (_, log) = get(&api, "/api/stations/SLOW1/messages?limit=1000").await;
    assert!(
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["action"] == "Reset" && m["kind"] == "timeout"),
        "the timeout is logged: {log}"
    );

    // 409: a known station that is not connected.
    c201.shutdown().await;
    tokio::time::timeout(Duration::from_secs(10), async {
        while csms.connections.get("SLOW1").is_some() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();
    let (s, r) = post(
        &api,
        "/api/stations/SLOW1/calls/Reset",
        json!({"type": "Immediate"}),
    )
    .await;
    assert_eq!(s, 409, "{r}");
    assert!(
        r["error"].as_str().unwrap().contains("not connected"),
        "{r}"
    );
    let (s, _) = post(&api, "/api/stations/SLOW1/reset", json!({"type": "Hard"})).await;
    assert_eq!(s, 409, "the friendly endpoints too");
    // 404: a station never seen.
    let (s, _) = post(
        &api,
        "/api/stations/NEVER/calls/Reset",
        json!({"type": "Immediate"}),
    )
    .await;
    assert_eq!(s, 404);

    let m = reqwest::get(format!("{api}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        m.contains("csms_call_errors_total{direction=\"in\",code=\"InternalError\"} 1"),
        "{m}"
    );
    csms.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reservations_expire() {
    let dir = tempfile::tempdir().unwrap();
    let csms = start(settings(&dir)).await.unwrap();
    let api = format!("http://{}", csms.api_addr);
    let (c16, _p16) = station::<ocpp16::Ocpp16>(&csms, "RES16", BOOT16).await;
    let (c201, _p201) = station::<ocpp201::Ocpp201>(&csms, "RES201", BOOT2).await;
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    // Far in the future, written with an offset: compared as an instant, not as text.
    let later = (chrono::Utc::now() + chrono::Duration::hours(1))
        .with_timezone(&chrono::FixedOffset::west_opt(5 * 3600).unwrap())
        .to_rfc3339();
    for (id, expiry) in [(1, &soon), (2, &later)] {
        let (s, r) = post(
            &api,
            "/api/stations/RES16/calls/ReserveNow",
            json!({"connectorId": 1, "expiryDate": expiry, "idTag": "T1", "reservationId": id}),
        )
        .await;
        assert_eq!(s, 200, "{r}");
        let (s, r) = post(
            &api,
            "/api/stations/RES201/calls/ReserveNow",
            json!({"id": id, "expiryDateTime": expiry, "idToken": {"idToken": "T1", "type": "ISO14443"}}),
        )
        .await;
        assert_eq!(s, 200, "{r}");
    }
    for st in ["RES16", "RES201"] {
        let (_, r) = get(&api, &format!("/api/stations/{st}/reservations")).await;
        assert_eq!(r["items"][1]["status"], "Reserved", "{r}");
    }
    // The first expires: the API shows it, and the sweep stores it.
    let status = |st: &'static str, i: usize| {
        let api = api.clone();
        async move {
            let (_, r) = get(&api, &format!("/api/stations/{st}/reservations")).await;
            r["items"][i]["status"].as_str().unwrap().to_owned()
        }
    };
    tokio::time::timeout(Duration::from_secs(15), async {
        while status("RES16", 0).await != "Expired" || status("RES201", 0).await != "Expired" {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the reservation expires");
    assert_eq!(status("RES16", 1).await, "Reserved");
    assert_eq!(status("RES201", 1).await, "Reserved");
    let stored = csms.csms.store().reservations("RES201").await.unwrap();
    assert_eq!(
        stored.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(),
        ["Expired", "Reserved"]
    );
    c16.shutdown().await;
    c201.shutdown().await;
    csms.shutdown().await;
}

async fn decimals_on(csms: RunningCsms, tag: &str) {
    let api = format!("http://{}", csms.api_addr);
    let id2 = format!("DEC201{tag}");
    let id16 = format!("DEC16{tag}");
    let (c201, p201) = station::<ocpp201::Ocpp201>(&csms, &id2, BOOT2).await;
    let (c16, p16) = station::<ocpp16::Ocpp16>(&csms, &id16, BOOT16).await;
    call_text(&p201, "TransactionEvent", r#"{"eventType":"Started","timestamp":"2024-05-01T10:00:00Z","triggerReason":"Authorized","seqNo":0,"transactionInfo":{"transactionId":"D1"},"evse":{"id":1,"connectorId":1},"meterValue":[{"timestamp":"2024-05-01T10:00:00Z","sampledValue":[{"value":12.50,"measurand":"Energy.Active.Import.Register"},{"value":0.000100,"measurand":"Current.Import","phase":"L1"},{"value":-3.0}]}]}"#).await;
    call_text(&p201, "MeterValues", r#"{"evseId":1,"meterValue":[{"timestamp":"2024-05-01T10:01:00Z","sampledValue":[{"value":230.10,"measurand":"Voltage"}]}]}"#).await;
    let st = call_text(
        &p16,
        "StartTransaction",
        r#"{"connectorId":1,"idTag":"T","meterStart":100,"timestamp":"2024-05-01T10:00:00Z"}"#,
    )
    .await;
    let tx16 = st["transactionId"].as_i64().unwrap();
    call_text(&p16, "MeterValues", &format!(r#"{{"connectorId":1,"transactionId":{tx16},"meterValue":[{{"timestamp":"2024-05-01T10:01:00Z","sampledValue":[{{"value":"12.50","unit":"kWh"}}]}}]}}"#)).await;

    let (_, t) = get(&api, &format!("/api/stations/{id2}/transactions/D1")).await;
    let values: Vec<&str> = t["meterValues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["12.50", "0.000100", "-3.0"], "{t}");
    let (_, t) = get(&api, &format!("/api/stations/{id16}/transactions/{tx16}")).await;
    assert_eq!(t["meterValues"][0]["value"], "12.50", "{t}");
    let store = csms.csms.store();
    let events = store
        .messages(&id2, csms_reference::store::Page::default())
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .any(|m| m.action == "MeterValues" && m.payload.contains("230.10")),
        "the logged payload keeps the station's digits"
    );
    c201.shutdown().await;
    c16.shutdown().await;
    csms.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decimals_keep_the_stations_digits_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    decimals_on(start(settings(&dir)).await.unwrap(), "S").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decimals_keep_the_stations_digits_on_postgres() {
    let Ok(url) = std::env::var("OCPP_TEST_POSTGRES_URL") else {
        println!("SKIPPED: OCPP_TEST_POSTGRES_URL is not set");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let schema = format!(
        "dec_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let store: Arc<dyn Store> = Arc::new(
        PgStore::connect_in_schema(&url, Some(&schema))
            .await
            .unwrap(),
    );
    let mut s = settings(&dir);
    s.database_url = url;
    decimals_on(start_with_store(s, store).await.unwrap(), "P").await;
}
