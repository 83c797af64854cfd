//! Configuration of `csms serve`: defaults, an optional TOML file, `CSMS_*` environment
//! variables and command-line flags, in increasing priority. [`Settings::validate`] checks
//! everything before anything starts, and names the bad setting.
//!
//! ```toml
//! ocpp_listen = "0.0.0.0:9000"          # CSMS_OCPP_LISTEN, --ocpp-listen
//! api_listen = "127.0.0.1:9001"         # CSMS_API_LISTEN, --api-listen
//! database_url = "sqlite:csms.db"       # CSMS_DATABASE_URL, --database-url
//! unknown_stations = "accept"           # accept | pending | reject
//! accept_unknown_tokens = true
//! security_profile = 0                  # default for stations without their own
//! lenient = false                       # accept what real chargers get wrong
//! heartbeat_interval = 300
//! tls_cert = "cert.pem"                 # with tls_key: wss:// (profiles 2 and 3)
//! tls_key = "key.pem"
//! tls_client_ca = "ca.pem"              # optional: client certificates (profile 3)
//! api_auth = "auto"                     # auto | on | off (see below)
//! api_token = "a-long-random-token"     # CSMS_API_TOKEN: Authorization: Bearer <token>
//! api_user = "operator"                 # CSMS_API_USER, with api_password: Basic auth
//! api_password = "a-long-secret"        # CSMS_API_PASSWORD
//! metrics_public = false                # true: /metrics needs no credentials
//! ping_interval = 30                    # CSMS_PING_INTERVAL: WebSocket pings, seconds (0: none)
//! pong_timeout = 30                     # CSMS_PONG_TIMEOUT: silence past an interval that
//!                                       #   drops a station (half-open TCP)
//! write_timeout = 30                    # CSMS_WRITE_TIMEOUT: a station that does not read is
//!                                       #   dropped when a write waits this long
//! store_timeout = 15                    # CSMS_STORE_TIMEOUT: longest wait of one database
//!                                       #   operation; the station then gets InternalError
//!
//! [ocpi]                                # the OCPI CPO bridge: off unless listen is set
//! listen = "127.0.0.1:9002"             # CSMS_OCPI_LISTEN, --ocpi-listen
//! url = "https://cpo.example.org/ocpi"  # public base URL (default http://{listen}/ocpi)
//! country_code = "NL"                   # our party (defaults NL / CPO)
//! party_id = "CPO"
//! name = "My charging"
//! currency = "EUR"                      # of sessions without a tariff
//! retry_max_seconds = 60                # longest wait between push attempts
//! rate_limit_per_second = 50            # requests one partner may make to us (429 beyond)
//! rate_limit_burst = 100
//! push_rate_per_second = 50             # our pushes to one partner (0: no limit)
//! circuit_failures = 5                  # failed pushes in a row that open a partner's circuit
//! circuit_cooldown_seconds = 30         # before the half-open probe (doubles while it fails)
//! push_concurrency = 16                 # deliveries in flight over all partners
//! audit_retention_days = 30             # OCPI audit log pruned by age (0: no limit)
//! audit_max_rows = 1000000              # and by size
//!
//! [security]
//! data_key_file = "/etc/csms/data.key"  # encryption at rest (crate::at_rest); CSMS_DATA_KEY
//!                                       #   (base64) wins; default: <database>.key, generated
//! fetch_allow = ["emsp.example.com"]    # hosts OCPI partners' URLs may point at
//!                                       #   (crate::fetch_allow; default: no internal addresses)
//!
//! [[station]]
//! id = "CS-1"
//! security_profile = 1
//! password = "a-long-secret"            # stored as an Argon2id hash
//! lenient = true                        # this charger's firmware bends the schemas
//! ```
//!
//! # Operator API authentication
//!
//! `api_auth = "auto"` (the default) protects the whole API (every route, the OpenAPI document
//! and any page mounted in the API router; `/metrics` too unless `metrics_public = true`) when
//! a credential is configured or when `api_listen` is not a loopback address; on loopback with
//! no credential the API stays open, as before. `on` always protects it, `off` never does (for
//! an API behind an authenticating proxy; a warning is logged when it listens beyond loopback).
//! A request passes with `Authorization: Bearer <api_token>` or with Basic credentials
//! `api_user:api_password`, both compared in constant time; anything else is answered 401.
//!
//! When the API is protected and no credential is configured, `csms serve` generates a random
//! token at start-up and prints it once on standard output (never in the logs); it changes at
//! every start, so configure `api_token` for anything that must survive a restart. Pass secrets
//! through the `CSMS_*` variables or the file rather than flags, which other local users can
//! read in the process list.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

