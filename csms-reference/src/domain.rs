//! The version-neutral domain services of the CSMS, and the thin per-version adapters that map
//! each station-initiated message onto them.
//!
//! The OCPP layer ([`crate::ocpp`]) hands every decoded and validated CALL to
//! [`Csms::handle_call`] as its action name and JSON payload. The adapters below read the
//! version's spelling of each message (1.6 `idTag`, 2.x `idToken.idToken`, ...) into the
//! neutral records of [`crate::store`], the domain logic (registration, authorization,
//! transactions, meter values, device model, reports) runs once for every version, and the
//! answer is written back in the version's spelling. The OCPP layer decodes that answer against
//! the response schema before it is sent, so a wrong answer can never reach a station.
//!
//! Every state change is committed before `handle_call` returns, and so before the station
//! gets its answer.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use async_trait::async_trait;
use ocpp_core::CallError;
use ocpp_types::{ErrorCode, OcppVersion};
use serde_json::{json, Map, Value};

use crate::metrics::Metrics;
use crate::store::*;

/// The current time as the CSMS writes it (RFC 3339, UTC, milliseconds).
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// What to do with a station that is not in the database yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownStations {
    /// Accept and record it (the default).
    Accept,
    /// Record it and answer its boots `Pending` until an operator accepts it.
    Pending,
    /// Refuse the connection (HTTP 401 before the WebSocket upgrade).
    Reject,
}

impl std::str::FromStr for UnknownStations {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "accept" => Ok(UnknownStations::Accept),
            "pending" => Ok(UnknownStations::Pending),
            "reject" => Ok(UnknownStations::Reject),
            _ => Err(format!("{s:?} is not one of accept, pending, reject")),
        }
    }
}

/// The domain settings.
#[derive(Debug, Clone)]
pub struct DomainSettings {
    /// Unknown stations policy.
    pub unknown_stations: UnknownStations,
    /// Whether a token that is not in the id-token table is accepted (default true, so a new
    /// installation charges with any card; set false to authorize against the table only).
    pub accept_unknown_tokens: bool,
    /// The heartbeat interval given to accepted stations, seconds.
    pub heartbeat_interval: i64,
    /// The retry interval given with a Pending or Rejected boot, seconds.
    pub pending_interval: i64,
}

impl Default for DomainSettings {
    fn default() -> Self {
        DomainSettings {
            unknown_stations: UnknownStations::Accept,
            accept_unknown_tokens: true,
            heartbeat_interval: 300,
            pending_interval: 30,
        }
    }
}

/// The answer of a [`DataTransferHandler`].
#[derive(Debug, Clone, PartialEq)]
pub struct DataTransferAnswer {
    /// `Accepted`, `Rejected`, `UnknownMessageId` or `UnknownVendorId`.
    pub status: String,
    /// The data to send back (a string in 1.6; any JSON in 2.x).
    pub data: Option<Value>,
}

/// Handles the DataTransfer messages of one vendor id.
#[async_trait]
pub trait DataTransferHandler: Send + Sync + 'static {
    /// A station sent a DataTransfer with this handler's vendor id.
    async fn data_transfer(
        &self,
        station_id: &str,
        version: OcppVersion,
        message_id: Option<&str>,
        data: Option<&Value>,
    ) -> DataTransferAnswer;
}

/// A transaction that started or ended, told to the [`TransactionListener`]s after it was
/// committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionChange {
    /// The station.
    pub station_id: String,
    /// The station's version.
    pub version: OcppVersion,
    /// The transaction id (the 1.6 integer as text).
    pub transaction_id: String,
    /// The EVSE (1.6: connector), when known.
    pub evse_id: Option<i64>,
    /// True when it started, false when it ended.
    pub started: bool,
}

/// Told about every transaction start and end (smart charging's load balancing). Called on
/// the station's answer path: an implementation must return at once and do its work in a
/// task of its own.
pub trait TransactionListener: Send + Sync + 'static {
    /// A transaction started or ended; its state is committed.
    fn transaction_changed(&self, change: TransactionChange);
}

/// What the [`DomainHooks`] are told once a station message is committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookEvent {
    /// A connector (or EVSE) status report.
    Status(StatusRecord),
    /// A transaction got new meter values or a new event (not its start or end, which the
    /// [`TransactionListener`]s are told).
    TransactionUpdated {
        /// The station.
        station_id: String,
        /// The station's version.
        version: OcppVersion,
        /// The transaction id.
        transaction_id: String,
    },
}

/// Hooks of an integration (the OCPI bridge, [`crate::ocpi_cpo`]): an authority asked about
/// tokens before the id-token table, and a listener of committed status and transaction
/// changes.
#[async_trait]
pub trait DomainHooks: Send + Sync + 'static {
    /// Authorizes a token a station presented (Authorize, StartTransaction, TransactionEvent
    /// with a token), before the message's unit of work begins (it may call a partner over
    /// the network). `None` leaves the decision to the id-token table.
    async fn authorize(
        &self,
        station_id: &str,
        version: OcppVersion,
        token: &str,
        token_type: &str,
    ) -> Option<TokenInfo>;
    /// Committed changes, in the order the station reported them. Called on the answer path:
    /// return at once.
    fn committed(&self, events: Vec<HookEvent>);
}

