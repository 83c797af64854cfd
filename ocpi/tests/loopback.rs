//! Two parties on loopback, for 2.1.1, 2.2.1 and 2.3.0: our eMSP registers with our CPO
//! through the full credentials handshake, then pulls every module with pagination, pushes to
//! the CPO's Receiver interfaces, sends commands and charging profile requests whose
//! asynchronous results the CPO POSTs back to the eMSP's `response_url`s, and exchanges
//! ClientInfo objects; negative tests for the status codes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ocpi::client::{Client, ClientError};
use ocpi::credentials::{Registration, Registry};
use ocpi::handlers::{
    ChargingProfileAsyncResult, ChargingProfileResultKind, ChargingProfilesReceiver,
    ChargingProfilesSender, CommandRequest, CommandsReceiver, CommandsSender, Handlers,
    RequestContext,
};
use ocpi::server::{router, MemoryStorage, Server, ServerConfig, Storage};
use ocpi::transport::{authorization_header, OcpiError, PageQuery, StatusCode, TokenEncoding};
use ocpi::v221::*;
use ocpi::validate::Validate;
use ocpi::{convert, v211, v230};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tokio::sync::mpsc;

fn role(r: &str, cc: &str, pid: &str) -> CredentialsRole {
    serde_json::from_value(json!({"role": r, "party_id": pid, "country_code": cc, "business_details": {"name": format!("{pid} {r}")}})).unwrap()
}

// ---------------------------------------------------------------- fixtures (2.2.1 form)

fn location(i: usize) -> Value {
    json!({
        "country_code": "NL", "party_id": "CPO", "id": format!("LOC{i}"), "publish": true,
        "address": "Street 1", "city": "Utrecht", "postal_code": "3511 AB", "country": "NLD",
        "coordinates": {"latitude": "52.090736", "longitude": "5.121420"},
        "evses": [{"uid": format!("EVSE{i}"), "status": "AVAILABLE", "connectors": [{
            "id": "1", "standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_3_PHASE",
            "max_voltage": 230, "max_amperage": 16, "tariff_ids": ["T1"], "last_updated": "2024-01-01T00:00:00Z"}],
            "last_updated": "2024-01-01T00:00:00Z"}],
        "time_zone": "Europe/Amsterdam",
        "last_updated": format!("2024-01-{:02}T00:00:00Z", i + 1)
    })
}

fn tariff(i: usize) -> Value {
    json!({"country_code": "NL", "party_id": "CPO", "id": format!("T{i}"), "currency": "EUR",
        "elements": [{"price_components": [{"type": "ENERGY", "price": 0.25, "vat": 21.0, "step_size": 1}]}],
        "last_updated": "2024-01-01T00:00:00Z"})
}

fn cdr_token() -> Value {
    json!({"country_code": "NL", "party_id": "MSP", "uid": "012345678", "type": "RFID", "contract_id": "NL-MSP-C12345678-X"})
}

fn session(i: usize) -> Value {
    json!({"country_code": "NL", "party_id": "CPO", "id": format!("S{i}"), "start_date_time": "2024-01-01T10:00:00Z",
        "kwh": 11.5, "cdr_token": cdr_token(), "auth_method": "WHITELIST", "location_id": "LOC0", "evse_uid": "EVSE0",
        "connector_id": "1", "currency": "EUR", "status": "ACTIVE", "last_updated": "2024-01-01T11:00:00Z"})
}

fn cdr(i: usize) -> Value {
    json!({"country_code": "NL", "party_id": "CPO", "id": format!("C{i}"), "start_date_time": "2024-01-01T10:00:00Z",
        "end_date_time": "2024-01-01T12:00:00Z", "cdr_token": cdr_token(), "auth_method": "WHITELIST",
        "cdr_location": {"id": "LOC0", "address": "Street 1", "city": "Utrecht", "postal_code": "3511 AB", "country": "NLD",
            "coordinates": {"latitude": "52.090736", "longitude": "5.121420"}, "evse_uid": "EVSE0",
            "evse_id": "NL*CPO*E0", "connector_id": "1", "connector_standard": "IEC_62196_T2",
            "connector_format": "SOCKET", "connector_power_type": "AC_3_PHASE"},
        "currency": "EUR", "charging_periods": [{"start_date_time": "2024-01-01T10:00:00Z",
            "dimensions": [{"type": "ENERGY", "volume": 20}, {"type": "TIME", "volume": 2}]}],
        "total_cost": {"excl_vat": 5.0, "incl_vat": 6.05}, "total_energy": 20, "total_time": 2,
        "last_updated": "2024-01-01T12:00:00Z"})
}

fn token(i: usize) -> Value {
    json!({"country_code": "NL", "party_id": "MSP", "uid": format!("TOK{i}"), "type": "RFID",
        "contract_id": format!("NL-MSP-C{i}"), "issuer": "MSP", "valid": true, "whitelist": "ALLOWED",
        "last_updated": "2024-01-01T00:00:00Z"})
}

fn v<T: serde::Serialize>(t: T) -> Value {
    serde_json::to_value(t).unwrap()
}

fn typed<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

/// A fixture in the form of `version` (converted from 2.2.1 by the crate's conversions).
fn in_version(version: &VersionNumber, module: &ModuleId, obj: Value) -> Value {
    use ModuleId as M;
    match version {
        VersionNumber::V2_2_1 => obj,
        VersionNumber::V2_3_0 => match module {
            M::Locations => v(convert::location_221_to_230(&typed(obj)).unwrap().value),
            M::Tariffs => v(convert::tariff_221_to_230(&typed(obj)).unwrap().value),
            M::Sessions => v(convert::session_221_to_230(&typed(obj)).unwrap().value),
            M::Cdrs => v(convert::cdr_221_to_230(&typed(obj)).unwrap().value),
            M::Tokens => v(convert::token_221_to_230(&typed(obj)).unwrap().value),
            _ => obj,
        },
        _ => match module {
            M::Locations => v(convert::location_221_to_211(&typed(obj)).unwrap().value),
            M::Tariffs => v(convert::tariff_221_to_211(&typed(obj)).unwrap().value),
            M::Sessions => {
                let loc = convert::location_221_to_211(&typed(location(0)))
                    .unwrap()
                    .value;
                v(convert::session_221_to_211(&typed(obj), &loc)
                    .unwrap()
                    .value)
            }
            M::Cdrs => v(convert::cdr_221_to_211(&typed(obj)).unwrap().value),
            M::Tokens => v(convert::token_221_to_211(&typed(obj)).unwrap().value),
            _ => obj,
        },
    }
}

// ---------------------------------------------------------------- handlers

/// The CPO's commands and charging profiles: known locations and sessions; every accepted
/// request is answered asynchronously at its `response_url`.
struct Cpo {
    locations: Vec<String>,
    sessions: Vec<String>,
}

fn spawn_post<F>(ctx: &RequestContext, f: impl FnOnce(Client, VersionNumber) -> F)
where
    F: std::future::Future<Output = Result<(), ClientError>> + Send + 'static,
{
    let client = ctx.client().expect("the caller is registered");
    let fut = f(client, ctx.version.clone());
    tokio::spawn(async move {
        fut.await.expect("posting the asynchronous result");
    });
}

fn accepted(timeout: u32) -> CommandResponse {
    CommandResponse {
        result: CommandResponseType::Accepted,
        timeout,
        message: vec![],
        extra: Default::default(),
    }
}

fn cp_response(result: ChargingProfileResponseType) -> ChargingProfileResponse {
    ChargingProfileResponse {
        result,
        timeout: 30,
        extra: Default::default(),
    }
}

fn profile() -> ChargingProfile {
    typed(
        json!({"charging_rate_unit": "W", "charging_profile_period": [
        {"start_period": 0, "limit": 11000}, {"start_period": 1800, "limit": 7400.5}]}),
    )
}

impl CommandsReceiver for Cpo {
    fn command(
        &self,
        ctx: &RequestContext,
        request: &CommandRequest,
    ) -> Result<CommandResponse, OcpiError> {
        let result = match request.command {
            CommandType::StartSession | CommandType::UnlockConnector => {
                let loc = request.str_member("location_id").unwrap_or_default();
                if !self.locations.iter().any(|l| l == loc) {
                    return Err(OcpiError::new(
                        200,
                        StatusCode::UNKNOWN_LOCATION,
                        format!("unknown location {loc}"),
                    ));
                }
                CommandResultType::Accepted
            }
            CommandType::StopSession => {
                let s = request.str_member("session_id").unwrap_or_default();
                if !self.sessions.iter().any(|x| x == s) {
                    return Ok(CommandResponse {
                        result: CommandResponseType::UnknownSession,
                        timeout: 0,
                        message: vec![],
                        extra: Default::default(),
                    });
                }
                CommandResultType::Accepted
            }
            // The charge point refuses reservations.
            CommandType::ReserveNow => CommandResultType::Rejected,
            _ => return Ok(ocpi::handlers::command_not_supported()),
        };
        let url = request.response_url.clone();
        spawn_post(ctx, move |client, version| async move {
            let r = CommandResult {
                result,
                message: vec![],
                extra: Default::default(),
            };
            client.post_command_result(&url, &version, &r).await
        });
        Ok(accepted(30))
    }
}

impl ChargingProfilesReceiver for Cpo {
    fn get_active_profile(
        &self,
        ctx: &RequestContext,
        session_id: &str,
        duration: u32,
        response_url: &str,
    ) -> Result<ChargingProfileResponse, OcpiError> {
        if !self.sessions.iter().any(|s| s == session_id) {
            return Ok(cp_response(ChargingProfileResponseType::UnknownSession));
        }
        let url = response_url.to_owned();
        spawn_post(ctx, move |client, _| async move {
            let mut p = profile();
            p.duration = Some(duration);
            let r = ChargingProfileAsyncResult::Active(Box::new(ActiveChargingProfileResult {
                result: ChargingProfileResultType::Accepted,
                profile: Some(ActiveChargingProfile {
                    start_date_time: "2024-01-01T10:00:00Z".parse().unwrap(),
                    charging_profile: p,
                    extra: Default::default(),
                }),
                extra: Default::default(),
            }));
            client.post_charging_profile_result(&url, &r).await
        });
        Ok(cp_response(ChargingProfileResponseType::Accepted))
    }

