//! Starting and stopping the whole CSMS: storage, the OCPP listener, the operator API.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ocpp_core::transport::{Connections, Server, ServerTls};
use ocpp_types::DecodeOptions;
use tokio::sync::watch;

use crate::config::Settings;
use crate::domain::{now, Csms, DomainSettings};
use crate::metrics::Metrics;
use crate::ocpp::{hash_password, Observer, StoreAuthenticator, VersionStack};
use crate::store::{PgStore, SqliteStore, Store, StoreError};

/// Why the CSMS could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error("database {url}: {source}")]
    Store {
        /// The URL (without password).
        url: String,
        /// The cause.
        source: StoreError,
    },
    /// A listener could not be bound.
    #[error("cannot listen on {addr} ({setting}): {source}")]
    Bind {
        /// The setting.
        setting: &'static str,
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// TLS settings were refused.
    #[error("tls: {0}")]
    Tls(String),
    /// A station password could not be hashed.
    #[error("hashing the password of station {0}: {1}")]
    Password(String, String),
    /// The OCPI bridge could not start.
    #[error("ocpi: {0}")]
    Ocpi(#[from] crate::ocpi_cpo::OcpiStartError),
    /// The data key of encryption at rest could not be loaded, or does not open this
    /// database.
    #[error("encryption at rest: {0}")]
    AtRest(#[from] crate::at_rest::PrepareError),
}

/// Opens the store a database URL names.
pub async fn open_store(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    open_store_with_timeout(url, crate::store::DEFAULT_STORE_TIMEOUT).await
}

/// Opens the store a database URL names, with how long one database operation may wait (a
/// lock, a connection, a statement) before it fails (`store_timeout`).
pub async fn open_store_with_timeout(
    url: &str,
    timeout: Duration,
) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(
            SqliteStore::connect_with_timeout(url, timeout).await?,
        ))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(
            PgStore::connect_with_timeout(url, None, timeout).await?,
        ))
    } else {
        Err(StoreError::UnsupportedUrl(url.into()))
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(a), Some(b)) if b > a => match url[a + 3..b].find(':') {
            Some(c) => format!("{}:***{}", &url[..a + 3 + c], &url[b..]),
            None => url.into(),
        },
        _ => url.into(),
    }
}

/// A running CSMS.
#[derive(Debug)]
pub struct RunningCsms {
    /// The OCPP listener's address.
    pub ocpp_addr: SocketAddr,
    /// The operator API's address.
    pub api_addr: SocketAddr,
    /// Whether the OCPP listener is TLS.
    pub tls: bool,
    /// The domain.
    pub csms: Arc<Csms>,
    /// The connected stations.
    pub connections: Connections,
    /// The operator API token generated at start-up (the API is protected and no credential
    /// was configured): print it once for the operator, never log it.
    pub generated_api_token: Option<String>,
    /// Whether the operator API needs credentials.
    pub api_protected: bool,
    /// The OCPI CPO bridge, when enabled.
    pub ocpi: Option<Arc<crate::ocpi_cpo::OcpiCpo>>,
    server: Server,
    api_stop: watch::Sender<bool>,
    api_task: tokio::task::JoinHandle<()>,
}

impl RunningCsms {
    /// The station URL to print (`ws://host:port/ocpp/<stationId>`).
    pub fn station_url(&self) -> String {
        format!(
            "{}://{}/ocpp/<stationId>",
            if self.tls { "wss" } else { "ws" },
            self.ocpp_addr
        )
    }

    /// The API base URL.
    pub fn api_url(&self) -> String {
        format!("http://{}/api", self.api_addr)
    }

    /// Graceful shutdown: the API stops, every station connection finishes its calls in flight
    /// and is closed.
    pub async fn shutdown(self) {
        if let Some(o) = &self.ocpi {
            o.shutdown().await;
        }
        self.api_stop.send_replace(true);
        self.server.shutdown().await;
        let _ = tokio::time::timeout(Duration::from_secs(5), self.api_task).await;
        let _ = self.csms.store().reset_connected().await;
    }
}

/// How often reservations past their expiry are set `Expired`.
pub const RESERVATION_SWEEP: Duration = Duration::from_secs(5);

