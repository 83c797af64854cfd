//! The OCPI client (reqwest): authenticated requests with request and correlation ids, envelope
//! decoding, pagination followed to the end, retries with exponential backoff that honour
//! `Retry-After`, version discovery and the registration handshake. An observer
//! ([`Client::with_observer`]) sees every attempt ([`Exchange`]: ids, statuses, duration, never
//! the token), e.g. for an audit log.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::credentials::{generate_token, initiator};
use crate::handlers::ChargingProfileAsyncResult;
use crate::transport::{
    authorization_header, headers, parse_next_link, Envelope, PageQuery, Routing, StatusCode,
    TokenEncoding,
};
use crate::v221::{
    ActiveChargingProfile, ChargingPreferences, ChargingPreferencesResponse,
    ChargingProfileResponse, CommandResponse, CommandResult, CommandResultType, CommandType,
    Credentials, Role, SetChargingProfile, Version, VersionDetails, VersionNumber,
};

/// Our credentials in the form of `version` (2.1.1: the first role's party, no roles).
fn credentials_to_wire(
    version: &VersionNumber,
    our: &Credentials,
) -> Result<serde_json::Value, ClientError> {
    let v211 = matches!(
        version,
        VersionNumber::V2_0 | VersionNumber::V2_1 | VersionNumber::V2_1_1
    );
    if v211 {
        let c = crate::convert::credentials_221_to_211(our).ok_or(ClientError::Body {
            status: 0,
            message: "our credentials name no role".into(),
        })?;
        serde_json::to_value(c.value)
    } else {
        serde_json::to_value(our)
    }
    .map_err(|e| ClientError::Body {
        status: 0,
        message: e.to_string(),
    })
}

/// Credentials as received: 2.2.1 and later ones as they are, 2.1.1 ones (without `roles`)
/// as one role of kind `role`.
pub(crate) fn credentials_from_wire(
    v: serde_json::Value,
    role: &Role,
) -> Result<Credentials, ClientError> {
    let body = |e: serde_json::Error| ClientError::Body {
        status: 200,
        message: format!("not a Credentials object: {e}"),
    };
    if v.get("roles").is_some() {
        serde_json::from_value(v).map_err(body)
    } else {
        let c: crate::v211::Credentials = serde_json::from_value(v).map_err(body)?;
        Ok(crate::convert::credentials_211_to_221(&c, role.clone()))
    }
}

