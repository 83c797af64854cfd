//! The OCPP 1.6 station: configuration keys from [`ConfigStore`], the rest from the hardware.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ocpp16::config_store::ConfigStore;
use ocpp16::station::{CoreHandler, RemoteTriggerHandler, Router, SmartChargingHandler};
use ocpp16::*;
use ocpp_core::transport::{ClientError, StationClient, StationClientBuilder};
use ocpp_core::{async_trait, CallContext, CallError, MemoryQueue, Peer};

use super::hw::{Hw, StopCause, Trigger};
use super::{msg, now, station_config, CallResult, Link, SimConfig, Status, Tx};

type Ctx = CallContext<Ocpp16>;
type R<T> = Result<T, CallError>;

/// Starts a 1.6 station.
pub(crate) fn start(
    b: StationClientBuilder,
    id: &str,
    cfg: &SimConfig,
    hw: Arc<Hw>,
) -> Result<(StationClient, Box<dyn Link>), ClientError> {
    let store = ConfigStore::standard();
    store.set_value(
        "MeterValueSampleInterval",
        cfg.interval.as_secs().max(1).to_string(),
    );
    store.set_value("SecurityProfile", cfg.security_profile.to_string());
    let router = Router::new()
        .core(store.with_core(Hardware(hw.clone())))
        .smart_charging(Hardware(hw.clone()))
        .remote_trigger(Hardware(hw.clone()));
    let boot: BootNotificationRequest = msg(&format!(
        r#"{{"chargePointVendor":"ocpp-rs","chargePointModel":"ocpp-sim","chargePointSerialNumber":"{id}","firmwareVersion":"{}"}}"#,
        env!("CARGO_PKG_VERSION")
    ));
    let client = b
        .version::<Ocpp16, _>(
            Arc::new(router),
            station_config(cfg, boot.into()),
            MemoryQueue::new(),
        )
        .start()?;
    let peer = client.peer::<Ocpp16>().expect("1.6 offered");
    let link = Link16 {
        peer,
        hw,
        store,
        fixed_interval: cfg.interval,
        next_local_tx: AtomicI64::new(1),
    };
    Ok((client, Box::new(link)))
}

struct Link16 {
    peer: Peer<Ocpp16>,
    hw: Arc<Hw>,
    store: ConfigStore,
    fixed_interval: Duration,
    next_local_tx: AtomicI64,
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Available => "Available",
        Status::Preparing => "Preparing",
        Status::Charging => "Charging",
        Status::Finishing => "Finishing",
        Status::Unavailable => "Unavailable",
    }
}

#[async_trait]
impl Link for Link16 {
    async fn status(&self, status: Status) -> CallResult<()> {
        let r: StatusNotificationRequest = msg(&format!(
            r#"{{"connectorId":1,"errorCode":"NoError","status":"{}","timestamp":"{}"}}"#,
            status_name(status),
            now()
        ));
        self.hw
            .stats
            .timed("StatusNotification", self.peer.call(r))
            .await
            .map(drop)
    }

    async fn heartbeat(&self) -> CallResult<()> {
        let r = self
            .hw
            .stats
            .timed("Heartbeat", self.peer.call(HeartbeatRequest::new()));
        r.await.map(drop)
    }