use crate::domain::UnknownStations;

/// The default OCPP WebSocket address.
pub const DEFAULT_OCPP_LISTEN: &str = "0.0.0.0:9000";
/// The default operator API address (loopback: the API needs no credentials unless some are
/// configured).
pub const DEFAULT_API_LISTEN: &str = "127.0.0.1:9001";
/// The default database.
pub const DEFAULT_DATABASE_URL: &str = "sqlite:csms.db";

/// A bad setting.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A setting has a bad value.
    #[error("invalid setting {setting}: {message}")]
    Invalid {
        /// The setting's name as written in the TOML file.
        setting: String,
        /// What is wrong.
        message: String,
    },
    /// The configuration file cannot be read or parsed.
    #[error("configuration file {path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

fn bad(setting: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting: setting.into(),
        message: message.into(),
    }
}

/// One station's own settings. Its `Debug` output never shows the password.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StationSettings {
    /// The station id.
    pub id: String,
    /// Its security profile (0 to 3).
    pub security_profile: Option<u8>,
    /// Its Basic-auth password (profiles 1 and 2); stored hashed.
    pub password: Option<String>,
    /// Whether its payloads are read leniently (overrides the server-wide `lenient`).
    pub lenient: Option<bool>,
}

impl std::fmt::Debug for StationSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StationSettings")
            .field("id", &self.id)
            .field("security_profile", &self.security_profile)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("lenient", &self.lenient)
            .finish()
    }
}

/// Everything `csms serve` can be told, as read from the TOML file (every field optional).
/// Its `Debug` output never shows a secret.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    /// OCPP listen address.
    pub ocpp_listen: Option<String>,
    /// API listen address.
    pub api_listen: Option<String>,
    /// Database URL.
    pub database_url: Option<String>,
    /// TLS certificate chain (PEM).
    pub tls_cert: Option<PathBuf>,
    /// TLS key (PEM).
    pub tls_key: Option<PathBuf>,
    /// CA of station client certificates (PEM).
    pub tls_client_ca: Option<PathBuf>,
    /// Unknown stations policy: accept, pending, reject.
    pub unknown_stations: Option<String>,
    /// Accept tokens missing from the id-token table.
    pub accept_unknown_tokens: Option<bool>,
    /// Default security profile.
    pub security_profile: Option<u8>,
    /// Lenient decoding.
    pub lenient: Option<bool>,
    /// Heartbeat interval, seconds.
    pub heartbeat_interval: Option<i64>,
    /// Call timeout of CSMS-initiated calls, seconds.
    pub call_timeout: Option<u64>,
    /// Operator API authentication: auto, on, off.
    pub api_auth: Option<String>,
    /// Bearer token of the operator API.
    pub api_token: Option<String>,
    /// Basic-auth user of the operator API.
    pub api_user: Option<String>,
    /// Basic-auth password of the operator API.
    pub api_password: Option<String>,
    /// Whether `/metrics` is served without credentials.
    pub metrics_public: Option<bool>,
    /// WebSocket ping interval, seconds; 0 sends no pings (default 30).
    pub ping_interval: Option<u64>,
    /// How long past a ping interval a silent station is kept, seconds (default 30).
    pub pong_timeout: Option<u64>,
    /// How long a write to a station that does not read may wait, seconds (default 30).
    pub write_timeout: Option<u64>,
    /// How long one database operation may wait (lock, connection, statement), seconds
    /// (default 15).
    pub store_timeout: Option<u64>,
    /// Per-station settings.
    #[serde(default)]
    pub station: Vec<StationSettings>,
    /// The OCPI CPO bridge (`[ocpi]`; off unless `listen` is set).
    pub ocpi: Option<crate::ocpi_cpo::OcpiFileSettings>,
    /// Encryption at rest (`[security]`).
    pub security: Option<SecurityFileSettings>,
}

