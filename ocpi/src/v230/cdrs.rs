//! The CDRs module (2.3.0): [`Cdr`] carries the 2.3.0 [`Price`], [`CdrToken`] and [`Tariff`];
//! [`CdrLocation`] the 2.3.0 [`ConnectorType`]. Signed data is 2.2.1's.

pub use crate::v221::cdrs::{SignedData, SignedValue};

use crate::macros::ocpi_object;
use crate::primitives::{
    CiStr, CountryAlpha3, CountryCode, Currency, DateTime, Number, PartyId, Str,
};
use crate::v230::locations::{ConnectorFormat, ConnectorType, PowerType};
use crate::v230::tariffs::Tariff;
use crate::v230::types::{AuthMethod, CdrToken, ChargingPeriod, GeoLocation, Price};

ocpi_object! {
    #[open_enums = crate::v230::OPEN_ENUMS]
    /// `CDR`: the charge detail record of a finished session.
    pub struct Cdr {
        /// Country code of the CPO that owns this CDR.
        country_code: CountryCode [1],
        /// Party id of the CPO that owns this CDR.
        party_id: PartyId [1],
        /// Unique id of the CDR.
        id: CiStr<39> [1],
        /// Start of the session.
        start_date_time: DateTime [1],
        /// End of the session.
        end_date_time: DateTime [1],
        /// Id of the session.
        session_id: CiStr<36> [?],
        /// Token used.
        cdr_token: CdrToken [1],
        /// How the session was authorized.
        auth_method: AuthMethod [1],
        /// Reference to the authorization given by the eMSP.
        authorization_reference: CiStr<36> [?],
        /// Location where the session took place.
        cdr_location: CdrLocation [1],
        /// Meter id.
        meter_id: Str<255> [?],
        /// ISO 4217 currency of the costs.
        currency: Currency [1],
        /// Tariffs relevant to this CDR.
        tariffs: Tariff [*],
        /// Charging periods.
        charging_periods: ChargingPeriod [+],
        /// Signed meter data.
        signed_data: SignedData [?],
        /// Total cost.
        total_cost: Price [1],
        /// Total fixed (FLAT) cost.
        total_fixed_cost: Price [?],
        /// Total energy, kWh.
        total_energy: Number [1],
        /// Total energy cost.
        total_energy_cost: Price [?],
        /// Total duration of the session including parking, hours.
        total_time: Number [1],
        /// Total time cost.
        total_time_cost: Price [?],
        /// Total parking time, hours.
        total_parking_time: Number [?],
        /// Total parking cost.
        total_parking_cost: Price [?],
        /// Total reservation cost.
        total_reservation_cost: Price [?],
        /// Optional remark.
        remark: Str<255> [?],
        /// Invoice reference.
        invoice_reference_id: CiStr<39> [?],
        /// Whether this CDR is a credit CDR.
        credit: bool [?],
        /// Id of the CDR this one credits.
        credit_reference_id: CiStr<39> [?],
        /// Whether this is a home charging compensation CDR.
        home_charging_compensation: bool [?],
        /// When this CDR was last updated.
        last_updated: DateTime [1],
    }
}

ocpi_object! {
    #[open_enums = crate::v230::OPEN_ENUMS]
    /// `CdrLocation`: the location as it was when the session took place.
    pub struct CdrLocation {
        /// Location id.
        id: CiStr<36> [1],
        /// Name of the location.
        name: Str<255> [?],
        /// Street/block name and house number.
        address: Str<45> [1],
        /// City.
        city: Str<45> [1],
        /// Postal code.
        postal_code: Str<10> [?],
        /// State.
        state: Str<20> [?],
        /// ISO 3166-1 alpha-3 country code.
        country: CountryAlpha3 [1],
        /// Coordinates.
        coordinates: GeoLocation [1],
        /// EVSE uid.
        evse_uid: CiStr<36> [1],
        /// eMI3 EVSE id.
        evse_id: CiStr<48> [1],
        /// Connector id.
        connector_id: CiStr<36> [1],
        /// Connector standard.
        connector_standard: ConnectorType [1],
        /// Connector format.
        connector_format: ConnectorFormat [1],
        /// Connector power type.
        connector_power_type: PowerType [1],
    }
}
