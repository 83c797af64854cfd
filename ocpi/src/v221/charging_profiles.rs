//! The charging profiles module (`mod_charging_profiles.asciidoc`).

use crate::macros::{ocpi_enum, ocpi_object};
use crate::primitives::{DateTime, Number, Url};

ocpi_object! {
    /// `ChargingProfileResponse`: the synchronous answer.
    pub struct ChargingProfileResponse {
        /// Whether the request was accepted.
        result: ChargingProfileResponseType [1],
        /// Seconds the sender waits for the asynchronous result.
        timeout: u32 [1],
    }
}

ocpi_object! {
    /// `ActiveChargingProfileResult`.
    pub struct ActiveChargingProfileResult {
        /// Result of the request.
        result: ChargingProfileResultType [1],
        /// The active profile.
        profile: ActiveChargingProfile [?],
    }
}

ocpi_object! {
    /// `ChargingProfileResult`.
    pub struct ChargingProfileResult {
        /// Result of the request.
        result: ChargingProfileResultType [1],
    }
}

ocpi_object! {
    /// `ClearProfileResult`.
    pub struct ClearProfileResult {
        /// Result of the request.
        result: ChargingProfileResultType [1],
    }
}

ocpi_object! {
    /// `SetChargingProfile`.
    pub struct SetChargingProfile {
        /// The profile to set.
        charging_profile: ChargingProfile [1],
        /// URL the result is POSTed to.
        response_url: Url [1],
    }
}

ocpi_object! {
    /// `ActiveChargingProfile`.
    pub struct ActiveChargingProfile {
        /// Start of the profile.
        start_date_time: DateTime [1],
        /// The profile.
        charging_profile: ChargingProfile [1],
    }
}

ocpi_enum! {
    /// `ChargingRateUnit`.
    pub enum ChargingRateUnit {
        W = "W",
        A = "A",
    }
}

ocpi_object! {
    /// `ChargingProfile`.
    pub struct ChargingProfile {
        /// Start of the schedule.
        start_date_time: DateTime [?],
        /// Duration in seconds.
        duration: u32 [?],
        /// Unit of the limits.
        charging_rate_unit: ChargingRateUnit [1],
        /// Minimum charging rate.
        min_charging_rate: Number [?],
        /// The periods.
        charging_profile_period: ChargingProfilePeriod [*],
    }
}

ocpi_object! {
    /// `ChargingProfilePeriod`.
    pub struct ChargingProfilePeriod {
        /// Start of the period in seconds from the start of the profile.
        start_period: u32 [1],
        /// Limit in the unit of the profile.
        limit: Number [1],
    }
}

ocpi_enum! {
    /// `ChargingProfileResponseType`.
    pub enum ChargingProfileResponseType {
        Accepted = "ACCEPTED",
        NotSupported = "NOT_SUPPORTED",
        Rejected = "REJECTED",
        TooOften = "TOO_OFTEN",
        UnknownSession = "UNKNOWN_SESSION",
    }
}

ocpi_enum! {
    /// `ChargingProfileResultType`.
    pub enum ChargingProfileResultType {
        Accepted = "ACCEPTED",
        Rejected = "REJECTED",
        UnknownResult = "UNKNOWN",
    }
}
