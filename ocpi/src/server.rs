//! The OCPI server (axum): versions, credentials and the functional modules, both interfaces,
//! generic over the [`Storage`] the application implements.
//!
//! # URLs
//! Under the base URL (e.g. `http://host/ocpi`):
//! - `GET /versions`, `GET /{version}/details`
//! - `GET|POST|PUT|DELETE /{version}/credentials`
//! - Sender interface: `GET /{version}/sender/{module}` (paginated: `offset`, `limit`,
//!   `date_from`, `date_to`; answers `Link`, `X-Total-Count`, `X-Limit`) and
//!   `GET /{version}/sender/{module}/{id}[/{evse_uid}[/{connector_id}]]`
//! - Receiver interface (client-owned objects):
//!   `GET|PUT|PATCH /{version}/receiver/{module}/{country_code}/{party_id}/{id}[/…]` (only
//!   locations have children: `/{evse_uid}[/{connector_id}]`, whose PUT or PATCH also sets
//!   the parents' `last_updated`; DELETE only for tariffs, PATCH not for 2.2.1+ tariffs, as the
//!   specification says); hub client info:
//!   `GET|PUT /{version}/receiver/hubclientinfo/{country_code}/{party_id}`
//! - CDRs, Receiver interface: `POST /{version}/receiver/cdrs` (answers the CDR's URL in
//!   `Location`; PUT, PATCH and DELETE answer 405).
//! - Tokens, Sender interface: `POST /{version}/sender/tokens/{uid}/authorize[?type=..]`
//!   (real-time authorization, [`crate::handlers::TokensSender`]).
//! - Sessions, Sender interface: `PUT /{version}/sender/sessions/{session_id}/charging_preferences`
//!   ([`crate::handlers::SessionsSender`]).
//! - Payments (2.3.0): `/{version}/{sender|receiver}/payments/terminals[/…]` and
//!   `/{version}/{sender|receiver}/payments/financial-advice-confirmations[/…]`, with terminal
//!   activation and deactivation on the Sender interface ([`crate::handlers::PaymentsSender`]).
//! - Commands: `POST /{version}/receiver/commands/{command}` (CPO) and the asynchronous results
//!   at `POST /{version}/sender/commands/{command}/{id}` (eMSP, see
//!   [`Server::command_response_url`]).
//! - Charging profiles: `GET|PUT|DELETE /{version}/receiver/chargingprofiles/{session_id}`
//!   (CPO), results at `POST /{version}/sender/chargingprofiles/{active|set|clear}/{id}` and
//!   profile updates at `PUT /{version}/sender/chargingprofiles/{session_id}` (SCSP / eMSP).
//!
//! # Storage and handlers
//! Data modules (locations, sessions, CDRs, tariffs, tokens, hub client info, payments) are
//! objects in one [`Storage`] the application implements (JSON objects keyed by module,
//! interface and path ids: `[id]` on the Sender interface, `[country_code, party_id, id]` on
//! the Receiver interface, `[country_code, party_id]` for hub client info, `["terminals", id]`
//! and `["financial-advice-confirmations", id]` for payments; [`MemoryStorage`] for tests).
//! Commands, charging profiles, real-time authorization, charging preferences and terminal
//! activation are requests to act: they go to the per-module traits of [`crate::handlers`],
//! whose methods all have default answers, so an application implements only the interfaces
//! it offers ([`Server::with_handlers`]).
//!
//! # Versions
//! Objects pushed to a Receiver interface are validated by the typed form of the request's
//! version ([`crate::v211`], [`crate::v221`] or [`crate::v230`]: 2.3.0's `Price` with taxes,
//! `tax_included`, parking, `EMAID` tokens, roles without `HUB`) before they are stored, and
//! their ids checked against the URL. With [`ServerConfig::storage_version`] set, the storage
//! holds objects of that one version and the server converts them ([`crate::convert`]) to the
//! version of each request and pushed objects back, so one storage serves every version;
//! without it, objects are stored as received and served as stored. Modules a version does
//! not have (charging profiles and hub client info in 2.1.1, payments before 2.3.0) are left
//! out of its version details and answered with 404. On 2.1.1, version details are served
//! without interface roles and credentials name one party (the peer's role is taken to be the
//! opposite of ours, see [`crate::convert::interface_211`]).
//!
//! # Headers
//! `X-Request-ID` and `X-Correlation-ID` are echoed. The answer of a functional module (2.2
//! and later) carries the `OCPI-from-*` / `OCPI-to-*` routing headers of the request, swapped;
//! the handlers see them in [`crate::handlers::RequestContext::routing`].
//!
//! # Status codes
//! Missing or unknown token, or `TOKEN_A` on a functional module: HTTP 401. A body that is
//! not JSON, or a query parameter that cannot be read: HTTP 400 with 2001. Valid JSON that is
//! not the expected object or breaks a field rule: HTTP 200 with 2001 (the specification allows
//! no HTTP error for requests that reach the OCPI layer). Unknown object on GET: HTTP 404 with
//! 2003 (locations), 2004 (tokens) or 2000. Unsupported version: 3002; a registration whose
//! versions cannot be read: 3001; a registration of a party with no module in common with us:
//! 3003. Credentials rules: 405.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode as HttpStatus, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use serde_json::Value;

use crate::client::Client;
use crate::convert::Parties211;
use crate::credentials::{PeerState, Registration, Registry, Scope};
use crate::handlers::{
    ChargingProfileAsyncResult, ChargingProfileResultKind, CommandRequest, Handlers, RequestContext,
};
use crate::transport::Routing;
use crate::transport::{
    apply_patch, headers, next_link, paginate, parse_authorization, Envelope, OcpiError, PageQuery,
    StatusCode, TokenEncoding,
};
use crate::v221::{
    ActiveChargingProfile, ChargingProfileResponse, CommandResponse, CommandResult,
    CommandResultType, CommandType, Credentials, CredentialsRole, Endpoint, InterfaceRole,
    ModuleId, SetChargingProfile, Version, VersionDetails, VersionNumber,
};
use crate::validate::Validate;

/// Key of a stored object: module, interface, and the path ids (`[location_id, evse_uid]` on
/// the Sender interface, `[country_code, party_id, id, …]` on the Receiver interface).
pub type ObjectKey = (String, String, Vec<String>);

/// Storage the application implements. Objects are JSON objects that passed validation.
pub trait Storage: Send + Sync + 'static {
    /// The objects of a module, oldest first (for stable pagination).
    fn list(&self, module: &ModuleId, role: &InterfaceRole) -> Vec<Value>;
    /// One object by its path ids.
    fn get(&self, module: &ModuleId, role: &InterfaceRole, ids: &[String]) -> Option<Value>;
    /// Stores an object; returns whether it was new.
    fn put(&self, module: &ModuleId, role: &InterfaceRole, ids: Vec<String>, object: Value)
        -> bool;
    /// Removes an object; returns whether it existed.
    fn delete(&self, module: &ModuleId, role: &InterfaceRole, ids: &[String]) -> bool;
}

/// An in-memory [`Storage`] (ordered by insertion).
#[derive(Debug, Default)]
pub struct MemoryStorage {
    objects: RwLock<Vec<(ObjectKey, Value)>>,
}

impl MemoryStorage {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

fn key(module: &ModuleId, role: &InterfaceRole, ids: &[String]) -> ObjectKey {
    (module.to_string(), role.to_string(), ids.to_vec())
}

impl Storage for MemoryStorage {
    fn list(&self, module: &ModuleId, role: &InterfaceRole) -> Vec<Value> {
        let g = self.objects.read().unwrap_or_else(|e| e.into_inner());
        g.iter()
            .filter(|((m, r, _), _)| m == module.as_str() && r == role.as_str())
            .map(|(_, v)| v.clone())
            .collect()
    }
    fn get(&self, module: &ModuleId, role: &InterfaceRole, ids: &[String]) -> Option<Value> {
        let k = key(module, role, ids);
        let g = self.objects.read().unwrap_or_else(|e| e.into_inner());
        g.iter().find(|(kk, _)| kk == &k).map(|(_, v)| v.clone())
    }
    fn put(
        &self,
        module: &ModuleId,
        role: &InterfaceRole,
        ids: Vec<String>,
        object: Value,
    ) -> bool {
        let k = key(module, role, &ids);
        let mut g = self.objects.write().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = g.iter_mut().find(|(kk, _)| kk == &k) {
            slot.1 = object;
            false
        } else {
            g.push((k, object));
            true
        }
    }
    fn delete(&self, module: &ModuleId, role: &InterfaceRole, ids: &[String]) -> bool {
        let k = key(module, role, ids);
        let mut g = self.objects.write().unwrap_or_else(|e| e.into_inner());
        let before = g.len();
        g.retain(|(kk, _)| kk != &k);
        g.len() != before
    }
}

/// Configuration of a server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Public base URL, e.g. `http://127.0.0.1:8080/ocpi` (no trailing slash).
    pub base_url: String,
    /// Versions offered, lowest first.
    pub versions: Vec<VersionNumber>,
    /// Module interfaces offered.
    pub modules: Vec<(ModuleId, InterfaceRole)>,
    /// Our roles (given in our credentials).
    pub roles: Vec<CredentialsRole>,
    /// Accept a raw token on 2.2+ and a Base64 one on 2.1.1.
    pub tolerant_token_encoding: bool,
    /// Maximum page size.
    pub max_limit: usize,
    /// The version of the objects in the storage. When set, objects are converted with
    /// [`crate::convert::convert_json`] between it and the version of each request (served
    /// objects on the way out, pushed objects on the way in), so one storage serves peers of
    /// 2.1.1, 2.2.1 and 2.3.0; what a conversion loses is not kept. When `None`, objects are
    /// stored as received and served as stored.
    pub storage_version: Option<VersionNumber>,
}

