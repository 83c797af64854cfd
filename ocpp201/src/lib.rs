//! Typed OCPP 2.0.1 messages, generated from the official OCA JSON schemas.
//!
//! Every action of OCPP 2.0.1 has a request and a response type (see [`Action`] for the list)
//! that decodes with full schema validation in one pass and encodes back exactly, an enum
//! [`AnyRequest`] / [`AnyResponse`] tagged by action, and the dispatch tables [`Ocpp201`] that the
//! `ocpp-core` engine uses. Data types shared between messages are one Rust type each.
//!
//! Strings are `String`s checked against their `maxLength` when decoded and before they are
//! sent (lenient decoding keeps over-long strings, so a newtype could not promise the bound);
//! numbers are exact [`ocpp_types::Decimal`]s; date-times are lossless [`ocpp_types::DateTime`]s.
//! Unknown members and enum values are refused under strict options and kept, then written
//! back, under lenient ones.
//!
//! # Example
//!
//! ```
//! use ocpp201::*;
//! use ocpp_types::{decode_payload, DecodeOptions, Encode, OcppVersion};
//!
//! let json = r#"{"chargingStation":{"model":"Wallbox 1","vendorName":"ACME"},"reason":"PowerUp"}"#;
//! let req: BootNotificationRequest = decode_payload(json, &DecodeOptions::STRICT).unwrap();
//! assert_eq!(req.reason, BootReasonEnumType::PowerUp);
//! assert_eq!(req.to_json(), json);
//!
//! // An enum value the schema does not list is a PropertyConstraintViolation at its path.
//! let err = decode_payload::<BootNotificationRequest>(
//!     r#"{"chargingStation":{"model":"W","vendorName":"A"},"reason":"Sunrise"}"#,
//!     &DecodeOptions::STRICT,
//! )
//! .unwrap_err();
//! assert_eq!(err.path(), "/reason");
//! assert_eq!(err.code().wire(OcppVersion::V201), "PropertyConstraintViolation");
//! ```

#![warn(missing_docs)]

pub mod device_model;
pub mod generated;
pub mod smart_charging;

pub use generated::actions::*;
pub use generated::handlers::{csms, station};
pub use generated::messages::*;
pub use generated::types::*;
pub use ocpp_core::async_trait;
pub use ocpp_types;

/// The error of `FromStr` for a generated enum when the text is not one of its values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a value of {type_name}")]
pub struct UnknownEnumValue {
    /// The enum's name.
    pub type_name: &'static str,
    /// The text that was given.
    pub value: String,
}
