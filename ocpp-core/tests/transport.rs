//! Loopback WebSocket tests of the transport: all three versions on one listener, subprotocol
//! negotiation, security profiles 1 to 3 (good and bad credentials), maximum message size,
//! keepalive, handler panics, reconnect with the offline queue, graceful shutdown.

#![cfg(all(feature = "server", feature = "client", feature = "tls"))]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use ocpp_core::transport::{
    AllowAll, Backoff, ClientError, ClientStatus, ClientTls, ConnectionInfo, ConnectionObserver,
    DisconnectReason, Server, ServerTls, StaticAuthenticator, StationClient, StationHandle,
    TransportConfig,
};
use ocpp_core::types::{decode_payload, DateTime, Decode, DecodeOptions, OcppVersion};
use ocpp_core::{
    async_trait, BootState, CallContext, CallError, CallFailure, MemoryQueue, StationConfig,
};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};

type Log = Arc<Mutex<Vec<String>>>;

fn msg<T: Decode>(json: &str) -> T {
    decode_payload(json, &DecodeOptions::STRICT).unwrap()
}

const WAIT: Duration = Duration::from_secs(10);

// ------------------------------------------------------------------------------------------
// CSMS handlers of the three versions

struct Csms16(Log);
#[async_trait]
impl ocpp16::csms::CoreHandler for Csms16 {
    async fn boot_notification(
        &self,
        ctx: &CallContext<ocpp16::Ocpp16>,
        r: ocpp16::BootNotificationRequest,
    ) -> Result<ocpp16::BootNotificationResponse, CallError> {
        self.0.lock().unwrap().push(format!(
            "1.6 boot {} {} p{}",
            ctx.station_id, r.charge_point_vendor, ctx.security_profile
        ));
        Ok(ocpp16::BootNotificationResponse::new(
            ocpp16::RegistrationStatus::Accepted,
            DateTime::now(),
            300,
        ))
    }
    async fn status_notification(
        &self,
        ctx: &CallContext<ocpp16::Ocpp16>,
        r: ocpp16::StatusNotificationRequest,
    ) -> Result<ocpp16::StatusNotificationResponse, CallError> {
        self.0
            .lock()
            .unwrap()
            .push(format!("1.6 status {} {:?}", ctx.station_id, r.status));
        Ok(ocpp16::StatusNotificationResponse::new())
    }
}

