//! The tariffs module (`mod_tariffs.asciidoc`); the engine that prices sessions is [`crate::tariff`].

use crate::macros::{ocpi_enum, ocpi_object};
use crate::primitives::{
    CiStr, CountryCode, Currency, Date, DateTime, Number, PartyId, TimeOfDay, Url,
};
use crate::v221::locations::EnergyMix;
use crate::v221::types::{DisplayText, Price};

ocpi_object! {
    /// `Tariff`.
    pub struct Tariff {
        /// Country code of the CPO that owns this tariff.
        country_code: CountryCode [1],
        /// Party id of the CPO that owns this tariff.
        party_id: PartyId [1],
        /// Unique id of the tariff within the CPO's platform.
        id: CiStr<36> [1],
        /// ISO 4217 currency of the prices.
        currency: Currency [1],
        /// Type of the tariff; when absent valid for all sessions.
        r#type: TariffType [?],
        /// Alternative texts.
        tariff_alt_text: DisplayText [*],
        /// URL to a human readable explanation.
        tariff_alt_url: Url [?],
        /// Minimum cost of a session.
        min_price: Price [?],
        /// Maximum cost of a session.
        max_price: Price [?],
        /// The tariff elements.
        elements: TariffElement [+],
        /// When the tariff becomes active.
        start_date_time: DateTime [?],
        /// When the tariff stops being valid.
        end_date_time: DateTime [?],
        /// Energy supplied with this tariff.
        energy_mix: EnergyMix [?],
        /// When this tariff was last updated.
        last_updated: DateTime [1],
    }
}

ocpi_enum! {
    /// `DayOfWeek`.
    pub enum DayOfWeek {
        Monday = "MONDAY",
        Tuesday = "TUESDAY",
        Wednesday = "WEDNESDAY",
        Thursday = "THURSDAY",
        Friday = "FRIDAY",
        Saturday = "SATURDAY",
        Sunday = "SUNDAY",
    }
}

ocpi_object! {
    /// `PriceComponent`: the price of one dimension.
    pub struct PriceComponent {
        /// The dimension priced.
        r#type: TariffDimensionType [1],
        /// Price per unit excluding VAT.
        price: Number [1],
        /// VAT percentage; absent means no VAT applies (different from 0 %).
        vat: Number [?],
        /// Minimum amount billed, in blocks of this size (Wh for energy, seconds for time).
        step_size: u32 [1],
    }
}

ocpi_enum! {
    /// `ReservationRestrictionType`.
    pub enum ReservationRestrictionType {
        Reservation = "RESERVATION",
        ReservationExpires = "RESERVATION_EXPIRES",
    }
}

ocpi_object! {
    /// `TariffElement`: price components with the restrictions under which they apply.
    pub struct TariffElement {
        /// The price components.
        price_components: PriceComponent [+],
        /// When the components apply; always when absent.
        restrictions: TariffRestrictions [?],
    }
}

ocpi_enum! {
    /// `TariffDimensionType`.
    pub enum TariffDimensionType {
        Energy = "ENERGY",
        Flat = "FLAT",
        ParkingTime = "PARKING_TIME",
        Time = "TIME",
    }
}

ocpi_object! {
    /// `TariffRestrictions`: all set restrictions must hold (logical AND).
    pub struct TariffRestrictions {
        /// Start time of day, local time, inclusive.
        start_time: TimeOfDay [?],
        /// End time of day, local time, exclusive; wraps past midnight when before `start_time`.
        end_time: TimeOfDay [?],
        /// Start date, local time, inclusive.
        start_date: Date [?],
        /// End date, local time, exclusive.
        end_date: Date [?],
        /// Minimum consumed energy, kWh, inclusive.
        min_kwh: Number [?],
        /// Maximum consumed energy, kWh, exclusive.
        max_kwh: Number [?],
        /// Minimum current (sum over phases), A, inclusive.
        min_current: Number [?],
        /// Maximum current (sum over phases), A, exclusive.
        max_current: Number [?],
        /// Minimum power, kW, inclusive.
        min_power: Number [?],
        /// Maximum power, kW, exclusive.
        max_power: Number [?],
        /// Minimum session duration, seconds, inclusive.
        min_duration: u32 [?],
        /// Maximum session duration, seconds, exclusive.
        max_duration: u32 [?],
        /// Days of the week on which the element is active.
        day_of_week: DayOfWeek [*],
        /// The element describes reservation costs.
        reservation: ReservationRestrictionType [?],
    }
}

ocpi_enum! {
    /// `TariffType`.
    pub enum TariffType {
        AdHocPayment = "AD_HOC_PAYMENT",
        ProfileCheap = "PROFILE_CHEAP",
        ProfileFast = "PROFILE_FAST",
        ProfileGreen = "PROFILE_GREEN",
        Regular = "REGULAR",
    }
}
