//! The OCPI CPO bridge end to end: the CSMS on loopback with OCPI enabled, an eMSP built with
//! the `ocpi` crate's server and client that registers through the credentials handshake and
//! pushes tokens, and simulated OCPP 1.6 and 2.0.1 stations charging with those tokens. The
//! eMSP receives the location status PATCHes, the session and its updates, and a CDR priced
//! with the tariff attached to the connector; START_SESSION and UNLOCK_CONNECTOR round trips
//! give their asynchronous results; and pushes queued while the eMSP is down are delivered in
//! order after it comes back, across a CSMS restart.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use csms_reference::config::Settings;
use csms_reference::ocpi_cpo::db::{ObjectRow, OutboxRow, PartnerRow};
use csms_reference::ocpi_cpo::OcpiFileSettings;
use csms_reference::server::{start, start_with_store, RunningCsms};
use ocpi::client::Client;
use ocpi::credentials::generate_token;
use ocpi::handlers::ChargingProfileResultKind;
use ocpi::server::{router, MemoryStorage, Server, Storage};
use ocpi::transport::{PageQuery, TokenEncoding};
use ocpi::v221::{CommandType, Endpoint, InterfaceRole, ModuleId, VersionNumber};
use rust_decimal::Decimal;
use serde_json::{json, Value};

mod common;

use common::partner::{
    connector, emsp_modules, location, log_request, logged, ocpi_settings, partner_server,
    recording_handlers, register_partner, role, stored, token, url_of, RequestLog, ResultLog,
};
use common::station::{call, station};
use common::{api, backends, dec, eventually, t};

// ---------------------------------------------------------------- CSMS

fn settings(database_url: String) -> Settings {
    ocpi_settings(database_url, OcpiFileSettings::default())
}

async fn csms(dir: &tempfile::TempDir) -> RunningCsms {
    let url = format!("sqlite:{}", dir.path().join("csms.db").display());
    start(settings(url)).await.unwrap()
}

// ---------------------------------------------------------------- the eMSP

type Log = RequestLog;

struct Emsp {
    server: Arc<Server<MemoryStorage>>,
    base: String,
    /// Every request that reached the eMSP while up: method, path, body.
    log: Log,
    /// While true, the eMSP answers 503 to everything.
    down: Arc<AtomicBool>,
    results: ResultLog,
    token_b: String,
}

async fn emsp(listener: tokio::net::TcpListener, cpo_versions: &str) -> Emsp {
    let base = format!("http://{}/ocpi", listener.local_addr().unwrap());
    let token_b = generate_token();
    let results = ResultLog::default();
    let server = partner_server(
        &base,
        &token_b,
        cpo_versions,
        &VersionNumber::V2_2_1,
        emsp_modules(),
        role("EMSP", "MSP"),
        recording_handlers(&results),
    );
    let log: Log = Arc::default();
    let down = Arc::new(AtomicBool::new(false));
    serve_emsp(listener, server.clone(), log.clone(), down.clone());
    Emsp {
        server,
        base,
        log,
        down,
        results,
        token_b,
    }
}

fn serve_emsp(
    listener: tokio::net::TcpListener,
    server: Arc<Server<MemoryStorage>>,
    log: Log,
    down: Arc<AtomicBool>,
) {
    let app = router(server).layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            let log = log.clone();
            let down = down.clone();
            async move {
                use axum::response::IntoResponse;
                if down.load(Ordering::SeqCst) {
                    return (axum::http::StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
                }
                next.run(log_request(&log, req).await).await
            }
        },
    ));
    tokio::spawn(async move { axum::serve(listener, app).await });
}

impl Emsp {
    fn stored(&self, module: ModuleId, ids: &[&str]) -> Option<Value> {
        stored(&self.server, module, ids)
    }

    fn logged(&self, method: &str, path_part: &str) -> Vec<Value> {
        logged(&self.log, method, path_part)
    }

    /// Registers with the CPO with `token_a`; returns TOKEN_C and the CPO's endpoints.
    async fn register(&self, token_a: &str, cpo_versions: &str) -> (String, Vec<Endpoint>) {
        let r = register_partner(
            &self.server,
            &self.base,
            &self.token_b,
            role("EMSP", "MSP"),
            &[VersionNumber::V2_2_1],
            token_a,
            cpo_versions,
        )
        .await;
        (r.token_c, r.endpoints)
    }
}

