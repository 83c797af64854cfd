//! The operator web dashboard, served by `csms serve` at `/` of the API address.
//!
//! Server-rendered HTML with inline CSS, a few lines of vanilla JavaScript for the live parts
//! and SVG charts drawn here: nothing to build, nothing fetched at run time. The pages:
//!
//! - `/`: the fleet: every station with its version, connection, last contact, connector
//!   statuses (coloured) and firmware; search, version and connection filters, pages of 50.
//! - `/stations/{id}`: one station: EVSEs and connectors, boot information, device model or
//!   configuration keys, recent messages with their direction and errors, the common commands
//!   and a form for any CSMS-initiated action of the station's version.
//! - `/sessions` and `/sessions/{station}/{transaction}`: sessions, active and finished, with
//!   energy, duration, token and a power / energy chart from the meter values.
//! - `/tokens`: id tokens: list, add, block, accept, expire, delete.
//! - `/load-balancing`: site load-balancing groups with their stations and the limits given to
//!   their sessions; the station page lists its installed charging profiles.
//! - `/ocpi`: the OCPI partners (parties, version, handshake state, push backlog, last delivery
//!   and error), a form that issues a `TOKEN_A`, and the CDRs (session, partner, times, energy,
//!   cost, whether pushed), paged; it says how to enable the bridge when it is off. Its routes
//!   ([`ocpi_routes`]) take the bridge handle and are merged next to the API router.
//!
//! Live parts are HTML fragments under `/ui/` that the page fetches again every second or two
//! (only the part shown: one page of the fleet, never all of it), and only while the tab is
//! visible. Commands go through the JSON API (`/api/...`), so the dashboard does nothing the API
//! does not. The routes are mounted in the API's router ([`crate::api::router`]): whatever
//! layer protects the API (authentication) protects the dashboard too.

mod chart;
mod fleet;
mod ocpi;
mod sessions;
mod smart;
mod station;
mod tokens;

use std::fmt::Write as _;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::api::ApiState;

/// The dashboard's routes, to be merged into the API router (they take its state).
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/", get(fleet::page))
        .route("/ui/fleet", get(fleet::fragment))
        .route("/stations/{id}", get(station::page))
        .route("/ui/stations/{id}/live", get(station::live))
        .route("/ui/stations/{id}/messages", get(station::messages))
        .route("/ui/stations/{id}/variables", get(station::variables))
        .route(
            "/ui/stations/{id}/validate/{action}",
            post(station::validate),
        )
        .route("/sessions", get(sessions::page))
        .route("/ui/sessions", get(sessions::fragment))
        .route("/sessions/{id}/{tx}", get(sessions::detail_page))
        .route("/ui/sessions/{id}/{tx}", get(sessions::detail_fragment))
        .route("/tokens", get(tokens::page))
        .route("/ui/tokens", get(tokens::fragment))
        .route("/load-balancing", get(smart::page))
        .route("/ui/load-balancing", get(smart::fragment))
}

/// The OCPI page's routes (`/ocpi`, `/ui/ocpi/...`), with the CPO bridge when it runs (the page
/// says how to enable it otherwise). Merge them into the app before its authentication layer.
pub fn ocpi_routes(
    csms: &std::sync::Arc<crate::domain::Csms>,
    cpo: Option<std::sync::Arc<crate::ocpi_cpo::OcpiCpo>>,
) -> Router {
    ocpi::routes(csms, cpo)
}

/// Refuses cross-site writes to the API and the dashboard: a request other than `GET`, `HEAD`
/// or `OPTIONS` that a browser sent from another site (its `Origin` names another host than
/// its `Host`, or `Sec-Fetch-Site` says `cross-site`) is answered 403. Without it, any web page
/// the operator opens could post to an API on loopback, or to one whose Basic credentials the
/// browser remembers. Clients that are not browsers send neither header and are not affected.
pub async fn same_origin_writes(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use axum::http::{header, Method};
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let h = req.headers();
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_ok = match h.get(header::ORIGIN).map(|v| v.to_str().unwrap_or("null")) {
        None => true,
        Some(o) => o
            .split_once("://")
            .is_some_and(|(_, rest)| !host.is_empty() && rest.eq_ignore_ascii_case(host)),
    };
    let site_ok = h
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v != "cross-site");
    if origin_ok && site_ok {
        return next.run(req).await;
    }
    tracing::warn!(path = %req.uri().path(), "cross-site write refused");
    (
        StatusCode::FORBIDDEN,
        axum::Json(serde_json::json!({"error": "cross-site request refused: send it from the dashboard or without an Origin header"})),
    )
        .into_response()
}

