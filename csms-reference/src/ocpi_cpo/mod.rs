//! The OCPI CPO bridge: the CSMS's stations published to eMSP partners over OCPI (2.2.1
//! primary, 2.1.1 served by conversion), built on the `ocpi` crate's server, client,
//! credentials handshake and tariff engine.
//!
//! # Where it listens
//! On its own address (`[ocpi] listen`, `CSMS_OCPI_LISTEN`, `--ocpi-listen`), disabled unless
//! configured: partners reach it from outside with OCPI credentials tokens, while the operator
//! API stays on loopback behind its own authentication. Its versions endpoint is
//! `{url}/versions` where `url` is `[ocpi] url` (the public base URL, e.g. behind a reverse
//! proxy) or `http://{listen}/ocpi`.
//!
//! # What it does
//! - Partners ([`api`], `POST /api/ocpi/partners`): the operator issues a `TOKEN_A`, hands it
//!   and the versions URL to the eMSP, which registers through the credentials handshake
//!   ([`ocpi::credentials::Registry`]). Partners are persisted with token hashes only (the
//!   `TOKEN_B` we send to them is kept as is, as the specification requires) and restored at
//!   start, so a `TOKEN_C` survives a restart.
//! - Locations: the operator describes a location (address, coordinates, time zone, operator,
//!   opening times, ...) and assigns station EVSEs and connectors to it
//!   (`PUT /api/ocpi/locations/{id}`); the location is served on the Sender interface and PUT
//!   to every partner. Each StatusNotification of an assigned EVSE is PATCHed to every
//!   partner at once.
//! - Tokens pushed by eMSPs (Receiver interface, indexed by uid) authorize Authorize,
//!   StartTransaction and TransactionEvent: `whitelist` ALWAYS and ALLOWED from the list,
//!   ALLOWED_OFFLINE real-time first and the list when the eMSP cannot be reached, NEVER
//!   real-time only (`POST {tokens}/{uid}/authorize`; refused, 2.x `Unknown`, when the eMSP
//!   cannot be reached); the real-time request waits at most `realtime_timeout_ms` (3 s), as
//!   the station waits for the answer; `group_id` becomes the 2.x group id / 1.6 parent id.
//! - Sessions and CDRs: a transaction started with an eMSP token becomes a Session (PUT to the
//!   eMSP), PATCHed with kWh, charging periods and cost so far as meter values arrive; at its
//!   end a CDR priced with the connector's tariff by [`ocpi::tariff`] (charging periods split
//!   where the price changes) is POSTed to the eMSP (its `Location` answer recorded) and
//!   served on the Sender interface. A session is stored with its token and authorization
//!   method when it starts; a CDR is stored in the same database transaction as its POST.
//! - Durability: transaction changes reach the bridge after the OCPP message was committed,
//!   through memory; at every start the bridge reconciles (`sessions::reconcile`): every
//!   transaction of an eMSP token gets its session and, once ended, its CDR, exactly once.
//! - Pricing failures: a CDR is never pushed with a made-up cost. When the connector names a
//!   tariff that is not published, or the tariff engine cannot price the session, the session
//!   is completed without cost, the failure is logged and kept (`x-unpriced`, listed by
//!   [`OcpiCpo::unpriced`] and `GET /api/ocpi/unpriced`), and the CDR is priced and pushed when a tariff changes or at the
//!   next start.
//! - Partners see only their own: sessions and CDRs on GET (others' are unknown: 404 / 2003),
//!   STOP_SESSION and charging profiles on sessions of their tokens (else `UNKNOWN_SESSION`),
//!   START_SESSION and RESERVE_NOW with tokens of their parties, CANCEL_RESERVATION of their
//!   reservations (else `REJECTED`).
//! - A partner that completes the registration is sent the current tariffs and locations
//!   (PUT, through its outbox, in order).
//! - Tariffs managed through the operator API, attached to connectors by `tariff_ids`, served
//!   and PUT to partners.
//! - Commands (START_SESSION, STOP_SESSION, RESERVE_NOW, CANCEL_RESERVATION, UNLOCK_CONNECTOR)
//!   become the OCPP call of the station's version; the station's answer (or, after
//!   `command_timeout_seconds`, TIMEOUT) is POSTed to `response_url`. Tokens given with
//!   START_SESSION / RESERVE_NOW are kept in a bounded map until the session starts, the
//!   command fails or they expire ([`pending`]). Charging profiles PUT by an eMSP/SCSP become a TxProfile
//!   SetChargingProfile (recorded by the smart-charging module like any operator call).
//! - Every push goes through a persisted outbox per partner, delivered in order with
//!   exponential backoff (connection failures and 5xx are retried; an OCPI client error is
//!   recorded and the next push goes on), and survives a restart. Each partner's pushes are
//!   delivered by a task of their own, so a slow or unreachable partner delays nobody else's.
//! - Operating with partners ([`ops`]): a rate limit per partner on its requests to us (429
//!   with `Retry-After`) and on our pushes to it (its own 429 waited out), a circuit breaker
//!   per partner (pushes stay queued while open; half-open probe after a cool-down that
//!   doubles), the audit log of every OCPI request and response both ways
//!   (`GET /api/ocpi/audit`), hub partners (routing headers on our pushes, requests attributed
//!   to the party of their `OCPI-from-*` headers, `ClientInfo` PUT by hubs kept and served at
//!   `GET /api/ocpi/hubclientinfo`; a party without a partner of its own is reached through the
//!   hub that PUT its tokens or `ClientInfo`, and not at all when no hub spoke of it), and
//!   partner health in the operator API and the metrics.