/// Token encoding of a version: raw on 2.1.1 and earlier, Base64 from 2.2 on.
pub fn encoding_of(version: &VersionNumber) -> TokenEncoding {
    match version {
        VersionNumber::V2_0 | VersionNumber::V2_1 | VersionNumber::V2_1_1 => TokenEncoding::Raw,
        _ => TokenEncoding::Base64,
    }
}

/// A running server's state.
#[derive(Debug)]
pub struct Server<S> {
    /// Configuration.
    pub config: ServerConfig,
    /// The application's storage.
    pub storage: S,
    /// The peers and their handshake state.
    pub registry: Mutex<Registry>,
    /// The handlers of the commands and charging profiles modules.
    pub handlers: Handlers,
}

impl<S: Storage> Server<S> {
    /// A server.
    pub fn new(config: ServerConfig, storage: S, registry: Registry) -> Arc<Self> {
        Self::with_handlers(config, storage, registry, Handlers::default())
    }

    /// A server with handlers for the commands and charging profiles modules.
    pub fn with_handlers(
        config: ServerConfig,
        storage: S,
        registry: Registry,
        handlers: Handlers,
    ) -> Arc<Self> {
        Arc::new(Server {
            config,
            storage,
            registry: Mutex::new(registry),
            handlers,
        })
    }

    /// The parties that 2.1.1 objects do not name: `owner` (from the URL of a Receiver
    /// interface) or our own first role, and our first role as the issuer of tokens.
    fn parties(&self, owner: Option<(&str, &str)>) -> Parties211 {
        let ours = self
            .config
            .roles
            .first()
            .map(|r| (r.country_code.0.as_str(), r.party_id.0.as_str()))
            .unwrap_or(("ZZ", "ZZZ"));
        let (cc, pid) = owner.unwrap_or(ours);
        Parties211 {
            country_code: cc.into(),
            party_id: pid.into(),
            token_country_code: ours.0.into(),
            token_party_id: ours.1.into(),
        }
    }

    fn convert(
        &self,
        module: &ModuleId,
        from: &VersionNumber,
        to: &VersionNumber,
        object: Value,
        owner: Option<(&str, &str)>,
    ) -> Result<Value, OcpiError> {
        if from == to {
            return Ok(object);
        }
        // A session downgraded to 2.1.1 embeds its location (ours, or the one pushed to us).
        let location = if *module == ModuleId::Sessions {
            object
                .get("location_id")
                .and_then(Value::as_str)
                .and_then(|id| {
                    let id = id.to_owned();
                    self.storage
                        .get(
                            &ModuleId::Locations,
                            &InterfaceRole::Sender,
                            std::slice::from_ref(&id),
                        )
                        .or_else(|| {
                            let cc = object.get("country_code")?.as_str()?.to_owned();
                            let pid = object.get("party_id")?.as_str()?.to_owned();
                            self.storage.get(
                                &ModuleId::Locations,
                                &InterfaceRole::Receiver,
                                &[cc, pid, id],
                            )
                        })
                })
        } else {
            None
        };
        crate::convert::convert_json(
            module,
            from,
            to,
            &object,
            &self.parties(owner),
            location.as_ref(),
        )
        .map(|c| c.value)
        .map_err(|e| OcpiError::server_error(format!("cannot convert the {module} object: {e}")))
    }

    /// A stored object in the form of the request's version.
    fn outgoing(
        &self,
        module: &ModuleId,
        version: &VersionNumber,
        object: Value,
    ) -> Result<Value, OcpiError> {
        match &self.config.storage_version {
            Some(sv) => self.convert(module, sv, version, object, None),
            None => Ok(object),
        }
    }

    /// A received object (in the request's version) in the form of the storage.
    fn incoming(
        &self,
        module: &ModuleId,
        version: &VersionNumber,
        object: Value,
        owner: (&str, &str),
    ) -> Result<Value, OcpiError> {
        match &self.config.storage_version {
            Some(sv) => self.convert(module, version, sv, object, Some(owner)),
            None => Ok(object),
        }
    }

    /// The URL of one of our module interfaces, e.g. `{base}/2.2.1/sender/commands`.
    pub fn module_url(
        &self,
        version: &VersionNumber,
        module: &ModuleId,
        role: &InterfaceRole,
    ) -> String {
        let seg = if *role == InterfaceRole::Sender {
            "sender"
        } else {
            "receiver"
        };
        format!("{}/{}/{seg}/{module}", self.config.base_url, version)
    }

    /// A `response_url` for a command we send: our commands Sender interface
    /// `{base}/{version}/sender/commands/{command}/{id}`; the result POSTed there reaches
    /// [`crate::handlers::CommandsSender::command_result`] with `command` and `id`.
    pub fn command_response_url(
        &self,
        version: &VersionNumber,
        command: &CommandType,
        id: &str,
    ) -> String {
        format!(
            "{}/{command}/{id}",
            self.module_url(version, &ModuleId::Commands, &InterfaceRole::Sender)
        )
    }

