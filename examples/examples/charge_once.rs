//! A station that charges once against any CSMS: boots, plugs in, authorizes, starts a
//! transaction, sends meter values every 2 s for 10 s, stops, unplugs and disconnects.
//!
//! ```text
//! cargo run -p examples --example charge_once -- ws://127.0.0.1:9000/ocpp CS-0001 2.0.1 [password]
//! ```
//! The version is 1.6, 2.0.1 or 2.1; with a password the station uses security profile 1.
//! It is one simulated station of `ocpp-sim` (see `examples/src/sim`), whose handlers answer
//! the CSMS's configuration, remote start/stop, reset and charging-profile calls meanwhile.
use std::sync::Arc;
use std::time::Duration;

use examples::sim::{run, Scenario, SimConfig, Stats};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, id, version, rest @ ..] = args.as_slice() else {
        eprintln!("usage: charge_once <csms url> <station id> <1.6|2.0.1|2.1> [password]");
        std::process::exit(2);
    };
    let cfg = SimConfig {
        url: url.clone(),
        stations: 1,
        versions: vec![version.parse().expect("version: 1.6, 2.0.1 or 2.1")],
        scenario: Scenario::Charging,
        interval: Duration::from_secs(2),
        session: Duration::from_secs(10),
        pause: Duration::ZERO,
        duration: Duration::from_secs(11),
        single_id: Some(id.clone()),
        security_profile: u8::from(!rest.is_empty()),
        password: rest.first().cloned(),
        ..SimConfig::default()
    };
    let summary = run(cfg, Arc::new(Stats::default())).await;
    println!("{summary}");
    let ok = summary.connected == 1 && summary.tx_ended == 1 && summary.errors_total() == 0;
    std::process::exit(if ok { 0 } else { 1 });
}
