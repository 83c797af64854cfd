//! Smart charging in the reference CSMS: the profile store of every station, local composite
//! schedules, reconciliation with what stations report, and site load balancing.
//!
//! - **Profiles**: a profile is recorded (table `charging_profiles`: purpose, stack level,
//!   kind, validity, the profile JSON as the station's version spells it and the
//!   version-neutral model of [`ocpp_core::smart_charging`]) when a station answers `Accepted`
//!   to a SetChargingProfile, whichever way it was sent (the friendly endpoint, the generic
//!   `POST /api/stations/{id}/calls/SetChargingProfile`, or load balancing). A profile it
//!   displaces (same id; in 1.6 also the same purpose and stack level on the same connector)
//!   is removed. An accepted ClearChargingProfile removes what the spec's matching rules select
//!   ([`clear_matches`]); TxProfiles are dropped when their transaction ends.
//! - **Composite schedules**: [`local_composite`] runs the ocpp-core algorithm over the stored
//!   profiles, with the station's active transactions as the EVSE state.
//! - **Reconciliation**: a GetCompositeSchedule answer (1.6 and 2.x) is stored with the
//!   prediction for the same window and the differences between the two; the profiles of a 2.x
//!   ReportChargingProfiles are stored and compared with the stored ones ([`reconciliation`]).
//! - **Load balancing**: a group of stations behind one grid connection has a limit (A per
//!   phase, or W) and a minimum per car. Whenever a transaction starts or ends on a member
//!   (and whenever the group changes), [`rebalance`] shares the limit among the group's active
//!   transactions with [`share`] and sends each transaction whose share changed a TxProfile
//!   (id [`LOAD_BALANCING_PROFILE_ID`] + EVSE id, stack level
//!   [`LOAD_BALANCING_STACK_LEVEL`], Relative, one period) in its station's version.
//!
//! The operator API routes are in [`api`].
//!
//! # Load-balancing policy
//!
//! The limit is shared equally among the active transactions, rounded toward zero to one
//! decimal (so the sum never exceeds the limit). No car is given less than the minimum per
//! car: when `limit / n` would be below it, only the `floor(limit / minimum)` transactions that
//! started first share the limit equally, and the later ones are given 0 (paused) until a
//! transaction ends. Transactions whose EVSE is unknown cannot be given a TxProfile and are not
//! counted. The work runs in a task of its own after the transaction is committed (it never
//! delays the station's answer), after a short pause that lets the station receive that
//! answer first; recomputations of one group run one at a time. Lower shares are sent first
//! and higher ones only once those are answered, so the group stays within its limit while
//! shares move between cars; a station leaving the group is cleared after any recomputation
//! still under way.

pub mod api;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use ocpp_core::smart_charging::{
    check_conflicts, composite_schedule, validate_profile, ChargingProfile, CompositeRequest,
    CompositeSchedule, Decimal, Difference, InstalledProfile, ProfileKind, ProfileOrigin, Purpose,
    RateUnit, Recurrency, StationCapabilities, StationState, ValidationContext, ValidationError,
};
use ocpp_core::transport::Connections;
use ocpp_types::{DecodeOptions, OcppVersion};
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::domain::{now, Csms, TransactionChange, TransactionListener};
use crate::ocpp::{operator_call, OperatorCallError};
use crate::store::{
    ChargingProfileRecord, CompositeReportRecord, LoadGroupRecord, ReportedProfileRecord, Store,
    StoreError, StoreResult,
};

/// The stack level of the TxProfiles load balancing sends (reserved: operators should not use
/// it for their own TxProfiles).
pub const LOAD_BALANCING_STACK_LEVEL: i64 = 90;

/// The profile ids of load balancing: this plus the EVSE (1.6: connector) id, so each EVSE's
/// share replaces the previous one.
pub const LOAD_BALANCING_PROFILE_ID: i64 = 1_900_000_000;

/// How long load balancing waits after a transaction start or end before it sends profiles,
/// so that the station has received the answer to its StartTransaction / TransactionEvent.
pub const LOAD_BALANCING_DELAY: Duration = Duration::from_millis(200);

/// Why a profile could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The payload breaks the version's schema.
    #[error("invalid payload at {path:?}: {message}")]
    Decode {
        /// The JSON pointer of the fault.
        path: String,
        /// The fault.
        message: String,
    },
    /// The profile breaks a smart-charging rule.
    #[error("rule {}: {}", .0.rule(), .0)]
    Rule(#[from] ValidationError),
}

fn decode<T: ocpp_types::Decode>(json: &str) -> Result<T, ProfileError> {
    ocpp_types::decode_payload::<T>(json, &DecodeOptions::STRICT).map_err(|e| {
        ProfileError::Decode {
            path: e.path().to_owned(),
            message: e.to_string(),
        }
    })
}

/// The version a stored version string names (`1.6`, `2.0.1`, `2.1`); 2.1 when unknown.
pub fn version_of(s: &str) -> OcppVersion {
    s.parse().unwrap_or(OcppVersion::V21)
}

/// Reads a SetChargingProfile request of `version` (its JSON payload): the profile with its
/// EVSE in neutral form.
pub fn read_set_request(
    version: OcppVersion,
    payload: &str,
) -> Result<InstalledProfile, ProfileError> {
    Ok(match version {
        OcppVersion::V16 => ocpp16::smart_charging::installed_profile(&decode::<
            ocpp16::SetChargingProfileRequest,
        >(payload)?)?,
        OcppVersion::V201 => ocpp201::smart_charging::installed_profile(&decode::<
            ocpp201::SetChargingProfileRequest,
        >(payload)?)?,
        _ => ocpp21::smart_charging::installed_profile(&decode::<
            ocpp21::SetChargingProfileRequest,
        >(payload)?)?,
    })
}

