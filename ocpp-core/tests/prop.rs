//! Whatever the engine is fed, it never has more than one outstanding CALL per direction and
//! never panics.

use std::time::{Duration, Instant};

use ocpp_core::testing::{Mini16, Mini201, Mini21, MiniAction, MiniMessage};
use ocpp_core::types::{ErrorCode, Frame, OcppVersion, Protocol};
use ocpp_core::{CallError, CallId, Config, Engine, Event, MemoryQueue, StationConfig};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Text(String),
    Call(usize),
    Respond(Option<String>, u8),
    Advance(u64),
    Disconnect,
    Connect,
}

const IDS: &[&str] = &["1", "2", "3", "4", "5", "6", "2-1", "a", "b", "-1"];
const ACTIONS: &[&str] = &[
    "BootNotification",
    "Heartbeat",
    "StatusNotification",
    "StartTransaction",
    "MeterValues",
    "TransactionEvent",
    "Reset",
    "DataTransfer",
    "NotifyPeriodicEventStream",
    "Unknown",
];
const PAYLOADS: &[&str] = &[
    "{}",
    r#"{"status":"Accepted","interval":5,"currentTime":"t"}"#,
    r#"{"status":"Pending","interval":3,"currentTime":"t"}"#,
    r#"{"status":"Rejected","interval":0,"currentTime":"t"}"#,
    r#"{"currentTime":"t"}"#,
    r#"{"type":"Soft"}"#,
    r#"{"vendorId":"v"}"#,
    r#"{"status":"Accepted"}"#,
    r#"{"connectorId":1,"status":"Available"}"#,
    r#"{"id":1,"pending":0}"#,
    r#"{"x":"#,
    "[]",
    "7",
    // Valid on the generated protocols (a boot the CSMS accepts, an answer the station takes).
    BOOT_16,
    BOOT_2X,
    r#"{"status":"Accepted","interval":5,"currentTime":"2025-01-01T00:00:00Z"}"#,
];

