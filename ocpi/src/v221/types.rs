//! Types shared by several modules (`types.asciidoc` and the shared classes of `mod_locations`).

use crate::macros::{ocpi_enum, ocpi_object};
use crate::primitives::{CiStr, CountryCode, Language, Number, PartyId, Str, Url};

ocpi_object! {
    /// `DisplayText`: a text in one language.
    pub struct DisplayText {
        /// ISO 639-1 language code.
        language: Language [1],
        /// The text (no markup, at most 512 characters).
        text: Str<512> [1],
    }
}

ocpi_object! {
    /// `Price`: an amount excluding and (optionally) including VAT.
    pub struct Price {
        /// Price/cost excluding VAT.
        excl_vat: Number [1],
        /// Price/cost including VAT.
        incl_vat: Number [?],
    }
}

impl Price {
    /// A price from its two parts.
    pub fn new(excl_vat: rust_decimal::Decimal, incl_vat: Option<rust_decimal::Decimal>) -> Self {
        Price {
            excl_vat: excl_vat.into(),
            incl_vat: incl_vat.map(Into::into),
            extra: Default::default(),
        }
    }
}

ocpi_enum! {
    /// `Role`: the role of a party.
    pub enum Role {
        Cpo = "CPO",
        Emsp = "EMSP",
        Hub = "HUB",
        Nap = "NAP",
        Nsp = "NSP",
        Other = "OTHER",
        Scsp = "SCSP",
    }
}

ocpi_enum! {
    /// `ImageCategory`.
    pub enum ImageCategory {
        Charger = "CHARGER",
        Entrance = "ENTRANCE",
        Location = "LOCATION",
        Network = "NETWORK",
        Operator = "OPERATOR",
        Other = "OTHER",
        Owner = "OWNER",
    }
}

ocpi_object! {
    /// `Image`: a reference to an image.
    pub struct Image {
        /// URL from where the image can be fetched.
        url: Url [1],
        /// URL of a thumbnail.
        thumbnail: Url [?],
        /// What the image shows.
        category: ImageCategory [1],
        /// Image type, e.g. `gif`, `jpeg`, `png`, `svg`.
        r#type: CiStr<4> [1],
        /// Width in pixels.
        width: u32 [?],
        /// Height in pixels.
        height: u32 [?],
    }
}

ocpi_object! {
    /// `BusinessDetails`.
    pub struct BusinessDetails {
        /// Name of the operator.
        name: Str<100> [1],
        /// Link to the operator's website.
        website: Url [?],
        /// Image link to the operator's logo.
        logo: Image [?],
    }
}

ocpi_enum! {
    /// `TokenType`.
    pub enum TokenType {
        AdHocUser = "AD_HOC_USER",
        AppUser = "APP_USER",
        Other = "OTHER",
        Rfid = "RFID",
    }
}

ocpi_enum! {
    /// `ProfileType` of charging preferences.
    pub enum ProfileType {
        Cheap = "CHEAP",
        Fast = "FAST",
        Green = "GREEN",
        Regular = "REGULAR",
    }
}

ocpi_enum! {
    /// `AuthMethod`.
    pub enum AuthMethod {
        AuthRequest = "AUTH_REQUEST",
        Command = "COMMAND",
        Whitelist = "WHITELIST",
    }
}

ocpi_object! {
    /// `CdrToken`: the token used in a session or CDR.
    pub struct CdrToken {
        /// Country code of the party that issued the token.
        country_code: CountryCode [!],
        /// Party id of the party that issued the token.
        party_id: PartyId [!],
        /// Unique id by which the token can be identified.
        uid: CiStr<36> [1],
        /// Type of the token.
        r#type: TokenType [1],
        /// Contract id (eMA id) of the token.
        contract_id: CiStr<36> [1],
    }
}

ocpi_enum! {
    /// `CdrDimensionType`.
    pub enum CdrDimensionType {
        Current = "CURRENT",
        Energy = "ENERGY",
        EnergyExport = "ENERGY_EXPORT",
        EnergyImport = "ENERGY_IMPORT",
        MaxCurrent = "MAX_CURRENT",
        MinCurrent = "MIN_CURRENT",
        MaxPower = "MAX_POWER",
        MinPower = "MIN_POWER",
        ParkingTime = "PARKING_TIME",
        Power = "POWER",
        ReservationTime = "RESERVATION_TIME",
        StateOfCharge = "STATE_OF_CHARGE",
        Time = "TIME",
    }
}

ocpi_object! {
    /// `CdrDimension`: one measured quantity of a charging period.
    pub struct CdrDimension {
        /// The kind of quantity.
        r#type: CdrDimensionType [1],
        /// Volume of the dimension consumed, measured according to the dimension type.
        volume: Number [1],
    }
}

ocpi_object! {
    /// `ChargingPeriod`: a period with constant tariff conditions.
    pub struct ChargingPeriod {
        /// Start timestamp of the period; the period ends where the next one starts.
        start_date_time: crate::primitives::DateTime [1],
        /// The quantities measured in this period.
        dimensions: CdrDimension [+],
        /// Unique identifier of the tariff relevant for this period.
        tariff_id: CiStr<36> [?],
    }
}

impl ChargingPeriod {
    /// The volume of the first dimension of the given type.
    pub fn volume(&self, t: &CdrDimensionType) -> Option<rust_decimal::Decimal> {
        self.dimensions
            .iter()
            .find(|d| &d.r#type == t)
            .map(|d| d.volume.0)
    }
}

ocpi_object! {
    /// `GeoLocation`: WGS 84 coordinates.
    pub struct GeoLocation {
        /// Latitude, e.g. `50.770774`.
        latitude: crate::primitives::Latitude [1],
        /// Longitude, e.g. `-126.104965`.
        longitude: crate::primitives::Longitude [1],
    }
}