    fn set_profile(
        &self,
        ctx: &RequestContext,
        session_id: &str,
        request: SetChargingProfile,
    ) -> Result<ChargingProfileResponse, OcpiError> {
        if !self.sessions.iter().any(|s| s == session_id) {
            return Ok(cp_response(ChargingProfileResponseType::UnknownSession));
        }
        let url = request.response_url.0.clone();
        spawn_post(ctx, move |client, _| async move {
            let r = ChargingProfileAsyncResult::Set(ChargingProfileResult {
                result: ChargingProfileResultType::Accepted,
                extra: Default::default(),
            });
            client.post_charging_profile_result(&url, &r).await
        });
        Ok(cp_response(ChargingProfileResponseType::Accepted))
    }

    fn clear_profile(
        &self,
        ctx: &RequestContext,
        _session_id: &str,
        response_url: &str,
    ) -> Result<ChargingProfileResponse, OcpiError> {
        let url = response_url.to_owned();
        spawn_post(ctx, move |client, _| async move {
            let r = ChargingProfileAsyncResult::Clear(ClearProfileResult {
                result: ChargingProfileResultType::Accepted,
                extra: Default::default(),
            });
            client.post_charging_profile_result(&url, &r).await
        });
        Ok(cp_response(ChargingProfileResponseType::Accepted))
    }
}

impl ocpi::handlers::SessionsSender for Cpo {
    fn charging_preferences(
        &self,
        _ctx: &RequestContext,
        _session_id: &str,
        preferences: ChargingPreferences,
    ) -> Result<ChargingPreferencesResponse, OcpiError> {
        Ok(if preferences.energy_need.is_none() {
            ChargingPreferencesResponse::EnergyNeedRequired
        } else {
            ChargingPreferencesResponse::Accepted
        })
    }
}

/// What the eMSP received on its Sender interfaces.
#[derive(Debug)]
enum Received {
    /// Command, id of the response URL, result, `X-Correlation-ID` of the result's POST.
    Command(CommandType, String, CommandResult, Option<String>),
    Profile(String, ChargingProfileAsyncResult),
    ActiveProfile(String, ActiveChargingProfile),
}

struct Emsp {
    tx: Mutex<mpsc::UnboundedSender<Received>>,
}

impl Emsp {
    fn send(&self, r: Received) {
        let _ = self.tx.lock().unwrap().send(r);
    }
}

impl CommandsSender for Emsp {
    fn command_result(
        &self,
        ctx: &RequestContext,
        command: &CommandType,
        id: &str,
        result: CommandResult,
    ) -> Result<(), OcpiError> {
        self.send(Received::Command(
            command.clone(),
            id.to_owned(),
            result,
            ctx.correlation_id.clone(),
        ));
        Ok(())
    }
}

impl ocpi::handlers::TokensSender for Emsp {
    /// TOK0 is authorized real-time only for a known location: without one, 2002.
    fn authorize(
        &self,
        _ctx: &RequestContext,
        token: &Value,
        location: Option<&Value>,
    ) -> Result<ocpi::handlers::Authorization, OcpiError> {
        if token["uid"] == "TOK0" && location.is_none() {
            return Err(OcpiError::new(
                200,
                StatusCode::NOT_ENOUGH_INFORMATION,
                "TOK0 needs the location",
            ));
        }
        let valid = token["valid"].as_bool().unwrap_or(false);
        Ok(ocpi::handlers::Authorization {
            allowed: if valid {
                AllowedType::Allowed
            } else {
                AllowedType::Blocked
            },
            authorization_reference: Some("AUTH-1".into()),
            info: None,
        })
    }
}

impl ChargingProfilesSender for Emsp {
    fn profile_result(
        &self,
        _ctx: &RequestContext,
        id: &str,
        result: ChargingProfileAsyncResult,
    ) -> Result<(), OcpiError> {
        self.send(Received::Profile(id.to_owned(), result));
        Ok(())
    }

    fn active_profile_changed(
        &self,
        _ctx: &RequestContext,
        session_id: &str,
        profile: ActiveChargingProfile,
    ) -> Result<(), OcpiError> {
        self.send(Received::ActiveProfile(session_id.to_owned(), profile));
        Ok(())
    }
}

// ---------------------------------------------------------------- the two parties

async fn serve<S: Storage>(server: Arc<Server<S>>, listener: tokio::net::TcpListener) {
    let app = router(server);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
}

const SENDER: InterfaceRole = InterfaceRole::Sender;
const RECEIVER: InterfaceRole = InterfaceRole::Receiver;

struct Parties {
    version: VersionNumber,
    cpo: Arc<Server<MemoryStorage>>,
    emsp: Arc<Server<MemoryStorage>>,
    cpo_base: String,
    emsp_base: String,
    token_a: String,
    received: mpsc::UnboundedReceiver<Received>,
}

fn all_modules(role: InterfaceRole) -> Vec<(ModuleId, InterfaceRole)> {
    use ModuleId as M;
    [
        M::Locations,
        M::Sessions,
        M::Cdrs,
        M::Tariffs,
        M::Tokens,
        M::Commands,
        M::ChargingProfiles,
        M::HubClientInfo,
    ]
    .into_iter()
    .map(|m| (m, role.clone()))
    .collect()
}

fn client_info(cc: &str, pid: &str, r: &str, status: &str) -> Value {
    json!({"country_code": cc, "party_id": pid, "role": r, "status": status,
        "last_updated": "2024-01-01T00:00:00Z"})
}

async fn start(version: VersionNumber) -> Parties {
    let l_cpo = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let l_emsp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cpo_base = format!("http://{}/ocpi", l_cpo.local_addr().unwrap());
    let emsp_base = format!("http://{}/ocpi", l_emsp.local_addr().unwrap());
    let vv = |m: ModuleId, o: Value| in_version(&version, &m, o);

    // The CPO: Sender of locations, sessions, CDRs and tariffs; Receiver of the rest.
    let storage = MemoryStorage::new();
    for i in 0..5 {
        let id = vec![format!("LOC{i}")];
        storage.put(
            &ModuleId::Locations,
            &SENDER,
            id,
            vv(ModuleId::Locations, location(i)),
        );
    }
    for i in 0..3 {
        let t = vv(ModuleId::Tariffs, tariff(i));
        storage.put(&ModuleId::Tariffs, &SENDER, vec![format!("T{i}")], t);
        let c = vv(ModuleId::Cdrs, cdr(i));
        storage.put(&ModuleId::Cdrs, &SENDER, vec![format!("C{i}")], c);
    }
    for i in 0..4 {
        let s = vv(ModuleId::Sessions, session(i));
        storage.put(&ModuleId::Sessions, &SENDER, vec![format!("S{i}")], s);
    }
    let mut registry = Registry::new();
    let (_, token_a) = registry.issue_token_a();
    let cpo_handlers = Arc::new(Cpo {
        locations: (0..5).map(|i| format!("LOC{i}")).collect(),
        sessions: (0..4).map(|i| format!("S{i}")).collect(),
    });
    let mut modules: Vec<_> = all_modules(SENDER).into_iter().take(4).collect();
    modules.extend(all_modules(RECEIVER).into_iter().skip(4));
    let cpo = Server::with_handlers(
        ServerConfig {
            base_url: cpo_base.clone(),
            versions: vec![version.clone()],
            modules,
            roles: vec![role("CPO", "NL", "CPO")],
            tolerant_token_encoding: false,
            max_limit: 2,
            storage_version: None,
        },
        storage,
        registry,
        Handlers {
            commands_receiver: cpo_handlers.clone(),
            charging_profiles_receiver: cpo_handlers.clone(),
            sessions_sender: cpo_handlers,
            ..Default::default()
        },
    );
    serve(cpo.clone(), l_cpo).await;

    // The eMSP accepts TOKEN_B, which it hands to the CPO in its credentials. Sender of tokens,
    // commands (results), charging profiles (results) and client info; Receiver of the rest.
    let emsp_storage = MemoryStorage::new();
    for i in 0..3 {
        let mut t = token(i);
        t["valid"] = json!(i != 2);
        let t = vv(ModuleId::Tokens, t);
        emsp_storage.put(&ModuleId::Tokens, &SENDER, vec![format!("TOK{i}")], t);
    }
    for (i, pid) in ["CPO", "CP2", "CP3"].iter().enumerate() {
        let status = if i == 2 { "PLANNED" } else { "CONNECTED" };
        emsp_storage.put(
            &ModuleId::HubClientInfo,
            &SENDER,
            vec!["NL".into(), pid.to_string()],
            client_info("NL", pid, "CPO", status),
        );
    }
    let mut emsp_registry = Registry::new();
    emsp_registry.add_registered_peer(
        "token-b-for-the-cpo",
        Registration {
            version: version.clone(),
            token_b: String::new(),
            versions_url: format!("{cpo_base}/versions"),
            endpoints: vec![],
            roles: vec![role("CPO", "NL", "CPO")],
        },
    );
    let (tx, received) = mpsc::unbounded_channel();
    let emsp_handlers = Arc::new(Emsp { tx: Mutex::new(tx) });
    let mut modules: Vec<_> = all_modules(RECEIVER).into_iter().take(4).collect();
    modules.extend(all_modules(SENDER).into_iter().skip(4));
    let emsp = Server::with_handlers(
        ServerConfig {
            base_url: emsp_base.clone(),
            versions: vec![version.clone()],
            modules,
            roles: vec![role("EMSP", "NL", "MSP")],
            tolerant_token_encoding: false,
            max_limit: 2,
            storage_version: None,
        },
        emsp_storage,
        emsp_registry,
        Handlers {
            commands_sender: emsp_handlers.clone(),
            tokens_sender: emsp_handlers.clone(),
            charging_profiles_sender: emsp_handlers,
            ..Default::default()
        },
    );
    serve(emsp.clone(), l_emsp).await;
    Parties {
        version,
        cpo,
        emsp,
        cpo_base,
        emsp_base,
        token_a,
        received,
    }
}

fn emsp_credentials(p: &Parties) -> Credentials {
    Credentials {
        token: "token-b-for-the-cpo".into(),
        url: format!("{}/versions", p.emsp_base).into(),
        roles: vec![role("EMSP", "NL", "MSP")],
        extra: Default::default(),
    }
}

async fn next_received(p: &mut Parties) -> Received {
    tokio::time::timeout(Duration::from_secs(20), p.received.recv())
        .await
        .expect("an asynchronous result within 20 s")
        .expect("channel open")
}

