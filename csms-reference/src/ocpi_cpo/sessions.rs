//! Sessions and CDRs: an OCPP transaction started with an eMSP token becomes an OCPI Session,
//! updated as meter values arrive and completed at the end, when its CDR is priced with the
//! connector's tariff and POSTed to the eMSP.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use ocpi::tariff::{price, Costs, PricingInput, PricingOptions};
use ocpi::v221::{CdrDimension, CdrDimensionType, ChargingPeriod, ModuleId, Tariff};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::locations::{self, Assigned};
use super::OcpiCpo;
use crate::domain::now;
use crate::store::{Page, TransactionRecord};

/// The OCPI session id of a transaction (`{station}-{transaction}`, hashed when longer than
/// the 36 characters OCPI allows).
pub(super) fn session_id(station: &str, tx: &str) -> String {
    let s = format!("{station}-{tx}");
    if s.len() <= 36 {
        s
    } else {
        ocpi::credentials::hash_token(&s)[..36].to_owned()
    }
}

fn num(d: Decimal) -> Value {
    serde_json::to_value(ocpi::primitives::Number(d.normalize())).unwrap_or(Value::Null)
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Wh per unit of a meter value unit (`Wh`, `kWh`, 2.x `Whe3` for a multiplier of 3).
fn wh_factor(unit: Option<&str>) -> Option<Decimal> {
    let unit = unit.unwrap_or("Wh");
    let (base, exp) = match unit.split_once('e') {
        Some((b, e)) => (b, e.parse::<i32>().ok()?),
        None => (unit, 0),
    };
    let f = match base {
        "Wh" => Decimal::ONE,
        "kWh" => Decimal::from(1000),
        _ => return None,
    };
    let mut f = f;
    for _ in 0..exp.abs() {
        if exp > 0 {
            f *= Decimal::TEN;
        } else {
            f /= Decimal::TEN;
        }
    }
    Some(f)
}

/// What the meter says of a transaction: its energy register readings (time, Wh), in order.
async fn readings(cpo: &OcpiCpo, tx: &TransactionRecord) -> Vec<(DateTime<Utc>, Decimal)> {
    let mut out = Vec::new();
    let reg = |t: Option<&String>, v: Option<&String>| -> Option<(DateTime<Utc>, Decimal)> {
        Some((parse_time(t?)?, Decimal::from_str(v?).ok()?))
    };
    if let Some(r) = reg(tx.started_at.as_ref(), tx.meter_start.as_ref()) {
        out.push(r);
    }
    let values = cpo
        .csms
        .store()
        .meter_values(
            &tx.station_id,
            &tx.transaction_id,
            Page {
                limit: 100_000,
                offset: 0,
            },
        )
        .await
        .unwrap_or_default();
    for v in values {
        let energy = v.measurand.is_none()
            || v.measurand.as_deref() == Some("Energy.Active.Import.Register");
        if !energy || v.phase.is_some() {
            continue;
        }
        let (Some(t), Ok(x), Some(f)) = (
            parse_time(&v.timestamp),
            Decimal::from_str(&v.value),
            wh_factor(v.unit.as_deref()),
        ) else {
            continue;
        };
        out.push((t, x * f));
    }
    if let Some(r) = reg(tx.stopped_at.as_ref(), tx.meter_stop.as_ref()) {
        out.push(r);
    }
    out.sort_by_key(|(t, _)| *t);
    // One reading per instant (the last one given).
    let mut dedup: Vec<(DateTime<Utc>, Decimal)> = Vec::new();
    for r in out {
        match dedup.last_mut() {
            Some(l) if l.0 == r.0 => *l = r,
            _ => dedup.push(r),
        }
    }
    dedup
}

/// A session's numbers: energy, charging periods (split where the price changes when a
/// tariff prices them) and costs.
struct Numbers {
    kwh: Decimal,
    periods: Vec<ChargingPeriod>,
    costs: Option<Costs>,
    tariff: Option<Value>,
    end: Option<DateTime<Utc>>,
}

fn period(start: DateTime<Utc>, kwh: Decimal) -> ChargingPeriod {
    ChargingPeriod {
        start_date_time: start.into(),
        dimensions: vec![CdrDimension {
            r#type: CdrDimensionType::Energy,
            volume: kwh.into(),
            extra: Default::default(),
        }],
        tariff_id: None,
        extra: Default::default(),
    }
}

async fn numbers(cpo: &OcpiCpo, tx: &TransactionRecord, a: &Assigned) -> Numbers {
    let r = readings(cpo, tx).await;
    let mut periods = Vec::new();
    let mut kwh = Decimal::ZERO;
    for w in r.windows(2) {
        let e = ((w[1].1 - w[0].1) / Decimal::from(1000)).max(Decimal::ZERO);
        kwh += e;
        periods.push(period(w[0].0, e));
    }
    let mut end = r.last().map(|(t, _)| *t).filter(|_| r.len() > 1);
    // The session lasts until the transaction stopped, also when the meter said nothing
    // at (or since) its start (a 2.x station may send no meter values at all): time and
    // flat fees are due for that time.
    let started = tx.started_at.as_deref().and_then(parse_time);
    let stopped = tx.stopped_at.as_deref().and_then(parse_time);
    if let (Some(a), Some(b)) = (started, stopped) {
        if periods.is_empty() && b >= a {
            periods.push(period(a, Decimal::ZERO));
            end = Some(b);
        } else if !periods.is_empty() && end.is_some_and(|e| b > e) {
            end = Some(b);
        }
    }
    let tariff = tariff_of(cpo, tx, a);
    let tz = a
        .location
        .get("time_zone")
        .and_then(Value::as_str)
        .and_then(|z| z.parse::<chrono_tz::Tz>().ok())
        .unwrap_or(chrono_tz::UTC);
    let costs = match (&tariff, end) {
        (Some(t), Some(end)) if !periods.is_empty() => {
            let typed: Option<Tariff> = serde_json::from_value(t.clone()).ok();
            let end = ocpi::primitives::DateTime::from(end);
            typed.and_then(|typed| {
                let input = PricingInput::from_charging_periods(&periods, Some(&end), tz).ok()?;
                match price(&typed, &input, &PricingOptions::default()) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        tracing::warn!(error = %e, "pricing a session failed");
                        None
                    }
                }
            })
        }
        _ => None,
    };
    if let Some(c) = &costs {
        periods = c.charging_periods.clone();
    }
    Numbers {
        kwh,
        periods,
        costs,
        tariff,
        end,
    }
}

