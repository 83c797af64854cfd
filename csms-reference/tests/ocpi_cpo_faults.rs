//! The OCPI CPO bridge under faults and between several partners: a transaction the bridge
//! missed (stopped, or crashed, between the OCPP commit and its own writes) still gets its
//! CDR, exactly once, after a restart; a CDR that cannot be priced is held until it can; a
//! station that does not answer a command gives TIMEOUT and its token is not kept; partners
//! see and steer only their own sessions; a partner registered later gets the locations and
//! tariffs; a 2.1.1 eMSP receives 2.1.1 bodies; an eMSP that hangs does not hold up a
//! station's Authorize.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use csms_reference::ocpi_cpo::db::{ObjectRow, OutboxRow};
use csms_reference::ocpi_cpo::OcpiFileSettings;
use csms_reference::server::{start, RunningCsms};
use csms_reference::store::{SqliteStore, Store};
use ocpi::client::Client;
use ocpi::credentials::generate_token;
use ocpi::handlers::ChargingProfileResultKind;
use ocpi::server::{encoding_of, router, MemoryStorage, Server, Storage};
use ocpi::transport::PageQuery;
use ocpi::v221::{CommandType, Endpoint, InterfaceRole, ModuleId, VersionNumber};
use ocpp_core::Peer;
use rust_decimal::Decimal;
use serde_json::{json, Value};

mod common;

use common::partner::{
    connector, emsp_modules, location, log_request, logged, ocpi_settings, partner_server,
    recording_handlers, register_partner, role, stored, url_of, RequestLog, ResultLog,
};
use common::station::{call, connect, station, Answers};
use common::{api, dec, eventually, t};

// ---------------------------------------------------------------- stations

async fn station16(csms: &RunningCsms, id: &str, hang: Vec<&'static str>) -> Peer<ocpp16::Ocpp16> {
    let (c, p) = connect::<ocpp16::Ocpp16>(
        csms,
        id,
        r#"{"chargePointVendor":"ACME","chargePointModel":"W16"}"#,
        Arc::new(Answers::hanging(
            vec![
                ("RemoteStartTransaction", r#"{"status":"Accepted"}"#),
                ("SetChargingProfile", r#"{"status":"Accepted"}"#),
            ],
            hang,
        )),
    )
    .await;
    // The client lives as long as the test.
    std::mem::forget(c);
    p
}

// ---------------------------------------------------------------- CSMS and API

async fn csms_with(dir: &tempfile::TempDir, ocpi: OcpiFileSettings) -> RunningCsms {
    let url = format!("sqlite:{}", dir.path().join("csms.db").display());
    start(ocpi_settings(url, ocpi)).await.unwrap()
}

async fn csms(dir: &tempfile::TempDir) -> RunningCsms {
    csms_with(dir, OcpiFileSettings::default()).await
}

// ---------------------------------------------------------------- the eMSP

type Log = RequestLog;

struct Emsp {
    server: Arc<Server<MemoryStorage>>,
    base: String,
    party: &'static str,
    version: VersionNumber,
    /// Every request that reached the eMSP: method, path, body.
    log: Log,
    /// While true, real-time authorization requests are never answered.
    hang: Arc<AtomicBool>,
    results: ResultLog,
    token_b: String,
}

async fn emsp(cpo_versions: &str, party: &'static str, version: VersionNumber) -> Emsp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/ocpi", listener.local_addr().unwrap());
    let token_b = generate_token();
    let results = ResultLog::default();
    let server = partner_server(
        &base,
        &token_b,
        cpo_versions,
        &version,
        emsp_modules(),
        role("EMSP", party),
        recording_handlers(&results),
    );
    let log: Log = Arc::default();
    let hang = Arc::new(AtomicBool::new(false));
    let (l, h) = (log.clone(), hang.clone());
    let app = router(server.clone()).layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            let (log, hang) = (l.clone(), h.clone());
            async move {
                let req = log_request(&log, req).await;
                if hang.load(Ordering::SeqCst) && req.uri().path().ends_with("/authorize") {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }
                next.run(req).await
            }
        },
    ));
    tokio::spawn(async move { axum::serve(listener, app).await });
    Emsp {
        server,
        base,
        party,
        version,
        log,
        hang,
        results,
        token_b,
    }
}

impl Emsp {
    fn stored(&self, module: ModuleId, ids: &[&str]) -> Option<Value> {
        stored(&self.server, module, ids)
    }

