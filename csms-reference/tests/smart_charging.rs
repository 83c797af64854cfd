//! Smart charging in the reference CSMS, end to end: the CSMS in-process on loopback, simulated
//! stations of 1.6, 2.0.1 and 2.1 (library station role) that record the calls they receive
//! and answer Accepted; profiles stored, listed, validated, cleared; the local composite
//! schedule; reconciliation; site load balancing with stations joining and leaving. Everything
//! runs on SQLite and, with `OCPP_TEST_POSTGRES_URL`, on PostgreSQL (its own schema per run;
//! SKIPPED when unset).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use csms_reference::config::{FileSettings, Settings};
use csms_reference::server::{start_with_store, RunningCsms};
use csms_reference::smart_charging::{LOAD_BALANCING_PROFILE_ID, LOAD_BALANCING_STACK_LEVEL};
use csms_reference::store::*;
use ocpp_core::transport::StationClient;
use ocpp_core::{CallContext, CallError, Dispatch, Peer};
use ocpp_types::{DecodeOptions, Protocol};
use serde_json::{json, Value};

mod common;

use common::loopback;
use common::station::{call, connect_to};
use common::{backends, delete, eventually, get, post, put};

type Log = Arc<Mutex<Vec<(String, Value)>>>;

/// Every SetChargingProfile the simulated stations received and answered, in the order it
/// happened across stations: (station, "received" or "answered", the first period's limit).
static PROFILE_EVENTS: Mutex<Vec<(String, &'static str, Value)>> = Mutex::new(Vec::new());

/// Stations that answer SetChargingProfile only after a pause (a slow station).
static SLOW_STATIONS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn first_limit(payload: &Value) -> Value {
    let prof = payload
        .get("csChargingProfiles")
        .or_else(|| payload.get("chargingProfile"))
        .cloned()
        .unwrap_or(Value::Null);
    let sched = prof["chargingSchedule"]
        .as_array()
        .map_or(&prof["chargingSchedule"], |a| &a[0]);
    sched["chargingSchedulePeriod"][0]["limit"].clone()
}

/// A station-side dispatcher that records every CSMS call and answers from a table.
struct Recorder<P> {
    station: String,
    log: Log,
    answers: Vec<(&'static str, String)>,
    _p: std::marker::PhantomData<fn() -> P>,
}

#[async_trait]
impl<P: Protocol> Dispatch<P> for Recorder<P> {
    async fn dispatch(
        &self,
        _: CallContext<P>,
        req: P::AnyRequest,
    ) -> Result<P::AnyResponse, CallError> {
        let action = P::request_action(&req);
        let name = P::action_name(action);
        let payload: Value =
            serde_json::from_str(&P::encode_request(&req, &DecodeOptions::STRICT).unwrap())
                .unwrap();
        let profile_event = (name == "SetChargingProfile").then(|| first_limit(&payload));
        self.log.lock().unwrap().push((name.to_owned(), payload));
        if let Some(limit) = profile_event {
            let event = |what| (self.station.clone(), what, limit.clone());
            PROFILE_EVENTS.lock().unwrap().push(event("received"));
            if SLOW_STATIONS.lock().unwrap().contains(&self.station) {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            PROFILE_EVENTS.lock().unwrap().push(event("answered"));
        }
        match self.answers.iter().find(|(a, _)| *a == name) {
            Some((_, answer)) => Ok(P::decode_response(action, answer, &DecodeOptions::STRICT)
                .unwrap()
                .0),
            None => Err(ocpp_core::not_supported(name)),
        }
    }
    async fn dispatch_send(&self, _: CallContext<P>, _: P::AnyRequest) {}
}

async fn csms(store: Arc<dyn Store>) -> RunningCsms {
    let f = FileSettings {
        call_timeout: Some(5),
        ..loopback("sqlite::memory:".into())
    };
    start_with_store(Settings::validate(f).unwrap(), store)
        .await
        .unwrap()
}

const ACCEPTED: &str = r#"{"status":"Accepted"}"#;

async fn station<P: Protocol>(
    csms: &RunningCsms,
    id: &str,
    boot: &str,
    extra: Vec<(&'static str, String)>,
) -> (StationClient, Peer<P>, Log) {
    let log: Log = Arc::default();
    let mut answers = vec![
        ("SetChargingProfile", ACCEPTED.to_owned()),
        ("ClearChargingProfile", ACCEPTED.to_owned()),
    ];
    answers.extend(extra);
    let (client, peer) = connect_to::<P>(
        &csms.ocpp_addr.to_string(),
        id,
        boot,
        Arc::new(Recorder::<P> {
            station: id.to_owned(),
            log: log.clone(),
            answers,
            _p: Default::default(),
        }),
        Duration::from_secs(60),
    )
    .await;
    (client, peer, log)
}

const BOOT16: &str = r#"{"chargePointVendor":"ACME","chargePointModel":"W16"}"#;
const BOOT2: &str = r#"{"chargingStation":{"model":"W2","vendorName":"ACME"},"reason":"PowerUp"}"#;

fn profile_ids(list: &Value) -> Vec<i64> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["profileId"].as_i64().unwrap())
        .collect()
}

async fn profiles_scenario(store: Arc<dyn Store>) {
    let csms = csms(store).await;
    let api = format!("http://{}", csms.api_addr);

    // --- 2.0.1: validated set, generic call, list, composite, clear.
    let (_c2, p2, log2) = station::<ocpp201::Ocpp201>(&csms, "SC201", BOOT2, vec![]).await;
    let default = json!({"evseId": 0, "chargingProfile": {"id": 10, "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Relative",
        "chargingSchedule": [{"id": 1, "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}, {"startPeriod": 1800, "limit": 40}]}]}});
    let (s, r) = post(
        &api,
        "/api/stations/SC201/charging-profiles",
        default.clone(),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["response"]["status"], "Accepted");
    assert_eq!(r["stored"]["profileId"], 10);
    assert_eq!(r["stored"]["purpose"], "TxDefaultProfile");
    assert_eq!(r["stored"]["neutral"]["purpose"], "TxDefault");
    assert_eq!(r["stored"]["profile"], default["chargingProfile"]);
    assert_eq!(
        log2.lock().unwrap().last().unwrap(),
        &("SetChargingProfile".to_owned(), default.clone())
    );

    // Rules checked before sending: each failure names its rule, and nothing is sent.
    let sent_before = log2.lock().unwrap().len();
    let mut bad = default.clone();
    bad["chargingProfile"]["id"] = json!(11);
    bad["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["startPeriod"] =
        json!(60);
    let (s, r) = post(&api, "/api/stations/SC201/charging-profiles", bad).await;
    assert_eq!(
        (s, r["rule"].as_str()),
        (400, Some("first-period-at-0")),
        "{r}"
    );
    let mut dup = default.clone();
    dup["chargingProfile"]["id"] = json!(12);
    let (s, r) = post(&api, "/api/stations/SC201/charging-profiles", dup).await;
    assert_eq!(
        (s, r["rule"].as_str()),
        (400, Some("unique-stack-level")),
        "{r}"
    );
    let tx = json!({"evseId": 1, "chargingProfile": {"id": 13, "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Relative", "transactionId": "none",
        "chargingSchedule": [{"id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 8}]}]}});
    let (s, r) = post(&api, "/api/stations/SC201/charging-profiles", tx).await;
    assert_eq!(
        (s, r["rule"].as_str()),
        (400, Some("tx-profile-needs-transaction")),
        "{r}"
    );
    let (s, r) = post(
        &api,
        "/api/stations/SC201/charging-profiles",
        json!({"evseId": 0}),
    )
    .await;
    assert_eq!(s, 400, "{r}");
    assert!(r["path"].is_string(), "{r}");
    assert_eq!(log2.lock().unwrap().len(), sent_before);

    // The generic call endpoint records an accepted profile too.
    let max = json!({"evseId": 0, "chargingProfile": {"id": 20, "stackLevel": 0,
        "chargingProfilePurpose": "ChargingStationMaxProfile", "chargingProfileKind": "Absolute",
        "chargingSchedule": [{"id": 1, "startSchedule": "2025-01-06T08:00:00Z", "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 32}]}]}});
    let (s, r) = post(&api, "/api/stations/SC201/calls/SetChargingProfile", max).await;
    assert_eq!(s, 200, "{r}");
    let (_, list) = get(&api, "/api/stations/SC201/charging-profiles").await;
    assert_eq!(profile_ids(&list), [10, 20]);
    let (_, list) = get(&api, "/api/stations/SC201/charging-profiles?evse=1").await;
    assert!(profile_ids(&list).is_empty());

    // The local composite: TxDefault 16 A then 40 A, capped by the station maximum of 32 A.
    let (s, c) = get(
        &api,
        "/api/stations/SC201/composite-schedule?evse=1&duration=3600&unit=A&start=2025-01-06T09:00:00Z",
    )
    .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["unit"], "A");
    assert_eq!(c["profiles"], 2);
    let periods: Vec<(i64, Value)> = c["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["startPeriod"].as_i64().unwrap(), p["limit"].clone()))
        .collect();
    assert_eq!(periods, [(0, json!(16)), (1800, json!(32))]);
    // In W: 16 A x 230 V x 3 = 11 040 W.
    let (_, c) = get(
        &api,
        "/api/stations/SC201/composite-schedule?evse=1&duration=600&unit=W&start=2025-01-06T09:00:00Z",
    )
    .await;
    assert_eq!(c["periods"][0]["limit"], json!(11040));
    let (s, _) = get(&api, "/api/stations/SC201/composite-schedule?unit=kW").await;
    assert_eq!(s, 400);
    let (s, _) = get(&api, "/api/stations/NOPE/composite-schedule").await;
    assert_eq!(s, 404);

    // Reconciliation with ReportChargingProfiles: one the same, one the CSMS does not know.
    let mut reported = default["chargingProfile"].clone();
    let mut foreign = reported.clone();
    foreign["id"] = json!(99);
    foreign["stackLevel"] = json!(5);
    call(
        &p2,
        "ReportChargingProfiles",
        json!({"requestId": 7, "chargingLimitSource": "CSO",
        "evseId": 0, "chargingProfile": [reported.clone(), foreign]}),
    )
    .await;
    let (_, rec) = get(&api, "/api/stations/SC201/smart-charging/reconciliation").await;
    assert_eq!(rec["profiles"]["requestId"], 7, "{rec}");
    assert_eq!(rec["profiles"]["matching"], json!([10]));
    assert_eq!(rec["profiles"]["onlyOnStation"][0]["id"], 99);
    assert_eq!(rec["profiles"]["onlyInCsms"][0]["id"], 20);
    reported["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"] = json!(10);
    call(
        &p2,
        "ReportChargingProfiles",
        json!({"requestId": 8, "chargingLimitSource": "CSO",
        "evseId": 0, "chargingProfile": [reported]}),
    )
    .await;
    let (_, rec) = get(&api, "/api/stations/SC201/smart-charging/reconciliation").await;
    assert_eq!(rec["profiles"]["requestId"], 8);
    assert_eq!(rec["profiles"]["different"][0]["id"], 10, "{rec}");
    assert_eq!(
        rec["profiles"]["different"][0]["reported"]["profile"]["schedules"][0]["periods"][0]
            ["limit"],
        10
    );

    // Clear by id, then by criteria (the spec's matching rules).
    let (s, r) = delete(&api, "/api/stations/SC201/charging-profiles/10").await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        log2.lock().unwrap().last().unwrap().1,
        json!({"chargingProfileId": 10})
    );
    let (_, list) = get(&api, "/api/stations/SC201/charging-profiles").await;
    assert_eq!(profile_ids(&list), [20]);
    let (s, _) = post(
        &api,
        "/api/stations/SC201/charging-profiles/clear",
        json!({"chargingProfileCriteria": {"chargingProfilePurpose": "TxDefaultProfile"}}),
    )
    .await;
    assert_eq!(s, 200);
    let (_, list) = get(&api, "/api/stations/SC201/charging-profiles").await;
    assert_eq!(profile_ids(&list), [20], "another purpose stays");
    let (s, _) = post(&api, "/api/stations/SC201/charging-profiles/clear",
        json!({"chargingProfileCriteria": {"chargingProfilePurpose": "ChargingStationMaxProfile", "evseId": 0}})).await;
    assert_eq!(s, 200);
    let (_, list) = get(&api, "/api/stations/SC201/charging-profiles").await;
    assert!(profile_ids(&list).is_empty());

    // --- 1.6: same purpose and stack level replaces; a Rejected profile is not stored;
    // GetCompositeSchedule compared with the prediction.
    let answer16 = json!({"status": "Accepted", "connectorId": 1, "scheduleStart": "2025-01-06T09:00:00Z",
        "chargingSchedule": {"duration": 3600, "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}, {"startPeriod": 1800, "limit": 20}]}});
    let (_c16, _p16, log16) = station::<ocpp16::Ocpp16>(
        &csms,
        "SC16",
        BOOT16,
        vec![("GetCompositeSchedule", answer16.to_string())],
    )
    .await;
    let p = |id: i64, limit: i64| {
        json!({"connectorId": 1, "csChargingProfiles": {"chargingProfileId": id,
        "stackLevel": 1, "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute",
        "chargingSchedule": {"startSchedule": "2025-01-06T08:00:00Z", "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}]}}})
    };
    let (s, r) = post(&api, "/api/stations/SC16/charging-profiles", p(1, 20)).await;
    assert_eq!(s, 200, "{r}");
    let (s, r) = post(&api, "/api/stations/SC16/charging-profiles", p(2, 16)).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["stored"]["purpose"], "TxDefaultProfile");
    let (_, list) = get(&api, "/api/stations/SC16/charging-profiles").await;
    assert_eq!(
        profile_ids(&list),
        [2],
        "1.6 replaces the same purpose and stack level"
    );
    // Members of the wrong type are refused, not read as the defaults (EVSE 0, one hour).
    let sent_before = log16.lock().unwrap().len();
    for bad in [
        json!({"evseId": "1", "duration": 3600}),
        json!({"evseId": 1, "duration": 60.5}),
    ] {
        let (s, r) = post(&api, "/api/stations/SC16/composite-schedule/compare", bad).await;
        assert_eq!(s, 400, "{r}");
    }
    assert_eq!(log16.lock().unwrap().len(), sent_before, "nothing sent");
    let (s, r) = post(
        &api,
        "/api/stations/SC16/composite-schedule/compare",
        json!({"evseId": 1, "duration": 3600, "unit": "A"}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        log16.lock().unwrap().last().unwrap().1,
        json!({"connectorId": 1, "duration": 3600, "chargingRateUnit": "A"})
    );
    let cmp = &r["comparison"];
    assert_eq!(cmp["matches"], false, "{cmp}");
    assert_eq!(
        cmp["differences"],
        json!([{"from": 1800, "to": 3600, "expected": 16, "actual": 20}])
    );
    assert_eq!(cmp["predicted"]["periods"][0]["limit"], 16);
    let (_, rec) = get(&api, "/api/stations/SC16/smart-charging/reconciliation").await;
    assert_eq!(rec["compositeSchedules"][0]["evseId"], 1);
    assert_eq!(rec["profiles"], Value::Null);
    // A 1.6 clear with no criteria removes everything.
    let (s, _) = post(
        &api,
        "/api/stations/SC16/charging-profiles/clear",
        json!({}),
    )
    .await;
    assert_eq!(s, 200);
    let (_, list) = get(&api, "/api/stations/SC16/charging-profiles").await;
    assert!(profile_ids(&list).is_empty());

    // Every smart-charging route is in the OpenAPI document.
    let (_, doc) = get(&api, "/api/openapi.json").await;
    for path in [
        "/api/stations/{id}/charging-profiles",
        "/api/stations/{id}/charging-profiles/clear",
        "/api/stations/{id}/charging-profiles/{profile}",
        "/api/stations/{id}/composite-schedule",
        "/api/stations/{id}/composite-schedule/compare",
        "/api/stations/{id}/smart-charging/reconciliation",
        "/api/load-balancing/groups",
        "/api/load-balancing/groups/{gid}",
        "/api/load-balancing/groups/{gid}/stations/{id}",
        "/api/load-balancing/groups/{gid}/rebalance",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }

    // Not connected: 409; unknown: 404.
    let (s, _) = post(&api, "/api/stations/NOPE/charging-profiles", p(3, 6)).await;
    assert_eq!(s, 404);
    csms.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_stored_listed_validated_cleared_and_reconciled() {
    for b in backends("profiles", "csms_sc").await {
        println!("backend {}", b.name);
        profiles_scenario(b.store.clone()).await;
        b.cleanup().await;
    }
}

/// The last SetChargingProfile limit a station received for an EVSE (1.6 connector).
fn last_limit(log: &Log, evse: i64) -> Option<(Value, Value)> {
    log.lock()
        .unwrap()
        .iter()
        .rev()
        .filter(|(a, _)| a == "SetChargingProfile")
        .find(|(_, p)| p.get("connectorId").or(p.get("evseId")) == Some(&json!(evse)))
        .map(|(_, p)| {
            let prof = p
                .get("csChargingProfiles")
                .or(p.get("chargingProfile"))
                .unwrap();
            let sched = prof["chargingSchedule"]
                .as_array()
                .map_or(&prof["chargingSchedule"], |a| &a[0]);
            (
                sched["chargingSchedulePeriod"][0]["limit"].clone(),
                prof["transactionId"].clone(),
            )
        })
}

async fn allocations(api: &str) -> Vec<(String, Value)> {
    let (_, g) = get(api, "/api/load-balancing/groups/site").await;
    g["allocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["stationId"].as_str().unwrap().to_owned(),
                a["limit"].clone(),
            )
        })
        .collect()
}

async fn wait_allocations(api: &str, want: &[(&str, Option<&str>)]) {
    let want: Vec<(String, Value)> = want
        .iter()
        .map(|(s, l)| (s.to_string(), l.map_or(Value::Null, |l| json!(l))))
        .collect();
    eventually(&format!("allocations {want:?}"), || async {
        (allocations(api).await == want).then_some(())
    })
    .await;
}

async fn load_balancing_scenario(store: Arc<dyn Store>) {
    let csms = csms(store).await;
    let api = format!("http://{}", csms.api_addr);
    let (_a, p16, log16) = station::<ocpp16::Ocpp16>(&csms, "LB16", BOOT16, vec![]).await;
    let (_b, p201, log201) = station::<ocpp201::Ocpp201>(&csms, "LB201", BOOT2, vec![]).await;
    let (_c, p21, log21) = station::<ocpp21::Ocpp21>(&csms, "LB21", BOOT2, vec![]).await;

    // The group: 63 A per phase, at least 6 A per car.
    let (s, g) = post(&api, "/api/load-balancing/groups",
        json!({"id": "site", "name": "Depot", "limit": 63, "unit": "A", "minPerCar": 6, "stations": ["LB16"]})).await;
    assert_eq!(s, 201, "{g}");
    assert_eq!(
        (g["limit"].as_str(), g["minPerCar"].as_str()),
        (Some("63"), Some("6"))
    );
    let (s, _) = post(
        &api,
        "/api/load-balancing/groups",
        json!({"id": "site", "limit": 1}),
    )
    .await;
    assert_eq!(s, 409);
    let (s, r) = post(
        &api,
        "/api/load-balancing/groups",
        json!({"id": "x", "limit": -1}),
    )
    .await;
    assert_eq!(s, 400, "{r}");
    for st in ["LB201", "LB21"] {
        let (s, r) = put(
            &api,
            &format!("/api/load-balancing/groups/site/stations/{st}"),
            json!({}),
        )
        .await;
        assert_eq!(s, 200, "{r}");
    }
    let (s, _) = put(
        &api,
        "/api/load-balancing/groups/site/stations/NOPE",
        json!({}),
    )
    .await;
    assert_eq!(s, 404);
    let (_, g) = get(&api, "/api/load-balancing/groups/site").await;
    assert_eq!(g["stations"], json!(["LB16", "LB201", "LB21"]));

    // 1.6 starts: alone, it gets the whole 63 A.
    let st = call(
        &p16,
        "StartTransaction",
        json!({"connectorId": 1, "idTag": "T16", "meterStart": 0,
        "timestamp": "2025-01-06T08:00:00Z"}),
    )
    .await;
    let tx16 = st["transactionId"].as_i64().unwrap();
    wait_allocations(&api, &[("LB16", Some("63"))]).await;
    assert_eq!(last_limit(&log16, 1), Some((json!(63), json!(tx16))));

    // 2.0.1 joins: 31.5 each.
    let ev = |ty: &str, tx: &str, seq: i64| {
        json!({"eventType": ty, "timestamp": "2025-01-06T08:05:00Z",
        "triggerReason": if ty == "Ended" { "StopAuthorized" } else { "Authorized" }, "seqNo": seq,
        "transactionInfo": {"transactionId": tx}, "evse": {"id": 1, "connectorId": 1}})
    };
    call(&p201, "TransactionEvent", ev("Started", "tx-201", 0)).await;
    wait_allocations(&api, &[("LB16", Some("31.5")), ("LB201", Some("31.5"))]).await;
    // 2.1 joins: 21 each, every station in its own version.
    call(&p21, "TransactionEvent", ev("Started", "tx-21", 0)).await;
    wait_allocations(
        &api,
        &[
            ("LB16", Some("21")),
            ("LB201", Some("21")),
            ("LB21", Some("21")),
        ],
    )
    .await;
    assert_eq!(last_limit(&log16, 1), Some((json!(21), json!(tx16))));
    assert_eq!(last_limit(&log201, 1), Some((json!(21), json!("tx-201"))));
    assert_eq!(last_limit(&log21, 1), Some((json!(21), json!("tx-21"))));
    let sent16 = log16
        .lock()
        .unwrap()
        .iter()
        .rev()
        .find(|(a, _)| a == "SetChargingProfile")
        .unwrap()
        .1
        .clone();
    assert_eq!(
        sent16["csChargingProfiles"]["chargingProfilePurpose"],
        "TxProfile"
    );
    assert_eq!(
        sent16["csChargingProfiles"]["stackLevel"],
        LOAD_BALANCING_STACK_LEVEL
    );
    assert_eq!(
        sent16["csChargingProfiles"]["chargingProfileId"],
        LOAD_BALANCING_PROFILE_ID + 1
    );
    let sent21 = log21
        .lock()
        .unwrap()
        .iter()
        .rev()
        .find(|(a, _)| a == "SetChargingProfile")
        .unwrap()
        .1
        .clone();
    assert_eq!(sent21["evseId"], 1);
    assert_eq!(
        sent21["chargingProfile"]["chargingProfilePurpose"],
        "TxProfile"
    );
    // Recorded like any accepted profile.
    let (_, list) = get(&api, "/api/stations/LB201/charging-profiles").await;
    assert_eq!(list["items"][0]["source"], "load-balancing");
    assert_eq!(list["items"][0]["transactionId"], "tx-201");
    assert_eq!(list["items"][0]["stackLevel"], LOAD_BALANCING_STACK_LEVEL);

    // The 1.6 transaction ends: the other two get 31.5, and its TxProfile is dropped.
    call(
        &p16,
        "StopTransaction",
        json!({"transactionId": tx16, "meterStop": 5000,
        "timestamp": "2025-01-06T09:00:00Z"}),
    )
    .await;
    wait_allocations(&api, &[("LB201", Some("31.5")), ("LB21", Some("31.5"))]).await;
    assert_eq!(last_limit(&log201, 1), Some((json!(31.5), json!("tx-201"))));
    assert_eq!(last_limit(&log21, 1), Some((json!(31.5), json!("tx-21"))));
    eventually("the 1.6 TxProfile dropped", || async {
        let (_, list) = get(&api, "/api/stations/LB16/charging-profiles").await;
        profile_ids(&list).is_empty().then_some(())
    })
    .await;

    // Minimum per car 25 A: 63 / 25 leaves room for two cars; a third session is paused.
    let (s, g) = put(
        &api,
        "/api/load-balancing/groups/site",
        json!({"minPerCar": "25"}),
    )
    .await;
    assert_eq!(s, 200, "{g}");
    assert_eq!(
        (g["limit"].as_str(), g["minPerCar"].as_str()),
        (Some("63"), Some("25"))
    );
    let st = call(
        &p16,
        "StartTransaction",
        json!({"connectorId": 2, "idTag": "T16", "meterStart": 0,
        "timestamp": "2025-01-06T09:30:00Z"}),
    )
    .await;
    let tx16b = st["transactionId"].as_i64().unwrap();
    wait_allocations(
        &api,
        &[
            ("LB201", Some("31.5")),
            ("LB21", Some("31.5")),
            ("LB16", Some("0")),
        ],
    )
    .await;
    assert_eq!(last_limit(&log16, 2), Some((json!(0), json!(tx16b))));

    // Minimum per car back to 6 A: 21 A each, the two cars at 31.5 A come down and the
    // paused one goes up, and the increase is sent only once both decreases are answered
    // (the 2.0.1 station answers slowly), so the site never draws more than 63 A.
    let from = PROFILE_EVENTS.lock().unwrap().len();
    SLOW_STATIONS.lock().unwrap().push("LB201".into());
    let (s, g) = put(
        &api,
        "/api/load-balancing/groups/site",
        json!({"minPerCar": "6"}),
    )
    .await;
    assert_eq!(s, 200, "{g}");
    wait_allocations(
        &api,
        &[
            ("LB201", Some("21")),
            ("LB21", Some("21")),
            ("LB16", Some("21")),
        ],
    )
    .await;
    SLOW_STATIONS.lock().unwrap().clear();
    let events: Vec<(String, &str, Value)> = PROFILE_EVENTS.lock().unwrap()[from..]
        .iter()
        .filter(|(st, _, _)| st.starts_with("LB"))
        .cloned()
        .collect();
    let at = |st: &str, what: &str| {
        events
            .iter()
            .position(|(s, w, _)| s == st && *w == what)
            .unwrap_or_else(|| panic!("{st} {what} in {events:?}"))
    };
    assert!(
        at("LB16", "received") > at("LB201", "answered")
            && at("LB16", "received") > at("LB21", "answered"),
        "the increase was sent before the decreases were applied: {events:?}"
    );
    assert_eq!(last_limit(&log16, 2), Some((json!(21), json!(tx16b))));
    assert_eq!(last_limit(&log201, 1), Some((json!(21), json!("tx-201"))));

    // 2.0.1 leaves the group: its profile is cleared; the paused car gets its share.
    let before = log201.lock().unwrap().len();
    let (s, _) = delete(&api, "/api/load-balancing/groups/site/stations/LB201").await;
    assert_eq!(s, 200);
    wait_allocations(&api, &[("LB21", Some("31.5")), ("LB16", Some("31.5"))]).await;
    eventually("the 2.0.1 profile cleared", || async {
        let cleared = log201.lock().unwrap()[before..].iter().any(|(a, p)| {
            a == "ClearChargingProfile"
                && p["chargingProfileId"] == json!(LOAD_BALANCING_PROFILE_ID + 1)
        });
        let (_, list) = get(&api, "/api/stations/LB201/charging-profiles").await;
        (cleared && profile_ids(&list).is_empty()).then_some(())
    })
    .await;
    // A 2.x transaction ending outside the group changes nothing in it.
    call(&p201, "TransactionEvent", ev("Ended", "tx-201", 1)).await;

    // Rebalancing on demand reports what was sent: unchanged shares are not sent again.
    let (s, r) = post(&api, "/api/load-balancing/groups/site/rebalance", json!({})).await;
    assert_eq!(s, 200, "{r}");
    let outcomes: Vec<(&str, &str, &str)> = r["allocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["stationId"].as_str().unwrap(),
                a["limit"].as_str().unwrap(),
                a["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [("LB21", "31.5", "unchanged"), ("LB16", "31.5", "unchanged")]
    );

    // A station removed while a recomputation is still sending shares: its share comes
    // after the clear would stay on it, so the clear waits for the recomputation. With
    // minimum 32 A only one car fits (2.1 gets 63, 1.6 is paused); back to 6 A the 2.1
    // station (slow) comes down first, and the 1.6 station leaves while it answers.
    let (s, g) = put(
        &api,
        "/api/load-balancing/groups/site",
        json!({"minPerCar": "32"}),
    )
    .await;
    assert_eq!(s, 200, "{g}");
    wait_allocations(&api, &[("LB21", Some("63")), ("LB16", Some("0"))]).await;
    let from = PROFILE_EVENTS.lock().unwrap().len();
    SLOW_STATIONS.lock().unwrap().push("LB21".into());
    let (s, g) = put(
        &api,
        "/api/load-balancing/groups/site",
        json!({"minPerCar": "6"}),
    )
    .await;
    assert_eq!(s, 200, "{g}");
    eventually("the 2.1 station receiving its lower share", || async {
        PROFILE_EVENTS.lock().unwrap()[from..]
            .iter()
            .any(|(st, w, _)| st == "LB21" && *w == "received")
            .then_some(())
    })
    .await;
    let (s, _) = delete(&api, "/api/load-balancing/groups/site/stations/LB16").await;
    assert_eq!(s, 200);
    // The recomputation after the removal (2.1 alone: 63 A again) runs after the one that
    // was under way, so once the station has it everything before has been sent.
    eventually("the 2.1 station given 63 A again", || async {
        let events = PROFILE_EVENTS.lock().unwrap();
        let lb21: Vec<&Value> = events[from..]
            .iter()
            .filter(|(st, w, _)| st == "LB21" && *w == "answered")
            .map(|(_, _, l)| l)
            .collect();
        (lb21 == [&json!(31.5), &json!(63)]).then_some(())
    })
    .await;
    wait_allocations(&api, &[("LB21", Some("63"))]).await;
    SLOW_STATIONS.lock().unwrap().clear();
    eventually(
        "no load-balancing profile left on the 1.6 station",
        || async {
            let (_, list) = get(&api, "/api/stations/LB16/charging-profiles").await;
            profile_ids(&list).is_empty().then_some(())
        },
    )
    .await;

    // Deleting the group clears the profiles it set.
    let (s, _) = delete(&api, "/api/load-balancing/groups/site").await;
    assert_eq!(s, 204);
    let (s, _) = get(&api, "/api/load-balancing/groups/site").await;
    assert_eq!(s, 404);
    eventually("the group's profiles cleared", || async {
        let (_, a) = get(&api, "/api/stations/LB21/charging-profiles").await;
        let (_, b) = get(&api, "/api/stations/LB16/charging-profiles").await;
        (profile_ids(&a).is_empty() && profile_ids(&b).is_empty()).then_some(())
    })
    .await;
    let (_, groups) = get(&api, "/api/load-balancing/groups").await;
    assert_eq!(groups["items"], json!([]));
    csms.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_balancing_shares_63_a_as_stations_join_and_leave() {
    for b in backends("load_balancing", "csms_sc").await {
        println!("backend {}", b.name);
        load_balancing_scenario(b.store.clone()).await;
        b.cleanup().await;
    }
}

fn profile_rec(
    station: &str,
    id: i64,
    evse: i64,
    purpose: &str,
    tx: Option<&str>,
) -> ChargingProfileRecord {
    ChargingProfileRecord {
        station_id: station.into(),
        profile_id: id,
        evse_id: evse,
        version: "2.0.1".into(),
        purpose: purpose.into(),
        stack_level: 1,
        kind: "Relative".into(),
        recurrency: None,
        transaction_id: tx.map(str::to_owned),
        valid_from: None,
        valid_to: Some("2030-01-01T00:00:00Z".into()),
        rate_unit: Some("W".into()),
        profile: format!(r#"{{"id":{id}}}"#),
        neutral: "{}".into(),
        source: "csms".into(),
        installed_at: "2025-01-06T08:00:00.000Z".into(),
    }
}

async fn store_suite(store: Arc<dyn Store>) {
    let s = "ST-1";
    let at = "2025-01-06T08:00:00.000Z";
    // Profiles: insert, replace by id, displace others, list per EVSE, delete.
    store
        .put_charging_profile(&profile_rec(s, 1, 0, "TxDefaultProfile", None), &[])
        .await
        .unwrap();
    store
        .put_charging_profile(&profile_rec(s, 2, 1, "TxProfile", Some("t1")), &[])
        .await
        .unwrap();
    let mut again = profile_rec(s, 2, 1, "TxProfile", Some("t2"));
    again.source = "load-balancing".into();
    store.put_charging_profile(&again, &[]).await.unwrap();
    store
        .put_charging_profile(&profile_rec("OTHER", 2, 1, "TxProfile", None), &[])
        .await
        .unwrap();
    let all = store.charging_profiles(s, None).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1], again);
    assert_eq!(
        store.charging_profiles(s, Some(1)).await.unwrap(),
        [again.clone()]
    );
    store
        .put_charging_profile(&profile_rec(s, 3, 0, "TxDefaultProfile", None), &[1])
        .await
        .unwrap();
    let ids: Vec<i64> = store
        .charging_profiles(s, None)
        .await
        .unwrap()
        .iter()
        .map(|p| p.profile_id)
        .collect();
    assert_eq!(ids, [3, 2]);
    assert_eq!(
        store
            .delete_charging_profiles(s, &[2, 3, 42])
            .await
            .unwrap(),
        2
    );
    assert!(store.charging_profiles(s, None).await.unwrap().is_empty());
    assert_eq!(
        store.charging_profiles("OTHER", None).await.unwrap().len(),
        1
    );

    // Composite reports, newest first, per EVSE.
    for (evse, status) in [(1, "Accepted"), (2, "Rejected"), (1, "Rejected")] {
        store
            .put_composite_report(&CompositeReportRecord {
                station_id: s.into(),
                evse_id: evse,
                version: "1.6".into(),
                requested_at: at.into(),
                duration: 60,
                rate_unit: None,
                status: status.into(),
                reported: None,
                predicted: Some("{}".into()),
                differences: Some("[]".into()),
                payload: "{}".into(),
                at: at.into(),
            })
            .await
            .unwrap();
    }
    let r = store
        .composite_reports(s, Some(1), Page::default())
        .await
        .unwrap();
    assert_eq!(
        r.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(),
        ["Rejected", "Accepted"]
    );
    assert_eq!(
        store
            .composite_reports(s, None, Page::default())
            .await
            .unwrap()
            .len(),
        3
    );

    // Reported profiles: only the latest request.
    assert!(store.latest_reported_profiles(s).await.unwrap().is_empty());
    let rp = |req: i64, id: i64| ReportedProfileRecord {
        station_id: s.into(),
        request_id: req,
        evse_id: 0,
        limit_source: "CSO".into(),
        profile_id: id,
        profile: "{}".into(),
        at: at.into(),
    };
    store
        .put_reported_profiles(&[rp(1, 1), rp(1, 2)])
        .await
        .unwrap();
    store
        .put_reported_profiles(&[rp(2, 5), rp(2, 6)])
        .await
        .unwrap();
    let latest: Vec<i64> = store
        .latest_reported_profiles(s)
        .await
        .unwrap()
        .iter()
        .map(|r| r.profile_id)
        .collect();
    assert_eq!(latest, [5, 6]);

    // Groups: create, update keeps created_at, members exclusive, transactions oldest first.
    let g = |id: &str, limit: &str, at: &str| LoadGroupRecord {
        id: id.into(),
        name: None,
        limit: limit.into(),
        unit: "A".into(),
        min_per_car: "6".into(),
        created_at: at.into(),
        updated_at: at.into(),
    };
    store.put_load_group(&g("g1", "63", at)).await.unwrap();
    store
        .put_load_group(&g("g1", "31.5", "2025-01-07T00:00:00Z"))
        .await
        .unwrap();
    let got = store.load_group("g1").await.unwrap().unwrap();
    assert_eq!(
        (
            got.limit.as_str(),
            got.created_at.as_str(),
            got.updated_at.as_str()
        ),
        ("31.5", at, "2025-01-07T00:00:00Z")
    );
    store.put_load_group(&g("g2", "100", at)).await.unwrap();
    assert_eq!(store.load_groups().await.unwrap().len(), 2);
    assert_eq!(
        store.add_load_group_member("g1", "A", at).await.unwrap(),
        None
    );
    assert_eq!(
        store.add_load_group_member("g1", "A", at).await.unwrap(),
        None,
        "idempotent"
    );
    assert_eq!(
        store.add_load_group_member("g1", "B", at).await.unwrap(),
        None
    );
    assert_eq!(
        store.add_load_group_member("g2", "A", at).await.unwrap(),
        Some("g1".into())
    );
    assert_eq!(store.load_group_members("g1").await.unwrap(), ["A", "B"]);
    assert_eq!(store.load_group_of("B").await.unwrap(), Some("g1".into()));
    assert_eq!(store.load_group_of("C").await.unwrap(), None);
    for (st, tx) in [("B", "b1"), ("A", "a1"), ("C", "c1"), ("A", "a2")] {
        store
            .apply_transaction_event(&TxEventRecord {
                station_id: st.into(),
                version: "2.0.1".into(),
                transaction_id: tx.into(),
                seq_no: 0,
                event_type: "Started".into(),
                timestamp: at.into(),
                evse_id: Some(1),
                payload: "{}".into(),
                received_at: at.into(),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    store
        .apply_transaction_event(&TxEventRecord {
            station_id: "A".into(),
            version: "2.0.1".into(),
            transaction_id: "a1".into(),
            seq_no: 1,
            event_type: "Ended".into(),
            timestamp: at.into(),
            payload: "{}".into(),
            received_at: at.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let txs: Vec<String> = store
        .load_group_transactions("g1")
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.transaction_id)
        .collect();
    assert_eq!(txs, ["b1", "a2"]);
    let active: Vec<String> = store
        .active_transactions("A")
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.transaction_id)
        .collect();
    assert_eq!(active, ["a2"]);
    assert!(store.remove_load_group_member("g1", "B").await.unwrap());
    assert!(!store.remove_load_group_member("g1", "B").await.unwrap());
    assert!(store.delete_load_group("g1").await.unwrap());
    assert!(!store.delete_load_group("g1").await.unwrap());
    assert_eq!(store.load_group_of("A").await.unwrap(), None);
    assert_eq!(
        store.add_load_group_member("g2", "A", at).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn store_on_every_backend() {
    for b in backends("store", "csms_sc").await {
        println!("backend {}", b.name);
        store_suite(b.store.clone()).await;
        b.cleanup().await;
    }
}
