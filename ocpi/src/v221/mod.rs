//! OCPI 2.2.1: the objects of every module.
//!
//! Every object keeps members it does not know in `extra` and every enum keeps values it does
//! not know in `Unknown(String)`; both are written back unchanged. [`crate::validate::Validate`]
//! checks the field rules (lengths, character sets, ISO codes, cardinalities).

pub mod cdrs;
pub mod charging_profiles;
pub mod commands;
pub mod credentials;
pub mod hub_client_info;
pub mod locations;
pub mod sessions;
pub mod tariffs;
pub mod tokens;
pub mod types;
pub mod versions;

pub use cdrs::{Cdr, CdrLocation, SignedData, SignedValue};
pub use charging_profiles::*;
pub use commands::*;
pub use credentials::{Credentials, CredentialsRole};
pub use hub_client_info::{ClientInfo, ConnectionStatus};
pub use locations::*;
pub use sessions::*;
pub use tariffs::*;
pub use tokens::*;
pub use types::*;
pub use versions::*;
