//! The application's side of the modules that ask a party to act rather than to store.
//!
//! Data modules (locations, sessions, CDRs, tariffs, tokens, hub client info, payments) are
//! objects the server keeps in the application's [`crate::server::Storage`]. Commands, charging
//! profiles, real-time authorization, charging preferences and terminal activation are
//! requests to act: the server checks the token, the URL and the body (by the typed form of the
//! request's version) and hands the request to a handler trait the application implements.
//! There is one trait per module and interface, every method with a default answer, so an
//! application implements only what it offers ([`Handlers`], given to
//! [`crate::server::Server::with_handlers`]):
//!
//! | trait | interface | role (typically) | default answer |
//! | --- | --- | --- | --- |
//! | [`CommandsReceiver`] | `POST /{version}/receiver/commands/{command}` | CPO | `CommandResponse` `NOT_SUPPORTED` |
//! | [`CommandsSender`] | `POST /{version}/sender/commands/{command}/{id}` (the `response_url`) | eMSP | 2000 "not supported" |
//! | [`ChargingProfilesReceiver`] | `GET/PUT/DELETE /{version}/receiver/chargingprofiles/{session_id}` | CPO | `ChargingProfileResponse` `NOT_SUPPORTED` |
//! | [`ChargingProfilesSender`] | `POST /{version}/sender/chargingprofiles/{kind}/{id}` (the `response_url`), `PUT /{version}/sender/chargingprofiles/{session_id}` | SCSP / eMSP | 2000 "not supported" |
//! | [`TokensSender`] | `POST /{version}/sender/tokens/{uid}/authorize[?type=..]` (real-time authorization) | eMSP | from the stored token: `ALLOWED` when `valid`, else `BLOCKED` |
//! | [`PaymentsSender`] | `POST /{version}/sender/payments/terminals/activate`, `POST /{version}/sender/payments/terminals/{terminal_id}/deactivate` (2.3.0) | PTP | 2000 "not supported" |
//! | [`SessionsSender`] | `PUT /{version}/sender/sessions/{session_id}/charging_preferences` | CPO | `NOT_POSSIBLE` |
//!
//! Handlers answer synchronously: the synchronous answer of commands and charging profiles only
//! says whether the request can be forwarded to the charge point. The charge point's answer arrives later; the
//! application then POSTs it to the `response_url` with [`RequestContext::client`] and
//! [`crate::client::Client::post_command_result`] or
//! [`crate::client::Client::post_charging_profile_result`] (typically from a spawned task).
//!
//! Why per-module traits with defaults rather than one storage trait: these requests carry no
//! stored state the server could manage, and most parties implement only one side of one of
//! them; a default "not supported" answer is what the specification expects from a party that
//! does not support a request. The server does not call any `response_url` itself: the
//! application decides when (and whether) to, with the peer's token from the context.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::client::Client;
use crate::credentials::Registration;
use crate::transport::{OcpiError, Routing};
use crate::v221::{
    ActiveChargingProfile, ActiveChargingProfileResult, AllowedType, ChargingPreferences,
    ChargingPreferencesResponse, ChargingProfileResponse, ChargingProfileResponseType,
    ChargingProfileResult, ClearProfileResult, CommandResponse, CommandResponseType, CommandResult,
    CommandType, DisplayText, SetChargingProfile, VersionNumber,
};

/// Who sent a request to a handler, and how to call that party back.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The version of the request's URL.
    pub version: VersionNumber,
    /// Local id of the calling peer (see [`crate::credentials::Registry`]).
    pub peer: u64,
    /// What we know of the peer when it is registered (its `TOKEN_B`, endpoints and roles).
    pub registration: Option<Registration>,
    /// The routing headers of the request (`OCPI-from-*`, `OCPI-to-*`).
    pub routing: Routing,
    /// `X-Correlation-ID` of the request, to be reused on the requests it causes.
    pub correlation_id: Option<String>,
}

impl RequestContext {
    /// A client that calls the peer with the token it gave us (`TOKEN_B`), encoded as the
    /// request's version requires, reusing the request's `X-Correlation-ID`; `None` when the
    /// peer is not registered.
    pub fn client(&self) -> Option<Client> {
        let reg = self.registration.as_ref()?;
        let client = Client::new(
            reg.token_b.clone(),
            crate::server::encoding_of(&self.version),
        );
        Some(match &self.correlation_id {
            Some(id) => client.with_correlation_id(id.clone()),
            None => client,
        })
    }
}

