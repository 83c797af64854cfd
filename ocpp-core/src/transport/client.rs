//! The WebSocket client of the charging-station role.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ocpp_types::{OcppVersion, Protocol};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, Uri};
use tokio_tungstenite::tungstenite::{self};

use super::io::{Inner, Io};
use super::session::{ChannelOutbound, Command, Session, Ws};
use super::util::random_u64;
use super::{percent_encode, DisconnectReason, TransportConfig};
use crate::{BootState, Config, Dispatch, Engine, OfflineQueue, Peer, RequestError, StationConfig};

/// Reconnect delays: exponential from `initial` to `max`, each with random jitter.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Backoff {
    /// The first delay. Default 1 s.
    pub initial: Duration,
    /// The largest delay. Default 60 s.
    pub max: Duration,
    /// The share of each delay drawn at random (0.0 none, 1.0 anywhere between 0 and the
    /// delay). Default 0.5: between half the delay and the delay.
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            jitter: 0.5,
        }
    }
}

impl Backoff {
    /// The delay before reconnect attempt `attempt` (0 for the first retry).
    pub fn delay(&self, attempt: u32) -> Duration {
        let base = self
            .initial
            .saturating_mul(2u32.saturating_pow(attempt.min(20)))
            .min(self.max);
        let jitter = self.jitter.clamp(0.0, 1.0);
        let r = (random_u64() >> 11) as f64 / (1u64 << 53) as f64;
        base.mul_f64(1.0 - jitter * r)
    }
}

/// Why a [`StationClientBuilder`] could not start, or a connection attempt failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The configuration is inconsistent (URL, profile, credentials, versions).
    #[error("configuration: {0}")]
    Config(String),
    /// The station's BootNotification was refused by the engine.
    #[error("boot request: {0}")]
    Boot(#[from] RequestError),
    /// TCP, TLS or HTTP failure.
    #[error("connect: {0}")]
    Connect(String),
    /// The CSMS answered HTTP 401.
    #[error("the CSMS refused the credentials (HTTP 401)")]
    Unauthorized,
    /// The CSMS refused the upgrade with another HTTP status.
    #[error("the CSMS refused the upgrade: HTTP {0}")]
    Refused(u16),
    /// The CSMS chose no subprotocol, or one that was not offered.
    #[error("subprotocol negotiation failed: {0}")]
    Subprotocol(String),
}

/// The state of a [`StationClient`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientStatus {
    /// The version of the current connection; `None` while disconnected.
    pub connected: Option<OcppVersion>,
    /// The boot state of the current (or last) version's session.
    pub boot: BootState,
    /// Connections made so far.
    pub connections: u64,
    /// The last connection error or disconnect reason.
    pub last_error: Option<String>,
}

type Socket = (Ws, oneshot::Sender<DisconnectReason>);
type Started = (
    Box<dyn Any + Send + Sync>,
    mpsc::Sender<Socket>,
    JoinHandle<()>,
);

trait Slot: Send {
    fn version(&self) -> OcppVersion;
    fn start(self: Box<Self>, ctx: SlotContext) -> Result<Started, ClientError>;
}

struct SlotContext {
    station_id: Arc<str>,
    security_profile: u8,
    engine: Config,
    transport: TransportConfig,
    shutdown: watch::Receiver<bool>,
    status: watch::Sender<ClientStatus>,
}

struct VersionSlot<P: Protocol, Q: OfflineQueue> {
    dispatch: Arc<dyn Dispatch<P>>,
    station: StationConfig<P>,
    queue: Q,
}

