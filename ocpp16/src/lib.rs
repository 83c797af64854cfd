//! Typed OCPP 1.6 messages, generated from the official OCA JSON schemas.
//!
//! Every action of OCPP 1.6 has a request and a response type (see [`Action`] for the list)
//! that decodes with full schema validation in one pass and encodes back exactly, an enum
//! [`AnyRequest`] / [`AnyResponse`] tagged by action, and the dispatch tables [`Ocpp16`] that the
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
//! use ocpp16::*;
//! use ocpp_types::{decode_payload, DecodeOptions, Encode, OcppVersion};
//!
//! let json = r#"{"chargePointVendor":"ACME","chargePointModel":"Wallbox 1"}"#;
//! let req: BootNotificationRequest = decode_payload(json, &DecodeOptions::STRICT).unwrap();
//! assert_eq!(req.charge_point_vendor, "ACME");
//! assert_eq!(req.to_json(), json);
//!
//! // A missing required member is reported with its path and the 1.6 spelling of the code.
//! let err = decode_payload::<BootNotificationRequest>(r#"{"chargePointVendor":"ACME"}"#, &DecodeOptions::STRICT)
//!     .unwrap_err();
//! assert_eq!(err.path(), "/chargePointModel");
//! assert_eq!(err.code().wire(OcppVersion::V16), "OccurenceConstraintViolation");
//! ```

#![warn(missing_docs)]

pub mod config_store;
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
