//! The session engine.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use ocpp_types::json::{JsonWriter, Kind, Parser};
use ocpp_types::{
    encode_validated, DecodeError, DecodeOptions, ErrorCode, Frame, Leniencies, OcppVersion,
    Protocol, Request, Role, SendMessage,
};

use crate::event::{BootState, CallError, CallFailure, CallId, Event, RequestError, RespondError};
use crate::queue::{MemoryQueue, OfflineQueue, QueuedMessage};
use crate::{Config, StationConfig};

/// How many finished outgoing calls are remembered to recognise late and duplicate answers.
const RECENT_OUT: usize = 64;
/// How many answered incoming calls are remembered for 2.1 CALLRESULTERROR.
const RECENT_IN: usize = 16;

/// Counters of an engine's traffic, for metrics and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Text frames handed to [`Engine::handle_text`].
    pub frames_in: u64,
    /// Text frames handed out by [`Engine::poll_transmit`].
    pub frames_out: u64,
    /// CALLs sent (retries and engine-originated BootNotification / Heartbeat included).
    pub calls_sent: u64,
    /// Incoming CALLs and SENDs delivered to the application.
    pub calls_delivered: u64,
    /// Incoming messages refused (answered with a CALLERROR or dropped).
    pub refused: u64,
    /// Outgoing calls that timed out.
    pub timeouts: u64,
    /// Leniencies used to read incoming payloads, summed.
    pub leniencies: Leniencies,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    App,
    Boot,
    Heartbeat,
    Transaction,
}

#[derive(Debug)]
struct Outgoing<A> {
    id: CallId,
    action: A,
    payload: String,
    origin: Origin,
    /// Failed attempts before this one (transaction-related messages); a retry gets the message
    /// id `"<id>-<attempt>"` so that no two CALLs on a connection share an id.
    retry: u32,
}

#[derive(Debug)]
struct InFlight<A> {
    id: CallId,
    wire_id: String,
    action: A,
    deadline: Instant,
    origin: Origin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Answered,
    TimedOut,
    Abandoned,
}

#[derive(Debug)]
struct Recent<A> {
    wire_id: String,
    id: CallId,
    action: A,
    outcome: Outcome,
}

#[derive(Debug)]
struct IncomingCall<P: Protocol> {
    id: String,
    action: P::Action,
    request: P::AnyRequest,
    leniencies: Leniencies,
}

#[derive(Debug)]
struct Station {
    boot_payload: String,
    boot_due: Option<Instant>,
    boot_retry_interval: Duration,
    heartbeat_interval: Duration,
    heartbeat_due: Option<Instant>,
    skip_heartbeat_after_traffic: bool,
    last_call_sent: Option<Instant>,
    tx_attempts_max: u32,
    tx_retry_interval: Duration,
    tx_failed_attempts: u32,
    tx_retry_at: Option<Instant>,
}

