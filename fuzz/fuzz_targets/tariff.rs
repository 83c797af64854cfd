//! The OCPI tariff engine (`ocpi::tariff::price_json`) on arbitrary tariff and CDR JSON.
//!
//! Input: two JSON texts separated by the first `\n` (tariff, then CDR or session); when both
//! parse as JSON, `price_json` and `price_json_with_rule` (each step-size rule) must return
//! without panicking, and a result must be a JSON object.
#![no_main]

use ocpi::tariff::{price_json, price_json_with_rule, StepSizeRule};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (t, c) = text.split_once('\n').unwrap_or((text, "{}"));
    let (Ok(tariff), Ok(cdr)) = (
        serde_json::from_str::<serde_json::Value>(t),
        serde_json::from_str::<serde_json::Value>(c),
    ) else {
        return;
    };
    if let Ok(v) = price_json(&tariff, &cdr) {
        assert!(v.is_object(), "price_json returned {v}");
    }
    for rule in [StepSizeRule::CombinedTime, StepSizeRule::LastTimeDimension] {
        let _ = price_json_with_rule(&tariff, &cdr, Some(rule));
    }
});
