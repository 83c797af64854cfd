//! JSON Schemas of the objects, derived from the types with `schemars`.

use std::collections::BTreeMap;

use schemars::schema_for;
use serde_json::Value;

/// The JSON Schema (draft 2020-12) of every OCPI 2.2.1 object, by object name.
///
/// The schemas state the specification's rules (lengths, patterns, enums, required members);
/// every object allows additional members, since unknown members are kept.
pub fn v221() -> BTreeMap<&'static str, Value> {
    use crate::v221::*;
    let mut m = BTreeMap::new();
    macro_rules! add {
        ($($t:ty => $n:literal),* $(,)?) => {$(
            m.insert($n, serde_json::to_value(schema_for!($t)).unwrap_or(Value::Null));
        )*};
    }
    add!(
        Version => "Version", VersionDetails => "VersionDetails", Endpoint => "Endpoint",
        Credentials => "Credentials", CredentialsRole => "CredentialsRole",
        Location => "Location", Evse => "EVSE", Connector => "Connector", Hours => "Hours",
        EnergyMix => "EnergyMix", BusinessDetails => "BusinessDetails", Image => "Image",
        Session => "Session", ChargingPreferences => "ChargingPreferences",
        Cdr => "CDR", CdrToken => "CdrToken", ChargingPeriod => "ChargingPeriod",
        Tariff => "Tariff", TariffElement => "TariffElement", PriceComponent => "PriceComponent",
        TariffRestrictions => "TariffRestrictions", Price => "Price", DisplayText => "DisplayText",
        Token => "Token", AuthorizationInfo => "AuthorizationInfo", LocationReferences => "LocationReferences",
        CancelReservation => "CancelReservation", CommandResponse => "CommandResponse",
        CommandResult => "CommandResult", ReserveNow => "ReserveNow", StartSession => "StartSession",
        StopSession => "StopSession", UnlockConnector => "UnlockConnector",
        ChargingProfileResponse => "ChargingProfileResponse",
        ActiveChargingProfileResult => "ActiveChargingProfileResult",
        ChargingProfileResult => "ChargingProfileResult", ClearProfileResult => "ClearProfileResult",
        SetChargingProfile => "SetChargingProfile", ActiveChargingProfile => "ActiveChargingProfile",
        ClientInfo => "ClientInfo",
    );
    m
}

/// The JSON Schema (draft 2020-12) of every OCPI 2.1.1 object, by object name.
pub fn v211() -> BTreeMap<&'static str, Value> {
    use crate::v211::*;
    let mut m = BTreeMap::new();
    macro_rules! add {
        ($($t:ty => $n:literal),* $(,)?) => {$(
            m.insert($n, serde_json::to_value(schema_for!($t)).unwrap_or(Value::Null));
        )*};
    }
    add!(
        Version => "Version", VersionDetails => "VersionDetails", Endpoint => "Endpoint",
        Credentials => "Credentials", Location => "Location", Evse => "EVSE",
        Connector => "Connector", Hours => "Hours", EnergyMix => "EnergyMix",
        EnvironmentalImpact => "EnvironmentalImpact", Session => "Session", Cdr => "CDR",
        ChargingPeriod => "ChargingPeriod", CdrDimension => "CdrDimension", Tariff => "Tariff",
        TariffElement => "TariffElement", PriceComponent => "PriceComponent",
        TariffRestrictions => "TariffRestrictions", DisplayText => "DisplayText", Token => "Token",
        AuthorizationInfo => "AuthorizationInfo", LocationReferences => "LocationReferences",
        CommandResponse => "CommandResponse", ReserveNow => "ReserveNow",
        StartSession => "StartSession", StopSession => "StopSession",
        UnlockConnector => "UnlockConnector",
    );
    m
}

