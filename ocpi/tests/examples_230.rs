//! Every official OCPI 2.3.0 example parses, validates and round-trips; the known upstream
//! defects (listed in `shared/ocpi/README.md`) are read leniently and detected by validation.

mod common;

use std::collections::BTreeMap;

use ocpi::transport::{apply_patch, Envelope};
use ocpi::v230::*;
use ocpi::validate::{Validate, ValidationErrors, Validator};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// Parses, writes back (must be identical), validates; returns the validation errors as text.
fn round_trip<T: DeserializeOwned + Serialize + Validate>(v: &Value) -> Vec<String> {
    let typed: T = match serde_json::from_value(v.clone()) {
        Ok(t) => t,
        Err(e) => return vec![format!("PARSE {e}")],
    };
    let back = serde_json::to_value(&typed).unwrap();
    if &back != v {
        return vec![format!("ROUNDTRIP {back}")];
    }
    errs(typed.validate())
}

fn errs(r: Result<(), ValidationErrors>) -> Vec<String> {
    match r {
        Ok(()) => vec![],
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct EnergyMixFragment {
    energy_mix: EnergyMix,
}
impl Validate for EnergyMixFragment {
    fn validate_into(&self, v: &mut Validator) {
        v.field("energy_mix", |v| self.energy_mix.validate_into(v));
    }
}
#[derive(serde::Serialize, serde::Deserialize)]
struct OpeningTimesFragment {
    opening_times: Hours,
}
impl Validate for OpeningTimesFragment {
    fn validate_into(&self, v: &mut Validator) {
        v.field("opening_times", |v| self.opening_times.validate_into(v));
    }
}

fn envelope<T: DeserializeOwned + Serialize + Validate>(name: &str, v: &Value) -> Vec<String> {
    let typed: Envelope<T> =
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        &serde_json::to_value(&typed).unwrap(),
        v,
        "{name}: does not round-trip"
    );
    assert!(typed.status_code.is_success());
    match typed.data.as_ref().map(Validate::validate) {
        Some(r) => errs(r),
        None => vec![],
    }
}

/// Upstream defects: file -> the validation errors (path: message) each must produce exactly.
fn known_defects() -> BTreeMap<&'static str, Vec<&'static str>> {
    const OLD_PRICE: &str = "member of the OCPI 2.2.1 Price; 2.3.0 uses before_taxes and taxes";
    let old_price = |with_incl: bool| {
        let mut v = vec!["$.total_costs.before_taxes: required member is missing".to_owned()];
        v.push(format!("$.total_costs.excl_vat: {OLD_PRICE}"));
        if with_incl {
            v.push(format!("$.total_costs.incl_vat: {OLD_PRICE}"));
        }
        v
    };
    let leak = |v: Vec<String>| -> Vec<&'static str> {
        v.into_iter()
            .map(|s| &*Box::leak(s.into_boxed_str()))
            .collect()
    };
    // `parking` entries that are bare ids: (EVSE index or the EVSE itself, number of entries).
    let bare = |at: &[(Option<usize>, usize)]| {
        let mut v = Vec::new();
        for (e, n) in at {
            let base = e
                .map(|e| format!("$.evses[{e}].parking"))
                .unwrap_or("$.parking".into());
            for i in 0..*n {
                v.push(format!(
                    "{base}[{i}]: a bare parking id; OCPI 2.3.0 requires an EVSEParking object"
                ));
            }
        }
        v
    };
    BTreeMap::from([
        // The tariff inside the CDR lacks the required `tax_included` (read leniently).
        (
            "cdr_example.json",
            vec!["$.tariffs[0].tax_included: required member is missing"],
        ),
        // EVSE `parking` given as bare parking ids instead of EVSEParking objects (not listed
        // in shared/ocpi/README.md; read leniently, kept, reported).
        (
            "location_example.json",
            leak(bare(&[(Some(0), 2), (Some(1), 2)])),
        ),
        // The PATCH examples are applied to location_example.json and inherit it.
        (
            "location_patch_example_location.json",
            leak(bare(&[(Some(0), 2), (Some(1), 2)])),
        ),
        (
            "location_patch_example_remove_evse.json",
            leak(bare(&[(None, 2)])),
        ),
        (
            "location_patch_example_status.json",
            leak(bare(&[(None, 2)])),
        ),
        (
            "location_example_parking_garage_opening_hours.json",
            leak(bare(&[(Some(0), 1)])),
        ),
        // A partial PUT whose `invoice_base_url` is not a URL.
        (
            "payment_terminal_put_update.json",
            vec!["$.invoice_base_url: \"someNewURL\" is not an absolute http(s) URL"],
        ),
        // PUT example without `last_updated`: does not parse (as in 2.2.1).
        ("tariff_put_example.json", vec!["PARSE"]),
        // EVSE PUT example unchanged from 2.2.1: `floor` instead of `floor_level`, a numeric
        // `physical_reference`, a connector without its required members: does not parse.
        ("location_put_example_add_evse.json", vec!["PARSE"]),
        // The financial advice confirmations use the 2.2.1 Price shape; the failure example
        // also lacks the required non-empty `eft_data`.
        (
            "payment_financial_advice_confirmation_create.json",
            leak(old_price(true)),
        ),
        (
            "payment_financial_advice_confirmation_example_success.json",
            leak(old_price(true)),
        ),
        (
            "payment_financial_advice_confirmation_example_failure.json",
            {
                let mut v = old_price(true);
                v.insert(2, "$.eft_data: must contain at least one item".to_owned());
                v.sort();
                leak(v)
            },
        ),
        // Terminal create requests: the server assigns `last_updated`.
        (
            "payment_terminal_create_minimal.json",
            vec!["$.last_updated: required member is missing"],
        ),
    ])
}

