//! Validation of a profile against the rules of each OCPP version.

use ocpp_types::OcppVersion;
use rust_decimal::Decimal;

use super::model::{ChargingProfile, InstalledProfile, ProfileKind, Purpose, RateUnit};

/// What the station can do, as far as validation cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationCapabilities {
    /// Whether schedules in amperes are accepted (1.6 `ChargingScheduleAllowedChargingRateUnit`,
    /// 2.x `SmartChargingCtrlr.RateUnit`).
    pub amperes: bool,
    /// Whether schedules in watts are accepted.
    pub watts: bool,
    /// The most phases an EVSE has (1 to 3).
    pub max_phases: u8,
    /// Whether the station can discharge (2.1 V2X); only then are negative limits, discharge
    /// limits and negative setpoints accepted.
    pub discharge: bool,
    /// The most periods a schedule may have (1.6 `ChargingScheduleMaxPeriods`,
    /// 2.x `PeriodsPerSchedule`); `None` for no limit.
    pub max_periods: Option<usize>,
}

impl Default for StationCapabilities {
    /// Both units, three phases, no discharging, no period limit.
    fn default() -> Self {
        StationCapabilities {
            amperes: true,
            watts: true,
            max_phases: 3,
            discharge: false,
            max_periods: None,
        }
    }
}

impl StationCapabilities {
    fn accepts(&self, unit: RateUnit) -> bool {
        match unit {
            RateUnit::A => self.amperes,
            RateUnit::W => self.watts,
        }
    }
}

/// Who is installing a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProfileOrigin {
    /// The CSMS, through SetChargingProfile (or a 1.6 RemoteStartTransaction).
    Csms,
    /// The station itself or a local controller (external constraints, local generation).
    Local,
}

/// Everything besides the profile that the rules look at.
#[derive(Debug, Clone, Copy)]
pub struct ValidationContext<'a> {
    /// The version whose rules apply.
    pub version: OcppVersion,
    /// The EVSE (1.6: connector) the profile is for; 0 is the station.
    pub evse_id: u32,
    /// The transaction running on that EVSE, if any.
    pub active_transaction: Option<&'a str>,
    /// What the station can do.
    pub capabilities: &'a StationCapabilities,
    /// Who installs the profile.
    pub origin: ProfileOrigin,
}

