//! OCPP-J frames: `[2, id, action, payload]` CALL, `[3, id, payload]` CALLRESULT,
//! `[4, id, code, description, details]` CALLERROR, and 2.1's `[5, id, code, description, details]`
//! CALLRESULTERROR and `[6, id, action, payload]` SEND.
//!
//! Parsing borrows: the message id and action are borrowed unless escaped, and the payload is
//! handed over as its raw JSON text without being copied or parsed twice. The payload's own
//! syntax is checked when it is decoded (a syntax fault there is a `FormatViolation`), or on
//! demand with [`Frame::check_payload_syntax`].

use std::borrow::Cow;
use std::fmt;

use crate::error::ErrorCode;
use crate::json::{self, JsonWriter, Kind, Parser};
use crate::OcppVersion;

/// The longest message id OCPP-J allows.
pub const MAX_MESSAGE_ID_LEN: usize = 36;

/// The longest CALLERROR description 2.x allows; longer ones are cut when building a frame.
pub const MAX_ERROR_DESCRIPTION_LEN: usize = 255;

/// The message type number, the first element of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// 2: a request.
    Call = 2,
    /// 3: a successful response.
    CallResult = 3,
    /// 4: an error response to a CALL.
    CallError = 4,
    /// 5 (2.1 only): an error response to a CALLRESULT that could not be processed.
    CallResultError = 5,
    /// 6 (2.1 only): a message that is never answered.
    Send = 6,
}

impl MessageType {
    /// From the number on the wire.
    pub fn from_number(n: u64) -> Option<Self> {
        Some(match n {
            2 => MessageType::Call,
            3 => MessageType::CallResult,
            4 => MessageType::CallError,
            5 => MessageType::CallResultError,
            6 => MessageType::Send,
            _ => return None,
        })
    }
}

/// The error parts of a CALLERROR or CALLRESULTERROR frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorParts<'a> {
    /// The message id of the message this error answers.
    pub id: Cow<'a, str>,
    /// The error code as spelled on the wire (see [`ErrorParts::error_code`]).
    pub code: Cow<'a, str>,
    /// The error description.
    pub description: Cow<'a, str>,
    /// The raw JSON object with error details.
    pub details: Cow<'a, str>,
}

impl ErrorParts<'_> {
    /// The error code, read with the version's spelling (the other spelling is tolerated).
    pub fn error_code(&self, version: OcppVersion) -> Option<ErrorCode> {
        ErrorCode::from_wire(&self.code, version)
    }

    /// An owned copy.
    pub fn into_owned(self) -> ErrorParts<'static> {
        ErrorParts {
            id: Cow::Owned(self.id.into_owned()),
            code: Cow::Owned(self.code.into_owned()),
            description: Cow::Owned(self.description.into_owned()),
            details: Cow::Owned(self.details.into_owned()),
        }
    }
}

/// One OCPP-J message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame<'a> {
    /// `[2, id, action, payload]`
    Call {
        /// Message id.
        id: Cow<'a, str>,
        /// Action name.
        action: Cow<'a, str>,
        /// Raw JSON payload.
        payload: Cow<'a, str>,
    },
    /// `[3, id, payload]`
    CallResult {
        /// Message id of the CALL answered.
        id: Cow<'a, str>,
        /// Raw JSON payload.
        payload: Cow<'a, str>,
    },
    /// `[4, id, code, description, details]`
    CallError(ErrorParts<'a>),
    /// `[5, id, code, description, details]` (2.1 only)
    CallResultError(ErrorParts<'a>),
    /// `[6, id, action, payload]` (2.1 only)
    Send {
        /// Message id.
        id: Cow<'a, str>,
        /// Action name.
        action: Cow<'a, str>,
        /// Raw JSON payload.
        payload: Cow<'a, str>,
    },
}

/// What made a frame unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameErrorKind {
    /// Not a JSON array of the expected shape, or the message id could not be read.
    Unreadable,
    /// The message type number is unknown, or is a 2.1 type on another version.
    UnsupportedMessageType,
    /// The message id is longer than 36 characters.
    MessageIdTooLong,
}

/// A frame that could not be parsed, with what could be read of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{description}")]
pub struct FrameError {
    /// What went wrong.
    pub kind: FrameErrorKind,
    /// The message type number, when it could be read.
    pub message_type: Option<u64>,
    /// The message id, when it could be read.
    pub id: Option<String>,
    /// What is wrong, for people.
    pub description: String,
}