/// The key of the profile inside a SetChargingProfile request of `version`.
fn profile_key(version: OcppVersion) -> &'static str {
    if version == OcppVersion::V16 {
        "csChargingProfiles"
    } else {
        "chargingProfile"
    }
}

/// The key of the EVSE in a SetChargingProfile request of `version`.
fn evse_key(version: OcppVersion) -> &'static str {
    if version == OcppVersion::V16 {
        "connectorId"
    } else {
        "evseId"
    }
}

/// A SetChargingProfile payload of `version` for a profile JSON on an EVSE.
pub fn set_request(version: OcppVersion, evse_id: i64, profile: &Value) -> Value {
    let mut m = Map::new();
    m.insert(evse_key(version).into(), json!(evse_id));
    m.insert(profile_key(version).into(), profile.clone());
    Value::Object(m)
}

/// The neutral form of a stored profile.
pub fn stored_profile(rec: &ChargingProfileRecord) -> Result<InstalledProfile, ProfileError> {
    let version = version_of(&rec.version);
    let profile: Value = serde_json::from_str(&rec.profile).map_err(|e| ProfileError::Decode {
        path: String::new(),
        message: e.to_string(),
    })?;
    read_set_request(
        version,
        &set_request(version, rec.evse_id, &profile).to_string(),
    )
}

/// A decimal as a JSON number: an integer when it is one, else the shortest float that reads
/// back as the same decimal text.
pub fn num(d: Decimal) -> Value {
    let d = d.normalize();
    if d.scale() == 0 {
        if let Ok(i) = i64::try_from(d) {
            return json!(i);
        }
    }
    d.to_string()
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

fn opt_num(d: Option<Decimal>) -> Value {
    d.map_or(Value::Null, num)
}

fn time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn purpose_name(p: Purpose) -> &'static str {
    match p {
        Purpose::StationMax => "StationMax",
        Purpose::TxDefault => "TxDefault",
        Purpose::Tx => "Tx",
        Purpose::ExternalConstraints => "ExternalConstraints",
        Purpose::PriorityCharging => "PriorityCharging",
        Purpose::LocalGeneration => "LocalGeneration",
        _ => "Other",
    }
}

fn recurrency_name(k: ProfileKind) -> Option<&'static str> {
    match k {
        ProfileKind::Recurring(Recurrency::Daily) => Some("Daily"),
        ProfileKind::Recurring(Recurrency::Weekly) => Some("Weekly"),
        _ => None,
    }
}

/// The version-neutral model of a profile as JSON (what the `neutral` column holds).
pub fn profile_json(p: &ChargingProfile) -> Value {
    let schedules: Vec<Value> = p
        .schedules
        .iter()
        .map(|s| {
            let periods: Vec<Value> = s
                .periods
                .iter()
                .map(|x| {
                    let mut v = json!({"startPeriod": x.start_period, "limit": opt_num(x.limit)});
                    if x.limit_l2.is_some() || x.limit_l3.is_some() {
                        v["limitL2"] = opt_num(x.limit_l2);
                        v["limitL3"] = opt_num(x.limit_l3);
                    }
                    if let Some(n) = x.number_phases {
                        v["numberPhases"] = json!(n);
                    }
                    if let Some(n) = x.phase_to_use {
                        v["phaseToUse"] = json!(n);
                    }
                    if let Some(d) = x.discharge_limit() {
                        v["dischargeLimit"] = num(d);
                    }
                    if let Some(d) = x.setpoint() {
                        v["setpoint"] = num(d);
                    }
                    v
                })
                .collect();
            json!({
                "id": s.id,
                "startSchedule": s.start_schedule.as_ref().map(time),
                "duration": s.duration,
                "rateUnit": s.rate_unit.as_str(),
                "minChargingRate": opt_num(s.min_charging_rate),
                "periods": periods,
            })
        })
        .collect();
    json!({
        "id": p.id,
        "stackLevel": p.stack_level,
        "purpose": purpose_name(p.purpose),
        "kind": p.kind.wire_name(),
        "recurrency": recurrency_name(p.kind),
        "validFrom": p.valid_from.as_ref().map(time),
        "validTo": p.valid_to.as_ref().map(time),
        "transactionId": p.transaction_id,
        "schedules": schedules,
    })
}

/// A composite schedule as JSON.
pub fn composite_json(c: &CompositeSchedule) -> Value {
    let periods: Vec<Value> = c
        .periods
        .iter()
        .map(|p| {
            let mut v = json!({
                "startPeriod": p.start_period,
                "limit": opt_num(p.limit),
                "numberPhases": p.number_phases,
            });
            if let Some(d) = p.discharge_limit {
                v["dischargeLimit"] = num(d);
            }
            if let Some(d) = p.setpoint {
                v["setpoint"] = num(d);
            }
            v
        })
        .collect();
    json!({
        "evseId": c.evse_id,
        "start": time(&c.start),
        "duration": c.duration,
        "unit": c.unit.as_str(),
        "periods": periods,
    })
}

