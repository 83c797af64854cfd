//! Operating with partners: per-partner rate limits (requests partners make to us, pushes we
//! make to them), a circuit breaker per partner for our pushes, the audit log of every OCPI
//! request and response in both directions, hub routing, and partner health in the metrics.
//!
//! # Rate limits
//! Each partner (by the credentials token it calls with; requests without a known token share
//! one bucket) has a token bucket of `rate_limit_burst` requests refilled at
//! `rate_limit_per_second`. A request over the limit is answered HTTP 429 with `Retry-After`
//! (whole seconds) and the OCPI envelope status 2000 (generic client error: OCPI has no code
//! of its own for it; the `ocpi` client retries a 429 after `Retry-After`). Our pushes to a
//! partner go through a bucket of `push_rate_per_second` (0: no limit), and a 429 from the
//! partner makes the partner's outbox wait its `Retry-After` (not counted as a failure).
//!
//! # Circuit breaker
//! After `circuit_failures` consecutive failed deliveries (connection failures, timeouts,
//! 5xx) the partner's circuit opens: nothing is sent to it for `circuit_cooldown_seconds`;
//! its pushes stay queued in the persisted outbox, in order. Then the circuit is half open:
//! one push is sent as a probe; its success closes the circuit, its failure opens it again
//! for twice the previous cool-down (capped at 32 times `circuit_cooldown_seconds`). Real-time
//! authorization has a circuit of its own, opened by its own failed requests (connection
//! failures, 5xx) with the same settings, so one push the partner keeps refusing does not stop
//! the authorization of its customers' tokens; while that circuit is open the token is decided
//! as if the partner could not be reached. The state is in the operator API's partner listing
//! (`health`) and in the metrics.
//!
//! # Audit log
//! Every request a partner makes to us and every request we make to a partner through the
//! bridge's clients (pushes, real-time authorization, command and charging-profile results;
//! each attempt) is recorded in `ocpi_audit` (migration 0005): time, direction (`in`, `out`),
//! partner, party (for a hub, the party of the `OCPI-from-*` headers of its requests and of
//! the `OCPI-to-*` headers of ours), method, URL, module, HTTP status, OCPI status code,
//! `X-Request-ID`, `X-Correlation-ID`, duration and error; never a token or a body. Not
//! audited: the credentials handshake's own `versions` and `details` requests to a partner
//! (made by the `ocpi` crate's registration), and requests without a known token refused by
//! the rate limit (counted in `csms_ocpi_requests_total{partner="unknown"}` only, so a flood
//! of them cannot flood the log). URLs are kept without customer token ids (the uid segment
//! of a Tokens URL is replaced with `…`) and cut to 512 characters. Rows wait in a bounded
//! queue for the writer; when it is full they are dropped and counted
//! (`csms_ocpi_audit_dropped_total`); the queue is written out at shutdown. Rows
//! older than `audit_retention_days` and beyond the newest `audit_max_rows` are pruned (in
//! chunks of 5,000 rows per statement).
//! `GET /api/ocpi/audit?partner=&limit=&before=` reads it newest first.
//!
//! # Metrics
//! | metric | labels | what |
//! | --- | --- | --- |
//! | `csms_ocpi_partner_outbox_backlog` | `partner` | pushes queued, not yet delivered |
//! | `csms_ocpi_partner_circuit_state` | `partner` | 0 closed, 1 open, 2 half open |
//! | `csms_ocpi_partner_consecutive_failures` | `partner` | failed deliveries in a row |
//! | `csms_ocpi_pushes_total` | `partner`, `result` | pushes `delivered`, `failed` (attempts that will be retried), `dropped` (refused for good) |
//! | `csms_ocpi_requests_total` | `partner`, `status` | requests partners made to us, by HTTP status |
//! | `csms_ocpi_rate_limited_total` | `partner`, `direction` | requests refused by our limit (`in`) and 429s partners answered us (`out`) |
//! | `csms_ocpi_partner_last_success_timestamp_seconds` | `partner` | last delivered push (Unix time) |
//! | `csms_ocpi_audit_dropped_total` | | audit rows dropped because the writer's queue was full |

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use ocpi::client::{Client, Exchange};
use ocpi::credentials::{Registration, Scope};
use ocpi::server::encoding_of;
use ocpi::transport::{headers, parse_authorization, Routing, TokenEncoding};
use ocpi::v221::Role;
use serde_json::Value;
use sqlx::Row;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::OcpiCpo;
use crate::store::{PgStore, SqliteStore, StoreResult};

/// The settings of this module (part of [`super::OcpiSettings`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpsSettings {
    /// Requests per second a partner may make to us (sustained).
    pub rate_per_second: u32,
    /// Requests a partner may make at once (bucket size).
    pub rate_burst: u32,
    /// Pushes per second to one partner (0: no limit).
    pub push_rate_per_second: u32,
    /// Consecutive failed deliveries that open a partner's circuit.
    pub circuit_failures: u32,
    /// The first cool-down of an open circuit (doubled at each failed probe).
    pub circuit_cooldown: Duration,
    /// Deliveries in flight at once, over all partners.
    pub push_concurrency: usize,
    /// Audit rows older than this many days are pruned (0: no age limit).
    pub audit_retention_days: u32,
    /// At most this many audit rows are kept (the newest).
    pub audit_max_rows: u64,
}

impl Default for OpsSettings {
    fn default() -> Self {
        OpsSettings {
            rate_per_second: 50,
            rate_burst: 100,
            push_rate_per_second: 50,
            circuit_failures: 5,
            circuit_cooldown: Duration::from_secs(30),
            push_concurrency: 16,
            audit_retention_days: 30,
            audit_max_rows: 1_000_000,
        }
    }
}

// ------------------------------------------------------------------ token bucket

/// A token bucket: `capacity` tokens, refilled at `rate` per second.
#[derive(Debug, Clone)]
pub(crate) struct Bucket {
    capacity: f64,
    rate: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new(rate: u32, capacity: u32, now: Instant) -> Self {
        let capacity = f64::from(capacity.max(1));
        Bucket {
            capacity,
            rate: f64::from(rate),
            tokens: capacity,
            last: now,
        }
    }