pub mod api;
mod commands;
pub mod db;
mod locations;
pub mod ops;
mod outbox;
pub mod pending;
mod sessions;
pub mod storage;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use async_trait::async_trait;
use ocpi::credentials::{Peer, PeerState, Registration, Registry};
use ocpi::server::{Server, ServerConfig};
use ocpi::v221::{CredentialsRole, Endpoint, InterfaceRole, ModuleId, VersionNumber};
use ocpp_core::transport::Connections;
use ocpp_types::OcppVersion;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch, Notify};

use crate::config::ConfigError;
use crate::domain::{now, Csms, DomainHooks, HookEvent, TokenInfo, TransactionChange};
use db::{OcpiDb, OutboxRow, PartnerRow};
use storage::CpoStorage;

/// The `[ocpi]` table of the configuration file (every field optional).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OcpiFileSettings {
    /// Address of the OCPI server; the bridge is off without it.
    pub listen: Option<String>,
    /// Public base URL (default `http://{listen}/ocpi`).
    pub url: Option<String>,
    /// Our ISO 3166-1 alpha-2 country code (default `NL`).
    pub country_code: Option<String>,
    /// Our party id, three characters (default `CPO`).
    pub party_id: Option<String>,
    /// Our business name (default `ocpp-rs CSMS`).
    pub name: Option<String>,
    /// Currency of sessions without a tariff (default `EUR`).
    pub currency: Option<String>,
    /// Longest wait between two delivery attempts of a push, seconds (default 60).
    pub retry_max_seconds: Option<u64>,
    /// Requests per second one partner may make to us, sustained (default 50).
    pub rate_limit_per_second: Option<u32>,
    /// Requests one partner may make at once (default 100).
    pub rate_limit_burst: Option<u32>,
    /// Pushes per second to one partner (default 50; 0: no limit).
    pub push_rate_per_second: Option<u32>,
    /// Consecutive failed deliveries that open a partner's circuit (default 5).
    pub circuit_failures: Option<u32>,
    /// First cool-down of an open circuit, seconds (default 30; doubled at each failed probe).
    pub circuit_cooldown_seconds: Option<u64>,
    /// Deliveries in flight at once over all partners (default 16).
    pub push_concurrency: Option<u32>,
    /// Audit log rows older than this many days are pruned (default 30; 0: no age limit).
    pub audit_retention_days: Option<u32>,
    /// Audit log rows kept at most, the newest (default 1,000,000).
    pub audit_max_rows: Option<u64>,
    /// Longest wait for an eMSP's real-time authorization, milliseconds (default 3000); then
    /// the whitelist's fallback applies.
    pub realtime_timeout_ms: Option<u64>,
    /// Longest wait for a station's answer to an OCPI command, seconds (default 30); then
    /// TIMEOUT is posted to the `response_url`.
    pub command_timeout_seconds: Option<u64>,
}

impl OcpiFileSettings {
    /// Overlays `other` (higher priority) on `self`.
    pub fn overlay(mut self, other: OcpiFileSettings) -> Self {
        macro_rules! o {
            ($($f:ident),*) => { $( if other.$f.is_some() { self.$f = other.$f; } )* };
        }
        o!(
            listen,
            url,
            country_code,
            party_id,
            name,
            currency,
            retry_max_seconds,
            rate_limit_per_second,
            rate_limit_burst,
            push_rate_per_second,
            circuit_failures,
            circuit_cooldown_seconds,
            push_concurrency,
            audit_retention_days,
            audit_max_rows,
            realtime_timeout_ms,
            command_timeout_seconds
        );
        self
    }
}

/// Validated OCPI settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcpiSettings {
    /// Address of the OCPI server.
    pub listen: SocketAddr,
    /// Public base URL, when configured.
    pub url: Option<String>,
    /// Our country code.
    pub country_code: String,
    /// Our party id.
    pub party_id: String,
    /// Our business name.
    pub name: String,
    /// Default currency.
    pub currency: String,
    /// Longest wait between two delivery attempts.
    pub retry_max: Duration,
    /// Rate limits, circuit breakers and the audit log ([`ops`]).
    pub ops: ops::OpsSettings,
    /// Longest wait for a real-time authorization.
    pub realtime_timeout: Duration,
    /// Longest wait for a station's answer to a command.
    pub command_timeout: Duration,
}

fn bad(setting: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting: format!("ocpi.{setting}"),
        message: message.into(),
    }
}

