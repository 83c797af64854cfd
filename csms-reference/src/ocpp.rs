//! The OCPP side: one generic [`Dispatch`] for every version (the protocol router sends each
//! connection to the stack of its negotiated version, and every stack hands its messages to the
//! version-neutral [`Csms`]), the connection observer, the authenticator over the station table,
//! and CSMS-initiated calls with their recorded effects.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use ocpp_core::transport::{
    AuthRequest, Authenticator, ConnectionInfo, ConnectionObserver, Connections, DisconnectReason,
    JsonCallError, StationHandle,
};
use ocpp_core::{BootState, CallContext, CallError, CallFailure, Dispatch};
use ocpp_types::{DecodeOptions, Direction, ErrorCode, OcppVersion, Protocol};
use serde_json::{json, Value};

use crate::domain::{now, Csms, UnknownStations};
use crate::store::{MessageRecord, ReservationRecord, VariableRecord};

/// The stack of one version: decoded CALLs to JSON, through the domain, back to typed answers.
pub struct VersionStack<P> {
    csms: Arc<Csms>,
    _p: PhantomData<fn() -> P>,
}

impl<P> std::fmt::Debug for VersionStack<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VersionStack")
    }
}

impl<P: Protocol> VersionStack<P> {
    /// The stack of `P` over the domain.
    pub fn new(csms: Arc<Csms>) -> Self {
        VersionStack {
            csms,
            _p: PhantomData,
        }
    }
}

#[async_trait]
impl<P: Protocol> Dispatch<P> for VersionStack<P> {
    async fn dispatch(
        &self,
        ctx: CallContext<P>,
        request: P::AnyRequest,
    ) -> Result<P::AnyResponse, CallError> {
        let action = P::request_action(&request);
        let name = P::action_name(action);
        let span = tracing::info_span!("call", station = %ctx.station_id, message_id = %ctx.message_id, action = name);
        let _g = span.enter();
        let payload = P::encode_request(&request, &DecodeOptions::LENIENT)
            .map_err(|e| CallError::new(ErrorCode::InternalError, e.to_string()))?;
        drop(_g);
        let answer = self
            .csms
            .handle_call(&ctx.station_id, P::VERSION, &ctx.message_id, name, &payload)
            .await?;
        let (response, _) = P::decode_response(action, &answer, &DecodeOptions::STRICT).map_err(|e| {
            tracing::error!(station = %ctx.station_id, action = name, error = %e, "the CSMS built an invalid answer");
            CallError::new(ErrorCode::InternalError, format!("invalid answer: {e}"))
        })?;
        Ok(response)
    }

    async fn dispatch_send(&self, ctx: CallContext<P>, message: P::AnyRequest) {
        let name = P::action_name(P::request_action(&message));
        if let Ok(payload) = P::encode_request(&message, &DecodeOptions::LENIENT) {
            if let Err(e) = self
                .csms
                .handle_call(&ctx.station_id, P::VERSION, &ctx.message_id, name, &payload)
                .await
            {
                tracing::warn!(station = %ctx.station_id, action = name, error = %e, "SEND not stored");
            }
        }
    }
}

/// Records connects and disconnects, and lets a station whose registration is stored as
/// accepted reconnect without a new BootNotification (also after a CSMS restart).
#[derive(Debug, Clone)]
pub struct Observer {
    /// The domain.
    pub csms: Arc<Csms>,
    /// Stations whose own `lenient` setting differs from the server-wide one.
    pub leniency: Arc<std::collections::HashMap<String, bool>>,
    /// The newest connection of each connected station (its connection id): when a second
    /// connection replaced a first, the first one's end does not mark the station
    /// disconnected.
    pub current: Arc<std::sync::Mutex<HashMap<Arc<str>, u64>>>,
}

#[async_trait]
impl ConnectionObserver for Observer {
    async fn connected(&self, station: &StationHandle) {
        let info = station.info();
        self.current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(info.station_id.clone(), info.connection_id);
        let at = now();
        let store = self.csms.store();
        let r = async {
            store
                .ensure_station(&info.station_id, self.csms.initial_registration(), &at)
                .await?;
            store
                .set_connected(&info.station_id, info.version.as_str(), true, &at)
                .await
        }
        .await;
        if let Err(e) = r {
            tracing::error!(station = %info.station_id, error = %e, "recording the connection failed");
        }
        self.csms.metrics().connected(info.version.as_str(), 1);
    }