#[test]
fn official_examples_2_3_0() {
    let Some(dir) = common::spec_dir("official_examples_2_3_0") else {
        return;
    };
    let dir = dir.join("examples-2.3.0");
    let read = |n: &str| common::read_json(&dir.join(n));
    let location: Location = serde_json::from_value(read("location_example.json")).unwrap();
    let session: Session =
        serde_json::from_value(read("session_example_2_short_finished.json")).unwrap();
    let token: Token = serde_json::from_value(read("token_example_1_app_user.json")).unwrap();
    let terminal: Terminal =
        serde_json::from_value(read("payment_terminal_example_newly_created.json")).unwrap();

    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(files.len(), 72, "expected the 72 examples of 2.3.0");
    let defects = known_defects();
    let mut failures = Vec::new();
    let mut checked = 0;
    for name in &files {
        let v = read(name);
        let n = name.as_str();
        if defects.get(n) == Some(&vec!["PARSE"]) {
            let err = match n {
                "tariff_put_example.json" => serde_json::from_value::<Tariff>(v).err(),
                _ => serde_json::from_value::<Evse>(v).err(),
            };
            assert!(err.is_some(), "{n}: known defect no longer present");
            checked += 1;
            continue;
        }
        let mut errors = if n.starts_with("cdr_") {
            round_trip::<Cdr>(&v)
        } else if n.starts_with("credentials_") {
            round_trip::<Credentials>(&v)
        } else if n.starts_with("location_energymix_") {
            round_trip::<EnergyMixFragment>(&v)
        } else if n.starts_with("location_example") {
            round_trip::<Location>(&v)
        } else if n.starts_with("location_hours_") {
            round_trip::<Hours>(&v)
        } else if n == "location_regularhours_example.json" {
            round_trip::<OpeningTimesFragment>(&v)
        } else if n == "location_patch_example_location.json" {
            let patched = apply_patch(&location, &v, &["country_code", "party_id", "id"]).unwrap();
            assert_eq!(serde_json::to_value(&patched.name).unwrap(), v["name"]);
            errs(patched.validate())
        } else if n == "location_patch_example_tariff.json" {
            let connector = location.evses[0].connectors[0].clone();
            let patched = apply_patch(&connector, &v, &["id"]).unwrap();
            assert_eq!(
                serde_json::to_value(&patched.tariff_ids).unwrap(),
                v["tariff_ids"]
            );
            errs(patched.validate())
        } else if n.starts_with("location_patch_example") {
            let evse = location.evses[0].clone();
            let patched = apply_patch(&evse, &v, &["uid"]).unwrap();
            assert_eq!(patched.status.as_str(), v["status"].as_str().unwrap());
            errs(patched.validate())
        } else if n.starts_with("payment_financial_advice_confirmation") {
            round_trip::<FinancialAdviceConfirmation>(&v)
        } else if n == "payment_terminal_location_assignment.json"
            || n == "payment_terminal_put_update.json"
        {
            // Partial bodies (a PATCH and a partial PUT in the specification): applied to a
            // terminal as a PATCH. Upstream defect: the location assignment PATCH lacks the
            // `last_updated` every PATCH must carry; it is refused, then applied with one.
            let mut v = v;
            if v.get("last_updated").is_none() {
                assert!(apply_patch(&terminal, &v, &["terminal_id"]).is_err());
                v["last_updated"] = "2024-01-01T00:00:00Z".into();
            }
            let patched = apply_patch(&terminal, &v, &["terminal_id"]).unwrap();
            for (k, x) in v.as_object().unwrap() {
                assert_eq!(&serde_json::to_value(&patched).unwrap()[k], x, "{n}: {k}");
            }
            errs(patched.validate())
        } else if n.starts_with("payment_terminal") {
            round_trip::<Terminal>(&v)
        } else if n.starts_with("session_example") {
            round_trip::<Session>(&v)
        } else if n.starts_with("session_patch") {
            let patched = apply_patch(&session, &v, &["id"]).unwrap();
            errs(patched.validate())
        } else if n.starts_with("tariff") {
            round_trip::<Tariff>(&v)
        } else if n == "token_patch_example.json" {
            let patched = apply_patch(&token, &v, &["uid"]).unwrap();
            assert!(!patched.valid);
            errs(patched.validate())
        } else if n.starts_with("token_") {
            round_trip::<Token>(&v)
        } else if n == "transport_and_format_get_token_example.json" {
            envelope::<Token>(n, &v)
        } else if n == "transport_and_format_get_token_list_example.json" {
            envelope::<Vec<Token>>(n, &v)
        } else if n == "transport_and_format_version_details_example.json" {
            envelope::<VersionDetails>(n, &v)
        } else if n == "transport_and_format_version_info_example.json" {
            envelope::<Vec<Version>>(n, &v)
        } else if n == "type_displaytext_example.json" {
            round_trip::<DisplayText>(&v)
        } else if n.starts_with("version_details_example") {
            round_trip::<VersionDetails>(&v)
        } else if n == "versions_info_example.json" {
            round_trip::<Vec<Version>>(&v)
        } else {
            panic!("{n}: no type mapped for this example");
        };
        errors.sort();
        let expected: Vec<String> = defects
            .get(n)
            .map(|d| d.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default();
        if errors != expected {
            failures.push(format!("{n}: {errors:?}"));
        }
        checked += 1;
    }
    assert!(
        failures.is_empty(),
        "unexpected results:\n{}",
        failures.join("\n")
    );
    assert_eq!(checked, 72);
}

#[test]
fn prices_with_taxes_are_exact() {
    let p: Price = serde_json::from_str(
        r#"{"before_taxes": 10.10, "taxes": [{"name": "GST", "percentage": 5, "amount": 0.505},
            {"name": "QST", "account_number": "1234", "percentage": 9.975, "amount": 1.007475}]}"#,
    )
    .unwrap();
    p.validate().unwrap();
    assert_eq!(p.after_taxes().unwrap().to_string(), "11.612475");
    assert_eq!(
        serde_json::to_value(&p).unwrap()["taxes"][1]["amount"].to_string(),
        "1.007475"
    );
}

