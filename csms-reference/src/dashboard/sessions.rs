//! The sessions pages: the list, and one session with its chart.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::str::FromStr;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Html;
use rust_decimal::Decimal;

use super::{
    chart, db, enc, esc, fmt_span, fmt_time, layout, or_dash, page_no, pager, parse_time, q,
    PageError, PageResult,
};
use crate::api::ApiState;
use crate::store::{MeterValueRecord, Page, Store, TransactionRecord};

const PER_PAGE: i64 = 25;

/// A register reading in Wh, exactly (`Wh`, `kWh`, and a 2.x multiplier `e<N>`).
fn to_wh(value: &str, unit: Option<&str>) -> Option<Decimal> {
    let v = Decimal::from_str(value.trim())
        .or_else(|_| Decimal::from_scientific(value.trim()))
        .ok()?;
    let unit = unit.unwrap_or("Wh");
    let (base, mult) = match unit.rfind('e') {
        Some(i) if unit[i + 1..].parse::<i32>().is_ok() => {
            (&unit[..i], unit[i + 1..].parse::<i32>().unwrap_or(0))
        }
        _ => (unit, 0),
    };
    let v = match base {
        "Wh" => v,
        "kWh" => v.checked_mul(Decimal::from(1000))?,
        _ => return None,
    };
    let ten = Decimal::from(10);
    let mut v = v;
    for _ in 0..mult.unsigned_abs().min(28) {
        v = if mult > 0 {
            v.checked_mul(ten)?
        } else {
            v.checked_div(ten)?
        };
    }
    Some(v)
}

/// The energy of a transaction in kWh, exactly: 1.6 from its start register to its stop
/// register (or the last reading), 2.x from the first reading to the last.
async fn energy_kwh(
    store: &dyn Store,
    t: &TransactionRecord,
) -> Result<Option<Decimal>, PageError> {
    let bounds = store
        .energy_register_bounds(&t.station_id, &t.transaction_id)
        .await
        .map_err(db)?;
    let reading = |m: &MeterValueRecord| to_wh(&m.value, m.unit.as_deref());
    let start = t
        .meter_start
        .as_deref()
        .and_then(|v| to_wh(v, None))
        .or_else(|| bounds.as_ref().and_then(|(a, _)| reading(a)));
    let end = t
        .meter_stop
        .as_deref()
        .and_then(|v| to_wh(v, None))
        .or_else(|| bounds.as_ref().and_then(|(_, b)| reading(b)));
    Ok(match (start, end) {
        (Some(a), Some(b)) if b >= a => Some(((b - a) / Decimal::from(1000)).normalize()),
        _ => None,
    })
}

fn fmt_kwh(e: Option<Decimal>) -> String {
    match e {
        Some(e) => format!("{} kWh", e.round_dp(3).normalize()),
        None => or_dash(None),
    }
}

/// The duration from start to stop (or to now while active).
fn duration(t: &TransactionRecord) -> String {
    let Some(start) = t.started_at.as_deref().and_then(parse_time) else {
        return or_dash(None);
    };
    let end = match t.stopped_at.as_deref().and_then(parse_time) {
        Some(e) => e,
        None if t.status == "Active" => chrono::Utc::now(),
        None => return or_dash(None),
    };
    fmt_span((end - start).num_seconds())
}

fn status_badge(t: &TransactionRecord) -> String {
    if t.status == "Active" {
        let state = t.charging_state.as_deref().unwrap_or("Active");
        format!(
            r#"<span class="badge b-info"><span class="dot on"></span>{}</span>"#,
            esc(state)
        )
    } else {
        format!(r#"<span class="badge">{}</span>"#, esc(&t.status))
    }
}

fn connector(t: &TransactionRecord) -> String {
    match (t.evse_id, t.connector_id) {
        (Some(e), Some(c)) if e != c => format!("{e}/{c}"),
        (Some(e), _) => e.to_string(),
        (None, Some(c)) => c.to_string(),
        (None, None) => or_dash(None),
    }
}

fn session_href(t: &TransactionRecord) -> String {
    format!(
        "/sessions/{}/{}",
        enc(&t.station_id),
        enc(&t.transaction_id)
    )
}

/// The session rows of a table (used by the station page too).
pub(super) async fn rows(
    store: &dyn Store,
    list: &[TransactionRecord],
    with_station: bool,
) -> Result<String, PageError> {
    let mut out = String::new();
    for t in list {
        let energy = energy_kwh(store, t).await?;
        let _ = write!(
            out,
            r#"<tr data-tx="{tx}" data-status="{status}">{station}<td><a class="mono" href="{href}">{tx}</a></td><td class="mono">{}</td><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td><td>{}</td><td>{}</td></tr>"#,
            or_dash(t.id_token.as_deref()),
            connector(t),
            fmt_time(t.started_at.as_deref()),
            duration(t),
            fmt_kwh(energy),
            status_badge(t),
            if t.status == "Active" {
                format!(
                    r#"<button class="small danger" data-method="POST" data-url="/api/stations/{}/remote-stop" data-body="{}" data-confirm="Stop this session?">Stop</button>"#,
                    enc(&t.station_id),
                    esc(&serde_json::json!({ "transactionId": t.transaction_id }).to_string())
                )
            } else {
                or_dash(t.stop_reason.as_deref())
            },
            tx = esc(&t.transaction_id),
            status = esc(&t.status),
            href = esc(&session_href(t)),
            station = if with_station {
                format!(
                    r#"<td><a class="mono" href="/stations/{}">{}</a></td>"#,
                    enc(&t.station_id),
                    esc(&t.station_id)
                )
            } else {
                String::new()
            },
        );
    }
    Ok(out)
}

/// The table head matching [`rows`].
pub(super) fn head(with_station: bool) -> String {
    format!(
        r#"<thead><tr>{}<th>Transaction</th><th>Token</th><th>EVSE</th><th>Started (UTC)</th><th class="num">Duration</th><th class="num">Energy</th><th>State</th><th>Stop</th></tr></thead>"#,
        if with_station { "<th>Station</th>" } else { "" }
    )
}

fn status_filter(query: &HashMap<String, String>) -> Option<&'static str> {
    match q(query, "status") {
        "Active" => Some("Active"),
        "Ended" => Some("Ended"),
        _ => None,
    }
}