    /// A `response_url` for a charging profile request we send:
    /// `{base}/{version}/sender/chargingprofiles/{kind}/{id}`; the result POSTed there reaches
    /// [`crate::handlers::ChargingProfilesSender::profile_result`] with `id`.
    pub fn charging_profile_response_url(
        &self,
        version: &VersionNumber,
        kind: ChargingProfileResultKind,
        id: &str,
    ) -> String {
        format!(
            "{}/{}/{id}",
            self.module_url(version, &ModuleId::ChargingProfiles, &InterfaceRole::Sender),
            kind.as_str()
        )
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn versions_url(&self) -> String {
        format!("{}/versions", self.config.base_url)
    }

    fn details(&self, v: &VersionNumber) -> VersionDetails {
        let base = format!("{}/{}", self.config.base_url, v);
        let mut endpoints = vec![Endpoint {
            identifier: ModuleId::Credentials,
            role: InterfaceRole::Receiver,
            url: format!("{base}/credentials").into(),
            extra: Default::default(),
        }];
        for (m, r) in &self.config.modules {
            if !module_in_version(m, v) {
                continue;
            }
            let seg = if *r == InterfaceRole::Sender {
                "sender"
            } else {
                "receiver"
            };
            endpoints.push(Endpoint {
                identifier: m.clone(),
                role: r.clone(),
                url: format!("{base}/{seg}/{m}").into(),
                extra: Default::default(),
            });
        }
        VersionDetails {
            version: v.clone(),
            endpoints,
            extra: Default::default(),
        }
    }
}

/// The axum router of a server; mount it at the root (it serves `/ocpi/...` when the base URL
/// path is `/ocpi`).
pub fn router<S: Storage>(server: Arc<Server<S>>) -> Router {
    let path = server
        .config
        .base_url
        .splitn(4, '/')
        .nth(3)
        .map(|p| format!("/{}", p.trim_end_matches('/')))
        .unwrap_or_default();
    Router::new()
        .route(&format!("{path}/{{*rest}}"), any(handle::<S>))
        .with_state((server, path))
}

type St<S> = State<(Arc<Server<S>>, String)>;

fn envelope_response<T: serde::Serialize>(http: u16, env: &Envelope<T>) -> Response {
    let status = HttpStatus::from_u16(http).unwrap_or(HttpStatus::INTERNAL_SERVER_ERROR);
    (status, axum::Json(env)).into_response()
}

fn error_response(e: &OcpiError) -> Response {
    envelope_response(e.http_status, &e.envelope())
}

fn ok<T: serde::Serialize>(data: T) -> Response {
    envelope_response(200, &Envelope::success(data))
}

async fn handle<S: Storage>(
    State((server, prefix)): St<S>,
    method: Method,
    uri: Uri,
    headers_in: HeaderMap,
    body: Bytes,
) -> Response {
    let mut resp = match route(&server, &prefix, &method, &uri, &headers_in, &body).await {
        Ok(r) => r,
        Err(e) => error_response(&e),
    };
    for h in [headers::X_REQUEST_ID, headers::X_CORRELATION_ID] {
        if let Some(v) = headers_in.get(h) {
            resp.headers_mut().insert(h, v.clone());
        }
    }
    // The answer of a functional module (2.2 on) carries the routing headers of the request,
    // from and to swapped; configuration modules and hub client info are not routed.
    let rest = uri
        .path()
        .strip_prefix(prefix.as_str())
        .unwrap_or(uri.path());
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let routed = match segs.as_slice() {
        [v, "sender" | "receiver", m, ..] => {
            !is_211(&parse_version(v)) && *m != ModuleId::HubClientInfo.as_str()
        }
        _ => false,
    };
    if routed {
        for (to, from) in [
            (headers::OCPI_TO_PARTY_ID, headers::OCPI_FROM_PARTY_ID),
            (
                headers::OCPI_TO_COUNTRY_CODE,
                headers::OCPI_FROM_COUNTRY_CODE,
            ),
        ] {
            if let Some(v) = headers_in.get(from) {
                resp.headers_mut().insert(to, v.clone());
            }
            if let Some(v) = headers_in.get(to) {
                resp.headers_mut().insert(from, v.clone());
            }
        }
    }
    resp
}

fn parse_version(s: &str) -> VersionNumber {
    VersionNumber::from_wire(s)
}

async fn route<S: Storage>(
    server: &Arc<Server<S>>,
    prefix: &str,
    method: &Method,
    uri: &Uri,
    hdrs: &HeaderMap,
    body: &Bytes,
) -> Result<Response, OcpiError> {
    let rest = uri.path().strip_prefix(prefix).unwrap_or(uri.path());
    let segs: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| s.to_owned())
        .collect();
    let auth = hdrs
        .get(headers::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let version = segs.first().map(|s| parse_version(s));
    // Encoding: by version of the path; the versions endpoint accepts both.
    let (encoding, tolerant) = match &version {
        Some(v) if server.config.versions.contains(v) => {
            (encoding_of(v), server.config.tolerant_token_encoding)
        }
        _ => (TokenEncoding::Base64, true),
    };
    let candidates = parse_authorization(auth, encoding, tolerant)
        .map_err(|e| OcpiError::unauthorized(e.to_string()))?;
    let scope = match segs.get(1).map(String::as_str) {
        None | Some("details") => Scope::Versions,
        Some("credentials") => Scope::Credentials,
        _ => Scope::Module,
    };
    let mut caller = Err(OcpiError::unauthorized("unknown credentials token"));
    // The token the caller authenticated with (GET credentials answers it).
    let mut token = "";
    for c in &candidates {
        token = c;
        caller = server.registry().authenticate(c, scope);
        if caller.is_ok()
            || caller
                .as_ref()
                .is_err_and(|e| e.message.contains("TOKEN_A"))
        {
            break;
        }
    }
    let caller = caller?;

    if segs.len() == 1 && segs[0] == "versions" {
        let list: Vec<Version> = server
            .config
            .versions
            .iter()
            .map(|v| Version {
                version: v.clone(),
                url: format!("{}/{}/details", server.config.base_url, v).into(),
                extra: Default::default(),
            })
            .collect();
        return Ok(ok(list));
    }
    let version = version
        .ok_or_else(|| OcpiError::not_found(StatusCode::CLIENT_ERROR, "no such endpoint"))?;
    if !server.config.versions.contains(&version) {
        return Err(OcpiError::unsupported_version(format!(
            "version {version} is not supported"
        )));
    }
    match segs.get(1).map(String::as_str) {
        Some("details") if *method == Method::GET => {
            let d = server.details(&version);
            if is_211(&version) {
                // 2.1.1 details: no interface roles, one endpoint per module
                Ok(ok(crate::convert::version_details_221_to_211(&d).value))
            } else {
                Ok(ok(d))
            }
        }
        Some("credentials") => credentials(server, &version, method, caller, token, body).await,
        Some(role @ ("sender" | "receiver")) if segs.len() >= 3 => {
            let role = if role == "sender" {
                InterfaceRole::Sender
            } else {
                InterfaceRole::Receiver
            };
            let module = ModuleId::from_wire(&segs[2]);
            if !module_in_version(&module, &version)
                || !server
                    .config
                    .modules
                    .contains(&(module.clone(), role.clone()))
            {
                return Err(OcpiError::not_found(
                    StatusCode::CLIENT_ERROR,
                    "module not offered",
                ));
            }
            let registration = match server.registry().peer(caller.peer).map(|p| &p.state) {
                Some(PeerState::Registered(r)) => Some(r.clone()),
                _ => None,
            };
            let ctx = RequestContext {
                version: version.clone(),
                peer: caller.peer,
                registration,
                routing: Routing::from_lookup(|n| {
                    hdrs.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned)
                }),
                correlation_id: hdrs
                    .get(headers::X_CORRELATION_ID)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
            };
            match module {
                ModuleId::Commands => {
                    return commands_request(server, &ctx, &role, method, &segs[3..], body)
                }
                ModuleId::Payments => {
                    return payments_request(server, &ctx, &role, method, uri, &segs[3..], body)
                }
                ModuleId::ChargingProfiles => {
                    return charging_profiles_request(
                        server,
                        &ctx,
                        &role,
                        method,
                        uri,
                        &segs[3..],
                        body,
                    )
                }
                _ => {}
            }
            module_request(server, &ctx, &module, &role, method, uri, &segs[3..], body)
        }
        _ => Err(OcpiError::not_found(
            StatusCode::CLIENT_ERROR,
            "no such endpoint",
        )),
    }
}

fn our_credentials<S: Storage>(server: &Server<S>, token: String) -> Credentials {
    Credentials {
        token: token.into(),
        url: server.versions_url().into(),
        roles: server.config.roles.clone(),
        extra: Default::default(),
    }
}

/// Our credentials in the form of the version: 2.1.1 credentials name one party, no roles.
fn our_credentials_in<S: Storage>(
    server: &Server<S>,
    version: &VersionNumber,
    token: String,
) -> Result<Response, OcpiError> {
    let c = our_credentials(server, token);
    if is_211(version) {
        let c = crate::convert::credentials_221_to_211(&c)
            .ok_or_else(|| OcpiError::server_error("no role configured"))?;
        Ok(ok(c.value))
    } else {
        Ok(ok(c))
    }
}

/// The role of the other party of a 2.1.1 connection (see [`crate::convert::peer_role_211`]).
fn peer_role_211<S: Storage>(server: &Server<S>) -> crate::v221::Role {
    crate::convert::peer_role_211(
        &server
            .config
            .roles
            .first()
            .map_or(crate::v221::Role::Cpo, |r| r.role.clone()),
    )
}