/// `[security]`: encryption at rest ([`crate::at_rest`]).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SecurityFileSettings {
    /// The file holding the data key (base64 of 32 bytes; created with mode 0600 when
    /// missing). Default: `<database file>.key` beside a SQLite database, `csms-data.key` in
    /// the working directory for PostgreSQL. The `CSMS_DATA_KEY` variable takes precedence.
    pub data_key_file: Option<PathBuf>,
    /// The hosts OCPI partners' URLs may point at ([`crate::fetch_allow`]).
    pub fetch_allow: Option<Vec<String>>,
}

impl std::fmt::Debug for FileSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hide = |s: &Option<String>| s.as_ref().map(|_| "***");
        f.debug_struct("FileSettings")
            .field("ocpp_listen", &self.ocpp_listen)
            .field("api_listen", &self.api_listen)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key)
            .field("tls_client_ca", &self.tls_client_ca)
            .field("unknown_stations", &self.unknown_stations)
            .field("accept_unknown_tokens", &self.accept_unknown_tokens)
            .field("security_profile", &self.security_profile)
            .field("lenient", &self.lenient)
            .field("heartbeat_interval", &self.heartbeat_interval)
            .field("call_timeout", &self.call_timeout)
            .field("api_auth", &self.api_auth)
            .field("api_token", &hide(&self.api_token))
            .field("api_user", &self.api_user)
            .field("api_password", &hide(&self.api_password))
            .field("metrics_public", &self.metrics_public)
            .field("ping_interval", &self.ping_interval)
            .field("pong_timeout", &self.pong_timeout)
            .field("write_timeout", &self.write_timeout)
            .field("store_timeout", &self.store_timeout)
            .field("station", &self.station)
            .field("ocpi", &self.ocpi)
            .field("security", &self.security)
            .finish()
    }
}

/// A database URL with its password replaced by `***`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(a), Some(b)) if b > a => match url[a + 3..b].find(':') {
            Some(c) => format!("{}:***{}", &url[..a + 3 + c], &url[b..]),
            None => url.into(),
        },
        _ => url.into(),
    }
}

/// How the operator API is protected (see the module docs). `Debug` never shows a secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiAuthSettings {
    /// Whether requests need credentials.
    pub enabled: bool,
    /// The bearer token.
    pub token: Option<String>,
    /// The Basic-auth user and password.
    pub basic: Option<(String, String)>,
    /// Whether `/metrics` is served without credentials.
    pub metrics_public: bool,
}

impl std::fmt::Debug for ApiAuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiAuthSettings")
            .field("enabled", &self.enabled)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("basic_user", &self.basic.as_ref().map(|b| &b.0))
            .field("metrics_public", &self.metrics_public)
            .finish()
    }
}

