//! Smart charging for OCPP 2.0.1: conversions between the 2.0.1 messages and the
//! version-neutral model of [`ocpp_core::smart_charging`] (profiles in, composite schedules out
//! and back).
//!
//! ```
//! use ocpp201::smart_charging::installed_profile;
//! use ocpp201::*;
//! use ocpp_core::smart_charging::Purpose;
//! use ocpp_types::{DateTime, Decimal};
//!
//! let mut schedule = ChargingScheduleType::new(
//!     1,
//!     ChargingRateUnitEnumType::W,
//!     vec![ChargingSchedulePeriodType::new(0, Decimal::from(11_000))],
//! );
//! schedule.start_schedule = Some("2025-01-06T00:00:00Z".parse::<DateTime>().unwrap());
//! let profile = ChargingProfileType::new(
//!     5,
//!     0,
//!     ChargingProfilePurposeEnumType::ChargingStationMaxProfile,
//!     ChargingProfileKindEnumType::Absolute,
//!     vec![schedule],
//! );
//! let installed = installed_profile(&SetChargingProfileRequest::new(0, profile)).unwrap();
//! assert_eq!(installed.profile.purpose, Purpose::StationMax);
//! ```

use ocpp_core::smart_charging::{
    self as sc, CompositeRequest, CompositeSchedule, InstalledProfile, ValidationError,
};
use ocpp_types::{DateTime, Decimal};

use crate::{
    ChargingProfileKindEnumType, ChargingProfilePurposeEnumType, ChargingProfileType,
    ChargingRateUnitEnumType, ChargingSchedulePeriodType, ChargingScheduleType,
    CompositeScheduleType, GenericStatusEnumType, GetCompositeScheduleRequest,
    GetCompositeScheduleResponse, RecurrencyKindEnumType, SetChargingProfileRequest,
};

fn unknown(field: &'static str, value: &str) -> ValidationError {
    ValidationError::UnknownValue {
        field,
        value: value.to_owned(),
    }
}

fn to_u32(field: &'static str, value: i64) -> Result<u32, ValidationError> {
    u32::try_from(value).map_err(|_| ValidationError::OutOfRange { field, value })
}

fn to_u8(field: &'static str, value: i64) -> Result<u8, ValidationError> {
    u8::try_from(value).map_err(|_| ValidationError::OutOfRange { field, value })
}

/// The neutral unit of a 2.0.1 `chargingRateUnit`.
pub fn rate_unit(unit: &ChargingRateUnitEnumType) -> Result<sc::RateUnit, ValidationError> {
    match unit {
        ChargingRateUnitEnumType::A => Ok(sc::RateUnit::A),
        ChargingRateUnitEnumType::W => Ok(sc::RateUnit::W),
        ChargingRateUnitEnumType::UnknownValue(v) => Err(unknown("chargingRateUnit", v)),
    }
}

/// The 2.0.1 `chargingRateUnit` of a neutral unit.
pub fn rate_unit_type(unit: sc::RateUnit) -> ChargingRateUnitEnumType {
    match unit {
        sc::RateUnit::A => ChargingRateUnitEnumType::A,
        sc::RateUnit::W => ChargingRateUnitEnumType::W,
    }
}

/// The neutral purpose of a 2.0.1 `chargingProfilePurpose`.
pub fn purpose(p: &ChargingProfilePurposeEnumType) -> Result<sc::Purpose, ValidationError> {
    use ChargingProfilePurposeEnumType as P;
    match p {
        P::ChargingStationMaxProfile => Ok(sc::Purpose::StationMax),
        P::TxDefaultProfile => Ok(sc::Purpose::TxDefault),
        P::TxProfile => Ok(sc::Purpose::Tx),
        P::ChargingStationExternalConstraints => Ok(sc::Purpose::ExternalConstraints),
        P::UnknownValue(v) => Err(unknown("chargingProfilePurpose", v)),
    }
}

