#![warn(missing_docs)]
//! OCPI (Open Charge Point Interface) 2.2.1, with 2.1.1 and 2.3.0.
//!
//! - [`v221`]: the objects of every 2.2.1 module; unknown members kept in `extra`, unknown enum
//!   values kept as `Unknown(String)`, both written back. [`validate`] checks every field rule
//!   and reports JSON paths. [`primitives`]: exact numbers ([`primitives::Number`], a
//!   `rust_decimal::Decimal`), date-times that keep the peer's text, ISO 3166 / 4217 / 639 codes.
//! - [`tariff`]: the tariff engine and [`tariff::price_json`].
//! - [`transport`]: envelope, status codes, `Authorization` encoding (raw in 2.1.1, Base64 from
//!   2.2, with a tolerance switch), routing headers, pagination, PATCH.
//! - [`credentials`]: the handshake state machine; [`server`] (axum) and [`client`] (reqwest).
//! - [`schema`]: JSON Schemas derived with `schemars` ([`schema::v211`], [`schema::v221`],
//!   [`schema::v230`]).
//!
//! - [`v211`] and [`v230`]: the objects of OCPI 2.1.1 and 2.3.0 (with Payments); what did not
//!   change from 2.2.1 is the 2.2.1 type, re-exported. 2.3.0 `OpenEnum`s are open in validation.
//! - [`convert`]: locations, sessions, CDRs, tariffs and tokens between 2.1.1, 2.2.1 and 2.3.0,
//!   each conversion returning what it lost.
//!
//! - [`handlers`]: the application's side of commands and charging profiles (one trait per
//!   module interface, each method with a "not supported" default).
//!
//! Not yet here: the payments module's endpoints (its objects are in [`v230`]).
//!
//! The client speaks plain HTTP unless TLS is added by the application's own reqwest features.
//!
//! ```
//! use ocpi::v221::Tariff;
//! use ocpi::validate::Validate;
//!
//! let tariff: Tariff = serde_json::from_str(r#"{
//!   "country_code": "DE", "party_id": "ALL", "id": "12", "currency": "EUR",
//!   "elements": [{"price_components": [{"type": "ENERGY", "price": 0.25, "vat": 10.0, "step_size": 1}]}],
//!   "x_vendor": 1,
//!   "last_updated": "2018-12-17T11:36:01Z"
//! }"#).unwrap();
//! tariff.validate().unwrap();
//! // unknown members are kept and written back
//! assert_eq!(serde_json::to_value(&tariff).unwrap()["x_vendor"], 1);
//! ```

pub mod client;
pub mod convert;
pub mod credentials;
pub mod handlers;
mod iso_codes;
pub(crate) mod macros;
pub mod primitives;
pub mod schema;
pub mod server;
pub mod tariff;
pub mod transport;
pub mod v211;
pub mod v221;
pub mod v230;
pub mod validate;
