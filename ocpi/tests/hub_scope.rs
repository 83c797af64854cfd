//! A hub speaks for many parties, but not for a party that a partner registered directly
//! owns: the hub cannot overwrite that partner's tokens (e.g. with whitelist ALWAYS), while
//! it still reaches the parties no direct partner named.

use ocpi::client::Client;
use ocpi::credentials::{Registration, Registry};
use ocpi::server::{router, MemoryStorage, Server, ServerConfig, Storage};
use ocpi::transport::TokenEncoding;
use ocpi::v221::*;
use serde_json::{json, Value};

fn role(r: &str, cc: &str, pid: &str) -> CredentialsRole {
    serde_json::from_value(json!({"role": r, "party_id": pid, "country_code": cc,
        "business_details": {"name": format!("{pid} {r}")}}))
    .unwrap()
}

fn registration(roles: Vec<CredentialsRole>) -> Registration {
    Registration {
        version: VersionNumber::V2_2_1,
        token_b: String::new(),
        versions_url: "http://127.0.0.1:9/versions".into(),
        endpoints: vec![],
        roles,
    }
}

fn token(cc: &str, pid: &str, uid: &str, whitelist: &str) -> Value {
    json!({"country_code": cc, "party_id": pid, "uid": uid, "type": "RFID",
        "contract_id": format!("{cc}-{pid}-C1"), "issuer": pid, "valid": true,
        "whitelist": whitelist, "last_updated": "2024-01-01T00:00:00Z"})
}

#[tokio::test]
async fn a_hub_cannot_write_the_tokens_of_a_directly_registered_partner() {
    let (hub_token, emsp_token) = ("hub-token-123", "emsp-token-456");
    let mut registry = Registry::new();
    registry.add_registered_peer(hub_token, registration(vec![role("HUB", "DE", "HUB")]));
    registry.add_registered_peer(emsp_token, registration(vec![role("EMSP", "NL", "MSP")]));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/ocpi", listener.local_addr().unwrap());
    let config = ServerConfig {
        base_url: base.clone(),
        versions: vec![VersionNumber::V2_2_1],
        modules: vec![(ModuleId::Tokens, InterfaceRole::Receiver)],
        roles: vec![role("CPO", "NL", "CPO")],
        tolerant_token_encoding: false,
        max_limit: 50,
        storage_version: None,
    };
    let server = Server::new(config, MemoryStorage::new(), registry);
    let app = router(server.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let url = format!("{base}/2.2.1/receiver/tokens");
    let hub = Client::new(hub_token.to_owned(), TokenEncoding::Base64);
    let emsp = Client::new(emsp_token.to_owned(), TokenEncoding::Base64);

    // The partner stores its token.
    let st = emsp
        .put_object(
            &url,
            &["NL", "MSP", "T1"],
            &token("NL", "MSP", "T1", "NEVER"),
        )
        .await
        .unwrap();
    assert_eq!(st, 201);

    // The hub may not replace it (nor create tokens for that party).
    let r = hub
        .put_object(
            &url,
            &["NL", "MSP", "T1"],
            &token("NL", "MSP", "T1", "ALWAYS"),
        )
        .await;
    assert_eq!(
        r.as_ref().err().and_then(|e| e.http_status()),
        Some(404),
        "{r:?}"
    );
    let r = hub
        .put_object(
            &url,
            &["nl", "msp", "T2"],
            &token("NL", "MSP", "T2", "ALWAYS"),
        )
        .await;
    assert_eq!(
        r.as_ref().err().and_then(|e| e.http_status()),
        Some(404),
        "{r:?}"
    );
    let kept = server
        .storage
        .get(
            &ModuleId::Tokens,
            &InterfaceRole::Receiver,
            &["NL".into(), "MSP".into(), "T1".into()],
        )
        .unwrap();
    assert_eq!(kept["whitelist"], "NEVER");

    // A party no direct partner owns: the hub speaks for it.
    let st = hub
        .put_object(
            &url,
            &["DE", "ABC", "T3"],
            &token("DE", "ABC", "T3", "ALLOWED"),
        )
        .await
        .unwrap();
    assert_eq!(st, 201);
    // And the partner cannot write another party's tokens either.
    let r = emsp
        .put_object(
            &url,
            &["DE", "ABC", "T3"],
            &token("DE", "ABC", "T3", "ALWAYS"),
        )
        .await;
    assert_eq!(
        r.as_ref().err().and_then(|e| e.http_status()),
        Some(404),
        "{r:?}"
    );
}
