//! The OCPP-J session engine (sans-IO) for the CSMS and charging-station roles.
//!
//! This crate re-exports the framing layer it builds on; the engine itself lands with the engine
//! and transport work.
//!
//! ```
//! use ocpp_core::types::{Frame, OcppVersion};
//! let f = Frame::parse(r#"[3,"1",{}]"#, OcppVersion::V16).unwrap();
//! assert_eq!(f.id(), "1");
//! ```

pub use ocpp_types as types;
