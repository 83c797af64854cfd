//! The transport rules (`transport_and_format.asciidoc`, `status_codes.asciidoc`): the response
//! envelope, the OCPI status codes and the HTTP statuses that go with them, the `Authorization`
//! header, request and correlation ids, routing headers, pagination, and PATCH semantics.
//!
//! Everything here is plain data and functions without I/O; the server and client use it.

use std::fmt;

use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::primitives::{DateTime, Str};

/// An OCPI status code (the `status_code` of the envelope).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(transparent)]
pub struct StatusCode(pub u16);

impl StatusCode {
    /// 1000: generic success.
    pub const SUCCESS: StatusCode = StatusCode(1000);
    /// 2000: generic client error.
    pub const CLIENT_ERROR: StatusCode = StatusCode(2000);
    /// 2001: invalid or missing parameters (e.g. no `last_updated` in a PATCH).
    pub const INVALID_PARAMETERS: StatusCode = StatusCode(2001);
    /// 2002: not enough information (e.g. an authorization request with too little information).
    pub const NOT_ENOUGH_INFORMATION: StatusCode = StatusCode(2002);
    /// 2003: unknown location.
    pub const UNKNOWN_LOCATION: StatusCode = StatusCode(2003);
    /// 2004: unknown token.
    pub const UNKNOWN_TOKEN: StatusCode = StatusCode(2004);
    /// 3000: generic server error.
    pub const SERVER_ERROR: StatusCode = StatusCode(3000);
    /// 3001: unable to use the client's API (e.g. during registration).
    pub const UNABLE_TO_USE_CLIENT_API: StatusCode = StatusCode(3001);
    /// 3002: unsupported version.
    pub const UNSUPPORTED_VERSION: StatusCode = StatusCode(3002);
    /// 3003: no matching endpoints or expected endpoints missing.
    pub const NO_MATCHING_ENDPOINTS: StatusCode = StatusCode(3003);
    /// 4000: generic hub error.
    pub const HUB_ERROR: StatusCode = StatusCode(4000);
    /// 4001: unknown receiver (the TO address is unknown to the hub).
    pub const UNKNOWN_RECEIVER: StatusCode = StatusCode(4001);
    /// 4002: timeout on a forwarded request.
    pub const FORWARD_TIMEOUT: StatusCode = StatusCode(4002);
    /// 4003: connection problem (the receiving party is not connected).
    pub const CONNECTION_PROBLEM: StatusCode = StatusCode(4003);

    /// Whether the code is in the success range (1xxx).
    pub fn is_success(self) -> bool {
        (1000..2000).contains(&self.0)
    }

    /// The description of the specification, or of the range for custom codes.
    pub fn description(self) -> &'static str {
        match self.0 {
            1000 => "Success",
            2000 => "Generic client error",
            2001 => "Invalid or missing parameters",
            2002 => "Not enough information",
            2003 => "Unknown Location",
            2004 => "Unknown Token",
            3000 => "Generic server error",
            3001 => "Unable to use the client's API",
            3002 => "Unsupported version",
            3003 => "No matching endpoints or expected endpoints missing between parties",
            4000 => "Generic error",
            4001 => "Unknown receiver",
            4002 => "Timeout on forwarded request",
            4003 => "Connection problem",
            1001..=1999 => "Custom success",
            2005..=2999 => "Custom client error",
            3004..=3999 => "Custom server error",
            4004..=4999 => "Custom hub error",
            _ => "Unknown status code",
        }
    }

    /// The HTTP status this crate's server answers with the code.
    ///
    /// The specification wants requests that reach the OCPI layer answered with HTTP 200 and the
    /// problem told by the OCPI status code, except where it prescribes an HTTP status itself:
    /// those cases (401 for credentials, 404 for unknown objects on GET, 405 for the credentials
    /// rules, 400 for unreadable JSON) are produced by [`OcpiError`]'s own `http_status`.
    pub fn default_http_status(self) -> u16 {
        200
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.0, self.description())
    }
}

/// The response envelope every OCPI response carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Envelope<T> {
    /// The payload; unspecified (often absent) on errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
    /// The OCPI status code.
    pub status_code: StatusCode,
    /// An optional message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<Str<255>>,
    /// When the response was generated.
    pub timestamp: DateTime,
    /// Members this crate does not know, kept and written back.
    #[serde(flatten)]
    pub extra: crate::primitives::Extra,
}

