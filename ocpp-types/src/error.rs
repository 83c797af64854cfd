//! OCPP-J error codes with each version's wire spelling, and the decode error that carries one.

use std::fmt;

use crate::OcppVersion;

/// An OCPP-J RPC error code, version-neutral.
///
/// The wire spelling differs between versions: 1.6 writes `FormationViolation` and
/// `OccurenceConstraintViolation` (sic), 2.0.1 and 2.1 write `FormatViolation` and
/// `OccurrenceConstraintViolation`. Use [`ErrorCode::wire`] to spell a code for a version and
/// [`ErrorCode::from_wire`] to read one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The action is not known to the receiver's version.
    NotImplemented,
    /// The action is known but not supported by the receiver.
    NotSupported,
    /// An internal error kept the receiver from completing the operation.
    InternalError,
    /// The payload is incomplete or the message broke the protocol.
    ProtocolError,
    /// The message was refused for security reasons (for example before an accepted boot).
    SecurityError,
    /// The payload is syntactically incorrect or does not conform to the PDU structure
    /// (1.6 spells it `FormationViolation`).
    FormatViolation,
    /// A member holds a value outside its allowed range, length or set of values.
    PropertyConstraintViolation,
    /// A required member is missing or an array has too few or too many items
    /// (1.6 spells it `OccurenceConstraintViolation`).
    OccurrenceConstraintViolation,
    /// A member has the wrong JSON type.
    TypeConstraintViolation,
    /// Any other error.
    GenericError,
    /// The frame is not a valid RPC message, for example its message id could not be read (2.x only).
    RpcFrameworkError,
    /// The message type number is not supported (2.x only).
    MessageTypeNotSupported,
}

impl ErrorCode {
    /// Every code.
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::NotImplemented,
        ErrorCode::NotSupported,
        ErrorCode::InternalError,
        ErrorCode::ProtocolError,
        ErrorCode::SecurityError,
        ErrorCode::FormatViolation,
        ErrorCode::PropertyConstraintViolation,
        ErrorCode::OccurrenceConstraintViolation,
        ErrorCode::TypeConstraintViolation,
        ErrorCode::GenericError,
        ErrorCode::RpcFrameworkError,
        ErrorCode::MessageTypeNotSupported,
    ];

    /// The code as the given version writes it on the wire.
    ///
    /// 1.6 has no `RpcFrameworkError` nor `MessageTypeNotSupported`; for 1.6 they are written as
    /// `GenericError` (the engine never answers such frames on 1.6, as the 1.6 specification says).
    pub const fn wire(self, version: OcppVersion) -> &'static str {
        let v16 = matches!(version, OcppVersion::V16);
        match self {
            ErrorCode::NotImplemented => "NotImplemented",
            ErrorCode::NotSupported => "NotSupported",
            ErrorCode::InternalError => "InternalError",
            ErrorCode::ProtocolError => "ProtocolError",
            ErrorCode::SecurityError => "SecurityError",
            ErrorCode::FormatViolation if v16 => "FormationViolation",
            ErrorCode::FormatViolation => "FormatViolation",
            ErrorCode::PropertyConstraintViolation => "PropertyConstraintViolation",
            ErrorCode::OccurrenceConstraintViolation if v16 => "OccurenceConstraintViolation",
            ErrorCode::OccurrenceConstraintViolation => "OccurrenceConstraintViolation",
            ErrorCode::TypeConstraintViolation => "TypeConstraintViolation",
            ErrorCode::GenericError => "GenericError",
            ErrorCode::RpcFrameworkError if v16 => "GenericError",
            ErrorCode::RpcFrameworkError => "RpcFrameworkError",
            ErrorCode::MessageTypeNotSupported if v16 => "GenericError",
            ErrorCode::MessageTypeNotSupported => "MessageTypeNotSupported",
        }
    }

    /// Reads a code as the given version spells it.
    ///
    /// Returns `None` for a spelling that the version does not define. The other versions'
    /// spellings of the two renamed codes are accepted too, since real peers mix them up; use
    /// [`ErrorCode::from_wire_strict`] to refuse them.
    pub fn from_wire(s: &str, version: OcppVersion) -> Option<ErrorCode> {
        Self::from_wire_strict(s, version).or(match s {
            "FormationViolation" | "FormatViolation" => Some(ErrorCode::FormatViolation),
            "OccurenceConstraintViolation" | "OccurrenceConstraintViolation" => {
                Some(ErrorCode::OccurrenceConstraintViolation)
            }
            _ => None,
        })
    }

    /// Reads a code exactly as the given version spells it, `None` otherwise.
    pub fn from_wire_strict(s: &str, version: OcppVersion) -> Option<ErrorCode> {
        let v16 = matches!(version, OcppVersion::V16);
        Self::ALL.into_iter().find(|c| {
            c.wire(version) == s
                && !(v16
                    && matches!(
                        c,
                        ErrorCode::RpcFrameworkError | ErrorCode::MessageTypeNotSupported
                    ))
        })
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.wire(OcppVersion::V201))
    }
}