/// A rule a profile broke. [`ValidationError::rule`] names the rule in a stable, short form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// The purpose does not exist in this version.
    #[error("purpose {purpose:?} does not exist in OCPP {version}")]
    PurposeNotInVersion {
        /// The purpose.
        purpose: Purpose,
        /// The version.
        version: OcppVersion,
    },
    /// The kind does not exist in this version (`Dynamic` before 2.1).
    #[error("profile kind {kind} does not exist in OCPP {version}")]
    KindNotInVersion {
        /// The kind's wire name.
        kind: &'static str,
        /// The version.
        version: OcppVersion,
    },
    /// The stack level is below 0.
    #[error("stack level {stack_level} is negative")]
    NegativeStackLevel {
        /// The stack level.
        stack_level: i64,
    },
    /// A station maximum profile must be installed on EVSE 0.
    #[error("a station maximum profile must be set on EVSE / connector 0, not {evse_id}")]
    StationMaxNotOnStation {
        /// The EVSE it was sent for.
        evse_id: u32,
    },
    /// A TxProfile must be installed on an EVSE, not on 0.
    #[error("a TxProfile must be set on an EVSE / connector, not on 0")]
    TxProfileOnStation,
    /// A TxProfile needs a transaction running on its EVSE.
    #[error("a TxProfile needs a transaction on EVSE / connector {evse_id}, and none is running")]
    TxProfileWithoutTransaction {
        /// The EVSE.
        evse_id: u32,
    },
    /// A TxProfile names a transaction other than the one running on its EVSE.
    #[error("the TxProfile is for transaction {profile:?} but {running:?} is running")]
    TransactionMismatch {
        /// The transaction the profile names.
        profile: String,
        /// The transaction running on the EVSE.
        running: String,
    },
    /// 2.x: a TxProfile must name its transaction.
    #[error("a TxProfile must name its transaction in OCPP {version}")]
    TransactionIdMissing {
        /// The version.
        version: OcppVersion,
    },
    /// Only a TxProfile may name a transaction.
    #[error("only a TxProfile may carry a transactionId, not a {purpose:?} profile")]
    TransactionIdNotAllowed {
        /// The purpose of the profile.
        purpose: Purpose,
    },
    /// External constraints (and local generation) are not set by the CSMS.
    #[error("{purpose:?} profiles are set locally, not by the CSMS")]
    NotSettableByCsms {
        /// The purpose.
        purpose: Purpose,
    },
    /// The profile has no schedule.
    #[error("the profile has no charging schedule")]
    NoSchedule,
    /// More schedules than the version allows (1 in 1.6, 3 in 2.x).
    #[error("{count} charging schedules, OCPP {version} allows at most {max}")]
    TooManySchedules {
        /// How many there are.
        count: usize,
        /// How many are allowed.
        max: usize,
        /// The version.
        version: OcppVersion,
    },
    /// A schedule has no periods.
    #[error("schedule {schedule} has no periods")]
    NoPeriods {
        /// Index of the schedule.
        schedule: usize,
    },
    /// A schedule has more periods than the station accepts.
    #[error("schedule {schedule} has {count} periods, the station accepts at most {max}")]
    TooManyPeriods {
        /// Index of the schedule.
        schedule: usize,
        /// How many there are.
        count: usize,
        /// How many are accepted.
        max: usize,
    },
    /// The first period must start at 0.
    #[error("the first period of schedule {schedule} starts at {start_period}, not 0")]
    FirstPeriodNotAtZero {
        /// Index of the schedule.
        schedule: usize,
        /// Its start.
        start_period: i64,
    },
    /// Periods must start in strictly ascending order.
    #[error("period {period} of schedule {schedule} does not start after the one before")]
    PeriodsNotAscending {
        /// Index of the schedule.
        schedule: usize,
        /// Index of the period.
        period: usize,
    },
    /// A period has no limit, which only 2.1 allows.
    #[error("period {period} of schedule {schedule} has no limit")]
    LimitMissing {
        /// Index of the schedule.
        schedule: usize,
        /// Index of the period.
        period: usize,
    },
    /// A limit is negative where discharging is not allowed (1.6, 2.0.1, or a station that
    /// cannot discharge).
    #[error("period {period} of schedule {schedule} has negative limit {limit}")]
    NegativeLimit {
        /// Index of the schedule.
        schedule: usize,
        /// Index of the period.
        period: usize,
        /// The limit.
        limit: Decimal,
    },
    /// A discharge limit is above 0.
    #[error("period {period} of schedule {schedule} has discharge limit {limit} above 0")]
    PositiveDischargeLimit {
        /// Index of the schedule.
        schedule: usize,
        /// Index of the period.
        period: usize,
        /// The discharge limit.
        limit: Decimal,
    },
    /// A period asks for discharging (discharge limit below 0 or negative setpoint) and the
    /// station cannot discharge.
    #[error("period {period} of schedule {schedule} asks to discharge and the station cannot")]
    DischargeNotSupported {
        /// Index of the schedule.
        schedule: usize,
        /// Index of the period.
        period: usize,
    },
    /// 2.1 V2X values or per-phase limits in an older version.
    #[error("period {period} of schedule {schedule} has values OCPP {version} does not know")]
    V2xNotInVersion {
        /// Index of the schedule.
        schedule: usize,
        /// Index of the period.
        period: usize,
        /// The version.
        version: OcppVersion,
    },
    /// `minChargingRate` is negative.
    #[error("schedule {schedule} has a negative minChargingRate")]
    NegativeMinChargingRate {
        /// Index of the schedule.
        schedule: usize,
    },
    /// The station does not accept this unit.
    #[error("the station does not accept schedules in {unit:?}")]
    UnitNotSupported {
        /// The unit.
        unit: RateUnit,
    },
    /// The schedules of one profile use different units.
    #[error("the schedules of one profile use different units")]
    MixedUnits,
    /// `numberPhases` outside what the version and the station allow.
    #[error("period {period} of schedule {schedule} has {phases} phases, allowed {min} to {max}")]
    InvalidPhases {
        /// Index of the schedule.
        schedule: usize,
        /// Index of the period.
        period: usize,
        /// The number of phases.
        phases: u8,
        /// The least allowed.
        min: u8,
        /// The most allowed.
        max: u8,
    },
    /// `phaseToUse` is only allowed with one phase, and must name phase 1, 2 or 3.
    #[error("period {period} of schedule {schedule} has phaseToUse without exactly one phase")]
    InvalidPhaseToUse {
        /// Index of the schedule.
        schedule: usize,
        /// Index of the period.
        period: usize,
    },
    /// Per-phase limits (`limit_L2`, `limit_L3`) with fewer than three phases.
    #[error("period {period} of schedule {schedule} has per-phase limits without three phases")]
    PerPhaseLimitsWithoutThreePhases {
        /// Index of the schedule.
        schedule: usize,
        /// Index of the period.
        period: usize,
    },
    /// A duration below 0 (or 0) seconds.
    #[error("schedule {schedule} has duration {duration}, which is not positive")]
    InvalidDuration {
        /// Index of the schedule.
        schedule: usize,
        /// The duration.
        duration: i64,
    },
    /// 2.x: Absolute, Recurring and Dynamic profiles need `startSchedule`.
    #[error("a {kind} profile needs startSchedule in schedule {schedule}")]
    StartScheduleMissing {
        /// The kind's wire name.
        kind: &'static str,
        /// Index of the schedule.
        schedule: usize,
    },
    /// 2.x: a Relative profile must not have `startSchedule`.
    #[error("a Relative profile must not have startSchedule (schedule {schedule})")]
    StartScheduleOnRelative {
        /// Index of the schedule.
        schedule: usize,
    },
    /// `validTo` is not after `validFrom`.
    #[error("validTo is not after validFrom")]
    EmptyValidity,
    /// Another profile with the same purpose and stack level is installed on the same EVSE
    /// for an overlapping validity window (2.x; 1.6 replaces it instead).
    #[error("profile {existing} already has purpose {purpose:?} and stack level {stack_level} on EVSE {evse_id}")]
    DuplicateStackLevel {
        /// The id of the installed profile.
        existing: i64,
        /// The purpose.
        purpose: Purpose,
        /// The stack level.
        stack_level: i64,
        /// The EVSE.
        evse_id: u32,
    },
    /// A wire value the neutral model has no place for (an unknown enum value under lenient
    /// decoding). Raised by the version adapters.
    #[error("{field}: {value:?} is not a value this library understands")]
    UnknownValue {
        /// The JSON member.
        field: &'static str,
        /// The value.
        value: String,
    },
    /// A number out of the range the model allows (negative EVSE id, phases above 255, ...).
    /// Raised by the version adapters.
    #[error("{field}: {value} is out of range")]
    OutOfRange {
        /// The JSON member.
        field: &'static str,
        /// The value.
        value: i64,
    },
    /// A Recurring profile without `recurrencyKind`. Raised by the version adapters.
    #[error("a Recurring profile needs recurrencyKind")]
    RecurrencyKindMissing,
    /// `recurrencyKind` on a profile that is not Recurring. Raised by the version adapters.
    #[error("recurrencyKind is only allowed on a Recurring profile")]
    RecurrencyKindNotAllowed,
}