/// The JSON Schema (draft 2020-12) of every OCPI 2.3.0 object, by object name (including the
/// Payments module). Objects that 2.3.0 shares with 2.2.1 have the same schema as in [`v221`].
///
/// The schemas state the specification's rules; members that this crate tolerates absent on read
/// ([`crate::v230::Price`]'s `before_taxes`, [`crate::v230::Tariff`]'s `tax_included`) are not
/// listed as required, and an EVSE's `parking` entries also admit a bare id (see
/// [`crate::v230::EvseParkingEntry`]).
pub fn v230() -> BTreeMap<&'static str, Value> {
    use crate::v230::*;
    let mut m = BTreeMap::new();
    macro_rules! add {
        ($($t:ty => $n:literal),* $(,)?) => {$(
            m.insert($n, serde_json::to_value(schema_for!($t)).unwrap_or(Value::Null));
        )*};
    }
    add!(
        Version => "Version", VersionDetails => "VersionDetails", Endpoint => "Endpoint",
        Credentials => "Credentials", CredentialsRole => "CredentialsRole",
        Location => "Location", Evse => "EVSE", Connector => "Connector", Hours => "Hours",
        Parking => "Parking", EvseParking => "EVSEParking",
        EnergyMix => "EnergyMix", BusinessDetails => "BusinessDetails", Image => "Image",
        Session => "Session", ChargingPreferences => "ChargingPreferences",
        Cdr => "CDR", CdrToken => "CdrToken", ChargingPeriod => "ChargingPeriod",
        Tariff => "Tariff", TariffElement => "TariffElement", PriceComponent => "PriceComponent",
        TariffRestrictions => "TariffRestrictions", PriceLimit => "PriceLimit", Price => "Price",
        TaxAmount => "TaxAmount", DisplayText => "DisplayText",
        Token => "Token", AuthorizationInfo => "AuthorizationInfo", LocationReferences => "LocationReferences",
        CancelReservation => "CancelReservation", CommandResponse => "CommandResponse",
        CommandResult => "CommandResult", ReserveNow => "ReserveNow", StartSession => "StartSession",
        StopSession => "StopSession", UnlockConnector => "UnlockConnector",
        ChargingProfileResponse => "ChargingProfileResponse",
        ActiveChargingProfileResult => "ActiveChargingProfileResult",
        ChargingProfileResult => "ChargingProfileResult", ClearProfileResult => "ClearProfileResult",
        SetChargingProfile => "SetChargingProfile", ActiveChargingProfile => "ActiveChargingProfile",
        ClientInfo => "ClientInfo",
        Terminal => "Terminal", FinancialAdviceConfirmation => "FinancialAdviceConfirmation",
    );
    m
}

#[cfg(test)]
mod tests {
    #[test]
    fn v211_schemas() {
        let all = super::v211();
        assert_eq!(all.len(), 27);
        let c = &all["Connector"];
        assert!(c["required"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "voltage"));
        assert!(!all["Location"].to_string().contains("country_code"));
        assert!(all["Token"]["required"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "auth_id"));
    }

    #[test]
    fn v230_schemas_have_the_new_members() {
        let all = super::v230();
        assert_eq!(all.len(), 46);
        let t = all["Tariff"].to_string();
        assert!(t.contains("tax_included") && t.contains("\"N/A\""), "{t}");
        assert!(t.contains("preauthorize_amount"));
        let p = &all["Price"];
        assert!(p["properties"]["taxes"].is_object());
        assert!(p["properties"].get("excl_vat").is_none());
        let l = all["Location"].to_string();
        assert!(
            l.contains("parking_places") && l.contains("SAE_J3400") && l.contains("help_phone")
        );
        let c = all["Credentials"].to_string();
        assert!(c.contains("hub_party_id") && !c.contains("\"HUB\""));
        let f = &all["FinancialAdviceConfirmation"];
        assert!(f["required"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "total_costs"));
    }

    #[test]
    fn tariff_schema_has_the_rules() {
        let all = super::v221();
        assert_eq!(all.len(), 40);
        let t = &all["Tariff"];
        let required: Vec<&str> = t["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for r in [
            "country_code",
            "party_id",
            "id",
            "currency",
            "elements",
            "last_updated",
        ] {
            assert!(required.contains(&r), "{r} required");
        }
        assert!(!required.contains(&"min_price"));
        let s = t.to_string();
        assert!(s.contains("\"maxLength\":36"), "CiString(36) id");
        assert!(s.contains("PROFILE_CHEAP"), "TariffType enum");
        assert!(s.contains("\"format\":\"date-time\""));
    }
}
