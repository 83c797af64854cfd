//! The hub client info module (2.3.0): [`ClientInfo`] uses the 2.3.0 [`Role`].

pub use crate::v221::hub_client_info::ConnectionStatus;

use crate::macros::ocpi_object;
use crate::primitives::{CountryCode, DateTime, PartyId};
use crate::v230::types::Role;

ocpi_object! {
    #[open_enums = crate::v230::OPEN_ENUMS]
    /// `ClientInfo`: the connection status of a party behind a hub.
    pub struct ClientInfo {
        /// Party id.
        party_id: PartyId [1],
        /// Country code.
        country_code: CountryCode [1],
        /// Role of the party.
        role: Role [1],
        /// Connection status.
        status: ConnectionStatus [1],
        /// When this information was last updated.
        last_updated: DateTime [1],
    }
}