    /// Takes one token, or says how long until one is there.
    fn take(&mut self, now: Instant) -> Result<(), Duration> {
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + dt * self.rate).min(self.capacity);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        if self.rate <= 0.0 {
            return Err(Duration::from_secs(3600));
        }
        Err(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
    }
}

// ------------------------------------------------------------------ circuit breaker

/// The state of a partner's circuit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState {
    /// Pushes are delivered.
    Closed,
    /// Nothing is sent until the cool-down ends.
    Open,
    /// One push is sent as a probe.
    HalfOpen,
}

impl CircuitState {
    /// `closed`, `open` or `half_open`.
    pub fn as_str(self) -> &'static str {
        match self {
            CircuitState::Closed => "closed",
            CircuitState::Open => "open",
            CircuitState::HalfOpen => "half_open",
        }
    }
    fn gauge(self) -> u8 {
        match self {
            CircuitState::Closed => 0,
            CircuitState::Open => 1,
            CircuitState::HalfOpen => 2,
        }
    }
}

/// A circuit breaker: opens after `threshold` consecutive failures, half opens after the
/// cool-down, closes on a success.
#[derive(Debug, Clone)]
pub(crate) struct Circuit {
    state: CircuitState,
    failures: u32,
    /// Times opened since the last success (the cool-down doubles each time).
    opened: u32,
    until: Option<Instant>,
}

impl Default for Circuit {
    fn default() -> Self {
        Circuit {
            state: CircuitState::Closed,
            failures: 0,
            opened: 0,
            until: None,
        }
    }
}

impl Circuit {
    /// Whether a request may go now; `Err(until)` while open. An open circuit whose cool-down
    /// is over becomes half open.
    fn allow(&mut self, now: Instant) -> Result<(), Instant> {
        match (self.state, self.until) {
            (CircuitState::Open, Some(u)) if u > now => Err(u),
            (CircuitState::Open, _) => {
                self.state = CircuitState::HalfOpen;
                Ok(())
            }
            _ => Ok(()),
        }
    }
    fn success(&mut self) {
        *self = Circuit::default();
    }
    /// Records a failure; returns the end of the cool-down when the circuit opened.
    fn failure(&mut self, now: Instant, threshold: u32, cooldown: Duration) -> Option<Instant> {
        self.failures = self.failures.saturating_add(1);
        let open = self.state == CircuitState::HalfOpen
            || (self.state == CircuitState::Closed && self.failures >= threshold.max(1));
        if !open {
            return None;
        }
        let wait = cooldown.saturating_mul(1 << self.opened.min(5));
        self.opened = self.opened.saturating_add(1);
        self.state = CircuitState::Open;
        let until = now + wait;
        self.until = Some(until);
        Some(until)
    }
}

// ------------------------------------------------------------------ partner health

#[derive(Debug)]
struct Health {
    backlog: i64,
    circuit: Circuit,
    delivered: u64,
    failed: u64,
    dropped: u64,
    requests: BTreeMap<u16, u64>,
    limited_in: u64,
    limited_out: u64,
    last_success: Option<i64>,
    bucket_in: Bucket,
    bucket_out: Option<Bucket>,
    /// A partner's `Retry-After`: no push before this.
    not_before: Option<Instant>,
    /// Real-time authorization's own circuit (its failures only: a push the partner keeps
    /// failing must not stop the authorization of its customers' tokens).
    realtime: Circuit,
}

/// The key of requests without a known credentials token.
const ANONYMOUS: u64 = u64::MAX;

/// Audit rows waiting for the writer at most; beyond, rows are dropped (and counted) rather
/// than queued without bound (a flood of requests must not grow memory).
const AUDIT_QUEUE: usize = 10_000;

/// The longest URL kept in an audit row (characters; longer ones are cut).
const AUDIT_URL_MAX: usize = 512;

/// What the audit writer gets.
#[derive(Debug)]
enum AuditMsg {
    Row(Box<AuditRow>),
    /// Answered when every row queued before is written.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// Rate limits, circuits and health of every partner; the audit log's writer.
#[derive(Debug)]
pub struct Ops {
    settings: OpsSettings,
    partners: Mutex<HashMap<u64, Health>>,
    audit: mpsc::Sender<AuditMsg>,
    /// Audit rows dropped because the writer's queue was full.
    audit_dropped: std::sync::atomic::AtomicU64,
    /// Parties (upper-case country code and party id) a hub PUT a token or a `ClientInfo`
    /// for, and that hub (the latest): sessions and CDRs of that party go through it.
    hub_parties: Mutex<HashMap<(String, String), u64>>,
    /// Whether `hub_parties` was filled from the stored tokens (once, at the first need).
    hub_parties_seeded: std::sync::atomic::AtomicBool,
}

impl Ops {
    /// A new registry writing audit rows to `db` (from a task; pruning now and then).
    pub(super) fn start(settings: OpsSettings, db: Arc<dyn super::db::OcpiDb>) -> Arc<Ops> {
        let (tx, rx) = mpsc::channel(AUDIT_QUEUE);
        tokio::spawn(audit_writer(db, rx, settings.clone()));
        Arc::new(Ops {
            settings,
            partners: Mutex::default(),
            audit: tx,
            audit_dropped: Default::default(),
            hub_parties: Mutex::default(),
            hub_parties_seeded: Default::default(),
        })
    }

    fn with<R>(&self, partner: u64, f: impl FnOnce(&mut Health) -> R) -> R {
        let mut m = self.partners.lock().unwrap_or_else(|e| e.into_inner());
        let s = &self.settings;
        let h = m.entry(partner).or_insert_with(|| {
            let now = Instant::now();
            Health {
                backlog: 0,
                circuit: Circuit::default(),
                delivered: 0,
                failed: 0,
                dropped: 0,
                requests: BTreeMap::new(),
                limited_in: 0,
                limited_out: 0,
                last_success: None,
                bucket_in: Bucket::new(s.rate_per_second, s.rate_burst, now),
                bucket_out: (s.push_rate_per_second > 0)
                    .then(|| Bucket::new(s.push_rate_per_second, s.push_rate_per_second, now)),
                not_before: None,
                realtime: Circuit::default(),
            }
        });
        f(h)
    }

