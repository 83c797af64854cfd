//! The fleet page: every station, one page of 50 at a time.

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::extract::{Query, State};
use axum::response::Html;

use super::{ago, db, enc, esc, layout, or_dash, page_no, pager, q, status_class, PageResult};
use crate::api::ApiState;
use crate::store::{Page, StationFilter, StatusRecord};

const PER_PAGE: i64 = 50;

fn filter(query: &HashMap<String, String>) -> StationFilter {
    let pick = |k: &str, allowed: &[&str]| {
        let v = q(query, k);
        if allowed.contains(&v) {
            v.to_owned()
        } else {
            String::new()
        }
    };
    StationFilter {
        text: q(query, "q").chars().take(100).collect(),
        version: pick("version", &["1.6", "2.0.1", "2.1"]),
        connection: pick("conn", &["online", "offline"]),
    }
}

/// The query string of a filter (ending in `&`, ready for `page=`).
fn query_of(f: &StationFilter) -> String {
    let mut s = String::new();
    for (k, v) in [
        ("q", &f.text),
        ("version", &f.version),
        ("conn", &f.connection),
    ] {
        if !v.is_empty() {
            let _ = write!(s, "{k}={}&", enc(v));
        }
    }
    s
}

/// The version badge.
pub(super) fn version_badge(v: Option<&str>) -> String {
    match v {
        Some("1.6") => r#"<span class="badge b-v16">1.6</span>"#.into(),
        Some("2.0.1") => r#"<span class="badge b-v201">2.0.1</span>"#.into(),
        Some("2.1") => r#"<span class="badge b-v21">2.1</span>"#.into(),
        other => or_dash(other),
    }
}

/// The connector pills of one station (1.6 connector 0 is the whole station: left out when
/// there are connectors).
pub(super) fn connector_pills(statuses: &[&StatusRecord]) -> String {
    let real: Vec<&&StatusRecord> = statuses
        .iter()
        .filter(|s| !(s.evse_id == 0 && statuses.len() > 1))
        .collect();
    if real.is_empty() {
        return r#"<span class="muted">no status yet</span>"#.into();
    }
    real.iter()
        .map(|s| {
            let label = if s.evse_id == s.connector_id || s.connector_id == 0 {
                s.evse_id.to_string()
            } else {
                format!("{}/{}", s.evse_id, s.connector_id)
            };
            let title = match (&s.error_code, &s.info) {
                (Some(e), _) if e != "NoError" => format!("{} ({e})", s.status),
                (_, Some(i)) => format!("{} ({i})", s.status),
                _ => s.status.clone(),
            };
            format!(
                r#"<span class="conn {}" title="EVSE/connector {label}: {}"><i>{label}</i>{}</span>"#,
                status_class(&s.status),
                esc(&title),
                esc(&s.status)
            )
        })
        .collect()
}

