//! The OCPI page: the roaming partners of the CPO bridge ([`crate::ocpi_cpo`]) with their
//! handshake state and push outbox, the CDRs the bridge made (whether each reached its eMSP),
//! and a form that issues a `TOKEN_A` for a new partner through `POST /api/ocpi/partners`.
//!
//! The bridge is optional (`[ocpi] listen`), so these routes have their own state, the bridge
//! handle or nothing, and are merged by [`crate::server`] next to the API router (before the
//! authentication layer, which therefore covers them). Without the bridge the page says how to
//! enable it.
//!
//! Whether a CDR was pushed is read from the outbox: an index from CDR id to its `POST`,
//! built incrementally (each queued CDR's body read once), then only the pushes of the CDRs
//! on the page shown are read again at each refresh. The CDRs themselves are paged in memory
//! ([`crate::ocpi_cpo::storage::CpoStorage::page_kind`]): only the page shown is copied.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use ocpi::v221::ModuleId;
use serde_json::Value;

use super::{ago, db, enc, esc, fmt_time, layout, or_dash, page_no, pager, PageResult};
use crate::domain::Csms;
use crate::ocpi_cpo::db::{OcpiDb, OutboxRow};
use crate::ocpi_cpo::OcpiCpo;

/// CDRs per page.
const PER_PAGE: i64 = 50;
/// Outbox rows read at once while indexing the CDR pushes.
const INDEX_CHUNK: i64 = 1000;
/// The pushes of a page of CDRs are read in runs of queue positions at most this long.
const STATUS_SPAN: i64 = 1000;

/// The state of the OCPI page: the bridge when it runs, its storage, the push index.
#[derive(Clone)]
pub(super) struct OcpiView {
    cpo: Option<Arc<OcpiCpo>>,
    db: Option<Arc<dyn OcpiDb>>,
    pushes: Arc<tokio::sync::Mutex<PushIndex>>,
}

impl std::fmt::Debug for OcpiView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OcpiView")
            .field("cpo", &self.cpo)
            .finish_non_exhaustive()
    }
}

/// Which outbox row carries the `POST` of each CDR.
#[derive(Debug, Default)]
struct PushIndex {
    /// Outbox rows up to this id are indexed.
    after: i64,
    /// CDR id to outbox row id.
    by_cdr: HashMap<String, i64>,
}

/// Only the id of a queued CDR body is read.
#[derive(serde::Deserialize)]
struct IdOnly {
    id: Option<String>,
}

/// The routes of the page (`/ocpi` and its fragments), with the bridge when it runs.
pub(super) fn routes(csms: &Arc<Csms>, cpo: Option<Arc<OcpiCpo>>) -> Router {
    let view = OcpiView {
        db: cpo.as_ref().and_then(|_| csms.store().ocpi_db()),
        cpo,
        pushes: Arc::default(),
    };
    Router::new()
        .route("/ocpi", get(page))
        .route("/ui/ocpi/partners", get(partners_fragment))
        .route("/ui/ocpi/cdrs", get(cdrs_fragment))
        .with_state(view)
}

/// The text shown instead of the page when the bridge is off.
fn disabled() -> String {
    r#"<div class="card" id="ocpi-disabled"><h2>OCPI is not enabled</h2>
<p>This CSMS runs without its OCPI CPO bridge: it has no roaming partners and makes no CDRs.
The bridge listens on an address of its own, which eMSPs reach with their OCPI tokens. To enable
it, set that address and restart <span class="mono">csms serve</span>:</p>
<pre class="out">[ocpi]
listen = "0.0.0.0:9002"      # the OCPI server's address
# url = "https://ocpi.example.com/ocpi"   # public base URL behind a proxy
# country_code = "NL"
# party_id = "CPO"</pre>
<p class="hint">or <span class="mono">CSMS_OCPI_LISTEN=0.0.0.0:9002</span>, or
<span class="mono">csms serve --ocpi-listen 0.0.0.0:9002</span>. Then this page lists the
partners, issues their <span class="mono">TOKEN_A</span> and shows the CDRs.</p></div>"#
        .into()
}