    async fn authorize(&self, tag: &str) -> CallResult<bool> {
        let r: AuthorizeRequest = msg(&format!(r#"{{"idTag":"{tag}"}}"#));
        let a = self.hw.stats.timed("Authorize", self.peer.call(r)).await?;
        Ok(a.id_tag_info.status == AuthorizationStatus::Accepted)
    }

    async fn start(&self, tx: &mut Tx) -> CallResult<bool> {
        let r: StartTransactionRequest = msg(&format!(
            r#"{{"connectorId":1,"idTag":"{}","meterStart":{},"timestamp":"{}"}}"#,
            tx.tag,
            tx.meter_wh,
            now()
        ));
        let a = self
            .hw
            .stats
            .timed("StartTransaction", self.peer.call(r))
            .await?;
        tx.id = a.transaction_id.to_string();
        let _ = self.next_local_tx.fetch_add(1, Ordering::Relaxed);
        // A transaction the CSMS refused still runs in 1.6 until stopped; the simulator stops
        // it at once (StopTransactionOnInvalidId).
        Ok(a.id_tag_info.status == AuthorizationStatus::Accepted)
    }

    async fn meter(&self, tx: &Tx) -> CallResult<()> {
        let r: MeterValuesRequest = msg(&format!(
            r#"{{"connectorId":1,"transactionId":{},"meterValue":[{{"timestamp":"{}","sampledValue":[{{"value":"{}","measurand":"Energy.Active.Import.Register","unit":"Wh","context":"Sample.Periodic"}},{{"value":"{:.0}","measurand":"Power.Active.Import","unit":"W","context":"Sample.Periodic"}}]}}]}}"#,
            tx.id,
            now(),
            tx.meter_wh,
            tx.power_w
        ));
        self.hw
            .stats
            .timed("MeterValues", self.peer.call(r))
            .await
            .map(drop)
    }

    async fn stop(&self, tx: &Tx, cause: StopCause) -> CallResult<()> {
        let reason = match cause {
            StopCause::Local => "Local",
            StopCause::Remote => "Remote",
            StopCause::Reset => "SoftReset",
            StopCause::Unlock => "UnlockCommand",
        };
        let r: StopTransactionRequest = msg(&format!(
            r#"{{"idTag":"{}","meterStop":{},"timestamp":"{}","transactionId":{},"reason":"{reason}"}}"#,
            tx.tag,
            tx.meter_wh,
            now(),
            tx.id
        ));
        self.hw
            .stats
            .timed("StopTransaction", self.peer.call(r))
            .await
            .map(drop)
    }

    fn meter_interval(&self) -> Option<Duration> {
        match self.store.get_i64("MeterValueSampleInterval") {
            Some(s) if s > 0 && s as u64 != self.fixed_interval.as_secs().max(1) => {
                Some(Duration::from_secs(s as u64))
            }
            _ => None,
        }
    }
}

/// The simulated hardware behind the 1.6 handlers.
struct Hardware(Arc<Hw>);

fn ok<T: ocpp_types::Decode>(status: &str) -> R<T> {
    Ok(msg(&format!(r#"{{"status":"{status}"}}"#)))
}

#[async_trait]
impl CoreHandler for Hardware {
    async fn remote_start_transaction(
        &self,
        _: &Ctx,
        r: RemoteStartTransactionRequest,
    ) -> R<RemoteStartTransactionResponse> {
        self.0.stats.received("RemoteStartTransaction");
        let accepted = self.0.update(|s| {
            let free = s.available && s.transaction.is_none() && s.remote_start.is_none();
            if free {
                s.remote_start = Some((r.id_tag.to_string(), None));
            }
            free
        });
        if let Some(p) = &r.charging_profile {
            if let Ok(p) = ocpp16::smart_charging::profile(p) {
                self.0.apply_profile(&p);
            }
        }
        ok(if accepted { "Accepted" } else { "Rejected" })
    }

    async fn remote_stop_transaction(
        &self,
        _: &Ctx,
        r: RemoteStopTransactionRequest,
    ) -> R<RemoteStopTransactionResponse> {
        self.0.stats.received("RemoteStopTransaction");
        let id = r.transaction_id.to_string();
        let found = self.0.update(|s| {
            let found = s.transaction.as_deref() == Some(id.as_str());
            if found {
                s.stop = Some(StopCause::Remote);
            }
            found
        });
        ok(if found { "Accepted" } else { "Rejected" })
    }

    async fn reset(&self, _: &Ctx, _: ResetRequest) -> R<ResetResponse> {
        self.0.stats.received("Reset");
        self.0.update(|s| {
            if s.transaction.is_some() {
                s.stop = Some(StopCause::Reset);
            }
        });
        ok("Accepted")
    }

    async fn unlock_connector(
        &self,
        _: &Ctx,
        _: UnlockConnectorRequest,
    ) -> R<UnlockConnectorResponse> {
        self.0.stats.received("UnlockConnector");
        self.0.update(|s| {
            if s.transaction.is_some() {
                s.stop = Some(StopCause::Unlock);
            }
        });
        ok("Unlocked")
    }

    async fn change_availability(
        &self,
        _: &Ctx,
        r: ChangeAvailabilityRequest,
    ) -> R<ChangeAvailabilityResponse> {
        self.0.stats.received("ChangeAvailability");
        let operative = r.type_ == AvailabilityType::Operative;
        let busy = self.0.update(|s| {
            s.available = operative;
            s.transaction.is_some()
        });
        if !busy {
            self.0.update(|s| s.triggers.push(Trigger::Status));
        }
        ok(if busy && !operative {
            "Scheduled"
        } else {
            "Accepted"
        })
    }

    async fn clear_cache(&self, _: &Ctx, _: ClearCacheRequest) -> R<ClearCacheResponse> {
        self.0.stats.received("ClearCache");
        ok("Accepted")
    }
}

#[async_trait]
impl SmartChargingHandler for Hardware {
    async fn set_charging_profile(
        &self,
        _: &Ctx,
        r: SetChargingProfileRequest,
    ) -> R<SetChargingProfileResponse> {
        self.0.stats.received("SetChargingProfile");
        match ocpp16::smart_charging::installed_profile(&r) {
            Ok(p) => {
                self.0.apply_profile(&p.profile);
                ok("Accepted")
            }
            Err(_) => ok("Rejected"),
        }
    }

    async fn clear_charging_profile(
        &self,
        _: &Ctx,
        _: ClearChargingProfileRequest,
    ) -> R<ClearChargingProfileResponse> {
        self.0.stats.received("ClearChargingProfile");
        self.0.update(|s| s.limit_w = None);
        ok("Accepted")
    }
}

#[async_trait]
impl RemoteTriggerHandler for Hardware {
    async fn trigger_message(
        &self,
        _: &Ctx,
        r: TriggerMessageRequest,
    ) -> R<TriggerMessageResponse> {
        self.0.stats.received("TriggerMessage");
        let t = match r.requested_message.as_str() {
            "Heartbeat" => Trigger::Heartbeat,
            "StatusNotification" => Trigger::Status,
            "MeterValues" => Trigger::MeterValues,
            _ => return ok("NotImplemented"),
        };
        self.0.update(|s| s.triggers.push(t));
        ok("Accepted")
    }
}
