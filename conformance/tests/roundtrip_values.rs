//! `decode(encode(x)) == x` as Rust values, for every request and response type of OCPP 1.6,
//! 2.0.1 and 2.1.
//!
//! The values `x` come from the schema-driven generator ([`conformance::generate`]): a valid
//! payload is generated from the official schema and decoded strictly into the typed message;
//! that value is encoded (strictly) and decoded again, and the two Rust values must be equal
//! (`PartialEq` of the generated types, not a comparison of JSON texts). The same payload decoded
//! under `LENIENT` must give the same value too. Random payloads (proptest, deterministic seed,
//! `OCPP_CONFORMANCE_CASES` per schema) and the deterministic edge examples are both used.
//!
//! Skipped (with a `SKIPPED` line) when the schemas are absent, unless CI=true.

use conformance::{generate, Kind, MessageSchema, Report, Suite};
use ocpp_types::{DecodeOptions, Protocol};
use proptest::strategy::Strategy;
use proptest::test_runner::{TestCaseError, TestError};
use serde_json::Value;

/// The property on one payload of `m`: decode, encode, decode again, compare the values.
fn value_round_trip<P>(m: &MessageSchema, payload: &Value) -> Result<(), String>
where
    P: Protocol,
    P::AnyRequest: PartialEq,
    P::AnyResponse: PartialEq,
{
    let a = P::action_from_name(m.action).expect("action of the suite");
    let text = payload.to_string();
    let fail = |what: &str, detail: String| {
        format!(
            "OCPP {} {}: {what}\n  payload: {text}\n  {detail}",
            P::VERSION,
            m.file
        )
    };
    let strict = &DecodeOptions::STRICT;
    match m.kind {
        Kind::Request => {
            let (x, _) = P::decode_request(a, &text, strict)
                .map_err(|e| fail("generated payload refused", format!("{e:?}")))?;
            let enc = P::encode_request(&x, strict)
                .map_err(|e| fail("decoded value does not encode", format!("{e:?}")))?;
            let (y, _) = P::decode_request(a, &enc, strict).map_err(|e| {
                fail(
                    "encoded value does not decode",
                    format!("{e:?}; encoded: {enc}"),
                )
            })?;
            if y != x {
                return Err(fail(
                    "decode(encode(x)) != x",
                    format!("encoded: {enc}\n  x: {x:?}\n  y: {y:?}"),
                ));
            }
            let (l, _) = P::decode_request(a, &text, &DecodeOptions::LENIENT)
                .map_err(|e| fail("LENIENT refuses a valid payload", format!("{e:?}")))?;
            if l != x {
                return Err(fail(
                    "LENIENT decodes a valid payload differently",
                    format!("strict: {x:?}\n  lenient: {l:?}"),
                ));
            }
        }
        Kind::Response => {
            let (x, _) = P::decode_response(a, &text, strict)
                .map_err(|e| fail("generated payload refused", format!("{e:?}")))?;
            let enc = P::encode_response(&x, strict)
                .map_err(|e| fail("decoded value does not encode", format!("{e:?}")))?;
            let (y, _) = P::decode_response(a, &enc, strict).map_err(|e| {
                fail(
                    "encoded value does not decode",
                    format!("{e:?}; encoded: {enc}"),
                )
            })?;
            if y != x {
                return Err(fail(
                    "decode(encode(x)) != x",
                    format!("encoded: {enc}\n  x: {x:?}\n  y: {y:?}"),
                ));
            }
            let (l, _) = P::decode_response(a, &text, &DecodeOptions::LENIENT)
                .map_err(|e| fail("LENIENT refuses a valid payload", format!("{e:?}")))?;
            if l != x {
                return Err(fail(
                    "LENIENT decodes a valid payload differently",
                    format!("strict: {x:?}\n  lenient: {l:?}"),
                ));
            }
        }
    }
    Ok(())
}

fn run_version<P>()
where
    P: Protocol,
    P::AnyRequest: PartialEq,
    P::AnyResponse: PartialEq,
{
    let Some(s) = Suite::get::<P>() else { return };
    // Every request and response type of the version has a schema in the suite.
    let expected: usize = P::actions()
        .iter()
        .map(|&a| if P::action_is_send(a) { 1 } else { 2 })
        .sum();
    assert_eq!(
        s.messages.len(),
        expected,
        "OCPP {}: message types without a schema",
        P::VERSION
    );
    let mut report = Report::default();
    for m in &s.messages {
        for (what, v) in s.examples(m) {
            report.record(value_round_trip::<P>(m, &v).map_err(|e| format!("[{what}] {e}")));
        }
        let label = format!("values/{}/{}", s.version, m.file);
        let result = conformance::runner(&label).run(&generate::strategy(&m.node).boxed(), |v| {
            value_round_trip::<P>(m, &v).map_err(TestCaseError::fail)
        });
        report.record(match result {
            Ok(()) => Ok(()),
            Err(TestError::Fail(reason, v)) => Err(format!(
                "{reason}\n  (shrunk payload: {v}; seed label {label})"
            )),
            Err(TestError::Abort(reason)) => Err(format!("{label}: proptest aborted: {reason}")),
        });
    }
    report.assert_ok(&format!(
        "OCPP {}: decode(encode(x)) == x over {} message types (examples + {} random cases each)",
        s.version,
        s.messages.len(),
        conformance::cases()
    ));
}

#[test]
fn v16_values_round_trip() {
    run_version::<ocpp16::Ocpp16>();
}

#[test]
fn v201_values_round_trip() {
    run_version::<ocpp201::Ocpp201>();
}

#[test]
fn v21_values_round_trip() {
    run_version::<ocpp21::Ocpp21>();
}
