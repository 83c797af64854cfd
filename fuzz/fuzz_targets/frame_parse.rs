//! `Frame::parse` on every version, and the answers to malformed frames.
//!
//! Properties: parsing never panics; a parsed frame written back (`to_json`) parses again to an
//! equal frame; every accessor works; `FrameError::answer` / `reply` never panic, and a reply is a
//! CALLERROR that parses on the same version, carries the answered id and the answered code.
#![no_main]

use ocpp_types::{Frame, MessageType, OcppVersion};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for v in [OcppVersion::V16, OcppVersion::V201, OcppVersion::V21] {
        match Frame::parse(text, v) {
            Ok(frame) => {
                let _ = (frame.message_type(), frame.id(), frame.payload());
                let _ = frame.check_payload_syntax();
                if v != OcppVersion::V21 {
                    assert!(
                        !matches!(
                            frame.message_type(),
                            MessageType::CallResultError | MessageType::Send
                        ),
                        "2.1 message type accepted on {v}: {text}"
                    );
                }
                let out = frame.to_json();
                let again = Frame::parse(&out, v).unwrap_or_else(|e| {
                    panic!(
                        "{v}: written frame does not parse: {e}\n  input: {text}\n  written: {out}"
                    )
                });
                assert_eq!(
                    again, frame,
                    "{v}: frame changed when written\n  written: {out}"
                );
            }
            Err(e) => {
                let _ = e.to_string();
                let answer = e.answer(v);
                let reply = e.reply(v);
                assert_eq!(answer.is_some(), reply.is_some());
                if let (Some((code, id)), Some(reply)) = (answer, reply) {
                    let parsed = Frame::parse(&reply, v).unwrap_or_else(|e2| {
                        panic!("{v}: reply to a bad frame does not parse: {e2}\n  input: {text}\n  reply: {reply}")
                    });
                    match parsed {
                        Frame::CallError(parts) => {
                            assert_eq!(parts.id, id.as_str(), "{v}: reply id\n  reply: {reply}");
                            assert_eq!(
                                parts.error_code(v),
                                Some(code),
                                "{v}: reply code\n  reply: {reply}"
                            );
                        }
                        other => panic!("{v}: reply is not a CALLERROR: {other:?}"),
                    }
                }
            }
        }
    }
});