async fn evse_status(e: &Emsp, uid: &str, want: &str) {
    eventually(&format!("{uid} {want} at the eMSP"), || async {
        let loc = e.stored(ModuleId::Locations, &["NL", "CPO", "LOC1"])?;
        let evse = loc["evses"]
            .as_array()?
            .iter()
            .find(|x| x["uid"] == uid)?
            .clone();
        (evse["status"] == want).then_some(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emsp_registers_and_sees_locations_sessions_cdrs_and_commands() {
    for b in backends("the OCPI end-to-end scenario", "csms_ocpi").await {
        println!("backend {}", b.name);
        let csms = start_with_store(settings("sqlite::memory:".into()), b.store.clone())
            .await
            .unwrap();
        scenario(csms).await;
        b.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ocpi_storage_on_every_backend() {
    for b in backends("the OCPI storage", "csms_ocpi").await {
        let name = b.name;
        let db = b.store.ocpi_db().expect("the SQL stores have OCPI storage");
        let p = PartnerRow {
            id: 7,
            token_hash: "h1".into(),
            state: "pending".into(),
            registration: None,
            name: Some("eMSP".into()),
            created_at: "2024-01-01T00:00:00Z".into(),
            updated_at: "2024-01-01T00:00:00Z".into(),
        };
        db.put_partner(&p).await.unwrap();
        db.put_partner(&PartnerRow {
            token_hash: "h2".into(),
            state: "registered".into(),
            registration: Some("{}".into()),
            name: None,
            ..p.clone()
        })
        .await
        .unwrap();
        let got = db.partners().await.unwrap();
        assert_eq!(got.len(), 1, "{name}");
        assert_eq!(got[0].token_hash, "h2", "{name}");
        assert_eq!(
            got[0].name.as_deref(),
            Some("eMSP"),
            "{name}: the name is kept"
        );
        for (seq, id) in [(1, "B"), (2, "A")] {
            db.put_object(&ObjectRow {
                module: "tokens".into(),
                role: "RECEIVER".into(),
                ids: format!("[\"{id}\"]"),
                seq,
                object: format!("{{\"uid\":\"{id}\"}}"),
            })
            .await
            .unwrap();
        }
        db.delete_object("tokens", "RECEIVER", "[\"B\"]")
            .await
            .unwrap();
        let objects = db.objects().await.unwrap();
        assert_eq!(objects.len(), 1, "{name}");
        assert_eq!(objects[0].object, "{\"uid\":\"A\"}", "{name}");
        let row = |body: &str| OutboxRow {
            id: 0,
            partner_id: 7,
            method: "PATCH".into(),
            module: "locations".into(),
            path: "[]".into(),
            body: body.into(),
            created_at: "2024-01-01T00:00:00Z".into(),
            attempts: 0,
            last_error: None,
            delivered_at: None,
            result: None,
        };
        let first = db.push_outbox(&row("1")).await.unwrap();
        let second = db.push_outbox(&row("2")).await.unwrap();
        assert!(second > first, "{name}");
        assert_eq!(db.outbox_partners().await.unwrap(), vec![7], "{name}");
        db.outbox_failed(first, "down").await.unwrap();
        let next = db.next_outbox(7).await.unwrap().unwrap();
        assert_eq!((next.id, next.attempts), (first, 1), "{name}");
        assert_eq!(next.last_error.as_deref(), Some("down"), "{name}");
        db.outbox_delivered(first, "2024-01-01T00:00:01Z", Some("url"))
            .await
            .unwrap();
        assert_eq!(
            db.next_outbox(7).await.unwrap().unwrap().body,
            "2",
            "{name}"
        );
        db.outbox_delivered(second, "2024-01-01T00:00:02Z", None)
            .await
            .unwrap();
        assert!(db.next_outbox(7).await.unwrap().is_none(), "{name}");
        assert!(db.outbox_partners().await.unwrap().is_empty(), "{name}");
        let all = db.outbox(7, 10).await.unwrap();
        assert_eq!(all[0].result.as_deref(), Some("url"), "{name}");
        b.cleanup().await;
    }
}

async fn scenario(csms: RunningCsms) {
    let api_url = format!("http://{}/api", csms.api_addr);
    let cpo_versions = csms.ocpi.as_ref().unwrap().versions_url();

    // Registration: the operator issues TOKEN_A, the eMSP registers with it.
    let (s, partner) = api(
        reqwest::Method::POST,
        format!("{api_url}/ocpi/partners"),
        Some(json!({"name": "Test eMSP"})),
    )
    .await;
    assert_eq!(s, 201, "{partner}");
    assert_eq!(partner["versions_url"], json!(cpo_versions));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let e = emsp(listener, &cpo_versions).await;
    let (token_c, endpoints) = e
        .register(partner["token_a"].as_str().unwrap(), &cpo_versions)
        .await;
    let (_, partners) = api(
        reqwest::Method::GET,
        format!("{api_url}/ocpi/partners"),
        None,
    )
    .await;
    assert_eq!(partners[0]["state"], "registered");
    assert_eq!(partners[0]["version"], "2.2.1");
    assert_eq!(partners[0]["name"], "Test eMSP");
    assert_eq!(partners[0]["roles"][0]["party_id"], "MSP");
    assert!(partners[0]["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["identifier"] == "cdrs" && x["role"] == "RECEIVER"));
    let pid = partners[0]["id"].as_i64().unwrap();
    let (_, doc) = api(
        reqwest::Method::GET,
        format!("{api_url}/openapi.json"),
        None,
    )
    .await;
    assert!(doc["paths"]["/api/ocpi/partners"]["post"].is_object());
    assert!(doc["paths"]["/api/ocpi/locations/{id}"]["put"].is_object());

    // Tokens pushed by the eMSP; the NEVER one is known to the eMSP for real-time checks.
    let client = Client::new(token_c.clone(), TokenEncoding::Base64);
    let tokens_url = url_of(&endpoints, ModuleId::Tokens, InterfaceRole::Receiver);
    for (uid, wl, valid) in [
        ("TOK16", "ALWAYS", true),
        ("TOK201", "NEVER", true),
        ("BLK", "ALWAYS", false),
        ("TOK21", "ALLOWED_OFFLINE", true),
    ] {
        let tk = token(uid, wl, valid);
        let st = client
            .put_object(&tokens_url, &["NL", "MSP", uid], &tk)
            .await
            .unwrap();
        assert_eq!(st, 201);
        e.server.storage.put(
            &ModuleId::Tokens,
            &InterfaceRole::Sender,
            vec![uid.into()],
            tk,
        );
    }

    // A tariff (0.25/kWh + 0.50 per session, 20 % VAT), attached to both connectors.
    let (s, tariff) = api(
        reqwest::Method::PUT,
        format!("{api_url}/ocpi/tariffs/T1"),
        Some(
            json!({"currency": "EUR", "elements": [{"price_components": [
            {"type": "ENERGY", "price": 0.25, "vat": 20.0, "step_size": 1},
            {"type": "FLAT", "price": 0.50, "vat": 20.0, "step_size": 1}]}]}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{tariff}");
    // Bad input is named.
    let (s, bad) = api(
        reqwest::Method::PUT,
        format!("{api_url}/ocpi/locations/LOC1"),
        Some(json!({"address": "x", "evses": [{"station": "CS16"}]})),
    )
    .await;
    assert_eq!(s, 400);
    assert!(bad["error"].as_str().unwrap().contains("evses[0].evse"));

    // Stations, then the location that holds their EVSEs.
    let (_c16, p16) = station::<ocpp16::Ocpp16>(
        &csms,
        "CS16",
        r#"{"chargePointVendor":"ACME","chargePointModel":"W16"}"#,
        vec![
            ("RemoteStartTransaction", r#"{"status":"Accepted"}"#),
            ("RemoteStopTransaction", r#"{"status":"Accepted"}"#),
            ("SetChargingProfile", r#"{"status":"Accepted"}"#),
            ("UnlockConnector", r#"{"status":"Unlocked"}"#),
        ],
    )
    .await;
    let (_c201, p201) = station::<ocpp201::Ocpp201>(
        &csms,
        "CS201",
        r#"{"reason":"PowerUp","chargingStation":{"vendorName":"ACME","model":"W201"}}"#,
        vec![
            ("RequestStartTransaction", r#"{"status":"Accepted"}"#),
            ("UnlockConnector", r#"{"status":"UnlockFailed"}"#),
        ],
    )
    .await;
    let (_c21, p21) = station::<ocpp21::Ocpp21>(
        &csms,
        "CS21",
        r#"{"reason":"PowerUp","chargingStation":{"vendorName":"ACME","model":"W21"}}"#,
        vec![
            ("ReserveNow", r#"{"status":"Accepted"}"#),
            ("CancelReservation", r#"{"status":"Accepted"}"#),
        ],
    )
    .await;
    let (s, loc) = api(
        reqwest::Method::PUT,
        format!("{api_url}/ocpi/locations/LOC1"),
        Some(location(json!([
            {"station": "CS16", "evse": 1, "evse_id": "NL*CPO*E16", "connectors": [connector("T1")]},
            {"station": "CS201", "evse": 1, "evse_id": "NL*CPO*E201", "connectors": [connector("T1")]},
            {"station": "CS21", "evse": 1, "evse_id": "NL*CPO*E21", "connectors": [connector("T1")]},
        ]))),
    )
    .await;
    assert_eq!(s, 200, "{loc}");
    assert_eq!(loc["evses"][0]["uid"], "CS16-1");
    assert_eq!(loc["evses"][0]["status"], "UNKNOWN");
    // The eMSP got the location with its metadata.
    let pushed = eventually("the location at the eMSP", || async {
        e.stored(ModuleId::Locations, &["NL", "CPO", "LOC1"])
    })
    .await;
    assert_eq!(pushed["time_zone"], "Europe/Amsterdam");
    assert_eq!(pushed["operator"]["name"], "Town Charging");
    assert_eq!(pushed["opening_times"]["twentyfourseven"], true);

    // Status changes reach the eMSP as PATCHes (the delay is printed, not asserted).
    let sent = std::time::Instant::now();
    call(
        &p16,
        "StatusNotification",
        json!({"connectorId": 1, "errorCode": "NoError", "status": "Available"}),
    )
    .await;
    eventually("the status PATCH", || async {
        (!e.logged("PATCH", "/locations/NL/CPO/LOC1/CS16-1")
            .is_empty())
        .then_some(())
    })
    .await;
    println!(
        "StatusNotification to PATCH at the eMSP: {} ms (polled every 50 ms)",
        sent.elapsed().as_millis()
    );
    evse_status(&e, "CS16-1", "AVAILABLE").await;
    let now = chrono::Utc::now();
    call(
        &p201,
        "StatusNotification",
        json!({"timestamp": t(now, 0), "connectorStatus": "Available", "evseId": 1, "connectorId": 1}),
    )
    .await;
    evse_status(&e, "CS201-1", "AVAILABLE").await;

    // Authorization with eMSP tokens: list, real-time, blocked; 1.6 parent id = group id.
    let a = call(&p16, "Authorize", json!({"idTag": "TOK16"})).await;
    assert_eq!(a["idTagInfo"]["status"], "Accepted");
    assert_eq!(a["idTagInfo"]["parentIdTag"], "GROUP1");
    let a = call(&p16, "Authorize", json!({"idTag": "BLK"})).await;
    assert_eq!(a["idTagInfo"]["status"], "Blocked");
    let before = e.logged("POST", "/authorize").len();
    let a = call(
        &p201,
        "Authorize",
        json!({"idToken": {"idToken": "TOK201", "type": "ISO14443"}}),
    )
    .await;
    assert_eq!(a["idTokenInfo"]["status"], "Accepted");
    assert_eq!(a["idTokenInfo"]["groupIdToken"]["idToken"], "GROUP1");
    let asked = e.logged("POST", "/authorize");
    assert_eq!(asked.len(), before + 1, "NEVER asks the eMSP in real time");
    assert_eq!(asked[before]["location_id"], "LOC1");

    // 1.6: 10 kWh.
    let st = call(
        &p16,
        "StartTransaction",
        json!({"connectorId": 1, "idTag": "TOK16", "meterStart": 1000, "timestamp": t(now, 0)}),
    )
    .await;
    assert_eq!(st["idTagInfo"]["status"], "Accepted");
    let tx16 = st["transactionId"].as_i64().unwrap();
    call(
        &p16,
        "StatusNotification",
        json!({"connectorId": 1, "errorCode": "NoError", "status": "Charging"}),
    )
    .await;
    evse_status(&e, "CS16-1", "CHARGING").await;
    let sid16 = format!("CS16-{tx16}");
    let session = eventually("the 1.6 session", || async {
        e.stored(ModuleId::Sessions, &["NL", "CPO", &sid16])
    })
    .await;
    assert_eq!(session["status"], "ACTIVE");
    assert_eq!(session["cdr_token"]["uid"], "TOK16");
    assert_eq!(session["location_id"], "LOC1");
    call(
        &p16,
        "MeterValues",
        json!({"connectorId": 1, "transactionId": tx16, "meterValue": [{"timestamp": t(now, 30),
            "sampledValue": [{"value": "6000", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]}),
    )
    .await;
    let patch = eventually("the session update", || async {
        e.logged("PATCH", &format!("/sessions/NL/CPO/{sid16}"))
            .into_iter()
            .find(|b| b["kwh"].is_number() && dec(&b["kwh"]) == Decimal::from(5))
    })
    .await;
    // cost so far: 5 kWh x 0.25 + 0.50
    assert_eq!(dec(&patch["total_cost"]["excl_vat"]), Decimal::new(175, 2));
    call(
        &p16,
        "StopTransaction",
        json!({"transactionId": tx16, "meterStop": 11000, "timestamp": t(now, 60), "idTag": "TOK16"}),
    )
    .await;
    let cdr = eventually("the 1.6 CDR", || async {
        e.stored(ModuleId::Cdrs, &["NL", "CPO", &sid16])
    })
    .await;
    // 10 kWh x 0.25 + 0.50 = 3.00, incl. 20 % VAT 3.60
    assert_eq!(dec(&cdr["total_cost"]["excl_vat"]), Decimal::new(300, 2));
    assert_eq!(dec(&cdr["total_cost"]["incl_vat"]), Decimal::new(360, 2));
    assert_eq!(dec(&cdr["total_energy"]), Decimal::from(10));
    assert_eq!(
        dec(&cdr["total_energy_cost"]["excl_vat"]),
        Decimal::new(250, 2)
    );
    assert_eq!(
        dec(&cdr["total_fixed_cost"]["excl_vat"]),
        Decimal::new(50, 2)
    );
    assert_eq!(dec(&cdr["total_time"]), Decimal::from(1));
    assert_eq!(cdr["cdr_location"]["evse_id"], "NL*CPO*E16");
    assert_eq!(cdr["tariffs"][0]["id"], "T1");
    let session = e
        .stored(ModuleId::Sessions, &["NL", "CPO", &sid16])
        .unwrap();
    assert_eq!(session["status"], "COMPLETED");
    assert_eq!(dec(&session["kwh"]), Decimal::from(10));
    // The CDR's URL at the eMSP (its Location answer) is recorded in the outbox.
    let (_, out) = api(
        reqwest::Method::GET,
        format!("{api_url}/ocpi/partners/{pid}/outbox"),
        None,
    )
    .await;
    let posted = out
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["method"] == "POST")
        .unwrap();
    assert!(posted["result"].as_str().unwrap().contains(&sid16));

    // 2.0.1 with the real-time token: 7.5 kWh.
    let ev = |seq: i64, kind: &str, trig: &str, min: i64, wh: &str| {
        json!({"eventType": kind, "timestamp": t(now, min), "triggerReason": trig, "seqNo": seq,
            "transactionInfo": {"transactionId": "TX201"},
            "idToken": {"idToken": "TOK201", "type": "ISO14443"},
            "evse": {"id": 1, "connectorId": 1},
            "meterValue": [{"timestamp": t(now, min), "sampledValue": [{"value": wh.parse::<f64>().unwrap(),
                "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}}]}]})
    };
    let r = call(
        &p201,
        "TransactionEvent",
        ev(0, "Started", "Authorized", 0, "0"),
    )
    .await;
    assert_eq!(r["idTokenInfo"]["status"], "Accepted");
    call(
        &p201,
        "TransactionEvent",
        ev(1, "Updated", "MeterValuePeriodic", 20, "3000"),
    )
    .await;
    call(
        &p201,
        "TransactionEvent",
        ev(2, "Ended", "StopAuthorized", 40, "7500"),
    )
    .await;
    let cdr = eventually("the 2.0.1 CDR", || async {
        e.stored(ModuleId::Cdrs, &["NL", "CPO", "CS201-TX201"])
    })
    .await;
    // 7.5 kWh x 0.25 + 0.50 = 2.375, incl. VAT 2.85
    assert_eq!(dec(&cdr["total_cost"]["excl_vat"]), Decimal::new(2375, 3));
    assert_eq!(dec(&cdr["total_cost"]["incl_vat"]), Decimal::new(285, 2));
    assert_eq!(cdr["auth_method"], "AUTH_REQUEST");
    assert!(!e.logged("PATCH", "/sessions/NL/CPO/CS201-TX201").is_empty());

    // 2.1 with an ALLOWED_OFFLINE token (asked in real time while the eMSP is up): 6 kWh.
    let ev21 = |seq: i64, kind: &str, trig: &str, min: i64, wh: f64| {
        json!({"eventType": kind, "timestamp": t(now, min), "triggerReason": trig, "seqNo": seq,
            "transactionInfo": {"transactionId": "TX21"},
            "idToken": {"idToken": "TOK21", "type": "ISO14443"},
            "evse": {"id": 1, "connectorId": 1},
            "meterValue": [{"timestamp": t(now, min), "sampledValue": [{"value": wh,
                "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}}]}]})
    };
    let r = call(
        &p21,
        "TransactionEvent",
        ev21(0, "Started", "Authorized", 0, 0.0),
    )
    .await;
    assert_eq!(r["idTokenInfo"]["status"], "Accepted");
    call(
        &p21,
        "TransactionEvent",
        ev21(1, "Ended", "StopAuthorized", 30, 6000.0),
    )
    .await;
    let cdr = eventually("the 2.1 CDR", || async {
        e.stored(ModuleId::Cdrs, &["NL", "CPO", "CS21-TX21"])
    })
    .await;
    // 6 kWh x 0.25 + 0.50 = 2.00, incl. VAT 2.40
    assert_eq!(dec(&cdr["total_cost"]["excl_vat"]), Decimal::new(200, 2));
    assert_eq!(dec(&cdr["total_cost"]["incl_vat"]), Decimal::new(240, 2));
    assert_eq!(cdr["auth_method"], "AUTH_REQUEST");
    // A transaction the station reports without any meter value still owes the flat fee.
    for (seq, kind, trig, min) in [
        (2, "Started", "Authorized", 40),
        (3, "Ended", "StopAuthorized", 70),
    ] {
        let mut ev = ev21(seq, kind, trig, min, 0.0);
        ev["transactionInfo"]["transactionId"] = json!("TX21B");
        ev.as_object_mut().unwrap().remove("meterValue");
        call(&p21, "TransactionEvent", ev).await;
    }
    let cdr = eventually("the CDR without meter values", || async {
        e.stored(ModuleId::Cdrs, &["NL", "CPO", "CS21-TX21B"])
    })
    .await;
    assert_eq!(dec(&cdr["total_energy"]), Decimal::ZERO);
    assert_eq!(dec(&cdr["total_cost"]["excl_vat"]), Decimal::new(50, 2));
    assert_eq!(dec(&cdr["total_time"]), Decimal::new(5, 1));

    // The CDRs are served on the CPO's Sender interface too.
    let (cdrs, _) = client
        .get_all::<Value>(
            &url_of(&endpoints, ModuleId::Cdrs, InterfaceRole::Sender),
            &PageQuery::default(),
        )
        .await
        .unwrap();
    assert_eq!(cdrs.len(), 4);

    // Commands: each synchronous ACCEPTED, then the station's answer as the async result.
    let commands = url_of(&endpoints, ModuleId::Commands, InterfaceRole::Receiver);
    let mut n = 0;
    let mut command = |cmd: CommandType, mut body: Value| {
        n += 1;
        let id = format!("c{n}");
        body["response_url"] =
            json!(e
                .server
                .command_response_url(&VersionNumber::V2_2_1, &cmd, &id));
        let (client, commands, e) = (&client, &commands, &e);
        async move {
            let r = client.send_command(commands, &cmd, &body).await.unwrap();
            assert_eq!(r.result.to_string(), "ACCEPTED", "{cmd}");
            eventually("the command result", || async {
                e.results
                    .lock()
                    .unwrap()
                    .iter()
                    .find(|(_, i, _)| *i == id)
                    .map(|(_, _, r)| r.clone())
            })
            .await
        }
    };
    let at16 = json!({"location_id": "LOC1", "evse_uid": "CS16-1"});
    let with = |mut v: Value, k: &str, x: Value| {
        v[k] = x;
        v
    };
    let r = command(
        CommandType::StartSession,
        with(at16.clone(), "token", token("TOK16", "ALWAYS", true)),
    )
    .await;
    assert_eq!(r, "ACCEPTED");
    // The station starts the session it was asked for; STOP_SESSION stops it.
    let st = call(
        &p16,
        "StartTransaction",
        json!({"connectorId": 1, "idTag": "TOK16", "meterStart": 11000, "timestamp": t(now, 70)}),
    )
    .await;
    let sid = format!("CS16-{}", st["transactionId"]);
    eventually("the remote-started session", || async {
        e.stored(ModuleId::Sessions, &["NL", "CPO", &sid])
    })
    .await;
    let r = command(CommandType::StopSession, json!({"session_id": sid})).await;
    assert_eq!(r, "ACCEPTED");
    // A session this eMSP was never told of is unknown to it.
    let unknown = client
        .send_command(
            &commands,
            &CommandType::StopSession,
            &json!({"session_id": "NOT-A-SESSION", "response_url": e.server.command_response_url(
                &VersionNumber::V2_2_1, &CommandType::StopSession, "unknown")}),
        )
        .await
        .unwrap();
    assert_eq!(unknown.result.to_string(), "UNKNOWN_SESSION");
    // A charging profile for the (still active) session becomes a 1.6 TxProfile.
    let profiles = url_of(
        &endpoints,
        ModuleId::ChargingProfiles,
        InterfaceRole::Receiver,
    );
    let set: ocpi::v221::SetChargingProfile = serde_json::from_value(json!({
        "charging_profile": {"charging_rate_unit": "A",
            "charging_profile_period": [{"start_period": 0, "limit": 16.5}]},
        "response_url": e.server.charging_profile_response_url(
            &VersionNumber::V2_2_1, ChargingProfileResultKind::Set, "p1"),
    }))
    .unwrap();
    let r = client
        .set_charging_profile(&profiles, &sid, &set)
        .await
        .unwrap();
    assert_eq!(r.result.to_string(), "ACCEPTED");
    let got = eventually("the charging profile result", || async {
        e.results
            .lock()
            .unwrap()
            .iter()
            .find(|(k, i, _)| k == "profile" && i == "p1")
            .map(|(_, _, r)| r.clone())
    })
    .await;
    assert_eq!(got, "ACCEPTED");
    let (_, installed) = api(
        reqwest::Method::GET,
        format!("{api_url}/stations/CS16/charging-profiles"),
        None,
    )
    .await;
    let txp = installed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["purpose"] == "TxProfile")
        .unwrap_or_else(|| panic!("{installed}"))
        .clone();
    assert!(txp["profile"].to_string().contains("16.5"), "{txp}");
    let r = command(
        CommandType::UnlockConnector,
        with(at16.clone(), "connector_id", json!("1")),
    )
    .await;
    assert_eq!(r, "ACCEPTED");
    let r = command(
        CommandType::StartSession,
        json!({"token": token("TOK201", "NEVER", true), "location_id": "LOC1", "evse_uid": "CS201-1"}),
    )
    .await;
    assert_eq!(r, "ACCEPTED");
    // RESERVE_NOW and CANCEL_RESERVATION on 2.1.
    let r = command(
        CommandType::ReserveNow,
        json!({"token": token("TOK21", "ALLOWED_OFFLINE", true), "expiry_date": t(now, 180),
            "reservation_id": "R1", "location_id": "LOC1", "evse_uid": "CS21-1"}),
    )
    .await;
    assert_eq!(r, "ACCEPTED");
    let r = command(
        CommandType::CancelReservation,
        json!({"reservation_id": "R1"}),
    )
    .await;
    assert_eq!(r, "ACCEPTED");
    // A station that refuses gives REJECTED.
    let r = command(
        CommandType::UnlockConnector,
        json!({"location_id": "LOC1", "evse_uid": "CS201-1", "connector_id": "1"}),
    )
    .await;
    assert_eq!(r, "FAILED");
    // An unknown location is refused synchronously with 2003.
    let err = client
        .send_command(
            &commands,
            &CommandType::StartSession,
            &json!({"response_url": "http://127.0.0.1:1/x", "token": token("TOK16", "ALWAYS", true),
                "location_id": "NOPE"}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status_code().map(|c| c.0), Some(2003));
    csms.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_wait_for_a_partner_that_is_down_in_order_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let first = csms(&dir).await;
    let api_url = format!("http://{}/api", first.api_addr);
    let cpo_versions = first.ocpi.as_ref().unwrap().versions_url();
    let (_, partner) = api(
        reqwest::Method::POST,
        format!("{api_url}/ocpi/partners"),
        None,
    )
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let e = emsp(listener, &cpo_versions).await;
    let (token_c, endpoints) = e
        .register(partner["token_a"].as_str().unwrap(), &cpo_versions)
        .await;
    let (_c16, p16) = station::<ocpp16::Ocpp16>(
        &first,
        "CS16",
        r#"{"chargePointVendor":"ACME","chargePointModel":"W16"}"#,
        vec![],
    )
    .await;
    let (s, _) = api(
        reqwest::Method::PUT,
        format!("{api_url}/ocpi/locations/LOC1"),
        Some(location(
            json!([{"station": "CS16", "evse": 1, "connectors": [connector("T1")]}]),
        )),
    )
    .await;
    assert_eq!(s, 200);
    evse_status(&e, "CS16-1", "UNKNOWN").await;

    // The partner goes down; five status changes are queued.
    e.down.store(true, Ordering::SeqCst);
    let statuses = [
        ("Available", "AVAILABLE"),
        ("Charging", "CHARGING"),
        ("Faulted", "OUTOFORDER"),
        ("Unavailable", "INOPERATIVE"),
        ("Available", "AVAILABLE"),
    ];
    for (ocpp, _) in statuses {
        call(
            &p16,
            "StatusNotification",
            json!({"connectorId": 1, "errorCode": "NoError", "status": ocpp}),
        )
        .await;
    }
    let pid = partner["id"].as_i64().unwrap();
    let queued = eventually("five queued PATCHes that failed once", || async {
        let (_, out) = api(
            reqwest::Method::GET,
            format!("{api_url}/ocpi/partners/{pid}/outbox"),
            None,
        )
        .await;
        let pending: Vec<Value> = out
            .as_array()?
            .iter()
            .filter(|o| o["delivered_at"].is_null())
            .cloned()
            .collect();
        (pending.len() == 5 && pending[0]["attempts"].as_i64()? >= 1).then_some(pending)
    })
    .await;
    assert!(queued.iter().all(|o| o["method"] == "PATCH"));

    // The CSMS restarts while the partner is still down.
    drop(_c16);
    first.shutdown().await;
    let second = csms(&dir).await;
    let api2 = format!("http://{}/api", second.api_addr);
    let (_, partners) = api(reqwest::Method::GET, format!("{api2}/ocpi/partners"), None).await;
    assert_eq!(partners[0]["state"], "registered");
    // TOKEN_C still works after the restart.
    let client = Client::new(token_c, TokenEncoding::Base64);
    let locs = url_of(&endpoints, ModuleId::Locations, InterfaceRole::Sender).replace(
        &cpo_versions.replace("/versions", ""),
        &second
            .ocpi
            .as_ref()
            .unwrap()
            .versions_url()
            .replace("/versions", ""),
    );
    let (all, _) = client
        .get_all::<Value>(&locs, &PageQuery::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 1);

    // The partner comes back: every PATCH arrives, in the order of the changes.
    let before = e.logged("PATCH", "/locations/").len();
    e.down.store(false, Ordering::SeqCst);
    let got = eventually("the five PATCHes", || async {
        let l = e.logged("PATCH", "/locations/NL/CPO/LOC1/CS16-1");
        (l.len() >= before + 5).then_some(l)
    })
    .await;
    let order: Vec<&str> = got[before..]
        .iter()
        .map(|b| b["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        statuses.iter().map(|(_, o)| *o).collect::<Vec<_>>(),
        "delivered in order, none lost"
    );
    evse_status(&e, "CS16-1", "AVAILABLE").await;
    second.shutdown().await;
}
