//! The operator dashboard: its pages over HTTP, its store reads on both backends, and the
//! whole thing in a real headless Chromium driven over the Chrome DevTools Protocol.
//!
//! The browser test starts the CSMS in-process, connects simulated stations of OCPP 1.6, 2.0.1
//! and 2.1 (`examples::sim`, whose stations answer remote starts by charging and sending meter
//! values), watches them appear on the fleet page that was opened before they booted, presses
//! remote start on each station page, watches the session's chart grow, exercises the call
//! form, the id tokens page and the OCPI page (partners, a TOKEN_A issued in the page, CDRs
//! paged and refreshed live), and saves a PNG screenshot of every page under
//! `target/browser-artifacts/`. Without `/usr/bin/chromium` (or `$CHROMIUM`) it is skipped,
//! except under `CI=true`, where it fails.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use csms_reference::config::{FileSettings, Settings};
use csms_reference::ocpi_cpo::db::OutboxRow;
use csms_reference::ocpi_cpo::OcpiFileSettings;
use csms_reference::server::{start, RunningCsms};
use csms_reference::store::{
    BootRecord, MessageRecord, MeterValueRecord, Page, SqliteStore, StationFilter, StatusRecord,
    Store, TxEventRecord,
};
use futures_util::{SinkExt, StreamExt};
use ocpp_types::OcppVersion;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

mod common;

use common::{loopback, sqlite_url};

async fn csms(dir: &tempfile::TempDir) -> RunningCsms {
    let f = FileSettings {
        call_timeout: Some(5),
        ..loopback(sqlite_url(dir))
    };
    start(Settings::validate(f).unwrap()).await.unwrap()
}

/// A CSMS with the OCPI CPO bridge enabled (on a loopback port of its own).
async fn csms_with_ocpi(dir: &tempfile::TempDir) -> RunningCsms {
    let f = FileSettings {
        call_timeout: Some(5),
        ocpi: Some(OcpiFileSettings {
            listen: Some("127.0.0.1:0".into()),
            retry_max_seconds: Some(1),
            ..Default::default()
        }),
        ..loopback(sqlite_url(dir))
    };
    start(Settings::validate(f).unwrap()).await.unwrap()
}