/// The 2.1.1 `CommandResponseType` nearest to a 2.2.1 `CommandResultType`.
fn command_result_as_211(r: &CommandResultType) -> &str {
    match r {
        CommandResultType::Accepted => "ACCEPTED",
        CommandResultType::NotSupported => "NOT_SUPPORTED",
        CommandResultType::Timeout => "TIMEOUT",
        CommandResultType::Unknown(s) => s,
        _ => "REJECTED",
    }
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// Transport failure (connection, timeout) after the retries.
    #[error("HTTP transport: {0}")]
    Http(#[from] reqwest::Error),
    /// The body is not an OCPI envelope of the expected type.
    #[error("unexpected response body (HTTP {status}): {message}")]
    Body {
        /// HTTP status.
        status: u16,
        /// Decoding error.
        message: String,
    },
    /// The server answered with an OCPI or HTTP error.
    #[error("HTTP {status}, OCPI {code}: {message}")]
    Ocpi {
        /// HTTP status.
        status: u16,
        /// OCPI status code.
        code: StatusCode,
        /// Status message.
        message: String,
    },
    /// The handshake failed.
    #[error("handshake: {0}")]
    Handshake(#[from] initiator::HandshakeError),
    /// A paginated list whose `Link` rel="next" leads back to a page already fetched (or
    /// that goes on past [`Client::MAX_PAGES`]): following it would never end, and stopping
    /// quietly would return part of the list as if it were all of it.
    #[error("pagination does not end: {0}")]
    Pagination(String),
    /// HTTP 429 with a `Retry-After` longer than the policy's `max_delay`: the client does not
    /// retry earlier than the server allows, it gives up.
    #[error("rate limited: retry after {retry_after:?}")]
    RateLimited {
        /// The wait the server asked for.
        retry_after: Duration,
    },
    /// The process's fetch policy ([`set_fetch_policy`]) refused the URL; nothing was sent.
    #[error("URL not allowed: {0}")]
    NotAllowed(String),
}

/// Decides whether a [`Client`] may request a URL, from the URL's host and the addresses it
/// resolves to: `Err(reason)` refuses it. See [`set_fetch_policy`].
pub type FetchPolicy =
    std::sync::Arc<dyn Fn(&str, &[std::net::IpAddr]) -> Result<(), String> + Send + Sync>;

static FETCH_POLICY: std::sync::RwLock<Option<FetchPolicy>> = std::sync::RwLock::new(None);

/// Sets (`None`: clears) the process-wide policy every [`Client`] applies before each request.
/// The URLs a peer gives (its versions URL and endpoints, a `response_url`) are checked
/// against it, so that a partner cannot make the server call into its internal network: the
/// host is resolved first and the policy gets all its addresses; a refused URL fails with
/// [`ClientError::NotAllowed`] without any connection. A name that resolves to another address
/// by the time of the connection (DNS rebinding) is not caught: allow-list names you trust.
pub fn set_fetch_policy(policy: Option<FetchPolicy>) {
    *FETCH_POLICY.write().unwrap_or_else(|e| e.into_inner()) = policy;
}

async fn check_fetch_policy(url: &str) -> Result<(), ClientError> {
    let policy = FETCH_POLICY
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let Some(policy) = policy else {
        return Ok(());
    };
    let not = |why: String| ClientError::NotAllowed(format!("{url}: {why}"));
    let u = reqwest::Url::parse(url).map_err(|e| not(e.to_string()))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(not("not http(s)".into()));
    }
    let host = u.host_str().ok_or_else(|| not("no host".into()))?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<std::net::IpAddr> = match bare.parse::<std::net::IpAddr>() {
        Ok(a) => vec![a],
        Err(_) => {
            let port = u.port_or_known_default().unwrap_or(80);
            tokio::net::lookup_host((bare, port))
                .await
                .map(|it| it.map(|s| s.ip()).collect())
                .unwrap_or_default()
        }
    };
    policy(bare, &addrs).map_err(not)
}

impl ClientError {
    /// The OCPI status code, when the server sent one.
    pub fn status_code(&self) -> Option<StatusCode> {
        match self {
            ClientError::Ocpi { code, .. } => Some(*code),
            _ => None,
        }
    }
    /// The HTTP status, when a response arrived.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            ClientError::Ocpi { status, .. } | ClientError::Body { status, .. } => Some(*status),
            ClientError::Http(e) => e.status().map(|s| s.as_u16()),
            ClientError::RateLimited { .. } => Some(429),
            ClientError::Handshake(_) | ClientError::Pagination(_) | ClientError::NotAllowed(_) => {
                None
            }
        }
    }
}

/// Retry policy: exponential backoff from `base`, doubled per attempt, capped at `max_delay`.
///
/// Retried: connection failures and timeouts (any method: the request did not arrive or
/// was not answered), HTTP 429 (any method: the server did not process it; the client waits
/// `Retry-After`, in seconds or as an HTTP date, and gives up with
/// [`ClientError::RateLimited`] when that is longer than `max_delay`), and HTTP 5xx for the
/// idempotent methods GET, PUT and DELETE only (a POST or PATCH may have had its effect).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all (1 = no retry).
    pub attempts: u32,
    /// First delay.
    pub base: Duration,
    /// Largest delay; a longer `Retry-After` is not waited for.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base: Duration::from_millis(200),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The delay before retry number `n` (0-based).
    pub fn delay(&self, n: u32) -> Duration {
        self.base
            .saturating_mul(1u32 << n.min(16))
            .min(self.max_delay)
    }
}

