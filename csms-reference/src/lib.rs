//! The reference CSMS of the ocpp-rs crate family, as a library: the pieces behind the `csms`
//! binary.
//!
//! - [`config`]: settings from defaults, a TOML file, `CSMS_*` variables and flags, validated.
//! - [`store`]: the [`Store`](store::Store) trait and its SQLite and PostgreSQL implementations.
//! - [`domain`]: the version-neutral domain services (registration, authorization,
//!   transactions, meter values, device model, reports, DataTransfer) with thin per-version
//!   adapters, fed by [`ocpp`], the one generic dispatcher of all three OCPP versions.
//! - [`at_rest`]: encryption at rest of personal data and partner credentials;
//!   [`fetch_allow`]: which partner-supplied URLs may be fetched.
//! - [`api`]: the operator HTTP API, protected by [`api_auth`]; [`metrics`]: Prometheus metrics.
//! - [`smart_charging`]: stored charging profiles, local composite schedules, reconciliation
//!   with the stations' reports, site load balancing.
//! - [`dashboard`]: the operator web dashboard at `/` of the API address.
//! - [`ocpi_cpo`]: the OCPI CPO bridge (locations, tokens, sessions, CDRs, tariffs, commands
//!   for eMSP partners), on its own address when `[ocpi] listen` is set.
//! - [`server`]: [`start`](server::start) runs it all; [`validate`]: the OCPP-J log validator.
//!
//! # Example
//!
//! ```
//! use csms_reference::validate::{validate, ValidateOptions};
//! use ocpp_types::OcppVersion;
//!
//! let log = concat!(
//!     r#"[2,"1","Heartbeat",{}]"#, "\n",
//!     r#"[3,"1",{"currentTime":"2024-01-01T00:00:00Z"}]"#, "\n",
//!     r#"[3,"2",{}]"#, "\n",
//! );
//! let mut out = Vec::new();
//! let opts = ValidateOptions { version: OcppVersion::V16, lenient: false, echo: false };
//! let summary = validate(log.as_bytes(), &mut out, opts).unwrap();
//! assert_eq!((summary.lines, summary.failed), (3, 1));
//! let out = String::from_utf8(out).unwrap();
//! assert!(out.lines().nth(1).unwrap().contains(r#""action":"Heartbeat","ok":true"#));
//! assert!(out.lines().nth(2).unwrap().contains(r#""errorCode":"ProtocolError""#));
//! ```

#![warn(missing_docs)]

pub mod api;
pub mod api_auth;
pub mod at_rest;
pub mod config;
pub mod dashboard;
pub mod domain;
pub mod fetch_allow;
pub mod metrics;
pub mod ocpi_cpo;
pub mod ocpp;
pub mod server;
pub mod smart_charging;
pub mod store;
pub mod validate;