impl FrameError {
    fn new(
        kind: FrameErrorKind,
        message_type: Option<u64>,
        id: Option<String>,
        d: impl Into<String>,
    ) -> Self {
        FrameError {
            kind,
            message_type,
            id,
            description: d.into(),
        }
    }

    /// The error code the version answers this fault with, and the id to answer to, or `None` when
    /// the version prescribes no answer.
    ///
    /// 2.0.1 / 2.1: an unreadable frame or message id gets `RpcFrameworkError` (id `"-1"` when the
    /// id could not be read or is longer than 36 characters), an unknown message type gets
    /// `MessageTypeNotSupported`. Faults in what was a response (types 3 to 5) are never answered.
    /// 1.6 defines neither code: a CALL whose valid id could be read gets `ProtocolError`;
    /// anything else is ignored.
    pub fn answer(&self, version: OcppVersion) -> Option<(ErrorCode, String)> {
        let may_be_call = matches!(self.message_type, None | Some(2) | Some(6))
            || self.kind == FrameErrorKind::UnsupportedMessageType;
        if !may_be_call {
            return None;
        }
        // An id that is too long cannot be answered to: a frame carrying it would be invalid too.
        let id = self
            .id
            .as_ref()
            .filter(|id| id.chars().count() <= MAX_MESSAGE_ID_LEN);
        if version == OcppVersion::V16 {
            return match (id, self.kind, self.message_type) {
                (Some(id), FrameErrorKind::Unreadable, Some(2)) => {
                    Some((ErrorCode::ProtocolError, id.clone()))
                }
                _ => None,
            };
        }
        let id = id.cloned().unwrap_or_else(|| "-1".to_owned());
        Some(match self.kind {
            FrameErrorKind::UnsupportedMessageType => (ErrorCode::MessageTypeNotSupported, id),
            _ => (ErrorCode::RpcFrameworkError, id),
        })
    }

    /// The CALLERROR frame to answer with, if any (see [`FrameError::answer`]).
    pub fn reply(&self, version: OcppVersion) -> Option<String> {
        let (code, id) = self.answer(version)?;
        Some(Frame::call_error(&id, code, version, &self.description, None).to_json())
    }
}

