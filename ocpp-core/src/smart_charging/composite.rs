//! The composite schedule: what an EVSE (or the whole station) may draw over a time window.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};

use super::model::SchedulePeriod;
use super::model::{ChargingProfile, InstalledProfile, ProfileKind, Purpose, RateUnit};

/// A transaction running on an EVSE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// The transaction id (1.6's integer as text).
    pub id: String,
    /// When it started; Relative profiles count from here.
    pub started: DateTime<Utc>,
}

/// The state of one EVSE that the composite depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvseState {
    /// The running transaction, if any. TxProfiles apply only to it.
    pub transaction: Option<Transaction>,
    /// 2.1: whether the driver asked for priority charging, so that a PriorityCharging
    /// profile replaces the transaction's profile.
    pub priority_charging: bool,
}

/// The station's electrical set-up and the state of its EVSEs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationState {
    /// Phase-to-neutral voltage for A / W conversion (default 230 V). Must be positive.
    pub voltage: Decimal,
    /// Phases assumed where a period does not say (default 3, as the specs say).
    pub default_phases: u8,
    /// Decimal places of limits converted from W to A or A to W (default 1, the precision of
    /// 1.6 limits). Converted values are rounded toward zero, so they never exceed the limit
    /// they come from.
    pub decimal_places: u32,
    /// EVSE states by id. An EVSE that is missing has no transaction.
    pub evses: BTreeMap<u32, EvseState>,
}

impl Default for StationState {
    fn default() -> Self {
        StationState {
            voltage: Decimal::from(230),
            default_phases: 3,
            decimal_places: 1,
            evses: BTreeMap::new(),
        }
    }
}

impl StationState {
    /// The same state with a transaction running on `evse_id`.
    pub fn with_transaction(
        mut self,
        evse_id: u32,
        id: impl Into<String>,
        started: DateTime<Utc>,
    ) -> Self {
        self.evses.entry(evse_id).or_default().transaction = Some(Transaction {
            id: id.into(),
            started,
        });
        self
    }

    /// The same state with another voltage.
    pub fn with_voltage(mut self, voltage: Decimal) -> Self {
        self.voltage = voltage;
        self
    }

    /// The transaction running on `evse_id`, if any.
    pub fn transaction(&self, evse_id: u32) -> Option<&Transaction> {
        self.evses.get(&evse_id)?.transaction.as_ref()
    }

    /// Converts `value` from one unit to another with `phases` phases: W = A x voltage x
    /// phases. Results of a conversion are rounded toward zero to
    /// [`decimal_places`](StationState::decimal_places).
    pub fn convert(&self, value: Decimal, from: RateUnit, to: RateUnit, phases: u8) -> Decimal {
        let factor = self
            .voltage
            .checked_mul(Decimal::from(phases.max(1)))
            .unwrap_or(Decimal::MAX);
        let converted = match (from, to) {
            (RateUnit::A, RateUnit::A) | (RateUnit::W, RateUnit::W) => return value,
            (RateUnit::A, RateUnit::W) => {
                value
                    .checked_mul(factor)
                    .unwrap_or(if value.is_sign_negative() {
                        Decimal::MIN
                    } else {
                        Decimal::MAX
                    })
            }
            (RateUnit::W, RateUnit::A) => value.checked_div(factor).unwrap_or(Decimal::ZERO),
        };
        converted
            .round_dp_with_strategy(self.decimal_places, RoundingStrategy::ToZero)
            .normalize()
    }
}

/// What to compute: a window, an EVSE and a unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompositeRequest {
    /// The start of the window.
    pub start: DateTime<Utc>,
    /// Its length in seconds.
    pub duration: u32,
    /// The EVSE (1.6: connector), or 0 for the whole station.
    pub evse_id: u32,
    /// The unit of the result.
    pub unit: RateUnit,
}

