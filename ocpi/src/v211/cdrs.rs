//! The CDRs module (2.1.1 `mod_cdrs.md`).

use crate::macros::{ocpi_enum, ocpi_object};
use crate::primitives::{CiStr, Currency, DateTime, Number, Str};
use crate::v211::locations::Location;
use crate::v211::tariffs::Tariff;

ocpi_object! {
    /// `CDR` (2.1.1).
    pub struct Cdr {
        /// Unique id of the CDR.
        id: CiStr<36> [1],
        /// Start of the session.
        start_date_time: DateTime [1],
        /// End of the session.
        stop_date_time: DateTime [1],
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
        /// Tariffs relevant to this CDR.
        tariffs: Tariff [*],
        /// Charging periods.
        charging_periods: ChargingPeriod [+],
        /// Total cost (excluding VAT).
        total_cost: Number [1],
        /// Total energy, kWh.
        total_energy: Number [1],
        /// Total duration, hours.
        total_time: Number [1],
        /// Total parking time, hours.
        total_parking_time: Number [?],
        /// Optional remark.
        remark: Str<255> [?],
        /// When this CDR was last updated.
        last_updated: DateTime [1],
    }
}

ocpi_enum! {
    /// `AuthMethod` (2.1.1).
    pub enum AuthMethod {
        AuthRequest = "AUTH_REQUEST",
        Whitelist = "WHITELIST",
    }
}

ocpi_object! {
    /// `CdrDimension` (2.1.1).
    pub struct CdrDimension {
        /// The kind of quantity.
        r#type: CdrDimensionType [1],
        /// Volume of the dimension.
        volume: Number [1],
    }
}

ocpi_enum! {
    /// `CdrDimensionType` (2.1.1).
    pub enum CdrDimensionType {
        Energy = "ENERGY",
        Flat = "FLAT",
        MaxCurrent = "MAX_CURRENT",
        MinCurrent = "MIN_CURRENT",
        ParkingTime = "PARKING_TIME",
        Time = "TIME",
    }
}

ocpi_object! {
    /// `ChargingPeriod` (2.1.1).
    pub struct ChargingPeriod {
        /// Start of the period.
        start_date_time: DateTime [1],
        /// The quantities measured in this period.
        dimensions: CdrDimension [+],
    }
}