    /// Sets the backlogs read from the outbox at start.
    pub(super) fn set_backlog(&self, partner: u64, n: i64) {
        self.with(partner, |h| h.backlog = n);
    }

    /// One push queued for `partner`.
    pub(super) fn queued(&self, partner: u64) {
        self.with(partner, |h| h.backlog += 1);
    }

    /// Whether an inbound request of `partner` is within its limit.
    fn admit(&self, partner: u64) -> Result<(), Duration> {
        self.with(partner, |h| {
            let r = h.bucket_in.take(Instant::now());
            if r.is_err() {
                h.limited_in += 1;
            }
            r
        })
    }

    fn answered(&self, partner: u64, status: u16) {
        self.with(partner, |h| *h.requests.entry(status).or_default() += 1);
    }

    /// When the next push to `partner` may go: `None` now (taking a token of its push
    /// bucket; an open circuit whose cool-down is over becomes half open).
    pub(super) fn gate(&self, partner: u64) -> Option<Instant> {
        let now = Instant::now();
        self.with(partner, |h| {
            if let Some(nb) = h.not_before.filter(|nb| *nb > now) {
                return Some(nb);
            }
            if let Err(until) = h.circuit.allow(now) {
                return Some(until);
            }
            match h.bucket_out.as_mut().map(|b| b.take(now)) {
                Some(Err(wait)) => Some(now + wait),
                _ => None,
            }
        })
    }

    /// Whether real-time authorization requests to `partner` should be tried: their own
    /// circuit (opened by failed real-time requests, not by failed pushes) is not open.
    pub(super) fn reachable(&self, partner: u64) -> bool {
        self.with(partner, |h| h.realtime.allow(Instant::now()).is_ok())
    }

    /// The result of a real-time authorization request to `partner` (`None`: no answer in
    /// time): a connection failure, timeout or 5xx counts against its real-time circuit; any
    /// other answer closes it.
    pub(super) fn realtime_answered<T>(
        &self,
        partner: u64,
        r: Option<&Result<T, ocpi::client::ClientError>>,
    ) {
        let failed = match r {
            None => true,
            Some(Ok(_)) => false,
            Some(Err(e)) => e.http_status().is_none_or(|s| s >= 500 || s == 408),
        };
        let (n, cd) = (
            self.settings.circuit_failures,
            self.settings.circuit_cooldown,
        );
        self.with(partner, |h| {
            if failed {
                h.realtime.failure(Instant::now(), n, cd);
            } else {
                h.realtime.success();
            }
        });
    }

    /// A push was delivered (or refused for good when `dropped`: the partner answered).
    pub(super) fn delivered(&self, partner: u64, dropped: bool) {
        self.with(partner, |h| {
            h.backlog = (h.backlog - 1).max(0);
            if dropped {
                h.dropped += 1;
            } else {
                h.delivered += 1;
            }
            h.last_success = Some(chrono::Utc::now().timestamp());
            h.circuit.success();
        });
    }

    /// A delivery failed; returns when the circuit opened (the cool-down's end).
    pub(super) fn failed(&self, partner: u64) -> Option<Instant> {
        let (n, cd) = (
            self.settings.circuit_failures,
            self.settings.circuit_cooldown,
        );
        let opened = self.with(partner, |h| {
            h.failed += 1;
            h.circuit.failure(Instant::now(), n, cd)
        });
        if opened.is_some() {
            tracing::warn!(partner, "OCPI partner circuit open: pushes stay queued");
        }
        opened
    }

    /// The partner answered 429: no push before `retry_after` has passed.
    pub(super) fn rate_limited_out(&self, partner: u64, retry_after: Duration) {
        self.with(partner, |h| {
            h.limited_out += 1;
            // A partner's Retry-After is not trusted to fit the clock (the caller clamps it).
            let now = Instant::now();
            h.not_before = Some(
                now.checked_add(retry_after)
                    .unwrap_or_else(|| now + Duration::from_secs(3600)),
            );
        });
    }

    /// The partner's health for the operator API.
    pub(super) fn health_json(&self, partner: u64) -> Value {
        self.with(partner, |h| {
            serde_json::json!({
                "circuit": h.circuit.state.as_str(),
                "consecutive_failures": h.circuit.failures,
                "outbox_backlog": h.backlog,
                "pushes_delivered": h.delivered,
                "pushes_failed": h.failed,
                "pushes_dropped": h.dropped,
                "rate_limited_in": h.limited_in,
                "rate_limited_out": h.limited_out,
                "last_success": h.last_success.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            })
        })
    }

