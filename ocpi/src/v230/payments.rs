//! The payments module (2.3.0 `mod_payments`): payment terminals and financial advice
//! confirmations.
//!
//! The official examples of [`FinancialAdviceConfirmation`] give `total_costs` in the 2.2.1
//! `Price` shape; they are read leniently (see [`Price`]) and validation reports it.

use crate::macros::{ocpi_enum, ocpi_object};
use crate::primitives::{CiStr, CountryCode, DateTime, PartyId, Url};
use crate::v230::types::{GeoLocation, Price};

ocpi_object! {
    #[open_enums = crate::v230::OPEN_ENUMS]
    /// `Terminal`: one physical payment terminal and the locations/EVSEs it serves.
    ///
    /// `location_ids` and `evse_uids` are kept as given: an empty list stays an empty list.
    pub struct Terminal {
        /// Unique id of the terminal.
        terminal_id: CiStr<36> [1],
        /// Reference linking the terminal to a CSMS.
        customer_reference: CiStr<36> [?],
        /// Party id (alternative to the customer reference).
        party_id: PartyId [?],
        /// Country code (alternative to the customer reference).
        country_code: CountryCode [?],
        /// Street/block name and house number.
        address: CiStr<45> [?],
        /// City or town.
        city: CiStr<45> [?],
        /// Postal code.
        postal_code: CiStr<10> [?],
        /// State or province.
        state: CiStr<20> [?],
        /// ISO 3166-1 alpha-3 country code (a `CiString(3)` in the specification).
        country: CiStr<3> [?],
        /// Coordinates of the terminal.
        coordinates: GeoLocation [?],
        /// Base URL of the downloadable invoices.
        invoice_base_url: Url [?],
        /// Which party creates the invoice for the driver.
        invoice_creator: InvoiceCreator [?],
        /// Mapping value issued by the payment terminal provider (e.g. a serial number).
        reference: CiStr<36> [?],
        /// Locations assigned to the terminal.
        location_ids: Vec<CiStr<36>> [?],
        /// EVSEs assigned to the terminal.
        evse_uids: Vec<CiStr<36>> [?],
        /// When this terminal was last updated (absent in the create requests of the examples).
        last_updated: DateTime [!],
    }
}

ocpi_object! {
    #[open_enums = crate::v230::OPEN_ENUMS]
    /// `FinancialAdviceConfirmation`: the financial details of a payment at a terminal.
    pub struct FinancialAdviceConfirmation {
        /// Unique id of the confirmation.
        id: CiStr<36> [1],
        /// Authorization reference from `StartSession`, `Session` and `CDR`.
        authorization_reference: CiStr<36> [1],
        /// Amount captured at the payment service provider (including VAT).
        total_costs: Price [1],
        /// ISO 4217 currency (a `CiString(3)` in the specification).
        currency: CiStr<3> [1],
        /// Invoice-relevant data of the payment (each 1 to 255 characters).
        eft_data: CiStr<255> [+!],
        /// Status of the capture.
        capture_status_code: CaptureStatusCode [1],
        /// Message about an error of the capture (1 to 255 characters).
        capture_status_message: CiStr<255> [?],
        /// When this confirmation was last updated.
        last_updated: DateTime [1],
    }
}

ocpi_enum! {
    /// `InvoiceCreator`.
    pub enum InvoiceCreator {
        Cpo = "CPO",
        Ptp = "PTP",
    }
}

ocpi_enum! {
    /// `CaptureStatusCode`.
    pub enum CaptureStatusCode {
        Success = "SUCCESS",
        PartialSuccess = "PARTIAL_SUCCESS",
        Failed = "FAILED",
    }
}