impl OcpiSettings {
    /// Validates the `[ocpi]` settings; `None` when the bridge is not enabled (no `listen`).
    pub fn validate(f: Option<&OcpiFileSettings>) -> Result<Option<OcpiSettings>, ConfigError> {
        let Some(f) = f else { return Ok(None) };
        let Some(listen) = &f.listen else {
            if f != &OcpiFileSettings::default() {
                return Err(bad("listen", "the other [ocpi] settings need listen"));
            }
            return Ok(None);
        };
        let listen: SocketAddr = listen.parse().map_err(|_| {
            bad(
                "listen",
                format!("{listen:?} is not an address like 127.0.0.1:9002"),
            )
        })?;
        let country_code = f.country_code.clone().unwrap_or_else(|| "NL".into());
        if country_code.len() != 2 || !country_code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(bad(
                "country_code",
                format!("{country_code:?} is not two capital letters"),
            ));
        }
        let party_id = f.party_id.clone().unwrap_or_else(|| "CPO".into());
        if party_id.len() != 3 || !party_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(bad(
                "party_id",
                format!("{party_id:?} is not three letters or digits"),
            ));
        }
        let currency = f.currency.clone().unwrap_or_else(|| "EUR".into());
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(bad(
                "currency",
                format!("{currency:?} is not an ISO 4217 code"),
            ));
        }
        if let Some(u) = &f.url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(bad("url", format!("{u:?} is not an http(s) URL")));
            }
        }
        let retry = f.retry_max_seconds.unwrap_or(60);
        if retry == 0 || retry > 86_400 {
            return Err(bad(
                "retry_max_seconds",
                format!("{retry} is not 1 to 86400"),
            ));
        }
        let d = ops::OpsSettings::default();
        let positive = |name: &str, v: Option<u32>, default: u32| match v {
            Some(0) => Err(bad(name, "must be at least 1")),
            v => Ok(v.unwrap_or(default)),
        };
        let cooldown = f.circuit_cooldown_seconds.unwrap_or(30);
        if cooldown == 0 || cooldown > 86_400 {
            return Err(bad(
                "circuit_cooldown_seconds",
                format!("{cooldown} is not 1 to 86400"),
            ));
        }
        let audit_max_rows = f.audit_max_rows.unwrap_or(d.audit_max_rows);
        if audit_max_rows == 0 {
            return Err(bad("audit_max_rows", "must be at least 1"));
        }
        let ops = ops::OpsSettings {
            rate_per_second: positive(
                "rate_limit_per_second",
                f.rate_limit_per_second,
                d.rate_per_second,
            )?,
            rate_burst: positive("rate_limit_burst", f.rate_limit_burst, d.rate_burst)?,
            push_rate_per_second: f.push_rate_per_second.unwrap_or(d.push_rate_per_second),
            circuit_failures: positive("circuit_failures", f.circuit_failures, d.circuit_failures)?,
            circuit_cooldown: Duration::from_secs(cooldown),
            push_concurrency: positive(
                "push_concurrency",
                f.push_concurrency,
                d.push_concurrency as u32,
            )? as usize,
            audit_retention_days: f.audit_retention_days.unwrap_or(d.audit_retention_days),
            audit_max_rows,
        };
        let realtime = f.realtime_timeout_ms.unwrap_or(3000);
        if realtime == 0 || realtime > 60_000 {
            return Err(bad(
                "realtime_timeout_ms",
                format!("{realtime} is not 1 to 60000"),
            ));
        }
        let command = f.command_timeout_seconds.unwrap_or(30);
        if command == 0 || command > 3600 {
            return Err(bad(
                "command_timeout_seconds",
                format!("{command} is not 1 to 3600"),
            ));
        }
        Ok(Some(OcpiSettings {
            listen,
            url: f.url.clone().map(|u| u.trim_end_matches('/').to_owned()),
            country_code,
            party_id,
            name: f.name.clone().unwrap_or_else(|| "ocpp-rs CSMS".into()),
            currency,
            retry_max: Duration::from_secs(retry),
            ops,
            realtime_timeout: Duration::from_millis(realtime),
            command_timeout: Duration::from_secs(command),
        }))
    }
}

/// Why the bridge could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OcpiStartError {
    /// The store has no OCPI storage.
    #[error("the store offers no OCPI storage")]
    NoStorage,
    /// Loading the persisted state failed.
    #[error("loading the OCPI state: {0}")]
    Store(#[from] crate::store::StoreError),
    /// The listener could not be bound.
    #[error("cannot listen on {0} (ocpi.listen): {1}")]
    Bind(SocketAddr, std::io::Error),
}

/// Work for the bridge's event task, handled one at a time in arrival order.
enum Work {
    Events(Vec<HookEvent>),
    Tx(TransactionChange),
    Flush(tokio::sync::oneshot::Sender<()>),
    /// The transactions from this position on (newest first) checked for their session and
    /// CDR, a page at a time (at start; live changes queued meanwhile go between pages).
    Reconcile(i64),
    /// The sessions that could not be priced, priced again (a tariff changed).
    Reprice,
}

