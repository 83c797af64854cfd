//! The WebSocket server of the CSMS role.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use ocpp_types::{OcppVersion, Protocol};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;

use super::auth::{parse_basic, AuthRequest, Authenticator, ClientCertificate};
use super::io::{Inner, Io};
use super::registry::{ConnectionInfo, ConnectionObserver, Connections, StationHandle};
use super::session::{ChannelOutbound, Session, Ws};
use super::{percent_decode, TransportConfig};
use crate::{Config, Dispatch, Engine, Peer};

const MAX_HEAD: usize = 16 * 1024;

struct Accepted {
    station_id: Arc<str>,
    security_profile: u8,
    remote_addr: SocketAddr,
}

#[async_trait]
trait Stack: Send + Sync {
    async fn serve(&self, shared: Arc<Shared>, conn: Accepted, ws: Ws);
}

struct VersionStack<P: Protocol> {
    dispatch: Arc<dyn Dispatch<P>>,
}

#[async_trait]
impl<P: Protocol> Stack for VersionStack<P> {
    async fn serve(&self, shared: Arc<Shared>, conn: Accepted, mut ws: Ws) {
        let mut cfg = shared.engine.clone();
        cfg.station_id = conn.station_id.to_string();
        let (tx, mut cmds) = mpsc::channel(shared.transport.command_queue.max(1));
        let peer = Peer::<P>::new(Arc::new(ChannelOutbound { tx }));
        let kick = Arc::new(Notify::new());
        let info = ConnectionInfo {
            station_id: conn.station_id.clone(),
            version: P::VERSION,
            security_profile: conn.security_profile,
            remote_addr: conn.remote_addr,
            connection_id: shared.next_id.fetch_add(1, Ordering::Relaxed),
            connected_at: SystemTime::now(),
        };
        let handle = StationHandle {
            info: info.clone(),
            peer: Arc::new(peer.clone()),
            kick: kick.clone(),
        };
        tracing::info!(station = %info.station_id, version = %P::VERSION, profile = info.security_profile, remote = %info.remote_addr, "station connected");
        if let Some(old) = shared.connections.insert(handle.clone()) {
            tracing::info!(station = %info.station_id, "replacing the older connection");
            old.kick.notify_one();
        }
        if let Some(o) = &shared.observer {
            o.connected(&handle).await;
        }
        drop(handle);
        let (known, decode_options) = match &shared.observer {
            Some(o) => (o.boot_state(&info).await, o.decode_options(&info).await),
            None => (None, None),
        };
        if let Some(opts) = decode_options {
            cfg.decode_options = opts;
        }
        if let Some(state) = known {
            cfg.boot_state = state;
        } else if shared.accepted(&conn.station_id) {
            // OCPP lets an accepted station reconnect without a new BootNotification.
            cfg.boot_state = crate::BootState::Accepted;
        }
        let mut session = Session::new(
            Engine::<P>::csms(cfg),
            self.dispatch.clone(),
            conn.station_id.clone(),
            conn.security_profile,
            peer,
        );
        let (boot_tx, boot_rx) = watch::channel(cfg_boot(&session));
        session.boot = Some(boot_tx);
        session.observer = shared.observer.clone().map(|o| (o, info.clone()));
        let mut shutdown = shared.shutdown.clone();
        let reason = session
            .run_connected(&mut ws, &mut cmds, &mut shutdown, &kick, &shared.transport)
            .await;
        session.disconnected();
        let boot = *boot_rx.borrow();
        shared.remember_boot(&info.station_id, boot);
        shared
            .connections
            .remove(&info.station_id, info.connection_id);
        tracing::info!(station = %info.station_id, %reason, "station disconnected");
        if let Some(o) = &shared.observer {
            o.disconnected(&info, &reason).await;
        }
    }
}

fn cfg_boot<P: Protocol>(s: &Session<P, crate::MemoryQueue>) -> crate::BootState {
    s.engine.boot_state()
}

struct Shared {
    /// Stations whose boot was accepted on an earlier connection of this process.
    booted: std::sync::Mutex<std::collections::HashSet<Arc<str>>>,
    path: String,
    preference: Vec<OcppVersion>,
    stacks: HashMap<OcppVersion, Arc<dyn Stack>>,
    authenticator: Arc<dyn Authenticator>,
    observer: Option<Arc<dyn ConnectionObserver>>,
    #[cfg(feature = "tls")]
    tls: Option<tokio_rustls::TlsAcceptor>,
    transport: TransportConfig,
    engine: Config,
    connections: Connections,
    shutdown: watch::Receiver<bool>,
    next_id: AtomicU64,
    /// Held by every connection task; [`Server::shutdown`] waits until all are gone.
    alive: mpsc::Sender<()>,
}