#[test]
fn open_enums_are_open_in_2_3_0_only() {
    let connector = serde_json::json!({
        "id": "1", "standard": "X_FUTURE_PLUG", "format": "CABLE", "power_type": "DC",
        "max_voltage": 920, "max_amperage": 500, "capabilities": ["ISO_15118_20_PLUG_AND_CHARGE", "X_V2G"],
        "last_updated": "2024-01-01T00:00:00Z"
    });
    // 2.3.0: ConnectorType and ConnectorCapability are OpenEnums.
    let c: Connector = serde_json::from_value(connector.clone()).unwrap();
    c.validate().unwrap();
    assert_eq!(serde_json::to_value(&c).unwrap(), connector);
    // a closed enum is still checked
    let mut bad = connector.clone();
    bad["format"] = "HOSE".into();
    let c: Connector = serde_json::from_value(bad).unwrap();
    assert_eq!(c.validate().unwrap_err().0[0].path, "$.format");
    // 2.2.1: ConnectorType is closed.
    let c: ocpi::v221::Connector = serde_json::from_value(connector).unwrap();
    let e = c.validate().unwrap_err();
    assert_eq!(e.0[0].path, "$.standard");
    assert_eq!(e.0.len(), 1, "{e:?}");
}

#[test]
fn parking_places_and_new_members() {
    let v = serde_json::json!({
        "id": "P1", "vehicle_types": ["PERSONAL_VEHICLE", "DISABLED"], "max_vehicle_weight": 3500,
        "direction": "PARALLEL", "restricted_to_type": true, "reservation_required": false,
        "standards": ["PAS 1899"]
    });
    let p: Parking = serde_json::from_value(v.clone()).unwrap();
    p.validate().unwrap();
    assert_eq!(serde_json::to_value(&p).unwrap(), v);
    let mut bad = v.clone();
    bad["vehicle_types"] = serde_json::json!([]);
    bad["direction"] = "DIAGONAL".into();
    let p: Parking = serde_json::from_value(bad).unwrap();
    let paths: Vec<_> = p
        .validate()
        .unwrap_err()
        .0
        .into_iter()
        .map(|e| e.path)
        .collect();
    assert_eq!(paths, ["$.vehicle_types", "$.direction"]);
    let role: Result<CredentialsRole, _> = serde_json::from_value(serde_json::json!({
        "role": "HUB", "party_id": "HUB", "country_code": "NL", "business_details": {"name": "Hub"}
    }));
    let e = role.unwrap().validate().unwrap_err();
    assert_eq!(e.0[0].path, "$.role", "HUB is no longer a role in 2.3.0");
}
