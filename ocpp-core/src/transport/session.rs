//! The per-connection driver: one engine, the handlers, and the socket, in one poll loop.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use futures_util::{FutureExt, SinkExt, StreamExt};
use ocpp_types::{ErrorCode, Protocol, Role};
use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;

use super::io::Io;
use super::{DisconnectReason, TransportConfig};
use crate::{
    BootState, CallContext, CallError, CallFailure, CallId, Dispatch, Engine, Event, OfflineQueue,
    Outbound, Peer, RequestError,
};

pub(crate) type Ws = WebSocketStream<Io>;

/// What a [`Peer`] asks of the connection task.
pub(crate) enum Command<P: Protocol> {
    Call {
        request: P::AnyRequest,
        reply: oneshot::Sender<Result<P::AnyResponse, CallFailure>>,
    },
    Send {
        message: P::AnyRequest,
        reply: oneshot::Sender<Result<(), CallFailure>>,
    },
}

/// The [`Outbound`] of a connection task: a bounded channel to it and a oneshot per call.
pub(crate) struct ChannelOutbound<P: Protocol> {
    pub(crate) tx: mpsc::Sender<Command<P>>,
}

#[async_trait]
impl<P: Protocol> Outbound<P> for ChannelOutbound<P> {
    async fn call_any(&self, request: P::AnyRequest) -> Result<P::AnyResponse, CallFailure> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Call { request, reply })
            .await
            .map_err(|_| CallFailure::Disconnected)?;
        rx.await.unwrap_or(Err(CallFailure::Disconnected))
    }

    async fn send_any(&self, message: P::AnyRequest) -> Result<(), CallFailure> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Send { message, reply })
            .await
            .map_err(|_| CallFailure::Disconnected)?;
        rx.await.unwrap_or(Err(CallFailure::Disconnected))
    }
}

/// A call refused by the engine, as the caller of a [`Peer`] sees it.
pub(crate) fn refused(e: RequestError) -> CallFailure {
    let code = match &e {
        RequestError::NotConnected => return CallFailure::Disconnected,
        RequestError::Invalid(d) => d.code(),
        RequestError::WrongVersion { .. } => ErrorCode::NotImplemented,
        RequestError::WrongDirection { .. } | RequestError::WrongMessageType(_) => {
            ErrorCode::NotSupported
        }
        _ => ErrorCode::GenericError,
    };
    CallFailure::Error {
        error: CallError::new(code, format!("not sent: {e}")),
        wire_code: String::new(),
    }
}

type Answer<P> = Result<<P as Protocol>::AnyResponse, CallError>;

/// One connection's engine with its handlers and the callers waiting for answers.
pub(crate) struct Session<P: Protocol, Q: OfflineQueue> {
    pub(crate) engine: Engine<P, Q>,
    dispatch: Arc<dyn Dispatch<P>>,
    station_id: Arc<str>,
    pub(crate) security_profile: u8,
    role: Role,
    peer: Peer<P>,
    waiters: HashMap<CallId, oneshot::Sender<Result<P::AnyResponse, CallFailure>>>,
    running: Option<(String, JoinHandle<Answer<P>>)>,
    pub(crate) boot: Option<watch::Sender<BootState>>,
    /// The server's connection observer, told of refused messages and unusable frames.
    pub(crate) observer: Option<(Arc<dyn super::ConnectionObserver>, super::ConnectionInfo)>,
}

impl<P: Protocol, Q: OfflineQueue> Session<P, Q> {
    pub(crate) fn new(
        engine: Engine<P, Q>,
        dispatch: Arc<dyn Dispatch<P>>,
        station_id: Arc<str>,
        security_profile: u8,
        peer: Peer<P>,
    ) -> Self {
        Session {
            role: engine.role(),
            engine,
            dispatch,
            station_id,
            security_profile,
            peer,
            waiters: HashMap::new(),
            running: None,
            boot: None,
            observer: None,
        }
    }