    /// Queues an audit row (its URL redacted and cut to [`AUDIT_URL_MAX`]); dropped and
    /// counted (`csms_ocpi_audit_dropped_total`) when the writer's queue is full.
    pub(super) fn audit(&self, mut row: AuditRow) {
        row.url = audit_url(&row.url);
        if let Err(mpsc::error::TrySendError::Full(_)) =
            self.audit.try_send(AuditMsg::Row(Box::new(row)))
        {
            self.audit_dropped
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Records that `partner`, when a hub, PUT the token or `ClientInfo` of `url` (the party
    /// of `…/tokens/{cc}/{pid}/{uid}` or `…/hubclientinfo/{cc}/{pid}`).
    fn hub_put(&self, partner: u64, url: &str, cpo: &OcpiCpo) {
        let path = url.split('?').next().unwrap_or("");
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let Some(i) = segs
            .iter()
            .rposition(|s| *s == "tokens" || *s == "hubclientinfo")
        else {
            return;
        };
        let (Some(cc), Some(pid)) = (segs.get(i + 1), segs.get(i + 2)) else {
            return;
        };
        if !cpo.registration(partner).is_some_and(|r| is_hub(&r)) {
            return;
        }
        self.hub_parties
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((cc.to_ascii_uppercase(), pid.to_ascii_uppercase()), partner);
    }

    /// Waits until the audit rows queued so far are written (at shutdown; at most 5 s).
    pub(super) async fn flush_audit(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            if self.audit.send(AuditMsg::Flush(tx)).await.is_ok() {
                let _ = rx.await;
            }
        })
        .await;
    }
}

impl crate::metrics::MetricsSource for Ops {
    fn render(&self, o: &mut String) {
        let m = self.partners.lock().unwrap_or_else(|e| e.into_inner());
        let mut ids: Vec<u64> = m.keys().copied().filter(|k| *k != ANONYMOUS).collect();
        ids.sort();
        let family = |o: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        family(
            o,
            "csms_ocpi_partner_outbox_backlog",
            "gauge",
            "OCPI pushes queued for a partner, not yet delivered.",
        );
        for id in &ids {
            let _ = writeln!(
                o,
                "csms_ocpi_partner_outbox_backlog{{partner=\"{id}\"}} {}",
                m[id].backlog
            );
        }
        family(
            o,
            "csms_ocpi_partner_circuit_state",
            "gauge",
            "A partner's circuit: 0 closed, 1 open, 2 half open.",
        );
        for id in &ids {
            let _ = writeln!(
                o,
                "csms_ocpi_partner_circuit_state{{partner=\"{id}\"}} {}",
                m[id].circuit.state.gauge()
            );
        }
        family(
            o,
            "csms_ocpi_partner_consecutive_failures",
            "gauge",
            "Failed deliveries to a partner in a row.",
        );
        for id in &ids {
            let _ = writeln!(
                o,
                "csms_ocpi_partner_consecutive_failures{{partner=\"{id}\"}} {}",
                m[id].circuit.failures
            );
        }
        family(
            o,
            "csms_ocpi_pushes_total",
            "counter",
            "OCPI pushes by partner and result (failed: attempts retried later).",
        );
        for id in &ids {
            let h = &m[id];
            for (r, n) in [
                ("delivered", h.delivered),
                ("failed", h.failed),
                ("dropped", h.dropped),
            ] {
                let _ = writeln!(
                    o,
                    "csms_ocpi_pushes_total{{partner=\"{id}\",result=\"{r}\"}} {n}"
                );
            }
        }
        family(
            o,
            "csms_ocpi_requests_total",
            "counter",
            "OCPI requests partners made to us, by HTTP status (partner \"unknown\": no known token).",
        );
        let mut all: Vec<u64> = m.keys().copied().collect();
        all.sort();
        for id in &all {
            let label = if *id == ANONYMOUS {
                "unknown".to_owned()
            } else {
                id.to_string()
            };
            for (s, n) in &m[id].requests {
                let _ = writeln!(
                    o,
                    "csms_ocpi_requests_total{{partner=\"{label}\",status=\"{s}\"}} {n}"
                );
            }
        }
        family(
            o,
            "csms_ocpi_rate_limited_total",
            "counter",
            "OCPI requests refused by our limit (in) and 429s partners answered us (out).",
        );
        for id in &ids {
            let h = &m[id];
            let _ = writeln!(
                o,
                "csms_ocpi_rate_limited_total{{partner=\"{id}\",direction=\"in\"}} {}",
                h.limited_in
            );
            let _ = writeln!(
                o,
                "csms_ocpi_rate_limited_total{{partner=\"{id}\",direction=\"out\"}} {}",
                h.limited_out
            );
        }
        family(
            o,
            "csms_ocpi_audit_dropped_total",
            "counter",
            "OCPI audit rows dropped because the audit writer's queue was full.",
        );
        let _ = writeln!(
            o,
            "csms_ocpi_audit_dropped_total {}",
            self.audit_dropped
                .load(std::sync::atomic::Ordering::Relaxed)
        );
        family(
            o,
            "csms_ocpi_partner_last_success_timestamp_seconds",
            "gauge",
            "When a push to the partner was last delivered (Unix time).",
        );
        for id in &ids {
            if let Some(t) = m[id].last_success {
                let _ = writeln!(
                    o,
                    "csms_ocpi_partner_last_success_timestamp_seconds{{partner=\"{id}\"}} {t}"
                );
            }
        }
    }
}

// ------------------------------------------------------------------ hubs and clients

/// A callback that sees each exchange of a partner client besides the audit log.
pub(super) type Tap = Arc<dyn Fn(&Exchange) + Send + Sync>;

/// Whether a registration is a hub's.
pub(super) fn is_hub(reg: &Registration) -> bool {
    reg.roles.iter().any(|r| r.role == Role::Hub)
}

/// The party of a hub's own role (`country_code`, `party_id`).
fn hub_party(reg: &Registration) -> Option<(String, String)> {
    reg.roles
        .iter()
        .find(|r| r.role == Role::Hub)
        .map(|r| (r.country_code.0.clone(), r.party_id.0.clone()))
}

impl OcpiCpo {
    /// A client for `partner`: its `TOKEN_B` in the encoding of its version, one attempt (the
    /// outbox retries), every exchange audited; to a hub with the routing headers (from us, to
    /// the party `to`, or the hub itself for a broadcast). `tap` sees each exchange too.
    pub(super) fn partner_client(
        &self,
        partner: u64,
        reg: &Registration,
        module: &str,
        to: Option<(String, String)>,
        tap: Option<Tap>,
    ) -> Client {
        let mut client = Client::new(reg.token_b.clone(), encoding_of(&reg.version));
        client.retry.attempts = 1;
        let mut party = None;
        if is_hub(reg) {
            if let Some(to) = to.or_else(|| hub_party(reg)) {
                let (cc, pid) = self.party();
                client = client.with_routing(Routing::new((cc, pid), (&to.0, &to.1)));
                party = Some(format!("{}*{}", to.0, to.1));
            }
        }
        let ops = self.ops.clone();
        let module = module.to_owned();
        client.with_observer(move |x| {
            if let Some(t) = &tap {
                t(x);
            }
            let mut row = AuditRow::out(partner, party.clone(), x);
            row.module = Some(module.clone());
            ops.audit(row);
        })
    }