/// One period of a composite schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompositePeriod {
    /// Seconds from the start of the composite schedule.
    pub start_period: i64,
    /// The limit, or `None` where no profile limits anything (the EVSE's own rating applies).
    pub limit: Option<Decimal>,
    /// The phases the limit is for (the fewest any applicable period names, else the default).
    pub number_phases: u8,
    /// 2.1: the combined discharge limit (the one closest to 0), if any period has one.
    pub discharge_limit: Option<Decimal>,
    /// 2.1: the transaction's setpoint, kept between the discharge limit and the limit.
    pub setpoint: Option<Decimal>,
}

/// The result: periods covering `[start, start + duration)`, adjacent equal ones merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompositeSchedule {
    /// The EVSE, 0 for the station.
    pub evse_id: u32,
    /// The start of the window.
    pub start: DateTime<Utc>,
    /// Its length in seconds.
    pub duration: u32,
    /// The unit of every limit.
    pub unit: RateUnit,
    /// The periods, the first at 0, ascending.
    pub periods: Vec<CompositePeriod>,
}

/// A stretch of time in which two composite schedules disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// Seconds from the start of the first schedule.
    pub from: i64,
    /// End (exclusive), in seconds from the start of the first schedule.
    pub to: i64,
    /// The limit of the first schedule.
    pub expected: Option<Decimal>,
    /// The limit of the second schedule.
    pub actual: Option<Decimal>,
}

impl CompositeSchedule {
    /// The period in force `offset` seconds after the start, if inside the window.
    pub fn period_at(&self, offset: i64) -> Option<&CompositePeriod> {
        if offset < 0 || offset >= i64::from(self.duration) {
            return None;
        }
        let i = self.periods.partition_point(|p| p.start_period <= offset);
        i.checked_sub(1).map(|i| &self.periods[i])
    }

    /// The limit `offset` seconds after the start (`None` outside the window or where nothing
    /// limits).
    pub fn limit_at(&self, offset: i64) -> Option<Decimal> {
        self.period_at(offset)?.limit
    }

    /// Compares the limits with another composite schedule over this one's window (for a CSMS
    /// checking a station's GetCompositeSchedule answer against its prediction). The other's
    /// periods are placed by their own start time. Limits within `tolerance` of each other are
    /// equal; periods one schedule has and the other lacks differ.
    pub fn differences(&self, other: &CompositeSchedule, tolerance: Decimal) -> Vec<Difference> {
        let shift = other.start.timestamp() - self.start.timestamp();
        let end = i64::from(self.duration);
        let mut cuts: Vec<i64> = self.periods.iter().map(|p| p.start_period).collect();
        cuts.extend(other.periods.iter().map(|p| p.start_period + shift));
        cuts.extend([0, shift, shift + i64::from(other.duration), end]);
        cuts.retain(|&c| (0..=end).contains(&c));
        cuts.sort_unstable();
        cuts.dedup();
        let mut out: Vec<Difference> = Vec::new();
        for w in cuts.windows(2) {
            let expected = self.limit_at(w[0]);
            let actual = other.limit_at(w[0] - shift);
            let same = match (expected, actual) {
                (Some(a), Some(b)) => (a - b).abs() <= tolerance,
                (None, None) => other.period_at(w[0] - shift).is_some(),
                _ => false,
            };
            if same {
                continue;
            }
            match out.last_mut() {
                Some(d) if d.to == w[0] && d.expected == expected && d.actual == actual => {
                    d.to = w[1]
                }
                _ => out.push(Difference {
                    from: w[0],
                    to: w[1],
                    expected,
                    actual,
                }),
            }
        }
        out
    }
}

/// The stacking layers. Caps always apply; of the transaction layers the first present of
/// PriorityCharging (when asked for), Tx and TxDefault applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    StationMax = 0,
    ExternalStation,
    ExternalEvse,
    LocalGenerationStation,
    LocalGenerationEvse,
    Priority,
    Tx,
    TxDefault,
}
const LAYERS: usize = 8;

