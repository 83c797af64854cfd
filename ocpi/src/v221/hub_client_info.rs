//! The hub client info module (`mod_hub_client_info.asciidoc`).

use crate::macros::{ocpi_enum, ocpi_object};
use crate::primitives::{CountryCode, DateTime, PartyId};
use crate::v221::types::Role;

ocpi_object! {
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

ocpi_enum! {
    /// `ConnectionStatus`.
    pub enum ConnectionStatus {
        Connected = "CONNECTED",
        Offline = "OFFLINE",
        Planned = "PLANNED",
        Suspended = "SUSPENDED",
    }
}
