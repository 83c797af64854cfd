//! OCPI 2.3.0: the objects of every module, including Payments.
//!
//! Objects and enums that 2.3.0 left as they were in 2.2.1 are re-exported from [`crate::v221`]
//! (same Rust type, so no conversion is needed between the two versions); the modules below
//! define only what changed:
//!
//! - [`Price`] is `before_taxes` plus a list of [`TaxAmount`]s (was `excl_vat`/`incl_vat`); the
//!   tariff's `min_price`/`max_price` became [`PriceLimit`]; a tariff says whether its prices
//!   include taxes ([`TaxIncluded`]) and may give a `preauthorize_amount`.
//! - Locations gained parking places ([`Parking`], [`EvseParking`]), `help_phone`, accepted
//!   service providers, connector capabilities and new connector types and parking restrictions.
//! - [`TokenType`] gained `EMAID`, [`Role`] lost `HUB` (hubs give `hub_party_id` in
//!   [`Credentials`] instead).
//! - The Payments module: [`Terminal`] and [`FinancialAdviceConfirmation`].
//!
//! Enums that 2.3.0 declares `OpenEnum` ([`OPEN_ENUMS`]) accept any value: validation of a 2.3.0
//! object does not report their unknown values (they are still kept as `Unknown(String)`).
//!
//! Leniency for known upstream defects: [`Price::before_taxes`] and [`Tariff::tax_included`] may
//! be absent on read and are then reported by validation; a [`Price`] in the 2.2.1 shape
//! (`excl_vat`/`incl_vat`) is read with those members kept in `extra` and reported by validation.

pub mod cdrs;
pub mod credentials;
pub mod hub_client_info;
pub mod locations;
pub mod payments;
pub mod sessions;
pub mod tariffs;
pub mod tokens;
pub mod types;

/// The objects of the commands module: unchanged except those that carry a [`Token`].
pub mod commands {
    pub use crate::v221::commands::{
        CancelReservation, CommandResponse, CommandResponseType, CommandResult, CommandResultType,
        CommandType, StopSession, UnlockConnector,
    };

    use crate::macros::ocpi_object;
    use crate::primitives::{CiStr, DateTime, Url};
    use crate::v230::tokens::Token;

    ocpi_object! {
        #[open_enums = crate::v230::OPEN_ENUMS]
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
        #[open_enums = crate::v230::OPEN_ENUMS]
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
}

/// The charging profiles module: unchanged from 2.2.1.
pub mod charging_profiles {
    pub use crate::v221::charging_profiles::*;
}

/// The version information endpoints: unchanged from 2.2.1 (whose enums already list `2.3.0`
/// and `payments`).
pub mod versions {
    pub use crate::v221::versions::*;
}

/// The enum types that OCPI 2.3.0 declares `OpenEnum`: values outside their list are allowed.
pub const OPEN_ENUMS: &[&str] = &[
    "CommandType",
    "Capability",
    "ConnectorCapability",
    "ConnectorType",
    "EnvironmentalImpactCategory",
    "Facility",
    "ImageCategory",
    "ParkingRestriction",
    "ParkingType",
    "VehicleType",
    "TokenType",
    "ModuleId",
    "VersionNumber",
];

pub use cdrs::*;
pub use charging_profiles::*;
pub use commands::*;
pub use credentials::*;
pub use hub_client_info::*;
pub use locations::*;
pub use payments::*;
pub use sessions::*;
pub use tariffs::*;
pub use tokens::*;
pub use types::*;
pub use versions::*;
