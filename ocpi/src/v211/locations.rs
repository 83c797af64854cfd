//! The locations module (2.1.1 `mod_locations.md`).

pub use crate::v221::locations::{
    AdditionalGeoLocation, ConnectorFormat, EnergySource, EnergySourceCategory,
    EnvironmentalImpactCategory, ExceptionalPeriod, ParkingRestriction, RegularHours, Status,
    StatusSchedule, Weekday,
};
pub use crate::v221::types::{BusinessDetails, DisplayText, GeoLocation, Image, ImageCategory};

use crate::macros::{ocpi_enum, ocpi_object};
use crate::primitives::{CountryAlpha3, DateTime, Number, Str, Url};

ocpi_object! {
    /// `Location` (2.1.1): a group of EVSEs at one place.
    pub struct Location {
        /// Unique id of the location within the CPO's platform.
        id: Str<39> [1],
        /// Type of the location.
        r#type: LocationType [1],
        /// Display name of the location.
        name: Str<255> [?],
        /// Street/block name and house number.
        address: Str<45> [1],
        /// City or town.
        city: Str<45> [1],
        /// Postal code.
        postal_code: Str<10> [1],
        /// ISO 3166-1 alpha-3 country code.
        country: CountryAlpha3 [1],
        /// Coordinates of the location.
        coordinates: GeoLocation [1],
        /// Related points (entrances, exits).
        related_locations: AdditionalGeoLocation [*],
        /// The EVSEs of this location.
        evses: Evse [*],
        /// Human-readable directions.
        directions: DisplayText [*],
        /// Operator of the location.
        operator: BusinessDetails [?],
        /// Suboperator of the location.
        suboperator: BusinessDetails [?],
        /// Owner of the location.
        owner: BusinessDetails [?],
        /// Facilities this location offers.
        facilities: Facility [*],
        /// IANA time zone of the location, e.g. `Europe/Oslo`.
        time_zone: Str<255> [?],
        /// Opening times.
        opening_times: Hours [?],
        /// Whether the EV can still charge when the location is closed.
        charging_when_closed: bool [?],
        /// Images of the location.
        images: Image [*],
        /// Details on the energy supplied.
        energy_mix: EnergyMix [?],
        /// When this location or one of its EVSEs/connectors was last updated.
        last_updated: DateTime [1],
    }
}

ocpi_object! {
    /// `EVSE` (2.1.1).
    pub struct Evse {
        /// Unique id of the EVSE within the CPO's platform.
        uid: Str<39> [1],
        /// eMI3 EVSE id.
        evse_id: Str<48> [?],
        /// Current status.
        status: Status [1],
        /// Planned status updates.
        status_schedule: StatusSchedule [*],
        /// Capabilities of the EVSE.
        capabilities: Capability [*],
        /// Connectors of the EVSE.
        connectors: Connector [+],
        /// Floor level.
        floor_level: Str<4> [?],
        /// Coordinates of the EVSE.
        coordinates: GeoLocation [?],
        /// Number/string printed on the outside of the EVSE.
        physical_reference: Str<16> [?],
        /// Human-readable directions.
        directions: DisplayText [*],
        /// Parking restrictions.
        parking_restrictions: ParkingRestriction [*],
        /// Images of the EVSE.
        images: Image [*],
        /// When this EVSE or one of its connectors was last updated.
        last_updated: DateTime [1],
    }
}

ocpi_object! {
    /// `Connector` (2.1.1).
    pub struct Connector {
        /// Id of the connector within the EVSE.
        id: Str<36> [1],
        /// Standard of the connector.
        standard: ConnectorType [1],
        /// Socket or cable.
        format: ConnectorFormat [1],
        /// Power type.
        power_type: PowerType [1],
        /// Voltage (V).
        voltage: u32 [1],
        /// Amperage (A).
        amperage: u32 [1],
        /// The tariff that applies to this connector.
        tariff_id: Str<36> [?],
        /// URL to the operator's terms and conditions.
        terms_and_conditions: Url [?],
        /// When this connector was last updated.
        last_updated: DateTime [1],
    }
}

ocpi_object! {
    /// `Hours` (2.1.1): either `regular_hours` or `twentyfourseven`, plus exceptions.
    pub struct Hours {
        /// Regular hours, weekday based.
        regular_hours: RegularHours [*],
        /// Open 24/7.
        twentyfourseven: bool [?],
        /// Exceptional openings.
        exceptional_openings: ExceptionalPeriod [*],
        /// Exceptional closings.
        exceptional_closings: ExceptionalPeriod [*],
    }
}

