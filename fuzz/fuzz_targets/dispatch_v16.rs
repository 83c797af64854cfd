//! The OCPP typed dispatcher in both directions; see `ocpp_fuzz::dispatch`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ocpp_fuzz::dispatch::<ocpp16::Ocpp16>(data);
});