/// Differences between two composite schedules as JSON (`expected` is the prediction; `null`
/// means no profile limits there).
pub fn differences_json(d: &[Difference]) -> Value {
    Value::Array(
        d.iter()
            .map(|d| {
                json!({"from": d.from, "to": d.to, "expected": opt_num(d.expected), "actual": opt_num(d.actual)})
            })
            .collect(),
    )
}

/// The record of a profile a station accepted.
pub fn profile_record(
    station: &str,
    version: OcppVersion,
    installed: &InstalledProfile,
    profile_json: &Value,
    at: &str,
) -> ChargingProfileRecord {
    let p = &installed.profile;
    let source = if (LOAD_BALANCING_PROFILE_ID..LOAD_BALANCING_PROFILE_ID + 100_000).contains(&p.id)
        && p.purpose == Purpose::Tx
        && p.stack_level == LOAD_BALANCING_STACK_LEVEL
    {
        "load-balancing"
    } else {
        "csms"
    };
    ChargingProfileRecord {
        station_id: station.to_owned(),
        profile_id: p.id,
        evse_id: i64::from(installed.evse_id),
        version: version.as_str().to_owned(),
        purpose: p.purpose.wire_name(version).to_owned(),
        stack_level: p.stack_level,
        kind: p.kind.wire_name().to_owned(),
        recurrency: recurrency_name(p.kind).map(str::to_owned),
        transaction_id: p.transaction_id.clone(),
        valid_from: p.valid_from.as_ref().map(time),
        valid_to: p.valid_to.as_ref().map(time),
        rate_unit: p.schedule().map(|s| s.rate_unit.as_str().to_owned()),
        profile: profile_json.to_string(),
        neutral: self::profile_json(p).to_string(),
        source: source.to_owned(),
        installed_at: at.to_owned(),
    }
}

/// The stored profiles of a station in neutral form, with the ids of those that could not be
/// read (left out).
pub async fn installed_profiles(
    store: &dyn Store,
    station: &str,
) -> StoreResult<(Vec<InstalledProfile>, Vec<i64>)> {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for rec in store.charging_profiles(station, None).await? {
        match stored_profile(&rec) {
            Ok(p) => ok.push(p),
            Err(e) => {
                tracing::warn!(station, profile = rec.profile_id, error = %e, "a stored profile cannot be read");
                bad.push(rec.profile_id);
            }
        }
    }
    Ok((ok, bad))
}

/// The state the composite depends on: the station's active transactions by EVSE (started at
/// their station time, or now when it cannot be read).
pub async fn station_state(store: &dyn Store, station: &str) -> StoreResult<StationState> {
    let mut st = StationState::default();
    for t in store.active_transactions(station).await? {
        let Some(evse) = t
            .evse_id
            .or(t.connector_id)
            .and_then(|e| u32::try_from(e).ok())
        else {
            continue;
        };
        let started = t
            .started_at
            .as_deref()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map_or_else(Utc::now, |d| d.with_timezone(&Utc));
        st = st.with_transaction(evse, t.transaction_id, started);
    }
    Ok(st)
}

/// Checks a profile about to be sent against the rules of `version` and the profiles stored
/// for the station: [`validate_profile`] (with the transaction running on its EVSE) and
/// [`check_conflicts`].
pub async fn check_profile(
    store: &dyn Store,
    station: &str,
    version: OcppVersion,
    installed: &InstalledProfile,
) -> Result<Result<(), ValidationError>, StoreError> {
    let state = station_state(store, station).await?;
    let (profiles, _) = installed_profiles(store, station).await?;
    let caps = StationCapabilities {
        discharge: version == OcppVersion::V21,
        ..StationCapabilities::default()
    };
    let ctx = ValidationContext {
        version,
        evse_id: installed.evse_id,
        active_transaction: state.transaction(installed.evse_id).map(|t| t.id.as_str()),
        capabilities: &caps,
        origin: ProfileOrigin::Csms,
    };
    Ok(validate_profile(&installed.profile, &ctx).and_then(|()| {
        check_conflicts(version, installed.evse_id, &installed.profile, &profiles).map(|_| ())
    }))
}

/// Which stored profiles an accepted ClearChargingProfile of `version` removes. 1.6: `id`
/// alone selects that profile; otherwise every given one of `connectorId`,
/// `chargingProfilePurpose` and `stackLevel` must match (none given: all). 2.x: the same with
/// `chargingProfileId` and `chargingProfileCriteria` (`evseId`, `chargingProfilePurpose`,
/// `stackLevel`).
pub fn clear_matches(version: OcppVersion, req: &Value, rec: &ChargingProfileRecord) -> bool {
    let (id, criteria) = if version == OcppVersion::V16 {
        (req.get("id"), Some(req))
    } else {
        (
            req.get("chargingProfileId"),
            req.get("chargingProfileCriteria"),
        )
    };
    if let Some(id) = id.and_then(Value::as_i64) {
        return rec.profile_id == id;
    }
    let Some(c) = criteria else {
        return true;
    };
    let evse = c
        .get(if version == OcppVersion::V16 {
            "connectorId"
        } else {
            "evseId"
        })
        .and_then(Value::as_i64);
    let purpose = c.get("chargingProfilePurpose").and_then(Value::as_str);
    let stack = c.get("stackLevel").and_then(Value::as_i64);
    evse.is_none_or(|e| e == rec.evse_id)
        && purpose.is_none_or(|p| p == rec.purpose)
        && stack.is_none_or(|s| s == rec.stack_level)
}