impl FileSettings {
    /// Reads a TOML file.
    pub fn read(path: &std::path::Path) -> Result<Self, ConfigError> {
        let err = |m: String| ConfigError::File {
            path: path.display().to_string(),
            message: m,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        toml::from_str(&text).map_err(|e| err(e.to_string()))
    }

    /// Overlays `other` (higher priority) on `self`.
    pub fn overlay(mut self, other: FileSettings) -> Self {
        macro_rules! o {
            ($($f:ident),*) => { $( if other.$f.is_some() { self.$f = other.$f; } )* };
        }
        o!(
            ocpp_listen,
            api_listen,
            database_url,
            tls_cert,
            tls_key,
            tls_client_ca,
            unknown_stations,
            accept_unknown_tokens,
            security_profile,
            lenient,
            heartbeat_interval,
            call_timeout,
            api_auth,
            api_token,
            api_user,
            api_password,
            metrics_public,
            ping_interval,
            pong_timeout,
            write_timeout,
            store_timeout
        );
        self.station.extend(other.station);
        self.ocpi = match (self.ocpi.take(), other.ocpi) {
            (Some(a), Some(b)) => Some(a.overlay(b)),
            (a, b) => b.or(a),
        };
        if let Some(sec) = other.security {
            let mine = self.security.get_or_insert_with(Default::default);
            if sec.data_key_file.is_some() {
                mine.data_key_file = sec.data_key_file;
            }
            if sec.fetch_allow.is_some() {
                mine.fetch_allow = sec.fetch_allow;
            }
        }
        self
    }
}

/// The TLS certificate chain, key and optional client CA, PEM contents.
pub type TlsFiles = (Vec<u8>, Vec<u8>, Option<Vec<u8>>);

/// Validated settings. `Debug` never shows a secret (the TLS key is shown by its length).
#[derive(Clone)]
pub struct Settings {
    /// OCPP WebSocket address.
    pub ocpp_listen: SocketAddr,
    /// Operator API address.
    pub api_listen: SocketAddr,
    /// Database URL (`sqlite:...` or `postgres://...`).
    pub database_url: String,
    /// TLS certificate and key (PEM contents), and the client CA.
    pub tls: Option<TlsFiles>,
    /// Unknown stations policy.
    pub unknown_stations: UnknownStations,
    /// Accept tokens missing from the table.
    pub accept_unknown_tokens: bool,
    /// Default security profile.
    pub security_profile: u8,
    /// Lenient decoding for every station.
    pub lenient: bool,
    /// Heartbeat interval, seconds.
    pub heartbeat_interval: i64,
    /// Call timeout, seconds.
    pub call_timeout: u64,
    /// Per-station settings.
    pub stations: Vec<StationSettings>,
    /// Operator API authentication.
    pub api_auth: ApiAuthSettings,
    /// Keepalive and slow-reader limits of station connections.
    pub connection_limits: ConnectionLimits,
    /// How long one database operation may wait before it fails (the station is answered
    /// InternalError).
    pub store_timeout: std::time::Duration,
    /// The OCPI CPO bridge, when enabled.
    pub ocpi: Option<crate::ocpi_cpo::OcpiSettings>,
    /// The data key file of encryption at rest (`[security] data_key_file`; `None`: the
    /// default place, see [`crate::at_rest`]).
    pub data_key_file: Option<PathBuf>,
    /// Which partner-supplied URLs may be fetched (`[security] fetch_allow`).
    pub fetch_allow: crate::fetch_allow::FetchAllow,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("ocpp_listen", &self.ocpp_listen)
            .field("api_listen", &self.api_listen)
            .field("database_url", &redact_url(&self.database_url))
            .field("tls", &self.tls.as_ref().map(|t| (t.0.len(), t.1.len())))
            .field("unknown_stations", &self.unknown_stations)
            .field("accept_unknown_tokens", &self.accept_unknown_tokens)
            .field("security_profile", &self.security_profile)
            .field("lenient", &self.lenient)
            .field("heartbeat_interval", &self.heartbeat_interval)
            .field("call_timeout", &self.call_timeout)
            .field("stations", &self.stations)
            .field("api_auth", &self.api_auth)
            .field("connection_limits", &self.connection_limits)
            .field("store_timeout", &self.store_timeout)
            .field("ocpi", &self.ocpi)
            .field("data_key_file", &self.data_key_file)
            .field("fetch_allow", &self.fetch_allow)
            .finish()
    }
}

fn api_auth(f: &FileSettings, api_listen: &SocketAddr) -> Result<ApiAuthSettings, ConfigError> {
    let token = f.api_token.clone();
    if let Some(t) = &token {
        if t.len() < 16 || !t.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad(
                "api_token",
                "needs at least 16 visible ASCII characters (no spaces)",
            ));
        }
    }
    let basic = match (&f.api_user, &f.api_password) {
        (Some(u), Some(p)) => {
            if u.is_empty() || u.contains(':') {
                return Err(bad("api_user", "must be non-empty and without ':'"));
            }
            if p.len() < 8 {
                return Err(bad("api_password", "shorter than 8 characters"));
            }
            Some((u.clone(), p.clone()))
        }
        (Some(_), None) => {
            return Err(bad(
                "api_password",
                "api_user is set but api_password is not",
            ))
        }
        (None, Some(_)) => return Err(bad("api_user", "api_password is set but api_user is not")),
        (None, None) => None,
    };
    let configured = token.is_some() || basic.is_some();
    let enabled = match f.api_auth.as_deref().unwrap_or("auto") {
        "auto" => configured || !api_listen.ip().is_loopback(),
        "on" => true,
        "off" if configured => {
            return Err(bad(
                "api_auth",
                "off, but api_token or api_user is set: remove them or use auto / on",
            ))
        }
        "off" => false,
        other => {
            return Err(bad(
                "api_auth",
                format!("{other:?} is not one of auto, on, off"),
            ))
        }
    };
    Ok(ApiAuthSettings {
        enabled,
        token,
        basic,
        metrics_public: f.metrics_public.unwrap_or(false),
    })
}

