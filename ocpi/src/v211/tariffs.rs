//! The tariffs module (2.1.1 `mod_tariffs.md`): prices exclude VAT and carry no VAT rate.

pub use crate::v221::tariffs::{DayOfWeek, TariffDimensionType};

use crate::macros::ocpi_object;
use crate::primitives::{Currency, Date, DateTime, Number, Str, TimeOfDay, Url};
use crate::v211::locations::EnergyMix;
use crate::v221::types::DisplayText;

ocpi_object! {
    /// `Tariff` (2.1.1).
    pub struct Tariff {
        /// Unique id of the tariff.
        id: Str<36> [1],
        /// ISO 4217 currency.
        currency: Currency [1],
        /// Alternative texts.
        tariff_alt_text: DisplayText [*],
        /// URL to a human readable explanation.
        tariff_alt_url: Url [?],
        /// The tariff elements.
        elements: TariffElement [+],
        /// Energy supplied with this tariff.
        energy_mix: EnergyMix [?],
        /// When this tariff was last updated.
        last_updated: DateTime [1],
    }
}

ocpi_object! {
    /// `PriceComponent` (2.1.1: no `vat`).
    pub struct PriceComponent {
        /// The dimension priced.
        r#type: TariffDimensionType [1],
        /// Price per unit excluding VAT.
        price: Number [1],
        /// Step size (Wh for energy, seconds for time).
        step_size: u32 [1],
    }
}

ocpi_object! {
    /// `TariffElement` (2.1.1).
    pub struct TariffElement {
        /// The price components.
        price_components: PriceComponent [+],
        /// When the components apply.
        restrictions: TariffRestrictions [?],
    }
}

ocpi_object! {
    /// `TariffRestrictions` (2.1.1: no current or reservation restrictions).
    pub struct TariffRestrictions {
        /// Start time of day, local time.
        start_time: TimeOfDay [?],
        /// End time of day, local time.
        end_time: TimeOfDay [?],
        /// Start date, local time.
        start_date: Date [?],
        /// End date, local time.
        end_date: Date [?],
        /// Minimum consumed energy, kWh.
        min_kwh: Number [?],
        /// Maximum consumed energy, kWh.
        max_kwh: Number [?],
        /// Minimum power, kW.
        min_power: Number [?],
        /// Maximum power, kW.
        max_power: Number [?],
        /// Minimum duration, seconds.
        min_duration: u32 [?],
        /// Maximum duration, seconds.
        max_duration: u32 [?],
        /// Days of the week.
        day_of_week: DayOfWeek [*],
    }
}