impl ValidationError {
    /// The rule that was broken, as a short stable name (for logs, metrics and test assertions).
    pub fn rule(&self) -> &'static str {
        use ValidationError as E;
        match self {
            E::PurposeNotInVersion { .. } => "purpose-in-version",
            E::KindNotInVersion { .. } => "kind-in-version",
            E::NegativeStackLevel { .. } => "stack-level-not-negative",
            E::StationMaxNotOnStation { .. } => "station-max-on-evse-0",
            E::TxProfileOnStation => "tx-profile-on-evse",
            E::TxProfileWithoutTransaction { .. } => "tx-profile-needs-transaction",
            E::TransactionMismatch { .. } => "tx-profile-matches-transaction",
            E::TransactionIdMissing { .. } => "tx-profile-names-transaction",
            E::TransactionIdNotAllowed { .. } => "transaction-id-only-on-tx-profile",
            E::NotSettableByCsms { .. } => "not-settable-by-csms",
            E::NoSchedule => "schedule-present",
            E::TooManySchedules { .. } => "schedule-count",
            E::NoPeriods { .. } => "periods-present",
            E::TooManyPeriods { .. } => "periods-per-schedule",
            E::FirstPeriodNotAtZero { .. } => "first-period-at-0",
            E::PeriodsNotAscending { .. } => "periods-ascending",
            E::LimitMissing { .. } => "limit-present",
            E::NegativeLimit { .. } => "limit-not-negative",
            E::PositiveDischargeLimit { .. } => "discharge-limit-not-positive",
            E::DischargeNotSupported { .. } => "discharge-supported",
            E::V2xNotInVersion { .. } => "v2x-in-version",
            E::NegativeMinChargingRate { .. } => "min-charging-rate-not-negative",
            E::UnitNotSupported { .. } => "unit-supported",
            E::MixedUnits => "units-consistent",
            E::InvalidPhases { .. } => "phases-in-range",
            E::InvalidPhaseToUse { .. } => "phase-to-use-single-phase",
            E::PerPhaseLimitsWithoutThreePhases { .. } => "per-phase-limits-three-phases",
            E::InvalidDuration { .. } => "duration-positive",
            E::StartScheduleMissing { .. } => "start-schedule-present",
            E::StartScheduleOnRelative { .. } => "start-schedule-absent-on-relative",
            E::EmptyValidity => "validity-window-not-empty",
            E::DuplicateStackLevel { .. } => "unique-stack-level",
            E::UnknownValue { .. } => "known-value",
            E::OutOfRange { .. } => "value-in-range",
            E::RecurrencyKindMissing => "recurrency-kind-present",
            E::RecurrencyKindNotAllowed => "recurrency-kind-only-on-recurring",
        }
    }
}

