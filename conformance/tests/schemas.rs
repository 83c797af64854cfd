//! Schema conformance of every request and response of OCPP 1.6, 2.0.1 and 2.1: generated valid
//! payloads round-trip exactly and satisfy the official schema; single-fault mutations are refused
//! with the exact error code (per version) and JSON pointer; lenient decoding keeps unknown
//! members and enum values and writes them back.
//!
//! Skipped (with a message) when the schemas are absent, unless CI=true.

use std::collections::BTreeSet;

use conformance::mutate::Fault;
use conformance::{enum_values_in, fault_counts, Report, Suite};

macro_rules! version_suite {
    ($module:ident, $protocol:ty) => {
        mod $module {
            use super::*;

            fn suite() -> Option<&'static Suite> {
                Suite::get::<$protocol>()
            }

            /// The harness reads exactly the schema files of the version's actions, no more, no less.
            #[test]
            fn every_schema_file_belongs_to_an_action() {
                let Some(s) = suite() else { return };
                let expected: BTreeSet<String> =
                    s.messages.iter().map(|m| m.file.clone()).collect();
                let on_disk = s.files_on_disk();
                assert_eq!(
                    on_disk.difference(&expected).collect::<Vec<_>>(),
                    Vec::<&String>::new(),
                    "OCPP {}: schema files without an action in the generated crate",
                    s.version
                );
                assert_eq!(expected.len(), s.messages.len());
            }

            /// Random payloads (proptest, deterministic seed) round-trip strictly and exactly, and
            /// pass the lenient property.
            #[test]
            fn random_payloads_round_trip_and_leniency_is_lossless() {
                let Some(s) = suite() else { return };
                let mut report = Report::default();
                for m in &s.messages {
                    report.record(s.run_random(m));
                }
                report.assert_ok(&format!(
                    "OCPP {}: {} schemas x {} random cases",
                    s.version,
                    s.messages.len(),
                    conformance::cases()
                ));
            }

            /// The deterministic edge examples round-trip, and together they use every value of
            /// every enum of every schema.
            #[test]
            fn edge_examples_round_trip_and_cover_every_enum_value() {
                let Some(s) = suite() else { return };
                let mut report = Report::default();
                let mut enum_values = 0;
                for m in &s.messages {
                    let mut seen = BTreeSet::new();
                    for (what, v) in s.examples(m) {
                        seen.extend(enum_values_in(&v, &m.node));
                        report.record(
                            s.check_round_trip(m, &v)
                                .map_err(|e| format!("[{what}] {e}")),
                        );
                    }
                    let all = s.enum_values(m);
                    enum_values += all.len();
                    let missing: Vec<_> = all.difference(&seen).collect();
                    report.record(if missing.is_empty() {
                        Ok(())
                    } else {
                        Err(format!(
                            "OCPP {} {}: HARNESS: enum values never generated: {missing:?}",
                            s.version, m.file
                        ))
                    });
                }
                report.assert_ok(&format!(
                    "OCPP {}: edge examples ({enum_values} enum values)",
                    s.version
                ));
            }

            /// Every single-fault mutation is refused with the exact code and pointer; over-long
            /// strings and unknown enum values kept by a lenient decode are refused by the strict
            /// encoder with the same code and pointer.
            #[test]
            fn mutations_report_exact_code_and_pointer() {
                let Some(s) = suite() else { return };
                let mut report = Report::default();
                let mut all = Vec::new();
                for m in &s.messages {
                    for mu in s.mutations(m) {
                        report.record(s.check_mutation(m, &mu));
                        if matches!(mu.fault, Fault::TooLong | Fault::BadEnumValue) {
                            report.record(s.check_strict_encode_refuses(m, &mu));
                        }
                        all.push(mu);
                    }
                }
                let counts = fault_counts(&all);
                eprintln!("OCPP {}: {} mutations {counts:?}", s.version, all.len());
                for f in [
                    Fault::MissingRequired,
                    Fault::WrongType,
                    Fault::BadEnumValue,
                    Fault::TooLong,
                    Fault::UnknownMember,
                ] {
                    assert!(
                        counts.get(&f).copied().unwrap_or(0) > 0,
                        "OCPP {}: no {f:?} mutation generated",
                        s.version
                    );
                }
                report.assert_ok(&format!("OCPP {}: mutations", s.version));
            }
        }
    };
}