/// Why a payload could not be decoded, or why an outgoing message may not be sent.
///
/// Carries the OCPP error code the fault maps to (see the table in the crate docs), the JSON
/// pointer (RFC 6901) of the offending member (for a missing member: where it should have been),
/// and a human-readable description.
///
/// The error is one pointer wide, so that the `Result`s of the decoding hot path stay small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(Box<Inner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    code: ErrorCode,
    path: String,
    description: String,
}

impl DecodeError {
    /// A new error at the root of the payload.
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        DecodeError(Box::new(Inner {
            code,
            path: String::new(),
            description: description.into(),
        }))
    }

    /// The OCPP error code of the fault.
    pub fn code(&self) -> ErrorCode {
        self.0.code
    }

    /// The JSON pointer of the offending member, `""` for the payload itself.
    pub fn path(&self) -> &str {
        &self.0.path
    }

    /// What is wrong, for people.
    pub fn description(&self) -> &str {
        &self.0.description
    }

    /// Prefixes the path with an object member name (used while unwinding out of a member).
    #[must_use]
    pub fn at_key(mut self, key: &str) -> Self {
        let mut p = String::with_capacity(key.len() + 1 + self.0.path.len());
        p.push('/');
        for c in key.chars() {
            match c {
                '~' => p.push_str("~0"),
                '/' => p.push_str("~1"),
                c => p.push(c),
            }
        }
        p.push_str(&self.0.path);
        self.0.path = p;
        self
    }

    /// Prefixes the path with an array index (used while unwinding out of an array item).
    #[must_use]
    pub fn at_index(mut self, index: usize) -> Self {
        self.0.path = format!("/{index}{}", self.0.path);
        self
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.0;
        if e.path.is_empty() {
            write!(f, "{}: {}", e.code, e.description)
        } else {
            write!(f, "{} at {}: {}", e.code, e.path, e.description)
        }
    }
}

impl std::error::Error for DecodeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_spellings_per_version() {
        assert_eq!(
            ErrorCode::FormatViolation.wire(OcppVersion::V16),
            "FormationViolation"
        );
        assert_eq!(
            ErrorCode::FormatViolation.wire(OcppVersion::V201),
            "FormatViolation"
        );
        assert_eq!(
            ErrorCode::OccurrenceConstraintViolation.wire(OcppVersion::V16),
            "OccurenceConstraintViolation"
        );
        assert_eq!(
            ErrorCode::OccurrenceConstraintViolation.wire(OcppVersion::V21),
            "OccurrenceConstraintViolation"
        );
        for v in OcppVersion::ALL {
            for c in ErrorCode::ALL {
                let w = c.wire(v);
                if v == OcppVersion::V16
                    && matches!(
                        c,
                        ErrorCode::RpcFrameworkError | ErrorCode::MessageTypeNotSupported
                    )
                {
                    continue;
                }
                assert_eq!(ErrorCode::from_wire_strict(w, v), Some(c), "{v} {w}");
            }
        }
        assert_eq!(
            ErrorCode::from_wire_strict("FormatViolation", OcppVersion::V16),
            None
        );
        assert_eq!(
            ErrorCode::from_wire("FormatViolation", OcppVersion::V16),
            Some(ErrorCode::FormatViolation)
        );
        assert_eq!(
            ErrorCode::from_wire_strict("RpcFrameworkError", OcppVersion::V16),
            None
        );
    }

    #[test]
    fn pointer_is_built_while_unwinding_and_escaped() {
        let e = DecodeError::new(ErrorCode::TypeConstraintViolation, "x")
            .at_key("value")
            .at_index(3)
            .at_key("a/b~c");
        assert_eq!(e.path(), "/a~1b~0c/3/value");
        assert_eq!(
            e.to_string(),
            "TypeConstraintViolation at /a~1b~0c/3/value: x"
        );
    }
}
