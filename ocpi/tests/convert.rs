//! Conversions between 2.1.1, 2.2.1 and 2.3.0, with what they lose.

use ocpi::convert::*;
use ocpi::validate::Validate;
use ocpi::{v211, v221, v230};
use serde_json::json;

fn parties() -> Parties211 {
    Parties211 {
        country_code: "NL".into(),
        party_id: "CPO".into(),
        token_country_code: "NL".into(),
        token_party_id: "MSP".into(),
    }
}

fn paths<T>(c: &Converted<T>) -> Vec<&str> {
    c.losses.iter().map(|l| l.path.as_str()).collect()
}

fn cdr_221() -> v221::Cdr {
    serde_json::from_value(json!({"country_code": "NL", "party_id": "CPO", "id": "C1",
        "start_date_time": "2024-01-01T10:00:00Z", "end_date_time": "2024-01-01T12:00:00Z",
        "cdr_token": {"country_code": "NL", "party_id": "MSP", "uid": "012345678", "type": "RFID", "contract_id": "NL-MSP-C12345678-X"},
        "auth_method": "WHITELIST",
        "cdr_location": {"id": "LOC0", "address": "Street 1", "city": "Utrecht", "postal_code": "3511", "country": "NLD",
            "coordinates": {"latitude": "52.090736", "longitude": "5.121420"}, "evse_uid": "EVSE0",
            "evse_id": "NL*CPO*E0", "connector_id": "1", "connector_standard": "IEC_62196_T2",
            "connector_format": "SOCKET", "connector_power_type": "AC_3_PHASE"},
        "currency": "EUR",
        "tariffs": [{"country_code": "NL", "party_id": "CPO", "id": "T1", "currency": "EUR",
            "min_price": {"excl_vat": 1.00, "incl_vat": 1.21},
            "elements": [{"price_components": [{"type": "ENERGY", "price": 0.25, "vat": 21.0, "step_size": 1}]}],
            "last_updated": "2024-01-01T00:00:00Z"}],
        "charging_periods": [{"start_date_time": "2024-01-01T10:00:00Z", "tariff_id": "T1",
            "dimensions": [{"type": "ENERGY", "volume": 20}, {"type": "TIME", "volume": 2}]}],
        "total_cost": {"excl_vat": 5.00, "incl_vat": 6.05}, "total_energy_cost": {"excl_vat": 5.00},
        "total_energy": 20, "total_time": 2, "x_vendor": 7,
        "last_updated": "2024-01-01T12:00:00Z"})).unwrap()
}

#[test]
fn cdr_221_to_230_and_back_is_lossless_and_exact() {
    let c = cdr_221();
    let up = cdr_221_to_230(&c).unwrap();
    assert!(up.is_lossless(), "{:?}", up.losses);
    up.value.validate().unwrap();
    let v = serde_json::to_value(&up.value).unwrap();
    assert_eq!(
        v["total_cost"],
        json!({"before_taxes": 5.00, "taxes": [{"name": "VAT", "amount": 1.05}]})
    );
    assert_eq!(v["total_energy_cost"], json!({"before_taxes": 5.00}));
    assert_eq!(v["tariffs"][0]["tax_included"], "NO");
    assert_eq!(
        v["tariffs"][0]["min_price"],
        json!({"before_taxes": 1.00, "after_taxes": 1.21})
    );
    assert_eq!(v["x_vendor"], 7, "unknown members travel along");
    assert_eq!(
        up.value.total_cost.after_taxes().unwrap().to_string(),
        "6.05"
    );
    let down = cdr_230_to_221(&up.value).unwrap();
    assert!(down.is_lossless(), "{:?}", down.losses);
    assert_eq!(down.value, c);
}

#[test]
fn taxes_breakdown_and_new_members_are_reported_lost() {
    let mut up = cdr_221_to_230(&cdr_221()).unwrap().value;
    up.total_cost = serde_json::from_value(json!({"before_taxes": 10, "taxes": [
        {"name": "GST", "percentage": 5, "amount": 0.50}, {"name": "QST", "percentage": 9.975, "amount": 0.9975}]})).unwrap();
    up.cdr_token.r#type = v230::TokenType::Emaid;
    let down = cdr_230_to_221(&up).unwrap();
    assert_eq!(paths(&down), ["$.total_cost.taxes", "$.cdr_token.type"]);
    assert_eq!(
        down.value.total_cost.incl_vat.unwrap().to_string(),
        "11.4975"
    );
    assert_eq!(
        down.value.cdr_token.r#type,
        v221::TokenType::Unknown("EMAID".into())
    );
}

