//! Types shared by several modules: the 2.3.0 [`Price`] with taxes, [`Role`] without `HUB`,
//! [`TokenType`] with `EMAID`, and [`CdrToken`] that uses it; the rest is 2.2.1's.

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::v221::types::{
    AuthMethod, BusinessDetails, CdrDimension, CdrDimensionType, ChargingPeriod, DisplayText,
    GeoLocation, Image, ImageCategory, ProfileType,
};

use crate::macros::{ocpi_enum, ocpi_object};
use crate::primitives::{CiStr, CountryCode, Extra, Number, PartyId};
use crate::validate::{Validate, Validator};

/// `Price` (2.3.0): an amount before taxes and the taxes that apply to it.
///
/// Read leniently: `before_taxes` may be absent, and a price in the 2.2.1 shape
/// (`excl_vat`/`incl_vat`) is kept in [`Price::extra`] and written back; validation reports
/// both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Price {
    /// Price/cost excluding taxes.
    ///
    /// Required by the specification; tolerated absent on read (validation reports it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_taxes: Option<Number>,
    /// All taxes that apply to this price.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taxes: Vec<TaxAmount>,
    /// Members this crate does not know, kept and written back.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Price {
    /// A price before taxes with its taxes.
    pub fn new(before_taxes: Decimal, taxes: Vec<TaxAmount>) -> Self {
        Price {
            before_taxes: Some(before_taxes.into()),
            taxes,
            extra: Extra::new(),
        }
    }

    /// The amount after taxes: `before_taxes` plus every tax amount (`None` without
    /// `before_taxes`).
    pub fn after_taxes(&self) -> Option<Decimal> {
        let base = self.before_taxes?.0;
        Some(self.taxes.iter().fold(base, |a, t| a + t.amount.0))
    }
}

impl Validate for Price {
    fn validate_into(&self, v: &mut Validator) {
        v.field("before_taxes", |v| {
            crate::validate::rules::required(&self.before_taxes, v)
        });
        v.field("taxes", |v| self.taxes.validate_into(v));
        for old in ["excl_vat", "incl_vat"] {
            if self.extra.contains_key(old) {
                v.field(old, |v| {
                    v.error("member of the OCPI 2.2.1 Price; 2.3.0 uses before_taxes and taxes")
                });
            }
        }
    }
}

ocpi_object! {
    /// `TaxAmount`: one tax that applies to a price.
    pub struct TaxAmount {
        /// Description of the tax, e.g. `VAT` or `QST`.
        name: String [1],
        /// Tax account number of the business entity remitting the tax.
        account_number: String [?],
        /// Tax percentage.
        percentage: Number [?],
        /// The amount of this tax that is due.
        amount: Number [1],
    }
}

ocpi_enum! {
    /// `Role` (2.3.0: without `HUB`, which is now given by `Credentials.hub_party_id`).
    pub enum Role {
        Cpo = "CPO",
        Emsp = "EMSP",
        Nap = "NAP",
        Nsp = "NSP",
        Other = "OTHER",
        Scsp = "SCSP",
    }
}

ocpi_enum! {
    /// `TokenType` (2.3.0 `OpenEnum`, adds `EMAID`).
    pub enum TokenType {
        AdHocUser = "AD_HOC_USER",
        AppUser = "APP_USER",
        Emaid = "EMAID",
        Other = "OTHER",
        Rfid = "RFID",
    }
}

ocpi_object! {
    #[open_enums = crate::v230::OPEN_ENUMS]
    /// `CdrToken`: the token used in a session or CDR.
    pub struct CdrToken {
        /// Country code of the party that issued the token.
        country_code: CountryCode [1],
        /// Party id of the party that issued the token.
        party_id: PartyId [1],
        /// Unique id by which the token can be identified.
        uid: CiStr<36> [1],
        /// Type of the token.
        r#type: TokenType [1],
        /// Contract id (eMA id) of the token.
        contract_id: CiStr<36> [1],
    }
}
