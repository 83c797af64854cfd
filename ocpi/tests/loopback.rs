//! Two parties on loopback: our eMSP registers with our CPO through the full credentials
//! handshake, then pulls every module with pagination; negative tests for the status codes.

use std::sync::Arc;

use ocpi::client::{Client, ClientError};
use ocpi::credentials::{Registration, Registry};
use ocpi::server::{router, MemoryStorage, Server, ServerConfig, Storage};
use ocpi::transport::{authorization_header, PageQuery, StatusCode, TokenEncoding};
use ocpi::v221::*;
use serde_json::{json, Value};

fn role(r: &str, cc: &str, pid: &str) -> CredentialsRole {
    serde_json::from_value(json!({"role": r, "party_id": pid, "country_code": cc, "business_details": {"name": format!("{pid} {r}")}})).unwrap()
}

fn location(i: usize) -> Value {
    json!({
        "country_code": "NL", "party_id": "CPO", "id": format!("LOC{i}"), "publish": true,
        "address": "Street 1", "city": "Utrecht", "country": "NLD",
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
        "cdr_location": {"id": "LOC0", "address": "Street 1", "city": "Utrecht", "country": "NLD",
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

async fn serve<S: Storage>(server: Arc<Server<S>>, listener: tokio::net::TcpListener) {
    let app = router(server);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
}

const SENDER: InterfaceRole = InterfaceRole::Sender;

struct Parties {
    cpo: Arc<Server<MemoryStorage>>,
    cpo_base: String,
    emsp_base: String,
    token_a: String,
}

async fn start(versions: Vec<VersionNumber>) -> Parties {
    let l_cpo = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let l_emsp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cpo_base = format!("http://{}/ocpi", l_cpo.local_addr().unwrap());
    let emsp_base = format!("http://{}/ocpi", l_emsp.local_addr().unwrap());

    let storage = MemoryStorage::new();
    for i in 0..5 {
        storage.put(
            &ModuleId::Locations,
            &SENDER,
            vec![format!("LOC{i}")],
            location(i),
        );
    }
    for i in 0..3 {
        storage.put(
            &ModuleId::Tariffs,
            &SENDER,
            vec![format!("T{i}")],
            tariff(i),
        );
        storage.put(&ModuleId::Cdrs, &SENDER, vec![format!("C{i}")], cdr(i));
    }
    for i in 0..4 {
        storage.put(
            &ModuleId::Sessions,
            &SENDER,
            vec![format!("S{i}")],
            session(i),
        );
    }
    let mut registry = Registry::new();
    let (_, token_a) = registry.issue_token_a();
    let cpo = Server::new(
        ServerConfig {
            base_url: cpo_base.clone(),
            versions: versions.clone(),
            modules: vec![
                (ModuleId::Locations, SENDER),
                (ModuleId::Tariffs, SENDER),
                (ModuleId::Sessions, SENDER),
                (ModuleId::Cdrs, SENDER),
                (ModuleId::Tokens, InterfaceRole::Receiver),
            ],
            roles: vec![role("CPO", "NL", "CPO")],
            tolerant_token_encoding: false,
            max_limit: 2,
        },
        storage,
        registry,
    );
    serve(cpo.clone(), l_cpo).await;

    // The eMSP accepts TOKEN_B, which it hands to the CPO in its credentials.
    let emsp_storage = MemoryStorage::new();
    for i in 0..3 {
        emsp_storage.put(
            &ModuleId::Tokens,
            &SENDER,
            vec![format!("TOK{i}")],
            token(i),
        );
    }
    let mut emsp_registry = Registry::new();
    emsp_registry.add_registered_peer(
        "token-b-for-the-cpo",
        Registration {
            version: versions[versions.len() - 1].clone(),
            token_b: String::new(),
            versions_url: format!("{cpo_base}/versions"),
            endpoints: vec![],
            roles: vec![],
        },
    );
    let emsp = Server::new(
        ServerConfig {
            base_url: emsp_base.clone(),
            versions,
            modules: vec![
                (ModuleId::Tokens, SENDER),
                (ModuleId::Locations, InterfaceRole::Receiver),
            ],
            roles: vec![role("EMSP", "NL", "MSP")],
            tolerant_token_encoding: false,
            max_limit: 50,
        },
        emsp_storage,
        emsp_registry,
    );
    serve(emsp, l_emsp).await;
    Parties {
        cpo,
        cpo_base,
        emsp_base,
        token_a,
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

async fn handshake_and_pull(version: VersionNumber) {
    let p = start(vec![version.clone()]).await;
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
    let url = |m: &ModuleId| {
        reg.endpoints
            .iter()
            .find(|e| &e.identifier == m && e.role == SENDER)
            .map(|e| e.url.0.clone())
            .unwrap()
    };
    let q = PageQuery::default();
    let typed = version != VersionNumber::V2_1_1;
    let (locs, pages): (Vec<Value>, usize) = client
        .get_all(&url(&ModuleId::Locations), &q)
        .await
        .unwrap();
    assert_eq!((locs.len(), pages), (5, 3), "5 locations in pages of 2");
    if typed {
        let (l, _): (Vec<Location>, _) = client
            .get_all(&url(&ModuleId::Locations), &q)
            .await
            .unwrap();
        assert_eq!(l[4].id.0, "LOC4");
        let (t, _): (Vec<Tariff>, _) = client.get_all(&url(&ModuleId::Tariffs), &q).await.unwrap();
        assert_eq!(t.len(), 3);
        let (s, pages): (Vec<Session>, _) =
            client.get_all(&url(&ModuleId::Sessions), &q).await.unwrap();
        assert_eq!((s.len(), pages), (4, 2));
        let (c, _): (Vec<Cdr>, _) = client.get_all(&url(&ModuleId::Cdrs), &q).await.unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].total_cost.incl_vat.unwrap().to_string(), "6.05");
    } else {
        for (m, n) in [
            (ModuleId::Tariffs, 3),
            (ModuleId::Sessions, 4),
            (ModuleId::Cdrs, 3),
        ] {
            let (v, _): (Vec<Value>, _) = client.get_all(&url(&m), &q).await.unwrap();
            assert_eq!(v.len(), n, "{m}");
        }
    }
    // date filter: locations updated from Jan 3 on: LOC2..LOC4
    let q = PageQuery {
        date_from: Some("2024-01-03T00:00:00Z".parse().unwrap()),
        ..Default::default()
    };
    let (locs, _): (Vec<Value>, _) = client
        .get_all(&url(&ModuleId::Locations), &q)
        .await
        .unwrap();
    assert_eq!(locs.len(), 3);
    // single object, EVSE and connector
    let one: Value = client
        .get(&format!("{}/LOC3/EVSE3/1", url(&ModuleId::Locations)))
        .await
        .unwrap();
    assert_eq!(one["standard"], "IEC_62196_T2");

    // Receiver interface of the CPO: the eMSP pushes a token, patches it, reads it back.
    let tokens = reg
        .endpoints
        .iter()
        .find(|e| e.identifier == ModuleId::Tokens && e.role == InterfaceRole::Receiver)
        .unwrap()
        .url
        .0
        .clone();
    let r = client
        .request::<Value, Value>(
            reqwest::Method::PUT,
            &format!("{tokens}/NL/MSP/TOK9"),
            Some(&token(9)),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201);
    let patch = json!({"valid": false, "last_updated": "2024-02-01T00:00:00Z"});
    client
        .request::<Value, Value>(
            reqwest::Method::PATCH,
            &format!("{tokens}/NL/MSP/TOK9"),
            Some(&patch),
        )
        .await
        .unwrap();
    let back: Value = client.get(&format!("{tokens}/NL/MSP/TOK9")).await.unwrap();
    assert_eq!(back["valid"], false);
    // PATCH without last_updated: 2001
    let e = client
        .request::<Value, Value>(
            reqwest::Method::PATCH,
            &format!("{tokens}/NL/MSP/TOK9"),
            Some(&json!({"valid": true})),
        )
        .await
        .unwrap_err();
    assert_eq!(e.status_code(), Some(StatusCode::INVALID_PARAMETERS));

    // The CPO calls the eMSP with TOKEN_B and pulls its tokens.
    let cpo_client = Client::new("token-b-for-the-cpo", ocpi::server::encoding_of(&version));
    let (toks, _): (Vec<Value>, _) = cpo_client
        .get_all(
            &format!("{}/{}/sender/tokens", p.emsp_base, version),
            &PageQuery::default(),
        )
        .await
        .unwrap();
    assert_eq!(toks.len(), 3);

    // POST again: 405; PUT (update) gives a new TOKEN_C; DELETE unregisters.
    let creds_url = format!("{}/{}/credentials", p.cpo_base, version);
    let e = client
        .request::<Credentials, Credentials>(
            reqwest::Method::POST,
            &creds_url,
            Some(&emsp_credentials(&p)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), Some(405));
    let updated: Credentials = client
        .request::<Credentials, Credentials>(
            reqwest::Method::PUT,
            &creds_url,
            Some(&emsp_credentials(&p)),
        )
        .await
        .unwrap()
        .envelope
        .data
        .unwrap();
    assert_ne!(updated.token.0, reg.token_c);
    let e = client
        .get::<Value>(&url(&ModuleId::Locations))
        .await
        .unwrap_err();
    assert_eq!(
        e.http_status(),
        Some(401),
        "the old TOKEN_C no longer works"
    );
    let client = Client::new(updated.token.0.clone(), ocpi::server::encoding_of(&version));
    client
        .request::<(), Value>(reqwest::Method::DELETE, &creds_url, None)
        .await
        .unwrap();
    let e = client
        .get::<Value>(&url(&ModuleId::Locations))
        .await
        .unwrap_err();
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

async fn raw(method: reqwest::Method, url: &str, auth: Option<String>) -> (u16, Value) {
    let mut rb = reqwest::Client::new().request(method, url);
    if let Some(a) = auth {
        rb = rb.header("Authorization", a);
    }
    let r = rb.send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "current_thread")]
async fn status_codes() {
    let p = start(vec![VersionNumber::V2_2_1]).await;
    let b64 = |t: &str| Some(authorization_header(t, TokenEncoding::Base64));
    let locs = format!("{}/2.2.1/sender/locations", p.cpo_base);
    // no / bad token: 401
    assert_eq!(raw(reqwest::Method::GET, &locs, None).await.0, 401);
    assert_eq!(raw(reqwest::Method::GET, &locs, b64("wrong")).await.0, 401);
    // TOKEN_A on a functional module: 401; on versions: fine
    assert_eq!(
        raw(reqwest::Method::GET, &locs, b64(&p.token_a)).await.0,
        401
    );
    let (s, v) = raw(
        reqwest::Method::GET,
        &format!("{}/versions", p.cpo_base),
        b64(&p.token_a),
    )
    .await;
    assert_eq!((s, v["status_code"].as_u64()), (200, Some(1000)));
    // raw token on 2.2.1 without tolerance: 401
    assert_eq!(
        raw(
            reqwest::Method::GET,
            &format!("{}/2.2.1/details", p.cpo_base),
            Some(format!("Token {}", p.token_a))
        )
        .await
        .0,
        401
    );
    // PUT credentials before registration: 405
    assert_eq!(
        raw(
            reqwest::Method::PUT,
            &format!("{}/2.2.1/credentials", p.cpo_base),
            b64(&p.token_a)
        )
        .await
        .0,
        405
    );
    // unsupported version: 3002
    let (_, v) = raw(
        reqwest::Method::GET,
        &format!("{}/2.0/details", p.cpo_base),
        b64(&p.token_a),
    )
    .await;
    assert_eq!(v["status_code"], 3002);

    let reg = Client::register(
        &p.token_a,
        &format!("{}/versions", p.cpo_base),
        &[VersionNumber::V2_2_1],
        &emsp_credentials(&p),
    )
    .await
    .unwrap();
    let c = b64(&reg.token_c);
    // unknown location: 404 with 2003
    let (s, v) = raw(reqwest::Method::GET, &format!("{locs}/NOPE"), c.clone()).await;
    assert_eq!((s, v["status_code"].as_u64()), (404, Some(2003)));
    // invalid parameter: 400 with 2001
    let (s, v) = raw(
        reqwest::Method::GET,
        &format!("{locs}?limit=abc"),
        c.clone(),
    )
    .await;
    assert_eq!((s, v["status_code"].as_u64()), (400, Some(2001)));
    // pagination headers
    let r = reqwest::Client::new()
        .get(format!("{locs}?limit=10"))
        .header("Authorization", c.clone().unwrap())
        .header("X-Request-ID", "r1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-total-count"], "5");
    assert_eq!(r.headers()["x-limit"], "2");
    assert_eq!(r.headers()["x-request-id"], "r1");
    assert!(r.headers()["link"]
        .to_str()
        .unwrap()
        .contains("offset=2&limit=2>; rel=\"next\""));
    // invalid object pushed: 2001 with the JSON path
    let mut bad = token(5);
    bad["country_code"] = json!("XX");
    let tokens = format!("{}/2.2.1/receiver/tokens/XX/MSP/TOK5", p.cpo_base);
    let r = reqwest::Client::new()
        .put(&tokens)
        .header("Authorization", c.unwrap())
        .json(&bad)
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status_code"], 2001);
    assert!(v["status_message"]
        .as_str()
        .unwrap()
        .contains("$.country_code"));
    let _ =
        ClientError::Handshake(ocpi::credentials::initiator::HandshakeError::NoCredentialsEndpoint)
            .http_status();
}