impl<'a> Frame<'a> {
    /// Parses one WebSocket text message received on a connection of `version`.
    pub fn parse(text: &'a str, version: OcppVersion) -> Result<Frame<'a>, FrameError> {
        use FrameErrorKind::*;
        let mut p = Parser::new(text);
        let unreadable = |mt: Option<u64>, id: Option<&str>, d: &str| {
            FrameError::new(Unreadable, mt, id.map(str::to_owned), d)
        };
        if p.peek() != Kind::Array || p.array_begin().is_err() {
            return Err(unreadable(None, None, "a frame must be a JSON array"));
        }
        let mut first = true;
        let mt = match p.array_next(&mut first) {
            Ok(true) if p.peek() == Kind::Number => {
                p.number().ok().and_then(|t| t.parse::<u64>().ok())
            }
            _ => None,
        };
        let Some(mt) = mt else {
            return Err(unreadable(
                None,
                None,
                "the message type must be an integer",
            ));
        };
        let id = match p.array_next(&mut first) {
            Ok(true) if p.peek() == Kind::String => p.string().ok(),
            _ => None,
        };
        let Some(id) = id else {
            return Err(unreadable(
                Some(mt),
                None,
                "the message id must be a string",
            ));
        };
        let kind = match MessageType::from_number(mt) {
            Some(k @ (MessageType::CallResultError | MessageType::Send))
                if !version.has_send_frames() =>
            {
                return Err(FrameError::new(
                    UnsupportedMessageType,
                    Some(mt),
                    Some(id.into_owned()),
                    format!("message type {mt} ({k:?}) exists only in OCPP 2.1"),
                ))
            }
            Some(k) => k,
            None => {
                return Err(FrameError::new(
                    UnsupportedMessageType,
                    Some(mt),
                    Some(id.into_owned()),
                    format!("unknown message type {mt}"),
                ))
            }
        };
        if id.chars().count() > MAX_MESSAGE_ID_LEN {
            return Err(FrameError::new(
                MessageIdTooLong,
                Some(mt),
                Some(id.into_owned()),
                format!("message id longer than {MAX_MESSAGE_ID_LEN} characters"),
            ));
        }
        let mut next_string =
            |p: &mut Parser<'a>, what: &str| -> Result<Cow<'a, str>, FrameError> {
                match p.array_next(&mut first) {
                    Ok(true) if p.peek() == Kind::String => p.string().map_err(|_| {
                        unreadable(Some(mt), Some(&id), &format!("the {what} must be a string"))
                    }),
                    _ => Err(unreadable(
                        Some(mt),
                        Some(&id),
                        &format!("the {what} must be a string"),
                    )),
                }
            };
        let (action, code, description) = match kind {
            MessageType::Call | MessageType::Send => {
                (Some(next_string(&mut p, "action")?), None, None)
            }
            MessageType::CallResult => (None, None, None),
            MessageType::CallError | MessageType::CallResultError => {
                let code = next_string(&mut p, "error code")?;
                let description = next_string(&mut p, "error description")?;
                (None, Some(code), Some(description))
            }
        };
        // The last element runs to the closing bracket; its own syntax is checked when decoded.
        let rest = match p.array_next(&mut first) {
            Ok(true) => &text[p.offset()..],
            _ => {
                return Err(unreadable(
                    Some(mt),
                    Some(&id),
                    "the frame has too few elements",
                ))
            }
        };
        let trimmed = rest.trim_end_matches([' ', '\n', '\r', '\t']);
        let Some(body) = trimmed.strip_suffix(']') else {
            return Err(unreadable(
                Some(mt),
                Some(&id),
                "the frame is not a closed JSON array",
            ));
        };
        let payload = body.trim_matches([' ', '\n', '\r', '\t']);
        if payload.is_empty() {
            return Err(unreadable(
                Some(mt),
                Some(&id),
                "the frame has too few elements",
            ));
        }
        let payload = Cow::Borrowed(payload);
        Ok(match kind {
            MessageType::Call => Frame::Call {
                id,
                action: action.unwrap_or_default(),
                payload,
            },
            MessageType::Send => Frame::Send {
                id,
                action: action.unwrap_or_default(),
                payload,
            },
            MessageType::CallResult => Frame::CallResult { id, payload },
            MessageType::CallError | MessageType::CallResultError => {
                let parts = ErrorParts {
                    id,
                    code: code.unwrap_or_default(),
                    description: description.unwrap_or_default(),
                    details: payload,
                };
                if kind == MessageType::CallError {
                    Frame::CallError(parts)
                } else {
                    Frame::CallResultError(parts)
                }
            }
        })
    }

    /// The message type.
    pub fn message_type(&self) -> MessageType {
        match self {
            Frame::Call { .. } => MessageType::Call,
            Frame::CallResult { .. } => MessageType::CallResult,
            Frame::CallError(_) => MessageType::CallError,
            Frame::CallResultError(_) => MessageType::CallResultError,
            Frame::Send { .. } => MessageType::Send,
        }
    }

    /// The message id.
    pub fn id(&self) -> &str {
        match self {
            Frame::Call { id, .. } | Frame::CallResult { id, .. } | Frame::Send { id, .. } => id,
            Frame::CallError(e) | Frame::CallResultError(e) => &e.id,
        }
    }

    /// The raw payload (for errors: the details object).
    pub fn payload(&self) -> &str {
        match self {
            Frame::Call { payload, .. }
            | Frame::CallResult { payload, .. }
            | Frame::Send { payload, .. } => payload,
            Frame::CallError(e) | Frame::CallResultError(e) => &e.details,
        }
    }

    /// Checks that the payload (or error details) is exactly one JSON value and, for error frames,
    /// an object.
    pub fn check_payload_syntax(&self) -> Result<(), json::SyntaxError> {
        json::validate(self.payload())?;
        if matches!(self, Frame::CallError(_) | Frame::CallResultError(_))
            && Parser::new(self.payload()).peek() != Kind::Object
        {
            return Err(json::SyntaxError {
                offset: 0,
                message: "error details must be a JSON object",
            });
        }
        Ok(())
    }

    /// A CALL frame.
    pub fn call(
        id: impl Into<Cow<'a, str>>,
        action: impl Into<Cow<'a, str>>,
        payload: impl Into<Cow<'a, str>>,
    ) -> Self {
        Frame::Call {
            id: id.into(),
            action: action.into(),
            payload: payload.into(),
        }
    }

    /// A CALLRESULT frame.
    pub fn call_result(id: impl Into<Cow<'a, str>>, payload: impl Into<Cow<'a, str>>) -> Self {
        Frame::CallResult {
            id: id.into(),
            payload: payload.into(),
        }
    }

    /// A SEND frame (2.1).
    pub fn send(
        id: impl Into<Cow<'a, str>>,
        action: impl Into<Cow<'a, str>>,
        payload: impl Into<Cow<'a, str>>,
    ) -> Self {
        Frame::Send {
            id: id.into(),
            action: action.into(),
            payload: payload.into(),
        }
    }

    /// A CALLERROR frame with the code spelled for `version`, the description cut to 255
    /// characters, and `details` (a JSON object; `{}` when `None`).
    pub fn call_error(
        id: &str,
        code: ErrorCode,
        version: OcppVersion,
        description: &str,
        details: Option<&str>,
    ) -> Frame<'static> {
        Frame::CallError(error_parts(id, code, version, description, details))
    }

