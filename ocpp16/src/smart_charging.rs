//! Smart charging for OCPP 1.6: conversions between the 1.6 messages and the version-neutral
//! model of [`ocpp_core::smart_charging`] (profiles in, composite schedules out and back).
//!
//! ```
//! use ocpp16::smart_charging::installed_profile;
//! use ocpp16::*;
//! use ocpp_core::smart_charging::{Purpose, RateUnit};
//! use ocpp_types::Decimal;
//!
//! let schedule = ChargingSchedule::new(
//!     ChargingRateUnitType::A,
//!     vec![ChargingSchedulePeriod::new(0, Decimal::from(16))],
//! );
//! let profile = ChargingProfile::new(
//!     7,
//!     0,
//!     ChargingProfilePurposeType::TxDefaultProfile,
//!     ChargingProfileKindType::Relative,
//!     schedule,
//! );
//! let installed = installed_profile(&SetChargingProfileRequest::new(0, profile)).unwrap();
//! assert_eq!(installed.evse_id, 0);
//! assert_eq!(installed.profile.purpose, Purpose::TxDefault);
//! assert_eq!(installed.profile.schedules[0].rate_unit, RateUnit::A);
//! ```

use ocpp_core::smart_charging::{
    self as sc, CompositeRequest, CompositeSchedule, InstalledProfile, ValidationError,
};
use ocpp_types::{DateTime, Decimal};

use crate::{
    ChargingProfile, ChargingProfileKindType, ChargingProfilePurposeType, ChargingRateUnitType,
    ChargingSchedule, ChargingSchedulePeriod, GetCompositeScheduleRequest,
    GetCompositeScheduleResponse, GetCompositeScheduleStatus, RecurrencyKindType,
    SetChargingProfileRequest,
};

fn unknown(field: &'static str, value: &str) -> ValidationError {
    ValidationError::UnknownValue {
        field,
        value: value.to_owned(),
    }
}

fn id_u32(field: &'static str, value: i64) -> Result<u32, ValidationError> {
    u32::try_from(value).map_err(|_| ValidationError::OutOfRange { field, value })
}

/// The neutral unit of a 1.6 `chargingRateUnit`.
pub fn rate_unit(unit: &ChargingRateUnitType) -> Result<sc::RateUnit, ValidationError> {
    match unit {
        ChargingRateUnitType::A => Ok(sc::RateUnit::A),
        ChargingRateUnitType::W => Ok(sc::RateUnit::W),
        ChargingRateUnitType::UnknownValue(v) => Err(unknown("chargingRateUnit", v)),
    }
}

/// The 1.6 `chargingRateUnit` of a neutral unit.
pub fn rate_unit_type(unit: sc::RateUnit) -> ChargingRateUnitType {
    match unit {
        sc::RateUnit::A => ChargingRateUnitType::A,
        sc::RateUnit::W => ChargingRateUnitType::W,
    }
}

/// The neutral purpose of a 1.6 `chargingProfilePurpose`.
pub fn purpose(purpose: &ChargingProfilePurposeType) -> Result<sc::Purpose, ValidationError> {
    match purpose {
        ChargingProfilePurposeType::ChargePointMaxProfile => Ok(sc::Purpose::StationMax),
        ChargingProfilePurposeType::TxDefaultProfile => Ok(sc::Purpose::TxDefault),
        ChargingProfilePurposeType::TxProfile => Ok(sc::Purpose::Tx),
        ChargingProfilePurposeType::UnknownValue(v) => Err(unknown("chargingProfilePurpose", v)),
    }
}

fn kind(
    kind: &ChargingProfileKindType,
    recurrency: Option<&RecurrencyKindType>,
) -> Result<sc::ProfileKind, ValidationError> {
    let k = match kind {
        ChargingProfileKindType::Absolute => sc::ProfileKind::Absolute,
        ChargingProfileKindType::Relative => sc::ProfileKind::Relative,
        ChargingProfileKindType::Recurring => {
            let r = match recurrency {
                Some(RecurrencyKindType::Daily) => sc::Recurrency::Daily,
                Some(RecurrencyKindType::Weekly) => sc::Recurrency::Weekly,
                Some(RecurrencyKindType::UnknownValue(v)) => {
                    return Err(unknown("recurrencyKind", v))
                }
                None => return Err(ValidationError::RecurrencyKindMissing),
            };
            return Ok(sc::ProfileKind::Recurring(r));
        }
        ChargingProfileKindType::UnknownValue(v) => return Err(unknown("chargingProfileKind", v)),
    };
    if recurrency.is_some() {
        return Err(ValidationError::RecurrencyKindNotAllowed);
    }
    Ok(k)
}

