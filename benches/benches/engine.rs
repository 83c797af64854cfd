//! The sans-IO engine alone (frames in, frames out, no socket), next to the codec work it wraps,
//! in the same run: a CSMS engine receives the realistic mix and answers every CALL.
//!
//! - `engine`: `handle_text` -> `poll_event` -> `respond` -> `poll_transmit` for each frame.
//! - `codec`: the same frames parsed and decoded, and the same answers validated, encoded and
//!   framed, without the engine.
//!
//! The difference is the engine's own cost (state, id matching, events).

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ocpp_core::{BootState, Config, Engine, Event};
use ocpp_types::{DateTime, DecodeOptions, Frame, Protocol};

fn run_engine<P: Protocol>(
    engine: &mut Engine<P>,
    now: Instant,
    mix: &[benches::Sample],
    answer: &impl Fn(P::Action) -> P::AnyResponse,
) -> usize {
    let mut out = 0;
    for s in mix {
        engine.handle_text(now, &s.frame);
        while let Some(ev) = engine.poll_event() {
            if let Event::Call { id, action, .. } = ev {
                engine.respond(&id, Ok(answer(action))).expect("respond");
            }
        }
        while let Some(frame) = engine.poll_transmit() {
            out += frame.len();
        }
    }
    out
}

fn run_codec<P: Protocol>(
    mix: &[benches::Sample],
    answer: &impl Fn(P::Action) -> P::AnyResponse,
) -> usize {
    let mut out = 0;
    for s in mix {
        let Ok(Frame::Call {
            id,
            action,
            payload,
        }) = Frame::parse(&s.frame, P::VERSION)
        else {
            panic!("not a call")
        };
        let a = P::action_from_name(&action).expect("action");
        let (req, _) = P::decode_request(a, &payload, &DecodeOptions::STRICT).expect("valid");
        black_box(req);
        let json = P::encode_response(&answer(a), &DecodeOptions::STRICT).expect("valid");
        out += Frame::call_result(id, json).to_json().len();
    }
    out
}

fn bench<P: Protocol>(
    c: &mut Criterion,
    name: &str,
    mix: Vec<benches::Sample>,
    answer: impl Fn(P::Action) -> P::AnyResponse,
) {
    let now = Instant::now();
    let mut config = Config::default();
    config.boot_state = BootState::Accepted;
    let mut engine = Engine::<P>::csms(config);
    engine.handle_connect(now);
    assert_eq!(
        run_engine(&mut engine, now, &mix, &answer),
        run_codec::<P>(&mix, &answer)
    );
    let mut g = c.benchmark_group(format!("engine/{name}"));
    g.throughput(Throughput::Elements(mix.len() as u64));
    g.bench_function("codec_only", |b| {
        b.iter(|| black_box(run_codec::<P>(black_box(&mix), &answer)))
    });
    g.bench_function("engine", |b| {
        b.iter(|| black_box(run_engine(&mut engine, now, black_box(&mix), &answer)))
    });
    g.finish();
}

macro_rules! answers_2x {
    ($m:ident) => {
        |a: $m::Action| -> $m::AnyResponse {
            use $m::*;
            let now = DateTime::now();
            match a {
                Action::BootNotification => {
                    BootNotificationResponse::new(now, 300, RegistrationStatusEnumType::Accepted)
                        .into()
                }
                Action::Heartbeat => HeartbeatResponse::new(now).into(),
                Action::StatusNotification => StatusNotificationResponse::new().into(),
                Action::Authorize => AuthorizeResponse::new(IdTokenInfoType::new(
                    AuthorizationStatusEnumType::Accepted,
                ))
                .into(),
                Action::TransactionEvent => TransactionEventResponse::new().into(),
                Action::MeterValues => MeterValuesResponse::new().into(),
                Action::NotifyReport => NotifyReportResponse::new().into(),
                other => panic!("no answer for {other}"),
            }
        }
    };
}

fn engine(c: &mut Criterion) {
    bench::<ocpp16::Ocpp16>(c, "1.6", benches::mix_v16(), |a| {
        use ocpp16::*;
        let now = DateTime::now();
        let accepted = || IdTagInfo::new(AuthorizationStatus::Accepted);
        match a {
            Action::BootNotification => {
                BootNotificationResponse::new(RegistrationStatus::Accepted, now, 300).into()
            }
            Action::Heartbeat => HeartbeatResponse::new(now).into(),
            Action::StatusNotification => StatusNotificationResponse::new().into(),
            Action::Authorize => AuthorizeResponse::new(accepted()).into(),
            Action::StartTransaction => StartTransactionResponse::new(accepted(), 987654).into(),
            Action::MeterValues => MeterValuesResponse::new().into(),
            Action::StopTransaction => StopTransactionResponse::new().into(),
            other => panic!("no answer for {other}"),
        }
    });
    bench::<ocpp201::Ocpp201>(c, "2.0.1", benches::mix_v201(), answers_2x!(ocpp201));
    bench::<ocpp21::Ocpp21>(c, "2.1", benches::mix_v21(), answers_2x!(ocpp21));
}

criterion_group!(benches, engine);
criterion_main!(benches);
