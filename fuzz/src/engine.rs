//! Two engines of one version, a CSMS and a station, wired through in-memory pipes and driven by
//! arbitrary operations: deliver, drop or inject frames, typed calls, answers, time, disconnects.
//!
//! Checked after every operation, for each engine: no panic; every transmitted text parses as a
//! frame of the version; a CALL is never transmitted while a CALL of the same engine is
//! outstanding (one outstanding CALL per direction), where a CALL stops being outstanding when
//! the engine reports its answer, its failure or its retry, or on disconnect; the engine's own
//! `outstanding_call()` agrees; at most one incoming CALL is delivered before it is answered;
//! right after `handle_timeout(now)` no timer is due at or before `now`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use ocpp_core::types::{DecodeOptions, ErrorCode, Frame, OcppVersion, Protocol};
use ocpp_core::{CallError, CallId, Config, Engine, Event, MemoryQueue, StationConfig};

/// One step of a fuzzed session.
#[derive(Debug, Arbitrary)]
pub enum Op {
    /// Deliver the oldest frame in flight to the station (`true`) or the CSMS.
    Deliver(bool),
    /// Drop the oldest frame in flight to that side.
    Drop(bool),
    /// Hand arbitrary text to that side.
    Text(bool, String),
    /// Hand a well-formed frame built from small tables to that side.
    Frame(bool, u8, u8, u8, u8),
    /// A typed CALL from the table, queued on that side.
    Call(bool, u8),
    /// Answer that side's pending incoming CALL (or a made-up id) with a response from the table.
    Respond(bool, u8, Option<u8>),
    /// Let seconds pass (both engines get `handle_timeout`).
    Advance(u8),
    /// Both sides disconnect; frames in flight are lost.
    Disconnect,
    /// Both sides connect again.
    Connect,
    /// Switch that side to lenient decoding.
    Lenient(bool),
}

const TIME: &str = "2025-01-01T00:00:00Z";