async fn render(s: &ApiState, query: &HashMap<String, String>) -> PageResult {
    let status = status_filter(query);
    let station = Some(q(query, "station")).filter(|v| !v.is_empty());
    let page = page_no(query);
    let store = s.csms.store();
    let (list, total) = store
        .search_transactions(
            station,
            status,
            Page {
                limit: PER_PAGE,
                offset: (page - 1) * PER_PAGE,
            },
        )
        .await
        .map_err(db)?;
    let mut out = format!(
        r#"<div class="card flush"><table id="sessions">{}<tbody>"#,
        head(true)
    );
    out.push_str(&rows(store.as_ref(), &list, true).await?);
    if list.is_empty() {
        out.push_str(r#"<tr><td colspan="9" class="empty">No session.</td></tr>"#);
    }
    out.push_str("</tbody></table>");
    let mut base = "/sessions?".to_owned();
    if let Some(st) = status {
        let _ = write!(base, "status={st}&");
    }
    if let Some(st) = station {
        let _ = write!(base, "station={}&", enc(st));
    }
    out.push_str(&pager(&base, page, PER_PAGE, total));
    out.push_str("</div>");
    Ok(Html(out))
}

/// `GET /sessions`: the sessions page.
pub(super) async fn page(
    State(s): State<ApiState>,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    let live = render(&s, &query).await?.0;
    let status = status_filter(&query).unwrap_or("");
    let station = q(&query, "station");
    let opt = |v: &str, label: &str| {
        format!(
            r#"<option value="{v}"{}>{label}</option>"#,
            if v == status { " selected" } else { "" }
        )
    };
    let mut live_url = "/ui/sessions?".to_owned();
    for (k, v) in [("status", status), ("station", station)] {
        if !v.is_empty() {
            let _ = write!(live_url, "{k}={}&", enc(v));
        }
    }
    let _ = write!(live_url, "page={}", page_no(&query));
    let body = format!(
        r#"<h1>Sessions</h1><div class="sub">Charging sessions, newest first: energy from the meter registers, updated live.</div>
<form class="toolbar autosubmit" method="get" action="/sessions">
<select name="status" aria-label="State">{}{}{}</select>
<input type="search" name="station" value="{}" placeholder="Station id" aria-label="Station id">
<button type="submit">Filter</button></form>
<div id="sessions-live" data-live="{}" data-every="2000">{live}</div>"#,
        opt("", "Active and finished"),
        opt("Active", "Active"),
        opt("Ended", "Finished"),
        esc(station),
        esc(&live_url),
    );
    Ok(Html(layout("Sessions", "sessions", &body)))
}

/// `GET /ui/sessions`: the live part of the sessions page.
pub(super) async fn fragment(
    State(s): State<ApiState>,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    render(&s, &query).await
}

async fn detail(
    s: &ApiState,
    id: &str,
    tx: &str,
) -> Result<(TransactionRecord, String), PageError> {
    let store = s.csms.store();
    let t = store
        .transaction(id, tx)
        .await
        .map_err(db)?
        .ok_or_else(|| {
            PageError(
                StatusCode::NOT_FOUND,
                format!("station {id:?} has no transaction {tx:?}"),
            )
        })?;
    let values = store
        .meter_values(
            id,
            tx,
            Page {
                limit: 20_000,
                offset: 0,
            },
        )
        .await
        .map_err(db)?;
    let series = chart::series(&values);
    let energy = energy_kwh(store.as_ref(), &t).await?;
    let last_power = series
        .power
        .last()
        .map(|p| format!("{:.2} kW", p.1))
        .unwrap_or_else(|| or_dash(None));
    let mut out = format!(
        r#"<div class="grid g4" style="margin-bottom:18px">
<div class="stat"><div class="l">Energy</div><div class="v" id="energy">{}</div></div>
<div class="stat"><div class="l">Duration</div><div class="v">{}</div></div>
<div class="stat"><div class="l">{}</div><div class="v">{last_power}</div></div>
<div class="stat"><div class="l">State</div><div class="v" style="font-size:18px;padding-top:4px">{}</div></div></div>
<div class="card"><h2>Power and energy</h2><div class="legend"><span style="--c:#16a34a">Energy since start (kWh)</span><span style="--c:#2563eb">{}</span><span class="muted">{} readings</span></div>{}</div>"#,
        fmt_kwh(energy),
        duration(&t),
        if series.derived_power {
            "Power (derived)"
        } else {
            "Power"
        },
        status_badge(&t),
        if series.derived_power {
            "Power from the energy readings (kW)"
        } else {
            "Active power (kW)"
        },
        values.len(),
        chart::svg(&series),
    );
    out.push_str(r#"<div class="grid g2"><div class="card"><h2>Session</h2><dl class="kv">"#);
    for (k, v) in [
        (
            "Station",
            format!(
                r#"<a class="mono" href="/stations/{}">{}</a>"#,
                enc(&t.station_id),
                esc(&t.station_id)
            ),
        ),
        (
            "Transaction",
            format!(r#"<span class="mono">{}</span>"#, esc(&t.transaction_id)),
        ),
        ("Version", esc(&t.version)),
        ("EVSE / connector", connector(&t)),
        ("Token", or_dash(t.id_token.as_deref())),
        ("Token type", or_dash(t.token_type.as_deref())),
        ("Started (UTC)", fmt_time(t.started_at.as_deref())),
        ("Stopped (UTC)", fmt_time(t.stopped_at.as_deref())),
        ("Start register", or_dash(t.meter_start.as_deref())),
        ("Stop register", or_dash(t.meter_stop.as_deref())),
        ("Stop reason", or_dash(t.stop_reason.as_deref())),
        (
            "Offline events",
            if t.offline { "yes" } else { "no" }.to_owned(),
        ),
    ] {
        let _ = write!(out, "<dt>{k}</dt><dd>{v}</dd>");
    }
    out.push_str(r#"</dl></div><div class="card flush"><h2>Latest readings</h2><div class="scroll"><table><thead><tr><th>Time (UTC)</th><th>Measurand</th><th>Phase</th><th class="num">Value</th><th>Unit</th></tr></thead><tbody>"#);
    for m in values.iter().rev().take(15) {
        let _ = write!(
            out,
            r#"<tr><td>{}</td><td>{}</td><td>{}</td><td class="num mono">{}</td><td>{}</td></tr>"#,
            fmt_time(Some(&m.timestamp)),
            esc(m
                .measurand
                .as_deref()
                .unwrap_or("Energy.Active.Import.Register")),
            or_dash(m.phase.as_deref()),
            esc(&m.value),
            or_dash(m.unit.as_deref())
        );
    }
    if values.is_empty() {
        out.push_str(r#"<tr><td colspan="5" class="empty">No meter value yet.</td></tr>"#);
    }
    out.push_str("</tbody></table></div></div></div>");
    Ok((t, out))
}

/// `GET /sessions/{station}/{transaction}`: one session with its chart.
pub(super) async fn detail_page(
    State(s): State<ApiState>,
    Path((id, tx)): Path<(String, String)>,
) -> PageResult {
    let (t, live) = detail(&s, &id, &tx).await?;
    let stop = if t.status == "Active" {
        format!(
            r#"<button class="danger" data-method="POST" data-url="/api/stations/{}/remote-stop" data-body="{}" data-confirm="Stop this session?">Stop session</button>"#,
            enc(&id),
            esc(&serde_json::json!({ "transactionId": t.transaction_id }).to_string())
        )
    } else {
        String::new()
    };
    let body = format!(
        r#"<div class="toolbar" style="justify-content:space-between"><div><h1>Session <span class="mono">{}</span></h1><div class="sub" style="margin:0">at <a class="mono" href="/stations/{}">{}</a> · <a href="/sessions">all sessions</a></div></div><div>{stop}</div></div>
<div id="session-live" data-live="/ui/sessions/{}/{}" data-every="2000">{live}</div>"#,
        esc(&tx),
        enc(&id),
        esc(&id),
        enc(&id),
        enc(&tx),
    );
    Ok(Html(layout(&format!("Session {tx}"), "sessions", &body)))
}

/// `GET /ui/sessions/{station}/{transaction}`: the live part of a session.
pub(super) async fn detail_fragment(
    State(s): State<ApiState>,
    Path((id, tx)): Path<(String, String)>,
) -> PageResult {
    Ok(Html(detail(&s, &id, &tx).await?.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_in_wh_exactly() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        assert_eq!(to_wh("1500", None), Some(d("1500")));
        assert_eq!(to_wh("2.25", Some("kWh")), Some(d("2250")));
        assert_eq!(to_wh("1.5", Some("kWhe3")), Some(d("1500000")));
        assert_eq!(to_wh("15", Some("Whe-1")), Some(d("1.5")));
        assert_eq!(
            to_wh("0.1", Some("Wh")).map(|v| v + d("0.2")),
            Some(d("0.3"))
        );
        assert_eq!(to_wh("x", None), None);
        assert_eq!(to_wh("1", Some("A")), None);
    }
}
