//! The tariff engine: prices a session against a tariff, exactly, in decimals.
//!
//! # Model
//! A session is a chronological list of [`Segment`]s: charging, parking (connected, not
//! charging), or reservation time, each with the energy charged in it and, when known, the
//! current and power. [`PricingInput::from_charging_periods`] builds them from the
//! `charging_periods` of a CDR or session.
//!
//! # Rules (`mod_tariffs` and `mod_cdrs` of OCPI 2.2.1 and 2.3.0)
//! - Segments are split wherever a restriction of the tariff can change its value: at the
//!   `start_time`/`end_time` of every element on every local day (in the location's time zone,
//!   windows with `end_time < start_time` wrap past midnight, `00:00` as end means midnight),
//!   at local midnight (dates, days of the week), at session start + `min_duration`/`max_duration`,
//!   and where the cumulated energy crosses `min_kwh`/`max_kwh` (energy assumed linear in time
//!   within a segment).
//! - For every piece and every dimension (`ENERGY`, `TIME` while charging, `PARKING_TIME` while
//!   parked, `TIME` of a reservation) the first element in list order that has a component of
//!   that dimension and whose restrictions all hold at the start of the piece prices it.
//!   Restrictions on current/power use `MIN_*` for lower and `MAX_*` for upper bounds, falling
//!   back to the plain value; power falls back to energy / time. An unknown value does not
//!   satisfy a current or power restriction.
//! - `FLAT` is billed once per session (and once per reservation), from the first piece where an
//!   element with a `FLAT` component matches.
//! - Elements with a `reservation` restriction price only reservation time; an expired
//!   reservation (no session followed) prefers `RESERVATION_EXPIRES` elements over
//!   `RESERVATION` ones, dimension by dimension.
//! - `step_size` is applied once per session per group: `ENERGY` (in Wh), reservation `TIME` (in
//!   seconds), and charging/parking time (in seconds) according to the [`StepSizeRule`]; the total
//!   quantity of the group is rounded up to the `step_size` of the last component that priced
//!   the group, and the extra quantity is billed at that component's price. Quantities are
//!   always billed in whole Wh / seconds (`step_size` 0 counts as 1).
//! - VAT per component: `incl = excl × (1 + vat / 100)`. A component without `vat` leaves the
//!   including-VAT amount unknown (the specification's "not possible to calculate total costs
//!   including VAT"), unless its cost is zero.
//! - `min_price` / `max_price` bound the total excluding VAT and, when given, including VAT.
//! - No money rounding is done: results are exact; rounding to the currency's minor unit is the
//!   caller's (the 2.3.0 text leaves it to law and contracts).
//!
//! # Known contradictions in the specification
//! 2.2.1 states two incompatible `step_size` rules for time. The `PriceComponent` examples round
//! charging and parking time *combined* (12 minutes rounded to 15, minus 10 minutes of charging,
//! leaves 5 minutes of parking: 0.383 €), as does `mod_cdrs` ("once for `PARKING_TIME` and `TIME`
//! combined"); the "complex tariff" Saturday example rounds parking time alone (71 → 75 minutes).
//! 2.3.0 rewrote the examples to round only the dimension of the last time-based period. Both are
//! implemented: [`StepSizeRule::CombinedTime`] (default for 2.2.1 and 2.1.1) and
//! [`StepSizeRule::LastTimeDimension`] (default for 2.3.0).

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::primitives::{DateTime, Number};
use crate::v221::{
    CdrDimension, CdrDimensionType, ChargingPeriod, DayOfWeek, Price, PriceComponent,
    ReservationRestrictionType, Tariff, TariffDimensionType, TariffRestrictions,
};

/// What a segment of a session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SegmentKind {
    /// The EV is charging: `ENERGY` and `TIME` apply.
    Charging,
    /// The EV is connected but not charging: `PARKING_TIME` applies.
    Parking,
    /// The EVSE is reserved: reservation elements apply.
    Reservation,
    /// The EVSE was reserved and the reservation expired without a session.
    ExpiredReservation,
}

/// A measured quantity of a segment: minimum, average and maximum, each optional.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Measure {
    /// Lowest value in the segment.
    pub min: Option<Decimal>,
    /// Average or representative value.
    pub value: Option<Decimal>,
    /// Highest value in the segment.
    pub max: Option<Decimal>,
}

impl Measure {
    /// A constant value.
    pub fn constant(v: Decimal) -> Self {
        Measure {
            min: None,
            value: Some(v),
            max: None,
        }
    }
    fn lower(&self) -> Option<Decimal> {
        self.min.or(self.value).or(self.max)
    }
    fn upper(&self) -> Option<Decimal> {
        self.max.or(self.value).or(self.min)
    }
}

/// A stretch of a session with constant kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Start (inclusive).
    pub start: chrono::DateTime<chrono::Utc>,
    /// End (exclusive); equal to `start` for an instantaneous segment.
    pub end: chrono::DateTime<chrono::Utc>,
    /// Kind of segment.
    pub kind: SegmentKind,
    /// Energy charged in the segment, kWh.
    pub energy_kwh: Decimal,
    /// Current (sum over phases), A.
    pub current: Measure,
    /// Power, kW.
    pub power: Measure,
}

/// How `step_size` applies to `TIME` and `PARKING_TIME` (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepSizeRule {
    /// OCPI 2.2.1 (`mod_cdrs`, `PriceComponent` examples): charging and parking time are one
    /// group, rounded with the step of the last time-based component.
    #[default]
    CombinedTime,
    /// OCPI 2.3.0: only the dimension of the last time-based period is rounded, with the step
    /// of its last component.
    LastTimeDimension,
}