    /// A CALLRESULTERROR frame (2.1), built like [`Frame::call_error`].
    pub fn call_result_error(
        id: &str,
        code: ErrorCode,
        version: OcppVersion,
        description: &str,
        details: Option<&str>,
    ) -> Frame<'static> {
        Frame::CallResultError(error_parts(id, code, version, description, details))
    }

    /// Writes the frame as JSON.
    pub fn write(&self, w: &mut JsonWriter) {
        let (n, id) = (self.message_type() as u8, self.id());
        w.push('[');
        w.push((b'0' + n) as char);
        w.push(',');
        w.string(id);
        match self {
            Frame::Call {
                action, payload, ..
            }
            | Frame::Send {
                action, payload, ..
            } => {
                w.push(',');
                w.string(action);
                w.push(',');
                w.raw(payload);
            }
            Frame::CallResult { payload, .. } => {
                w.push(',');
                w.raw(payload);
            }
            Frame::CallError(e) | Frame::CallResultError(e) => {
                w.push(',');
                w.string(&e.code);
                w.push(',');
                w.string(&e.description);
                w.push(',');
                w.raw(&e.details);
            }
        }
        w.push(']');
    }

    /// The frame as a JSON string.
    pub fn to_json(&self) -> String {
        let mut w = JsonWriter::with_capacity(self.payload().len() + 64);
        self.write(&mut w);
        w.into_string()
    }

    /// An owned copy.
    pub fn into_owned(self) -> Frame<'static> {
        let o = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
        match self {
            Frame::Call {
                id,
                action,
                payload,
            } => Frame::Call {
                id: o(id),
                action: o(action),
                payload: o(payload),
            },
            Frame::CallResult { id, payload } => Frame::CallResult {
                id: o(id),
                payload: o(payload),
            },
            Frame::CallError(e) => Frame::CallError(e.into_owned()),
            Frame::CallResultError(e) => Frame::CallResultError(e.into_owned()),
            Frame::Send {
                id,
                action,
                payload,
            } => Frame::Send {
                id: o(id),
                action: o(action),
                payload: o(payload),
            },
        }
    }
}

fn error_parts(
    id: &str,
    code: ErrorCode,
    version: OcppVersion,
    description: &str,
    details: Option<&str>,
) -> ErrorParts<'static> {
    let description = match description.char_indices().nth(MAX_ERROR_DESCRIPTION_LEN) {
        Some((cut, _)) => &description[..cut],
        None => description,
    };
    ErrorParts {
        id: Cow::Owned(id.to_owned()),
        code: Cow::Borrowed(code.wire(version)),
        description: Cow::Owned(description.to_owned()),
        details: Cow::Owned(details.unwrap_or("{}").to_owned()),
    }
}