impl<P: Protocol, Q: OfflineQueue + Send + 'static> Slot for VersionSlot<P, Q> {
    fn version(&self) -> OcppVersion {
        P::VERSION
    }

    fn start(self: Box<Self>, ctx: SlotContext) -> Result<Started, ClientError> {
        let mut cfg = ctx.engine.clone();
        cfg.station_id = ctx.station_id.to_string();
        let now = Instant::now();
        let mut engine = Engine::station(now, cfg, self.station, self.queue)?;
        // Not connected yet: the boot goes out on the first connection.
        engine.handle_disconnect(now);
        let (tx, cmds) = mpsc::channel(ctx.transport.command_queue.max(1));
        let peer = Peer::<P>::new(Arc::new(ChannelOutbound { tx }));
        let mut session = Session::new(
            engine,
            self.dispatch,
            ctx.station_id.clone(),
            ctx.security_profile,
            peer.clone(),
        );
        let (boot_tx, boot_rx) = watch::channel(BootState::NotBooted);
        session.boot = Some(boot_tx);
        session.process_events();
        let (sock_tx, sockets) = mpsc::channel(1);
        let task = tokio::spawn(slot_loop(session, cmds, sockets, ctx, boot_rx));
        Ok((Box::new(peer), sock_tx, task))
    }
}

async fn slot_loop<P: Protocol, Q: OfflineQueue>(
    mut session: Session<P, Q>,
    mut cmds: mpsc::Receiver<Command<P>>,
    mut sockets: mpsc::Receiver<Socket>,
    mut ctx: SlotContext,
    mut boot: watch::Receiver<BootState>,
) {
    let kick = Notify::new();
    loop {
        if *ctx.shutdown.borrow() {
            return;
        }
        let timer = session
            .engine
            .poll_timeout()
            .map(tokio::time::Instant::from_std);
        tokio::select! {
            r = ctx.shutdown.changed() => {
                if r.is_err() { return; }
            }
            s = sockets.recv() => {
                let Some((mut ws, done)) = s else { return };
                session.engine.handle_connect(Instant::now());
                ctx.status.send_modify(|s| {
                    s.connected = Some(P::VERSION);
                    s.connections += 1;
                });
                let status = ctx.status.clone();
                let mut b = boot.clone();
                let watcher = tokio::spawn(async move {
                    loop {
                        let state = *b.borrow_and_update();
                        status.send_modify(|s| s.boot = state);
                        if b.changed().await.is_err() { break; }
                    }
                });
                let reason = session
                    .run_connected(&mut ws, &mut cmds, &mut ctx.shutdown, &kick, &ctx.transport)
                    .await;
                watcher.abort();
                session.disconnected();
                tracing::info!(station = %ctx.station_id, %reason, "disconnected");
                ctx.status.send_modify(|s| {
                    s.connected = None;
                    s.last_error = Some(reason.to_string());
                });
                let _ = done.send(reason);
            }
            cmd = cmds.recv() => match cmd {
                Some(cmd) => session.handle_command(cmd),
                None => return,
            },
            joined = session.running(), if session.has_running() => session.finish_running(joined),
            _ = async { tokio::time::sleep_until(timer.expect("guarded")).await }, if timer.is_some() => {
                session.engine.handle_timeout(Instant::now());
                session.process_events();
            }
        }
        // While disconnected nothing can be written; the engine keeps no frames either.
        while session.engine.poll_transmit().is_some() {}
        let _ = boot.borrow_and_update();
    }
}

/// Builds a [`StationClient`]: identity, CSMS URL, versions to offer, security profile and
/// credentials, handlers and offline queue per version.
///
/// ```no_run
/// # async fn f(dispatch: std::sync::Arc<dyn ocpp_core::Dispatch<ocpp_core::testing::Mini201>>,
/// #            boot: <ocpp_core::testing::Mini201 as ocpp_core::types::Protocol>::AnyRequest)
/// #            -> Result<(), ocpp_core::transport::ClientError> {
/// use ocpp_core::transport::StationClient;
/// use ocpp_core::{MemoryQueue, StationConfig};
/// let client = StationClient::builder("ws://csms.example:9000/ocpp", "CS-0001")
///     .security_profile(1)
///     .password("secret")
///     .version(dispatch, StationConfig::new(boot), MemoryQueue::new())
///     .start()?;
/// # Ok(()) }
/// ```
pub struct StationClientBuilder {
    url: String,
    station_id: String,
    security_profile: u8,
    password: Option<Vec<u8>>,
    #[cfg(feature = "tls")]
    tls: Option<super::ClientTls>,
    slots: Vec<Box<dyn Slot>>,
    transport: TransportConfig,
    engine: Config,
    backoff: Backoff,
}

