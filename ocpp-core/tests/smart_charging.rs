//! Hand-worked composite schedules, each run through the SetChargingProfile messages of every
//! version that has the features it uses (decoded strictly, converted by the version's adapter,
//! validated and installed in a `ProfileStore`), with the arithmetic in the comments.

use chrono::{DateTime, TimeZone, Utc};
use ocpp_core::smart_charging::*;
use ocpp_core::types::{decode_payload, DecodeOptions, OcppVersion};

const VERSIONS: [OcppVersion; 3] = [OcppVersion::V16, OcppVersion::V201, OcppVersion::V21];

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn utc(d: u32, h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, d, h, m, 0).unwrap()
}

/// A profile written once and rendered as the SetChargingProfile JSON of each version.
#[derive(Clone)]
struct P {
    evse: u32,
    id: i64,
    stack: i64,
    purpose: Purpose,
    kind: &'static str,
    recurrency: Option<&'static str>,
    start: Option<&'static str>,
    duration: Option<i64>,
    unit: &'static str,
    /// (startPeriod, limit, numberPhases)
    periods: Vec<(i64, &'static str, Option<u8>)>,
    tx: Option<&'static str>,
    valid: (Option<&'static str>, Option<&'static str>),
}

fn p(evse: u32, id: i64, stack: i64, purpose: Purpose, kind: &'static str) -> P {
    P {
        evse,
        id,
        stack,
        purpose,
        kind,
        recurrency: None,
        start: None,
        duration: None,
        unit: "A",
        periods: Vec::new(),
        tx: None,
        valid: (None, None),
    }
}

impl P {
    fn start(mut self, s: &'static str) -> Self {
        self.start = Some(s);
        self
    }
    fn every(mut self, r: &'static str) -> Self {
        self.recurrency = Some(r);
        self
    }
    fn unit(mut self, u: &'static str) -> Self {
        self.unit = u;
        self
    }
    fn period(mut self, start: i64, limit: &'static str) -> Self {
        self.periods.push((start, limit, None));
        self
    }
    fn period_phases(mut self, start: i64, limit: &'static str, n: u8) -> Self {
        self.periods.push((start, limit, Some(n)));
        self
    }
    fn tx(mut self, t: &'static str) -> Self {
        self.tx = Some(t);
        self
    }
    fn valid(mut self, from: Option<&'static str>, to: Option<&'static str>) -> Self {
        self.valid = (from, to);
        self
    }

    fn json(&self, v: OcppVersion) -> String {
        let mut members = Vec::new();
        let v16 = v == OcppVersion::V16;
        members.push(format!(
            "\"{}\":{}",
            if v16 { "chargingProfileId" } else { "id" },
            self.id
        ));
        members.push(format!("\"stackLevel\":{}", self.stack));
        members.push(format!(
            "\"chargingProfilePurpose\":\"{}\"",
            self.purpose.wire_name(v)
        ));
        members.push(format!("\"chargingProfileKind\":\"{}\"", self.kind));
        if let Some(r) = self.recurrency {
            members.push(format!("\"recurrencyKind\":\"{r}\""));
        }
        if let Some(t) = self.tx {
            members.push(if v16 {
                format!("\"transactionId\":{t}")
            } else {
                format!("\"transactionId\":\"{t}\"")
            });
        }
        if let Some(f) = self.valid.0 {
            members.push(format!("\"validFrom\":\"{f}\""));
        }
        if let Some(t) = self.valid.1 {
            members.push(format!("\"validTo\":\"{t}\""));
        }
        let periods: Vec<String> = self
            .periods
            .iter()
            .map(|(s, l, n)| match n {
                Some(n) => format!("{{\"startPeriod\":{s},\"limit\":{l},\"numberPhases\":{n}}}"),
                None => format!("{{\"startPeriod\":{s},\"limit\":{l}}}"),
            })
            .collect();
        let mut schedule = Vec::new();
        if !v16 {
            schedule.push("\"id\":1".to_owned());
        }
        if let Some(s) = self.start {
            schedule.push(format!("\"startSchedule\":\"{s}\""));
        }
        if let Some(d) = self.duration {
            schedule.push(format!("\"duration\":{d}"));
        }
        schedule.push(format!("\"chargingRateUnit\":\"{}\"", self.unit));
        schedule.push(format!(
            "\"chargingSchedulePeriod\":[{}]",
            periods.join(",")
        ));
        let schedule = format!("{{{}}}", schedule.join(","));
        if v16 {
            members.push(format!("\"chargingSchedule\":{schedule}"));
            format!(
                "{{\"connectorId\":{},\"csChargingProfiles\":{{{}}}}}",
                self.evse,
                members.join(",")
            )
        } else {
            members.push(format!("\"chargingSchedule\":[{schedule}]"));
            format!(
                "{{\"evseId\":{},\"chargingProfile\":{{{}}}}}",
                self.evse,
                members.join(",")
            )
        }
    }

