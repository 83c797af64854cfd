//! Frame-level and dispatch conformance for OCPP 1.6, 2.0.1 and 2.1: unknown actions, actions sent
//! in the wrong direction, payloads that are not JSON objects and payloads that are not JSON, each
//! answered with the exact code spelled for the version. These tests need no schema files.

use conformance::mutate::Fault;
use ocpp_types::{decode_call, DecodeOptions, Direction, Frame, OcppVersion, Protocol, Role};

const NOT_OBJECTS: &[&str] = &[
    "[]", "[{}]", "42", "-1.5", "\"{}\"", "null", "true", "false",
];
const NOT_JSON: &[&str] = &[
    "",
    " ",
    "{",
    "}",
    "{\"a\":}",
    "{\"a\" 1}",
    "{'a':1}",
    "{} {}",
    "{}x",
    "{\"a\":1,}",
    "{\"a\":tru}",
    "{\"a\":\"\\x\"}",
    "{\"a\":\"unterminated}",
    "{\"a\":01}",
    "{\"a\":1.}",
    "{\"a\":NaN}",
    "[",
    "nul",
];

fn receivers(d: Direction) -> &'static [Role] {
    match d {
        Direction::StationToCsms => &[Role::Csms],
        Direction::CsmsToStation => &[Role::ChargingStation],
        Direction::Both => &[Role::Csms, Role::ChargingStation],
    }
}

fn check<P: Protocol>(
    what: &str,
    role: Role,
    action: &str,
    payload: &str,
    fault: Fault,
    failures: &mut Vec<String>,
) {
    let v = P::VERSION;
    let want = fault.expected_wire(v);
    match decode_call::<P>(role, action, payload, &DecodeOptions::STRICT) {
        Err(e) if e.code().wire(v) == want && e.path().is_empty() => {}
        Err(e) => failures.push(format!(
            "OCPP {v} {what}: {role:?} receiving {action} with payload {payload:?}: expected {want} at \"\", got {} at {:?}: {}",
            e.code().wire(v),
            e.path(),
            e.description()
        )),
        Ok(r) => failures.push(format!(
            "OCPP {v} {what}: {role:?} receiving {action} with payload {payload:?}: expected {want}, decoded {r:?}"
        )),
    }
}

fn finish(v: OcppVersion, what: &str, n: usize, failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "OCPP {v} {what}: {} of {n} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("OCPP {v} {what}: {n} checks passed");
}

/// An action the version does not know is NotImplemented for both roles, whatever the payload
/// (the action is checked first).
fn unknown_action<P: Protocol>() {
    let mut f = Vec::new();
    let mut n = 0;
    let other: &[&str] = match P::VERSION {
        OcppVersion::V16 => &[
            "TransactionEvent",
            "GetVariables",
            "NotifyPeriodicEventStream",
        ],
        OcppVersion::V201 => &[
            "StartTransaction",
            "ChangeConfiguration",
            "NotifyPeriodicEventStream",
            "AFRRSignal",
        ],
        OcppVersion::V21 => &[
            "StartTransaction",
            "GetConfiguration",
            "RemoteStartTransaction",
        ],
    };
    for action in [
        "NoSuchAction",
        "",
        "heartbeat",
        "Heartbeat ",
        "BootNotificationRequest",
    ]
    .iter()
    .chain(other)
    {
        for role in [Role::Csms, Role::ChargingStation] {
            for payload in ["{}", "[]", "{"] {
                check::<P>(
                    "unknown action",
                    role,
                    action,
                    payload,
                    Fault::UnknownAction,
                    &mut f,
                );
                n += 1;
            }
        }
    }
    finish(P::VERSION, "unknown action", n, f);
}

/// Every action received by the role that sends it is NotSupported, whatever the payload.
fn wrong_direction<P: Protocol>() {
    let mut f = Vec::new();
    let mut n = 0;
    for &a in P::actions() {
        let name = P::action_name(a);
        for role in [Role::Csms, Role::ChargingStation] {
            if receivers(P::action_direction(a)).contains(&role) {
                continue;
            }
            for payload in ["{}", "[]", "{"] {
                check::<P>(
                    "wrong direction",
                    role,
                    name,
                    payload,
                    Fault::WrongDirection,
                    &mut f,
                );
                n += 1;
            }
        }
    }
    assert!(n > 0);
    finish(P::VERSION, "wrong direction", n, f);
}