/// The connector description of the transaction's connector (by id, else the first).
fn connector(tx: &TransactionRecord, a: &Assigned) -> Value {
    let list = a
        .evse
        .get("connectors")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let wanted = tx
        .connector_id
        .filter(|_| tx.evse_id.is_some())
        .map(|c| c.to_string());
    wanted
        .and_then(|w| {
            list.iter()
                .find(|c| c.get("id").and_then(Value::as_str).unwrap_or("1") == w)
                .cloned()
        })
        .or_else(|| list.first().cloned())
        .unwrap_or(Value::Null)
}

fn tariff_of(cpo: &OcpiCpo, tx: &TransactionRecord, a: &Assigned) -> Option<Value> {
    let c = connector(tx, a);
    let id = c
        .get("tariff_ids")?
        .as_array()?
        .first()?
        .as_str()?
        .to_owned();
    cpo.tariff(&id)
}

struct Context {
    tx: TransactionRecord,
    token: Value,
    assigned: Assigned,
    id: String,
}

async fn context(cpo: &OcpiCpo, station: &str, tx_id: &str) -> Option<Context> {
    let tx = cpo
        .csms
        .store()
        .transaction(station, tx_id)
        .await
        .ok()
        .flatten()?;
    let token = cpo.find_token(tx.id_token.as_deref()?)?;
    let evse = tx.evse_id.or(tx.connector_id)?;
    let Some(assigned) = locations::find(cpo, station, evse) else {
        tracing::info!(
            station,
            evse,
            "an eMSP token charges at an EVSE assigned to no OCPI location: no OCPI session"
        );
        return None;
    };
    Some(Context {
        id: session_id(station, tx_id),
        tx,
        token,
        assigned,
    })
}

fn cdr_token(token: &Value) -> Value {
    json!({
        "country_code": token.get("country_code"),
        "party_id": token.get("party_id"),
        "uid": token.get("uid"),
        "type": token.get("type").cloned().unwrap_or(json!("RFID")),
        "contract_id": token.get("contract_id").cloned()
            .unwrap_or_else(|| token.get("uid").cloned().unwrap_or(Value::Null)),
    })
}