    /// Decodes the version's SetChargingProfile request and converts it with its adapter.
    fn installed(&self, v: OcppVersion) -> InstalledProfile {
        let json = self.json(v);
        let strict = &DecodeOptions::STRICT;
        match v {
            OcppVersion::V16 => ocpp16::smart_charging::installed_profile(
                &decode_payload::<ocpp16::SetChargingProfileRequest>(&json, strict).unwrap(),
            ),
            OcppVersion::V201 => ocpp201::smart_charging::installed_profile(
                &decode_payload::<ocpp201::SetChargingProfileRequest>(&json, strict).unwrap(),
            ),
            _ => ocpp21::smart_charging::installed_profile(
                &decode_payload::<ocpp21::SetChargingProfileRequest>(&json, strict).unwrap(),
            ),
        }
        .unwrap_or_else(|e| panic!("{v}: {e}: {json}"))
    }
}

/// Installs the profiles into a store of version `v` (every rule checked) and computes.
fn composite(
    v: OcppVersion,
    profiles: &[P],
    station: &StationState,
    request: &CompositeRequest,
) -> CompositeSchedule {
    let mut store = ProfileStore::new(
        v,
        StationCapabilities {
            discharge: true,
            ..StationCapabilities::default()
        },
    );
    for p in profiles {
        let ip = p.installed(v);
        let origin = match ip.profile.purpose {
            Purpose::ExternalConstraints | Purpose::LocalGeneration => ProfileOrigin::Local,
            _ => ProfileOrigin::Csms,
        };
        let tx = station.transaction(ip.evse_id).map(|t| t.id.as_str());
        let replaced = store
            .install(ip.evse_id, ip.profile, tx, origin)
            .unwrap_or_else(|e| panic!("{v}: profile {}: {e} ({})", p.id, e.rule()));
        assert!(
            replaced.is_empty(),
            "{v}: profile {} replaced another",
            p.id
        );
    }
    store.composite(request, station)
}

fn limits(c: &CompositeSchedule) -> Vec<(i64, Decimal)> {
    c.periods
        .iter()
        .map(|p| (p.start_period, p.limit.expect("limited")))
        .collect()
}

fn expect(pairs: &[(i64, &str)]) -> Vec<(i64, Decimal)> {
    pairs.iter().map(|&(s, l)| (s, dec(l))).collect()
}

/// Stacking (1.6 3.13.2, 2.0.1 K08): the highest stack level per purpose wins, the TxProfile
/// beats the TxDefaultProfile, and the station maximum caps both.
///
/// Installed (all times 2025-01-06, UTC; the window is 07:00 to 15:00):
/// - 1: station max, stack 0: 32 A from 2025-01-01.
/// - 2: station max, stack 1: 8 A valid from 13:00.
/// - 3: TxDefault on EVSE 0, stack 0, Recurring Daily from 2025-01-05 00:00:
///   00:00 16 A, 08:00 10 A, 20:00 16 A.
/// - 4: TxDefault on EVSE 0, stack 1, Absolute 12:00 for 2 h: 6 A.
/// - 5: TxProfile on EVSE 1 for transaction 42 (started 06:30), Relative: 0 s 20 A,
///   3600 s (07:30) 40 A.
#[test]
fn stacking_tx_over_default_capped_by_station_max() {
    let profiles = vec![
        p(0, 1, 0, Purpose::StationMax, "Absolute")
            .start("2025-01-01T00:00:00Z")
            .period(0, "32"),
        p(0, 2, 1, Purpose::StationMax, "Absolute")
            .start("2025-01-01T00:00:00Z")
            .valid(Some("2025-01-06T13:00:00Z"), None)
            .period(0, "8"),
        p(0, 3, 0, Purpose::TxDefault, "Recurring")
            .every("Daily")
            .start("2025-01-05T00:00:00Z")
            .period(0, "16")
            .period(8 * 3600, "10")
            .period(20 * 3600, "16"),
        P {
            duration: Some(7200),
            ..p(0, 4, 1, Purpose::TxDefault, "Absolute")
                .start("2025-01-06T12:00:00Z")
                .period(0, "6")
        },
        p(1, 5, 0, Purpose::Tx, "Relative")
            .tx("42")
            .period(0, "20")
            .period(3600, "40"),
    ];
    let station = StationState::default().with_transaction(1, "42", utc(6, 6, 30));
    let request = |evse_id| CompositeRequest {
        start: utc(6, 7, 0),
        duration: 8 * 3600,
        evse_id,
        unit: RateUnit::A,
    };
    for v in VERSIONS {
        // EVSE 1, the TxProfile (started 06:30) in force throughout:
        //   07:00-07:30 (0 s)      tx 20 A,            cap 32 A -> 20
        //   07:30-13:00 (1800 s)   tx 40 A from 07:30, cap 32 A -> 32
        //   13:00-15:00 (21600 s)  tx 40 A, cap stack 1 = 8 A  -> 8
        let c = composite(v, &profiles, &station, &request(1));
        assert_eq!(
            limits(&c),
            expect(&[(0, "20"), (1800, "32"), (21600, "8")]),
            "{v}"
        );
        // EVSE 2, no transaction: the TxDefault profiles on EVSE 0.
        //   07:00-08:00 (0 s)      daily 00:00 period      16 A
        //   08:00-12:00 (3600 s)   daily 08:00 period      10 A
        //   12:00-14:00 (18000 s)  stack 1 beats stack 0:   6 A (8 A cap from 13:00 is higher)
        //   14:00-15:00 (25200 s)  stack 1 ended: daily 10 A, capped by 8 A -> 8
        let c = composite(v, &profiles, &station, &request(2));
        assert_eq!(
            limits(&c),
            expect(&[(0, "16"), (3600, "10"), (18000, "6"), (25200, "8")]),
            "{v}"
        );
        // EVSE 0: the grid connection, station maxima only: 32 A, 8 A from 13:00 (21600 s).
        let c = composite(v, &profiles, &station, &request(0));
        assert_eq!(limits(&c), expect(&[(0, "32"), (21600, "8")]), "{v}");
    }
}

/// A daily profile that crosses midnight. TxDefault, Recurring Daily from 2025-01-05 22:00:
/// 22:00 11 A, +4 h (02:00) 32 A, +8 h (06:00) 16 A. Window: 2025-01-06 20:00 for 12 h.
#[test]
fn recurring_daily_across_midnight() {
    let profiles = vec![p(0, 1, 0, Purpose::TxDefault, "Recurring")
        .every("Daily")
        .start("2025-01-05T22:00:00Z")
        .period(0, "11")
        .period(4 * 3600, "32")
        .period(8 * 3600, "16")];
    let request = CompositeRequest {
        start: utc(6, 20, 0),
        duration: 12 * 3600,
        evse_id: 1,
        unit: RateUnit::A,
    };
    for v in VERSIONS {
        // 20:00 is 22 h into the occurrence of the 5th (22:00): its 06:00 period, 16 A.
        // 22:00 (7200 s): the occurrence of the 6th starts, 11 A.
        // 02:00 on the 7th (6 h = 21600 s): 32 A.  06:00 (10 h = 36000 s): 16 A until 08:00.
        let c = composite(v, &profiles, &StationState::default(), &request);
        assert_eq!(
            limits(&c),
            expect(&[(0, "16"), (7200, "11"), (21600, "32"), (36000, "16")]),
            "{v}"
        );
    }
}

/// A weekly profile that crosses the week boundary. TxDefault, Recurring Weekly from Sunday
/// 2025-01-05 18:00: 6 A; Monday 06:00 (+43 200 s) 16 A; Friday 18:00 (+5 days = 432 000 s)
/// 32 A. Window: Friday 2025-01-10 12:00 for 4 days.
#[test]
fn recurring_weekly_across_the_week_boundary() {
    let profiles = vec![p(0, 1, 0, Purpose::TxDefault, "Recurring")
        .every("Weekly")
        .start("2025-01-05T18:00:00Z")
        .period(0, "6")
        .period(43_200, "16")
        .period(432_000, "32")];
    let request = CompositeRequest {
        start: utc(10, 12, 0),
        duration: 4 * 86_400,
        evse_id: 1,
        unit: RateUnit::A,
    };
    for v in VERSIONS {
        // Friday 12:00 is 4 d 18 h = 410 400 s into the week: the Monday period, 16 A.
        // Friday 18:00 (+6 h = 21 600 s): 32 A.
        // Sunday 18:00 (+2 d 6 h = 194 400 s): the next week starts, 6 A.
        // Monday 06:00 (+2 d 18 h = 237 600 s): 16 A until Tuesday 12:00.
        let c = composite(v, &profiles, &StationState::default(), &request);
        assert_eq!(
            limits(&c),
            expect(&[(0, "16"), (21_600, "32"), (194_400, "6"), (237_600, "16")]),
            "{v}"
        );
    }
}

/// Relative to the transaction start, with A / W conversion at 230 V.
///
/// Installed: station max 22 000 W (no phases given, so 3); TxProfile for transaction 7,
/// Relative, in A: 0 s 32 A on 3 phases, 900 s 16 A on 1 phase. The transaction started at
/// 10:00; the window is 10:10 to 11:10.
#[test]
fn relative_to_transaction_start_with_unit_conversion() {
    let profiles = vec![
        p(0, 1, 0, Purpose::StationMax, "Absolute")
            .start("2025-01-01T00:00:00Z")
            .unit("W")
            .period(0, "22000"),
        p(1, 2, 0, Purpose::Tx, "Relative")
            .tx("7")
            .period_phases(0, "32", 3)
            .period_phases(900, "16", 1),
    ];
    let station = StationState::default().with_transaction(1, "7", utc(6, 10, 0));
    let request = |unit| CompositeRequest {
        start: utc(6, 10, 10),
        duration: 3600,
        evse_id: 1,
        unit,
    };
    for v in VERSIONS {
        // In A:
        //   10:10-10:15 (0 s): tx 32 A, 3 phases; cap 22 000 / (230 x 3) = 31.884 -> 31.8 A.
        //   10:15-11:10 (300 s, tx 900 s after 10:00): 16 A on 1 phase; the cap on one phase
        //   is 22 000 / 230 = 95.6 A, so 16 A.
        let c = composite(v, &profiles, &station, &request(RateUnit::A));
        assert_eq!(limits(&c), expect(&[(0, "31.8"), (300, "16")]), "{v}");
        assert_eq!(c.periods[0].number_phases, 3);
        assert_eq!(c.periods[1].number_phases, 1);
        // In W:
        //   0 s: 32 A x 230 V x 3 = 22 080 W, cap 22 000 W -> 22 000.
        //   300 s: 16 A x 230 V x 1 = 3 680 W.
        let c = composite(v, &profiles, &station, &request(RateUnit::W));
        assert_eq!(limits(&c), expect(&[(0, "22000"), (300, "3680")]), "{v}");
        // At 120 V: 22 000 / (120 x 3) = 61.1 A and 16 A -> unchanged tx limits (32, 16).
        let us = station.clone().with_voltage(dec("120"));
        let c = composite(v, &profiles, &us, &request(RateUnit::A));
        assert_eq!(limits(&c), expect(&[(0, "32"), (300, "16")]), "{v}");
    }
}

/// 1.6: a TxDefaultProfile on a connector overrides the one on connector 0, whatever the stack
/// levels; a TxProfile of another transaction does not apply.
#[test]
fn connector_default_overrides_station_default() {
    let profiles = vec![
        p(0, 1, 5, Purpose::TxDefault, "Absolute")
            .start("2025-01-01T00:00:00Z")
            .period(0, "16"),
        P {
            duration: Some(3600),
            ..p(2, 2, 0, Purpose::TxDefault, "Absolute")
                .start("2025-01-06T10:00:00Z")
                .period(0, "24")
        },
    ];
    let request = |evse_id| CompositeRequest {
        start: utc(6, 9, 0),
        duration: 3 * 3600,
        evse_id,
        unit: RateUnit::A,
    };
    for v in VERSIONS {
        // Connector 2: 09:00 16 A (station default), 10:00-11:00 24 A (its own), then 16 A.
        let c = composite(v, &profiles, &StationState::default(), &request(2));
        assert_eq!(
            limits(&c),
            expect(&[(0, "16"), (3600, "24"), (7200, "16")]),
            "{v}"
        );
        // Connector 1: the station default throughout.
        let c = composite(v, &profiles, &StationState::default(), &request(1));
        assert_eq!(limits(&c), expect(&[(0, "16")]), "{v}");
    }
}

/// 2.0.1 / 2.1: external constraints cap the transaction like the station maximum.
///
/// Station max 45 A; external constraints on EVSE 0 (set locally), Absolute from 10:00:
/// 50 A, then 20 A from 10:30; TxProfile T1 Relative: 32 A. Window 10:00 to 11:00.
#[test]
fn external_constraints_cap_2x() {
    let profiles = vec![
        p(0, 1, 0, Purpose::StationMax, "Absolute")
            .start("2025-01-01T00:00:00Z")
            .period(0, "45"),
        p(0, 2, 0, Purpose::ExternalConstraints, "Absolute")
            .start("2025-01-06T10:00:00Z")
            .period(0, "50")
            .period(1800, "20"),
        p(1, 3, 0, Purpose::Tx, "Relative").tx("1").period(0, "32"),
    ];
    let station = StationState::default().with_transaction(1, "1", utc(6, 10, 0));
    let request = |evse_id| CompositeRequest {
        start: utc(6, 10, 0),
        duration: 3600,
        evse_id,
        unit: RateUnit::A,
    };
    for v in [OcppVersion::V201, OcppVersion::V21] {
        // EVSE 1: min(45, 50, 32) = 32, then min(45, 20, 32) = 20 from 1800 s.
        let c = composite(v, &profiles, &station, &request(1));
        assert_eq!(limits(&c), expect(&[(0, "32"), (1800, "20")]), "{v}");
        // EVSE 0: min(45, 50) = 45, then 20.
        let c = composite(v, &profiles, &station, &request(0));
        assert_eq!(limits(&c), expect(&[(0, "45"), (1800, "20")]), "{v}");
    }
}

/// 2.1: discharge limits and setpoints, priority charging.
///
/// Station max 45 A; TxProfile V1 Relative: limit 32 A, dischargeLimit -16 A, setpoint -10 A;
/// a PriorityCharging profile on EVSE 1: 40 A. Transaction from 10:00, window 10:00 + 1 h.
#[test]
fn discharge_and_priority_charging_21() {
    let tx = r#"{"evseId":1,"chargingProfile":{"id":3,"stackLevel":0,
        "chargingProfilePurpose":"TxProfile","chargingProfileKind":"Relative","transactionId":"V1",
        "chargingSchedule":[{"id":1,"chargingRateUnit":"A","chargingSchedulePeriod":[
          {"startPeriod":0,"limit":32,"dischargeLimit":-16,"setpoint":-10,
           "operationMode":"CentralSetpoint"}]}]}}"#;
    let tx = ocpp21::smart_charging::installed_profile(
        &decode_payload::<ocpp21::SetChargingProfileRequest>(tx, &DecodeOptions::STRICT).unwrap(),
    )
    .unwrap();
    let others = [
        p(0, 1, 0, Purpose::StationMax, "Absolute")
            .start("2025-01-01T00:00:00Z")
            .period(0, "45"),
        p(1, 4, 0, Purpose::PriorityCharging, "Relative").period(0, "40"),
    ];
    let caps = StationCapabilities {
        discharge: true,
        ..StationCapabilities::default()
    };
    let mut store = ProfileStore::new(OcppVersion::V21, caps);
    store
        .install(1, tx.profile, Some("V1"), ProfileOrigin::Csms)
        .unwrap();
    for o in &others {
        let ip = o.installed(OcppVersion::V21);
        store
            .install(ip.evse_id, ip.profile, Some("V1"), ProfileOrigin::Csms)
            .unwrap();
    }
    let mut station = StationState::default().with_transaction(1, "V1", utc(6, 10, 0));
    let request = |unit| CompositeRequest {
        start: utc(6, 10, 0),
        duration: 3600,
        evse_id: 1,
        unit,
    };
    // min(45, 32) = 32 A; discharge -16 A; setpoint -10 A lies between -16 and 32.
    let c = store.composite(&request(RateUnit::A), &station);
    assert_eq!(c.periods.len(), 1);
    assert_eq!(c.periods[0].limit, Some(dec("32")));
    assert_eq!(c.periods[0].discharge_limit, Some(dec("-16")));
    assert_eq!(c.periods[0].setpoint, Some(dec("-10")));
    // In W: 32 x 230 x 3 = 22 080; -16 x 690 = -11 040; -10 x 690 = -6 900.
    let c = store.composite(&request(RateUnit::W), &station);
    assert_eq!(c.periods[0].limit, Some(dec("22080")));
    assert_eq!(c.periods[0].discharge_limit, Some(dec("-11040")));
    assert_eq!(c.periods[0].setpoint, Some(dec("-6900")));
    // The response carries them.
    let json = ocpp_core::types::Encode::to_json(&ocpp21::smart_charging::composite_response(
        &c,
        dec("22080"),
    ));
    assert!(json.contains(r#""dischargeLimit":-11040"#), "{json}");
    // With priority charging the PriorityCharging profile replaces the TxProfile: min(45, 40).
    station.evses.get_mut(&1).unwrap().priority_charging = true;
    let c = store.composite(&request(RateUnit::A), &station);
    assert_eq!(c.periods[0].limit, Some(dec("40")));
    assert_eq!(c.periods[0].discharge_limit, None);
    assert_eq!(c.periods[0].setpoint, None);
}

/// The install rules through the store: 1.6 replaces a profile with the same purpose and stack
/// level on the same connector; 2.x refuses it; ending the transaction removes its TxProfile.
#[test]
fn install_rules_per_version() {
    let a = p(1, 1, 3, Purpose::TxDefault, "Absolute")
        .start("2025-01-01T00:00:00Z")
        .period(0, "16");
    let b = P { id: 2, ..a.clone() };
    for v in VERSIONS {
        let mut store = ProfileStore::new(v, StationCapabilities::default());
        let ia = a.installed(v);
        store
            .install(1, ia.profile, None, ProfileOrigin::Csms)
            .unwrap();
        let ib = b.installed(v);
        let result = store.install(1, ib.profile, None, ProfileOrigin::Csms);
        if v == OcppVersion::V16 {
            let replaced = result.unwrap();
            assert_eq!(replaced.len(), 1);
            assert_eq!(replaced[0].profile.id, 1);
            assert_eq!(store.profiles().len(), 1);
        } else {
            assert_eq!(result.unwrap_err().rule(), "unique-stack-level", "{v}");
            assert_eq!(store.profiles()[0].profile.id, 1);
        }
        let tx = p(1, 9, 0, Purpose::Tx, "Relative").tx("5").period(0, "10");
        let refused = store.install(1, tx.installed(v).profile, None, ProfileOrigin::Csms);
        assert_eq!(refused.unwrap_err().rule(), "tx-profile-needs-transaction");
        store
            .install(1, tx.installed(v).profile, Some("5"), ProfileOrigin::Csms)
            .unwrap();
        assert_eq!(store.end_transaction(1, "5").len(), 1);
        assert!(store
            .profiles()
            .iter()
            .all(|p| p.profile.purpose != Purpose::Tx));
    }
}

/// A CSMS predicting a station's answer: the 1.6 GetCompositeSchedule request becomes a
/// composite request, the prediction a response, and a station answer that differs is found.
#[test]
fn csms_compares_a_16_answer_with_its_prediction() {
    let profiles = vec![p(0, 1, 0, Purpose::TxDefault, "Absolute")
        .start("2025-01-06T00:00:00Z")
        .period(0, "16")
        .period(3600, "8")];
    let req: ocpp16::GetCompositeScheduleRequest = decode_payload(
        r#"{"connectorId":1,"duration":7200,"chargingRateUnit":"A"}"#,
        &DecodeOptions::STRICT,
    )
    .unwrap();
    let now = utc(6, 0, 30);
    let request = ocpp16::smart_charging::composite_request(&req, now, RateUnit::W).unwrap();
    let predicted = composite(
        OcppVersion::V16,
        &profiles,
        &StationState::default(),
        &request,
    );
    // 00:30 to 01:00 16 A, then 8 A.
    assert_eq!(limits(&predicted), expect(&[(0, "16"), (1800, "8")]));
    let answer: ocpp16::GetCompositeScheduleResponse = decode_payload(
        r#"{"status":"Accepted","connectorId":1,"scheduleStart":"2025-01-06T00:30:00Z",
            "chargingSchedule":{"duration":7200,"chargingRateUnit":"A",
            "chargingSchedulePeriod":[{"startPeriod":0,"limit":16.0},{"startPeriod":1800,"limit":10.0}]}}"#,
        &DecodeOptions::STRICT,
    )
    .unwrap();
    let actual = ocpp16::smart_charging::composite_from_response(&answer, 1, now)
        .unwrap()
        .unwrap();
    let d = predicted.differences(&actual, Decimal::ZERO);
    assert_eq!(d.len(), 1);
    assert_eq!((d[0].from, d[0].to), (1800, 7200));
    assert_eq!(
        (d[0].expected, d[0].actual),
        (Some(dec("8")), Some(dec("10")))
    );
}