/// Records what an answered smart-charging call changed: an accepted SetChargingProfile or
/// ClearChargingProfile, or a GetCompositeSchedule answer with its prediction. Called by
/// [`crate::ocpp::operator_call`] for every CSMS-initiated call.
pub async fn record_call(
    store: &dyn Store,
    station: &str,
    version: OcppVersion,
    action: &str,
    req: &Value,
    ans: &Value,
) -> StoreResult<()> {
    let at = now();
    let accepted = ans.get("status").and_then(Value::as_str) == Some("Accepted");
    match action {
        "SetChargingProfile" if accepted => {
            let installed = match read_set_request(version, &req.to_string()) {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(station, error = %e, "an accepted profile cannot be modelled; not stored");
                    return Ok(());
                }
            };
            let (profiles, _) = installed_profiles(store, station).await?;
            // The station accepted it: it displaced what the version's rules say (2.x
            // refuses a duplicate stack level, so only the same id is replaced there).
            let replaced: Vec<i64> =
                match check_conflicts(version, installed.evse_id, &installed.profile, &profiles) {
                    Ok(c) => c.replaced.iter().map(|&i| profiles[i].profile.id).collect(),
                    Err(_) => Vec::new(),
                };
            let pj = req
                .get(profile_key(version))
                .cloned()
                .unwrap_or(Value::Null);
            let rec = profile_record(station, version, &installed, &pj, &at);
            store.put_charging_profile(&rec, &replaced).await?;
        }
        "ClearChargingProfile" if accepted => {
            let ids: Vec<i64> = store
                .charging_profiles(station, None)
                .await?
                .iter()
                .filter(|r| clear_matches(version, req, r))
                .map(|r| r.profile_id)
                .collect();
            store.delete_charging_profiles(station, &ids).await?;
        }
        "GetCompositeSchedule" => {
            record_composite(store, station, version, req, ans, &at).await?;
        }
        _ => {}
    }
    Ok(())
}

fn reported_composite(
    version: OcppVersion,
    evse: u32,
    ans: &Value,
    requested_at: DateTime<Utc>,
) -> Result<Option<CompositeSchedule>, ProfileError> {
    let text = ans.to_string();
    let lenient = |e: ocpp_types::DecodeError| ProfileError::Decode {
        path: e.path().to_owned(),
        message: e.to_string(),
    };
    Ok(match version {
        OcppVersion::V16 => {
            let r: ocpp16::GetCompositeScheduleResponse =
                ocpp_types::decode_payload(&text, &DecodeOptions::LENIENT).map_err(lenient)?;
            ocpp16::smart_charging::composite_from_response(&r, evse, requested_at)?
        }
        OcppVersion::V201 => {
            let r: ocpp201::GetCompositeScheduleResponse =
                ocpp_types::decode_payload(&text, &DecodeOptions::LENIENT).map_err(lenient)?;
            r.schedule
                .as_ref()
                .map(ocpp201::smart_charging::composite_from_ocpp)
                .transpose()?
        }
        _ => {
            let r: ocpp21::GetCompositeScheduleResponse =
                ocpp_types::decode_payload(&text, &DecodeOptions::LENIENT).map_err(lenient)?;
            r.schedule
                .as_ref()
                .map(ocpp21::smart_charging::composite_from_ocpp)
                .transpose()?
        }
    })
}

async fn record_composite(
    store: &dyn Store,
    station: &str,
    version: OcppVersion,
    req: &Value,
    ans: &Value,
    at: &str,
) -> StoreResult<()> {
    let evse = req
        .get(evse_key(version))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let duration = req.get("duration").and_then(Value::as_i64).unwrap_or(0);
    let unit = req
        .get("chargingRateUnit")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let status = ans
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let now_t = Utc::now();
    let reported = match u32::try_from(evse) {
        Ok(e) => reported_composite(version, e, ans, now_t).unwrap_or_else(|e| {
            tracing::warn!(station, error = %e, "a composite schedule answer cannot be read");
            None
        }),
        Err(_) => None,
    };
    let (mut predicted, mut differences) = (None, None);
    if let Some(r) = &reported {
        let request = CompositeRequest {
            start: r.start,
            duration: u32::try_from(duration).unwrap_or(r.duration),
            evse_id: r.evse_id,
            unit: r.unit,
        };
        let (profiles, _) = installed_profiles(store, station).await?;
        let state = station_state(store, station).await?;
        let p = composite_schedule(&profiles, &request, &state);
        differences = Some(differences_json(&p.differences(r, Decimal::ZERO)).to_string());
        predicted = Some(composite_json(&p).to_string());
    }
    store
        .put_composite_report(&CompositeReportRecord {
            station_id: station.to_owned(),
            evse_id: evse,
            version: version.as_str().to_owned(),
            requested_at: time(&now_t),
            duration,
            rate_unit: unit,
            status,
            reported: reported.as_ref().map(|r| composite_json(r).to_string()),
            predicted,
            differences,
            payload: ans.to_string(),
            at: at.to_owned(),
        })
        .await
}

/// Stores the profiles of a ReportChargingProfiles (2.x) a station sent.
pub async fn record_reported_profiles(
    store: &dyn Store,
    station: &str,
    version: OcppVersion,
    req: &Value,
    at: &str,
) -> StoreResult<()> {
    if version == OcppVersion::V16 {
        return Ok(());
    }
    let request_id = req.get("requestId").and_then(Value::as_i64).unwrap_or(0);
    let evse_id = req.get("evseId").and_then(Value::as_i64).unwrap_or(0);
    let source = req
        .get("chargingLimitSource")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let recs: Vec<ReportedProfileRecord> = req
        .get("chargingProfile")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| ReportedProfileRecord {
            station_id: station.to_owned(),
            request_id,
            evse_id,
            limit_source: source.clone(),
            profile_id: p.get("id").and_then(Value::as_i64).unwrap_or(0),
            profile: p.to_string(),
            at: at.to_owned(),
        })
        .collect();
    store.put_reported_profiles(&recs).await
}