/// The sans-IO OCPP-J session engine of one connection, for the CSMS or the charging-station
/// role.
///
/// It owns no socket, clock, task or lock: the caller feeds it WebSocket text frames and the
/// current time, and drains what it has to send, what happened, and when it wants to be woken.
/// Every method takes `&mut self` and returns at once; there are no callbacks.
///
/// # Driving contract
///
/// | method | what it is for |
/// | --- | --- |
/// | [`handle_text(now, &str)`](Engine::handle_text) | one WebSocket text frame in |
/// | [`handle_timeout(now)`](Engine::handle_timeout) | time passed |
/// | [`call(now, request)`](Engine::call) / [`call_any`](Engine::call_any) | queue an outgoing CALL |
/// | [`send(now, message)`](Engine::send) / [`send_any`](Engine::send_any) | 2.1 SEND, never answered |
/// | [`respond(id, result)`](Engine::respond) | answer an incoming CALL |
/// | [`poll_transmit() -> String`](Engine::poll_transmit) | the next frame to write to the socket |
/// | [`poll_event() -> Event`](Engine::poll_event) | the next [`Event`] for the application |
/// | [`poll_timeout() -> Instant`](Engine::poll_timeout) | when to call `handle_timeout` next |
/// | [`handle_disconnect(now)`](Engine::handle_disconnect) / [`handle_connect(now)`](Engine::handle_connect) | the transport went down / came back (station) |
///
/// After **every** `handle_*`, `call*`, `send*` and `respond` (and after construction):
///
/// 1. drain [`poll_transmit`](Engine::poll_transmit) until `None`, writing each frame to the
///    socket in order;
/// 2. drain [`poll_event`](Engine::poll_event) until `None` and act on the events (answering
///    [`Event::Call`] with [`respond`](Engine::respond), then going back to step 1);
/// 3. re-arm the timer with [`poll_timeout`](Engine::poll_timeout) and call
///    [`handle_timeout`](Engine::handle_timeout) when it fires (or earlier: spurious wake-ups are
///    harmless).
///
/// `now` is a [`std::time::Instant`] the caller reads from its clock, or a simulated one in
/// tests; it must never go backwards.
///
/// # Rules it enforces
///
/// - **One outstanding CALL per direction.** Outgoing calls wait in FIFO order behind the one in
///   flight. Incoming calls are delivered one at a time: the next [`Event::Call`] comes after
///   the previous one was answered (extra ones the peer sends wait, up to
///   [`Config::max_queued_incoming`]).
/// - **Call timeout** ([`Config::call_timeout`], 30 s by default): the call fails with
///   [`CallFailure::Timeout`], the queue moves on, and an answer that comes later is reported as
///   [`Event::LateResponse`], not delivered.
/// - **Responses matched by id** and decoded as the response of the action of the call they
///   answer ([`Protocol::decode_response`]); a CALLERROR becomes [`CallFailure::Error`]; answers
///   to unknown ids are reported ([`Event::UnknownResponse`], [`Event::DuplicateResponse`]).
///   On 2.1, a CALLRESULT that does not validate is answered with a CALLRESULTERROR; a
///   CALLRESULTERROR the peer sends about one of our CALLRESULTs is
///   [`Event::ResultRejected`].
/// - **The exact CALLERROR for every bad incoming CALL**: the answer of
///   [`ocpp_types::FrameError::answer`] for unreadable frames; `NotImplemented` for an action
///   the version does not know; `NotSupported` for a known action this role does not receive
///   (or a SEND action sent as a CALL); the [`DecodeError::code`] of the first schema fault
///   (`FormatViolation`, `OccurrenceConstraintViolation`, `TypeConstraintViolation`,
///   `PropertyConstraintViolation`, spelled for the version); `SecurityError` for a CALL before
///   the boot was accepted (CSMS role). Every refusal is also reported as [`Event::Refused`].
/// - **Outgoing validation**: `call`, `call_any`, `send` refuse a payload that breaks its schema
///   ([`RequestError::Invalid`]); `respond` refuses an invalid response and answers
///   `InternalError` instead ([`RespondError::Invalid`]).
/// - **2.1 frame types only on 2.1 connections** (incoming ones are answered
///   `MessageTypeNotSupported`, outgoing `send` is refused).
///
/// # Boot gating
///
/// OCPP 1.6 (section 4.2) and 2.0.1 / 2.1 (use cases B01 to B03) let a station do nothing but
/// boot until the CSMS accepted its BootNotification; while the boot is `Pending` the CSMS may
/// send CALLs to the station (to read or change its configuration), and the station may send
/// other messages only when the CSMS asked for them with a TriggerMessage.
///
/// - **CSMS role**: a station CALL other than BootNotification that arrives before the
///   application accepted a boot (answered a BootNotification with `status: Accepted` through
///   [`respond`](Engine::respond), or [`Config::boot_state`] /
///   [`set_boot_state`](Engine::set_boot_state) said so) is answered `SecurityError`. After a
///   TriggerMessage the station accepted, call [`allow_before_boot`](Engine::allow_before_boot)
///   to let the triggered message through once. CSMS CALLs are not gated: the application
///   decides what it sends while `Pending` (it must not start or stop transactions then).
/// - **Station role**: the engine sends the BootNotification of
///   [`StationConfig::boot_request`] at once, again after the interval of a `Pending` or
///   `Rejected` answer (or [`StationConfig::boot_retry_interval`] after a failure or an
///   interval of 0), and holds every other outgoing CALL until the boot is accepted (except a
///   BootNotification the application sends itself and what
///   [`allow_before_boot`](Engine::allow_before_boot) lets through, for TriggerMessage).
///   CSMS CALLs are delivered in every boot state.
///
/// The BootNotification response is read from its JSON (`status`, `interval`), which every
/// version spells the same, so the engine needs no concrete message type.
///
/// # Station role: heartbeat and offline queue
///
/// After an accepted boot the engine sends a Heartbeat every `interval` seconds of the boot
/// response (or [`StationConfig::heartbeat_interval`] when it is 0); with
/// [`StationConfig::skip_heartbeat_after_traffic`] a heartbeat is skipped while other CALLs went
/// out within the interval. [`set_heartbeat_interval`](Engine::set_heartbeat_interval) applies
/// a new value (after a ChangeConfiguration / SetVariables).
///
/// Transaction-related messages (1.6 `StartTransaction`, `StopTransaction`, and `MeterValues`
/// with a `transactionId`; 2.x `TransactionEvent`) are written to the [`OfflineQueue`] before
/// they are sent, also while disconnected, and removed only when the CSMS answered them with a
/// CALLRESULT (or a CALLRESULT that failed validation: the CSMS did process the message). They
/// are sent in order, interleaved with other calls in call order, after the boot was accepted,
/// and replayed after a reconnect (and after a restart with a [`crate::FileQueue`]). A CALLERROR
/// or a timeout counts as a failed attempt: the message is sent again after
/// `transaction_message_retry_interval × failed attempts` ([`Event::TransactionMessageRetry`])
/// until `transaction_message_attempts` attempts failed, when it is dropped
/// ([`Event::CallFailed`]). An attempt cut by a disconnect does not count.
///
/// Other outgoing calls fail with [`CallFailure::Disconnected`] when the connection goes away,
/// and `call` refuses them while disconnected ([`RequestError::NotConnected`]).
///
/// Calls the engine makes itself (BootNotification, Heartbeat) report their
/// [`Event::Response`] and [`Event::CallFailed`] like the application's, so the application can
/// set its clock from `currentTime`.
///
/// # Message ids
///
/// Outgoing message ids are the decimal [`CallId`]s, counting up from 1 (or from one past the
/// largest id left in the offline queue, so ids stay unique across a restart). The n-th retry
/// of a transaction-related message after a failed attempt goes out as `"<id>-<n>"`, so that no
/// two CALLs on a connection share an id; events always carry the [`CallId`].
#[derive(Debug)]
pub struct Engine<P: Protocol, Q: OfflineQueue = MemoryQueue> {
    cfg: Config,
    role: Role,
    connected: bool,
    boot: BootState,
    boot_action: Option<P::Action>,
    heartbeat_action: Option<P::Action>,
    station: Option<Station>,
    next_id: u64,
    queue: VecDeque<Outgoing<P::Action>>,
    in_flight: Option<InFlight<P::Action>>,
    offline: Q,
    incoming: Option<(String, P::Action)>,
    incoming_waiting: VecDeque<IncomingCall<P>>,
    recent_out: VecDeque<Recent<P::Action>>,
    recent_in: VecDeque<(String, P::Action)>,
    permits: Vec<P::Action>,
    transmits: VecDeque<String>,
    events: VecDeque<Event<P>>,
    stats: Stats,
}

impl<P: Protocol> Engine<P, MemoryQueue> {
    /// An engine for the CSMS side of a connection that was just accepted.
    pub fn csms(config: Config) -> Self {
        Engine::new(Role::Csms, config, MemoryQueue::new(), None)
    }
}

impl<P: Protocol, Q: OfflineQueue> Engine<P, Q> {
    fn new(role: Role, cfg: Config, offline: Q, station: Option<Station>) -> Self {
        let next_id = offline.max_id().map_or(1, |m| m.0 + 1);
        Engine {
            boot: cfg.boot_state,
            cfg,
            role,
            connected: true,
            boot_action: P::action_from_name("BootNotification"),
            heartbeat_action: P::action_from_name("Heartbeat"),
            station,
            next_id,
            queue: VecDeque::new(),
            in_flight: None,
            offline,
            incoming: None,
            incoming_waiting: VecDeque::new(),
            recent_out: VecDeque::new(),
            recent_in: VecDeque::new(),
            permits: Vec::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: Stats::default(),
        }
    }

