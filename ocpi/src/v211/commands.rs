//! The commands module (2.1.1 `mod_commands.md`).

use crate::macros::{ocpi_enum, ocpi_object};
use crate::primitives::{DateTime, Str, Url};
use crate::v211::tokens::Token;

ocpi_object! {
    /// `CommandResponse` (2.1.1): also the body POSTed to `response_url`.
    pub struct CommandResponse {
        /// Result of the command.
        result: CommandResponseType [1],
    }
}

ocpi_object! {
    /// `ReserveNow` (2.1.1).
    pub struct ReserveNow {
        /// URL the result is POSTed to.
        response_url: Url [1],
        /// Token for which the reservation is made.
        token: Token [1],
        /// When the reservation expires.
        expiry_date: DateTime [1],
        /// Reservation id (an integer in 2.1.1).
        reservation_id: i64 [1],
        /// Location id.
        location_id: Str<39> [1],
        /// EVSE uid.
        evse_uid: Str<39> [?],
    }
}

ocpi_object! {
    /// `StartSession` (2.1.1).
    pub struct StartSession {
        /// URL the result is POSTed to.
        response_url: Url [1],
        /// Token to start the session with.
        token: Token [1],
        /// Location id.
        location_id: Str<39> [1],
        /// EVSE uid.
        evse_uid: Str<39> [?],
    }
}

ocpi_object! {
    /// `StopSession` (2.1.1).
    pub struct StopSession {
        /// URL the result is POSTed to.
        response_url: Url [1],
        /// Session id.
        session_id: Str<36> [1],
    }
}

ocpi_object! {
    /// `UnlockConnector` (2.1.1).
    pub struct UnlockConnector {
        /// URL the result is POSTed to.
        response_url: Url [1],
        /// Location id.
        location_id: Str<39> [1],
        /// EVSE uid.
        evse_uid: Str<39> [1],
        /// Connector id.
        connector_id: Str<36> [1],
    }
}

ocpi_enum! {
    /// `CommandResponseType` (2.1.1).
    pub enum CommandResponseType {
        NotSupported = "NOT_SUPPORTED",
        Rejected = "REJECTED",
        Accepted = "ACCEPTED",
        Timeout = "TIMEOUT",
        UnknownSession = "UNKNOWN_SESSION",
    }
}

ocpi_enum! {
    /// `CommandType` (2.1.1).
    pub enum CommandType {
        ReserveNow = "RESERVE_NOW",
        StartSession = "START_SESSION",
        StopSession = "STOP_SESSION",
        UnlockConnector = "UNLOCK_CONNECTOR",
    }
}