#[derive(Debug, Clone, Copy)]
struct Segment<'p> {
    from: i64,
    to: i64,
    period: &'p SchedulePeriod,
}

#[derive(Debug)]
struct Candidate<'p> {
    layer: Layer,
    /// (EVSE-specific, stack level): the highest wins within a layer.
    rank: (bool, i64),
    unit: RateUnit,
    segments: Vec<Segment<'p>>,
    cursor: usize,
}

fn layer_of(
    ip: &InstalledProfile,
    evse_id: u32,
    evse: Option<&EvseState>,
) -> Option<(Layer, bool)> {
    let p = &ip.profile;
    let on_station = ip.evse_id == 0;
    let on_evse = evse_id != 0 && ip.evse_id == evse_id;
    if !on_station && !on_evse {
        return None;
    }
    let layer = match p.purpose {
        Purpose::StationMax if on_station => Layer::StationMax,
        Purpose::StationMax => return None,
        Purpose::ExternalConstraints if on_station => Layer::ExternalStation,
        Purpose::ExternalConstraints => Layer::ExternalEvse,
        Purpose::LocalGeneration if on_station => Layer::LocalGenerationStation,
        Purpose::LocalGeneration => Layer::LocalGenerationEvse,
        _ if evse_id == 0 => return None,
        Purpose::TxDefault => Layer::TxDefault,
        Purpose::Tx => {
            let tx = evse?.transaction.as_ref()?;
            if !on_evse || p.transaction_id.as_ref().is_some_and(|id| *id != tx.id) {
                return None;
            }
            Layer::Tx
        }
        Purpose::PriorityCharging if evse.is_some_and(|e| e.priority_charging) => Layer::Priority,
        Purpose::PriorityCharging => return None,
    };
    Some((layer, on_evse))
}

/// Pushes the segments of one occurrence of a schedule starting at `base` (absolute seconds),
/// clipped to `[lo, hi)`.
fn occurrence<'p>(
    periods: &[&'p SchedulePeriod],
    base: i64,
    duration: Option<i64>,
    lo: i64,
    hi: i64,
    out: &mut Vec<Segment<'p>>,
) {
    let end = duration.map_or(i64::MAX, |d| base.saturating_add(d));
    for (i, p) in periods.iter().enumerate() {
        let from = base.saturating_add(p.start_period).max(lo);
        let next = periods
            .get(i + 1)
            .map_or(end, |n| base.saturating_add(n.start_period));
        let to = next.min(end).min(hi);
        if from < to {
            out.push(Segment {
                from,
                to,
                period: p,
            });
        }
    }
}

/// The segments of a profile in `[lo, hi)` (absolute seconds), resolved against `anchor`
/// (the transaction start, else the window start) for Relative profiles and schedules
/// without a start.
fn segments<'p>(profile: &'p ChargingProfile, anchor: i64, lo: i64, hi: i64) -> Vec<Segment<'p>> {
    let mut out = Vec::new();
    let Some(schedule) = profile.schedule() else {
        return out;
    };
    let lo = profile.valid_from.map_or(lo, |t| lo.max(t.timestamp()));
    let hi = profile.valid_to.map_or(hi, |t| hi.min(t.timestamp()));
    if lo >= hi {
        return out;
    }
    let mut periods: Vec<&SchedulePeriod> = schedule.periods.iter().collect();
    periods.sort_by_key(|p| p.start_period);
    let start = schedule.start_schedule.map(|t| t.timestamp());
    match profile.kind {
        ProfileKind::Absolute | ProfileKind::Dynamic => occurrence(
            &periods,
            start.unwrap_or(anchor),
            schedule.duration,
            lo,
            hi,
            &mut out,
        ),
        ProfileKind::Relative => occurrence(&periods, anchor, schedule.duration, lo, hi, &mut out),
        ProfileKind::Recurring(r) => {
            let every = r.period_seconds();
            let base = start.unwrap_or(anchor);
            // An occurrence lasts until the next one starts, or less if the schedule is
            // shorter; nothing recurs before the first start.
            let length = schedule.duration.map_or(every, |d| d.min(every));
            let mut k = (lo - base).div_euclid(every).max(0);
            loop {
                let at = base.saturating_add(k.saturating_mul(every));
                if at >= hi {
                    break;
                }
                occurrence(&periods, at, Some(length), lo, hi, &mut out);
                k += 1;
            }
        }
    }
    out
}