/// The running bridge.
pub struct OcpiCpo {
    /// The OCPI server (its registry holds the partners).
    pub server: Arc<Server<CpoStorage>>,
    /// The address the OCPI server listens on.
    pub addr: SocketAddr,
    db: Arc<dyn OcpiDb>,
    csms: Arc<Csms>,
    connections: Connections,
    settings: OcpiSettings,
    work: mpsc::UnboundedSender<Work>,
    outbox_wake: Arc<Notify>,
    /// Rate limits, circuits, health and the audit log of the partners.
    ops: Arc<ops::Ops>,
    names: Mutex<HashMap<u64, String>>,
    /// Tokens authorized in real time, by uid, with the authorization reference given.
    auth_refs: Mutex<HashMap<String, Option<String>>>,
    /// Tokens given with START_SESSION and RESERVE_NOW, by uid (bounded, expiring).
    command_tokens: Mutex<pending::CommandTokens>,
    stop: watch::Sender<bool>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl std::fmt::Debug for OcpiCpo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OcpiCpo")
            .field("addr", &self.addr)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The versions we offer, lowest first.
pub const VERSIONS: [VersionNumber; 2] = [VersionNumber::V2_1_1, VersionNumber::V2_2_1];

fn registration_json(r: &Registration) -> Value {
    json!({
        "version": r.version.to_string(),
        "token_b": r.token_b,
        "versions_url": r.versions_url,
        "endpoints": r.endpoints,
        "roles": r.roles,
    })
}

fn registration_from(v: &Value) -> Option<Registration> {
    Some(Registration {
        version: VersionNumber::from_wire(v.get("version")?.as_str()?),
        token_b: v.get("token_b")?.as_str()?.to_owned(),
        versions_url: v.get("versions_url")?.as_str()?.to_owned(),
        endpoints: serde_json::from_value(v.get("endpoints")?.clone()).ok()?,
        roles: serde_json::from_value(v.get("roles")?.clone()).ok()?,
    })
}

impl OcpiCpo {
    /// Starts the bridge: restores partners and objects, binds the OCPI server, installs the
    /// domain hooks and starts the event and outbox tasks.
    pub async fn start(
        settings: OcpiSettings,
        csms: Arc<Csms>,
        connections: Connections,
    ) -> Result<Arc<OcpiCpo>, OcpiStartError> {
        let db = csms.store().ocpi_db().ok_or(OcpiStartError::NoStorage)?;
        let storage = CpoStorage::load(db.clone()).await?;
        let mut registry = Registry::new();
        let mut names = HashMap::new();
        for p in db.partners().await? {
            let state = match p.state.as_str() {
                "registered" => match p
                    .registration
                    .as_deref()
                    .and_then(|r| serde_json::from_str::<Value>(r).ok())
                    .and_then(|r| registration_from(&r))
                {
                    Some(r) => PeerState::Registered(r),
                    None => continue,
                },
                "pending" => PeerState::Pending,
                _ => PeerState::Unregistered,
            };
            if let Some(n) = p.name {
                names.insert(p.id as u64, n);
            }
            registry.restore_peer(Peer {
                id: p.id as u64,
                token_hash: p.token_hash,
                state,
            });
        }
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .map_err(|e| OcpiStartError::Bind(settings.listen, e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| OcpiStartError::Bind(settings.listen, e))?;
        let base_url = settings
            .url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}/ocpi"));
        let role: CredentialsRole = serde_json::from_value(json!({
            "role": "CPO", "party_id": settings.party_id, "country_code": settings.country_code,
            "business_details": {"name": settings.name}
        }))
        .expect("a valid credentials role");
        let config = ServerConfig {
            base_url,
            versions: VERSIONS.to_vec(),
            modules: vec![
                (ModuleId::Locations, InterfaceRole::Sender),
                (ModuleId::Sessions, InterfaceRole::Sender),
                (ModuleId::Cdrs, InterfaceRole::Sender),
                (ModuleId::Tariffs, InterfaceRole::Sender),
                (ModuleId::Tokens, InterfaceRole::Receiver),
                (ModuleId::Commands, InterfaceRole::Receiver),
                (ModuleId::ChargingProfiles, InterfaceRole::Receiver),
                // A hub tells which parties it connects (2.2.1 on).
                (ModuleId::HubClientInfo, InterfaceRole::Receiver),
            ],
            roles: vec![role],
            tolerant_token_encoding: true,
            max_limit: 100,
            storage_version: Some(VersionNumber::V2_2_1),
        };
        let handlers_slot: Arc<std::sync::OnceLock<Weak<OcpiCpo>>> = Arc::default();
        let handlers = commands::handlers(handlers_slot.clone());
        let server = Server::with_handlers(config, storage, registry, handlers);
        let (stop, stop_rx) = watch::channel(false);
        let (work, work_rx) = mpsc::unbounded_channel();
        let ops = ops::Ops::start(settings.ops.clone(), db.clone());
        for (p, n) in db.outbox_backlog().await? {
            ops.set_backlog(p as u64, n);
        }
        let source: Arc<dyn crate::metrics::MetricsSource> = ops.clone();
        csms.metrics().add_source(Arc::downgrade(&source));
        let cpo = Arc::new(OcpiCpo {
            server: server.clone(),
            addr,
            db,
            csms: csms.clone(),
            connections,
            settings,
            work,
            outbox_wake: Arc::new(Notify::new()),
            ops,
            names: Mutex::new(names),
            auth_refs: Mutex::default(),
            command_tokens: Mutex::default(),
            stop,
            tasks: Mutex::default(),
        });
        let _ = handlers_slot.set(Arc::downgrade(&cpo));
        // The OCPI server; after every credentials request the registry is persisted.
        let app = ocpi::server::router(server)
            .layer(axum::middleware::from_fn_with_state(
                Arc::downgrade(&cpo),
                scope_to_caller,
            ))
            .layer(axum::middleware::from_fn_with_state(
                Arc::downgrade(&cpo),
                persist_after_credentials,
            ))
            .layer(axum::middleware::from_fn_with_state(
                Arc::downgrade(&cpo),
                persist_before_answer,
            ))
            // Outermost: rate limit, audit log and metrics of every request.
            .layer(axum::middleware::from_fn_with_state(
                Arc::downgrade(&cpo),
                ops::inbound,
            ));
        let mut rx = stop_rx.clone();
        let http = tokio::spawn(async move {
            let r = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.wait_for(|s| *s).await;
                })
                .await;
            if let Err(e) = r {
                tracing::error!(error = %e, "the OCPI server failed");
            }
        });
        // Before any live change: what a crash or a stop may have left undone.
        let _ = cpo.work.send(Work::Reconcile(0));
        let events = tokio::spawn(event_task(Arc::downgrade(&cpo), work_rx));
        let reprice = tokio::spawn(reprice_task(
            Arc::downgrade(&cpo),
            cpo.storage().tariffs_changed(),
        ));
        cpo.tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(reprice);
        let out = tokio::spawn(outbox::run(Arc::downgrade(&cpo), stop_rx));
        cpo.tasks_push([http, events, out]);
        csms.set_hooks(Arc::new(Hooks(Arc::downgrade(&cpo))));
        csms.add_transaction_listener(Arc::new(Hooks(Arc::downgrade(&cpo))));
        tracing::info!(%addr, versions_url = %cpo.versions_url(), "OCPI CPO bridge started");
        Ok(cpo)
    }

    fn tasks_push(&self, t: [tokio::task::JoinHandle<()>; 3]) {
        self.tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(t);
    }

    /// Stops the OCPI server and the tasks (pushes still queued stay in the outbox).
    pub async fn shutdown(&self) {
        self.flush().await;
        self.stop.send_replace(true);
        let tasks: Vec<_> = self
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
            .collect();
        for t in tasks {
            t.abort();
            let _ = t.await;
        }
        self.ops.flush_audit().await;
        self.server.storage.flush().await;
    }

    /// Waits until every change reported so far is handled and its pushes are queued.
    pub async fn flush(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.work.send(Work::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    /// Our versions URL (give it to partners with their `TOKEN_A`).
    pub fn versions_url(&self) -> String {
        format!("{}/versions", self.server.config.base_url)
    }

    /// Our country code and party id.
    pub fn party(&self) -> (&str, &str) {
        (&self.settings.country_code, &self.settings.party_id)
    }

    fn storage(&self) -> &CpoStorage {
        &self.server.storage
    }

    /// Persists the registry's partners.
    pub async fn persist_partners(&self) {
        let peers: Vec<Peer> = {
            let r = self
                .server
                .registry
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            r.peers().cloned().collect()
        };
        let names = self.names.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for p in peers {
            let (state, registration) = match &p.state {
                PeerState::Pending => ("pending", None),
                PeerState::Registered(r) => ("registered", Some(registration_json(r).to_string())),
                PeerState::Unregistered => ("unregistered", None),
            };
            let row = PartnerRow {
                id: p.id as i64,
                token_hash: p.token_hash.clone(),
                state: state.into(),
                registration,
                name: names.get(&p.id).cloned(),
                created_at: now(),
                updated_at: now(),
            };
            if let Err(e) = self.db.put_partner(&row).await {
                tracing::error!(error = %e, "persisting an OCPI partner failed");
            }
        }
    }

    /// Issues a `TOKEN_A` for a new partner; returns its id and the token.
    pub async fn issue_token_a(&self, name: Option<String>) -> (u64, String) {
        let (id, token) = self
            .server
            .registry
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .issue_token_a();
        if let Some(n) = name {
            self.names
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id, n);
        }
        self.persist_partners().await;
        (id, token)
    }

    /// The registered partners: id and registration.
    fn registered(&self) -> Vec<(u64, Registration)> {
        let r = self
            .server
            .registry
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        r.peers()
            .filter_map(|p| match &p.state {
                PeerState::Registered(reg) => Some((p.id, reg.clone())),
                _ => None,
            })
            .collect()
    }

    /// A partner's registration.
    fn registration(&self, id: u64) -> Option<Registration> {
        let r = self
            .server
            .registry
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match r.peer(id).map(|p| &p.state) {
            Some(PeerState::Registered(reg)) => Some(reg.clone()),
            _ => None,
        }
    }

    /// Every partner as the operator API shows it.
    pub fn partners_json(&self) -> Vec<Value> {
        let names = self.names.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let r = self
            .server
            .registry
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut v: Vec<Value> = r
            .peers()
            .map(|p| {
                let mut o = json!({"id": p.id, "name": names.get(&p.id)});
                match &p.state {
                    PeerState::Pending => o["state"] = json!("pending"),
                    PeerState::Unregistered => o["state"] = json!("unregistered"),
                    PeerState::Registered(reg) => {
                        o["state"] = json!("registered");
                        o["version"] = json!(reg.version.to_string());
                        o["versions_url"] = json!(reg.versions_url);
                        o["roles"] = json!(reg.roles);
                        o["endpoints"] = json!(reg.endpoints);
                        o["hub"] = json!(ops::is_hub(reg));
                    }
                }
                o["health"] = self.ops.health_json(p.id);
                o
            })
            .collect();
        v.sort_by_key(|o| o["id"].as_u64());
        v
    }

    fn endpoint(reg: &Registration, module: &ModuleId, role: &InterfaceRole) -> Option<String> {
        reg.endpoints
            .iter()
            .find(|e: &&Endpoint| e.identifier == *module && e.role == *role)
            .map(|e| e.url.0.clone())
    }

    /// The partner that owns a party (an eMSP role with this country code and party id), or
    /// else the hub through which it is reached ([`ops`]' `hub_for_party`).
    fn owner_of(&self, country_code: &str, party_id: &str) -> Option<u64> {
        self.registered()
            .into_iter()
            .find_map(|(id, reg)| {
                reg.roles
                    .iter()
                    .any(|r| {
                        r.country_code.0.eq_ignore_ascii_case(country_code)
                            && r.party_id.0.eq_ignore_ascii_case(party_id)
                    })
                    .then_some(id)
            })
            .or_else(|| self.hub_for_party(country_code, party_id))
    }

    /// Queues a push to one partner (its Receiver interface of `module`), after the objects
    /// changed so far are in the database (a partner never hears of an object that a
    /// restart would lose).
    async fn push(
        &self,
        partner: u64,
        method: &str,
        module: &ModuleId,
        path: &[&str],
        body: &Value,
    ) {
        let row = OutboxRow {
            id: 0,
            partner_id: partner as i64,
            method: method.into(),
            module: module.to_string(),
            path: serde_json::to_string(path).unwrap_or_default(),
            body: body.to_string(),
            created_at: now(),
            attempts: 0,
            last_error: None,
            delivered_at: None,
            result: None,
        };
        self.storage().flush().await;
        match self.db.push_outbox(&row).await {
            Ok(_) => {
                self.ops.queued(partner);
                self.outbox_wake.notify_one()
            }
            Err(e) => tracing::error!(error = %e, partner, "queueing an OCPI push failed"),
        }
    }

    /// Queues a push to every registered partner with a Receiver interface of `module`.
    async fn push_all(&self, method: &str, module: &ModuleId, path: &[&str], body: &Value) {
        for (id, reg) in self.registered() {
            if Self::endpoint(&reg, module, &InterfaceRole::Receiver).is_some() {
                self.push(id, method, module, path, body).await;
            }
        }
    }

    /// The stored eMSP token with this uid (any party), or one given with a command.
    fn find_token(&self, uid: &str) -> Option<Value> {
        self.storage()
            .token_by_uid(uid)
            .into_iter()
            .next()
            .or_else(|| {
                self.command_tokens
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(uid, std::time::Instant::now())
            })
    }

    /// The sessions whose CDR could not be priced yet (`station`, `transaction`,
    /// `session_id`, `error`, `at`), for the operator.
    pub fn unpriced(&self) -> Vec<Value> {
        self.storage()
            .list_kind(sessions::UNPRICED, "SENDER")
            .into_iter()
            .map(|(_, v)| v)
            .collect()
    }

    /// Pushes queued to these partners by a write of their own (see
    /// [`storage::CpoStorage::put_with_pushes`]): counted and delivered like [`Self::push`]'s.
    fn pushes_queued(&self, partners: &[u64]) {
        for p in partners {
            self.ops.queued(*p);
        }
        self.outbox_wake.notify_one();
    }

    /// Real-time authorization at the eMSP owning `token`: `Err` when it cannot be reached.
    async fn realtime(&self, token: &Value, station: &str) -> Result<Value, String> {
        let cc = token
            .get("country_code")
            .and_then(Value::as_str)
            .unwrap_or("");
        let pid = token.get("party_id").and_then(Value::as_str).unwrap_or("");
        let uid = token.get("uid").and_then(Value::as_str).unwrap_or("");
        let ty = token.get("type").and_then(Value::as_str).unwrap_or("RFID");
        let partner = self
            .owner_of(cc, pid)
            .ok_or("no registered partner owns the token")?;
        let reg = self.registration(partner).ok_or("partner not registered")?;
        let url = Self::endpoint(&reg, &ModuleId::Tokens, &InterfaceRole::Sender)
            .ok_or("the partner offers no real-time authorization")?;
        if !self.ops.reachable(partner) {
            return Err("the partner's real-time authorization circuit is open".into());
        }
        let location = locations::references_of(self, station);
        let client = self.partner_client(
            partner,
            &reg,
            ModuleId::Tokens.as_str(),
            Some((cc.to_owned(), pid.to_owned())),
            None,
        );
        // Timed out here (not only by the caller) so that a hanging partner counts against
        // its real-time circuit.
        let r = tokio::time::timeout(
            self.settings.realtime_timeout,
            client.authorize_token::<Value, Value>(&url, uid, ty, location.as_ref()),
        )
        .await;
        self.ops.realtime_answered(partner, r.as_ref().ok());
        match r {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(_) => Err("no answer in time".into()),
        }
    }

    /// The decision on a token a station presented; `None` when no eMSP issued it.
    async fn authorize(&self, station: &str, version: OcppVersion, uid: &str) -> Option<TokenInfo> {
        let token = self.find_token(uid)?;
        let group = token
            .get("group_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let info = |allowed: &str| TokenInfo {
            status: match (allowed, version == OcppVersion::V16) {
                ("ALLOWED", _) => "Accepted",
                ("BLOCKED", _) => "Blocked",
                ("EXPIRED", _) => "Expired",
                ("NO_CREDIT", false) => "NoCredit",
                ("NOT_ALLOWED", false) => "NotAtThisLocation",
                ("UNREACHABLE", false) => "Unknown",
                _ => "Invalid",
            }
            .into(),
            expiry: None,
            group: group.clone(),
        };
        let valid = token.get("valid").and_then(Value::as_bool).unwrap_or(false);
        let whitelist = token
            .get("whitelist")
            .and_then(Value::as_str)
            .unwrap_or("ALLOWED");
        let from_list = if valid { "ALLOWED" } else { "BLOCKED" };
        // The reference of a real-time authorization, once given.
        let mut granted: Option<Option<String>> = None;
        let decided = match whitelist {
            "ALWAYS" | "ALLOWED" => from_list.to_owned(),
            "ALLOWED_OFFLINE" | "NEVER" => match tokio::time::timeout(
                self.settings.realtime_timeout,
                self.realtime(&token, station),
            )
            .await
            .unwrap_or_else(|_| Err("no answer in time".into()))
            {
                Ok(answer) => {
                    let reference = answer
                        .get("authorization_reference")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    let allowed = answer
                        .get("allowed")
                        .and_then(Value::as_str)
                        .unwrap_or("NOT_ALLOWED")
                        .to_owned();
                    if allowed == "ALLOWED" {
                        granted = Some(reference);
                    }
                    allowed
                }
                Err(e) if whitelist == "ALLOWED_OFFLINE" => {
                    tracing::warn!(error = %e, "eMSP unreachable: ALLOWED_OFFLINE token checked against the list");
                    from_list.to_owned()
                }
                Err(e) => {
                    tracing::warn!(error = %e, "eMSP unreachable: NEVER-whitelisted token refused");
                    "UNREACHABLE".to_owned()
                }
            },
            _ => from_list.to_owned(),
        };
        // A reference given by an earlier real-time authorization must not mark later
        // sessions of this token (decided from the list, or refused) as AUTH_REQUEST. It is
        // replaced only now, so that a session starting while the token is asked again
        // (a 2.x station presents it in each event) keeps its method.
        let mut refs = self.auth_refs.lock().unwrap_or_else(|e| e.into_inner());
        match granted {
            Some(r) => refs.insert(uid.to_owned(), r),
            None => refs.remove(uid),
        };
        drop(refs);
        Some(info(&decided))
    }

    /// The tariffs served (Sender interface), by id.
    fn tariff(&self, id: &str) -> Option<Value> {
        self.storage()
            .get_kind(ModuleId::Tariffs.as_str(), "SENDER", &[id.to_owned()])
    }
}