#[test]
fn tariff_with_taxes_included_is_converted_to_excluding() {
    let t: v230::Tariff =
        serde_json::from_value(json!({"country_code": "US", "party_id": "CPO", "id": "T",
        "currency": "USD", "tax_included": "YES", "preauthorize_amount": 50,
        "elements": [{"price_components": [
            {"type": "ENERGY", "price": 1.20, "vat": 20, "step_size": 1},
            {"type": "TIME", "price": 1.00, "vat": 7, "step_size": 60}]}],
        "last_updated": "2024-01-01T00:00:00Z"}))
        .unwrap();
    let d = tariff_230_to_221(&t).unwrap();
    assert_eq!(paths(&d), ["$.preauthorize_amount", "$.tax_included"]);
    assert!(
        d.losses[1].note.contains("rounded"),
        "1.00 / 1.07 is not exact"
    );
    let pcs = &d.value.elements[0].price_components;
    assert_eq!(pcs[0].price.0.to_string(), "1");
    assert_eq!(pcs[1].price.0.to_string(), "0.934579");
    d.value.validate().unwrap();
}

#[test]
fn location_230_extensions_are_reported_lost() {
    let l: v230::Location = serde_json::from_value(json!({"country_code": "NL", "party_id": "CPO", "id": "L",
        "publish": true, "address": "A", "city": "C", "country": "NLD",
        "coordinates": {"latitude": "52.09073", "longitude": "5.12142"}, "time_zone": "Europe/Amsterdam",
        "help_phone": "+31201234567",
        "parking_places": [{"id": "P1", "vehicle_types": ["VAN"], "restricted_to_type": false, "reservation_required": false}],
        "evses": [{"uid": "E1", "status": "AVAILABLE", "parking": [{"parking_id": "P1", "evse_position": "LEFT"}],
            "parking_restrictions": ["TAXIS"],
            "connectors": [{"id": "1", "standard": "MCS", "format": "CABLE", "power_type": "DC",
                "max_voltage": 1250, "max_amperage": 3000, "capabilities": ["ISO_15118_20_PLUG_AND_CHARGE"],
                "last_updated": "2024-01-01T00:00:00Z"}],
            "last_updated": "2024-01-01T00:00:00Z"}],
        "last_updated": "2024-01-01T00:00:00Z"})).unwrap();
    l.validate().unwrap();
    let d = location_230_to_221(&l).unwrap();
    assert_eq!(
        paths(&d),
        [
            "$.parking_places",
            "$.help_phone",
            "$.evses[0].parking",
            "$.evses[0].parking_restrictions[0]",
            "$.evses[0].connectors[0].capabilities",
            "$.evses[0].connectors[0].standard",
        ]
    );
    assert!(d.value.extra.is_empty());
    let up = location_221_to_230(&d.value).unwrap();
    assert!(up.is_lossless());
}

fn location_211() -> v211::Location {
    serde_json::from_value(json!({"id": "LOC1", "type": "ON_STREET", "name": "Gent Zuid",
        "address": "F.Rooseveltlaan 3A", "city": "Gent", "postal_code": "9000", "country": "BEL",
        "coordinates": {"latitude": "51.047599", "longitude": "3.729944"}, "time_zone": "Europe/Brussels",
        "evses": [{"uid": "3256", "evse_id": "BE-BEC-E041503001", "status": "AVAILABLE",
            "capabilities": ["RESERVABLE"],
            "connectors": [{"id": "1", "standard": "IEC_62196_T2", "format": "CABLE", "power_type": "AC_3_PHASE",
                "voltage": 220, "amperage": 16, "tariff_id": "11", "last_updated": "2015-03-16T10:10:02Z"}],
            "last_updated": "2015-06-28T08:12:01Z"}],
        "opening_times": {"regular_hours": [{"weekday": 1, "period_begin": "08:00", "period_end": "20:00"}]},
        "energy_mix": {"is_green_energy": false, "environ_impact": [{"source": "CARBON_DIOXIDE", "amount": 372}]},
        "last_updated": "2015-06-28T08:12:01Z"})).unwrap()
}