/// The background sweep of expired reservations, until `stop`.
async fn expire_reservations(csms: Arc<Csms>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(RESERVATION_SWEEP);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        match csms.store().expire_reservations(chrono::Utc::now()).await {
            Ok(expired) => {
                for r in expired {
                    tracing::info!(station = %r.station_id, reservation = r.id, expiry = %r.expiry, "reservation expired");
                }
            }
            Err(e) => tracing::warn!(error = %e, "expiring reservations failed"),
        }
    }
}

/// Opens the store a database URL names with encryption at rest ([`crate::at_rest`]): checks
/// the key against the database and encrypts the values stored in plaintext before.
pub async fn open_store_encrypted(
    url: &str,
    timeout: Duration,
    cipher: crate::at_rest::Cipher,
) -> Result<Arc<dyn Store>, StartError> {
    let st = |source| StartError::Store {
        url: redact(url),
        source,
    };
    let sealed;
    let store: Arc<dyn Store> = if url.starts_with("sqlite:") {
        let s = SqliteStore::connect_with_timeout(url, timeout)
            .await
            .map_err(st)?
            .with_cipher(cipher);
        sealed = crate::at_rest::prepare(&s).await?;
        Arc::new(s)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let s = PgStore::connect_with_timeout(url, None, timeout)
            .await
            .map_err(st)?
            .with_cipher(cipher);
        sealed = crate::at_rest::prepare(&s).await?;
        Arc::new(s)
    } else {
        return Err(st(StoreError::UnsupportedUrl(url.into())));
    };
    if sealed > 0 {
        tracing::warn!(rows = sealed, "encrypted rows stored in plaintext before");
    }
    Ok(store)
}

/// Starts the CSMS with validated settings. Personal data and partner credentials are
/// encrypted at rest with the data key ([`crate::at_rest::load_key`]).
pub async fn start(settings: Settings) -> Result<RunningCsms, StartError> {
    let (key, source) =
        crate::at_rest::load_key(settings.data_key_file.as_deref(), &settings.database_url)
            .map_err(crate::at_rest::PrepareError::from)?;
    match &source {
        crate::at_rest::KeySource::Generated(_) => {
            tracing::warn!(key = %source, "generated the data key of encryption at rest: back it up apart from the database")
        }
        _ => tracing::info!(key = %source, "data key of encryption at rest"),
    }
    let store = open_store_encrypted(
        &settings.database_url,
        settings.store_timeout,
        crate::at_rest::Cipher::new(key),
    )
    .await?;
    start_with_store(settings, store).await
}