fn period(p: &ChargingSchedulePeriod) -> Result<sc::SchedulePeriod, ValidationError> {
    let mut out = sc::SchedulePeriod::new(p.start_period, p.limit);
    if let Some(n) = p.number_phases {
        out.number_phases = Some(u8::try_from(n).map_err(|_| ValidationError::OutOfRange {
            field: "numberPhases",
            value: n,
        })?);
    }
    Ok(out)
}

/// The neutral form of a 1.6 `chargingSchedule`.
pub fn schedule(s: &ChargingSchedule) -> Result<sc::ChargingSchedule, ValidationError> {
    let periods = s
        .charging_schedule_period
        .iter()
        .map(period)
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = sc::ChargingSchedule::new(rate_unit(&s.charging_rate_unit)?, periods);
    out.start_schedule = s.start_schedule.as_ref().map(DateTime::to_utc);
    out.duration = s.duration;
    out.min_charging_rate = s.min_charging_rate;
    Ok(out)
}

/// The neutral form of a 1.6 `ChargingProfile` (the transaction id becomes text). Checks only
/// what the conversion needs; [`sc::validate_profile`] checks the rules.
pub fn profile(p: &ChargingProfile) -> Result<sc::ChargingProfile, ValidationError> {
    let mut out = sc::ChargingProfile::new(
        p.charging_profile_id,
        p.stack_level,
        purpose(&p.charging_profile_purpose)?,
        kind(&p.charging_profile_kind, p.recurrency_kind.as_ref())?,
        schedule(&p.charging_schedule)?,
    );
    out.transaction_id = p.transaction_id.map(|t| t.to_string());
    out.valid_from = p.valid_from.as_ref().map(DateTime::to_utc);
    out.valid_to = p.valid_to.as_ref().map(DateTime::to_utc);
    Ok(out)
}

/// The profile of a SetChargingProfile request with its connector.
pub fn installed_profile(
    req: &SetChargingProfileRequest,
) -> Result<InstalledProfile, ValidationError> {
    Ok(InstalledProfile::new(
        id_u32("connectorId", req.connector_id)?,
        profile(&req.cs_charging_profiles)?,
    ))
}

/// The composite request of a GetCompositeSchedule request starting at `now`, in the unit
/// asked for or else `default_unit`.
pub fn composite_request(
    req: &GetCompositeScheduleRequest,
    now: sc::Timestamp,
    default_unit: sc::RateUnit,
) -> Result<CompositeRequest, ValidationError> {
    Ok(CompositeRequest {
        start: now,
        duration: id_u32("duration", req.duration)?,
        evse_id: id_u32("connectorId", req.connector_id)?,
        unit: match &req.charging_rate_unit {
            Some(u) => rate_unit(u)?,
            None => default_unit,
        },
    })
}

/// The 1.6 `chargingSchedule` of a composite schedule. Periods without a limit get
/// `unlimited` (the connector's rating).
pub fn composite_to_schedule(c: &CompositeSchedule, unlimited: Decimal) -> ChargingSchedule {
    let periods = c
        .periods
        .iter()
        .map(|p| {
            let mut out = ChargingSchedulePeriod::new(p.start_period, p.limit.unwrap_or(unlimited));
            out.number_phases = Some(i64::from(p.number_phases));
            out
        })
        .collect();
    let mut s = ChargingSchedule::new(rate_unit_type(c.unit), periods);
    s.start_schedule = Some(DateTime::from(c.start));
    s.duration = Some(i64::from(c.duration));
    s
}

/// The Accepted GetCompositeSchedule response carrying a composite schedule.
pub fn composite_response(
    c: &CompositeSchedule,
    unlimited: Decimal,
) -> GetCompositeScheduleResponse {
    let mut r = GetCompositeScheduleResponse::new(GetCompositeScheduleStatus::Accepted);
    r.connector_id = Some(i64::from(c.evse_id));
    r.schedule_start = Some(DateTime::from(c.start));
    r.charging_schedule = Some(composite_to_schedule(c, unlimited));
    r
}

