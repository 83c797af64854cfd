//! Operating the OCPI CPO bridge with partners: one partner that hangs does not delay the
//! pushes of another; a partner that is down opens its circuit (pushes stay queued, delivered
//! in order after the cool-down); requests over a partner's rate limit get 429 with
//! `Retry-After`, and a partner's own 429 is waited out; the audit log records requests both
//! ways with their ids and without tokens; a hub gets routing headers and may PUT ClientInfo;
//! the metrics show each partner's health; and the audit log pages and prunes on SQLite and
//! PostgreSQL (when `OCPP_TEST_POSTGRES_URL` is set).

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use csms_reference::config::{FileSettings, Settings};
use csms_reference::ocpi_cpo::db::{OcpiDb, OutboxRow};
use csms_reference::ocpi_cpo::ops::{AuditDb, AuditRow};
use csms_reference::ocpi_cpo::OcpiFileSettings;
use csms_reference::server::{start, RunningCsms};
use csms_reference::store::{PgStore, SqliteStore};
use ocpi::client::Client;
use ocpi::credentials::generate_token;
use ocpi::handlers::Handlers;
use ocpi::server::{router, MemoryStorage, Server, Storage};
use ocpi::transport::TokenEncoding;
use ocpi::v221::{CredentialsRole, Endpoint, InterfaceRole, ModuleId, VersionNumber};
use ocpp_core::transport::StationClient;
use serde_json::{json, Value};

mod common;

use common::partner::{partner_server, register_partner, role, url_of};
use common::station::{call as call16, connect_to, NoCalls};
use common::{api, eventually_polls, loopback, sqlite_url};

fn settings(dir: &tempfile::TempDir, ocpi: OcpiFileSettings) -> Settings {
    let f = FileSettings {
        metrics_public: Some(true),
        ocpi: Some(OcpiFileSettings {
            listen: Some("127.0.0.1:0".into()),
            retry_max_seconds: Some(1),
            ..ocpi
        }),
        ..loopback(sqlite_url(dir))
    };
    Settings::validate(f).unwrap()
}

async fn metrics(csms: &RunningCsms) -> String {
    common::metrics(&format!("http://{}", csms.api_addr)).await
}

/// Polls `f` until it gives a value (at most 30 s: a bound, not a timing assertion).
async fn eventually<T, F, Fut>(what: &str, f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    eventually_polls(what, 600, f).await
}

// ---------------------------------------------------------------- a station

/// A 1.6 station, booted; its peer for calls.
async fn station16(
    csms: &RunningCsms,
    id: &str,
) -> (StationClient, ocpp_core::Peer<ocpp16::Ocpp16>) {
    connect_to(
        &csms.ocpp_addr.to_string(),
        id,
        r#"{"chargePointVendor":"ACME","chargePointModel":"W16"}"#,
        Arc::new(NoCalls),
        Duration::from_secs(30),
    )
    .await
}

// ---------------------------------------------------------------- partners

/// How a partner answers requests to its module endpoints.
const NORMAL: u8 = 0;
/// Never answers (the request hangs).
const HANG: u8 = 1;
/// 503 to everything.
const DOWN: u8 = 2;
/// 429 with `Retry-After: 1` once, then normal.
const LIMIT_ONCE: u8 = 3;
/// 429 with `Retry-After: u64::MAX` seconds once, then normal.
const LIMIT_HUGE: u8 = 4;

/// A request a partner answered normally: method, path, headers (lower-case names), body.
type Seen = (String, String, Vec<(String, String)>, Value);

struct Partner {
    server: Arc<Server<MemoryStorage>>,
    base: String,
    log: Arc<Mutex<Vec<Seen>>>,
    mode: Arc<AtomicU8>,
    token_b: String,
    role: CredentialsRole,
}