fn addr(setting: &str, v: Option<String>, default: &str) -> Result<SocketAddr, ConfigError> {
    let v = v.unwrap_or_else(|| default.into());
    v.parse().map_err(|_| {
        bad(
            setting,
            format!("{v:?} is not an address like 0.0.0.0:9000"),
        )
    })
}

impl Settings {
    /// Checks and completes the settings.
    pub fn validate(f: FileSettings) -> Result<Settings, ConfigError> {
        let ocpp_listen = addr("ocpp_listen", f.ocpp_listen.clone(), DEFAULT_OCPP_LISTEN)?;
        let api_listen = addr("api_listen", f.api_listen.clone(), DEFAULT_API_LISTEN)?;
        let api_auth = api_auth(&f, &api_listen)?;
        let connection_limits = ConnectionLimits::validate(&f)?;
        let store_timeout = match f.store_timeout {
            None => crate::store::DEFAULT_STORE_TIMEOUT,
            Some(s @ 1..=3600) => std::time::Duration::from_secs(s),
            Some(s) => {
                return Err(bad(
                    "store_timeout",
                    format!("{s} is not 1 to 3600 seconds"),
                ))
            }
        };
        let ocpi = crate::ocpi_cpo::OcpiSettings::validate(f.ocpi.as_ref())?;
        let fetch_allow = crate::fetch_allow::FetchAllow::new(
            f.security.as_ref().and_then(|s| s.fetch_allow.as_deref()),
            ocpi.as_ref().is_some_and(|o| o.listen.ip().is_loopback()),
        )
        .map_err(|e| bad("security.fetch_allow", e))?;
        if ocpp_listen.port() != 0 && ocpp_listen.port() == api_listen.port() {
            return Err(bad(
                "api_listen",
                format!("port {} is also ocpp_listen's", api_listen.port()),
            ));
        }
        let database_url = f
            .database_url
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(bad(
                "database_url",
                format!("{database_url:?} is neither sqlite:<file> nor postgres://..."),
            ));
        }
        let read = |setting: &str, p: &PathBuf| {
            std::fs::read(p).map_err(|e| bad(setting, format!("cannot read {}: {e}", p.display())))
        };
        let tls = match (&f.tls_cert, &f.tls_key) {
            (Some(c), Some(k)) => {
                let ca = f
                    .tls_client_ca
                    .as_ref()
                    .map(|p| read("tls_client_ca", p))
                    .transpose()?;
                let (c, k) = (read("tls_cert", c)?, read("tls_key", k)?);
                ocpp_core::transport::ServerTls::from_pem(&c, &k, ca.as_deref())
                    .map_err(|e| bad("tls_cert", e.to_string()))?;
                Some((c, k, ca))
            }
            (Some(_), None) => return Err(bad("tls_key", "tls_cert is set but tls_key is not")),
            (None, Some(_)) => return Err(bad("tls_cert", "tls_key is set but tls_cert is not")),
            (None, None) if f.tls_client_ca.is_some() => {
                return Err(bad("tls_client_ca", "needs tls_cert and tls_key"))
            }
            (None, None) => None,
        };
        let unknown_stations = match f.unknown_stations {
            Some(s) => s.parse().map_err(|e: String| bad("unknown_stations", e))?,
            None => UnknownStations::Accept,
        };
        let profile_ok = |setting: &str, p: u8| -> Result<u8, ConfigError> {
            if p > 3 {
                return Err(bad(
                    setting,
                    format!("{p} is not a security profile (0 to 3)"),
                ));
            }
            if p >= 2 && tls.is_none() {
                return Err(bad(
                    setting,
                    format!("profile {p} needs TLS (tls_cert and tls_key)"),
                ));
            }
            Ok(p)
        };
        let security_profile = profile_ok("security_profile", f.security_profile.unwrap_or(0))?;
        if security_profile == 1 || security_profile == 2 {
            for s in &f.station {
                if s.security_profile.is_none() && s.password.is_none() {
                    return Err(bad(
                        &format!("station.{}.password", s.id),
                        "the default profile needs a password",
                    ));
                }
            }
        }
        for s in &f.station {
            if s.id.is_empty() || s.id.len() > 48 {
                return Err(bad(
                    "station.id",
                    format!("{:?} is not a station id (1 to 48 characters)", s.id),
                ));
            }
            let p = s.security_profile.unwrap_or(security_profile);
            profile_ok(&format!("station.{}.security_profile", s.id), p)?;
            if (p == 1 || p == 2) && s.password.as_deref().is_none_or(str::is_empty) {
                return Err(bad(
                    &format!("station.{}.password", s.id),
                    format!("profile {p} needs a password"),
                ));
            }
            if let Some(pw) = &s.password {
                if pw.len() < 8 {
                    return Err(bad(
                        &format!("station.{}.password", s.id),
                        "shorter than 8 characters",
                    ));
                }
            }
        }
        let heartbeat_interval = f.heartbeat_interval.unwrap_or(300);
        if heartbeat_interval <= 0 || heartbeat_interval > 86_400 {
            return Err(bad(
                "heartbeat_interval",
                format!("{heartbeat_interval} is not 1 to 86400 seconds"),
            ));
        }
        let call_timeout = f.call_timeout.unwrap_or(30);
        if call_timeout == 0 || call_timeout > 3600 {
            return Err(bad(
                "call_timeout",
                format!("{call_timeout} is not 1 to 3600 seconds"),
            ));
        }
        Ok(Settings {
            ocpp_listen,
            api_listen,
            database_url,
            tls,
            unknown_stations,
            accept_unknown_tokens: f.accept_unknown_tokens.unwrap_or(true),
            security_profile,
            lenient: f.lenient.unwrap_or(false),
            heartbeat_interval,
            call_timeout,
            ocpi,
            connection_limits,
            store_timeout,
            stations: f.station,
            api_auth,
            data_key_file: f.security.and_then(|s| s.data_key_file),
            fetch_allow,
        })
    }
}