/// Builds a [`Server`]: the URL path, the stack of each version, the authenticator, TLS.
///
/// ```no_run
/// # async fn f(r16: std::sync::Arc<dyn ocpp_core::Dispatch<ocpp_core::testing::Mini201>>) -> std::io::Result<()> {
/// use ocpp_core::transport::{AllowAll, Server};
/// let server = Server::builder()
///     .path("/ocpp")
///     .protocol(r16) // one call per version: .protocol::<Ocpp16>(Arc::new(router16)) ...
///     .authenticator(AllowAll)
///     .bind("0.0.0.0:9000")
///     .await?;
/// println!("listening on {}", server.local_addr());
/// # Ok(()) }
/// ```
pub struct ServerBuilder {
    path: String,
    preference: Vec<OcppVersion>,
    stacks: HashMap<OcppVersion, Arc<dyn Stack>>,
    authenticator: Arc<dyn Authenticator>,
    observer: Option<Arc<dyn ConnectionObserver>>,
    #[cfg(feature = "tls")]
    tls: Option<super::ServerTls>,
    transport: TransportConfig,
    engine: Config,
}

impl fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("path", &self.path)
            .field("versions", &self.stacks.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Default for ServerBuilder {
    fn default() -> Self {
        ServerBuilder {
            path: String::new(),
            preference: OcppVersion::ALL.to_vec(),
            stacks: HashMap::new(),
            authenticator: Arc::new(super::StaticAuthenticator::new()),
            observer: None,
            #[cfg(feature = "tls")]
            tls: None,
            transport: TransportConfig::default(),
            engine: Config::default(),
        }
    }
}

impl ServerBuilder {
    /// The path in front of the station id: `"/ocpp"` serves `ws://host:port/ocpp/<stationId>`.
    /// Default empty: `ws://host:port/<stationId>`.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into().trim_end_matches('/').to_owned();
        self
    }

    /// Serves version `P` with these handlers (the version crate's `csms::Router`). Call it
    /// once per version; only registered versions are negotiated.
    pub fn protocol<P: Protocol>(mut self, dispatch: Arc<dyn Dispatch<P>>) -> Self {
        self.stacks
            .insert(P::VERSION, Arc::new(VersionStack { dispatch }));
        self
    }

    /// The server's preference among the versions a station offers, most preferred first.
    /// Default newest first ([`OcppVersion::ALL`]).
    pub fn preference(mut self, versions: impl IntoIterator<Item = OcppVersion>) -> Self {
        self.preference = versions.into_iter().collect();
        self
    }

    /// Who may connect, with which security profile. Default: nobody (an empty
    /// [`StaticAuthenticator`](super::StaticAuthenticator)).
    pub fn authenticator(mut self, authenticator: impl Authenticator) -> Self {
        self.authenticator = Arc::new(authenticator);
        self
    }

    /// The connection lifecycle callbacks.
    pub fn observer(mut self, observer: impl ConnectionObserver) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// Serves TLS (`wss://`) only, for security profiles 2 and 3.
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: super::ServerTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// WebSocket settings (keepalive, maximum message size, queues, drain timeout).
    pub fn transport(mut self, config: TransportConfig) -> Self {
        self.transport = config;
        self
    }

    /// The engine settings of every connection (call timeout, decode options, ...).
    pub fn engine(mut self, config: Config) -> Self {
        self.engine = config;
        self
    }

    /// Binds a listener and starts serving.
    pub async fn bind(self, addr: impl tokio::net::ToSocketAddrs) -> io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        self.serve(listener)
    }

    /// Starts serving on a listener the caller bound.
    pub fn serve(self, listener: TcpListener) -> io::Result<Server> {
        let local_addr = listener.local_addr()?;
        let (shutdown_tx, shutdown) = watch::channel(false);
        let (alive, alive_rx) = mpsc::channel(1);
        let connections = Connections::default();
        let shared = Arc::new(Shared {
            booted: Default::default(),
            path: self.path,
            preference: self.preference,
            stacks: self.stacks,
            authenticator: self.authenticator,
            observer: self.observer,
            #[cfg(feature = "tls")]
            tls: self.tls.map(|t| tokio_rustls::TlsAcceptor::from(t.config)),
            transport: self.transport,
            engine: self.engine,
            connections: connections.clone(),
            shutdown,
            next_id: AtomicU64::new(1),
            alive,
        });
        let task = tokio::spawn(accept_loop(listener, shared));
        Ok(Server {
            local_addr,
            connections,
            shutdown: shutdown_tx,
            alive: alive_rx,
            task,
        })
    }
}