impl fmt::Display for Frame<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OcppVersion::*;

    #[test]
    fn parses_every_frame_type_and_borrows() {
        let f = Frame::parse(r#"[2, "19223201", "BootNotification", {"a": 1} ]"#, V201).unwrap();
        match &f {
            Frame::Call {
                id,
                action,
                payload,
            } => {
                assert!(matches!(id, Cow::Borrowed("19223201")));
                assert_eq!(action, "BootNotification");
                assert!(matches!(payload, Cow::Borrowed(r#"{"a": 1}"#)));
            }
            other => panic!("{other:?}"),
        }
        let f = Frame::parse(r#"[3,"x",{}]"#, V16).unwrap();
        assert_eq!(f, Frame::call_result("x", "{}"));
        let f = Frame::parse(r#"[4,"x","FormationViolation","bad",{"k":1}]"#, V16).unwrap();
        let Frame::CallError(e) = &f else { panic!() };
        assert_eq!(e.error_code(V16), Some(ErrorCode::FormatViolation));
        assert_eq!(e.details, r#"{"k":1}"#);
        assert!(matches!(
            Frame::parse(r#"[5,"x","InternalError","",{}]"#, V21),
            Ok(Frame::CallResultError(_))
        ));
        assert!(matches!(
            Frame::parse(r#"[6,"x","NotifyPeriodicEventStream",{}]"#, V21),
            Ok(Frame::Send { .. })
        ));
    }

    #[test]
    fn round_trips() {
        for s in [
            r#"[2,"1","Heartbeat",{}]"#,
            r#"[3,"1",{"currentTime":"2024-01-01T00:00:00Z"}]"#,
            r#"[4,"1","NotImplemented","no \"such\" action",{}]"#,
        ] {
            assert_eq!(Frame::parse(s, V201).unwrap().to_json(), s);
        }
    }

    #[test]
    fn malformed_frames_get_the_codes_of_the_table() {
        type Case<'a> = (&'a str, OcppVersion, Option<(ErrorCode, &'a str)>);
        let cases: &[Case<'_>] = &[
            // unreadable frame / id
            ("not json", V201, Some((ErrorCode::RpcFrameworkError, "-1"))),
            ("not json", V16, None),
            ("{}", V21, Some((ErrorCode::RpcFrameworkError, "-1"))),
            (
                r#"[2, 17, "Heartbeat", {}]"#,
                V201,
                Some((ErrorCode::RpcFrameworkError, "-1")),
            ),
            (r#"[2, 17, "Heartbeat", {}]"#, V16, None),
            (
                r#"["2", "a", "Heartbeat", {}]"#,
                V201,
                Some((ErrorCode::RpcFrameworkError, "-1")),
            ),
            (
                r#"[2, "a", 5, {}]"#,
                V201,
                Some((ErrorCode::RpcFrameworkError, "a")),
            ),
            (
                r#"[2, "a", 5, {}]"#,
                V16,
                Some((ErrorCode::ProtocolError, "a")),
            ),
            (
                r#"[2, "a", "Heartbeat"]"#,
                V201,
                Some((ErrorCode::RpcFrameworkError, "a")),
            ),
            (
                r#"[2, "a", "Heartbeat", {}"#,
                V201,
                Some((ErrorCode::RpcFrameworkError, "a")),
            ),
            // unknown message type
            (
                r#"[7, "a", "Heartbeat", {}]"#,
                V201,
                Some((ErrorCode::MessageTypeNotSupported, "a")),
            ),
            (r#"[7, "a", "Heartbeat", {}]"#, V16, None),
            (
                r#"[6, "a", "NotifyPeriodicEventStream", {}]"#,
                V201,
                Some((ErrorCode::MessageTypeNotSupported, "a")),
            ),
            (
                r#"[5, "a", "InternalError", "", {}]"#,
                V201,
                Some((ErrorCode::MessageTypeNotSupported, "a")),
            ),
            (r#"[6, "a", "NotifyPeriodicEventStream", {}]"#, V16, None),
            // broken responses are never answered
            (r#"[3, "a"]"#, V201, None),
            (r#"[4, "a", 1, "", {}]"#, V201, None),
            // over-long id: answered to "-1" on 2.x, not at all on 1.6
            (
                r#"[2, "0123456789012345678901234567890123456", "Heartbeat", {}]"#,
                V201,
                Some((ErrorCode::RpcFrameworkError, "-1")),
            ),
            (
                r#"[2, "0123456789012345678901234567890123456", "Heartbeat", {}]"#,
                V16,
                None,
            ),
            // found by fuzzing: an unknown type with an over-long id was answered to that id
            (
                r#"[5,"1000108.7100000498401671aItonatnullIon",("#,
                V201,
                Some((ErrorCode::MessageTypeNotSupported, "-1")),
            ),
        ];
        for (text, v, want) in cases {
            let err = Frame::parse(text, *v).expect_err(text);
            let got = err.answer(*v);
            assert_eq!(
                got.as_ref().map(|(c, id)| (*c, id.as_str())),
                *want,
                "{text} on {v}"
            );
            if let Some(reply) = err.reply(*v) {
                let back = Frame::parse(&reply, *v).unwrap();
                assert!(matches!(back, Frame::CallError(_)));
            }
        }
    }

    #[test]
    fn payload_syntax_is_checked_on_demand() {
        let f = Frame::parse(r#"[2,"a","Heartbeat",{},{}]"#, V201).unwrap();
        assert!(f.check_payload_syntax().is_err());
        let f = Frame::parse(r#"[4,"a","GenericError","",[]]"#, V201).unwrap();
        assert!(f.check_payload_syntax().is_err());
    }

    #[test]
    fn error_description_is_cut() {
        let long = "é".repeat(300);
        let f = Frame::call_error("1", ErrorCode::GenericError, V201, &long, None);
        let Frame::CallError(e) = f else { panic!() };
        assert_eq!(e.description.chars().count(), 255);
    }
}
