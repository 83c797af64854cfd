//! The OCPI 2.1.1 examples, extracted at run time from the ```json blocks of the Markdown
//! specification (2.1.1 has no example files): every complete object parses, round-trips and
//! validates; the known defects of the examples are listed and must still be detected.

mod common;

use std::collections::BTreeMap;

use ocpi::transport::Envelope;
use ocpi::v211::*;
use ocpi::validate::{Validate, Validator};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

fn round_trip<T: DeserializeOwned + Serialize + Validate>(v: &Value) -> Vec<String> {
    let typed: T = match serde_json::from_value(v.clone()) {
        Ok(t) => t,
        Err(e) => return vec![format!("PARSE {e}")],
    };
    let back = serde_json::to_value(&typed).unwrap();
    if &back != v {
        return vec![format!("ROUNDTRIP {back}")];
    }
    match typed.validate() {
        Ok(()) => vec![],
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Fragment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    energy_mix: Option<EnergyMix>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    opening_times: Option<Hours>,
}
impl Validate for Fragment {
    fn validate_into(&self, v: &mut Validator) {
        v.field("energy_mix", |v| self.energy_mix.validate_into(v));
        v.field("opening_times", |v| self.opening_times.validate_into(v));
    }
}

/// The JSON blocks of a Markdown file, with a leading `PUT To URL:`/`PATCH To URL:` line
/// split off as the method.
fn json_blocks(text: &str) -> Vec<(Option<String>, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("```json") {
        let after = &rest[i + 7..];
        let Some(end) = after.find("```") else { break };
        let mut body = after[..end].trim();
        let mut method = None;
        if let Some((first, tail)) = body.split_once('\n') {
            if first.contains(" To URL:") {
                method = first.split_whitespace().next().map(str::to_owned);
                body = tail.trim();
            }
        }
        out.push((method, body.to_owned()));
        rest = &after[end + 3..];
    }
    out
}

/// Known defects of the inline examples: `file#block` -> expected validation errors.
fn known_defects() -> BTreeMap<&'static str, Vec<&'static str>> {
    BTreeMap::from([
        // `"energy_sources": [...],` ends with a trailing comma: not JSON.
        ("mod_locations.md#8", vec!["NOT JSON"]),
        // The embedded location writes the EVSE status as `STATUS` (and `type` in lower case,
        // `country` as alpha-2): the EVSE lacks its required `status`.
        ("mod_cdrs.md#0", vec!["PARSE missing field `status`"]),
        ("mod_sessions.md#1", vec!["PARSE missing field `status`"]),
        ("mod_sessions.md#2", vec!["PARSE missing field `status`"]),
        // EVSE PUT without the connector's power_type/voltage/amperage/last_updated.
        (
            "mod_locations.md#3",
            vec!["PARSE missing field `power_type`"],
        ),
        // The connector of the second EVSE lacks `last_updated`.
        (
            "mod_locations.md#5",
            vec!["PARSE missing field `last_updated`"],
        ),
        // Tariff PUT bodies without `last_updated`, the second also without `id`/`currency`.
        (
            "mod_tariffs.md#0",
            vec!["PARSE missing field `last_updated`"],
        ),
        ("mod_tariffs.md#1", vec!["PARSE missing field `id`"]),
        // Versions list example with version "1.9", which is not a VersionNumber.
        (
            "transport_and_format.md#0",
            vec!["$[0].version: \"1.9\" is not a value of VersionNumber"],
        ),
        // Token examples with `allow_whitelist: true` instead of `whitelist`.
        (
            "transport_and_format.md#2",
            vec!["PARSE missing field `whitelist`"],
        ),
        (
            "transport_and_format.md#3",
            vec!["PARSE missing field `whitelist`"],
        ),
    ])
}

#[test]
fn inline_examples_2_1_1() {
    let Some(dir) = common::spec_dir("inline_examples_2_1_1") else {
        return;
    };
    let dir = dir.join("spec-2.1.1");
    let defects = known_defects();
    let mut failures = Vec::new();
    let (mut checked, mut patches) = (0, 0);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".md"))
        .collect();
    files.sort();
    for file in &files {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        for (i, (method, body)) in json_blocks(&text).into_iter().enumerate() {
            let key = format!("{file}#{i}");
            if method.as_deref() == Some("PATCH") {
                // partial objects: not complete, nothing to round-trip
                patches += 1;
                continue;
            }
            let v: Value = match serde_json::from_str(&body) {
                Ok(v) => v,
                // a member shown on its own, e.g. `"energy_mix": {...}`
                Err(_) => match serde_json::from_str(&format!("{{{body}}}")) {
                    Ok(v) => v,
                    Err(_) => {
                        if defects.get(key.as_str()) != Some(&vec!["NOT JSON"]) {
                            failures.push(format!("{key}: not JSON"));
                        }
                        checked += 1;
                        continue;
                    }
                },
            };
            let errors = match file.as_str() {
                "credentials.md" => round_trip::<Credentials>(&v),
                "mod_cdrs.md" => round_trip::<Cdr>(&v),
                "mod_sessions.md" => round_trip::<Session>(&v),
                "mod_tariffs.md" => round_trip::<Tariff>(&v),
                "mod_tokens.md" => round_trip::<Token>(&v),
                "mod_locations.md" if v.get("connectors").is_some() => round_trip::<Evse>(&v),
                "mod_locations.md" if v.get("id").is_some() => round_trip::<Location>(&v),
                "mod_locations.md" => round_trip::<Fragment>(&v),
                "version_information_endpoint.md" if v.is_array() => round_trip::<Vec<Version>>(&v),
                "version_information_endpoint.md" => round_trip::<VersionDetails>(&v),
                "transport_and_format.md" => {
                    let env: Envelope<Value> = serde_json::from_value(v.clone()).unwrap();
                    assert_eq!(serde_json::to_value(&env).unwrap(), v, "{key}");
                    match &env.data {
                        Some(Value::Array(a))
                            if a.first().is_some_and(|t| t.get("auth_id").is_some()) =>
                        {
                            round_trip::<Vec<Token>>(&env.data.clone().unwrap())
                        }
                        Some(d) if d.get("auth_id").is_some() => round_trip::<Token>(d),
                        Some(d) if d.get("endpoints").is_some() => round_trip::<VersionDetails>(d),
                        Some(Value::Array(a))
                            if a.first().is_some_and(|t| t.get("version").is_some()) =>
                        {
                            round_trip::<Vec<Version>>(&env.data.clone().unwrap())
                        }
                        _ => vec![],
                    }
                }
                _ => panic!("{key}: no type mapped for this example"),
            };
            let expected: Vec<String> = defects
                .get(key.as_str())
                .map(|d| d.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default();
            if errors != expected {
                failures.push(format!("{key}: {errors:?}"));
            }
            checked += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "unexpected results:\n{}",
        failures.join("\n")
    );
    assert_eq!((checked, patches), (26, 6), "examples and PATCH bodies");
}
