//! The credentials module (2.3.0): `hub_party_id` and the 2.3.0 [`Role`].

use crate::macros::ocpi_object;
use crate::primitives::{CiStr, CountryCode, PartyId, Str, Url};
use crate::v230::types::{BusinessDetails, Role};

ocpi_object! {
    #[open_enums = crate::v230::OPEN_ENUMS]
    /// `Credentials`: what one party tells another to reach it.
    pub struct Credentials {
        /// The credentials token the receiver must use to call the sender.
        token: Str<64> [1],
        /// The URL of the versions endpoint of the sender.
        url: Url [1],
        /// The hub of this platform: country code and party id concatenated, e.g. `NLHUB`.
        hub_party_id: CiStr<5> [?],
        /// The roles the sender's platform hosts.
        roles: CredentialsRole [+],
    }
}

ocpi_object! {
    #[open_enums = crate::v230::OPEN_ENUMS]
    /// `CredentialsRole`: one role of a platform.
    pub struct CredentialsRole {
        /// Type of role.
        role: Role [1],
        /// Details of this party.
        business_details: BusinessDetails [1],
        /// Party id of this party.
        party_id: PartyId [1],
        /// ISO 3166-1 alpha-2 country code of this party.
        country_code: CountryCode [1],
    }
}