/// A page or fragment, or the HTML page of what went wrong.
type PageResult = Result<Html<String>, PageError>;

/// An error shown as a page.
#[derive(Debug)]
struct PageError(StatusCode, String);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let body = format!(
            r#"<div class="card empty"><h2>{}</h2><p>{}</p><p><a href="/">Back to the fleet</a></p></div>"#,
            self.0.as_u16(),
            esc(&self.1)
        );
        (self.0, Html(layout("Error", "", &body))).into_response()
    }
}

fn db(e: crate::store::StoreError) -> PageError {
    tracing::error!(error = %e, "dashboard storage error");
    PageError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

/// HTML-escapes text (for element content and quoted attributes).
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a path segment or query value.
fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `—` for nothing.
fn or_dash(s: Option<&str>) -> String {
    match s {
        Some(s) if !s.is_empty() => esc(s),
        _ => "<span class=\"muted\">—</span>".into(),
    }
}

fn parse_time(ts: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(ts)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// A time as `YYYY-MM-DD HH:MM:SS` UTC (the stored text when it does not parse).
fn fmt_time(ts: Option<&str>) -> String {
    match ts {
        None => or_dash(None),
        Some(t) => match parse_time(t) {
            Some(p) => format!(
                r#"<time datetime="{}">{}</time>"#,
                esc(t),
                p.format("%Y-%m-%d %H:%M:%S")
            ),
            None => esc(t),
        },
    }
}

/// A length of time in words: `42 s`, `3 min 5 s`, `2 h 10 min`, `3 d 4 h`.
fn fmt_span(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        3600..=86_399 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        _ => format!("{} d {} h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// How long ago a time was, with the time itself as tooltip.
fn ago(ts: Option<&str>) -> String {
    let Some(t) = ts else {
        return or_dash(None);
    };
    match parse_time(t) {
        Some(p) => {
            let secs = (chrono::Utc::now() - p).num_seconds();
            let words = if secs < 2 {
                "just now".to_owned()
            } else {
                format!("{} ago", fmt_span(secs))
            };
            format!(
                r#"<time datetime="{}" title="{} UTC">{words}</time>"#,
                esc(t),
                p.format("%Y-%m-%d %H:%M:%S")
            )
        }
        None => esc(t),
    }
}

/// The CSS class of a connector or EVSE status (any version's spelling).
fn status_class(status: &str) -> &'static str {
    match status {
        "Available" => "s-available",
        "Preparing" | "Occupied" => "s-occupied",
        "Charging" => "s-charging",
        "SuspendedEV" | "SuspendedEVSE" => "s-suspended",
        "Finishing" => "s-finishing",
        "Reserved" => "s-reserved",
        "Unavailable" => "s-unavailable",
        "Faulted" => "s-faulted",
        _ => "s-unknown",
    }
}

/// Query value of a parameter (empty when missing).
fn q<'a>(query: &'a std::collections::HashMap<String, String>, k: &str) -> &'a str {
    query.get(k).map(|s| s.trim()).unwrap_or("")
}

/// The 1-based page number of the query (1 when absent or malformed).
fn page_no(query: &std::collections::HashMap<String, String>) -> i64 {
    q(query, "page")
        .parse::<i64>()
        .ok()
        .filter(|p| (1..=1_000_000).contains(p))
        .unwrap_or(1)
}

/// Previous / next links of a paged listing. `base` is the page path with its other query
/// parameters (ending in `?` or `&`).
fn pager(base: &str, page: i64, per_page: i64, total: i64) -> String {
    let pages = ((total + per_page - 1) / per_page).max(1);
    let first = if total == 0 {
        0
    } else {
        (page - 1) * per_page + 1
    };
    let last = (page * per_page).min(total);
    let link = |p: i64, label: &str, enabled: bool| {
        if enabled {
            format!(
                r#"<a class="btn small" href="{}page={p}">{label}</a>"#,
                esc(base)
            )
        } else {
            format!(r#"<span class="btn small disabled">{label}</span>"#)
        }
    };
    format!(
        r#"<div class="pager"><span class="muted">{first}–{last} of {total}</span><span>{}<span class="pageno">Page {page} of {pages}</span>{}</span></div>"#,
        link(page - 1, "‹ Previous", page > 1),
        link(page + 1, "Next ›", page < pages),
    )
}

/// A whole page: the navigation, the title, the body, the styles and the script.
fn layout(title: &str, active: &str, body: &str) -> String {
    let nav = [
        ("fleet", "/", "Fleet"),
        ("sessions", "/sessions", "Sessions"),
        ("tokens", "/tokens", "Id tokens"),
        ("load", "/load-balancing", "Load balancing"),
        ("ocpi", "/ocpi", "OCPI"),
    ]
    .iter()
    .map(|(k, href, label)| {
        format!(
            r#"<a href="{href}"{}>{label}</a>"#,
            if *k == active {
                r#" class="active""#
            } else {
                ""
            }
        )
    })
    .collect::<String>();
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · CSMS</title><style>{CSS}</style></head>
<body><header class="top"><div class="wrap"><a class="brand" href="/"><span class="logo">⚡</span> ocpp-rs CSMS</a><nav>{nav}</nav><span class="spacer"></span><a class="apilink" href="/api/openapi.json">API</a></div></header>
<main class="wrap">{body}</main><pre class="out toast" id="toast" hidden></pre><script>{JS}</script></body></html>"#,
        title = esc(title),
    )
}

const CSS: &str = r#"
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1e293b;background:#f1f5f9}
a{color:#2563eb;text-decoration:none}a:hover{text-decoration:underline}
.wrap{max-width:1320px;margin:0 auto;padding:0 20px}
header.top{background:#0f172a;color:#e2e8f0;box-shadow:0 1px 0 #1e293b}
header.top .wrap{display:flex;align-items:center;height:54px;gap:28px}
.brand{color:#f8fafc;font-weight:650;font-size:16px;letter-spacing:.2px}.brand:hover{text-decoration:none}
.logo{display:inline-block;background:#22c55e;color:#0f172a;border-radius:6px;width:24px;height:24px;text-align:center;line-height:24px;margin-right:4px}
nav{display:flex;gap:4px}nav a{color:#cbd5e1;padding:6px 12px;border-radius:6px}
nav a:hover{background:#1e293b;text-decoration:none;color:#fff}nav a.active{background:#1e293b;color:#fff;font-weight:600}
.spacer{flex:1}.apilink{color:#94a3b8;font-size:13px}
main.wrap{padding:24px 20px 48px}
h1 .mono{font-size:inherit}
.cmd select{max-width:190px}
.toast{position:fixed;right:20px;bottom:20px;width:440px;max-width:calc(100% - 40px);z-index:10;box-shadow:0 8px 24px rgba(15,23,42,.25)}
h1{font-size:22px;margin:0 0 4px;font-weight:650}h2{font-size:16px;margin:0 0 12px;font-weight:620}
h3{font-size:13px;text-transform:uppercase;letter-spacing:.6px;color:#64748b;margin:14px 0 8px}
.sub{color:#64748b;margin-bottom:18px}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:10px;padding:16px 18px;margin-bottom:18px;box-shadow:0 1px 2px rgba(15,23,42,.04)}
.card.flush{padding:0;overflow:hidden}.card.flush>h2{padding:14px 18px 0}
.empty{text-align:center;color:#64748b;padding:40px}
.grid{display:grid;gap:18px}.g2{grid-template-columns:minmax(0,1fr) minmax(0,1fr)}.g3{grid-template-columns:repeat(3,minmax(0,1fr))}
.g4{grid-template-columns:repeat(4,minmax(0,1fr))}
@media(max-width:900px){.g2,.g3,.g4{grid-template-columns:1fr}}
.stat{background:#fff;border:1px solid #e2e8f0;border-radius:10px;padding:14px 18px}
.stat .v{font-size:24px;font-weight:650}.stat .l{color:#64748b;font-size:12px;text-transform:uppercase;letter-spacing:.5px}
table{width:100%;border-collapse:collapse}
th{text-align:left;font-size:12px;text-transform:uppercase;letter-spacing:.5px;color:#64748b;font-weight:600;padding:9px 12px;border-bottom:1px solid #e2e8f0;background:#f8fafc;white-space:nowrap}
td{padding:9px 12px;border-bottom:1px solid #f1f5f9;vertical-align:middle}
tr:last-child td{border-bottom:0}tbody tr:hover{background:#f8fafc}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.muted{color:#94a3b8}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;font-weight:600;background:#e2e8f0;color:#334155;white-space:nowrap}
.b-v16{background:#fef3c7;color:#92400e}.b-v201{background:#dbeafe;color:#1e40af}.b-v21{background:#ede9fe;color:#5b21b6}
.b-ok{background:#dcfce7;color:#166534}.b-warn{background:#fef3c7;color:#92400e}.b-bad{background:#fee2e2;color:#991b1b}.b-info{background:#dbeafe;color:#1e40af}
.dot{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:6px;vertical-align:0}
.on{background:#22c55e;box-shadow:0 0 0 3px #dcfce7}.off{background:#cbd5e1}
.conn{display:inline-flex;align-items:center;gap:4px;padding:2px 8px 2px 6px;border-radius:6px;font-size:12px;font-weight:600;margin:1px 4px 1px 0;border:1px solid transparent;white-space:nowrap}
.conn i{font-style:normal;opacity:.7;font-weight:500}
.s-available{background:#dcfce7;color:#166534;border-color:#bbf7d0}.s-occupied{background:#e0f2fe;color:#075985;border-color:#bae6fd}
.s-charging{background:#2563eb;color:#fff}.s-suspended{background:#fef3c7;color:#92400e;border-color:#fde68a}
.s-finishing{background:#ccfbf1;color:#115e59;border-color:#99f6e4}.s-reserved{background:#ede9fe;color:#5b21b6;border-color:#ddd6fe}
.s-unavailable{background:#f1f5f9;color:#475569;border-color:#e2e8f0}.s-faulted{background:#dc2626;color:#fff}.s-unknown{background:#f1f5f9;color:#64748b}
.toolbar{display:flex;gap:10px;align-items:center;flex-wrap:wrap;margin-bottom:14px}
input,select,textarea{font:inherit;padding:7px 10px;border:1px solid #cbd5e1;border-radius:7px;background:#fff;color:#0f172a}
input:focus,select:focus,textarea:focus{outline:2px solid #93c5fd;border-color:#60a5fa}
input[type=search]{min-width:340px}
textarea{width:100%;min-height:120px;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.btn,button{font:inherit;font-weight:600;display:inline-block;padding:7px 14px;border-radius:7px;border:1px solid #cbd5e1;background:#fff;color:#1e293b;cursor:pointer;white-space:nowrap}
.btn:hover,button:hover{background:#f8fafc;text-decoration:none}
button.primary{background:#2563eb;border-color:#2563eb;color:#fff}button.primary:hover{background:#1d4ed8}
button.danger{color:#b91c1c;border-color:#fecaca}button.danger:hover{background:#fef2f2}
.btn.small,button.small{padding:3px 10px;font-size:12.5px}
.btn.disabled{opacity:.45;cursor:default}
.pager{display:flex;justify-content:space-between;align-items:center;padding:10px 14px;border-top:1px solid #e2e8f0;background:#f8fafc}
.pageno{margin:0 10px;color:#475569}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:6px 18px;margin:0}
dl.kv dt{color:#64748b}dl.kv dd{margin:0;word-break:break-word}
.cmds{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:14px}
@media(max-width:1000px){.cmds{grid-template-columns:1fr}}
.cmd{border:1px solid #e2e8f0;border-radius:8px;padding:12px;background:#fcfdfe}
.cmd h4{margin:0 0 8px;font-size:13px}
.cmd .row{display:flex;gap:6px;flex-wrap:wrap;align-items:center}
.cmd input,.cmd select{padding:5px 8px;font-size:13px}.cmd input[type=number]{width:70px}
.out{white-space:pre-wrap;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px;background:#0f172a;color:#e2e8f0;border-radius:8px;padding:10px 12px;min-height:44px;margin:12px 0 0;max-height:320px;overflow:auto}
.out.ok{border-left:4px solid #22c55e}.out.err{border-left:4px solid #ef4444}.out.pending{opacity:.7}
.dir{font-weight:700;font-size:13px}.dir-in{color:#0891b2}.dir-out{color:#7c3aed}
tr.err td{background:#fef2f2}
details summary{cursor:pointer;color:#475569}
.scroll{max-height:420px;overflow:auto}
.chart{width:100%;height:auto;display:block}
.legend{display:flex;gap:16px;font-size:12.5px;color:#475569;margin:4px 0 8px}
.legend span::before{content:"";display:inline-block;width:18px;height:3px;border-radius:2px;margin-right:6px;vertical-align:middle;background:var(--c)}
.hint{font-size:12.5px;color:#64748b;margin-top:6px}
.note{font-size:12px}.err-text{color:#b91c1c;font-size:12.5px}
"#;

const JS: &str = r#"
(function(){
  const live = [];
  async function refresh(el){
    try{
      const r = await fetch(el.dataset.live, {headers:{'Accept':'text/html'}, cache:'no-store'});
      if(!r.ok) return;
      const t = await r.text();
      if(t !== el._last){ el._last = t; el.innerHTML = t; }
    }catch(e){}
  }
  function loop(el){
    const every = +(el.dataset.every || 2000);
    setTimeout(async function tick(){
      if(!document.hidden) await refresh(el);
      setTimeout(tick, every);
    }, every);
  }
  document.querySelectorAll('[data-live]').forEach(function(el){ el._last = el.innerHTML; live.push(el); loop(el); });
  window.refreshLive = function(){ live.forEach(refresh); };
  document.addEventListener('visibilitychange', function(){ if(!document.hidden) window.refreshLive(); });

  async function show(out, r){
    let t = await r.text();
    try{ t = JSON.stringify(JSON.parse(t), null, 2); }catch(e){}
    out.textContent = r.status + ' ' + r.statusText + (t ? '\n' + t : '');
    out.className = 'out ' + (r.ok ? 'ok' : 'err') + (out.id === 'toast' ? ' toast' : '');
    if(out.id === 'toast'){ clearTimeout(out._t); out._t = setTimeout(function(){ out.hidden = true; }, 8000); }
    return r.ok;
  }
  async function send(method, url, body, out){
    out.hidden = false;
    out.textContent = method + ' ' + url + ' …'; out.className = 'out pending' + (out.id === 'toast' ? ' toast' : '');
    try{
      const r = await fetch(url, {method:method, headers:{'Content-Type':'application/json'}, body:body});
      const ok = await show(out, r);
      window.refreshLive();
      return ok;
    }catch(e){ out.textContent = String(e); out.className = 'out err'; return false; }
  }
  window.dashSend = send;
  function fields(f){
    const body = {};
    for(const el of f.elements){
      if(!el.name || el.value === '') continue;
      let v = el.value;
      if(el.dataset.t === 'int') v = parseInt(v, 10);
      else if(el.dataset.t === 'bool') v = (v === 'true');
      else if(el.dataset.t === 'time') v = new Date(v).toISOString();
      body[el.name] = v;
    }
    return body;
  }
  document.addEventListener('submit', function(e){
    const f = e.target;
    const out = document.getElementById(f.dataset.out || 'out') || document.getElementById('toast');
    if(f.dataset.api){
      e.preventDefault();
      const sp = f.dataset.api.indexOf(' ');
      const body = fields(f);
      // {name} in the URL takes the field's value (and leaves the body).
      const url = f.dataset.api.slice(sp + 1).replace(/\{(\w+)\}/g, function(m, k){
        const v = body[k]; delete body[k]; return encodeURIComponent(v === undefined ? '' : v);
      });
      send(f.dataset.api.slice(0, sp), url, JSON.stringify(body), out)
        .then(function(ok){ if(ok && f.dataset.reset) f.reset(); });
    } else if(f.dataset.call){
      e.preventDefault();
      const action = f.elements.action.value, payload = f.elements.payload.value || '{}';
      const check = e.submitter && e.submitter.value === 'validate';
      const base = check ? f.dataset.validate : f.dataset.call;
      send('POST', base + encodeURIComponent(action), payload, out);
    }
  });
  document.addEventListener('click', function(e){
    const b = e.target.closest('button[data-method]');
    if(!b) return;
    e.preventDefault();
    if(b.dataset.confirm && !confirm(b.dataset.confirm)) return;
    let body = b.dataset.body;
    if(body && body.indexOf('"@now"') >= 0) body = body.replace('"@now"', JSON.stringify(new Date().toISOString()));
    send(b.dataset.method, b.dataset.url, body, document.getElementById(b.dataset.out || 'out') || document.getElementById('toast'));
  });
  document.querySelectorAll('form.autosubmit select').forEach(function(s){ s.addEventListener('change', function(){ s.form.submit(); }); });
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_encoding() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(enc("CS 1/ä"), "CS%201%2F%C3%A4");
    }

    #[test]
    fn spans_and_pages() {
        assert_eq!(fmt_span(42), "42 s");
        assert_eq!(fmt_span(185), "3 min 5 s");
        assert_eq!(fmt_span(7_800), "2 h 10 min");
        assert_eq!(fmt_span(273_600), "3 d 4 h");
        let p = pager("/?q=x&", 2, 50, 120);
        assert!(p.contains("51–100 of 120"), "{p}");
        assert!(p.contains(r#"href="/?q=x&amp;page=1""#), "{p}");
        assert!(p.contains(r#"href="/?q=x&amp;page=3""#), "{p}");
        let p = pager("/?", 1, 50, 0);
        assert!(p.contains("0–0 of 0") && p.contains("Page 1 of 1"), "{p}");
    }
}
