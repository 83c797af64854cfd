//! Runs one side of the codec benchmark in a loop, for profilers that count instructions
//! (`valgrind --tool=callgrind target/release/codec-profile decode 2.0.1 1000`).

use ocpp_types::{DecodeOptions, Frame, Protocol};

fn decode<P: Protocol>(mix: &[benches::Sample]) -> usize {
    let mut n = 0;
    for s in mix {
        let Ok(Frame::Call {
            action, payload, ..
        }) = Frame::parse(&s.frame, P::VERSION)
        else {
            panic!("not a call")
        };
        let a = P::action_from_name(&action).expect("action");
        let (req, _) = P::decode_request(a, &payload, &DecodeOptions::STRICT).expect("valid");
        n += usize::from(P::request_action(&req) == a);
    }
    n
}

fn scan(mix: &[benches::Sample]) -> usize {
    mix.iter()
        .map(|s| {
            let _: serde::de::IgnoredAny = serde_json::from_str(&s.frame).expect("json");
            1
        })
        .sum()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: codec-profile <decode|scan> <1.6|2.0.1|2.1> <iterations>");
        std::process::exit(2);
    }
    let iterations: usize = args[3].parse().expect("iterations");
    let mix = match args[2].as_str() {
        "1.6" => benches::mix_v16(),
        "2.0.1" => benches::mix_v201(),
        _ => benches::mix_v21(),
    };
    let mut n = 0;
    for _ in 0..iterations {
        n += match (args[1].as_str(), args[2].as_str()) {
            ("scan", _) => scan(&mix),
            (_, "1.6") => decode::<ocpp16::Ocpp16>(&mix),
            (_, "2.0.1") => decode::<ocpp201::Ocpp201>(&mix),
            _ => decode::<ocpp21::Ocpp21>(&mix),
        };
    }
    println!("{n}");
}
