//! The station page: connectors, boot information, device model or configuration keys, recent
//! messages, commands and any CSMS-initiated call.

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use ocpp_types::{Direction, OcppVersion, Protocol};
use serde_json::json;

use super::fleet::version_badge;
use super::{
    ago, db, enc, esc, fmt_time, layout, or_dash, q, sessions, status_class, PageError, PageResult,
};
use crate::api::ApiState;
use crate::ocpp::{validate_call, OperatorCallError};
use crate::store::{Page, StationRecord};

/// The CSMS-initiated actions of a version, sorted.
fn csms_actions<P: Protocol>() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = P::actions()
        .iter()
        .filter(|a| P::action_direction(**a) != Direction::StationToCsms)
        .map(|a| P::action_name(*a))
        .collect();
    v.sort_unstable();
    v
}

fn actions_of(v: OcppVersion) -> Vec<&'static str> {
    match v {
        OcppVersion::V16 => csms_actions::<ocpp16::Ocpp16>(),
        OcppVersion::V201 => csms_actions::<ocpp201::Ocpp201>(),
        _ => csms_actions::<ocpp21::Ocpp21>(),
    }
}

/// The messages TriggerMessage may ask for, per version.
fn triggers_of(v: OcppVersion) -> &'static [&'static str] {
    match v {
        OcppVersion::V16 => &[
            "BootNotification",
            "DiagnosticsStatusNotification",
            "FirmwareStatusNotification",
            "Heartbeat",
            "MeterValues",
            "StatusNotification",
        ],
        _ => &[
            "BootNotification",
            "FirmwareStatusNotification",
            "Heartbeat",
            "LogStatusNotification",
            "MeterValues",
            "PublishFirmwareStatusNotification",
            "SignChargingStationCertificate",
            "SignCombinedCertificate",
            "SignV2GCertificate",
            "StatusNotification",
            "TransactionEvent",
        ],
    }
}

fn parse_version(v: Option<&str>) -> Option<OcppVersion> {
    match v? {
        "1.6" => Some(OcppVersion::V16),
        "2.0.1" => Some(OcppVersion::V201),
        "2.1" => Some(OcppVersion::V21),
        _ => None,
    }
}

async fn known(s: &ApiState, id: &str) -> Result<StationRecord, PageError> {
    s.csms
        .store()
        .station(id)
        .await
        .map_err(db)?
        .ok_or_else(|| PageError(StatusCode::NOT_FOUND, format!("station {id:?} is unknown")))
}

/// The version to offer commands of: the live connection's, else the last one's.
fn version_of(s: &ApiState, rec: &StationRecord) -> Option<OcppVersion> {
    s.connections
        .get(&rec.id)
        .map(|h| h.version())
        .or_else(|| parse_version(rec.version.as_deref()))
}