/// A command received on the Receiver interface: the body was checked by the typed form of
/// the request's version before the handler sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandRequest {
    /// The command of the URL (an unknown value is kept: 2.3.0 `CommandType` is open).
    pub command: CommandType,
    /// Where the asynchronous result goes (`response_url` of the body).
    pub response_url: String,
    /// The body as sent (for 2.2.1: `StartSession`, `StopSession`, …; for 2.1.1 and 2.3.0 the
    /// objects of those versions).
    pub body: Value,
}

impl CommandRequest {
    /// The body as a typed object, e.g. [`crate::v221::StartSession`] or
    /// [`crate::v230::StartSession`].
    pub fn body_as<T: DeserializeOwned>(&self) -> Result<T, OcpiError> {
        serde_json::from_value(self.body.clone())
            .map_err(|e| OcpiError::invalid_parameters(e.to_string()))
    }

    /// A string member of the body, e.g. `location_id` or `session_id`.
    pub fn str_member(&self, name: &str) -> Option<&str> {
        self.body.get(name).and_then(Value::as_str)
    }
}

/// The synchronous "not supported" answer to a command.
pub fn command_not_supported() -> CommandResponse {
    CommandResponse {
        result: CommandResponseType::NotSupported,
        timeout: 0,
        message: vec![],
        extra: Default::default(),
    }
}

/// The synchronous "not supported" answer to a charging profile request.
pub fn charging_profile_not_supported() -> ChargingProfileResponse {
    ChargingProfileResponse {
        result: ChargingProfileResponseType::NotSupported,
        timeout: 0,
        extra: Default::default(),
    }
}

fn not_supported(what: &str) -> OcpiError {
    OcpiError::new(
        200,
        crate::transport::StatusCode::CLIENT_ERROR,
        format!("{what} is not supported by this party"),
    )
}

/// The Receiver interface of the commands module (typically the CPO).
pub trait CommandsReceiver: Send + Sync + 'static {
    /// A command for a charge point. Answer whether it can be forwarded (`ACCEPTED` with the
    /// `timeout` in which the result will be POSTed to `request.response_url`), or an error
    /// (e.g. [`OcpiError::new`] with 2003 for an unknown location). The default answers
    /// `NOT_SUPPORTED`.
    fn command(
        &self,
        ctx: &RequestContext,
        request: &CommandRequest,
    ) -> Result<CommandResponse, OcpiError> {
        let _ = (ctx, request);
        Ok(command_not_supported())
    }
}

/// The Sender interface of the commands module (typically the eMSP): the asynchronous results.
pub trait CommandsSender: Send + Sync + 'static {
    /// The result of a command, POSTed to the `response_url` we gave: `command` and `id` are
    /// the path segments after `/sender/commands/` (see
    /// [`crate::server::Server::command_response_url`]). On 2.1.1 the result arrives as a
    /// `CommandResponse`, read here as a [`CommandResult`] with the same value. The default
    /// refuses with 2000.
    fn command_result(
        &self,
        ctx: &RequestContext,
        command: &CommandType,
        id: &str,
        result: CommandResult,
    ) -> Result<(), OcpiError> {
        let _ = (ctx, command, id, result);
        Err(not_supported("receiving command results"))
    }
}

/// Which request an asynchronous charging profile result answers (the body shapes of
/// `ChargingProfileResult` and `ClearProfileResult` are alike, so our `response_url`s say it
/// in the path: `/sender/chargingprofiles/{kind}/{id}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChargingProfileResultKind {
    /// The result of a GET (`ActiveChargingProfileResult`); path segment `active`.
    Active,
    /// The result of a PUT (`ChargingProfileResult`); path segment `set`.
    Set,
    /// The result of a DELETE (`ClearProfileResult`); path segment `clear`.
    Clear,
}

impl ChargingProfileResultKind {
    /// The path segment.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Set => "set",
            Self::Clear => "clear",
        }
    }

    /// Reads a path segment.
    pub fn from_segment(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "set" => Some(Self::Set),
            "clear" => Some(Self::Clear),
            _ => None,
        }
    }
}

