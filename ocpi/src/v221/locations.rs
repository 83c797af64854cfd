//! The locations module (`mod_locations.asciidoc`).

use crate::macros::{ocpi_enum, ocpi_object};
use crate::primitives::{
    CiStr, CountryAlpha3, CountryCode, DateTime, Number, PartyId, Str, TimeOfDay, Url,
};
use crate::v221::types::{BusinessDetails, DisplayText, GeoLocation, Image, TokenType};

ocpi_object! {
    /// `Location`: a group of EVSEs at one place.
    pub struct Location {
        /// Country code of the CPO that owns this location.
        country_code: CountryCode [1],
        /// Party id of the CPO that owns this location.
        party_id: PartyId [1],
        /// Unique id of the location within the CPO's platform.
        id: CiStr<36> [1],
        /// Whether the location may be published.
        publish: bool [1],
        /// Who may see the location when `publish` is false.
        publish_allowed_to: PublishTokenType [*],
        /// Display name of the location.
        name: Str<255> [?],
        /// Street/block name and house number.
        address: Str<45> [1],
        /// City or town.
        city: Str<45> [1],
        /// Postal code.
        postal_code: Str<10> [?],
        /// State or province.
        state: Str<20> [?],
        /// ISO 3166-1 alpha-3 country code.
        country: CountryAlpha3 [1],
        /// Coordinates of the location.
        coordinates: GeoLocation [1],
        /// Related points (entrances, exits).
        related_locations: AdditionalGeoLocation [*],
        /// Type of parking.
        parking_type: ParkingType [?],
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
        time_zone: Str<255> [1],
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
    /// `EVSE`: one place where one vehicle can charge at a time.
    pub struct Evse {
        /// Unique id of the EVSE within the CPO's platform.
        uid: CiStr<36> [1],
        /// eMI3 EVSE id, e.g. `BE*BEC*E041503001`.
        evse_id: CiStr<48> [?],
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
    /// `Connector`.
    pub struct Connector {
        /// Id of the connector within the EVSE.
        id: CiStr<36> [1],
        /// Standard of the connector.
        standard: ConnectorType [1],
        /// Socket or cable.
        format: ConnectorFormat [1],
        /// Power type.
        power_type: PowerType [1],
        /// Maximum voltage (V).
        max_voltage: u32 [1],
        /// Maximum amperage (A).
        max_amperage: u32 [1],
        /// Maximum electric power (W).
        max_electric_power: u32 [?],
        /// Tariffs that apply to this connector.
        tariff_ids: CiStr<36> [*],
        /// URL to the operator's terms and conditions.
        terms_and_conditions: Url [?],
        /// When this connector was last updated.
        last_updated: DateTime [1],
    }
}

ocpi_object! {
    /// `AdditionalGeoLocation`: a named related point.
    pub struct AdditionalGeoLocation {
        /// Latitude.
        latitude: crate::primitives::Latitude [1],
        /// Longitude.
        longitude: crate::primitives::Longitude [1],
        /// Name of the point.
        name: DisplayText [?],
    }
}

ocpi_enum! {
    /// `Capability` of an EVSE.
    pub enum Capability {
        ChargingProfileCapable = "CHARGING_PROFILE_CAPABLE",
        ChargingPreferencesCapable = "CHARGING_PREFERENCES_CAPABLE",
        ChipCardSupport = "CHIP_CARD_SUPPORT",
        ContactlessCardSupport = "CONTACTLESS_CARD_SUPPORT",
        CreditCardPayable = "CREDIT_CARD_PAYABLE",
        DebitCardPayable = "DEBIT_CARD_PAYABLE",
        PedTerminal = "PED_TERMINAL",
        RemoteStartStopCapable = "REMOTE_START_STOP_CAPABLE",
        Reservable = "RESERVABLE",
        RfidReader = "RFID_READER",
        StartSessionConnectorRequired = "START_SESSION_CONNECTOR_REQUIRED",
        TokenGroupCapable = "TOKEN_GROUP_CAPABLE",
        UnlockCapable = "UNLOCK_CAPABLE",
    }
}

ocpi_enum! {
    /// `ConnectorFormat`.
    pub enum ConnectorFormat {
        Socket = "SOCKET",
        Cable = "CABLE",
    }
}

ocpi_enum! {
    /// `ConnectorType`.
    pub enum ConnectorType {
        Chademo = "CHADEMO",
        Chaoji = "CHAOJI",
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
        DomesticM = "DOMESTIC_M",
        DomesticN = "DOMESTIC_N",
        DomesticO = "DOMESTIC_O",
        GbtAc = "GBT_AC",
        GbtDc = "GBT_DC",
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
        Nema5_20 = "NEMA_5_20",
        Nema6_30 = "NEMA_6_30",
        Nema6_50 = "NEMA_6_50",
        Nema10_30 = "NEMA_10_30",
        Nema10_50 = "NEMA_10_50",
        Nema14_30 = "NEMA_14_30",
        Nema14_50 = "NEMA_14_50",
        PantographBottomUp = "PANTOGRAPH_BOTTOM_UP",
        PantographTopDown = "PANTOGRAPH_TOP_DOWN",
        TeslaR = "TESLA_R",
        TeslaS = "TESLA_S",
    }
}

ocpi_object! {
    /// `EnergyMix`.
    pub struct EnergyMix {
        /// Whether the energy is 100 % from regenerative sources.
        is_green_energy: bool [1],
        /// Key-value pairs of energy sources and their percentage.
        energy_sources: EnergySource [*],
        /// Key-value pairs of environmental impact.
        environ_impact: EnvironmentalImpact [*],
        /// Name of the energy supplier.
        supplier_name: Str<64> [?],
        /// Name of the energy supplier's product.
        energy_product_name: Str<64> [?],
    }
}

ocpi_object! {
    /// `EnergySource`.
    pub struct EnergySource {
        /// Type of energy source.
        source: EnergySourceCategory [1],
        /// Percentage of this source (0-100) in the mix.
        percentage: Number [1],
    }
}

ocpi_enum! {
    /// `EnergySourceCategory`.
    pub enum EnergySourceCategory {
        Nuclear = "NUCLEAR",
        GeneralFossil = "GENERAL_FOSSIL",
        Coal = "COAL",
        Gas = "GAS",
        GeneralGreen = "GENERAL_GREEN",
        Solar = "SOLAR",
        Wind = "WIND",
        Water = "WATER",
    }
}

ocpi_object! {
    /// `EnvironmentalImpact`.
    pub struct EnvironmentalImpact {
        /// Kind of impact.
        category: EnvironmentalImpactCategory [1],
        /// Amount of this portion in g/kWh.
        amount: Number [1],
    }
}

ocpi_enum! {
    /// `EnvironmentalImpactCategory`.
    pub enum EnvironmentalImpactCategory {
        NuclearWaste = "NUCLEAR_WASTE",
        CarbonDioxide = "CARBON_DIOXIDE",
    }
}

ocpi_object! {
    /// `ExceptionalPeriod`.
    pub struct ExceptionalPeriod {
        /// Begin of the exception, UTC.
        period_begin: DateTime [1],
        /// End of the exception, UTC.
        period_end: DateTime [1],
    }
}

ocpi_enum! {
    /// `Facility`.
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
        BikeSharing = "BIKE_SHARING",
        BusStop = "BUS_STOP",
        TaxiStand = "TAXI_STAND",
        TramStop = "TRAM_STOP",
        MetroStation = "METRO_STATION",
        TrainStation = "TRAIN_STATION",
        Airport = "AIRPORT",
        ParkingLot = "PARKING_LOT",
        CarpoolParking = "CARPOOL_PARKING",
        FuelStation = "FUEL_STATION",
        Wifi = "WIFI",
    }
}

ocpi_object! {
    /// `Hours`: opening times.
    pub struct Hours {
        /// Open 24/7.
        twentyfourseven: bool [1],
        /// Regular opening hours (only when not 24/7).
        regular_hours: RegularHours [*],
        /// Exceptional openings.
        exceptional_openings: ExceptionalPeriod [*],
        /// Exceptional closings.
        exceptional_closings: ExceptionalPeriod [*],
    }
}

ocpi_enum! {
    /// `ParkingRestriction`.
    pub enum ParkingRestriction {
        EvOnly = "EV_ONLY",
        Plugged = "PLUGGED",
        Disabled = "DISABLED",
        Customers = "CUSTOMERS",
        Motorcycles = "MOTORCYCLES",
    }
}

ocpi_enum! {
    /// `ParkingType`.
    pub enum ParkingType {
        AlongMotorway = "ALONG_MOTORWAY",
        ParkingGarage = "PARKING_GARAGE",
        ParkingLot = "PARKING_LOT",
        OnDriveway = "ON_DRIVEWAY",
        OnStreet = "ON_STREET",
        UndergroundGarage = "UNDERGROUND_GARAGE",
    }
}

ocpi_enum! {
    /// `PowerType`.
    pub enum PowerType {
        Ac1Phase = "AC_1_PHASE",
        Ac2Phase = "AC_2_PHASE",
        Ac2PhaseSplit = "AC_2_PHASE_SPLIT",
        Ac3Phase = "AC_3_PHASE",
        Dc = "DC",
    }
}

ocpi_object! {
    /// `PublishTokenType`: who may see an unpublished location.
    pub struct PublishTokenType {
        /// Unique id of a token.
        uid: CiStr<36> [?],
        /// Type of the token.
        r#type: TokenType [?],
        /// Visual readable number of the token.
        visual_number: Str<64> [?],
        /// Issuing company.
        issuer: Str<64> [?],
        /// Group id of tokens.
        group_id: CiStr<36> [?],
    }
}

ocpi_object! {
    /// `RegularHours`: opening hours of one weekday.
    pub struct RegularHours {
        /// Weekday, 1 (Monday) to 7 (Sunday).
        weekday: Weekday [1],
        /// Begin of the opening period, `HH:MM` local time.
        period_begin: TimeOfDay [1],
        /// End of the opening period, `HH:MM` local time.
        period_end: TimeOfDay [1],
    }
}

/// A weekday number, 1 (Monday) to 7 (Sunday).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(transparent)]
pub struct Weekday(#[schemars(range(min = 1, max = 7))] pub u8);

impl crate::validate::Validate for Weekday {
    fn validate_into(&self, v: &mut crate::validate::Validator) {
        if !(1..=7).contains(&self.0) {
            v.error(format!("weekday {} is not within 1..=7", self.0));
        }
    }
}

ocpi_enum! {
    /// `Status` of an EVSE.
    pub enum Status {
        Available = "AVAILABLE",
        Blocked = "BLOCKED",
        Charging = "CHARGING",
        Inoperative = "INOPERATIVE",
        OutOfOrder = "OUTOFORDER",
        Planned = "PLANNED",
        Removed = "REMOVED",
        Reserved = "RESERVED",
        UnknownStatus = "UNKNOWN",
    }
}

ocpi_object! {
    /// `StatusSchedule`: a planned status.
    pub struct StatusSchedule {
        /// Begin of the scheduled period.
        period_begin: DateTime [1],
        /// End of the scheduled period, if known.
        period_end: DateTime [?],
        /// Status value during the period.
        status: Status [1],
    }
}