    /// `client` (a handler context's, [`ocpi::handlers::RequestContext::client`]) answering a
    /// request asynchronously (command and charging-profile results POSTed to a
    /// `response_url`), its exchanges written to the audit log as requests to the caller of
    /// `module` (its own observer, if any, is replaced); when the caller is a hub, with
    /// the routing headers back to the party that made the request (its `OCPI-from-*`
    /// headers) from us, so the hub can deliver the result; audited as that party's.
    pub(super) fn audited_reply(
        &self,
        ctx: &ocpi::handlers::RequestContext,
        module: &str,
        mut client: Client,
    ) -> Client {
        let mut party = None;
        if ctx.registration.as_ref().is_some_and(is_hub) {
            if let (Some(cc), Some(pid)) = (
                ctx.routing.from_country_code.as_deref(),
                ctx.routing.from_party_id.as_deref(),
            ) {
                let (ours_cc, ours_pid) = self.party();
                client = client.with_routing(Routing::new((ours_cc, ours_pid), (cc, pid)));
                party = Some(format!("{cc}*{pid}"));
            }
        }
        let ops = self.ops.clone();
        let module = module.to_owned();
        let partner = ctx.peer;
        client.with_observer(move |x| {
            let mut row = AuditRow::out(partner, party.clone(), x);
            row.module = Some(module.clone());
            ops.audit(row);
        })
    }

    /// The registered hub with the lowest id (deterministic), the one that speaks for the
    /// parties without a partner of their own when the bridge serves a hub's requests.
    pub(super) fn hub_for(&self) -> Option<u64> {
        self.registered()
            .into_iter()
            .filter(|(_, r)| is_hub(r))
            .map(|(id, _)| id)
            .min()
    }

    /// The hub through which a party without a partner of its own is reached: the hub that
    /// PUT a token or a `ClientInfo` of that party (seen since the start, or, for the tokens
    /// stored before, the lowest-id hub), else the lowest-id hub if a hub announced the party
    /// in a `ClientInfo`; `None` for a party no hub spoke of (its sessions and CDRs go
    /// nowhere rather than to an arbitrary hub).
    pub(super) fn hub_for_party(&self, country_code: &str, party_id: &str) -> Option<u64> {
        let hubs: Vec<u64> = self
            .registered()
            .into_iter()
            .filter(|(_, r)| is_hub(r))
            .map(|(id, _)| id)
            .collect();
        let lowest = hubs.iter().copied().min()?;
        let key = (
            country_code.to_ascii_uppercase(),
            party_id.to_ascii_uppercase(),
        );
        if !self
            .ops
            .hub_parties_seeded
            .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            // Tokens stored before this start: which hub PUT them is not stored; the
            // lowest-id hub (exact with one hub). Later PUTs record their hub.
            let stored: Vec<(String, String)> = self
                .storage()
                .list_kind(ocpi::v221::ModuleId::Tokens.as_str(), "RECEIVER")
                .into_iter()
                .filter_map(|(ids, _)| {
                    Some((
                        ids.first()?.to_ascii_uppercase(),
                        ids.get(1)?.to_ascii_uppercase(),
                    ))
                })
                .collect();
            let mut m = self
                .ops
                .hub_parties
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            for k in stored {
                m.entry(k).or_insert(lowest);
            }
        }
        let recorded = self
            .ops
            .hub_parties
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .copied();
        match recorded {
            Some(h) if hubs.contains(&h) => Some(h),
            Some(_) => Some(lowest),
            None => self
                .storage()
                .get_kind(
                    ocpi::v221::ModuleId::HubClientInfo.as_str(),
                    "RECEIVER",
                    &[key.0.clone(), key.1.clone()],
                )
                .or_else(|| {
                    self.storage().get_kind(
                        ocpi::v221::ModuleId::HubClientInfo.as_str(),
                        "RECEIVER",
                        &[country_code.to_owned(), party_id.to_owned()],
                    )
                })
                .map(|_| lowest),
        }
    }
}

// ------------------------------------------------------------------ inbound middleware

fn header(h: &axum::http::HeaderMap, name: &str) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(200).collect())
}

/// The module of an OCPI path under the base URL: `versions`, `details`, `credentials` or the
/// module of `/{version}/{sender|receiver}/{module}`.
fn module_of(path: &str) -> Option<String> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let i = segs.iter().position(|s| *s == "sender" || *s == "receiver");
    match i {
        Some(i) => segs.get(i + 1).map(|s| (*s).to_owned()),
        None => segs
            .iter()
            .rev()
            .find(|s| matches!(**s, "versions" | "details" | "credentials"))
            .map(|s| (*s).to_owned()),
    }
}