/// The CSMS domain: storage, settings, vendor handlers, metrics.
pub struct Csms {
    store: Arc<dyn Store>,
    settings: DomainSettings,
    vendors: RwLock<HashMap<String, Arc<dyn DataTransferHandler>>>,
    metrics: Arc<Metrics>,
    tx_listeners: RwLock<Vec<Arc<dyn TransactionListener>>>,
    hooks: RwLock<Option<Arc<dyn DomainHooks>>>,
}

impl std::fmt::Debug for Csms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Csms")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn internal(e: StoreError) -> CallError {
    tracing::error!(error = %e, "storage failed; the station is answered InternalError");
    CallError::new(
        ErrorCode::InternalError,
        "the CSMS could not store the message",
    )
}

fn s(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn i(v: &Value, key: &str) -> Option<i64> {
    v.get(key)?.as_i64()
}

fn arr<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn is_v16(v: OcppVersion) -> bool {
    v == OcppVersion::V16
}

impl Csms {
    /// A domain over a store.
    pub fn new(store: Arc<dyn Store>, settings: DomainSettings, metrics: Arc<Metrics>) -> Self {
        Csms {
            store,
            settings,
            vendors: RwLock::new(HashMap::new()),
            metrics,
            tx_listeners: RwLock::new(Vec::new()),
            hooks: RwLock::new(None),
        }
    }

    /// Installs the [`DomainHooks`] (one set; a later call replaces it).
    pub fn set_hooks(&self, hooks: Arc<dyn DomainHooks>) {
        *self.hooks.write().unwrap_or_else(|e| e.into_inner()) = Some(hooks);
    }

    fn hooks(&self) -> Option<Arc<dyn DomainHooks>> {
        self.hooks.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The hooks' decision on the token of an authorizing message, asked before its unit.
    async fn external_authorization(
        &self,
        station: &str,
        version: OcppVersion,
        action: &str,
        req: &Value,
    ) -> Option<TokenInfo> {
        let hooks = self.hooks()?;
        let (token, ty) = match action {
            "Authorize" | "StartTransaction" => token_of(version, req),
            "TransactionEvent" => {
                let t = req.get("idToken")?;
                (s(t, "idToken")?, s(t, "type").unwrap_or_default())
            }
            _ => return None,
        };
        if token.is_empty() {
            return None;
        }
        hooks.authorize(station, version, &token, &ty).await
    }

    /// Tells `listener` about every transaction start and end from now on.
    pub fn add_transaction_listener(&self, listener: Arc<dyn TransactionListener>) {
        self.tx_listeners
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(listener);
    }

    fn transaction_changed(
        &self,
        station: &str,
        version: OcppVersion,
        transaction_id: &str,
        evse_id: Option<i64>,
        started: bool,
    ) {
        let listeners = self
            .tx_listeners
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for l in listeners {
            l.transaction_changed(TransactionChange {
                station_id: station.to_owned(),
                version,
                transaction_id: transaction_id.to_owned(),
                evse_id,
                started,
            });
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The settings.
    pub fn settings(&self) -> &DomainSettings {
        &self.settings
    }

    /// The metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Routes the DataTransfer messages of `vendor_id` to `handler`.
    pub fn register_vendor(
        &self,
        vendor_id: impl Into<String>,
        handler: Arc<dyn DataTransferHandler>,
    ) {
        self.vendors
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(vendor_id.into(), handler);
    }

    /// The registration a new station gets.
    pub fn initial_registration(&self) -> &'static str {
        match self.settings.unknown_stations {
            UnknownStations::Accept => "Accepted",
            UnknownStations::Pending => "Pending",
            UnknownStations::Reject => "Rejected",
        }
    }

    /// Handles one station-initiated CALL (or 2.1 SEND, whose answer is dropped) as one unit
    /// of work: the message logged, its state changes applied, the station's last-seen time
    /// and the answer logged, all in one database transaction committed before the answer is
    /// returned. When the unit fails (storage error), nothing of it is kept except a
    /// best-effort log of the call and its InternalError answer.
    pub async fn handle_call(
        &self,
        station: &str,
        version: OcppVersion,
        message_id: &str,
        action: &str,
        payload: &str,
    ) -> Result<String, CallError> {
        let at = now();
        self.metrics.message("in", action);
        let req: Value = serde_json::from_str(payload).map_err(|e| {
            CallError::new(
                ErrorCode::InternalError,
                format!("re-reading the payload: {e}"),
            )
        })?;
        let log = |direction: &str, kind: &str, payload: String, at: String| MessageRecord {
            station_id: station.to_owned(),
            direction: direction.into(),
            kind: kind.into(),
            message_id: message_id.to_owned(),
            action: action.to_owned(),
            payload,
            at,
        };
        let call_log = log("in", "call", payload.to_owned(), at.clone());
        // A vendor's DataTransfer handler may use the store itself: it runs before the unit.
        let vendor_answer = if action == "DataTransfer" {
            Some(self.vendor_answer(station, version, &req).await)
        } else {
            None
        };
        let external_auth = self
            .external_authorization(station, version, action, &req)
            .await;
        let started = Instant::now();
        let mut unit = match self.store.begin().await {
            Ok(db) => Unit {
                db,
                changes: Vec::new(),
                reported_profiles: false,
                vendor_answer,
                external_auth,
                events: Vec::new(),
            },
            Err(e) => return Err(self.unit_failed(call_log, version, e).await),
        };
        // The call is logged with its answer at the end of the unit (one statement).
        let mut result = self
            .apply(&mut unit, station, version, action, payload, &req, &at)
            .await;
        let failed_in_store = matches!(&result, Err(e) if e.code == ErrorCode::InternalError);
        let body = match &result {
            Ok(v) => v.to_string(),
            Err(e) => {
                json!({"code": e.code.wire(version), "description": e.description}).to_string()
            }
        };
        let kind = if result.is_ok() { "result" } else { "error" };
        if failed_in_store {
            // The unit is rolled back: half of a message's changes are never kept.
            drop(unit);
            let _ = self.store.log_message(&call_log).await;
            let _ = self
                .store
                .log_message(&log("out", kind, body.clone(), now()))
                .await;
        } else {
            let answer_log = log("out", kind, body.clone(), now());
            let committed = async {
                unit.db.log_exchange(&call_log, &answer_log, &at).await?;
                unit.db.commit().await
            }
            .await;
            if let Err(e) = committed {
                self.metrics.store_latency(action, started.elapsed());
                return Err(self.unit_failed(call_log, version, e).await);
            }
            self.after_commit(
                station,
                version,
                &req,
                &at,
                unit.changes,
                unit.reported_profiles,
            )
            .await;
            if let (Some(h), false) = (self.hooks(), unit.events.is_empty()) {
                h.committed(unit.events);
            }
        }
        self.metrics.store_latency(action, started.elapsed());
        if let Err(e) = &result {
            self.metrics.call_error("out", e.code.wire(version));
        }
        self.metrics.message("out", action);
        result = result.map(|_| Value::Null);
        result.map(|_| body)
    }

    /// The unit of work of a call could not be begun or committed: the station gets an
    /// InternalError (it will send the message again), and the call is logged if possible.
    async fn unit_failed(
        &self,
        call_log: MessageRecord,
        version: OcppVersion,
        e: StoreError,
    ) -> CallError {
        let err = internal(e);
        let _ = self.store.log_message(&call_log).await;
        let _ = self
            .store
            .log_message(&MessageRecord {
                direction: "out".into(),
                kind: "error".into(),
                payload: json!({"code": err.code.wire(version), "description": err.description})
                    .to_string(),
                at: now(),
                ..call_log
            })
            .await;
        self.metrics.call_error("out", err.code.wire(version));
        err
    }

    /// What runs once a call's unit of work is committed: the transaction listeners, and the
    /// charging profiles a ReportChargingProfiles carried (derived from the committed report).
    async fn after_commit(
        &self,
        station: &str,
        version: OcppVersion,
        req: &Value,
        at: &str,
        changes: Vec<TransactionChange>,
        reported_profiles: bool,
    ) {
        for c in changes {
            self.transaction_changed(
                &c.station_id,
                c.version,
                &c.transaction_id,
                c.evse_id,
                c.started,
            );
        }
        if reported_profiles {
            if let Err(e) = crate::smart_charging::record_reported_profiles(
                self.store.as_ref(),
                station,
                version,
                req,
                at,
            )
            .await
            {
                tracing::error!(station, error = %e, "recording the reported charging profiles failed");
            }
        }
    }

    async fn vendor_answer(
        &self,
        station: &str,
        version: OcppVersion,
        req: &Value,
    ) -> DataTransferAnswer {
        let vendor = s(req, "vendorId").unwrap_or_default();
        let handler = self
            .vendors
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&vendor)
            .cloned();
        match handler {
            Some(h) => {
                h.data_transfer(
                    station,
                    version,
                    s(req, "messageId").as_deref(),
                    req.get("data"),
                )
                .await
            }
            None => DataTransferAnswer {
                status: "UnknownVendorId".into(),
                data: None,
            },
        }
    }

    /// Applies one message inside its unit of work: every read and write goes through
    /// `unit.db` (on SQLite the unit holds the one connection, so `self.store` must not be
    /// used here), and what must wait for the commit is queued in `unit`.
    #[allow(clippy::too_many_arguments)]
    async fn apply(
        &self,
        unit: &mut Unit,
        station: &str,
        version: OcppVersion,
        action: &str,
        payload: &str,
        req: &Value,
        at: &str,
    ) -> Result<Value, CallError> {
        let db: &mut dyn StoreTx = &mut *unit.db;
        let v16 = is_v16(version);
        let event = |status: Option<String>, detail: Option<String>| EventRecord {
            station_id: station.to_owned(),
            kind: action.to_owned(),
            status,
            detail,
            payload: payload.to_owned(),
            at: at.to_owned(),
        };
        match action {
            "BootNotification" => {
                self.boot(&mut *db, station, version, payload, req, at)
                    .await
            }
            "Heartbeat" => Ok(json!({"currentTime": now()})),
            "StatusNotification" => {
                let rec = if v16 {
                    let c = i(req, "connectorId").unwrap_or(0);
                    StatusRecord {
                        station_id: station.into(),
                        evse_id: c,
                        connector_id: c,
                        status: s(req, "status").unwrap_or_default(),
                        error_code: s(req, "errorCode"),
                        info: s(req, "info").or_else(|| s(req, "vendorErrorCode")),
                        timestamp: s(req, "timestamp"),
                        payload: payload.into(),
                        received_at: at.into(),
                    }
                } else {
                    StatusRecord {
                        station_id: station.into(),
                        evse_id: i(req, "evseId").unwrap_or(0),
                        connector_id: i(req, "connectorId").unwrap_or(0),
                        status: s(req, "connectorStatus").unwrap_or_default(),
                        error_code: None,
                        info: None,
                        timestamp: s(req, "timestamp"),
                        payload: payload.into(),
                        received_at: at.into(),
                    }
                };
                db.record_status(&rec).await.map_err(internal)?;
                unit.events.push(HookEvent::Status(rec));
                Ok(json!({}))
            }
            "Authorize" => {
                let (token, ty) = token_of(version, req);
                let info = match unit.external_auth.take() {
                    Some(info) => info,
                    None => self.authorize_in(&mut *db, &token, &ty).await?,
                };
                Ok(if v16 {
                    json!({"idTagInfo": id_tag_info(&info)})
                } else {
                    json!({"idTokenInfo": id_token_info(&info)})
                })
            }
            "StartTransaction" => {
                let (token, _) = token_of(version, req);
                let info = match unit.external_auth.take() {
                    Some(info) => info,
                    None => self.authorize_in(&mut *db, &token, "").await?,
                };
                let start = TxStart {
                    station_id: station.into(),
                    connector_id: i(req, "connectorId").unwrap_or(0),
                    id_token: token,
                    meter_start: s(req, "meterStart").unwrap_or_default(),
                    timestamp: s(req, "timestamp").unwrap_or_default(),
                    reservation_id: i(req, "reservationId"),
                    payload: payload.into(),
                    received_at: at.into(),
                };
                let id = db.start_transaction_16(&start).await.map_err(internal)?;
                if let Some(r) = start.reservation_id {
                    db.set_reservation_status(station, r, "Used", at)
                        .await
                        .map_err(internal)?;
                }
                unit.changes.push(change(
                    station,
                    version,
                    &id.to_string(),
                    Some(start.connector_id),
                    true,
                ));
                Ok(json!({"transactionId": id, "idTagInfo": id_tag_info(&info)}))
            }
            "StopTransaction" => {
                let tx_id = i(req, "transactionId").unwrap_or(0).to_string();
                let timestamp = s(req, "timestamp").unwrap_or_default();
                let token = s(req, "idTag");
                let meter_values = arr(req, "transactionData")
                    .iter()
                    .flat_map(|mv| meter_value(version, mv, Some(&tx_id), None))
                    .collect();
                let ev = TxEventRecord {
                    station_id: station.into(),
                    version: version.to_string(),
                    transaction_id: tx_id,
                    // A 1.6 transaction has one Stop: the highest sequence number.
                    seq_no: i64::MAX,
                    event_type: "Ended".into(),
                    trigger_reason: s(req, "reason"),
                    timestamp,
                    offline: false,
                    stop_reason: Some(s(req, "reason").unwrap_or_else(|| "Local".into())),
                    meter_stop: s(req, "meterStop"),
                    meter_values,
                    payload: payload.into(),
                    received_at: at.into(),
                    ..Default::default()
                };
                let outcome = db.apply_transaction_event(&ev).await.map_err(internal)?;
                if !outcome.duplicate {
                    // A 1.6 Stop names no connector: listeners read it from the transaction.
                    unit.changes
                        .push(change(station, version, &ev.transaction_id, None, false));
                }
                match token {
                    Some(t) => {
                        let info = self.authorize_in(&mut *db, &t, "").await?;
                        Ok(json!({"idTagInfo": id_tag_info(&info)}))
                    }
                    None => Ok(json!({})),
                }
            }
            "TransactionEvent" => {
                self.transaction_event(unit, station, version, payload, req, at)
                    .await
            }
            "MeterValues" => {
                let tx = if v16 {
                    i(req, "transactionId").map(|t| t.to_string())
                } else {
                    None
                };
                let evse = i(req, if v16 { "connectorId" } else { "evseId" });
                let values = meter_values_exact(version, req, payload, tx.as_deref(), evse);
                db.insert_meter_values(station, &values)
                    .await
                    .map_err(internal)?;
                if let Some(t) = tx {
                    unit.events.push(HookEvent::TransactionUpdated {
                        station_id: station.into(),
                        version,
                        transaction_id: t,
                    });
                }
                Ok(json!({}))
            }
            "NotifyReport" => {
                let vars = report_variables(req, "NotifyReport", at);
                db.upsert_variables(station, &vars)
                    .await
                    .map_err(internal)?;
                db.record_event(&event(s(req, "requestId"), s(req, "seqNo")))
                    .await
                    .map_err(internal)?;
                Ok(json!({}))
            }
            "DataTransfer" => {
                let vendor = s(req, "vendorId").unwrap_or_default();
                db.record_event(&event(Some(vendor), s(req, "messageId")))
                    .await
                    .map_err(internal)?;
                let answer = unit.vendor_answer.take().unwrap_or(DataTransferAnswer {
                    status: "UnknownVendorId".into(),
                    data: None,
                });
                let mut out = Map::new();
                out.insert("status".into(), Value::String(answer.status));
                if let Some(d) = answer.data {
                    out.insert(
                        "data".into(),
                        if v16 {
                            Value::String(
                                d.as_str()
                                    .map(str::to_owned)
                                    .unwrap_or_else(|| d.to_string()),
                            )
                        } else {
                            d
                        },
                    );
                }
                Ok(Value::Object(out))
            }
            "SignCertificate" => {
                db.record_event(&event(
                    s(req, "certificateType"),
                    Some("no CA configured: Rejected".into()),
                ))
                .await
                .map_err(internal)?;
                Ok(if v16 {
                    json!({"status": "Rejected"})
                } else {
                    json!({"status": "Rejected", "statusInfo": {"reasonCode": "NoCA", "additionalInfo": "no certificate authority is configured on this CSMS"}})
                })
            }
            "Get15118EVCertificate" => {
                db.record_event(&event(s(req, "action"), None))
                    .await
                    .map_err(internal)?;
                Ok(
                    json!({"status": "Failed", "exiResponse": "", "statusInfo": {"reasonCode": "NoCA", "additionalInfo": "no certificate authority is configured on this CSMS"}}),
                )
            }
            "GetCertificateStatus" => {
                db.record_event(&event(None, None))
                    .await
                    .map_err(internal)?;
                Ok(
                    json!({"status": "Failed", "statusInfo": {"reasonCode": "NoOCSP", "additionalInfo": "no OCSP responder is configured on this CSMS"}}),
                )
            }
            "GetCertificateChainStatus" => {
                db.record_event(&event(None, None))
                    .await
                    .map_err(internal)?;
                let items: Vec<Value> = arr(req, "certificateStatusRequests")
                    .iter()
                    .map(|r| json!({"certificateHashData": r.get("certificateHashData").cloned().unwrap_or(json!({})), "source": r.get("source").cloned().unwrap_or(json!("OCSP")), "status": "Failed"}))
                    .collect();
                Ok(json!({"certificateStatus": items}))
            }
            "NotifyEVChargingNeeds" => {
                db.record_event(&event(s(req, "evseId"), None))
                    .await
                    .map_err(internal)?;
                // No smart-charging service computes schedules for EVs here: say so.
                Ok(if version == OcppVersion::V21 {
                    json!({"status": "NoChargingProfile"})
                } else {
                    json!({"status": "Rejected"})
                })
            }
            "NotifyEVChargingSchedule" => {
                db.record_event(&event(s(req, "evseId"), s(req, "timeBase")))
                    .await
                    .map_err(internal)?;
                Ok(json!({"status": "Accepted"}))
            }
            "PullDynamicScheduleUpdate" => {
                db.record_event(&event(s(req, "chargingProfileId"), None))
                    .await
                    .map_err(internal)?;
                Ok(
                    json!({"status": "Rejected", "statusInfo": {"reasonCode": "NoSchedule", "additionalInfo": "no dynamic schedule is kept for this profile"}}),
                )
            }
            "OpenPeriodicEventStream" => {
                db.record_event(&event(
                    None,
                    req.get("constantStreamData")
                        .and_then(|c| c.get("id"))
                        .map(|v| v.to_string()),
                ))
                .await
                .map_err(internal)?;
                Ok(json!({"status": "Accepted"}))
            }
            "VatNumberValidation" => {
                db.record_event(&event(None, s(req, "vatNumber")))
                    .await
                    .map_err(internal)?;
                Ok(
                    json!({"vatNumber": s(req, "vatNumber").unwrap_or_default(), "status": "Rejected", "statusInfo": {"reasonCode": "NoService", "additionalInfo": "no VAT validation service is configured"}}),
                )
            }
            "ReservationStatusUpdate" => {
                let status = s(req, "reservationUpdateStatus");
                if let (Some(id), Some(st)) = (i(req, "reservationId"), status.as_deref()) {
                    db.set_reservation_status(station, id, st, at)
                        .await
                        .map_err(internal)?;
                }
                db.record_event(&event(status, s(req, "reservationId")))
                    .await
                    .map_err(internal)?;
                Ok(json!({}))
            }
            // Everything else a station reports is kept whole, with its status or type.
            _ => {
                let status = [
                    "status",
                    "type",
                    "chargingLimitSource",
                    "requestId",
                    "eventType",
                ]
                .iter()
                .find_map(|k| s(req, k));
                let detail = ["requestId", "techInfo", "seqNo", "evseId", "reservationId"]
                    .iter()
                    .find_map(|k| s(req, k));
                db.record_event(&event(status, detail))
                    .await
                    .map_err(internal)?;
                if action == "ReportChargingProfiles" {
                    unit.reported_profiles = true;
                }
                if action == "NotifyMonitoringReport" {
                    let vars = report_variables(req, "NotifyMonitoringReport", at);
                    db.upsert_variables(station, &vars)
                        .await
                        .map_err(internal)?;
                }
                Ok(json!({}))
            }
        }
    }

    async fn boot(
        &self,
        db: &mut dyn StoreTx,
        station: &str,
        version: OcppVersion,
        payload: &str,
        req: &Value,
        at: &str,
    ) -> Result<Value, CallError> {
        let rec = if is_v16(version) {
            BootRecord {
                station_id: station.into(),
                version: version.to_string(),
                vendor: s(req, "chargePointVendor"),
                model: s(req, "chargePointModel"),
                serial_number: s(req, "chargePointSerialNumber")
                    .or_else(|| s(req, "chargeBoxSerialNumber")),
                firmware_version: s(req, "firmwareVersion"),
                reason: None,
                payload: payload.into(),
                at: at.into(),
            }
        } else {
            let cs = req.get("chargingStation").cloned().unwrap_or(Value::Null);
            BootRecord {
                station_id: station.into(),
                version: version.to_string(),
                vendor: s(&cs, "vendorName"),
                model: s(&cs, "model"),
                serial_number: s(&cs, "serialNumber"),
                firmware_version: s(&cs, "firmwareVersion"),
                reason: s(req, "reason"),
                payload: payload.into(),
                at: at.into(),
            }
        };
        let st = db
            .ensure_station(station, self.initial_registration(), at)
            .await
            .map_err(internal)?;
        db.record_boot(&rec).await.map_err(internal)?;
        let (status, interval) = match st.registration.as_str() {
            "Accepted" => ("Accepted", self.settings.heartbeat_interval),
            "Rejected" => ("Rejected", self.settings.pending_interval),
            _ => ("Pending", self.settings.pending_interval),
        };
        tracing::info!(station, %version, status, vendor = ?rec.vendor, model = ?rec.model, "boot");
        Ok(json!({"status": status, "currentTime": now(), "interval": interval}))
    }

    /// Authorizes a token against the id-token table: status, expiry, parent / group.
    pub async fn authorize(&self, token: &str, token_type: &str) -> Result<TokenInfo, CallError> {
        let rec = self
            .store
            .id_token(token, token_type)
            .await
            .map_err(internal)?;
        Ok(self.token_info(rec))
    }

    async fn authorize_in(
        &self,
        db: &mut dyn StoreTx,
        token: &str,
        token_type: &str,
    ) -> Result<TokenInfo, CallError> {
        let rec = db.id_token(token, token_type).await.map_err(internal)?;
        Ok(self.token_info(rec))
    }

    fn token_info(&self, rec: Option<IdTokenRecord>) -> TokenInfo {
        match rec {
            None if self.settings.accept_unknown_tokens => TokenInfo {
                status: "Accepted".into(),
                expiry: None,
                group: None,
            },
            None => TokenInfo {
                status: "Invalid".into(),
                expiry: None,
                group: None,
            },
            Some(r) => {
                let expired = r
                    .expiry
                    .as_deref()
                    .and_then(|e| chrono::DateTime::parse_from_rfc3339(e).ok())
                    .is_some_and(|e| e < chrono::Utc::now());
                TokenInfo {
                    status: if expired && r.status == "Accepted" {
                        "Expired".into()
                    } else {
                        r.status
                    },
                    expiry: r.expiry,
                    group: r.group_id.or(r.parent_id),
                }
            }
        }
    }

    async fn transaction_event(
        &self,
        unit: &mut Unit,
        station: &str,
        version: OcppVersion,
        payload: &str,
        req: &Value,
        at: &str,
    ) -> Result<Value, CallError> {
        let info = req.get("transactionInfo").cloned().unwrap_or(Value::Null);
        let tx_id = s(&info, "transactionId").unwrap_or_default();
        let evse = req.get("evse");
        let token = req.get("idToken");
        let evse_id = evse.and_then(|e| i(e, "id"));
        let ev = TxEventRecord {
            station_id: station.into(),
            version: version.to_string(),
            transaction_id: tx_id.clone(),
            seq_no: i(req, "seqNo").unwrap_or(0),
            event_type: s(req, "eventType").unwrap_or_default(),
            trigger_reason: s(req, "triggerReason"),
            timestamp: s(req, "timestamp").unwrap_or_default(),
            offline: req.get("offline").and_then(Value::as_bool).unwrap_or(false),
            evse_id,
            connector_id: evse.and_then(|e| i(e, "connectorId")),
            id_token: token.and_then(|t| s(t, "idToken")),
            token_type: token.and_then(|t| s(t, "type")),
            charging_state: s(&info, "chargingState"),
            stop_reason: s(&info, "stoppedReason"),
            meter_stop: None,
            reservation_id: i(req, "reservationId"),
            meter_values: meter_values_exact(version, req, payload, Some(&tx_id), evse_id),
            payload: payload.into(),
            received_at: at.into(),
        };
        let db: &mut dyn StoreTx = &mut *unit.db;
        let outcome = db.apply_transaction_event(&ev).await.map_err(internal)?;
        if outcome.duplicate {
            tracing::info!(station, transaction = %tx_id, seq_no = ev.seq_no, "redelivered TransactionEvent: already stored");
        } else if let (Some(r), "Started") = (ev.reservation_id, ev.event_type.as_str()) {
            db.set_reservation_status(station, r, "Used", at)
                .await
                .map_err(internal)?;
        }
        if !outcome.duplicate && ev.event_type == "Updated" {
            unit.events.push(HookEvent::TransactionUpdated {
                station_id: station.into(),
                version,
                transaction_id: tx_id.clone(),
            });
        }
        if !outcome.duplicate && matches!(ev.event_type.as_str(), "Started" | "Ended") {
            unit.changes.push(change(
                station,
                version,
                &tx_id,
                ev.evse_id,
                ev.event_type == "Started",
            ));
        }
        match (&ev.id_token, &ev.token_type) {
            (Some(t), ty) => {
                let info = match unit.external_auth.take() {
                    Some(info) => info,
                    None => {
                        self.authorize_in(&mut *db, t, ty.as_deref().unwrap_or(""))
                            .await?
                    }
                };
                Ok(json!({"idTokenInfo": id_token_info(&info)}))
            }
            _ => Ok(json!({})),
        }
    }
}

/// The unit of work of one station message (see [`Csms::handle_call`]).
struct Unit {
    /// Its database transaction.
    db: Box<dyn StoreTx>,
    /// Transaction starts and ends to tell the listeners once committed.
    changes: Vec<TransactionChange>,
    /// Whether the reported charging profiles are to be recorded once committed.
    reported_profiles: bool,
    /// The answer of the vendor's DataTransfer handler, asked before the unit began.
    vendor_answer: Option<DataTransferAnswer>,
    /// The [`DomainHooks`]' decision on the message's token, asked before the unit began.
    external_auth: Option<TokenInfo>,
    /// What to tell the [`DomainHooks`] once committed.
    events: Vec<HookEvent>,
}

fn change(
    station: &str,
    version: OcppVersion,
    transaction_id: &str,
    evse_id: Option<i64>,
    started: bool,
) -> TransactionChange {
    TransactionChange {
        station_id: station.to_owned(),
        version,
        transaction_id: transaction_id.to_owned(),
        evse_id,
        started,
    }
}

/// The outcome of an authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// The status (`Accepted`, `Blocked`, `Expired`, `Invalid`, ...).
    pub status: String,
    /// The expiry.
    pub expiry: Option<String>,
    /// The parent (1.6) or group (2.x) id.
    pub group: Option<String>,
}

fn id_tag_info(t: &TokenInfo) -> Value {
    let status = match t.status.as_str() {
        s @ ("Accepted" | "Blocked" | "Expired" | "Invalid" | "ConcurrentTx") => s,
        _ => "Invalid",
    };
    let mut m = Map::new();
    m.insert("status".into(), json!(status));
    if let Some(e) = &t.expiry {
        m.insert("expiryDate".into(), json!(e));
    }
    if let Some(g) = &t.group {
        m.insert(
            "parentIdTag".into(),
            json!(g.chars().take(20).collect::<String>()),
        );
    }
    Value::Object(m)
}

fn id_token_info(t: &TokenInfo) -> Value {
    let mut m = Map::new();
    m.insert("status".into(), json!(t.status));
    if let Some(e) = &t.expiry {
        m.insert("cacheExpiryDateTime".into(), json!(e));
    }
    if let Some(g) = &t.group {
        m.insert(
            "groupIdToken".into(),
            json!({"idToken": g, "type": "Central"}),
        );
    }
    Value::Object(m)
}

/// The token of an Authorize / StartTransaction: (value, type). 1.6 has no type.
fn token_of(version: OcppVersion, req: &Value) -> (String, String) {
    if is_v16(version) {
        (s(req, "idTag").unwrap_or_default(), String::new())
    } else {
        let t = req.get("idToken").cloned().unwrap_or(Value::Null);
        (
            s(&t, "idToken").unwrap_or_default(),
            s(&t, "type").unwrap_or_default(),
        )
    }
}

/// The sampled values of every `meterValue` of a message, each value exactly as the station
/// wrote it: 2.x sends numbers, which [`Value`] would read as binary floating point ("12.50"
/// would come back "12.5"), so they are taken from the payload text.
pub fn meter_values_exact(
    version: OcppVersion,
    req: &Value,
    payload: &str,
    tx: Option<&str>,
    evse: Option<i64>,
) -> Vec<MeterValueRecord> {
    let raw = exact_sampled_values(payload);
    arr(req, "meterValue")
        .iter()
        .enumerate()
        .flat_map(|(i, mv)| {
            let mut values = meter_value(version, mv, tx, evse);
            for (j, v) in values.iter_mut().enumerate() {
                if let Some(Some(text)) = raw.get(i).and_then(|m| m.get(j)) {
                    v.value = text.clone();
                }
            }
            values
        })
        .collect()
}

/// The number literals of `meterValue[i].sampledValue[j].value` as written (`None` for
/// anything that is not a number).
fn exact_sampled_values(payload: &str) -> Vec<Vec<Option<String>>> {
    use serde_json::value::RawValue;
    #[derive(serde::Deserialize)]
    struct Sampled {
        value: Option<Box<RawValue>>,
    }
    #[derive(serde::Deserialize)]
    struct Meter {
        #[serde(rename = "sampledValue", default)]
        sampled_value: Vec<Sampled>,
    }
    #[derive(serde::Deserialize)]
    struct Message {
        #[serde(rename = "meterValue", default)]
        meter_value: Vec<Meter>,
    }
    let Ok(m) = serde_json::from_str::<Message>(payload) else {
        return Vec::new();
    };
    m.meter_value
        .into_iter()
        .map(|mv| {
            mv.sampled_value
                .into_iter()
                .map(|sv| {
                    sv.value
                        .map(|r| r.get().trim().to_owned())
                        .filter(|t| t.starts_with(|c: char| c == '-' || c.is_ascii_digit()))
                })
                .collect()
        })
        .collect()
}

/// The sampled values of one MeterValue, in either version's spelling.
pub fn meter_value(
    version: OcppVersion,
    mv: &Value,
    tx: Option<&str>,
    evse: Option<i64>,
) -> Vec<MeterValueRecord> {
    let ts = s(mv, "timestamp").unwrap_or_default();
    arr(mv, "sampledValue")
        .iter()
        .map(|sv| {
            let (unit, signed) = if is_v16(version) {
                let signed = (s(sv, "format").as_deref() == Some("SignedData"))
                    .then(|| s(sv, "value"))
                    .flatten();
                (s(sv, "unit"), signed)
            } else {
                let uom = sv.get("unitOfMeasure");
                let unit = uom.map(|u| {
                    let unit = s(u, "unit").unwrap_or_else(|| "Wh".into());
                    match i(u, "multiplier") {
                        Some(m) if m != 0 => format!("{unit}e{m}"),
                        _ => unit,
                    }
                });
                (unit, sv.get("signedMeterValue").map(Value::to_string))
            };
            MeterValueRecord {
                transaction_id: tx.map(str::to_owned),
                evse_id: evse,
                timestamp: ts.clone(),
                value: s(sv, "value").unwrap_or_default(),
                measurand: s(sv, "measurand"),
                phase: s(sv, "phase"),
                unit,
                context: s(sv, "context"),
                location: s(sv, "location"),
                signed_data: signed,
            }
        })
        .collect()
}

/// The device-model rows of a NotifyReport (`reportData`) or NotifyMonitoringReport (`monitor`,
/// kept as the characteristics of the attribute type `Monitor`).
pub fn report_variables(req: &Value, source: &str, at: &str) -> Vec<VariableRecord> {
    let mut out = Vec::new();
    let items = if source == "NotifyReport" {
        arr(req, "reportData")
    } else {
        arr(req, "monitor")
    };
    for rd in items {
        let comp = rd.get("component").cloned().unwrap_or(Value::Null);
        let var = rd.get("variable").cloned().unwrap_or(Value::Null);
        let evse = comp.get("evse");
        let base = VariableRecord {
            component: s(&comp, "name").unwrap_or_default(),
            component_instance: s(&comp, "instance").unwrap_or_default(),
            evse_id: evse.and_then(|e| i(e, "id")).unwrap_or(0),
            connector_id: evse.and_then(|e| i(e, "connectorId")).unwrap_or(0),
            variable: s(&var, "name").unwrap_or_default(),
            variable_instance: s(&var, "instance").unwrap_or_default(),
            source: source.into(),
            updated_at: at.into(),
            ..Default::default()
        };
        if source == "NotifyReport" {
            let ch = rd.get("variableCharacteristics").map(Value::to_string);
            for a in arr(rd, "variableAttribute") {
                out.push(VariableRecord {
                    attribute_type: s(a, "type").unwrap_or_else(|| "Actual".into()),
                    value: s(a, "value"),
                    mutability: s(a, "mutability"),
                    persistent: a.get("persistent").and_then(Value::as_bool),
                    constant: a.get("constant").and_then(Value::as_bool),
                    characteristics: ch.clone(),
                    ..base.clone()
                });
            }
        } else {
            out.push(VariableRecord {
                attribute_type: "Monitor".into(),
                characteristics: rd.get("variableMonitoring").map(Value::to_string),
                ..base
            });
        }
    }
    out
}