/// The live part: the counters and the table of one page.
async fn render(s: &ApiState, query: &HashMap<String, String>) -> PageResult {
    let f = filter(query);
    let page = page_no(query);
    let store = s.csms.store();
    let (list, total) = store
        .search_stations(
            &f,
            Page {
                limit: PER_PAGE,
                offset: (page - 1) * PER_PAGE,
            },
        )
        .await
        .map_err(db)?;
    let all = store
        .search_stations(
            &StationFilter::default(),
            Page {
                limit: 1,
                offset: 0,
            },
        )
        .await
        .map_err(db)?
        .1;
    let online = s.connections.len();
    let (_, active) = store
        .search_transactions(
            None,
            Some("Active"),
            Page {
                limit: 1,
                offset: 0,
            },
        )
        .await
        .map_err(db)?;
    let ids: Vec<String> = list.iter().map(|r| r.id.clone()).collect();
    let statuses = store.statuses_of(&ids).await.map_err(db)?;
    let mut by_station: HashMap<&str, Vec<&StatusRecord>> = HashMap::new();
    for st in &statuses {
        by_station.entry(&st.station_id).or_default().push(st);
    }
    let mut out = format!(
        r#"<div class="grid g4" style="margin-bottom:18px">
<div class="stat"><div class="l">Stations</div><div class="v" id="count-all">{all}</div></div>
<div class="stat"><div class="l">Connected</div><div class="v" id="count-online">{online}</div></div>
<div class="stat"><div class="l">Offline</div><div class="v">{}</div></div>
<div class="stat"><div class="l">Active sessions</div><div class="v"><a href="/sessions?status=Active">{active}</a></div></div>
</div><div class="card flush"><table id="fleet"><thead><tr><th>Station</th><th>Version</th><th>Connection</th><th>Last seen</th><th>Connectors</th><th>Vendor / model</th><th>Firmware</th><th>Registration</th></tr></thead><tbody>"#,
        (all - online as i64).max(0)
    );
    for r in &list {
        let live = s.connections.get(&r.id);
        let connected = live.is_some();
        let version = live
            .map(|h| h.version().as_str().to_owned())
            .or(r.version.clone());
        let reg = match r.registration.as_str() {
            "Accepted" => r#"<span class="badge b-ok">Accepted</span>"#.to_owned(),
            "Pending" => r#"<span class="badge b-warn">Pending</span>"#.to_owned(),
            other => format!(r#"<span class="badge b-bad">{}</span>"#, esc(other)),
        };
        let vm = match (&r.vendor, &r.model) {
            (None, None) => or_dash(None),
            (v, m) => format!(
                "{} <span class=\"muted\">·</span> {}",
                or_dash(v.as_deref()),
                or_dash(m.as_deref())
            ),
        };
        let _ = write!(
            out,
            r#"<tr data-station="{id}" data-connected="{connected}"><td><a class="mono" href="/stations/{href}">{id}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{vm}</td><td class="mono">{}</td><td>{reg}</td></tr>"#,
            version_badge(version.as_deref()),
            if connected {
                r#"<span class="dot on"></span>online"#
            } else {
                r#"<span class="dot off"></span><span class="muted">offline</span>"#
            },
            ago(r.last_seen.as_deref()),
            connector_pills(
                by_station
                    .get(r.id.as_str())
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
            ),
            or_dash(r.firmware_version.as_deref()),
            id = esc(&r.id),
            href = enc(&r.id),
        );
    }
    if list.is_empty() {
        out.push_str(if all == 0 {
            r#"<tr><td colspan="8" class="empty">No station yet. Point a station (or <span class="mono">ocpp-sim</span>) at the OCPP address; it appears here when it connects.</td></tr>"#
        } else {
            r#"<tr><td colspan="8" class="empty">No station matches the filter.</td></tr>"#
        });
    }
    out.push_str("</tbody></table>");
    out.push_str(&pager(
        &format!("/?{}", query_of(&f)),
        page,
        PER_PAGE,
        total,
    ));
    out.push_str("</div>");
    Ok(Html(out))
}

/// `GET /`: the fleet page.
pub(super) async fn page(
    State(s): State<ApiState>,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    let f = filter(&query);
    let live = render(&s, &query).await?.0;
    let opt = |v: &str, label: &str, cur: &str| {
        format!(
            r#"<option value="{v}"{}>{label}</option>"#,
            if v == cur { " selected" } else { "" }
        )
    };
    let body = format!(
        r#"<h1>Fleet</h1><div class="sub">Every station that ever connected, updated live.</div>
<form class="toolbar autosubmit" method="get" action="/">
<input type="search" name="q" value="{}" placeholder="Search id, vendor, model, serial, firmware" aria-label="Search">
<select name="version" aria-label="Version">{}{}{}{}</select>
<select name="conn" aria-label="Connection">{}{}{}</select>
<button type="submit">Search</button>{}
</form>
<div id="fleet-live" data-live="/ui/fleet?{}page={}" data-every="1000">{live}</div>"#,
        esc(&f.text),
        opt("", "All versions", &f.version),
        opt("1.6", "OCPP 1.6", &f.version),
        opt("2.0.1", "OCPP 2.0.1", &f.version),
        opt("2.1", "OCPP 2.1", &f.version),
        opt("", "Online and offline", &f.connection),
        opt("online", "Online", &f.connection),
        opt("offline", "Offline", &f.connection),
        if f == StationFilter::default() {
            String::new()
        } else {
            r#"<a class="btn" href="/">Clear</a>"#.into()
        },
        esc(&query_of(&f)),
        page_no(&query),
    );
    Ok(Html(layout("Fleet", "fleet", &body)))
}

/// `GET /ui/fleet`: the live part of the fleet page.
pub(super) async fn fragment(
    State(s): State<ApiState>,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    render(&s, &query).await
}