    /// An engine for the charging-station side of a connection that was just opened.
    ///
    /// The BootNotification of `station.boot_request` is validated now and ready in
    /// [`poll_transmit`](Engine::poll_transmit) (unless [`Config::boot_state`] is
    /// [`BootState::Accepted`]). Messages left in `queue` from an earlier run are replayed after
    /// the boot was accepted.
    pub fn station(
        now: Instant,
        config: Config,
        station: StationConfig<P>,
        queue: Q,
    ) -> Result<Self, RequestError> {
        let action = P::request_action(&station.boot_request);
        if Some(action) != P::action_from_name("BootNotification") {
            return Err(RequestError::WrongMessageType(format!(
                "boot_request is a {} request, not a BootNotification",
                P::action_name(action)
            )));
        }
        let boot_payload = P::encode_request(&station.boot_request, &config.encode_options)
            .map_err(RequestError::Invalid)?;
        let accepted = config.boot_state == BootState::Accepted;
        let st = Station {
            boot_payload,
            boot_due: (!accepted).then_some(now),
            boot_retry_interval: station.boot_retry_interval,
            heartbeat_interval: station.heartbeat_interval,
            heartbeat_due: accepted.then(|| now + station.heartbeat_interval),
            skip_heartbeat_after_traffic: station.skip_heartbeat_after_traffic,
            last_call_sent: None,
            tx_attempts_max: station.transaction_message_attempts.max(1),
            tx_retry_interval: station.transaction_message_retry_interval,
            tx_failed_attempts: 0,
            tx_retry_at: None,
        };
        let mut e = Engine::new(Role::ChargingStation, config, queue, Some(st));
        e.pump(now);
        Ok(e)
    }

    // ----------------------------------------------------------------------------------------
    // Accessors

