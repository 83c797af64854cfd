//! The benchmark mixes are valid, so the benches measure the success path.

use ocpp_types::{DecodeOptions, Frame, Protocol};

fn check<P: Protocol>(mix: &[benches::Sample]) {
    for s in mix {
        let Ok(Frame::Call {
            action, payload, ..
        }) = Frame::parse(&s.frame, P::VERSION)
        else {
            panic!("{}: not a CALL", s.action)
        };
        let a = P::action_from_name(&action).expect("known action");
        let (req, len) = P::decode_request(a, &payload, &DecodeOptions::STRICT)
            .unwrap_or_else(|e| panic!("{} {}: {e}", P::VERSION, s.action));
        assert!(len.is_empty());
        let back = P::encode_request(&req, &DecodeOptions::STRICT).unwrap();
        let a: serde_json::Value = serde_json::from_str(&payload).unwrap();
        let b: serde_json::Value = serde_json::from_str(&back).unwrap();
        assert_eq!(a, b, "{} round trip", s.action);
    }
}

#[test]
fn mixes_are_valid_and_round_trip() {
    check::<ocpp16::Ocpp16>(&benches::mix_v16());
    check::<ocpp201::Ocpp201>(&benches::mix_v201());
    check::<ocpp21::Ocpp21>(&benches::mix_v21());
}
