//! What the engine reports ([`Event`]) and the errors of its methods.

use std::fmt;
use std::io;

use ocpp_types::{DecodeError, ErrorCode, Leniencies, Protocol};

/// The engine's handle for an outgoing CALL; its decimal form is the message id on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub u64);

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The contents of a CALLERROR: what the application answers a CALL with when it fails, and what
/// a failed outgoing CALL reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    /// The error code (spelled for the connection's version on the wire).
    pub code: ErrorCode,
    /// What went wrong, for people (cut to 255 characters on the wire).
    pub description: String,
    /// A JSON object with details; `None` writes `{}`.
    pub details: Option<String>,
}

impl CallError {
    /// An error with a code and a description, without details.
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        CallError {
            code,
            description: description.into(),
            details: None,
        }
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

/// Why an outgoing CALL got no usable response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallFailure {
    /// The peer answered with a CALLERROR.
    Error {
        /// The error, with the code read in the connection's version spelling; a code the
        /// version does not define reads as [`ErrorCode::GenericError`].
        error: CallError,
        /// The code exactly as written on the wire.
        wire_code: String,
    },
    /// No answer within the call timeout. A later answer is reported as
    /// [`Event::LateResponse`], never delivered.
    Timeout,
    /// The CALLRESULT did not validate against the response schema (on 2.1 the engine answered
    /// it with a CALLRESULTERROR).
    InvalidResponse(DecodeError),
    /// The connection went away before the answer came.
    Disconnected,
}

impl fmt::Display for CallFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallFailure::Error { error, .. } => write!(f, "CALLERROR {error}"),
            CallFailure::Timeout => f.write_str("no answer within the call timeout"),
            CallFailure::InvalidResponse(e) => write!(f, "invalid CALLRESULT: {e}"),
            CallFailure::Disconnected => f.write_str("disconnected before the answer"),
        }
    }
}

/// The boot state of the session (see [`crate::Engine`] on boot gating).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BootState {
    /// No BootNotification answered yet.
    NotBooted,
    /// The CSMS answered `Pending`.
    Pending,
    /// The CSMS answered `Rejected`.
    Rejected,
    /// The CSMS answered `Accepted`.
    Accepted,
}

/// Something the application must know about, from [`crate::Engine::poll_event`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event<P: Protocol> {
    /// An incoming CALL, decoded and validated. Answer it with [`crate::Engine::respond`]; the
    /// next incoming CALL is delivered only after this one was answered.
    Call {
        /// The message id to answer to.
        id: String,
        /// The action.
        action: P::Action,
        /// The request.
        request: P::AnyRequest,
        /// Leniencies needed to read it (always empty under strict options).
        leniencies: Leniencies,
    },
    /// An incoming 2.1 SEND, decoded and validated. It is never answered.
    Send {
        /// The message id.
        id: String,
        /// The action.
        action: P::Action,
        /// The message.
        request: P::AnyRequest,
        /// Leniencies needed to read it.
        leniencies: Leniencies,
    },
    /// The CALLRESULT of one of our CALLs, decoded as the response type of its action.
    Response {
        /// The call it answers.
        id: CallId,
        /// The action of the call.
        action: P::Action,
        /// The response.
        response: P::AnyResponse,
        /// Leniencies needed to read it.
        leniencies: Leniencies,
    },
    /// One of our CALLs failed for good (for a transaction-related message: after its last
    /// attempt, and the message was removed from the offline queue).
    CallFailed {
        /// The call.
        id: CallId,
        /// Its action.
        action: P::Action,
        /// Why.
        failure: CallFailure,
    },
    /// A transaction-related message failed and will be sent again at `retry_at`.
    TransactionMessageRetry {
        /// The call.
        id: CallId,
        /// Its action.
        action: P::Action,
        /// How many attempts have failed so far.
        attempts: u32,
        /// Why the last attempt failed.
        failure: CallFailure,
        /// When the next attempt goes out.
        retry_at: std::time::Instant,
    },
    /// An answer came for a call that had already timed out; it is not delivered.
    LateResponse {
        /// The call.
        id: CallId,
        /// Its action.
        action: P::Action,
        /// Whether the answer was a CALLERROR rather than a CALLRESULT.
        was_error: bool,
    },
    /// A second answer came for a call that was already answered.
    DuplicateResponse {
        /// The call.
        id: CallId,
        /// Its action.
        action: P::Action,
    },
    /// An answer came for a message id this engine never used (or forgot long ago).
    UnknownResponse {
        /// The message id as received.
        message_id: String,
    },
    /// An incoming CALL reused the id of a CALL that is not answered yet; it was dropped.
    DuplicateCall {
        /// The message id.
        id: String,
    },
    /// An incoming message was refused. `answered` is the CALLERROR code the engine answered
    /// with (`None`: the version prescribes no answer, or the message was a response or SEND).
    Refused {
        /// The message id, when it could be read.
        id: Option<String>,
        /// The action, when it could be read.
        action: Option<String>,
        /// The code of the CALLERROR sent back, if any.
        answered: Option<ErrorCode>,
        /// What was wrong.
        reason: String,
    },
    /// 2.1: the peer rejected one of our CALLRESULTs with a CALLRESULTERROR.
    ResultRejected {
        /// The message id of the CALL we answered.
        id: String,
        /// The action of that CALL, when it is still remembered.
        action: Option<P::Action>,
        /// The error.
        error: CallError,
    },
    /// The boot state changed (a BootNotification was answered).
    BootStateChanged {
        /// The new state.
        state: BootState,
    },
}

/// Why [`crate::Engine::call`], [`crate::Engine::call_any`] or [`crate::Engine::send`] refused a
/// message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The payload breaks its schema; nothing was sent.
    #[error("the request breaks its schema: {0}")]
    Invalid(DecodeError),
    /// The message belongs to another protocol version or its action is unknown to this one.
    #[error("action {action} does not belong to OCPP {version}")]
    WrongVersion {
        /// The action name.
        action: String,
        /// The connection's version.
        version: ocpp_types::OcppVersion,
    },
    /// This role does not send this action.
    #[error("the {role:?} role does not send {action}")]
    WrongDirection {
        /// The action name.
        action: String,
        /// This engine's role.
        role: ocpp_types::Role,
    },
    /// A SEND action was given to `call`, a CALL action to `send`, or `send` was used on a
    /// version without SEND frames.
    #[error("{0}")]
    WrongMessageType(String),
    /// The connection is down and the message is not one that waits in the offline queue.
    #[error("not connected")]
    NotConnected,
    /// The queue of calls waiting behind the outstanding one is full.
    #[error("the call queue is full ({0} calls waiting)")]
    QueueFull(usize),
    /// The offline queue could not store a transaction-related message; it was not sent.
    #[error("the offline queue failed: {0}")]
    Storage(#[from] io::Error),
}

/// Why [`crate::Engine::respond`] did not send the given answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RespondError {
    /// No incoming CALL with this id waits for an answer (never received, already answered,
    /// or the connection went away).
    #[error("no incoming CALL {0:?} waits for an answer")]
    UnknownId(String),
    /// The response is of another action than the CALL; `InternalError` was sent instead.
    #[error("response of the wrong action; InternalError sent instead")]
    WrongAction,
    /// The response breaks its schema; `InternalError` was sent instead.
    #[error("the response breaks its schema, InternalError sent instead: {0}")]
    Invalid(DecodeError),
}