/// Rate limit, audit and metrics of every request a partner makes (the outermost layer of the
/// OCPI server).
pub(super) async fn inbound(
    State(cpo): State<Weak<OcpiCpo>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let Some(c) = cpo.upgrade() else {
        return next.run(req).await;
    };
    let started = std::time::Instant::now();
    let h = req.headers();
    let request_id = header(h, headers::X_REQUEST_ID);
    let correlation_id = header(h, headers::X_CORRELATION_ID);
    let from = (
        header(h, headers::OCPI_FROM_COUNTRY_CODE),
        header(h, headers::OCPI_FROM_PARTY_ID),
    );
    let auth = h.get(headers::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let partner = {
        let reg = c.server.registry.lock().unwrap_or_else(|e| e.into_inner());
        parse_authorization(auth, TokenEncoding::Base64, true)
            .unwrap_or_default()
            .iter()
            .find_map(|t| reg.authenticate(t, Scope::Versions).ok())
            .map(|caller| caller.peer)
    };
    let method = req.method().to_string();
    let url = req.uri().to_string();
    let module = module_of(req.uri().path());
    let key = partner.unwrap_or(ANONYMOUS);
    let mut refused_unknown = false;
    let resp = match c.ops.admit(key) {
        Err(wait) => {
            refused_unknown = partner.is_none();
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let env = ocpi::transport::Envelope::<Value>::error(
                ocpi::transport::StatusCode::CLIENT_ERROR,
                format!("rate limit exceeded: retry after {secs} s"),
            );
            let mut r =
                (axum::http::StatusCode::TOO_MANY_REQUESTS, axum::Json(env)).into_response();
            if let Ok(v) = secs.max(1).to_string().parse() {
                r.headers_mut().insert("retry-after", v);
            }
            for (n, v) in [
                (headers::X_REQUEST_ID, &request_id),
                (headers::X_CORRELATION_ID, &correlation_id),
            ] {
                if let Some(v) = v.as_deref().and_then(|v| v.parse().ok()) {
                    r.headers_mut().insert(n, v);
                }
            }
            r
        }
        Ok(()) => next.run(req).await,
    };
    let status = resp.status().as_u16();
    c.ops.answered(key, status);
    if let (Some(p), "PUT", true) = (partner, method.as_str(), (200..300).contains(&status)) {
        c.ops.hub_put(p, &url, &c);
    }
    if refused_unknown {
        // Callers without a known token over their (shared) limit are counted, not audited:
        // a flood of them must not flood the log.
        return resp;
    }
    // A hub speaks for the party of its OCPI-from-* headers; another partner for its own
    // (read after the answer: a registration has named the roles by then).
    let registration = partner.and_then(|p| c.registration(p));
    let party = match (&registration, &from) {
        (Some(r), (Some(cc), Some(pid))) if is_hub(r) => Some(format!("{cc}*{pid}")),
        (Some(r), _) => r
            .roles
            .first()
            .map(|x| format!("{}*{}", x.country_code.0, x.party_id.0)),
        _ => None,
    };
    // The OCPI status code of the envelope (the body is read and put back).
    let (parts, body) = resp.into_parts();
    // A body larger than 64 MiB (or of unknown size beyond it) is passed through unread.
    let small = axum::body::HttpBody::size_hint(&body)
        .upper()
        .is_some_and(|n| n <= 64 << 20);
    let (ocpi_status, body) = if small {
        match axum::body::to_bytes(body, 64 << 20).await {
            Ok(b) => (
                serde_json::from_slice::<StatusOnly>(&b)
                    .ok()
                    .and_then(|s| s.status_code),
                axum::body::Body::from(b),
            ),
            Err(_) => (None, axum::body::Body::empty()),
        }
    } else {
        (None, body)
    };
    c.ops.audit(AuditRow {
        id: 0,
        at: crate::domain::now(),
        direction: "in".into(),
        partner_id: partner.map(|p| p as i64),
        party,
        method,
        url,
        module,
        http_status: Some(i64::from(status)),
        ocpi_status: ocpi_status.map(i64::from),
        request_id,
        correlation_id,
        duration_ms: started.elapsed().as_millis() as i64,
        error: None,
    });
    Response::from_parts(parts, body)
}

#[derive(serde::Deserialize)]
struct StatusOnly {
    status_code: Option<u16>,
}

// ------------------------------------------------------------------ audit log

/// One audited OCPI request and its response.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditRow {
    /// Position (increasing; the `before` cursor of the API).
    pub id: i64,
    /// When the response was complete (RFC 3339, UTC).
    pub at: String,
    /// `in` (a partner called us) or `out` (we called a partner).
    pub direction: String,
    /// The partner, when known.
    pub partner_id: Option<i64>,
    /// The party (`CC*PID`) the request was for or from (for a hub: the routed party).
    pub party: Option<String>,
    /// HTTP method.
    pub method: String,
    /// The URL (path and query on `in`).
    pub url: String,
    /// The OCPI module, when the URL names one.
    pub module: Option<String>,
    /// HTTP status, when a response was sent or received.
    pub http_status: Option<i64>,
    /// OCPI status code of the response envelope.
    pub ocpi_status: Option<i64>,
    /// `X-Request-ID`.
    pub request_id: Option<String>,
    /// `X-Correlation-ID`.
    pub correlation_id: Option<String>,
    /// Duration in milliseconds.
    pub duration_ms: i64,
    /// Transport or decoding error.
    pub error: Option<String>,
}

impl AuditRow {
    fn out(partner: u64, party: Option<String>, x: &Exchange) -> AuditRow {
        AuditRow {
            id: 0,
            at: crate::domain::now(),
            direction: "out".into(),
            partner_id: Some(partner as i64),
            party,
            method: x.method.clone(),
            url: x.url.clone(),
            module: None,
            http_status: x.http_status.map(i64::from),
            ocpi_status: x.ocpi_status.map(i64::from),
            request_id: Some(x.request_id.clone()),
            correlation_id: Some(x.correlation_id.clone()),
            duration_ms: x.duration.as_millis() as i64,
            error: x.error.clone(),
        }
    }
}