impl<T> Envelope<T> {
    /// A success envelope (1000) around `data`, stamped now.
    pub fn success(data: T) -> Self {
        Envelope {
            data: Some(data),
            status_code: StatusCode::SUCCESS,
            status_message: Some("Success".into()),
            timestamp: DateTime::now(),
            extra: Default::default(),
        }
    }

    /// An error envelope without data, stamped now.
    pub fn error(code: StatusCode, message: impl Into<String>) -> Self {
        Envelope {
            data: None,
            status_code: code,
            status_message: Some(Str(message.into())),
            timestamp: DateTime::now(),
            extra: Default::default(),
        }
    }
}

/// An error that ends a request at the OCPI layer: the HTTP status and the envelope to send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("HTTP {http_status}, OCPI {code}: {message}")]
#[non_exhaustive]
pub struct OcpiError {
    /// HTTP status of the response.
    pub http_status: u16,
    /// OCPI status code of the envelope.
    pub code: StatusCode,
    /// Status message.
    pub message: String,
}

impl OcpiError {
    /// An error with explicit statuses.
    pub fn new(http_status: u16, code: StatusCode, message: impl Into<String>) -> Self {
        Self {
            http_status,
            code,
            message: message.into(),
        }
    }
    /// 401 with 2000: missing or unknown credentials token (transport rule).
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(401, StatusCode::CLIENT_ERROR, message)
    }
    /// 400 with 2001: the body is not valid JSON or not the object expected.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, StatusCode::INVALID_PARAMETERS, message)
    }
    /// 200 with 2001: invalid or missing parameters.
    pub fn invalid_parameters(message: impl Into<String>) -> Self {
        Self::new(200, StatusCode::INVALID_PARAMETERS, message)
    }
    /// 404 with 2000 (or 2003 for locations): an object the client asked for does not exist.
    pub fn not_found(code: StatusCode, message: impl Into<String>) -> Self {
        Self::new(404, code, message)
    }
    /// 405: a method the credentials rules forbid in the current state.
    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::new(405, StatusCode::CLIENT_ERROR, message)
    }
    /// 200 with 3002: unsupported version.
    pub fn unsupported_version(message: impl Into<String>) -> Self {
        Self::new(200, StatusCode::UNSUPPORTED_VERSION, message)
    }
    /// 500 with 3000: the server failed.
    pub fn server_error(message: impl Into<String>) -> Self {
        Self::new(500, StatusCode::SERVER_ERROR, message)
    }
    /// The envelope to send.
    pub fn envelope(&self) -> Envelope<serde_json::Value> {
        Envelope::error(self.code, self.message.clone())
    }
}

/// HTTP header names used by OCPI.
pub mod headers {
    /// `Authorization`.
    pub const AUTHORIZATION: &str = "authorization";
    /// `X-Request-ID`: unique per request, set by the client (and by every hop of a hub).
    pub const X_REQUEST_ID: &str = "x-request-id";
    /// `X-Correlation-ID`: the same for a request and every request it causes.
    pub const X_CORRELATION_ID: &str = "x-correlation-id";
    /// `OCPI-to-party-id`.
    pub const OCPI_TO_PARTY_ID: &str = "ocpi-to-party-id";
    /// `OCPI-to-country-code`.
    pub const OCPI_TO_COUNTRY_CODE: &str = "ocpi-to-country-code";
    /// `OCPI-from-party-id`.
    pub const OCPI_FROM_PARTY_ID: &str = "ocpi-from-party-id";
    /// `OCPI-from-country-code`.
    pub const OCPI_FROM_COUNTRY_CODE: &str = "ocpi-from-country-code";
    /// `Link` with `rel="next"`.
    pub const LINK: &str = "link";
    /// `X-Total-Count`.
    pub const X_TOTAL_COUNT: &str = "x-total-count";
    /// `X-Limit`.
    pub const X_LIMIT: &str = "x-limit";
    /// `Location` (answer of a CDR POST).
    pub const LOCATION: &str = "location";
}