/// Starts the CSMS over a store the caller opened (their own [`Store`] implementation).
pub async fn start_with_store(
    settings: Settings,
    store: Arc<dyn Store>,
) -> Result<RunningCsms, StartError> {
    let st = |source| StartError::Store {
        url: redact(&settings.database_url),
        source,
    };
    store.reset_connected().await.map_err(st)?;
    for s in &settings.stations {
        let hash = match &s.password {
            Some(p) => {
                let p = p.clone();
                Some(
                    tokio::task::spawn_blocking(move || hash_password(&p))
                        .await
                        .map_err(|e| StartError::Password(s.id.clone(), e.to_string()))?
                        .map_err(|e| StartError::Password(s.id.clone(), e))?,
                )
            }
            None => None,
        };
        store
            .set_station_auth(
                &s.id,
                s.security_profile.map(i64::from),
                hash.as_deref(),
                &now(),
            )
            .await
            .map_err(st)?;
    }
    let metrics = Arc::new(Metrics::default());
    let csms = Arc::new(Csms::new(
        store,
        DomainSettings {
            unknown_stations: settings.unknown_stations,
            accept_unknown_tokens: settings.accept_unknown_tokens,
            heartbeat_interval: settings.heartbeat_interval,
            pending_interval: 30,
        },
        metrics,
    ));
    let mut engine = ocpp_core::Config::default();
    engine.call_timeout = Duration::from_secs(settings.call_timeout);
    if settings.lenient {
        engine.decode_options = DecodeOptions::LENIENT;
    }
    let mut builder = Server::builder()
        .path("/ocpp")
        .protocol::<ocpp16::Ocpp16>(Arc::new(VersionStack::new(csms.clone())))
        .protocol::<ocpp201::Ocpp201>(Arc::new(VersionStack::new(csms.clone())))
        .protocol::<ocpp21::Ocpp21>(Arc::new(VersionStack::new(csms.clone())))
        .authenticator(StoreAuthenticator::new(
            csms.clone(),
            settings.security_profile,
        ))
        .observer(Observer {
            csms: csms.clone(),
            leniency: Arc::new(
                settings
                    .stations
                    .iter()
                    .filter_map(|s| s.lenient.map(|l| (s.id.clone(), l)))
                    .collect(),
            ),
            current: Arc::default(),
        })
        .engine(engine)
        .transport(settings.connection_limits.transport());
    let tls = settings.tls.is_some();
    if let Some((cert, key, ca)) = &settings.tls {
        let t = ServerTls::from_pem(cert, key, ca.as_deref())
            .map_err(|e| StartError::Tls(e.to_string()))?;
        builder = builder.tls(t);
    }
    let server = builder
        .bind(settings.ocpp_listen)
        .await
        .map_err(|source| StartError::Bind {
            setting: "ocpp_listen",
            addr: settings.ocpp_listen,
            source,
        })?;
    let connections = server.connections();
    csms.add_transaction_listener(Arc::new(crate::smart_charging::SmartChargingListener::new(
        &csms,
        connections.clone(),
    )));
    let listener = tokio::net::TcpListener::bind(settings.api_listen)
        .await
        .map_err(|source| StartError::Bind {
            setting: "api_listen",
            addr: settings.api_listen,
            source,
        })?;
    let api_addr = listener.local_addr().map_err(|source| StartError::Bind {
        setting: "api_listen",
        addr: settings.api_listen,
        source,
    })?;
    let mut app = crate::api::router(crate::api::ApiState {
        csms: csms.clone(),
        connections: connections.clone(),
    });
    let ocpi = match &settings.ocpi {
        Some(o) => {
            // Partner-supplied URLs pass the fetch policy (process-wide: the OCPI client's).
            settings.fetch_allow.install();
            let cpo = crate::ocpi_cpo::OcpiCpo::start(o.clone(), csms.clone(), connections.clone())
                .await?;
            // The OCPI routes get the cross-site-write check of the API router too (that
            // layer is inside `api::router`, so it does not cover routes merged here).
            app = app.merge(crate::ocpi_cpo::api::routes(cpo.clone()).layer(
                axum::middleware::from_fn(crate::dashboard::same_origin_writes),
            ));
            Some(cpo)
        }
        None => None,
    };
    // The dashboard's OCPI page: the bridge's partners and CDRs, or how to enable it.
    app = app.merge(crate::dashboard::ocpi_routes(&csms, ocpi.clone()));
    // Authentication goes over the finished router, so it covers every route mounted in it.
    let (app, generated_api_token) = match crate::api_auth::ApiCredentials::from_settings(
        &settings.api_auth,
        csms.metrics().clone(),
    ) {
        Some((creds, generated)) => (crate::api_auth::protect(app, creds), generated),
        None => {
            if !api_addr.ip().is_loopback() {
                tracing::warn!(addr = %api_addr, "the operator API listens beyond loopback without authentication (api_auth = off)");
                (app, None)
            } else {
                // Open on loopback: only requests addressed to loopback (DNS rebinding).
                (crate::api_auth::loopback_host_only(app), None)
            }
        }
    };
    let api_protected = settings.api_auth.enabled;
    let (api_stop, mut stop_rx) = watch::channel(false);
    tokio::spawn(expire_reservations(csms.clone(), stop_rx.clone()));
    let api_task = tokio::spawn(async move {
        let r = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop_rx.wait_for(|s| *s).await;
            })
            .await;
        if let Err(e) = r {
            tracing::error!(error = %e, "the API server failed");
        }
    });
    Ok(RunningCsms {
        ocpp_addr: server.local_addr(),
        api_addr,
        tls,
        csms,
        connections,
        generated_api_token,
        api_protected,
        ocpi,
        server,
        api_stop,
        api_task,
    })
}