/// Keepalive and slow-reader limits of station connections (`ping_interval`, `pong_timeout`,
/// `write_timeout`; see [`ocpp_core::transport::TransportConfig`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// WebSocket ping interval; `None` sends none.
    pub ping_interval: Option<std::time::Duration>,
    /// How long past a ping interval a silent station is kept.
    pub pong_timeout: std::time::Duration,
    /// How long a write to a station that does not read may wait before the connection is
    /// dropped.
    pub write_timeout: std::time::Duration,
}

impl ConnectionLimits {
    fn validate(f: &FileSettings) -> Result<Self, ConfigError> {
        let secs = |setting: &str, v: Option<u64>, default: u64, zero: bool| {
            let v = v.unwrap_or(default);
            if (v == 0 && !zero) || v > 3600 {
                let range = if zero { "0 to 3600" } else { "1 to 3600" };
                return Err(bad(setting, format!("{v} is not {range} seconds")));
            }
            Ok(std::time::Duration::from_secs(v))
        };
        let ping = secs("ping_interval", f.ping_interval, 30, true)?;
        Ok(ConnectionLimits {
            ping_interval: (!ping.is_zero()).then_some(ping),
            pong_timeout: secs("pong_timeout", f.pong_timeout, 30, false)?,
            write_timeout: secs("write_timeout", f.write_timeout, 30, false)?,
        })
    }