    fn idle(&self) -> bool {
        self.running.is_none()
            && self.engine.outstanding_call().is_none()
            && self.engine.queued_calls() == 0
            && self.engine.pending_incoming().is_none()
    }

    /// Hands the engine's events to the handlers and the waiting callers.
    pub(crate) fn process_events(&mut self) {
        while let Some(ev) = self.engine.poll_event() {
            match ev {
                Event::Call {
                    id,
                    action,
                    request,
                    ..
                } => {
                    let ctx = self.ctx(&id);
                    let dispatch = self.dispatch.clone();
                    let action = P::action_name(action);
                    tracing::debug!(station = %self.station_id, message_id = %id, action, "call in");
                    let task = tokio::spawn(async move { dispatch.dispatch(ctx, request).await });
                    if let Some((old, _)) = self.running.replace((id, task)) {
                        // The engine delivers one call at a time; this cannot happen.
                        tracing::error!(station = %self.station_id, message_id = %old, "handler result lost");
                    }
                }
                Event::Send {
                    id,
                    action,
                    request,
                    ..
                } => {
                    let ctx = self.ctx(&id);
                    let dispatch = self.dispatch.clone();
                    let station = self.station_id.clone();
                    let action = P::action_name(action);
                    tokio::spawn(async move {
                        let fut = AssertUnwindSafe(dispatch.dispatch_send(ctx, request));
                        if fut.catch_unwind().await.is_err() {
                            tracing::error!(station = %station, message_id = %id, action, "SEND handler panicked");
                        }
                    });
                }
                Event::Response {
                    id,
                    action,
                    response,
                    ..
                } => {
                    if let Some(w) = self.waiters.remove(&id) {
                        let _ = w.send(Ok(response));
                    } else {
                        tracing::debug!(station = %self.station_id, message_id = %id, action = P::action_name(action), "response");
                    }
                }
                Event::CallFailed {
                    id,
                    action,
                    failure,
                } => {
                    tracing::debug!(station = %self.station_id, message_id = %id, action = P::action_name(action), %failure, "call failed");
                    if let Some(w) = self.waiters.remove(&id) {
                        let _ = w.send(Err(failure));
                    }
                }
                Event::BootStateChanged { state } => {
                    tracing::info!(station = %self.station_id, ?state, "boot state");
                    if let Some(b) = &self.boot {
                        b.send_replace(state);
                    }
                }
                Event::Refused {
                    id,
                    action,
                    answered,
                    reason,
                } => {
                    tracing::warn!(station = %self.station_id, message_id = ?id, action = ?action, ?answered, %reason, "message refused");
                    if let Some((o, info)) = &self.observer {
                        o.refused(info, answered, &reason);
                    }
                }
                other => {
                    tracing::debug!(station = %self.station_id, event = ?other, "engine event");
                }
            }
        }
    }

    fn ctx(&self, id: &str) -> CallContext<P> {
        CallContext {
            station_id: self.station_id.clone(),
            security_profile: self.security_profile,
            message_id: id.to_owned(),
            role: self.role,
            peer: self.peer.clone(),
        }
    }

    pub(crate) fn handle_command(&mut self, cmd: Command<P>) {
        let now = Instant::now();
        match cmd {
            Command::Call { request, reply } => match self.engine.call_any(now, request) {
                Ok(id) => {
                    self.waiters.insert(id, reply);
                }
                Err(e) => {
                    let _ = reply.send(Err(refused(e)));
                }
            },
            Command::Send { message, reply } => {
                let r = self
                    .engine
                    .send_any(now, message)
                    .map(|_| ())
                    .map_err(refused);
                let _ = reply.send(r);
            }
        }
        self.process_events();
    }

