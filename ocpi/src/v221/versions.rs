//! Version information and details endpoints (`version_information_endpoint.asciidoc`).

use crate::macros::{ocpi_enum, ocpi_object};
use crate::primitives::Url;

ocpi_enum! {
    /// `VersionNumber`: the OCPI versions.
    pub enum VersionNumber {
        V2_0 = "2.0",
        V2_1 = "2.1",
        V2_1_1 = "2.1.1",
        V2_2 = "2.2",
        V2_2_1 = "2.2.1",
        V2_3_0 = "2.3.0",
    }
}

ocpi_enum! {
    /// `ModuleID`: the identifiers of the modules.
    pub enum ModuleId {
        Cdrs = "cdrs",
        ChargingProfiles = "chargingprofiles",
        Commands = "commands",
        Credentials = "credentials",
        HubClientInfo = "hubclientinfo",
        Locations = "locations",
        Sessions = "sessions",
        Tariffs = "tariffs",
        Tokens = "tokens",
        Payments = "payments",
    }
}

ocpi_enum! {
    /// `InterfaceRole`: which interface of a module an endpoint implements.
    pub enum InterfaceRole {
        Sender = "SENDER",
        Receiver = "RECEIVER",
    }
}

ocpi_object! {
    /// `Version`: one entry of the version information endpoint.
    pub struct Version {
        /// The version number.
        version: VersionNumber [1],
        /// URL to the endpoint containing version specific information.
        url: Url [1],
    }
}

ocpi_object! {
    /// `Endpoint`: one module interface of a version.
    pub struct Endpoint {
        /// Module identifier.
        identifier: ModuleId [1],
        /// Interface role this endpoint implements.
        role: InterfaceRole [1],
        /// URL to the endpoint.
        url: Url [1],
    }
}

ocpi_object! {
    /// The data of the version details endpoint.
    pub struct VersionDetails {
        /// The version number.
        version: VersionNumber [1],
        /// The endpoints of this version.
        endpoints: Endpoint [+],
    }
}

impl VersionDetails {
    /// The URL of a module interface, if the party offers it.
    pub fn endpoint(&self, module: &ModuleId, role: &InterfaceRole) -> Option<&Url> {
        self.endpoints
            .iter()
            .find(|e| &e.identifier == module && &e.role == role)
            .map(|e| &e.url)
    }
}
