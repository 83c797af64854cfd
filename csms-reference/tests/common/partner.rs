//! The OCPI side of the tests: the CSMS's settings with OCPI on, an eMSP built with the `ocpi`
//! crate's server that registers through the credentials handshake, the results it receives
//! for commands and charging profiles, and the OCPI objects the tests push.

use std::sync::{Arc, Mutex};

use csms_reference::config::{FileSettings, Settings};
use csms_reference::ocpi_cpo::OcpiFileSettings;
use ocpi::client::Client;
use ocpi::credentials::{initiator::Registered, PeerState, Registration, Registry};
use ocpi::handlers::{
    ChargingProfileAsyncResult, ChargingProfilesSender, CommandsSender, Handlers, RequestContext,
};
use ocpi::server::{MemoryStorage, Server, ServerConfig};
use ocpi::transport::OcpiError;
use ocpi::v221::{
    CommandResult, CommandType, Credentials, CredentialsRole, Endpoint, InterfaceRole, ModuleId,
    VersionNumber,
};
use serde_json::{json, Value};

use super::loopback;

/// The CSMS on loopback ports with OCPI on (`ocpi` completed with a loopback listener and a
/// 1 s retry bound), a 5 s call timeout and no unknown tokens accepted.
pub fn ocpi_settings(database_url: String, ocpi: OcpiFileSettings) -> Settings {
    let f = FileSettings {
        call_timeout: Some(5),
        accept_unknown_tokens: Some(false),
        ocpi: Some(OcpiFileSettings {
            listen: Some("127.0.0.1:0".into()),
            retry_max_seconds: Some(1),
            ..ocpi
        }),
        ..loopback(database_url)
    };
    Settings::validate(f).unwrap()
}

/// An OCPI role of country NL.
pub fn role(role: &str, party_id: &str) -> CredentialsRole {
    serde_json::from_value(
        json!({"role": role, "party_id": party_id, "country_code": "NL",
        "business_details": {"name": party_id}}),
    )
    .unwrap()
}

/// The asynchronous results an eMSP received: (command or `profile`, id, result).
pub type ResultLog = Arc<Mutex<Vec<(String, String, String)>>>;

/// Records the command and charging-profile results the CPO posts.
pub struct Results(pub ResultLog);

impl CommandsSender for Results {
    fn command_result(
        &self,
        _: &RequestContext,
        command: &CommandType,
        id: &str,
        result: CommandResult,
    ) -> Result<(), OcpiError> {
        self.0.lock().unwrap().push((
            command.to_string(),
            id.to_owned(),
            result.result.to_string(),
        ));
        Ok(())
    }
}