/// How the credentials token is put in the `Authorization: Token …` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenEncoding {
    /// OCPI 2.1.1: the token as it is.
    Raw,
    /// OCPI 2.2 and later: the token Base64 encoded.
    Base64,
}

/// Builds the value of the `Authorization` header.
pub fn authorization_header(token: &str, encoding: TokenEncoding) -> String {
    match encoding {
        TokenEncoding::Raw => format!("Token {token}"),
        TokenEncoding::Base64 => format!(
            "Token {}",
            base64::engine::general_purpose::STANDARD.encode(token.as_bytes())
        ),
    }
}

/// Why an `Authorization` header was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthHeaderError {
    /// No header.
    #[error("missing Authorization header")]
    Missing,
    /// Not `Token <value>`.
    #[error("Authorization header is not of the form `Token <credentials token>`")]
    Malformed,
    /// Not valid Base64 of a UTF-8 token while Base64 was required.
    #[error("credentials token is not Base64 encoded")]
    NotBase64,
}

/// Reads the credentials token from an `Authorization` header value.
///
/// With [`TokenEncoding::Base64`] the value must decode; when `tolerant` is set (for partners
/// that send the raw token on 2.2+, or Base64 on 2.1.1) the function returns every plausible
/// reading, the one of the version's own encoding first, and the caller looks each up. Without tolerance exactly one
/// candidate is returned.
pub fn parse_authorization(
    value: Option<&str>,
    encoding: TokenEncoding,
    tolerant: bool,
) -> Result<Vec<String>, AuthHeaderError> {
    let value = value.ok_or(AuthHeaderError::Missing)?.trim();
    let (scheme, rest) = value.split_once(' ').ok_or(AuthHeaderError::Malformed)?;
    if !scheme.eq_ignore_ascii_case("token") {
        return Err(AuthHeaderError::Malformed);
    }
    let raw = rest.trim();
    if raw.is_empty() || raw.contains(char::is_whitespace) {
        return Err(AuthHeaderError::Malformed);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(raw)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_graphic()));
    match (encoding, tolerant) {
        (TokenEncoding::Raw, false) => Ok(vec![raw.to_owned()]),
        (TokenEncoding::Base64, false) => {
            decoded.map(|d| vec![d]).ok_or(AuthHeaderError::NotBase64)
        }
        (_, true) => {
            let mut out = Vec::new();
            let first_raw = encoding == TokenEncoding::Raw;
            if first_raw {
                out.push(raw.to_owned());
            }
            if let Some(d) = decoded {
                if d != raw {
                    out.push(d);
                }
            }
            if !first_raw {
                out.push(raw.to_owned());
            }
            Ok(out)
        }
    }
}

/// The routing headers of a request sent through (or to) a hub.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routing {
    /// `OCPI-from-country-code`.
    pub from_country_code: Option<String>,
    /// `OCPI-from-party-id`.
    pub from_party_id: Option<String>,
    /// `OCPI-to-country-code`.
    pub to_country_code: Option<String>,
    /// `OCPI-to-party-id`.
    pub to_party_id: Option<String>,
}

impl Routing {
    /// Party-to-party routing.
    pub fn new(from: (&str, &str), to: (&str, &str)) -> Self {
        Routing {
            from_country_code: Some(from.0.to_owned()),
            from_party_id: Some(from.1.to_owned()),
            to_country_code: Some(to.0.to_owned()),
            to_party_id: Some(to.1.to_owned()),
        }
    }

    /// The headers as (name, value) pairs, only those that are set.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut v = Vec::new();
        let pairs = [
            (headers::OCPI_FROM_COUNTRY_CODE, &self.from_country_code),
            (headers::OCPI_FROM_PARTY_ID, &self.from_party_id),
            (headers::OCPI_TO_COUNTRY_CODE, &self.to_country_code),
            (headers::OCPI_TO_PARTY_ID, &self.to_party_id),
        ];
        for (n, val) in pairs {
            if let Some(x) = val {
                v.push((n, x.clone()));
            }
        }
        v
    }

    /// Reads the headers through a lookup function (header names are case-insensitive).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        Routing {
            from_country_code: get(headers::OCPI_FROM_COUNTRY_CODE),
            from_party_id: get(headers::OCPI_FROM_PARTY_ID),
            to_country_code: get(headers::OCPI_TO_COUNTRY_CODE),
            to_party_id: get(headers::OCPI_TO_PARTY_ID),
        }
    }
}

