//! OCPP-J building blocks shared by the `ocpp16`, `ocpp201` and `ocpp21` crates.
//!
//! - [`Frame`]: the five OCPP-J message types, parsed without copying the payload, and the exact
//!   CALLERROR every malformed frame gets ([`FrameError::answer`]).
//! - [`ErrorCode`]: the RPC error codes with each version's wire spelling (1.6's
//!   `FormationViolation` and `OccurenceConstraintViolation`).
//! - [`DateTime`]: RFC 3339 date-times that keep the peer's offset and precision; [`Decimal`]:
//!   exact decimals for meter values, limits and prices.
//! - The validating codec ([`Decoder`], [`Validator`], [`Decode`], [`Encode`]) behind the
//!   generated message types, with [`DecodeOptions`] (strict by default, lenient per station) and
//!   [`DecodeError`]s that carry the JSON pointer and the OCPP error code of the first fault.
//! - [`Text`]: the string of every string member, stored inline up to 24 bytes.
//! - The [`Request`] trait that ties a message to its action, response type and direction.
//!
//! # Fault to error code
//!
//! | fault | 1.6 code | 2.0.1 / 2.1 code |
//! | --- | --- | --- |
//! | payload not a JSON object, invalid JSON, unknown member in strict mode | `FormationViolation` | `FormatViolation` |
//! | required member missing; too few / many array items | `OccurenceConstraintViolation` | `OccurrenceConstraintViolation` |
//! | member of the wrong JSON type | `TypeConstraintViolation` | `TypeConstraintViolation` |
//! | value outside the enum, over `maxLength`, out of range, bad date-time | `PropertyConstraintViolation` | `PropertyConstraintViolation` |
//! | frame or message id unreadable | (no answer) | `RpcFrameworkError`, id `"-1"` |
//! | unknown message type number | (ignored) | `MessageTypeNotSupported` |
//!
//! # Example
//!
//! ```
//! use ocpp_types::{ErrorCode, Frame, OcppVersion};
//!
//! let text = r#"[2,"42","Heartbeat",{}]"#;
//! let frame = Frame::parse(text, OcppVersion::V201).unwrap();
//! assert_eq!(frame.id(), "42");
//! assert_eq!(frame.payload(), "{}");
//!
//! // A frame whose id cannot be read is answered with RpcFrameworkError and id "-1" on 2.x,
//! // and not at all on 1.6.
//! let err = Frame::parse("[2, 42]", OcppVersion::V201).unwrap_err();
//! assert_eq!(err.answer(OcppVersion::V201), Some((ErrorCode::RpcFrameworkError, "-1".to_string())));
//! assert_eq!(err.answer(OcppVersion::V16), None);
//!
//! // Date-times write back exactly what was read.
//! let t: ocpp_types::DateTime = "2024-03-01T08:30:00.120+01:00".parse().unwrap();
//! assert_eq!(t.to_string(), "2024-03-01T08:30:00.120+01:00");
//! ```

pub mod codec;
pub mod datetime;
pub mod error;
pub mod frame;
pub mod json;
pub mod message;
pub mod text;
pub mod version;

pub use codec::{
    decode_payload, decode_payload_counted, encode_validated, Decode, DecodeOptions, Decoder,
    Encode, Extra, Leniencies, RawJson, Validator,
};
pub use datetime::DateTime;
pub use error::{DecodeError, ErrorCode};
pub use frame::{Frame, FrameError, FrameErrorKind, MessageType};
pub use message::{decode_call, Message, Protocol, Request, SendMessage};
pub use rust_decimal::Decimal;
pub use text::Text;
pub use version::{Direction, OcppVersion, Role};

#[doc(hidden)]
pub use serde;
