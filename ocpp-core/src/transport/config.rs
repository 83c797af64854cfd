//! Settings shared by the server and the client, and why a connection ended.

use std::time::Duration;

/// WebSocket-level settings of a connection, for both roles.
///
/// Build one with [`TransportConfig::default`] and change the public fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TransportConfig {
    /// How often a WebSocket ping is sent; `None` sends none. Default 30 s.
    pub ping_interval: Option<Duration>,
    /// How long past a ping interval the peer may stay silent (no pong, no frame) before the
    /// connection is dropped. Default 30 s.
    pub pong_timeout: Duration,
    /// The largest incoming message (and frame) in bytes; a larger one closes the connection
    /// with close code 1009. Default 256 KiB.
    pub max_message_size: usize,
    /// How many bytes may wait in the WebSocket write buffer before writes fail (the bounded
    /// send queue towards a slow peer). Default 1 MiB.
    pub max_write_buffer: usize,
    /// How long one write to the socket (the frames the engine has ready, or a ping) may wait
    /// for the peer to take them. A peer that stops reading fills the kernel's socket buffers,
    /// then this write waits; past this limit the connection is dropped with
    /// [`DisconnectReason::SlowPeer`], so a connection never holds more than the socket
    /// buffers plus [`max_write_buffer`](Self::max_write_buffer) of unsent data. Default 30 s.
    pub write_timeout: Duration,
    /// How many application calls may wait in the channel to a connection task before
    /// [`Peer`](crate::Peer) calls wait for room. Default 64.
    pub command_queue: usize,
    /// How long a graceful shutdown waits for the calls in flight. Default 10 s.
    pub drain_timeout: Duration,
    /// The size of the WebSocket read buffer each connection allocates (and fills) up front;
    /// a larger message grows it as needed. Default 4 KiB (tungstenite's own default, 128 KiB,
    /// is most of what an idle connection costs: 1.25 GiB for 10,000 stations).
    pub read_buffer_size: usize,
    /// How long the TCP connect, the TLS handshake and the HTTP upgrade may take. Default 10 s.
    pub handshake_timeout: Duration,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            ping_interval: Some(Duration::from_secs(30)),
            pong_timeout: Duration::from_secs(30),
            max_message_size: 256 * 1024,
            max_write_buffer: 1024 * 1024,
            write_timeout: Duration::from_secs(30),
            command_queue: 64,
            drain_timeout: Duration::from_secs(10),
            read_buffer_size: 4 * 1024,
            handshake_timeout: Duration::from_secs(10),
        }
    }
}

impl TransportConfig {
    pub(crate) fn ws_config(&self) -> tokio_tungstenite::tungstenite::protocol::WebSocketConfig {
        tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(Some(self.max_message_size))
            .max_frame_size(Some(self.max_message_size))
            .read_buffer_size(self.read_buffer_size)
            .write_buffer_size(0)
            .max_write_buffer_size(self.max_write_buffer.max(self.max_message_size * 2))
    }
}

/// Why a connection ended.
///
/// [`label`](Self::label) names the reason in one stable word, for metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The peer closed the WebSocket (or the TCP connection), with its close code if it sent one.
    Closed {
        /// The close code the peer sent (1000 normal, 1001 going away, ...).
        code: Option<u16>,
        /// The close reason the peer sent.
        reason: String,
    },
    /// The peer sent a message larger than [`TransportConfig::max_message_size`]; the
    /// connection was closed with code 1009.
    MessageTooBig,
    /// The peer stayed silent past the keepalive deadline.
    KeepaliveTimeout,
    /// The peer did not take what was sent to it: a write waited longer than
    /// [`TransportConfig::write_timeout`], or the write buffer went past
    /// [`TransportConfig::max_write_buffer`]. The connection was dropped without a close
    /// handshake (the peer is not reading it).
    SlowPeer,
    /// The same station connected again; this older connection was closed.
    Replaced,
    /// The application asked for this connection to be closed.
    Kicked,
    /// A graceful shutdown closed the connection.
    Shutdown,
    /// A WebSocket protocol or I/O error.
    Error(String),
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DisconnectReason::Closed {
                code: Some(c),
                reason,
            } => {
                write!(f, "closed by the peer ({c} {reason})")
            }
            DisconnectReason::Closed { code: None, .. } => f.write_str("closed by the peer"),
            DisconnectReason::MessageTooBig => f.write_str("message too big"),
            DisconnectReason::KeepaliveTimeout => f.write_str("keepalive timeout"),
            DisconnectReason::SlowPeer => f.write_str("the peer does not read (write timeout)"),
            DisconnectReason::Replaced => f.write_str("replaced by a new connection"),
            DisconnectReason::Kicked => f.write_str("closed by the application"),
            DisconnectReason::Shutdown => f.write_str("shutdown"),
            DisconnectReason::Error(e) => write!(f, "error: {e}"),
        }
    }
}

impl DisconnectReason {
    /// The reason as one stable lower-case word, for metric labels: `closed`,
    /// `message_too_big`, `keepalive_timeout`, `slow_peer`, `replaced`, `kicked`, `shutdown`,
    /// `error`.
    pub fn label(&self) -> &'static str {
        match self {
            DisconnectReason::Closed { .. } => "closed",
            DisconnectReason::MessageTooBig => "message_too_big",
            DisconnectReason::KeepaliveTimeout => "keepalive_timeout",
            DisconnectReason::SlowPeer => "slow_peer",
            DisconnectReason::Replaced => "replaced",
            DisconnectReason::Kicked => "kicked",
            DisconnectReason::Shutdown => "shutdown",
            DisconnectReason::Error(_) => "error",
        }
    }
}