async fn credentials<S: Storage>(
    server: &Arc<Server<S>>,
    version: &VersionNumber,
    method: &Method,
    caller: crate::credentials::Caller,
    token: &str,
    body: &Bytes,
) -> Result<Response, OcpiError> {
    match *method {
        // "the credentials object to access the server's platform": the token the caller
        // used (TOKEN_A before registration, TOKEN_C after); only hashes are stored.
        Method::GET => our_credentials_in(server, version, token.to_owned()),
        Method::POST | Method::PUT => {
            {
                let r = server.registry();
                if *method == Method::POST {
                    r.check_register(&caller)?;
                } else {
                    r.check_registered(&caller)?;
                }
            }
            let v = json_body(body)?;
            let peer_role = peer_role_211(server);
            // 2.1.1 credentials (no roles) are read as one role opposite ours.
            let theirs: Credentials = if is_211(version) && v.get("roles").is_none() {
                let c = check::<crate::v211::Credentials>(&v)?;
                crate::convert::credentials_211_to_221(&c, peer_role.clone())
            } else {
                check::<Credentials>(&v)?
            };
            // Fetch the client's versions and endpoints with TOKEN_B.
            let client = Client::new(theirs.token.0.clone(), encoding_of(version));
            let versions = client.versions(&theirs.url.0).await.map_err(|e| {
                OcpiError::new(200, StatusCode::UNABLE_TO_USE_CLIENT_API, e.to_string())
            })?;
            let v = versions
                .iter()
                .find(|v| &v.version == version)
                .ok_or_else(|| {
                    OcpiError::unsupported_version(format!("the client does not offer {version}"))
                })?;
            let details = client
                .version_details_of(&v.url.0, &peer_role)
                .await
                .map_err(|e| {
                    OcpiError::new(200, StatusCode::UNABLE_TO_USE_CLIENT_API, e.to_string())
                })?;
            // 3003 when the parties have no module in common.
            let mutual = details.endpoints.iter().any(|e| {
                e.identifier != ModuleId::Credentials
                    && server
                        .config
                        .modules
                        .iter()
                        .any(|(m, _)| *m == e.identifier && module_in_version(m, version))
            });
            if !mutual {
                return Err(OcpiError::new(
                    200,
                    StatusCode::NO_MATCHING_ENDPOINTS,
                    "the parties have no module in common",
                ));
            }
            let registration = Registration {
                version: version.clone(),
                token_b: theirs.token.0.clone(),
                versions_url: theirs.url.0.clone(),
                endpoints: details.endpoints,
                roles: theirs.roles,
            };
            let token_c = if *method == Method::POST {
                server.registry().register(&caller, registration)?
            } else {
                server.registry().update(&caller, registration)?
            };
            our_credentials_in(server, version, token_c)
        }
        Method::DELETE => {
            server.registry().unregister(&caller)?;
            Ok(envelope_response(200, &Envelope::<()>::success(())))
        }
        _ => Err(OcpiError::method_not_allowed(
            "method not allowed on credentials",
        )),
    }
}

/// Whether the caller may reach the client owned objects of the party
/// `country_code`/`party_id`: it named the party among its roles in the credentials
/// handshake, or it is a hub (which speaks for many parties) and no other registered partner
/// that is not a hub named the party (a hub must not overwrite a directly connected
/// partner's tokens or sessions).
fn owned_by_caller(
    registry: &Registry,
    ctx: &RequestContext,
    country_code: &str,
    party_id: &str,
) -> bool {
    let names = |roles: &[CredentialsRole]| {
        roles.iter().any(|role| {
            role.country_code.0.eq_ignore_ascii_case(country_code)
                && role.party_id.0.eq_ignore_ascii_case(party_id)
        })
    };
    let is_hub =
        |roles: &[CredentialsRole]| roles.iter().any(|role| role.role == crate::v221::Role::Hub);
    let Some(r) = ctx.registration.as_ref() else {
        return false;
    };
    if names(&r.roles) {
        return true;
    }
    is_hub(&r.roles)
        && !registry.peers().any(|p| match &p.state {
            PeerState::Registered(other) => {
                p.id != ctx.peer && !is_hub(&other.roles) && names(&other.roles)
            }
            _ => false,
        })
}

fn not_found_code(module: &ModuleId) -> StatusCode {
    match module {
        ModuleId::Locations => StatusCode::UNKNOWN_LOCATION,
        ModuleId::Tokens => StatusCode::UNKNOWN_TOKEN,
        _ => StatusCode::CLIENT_ERROR,
    }
}

fn parse_query(uri: &Uri) -> Result<PageQuery, OcpiError> {
    let mut q = PageQuery::default();
    for pair in uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|s| !s.is_empty())
    {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_decode(v);
        let bad = |what: &str| OcpiError::bad_request(format!("invalid {what}: {v:?}"));
        match k {
            "offset" => q.offset = Some(v.parse().map_err(|_| bad("offset"))?),
            "limit" => q.limit = Some(v.parse().map_err(|_| bad("limit"))?),
            "date_from" => q.date_from = Some(v.parse().map_err(|_| bad("date_from"))?),
            "date_to" => q.date_to = Some(v.parse().map_err(|_| bad("date_to"))?),
            _ => {}
        }
    }
    Ok(q)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            // On bytes: the query may hold UTF-8 (http allows it), and slicing the str at
            // i + 3 could cut a character.
            let hex = |c: u8| char::from(c).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether a version is 2.1.1 or older (raw tokens, objects without parties).
fn is_211(v: &VersionNumber) -> bool {
    matches!(
        v,
        VersionNumber::V2_1_1 | VersionNumber::V2_0 | VersionNumber::V2_1
    )
}

/// Whether a module exists in a version: 2.1.1 has no charging profiles, hub client info or
/// payments; payments came with 2.3.0.
pub fn module_in_version(module: &ModuleId, version: &VersionNumber) -> bool {
    match module {
        ModuleId::ChargingProfiles | ModuleId::HubClientInfo => !is_211(version),
        ModuleId::Payments => {
            !is_211(version) && !matches!(version, VersionNumber::V2_2 | VersionNumber::V2_2_1)
        }
        _ => true,
    }
}

fn check<T: serde::de::DeserializeOwned + Validate>(v: &Value) -> Result<T, OcpiError> {
    // Valid JSON that is not the object expected reached the OCPI layer: HTTP 200 with 2001
    // (HTTP 400 is for bodies that are not JSON at all).
    let t: T = serde_json::from_value(v.clone())
        .map_err(|e| OcpiError::invalid_parameters(format!("not the expected object: {e}")))?;
    t.validate()
        .map_err(|e| OcpiError::invalid_parameters(e.to_string()))?;
    Ok(t)
}

/// Validates an object of a module by the typed form of the request's version (2.1.1, 2.2.1
/// or 2.3.0; `depth` 1 and 2 are the EVSE and connector of a location).
fn validate_object(
    version: &VersionNumber,
    module: &ModuleId,
    depth: usize,
    v: &Value,
) -> Result<(), OcpiError> {
    macro_rules! by {
        ($m:ident) => {
            match (module, depth) {
                (ModuleId::Locations, 0) => check::<crate::$m::Location>(v).map(drop),
                (ModuleId::Locations, 1) => check::<crate::$m::Evse>(v).map(drop),
                (ModuleId::Locations, _) => check::<crate::$m::Connector>(v).map(drop),
                (ModuleId::Sessions, _) => check::<crate::$m::Session>(v).map(drop),
                (ModuleId::Cdrs, _) => check::<crate::$m::Cdr>(v).map(drop),
                (ModuleId::Tariffs, _) => check::<crate::$m::Tariff>(v).map(drop),
                (ModuleId::Tokens, _) => check::<crate::$m::Token>(v).map(drop),
                _ => Ok(()),
            }
        };
    }
    if is_211(version) {
        return by!(v211);
    }
    if *version == VersionNumber::V2_3_0 || version.is_unknown() {
        if *module == ModuleId::HubClientInfo {
            return check::<crate::v230::ClientInfo>(v).map(drop);
        }
        return by!(v230);
    }
    if *module == ModuleId::HubClientInfo {
        return check::<crate::v221::ClientInfo>(v).map(drop);
    }
    by!(v221)
}

