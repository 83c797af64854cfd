//! A small CSMS for the simulator's tests and examples: accepts every boot, authorizes every
//! token, numbers 1.6 transactions, answers every message a simulated station sends, counts
//! what it received, and (optionally) sets a charging profile on every transaction that starts.
//!
//! It keeps no state beyond counters: a station that reconnects is taken as booted
//! ([`KnownStations`]), as a real CSMS that remembers its stations does.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use ocpp_core::transport::{ConnectionInfo, ConnectionObserver, ServerBuilder};
use ocpp_core::{async_trait, BootState, CallContext, CallError};
use ocpp_types::{decode_payload, Decode, DecodeOptions, OcppVersion};

fn msg<T: Decode>(json: &str) -> T {
    decode_payload(json, &DecodeOptions::STRICT).expect("valid CSMS message")
}

fn now() -> String {
    ocpp_types::DateTime::now().to_string()
}

/// What the CSMS received.
#[derive(Debug, Default)]
pub struct Received {
    /// Messages per action.
    pub actions: Mutex<BTreeMap<String, u64>>,
    /// Transactions that started (`<station>/<id>`).
    pub started: Mutex<BTreeSet<String>>,
    /// Transactions that ended (`<station>/<id>`).
    pub ended: Mutex<BTreeSet<String>>,
    /// Charging profiles the stations accepted.
    pub profiles_accepted: AtomicI64,
    next_tx: AtomicI64,
    /// Send a SetChargingProfile (16 A) when a transaction starts.
    pub set_profile_on_start: AtomicBool,
}

impl Received {
    fn count(&self, action: &str) {
        *self
            .actions
            .lock()
            .unwrap()
            .entry(action.to_owned())
            .or_default() += 1;
    }

    /// Messages received of one action.
    pub fn of(&self, action: &str) -> u64 {
        self.actions
            .lock()
            .unwrap()
            .get(action)
            .copied()
            .unwrap_or(0)
    }
}

/// Takes every station that reconnects as already booted.
#[derive(Debug)]
pub struct KnownStations;

#[async_trait]
impl ConnectionObserver for KnownStations {
    async fn boot_state(&self, _: &ConnectionInfo) -> Option<BootState> {
        Some(BootState::Accepted)
    }
}

/// A server builder with the three versions routed to a CSMS that records into `rx`
/// (add `.authenticator(..)` and bind it).
pub fn server(rx: Arc<Received>) -> ServerBuilder {
    ocpp_core::transport::Server::builder()
        .path("/ocpp")
        .protocol::<ocpp16::Ocpp16>(Arc::new(ocpp16::csms::Router::new().core(Csms(rx.clone()))))
        .protocol::<ocpp201::Ocpp201>(Arc::new(v201::router(rx.clone())))
        .protocol::<ocpp21::Ocpp21>(Arc::new(v21::router(rx)))
        .observer(KnownStations)
}

#[derive(Debug, Clone)]
struct Csms(Arc<Received>);

type R<T> = Result<T, CallError>;

const PROFILE_16: &str = r#"{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxProfile","chargingProfileKind":"Relative","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16}]}"#;
const PROFILE_2X: &str = r#"{"id":1,"stackLevel":0,"chargingProfilePurpose":"TxProfile","chargingProfileKind":"Relative","chargingSchedule":[{"id":1,"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16}]}]"#;