fn kind(
    kind: &ChargingProfileKindEnumType,
    recurrency: Option<&RecurrencyKindEnumType>,
) -> Result<sc::ProfileKind, ValidationError> {
    let k = match kind {
        ChargingProfileKindEnumType::Absolute => sc::ProfileKind::Absolute,
        ChargingProfileKindEnumType::Relative => sc::ProfileKind::Relative,
        ChargingProfileKindEnumType::Recurring => {
            return match recurrency {
                Some(RecurrencyKindEnumType::Daily) => {
                    Ok(sc::ProfileKind::Recurring(sc::Recurrency::Daily))
                }
                Some(RecurrencyKindEnumType::Weekly) => {
                    Ok(sc::ProfileKind::Recurring(sc::Recurrency::Weekly))
                }
                Some(RecurrencyKindEnumType::UnknownValue(v)) => Err(unknown("recurrencyKind", v)),
                None => Err(ValidationError::RecurrencyKindMissing),
            }
        }
        ChargingProfileKindEnumType::UnknownValue(v) => {
            return Err(unknown("chargingProfileKind", v))
        }
    };
    if recurrency.is_some() {
        return Err(ValidationError::RecurrencyKindNotAllowed);
    }
    Ok(k)
}

fn period(p: &ChargingSchedulePeriodType) -> Result<sc::SchedulePeriod, ValidationError> {
    let mut out = sc::SchedulePeriod::new(p.start_period, p.limit);
    out.number_phases = p
        .number_phases
        .map(|n| to_u8("numberPhases", n))
        .transpose()?;
    out.phase_to_use = p.phase_to_use.map(|n| to_u8("phaseToUse", n)).transpose()?;
    Ok(out)
}

/// The neutral form of a 2.0.1 `chargingSchedule` (the sales tariff is not carried).
pub fn schedule(s: &ChargingScheduleType) -> Result<sc::ChargingSchedule, ValidationError> {
    let periods = s
        .charging_schedule_period
        .iter()
        .map(period)
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = sc::ChargingSchedule::new(rate_unit(&s.charging_rate_unit)?, periods);
    out.id = Some(s.id);
    out.start_schedule = s.start_schedule.as_ref().map(DateTime::to_utc);
    out.duration = s.duration;
    out.min_charging_rate = s.min_charging_rate;
    Ok(out)
}

/// The neutral form of a 2.0.1 `ChargingProfileType`. Checks only what the conversion needs;
/// [`sc::validate_profile`] checks the rules.
pub fn profile(p: &ChargingProfileType) -> Result<sc::ChargingProfile, ValidationError> {
    let schedules = p
        .charging_schedule
        .iter()
        .map(schedule)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(sc::ChargingProfile {
        id: p.id,
        stack_level: p.stack_level,
        purpose: purpose(&p.charging_profile_purpose)?,
        kind: kind(&p.charging_profile_kind, p.recurrency_kind.as_ref())?,
        valid_from: p.valid_from.as_ref().map(DateTime::to_utc),
        valid_to: p.valid_to.as_ref().map(DateTime::to_utc),
        transaction_id: p.transaction_id.as_deref().map(str::to_owned),
        schedules,
        max_offline_duration: None,
        invalid_after_offline_duration: None,
        dyn_update_interval: None,
        dyn_update_time: None,
    })
}

/// The profile of a SetChargingProfile request with its EVSE.
pub fn installed_profile(
    req: &SetChargingProfileRequest,
) -> Result<InstalledProfile, ValidationError> {
    Ok(InstalledProfile::new(
        to_u32("evseId", req.evse_id)?,
        profile(&req.charging_profile)?,
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
        duration: to_u32("duration", req.duration)?,
        evse_id: to_u32("evseId", req.evse_id)?,
        unit: match &req.charging_rate_unit {
            Some(u) => rate_unit(u)?,
            None => default_unit,
        },
    })
}

/// The 2.0.1 `CompositeScheduleType` of a composite schedule. Periods without a limit get
/// `unlimited` (the EVSE's rating).
pub fn composite_to_ocpp(c: &CompositeSchedule, unlimited: Decimal) -> CompositeScheduleType {
    let periods = c
        .periods
        .iter()
        .map(|p| {
            let mut out =
                ChargingSchedulePeriodType::new(p.start_period, p.limit.unwrap_or(unlimited));
            out.number_phases = Some(i64::from(p.number_phases));
            out
        })
        .collect();
    CompositeScheduleType::new(
        periods,
        i64::from(c.evse_id),
        i64::from(c.duration),
        DateTime::from(c.start),
        rate_unit_type(c.unit),
    )
}