async fn get(url: &str) -> (u16, String) {
    let r = reqwest::get(url).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

// ---------------------------------------------------------------------------------------------
// Store reads of the dashboard, on SQLite and (when configured) PostgreSQL.

fn ts(min: u32) -> String {
    format!("2024-05-01T10:{min:02}:00Z")
}

async fn dashboard_reads(store: Arc<dyn Store>) {
    for (i, v) in ["1.6", "2.0.1", "2.1", "2.0.1"].iter().enumerate() {
        store
            .record_boot(&BootRecord {
                station_id: format!("ST-{i}"),
                version: (*v).into(),
                vendor: Some(if i == 3 { "Other_Vendor" } else { "ACME" }.into()),
                model: Some("Box".into()),
                firmware_version: Some(format!("fw-{i}")),
                payload: "{}".into(),
                at: ts(0),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    store
        .set_connected("ST-1", "2.0.1", true, &ts(1))
        .await
        .unwrap();
    let all = |text: &str, version: &str, connection: &str| StationFilter {
        text: text.into(),
        version: version.into(),
        connection: connection.into(),
    };
    let ids = |v: &[csms_reference::store::StationRecord]| {
        v.iter().map(|s| s.id.clone()).collect::<Vec<_>>()
    };
    let p = Page::default();
    let (l, n) = store.search_stations(&all("", "", ""), p).await.unwrap();
    assert_eq!(
        (ids(&l), n),
        (
            vec!["ST-0".into(), "ST-1".into(), "ST-2".into(), "ST-3".into()],
            4
        )
    );
    let (l, n) = store
        .search_stations(&all("", "2.0.1", ""), p)
        .await
        .unwrap();
    assert_eq!((ids(&l), n), (vec!["ST-1".to_owned(), "ST-3".into()], 2));
    let (l, n) = store
        .search_stations(&all("", "", "online"), p)
        .await
        .unwrap();
    assert_eq!((ids(&l), n), (vec!["ST-1".to_owned()], 1));
    assert_eq!(
        store
            .search_stations(&all("", "", "offline"), p)
            .await
            .unwrap()
            .1,
        3
    );
    // Case-insensitive, in vendor and firmware; LIKE wildcards are literal.
    assert_eq!(
        store
            .search_stations(&all("acme", "", ""), p)
            .await
            .unwrap()
            .1,
        3
    );
    assert_eq!(
        store
            .search_stations(&all("FW-2", "", ""), p)
            .await
            .unwrap()
            .1,
        1
    );
    assert_eq!(
        store
            .search_stations(&all("r_v", "", ""), p)
            .await
            .unwrap()
            .1,
        1
    );
    assert_eq!(
        store.search_stations(&all("%", "", ""), p).await.unwrap().1,
        0
    );
    let (l, n) = store
        .search_stations(
            &all("", "", ""),
            Page {
                limit: 2,
                offset: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!((ids(&l), n), (vec!["ST-2".to_owned(), "ST-3".into()], 4));

    for (st, c, status) in [
        ("ST-0", 1, "Charging"),
        ("ST-0", 2, "Available"),
        ("ST-2", 1, "Faulted"),
    ] {
        store
            .record_status(&StatusRecord {
                station_id: st.into(),
                evse_id: c,
                connector_id: c,
                status: status.into(),
                error_code: None,
                info: None,
                timestamp: Some(ts(2)),
                payload: "{}".into(),
                received_at: ts(2),
            })
            .await
            .unwrap();
    }
    let s = store
        .statuses_of(&["ST-0".into(), "ST-2".into(), "ST-9".into()])
        .await
        .unwrap();
    let got: Vec<_> = s
        .iter()
        .map(|s| (s.station_id.as_str(), s.connector_id, s.status.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("ST-0", 1, "Charging"),
            ("ST-0", 2, "Available"),
            ("ST-2", 1, "Faulted")
        ]
    );
    assert!(store.statuses_of(&[]).await.unwrap().is_empty());

    for (i, d) in ["in", "out", "in"].iter().enumerate() {
        store
            .log_message(&MessageRecord {
                station_id: "ST-0".into(),
                direction: (*d).into(),
                kind: "call".into(),
                message_id: i.to_string(),
                action: "Heartbeat".into(),
                payload: "{}".into(),
                at: ts(i as u32),
            })
            .await
            .unwrap();
    }
    let m = store
        .recent_messages(
            "ST-0",
            Page {
                limit: 2,
                offset: 0,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        m.iter().map(|m| m.message_id.as_str()).collect::<Vec<_>>(),
        ["2", "1"]
    );

    let mv = |min: u32, v: &str, measurand: Option<&str>, phase: Option<&str>| MeterValueRecord {
        transaction_id: Some("T1".into()),
        evse_id: Some(1),
        timestamp: ts(min),
        value: v.into(),
        measurand: measurand.map(Into::into),
        phase: phase.map(Into::into),
        unit: Some("Wh".into()),
        ..Default::default()
    };
    for (seq, ty, values) in [
        (0, "Started", vec![mv(0, "1000", None, None)]),
        (
            1,
            "Updated",
            vec![
                mv(5, "1500", Some("Energy.Active.Import.Register"), None),
                mv(5, "400", Some("Energy.Active.Import.Register"), Some("L1")),
                mv(5, "6000", Some("Power.Active.Import"), None),
            ],
        ),
        (2, "Ended", vec![mv(9, "2250", None, None)]),
    ] {
        store
            .apply_transaction_event(&TxEventRecord {
                station_id: "ST-1".into(),
                version: "2.0.1".into(),
                transaction_id: "T1".into(),
                seq_no: seq,
                event_type: ty.into(),
                timestamp: ts(seq as u32),
                meter_values: values,
                payload: "{}".into(),
                received_at: ts(seq as u32),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    store
        .apply_transaction_event(&TxEventRecord {
            station_id: "ST-3".into(),
            version: "2.0.1".into(),
            transaction_id: "T2".into(),
            event_type: "Started".into(),
            timestamp: ts(3),
            payload: "{}".into(),
            received_at: ts(3),
            ..Default::default()
        })
        .await
        .unwrap();
    let (first, last) = store
        .energy_register_bounds("ST-1", "T1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (first.value.as_str(), last.value.as_str()),
        ("1000", "2250")
    );
    assert!(store
        .energy_register_bounds("ST-3", "T2")
        .await
        .unwrap()
        .is_none());
    let txs = |v: &[csms_reference::store::TransactionRecord]| {
        v.iter()
            .map(|t| t.transaction_id.clone())
            .collect::<Vec<_>>()
    };
    let (l, n) = store.search_transactions(None, None, p).await.unwrap();
    assert_eq!((txs(&l), n), (vec!["T2".to_owned(), "T1".into()], 2));
    let (l, n) = store
        .search_transactions(None, Some("Active"), p)
        .await
        .unwrap();
    assert_eq!((txs(&l), n), (vec!["T2".to_owned()], 1));
    let (l, n) = store
        .search_transactions(Some("ST-1"), Some("Ended"), p)
        .await
        .unwrap();
    assert_eq!((txs(&l), n), (vec!["T1".to_owned()], 1));
    assert_eq!(
        store
            .search_transactions(Some("ST-1"), Some("Active"), p)
            .await
            .unwrap()
            .1,
        0
    );

    assert_eq!(store.count_id_tokens().await.unwrap(), 0);
    for t in ["A", "B"] {
        store
            .put_id_token(
                &csms_reference::store::IdTokenRecord {
                    id_token: t.into(),
                    token_type: String::new(),
                    status: "Accepted".into(),
                    expiry: None,
                    parent_id: None,
                    group_id: None,
                },
                &ts(0),
            )
            .await
            .unwrap();
    }
    assert_eq!(store.count_id_tokens().await.unwrap(), 2);
}

#[tokio::test]
async fn dashboard_store_reads_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("t.db").display());
    dashboard_reads(Arc::new(SqliteStore::connect(&url).await.unwrap())).await;
}

#[tokio::test]
async fn dashboard_store_reads_postgres() {
    let Ok(url) = std::env::var("OCPP_TEST_POSTGRES_URL") else {
        println!("SKIPPED dashboard_store_reads_postgres: OCPP_TEST_POSTGRES_URL is not set");
        return;
    };
    let schema = format!(
        "dash_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    );
    let store = csms_reference::store::PgStore::connect_in_schema(&url, Some(&schema))
        .await
        .unwrap();
    dashboard_reads(Arc::new(store.clone())).await;
    let _ = sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .execute(store.pool())
        .await;
}

/// The outbox reads of the OCPI page: a partner's summary, the pushes of one module.
async fn ocpi_outbox_reads(store: Arc<dyn Store>) {
    let db = store.ocpi_db().unwrap();
    let push = |partner: i64, module: &str, n: u32| OutboxRow {
        id: 0,
        partner_id: partner,
        method: "POST".into(),
        module: module.into(),
        path: "[]".into(),
        body: json!({"id": format!("C-{n}")}).to_string(),
        created_at: ts(n),
        attempts: 0,
        last_error: None,
        delivered_at: None,
        result: None,
    };
    let mut ids = Vec::new();
    for (partner, module, n) in [
        (1, "cdrs", 0),
        (1, "cdrs", 1),
        (1, "sessions", 2),
        (2, "cdrs", 3),
        (1, "cdrs", 4),
    ] {
        ids.push(db.push_outbox(&push(partner, module, n)).await.unwrap());
    }
    let summary = db.outbox_summary(1).await.unwrap();
    assert_eq!(summary.pending, 4);
    assert_eq!(summary.last_delivered_at, None);
    assert_eq!(summary.last_error, None);
    db.outbox_delivered(ids[1], "2024-05-01T10:09:00.000Z", Some("https://e/1"))
        .await
        .unwrap();
    db.outbox_delivered(ids[0], "2024-05-01T10:08:00.000Z", None)
        .await
        .unwrap();
    db.outbox_failed(ids[2], "first").await.unwrap();
    db.outbox_failed(ids[4], "HTTP 503").await.unwrap();
    db.outbox_failed(ids[3], "of partner 2").await.unwrap();
    let summary = db.outbox_summary(1).await.unwrap();
    assert_eq!(summary.pending, 2);
    assert_eq!(
        summary.last_delivered_at.as_deref(),
        Some("2024-05-01T10:09:00.000Z")
    );
    assert_eq!(
        summary.last_error.as_deref(),
        Some("HTTP 503"),
        "the latest"
    );
    assert_eq!(
        db.outbox_summary(9).await.unwrap(),
        Default::default(),
        "a partner without pushes"
    );
    let cdrs = db.outbox_of_module("cdrs", 0, 100).await.unwrap();
    let got: Vec<_> = cdrs
        .iter()
        .map(|r| (r.id, r.partner_id, r.body.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (ids[0], 1, r#"{"id":"C-0"}"#),
            (ids[1], 1, r#"{"id":"C-1"}"#),
            (ids[3], 2, r#"{"id":"C-3"}"#),
            (ids[4], 1, r#"{"id":"C-4"}"#),
        ]
    );
    assert_eq!(cdrs[1].result.as_deref(), Some("https://e/1"));
    assert_eq!(
        (cdrs[3].attempts, cdrs[3].delivered_at.as_deref()),
        (1, None)
    );
    let after: Vec<_> = db
        .outbox_of_module("cdrs", ids[0], 2)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(
        after,
        [ids[1], ids[3]],
        "after a position, at most the limit"
    );
}

#[tokio::test]
async fn ocpi_outbox_reads_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("t.db").display());
    ocpi_outbox_reads(Arc::new(SqliteStore::connect(&url).await.unwrap())).await;
}

#[tokio::test]
async fn ocpi_outbox_reads_postgres() {
    let Ok(url) = std::env::var("OCPP_TEST_POSTGRES_URL") else {
        println!("SKIPPED ocpi_outbox_reads_postgres: OCPP_TEST_POSTGRES_URL is not set");
        return;
    };
    let schema = format!(
        "dash_ocpi_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    );
    let store = csms_reference::store::PgStore::connect_in_schema(&url, Some(&schema))
        .await
        .unwrap();
    ocpi_outbox_reads(Arc::new(store.clone())).await;
    let _ = sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .execute(store.pool())
        .await;
}

// ---------------------------------------------------------------------------------------------
// Pages over plain HTTP.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_paginate_filter_and_escape() {
    let dir = tempfile::tempdir().unwrap();
    let csms = csms(&dir).await;
    let base = format!("http://{}", csms.api_addr);
    let store = csms.csms.store();
    for i in 0..120 {
        store
            .record_boot(&BootRecord {
                station_id: format!("CS-{i:04}"),
                version: if i % 2 == 0 { "1.6" } else { "2.0.1" }.into(),
                vendor: Some("<ACME & Co>".into()),
                model: Some("W".into()),
                payload: "{}".into(),
                at: ts(0),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let (s, html) = get(&format!("{base}/")).await;
    assert_eq!(s, 200);
    assert!(html.contains("1–50 of 120"), "first page");
    assert_eq!(html.matches("<tr data-station=").count(), 50);
    assert!(html.contains("&lt;ACME &amp; Co&gt;") && !html.contains("<ACME"));
    let (_, html) = get(&format!("{base}/ui/fleet?page=3")).await;
    assert!(html.contains("101–120 of 120"));
    assert!(html.contains(r#"data-station="CS-0119""#) && !html.contains("<html"));
    let (_, html) = get(&format!("{base}/?version=2.0.1&q=cs-00")).await;
    assert!(
        html.contains("1–50 of 50"),
        "{}",
        &html[..200.min(html.len())]
    );
    assert!(
        html.contains(r#"href="/?q=cs-00&amp;version=2.0.1&amp;page=1""#)
            || html.contains("Page 1 of 1")
    );
    let (s, html) = get(&format!("{base}/stations/CS-0001")).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("RequestStartTransaction"),
        "2.0.1 actions offered"
    );
    assert!(!html.contains("<option>RemoteStartTransaction</option>"));
    let (s, html) = get(&format!("{base}/stations/CS-0000")).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("<option>RemoteStartTransaction</option>"),
        "1.6 actions offered"
    );
    assert!(html.contains("Configuration keys"));
    let (s, html) = get(&format!("{base}/stations/NOPE")).await;
    assert_eq!(s, 404);
    assert!(html.contains("station &quot;NOPE&quot; is unknown"));
    let (s, _) = get(&format!("{base}/sessions/NOPE/1")).await;
    assert_eq!(s, 404);
    for p in [
        "/sessions",
        "/tokens",
        "/ui/sessions?status=Active",
        "/ui/tokens",
    ] {
        let (s, _) = get(&format!("{base}{p}")).await;
        assert_eq!(s, 200, "{p}");
    }
    // Without the OCPI bridge, its page says how to enable it.
    for p in ["/ocpi", "/ui/ocpi/partners"] {
        let (s, html) = get(&format!("{base}{p}")).await;
        assert_eq!(s, 200, "{p}");
        assert!(
            html.contains("OCPI is not enabled")
                && html.contains("[ocpi]")
                && html.contains("CSMS_OCPI_LISTEN"),
            "{p}: {html}"
        );
    }
    let (s, html) = get(&format!("{base}/ui/ocpi/cdrs")).await;
    assert_eq!((s, html.as_str()), (200, ""));
    // The call form's validation: the station's version, the exact path of a fault.
    let c = reqwest::Client::new();
    let v = |action: &str, body: &str| {
        c.post(format!("{base}/ui/stations/CS-0001/validate/{action}"))
            .body(body.to_owned())
            .send()
    };
    let r = v("TriggerMessage", r#"{"requestedMessage":"Heartbeat"}"#)
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = v("TriggerMessage", r#"{"requestedMessage":5}"#)
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let j: Value = r.json().await.unwrap();
    assert_eq!(
        (j["valid"].as_bool(), j["path"].as_str()),
        (Some(false), Some("/requestedMessage")),
        "{j}"
    );
    let r = v("RemoteStartTransaction", "{}").await.unwrap();
    assert_eq!(r.status().as_u16(), 400, "a 1.6 action for a 2.0.1 station");
    let r = v("BootNotification", "{}").await.unwrap();
    assert_eq!(r.status().as_u16(), 400, "not CSMS-initiated");
    // Writes from another site are refused; from the dashboard's origin or without an Origin
    // (curl, scripts) they pass.
    let token = |t: &str| json!({"idToken": t, "status": "Accepted"}).to_string();
    let host = csms.api_addr.to_string();
    for (origin, site, body, want) in [
        (Some("http://evil.example"), None, "X1", 403),
        (Some("null"), None, "X2", 403),
        (None, Some("cross-site"), "X3", 403),
        (
            Some(format!("http://{host}").as_str()),
            Some("same-origin"),
            "X4",
            201,
        ),
        (None, None, "X5", 201),
    ] {
        let mut r = c
            .post(format!("{base}/api/id-tokens"))
            .header("content-type", "text/plain")
            .body(token(body));
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        if let Some(s) = site {
            r = r.header("sec-fetch-site", s);
        }
        assert_eq!(
            r.send().await.unwrap().status().as_u16(),
            want,
            "{origin:?} {site:?}"
        );
    }
    assert!(store.id_token("X1", "").await.unwrap().is_none());
    assert!(store.id_token("X5", "").await.unwrap().is_some());
    // The API's own routes are untouched.
    let (s, _) = get(&format!("{base}/api/stations")).await;
    assert_eq!(s, 200);
    let (s, body) = get(&format!("{base}/api/nope")).await;
    assert_eq!(s, 404);
    assert!(body.contains("openapi"));
    csms.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_authentication_covers_the_dashboard() {
    let dir = tempfile::tempdir().unwrap();
    let f = FileSettings {
        api_auth: Some("on".into()),
        api_user: Some("operator".into()),
        api_password: Some("s3cret-pass".into()),
        ..loopback(sqlite_url(&dir))
    };
    let csms = start(Settings::validate(f).unwrap()).await.unwrap();
    let base = format!("http://{}", csms.api_addr);
    let c = reqwest::Client::new();
    for p in [
        "/",
        "/ui/fleet",
        "/sessions",
        "/tokens",
        "/stations/X",
        "/ui/stations/X/validate/Reset",
        "/ocpi",
        "/ui/ocpi/cdrs",
    ] {
        let r = c.get(format!("{base}{p}")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 401, "{p} without credentials");
        assert!(
            r.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Basic"),
            "{p}: a browser asks for the password"
        );
        let r = c
            .get(format!("{base}{p}"))
            .basic_auth("operator", Some("wrong"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401, "{p} with a wrong password");
    }
    let r = c
        .get(format!("{base}/"))
        .basic_auth("operator", Some("s3cret-pass"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("<h1>Fleet</h1>"));
    csms.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// The OCPI page.

/// A CDR as the bridge stores it, of a token of party `cc`-`pid`.
fn cdr(n: u32, cc: &str, pid: &str) -> Value {
    json!({
        "country_code": "NL", "party_id": "CPO", "id": format!("C-{n:04}"),
        "session_id": format!("S-{n:04}"),
        "start_date_time": "2024-05-01T10:00:00Z", "end_date_time": "2024-05-01T11:30:00Z",
        "cdr_token": {"country_code": cc, "party_id": pid, "uid": format!("RFID-{n}"),
                      "type": "RFID", "contract_id": "DE-EMS-C1"},
        "currency": "EUR", "total_energy": 12.5,
        "total_cost": {"excl_vat": 3.75, "incl_vat": 4.46},
        "last_updated": "2024-05-01T11:30:00Z",
    })
}

/// Seeds the bridge of `csms`: a registered eMSP partner (DE-EMS, whose CDR endpoint refuses
/// connections, so that its undelivered pushes stay undelivered), 120 of its CDRs with their
/// POSTs in the outbox (C-0000..C-0099 delivered, C-0100 refused by the partner, C-0101 failed
/// once, the 19 from C-0101 waiting), and C-0120 of a party no partner owns, never pushed,
/// whose session is linked to its OCPP transaction.
async fn seed_ocpi(csms: &RunningCsms) {
    let cpo = csms.ocpi.as_ref().unwrap();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let registration = ocpi::credentials::Registration {
        version: ocpi::v221::VersionNumber::V2_2_1,
        token_b: "token-b".into(),
        versions_url: "http://emsp.example/ocpi/versions".into(),
        endpoints: serde_json::from_value(json!([
            {"identifier": "cdrs", "role": "RECEIVER", "url": format!("http://{closed}/cdrs")},
            {"identifier": "tokens", "role": "SENDER", "url": format!("http://{closed}/tokens")},
        ]))
        .unwrap(),
        roles: serde_json::from_value(json!([{"role": "EMSP", "party_id": "EMS",
            "country_code": "DE", "business_details": {"name": "<Beta & Co>"}}]))
        .unwrap(),
    };
    let partner = cpo
        .server
        .registry
        .lock()
        .unwrap()
        .add_registered_peer("token-c", registration);
    cpo.persist_partners().await;
    let db = csms.csms.store().ocpi_db().unwrap();
    for n in 0..120 {
        let c = cdr(n, "DE", "EMS");
        let id = c["id"].as_str().unwrap().to_owned();
        cpo.server
            .storage
            .put_kind("cdrs", "SENDER", vec![id.clone()], c.clone());
        let row = db
            .push_outbox(&OutboxRow {
                id: 0,
                partner_id: partner as i64,
                method: "POST".into(),
                module: "cdrs".into(),
                path: "[]".into(),
                body: c.to_string(),
                created_at: "2024-05-01T11:30:01.000Z".into(),
                attempts: 0,
                last_error: None,
                delivered_at: None,
                result: None,
            })
            .await
            .unwrap();
        match n {
            0..=99 => db
                .outbox_delivered(
                    row,
                    "2024-05-01T11:30:02.000Z",
                    Some(&format!("https://emsp.example/cdrs/{id}")),
                )
                .await
                .unwrap(),
            100 => {
                db.outbox_failed(row, "OCPI status 2001: invalid CDR")
                    .await
                    .unwrap();
                db.outbox_delivered(
                    row,
                    "2024-05-01T11:30:03.000Z",
                    Some("dropped: OCPI status 2001: invalid CDR"),
                )
                .await
                .unwrap();
            }
            101 => db.outbox_failed(row, "HTTP 503").await.unwrap(),
            _ => {}
        }
    }
    cpo.server.storage.put_kind(
        "x-session",
        "SENDER",
        vec!["S-0120".into()],
        json!({"station": "ST-1", "transaction": "T 1", "evse": 1}),
    );
    cpo.server.storage.put_kind(
        "cdrs",
        "SENDER",
        vec!["C-0120".into()],
        cdr(120, "NL", "XXX"),
    );
    cpo.server.storage.flush().await;
}

/// The `<tr>` of a CDR in a page.
fn cdr_row<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!(r#"<tr data-cdr="{id}""#))
        .unwrap_or_else(|| panic!("no row of {id}"));
    let len = html[start..].find("</tr>").unwrap();
    &html[start..start + len]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ocpi_page_lists_partners_and_pages_cdrs() {
    let dir = tempfile::tempdir().unwrap();
    let csms = csms_with_ocpi(&dir).await;
    let base = format!("http://{}", csms.api_addr);
    seed_ocpi(&csms).await;
    let (s, html) = get(&format!("{base}/ocpi")).await;
    assert_eq!(s, 200);
    assert!(html.contains(r#"<a href="/ocpi" class="active">OCPI</a>"#));
    // The partner: parties (escaped), version, handshake, backlog and its last error.
    assert!(
        html.contains(r#"<tr data-partner="1" data-state="registered" data-pending="19">"#),
        "{html}"
    );
    assert!(html.contains("DE-EMS") && html.contains("&lt;Beta &amp; Co&gt;"));
    assert!(!html.contains("<Beta"));
    assert!(html.contains(">2.2.1<") && html.contains("http://emsp.example/ocpi/versions"));
    assert!(html.contains("19 waiting") && html.contains("2 endpoints"));
    assert!(
        html.contains(r#"class="err-text""#),
        "the last delivery error"
    );
    assert!(html.contains(r#"id="stat-cdrs">121<"#) && html.contains(r#"id="stat-backlog">19<"#));
    assert!(html.contains(&csms.ocpi.as_ref().unwrap().versions_url()));
    assert!(html.contains(r#"data-api="POST /api/ocpi/partners""#));
    // The CDRs, newest first, 50 a page, each with its push state.
    assert!(html.contains("1–50 of 121"));
    assert_eq!(html.matches("<tr data-cdr=").count(), 50);
    assert!(html.find(r#"data-cdr="C-0120""#) < html.find(r#"data-cdr="C-0119""#));
    let r = cdr_row(&html, "C-0120");
    assert!(
        r.contains(r#"data-push="none""#) && r.contains("NL-XXX"),
        "{r}"
    );
    assert!(r.contains(r#"href="/sessions/ST-1/T%201""#), "{r}");
    let r = cdr_row(&html, "C-0099");
    assert!(r.contains(r#"data-push="pushed""#), "{r}");
    assert!(r.contains("https://emsp.example/cdrs/C-0099") && r.contains("#1"));
    assert!(r.contains("12.5 kWh") && r.contains("3.75 EUR") && r.contains("4.46 EUR incl. VAT"));
    assert!(r.contains("2024-05-01 10:00:00") && r.contains("2024-05-01 11:30:00"));
    assert!(cdr_row(&html, "C-0100").contains(r#"data-push="refused""#));
    let r = cdr_row(&html, "C-0101");
    assert!(r.contains(r#"data-push="retrying""#), "{r}");
    let r = cdr_row(&html, "C-0110");
    assert!(
        r.contains(r#"data-push="queued""#) || r.contains(r#"data-push="retrying""#),
        "{r}"
    );
    // The live fragments: one page of CDRs, the partners; not whole pages.
    let (s, html) = get(&format!("{base}/ui/ocpi/cdrs?page=3")).await;
    assert_eq!(s, 200);
    assert!(html.contains("101–121 of 121") && !html.contains("<html"));
    assert_eq!(html.matches("<tr data-cdr=").count(), 21);
    assert!(cdr_row(&html, "C-0000").contains(r#"data-push="pushed""#));
    // A new partner's TOKEN_A through the API the page's form calls.
    let r = reqwest::Client::new()
        .post(format!("{base}/api/ocpi/partners"))
        .json(&json!({"name": "Gamma <g>"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let (s, html) = get(&format!("{base}/ui/ocpi/partners")).await;
    assert_eq!(s, 200);
    assert!(!html.contains("<html"));
    assert!(
        html.contains(r#"<tr data-partner="2" data-state="pending" data-pending="0">"#),
        "{html}"
    );
    assert!(html.contains("#2 Gamma &lt;g&gt;") && html.contains(r#"id="stat-partners">1 / 2<"#));
    // Thousands of CDRs: a page is still one page (the time is printed, not asserted).
    let cpo = csms.ocpi.as_ref().unwrap();
    for n in 1000..6000 {
        cpo.server.storage.put_kind(
            "cdrs",
            "SENDER",
            vec![format!("C-{n:04}")],
            cdr(n, "NL", "XXX"),
        );
    }
    for p in [1, 60, 103] {
        let t = Instant::now();
        let (s, html) = get(&format!("{base}/ui/ocpi/cdrs?page={p}")).await;
        assert_eq!(s, 200);
        assert_eq!(
            html.matches("<tr data-cdr=").count(),
            if p == 103 { 21 } else { 50 }
        );
        println!(
            "/ui/ocpi/cdrs?page={p} with 5121 CDRs: {:.1} ms, {} bytes",
            t.elapsed().as_secs_f64() * 1000.0,
            html.len()
        );
    }
    let (_, html) = get(&format!("{base}/ui/ocpi/cdrs?page=103")).await;
    assert!(html.contains("5101–5121 of 5121"), "the last page");
    assert!(cdr_row(&html, "C-0000").contains(r#"data-push="pushed""#));
    csms.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// A tiny Chrome DevTools Protocol client.

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
    ws: Ws,
    next: u64,
    session: String,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromium_path() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("CHROMIUM") {
        return Some(PathBuf::from(p)).filter(|p| p.exists());
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

impl Browser {
    async fn launch(exe: &Path) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(exe)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--window-size=1400,1000",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
        // "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID" on stderr.
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(i) = line.find("ws://") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(line[i..].trim().to_owned());
                    }
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("Chromium printed its DevTools address");
        let hostport = url["ws://".len()..].split('/').next().unwrap().to_owned();
        let tcp = tokio::net::TcpStream::connect(&hostport).await.unwrap();
        let (ws, _) = tokio_tungstenite::client_async(url.as_str(), tcp)
            .await
            .expect("DevTools WebSocket");
        let mut b = Browser {
            child,
            _profile: profile,
            ws,
            next: 0,
            session: String::new(),
        };
        let t = b
            .call("Target.createTarget", json!({"url": "about:blank"}))
            .await;
        let s = b
            .call(
                "Target.attachToTarget",
                json!({"targetId": t["targetId"], "flatten": true}),
            )
            .await;
        b.session = s["sessionId"].as_str().unwrap().to_owned();
        b.call("Page.enable", json!({})).await;
        b.call("Runtime.enable", json!({})).await;
        b.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": false}),
        )
        .await;
        b
    }

    /// One DevTools command and its result (events in between are dropped).
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            msg["sessionId"] = json!(self.session);
        }
        self.ws.send(Message::text(msg.to_string())).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let m = tokio::time::timeout(left, self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("{method}: no answer from Chromium"))
                .expect("DevTools connection open")
                .unwrap();
            let Ok(text) = m.to_text() else { continue };
            let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
            if v["id"].as_u64() == Some(id) {
                if let Some(e) = v.get("error") {
                    panic!("{method}: {e}");
                }
                return v["result"].clone();
            }
        }
    }

    /// Evaluates JavaScript in the page and returns its value.
    async fn eval(&mut self, expr: &str) -> Value {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        if let Some(e) = r.get("exceptionDetails") {
            panic!("{expr}: {e}");
        }
        r["result"]["value"].clone()
    }

    /// Waits until `expr` is truthy and returns its value; panics with `what` after `secs`.
    async fn wait_for(&mut self, expr: &str, secs: u64, what: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let v = self.eval(expr).await;
            let truthy = match &v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return v;
            }
            if Instant::now() > deadline {
                let body = self
                    .eval("document.body ? document.body.innerText.slice(0, 3000) : ''")
                    .await;
                panic!("timed out waiting for {what} ({expr}); page text:\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn open(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url})).await;
        self.wait_for(
            &format!(
                "document.readyState === 'complete' && location.href === {}",
                json!(url)
            ),
            60,
            "the page to load",
        )
        .await;
    }

    /// A PNG of the whole page.
    async fn screenshot(&mut self, path: &Path) {
        let m = self.call("Page.getLayoutMetrics", json!({})).await;
        let h = m["cssContentSize"]["height"]
            .as_f64()
            .unwrap_or(1000.0)
            .clamp(600.0, 6000.0);
        let r = self
            .call(
                "Page.captureScreenshot",
                json!({"format": "png", "captureBeyondViewport": true,
                       "clip": {"x": 0, "y": 0, "width": 1400, "height": h, "scale": 1}}),
            )
            .await;
        use base64::Engine as _;
        let png = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        std::fs::write(path, png).unwrap();
        println!("screenshot: {}", path.display());
    }
}

fn artifacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("browser-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir.canonicalize().unwrap_or(dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_in_headless_chromium() {
    let Some(exe) = chromium_path() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but no Chromium at /usr/bin/chromium (or $CHROMIUM): .ci/run installs it with apt-get install chromium chromium-driver");
        }
        println!("SKIPPED dashboard_in_headless_chromium: no Chromium at /usr/bin/chromium (apt-get install chromium, or set CHROMIUM)");
        return;
    };
    let out = artifacts();
    let dir = tempfile::tempdir().unwrap();
    let csms = csms_with_ocpi(&dir).await;
    let base = format!("http://{}", csms.api_addr);
    let mut b = Browser::launch(&exe).await;

    // The fleet page, open before any station exists.
    b.open(&format!("{base}/")).await;
    b.wait_for("document.querySelector('#fleet') && document.querySelector('#fleet').innerText.includes('No station yet')", 20, "the empty fleet").await;
    b.eval("window.__notReloaded = true").await;

    // Three simulated stations, one per version: no session until a remote start (the first
    // plug-in would come after hours), meter values every second once charging.
    let cfg = examples::sim::SimConfig {
        url: format!("ws://{}/ocpp", csms.ocpp_addr),
        stations: 3,
        versions: vec![OcppVersion::V16, OcppVersion::V201, OcppVersion::V21],
        scenario: examples::sim::Scenario::Charging,
        ramp_up: 100.0,
        interval: Duration::from_secs(1),
        session: Duration::from_secs(600),
        pause: Duration::from_secs(36_000),
        duration: Duration::from_secs(600),
        id_prefix: "DASH".into(),
        boot_timeout: Duration::from_secs(30),
        call_timeout: Duration::from_secs(10),
        ..Default::default()
    };
    let booted = Instant::now();
    let sim = tokio::spawn(examples::sim::run(
        cfg,
        Arc::new(examples::sim::Stats::default()),
    ));
    b.wait_for(
        "document.querySelectorAll('#fleet tr[data-connected=\"true\"]').length === 3",
        40,
        "three connected stations on the fleet page",
    )
    .await;
    println!(
        "fleet page: 3 stations shown connected {:.2} s after the simulator started (no reload)",
        booted.elapsed().as_secs_f64()
    );
    assert_eq!(b.eval("window.__notReloaded === true").await, json!(true));
    b.wait_for(
        "document.querySelectorAll('#fleet .conn.s-available').length >= 3",
        20,
        "connector statuses",
    )
    .await;
    b.screenshot(&out.join("fleet.png")).await;

    // Search narrows the list.
    b.open(&format!("{base}/?q=dash-0002")).await;
    assert_eq!(
        b.eval("Array.from(document.querySelectorAll('#fleet tr[data-station]')).map(r => r.dataset.station).join()").await,
        json!("DASH-0002")
    );

    for (n, (id, v)) in [
        ("DASH-0001", "1.6"),
        ("DASH-0002", "2.0.1"),
        ("DASH-0003", "2.1"),
    ]
    .into_iter()
    .enumerate()
    {
        b.open(&format!("{base}/stations/{id}")).await;
        b.wait_for(
            "document.querySelector('#conn-state').dataset.connected === 'true' && document.querySelector('#connectors') !== null",
            20,
            "the station's connectors",
        )
        .await;
        assert!(b
            .eval("document.querySelector('h1').innerText")
            .await
            .as_str()
            .unwrap()
            .contains(v));
        // Remote start with a token of the page's form.
        let token = format!("BROWSER{n}");
        b.eval(&format!(
            "document.querySelector('#cmd-remote-start input[name=idToken]').value = {}; document.querySelector('#cmd-remote-start button').click(); true",
            json!(token)
        ))
        .await;
        let answer = b
            .wait_for(
                "(document.querySelector('#out').className.includes('ok') || document.querySelector('#out').className.includes('err')) && document.querySelector('#out').textContent",
                40,
                "the station's answer to the remote start",
            )
            .await;
        assert!(
            answer.as_str().unwrap().starts_with("200")
                && answer.as_str().unwrap().contains("Accepted"),
            "{answer}"
        );
        let href = b
            .wait_for(
                "(function(){ const r = document.querySelector('#station-sessions tr[data-status=\"Active\"] a'); return r ? r.getAttribute('href') : ''; })()",
                40,
                "the active session on the station page",
            )
            .await;
        b.wait_for(
            "document.querySelectorAll('#messages tr[data-dir=\"out\"]').length > 0",
            20,
            "the outgoing call in the message log",
        )
        .await;
        b.screenshot(&out.join(format!("station-{v}.png"))).await;

        // The session page: the chart grows as meter values arrive.
        b.open(&format!("{base}{}", href.as_str().unwrap())).await;
        let count = "(function(){ const s = document.querySelector('#session-chart'); return s ? +s.dataset.energyPoints : 0; })()";
        let first = b
            .wait_for(count, 40, "the session chart")
            .await
            .as_u64()
            .unwrap();
        let grown = b
            .wait_for(
                &format!("{count} >= {} && {count}", (first + 2).max(4)),
                60,
                "the chart to grow",
            )
            .await
            .as_u64()
            .unwrap();
        assert!(grown > first);
        assert!(
            b.eval("document.querySelectorAll('#session-chart circle.pt-e').length")
                .await
                .as_u64()
                .unwrap()
                >= grown,
            "one point per energy reading"
        );
        assert_eq!(
            b.eval("document.querySelector('#session-chart path.line-energy') !== null")
                .await,
            json!(true)
        );
        let text = b.eval("document.body.innerText").await;
        assert!(
            text.as_str().unwrap().contains(&token),
            "the token is shown"
        );
        println!(
            "session {} of {id}: chart grew from {first} to {grown} energy readings",
            href.as_str().unwrap()
        );
        b.screenshot(&out.join(format!("session-{v}.png"))).await;
    }

    // The call form: a fault is reported with its path before sending; a valid call is sent
    // and the station's answer shown.
    b.open(&format!("{base}/stations/DASH-0002")).await;
    b.eval("(() => { const f = document.querySelector('#cmd-call'); f.elements.action.value = 'TriggerMessage'; f.elements.payload.value = '{\"requestedMessage\": 5}'; f.querySelector('button[value=validate]').click(); return true; })()").await;
    let bad = b
        .wait_for("document.querySelector('#out').className.includes('err') && document.querySelector('#out').textContent", 20, "the validation fault")
        .await;
    assert!(bad.as_str().unwrap().contains("/requestedMessage"), "{bad}");
    b.eval("(() => { const f = document.querySelector('#cmd-call'); f.elements.payload.value = '{\"requestedMessage\": \"Heartbeat\"}'; f.querySelector('button[value=send]').click(); return true; })()").await;
    let ok = b
        .wait_for("document.querySelector('#out').className.includes('ok') && document.querySelector('#out').textContent.includes('response') && document.querySelector('#out').textContent", 30, "the station's answer")
        .await;
    assert!(ok.as_str().unwrap().contains("Accepted"), "{ok}");
    // An action the station does not implement: its CALLERROR is shown, and marked in the log.
    b.eval("(() => { const f = document.querySelector('#cmd-call'); f.elements.action.value = 'ClearCache'; f.elements.payload.value = '{}'; f.querySelector('button[value=send]').click(); return true; })()").await;
    let refused = b
        .wait_for("document.querySelector('#out').className.includes('err') && document.querySelector('#out').textContent", 30, "the CALLERROR")
        .await;
    assert!(refused.as_str().unwrap().starts_with("502"), "{refused}");
    b.wait_for(
        "Array.from(document.querySelectorAll('#messages tr.err')).some(r => r.innerText.includes('ClearCache'))",
        20,
        "the error in the message log",
    )
    .await;

    // Sessions, active.
    b.open(&format!("{base}/sessions")).await;
    b.wait_for(
        "document.querySelectorAll('#sessions tr[data-status=\"Active\"]').length === 3",
        20,
        "three active sessions",
    )
    .await;
    b.screenshot(&out.join("sessions.png")).await;

    // Id tokens: add, then block.
    b.open(&format!("{base}/tokens")).await;
    b.eval("(() => { const f = document.querySelector('#token-add'); f.elements.idToken.value = 'RFID-0042'; f.elements.tokenType.value = 'ISO14443'; f.querySelector('button').click(); return true; })()").await;
    b.wait_for(
        "document.querySelector('#tokens tr[data-token=\"RFID-0042\"][data-status=\"Accepted\"]') !== null",
        20,
        "the new token",
    )
    .await;
    b.eval("document.querySelector('#tokens tr[data-token=\"RFID-0042\"] button.danger').click(); true").await;
    b.wait_for(
        "document.querySelector('#tokens tr[data-token=\"RFID-0042\"][data-status=\"Blocked\"]') !== null",
        20,
        "the blocked token",
    )
    .await;
    b.eval("Array.from(document.querySelectorAll('#tokens tr[data-token=\"RFID-0042\"] button')).find(b => b.textContent === 'Expire').click(); true").await;
    b.wait_for(
        "document.querySelector('#tokens tr[data-token=\"RFID-0042\"][data-status=\"Expired\"]') !== null",
        20,
        "the expired token",
    )
    .await;
    let t = csms
        .csms
        .store()
        .id_token("RFID-0042", "ISO14443")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.status, "Expired");
    let expiry = chrono::DateTime::parse_from_rfc3339(t.expiry.as_deref().unwrap()).unwrap();
    assert!(expiry <= chrono::Utc::now(), "expired now");
    b.screenshot(&out.join("tokens.png")).await;

    // Load balancing: a group made in the page, a charging station added to it; the CSMS
    // gives its session a TxProfile, which the station page lists.
    b.open(&format!("{base}/load-balancing")).await;
    b.eval("(() => { const f = document.querySelector('#group-add'); f.elements.id.value = 'SITE-1'; f.elements.name.value = 'Garage'; f.elements.limit.value = '10'; f.elements.minPerCar.value = '6'; f.querySelector('button').click(); return true; })()").await;
    b.wait_for(
        "document.querySelector('[data-group=\"SITE-1\"]') !== null",
        20,
        "the new group",
    )
    .await;
    b.eval("(() => { const f = document.querySelector('#group-member'); f.elements.group.value = 'SITE-1'; f.elements.station.value = 'DASH-0002'; f.querySelector('button').click(); return true; })()").await;
    let limit = b
        .wait_for(
            "(function(){ const c = document.querySelector('[data-group=\"SITE-1\"] td.num.mono'); return c && /A$/.test(c.textContent) ? c.textContent : ''; })()",
            40,
            "the limit given to the session",
        )
        .await;
    assert_eq!(limit, json!("10 A"), "the whole limit to the one session");
    b.screenshot(&out.join("load-balancing.png")).await;
    b.open(&format!("{base}/stations/DASH-0002")).await;
    b.wait_for(
        "Array.from(document.querySelectorAll('#profiles tr[data-profile]')).some(r => r.innerText.includes('load-balancing') && r.innerText.includes('TxProfile'))",
        20,
        "the TxProfile on the station page",
    )
    .await;
    b.screenshot(&out.join("station-2.0.1-profile.png")).await;
    // The device model (2.x, GetBaseReport and NotifyReport) and the configuration keys (1.6,
    // GetConfiguration), read from the stations by a button.
    for id in ["DASH-0002", "DASH-0001"] {
        if id == "DASH-0001" {
            b.open(&format!("{base}/stations/{id}")).await;
        }
        b.eval("document.querySelector('#variables-live').previousElementSibling.previousElementSibling.querySelector('button').click(); true").await;
        let rows = b
            .wait_for(
                "document.querySelectorAll('#variables tbody tr:not(:has(.empty))').length",
                40,
                "the stored device model or configuration keys",
            )
            .await;
        println!(
            "{id}: {rows} device-model attributes or configuration keys read from the station"
        );
    }
    // The station follows the limit: its meter values show the lower power.
    b.open(&format!("{base}/sessions/DASH-0002/DASH-0002-1"))
        .await;
    let count = "(function(){ const s = document.querySelector('#session-chart'); return s ? +s.dataset.powerPoints : 0; })()";
    let now = b.wait_for(count, 20, "the chart").await.as_u64().unwrap();
    b.wait_for(&format!("{count} >= {}", now + 3), 60, "more readings")
        .await;
    b.screenshot(&out.join("session-2.0.1-balanced.png")).await;

    // OCPI: the partners and CDRs of the bridge; a TOKEN_A issued in the page; a new CDR
    // appears without a reload.
    seed_ocpi(&csms).await;
    b.open(&format!("{base}/ocpi")).await;
    b.wait_for(
        "document.querySelector('#partners tr[data-state=\"registered\"]') !== null && document.querySelectorAll('#cdrs tr[data-cdr]').length === 50",
        20,
        "the registered partner and a page of CDRs",
    )
    .await;
    b.eval("window.__notReloaded = true").await;
    b.eval("(() => { const f = document.querySelector('#token-a'); f.elements.name.value = 'Browser eMSP'; f.querySelector('button').click(); return true; })()").await;
    let issued = b
        .wait_for(
            "(document.querySelector('#token-out').className.includes('ok') || document.querySelector('#token-out').className.includes('err')) && document.querySelector('#token-out').textContent",
            20,
            "the new TOKEN_A",
        )
        .await;
    let issued = issued.as_str().unwrap();
    assert!(
        issued.starts_with("201") && issued.contains("token_a") && issued.contains("versions_url"),
        "{issued}"
    );
    b.wait_for(
        "Array.from(document.querySelectorAll('#partners tr[data-state=\"pending\"]')).some(r => r.innerText.includes('Browser eMSP'))",
        20,
        "the pending partner",
    )
    .await;
    let cpo = csms.ocpi.as_ref().unwrap();
    cpo.server.storage.put_kind(
        "cdrs",
        "SENDER",
        vec!["C-0121".into()],
        cdr(121, "NL", "XXX"),
    );
    b.wait_for(
        "document.querySelector('#cdrs tr[data-cdr]').dataset.cdr === 'C-0121' && document.querySelector('#stat-cdrs').textContent === '122'",
        20,
        "the new CDR on top",
    )
    .await;
    assert_eq!(b.eval("window.__notReloaded === true").await, json!(true));
    assert_eq!(
        b.eval("document.querySelectorAll('#cdrs tr[data-cdr]').length")
            .await,
        json!(50)
    );
    b.screenshot(&out.join("ocpi.png")).await;
    b.open(&format!("{base}/ocpi?page=3")).await;
    assert_eq!(
        b.eval("document.querySelectorAll('#cdrs tr[data-cdr]').length")
            .await,
        json!(22)
    );

    drop(b);
    sim.abort();
    csms.shutdown().await;
}
