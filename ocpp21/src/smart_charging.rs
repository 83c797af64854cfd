//! Smart charging for OCPP 2.1: conversions between the 2.1 messages and the version-neutral
//! model of [`ocpp_core::smart_charging`] (profiles in, composite schedules out and back),
//! including 2.1's PriorityCharging and LocalGeneration purposes, Dynamic profiles, per-phase
//! limits and the V2X values (discharge limits, setpoints, operation mode).
//!
//! ```
//! use ocpp21::smart_charging::installed_profile;
//! use ocpp21::*;
//! use ocpp_core::smart_charging::Purpose;
//! use ocpp_types::Decimal;
//!
//! let mut period = ChargingSchedulePeriodType::new(0);
//! period.limit = Some(Decimal::from(32));
//! period.discharge_limit = Some(Decimal::from(-16));
//! let schedule = ChargingScheduleType::new(1, ChargingRateUnitEnumType::A, vec![period]);
//! let profile = ChargingProfileType::new(
//!     5,
//!     0,
//!     ChargingProfilePurposeEnumType::PriorityCharging,
//!     ChargingProfileKindEnumType::Relative,
//!     vec![schedule],
//! );
//! let installed = installed_profile(&SetChargingProfileRequest::new(1, profile)).unwrap();
//! assert_eq!(installed.profile.purpose, Purpose::PriorityCharging);
//! assert_eq!(installed.profile.schedules[0].periods[0].discharge_limit(), Some(Decimal::from(-16)));
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

/// The neutral unit of a 2.1 `chargingRateUnit`.
pub fn rate_unit(unit: &ChargingRateUnitEnumType) -> Result<sc::RateUnit, ValidationError> {
    match unit {
        ChargingRateUnitEnumType::A => Ok(sc::RateUnit::A),
        ChargingRateUnitEnumType::W => Ok(sc::RateUnit::W),
        ChargingRateUnitEnumType::UnknownValue(v) => Err(unknown("chargingRateUnit", v)),
    }
}

/// The 2.1 `chargingRateUnit` of a neutral unit.
pub fn rate_unit_type(unit: sc::RateUnit) -> ChargingRateUnitEnumType {
    match unit {
        sc::RateUnit::A => ChargingRateUnitEnumType::A,
        sc::RateUnit::W => ChargingRateUnitEnumType::W,
    }
}

/// The neutral purpose of a 2.1 `chargingProfilePurpose`.
pub fn purpose(p: &ChargingProfilePurposeEnumType) -> Result<sc::Purpose, ValidationError> {
    use ChargingProfilePurposeEnumType as P;
    match p {
        P::ChargingStationMaxProfile => Ok(sc::Purpose::StationMax),
        P::TxDefaultProfile => Ok(sc::Purpose::TxDefault),
        P::TxProfile => Ok(sc::Purpose::Tx),
        P::ChargingStationExternalConstraints => Ok(sc::Purpose::ExternalConstraints),
        P::PriorityCharging => Ok(sc::Purpose::PriorityCharging),
        P::LocalGeneration => Ok(sc::Purpose::LocalGeneration),
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
        ChargingProfileKindEnumType::Dynamic => sc::ProfileKind::Dynamic,
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
    let v2x = sc::V2xPeriod {
        discharge_limit: p.discharge_limit,
        discharge_limit_l2: p.discharge_limit_l2,
        discharge_limit_l3: p.discharge_limit_l3,
        setpoint: p.setpoint,
        setpoint_l2: p.setpoint_l2,
        setpoint_l3: p.setpoint_l3,
        setpoint_reactive: p.setpoint_reactive,
        setpoint_reactive_l2: p.setpoint_reactive_l2,
        setpoint_reactive_l3: p.setpoint_reactive_l3,
        v2x_baseline: p.v2x_baseline,
        operation_mode: p.operation_mode.as_ref().map(|m| m.as_str().to_owned()),
        preconditioning_request: p.preconditioning_request,
        evse_sleep: p.evse_sleep,
    };
    Ok(sc::SchedulePeriod {
        start_period: p.start_period,
        limit: p.limit,
        limit_l2: p.limit_l2,
        limit_l3: p.limit_l3,
        number_phases: p
            .number_phases
            .map(|n| to_u8("numberPhases", n))
            .transpose()?,
        phase_to_use: p.phase_to_use.map(|n| to_u8("phaseToUse", n)).transpose()?,
        v2x: (!v2x.is_empty()).then(|| Box::new(v2x)),
    })
}

/// The neutral form of a 2.1 `chargingSchedule` (price schedules, sales tariff, signature and
/// `limitAtSoC` are not carried).
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
    out.power_tolerance = s.power_tolerance;
    out.use_local_time = s.use_local_time;
    out.randomized_delay = s.randomized_delay;
    Ok(out)
}