/// What to compute a local composite schedule for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalComposite {
    /// The EVSE, 0 for the station.
    pub evse_id: u32,
    /// Seconds.
    pub duration: u32,
    /// The unit of the result.
    pub unit: RateUnit,
    /// The start (default: now).
    pub start: DateTime<Utc>,
}

/// The composite schedule the CSMS predicts from the stored profiles, as JSON (with
/// `unreadableProfiles`, the ids of stored profiles that could not be read and were left out).
pub async fn local_composite(
    store: &dyn Store,
    station: &str,
    q: &LocalComposite,
) -> StoreResult<Value> {
    let (profiles, bad) = installed_profiles(store, station).await?;
    let state = station_state(store, station).await?;
    let request = CompositeRequest {
        start: q.start,
        duration: q.duration,
        evse_id: q.evse_id,
        unit: q.unit,
    };
    let c = composite_schedule(&profiles, &request, &state);
    let mut v = composite_json(&c);
    v["stationId"] = json!(station);
    v["profiles"] = json!(profiles.len());
    v["unreadableProfiles"] = json!(bad);
    Ok(v)
}

/// The comparison of what the CSMS stored with what the station reported: the latest
/// GetCompositeSchedule answer of each EVSE with the prediction and the differences, and the
/// profiles of the latest ReportChargingProfiles against the stored ones (assumes the
/// GetChargingProfiles asked for every profile).
pub async fn reconciliation(store: &dyn Store, station: &str) -> StoreResult<Value> {
    let reports = store
        .composite_reports(
            station,
            None,
            crate::store::Page {
                limit: 1000,
                offset: 0,
            },
        )
        .await?;
    let mut seen = std::collections::BTreeSet::new();
    let mut composites = Vec::new();
    for r in reports {
        if !seen.insert(r.evse_id) {
            continue;
        }
        let parse = |s: &Option<String>| {
            s.as_deref()
                .and_then(|s| serde_json::from_str::<Value>(s).ok())
                .unwrap_or(Value::Null)
        };
        let differences = parse(&r.differences);
        composites.push(json!({
            "evseId": r.evse_id,
            "requestedAt": r.requested_at,
            "status": r.status,
            "reported": parse(&r.reported),
            "predicted": parse(&r.predicted),
            "differences": differences,
            "matches": differences.as_array().is_some_and(Vec::is_empty),
        }));
    }
    composites.reverse();
    composites.sort_by_key(|c| c["evseId"].as_i64());

    let reported = store.latest_reported_profiles(station).await?;
    let stored = store.charging_profiles(station, None).await?;
    let profiles = if reported.is_empty() {
        Value::Null
    } else {
        compare_profiles(&stored, &reported)
    };
    Ok(json!({"stationId": station, "compositeSchedules": composites, "profiles": profiles}))
}

fn compare_profiles(stored: &[ChargingProfileRecord], reported: &[ReportedProfileRecord]) -> Value {
    let mut only_station = Vec::new();
    let mut different = Vec::new();
    let mut matching = Vec::new();
    let read_reported = |r: &ReportedProfileRecord| -> Option<InstalledProfile> {
        let version = stored
            .iter()
            .find(|s| s.profile_id == r.profile_id)
            .map_or(OcppVersion::V201, |s| version_of(&s.version));
        let pj: Value = serde_json::from_str(&r.profile).ok()?;
        read_set_request(version, &set_request(version, r.evse_id, &pj).to_string()).ok()
    };
    for r in reported {
        match stored.iter().find(|s| s.profile_id == r.profile_id) {
            None => only_station
                .push(json!({"id": r.profile_id, "evseId": r.evse_id, "source": r.limit_source})),
            Some(s) => {
                let ours = stored_profile(s).ok();
                let theirs = read_reported(r);
                let same = match (&ours, &theirs) {
                    (Some(a), Some(b)) => a == b,
                    _ => false,
                };
                if same {
                    matching.push(json!(r.profile_id));
                } else {
                    different.push(json!({
                        "id": r.profile_id,
                        "stored": ours.map(|p| json!({"evseId": p.evse_id, "profile": profile_json(&p.profile)})),
                        "reported": theirs.map(|p| json!({"evseId": p.evse_id, "profile": profile_json(&p.profile)})),
                    }));
                }
            }
        }
    }
    let only_csms: Vec<Value> = stored
        .iter()
        .filter(|s| !reported.iter().any(|r| r.profile_id == s.profile_id))
        .map(|s| json!({"id": s.profile_id, "evseId": s.evse_id}))
        .collect();
    json!({
        "requestId": reported.first().map(|r| r.request_id),
        "matching": matching,
        "different": different,
        "onlyInCsms": only_csms,
        "onlyOnStation": only_station,
    })
}

// ---------------------------------------------------------------------------------------------
// Load balancing.

