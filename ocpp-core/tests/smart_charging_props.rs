//! Properties of the composite schedule over random profile sets: it equals (and so never
//! exceeds) the limit an independent per-instant evaluation of the stacking rules gives, it never
//! exceeds any applicable limit in mixed units, and it does not depend on the order in which
//! the profiles were installed.

use chrono::{DateTime, Duration, TimeZone, Utc};
use ocpp_core::smart_charging::*;
use proptest::prelude::*;

const WINDOW: u32 = 3 * 86_400;

fn window_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 6, 0, 0, 0).unwrap()
}

#[derive(Debug, Clone)]
struct Spec {
    /// 0 station max, 1 TxDefault on EVSE 0, 2 TxDefault on EVSE 1, 3 TxProfile on EVSE 1,
    /// 4 external constraints on EVSE 0, 5 external constraints on EVSE 1.
    slot: u8,
    /// 0 Absolute, 1 Relative, 2 Daily, 3 Weekly.
    kind: u8,
    start_hours: i64,
    duration: Option<i64>,
    valid_from_hours: Option<i64>,
    valid_hours: Option<i64>,
    watts: bool,
    /// (gap to the previous start in seconds, limit in tenths)
    periods: Vec<(i64, i64)>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0u8..6,
        0u8..4,
        -96i64..72,
        prop::option::of(60i64..200_000),
        prop::option::of(-48i64..72),
        prop::option::of(1i64..48),
        any::<bool>(),
        prop::collection::vec((1i64..30_000, 0i64..640), 1..5),
    )
        .prop_map(
            |(slot, kind, start_hours, duration, valid_from_hours, valid_hours, watts, periods)| {
                Spec {
                    slot,
                    kind,
                    start_hours,
                    duration,
                    valid_from_hours,
                    valid_hours,
                    watts,
                    periods,
                }
            },
        )
}

/// Builds installed profiles; ids and stack levels are the index, so unique.
fn build(specs: &[Spec], allow_watts: bool) -> Vec<InstalledProfile> {
    specs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (evse, purpose) = match s.slot {
                0 => (0, Purpose::StationMax),
                1 => (0, Purpose::TxDefault),
                2 => (1, Purpose::TxDefault),
                3 => (1, Purpose::Tx),
                4 => (0, Purpose::ExternalConstraints),
                _ => (1, Purpose::ExternalConstraints),
            };
            let kind = match s.kind {
                0 => ProfileKind::Absolute,
                1 => ProfileKind::Relative,
                2 => ProfileKind::Recurring(Recurrency::Daily),
                _ => ProfileKind::Recurring(Recurrency::Weekly),
            };
            let watts = allow_watts && s.watts;
            let mut at = 0;
            let periods = s
                .periods
                .iter()
                .enumerate()
                .map(|(j, &(gap, tenths))| {
                    if j > 0 {
                        at += gap;
                    }
                    let limit = Decimal::new(tenths, 1);
                    // W limits are scaled up to the same order of magnitude as A x 690.
                    let limit = if watts {
                        limit * Decimal::from(690)
                    } else {
                        limit
                    };
                    SchedulePeriod::new(at, limit)
                })
                .collect();
            let mut schedule =
                ChargingSchedule::new(if watts { RateUnit::W } else { RateUnit::A }, periods);
            if kind != ProfileKind::Relative {
                schedule.start_schedule = Some(window_start() + Duration::hours(s.start_hours));
            }
            schedule.duration = s.duration;
            let from = s
                .valid_from_hours
                .map(|h| window_start() + Duration::hours(h));
            let to = s
                .valid_hours
                .map(|h| from.unwrap_or(window_start()) + Duration::hours(h));
            let mut p =
                ChargingProfile::new(i as i64, i as i64, purpose, kind, schedule).valid(from, to);
            if purpose == Purpose::Tx {
                p = p.for_transaction("1");
            }
            InstalledProfile::new(evse, p)
        })
        .collect()
}

/// The limit of one profile at absolute second `t`, in its own unit, straight from the
/// definitions (no segments, no sweeps).
fn limit_at(p: &ChargingProfile, t: i64, anchor: i64) -> Option<Decimal> {
    if p.valid_from.is_some_and(|f| t < f.timestamp())
        || p.valid_to.is_some_and(|e| t >= e.timestamp())
    {
        return None;
    }
    let s = &p.schedules[0];
    let start = s.start_schedule.map(|x| x.timestamp());
    let (base, every) = match p.kind {
        ProfileKind::Relative => (anchor, None),
        ProfileKind::Recurring(r) => {
            let every = r.period_seconds();
            let first = start.unwrap_or(anchor);
            if t < first {
                return None;
            }
            (first + (t - first) / every * every, Some(every))
        }
        _ => (start.unwrap_or(anchor), None),
    };
    let offset = t - base;
    if offset < 0 {
        return None;
    }
    let length = match (s.duration, every) {
        (Some(d), Some(e)) => Some(d.min(e)),
        (d, e) => d.or(e),
    };
    if length.is_some_and(|l| offset >= l) {
        return None;
    }
    s.periods
        .iter()
        .rev()
        .find(|q| q.start_period <= offset)?
        .limit
}

