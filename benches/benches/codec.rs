//! Decode+validate (strict and lenient) and encode of a realistic mix per version, each next to a
//! `serde::de::IgnoredAny` scan of the same bytes in the same run.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ocpp_types::{DecodeOptions, Frame, OcppVersion, Protocol};
use std::hint::black_box;

fn decode_all<P: Protocol>(mix: &[benches::Sample]) -> usize {
    decode_all_with::<P>(mix, &DecodeOptions::STRICT)
}

fn decode_all_with<P: Protocol>(mix: &[benches::Sample], opts: &DecodeOptions) -> usize {
    let mut n = 0;
    for s in mix {
        let frame = Frame::parse(&s.frame, P::VERSION).expect("frame");
        let Frame::Call {
            action, payload, ..
        } = frame
        else {
            panic!("not a call")
        };
        let a = P::action_from_name(&action).expect("action");
        let (req, _) = P::decode_request(a, &payload, opts).expect("valid");
        n += usize::from(P::request_action(&req) == a);
    }
    n
}

fn bench_version<P: Protocol>(c: &mut Criterion, name: &str, mix: Vec<benches::Sample>) {
    assert_eq!(decode_all::<P>(&mix), mix.len());
    let decoded: Vec<P::AnyRequest> = mix
        .iter()
        .map(|s| {
            let Ok(Frame::Call {
                action, payload, ..
            }) = Frame::parse(&s.frame, P::VERSION)
            else {
                panic!()
            };
            P::decode_request(
                P::action_from_name(&action).unwrap(),
                &payload,
                &DecodeOptions::STRICT,
            )
            .unwrap()
            .0
        })
        .collect();
    let mut g = c.benchmark_group(format!("codec/{name}"));
    g.throughput(Throughput::Bytes(benches::bytes(&mix) as u64));
    g.bench_function("ignored_any_scan", |b| {
        b.iter(|| {
            for s in &mix {
                let v: serde::de::IgnoredAny = serde_json::from_str(black_box(&s.frame)).unwrap();
                black_box(v);
            }
        })
    });
    g.bench_function("decode_validate", |b| {
        b.iter(|| black_box(decode_all::<P>(black_box(&mix))))
    });
    g.bench_function("decode_validate_lenient", |b| {
        b.iter(|| {
            black_box(decode_all_with::<P>(
                black_box(&mix),
                &DecodeOptions::LENIENT,
            ))
        })
    });
    g.bench_function("encode_validate", |b| {
        b.iter(|| {
            for r in &decoded {
                black_box(P::encode_request(black_box(r), &DecodeOptions::STRICT).unwrap());
            }
        })
    });
    g.finish();
}

fn codec(c: &mut Criterion) {
    let _ = OcppVersion::V16;
    bench_version::<ocpp16::Ocpp16>(c, "1.6", benches::mix_v16());
    bench_version::<ocpp201::Ocpp201>(c, "2.0.1", benches::mix_v201());
    bench_version::<ocpp21::Ocpp21>(c, "2.1", benches::mix_v21());
}

criterion_group!(benches, codec);
criterion_main!(benches);
