#![warn(missing_docs)]
//! OCPI (Open Charge Point Interface) 2.2.1, with 2.1.1 and 2.3.0.
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
pub mod credentials;
mod iso_codes;
pub(crate) mod macros;
pub mod primitives;
pub mod server;
pub mod tariff;
pub mod transport;
pub mod v221;
pub mod validate;