/// The neutral form of a 2.1 `ChargingProfileType`. Checks only what the conversion needs;
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
        max_offline_duration: p.max_offline_duration,
        invalid_after_offline_duration: p.invalid_after_offline_duration,
        dyn_update_interval: p.dyn_update_interval,
        dyn_update_time: p.dyn_update_time.as_ref().map(DateTime::to_utc),
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

/// The 2.1 `CompositeScheduleType` of a composite schedule, with discharge limits and
/// setpoints. Periods without a limit get `unlimited` (the EVSE's rating).
pub fn composite_to_ocpp(c: &CompositeSchedule, unlimited: Decimal) -> CompositeScheduleType {
    let periods = c
        .periods
        .iter()
        .map(|p| {
            let mut out = ChargingSchedulePeriodType::new(p.start_period);
            out.limit = Some(p.limit.unwrap_or(unlimited));
            out.number_phases = Some(i64::from(p.number_phases));
            out.discharge_limit = p.discharge_limit;
            out.setpoint = p.setpoint;
            out
        })
        .collect();
    CompositeScheduleType::new(
        i64::from(c.evse_id),
        i64::from(c.duration),
        DateTime::from(c.start),
        rate_unit_type(c.unit),
        periods,
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
                limit: p.limit,
                number_phases: p
                    .number_phases
                    .map(|n| to_u8("numberPhases", n))
                    .transpose()?
                    .unwrap_or(3),
                discharge_limit: p.discharge_limit,
                setpoint: p.setpoint,
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
    fn v2x_profile_from_json() {
        let json = r#"{"evseId":1,"chargingProfile":{"id":4,"stackLevel":0,
            "chargingProfilePurpose":"TxProfile","chargingProfileKind":"Dynamic",
            "transactionId":"t1","dynUpdateInterval":60,"chargingSchedule":[
              {"id":1,"startSchedule":"2025-01-01T00:00:00Z","chargingRateUnit":"W",
               "chargingSchedulePeriod":[{"startPeriod":0,"limit":7000,"limit_L2":6000,
               "dischargeLimit":-5000,"setpoint":-3000,"operationMode":"CentralSetpoint"}]}]}}"#;
        let req: SetChargingProfileRequest = decode_payload(json, &DecodeOptions::STRICT).unwrap();
        let p = installed_profile(&req).unwrap().profile;
        assert_eq!(p.kind, sc::ProfileKind::Dynamic);
        assert_eq!(p.dyn_update_interval, Some(60));
        let period = &p.schedules[0].periods[0];
        assert_eq!(period.limit_l2, Some(Decimal::from(6000)));
        let v2x = period.v2x.as_deref().unwrap();
        assert_eq!(v2x.discharge_limit, Some(Decimal::from(-5000)));
        assert_eq!(v2x.setpoint, Some(Decimal::from(-3000)));
        assert_eq!(v2x.operation_mode.as_deref(), Some("CentralSetpoint"));
    }

    #[test]
    fn new_purposes() {
        assert_eq!(
            purpose(&ChargingProfilePurposeEnumType::LocalGeneration),
            Ok(sc::Purpose::LocalGeneration)
        );
        assert_eq!(
            purpose(&ChargingProfilePurposeEnumType::PriorityCharging),
            Ok(sc::Purpose::PriorityCharging)
        );
    }

    #[test]
    fn composite_response_carries_discharge_and_setpoint() {
        let start = "2025-03-01T12:00:00Z".parse::<DateTime>().unwrap().to_utc();
        let c = CompositeSchedule {
            evse_id: 1,
            start,
            duration: 900,
            unit: sc::RateUnit::A,
            periods: vec![sc::CompositePeriod {
                start_period: 0,
                limit: Some(Decimal::from(16)),
                number_phases: 3,
                discharge_limit: Some(Decimal::from(-10)),
                setpoint: Some(Decimal::from(-8)),
            }],
        };
        let resp = composite_response(&c, Decimal::from(32));
        let json = resp.to_json();
        assert!(json.contains(r#""dischargeLimit":-10"#), "{json}");
        let back = composite_from_ocpp(resp.schedule.as_ref().unwrap()).unwrap();
        assert_eq!(back, c);
    }
}
