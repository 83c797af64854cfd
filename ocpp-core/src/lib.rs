//! The sans-IO OCPP-J session engine for the CSMS and charging-station roles.
//!
//! [`Engine`] is one connection's protocol logic: framing, message ids, the one-outstanding-CALL
//! rule, call timeouts, response matching and decoding, the exact CALLERROR for every bad frame,
//! boot gating, and for the station the boot retries, the heartbeat and the offline queue of
//! transaction-related messages. It owns no socket, clock or task: feed it text frames and
//! [`Instant`](std::time::Instant)s, drain what it wants to send and what happened. Its driving
//! contract is documented on [`Engine`].
//!
//! The engine knows no concrete message: it is generic over [`ocpp_types::Protocol`], which the
//! version crates (`ocpp16::Ocpp16`, `ocpp201::Ocpp201`, `ocpp21::Ocpp21`) implement. The
//! [`testing`] module has a miniature protocol for tests and examples.
//!
//! The async glue is the [`transport`] module, behind cargo features (`runtime`, `server`,
//! `client`, `tls`, or `full`): a tokio driver, the CSMS WebSocket server, the station client
//! and rustls TLS. The engine is complete without it. A driver is one loop per connection:
//! socket in -> [`Engine::handle_text`], drain [`Engine::poll_transmit`] to the socket, arm a timer
//! at [`Engine::poll_timeout`], hand [`Engine::poll_event`] to the handlers and feed their answers
//! back with [`Engine::respond`].
//!
//! # Example
//!
//! A station and a CSMS engine talking over a simulated wire and clock:
//!
//! ```
//! use std::time::{Duration, Instant};
//! use ocpp_core::testing::{exchange, Mini201, MiniAction, MiniMessage};
//! use ocpp_core::{BootState, Config, Engine, Event, MemoryQueue, StationConfig};
//!
//! let t0 = Instant::now();
//! let mut csms = Engine::<Mini201>::csms(Config::default());
//! let mut station = Engine::<Mini201>::station(
//!     t0,
//!     Config::default(),
//!     StationConfig::new(MiniMessage::boot()),
//!     MemoryQueue::new(),
//! )
//! .unwrap();
//!
//! // The station sends its BootNotification by itself; the CSMS application accepts it.
//! exchange(t0, &mut station, &mut csms);
//! let Some(Event::Call { id, action: MiniAction::BootNotification, .. }) = csms.poll_event() else {
//!     panic!("expected the BootNotification")
//! };
//! csms.respond(&id, Ok(MiniMessage::boot_response("Accepted", 60))).unwrap();
//! exchange(t0, &mut station, &mut csms);
//! assert_eq!(csms.boot_state(), BootState::Accepted);
//! assert_eq!(station.boot_state(), BootState::Accepted);
//!
//! // One minute later the station's heartbeat is due.
//! let t1 = t0 + Duration::from_secs(60);
//! assert_eq!(station.poll_timeout(), Some(t1));
//! station.handle_timeout(t1);
//! assert_eq!(station.poll_transmit().as_deref(), Some(r#"[2,"2","Heartbeat",{}]"#));
//!
//! // An action the version does not know gets NotImplemented, without bothering the application.
//! csms.handle_text(t1, r#"[2,"x1","FlyToTheMoon",{}]"#);
//! let reply = csms.poll_transmit().unwrap();
//! assert!(reply.starts_with(r#"[4,"x1","NotImplemented","#));
//! ```

#![warn(missing_docs)]

mod config;
mod device_model_2x;
mod engine;
mod event;
pub mod handler;
pub mod queue;
pub mod smart_charging;
pub mod testing;
#[cfg(feature = "runtime")]
pub mod transport;

pub use config::{Config, StationConfig};
pub use engine::{is_transaction_message, Engine, Stats};
pub use event::{BootState, CallError, CallFailure, CallId, Event, RequestError, RespondError};
pub use handler::{not_supported, CallContext, Dispatch, Outbound, Peer};
pub use queue::{FileQueue, MemoryQueue, OfflineQueue, QueuedMessage, SyncPolicy};

pub use async_trait::async_trait;
pub use ocpp_types as types;