/// Checks one profile on its own against the rules of `ctx.version` (everything except the
/// uniqueness of its stack level, which [`check_conflicts`] checks against the installed ones).
///
/// The rules, per version:
/// - all: purpose and kind exist in the version; stack level >= 0; the station maximum on EVSE
///   0 only; a TxProfile on an EVSE > 0, only while a transaction runs there and, when it names
///   one, that very transaction; a transactionId only on a TxProfile; at least one schedule
///   and period; periods ascending from 0; limits >= 0 (2.1: negative limits, discharge limits
///   and negative setpoints only when the station can discharge; discharge limits <= 0);
///   `minChargingRate` >= 0; units accepted by the station and the same in every schedule;
///   `numberPhases` 1 to 3 (2.1: 0 to 3) and not above the station's; `phaseToUse` only with
///   one phase; per-phase limits only with three phases; duration > 0; `validTo` after
///   `validFrom`.
/// - 2.x: at most 3 schedules; a TxProfile names its transaction; external constraints and
///   local generation are not set by the CSMS; Absolute, Recurring and Dynamic profiles have
///   `startSchedule`, Relative ones do not.
/// - 1.6: exactly one schedule (the model allows more; the 1.6 message cannot carry them).
pub fn validate_profile(
    profile: &ChargingProfile,
    ctx: &ValidationContext<'_>,
) -> Result<(), ValidationError> {
    use ValidationError as E;
    let v = ctx.version;
    let v2x = v == OcppVersion::V21;
    if !profile.purpose.in_version(v) {
        return Err(E::PurposeNotInVersion {
            purpose: profile.purpose,
            version: v,
        });
    }
    if profile.kind == ProfileKind::Dynamic && !v2x {
        return Err(E::KindNotInVersion {
            kind: "Dynamic",
            version: v,
        });
    }
    if profile.stack_level < 0 {
        return Err(E::NegativeStackLevel {
            stack_level: profile.stack_level,
        });
    }
    if let (Some(from), Some(to)) = (profile.valid_from, profile.valid_to) {
        if to <= from {
            return Err(E::EmptyValidity);
        }
    }
    if ctx.origin == ProfileOrigin::Csms
        && matches!(
            profile.purpose,
            Purpose::ExternalConstraints | Purpose::LocalGeneration
        )
    {
        return Err(E::NotSettableByCsms {
            purpose: profile.purpose,
        });
    }
    match profile.purpose {
        Purpose::StationMax if ctx.evse_id != 0 => {
            return Err(E::StationMaxNotOnStation {
                evse_id: ctx.evse_id,
            })
        }
        Purpose::Tx => {
            if ctx.evse_id == 0 {
                return Err(E::TxProfileOnStation);
            }
            if v != OcppVersion::V16 && profile.transaction_id.is_none() {
                return Err(E::TransactionIdMissing { version: v });
            }
            let Some(running) = ctx.active_transaction else {
                return Err(E::TxProfileWithoutTransaction {
                    evse_id: ctx.evse_id,
                });
            };
            if let Some(tx) = &profile.transaction_id {
                if tx != running {
                    return Err(E::TransactionMismatch {
                        profile: tx.clone(),
                        running: running.to_owned(),
                    });
                }
            }
        }
        purpose if profile.transaction_id.is_some() => {
            return Err(E::TransactionIdNotAllowed { purpose })
        }
        _ => {}
    }
    let max_schedules = if v == OcppVersion::V16 { 1 } else { 3 };
    if profile.schedules.is_empty() {
        return Err(E::NoSchedule);
    }
    if profile.schedules.len() > max_schedules {
        return Err(E::TooManySchedules {
            count: profile.schedules.len(),
            max: max_schedules,
            version: v,
        });
    }
    let unit = profile.schedules[0].rate_unit;
    for (si, schedule) in profile.schedules.iter().enumerate() {
        if schedule.rate_unit != unit {
            return Err(E::MixedUnits);
        }
        if !ctx.capabilities.accepts(schedule.rate_unit) {
            return Err(E::UnitNotSupported {
                unit: schedule.rate_unit,
            });
        }
        if v != OcppVersion::V16 {
            match (profile.kind, schedule.start_schedule) {
                (ProfileKind::Relative, Some(_)) => {
                    return Err(E::StartScheduleOnRelative { schedule: si })
                }
                (ProfileKind::Relative, None) | (_, Some(_)) => {}
                (kind, None) => {
                    return Err(E::StartScheduleMissing {
                        kind: kind.wire_name(),
                        schedule: si,
                    })
                }
            }
        }
        if let Some(d) = schedule.duration {
            if d <= 0 {
                return Err(E::InvalidDuration {
                    schedule: si,
                    duration: d,
                });
            }
        }
        if schedule
            .min_charging_rate
            .is_some_and(|m| m < Decimal::ZERO)
        {
            return Err(E::NegativeMinChargingRate { schedule: si });
        }
        if schedule.periods.is_empty() {
            return Err(E::NoPeriods { schedule: si });
        }
        if let Some(max) = ctx.capabilities.max_periods {
            if schedule.periods.len() > max {
                return Err(E::TooManyPeriods {
                    schedule: si,
                    count: schedule.periods.len(),
                    max,
                });
            }
        }
        if schedule.periods[0].start_period != 0 {
            return Err(E::FirstPeriodNotAtZero {
                schedule: si,
                start_period: schedule.periods[0].start_period,
            });
        }
        for (pi, p) in schedule.periods.iter().enumerate() {
            if pi > 0 && p.start_period <= schedule.periods[pi - 1].start_period {
                return Err(E::PeriodsNotAscending {
                    schedule: si,
                    period: pi,
                });
            }
            validate_period(p, si, pi, ctx)?;
        }
    }
    Ok(())
}

