//! Authentication of the operator API: one layer over the whole API router, so every route
//! (the JSON API, the OpenAPI document, pages mounted in the same router, unknown paths) needs
//! `Authorization: Bearer <token>` or Basic credentials; `/metrics` too unless it is configured
//! public. See [`crate::config`] for when it is on.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::json;

use crate::config::ApiAuthSettings;
use crate::metrics::Metrics;

/// The credentials the API accepts. `Debug` never shows them.
#[derive(Clone)]
pub struct ApiCredentials {
    token: Option<String>,
    basic: Option<(String, String)>,
    metrics_public: bool,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for ApiCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiCredentials")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("basic_user", &self.basic.as_ref().map(|b| &b.0))
            .field("metrics_public", &self.metrics_public)
            .finish()
    }
}

/// A random token: 32 bytes from the operating system's generator, hex-encoded.
pub fn generate_token() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl ApiCredentials {
    /// The credentials of enabled settings; `None` when the API is open. When no credential is
    /// configured, a token is generated and returned as the second value (to print once).
    pub fn from_settings(
        s: &ApiAuthSettings,
        metrics: Arc<Metrics>,
    ) -> Option<(ApiCredentials, Option<String>)> {
        if !s.enabled {
            return None;
        }
        let mut generated = None;
        let token = match (&s.token, &s.basic) {
            (None, None) => {
                for ok in [
                    "127.0.0.1:9001",
                    "127.0.0.1",
                    "localhost:9001",
                    "LOCALHOST",
                    "app.localhost:80",
                    "[::1]:9001",
                    "[::1]",
                    "10.1.2.3:8080",
                ] {
                    assert!(loopback_host(ok), "{ok}");
                }
                for bad in [
                    "evil.example:9001",
                    "evil.example",
                    "localhost.evil.example",
                    "127.0.0.1.nip.io:9001",
                    "127.0.0.1:x",
                    "[::1]x",
                    "[evil]:1",
                    "",
                ] {
                    assert!(!loopback_host(bad), "{bad}");
                }
                let t = generate_token();
                generated = Some(t.clone());
                Some(t)
            }
            (t, _) => t.clone(),
        };
        Some((
            ApiCredentials {
                token,
                basic: s.basic.clone(),
                metrics_public: s.metrics_public,
                metrics,
            },
            generated,
        ))
    }

    /// Whether an `Authorization` header value carries accepted credentials. Every comparison
    /// takes a time that depends on the lengths only.
    pub fn accepts(&self, authorization: &[u8]) -> bool {
        let s = match std::str::from_utf8(authorization) {
            Ok(s) => s.trim(),
            Err(_) => return false,
        };
        let Some((scheme, rest)) = s.split_once(' ') else {
            return false;
        };
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("bearer") {
            return self
                .token
                .as_deref()
                .is_some_and(|t| constant_time_eq(t.as_bytes(), rest.as_bytes()));
        }
        if scheme.eq_ignore_ascii_case("basic") {
            let Some(raw) = base64_decode(rest) else {
                return false;
            };
            let Some(colon) = raw.iter().position(|&c| c == b':') else {
                return false;
            };
            let (given_user, given_password) = (&raw[..colon], &raw[colon + 1..]);
            // Every comparison is made, whatever the others give.
            let configured = self.basic.as_ref().is_some_and(|(user, password)| {
                let u = constant_time_eq(user.as_bytes(), given_user);
                let p = constant_time_eq(password.as_bytes(), given_password);
                u & p
            });
            // The token as the password (any user name): a browser, which cannot send a
            // bearer token, logs in with it when only a token is configured.
            let token = self
                .token
                .as_deref()
                .is_some_and(|t| constant_time_eq(t.as_bytes(), given_password));
            return configured | token;
        }
        false
    }

    /// A Basic challenge in every case, so a browser asks for credentials: the configured
    /// Basic user and password, or the token as the password.
    fn challenge(&self) -> HeaderValue {
        HeaderValue::from_static("Basic realm=\"csms\", charset=\"UTF-8\"")
    }
}

/// Compares two byte strings in time that depends on their lengths only.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Standard base64 (with padding) to bytes; `None` when malformed.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

async fn require(State(c): State<Arc<ApiCredentials>>, req: Request, next: Next) -> Response {
    if c.metrics_public && req.uri().path() == "/metrics" {
        return next.run(req).await;
    }
    let ok = req
        .headers()
        .get(header::AUTHORIZATION)
        .is_some_and(|h| c.accepts(h.as_bytes()));
    if ok {
        return next.run(req).await;
    }
    c.metrics.api_auth_failure();
    tracing::info!(path = %req.uri().path(), "operator API request without valid credentials");
    let mut r = (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": "credentials required: Authorization: Bearer <token> or Basic"})),
    )
        .into_response();
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, c.challenge());
    r
}