/// The composite schedule a station answered, for comparing with a prediction
/// ([`CompositeSchedule::differences`]). `None` when it was not Accepted or has no schedule;
/// the start is `scheduleStart`, else the schedule's `startSchedule`, else `requested_at`.
pub fn composite_from_response(
    resp: &GetCompositeScheduleResponse,
    connector_id: u32,
    requested_at: sc::Timestamp,
) -> Result<Option<CompositeSchedule>, ValidationError> {
    let (GetCompositeScheduleStatus::Accepted, Some(s)) = (&resp.status, &resp.charging_schedule)
    else {
        return Ok(None);
    };
    let start = resp
        .schedule_start
        .as_ref()
        .or(s.start_schedule.as_ref())
        .map_or(requested_at, DateTime::to_utc);
    let duration = match s.duration {
        Some(d) => id_u32("duration", d)?,
        None => u32::MAX,
    };
    let periods = s
        .charging_schedule_period
        .iter()
        .map(|p| sc::CompositePeriod {
            start_period: p.start_period,
            limit: Some(p.limit),
            number_phases: p
                .number_phases
                .and_then(|n| u8::try_from(n).ok())
                .unwrap_or(3),
            discharge_limit: None,
            setpoint: None,
        })
        .collect();
    Ok(Some(CompositeSchedule {
        evse_id: resp
            .connector_id
            .map_or(Ok(connector_id), |c| id_u32("connectorId", c))?,
        start,
        duration,
        unit: rate_unit(&s.charging_rate_unit)?,
        periods,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ocpp_types::{decode_payload, DecodeOptions};

    #[test]
    fn recurring_profile_from_json() {
        let json = r#"{"connectorId":1,"csChargingProfiles":{"chargingProfileId":3,
            "transactionId":42,"stackLevel":2,"chargingProfilePurpose":"TxProfile",
            "chargingProfileKind":"Recurring","recurrencyKind":"Daily",
            "chargingSchedule":{"startSchedule":"2025-01-06T22:00:00+01:00","chargingRateUnit":"W",
            "chargingSchedulePeriod":[{"startPeriod":0,"limit":7400.0,"numberPhases":1}]}}}"#;
        let req: SetChargingProfileRequest = decode_payload(json, &DecodeOptions::STRICT).unwrap();
        let ip = installed_profile(&req).unwrap();
        assert_eq!(ip.evse_id, 1);
        let p = ip.profile;
        assert_eq!(p.transaction_id.as_deref(), Some("42"));
        assert_eq!(p.kind, sc::ProfileKind::Recurring(sc::Recurrency::Daily));
        let s = &p.schedules[0];
        assert_eq!(
            s.start_schedule.unwrap().to_rfc3339(),
            "2025-01-06T21:00:00+00:00"
        );
        assert_eq!(s.periods[0].number_phases, Some(1));
        assert_eq!(s.periods[0].limit, Some(Decimal::from(7400)));
    }

    #[test]
    fn recurring_without_recurrency_kind_is_refused() {
        let mut p = ChargingProfile::new(
            1,
            0,
            ChargingProfilePurposeType::TxDefaultProfile,
            ChargingProfileKindType::Recurring,
            ChargingSchedule::new(
                ChargingRateUnitType::A,
                vec![ChargingSchedulePeriod::new(0, Decimal::from(6))],
            ),
        );
        assert_eq!(profile(&p).unwrap_err().rule(), "recurrency-kind-present");
        p.charging_profile_kind = ChargingProfileKindType::Absolute;
        p.recurrency_kind = Some(RecurrencyKindType::Weekly);
        assert_eq!(
            profile(&p).unwrap_err(),
            ValidationError::RecurrencyKindNotAllowed
        );
        p.recurrency_kind = None;
        p.charging_profile_purpose = ChargingProfilePurposeType::UnknownValue("Foo".into());
        assert_eq!(profile(&p).unwrap_err().rule(), "known-value");
    }

    #[test]
    fn composite_round_trips_through_the_response() {
        let start = "2025-01-06T08:00:00Z".parse::<DateTime>().unwrap().to_utc();
        let c = CompositeSchedule {
            evse_id: 1,
            start,
            duration: 3600,
            unit: sc::RateUnit::A,
            periods: vec![
                sc::CompositePeriod {
                    start_period: 0,
                    limit: Some(Decimal::from(16)),
                    number_phases: 3,
                    discharge_limit: None,
                    setpoint: None,
                },
                sc::CompositePeriod {
                    start_period: 600,
                    limit: None,
                    number_phases: 3,
                    discharge_limit: None,
                    setpoint: None,
                },
            ],
        };
        let resp = composite_response(&c, Decimal::from(32));
        let json = ocpp_types::Encode::to_json(&resp);
        assert!(json.contains(r#""limit":32"#), "{json}");
        let back = composite_from_response(&resp, 1, start).unwrap().unwrap();
        assert_eq!(back.periods[1].limit, Some(Decimal::from(32)));
        let diffs = c.differences(&back, Decimal::ZERO);
        assert_eq!(diffs.len(), 1);
        assert_eq!((diffs[0].from, diffs[0].to), (600, 3600));
        assert_eq!(diffs[0].expected, None);
    }
}
