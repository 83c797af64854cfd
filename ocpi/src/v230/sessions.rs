//! The sessions module (2.3.0): [`Session`] carries the 2.3.0 [`Price`] and [`CdrToken`].

pub use crate::v221::sessions::{ChargingPreferences, ChargingPreferencesResponse, SessionStatus};

use crate::macros::ocpi_object;
use crate::primitives::{CiStr, CountryCode, Currency, DateTime, Number, PartyId, Str};
use crate::v230::types::{AuthMethod, CdrToken, ChargingPeriod, Price};

ocpi_object! {
    #[open_enums = crate::v230::OPEN_ENUMS]
    /// `Session`: an ongoing or finished charging session.
    pub struct Session {
        /// Country code of the CPO that owns this session.
        country_code: CountryCode [1],
        /// Party id of the CPO that owns this session.
        party_id: PartyId [1],
        /// Unique id of the session within the CPO's platform.
        id: CiStr<36> [1],
        /// Start of the session.
        start_date_time: DateTime [1],
        /// End of the session, when finished.
        end_date_time: DateTime [?],
        /// Energy charged so far, kWh.
        kwh: Number [1],
        /// Token used to start the session.
        cdr_token: CdrToken [1],
        /// How the session was authorized.
        auth_method: AuthMethod [1],
        /// Reference to the authorization given by the eMSP.
        authorization_reference: CiStr<36> [?],
        /// Location id.
        location_id: CiStr<36> [1],
        /// EVSE uid.
        evse_uid: CiStr<36> [1],
        /// Connector id.
        connector_id: CiStr<36> [1],
        /// Meter id of the kWh meter.
        meter_id: Str<255> [?],
        /// ISO 4217 currency of the costs.
        currency: Currency [1],
        /// Charging periods so far.
        charging_periods: ChargingPeriod [*],
        /// Total cost so far.
        total_cost: Price [?],
        /// Status of the session.
        status: SessionStatus [1],
        /// When this session was last updated.
        last_updated: DateTime [1],
    }
}