/// The Accepted GetCompositeSchedule response carrying a composite schedule.
pub fn composite_response(
    c: &CompositeSchedule,
    unlimited: Decimal,
) -> GetCompositeScheduleResponse {
    let mut r = GetCompositeScheduleResponse::new(GenericStatusEnumType::Accepted);
    r.schedule = Some(composite_to_ocpp(c, unlimited));
    r
}

/// The neutral form of a station's `CompositeScheduleType`, for comparing with a prediction
/// ([`CompositeSchedule::differences`]).
pub fn composite_from_ocpp(
    s: &CompositeScheduleType,
) -> Result<CompositeSchedule, ValidationError> {
    let periods = s
        .charging_schedule_period
        .iter()
        .map(|p| {
            Ok(sc::CompositePeriod {
                start_period: p.start_period,
                limit: Some(p.limit),
                number_phases: p
                    .number_phases
                    .map(|n| to_u8("numberPhases", n))
                    .transpose()?
                    .unwrap_or(3),
                discharge_limit: None,
                setpoint: None,
            })
        })
        .collect::<Result<Vec<_>, ValidationError>>()?;
    Ok(CompositeSchedule {
        evse_id: to_u32("evseId", s.evse_id)?,
        start: s.schedule_start.to_utc(),
        duration: to_u32("duration", s.duration)?,
        unit: rate_unit(&s.charging_rate_unit)?,
        periods,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ocpp_types::{decode_payload, DecodeOptions, Encode};

    #[test]
    fn profile_from_json_keeps_every_schedule_and_phase_to_use() {
        let json = r#"{"evseId":2,"chargingProfile":{"id":9,"stackLevel":1,
            "chargingProfilePurpose":"TxProfile","chargingProfileKind":"Relative",
            "transactionId":"tx-9","chargingSchedule":[
              {"id":1,"chargingRateUnit":"A","minChargingRate":6.0,
               "chargingSchedulePeriod":[{"startPeriod":0,"limit":16,"numberPhases":1,"phaseToUse":2}]},
              {"id":2,"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":10}]}]}}"#;
        let req: SetChargingProfileRequest = decode_payload(json, &DecodeOptions::STRICT).unwrap();
        let ip = installed_profile(&req).unwrap();
        assert_eq!(ip.evse_id, 2);
        assert_eq!(ip.profile.transaction_id.as_deref(), Some("tx-9"));
        assert_eq!(ip.profile.schedules.len(), 2);
        assert_eq!(ip.profile.schedules[0].id, Some(1));
        assert_eq!(
            ip.profile.schedules[0].min_charging_rate,
            Some(Decimal::from(6))
        );
        assert_eq!(ip.profile.schedules[0].periods[0].phase_to_use, Some(2));
    }

    #[test]
    fn external_constraints_and_unknown_values() {
        assert_eq!(
            purpose(&ChargingProfilePurposeEnumType::ChargingStationExternalConstraints),
            Ok(sc::Purpose::ExternalConstraints)
        );
        let err = rate_unit(&ChargingRateUnitEnumType::UnknownValue("kW".into())).unwrap_err();
        assert_eq!(err.rule(), "known-value");
    }

    #[test]
    fn composite_response_encodes_and_reads_back() {
        let start = "2025-03-01T12:00:00Z".parse::<DateTime>().unwrap().to_utc();
        let c = CompositeSchedule {
            evse_id: 1,
            start,
            duration: 900,
            unit: sc::RateUnit::W,
            periods: vec![sc::CompositePeriod {
                start_period: 0,
                limit: Some(Decimal::from(11_040)),
                number_phases: 3,
                discharge_limit: None,
                setpoint: None,
            }],
        };
        let resp = composite_response(&c, Decimal::from(22_080));
        let json = resp.to_json();
        assert!(
            json.contains(r#""scheduleStart":"2025-03-01T12:00:00Z""#),
            "{json}"
        );
        let back = composite_from_ocpp(resp.schedule.as_ref().unwrap()).unwrap();
        assert_eq!(back, c);
    }
}