/// Pulls a whole module as `T`, validating every object; returns the objects and pages.
async fn pull<T: DeserializeOwned + Validate>(
    client: &Client,
    url: &str,
    q: &PageQuery,
) -> (Vec<T>, usize) {
    let (all, pages): (Vec<T>, usize) = client.get_all(url, q).await.unwrap();
    for o in &all {
        o.validate().unwrap();
    }
    (all, pages)
}

fn endpoint(eps: &[Endpoint], m: ModuleId, r: InterfaceRole) -> String {
    eps.iter()
        .find(|e| e.identifier == m && e.role == r)
        .map(|e| e.url.0.clone())
        .unwrap_or_else(|| panic!("no {m} {r} endpoint"))
}

async fn handshake_and_pull(version: VersionNumber) {
    let mut p = start(version.clone()).await;
    let cpo_versions = format!("{}/versions", p.cpo_base);
    let reg = Client::register(
        &p.token_a,
        &cpo_versions,
        std::slice::from_ref(&version),
        &emsp_credentials(&p),
    )
    .await
    .unwrap();
    assert_eq!(reg.version, version);
    assert_ne!(reg.token_c, p.token_a);
    assert_eq!(reg.peer.roles[0].role, Role::Cpo);
    let v211 = version == VersionNumber::V2_1_1;
    // 2.1.1 has no charging profiles and no hub client info: not in the version details.
    assert_eq!(
        reg.endpoints
            .iter()
            .any(|e| e.identifier == ModuleId::ChargingProfiles),
        !v211
    );
    // the CPO fetched our endpoints with TOKEN_B during the POST
    {
        let r = p.cpo.registry.lock().unwrap();
        let caller = r
            .authenticate(&reg.token_c, ocpi::credentials::Scope::Module)
            .unwrap();
        match &r.peer(caller.peer).unwrap().state {
            ocpi::credentials::PeerState::Registered(x) => {
                assert!(x.endpoints.iter().any(|e| e.identifier == ModuleId::Tokens));
                assert_eq!(x.token_b, "token-b-for-the-cpo");
            }
            s => panic!("not registered: {s:?}"),
        }
    }

    let client = Client::new(reg.token_c.clone(), ocpi::server::encoding_of(&version));
    let url = |m: ModuleId| endpoint(&reg.endpoints, m, SENDER);
    let q = PageQuery::default();

    // Every Sender module of the CPO, in pages of 2, typed in the version's own form.
    match version {
        VersionNumber::V2_2_1 => {
            let (l, pages) = pull::<Location>(&client, &url(ModuleId::Locations), &q).await;
            assert_eq!((l.len(), pages), (5, 3), "5 locations in pages of 2");
            assert_eq!(l[4].id.0, "LOC4");
            let (t, _) = pull::<Tariff>(&client, &url(ModuleId::Tariffs), &q).await;
            assert_eq!(t.len(), 3);
            let (s, pages) = pull::<Session>(&client, &url(ModuleId::Sessions), &q).await;
            assert_eq!((s.len(), pages), (4, 2));
            let (c, _) = pull::<Cdr>(&client, &url(ModuleId::Cdrs), &q).await;
            assert_eq!(c.len(), 3);
            assert_eq!(c[0].total_cost.incl_vat.unwrap().to_string(), "6.05");
        }
        VersionNumber::V2_3_0 => {
            let (l, pages) = pull::<v230::Location>(&client, &url(ModuleId::Locations), &q).await;
            assert_eq!((l.len(), pages), (5, 3), "5 locations in pages of 2");
            assert_eq!(l[4].id.0, "LOC4");
            let (t, _) = pull::<v230::Tariff>(&client, &url(ModuleId::Tariffs), &q).await;
            assert_eq!(t.len(), 3);
            assert_eq!(t[0].tax_included, Some(v230::TaxIncluded::No));
            let (s, pages) = pull::<v230::Session>(&client, &url(ModuleId::Sessions), &q).await;
            assert_eq!((s.len(), pages), (4, 2));
            let (c, _) = pull::<v230::Cdr>(&client, &url(ModuleId::Cdrs), &q).await;
            assert_eq!(c.len(), 3);
            // 2.3.0 Price: before_taxes and the list of taxes
            assert_eq!(c[0].total_cost.before_taxes.unwrap().to_string(), "5.0");
            assert_eq!(v(&c[0].total_cost)["taxes"][0]["amount"], json!(1.05));
        }
        _ => {
            let (l, pages) = pull::<v211::Location>(&client, &url(ModuleId::Locations), &q).await;
            assert_eq!((l.len(), pages), (5, 3), "5 locations in pages of 2");
            let (t, _) = pull::<v211::Tariff>(&client, &url(ModuleId::Tariffs), &q).await;
            assert_eq!(t.len(), 3);
            let (s, pages) = pull::<v211::Session>(&client, &url(ModuleId::Sessions), &q).await;
            assert_eq!((s.len(), pages), (4, 2));
            let (c, _) = pull::<v211::Cdr>(&client, &url(ModuleId::Cdrs), &q).await;
            assert_eq!(c.len(), 3);
            assert_eq!(c[0].total_cost.to_string(), "5.0");
        }
    }
    // date filter: locations updated from Jan 3 on: LOC2..LOC4
    let q = PageQuery {
        date_from: Some("2024-01-03T00:00:00Z".parse().unwrap()),
        ..Default::default()
    };
    let (locs, _): (Vec<Value>, _) = client.get_all(&url(ModuleId::Locations), &q).await.unwrap();
    assert_eq!(locs.len(), 3);
    // single object, EVSE and connector
    let one: Value = client
        .get_object(&url(ModuleId::Locations), &["LOC3", "EVSE3", "1"])
        .await
        .unwrap();
    assert_eq!(one["standard"], "IEC_62196_T2");

    // Receiver interface of the CPO: the eMSP pushes a token, patches it, reads it back.
    let tokens = endpoint(&reg.endpoints, ModuleId::Tokens, RECEIVER);
    let tok9 = in_version(&version, &ModuleId::Tokens, token(9));
    let path = ["NL", "MSP", "TOK9"];
    assert_eq!(client.put_object(&tokens, &path, &tok9).await.unwrap(), 201);
    assert_eq!(client.put_object(&tokens, &path, &tok9).await.unwrap(), 200);
    let patch = json!({"valid": false, "last_updated": "2024-02-01T00:00:00Z"});
    client.patch_object(&tokens, &path, &patch).await.unwrap();
    let back: Value = client.get_object(&tokens, &path).await.unwrap();
    assert_eq!(back["valid"], false);
    // PATCH without last_updated: 2001
    let e = client
        .patch_object(&tokens, &path, &json!({"valid": true}))
        .await
        .unwrap_err();
    assert_eq!(e.status_code(), Some(StatusCode::INVALID_PARAMETERS));
    // The CPO pushes a location to the eMSP's Receiver interface.
    let emsp_locations = p.emsp.module_url(&version, &ModuleId::Locations, &RECEIVER);
    let cpo_client = Client::new("token-b-for-the-cpo", ocpi::server::encoding_of(&version));
    let loc7 = in_version(&version, &ModuleId::Locations, location(7));
    assert_eq!(
        cpo_client
            .put_object(&emsp_locations, &["NL", "CPO", "LOC7"], &loc7)
            .await
            .unwrap(),
        201
    );
    let evse: Value = cpo_client
        .get_object(&emsp_locations, &["NL", "CPO", "LOC7", "EVSE7"])
        .await
        .unwrap();
    assert_eq!(evse["status"], "AVAILABLE");
    // A connector PATCHed: its EVSE and location take its last_updated.
    let patch = json!({"max_amperage": 32, "last_updated": "2024-05-01T00:00:00Z"});
    cpo_client
        .patch_object(
            &emsp_locations,
            &["NL", "CPO", "LOC7", "EVSE7", "1"],
            &patch,
        )
        .await
        .unwrap();
    let loc: Value = cpo_client
        .get_object(&emsp_locations, &["NL", "CPO", "LOC7"])
        .await
        .unwrap();
    assert_eq!(loc["last_updated"], "2024-05-01T00:00:00Z");
    assert_eq!(loc["evses"][0]["last_updated"], "2024-05-01T00:00:00Z");
    assert_eq!(loc["evses"][0]["connectors"][0]["max_amperage"], 32);
    // An EVSE PUT: the location takes its last_updated.
    let mut evse8 = loc["evses"][0].clone();
    evse8["uid"] = json!("EVSE8");
    evse8["last_updated"] = json!("2024-06-01T00:00:00Z");
    assert_eq!(
        cpo_client
            .put_object(&emsp_locations, &["NL", "CPO", "LOC7", "EVSE8"], &evse8)
            .await
            .unwrap(),
        201
    );
    let loc: Value = cpo_client
        .get_object(&emsp_locations, &["NL", "CPO", "LOC7"])
        .await
        .unwrap();
    assert_eq!(loc["last_updated"], "2024-06-01T00:00:00Z");
    assert_eq!(loc["evses"].as_array().unwrap().len(), 2);

    // Locations are not removed (PATCH them to REMOVED): 405; tariffs are.
    let e = cpo_client
        .delete_object(&emsp_locations, &["NL", "CPO", "LOC7"])
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), Some(405));
    let emsp_tariffs = p.emsp.module_url(&version, &ModuleId::Tariffs, &RECEIVER);
    let t7 = in_version(&version, &ModuleId::Tariffs, tariff(7));
    let path = ["NL", "CPO", "T7"];
    assert_eq!(
        cpo_client
            .put_object(&emsp_tariffs, &path, &t7)
            .await
            .unwrap(),
        201
    );
    let patch = json!({"currency": "USD", "last_updated": "2024-02-01T00:00:00Z"});
    let patched = cpo_client.patch_object(&emsp_tariffs, &path, &patch).await;
    if v211 {
        patched.unwrap();
    } else {
        assert_eq!(patched.unwrap_err().http_status(), Some(405));
    }
    assert_eq!(
        cpo_client
            .delete_object(&emsp_tariffs, &path)
            .await
            .unwrap(),
        200
    );
    let e = cpo_client
        .get_object::<Value>(&emsp_tariffs, &path)
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), Some(404));

    // The CPO calls the eMSP with TOKEN_B and pulls its tokens (pages of 2).
    let (toks, pages): (Vec<Value>, _) = cpo_client
        .get_all(
            &p.emsp.module_url(&version, &ModuleId::Tokens, &SENDER),
            &PageQuery::default(),
        )
        .await
        .unwrap();
    assert_eq!((toks.len(), pages), (3, 2));

    // Commands: START_SESSION accepted, the result arrives at the eMSP's response_url.
    let commands = endpoint(&reg.endpoints, ModuleId::Commands, RECEIVER);
    let response_url = p
        .emsp
        .command_response_url(&version, &CommandType::StartSession, "req-1");
    let tok0 = in_version(&version, &ModuleId::Tokens, token(0));
    let mut start = json!({"response_url": response_url, "token": tok0, "location_id": "LOC1",
        "evse_uid": "EVSE1"});
    if !v211 {
        start["connector_id"] = json!("1");
    }
    let answer = client
        .clone()
        .with_correlation_id("corr-start")
        .send_command(&commands, &CommandType::StartSession, &start)
        .await
        .unwrap();
    assert_eq!(answer.result, CommandResponseType::Accepted);
    assert_eq!(answer.timeout, if v211 { 0 } else { 30 });
    match next_received(&mut p).await {
        Received::Command(c, id, r, correlation) => {
            assert_eq!((c, id.as_str()), (CommandType::StartSession, "req-1"));
            assert_eq!(r.result, CommandResultType::Accepted);
            // the result's POST carries the correlation id of the command
            assert_eq!(correlation.as_deref(), Some("corr-start"));
        }
        other => panic!("unexpected {other:?}"),
    }
    // RESERVE_NOW: accepted by the CPO, rejected by the charge point (asynchronously).
    let response_url = p
        .emsp
        .command_response_url(&version, &CommandType::ReserveNow, "req-2");
    let reserve = json!({"response_url": response_url, "token": tok0,
        "expiry_date": "2024-01-01T12:00:00Z", "reservation_id": if v211 { json!(7) } else { json!("R7") },
        "location_id": "LOC2"});
    let answer = client
        .send_command(&commands, &CommandType::ReserveNow, &reserve)
        .await
        .unwrap();
    assert_eq!(answer.result, CommandResponseType::Accepted);
    match next_received(&mut p).await {
        Received::Command(c, id, r, _) => {
            assert_eq!((c, id.as_str()), (CommandType::ReserveNow, "req-2"));
            assert_eq!(r.result, CommandResultType::Rejected);
        }
        other => panic!("unexpected {other:?}"),
    }
    // STOP_SESSION of an unknown session: UNKNOWN_SESSION, synchronously, no result follows.
    let stop = json!({"response_url": p.emsp.command_response_url(&version, &CommandType::StopSession, "req-3"),
        "session_id": "NOPE"});
    let answer = client
        .send_command(&commands, &CommandType::StopSession, &stop)
        .await
        .unwrap();
    assert_eq!(answer.result, CommandResponseType::UnknownSession);
    // START_SESSION at an unknown location: HTTP 200 with 2003.
    start["location_id"] = json!("LOC99");
    let e = client
        .send_command(&commands, &CommandType::StartSession, &start)
        .await
        .unwrap_err();
    assert_eq!(
        (e.http_status(), e.status_code()),
        (Some(200), Some(StatusCode::UNKNOWN_LOCATION))
    );
    // A body without response_url: HTTP 200 with 2001.
    let e = client
        .send_command(
            &commands,
            &CommandType::StopSession,
            &json!({"session_id": "S1"}),
        )
        .await
        .unwrap_err();
    assert_eq!(
        (e.http_status(), e.status_code()),
        (Some(200), Some(StatusCode::INVALID_PARAMETERS))
    );
    // CANCEL_RESERVATION is not handled by this CPO: NOT_SUPPORTED (2.1.1 has no such command).
    let cancel = json!({"response_url": p.emsp.command_response_url(&version, &CommandType::CancelReservation, "req-4"),
        "reservation_id": "R7"});
    let answer = client
        .send_command(&commands, &CommandType::CancelReservation, &cancel)
        .await
        .unwrap();
    assert_eq!(answer.result, CommandResponseType::NotSupported);
    // A command this version does not define (2.3.0's CommandType is open): NOT_SUPPORTED.
    let answer = client
        .send_command(
            &commands,
            &CommandType::Unknown("OPEN_LID".into()),
            &json!({"response_url": "http://127.0.0.1:9/x"}),
        )
        .await
        .unwrap();
    assert_eq!(answer.result, CommandResponseType::NotSupported);

    // Real-time authorization: the CPO asks the eMSP about its tokens.
    let emsp_tokens = endpoint(
        &p.cpo_registration(&reg.token_c).endpoints,
        ModuleId::Tokens,
        SENDER,
    );
    let at = json!({"location_id": "LOC1", "evse_uids": ["EVSE1"]});
    let info: Value = cpo_client
        .authorize_token(&emsp_tokens, "TOK1", "RFID", Some(&at))
        .await
        .unwrap();
    assert_eq!(info["allowed"], "ALLOWED");
    assert_eq!(info["location"], at);
    match version {
        VersionNumber::V2_1_1 => {
            let i: v211::AuthorizationInfo = typed(info);
            i.validate().unwrap();
        }
        VersionNumber::V2_2_1 => {
            let i: AuthorizationInfo = typed(info);
            i.validate().unwrap();
            assert_eq!(i.token.uid.0, "TOK1");
        }
        _ => {
            let i: v230::AuthorizationInfo = typed(info);
            i.validate().unwrap();
            assert_eq!(i.token.uid.0, "TOK1");
        }
    }
    let info: Value = cpo_client
        .authorize_token::<_, Value>(&emsp_tokens, "TOK2", "RFID", None)
        .await
        .unwrap();
    assert_eq!(info["allowed"], "BLOCKED");
    // 2.1.1 has no authorization_reference
    assert_eq!(info.get("authorization_reference").is_some(), !v211);
    // not enough information: HTTP 200 with 2002
    let e = cpo_client
        .authorize_token::<Value, Value>(&emsp_tokens, "TOK0", "RFID", None)
        .await
        .unwrap_err();
    assert_eq!(
        (e.http_status(), e.status_code()),
        (Some(200), Some(StatusCode::NOT_ENOUGH_INFORMATION))
    );
    for (uid, ty) in [("NOPE", "RFID"), ("TOK1", "APP_USER")] {
        let e = cpo_client
            .authorize_token::<Value, Value>(&emsp_tokens, uid, ty, None)
            .await
            .unwrap_err();
        assert_eq!(
            (e.http_status(), e.status_code()),
            (Some(404), Some(StatusCode::UNKNOWN_TOKEN))
        );
    }

    // CDRs: the CPO POSTs a CDR to the eMSP and reads it back at the URL it is given.
    let emsp_cdrs = endpoint(
        &p.cpo_registration(&reg.token_c).endpoints,
        ModuleId::Cdrs,
        RECEIVER,
    );
    let c9 = in_version(&version, &ModuleId::Cdrs, cdr(9));
    let at = cpo_client.post_cdr(&emsp_cdrs, &c9).await.unwrap();
    assert!(at.ends_with("/NL/CPO/C9"), "{at}");
    let back: Value = cpo_client.get(&at).await.unwrap();
    assert_eq!(back, c9);
    // the same CDR again: 200 with the same URL; a different one with that id: 2001
    let r = cpo_client
        .request::<Value, Value>(reqwest::Method::POST, &emsp_cdrs, Some(&c9))
        .await
        .unwrap();
    assert_eq!((r.status, r.location.as_deref()), (200, Some(at.as_str())));
    let mut other = c9.clone();
    other["total_energy"] = json!(21);
    let e = cpo_client.post_cdr(&emsp_cdrs, &other).await.unwrap_err();
    assert_eq!(e.status_code(), Some(StatusCode::INVALID_PARAMETERS));
    // CDRs cannot be replaced: 405
    let e = cpo_client
        .put_object(&emsp_cdrs, &["NL", "CPO", "C9"], &c9)
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), Some(405));

    if v211 {
        return unregister(&p, &client, &reg).await;
    }

    // Charging preferences for a session of the CPO.
    let sessions = url(ModuleId::Sessions);
    let prefs: ChargingPreferences = typed(json!({"profile_type": "REGULAR", "energy_need": 20.5}));
    let r = client
        .set_charging_preferences(&sessions, "S1", &prefs)
        .await
        .unwrap();
    assert_eq!(r, ChargingPreferencesResponse::Accepted);
    let prefs: ChargingPreferences = typed(json!({"profile_type": "FAST"}));
    let r = client
        .set_charging_preferences(&sessions, "S1", &prefs)
        .await
        .unwrap();
    assert_eq!(r, ChargingPreferencesResponse::EnergyNeedRequired);
    let e = client
        .set_charging_preferences(&sessions, "S99", &prefs)
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), Some(404));

    // Charging profiles: PUT, GET and DELETE with their asynchronous results.
    let cps = endpoint(&reg.endpoints, ModuleId::ChargingProfiles, RECEIVER);
    let set = SetChargingProfile {
        charging_profile: profile(),
        response_url: p
            .emsp
            .charging_profile_response_url(&version, ChargingProfileResultKind::Set, "cp-1")
            .into(),
        extra: Default::default(),
    };
    let r = client.set_charging_profile(&cps, "S1", &set).await.unwrap();
    assert_eq!(r.result, ChargingProfileResponseType::Accepted);
    match next_received(&mut p).await {
        Received::Profile(id, ChargingProfileAsyncResult::Set(r)) => {
            assert_eq!(id, "cp-1");
            assert_eq!(r.result, ChargingProfileResultType::Accepted);
        }
        other => panic!("unexpected {other:?}"),
    }
    let r = client
        .set_charging_profile(&cps, "S99", &set)
        .await
        .unwrap();
    assert_eq!(r.result, ChargingProfileResponseType::UnknownSession);
    let active_url =
        p.emsp
            .charging_profile_response_url(&version, ChargingProfileResultKind::Active, "cp-2");
    let r = client
        .get_active_charging_profile(&cps, "S2", 900, &active_url)
        .await
        .unwrap();
    assert_eq!(r.result, ChargingProfileResponseType::Accepted);
    match next_received(&mut p).await {
        Received::Profile(id, ChargingProfileAsyncResult::Active(r)) => {
            assert_eq!(id, "cp-2");
            let prof = r.profile.unwrap().charging_profile;
            assert_eq!(prof.duration, Some(900));
            assert_eq!(prof.charging_profile_period[1].limit.to_string(), "7400.5");
        }
        other => panic!("unexpected {other:?}"),
    }
    let clear_url =
        p.emsp
            .charging_profile_response_url(&version, ChargingProfileResultKind::Clear, "cp-3");
    let r = client
        .clear_charging_profile(&cps, "S1", &clear_url)
        .await
        .unwrap();
    assert_eq!(r.result, ChargingProfileResponseType::Accepted);
    match next_received(&mut p).await {
        Received::Profile(id, ChargingProfileAsyncResult::Clear(r)) => {
            assert_eq!(id, "cp-3");
            assert_eq!(r.result, ChargingProfileResultType::Accepted);
        }
        other => panic!("unexpected {other:?}"),
    }
    // The CPO tells the eMSP that the active profile of S1 changed (Sender interface PUT).
    let emsp_cps = endpoint(
        &p.cpo_registration(&reg.token_c).endpoints,
        ModuleId::ChargingProfiles,
        SENDER,
    );
    let active = ActiveChargingProfile {
        start_date_time: "2024-01-01T10:30:00Z".parse().unwrap(),
        charging_profile: profile(),
        extra: Default::default(),
    };
    cpo_client
        .put_active_charging_profile(&emsp_cps, "S1", &active)
        .await
        .unwrap();
    match next_received(&mut p).await {
        Received::ActiveProfile(s, a) => assert_eq!((s.as_str(), a), ("S1", active)),
        other => panic!("unexpected {other:?}"),
    }
    // GET without duration: 2001.
    let e = client
        .get::<Value>(&format!("{cps}/S1?response_url=http%3A%2F%2Fx%2Fy"))
        .await
        .unwrap_err();
    assert_eq!(e.status_code(), Some(StatusCode::INVALID_PARAMETERS));

    // Hub client info: pushed to the CPO's Receiver interface, read back; the list pulled
    // from the eMSP's Sender interface with pagination.
    let infos = endpoint(&reg.endpoints, ModuleId::HubClientInfo, RECEIVER);
    let info = client_info("NL", "MSP", "EMSP", "CONNECTED");
    assert_eq!(
        client
            .put_client_info(&infos, "NL", "MSP", &info)
            .await
            .unwrap(),
        201
    );
    let info = client_info("NL", "MSP", "EMSP", "SUSPENDED");
    assert_eq!(
        client
            .put_client_info(&infos, "NL", "MSP", &info)
            .await
            .unwrap(),
        200
    );
    let back: ClientInfo = client.get_client_info(&infos, "NL", "MSP").await.unwrap();
    assert_eq!(back.status, ConnectionStatus::Suspended);
    let e = client
        .get_client_info::<Value>(&infos, "DE", "XXX")
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), Some(404));
    // ClientInfo objects cannot be removed: 405.
    let e = client
        .delete_object(&infos, &["NL", "MSP"])
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), Some(405));
    // a party id that differs from the URL: 2001
    let e = client
        .put_client_info(&infos, "NL", "ABC", &info)
        .await
        .unwrap_err();
    assert_eq!(e.status_code(), Some(StatusCode::INVALID_PARAMETERS));
    let (list, pages) = if version == VersionNumber::V2_3_0 {
        let (l, pages) = pull::<v230::ClientInfo>(
            &cpo_client,
            &p.emsp
                .module_url(&version, &ModuleId::HubClientInfo, &SENDER),
            &PageQuery::default(),
        )
        .await;
        (
            l.into_iter().map(|c| c.party_id.0).collect::<Vec<_>>(),
            pages,
        )
    } else {
        let (l, pages) = pull::<ClientInfo>(
            &cpo_client,
            &p.emsp
                .module_url(&version, &ModuleId::HubClientInfo, &SENDER),
            &PageQuery::default(),
        )
        .await;
        (
            l.into_iter().map(|c| c.party_id.0).collect::<Vec<_>>(),
            pages,
        )
    };
    assert_eq!(
        (list, pages),
        (vec!["CPO".into(), "CP2".into(), "CP3".into()], 2)
    );

    unregister(&p, &client, &reg).await;
}