/// The winners at `t` for EVSE 1: (unit, limit) of every applicable profile.
fn applicable(profiles: &[InstalledProfile], t: i64, anchor: i64) -> Vec<(RateUnit, Decimal)> {
    let best = |evse: u32, purpose: Purpose| {
        profiles
            .iter()
            .filter(|ip| ip.evse_id == evse && ip.profile.purpose == purpose)
            .filter_map(|ip| {
                limit_at(&ip.profile, t, anchor)
                    .map(|l| (ip.profile.stack_level, ip.profile.schedules[0].rate_unit, l))
            })
            .max_by_key(|&(stack, _, _)| stack)
            .map(|(_, u, l)| (u, l))
    };
    let tx = best(1, Purpose::Tx)
        .or_else(|| best(1, Purpose::TxDefault))
        .or_else(|| best(0, Purpose::TxDefault));
    [
        best(0, Purpose::StationMax),
        best(0, Purpose::ExternalConstraints),
        best(1, Purpose::ExternalConstraints),
        tx,
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn setup(tx_hours_before: i64) -> (StationState, i64) {
    let started = window_start() - Duration::minutes(tx_hours_before * 60 + 17);
    (
        StationState::default().with_transaction(1, "1", started),
        started.timestamp(),
    )
}

fn request(unit: RateUnit) -> CompositeRequest {
    CompositeRequest {
        start: window_start(),
        duration: WINDOW,
        evse_id: 1,
        unit,
    }
}

fn sample_offsets(c: &CompositeSchedule, random: &[u32]) -> Vec<i64> {
    let mut out: Vec<i64> = random.iter().map(|&r| i64::from(r % WINDOW)).collect();
    for p in &c.periods {
        out.push(p.start_period);
        if p.start_period > 0 {
            out.push(p.start_period - 1);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// In A, the composite at every sampled second is exactly the lowest applicable limit, so
    /// it never exceeds any of them.
    #[test]
    fn composite_is_the_lowest_applicable_limit(
        specs in prop::collection::vec(spec(), 0..12),
        tx_hours_before in 0i64..30,
        random in prop::collection::vec(any::<u32>(), 64),
    ) {
        let profiles = build(&specs, false);
        let (station, anchor) = setup(tx_hours_before);
        let c = composite_schedule(&profiles, &request(RateUnit::A), &station);
        prop_assert_eq!(c.periods.first().map(|p| p.start_period), Some(0));
        for w in c.periods.windows(2) {
            prop_assert!(w[0].start_period < w[1].start_period);
            prop_assert!(w[0] != CompositePeriod { start_period: w[0].start_period, ..w[1].clone() },
                "adjacent equal periods not merged");
        }
        let t0 = window_start().timestamp();
        for off in sample_offsets(&c, &random) {
            let limits = applicable(&profiles, t0 + off, anchor);
            let got = c.limit_at(off);
            for &(_, l) in &limits {
                prop_assert!(got.is_some_and(|g| g <= l), "at {off}: {got:?} exceeds {l}");
            }
            let expected = limits.iter().map(|&(_, l)| l).min();
            prop_assert_eq!(got, expected, "at {}", off);
        }
    }

    /// In mixed units (3 phases, 230 V), the composite never exceeds any applicable limit
    /// converted exactly, and is within the rounding step (0.1) of the lowest.
    #[test]
    fn composite_never_exceeds_any_limit_in_mixed_units(
        specs in prop::collection::vec(spec(), 0..12),
        tx_hours_before in 0i64..30,
        watts_out in any::<bool>(),
        random in prop::collection::vec(any::<u32>(), 64),
    ) {
        let profiles = build(&specs, true);
        let (station, anchor) = setup(tx_hours_before);
        let unit = if watts_out { RateUnit::W } else { RateUnit::A };
        let c = composite_schedule(&profiles, &request(unit), &station);
        let factor = Decimal::from(690);
        let exact = |u: RateUnit, l: Decimal| match (u, unit) {
            (RateUnit::A, RateUnit::W) => l * factor,
            (RateUnit::W, RateUnit::A) => l / factor,
            _ => l,
        };
        let t0 = window_start().timestamp();
        for off in sample_offsets(&c, &random) {
            let limits: Vec<Decimal> = applicable(&profiles, t0 + off, anchor)
                .into_iter()
                .map(|(u, l)| exact(u, l))
                .collect();
            let got = c.limit_at(off);
            for &l in &limits {
                prop_assert!(got.is_some_and(|g| g <= l), "at {off}: {got:?} exceeds {l}");
            }
            if let (Some(g), Some(m)) = (got, limits.iter().min()) {
                prop_assert!(*m - g < Decimal::new(1, 1), "at {off}: {g} too far below {m}");
            } else {
                prop_assert_eq!(got.is_none(), limits.is_empty());
            }
        }
    }

    /// Installing the same profiles in another order gives the same composite.
    #[test]
    fn composite_does_not_depend_on_installation_order(
        (specs, shuffled) in prop::collection::vec(spec(), 0..12).prop_flat_map(|v| {
            let n = v.len();
            (Just(v), Just((0..n).collect::<Vec<_>>()).prop_shuffle())
        }),
        watts_out in any::<bool>(),
        tx_hours_before in 0i64..30,
    ) {
        let profiles = build(&specs, true);
        let reordered: Vec<InstalledProfile> =
            shuffled.iter().map(|&i| profiles[i].clone()).collect();
        let (station, _) = setup(tx_hours_before);
        let unit = if watts_out { RateUnit::W } else { RateUnit::A };
        prop_assert_eq!(
            composite_schedule(&profiles, &request(unit), &station),
            composite_schedule(&reordered, &request(unit), &station)
        );
        // The same through a store, for EVSE 0 as well.
        let station_request = CompositeRequest { evse_id: 0, ..request(unit) };
        prop_assert_eq!(
            composite_schedule(&profiles, &station_request, &station),
            composite_schedule(&reordered, &station_request, &station)
        );
    }
}