/// An asynchronous result of the charging profiles module, POSTed to a `response_url`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum ChargingProfileAsyncResult {
    /// Answer to a GET of the active profile.
    Active(Box<ActiveChargingProfileResult>),
    /// Answer to a PUT of a profile.
    Set(ChargingProfileResult),
    /// Answer to a DELETE of a profile.
    Clear(ClearProfileResult),
}

impl ChargingProfileAsyncResult {
    /// The kind of request answered.
    pub fn kind(&self) -> ChargingProfileResultKind {
        match self {
            Self::Active(_) => ChargingProfileResultKind::Active,
            Self::Set(_) => ChargingProfileResultKind::Set,
            Self::Clear(_) => ChargingProfileResultKind::Clear,
        }
    }
}

/// The Receiver interface of the charging profiles module (typically the CPO).
pub trait ChargingProfilesReceiver: Send + Sync + 'static {
    /// GET: the active profile of a session for the next `duration` seconds, to be POSTed to
    /// `response_url` as an `ActiveChargingProfileResult`. The default answers `NOT_SUPPORTED`.
    fn get_active_profile(
        &self,
        ctx: &RequestContext,
        session_id: &str,
        duration: u32,
        response_url: &str,
    ) -> Result<ChargingProfileResponse, OcpiError> {
        let _ = (ctx, session_id, duration, response_url);
        Ok(charging_profile_not_supported())
    }

    /// PUT: sets or replaces the profile of a session; the `ChargingProfileResult` goes to
    /// `request.response_url`. The default answers `NOT_SUPPORTED`.
    fn set_profile(
        &self,
        ctx: &RequestContext,
        session_id: &str,
        request: SetChargingProfile,
    ) -> Result<ChargingProfileResponse, OcpiError> {
        let _ = (ctx, session_id, request);
        Ok(charging_profile_not_supported())
    }

    /// DELETE: clears the profile set on a session; the `ClearProfileResult` goes to
    /// `response_url`. The default answers `NOT_SUPPORTED`.
    fn clear_profile(
        &self,
        ctx: &RequestContext,
        session_id: &str,
        response_url: &str,
    ) -> Result<ChargingProfileResponse, OcpiError> {
        let _ = (ctx, session_id, response_url);
        Ok(charging_profile_not_supported())
    }
}

/// The Sender interface of the charging profiles module (typically the SCSP or eMSP).
pub trait ChargingProfilesSender: Send + Sync + 'static {
    /// An asynchronous result POSTed to a `response_url` we gave (`id` is the last path
    /// segment, see [`crate::server::Server::charging_profile_response_url`]). The default
    /// refuses with 2000.
    fn profile_result(
        &self,
        ctx: &RequestContext,
        id: &str,
        result: ChargingProfileAsyncResult,
    ) -> Result<(), OcpiError> {
        let _ = (ctx, id, result);
        Err(not_supported("receiving charging profile results"))
    }

    /// PUT: the receiver tells that the active profile of a session changed. The default
    /// refuses with 2000.
    fn active_profile_changed(
        &self,
        ctx: &RequestContext,
        session_id: &str,
        profile: ActiveChargingProfile,
    ) -> Result<(), OcpiError> {
        let _ = (ctx, session_id, profile);
        Err(not_supported("receiving active charging profiles"))
    }
}

/// The decision of a real-time authorization; the server answers it as the version's
/// `AuthorizationInfo` (with the token in the request's form on 2.2.1 and later, and the
/// location references of the request).
#[derive(Debug, Clone, PartialEq)]
pub struct Authorization {
    /// Whether the token may charge.
    pub allowed: AllowedType,
    /// Reference to this authorization (2.2.1 and later), to be given in the session and CDR.
    pub authorization_reference: Option<String>,
    /// Message for the driver.
    pub info: Option<DisplayText>,
}