impl Parties {
    /// What the CPO learned of the eMSP at registration.
    fn cpo_registration(&self, token_c: &str) -> Registration {
        let r = self.cpo.registry.lock().unwrap();
        let caller = r
            .authenticate(token_c, ocpi::credentials::Scope::Module)
            .unwrap();
        match &r.peer(caller.peer).unwrap().state {
            ocpi::credentials::PeerState::Registered(x) => x.clone(),
            s => panic!("not registered: {s:?}"),
        }
    }
}

/// POST again: 405; PUT (update) gives a new TOKEN_C; DELETE unregisters.
async fn unregister(p: &Parties, client: &Client, reg: &ocpi::credentials::initiator::Registered) {
    let version = &p.version;
    let locations = endpoint(&reg.endpoints, ModuleId::Locations, SENDER);
    let creds_url = format!("{}/{}/credentials", p.cpo_base, version);
    let e = client
        .request::<Credentials, Credentials>(
            reqwest::Method::POST,
            &creds_url,
            Some(&emsp_credentials(p)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), Some(405));
    let updated = client
        .update_credentials(&creds_url, version, &emsp_credentials(p))
        .await
        .unwrap();
    assert_ne!(updated.token.0, reg.token_c);
    assert_eq!(updated.roles[0].role, Role::Cpo);
    let e = client.get::<Value>(&locations).await.unwrap_err();
    assert_eq!(
        e.http_status(),
        Some(401),
        "the old TOKEN_C no longer works"
    );
    let client = Client::new(updated.token.0.clone(), ocpi::server::encoding_of(version));
    client.unregister(&creds_url).await.unwrap();
    let e = client.get::<Value>(&locations).await.unwrap_err();
    assert_eq!(e.http_status(), Some(401));
    // DELETE again: the token is revoked, 401.
    let e = client.unregister(&creds_url).await.unwrap_err();
    assert_eq!(e.http_status(), Some(401));
}

