//! Support shared by the csms-reference integration tests: the CSMS in process or as a
//! `csms serve` child ([`process`]), simulated stations ([`station`]), the OCPI partner side
//! ([`partner`]), the stores of a run, HTTP helpers and polling.
//!
//! Each test binary includes this module with `mod common;` and uses only part of it, hence
//! the `dead_code` allowance (the usual pattern for Cargo test support modules).

#![allow(dead_code)]

pub mod partner;
pub mod process;
pub mod raw;
pub mod station;

use std::sync::Arc;
use std::time::{Duration, Instant};

use csms_reference::store::{PgStore, SqliteStore, Store};
use rust_decimal::Decimal;
use serde_json::Value;

/// The environment variable that names the PostgreSQL server of the tests.
pub const POSTGRES_ENV: &str = "OCPP_TEST_POSTGRES_URL";

/// Polls `f` until it gives a value (400 polls 50 ms apart, about 20 s: a bound, not a timing
/// assertion).
pub async fn eventually<T, F, Fut>(what: &str, f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    eventually_polls(what, 400, f).await
}

/// Polls `f` every 50 ms until it gives a value, at most `polls` times.
pub async fn eventually_polls<T, F, Fut>(what: &str, polls: usize, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..polls {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Polls `f` (every 100 ms) until it gives a value, for at most `limit` (a bound, not a timing
/// assertion).
pub async fn eventually_within<T, F, Fut>(what: &str, limit: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// One HTTP request with an optional JSON body: the status and the JSON answer (`Null` when
/// the answer is not JSON).
pub async fn api(method: reqwest::Method, url: String, body: Option<Value>) -> (u16, Value) {
    let mut r = reqwest::Client::new().request(method, url);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// `GET {api}{path}`.
pub async fn get(api_url: &str, path: &str) -> (u16, Value) {
    api(reqwest::Method::GET, format!("{api_url}{path}"), None).await
}

/// `POST {api}{path}` with a JSON body.
pub async fn post(api_url: &str, path: &str, body: Value) -> (u16, Value) {
    api(
        reqwest::Method::POST,
        format!("{api_url}{path}"),
        Some(body),
    )
    .await
}

/// `PUT {api}{path}` with a JSON body.
pub async fn put(api_url: &str, path: &str, body: Value) -> (u16, Value) {
    api(reqwest::Method::PUT, format!("{api_url}{path}"), Some(body)).await
}

/// `DELETE {api}{path}`.
pub async fn delete(api_url: &str, path: &str) -> (u16, Value) {
    api(reqwest::Method::DELETE, format!("{api_url}{path}"), None).await
}

/// A JSON number as a decimal, exactly as written.
pub fn dec(v: &Value) -> Decimal {
    use std::str::FromStr;
    Decimal::from_str(&v.to_string()).unwrap_or_else(|_| panic!("{v} is not a number"))
}

/// `base` plus `minutes`, in RFC 3339 to the second.
pub fn t(base: chrono::DateTime<chrono::Utc>, minutes: i64) -> String {
    (base + chrono::TimeDelta::minutes(minutes)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A name unique to this process and moment (PostgreSQL schema names).
pub fn unique() -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{}_{}", std::process::id(), n)
}

/// One store of a run, and what to clean up after it.
pub struct Backend {
    /// `sqlite` or `postgres`.
    pub name: &'static str,
    /// The store.
    pub store: Arc<dyn Store>,
    /// The SQLite file's directory, removed with the backend.
    pub dir: Option<tempfile::TempDir>,
    /// The PostgreSQL store and its schema, dropped by [`Backend::cleanup`].
    pub pg_schema: Option<(PgStore, String)>,
}

impl Backend {
    /// Drops the PostgreSQL schema of the run.
    pub async fn cleanup(self) {
        if let Some((pg, schema)) = self.pg_schema {
            sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                .execute(pg.pool())
                .await
                .unwrap();
        }
    }
}

/// The stores of a run: SQLite always (a file in a temp directory), PostgreSQL in a fresh
/// schema named `{prefix}_{unique}` when OCPP_TEST_POSTGRES_URL is set (said when skipped).
pub async fn backends(test: &str, prefix: &str) -> Vec<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("csms.db").display());
    let mut out = vec![Backend {
        name: "sqlite",
        store: Arc::new(SqliteStore::connect(&url).await.unwrap()),
        dir: Some(dir),
        pg_schema: None,
    }];
    match std::env::var(POSTGRES_ENV) {
        Ok(url) => {
            let schema = format!("{prefix}_{}", unique());
            let pg = PgStore::connect_in_schema(&url, Some(&schema))
                .await
                .unwrap();
            out.push(Backend {
                name: "postgres",
                store: Arc::new(pg.clone()),
                dir: None,
                pg_schema: Some((pg, schema)),
            });
        }
        Err(_) => println!("SKIPPED {test} on postgres: {POSTGRES_ENV} is not set"),
    }
    out
}

/// Polls `check` (every 100 ms) until it holds; panics with `what` after `limit`.
pub async fn wait_until<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = Instant::now() + limit;
    while !check().await {
        assert!(
            Instant::now() < end,
            "still not true after {limit:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The text of `{api}/metrics`.
pub async fn metrics(api_url: &str) -> String {
    reqwest::get(format!("{api_url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// A client WebSocket text frame (masked with the key 0, so the payload is written as it is).
pub fn text_frame(payload: &str) -> Vec<u8> {
    let p = payload.as_bytes();
    let mut f = vec![0x81u8];
    match p.len() {
        n if n < 126 => f.push(0x80 | n as u8),
        n if n <= 0xffff => {
            f.push(0x80 | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(0x80 | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    f.extend_from_slice(&[0, 0, 0, 0]);
    f.extend_from_slice(p);
    f
}

/// The admin URL of the test PostgreSQL server, or `None` after a SKIPPED line for `test`.
pub fn postgres_url(test: &str) -> Option<String> {
    match std::env::var(POSTGRES_ENV) {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            println!("SKIPPED {test}: {POSTGRES_ENV} is not set");
            None
        }
    }
}

/// A database of its own on the test PostgreSQL server, dropped by [`PgDatabase::drop_it`].
pub struct PgDatabase {
    /// A pool on the admin URL.
    pub admin: sqlx::PgPool,
    /// The database's name.
    pub name: String,
    /// The database's URL.
    pub url: String,
}

impl PgDatabase {
    /// Creates the database `{prefix}_{pid}_{millis}` on the server of `admin_url`.
    pub async fn create(admin_url: &str, prefix: &str) -> Self {
        let admin = sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect(admin_url)
            .await
            .unwrap();
        let name = format!(
            "{prefix}_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis()
        );
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap();
        let base = admin_url.split('?').next().unwrap();
        let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
        PgDatabase { admin, name, url }
    }

    /// Drops the database (connections allowed again first, then forced out).
    pub async fn drop_it(self) {
        let _ = sqlx::query(&format!(
            "ALTER DATABASE {} ALLOW_CONNECTIONS true",
            self.name
        ))
        .execute(&self.admin)
        .await;
        let _ = sqlx::query(&format!("DROP DATABASE {} WITH (FORCE)", self.name))
            .execute(&self.admin)
            .await;
    }
}

/// The URL of a SQLite database file `csms.db` in `dir`.
pub fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite:{}", dir.path().join("csms.db").display())
}

/// Settings of a CSMS on loopback with free ports (stations and API) and the database
/// `database_url`; the caller completes them (`..loopback(url)`) and validates them.
pub fn loopback(database_url: String) -> csms_reference::config::FileSettings {
    csms_reference::config::FileSettings {
        ocpp_listen: Some("127.0.0.1:0".into()),
        api_listen: Some("127.0.0.1:0".into()),
        database_url: Some(database_url),
        ..Default::default()
    }
}