/// Whether the prices of the tariff include taxes (OCPI 2.3.0 `tax_included`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum TaxIncluded {
    /// Prices exclude VAT (OCPI 2.1.1 / 2.2.1, and 2.3.0 `NO`).
    #[default]
    No,
    /// Prices include taxes (2.3.0 `YES`): the amounts are after taxes; before-tax amounts are
    /// derived from `vat` when given.
    Yes,
    /// No taxes apply (2.3.0 `N/A`): including equals excluding.
    NotApplicable,
}

/// Options of the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PricingOptions {
    /// The `step_size` rule for time.
    pub step_size_rule: StepSizeRule,
    /// Whether prices include taxes.
    pub tax_included: TaxIncluded,
}

/// A session to price.
#[derive(Debug, Clone, PartialEq)]
pub struct PricingInput {
    /// IANA time zone of the location (restrictions are in local time).
    pub time_zone: Tz,
    /// The segments, chronological.
    pub segments: Vec<Segment>,
}

/// Why a session could not be priced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TariffError {
    /// The input is not a CDR or session that can be priced.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The tariff is not a valid tariff.
    #[error("invalid tariff: {0}")]
    InvalidTariff(String),
    /// The time zone is not an IANA time zone name.
    #[error("unknown time zone {0:?}")]
    UnknownTimeZone(String),
}

/// One priced quantity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    /// Start of the priced piece.
    pub start: DateTime,
    /// End of the priced piece.
    pub end: DateTime,
    /// Kind of segment.
    pub segment: SegmentKind,
    /// The dimension priced.
    pub dimension: TariffDimensionType,
    /// Index of the tariff element in `elements`.
    pub element: usize,
    /// Billed quantity: kWh for energy, hours for time, 1 for flat.
    #[serde(serialize_with = "ser_dec")]
    pub quantity: Decimal,
    /// Price per unit (as in the tariff).
    #[serde(serialize_with = "ser_dec")]
    pub price: Decimal,
    /// VAT percentage, when given.
    #[serde(serialize_with = "ser_opt_dec")]
    pub vat: Option<Decimal>,
    /// Cost excluding VAT.
    #[serde(serialize_with = "ser_opt_dec")]
    pub cost_excl_vat: Option<Decimal>,
    /// Cost including VAT.
    #[serde(serialize_with = "ser_opt_dec")]
    pub cost_incl_vat: Option<Decimal>,
    #[serde(skip)]
    step_size: u32,
}

fn ser_dec<S: serde::Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    crate::primitives::serialize_decimal(&d.normalize(), s)
}
fn ser_opt_dec<S: serde::Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => ser_dec(d, s),
        None => s.serialize_none(),
    }
}