async fn persist_after_credentials(
    axum::extract::State(cpo): axum::extract::State<Weak<OcpiCpo>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let credentials = req.uri().path().ends_with("/credentials");
    let before: Vec<u64> = match (credentials, cpo.upgrade()) {
        (true, Some(c)) => c.registered().into_iter().map(|(id, _)| id).collect(),
        _ => Vec::new(),
    };
    let resp = next.run(req).await;
    if credentials {
        if let Some(cpo) = cpo.upgrade() {
            cpo.persist_partners().await;
            // A partner that just registered gets what others got while it was not there.
            for (id, _) in cpo.registered() {
                if !before.contains(&id) {
                    locations::catch_up(&cpo, id);
                }
            }
        }
    }
    resp
}

/// GET requests are served on behalf of the caller: the sessions and CDRs of other
/// partners' tokens are neither listed nor found (see [`storage::as_viewer`]).
async fn scope_to_caller(
    axum::extract::State(cpo): axum::extract::State<Weak<OcpiCpo>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if req.method() != axum::http::Method::GET {
        return next.run(req).await;
    }
    let Some(c) = cpo.upgrade() else {
        return next.run(req).await;
    };
    let auth = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let candidates =
        ocpi::transport::parse_authorization(auth, ocpi::transport::TokenEncoding::Base64, true)
            .unwrap_or_default();
    let peer = {
        let r = c.server.registry.lock().unwrap_or_else(|e| e.into_inner());
        candidates.iter().find_map(|t| {
            r.authenticate(t, ocpi::credentials::Scope::Module)
                .ok()
                .map(|caller| caller.peer)
        })
    };
    let viewer = peer.map(|peer| storage::Viewer {
        peer,
        parties: c
            .registered()
            .into_iter()
            .flat_map(|(id, reg)| {
                reg.roles
                    .into_iter()
                    .map(move |r| (id, r.country_code.0, r.party_id.0))
            })
            .collect(),
        hub: c.hub_for(),
    });
    drop(c);
    match viewer {
        Some(v) => storage::as_viewer(v, next.run(req)).await,
        // Not authenticated: the OCPI server refuses it.
        None => next.run(req).await,
    }
}

