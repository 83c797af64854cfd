//! The engine driven with the generated dispatch tables of OCPP 1.6, 2.0.1 and 2.1.

use std::time::{Duration, Instant};

use ocpp_core::testing::exchange;
use ocpp_core::types::{DecodeOptions, OcppVersion, Protocol, Request};
use ocpp_core::{BootState, Config, Engine, Event, MemoryQueue, OfflineQueue, StationConfig};

struct Fixtures {
    boot: &'static str,
    boot_pending: &'static str,
    boot_accepted: &'static str,
    tx_action: &'static str,
    tx: &'static str,
    tx_response: &'static str,
    reset: &'static str,
    boot_unknown_member: &'static str,
}

const TIME: &str = "2025-01-01T00:00:00Z";

fn fixtures(v: OcppVersion) -> Fixtures {
    match v {
        OcppVersion::V16 => Fixtures {
            boot: r#"{"chargePointVendor":"ACME","chargePointModel":"W1"}"#,
            boot_pending: r#"{"status":"Pending","currentTime":"2025-01-01T00:00:00Z","interval":10}"#,
            boot_accepted: r#"{"status":"Accepted","currentTime":"2025-01-01T00:00:00Z","interval":60}"#,
            tx_action: "StartTransaction",
            tx: r#"{"connectorId":1,"idTag":"ABC","meterStart":0,"timestamp":"2025-01-01T00:00:00Z"}"#,
            tx_response: r#"{"idTagInfo":{"status":"Accepted"},"transactionId":1}"#,
            reset: r#"{"type":"Soft"}"#,
            boot_unknown_member: r#"{"chargePointVendor":"ACME","chargePointModel":"W1","x":1}"#,
        },
        _ => Fixtures {
            boot: r#"{"chargingStation":{"model":"W1","vendorName":"ACME"},"reason":"PowerUp"}"#,
            boot_pending: r#"{"currentTime":"2025-01-01T00:00:00Z","interval":10,"status":"Pending"}"#,
            boot_accepted: r#"{"currentTime":"2025-01-01T00:00:00Z","interval":60,"status":"Accepted"}"#,
            tx_action: "TransactionEvent",
            tx: r#"{"eventType":"Started","timestamp":"2025-01-01T00:00:00Z","triggerReason":"Authorized","seqNo":0,"transactionInfo":{"transactionId":"tx1"}}"#,
            tx_response: "{}",
            reset: r#"{"type":"Immediate"}"#,
            boot_unknown_member: r#"{"chargingStation":{"model":"W1","vendorName":"ACME"},"reason":"PowerUp","x":1}"#,
        },
    }
}

fn action<P: Protocol>(name: &str) -> P::Action {
    P::action_from_name(name).unwrap()
}

fn req<P: Protocol>(name: &str, json: &str) -> P::AnyRequest {
    P::decode_request(action::<P>(name), json, &DecodeOptions::STRICT)
        .unwrap()
        .0
}

fn resp<P: Protocol>(name: &str, json: &str) -> P::AnyResponse {
    P::decode_response(action::<P>(name), json, &DecodeOptions::STRICT)
        .unwrap()
        .0
}

fn take_call<P: Protocol>(e: &mut Engine<P>, name: &str) -> (String, P::AnyRequest) {
    let want = action::<P>(name);
    while let Some(ev) = e.poll_event() {
        if let Event::Call {
            id,
            action,
            request,
            ..
        } = ev
        {
            assert_eq!(action, want);
            return (id, request);
        }
    }
    panic!("no {name} call");
}

