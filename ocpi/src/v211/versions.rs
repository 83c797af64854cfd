//! Version information endpoints (2.1.1): endpoints have no interface role.

pub use crate::v221::versions::{Version, VersionNumber};

use crate::macros::{ocpi_enum, ocpi_object};
use crate::primitives::Url;

ocpi_enum! {
    /// `ModuleID` (2.1.1).
    pub enum ModuleId {
        Cdrs = "cdrs",
        Commands = "commands",
        Credentials = "credentials",
        Locations = "locations",
        Sessions = "sessions",
        Tariffs = "tariffs",
        Tokens = "tokens",
    }
}

ocpi_object! {
    /// `Endpoint` (2.1.1).
    pub struct Endpoint {
        /// Module identifier.
        identifier: ModuleId [1],
        /// URL to the endpoint.
        url: Url [1],
    }
}

ocpi_object! {
    /// The data of the version details endpoint (2.1.1).
    pub struct VersionDetails {
        /// The version number.
        version: VersionNumber [1],
        /// The endpoints of this version.
        endpoints: Endpoint [+],
    }
}
