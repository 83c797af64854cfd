//! The commands module (`mod_commands.asciidoc`).

use crate::macros::{ocpi_enum, ocpi_object};
use crate::primitives::{CiStr, DateTime, Url};
use crate::v221::tokens::Token;
use crate::v221::types::DisplayText;

ocpi_object! {
    /// `CancelReservation`.
    pub struct CancelReservation {
        /// URL the `CommandResult` is POSTed to.
        response_url: Url [1],
        /// Reservation id.
        reservation_id: CiStr<36> [1],
    }
}

ocpi_object! {
    /// `CommandResponse`: the synchronous answer to a command.
    pub struct CommandResponse {
        /// Whether the command was accepted.
        result: CommandResponseType [1],
        /// Seconds the sender waits for the asynchronous result.
        timeout: u32 [1],
        /// Human-readable explanation.
        message: DisplayText [*],
    }
}

ocpi_object! {
    /// `CommandResult`: the asynchronous result of a command.
    pub struct CommandResult {
        /// Result of the command.
        result: CommandResultType [1],
        /// Human-readable explanation.
        message: DisplayText [*],
    }
}

ocpi_object! {
    /// `ReserveNow`.
    pub struct ReserveNow {
        /// URL the `CommandResult` is POSTed to.
        response_url: Url [1],
        /// Token for which the reservation is made.
        token: Token [1],
        /// When the reservation expires.
        expiry_date: DateTime [1],
        /// Reservation id.
        reservation_id: CiStr<36> [1],
        /// Location id.
        location_id: CiStr<36> [1],
        /// EVSE uid.
        evse_uid: CiStr<36> [?],
        /// Authorization reference.
        authorization_reference: CiStr<36> [?],
    }
}

ocpi_object! {
    /// `StartSession`.
    pub struct StartSession {
        /// URL the `CommandResult` is POSTed to.
        response_url: Url [1],
        /// Token to start the session with.
        token: Token [1],
        /// Location id.
        location_id: CiStr<36> [1],
        /// EVSE uid.
        evse_uid: CiStr<36> [?],
        /// Connector id.
        connector_id: CiStr<36> [?],
        /// Authorization reference.
        authorization_reference: CiStr<36> [?],
    }
}

ocpi_object! {
    /// `StopSession`.
    pub struct StopSession {
        /// URL the `CommandResult` is POSTed to.
        response_url: Url [1],
        /// Session id.
        session_id: CiStr<36> [1],
    }
}

ocpi_object! {
    /// `UnlockConnector`.
    pub struct UnlockConnector {
        /// URL the `CommandResult` is POSTed to.
        response_url: Url [1],
        /// Location id.
        location_id: CiStr<36> [1],
        /// EVSE uid.
        evse_uid: CiStr<36> [1],
        /// Connector id.
        connector_id: CiStr<36> [1],
    }
}

ocpi_enum! {
    /// `CommandResponseType`.
    pub enum CommandResponseType {
        NotSupported = "NOT_SUPPORTED",
        Rejected = "REJECTED",
        Accepted = "ACCEPTED",
        UnknownSession = "UNKNOWN_SESSION",
    }
}

ocpi_enum! {
    /// `CommandResultType`.
    pub enum CommandResultType {
        Accepted = "ACCEPTED",
        CanceledReservation = "CANCELED_RESERVATION",
        EvseOccupied = "EVSE_OCCUPIED",
        EvseInoperative = "EVSE_INOPERATIVE",
        Failed = "FAILED",
        NotSupported = "NOT_SUPPORTED",
        Rejected = "REJECTED",
        Timeout = "TIMEOUT",
        UnknownReservation = "UNKNOWN_RESERVATION",
    }
}

ocpi_enum! {
    /// `CommandType`: the path segment of a command.
    pub enum CommandType {
        CancelReservation = "CANCEL_RESERVATION",
        ReserveNow = "RESERVE_NOW",
        StartSession = "START_SESSION",
        StopSession = "STOP_SESSION",
        UnlockConnector = "UNLOCK_CONNECTOR",
    }
}