fn session<P: Protocol, H: Request>() {
    let f = fixtures(P::VERSION);
    let t0 = Instant::now();
    let sc = StationConfig::<P>::new(req::<P>("BootNotification", f.boot));
    let mut station = Engine::station(t0, Config::default(), sc, MemoryQueue::new()).unwrap();
    let mut csms = Engine::<P>::csms(Config::default());

    // Boot: Pending, then accepted on the retry 10 s later.
    exchange(t0, &mut station, &mut csms);
    let (id, _) = take_call(&mut csms, "BootNotification");
    csms.respond(&id, Ok(resp::<P>("BootNotification", f.boot_pending)))
        .unwrap();
    exchange(t0, &mut station, &mut csms);
    assert_eq!(station.boot_state(), BootState::Pending);
    let t10 = t0 + Duration::from_secs(10);
    assert_eq!(station.poll_timeout(), Some(t10));
    station.handle_timeout(t10);
    exchange(t10, &mut station, &mut csms);
    let (id, _) = take_call(&mut csms, "BootNotification");
    csms.respond(&id, Ok(resp::<P>("BootNotification", f.boot_accepted)))
        .unwrap();
    exchange(t10, &mut station, &mut csms);
    assert_eq!(station.boot_state(), BootState::Accepted);
    assert_eq!(csms.boot_state(), BootState::Accepted);
    assert_eq!(station.heartbeat_interval(), Some(Duration::from_secs(60)));

    // A typed call: the CALLRESULT is decoded as the Heartbeat response.
    let h: H = ocpp_core::types::decode_payload("{}", &DecodeOptions::STRICT).unwrap();
    let hb = station.call(t10, h).unwrap();
    exchange(t10, &mut station, &mut csms);
    let (id, _) = take_call(&mut csms, "Heartbeat");
    csms.respond(
        &id,
        Ok(resp::<P>(
            "Heartbeat",
            &format!(r#"{{"currentTime":"{TIME}"}}"#),
        )),
    )
    .unwrap();
    exchange(t10, &mut station, &mut csms);
    let got = std::iter::from_fn(|| station.poll_event())
        .find_map(|e| match e {
            Event::Response {
                id,
                action,
                response,
                ..
            } if id == hb => Some((action, response)),
            _ => None,
        })
        .expect("heartbeat response");
    assert_eq!(got.0, action::<P>("Heartbeat"));
    assert_eq!(P::response_action(&got.1), action::<P>("Heartbeat"));

    // Offline: the transaction message waits in the queue and is replayed after the reconnect.
    station.handle_disconnect(t10);
    let tx = station.call_any(t10, req::<P>(f.tx_action, f.tx)).unwrap();
    assert_eq!(station.offline_queue().len(), 1);
    let t20 = t10 + Duration::from_secs(10);
    station.handle_connect(t20);
    let mut cfg = Config::default();
    cfg.boot_state = BootState::Accepted;
    let mut csms = Engine::<P>::csms(cfg);
    exchange(t20, &mut station, &mut csms);
    let (id, _) = take_call(&mut csms, f.tx_action);
    assert_eq!(id, tx.to_string());
    csms.respond(&id, Ok(resp::<P>(f.tx_action, f.tx_response)))
        .unwrap();
    exchange(t20, &mut station, &mut csms);
    assert!(station.offline_queue().is_empty());
    assert!(std::iter::from_fn(|| station.poll_event())
        .any(|e| matches!(e, Event::Response { id, .. } if id == tx)));

    // The CALLERROR codes of the table, spelled for the version.
    let v16 = P::VERSION == OcppVersion::V16;
    let cases = [
        (r#"[2,"e1","FlyToTheMoon",{}]"#.to_owned(), "NotImplemented"),
        (format!(r#"[2,"e2","Reset",{}]"#, f.reset), "NotSupported"),
        (
            format!(r#"[2,"e3","BootNotification",{}]"#, f.boot_unknown_member),
            if v16 {
                "FormationViolation"
            } else {
                "FormatViolation"
            },
        ),
        (
            r#"[2,"e4","BootNotification",{}]"#.to_owned(),
            if v16 {
                "OccurenceConstraintViolation"
            } else {
                "OccurrenceConstraintViolation"
            },
        ),
    ];
    for (frame, code) in cases {
        csms.handle_text(t20, &frame);
        let out = csms
            .poll_transmit()
            .unwrap_or_else(|| panic!("no answer to {frame}"));
        let id = &frame[4..6];
        assert!(
            out.starts_with(&format!(r#"[4,"{id}","{code}","#)),
            "{frame} -> {out}"
        );
    }
    // The station refuses a CSMS call it does not know, and answers one it does.
    station.handle_text(t20, &format!(r#"[2,"r1","Reset",{}]"#, f.reset));
    assert!(matches!(station.poll_event(), Some(Event::Call { .. })));
    let e = station
        .call_any(t20, req::<P>("Reset", f.reset))
        .unwrap_err();
    assert!(matches!(e, ocpp_core::RequestError::WrongDirection { .. }));
}

#[test]
fn ocpp16_session() {
    session::<ocpp16::Ocpp16, ocpp16::HeartbeatRequest>();
}

#[test]
fn ocpp201_session() {
    session::<ocpp201::Ocpp201, ocpp201::HeartbeatRequest>();
}

#[test]
fn ocpp21_session() {
    session::<ocpp21::Ocpp21, ocpp21::HeartbeatRequest>();
}
