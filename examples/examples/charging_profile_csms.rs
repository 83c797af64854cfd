//! A CSMS that sets a charging profile when a transaction starts: 16 A per phase as a
//! `TxProfile`, sent from the StartTransaction (1.6) or TransactionEvent Started (2.x) handler
//! through the context's peer, after the answer. Stations of OCPP 1.6, 2.0.1 and 2.1 on one port
//! (`ws://127.0.0.1:9000/ocpp/<stationId>`); every message a charging station sends in a
//! session is answered (the handlers are in `examples/src/csms.rs`, `ocpp-sim` uses the same).
//!
//! `cargo run -p examples --example charging_profile_csms [-- <addr>]`; Ctrl-C stops it and
//! prints what it received.
use std::sync::atomic::Ordering;
use std::sync::Arc;

use examples::csms::{server, Received};
use ocpp_core::transport::AllowAll;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9000".into());
    let received = Arc::new(Received::default());
    received.set_profile_on_start.store(true, Ordering::Relaxed);
    let csms = server(received.clone())
        .authenticator(AllowAll)
        .bind(&addr)
        .await?;
    println!("listening on ws://{}/ocpp/<stationId>", csms.local_addr());
    tokio::signal::ctrl_c().await?;
    csms.shutdown().await;
    println!("received: {:?}", received.actions.lock().unwrap());
    println!(
        "transactions started {}, ended {}, charging profiles accepted {}",
        received.started.lock().unwrap().len(),
        received.ended.lock().unwrap().len(),
        received.profiles_accepted.load(Ordering::Relaxed)
    );
    Ok(())
}
