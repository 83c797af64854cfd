//! The pull parser of `ocpp_types::json` against `serde_json` on validity.
//!
//! Properties: `json::validate` and `Parser::skip_value` never panic; `validate` accepts exactly
//! what `serde_json` accepts as a `serde_json::Value`, where both are defined: this parser bounds
//! nesting at `MAX_DEPTH` (64) and serde_json at 128, and serde_json refuses numbers beyond `f64`
//! that this parser hands on as exact text; those inputs are skipped. The text `skip_value`
//! returns is itself one valid value, and equals the input as a `Value` (with white space
//! trimmed).
#![no_main]

use ocpp_types::json::{self, Parser};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let ours = json::validate(text);
    let mut p = Parser::new(text);
    let skipped = p.skip_value();
    let theirs = serde_json::from_str::<serde_json::Value>(text);
    if let Ok(s) = skipped {
        assert!(
            json::validate(s).is_ok(),
            "skip_value returned invalid text {s:?}"
        );
        assert_eq!(
            s,
            s.trim_matches([' ', '\t', '\n', '\r']),
            "skip_value kept white space"
        );
    }
    if let Err(e) = &ours {
        if e.message.contains("deep") {
            return;
        }
    }
    if let Err(e) = &theirs {
        let m = e.to_string();
        if m.contains("recursion limit") || m.contains("number out of range") {
            return;
        }
    }
    match (&ours, &theirs) {
        (Ok(()), Ok(v)) => {
            let s = Parser::new(text).skip_value().expect("valid text skips");
            let v2: serde_json::Value = serde_json::from_str(s).expect("skipped text is JSON");
            assert_eq!(&v2, v);
        }
        (Err(_), Err(_)) => {}
        (Ok(()), Err(e)) => panic!("ocpp json accepts what serde_json refuses ({e}): {text:?}"),
        (Err(e), Ok(_)) => panic!("ocpp json refuses what serde_json accepts ({e}): {text:?}"),
    }
});