    /// Feeds a handler's answer back to the engine.
    pub(crate) fn finish_running(&mut self, joined: Result<Answer<P>, tokio::task::JoinError>) {
        let Some((id, _)) = self.running.take() else {
            return;
        };
        let answer = joined.unwrap_or_else(|e| {
            tracing::error!(station = %self.station_id, message_id = %id, error = %e, "handler panicked");
            Err(CallError::new(
                ErrorCode::InternalError,
                "the handler of this call failed",
            ))
        });
        if let Err(e) = self.engine.respond(&id, answer) {
            tracing::warn!(station = %self.station_id, message_id = %id, error = %e, "answer not sent as given");
        }
        self.process_events();
    }

    /// Waits for the running handler, if any (cancel-safe).
    pub(crate) async fn running(&mut self) -> Result<Answer<P>, tokio::task::JoinError> {
        match &mut self.running {
            Some((_, task)) => task.await,
            None => std::future::pending().await,
        }
    }

    pub(crate) fn has_running(&self) -> bool {
        self.running.is_some()
    }

    /// Forgets the handler of a call the engine forgot (after a disconnect); it runs on, its
    /// answer is dropped.
    pub(crate) fn detach_running(&mut self) {
        self.running = None;
    }

    async fn flush(&mut self, ws: &mut Ws) -> Result<(), tungstenite::Error> {
        let mut sent = false;
        while let Some(frame) = self.engine.poll_transmit() {
            tracing::trace!(station = %self.station_id, frame = %frame, "frame out");
            ws.feed(Message::text(frame)).await?;
            sent = true;
        }
        if sent {
            ws.flush().await?;
        }
        Ok(())
    }