impl ChargingProfilesSender for Results {
    fn profile_result(
        &self,
        _: &RequestContext,
        id: &str,
        result: ChargingProfileAsyncResult,
    ) -> Result<(), OcpiError> {
        let r = serde_json::to_value(&result).unwrap()["result"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        self.0
            .lock()
            .unwrap()
            .push(("profile".into(), id.to_owned(), r));
        Ok(())
    }
}

/// The handlers of an eMSP that records command and profile results in `results`.
pub fn recording_handlers(results: &ResultLog) -> Handlers {
    Handlers {
        commands_sender: Arc::new(Results(results.clone())),
        charging_profiles_sender: Arc::new(Results(results.clone())),
        ..Handlers::default()
    }
}

/// A partner's OCPI server at `base` (`http://addr/ocpi`) speaking `version`, with `modules`
/// and the role `own_role`, and the CPO known as a peer that will present `token_b`.
pub fn partner_server(
    base: &str,
    token_b: &str,
    cpo_versions: &str,
    version: &VersionNumber,
    modules: Vec<(ModuleId, InterfaceRole)>,
    own_role: CredentialsRole,
    handlers: Handlers,
) -> Arc<Server<MemoryStorage>> {
    let mut registry = Registry::new();
    registry.add_registered_peer(
        token_b,
        Registration {
            version: version.clone(),
            token_b: String::new(),
            versions_url: cpo_versions.to_owned(),
            endpoints: vec![],
            roles: vec![],
        },
    );
    let config = ServerConfig {
        base_url: base.to_owned(),
        versions: vec![version.clone()],
        modules,
        roles: vec![own_role],
        tolerant_token_encoding: false,
        max_limit: 50,
        storage_version: None,
    };
    Server::with_handlers(config, MemoryStorage::new(), registry, handlers)
}

/// The modules of a full eMSP: receiver of locations, sessions, CDRs and tariffs, sender of
/// tokens, commands and charging profiles.
pub fn emsp_modules() -> Vec<(ModuleId, InterfaceRole)> {
    vec![
        (ModuleId::Locations, InterfaceRole::Receiver),
        (ModuleId::Sessions, InterfaceRole::Receiver),
        (ModuleId::Cdrs, InterfaceRole::Receiver),
        (ModuleId::Tariffs, InterfaceRole::Receiver),
        (ModuleId::Tokens, InterfaceRole::Sender),
        (ModuleId::Commands, InterfaceRole::Sender),
        (ModuleId::ChargingProfiles, InterfaceRole::Sender),
    ]
}

/// The partner of `server` (reachable at `base`, presenting `token_b`, in the role `own_role`)
/// registers with the CPO with `token_a`, offering `versions`; what it now knows of the CPO
/// (its TOKEN_C, endpoints and roles, which say which parties may push to our Receiver
/// interfaces) is kept in its registry.
pub async fn register_partner(
    server: &Server<MemoryStorage>,
    base: &str,
    token_b: &str,
    own_role: CredentialsRole,
    versions: &[VersionNumber],
    token_a: &str,
    cpo_versions: &str,
) -> Registered {
    let ours = Credentials {
        token: token_b.to_owned().into(),
        url: format!("{base}/versions").into(),
        roles: vec![own_role],
        extra: Default::default(),
    };
    let r = Client::register(token_a, cpo_versions, versions, &ours)
        .await
        .unwrap();
    let mut registry = server.registry.lock().unwrap();
    let mut peer = registry.peers().next().unwrap().clone();
    peer.state = PeerState::Registered(Registration {
        version: r.version.clone(),
        token_b: r.token_c.clone(),
        versions_url: cpo_versions.to_owned(),
        endpoints: r.endpoints.clone(),
        roles: r.peer.roles.clone(),
    });
    registry.restore_peer(peer);
    r
}

/// The URL of `module` in `role` among `endpoints` (2.1.1 endpoints carry no role: the
/// module's one endpoint then).
pub fn url_of(endpoints: &[Endpoint], module: ModuleId, role: InterfaceRole) -> String {
    endpoints
        .iter()
        .find(|e| e.identifier == module && e.role == role)
        .or_else(|| endpoints.iter().find(|e| e.identifier == module))
        .unwrap_or_else(|| panic!("no {module} endpoint"))
        .url
        .0
        .clone()
}

/// An RFID token of party NL MSP.
pub fn token(uid: &str, whitelist: &str, valid: bool) -> Value {
    json!({"country_code": "NL", "party_id": "MSP", "uid": uid, "type": "RFID",
        "contract_id": format!("NL-MSP-C{uid}"), "issuer": "MSP", "valid": valid,
        "whitelist": whitelist, "group_id": "GROUP1", "last_updated": "2024-01-01T00:00:00Z"})
}

/// Connector 1, AC 3-phase 230 V 32 A, with the tariff `tariff`.
pub fn connector(tariff: &str) -> Value {
    json!({"id": "1", "standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_3_PHASE",
        "max_voltage": 230, "max_amperage": 32, "tariff_ids": [tariff]})
}

/// The town hall location with `evses`.
pub fn location(evses: Value) -> Value {
    json!({"name": "Town hall", "address": "Main Street 1", "city": "Utrecht",
        "postal_code": "3511AA", "country": "NLD",
        "coordinates": {"latitude": "52.090736", "longitude": "5.121420"},
        "time_zone": "Europe/Amsterdam", "operator": {"name": "Town Charging"},
        "opening_times": {"twentyfourseven": true}, "evses": evses})
}

/// Every request that reached an eMSP: method, path, JSON body (`Null` when not JSON).
pub type RequestLog = Arc<Mutex<Vec<(String, String, Value)>>>;

/// Reads the body of `req`, records the request in `log`, and gives the request back whole
/// (for a middleware in front of the eMSP's router).
pub async fn log_request(log: &RequestLog, req: axum::extract::Request) -> axum::extract::Request {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    log.lock().unwrap().push((
        parts.method.to_string(),
        parts.uri.path().to_owned(),
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ));
    axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes))
}

/// The bodies of the logged requests with `method` whose path contains `path_part`.
pub fn logged(log: &RequestLog, method: &str, path_part: &str) -> Vec<Value> {
    log.lock()
        .unwrap()
        .iter()
        .filter(|(m, p, _)| m == method && p.contains(path_part))
        .map(|(_, _, b)| b.clone())
        .collect()
}

/// The object the eMSP's server received (Receiver interface) in `module` under `ids`.
pub fn stored(server: &Server<MemoryStorage>, module: ModuleId, ids: &[&str]) -> Option<Value> {
    use ocpi::server::Storage;
    let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    server.storage.get(&module, &InterfaceRole::Receiver, &ids)
}