/// The shares of `sessions` transactions (oldest first) in a limit, with the policy of the
/// module documentation: equal shares rounded toward zero to one decimal, never below
/// `minimum`; when the minimum cannot be given to all, the later transactions get 0.
pub fn share(limit: Decimal, minimum: Decimal, sessions: usize) -> Vec<Decimal> {
    if sessions == 0 {
        return Vec::new();
    }
    let limit = limit.max(Decimal::ZERO);
    let fit = if minimum > Decimal::ZERO {
        let k = (limit / minimum).floor();
        usize::try_from(i64::try_from(k).unwrap_or(i64::MAX))
            .unwrap_or(usize::MAX)
            .min(sessions)
    } else {
        sessions
    };
    let each = if fit == 0 {
        Decimal::ZERO
    } else {
        // Toward zero to one decimal: the shares never add up to more than the limit.
        (((limit / Decimal::from(fit as u64)) * Decimal::TEN).trunc() / Decimal::TEN).normalize()
    };
    (0..sessions)
        .map(|i| if i < fit { each } else { Decimal::ZERO })
        .collect()
}

/// A load-balancing group as the API reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadGroup {
    /// The id.
    pub id: String,
    /// The limit of the grid connection.
    pub limit: Decimal,
    /// Its unit.
    pub unit: RateUnit,
    /// The least a charging car is given.
    pub min_per_car: Decimal,
}

impl LoadGroup {
    /// Reads a stored group; `None` when its numbers do not parse.
    pub fn from_record(r: &LoadGroupRecord) -> Option<LoadGroup> {
        Some(LoadGroup {
            id: r.id.clone(),
            limit: r.limit.parse().ok()?,
            unit: match r.unit.as_str() {
                "A" => RateUnit::A,
                "W" => RateUnit::W,
                _ => return None,
            },
            min_per_car: r.min_per_car.parse().ok()?,
        })
    }
}

/// What one transaction was given by [`rebalance`].
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Allocation {
    /// The station.
    pub station_id: String,
    /// The transaction.
    pub transaction_id: String,
    /// Its EVSE (1.6: connector).
    pub evse_id: i64,
    /// The share, as decimal text.
    pub limit: String,
    /// `sent` (Accepted), `unchanged` (the station has it already), or what went wrong
    /// (the station's status, `not connected`, an error).
    pub outcome: String,
}

/// The TxProfile load balancing sends for a share, as the profile JSON of `version`.
pub fn load_profile_json(
    version: OcppVersion,
    evse_id: i64,
    transaction_id: &str,
    unit: RateUnit,
    limit: Decimal,
) -> Value {
    let period = json!({"startPeriod": 0, "limit": num(limit)});
    if version == OcppVersion::V16 {
        let mut p = json!({
            "chargingProfileId": LOAD_BALANCING_PROFILE_ID + evse_id,
            "stackLevel": LOAD_BALANCING_STACK_LEVEL,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {"chargingRateUnit": unit.as_str(), "chargingSchedulePeriod": [period]},
        });
        if let Ok(t) = transaction_id.parse::<i64>() {
            p["transactionId"] = json!(t);
        }
        p
    } else {
        json!({
            "id": LOAD_BALANCING_PROFILE_ID + evse_id,
            "stackLevel": LOAD_BALANCING_STACK_LEVEL,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "transactionId": transaction_id,
            "chargingSchedule": [{"id": 1, "chargingRateUnit": unit.as_str(), "chargingSchedulePeriod": [period]}],
        })
    }
}

type LockMap = Mutex<HashMap<(usize, String), Arc<tokio::sync::Mutex<()>>>>;

fn group_lock(csms: &Csms, group: &str) -> Arc<tokio::sync::Mutex<()>> {
    static LOCKS: std::sync::OnceLock<LockMap> = std::sync::OnceLock::new();
    let key = (std::ptr::from_ref(csms) as usize, group.to_owned());
    LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key)
        .or_default()
        .clone()
}

/// Shares a group's limit among its active transactions and sends the TxProfiles that
/// changed (see the module documentation); returns what each transaction was given. An
/// unknown group gives nothing.
pub async fn rebalance(
    csms: &Arc<Csms>,
    connections: &Connections,
    group_id: &str,
) -> StoreResult<Vec<Allocation>> {
    let lock = group_lock(csms, group_id);
    let _guard = lock.lock().await;
    let store = csms.store();
    let Some(rec) = store.load_group(group_id).await? else {
        return Ok(Vec::new());
    };
    let Some(group) = LoadGroup::from_record(&rec) else {
        tracing::error!(
            group = group_id,
            "a load-balancing group has unreadable numbers"
        );
        return Ok(Vec::new());
    };
    let txs: Vec<_> = store
        .load_group_transactions(group_id)
        .await?
        .into_iter()
        .filter_map(|t| {
            let evse = t.evse_id.or(t.connector_id).filter(|&e| e > 0)?;
            Some((t, evse))
        })
        .collect();
    let shares = share(group.limit, group.min_per_car, txs.len());
    // Lower shares (and first ones) are sent before higher ones, and the higher ones only
    // once the lower ones are answered: while shares move from some cars to others the group
    // never draws more than its limit (a car still at its old, higher share while another
    // already has its new, higher one would).
    let mut lower = Vec::new();
    let mut higher = Vec::new();
    for (i, ((t, evse), limit)) in txs.into_iter().zip(shares).enumerate() {
        let current = current_share(
            store.as_ref(),
            &t.station_id,
            &t.transaction_id,
            evse,
            group.unit,
        )
        .await;
        let job = ShareJob {
            index: i,
            tx: t,
            evse,
            limit,
            current,
        };
        if current.is_some_and(|c| limit > c) {
            higher.push(job);
        } else {
            lower.push(job);
        }
    }
    let mut out = send_shares(csms, connections, group.unit, lower).await;
    out.extend(send_shares(csms, connections, group.unit, higher).await);
    out.sort_by_key(|(i, _)| *i);
    let out: Vec<Allocation> = out.into_iter().map(|(_, a)| a).collect();
    tracing::info!(group = group_id, transactions = out.len(), "load balanced");
    Ok(out)
}

