//! The tokens module (2.3.0): [`Token`] and [`AuthorizationInfo`] use the 2.3.0 [`TokenType`].

pub use crate::v221::tokens::{AllowedType, EnergyContract, LocationReferences, WhitelistType};

use crate::macros::ocpi_object;
use crate::primitives::{CiStr, CountryCode, DateTime, Language, PartyId, Str};
use crate::v230::types::{DisplayText, ProfileType, TokenType};

ocpi_object! {
    #[open_enums = crate::v230::OPEN_ENUMS]
    /// `AuthorizationInfo`: the answer to a real-time authorization request.
    pub struct AuthorizationInfo {
        /// Status of the token.
        allowed: AllowedType [1],
        /// The complete token object.
        token: Token [1],
        /// Location and EVSEs the authorization is valid for.
        location: LocationReferences [?],
        /// Reference to this authorization.
        authorization_reference: CiStr<36> [?],
        /// Message for the driver.
        info: DisplayText [?],
    }
}

ocpi_object! {
    #[open_enums = crate::v230::OPEN_ENUMS]
    /// `Token`: a means of authorization issued by an eMSP.
    pub struct Token {
        /// Country code of the eMSP that owns this token.
        country_code: CountryCode [1],
        /// Party id of the eMSP that owns this token.
        party_id: PartyId [1],
        /// Unique id of the token.
        uid: CiStr<36> [1],
        /// Type of the token.
        r#type: TokenType [1],
        /// Contract id (eMA id).
        contract_id: CiStr<36> [1],
        /// Visual readable number.
        visual_number: Str<64> [?],
        /// Issuing company.
        issuer: Str<64> [1],
        /// Group id.
        group_id: CiStr<36> [?],
        /// Whether the token is valid.
        valid: bool [1],
        /// How the token may be used with a whitelist.
        whitelist: WhitelistType [1],
        /// Preferred language of the driver.
        language: Language [?],
        /// Default charging profile type.
        default_profile_type: ProfileType [?],
        /// Energy contract of the driver.
        energy_contract: EnergyContract [?],
        /// When this token was last updated.
        last_updated: DateTime [1],
    }
}