fn period_limit(p: &SchedulePeriod, unit: RateUnit) -> Option<Decimal> {
    let l1 = p.limit?;
    if p.limit_l2.is_none() && p.limit_l3.is_none() {
        return Some(l1);
    }
    let l2 = p.limit_l2.unwrap_or(l1);
    let l3 = p.limit_l3.unwrap_or(l1);
    Some(match unit {
        // Per-phase currents: the composite's single figure is the lowest phase.
        RateUnit::A => l1.min(l2).min(l3),
        // Per-phase powers: the total.
        RateUnit::W => l1.saturating_add(l2).saturating_add(l3),
    })
}

fn min_opt(a: Option<Decimal>, b: Decimal) -> Option<Decimal> {
    Some(a.map_or(b, |a| a.min(b)))
}

/// Computes the composite schedule of `request.evse_id` from the installed profiles.
///
/// At every instant of the window:
/// 1. In each layer the profile in force with the highest stack level wins (a TxDefault
///    profile on the EVSE itself beats one on EVSE 0 whatever the stack levels; equal levels
///    in one layer all apply, lowest limit first). A profile is in force inside its validity
///    window and its schedule: Absolute and Dynamic from `startSchedule`, Relative from the
///    transaction start (or the window start when there is no transaction), Recurring from
///    `startSchedule` plus whole days or weeks, each occurrence lasting until the next one
///    or the schedule's duration, whichever is shorter.
/// 2. The transaction layer is the PriorityCharging profile (2.1, when the EVSE asked for
///    priority charging), else the TxProfile of the running transaction, else the
///    TxDefaultProfile.
/// 3. The limit is the lowest of the transaction layer and the caps: the station maximum,
///    external constraints and local generation, on EVSE 0 and on the EVSE. For EVSE 0 (the
///    whole station) only the caps on EVSE 0 count.
/// 4. Limits are converted to the requested unit with the interval's phases (the fewest any
///    applicable period names, else [`StationState::default_phases`]) and the station's
///    voltage.
/// 5. Adjacent intervals with equal values are merged.
///
/// The function is pure: the result depends on the set of profiles, not on their order.
pub fn composite_schedule(
    profiles: &[InstalledProfile],
    request: &CompositeRequest,
    station: &StationState,
) -> CompositeSchedule {
    let lo = request.start.timestamp();
    let hi = lo + i64::from(request.duration);
    let evse = station.evses.get(&request.evse_id);
    let anchor = if request.evse_id == 0 {
        lo
    } else {
        evse.and_then(|e| e.transaction.as_ref())
            .map_or(lo, |t| t.started.timestamp())
    };

    let mut candidates: Vec<Candidate<'_>> = Vec::new();
    let mut cuts: Vec<i64> = vec![lo, hi];
    for ip in profiles {
        let Some((layer, specific)) = layer_of(ip, request.evse_id, evse) else {
            continue;
        };
        let Some(schedule) = ip.profile.schedule() else {
            continue;
        };
        let segments = segments(&ip.profile, anchor, lo, hi);
        if segments.is_empty() {
            continue;
        }
        for s in &segments {
            cuts.push(s.from);
            cuts.push(s.to);
        }
        let specific = specific && matches!(layer, Layer::TxDefault | Layer::Priority);
        candidates.push(Candidate {
            layer,
            rank: (specific, ip.profile.stack_level),
            unit: schedule.rate_unit,
            segments,
            cursor: 0,
        });
    }
    cuts.sort_unstable();
    cuts.dedup();

    let mut periods: Vec<CompositePeriod> = Vec::new();
    let mut covering: Vec<usize> = Vec::with_capacity(candidates.len());
    for w in cuts.windows(2) {
        let at = w[0];
        covering.clear();
        let mut best: [Option<(bool, i64)>; LAYERS] = [None; LAYERS];
        for (ci, c) in candidates.iter_mut().enumerate() {
            while c.cursor < c.segments.len() && c.segments[c.cursor].to <= at {
                c.cursor += 1;
            }
            if c.segments.get(c.cursor).is_some_and(|s| s.from <= at) {
                covering.push(ci);
                let slot = &mut best[c.layer as usize];
                if slot.is_none_or(|r| c.rank > r) {
                    *slot = Some(c.rank);
                }
            }
        }
        let tx_layer = [Layer::Priority, Layer::Tx, Layer::TxDefault]
            .into_iter()
            .find(|l| best[*l as usize].is_some());
        let applies = |c: &Candidate<'_>| {
            let is_tx_side = matches!(c.layer, Layer::Priority | Layer::Tx | Layer::TxDefault);
            (!is_tx_side || Some(c.layer) == tx_layer) && best[c.layer as usize] == Some(c.rank)
        };
        // Phases: the fewest any applicable period names (0, DC in 2.1, names none).
        let phases = covering
            .iter()
            .map(|&ci| &candidates[ci])
            .filter(|c| applies(c))
            .filter_map(|c| c.segments[c.cursor].period.number_phases)
            .filter(|&n| n > 0)
            .min()
            .unwrap_or(station.default_phases.max(1));
        let mut limit = None;
        let mut discharge: Option<Decimal> = None;
        let mut setpoint: Option<Decimal> = None;
        for &ci in &covering {
            let c = &candidates[ci];
            if !applies(c) {
                continue;
            }
            let p = c.segments[c.cursor].period;
            let conv = |v: Decimal| station.convert(v, c.unit, request.unit, phases);
            if let Some(l) = period_limit(p, c.unit) {
                limit = min_opt(limit, conv(l));
            }
            if let Some(d) = p.discharge_limit() {
                let d = conv(d);
                discharge = Some(discharge.map_or(d, |x| x.max(d)));
            }
            if Some(c.layer) == tx_layer {
                if let Some(s) = p.setpoint() {
                    setpoint = min_opt(setpoint, conv(s));
                }
            }
        }
        let setpoint = setpoint.map(|mut s| {
            if let Some(l) = limit {
                s = s.min(l);
            }
            if let Some(d) = discharge {
                s = s.max(d);
            }
            s.normalize()
        });
        let period = CompositePeriod {
            start_period: at - lo,
            limit: limit.map(|l| l.normalize()),
            number_phases: phases,
            discharge_limit: discharge.map(|d| d.normalize()),
            setpoint,
        };
        match periods.last() {
            Some(last)
                if last.limit == period.limit
                    && last.number_phases == period.number_phases
                    && last.discharge_limit == period.discharge_limit
                    && last.setpoint == period.setpoint => {}
            _ => periods.push(period),
        }
    }
    CompositeSchedule {
        evse_id: request.evse_id,
        start: request.start,
        duration: request.duration,
        unit: request.unit,
        periods,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smart_charging::model::{ChargingSchedule, Recurrency};
    use chrono::TimeZone;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn t(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, d, h, 0, 0).unwrap()
    }

    fn limits(c: &CompositeSchedule) -> Vec<(i64, Option<Decimal>)> {
        c.periods
            .iter()
            .map(|p| (p.start_period, p.limit))
            .collect()
    }

    fn abs(
        id: i64,
        stack: i64,
        purpose: Purpose,
        start: DateTime<Utc>,
        l: &str,
    ) -> ChargingProfile {
        ChargingProfile::new(
            id,
            stack,
            purpose,
            ProfileKind::Absolute,
            ChargingSchedule::new(RateUnit::A, vec![SchedulePeriod::new(0, dec(l))])
                .starting(start),
        )
    }

    #[test]
    fn conversion_rounds_toward_zero() {
        let s = StationState::default();
        // 11 000 W / (230 V x 3) = 15.942... A, written 15.9 A.
        assert_eq!(
            s.convert(dec("11000"), RateUnit::W, RateUnit::A, 3),
            dec("15.9")
        );
        // 16 A x 230 V x 1 = 3680 W, exact.
        assert_eq!(
            s.convert(dec("16"), RateUnit::A, RateUnit::W, 1),
            dec("3680")
        );
        // A discharge limit of -11 000 W is -15.9 A, not -16.0 A.
        assert_eq!(
            s.convert(dec("-11000"), RateUnit::W, RateUnit::A, 3),
            dec("-15.9")
        );
        let s110 = StationState::default().with_voltage(dec("110"));
        assert_eq!(
            s110.convert(dec("10"), RateUnit::A, RateUnit::W, 2),
            dec("2200")
        );
    }

    #[test]
    fn nothing_in_force_is_no_limit_and_empty_windows_are_empty() {
        let req = CompositeRequest {
            start: t(6, 0),
            duration: 3600,
            evse_id: 1,
            unit: RateUnit::A,
        };
        let c = composite_schedule(&[], &req, &StationState::default());
        assert_eq!(limits(&c), [(0, None)]);
        assert_eq!(c.periods[0].number_phases, 3);
        let c = composite_schedule(
            &[],
            &CompositeRequest {
                duration: 0,
                ..req.clone()
            },
            &StationState::default(),
        );
        assert!(c.periods.is_empty());
        assert_eq!(c.limit_at(0), None);
    }

    #[test]
    fn absolute_profile_starts_and_validity_ends_inside_the_window() {
        // Starts at 02:00, valid until 03:00: limited only 02:00 to 03:00.
        let p = abs(1, 0, Purpose::StationMax, t(6, 2), "20").valid(None, Some(t(6, 3)));
        let req = CompositeRequest {
            start: t(6, 0),
            duration: 4 * 3600,
            evse_id: 0,
            unit: RateUnit::A,
        };
        let c = composite_schedule(
            &[InstalledProfile::new(0, p)],
            &req,
            &StationState::default(),
        );
        assert_eq!(
            limits(&c),
            [(0, None), (7200, Some(dec("20"))), (10800, None)]
        );
        assert_eq!(c.limit_at(7199), None);
        assert_eq!(c.limit_at(7200), Some(dec("20")));
        assert_eq!(c.period_at(4 * 3600), None);
    }

    #[test]
    fn recurring_is_not_in_force_before_its_first_start() {
        let p = ChargingProfile::new(
            1,
            0,
            Purpose::TxDefault,
            ProfileKind::Recurring(Recurrency::Daily),
            ChargingSchedule::new(RateUnit::A, vec![SchedulePeriod::new(0, dec("10"))])
                .starting(t(6, 12))
                .lasting(3600),
        );
        let req = CompositeRequest {
            start: t(6, 0),
            duration: 2 * 86_400,
            evse_id: 1,
            unit: RateUnit::A,
        };
        let c = composite_schedule(
            &[InstalledProfile::new(0, p)],
            &req,
            &StationState::default(),
        );
        // 12:00-13:00 on the 6th and on the 7th.
        assert_eq!(
            limits(&c),
            [
                (0, None),
                (43_200, Some(dec("10"))),
                (46_800, None),
                (129_600, Some(dec("10"))),
                (133_200, None)
            ]
        );
    }

    #[test]
    fn equal_stack_levels_in_one_layer_take_the_lowest() {
        // Station-wide and EVSE-specific external constraints are separate caps; two station
        // maxima with one stack level (only possible without validation) both apply.
        let ps = [
            InstalledProfile::new(0, abs(1, 0, Purpose::StationMax, t(6, 0), "20")),
            InstalledProfile::new(0, abs(2, 0, Purpose::StationMax, t(6, 0), "18")),
            InstalledProfile::new(1, abs(3, 0, Purpose::ExternalConstraints, t(6, 0), "19")),
        ];
        let req = CompositeRequest {
            start: t(6, 0),
            duration: 60,
            evse_id: 1,
            unit: RateUnit::A,
        };
        let c = composite_schedule(&ps, &req, &StationState::default());
        assert_eq!(limits(&c), [(0, Some(dec("18")))]);
        // EVSE 2 sees the station caps only.
        let c = composite_schedule(
            &ps[..1],
            &CompositeRequest { evse_id: 2, ..req },
            &StationState::default(),
        );
        assert_eq!(limits(&c), [(0, Some(dec("20")))]);
    }

    #[test]
    fn local_generation_caps_and_priority_charging_replaces_the_tx_layer() {
        let tx = ChargingProfile::new(
            3,
            0,
            Purpose::Tx,
            ProfileKind::Relative,
            ChargingSchedule::new(RateUnit::A, vec![SchedulePeriod::new(0, dec("10"))]),
        )
        .for_transaction("T");
        let prio = ChargingProfile::new(
            4,
            0,
            Purpose::PriorityCharging,
            ProfileKind::Relative,
            ChargingSchedule::new(RateUnit::A, vec![SchedulePeriod::new(0, dec("30"))]),
        );
        let ps = [
            InstalledProfile::new(1, tx),
            InstalledProfile::new(1, prio),
            InstalledProfile::new(0, abs(5, 0, Purpose::LocalGeneration, t(6, 0), "25")),
        ];
        let req = CompositeRequest {
            start: t(6, 0),
            duration: 60,
            evse_id: 1,
            unit: RateUnit::A,
        };
        let mut st = StationState::default().with_transaction(1, "T", t(6, 0));
        assert_eq!(
            limits(&composite_schedule(&ps, &req, &st)),
            [(0, Some(dec("10")))]
        );
        st.evses.get_mut(&1).unwrap().priority_charging = true;
        // 30 A asked for, 25 A of local generation.
        assert_eq!(
            limits(&composite_schedule(&ps, &req, &st)),
            [(0, Some(dec("25")))]
        );
    }

    #[test]
    fn differences_report_disagreeing_stretches() {
        let mk = |start, ls: &[(i64, &str)]| CompositeSchedule {
            evse_id: 1,
            start,
            duration: 3600,
            unit: RateUnit::A,
            periods: ls
                .iter()
                .map(|&(s, l)| CompositePeriod {
                    start_period: s,
                    limit: Some(dec(l)),
                    number_phases: 3,
                    discharge_limit: None,
                    setpoint: None,
                })
                .collect(),
        };
        let predicted = mk(t(6, 0), &[(0, "16"), (1800, "8")]);
        let same_but_later = mk(
            t(6, 0) + chrono::Duration::seconds(600),
            &[(0, "16"), (1200, "8.05")],
        );
        // The answer starts 10 minutes later: 0-600 s is missing in it; the rest agrees
        // within 0.1 A.
        let d = predicted.differences(&same_but_later, dec("0.1"));
        assert_eq!(
            d,
            [Difference {
                from: 0,
                to: 600,
                expected: Some(dec("16")),
                actual: None
            }]
        );
        assert_eq!(
            predicted
                .differences(&same_but_later, Decimal::ZERO)
                .last()
                .map(|d| (d.from, d.to)),
            Some((1800, 3600))
        );
        assert!(predicted.differences(&predicted, Decimal::ZERO).is_empty());
    }
}