ocpi_object! {
    /// `EnergyMix` (2.1.1: its environmental impacts name their category `source`).
    pub struct EnergyMix {
        /// Whether the energy is 100 % from regenerative sources.
        is_green_energy: bool [1],
        /// Energy sources and their percentage.
        energy_sources: EnergySource [*],
        /// Environmental impact.
        environ_impact: EnvironmentalImpact [*],
        /// Name of the energy supplier.
        supplier_name: Str<64> [?],
        /// Name of the energy supplier's product.
        energy_product_name: Str<64> [?],
    }
}

ocpi_object! {
    /// `EnvironmentalImpact` (2.1.1: the category is called `source`).
    pub struct EnvironmentalImpact {
        /// Kind of impact.
        source: EnvironmentalImpactCategory [1],
        /// Amount of this portion in g/kWh.
        amount: Number [1],
    }
}

ocpi_enum! {
    /// `Capability` (2.1.1).
    pub enum Capability {
        ChargingProfileCapable = "CHARGING_PROFILE_CAPABLE",
        CreditCardPayable = "CREDIT_CARD_PAYABLE",
        RemoteStartStopCapable = "REMOTE_START_STOP_CAPABLE",
        Reservable = "RESERVABLE",
        RfidReader = "RFID_READER",
        UnlockCapable = "UNLOCK_CAPABLE",
    }
}

ocpi_enum! {
    /// `ConnectorType` (2.1.1).
    pub enum ConnectorType {
        Chademo = "CHADEMO",
        DomesticA = "DOMESTIC_A",
        DomesticB = "DOMESTIC_B",
        DomesticC = "DOMESTIC_C",
        DomesticD = "DOMESTIC_D",
        DomesticE = "DOMESTIC_E",
        DomesticF = "DOMESTIC_F",
        DomesticG = "DOMESTIC_G",
        DomesticH = "DOMESTIC_H",
        DomesticI = "DOMESTIC_I",
        DomesticJ = "DOMESTIC_J",
        DomesticK = "DOMESTIC_K",
        DomesticL = "DOMESTIC_L",
        Iec60309_2Single16 = "IEC_60309_2_single_16",
        Iec60309_2Three16 = "IEC_60309_2_three_16",
        Iec60309_2Three32 = "IEC_60309_2_three_32",
        Iec60309_2Three64 = "IEC_60309_2_three_64",
        Iec62196T1 = "IEC_62196_T1",
        Iec62196T1Combo = "IEC_62196_T1_COMBO",
        Iec62196T2 = "IEC_62196_T2",
        Iec62196T2Combo = "IEC_62196_T2_COMBO",
        Iec62196T3A = "IEC_62196_T3A",
        Iec62196T3C = "IEC_62196_T3C",
        TeslaR = "TESLA_R",
        TeslaS = "TESLA_S",
    }
}

ocpi_enum! {
    /// `Facility` (2.1.1).
    pub enum Facility {
        Hotel = "HOTEL",
        Restaurant = "RESTAURANT",
        Cafe = "CAFE",
        Mall = "MALL",
        Supermarket = "SUPERMARKET",
        Sport = "SPORT",
        RecreationArea = "RECREATION_AREA",
        Nature = "NATURE",
        Museum = "MUSEUM",
        BusStop = "BUS_STOP",
        TaxiStand = "TAXI_STAND",
        TrainStation = "TRAIN_STATION",
        Airport = "AIRPORT",
        CarpoolParking = "CARPOOL_PARKING",
        FuelStation = "FUEL_STATION",
        Wifi = "WIFI",
    }
}

ocpi_enum! {
    /// `LocationType` (2.1.1; replaced by `ParkingType` in 2.2).
    pub enum LocationType {
        OnStreet = "ON_STREET",
        ParkingGarage = "PARKING_GARAGE",
        UndergroundGarage = "UNDERGROUND_GARAGE",
        ParkingLot = "PARKING_LOT",
        Other = "OTHER",
        UnknownType = "UNKNOWN",
    }
}

ocpi_enum! {
    /// `PowerType` (2.1.1).
    pub enum PowerType {
        Ac1Phase = "AC_1_PHASE",
        Ac3Phase = "AC_3_PHASE",
        Dc = "DC",
    }
}