impl fmt::Debug for StationClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StationClientBuilder")
            .field("url", &self.url)
            .field("station_id", &self.station_id)
            .field("security_profile", &self.security_profile)
            .finish_non_exhaustive()
    }
}

impl StationClientBuilder {
    /// The security profile (0 to 3): 1 sends HTTP Basic auth, 2 also needs a `wss://` URL,
    /// 3 needs `wss://` and a client certificate in [`tls`](Self::tls). Default 0.
    pub fn security_profile(mut self, profile: u8) -> Self {
        self.security_profile = profile;
        self
    }

    /// The Basic-auth password (profiles 1 and 2); the user is the station id.
    pub fn password(mut self, password: impl AsRef<[u8]>) -> Self {
        self.password = Some(password.as_ref().to_vec());
        self
    }

    /// TLS settings for `wss://` (CA roots, and the client certificate for profile 3).
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: super::ClientTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Offers version `P` with these handlers (the version crate's `station::Router`), this
    /// BootNotification and offline queue. Versions are offered in the order they are added.
    pub fn version<P: Protocol, Q: OfflineQueue + Send + 'static>(
        mut self,
        dispatch: Arc<dyn Dispatch<P>>,
        station: StationConfig<P>,
        queue: Q,
    ) -> Self {
        self.slots.push(Box::new(VersionSlot {
            dispatch,
            station,
            queue,
        }));
        self
    }

    /// WebSocket settings (keepalive, maximum message size, queues, drain timeout).
    pub fn transport(mut self, config: TransportConfig) -> Self {
        self.transport = config;
        self
    }

    /// Engine settings (call timeout, decode options, ...).
    pub fn engine(mut self, config: Config) -> Self {
        self.engine = config;
        self
    }

    /// Reconnect delays.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Checks the settings and starts connecting in the background (within a tokio runtime).
    pub fn start(self) -> Result<StationClient, ClientError> {
        let target = Target::new(&self)?;
        let (shutdown_tx, shutdown) = watch::channel(false);
        let (status, status_rx) = watch::channel(ClientStatus {
            connected: None,
            boot: BootState::NotBooted,
            connections: 0,
            last_error: None,
        });
        let station_id: Arc<str> = self.station_id.as_str().into();
        let mut peers = HashMap::new();
        let mut sockets = HashMap::new();
        let mut tasks = Vec::new();
        for slot in self.slots {
            let v = slot.version();
            let (peer, sock, task) = slot.start(SlotContext {
                station_id: station_id.clone(),
                security_profile: self.security_profile,
                engine: self.engine.clone(),
                transport: self.transport.clone(),
                shutdown: shutdown.clone(),
                status: status.clone(),
            })?;
            peers.insert(v, peer);
            sockets.insert(v, sock);
            tasks.push(task);
        }
        tasks.push(tokio::spawn(connect_loop(
            target,
            sockets,
            self.backoff,
            self.transport,
            shutdown,
            status,
        )));
        Ok(StationClient {
            station_id,
            peers,
            status: status_rx,
            shutdown: shutdown_tx,
            tasks,
        })
    }
}

/// A charging station's connection to its CSMS, kept up in the background: it reconnects with
/// exponential backoff and jitter, boots on every connection until the CSMS accepts, sends
/// heartbeats, and replays the offline queue of transaction messages after a reconnect.
pub struct StationClient {
    station_id: Arc<str>,
    peers: HashMap<OcppVersion, Box<dyn Any + Send + Sync>>,
    status: watch::Receiver<ClientStatus>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl fmt::Debug for StationClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StationClient")
            .field("station_id", &self.station_id)
            .field("status", &*self.status.borrow())
            .finish()
    }
}

