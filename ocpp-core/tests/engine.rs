//! Two engines driven against each other on a simulated clock, in every version.

mod common;

use std::time::Duration;

use common::*;
use ocpp_core::testing::{Mini16, Mini201, Mini21, MiniAction, MiniMessage};
use ocpp_core::types::{DecodeOptions, ErrorCode, OcppVersion, Protocol};
use ocpp_core::{
    BootState, CallError, CallFailure, CallId, Config, Engine, Event, FileQueue, MemoryQueue,
    OfflineQueue, RequestError, RespondError,
};

use MiniAction::*;

fn tx_message<P: Protocol>(n: i64) -> MiniMessage {
    if P::VERSION == OcppVersion::V16 {
        MiniMessage::new(MeterValues)
            .i("connectorId", 1)
            .i("value", n)
            .i("transactionId", 7)
    } else {
        MiniMessage::new(TransactionEvent)
            .s("eventType", "Updated")
            .i("seqNo", n)
            .s("transactionId", "tx-1")
    }
}

fn status() -> MiniMessage {
    MiniMessage::new(StatusNotification)
        .i("connectorId", 1)
        .s("status", "Available")
}

fn wire_code<P: Protocol>(c: ErrorCode) -> &'static str {
    c.wire(P::VERSION)
}

/// The error code and id of a CALLERROR frame.
fn error_of(frame: &str) -> (String, String) {
    let v: Vec<&str> = frame.trim_matches(['[', ']']).splitn(4, ',').collect();
    assert_eq!(v[0], "4", "{frame}");
    (
        v[1].trim_matches('"').to_owned(),
        v[2].trim_matches('"').to_owned(),
    )
}

