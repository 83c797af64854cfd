//! The version-neutral data model: profiles, schedules, periods and their enums.

use chrono::{DateTime, Utc};
use ocpp_types::OcppVersion;
use rust_decimal::Decimal;

/// An instant in UTC, the time type of the model (the version crates convert their lossless
/// `ocpp_types::DateTime` with `to_utc()`).
pub type Timestamp = DateTime<Utc>;

/// What a charging profile is for; decides how it is stacked with the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Purpose {
    /// The maximum of the whole station (1.6 `ChargePointMaxProfile`, 2.x
    /// `ChargingStationMaxProfile`). Installed on EVSE 0 only.
    StationMax,
    /// The default for new and running transactions (`TxDefaultProfile`). On EVSE 0 it applies to
    /// every EVSE that has no `TxDefaultProfile` of its own.
    TxDefault,
    /// The profile of one transaction (`TxProfile`); overrides [`Purpose::TxDefault`].
    Tx,
    /// Limits from outside the station, such as a building's energy management system
    /// (2.x `ChargingStationExternalConstraints`). Set locally, never by the CSMS.
    ExternalConstraints,
    /// 2.1 `PriorityCharging`: replaces the transaction's profile while the driver has asked
    /// for priority charging.
    PriorityCharging,
    /// 2.1 `LocalGeneration`: limits that follow locally generated power.
    LocalGeneration,
}

impl Purpose {
    /// Every purpose.
    pub const ALL: [Purpose; 6] = [
        Purpose::StationMax,
        Purpose::TxDefault,
        Purpose::Tx,
        Purpose::ExternalConstraints,
        Purpose::PriorityCharging,
        Purpose::LocalGeneration,
    ];

    /// Whether `version` has this purpose.
    pub fn in_version(self, version: OcppVersion) -> bool {
        match self {
            Purpose::StationMax | Purpose::TxDefault | Purpose::Tx => true,
            Purpose::ExternalConstraints => version != OcppVersion::V16,
            Purpose::PriorityCharging | Purpose::LocalGeneration => version == OcppVersion::V21,
        }
    }

    /// The purpose as `version` spells it on the wire.
    pub fn wire_name(self, version: OcppVersion) -> &'static str {
        match self {
            Purpose::StationMax if version == OcppVersion::V16 => "ChargePointMaxProfile",
            Purpose::StationMax => "ChargingStationMaxProfile",
            Purpose::TxDefault => "TxDefaultProfile",
            Purpose::Tx => "TxProfile",
            Purpose::ExternalConstraints => "ChargingStationExternalConstraints",
            Purpose::PriorityCharging => "PriorityCharging",
            Purpose::LocalGeneration => "LocalGeneration",
        }
    }
}

/// How often a recurring profile starts again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Recurrency {
    /// Every 24 hours after `startSchedule`.
    Daily,
    /// Every 7 days after `startSchedule`.
    Weekly,
}

impl Recurrency {
    /// The length of one recurrence in seconds (86 400 or 604 800).
    pub fn period_seconds(self) -> i64 {
        match self {
            Recurrency::Daily => 86_400,
            Recurrency::Weekly => 7 * 86_400,
        }
    }
}

/// Where a profile's schedule is anchored in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProfileKind {
    /// Periods count from the schedule's `startSchedule`.
    Absolute,
    /// Periods count from the start of the transaction (or, when there is none, from the
    /// start of the requested composite schedule).
    Relative,
    /// Periods count from `startSchedule` and start again every day or week.
    Recurring(Recurrency),
    /// 2.1 `Dynamic`: one period whose limit the CSMS updates; anchored like
    /// [`ProfileKind::Absolute`].
    Dynamic,
}

impl ProfileKind {
    /// The kind as written on the wire (without the recurrency).
    pub fn wire_name(self) -> &'static str {
        match self {
            ProfileKind::Absolute => "Absolute",
            ProfileKind::Relative => "Relative",
            ProfileKind::Recurring(_) => "Recurring",
            ProfileKind::Dynamic => "Dynamic",
        }
    }
}

/// The unit of a schedule's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateUnit {
    /// Amperes per phase.
    A,
    /// Watts, the sum over all phases.
    W,
}

impl RateUnit {
    /// `"A"` or `"W"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RateUnit::A => "A",
            RateUnit::W => "W",
        }
    }
}