macro_rules! csms2x {
    ($name:ident, $m:ident, $p:ident, $label:literal) => {
        struct $name(Log);
        #[async_trait]
        impl $m::csms::ProvisioningHandler for $name {
            async fn boot_notification(
                &self,
                ctx: &CallContext<$m::$p>,
                r: $m::BootNotificationRequest,
            ) -> Result<$m::BootNotificationResponse, CallError> {
                self.0.lock().unwrap().push(format!(
                    "{} boot {} {} p{}",
                    $label, ctx.station_id, r.charging_station.vendor_name, ctx.security_profile
                ));
                Ok($m::BootNotificationResponse::new(
                    DateTime::now(),
                    300,
                    $m::RegistrationStatusEnumType::Accepted,
                ))
            }
        }
        #[async_trait]
        impl $m::csms::AvailabilityHandler for $name {
            async fn status_notification(
                &self,
                ctx: &CallContext<$m::$p>,
                r: $m::StatusNotificationRequest,
            ) -> Result<$m::StatusNotificationResponse, CallError> {
                if r.evse_id == 99 {
                    panic!("handler bug");
                }
                self.0.lock().unwrap().push(format!(
                    "{} status {} {:?}",
                    $label, ctx.station_id, r.connector_status
                ));
                Ok($m::StatusNotificationResponse::new())
            }
            async fn heartbeat(
                &self,
                _: &CallContext<$m::$p>,
                _: $m::HeartbeatRequest,
            ) -> Result<$m::HeartbeatResponse, CallError> {
                Ok($m::HeartbeatResponse::new(DateTime::now()))
            }
        }
        #[async_trait]
        impl $m::csms::TransactionsHandler for $name {
            async fn transaction_event(
                &self,
                ctx: &CallContext<$m::$p>,
                r: $m::TransactionEventRequest,
            ) -> Result<$m::TransactionEventResponse, CallError> {
                if r.transaction_info.transaction_id == "slow" {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                self.0.lock().unwrap().push(format!(
                    "{} tx {} {}",
                    $label, ctx.station_id, r.transaction_info.transaction_id
                ));
                Ok($m::TransactionEventResponse::new())
            }
        }
    };
}
use ocpp201::Ocpp201;
use ocpp21::Ocpp21;
csms2x!(Csms201, ocpp201, Ocpp201, "2.0.1");
csms2x!(Csms21, ocpp21, Ocpp21, "2.1");

fn routers(
    log: &Log,
) -> (
    Arc<ocpp16::csms::Router>,
    Arc<ocpp201::csms::Router>,
    Arc<ocpp21::csms::Router>,
) {
    (
        Arc::new(ocpp16::csms::Router::new().core(Csms16(log.clone()))),
        Arc::new(
            ocpp201::csms::Router::new()
                .provisioning(Csms201(log.clone()))
                .availability(Csms201(log.clone()))
                .transactions(Csms201(log.clone())),
        ),
        Arc::new(
            ocpp21::csms::Router::new()
                .provisioning(Csms21(log.clone()))
                .availability(Csms21(log.clone()))
                .transactions(Csms21(log.clone())),
        ),
    )
}

fn server_builder(log: &Log) -> ocpp_core::transport::ServerBuilder {
    let (r16, r201, r21) = routers(log);
    Server::builder()
        .path("/ocpp")
        .protocol::<ocpp16::Ocpp16>(r16)
        .protocol::<Ocpp201>(r201)
        .protocol::<Ocpp21>(r21)
}

// ------------------------------------------------------------------------------------------
// Station handlers

struct Station16(Log);
#[async_trait]
impl ocpp16::station::CoreHandler for Station16 {
    async fn get_configuration(
        &self,
        _: &CallContext<ocpp16::Ocpp16>,
        r: ocpp16::GetConfigurationRequest,
    ) -> Result<ocpp16::GetConfigurationResponse, CallError> {
        self.0
            .lock()
            .unwrap()
            .push(format!("station GetConfiguration {:?}", r.key));
        Ok(msg(
            r#"{"configurationKey":[{"key":"HeartbeatInterval","readonly":false,"value":"300"}]}"#,
        ))
    }
}

struct Station201(Log);
#[async_trait]
impl ocpp201::station::ProvisioningHandler for Station201 {
    async fn reset(
        &self,
        _: &CallContext<Ocpp201>,
        r: ocpp201::ResetRequest,
    ) -> Result<ocpp201::ResetResponse, CallError> {
        if r.evse_id == Some(7) {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        self.0
            .lock()
            .unwrap()
            .push(format!("station Reset {:?}", r.type_));
        Ok(ocpp201::ResetResponse::new(
            ocpp201::ResetStatusEnumType::Accepted,
        ))
    }
}

struct Station21;
#[async_trait]
impl ocpp21::station::ProvisioningHandler for Station21 {}

fn boot201() -> StationConfig<Ocpp201> {
    StationConfig::new(
        msg::<ocpp201::BootNotificationRequest>(
            r#"{"chargingStation":{"model":"W1","vendorName":"ACME"},"reason":"PowerUp"}"#,
        )
        .into(),
    )
}

fn fast_backoff() -> Backoff {
    let mut b = Backoff::default();
    b.initial = Duration::from_millis(50);
    b.max = Duration::from_millis(200);
    b
}

fn client201(url: &str, id: &str, log: &Log) -> ocpp_core::transport::StationClientBuilder {
    StationClient::builder(url, id)
        .version::<Ocpp201, _>(
            Arc::new(ocpp201::station::Router::new().provisioning(Station201(log.clone()))),
            boot201(),
            MemoryQueue::new(),
        )
        .backoff(fast_backoff())
}

async fn wait_accepted(c: &StationClient) -> ClientStatus {
    let mut s = c.status();
    let status = tokio::time::timeout(
        WAIT,
        s.wait_for(|s| s.boot == BootState::Accepted && s.connected.is_some()),
    )
    .await
    .expect("boot accepted in time")
    .unwrap()
    .clone();
    status
}

async fn wait_for_log(log: &Log, line: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !log.lock().unwrap().iter().any(|l| l == line) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{line:?} not logged; log: {:?}",
            log.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A raw WebSocket handshake, for the negotiation and refusal tests.
async fn raw_connect(
    addr: std::net::SocketAddr,
    path: &str,
    protocols: Option<&str>,
    auth: Option<&str>,
) -> Result<
    (
        tokio_tungstenite::WebSocketStream<TcpStream>,
        Option<String>,
    ),
    tungstenite::Error,
> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut req = format!("ws://{addr}{path}").into_client_request().unwrap();
    if let Some(p) = protocols {
        req.headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_str(p).unwrap());
    }
    if let Some(a) = auth {
        req.headers_mut()
            .insert("Authorization", HeaderValue::from_str(a).unwrap());
    }
    let (ws, resp) = tokio_tungstenite::client_async(req, tcp).await?;
    let proto = resp
        .headers()
        .get("Sec-WebSocket-Protocol")
        .map(|v| v.to_str().unwrap().to_owned());
    Ok((ws, proto))
}

fn http_status(r: Result<impl Sized, tungstenite::Error>) -> u16 {
    match r {
        Err(tungstenite::Error::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("expected an HTTP refusal, got {e}"),
        Ok(_) => panic!("expected an HTTP refusal, the upgrade succeeded"),
    }
}

// ------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_versions_on_one_listener() {
    let log = Log::default();
    let server = server_builder(&log)
        .authenticator(AllowAll)
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let url = format!("ws://{}/ocpp", server.local_addr());

    let c16 = StationClient::builder(&url, "CS 16/a")
        .version::<ocpp16::Ocpp16, _>(
            Arc::new(ocpp16::station::Router::new().core(Station16(log.clone()))),
            StationConfig::new(
                msg::<ocpp16::BootNotificationRequest>(
                    r#"{"chargePointVendor":"ACME16","chargePointModel":"W1"}"#,
                )
                .into(),
            ),
            MemoryQueue::new(),
        )
        .start()
        .unwrap();
    let c201 = client201(&url, "CS201", &log).start().unwrap();
    let c21 = StationClient::builder(&url, "CS21")
        .version::<Ocpp21, _>(
            Arc::new(ocpp21::station::Router::new().provisioning(Station21)),
            StationConfig::new(
                msg::<ocpp21::BootNotificationRequest>(
                    r#"{"chargingStation":{"model":"W1","vendorName":"ACME21"},"reason":"PowerUp"}"#,
                )
                .into(),
            ),
            MemoryQueue::new(),
        )
        .start()
        .unwrap();
    assert_eq!(wait_accepted(&c16).await.connected, Some(OcppVersion::V16));
    assert_eq!(
        wait_accepted(&c201).await.connected,
        Some(OcppVersion::V201)
    );
    assert_eq!(wait_accepted(&c21).await.connected, Some(OcppVersion::V21));
    wait_for_log(&log, "1.6 boot CS 16/a ACME16 p0").await;
    wait_for_log(&log, "2.0.1 boot CS201 ACME p0").await;
    wait_for_log(&log, "2.1 boot CS21 ACME21 p0").await;

    // Station-initiated typed calls.
    let p16 = c16.peer::<ocpp16::Ocpp16>().unwrap();
    p16.call(msg::<ocpp16::StatusNotificationRequest>(
        r#"{"connectorId":1,"errorCode":"NoError","status":"Available"}"#,
    ))
    .await
    .unwrap();
    let p201 = c201.peer::<Ocpp201>().unwrap();
    p201.call(msg::<ocpp201::StatusNotificationRequest>(
        r#"{"timestamp":"2025-01-01T00:00:00Z","connectorStatus":"Occupied","evseId":1,"connectorId":1}"#,
    ))
    .await
    .unwrap();
    let p21 = c21.peer::<Ocpp21>().unwrap();
    let hb = p21.call(ocpp21::HeartbeatRequest::new()).await.unwrap();
    assert!(hb.current_time.to_string().len() >= 20);
    wait_for_log(&log, "1.6 status CS 16/a Available").await;
    wait_for_log(&log, "2.0.1 status CS201 Occupied").await;
    assert!(c16.peer::<Ocpp201>().is_none());

    // CSMS-initiated calls from outside a handler: typed and JSON.
    let conns = server.connections();
    assert_eq!(conns.len(), 3);
    let h = conns.get("CS201").unwrap();
    assert_eq!(h.version(), OcppVersion::V201);
    let r = h
        .peer::<Ocpp201>()
        .unwrap()
        .call(ocpp201::ResetRequest::new(ocpp201::ResetEnumType::OnIdle))
        .await
        .unwrap();
    assert_eq!(r.status, ocpp201::ResetStatusEnumType::Accepted);
    wait_for_log(&log, "station Reset OnIdle").await;
    let h16 = conns.get("CS 16/a").unwrap();
    assert!(h16.peer::<Ocpp201>().is_none());
    let json = h16
        .call_json("GetConfiguration", r#"{"key":["HeartbeatInterval"]}"#)
        .await
        .unwrap();
    assert!(json.contains(r#""value":"300""#), "{json}");
    // The station does not implement Reset on 2.1: NotSupported comes back as a CALLERROR.
    let err = conns
        .get("CS21")
        .unwrap()
        .call_json("Reset", r#"{"type":"Immediate"}"#)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("NotSupported"), "{err}");
    // A payload that breaks the schema is refused before it is sent.
    assert!(h
        .call_json("Reset", r#"{"type":"Sometime"}"#)
        .await
        .is_err());

    for c in [c16, c201, c21] {
        c.shutdown().await;
    }
    server.shutdown().await;
}

#[tokio::test]
async fn subprotocol_negotiation_and_path() {
    let log = Log::default();
    let server = server_builder(&log)
        .authenticator(AllowAll)
        .preference([OcppVersion::V201, OcppVersion::V21, OcppVersion::V16])
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let a = server.local_addr();
    let (_, p) = raw_connect(a, "/ocpp/X1", Some("ocpp1.6, ocpp2.1, ocpp2.0.1"), None)
        .await
        .unwrap();
    assert_eq!(p.as_deref(), Some("ocpp2.0.1"), "server preference wins");
    let (_, p) = raw_connect(a, "/ocpp/X2", Some("ocpp1.6"), None)
        .await
        .unwrap();
    assert_eq!(p.as_deref(), Some("ocpp1.6"));
    assert_eq!(
        http_status(raw_connect(a, "/ocpp/X3", Some("ocpp1.5"), None).await),
        400
    );
    assert_eq!(
        http_status(raw_connect(a, "/ocpp/X4", None, None).await),
        400
    );
    assert_eq!(
        http_status(raw_connect(a, "/other/X5", Some("ocpp1.6"), None).await),
        404
    );
    assert_eq!(
        http_status(raw_connect(a, "/ocpp/", Some("ocpp1.6"), None).await),
        404
    );
    // Percent-decoded station id.
    let (_ws, _) = raw_connect(a, "/ocpp/A%20B", Some("ocpp2.0.1"), None)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(server.connections().get("A B").is_some());

    // A server without the 2.1 stack does not negotiate it.
    let (r16, _, _) = routers(&log);
    let only16 = Server::builder()
        .protocol::<ocpp16::Ocpp16>(r16)
        .authenticator(AllowAll)
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    assert_eq!(
        http_status(raw_connect(only16.local_addr(), "/X", Some("ocpp2.1"), None).await),
        400
    );
    only16.shutdown().await;
    server.shutdown().await;
}

#[tokio::test]
async fn security_profile_1_basic_auth() {
    let log = Log::default();
    let auth = StaticAuthenticator::new()
        .station("CS1", 1, Some("s3cret"))
        .station("TLSONLY", 2, Some("pw"));
    let server = server_builder(&log)
        .authenticator(auth)
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let url = format!("ws://{}/ocpp", server.local_addr());
    let a = server.local_addr();

    let good = client201(&url, "CS1", &log)
        .security_profile(1)
        .password("s3cret")
        .start()
        .unwrap();
    wait_accepted(&good).await;
    wait_for_log(&log, "2.0.1 boot CS1 ACME p1").await;
    good.shutdown().await;

    // Wrong password, no credentials, unknown station, user not the station id: 401.
    let basic = |s: &str| {
        use base64::Engine as _;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(s)
        )
    };
    for (path, auth) in [
        ("/ocpp/CS1", Some(basic("CS1:wrong"))),
        ("/ocpp/CS1", None),
        ("/ocpp/NOBODY", Some(basic("NOBODY:x"))),
        ("/ocpp/CS1", Some(basic("CS2:s3cret"))),
        // A plain connection to a station that must use TLS.
        ("/ocpp/TLSONLY", Some(basic("TLSONLY:pw"))),
    ] {
        let r = raw_connect(a, path, Some("ocpp2.0.1"), auth.as_deref()).await;
        assert_eq!(http_status(r), 401, "{path} {auth:?}");
    }
    // Our client reports the 401 and keeps retrying; no session starts.
    let bad = client201(&url, "CS1", &log)
        .security_profile(1)
        .password("nope")
        .start()
        .unwrap();
    let mut st = bad.status();
    let s = tokio::time::timeout(WAIT, st.wait_for(|s| s.last_error.is_some()))
        .await
        .unwrap()
        .unwrap()
        .clone();
    assert_eq!(
        s.last_error.as_deref(),
        Some(ClientError::Unauthorized.to_string().as_str())
    );
    assert_eq!(s.connections, 0);
    assert!(server.connections().is_empty());
    bad.shutdown().await;
    server.shutdown().await;
}

struct Pki {
    ca_pem: String,
    server_cert: String,
    server_key: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

fn make_pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "Test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    Pki {
        ca_pem: ca_cert.pem(),
        server_cert: cert.pem(),
        server_key: key.serialize_pem(),
        issuer,
    }
}

fn client_cert(issuer: &rcgen::Issuer<'_, rcgen::KeyPair>, cn: &str) -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "ACME");
    let cert = params.signed_by(&key, issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_profiles_2_and_3_over_tls() {
    let log = Log::default();
    let pki = make_pki();
    let tls = ServerTls::from_pem(
        pki.server_cert.as_bytes(),
        pki.server_key.as_bytes(),
        Some(pki.ca_pem.as_bytes()),
    )
    .unwrap();
    let auth = StaticAuthenticator::new()
        .station("CS2", 2, Some("pw2"))
        .station("CS3", 3, None::<&str>);
    let server = server_builder(&log)
        .authenticator(auth)
        .tls(tls)
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let port = server.local_addr().port();
    let url = format!("wss://localhost:{port}/ocpp");
    let roots = ClientTls::from_pem(pki.ca_pem.as_bytes(), None).unwrap();

    // Profile 2: TLS + Basic.
    let c2 = client201(&url, "CS2", &log)
        .security_profile(2)
        .password("pw2")
        .tls(roots.clone())
        .start()
        .unwrap();
    wait_accepted(&c2).await;
    wait_for_log(&log, "2.0.1 boot CS2 ACME p2").await;
    c2.shutdown().await;

    async fn first_error(c: StationClient) -> String {
        let mut st = c.status();
        let s = tokio::time::timeout(WAIT, st.wait_for(|s| s.last_error.is_some()))
            .await
            .unwrap()
            .unwrap()
            .clone();
        assert_eq!(s.connections, 0);
        c.shutdown().await;
        s.last_error.unwrap()
    }
    // Profile 2 with a wrong password.
    let e = first_error(
        client201(&url, "CS2", &log)
            .security_profile(2)
            .password("bad")
            .tls(roots.clone())
            .start()
            .unwrap(),
    )
    .await;
    assert!(e.contains("401"), "{e}");

    // Profile 3: a client certificate naming the station.
    let (cert, key) = client_cert(&pki.issuer, "CS3");
    let ctls = ClientTls::from_pem(
        pki.ca_pem.as_bytes(),
        Some((cert.as_bytes(), key.as_bytes())),
    )
    .unwrap();
    let c3 = client201(&url, "CS3", &log)
        .security_profile(3)
        .tls(ctls)
        .start()
        .unwrap();
    wait_accepted(&c3).await;
    wait_for_log(&log, "2.0.1 boot CS3 ACME p3").await;
    c3.shutdown().await;

    // Profile 3 with a certificate of another station: 401.
    let (cert, key) = client_cert(&pki.issuer, "CS2");
    let wrong = ClientTls::from_pem(
        pki.ca_pem.as_bytes(),
        Some((cert.as_bytes(), key.as_bytes())),
    )
    .unwrap();
    let e = first_error(
        client201(&url, "CS3", &log)
            .security_profile(3)
            .tls(wrong)
            .start()
            .unwrap(),
    )
    .await;
    assert!(e.contains("401"), "{e}");

    // Profile 3 with no certificate: 401.
    let e = first_error(
        client201(&url, "CS3", &log)
            .security_profile(3)
            .tls(roots.clone())
            .start()
            .unwrap(),
    )
    .await;
    assert!(e.contains("401"), "{e}");

    // A certificate from a CA the server does not trust: the TLS handshake fails.
    let other = make_pki();
    let (cert, key) = client_cert(&other.issuer, "CS3");
    let untrusted = ClientTls::from_pem(
        pki.ca_pem.as_bytes(),
        Some((cert.as_bytes(), key.as_bytes())),
    )
    .unwrap();
    let e = first_error(
        client201(&url, "CS3", &log)
            .security_profile(3)
            .tls(untrusted)
            .start()
            .unwrap(),
    )
    .await;
    assert!(!e.contains("401"), "{e}");

    // A plain WebSocket to the TLS-only listener gets no session.
    let plain = raw_connect(server.local_addr(), "/ocpp/CS2", Some("ocpp2.0.1"), None).await;
    assert!(plain.is_err());
    assert!(server.connections().is_empty());
    server.shutdown().await;
}

struct Lifecycle(Arc<Mutex<Vec<String>>>);
#[async_trait]
impl ConnectionObserver for Lifecycle {
    async fn connected(&self, s: &StationHandle) {
        let i = s.info();
        self.0.lock().unwrap().push(format!(
            "connected {} {} p{}",
            i.station_id, i.version, i.security_profile
        ));
    }
    async fn disconnected(&self, i: &ConnectionInfo, reason: &DisconnectReason) {
        self.0
            .lock()
            .unwrap()
            .push(format!("disconnected {} {:?}", i.station_id, reason));
    }
}

#[tokio::test]
async fn oversized_message_closes_with_1009_and_silence_times_out() {
    let log = Log::default();
    let events = Log::default();
    let mut cfg = TransportConfig::default();
    cfg.max_message_size = 1024;
    cfg.ping_interval = Some(Duration::from_millis(100));
    cfg.pong_timeout = Duration::from_millis(100);
    let server = server_builder(&log)
        .authenticator(AllowAll)
        .observer(Lifecycle(events.clone()))
        .transport(cfg)
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let a = server.local_addr();

    let (mut ws, _) = raw_connect(a, "/ocpp/BIG", Some("ocpp2.0.1"), None)
        .await
        .unwrap();
    let big = format!(
        r#"[2,"1","DataTransfer",{{"vendorId":"{}"}}]"#,
        "x".repeat(4000)
    );
    ws.send(Message::text(big)).await.unwrap();
    let mut code = None;
    while let Some(Ok(m)) = ws.next().await {
        if let Message::Close(Some(f)) = m {
            code = Some(u16::from(f.code));
            break;
        }
    }
    assert_eq!(code, Some(1009));
    wait_for_log(&events, "disconnected BIG MessageTooBig").await;

    // A peer that never reads answers no ping: dropped after ping interval + pong timeout.
    let (_silent, _) = raw_connect(a, "/ocpp/SILENT", Some("ocpp2.0.1"), None)
        .await
        .unwrap();
    wait_for_log(&events, "connected SILENT 2.0.1 p0").await;
    wait_for_log(&events, "disconnected SILENT KeepaliveTimeout").await;

    // The server lives on.
    let (mut ws, _) = raw_connect(a, "/ocpp/OK", Some("ocpp2.0.1"), None)
        .await
        .unwrap();
    ws.send(Message::text(
        r#"[2,"1","BootNotification",{"chargingStation":{"model":"W","vendorName":"V"},"reason":"PowerUp"}]"#,
    ))
    .await
    .unwrap();
    let Some(Ok(Message::Text(t))) = ws.next().await else {
        panic!("no answer")
    };
    assert!(t.as_str().starts_with(r#"[3,"1",{"#), "{t}");
    server.shutdown().await;
}

#[tokio::test]
async fn handler_panic_is_internal_error_and_connection_lives_on() {
    let log = Log::default();
    let server = server_builder(&log)
        .authenticator(AllowAll)
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let url = format!("ws://{}/ocpp", server.local_addr());
    let c = client201(&url, "P1", &log).start().unwrap();
    wait_accepted(&c).await;
    let peer = c.peer::<Ocpp201>().unwrap();
    let status = |evse: i64| {
        msg::<ocpp201::StatusNotificationRequest>(&format!(
            r#"{{"timestamp":"2025-01-01T00:00:00Z","connectorStatus":"Faulted","evseId":{evse},"connectorId":1}}"#
        ))
    };
    match peer.call(status(99)).await {
        Err(CallFailure::Error { wire_code, .. }) => assert_eq!(wire_code, "InternalError"),
        other => panic!("expected InternalError, got {other:?}"),
    }
    peer.call(status(1)).await.unwrap();
    wait_for_log(&log, "2.0.1 status P1 Faulted").await;
    assert_eq!(c.status().borrow().connections, 1, "same connection");
    c.shutdown().await;
    server.shutdown().await;
}

fn tx(id: &str) -> ocpp201::TransactionEventRequest {
    msg(&format!(
        r#"{{"eventType":"Started","timestamp":"2025-01-01T00:00:00Z","triggerReason":"Authorized","seqNo":0,"transactionInfo":{{"transactionId":"{id}"}}}}"#
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_replays_the_offline_queue() {
    let log = Log::default();
    let server = server_builder(&log)
        .authenticator(AllowAll)
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let addr = server.local_addr();
    let url = format!("ws://{addr}/ocpp");
    let c = client201(&url, "Q1", &log).start().unwrap();
    wait_accepted(&c).await;
    server.shutdown().await;
    let mut st = c.status();
    tokio::time::timeout(WAIT, st.wait_for(|s| s.connected.is_none()))
        .await
        .unwrap()
        .unwrap();

    // Offline: a transaction message waits in the queue, other calls fail at once.
    let peer = c.peer::<Ocpp201>().unwrap();
    let queued = tokio::spawn({
        let peer = peer.clone();
        async move { peer.call(tx("offline-1")).await }
    });
    let hb = peer.call(ocpp201::HeartbeatRequest::new()).await;
    assert!(matches!(hb, Err(CallFailure::Disconnected)), "{hb:?}");

    // The CSMS comes back on the same port, knowing the station was accepted before; the
    // station reconnects and replays its queue.
    struct Known;
    #[async_trait]
    impl ConnectionObserver for Known {
        async fn boot_state(&self, _: &ConnectionInfo) -> Option<BootState> {
            Some(BootState::Accepted)
        }
    }
    let server = server_builder(&log)
        .authenticator(AllowAll)
        .observer(Known)
        .bind(addr)
        .await
        .unwrap();
    tokio::time::timeout(WAIT, queued)
        .await
        .expect("replayed in time")
        .unwrap()
        .unwrap();
    wait_for_log(&log, "2.0.1 tx Q1 offline-1").await;
    assert!(c.status().borrow().connections >= 2);
    c.shutdown().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_drains_calls_in_flight() {
    let log = Log::default();
    let server = server_builder(&log)
        .authenticator(AllowAll)
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let url = format!("ws://{}/ocpp", server.local_addr());
    let c = client201(&url, "D1", &log)
        .backoff({
            let mut b = fast_backoff();
            b.initial = Duration::from_secs(30);
            b
        })
        .start()
        .unwrap();
    wait_accepted(&c).await;
    // A station call whose CSMS handler is slow, and a CSMS call whose station handler is slow.
    let peer = c.peer::<Ocpp201>().unwrap();
    let up = tokio::spawn(async move { peer.call(tx("slow")).await });
    let h = server.connections().get("D1").unwrap();
    let mut reset = ocpp201::ResetRequest::new(ocpp201::ResetEnumType::Immediate);
    reset.evse_id = Some(7);
    let down = tokio::spawn(async move { h.peer::<Ocpp201>().unwrap().call(reset).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.shutdown().await;
    up.await.unwrap().expect("the station's call was answered");
    assert_eq!(
        down.await
            .unwrap()
            .expect("the CSMS call was answered")
            .status,
        ocpp201::ResetStatusEnumType::Accepted
    );
    let last = c.status().borrow().last_error.clone();
    assert!(last.unwrap_or_default().contains("1001"));
    c.shutdown().await;
}

#[tokio::test]
async fn leniency_is_chosen_per_station() {
    struct LenientForOld;
    #[async_trait]
    impl ConnectionObserver for LenientForOld {
        async fn decode_options(&self, info: &ConnectionInfo) -> Option<DecodeOptions> {
            (&*info.station_id == "OLD1").then_some(DecodeOptions::LENIENT)
        }
    }
    let log = Log::default();
    let server = server_builder(&log)
        .authenticator(AllowAll)
        .observer(LenientForOld)
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    // A 1.6 boot with a member the schema does not define, as some firmware sends.
    let boot = r#"[2,"b1","BootNotification",{"chargePointVendor":"ACME","chargePointModel":"W","colour":"red"}]"#;
    let mut answers = Vec::new();
    for station in ["OLD1", "NEW1"] {
        let (mut ws, proto) = raw_connect(
            server.local_addr(),
            &format!("/ocpp/{station}"),
            Some("ocpp1.6"),
            None,
        )
        .await
        .unwrap();
        assert_eq!(proto.as_deref(), Some("ocpp1.6"));
        ws.send(Message::text(boot)).await.unwrap();
        let answer = loop {
            match tokio::time::timeout(WAIT, ws.next())
                .await
                .expect("an answer")
            {
                Some(Ok(Message::Text(t))) => break t.to_string(),
                Some(Ok(_)) => continue,
                other => panic!("{station}: {other:?}"),
            }
        };
        answers.push(answer);
    }
    assert!(
        answers[0].starts_with(r#"[3,"b1","#),
        "lenient station accepted: {}",
        answers[0]
    );
    assert!(
        answers[1].starts_with(r#"[4,"b1","FormationViolation""#),
        "strict station refused: {}",
        answers[1]
    );
    server.shutdown().await;
}