    /// Runs the connection until it ends; the engine is connected when this is called and the
    /// caller calls [`Engine::handle_disconnect`] after it.
    pub(crate) async fn run_connected(
        &mut self,
        ws: &mut Ws,
        cmds: &mut mpsc::Receiver<Command<P>>,
        shutdown: &mut watch::Receiver<bool>,
        kick: &Notify,
        cfg: &TransportConfig,
    ) -> DisconnectReason {
        let start = tokio::time::Instant::now();
        let mut ping = cfg.ping_interval.map(|d| {
            let mut i = tokio::time::interval_at(start + d, d);
            i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            i
        });
        let mut last_seen = start;
        let mut drain_until: Option<tokio::time::Instant> = None;
        let mut cmds_open = true;
        self.process_events();
        loop {
            match tokio::time::timeout(cfg.write_timeout, self.flush(ws)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return error_reason(e),
                Err(_) => {
                    tracing::warn!(station = %self.station_id, timeout = ?cfg.write_timeout, "the peer does not read; dropping the connection");
                    return DisconnectReason::SlowPeer;
                }
            }
            if drain_until.is_some() && self.idle() {
                close(ws, CloseCode::Away, "shutting down").await;
                return DisconnectReason::Shutdown;
            }
            let timer = self
                .engine
                .poll_timeout()
                .map(tokio::time::Instant::from_std);
            let shutting = *shutdown.borrow() || drain_until.is_some();
            tokio::select! {
                r = shutdown.changed(), if !shutting => {
                    if r.is_err() || *shutdown.borrow() {
                        tracing::debug!(station = %self.station_id, "draining");
                        drain_until = Some(tokio::time::Instant::now() + cfg.drain_timeout);
                    }
                }
                _ = async { tokio::time::sleep_until(drain_until.unwrap_or(start)).await }, if drain_until.is_some() => {
                    tracing::warn!(station = %self.station_id, "drain timeout; closing with calls in flight");
                    close(ws, CloseCode::Away, "shutting down").await;
                    return DisconnectReason::Shutdown;
                }
                _ = kick.notified() => {
                    close(ws, CloseCode::Policy, "closed").await;
                    return DisconnectReason::Kicked;
                }
                joined = self.running(), if self.has_running() => self.finish_running(joined),
                msg = ws.next() => {
                    last_seen = tokio::time::Instant::now();
                    match msg {
                        Some(Ok(Message::Text(t))) => {
                            self.engine.handle_text(Instant::now(), t.as_str());
                            self.process_events();
                        }
                        Some(Ok(Message::Binary(_))) => {
                            tracing::warn!(station = %self.station_id, "binary frame ignored (OCPP-J is text only)");
                            if let Some((o, info)) = &self.observer {
                                o.bad_frame(info, "binary");
                            }
                        }
                        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                        Some(Ok(Message::Close(frame))) => {
                            let (code, reason) = frame
                                .map(|f| (Some(u16::from(f.code)), f.reason.to_string()))
                                .unwrap_or((None, String::new()));
                            return DisconnectReason::Closed { code, reason };
                        }
                        Some(Err(tungstenite::Error::Capacity(e))) => {
                            tracing::warn!(station = %self.station_id, error = %e, "message too big; closing");
                            close(ws, CloseCode::Size, "message too big").await;
                            return DisconnectReason::MessageTooBig;
                        }
                        Some(Err(tungstenite::Error::Utf8(e))) => {
                            tracing::warn!(station = %self.station_id, error = %e, "text frame that is not UTF-8; dropping the connection");
                            if let Some((o, info)) = &self.observer {
                                o.bad_frame(info, "invalid_utf8");
                            }
                            return error_reason(tungstenite::Error::Utf8(e));
                        }
                        Some(Err(e)) => return error_reason(e),
                        None => return DisconnectReason::Closed { code: None, reason: String::new() },
                    }
                }
                cmd = cmds.recv(), if cmds_open && drain_until.is_none() => match cmd {
                    Some(cmd) => self.handle_command(cmd),
                    None => cmds_open = false,
                },
                _ = async { tokio::time::sleep_until(timer.unwrap_or(start)).await }, if timer.is_some() => {
                    self.engine.handle_timeout(Instant::now());
                    self.process_events();
                }
                _ = async { ping.as_mut().expect("guarded").tick().await }, if ping.is_some() => {
                    let silent = last_seen.elapsed();
                    let limit = cfg.ping_interval.unwrap_or_default() + cfg.pong_timeout;
                    if silent > limit {
                        tracing::warn!(station = %self.station_id, ?silent, "keepalive timeout");
                        close(ws, CloseCode::Away, "keepalive timeout").await;
                        return DisconnectReason::KeepaliveTimeout;
                    }
                    match tokio::time::timeout(cfg.write_timeout, ws.send(Message::Ping(Default::default()))).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => return error_reason(e),
                        Err(_) => {
                            tracing::warn!(station = %self.station_id, timeout = ?cfg.write_timeout, "the peer does not read; dropping the connection");
                            return DisconnectReason::SlowPeer;
                        }
                    }
                }
            }
        }
    }

    /// After the socket ended: the engine forgets the connection, waiting callers fail.
    pub(crate) fn disconnected(&mut self) {
        self.engine.handle_disconnect(Instant::now());
        self.detach_running();
        self.process_events();
    }
}

fn error_reason(e: tungstenite::Error) -> DisconnectReason {
    match e {
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
            DisconnectReason::Closed {
                code: None,
                reason: String::new(),
            }
        }
        tungstenite::Error::Capacity(_) => DisconnectReason::MessageTooBig,
        tungstenite::Error::WriteBufferFull(_) => DisconnectReason::SlowPeer,
        e => DisconnectReason::Error(e.to_string()),
    }
}

/// Sends a close frame and waits a moment for the peer's (best effort).
async fn close(ws: &mut Ws, code: CloseCode, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let wait = std::time::Duration::from_secs(2);
    if tokio::time::timeout(wait, ws.close(Some(frame)))
        .await
        .is_err()
    {
        return;
    }
    let _ = tokio::time::timeout(wait, async {
        while let Some(Ok(m)) = ws.next().await {
            if matches!(m, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}