/// A running CSMS WebSocket server: one listener for every registered version.
///
/// Dropping it without [`shutdown`](Server::shutdown) leaves it running in the background
/// until the runtime stops.
pub struct Server {
    local_addr: SocketAddr,
    connections: Connections,
    shutdown: watch::Sender<bool>,
    alive: mpsc::Receiver<()>,
    task: JoinHandle<()>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .field("connections", &self.connections)
            .finish()
    }
}

impl Server {
    /// A builder.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The connected stations.
    pub fn connections(&self) -> Connections {
        self.connections.clone()
    }

    /// Graceful shutdown: stops accepting, lets every connection finish its calls in flight
    /// (up to [`TransportConfig::drain_timeout`]), closes them with code 1001, and returns when
    /// every connection task ended.
    pub async fn shutdown(mut self) {
        self.shutdown.send_replace(true);
        let _ = (&mut self.task).await;
        // Every connection task holds a sender; recv() is None once all are gone.
        while self.alive.recv().await.is_some() {}
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown.clone();
    loop {
        tokio::select! {
            r = shutdown.changed() => {
                if r.is_err() || *shutdown.borrow() {
                    break;
                }
            }
            accepted = listener.accept() => match accepted {
                Ok((tcp, addr)) => {
                    let shared = shared.clone();
                    let alive = shared.alive.clone();
                    tokio::spawn(async move {
                        handle_connection(shared, tcp, addr).await;
                        drop(alive);
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }
}

/// An HTTP refusal of the upgrade.
struct Refusal {
    status: u16,
    text: &'static str,
    why: String,
}

impl Refusal {
    fn new(status: u16, text: &'static str, why: impl Into<String>) -> Self {
        Refusal {
            status,
            text,
            why: why.into(),
        }
    }
}

async fn handle_connection(shared: Arc<Shared>, tcp: TcpStream, addr: SocketAddr) {
    let _ = tcp.set_nodelay(true);
    let hs = shared.transport.handshake_timeout;
    let opened = tokio::time::timeout(hs, open(&shared, tcp)).await;
    let (mut io, cert) = match opened {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => {
            tracing::info!(remote = %addr, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => return,
    };
    let head = match tokio::time::timeout(hs, read_head(&mut io)).await {
        Ok(Ok(h)) => h,
        Ok(Err(e)) => {
            tracing::debug!(remote = %addr, error = %e, "bad HTTP request");
            return;
        }
        Err(_) => return,
    };
    let checked = check(&shared, &io, cert.as_ref(), addr, &head).await;
    let (station_id, profile, version) = match checked {
        Ok(x) => x,
        Err(r) => {
            tracing::info!(remote = %addr, status = r.status, reason = %r.why, "upgrade refused");
            let mut resp = format!(
                "HTTP/1.1 {} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n",
                r.status,
                r.text,
                r.why.len()
            );
            if r.status == 401 {
                resp.push_str("WWW-Authenticate: Basic realm=\"OCPP\"\r\n");
            }
            resp.push_str("\r\n");
            resp.push_str(&r.why);
            let _ = io.write_all(resp.as_bytes()).await;
            let _ = io.shutdown().await;
            return;
        }
    };
    io.unread(head);
    let sub = version.subprotocol();
    #[allow(clippy::result_large_err)] // the callback type is tungstenite's
    let callback = |_: &Request, mut resp: Response| {
        resp.headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(sub));
        Ok(resp)
    };
    let ws = tokio::time::timeout(
        hs,
        tokio_tungstenite::accept_hdr_async_with_config(
            io,
            callback,
            Some(shared.transport.ws_config()),
        ),
    )
    .await;
    let ws = match ws {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => {
            tracing::info!(remote = %addr, error = %e, "WebSocket upgrade failed");
            return;
        }
        Err(_) => return,
    };
    let stack = shared.stacks[&version].clone();
    let conn = Accepted {
        station_id,
        security_profile: profile,
        remote_addr: addr,
    };
    stack.serve(shared.clone(), conn, ws).await;
}

async fn open(shared: &Shared, tcp: TcpStream) -> io::Result<(Io, Option<ClientCertificate>)> {
    #[cfg(feature = "tls")]
    if let Some(acceptor) = &shared.tls {
        let tls = acceptor.accept(tcp).await?;
        let cert = tls
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| ClientCertificate {
                der: c.to_vec(),
                subject_cn: super::certificate_common_name(c),
            });
        return Ok((Io::new(Inner::ServerTls(Box::new(tls))), cert));
    }
    let _ = shared;
    Ok((Io::new(Inner::Plain(tcp)), None))
}

async fn read_head(io: &mut Io) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let n = io.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.windows(4).any(|w| w == b"\r\n\r\n") {
            return Ok(buf);
        }
        if buf.len() > MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too large",
            ));
        }
    }
}

/// Path, authentication and subprotocol checks of an upgrade request.
async fn check(
    shared: &Shared,
    io: &Io,
    cert: Option<&ClientCertificate>,
    addr: SocketAddr,
    head: &[u8],
) -> Result<(Arc<str>, u8, OcppVersion), Refusal> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err(Refusal::new(400, "Bad Request", "unreadable HTTP request")),
    }
    if req.method != Some("GET") {
        return Err(Refusal::new(405, "Method Not Allowed", "GET expected"));
    }
    let path = req.path.unwrap_or("");
    let path = path.split(['?', '#']).next().unwrap_or("");
    let rest = path
        .strip_prefix(shared.path.as_str())
        .and_then(|r| r.strip_prefix('/'))
        .filter(|r| !r.is_empty() && !r.contains('/'))
        .ok_or_else(|| Refusal::new(404, "Not Found", format!("no station path: {path}")))?;
    let station_id = percent_decode(rest)
        .ok_or_else(|| Refusal::new(400, "Bad Request", "bad percent-encoding"))?;

    // Authentication.
    let areq = AuthRequest {
        station_id: &station_id,
        remote_addr: addr,
        tls: io.is_tls(),
        client_certificate: cert,
    };
    let unauthorized = |why: &str| Refusal::new(401, "Unauthorized", why.to_owned());
    let auth = &shared.authenticator;
    let profile = auth
        .security_profile(&areq)
        .await
        .ok_or_else(|| unauthorized("unknown station"))?;
    let header = |name: &str| {
        req.headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
            .collect::<Vec<_>>()
    };
    match profile {
        0 => {}
        1 | 2 => {
            if profile == 2 && !areq.tls {
                return Err(unauthorized("this station must use TLS"));
            }
            let creds = header("authorization")
                .first()
                .and_then(|h| parse_basic(h))
                .ok_or_else(|| unauthorized("Basic authentication required"))?;
            if creds.0 != station_id || !auth.check_password(&areq, &creds.1).await {
                return Err(unauthorized("wrong credentials"));
            }
        }
        3 => {
            if !areq.tls {
                return Err(unauthorized("this station must use TLS"));
            }
            let cert = cert.ok_or_else(|| unauthorized("client certificate required"))?;
            if cert.subject_cn.as_deref() != Some(station_id.as_str()) {
                return Err(unauthorized(
                    "the certificate's subject does not name this station",
                ));
            }
            if !auth.check_certificate(&areq, cert).await {
                return Err(unauthorized("certificate refused"));
            }
        }
        _ => return Err(unauthorized("unknown security profile")),
    }

    // Subprotocol negotiation, by server preference.
    let offered: Vec<String> = header("sec-websocket-protocol")
        .iter()
        .filter_map(|v| std::str::from_utf8(v).ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_owned())
        .collect();
    let version = shared
        .preference
        .iter()
        .copied()
        .filter(|v| shared.stacks.contains_key(v))
        .find(|v| offered.iter().any(|o| o == v.subprotocol()))
        .ok_or_else(|| {
            Refusal::new(
                400,
                "Bad Request",
                format!("no shared OCPP subprotocol (offered: {offered:?})"),
            )
        })?;
    Ok((station_id.into(), profile, version))
}

impl Shared {
    fn accepted(&self, id: &str) -> bool {
        self.booted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(id)
    }

    fn remember_boot(&self, id: &Arc<str>, state: crate::BootState) {
        let mut b = self.booted.lock().unwrap_or_else(|e| e.into_inner());
        if state == crate::BootState::Accepted {
            b.insert(id.clone());
        } else {
            b.remove(id);
        }
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared").field("path", &self.path).finish()
    }
}
