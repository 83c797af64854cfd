//! Authentication of charging stations at the WebSocket upgrade (security profiles 0 to 3).

use std::collections::HashMap;
use std::net::SocketAddr;

use async_trait::async_trait;

/// The client certificate a station presented in the TLS handshake (security profile 3). Its
/// chain was already verified by rustls against the server's client CA roots.
#[derive(Debug, Clone)]
pub struct ClientCertificate {
    /// The end-entity certificate, DER.
    pub der: Vec<u8>,
    /// The common name (CN) of its subject, if it has one.
    pub subject_cn: Option<String>,
}

/// What the server knows about a connection attempt when it asks the [`Authenticator`].
#[derive(Debug)]
#[non_exhaustive]
pub struct AuthRequest<'a> {
    /// The station id from the URL, percent-decoded.
    pub station_id: &'a str,
    /// The peer's address.
    pub remote_addr: SocketAddr,
    /// Whether the connection is TLS.
    pub tls: bool,
    /// The client certificate, if the station presented one.
    pub client_certificate: Option<&'a ClientCertificate>,
}

/// Decides, per station, which security profile it must use and whether its credentials hold.
/// The application implements it (against its station table); [`StaticAuthenticator`] and
/// [`AllowAll`] are ready-made ones.
///
/// The server enforces the profile [`security_profile`](Authenticator::security_profile)
/// returns:
///
/// | profile | the connection must | checked with |
/// | --- | --- | --- |
/// | 0 | nothing (no authentication; for tests and closed networks) | |
/// | 1 | send HTTP Basic auth whose user is the station id | [`check_password`](Authenticator::check_password) |
/// | 2 | be TLS and send HTTP Basic auth as above | [`check_password`](Authenticator::check_password) |
/// | 3 | be TLS with a client certificate whose subject CN is the station id | [`check_certificate`](Authenticator::check_certificate) |
///
/// A connection that meets a stronger profile than required is accepted (a profile-1 station
/// over TLS). Any failure, and an unknown station (`None`), is answered HTTP 401 before the
/// WebSocket upgrade: no OCPP session starts. The connection's
/// [`CallContext::security_profile`](crate::CallContext::security_profile) is the required
/// profile.
#[async_trait]
pub trait Authenticator: Send + Sync + 'static {
    /// The security profile this station must use (0 to 3), or `None` to refuse it.
    async fn security_profile(&self, request: &AuthRequest<'_>) -> Option<u8>;

    /// Whether `password` (the raw bytes after the `station_id:` of the Basic credentials) is
    /// this station's (profiles 1 and 2). Compare in constant time.
    async fn check_password(&self, request: &AuthRequest<'_>, password: &[u8]) -> bool;

    /// A further check of a profile-3 station's certificate after its chain was verified and its
    /// subject CN matched the station id (revocation, pinning). Accepts by default.
    async fn check_certificate(
        &self,
        request: &AuthRequest<'_>,
        certificate: &ClientCertificate,
    ) -> bool {
        let _ = (request, certificate);
        true
    }
}

/// Accepts every station without authentication (security profile 0). For tests, examples and
/// closed networks only.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

#[async_trait]
impl Authenticator for AllowAll {
    async fn security_profile(&self, _: &AuthRequest<'_>) -> Option<u8> {
        Some(0)
    }
    async fn check_password(&self, _: &AuthRequest<'_>, _: &[u8]) -> bool {
        true
    }
}

/// An [`Authenticator`] over a fixed table of stations: id -> profile and password.
#[derive(Debug, Clone, Default)]
pub struct StaticAuthenticator {
    stations: HashMap<String, (u8, Option<Vec<u8>>)>,
}

impl StaticAuthenticator {
    /// An empty table: every station is refused.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a station with its profile and (profiles 1 and 2) its password.
    pub fn station(
        mut self,
        id: impl Into<String>,
        profile: u8,
        password: Option<impl AsRef<[u8]>>,
    ) -> Self {
        self.stations
            .insert(id.into(), (profile, password.map(|p| p.as_ref().to_vec())));
        self
    }
}

#[async_trait]
impl Authenticator for StaticAuthenticator {
    async fn security_profile(&self, request: &AuthRequest<'_>) -> Option<u8> {
        self.stations.get(request.station_id).map(|(p, _)| *p)
    }
    async fn check_password(&self, request: &AuthRequest<'_>, password: &[u8]) -> bool {
        match self.stations.get(request.station_id) {
            Some((_, Some(want))) => constant_time_eq(want, password),
            _ => false,
        }
    }
}

/// Compares two byte strings in time that depends on their lengths only.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Reads `Authorization: Basic <base64(user:password)>`.
pub(crate) fn parse_basic(header: &[u8]) -> Option<(String, Vec<u8>)> {
    use base64::Engine as _;
    let s = std::str::from_utf8(header).ok()?.trim();
    let (scheme, rest) = s.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let colon = raw.iter().position(|&c| c == b':')?;
    let user = String::from_utf8(raw[..colon].to_vec()).ok()?;
    Some((user, raw[colon + 1..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header() {
        // "CS01:pa:ss" in base64
        let (u, p) = parse_basic(b"Basic Q1MwMTpwYTpzcw==").unwrap();
        assert_eq!(u, "CS01");
        assert_eq!(p, b"pa:ss");
        assert!(parse_basic(b"Bearer x").is_none());
        assert!(parse_basic(b"Basic !!!").is_none());
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