#[allow(clippy::too_many_arguments)]
fn module_request<S: Storage>(
    server: &Arc<Server<S>>,
    ctx: &RequestContext,
    module: &ModuleId,
    role: &InterfaceRole,
    method: &Method,
    uri: &Uri,
    ids: &[String],
    body: &Bytes,
) -> Result<Response, OcpiError> {
    let version = &ctx.version;
    let st = &server.storage;
    // Client-owned object URLs: /{country_code}/{party_id}/{id}; ClientInfo has no id.
    let n = if *module == ModuleId::HubClientInfo {
        2
    } else {
        3
    };
    let identity: &[&str] = if *module == ModuleId::HubClientInfo {
        &["country_code", "party_id"]
    } else {
        &["country_code", "party_id", "id", "uid"]
    };
    match (role, method) {
        (InterfaceRole::Sender, &Method::POST) if *module == ModuleId::Tokens => {
            authorize(server, ctx, uri, ids, body)
        }
        (InterfaceRole::Sender, &Method::PUT) if *module == ModuleId::Sessions => {
            charging_preferences(server, ctx, ids, body)
        }
        (InterfaceRole::Receiver, &Method::POST) if *module == ModuleId::Cdrs => {
            post_cdr(server, ctx, ids, body)
        }
        (InterfaceRole::Receiver, &Method::PUT | &Method::PATCH | &Method::DELETE)
            if *module == ModuleId::Cdrs =>
        {
            Err(OcpiError::method_not_allowed(
                "CDRs are created with POST and cannot be replaced, updated or removed",
            ))
        }
        // Only locations have children (EVSEs and their connectors) in their URLs.
        (InterfaceRole::Sender, _)
            if ids.len() > if *module == ModuleId::Locations { 3 } else { 1 } =>
        {
            Err(OcpiError::not_found(
                not_found_code(module),
                "no such object",
            ))
        }
        (InterfaceRole::Receiver, _)
            if ids.len() > n + if *module == ModuleId::Locations { 2 } else { 0 } =>
        {
            Err(OcpiError::not_found(
                not_found_code(module),
                "no such object",
            ))
        }
        (InterfaceRole::Sender, &Method::GET) if ids.is_empty() => {
            let q = parse_query(uri)?;
            let all: Vec<Value> = st
                .list(module, role)
                .into_iter()
                .filter(|o| {
                    o.get("last_updated")
                        .and_then(|d| d.as_str())
                        .and_then(|d| crate::primitives::DateTime::parse(d).ok())
                        .is_none_or(|d| q.matches(&d))
                })
                .collect();
            let page = paginate(all, &q, server.config.max_limit);
            let items = page
                .items
                .into_iter()
                .map(|o| server.outgoing(module, version, o))
                .collect::<Result<Vec<_>, _>>()?;
            let mut resp = ok(items);
            let h = resp.headers_mut();
            let num = |n: usize| {
                HeaderValue::from_str(&n.to_string()).unwrap_or(HeaderValue::from_static("0"))
            };
            h.insert(headers::X_TOTAL_COUNT, num(page.total_count));
            h.insert(headers::X_LIMIT, num(page.limit));
            if let Some(next) = page.next_offset {
                let base = format!("{}/{}/sender/{}", server.config.base_url, version, module);
                if let Ok(v) = HeaderValue::from_str(&next_link(&base, &q, next, page.limit)) {
                    h.insert(headers::LINK, v);
                }
            }
            Ok(resp)
        }
        (InterfaceRole::Sender, &Method::GET) => {
            let obj = st.get(module, role, &ids[..1]).ok_or_else(|| {
                OcpiError::not_found(
                    not_found_code(module),
                    format!("unknown {module} {}", ids[0]),
                )
            })?;
            let obj = server.outgoing(module, version, obj)?;
            let found = descend(&obj, &ids[1..]).ok_or_else(|| {
                OcpiError::not_found(not_found_code(module), "unknown EVSE or connector")
            })?;
            Ok(ok(found))
        }
        (InterfaceRole::Receiver, _) if ids.len() < n => Err(OcpiError::bad_request(if n == 2 {
            "expected /{country_code}/{party_id} in the URL"
        } else {
            "expected /{country_code}/{party_id}/{id} in the URL"
        })),
        // Client owned objects of another party (transport_and_format, "Errors": a client
        // may only reach the objects of the parties it named in the credentials handshake;
        // HTTP 404), so that no partner can read, overwrite or remove another one's data. A
        // hub speaks for many parties; ClientInfo objects describe other parties.
        (InterfaceRole::Receiver, _)
            if *module != ModuleId::HubClientInfo
                && !owned_by_caller(&server.registry(), ctx, &ids[0], &ids[1]) =>
        {
            Err(OcpiError::not_found(
                not_found_code(module),
                format!("{}/{} is not a party of this client", ids[0], ids[1]),
            ))
        }
        (InterfaceRole::Receiver, &Method::PATCH | &Method::DELETE)
            if *module == ModuleId::HubClientInfo =>
        {
            Err(OcpiError::method_not_allowed(
                "ClientInfo objects are replaced with PUT and cannot be removed",
            ))
        }
        // The methods the specification marks n/a: only tariffs are removed (locations and
        // EVSEs are PATCHed to REMOVED, sessions and tokens cannot be removed), and 2.2.1 and
        // later tariffs are not PATCHed (2.1.1 ones are).
        (InterfaceRole::Receiver, &Method::DELETE) if *module != ModuleId::Tariffs => Err(
            OcpiError::method_not_allowed(format!("{module} objects cannot be removed")),
        ),
        (InterfaceRole::Receiver, &Method::PATCH)
            if *module == ModuleId::Tariffs && !is_211(version) =>
        {
            Err(OcpiError::method_not_allowed(
                "tariffs are replaced with PUT, not PATCHed",
            ))
        }
        (InterfaceRole::Receiver, &Method::GET) => {
            let obj = st.get(module, role, &ids[..n]).ok_or_else(|| {
                OcpiError::not_found(
                    not_found_code(module),
                    format!("unknown {module} {}", ids[..n].join("/")),
                )
            })?;
            let obj = server.outgoing(module, version, obj)?;
            let found = descend(&obj, &ids[n..]).ok_or_else(|| {
                OcpiError::not_found(not_found_code(module), "unknown EVSE or connector")
            })?;
            Ok(ok(found))
        }
        (InterfaceRole::Receiver, &Method::PUT) => {
            let v: Value =
                serde_json::from_slice(body).map_err(|e| OcpiError::bad_request(e.to_string()))?;
            let depth = ids.len() - n;
            validate_object(version, module, depth, &v)?;
            let id_fields: &[(&str, usize)] = match (module, depth) {
                (ModuleId::HubClientInfo, _) => &[("country_code", 0), ("party_id", 1)],
                (ModuleId::Locations, 1) => &[("uid", 3)],
                (ModuleId::Locations, 2) => &[("id", 4)],
                (ModuleId::Tokens, _) => &[("uid", 2)],
                _ => &[("id", 2)],
            };
            // 2.1.1 objects carry no party, and its tokens are named by `uid` too.
            let v211 = is_211(version);
            for (field, i) in id_fields {
                if v211 && (*field == "country_code" || *field == "party_id") {
                    continue;
                }
                if v.get(*field).and_then(|x| x.as_str()) != Some(ids[*i].as_str()) {
                    return Err(OcpiError::invalid_parameters(format!(
                        "{field} differs from the URL"
                    )));
                }
            }
            let owner = (ids[0].as_str(), ids[1].as_str());
            let created = if depth == 0 {
                let v = server.incoming(module, version, v, owner)?;
                st.put(module, role, ids.to_vec(), v)
            } else {
                let root = st.get(module, role, &ids[..n]).ok_or_else(|| {
                    OcpiError::not_found(not_found_code(module), "unknown parent object")
                })?;
                // The child is replaced in the request's form of the whole object.
                let mut root = server.outgoing(module, version, root)?;
                let updated = v.get("last_updated").cloned();
                let created = replace_child(&mut root, &ids[n..], v)?;
                touch_parents(&mut root, &ids[n..], updated);
                let root = server.incoming(module, version, root, owner)?;
                st.put(module, role, ids[..n].to_vec(), root);
                created
            };
            let mut r = envelope_response(
                if created { 201 } else { 200 },
                &Envelope::<()>::success(()),
            );
            if created {
                *r.status_mut() = HttpStatus::CREATED;
            }
            Ok(r)
        }
        (InterfaceRole::Receiver, &Method::PATCH) => {
            let patch: Value =
                serde_json::from_slice(body).map_err(|e| OcpiError::bad_request(e.to_string()))?;
            let root = st
                .get(module, role, &ids[..n])
                .ok_or_else(|| OcpiError::not_found(not_found_code(module), "unknown object"))?;
            let mut root = server.outgoing(module, version, root)?;
            let target = descend_mut(&mut root, &ids[n..]).ok_or_else(|| {
                OcpiError::not_found(not_found_code(module), "unknown EVSE or connector")
            })?;
            let patched: Value = apply_patch(target, &patch, identity)
                .map_err(|e| OcpiError::invalid_parameters(e.to_string()))?;
            validate_object(version, module, ids.len() - n, &patched)?;
            *target = patched;
            touch_parents(&mut root, &ids[n..], patch.get("last_updated").cloned());
            let root = server.incoming(module, version, root, (&ids[0], &ids[1]))?;
            st.put(module, role, ids[..n].to_vec(), root);
            Ok(ok(()))
        }
        (InterfaceRole::Receiver, &Method::DELETE) => {
            if st.delete(module, role, &ids[..n]) {
                Ok(ok(()))
            } else {
                Err(OcpiError::not_found(
                    not_found_code(module),
                    "unknown object",
                ))
            }
        }
        _ => Err(OcpiError::method_not_allowed(
            "method not supported on this interface",
        )),
    }
}

