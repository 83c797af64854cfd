//! The OCPP-J log validator behind `csms validate`.
//!
//! Reads OCPP-J frames, one JSON array per line as chargers' logs hold them, pairs each
//! CALLRESULT / CALLERROR / CALLRESULTERROR with its CALL by message id, validates every payload
//! against the schema of its action, and writes one JSON object per input line:
//!
//! ```text
//! {"line":N,"id":"…","action":"…","ok":true}
//! {"line":N,"id":"…","action":"…","ok":false,"errorCode":"<OCPP code>","path":"<JSON pointer>","description":"…"}
//! ```
//!
//! `action` of a response is the action of its CALL. A response whose CALL is missing is an error
//! line (`ProtocolError`), never a crash. Blank lines are skipped but counted.

use std::collections::HashMap;
use std::io::{self, BufRead, Write};

use ocpp_types::json::JsonWriter;
use ocpp_types::{
    DecodeError, DecodeOptions, ErrorCode, Frame, FrameErrorKind, OcppVersion, Protocol,
};

/// How to validate.
#[derive(Debug, Clone, Copy)]
pub struct ValidateOptions {
    /// The protocol version of the log.
    pub version: OcppVersion,
    /// Accept what real chargers get wrong (see [`DecodeOptions::LENIENT`]).
    pub lenient: bool,
    /// Add the frame re-encoded from the typed value to every ok line.
    pub echo: bool,
}

/// What a run found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Lines checked (blank lines excluded).
    pub lines: usize,
    /// Lines that were not ok.
    pub failed: usize,
}

struct Outcome {
    id: Option<String>,
    action: Option<String>,
    result: Result<Option<String>, (ErrorCode, String, String)>,
}

/// Validates every line of `input` and writes one JSON object per line to `out`.
pub fn validate(
    input: impl BufRead,
    out: &mut impl Write,
    opts: ValidateOptions,
) -> io::Result<Summary> {
    match opts.version {
        OcppVersion::V16 => run::<ocpp16::Ocpp16>(input, out, opts),
        OcppVersion::V201 => run::<ocpp201::Ocpp201>(input, out, opts),
        OcppVersion::V21 => run::<ocpp21::Ocpp21>(input, out, opts),
    }
}

fn run<P: Protocol>(
    input: impl BufRead,
    out: &mut impl Write,
    opts: ValidateOptions,
) -> io::Result<Summary> {
    let decode_opts = if opts.lenient {
        DecodeOptions::LENIENT
    } else {
        DecodeOptions::STRICT
    };
    let mut calls: HashMap<String, P::Action> = HashMap::new();
    let mut summary = Summary::default();
    for (i, line) in input.lines().enumerate() {
        let line = match line {
            Ok(l) => l,
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                summary.lines += 1;
                summary.failed += 1;
                let o = Outcome {
                    id: None,
                    action: None,
                    result: Err((
                        frame_code(P::VERSION),
                        String::new(),
                        "the line is not valid UTF-8".into(),
                    )),
                };
                write_line(out, P::VERSION, i + 1, &o)?;
                continue;
            }
            Err(e) => return Err(e),
        };
        if line.trim().is_empty() {
            continue;
        }
        summary.lines += 1;
        let o = check::<P>(&line, &mut calls, &decode_opts, opts.echo);
        if o.result.is_err() {
            summary.failed += 1;
        }
        write_line(out, P::VERSION, i + 1, &o)?;
    }
    Ok(summary)
}

/// The code a log line gets when the frame itself cannot be read. 2.x answers such frames with
/// `RpcFrameworkError`; 1.6 sends no answer at all, so the validator names the 1.6 code closest to
/// the fault, `FormationViolation`.
fn frame_code(v: OcppVersion) -> ErrorCode {
    if v == OcppVersion::V16 {
        ErrorCode::FormatViolation
    } else {
        ErrorCode::RpcFrameworkError
    }
}

fn err(e: DecodeError) -> Result<Option<String>, (ErrorCode, String, String)> {
    Err((e.code(), e.path().to_owned(), e.description().to_owned()))
}

