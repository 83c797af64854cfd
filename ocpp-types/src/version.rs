//! Protocol versions, roles and message directions.

use std::fmt;
use std::str::FromStr;

/// An OCPP protocol version this crate family speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OcppVersion {
    /// OCPP 1.6 edition 2 over JSON (OCPP-J 1.6), including the 1.6 security extension.
    V16,
    /// OCPP 2.0.1.
    V201,
    /// OCPP 2.1.
    V21,
}

impl OcppVersion {
    /// Every version, newest first (the server's default preference).
    pub const ALL: [OcppVersion; 3] = [OcppVersion::V21, OcppVersion::V201, OcppVersion::V16];

    /// The WebSocket subprotocol name (`ocpp1.6`, `ocpp2.0.1`, `ocpp2.1`).
    pub const fn subprotocol(self) -> &'static str {
        match self {
            OcppVersion::V16 => "ocpp1.6",
            OcppVersion::V201 => "ocpp2.0.1",
            OcppVersion::V21 => "ocpp2.1",
        }
    }

    /// The version number as written in documents (`1.6`, `2.0.1`, `2.1`).
    pub const fn as_str(self) -> &'static str {
        match self {
            OcppVersion::V16 => "1.6",
            OcppVersion::V201 => "2.0.1",
            OcppVersion::V21 => "2.1",
        }
    }

    /// Parses a WebSocket subprotocol name; `None` for anything else.
    pub fn from_subprotocol(s: &str) -> Option<Self> {
        OcppVersion::ALL.into_iter().find(|v| v.subprotocol() == s)
    }

    /// Whether this version knows the 2.1 frame types CALLRESULTERROR (5) and SEND (6).
    pub const fn has_send_frames(self) -> bool {
        matches!(self, OcppVersion::V21)
    }
}

impl fmt::Display for OcppVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error returned when a version string is not one of `1.6`, `2.0.1`, `2.1`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown OCPP version {0:?}: expected 1.6, 2.0.1 or 2.1")]
pub struct UnknownVersion(pub String);

impl FromStr for OcppVersion {
    type Err = UnknownVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().trim_start_matches("ocpp") {
            "1.6" | "16" | "1.6J" | "1.6j" => Ok(OcppVersion::V16),
            "2.0.1" | "201" => Ok(OcppVersion::V201),
            "2.1" | "21" => Ok(OcppVersion::V21),
            _ => Err(UnknownVersion(s.to_owned())),
        }
    }
}

/// The two ends of an OCPP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The charging station (1.6: charge point), the WebSocket client.
    ChargingStation,
    /// The CSMS (1.6: central system), the WebSocket server.
    Csms,
}

impl Role {
    /// The other end.
    pub const fn peer(self) -> Role {
        match self {
            Role::ChargingStation => Role::Csms,
            Role::Csms => Role::ChargingStation,
        }
    }
}

/// Which way an action's CALL travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Sent by the charging station, received by the CSMS.
    StationToCsms,
    /// Sent by the CSMS, received by the charging station.
    CsmsToStation,
    /// Sent by either side (DataTransfer).
    Both,
}

impl Direction {
    /// Whether a CALL of this direction may be sent by `role`.
    pub const fn sent_by(self, role: Role) -> bool {
        matches!(
            (self, role),
            (Direction::Both, _)
                | (Direction::StationToCsms, Role::ChargingStation)
                | (Direction::CsmsToStation, Role::Csms)
        )
    }

    /// Whether a CALL of this direction may be received by `role`.
    pub const fn received_by(self, role: Role) -> bool {
        self.sent_by(role.peer())
    }
}