/// Tokens, Sender interface: `POST {tokens}/{uid}/authorize[?type={type}]` with optional
/// `LocationReferences`; answers the version's `AuthorizationInfo`, or 404 with 2004 for an
/// unknown token.
fn authorize<S: Storage>(
    server: &Arc<Server<S>>,
    ctx: &RequestContext,
    uri: &Uri,
    ids: &[String],
    body: &Bytes,
) -> Result<Response, OcpiError> {
    let [uid, last] = ids else {
        return Err(OcpiError::not_found(
            StatusCode::CLIENT_ERROR,
            "expected /tokens/{token_uid}/authorize",
        ));
    };
    if last != "authorize" {
        return Err(OcpiError::not_found(
            StatusCode::CLIENT_ERROR,
            "expected /tokens/{token_uid}/authorize",
        ));
    }
    let wanted = query_param(uri, "type").unwrap_or_else(|| "RFID".to_owned());
    let version = &ctx.version;
    let token = server
        .storage
        .list(&ModuleId::Tokens, &InterfaceRole::Sender)
        .into_iter()
        .find(|t| {
            t.get("uid").and_then(Value::as_str) == Some(uid.as_str())
                && t.get("type").and_then(Value::as_str) == Some(wanted.as_str())
        })
        .ok_or_else(|| OcpiError::not_found(StatusCode::UNKNOWN_TOKEN, "unknown token"))?;
    let location = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let v = json_body(body)?;
        if is_211(version) {
            check::<crate::v211::LocationReferences>(&v)?;
        } else {
            check::<crate::v221::LocationReferences>(&v)?;
        }
        Some(v)
    };
    let decision = server
        .handlers
        .tokens_sender
        .authorize(ctx, &token, location.as_ref())?;
    let mut info = serde_json::Map::new();
    info.insert("allowed".into(), Value::from(decision.allowed.as_str()));
    if !is_211(version) {
        info.insert(
            "token".into(),
            server.outgoing(&ModuleId::Tokens, version, token)?,
        );
    }
    if let Some(l) = location {
        info.insert("location".into(), l);
    }
    if let (Some(r), false) = (decision.authorization_reference, is_211(version)) {
        info.insert("authorization_reference".into(), Value::from(r));
    }
    if let Some(i) = decision.info {
        info.insert(
            "info".into(),
            serde_json::to_value(i).map_err(|e| OcpiError::server_error(e.to_string()))?,
        );
    }
    Ok(ok(Value::Object(info)))
}

/// Sessions, Sender interface: `PUT {sessions}/{session_id}/charging_preferences`.
fn charging_preferences<S: Storage>(
    server: &Arc<Server<S>>,
    ctx: &RequestContext,
    ids: &[String],
    body: &Bytes,
) -> Result<Response, OcpiError> {
    let [session_id, last] = ids else {
        return Err(OcpiError::method_not_allowed(
            "only /sessions/{session_id}/charging_preferences takes PUT",
        ));
    };
    if last != "charging_preferences" || is_211(&ctx.version) {
        return Err(OcpiError::method_not_allowed(
            "only /sessions/{session_id}/charging_preferences takes PUT",
        ));
    }
    let prefs = check::<crate::v221::ChargingPreferences>(&json_body(body)?)?;
    if server
        .storage
        .get(
            &ModuleId::Sessions,
            &InterfaceRole::Sender,
            std::slice::from_ref(session_id),
        )
        .is_none()
    {
        return Err(OcpiError::not_found(
            StatusCode::CLIENT_ERROR,
            format!("unknown session {session_id}"),
        ));
    }
    let answer = server
        .handlers
        .sessions_sender
        .charging_preferences(ctx, session_id, prefs)?;
    Ok(ok(answer))
}

/// CDRs, Receiver interface: `POST {cdrs}` creates a CDR (stored under
/// `/{country_code}/{party_id}/{id}`, the CPO's party taken from its registration on 2.1.1) and
/// answers 201 with its URL in `Location`; posting the same CDR again answers 200 with the same
/// URL, a different CDR with an id already used answers 2001.
fn post_cdr<S: Storage>(
    server: &Arc<Server<S>>,
    ctx: &RequestContext,
    ids: &[String],
    body: &Bytes,
) -> Result<Response, OcpiError> {
    if !ids.is_empty() {
        return Err(OcpiError::method_not_allowed(
            "POST a CDR to the cdrs endpoint",
        ));
    }
    let version = &ctx.version;
    let v = json_body(body)?;
    validate_object(version, &ModuleId::Cdrs, 0, &v)?;
    let field = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let role = ctx.registration.as_ref().and_then(|r| r.roles.first());
    let cc = field("country_code").or_else(|| role.map(|r| r.country_code.0.clone()));
    let pid = field("party_id").or_else(|| role.map(|r| r.party_id.0.clone()));
    let (Some(cc), Some(pid), Some(id)) = (cc, pid, field("id")) else {
        return Err(OcpiError::invalid_parameters(
            "the CDR's owner is unknown (no country_code/party_id)",
        ));
    };
    let key = vec![cc.clone(), pid.clone(), id.clone()];
    let stored = server.incoming(&ModuleId::Cdrs, version, v, (&cc, &pid))?;
    let created = match server
        .storage
        .get(&ModuleId::Cdrs, &InterfaceRole::Receiver, &key)
    {
        Some(existing) if existing == stored => false,
        Some(_) => {
            return Err(OcpiError::invalid_parameters(format!(
                "a different CDR {id} exists already; CDRs cannot be replaced"
            )))
        }
        None => server
            .storage
            .put(&ModuleId::Cdrs, &InterfaceRole::Receiver, key, stored),
    };
    let url = crate::client::join_url(
        &server.module_url(version, &ModuleId::Cdrs, &InterfaceRole::Receiver),
        &[&cc, &pid, &id],
    );
    let mut r = envelope_response(
        if created { 201 } else { 200 },
        &Envelope::<()>::success(()),
    );
    if let Ok(h) = HeaderValue::from_str(&url) {
        r.headers_mut().insert(headers::LOCATION, h);
    }
    Ok(r)
}

/// The two collections of the payments module.
const TERMINALS: &str = "terminals";
const ADVICES: &str = "financial-advice-confirmations";

