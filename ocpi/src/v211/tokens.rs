//! The tokens module (2.1.1 `mod_tokens.md`).

pub use crate::v221::tokens::{AllowedType, WhitelistType};

use crate::macros::{ocpi_enum, ocpi_object};
use crate::primitives::{DateTime, Language, Str};
use crate::v221::types::DisplayText;

ocpi_object! {
    /// `AuthorizationInfo` (2.1.1).
    pub struct AuthorizationInfo {
        /// Status of the token.
        allowed: AllowedType [1],
        /// Location and EVSEs the authorization is valid for.
        location: LocationReferences [?],
        /// Message for the driver.
        info: DisplayText [?],
    }
}

ocpi_object! {
    /// `Token` (2.1.1).
    pub struct Token {
        /// Unique id of the token.
        uid: Str<36> [1],
        /// Type of the token.
        r#type: TokenType [1],
        /// Id used as reference in sessions and CDRs (eMA id).
        auth_id: Str<36> [1],
        /// Visual readable number.
        visual_number: Str<64> [?],
        /// Issuing company.
        issuer: Str<64> [1],
        /// Whether the token is valid.
        valid: bool [1],
        /// How the token may be used with a whitelist.
        whitelist: WhitelistType [1],
        /// Preferred language of the driver.
        language: Language [?],
        /// When this token was last updated.
        last_updated: DateTime [1],
    }
}

ocpi_object! {
    /// `LocationReferences` (2.1.1).
    pub struct LocationReferences {
        /// Location id.
        location_id: Str<39> [1],
        /// EVSE uids.
        evse_uids: Str<39> [*],
        /// Connector ids.
        connector_ids: Str<36> [*],
    }
}

ocpi_enum! {
    /// `TokenType` (2.1.1).
    pub enum TokenType {
        Other = "OTHER",
        Rfid = "RFID",
    }
}