/// The result: the cost fields of a CDR, the charging periods and the breakdown.
#[derive(Debug, Clone, PartialEq)]
pub struct Costs {
    /// Total cost (after `min_price` / `max_price`).
    pub total_cost: Price,
    /// Cost of `FLAT` components outside reservations.
    pub total_fixed_cost: Option<Price>,
    /// Energy, kWh.
    pub total_energy: Decimal,
    /// Cost of `ENERGY`.
    pub total_energy_cost: Option<Price>,
    /// Duration of the session (charging and parking), hours.
    pub total_time: Decimal,
    /// Cost of `TIME` while charging.
    pub total_time_cost: Option<Price>,
    /// Time not charging, hours.
    pub total_parking_time: Decimal,
    /// Cost of `PARKING_TIME`.
    pub total_parking_cost: Option<Price>,
    /// Cost of the reservation (its `FLAT` and `TIME`).
    pub total_reservation_cost: Option<Price>,
    /// Whether `min_price` raised the total.
    pub min_price_applied: bool,
    /// Whether `max_price` lowered the total.
    pub max_price_applied: bool,
    /// The session split where the tariff changes, as CDR charging periods.
    pub charging_periods: Vec<ChargingPeriod>,
    /// Every priced quantity.
    pub lines: Vec<Line>,
    /// Things the caller should know (tariff not active, no element for a dimension…).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone)]
struct Piece {
    start: chrono::DateTime<chrono::Utc>,
    end: chrono::DateTime<chrono::Utc>,
    kind: SegmentKind,
    energy: Decimal,
    current: Measure,
    power: Measure,
    /// cumulated energy at start
    kwh_before: Decimal,
}

impl Piece {
    fn seconds(&self) -> Decimal {
        secs(self.end - self.start)
    }
}

fn secs(d: chrono::TimeDelta) -> Decimal {
    Decimal::from(d.num_milliseconds()) / Decimal::from(1000)
}

fn hours_of_secs(s: Decimal) -> Decimal {
    s / Decimal::from(3600)
}

/// Rounds `x` up to a multiple of `step` (`step` 0 counts as 1).
fn ceil_to(x: Decimal, step: u32) -> Decimal {
    let step = Decimal::from(step.max(1));
    (x / step).ceil() * step
}

impl PricingInput {
    /// Builds the segments from `charging_periods` (of a CDR or session) and the session end.
    ///
    /// Each period lasts until the next period starts (the last until `end`). A period with a
    /// `RESERVATION_TIME` dimension is reservation time; with `TIME` and/or `PARKING_TIME` it is
    /// charging then parking for those durations (hours); with neither it is charging when it has
    /// energy and parking otherwise. `ENERGY` is kWh; `CURRENT`, `MIN_CURRENT`, `MAX_CURRENT`,
    /// `POWER`, `MIN_POWER`, `MAX_POWER` give the measures. When the input consists of reservation
    /// time only, the reservation is taken as expired.
    pub fn from_charging_periods(
        periods: &[ChargingPeriod],
        end: Option<&DateTime>,
        time_zone: Tz,
    ) -> Result<Self, TariffError> {
        let mut segments = Vec::new();
        for (i, p) in periods.iter().enumerate() {
            let start = p.start_date_time.utc();
            let next = periods.get(i + 1).map(|n| n.start_date_time.utc());
            let period_end = next.or(end.map(DateTime::utc));
            let vol = |t: CdrDimensionType| p.volume(&t);
            let energy = vol(CdrDimensionType::Energy).unwrap_or_default();
            let current = Measure {
                min: vol(CdrDimensionType::MinCurrent),
                value: vol(CdrDimensionType::Current),
                max: vol(CdrDimensionType::MaxCurrent),
            };
            let power = Measure {
                min: vol(CdrDimensionType::MinPower),
                value: vol(CdrDimensionType::Power),
                max: vol(CdrDimensionType::MaxPower),
            };
            let hours = |h: Decimal| -> Result<chrono::TimeDelta, TariffError> {
                let ms = (h * Decimal::from(3_600_000)).round();
                i64::try_from(ms)
                    .map(chrono::TimeDelta::milliseconds)
                    .map_err(|_| TariffError::InvalidInput(format!("duration {h} h out of range")))
            };
            if let Some(r) = vol(CdrDimensionType::ReservationTime) {
                let e = match period_end {
                    Some(e) => e,
                    None => start + hours(r)?,
                };
                segments.push(Segment {
                    start,
                    end: e,
                    kind: SegmentKind::Reservation,
                    energy_kwh: Decimal::ZERO,
                    current: Measure::default(),
                    power: Measure::default(),
                });
                continue;
            }
            let time = vol(CdrDimensionType::Time);
            let parking = vol(CdrDimensionType::ParkingTime);
            match (time, parking) {
                (None, None) => {
                    let e = period_end.ok_or_else(|| {
                        TariffError::InvalidInput(format!(
                            "charging_periods[{i}] has no TIME/PARKING_TIME and no end"
                        ))
                    })?;
                    let kind = if energy > Decimal::ZERO {
                        SegmentKind::Charging
                    } else {
                        SegmentKind::Parking
                    };
                    segments.push(Segment {
                        start,
                        end: e,
                        kind,
                        energy_kwh: energy,
                        current,
                        power,
                    });
                }
                (t, pk) => {
                    let mut at = start;
                    if t.is_some() || energy > Decimal::ZERO {
                        let d = hours(t.unwrap_or_default())?;
                        segments.push(Segment {
                            start: at,
                            end: at + d,
                            kind: SegmentKind::Charging,
                            energy_kwh: energy,
                            current,
                            power,
                        });
                        at += d;
                    }
                    if let Some(pk) = pk {
                        let d = hours(pk)?;
                        segments.push(Segment {
                            start: at,
                            end: at + d,
                            kind: SegmentKind::Parking,
                            energy_kwh: Decimal::ZERO,
                            current: Measure::default(),
                            power: Measure::default(),
                        });
                    }
                }
            }
        }
        if !segments.is_empty() && segments.iter().all(|s| s.kind == SegmentKind::Reservation) {
            for s in &mut segments {
                s.kind = SegmentKind::ExpiredReservation;
            }
        }
        Ok(PricingInput {
            time_zone,
            segments,
        })
    }
}

fn is_reservation(k: SegmentKind) -> bool {
    matches!(
        k,
        SegmentKind::Reservation | SegmentKind::ExpiredReservation
    )
}

/// Restriction context at the start of a piece.
struct Ctx {
    local: chrono::NaiveDateTime,
    weekday: chrono::Weekday,
    kwh: Decimal,
    elapsed: Decimal,
    current: Measure,
    power: Measure,
}

fn restrictions_hold(r: &TariffRestrictions, c: &Ctx) -> bool {
    let tod = c.local.time();
    let parse_t = |s: &str| NaiveTime::parse_from_str(s, "%H:%M").ok();
    let st = r.start_time.as_deref().and_then(parse_t);
    let et = r.end_time.as_deref().and_then(parse_t);
    let time_ok = match (st, et) {
        (Some(s), Some(e)) if s == e => true,
        (Some(s), Some(e)) if e < s => tod >= s || tod < e,
        (Some(s), Some(e)) => tod >= s && tod < e,
        (Some(s), None) => tod >= s,
        (None, Some(e)) => tod < e || e == NaiveTime::MIN,
        (None, None) => true,
    };
    if !time_ok {
        return false;
    }
    let date = c.local.date();
    let parse_d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    if let Some(sd) = r.start_date.as_deref().and_then(parse_d) {
        if date < sd {
            return false;
        }
    }
    if let Some(ed) = r.end_date.as_deref().and_then(parse_d) {
        if date >= ed {
            return false;
        }
    }
    if let Some(m) = &r.min_kwh {
        if c.kwh < m.0 {
            return false;
        }
    }
    if let Some(m) = &r.max_kwh {
        if c.kwh >= m.0 {
            return false;
        }
    }
    let lower_ok = |bound: &Option<Number>, m: &Measure| match bound {
        None => true,
        Some(b) => m.lower().is_some_and(|v| v >= b.0),
    };
    let upper_ok = |bound: &Option<Number>, m: &Measure| match bound {
        None => true,
        Some(b) => m.upper().is_some_and(|v| v < b.0),
    };
    if !lower_ok(&r.min_current, &c.current)
        || !upper_ok(&r.max_current, &c.current)
        || !lower_ok(&r.min_power, &c.power)
        || !upper_ok(&r.max_power, &c.power)
    {
        return false;
    }
    if let Some(m) = r.min_duration {
        if c.elapsed < Decimal::from(m) {
            return false;
        }
    }
    if let Some(m) = r.max_duration {
        if c.elapsed >= Decimal::from(m) {
            return false;
        }
    }
    if !r.day_of_week.is_empty() {
        let d = match c.weekday {
            chrono::Weekday::Mon => DayOfWeek::Monday,
            chrono::Weekday::Tue => DayOfWeek::Tuesday,
            chrono::Weekday::Wed => DayOfWeek::Wednesday,
            chrono::Weekday::Thu => DayOfWeek::Thursday,
            chrono::Weekday::Fri => DayOfWeek::Friday,
            chrono::Weekday::Sat => DayOfWeek::Saturday,
            chrono::Weekday::Sun => DayOfWeek::Sunday,
        };
        if !r.day_of_week.contains(&d) {
            return false;
        }
    }
    true
}

/// Finds the first element (and its component) pricing `dim` for a piece.
fn find_component<'t>(
    tariff: &'t Tariff,
    dim: &TariffDimensionType,
    kind: SegmentKind,
    ctx: &Ctx,
) -> Option<(usize, &'t PriceComponent)> {
    let passes: &[Option<ReservationRestrictionType>] = match kind {
        SegmentKind::Charging | SegmentKind::Parking => &[None],
        SegmentKind::Reservation => &[Some(ReservationRestrictionType::Reservation)],
        SegmentKind::ExpiredReservation => &[
            Some(ReservationRestrictionType::ReservationExpires),
            Some(ReservationRestrictionType::Reservation),
        ],
    };
    for want in passes {
        for (i, el) in tariff.elements.iter().enumerate() {
            let res = el.restrictions.as_ref().and_then(|r| r.reservation.clone());
            if &res != want {
                continue;
            }
            let Some(pc) = el.price_components.iter().find(|pc| &pc.r#type == dim) else {
                continue;
            };
            if el
                .restrictions
                .as_ref()
                .is_none_or(|r| restrictions_hold(r, ctx))
            {
                return Some((i, pc));
            }
        }
    }
    None
}