/// For every action, at its receiver: a payload that is valid JSON but not an object is a
/// FormatViolation (1.6: FormationViolation) at the root; so is a payload that is not JSON.
/// The same for CALLRESULT payloads of every answered action.
fn bad_payloads<P: Protocol>() {
    let v = P::VERSION;
    let mut f = Vec::new();
    let mut n = 0;
    for &a in P::actions() {
        let name = P::action_name(a);
        for &role in receivers(P::action_direction(a)) {
            for p in NOT_OBJECTS {
                check::<P>(
                    "payload not an object",
                    role,
                    name,
                    p,
                    Fault::NotAnObject,
                    &mut f,
                );
                n += 1;
            }
            for p in NOT_JSON {
                check::<P>(
                    "payload not JSON",
                    role,
                    name,
                    p,
                    Fault::InvalidJson,
                    &mut f,
                );
                n += 1;
            }
        }
        if P::action_is_send(a) {
            continue;
        }
        for (p, fault) in NOT_OBJECTS
            .iter()
            .map(|p| (p, Fault::NotAnObject))
            .chain(NOT_JSON.iter().map(|p| (p, Fault::InvalidJson)))
        {
            n += 1;
            let want = fault.expected_wire(v);
            match P::decode_response(a, p, &DecodeOptions::STRICT) {
                Err(e) if e.code().wire(v) == want && e.path().is_empty() => {}
                other => f.push(format!("OCPP {v} {name} response payload {p:?}: expected {want} at \"\", got {other:?}")),
            }
        }
    }
    finish(v, "payloads that are not JSON objects", n, f);
}

