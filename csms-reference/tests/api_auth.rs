//! Operator API authentication: open by default on loopback, protected with configured
//! credentials (bearer token, Basic) over every route, protected by default beyond loopback
//! with a generated token printed once by `csms serve`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use csms_reference::config::{FileSettings, Settings};
use csms_reference::server::{start, RunningCsms};

async fn csms(dir: &tempfile::TempDir, f: FileSettings) -> RunningCsms {
    let f = FileSettings {
        ocpp_listen: Some("127.0.0.1:0".into()),
        api_listen: f.api_listen.clone().or(Some("127.0.0.1:0".into())),
        database_url: Some(format!("sqlite:{}", dir.path().join("csms.db").display())),
        ..f
    };
    start(Settings::validate(f).unwrap()).await.unwrap()
}

async fn status(url: &str, auth: Option<&str>) -> (u16, Option<String>) {
    let mut r = reqwest::Client::new().get(url);
    if let Some(a) = auth {
        r = r.header("Authorization", a);
    }
    let r = r.send().await.unwrap();
    let challenge = r
        .headers()
        .get("www-authenticate")
        .map(|h| h.to_str().unwrap().to_owned());
    (r.status().as_u16(), challenge)
}

/// Every kind of route: JSON API, OpenAPI, metrics, an unknown path (the fallback), a call.
const PATHS: [&str; 5] = [
    "/api/stations",
    "/api/openapi.json",
    "/metrics",
    "/no/such/page",
    "/api/id-tokens",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_without_credentials_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let c = csms(&dir, FileSettings::default()).await;
    assert!(!c.api_protected);
    assert!(c.generated_api_token.is_none());
    let base = format!("http://{}", c.api_addr);
    assert_eq!(status(&format!("{base}/api/stations"), None).await.0, 200);
    assert_eq!(status(&format!("{base}/metrics"), None).await.0, 200);
    // A page whose DNS name was rebound to 127.0.0.1 cannot use the open API: its requests
    // carry its own name as Host. localhost is fine.
    let port = c.api_addr.port();
    let http = reqwest::Client::new();
    for (host, want) in [
        (format!("evil.example:{port}"), 403),
        (format!("localhost:{port}"), 200),
        (format!("127.0.0.1:{port}"), 200),
    ] {
        let r = http
            .get(format!("{base}/api/stations"))
            .header("Host", &host)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), want, "Host: {host}");
    }
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_token_and_basic_protect_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let c = csms(
        &dir,
        FileSettings {
            api_token: Some("tok-0123456789abcdef".into()),
            api_user: Some("operator".into()),
            api_password: Some("op-secret-1".into()),
            ..Default::default()
        },
    )
    .await;
    assert!(c.api_protected);
    assert!(c.generated_api_token.is_none(), "a token was configured");
    let base = format!("http://{}", c.api_addr);
    use base64::Engine as _;
    let basic = |s: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(s)
        )
    };
    for p in PATHS {
        let url = format!("{base}{p}");
        let (s, challenge) = status(&url, None).await;
        assert_eq!(s, 401, "{p} without credentials");
        assert!(
            challenge.as_deref().is_some_and(|c| c.starts_with("Basic")),
            "{p}: {challenge:?}"
        );
        for wrong in [
            "Bearer tok-0123456789abcdeX".to_owned(),
            "Bearer ".to_owned(),
            basic("operator:op-secret-2"),
            basic("operatoR:op-secret-1"),
            basic("tok-0123456789abcdef"),
            "tok-0123456789abcdef".to_owned(),
        ] {
            assert_eq!(
                status(&url, Some(&wrong)).await.0,
                401,
                "{p} with {wrong:?}"
            );
        }
        let want = if p == "/no/such/page" { 404 } else { 200 };
        assert_eq!(
            status(&url, Some("Bearer tok-0123456789abcdef")).await.0,
            want,
            "{p} with the token"
        );
        assert_eq!(
            status(&url, Some(&basic("operator:op-secret-1"))).await.0,
            want,
            "{p} with Basic"
        );
    }
    // A write is refused too, and nothing is written.
    let r = reqwest::Client::new()
        .post(format!("{base}/api/id-tokens"))
        .body(r#"{"idToken":"T1","status":"Accepted"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = reqwest::Client::new()
        .get(format!("{base}/api/id-tokens"))
        .bearer_auth("tok-0123456789abcdef")
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 0);
    // The refusals are counted.
    let m = reqwest::Client::new()
        .get(format!("{base}/metrics"))
        .bearer_auth("tok-0123456789abcdef")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let n: u64 = m
        .lines()
        .find_map(|l| l.strip_prefix("csms_api_auth_failures_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(n, (PATHS.len() * 7 + 1) as u64, "{m}");
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_be_public() {
    let dir = tempfile::tempdir().unwrap();
    let c = csms(
        &dir,
        FileSettings {
            api_auth: Some("on".into()),
            metrics_public: Some(true),
            ..Default::default()
        },
    )
    .await;
    let token = c
        .generated_api_token
        .clone()
        .expect("no credential: generated");
    let base = format!("http://{}", c.api_addr);
    assert_eq!(status(&format!("{base}/metrics"), None).await.0, 200);
    assert_eq!(status(&format!("{base}/api/stations"), None).await.0, 401);
    assert_eq!(
        status(
            &format!("{base}/api/stations"),
            Some(&format!("Bearer {token}"))
        )
        .await
        .0,
        200
    );
    c.shutdown().await;
}

/// `csms serve` on 0.0.0.0 with no credential: protected, with a token printed once on stdout
/// and absent from the logs.
#[test]
fn beyond_loopback_is_protected_by_default_with_a_printed_token() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_csms"))
        .arg("serve")
        .args(["--ocpp-listen", "127.0.0.1:0", "--api-listen", "0.0.0.0:0"])
        .arg("--database-url")
        .arg(format!("sqlite:{}", dir.path().join("c.db").display()))
        .env_remove("CSMS_API_TOKEN")
        .env_remove("CSMS_API_AUTH")
        .env("CSMS_LOG", "debug,sqlx=warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut port, mut token) = (None, None);
    let mut line = String::new();
    while port.is_none() || token.is_none() {
        line.clear();
        if out.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if let Some(rest) = line.strip_prefix("csms: operator API at http://0.0.0.0:") {
            port = rest.split('/').next().map(str::to_owned);
        }
        if let Some(t) = line.split("shown only here): ").nth(1) {
            token = Some(t.trim().to_owned());
        }
    }
    let (port, token) = (
        port.expect("API address printed"),
        token.expect("token printed"),
    );
    assert_eq!(token.len(), 64);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let (without, with, wrong) = rt.block_on(async {
        (
            status(&format!("{base}/api/stations"), None).await.0,
            status(
                &format!("{base}/api/stations"),
                Some(&format!("Bearer {token}")),
            )
            .await
            .0,
            status(&format!("{base}/metrics"), Some("Bearer 0000"))
                .await
                .0,
        )
    });
    assert_eq!((without, with, wrong), (401, 200, 401));
    child.kill().unwrap();
    let _ = child.wait();
    let mut logs = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut logs).unwrap();
    assert!(!logs.is_empty(), "the server logged something");
    assert!(!logs.contains(&token), "the token is never logged: {logs}");
}

/// Only a bearer token configured: a browser (which cannot send a bearer token) is asked for
/// Basic credentials and logs in with the token as the password, whatever the user name; a
/// wrong password is still refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_only_browser_logs_in_with_the_token_as_basic_password() {
    let dir = tempfile::tempdir().unwrap();
    let c = csms(
        &dir,
        FileSettings {
            api_token: Some("tok-only-0123456789".into()),
            ..Default::default()
        },
    )
    .await;
    assert!(c.api_protected);
    let base = format!("http://{}", c.api_addr);
    use base64::Engine as _;
    let basic = |s: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(s)
        )
    };
    for p in ["/", "/api/stations"] {
        let url = format!("{base}{p}");
        let (s, challenge) = status(&url, None).await;
        assert_eq!(s, 401, "{p}");
        assert!(
            challenge.as_deref().is_some_and(|c| c.starts_with("Basic")),
            "{p}: {challenge:?}"
        );
        assert_eq!(
            status(&url, Some(&basic("admin:tok-only-0123456789")))
                .await
                .0,
            200,
            "{p} with the token as the Basic password"
        );
        assert_eq!(
            status(&url, Some(&basic(":tok-only-0123456789"))).await.0,
            200,
            "{p} with an empty user"
        );
        for wrong in [
            basic("admin:tok-only-012345678"),
            basic("tok-only-0123456789:x"),
            basic("tok-only-0123456789"),
        ] {
            assert_eq!(status(&url, Some(&wrong)).await.0, 401, "{p} with {wrong}");
        }
        assert_eq!(
            status(&url, Some("Bearer tok-only-0123456789")).await.0,
            200,
            "{p} with the bearer token"
        );
    }
    c.shutdown().await;
}

/// The OCPI operator routes (merged into the API router in `server.rs`) refuse cross-site
/// writes like every other API route: a cross-site form post cannot create an eMSP partner on
/// an API open on loopback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ocpi_routes_refuse_cross_site_writes() {
    let dir = tempfile::tempdir().unwrap();
    let c = csms(
        &dir,
        FileSettings {
            ocpi: Some(csms_reference::ocpi_cpo::OcpiFileSettings {
                listen: Some("127.0.0.1:0".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
    )
    .await;
    let base = format!("http://{}", c.api_addr);
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{base}/api/ocpi/partners"))
        .header("Origin", "https://evil.example")
        .header("Content-Type", "text/plain")
        .body(r#"{"name":"x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = http
        .put(format!("{base}/api/ocpi/tariffs/T1"))
        .header("Sec-Fetch-Site", "cross-site")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let v: serde_json::Value = http
        .get(format!("{base}/api/ocpi/partners"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v.to_string().matches("\"x\"").count(), 0, "{v}");
    // Without an Origin header (a script, curl), the write goes through.
    let r = http
        .post(format!("{base}/api/ocpi/partners"))
        .body(r#"{"name":"y"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    c.shutdown().await;
}