#[test]
fn location_211_to_221_and_back() {
    let l = location_211();
    l.validate().unwrap();
    let up = location_211_to_221(&l, &parties()).unwrap();
    assert!(up.is_lossless(), "{:?}", up.losses);
    up.value.validate().unwrap();
    assert_eq!(up.value.evses[0].connectors[0].max_voltage, 220);
    assert_eq!(up.value.evses[0].connectors[0].tariff_ids[0].0, "11");
    assert_eq!(up.value.parking_type, Some(v221::ParkingType::OnStreet));
    let mix = up.value.energy_mix.as_ref().unwrap();
    assert_eq!(
        mix.environ_impact[0].category,
        v221::EnvironmentalImpactCategory::CarbonDioxide
    );
    let down = location_221_to_211(&up.value).unwrap();
    assert!(down.is_lossless(), "{:?}", down.losses);
    // 2.2.1 requires twentyfourseven; it is written back as false
    let mut expected = serde_json::to_value(&l).unwrap();
    expected["opening_times"]["twentyfourseven"] = json!(false);
    assert_eq!(serde_json::to_value(&down.value).unwrap(), expected);
    // and 2.1.1 -> 2.3.0 through 2.2.1
    let l230 = location_211_to_230(&l, &parties()).unwrap();
    l230.value.validate().unwrap();
}

#[test]
fn session_and_cdr_211_upgrade_say_what_they_assume() {
    let s: v211::Session = serde_json::from_value(json!({"id": "101", "start_datetime": "2015-06-29T22:39:09Z",
        "kwh": 0.00, "auth_id": "FA54320", "auth_method": "WHITELIST", "location": location_211(),
        "currency": "EUR", "total_cost": 2.50, "status": "PENDING", "last_updated": "2015-06-29T22:39:09Z"})).unwrap();
    let up = session_211_to_230(&s, &parties()).unwrap();
    assert_eq!(paths(&up), ["$.auth_id", "$.location"]);
    up.value.validate().unwrap();
    assert_eq!(up.value.cdr_token.contract_id.0, "FA54320");
    assert_eq!(up.value.evse_uid.0, "3256");
    assert_eq!(
        up.value
            .total_cost
            .as_ref()
            .unwrap()
            .before_taxes
            .unwrap()
            .0
            .to_string(),
        "2.5"
    );
    let down = session_230_to_211(&up.value, &location_211()).unwrap();
    assert_eq!(down.value.auth_id.0, "FA54320");
    assert_eq!(down.value.location, location_211());

    let c = cdr_221();
    let d = cdr_221_to_211(&c).unwrap();
    d.value.validate().unwrap();
    let p = paths(&d);
    for lost in [
        "$.cdr_token",
        "$.cdr_location",
        "$.total_cost.incl_vat",
        "$.total_energy_cost",
        "$.charging_periods[0].tariff_id",
        "$.tariffs[0].min_price",
        "$.tariffs[0].elements[0].price_components[0].vat",
    ] {
        assert!(p.contains(&lost), "{lost} not in {p:?}");
    }
    assert_eq!(d.value.total_cost.0.to_string(), "5.0");
    let back = cdr_211_to_221(&d.value, &parties()).unwrap();
    back.value.validate().unwrap();
    assert_eq!(back.value.cdr_location, c.cdr_location);
}

#[test]
fn tokens_between_versions() {
    let t: v211::Token = serde_json::from_value(json!({"uid": "012345678", "type": "RFID", "auth_id": "DE8ACC12E46L89",
        "issuer": "TheNewMotion", "valid": true, "whitelist": "ALLOWED", "last_updated": "2015-06-29T22:39:09Z"})).unwrap();
    let up = token_211_to_230(&t, &parties()).unwrap();
    assert!(up.is_lossless());
    assert_eq!(up.value.contract_id.0, "DE8ACC12E46L89");
    let mut t230 = up.value.clone();
    t230.r#type = v230::TokenType::Emaid;
    t230.group_id = Some("G1".into());
    let down = token_230_to_211(&t230).unwrap();
    assert_eq!(paths(&down), ["$.type", "$.group_id", "$.type"]);
    let back = token_230_to_211(&up.value).unwrap();
    assert!(back.is_lossless());
    assert_eq!(back.value, t);
}