fn boot_pending_then_accepted<P: Mini>() {
    let mut p = Pair::<P>::new();
    assert_eq!(p.calls_to_csms(), ["BootNotification"]);
    // The application queues a StatusNotification: held until the boot is accepted.
    p.station.call_any(p.now, status()).unwrap();
    let (id, _) = p.take_csms_call(BootNotification);
    p.csms
        .respond(&id, Ok(MiniMessage::boot_response("Pending", 10)))
        .unwrap();
    p.flush();
    assert_eq!(p.csms.boot_state(), BootState::Pending);
    assert_eq!(p.station.boot_state(), BootState::Pending);
    assert!(p.station_events.iter().any(|e| matches!(
        e,
        Event::BootStateChanged {
            state: BootState::Pending
        }
    )));
    assert_eq!(p.calls_to_csms(), ["BootNotification"]);

    // While Pending the CSMS may call the station.
    p.csms
        .call_any(p.now, MiniMessage::new(Reset).s("type", "Soft"))
        .unwrap();
    p.flush();
    let (rid, _) = p.take_station_call(Reset);
    p.station
        .respond(&rid, Ok(MiniMessage::new(Reset).s("status", "Accepted")))
        .unwrap();
    p.flush();
    assert!(p
        .csms_events
        .iter()
        .any(|e| matches!(e, Event::Response { action: Reset, .. })));

    // A station message that is not a BootNotification is refused with SecurityError.
    p.csms.handle_text(p.now, r#"[2,"s1","Heartbeat",{}]"#);
    let reply = p.csms.poll_transmit().unwrap();
    assert_eq!(error_of(&reply), ("s1".into(), "SecurityError".into()));

    // Unless a TriggerMessage asked for it.
    p.drain_events();
    p.csms.allow_before_boot(p.now, Heartbeat);
    p.csms.handle_text(p.now, r#"[2,"s2","Heartbeat",{}]"#);
    assert!(p.csms.poll_transmit().is_none());
    p.drain_events();
    let (hid, _) = p.take_csms_call(Heartbeat);
    p.csms.respond(&hid, Ok(ok_response(Heartbeat))).unwrap();
    let _ = p.csms.poll_transmit();

    // The boot is retried after the interval of the Pending answer, not before.
    p.secs_f(9);
    assert_eq!(p.calls_to_csms(), ["BootNotification"]);
    p.secs_f(1);
    assert_eq!(p.calls_to_csms(), ["BootNotification", "BootNotification"]);
    p.accept_boot();
    assert_eq!(p.csms.boot_state(), BootState::Accepted);
    assert_eq!(p.station.boot_state(), BootState::Accepted);
    // The held StatusNotification goes out now.
    assert_eq!(
        p.calls_to_csms(),
        ["BootNotification", "BootNotification", "StatusNotification"]
    );
    let (sid, _) = p.take_csms_call(StatusNotification);
    p.csms
        .respond(&sid, Ok(MiniMessage::new(StatusNotification)))
        .unwrap();
    p.flush();
    assert!(p.station_events.iter().any(|e| matches!(
        e,
        Event::Response {
            action: StatusNotification,
            ..
        }
    )));
}

fn boot_rejected_and_failed_boots_are_retried<P: Mini>() {
    let mut p = Pair::<P>::new();
    let (id, _) = p.take_csms_call(BootNotification);
    p.csms
        .respond(&id, Ok(MiniMessage::boot_response("Rejected", 20)))
        .unwrap();
    p.flush();
    assert_eq!(p.station.boot_state(), BootState::Rejected);
    p.secs_f(19);
    assert_eq!(p.calls_to_csms().len(), 1);
    p.secs_f(1);
    assert_eq!(p.calls_to_csms().len(), 2);
    // A CALLERROR: retried after boot_retry_interval (60 s by default).
    let (id, _) = p.take_csms_call(BootNotification);
    p.csms
        .respond(
            &id,
            Err(CallError::new(ErrorCode::InternalError, "db down")),
        )
        .unwrap();
    p.flush();
    p.secs_f(59);
    assert_eq!(p.calls_to_csms().len(), 2);
    p.secs_f(1);
    assert_eq!(p.calls_to_csms().len(), 3);
    // No answer: timeout after 30 s, retry 60 s later.
    p.take_csms_call(BootNotification);
    p.secs_f(30);
    assert!(p.station_events.iter().any(|e| matches!(
        e,
        Event::CallFailed {
            action: BootNotification,
            failure: CallFailure::Timeout,
            ..
        }
    )));
    p.secs_f(59);
    assert_eq!(p.calls_to_csms().len(), 3);
    p.secs_f(1);
    assert_eq!(p.calls_to_csms().len(), 4);
}

fn rejected_boot_waits_its_interval_across_a_reconnect<P: Mini>() {
    let mut p = Pair::<P>::new();
    let (id, _) = p.take_csms_call(BootNotification);
    p.csms
        .respond(&id, Ok(MiniMessage::boot_response("Rejected", 100)))
        .unwrap();
    p.flush();
    p.secs_f(10);
    p.disconnect();
    p.secs_f(10);
    p.reconnect(Config::default());
    assert_eq!(p.calls_to_csms().len(), 1);
    p.secs_f(79);
    assert_eq!(p.calls_to_csms().len(), 1);
    p.secs_f(1);
    assert_eq!(p.calls_to_csms().len(), 2);
    // A boot cut by a disconnect goes out again at once on reconnect.
    p.disconnect();
    p.secs_f(5);
    p.reconnect(Config::default());
    assert_eq!(p.calls_to_csms().len(), 3);
}

fn one_outstanding_call_fifo_timeout_and_late_answers<P: Mini>() {
    let mut p = Pair::<P>::new();
    p.accept_boot();
    p.auto_station = false;
    let r1 = p
        .csms
        .call_any(p.now, MiniMessage::new(Reset).s("type", "Soft"))
        .unwrap();
    let r2 = p
        .csms
        .call_any(p.now, MiniMessage::new(DataTransfer).s("vendorId", "a"))
        .unwrap();
    let r3 = p
        .csms
        .call_any(p.now, MiniMessage::new(DataTransfer).s("vendorId", "b"))
        .unwrap();
    p.flush();
    // Only the first went out.
    assert_eq!(
        p.to_station().len(),
        2,
        "boot answer and one CALL: {:?}",
        p.to_station()
    );
    assert_eq!(p.csms.outstanding_call(), Some((r1, Reset)));
    assert_eq!(p.csms.queued_calls(), 2);
    let (late_id, _) = p.take_station_call(Reset);

    // 30 s without an answer: Timeout, and the queue moves on.
    p.secs_f(29);
    assert_eq!(p.csms.outstanding_call(), Some((r1, Reset)));
    p.secs_f(1);
    assert!(p.csms_events.iter().any(
        |e| matches!(e, Event::CallFailed { id, failure: CallFailure::Timeout, .. } if *id == r1)
    ));
    assert_eq!(p.csms.outstanding_call(), Some((r2, DataTransfer)));

    // The late answer is reported, not delivered.
    p.station
        .respond(
            &late_id,
            Ok(MiniMessage::new(Reset).s("status", "Accepted")),
        )
        .unwrap();
    p.flush();
    assert!(p.csms_events.iter().any(
        |e| matches!(e, Event::LateResponse { id, action: Reset, was_error: false } if *id == r1)
    ));
    assert!(!p
        .csms_events
        .iter()
        .any(|e| matches!(e, Event::Response { id, .. } if *id == r1)));

    // Answers in order release the queue in order; a CALLERROR is a typed failure.
    let (d1, req) = p.take_station_call(DataTransfer);
    assert_eq!(
        req.get("vendorId"),
        Some(&ocpp_core::testing::Value::Str("a".into()))
    );
    p.station
        .respond(
            &d1,
            Err(CallError::new(ErrorCode::NotSupported, "no vendor a")),
        )
        .unwrap();
    p.flush();
    assert!(p.csms_events.iter().any(|e| matches!(e,
        Event::CallFailed { id, failure: CallFailure::Error { error, wire_code }, .. }
        if *id == r2 && error.code == ErrorCode::NotSupported && wire_code == "NotSupported")));
    let (d2, req) = p.take_station_call(DataTransfer);
    assert_eq!(
        req.get("vendorId"),
        Some(&ocpp_core::testing::Value::Str("b".into()))
    );
    p.station
        .respond(&d2, Ok(ok_response(DataTransfer)))
        .unwrap();
    p.flush();
    assert!(p
        .csms_events
        .iter()
        .any(|e| matches!(e, Event::Response { id, action: DataTransfer, .. } if *id == r3)));
    assert_eq!(p.csms.outstanding_call(), None);

    // Duplicate and unknown ids.
    let f = format!(r#"[3,"{r3}",{{"status":"Accepted"}}]"#);
    p.csms.handle_text(p.now, &f);
    p.csms.handle_text(p.now, r#"[3,"nobody",{}]"#);
    p.csms
        .handle_text(p.now, r#"[4,"nobody2","GenericError","",{}]"#);
    let ev: Vec<_> = std::iter::from_fn(|| p.csms.poll_event()).collect();
    assert!(matches!(ev[0], Event::DuplicateResponse { id, action: DataTransfer } if id == r3));
    assert!(matches!(&ev[1], Event::UnknownResponse { message_id } if message_id == "nobody"));
    assert!(matches!(&ev[2], Event::UnknownResponse { message_id } if message_id == "nobody2"));
    assert!(
        p.csms.poll_transmit().is_none(),
        "answers are never answered"
    );
}

fn incoming_calls_one_at_a_time<P: Mini>() {
    let mut p = Pair::<P>::new();
    p.accept_boot();
    p.station
        .handle_text(p.now, r#"[2,"a","Reset",{"type":"Soft"}]"#);
    p.station
        .handle_text(p.now, r#"[2,"b","Reset",{"type":"Hard"}]"#);
    p.station
        .handle_text(p.now, r#"[2,"a","Reset",{"type":"Hard"}]"#);
    let ev: Vec<_> = std::iter::from_fn(|| p.station.poll_event()).collect();
    assert_eq!(ev.len(), 2, "{ev:?}");
    assert!(matches!(&ev[0], Event::Call { id, .. } if id == "a"));
    assert!(matches!(&ev[1], Event::DuplicateCall { id } if id == "a"));
    assert!(matches!(
        p.station.respond("b", Ok(ok_response(Reset))),
        Err(RespondError::UnknownId(_))
    ));
    p.station.respond("a", Ok(ok_response(Reset))).unwrap();
    assert!(matches!(p.station.poll_event(), Some(Event::Call { id, .. }) if id == "b"));
    assert!(matches!(
        p.station.respond("a", Ok(ok_response(Reset))),
        Err(RespondError::UnknownId(_))
    ));
    p.station
        .respond("b", Err(CallError::new(ErrorCode::InternalError, "busy")))
        .unwrap();
    let out: Vec<_> = std::iter::from_fn(|| p.station.poll_transmit()).collect();
    assert_eq!(out[0], r#"[3,"a",{"status":"Accepted"}]"#);
    assert_eq!(out[1], r#"[4,"b","InternalError","busy",{}]"#);
}

fn respond_refuses_invalid_responses<P: Mini>() {
    let mut p = Pair::<P>::new();
    p.accept_boot();
    p.station
        .handle_text(p.now, r#"[2,"a","Reset",{"type":"Soft"}]"#);
    p.station.poll_event().unwrap();
    let bad = MiniMessage::new(Reset).s("status", "Maybe");
    assert!(matches!(
        p.station.respond("a", Ok(bad)),
        Err(RespondError::Invalid(_))
    ));
    let out = p.station.poll_transmit().unwrap();
    assert_eq!(error_of(&out), ("a".into(), "InternalError".into()));
    p.station
        .handle_text(p.now, r#"[2,"b","Reset",{"type":"Soft"}]"#);
    p.station.poll_event().unwrap();
    assert!(matches!(
        p.station.respond("b", Ok(ok_response(DataTransfer))),
        Err(RespondError::WrongAction)
    ));
    assert_eq!(
        error_of(&p.station.poll_transmit().unwrap()),
        ("b".into(), "InternalError".into())
    );
    // Outgoing calls are validated too.
    let e = p
        .csms
        .call_any(p.now, MiniMessage::new(Reset).s("type", "Sideways"))
        .unwrap_err();
    assert!(
        matches!(e, RequestError::Invalid(ref d) if d.code() == ErrorCode::PropertyConstraintViolation)
    );
    let e = p.csms.call_any(p.now, status()).unwrap_err();
    assert!(matches!(e, RequestError::WrongDirection { .. }));
    let e = p
        .station
        .call_any(p.now, MiniMessage::new(Reset).s("type", "Soft"))
        .unwrap_err();
    assert!(matches!(e, RequestError::WrongDirection { .. }));
}

fn bad_frames_get_the_codes_of_the_table<P: Mini>() {
    let v16 = P::VERSION == OcppVersion::V16;
    let mut csms = Engine::<P>::csms(Config::default());
    let now = std::time::Instant::now();
    csms.set_boot_state(now, BootState::Accepted);
    assert!(matches!(
        csms.poll_event(),
        Some(Event::BootStateChanged {
            state: BootState::Accepted
        })
    ));
    let cases: Vec<(&str, Option<(&str, ErrorCode)>)> = vec![
        (
            r#"[2,"1","FlyToTheMoon",{}]"#,
            Some(("1", ErrorCode::NotImplemented)),
        ),
        (
            r#"[2,"2","Reset",{"type":"Soft"}]"#,
            Some(("2", ErrorCode::NotSupported)),
        ),
        (
            r#"[2,"3","StatusNotification",{"connectorId":1,"status":"Available","x":1}]"#,
            Some(("3", ErrorCode::FormatViolation)),
        ),
        (
            r#"[2,"4","StatusNotification",[]]"#,
            Some(("4", ErrorCode::FormatViolation)),
        ),
        (
            r#"[2,"5","StatusNotification",{"connectorId":1}]"#,
            Some(("5", ErrorCode::OccurrenceConstraintViolation)),
        ),
        (
            r#"[2,"6","StatusNotification",{"connectorId":"1","status":"Available"}]"#,
            Some(("6", ErrorCode::TypeConstraintViolation)),
        ),
        (
            r#"[2,"7","StatusNotification",{"connectorId":1,"status":"Sleepy"}]"#,
            Some(("7", ErrorCode::PropertyConstraintViolation)),
        ),
        (
            r#"[2,"8","StatusNotification",{"connectorId":-1,"status":"Available"}]"#,
            Some(("8", ErrorCode::PropertyConstraintViolation)),
        ),
        (
            r#"[2,"9","BootNotification",{"model":"123456789012345678901","vendor":"v"}]"#,
            Some(("9", ErrorCode::PropertyConstraintViolation)),
        ),
        (
            r#"[2,"10","StatusNotification",{"connectorId":1,"status":"Available"}"#,
            if v16 {
                Some(("10", ErrorCode::ProtocolError))
            } else {
                Some(("10", ErrorCode::RpcFrameworkError))
            },
        ),
        (
            "garbage",
            if v16 {
                None
            } else {
                Some(("-1", ErrorCode::RpcFrameworkError))
            },
        ),
        (
            r#"[9,"11",{}]"#,
            if v16 {
                None
            } else {
                Some(("11", ErrorCode::MessageTypeNotSupported))
            },
        ),
        (
            r#"[2,"12","StatusNotification",{"connectorId":1,"status":"Available"]"#,
            Some(("12", ErrorCode::FormatViolation)),
        ),
    ];
    for (frame, want) in cases {
        csms.handle_text(now, frame);
        let got = csms.poll_transmit();
        match want {
            None => assert_eq!(got, None, "{frame}"),
            Some((id, code)) => {
                let got = got.unwrap_or_else(|| panic!("no answer to {frame}"));
                assert_eq!(
                    error_of(&got),
                    (id.to_owned(), wire_code::<P>(code).to_owned()),
                    "{frame}"
                );
            }
        }
        assert!(
            matches!(csms.poll_event(), Some(Event::Refused { .. })),
            "{frame}"
        );
        assert!(csms.poll_event().is_none());
    }
    // 2.1 frame types exist on 2.1 only.
    csms.handle_text(
        now,
        r#"[6,"13","NotifyPeriodicEventStream",{"id":1,"pending":0}]"#,
    );
    if P::VERSION.has_send_frames() {
        assert!(csms.poll_transmit().is_none());
        assert!(matches!(
            csms.poll_event(),
            Some(Event::Send {
                action: NotifyPeriodicEventStream,
                ..
            })
        ));
    } else if v16 {
        assert!(csms.poll_transmit().is_none());
    } else {
        assert_eq!(
            error_of(&csms.poll_transmit().unwrap()).1,
            "MessageTypeNotSupported"
        );
    }
    // The pointer of the fault is in the details.
    csms.handle_text(
        now,
        r#"[2,"14","StatusNotification",{"connectorId":1,"status":"Sleepy"}]"#,
    );
    assert!(csms
        .poll_transmit()
        .unwrap()
        .ends_with(r#"{"pointer":"/status"}]"#));
}

fn security_error_before_boot_on_csms<P: Mini>() {
    let mut csms = Engine::<P>::csms(Config::default());
    let now = std::time::Instant::now();
    csms.handle_text(
        now,
        r#"[2,"1","StatusNotification",{"connectorId":1,"status":"Available"}]"#,
    );
    assert_eq!(
        error_of(&csms.poll_transmit().unwrap()),
        ("1".into(), "SecurityError".into())
    );
    csms.handle_text(
        now,
        r#"[2,"2","BootNotification",{"model":"m","vendor":"v"}]"#,
    );
    assert!(csms.poll_transmit().is_none());
    assert!(matches!(
        csms.poll_event(),
        Some(Event::Refused {
            answered: Some(ErrorCode::SecurityError),
            ..
        })
    ));
    assert!(matches!(
        csms.poll_event(),
        Some(Event::Call {
            action: BootNotification,
            ..
        })
    ));
    csms.respond("2", Ok(MiniMessage::boot_response("Rejected", 60)))
        .unwrap();
    assert!(csms.poll_transmit().unwrap().starts_with(r#"[3,"2","#));
    assert_eq!(csms.boot_state(), BootState::Rejected);
    csms.handle_text(now, r#"[2,"3","Heartbeat",{}]"#);
    assert_eq!(error_of(&csms.poll_transmit().unwrap()).1, "SecurityError");
    // A CSMS that knows the station was accepted before starts Accepted.
    let mut cfg = Config::default();
    cfg.boot_state = BootState::Accepted;
    let mut csms = Engine::<P>::csms(cfg);
    csms.handle_text(now, r#"[2,"1","Heartbeat",{}]"#);
    assert!(csms.poll_transmit().is_none());
    assert!(matches!(
        csms.poll_event(),
        Some(Event::Call {
            action: Heartbeat,
            ..
        })
    ));
}

fn lenient_options_count_leniencies<P: Mini>() {
    let mut cfg = Config::default();
    cfg.boot_state = BootState::Accepted;
    cfg.decode_options = DecodeOptions::LENIENT;
    let mut csms = Engine::<P>::csms(cfg);
    let now = std::time::Instant::now();
    csms.handle_text(
        now,
        r#"[2,"1","StatusNotification",{"connectorId":1,"status":"Sleepy","x":1}]"#,
    );
    assert!(csms.poll_transmit().is_none());
    let Some(Event::Call { leniencies, .. }) = csms.poll_event() else {
        panic!()
    };
    assert_eq!(
        (leniencies.unknown_enum_values, leniencies.unknown_members),
        (1, 1)
    );
    assert_eq!(csms.stats().leniencies.total(), 2);
}

fn heartbeat_for_a_minute<P: Mini>() {
    let mut p = Pair::<P>::new();
    p.accept_boot();
    p.auto_csms = Some("Accepted".into());
    assert_eq!(p.station.boot_state(), BootState::Accepted);
    p.station
        .set_heartbeat_interval(p.now, Duration::from_secs(1));
    let start = std::time::Instant::now();
    p.secs_f(60);
    let elapsed = start.elapsed();
    let beats = p
        .calls_to_csms()
        .iter()
        .filter(|a| *a == "Heartbeat")
        .count();
    assert_eq!(beats, 60);
    assert_eq!(
        p.station_events
            .iter()
            .filter(|e| matches!(
                e,
                Event::Response {
                    action: Heartbeat,
                    ..
                }
            ))
            .count(),
        60
    );
    eprintln!("a minute of protocol time with 60 heartbeats took {elapsed:?}");

    // With skip_heartbeat_after_traffic, other calls push the heartbeat back.
    let mut sc = station_config::<P>();
    sc.skip_heartbeat_after_traffic = true;
    let mut p = Pair::<P>::with(Config::default(), sc, MemoryQueue::new());
    p.accept_boot();
    p.auto_csms = Some("Accepted".into());
    // Accepted with interval 60: a StatusNotification every 30 s means no heartbeat at all.
    for _ in 0..6 {
        p.secs_f(30);
        p.station.call_any(p.now, status()).unwrap();
        p.flush();
    }
    assert_eq!(
        p.calls_to_csms()
            .iter()
            .filter(|a| *a == "Heartbeat")
            .count(),
        0
    );
    p.secs_f(60);
    assert_eq!(
        p.calls_to_csms()
            .iter()
            .filter(|a| *a == "Heartbeat")
            .count(),
        1
    );
}

fn reconnect_replays_queued_transaction_messages<P: Mini>() {
    let mut p = Pair::<P>::new();
    p.accept_boot();
    p.auto_csms = Some("Accepted".into());
    let first = p.station.call_any(p.now, tx_message::<P>(0)).unwrap();
    p.flush();
    assert!(p
        .station_events
        .iter()
        .any(|e| matches!(e, Event::Response { id, .. } if *id == first)));
    assert!(p.station.offline_queue().is_empty());

    p.disconnect();
    let ids: Vec<CallId> = (1..=3)
        .map(|n| p.station.call_any(p.now, tx_message::<P>(n)).unwrap())
        .collect();
    assert!(matches!(
        p.station.call_any(p.now, status()),
        Err(RequestError::NotConnected)
    ));
    assert_eq!(p.station.offline_queue().len(), 3);
    p.secs_f(600);
    let sent_before = p.to_csms().len();

    let mut cfg = Config::default();
    cfg.boot_state = BootState::Accepted;
    p.reconnect(cfg);
    p.auto_csms = Some("Accepted".into());
    p.flush();
    let replayed: Vec<&str> = p.to_csms()[sent_before..].to_vec();
    assert_eq!(replayed.len(), 3, "{replayed:?}");
    for (frame, id) in replayed.iter().zip(&ids) {
        assert!(frame.starts_with(&format!(r#"[2,"{id}","#)), "{frame}");
    }
    assert!(p.station.offline_queue().is_empty());
    for id in ids {
        assert!(p
            .station_events
            .iter()
            .any(|e| matches!(e, Event::Response { id: i, .. } if *i == id)));
    }
    // The in-flight transaction message cut by a disconnect is sent again after the reconnect.
    let cut = p.station.call_any(p.now, tx_message::<P>(9)).unwrap();
    p.auto_csms = None;
    p.flush();
    p.disconnect();
    assert!(!p
        .station_events
        .iter()
        .any(|e| matches!(e, Event::CallFailed { id, .. } if *id == cut)));
    let mut cfg = Config::default();
    cfg.boot_state = BootState::Accepted;
    p.reconnect(cfg);
    let (_, req) = p.take_csms_call(if P::VERSION == OcppVersion::V16 {
        MeterValues
    } else {
        TransactionEvent
    });
    assert_eq!(req, tx_message::<P>(9));
}

fn transaction_retry_rules<P: Mini>() {
    let mut sc = station_config::<P>();
    sc.transaction_message_attempts = 3;
    sc.transaction_message_retry_interval = Duration::from_secs(10);
    let mut p = Pair::<P>::with(Config::default(), sc, MemoryQueue::new());
    p.accept_boot();
    p.station
        .set_heartbeat_interval(p.now, Duration::from_secs(3600));
    let tx = p.station.call_any(p.now, tx_message::<P>(1)).unwrap();
    let other = p.station.call_any(p.now, status()).unwrap();
    p.flush();
    let action = if P::VERSION == OcppVersion::V16 {
        MeterValues
    } else {
        TransactionEvent
    };
    let mut times = vec![];
    for _ in 0..3 {
        p.wait_for_csms_call(action, 100);
        let (id, _) = p.take_csms_call(action);
        times.push(p.secs());
        p.csms
            .respond(&id, Err(CallError::new(ErrorCode::InternalError, "db")))
            .unwrap();
        p.flush();
        // Other calls are not blocked while the transaction message waits for its retry.
        if let Some(i) = p.csms_events.iter().position(|e| {
            matches!(
                e,
                Event::Call {
                    action: StatusNotification,
                    ..
                }
            )
        }) {
            let Event::Call { id, .. } = p.csms_events.remove(i) else {
                unreachable!()
            };
            p.csms
                .respond(&id, Ok(MiniMessage::new(StatusNotification)))
                .unwrap();
            p.flush();
        }
    }
    // Sent at 0, retried 10 s × 1 after the first failure and 10 s × 2 after the second.
    assert_eq!(times, [0, 10, 30]);
    p.secs_f(100);
    assert!(
        !p.csms_events
            .iter()
            .any(|e| matches!(e, Event::Call { action: a, .. } if *a == action)),
        "given up after 3 attempts"
    );
    let retries: Vec<u32> = p
        .station_events
        .iter()
        .filter_map(|e| match e {
            Event::TransactionMessageRetry { id, attempts, .. } if *id == tx => Some(*attempts),
            _ => None,
        })
        .collect();
    assert_eq!(retries, [1, 2]);
    assert!(p.station_events.iter().any(|e| matches!(e, Event::CallFailed { id, failure: CallFailure::Error { .. }, .. } if *id == tx)));
    assert!(p
        .station_events
        .iter()
        .any(|e| matches!(e, Event::Response { id, .. } if *id == other)));
    assert!(p.station.offline_queue().is_empty());

    // A timeout counts as a failed attempt too.
    let tx = p.station.call_any(p.now, tx_message::<P>(3)).unwrap();
    p.flush();
    let (first, _) = p.take_csms_call(action);
    p.secs_f(30);
    assert!(p.station_events.iter().any(|e| matches!(e, Event::TransactionMessageRetry { id, failure: CallFailure::Timeout, attempts: 1, .. } if *id == tx)));
    // The CSMS answers too late: reported, and the retry still goes out (with a new message id).
    p.csms
        .respond(&first, Ok(MiniMessage::new(action)))
        .unwrap();
    p.flush();
    assert!(p
        .station_events
        .iter()
        .any(|e| matches!(e, Event::LateResponse { id, .. } if *id == tx)));
    assert_eq!(p.wait_for_csms_call(action, 100), 10);
    let (id, _) = p.take_csms_call(action);
    assert_eq!(id, format!("{tx}-1"));
    p.csms.respond(&id, Ok(MiniMessage::new(action))).unwrap();
    p.flush();
    assert!(p.station.offline_queue().is_empty());

    // The retry interval is multiplied by the attempt number.
    let tx = p.station.call_any(p.now, tx_message::<P>(2)).unwrap();
    p.flush();
    let t0 = p.secs();
    let (id, _) = p.take_csms_call(action);
    p.csms
        .respond(&id, Err(CallError::new(ErrorCode::InternalError, "db")))
        .unwrap();
    p.flush();
    p.secs_f(9);
    assert!(p
        .csms_events
        .iter()
        .all(|e| !matches!(e, Event::Call { .. })));
    p.secs_f(1);
    let (id, _) = p.take_csms_call(action);
    assert_eq!(p.secs() - t0, 10);
    p.csms
        .respond(&id, Err(CallError::new(ErrorCode::InternalError, "db")))
        .unwrap();
    p.flush();
    p.secs_f(19);
    assert!(p
        .csms_events
        .iter()
        .all(|e| !matches!(e, Event::Call { .. })));
    p.secs_f(1);
    let (id, _) = p.take_csms_call(action);
    p.csms.respond(&id, Ok(MiniMessage::new(action))).unwrap();
    p.flush();
    assert!(p
        .station_events
        .iter()
        .any(|e| matches!(e, Event::Response { id, .. } if *id == tx)));
}

fn power_cut_loses_nothing_queued<P: Mini>() {
    let dir = std::env::temp_dir().join(format!(
        "ocpp-core-engine-{}-{}",
        std::process::id(),
        P::VERSION
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("offline.log");
    let _ = std::fs::remove_file(&path);

    let mut p = Pair::<P, FileQueue>::with(
        Config::default(),
        station_config::<P>(),
        FileQueue::open(&path).unwrap(),
    );
    p.accept_boot();
    p.disconnect();
    let ids: Vec<CallId> = (1..=4)
        .map(|n| p.station.call_any(p.now, tx_message::<P>(n)).unwrap())
        .collect();
    // Power cut: the engine and its memory are gone.
    drop(p);

    let mut p = Pair::<P, FileQueue>::with(
        Config::default(),
        station_config::<P>(),
        FileQueue::open(&path).unwrap(),
    );
    assert_eq!(p.station.offline_queue().len(), 4);
    // A restarted station boots first; the queue is replayed after the boot was accepted.
    assert_eq!(p.calls_to_csms(), ["BootNotification"]);
    let boot_id = p.to_csms()[0].to_owned();
    let next = ids.last().unwrap().0 + 1;
    assert!(
        boot_id.starts_with(&format!(r#"[2,"{next}","#)),
        "ids continue after the stored ones: {boot_id}"
    );
    p.auto_csms = Some("Accepted".into());
    p.accept_boot();
    p.flush();
    let frames = p.to_csms();
    assert_eq!(frames.len(), 5);
    for (frame, (n, id)) in frames[1..].iter().zip(ids.iter().enumerate()) {
        let expect = ocpp_core::types::Frame::call(
            id.to_string(),
            P::action_name(tx_message::<P>(0).action),
            P::encode_request(&tx_message::<P>(n as i64 + 1), &DecodeOptions::STRICT).unwrap(),
        )
        .to_json();
        assert_eq!(*frame, expect);
    }
    assert!(p.station.offline_queue().is_empty());
    drop(p);
    assert!(FileQueue::open(&path).unwrap().is_empty());
}

fn send_and_call_result_error<P: Mini>() {
    let mut p = Pair::<P>::new();
    p.accept_boot();
    let msg = MiniMessage::new(NotifyPeriodicEventStream)
        .i("id", 1)
        .i("pending", 0);
    if !P::VERSION.has_send_frames() {
        assert!(matches!(
            p.station.send_any(p.now, msg),
            Err(RequestError::WrongMessageType(_))
        ));
        return;
    }
    p.station.send_any(p.now, msg).unwrap();
    // A SEND does not wait for the outstanding CALL.
    p.station.call_any(p.now, status()).unwrap();
    p.flush();
    assert!(p.csms_events.iter().any(|e| matches!(
        e,
        Event::Send {
            action: NotifyPeriodicEventStream,
            ..
        }
    )));
    assert!(matches!(
        p.station.call_any(
            p.now,
            MiniMessage::new(NotifyPeriodicEventStream)
                .i("id", 1)
                .i("pending", 0)
        ),
        Err(RequestError::WrongMessageType(_))
    ));

    // The CSMS answers the StatusNotification with a broken CALLRESULT: the station answers it
    // with a CALLRESULTERROR, which the CSMS reports.
    let (id, _) = p.take_csms_call(StatusNotification);
    p.station
        .handle_text(p.now, &format!(r#"[3,"{id}",{{"bogus":1}}]"#));
    let out = p.station.poll_transmit().unwrap();
    assert_eq!(
        out,
        format!(
            r#"[5,"{id}","FormatViolation","FormatViolation at /bogus: member \"bogus\" is not defined by the schema",{{}}]"#
        )
    );
    assert!(matches!(
        p.station.poll_event(),
        Some(Event::CallFailed {
            failure: CallFailure::InvalidResponse(_),
            ..
        })
    ));
    p.csms
        .respond(&id, Ok(MiniMessage::new(StatusNotification)))
        .unwrap();
    let _ = p.csms.poll_transmit();
    p.csms.handle_text(p.now, &out);
    assert!(
        matches!(p.csms.poll_event(), Some(Event::ResultRejected { action: Some(StatusNotification), error, .. }) if error.code == ErrorCode::FormatViolation)
    );
}

macro_rules! per_version {
    ($($name:ident),* $(,)?) => {
        mod v16 { use super::*; $(#[test] fn $name() { super::$name::<Mini16>() })* }
        mod v201 { use super::*; $(#[test] fn $name() { super::$name::<Mini201>() })* }
        mod v21 { use super::*; $(#[test] fn $name() { super::$name::<Mini21>() })* }
    };
}

per_version!(
    boot_pending_then_accepted,
    boot_rejected_and_failed_boots_are_retried,
    rejected_boot_waits_its_interval_across_a_reconnect,
    one_outstanding_call_fifo_timeout_and_late_answers,
    incoming_calls_one_at_a_time,
    respond_refuses_invalid_responses,
    bad_frames_get_the_codes_of_the_table,
    security_error_before_boot_on_csms,
    lenient_options_count_leniencies,
    heartbeat_for_a_minute,
    reconnect_replays_queued_transaction_messages,
    transaction_retry_rules,
    power_cut_loses_nothing_queued,
    send_and_call_result_error,
);