    fn logged(&self, method: &str, path_part: &str) -> Vec<Value> {
        logged(&self.log, method, path_part)
    }

    /// Registers with the CPO; returns a client with TOKEN_C and the CPO's endpoints.
    async fn register(&self, token_a: &str, cpo_versions: &str) -> (Client, Vec<Endpoint>) {
        let r = register_partner(
            &self.server,
            &self.base,
            &self.token_b,
            role("EMSP", self.party),
            std::slice::from_ref(&self.version),
            token_a,
            cpo_versions,
        )
        .await;
        (
            Client::new(r.token_c.clone(), encoding_of(&r.version)),
            r.endpoints,
        )
    }

    /// Pushes a token to the CPO and keeps it for real-time authorization.
    async fn token(&self, client: &Client, endpoints: &[Endpoint], uid: &str, wl: &str) {
        let tk = json!({"country_code": "NL", "party_id": self.party, "uid": uid, "type": "RFID",
            "contract_id": format!("NL-{}-C{uid}", self.party), "issuer": self.party,
            "valid": true, "whitelist": wl, "last_updated": "2024-01-01T00:00:00Z"});
        let st = client
            .put_object(
                &url_of(endpoints, ModuleId::Tokens, InterfaceRole::Receiver),
                &["NL", self.party, uid],
                &tk,
            )
            .await
            .unwrap();
        assert!(st == 200 || st == 201, "{st}");
        self.server.storage.put(
            &ModuleId::Tokens,
            &InterfaceRole::Sender,
            vec![uid.into()],
            tk,
        );
    }
}

