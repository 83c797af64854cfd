//! The tariffs module (2.3.0): [`PriceLimit`] for `min_price`/`max_price`, [`TaxIncluded`] and
//! `preauthorize_amount`; elements, price components and restrictions are 2.2.1's.
//!
//! The engine that prices sessions is [`crate::tariff`] ([`crate::tariff::price_json`] reads 2.3.0
//! tariffs).

pub use crate::v221::tariffs::{
    DayOfWeek, PriceComponent, ReservationRestrictionType, TariffDimensionType, TariffElement,
    TariffRestrictions, TariffType,
};

use crate::macros::{ocpi_enum, ocpi_object};
use crate::primitives::{CiStr, CountryCode, Currency, DateTime, Number, PartyId, Url};
use crate::v230::locations::EnergyMix;
use crate::v230::types::DisplayText;

ocpi_object! {
    #[open_enums = crate::v230::OPEN_ENUMS]
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
        min_price: PriceLimit [?],
        /// Maximum cost of a session.
        max_price: PriceLimit [?],
        /// The tariff elements.
        elements: TariffElement [+],
        /// Amount a payment terminal provider should preauthorize for a session.
        preauthorize_amount: Number [?],
        /// Whether the prices of this tariff include taxes.
        tax_included: TaxIncluded [!],
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

ocpi_object! {
    /// `PriceLimit`: the minimum or maximum cost of a session.
    pub struct PriceLimit {
        /// Limit excluding taxes.
        before_taxes: Number [1],
        /// Limit including taxes.
        after_taxes: Number [?],
    }
}

ocpi_enum! {
    /// `TaxIncluded`: whether the prices of a tariff include taxes.
    pub enum TaxIncluded {
        Yes = "YES",
        No = "NO",
        NotApplicable = "N/A",
    }
}
