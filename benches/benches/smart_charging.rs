//! Composite schedules for a station with 20 installed profiles (station maxima, external
//! constraints, daily and weekly recurring defaults, per-EVSE defaults and transaction profiles
//! in A and W), for one EVSE over 24 hours, next to a baseline in the same run: the same request
//! over a single profile.

use chrono::{Duration, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ocpp_core::smart_charging::*;
use std::hint::black_box;

fn schedule(unit: RateUnit, periods: &[(i64, i64)]) -> ChargingSchedule {
    ChargingSchedule::new(
        unit,
        periods
            .iter()
            .map(|&(s, l)| SchedulePeriod::new(s, Decimal::from(l)))
            .collect(),
    )
}

fn station() -> (Vec<InstalledProfile>, StationState) {
    let t0 = Utc.with_ymd_and_hms(2025, 1, 6, 0, 0, 0).unwrap();
    let mut profiles = Vec::new();
    let mut id = 0;
    let mut add = |evse: u32, stack: i64, purpose, kind, s: ChargingSchedule, tx: Option<&str>| {
        id += 1;
        let mut p = ChargingProfile::new(id, stack, purpose, kind, s);
        p.transaction_id = tx.map(str::to_owned);
        profiles.push(InstalledProfile::new(evse, p));
    };
    // 3 station maxima (one per time of use), 2 external constraints.
    for (stack, limit) in [(0, 63), (1, 50), (2, 40)] {
        add(
            0,
            stack,
            Purpose::StationMax,
            ProfileKind::Recurring(Recurrency::Daily),
            schedule(
                RateUnit::A,
                &[(0, limit), (6 * 3600, limit + 10), (18 * 3600, limit)],
            )
            .starting(t0 + Duration::hours(stack)),
            None,
        );
    }
    add(
        0,
        0,
        Purpose::ExternalConstraints,
        ProfileKind::Absolute,
        schedule(RateUnit::W, &[(0, 40_000), (3600, 35_000), (7200, 43_000)]).starting(t0),
        None,
    );
    add(
        1,
        0,
        Purpose::ExternalConstraints,
        ProfileKind::Recurring(Recurrency::Weekly),
        schedule(RateUnit::A, &[(0, 32), (86_400, 28), (4 * 86_400, 32)]).starting(t0),
        None,
    );
    // 5 station-wide defaults, daily and weekly, 6 periods each.
    for stack in 0..5 {
        let kind = if stack % 2 == 0 {
            ProfileKind::Recurring(Recurrency::Daily)
        } else {
            ProfileKind::Recurring(Recurrency::Weekly)
        };
        let periods: Vec<(i64, i64)> = (0..6)
            .map(|i| (i * 4 * 3600 + stack * 600, 6 + (i + stack) % 26))
            .collect();
        add(
            0,
            stack,
            Purpose::TxDefault,
            kind,
            schedule(RateUnit::A, &periods)
                .starting(t0 - Duration::days(3))
                .lasting(20 * 3600),
            None,
        );
    }
    // 6 EVSE defaults on EVSEs 1 to 3, 4 transaction profiles on EVSEs 1 and 2.
    for evse in 1..=3u32 {
        for stack in 0..2 {
            add(
                evse,
                stack,
                Purpose::TxDefault,
                ProfileKind::Absolute,
                schedule(RateUnit::W, &[(0, 7_400), (5400, 11_000), (9000, 22_000)])
                    .starting(t0 + Duration::hours(i64::from(evse) + stack * 5)),
                None,
            );
        }
    }
    for (evse, stack, unit) in [
        (1, 0, RateUnit::A),
        (1, 1, RateUnit::W),
        (2, 0, RateUnit::A),
        (2, 1, RateUnit::W),
    ] {
        let periods: Vec<(i64, i64)> = (0..8)
            .map(|i| {
                (
                    i * 1800,
                    if unit == RateUnit::A {
                        10 + i
                    } else {
                        4_000 + 500 * i
                    },
                )
            })
            .collect();
        add(
            evse,
            stack,
            Purpose::Tx,
            ProfileKind::Relative,
            schedule(unit, &periods),
            Some(if evse == 1 { "tx-1" } else { "tx-2" }),
        );
    }
    assert_eq!(profiles.len(), 20);
    let state = StationState::default()
        .with_transaction(1, "tx-1", t0 + Duration::hours(7))
        .with_transaction(2, "tx-2", t0 + Duration::hours(9));
    (profiles, state)
}

fn bench(c: &mut Criterion) {
    let (profiles, state) = station();
    let request = CompositeRequest {
        start: Utc.with_ymd_and_hms(2025, 1, 6, 6, 0, 0).unwrap(),
        duration: 86_400,
        evse_id: 1,
        unit: RateUnit::W,
    };
    let full = composite_schedule(&profiles, &request, &state);
    assert!(full.periods.len() >= 5, "{} periods", full.periods.len());
    let mut g = c.benchmark_group("composite_schedule");
    g.throughput(Throughput::Elements(1));
    g.bench_function("20 profiles, EVSE 1, 24 h, W", |b| {
        b.iter(|| composite_schedule(black_box(&profiles), black_box(&request), &state))
    });
    g.bench_function("20 profiles, station (EVSE 0), 24 h, A", |b| {
        let r = CompositeRequest {
            evse_id: 0,
            unit: RateUnit::A,
            ..request.clone()
        };
        b.iter(|| composite_schedule(black_box(&profiles), black_box(&r), &state))
    });
    g.bench_function("baseline: 1 profile, EVSE 1, 24 h, W", |b| {
        let one = &profiles[..1];
        b.iter(|| composite_schedule(black_box(one), black_box(&request), &state))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