/// The storage keeps objects in memory and writes them to the database from a writer task
/// (the OCPI server's storage trait is synchronous). A partner's change must not be
/// acknowledged before it is in the database: every request that may change objects waits
/// for the writes issued so far; when one failed, an idempotent request (PUT, PATCH, DELETE)
/// is answered 500 / 3000 so that the partner sends it again.
async fn persist_before_answer(
    axum::extract::State(cpo): axum::extract::State<Weak<OcpiCpo>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::Method;
    use axum::response::IntoResponse;
    let method = req.method().clone();
    if method == Method::GET || method == Method::HEAD || method == Method::OPTIONS {
        return next.run(req).await;
    }
    let before = cpo.upgrade().map(|c| c.storage().failures());
    let resp = next.run(req).await;
    let Some(cpo) = cpo.upgrade() else {
        return resp;
    };
    cpo.storage().flush().await;
    let idempotent = method == Method::PUT || method == Method::PATCH || method == Method::DELETE;
    if idempotent && before.is_some_and(|b| cpo.storage().failures() > b) {
        let e = ocpi::transport::OcpiError::server_error(
            "the change could not be stored; send it again",
        );
        let mut out = (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(e.envelope()),
        )
            .into_response();
        for (k, v) in resp.headers() {
            if k.as_str().starts_with("x-") {
                out.headers_mut().insert(k.clone(), v.clone());
            }
        }
        return out;
    }
    resp
}