/// Whole frames: parsed with `Frame::parse`, then dispatched with `decode_call`.
fn frames<P: Protocol>() {
    let v = P::VERSION;
    let mut f = Vec::new();
    let station_to_csms = P::actions()
        .iter()
        .copied()
        .find(|&a| P::action_direction(a) == Direction::StationToCsms)
        .unwrap();
    let csms_to_station = P::actions()
        .iter()
        .copied()
        .find(|&a| P::action_direction(a) == Direction::CsmsToStation)
        .unwrap();
    let cases: Vec<(String, Role, Fault)> = vec![
        (
            r#"[2,"m1","NoSuchAction",{}]"#.into(),
            Role::Csms,
            Fault::UnknownAction,
        ),
        (
            format!(r#"[2, "m2", "{}", {{}}]"#, P::action_name(csms_to_station)),
            Role::Csms,
            Fault::WrongDirection,
        ),
        (
            format!(r#"[2,"m3","{}",{{}}]"#, P::action_name(station_to_csms)),
            Role::ChargingStation,
            Fault::WrongDirection,
        ),
        (
            r#"[2,"m4","Heartbeat",[]]"#.into(),
            Role::Csms,
            Fault::NotAnObject,
        ),
        (
            r#"[2,"m5","Heartbeat","{}"]"#.into(),
            Role::Csms,
            Fault::NotAnObject,
        ),
        (
            r#"[2,"m6","Heartbeat",null]"#.into(),
            Role::Csms,
            Fault::NotAnObject,
        ),
        (
            r#"[2,"m7","Heartbeat",{"a":}]"#.into(),
            Role::Csms,
            Fault::InvalidJson,
        ),
        (
            r#"[2,"m8","Heartbeat",{]"#.into(),
            Role::Csms,
            Fault::InvalidJson,
        ),
        (
            r#"[2,"m9","Heartbeat",{} {}]"#.into(),
            Role::Csms,
            Fault::InvalidJson,
        ),
        (
            r#"[2,"m10","Heartbeat",{}, {}]"#.into(),
            Role::Csms,
            Fault::InvalidJson,
        ),
    ];
    for (text, role, fault) in &cases {
        let want = fault.expected_wire(v);
        let frame = match Frame::parse(text, v) {
            Ok(fr) => fr,
            Err(e) => {
                f.push(format!("OCPP {v} frame {text}: Frame::parse failed: {e:?}"));
                continue;
            }
        };
        let Frame::Call {
            action, payload, ..
        } = &frame
        else {
            f.push(format!("OCPP {v} frame {text}: not a CALL: {frame:?}"));
            continue;
        };
        match decode_call::<P>(*role, action, payload, &DecodeOptions::STRICT) {
            Err(e) if e.code().wire(v) == want => {}
            other => f.push(format!(
                "OCPP {v} frame {text} at {role:?}: expected {want}, got {other:?}"
            )),
        }
    }
    finish(v, "frames", cases.len(), f);
}

/// The concrete per-version API agrees with the Protocol tables.
macro_rules! api_agrees {
    ($krate:ident, $p:ty) => {{
        assert_eq!($krate::Action::ALL.len(), <$p as Protocol>::actions().len());
        for (&a, &b) in $krate::Action::ALL.iter().zip(<$p as Protocol>::actions()) {
            assert_eq!(a, b);
            assert_eq!(a.name(), <$p as Protocol>::action_name(b));
            assert_eq!(a.direction(), <$p as Protocol>::action_direction(b));
            assert_eq!(a.is_send(), <$p as Protocol>::action_is_send(b));
            assert_eq!(<$p as Protocol>::action_from_name(a.name()), Some(a));
            let e = $krate::AnyRequest::decode(a, "[]", &DecodeOptions::STRICT).unwrap_err();
            assert_eq!(
                e.code().wire(<$p as Protocol>::VERSION),
                Fault::NotAnObject.expected_wire(<$p as Protocol>::VERSION),
                "{a:?}"
            );
        }
    }};
}

macro_rules! version_tests {
    ($module:ident, $krate:ident, $p:ty) => {
        mod $module {
            use super::*;

            #[test]
            fn unknown_action_is_not_implemented() {
                unknown_action::<$p>();
            }

            #[test]
            fn wrong_direction_is_not_supported() {
                wrong_direction::<$p>();
            }

            #[test]
            fn payload_not_an_object_or_not_json_is_a_format_violation() {
                bad_payloads::<$p>();
            }

            #[test]
            fn frames_are_dispatched_with_the_right_code() {
                frames::<$p>();
            }

            #[test]
            fn concrete_api_agrees_with_protocol_tables() {
                api_agrees!($krate, $p);
            }
        }
    };
}

version_tests!(v16, ocpp16, ocpp16::Ocpp16);
version_tests!(v201, ocpp201, ocpp201::Ocpp201);
version_tests!(v21, ocpp21, ocpp21::Ocpp21);

/// 2.1's NotifyPeriodicEventStream is the only SEND, has no response schema, and is never
/// answered: decoding a response for it is refused.
#[test]
fn v21_send_action() {
    let sends: Vec<_> = ocpp21::Action::ALL.iter().filter(|a| a.is_send()).collect();
    assert_eq!(sends, [&ocpp21::Action::NotifyPeriodicEventStream]);
    assert!(ocpp201::Action::ALL.iter().all(|a| !a.is_send()));
    assert!(ocpp16::Action::ALL.iter().all(|a| !a.is_send()));
    assert!(ocpp21::AnyResponse::decode(
        ocpp21::Action::NotifyPeriodicEventStream,
        "{}",
        &DecodeOptions::STRICT
    )
    .is_err());
}

/// Bug 2: a payload that is not valid JSON must be reported as a syntax error (FormatViolation /
/// FormationViolation at the root, with a syntax description), even when an unknown member comes
/// before the syntax error.
#[test]
fn syntax_error_after_unknown_member_is_reported_as_syntax_error() {
    for (v, r) in [
        (
            OcppVersion::V16,
            decode_call::<ocpp16::Ocpp16>(
                Role::Csms,
                "Heartbeat",
                r#"{"a":}"#,
                &DecodeOptions::STRICT,
            )
            .map(|_| ()),
        ),
        (
            OcppVersion::V201,
            decode_call::<ocpp201::Ocpp201>(
                Role::Csms,
                "Heartbeat",
                r#"{"a":}"#,
                &DecodeOptions::STRICT,
            )
            .map(|_| ()),
        ),
        (
            OcppVersion::V21,
            decode_call::<ocpp21::Ocpp21>(
                Role::Csms,
                "Heartbeat",
                r#"{"a":}"#,
                &DecodeOptions::STRICT,
            )
            .map(|_| ()),
        ),
    ] {
        let e = r.unwrap_err();
        assert_eq!(e.code().wire(v), Fault::InvalidJson.expected_wire(v));
        assert_eq!(e.path(), "", "OCPP {v}: payload {{\"a\":}} reported as {e}");
        assert!(!e.description().contains("not defined"), "OCPP {v}: {e}");
    }
}

/// Exact decimals and lossless date-times at the text level (a `Value` comparison cannot see
/// trailing zeros or the spelling of an offset): the strict round trip writes back the same text.
#[test]
fn numbers_and_date_times_are_written_back_as_read() {
    // Members in the encoder's (schema) order: the order of members is not part of the contract.
    let input = r#"{"evseId":1,"meterValue":[{"sampledValue":[{"value":1.50},{"value":-0.000100},{"value":12345678901234.5678}],"timestamp":"2024-01-01T00:00:00.120+01:00"},{"sampledValue":[{"value":100}],"timestamp":"2024-01-01T00:00:00Z"}]}"#;
    let (r, _) =
        ocpp201::AnyRequest::decode(ocpp201::Action::MeterValues, input, &DecodeOptions::STRICT)
            .unwrap();
    assert_eq!(
        r.encode(&DecodeOptions::STRICT).unwrap(),
        input,
        "OCPP 2.0.1 MeterValuesRequest"
    );
    let (r, _) =
        ocpp21::AnyRequest::decode(ocpp21::Action::MeterValues, input, &DecodeOptions::STRICT)
            .unwrap();
    assert_eq!(
        r.encode(&DecodeOptions::STRICT).unwrap(),
        input,
        "OCPP 2.1 MeterValuesRequest"
    );
    let v16 = r#"{"connectorId":1,"meterValue":[{"timestamp":"2024-01-01T00:00:00.123456789-05:30","sampledValue":[{"value":"1.50"}]}]}"#;
    let (r, _) =
        ocpp16::AnyRequest::decode(ocpp16::Action::MeterValues, v16, &DecodeOptions::STRICT)
            .unwrap();
    assert_eq!(
        r.encode(&DecodeOptions::STRICT).unwrap(),
        v16,
        "OCPP 1.6 MeterValues"
    );
}