/// The live part: connection, connectors, station facts, sessions.
async fn render_live(s: &ApiState, id: &str) -> PageResult {
    let rec = known(s, id).await?;
    let store = s.csms.store();
    let live = s.connections.get(id);
    let statuses = store.statuses(id).await.map_err(db)?;
    let mut out = String::from(r#"<div class="grid g2"><div class="card">"#);
    let _ = write!(
        out,
        r#"<h2>Connection</h2><p id="conn-state" data-connected="{}" style="margin:0 0 12px">{}</p><h3>EVSEs and connectors</h3>"#,
        live.is_some(),
        match &live {
            Some(h) => format!(
                r#"<span class="dot on"></span><b>Online</b> since {} · security profile {} · from <span class="mono">{}</span>"#,
                ago(Some(
                    &chrono::DateTime::<chrono::Utc>::from(h.info().connected_at).to_rfc3339()
                )),
                h.info().security_profile,
                esc(&h.info().remote_addr.ip().to_string())
            ),
            None => format!(
                r#"<span class="dot off"></span><b>Offline</b> · last seen {}"#,
                ago(rec.last_seen.as_deref())
            ),
        }
    );
    if statuses.is_empty() {
        out.push_str(r#"<p class="muted">No status notification yet.</p>"#);
    } else {
        out.push_str(r#"<table id="connectors"><thead><tr><th>EVSE</th><th>Connector</th><th>Status</th><th>Error / info</th><th>Since</th></tr></thead><tbody>"#);
        for st in &statuses {
            let detail = match (&st.error_code, &st.info) {
                (Some(e), Some(i)) if e != "NoError" => format!("{} · {}", esc(e), esc(i)),
                (Some(e), None) if e != "NoError" => esc(e),
                (_, Some(i)) => esc(i),
                _ => or_dash(None),
            };
            let _ = write!(
                out,
                r#"<tr><td>{}</td><td>{}</td><td><span class="conn {}">{}</span></td><td>{detail}</td><td>{}</td></tr>"#,
                if st.evse_id == 0 {
                    "station".to_owned()
                } else {
                    st.evse_id.to_string()
                },
                st.connector_id,
                status_class(&st.status),
                esc(&st.status),
                ago(st.timestamp.as_deref().or(Some(&st.received_at))),
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str(r#"</div><div class="card"><h2>Station</h2><dl class="kv">"#);
    let version = live
        .as_ref()
        .map(|h| h.version().as_str().to_owned())
        .or(rec.version.clone());
    for (k, v) in [
        ("Version", version_badge(version.as_deref())),
        ("Registration", esc(&rec.registration)),
        ("Vendor", or_dash(rec.vendor.as_deref())),
        ("Model", or_dash(rec.model.as_deref())),
        ("Serial number", or_dash(rec.serial_number.as_deref())),
        ("Firmware", or_dash(rec.firmware_version.as_deref())),
        ("Last boot (UTC)", fmt_time(rec.last_boot_at.as_deref())),
        ("Boot reason", or_dash(rec.boot_reason.as_deref())),
        ("First seen (UTC)", fmt_time(Some(&rec.first_seen))),
        ("Last seen", ago(rec.last_seen.as_deref())),
        (
            "Security profile",
            rec.security_profile
                .map(|p| p.to_string())
                .unwrap_or_else(|| "default".into()),
        ),
    ] {
        let _ = write!(out, "<dt>{k}</dt><dd>{v}</dd>");
    }
    out.push_str("</dl></div></div>");
    let (txs, total) = store
        .search_transactions(
            Some(id),
            None,
            Page {
                limit: 5,
                offset: 0,
            },
        )
        .await
        .map_err(db)?;
    let _ = write!(
        out,
        r#"<div class="card flush"><h2>Sessions <span class="muted" style="font-weight:400">· latest of {total} · <a href="/sessions?station={}">all</a></span></h2><table id="station-sessions">{}<tbody>"#,
        enc(id),
        sessions::head(false)
    );
    out.push_str(&sessions::rows(store.as_ref(), &txs, false).await?);
    if txs.is_empty() {
        out.push_str(r#"<tr><td colspan="8" class="empty">No session yet. Start one with <b>Remote start</b> below.</td></tr>"#);
    }
    out.push_str("</tbody></table></div>");
    out.push_str(&super::smart::profiles_card(s, id).await?);
    Ok(Html(out))
}

/// `GET /ui/stations/{id}/live`.
pub(super) async fn live(State(s): State<ApiState>, Path(id): Path<String>) -> PageResult {
    render_live(&s, &id).await
}

async fn render_messages(s: &ApiState, id: &str) -> PageResult {
    let list = s
        .csms
        .store()
        .recent_messages(
            id,
            Page {
                limit: 50,
                offset: 0,
            },
        )
        .await
        .map_err(db)?;
    let mut out = String::from(
        r#"<table id="messages"><thead><tr><th>Time (UTC)</th><th>Direction</th><th>Kind</th><th>Action</th><th>Payload</th></tr></thead><tbody>"#,
    );
    for m in &list {
        let (arrow, dir) = if m.direction == "in" {
            (r#"<span class="dir dir-in">←</span> from station"#, "in")
        } else {
            (r#"<span class="dir dir-out">→</span> to station"#, "out")
        };
        let bad = !matches!(m.kind.as_str(), "call" | "result");
        let kind = if bad {
            format!(r#"<span class="badge b-bad">{}</span>"#, esc(&m.kind))
        } else {
            format!(r#"<span class="badge">{}</span>"#, esc(&m.kind))
        };
        let payload = if m.payload.chars().count() > 110 {
            let short: String = m.payload.chars().take(110).collect();
            format!(
                r#"<details><summary class="mono">{}…</summary><pre class="mono" style="white-space:pre-wrap;margin:6px 0 0">{}</pre></details>"#,
                esc(&short),
                esc(&m.payload)
            )
        } else {
            format!(r#"<span class="mono">{}</span>"#, esc(&m.payload))
        };
        let _ = write!(
            out,
            r#"<tr class="{}" data-dir="{dir}"><td style="white-space:nowrap">{}</td><td style="white-space:nowrap">{arrow}</td><td>{kind}</td><td>{}</td><td>{payload}</td></tr>"#,
            if bad { "err" } else { "" },
            fmt_time(Some(&m.at)),
            esc(&m.action),
        );
    }
    if list.is_empty() {
        out.push_str(r#"<tr><td colspan="5" class="empty">No message yet.</td></tr>"#);
    }
    out.push_str("</tbody></table>");
    Ok(Html(out))
}

/// `GET /ui/stations/{id}/messages`: the 50 newest messages.
pub(super) async fn messages(State(s): State<ApiState>, Path(id): Path<String>) -> PageResult {
    known(&s, &id).await?;
    render_messages(&s, &id).await
}

async fn render_variables(s: &ApiState, id: &str, v16: bool) -> PageResult {
    let list = s
        .csms
        .store()
        .variables(
            id,
            Page {
                limit: 500,
                offset: 0,
            },
        )
        .await
        .map_err(db)?;
    let mut out = String::new();
    if v16 {
        out.push_str(r#"<table id="variables"><thead><tr><th>Key</th><th>Value</th><th>Mutability</th><th>Source</th><th>Updated (UTC)</th></tr></thead><tbody>"#);
    } else {
        out.push_str(r#"<table id="variables"><thead><tr><th>Component</th><th>Variable</th><th>Attribute</th><th>Value</th><th>Mutability</th><th>Source</th><th>Updated (UTC)</th></tr></thead><tbody>"#);
    }
    for r in &list {
        let value = format!(
            r#"<span class="mono">{}</span>"#,
            or_dash(r.value.as_deref())
        );
        if v16 {
            let _ = write!(
                out,
                r#"<tr><td class="mono">{}</td><td>{value}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
                esc(&r.variable),
                or_dash(r.mutability.as_deref()),
                esc(&r.source),
                fmt_time(Some(&r.updated_at)),
            );
        } else {
            let mut comp = esc(&r.component);
            if !r.component_instance.is_empty() {
                let _ = write!(
                    comp,
                    " <span class=\"muted\">[{}]</span>",
                    esc(&r.component_instance)
                );
            }
            if r.evse_id != 0 {
                let _ = write!(comp, " <span class=\"muted\">EVSE {}</span>", r.evse_id);
                if r.connector_id != 0 {
                    let _ = write!(comp, "<span class=\"muted\">/{}</span>", r.connector_id);
                }
            }
            let mut var = esc(&r.variable);
            if !r.variable_instance.is_empty() {
                let _ = write!(
                    var,
                    " <span class=\"muted\">[{}]</span>",
                    esc(&r.variable_instance)
                );
            }
            let _ = write!(
                out,
                r#"<tr><td>{comp}</td><td>{var}</td><td>{}</td><td>{value}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
                esc(&r.attribute_type),
                or_dash(r.mutability.as_deref()),
                esc(&r.source),
                fmt_time(Some(&r.updated_at)),
            );
        }
    }
    if list.is_empty() {
        let _ = write!(
            out,
            r#"<tr><td colspan="{}" class="empty">Nothing stored yet: press <b>Read from the station</b>.</td></tr>"#,
            if v16 { 5 } else { 7 }
        );
    }
    out.push_str("</tbody></table>");
    Ok(Html(out))
}

/// `GET /ui/stations/{id}/variables`: the stored device model or configuration keys.
pub(super) async fn variables(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    let rec = known(&s, &id).await?;
    let v16 = match q(&query, "v") {
        "1.6" => true,
        "2" => false,
        _ => version_of(&s, &rec) == Some(OcppVersion::V16),
    };
    render_variables(&s, &id, v16).await
}

/// `POST /ui/stations/{id}/validate/{action}`: checks a payload against the request schema of
/// the action in the station's version, without sending it.
pub(super) async fn validate(
    State(s): State<ApiState>,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let rec = match known(&s, &id).await {
        Ok(r) => r,
        Err(e) => return (e.0, Json(json!({"error": e.1}))).into_response(),
    };
    let Some(version) = version_of(&s, &rec) else {
        return (
            StatusCode::CONFLICT,
            Json(
                json!({"error": format!("station {id:?} never connected: its version is unknown")}),
            ),
        )
            .into_response();
    };
    let Ok(payload) = std::str::from_utf8(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "the body is not UTF-8"})),
        )
            .into_response();
    };
    let payload = if payload.trim().is_empty() {
        "{}"
    } else {
        payload
    };
    match validate_call(version, &action, payload) {
        Ok(()) => Json(json!({
            "valid": true,
            "version": version.as_str(),
            "action": action,
            "note": "valid; press Send to send it"
        }))
        .into_response(),
        Err(OperatorCallError::InvalidPayload { path, message }) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"valid": false, "version": version.as_str(), "error": message, "path": path})),
        )
            .into_response(),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"valid": false, "version": version.as_str(), "error": e.to_string()})),
        )
            .into_response(),
    }
}

/// `GET /stations/{id}`: the station page.
pub(super) async fn page(State(s): State<ApiState>, Path(id): Path<String>) -> PageResult {
    let rec = known(&s, &id).await?;
    let live = render_live(&s, &id).await?.0;
    let msgs = render_messages(&s, &id).await?.0;
    let version = version_of(&s, &rec);
    let v16 = version == Some(OcppVersion::V16);
    let vars = render_variables(&s, &id, v16).await?.0;
    let api = format!("/api/stations/{}", enc(&id));
    let mut body = format!(
        r#"<div class="toolbar" style="justify-content:space-between;margin-bottom:6px"><div><h1><span class="mono">{}</span> {}</h1><div class="sub" style="margin:0">{} · <a href="/">fleet</a></div></div></div>
<div id="station-live" data-live="/ui/stations/{}/live" data-every="1500">{live}</div>"#,
        esc(&id),
        version_badge(version.map(|v| v.as_str())),
        match (&rec.vendor, &rec.model) {
            (Some(v), Some(m)) => format!("{} {}", esc(v), esc(m)),
            _ => "Station".into(),
        },
        enc(&id),
    );
    // Commands.
    match version {
        None => body.push_str(r#"<div class="card"><h2>Commands</h2><p class="muted">This station never completed a connection: its version, and so its commands, are unknown.</p></div>"#),
        Some(v) => {
            let evse_hint = if v16 { "Connector" } else { "EVSE" };
            let triggers: String = triggers_of(v)
                .iter()
                .map(|t| format!(r#"<option>{t}</option>"#))
                .collect();
            let actions: String = actions_of(v)
                .iter()
                .map(|a| format!(r#"<option>{a}</option>"#))
                .collect();
            let _ = write!(
                body,
                r#"<div class="card"><h2>Commands <span class="muted" style="font-weight:400">· sent through the operator API, OCPP {ver}</span></h2><div class="cmds">
<form class="cmd" id="cmd-remote-start" data-api="POST {api}/remote-start"><h4>Remote start</h4><div class="row"><input name="idToken" value="DASHBOARD" placeholder="Id token" required aria-label="Id token" style="width:120px"><input name="evseId" type="number" min="1" value="1" data-t="int" title="{evse_hint}" aria-label="{evse_hint}"><button class="primary" type="submit">Start</button></div></form>
<form class="cmd" id="cmd-remote-stop" data-api="POST {api}/remote-stop"><h4>Remote stop</h4><div class="row"><input name="transactionId" placeholder="Transaction id" required aria-label="Transaction id" style="width:140px"><button type="submit">Stop</button></div></form>
<form class="cmd" id="cmd-reset" data-api="POST {api}/reset"><h4>Reset</h4><div class="row"><select name="type" aria-label="Reset type"><option value="Soft">{soft}</option><option value="Hard">{hard}</option></select><button type="submit" class="danger">Reset</button></div></form>
<form class="cmd" id="cmd-unlock" data-api="POST {api}/unlock"><h4>Unlock connector</h4><div class="row">{unlock_evse}<input name="connectorId" type="number" min="1" value="1" data-t="int" title="Connector" aria-label="Connector"><button type="submit">Unlock</button></div></form>
<form class="cmd" id="cmd-availability" data-api="POST {api}/availability"><h4>Change availability</h4><div class="row"><select name="operative" data-t="bool" aria-label="Availability"><option value="true">Operative</option><option value="false">Inoperative</option></select><input name="{avail_name}" type="number" min="0" placeholder="all" data-t="int" title="{evse_hint} (empty: the whole station)" aria-label="{evse_hint}"><button type="submit">Apply</button></div></form>
<form class="cmd" id="cmd-trigger" data-api="POST {api}/trigger"><h4>Trigger message</h4><div class="row"><select name="message" aria-label="Message">{triggers}</select><button type="submit">Trigger</button></div></form>
</div>
<div class="card" style="margin:16px 0 0;box-shadow:none;background:#fcfdfe"><h2>Any CSMS-initiated call</h2>
<form id="cmd-call" data-call="{api}/calls/" data-validate="/ui/stations/{enc_id}/validate/"><div class="toolbar" style="margin-bottom:8px"><select name="action" aria-label="Action">{actions}</select><button type="submit" value="validate">Validate</button><button type="submit" value="send" class="primary">Send</button></div>
<textarea name="payload" spellcheck="false" aria-label="Payload">{{}}</textarea><div class="hint">The payload is checked against the OCPP {ver} request schema of the action (the exact path of any fault is shown) before it is sent; the station's answer appears below.</div></form></div>
<pre class="out" id="out">Answers of the station appear here.</pre></div>"#,
                ver = v.as_str(),
                soft = if v16 { "Soft" } else { "OnIdle (soft)" },
                hard = if v16 { "Hard" } else { "Immediate (hard)" },
                unlock_evse = if v16 {
                    String::new()
                } else {
                    r#"<input name="evseId" type="number" min="1" value="1" data-t="int" title="EVSE" aria-label="EVSE">"#.to_owned()
                },
                avail_name = if v16 { "connectorId" } else { "evseId" },
                enc_id = enc(&id),
            );
        }
    }
    // Messages and device model.
    let refresh = match version {
        Some(OcppVersion::V16) => format!(
            r#"<button class="small" data-method="GET" data-url="{api}/configuration" data-out="var-out">Read from the station</button>"#
        ),
        Some(_) => format!(
            r#"<button class="small" data-method="POST" data-url="{api}/calls/GetBaseReport" data-body="{}" data-out="var-out">Read from the station</button>"#,
            esc(&json!({"requestId": chrono::Utc::now().timestamp() % 1_000_000_000, "reportBase": "FullInventory"}).to_string())
        ),
        None => String::new(),
    };
    let _ = write!(
        body,
        r#"<div class="card flush"><h2>Recent messages <span class="muted" style="font-weight:400">· newest first · <a href="{api}/messages">JSON</a></span></h2><div class="scroll" id="messages-live" data-live="/ui/stations/{}/messages" data-every="2000">{msgs}</div></div>
<div class="card flush"><div class="toolbar" style="justify-content:space-between;padding:14px 18px 0;margin:0"><h2 style="margin:0">{}</h2>{refresh}</div><pre class="out" id="var-out" hidden></pre><div class="scroll" id="variables-live" data-live="/ui/stations/{}/variables?v={}" data-every="5000">{vars}</div></div>"#,
        enc(&id),
        if v16 {
            "Configuration keys"
        } else {
            "Device model"
        },
        enc(&id),
        if v16 { "1.6" } else { "2" },
    );
    if let Some(p) = &rec.boot_payload {
        let pretty = serde_json::from_str::<serde_json::Value>(p)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| p.clone());
        let _ = write!(
            body,
            r#"<div class="card"><details><summary>Last BootNotification</summary><pre class="mono" style="white-space:pre-wrap">{}</pre></details></div>"#,
            esc(&pretty)
        );
    }
    Ok(Html(layout(&format!("Station {id}"), "fleet", &body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_per_version() {
        let a16 = actions_of(OcppVersion::V16);
        assert!(a16.contains(&"RemoteStartTransaction") && !a16.contains(&"BootNotification"));
        assert!(!a16.contains(&"RequestStartTransaction"));
        let a201 = actions_of(OcppVersion::V201);
        assert!(a201.contains(&"RequestStartTransaction") && !a201.contains(&"Heartbeat"));
        assert!(a201.windows(2).all(|w| w[0] <= w[1]));
        let a21 = actions_of(OcppVersion::V21);
        assert!(a21.len() > a201.len());
    }
}