version_suite!(v16, ocpp16::Ocpp16);
version_suite!(v201, ocpp201::Ocpp201);
version_suite!(v21, ocpp21::Ocpp21);

/// The harness itself must be able to fail: a wrong expectation or a payload the schema rejects
/// is reported, naming the version, file, payload and error.
mod harness_self_test {
    use conformance::mutate::{Fault, Mutation};
    use conformance::Suite;
    use serde_json::json;

    #[test]
    fn wrong_expectations_are_reported() {
        let Some(s) = Suite::get::<ocpp16::Ocpp16>() else {
            return;
        };
        let m = s
            .messages
            .iter()
            .find(|m| m.file == "BootNotification.json")
            .expect("BootNotification.json");
        let missing = json!({"chargePointVendor": "ACME"});
        let ok = Mutation {
            fault: Fault::MissingRequired,
            what: "model removed".into(),
            path: "/chargePointModel".into(),
            payload: missing.clone(),
        };
        assert_eq!(s.check_mutation(m, &ok), Ok(()));
        let wrong_path = Mutation {
            path: "/chargePointVendor".into(),
            ..ok.clone()
        };
        let e = s.check_mutation(m, &wrong_path).unwrap_err();
        assert!(
            e.contains("OCPP 1.6 BootNotification.json")
                && e.contains("OccurenceConstraintViolation")
                && e.contains(&missing.to_string()),
            "{e}"
        );
        let wrong_code = Mutation {
            fault: Fault::WrongType,
            ..ok.clone()
        };
        assert!(s.check_mutation(m, &wrong_code).is_err());
        let valid = Mutation {
            payload: json!({"chargePointVendor": "ACME", "chargePointModel": "M"}),
            ..ok
        };
        assert!(s.check_mutation(m, &valid).unwrap_err().contains("HARNESS"));
        assert!(s
            .check_round_trip(m, &missing)
            .unwrap_err()
            .contains("HARNESS"));
        assert_eq!(
            s.check_round_trip(
                m,
                &json!({"chargePointVendor": "ACME", "chargePointModel": "M"})
            ),
            Ok(())
        );
    }
}

/// Regression tests of bugs this suite found in the generated code / ocpp-types.
mod regressions {
    use ocpp_types::DecodeOptions;

    /// 2.0.1 / 2.1 `DataTransfer.data` has no type: `null` is a valid value and strict decoding
    /// keeps it, but LENIENT (`null_as_absent`) drops it, so the payload is not written back as
    /// read, and `null_members` counts a leniency for a valid payload.
    #[test]
    fn lenient_keeps_null_of_untyped_member() {
        let input = r#"{"vendorId":"v","data":null}"#;
        let want: serde_json::Value = serde_json::from_str(input).unwrap();
        let (req, _) = ocpp201::AnyRequest::decode(
            ocpp201::Action::DataTransfer,
            input,
            &DecodeOptions::STRICT,
        )
        .unwrap();
        let strict: serde_json::Value =
            serde_json::from_str(&req.encode(&DecodeOptions::STRICT).unwrap()).unwrap();
        assert_eq!(strict, want, "strict");
        for (version, out, l) in [
            {
                let (r, l) = ocpp201::AnyRequest::decode(
                    ocpp201::Action::DataTransfer,
                    input,
                    &DecodeOptions::LENIENT,
                )
                .unwrap();
                ("2.0.1", r.encode(&DecodeOptions::LENIENT).unwrap(), l)
            },
            {
                let (r, l) = ocpp21::AnyRequest::decode(
                    ocpp21::Action::DataTransfer,
                    input,
                    &DecodeOptions::LENIENT,
                )
                .unwrap();
                ("2.1", r.encode(&DecodeOptions::LENIENT).unwrap(), l)
            },
        ] {
            let got: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert_eq!(
                got, want,
                "OCPP {version} DataTransferRequest LENIENT: payload {input} written back as {out}"
            );
            assert!(
                l.is_empty(),
                "OCPP {version}: leniencies {l:?} for a valid payload"
            );
        }
    }
}