async fn partner(role: CredentialsRole, cpo_versions: &str) -> Partner {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/ocpi", listener.local_addr().unwrap());
    let token_b = generate_token();
    let server = partner_server(
        &base,
        &token_b,
        cpo_versions,
        &VersionNumber::V2_2_1,
        vec![
            (ModuleId::Locations, InterfaceRole::Receiver),
            (ModuleId::Sessions, InterfaceRole::Receiver),
            (ModuleId::Cdrs, InterfaceRole::Receiver),
            (ModuleId::Tariffs, InterfaceRole::Receiver),
            (ModuleId::Tokens, InterfaceRole::Sender),
        ],
        role.clone(),
        Handlers::default(),
    );
    let log: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let mode = Arc::new(AtomicU8::new(NORMAL));
    let (l, m) = (log.clone(), mode.clone());
    let app = router(server.clone()).layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            let (log, mode) = (l.clone(), m.clone());
            async move {
                use axum::response::IntoResponse;
                let module = req.uri().path().contains("/receiver/");
                match mode.load(Ordering::SeqCst) {
                    HANG if module => {
                        std::future::pending::<()>().await;
                        unreachable!()
                    }
                    DOWN if module => {
                        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, "down")
                            .into_response()
                    }
                    LIMIT_ONCE if module => {
                        mode.store(NORMAL, Ordering::SeqCst);
                        return (
                            axum::http::StatusCode::TOO_MANY_REQUESTS,
                            [("retry-after", "1")],
                            axum::Json(json!({"status_code": 2000,
                                "timestamp": "2024-01-01T00:00:00Z"})),
                        )
                            .into_response();
                    }
                    LIMIT_HUGE if module => {
                        mode.store(NORMAL, Ordering::SeqCst);
                        return (
                            axum::http::StatusCode::TOO_MANY_REQUESTS,
                            [("retry-after", "18446744073709551615")],
                            axum::Json(json!({"status_code": 2000,
                                "timestamp": "2024-01-01T00:00:00Z"})),
                        )
                            .into_response();
                    }
                    _ => {}
                }
                let (parts, body) = req.into_parts();
                let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
                let headers = parts
                    .headers
                    .iter()
                    .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                    .collect();
                let seen = (
                    parts.method.to_string(),
                    parts.uri.path().to_owned(),
                    headers,
                    serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                );
                let resp = next
                    .run(axum::extract::Request::from_parts(
                        parts,
                        axum::body::Body::from(bytes),
                    ))
                    .await;
                log.lock().unwrap().push(seen);
                resp
            }
        },
    ));
    tokio::spawn(async move { axum::serve(listener, app).await });
    Partner {
        server,
        base,
        log,
        mode,
        token_b,
        role,
    }
}

impl Partner {
    /// Gets a TOKEN_A from the operator API and registers; returns its partner id, TOKEN_C
    /// and the CPO's endpoints.
    async fn register(&self, csms: &RunningCsms) -> (u64, String, Vec<Endpoint>) {
        let (s, p) = api(
            reqwest::Method::POST,
            format!("{}/ocpi/partners", csms.api_url()),
            Some(json!({"name": self.role.party_id.0})),
        )
        .await;
        assert_eq!(s, 201, "{p}");
        let versions = p["versions_url"].as_str().unwrap().to_owned();
        let r = register_partner(
            &self.server,
            &self.base,
            &self.token_b,
            self.role.clone(),
            &[VersionNumber::V2_2_1],
            p["token_a"].as_str().unwrap(),
            &versions,
        )
        .await;
        (p["id"].as_u64().unwrap(), r.token_c, r.endpoints)
    }

    fn tariff(&self, id: &str) -> Option<Value> {
        self.server.storage.get(
            &ModuleId::Tariffs,
            &InterfaceRole::Receiver,
            &["NL".into(), "CPO".into(), id.into()],
        )
    }

    /// The tariff PUTs the partner accepted, in order (ids).
    fn tariff_puts(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, p, _, _)| m == "PUT" && p.contains("/receiver/tariffs/"))
            .map(|(_, p, _, _)| p.rsplit('/').next().unwrap().to_owned())
            .collect()
    }
}

fn tariff(price: f64) -> Value {
    json!({"currency": "EUR", "elements": [{"price_components": [
        {"type": "ENERGY", "price": price, "step_size": 1}]}]})
}

async fn put_tariff(csms: &RunningCsms, id: &str, price: f64) {
    let (s, b) = api(
        reqwest::Method::PUT,
        format!("{}/ocpi/tariffs/{id}", csms.api_url()),
        Some(tariff(price)),
    )
    .await;
    assert_eq!(s, 200, "{b}");
}

async fn health(csms: &RunningCsms, id: u64) -> Value {
    let (_, partners) = api(
        reqwest::Method::GET,
        format!("{}/ocpi/partners", csms.api_url()),
        None,
    )
    .await;
    partners
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap()["health"]
        .clone()
}

