//! The async glue: a tokio driver running one [`Engine`](crate::Engine) per connection, the
//! WebSocket server of the CSMS role, the WebSocket client of the charging-station role, and TLS.
//!
//! Everything here is behind cargo features of `ocpp-core` (none is on by default):
//!
//! | feature | what it adds |
//! | --- | --- |
//! | `runtime` | the per-connection driver and [`TransportConfig`] (tokio, tokio-tungstenite) |
//! | `server` | [`Server`]: one listener for OCPP 1.6, 2.0.1 and 2.1, security profiles 0 to 2 |
//! | `client` | [`StationClient`]: reconnect with backoff and jitter, offline queue |
//! | `tls` | rustls (ring provider): `wss://`, security profiles 2 and 3 |
//! | `full` | all of the above |
//!
//! # The driver
//!
//! Each connection is one tokio task running one loop: a WebSocket text frame goes to
//! [`Engine::handle_text`](crate::Engine::handle_text), the engine's frames are written to the
//! socket, the timer is armed at [`Engine::poll_timeout`](crate::Engine::poll_timeout), and every
//! [`Event::Call`](crate::Event::Call) is handed to the version's [`Dispatch`](crate::Dispatch)
//! (the generated `Router`) in a task of its own, whose answer is fed back with
//! [`Engine::respond`](crate::Engine::respond). A handler that panics is answered
//! `InternalError` and the connection lives on. The application calls the other side through a
//! [`Peer`](crate::Peer), which sends each call over a bounded channel
//! ([`TransportConfig::command_queue`]) to the connection task and waits for its answer on a
//! oneshot channel.
//!
//! Both roles keep the connection alive with WebSocket pings
//! ([`TransportConfig::ping_interval`]): a peer that sends nothing, not even a pong, for
//! `ping_interval + pong_timeout` is disconnected. An incoming message larger than
//! [`TransportConfig::max_message_size`] closes the connection with close code 1009 (message
//! too big). A peer that stops reading cannot make a connection hoard memory: what waits for
//! it is bounded by the socket buffers and [`TransportConfig::max_write_buffer`], and a write
//! that waits longer than [`TransportConfig::write_timeout`] drops the connection
//! ([`DisconnectReason::SlowPeer`]). A graceful shutdown stops taking new calls, lets the calls in flight in both
//! directions finish (up to [`TransportConfig::drain_timeout`]), then closes with code 1001.
//!
//! A call the engine refuses locally (it breaks its schema, the queue is full, the action does
//! not belong to the version) fails with [`CallFailure::Error`](crate::CallFailure::Error)
//! whose `wire_code` is empty: nothing was sent. A call made while disconnected fails with
//! [`CallFailure::Disconnected`](crate::CallFailure::Disconnected), except the station's
//! transaction-related messages, which wait in the offline queue and resolve after the replay.

// Parts shared by the server and the client are unused when only one of them is enabled.
#![cfg_attr(not(all(feature = "server", feature = "client")), allow(dead_code))]

mod config;
mod io;
mod session;
mod util;

#[cfg(feature = "server")]
mod auth;
#[cfg(feature = "client")]
mod client;
#[cfg(feature = "server")]
mod registry;
#[cfg(feature = "server")]
mod server;
#[cfg(feature = "tls")]
mod tls;

pub use config::{DisconnectReason, TransportConfig};
pub use util::{percent_decode, percent_encode};

#[cfg(feature = "server")]
pub use auth::{AllowAll, AuthRequest, Authenticator, ClientCertificate, StaticAuthenticator};
#[cfg(feature = "client")]
pub use client::{Backoff, ClientError, ClientStatus, StationClient, StationClientBuilder};
#[cfg(feature = "server")]
pub use registry::{ConnectionInfo, ConnectionObserver, Connections, JsonCallError, StationHandle};
#[cfg(feature = "server")]
pub use server::{Server, ServerBuilder};
#[cfg(feature = "tls")]
pub use tls::{certificate_common_name, rustls, ClientTls, ServerTls, TlsError};