#[tokio::test(flavor = "current_thread")]
async fn handshake_and_pull_2_2_1() {
    handshake_and_pull(VersionNumber::V2_2_1).await;
}

#[tokio::test(flavor = "current_thread")]
async fn handshake_and_pull_2_1_1() {
    handshake_and_pull(VersionNumber::V2_1_1).await;
}

#[tokio::test(flavor = "current_thread")]
async fn handshake_and_pull_2_3_0() {
    handshake_and_pull(VersionNumber::V2_3_0).await;
}

// ---------------------------------------------------------------- status codes

async fn raw(method: reqwest::Method, url: &str, auth: Option<String>) -> (u16, Value) {
    raw_body(method, url, auth, None).await
}

async fn raw_body(
    method: reqwest::Method,
    url: &str,
    auth: Option<String>,
    body: Option<&str>,
) -> (u16, Value) {
    let mut rb = reqwest::Client::new().request(method, url);
    if let Some(a) = auth {
        rb = rb.header("Authorization", a);
    }
    if let Some(b) = body {
        rb = rb
            .header("Content-Type", "application/json")
            .body(b.to_owned());
    }
    let r = rb.send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

fn code(v: &Value) -> Option<u64> {
    v["status_code"].as_u64()
}

async fn status_codes(version: VersionNumber) {
    let p = start(version.clone()).await;
    let enc = ocpi::server::encoding_of(&version);
    let auth = |t: &str| Some(authorization_header(t, enc));
    let base = format!("{}/{}", p.cpo_base, version);
    let locs = format!("{base}/sender/locations");
    // no token, unknown token: HTTP 401 (transport_and_format: "the server SHALL respond with
    // an HTTP 401 - Unauthorized"), envelope 2000
    let (s, body) = raw(reqwest::Method::GET, &locs, None).await;
    assert_eq!((s, code(&body)), (401, Some(2000)));
    let (s, body) = raw(reqwest::Method::GET, &locs, auth("wrong")).await;
    assert_eq!((s, code(&body)), (401, Some(2000)));
    // TOKEN_A on a functional module: 401; on versions and version details: fine
    assert_eq!(
        raw(reqwest::Method::GET, &locs, auth(&p.token_a)).await.0,
        401
    );
    let (s, v) = raw(
        reqwest::Method::GET,
        &format!("{}/versions", p.cpo_base),
        auth(&p.token_a),
    )
    .await;
    assert_eq!((s, code(&v)), (200, Some(1000)));
    let (s, v) = raw(
        reqwest::Method::GET,
        &format!("{base}/details"),
        auth(&p.token_a),
    )
    .await;
    assert_eq!((s, code(&v)), (200, Some(1000)));
    // the token in the other encoding, without tolerance: 401
    let other = if enc == TokenEncoding::Raw {
        TokenEncoding::Base64
    } else {
        TokenEncoding::Raw
    };
    let (s, _) = raw(
        reqwest::Method::GET,
        &format!("{base}/details"),
        Some(authorization_header(&p.token_a, other)),
    )
    .await;
    assert_eq!(s, 401);
    // GET credentials: the credentials to access the server, i.e. the token the caller used
    let (s, v) = raw(
        reqwest::Method::GET,
        &format!("{base}/credentials"),
        auth(&p.token_a),
    )
    .await;
    assert_eq!((s, code(&v)), (200, Some(1000)));
    assert_eq!(v["data"]["token"], json!(p.token_a));
    // PUT and DELETE credentials before registration: 405
    for m in [reqwest::Method::PUT, reqwest::Method::DELETE] {
        let (s, _) = raw(m, &format!("{base}/credentials"), auth(&p.token_a)).await;
        assert_eq!(s, 405);
    }
    // unsupported version: 3002
    let (s, v) = raw(
        reqwest::Method::GET,
        &format!("{}/2.0/details", p.cpo_base),
        auth(&p.token_a),
    )
    .await;
    assert_eq!((s, code(&v)), (200, Some(3002)));
    // registration whose versions URL cannot be read: 3001
    let mut creds = emsp_credentials(&p);
    creds.url = "http://127.0.0.1:9/versions".into();
    let (s, v) = raw_body(
        reqwest::Method::POST,
        &format!("{base}/credentials"),
        auth(&p.token_a),
        Some(&serde_json::to_string(&creds).unwrap()),
    )
    .await;
    assert_eq!((s, code(&v)), (200, Some(3001)));
    // registration of a party that does not offer our version: 3002
    let other_party = start(if version == VersionNumber::V2_2_1 {
        VersionNumber::V2_3_0
    } else {
        VersionNumber::V2_2_1
    })
    .await;
    let mut creds = emsp_credentials(&p);
    creds.url = format!("{}/versions", other_party.emsp_base).into();
    let (s, v) = raw_body(
        reqwest::Method::POST,
        &format!("{base}/credentials"),
        auth(&p.token_a),
        Some(&serde_json::to_string(&creds).unwrap()),
    )
    .await;
    assert_eq!((s, code(&v)), (200, Some(3002)));
    // registration of a party with no module in common: 3003
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bare_base = format!("http://{}/ocpi", l.local_addr().unwrap());
    let mut bare_registry = Registry::new();
    bare_registry.add_registered_peer(
        "token-b-for-the-cpo",
        Registration {
            version: version.clone(),
            token_b: String::new(),
            versions_url: format!("{}/versions", p.cpo_base),
            endpoints: vec![],
            roles: vec![],
        },
    );
    let bare = Server::new(
        ServerConfig {
            base_url: bare_base.clone(),
            versions: vec![version.clone()],
            modules: vec![(ModuleId::Payments, SENDER)],
            roles: vec![role("EMSP", "NL", "MSP")],
            tolerant_token_encoding: false,
            max_limit: 2,
            storage_version: None,
        },
        MemoryStorage::new(),
        bare_registry,
    );
    serve(bare, l).await;
    let mut creds = emsp_credentials(&p);
    creds.url = format!("{bare_base}/versions").into();
    let (s, v) = raw_body(
        reqwest::Method::POST,
        &format!("{base}/credentials"),
        auth(&p.token_a),
        Some(&serde_json::to_string(&creds).unwrap()),
    )
    .await;
    assert_eq!((s, code(&v)), (200, Some(3003)));
    // a body that is not JSON: HTTP 400
    let (s, v) = raw_body(
        reqwest::Method::POST,
        &format!("{base}/credentials"),
        auth(&p.token_a),
        Some("{not json"),
    )
    .await;
    assert_eq!((s, code(&v)), (400, Some(2001)));

    let reg = Client::register(
        &p.token_a,
        &format!("{}/versions", p.cpo_base),
        std::slice::from_ref(&version),
        &emsp_credentials(&p),
    )
    .await
    .unwrap();
    let c = auth(&reg.token_c);
    // The wire form of the version: 2.1.1 details name no interface roles and 2.1.1
    // credentials one party without roles.
    let (_, d) = raw(reqwest::Method::GET, &format!("{base}/details"), c.clone()).await;
    let (_, cr) = raw(
        reqwest::Method::GET,
        &format!("{base}/credentials"),
        c.clone(),
    )
    .await;
    let v211 = version == VersionNumber::V2_1_1;
    assert_eq!(d["data"]["endpoints"][0].get("role").is_none(), v211);
    assert_eq!(cr["data"].get("roles").is_none(), v211);
    assert_eq!(cr["data"].get("party_id").is_some(), v211);
    if v211 {
        let d: v211::VersionDetails = typed(d["data"].clone());
        d.validate().unwrap();
        let cr: v211::Credentials = typed(cr["data"].clone());
        assert_eq!(cr.party_id.0, "CPO");
    }
    // TOKEN_A no longer works anywhere after registration: 401
    let (s, _) = raw(
        reqwest::Method::GET,
        &format!("{}/versions", p.cpo_base),
        auth(&p.token_a),
    )
    .await;
    assert_eq!(s, 401);
    // unknown location, EVSE: 404 with 2003
    let (s, v) = raw(reqwest::Method::GET, &format!("{locs}/NOPE"), c.clone()).await;
    assert_eq!((s, code(&v)), (404, Some(2003)));
    let (s, v) = raw(
        reqwest::Method::GET,
        &format!("{locs}/LOC1/NOPE"),
        c.clone(),
    )
    .await;
    assert_eq!((s, code(&v)), (404, Some(2003)));
    // unknown token on the Receiver interface: 404 with 2004
    let (s, v) = raw(
        reqwest::Method::GET,
        &format!("{base}/receiver/tokens/NL/MSP/NOPE"),
        c.clone(),
    )
    .await;
    assert_eq!((s, code(&v)), (404, Some(2004)));
    // client owned objects of a party the client did not name in the handshake: 404, not
    // stored; its own party: created
    let mut other = token(7);
    other["country_code"] = json!("DE");
    other["party_id"] = json!("OTH");
    let other = in_version(&version, &ModuleId::Tokens, other);
    let (s, v) = raw_body(
        reqwest::Method::PUT,
        &format!("{base}/receiver/tokens/DE/OTH/TOK7"),
        c.clone(),
        Some(&other.to_string()),
    )
    .await;
    assert_eq!((s, code(&v)), (404, Some(2004)));
    let (s, _) = raw(
        reqwest::Method::GET,
        &format!("{base}/receiver/tokens/DE/OTH/TOK7"),
        c.clone(),
    )
    .await;
    assert_eq!(s, 404);
    let own = in_version(&version, &ModuleId::Tokens, token(7));
    let (s, v) = raw_body(
        reqwest::Method::PUT,
        &format!("{base}/receiver/tokens/NL/MSP/TOK7"),
        c.clone(),
        Some(&own.to_string()),
    )
    .await;
    assert_eq!((s, code(&v)), (201, Some(1000)));
    // invalid query parameter: 400 with 2001
    let (s, v) = raw(
        reqwest::Method::GET,
        &format!("{locs}?limit=abc"),
        c.clone(),
    )
    .await;
    assert_eq!((s, code(&v)), (400, Some(2001)));
    // a module this party does not offer: 404; a method an interface does not have: 405
    let (s, _) = raw(
        reqwest::Method::GET,
        &format!("{base}/sender/tokens"),
        c.clone(),
    )
    .await;
    assert_eq!(s, 404);
    let (s, _) = raw(
        reqwest::Method::GET,
        &format!("{base}/receiver/commands/START_SESSION"),
        c.clone(),
    )
    .await;
    assert_eq!(s, 405);
    let (s, _) = raw(reqwest::Method::DELETE, &format!("{locs}/LOC1"), c.clone()).await;
    assert_eq!(s, 405);
    // pagination headers
    let r = reqwest::Client::new()
        .get(format!("{locs}?limit=10"))
        .header("Authorization", c.clone().unwrap())
        .header("X-Request-ID", "r1")
        .header("X-Correlation-ID", "c1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-total-count"], "5");
    assert_eq!(r.headers()["x-limit"], "2");
    assert_eq!(r.headers()["x-request-id"], "r1");
    assert_eq!(r.headers()["x-correlation-id"], "c1");
    assert!(r.headers()["link"]
        .to_str()
        .unwrap()
        .contains("offset=2&limit=2>; rel=\"next\""));
    let routing = ocpi::transport::Routing::new(("NL", "MSP"), ("NL", "CPO"));
    let mut rb = reqwest::Client::new()
        .get(format!("{locs}/LOC1"))
        .header("Authorization", c.clone().unwrap());
    for (n, val) in routing.headers() {
        rb = rb.header(n, val);
    }
    let routed = rb.send().await.unwrap();
    if version == VersionNumber::V2_1_1 {
        assert!(routed.headers().get("ocpi-to-party-id").is_none());
    } else {
        // the answer is routed back: from and to swapped
        assert_eq!(routed.headers()["ocpi-to-party-id"], "MSP");
        assert_eq!(routed.headers()["ocpi-to-country-code"], "NL");
        assert_eq!(routed.headers()["ocpi-from-party-id"], "CPO");
        assert_eq!(routed.headers()["ocpi-from-country-code"], "NL");
    }
    // tokens have no children: 404 with 2004
    let (s, v) = raw(
        reqwest::Method::GET,
        &format!("{base}/receiver/tokens/NL/MSP/TOK1/x"),
        c.clone(),
    )
    .await;
    assert_eq!((s, code(&v)), (404, Some(2004)));
    // an invalid object pushed: HTTP 200 with 2001 and the JSON path
    let mut bad = in_version(&version, &ModuleId::Tokens, token(5));
    bad["whitelist"] = json!("SOMETIMES");
    let url = format!("{base}/receiver/tokens/NL/MSP/TOK5");
    let (s, v) = raw_body(
        reqwest::Method::PUT,
        &url,
        c.clone(),
        Some(&bad.to_string()),
    )
    .await;
    assert_eq!((s, code(&v)), (200, Some(2001)));
    assert!(v["status_message"]
        .as_str()
        .unwrap()
        .contains("$.whitelist"));
    // valid JSON that is not a token: HTTP 200 with 2001
    let (s, v) = raw_body(reqwest::Method::PUT, &url, c.clone(), Some("[1, 2]")).await;
    assert_eq!((s, code(&v)), (200, Some(2001)));
    // not JSON: HTTP 400
    let (s, _) = raw_body(reqwest::Method::PUT, &url, c.clone(), Some("{")).await;
    assert_eq!(s, 400);
    // a uid that differs from the URL: 2001
    let (s, v) = raw_body(
        reqwest::Method::PUT,
        &format!("{base}/receiver/tokens/NL/MSP/TOK6"),
        c,
        Some(&in_version(&version, &ModuleId::Tokens, token(5)).to_string()),
    )
    .await;
    assert_eq!((s, code(&v)), (200, Some(2001)));
}

