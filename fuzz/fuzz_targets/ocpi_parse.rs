//! OCPI 2.2.1 request parsing: every object of `ocpi::v221` from arbitrary JSON, the response
//! envelope, PATCH bodies, and the transport headers (`Authorization`, `Link`).
//!
//! Properties: nothing panics; an object that parses and validates serializes, and the
//! serialized JSON parses to an equal object (and still validates); a PATCH that applies yields
//! an object that serializes and parses back equal; an `Authorization` value that parses gives
//! at least one non-empty token; a `Link` that yields a URL yields a substring of the input.
#![no_main]

use ocpi::transport::{self, Envelope, TokenEncoding};
use ocpi::v221::*;
use ocpi::validate::Validate;
use serde::de::DeserializeOwned;
use serde::Serialize;

fn check<T>(text: &str)
where
    T: DeserializeOwned + Serialize + Validate + PartialEq + std::fmt::Debug,
{
    let Ok(x) = serde_json::from_str::<T>(text) else {
        return;
    };
    let valid = x.validate().is_ok();
    let out = serde_json::to_string(&x).expect("a parsed object serializes");
    let again: T = serde_json::from_str(&out).unwrap_or_else(|e| {
        panic!(
            "{}: serialized object does not parse: {e}\n  input: {text}\n  output: {out}",
            std::any::type_name::<T>()
        )
    });
    if valid {
        assert_eq!(
            again,
            x,
            "{}: changed in serialize -> parse\n  input: {text}\n  output: {out}",
            std::any::type_name::<T>()
        );
        assert!(
            again.validate().is_ok(),
            "re-parsed object no longer validates: {out}"
        );
    }
    // A PATCH body applied to the object.
    if let Ok(patch) = serde_json::from_str::<serde_json::Value>(text) {
        if let Ok(p) =
            transport::apply_patch(&x, &patch, &["country_code", "party_id", "id", "uid"])
        {
            let s = serde_json::to_string(&p).expect("patched object serializes");
            let _: T = serde_json::from_str(&s).expect("patched object parses again");
        }
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match sel % 32 {
        0 => check::<Location>(text),
        1 => check::<Evse>(text),
        2 => check::<Connector>(text),
        3 => check::<Session>(text),
        4 => check::<Cdr>(text),
        5 => check::<Tariff>(text),
        6 => check::<Token>(text),
        7 => check::<Credentials>(text),
        8 => check::<ClientInfo>(text),
        9 => check::<CommandResponse>(text),
        10 => check::<CommandResult>(text),
        11 => check::<ReserveNow>(text),
        12 => check::<StartSession>(text),
        13 => check::<StopSession>(text),
        14 => check::<UnlockConnector>(text),
        15 => check::<CancelReservation>(text),
        16 => check::<ChargingProfileResponse>(text),
        17 => check::<ActiveChargingProfileResult>(text),
        18 => check::<ChargingProfileResult>(text),
        19 => check::<ClearProfileResult>(text),
        20 => check::<SetChargingProfile>(text),
        21 => check::<ActiveChargingProfile>(text),
        22 => check::<AuthorizationInfo>(text),
        23 => check::<LocationReferences>(text),
        24 => check::<Version>(text),
        25 => check::<VersionDetails>(text),
        26 => check::<ChargingPreferences>(text),
        27 => check::<CdrToken>(text),
        28 => {
            if let Ok(env) = serde_json::from_str::<Envelope<serde_json::Value>>(text) {
                let out = serde_json::to_string(&env).expect("envelope serializes");
                let again: Envelope<serde_json::Value> =
                    serde_json::from_str(&out).expect("serialized envelope parses");
                let _ = again.status_code.is_success();
            }
        }
        29 => {
            for enc in [TokenEncoding::Raw, TokenEncoding::Base64] {
                for tolerant in [false, true] {
                    if let Ok(tokens) = transport::parse_authorization(Some(text), enc, tolerant) {
                        assert!(!tokens.is_empty(), "no token from {text:?}");
                        assert!(
                            tokens.iter().all(|t| !t.is_empty()),
                            "empty token from {text:?}"
                        );
                    }
                }
            }
        }
        30 => {
            if let Some(url) = transport::parse_next_link(text) {
                assert!(
                    text.contains(url.as_str()),
                    "next link {url:?} not in {text:?}"
                );
            }
        }
        _ => {
            if let Ok(q) = serde_json::from_str::<transport::PageQuery>(text) {
                let _ = q.to_query_string();
            }
        }
    }
});