/// The 2.1 bidirectional (V2X) values of a period, carried as data. The composite schedule
/// combines [`discharge_limit`](V2xPeriod::discharge_limit) and
/// [`setpoint`](V2xPeriod::setpoint); the rest is kept for the application.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct V2xPeriod {
    /// Largest discharging rate, as a value at most 0 (`dischargeLimit`).
    pub discharge_limit: Option<Decimal>,
    /// `dischargeLimit_L2`.
    pub discharge_limit_l2: Option<Decimal>,
    /// `dischargeLimit_L3`.
    pub discharge_limit_l3: Option<Decimal>,
    /// Rate to aim for, negative to discharge (`setpoint`).
    pub setpoint: Option<Decimal>,
    /// `setpoint_L2`.
    pub setpoint_l2: Option<Decimal>,
    /// `setpoint_L3`.
    pub setpoint_l3: Option<Decimal>,
    /// `setpointReactive`.
    pub setpoint_reactive: Option<Decimal>,
    /// `setpointReactive_L2`.
    pub setpoint_reactive_l2: Option<Decimal>,
    /// `setpointReactive_L3`.
    pub setpoint_reactive_l3: Option<Decimal>,
    /// `v2xBaseline`.
    pub v2x_baseline: Option<Decimal>,
    /// `operationMode` as written on the wire (`ChargingOnly`, `CentralSetpoint`, ...).
    pub operation_mode: Option<String>,
    /// `preconditioningRequest`.
    pub preconditioning_request: Option<bool>,
    /// `evseSleep`.
    pub evse_sleep: Option<bool>,
}

impl V2xPeriod {
    /// Whether any value is present.
    pub fn is_empty(&self) -> bool {
        *self == V2xPeriod::default()
    }
}

/// One period of a schedule: from `start_period` seconds after the schedule's start until the
/// next period's start (or the schedule's end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulePeriod {
    /// Seconds from the start of the schedule.
    pub start_period: i64,
    /// The charging limit in the schedule's unit. Always present in 1.6 and 2.0.1; 2.1 allows a
    /// period without one (for example a pure setpoint), which then limits nothing.
    pub limit: Option<Decimal>,
    /// 2.1 `limit_L2`: with it, `limit` is the limit of phase L1 only.
    pub limit_l2: Option<Decimal>,
    /// 2.1 `limit_L3`.
    pub limit_l3: Option<Decimal>,
    /// Number of phases the limit is for; absent means 3 (the spec's default).
    pub number_phases: Option<u8>,
    /// 2.x `phaseToUse`, only with one phase.
    pub phase_to_use: Option<u8>,
    /// 2.1 V2X values.
    pub v2x: Option<Box<V2xPeriod>>,
}

impl SchedulePeriod {
    /// A period with a limit and nothing else.
    pub fn new(start_period: i64, limit: Decimal) -> Self {
        SchedulePeriod {
            start_period,
            limit: Some(limit),
            limit_l2: None,
            limit_l3: None,
            number_phases: None,
            phase_to_use: None,
            v2x: None,
        }
    }

    /// The same period with `number_phases` set.
    pub fn with_phases(mut self, phases: u8) -> Self {
        self.number_phases = Some(phases);
        self
    }

    /// The discharge limit, if the period has one.
    pub fn discharge_limit(&self) -> Option<Decimal> {
        self.v2x.as_ref().and_then(|v| v.discharge_limit)
    }

    /// The setpoint, if the period has one.
    pub fn setpoint(&self) -> Option<Decimal> {
        self.v2x.as_ref().and_then(|v| v.setpoint)
    }
}

/// A schedule: a unit and a list of periods, optionally anchored and bounded in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargingSchedule {
    /// The schedule's id (2.x; absent in 1.6).
    pub id: Option<i64>,
    /// Where the periods start counting (Absolute, Recurring and Dynamic profiles).
    pub start_schedule: Option<DateTime<Utc>>,
    /// Length in seconds; absent means the last period lasts until the profile ends (or, when
    /// recurring, until the next recurrence).
    pub duration: Option<i64>,
    /// The unit of every limit in the periods.
    pub rate_unit: RateUnit,
    /// The periods, ascending by `start_period`, the first at 0.
    pub periods: Vec<SchedulePeriod>,
    /// The lowest rate the EV supports (`minChargingRate`), carried as data.
    pub min_charging_rate: Option<Decimal>,
    /// 2.1 `powerTolerance`, carried as data.
    pub power_tolerance: Option<Decimal>,
    /// 2.1 `useLocalTime`, carried as data (the composite computes in UTC).
    pub use_local_time: Option<bool>,
    /// 2.1 `randomizedDelay` in seconds, carried as data.
    pub randomized_delay: Option<i64>,
}