fn validate_period(
    p: &super::model::SchedulePeriod,
    si: usize,
    pi: usize,
    ctx: &ValidationContext<'_>,
) -> Result<(), ValidationError> {
    use ValidationError as E;
    let v2x = ctx.version == OcppVersion::V21;
    let discharge = v2x && ctx.capabilities.discharge;
    let has_per_phase = p.limit_l2.is_some() || p.limit_l3.is_some();
    if !v2x && (p.v2x.is_some() || has_per_phase) {
        return Err(E::V2xNotInVersion {
            schedule: si,
            period: pi,
            version: ctx.version,
        });
    }
    if !v2x && p.limit.is_none() {
        return Err(E::LimitMissing {
            schedule: si,
            period: pi,
        });
    }
    for limit in [p.limit, p.limit_l2, p.limit_l3].into_iter().flatten() {
        if limit < Decimal::ZERO {
            if discharge {
                continue;
            }
            return Err(E::NegativeLimit {
                schedule: si,
                period: pi,
                limit,
            });
        }
    }
    if let Some(x) = &p.v2x {
        for d in [
            x.discharge_limit,
            x.discharge_limit_l2,
            x.discharge_limit_l3,
        ]
        .into_iter()
        .flatten()
        {
            if d > Decimal::ZERO {
                return Err(E::PositiveDischargeLimit {
                    schedule: si,
                    period: pi,
                    limit: d,
                });
            }
            if d < Decimal::ZERO && !discharge {
                return Err(E::DischargeNotSupported {
                    schedule: si,
                    period: pi,
                });
            }
        }
        let negative_setpoint = [x.setpoint, x.setpoint_l2, x.setpoint_l3]
            .into_iter()
            .flatten()
            .any(|s| s < Decimal::ZERO);
        if negative_setpoint && !discharge {
            return Err(E::DischargeNotSupported {
                schedule: si,
                period: pi,
            });
        }
    }
    let min_phases = if v2x { 0 } else { 1 };
    let max_phases = ctx.capabilities.max_phases.min(3);
    if let Some(n) = p.number_phases {
        if n < min_phases || n > max_phases {
            return Err(E::InvalidPhases {
                schedule: si,
                period: pi,
                phases: n,
                min: min_phases,
                max: max_phases,
            });
        }
    }
    if let Some(phase) = p.phase_to_use {
        if p.number_phases != Some(1) || !(1..=3).contains(&phase) {
            return Err(E::InvalidPhaseToUse {
                schedule: si,
                period: pi,
            });
        }
    }
    if has_per_phase && p.number_phases.is_some_and(|n| n != 3) {
        return Err(E::PerPhaseLimitsWithoutThreePhases {
            schedule: si,
            period: pi,
        });
    }
    Ok(())
}

/// What installing a profile does to the installed ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflicts {
    /// Indexes (into the installed list) of the profiles the new one replaces: the one with
    /// the same id and, in 1.6, the one with the same purpose and stack level on the same
    /// connector.
    pub replaced: Vec<usize>,
}

/// Checks the stack level of a profile about to be installed on `evse_id` against the
/// installed ones and says which it replaces.
///
/// - All versions: a profile with the same id is replaced.
/// - 1.6 (3.13.2): a profile with the same purpose and stack level on the same connector is
///   replaced too.
/// - 2.x: a profile with the same purpose and stack level on the same EVSE, another id and an
///   overlapping validity window is refused with [`ValidationError::DuplicateStackLevel`].
pub fn check_conflicts(
    version: OcppVersion,
    evse_id: u32,
    profile: &ChargingProfile,
    installed: &[InstalledProfile],
) -> Result<Conflicts, ValidationError> {
    let mut replaced = Vec::new();
    for (i, other) in installed.iter().enumerate() {
        let o = &other.profile;
        if o.id == profile.id {
            replaced.push(i);
            continue;
        }
        let same_slot = other.evse_id == evse_id
            && o.purpose == profile.purpose
            && o.stack_level == profile.stack_level;
        if !same_slot {
            continue;
        }
        if version == OcppVersion::V16 {
            replaced.push(i);
        } else if windows_overlap(o, profile) {
            return Err(ValidationError::DuplicateStackLevel {
                existing: o.id,
                purpose: o.purpose,
                stack_level: o.stack_level,
                evse_id,
            });
        }
    }
    Ok(Conflicts { replaced })
}