fn text() -> impl Strategy<Value = String> {
    let id = proptest::sample::select(IDS);
    let action = proptest::sample::select(ACTIONS);
    let payload = proptest::sample::select(PAYLOADS);
    prop_oneof![
        (id.clone(), action.clone(), payload.clone())
            .prop_map(|(i, a, p)| format!(r#"[2,"{i}","{a}",{p}]"#)),
        (id.clone(), payload.clone()).prop_map(|(i, p)| format!(r#"[3,"{i}",{p}]"#)),
        id.clone()
            .prop_map(|i| format!(r#"[4,"{i}","InternalError","x",{{}}]"#)),
        id.clone()
            .prop_map(|i| format!(r#"[5,"{i}","FormatViolation","x",{{}}]"#)),
        (id, action, payload).prop_map(|(i, a, p)| format!(r#"[6,"{i}","{a}",{p}]"#)),
        "\\PC{0,24}",
        "\\[[0-9],\"[0-9\\[\\],\"{}a-z]{0,12}",
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => text().prop_map(Op::Text),
        3 => (0usize..8).prop_map(Op::Call),
        3 => (proptest::option::of(proptest::sample::select(IDS).prop_map(str::to_owned)), 0u8..4)
            .prop_map(|(i, k)| Op::Respond(i, k)),
        3 => (0u64..45).prop_map(Op::Advance),
        1 => Just(Op::Disconnect),
        1 => Just(Op::Connect),
    ]
}

fn request<P: Protocol>(k: usize) -> MiniMessage {
    use MiniAction::*;
    let tx = if P::VERSION == OcppVersion::V16 {
        MiniMessage::new(StartTransaction)
            .i("connectorId", 1)
            .s("idTag", "t")
            .i("meterStart", 0)
    } else {
        MiniMessage::new(TransactionEvent)
            .s("eventType", "Started")
            .i("seqNo", 0)
            .s("transactionId", "t")
    };
    match k {
        0 => MiniMessage::new(StatusNotification)
            .i("connectorId", 1)
            .s("status", "Available"),
        1 => tx,
        2 => MiniMessage::new(Reset).s("type", "Soft"),
        3 => MiniMessage::new(DataTransfer).s("vendorId", "v"),
        4 => MiniMessage::new(Heartbeat),
        5 => MiniMessage::new(MeterValues)
            .i("connectorId", 1)
            .i("value", 1)
            .i("transactionId", 3),
        6 => MiniMessage::new(Reset).s("type", "Bogus"),
        _ => MiniMessage::boot(),
    }
}

fn response(action: MiniAction, k: u8) -> Result<MiniMessage, CallError> {
    match k {
        0 => Err(CallError::new(ErrorCode::InternalError, "x")),
        1 => Ok(MiniMessage::new(action).s("bogus", "x")),
        2 => Ok(MiniMessage::new(MiniAction::Heartbeat).s("currentTime", "t")),
        _ => Ok(match action {
            MiniAction::BootNotification => MiniMessage::boot_response("Accepted", 5),
            MiniAction::Reset | MiniAction::DataTransfer => {
                MiniMessage::new(action).s("status", "Accepted")
            }
            MiniAction::Heartbeat => MiniMessage::new(action).s("currentTime", "t"),
            _ => MiniMessage::new(action),
        }),
    }
}

/// Runs the ops and checks the invariants after each.
fn run<P: Protocol<Action = MiniAction, AnyRequest = MiniMessage, AnyResponse = MiniMessage>>(
    station: bool,
    ops: &[Op],
) -> Result<(), TestCaseError> {
    let t0 = Instant::now();
    let mut now = t0;
    let mut e: Engine<P, MemoryQueue> = if station {
        Engine::station(
            now,
            Config::default(),
            StationConfig::new(MiniMessage::boot()),
            MemoryQueue::new(),
        )
        .unwrap()
    } else {
        Engine::csms(Config::default())
    };
    let mut open_out: Option<CallId> = e.outstanding_call().map(|(id, _)| id);
    let mut open_in: Option<(String, MiniAction)> = None;
    if station {
        prop_assert_eq!(
            e.poll_transmit().and_then(|f| ocpp_core_call_action(&f)),
            Some("BootNotification".to_owned())
        );
    }
    for op in ops {
        match op {
            Op::Text(t) => e.handle_text(now, t),
            Op::Call(k) => {
                let _ = e.call_any(now, request::<P>(*k));
            }
            Op::Respond(id, k) => {
                let target = id
                    .clone()
                    .or_else(|| open_in.as_ref().map(|(i, _)| i.clone()));
                if let Some(id) = target {
                    let action = open_in.as_ref().map_or(MiniAction::Heartbeat, |(_, a)| *a);
                    let r = e.respond(&id, response(action, *k));
                    if open_in.as_ref().is_some_and(|(i, _)| *i == id) {
                        prop_assert!(!matches!(r, Err(ocpp_core::RespondError::UnknownId(_))));
                        open_in = None;
                    } else {
                        prop_assert!(matches!(r, Err(ocpp_core::RespondError::UnknownId(_))));
                    }
                }
            }
            Op::Advance(s) => {
                now += Duration::from_secs(*s);
                e.handle_timeout(now);
            }
            Op::Disconnect => {
                e.handle_disconnect(now);
                open_out = None;
                open_in = None;
            }
            Op::Connect => e.handle_connect(now),
        }
        // Events first: an answer or a timeout ends the outstanding call before the next one goes.
        while let Some(ev) = e.poll_event() {
            match ev {
                Event::Call { id, action, .. } => {
                    prop_assert!(
                        open_in.is_none(),
                        "second incoming CALL {id} delivered while {open_in:?} is unanswered"
                    );
                    open_in = Some((id, action));
                }
                Event::Response { id, .. }
                | Event::CallFailed { id, .. }
                | Event::TransactionMessageRetry { id, .. }
                    if open_out == Some(id) =>
                {
                    open_out = None;
                }
                _ => {}
            }
        }
        while let Some(frame) = e.poll_transmit() {
            let parsed = Frame::parse(&frame, P::VERSION);
            prop_assert!(parsed.is_ok(), "engine wrote an unreadable frame: {frame}");
            if let Ok(Frame::Call { id, .. }) = parsed {
                prop_assert!(
                    open_out.is_none(),
                    "CALL {id} sent while {open_out:?} is outstanding"
                );
                let base: u64 = id.split('-').next().unwrap().parse().unwrap();
                open_out = Some(CallId(base));
            }
        }
        prop_assert_eq!(open_out, e.outstanding_call().map(|(id, _)| id));
        if matches!(op, Op::Advance(_)) {
            // Right after handle_timeout(now), no timer may be due: a driver would spin.
            prop_assert!(
                e.poll_timeout().is_none_or(|t| t > now),
                "timer due at {:?} after handling it",
                e.poll_timeout().map(|t| t - t0)
            );
        }
        prop_assert_eq!(open_out, e.outstanding_call().map(|(id, _)| id));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn station_v16(ops in proptest::collection::vec(op(), 0..80)) { run::<Mini16>(true, &ops)?; }
    #[test]
    fn station_v201(ops in proptest::collection::vec(op(), 0..80)) { run::<Mini201>(true, &ops)?; }
    #[test]
    fn station_v21(ops in proptest::collection::vec(op(), 0..80)) { run::<Mini21>(true, &ops)?; }
    #[test]
    fn csms_v16(ops in proptest::collection::vec(op(), 0..80)) { run::<Mini16>(false, &ops)?; }
    #[test]
    fn csms_v201(ops in proptest::collection::vec(op(), 0..80)) { run::<Mini201>(false, &ops)?; }
    #[test]
    fn csms_v21(ops in proptest::collection::vec(op(), 0..80)) { run::<Mini21>(false, &ops)?; }
}

fn ocpp_core_call_action(frame: &str) -> Option<String> {
    match Frame::parse(frame, OcppVersion::V21).ok()? {
        Frame::Call { action, .. } => Some(action.into_owned()),
        _ => None,
    }
}

// The same properties on the generated 1.6, 2.0.1 and 2.1 protocols (the real dispatch tables
// and schemas instead of the mini protocols): whatever frames, typed calls, answers, time,
// disconnects and connects it is fed, the engine never sends a CALL while one of its CALLs is
// outstanding, delivers one incoming CALL at a time, and writes only readable frames.

const BOOT_16: &str = r#"{"chargePointVendor":"V","chargePointModel":"M"}"#;
const BOOT_2X: &str = r#"{"chargingStation":{"model":"M","vendorName":"V"},"reason":"PowerUp"}"#;

/// A request of `P` decoded from JSON, or `None` when the version has no such message.
fn real_request<P: Protocol>(action: &str, payload: &str) -> Option<P::AnyRequest> {
    let a = P::action_from_name(action)?;
    P::decode_request(a, payload, &ocpp_core::types::DecodeOptions::STRICT)
        .ok()
        .map(|(r, _)| r)
}

/// The `k`th call the role may make (a few valid ones of both roles, so that the wrong role's
/// calls are refused locally too).
fn real_call<P: Protocol>(k: usize) -> Option<P::AnyRequest> {
    let v16 = P::VERSION == OcppVersion::V16;
    let (action, payload) = match k {
        0 => ("Heartbeat", "{}"),
        1 => ("DataTransfer", r#"{"vendorId":"v"}"#),
        2 if v16 => (
            "StatusNotification",
            r#"{"connectorId":1,"errorCode":"NoError","status":"Available"}"#,
        ),
        2 => (
            "StatusNotification",
            r#"{"timestamp":"2025-01-01T00:00:00Z","connectorStatus":"Available","evseId":1,"connectorId":1}"#,
        ),
        3 => ("ClearCache", "{}"),
        4 => ("GetLocalListVersion", "{}"),
        5 if v16 => ("BootNotification", BOOT_16),
        5 => ("BootNotification", BOOT_2X),
        6 => ("Heartbeat", r#"{"bogus":1}"#),
        _ => ("DataTransfer", "{}"),
    };
    real_request::<P>(action, payload)
}

/// An answer to an incoming CALL of `action`: a CALLERROR, or the first of a few payloads
/// that is a valid response of that action, or a response of another action.
fn real_answer<P: Protocol>(action: P::Action, k: u8) -> Result<P::AnyResponse, CallError> {
    let opts = ocpp_core::types::DecodeOptions::STRICT;
    let candidates = [
        r#"{"status":"Accepted"}"#,
        r#"{"currentTime":"2025-01-01T00:00:00Z"}"#,
        r#"{"status":"Accepted","currentTime":"2025-01-01T00:00:00Z","interval":5}"#,
        r#"{"listVersion":1}"#,
        r#"{"versionNumber":1}"#,
        "{}",
    ];
    let of = |a: P::Action| {
        candidates
            .iter()
            .find_map(|p| P::decode_response(a, p, &opts).ok().map(|(r, _)| r))
    };
    let other = P::action_from_name("Heartbeat").expect("every version has Heartbeat");
    match k {
        0 => Err(CallError::new(ErrorCode::InternalError, "x")),
        1 => of(other).ok_or_else(|| CallError::new(ErrorCode::InternalError, "none")),
        _ => of(action).ok_or_else(|| CallError::new(ErrorCode::NotSupported, "no answer")),
    }
}

fn run_real<P: Protocol>(station: bool, ops: &[Op]) -> Result<(), TestCaseError> {
    let t0 = Instant::now();
    let mut now = t0;
    let boot = real_call::<P>(5).expect("a valid BootNotification");
    let mut e: Engine<P, MemoryQueue> = if station {
        Engine::station(
            now,
            Config::default(),
            StationConfig::new(boot),
            MemoryQueue::new(),
        )
        .unwrap()
    } else {
        Engine::csms(Config::default())
    };
    let mut open_out: Option<CallId> = e.outstanding_call().map(|(id, _)| id);
    let mut open_in: Option<(String, P::Action)> = None;
    if station {
        // The station's BootNotification is the outstanding CALL from the start.
        prop_assert_eq!(
            e.poll_transmit().and_then(|f| ocpp_core_call_action(&f)),
            Some("BootNotification".to_owned())
        );
    }
    for op in ops {
        match op {
            Op::Text(t) => e.handle_text(now, t),
            Op::Call(k) => {
                if let Some(r) = real_call::<P>(*k) {
                    let _ = e.call_any(now, r);
                }
            }
            Op::Respond(id, k) => {
                let target = id
                    .clone()
                    .or_else(|| open_in.as_ref().map(|(i, _)| i.clone()));
                if let Some(id) = target {
                    let action = open_in.as_ref().map(|(_, a)| *a);
                    let action =
                        action.unwrap_or_else(|| P::action_from_name("Heartbeat").unwrap());
                    let r = e.respond(&id, real_answer::<P>(action, *k));
                    if open_in.as_ref().is_some_and(|(i, _)| *i == id) {
                        prop_assert!(!matches!(r, Err(ocpp_core::RespondError::UnknownId(_))));
                        open_in = None;
                    } else {
                        prop_assert!(matches!(r, Err(ocpp_core::RespondError::UnknownId(_))));
                    }
                }
            }
            Op::Advance(s) => {
                now += Duration::from_secs(*s);
                e.handle_timeout(now);
            }
            Op::Disconnect => {
                e.handle_disconnect(now);
                open_out = None;
                open_in = None;
            }
            Op::Connect => e.handle_connect(now),
        }
        while let Some(ev) = e.poll_event() {
            match ev {
                Event::Call { id, action, .. } => {
                    prop_assert!(
                        open_in.is_none(),
                        "second incoming CALL {id} delivered while {:?} is unanswered",
                        open_in.as_ref().map(|(i, _)| i)
                    );
                    open_in = Some((id, action));
                }
                Event::Response { id, .. }
                | Event::CallFailed { id, .. }
                | Event::TransactionMessageRetry { id, .. }
                    if open_out == Some(id) =>
                {
                    open_out = None;
                }
                _ => {}
            }
        }
        while let Some(frame) = e.poll_transmit() {
            let parsed = Frame::parse(&frame, P::VERSION);
            prop_assert!(parsed.is_ok(), "engine wrote an unreadable frame: {frame}");
            if let Ok(Frame::Call { id, .. }) = parsed {
                prop_assert!(
                    open_out.is_none(),
                    "CALL {id} sent while {open_out:?} is outstanding"
                );
                let base: u64 = id.split('-').next().unwrap().parse().unwrap();
                open_out = Some(CallId(base));
            }
        }
        prop_assert_eq!(open_out, e.outstanding_call().map(|(id, _)| id));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn real_station_v16(ops in proptest::collection::vec(op(), 0..80)) { run_real::<ocpp16::Ocpp16>(true, &ops)?; }
    #[test]
    fn real_station_v201(ops in proptest::collection::vec(op(), 0..80)) { run_real::<ocpp201::Ocpp201>(true, &ops)?; }
    #[test]
    fn real_station_v21(ops in proptest::collection::vec(op(), 0..80)) { run_real::<ocpp21::Ocpp21>(true, &ops)?; }
    #[test]
    fn real_csms_v16(ops in proptest::collection::vec(op(), 0..80)) { run_real::<ocpp16::Ocpp16>(false, &ops)?; }
    #[test]
    fn real_csms_v201(ops in proptest::collection::vec(op(), 0..80)) { run_real::<ocpp201::Ocpp201>(false, &ops)?; }
    #[test]
    fn real_csms_v21(ops in proptest::collection::vec(op(), 0..80)) { run_real::<ocpp21::Ocpp21>(false, &ops)?; }
}