impl StationClient {
    /// A builder for station `station_id` of the CSMS at `url` (`ws://` or `wss://`, the path
    /// without the station id, which is appended percent-encoded).
    pub fn builder(url: impl Into<String>, station_id: impl Into<String>) -> StationClientBuilder {
        StationClientBuilder {
            url: url.into(),
            station_id: station_id.into(),
            security_profile: 0,
            password: None,
            #[cfg(feature = "tls")]
            tls: None,
            slots: Vec::new(),
            transport: TransportConfig::default(),
            engine: Config::default(),
            backoff: Backoff::default(),
        }
    }

    /// The typed handle to the CSMS for version `P` (if `P` was offered):
    /// `client.peer::<Ocpp201>()?.call(StatusNotificationRequest { .. }).await`.
    /// Calls fail with [`CallFailure::Disconnected`](crate::CallFailure::Disconnected) while
    /// `P` is not the connected version, except transaction-related messages, which wait in
    /// the offline queue.
    pub fn peer<P: Protocol>(&self) -> Option<Peer<P>> {
        self.peers
            .get(&P::VERSION)
            .and_then(|p| p.downcast_ref::<Peer<P>>())
            .cloned()
    }

    /// The connection state; `.wait_for(|s| s.boot == BootState::Accepted)` on it waits for an
    /// accepted boot.
    pub fn status(&self) -> watch::Receiver<ClientStatus> {
        self.status.clone()
    }

    /// Graceful shutdown: lets the calls in flight finish (up to
    /// [`TransportConfig::drain_timeout`]), closes the connection and stops reconnecting.
    pub async fn shutdown(self) {
        self.shutdown.send_replace(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Where and how to connect.
struct Target {
    uri: Uri,
    host: String,
    port: u16,
    tls: bool,
    offered: Vec<OcppVersion>,
    authorization: Option<HeaderValue>,
    #[cfg(feature = "tls")]
    connector: Option<tokio_rustls::TlsConnector>,
}

impl Target {
    fn new(b: &StationClientBuilder) -> Result<Self, ClientError> {
        let bad = |s: String| ClientError::Config(s);
        if b.slots.is_empty() {
            return Err(bad("no version to offer".into()));
        }
        let mut offered = Vec::new();
        for s in &b.slots {
            if offered.contains(&s.version()) {
                return Err(bad(format!("version {} added twice", s.version())));
            }
            offered.push(s.version());
        }
        let full = format!(
            "{}/{}",
            b.url.trim_end_matches('/'),
            percent_encode(&b.station_id)
        );
        let uri: Uri = full.parse().map_err(|e| bad(format!("URL {full}: {e}")))?;
        let tls = match uri.scheme_str() {
            Some("ws") => false,
            Some("wss") => true,
            _ => return Err(bad(format!("URL {full}: ws:// or wss:// expected"))),
        };
        let host = uri
            .host()
            .ok_or_else(|| bad(format!("URL {full}: no host")))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let p = b.security_profile;
        if p > 3 {
            return Err(bad(format!("unknown security profile {p}")));
        }
        if p >= 2 && !tls {
            return Err(bad(format!("security profile {p} needs a wss:// URL")));
        }
        let authorization = match (p, &b.password) {
            (1 | 2, Some(pw)) => {
                use base64::Engine as _;
                let mut raw = format!("{}:", b.station_id).into_bytes();
                raw.extend_from_slice(pw);
                let v = format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                );
                Some(HeaderValue::from_str(&v).map_err(|e| bad(e.to_string()))?)
            }
            (1 | 2, None) => return Err(bad(format!("security profile {p} needs a password"))),
            _ => None,
        };
        #[cfg(feature = "tls")]
        let connector = match (&b.tls, tls) {
            (Some(t), true) => Some(tokio_rustls::TlsConnector::from(t.config.clone())),
            (None, true) => return Err(bad("wss:// needs TLS settings (.tls)".into())),
            _ => None,
        };
        #[cfg(not(feature = "tls"))]
        if tls {
            return Err(bad("wss:// needs the `tls` feature of ocpp-core".into()));
        }
        Ok(Target {
            uri,
            host,
            port,
            tls,
            offered,
            authorization,
            #[cfg(feature = "tls")]
            connector,
        })
    }

    async fn connect(&self, cfg: &TransportConfig) -> Result<(Ws, OcppVersion), ClientError> {
        let cerr = |e: &dyn fmt::Display| ClientError::Connect(e.to_string());
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| cerr(&e))?;
        let _ = tcp.set_nodelay(true);
        let io = if self.tls {
            #[cfg(feature = "tls")]
            {
                let connector = self.connector.as_ref().expect("checked in new");
                let name = rustls_pki_types::ServerName::try_from(self.host.clone())
                    .map_err(|e| cerr(&e))?;
                let s = connector.connect(name, tcp).await.map_err(|e| cerr(&e))?;
                Io::new(Inner::ClientTls(Box::new(s)))
            }
            #[cfg(not(feature = "tls"))]
            unreachable!("checked in new")
        } else {
            Io::new(Inner::Plain(tcp))
        };
        let mut req = (&self.uri).into_client_request().map_err(|e| cerr(&e))?;
        let offer = self
            .offered
            .iter()
            .map(|v| v.subprotocol())
            .collect::<Vec<_>>()
            .join(", ");
        let h = req.headers_mut();
        h.insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_str(&offer).map_err(|e| cerr(&e))?,
        );
        if let Some(a) = &self.authorization {
            h.insert("Authorization", a.clone());
        }
        let (ws, resp) =
            tokio_tungstenite::client_async_with_config(req, io, Some(cfg.ws_config()))
                .await
                .map_err(|e| match e {
                    tungstenite::Error::Http(r) if r.status().as_u16() == 401 => {
                        ClientError::Unauthorized
                    }
                    tungstenite::Error::Http(r) => ClientError::Refused(r.status().as_u16()),
                    tungstenite::Error::Protocol(
                        p @ tungstenite::error::ProtocolError::SecWebSocketSubProtocolError(_),
                    ) => ClientError::Subprotocol(p.to_string()),
                    e => cerr(&e),
                })?;
        let chosen = resp
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let version = OcppVersion::from_subprotocol(chosen)
            .filter(|v| self.offered.contains(v))
            .ok_or_else(|| ClientError::Subprotocol(format!("the CSMS chose {chosen:?}")))?;
        Ok((ws, version))
    }
}

