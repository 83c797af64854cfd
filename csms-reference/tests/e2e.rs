//! End to end: the CSMS on loopback (ephemeral ports, temp SQLite file), simulated stations of
//! each version through `StationClient`, full sessions, then the database and the API.

use std::sync::Arc;
use std::time::Duration;

use csms_reference::config::{FileSettings, Settings};
use csms_reference::server::{start, RunningCsms};
use ocpp_core::{BootState, Peer};
use ocpp_types::Protocol;
use serde_json::{json, Value};

mod common;

use common::station::{call, start_client, station, Answers};
use common::{get, post};
use common::{loopback, sqlite_url};

async fn csms(dir: &tempfile::TempDir) -> RunningCsms {
    let f = FileSettings {
        call_timeout: Some(2),
        ..loopback(sqlite_url(dir))
    };
    start(Settings::validate(f).unwrap()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_sessions_of_every_version() {
    let dir = tempfile::tempdir().unwrap();
    let csms = csms(&dir).await;
    let api = format!("http://{}", csms.api_addr);

    // Tokens: one blocked.
    let (s, _) = post(
        &api,
        "/api/id-tokens",
        json!({"idToken": "BLOCKED1", "status": "Blocked"}),
    )
    .await;
    assert_eq!(s, 201);

    // 1.6
    let (c16, p16) = station::<ocpp16::Ocpp16>(
        &csms,
        "CS16",
        r#"{"chargePointVendor":"ACME","chargePointModel":"W16"}"#,
        vec![("Reset", r#"{"status":"Accepted"}"#)],
    )
    .await;
    call(
        &p16,
        "StatusNotification",
        json!({"connectorId":1,"errorCode":"NoError","status":"Preparing"}),
    )
    .await;
    let a = call(&p16, "Authorize", json!({"idTag":"TAG16"})).await;
    assert_eq!(a["idTagInfo"]["status"], "Accepted");
    let a = call(&p16, "Authorize", json!({"idTag":"BLOCKED1"})).await;
    assert_eq!(a["idTagInfo"]["status"], "Blocked");
    let st = call(&p16, "StartTransaction", json!({"connectorId":1,"idTag":"TAG16","meterStart":100,"timestamp":"2024-05-01T10:00:00+02:00"})).await;
    let tx16 = st["transactionId"].as_i64().unwrap();
    call(&p16, "MeterValues", json!({"connectorId":1,"transactionId":tx16,"meterValue":[{"timestamp":"2024-05-01T10:05:00+02:00","sampledValue":[{"value":"600","measurand":"Energy.Active.Import.Register","unit":"Wh","context":"Sample.Periodic"},{"value":"16.1","measurand":"Current.Import","phase":"L1","unit":"A"}]}]})).await;
    call(&p16, "StopTransaction", json!({"transactionId":tx16,"idTag":"TAG16","meterStop":1500,"timestamp":"2024-05-01T11:00:00+02:00","reason":"EVDisconnected"})).await;
    let hb = call(&p16, "Heartbeat", json!({})).await;
    assert!(hb["currentTime"].is_string());
    let dt = call(
        &p16,
        "DataTransfer",
        json!({"vendorId":"com.unknown","data":"x"}),
    )
    .await;
    assert_eq!(dt["status"], "UnknownVendorId");

    // 2.0.1
    let boot2 = r#"{"chargingStation":{"model":"W2","vendorName":"ACME"},"reason":"PowerUp"}"#;
    let (c201, p201) = station::<ocpp201::Ocpp201>(&csms, "CS201", boot2, vec![("Reset", r#"{"status":"Accepted"}"#), ("GetVariables", r#"{"getVariableResult":[{"attributeStatus":"Accepted","component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"},"attributeValue":"300"}]}"#), ("UnlockConnector", "CALLERROR")]).await;
    // 2.1
    let (c21, p21) = station::<ocpp21::Ocpp21>(&csms, "CS21", boot2, vec![]).await;

    async fn session2x<P: Protocol>(p: &Peer<P>, tx: &str) {
        call(p, "StatusNotification", json!({"timestamp":"2024-05-01T10:00:00Z","connectorStatus":"Occupied","evseId":1,"connectorId":1})).await;
        let a = call(
            p,
            "Authorize",
            json!({"idToken":{"idToken":"TAG2","type":"ISO14443"}}),
        )
        .await;
        assert_eq!(a["idTokenInfo"]["status"], "Accepted");
        let ev = |seq: i64, ty: &str, trig: &str, v: &str| json!({"eventType":ty,"timestamp":format!("2024-05-01T10:0{seq}:00.000+01:00"),"triggerReason":trig,"seqNo":seq,"transactionInfo":{"transactionId":tx,"chargingState":"Charging"},"evse":{"id":1,"connectorId":1},"idToken":{"idToken":"TAG2","type":"ISO14443"},"meterValue":[{"timestamp":format!("2024-05-01T10:0{seq}:00Z"),"sampledValue":[{"value":v.parse::<f64>().unwrap(),"measurand":"Energy.Active.Import.Register","unitOfMeasure":{"unit":"kWh","multiplier":0}}]}]});
        let r = call(p, "TransactionEvent", ev(0, "Started", "Authorized", "1.5")).await;
        assert_eq!(r["idTokenInfo"]["status"], "Accepted");
        call(
            p,
            "TransactionEvent",
            ev(1, "Updated", "MeterValuePeriodic", "2.25"),
        )
        .await;
        // Redelivery of seqNo 1 is idempotent.
        call(
            p,
            "TransactionEvent",
            ev(1, "Updated", "MeterValuePeriodic", "2.25"),
        )
        .await;
        let mut end = ev(2, "Ended", "StopAuthorized", "3.75");
        end["transactionInfo"]["stoppedReason"] = json!("Local");
        call(p, "TransactionEvent", end).await;
        call(p, "Heartbeat", json!({})).await;
        call(p, "NotifyReport", json!({"requestId":1,"generatedAt":"2024-05-01T10:00:00Z","seqNo":0,"reportData":[{"component":{"name":"EVSE","evse":{"id":1}},"variable":{"name":"Power"},"variableAttribute":[{"type":"Actual","value":"22000","mutability":"ReadOnly"},{"type":"MaxSet","value":"22000"}],"variableCharacteristics":{"dataType":"decimal","supportsMonitoring":true,"unit":"W"}}]})).await;
        call(
            p,
            "SecurityEventNotification",
            json!({"type":"StartupOfTheDevice","timestamp":"2024-05-01T10:00:00Z"}),
        )
        .await;
        call(
            p,
            "FirmwareStatusNotification",
            json!({"status":"Installed"}),
        )
        .await;
        let sc = call(
            p,
            "SignCertificate",
            json!({"csr":"-----BEGIN CERTIFICATE REQUEST-----"}),
        )
        .await;
        assert_eq!(sc["status"], "Rejected");
    }
    session2x(&p201, "tx201").await;
    session2x(&p21, "tx21").await;

    // The database through the API.
    let (s, list) = get(&api, "/api/stations").await;
    assert_eq!(s, 200);
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    for (id, v) in [("CS16", "1.6"), ("CS201", "2.0.1"), ("CS21", "2.1")] {
        let st = items.iter().find(|s| s["id"] == id).unwrap();
        assert_eq!(
            (st["version"].as_str(), st["connected"].as_bool()),
            (Some(v), Some(true)),
            "{st}"
        );
        assert!(st["last_seen"].is_string());
        assert_eq!(st["vendor"], "ACME");
    }
    let (_, t) = get(&api, &format!("/api/stations/CS16/transactions/{tx16}")).await;
    assert_eq!(
        (
            t["status"].as_str(),
            t["meter_start"].as_str(),
            t["meter_stop"].as_str()
        ),
        (Some("Ended"), Some("100"), Some("1500"))
    );
    assert_eq!(t["stop_reason"], "EVDisconnected");
    let mv = t["meterValues"].as_array().unwrap();
    assert_eq!(mv.len(), 2);
    assert!(mv
        .iter()
        .any(|m| m["measurand"] == "Current.Import" && m["phase"] == "L1" && m["value"] == "16.1"));
    for (id, tx) in [("CS201", "tx201"), ("CS21", "tx21")] {
        let (_, t) = get(&api, &format!("/api/stations/{id}/transactions/{tx}")).await;
        assert_eq!(
            (t["status"].as_str(), t["last_seq_no"].as_i64()),
            (Some("Ended"), Some(2)),
            "{t}"
        );
        assert_eq!(t["stop_reason"], "Local");
        let mv = t["meterValues"].as_array().unwrap();
        assert_eq!(mv.len(), 3, "redelivery stored nothing twice: {mv:?}");
        assert_eq!(mv[1]["value"], "2.25");
        assert_eq!(mv[1]["unit"], "kWh");
        let (_, v) = get(&api, &format!("/api/stations/{id}/variables")).await;
        assert!(v["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["component"] == "EVSE"
                && x["variable"] == "Power"
                && x["attribute_type"] == "MaxSet"));
        let (_, e) = get(
            &api,
            &format!("/api/stations/{id}/events?kind=SecurityEventNotification"),
        )
        .await;
        assert_eq!(e["items"][0]["status"], "StartupOfTheDevice");
        let (_, st) = get(&api, &format!("/api/stations/{id}")).await;
        assert_eq!(st["statuses"][0]["status"], "Occupied");
        let (_, m) = get(&api, &format!("/api/stations/{id}/messages?limit=2")).await;
        assert_eq!(m["items"].as_array().unwrap().len(), 2);
        assert_eq!(m["items"][0]["action"], "BootNotification");
    }

    // Operator calls.
    let (s, r) = post(
        &api,
        "/api/stations/CS201/calls/Reset",
        json!({"type":"Immediate"}),
    )
    .await;
    assert_eq!(
        (s, r["response"]["status"].as_str()),
        (200, Some("Accepted")),
        "{r}"
    );
    let (s, r) = post(&api, "/api/stations/CS16/reset", json!({"type":"Hard"})).await;
    assert_eq!(
        (s, r["response"]["status"].as_str()),
        (200, Some("Accepted")),
        "{r}"
    );
    let (s, r) = post(
        &api,
        "/api/stations/CS201/calls/Reset",
        json!({"type":"Sideways"}),
    )
    .await;
    assert_eq!((s, r["path"].as_str()), (400, Some("/type")), "{r}");
    let (s, r) = post(
        &api,
        "/api/stations/CS201/calls/BootNotification",
        json!({}),
    )
    .await;
    assert_eq!(s, 400, "{r}");
    let (s, r) = post(
        &api,
        "/api/stations/CS201/calls/UnlockConnector",
        json!({"evseId":1,"connectorId":1}),
    )
    .await;
    assert_eq!((s, r["code"].as_str()), (502, Some("GenericError")), "{r}");
    let (s, r) = post(
        &api,
        "/api/stations/CS21/calls/Reset",
        json!({"type":"Immediate"}),
    )
    .await;
    assert_eq!((s, r["code"].as_str()), (502, Some("NotSupported")), "{r}");
    let (s, _) = post(
        &api,
        "/api/stations/NOPE/calls/Reset",
        json!({"type":"Immediate"}),
    )
    .await;
    assert_eq!(s, 404);
    let (s, r) = get(
        &api,
        "/api/stations/CS201/configuration?variables=OCPPCommCtrlr.HeartbeatInterval",
    )
    .await;
    assert_eq!(s, 200, "{r}");
    let (_, v) = get(&api, "/api/stations/CS201/variables").await;
    assert!(v["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["variable"] == "HeartbeatInterval"
            && x["value"] == "300"
            && x["source"] == "GetVariables"));
    // Malformed requests get a JSON 400.
    let r = reqwest::Client::new()
        .post(format!("{api}/api/id-tokens"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("not JSON"));
    let (s, _) = get(&api, "/api/stations?limit=abc").await;
    assert_eq!(s, 400);
    let (s, doc) = get(&api, "/api/openapi.json").await;
    assert_eq!(s, 200);
    assert!(doc["paths"]["/api/stations/{id}/calls/{action}"]["post"].is_object());
    let m = reqwest::get(format!("{api}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        m.contains("csms_connected_stations{version=\"2.1\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("csms_messages_total{direction=\"in\",action=\"TransactionEvent\"} 8"),
        "{m}"
    );

    c16.shutdown().await;
    c201.shutdown().await;
    c21.shutdown().await;
    csms.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_stations_wait_for_an_operator() {
    let dir = tempfile::tempdir().unwrap();
    let f = FileSettings {
        unknown_stations: Some("pending".into()),
        ..loopback(format!("sqlite:{}", dir.path().join("p.db").display()))
    };
    let csms = start(Settings::validate(f).unwrap()).await.unwrap();
    let api = format!("http://{}", csms.api_addr);
    let client = start_client::<ocpp201::Ocpp201>(
        &csms.ocpp_addr.to_string(),
        "NEW1",
        r#"{"chargingStation":{"model":"W","vendorName":"V"},"reason":"PowerUp"}"#,
        Arc::new(Answers::<ocpp201::Ocpp201>::new(vec![])),
    );
    let mut st = client.status();
    tokio::time::timeout(
        Duration::from_secs(10),
        st.wait_for(|s| s.boot == BootState::Pending),
    )
    .await
    .unwrap()
    .unwrap();
    let (_, s) = get(&api, "/api/stations/NEW1").await;
    assert_eq!(s["registration"], "Pending");
    let (code, _) = post(
        &api,
        "/api/stations/NEW1/registration",
        json!({"registration":"Accepted"}),
    )
    .await;
    assert_eq!(code, 200);
    client.shutdown().await;
    csms.shutdown().await;
}
