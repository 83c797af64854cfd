//! Smart charging, independent of the OCPP version: charging profiles, their validation and
//! the composite schedule.
//!
//! The version crates convert their messages into this model (`ocpp16::smart_charging`,
//! `ocpp201::smart_charging`, `ocpp21::smart_charging`) and the composite back into theirs.
//!
//! - [`ChargingProfile`]: purpose ([`Purpose`]: the station maximum, TxDefault, Tx, external
//!   constraints and 2.1's PriorityCharging and LocalGeneration), stack level, kind
//!   ([`ProfileKind`]: Absolute, Relative, Recurring daily or weekly, 2.1's Dynamic), validity
//!   window, schedules with periods, the unit ([`RateUnit`]), phases, minimum charging rate and
//!   2.1's discharge limits and setpoints ([`V2xPeriod`]). Limits are exact [`Decimal`]s, times
//!   are UTC [`chrono::DateTime`]s.
//! - [`validate_profile`] and [`check_conflicts`]: the rules of each version, each broken rule
//!   a [`ValidationError`] variant; [`ValidationError::rule`] names it.
//! - [`composite_schedule`]: the schedule an EVSE or the station follows, as the specs define
//!   it (stacking, TxProfile over TxDefaultProfile, capped by the station maximum and
//!   external constraints, recurring and relative profiles resolved, A / W converted, equal
//!   periods merged). The station role enforces it; a CSMS predicts it and compares it with a
//!   station's GetCompositeSchedule answer ([`CompositeSchedule::differences`]).
//! - [`ProfileStore`]: a station's installed profiles with the install rules of its version
//!   (1.6 replaces a profile with the same purpose and stack level; 2.x refuses it).
//!
//! Decisions where the specifications leave room, written down here:
//! - Time is computed in whole UTC seconds; a daily recurrence is exactly 86 400 s (2.1's
//!   `useLocalTime` is carried, not applied). A recurring profile is not in force before its
//!   `startSchedule`.
//! - A Relative profile counts from the EVSE's transaction start; with no transaction (a
//!   prediction, or EVSE 0) from the start of the requested window. The same anchor serves an
//!   Absolute 1.6 schedule without `startSchedule`.
//! - A W limit becomes A (and back) with the phases of the interval: the fewest that any
//!   applicable period names, else 3. Converted values are rounded toward zero to one decimal
//!   ([`StationState::decimal_places`]), so the result never exceeds a limit.
//! - The composite of EVSE 0 is the station's grid limit: the station maximum and the caps on
//!   EVSE 0; transaction profiles are per EVSE and not summed into it.
//! - LocalGeneration profiles cap like external constraints (the conservative reading: the
//!   composite never exceeds them). PriorityCharging replaces the transaction layer only while
//!   [`EvseState::priority_charging`] is set.
//! - With 2.1 per-phase limits, an A schedule's figure is the lowest phase and a W schedule's is
//!   the sum of the phases. The composite's discharge limit is the one closest to 0; its
//!   setpoint comes from the transaction layer, kept between discharge limit and limit.
//! - 2.x profiles may carry up to three schedules (alternatives for an ISO 15118 EV); the
//!   composite uses the first.
//!
//! # Example
//!
//! A station maximum of 32 A, a default of 16 A for the first hour and 32 A after, and a
//! transaction profile of 11 kW on EVSE 1: the TxProfile replaces the default, and 11 000 W /
//! (230 V x 3) = 15.94 A is rounded down to 15.9 A.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use ocpp_core::smart_charging::*;
//! use ocpp_core::types::OcppVersion;
//! use rust_decimal::Decimal;
//!
//! let t0 = Utc.with_ymd_and_hms(2025, 1, 6, 8, 0, 0).unwrap();
//! let a = |n: i64| Decimal::from(n);
//! let mut store = ProfileStore::new(OcppVersion::V201, StationCapabilities::default());
//! let max = ChargingProfile::new(1, 0, Purpose::StationMax, ProfileKind::Absolute,
//!     ChargingSchedule::new(RateUnit::A, vec![SchedulePeriod::new(0, a(32))]).starting(t0));
//! store.install(0, max, None, ProfileOrigin::Csms).unwrap();
//! let default = ChargingProfile::new(2, 0, Purpose::TxDefault, ProfileKind::Relative,
//!     ChargingSchedule::new(RateUnit::A, vec![SchedulePeriod::new(0, a(16)),
//!                                             SchedulePeriod::new(3600, a(32))]));
//! store.install(0, default, None, ProfileOrigin::Csms).unwrap();
//!
//! let station = StationState::default().with_transaction(1, "tx-1", t0);
//! let request = CompositeRequest { start: t0, duration: 7200, evse_id: 1, unit: RateUnit::A };
//! let limits = |s: &CompositeSchedule| -> Vec<(i64, Option<Decimal>)> {
//!     s.periods.iter().map(|p| (p.start_period, p.limit)).collect()
//! };
//! assert_eq!(limits(&store.composite(&request, &station)),
//!            [(0, Some(a(16))), (3600, Some(a(32)))]);
//!
//! let tx = ChargingProfile::new(3, 0, Purpose::Tx, ProfileKind::Relative,
//!     ChargingSchedule::new(RateUnit::W, vec![SchedulePeriod::new(0, a(11_000))]))
//!     .for_transaction("tx-1");
//! store.install(1, tx, Some("tx-1"), ProfileOrigin::Csms).unwrap();
//! assert_eq!(limits(&store.composite(&request, &station)),
//!            [(0, Some("15.9".parse().unwrap()))]);
//! ```

mod composite;
mod model;
mod store;
mod validate;

pub use composite::{
    composite_schedule, CompositePeriod, CompositeRequest, CompositeSchedule, Difference,
    EvseState, StationState, Transaction,
};
pub use model::{
    ChargingProfile, ChargingSchedule, InstalledProfile, ProfileKind, Purpose, RateUnit,
    Recurrency, SchedulePeriod, Timestamp, V2xPeriod,
};
pub use rust_decimal::Decimal;
pub use store::ProfileStore;
pub use validate::{
    check_conflicts, validate_profile, Conflicts, ProfileOrigin, StationCapabilities,
    ValidationContext, ValidationError,
};