fn check<P: Protocol>(
    line: &str,
    calls: &mut HashMap<String, P::Action>,
    opts: &DecodeOptions,
    echo: bool,
) -> Outcome {
    let frame = match Frame::parse(line, P::VERSION) {
        Ok(f) => f,
        Err(e) => {
            let code = match (e.answer(P::VERSION), e.kind) {
                (Some((code, _)), _) => code,
                (None, FrameErrorKind::UnsupportedMessageType) => ErrorCode::ProtocolError,
                (None, _) => frame_code(P::VERSION),
            };
            return Outcome {
                id: e.id.clone(),
                action: None,
                result: Err((code, String::new(), e.description)),
            };
        }
    };
    let id = Some(frame.id().to_owned());
    match &frame {
        Frame::Call {
            action, payload, ..
        }
        | Frame::Send {
            action, payload, ..
        } => {
            let Some(a) = P::action_from_name(action) else {
                return Outcome {
                    id,
                    action: Some(action.to_string()),
                    result: Err((
                        ErrorCode::NotImplemented,
                        String::new(),
                        format!("OCPP {} has no action {action:?}", P::VERSION),
                    )),
                };
            };
            let is_send = matches!(frame, Frame::Send { .. });
            let result = if is_send != P::action_is_send(a) {
                Err((
                    ErrorCode::ProtocolError,
                    String::new(),
                    if is_send {
                        format!("{action} is a CALL, not a SEND")
                    } else {
                        format!("{action} is a SEND, not a CALL")
                    },
                ))
            } else {
                match P::decode_request(a, payload, opts) {
                    Ok((req, _)) => {
                        if !is_send {
                            calls.insert(frame.id().to_owned(), a);
                        }
                        match P::encode_request(&req, opts) {
                            Ok(json) if echo => {
                                let f = if is_send {
                                    Frame::send(frame.id(), &**action, json)
                                } else {
                                    Frame::call(frame.id(), &**action, json)
                                };
                                Ok(Some(f.to_json()))
                            }
                            Ok(_) => Ok(None),
                            Err(e) => err(e),
                        }
                    }
                    Err(e) => {
                        // A CALL that was read but is invalid is still answered: keep the pairing.
                        if !is_send {
                            calls.insert(frame.id().to_owned(), a);
                        }
                        err(e)
                    }
                }
            };
            Outcome {
                id,
                action: Some(action.to_string()),
                result,
            }
        }
        Frame::CallResult { payload, .. } => {
            let Some(a) = calls.remove(frame.id()) else {
                return missing_call(id);
            };
            let result = match P::decode_response(a, payload, opts) {
                Ok((resp, _)) => match P::encode_response(&resp, opts) {
                    Ok(json) if echo => Ok(Some(Frame::call_result(frame.id(), json).to_json())),
                    Ok(_) => Ok(None),
                    Err(e) => err(e),
                },
                Err(e) => err(e),
            };
            Outcome {
                id,
                action: Some(P::action_name(a).to_owned()),
                result,
            }
        }
        Frame::CallError(e) | Frame::CallResultError(e) => {
            let Some(a) = calls.remove(frame.id()) else {
                return missing_call(id);
            };
            let strict = !opts.is_lenient();
            let code_ok = if strict {
                ErrorCode::from_wire_strict(&e.code, P::VERSION).is_some()
            } else {
                ErrorCode::from_wire(&e.code, P::VERSION).is_some()
            };
            let result = if !code_ok {
                Err((
                    ErrorCode::PropertyConstraintViolation,
                    "/2".to_owned(),
                    format!("{:?} is not an OCPP {} error code", e.code, P::VERSION),
                ))
            } else if let Err(s) = frame.check_payload_syntax() {
                Err((ErrorCode::FormatViolation, "/4".to_owned(), s.to_string()))
            } else if echo {
                Ok(Some(frame.to_json()))
            } else {
                Ok(None)
            };
            Outcome {
                id,
                action: Some(P::action_name(a).to_owned()),
                result,
            }
        }
    }
}

fn missing_call(id: Option<String>) -> Outcome {
    Outcome {
        id,
        action: None,
        result: Err((
            ErrorCode::ProtocolError,
            String::new(),
            "no earlier CALL has this message id".into(),
        )),
    }
}

fn write_line(
    out: &mut impl Write,
    version: OcppVersion,
    line: usize,
    o: &Outcome,
) -> io::Result<()> {
    let mut w = JsonWriter::with_capacity(128);
    w.raw("{\"line\":");
    w.integer(line as i64);
    w.raw(",\"id\":");
    match &o.id {
        Some(id) => w.string(id),
        None => w.raw("null"),
    }
    w.raw(",\"action\":");
    match &o.action {
        Some(a) => w.string(a),
        None => w.raw("null"),
    }
    match &o.result {
        Ok(frame) => {
            w.raw(",\"ok\":true");
            if let Some(f) = frame {
                w.raw(",\"frame\":");
                w.raw(f);
            }
        }
        Err((code, path, description)) => {
            w.raw(",\"ok\":false,\"errorCode\":");
            w.string(code.wire(version));
            w.raw(",\"path\":");
            w.string(path);
            w.raw(",\"description\":");
            w.string(description);
        }
    }
    w.push('}');
    writeln!(out, "{}", w.as_str())
}