/// 0.25/kWh + 0.50 per session, 20 % VAT.
async fn put_tariff(api_url: &str, id: &str) {
    let (s, tariff) = api(
        reqwest::Method::PUT,
        format!("{api_url}/ocpi/tariffs/{id}"),
        Some(
            json!({"currency": "EUR", "elements": [{"price_components": [
            {"type": "ENERGY", "price": 0.25, "vat": 20.0, "step_size": 1},
            {"type": "FLAT", "price": 0.50, "vat": 20.0, "step_size": 1}]}]}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{tariff}");
}

async fn put_location(api_url: &str, evses: Value) {
    let (s, loc) = api(
        reqwest::Method::PUT,
        format!("{api_url}/ocpi/locations/LOC1"),
        Some(location(evses)),
    )
    .await;
    assert_eq!(s, 200, "{loc}");
}

/// A partner issued by the operator and registered by `e`.
async fn partner(csms: &RunningCsms, e: &Emsp) -> (Client, Vec<Endpoint>, i64) {
    let api_url = format!("http://{}/api", csms.api_addr);
    let (s, p) = api(
        reqwest::Method::POST,
        format!("{api_url}/ocpi/partners"),
        Some(json!({"name": e.party})),
    )
    .await;
    assert_eq!(s, 201, "{p}");
    let versions = csms.ocpi.as_ref().unwrap().versions_url();
    let (client, endpoints) = e.register(p["token_a"].as_str().unwrap(), &versions).await;
    (client, endpoints, p["id"].as_i64().unwrap())
}

/// A 1.6 charge of 10 kWh over an hour on connector `c`; returns the OCPI session id.
async fn charge16(
    p: &Peer<ocpp16::Ocpp16>,
    station: &str,
    c: i64,
    tag: &str,
    stop: bool,
) -> String {
    // Each charge at its own time (the same start twice is one transaction, retransmitted).
    static N: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let now = chrono::Utc::now() - chrono::TimeDelta::hours(100 - n);
    let st = call(
        p,
        "StartTransaction",
        json!({"connectorId": c, "idTag": tag, "meterStart": 1000, "timestamp": t(now, 0)}),
    )
    .await;
    assert_eq!(st["idTagInfo"]["status"], "Accepted", "{st}");
    let tx = st["transactionId"].as_i64().unwrap();
    call(
        p,
        "MeterValues",
        json!({"connectorId": c, "transactionId": tx, "meterValue": [{"timestamp": t(now, 30),
            "sampledValue": [{"value": "6000", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]}),
    )
    .await;
    if stop {
        call(
            p,
            "StopTransaction",
            json!({"transactionId": tx, "meterStop": 11000, "timestamp": t(now, 60), "idTag": tag}),
        )
        .await;
    }
    format!("{station}-{tx}")
}

// ---------------------------------------------------------------- the tests

/// Defect 1: the bridge learns of transactions through memory after the OCPP commit. Here it
/// is stopped before the station charges (as a crash would lose what it had not written):
/// after the restart the eMSP gets the session and the priced CDR, and a further restart
/// sends nothing again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_the_bridge_missed_gets_its_cdr_exactly_once_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let first = csms(&dir).await;
    let api_url = format!("http://{}/api", first.api_addr);
    let versions = first.ocpi.as_ref().unwrap().versions_url();
    let e = emsp(&versions, "MSP", VersionNumber::V2_2_1).await;
    let (client, endpoints, pid) = partner(&first, &e).await;
    e.token(&client, &endpoints, "TOKR", "ALWAYS").await;
    put_tariff(&api_url, "T1").await;
    let p16 = station16(&first, "CS16", vec![]).await;
    put_location(
        &api_url,
        json!([{"station": "CS16", "evse": 1, "connectors": [connector("T1")]}]),
    )
    .await;
    // The bridge stops; the CSMS goes on: the station charges and stops.
    first.ocpi.as_ref().unwrap().shutdown().await;
    let sid = charge16(&p16, "CS16", 1, "TOKR", true).await;
    let missed = sid.clone();
    let (_, missed_tx) = sid.split_once('-').unwrap();
    // A second transaction that only started.
    let active = charge16(&p16, "CS16", 1, "TOKR", false).await;
    first.shutdown().await;
    assert!(
        e.stored(ModuleId::Cdrs, &["NL", "CPO", &missed]).is_none(),
        "the stopped bridge sent nothing"
    );

    let second = csms(&dir).await;
    let cdr = eventually("the CDR of the missed transaction", || async {
        e.stored(ModuleId::Cdrs, &["NL", "CPO", &missed])
    })
    .await;
    assert_eq!(dec(&cdr["total_cost"]["excl_vat"]), Decimal::new(300, 2));
    assert_eq!(dec(&cdr["total_energy"]), Decimal::from(10));
    let session = eventually("the missed session, completed", || async {
        e.stored(ModuleId::Sessions, &["NL", "CPO", &missed])
            .filter(|s| s["status"] == "COMPLETED")
    })
    .await;
    assert_eq!(session["cdr_token"]["uid"], "TOKR");
    eventually("the active session", || async {
        e.stored(ModuleId::Sessions, &["NL", "CPO", &active])
            .filter(|s| s["status"] == "ACTIVE")
    })
    .await;
    second.ocpi.as_ref().unwrap().flush().await;
    second.shutdown().await;

    // Once more: the reconciliation finds everything done.
    let third = csms(&dir).await;
    third.ocpi.as_ref().unwrap().flush().await;
    let api3 = format!("http://{}/api", third.api_addr);
    let (_, out) = api(
        reqwest::Method::GET,
        format!("{api3}/ocpi/partners/{pid}/outbox"),
        None,
    )
    .await;
    let out = out.as_array().unwrap().clone();
    let cdr_posts = out.iter().filter(|o| o["method"] == "POST").count();
    let session_puts = out
        .iter()
        .filter(|o| o["method"] == "PUT" && o["module"] == "sessions")
        .count();
    assert_eq!(cdr_posts, 1, "one CDR queued: {out:?}");
    assert_eq!(session_puts, 2, "one PUT per session: {out:?}");
    eventually("every push delivered", || async {
        let (_, out) = api(
            reqwest::Method::GET,
            format!("{api3}/ocpi/partners/{pid}/outbox"),
            None,
        )
        .await;
        out.as_array()?
            .iter()
            .all(|o| !o["delivered_at"].is_null())
            .then_some(())
    })
    .await;
    assert_eq!(
        e.logged("POST", "/cdrs").len(),
        1,
        "the eMSP got the CDR once"
    );
    println!("missed transaction {missed_tx} reconciled");
    third.shutdown().await;
}

/// Defect 2: the connector names a tariff that is not published: no CDR with a made-up cost
/// is sent; the failure is visible; once the tariff is published the priced CDR goes out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cdr_that_cannot_be_priced_is_held_until_it_can() {
    let dir = tempfile::tempdir().unwrap();
    let c = csms(&dir).await;
    let api_url = format!("http://{}/api", c.api_addr);
    let versions = c.ocpi.as_ref().unwrap().versions_url();
    let e = emsp(&versions, "MSP", VersionNumber::V2_2_1).await;
    let (client, endpoints, _) = partner(&c, &e).await;
    e.token(&client, &endpoints, "TOKP", "ALWAYS").await;
    let p16 = station16(&c, "CS16", vec![]).await;
    put_location(
        &api_url,
        json!([{"station": "CS16", "evse": 1, "connectors": [connector("T404")]}]),
    )
    .await;
    let sid = charge16(&p16, "CS16", 1, "TOKP", true).await;
    let cpo = c.ocpi.as_ref().unwrap();
    cpo.flush().await;
    let unpriced = cpo.unpriced();
    assert_eq!(unpriced.len(), 1, "{unpriced:?}");
    assert_eq!(unpriced[0]["session_id"], json!(sid));
    assert!(unpriced[0]["error"].as_str().unwrap().contains("T404"));
    let (s, listed) = api(
        reqwest::Method::GET,
        format!("{api_url}/ocpi/unpriced"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(listed[0]["session_id"], json!(sid), "shown to the operator");
    eventually("the completed session", || async {
        e.stored(ModuleId::Sessions, &["NL", "CPO", &sid])
            .filter(|s| s["status"] == "COMPLETED")
    })
    .await;
    assert!(
        e.stored(ModuleId::Cdrs, &["NL", "CPO", &sid]).is_none(),
        "no CDR without a price"
    );
    // The tariff is published: the CDR is priced and sent.
    put_tariff(&api_url, "T404").await;
    let cdr = eventually("the priced CDR", || async {
        e.stored(ModuleId::Cdrs, &["NL", "CPO", &sid])
    })
    .await;
    assert_eq!(dec(&cdr["total_cost"]["excl_vat"]), Decimal::new(300, 2));
    assert_eq!(dec(&cdr["total_cost"]["incl_vat"]), Decimal::new(360, 2));
    assert_eq!(
        dec(&cdr["total_energy_cost"]["excl_vat"]),
        Decimal::new(250, 2)
    );
    assert_eq!(
        dec(&cdr["total_fixed_cost"]["excl_vat"]),
        Decimal::new(50, 2)
    );
    cpo.flush().await;
    assert!(cpo.unpriced().is_empty());
    let session = eventually("the session with its cost", || async {
        e.stored(ModuleId::Sessions, &["NL", "CPO", &sid])
            .filter(|s| s["total_cost"].is_object())
    })
    .await;
    assert_eq!(
        dec(&session["total_cost"]["excl_vat"]),
        Decimal::new(300, 2)
    );
    c.shutdown().await;
}

/// Defect 3: a station that does not answer START_SESSION: TIMEOUT after the configured
/// time, and the command's token is not kept (an Authorize with it is refused).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_station_gives_timeout_and_the_command_token_is_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let c = csms_with(
        &dir,
        OcpiFileSettings {
            command_timeout_seconds: Some(1),
            ..Default::default()
        },
    )
    .await;
    let api_url = format!("http://{}/api", c.api_addr);
    let versions = c.ocpi.as_ref().unwrap().versions_url();
    let e = emsp(&versions, "MSP", VersionNumber::V2_2_1).await;
    let (client, endpoints, _) = partner(&c, &e).await;
    put_tariff(&api_url, "T1").await;
    let p16 = station16(&c, "CS16", vec!["RemoteStartTransaction"]).await;
    put_location(
        &api_url,
        json!([{"station": "CS16", "evse": 1, "connectors": [connector("T1")]}]),
    )
    .await;
    let commands = url_of(&endpoints, ModuleId::Commands, InterfaceRole::Receiver);
    let body = json!({"location_id": "LOC1", "evse_uid": "CS16-1",
        "token": {"country_code": "NL", "party_id": "MSP", "uid": "CMDTOK", "type": "APP_USER",
            "contract_id": "NL-MSP-CMD", "issuer": "MSP", "valid": true, "whitelist": "ALLOWED",
            "last_updated": "2024-01-01T00:00:00Z"},
        "response_url": e.server.command_response_url(&VersionNumber::V2_2_1, &CommandType::StartSession, "s1")});
    let r = client
        .send_command(&commands, &CommandType::StartSession, &body)
        .await
        .unwrap();
    assert_eq!(r.result.to_string(), "ACCEPTED");
    assert_eq!(r.timeout, 1, "the configured command timeout");
    let result = eventually("the command result", || async {
        e.results
            .lock()
            .unwrap()
            .iter()
            .find(|(_, i, _)| i == "s1")
            .map(|(_, _, r)| r.clone())
    })
    .await;
    assert_eq!(result, "TIMEOUT");
    // The token of the command that failed is not kept.
    let a = call(&p16, "Authorize", json!({"idTag": "CMDTOK"})).await;
    assert_eq!(a["idTagInfo"]["status"], "Invalid", "{a}");
    c.shutdown().await;
}

/// Defect 4: two eMSPs; each sees only the sessions and CDRs of its tokens, sets profiles only
/// on its sessions and starts sessions only with its tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_only_see_and_steer_their_own_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let c = csms(&dir).await;
    let api_url = format!("http://{}/api", c.api_addr);
    let versions = c.ocpi.as_ref().unwrap().versions_url();
    let a = emsp(&versions, "MSP", VersionNumber::V2_2_1).await;
    let b = emsp(&versions, "MS2", VersionNumber::V2_2_1).await;
    let (ca, ea, _) = partner(&c, &a).await;
    let (cb, eb, _) = partner(&c, &b).await;
    a.token(&ca, &ea, "TOKA", "ALWAYS").await;
    b.token(&cb, &eb, "TOKB", "ALWAYS").await;
    put_tariff(&api_url, "T1").await;
    let p16 = station16(&c, "CS16", vec![]).await;
    put_location(
        &api_url,
        json!([{"station": "CS16", "evse": 1, "connectors": [connector("T1")]},
               {"station": "CS16", "evse": 2, "connectors": [connector("T1")]}]),
    )
    .await;
    let sa = charge16(&p16, "CS16", 1, "TOKA", false).await;
    let sb = charge16(&p16, "CS16", 2, "TOKB", false).await;
    c.ocpi.as_ref().unwrap().flush().await;

    let sessions = url_of(&ea, ModuleId::Sessions, InterfaceRole::Sender);
    let (mine, _) = ca
        .get_all::<Value>(&sessions, &PageQuery::default())
        .await
        .unwrap();
    let ids: Vec<&str> = mine.iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(ids, vec![sa.as_str()], "a sees only its session");
    let (theirs, _) = cb
        .get_all::<Value>(&sessions, &PageQuery::default())
        .await
        .unwrap();
    let ids: Vec<&str> = theirs.iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(ids, vec![sb.as_str()], "b sees only its session");
    let err = ca.get_object::<Value>(&sessions, &[&sb]).await.unwrap_err();
    assert_eq!(err.http_status(), Some(404), "{err}");

    // Charging profiles: on its own session only.
    let profiles = url_of(&ea, ModuleId::ChargingProfiles, InterfaceRole::Receiver);
    let set = |id: &str| -> ocpi::v221::SetChargingProfile {
        serde_json::from_value(json!({
            "charging_profile": {"charging_rate_unit": "A",
                "charging_profile_period": [{"start_period": 0, "limit": 16}]},
            "response_url": a.server.charging_profile_response_url(
                &VersionNumber::V2_2_1, ChargingProfileResultKind::Set, id),
        }))
        .unwrap()
    };
    let r = ca
        .set_charging_profile(&profiles, &sb, &set("pb"))
        .await
        .unwrap();
    assert_eq!(r.result.to_string(), "UNKNOWN_SESSION");
    let r = ca
        .set_charging_profile(&profiles, &sa, &set("pa"))
        .await
        .unwrap();
    assert_eq!(r.result.to_string(), "ACCEPTED");

    // Commands: no START_SESSION with another party's token, no STOP_SESSION of its session.
    let commands = url_of(&ea, ModuleId::Commands, InterfaceRole::Receiver);
    let r = ca
        .send_command(
            &commands,
            &CommandType::StartSession,
            &json!({"location_id": "LOC1", "evse_uid": "CS16-1",
                "token": {"country_code": "NL", "party_id": "MS2", "uid": "TOKB", "type": "RFID",
                    "contract_id": "NL-MS2-CTOKB", "issuer": "MS2", "valid": true,
                    "whitelist": "ALWAYS", "last_updated": "2024-01-01T00:00:00Z"},
                "response_url": a.server.command_response_url(
                    &VersionNumber::V2_2_1, &CommandType::StartSession, "x1")}),
        )
        .await
        .unwrap();
    assert_eq!(r.result.to_string(), "REJECTED");
    let r = ca
        .send_command(
            &commands,
            &CommandType::StopSession,
            &json!({"session_id": sb, "response_url": a.server.command_response_url(
                &VersionNumber::V2_2_1, &CommandType::StopSession, "x2")}),
        )
        .await
        .unwrap();
    assert_eq!(r.result.to_string(), "UNKNOWN_SESSION");

    // CDRs: each its own.
    for (sid, tag) in [(&sa, "TOKA"), (&sb, "TOKB")] {
        let (_, tx) = sid.split_once('-').unwrap();
        call(
            &p16,
            "StopTransaction",
            json!({"transactionId": tx.parse::<i64>().unwrap(), "meterStop": 11000,
                "timestamp": t(chrono::Utc::now(), 0), "idTag": tag}),
        )
        .await;
    }
    c.ocpi.as_ref().unwrap().flush().await;
    let cdrs = url_of(&ea, ModuleId::Cdrs, InterfaceRole::Sender);
    let (mine, _) = ca
        .get_all::<Value>(&cdrs, &PageQuery::default())
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["cdr_token"]["uid"], "TOKA");
    let err = cb.get_object::<Value>(&cdrs, &[&sa]).await.unwrap_err();
    assert_eq!(err.http_status(), Some(404), "{err}");
    c.shutdown().await;
}

/// Defect 6: tariffs and locations made before a partner registered reach it after its
/// registration, tariffs first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_registered_later_gets_the_current_locations_and_tariffs() {
    let dir = tempfile::tempdir().unwrap();
    let c = csms(&dir).await;
    let api_url = format!("http://{}/api", c.api_addr);
    put_tariff(&api_url, "T1").await;
    let _p16 = station16(&c, "CS16", vec![]).await;
    put_location(
        &api_url,
        json!([{"station": "CS16", "evse": 1, "connectors": [connector("T1")]}]),
    )
    .await;
    let versions = c.ocpi.as_ref().unwrap().versions_url();
    let e = emsp(&versions, "MSP", VersionNumber::V2_2_1).await;
    partner(&c, &e).await;
    let loc = eventually("the location at the late partner", || async {
        e.stored(ModuleId::Locations, &["NL", "CPO", "LOC1"])
    })
    .await;
    assert_eq!(loc["evses"][0]["uid"], "CS16-1");
    let tariff = eventually("the tariff at the late partner", || async {
        e.stored(ModuleId::Tariffs, &["NL", "CPO", "T1"])
    })
    .await;
    assert_eq!(tariff["currency"], "EUR");
    let order: Vec<String> = e
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|(m, _, _)| m == "PUT")
        .map(|(_, p, _)| p.clone())
        .collect();
    assert!(order[0].contains("/tariffs/"), "{order:?}");
    assert!(order[1].contains("/locations/"), "{order:?}");
    c.shutdown().await;
}

