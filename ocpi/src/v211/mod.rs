//! OCPI 2.1.1: the objects of every module (locations, sessions, CDRs, tariffs, tokens,
//! commands, credentials, versions).
//!
//! 2.1.1 predates the party scoping of 2.2: objects carry no `country_code`/`party_id`,
//! sessions and CDRs embed the whole [`Location`], tokens are identified by `auth_id`, prices
//! are plain numbers without VAT, connectors have one `tariff_id`. Strings are mostly `string`
//! (case sensitive, any printable text) where 2.2.1 uses `CiString`.
//!
//! Objects and enums that 2.1.1 defines exactly as 2.2.1 does are re-exported from
//! [`crate::v221`] (same Rust type); everything else is defined here. Unknown members and enum
//! values are kept and written back, as for 2.2.1.

pub mod cdrs;
pub mod commands;
pub mod credentials;
pub mod locations;
pub mod sessions;
pub mod tariffs;
pub mod tokens;
pub mod versions;

pub use crate::v221::types::DisplayText;
pub use cdrs::*;
pub use commands::*;
pub use credentials::*;
pub use locations::*;
pub use sessions::*;
pub use tariffs::*;
pub use tokens::*;
pub use versions::*;
