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
//!   `GET|PUT|PATCH|DELETE /{version}/receiver/{module}/{country_code}/{party_id}/{id}[/…]`
//!
//! Objects are validated by their typed form ([`crate::v221`]) before they are stored on 2.2.1
//! and 2.3.0; on 2.1.1 they are stored as JSON objects with their ids checked.

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
use crate::credentials::{Registration, Registry, Scope};
use crate::transport::{
    apply_patch, headers, next_link, paginate, parse_authorization, Envelope, OcpiError, PageQuery,
    StatusCode, TokenEncoding,
};
use crate::v221::{
    Credentials, CredentialsRole, Endpoint, InterfaceRole, ModuleId, Version, VersionDetails,
    VersionNumber,
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
            .filter(|((m, r, ids), _)| m == module.as_str() && r == role.as_str() && ids.len() == 1)
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
}

impl<S: Storage> Server<S> {
    /// A server.
    pub fn new(config: ServerConfig, storage: S, registry: Registry) -> Arc<Self> {
        Arc::new(Server {
            config,
            storage,
            registry: Mutex::new(registry),
        })
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
    for c in &candidates {
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
        Some("details") if *method == Method::GET => Ok(ok(server.details(&version))),
        Some("credentials") => credentials(server, &version, method, caller, body).await,
        Some(role @ ("sender" | "receiver")) if segs.len() >= 3 => {
            let role = if role == "sender" {
                InterfaceRole::Sender
            } else {
                InterfaceRole::Receiver
            };
            let module = ModuleId::from_wire(&segs[2]);
            if !server
                .config
                .modules
                .contains(&(module.clone(), role.clone()))
            {
                return Err(OcpiError::not_found(
                    StatusCode::CLIENT_ERROR,
                    "module not offered",
                ));
            }
            module_request(
                server,
                &version,
                &module,
                &role,
                method,
                uri,
                &segs[3..],
                body,
            )
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

async fn credentials<S: Storage>(
    server: &Arc<Server<S>>,
    version: &VersionNumber,
    method: &Method,
    caller: crate::credentials::Caller,
    body: &Bytes,
) -> Result<Response, OcpiError> {
    match *method {
        Method::GET => Ok(ok(our_credentials(server, "*".repeat(8)))),
        Method::POST | Method::PUT => {
            {
                let r = server.registry();
                if *method == Method::POST {
                    r.check_register(&caller)?;
                } else {
                    r.check_registered(&caller)?;
                }
            }
            let theirs: Credentials = serde_json::from_slice(body)
                .map_err(|e| OcpiError::bad_request(format!("not a Credentials object: {e}")))?;
            theirs
                .validate()
                .map_err(|e| OcpiError::invalid_parameters(e.to_string()))?;
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
            let details = client.version_details(&v.url.0).await.map_err(|e| {
                OcpiError::new(200, StatusCode::UNABLE_TO_USE_CLIENT_API, e.to_string())
            })?;
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
            Ok(ok(our_credentials(server, token_c)))
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
            if let Ok(x) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(x);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Validates an object of a module by its typed 2.2.1 form.
fn validate_object(module: &ModuleId, depth: usize, v: &Value) -> Result<(), OcpiError> {
    fn check<T: serde::de::DeserializeOwned + Validate>(v: &Value) -> Result<(), OcpiError> {
        let t: T =
            serde_json::from_value(v.clone()).map_err(|e| OcpiError::bad_request(e.to_string()))?;
        t.validate()
            .map_err(|e| OcpiError::invalid_parameters(e.to_string()))
    }
    use crate::v221 as m;
    match (module, depth) {
        (ModuleId::Locations, 0) => check::<m::Location>(v),
        (ModuleId::Locations, 1) => check::<m::Evse>(v),
        (ModuleId::Locations, _) => check::<m::Connector>(v),
        (ModuleId::Sessions, _) => check::<m::Session>(v),
        (ModuleId::Cdrs, _) => check::<m::Cdr>(v),
        (ModuleId::Tariffs, _) => check::<m::Tariff>(v),
        (ModuleId::Tokens, _) => check::<m::Token>(v),
        (ModuleId::HubClientInfo, _) => check::<m::ClientInfo>(v),
        _ => Ok(()),
    }
}

#[allow(clippy::too_many_arguments)]
fn module_request<S: Storage>(
    server: &Arc<Server<S>>,
    version: &VersionNumber,
    module: &ModuleId,
    role: &InterfaceRole,
    method: &Method,
    uri: &Uri,
    ids: &[String],
    body: &Bytes,
) -> Result<Response, OcpiError> {
    let typed = !matches!(
        version,
        VersionNumber::V2_1_1 | VersionNumber::V2_0 | VersionNumber::V2_1
    );
    let st = &server.storage;
    match (role, method) {
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
            let mut resp = ok(page.items);
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
            let found = descend(&obj, &ids[1..]).ok_or_else(|| {
                OcpiError::not_found(not_found_code(module), "unknown EVSE or connector")
            })?;
            Ok(ok(found))
        }
        (InterfaceRole::Receiver, _) if ids.len() < 3 => Err(OcpiError::bad_request(
            "expected /{country_code}/{party_id}/{id} in the URL",
        )),
        (InterfaceRole::Receiver, &Method::GET) => {
            let obj = st.get(module, role, &ids[..3]).ok_or_else(|| {
                OcpiError::not_found(
                    not_found_code(module),
                    format!("unknown {module} {}", ids[2]),
                )
            })?;
            let found = descend(&obj, &ids[3..]).ok_or_else(|| {
                OcpiError::not_found(not_found_code(module), "unknown EVSE or connector")
            })?;
            Ok(ok(found))
        }
        (InterfaceRole::Receiver, &Method::PUT) => {
            let v: Value =
                serde_json::from_slice(body).map_err(|e| OcpiError::bad_request(e.to_string()))?;
            let depth = ids.len() - 3;
            if typed {
                validate_object(module, depth, &v)?;
            }
            let id_field = match (module, depth) {
                (ModuleId::Locations, 1) => "uid",
                (ModuleId::Tokens, _) => "uid",
                _ => "id",
            };
            if v.get(id_field).and_then(|x| x.as_str()) != Some(ids[ids.len() - 1].as_str()) {
                return Err(OcpiError::invalid_parameters(format!(
                    "{id_field} differs from the URL"
                )));
            }
            let created = if depth == 0 {
                st.put(module, role, ids.to_vec(), v)
            } else {
                let mut root = st.get(module, role, &ids[..3]).ok_or_else(|| {
                    OcpiError::not_found(not_found_code(module), "unknown parent object")
                })?;
                let created = replace_child(&mut root, &ids[3..], v)?;
                st.put(module, role, ids[..3].to_vec(), root);
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
            let mut root = st
                .get(module, role, &ids[..3])
                .ok_or_else(|| OcpiError::not_found(not_found_code(module), "unknown object"))?;
            let target = descend_mut(&mut root, &ids[3..]).ok_or_else(|| {
                OcpiError::not_found(not_found_code(module), "unknown EVSE or connector")
            })?;
            let patched: Value =
                apply_patch(target, &patch, &["country_code", "party_id", "id", "uid"])
                    .map_err(|e| OcpiError::invalid_parameters(e.to_string()))?;
            if typed {
                validate_object(module, ids.len() - 3, &patched)?;
            }
            *target = patched;
            st.put(module, role, ids[..3].to_vec(), root);
            Ok(ok(()))
        }
        (InterfaceRole::Receiver, &Method::DELETE) => {
            if st.delete(module, role, &ids[..3]) {
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