    /// This engine's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The protocol version.
    pub fn version(&self) -> OcppVersion {
        P::VERSION
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The boot state.
    pub fn boot_state(&self) -> BootState {
        self.boot
    }

    /// Whether the transport is up (see [`handle_disconnect`](Engine::handle_disconnect)).
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// The outgoing CALL waiting for its answer, if any.
    pub fn outstanding_call(&self) -> Option<(CallId, P::Action)> {
        self.in_flight.as_ref().map(|f| (f.id, f.action))
    }

    /// The incoming CALL the application has not answered yet, if any.
    pub fn pending_incoming(&self) -> Option<(&str, P::Action)> {
        self.incoming.as_ref().map(|(id, a)| (id.as_str(), *a))
    }

    /// How many outgoing CALLs wait behind the outstanding one (offline queue not counted).
    pub fn queued_calls(&self) -> usize {
        self.queue.len()
    }

    /// The offline queue of transaction-related messages.
    pub fn offline_queue(&self) -> &Q {
        &self.offline
    }

    /// Traffic counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The heartbeat interval in force (station role).
    pub fn heartbeat_interval(&self) -> Option<Duration> {
        self.station.as_ref().map(|s| s.heartbeat_interval)
    }

    /// Changes the decode options, for example to read a known-quirky station leniently.
    pub fn set_decode_options(&mut self, opts: DecodeOptions) {
        self.cfg.decode_options = opts;
    }

    /// Sets the boot state, for example when the CSMS learns from its storage that the station
    /// was accepted before. Reports [`Event::BootStateChanged`] when it changes.
    pub fn set_boot_state(&mut self, now: Instant, state: BootState) {
        self.change_boot(now, state);
        self.pump(now);
    }

    /// Lets one message of `action` through the boot gate: on the CSMS side one incoming CALL
    /// is accepted before the boot was accepted, on the station side one outgoing CALL is sent.
    /// Use it for the message a TriggerMessage asked for while the boot is `Pending`.
    pub fn allow_before_boot(&mut self, now: Instant, action: P::Action) {
        self.permits.push(action);
        self.pump(now);
    }

    /// Applies a new heartbeat interval (station role; 1.6 `HeartbeatInterval`, 2.x
    /// `OCPPCommCtrlr.HeartbeatInterval`). The next heartbeat goes out one interval from `now`.
    pub fn set_heartbeat_interval(&mut self, now: Instant, interval: Duration) {
        let accepted = self.boot == BootState::Accepted && self.connected;
        if let Some(st) = self.station.as_mut() {
            st.heartbeat_interval = interval;
            if accepted {
                st.heartbeat_due = Some(now + interval);
            }
        }
    }

    /// Applies new retry rules for transaction-related messages (station role).
    pub fn set_transaction_retry(&mut self, attempts: u32, interval: Duration) {
        if let Some(st) = self.station.as_mut() {
            st.tx_attempts_max = attempts.max(1);
            st.tx_retry_interval = interval;
        }
    }

    // ----------------------------------------------------------------------------------------
    // Outputs

    /// The next frame to write to the WebSocket, oldest first.
    pub fn poll_transmit(&mut self) -> Option<String> {
        let t = self.transmits.pop_front();
        if t.is_some() {
            self.stats.frames_out += 1;
        }
        t
    }

    /// The next event for the application, oldest first.
    pub fn poll_event(&mut self) -> Option<Event<P>> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Engine::handle_timeout) should be called next, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut t = self.in_flight.as_ref().map(|f| f.deadline);
        let mut consider = |x: Option<Instant>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |t| t.min(x)));
            }
        };
        if let (Some(st), true) = (&self.station, self.connected) {
            if self.boot == BootState::Accepted {
                consider(st.heartbeat_due);
                if self.in_flight.is_none() && !self.offline.is_empty() {
                    consider(st.tx_retry_at);
                }
            } else if self.in_flight.is_none() {
                consider(st.boot_due);
            }
        }
        t
    }

    // ----------------------------------------------------------------------------------------
    // Inputs

    /// Time passed: fails the outstanding call after its timeout, and (station role) sends the
    /// boot retry, the heartbeat and the transaction message retries that are due.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.in_flight.as_ref().is_some_and(|f| f.deadline <= now) {
            let f = self.in_flight.take().expect("checked above");
            self.stats.timeouts += 1;
            tracing::debug!(
                station = %self.cfg.station_id,
                message_id = %f.wire_id,
                action = P::action_name(f.action),
                "call timed out"
            );
            self.remember_out(&f, Outcome::TimedOut);
            self.call_failed(now, f, CallFailure::Timeout);
        }
        if self.connected && self.boot == BootState::Accepted {
            self.heartbeat_tick(now);
        }
        self.pump(now);
    }

    /// The transport went down. The outstanding call and the queued ones fail with
    /// [`CallFailure::Disconnected`], except transaction-related messages, which stay in the
    /// offline queue. Incoming calls not answered yet are forgotten.
    pub fn handle_disconnect(&mut self, now: Instant) {
        if !self.connected {
            return;
        }
        self.connected = false;
        if let Some(f) = self.in_flight.take() {
            self.remember_out(&f, Outcome::Abandoned);
            let boot_cut = f.origin == Origin::Boot;
            if f.origin != Origin::Transaction {
                self.call_failed(now, f, CallFailure::Disconnected);
            }
            if let (true, Some(st)) = (boot_cut, self.station.as_mut()) {
                // A boot cut by the disconnect goes out again as soon as the link is back.
                st.boot_due = None;
            }
        }
        for o in std::mem::take(&mut self.queue) {
            self.events.push_back(Event::CallFailed {
                id: o.id,
                action: o.action,
                failure: CallFailure::Disconnected,
            });
        }
        self.incoming = None;
        self.incoming_waiting.clear();
        if let Some(st) = self.station.as_mut() {
            st.heartbeat_due = None;
        }
        // Frames not yet written cannot be written any more.
        self.transmits.clear();
    }

    /// The transport is up again (station role: after a reconnect). Sends the BootNotification
    /// if the boot is not accepted yet (at once, or at the retry time a `Pending` / `Rejected`
    /// answer set), and replays the offline queue once it is.
    pub fn handle_connect(&mut self, now: Instant) {
        if self.connected {
            return;
        }
        self.connected = true;
        let accepted = self.boot == BootState::Accepted;
        if let Some(st) = self.station.as_mut() {
            if accepted {
                st.heartbeat_due = Some(now + st.heartbeat_interval);
            } else {
                // A Rejected / Pending boot keeps its retry time: the station must not send
                // anything before it.
                st.boot_due.get_or_insert(now);
            }
        }
        self.pump(now);
    }

    /// One WebSocket text frame from the peer.
    pub fn handle_text(&mut self, now: Instant, text: &str) {
        self.stats.frames_in += 1;
        if !self.connected {
            tracing::debug!(station = %self.cfg.station_id, "frame while disconnected ignored");
            return;
        }
        tracing::trace!(station = %self.cfg.station_id, frame = text, "frame in");
        match Frame::parse(text, P::VERSION) {
            Err(e) => self.on_bad_frame(now, e),
            Ok(Frame::Call {
                id,
                action,
                payload,
            }) => self.on_call(&id, &action, &payload),
            Ok(Frame::Send {
                id,
                action,
                payload,
            }) => self.on_send(&id, &action, &payload),
            Ok(Frame::CallResult { id, payload }) => self.on_result(now, &id, Ok(&payload)),
            Ok(Frame::CallError(e)) => {
                let error = CallError {
                    code: e.error_code(P::VERSION).unwrap_or(ErrorCode::GenericError),
                    description: e.description.clone().into_owned(),
                    details: Some(e.details.clone().into_owned()),
                };
                let wire_code = e.code.into_owned();
                self.on_result(now, &e.id, Err(CallFailure::Error { error, wire_code }));
            }
            Ok(Frame::CallResultError(e)) => {
                let action = self
                    .recent_in
                    .iter()
                    .find(|(id, _)| *id == e.id)
                    .map(|(_, action)| *action);
                let code = e.error_code(P::VERSION).unwrap_or(ErrorCode::GenericError);
                self.events.push_back(Event::ResultRejected {
                    id: e.id.into_owned(),
                    action,
                    error: CallError {
                        code,
                        description: e.description.into_owned(),
                        details: Some(e.details.into_owned()),
                    },
                });
            }
        }
        self.pump(now);
    }

    /// Queues a typed CALL. The payload is validated against its schema (with
    /// [`Config::encode_options`]) and refused if it breaks it; the CALLRESULT is decoded as
    /// `R::Response` (as the version's `AnyResponse`) and delivered in [`Event::Response`].
    pub fn call<R: Request>(&mut self, now: Instant, request: R) -> Result<CallId, RequestError> {
        let action = match P::action_from_name(R::ACTION) {
            Some(a) if R::VERSION == P::VERSION => a,
            _ => {
                return Err(RequestError::WrongVersion {
                    action: R::ACTION.to_owned(),
                    version: P::VERSION,
                })
            }
        };
        self.check_call_action(action)?;
        let payload =
            encode_validated(&request, &self.cfg.encode_options).map_err(RequestError::Invalid)?;
        self.enqueue(now, action, payload)
    }

    /// Queues a CALL given as the version's `AnyRequest`; otherwise like [`call`](Engine::call).
    pub fn call_any(
        &mut self,
        now: Instant,
        request: P::AnyRequest,
    ) -> Result<CallId, RequestError> {
        let action = P::request_action(&request);
        self.check_call_action(action)?;
        let payload =
            P::encode_request(&request, &self.cfg.encode_options).map_err(RequestError::Invalid)?;
        self.enqueue(now, action, payload)
    }

    /// Sends a typed 2.1 SEND at once (SENDs are never answered, so they do not wait for the
    /// outstanding CALL). Refused on other versions, while disconnected, and (station role)
    /// before the boot was accepted.
    pub fn send<M: SendMessage>(
        &mut self,
        now: Instant,
        message: M,
    ) -> Result<CallId, RequestError> {
        let action = match P::action_from_name(M::ACTION) {
            Some(a) if M::VERSION == P::VERSION => a,
            _ => {
                return Err(RequestError::WrongVersion {
                    action: M::ACTION.to_owned(),
                    version: P::VERSION,
                })
            }
        };
        self.check_send_action(action)?;
        let payload =
            encode_validated(&message, &self.cfg.encode_options).map_err(RequestError::Invalid)?;
        self.transmit_send(now, action, payload)
    }

    /// Sends a 2.1 SEND given as the version's `AnyRequest`; otherwise like
    /// [`send`](Engine::send).
    pub fn send_any(
        &mut self,
        now: Instant,
        message: P::AnyRequest,
    ) -> Result<CallId, RequestError> {
        let action = P::request_action(&message);
        self.check_send_action(action)?;
        let payload =
            P::encode_request(&message, &self.cfg.encode_options).map_err(RequestError::Invalid)?;
        self.transmit_send(now, action, payload)
    }

    /// Answers the incoming CALL `id` (from [`Event::Call`]) with a CALLRESULT or a CALLERROR.
    ///
    /// The response is validated first (with [`Config::encode_options`]); an invalid response,
    /// or one of another action than the CALL, is not sent: the CALL is answered
    /// `InternalError` and the error returned. On the CSMS side, answering a BootNotification
    /// sets the boot state from the response's `status`.
    pub fn respond(
        &mut self,
        id: &str,
        result: Result<P::AnyResponse, CallError>,
    ) -> Result<(), RespondError> {
        let action = match &self.incoming {
            Some((pending, action)) if pending == id => *action,
            _ => return Err(RespondError::UnknownId(id.to_owned())),
        };
        self.incoming = None;
        let mut outcome = Ok(());
        let frame = match result {
            Ok(response) if P::response_action(&response) != action => {
                outcome = Err(RespondError::WrongAction);
                let d = format!(
                    "the handler answered {} with a {} response",
                    P::action_name(action),
                    P::action_name(P::response_action(&response))
                );
                Frame::call_error(id, ErrorCode::InternalError, P::VERSION, &d, None).to_json()
            }
            Ok(response) => match P::encode_response(&response, &self.cfg.encode_options) {
                Ok(payload) => {
                    if self.role == Role::Csms && Some(action) == self.boot_action {
                        if let Some(state) = boot_status(&payload) {
                            // `respond` takes no clock; the CSMS role schedules nothing on boot.
                            self.change_boot_state_only(state);
                        }
                    }
                    Frame::call_result(id, payload).to_json()
                }
                Err(e) => {
                    tracing::warn!(
                        station = %self.cfg.station_id,
                        message_id = id,
                        action = P::action_name(action),
                        error = %e,
                        "response breaks its schema, answering InternalError"
                    );
                    let d = format!("the response could not be sent: {e}");
                    outcome = Err(RespondError::Invalid(e));
                    Frame::call_error(id, ErrorCode::InternalError, P::VERSION, &d, None).to_json()
                }
            },
            Err(err) => Frame::call_error(
                id,
                err.code,
                P::VERSION,
                &err.description,
                err.details.as_deref(),
            )
            .to_json(),
        };
        self.push_transmit(frame);
        if self.recent_in.len() == RECENT_IN {
            self.recent_in.pop_front();
        }
        self.recent_in.push_back((id.to_owned(), action));
        self.deliver_next_incoming();
        outcome
    }

    // ----------------------------------------------------------------------------------------
    // Incoming messages

    fn on_bad_frame(&mut self, now: Instant, e: ocpp_types::FrameError) {
        let answered = e.answer(P::VERSION).map(|(code, _)| code);
        if let Some(reply) = e.reply(P::VERSION) {
            self.push_transmit(reply);
        }
        // A broken answer to the outstanding call fails it now rather than at its timeout.
        if matches!(e.message_type, Some(3..=5)) {
            if let (Some(id), Some(f)) = (&e.id, &self.in_flight) {
                if *id == f.wire_id {
                    let f = self.in_flight.take().expect("checked above");
                    self.remember_out(&f, Outcome::Answered);
                    let de = DecodeError::new(ErrorCode::FormatViolation, e.description.clone());
                    self.call_failed(now, f, CallFailure::InvalidResponse(de));
                }
            }
        }
        self.refused(e.id.clone(), None, answered, e.description);
    }

    fn reply_error(
        &mut self,
        id: &str,
        action: &str,
        code: ErrorCode,
        e: Option<&DecodeError>,
        reason: String,
    ) {
        let details = e.filter(|e| !e.path().is_empty()).map(|e| {
            let mut w = JsonWriter::with_capacity(e.path().len() + 16);
            w.raw("{\"pointer\":");
            w.string(e.path());
            w.push('}');
            w.into_string()
        });
        let frame = Frame::call_error(id, code, P::VERSION, &reason, details.as_deref()).to_json();
        self.push_transmit(frame);
        self.refused(
            Some(id.to_owned()),
            Some(action.to_owned()),
            Some(code),
            reason,
        );
    }

    fn refused(
        &mut self,
        id: Option<String>,
        action: Option<String>,
        answered: Option<ErrorCode>,
        reason: String,
    ) {
        self.stats.refused += 1;
        tracing::debug!(
            station = %self.cfg.station_id,
            message_id = id.as_deref().unwrap_or(""),
            action = action.as_deref().unwrap_or(""),
            code = ?answered,
            reason = %reason,
            "incoming message refused"
        );
        self.events.push_back(Event::Refused {
            id,
            action,
            answered,
            reason,
        });
    }

    fn on_call(&mut self, id: &str, name: &str, payload: &str) {
        let duplicate = self.incoming.as_ref().is_some_and(|(i, _)| i == id)
            || self.incoming_waiting.iter().any(|c| c.id == id);
        if duplicate {
            self.stats.refused += 1;
            self.events
                .push_back(Event::DuplicateCall { id: id.to_owned() });
            return;
        }
        let Some(action) = P::action_from_name(name) else {
            let reason = format!("OCPP {} has no action {name:?}", P::VERSION);
            return self.reply_error(id, name, ErrorCode::NotImplemented, None, reason);
        };
        if P::action_is_send(action) || !P::action_direction(action).received_by(self.role) {
            let reason = if P::action_is_send(action) {
                format!("{name} is a SEND message, not a CALL")
            } else {
                format!("{name} is not sent to the {}", role_name(self.role))
            };
            return self.reply_error(id, name, ErrorCode::NotSupported, None, reason);
        }
        if !self.gate_incoming(action) {
            let reason = format!("{name} before the BootNotification was accepted");
            return self.reply_error(id, name, ErrorCode::SecurityError, None, reason);
        }
        if self.incoming.is_some() && self.incoming_waiting.len() >= self.cfg.max_queued_incoming {
            let reason = "too many CALLs waiting for an answer".to_owned();
            return self.reply_error(id, name, ErrorCode::GenericError, None, reason);
        }
        match P::decode_request(action, payload, &self.cfg.decode_options) {
            Err(e) => {
                let reason = e.to_string();
                self.reply_error(id, name, e.code(), Some(&e), reason);
            }
            Ok((request, leniencies)) => {
                self.count_leniencies(id, action, &leniencies);
                self.incoming_waiting.push_back(IncomingCall {
                    id: id.to_owned(),
                    action,
                    request,
                    leniencies,
                });
                if self.incoming.is_none() {
                    self.deliver_next_incoming();
                }
            }
        }
    }

    fn on_send(&mut self, id: &str, name: &str, payload: &str) {
        let reason = match P::action_from_name(name) {
            None => format!("OCPP {} has no action {name:?}", P::VERSION),
            Some(a) if !P::action_is_send(a) => format!("{name} is a CALL, not a SEND message"),
            Some(a) if !P::action_direction(a).received_by(self.role) => {
                format!("{name} is not sent to the {}", role_name(self.role))
            }
            Some(a) if !self.gate_incoming(a) => {
                format!("{name} before the BootNotification was accepted")
            }
            Some(action) => match P::decode_request(action, payload, &self.cfg.decode_options) {
                Ok((request, leniencies)) => {
                    self.count_leniencies(id, action, &leniencies);
                    self.stats.calls_delivered += 1;
                    self.events.push_back(Event::Send {
                        id: id.to_owned(),
                        action,
                        request,
                        leniencies,
                    });
                    return;
                }
                Err(e) => e.to_string(),
            },
        };
        self.refused(Some(id.to_owned()), Some(name.to_owned()), None, reason);
    }

    fn on_result(&mut self, now: Instant, id: &str, answer: Result<&str, CallFailure>) {
        let Some(f) = self.in_flight.take_if(|f| f.wire_id == id) else {
            return self.on_stray_answer(id, answer.is_err());
        };
        self.remember_out(&f, Outcome::Answered);
        let payload = match answer {
            Err(failure) => return self.call_failed(now, f, failure),
            Ok(payload) => payload,
        };
        match P::decode_response(f.action, payload, &self.cfg.decode_options) {
            Ok((response, leniencies)) => {
                self.count_leniencies(id, f.action, &leniencies);
                if self.role == Role::ChargingStation && Some(f.action) == self.boot_action {
                    self.on_boot_response(now, payload);
                }
                if f.origin == Origin::Transaction {
                    self.pop_transaction(f.id);
                }
                self.events.push_back(Event::Response {
                    id: f.id,
                    action: f.action,
                    response,
                    leniencies,
                });
            }
            Err(e) => {
                tracing::debug!(
                    station = %self.cfg.station_id,
                    message_id = id,
                    action = P::action_name(f.action),
                    error = %e,
                    "invalid CALLRESULT"
                );
                if P::VERSION.has_send_frames() {
                    let d = e.to_string();
                    let frame = Frame::call_result_error(id, e.code(), P::VERSION, &d, None);
                    self.push_transmit(frame.to_json());
                }
                if f.origin == Origin::Transaction {
                    // The CSMS processed the message; sending it again would duplicate it.
                    self.pop_transaction(f.id);
                    self.events.push_back(Event::CallFailed {
                        id: f.id,
                        action: f.action,
                        failure: CallFailure::InvalidResponse(e),
                    });
                } else {
                    self.call_failed(now, f, CallFailure::InvalidResponse(e));
                }
            }
        }
    }

    fn on_stray_answer(&mut self, id: &str, was_error: bool) {
        let event = match self.recent_out.iter_mut().find(|r| r.wire_id == id) {
            Some(r) if r.outcome == Outcome::Answered => Event::DuplicateResponse {
                id: r.id,
                action: r.action,
            },
            Some(r) => {
                r.outcome = Outcome::Answered;
                Event::LateResponse {
                    id: r.id,
                    action: r.action,
                    was_error,
                }
            }
            None => Event::UnknownResponse {
                message_id: id.to_owned(),
            },
        };
        tracing::debug!(station = %self.cfg.station_id, message_id = id, event = ?event, "stray answer");
        self.events.push_back(event);
    }

    fn deliver_next_incoming(&mut self) {
        if self.incoming.is_some() {
            return;
        }
        if let Some(c) = self.incoming_waiting.pop_front() {
            self.incoming = Some((c.id.clone(), c.action));
            self.stats.calls_delivered += 1;
            self.events.push_back(Event::Call {
                id: c.id,
                action: c.action,
                request: c.request,
                leniencies: c.leniencies,
            });
        }
    }

    fn count_leniencies(&mut self, id: &str, action: P::Action, l: &Leniencies) {
        if !l.is_empty() {
            self.stats.leniencies.add(l);
            tracing::info!(
                station = %self.cfg.station_id,
                message_id = id,
                action = P::action_name(action),
                leniencies = ?l,
                "payload read leniently"
            );
        }
    }

    /// Whether an incoming CALL / SEND of `action` passes the boot gate (CSMS role).
    fn gate_incoming(&mut self, action: P::Action) -> bool {
        if self.role != Role::Csms || self.boot == BootState::Accepted {
            return true;
        }
        if Some(action) == self.boot_action {
            return true;
        }
        self.take_permit(action)
    }

    fn take_permit(&mut self, action: P::Action) -> bool {
        match self.permits.iter().position(|a| *a == action) {
            Some(i) => {
                self.permits.swap_remove(i);
                true
            }
            None => false,
        }
    }

    // ----------------------------------------------------------------------------------------
    // Outgoing calls

    fn check_call_action(&self, action: P::Action) -> Result<(), RequestError> {
        if P::action_is_send(action) {
            return Err(RequestError::WrongMessageType(format!(
                "{} is a SEND message; use send",
                P::action_name(action)
            )));
        }
        if !P::action_direction(action).sent_by(self.role) {
            return Err(RequestError::WrongDirection {
                action: P::action_name(action).to_owned(),
                role: self.role,
            });
        }
        Ok(())
    }

    fn check_send_action(&self, action: P::Action) -> Result<(), RequestError> {
        if !P::VERSION.has_send_frames() {
            return Err(RequestError::WrongMessageType(format!(
                "OCPP {} has no SEND frames",
                P::VERSION
            )));
        }
        if !P::action_is_send(action) {
            return Err(RequestError::WrongMessageType(format!(
                "{} is a CALL; use call",
                P::action_name(action)
            )));
        }
        if !P::action_direction(action).sent_by(self.role) {
            return Err(RequestError::WrongDirection {
                action: P::action_name(action).to_owned(),
                role: self.role,
            });
        }
        Ok(())
    }

    fn fresh_id(&mut self) -> CallId {
        let id = CallId(self.next_id);
        self.next_id += 1;
        id
    }

    fn enqueue(
        &mut self,
        now: Instant,
        action: P::Action,
        payload: String,
    ) -> Result<CallId, RequestError> {
        if self.station.is_some()
            && is_transaction_message(P::VERSION, P::action_name(action), &payload)
        {
            let id = self.fresh_id();
            self.offline.push(QueuedMessage {
                id,
                action: P::action_name(action).to_owned(),
                payload,
            })?;
            self.pump(now);
            return Ok(id);
        }
        if !self.connected {
            return Err(RequestError::NotConnected);
        }
        if self.queue.len() >= self.cfg.max_queued_calls {
            return Err(RequestError::QueueFull(self.queue.len()));
        }
        let id = self.fresh_id();
        self.queue.push_back(Outgoing {
            id,
            action,
            payload,
            origin: Origin::App,
            retry: 0,
        });
        self.pump(now);
        Ok(id)
    }

    fn transmit_send(
        &mut self,
        _now: Instant,
        action: P::Action,
        payload: String,
    ) -> Result<CallId, RequestError> {
        if !self.connected {
            return Err(RequestError::NotConnected);
        }
        if self.role == Role::ChargingStation
            && self.boot != BootState::Accepted
            && !self.take_permit(action)
        {
            return Err(RequestError::WrongMessageType(
                "no SEND before the BootNotification was accepted".to_owned(),
            ));
        }
        let id = self.fresh_id();
        let frame = Frame::send(id.to_string(), P::action_name(action), payload).to_json();
        self.push_transmit(frame);
        Ok(id)
    }

    /// Sends the next call if none is outstanding.
    fn pump(&mut self, now: Instant) {
        if !self.connected || self.in_flight.is_some() {
            return;
        }
        let next = if self.role == Role::Csms {
            self.queue.pop_front()
        } else if self.boot != BootState::Accepted {
            self.next_before_boot(now)
        } else {
            self.next_after_boot(now)
        };
        let Some(o) = next else { return };
        let wire_id = match o.retry {
            0 => o.id.to_string(),
            n => format!("{}-{n}", o.id),
        };
        tracing::trace!(
            station = %self.cfg.station_id,
            message_id = %wire_id,
            action = P::action_name(o.action),
            "call out"
        );
        let frame = Frame::call(
            wire_id.as_str(),
            P::action_name(o.action),
            o.payload.as_str(),
        )
        .to_json();
        self.push_transmit(frame);
        self.stats.calls_sent += 1;
        if let Some(st) = self.station.as_mut() {
            st.last_call_sent = Some(now);
        }
        self.in_flight = Some(InFlight {
            id: o.id,
            wire_id,
            action: o.action,
            deadline: now + self.cfg.call_timeout,
            origin: o.origin,
        });
    }

    fn next_before_boot(&mut self, now: Instant) -> Option<Outgoing<P::Action>> {
        let boot_action = self.boot_action?;
        let st = self.station.as_mut()?;
        if st.boot_due.is_some_and(|t| t <= now) {
            st.boot_due = None;
            let payload = st.boot_payload.clone();
            let id = self.fresh_id();
            return Some(Outgoing {
                id,
                action: boot_action,
                payload,
                origin: Origin::Boot,
                retry: 0,
            });
        }
        let i = self
            .queue
            .iter()
            .position(|o| o.action == boot_action || self.permits.contains(&o.action))?;
        let o = self.queue.remove(i)?;
        if o.action != boot_action {
            self.take_permit(o.action);
        }
        Some(o)
    }

    fn next_after_boot(&mut self, now: Instant) -> Option<Outgoing<P::Action>> {
        let st = self.station.as_ref()?;
        let tx_ready = st.tx_retry_at.is_none_or(|t| t <= now);
        let tx = self.offline.front().filter(|_| tx_ready);
        let use_tx = match (tx, self.queue.front()) {
            (Some(t), Some(q)) => t.id < q.id,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if !use_tx {
            return self.queue.pop_front();
        }
        let m = self.offline.front()?;
        let Some(action) = P::action_from_name(&m.action) else {
            // Stored by another version or corrupted: it can never be sent.
            tracing::error!(station = %self.cfg.station_id, action = %m.action, "offline message of an unknown action dropped");
            let _ = self.offline.pop_front();
            return self.next_after_boot(now);
        };
        let st = self.station.as_mut()?;
        st.tx_retry_at = None;
        Some(Outgoing {
            id: m.id,
            action,
            payload: m.payload.clone(),
            origin: Origin::Transaction,
            retry: st.tx_failed_attempts,
        })
    }

    fn push_transmit(&mut self, frame: String) {
        self.transmits.push_back(frame);
    }

    fn remember_out(&mut self, f: &InFlight<P::Action>, outcome: Outcome) {
        if self.recent_out.len() == RECENT_OUT {
            self.recent_out.pop_front();
        }
        self.recent_out.push_back(Recent {
            wire_id: f.wire_id.clone(),
            id: f.id,
            action: f.action,
            outcome,
        });
    }

    fn pop_transaction(&mut self, id: CallId) {
        if self.offline.front().is_some_and(|m| m.id == id) {
            if let Err(e) = self.offline.pop_front() {
                // The message stays queued and will be sent again: a duplicate, never a loss.
                tracing::error!(station = %self.cfg.station_id, error = %e, "offline queue: removal failed");
            }
        }
        if let Some(st) = self.station.as_mut() {
            st.tx_failed_attempts = 0;
            st.tx_retry_at = None;
        }
    }

    /// An outgoing call ended without a usable response.
    fn call_failed(&mut self, now: Instant, f: InFlight<P::Action>, failure: CallFailure) {
        match f.origin {
            Origin::Boot => {
                if let Some(st) = self.station.as_mut() {
                    st.boot_due = Some(now + st.boot_retry_interval);
                }
            }
            Origin::Transaction => {
                let Some(st) = self.station.as_mut() else {
                    return;
                };
                st.tx_failed_attempts += 1;
                let attempts = st.tx_failed_attempts;
                if attempts >= st.tx_attempts_max {
                    tracing::warn!(
                        station = %self.cfg.station_id,
                        message_id = %f.wire_id,
                        action = P::action_name(f.action),
                        attempts,
                        "transaction message given up"
                    );
                    self.pop_transaction(f.id);
                } else {
                    let retry_at = now + st.tx_retry_interval * attempts;
                    st.tx_retry_at = Some(retry_at);
                    self.events.push_back(Event::TransactionMessageRetry {
                        id: f.id,
                        action: f.action,
                        attempts,
                        failure,
                        retry_at,
                    });
                    return;
                }
            }
            Origin::App | Origin::Heartbeat => {}
        }
        self.events.push_back(Event::CallFailed {
            id: f.id,
            action: f.action,
            failure,
        });
    }

    // ----------------------------------------------------------------------------------------
    // Boot and heartbeat

    fn on_boot_response(&mut self, now: Instant, payload: &str) {
        let (status, interval) = boot_fields(payload);
        let state = status.unwrap_or(BootState::Rejected);
        if let Some(st) = self.station.as_mut() {
            let interval = interval.filter(|i| *i > 0).map(Duration::from_secs);
            if state == BootState::Accepted {
                if let Some(i) = interval {
                    st.heartbeat_interval = i;
                }
                st.boot_due = None;
                st.heartbeat_due = Some(now + st.heartbeat_interval);
            } else {
                st.boot_due = Some(now + interval.unwrap_or(st.boot_retry_interval));
            }
        }
        self.change_boot(now, state);
    }

    fn change_boot_state_only(&mut self, state: BootState) {
        if self.boot != state {
            self.boot = state;
            self.events.push_back(Event::BootStateChanged { state });
        }
    }

    fn change_boot(&mut self, now: Instant, state: BootState) {
        let was = self.boot;
        self.change_boot_state_only(state);
        if let Some(st) = self.station.as_mut() {
            if state == BootState::Accepted && st.heartbeat_due.is_none() && self.connected {
                st.heartbeat_due = Some(now + st.heartbeat_interval);
            }
            if state != BootState::Accepted && was == BootState::Accepted {
                st.heartbeat_due = None;
                st.boot_due.get_or_insert(now);
            }
        }
    }

    fn heartbeat_tick(&mut self, now: Instant) {
        let Some(action) = self.heartbeat_action else {
            return;
        };
        let Some(st) = self.station.as_mut() else {
            return;
        };
        let Some(due) = st.heartbeat_due else { return };
        if due > now {
            return;
        }
        if st.skip_heartbeat_after_traffic {
            if let Some(last) = st.last_call_sent {
                if last + st.heartbeat_interval > now {
                    st.heartbeat_due = Some(last + st.heartbeat_interval);
                    return;
                }
            }
        }
        st.heartbeat_due = Some(now + st.heartbeat_interval);
        let pending = self
            .in_flight
            .as_ref()
            .is_some_and(|f| f.origin == Origin::Heartbeat)
            || self.queue.iter().any(|o| o.origin == Origin::Heartbeat);
        if !pending {
            let id = self.fresh_id();
            self.queue.push_back(Outgoing {
                id,
                action,
                payload: "{}".to_owned(),
                origin: Origin::Heartbeat,
                retry: 0,
            });
        }
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Csms => "CSMS",
        Role::ChargingStation => "charging station",
    }
}