/// Defect 7: a 2.1.1 eMSP gets the location status PATCH, the session and the CDR in 2.1.1
/// form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2_1_1_emsp_gets_status_session_and_cdr_in_2_1_1_form() {
    let dir = tempfile::tempdir().unwrap();
    let c = csms(&dir).await;
    let api_url = format!("http://{}/api", c.api_addr);
    let versions = c.ocpi.as_ref().unwrap().versions_url();
    let e = emsp(&versions, "MSP", VersionNumber::V2_1_1).await;
    let (client, endpoints, _) = partner(&c, &e).await;
    let (_, partners) = api(
        reqwest::Method::GET,
        format!("{api_url}/ocpi/partners"),
        None,
    )
    .await;
    assert_eq!(partners[0]["version"], "2.1.1", "{partners}");
    // A 2.1.1 token (no country code or party id: the URL names them).
    let tk = json!({"uid": "TOK11", "type": "RFID", "auth_id": "NL-MSP-C11", "issuer": "MSP",
        "valid": true, "whitelist": "ALWAYS", "last_updated": "2024-01-01T00:00:00Z"});
    let st = client
        .put_object(
            &url_of(&endpoints, ModuleId::Tokens, InterfaceRole::Receiver),
            &["NL", "MSP", "TOK11"],
            &tk,
        )
        .await
        .unwrap();
    assert!(st == 200 || st == 201, "{st}");
    put_tariff(&api_url, "T1").await;
    let p16 = station16(&c, "CS16", vec![]).await;
    put_location(
        &api_url,
        json!([{"station": "CS16", "evse": 1, "connectors": [connector("T1")]}]),
    )
    .await;
    eventually("the location at the 2.1.1 eMSP", || async {
        e.stored(ModuleId::Locations, &["NL", "CPO", "LOC1"])
    })
    .await;
    call(
        &p16,
        "StatusNotification",
        json!({"connectorId": 1, "errorCode": "NoError", "status": "Available"}),
    )
    .await;
    let patch = eventually("the status PATCH", || async {
        e.logged("PATCH", "/locations/NL/CPO/LOC1/CS16-1")
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(patch["status"], "AVAILABLE");
    let sid = charge16(&p16, "CS16", 1, "TOK11", true).await;
    let put = eventually("the session PUT", || async {
        e.logged("PUT", &format!("/sessions/NL/CPO/{sid}"))
            .into_iter()
            .next()
    })
    .await;
    println!("2.1.1 session: {put}");
    assert_eq!(put["auth_id"], "NL-MSP-C11", "{put}");
    assert!(put.get("cdr_token").is_none(), "{put}");
    assert_eq!(
        put["location"]["id"], "LOC1",
        "2.1.1 sessions hold the location"
    );
    let cdr = eventually("the CDR POST", || async {
        e.logged("POST", "/cdrs").into_iter().next()
    })
    .await;
    println!("2.1.1 CDR: {cdr}");
    assert_eq!(cdr["auth_id"], "NL-MSP-C11", "{cdr}");
    assert!(cdr.get("stop_date_time").is_some(), "{cdr}");
    assert!(cdr.get("end_date_time").is_none(), "{cdr}");
    assert_eq!(cdr["location"]["id"], "LOC1", "{cdr}");
    // The 2.1.1 CDR carries the whole location, its connector as published (not zeroed).
    let connector = &cdr["location"]["evses"][0]["connectors"][0];
    assert_eq!(connector["amperage"], 32, "{cdr}");
    assert_eq!(connector["voltage"], 230, "{cdr}");
    assert_eq!(
        dec(&cdr["total_cost"]),
        Decimal::new(300, 2),
        "excl. VAT as a number"
    );
    assert_eq!(dec(&cdr["total_energy"]), Decimal::from(10));
    let done = eventually("the completing session PATCH", || async {
        e.logged("PATCH", &format!("/sessions/NL/CPO/{sid}"))
            .into_iter()
            .find(|b| b["status"] == "COMPLETED")
    })
    .await;
    assert!(done.get("end_datetime").is_some(), "{done}");
    assert_eq!(dec(&done["total_cost"]), Decimal::new(300, 2), "{done}");
    c.shutdown().await;
}

/// Defect 8: an eMSP that never answers real-time authorization: the station's Authorize is
/// answered after the configured wait from the list (ALLOWED_OFFLINE) or refused (NEVER; 2.x
/// `Unknown`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_emsp_does_not_hold_up_authorize() {
    let dir = tempfile::tempdir().unwrap();
    let c = csms_with(
        &dir,
        OcpiFileSettings {
            realtime_timeout_ms: Some(500),
            ..Default::default()
        },
    )
    .await;
    let versions = c.ocpi.as_ref().unwrap().versions_url();
    let e = emsp(&versions, "MSP", VersionNumber::V2_2_1).await;
    let (client, endpoints, _) = partner(&c, &e).await;
    e.token(&client, &endpoints, "OFF", "ALLOWED_OFFLINE").await;
    e.token(&client, &endpoints, "NEV", "NEVER").await;
    let p16 = station16(&c, "CS16", vec![]).await;
    let (_c201, p201) = station::<ocpp201::Ocpp201>(
        &c,
        "CS201",
        r#"{"reason":"PowerUp","chargingStation":{"vendorName":"ACME","model":"W201"}}"#,
        vec![],
    )
    .await;
    e.hang.store(true, Ordering::SeqCst);
    // The bound is generous (the eMSP is given 0.5 s); without one, the station waits 30 s.
    let bound = Duration::from_secs(15);
    let started = std::time::Instant::now();
    let a = tokio::time::timeout(bound, call(&p16, "Authorize", json!({"idTag": "OFF"})))
        .await
        .expect("Authorize answered");
    assert_eq!(
        a["idTagInfo"]["status"], "Accepted",
        "ALLOWED_OFFLINE: the list"
    );
    let a = tokio::time::timeout(bound, call(&p16, "Authorize", json!({"idTag": "NEV"})))
        .await
        .expect("Authorize answered");
    assert_eq!(a["idTagInfo"]["status"], "Invalid", "NEVER: refused");
    let a = tokio::time::timeout(
        bound,
        call(
            &p201,
            "Authorize",
            json!({"idToken": {"idToken": "NEV", "type": "ISO14443"}}),
        ),
    )
    .await
    .expect("Authorize answered");
    assert_eq!(
        a["idTokenInfo"]["status"], "Unknown",
        "NEVER on 2.x: Unknown"
    );
    assert_eq!(
        e.logged("POST", "/authorize").len(),
        3,
        "each asked in real time"
    );
    println!(
        "three Authorize calls with a hanging eMSP answered in {} ms",
        started.elapsed().as_millis()
    );
    c.shutdown().await;
}