/// A client that calls one peer with one credentials token.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    token: String,
    encoding: TokenEncoding,
    routing: Option<Routing>,
    correlation_id: Option<String>,
    observer: Option<Observer>,
    /// Retry policy.
    pub retry: RetryPolicy,
}

/// One HTTP exchange of a [`Client`] as its observer sees it (one per attempt): enough for an
/// audit log, never the `Authorization` header or a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// HTTP method.
    pub method: String,
    /// The URL requested.
    pub url: String,
    /// The `X-Request-ID` sent.
    pub request_id: String,
    /// The `X-Correlation-ID` sent.
    pub correlation_id: String,
    /// The HTTP status, when a response arrived.
    pub http_status: Option<u16>,
    /// The OCPI `status_code` of the response envelope, when it has one.
    pub ocpi_status: Option<u16>,
    /// The `Retry-After` of the response, when it sent one.
    pub retry_after: Option<Duration>,
    /// The transport or decoding error, when the exchange failed before an envelope was read.
    pub error: Option<String>,
    /// From sending the request to reading the response body.
    pub duration: Duration,
}

/// A callback that sees every [`Exchange`] of a [`Client`] ([`Client::with_observer`]).
#[derive(Clone)]
pub struct Observer(pub std::sync::Arc<dyn Fn(&Exchange) + Send + Sync>);

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Observer")
    }
}

/// A response with its pagination headers.
#[derive(Debug, Clone)]
pub struct Response<T> {
    /// HTTP status.
    pub status: u16,
    /// The envelope.
    pub envelope: Envelope<T>,
    /// `Link` rel="next".
    pub next: Option<String>,
    /// `X-Total-Count`.
    pub total_count: Option<usize>,
    /// `X-Limit`.
    pub limit: Option<usize>,
    /// `Location` (the URL of a CDR created with POST).
    pub location: Option<String>,
}

/// Reads a `Retry-After` value: seconds, or an HTTP date (the wait until then, zero when past).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// `url` with path segments appended (`/` between them, whether `url` ends with one or not;
/// characters outside the unreserved set of RFC 3986 percent-encoded).
pub fn join_url(url: &str, segments: &[&str]) -> String {
    let mut out = url.trim_end_matches('/').to_owned();
    for s in segments {
        out.push('/');
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'*' => {
                    out.push(b as char)
                }
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
    }
    out
}

