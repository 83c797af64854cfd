//! The reference CSMS of the ocpp-rs crate family, as a library: the pieces behind the `csms`
//! binary.
//!
//! Today it holds the OCPP-J log validator ([`validate`]); the server itself lands with the
//! reference-CSMS work.
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

pub mod validate;
