//! Sessions and CDRs: an OCPP transaction started with an eMSP token becomes an OCPI Session,
//! updated as meter values arrive and completed at the end, when its CDR is priced with the
//! connector's tariff and POSTed to the eMSP.
//!
//! - A session is stored (`x-session`: station, transaction, EVSE, the token and how it was
//!   authorized) with its PUT in one database transaction; later updates and the CDR use the
//!   stored token, so a token the eMSP deletes or a command token that expires mid-session
//!   changes nothing.
//! - A CDR is stored with its POST in one database transaction: stored means queued, and a
//!   transaction with a CDR is never handled again ([`reconcile`] at start relies on that).
//! - A CDR is pushed only when priced: a connector naming a tariff that is not published, or a
//!   tariff the engine cannot apply, leaves the session completed without cost and an
//!   `x-unpriced` record (logged as an error), priced again by [`reprice`] when a tariff
//!   changes and by [`reconcile`] at start.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use ocpi::tariff::{price, Costs, PricingInput, PricingOptions};
use ocpi::v221::{CdrDimension, CdrDimensionType, ChargingPeriod, ModuleId, Tariff};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::db::OutboxRow;
use super::locations::{self, Assigned};
use super::OcpiCpo;
use crate::domain::now;
use crate::store::{Page, TransactionRecord};

/// The bridge kind of the sessions whose CDR could not be priced yet (by session id).
pub(super) const UNPRICED: &str = "x-unpriced";

/// The bridge kind of a session's origin (by session id).
const ORIGIN: &str = "x-session";