    async fn boot_state(&self, info: &ConnectionInfo) -> Option<BootState> {
        match self.csms.store().station(&info.station_id).await {
            Ok(Some(s)) if s.registration == "Accepted" && s.last_boot_at.is_some() => {
                Some(BootState::Accepted)
            }
            _ => None,
        }
    }

    async fn decode_options(&self, info: &ConnectionInfo) -> Option<ocpp_types::DecodeOptions> {
        self.leniency.get(&*info.station_id).map(|&lenient| {
            if lenient {
                ocpp_types::DecodeOptions::LENIENT
            } else {
                ocpp_types::DecodeOptions::STRICT
            }
        })
    }

    fn refused(&self, info: &ConnectionInfo, code: Option<ocpp_types::ErrorCode>, reason: &str) {
        // The engine's wording for a flood (ocpp-core `ConnectionObserver::refused`).
        let flood = code == Some(ocpp_types::ErrorCode::GenericError)
            && reason.starts_with("too many CALLs waiting");
        let code = code.map_or("dropped", |c| c.wire(info.version));
        self.csms.metrics().refused_message(code, flood);
    }

    fn bad_frame(&self, _: &ConnectionInfo, kind: &'static str) {
        self.csms.metrics().bad_frame(kind);
    }

    async fn disconnected(&self, info: &ConnectionInfo, reason: &DisconnectReason) {
        tracing::info!(station = %info.station_id, %reason, "disconnected");
        self.csms.metrics().connected(info.version.as_str(), -1);
        self.csms.metrics().disconnect(reason.label());
        // A newer connection of the same station may already be registered: then the
        // station stays connected.
        {
            let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
            if current.get(&info.station_id) != Some(&info.connection_id) {
                return;
            }
            current.remove(&info.station_id);
        }
        if let Err(e) = self
            .csms
            .store()
            .set_connected(&info.station_id, info.version.as_str(), false, &now())
            .await
        {
            tracing::error!(station = %info.station_id, error = %e, "recording the disconnect failed");
        }
    }
}

