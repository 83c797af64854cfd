//! The sans-IO engine fed arbitrary sequences of frames, timeouts, calls and answers: a CSMS and
//! a station of the version the first byte picks; see `ocpp_fuzz::engine`.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use ocpp_types::OcppVersion;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&v, rest)) = data.split_first() else {
        return;
    };
    let mut u = Unstructured::new(rest);
    let Ok(ops) = Vec::<ocpp_fuzz::engine::Op>::arbitrary(&mut u) else {
        return;
    };
    match ocpp_fuzz::version(v) {
        OcppVersion::V16 => ocpp_fuzz::engine::run::<ocpp16::Ocpp16>(&ops),
        OcppVersion::V201 => ocpp_fuzz::engine::run::<ocpp201::Ocpp201>(&ops),
        OcppVersion::V21 => ocpp_fuzz::engine::run::<ocpp21::Ocpp21>(&ops),
    }
});