/// How long a command token is kept once its session started (it is forgotten at the end).
const SESSION_TOKEN_TTL: std::time::Duration = std::time::Duration::from_secs(48 * 3600);

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
    /// Why a session that a tariff should price has no costs.
    error: Option<String>,
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
    let (tariff, mut error) = match tariff_of(cpo, tx, a) {
        Ok(t) => (t, None),
        Err(e) => (None, Some(e)),
    };
    let tz = a
        .location
        .get("time_zone")
        .and_then(Value::as_str)
        .and_then(|z| z.parse::<chrono_tz::Tz>().ok())
        .unwrap_or(chrono_tz::UTC);
    let costs = match (&tariff, end) {
        (Some(t), Some(end)) if !periods.is_empty() => {
            let end = ocpi::primitives::DateTime::from(end);
            let priced = serde_json::from_value::<Tariff>(t.clone())
                .map_err(|e| format!("the tariff is not an OCPI tariff: {e}"))
                .and_then(|typed| {
                    let input = PricingInput::from_charging_periods(&periods, Some(&end), tz)
                        .map_err(|e| format!("the charging periods cannot be priced: {e}"))?;
                    price(&typed, &input, &PricingOptions::default()).map_err(|e| e.to_string())
                });
            match priced {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::warn!(error = %e, station = %tx.station_id, transaction = %tx.transaction_id, "pricing a session failed");
                    error = Some(e);
                    None
                }
            }
        }
        _ => None,
    };
    if tariff.is_some() && costs.is_none() && error.is_none() {
        error = Some("the session has no charging periods to price".into());
    }
    if let Some(c) = &costs {
        periods = c.charging_periods.clone();
    }
    Numbers {
        kwh,
        periods,
        costs,
        tariff,
        end,
        error,
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

/// The tariff of the transaction's connector: `Ok(None)` when the connector names none,
/// `Err` when the one it names is not published.
fn tariff_of(cpo: &OcpiCpo, tx: &TransactionRecord, a: &Assigned) -> Result<Option<Value>, String> {
    let c = connector(tx, a);
    let Some(id) = c
        .get("tariff_ids")
        .and_then(Value::as_array)
        .and_then(|l| l.first())
        .and_then(Value::as_str)
    else {
        return Ok(None);
    };
    cpo.tariff(id)
        .map(Some)
        .ok_or_else(|| format!("the connector's tariff {id:?} is not published"))
}

struct Context {
    tx: TransactionRecord,
    token: Value,
    assigned: Assigned,
    id: String,
    /// The session's stored origin (`x-session`), once it started.
    origin: Option<Value>,
}

async fn context(cpo: &OcpiCpo, station: &str, tx_id: &str) -> Option<Context> {
    let tx = cpo
        .csms
        .store()
        .transaction(station, tx_id)
        .await
        .ok()
        .flatten()?;
    let id = session_id(station, tx_id);
    let origin = cpo
        .storage()
        .get_kind(ORIGIN, "SENDER", std::slice::from_ref(&id));
    let token = match origin.as_ref().and_then(|o| o.get("token")) {
        Some(t) if t.is_object() => t.clone(),
        _ => cpo.find_token(tx.id_token.as_deref()?)?,
    };
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
        id,
        tx,
        token,
        assigned,
        origin,
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
        .get(uid, std::time::Instant::now())
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
    let (method, reference) = match c.origin.as_ref().and_then(|o| o.get("auth_method")) {
        Some(m) => (
            m.as_str().unwrap_or("WHITELIST").to_owned(),
            c.origin
                .as_ref()
                .and_then(|o| o.get("authorization_reference"))
                .and_then(Value::as_str)
                .map(str::to_owned),
        ),
        None => {
            let (m, r) = auth_method(cpo, uid);
            (m.to_owned(), r)
        }
    };
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

/// An outbox row for the owner of the session's token (none when no partner owns it).
fn session_push(
    cpo: &OcpiCpo,
    c: &Context,
    method: &str,
    path: &[&str],
    module: &ModuleId,
    body: &Value,
) -> Option<(u64, OutboxRow)> {
    let partner = owner(cpo, &c.token)?;
    Some((
        partner,
        OutboxRow {
            id: 0,
            partner_id: partner as i64,
            method: method.into(),
            module: module.to_string(),
            path: serde_json::to_string(path).unwrap_or_default(),
            body: body.to_string(),
            created_at: now(),
            attempts: 0,
            last_error: None,
            delivered_at: None,
            result: None,
        },
    ))
}

/// Stores objects with the pushes they cause in one database transaction; false (logged)
/// when the database refused (nothing stored, nothing queued).
async fn store_and_push(
    cpo: &OcpiCpo,
    objects: Vec<(&str, &str, Vec<String>, Value)>,
    pushes: Vec<(u64, OutboxRow)>,
) -> bool {
    let partners: Vec<u64> = pushes.iter().map(|(p, _)| *p).collect();
    let rows = pushes.into_iter().map(|(_, r)| r).collect();
    match cpo.storage().put_with_pushes(objects, rows).await {
        Ok(()) => {
            if !partners.is_empty() {
                cpo.pushes_queued(&partners);
            }
            true
        }
        Err(e) => {
            tracing::error!(error = %e, "storing an OCPI session or CDR failed; it is retried at the next start");
            false
        }
    }
}

/// A transaction started: its session, when an eMSP token started it at an assigned EVSE.
pub(super) async fn started(cpo: &OcpiCpo, station: &str, tx: &str) {
    let Some(mut c) = context(cpo, station, tx).await else {
        return;
    };
    if stored(cpo, &c.id).is_some() {
        return;
    }
    let uid = c
        .token
        .get("uid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let (method, reference) = auth_method(cpo, &uid);
    let mut origin = json!({"station": station, "transaction": tx,
        "evse": c.tx.evse_id.or(c.tx.connector_id), "token": c.token, "auth_method": method});
    if let Some(r) = reference {
        origin["authorization_reference"] = json!(r);
    }
    c.origin = Some(origin.clone());
    let n = numbers(cpo, &c.tx, &c.assigned).await;
    let s = session_json(cpo, &c, &n, false);
    let (cc, pid) = cpo.party();
    let push = session_push(
        cpo,
        &c,
        "PUT",
        &[cc, pid, c.id.as_str()],
        &ModuleId::Sessions,
        &s,
    );
    let stored = store_and_push(
        cpo,
        vec![
            (ORIGIN, "SENDER", vec![c.id.clone()], origin),
            (ModuleId::Sessions.as_str(), "SENDER", vec![c.id.clone()], s),
        ],
        push.into_iter().collect(),
    )
    .await;
    if stored && method == "COMMAND" {
        // Its session keeps the token now; the command's copy stays while it charges (a
        // 2.x station may present the token again in later events).
        cpo.command_tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .expire_at(&uid, std::time::Instant::now() + SESSION_TOKEN_TTL);
    }
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
    // The context was read before the session existed when it started just now.
    let Some(c) = context(cpo, station, tx).await else {
        return;
    };
    let n = numbers(cpo, &c.tx, &c.assigned).await;
    let s = session_json(cpo, &c, &n, true);
    let mut patch = json!({
        "kwh": s["kwh"], "charging_periods": s["charging_periods"], "status": "COMPLETED",
        "end_date_time": s["end_date_time"], "last_updated": s["last_updated"],
    });
    if let Some(t) = s.get("total_cost") {
        patch["total_cost"] = t.clone();
    }
    let (cc, pid) = cpo.party();
    let session_patch = session_push(
        cpo,
        &c,
        "PATCH",
        &[cc, pid, c.id.as_str()],
        &ModuleId::Sessions,
        &patch,
    );
    let session_ids = vec![c.id.clone()];
    if let Some(error) = &n.error {
        // No CDR with a made-up cost: the session is completed, the failure kept in sight.
        let already = cpo
            .storage()
            .get_kind(UNPRICED, "SENDER", &session_ids)
            .is_some();
        tracing::error!(session = %c.id, %station, transaction = tx, %error,
            "the CDR cannot be priced; it is not sent until it can be (when a tariff changes, or at the next start)");
        let record = json!({"session_id": c.id, "station": station, "transaction": tx,
            "error": error, "at": now()});
        store_and_push(
            cpo,
            vec![
                (
                    ModuleId::Sessions.as_str(),
                    "SENDER",
                    session_ids.clone(),
                    s,
                ),
                (UNPRICED, "SENDER", session_ids, record),
            ],
            if already {
                Vec::new()
            } else {
                session_patch.into_iter().collect()
            },
        )
        .await;
        return;
    }
    let cdr = cdr_json(cpo, &c, &n, &s);
    let cdr_push = session_push(cpo, &c, "POST", &[], &ModuleId::Cdrs, &cdr);
    let done = store_and_push(
        cpo,
        vec![
            (
                ModuleId::Sessions.as_str(),
                "SENDER",
                session_ids.clone(),
                s,
            ),
            (ModuleId::Cdrs.as_str(), "SENDER", cdr_ids, cdr),
        ],
        session_patch.into_iter().chain(cdr_push).collect(),
    )
    .await;
    if done {
        cpo.storage().delete_kind(UNPRICED, "SENDER", &session_ids);
        if let Some(uid) = c.token.get("uid").and_then(Value::as_str) {
            cpo.command_tokens
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(uid);
        }
    }
}

/// At start: every transaction of an eMSP token gets what the bridge may have missed while
/// it was stopped or when it crashed between the OCPP message's commit and its own writes
/// (changes reach it through memory): its session, and once ended its CDR. Idempotent: a
/// transaction with a CDR is skipped without reading more, one with a session is not started
/// again. Reads the transactions newest first, one page from position `from`; returns the
/// position of the next page, if any (the event task handles the live changes queued
/// meanwhile before it: a large history does not hold up status updates).
pub(super) async fn reconcile(cpo: &OcpiCpo, from: i64) -> Option<i64> {
    const PAGE: i64 = 500;
    let page = match cpo
        .csms
        .store()
        .transactions(
            None,
            Page {
                limit: PAGE,
                offset: from,
            },
        )
        .await
    {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "reconciling OCPI sessions: reading the transactions failed");
            return None;
        }
    };
    let n = page.len() as i64;
    let mut handled = 0u64;
    for tx in page {
        let Some(uid) = tx.id_token.as_deref() else {
            continue;
        };
        let id = session_id(&tx.station_id, &tx.transaction_id);
        let ids = std::slice::from_ref(&id);
        if cpo
            .storage()
            .get_kind(ModuleId::Cdrs.as_str(), "SENDER", ids)
            .is_some()
        {
            continue;
        }
        let has_session = cpo.storage().get_kind(ORIGIN, "SENDER", ids).is_some();
        if !has_session && cpo.find_token(uid).is_none() {
            continue;
        }
        if tx.status == "Ended" {
            handled += 1;
            ended(cpo, &tx.station_id, &tx.transaction_id).await;
        } else if !has_session {
            handled += 1;
            started(cpo, &tx.station_id, &tx.transaction_id).await;
        }
    }
    if handled > 0 {
        tracing::info!(
            from,
            transactions = n,
            handled,
            "OCPI sessions and CDRs the bridge had missed made"
        );
    }
    (n == PAGE).then_some(from + PAGE)
}

/// The sessions that could not be priced, priced again (a tariff changed).
pub(super) async fn reprice(cpo: &OcpiCpo) {
    for (_, u) in cpo.storage().list_kind(UNPRICED, "SENDER") {
        let (Some(station), Some(tx)) = (
            u.get("station").and_then(Value::as_str),
            u.get("transaction").and_then(Value::as_str),
        ) else {
            continue;
        };
        ended(cpo, station, tx).await;
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