impl ChargingSchedule {
    /// A schedule with a unit and periods and nothing else.
    pub fn new(rate_unit: RateUnit, periods: Vec<SchedulePeriod>) -> Self {
        ChargingSchedule {
            id: None,
            start_schedule: None,
            duration: None,
            rate_unit,
            periods,
            min_charging_rate: None,
            power_tolerance: None,
            use_local_time: None,
            randomized_delay: None,
        }
    }

    /// The same schedule with `start_schedule` set.
    pub fn starting(mut self, start: DateTime<Utc>) -> Self {
        self.start_schedule = Some(start);
        self
    }

    /// The same schedule with `duration` set (seconds).
    pub fn lasting(mut self, seconds: i64) -> Self {
        self.duration = Some(seconds);
        self
    }
}

/// A charging profile in version-neutral form. The version crates convert their
/// `ChargingProfile` (1.6) and `ChargingProfileType` (2.x) into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargingProfile {
    /// `chargingProfileId` (1.6) / `id` (2.x).
    pub id: i64,
    /// Priority within its purpose: the highest level in force wins.
    pub stack_level: i64,
    /// What the profile is for.
    pub purpose: Purpose,
    /// How the schedule is anchored in time.
    pub kind: ProfileKind,
    /// Not in force before this instant.
    pub valid_from: Option<DateTime<Utc>>,
    /// Not in force from this instant on.
    pub valid_to: Option<DateTime<Utc>>,
    /// The transaction a [`Purpose::Tx`] profile belongs to (1.6's integer as text).
    pub transaction_id: Option<String>,
    /// One schedule (1.6), or 1 to 3 (2.x, alternatives offered to an ISO 15118 EV; the
    /// composite uses the first).
    pub schedules: Vec<ChargingSchedule>,
    /// 2.1 `maxOfflineDuration` in seconds, carried as data.
    pub max_offline_duration: Option<i64>,
    /// 2.1 `invalidAfterOfflineDuration`, carried as data.
    pub invalid_after_offline_duration: Option<bool>,
    /// 2.1 `dynUpdateInterval` in seconds, carried as data.
    pub dyn_update_interval: Option<i64>,
    /// 2.1 `dynUpdateTime`, carried as data.
    pub dyn_update_time: Option<DateTime<Utc>>,
}

impl ChargingProfile {
    /// A profile with one schedule and no validity window, transaction or 2.1 extras.
    pub fn new(
        id: i64,
        stack_level: i64,
        purpose: Purpose,
        kind: ProfileKind,
        schedule: ChargingSchedule,
    ) -> Self {
        ChargingProfile {
            id,
            stack_level,
            purpose,
            kind,
            valid_from: None,
            valid_to: None,
            transaction_id: None,
            schedules: vec![schedule],
            max_offline_duration: None,
            invalid_after_offline_duration: None,
            dyn_update_interval: None,
            dyn_update_time: None,
        }
    }

    /// The same profile bound to a transaction.
    pub fn for_transaction(mut self, transaction_id: impl Into<String>) -> Self {
        self.transaction_id = Some(transaction_id.into());
        self
    }

    /// The same profile with a validity window.
    pub fn valid(mut self, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Self {
        self.valid_from = from;
        self.valid_to = to;
        self
    }

    /// The schedule the composite uses (the first).
    pub fn schedule(&self) -> Option<&ChargingSchedule> {
        self.schedules.first()
    }
}

/// A profile together with the EVSE (1.6: connector) it was installed on; 0 is the station.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledProfile {
    /// The EVSE id, 0 for the whole station.
    pub evse_id: u32,
    /// The profile.
    pub profile: ChargingProfile,
}

impl InstalledProfile {
    /// Pairs a profile with its EVSE.
    pub fn new(evse_id: u32, profile: ChargingProfile) -> Self {
        InstalledProfile { evse_id, profile }
    }
}