/// A JSON number or string as text (`—` for anything else).
fn number(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// The partner's roles: `NL-EMS (EMSP, name)`.
fn roles(p: &Value) -> String {
    let Some(rs) = p["roles"].as_array().filter(|r| !r.is_empty()) else {
        return or_dash(None);
    };
    rs.iter()
        .map(|r| {
            format!(
                r#"<div><span class="mono">{}-{}</span> <span class="badge b-info">{}</span>{}</div>"#,
                esc(r["country_code"].as_str().unwrap_or("?")),
                esc(r["party_id"].as_str().unwrap_or("?")),
                esc(r["role"].as_str().unwrap_or("?")),
                r.pointer("/business_details/name")
                    .and_then(Value::as_str)
                    .map(|n| format!(r#" <span class="muted">{}</span>"#, esc(n)))
                    .unwrap_or_default(),
            )
        })
        .collect()
}

/// The partner whose roles hold this party (the owner of a token).
fn owner<'a>(partners: &'a [Value], cc: &str, pid: &str) -> Option<&'a Value> {
    partners.iter().find(|p| {
        p["roles"].as_array().is_some_and(|rs| {
            rs.iter().any(|r| {
                r["country_code"]
                    .as_str()
                    .is_some_and(|c| c.eq_ignore_ascii_case(cc))
                    && r["party_id"]
                        .as_str()
                        .is_some_and(|p| p.eq_ignore_ascii_case(pid))
            })
        })
    })
}

/// `#3 Name` of a partner.
fn partner_label(p: &Value) -> String {
    let id = p["id"].as_u64().unwrap_or_default();
    match p["name"].as_str() {
        Some(n) if !n.is_empty() => format!("#{id} {}", esc(n)),
        _ => format!("#{id}"),
    }
}

fn state_badge(state: &str) -> String {
    let class = match state {
        "registered" => "b-ok",
        "pending" => "b-warn",
        _ => "b-bad",
    };
    format!(r#"<span class="badge {class}">{}</span>"#, esc(state))
}

/// The handshake state of a partner, with a hub mark and its delivery circuit when not closed
/// (the bridge's `health`: open after failures in a row, half-open while probing).
fn state_badges(p: &Value) -> String {
    let state = p["state"].as_str().unwrap_or("unknown");
    let mut out = state_badge(state);
    if p["hub"].as_bool() == Some(true) {
        out.push_str(r#" <span class="badge b-info">hub</span>"#);
    }
    let failures = p["health"]["consecutive_failures"].as_u64().unwrap_or(0);
    let circuit = match p["health"]["circuit"].as_str() {
        Some("open") => Some(("b-bad", "open", "circuit open")),
        Some("half_open") => Some(("b-warn", "half_open", "circuit half-open")),
        _ => None,
    };
    if let Some((class, key, label)) = circuit {
        let _ = write!(
            out,
            r#" <span class="badge {class}" data-circuit="{key}" title="{failures} failed deliveries in a row: pushes wait, in order, until the partner answers again">{label}</span>"#
        );
    }
    out
}

/// The summary cards and the partners table.
async fn render_partners(v: &OcpiView) -> PageResult {
    let (Some(cpo), Some(odb)) = (&v.cpo, &v.db) else {
        return Ok(Html(disabled()));
    };
    let partners = cpo.partners_json();
    let issued: HashMap<i64, String> = odb
        .partners()
        .await
        .map_err(db)?
        .into_iter()
        .map(|p| (p.id, p.created_at))
        .collect();
    let mut rows = String::new();
    let mut backlog = 0;
    let mut registered = 0;
    for p in &partners {
        let id = p["id"].as_i64().unwrap_or_default();
        let state = p["state"].as_str().unwrap_or("unknown");
        if state == "registered" {
            registered += 1;
        }
        let sum = odb.outbox_summary(id).await.map_err(db)?;
        backlog += sum.pending;
        let pending = if sum.pending == 0 {
            r#"<span class="badge b-ok">empty</span>"#.to_owned()
        } else {
            format!(
                r#"<span class="badge {}">{} waiting</span>"#,
                if sum.head_error.is_some() {
                    "b-warn"
                } else {
                    "b-info"
                },
                sum.pending
            )
        };
        // The error holding the partner's pushes back (of its oldest undelivered push), not
        // one of a push delivered since.
        let error = match &sum.head_error {
            Some(e) => {
                let short: String = e.chars().take(90).collect();
                format!(
                    r#"<span class="err-text" title="{}">{}{}</span>"#,
                    esc(e),
                    esc(&short),
                    if short.len() < e.len() { "…" } else { "" }
                )
            }
            None => or_dash(None),
        };
        let version = match p["version"].as_str() {
            Some(ver) => format!(
                r#"<span class="badge b-v201">{}</span><div class="muted mono note">{}</div>"#,
                esc(ver),
                esc(p["versions_url"].as_str().unwrap_or_default())
            ),
            None => or_dash(None),
        };
        let endpoints = p["endpoints"].as_array().map_or(0, Vec::len);
        let _ = write!(
            rows,
            r#"<tr data-partner="{id}" data-state="{}" data-pending="{}"><td><strong>{}</strong><div class="muted note">TOKEN_A issued {}</div></td><td>{}</td><td>{}</td><td>{}{}</td><td class="num"><a href="/api/ocpi/partners/{id}/outbox" title="The partner's pushes (JSON)">{pending}</a></td><td>{}</td><td>{error}</td></tr>"#,
            esc(state),
            sum.pending,
            partner_label(p),
            ago(issued.get(&id).map(String::as_str)),
            roles(p),
            version,
            state_badges(p),
            if endpoints > 0 {
                format!(r#"<div class="muted note">{endpoints} endpoints</div>"#)
            } else {
                String::new()
            },
            ago(sum.last_delivered_at.as_deref()),
        );
    }
    if partners.is_empty() {
        rows.push_str(r#"<tr><td colspan="7" class="empty">No partner yet: issue a TOKEN_A above and give it to the eMSP with our versions URL.</td></tr>"#);
    }
    let cdrs = cpo
        .server
        .storage
        .count_kind(ModuleId::Cdrs.as_str(), "SENDER");
    let (cc, pid) = cpo.party();
    let mut out = format!(
        r#"<div class="grid g4" style="margin-bottom:18px"><div class="stat"><div class="v" id="stat-partners">{registered} / {}</div><div class="l">Partners registered</div></div><div class="stat"><div class="v" id="stat-cdrs">{cdrs}</div><div class="l">CDRs</div></div><div class="stat"><div class="v" id="stat-backlog">{backlog}</div><div class="l">Pushes waiting</div></div><div class="stat"><div class="v mono">{}-{}</div><div class="l">Our party (CPO)</div></div></div>"#,
        partners.len(),
        esc(cc),
        esc(pid),
    );
    let _ = write!(
        out,
        r#"<div class="card flush"><h2>Partners</h2><table id="partners"><thead><tr><th>Partner</th><th>Parties</th><th>Version</th><th>Handshake</th><th class="num">Outbox</th><th>Last delivery</th><th>Last error</th></tr></thead><tbody>{rows}</tbody></table></div>"#
    );
    Ok(Html(out))
}

/// The push state of a CDR from its outbox row.
fn push_badge(row: Option<&OutboxRow>, queued: bool) -> String {
    let Some(r) = row else {
        return if queued {
            r#"<span class="badge b-info" data-push="queued">queued</span>"#.into()
        } else {
            r#"<span class="muted" data-push="none" title="No registered partner owns the CDR's token">not pushed</span>"#.into()
        };
    };
    match (&r.delivered_at, r.result.as_deref()) {
        (Some(at), Some(why)) if why.starts_with("dropped:") => format!(
            r#"<span class="badge b-bad" data-push="refused" title="{}">refused</span> {}"#,
            esc(why),
            ago(Some(at))
        ),
        (Some(at), result) => format!(
            r#"<span class="badge b-ok" data-push="pushed" title="{}">pushed</span> {}"#,
            esc(result.unwrap_or("delivered")),
            ago(Some(at))
        ),
        (None, _) if r.attempts > 0 => format!(
            r#"<span class="badge b-warn" data-push="retrying" title="{}">retrying ({})</span>"#,
            esc(r.last_error.as_deref().unwrap_or_default()),
            r.attempts
        ),
        (None, _) => r#"<span class="badge b-info" data-push="queued">queued</span>"#.into(),
    }
}

/// Indexes the CDR pushes queued since the last call.
async fn index_pushes(odb: &dyn OcpiDb, idx: &mut PushIndex) -> Result<(), super::PageError> {
    let module = ModuleId::Cdrs.as_str();
    loop {
        let rows = odb
            .outbox_of_module(module, idx.after, INDEX_CHUNK)
            .await
            .map_err(db)?;
        for r in &rows {
            idx.after = idx.after.max(r.id);
            if r.method != "POST" {
                continue;
            }
            if let Ok(IdOnly { id: Some(id) }) = serde_json::from_str(&r.body) {
                idx.by_cdr.insert(id, r.id);
            }
        }
        if (rows.len() as i64) < INDEX_CHUNK {
            return Ok(());
        }
    }
}

/// Queue positions grouped in runs `(first, last)` shorter than `span`, in order.
fn runs(mut ids: Vec<i64>, span: i64) -> Vec<(i64, i64)> {
    ids.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::new();
    for id in ids {
        match out.last_mut() {
            Some((lo, hi)) if id - *lo < span => *hi = id,
            _ => out.push((id, id)),
        }
    }
    out
}

/// One page of CDRs, newest first.
async fn render_cdrs(v: &OcpiView, query: &HashMap<String, String>) -> PageResult {
    let (Some(cpo), Some(odb)) = (&v.cpo, &v.db) else {
        return Ok(Html(String::new()));
    };
    let page = page_no(query);
    let module = ModuleId::Cdrs.as_str();
    let (total, shown) = cpo.server.storage.page_kind(
        module,
        "SENDER",
        ((page - 1) * PER_PAGE) as usize,
        PER_PAGE as usize,
    );
    let total = total as i64;
    let shown: Vec<Value> = shown.into_iter().map(|(_, c)| c).collect();
    // Which push carries each CDR of the page, and its state.
    let mut rows_by_id: HashMap<i64, OutboxRow> = HashMap::new();
    let push_of: HashMap<String, i64> = {
        let mut idx = v.pushes.lock().await;
        index_pushes(odb.as_ref(), &mut idx).await?;
        shown
            .iter()
            .filter_map(|c| {
                let id = c["id"].as_str()?;
                Some((id.to_owned(), *idx.by_cdr.get(id)?))
            })
            .collect()
    };
    // Read in runs of nearby queue positions (one run for a page pushed in order).
    for (lo, hi) in runs(push_of.values().copied().collect(), STATUS_SPAN) {
        for r in odb
            .outbox_of_module(module, lo - 1, hi - lo + 1)
            .await
            .map_err(db)?
        {
            rows_by_id.insert(r.id, r);
        }
    }
    let partners = cpo.partners_json();
    let mut out = String::from(
        r#"<div class="card flush"><h2>Charge detail records</h2><table id="cdrs"><thead><tr><th>CDR</th><th>Session</th><th>Partner</th><th>Start (UTC)</th><th>End (UTC)</th><th class="num">Energy</th><th class="num">Total cost</th><th>Pushed</th></tr></thead><tbody>"#,
    );
    for c in &shown {
        let id = c["id"].as_str().unwrap_or_default();
        let session_id = c["session_id"].as_str().unwrap_or_default();
        let link = cpo
            .server
            .storage
            .get_kind("x-session", "SENDER", &[session_id.to_owned()]);
        let session = match &link {
            Some(s) => match (s["station"].as_str(), s["transaction"].as_str()) {
                (Some(st), Some(tx)) => format!(
                    r#"<a class="mono" href="/sessions/{}/{}" title="{} transaction {}">{}</a>"#,
                    enc(st),
                    enc(tx),
                    esc(st),
                    esc(tx),
                    esc(session_id)
                ),
                _ => format!(r#"<span class="mono">{}</span>"#, esc(session_id)),
            },
            None => or_dash(Some(session_id)),
        };
        let push = push_of.get(id);
        let row = push.and_then(|p| rows_by_id.get(p));
        let tcc = c.pointer("/cdr_token/country_code").and_then(Value::as_str);
        let tpid = c.pointer("/cdr_token/party_id").and_then(Value::as_str);
        let partner = match row {
            Some(r) => partners
                .iter()
                .find(|p| p["id"].as_i64() == Some(r.partner_id))
                .map(partner_label)
                .unwrap_or_else(|| format!("#{}", r.partner_id)),
            None => match (tcc, tpid) {
                (Some(cc), Some(pid)) => owner(&partners, cc, pid)
                    .map(partner_label)
                    .unwrap_or_else(|| r#"<span class="muted">none</span>"#.into()),
                _ => or_dash(None),
            },
        };
        let party = match (tcc, tpid) {
            (Some(cc), Some(pid)) => format!(
                r#"<div class="muted note mono">{}-{}</div>"#,
                esc(cc),
                esc(pid)
            ),
            _ => String::new(),
        };
        let currency = c["currency"].as_str().unwrap_or_default();
        let cost = match number(&c["total_cost"]["excl_vat"]) {
            Some(x) => {
                let incl = number(&c["total_cost"]["incl_vat"])
                    .map(|i| {
                        format!(
                            r#"<div class="muted note">{} {} incl. VAT</div>"#,
                            esc(&i),
                            esc(currency)
                        )
                    })
                    .unwrap_or_default();
                format!("{} {}{incl}", esc(&x), esc(currency))
            }
            None => or_dash(None),
        };
        let _ = write!(
            out,
            r#"<tr data-cdr="{}"><td class="mono">{}</td><td>{session}</td><td>{partner}{party}</td><td>{}</td><td>{}</td><td class="num">{}</td><td class="num"{}>{cost}</td><td>{}</td></tr>"#,
            esc(id),
            esc(id),
            fmt_time(c["start_date_time"].as_str()),
            fmt_time(c["end_date_time"].as_str()),
            number(&c["total_energy"])
                .map(|k| format!("{} kWh", esc(&k)))
                .unwrap_or_else(|| or_dash(None)),
            c["remark"]
                .as_str()
                .map(|r| format!(r#" title="{}""#, esc(r)))
                .unwrap_or_default(),
            push_badge(row, push.is_some()),
        );
    }
    if shown.is_empty() {
        out.push_str(r#"<tr><td colspan="8" class="empty">No CDR yet: a CDR is made when a session started with a partner's token ends at an EVSE assigned to an OCPI location.</td></tr>"#);
    }
    out.push_str("</tbody></table>");
    out.push_str(&pager("/ocpi?", page, PER_PAGE, total));
    out.push_str("</div>");
    Ok(Html(out))
}

/// `GET /ocpi`: partners, the `TOKEN_A` form and the CDRs.
async fn page(
    State(v): State<OcpiView>,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    let Some(cpo) = &v.cpo else {
        let body = format!(
            r#"<h1>OCPI</h1><div class="sub">Roaming partners (eMSPs) and the charge detail records sent to them.</div>{}"#,
            disabled()
        );
        return Ok(Html(layout("OCPI", "ocpi", &body)));
    };
    let partners = render_partners(&v).await?.0;
    let cdrs = render_cdrs(&v, &query).await?.0;
    let body = format!(
        r#"<h1>OCPI</h1><div class="sub">Roaming partners (eMSPs) of the CPO bridge at <span class="mono">{}</span> and the charge detail records sent to them. Our versions URL: <span class="mono" id="versions-url">{}</span></div>
<div class="card"><h2>New partner</h2><form id="token-a" class="toolbar" style="margin:0" data-api="POST /api/ocpi/partners" data-out="token-out" data-reset="1">
<input name="name" placeholder="Partner name (optional)" maxlength="100" aria-label="Partner name">
<button class="primary" type="submit">Issue TOKEN_A</button></form>
<div class="hint">Give the eMSP the <span class="mono">token_a</span> and the <span class="mono">versions_url</span> shown below: it registers with them through the credentials handshake and then appears as registered. The token is shown once.</div>
<pre class="out" id="token-out" hidden></pre></div>
<div id="partners-live" data-live="/ui/ocpi/partners" data-every="3000">{partners}</div>
<div id="cdrs-live" data-live="/ui/ocpi/cdrs?page={}" data-every="5000">{cdrs}</div>"#,
        esc(&cpo.addr.to_string()),
        esc(&cpo.versions_url()),
        page_no(&query),
    );
    Ok(Html(layout("OCPI", "ocpi", &body)))
}

/// `GET /ui/ocpi/partners`: the live part with the partners.
async fn partners_fragment(State(v): State<OcpiView>) -> PageResult {
    render_partners(&v).await
}

/// `GET /ui/ocpi/cdrs`: the live part with one page of CDRs.
async fn cdrs_fragment(
    State(v): State<OcpiView>,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    render_cdrs(&v, &query).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(delivered: Option<&str>, result: Option<&str>, attempts: i64) -> OutboxRow {
        OutboxRow {
            id: 1,
            partner_id: 1,
            method: "POST".into(),
            module: "cdrs".into(),
            path: "[]".into(),
            body: "{}".into(),
            created_at: "2026-01-01T10:00:00.000Z".into(),
            attempts,
            last_error: (attempts > 0).then(|| "HTTP 503 <busy>".into()),
            delivered_at: delivered.map(Into::into),
            result: result.map(Into::into),
        }
    }

    #[test]
    fn push_states() {
        let t = Some("2026-01-01T10:00:00.000Z");
        assert!(push_badge(None, false).contains(r#"data-push="none""#));
        assert!(push_badge(None, true).contains(r#"data-push="queued""#));
        assert!(push_badge(Some(&row(None, None, 0)), true).contains(r#"data-push="queued""#));
        let r = push_badge(Some(&row(None, None, 2)), true);
        assert!(
            r.contains("retrying (2)") && r.contains("HTTP 503 &lt;busy&gt;"),
            "{r}"
        );
        let r = push_badge(Some(&row(t, Some("https://emsp/cdrs/1"), 0)), true);
        assert!(r.contains(r#"data-push="pushed""#) && r.contains("https://emsp/cdrs/1"));
        let r = push_badge(Some(&row(t, Some("dropped: no endpoint"), 1)), true);
        assert!(r.contains(r#"data-push="refused""#), "{r}");
    }

    #[test]
    fn handshake_hub_and_circuit() {
        let p = json!({"state": "registered", "hub": true,
            "health": {"circuit": "open", "consecutive_failures": 5}});
        let b = state_badges(&p);
        assert!(b.contains(">registered<") && b.contains(">hub<"), "{b}");
        assert!(
            b.contains(r#"data-circuit="open""#) && b.contains("5 failed"),
            "{b}"
        );
        let b = state_badges(&json!({"state": "registered", "health": {"circuit": "closed"}}));
        assert!(!b.contains("circuit") && !b.contains("hub"), "{b}");
        let b = state_badges(&json!({"state": "pending", "health": {"circuit": "half_open"}}));
        assert!(
            b.contains("b-warn") && b.contains("circuit half-open"),
            "{b}"
        );
    }

    #[test]
    fn pushes_are_read_in_runs() {
        assert!(runs(vec![], 10).is_empty());
        assert_eq!(runs(vec![7, 3, 5], 10), [(3, 7)]);
        assert_eq!(
            runs(vec![100, 1, 10, 11, 250, 105], 10),
            [(1, 10), (11, 11), (100, 105), (250, 250)]
        );
    }

    #[test]
    fn partners_and_owners() {
        let ps = vec![
            json!({"id": 1, "name": "<Alpha>", "state": "pending"}),
            json!({"id": 2, "state": "registered", "roles": [
                {"role": "EMSP", "country_code": "DE", "party_id": "EMS",
                 "business_details": {"name": "Beta & Co"}}]}),
        ];
        assert_eq!(partner_label(&ps[0]), "#1 &lt;Alpha&gt;");
        assert_eq!(
            owner(&ps, "de", "ems").map(partner_label),
            Some("#2".into())
        );
        assert!(owner(&ps, "NL", "EMS").is_none());
        let r = roles(&ps[1]);
        assert!(r.contains("DE-EMS") && r.contains("EMSP") && r.contains("Beta &amp; Co"));
        assert!(roles(&ps[0]).contains("—"));
        assert_eq!(number(&json!(1.5)).as_deref(), Some("1.5"));
        assert_eq!(number(&json!("2.25")).as_deref(), Some("2.25"));
        assert_eq!(number(&Value::Null), None);
        assert!(disabled().contains("[ocpi]") && disabled().contains("CSMS_OCPI_LISTEN"));
    }
}
