//! Shared harness code of the fuzz targets (see `fuzz/README.md`).
//!
//! Every check here is a property the library promises; a failed check panics, so libFuzzer
//! records the input as a crash.

use ocpp_types::{decode_call, DecodeOptions, OcppVersion, Protocol, Role};

pub mod engine;

/// The three OCPP versions, picked by a byte.
pub fn version(b: u8) -> OcppVersion {
    match b % 3 {
        0 => OcppVersion::V16,
        1 => OcppVersion::V201,
        _ => OcppVersion::V21,
    }
}

/// The typed dispatcher of `P` in both directions, on one fuzz input.
///
/// Layout: byte 0 picks the action (an index into `P::actions()`, or, for the top values, the
/// action name is read up to the first `\n` of the rest), byte 1 picks the options and the
/// direction; the rest is the payload (bytes that are not UTF-8 are rejected before they get
/// here, as a WebSocket text frame would be).
///
/// Properties:
/// - `decode_call` (CALL received by the CSMS, and by the station) and `decode_response` never
///   panic, under STRICT and LENIENT;
/// - an unknown action name is `NotImplemented`, a known one in the wrong direction `NotSupported`;
/// - whatever decodes encodes again under the same options, and the encoded text decodes to an
///   equal Rust value (requests through `decode_call`, responses through `decode_response`);
/// - a value decoded under STRICT is also accepted by LENIENT (to an equal value).
pub fn dispatch<P>(data: &[u8])
where
    P: Protocol,
    P::AnyRequest: PartialEq,
    P::AnyResponse: PartialEq,
{
    if data.len() < 2 {
        return;
    }
    let (sel, flags, rest) = (data[0], data[1], &data[2..]);
    let Ok(rest) = std::str::from_utf8(rest) else {
        return;
    };
    let actions = P::actions();
    let (action, payload): (&str, &str) = if usize::from(sel) < actions.len() || sel < 0xf0 {
        (
            P::action_name(actions[usize::from(sel) % actions.len()]),
            rest,
        )
    } else {
        rest.split_once('\n').unwrap_or((rest, "{}"))
    };
    let opts = if flags & 1 == 0 {
        DecodeOptions::STRICT
    } else {
        DecodeOptions::LENIENT
    };
    for role in [Role::Csms, Role::ChargingStation] {
        match decode_call::<P>(role, action, payload, &opts) {
            Ok((req, _)) => {
                let a = P::request_action(&req);
                assert_eq!(P::action_name(a), action, "decoded as another action");
                let text = P::encode_request(&req, &opts).unwrap_or_else(|e| {
                    panic!("{action}: decoded request does not encode under the same options: {e:?}\n  input: {payload}")
                });
                let (again, _) = decode_call::<P>(role, action, &text, &opts).unwrap_or_else(|e| {
                    panic!("{action}: encoded request does not decode: {e:?}\n  input: {payload}\n  encoded: {text}")
                });
                assert!(
                    again == req,
                    "{action}: request changed in a round trip\n  input: {payload}\n  encoded: {text}\n  first: {req:?}\n  again: {again:?}"
                );
                if flags & 1 == 0 {
                    let (lenient, _) = decode_call::<P>(
                        role,
                        action,
                        payload,
                        &DecodeOptions::LENIENT,
                    )
                    .unwrap_or_else(|e| {
                        panic!(
                            "{action}: STRICT accepts, LENIENT refuses: {e:?}\n  input: {payload}"
                        )
                    });
                    assert!(
                        lenient == req,
                        "{action}: STRICT and LENIENT decode differently\n  input: {payload}"
                    );
                }
            }
            Err(e) => {
                let code = e.code();
                match P::action_from_name(action) {
                    None => assert_eq!(code, ocpp_types::ErrorCode::NotImplemented),
                    Some(a) if !P::action_direction(a).received_by(role) => {
                        assert_eq!(code, ocpp_types::ErrorCode::NotSupported)
                    }
                    Some(_) => {}
                }
                // Never panics, for every version's spelling.
                let _ = (e.path(), e.description(), code.wire(P::VERSION));
            }
        }
    }
    let Some(a) = P::action_from_name(action) else {
        return;
    };
    if P::action_is_send(a) {
        return;
    }
    if let Ok((resp, _)) = P::decode_response(a, payload, &opts) {
        assert_eq!(
            P::response_action(&resp),
            a,
            "response decoded as another action"
        );
        let text = P::encode_response(&resp, &opts).unwrap_or_else(|e| {
            panic!("{action}: decoded response does not encode under the same options: {e:?}\n  input: {payload}")
        });
        let (again, _) = P::decode_response(a, &text, &opts).unwrap_or_else(|e| {
            panic!("{action}: encoded response does not decode: {e:?}\n  input: {payload}\n  encoded: {text}")
        });
        assert!(
            again == resp,
            "{action}: response changed in a round trip\n  input: {payload}\n  encoded: {text}\n  first: {resp:?}\n  again: {again:?}"
        );
        if flags & 1 == 0 {
            let (lenient, _) = P::decode_response(a, payload, &DecodeOptions::LENIENT)
                .unwrap_or_else(|e| {
                    panic!("{action}: STRICT accepts, LENIENT refuses: {e:?}\n  input: {payload}")
                });
            assert!(
                lenient == resp,
                "{action}: STRICT and LENIENT decode differently\n  input: {payload}"
            );
        }
    }
}
