//! The handler side of a connection, independent of any runtime: the context every handler
//! method receives, the typed handle to call the other side back, and the [`Dispatch`] trait that
//! the generated routers of the version crates implement.
//!
//! The version crates generate one async trait per functional block (2.x) or feature profile
//! (1.6) and role, with one method per action that role receives, and a `Router` that
//! implements [`Dispatch`] by sending each decoded call to the registered implementation, or
//! answering `NotSupported` when none is registered.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use ocpp_types::{ErrorCode, OcppVersion, Protocol, Request, Role, SendMessage};

use crate::event::{CallError, CallFailure};

/// The other end of a connection, as the application can reach it: typed calls and 2.1 SENDs.
///
/// Implemented by the async transport; tests implement it with a stub.
#[async_trait]
pub trait Outbound<P: Protocol>: Send + Sync {
    /// Sends a CALL and waits for its answer.
    async fn call_any(&self, request: P::AnyRequest) -> Result<P::AnyResponse, CallFailure>;
    /// Sends a 2.1 SEND (never answered); resolves once it is queued for the socket.
    async fn send_any(&self, message: P::AnyRequest) -> Result<(), CallFailure>;
}

/// A cheap, cloneable handle to the other end of one connection.
pub struct Peer<P: Protocol> {
    outbound: Arc<dyn Outbound<P>>,
}

impl<P: Protocol> Clone for Peer<P> {
    fn clone(&self) -> Self {
        Peer {
            outbound: self.outbound.clone(),
        }
    }
}

impl<P: Protocol> fmt::Debug for Peer<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Peer")
            .field("version", &P::VERSION)
            .finish()
    }
}

impl<P: Protocol> Peer<P> {
    /// A handle over an [`Outbound`] implementation.
    pub fn new(outbound: Arc<dyn Outbound<P>>) -> Self {
        Peer { outbound }
    }

    /// Sends a typed CALL and waits for its typed answer:
    /// `peer.call(ResetRequest::new(ResetEnumType::Immediate)).await`.
    pub async fn call<R>(&self, request: R) -> Result<R::Response, CallFailure>
    where
        R: Request,
        P::AnyRequest: From<R>,
        R::Response: TryFrom<P::AnyResponse>,
    {
        let response = self.outbound.call_any(P::AnyRequest::from(request)).await?;
        let action = P::action_name(P::response_action(&response));
        R::Response::try_from(response).map_err(|_| CallFailure::Error {
            error: CallError::new(
                ErrorCode::InternalError,
                format!(
                    "the answer to {} came back as a {action} response",
                    R::ACTION
                ),
            ),
            wire_code: ErrorCode::InternalError.wire(P::VERSION).to_owned(),
        })
    }

    /// Sends any CALL of the version and waits for its answer.
    pub async fn call_any(&self, request: P::AnyRequest) -> Result<P::AnyResponse, CallFailure> {
        self.outbound.call_any(request).await
    }

    /// Sends a typed 2.1 SEND, which is never answered.
    pub async fn send<M>(&self, message: M) -> Result<(), CallFailure>
    where
        M: SendMessage,
        P::AnyRequest: From<M>,
    {
        self.outbound.send_any(P::AnyRequest::from(message)).await
    }
}

/// Everything a handler method knows about the call it handles.
#[derive(Debug, Clone)]
pub struct CallContext<P: Protocol> {
    /// The charging station's identity (from the connection URL, or the station's own).
    pub station_id: Arc<str>,
    /// The security profile the connection was authenticated with (0 when unsecured, 1 to 3).
    pub security_profile: u8,
    /// The message id of the CALL being handled.
    pub message_id: String,
    /// The role of this side of the connection.
    pub role: Role,
    /// A handle to call the other side back.
    pub peer: Peer<P>,
}

impl<P: Protocol> CallContext<P> {
    /// The connection's protocol version.
    pub fn version(&self) -> OcppVersion {
        P::VERSION
    }
}

/// Routes decoded CALLs and SENDs to the application. The generated `Router` of each version
/// crate implements it; the transport calls it for every incoming message.
#[async_trait]
pub trait Dispatch<P: Protocol>: Send + Sync + 'static {
    /// Handles a CALL and returns its answer. A handler that panics must be answered with
    /// `InternalError` by the caller of this method, and the connection lives on.
    async fn dispatch(
        &self,
        ctx: CallContext<P>,
        request: P::AnyRequest,
    ) -> Result<P::AnyResponse, CallError>;

    /// Handles a 2.1 SEND (never answered).
    async fn dispatch_send(&self, ctx: CallContext<P>, message: P::AnyRequest);
}

/// The `NotSupported` error for an action with no handler, as the generated routers answer.
pub fn not_supported(action: &str) -> CallError {
    CallError::new(
        ErrorCode::NotSupported,
        format!("{action} is not supported here"),
    )
}
