#![warn(missing_docs)]
//! OCPI (Open Charge Point Interface) 2.2.1, with 2.1.1 and 2.3.0.
//!
//! - [`v221`]: the objects of every 2.2.1 module; unknown members kept in `extra`, unknown enum
//!   values kept as `Unknown(String)`, both written back. [`validate`] checks every field rule
//!   and reports JSON paths. [`primitives`]: exact numbers ([`primitives::Number`], a
//!   `rust_decimal::Decimal`), date-times that keep the peer's text, ISO 3166 / 4217 / 639 codes.
//! - [`tariff`]: the tariff engine and [`tariff::price_json`].
//! - [`transport`]: envelope, status codes, `Authorization` encoding (raw in 2.1.1, Base64 from
//!   2.2, with a tolerance switch), routing headers, pagination, PATCH.
//! - [`credentials`]: the handshake state machine; [`server`] (axum) and [`client`] (reqwest).
//! - [`schema`]: JSON Schemas derived with `schemars` ([`schema::v211`], [`schema::v221`],
//!   [`schema::v230`]).
//!
//! - [`v211`] and [`v230`]: the objects of OCPI 2.1.1 and 2.3.0 (with Payments); what did not
//!   change from 2.2.1 is the 2.2.1 type, re-exported. 2.3.0 `OpenEnum`s are open in validation.
//! - [`convert`]: locations, sessions, CDRs, tariffs and tokens between 2.1.1, 2.2.1 and 2.3.0,
//!   each conversion returning what it lost.
//!
//! - [`handlers`]: the application's side of the modules that ask to act rather than store:
//!   commands, charging profiles, real-time token authorization, charging preferences and
//!   payment terminal activation (one trait per module interface, each method with a default
//!   answer, so an application implements only what it offers).
//!
//! The client speaks plain HTTP unless TLS is added by the application's own reqwest features.
//!
//! # Example: an eMSP registers with a CPO and pulls its locations
//!
//! Two parties on loopback: the CPO serves its locations from a [`server::MemoryStorage`]
//! and hands a `TOKEN_A` to the eMSP out of band; the eMSP, which serves its own versions
//! endpoint (the CPO reads it with `TOKEN_B` during the registration), registers through the
//! credentials handshake and pulls the locations page by page with `TOKEN_C`.
//!
//! ```
//! use std::sync::Arc;
//!
//! use ocpi::client::Client;
//! use ocpi::credentials::{Registration, Registry};
//! use ocpi::server::{router, MemoryStorage, Server, ServerConfig, Storage};
//! use ocpi::transport::{PageQuery, TokenEncoding};
//! use ocpi::v221::{Credentials, CredentialsRole, InterfaceRole, Location, ModuleId, VersionNumber};
//! use serde_json::json;
//!
//! fn role(role: &str, party_id: &str) -> CredentialsRole {
//!     serde_json::from_value(json!({"role": role, "party_id": party_id, "country_code": "NL",
//!         "business_details": {"name": party_id}})).unwrap()
//! }
//!
//! /// Binds a loopback port; returns the listener and the OCPI base URL on it.
//! async fn bind() -> (tokio::net::TcpListener, String) {
//!     let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let base = format!("http://{}/ocpi", l.local_addr().unwrap());
//!     (l, base)
//! }
//!
//! fn spawn(listener: tokio::net::TcpListener, server: Arc<Server<MemoryStorage>>) {
//!     tokio::spawn(async move { axum::serve(listener, router(server)).await });
//! }
//!
//! fn config(base: &str, modules: Vec<(ModuleId, InterfaceRole)>, me: CredentialsRole) -> ServerConfig {
//!     ServerConfig {
//!         base_url: base.to_owned(),
//!         versions: vec![VersionNumber::V2_2_1],
//!         modules,
//!         roles: vec![me],
//!         tolerant_token_encoding: false,
//!         max_limit: 2,
//!         storage_version: None,
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! // The CPO: three locations, served two per page.
//! let (cpo_listener, cpo_base) = bind().await;
//! let storage = MemoryStorage::new();
//! for i in 0..3 {
//!     storage.put(&ModuleId::Locations, &InterfaceRole::Sender, vec![format!("LOC{i}")], json!({
//!         "country_code": "NL", "party_id": "CPO", "id": format!("LOC{i}"), "publish": true,
//!         "address": "Street 1", "city": "Utrecht", "country": "NLD", "time_zone": "Europe/Amsterdam",
//!         "coordinates": {"latitude": "52.090736", "longitude": "5.121420"},
//!         "last_updated": "2024-01-01T00:00:00Z"}));
//! }
//! let mut registry = Registry::new();
//! let (_, token_a) = registry.issue_token_a(); // handed to the eMSP out of band
//! let cpo_modules = vec![(ModuleId::Locations, InterfaceRole::Sender)];
//! let cpo = Server::new(config(&cpo_base, cpo_modules, role("CPO", "CPO")), storage, registry);
//! spawn(cpo_listener, cpo);
//!
//! // The eMSP: accepts the TOKEN_B it gives the CPO, and receives locations.
//! let (emsp_listener, emsp_base) = bind().await;
//! let token_b = ocpi::credentials::generate_token();
//! let mut emsp_registry = Registry::new();
//! emsp_registry.add_registered_peer(&token_b, Registration {
//!     version: VersionNumber::V2_2_1,
//!     token_b: String::new(), // how we call the CPO: TOKEN_C, known after the handshake
//!     versions_url: format!("{cpo_base}/versions"),
//!     endpoints: vec![],
//!     roles: vec![],
//! });
//! let emsp_modules = vec![(ModuleId::Locations, InterfaceRole::Receiver)];
//! let emsp = Server::new(config(&emsp_base, emsp_modules, role("EMSP", "MSP")),
//!     MemoryStorage::new(), emsp_registry);
//! spawn(emsp_listener, emsp);
//!
//! // The handshake: versions, version details, POST credentials; the answer holds TOKEN_C.
//! let ours = Credentials {
//!     token: token_b.into(),
//!     url: format!("{emsp_base}/versions").into(),
//!     roles: vec![role("EMSP", "MSP")],
//!     extra: Default::default(),
//! };
//! let registered = Client::register(&token_a, &format!("{cpo_base}/versions"),
//!     &[VersionNumber::V2_2_1], &ours).await.unwrap();
//! let locations = registered.endpoints.iter()
//!     .find(|e| e.identifier == ModuleId::Locations && e.role == InterfaceRole::Sender)
//!     .unwrap();
//!
//! // Every page, following the Link headers to the end.
//! let client = Client::new(registered.token_c.clone(), TokenEncoding::Base64);
//! let (all, pages) = client.get_all::<Location>(&locations.url.0, &PageQuery::default())
//!     .await.unwrap();
//! assert_eq!((all.len(), pages), (3, 2));
//! assert_eq!(all[2].id.0, "LOC2");
//! # });
//! ```
//!
//! ```
//! use ocpi::v221::Tariff;
//! use ocpi::validate::Validate;
//!
//! let tariff: Tariff = serde_json::from_str(r#"{
//!   "country_code": "DE", "party_id": "ALL", "id": "12", "currency": "EUR",
//!   "elements": [{"price_components": [{"type": "ENERGY", "price": 0.25, "vat": 10.0, "step_size": 1}]}],
//!   "x_vendor": 1,
//!   "last_updated": "2018-12-17T11:36:01Z"
//! }"#).unwrap();
//! tariff.validate().unwrap();
//! // unknown members are kept and written back
//! assert_eq!(serde_json::to_value(&tariff).unwrap()["x_vendor"], 1);
//! ```

pub mod client;
pub mod convert;
pub mod credentials;
pub mod handlers;
mod iso_codes;
pub(crate) mod macros;
pub mod primitives;
pub mod schema;
pub mod server;
pub mod tariff;
pub mod transport;
pub mod v211;
pub mod v221;
pub mod v230;
pub mod validate;