/// One transaction's share to send.
struct ShareJob {
    index: usize,
    tx: crate::store::TransactionRecord,
    evse: i64,
    limit: Decimal,
    current: Option<Decimal>,
}

/// Sends shares concurrently and waits for every answer; `(index, allocation)` pairs.
async fn send_shares(
    csms: &Arc<Csms>,
    connections: &Connections,
    unit: RateUnit,
    jobs: Vec<ShareJob>,
) -> Vec<(usize, Allocation)> {
    let mut tasks = tokio::task::JoinSet::new();
    for job in jobs {
        let csms = csms.clone();
        let connections = connections.clone();
        tasks.spawn(async move {
            let t = job.tx;
            let outcome = if job.current == Some(job.limit) {
                "unchanged".to_owned()
            } else {
                send_share(
                    &csms,
                    &connections,
                    &t.station_id,
                    &t.transaction_id,
                    job.evse,
                    unit,
                    job.limit,
                )
                .await
            };
            (
                job.index,
                Allocation {
                    station_id: t.station_id,
                    transaction_id: t.transaction_id,
                    evse_id: job.evse,
                    limit: job.limit.to_string(),
                    outcome,
                },
            )
        });
    }
    let mut out = Vec::new();
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(a) => out.push(a),
            Err(e) => tracing::error!(error = %e, "a load-balancing task failed"),
        }
    }
    out
}

/// The share a transaction holds now: the limit of the load-balancing profile stored for it
/// (one period in `unit`), `None` when it has none (or it cannot be read).
async fn current_share(
    store: &dyn Store,
    station: &str,
    transaction_id: &str,
    evse: i64,
    unit: RateUnit,
) -> Option<Decimal> {
    let list = store.charging_profiles(station, Some(evse)).await.ok()?;
    let id = LOAD_BALANCING_PROFILE_ID + evse;
    list.iter()
        .filter(|r| r.profile_id == id && r.transaction_id.as_deref() == Some(transaction_id))
        .find_map(|r| {
            let p = stored_profile(r).ok()?;
            let s = p.profile.schedule()?;
            match s.periods.as_slice() {
                [only] if s.rate_unit == unit => only.limit,
                _ => None,
            }
        })
}

async fn send_share(
    csms: &Csms,
    connections: &Connections,
    station: &str,
    transaction_id: &str,
    evse: i64,
    unit: RateUnit,
    limit: Decimal,
) -> String {
    let Some(handle) = connections.get(station) else {
        return "not connected".into();
    };
    let version = handle.version();
    let payload = set_request(
        version,
        evse,
        &load_profile_json(version, evse, transaction_id, unit, limit),
    );
    match operator_call(
        csms,
        connections,
        station,
        "SetChargingProfile",
        &payload.to_string(),
    )
    .await
    {
        Ok((_, ans)) => match ans.get("status").and_then(Value::as_str) {
            Some("Accepted") => "sent".into(),
            Some(s) => s.to_owned(),
            None => "no status".into(),
        },
        Err(OperatorCallError::NotConnected(_)) => "not connected".into(),
        Err(e) => e.to_string(),
    }
}

/// Removes the load-balancing profiles a station holds (when it leaves its group or the
/// group is deleted): a ClearChargingProfile for each, recorded when accepted.
pub async fn clear_load_profiles(csms: &Csms, connections: &Connections, station: &str) {
    let Ok(list) = csms.store().charging_profiles(station, None).await else {
        return;
    };
    for r in list.iter().filter(|r| r.source == "load-balancing") {
        let Some(handle) = connections.get(station) else {
            // Not connected: the station drops TxProfiles with their transaction anyway.
            let _ = csms
                .store()
                .delete_charging_profiles(station, &[r.profile_id])
                .await;
            continue;
        };
        let payload = if handle.version() == OcppVersion::V16 {
            json!({"id": r.profile_id})
        } else {
            json!({"chargingProfileId": r.profile_id})
        };
        if let Err(e) = operator_call(
            csms,
            connections,
            station,
            "ClearChargingProfile",
            &payload.to_string(),
        )
        .await
        {
            tracing::warn!(station, profile = r.profile_id, error = %e, "clearing a load-balancing profile failed");
        }
    }
}

/// What a transaction start or end does to smart charging: an ended transaction's TxProfiles
/// are dropped from the store, and the station's load-balancing group (if any) is rebalanced.
pub async fn transaction_changed(
    csms: &Arc<Csms>,
    connections: &Connections,
    change: &TransactionChange,
) -> StoreResult<()> {
    let store = csms.store();
    if !change.started {
        let evse = match change.evse_id {
            Some(e) => Some(e),
            None => store
                .transaction(&change.station_id, &change.transaction_id)
                .await?
                .and_then(|t| t.evse_id.or(t.connector_id)),
        };
        let gone: Vec<i64> = store
            .charging_profiles(&change.station_id, None)
            .await?
            .iter()
            .filter(|r| r.purpose == "TxProfile")
            .filter(|r| match r.transaction_id.as_deref() {
                Some(t) => t == change.transaction_id,
                None => evse == Some(r.evse_id),
            })
            .map(|r| r.profile_id)
            .collect();
        store
            .delete_charging_profiles(&change.station_id, &gone)
            .await?;
    }
    if let Some(group) = store.load_group_of(&change.station_id).await? {
        rebalance(csms, connections, &group).await?;
    }
    Ok(())
}