fn auth_method(cpo: &OcpiCpo, uid: &str) -> (&'static str, Option<String>) {
    let r = cpo
        .auth_refs
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(uid)
        .cloned();
    if let Some(r) = r {
        return ("AUTH_REQUEST", r);
    }
    let command = cpo
        .command_tokens
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(uid)
        .and_then(|t| {
            t.get("authorization_reference")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
    match command {
        Some(r) => ("COMMAND", Some(r)),
        None => ("WHITELIST", None),
    }
}

fn currency(cpo: &OcpiCpo, n: &Numbers) -> String {
    n.tariff
        .as_ref()
        .and_then(|t| t.get("currency"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| cpo.settings.currency.clone())
}

fn session_json(cpo: &OcpiCpo, c: &Context, n: &Numbers, completed: bool) -> Value {
    let (cc, pid) = cpo.party();
    let uid = c.token.get("uid").and_then(Value::as_str).unwrap_or("");
    let (method, reference) = auth_method(cpo, uid);
    let conn = connector(&c.tx, &c.assigned);
    let mut s = json!({
        "country_code": cc,
        "party_id": pid,
        "id": c.id,
        "start_date_time": c.tx.started_at.clone().unwrap_or_else(now),
        "kwh": num(n.kwh),
        "cdr_token": cdr_token(&c.token),
        "auth_method": method,
        "location_id": c.assigned.location_id,
        "evse_uid": c.assigned.uid,
        "connector_id": conn.get("id").cloned().unwrap_or(json!("1")),
        "currency": currency(cpo, n),
        "charging_periods": n.periods,
        "status": if completed { "COMPLETED" } else { "ACTIVE" },
        "last_updated": now(),
    });
    if let Some(r) = reference {
        s["authorization_reference"] = json!(r);
    }
    if let Some(costs) = &n.costs {
        s["total_cost"] = json!(costs.total_cost);
    }
    if completed {
        let end =
            c.tx.stopped_at
                .clone()
                .or_else(|| n.end.map(rfc3339))
                .unwrap_or_else(now);
        s["end_date_time"] = json!(end);
    }
    s
}

fn owner(cpo: &OcpiCpo, token: &Value) -> Option<u64> {
    cpo.owner_of(
        token.get("country_code")?.as_str()?,
        token.get("party_id")?.as_str()?,
    )
}

async fn push_session(cpo: &OcpiCpo, c: &Context, method: &str, body: &Value) {
    let Some(partner) = owner(cpo, &c.token) else {
        return;
    };
    let (cc, pid) = cpo.party();
    let (cc, pid) = (cc.to_owned(), pid.to_owned());
    cpo.push(
        partner,
        method,
        &ModuleId::Sessions,
        &[&cc, &pid, &c.id],
        body,
    )
    .await;
}

fn stored(cpo: &OcpiCpo, id: &str) -> Option<Value> {
    cpo.storage()
        .get_kind(ModuleId::Sessions.as_str(), "SENDER", &[id.to_owned()])
}

/// A transaction started: its session, when an eMSP token started it at an assigned EVSE.
pub(super) async fn started(cpo: &OcpiCpo, station: &str, tx: &str) {
    let Some(c) = context(cpo, station, tx).await else {
        return;
    };
    if stored(cpo, &c.id).is_some() {
        return;
    }
    cpo.storage().put_kind(
        "x-session",
        "SENDER",
        vec![c.id.clone()],
        json!({"station": station, "transaction": tx,
               "evse": c.tx.evse_id.or(c.tx.connector_id)}),
    );
    let n = numbers(cpo, &c.tx, &c.assigned).await;
    let s = session_json(cpo, &c, &n, false);
    cpo.storage().put_kind(
        ModuleId::Sessions.as_str(),
        "SENDER",
        vec![c.id.clone()],
        s.clone(),
    );
    push_session(cpo, &c, "PUT", &s).await;
}

/// New meter values or events: kWh, charging periods and cost so far PATCHed.
pub(super) async fn updated(cpo: &OcpiCpo, station: &str, tx: &str) {
    let Some(c) = context(cpo, station, tx).await else {
        return;
    };
    if stored(cpo, &c.id).is_none() {
        // A 2.x transaction may get its token after it started.
        return started(cpo, station, tx).await;
    }
    if c.tx.status == "Ended" {
        return;
    }
    let n = numbers(cpo, &c.tx, &c.assigned).await;
    let s = session_json(cpo, &c, &n, false);
    cpo.storage().put_kind(
        ModuleId::Sessions.as_str(),
        "SENDER",
        vec![c.id.clone()],
        s.clone(),
    );
    let mut patch = json!({
        "kwh": s["kwh"], "charging_periods": s["charging_periods"], "status": "ACTIVE",
        "last_updated": s["last_updated"],
    });
    if let Some(t) = s.get("total_cost") {
        patch["total_cost"] = t.clone();
    }
    push_session(cpo, &c, "PATCH", &patch).await;
}

/// A transaction ended: the session completed, and its CDR priced, stored and POSTed.
pub(super) async fn ended(cpo: &OcpiCpo, station: &str, tx: &str) {
    let Some(c) = context(cpo, station, tx).await else {
        return;
    };
    if stored(cpo, &c.id).is_none() {
        started(cpo, station, tx).await;
    }
    let cdr_ids = vec![c.id.clone()];
    if cpo
        .storage()
        .get_kind(ModuleId::Cdrs.as_str(), "SENDER", &cdr_ids)
        .is_some()
    {
        return;
    }
    let n = numbers(cpo, &c.tx, &c.assigned).await;
    let s = session_json(cpo, &c, &n, true);
    cpo.storage().put_kind(
        ModuleId::Sessions.as_str(),
        "SENDER",
        vec![c.id.clone()],
        s.clone(),
    );
    let mut patch = json!({
        "kwh": s["kwh"], "charging_periods": s["charging_periods"], "status": "COMPLETED",
        "end_date_time": s["end_date_time"], "last_updated": s["last_updated"],
    });
    if let Some(t) = s.get("total_cost") {
        patch["total_cost"] = t.clone();
    }
    push_session(cpo, &c, "PATCH", &patch).await;
    let cdr = cdr_json(cpo, &c, &n, &s);
    cpo.storage()
        .put_kind(ModuleId::Cdrs.as_str(), "SENDER", cdr_ids, cdr.clone());
    if let Some(partner) = owner(cpo, &c.token) {
        cpo.push(partner, "POST", &ModuleId::Cdrs, &[], &cdr).await;
    }
}

fn cdr_json(cpo: &OcpiCpo, c: &Context, n: &Numbers, s: &Value) -> Value {
    let (cc, pid) = cpo.party();
    let loc = &c.assigned.location;
    let conn = connector(&c.tx, &c.assigned);
    let start = s["start_date_time"].as_str().unwrap_or_default().to_owned();
    let end = s["end_date_time"].as_str().unwrap_or_default().to_owned();
    let hours = match (parse_time(&start), parse_time(&end)) {
        (Some(a), Some(b)) => {
            Decimal::from((b - a).num_milliseconds().max(0)) / Decimal::from(3_600_000)
        }
        _ => Decimal::ZERO,
    };
    let periods = if n.periods.is_empty() {
        vec![serde_json::to_value(period(
            parse_time(&start).unwrap_or_else(Utc::now),
            Decimal::ZERO,
        ))
        .unwrap_or(Value::Null)]
    } else {
        n.periods
            .iter()
            .map(|p| serde_json::to_value(p).unwrap_or(Value::Null))
            .collect()
    };
    let mut cdr = json!({
        "country_code": cc,
        "party_id": pid,
        "id": c.id,
        "start_date_time": start,
        "end_date_time": end,
        "session_id": c.id,
        "cdr_token": s["cdr_token"],
        "auth_method": s["auth_method"],
        "cdr_location": {
            "id": c.assigned.location_id,
            "address": loc.get("address"),
            "city": loc.get("city"),
            "country": loc.get("country"),
            "coordinates": loc.get("coordinates"),
            "evse_uid": c.assigned.uid,
            "evse_id": c.assigned.evse.get("evse_id").cloned().unwrap_or(json!(c.assigned.uid)),
            "connector_id": conn.get("id").cloned().unwrap_or(json!("1")),
            "connector_standard": conn.get("standard"),
            "connector_format": conn.get("format"),
            "connector_power_type": conn.get("power_type"),
        },
        "currency": s["currency"],
        "charging_periods": periods,
        "total_energy": num(n.kwh),
        "total_time": num(hours),
        "last_updated": now(),
    });
    for k in ["name", "postal_code", "state"] {
        if let Some(v) = loc.get(k) {
            cdr["cdr_location"][k] = v.clone();
        }
    }
    if let Some(r) = s.get("authorization_reference") {
        cdr["authorization_reference"] = r.clone();
    }
    if let Some(t) = &n.tariff {
        cdr["tariffs"] = json!([t]);
    }
    match &n.costs {
        Some(costs) => {
            cdr["total_cost"] = json!(costs.total_cost);
            cdr["total_time"] = num(costs.total_time);
            cdr["total_parking_time"] = num(costs.total_parking_time);
            for (k, v) in [
                ("total_fixed_cost", &costs.total_fixed_cost),
                ("total_energy_cost", &costs.total_energy_cost),
                ("total_time_cost", &costs.total_time_cost),
                ("total_parking_cost", &costs.total_parking_cost),
                ("total_reservation_cost", &costs.total_reservation_cost),
            ] {
                if let Some(p) = v {
                    cdr[k] = json!(p);
                }
            }
        }
        None => {
            cdr["total_cost"] = json!({"excl_vat": 0});
            cdr["remark"] = json!(if n.tariff.is_some() {
                "the tariff could not price this session"
            } else {
                "no tariff attached to the connector"
            });
        }
    }
    cdr
}
