//! Inputs found by the fuzz targets in `fuzz/` (see fuzz/README.md), kept as regression tests.

use ocpi::tariff::{price_json, price_json_with_rule, StepSizeRule, TariffError, MAX_SPAN_DAYS};

/// `tariff` target, 2026-11-30 (a libFuzzer timeout): a CDR whose charging period starts in
/// year 1007 and ends in 2015. Every local midnight of the span was a boundary, so pricing
/// cut a thousand years into pieces. It is refused now, at once.
#[test]
fn tariff_charging_periods_spanning_centuries_are_refused() {
    let tariff: serde_json::Value = serde_json::from_str(TARIFF).unwrap();
    let cdr: serde_json::Value = serde_json::from_str(CDR).unwrap();
    match price_json(&tariff, &cdr) {
        Err(TariffError::InvalidInput(m)) => {
            assert!(m.contains(&MAX_SPAN_DAYS.to_string()), "{m}")
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    for rule in [StepSizeRule::CombinedTime, StepSizeRule::LastTimeDimension] {
        assert!(price_json_with_rule(&tariff, &cdr, Some(rule)).is_err());
    }
}

const TARIFF: &str = r#"{  "country_code": "DE",  "party_id": "ALL",  "id": "16",  "currency": "EUR",  "elements": [{    "price_components": [{      "type": "ENERGY",      "price": 0.25,      "typ": 10.0,      "step_size": 1    }]  }],  "last_updated": "2018-12-17T11:16:55Z"}"#;

const CDR: &str = r#"{  "country_code": "BE",  "party_id": "BEC",  "id": "12345",  "start_date_time": "2015-06-29T21:39:09Z",  "end_date_time": "2015-06-29T23:37:32Z",  "cdr_token": {    "uid": "012345678",    "type": "RFID",    "contract_id": "DE8ACC12E46L89"  },  "auth_method": "WHITELIST",  "cdr_location": {    "id": "LOC1",    "name": "Gent Zuid",    "address": "F.Rooseveltlaan 3A",    "city": "Gent",    "postal_code": "9000",    "country": "BEL",    "coordinates": {      "latitude": "3.729944",      "longitude": "51.047599"    },    "evse_uid": "3256",    "evse_id": "BE*BEC*E041503003",    "connector_id": "1",    "connector_standard": "IEC_62196_T2",    "connector_format": "SOCKET",    "connector_power_type": "AC_1_PHASE"  },  "currency": "EUR",  "tariffs": [{    "country_code": "BE",    "party_id": "BEC",    "id": "12",    "currency": "EUR",    "elements": [{      "price_components": [{        "type": "TIME",        "price": 2.00,        "vat": 10.0,        "step_size": 300      }]    }],    "last_updated": "2015-02-02T14:15:01Z"  }],  "charging_periods": [{    "start_date_time": "1007-06-29T21:39:09Z",    "dimensions": [{      "type": "TIMe",      "volume": 0.973    }],    "tariff_id": "12"  }],  "total_cost": {    "excl_vat": 4.00,    "incl_vat": 4.40  },  "total_energy": 15.342,  "total_time": 1.973,  "total_time_cost": {    "excl_vat": 4.00,    "incl_vat": 4.40  },  "last_updated": "2015-06-29T22:01:13Z"}"#;