fn encode_component(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn request_id() -> String {
    generate_token()[..32].to_owned()
}

impl Client {
    /// A client using `token`, encoded as the version requires (requests time out after 30
    /// seconds).
    pub fn new(token: impl Into<String>, encoding: TokenEncoding) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Client {
            http,
            token: token.into(),
            encoding,
            routing: None,
            correlation_id: None,
            observer: None,
            retry: RetryPolicy::default(),
        }
    }

    /// The same client calling `observer` after every attempt of every request (request and
    /// correlation ids, statuses, duration; e.g. for an audit log or metrics).
    pub fn with_observer(mut self, observer: impl Fn(&Exchange) + Send + Sync + 'static) -> Self {
        self.observer = Some(Observer(std::sync::Arc::new(observer)));
        self
    }

    /// The same client sending `correlation_id` as the `X-Correlation-ID` of every request
    /// (for the requests that a request caused, e.g. the asynchronous result of a command);
    /// without it, each request gets a new correlation id.
    pub fn with_correlation_id(mut self, correlation_id: impl Into<String>) -> Self {
        self.correlation_id = Some(correlation_id.into());
        self
    }

    /// The same client sending the `OCPI-from-*` / `OCPI-to-*` routing headers on every
    /// request (required from 2.2 on when a request goes through a hub or to a platform of
    /// several parties). The specification forbids them on versions, credentials and hub
    /// client info: call those with a client without routing.
    pub fn with_routing(mut self, routing: Routing) -> Self {
        self.routing = Some(routing);
        self
    }

    /// The credentials token in use.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Sends a request and decodes the envelope; retries as [`RetryPolicy`] says. Every attempt
    /// has its own `X-Request-ID`; all attempts share one `X-Correlation-ID`.
    pub async fn request<B: Serialize, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&B>,
    ) -> Result<Response<T>, ClientError> {
        check_fetch_policy(url).await?;
        let correlation = self.correlation_id.clone().unwrap_or_else(request_id);
        let mut attempt = 0;
        loop {
            let rid = request_id();
            let started = std::time::Instant::now();
            let observe = |http_status: Option<u16>,
                           ocpi_status: Option<u16>,
                           retry_after: Option<Duration>,
                           error: Option<String>| {
                if let Some(o) = &self.observer {
                    (o.0)(&Exchange {
                        method: method.to_string(),
                        url: url.to_owned(),
                        request_id: rid.clone(),
                        correlation_id: correlation.clone(),
                        http_status,
                        ocpi_status,
                        retry_after,
                        error,
                        duration: started.elapsed(),
                    });
                }
            };
            let mut rb = self
                .http
                .request(method.clone(), url)
                .header(
                    headers::AUTHORIZATION,
                    authorization_header(&self.token, self.encoding),
                )
                .header(headers::X_REQUEST_ID, &rid)
                .header(headers::X_CORRELATION_ID, &correlation);
            for (name, value) in self.routing.iter().flat_map(Routing::headers) {
                rb = rb.header(name, value);
            }
            if let Some(b) = body {
                rb = rb.json(b);
            }
            let last = attempt + 1 >= self.retry.attempts;
            let resp = match rb.send().await {
                Ok(r) => r,
                Err(e) if !last && (e.is_connect() || e.is_timeout()) => {
                    observe(None, None, None, Some(e.to_string()));
                    tokio::time::sleep(self.retry.delay(attempt)).await;
                    attempt += 1;
                    continue;
                }
                Err(e) => {
                    observe(None, None, None, Some(e.to_string()));
                    return Err(e.into());
                }
            };
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let idempotent = matches!(
                method,
                reqwest::Method::GET | reqwest::Method::PUT | reqwest::Method::DELETE
            );
            if !last && (status == 429 || (status >= 500 && idempotent)) {
                observe(Some(status), None, retry_after, None);
                let wait = match retry_after {
                    Some(w) if w > self.retry.max_delay => {
                        return Err(ClientError::RateLimited { retry_after: w })
                    }
                    Some(w) => w,
                    None => self.retry.delay(attempt),
                };
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            let h = resp.headers();
            let header = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
            let next = header(headers::LINK).and_then(|l| parse_next_link(&l));
            let total_count = header(headers::X_TOTAL_COUNT).and_then(|v| v.parse().ok());
            let limit = header(headers::X_LIMIT).and_then(|v| v.parse().ok());
            let location = header(headers::LOCATION);
            let bytes = match resp.bytes().await {
                Ok(b) => b,
                Err(e) => {
                    observe(Some(status), None, retry_after, Some(e.to_string()));
                    return Err(e.into());
                }
            };
            let env: Envelope<serde_json::Value> = match serde_json::from_slice(&bytes) {
                Ok(env) => env,
                Err(e) => {
                    observe(Some(status), None, retry_after, Some(e.to_string()));
                    return Err(ClientError::Body {
                        status,
                        message: e.to_string(),
                    });
                }
            };
            observe(Some(status), Some(env.status_code.0), retry_after, None);
            if !env.status_code.is_success() || status >= 400 {
                return Err(ClientError::Ocpi {
                    status,
                    code: env.status_code,
                    message: env.status_message.map(|m| m.0).unwrap_or_default(),
                });
            }
            let data = env
                .data
                .map(serde_json::from_value)
                .transpose()
                .map_err(|e| ClientError::Body {
                    status,
                    message: e.to_string(),
                })?;
            return Ok(Response {
                status,
                envelope: Envelope {
                    data,
                    status_code: env.status_code,
                    status_message: env.status_message,
                    timestamp: env.timestamp,
                    extra: env.extra,
                },
                next,
                total_count,
                limit,
                location,
            });
        }
    }

    /// GET returning the data.
    pub async fn get<T: DeserializeOwned>(&self, url: &str) -> Result<T, ClientError> {
        let r = self
            .request::<(), T>(reqwest::Method::GET, url, None)
            .await?;
        r.envelope.data.ok_or(ClientError::Body {
            status: r.status,
            message: "no data".into(),
        })
    }

    /// The most pages [`Client::get_all`] follows.
    pub const MAX_PAGES: usize = 100_000;

    /// GETs a paginated list and follows `Link` rel="next" to the end; returns the objects and
    /// the number of pages fetched. A `Link` back to a page already fetched, or more than
    /// [`Client::MAX_PAGES`] pages, is [`ClientError::Pagination`].
    pub async fn get_all<T: DeserializeOwned>(
        &self,
        url: &str,
        query: &PageQuery,
    ) -> Result<(Vec<T>, usize), ClientError> {
        let q = query.to_query_string();
        let mut next = Some(if q.is_empty() {
            url.to_owned()
        } else {
            format!("{url}?{q}")
        });
        let mut out = Vec::new();
        let mut pages = 0;
        let mut seen = std::collections::HashSet::new();
        while let Some(u) = next.take() {
            if pages >= Self::MAX_PAGES {
                return Err(ClientError::Pagination(format!(
                    "more than {} pages",
                    Self::MAX_PAGES
                )));
            }
            let r = self
                .request::<(), Vec<T>>(reqwest::Method::GET, &u, None)
                .await?;
            pages += 1;
            seen.insert(u);
            out.extend(r.envelope.data.unwrap_or_default());
            next = r.next;
            if let Some(n) = next.as_ref().filter(|n| seen.contains(*n)) {
                return Err(ClientError::Pagination(format!(
                    "the next page {n} was fetched already"
                )));
            }
        }
        Ok((out, pages))
    }

    /// Sends a request whose answer carries no data (e.g. a PUT to a Receiver interface);
    /// returns the HTTP status (200 updated, 201 created).
    pub async fn send<B: Serialize>(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&B>,
    ) -> Result<u16, ClientError> {
        Ok(self
            .request::<B, serde_json::Value>(method, url, body)
            .await?
            .status)
    }

    /// Receiver interface of a data module: GET one client-owned object (or EVSE/connector)
    /// at `{endpoint}/{country_code}/{party_id}/{id}[/…]`.
    pub async fn get_object<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        path: &[&str],
    ) -> Result<T, ClientError> {
        self.get(&join_url(endpoint, path)).await
    }

    /// Receiver interface of a data module: PUT an object (201 when created, 200 when
    /// replaced).
    pub async fn put_object<B: Serialize>(
        &self,
        endpoint: &str,
        path: &[&str],
        object: &B,
    ) -> Result<u16, ClientError> {
        self.send(
            reqwest::Method::PUT,
            &join_url(endpoint, path),
            Some(object),
        )
        .await
    }

    /// Receiver interface of a data module: PATCH an object (the patch must hold
    /// `last_updated`).
    pub async fn patch_object(
        &self,
        endpoint: &str,
        path: &[&str],
        patch: &serde_json::Value,
    ) -> Result<u16, ClientError> {
        self.send(
            reqwest::Method::PATCH,
            &join_url(endpoint, path),
            Some(patch),
        )
        .await
    }

    /// Receiver interface of a data module: DELETE an object.
    pub async fn delete_object(&self, endpoint: &str, path: &[&str]) -> Result<u16, ClientError> {
        self.send::<()>(reqwest::Method::DELETE, &join_url(endpoint, path), None)
            .await
    }

    /// Commands, Receiver interface: POSTs a command (`body` is the `StartSession`,
    /// `StopSession`, … of the peer's version) to `{endpoint}/{command}` and returns the
    /// synchronous answer. A 2.1.1 answer has only `result`; its `timeout` reads as 0.
    pub async fn send_command<B: Serialize>(
        &self,
        endpoint: &str,
        command: &CommandType,
        body: &B,
    ) -> Result<CommandResponse, ClientError> {
        let r = self
            .request::<B, serde_json::Value>(
                reqwest::Method::POST,
                &join_url(endpoint, &[command.as_str()]),
                Some(body),
            )
            .await?;
        let status = r.status;
        let mut v = r.envelope.data.ok_or(ClientError::Body {
            status,
            message: "no CommandResponse in the answer".into(),
        })?;
        if let Some(o) = v.as_object_mut() {
            o.entry("timeout").or_insert(serde_json::Value::from(0));
        }
        serde_json::from_value(v).map_err(|e| ClientError::Body {
            status,
            message: e.to_string(),
        })
    }

    /// Commands, Sender interface: POSTs the asynchronous result of a command to the
    /// `response_url` the sender gave. On 2.1.1 the body is a `CommandResponse` with the
    /// nearest 2.1.1 value (`REJECTED` for the results 2.1.1 does not have).
    pub async fn post_command_result(
        &self,
        response_url: &str,
        version: &VersionNumber,
        result: &CommandResult,
    ) -> Result<(), ClientError> {
        let body = if matches!(
            version,
            VersionNumber::V2_1_1 | VersionNumber::V2_0 | VersionNumber::V2_1
        ) {
            serde_json::json!({ "result": command_result_as_211(&result.result) })
        } else {
            serde_json::to_value(result).map_err(|e| ClientError::Body {
                status: 0,
                message: e.to_string(),
            })?
        };
        self.send(reqwest::Method::POST, response_url, Some(&body))
            .await
            .map(drop)
    }

    /// Charging profiles, Receiver interface: GET
    /// `{endpoint}/{session_id}?duration=..&response_url=..`; the `ActiveChargingProfileResult`
    /// follows at `response_url`.
    pub async fn get_active_charging_profile(
        &self,
        endpoint: &str,
        session_id: &str,
        duration: u32,
        response_url: &str,
    ) -> Result<ChargingProfileResponse, ClientError> {
        let url = format!(
            "{}?duration={duration}&response_url={}",
            join_url(endpoint, &[session_id]),
            encode_component(response_url)
        );
        self.get(&url).await
    }

    /// Charging profiles, Receiver interface: PUT a `SetChargingProfile` on a session; the
    /// `ChargingProfileResult` follows at its `response_url`.
    pub async fn set_charging_profile(
        &self,
        endpoint: &str,
        session_id: &str,
        request: &SetChargingProfile,
    ) -> Result<ChargingProfileResponse, ClientError> {
        self.data(
            reqwest::Method::PUT,
            &join_url(endpoint, &[session_id]),
            Some(request),
        )
        .await
    }

    /// Charging profiles, Receiver interface: DELETE `{endpoint}/{session_id}?response_url=..`;
    /// the `ClearProfileResult` follows at `response_url`.
    pub async fn clear_charging_profile(
        &self,
        endpoint: &str,
        session_id: &str,
        response_url: &str,
    ) -> Result<ChargingProfileResponse, ClientError> {
        let url = format!(
            "{}?response_url={}",
            join_url(endpoint, &[session_id]),
            encode_component(response_url)
        );
        self.data::<(), _>(reqwest::Method::DELETE, &url, None)
            .await
    }

    /// Charging profiles, Sender interface: POSTs an asynchronous result to a `response_url`.
    pub async fn post_charging_profile_result(
        &self,
        response_url: &str,
        result: &ChargingProfileAsyncResult,
    ) -> Result<(), ClientError> {
        self.send(reqwest::Method::POST, response_url, Some(result))
            .await
            .map(drop)
    }

    /// Charging profiles, Sender interface: PUT an updated `ActiveChargingProfile` of a
    /// session to `{endpoint}/{session_id}`.
    pub async fn put_active_charging_profile(
        &self,
        endpoint: &str,
        session_id: &str,
        profile: &ActiveChargingProfile,
    ) -> Result<(), ClientError> {
        self.send(
            reqwest::Method::PUT,
            &join_url(endpoint, &[session_id]),
            Some(profile),
        )
        .await
        .map(drop)
    }

    /// CDRs, Receiver interface: POSTs a new CDR (of the peer's version) to the cdrs endpoint;
    /// returns the URL of the CDR in the peer's system (the `Location` header).
    pub async fn post_cdr<B: Serialize>(
        &self,
        endpoint: &str,
        cdr: &B,
    ) -> Result<String, ClientError> {
        let r = self
            .request::<B, serde_json::Value>(reqwest::Method::POST, endpoint, Some(cdr))
            .await?;
        r.location.ok_or(ClientError::Body {
            status: r.status,
            message: "no Location header in the answer to a CDR POST".into(),
        })
    }

    /// Tokens, Sender interface: real-time authorization of a token,
    /// `POST {endpoint}/{token_uid}/authorize?type={token_type}` with the `LocationReferences`
    /// when given; `T` is the version's `AuthorizationInfo`
    /// ([`crate::v221::AuthorizationInfo`], [`crate::v211::AuthorizationInfo`], ...).
    pub async fn authorize_token<T: DeserializeOwned, L: Serialize>(
        &self,
        endpoint: &str,
        token_uid: &str,
        token_type: &str,
        location: Option<&L>,
    ) -> Result<T, ClientError> {
        let url = format!(
            "{}?type={}",
            join_url(endpoint, &[token_uid, "authorize"]),
            encode_component(token_type)
        );
        self.data(reqwest::Method::POST, &url, location).await
    }

    /// Sessions, Sender interface: `PUT {endpoint}/{session_id}/charging_preferences`.
    pub async fn set_charging_preferences(
        &self,
        endpoint: &str,
        session_id: &str,
        preferences: &ChargingPreferences,
    ) -> Result<ChargingPreferencesResponse, ClientError> {
        self.data(
            reqwest::Method::PUT,
            &join_url(endpoint, &[session_id, "charging_preferences"]),
            Some(preferences),
        )
        .await
    }

    /// Hub client info, Receiver interface: PUT a `ClientInfo` (of 2.2.1 or 2.3.0) to
    /// `{endpoint}/{country_code}/{party_id}`.
    pub async fn put_client_info<B: Serialize>(
        &self,
        endpoint: &str,
        country_code: &str,
        party_id: &str,
        info: &B,
    ) -> Result<u16, ClientError> {
        self.put_object(endpoint, &[country_code, party_id], info)
            .await
    }

    /// Hub client info, Receiver interface: GET the `ClientInfo` of a party.
    pub async fn get_client_info<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        country_code: &str,
        party_id: &str,
    ) -> Result<T, ClientError> {
        self.get_object(endpoint, &[country_code, party_id]).await
    }

    async fn data<B: Serialize, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&B>,
    ) -> Result<T, ClientError> {
        let r = self.request::<B, T>(method, url, body).await?;
        r.envelope.data.ok_or(ClientError::Body {
            status: r.status,
            message: "no data".into(),
        })
    }

    /// Updates our credentials at the peer (PUT on its credentials endpoint, with the current
    /// `TOKEN_C`): `our` holds the new token the peer is to call us with; returns the peer's
    /// credentials, whose token is the new `TOKEN_C`. On 2.1.1 the credentials are sent and
    /// read in the 2.1.1 form (the peer's role then is the one opposite ours).
    pub async fn update_credentials(
        &self,
        credentials_url: &str,
        version: &VersionNumber,
        our: &Credentials,
    ) -> Result<Credentials, ClientError> {
        let body = credentials_to_wire(version, our)?;
        let answer: serde_json::Value = self
            .data(reqwest::Method::PUT, credentials_url, Some(&body))
            .await?;
        let peer_role = crate::convert::peer_role_211(
            &our.roles.first().map_or(Role::Emsp, |r| r.role.clone()),
        );
        credentials_from_wire(answer, &peer_role)
    }

    /// Unregisters from the peer (DELETE on its credentials endpoint): our token stops working.
    pub async fn unregister(&self, credentials_url: &str) -> Result<(), ClientError> {
        self.send::<()>(reqwest::Method::DELETE, credentials_url, None)
            .await
            .map(drop)
    }

    /// The peer's versions.
    pub async fn versions(&self, versions_url: &str) -> Result<Vec<Version>, ClientError> {
        self.get(versions_url).await
    }

    /// The endpoints of one version. 2.1.1 details name no interface roles: they are filled
    /// in as a CPO offers them (see [`crate::convert::interface_211`]); use
    /// [`Client::version_details_of`] for a peer of another role.
    pub async fn version_details(&self, url: &str) -> Result<VersionDetails, ClientError> {
        self.version_details_of(url, &Role::Cpo).await
    }

    /// The endpoints of one version of a peer of role `peer` (which gives the interface of
    /// each endpoint of 2.1.1 details, where they are not named).
    pub async fn version_details_of(
        &self,
        url: &str,
        peer: &Role,
    ) -> Result<VersionDetails, ClientError> {
        let v: serde_json::Value = self.get(url).await?;
        let body = |e: serde_json::Error| ClientError::Body {
            status: 200,
            message: e.to_string(),
        };
        let roleless = v["endpoints"]
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e.get("role").is_none()));
        if roleless {
            let d: crate::v211::VersionDetails = serde_json::from_value(v).map_err(body)?;
            Ok(crate::convert::version_details_211_to_221(&d, peer))
        } else {
            serde_json::from_value(v).map_err(body)
        }
    }

    /// Registers with a peer: with `TOKEN_A`, discovers versions, picks the highest of `ours`,
    /// reads the endpoints, POSTs `our` credentials (whose `token` is the `TOKEN_B` the peer will
    /// use to call us) and returns the registration with `TOKEN_C`.
    pub async fn register(
        token_a: &str,
        versions_url: &str,
        ours: &[VersionNumber],
        our: &Credentials,
    ) -> Result<initiator::Registered, ClientError> {
        let start = initiator::Start {
            token_a: token_a.to_owned(),
            versions_url: versions_url.to_owned(),
        };
        // Version discovery works with either encoding: try the one of the best version first.
        let enc = ours
            .last()
            .map(crate::server::encoding_of)
            .unwrap_or(TokenEncoding::Base64);
        let discovery = Client::new(token_a, enc);
        let offered = discovery.versions(versions_url).await?;
        let chosen = start.choose_version(&offered, ours)?;
        let version = chosen.version.version.clone();
        let client = Client::new(token_a, crate::server::encoding_of(&version));
        // 2.1.1 names neither interfaces nor roles: the peer has the role opposite ours.
        let peer_role = crate::convert::peer_role_211(
            &our.roles.first().map_or(Role::Emsp, |r| r.role.clone()),
        );
        let details = client
            .version_details_of(&chosen.version.url.0, &peer_role)
            .await?;
        let known = chosen.endpoints(details)?;
        let body = credentials_to_wire(&version, our)?;
        let answer: serde_json::Value = client
            .data(reqwest::Method::POST, &known.credentials_url, Some(&body))
            .await?;
        let answer = credentials_from_wire(answer, &peer_role)?;
        Ok(known.registered(answer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy {
            attempts: 5,
            base: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
        };
        assert_eq!(p.delay(0), Duration::from_millis(100));
        assert_eq!(p.delay(1), Duration::from_millis(200));
        assert_eq!(p.delay(2), Duration::from_millis(400));
        assert_eq!(p.delay(3), Duration::from_millis(500));
    }
}