async fn connect_loop(
    target: Target,
    sockets: HashMap<OcppVersion, mpsc::Sender<Socket>>,
    backoff: Backoff,
    cfg: TransportConfig,
    mut shutdown: watch::Receiver<bool>,
    status: watch::Sender<ClientStatus>,
) {
    let mut attempt = 0u32;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let connected = tokio::select! {
            r = tokio::time::timeout(cfg.handshake_timeout, target.connect(&cfg)) => {
                r.unwrap_or_else(|_| Err(ClientError::Connect("timed out".into())))
            }
            _ = shutdown.changed() => return,
        };
        match connected {
            Ok((ws, version)) => {
                tracing::info!(url = %target.uri, %version, "connected");
                attempt = 0;
                let (done, finished) = oneshot::channel();
                if sockets[&version].send((ws, done)).await.is_err() {
                    return;
                }
                let _ = finished.await;
            }
            Err(e) => {
                tracing::warn!(url = %target.uri, error = %e, attempt, "connection failed");
                status.send_modify(|s| s.last_error = Some(e.to_string()));
            }
        }
        let delay = backoff.delay(attempt);
        attempt = attempt.saturating_add(1);
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            jitter: 0.5,
        };
        for attempt in 0..10 {
            let full = Duration::from_millis(100 * 2u64.pow(attempt)).min(Duration::from_secs(1));
            let d = b.delay(attempt);
            assert!(d <= full && d >= full / 2, "{attempt}: {d:?}");
        }
        let none = Backoff { jitter: 0.0, ..b };
        assert_eq!(none.delay(2), Duration::from_millis(400));
    }
}
