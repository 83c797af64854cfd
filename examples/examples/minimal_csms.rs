//! A minimal CSMS: stations of OCPP 1.6, 2.0.1 and 2.1 on one port
//! (`ws://127.0.0.1:9000/ocpp/<stationId>`); boots accepted, heartbeats answered, status
//! notifications logged. `cargo run -p examples --example minimal_csms`; Ctrl-C stops it.
//! (The handlers are kept one signature per line on purpose, hence `rustfmt::skip`.)
use std::sync::Arc;

use ocpp_core::transport::{AllowAll, Server};
use ocpp_core::{async_trait, CallContext as Ctx, CallError};
use ocpp_types::DateTime;
type R<T> = Result<T, CallError>;

struct V16;
#[rustfmt::skip]
#[async_trait]
impl ocpp16::csms::CoreHandler for V16 {
    async fn boot_notification(&self, c: &Ctx<ocpp16::Ocpp16>, r: ocpp16::BootNotificationRequest) -> R<ocpp16::BootNotificationResponse> {
        println!("{} (1.6) booted: {} {}", c.station_id, r.charge_point_vendor, r.charge_point_model);
        Ok(ocpp16::BootNotificationResponse::new(ocpp16::RegistrationStatus::Accepted, DateTime::now(), 300))
    }
    async fn heartbeat(&self, _: &Ctx<ocpp16::Ocpp16>, _: ocpp16::HeartbeatRequest) -> R<ocpp16::HeartbeatResponse> {
        Ok(ocpp16::HeartbeatResponse::new(DateTime::now()))
    }
    async fn status_notification(&self, c: &Ctx<ocpp16::Ocpp16>, r: ocpp16::StatusNotificationRequest) -> R<ocpp16::StatusNotificationResponse> {
        println!("{} connector {}: {:?} ({:?})", c.station_id, r.connector_id, r.status, r.error_code);
        Ok(ocpp16::StatusNotificationResponse::new())
    }
}

/// 2.0.1 and 2.1 spell these messages the same: one macro writes the handlers of both.
#[rustfmt::skip]
macro_rules! v2x {
    ($h:ident, $m:ident, $p:ident) => {
        struct $h;
        #[async_trait]
        impl $m::csms::ProvisioningHandler for $h {
            async fn boot_notification(&self, c: &Ctx<$m::$p>, r: $m::BootNotificationRequest) -> R<$m::BootNotificationResponse> {
                let cs = &r.charging_station;
                println!("{} ({}) booted: {} {}", c.station_id, c.version(), cs.vendor_name, cs.model);
                Ok($m::BootNotificationResponse::new(DateTime::now(), 300, $m::RegistrationStatusEnumType::Accepted))
            }
        }
        #[async_trait]
        impl $m::csms::AvailabilityHandler for $h {
            async fn heartbeat(&self, _: &Ctx<$m::$p>, _: $m::HeartbeatRequest) -> R<$m::HeartbeatResponse> {
                Ok($m::HeartbeatResponse::new(DateTime::now()))
            }
            async fn status_notification(&self, c: &Ctx<$m::$p>, r: $m::StatusNotificationRequest) -> R<$m::StatusNotificationResponse> {
                println!("{} evse {} connector {}: {:?}", c.station_id, r.evse_id, r.connector_id, r.connector_status);
                Ok($m::StatusNotificationResponse::new())
            }
        }
    };
}
v2x!(V201, ocpp201, Ocpp201);
v2x!(V21, ocpp21, Ocpp21);

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let r201 = ocpp201::csms::Router::new()
        .provisioning(V201)
        .availability(V201);
    let r21 = ocpp21::csms::Router::new()
        .provisioning(V21)
        .availability(V21);
    let server = Server::builder()
        .path("/ocpp")
        .protocol::<ocpp16::Ocpp16>(Arc::new(ocpp16::csms::Router::new().core(V16)))
        .protocol::<ocpp201::Ocpp201>(Arc::new(r201))
        .protocol::<ocpp21::Ocpp21>(Arc::new(r21))
        .authenticator(AllowAll) // profile 0; use a StaticAuthenticator or your own in production
        .bind("127.0.0.1:9000")
        .await?;
    println!("listening on ws://{}/ocpp/<stationId>", server.local_addr());
    tokio::signal::ctrl_c().await?;
    server.shutdown().await; // drains the calls in flight
    Ok(())
}
