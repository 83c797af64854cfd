//! The id tokens page: list, add, block, accept, expire, delete (through `/api/id-tokens`).

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::extract::{Query, State};
use axum::response::Html;
use serde_json::json;

use super::{db, enc, esc, fmt_time, layout, or_dash, page_no, pager, parse_time, PageResult};
use crate::api::ApiState;
use crate::store::{IdTokenRecord, Page};

const PER_PAGE: i64 = 50;

fn status_badge(t: &IdTokenRecord) -> String {
    let expired = t
        .expiry
        .as_deref()
        .and_then(parse_time)
        .is_some_and(|e| e <= chrono::Utc::now());
    let class = match t.status.as_str() {
        "Accepted" if !expired => "b-ok",
        "Accepted" => "b-warn",
        "Blocked" | "Invalid" => "b-bad",
        _ => "b-warn",
    };
    format!(
        r#"<span class="badge {class}">{}</span>{}"#,
        esc(&t.status),
        if expired && t.status == "Accepted" {
            r#" <span class="badge b-warn">past expiry</span>"#
        } else {
            ""
        }
    )
}

/// A button that PUTs the token with another status (and expiry).
fn put_button(t: &IdTokenRecord, label: &str, status: &str, expire: bool, class: &str) -> String {
    let body = json!({
        "tokenType": t.token_type,
        "status": status,
        "expiry": if expire { json!("@now") } else { json!(t.expiry) },
        "parentId": t.parent_id,
        "groupId": t.group_id,
    });
    format!(
        r#"<button class="small {class}" data-method="PUT" data-url="/api/id-tokens/{}" data-body="{}">{label}</button>"#,
        enc(&t.id_token),
        esc(&body.to_string())
    )
}

async fn render(s: &ApiState, query: &HashMap<String, String>) -> PageResult {
    let page = page_no(query);
    let store = s.csms.store();
    let list = store
        .id_tokens(Page {
            limit: PER_PAGE,
            offset: (page - 1) * PER_PAGE,
        })
        .await
        .map_err(db)?;
    let total = store.count_id_tokens().await.map_err(db)?;
    let mut out = String::from(
        r#"<div class="card flush"><table id="tokens"><thead><tr><th>Id token</th><th>Type</th><th>Status</th><th>Expiry (UTC)</th><th>Parent / group</th><th></th></tr></thead><tbody>"#,
    );
    for t in &list {
        let mut actions = String::new();
        if t.status != "Blocked" {
            actions.push_str(&put_button(t, "Block", "Blocked", false, "danger"));
        }
        if t.status != "Accepted" {
            actions.push_str(&put_button(t, "Accept", "Accepted", false, ""));
        }
        if t.status != "Expired" {
            actions.push_str(&put_button(t, "Expire", "Expired", true, ""));
        }
        let _ = write!(
            actions,
            r#"<button class="small" data-method="DELETE" data-url="/api/id-tokens/{}?type={}" data-confirm="Delete this token?">Delete</button>"#,
            enc(&t.id_token),
            enc(&t.token_type)
        );
        let _ = write!(
            out,
            r#"<tr data-token="{}" data-status="{}"><td class="mono">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class="num" style="white-space:nowrap;display:flex;gap:6px;justify-content:flex-end">{actions}</td></tr>"#,
            esc(&t.id_token),
            esc(&t.status),
            esc(&t.id_token),
            if t.token_type.is_empty() {
                r#"<span class="muted">any</span>"#.to_owned()
            } else {
                esc(&t.token_type)
            },
            status_badge(t),
            fmt_time(t.expiry.as_deref()),
            or_dash(t.parent_id.as_deref().or(t.group_id.as_deref())),
        );
    }
    if list.is_empty() {
        out.push_str(
            r#"<tr><td colspan="6" class="empty">No id token stored: add one above.</td></tr>"#,
        );
    }
    out.push_str("</tbody></table>");
    out.push_str(&pager("/tokens?", page, PER_PAGE, total));
    out.push_str("</div>");
    Ok(Html(out))
}

/// `GET /tokens`: the id tokens page.
pub(super) async fn page(
    State(s): State<ApiState>,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    let live = render(&s, &query).await?.0;
    let statuses: String = [
        "Accepted",
        "Blocked",
        "Expired",
        "Invalid",
        "NoCredit",
        "NotAllowedTypeEVSE",
        "NotAtThisLocation",
        "NotAtThisTime",
        "ConcurrentTx",
        "Unknown",
    ]
    .iter()
    .map(|s| format!("<option>{s}</option>"))
    .collect();
    let types: String = [
        ("", "any type (and 1.6)"),
        ("ISO14443", "ISO14443"),
        ("ISO15693", "ISO15693"),
        ("eMAID", "eMAID"),
        ("Central", "Central"),
        ("KeyCode", "KeyCode"),
        ("Local", "Local"),
        ("MacAddress", "MacAddress"),
        ("NoAuthorization", "NoAuthorization"),
    ]
    .iter()
    .map(|(v, l)| format!(r#"<option value="{v}">{l}</option>"#))
    .collect();
    let body = format!(
        r#"<h1>Id tokens</h1><div class="sub">The tokens the CSMS authorizes (1.6 id tags, 2.x id tokens). Unknown tokens are {}.</div>
<div class="card"><h2>Add or replace a token</h2><form id="token-add" class="toolbar" style="margin:0" data-api="POST /api/id-tokens" data-reset="1">
<input name="idToken" placeholder="Token value" required maxlength="255" aria-label="Token value">
<select name="tokenType" aria-label="Type">{types}</select>
<select name="status" aria-label="Status">{statuses}</select>
<input name="expiry" type="datetime-local" data-t="time" aria-label="Expiry" title="Expiry (optional)">
<input name="parentId" placeholder="Parent / group (optional)" aria-label="Parent id">
<button class="primary" type="submit">Save token</button></form>
<pre class="out" id="out">Answers of the API appear here.</pre></div>
<div id="tokens-live" data-live="/ui/tokens?page={}" data-every="3000">{live}</div>"#,
        if s.csms.settings().accept_unknown_tokens {
            "accepted (accept_unknown_tokens = true)"
        } else {
            "refused (accept_unknown_tokens = false)"
        },
        page_no(&query),
    );
    Ok(Html(layout("Id tokens", "tokens", &body)))
}

/// `GET /ui/tokens`: the live part of the tokens page.
pub(super) async fn fragment(
    State(s): State<ApiState>,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    render(&s, &query).await
}