async fn event_task(cpo: Weak<OcpiCpo>, mut rx: mpsc::UnboundedReceiver<Work>) {
    while let Some(w) = rx.recv().await {
        let Some(cpo) = cpo.upgrade() else { return };
        match w {
            Work::Events(events) => {
                for e in events {
                    match e {
                        HookEvent::Status(rec) => locations::status_changed(&cpo, &rec).await,
                        HookEvent::TransactionUpdated {
                            station_id,
                            transaction_id,
                            ..
                        } => sessions::updated(&cpo, &station_id, &transaction_id).await,
                    }
                }
            }
            Work::Tx(c) if c.started => {
                sessions::started(&cpo, &c.station_id, &c.transaction_id).await
            }
            Work::Tx(c) => sessions::ended(&cpo, &c.station_id, &c.transaction_id).await,
            Work::Flush(done) => {
                let _ = done.send(());
            }
            Work::Reconcile(from) => {
                if let Some(next) = sessions::reconcile(&cpo, from).await {
                    let _ = cpo.work.send(Work::Reconcile(next));
                }
            }
            Work::Reprice => sessions::reprice(&cpo).await,
        }
    }
}

/// Asks the event task to price again the sessions that could not be priced, after every
/// change of the tariffs.
async fn reprice_task(cpo: Weak<OcpiCpo>, changed: Arc<Notify>) {
    loop {
        changed.notified().await;
        let Some(c) = cpo.upgrade() else { return };
        let _ = c.work.send(Work::Reprice);
    }
}

/// The bridge's side of the domain: token authority, change listener.
struct Hooks(Weak<OcpiCpo>);

#[async_trait]
impl DomainHooks for Hooks {
    async fn authorize(
        &self,
        station_id: &str,
        version: OcppVersion,
        token: &str,
        _token_type: &str,
    ) -> Option<TokenInfo> {
        let cpo = self.0.upgrade()?;
        cpo.authorize(station_id, version, token).await
    }
    fn committed(&self, events: Vec<HookEvent>) {
        if let Some(cpo) = self.0.upgrade() {
            let _ = cpo.work.send(Work::Events(events));
        }
    }
}

impl crate::domain::TransactionListener for Hooks {
    fn transaction_changed(&self, change: TransactionChange) {
        if let Some(cpo) = self.0.upgrade() {
            let _ = cpo.work.send(Work::Tx(change));
        }
    }
}