fn windows_overlap(a: &ChargingProfile, b: &ChargingProfile) -> bool {
    let starts_before_end = |from: Option<_>, to: Option<_>| match (from, to) {
        (Some(f), Some(t)) => f < t,
        _ => true,
    };
    starts_before_end(a.valid_from, b.valid_to) && starts_before_end(b.valid_from, a.valid_to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smart_charging::model::{ChargingSchedule, Recurrency, SchedulePeriod, V2xPeriod};
    use chrono::{TimeZone, Utc};

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn profile(purpose: Purpose, kind: ProfileKind, limits: &[(i64, &str)]) -> ChargingProfile {
        let periods = limits
            .iter()
            .map(|&(s, l)| SchedulePeriod::new(s, dec(l)))
            .collect();
        let mut schedule = ChargingSchedule::new(RateUnit::A, periods);
        if kind != ProfileKind::Relative {
            schedule.start_schedule = Some(Utc.with_ymd_and_hms(2025, 1, 6, 0, 0, 0).unwrap());
        }
        ChargingProfile::new(1, 0, purpose, kind, schedule)
    }

    fn check(
        version: OcppVersion,
        evse_id: u32,
        tx: Option<&str>,
        caps: &StationCapabilities,
        p: &ChargingProfile,
    ) -> Result<(), &'static str> {
        let ctx = ValidationContext {
            version,
            evse_id,
            active_transaction: tx,
            capabilities: caps,
            origin: ProfileOrigin::Csms,
        };
        validate_profile(p, &ctx).map_err(|e| e.rule())
    }

    const ALL: [OcppVersion; 3] = [OcppVersion::V16, OcppVersion::V201, OcppVersion::V21];

    #[test]
    fn a_plain_profile_passes_every_version() {
        let caps = StationCapabilities::default();
        let p = profile(
            Purpose::TxDefault,
            ProfileKind::Absolute,
            &[(0, "16"), (3600, "6.5")],
        );
        for v in ALL {
            assert_eq!(check(v, 0, None, &caps, &p), Ok(()), "{v}");
            assert_eq!(check(v, 2, None, &caps, &p), Ok(()), "{v}");
        }
    }

    #[test]
    fn periods_ascend_from_zero() {
        let caps = StationCapabilities::default();
        for v in ALL {
            let p = profile(Purpose::TxDefault, ProfileKind::Absolute, &[(60, "16")]);
            assert_eq!(check(v, 0, None, &caps, &p), Err("first-period-at-0"));
            let p = profile(
                Purpose::TxDefault,
                ProfileKind::Absolute,
                &[(0, "16"), (600, "8"), (600, "4")],
            );
            assert_eq!(check(v, 0, None, &caps, &p), Err("periods-ascending"));
            let p = profile(Purpose::TxDefault, ProfileKind::Absolute, &[]);
            assert_eq!(check(v, 0, None, &caps, &p), Err("periods-present"));
        }
        let limited = StationCapabilities {
            max_periods: Some(1),
            ..StationCapabilities::default()
        };
        let p = profile(
            Purpose::TxDefault,
            ProfileKind::Absolute,
            &[(0, "16"), (60, "8")],
        );
        assert_eq!(
            check(OcppVersion::V16, 0, None, &limited, &p),
            Err("periods-per-schedule")
        );
    }

    #[test]
    fn tx_profile_needs_its_transaction() {
        let caps = StationCapabilities::default();
        let bare = profile(Purpose::Tx, ProfileKind::Relative, &[(0, "16")]);
        let named = bare.clone().for_transaction("7");
        for v in ALL {
            assert_eq!(
                check(v, 0, Some("7"), &caps, &named),
                Err("tx-profile-on-evse")
            );
            assert_eq!(
                check(v, 1, None, &caps, &named),
                Err("tx-profile-needs-transaction")
            );
            assert_eq!(
                check(v, 1, Some("8"), &caps, &named),
                Err("tx-profile-matches-transaction")
            );
            assert_eq!(check(v, 1, Some("7"), &caps, &named), Ok(()));
        }
        // 1.6 lets a TxProfile without transactionId apply to the running transaction.
        assert_eq!(check(OcppVersion::V16, 1, Some("7"), &caps, &bare), Ok(()));
        assert_eq!(
            check(OcppVersion::V201, 1, Some("7"), &caps, &bare),
            Err("tx-profile-names-transaction")
        );
        let default_with_tx =
            profile(Purpose::TxDefault, ProfileKind::Relative, &[(0, "16")]).for_transaction("7");
        assert_eq!(
            check(OcppVersion::V16, 1, Some("7"), &caps, &default_with_tx),
            Err("transaction-id-only-on-tx-profile")
        );
    }

    #[test]
    fn purposes_and_kinds_per_version() {
        let caps = StationCapabilities::default();
        let max = profile(Purpose::StationMax, ProfileKind::Absolute, &[(0, "32")]);
        assert_eq!(
            check(OcppVersion::V16, 1, None, &caps, &max),
            Err("station-max-on-evse-0")
        );
        let ext = profile(
            Purpose::ExternalConstraints,
            ProfileKind::Absolute,
            &[(0, "32")],
        );
        assert_eq!(
            check(OcppVersion::V16, 0, None, &caps, &ext),
            Err("purpose-in-version")
        );
        assert_eq!(
            check(OcppVersion::V201, 0, None, &caps, &ext),
            Err("not-settable-by-csms")
        );
        let ctx = ValidationContext {
            version: OcppVersion::V201,
            evse_id: 0,
            active_transaction: None,
            capabilities: &caps,
            origin: ProfileOrigin::Local,
        };
        assert_eq!(validate_profile(&ext, &ctx), Ok(()));
        let prio = profile(
            Purpose::PriorityCharging,
            ProfileKind::Relative,
            &[(0, "32")],
        );
        assert_eq!(
            check(OcppVersion::V201, 1, None, &caps, &prio),
            Err("purpose-in-version")
        );
        assert_eq!(check(OcppVersion::V21, 1, None, &caps, &prio), Ok(()));
        let dynamic = profile(Purpose::TxDefault, ProfileKind::Dynamic, &[(0, "32")]);
        assert_eq!(
            check(OcppVersion::V201, 1, None, &caps, &dynamic),
            Err("kind-in-version")
        );
        assert_eq!(check(OcppVersion::V21, 1, None, &caps, &dynamic), Ok(()));
        let mut neg = max.clone();
        neg.stack_level = -1;
        assert_eq!(
            check(OcppVersion::V21, 0, None, &caps, &neg),
            Err("stack-level-not-negative")
        );
    }

    #[test]
    fn start_schedule_rules_of_2x() {
        let caps = StationCapabilities::default();
        let mut recurring = profile(
            Purpose::TxDefault,
            ProfileKind::Recurring(Recurrency::Daily),
            &[(0, "16")],
        );
        recurring.schedules[0].start_schedule = None;
        // 1.6 allows it (the schedule then starts with the transaction).
        assert_eq!(check(OcppVersion::V16, 0, None, &caps, &recurring), Ok(()));
        assert_eq!(
            check(OcppVersion::V201, 0, None, &caps, &recurring),
            Err("start-schedule-present")
        );
        let mut relative = profile(Purpose::TxDefault, ProfileKind::Relative, &[(0, "16")]);
        relative.schedules[0].start_schedule = Some(Utc::now());
        assert_eq!(
            check(OcppVersion::V21, 0, None, &caps, &relative),
            Err("start-schedule-absent-on-relative")
        );
    }

    #[test]
    fn limits_units_and_phases() {
        let caps = StationCapabilities::default();
        let neg = profile(Purpose::TxDefault, ProfileKind::Absolute, &[(0, "-1")]);
        for v in ALL {
            assert_eq!(check(v, 0, None, &caps, &neg), Err("limit-not-negative"));
        }
        let v2g = StationCapabilities {
            discharge: true,
            ..StationCapabilities::default()
        };
        // Only 2.1, and only a station that can discharge, accepts a negative limit.
        assert_eq!(check(OcppVersion::V21, 0, None, &v2g, &neg), Ok(()));
        assert_eq!(
            check(OcppVersion::V201, 0, None, &v2g, &neg),
            Err("limit-not-negative")
        );

        let mut discharge = profile(Purpose::TxDefault, ProfileKind::Absolute, &[(0, "16")]);
        discharge.schedules[0].periods[0].v2x = Some(Box::new(V2xPeriod {
            discharge_limit: Some(dec("-10")),
            ..V2xPeriod::default()
        }));
        assert_eq!(check(OcppVersion::V21, 0, None, &v2g, &discharge), Ok(()));
        assert_eq!(
            check(OcppVersion::V21, 0, None, &caps, &discharge),
            Err("discharge-supported")
        );
        assert_eq!(
            check(OcppVersion::V201, 0, None, &v2g, &discharge),
            Err("v2x-in-version")
        );
        discharge.schedules[0].periods[0]
            .v2x
            .as_mut()
            .unwrap()
            .discharge_limit = Some(dec("5"));
        assert_eq!(
            check(OcppVersion::V21, 0, None, &v2g, &discharge),
            Err("discharge-limit-not-positive")
        );

        let amps_only = StationCapabilities {
            watts: false,
            ..StationCapabilities::default()
        };
        let mut watts = profile(Purpose::TxDefault, ProfileKind::Absolute, &[(0, "11000")]);
        watts.schedules[0].rate_unit = RateUnit::W;
        assert_eq!(
            check(OcppVersion::V16, 0, None, &amps_only, &watts),
            Err("unit-supported")
        );
        let mut mixed = profile(Purpose::TxDefault, ProfileKind::Absolute, &[(0, "16")]);
        mixed.schedules.push(watts.schedules[0].clone());
        assert_eq!(
            check(OcppVersion::V201, 0, None, &caps, &mixed),
            Err("units-consistent")
        );
        assert_eq!(
            check(OcppVersion::V16, 0, None, &caps, &mixed),
            Err("schedule-count")
        );

        let mut phases = profile(Purpose::TxDefault, ProfileKind::Absolute, &[(0, "16")]);
        phases.schedules[0].periods[0].number_phases = Some(4);
        assert_eq!(
            check(OcppVersion::V16, 0, None, &caps, &phases),
            Err("phases-in-range")
        );
        let single = StationCapabilities {
            max_phases: 1,
            ..StationCapabilities::default()
        };
        phases.schedules[0].periods[0].number_phases = Some(3);
        assert_eq!(
            check(OcppVersion::V201, 0, None, &single, &phases),
            Err("phases-in-range")
        );
        phases.schedules[0].periods[0].phase_to_use = Some(2);
        assert_eq!(
            check(OcppVersion::V201, 0, None, &caps, &phases),
            Err("phase-to-use-single-phase")
        );
        phases.schedules[0].periods[0].number_phases = Some(1);
        assert_eq!(check(OcppVersion::V201, 0, None, &caps, &phases), Ok(()));
        phases.schedules[0].periods[0].phase_to_use = None;
        phases.schedules[0].periods[0].limit_l2 = Some(dec("10"));
        assert_eq!(
            check(OcppVersion::V21, 0, None, &caps, &phases),
            Err("per-phase-limits-three-phases")
        );

        let mut min_rate = profile(Purpose::TxDefault, ProfileKind::Absolute, &[(0, "16")]);
        min_rate.schedules[0].min_charging_rate = Some(dec("-0.1"));
        assert_eq!(
            check(OcppVersion::V16, 0, None, &caps, &min_rate),
            Err("min-charging-rate-not-negative")
        );
        min_rate.schedules[0].min_charging_rate = None;
        min_rate.schedules[0].duration = Some(0);
        assert_eq!(
            check(OcppVersion::V16, 0, None, &caps, &min_rate),
            Err("duration-positive")
        );
        let t = Utc.with_ymd_and_hms(2025, 1, 6, 0, 0, 0).unwrap();
        let empty = profile(Purpose::TxDefault, ProfileKind::Absolute, &[(0, "16")])
            .valid(Some(t), Some(t));
        assert_eq!(
            check(OcppVersion::V16, 0, None, &caps, &empty),
            Err("validity-window-not-empty")
        );
    }

    #[test]
    fn stack_level_conflicts_replace_in_16_and_refuse_in_2x() {
        let t = |h| Utc.with_ymd_and_hms(2025, 1, 6, h, 0, 0).unwrap();
        let mut a = profile(Purpose::TxDefault, ProfileKind::Absolute, &[(0, "16")]);
        a.id = 1;
        let installed = [
            InstalledProfile::new(1, a.clone()),
            InstalledProfile::new(2, a.clone()),
        ];
        let mut b = a.clone();
        b.id = 2;
        // Same purpose and stack level on connector 1: 1.6 replaces profile 1.
        assert_eq!(
            check_conflicts(OcppVersion::V16, 1, &b, &installed[..1]),
            Ok(Conflicts { replaced: vec![0] })
        );
        // 2.x refuses it.
        assert_eq!(
            check_conflicts(OcppVersion::V201, 1, &b, &installed[..1])
                .unwrap_err()
                .rule(),
            "unique-stack-level"
        );
        // On another EVSE it is no conflict.
        assert_eq!(
            check_conflicts(OcppVersion::V201, 3, &b, &installed[..1]),
            Ok(Conflicts { replaced: vec![] })
        );
        // Nor with validity windows that do not overlap.
        let a_morning = installed[0].profile.clone().valid(Some(t(6)), Some(t(12)));
        let b_afternoon = b.clone().valid(Some(t(12)), None);
        assert_eq!(
            check_conflicts(
                OcppVersion::V21,
                1,
                &b_afternoon,
                &[InstalledProfile::new(1, a_morning)]
            ),
            Ok(Conflicts { replaced: vec![] })
        );
        // The same id is replaced wherever it is.
        assert_eq!(
            check_conflicts(OcppVersion::V201, 5, &a, &installed),
            Ok(Conflicts {
                replaced: vec![0, 1]
            })
        );
    }
}