/// Defect 1, the other half: a CDR is stored with its POST in one database transaction; when
/// the outbox cannot be written, the CDR is not stored either (so the reconciliation at the
/// next start makes it again instead of believing it sent).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cdr_and_its_post_are_stored_together_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("csms.db").display());
    let store = SqliteStore::connect(&url).await.unwrap();
    let db = store.ocpi_db().unwrap();
    let cdr = ObjectRow {
        module: "cdrs".into(),
        role: "SENDER".into(),
        ids: "[\"S1\"]".into(),
        seq: 1,
        object: "{\"id\":\"S1\"}".into(),
    };
    let post = OutboxRow {
        id: 0,
        partner_id: 7,
        method: "POST".into(),
        module: "cdrs".into(),
        path: "[]".into(),
        body: "{\"id\":\"S1\"}".into(),
        created_at: "2024-01-01T00:00:00Z".into(),
        attempts: 0,
        last_error: None,
        delivered_at: None,
        result: None,
    };
    db.put_objects_with_outbox(std::slice::from_ref(&cdr), std::slice::from_ref(&post))
        .await
        .unwrap();
    assert_eq!(db.objects().await.unwrap().len(), 1);
    assert_eq!(db.outbox(7, 10).await.unwrap().len(), 1);
    // The outbox cannot be written: the second CDR is not stored either.
    sqlx::query("ALTER TABLE ocpi_outbox RENAME TO ocpi_outbox_away")
        .execute(store.pool())
        .await
        .unwrap();
    let second = ObjectRow {
        ids: "[\"S2\"]".into(),
        seq: 2,
        ..cdr
    };
    assert!(db
        .put_objects_with_outbox(&[second], &[post])
        .await
        .is_err());
    sqlx::query("ALTER TABLE ocpi_outbox_away RENAME TO ocpi_outbox")
        .execute(store.pool())
        .await
        .unwrap();
    let objects = db.objects().await.unwrap();
    assert_eq!(objects.len(), 1, "rolled back: {objects:?}");
    assert_eq!(db.outbox(7, 10).await.unwrap().len(), 1);
}