fn local_naive(tz: &Tz, t: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDateTime {
    t.with_timezone(tz).naive_local()
}

fn to_utc(tz: &Tz, n: chrono::NaiveDateTime) -> Option<chrono::DateTime<chrono::Utc>> {
    tz.from_local_datetime(&n)
        .earliest()
        .map(|d| d.with_timezone(&chrono::Utc))
}

/// The longest span of charging periods [`price`] accepts, in days; a longer one is
/// [`TariffError::InvalidInput`].
pub const MAX_SPAN_DAYS: i64 = 400;

/// Prices a session against a tariff.
pub fn price(
    tariff: &Tariff,
    input: &PricingInput,
    options: &PricingOptions,
) -> Result<Costs, TariffError> {
    if tariff.elements.is_empty() {
        return Err(TariffError::InvalidTariff("tariff has no elements".into()));
    }
    let tz = input.time_zone;
    let mut warnings = Vec::new();
    let segs = &input.segments;
    let Some(first) = segs.first() else {
        return Err(TariffError::InvalidInput("no charging periods".into()));
    };
    for w in segs.windows(2) {
        if w[1].start < w[0].start || w[0].end < w[0].start {
            return Err(TariffError::InvalidInput(
                "charging periods are not chronological".into(),
            ));
        }
    }
    let session_start = segs
        .iter()
        .find(|s| !is_reservation(s.kind))
        .map(|s| s.start);
    let reservation_start = segs
        .iter()
        .find(|s| is_reservation(s.kind))
        .map(|s| s.start);
    let last_end = segs.iter().map(|s| s.end).max().unwrap_or(first.end);
    // Every local midnight in the span is a boundary: a span of centuries (a period dated in
    // year 1007, found by the `tariff` fuzz target) would take minutes and gigabytes.
    if last_end - first.start > chrono::TimeDelta::days(MAX_SPAN_DAYS) {
        return Err(TariffError::InvalidInput(format!(
            "the charging periods span more than {MAX_SPAN_DAYS} days"
        )));
    }
    if let Some(s) = session_start {
        if tariff.start_date_time.as_ref().is_some_and(|t| s < t.utc())
            || tariff.end_date_time.as_ref().is_some_and(|t| s >= t.utc())
        {
            warnings.push("the tariff is not active at the start of the session".to_owned());
        }
    }

    // Boundaries where restrictions can change.
    let mut cuts: BTreeSet<chrono::DateTime<chrono::Utc>> = BTreeSet::new();
    let first_day = local_naive(&tz, first.start).date();
    let last_day = local_naive(&tz, last_end).date();
    let mut day = first_day;
    let mut times: BTreeSet<NaiveTime> = BTreeSet::new();
    times.insert(NaiveTime::MIN);
    let mut durations: BTreeSet<u32> = BTreeSet::new();
    let mut kwhs: BTreeSet<Decimal> = BTreeSet::new();
    for el in &tariff.elements {
        if let Some(r) = &el.restrictions {
            for t in [&r.start_time, &r.end_time].into_iter().flatten() {
                if let Ok(t) = NaiveTime::parse_from_str(t, "%H:%M") {
                    times.insert(t);
                }
            }
            durations.extend(r.min_duration);
            durations.extend(r.max_duration);
            kwhs.extend(r.min_kwh.map(|n| n.0));
            kwhs.extend(r.max_kwh.map(|n| n.0));
        }
    }
    while day <= last_day {
        for t in &times {
            if let Some(u) = to_utc(&tz, day.and_time(*t)) {
                cuts.insert(u);
            }
        }
        match day.succ_opt() {
            Some(d) => day = d,
            None => break,
        }
    }
    for d in &durations {
        if let Some(s) = session_start {
            cuts.insert(s + chrono::TimeDelta::seconds(i64::from(*d)));
        }
        if let Some(s) = reservation_start {
            cuts.insert(s + chrono::TimeDelta::seconds(i64::from(*d)));
        }
    }

    // Split the segments.
    let mut pieces: Vec<Piece> = Vec::new();
    let mut kwh = Decimal::ZERO;
    for s in segs {
        let total_ms = Decimal::from((s.end - s.start).num_milliseconds());
        // split points as fractions of the segment
        let mut fr: BTreeSet<Decimal> = BTreeSet::new();
        if total_ms > Decimal::ZERO {
            for c in cuts.range(s.start..s.end) {
                if *c > s.start {
                    fr.insert(Decimal::from((*c - s.start).num_milliseconds()) / total_ms);
                }
            }
        }
        if s.energy_kwh > Decimal::ZERO {
            for k in &kwhs {
                if *k > kwh && *k < kwh + s.energy_kwh {
                    fr.insert((*k - kwh) / s.energy_kwh);
                }
            }
        }
        let mut prev = Decimal::ZERO;
        let mut bounds: Vec<Decimal> = fr.into_iter().collect();
        bounds.push(Decimal::ONE);
        for f in bounds {
            if f <= prev {
                continue;
            }
            let at = |x: Decimal| {
                let ms = (total_ms * x).round();
                s.start + chrono::TimeDelta::milliseconds(i64::try_from(ms).unwrap_or(0))
            };
            let energy = s.energy_kwh * (f - prev);
            pieces.push(Piece {
                start: at(prev),
                end: at(f),
                kind: s.kind,
                energy,
                current: s.current,
                power: s.power,
                kwh_before: kwh,
            });
            kwh += energy;
            prev = f;
        }
    }

    // Price every piece.
    let mut lines: Vec<Line> = Vec::new();
    let mut flat_session = false;
    let mut flat_reservation = false;
    let mut missing: BTreeSet<&'static str> = BTreeSet::new();
    for p in &pieces {
        let origin = if is_reservation(p.kind) {
            reservation_start
        } else {
            session_start
        }
        .unwrap_or(p.start);
        let seconds = p.seconds();
        let mut power = p.power;
        if power.lower().is_none() && p.kind == SegmentKind::Charging && seconds > Decimal::ZERO {
            power = Measure::constant(p.energy / hours_of_secs(seconds));
        }
        let local = local_naive(&tz, p.start);
        let ctx = Ctx {
            local,
            weekday: local.weekday(),
            kwh: p.kwh_before,
            elapsed: secs(p.start - origin),
            current: p.current,
            power,
        };
        let mut dims: Vec<(TariffDimensionType, Decimal)> = Vec::new();
        match p.kind {
            SegmentKind::Charging => {
                dims.push((TariffDimensionType::Energy, p.energy));
                dims.push((TariffDimensionType::Time, hours_of_secs(seconds)));
            }
            SegmentKind::Parking => {
                dims.push((TariffDimensionType::ParkingTime, hours_of_secs(seconds)));
            }
            SegmentKind::Reservation | SegmentKind::ExpiredReservation => {
                dims.push((TariffDimensionType::Time, hours_of_secs(seconds)));
            }
        }
        let flat_done = if is_reservation(p.kind) {
            &mut flat_reservation
        } else {
            &mut flat_session
        };
        if !*flat_done {
            if let Some((i, pc)) = find_component(tariff, &TariffDimensionType::Flat, p.kind, &ctx)
            {
                *flat_done = true;
                lines.push(make_line(p, TariffDimensionType::Flat, i, pc, Decimal::ONE));
            }
        }
        for (dim, qty) in dims {
            if qty.is_zero() && dim == TariffDimensionType::Energy {
                continue;
            }
            match find_component(tariff, &dim, p.kind, &ctx) {
                Some((i, pc)) => lines.push(make_line(p, dim, i, pc, qty)),
                None => {
                    if !qty.is_zero() {
                        missing.insert(match dim {
                            TariffDimensionType::Energy => "ENERGY",
                            TariffDimensionType::ParkingTime => "PARKING_TIME",
                            _ => "TIME",
                        });
                    }
                }
            }
        }
    }
    for m in missing {
        warnings.push(format!(
            "no tariff element prices {m} for part of the session: that part is free"
        ));
    }

    // step_size, once per group.
    let is_res = |l: &Line| is_reservation(l.segment);
    apply_step(&mut lines, 1000, |l| {
        l.dimension == TariffDimensionType::Energy
    });
    apply_step(&mut lines, 3600, |l| {
        l.dimension == TariffDimensionType::Time && is_res(l)
    });
    let time_dims = |l: &Line| {
        !is_res(l)
            && matches!(
                l.dimension,
                TariffDimensionType::Time | TariffDimensionType::ParkingTime
            )
    };
    match options.step_size_rule {
        StepSizeRule::CombinedTime => apply_step(&mut lines, 3600, time_dims),
        StepSizeRule::LastTimeDimension => {
            if let Some(last) = lines
                .iter()
                .rev()
                .find(|l| time_dims(l))
                .map(|l| l.dimension.clone())
            {
                apply_step(&mut lines, 3600, |l| time_dims(l) && l.dimension == last);
            }
        }
    }

    // costs
    for l in &mut lines {
        let amount = l.quantity * l.price;
        let (excl, incl) = match options.tax_included {
            TaxIncluded::No => (
                Some(amount),
                l.vat
                    .map(|v| amount * (Decimal::ONE + v / Decimal::ONE_HUNDRED)),
            ),
            TaxIncluded::Yes => (
                l.vat
                    .map(|v| amount / (Decimal::ONE + v / Decimal::ONE_HUNDRED)),
                Some(amount),
            ),
            TaxIncluded::NotApplicable => (Some(amount), Some(amount)),
        };
        l.cost_excl_vat = excl.or(amount.is_zero().then_some(Decimal::ZERO));
        l.cost_incl_vat = incl.or(amount.is_zero().then_some(Decimal::ZERO));
    }

    let sum = |f: &dyn Fn(&Line) -> bool| -> Option<Price> {
        let sel: Vec<&Line> = lines.iter().filter(|l| f(l)).collect();
        if sel.is_empty() {
            return None;
        }
        let excl: Option<Decimal> = sel.iter().map(|l| l.cost_excl_vat).sum();
        let incl: Option<Decimal> = sel.iter().map(|l| l.cost_incl_vat).sum();
        Some(Price {
            excl_vat: Number(excl.or(incl).unwrap_or_default()),
            incl_vat: incl.map(Number),
            extra: Default::default(),
        })
    };
    let total_fixed_cost = sum(&|l| l.dimension == TariffDimensionType::Flat && !is_res(l));
    let total_energy_cost = sum(&|l| l.dimension == TariffDimensionType::Energy);
    let total_time_cost = sum(&|l| l.dimension == TariffDimensionType::Time && !is_res(l));
    let total_parking_cost = sum(&|l| l.dimension == TariffDimensionType::ParkingTime);
    let total_reservation_cost = sum(&|l| is_res(l));
    let mut excl: Option<Decimal> = Some(Decimal::ZERO);
    let mut incl: Option<Decimal> = Some(Decimal::ZERO);
    for l in &lines {
        excl = excl.zip(l.cost_excl_vat).map(|(a, b)| a + b);
        incl = incl.zip(l.cost_incl_vat).map(|(a, b)| a + b);
    }
    let mut min_price_applied = false;
    let mut max_price_applied = false;
    if let Some(min) = &tariff.min_price {
        if let Some(e) = excl.as_mut() {
            if *e < min.excl_vat.0 {
                *e = min.excl_vat.0;
                min_price_applied = true;
            }
        }
        if let (Some(i), Some(m)) = (incl.as_mut(), min.incl_vat) {
            if *i < m.0 {
                *i = m.0;
                min_price_applied = true;
            }
        }
    }
    if let Some(max) = &tariff.max_price {
        if let Some(e) = excl.as_mut() {
            if *e > max.excl_vat.0 {
                *e = max.excl_vat.0;
                max_price_applied = true;
            }
        }
        if let (Some(i), Some(m)) = (incl.as_mut(), max.incl_vat) {
            if *i > m.0 {
                *i = m.0;
                max_price_applied = true;
            }
        }
    }
    if excl.is_none() {
        warnings.push(
            "prices include taxes and no VAT is given: the amounts excluding VAT are the amounts including taxes".into(),
        );
        excl = incl;
    }

    // Totals of quantities and the charging periods.
    let session_pieces: Vec<&Piece> = pieces.iter().filter(|p| !is_reservation(p.kind)).collect();
    let total_energy: Decimal = session_pieces.iter().map(|p| p.energy).sum();
    let total_time = match (
        session_pieces.first(),
        session_pieces.iter().map(|p| p.end).max(),
    ) {
        (Some(f), Some(e)) => hours_of_secs(secs(e - f.start)),
        _ => Decimal::ZERO,
    };
    let total_parking_time = hours_of_secs(
        session_pieces
            .iter()
            .filter(|p| p.kind == SegmentKind::Parking)
            .map(|p| p.seconds())
            .sum(),
    );
    let charging_periods = periods_of(&pieces, &lines, tariff);

    Ok(Costs {
        total_cost: Price {
            excl_vat: Number(excl.unwrap_or_default()),
            incl_vat: incl.map(Number),
            extra: Default::default(),
        },
        total_fixed_cost,
        total_energy,
        total_energy_cost,
        total_time,
        total_time_cost,
        total_parking_time,
        total_parking_cost,
        total_reservation_cost,
        min_price_applied,
        max_price_applied,
        charging_periods,
        lines,
        warnings,
    })
}

fn make_line(
    p: &Piece,
    dim: TariffDimensionType,
    i: usize,
    pc: &PriceComponent,
    qty: Decimal,
) -> Line {
    Line {
        start: DateTime::from_utc(p.start),
        end: DateTime::from_utc(p.end),
        segment: p.kind,
        dimension: dim,
        element: i,
        quantity: qty,
        price: pc.price.0,
        vat: pc.vat.map(|v| v.0),
        cost_excl_vat: None,
        cost_incl_vat: None,
        step_size: pc.step_size,
    }
}

/// Rounds the total quantity of a group up to the step of its last line; `unit` is the number
/// of base units (Wh, seconds) in one billing unit (kWh, hour).
fn apply_step(lines: &mut [Line], unit: u32, member: impl Fn(&Line) -> bool) {
    let unit = Decimal::from(unit);
    let total: Decimal = lines
        .iter()
        .filter(|l| member(l))
        .map(|l| l.quantity * unit)
        .sum();
    let Some(last) = lines.iter_mut().rev().find(|l| member(l)) else {
        return;
    };
    let rounded = ceil_to(total, last.step_size);
    let extra = rounded - total;
    if extra > Decimal::ZERO {
        last.quantity += extra / unit;
    }
}

fn periods_of(pieces: &[Piece], lines: &[Line], tariff: &Tariff) -> Vec<ChargingPeriod> {
    let mut out: Vec<ChargingPeriod> = Vec::new();
    for p in pieces {
        if p.start == p.end && p.energy.is_zero() {
            continue;
        }
        let dims = match p.kind {
            SegmentKind::Charging => vec![
                (CdrDimensionType::Energy, p.energy),
                (CdrDimensionType::Time, hours_of_secs(p.seconds())),
            ],
            SegmentKind::Parking => {
                vec![(CdrDimensionType::ParkingTime, hours_of_secs(p.seconds()))]
            }
            _ => vec![(
                CdrDimensionType::ReservationTime,
                hours_of_secs(p.seconds()),
            )],
        };
        out.push(ChargingPeriod {
            start_date_time: DateTime::from_utc(p.start),
            dimensions: dims
                .into_iter()
                .map(|(t, v)| CdrDimension {
                    r#type: t,
                    volume: Number(v.round_dp(6).normalize()),
                    extra: Default::default(),
                })
                .collect(),
            tariff_id: lines
                .iter()
                .any(|l| l.start.utc() == p.start)
                .then(|| tariff.id.clone()),
            extra: Default::default(),
        });
    }
    out
}

/// Prices a CDR or session given as JSON against a tariff given as JSON, and returns the costs as
/// JSON. This is the contract of `csms tariff --tariff T.json --cdr C.json`.
///
/// # Input
/// - `tariff`: an OCPI 2.2.1 `Tariff` (2.1.1 tariffs have the same shape for pricing). A tariff
///   with `tax_included` is read as OCPI 2.3.0: `min_price`/`max_price` as `PriceLimit`
///   (`before_taxes`, `after_taxes`), `tax_included` honoured, and the 2.3.0 `step_size` rule.
/// - `input`: a `CDR` or `Session` (2.2.1 shape; only `charging_periods`, `start_date_time` and
///   `end_date_time` are used, see [`PricingInput::from_charging_periods`]). The location's IANA
///   time zone is read from a `time_zone` member of the input or of its `cdr_location` (an
///   extension member: a CDR does not carry it); without one, UTC. A session without
///   `end_date_time` ends at its `last_updated`.
///
/// # Output
/// An object with the cost fields of a CDR — `currency`, `total_cost`, `total_fixed_cost`,
/// `total_energy` (kWh), `total_energy_cost`, `total_time` (h), `total_time_cost`,
/// `total_parking_time` (h), `total_parking_cost`, `total_reservation_cost` (cost fields are
/// `Price` objects, absent when no component priced that part) — plus `min_price_applied`,
/// `max_price_applied`, `charging_periods` (the input split where the tariff changes, each with
/// the `tariff_id`), `breakdown` (every priced quantity: dimension, element index, quantity in
/// kWh / h / 1, price, vat, costs) and `warnings`. Amounts are exact (not rounded to cents).
///
/// ```
/// let tariff = serde_json::json!({
///   "country_code": "DE", "party_id": "ALL", "id": "16", "currency": "EUR",
///   "elements": [{"price_components": [{"type": "ENERGY", "price": 0.25, "vat": 10.0, "step_size": 1}]}],
///   "last_updated": "2018-12-17T11:16:55Z"
/// });
/// let cdr = serde_json::json!({
///   "start_date_time": "2019-06-01T10:00:00Z", "end_date_time": "2019-06-01T12:00:00Z",
///   "charging_periods": [{"start_date_time": "2019-06-01T10:00:00Z",
///                         "dimensions": [{"type": "ENERGY", "volume": 20}, {"type": "TIME", "volume": 2}]}]
/// });
/// let costs = ocpi::tariff::price_json(&tariff, &cdr).unwrap();
/// assert_eq!(costs["total_cost"], serde_json::json!({"excl_vat": 5, "incl_vat": 5.5}));
/// ```
pub fn price_json(
    tariff: &serde_json::Value,
    input: &serde_json::Value,
) -> Result<serde_json::Value, TariffError> {
    price_json_with_rule(tariff, input, None)
}

/// [`price_json`] with the `step_size` rule chosen by the caller instead of by the version of the
/// tariff.
pub fn price_json_with_rule(
    tariff: &serde_json::Value,
    input: &serde_json::Value,
    rule: Option<StepSizeRule>,
) -> Result<serde_json::Value, TariffError> {
    let mut tariff_v = tariff.clone();
    let mut options = PricingOptions::default();
    if let Some(t) = tariff_v.get("tax_included").and_then(|v| v.as_str()) {
        options.step_size_rule = StepSizeRule::LastTimeDimension;
        options.tax_included = match t {
            "YES" => TaxIncluded::Yes,
            "N/A" => TaxIncluded::NotApplicable,
            _ => TaxIncluded::No,
        };
        for k in ["min_price", "max_price"] {
            if let Some(p) = tariff_v.get_mut(k).and_then(|p| p.as_object_mut()) {
                if let Some(b) = p.remove("before_taxes") {
                    p.insert("excl_vat".into(), b);
                }
                if let Some(a) = p.remove("after_taxes") {
                    p.insert("incl_vat".into(), a);
                }
            }
        }
    }
    if let Some(r) = rule {
        options.step_size_rule = r;
    }
    let tariff: Tariff =
        serde_json::from_value(tariff_v).map_err(|e| TariffError::InvalidTariff(e.to_string()))?;
    let periods: Vec<ChargingPeriod> = serde_json::from_value(
        input
            .get("charging_periods")
            .cloned()
            .ok_or_else(|| TariffError::InvalidInput("no charging_periods".into()))?,
    )
    .map_err(|e| TariffError::InvalidInput(format!("charging_periods: {e}")))?;
    let end: Option<DateTime> = input
        .get("end_date_time")
        .or_else(|| input.get("last_updated"))
        .map(|v| serde_json::from_value(v.clone()))
        .transpose()
        .map_err(|e| TariffError::InvalidInput(format!("end_date_time: {e}")))?;
    let tz_name = input
        .get("time_zone")
        .or_else(|| input.get("cdr_location").and_then(|l| l.get("time_zone")))
        .and_then(|v| v.as_str())
        .unwrap_or("UTC");
    let tz: Tz = tz_name
        .parse()
        .map_err(|_| TariffError::UnknownTimeZone(tz_name.to_owned()))?;
    let pricing = PricingInput::from_charging_periods(&periods, end.as_ref(), tz)?;
    let costs = price(&tariff, &pricing, &options)?;
    Ok(costs_to_json(&costs, &tariff))
}

fn costs_to_json(c: &Costs, tariff: &Tariff) -> serde_json::Value {
    let price = |p: &Option<Price>| p.as_ref().map(norm_price);
    let mut m = serde_json::Map::new();
    m.insert("currency".into(), serde_json::json!(tariff.currency));
    m.insert(
        "total_cost".into(),
        serde_json::json!(norm_price(&c.total_cost)),
    );
    let opt = [
        ("total_fixed_cost", price(&c.total_fixed_cost)),
        ("total_energy_cost", price(&c.total_energy_cost)),
        ("total_time_cost", price(&c.total_time_cost)),
        ("total_parking_cost", price(&c.total_parking_cost)),
        ("total_reservation_cost", price(&c.total_reservation_cost)),
    ];
    for (k, v) in opt {
        if let Some(v) = v {
            m.insert(k.into(), serde_json::json!(v));
        }
    }
    m.insert(
        "total_energy".into(),
        serde_json::json!(Number(c.total_energy.normalize())),
    );
    m.insert(
        "total_time".into(),
        serde_json::json!(Number(c.total_time.normalize())),
    );
    m.insert(
        "total_parking_time".into(),
        serde_json::json!(Number(c.total_parking_time.normalize())),
    );
    m.insert("min_price_applied".into(), c.min_price_applied.into());
    m.insert("max_price_applied".into(), c.max_price_applied.into());
    m.insert(
        "charging_periods".into(),
        serde_json::json!(c.charging_periods),
    );
    m.insert("breakdown".into(), serde_json::json!(c.lines));
    m.insert("warnings".into(), serde_json::json!(c.warnings));
    serde_json::Value::Object(m)
}

fn norm_price(p: &Price) -> Price {
    Price {
        excl_vat: Number(p.excl_vat.0.normalize()),
        incl_vat: p.incl_vat.map(|v| Number(v.0.normalize())),
        extra: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn ceil_to_steps() {
        assert_eq!(ceil_to(d("115.2"), 1), d("116"));
        assert_eq!(ceil_to(d("115.2"), 25), d("125"));
        assert_eq!(ceil_to(d("115.2"), 500), d("500"));
        assert_eq!(ceil_to(d("100"), 0), d("100"));
    }

    #[test]
    fn wrapping_time_window() {
        let r: TariffRestrictions =
            serde_json::from_value(serde_json::json!({"start_time": "22:00", "end_time": "06:00"}))
                .unwrap();
        let ctx = |h: u32| Ctx {
            local: NaiveDate::from_ymd_opt(2024, 1, 1)
                .unwrap()
                .and_hms_opt(h, 0, 0)
                .unwrap(),
            weekday: chrono::Weekday::Mon,
            kwh: Decimal::ZERO,
            elapsed: Decimal::ZERO,
            current: Measure::default(),
            power: Measure::default(),
        };
        assert!(restrictions_hold(&r, &ctx(23)));
        assert!(restrictions_hold(&r, &ctx(2)));
        assert!(!restrictions_hold(&r, &ctx(6)));
        assert!(!restrictions_hold(&r, &ctx(12)));
    }
}