#[test]
fn cdr_to_211_takes_evse_and_connector_from_the_published_location() {
    // The 2.2.1 location the CDR was charged at, as the CPO publishes it.
    let location = json!({"country_code": "NL", "party_id": "CPO", "id": "LOC0", "publish": true,
        "address": "Street 1", "city": "Utrecht", "postal_code": "3511", "country": "NLD",
        "coordinates": {"latitude": "52.090736", "longitude": "5.121420"}, "time_zone": "Europe/Amsterdam",
        "evses": [
            {"uid": "EVSE9", "evse_id": "NL*CPO*E9", "status": "AVAILABLE",
             "connectors": [{"id": "1", "standard": "IEC_62196_T2", "format": "SOCKET",
                "power_type": "AC_1_PHASE", "max_voltage": 230, "max_amperage": 16,
                "last_updated": "2024-01-01T00:00:00Z"}],
             "last_updated": "2024-01-01T00:00:00Z"},
            {"uid": "EVSE0", "evse_id": "NL*CPO*E0", "status": "CHARGING",
             "connectors": [
                {"id": "1", "standard": "IEC_62196_T2", "format": "SOCKET",
                 "power_type": "AC_3_PHASE", "max_voltage": 230, "max_amperage": 32,
                 "tariff_ids": ["T1"], "last_updated": "2024-01-01T00:00:00Z"},
                {"id": "2", "standard": "DOMESTIC_F", "format": "SOCKET",
                 "power_type": "AC_1_PHASE", "max_voltage": 230, "max_amperage": 10,
                 "last_updated": "2024-01-01T00:00:00Z"}],
             "last_updated": "2024-01-01T00:00:00Z"}],
        "last_updated": "2024-01-01T00:00:00Z"});
    let cdr = serde_json::to_value(cdr_221()).unwrap();
    let (v221, v211) = (v221::VersionNumber::V2_2_1, v221::VersionNumber::V2_1_1);
    let m = v221::ModuleId::Cdrs;
    let with = convert_json(&m, &v221, &v211, &cdr, &parties(), Some(&location)).unwrap();
    let l = &with.value["location"];
    assert_eq!(l["id"], "LOC0");
    assert_eq!(
        l["time_zone"], "Europe/Amsterdam",
        "the published location, not a rebuilt one"
    );
    assert_eq!(
        l["evses"].as_array().unwrap().len(),
        1,
        "only the EVSE charged at"
    );
    assert_eq!(l["evses"][0]["uid"], "EVSE0");
    assert_eq!(l["evses"][0]["status"], "CHARGING");
    let connectors = l["evses"][0]["connectors"].as_array().unwrap();
    assert_eq!(connectors.len(), 1, "only the connector charged at");
    assert_eq!(connectors[0]["id"], "1");
    assert_eq!(connectors[0]["amperage"], 32);
    assert_eq!(connectors[0]["voltage"], 230);
    let typed: v211::Cdr = serde_json::from_value(with.value.clone()).unwrap();
    typed.validate().unwrap();

    // Without the location (or with one that lacks the EVSE) the rebuilt one stays, zeroed.
    let without = convert_json(&m, &v221, &v211, &cdr, &parties(), None).unwrap();
    assert_eq!(
        without.value["location"]["evses"][0]["connectors"][0]["amperage"],
        0
    );
    let mut other = location.clone();
    other["evses"].as_array_mut().unwrap().remove(1);
    let missing = convert_json(&m, &v221, &v211, &cdr, &parties(), Some(&other)).unwrap();
    assert_eq!(missing.value["location"]["evses"][0]["uid"], "EVSE0");
    assert_eq!(
        missing.value["location"]["evses"][0]["connectors"][0]["amperage"],
        0
    );
}
