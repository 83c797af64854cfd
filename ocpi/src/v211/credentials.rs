//! The credentials module (2.1.1 `credentials.md`): one party per platform, no roles list.

use crate::macros::ocpi_object;
use crate::primitives::{CountryCode, PartyId, Str, Url};
use crate::v221::types::BusinessDetails;

ocpi_object! {
    /// `Credentials` (2.1.1).
    pub struct Credentials {
        /// The credentials token the receiver must use to call the sender.
        token: Str<64> [1],
        /// The URL of the versions endpoint of the sender.
        url: Url [1],
        /// Details of the sender.
        business_details: BusinessDetails [1],
        /// Party id of the sender.
        party_id: PartyId [1],
        /// ISO 3166-1 alpha-2 country code of the sender.
        country_code: CountryCode [1],
    }
}