/// A URL as the audit log keeps it: customer token ids replaced with `…` (the uid of
/// `…/tokens/{country_code}/{party_id}/{uid}` and of `…/tokens/{uid}/authorize`; the log
/// is not encrypted at rest) and cut to [`AUDIT_URL_MAX`] characters.
pub(crate) fn audit_url(url: &str) -> String {
    let (path, query) = match url.find('?') {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    let mut segs: Vec<&str> = path.split('/').collect();
    if let Some(t) = segs.iter().rposition(|s| s.eq_ignore_ascii_case("tokens")) {
        let after = segs.len() - t - 1;
        let uid = match segs.get(t + 2) {
            Some(s) if s.eq_ignore_ascii_case("authorize") => Some(t + 1),
            _ if after >= 3 => Some(t + 3),
            _ => None,
        };
        if let Some(i) = uid.filter(|i| segs.get(*i).is_some_and(|s| !s.is_empty())) {
            segs[i] = "…";
        }
    }
    let mut out = segs.join("/");
    out.push_str(query);
    if out.chars().count() > AUDIT_URL_MAX {
        out = out.chars().take(AUDIT_URL_MAX - 1).collect();
        out.push('…');
    }
    out
}

/// Writes audit rows as they come (several per statement when they queue up) and prunes the
/// log every 1,000 rows and at least every 10 minutes.
async fn audit_writer(
    db: Arc<dyn super::db::OcpiDb>,
    mut rx: mpsc::Receiver<AuditMsg>,
    s: OpsSettings,
) {
    let mut since_prune = 0usize;
    let mut last_prune = Instant::now();
    let mut msgs = Vec::new();
    let mut batch = Vec::new();
    while rx.recv_many(&mut msgs, 256).await > 0 {
        let mut flushed = Vec::new();
        for m in msgs.drain(..) {
            match m {
                AuditMsg::Row(r) => batch.push(*r),
                AuditMsg::Flush(tx) => flushed.push(tx),
            }
        }
        since_prune += batch.len();
        if let Err(e) = db.audit_insert(&batch).await {
            tracing::error!(error = %e, rows = batch.len(), "writing the OCPI audit log failed");
        }
        batch.clear();
        for tx in flushed {
            let _ = tx.send(());
        }
        if since_prune >= 1000 || last_prune.elapsed() > Duration::from_secs(600) {
            since_prune = 0;
            last_prune = Instant::now();
            let cutoff = (s.audit_retention_days > 0).then(|| {
                (chrono::Utc::now() - chrono::TimeDelta::days(i64::from(s.audit_retention_days)))
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            });
            let keep = i64::try_from(s.audit_max_rows).unwrap_or(i64::MAX);
            if let Err(e) = db.audit_prune(cutoff.as_deref(), keep).await {
                tracing::error!(error = %e, "pruning the OCPI audit log failed");
            }
        }
    }
}

/// The storage of the audit log and the outbox backlog (migration 0005), a part of
/// [`super::db::OcpiDb`].
#[async_trait]
pub trait AuditDb: Send + Sync + 'static {
    /// Appends audit rows (their `id` is ignored).
    async fn audit_insert(&self, rows: &[AuditRow]) -> StoreResult<()>;
    /// Audit rows newest first: of `partner` when given, with ids below `before` when given.
    async fn audit(
        &self,
        partner: Option<i64>,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<AuditRow>>;
    /// Removes rows older than `older_than` (RFC 3339) and all but the newest `keep` rows;
    /// returns how many went.
    async fn audit_prune(&self, older_than: Option<&str>, keep: i64) -> StoreResult<u64>;
    /// Undelivered pushes per partner.
    async fn outbox_backlog(&self) -> StoreResult<Vec<(i64, i64)>>;
}

/// Rows one pruning statement deletes at most.
const PRUNE_CHUNK: i64 = 5_000;

macro_rules! audit_db {
    ($store:ty, $db:ty) => {
        #[async_trait]
        impl AuditDb for $store {
            async fn audit_insert(&self, rows: &[AuditRow]) -> StoreResult<()> {
                if rows.is_empty() {
                    return Ok(());
                }
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO ocpi_audit (at, direction, partner_id, party, method, url, \
                     module, http_status, ocpi_status, request_id, correlation_id, duration_ms, \
                     error) ",
                );
                q.push_values(rows, |mut b, r| {
                    b.push_bind(r.at.clone())
                        .push_bind(r.direction.clone())
                        .push_bind(r.partner_id)
                        .push_bind(r.party.clone())
                        .push_bind(r.method.clone())
                        .push_bind(r.url.clone())
                        .push_bind(r.module.clone())
                        .push_bind(r.http_status)
                        .push_bind(r.ocpi_status)
                        .push_bind(r.request_id.clone())
                        .push_bind(r.correlation_id.clone())
                        .push_bind(r.duration_ms)
                        .push_bind(r.error.clone());
                });
                q.build().execute(self.pool()).await?;
                Ok(())
            }
            async fn audit(
                &self,
                partner: Option<i64>,
                before: Option<i64>,
                limit: i64,
            ) -> StoreResult<Vec<AuditRow>> {
                let rows = sqlx::query(
                    "SELECT * FROM ocpi_audit WHERE ($1 IS NULL OR partner_id = $1) \
                     AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
                )
                .bind(partner)
                .bind(before)
                .bind(limit)
                .fetch_all(self.pool())
                .await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in &rows {
                    out.push(AuditRow {
                        id: r.try_get("id")?,
                        at: r.try_get("at")?,
                        direction: r.try_get("direction")?,
                        partner_id: r.try_get("partner_id")?,
                        party: r.try_get("party")?,
                        method: r.try_get("method")?,
                        url: r.try_get("url")?,
                        module: r.try_get("module")?,
                        http_status: r.try_get("http_status")?,
                        ocpi_status: r.try_get("ocpi_status")?,
                        request_id: r.try_get("request_id")?,
                        correlation_id: r.try_get("correlation_id")?,
                        duration_ms: r.try_get("duration_ms")?,
                        error: r.try_get("error")?,
                    });
                }
                Ok(out)
            }
            async fn audit_prune(&self, older_than: Option<&str>, keep: i64) -> StoreResult<u64> {
                // In chunks of PRUNE_CHUNK rows: one huge DELETE would hold the database's
                // write lock (SQLite) or a long transaction (PostgreSQL).
                let mut n = 0;
                if let Some(t) = older_than {
                    loop {
                        let k = sqlx::query(
                            "DELETE FROM ocpi_audit WHERE id IN (SELECT id FROM ocpi_audit \
                             WHERE at < $1 ORDER BY id LIMIT $2)",
                        )
                        .bind(t)
                        .bind(PRUNE_CHUNK)
                        .execute(self.pool())
                        .await?
                        .rows_affected();
                        n += k;
                        if k < PRUNE_CHUNK as u64 {
                            break;
                        }
                    }
                }
                let max: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM ocpi_audit")
                    .fetch_one(self.pool())
                    .await?;
                if let Some(last) = max.map(|m| m.saturating_sub(keep)) {
                    loop {
                        let k = sqlx::query(
                            "DELETE FROM ocpi_audit WHERE id IN (SELECT id FROM ocpi_audit \
                             WHERE id <= $1 ORDER BY id LIMIT $2)",
                        )
                        .bind(last)
                        .bind(PRUNE_CHUNK)
                        .execute(self.pool())
                        .await?
                        .rows_affected();
                        n += k;
                        if k < PRUNE_CHUNK as u64 {
                            break;
                        }
                    }
                }
                Ok(n)
            }
            async fn outbox_backlog(&self) -> StoreResult<Vec<(i64, i64)>> {
                let rows = sqlx::query(
                    "SELECT partner_id, COUNT(*) AS n FROM ocpi_outbox \
                     WHERE delivered_at IS NULL GROUP BY partner_id",
                )
                .fetch_all(self.pool())
                .await?;
                let mut out = Vec::new();
                for r in rows {
                    out.push((r.try_get("partner_id")?, r.try_get("n")?));
                }
                Ok(out)
            }
        }
    };
}