/// Payments (2.3.0), both interfaces, under `/payments/terminals` and
/// `/payments/financial-advice-confirmations` (stored under the keys
/// `["terminals", terminal_id]` and `["financial-advice-confirmations", id]`).
///
/// Sender (PTP): GET lists (paginated) and objects of both; PUT and PATCH of a terminal (the
/// CPO assigns locations; a PATCH needs no `last_updated`, a PUT may leave out the
/// `terminal_id` of the URL, as the specification's examples do); POST `terminals/activate` and
/// `terminals/{id}/deactivate` ([`crate::handlers::PaymentsSender`]). Receiver (CPO): GET
/// objects and POST new ones of both. A terminal without `last_updated` is stamped now.
#[allow(clippy::too_many_arguments)]
fn payments_request<S: Storage>(
    server: &Arc<Server<S>>,
    ctx: &RequestContext,
    role: &InterfaceRole,
    method: &Method,
    uri: &Uri,
    ids: &[String],
    body: &Bytes,
) -> Result<Response, OcpiError> {
    use crate::v230::{FinancialAdviceConfirmation, Terminal};
    let st = &server.storage;
    let m = &ModuleId::Payments;
    let version = &ctx.version;
    let unknown = |what: &str, id: &str| {
        OcpiError::not_found(StatusCode::CLIENT_ERROR, format!("unknown {what} {id}"))
    };
    let stamp = |mut v: Value| {
        if let Some(o) = v.as_object_mut() {
            o.entry("last_updated")
                .or_insert_with(|| Value::from(crate::primitives::DateTime::now().as_str()));
        }
        v
    };
    let key = |kind: &str, id: &str| vec![kind.to_owned(), id.to_owned()];
    let strs: Vec<&str> = ids.iter().map(String::as_str).collect();
    match (role, method, strs.as_slice()) {
        (InterfaceRole::Sender, &Method::GET, [kind @ (TERMINALS | ADVICES)]) => {
            let q = parse_query(uri)?;
            let is_terminal = *kind == TERMINALS;
            let all: Vec<Value> = st
                .list(m, role)
                .into_iter()
                .filter(|o| o.get("terminal_id").is_some() == is_terminal)
                .filter(|o| {
                    o.get("last_updated")
                        .and_then(|d| d.as_str())
                        .and_then(|d| crate::primitives::DateTime::parse(d).ok())
                        .is_none_or(|d| q.matches(&d))
                })
                .collect();
            let base = format!("{}/{kind}", server.module_url(version, m, role));
            Ok(page_response(all, &q, server.config.max_limit, &base))
        }
        (_, &Method::GET, [kind @ (TERMINALS | ADVICES), id]) => {
            let obj = st
                .get(m, role, &key(kind, id))
                .ok_or_else(|| unknown(kind, id))?;
            Ok(ok(obj))
        }
        (InterfaceRole::Sender, &Method::POST, [TERMINALS, "activate"]) => {
            let v = stamp(json_body(body)?);
            let mut t = v.clone();
            if let Some(o) = t.as_object_mut() {
                // the PTP sets the id: any placeholder passes validation
                o.entry("terminal_id").or_insert_with(|| Value::from("-"));
            }
            check::<Terminal>(&t)?;
            server.handlers.payments_sender.activate_terminal(ctx, v)?;
            Ok(envelope_response(200, &Envelope::<()>::success(())))
        }
        (InterfaceRole::Sender, &Method::POST, [TERMINALS, id, "deactivate"]) => {
            st.get(m, role, &key(TERMINALS, id))
                .ok_or_else(|| unknown(TERMINALS, id))?;
            server
                .handlers
                .payments_sender
                .deactivate_terminal(ctx, id)?;
            Ok(envelope_response(200, &Envelope::<()>::success(())))
        }
        (InterfaceRole::Sender, &Method::PUT | &Method::PATCH, [TERMINALS, id]) => {
            let v = json_body(body)?;
            let new = if *method == Method::PUT {
                let mut v = stamp(v);
                if let Some(o) = v.as_object_mut() {
                    o.entry("terminal_id").or_insert_with(|| Value::from(*id));
                }
                v
            } else {
                let mut old = st
                    .get(m, role, &key(TERMINALS, id))
                    .ok_or_else(|| unknown(TERMINALS, id))?;
                let (Some(o), Some(p)) = (old.as_object_mut(), v.as_object()) else {
                    return Err(OcpiError::invalid_parameters("a PATCH is a JSON object"));
                };
                for (k, x) in p {
                    if x.is_null() {
                        o.remove(k);
                    } else {
                        o.insert(k.clone(), x.clone());
                    }
                }
                if !p.contains_key("last_updated") {
                    o.insert(
                        "last_updated".into(),
                        Value::from(crate::primitives::DateTime::now().as_str()),
                    );
                }
                old
            };
            check::<Terminal>(&new)?;
            if new.get("terminal_id").and_then(Value::as_str) != Some(*id) {
                return Err(OcpiError::invalid_parameters(
                    "terminal_id differs from the URL",
                ));
            }
            let created = st.put(m, role, key(TERMINALS, id), new);
            Ok(created_response(created))
        }
        (InterfaceRole::Receiver, &Method::POST, [kind @ (TERMINALS | ADVICES)]) => {
            let v = json_body(body)?;
            let (v, id_field) = if *kind == TERMINALS {
                let v = stamp(v);
                check::<Terminal>(&v)?;
                (v, "terminal_id")
            } else {
                check::<FinancialAdviceConfirmation>(&v)?;
                (v, "id")
            };
            let id = v
                .get(id_field)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let created = st.put(m, role, key(kind, &id), v);
            Ok(created_response(created))
        }
        (_, &Method::GET | &Method::POST | &Method::PUT | &Method::PATCH, _) => Err(
            OcpiError::not_found(StatusCode::CLIENT_ERROR, "no such payments endpoint"),
        ),
        _ => Err(OcpiError::method_not_allowed(
            "method not supported on this interface",
        )),
    }
}

fn created_response(created: bool) -> Response {
    let mut r = envelope_response(
        if created { 201 } else { 200 },
        &Envelope::<()>::success(()),
    );
    if created {
        *r.status_mut() = HttpStatus::CREATED;
    }
    r
}

/// A page of a list with the pagination headers (`X-Total-Count`, `X-Limit`, `Link`).
fn page_response(all: Vec<Value>, q: &PageQuery, max_limit: usize, base: &str) -> Response {
    let page = paginate(all, q, max_limit);
    let mut resp = ok(page.items);
    let h = resp.headers_mut();
    let num =
        |n: usize| HeaderValue::from_str(&n.to_string()).unwrap_or(HeaderValue::from_static("0"));
    h.insert(headers::X_TOTAL_COUNT, num(page.total_count));
    h.insert(headers::X_LIMIT, num(page.limit));
    if let Some(next) = page.next_offset {
        if let Ok(v) = HeaderValue::from_str(&next_link(base, q, next, page.limit)) {
            h.insert(headers::LINK, v);
        }
    }
    resp
}

fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn query_param(uri: &Uri, name: &str) -> Option<String> {
    query_pairs(uri)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn json_body(body: &Bytes) -> Result<Value, OcpiError> {
    serde_json::from_slice(body).map_err(|e| OcpiError::bad_request(format!("invalid JSON: {e}")))
}

fn require_url(what: &str, url: Option<String>) -> Result<String, OcpiError> {
    let url = url
        .filter(|u| !u.is_empty())
        .ok_or_else(|| OcpiError::invalid_parameters(format!("missing {what}")))?;
    crate::primitives::Url::new(url.clone())
        .validate()
        .map_err(|e| OcpiError::invalid_parameters(format!("{what}: {e}")))?;
    Ok(url)
}

/// The commands module: `POST /receiver/commands/{command}` and the results POSTed to
/// `/sender/commands/{command}/{id}`.
fn commands_request<S: Storage>(
    server: &Arc<Server<S>>,
    ctx: &RequestContext,
    role: &InterfaceRole,
    method: &Method,
    ids: &[String],
    body: &Bytes,
) -> Result<Response, OcpiError> {
    if *method != Method::POST {
        return Err(OcpiError::method_not_allowed(
            "the commands module takes POST only",
        ));
    }
    let v211 = is_211(&ctx.version);
    match role {
        InterfaceRole::Receiver => {
            let [command] = ids else {
                return Err(OcpiError::not_found(
                    StatusCode::CLIENT_ERROR,
                    "expected /commands/{command}",
                ));
            };
            let command = CommandType::from_wire(command);
            let v = json_body(body)?;
            use crate::{v211 as a, v221 as b, v230 as c};
            let version = &ctx.version;
            let (CommandType::CancelReservation
            | CommandType::ReserveNow
            | CommandType::StartSession
            | CommandType::StopSession
            | CommandType::UnlockConnector) = &command
            else {
                // An unknown command (2.3.0's CommandType is open): the handler may know it.
                let request = CommandRequest {
                    command,
                    response_url: v
                        .get("response_url")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    body: v,
                };
                let answer = server.handlers.commands_receiver.command(ctx, &request)?;
                return Ok(ok(command_response_json(version, &answer)));
            };
            match (&command, v211, *version == VersionNumber::V2_3_0) {
                (CommandType::CancelReservation, true, _) => {
                    return Ok(ok(command_response_json(
                        version,
                        &crate::handlers::command_not_supported(),
                    )))
                }
                (CommandType::CancelReservation, ..) => check::<b::CancelReservation>(&v).map(drop),
                (CommandType::ReserveNow, true, _) => check::<a::ReserveNow>(&v).map(drop),
                (CommandType::ReserveNow, _, true) => check::<c::ReserveNow>(&v).map(drop),
                (CommandType::ReserveNow, ..) => check::<b::ReserveNow>(&v).map(drop),
                (CommandType::StartSession, true, _) => check::<a::StartSession>(&v).map(drop),
                (CommandType::StartSession, _, true) => check::<c::StartSession>(&v).map(drop),
                (CommandType::StartSession, ..) => check::<b::StartSession>(&v).map(drop),
                (CommandType::StopSession, true, _) => check::<a::StopSession>(&v).map(drop),
                (CommandType::StopSession, ..) => check::<b::StopSession>(&v).map(drop),
                (CommandType::UnlockConnector, true, _) => {
                    check::<a::UnlockConnector>(&v).map(drop)
                }
                (CommandType::UnlockConnector, ..) => check::<b::UnlockConnector>(&v).map(drop),
                _ => Ok(()),
            }?;
            let request = CommandRequest {
                command,
                response_url: v
                    .get("response_url")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                body: v,
            };
            let answer = server.handlers.commands_receiver.command(ctx, &request)?;
            Ok(ok(command_response_json(version, &answer)))
        }
        _ => {
            let [command, rest @ ..] = ids else {
                return Err(OcpiError::not_found(
                    StatusCode::CLIENT_ERROR,
                    "expected /commands/{command}/{id}",
                ));
            };
            let command = CommandType::from_wire(command);
            let v = json_body(body)?;
            let result = if v211 {
                command_result_from_211(&check::<crate::v211::CommandResponse>(&v)?)
            } else {
                check::<CommandResult>(&v)?
            };
            server.handlers.commands_sender.command_result(
                ctx,
                &command,
                &rest.join("/"),
                result,
            )?;
            Ok(envelope_response(200, &Envelope::<()>::success(())))
        }
    }
}

/// The synchronous answer to a command in the request's version (2.1.1 has only `result`).
fn command_response_json(version: &VersionNumber, answer: &CommandResponse) -> Value {
    let mut v = serde_json::to_value(answer).unwrap_or(Value::Null);
    if is_211(version) {
        if let Some(o) = v.as_object_mut() {
            o.retain(|k, _| k == "result");
        }
    }
    v
}

/// A 2.1.1 asynchronous result (a `CommandResponse`) as a [`CommandResult`].
fn command_result_from_211(r: &crate::v211::CommandResponse) -> CommandResult {
    use crate::v211::CommandResponseType as A;
    let result = match &r.result {
        A::Accepted => CommandResultType::Accepted,
        A::Rejected => CommandResultType::Rejected,
        A::NotSupported => CommandResultType::NotSupported,
        A::Timeout => CommandResultType::Timeout,
        A::UnknownSession => CommandResultType::Failed,
        A::Unknown(s) => CommandResultType::Unknown(s.clone()),
    };
    CommandResult {
        result,
        message: vec![],
        extra: r.extra.clone(),
    }
}

/// The charging profiles module: `GET/PUT/DELETE /receiver/chargingprofiles/{session_id}`,
/// results POSTed to `/sender/chargingprofiles/{kind}/{id}` and active profile updates PUT to
/// `/sender/chargingprofiles/{session_id}`.
#[allow(clippy::too_many_arguments)]
fn charging_profiles_request<S: Storage>(
    server: &Arc<Server<S>>,
    ctx: &RequestContext,
    role: &InterfaceRole,
    method: &Method,
    uri: &Uri,
    ids: &[String],
    body: &Bytes,
) -> Result<Response, OcpiError> {
    let respond = |r: ChargingProfileResponse| Ok(ok(r));
    match (role, method, ids) {
        (InterfaceRole::Receiver, &Method::GET, [session_id]) => {
            let duration = query_param(uri, "duration")
                .ok_or_else(|| OcpiError::invalid_parameters("missing duration"))?;
            let duration: u32 = duration.parse().map_err(|_| {
                OcpiError::invalid_parameters(format!("invalid duration: {duration:?}"))
            })?;
            let response_url = require_url("response_url", query_param(uri, "response_url"))?;
            respond(
                server
                    .handlers
                    .charging_profiles_receiver
                    .get_active_profile(ctx, session_id, duration, &response_url)?,
            )
        }
        (InterfaceRole::Receiver, &Method::PUT, [session_id]) => {
            let req = check::<SetChargingProfile>(&json_body(body)?)?;
            respond(
                server
                    .handlers
                    .charging_profiles_receiver
                    .set_profile(ctx, session_id, req)?,
            )
        }
        (InterfaceRole::Receiver, &Method::DELETE, [session_id]) => {
            let response_url = require_url("response_url", query_param(uri, "response_url"))?;
            respond(server.handlers.charging_profiles_receiver.clear_profile(
                ctx,
                session_id,
                &response_url,
            )?)
        }
        (InterfaceRole::Sender, &Method::POST, [kind, id @ ..]) if !id.is_empty() => {
            let kind = ChargingProfileResultKind::from_segment(kind).ok_or_else(|| {
                OcpiError::not_found(StatusCode::CLIENT_ERROR, "unknown result kind")
            })?;
            let v = json_body(body)?;
            let result = match kind {
                ChargingProfileResultKind::Active => {
                    ChargingProfileAsyncResult::Active(Box::new(check(&v)?))
                }
                ChargingProfileResultKind::Set => ChargingProfileAsyncResult::Set(check(&v)?),
                ChargingProfileResultKind::Clear => ChargingProfileAsyncResult::Clear(check(&v)?),
            };
            server
                .handlers
                .charging_profiles_sender
                .profile_result(ctx, &id.join("/"), result)?;
            Ok(envelope_response(200, &Envelope::<()>::success(())))
        }
        (InterfaceRole::Sender, &Method::PUT, [session_id]) => {
            let profile = check::<ActiveChargingProfile>(&json_body(body)?)?;
            server
                .handlers
                .charging_profiles_sender
                .active_profile_changed(ctx, session_id, profile)?;
            Ok(envelope_response(200, &Envelope::<()>::success(())))
        }
        (InterfaceRole::Receiver, &Method::GET | &Method::PUT | &Method::DELETE, _)
        | (InterfaceRole::Sender, &Method::POST | &Method::PUT, _) => Err(OcpiError::not_found(
            StatusCode::CLIENT_ERROR,
            "expected /chargingprofiles/{session_id} (or /{kind}/{id} for results)",
        )),
        _ => Err(OcpiError::method_not_allowed(
            "method not supported on this interface",
        )),
    }
}

/// After a PUT or PATCH of an EVSE or connector, its parents (the location, and the EVSE of a
/// connector) take its `last_updated`, as the locations module requires.
fn touch_parents(root: &mut Value, child_ids: &[String], last_updated: Option<Value>) {
    let Some(lu) = last_updated else { return };
    for depth in 0..child_ids.len() {
        if let Some(o) = descend_mut(root, &child_ids[..depth]).and_then(Value::as_object_mut) {
            o.insert("last_updated".into(), lu.clone());
        }
    }
}

fn descend(obj: &Value, ids: &[String]) -> Option<Value> {
    let mut cur = obj.clone();
    for (i, id) in ids.iter().enumerate() {
        let (list, field) = if i == 0 {
            ("evses", "uid")
        } else {
            ("connectors", "id")
        };
        cur = cur
            .get(list)?
            .as_array()?
            .iter()
            .find(|e| e.get(field).and_then(|x| x.as_str()) == Some(id))?
            .clone();
    }
    Some(cur)
}

fn descend_mut<'a>(obj: &'a mut Value, ids: &[String]) -> Option<&'a mut Value> {
    let mut cur = obj;
    for (i, id) in ids.iter().enumerate() {
        let (list, field) = if i == 0 {
            ("evses", "uid")
        } else {
            ("connectors", "id")
        };
        cur = cur
            .get_mut(list)?
            .as_array_mut()?
            .iter_mut()
            .find(|e| e.get(field).and_then(|x| x.as_str()) == Some(id))?;
    }
    Some(cur)
}

fn replace_child(root: &mut Value, ids: &[String], v: Value) -> Result<bool, OcpiError> {
    let (parent_ids, last) = ids.split_at(ids.len() - 1);
    let parent = descend_mut(root, parent_ids)
        .ok_or_else(|| OcpiError::not_found(StatusCode::UNKNOWN_LOCATION, "unknown EVSE"))?;
    let (list, field) = if parent_ids.is_empty() {
        ("evses", "uid")
    } else {
        ("connectors", "id")
    };
    let arr = parent
        .as_object_mut()
        .ok_or_else(|| OcpiError::server_error("stored object is not an object"))?
        .entry(list)
        .or_insert_with(|| Value::Array(vec![]));
    let arr = arr
        .as_array_mut()
        .ok_or_else(|| OcpiError::server_error("stored list is not a list"))?;
    if let Some(slot) = arr
        .iter_mut()
        .find(|e| e.get(field).and_then(|x| x.as_str()) == Some(&last[0]))
    {
        *slot = v;
        Ok(false)
    } else {
        arr.push(v);
        Ok(true)
    }
}

/// A summary of stored objects per module (for diagnostics).
pub fn counts<S: Storage>(server: &Server<S>) -> BTreeMap<String, usize> {
    server
        .config
        .modules
        .iter()
        .map(|(m, r)| (format!("{r} {m}"), server.storage.list(m, r).len()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn percent_decoding_never_cuts_a_character() {
        assert_eq!(percent_decode("a%20b+c"), "a b c");
        assert_eq!(percent_decode("%41%4a%4A"), "AJJ");
        // a percent sign before a multi-byte character: kept as it is, no panic
        assert_eq!(percent_decode("%a\u{e9}"), "%a\u{e9}");
        assert_eq!(percent_decode("%\u{e9}x"), "%\u{e9}x");
        assert_eq!(percent_decode("x%4"), "x%4");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%C3%A9"), "\u{e9}");
    }
}
