//! Inputs shared by the criterion benches: a realistic mix of OCPP-J frames per version, as a
//! charging station sends them during a day (boots, heartbeats, status changes, authorizations,
//! transactions with sampled meter values, a device-model report).

use std::fmt::Write as _;

/// One frame of the mix.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Action name.
    pub action: &'static str,
    /// The full OCPP-J CALL frame text.
    pub frame: String,
}

fn call(id: usize, action: &'static str, payload: &str) -> Sample {
    Sample {
        action,
        frame: format!(r#"[2,"{id:08}-7d1e-4c3a-9f0a-1b2c3d4e5f60","{action}",{payload}]"#),
    }
}

/// The OCPP 1.6 mix.
pub fn mix_v16() -> Vec<Sample> {
    let mut sv = String::new();
    for (i, m) in [
        "Energy.Active.Import.Register",
        "Power.Active.Import",
        "Current.Import",
        "Voltage",
    ]
    .iter()
    .enumerate()
    {
        if i > 0 {
            sv.push(',');
        }
        let _ = write!(
            sv,
            r#"{{"value":"{}.{}","context":"Sample.Periodic","format":"Raw","measurand":"{m}","phase":"L1","location":"Outlet","unit":"{}"}}"#,
            1234 + i * 7,
            i * 3,
            ["Wh", "W", "A", "V"][i]
        );
    }
    vec![
        call(
            1,
            "BootNotification",
            r#"{"chargePointVendor":"ACME Charging","chargePointModel":"Wallbox Pro 22","chargePointSerialNumber":"WB-2024-000123","chargeBoxSerialNumber":"CB-000123","firmwareVersion":"1.8.4","iccid":"8931440400012345678","imsi":"262011234567890","meterType":"EM340","meterSerialNumber":"MTR-99887766"}"#,
        ),
        call(2, "Heartbeat", "{}"),
        call(
            3,
            "StatusNotification",
            r#"{"connectorId":1,"errorCode":"NoError","status":"Charging","timestamp":"2024-05-01T10:15:30.123Z","info":"cable locked","vendorId":"ACME"}"#,
        ),
        call(4, "Authorize", r#"{"idTag":"04A2B3C4D5E6F7"}"#),
        call(
            5,
            "StartTransaction",
            r#"{"connectorId":1,"idTag":"04A2B3C4D5E6F7","meterStart":1234567,"timestamp":"2024-05-01T10:15:31Z","reservationId":42}"#,
        ),
        call(
            6,
            "MeterValues",
            &format!(
                r#"{{"connectorId":1,"transactionId":987654,"meterValue":[{{"timestamp":"2024-05-01T10:20:00Z","sampledValue":[{sv}]}},{{"timestamp":"2024-05-01T10:25:00Z","sampledValue":[{sv}]}}]}}"#
            ),
        ),
        call(
            7,
            "StopTransaction",
            &format!(
                r#"{{"idTag":"04A2B3C4D5E6F7","meterStop":1240000,"timestamp":"2024-05-01T11:15:31Z","transactionId":987654,"reason":"EVDisconnected","transactionData":[{{"timestamp":"2024-05-01T11:15:31Z","sampledValue":[{sv}]}}]}}"#
            ),
        ),
    ]
}

fn sampled_values_2x(n: usize) -> String {
    let measurands = [
        ("Energy.Active.Import.Register", "Wh", "12345.6"),
        ("Power.Active.Import", "W", "7360"),
        ("Current.Import", "A", "31.9"),
        ("Voltage", "V", "230.4"),
        ("SoC", "Percent", "57"),
        ("Frequency", "Hertz", "50.01"),
        ("Current.Offered", "A", "32"),
        ("Power.Offered", "W", "11000"),
    ];
    let mut s = String::new();
    for (i, (m, unit, v)) in measurands.iter().cycle().take(n).enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(
            s,
            r#"{{"value":{v},"context":"Sample.Periodic","measurand":"{m}","location":"Outlet","unitOfMeasure":{{"unit":"{unit}","multiplier":0}}}}"#
        );
    }
    s
}

/// The OCPP 2.0.1 mix (also valid OCPP 2.1).
pub fn mix_v201() -> Vec<Sample> {
    let sv = sampled_values_2x(8);
    let mut report = String::new();
    for i in 0..20 {
        if i > 0 {
            report.push(',');
        }
        let _ = write!(
            report,
            r#"{{"component":{{"name":"EVSE","evse":{{"id":{}}}}},"variable":{{"name":"Power{i}"}},"variableAttribute":[{{"type":"Actual","value":"{}","mutability":"ReadOnly","persistent":true,"constant":false}}],"variableCharacteristics":{{"unit":"W","dataType":"decimal","maxLimit":22000,"supportsMonitoring":true}}}}"#,
            1 + i % 2,
            1000 * i
        );
    }
    vec![
        call(
            1,
            "BootNotification",
            r#"{"chargingStation":{"model":"Wallbox Pro 22","vendorName":"ACME Charging","serialNumber":"WB-2024-000123","firmwareVersion":"2.3.1","modem":{"iccid":"8931440400012345678","imsi":"262011234567890"}},"reason":"PowerUp"}"#,
        ),
        call(2, "Heartbeat", "{}"),
        call(
            3,
            "StatusNotification",
            r#"{"timestamp":"2024-05-01T10:15:30.123Z","connectorStatus":"Occupied","evseId":1,"connectorId":1}"#,
        ),
        call(
            4,
            "Authorize",
            r#"{"idToken":{"idToken":"04A2B3C4D5E6F7","type":"ISO14443"}}"#,
        ),
        call(
            5,
            "TransactionEvent",
            &format!(
                r#"{{"eventType":"Updated","timestamp":"2024-05-01T10:20:00Z","triggerReason":"MeterValuePeriodic","seqNo":4,"offline":false,"transactionInfo":{{"transactionId":"b7f0c3e2-5d6a-4f1b-8e9c-0a1b2c3d4e5f","chargingState":"Charging","timeSpentCharging":300}},"evse":{{"id":1,"connectorId":1}},"meterValue":[{{"timestamp":"2024-05-01T10:20:00Z","sampledValue":[{sv}]}}]}}"#
            ),
        ),
        call(
            6,
            "MeterValues",
            &format!(
                r#"{{"evseId":1,"meterValue":[{{"timestamp":"2024-05-01T10:25:00Z","sampledValue":[{sv}]}}]}}"#
            ),
        ),
        call(
            7,
            "NotifyReport",
            &format!(
                r#"{{"requestId":17,"generatedAt":"2024-05-01T10:30:00Z","tbc":false,"seqNo":0,"reportData":[{report}]}}"#
            ),
        ),
    ]
}

/// The OCPP 2.1 mix (the 2.0.1 messages are unchanged in 2.1).
pub fn mix_v21() -> Vec<Sample> {
    mix_v201()
}

/// Total bytes of a mix.
pub fn bytes(mix: &[Sample]) -> usize {
    mix.iter().map(|s| s.frame.len()).sum()
}