// ---------------------------------------------------------------- tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_partner_delays_nobody_and_a_down_one_opens_its_circuit() {
    let dir = tempfile::tempdir().unwrap();
    let csms = start(settings(
        &dir,
        OcpiFileSettings {
            circuit_failures: Some(2),
            circuit_cooldown_seconds: Some(1),
            ..Default::default()
        },
    ))
    .await
    .unwrap();
    let cpo = csms.ocpi.clone().unwrap();
    let versions = cpo.versions_url();
    // A tariff before any partner: each gets it when it registers (the bridge's catch-up of
    // a new partner), which also tells when that catch-up is behind us.
    put_tariff(&csms, "T0", 0.20).await;
    // Registered first, so that a delivery loop over partners in id order would meet it first.
    let hanging = partner(role("EMSP", "HNG"), &versions).await;
    let healthy = partner(role("EMSP", "MSP"), &versions).await;
    let down = partner(role("EMSP", "DWN"), &versions).await;
    hanging.mode.store(HANG, Ordering::SeqCst);
    down.mode.store(DOWN, Ordering::SeqCst);
    let (hang_id, _, _) = hanging.register(&csms).await;
    let (ok_id, ok_token_c, _) = healthy.register(&csms).await;
    let (down_id, down_token_c, down_endpoints) = down.register(&csms).await;
    for id in [hang_id, ok_id, down_id] {
        eventually("the new partner's catch-up queued", || async {
            let (_, o) = api(
                reqwest::Method::GET,
                format!("{}/ocpi/partners/{id}/outbox", csms.api_url()),
                None,
            )
            .await;
            (!o.as_array()?.is_empty()).then_some(())
        })
        .await;
    }

    put_tariff(&csms, "T1", 0.25).await;
    put_tariff(&csms, "T2", 0.30).await;
    // The healthy partner gets them all while the hanging one holds its first push (the
    // client waits 30 s for an answer) and the down one fails. (The bound, 15 s, is generous
    // for three pushes, and shorter than the 30 s a delivery loop shared by all partners
    // would wait for the hanging one.)
    eventually_polls("T0, T1 and T2 at the healthy partner", 300, || async {
        (healthy.tariff_puts().len() == 3).then_some(())
    })
    .await;
    assert_eq!(healthy.tariff_puts(), ["T0", "T1", "T2"]);
    assert!(hanging.tariff("T0").is_none());

    // The down partner's circuit opens; its pushes stay queued.
    let h = eventually("the down partner's circuit open", || async {
        let h = health(&csms, down_id).await;
        (h["circuit"] == "open").then_some(h)
    })
    .await;
    assert!(h["consecutive_failures"].as_u64().unwrap() >= 2, "{h}");
    assert_eq!(h["outbox_backlog"], 3, "{h}");
    let m = metrics(&csms).await;
    assert!(
        m.contains(&format!(
            "csms_ocpi_partner_outbox_backlog{{partner=\"{down_id}\"}} 3"
        )),
        "{m}"
    );
    assert!(
        m.contains(&format!(
            "csms_ocpi_partner_outbox_backlog{{partner=\"{hang_id}\"}} 3"
        )),
        "{m}"
    );
    assert!(
        m.contains(&format!(
            "csms_ocpi_pushes_total{{partner=\"{ok_id}\",result=\"delivered\"}} 3"
        )),
        "{m}"
    );
    assert!(
        m.contains(&format!(
            "csms_ocpi_partner_circuit_state{{partner=\"{ok_id}\"}} 0"
        )),
        "{m}"
    );
    assert!(
        m.contains(&format!(
            "csms_ocpi_partner_last_success_timestamp_seconds{{partner=\"{ok_id}\"}} "
        )),
        "{m}"
    );
    assert!(
        m.contains(&format!(
            "csms_ocpi_requests_total{{partner=\"{ok_id}\",status=\"200\"}} "
        )),
        "{m}"
    );
    assert!(m.contains("# TYPE csms_ocpi_partner_consecutive_failures gauge"));
    let failures = m
        .lines()
        .find(|l| {
            l.starts_with(&format!(
                "csms_ocpi_partner_consecutive_failures{{partner=\"{down_id}\"}}"
            ))
        })
        .unwrap();
    assert_ne!(failures.rsplit(' ').next(), Some("0"), "{m}");

    // The open delivery circuit does not stop real-time authorization (its own requests go
    // to the partner's Sender interface, which answers): a station presenting a NEVER token
    // of that partner is Accepted.
    let never = json!({"country_code": "NL", "party_id": "DWN", "uid": "DWNRT", "type": "RFID",
        "contract_id": "NL-DWN-C1", "issuer": "DWN", "valid": true, "whitelist": "NEVER",
        "last_updated": "2024-01-01T00:00:00Z"});
    Client::new(down_token_c.clone(), TokenEncoding::Base64)
        .put_object(
            &url_of(&down_endpoints, ModuleId::Tokens, InterfaceRole::Receiver),
            &["NL", "DWN", "DWNRT"],
            &never,
        )
        .await
        .unwrap();
    down.server.storage.put(
        &ModuleId::Tokens,
        &InterfaceRole::Sender,
        vec!["DWNRT".into()],
        never,
    );
    let (_station, peer) = station16(&csms, "CS-DWN").await;
    let a = call16(&peer, "Authorize", json!({"idTag": "DWNRT"})).await;
    assert_eq!(a["idTagInfo"]["status"], "Accepted", "{a}");
    assert!(down
        .log
        .lock()
        .unwrap()
        .iter()
        .any(|(m, p, _, _)| m == "POST" && p.contains("/tokens/DWNRT/authorize")));
    assert_ne!(health(&csms, down_id).await["circuit"], "closed");

    // Back up: the half-open probe succeeds after the cool-down, and the rest follows in order.
    down.mode.store(NORMAL, Ordering::SeqCst);
    eventually("T0, T1 and T2 at the partner that was down", || async {
        (down.tariff_puts().len() == 3).then_some(())
    })
    .await;
    assert_eq!(down.tariff_puts(), ["T0", "T1", "T2"]);
    let h = eventually("the circuit closed", || async {
        let h = health(&csms, down_id).await;
        (h["circuit"] == "closed" && h["outbox_backlog"] == 0).then_some(h)
    })
    .await;
    assert_eq!(h["pushes_delivered"], 3, "{h}");

    // The audit log: our pushes to the healthy partner with the ids it received, its own
    // requests to us, no token anywhere.
    let seen_ids: Vec<String> = healthy
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|(m, _, _, _)| m == "PUT")
        .filter_map(|(_, _, h, _)| {
            h.iter()
                .find(|(k, _)| k == "x-request-id")
                .map(|(_, v)| v.clone())
        })
        .collect();
    assert_eq!(seen_ids.len(), 3);
    // (The log is written by a task: wait until it has the pushes.)
    let audit = eventually("the pushes in the audit log", || async {
        let (s, audit) = api(
            reqwest::Method::GET,
            format!("{}/ocpi/audit?partner={ok_id}&limit=1000", csms.api_url()),
            None,
        )
        .await;
        assert_eq!(s, 200, "{audit}");
        let items = audit["items"].as_array()?;
        seen_ids
            .iter()
            .all(|rid| items.iter().any(|r| r["request_id"] == rid.as_str()))
            .then_some(audit)
    })
    .await;
    let items = audit["items"].as_array().unwrap();
    for rid in &seen_ids {
        let row = items
            .iter()
            .find(|r| r["request_id"] == rid.as_str())
            .unwrap_or_else(|| panic!("no audit row for {rid}: {audit}"));
        assert_eq!(row["direction"], "out");
        assert_eq!(row["method"], "PUT");
        assert_eq!(row["module"], "tariffs");
        assert!(row["http_status"] == 200 || row["http_status"] == 201);
        assert_eq!(row["ocpi_status"], 1000);
        assert!(row["correlation_id"]
            .as_str()
            .is_some_and(|c| !c.is_empty()));
    }
    let inbound = items
        .iter()
        .find(|r| r["direction"] == "in" && r["module"] == "credentials")
        .unwrap_or_else(|| panic!("no credentials request audited: {audit}"));
    assert_eq!(inbound["method"], "POST");
    assert_eq!(inbound["party"], "NL*MSP");
    let text = audit.to_string();
    assert!(!text.contains(&ok_token_c) && !text.contains(&healthy.token_b));
    // Pagination: newest first, `before` continues.
    let (_, page1) = api(
        reqwest::Method::GET,
        format!("{}/ocpi/audit?partner={ok_id}&limit=2", csms.api_url()),
        None,
    )
    .await;
    let next = page1["next_before"].as_i64().unwrap();
    let (_, page2) = api(
        reqwest::Method::GET,
        format!(
            "{}/ocpi/audit?partner={ok_id}&limit=2&before={next}",
            csms.api_url()
        ),
        None,
    )
    .await;
    let ids: Vec<i64> = page1["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(page2["items"].as_array().unwrap())
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 4);
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    let (s, _) = api(
        reqwest::Method::GET,
        format!("{}/ocpi/audit?limit=0", csms.api_url()),
        None,
    )
    .await;
    assert_eq!(s, 400);
    let (_, doc) = api(
        reqwest::Method::GET,
        format!("{}/openapi.json", csms.api_url()),
        None,
    )
    .await;
    assert!(doc["paths"]["/api/ocpi/audit"]["get"].is_object());
    assert!(doc["paths"]["/api/ocpi/hubclientinfo"]["get"].is_object());
    csms.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let csms = start(settings(
        &dir,
        OcpiFileSettings {
            rate_limit_per_second: Some(1),
            rate_limit_burst: Some(8),
            ..Default::default()
        },
    ))
    .await
    .unwrap();
    let versions = csms.ocpi.as_ref().unwrap().versions_url();
    put_tariff(&csms, "T0", 0.20).await;
    let p = partner(role("EMSP", "MSP"), &versions).await;
    let (id, token_c, endpoints) = p.register(&csms).await;
    // The catch-up of the new partner (T0) is behind us before the 429 test below.
    eventually("T0 at the partner", || async {
        p.tariff("T0").is_some().then_some(())
    })
    .await;
    // Requests beyond the burst are refused with 429, Retry-After and OCPI status 2000, and
    // carry the request's ids back.
    let url = url_of(&endpoints, ModuleId::Tariffs, InterfaceRole::Sender);
    let http = reqwest::Client::new();
    let mut limited = None;
    for i in 0..30 {
        let r = http
            .get(&url)
            .header(
                "authorization",
                ocpi::transport::authorization_header(&token_c, TokenEncoding::Base64),
            )
            .header("x-request-id", format!("req-{i}"))
            .header("x-correlation-id", "corr-1")
            .send()
            .await
            .unwrap();
        if r.status().as_u16() == 429 {
            limited = Some((i, r));
            break;
        }
    }
    let (i, r) = limited.expect("a request over the limit");
    let retry_after: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    assert_eq!(r.headers()["x-request-id"], format!("req-{i}").as_str());
    assert_eq!(r.headers()["x-correlation-id"], "corr-1");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status_code"], 2000);
    let m = metrics(&csms).await;
    assert!(
        m.contains(&format!(
            "csms_ocpi_requests_total{{partner=\"{id}\",status=\"429\"}} "
        )),
        "{m}"
    );
    let limited_in = format!("csms_ocpi_rate_limited_total{{partner=\"{id}\",direction=\"in\"}} ");
    let n: u64 = m
        .lines()
        .find_map(|l| l.strip_prefix(limited_in.as_str()))
        .unwrap_or_else(|| panic!("no {limited_in} in {m}"))
        .trim()
        .parse()
        .unwrap();
    assert!(n >= 1, "{m}");
    // Callers without a known token over their (shared) limit are counted, not audited (a
    // flood of them must not flood the audit log).
    let mut refused = 0;
    for _ in 0..30 {
        let r = http
            .get(&url)
            .header("authorization", "Token bm90LWEtdG9rZW4=")
            .send()
            .await
            .unwrap();
        if r.status().as_u16() == 429 {
            refused += 1;
        }
    }
    assert!(refused > 0);
    let m = metrics(&csms).await;
    assert!(
        m.contains("csms_ocpi_requests_total{partner=\"unknown\",status=\"429\"} "),
        "{m}"
    );
    assert!(m.contains("csms_ocpi_audit_dropped_total 0"), "{m}");
    // (An audited request after them: once it is in the log, so would they be.)
    let _ = http
        .get(&url)
        .header(
            "authorization",
            ocpi::transport::authorization_header(&token_c, TokenEncoding::Base64),
        )
        .header("x-request-id", "after-the-flood")
        .send()
        .await
        .unwrap();
    let audit = eventually("the request after the flood audited", || async {
        let (_, audit) = api(
            reqwest::Method::GET,
            format!("{}/ocpi/audit?limit=1000", csms.api_url()),
            None,
        )
        .await;
        let items = audit["items"].as_array()?.clone();
        items
            .iter()
            .any(|r| r["request_id"] == "after-the-flood")
            .then_some(items)
    })
    .await;
    assert!(
        !audit
            .iter()
            .any(|r| r["partner_id"].is_null() && r["http_status"] == 429),
        "{audit:?}"
    );

    // The ocpi client waits Retry-After and gets through.
    let client = Client::new(token_c.clone(), TokenEncoding::Base64);
    let _: Vec<Value> = client.get(&url).await.unwrap();

    // A partner answering 429 is waited out, not counted as a failure.
    p.mode.store(LIMIT_ONCE, Ordering::SeqCst);
    put_tariff(&csms, "T1", 0.25).await;
    eventually("T1 after the partner's 429", || async {
        p.tariff("T1").is_some().then_some(())
    })
    .await;
    let h = health(&csms, id).await;
    assert_eq!(h["rate_limited_out"], 1, "{h}");
    assert_eq!(h["circuit"], "closed", "{h}");
    assert_eq!(h["pushes_delivered"], 2, "{h}");
    assert_eq!(p.tariff_puts(), ["T0", "T1"]);

    // A partner's absurd Retry-After (u64::MAX seconds) is clamped to the longest backoff
    // (1 s here): no overflow killing the partner's delivery, no push parked for ages.
    p.mode.store(LIMIT_HUGE, Ordering::SeqCst);
    put_tariff(&csms, "T2", 0.30).await;
    eventually("T2 after the partner's huge Retry-After", || async {
        p.tariff("T2").is_some().then_some(())
    })
    .await;
    let h = health(&csms, id).await;
    assert_eq!(h["rate_limited_out"], 2, "{h}");
    assert_eq!(p.tariff_puts(), ["T0", "T1", "T2"]);
    csms.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_gets_routing_headers_and_puts_client_info() {
    let dir = tempfile::tempdir().unwrap();
    let csms = start(settings(&dir, OcpiFileSettings::default()))
        .await
        .unwrap();
    let versions = csms.ocpi.as_ref().unwrap().versions_url();
    let hub = partner(role("HUB", "HUB"), &versions).await;
    let (id, token_c, endpoints) = hub.register(&csms).await;
    let (_, partners) = api(
        reqwest::Method::GET,
        format!("{}/ocpi/partners", csms.api_url()),
        None,
    )
    .await;
    assert_eq!(partners[0]["hub"], true);

    // The hub tells us of a party it connects.
    let info_url = url_of(&endpoints, ModuleId::HubClientInfo, InterfaceRole::Receiver);
    let client = Client::new(token_c.clone(), TokenEncoding::Base64);
    let info = json!({"party_id": "ABC", "country_code": "DE", "role": "EMSP",
        "status": "CONNECTED", "last_updated": "2024-01-01T00:00:00Z"});
    client
        .put_client_info(&info_url, "DE", "ABC", &info)
        .await
        .unwrap();
    let (_, infos) = api(
        reqwest::Method::GET,
        format!("{}/ocpi/hubclientinfo", csms.api_url()),
        None,
    )
    .await;
    assert_eq!(infos[0]["party_id"], "ABC", "{infos}");

    // A token of that party, pushed through the hub: stored, and audited as the party's.
    let tokens_url = url_of(&endpoints, ModuleId::Tokens, InterfaceRole::Receiver);
    let routed = client
        .clone()
        .with_routing(ocpi::transport::Routing::new(("DE", "ABC"), ("NL", "CPO")));
    let token = json!({"country_code": "DE", "party_id": "ABC", "uid": "HUBTOK", "type": "RFID",
        "contract_id": "DE-ABC-C1", "issuer": "ABC", "valid": true, "whitelist": "ALLOWED",
        "last_updated": "2024-01-01T00:00:00Z"});
    let st = routed
        .put_object(&tokens_url, &["DE", "ABC", "HUBTOK"], &token)
        .await
        .unwrap();
    assert_eq!(st, 201);
    let row = eventually("the hub's token PUT audited", || async {
        let (_, audit) = api(
            reqwest::Method::GET,
            format!("{}/ocpi/audit?partner={id}", csms.api_url()),
            None,
        )
        .await;
        audit["items"]
            .as_array()?
            .iter()
            .find(|r| r["module"] == "tokens" && r["method"] == "PUT")
            .cloned()
    })
    .await;
    assert_eq!(row["party"], "DE*ABC", "{row}");
    assert_eq!(row["direction"], "in");
    assert_eq!(row["http_status"], 201);
    assert_eq!(row["ocpi_status"], 1000);

    // A station presents the token: real-time authorization (NEVER) goes to the hub, routed
    // to the token's party.
    let never = json!({"country_code": "DE", "party_id": "ABC", "uid": "HUBRT", "type": "RFID",
        "contract_id": "DE-ABC-C2", "issuer": "ABC", "valid": true, "whitelist": "NEVER",
        "last_updated": "2024-01-01T00:00:00Z"});
    routed
        .put_object(&tokens_url, &["DE", "ABC", "HUBRT"], &never)
        .await
        .unwrap();
    hub.server.storage.put(
        &ModuleId::Tokens,
        &InterfaceRole::Sender,
        vec!["HUBRT".into()],
        never,
    );
    let (_station, peer) = station16(&csms, "CS-HUB").await;
    let a = call16(&peer, "Authorize", json!({"idTag": "HUBRT"})).await;
    assert_eq!(a["idTagInfo"]["status"], "Accepted", "{a}");
    let headers = hub
        .log
        .lock()
        .unwrap()
        .iter()
        .find(|(m, p, _, _)| m == "POST" && p.contains("/tokens/HUBRT/authorize"))
        .expect("the real-time authorization at the hub")
        .2
        .clone();
    let h = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    assert_eq!(h("ocpi-to-country-code").as_deref(), Some("DE"));
    assert_eq!(h("ocpi-to-party-id").as_deref(), Some("ABC"));
    assert_eq!(h("ocpi-from-party-id").as_deref(), Some("CPO"));

    // The audit log keeps no customer token id (the log is not encrypted at rest): neither
    // in the hub's token PUTs nor in our real-time authorization's URL.
    let audit = eventually("the real-time authorization audited", || async {
        let (_, audit) = api(
            reqwest::Method::GET,
            format!("{}/ocpi/audit?partner={id}&limit=100", csms.api_url()),
            None,
        )
        .await;
        let items = audit["items"].as_array()?.clone();
        items
            .iter()
            .any(|r| r["direction"] == "out" && r["method"] == "POST" && r["module"] == "tokens")
            .then_some(items)
    })
    .await;
    let puts = audit
        .iter()
        .filter(|r| r["module"] == "tokens" && r["method"] == "PUT")
        .count();
    assert_eq!(puts, 2, "{audit:?}");
    for r in &audit {
        let url = r["url"].as_str().unwrap();
        assert!(
            !url.contains("HUBTOK") && !url.contains("HUBRT"),
            "a token id in the audit log: {r}"
        );
    }

    // Our broadcast push to the hub: from us, to the hub.
    put_tariff(&csms, "T1", 0.25).await;
    eventually("T1 at the hub", || async {
        hub.tariff("T1").is_some().then_some(())
    })
    .await;
    let headers = hub
        .log
        .lock()
        .unwrap()
        .iter()
        .find(|(m, p, _, _)| m == "PUT" && p.contains("/tariffs/"))
        .unwrap()
        .2
        .clone();
    let h = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(h("ocpi-from-country-code"), Some("NL"));
    assert_eq!(h("ocpi-from-party-id"), Some("CPO"));
    assert_eq!(h("ocpi-to-country-code"), Some("NL"));
    assert_eq!(h("ocpi-to-party-id"), Some("HUB"));
    assert!(h("x-request-id").is_some_and(|v| !v.is_empty()));
    assert!(h("x-correlation-id").is_some_and(|v| !v.is_empty()));

    // A command from a party behind the hub: its asynchronous result goes back through the
    // hub routed to that party (OCPI-to-* the requesting party, OCPI-from-* us).
    let (s, loc) = api(
        reqwest::Method::PUT,
        format!("{}/ocpi/locations/LOCH", csms.api_url()),
        Some(
            json!({"name": "Hub test", "address": "Main Street 1", "city": "Utrecht",
            "postal_code": "3511AA", "country": "NLD",
            "coordinates": {"latitude": "52.090736", "longitude": "5.121420"},
            "time_zone": "Europe/Amsterdam",
            "evses": [{"station": "CS-HUB", "evse": 1, "evse_id": "NL*CPO*EHUB",
                "connectors": [{"id": "1", "standard": "IEC_62196_T2", "format": "SOCKET",
                    "power_type": "AC_3_PHASE", "max_voltage": 230, "max_amperage": 32,
                    "tariff_ids": ["T1"]}]}]}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{loc}");
    let evse_uid = loc["evses"][0]["uid"].as_str().unwrap().to_owned();
    let commands_url = url_of(&endpoints, ModuleId::Commands, InterfaceRole::Receiver);
    let response_url = format!("{}/2.2.1/sender/commands/UNLOCK_CONNECTOR/h1", hub.base);
    routed
        .send_command(
            &commands_url,
            &ocpi::v221::CommandType::UnlockConnector,
            &json!({"response_url": response_url, "location_id": "LOCH",
                "evse_uid": evse_uid, "connector_id": "1"}),
        )
        .await
        .unwrap();
    let headers = eventually("the command result at the hub", || async {
        hub.log
            .lock()
            .unwrap()
            .iter()
            .find(|(m, p, _, _)| m == "POST" && p.ends_with("/commands/UNLOCK_CONNECTOR/h1"))
            .map(|(_, _, h, _)| h.clone())
    })
    .await;
    let h = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(h("ocpi-to-country-code"), Some("DE"));
    assert_eq!(h("ocpi-to-party-id"), Some("ABC"));
    assert_eq!(h("ocpi-from-country-code"), Some("NL"));
    assert_eq!(h("ocpi-from-party-id"), Some("CPO"));
    csms.shutdown().await;
}

fn audit_row(at: &str, partner: i64, request_id: &str) -> AuditRow {
    AuditRow {
        id: 0,
        at: at.into(),
        direction: "out".into(),
        partner_id: Some(partner),
        party: Some("NL*MSP".into()),
        method: "PUT".into(),
        url: "http://emsp/ocpi/2.2.1/tariffs/NL/CPO/T1".into(),
        module: Some("tariffs".into()),
        http_status: Some(200),
        ocpi_status: Some(1000),
        request_id: Some(request_id.into()),
        correlation_id: Some("corr".into()),
        duration_ms: 3,
        error: None,
    }
}

async fn audit_log_on(store: &dyn AuditDb) {
    let rows: Vec<AuditRow> = (0..6)
        .map(|i| {
            audit_row(
                &format!("2026-01-0{}T00:00:00.000Z", i + 1),
                1 + i % 2,
                &format!("r{i}"),
            )
        })
        .collect();
    store.audit_insert(&rows).await.unwrap();
    let all = store.audit(None, None, 100).await.unwrap();
    let ids: Vec<&str> = all
        .iter()
        .map(|r| r.request_id.as_deref().unwrap())
        .collect();
    assert_eq!(ids, ["r5", "r4", "r3", "r2", "r1", "r0"], "newest first");
    assert_eq!(all[0].party.as_deref(), Some("NL*MSP"));
    assert_eq!(all[0].ocpi_status, Some(1000));
    let p1 = store.audit(Some(1), None, 2).await.unwrap();
    assert_eq!(
        p1.iter()
            .map(|r| r.request_id.clone().unwrap())
            .collect::<Vec<_>>(),
        ["r4", "r2"]
    );
    let p2 = store.audit(Some(1), Some(p1[1].id), 2).await.unwrap();
    assert_eq!(p2.len(), 1);
    assert_eq!(p2[0].request_id.as_deref(), Some("r0"));
    // Older than 2026-01-03: r0 and r1 go; then all but the newest 2.
    let n = store
        .audit_prune(Some("2026-01-03T00:00:00.000Z"), 1000)
        .await
        .unwrap();
    assert_eq!(n, 2);
    store.audit_prune(None, 2).await.unwrap();
    let left: Vec<String> = store
        .audit(None, None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.request_id.unwrap())
        .collect();
    assert_eq!(left, ["r5", "r4"]);
}

/// The outbox summary's `head_error` is the error of the oldest undelivered push (what holds
/// the partner back, shown on the dashboard), not the latest error of any push.
async fn head_error_on(db: &dyn OcpiDb) {
    let push = |n: u32| OutboxRow {
        id: 0,
        partner_id: 7,
        method: "PUT".into(),
        module: "tariffs".into(),
        path: format!("[\"T{n}\"]"),
        body: "{}".into(),
        created_at: format!("2024-05-01T10:00:0{n}.000Z"),
        attempts: 0,
        last_error: None,
        delivered_at: None,
        result: None,
    };
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(db.push_outbox(&push(n)).await.unwrap());
    }
    db.outbox_failed(ids[0], "HTTP 503").await.unwrap();
    db.outbox_delivered(ids[0], "2024-05-01T10:01:00.000Z", None)
        .await
        .unwrap();
    db.outbox_failed(ids[2], "later").await.unwrap();
    let s = db.outbox_summary(7).await.unwrap();
    assert_eq!(s.pending, 2);
    assert_eq!(
        s.head_error, None,
        "the oldest undelivered push has not failed"
    );
    db.outbox_failed(ids[1], "HTTP 502").await.unwrap();
    let s = db.outbox_summary(7).await.unwrap();
    assert_eq!(s.head_error.as_deref(), Some("HTTP 502"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_pages_and_prunes_on_every_backend() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("audit.db").display());
    let sqlite = SqliteStore::connect(&url).await.unwrap();
    audit_log_on(&sqlite).await;
    head_error_on(&sqlite).await;
    match std::env::var("OCPP_TEST_POSTGRES_URL") {
        Ok(url) => {
            let schema = format!("csms_ocpi_ops_{}", common::unique());
            let pg = PgStore::connect_in_schema(&url, Some(&schema))
                .await
                .unwrap();
            audit_log_on(&pg).await;
            head_error_on(&pg).await;
            sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                .execute(pg.pool())
                .await
                .unwrap();
        }
        Err(_) => println!("SKIPPED the audit log on postgres: OCPP_TEST_POSTGRES_URL is not set"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_party_behind_two_hubs_is_reached_through_the_hub_that_put_its_token() {
    let dir = tempfile::tempdir().unwrap();
    let csms = start(settings(&dir, OcpiFileSettings::default()))
        .await
        .unwrap();
    let versions = csms.ocpi.as_ref().unwrap().versions_url();
    // Hub A registers first (the lowest id), hub B puts the token.
    let hub_a = partner(role("HUB", "HBA"), &versions).await;
    let hub_b = partner(role("HUB", "HBB"), &versions).await;
    let (a_id, _, _) = hub_a.register(&csms).await;
    let (b_id, b_token_c, b_endpoints) = hub_b.register(&csms).await;
    assert!(a_id < b_id);
    let never = json!({"country_code": "DE", "party_id": "XYZ", "uid": "VIAB", "type": "RFID",
        "contract_id": "DE-XYZ-C1", "issuer": "XYZ", "valid": true, "whitelist": "NEVER",
        "last_updated": "2024-01-01T00:00:00Z"});
    Client::new(b_token_c, TokenEncoding::Base64)
        .with_routing(ocpi::transport::Routing::new(("DE", "XYZ"), ("NL", "CPO")))
        .put_object(
            &url_of(&b_endpoints, ModuleId::Tokens, InterfaceRole::Receiver),
            &["DE", "XYZ", "VIAB"],
            &never,
        )
        .await
        .unwrap();
    hub_b.server.storage.put(
        &ModuleId::Tokens,
        &InterfaceRole::Sender,
        vec!["VIAB".into()],
        never,
    );
    let (_station, peer) = station16(&csms, "CS-2HUBS").await;
    let a = call16(&peer, "Authorize", json!({"idTag": "VIAB"})).await;
    assert_eq!(a["idTagInfo"]["status"], "Accepted", "{a}");
    let asked = |p: &Partner| {
        p.log
            .lock()
            .unwrap()
            .iter()
            .any(|(m, path, _, _)| m == "POST" && path.contains("/tokens/VIAB/authorize"))
    };
    assert!(asked(&hub_b), "hub B (which put the token) is asked");
    assert!(!asked(&hub_a), "hub A is not");
    // Shut down right away: the audit rows still queued are written first.
    csms.shutdown().await;
    let url = format!("sqlite:{}", dir.path().join("csms.db").display());
    let store = SqliteStore::connect(&url).await.unwrap();
    let rows = store.audit(Some(b_id as i64), None, 1000).await.unwrap();
    assert!(
        rows.iter()
            .any(|r| r.direction == "out" && r.method == "POST" && r.url.contains("/authorize")),
        "{rows:?}"
    );
}