    /// The transport settings of the OCPP listener with these limits.
    pub fn transport(&self) -> ocpp_core::transport::TransportConfig {
        let mut t = ocpp_core::transport::TransportConfig::default();
        t.ping_interval = self.ping_interval;
        t.pong_timeout = self.pong_timeout;
        t.write_timeout = self.write_timeout;
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(r: Result<Settings, ConfigError>) -> String {
        match r {
            Err(ConfigError::Invalid { setting, .. }) => setting,
            other => panic!("expected an invalid setting, got {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let s = Settings::validate(FileSettings::default()).unwrap();
        assert_eq!(s.ocpp_listen.to_string(), "0.0.0.0:9000");
        assert_eq!(s.api_listen.to_string(), "127.0.0.1:9001");
        assert_eq!(s.database_url, "sqlite:csms.db");
        assert_eq!(s.unknown_stations, UnknownStations::Accept);
        assert_eq!(s.security_profile, 0);
    }

    #[test]
    fn bad_settings_are_named() {
        let f = |t: &str| Settings::validate(toml::from_str::<FileSettings>(t).unwrap());
        assert_eq!(setting(f("ocpp_listen = \"nine\"")), "ocpp_listen");
        assert_eq!(setting(f("api_listen = \"0.0.0.0:9000\"")), "api_listen");
        assert_eq!(setting(f("database_url = \"mysql://x\"")), "database_url");
        assert_eq!(setting(f("tls_cert = \"c.pem\"")), "tls_key");
        assert_eq!(
            setting(f("unknown_stations = \"maybe\"")),
            "unknown_stations"
        );
        assert_eq!(setting(f("security_profile = 2")), "security_profile");
        assert_eq!(setting(f("security_profile = 7")), "security_profile");
        assert_eq!(setting(f("heartbeat_interval = 0")), "heartbeat_interval");
        assert_eq!(setting(f("pong_timeout = 0")), "pong_timeout");
        assert_eq!(setting(f("write_timeout = 3601")), "write_timeout");
        assert_eq!(setting(f("store_timeout = 0")), "store_timeout");
        let l = f("ping_interval = 0").unwrap().connection_limits;
        assert_eq!(l.ping_interval, None, "0 turns pings off");
        let l = f("").unwrap().connection_limits.transport();
        assert_eq!(l.ping_interval, Some(std::time::Duration::from_secs(30)));
        assert_eq!(l.write_timeout, std::time::Duration::from_secs(30));
        assert_eq!(
            setting(f("[[station]]\nid = \"CS1\"\nsecurity_profile = 1\n")),
            "station.CS1.password"
        );
        assert_eq!(
            setting(f(
                "[[station]]\nid = \"CS1\"\nsecurity_profile = 1\npassword = \"short\"\n"
            )),
            "station.CS1.password"
        );
        assert!(
            toml::from_str::<FileSettings>("colour = 1").is_err(),
            "unknown keys are refused"
        );
    }

    #[test]
    fn api_auth_defaults_and_bad_values() {
        let f = |t: &str| Settings::validate(toml::from_str::<FileSettings>(t).unwrap());
        let a = f("").unwrap().api_auth;
        assert!(!a.enabled, "loopback without credentials: open");
        let a = f("api_listen = \"0.0.0.0:9001\"").unwrap().api_auth;
        assert!(a.enabled, "beyond loopback: protected");
        assert!(a.token.is_none() && a.basic.is_none());
        let a = f("api_token = \"0123456789abcdef\"").unwrap().api_auth;
        assert!(
            a.enabled,
            "a configured credential is enforced on loopback too"
        );
        let a = f("api_listen = \"0.0.0.0:9001\"\napi_auth = \"off\"")
            .unwrap()
            .api_auth;
        assert!(!a.enabled);
        assert_eq!(setting(f("api_token = \"short\"")), "api_token");
        assert_eq!(setting(f("api_user = \"op\"")), "api_password");
        assert_eq!(setting(f("api_password = \"longenough\"")), "api_user");
        assert_eq!(
            setting(f("api_user = \"op\"\napi_password = \"short\"")),
            "api_password"
        );
        assert_eq!(setting(f("api_auth = \"maybe\"")), "api_auth");
        assert_eq!(
            setting(f("api_auth = \"off\"\napi_token = \"0123456789abcdef\"")),
            "api_auth"
        );
        let s = f("api_user = \"op\"\napi_password = \"s3cret-pass\"\n[[station]]\nid = \"A\"\npassword = \"station-secret\"")
            .unwrap();
        let dbg = format!("{s:?}");
        assert!(
            !dbg.contains("s3cret-pass") && !dbg.contains("station-secret"),
            "{dbg}"
        );
    }

    #[test]
    fn overlay_prefers_the_later_source() {
        let a: FileSettings =
            toml::from_str("ocpp_listen = \"127.0.0.1:1\"\nlenient = true").unwrap();
        let b = FileSettings {
            ocpp_listen: Some("127.0.0.1:2".into()),
            ..Default::default()
        };
        let s = Settings::validate(a.overlay(b)).unwrap();
        assert_eq!(s.ocpp_listen.port(), 2);
        assert!(s.lenient);
    }

    #[test]
    fn leniency_can_be_set_per_station() {
        let f: FileSettings = toml::from_str(
            "[[station]]\nid = \"OLD-1\"\nlenient = true\n\n[[station]]\nid = \"NEW-1\"",
        )
        .unwrap();
        let s = Settings::validate(f).unwrap();
        assert!(!s.lenient, "the server-wide default stays strict");
        let per: Vec<(&str, Option<bool>)> = s
            .stations
            .iter()
            .map(|st| (st.id.as_str(), st.lenient))
            .collect();
        assert_eq!(per, [("OLD-1", Some(true)), ("NEW-1", None)]);
    }
}
