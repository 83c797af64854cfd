//! Runs one side of the codec benchmark in a loop, for profilers that count instructions
//! (`valgrind --tool=callgrind target/release/codec-profile decode 2.0.1 1000`); `ratio 2.0.1 200`
//! prints the speed of the decode relative to the `IgnoredAny` scan, each the fastest of many
//! short runs; `sizes` prints the sizes of the decoded types.

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

/// Prints the sizes of the types the 2.0.1 mix decodes into (moves copy this many bytes).
fn sizes() {
    use ocpp201::*;
    use std::mem::size_of;
    for (name, size) in [
        ("AnyRequest", size_of::<AnyRequest>()),
        ("NotifyReportRequest", size_of::<NotifyReportRequest>()),
        ("ReportDataType", size_of::<ReportDataType>()),
        ("ComponentType", size_of::<ComponentType>()),
        ("VariableType", size_of::<VariableType>()),
        ("VariableAttributeType", size_of::<VariableAttributeType>()),
        (
            "VariableCharacteristicsType",
            size_of::<VariableCharacteristicsType>(),
        ),
        (
            "TransactionEventRequest",
            size_of::<TransactionEventRequest>(),
        ),
        ("MeterValueType", size_of::<MeterValueType>()),
        ("SampledValueType", size_of::<SampledValueType>()),
        ("MeasurandEnumType", size_of::<MeasurandEnumType>()),
        (
            "Option<MeasurandEnumType>",
            size_of::<Option<MeasurandEnumType>>(),
        ),
        ("DateTime", size_of::<ocpp_types::DateTime>()),
        ("Text", size_of::<ocpp_types::Text>()),
    ] {
        println!("{name}: {size}");
    }
}

/// Alternates short timed runs of the scan and the decode and keeps the fastest of each, which
/// filters out the interference of other processes on a shared machine.
fn ratio(version: &str, rounds: usize) {
    use std::time::Instant;
    let mix = match version {
        "1.6" => benches::mix_v16(),
        "2.0.1" => benches::mix_v201(),
        _ => benches::mix_v21(),
    };
    let chunk = 50;
    let time = |f: &dyn Fn() -> usize| {
        let t = Instant::now();
        let mut n = 0;
        for _ in 0..chunk {
            n += std::hint::black_box(f());
        }
        assert!(n > 0);
        t.elapsed().as_secs_f64() / chunk as f64
    };
    let decode_fn = || match version {
        "1.6" => decode::<ocpp16::Ocpp16>(&mix),
        "2.0.1" => decode::<ocpp201::Ocpp201>(&mix),
        _ => decode::<ocpp21::Ocpp21>(&mix),
    };
    let (mut best_scan, mut best_decode) = (f64::MAX, f64::MAX);
    for _ in 0..rounds {
        best_scan = best_scan.min(time(&|| scan(&mix)));
        best_decode = best_decode.min(time(&decode_fn));
    }
    println!(
        "{version}: scan {:.2} us, decode {:.2} us, decode speed / scan speed = {:.3}",
        best_scan * 1e6,
        best_decode * 1e6,
        best_scan / best_decode
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("sizes") {
        sizes();
        return;
    }
    if args.len() == 4 && args[1] == "ratio" {
        ratio(&args[2], args[3].parse().expect("rounds"));
        return;
    }
    if args.len() != 4 {
        eprintln!(
            "usage: codec-profile <decode|scan> <1.6|2.0.1|2.1> <iterations> | ratio <version> <rounds> | sizes"
        );
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
