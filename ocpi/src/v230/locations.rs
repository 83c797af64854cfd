//! The locations module (2.3.0): parking places, `help_phone`, accepted service providers,
//! connector capabilities, and the extended `ConnectorType` and `ParkingRestriction`.

pub use crate::v221::locations::{
    AdditionalGeoLocation, Capability, ConnectorFormat, EnergyMix, EnergySource,
    EnergySourceCategory, EnvironmentalImpact, EnvironmentalImpactCategory, ExceptionalPeriod,
    Facility, Hours, ParkingType, PowerType, RegularHours, Status, StatusSchedule, Weekday,
};

use crate::macros::{ocpi_enum, ocpi_object};
use crate::primitives::{CiStr, CountryAlpha3, CountryCode, DateTime, Number, PartyId, Str, Url};
use crate::v230::types::{BusinessDetails, DisplayText, GeoLocation, Image, TokenType};

ocpi_object! {
    #[open_enums = crate::v230::OPEN_ENUMS]
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
        /// Parking places that vehicles charging at this location can use.
        parking_places: Parking [*],
        /// Related points (entrances, exits).
        related_locations: AdditionalGeoLocation [*],
        /// Type of parking.
        parking_type: ParkingType [?],
        /// The EVSEs of this location.
        evses: Evse [*],
        /// Human-readable directions.
        directions: DisplayText [*],
        /// Telephone number a driver may call for assistance.
        help_phone: CiStr<25> [?],
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
    #[open_enums = crate::v230::OPEN_ENUMS]
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
        /// Restrictions on who can charge here, apart from the vehicle type.
        parking_restrictions: ParkingRestriction [*],
        /// The parking spaces vehicles charging at this EVSE can use.
        parking: EvseParkingEntry [*],
        /// Images of the EVSE.
        images: Image [*],
        /// Names of the eMSPs whose contracts are accepted at this EVSE.
        accepted_service_providers: Str<50> [*],
        /// When this EVSE or one of its connectors was last updated.
        last_updated: DateTime [1],
    }
}

ocpi_object! {
    #[open_enums = crate::v230::OPEN_ENUMS]
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
        /// Functionalities the connector supports.
        capabilities: ConnectorCapability [*],
        /// Tariffs that apply to this connector.
        tariff_ids: CiStr<36> [*],
        /// URL to the operator's terms and conditions.
        terms_and_conditions: Url [?],
        /// When this connector was last updated.
        last_updated: DateTime [1],
    }
}

ocpi_enum! {
    /// `ConnectorType` (2.3.0 `OpenEnum`, adds `MCS` and `SAE_J3400`).
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
        Mcs = "MCS",
        Nema5_20 = "NEMA_5_20",
        Nema6_30 = "NEMA_6_30",
        Nema6_50 = "NEMA_6_50",
        Nema10_30 = "NEMA_10_30",
        Nema10_50 = "NEMA_10_50",
        Nema14_30 = "NEMA_14_30",
        Nema14_50 = "NEMA_14_50",
        PantographBottomUp = "PANTOGRAPH_BOTTOM_UP",
        PantographTopDown = "PANTOGRAPH_TOP_DOWN",
        SaeJ3400 = "SAE_J3400",
        TeslaR = "TESLA_R",
        TeslaS = "TESLA_S",
    }
}

ocpi_enum! {
    /// `ParkingRestriction` (2.3.0 `OpenEnum`, adds `EMPLOYEES`, `TAXIS`, `TENANTS`).
    pub enum ParkingRestriction {
        Customers = "CUSTOMERS",
        Disabled = "DISABLED",
        Employees = "EMPLOYEES",
        EvOnly = "EV_ONLY",
        Motorcycles = "MOTORCYCLES",
        Plugged = "PLUGGED",
        Taxis = "TAXIS",
        Tenants = "TENANTS",
    }
}