/// The [`TransactionListener`] of smart charging: runs [`transaction_changed`] in a task of
/// its own after [`LOAD_BALANCING_DELAY`].
#[derive(Debug)]
pub struct SmartChargingListener {
    csms: Weak<Csms>,
    connections: Connections,
}

impl SmartChargingListener {
    /// The listener of a CSMS and its connections.
    pub fn new(csms: &Arc<Csms>, connections: Connections) -> Self {
        SmartChargingListener {
            csms: Arc::downgrade(csms),
            connections,
        }
    }
}

impl TransactionListener for SmartChargingListener {
    fn transaction_changed(&self, change: TransactionChange) {
        let csms = self.csms.clone();
        let connections = self.connections.clone();
        tokio::spawn(async move {
            tokio::time::sleep(LOAD_BALANCING_DELAY).await;
            let Some(csms) = csms.upgrade() else {
                return;
            };
            if let Err(e) = transaction_changed(&csms, &connections, &change).await {
                tracing::error!(station = %change.station_id, error = %e, "smart charging after a transaction change failed");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn shares_are_equal_and_honour_the_minimum() {
        assert_eq!(share(d("63"), d("6"), 3), vec![d("21"); 3]);
        assert_eq!(share(d("63"), d("6"), 2), vec![d("31.5"); 2]);
        assert_eq!(share(d("100"), d("0"), 3), vec![d("33.3"); 3]);
        // 63 / 16 = 3.9: three cars get 21, the fourth is paused.
        assert_eq!(
            share(d("63"), d("16"), 4),
            vec![d("21"), d("21"), d("21"), d("0")]
        );
        assert_eq!(share(d("10"), d("16"), 2), vec![d("0"), d("0")]);
        assert!(share(d("63"), d("6"), 0).is_empty());
        let s = share(d("22000"), d("4140"), 7);
        assert_eq!(s.iter().filter(|x| !x.is_zero()).count(), 5);
        assert!(s.iter().copied().sum::<Decimal>() <= d("22000"));
    }

    #[test]
    fn numbers_are_exact() {
        assert_eq!(num(d("21.0")), json!(21));
        assert_eq!(num(d("31.5")).to_string(), "31.5");
        assert_eq!(num(d("15.9")).to_string(), "15.9");
    }

    #[test]
    fn clear_rules() {
        let rec = |id, evse, purpose: &str, stack| ChargingProfileRecord {
            station_id: "S".into(),
            profile_id: id,
            evse_id: evse,
            version: "1.6".into(),
            purpose: purpose.into(),
            stack_level: stack,
            kind: "Absolute".into(),
            recurrency: None,
            transaction_id: None,
            valid_from: None,
            valid_to: None,
            rate_unit: None,
            profile: "{}".into(),
            neutral: "{}".into(),
            source: "csms".into(),
            installed_at: String::new(),
        };
        let a = rec(1, 1, "TxDefaultProfile", 0);
        let b = rec(2, 0, "ChargePointMaxProfile", 1);
        let v16 = OcppVersion::V16;
        assert!(clear_matches(v16, &json!({}), &a));
        assert!(clear_matches(v16, &json!({"id": 1}), &a));
        assert!(!clear_matches(v16, &json!({"id": 1}), &b));
        assert!(clear_matches(v16, &json!({"connectorId": 1}), &a));
        assert!(!clear_matches(v16, &json!({"connectorId": 1}), &b));
        assert!(clear_matches(
            v16,
            &json!({"chargingProfilePurpose": "ChargePointMaxProfile", "stackLevel": 1}),
            &b
        ));
        assert!(!clear_matches(v16, &json!({"stackLevel": 0}), &b));
        let v2 = OcppVersion::V201;
        assert!(clear_matches(v2, &json!({"chargingProfileId": 2}), &b));
        assert!(clear_matches(
            v2,
            &json!({"chargingProfileCriteria": {"evseId": 1}}),
            &a
        ));
        assert!(!clear_matches(
            v2,
            &json!({"chargingProfileCriteria": {"evseId": 1}}),
            &b
        ));
    }

    #[test]
    fn load_profiles_read_back_in_every_version() {
        for v in [OcppVersion::V16, OcppVersion::V201, OcppVersion::V21] {
            let pj = load_profile_json(v, 2, "17", RateUnit::A, d("31.5"));
            let ip = read_set_request(v, &set_request(v, 2, &pj).to_string()).unwrap();
            assert_eq!(ip.evse_id, 2);
            assert_eq!(ip.profile.id, LOAD_BALANCING_PROFILE_ID + 2);
            assert_eq!(ip.profile.purpose, Purpose::Tx);
            assert_eq!(ip.profile.transaction_id.as_deref(), Some("17"));
            assert_eq!(ip.profile.schedules[0].periods[0].limit, Some(d("31.5")));
            let rec = profile_record("S", v, &ip, &pj, "t");
            assert_eq!(rec.source, "load-balancing");
            assert_eq!(rec.purpose, "TxProfile");
        }
    }
}