/// Query parameters of a paginated GET.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageQuery {
    /// Only objects with `last_updated` at or after this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_from: Option<DateTime>,
    /// Only objects with `last_updated` before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_to: Option<DateTime>,
    /// Index of the first object, 0 by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<usize>,
    /// Maximum number of objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

impl PageQuery {
    /// The query string (without `?`), parameters in the order `offset, limit, date_from, date_to`.
    pub fn to_query_string(&self) -> String {
        let mut parts = Vec::new();
        if let Some(o) = self.offset {
            parts.push(format!("offset={o}"));
        }
        if let Some(l) = self.limit {
            parts.push(format!("limit={l}"));
        }
        if let Some(d) = &self.date_from {
            parts.push(format!("date_from={}", encode_query(d.as_str())));
        }
        if let Some(d) = &self.date_to {
            parts.push(format!("date_to={}", encode_query(d.as_str())));
        }
        parts.join("&")
    }

    /// Whether an object updated at `last_updated` matches the date filters.
    pub fn matches(&self, last_updated: &DateTime) -> bool {
        self.date_from.as_ref().is_none_or(|f| last_updated >= f)
            && self.date_to.as_ref().is_none_or(|t| last_updated < t)
    }
}

fn encode_query(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// One page of a paginated list, as the server computes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The objects of the page.
    pub items: Vec<T>,
    /// `X-Total-Count`: objects matching the filters, ignoring offset and limit.
    pub total_count: usize,
    /// `X-Limit`: the limit the server applied.
    pub limit: usize,
    /// Offset of the next page, when there is one.
    pub next_offset: Option<usize>,
}

/// Cuts a page out of a filtered list: the limit is the client's, capped at `max_limit`.
pub fn paginate<T>(all: Vec<T>, query: &PageQuery, max_limit: usize) -> Page<T> {
    let total = all.len();
    let offset = query.offset.unwrap_or(0).min(total);
    let limit = query.limit.unwrap_or(max_limit).min(max_limit);
    let items: Vec<T> = all.into_iter().skip(offset).take(limit).collect();
    let end = offset + items.len();
    Page {
        next_offset: (end < total && limit > 0).then_some(end),
        items,
        total_count: total,
        limit,
    }
}

/// Formats the `Link` header for the next page: `<url?offset=..&limit=..&filters>; rel="next"`.
pub fn next_link(base_url: &str, query: &PageQuery, next_offset: usize, limit: usize) -> String {
    let q = PageQuery {
        offset: Some(next_offset),
        limit: Some(limit),
        ..query.clone()
    };
    format!("<{}?{}>; rel=\"next\"", base_url, q.to_query_string())
}

/// Reads the URL with `rel="next"` from a `Link` header value.
pub fn parse_next_link(value: &str) -> Option<String> {
    for part in value.split(',') {
        let part = part.trim();
        let (url, params) = part.split_once(';').unwrap_or((part, ""));
        let url = url.trim();
        let is_next = params.split(';').any(|p| {
            let p = p.trim().to_ascii_lowercase();
            p == "rel=\"next\"" || p == "rel=next"
        });
        if is_next && url.starts_with('<') && url.ends_with('>') {
            return Some(url[1..url.len() - 1].to_owned());
        }
    }
    None
}

/// Why a PATCH could not be applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PatchError {
    /// The PATCH has no `last_updated` (answered with 2001).
    #[error("PATCH without last_updated")]
    MissingLastUpdated,
    /// The body is not a JSON object.
    #[error("PATCH body is not a JSON object")]
    NotAnObject,
    /// The PATCH tries to change the identity of the object.
    #[error("PATCH may not change {0}")]
    IdentityChange(String),
    /// The patched object is not a valid object.
    #[error("patched object is invalid: {0}")]
    Invalid(#[from] serde_json::Error),
}