#[rustfmt::skip]
#[async_trait]
impl ocpp16::csms::CoreHandler for Csms {
    async fn boot_notification(&self, _: &CallContext<ocpp16::Ocpp16>, _: ocpp16::BootNotificationRequest) -> R<ocpp16::BootNotificationResponse> {
        self.0.count("BootNotification");
        Ok(msg(&format!(r#"{{"status":"Accepted","currentTime":"{}","interval":300}}"#, now())))
    }
    async fn heartbeat(&self, _: &CallContext<ocpp16::Ocpp16>, _: ocpp16::HeartbeatRequest) -> R<ocpp16::HeartbeatResponse> {
        self.0.count("Heartbeat");
        Ok(ocpp16::HeartbeatResponse::new(ocpp_types::DateTime::now()))
    }
    async fn status_notification(&self, _: &CallContext<ocpp16::Ocpp16>, _: ocpp16::StatusNotificationRequest) -> R<ocpp16::StatusNotificationResponse> {
        self.0.count("StatusNotification");
        Ok(ocpp16::StatusNotificationResponse::new())
    }
    async fn authorize(&self, _: &CallContext<ocpp16::Ocpp16>, _: ocpp16::AuthorizeRequest) -> R<ocpp16::AuthorizeResponse> {
        self.0.count("Authorize");
        Ok(msg(r#"{"idTagInfo":{"status":"Accepted"}}"#))
    }
    async fn start_transaction(&self, c: &CallContext<ocpp16::Ocpp16>, _: ocpp16::StartTransactionRequest) -> R<ocpp16::StartTransactionResponse> {
        self.0.count("StartTransaction");
        let id = self.0.next_tx.fetch_add(1, Ordering::Relaxed) + 1;
        self.0.started.lock().unwrap().insert(format!("{}/{id}", c.station_id));
        if self.0.set_profile_on_start.load(Ordering::Relaxed) {
            let (peer, rx) = (c.peer.clone(), self.0.clone());
            let req: ocpp16::SetChargingProfileRequest = msg(&format!(r#"{{"connectorId":1,"csChargingProfiles":{},"transactionId":{id}}}}}"#, PROFILE_16));
            tokio::spawn(async move {
                if let Ok(r) = peer.call(req).await {
                    if r.status == ocpp16::ChargingProfileStatus::Accepted { rx.profiles_accepted.fetch_add(1, Ordering::Relaxed); }
                }
            });
        }
        Ok(msg(&format!(r#"{{"idTagInfo":{{"status":"Accepted"}},"transactionId":{id}}}"#)))
    }
    async fn meter_values(&self, _: &CallContext<ocpp16::Ocpp16>, _: ocpp16::MeterValuesRequest) -> R<ocpp16::MeterValuesResponse> {
        self.0.count("MeterValues");
        Ok(ocpp16::MeterValuesResponse::new())
    }
    async fn stop_transaction(&self, c: &CallContext<ocpp16::Ocpp16>, r: ocpp16::StopTransactionRequest) -> R<ocpp16::StopTransactionResponse> {
        self.0.count("StopTransaction");
        self.0.ended.lock().unwrap().insert(format!("{}/{}", c.station_id, r.transaction_id));
        Ok(ocpp16::StopTransactionResponse::new())
    }
    async fn data_transfer(&self, _: &CallContext<ocpp16::Ocpp16>, _: ocpp16::DataTransferRequest) -> R<ocpp16::DataTransferResponse> {
        self.0.count("DataTransfer");
        Ok(msg(r#"{"status":"Accepted"}"#))
    }
}

macro_rules! csms2x {
    ($modname:ident, $m:ident, $p:ident) => {
        /// The CSMS of this version.
        pub mod $modname {
            use super::*;
            use ::$m::csms::*;
            use ::$m::*;
            type Ctx = CallContext<$p>;

            /// The router.
            pub fn router(rx: Arc<Received>) -> Router {
                let c = Csms(rx);
                Router::new().provisioning(c.clone()).availability(c.clone()).authorization(c.clone())
                    .transactions(c.clone()).meter_values(c)
            }

            #[rustfmt::skip]
            #[async_trait]
            impl ProvisioningHandler for Csms {
                async fn boot_notification(&self, _: &Ctx, _: BootNotificationRequest) -> R<BootNotificationResponse> {
                    self.0.count("BootNotification");
                    Ok(msg(&format!(r#"{{"status":"Accepted","currentTime":"{}","interval":300}}"#, now())))
                }
                async fn notify_report(&self, _: &Ctx, _: NotifyReportRequest) -> R<NotifyReportResponse> {
                    self.0.count("NotifyReport");
                    Ok(NotifyReportResponse::new())
                }
            }
            #[rustfmt::skip]
            #[async_trait]
            impl AvailabilityHandler for Csms {
                async fn heartbeat(&self, _: &Ctx, _: HeartbeatRequest) -> R<HeartbeatResponse> {
                    self.0.count("Heartbeat");
                    Ok(HeartbeatResponse::new(ocpp_types::DateTime::now()))
                }
                async fn status_notification(&self, _: &Ctx, _: StatusNotificationRequest) -> R<StatusNotificationResponse> {
                    self.0.count("StatusNotification");
                    Ok(StatusNotificationResponse::new())
                }
            }
            #[rustfmt::skip]
            #[async_trait]
            impl AuthorizationHandler for Csms {
                async fn authorize(&self, _: &Ctx, _: AuthorizeRequest) -> R<AuthorizeResponse> {
                    self.0.count("Authorize");
                    Ok(msg(r#"{"idTokenInfo":{"status":"Accepted"}}"#))
                }
            }
            #[rustfmt::skip]
            #[async_trait]
            impl MeterValuesHandler for Csms {
                async fn meter_values(&self, _: &Ctx, _: MeterValuesRequest) -> R<MeterValuesResponse> {
                    self.0.count("MeterValues");
                    Ok(MeterValuesResponse::new())
                }
            }
            #[rustfmt::skip]
            #[async_trait]
            impl TransactionsHandler for Csms {
                async fn transaction_event(&self, c: &Ctx, r: TransactionEventRequest) -> R<TransactionEventResponse> {
                    self.0.count("TransactionEvent");
                    let key = format!("{}/{}", c.station_id, r.transaction_info.transaction_id);
                    match r.event_type {
                        TransactionEventEnumType::Started => {
                            self.0.started.lock().unwrap().insert(key);
                            if self.0.set_profile_on_start.load(Ordering::Relaxed) {
                                let (peer, rx) = (c.peer.clone(), self.0.clone());
                                let req: SetChargingProfileRequest = msg(&format!(r#"{{"evseId":1,"chargingProfile":{},"transactionId":"{}"}}}}"#, PROFILE_2X, r.transaction_info.transaction_id));
                                tokio::spawn(async move {
                                    if let Ok(r) = peer.call(req).await {
                                        if r.status == ChargingProfileStatusEnumType::Accepted { rx.profiles_accepted.fetch_add(1, Ordering::Relaxed); }
                                    }
                                });
                            }
                        }
                        TransactionEventEnumType::Ended => { self.0.ended.lock().unwrap().insert(key); }
                        _ => {}
                    }
                    Ok(msg(r#"{"idTokenInfo":{"status":"Accepted"}}"#))
                }
            }
        }
    };
}
csms2x!(v201, ocpp201, Ocpp201);
csms2x!(v21, ocpp21, Ocpp21);

/// The subprotocol version names accepted on the command line.
pub fn version_label(v: OcppVersion) -> &'static str {
    match v {
        OcppVersion::V16 => "1.6",
        OcppVersion::V201 => "2.0.1",
        OcppVersion::V21 => "2.1",
    }
}
