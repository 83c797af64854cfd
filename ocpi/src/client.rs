//! The OCPI client (reqwest): authenticated requests with request and correlation ids, envelope
//! decoding, pagination followed to the end, retries with exponential backoff that honour
//! `Retry-After`, version discovery and the registration handshake.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::credentials::{generate_token, initiator};
use crate::transport::{
    authorization_header, headers, parse_next_link, Envelope, PageQuery, StatusCode, TokenEncoding,
};
use crate::v221::{Credentials, Version, VersionDetails, VersionNumber};

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
            ClientError::Handshake(_) => None,
        }
    }
}

/// Retry policy: exponential backoff from `base`, doubled per attempt, capped at `max_delay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all (1 = no retry).
    pub attempts: u32,
    /// First delay.
    pub base: Duration,
    /// Largest delay (also caps `Retry-After`).
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
    /// Retry policy.
    pub retry: RetryPolicy,
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
}

fn request_id() -> String {
    generate_token()[..32].to_owned()
}

impl Client {
    /// A client using `token`, encoded as the version requires.
    pub fn new(token: impl Into<String>, encoding: TokenEncoding) -> Self {
        Client {
            http: reqwest::Client::new(),
            token: token.into(),
            encoding,
            retry: RetryPolicy::default(),
        }
    }

    /// The credentials token in use.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Sends a request and decodes the envelope; retries transport failures, HTTP 5xx and 429
    /// (waiting `Retry-After` seconds when given, else the backoff delay).
    pub async fn request<B: Serialize, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&B>,
    ) -> Result<Response<T>, ClientError> {
        let correlation = request_id();
        let mut attempt = 0;
        loop {
            let mut rb = self
                .http
                .request(method.clone(), url)
                .header(
                    headers::AUTHORIZATION,
                    authorization_header(&self.token, self.encoding),
                )
                .header(headers::X_REQUEST_ID, request_id())
                .header(headers::X_CORRELATION_ID, &correlation);
            if let Some(b) = body {
                rb = rb.json(b);
            }
            let last = attempt + 1 >= self.retry.attempts;
            let resp = match rb.send().await {
                Ok(r) => r,
                Err(e) if !last && (e.is_connect() || e.is_timeout()) => {
                    tokio::time::sleep(self.retry.delay(attempt)).await;
                    attempt += 1;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let status = resp.status().as_u16();
            if !last && (status == 429 || status >= 500) {
                let wait = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs)
                    .unwrap_or_else(|| self.retry.delay(attempt))
                    .min(self.retry.max_delay);
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            let h = resp.headers();
            let header = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
            let next = header(headers::LINK).and_then(|l| parse_next_link(&l));
            let total_count = header(headers::X_TOTAL_COUNT).and_then(|v| v.parse().ok());
            let limit = header(headers::X_LIMIT).and_then(|v| v.parse().ok());
            let bytes = resp.bytes().await?;
            let env: Envelope<serde_json::Value> =
                serde_json::from_slice(&bytes).map_err(|e| ClientError::Body {
                    status,
                    message: e.to_string(),
                })?;
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

    /// GETs a paginated list and follows `Link` rel="next" to the end; returns the objects and
    /// the number of pages fetched.
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
        while let Some(u) = next.take() {
            let r = self
                .request::<(), Vec<T>>(reqwest::Method::GET, &u, None)
                .await?;
            pages += 1;
            out.extend(r.envelope.data.unwrap_or_default());
            next = r.next;
            if pages > 100_000 {
                break;
            }
        }
        Ok((out, pages))
    }

    /// The peer's versions.
    pub async fn versions(&self, versions_url: &str) -> Result<Vec<Version>, ClientError> {
        self.get(versions_url).await
    }

    /// The endpoints of one version.
    pub async fn version_details(&self, url: &str) -> Result<VersionDetails, ClientError> {
        self.get(url).await
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
        let client = Client::new(token_a, crate::server::encoding_of(&chosen.version.version));
        let details = client.version_details(&chosen.version.url.0).await?;
        let known = chosen.endpoints(details)?;
        let answer: Credentials = client
            .request::<Credentials, Credentials>(
                reqwest::Method::POST,
                &known.credentials_url,
                Some(our),
            )
            .await?
            .envelope
            .data
            .ok_or(ClientError::Body {
                status: 200,
                message: "no credentials in the answer".into(),
            })?;
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