/// Applies a PATCH body to an object: members present in the body replace those of the object
/// (lists are replaced whole, objects too, as the specification's examples do); members absent
/// stay. `last_updated` is required. `identity` lists members that may not change (e.g.
/// `country_code`, `party_id`, `id`).
pub fn apply_patch<T: Serialize + DeserializeOwned>(
    object: &T,
    patch: &serde_json::Value,
    identity: &[&str],
) -> Result<T, PatchError> {
    let patch = patch.as_object().ok_or(PatchError::NotAnObject)?;
    if !patch.contains_key("last_updated") {
        return Err(PatchError::MissingLastUpdated);
    }
    let mut value = serde_json::to_value(object)?;
    let target = value.as_object_mut().ok_or(PatchError::NotAnObject)?;
    for (k, v) in patch {
        if identity.contains(&k.as_str()) && target.get(k).is_some_and(|old| old != v) {
            return Err(PatchError::IdentityChange(k.clone()));
        }
        if v.is_null() {
            target.remove(k);
        } else {
            target.insert(k.clone(), v.clone());
        }
    }
    Ok(serde_json::from_value(value)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_encoding() {
        let h = authorization_header("example-token", TokenEncoding::Base64);
        assert_eq!(h, "Token ZXhhbXBsZS10b2tlbg==");
        assert_eq!(
            parse_authorization(Some(&h), TokenEncoding::Base64, false).unwrap(),
            vec!["example-token"]
        );
        assert_eq!(
            parse_authorization(Some("Token example-token"), TokenEncoding::Raw, false).unwrap(),
            vec!["example-token"]
        );
        // raw token on 2.2 refused strictly ("-" is not Base64), accepted with tolerance
        assert_eq!(
            parse_authorization(Some("Token example-token"), TokenEncoding::Base64, false),
            Err(AuthHeaderError::NotBase64)
        );
        assert_eq!(
            parse_authorization(Some("Token example-token"), TokenEncoding::Base64, true).unwrap(),
            vec!["example-token"]
        );
        assert_eq!(
            parse_authorization(Some(&h), TokenEncoding::Raw, true).unwrap(),
            vec!["ZXhhbXBsZS10b2tlbg==", "example-token"]
        );
        assert_eq!(
            parse_authorization(None, TokenEncoding::Raw, true),
            Err(AuthHeaderError::Missing)
        );
        assert_eq!(
            parse_authorization(Some("Bearer x"), TokenEncoding::Raw, true),
            Err(AuthHeaderError::Malformed)
        );
    }

    #[test]
    fn pagination() {
        let q = PageQuery {
            limit: Some(2000),
            date_from: Some(DateTime::parse("2016-01-01T00:00:00Z").unwrap()),
            ..Default::default()
        };
        let p = paginate((0..250).collect::<Vec<_>>(), &q, 100);
        assert_eq!(
            (p.items.len(), p.total_count, p.limit, p.next_offset),
            (100, 250, 100, Some(100))
        );
        let link = next_link("https://www.server.com/ocpi/cpo/2.2/cdrs/", &q, 100, 100);
        assert_eq!(
            link,
            "<https://www.server.com/ocpi/cpo/2.2/cdrs/?offset=100&limit=100&date_from=2016-01-01T00:00:00Z>; rel=\"next\""
        );
        assert_eq!(
            parse_next_link(&link).unwrap(),
            "https://www.server.com/ocpi/cpo/2.2/cdrs/?offset=100&limit=100&date_from=2016-01-01T00:00:00Z"
        );
        let last = paginate(
            (0..250).collect::<Vec<_>>(),
            &PageQuery {
                offset: Some(200),
                ..q.clone()
            },
            100,
        );
        assert_eq!((last.items.len(), last.next_offset), (50, None));
        assert_eq!(parse_next_link("<https://a/b>; rel=\"prev\""), None);
    }

    #[test]
    fn envelope_shape() {
        let e: Envelope<serde_json::Value> = serde_json::from_str(
            r#"{"status_code": 2001, "status_message": "Missing last_updated", "timestamp": "2015-06-30T21:59:59Z"}"#,
        )
        .unwrap();
        assert_eq!(e.status_code, StatusCode::INVALID_PARAMETERS);
        assert!(e.data.is_none() && !e.status_code.is_success());
        assert_eq!(StatusCode(1901).description(), "Custom success");
    }
}
