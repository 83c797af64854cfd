//! The OCPP 2.0.1 and 2.1 stations (one macro, two versions): variables from the version's
//! `DeviceModel`, the rest from the hardware.

use std::sync::Arc;

use ocpp_core::transport::{ClientError, StationClient, StationClientBuilder};
use ocpp_core::{async_trait, CallContext, CallError, MemoryQueue, Peer};

use super::hw::{Hw, StopCause, Trigger};
use super::{msg, now, station_config, CallResult, Link, SimConfig, Status, Tx};

fn ok<T: ocpp_types::Decode>(status: &str) -> Result<T, CallError> {
    Ok(msg(&format!(r#"{{"status":"{status}"}}"#)))
}

fn connector_status(s: Status) -> &'static str {
    match s {
        Status::Available => "Available",
        Status::Unavailable => "Unavailable",
        _ => "Occupied",
    }
}

fn stopped_reason(c: StopCause) -> (&'static str, &'static str) {
    match c {
        StopCause::Local => ("StopAuthorized", "Local"),
        StopCause::Remote => ("RemoteStop", "Remote"),
        StopCause::Reset => ("ResetCommand", "SoftReset"),
        StopCause::Unlock => ("UnlockCommand", "UnlockCommand"),
    }
}

/// The same type in `ocpp21::device_model`.
fn spawner() -> ::ocpp201::device_model::Spawner {
    Arc::new(|task| {
        tokio::spawn(async move {
            // Let the GetBaseReport answer go out before the first NotifyReport.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            task.await
        });
    })
}

macro_rules! v2x {
    ($start:ident, $m:ident, $p:ident) => {
        mod $m {
            use super::*;
            use ::$m::device_model::{DeviceModel, VariableKey};
            use ::$m::station::{AvailabilityHandler, RemoteControlHandler, Router, SmartChargingHandler, TransactionsHandler, ProvisioningHandler};
            use ::$m::*;
            use std::sync::atomic::{AtomicI64, Ordering};
            use std::time::Duration;

            type Ctx = CallContext<$p>;
            type R<T> = Result<T, CallError>;

            pub(crate) fn start(
                b: StationClientBuilder,
                id: &str,
                cfg: &SimConfig,
                hw: Arc<Hw>,
            ) -> Result<(StationClient, Box<dyn Link>), ClientError> {
                let model = DeviceModel::standard();
                let interval = VariableKey::new("SampledDataCtrlr", "TxUpdatedInterval");
                model.set_value(&interval, cfg.interval.as_secs().max(1).to_string());
                model.set_value(&VariableKey::new("SecurityCtrlr", "SecurityProfile"), cfg.security_profile.to_string());
                model.set_value(&VariableKey::new("ChargingStation", "Model"), "ocpp-sim");
                let router = Router::new()
                    .provisioning(model.with_provisioning(Hardware(hw.clone()), spawner()))
                    .remote_control(Hardware(hw.clone()))
                    .availability(Hardware(hw.clone()))
                    .smart_charging(Hardware(hw.clone()))
                    .transactions(Hardware(hw.clone()));
                let boot: BootNotificationRequest = msg(&format!(
                    r#"{{"chargingStation":{{"model":"ocpp-sim","vendorName":"ocpp-rs","serialNumber":"{id}","firmwareVersion":"{}"}},"reason":"PowerUp"}}"#,
                    env!("CARGO_PKG_VERSION")
                ));
                let client = b
                    .version::<$p, _>(Arc::new(router), super::station_config(cfg, boot.into()), MemoryQueue::new())
                    .start()?;
                let peer = client.peer::<$p>().expect("offered");
                let link = Link2x { peer, hw, model, interval, fixed: cfg.interval, seq: AtomicI64::new(0) };
                Ok((client, Box::new(link)))
            }

            struct Link2x {
                peer: Peer<$p>,
                hw: Arc<Hw>,
                model: DeviceModel,
                interval: VariableKey,
                fixed: Duration,
                seq: AtomicI64,
            }

            impl Link2x {
                async fn event(&self, kind: &str, trigger: &str, tx: &Tx, extra: &str, info: &str) -> CallResult<TransactionEventResponse> {
                    let seq = self.seq.fetch_add(1, Ordering::Relaxed);
                    let r: TransactionEventRequest = msg(&format!(
                        r#"{{"eventType":"{kind}","timestamp":"{}","triggerReason":"{trigger}","seqNo":{seq},"evse":{{"id":1,"connectorId":1}}{extra},"transactionInfo":{{"transactionId":"{}","chargingState":"{}"{info}}}}}"#,
                        now(),
                        tx.id,
                        if kind == "Started" { "EVConnected" } else { "Charging" },
                    ));
                    self.hw.stats.timed("TransactionEvent", self.peer.call(r)).await
                }

                fn meter_json(tx: &Tx, context: &str) -> String {
                    format!(
                        r#","meterValue":[{{"timestamp":"{}","sampledValue":[{{"value":{},"measurand":"Energy.Active.Import.Register","context":"{context}","unitOfMeasure":{{"unit":"Wh"}}}},{{"value":{:.0},"measurand":"Power.Active.Import","context":"{context}","unitOfMeasure":{{"unit":"W"}}}}]}}]"#,
                        now(),
                        tx.meter_wh,
                        tx.power_w
                    )
                }
            }

            #[async_trait]
            impl Link for Link2x {
                async fn status(&self, status: super::Status) -> CallResult<()> {
                    let r: StatusNotificationRequest = msg(&format!(
                        r#"{{"timestamp":"{}","connectorStatus":"{}","evseId":1,"connectorId":1}}"#,
                        now(),
                        connector_status(status)
                    ));
                    self.hw.stats.timed("StatusNotification", self.peer.call(r)).await.map(drop)
                }

                async fn heartbeat(&self) -> CallResult<()> {
                    self.hw.stats.timed("Heartbeat", self.peer.call(HeartbeatRequest::new())).await.map(drop)
                }

                async fn authorize(&self, tag: &str) -> CallResult<bool> {
                    let r: AuthorizeRequest = msg(&format!(r#"{{"idToken":{{"idToken":"{tag}","type":"ISO14443"}}}}"#));
                    let a = self.hw.stats.timed("Authorize", self.peer.call(r)).await?;
                    Ok(a.id_token_info.status == AuthorizationStatusEnumType::Accepted)
                }

                async fn start(&self, tx: &mut Tx) -> CallResult<bool> {
                    let token = format!(r#","idToken":{{"idToken":"{}","type":"ISO14443"}}"#, tx.tag);
                    let (trigger, info) = match tx.remote_id {
                        Some(id) => ("RemoteStart", format!(r#","remoteStartId":{id}"#)),
                        None => ("Authorized", String::new()),
                    };
                    let a = self.event("Started", trigger, tx, &token, &info).await?;
                    Ok(a.id_token_info.is_none_or(|i| i.status == AuthorizationStatusEnumType::Accepted))
                }

                async fn meter(&self, tx: &Tx) -> CallResult<()> {
                    self.event("Updated", "MeterValuePeriodic", tx, &Self::meter_json(tx, "Sample.Periodic"), "").await.map(drop)
                }

                async fn stop(&self, tx: &Tx, cause: StopCause) -> CallResult<()> {
                    let (trigger, reason) = stopped_reason(cause);
                    let seq = self.seq.fetch_add(1, Ordering::Relaxed);
                    let r: TransactionEventRequest = msg(&format!(
                        r#"{{"eventType":"Ended","timestamp":"{}","triggerReason":"{trigger}","seqNo":{seq},"evse":{{"id":1,"connectorId":1}}{},"transactionInfo":{{"transactionId":"{}","stoppedReason":"{reason}"}}}}"#,
                        now(),
                        Self::meter_json(tx, "Transaction.End"),
                        tx.id,
                    ));
                    self.hw.stats.timed("TransactionEvent", self.peer.call(r)).await.map(drop)
                }

                fn meter_interval(&self) -> Option<Duration> {
                    match self.model.get_i64(&self.interval) {
                        Some(s) if s > 0 && s as u64 != self.fixed.as_secs().max(1) => Some(Duration::from_secs(s as u64)),
                        _ => None,
                    }
                }
            }

            struct Hardware(Arc<Hw>);

            #[async_trait]
            impl ProvisioningHandler for Hardware {
                async fn reset(&self, _: &Ctx, _: ResetRequest) -> R<ResetResponse> {
                    self.0.stats.received("Reset");
                    self.0.update(|s| if s.transaction.is_some() { s.stop = Some(StopCause::Reset) });
                    ok("Accepted")
                }
            }

            #[async_trait]
            impl RemoteControlHandler for Hardware {
                async fn request_start_transaction(&self, _: &Ctx, r: RequestStartTransactionRequest) -> R<RequestStartTransactionResponse> {
                    self.0.stats.received("RequestStartTransaction");
                    let accepted = self.0.update(|s| {
                        let free = s.available && s.transaction.is_none() && s.remote_start.is_none();
                        if free {
                            s.remote_start = Some((r.id_token.id_token.to_string(), Some(r.remote_start_id)));
                        }
                        free
                    });
                    if let Some(p) = r.charging_profile.as_ref().and_then(|p| ::$m::smart_charging::profile(p).ok()) {
                        self.0.apply_profile(&p);
                    }
                    ok(if accepted { "Accepted" } else { "Rejected" })
                }

                async fn request_stop_transaction(&self, _: &Ctx, r: RequestStopTransactionRequest) -> R<RequestStopTransactionResponse> {
                    self.0.stats.received("RequestStopTransaction");
                    let found = self.0.update(|s| {
                        let found = s.transaction.as_deref() == Some(r.transaction_id.as_str());
                        if found {
                            s.stop = Some(StopCause::Remote);
                        }
                        found
                    });
                    ok(if found { "Accepted" } else { "Rejected" })
                }

                async fn trigger_message(&self, _: &Ctx, r: TriggerMessageRequest) -> R<TriggerMessageResponse> {
                    self.0.stats.received("TriggerMessage");
                    let t = match r.requested_message.as_str() {
                        "Heartbeat" => Trigger::Heartbeat,
                        "StatusNotification" => Trigger::Status,
                        "MeterValues" | "TransactionEvent" => Trigger::MeterValues,
                        _ => return ok("NotImplemented"),
                    };
                    self.0.update(|s| s.triggers.push(t));
                    ok("Accepted")
                }

                async fn unlock_connector(&self, _: &Ctx, _: UnlockConnectorRequest) -> R<UnlockConnectorResponse> {
                    self.0.stats.received("UnlockConnector");
                    self.0.update(|s| if s.transaction.is_some() { s.stop = Some(StopCause::Unlock) });
                    ok("Unlocked")
                }
            }

            #[async_trait]
            impl AvailabilityHandler for Hardware {
                async fn change_availability(&self, _: &Ctx, r: ChangeAvailabilityRequest) -> R<ChangeAvailabilityResponse> {
                    self.0.stats.received("ChangeAvailability");
                    let operative = r.operational_status.as_str() == "Operative";
                    let busy = self.0.update(|s| {
                        s.available = operative;
                        s.transaction.is_some()
                    });
                    if !busy {
                        self.0.update(|s| s.triggers.push(Trigger::Status));
                    }
                    ok(if busy && !operative { "Scheduled" } else { "Accepted" })
                }
            }

            #[async_trait]
            impl SmartChargingHandler for Hardware {
                async fn set_charging_profile(&self, _: &Ctx, r: SetChargingProfileRequest) -> R<SetChargingProfileResponse> {
                    self.0.stats.received("SetChargingProfile");
                    match ::$m::smart_charging::installed_profile(&r) {
                        Ok(p) => {
                            self.0.apply_profile(&p.profile);
                            ok("Accepted")
                        }
                        Err(_) => ok("Rejected"),
                    }
                }

                async fn clear_charging_profile(&self, _: &Ctx, _: ClearChargingProfileRequest) -> R<ClearChargingProfileResponse> {
                    self.0.stats.received("ClearChargingProfile");
                    self.0.update(|s| s.limit_w = None);
                    ok("Accepted")
                }
            }

            #[async_trait]
            impl TransactionsHandler for Hardware {
                async fn get_transaction_status(&self, _: &Ctx, _: GetTransactionStatusRequest) -> R<GetTransactionStatusResponse> {
                    self.0.stats.received("GetTransactionStatus");
                    let ongoing = self.0.state().transaction.is_some();
                    Ok(msg(&format!(r#"{{"ongoingIndicator":{ongoing},"messagesInQueue":false}}"#)))
                }
            }
        }
        pub(crate) use $m::start as $start;
    };
}

v2x!(start201, ocpp201, Ocpp201);
v2x!(start21, ocpp21, Ocpp21);