/// Puts the authentication layer over every route of `app` (call it after every route and the
/// fallback are added).
pub fn protect(app: Router, credentials: ApiCredentials) -> Router {
    app.layer(axum::middleware::from_fn_with_state(
        Arc::new(credentials),
        require,
    ))
}

/// Whether a `Host` header names this machine's loopback in a way no other site can:
/// `localhost` (or a name under `.localhost`) or an IP address literal, with or without a port.
/// A DNS name that a web page's own site resolves to 127.0.0.1 (DNS rebinding) is not one.
pub fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        // [v6] or [v6]:port
        Some(rest) => {
            return rest.split_once(']').is_some_and(|(ip, tail)| {
                ip.parse::<std::net::Ipv6Addr>().is_ok()
                    && (tail.is_empty() || tail.strip_prefix(':').is_some_and(is_port))
            })
        }
        None => match host.rsplit_once(':') {
            Some((name, port)) if is_port(port) => name,
            Some(_) => return false,
            None => host,
        },
    };
    let name = name.to_ascii_lowercase();
    name.parse::<std::net::Ipv4Addr>().is_ok()
        || name == "localhost"
        || name == "localhost."
        || name.ends_with(".localhost")
        || name.ends_with(".localhost.")
}

fn is_port(p: &str) -> bool {
    !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
}

async fn require_loopback_host(req: Request, next: Next) -> Response {
    let ok = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(loopback_host);
    if ok {
        return next.run(req).await;
    }
    tracing::warn!(path = %req.uri().path(), "operator API request with a Host that is not loopback refused");
    (
        StatusCode::FORBIDDEN,
        Json(json!({"error": "the open operator API answers only requests addressed to localhost or an IP address (Host header)"})),
    )
        .into_response()
}

/// For an API open on loopback (no credentials): refuses requests whose `Host` is not
/// [`loopback_host`], so a web page whose DNS name is rebound to 127.0.0.1 cannot read or
/// write the API with the browser as its client.
pub fn loopback_host_only(app: Router) -> Router {
    app.layer(axum::middleware::from_fn(require_loopback_host))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> ApiCredentials {
        ApiCredentials {
            token: Some("0123456789abcdef".into()),
            basic: Some(("op".into(), "pa:ss-word".into())),
            metrics_public: false,
            metrics: Arc::new(Metrics::default()),
        }
    }

    #[test]
    fn headers() {
        let c = creds();
        assert!(c.accepts(b"Bearer 0123456789abcdef"));
        assert!(c.accepts(b"bearer 0123456789abcdef"));
        assert!(!c.accepts(b"Bearer 0123456789abcdeF"));
        assert!(!c.accepts(b"Bearer "));
        // op:pa:ss-word
        assert!(c.accepts(b"Basic b3A6cGE6c3Mtd29yZA=="));
        // op:pa:ss-wore
        assert!(!c.accepts(b"Basic b3A6cGE6c3Mtd29yZQ=="));
        assert!(!c.accepts(b"Basic !!!!"));
        // any:0123456789abcdef (the token as the Basic password)
        assert!(c.accepts(b"Basic YW55OjAxMjM0NTY3ODlhYmNkZWY="));
        // :0123456789abcdef
        assert!(c.accepts(b"Basic OjAxMjM0NTY3ODlhYmNkZWY="));
        // any:0123456789abcdeF
        assert!(!c.accepts(b"Basic YW55OjAxMjM0NTY3ODlhYmNkZUY="));
        // 0123456789abcdef (no colon)
        assert!(!c.accepts(b"Basic MDEyMzQ1Njc4OWFiY2RlZg=="));
        assert!(!c.accepts(b"Digest x"));
        assert!(!c.accepts(&[0xff, 0xfe]));
        assert_eq!(base64_decode("YQ==").unwrap(), b"a");
        assert_eq!(base64_decode("YWI=").unwrap(), b"ab");
        assert_eq!(base64_decode("YWJj").unwrap(), b"abc");
        assert!(base64_decode("YQ=a").is_none());
        for ok in [
            "127.0.0.1:9001",
            "127.0.0.1",
            "localhost:9001",
            "LOCALHOST",
            "app.localhost:80",
            "[::1]:9001",
            "[::1]",
            "10.1.2.3:8080",
        ] {
            assert!(loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example:9001",
            "evil.example",
            "localhost.evil.example",
            "127.0.0.1.nip.io:9001",
            "127.0.0.1:x",
            "[::1]x",
            "[evil]:1",
            "",
        ] {
            assert!(!loopback_host(bad), "{bad}");
        }
        let t = generate_token();
        assert_eq!(t.len(), 64);
        assert_ne!(t, generate_token());
    }
}