/// Calls the engine holds in the offline queue: 1.6 `StartTransaction`, `StopTransaction` and
/// `MeterValues` with a `transactionId`; 2.x `TransactionEvent`.
pub fn is_transaction_message(version: OcppVersion, action: &str, payload: &str) -> bool {
    match version {
        OcppVersion::V16 => match action {
            "StartTransaction" | "StopTransaction" => true,
            "MeterValues" => {
                let mut found = false;
                for_each_member(payload, |name, p| {
                    if name == "transactionId" && p.peek() != Kind::Null {
                        found = true;
                    }
                    p.skip_value().is_ok()
                });
                found
            }
            _ => false,
        },
        OcppVersion::V201 | OcppVersion::V21 => action == "TransactionEvent",
    }
}

/// Calls `f` for each top-level member of a JSON object with the parser at the member's value;
/// `f` must consume the value and return whether to go on.
fn for_each_member(json: &str, mut f: impl FnMut(&str, &mut Parser<'_>) -> bool) {
    let mut p = Parser::new(json);
    if p.peek() != Kind::Object || p.object_begin().is_err() {
        return;
    }
    let mut first = true;
    while let Ok(Some(name)) = p.object_next(&mut first) {
        if !f(&name, &mut p) {
            return;
        }
    }
}

/// The `status` and `interval` of a BootNotification response.
fn boot_fields(json: &str) -> (Option<BootState>, Option<u64>) {
    let (mut status, mut interval) = (None, None);
    for_each_member(json, |name, p| match name {
        "status" if p.peek() == Kind::String => {
            status = p.string().ok().map(|s| match &*s {
                "Accepted" => BootState::Accepted,
                "Pending" => BootState::Pending,
                _ => BootState::Rejected,
            });
            status.is_some()
        }
        "interval" if p.peek() == Kind::Number => {
            interval = p.number().ok().and_then(|n| n.parse::<u64>().ok());
            true
        }
        _ => p.skip_value().is_ok(),
    });
    (status, interval)
}

fn boot_status(json: &str) -> Option<BootState> {
    boot_fields(json).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_messages_are_recognised() {
        use OcppVersion::*;
        assert!(is_transaction_message(V16, "StartTransaction", "{}"));
        assert!(is_transaction_message(V16, "StopTransaction", "{}"));
        assert!(is_transaction_message(
            V16,
            "MeterValues",
            r#"{"connectorId":1,"transactionId":5,"meterValue":[]}"#
        ));
        assert!(!is_transaction_message(
            V16,
            "MeterValues",
            r#"{"connectorId":1,"meterValue":[{"a":{"transactionId":1}}]}"#
        ));
        assert!(!is_transaction_message(
            V16,
            "MeterValues",
            r#"{"transactionId":null}"#
        ));
        assert!(!is_transaction_message(V16, "TransactionEvent", "{}"));
        assert!(is_transaction_message(V201, "TransactionEvent", "{}"));
        assert!(is_transaction_message(V21, "TransactionEvent", "{}"));
        assert!(!is_transaction_message(
            V201,
            "MeterValues",
            r#"{"transactionId":5}"#
        ));
    }

    #[test]
    fn boot_fields_are_read() {
        assert_eq!(
            boot_fields(r#"{"currentTime":"x","interval":300,"status":"Accepted"}"#),
            (Some(BootState::Accepted), Some(300))
        );
        assert_eq!(
            boot_fields(r#"{"status":"Pending","interval":0}"#),
            (Some(BootState::Pending), Some(0))
        );
        assert_eq!(
            boot_fields(r#"{"status":"Bogus"}"#),
            (Some(BootState::Rejected), None)
        );
        assert_eq!(boot_fields(r#"[1]"#), (None, None));
    }
}