#[tokio::test(flavor = "current_thread")]
async fn status_codes_2_2_1() {
    status_codes(VersionNumber::V2_2_1).await;
}

#[tokio::test(flavor = "current_thread")]
async fn status_codes_2_1_1() {
    status_codes(VersionNumber::V2_1_1).await;
}

#[tokio::test(flavor = "current_thread")]
async fn status_codes_2_3_0() {
    status_codes(VersionNumber::V2_3_0).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_2_3_0_server_checks_2_3_0_objects() {
    let p = start(VersionNumber::V2_3_0).await;
    let reg = Client::register(
        &p.token_a,
        &format!("{}/versions", p.cpo_base),
        &[VersionNumber::V2_3_0],
        &emsp_credentials(&p),
    )
    .await
    .unwrap();
    let client = Client::new(reg.token_c.clone(), TokenEncoding::Base64);
    let tokens = endpoint(&reg.endpoints, ModuleId::Tokens, RECEIVER);
    // EMAID is a 2.3.0 token type: accepted
    let mut t = in_version(&VersionNumber::V2_3_0, &ModuleId::Tokens, token(1));
    t["type"] = json!("EMAID");
    assert_eq!(
        client
            .put_object(&tokens, &["NL", "MSP", "TOK1"], &t)
            .await
            .unwrap(),
        201
    );
    // a 2.2.1 tariff with a 2.3.0 server's ClientInfo role HUB (removed in 2.3.0): 2001
    let infos = endpoint(&reg.endpoints, ModuleId::HubClientInfo, RECEIVER);
    let e = client
        .put_client_info(
            &infos,
            "NL",
            "HUB",
            &client_info("NL", "HUB", "HUB", "CONNECTED"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.status_code(), Some(StatusCode::INVALID_PARAMETERS));
    // the same on 2.2.1 is fine
    let p221 = start(VersionNumber::V2_2_1).await;
    let reg = Client::register(
        &p221.token_a,
        &format!("{}/versions", p221.cpo_base),
        &[VersionNumber::V2_2_1],
        &emsp_credentials(&p221),
    )
    .await
    .unwrap();
    let client = Client::new(reg.token_c.clone(), TokenEncoding::Base64);
    let infos = endpoint(&reg.endpoints, ModuleId::HubClientInfo, RECEIVER);
    assert_eq!(
        client
            .put_client_info(
                &infos,
                "NL",
                "HUB",
                &client_info("NL", "HUB", "HUB", "CONNECTED")
            )
            .await
            .unwrap(),
        201
    );
    let _ =
        ClientError::Handshake(ocpi::credentials::initiator::HandshakeError::NoCredentialsEndpoint)
            .http_status();
}

/// One CPO whose storage holds 2.2.1 objects serves eMSPs of 2.1.1, 2.2.1 and 2.3.0: each
/// pulls the objects in its own version's form and pushes tokens in it, stored as 2.2.1.
#[tokio::test(flavor = "current_thread")]
async fn one_storage_serves_every_version() {
    let all = vec![
        VersionNumber::V2_1_1,
        VersionNumber::V2_2_1,
        VersionNumber::V2_3_0,
    ];
    let l_cpo = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let l_emsp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cpo_base = format!("http://{}/ocpi", l_cpo.local_addr().unwrap());
    let emsp_base = format!("http://{}/ocpi", l_emsp.local_addr().unwrap());
    let storage = MemoryStorage::new();
    for i in 0..3 {
        storage.put(
            &ModuleId::Locations,
            &SENDER,
            vec![format!("LOC{i}")],
            location(i),
        );
        storage.put(
            &ModuleId::Tariffs,
            &SENDER,
            vec![format!("T{i}")],
            tariff(i),
        );
        storage.put(
            &ModuleId::Sessions,
            &SENDER,
            vec![format!("S{i}")],
            session(i),
        );
        storage.put(&ModuleId::Cdrs, &SENDER, vec![format!("C{i}")], cdr(i));
    }
    let mut modules: Vec<_> = all_modules(SENDER).into_iter().take(4).collect();
    modules.push((ModuleId::Tokens, RECEIVER));
    let cpo = Server::new(
        ServerConfig {
            base_url: cpo_base.clone(),
            versions: all.clone(),
            modules,
            roles: vec![role("CPO", "NL", "CPO")],
            tolerant_token_encoding: false,
            max_limit: 2,
            storage_version: Some(VersionNumber::V2_2_1),
        },
        storage,
        Registry::new(),
    );
    serve(cpo.clone(), l_cpo).await;
    let mut emsp_registry = Registry::new();
    emsp_registry.add_registered_peer(
        "token-b-for-the-cpo",
        Registration {
            version: VersionNumber::V2_2_1,
            token_b: String::new(),
            versions_url: format!("{cpo_base}/versions"),
            endpoints: vec![],
            roles: vec![],
        },
    );
    let emsp = Server::new(
        ServerConfig {
            base_url: emsp_base.clone(),
            versions: all.clone(),
            modules: vec![(ModuleId::Tokens, SENDER)],
            roles: vec![role("EMSP", "NL", "MSP")],
            tolerant_token_encoding: false,
            max_limit: 2,
            storage_version: None,
        },
        MemoryStorage::new(),
        emsp_registry,
    );
    serve(emsp, l_emsp).await;
    let creds = Credentials {
        token: "token-b-for-the-cpo".into(),
        url: format!("{emsp_base}/versions").into(),
        roles: vec![role("EMSP", "NL", "MSP")],
        extra: Default::default(),
    };

    for (n, version) in all.iter().enumerate() {
        let (_, token_a) = cpo.registry.lock().unwrap().issue_token_a();
        let reg = Client::register(
            &token_a,
            &format!("{cpo_base}/versions"),
            std::slice::from_ref(version),
            &creds,
        )
        .await
        .unwrap();
        assert_eq!(&reg.version, version);
        let client = Client::new(reg.token_c.clone(), ocpi::server::encoding_of(version));
        let url = |m: ModuleId| endpoint(&reg.endpoints, m, SENDER);
        let q = PageQuery::default();
        match version {
            VersionNumber::V2_1_1 => {
                let (l, pages) =
                    pull::<v211::Location>(&client, &url(ModuleId::Locations), &q).await;
                assert_eq!((l.len(), pages), (3, 2));
                let (t, _) = pull::<v211::Tariff>(&client, &url(ModuleId::Tariffs), &q).await;
                assert_eq!(t.len(), 3);
                let (s, _) = pull::<v211::Session>(&client, &url(ModuleId::Sessions), &q).await;
                // the session embeds its location (LOC0, reduced to its EVSE)
                assert_eq!(s[2].location.id.0, "LOC0");
                let (c, _) = pull::<v211::Cdr>(&client, &url(ModuleId::Cdrs), &q).await;
                assert_eq!(c[0].total_cost.to_string(), "5.0");
            }
            VersionNumber::V2_2_1 => {
                let (c, _) = pull::<Cdr>(&client, &url(ModuleId::Cdrs), &q).await;
                assert_eq!(c[0].total_cost.incl_vat.unwrap().to_string(), "6.05");
                let (s, _) = pull::<Session>(&client, &url(ModuleId::Sessions), &q).await;
                assert_eq!(s.len(), 3);
            }
            _ => {
                let (t, _) = pull::<v230::Tariff>(&client, &url(ModuleId::Tariffs), &q).await;
                assert_eq!(t[1].tax_included, Some(v230::TaxIncluded::No));
                let (c, _) = pull::<v230::Cdr>(&client, &url(ModuleId::Cdrs), &q).await;
                assert_eq!(c[2].total_cost.before_taxes.unwrap().to_string(), "5.0");
                assert_eq!(v(&c[2].total_cost)["taxes"][0]["amount"], json!(1.05));
                let (l, _) = pull::<v230::Location>(&client, &url(ModuleId::Locations), &q).await;
                assert_eq!(l.len(), 3);
                let one: v230::Connector = client
                    .get_object(&url(ModuleId::Locations), &["LOC1", "EVSE1", "1"])
                    .await
                    .unwrap();
                assert_eq!(one.id.0, "1");
            }
        }
        // A token pushed in the version's form is stored as 2.2.1 and read back as pushed.
        let tokens = endpoint(&reg.endpoints, ModuleId::Tokens, RECEIVER);
        let uid = format!("TOK{n}");
        let pushed = in_version(version, &ModuleId::Tokens, token(n));
        assert_eq!(
            client
                .put_object(&tokens, &["NL", "MSP", &uid], &pushed)
                .await
                .unwrap(),
            201
        );
        let stored = cpo
            .storage
            .get(
                &ModuleId::Tokens,
                &RECEIVER,
                &["NL".into(), "MSP".into(), uid.clone()],
            )
            .unwrap();
        let stored: Token = typed(stored);
        stored.validate().unwrap();
        assert_eq!(stored.contract_id.0, format!("NL-MSP-C{n}"));
        let patch = json!({"valid": false, "last_updated": "2024-03-01T00:00:00Z"});
        client
            .patch_object(&tokens, &["NL", "MSP", &uid], &patch)
            .await
            .unwrap();
        let back: Value = client
            .get_object(&tokens, &["NL", "MSP", &uid])
            .await
            .unwrap();
        let mut expected = pushed.clone();
        expected["valid"] = json!(false);
        expected["last_updated"] = json!("2024-03-01T00:00:00Z");
        assert_eq!(back, expected, "{version}");
    }
}

/// What the PTP's payments handler was asked.
struct Ptp {
    asked: Mutex<Vec<String>>,
}

impl ocpi::handlers::PaymentsSender for Ptp {
    fn activate_terminal(&self, _ctx: &RequestContext, terminal: Value) -> Result<(), OcpiError> {
        let r = terminal["reference"].as_str().unwrap_or_default();
        self.asked.lock().unwrap().push(format!("activate {r}"));
        Ok(())
    }

    fn deactivate_terminal(&self, _ctx: &RequestContext, id: &str) -> Result<(), OcpiError> {
        self.asked.lock().unwrap().push(format!("deactivate {id}"));
        Ok(())
    }
}

fn spec_example(name: &str) -> Option<Value> {
    let dir = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/ocpi"));
    let text = std::fs::read_to_string(dir.join("examples-2.3.0").join(name)).ok()?;
    Some(serde_json::from_str(&text).unwrap())
}

fn terminal(i: usize) -> Value {
    json!({"terminal_id": format!("TERM{i}"), "customer_reference": "CPO-1",
        "invoice_creator": "PTP", "last_updated": format!("2024-01-0{}T00:00:00Z", i + 1)})
}

fn advice(id: &str) -> Value {
    json!({"id": id, "authorization_reference": "pp-100100-1948213567",
        "total_costs": {"before_taxes": 4.00, "taxes": [{"name": "VAT", "percentage": 10, "amount": 0.40}]},
        "currency": "EUR", "eft_data": ["Mastercard", "Amount: EUR 4.40"],
        "capture_status_code": "SUCCESS", "last_updated": "2024-01-10T00:00:00Z"})
}

/// Payments (2.3.0): a PTP registers with a CPO; terminals and financial advice
/// confirmations both ways, terminal activation and deactivation.
#[tokio::test(flavor = "current_thread")]
async fn payments_2_3_0() {
    let version = VersionNumber::V2_3_0;
    let l_cpo = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let l_ptp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cpo_base = format!("http://{}/ocpi", l_cpo.local_addr().unwrap());
    let ptp_base = format!("http://{}/ocpi", l_ptp.local_addr().unwrap());
    let config = |base: &str, role_: InterfaceRole, me| ServerConfig {
        base_url: base.to_owned(),
        versions: vec![VersionNumber::V2_2_1, VersionNumber::V2_3_0],
        modules: vec![(ModuleId::Payments, role_)],
        roles: vec![me],
        tolerant_token_encoding: false,
        max_limit: 2,
        storage_version: None,
    };
    let mut registry = Registry::new();
    let (_, token_a) = registry.issue_token_a();
    let cpo = Server::new(
        config(&cpo_base, RECEIVER, role("CPO", "NL", "CPO")),
        MemoryStorage::new(),
        registry,
    );
    serve(cpo.clone(), l_cpo).await;
    let ptp_storage = MemoryStorage::new();
    for i in 0..3 {
        ptp_storage.put(
            &ModuleId::Payments,
            &SENDER,
            vec!["terminals".into(), format!("TERM{i}")],
            terminal(i),
        );
    }
    ptp_storage.put(
        &ModuleId::Payments,
        &SENDER,
        vec!["financial-advice-confirmations".into(), "FAC1".into()],
        advice("FAC1"),
    );
    let mut ptp_registry = Registry::new();
    ptp_registry.add_registered_peer(
        "token-b-for-the-cpo",
        Registration {
            version: version.clone(),
            token_b: String::new(),
            versions_url: format!("{cpo_base}/versions"),
            endpoints: vec![],
            roles: vec![role("CPO", "NL", "CPO")],
        },
    );
    let ptp_handler = Arc::new(Ptp {
        asked: Mutex::new(vec![]),
    });
    let ptp = Server::with_handlers(
        config(&ptp_base, SENDER, role("OTHER", "NL", "PTP")),
        ptp_storage,
        ptp_registry,
        Handlers {
            payments_sender: ptp_handler.clone(),
            ..Default::default()
        },
    );
    serve(ptp.clone(), l_ptp).await;

    let creds = Credentials {
        token: "token-b-for-the-cpo".into(),
        url: format!("{ptp_base}/versions").into(),
        roles: vec![role("OTHER", "NL", "PTP")],
        extra: Default::default(),
    };
    let reg = Client::register(
        &token_a,
        &format!("{cpo_base}/versions"),
        &[VersionNumber::V2_2_1, VersionNumber::V2_3_0],
        &creds,
    )
    .await
    .unwrap();
    assert_eq!(reg.version, version, "the highest common version");
    let ptp_client = Client::new(reg.token_c.clone(), TokenEncoding::Base64);
    let cpo_client = Client::new("token-b-for-the-cpo", TokenEncoding::Base64);
    let cpo_payments = endpoint(&reg.endpoints, ModuleId::Payments, RECEIVER);
    let ptp_payments = ptp.module_url(&version, &ModuleId::Payments, &SENDER);

    // The PTP creates terminals on the CPO's side: a minimal one is stamped last_updated.
    let terminals = format!("{cpo_payments}/terminals");
    let minimal = spec_example("payment_terminal_create_minimal.json")
        .unwrap_or_else(|| json!({"terminal_id": "452cf8a1-79aa-4a0e-9aee-dc788586053c"}));
    let id = minimal["terminal_id"].as_str().unwrap().to_owned();
    assert_eq!(
        ptp_client
            .send(reqwest::Method::POST, &terminals, Some(&minimal))
            .await
            .unwrap(),
        201
    );
    let back: v230::Terminal = ptp_client.get_object(&terminals, &[&id]).await.unwrap();
    back.validate().unwrap();
    assert!(back.last_updated.is_some());
    // Financial advice confirmations: a valid one is created; the official example, with the
    // 2.2.1 Price shape (a known upstream defect), is refused with 2001.
    let advices = format!("{cpo_payments}/financial-advice-confirmations");
    assert_eq!(
        ptp_client
            .send(reqwest::Method::POST, &advices, Some(&advice("FAC9")))
            .await
            .unwrap(),
        201
    );
    let back: v230::FinancialAdviceConfirmation =
        ptp_client.get_object(&advices, &["FAC9"]).await.unwrap();
    assert_eq!(back.total_costs.before_taxes.unwrap().to_string(), "4.0");
    if let Some(official) = spec_example("payment_financial_advice_confirmation_create.json") {
        let e = ptp_client
            .send(reqwest::Method::POST, &advices, Some(&official))
            .await
            .unwrap_err();
        assert_eq!(e.status_code(), Some(StatusCode::INVALID_PARAMETERS));
    }

    // The CPO pulls the PTP's terminals (pages of 2) and confirmations.
    let (list, pages) = pull::<v230::Terminal>(
        &cpo_client,
        &format!("{ptp_payments}/terminals"),
        &PageQuery::default(),
    )
    .await;
    assert_eq!((list.len(), pages), (3, 2));
    let (list, _) = pull::<v230::FinancialAdviceConfirmation>(
        &cpo_client,
        &format!("{ptp_payments}/financial-advice-confirmations"),
        &PageQuery::default(),
    )
    .await;
    assert_eq!(list[0].id.0, "FAC1");
    // It assigns locations (PATCH without last_updated, as in the specification) and updates a
    // terminal (PUT without terminal_id, as in the specification).
    let ptp_terminals = format!("{ptp_payments}/terminals");
    let assign = spec_example("payment_terminal_location_assignment.json")
        .unwrap_or_else(|| json!({"location_ids": ["LOC1"]}));
    cpo_client
        .patch_object(&ptp_terminals, &["TERM1"], &assign)
        .await
        .unwrap();
    let t: v230::Terminal = cpo_client
        .get_object(&ptp_terminals, &["TERM1"])
        .await
        .unwrap();
    assert_eq!(v(&t.location_ids), assign["location_ids"]);
    assert_eq!(t.customer_reference.unwrap().0, "CPO-1", "the rest is kept");
    let update = json!({"customer_reference": "OMV", "invoice_base_url": "https://ptp.example.com/invoices",
        "last_updated": "2024-02-01T00:00:00Z"});
    assert_eq!(
        cpo_client
            .put_object(&ptp_terminals, &["TERM2"], &update)
            .await
            .unwrap(),
        200
    );
    let t: v230::Terminal = cpo_client
        .get_object(&ptp_terminals, &["TERM2"])
        .await
        .unwrap();
    assert_eq!(
        (
            t.terminal_id.0.as_str(),
            t.customer_reference.unwrap().0.as_str()
        ),
        ("TERM2", "OMV")
    );
    // Activation and deactivation go to the PTP's handler; an unknown terminal: 404.
    let activate = spec_example("payment_terminal_activate.json").unwrap_or_else(
        || json!({"location_ids": ["LOC1"], "reference": "Term-SerialNumber", "last_updated": "2019-12-10T17:16:15Z"}),
    );
    cpo_client
        .send(
            reqwest::Method::POST,
            &format!("{ptp_terminals}/activate"),
            Some(&activate),
        )
        .await
        .unwrap();
    cpo_client
        .send::<()>(
            reqwest::Method::POST,
            &format!("{ptp_terminals}/TERM0/deactivate"),
            None,
        )
        .await
        .unwrap();
    let e = cpo_client
        .send::<()>(
            reqwest::Method::POST,
            &format!("{ptp_terminals}/NOPE/deactivate"),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), Some(404));
    assert_eq!(
        *ptp_handler.asked.lock().unwrap(),
        vec![
            "activate Term-SerialNumber".to_owned(),
            "deactivate TERM0".to_owned()
        ]
    );
    // Payments does not exist in 2.2.1: 404 there.
    let e = cpo_client
        .get::<Value>(&format!("{ptp_base}/2.2.1/sender/payments/terminals"))
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), Some(404));
}

