//! The CSMS's table of connected stations, and the connection lifecycle callbacks.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use async_trait::async_trait;
use ocpp_types::{DecodeError, DecodeOptions, OcppVersion, Protocol};
use tokio::sync::Notify;

use super::DisconnectReason;
use crate::{CallFailure, Peer};

/// What is known about one station connection.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// The station id from the URL.
    pub station_id: Arc<str>,
    /// The negotiated protocol version.
    pub version: OcppVersion,
    /// The security profile the station was authenticated with (0 to 3).
    pub security_profile: u8,
    /// The peer's address.
    pub remote_addr: SocketAddr,
    /// A number unique to this connection within the server.
    pub connection_id: u64,
    /// When the WebSocket upgrade completed.
    pub connected_at: SystemTime,
}

/// Why [`StationHandle::call_json`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JsonCallError {
    /// The station's version has no such action.
    #[error("OCPP {version} has no action {action:?}")]
    UnknownAction {
        /// The action given.
        action: String,
        /// The station's version.
        version: OcppVersion,
    },
    /// The payload breaks the request schema.
    #[error("invalid request payload: {0}")]
    Invalid(DecodeError),
    /// The call failed (CALLERROR, timeout, disconnect, or refused before it was sent).
    #[error("{0}")]
    Call(CallFailure),
}

#[async_trait]
pub(crate) trait ErasedPeer: Send + Sync {
    async fn call_json(&self, action: &str, payload: &str) -> Result<String, JsonCallError>;
    fn as_any(&self) -> &dyn Any;
}

#[async_trait]
impl<P: Protocol> ErasedPeer for Peer<P> {
    async fn call_json(&self, action: &str, payload: &str) -> Result<String, JsonCallError> {
        let a = P::action_from_name(action).ok_or_else(|| JsonCallError::UnknownAction {
            action: action.to_owned(),
            version: P::VERSION,
        })?;
        let (request, _) = P::decode_request(a, payload, &DecodeOptions::STRICT)
            .map_err(JsonCallError::Invalid)?;
        let response = self.call_any(request).await.map_err(JsonCallError::Call)?;
        P::encode_response(&response, &DecodeOptions::LENIENT).map_err(JsonCallError::Invalid)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A handle to one connected station, usable from anywhere (an HTTP API, a scheduler).
#[derive(Clone)]
pub struct StationHandle {
    pub(crate) info: ConnectionInfo,
    pub(crate) peer: Arc<dyn ErasedPeer>,
    pub(crate) kick: Arc<Notify>,
}

impl fmt::Debug for StationHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StationHandle")
            .field("info", &self.info)
            .finish()
    }
}

impl StationHandle {
    /// The connection's details.
    pub fn info(&self) -> &ConnectionInfo {
        &self.info
    }

    /// The negotiated version.
    pub fn version(&self) -> OcppVersion {
        self.info.version
    }

    /// The typed handle of the station when it speaks `P`'s version, else `None`:
    /// `handle.peer::<Ocpp201>()?.call(ResetRequest { .. }).await`.
    pub fn peer<P: Protocol>(&self) -> Option<Peer<P>> {
        self.peer.as_any().downcast_ref::<Peer<P>>().cloned()
    }

    /// Sends a CALL given as an action name and a JSON payload in the station's version, and
    /// returns the JSON of the CALLRESULT. The payload is validated strictly before it is sent.
    pub async fn call_json(&self, action: &str, payload: &str) -> Result<String, JsonCallError> {
        self.peer.call_json(action, payload).await
    }

    /// Closes the connection (close code 1008); the station will usually reconnect.
    pub fn disconnect(&self) {
        self.kick.notify_one();
    }
}

/// The connected stations of a [`Server`](super::Server), by station id. Cheap to clone.
///
/// When a station connects again while its old connection is still registered, the old one is
/// closed ([`DisconnectReason::Replaced`]) and the new one takes its place.
#[derive(Clone, Default)]
pub struct Connections {
    inner: Arc<RwLock<HashMap<Arc<str>, StationHandle>>>,
}

impl fmt::Debug for Connections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connections")
            .field("len", &self.len())
            .finish()
    }
}

impl Connections {
    /// The handle of a connected station.
    pub fn get(&self, station_id: &str) -> Option<StationHandle> {
        self.read().get(station_id).cloned()
    }

    /// Every connected station.
    pub fn list(&self) -> Vec<ConnectionInfo> {
        self.read().values().map(|h| h.info.clone()).collect()
    }

    /// How many stations are connected.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether no station is connected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Arc<str>, StationHandle>> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn insert(&self, handle: StationHandle) -> Option<StationHandle> {
        let mut m = self.inner.write().unwrap_or_else(|e| e.into_inner());
        m.insert(handle.info.station_id.clone(), handle)
    }

    pub(crate) fn remove(&self, station_id: &str, connection_id: u64) {
        let mut m = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if m.get(station_id)
            .is_some_and(|h| h.info.connection_id == connection_id)
        {
            m.remove(station_id);
        }
    }
}

/// Connection lifecycle callbacks of the CSMS. Both are awaited in the connection's task: the
/// OCPP session starts after `connected` returned (so do not await a call to the station in
/// it; spawn a task instead), and `disconnected` runs after the station left the
/// [`Connections`].
#[async_trait]
pub trait ConnectionObserver: Send + Sync + 'static {
    /// A station connected and was authenticated; the handle is already in the
    /// [`Connections`].
    async fn connected(&self, station: &StationHandle) {
        let _ = station;
    }

    /// The boot state a new connection starts in, when the application knows better than the
    /// server: a station whose boot was accepted before (stored in a database) may reconnect
    /// without a new BootNotification, as OCPP allows. `None` (the default) keeps the server's
    /// own memory: [`BootState::Accepted`](crate::BootState::Accepted) when this server process
    /// accepted the station's boot on an earlier connection, else `NotBooted`.
    async fn boot_state(&self, info: &ConnectionInfo) -> Option<crate::BootState> {
        let _ = info;
        None
    }

    /// How this station's payloads are read, when it differs from the server's engine
    /// configuration: [`DecodeOptions::LENIENT`](ocpp_types::DecodeOptions::LENIENT) for a
    /// real-world charger that gets the schemas wrong. `None` (the default) keeps the server's.
    async fn decode_options(&self, info: &ConnectionInfo) -> Option<ocpp_types::DecodeOptions> {
        let _ = info;
        None
    }

    /// A station's connection ended.
    async fn disconnected(&self, info: &ConnectionInfo, reason: &DisconnectReason) {
        let _ = (info, reason);
    }

    /// The engine refused an incoming message of this connection: answered with the
    /// CALLERROR `code`, or dropped (`None`); `reason` says why (one that is a flood of CALLs
    /// sent without waiting for answers reads "too many CALLs waiting for an answer": more
    /// were waiting than [`Config::max_queued_incoming`](crate::Config::max_queued_incoming)).
    /// Called in the connection's task: keep it short (count, log).
    fn refused(&self, info: &ConnectionInfo, code: Option<ocpp_types::ErrorCode>, reason: &str) {
        let _ = (info, code, reason);
    }

    /// The station sent a frame the transport cannot use: `"binary"` (ignored: OCPP-J is text
    /// only) or `"invalid_utf8"` (a text frame that is not UTF-8: the connection is dropped).
    /// Called in the connection's task: keep it short.
    fn bad_frame(&self, info: &ConnectionInfo, kind: &'static str) {
        let _ = (info, kind);
    }
}