/// `(action, request, response)` rows known to decode on `v`.
fn table(v: OcppVersion) -> Vec<(&'static str, String, String)> {
    let t = TIME;
    if v == OcppVersion::V16 {
        vec![
            (
                "BootNotification",
                r#"{"chargePointVendor":"ACME","chargePointModel":"W1"}"#.into(),
                format!(r#"{{"status":"Accepted","currentTime":"{t}","interval":60}}"#),
            ),
            (
                "BootNotification",
                r#"{"chargePointVendor":"ACME","chargePointModel":"W2"}"#.into(),
                format!(r#"{{"status":"Pending","currentTime":"{t}","interval":5}}"#),
            ),
            (
                "Heartbeat",
                "{}".into(),
                format!(r#"{{"currentTime":"{t}"}}"#),
            ),
            (
                "StatusNotification",
                r#"{"connectorId":1,"errorCode":"NoError","status":"Available"}"#.into(),
                "{}".into(),
            ),
            (
                "StartTransaction",
                format!(r#"{{"connectorId":1,"idTag":"ABC","meterStart":0,"timestamp":"{t}"}}"#),
                r#"{"idTagInfo":{"status":"Accepted"},"transactionId":1}"#.into(),
            ),
            (
                "StopTransaction",
                format!(r#"{{"meterStop":10,"timestamp":"{t}","transactionId":1}}"#),
                "{}".into(),
            ),
            (
                "Reset",
                r#"{"type":"Soft"}"#.into(),
                r#"{"status":"Accepted"}"#.into(),
            ),
            (
                "DataTransfer",
                r#"{"vendorId":"v"}"#.into(),
                r#"{"status":"Accepted"}"#.into(),
            ),
            (
                "ChangeAvailability",
                r#"{"connectorId":0,"type":"Inoperative"}"#.into(),
                r#"{"status":"Scheduled"}"#.into(),
            ),
        ]
    } else {
        vec![
            (
                "BootNotification",
                r#"{"chargingStation":{"model":"W1","vendorName":"ACME"},"reason":"PowerUp"}"#
                    .into(),
                format!(r#"{{"currentTime":"{t}","interval":60,"status":"Accepted"}}"#),
            ),
            (
                "BootNotification",
                r#"{"chargingStation":{"model":"W2","vendorName":"ACME"},"reason":"PowerUp"}"#
                    .into(),
                format!(r#"{{"currentTime":"{t}","interval":5,"status":"Pending"}}"#),
            ),
            (
                "Heartbeat",
                "{}".into(),
                format!(r#"{{"currentTime":"{t}"}}"#),
            ),
            (
                "StatusNotification",
                format!(
                    r#"{{"timestamp":"{t}","connectorStatus":"Available","evseId":1,"connectorId":1}}"#
                ),
                "{}".into(),
            ),
            (
                "TransactionEvent",
                format!(
                    r#"{{"eventType":"Started","timestamp":"{t}","triggerReason":"Authorized","seqNo":0,"transactionInfo":{{"transactionId":"tx1"}}}}"#
                ),
                "{}".into(),
            ),
            (
                "TransactionEvent",
                format!(
                    r#"{{"eventType":"Ended","timestamp":"{t}","triggerReason":"StopAuthorized","seqNo":1,"transactionInfo":{{"transactionId":"tx1"}}}}"#
                ),
                "{}".into(),
            ),
            (
                "Reset",
                r#"{"type":"Immediate"}"#.into(),
                r#"{"status":"Accepted"}"#.into(),
            ),
            (
                "DataTransfer",
                r#"{"vendorId":"v"}"#.into(),
                r#"{"status":"Accepted"}"#.into(),
            ),
            (
                "ChangeAvailability",
                r#"{"operationalStatus":"Inoperative"}"#.into(),
                r#"{"status":"Scheduled"}"#.into(),
            ),
        ]
    }
}

const IDS: &[&str] = &["1", "2", "3", "4", "5", "1-1", "2-1", "-1", "a", ""];
const PAYLOADS: &[&str] = &["{}", "[]", "7", r#"{"x":"#, r#"{"status":"Accepted"}"#];

struct Side<P: Protocol> {
    e: Engine<P, MemoryQueue>,
    inbox: VecDeque<String>,
    open_out: Option<CallId>,
    open_in: Option<String>,
    station: bool,
}

struct Fixtures<P: Protocol> {
    rows: Vec<(&'static str, P::AnyRequest, P::AnyResponse, String, String)>,
}

impl<P: Protocol> Fixtures<P> {
    fn new() -> Self {
        let rows = table(P::VERSION)
            .into_iter()
            .map(|(name, req, resp)| {
                let a = P::action_from_name(name).expect("table action");
                let (rq, _) = P::decode_request(a, &req, &DecodeOptions::STRICT)
                    .unwrap_or_else(|e| panic!("HARNESS: {name} request fixture: {e:?}"));
                let (rs, _) = P::decode_response(a, &resp, &DecodeOptions::STRICT)
                    .unwrap_or_else(|e| panic!("HARNESS: {name} response fixture: {e:?}"));
                (name, rq, rs, req, resp)
            })
            .collect();
        Fixtures { rows }
    }
}

/// Drains events and transmits of one side, checking the invariants; transmitted frames go to
/// the other side's inbox (`out`).
fn drain<P: Protocol>(s: &mut Side<P>, out: &mut VecDeque<String>) {
    let who = if s.station { "station" } else { "CSMS" };
    while let Some(ev) = s.e.poll_event() {
        match ev {
            Event::Call { id, .. } => {
                assert!(
                    s.open_in.is_none(),
                    "{who}: second incoming CALL {id} delivered while {:?} is unanswered",
                    s.open_in
                );
                s.open_in = Some(id);
            }
            Event::Response { id, .. }
            | Event::CallFailed { id, .. }
            | Event::TransactionMessageRetry { id, .. }
                if s.open_out == Some(id) =>
            {
                s.open_out = None;
            }
            _ => {}
        }
    }
    while let Some(frame) = s.e.poll_transmit() {
        let parsed = Frame::parse(&frame, P::VERSION)
            .unwrap_or_else(|e| panic!("{who} wrote an unreadable frame ({e}): {frame}"));
        if let Frame::Call { id, .. } = &parsed {
            assert!(
                s.open_out.is_none(),
                "{who}: CALL {id} sent while CALL {:?} is outstanding",
                s.open_out
            );
            let base: u64 = id
                .split('-')
                .next()
                .and_then(|b| b.parse().ok())
                .unwrap_or_else(|| panic!("{who}: CALL id {id:?} is not the engine's"));
            s.open_out = Some(CallId(base));
        }
        out.push_back(frame);
    }
    assert_eq!(
        s.open_out,
        s.e.outstanding_call().map(|(id, _)| id),
        "{who}: outstanding CALL disagrees with the frames sent"
    );
}

/// Runs one fuzzed session of version `P`.
pub fn run<P: Protocol>(ops: &[Op]) {
    let fx = Fixtures::<P>::new();
    let t0 = Instant::now();
    let mut now = t0;
    let mut station = Side::<P> {
        e: Engine::station(
            now,
            Config::default(),
            StationConfig::new(fx.rows[0].1.clone()),
            MemoryQueue::new(),
        )
        .expect("station engine"),
        inbox: VecDeque::new(),
        open_out: None,
        open_in: None,
        station: true,
    };
    let mut csms = Side::<P> {
        e: Engine::csms(Config::default()),
        inbox: VecDeque::new(),
        open_out: None,
        open_in: None,
        station: false,
    };
    drain(&mut station, &mut csms.inbox);
    drain(&mut csms, &mut station.inbox);
    for op in ops.iter().take(256) {
        let to_station = match op {
            Op::Deliver(s)
            | Op::Drop(s)
            | Op::Text(s, _)
            | Op::Frame(s, ..)
            | Op::Call(s, _)
            | Op::Respond(s, ..)
            | Op::Lenient(s) => *s,
            Op::Advance(_) | Op::Disconnect | Op::Connect => false,
        };
        let (me, other) = if to_station {
            (&mut station, &mut csms)
        } else {
            (&mut csms, &mut station)
        };
        match op {
            Op::Deliver(_) => {
                if let Some(t) = me.inbox.pop_front() {
                    me.e.handle_text(now, &t);
                }
            }
            Op::Drop(_) => {
                me.inbox.pop_front();
            }
            Op::Text(_, t) => me.e.handle_text(now, t),
            Op::Frame(_, kind, id, action, payload) => {
                let id = IDS[usize::from(*id) % IDS.len()];
                let row = &fx.rows[usize::from(*action) % fx.rows.len()];
                let p = if payload % 2 == 0 {
                    if kind % 2 == 0 {
                        row.3.as_str()
                    } else {
                        row.4.as_str()
                    }
                } else {
                    PAYLOADS[usize::from(*payload / 2) % PAYLOADS.len()]
                };
                let text = match kind % 5 {
                    0 => format!(r#"[2,"{id}","{}",{p}]"#, row.0),
                    1 => format!(r#"[3,"{id}",{p}]"#),
                    2 => format!(r#"[4,"{id}","InternalError","x",{{}}]"#),
                    3 => format!(r#"[5,"{id}","FormatViolation","x",{{}}]"#),
                    _ => format!(r#"[6,"{id}","{}",{p}]"#, row.0),
                };
                me.e.handle_text(now, &text);
            }
            Op::Call(_, k) => {
                let row = &fx.rows[usize::from(*k) % fx.rows.len()];
                let _ = me.e.call_any(now, row.1.clone());
            }
            Op::Respond(_, k, made_up) => {
                let id = match made_up {
                    Some(i) => Some(IDS[usize::from(*i) % IDS.len()].to_owned()),
                    None => me.e.pending_incoming().map(|(id, _)| id.to_owned()),
                };
                if let Some(id) = id {
                    let action = me.e.pending_incoming().map(|(_, a)| a);
                    let result = match k % 4 {
                        0 => Err(CallError::new(ErrorCode::InternalError, "x")),
                        1 => Ok(fx.rows[usize::from(*k / 4) % fx.rows.len()].2.clone()),
                        _ => match action
                            .and_then(|a| fx.rows.iter().find(|r| P::response_action(&r.2) == a))
                        {
                            Some(r) => Ok(r.2.clone()),
                            None => Err(CallError::new(ErrorCode::NotSupported, "no")),
                        },
                    };
                    let pending_before = me.e.pending_incoming().map(|(i, _)| i.to_owned());
                    let r = me.e.respond(&id, result);
                    if pending_before.as_deref() == Some(id.as_str()) {
                        assert!(
                            !matches!(r, Err(ocpp_core::RespondError::UnknownId(_))),
                            "answer to the pending CALL {id} refused as unknown"
                        );
                        me.open_in = None;
                    } else {
                        assert!(
                            matches!(r, Err(ocpp_core::RespondError::UnknownId(_))),
                            "answer to {id:?}, which is not pending, accepted: {r:?}"
                        );
                    }
                }
            }
            Op::Advance(secs) => {
                now += Duration::from_secs(u64::from(*secs % 120));
                for s in [&mut *me, &mut *other] {
                    s.e.handle_timeout(now);
                    assert!(
                        s.e.poll_timeout().is_none_or(|t| t > now),
                        "timer due at {:?} right after handle_timeout",
                        s.e.poll_timeout().map(|t| t - t0)
                    );
                }
            }
            Op::Disconnect => {
                for s in [&mut *me, &mut *other] {
                    s.e.handle_disconnect(now);
                    s.inbox.clear();
                    s.open_out = None;
                    s.open_in = None;
                }
            }
            Op::Connect => {
                me.e.handle_connect(now);
                other.e.handle_connect(now);
            }
            Op::Lenient(_) => me.e.set_decode_options(DecodeOptions::LENIENT),
        }
        drain(&mut station, &mut csms.inbox);
        drain(&mut csms, &mut station.inbox);
    }
}