/// Whatever the path, method and body, the server answers an OCPI envelope with an error
/// code and never panics.
#[tokio::test(flavor = "current_thread")]
async fn malformed_requests_answer_envelopes() {
    for version in [
        VersionNumber::V2_1_1,
        VersionNumber::V2_2_1,
        VersionNumber::V2_3_0,
    ] {
        let p = start(version.clone()).await;
        let reg = Client::register(
            &p.token_a,
            &format!("{}/versions", p.cpo_base),
            std::slice::from_ref(&version),
            &emsp_credentials(&p),
        )
        .await
        .unwrap();
        let c = Some(authorization_header(
            &reg.token_c,
            ocpi::server::encoding_of(&version),
        ));
        let base = format!("{}/{version}", p.cpo_base);
        let paths = [
            "".to_owned(),
            "/nope".into(),
            "/sender".into(),
            "/sender/nope".into(),
            "/receiver/tokens".into(),
            "/receiver/tokens/NL".into(),
            "/receiver/tokens/NL/MSP".into(),
            "/receiver/tokens/NL/MSP/T/x/y/z".into(),
            "/receiver/commands".into(),
            "/receiver/commands/START_SESSION/x".into(),
            "/receiver/chargingprofiles".into(),
            "/receiver/chargingprofiles/S1/x".into(),
            "/receiver/chargingprofiles/S1?duration=-1&response_url=x".into(),
            "/receiver/chargingprofiles/S1?duration=60&response_url=not%20a%20url".into(),
            "/receiver/hubclientinfo/NL".into(),
            "/sender/locations/LOC1/EVSE1/9".into(),
            "/sender/locations?offset=-1".into(),
            "/sender/locations?date_from=yesterday".into(),
            "/sender/sessions/S1/charging_preferences/x".into(),
            "/sender/payments/terminals".into(),
        ];
        let bodies = ["", "{", "[]", "null", "{\"id\": 5}", "\"x\""];
        for path in &paths {
            for method in [
                reqwest::Method::GET,
                reqwest::Method::POST,
                reqwest::Method::PUT,
                reqwest::Method::PATCH,
                reqwest::Method::DELETE,
            ] {
                for body in bodies {
                    let b = (!body.is_empty()).then_some(body);
                    let url = format!("{base}{path}");
                    let (s, v) = raw_body(method.clone(), &url, c.clone(), b).await;
                    let code = v["status_code"].as_u64();
                    assert!(
                        code.is_some_and(|c| c >= 2000) || (s < 300 && code == Some(1000)),
                        "{method} {url} {body:?}: HTTP {s}, {v}"
                    );
                    assert!(
                        v["timestamp"].is_string(),
                        "{method} {url}: no timestamp in {v}"
                    );
                }
            }
        }
    }
}