/// The Sender interface of the tokens module (typically the eMSP): real-time authorization of
/// one of the tokens in the storage.
pub trait TokensSender: Send + Sync + 'static {
    /// Authorizes `token` (the stored token, in the storage's form) for the `location` of the
    /// request (`LocationReferences`, when sent). Answer 2002
    /// ([`crate::transport::StatusCode::NOT_ENOUGH_INFORMATION`]) when the location is needed
    /// but missing. An unknown token never reaches the handler: the server answers 404 with
    /// 2004. The default allows a token whose `valid` is true and blocks the others.
    fn authorize(
        &self,
        ctx: &RequestContext,
        token: &Value,
        location: Option<&Value>,
    ) -> Result<Authorization, OcpiError> {
        let _ = (ctx, location);
        let valid = token.get("valid").and_then(Value::as_bool).unwrap_or(false);
        Ok(Authorization {
            allowed: if valid {
                AllowedType::Allowed
            } else {
                AllowedType::Blocked
            },
            authorization_reference: None,
            info: None,
        })
    }
}

/// The Sender interface of the sessions module (typically the CPO): the driver's charging
/// preferences for a session, sent by the eMSP.
pub trait SessionsSender: Send + Sync + 'static {
    /// Charging preferences for a session of the storage (an unknown session never reaches
    /// the handler: the server answers 404). The default answers `NOT_POSSIBLE`.
    fn charging_preferences(
        &self,
        ctx: &RequestContext,
        session_id: &str,
        preferences: ChargingPreferences,
    ) -> Result<ChargingPreferencesResponse, OcpiError> {
        let _ = (ctx, session_id, preferences);
        Ok(ChargingPreferencesResponse::NotPossible)
    }
}

/// The Sender interface of the payments module (2.3.0, typically the PTP): the requests of a
/// CPO to activate and deactivate terminals. (Terminals and financial advice confirmations
/// themselves are objects in the storage.)
pub trait PaymentsSender: Send + Sync + 'static {
    /// Activation of a terminal (a `Terminal` whose `terminal_id` may be absent: the PTP sets
    /// it, then creates the terminal on the CPO's side). The default refuses with 2000.
    fn activate_terminal(&self, ctx: &RequestContext, terminal: Value) -> Result<(), OcpiError> {
        let _ = (ctx, terminal);
        Err(not_supported("activating terminals"))
    }

    /// Deactivation of a terminal of the storage (an unknown one never reaches the handler:
    /// the server answers 404). The default refuses with 2000.
    fn deactivate_terminal(
        &self,
        ctx: &RequestContext,
        terminal_id: &str,
    ) -> Result<(), OcpiError> {
        let _ = (ctx, terminal_id);
        Err(not_supported("deactivating terminals"))
    }
}

/// A handler that supports nothing: every method gives its default answer.
#[derive(Debug, Clone, Copy, Default)]
pub struct NotSupported;

impl CommandsReceiver for NotSupported {}
impl CommandsSender for NotSupported {}
impl ChargingProfilesReceiver for NotSupported {}
impl ChargingProfilesSender for NotSupported {}
impl TokensSender for NotSupported {}
impl SessionsSender for NotSupported {}
impl PaymentsSender for NotSupported {}

/// The handlers of a server, one per module interface; [`Default`] supports nothing.
#[derive(Clone)]
pub struct Handlers {
    /// Commands, Receiver interface.
    pub commands_receiver: std::sync::Arc<dyn CommandsReceiver>,
    /// Commands, Sender interface.
    pub commands_sender: std::sync::Arc<dyn CommandsSender>,
    /// Charging profiles, Receiver interface.
    pub charging_profiles_receiver: std::sync::Arc<dyn ChargingProfilesReceiver>,
    /// Charging profiles, Sender interface.
    pub charging_profiles_sender: std::sync::Arc<dyn ChargingProfilesSender>,
    /// Tokens, Sender interface (real-time authorization).
    pub tokens_sender: std::sync::Arc<dyn TokensSender>,
    /// Sessions, Sender interface (charging preferences).
    pub sessions_sender: std::sync::Arc<dyn SessionsSender>,
    /// Payments, Sender interface (terminal activation and deactivation).
    pub payments_sender: std::sync::Arc<dyn PaymentsSender>,
}

impl Default for Handlers {
    fn default() -> Self {
        let n = std::sync::Arc::new(NotSupported);
        Handlers {
            commands_receiver: n.clone(),
            commands_sender: n.clone(),
            charging_profiles_receiver: n.clone(),
            charging_profiles_sender: n.clone(),
            tokens_sender: n.clone(),
            sessions_sender: n.clone(),
            payments_sender: n,
        }
    }
}

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handlers").finish_non_exhaustive()
    }
}