ocpi_object! {
    #[open_enums = crate::v230::OPEN_ENUMS]
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
    #[open_enums = crate::v230::OPEN_ENUMS]
    /// `Parking`: a parking place of a location.
    pub struct Parking {
        /// Identifier, unique among the parking places of the location.
        id: CiStr<36> [1],
        /// Identifier visible on-site to drivers.
        physical_reference: Str<12> [?],
        /// The vehicle types the parking is designed for.
        vehicle_types: VehicleType [+],
        /// Maximum vehicle weight, kg.
        max_vehicle_weight: Number [?],
        /// Maximum vehicle height, cm.
        max_vehicle_height: Number [?],
        /// Maximum vehicle length, cm.
        max_vehicle_length: Number [?],
        /// Maximum vehicle width, cm.
        max_vehicle_width: Number [?],
        /// Length of the parking space, cm.
        parking_space_length: Number [?],
        /// Width of the parking space, cm.
        parking_space_width: Number [?],
        /// Whether vehicles loaded with dangerous goods may park.
        dangerous_goods_allowed: bool [?],
        /// Direction in which the vehicle parks next to the EVSE.
        direction: ParkingDirection [?],
        /// Whether a vehicle can stop, charge and proceed without reversing.
        drive_through: bool [?],
        /// Whether vehicles of other types than `vehicle_types` are forbidden.
        restricted_to_type: bool [1],
        /// Whether a reservation is required.
        reservation_required: bool [1],
        /// Maximum parking time, minutes.
        time_limit: Number [?],
        /// Whether the parking is roofed.
        roofed: bool [?],
        /// Photos of the parking space.
        images: Image [*],
        /// Whether the parking space is lit.
        lighting: bool [?],
        /// Whether a power outlet for refrigerated loads is available.
        refrigeration_outlet: bool [?],
        /// Standards the parking space conforms to, e.g. PAS 1899.
        standards: CiStr<36> [*],
        /// Reference to an APDS element describing this parking (a `CiString` without a
        /// length limit in the specification).
        apds_reference: String [?],
    }
}

ocpi_object! {
    #[open_enums = crate::v230::OPEN_ENUMS]
    /// `EVSEParking`: a reference from an EVSE to a parking place of its location.
    pub struct EvseParking {
        /// The `id` of a [`Parking`] of the containing location.
        parking_id: CiStr<36> [1],
        /// Position of the EVSE relative to the parking space.
        evse_position: EvsePosition [?],
    }
}

/// One entry of [`Evse::parking`]: an [`EvseParking`] object, or (lenient) a bare parking id as
/// the official 2.3.0 `location_example.json` writes it. A bare id is kept and written back as
/// read; validation reports it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum EvseParkingEntry {
    /// The `EVSEParking` object of the specification.
    Object(EvseParking),
    /// A bare `parking_id` (not valid OCPI 2.3.0).
    Id(CiStr<36>),
}

impl EvseParkingEntry {
    /// The referenced parking id.
    pub fn parking_id(&self) -> &CiStr<36> {
        match self {
            EvseParkingEntry::Object(p) => &p.parking_id,
            EvseParkingEntry::Id(id) => id,
        }
    }
}

impl crate::validate::Validate for EvseParkingEntry {
    fn validate_into(&self, v: &mut crate::validate::Validator) {
        match self {
            EvseParkingEntry::Object(p) => p.validate_into(v),
            EvseParkingEntry::Id(_) => {
                v.error("a bare parking id; OCPI 2.3.0 requires an EVSEParking object")
            }
        }
    }
}

ocpi_enum! {
    /// `ConnectorCapability` (`OpenEnum`).
    pub enum ConnectorCapability {
        Iso15118_2PlugAndCharge = "ISO_15118_2_PLUG_AND_CHARGE",
        Iso15118_20PlugAndCharge = "ISO_15118_20_PLUG_AND_CHARGE",
    }
}

ocpi_enum! {
    /// `EVSEPosition`.
    pub enum EvsePosition {
        Left = "LEFT",
        Right = "RIGHT",
        Center = "CENTER",
    }
}

ocpi_enum! {
    /// `ParkingDirection`.
    pub enum ParkingDirection {
        Parallel = "PARALLEL",
        Perpendicular = "PERPENDICULAR",
        Angle = "ANGLE",
    }
}

ocpi_enum! {
    /// `VehicleType` (`OpenEnum`).
    pub enum VehicleType {
        Motorcycle = "MOTORCYCLE",
        PersonalVehicle = "PERSONAL_VEHICLE",
        PersonalVehicleWithTrailer = "PERSONAL_VEHICLE_WITH_TRAILER",
        Van = "VAN",
        SemiTractor = "SEMI_TRACTOR",
        Rigid = "RIGID",
        TruckWithTrailer = "TRUCK_WITH_TRAILER",
        Bus = "BUS",
        Disabled = "DISABLED",
    }
}
