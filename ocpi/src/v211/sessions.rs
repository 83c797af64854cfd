//! The sessions module (2.1.1 `mod_sessions.md`).

use crate::macros::{ocpi_enum, ocpi_object};
use crate::primitives::{Currency, DateTime, Number, Str};
use crate::v211::cdrs::{AuthMethod, ChargingPeriod};
use crate::v211::locations::Location;

ocpi_object! {
    /// `Session` (2.1.1): embeds the location with only the EVSE and connector in use.
    pub struct Session {
        /// Unique id of the session.
        id: Str<36> [1],
        /// Start of the session.
        start_datetime: DateTime [1],
        /// End of the session, when finished.
        end_datetime: DateTime [?],
        /// Energy charged so far, kWh.
        kwh: Number [1],
        /// Reference to the token (`Token.auth_id`).
        auth_id: Str<36> [1],
        /// How the session was authorized.
        auth_method: AuthMethod [1],
        /// The location, with the one EVSE and connector used.
        location: Location [1],
        /// Meter id.
        meter_id: Str<255> [?],
        /// ISO 4217 currency.
        currency: Currency [1],
        /// Charging periods so far.
        charging_periods: ChargingPeriod [*],
        /// Total cost so far (excluding VAT).
        total_cost: Number [?],
        /// Status of the session.
        status: SessionStatus [1],
        /// When this session was last updated.
        last_updated: DateTime [1],
    }
}

ocpi_enum! {
    /// `SessionStatus` (2.1.1).
    pub enum SessionStatus {
        Active = "ACTIVE",
        Completed = "COMPLETED",
        Invalid = "INVALID",
        Pending = "PENDING",
    }
}