audit_db!(SqliteStore, sqlx::Sqlite);
audit_db!(PgStore, sqlx::Postgres);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_its_rate() {
        let t0 = Instant::now();
        let mut b = Bucket::new(10, 3, t0);
        assert!(b.take(t0).is_ok() && b.take(t0).is_ok() && b.take(t0).is_ok());
        let wait = b.take(t0).unwrap_err();
        assert!(wait <= Duration::from_millis(100) && wait > Duration::ZERO);
        assert!(b.take(t0 + Duration::from_millis(100)).is_ok());
        assert!(b.take(t0 + Duration::from_millis(100)).is_err());
    }

    #[test]
    fn a_circuit_opens_after_the_threshold_half_opens_and_backs_off() {
        let t0 = Instant::now();
        let cd = Duration::from_secs(10);
        let mut c = Circuit::default();
        assert_eq!(c.failure(t0, 3, cd), None);
        assert_eq!(c.failure(t0, 3, cd), None);
        assert_eq!(c.failure(t0, 3, cd), Some(t0 + cd));
        assert_eq!(c.state, CircuitState::Open);
        assert_eq!(c.allow(t0 + Duration::from_secs(5)), Err(t0 + cd));
        assert_eq!(c.allow(t0 + cd), Ok(()));
        assert_eq!(c.state, CircuitState::HalfOpen);
        // The probe fails: open again for twice as long.
        let t1 = t0 + cd;
        assert_eq!(c.failure(t1, 3, cd), Some(t1 + 2 * cd));
        assert_eq!(c.allow(t1 + 2 * cd), Ok(()));
        c.success();
        assert_eq!((c.state, c.failures), (CircuitState::Closed, 0));
        assert_eq!(c.failure(t1, 3, cd), None);
    }

    #[test]
    fn settings_have_defaults_and_refuse_zeros() {
        use super::super::{OcpiFileSettings, OcpiSettings};
        let base = OcpiFileSettings {
            listen: Some("127.0.0.1:0".into()),
            ..Default::default()
        };
        let s = OcpiSettings::validate(Some(&base)).unwrap().unwrap();
        assert_eq!(s.ops, OpsSettings::default());
        let s = OcpiSettings::validate(Some(&OcpiFileSettings {
            rate_limit_per_second: Some(5),
            rate_limit_burst: Some(10),
            push_rate_per_second: Some(0),
            circuit_failures: Some(3),
            circuit_cooldown_seconds: Some(7),
            push_concurrency: Some(2),
            audit_retention_days: Some(0),
            audit_max_rows: Some(500),
            ..base.clone()
        }))
        .unwrap()
        .unwrap();
        assert_eq!(
            s.ops,
            OpsSettings {
                rate_per_second: 5,
                rate_burst: 10,
                push_rate_per_second: 0,
                circuit_failures: 3,
                circuit_cooldown: Duration::from_secs(7),
                push_concurrency: 2,
                audit_retention_days: 0,
                audit_max_rows: 500,
            }
        );
        for bad in [
            OcpiFileSettings {
                rate_limit_per_second: Some(0),
                ..base.clone()
            },
            OcpiFileSettings {
                circuit_failures: Some(0),
                ..base.clone()
            },
            OcpiFileSettings {
                circuit_cooldown_seconds: Some(0),
                ..base.clone()
            },
            OcpiFileSettings {
                audit_max_rows: Some(0),
                ..base.clone()
            },
        ] {
            assert!(OcpiSettings::validate(Some(&bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn modules_of_urls() {
        assert_eq!(
            module_of("/ocpi/2.2.1/receiver/tariffs/NL/CPO/T1").as_deref(),
            Some("tariffs")
        );
        assert_eq!(module_of("/ocpi/versions").as_deref(), Some("versions"));
        assert_eq!(
            module_of("/ocpi/2.2.1/credentials").as_deref(),
            Some("credentials")
        );
        assert_eq!(
            module_of("http://h/ocpi/emsp/2.2.1/sessions/NL/CPO/1").as_deref(),
            None
        );
    }

    #[test]
    fn audit_urls_hide_token_ids_and_are_cut() {
        assert_eq!(
            audit_url("/ocpi/2.2.1/receiver/tokens/NL/MSP/0123ABCD?type=RFID"),
            "/ocpi/2.2.1/receiver/tokens/NL/MSP/…?type=RFID"
        );
        assert_eq!(
            audit_url("http://h/ocpi/emsp/2.2.1/tokens/0123ABCD/authorize?type=APP_USER"),
            "http://h/ocpi/emsp/2.2.1/tokens/…/authorize?type=APP_USER"
        );
        assert_eq!(
            audit_url("/ocpi/2.2.1/receiver/tokens/NL/MSP"),
            "/ocpi/2.2.1/receiver/tokens/NL/MSP"
        );
        assert_eq!(
            audit_url("/ocpi/2.2.1/sender/tariffs?limit=5"),
            "/ocpi/2.2.1/sender/tariffs?limit=5"
        );
        let long = format!("/ocpi/{}", "x".repeat(2000));
        assert_eq!(audit_url(&long).chars().count(), AUDIT_URL_MAX);
    }
}