/// Hashes a Basic-auth password with Argon2id (PHC string).
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Checks a password against a PHC hash.
pub fn verify_password(hash: &str, password: &[u8]) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash)
        .map(|h| {
            argon2::Argon2::default()
                .verify_password(password, &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Why a station id from the URL is refused, or `None` when it is a valid OCPP identity:
/// 1 to 48 printable ASCII characters (the `CiString48` of the specifications), none of them
/// a space, `:` (it cannot be a Basic-auth user name), or a character with a meaning in URLs
/// or paths (`/ \ ? # % " < > |`), and not `.` or `..`.
pub fn station_id_fault(id: &str) -> Option<&'static str> {
    if id.is_empty() || id.len() > 48 {
        return Some("not 1 to 48 characters");
    }
    if id == "." || id == ".." {
        return Some("a path step");
    }
    if !id.bytes().all(|b| {
        b.is_ascii_graphic()
            && !matches!(
                b,
                b'/' | b'\\' | b':' | b'?' | b'#' | b'%' | b'"' | b'<' | b'>' | b'|'
            )
    }) {
        return Some("a character outside printable ASCII, or one of / \\ : ? # % \" < > |");
    }
    None
}

/// Failed Basic-auth attempts per station id and per source address. Past
/// [`AuthThrottle::PER_STATION`] failures of one station id, or [`AuthThrottle::PER_ADDRESS`]
/// failures from one address, within [`AuthThrottle::WINDOW`], further attempts are refused
/// without looking at the password (so guessing is slow and costs no Argon2 time) until the
/// window that began with the first failure has passed (a lockout of at most
/// [`AuthThrottle::WINDOW`], not extended by attempts made while locked out). A success clears
/// the station's count.
///
/// Memory is bounded: at most [`AuthThrottle::capacity`] keys (station ids and addresses) are
/// kept. When full, keys whose window has passed are dropped; when still full (more distinct
/// failing sources within one window than the capacity, a distributed attack), the oldest
/// tenth is evicted, whose lockouts then end early.
#[derive(Debug)]
pub struct AuthThrottle {
    failures: std::sync::Mutex<HashMap<ThrottleKey, (Instant, u32)>>,
    capacity: usize,
}

impl Default for AuthThrottle {
    fn default() -> Self {
        Self::with_capacity(Self::MAX_KEYS)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ThrottleKey {
    Station(String),
    Address(std::net::IpAddr),
}

impl AuthThrottle {
    /// Failures of one station id allowed within the window.
    pub const PER_STATION: u32 = 5;
    /// Failures from one source address allowed within the window.
    pub const PER_ADDRESS: u32 = 20;
    /// The window.
    pub const WINDOW: std::time::Duration = std::time::Duration::from_secs(60);
    /// The default capacity: at most this many keys are kept.
    pub const MAX_KEYS: usize = 100_000;

    /// A throttle keeping at most `capacity` keys (at least 10).
    pub fn with_capacity(capacity: usize) -> Self {
        AuthThrottle {
            failures: Default::default(),
            capacity: capacity.max(10),
        }
    }

    /// How many keys it keeps at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many keys (station ids and addresses with failures) it holds now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether it holds no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn keys(station: &str, address: std::net::IpAddr) -> [(ThrottleKey, u32); 2] {
        [
            (ThrottleKey::Station(station.to_owned()), Self::PER_STATION),
            (ThrottleKey::Address(address), Self::PER_ADDRESS),
        ]
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ThrottleKey, (Instant, u32)>> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether attempts of `station` from `address` are refused now.
    pub fn throttled(&self, station: &str, address: std::net::IpAddr) -> bool {
        let now = Instant::now();
        let m = self.lock();
        Self::keys(station, address).iter().any(|(k, limit)| {
            m.get(k)
                .is_some_and(|(since, n)| now.duration_since(*since) < Self::WINDOW && n >= limit)
        })
    }

    /// Whether an attempt of `station` from `address` may be checked now; when it may, it is
    /// counted as a failure at once (until [`AuthThrottle::succeeded`]), so attempts made at
    /// the same time cannot all pass the limit before the first of them is counted, and no
    /// more than the limits' worth of Argon2 verifications run at once.
    pub fn begin(&self, station: &str, address: std::net::IpAddr) -> bool {
        let now = Instant::now();
        let mut m = self.lock();
        let throttled = Self::keys(station, address).iter().any(|(k, limit)| {
            m.get(k)
                .is_some_and(|(since, n)| now.duration_since(*since) < Self::WINDOW && n >= limit)
        });
        if throttled {
            return false;
        }
        self.count(&mut m, now, station, address);
        true
    }

    /// Counts a failed attempt.
    pub fn failed(&self, station: &str, address: std::net::IpAddr) {
        let now = Instant::now();
        let mut m = self.lock();
        self.count(&mut m, now, station, address);
    }

    fn count(
        &self,
        m: &mut HashMap<ThrottleKey, (Instant, u32)>,
        now: Instant,
        station: &str,
        address: std::net::IpAddr,
    ) {
        if m.len() + 2 > self.capacity {
            m.retain(|_, (since, _)| now.duration_since(*since) < Self::WINDOW);
        }
        if m.len() + 2 > self.capacity {
            // Still full: evict the oldest tenth (one sort per tenth of the capacity).
            let mut by_age: Vec<(Instant, ThrottleKey)> = m
                .iter()
                .map(|(k, (since, _))| (*since, k.clone()))
                .collect();
            by_age.sort_unstable_by_key(|(since, _)| *since);
            let evict = (m.len() + 2 - self.capacity).max(self.capacity / 10);
            for (_, k) in by_age.into_iter().take(evict) {
                m.remove(&k);
            }
        }
        for (k, _) in Self::keys(station, address) {
            let e = m.entry(k).or_insert((now, 0));
            if now.duration_since(e.0) >= Self::WINDOW {
                *e = (now, 0);
            }
            e.1 += 1;
        }
    }

    /// After a successful attempt (counted by [`AuthThrottle::begin`]): clears the station's
    /// count and takes the attempt back from the address's.
    pub fn succeeded(&self, station: &str, address: std::net::IpAddr) {
        let mut m = self.lock();
        m.remove(&ThrottleKey::Station(station.to_owned()));
        if let Some((_, n)) = m.get_mut(&ThrottleKey::Address(address)) {
            *n = n.saturating_sub(1);
        }
    }
}

/// Authenticates stations against the station table: the per-station profile, else the
/// default; passwords checked against their Argon2 hash, failed attempts throttled
/// ([`AuthThrottle`]); station ids that are not valid OCPP identities ([`station_id_fault`])
/// refused. Refusals are counted in `csms_refused_connections_total`.
#[derive(Debug, Clone)]
pub struct StoreAuthenticator {
    /// The domain.
    pub csms: Arc<Csms>,
    /// The profile of stations without their own.
    pub default_profile: u8,
    /// The failed-attempt throttle.
    pub throttle: Arc<AuthThrottle>,
}

impl StoreAuthenticator {
    /// An authenticator over the domain's station table.
    pub fn new(csms: Arc<Csms>, default_profile: u8) -> Self {
        StoreAuthenticator {
            csms,
            default_profile,
            throttle: Arc::default(),
        }
    }
}

/// The first characters of an untrusted string, escaped, for a log line.
fn shown(s: &str) -> String {
    let mut out: String = s.chars().take(64).flat_map(char::escape_default).collect();
    if s.chars().count() > 64 {
        out.push_str("...");
    }
    out
}

#[async_trait]
impl Authenticator for StoreAuthenticator {
    async fn security_profile(&self, request: &AuthRequest<'_>) -> Option<u8> {
        if let Some(fault) = station_id_fault(request.station_id) {
            tracing::info!(station = %shown(request.station_id), remote = %request.remote_addr, fault, "station id refused");
            self.csms.metrics().refused_connection("bad_station_id");
            return None;
        }
        match self.csms.store().station(request.station_id).await {
            Ok(Some(s)) => Some(
                s.security_profile
                    .and_then(|p| u8::try_from(p).ok())
                    .unwrap_or(self.default_profile),
            ),
            Ok(None) if self.csms.settings().unknown_stations == UnknownStations::Reject => {
                tracing::info!(station = request.station_id, "unknown station refused");
                None
            }
            Ok(None) => Some(self.default_profile),
            Err(e) => {
                tracing::error!(error = %e, "station lookup failed");
                None
            }
        }
    }

    async fn check_password(&self, request: &AuthRequest<'_>, password: &[u8]) -> bool {
        let (station, address) = (request.station_id, request.remote_addr.ip());
        if !self.throttle.begin(station, address) {
            tracing::warn!(station, remote = %request.remote_addr, "Basic auth throttled after repeated failures");
            self.csms.metrics().refused_connection("throttled");
            return false;
        }
        let hash = match self.csms.store().station(station).await {
            Ok(Some(s)) => s.password_hash,
            _ => None,
        };
        let ok = match hash {
            Some(hash) => {
                let password = password.to_vec();
                tokio::task::spawn_blocking(move || verify_password(&hash, &password))
                    .await
                    .unwrap_or(false)
            }
            None => false,
        };
        if ok {
            self.throttle.succeeded(station, address);
        } else {
            // Already counted by `begin`.
            tracing::info!(station, remote = %request.remote_addr, "wrong Basic-auth credentials");
            self.csms.metrics().refused_connection("wrong_password");
        }
        ok
    }
}

/// Why an operator call failed, with the HTTP status it maps to.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OperatorCallError {
    /// The station is not known.
    #[error("station {0:?} is unknown")]
    UnknownStation(String),
    /// The station is known but not connected.
    #[error("station {0:?} is not connected")]
    NotConnected(String),
    /// The station's version has no such CSMS-initiated action.
    #[error("OCPP {version} has no CSMS-initiated action {action:?}")]
    UnknownAction {
        /// The action.
        action: String,
        /// The station's version.
        version: OcppVersion,
    },
    /// The payload breaks the request schema.
    #[error("invalid payload at {path:?}: {message}")]
    InvalidPayload {
        /// The JSON pointer of the fault.
        path: String,
        /// The fault.
        message: String,
    },
    /// The station answered with a CALLERROR.
    #[error("the station answered CALLERROR {code}: {description}")]
    CallError {
        /// The code as written on the wire.
        code: String,
        /// The description.
        description: String,
    },
    /// The station's answer broke the response schema.
    #[error("invalid answer from the station: {0}")]
    InvalidResponse(String),
    /// No answer in time.
    #[error("no answer within the call timeout")]
    Timeout,
    /// The connection closed before the answer.
    #[error("the station disconnected before answering")]
    Disconnected,
    /// The CSMS refused to send it.
    #[error("refused before sending: {0}")]
    Refused(String),
}

fn action_dir<P: Protocol>(action: &str) -> Option<bool> {
    let a = P::action_from_name(action)?;
    Some(P::action_direction(a) != Direction::StationToCsms)
}

/// Checks that `action` is a CSMS-initiated action of `version` and that `payload` is a valid
/// request of it; returns the fault otherwise.
pub fn validate_call(
    version: OcppVersion,
    action: &str,
    payload: &str,
) -> Result<(), OperatorCallError> {
    fn check<P: Protocol>(action: &str, payload: &str) -> Result<(), OperatorCallError> {
        let unknown = || OperatorCallError::UnknownAction {
            action: action.to_owned(),
            version: P::VERSION,
        };
        match action_dir::<P>(action) {
            Some(true) => {}
            _ => return Err(unknown()),
        }
        let a = P::action_from_name(action).ok_or_else(unknown)?;
        P::decode_request(a, payload, &DecodeOptions::STRICT)
            .map(|_| ())
            .map_err(|e| OperatorCallError::InvalidPayload {
                path: e.path().to_owned(),
                message: e.to_string(),
            })
    }
    match version {
        OcppVersion::V16 => check::<ocpp16::Ocpp16>(action, payload),
        OcppVersion::V201 => check::<ocpp201::Ocpp201>(action, payload),
        _ => check::<ocpp21::Ocpp21>(action, payload),
    }
}

/// Sends a CSMS-initiated call to a connected station, logs both messages, records the effects
/// of an accepted call (configuration and variables, reservations, local list versions,
/// charging profiles and composite schedules) and
/// returns the station's answer as JSON.
pub async fn operator_call(
    csms: &Csms,
    connections: &Connections,
    station: &str,
    action: &str,
    payload: &str,
) -> Result<(OcppVersion, Value), OperatorCallError> {
    let Some(handle) = connections.get(station) else {
        return match csms.store().station(station).await {
            Ok(Some(_)) => Err(OperatorCallError::NotConnected(station.into())),
            _ => Err(OperatorCallError::UnknownStation(station.into())),
        };
    };
    let version = handle.version();
    validate_call(version, action, payload)?;
    let log = |kind: &str, body: String| MessageRecord {
        station_id: station.to_owned(),
        direction: if kind == "call" {
            "out".into()
        } else {
            "in".into()
        },
        kind: kind.into(),
        message_id: String::new(),
        action: action.to_owned(),
        payload: body,
        at: now(),
    };
    let store = csms.store();
    let _ = store.log_message(&log("call", payload.to_owned())).await;
    csms.metrics().message("out", action);
    let started = Instant::now();
    let result = handle.call_json(action, payload).await;
    csms.metrics().call_latency(action, started.elapsed());
    tracing::info!(station, action, ok = result.is_ok(), "operator call");
    match result {
        Ok(answer) => {
            csms.metrics().message("in", action);
            let _ = store.log_message(&log("result", answer.clone())).await;
            let answer: Value = serde_json::from_str(&answer).unwrap_or(Value::Null);
            let request: Value = serde_json::from_str(payload).unwrap_or(Value::Null);
            if let Err(e) = record_effects(csms, station, version, action, &request, &answer).await
            {
                tracing::error!(station, action, error = %e, "recording the call's effects failed");
            }
            Ok((version, answer))
        }
        Err(JsonCallError::UnknownAction { action, version }) => {
            Err(OperatorCallError::UnknownAction { action, version })
        }
        Err(JsonCallError::Invalid(e)) => Err(OperatorCallError::InvalidPayload {
            path: e.path().to_owned(),
            message: e.to_string(),
        }),
        Err(JsonCallError::Call(f)) => {
            let (err, kind) = match f {
                CallFailure::Error { error, wire_code } if wire_code.is_empty() => {
                    (OperatorCallError::Refused(error.description), "refused")
                }
                CallFailure::Error { error, wire_code } => {
                    csms.metrics().call_error("in", &wire_code);
                    (
                        OperatorCallError::CallError {
                            code: wire_code,
                            description: error.description,
                        },
                        "error",
                    )
                }
                CallFailure::Timeout => (OperatorCallError::Timeout, "timeout"),
                CallFailure::Disconnected => (OperatorCallError::Disconnected, "disconnected"),
                CallFailure::InvalidResponse(e) => {
                    (OperatorCallError::InvalidResponse(e.to_string()), "invalid")
                }
                other => (OperatorCallError::Refused(other.to_string()), "refused"),
            };
            let _ = store
                .log_message(&log(kind, json!({"error": err.to_string()}).to_string()))
                .await;
            Err(err)
        }
        Err(other) => Err(OperatorCallError::Refused(other.to_string())),
    }
}

fn st(v: &Value, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        o => Some(o.to_string()),
    }
}

fn component_key(c: &Value, v: &Value) -> (String, String, i64, i64, String, String) {
    let evse = c.get("evse");
    (
        st(c, "name").unwrap_or_default(),
        st(c, "instance").unwrap_or_default(),
        evse.and_then(|e| e.get("id"))
            .and_then(Value::as_i64)
            .unwrap_or(0),
        evse.and_then(|e| e.get("connectorId"))
            .and_then(Value::as_i64)
            .unwrap_or(0),
        st(v, "name").unwrap_or_default(),
        st(v, "instance").unwrap_or_default(),
    )
}

/// Records what an accepted CSMS-initiated call changed.
async fn record_effects(
    csms: &Csms,
    station: &str,
    version: OcppVersion,
    action: &str,
    req: &Value,
    ans: &Value,
) -> Result<(), crate::store::StoreError> {
    let store = csms.store();
    if matches!(
        action,
        "SetChargingProfile" | "ClearChargingProfile" | "GetCompositeSchedule"
    ) {
        return crate::smart_charging::record_call(
            store.as_ref(),
            station,
            version,
            action,
            req,
            ans,
        )
        .await;
    }
    let at = now();
    let status = st(ans, "status").unwrap_or_default();
    let accepted = status == "Accepted";
    let cfg =
        |key: String, value: Option<String>, source: &str, readonly: Option<bool>| VariableRecord {
            component: "OCPP16".into(),
            variable: key,
            attribute_type: "Actual".into(),
            value,
            mutability: readonly.map(|r| {
                if r {
                    "ReadOnly".into()
                } else {
                    "ReadWrite".into()
                }
            }),
            source: source.into(),
            updated_at: at.clone(),
            ..Default::default()
        };
    match action {
        "ChangeConfiguration" if accepted || status == "RebootRequired" => {
            let v = cfg(
                st(req, "key").unwrap_or_default(),
                st(req, "value"),
                action,
                None,
            );
            store.upsert_variables(station, &[v]).await?;
        }
        "GetConfiguration" => {
            let vars: Vec<_> = ans
                .get("configurationKey")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|k| {
                    cfg(
                        st(k, "key").unwrap_or_default(),
                        st(k, "value"),
                        action,
                        k.get("readonly").and_then(Value::as_bool),
                    )
                })
                .collect();
            store.upsert_variables(station, &vars).await?;
        }
        "SetVariables" => {
            let data = req
                .get("setVariableData")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut vars = Vec::new();
            for r in ans
                .get("setVariableResult")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let s = st(r, "attributeStatus").unwrap_or_default();
                if s != "Accepted" && s != "RebootRequired" {
                    continue;
                }
                let key = component_key(&r["component"], &r["variable"]);
                let ty = st(r, "attributeType").unwrap_or_else(|| "Actual".into());
                let value = data
                    .iter()
                    .find(|d| {
                        component_key(&d["component"], &d["variable"]) == key
                            && st(d, "attributeType").unwrap_or_else(|| "Actual".into()) == ty
                    })
                    .and_then(|d| st(d, "attributeValue"));
                vars.push(VariableRecord {
                    component: key.0,
                    component_instance: key.1,
                    evse_id: key.2,
                    connector_id: key.3,
                    variable: key.4,
                    variable_instance: key.5,
                    attribute_type: ty,
                    value,
                    source: action.into(),
                    updated_at: at.clone(),
                    ..Default::default()
                });
            }
            store.upsert_variables(station, &vars).await?;
        }
        "GetVariables" => {
            let mut vars = Vec::new();
            for r in ans
                .get("getVariableResult")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if st(r, "attributeStatus").as_deref() != Some("Accepted") {
                    continue;
                }
                let key = component_key(&r["component"], &r["variable"]);
                vars.push(VariableRecord {
                    component: key.0,
                    component_instance: key.1,
                    evse_id: key.2,
                    connector_id: key.3,
                    variable: key.4,
                    variable_instance: key.5,
                    attribute_type: st(r, "attributeType").unwrap_or_else(|| "Actual".into()),
                    value: st(r, "attributeValue"),
                    source: action.into(),
                    updated_at: at.clone(),
                    ..Default::default()
                });
            }
            store.upsert_variables(station, &vars).await?;
        }
        "ReserveNow" if accepted => {
            let r = if version == OcppVersion::V16 {
                ReservationRecord {
                    id: req
                        .get("reservationId")
                        .and_then(Value::as_i64)
                        .unwrap_or(0),
                    station_id: station.into(),
                    evse_id: req.get("connectorId").and_then(Value::as_i64),
                    id_token: st(req, "idTag").unwrap_or_default(),
                    expiry: st(req, "expiryDate").unwrap_or_default(),
                    status: "Reserved".into(),
                }
            } else {
                ReservationRecord {
                    id: req.get("id").and_then(Value::as_i64).unwrap_or(0),
                    station_id: station.into(),
                    evse_id: req.get("evseId").and_then(Value::as_i64),
                    id_token: req
                        .get("idToken")
                        .and_then(|t| st(t, "idToken"))
                        .unwrap_or_default(),
                    expiry: st(req, "expiryDateTime").unwrap_or_default(),
                    status: "Reserved".into(),
                }
            };
            store.put_reservation(&r, &at).await?;
        }
        "CancelReservation" if accepted => {
            if let Some(id) = req.get("reservationId").and_then(Value::as_i64) {
                store
                    .set_reservation_status(station, id, "Cancelled", &at)
                    .await?;
            }
        }
        "SendLocalList" if accepted => {
            if let Some(v) = req
                .get("listVersion")
                .or_else(|| req.get("versionNumber"))
                .and_then(Value::as_i64)
            {
                store.set_local_list_version(station, v, &at).await?;
            }
        }
        "GetLocalListVersion" => {
            if let Some(v) = ans
                .get("listVersion")
                .or_else(|| ans.get("versionNumber"))
                .and_then(Value::as_i64)
            {
                store.set_local_list_version(station, v, &at).await?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn station_ids() {
        for ok in [
            "CS-1",
            "ACME_0001",
            "a.b",
            "x".repeat(48).as_str(),
            "*@+~!$&'()=,;[]",
        ] {
            assert_eq!(station_id_fault(ok), None, "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a\\b",
            "a:b",
            "a b",
            "a%2Fb",
            "caf\u{e9}",
            "x\u{0}y",
            "a?b",
            "a#b",
            "<script>",
            "x".repeat(49).as_str(),
        ] {
            assert!(station_id_fault(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn throttle_per_station_and_per_address() {
        let t = AuthThrottle::default();
        let a: std::net::IpAddr = "192.0.2.1".parse().unwrap();
        let b: std::net::IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..AuthThrottle::PER_STATION {
            assert!(!t.throttled("S1", a));
            t.failed("S1", a);
        }
        assert!(t.throttled("S1", a));
        assert!(t.throttled("S1", b), "per station, whatever the address");
        assert!(
            !t.throttled("S2", a),
            "another station from the same address"
        );
        t.succeeded("S1", a);
        assert!(!t.throttled("S1", b));
        for i in 0..AuthThrottle::PER_ADDRESS {
            t.failed(&format!("X{i}"), b);
        }
        assert!(t.throttled("S3", b), "per address, whatever the station");
        assert!(!t.throttled("S3", a));
    }

    /// Attempts in flight at the same time are counted as they begin: no more than the limit
    /// pass before any of them has failed; a success takes its attempt back.
    #[test]
    fn throttle_counts_attempts_as_they_begin() {
        let t = AuthThrottle::default();
        let a: std::net::IpAddr = "192.0.2.7".parse().unwrap();
        for _ in 0..AuthThrottle::PER_STATION {
            assert!(t.begin("C1", a));
        }
        assert!(
            !t.begin("C1", a),
            "a sixth attempt while five are in flight"
        );
        assert!(t.throttled("C1", a));
        t.succeeded("C1", a);
        assert!(t.begin("C1", a), "the station's count cleared by a success");
        // The address: 5 + 1 begun, one taken back by the success.
        for i in 0..(AuthThrottle::PER_ADDRESS - 5) {
            assert!(t.begin(&format!("D{i}"), a), "attempt {i}");
        }
        assert!(!t.begin("D-last", a), "the address's limit");
    }
}