/// Defect 1 with a history longer than one page of the reconciliation (500): transactions
/// written while the bridge was away each get their session after the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reconciliation_reads_every_page_of_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let first = csms(&dir).await;
    let api_url = format!("http://{}/api", first.api_addr);
    let versions = first.ocpi.as_ref().unwrap().versions_url();
    let e = emsp(&versions, "MSP", VersionNumber::V2_2_1).await;
    let (client, endpoints, _) = partner(&first, &e).await;
    e.token(&client, &endpoints, "TOKM", "ALWAYS").await;
    put_tariff(&api_url, "T1").await;
    let _p16 = station16(&first, "CS16", vec![]).await;
    put_location(
        &api_url,
        json!([{"station": "CS16", "evse": 1, "connectors": [connector("T1")]}]),
    )
    .await;
    first.shutdown().await;
    // 600 transactions the bridge never heard of, written to the database directly.
    let url = format!("sqlite:{}", dir.path().join("csms.db").display());
    let store = SqliteStore::connect(&url).await.unwrap();
    let base = chrono::Utc::now() - chrono::TimeDelta::days(30);
    for i in 0..600 {
        store
            .start_transaction_16(&csms_reference::store::TxStart {
                station_id: "CS16".into(),
                connector_id: 1,
                id_token: "TOKM".into(),
                meter_start: "0".into(),
                timestamp: t(base, i),
                reservation_id: None,
                payload: "{}".into(),
                received_at: t(base, i),
            })
            .await
            .unwrap();
    }
    drop(store);
    let second = csms(&dir).await;
    let mut sessions = 0;
    for _ in 0..1200 {
        sessions = e
            .server
            .storage
            .list(&ModuleId::Sessions, &InterfaceRole::Receiver)
            .len();
        if sessions >= 600 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(sessions, 600, "a session for every transaction");
    second.shutdown().await;
}
