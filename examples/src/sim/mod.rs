//! `ocpp-sim`: simulated charging stations of OCPP 1.6, 2.0.1 and 2.1 against any CSMS.
//!
//! Each station is a [`StationClient`] of `ocpp-core` offering one version, with the version
//! crate's station router: the configuration keys (1.6, [`ocpp16::config_store`]) or the device
//! model (2.x, `device_model`) answer the configuration calls, and the simulated hardware
//! ([`hw`]) answers remote start and stop, reset, unlock, availability, charging profiles (which
//! limit the simulated power) and trigger message. Reconnects and the offline queue are the
//! library's: transaction messages sent while the CSMS is away wait in the queue and are
//! replayed, so stopping and restarting the CSMS loses none.
//!
//! [`run`] drives a whole load run and returns its [`Summary`]; the binary `ocpp-sim` wraps it.

pub mod hw;
pub mod stats;
mod v16;
mod v2x;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ocpp_core::transport::{Backoff, StationClient};
use ocpp_core::{async_trait, BootState, CallFailure, StationConfig};
use ocpp_types::{decode_payload, Decode, DecodeOptions, OcppVersion};

use hw::{Hw, StopCause, Trigger};
pub use stats::{Latency, Stats, Summary};

/// What the stations do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Boot, status, a heartbeat every interval.
    Idle,
    /// Boot, status, then charging sessions one after the other: plug in, authorize, start,
    /// meter values every interval, stop, unplug.
    Charging,
}

impl std::str::FromStr for Scenario {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "idle" => Ok(Scenario::Idle),
            "charging" => Ok(Scenario::Charging),
            _ => Err(format!("unknown scenario {s:?} (idle, charging)")),
        }
    }
}

/// The settings of a run.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The CSMS URL without the station id (`ws://host:port/ocpp`). Several URLs separated by
    /// commas are given to the stations in turn: the same CSMS at `127.0.0.1`, `127.0.0.2`, ...
    /// gives every listener address its own range of ephemeral ports (one source address and
    /// one destination address and port allow at most as many connections as
    /// `/proc/sys/net/ipv4/ip_local_port_range` holds ports).
    pub url: String,
    /// Number of stations.
    pub stations: usize,
    /// Versions, given to the stations in turn (see [`SimConfig::weights`]).
    pub versions: Vec<OcppVersion>,
    /// The share of each of [`SimConfig::versions`] (same order; empty: equal shares). With
    /// `[2, 1, 1]` and 1.6, 2.0.1, 2.1, half the stations are 1.6, a quarter each 2.x; the
    /// stations are interleaved (1.6, 1.6, 2.0.1, 2.1, 1.6, ...).
    pub weights: Vec<u32>,
    /// The simulator's own heartbeat interval (both scenarios); `None`: only the heartbeats the
    /// engine sends at the interval the CSMS gave in the BootNotification answer (not timed).
    pub heartbeat: Option<Duration>,
    /// What the stations do.
    pub scenario: Scenario,
    /// Stations started per second.
    pub ramp_up: f64,
    /// Interval of meter values (charging) or heartbeats (idle).
    pub interval: Duration,
    /// Length of one charging session.
    pub session: Duration,
    /// Pause between sessions.
    pub pause: Duration,
    /// How long the load runs; sessions in progress are then stopped.
    pub duration: Duration,
    /// Station ids are `<prefix>-<n>` (n from 1, four digits).
    pub id_prefix: String,
    /// With one station: its id as it is (instead of `<prefix>-0001`).
    pub single_id: Option<String>,
    /// Security profile (0 to 3).
    pub security_profile: u8,
    /// Basic-auth password (profiles 1 and 2).
    pub password: Option<String>,
    /// How long a station waits for its first accepted boot before it counts as failed.
    pub boot_timeout: Duration,
    /// Call timeout of the engine.
    pub call_timeout: Duration,
    /// First reconnect delay (doubles up to 10 times this).
    pub reconnect: Duration,
    /// The id token of the sessions (`{n}` is replaced by the station number).
    pub id_token: String,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            url: "ws://127.0.0.1:9000/ocpp".into(),
            stations: 1,
            versions: vec![OcppVersion::V16, OcppVersion::V201, OcppVersion::V21],
            weights: Vec::new(),
            heartbeat: None,
            scenario: Scenario::Charging,
            ramp_up: 50.0,
            interval: Duration::from_secs(10),
            session: Duration::from_secs(30),
            pause: Duration::from_secs(5),
            duration: Duration::from_secs(60),
            id_prefix: "SIM".into(),
            single_id: None,
            security_profile: 0,
            password: None,
            boot_timeout: Duration::from_secs(60),
            call_timeout: Duration::from_secs(30),
            reconnect: Duration::from_secs(1),
            id_token: "SIMTAG{n}".into(),
        }
    }
}

/// Connector states, in the words of 1.6 (2.x maps them to Available / Occupied / Unavailable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Available,
    Preparing,
    Charging,
    Finishing,
    Unavailable,
}

/// One running transaction as the station loop knows it.
#[derive(Debug, Clone)]
pub(crate) struct Tx {
    pub id: String,
    pub tag: String,
    pub meter_wh: i64,
    pub power_w: f64,
    pub remote_id: Option<i64>,
}

type CallResult<T> = Result<T, CallFailure>;

/// The station-initiated messages of a version, as the scenarios use them.
#[async_trait]
pub(crate) trait Link: Send + Sync {
    async fn status(&self, status: Status) -> CallResult<()>;
    async fn heartbeat(&self) -> CallResult<()>;
    /// Whether the token is accepted.
    async fn authorize(&self, tag: &str) -> CallResult<bool>;
    /// Starts `tx` (1.6 learns its id from the CSMS); whether the CSMS accepted the token.
    async fn start(&self, tx: &mut Tx) -> CallResult<bool>;
    async fn meter(&self, tx: &Tx) -> CallResult<()>;
    async fn stop(&self, tx: &Tx, cause: StopCause) -> CallResult<()>;
    /// The meter interval the CSMS configured (key or variable), if any.
    fn meter_interval(&self) -> Option<Duration>;
}

pub(crate) fn msg<T: Decode>(json: &str) -> T {
    match decode_payload(json, &DecodeOptions::STRICT) {
        Ok(v) => v,
        Err(e) => panic!("simulator message {json}: {e}"),
    }
}

/// The station settings of the engine: with the simulator's own heartbeats, the engine's are
/// skipped while other calls go out.
pub(crate) fn station_config<P: ocpp_types::Protocol>(
    cfg: &SimConfig,
    boot: P::AnyRequest,
) -> StationConfig<P> {
    let mut st = StationConfig::new(boot);
    st.skip_heartbeat_after_traffic = cfg.heartbeat.is_some();
    st
}

pub(crate) fn now() -> String {
    ocpp_types::DateTime::now().to_string()
}

impl SimConfig {
    /// The version of station `n` (from 0): the versions in turn, by their weights.
    pub fn version_of(&self, n: usize) -> OcppVersion {
        let w: Vec<u64> = (0..self.versions.len())
            .map(|i| u64::from(self.weights.get(i).copied().unwrap_or(1)))
            .collect();
        let total: u64 = w.iter().sum();
        if total == 0 {
            return self.versions[n % self.versions.len()];
        }
        // Smooth weighted round robin over one cycle of `total` stations: each version's
        // stations are spread through the cycle instead of coming in blocks.
        let pos = n as u64 % total;
        let mut current = vec![0i64; w.len()];
        let mut pick = 0;
        for _ in 0..=pos {
            for (c, wi) in current.iter_mut().zip(&w) {
                *c += *wi as i64;
            }
            pick = (0..w.len())
                .max_by_key(|&i| (current[i], -(i as i64)))
                .unwrap_or(0);
            current[pick] -= total as i64;
        }
        self.versions[pick]
    }

    /// The URL of station `n` (from 0): the comma-separated URLs in turn.
    pub fn url_of(&self, n: usize) -> &str {
        let urls: Vec<&str> = self
            .url
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .collect();
        if urls.is_empty() {
            &self.url
        } else {
            urls[n % urls.len()]
        }
    }
}

/// Runs the stations and returns the summary once every station has stopped. `stats` are the
/// live counters (read them for a progress display while this runs).
pub async fn run(cfg: SimConfig, stats: Arc<Stats>) -> Summary {
    let start = Instant::now();
    stats.set_epoch(start);
    let end = tokio::time::Instant::now() + cfg.duration;
    let cfg = Arc::new(cfg);
    let mut tasks = Vec::with_capacity(cfg.stations);
    for n in 0..cfg.stations {
        if n > 0 && cfg.ramp_up > 0.0 {
            let at = start + Duration::from_secs_f64(n as f64 / cfg.ramp_up);
            tokio::time::sleep_until(at.into()).await;
        }
        let version = cfg.version_of(n);
        let (cfg, stats) = (cfg.clone(), stats.clone());
        stats.started.fetch_add(1, Ordering::Relaxed);
        tasks.push(tokio::spawn(station(cfg, n + 1, version, stats, end)));
    }
    // The steady window: every station started (plus one boot and status exchange).
    let ramped = start.elapsed() + Duration::from_secs(2);
    for t in tasks {
        let _ = t.await;
    }
    stats.summary_in(cfg.stations, start.elapsed(), (ramped, cfg.duration))
}

/// One station from start to shutdown.
async fn station(
    cfg: Arc<SimConfig>,
    n: usize,
    version: OcppVersion,
    stats: Arc<Stats>,
    end: tokio::time::Instant,
) {
    let id = match &cfg.single_id {
        Some(id) if cfg.stations == 1 => id.clone(),
        _ => format!("{}-{n:04}", cfg.id_prefix),
    };
    let hw = Hw::new(stats.clone());
    let mut engine = ocpp_core::Config::default();
    engine.call_timeout = cfg.call_timeout;
    let mut backoff = Backoff::default();
    backoff.initial = cfg.reconnect;
    backoff.max = cfg.reconnect * 10;
    let mut b = StationClient::builder(cfg.url_of(n - 1), &id)
        .security_profile(cfg.security_profile)
        .engine(engine)
        .backoff(backoff);
    if let Some(pw) = &cfg.password {
        b = b.password(pw);
    }
    let started = match version {
        OcppVersion::V16 => v16::start(b, &id, &cfg, hw.clone()),
        OcppVersion::V201 => v2x::start201(b, &id, &cfg, hw.clone()),
        OcppVersion::V21 => v2x::start21(b, &id, &cfg, hw.clone()),
    };
    let (client, link) = match started {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{id}: {e}");
            stats.failed.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    let mut status = client.status();
    let booted = tokio::time::timeout(
        cfg.boot_timeout,
        status.wait_for(|s| s.boot == BootState::Accepted && s.connected.is_some()),
    )
    .await
    .is_ok_and(|r| r.is_ok());
    if !booted {
        let why = status
            .borrow()
            .last_error
            .clone()
            .unwrap_or_else(|| "boot not accepted".into());
        tracing::warn!(station = %id, %why, "failed");
        stats.failed.fetch_add(1, Ordering::Relaxed);
        client.shutdown().await;
        return;
    }
    stats.connected.fetch_add(1, Ordering::Relaxed);
    stats.online_change(1);
    // Track reconnects and the online count.
    let watcher = {
        let stats = stats.clone();
        let mut status = client.status();
        tokio::spawn(async move {
            let mut was_online = true;
            let mut connections = status.borrow().connections;
            while status.changed().await.is_ok() {
                let s = status.borrow_and_update().clone();
                let online = s.connected.is_some();
                if online != was_online {
                    stats.online_change(if online { 1 } else { -1 });
                    was_online = online;
                }
                if s.connections > connections {
                    stats
                        .reconnects
                        .fetch_add(s.connections - connections, Ordering::Relaxed);
                    connections = s.connections;
                }
            }
        })
    };
    let tag = cfg.id_token.replace("{n}", &n.to_string());
    let _ = link.status(Status::Available).await;
    match cfg.scenario {
        Scenario::Idle => idle(&*link, &hw, &cfg, &id, end).await,
        Scenario::Charging => charging(&*link, &hw, &cfg, &id, &tag, end).await,
    }
    watcher.abort();
    if client.status().borrow().connected.is_some() {
        // Counted by each station as its load ends, not sampled at the deadline: a sample
        // raced with the stations that were already closing on time.
        if tokio::time::Instant::now() >= end {
            stats.final_online.fetch_add(1, Ordering::Relaxed);
        }
        stats.online_change(-1);
    }
    client.shutdown().await;
}

/// Sends what the CSMS triggered.
async fn triggers(link: &dyn Link, hw: &Hw, tx: Option<&Tx>, status: Status) {
    let pending = std::mem::take(&mut hw.state().triggers);
    for t in pending {
        let _ = match (t, tx) {
            (Trigger::Heartbeat, _) => link.heartbeat().await,
            (Trigger::Status, _) => link.status(status).await,
            (Trigger::MeterValues, Some(tx)) => link.meter(tx).await,
            (Trigger::MeterValues, None) => Ok(()),
        };
    }
}

/// The simulator's own heartbeats (`SimConfig::heartbeat`), sent when due.
struct Beat {
    every: Option<Duration>,
    next: tokio::time::Instant,
}

impl Beat {
    fn new(cfg: &SimConfig, id: &str) -> Self {
        let every = cfg.heartbeat;
        // Spread the stations' heartbeats over one interval.
        let first = every.map_or(Duration::ZERO, |e| e.mul_f64(jitter(&format!("{id}#hb"))));
        Beat {
            every,
            next: tokio::time::Instant::now() + first,
        }
    }

    /// When the next heartbeat is due (far away when the simulator sends none).
    fn due(&self) -> tokio::time::Instant {
        match self.every {
            Some(_) => self.next,
            None => tokio::time::Instant::now() + Duration::from_secs(86_400),
        }
    }

    async fn tick(&mut self, link: &dyn Link, end: tokio::time::Instant) {
        let Some(every) = self.every else { return };
        let now = tokio::time::Instant::now();
        if now >= self.next && now < end {
            let _ = link.heartbeat().await;
            self.next = (self.next + every).max(now + every / 2);
        }
    }
}

async fn idle(link: &dyn Link, hw: &Hw, cfg: &SimConfig, id: &str, end: tokio::time::Instant) {
    if cfg.heartbeat.is_some() {
        // The simulator's heartbeat is the idle load.
        let mut beat = Beat::new(cfg, id);
        while tokio::time::Instant::now() < end {
            hw.sleep(
                beat.due()
                    .min(end)
                    .saturating_duration_since(tokio::time::Instant::now()),
            )
            .await;
            triggers(link, hw, None, Status::Available).await;
            beat.tick(link, end).await;
        }
        return;
    }
    let mut next = tokio::time::Instant::now() + cfg.interval;
    while tokio::time::Instant::now() < end {
        hw.sleep(
            next.min(end)
                .saturating_duration_since(tokio::time::Instant::now()),
        )
        .await;
        triggers(link, hw, None, Status::Available).await;
        if tokio::time::Instant::now() >= next && tokio::time::Instant::now() < end {
            let _ = link.heartbeat().await;
            next += cfg.interval;
        }
    }
}

async fn charging(
    link: &dyn Link,
    hw: &Hw,
    cfg: &SimConfig,
    id: &str,
    tag: &str,
    end: tokio::time::Instant,
) {
    let stats = hw.stats.clone();
    let mut beat = Beat::new(cfg, id);
    let mut session = 0u32;
    // Spread the first plug-ins over the pause.
    let mut plug_at = tokio::time::Instant::now() + cfg.pause.mul_f64(jitter(id));
    loop {
        // Idle until the next plug-in, a remote start, or the end.
        let remote = loop {
            let now = tokio::time::Instant::now();
            if now >= end {
                return;
            }
            triggers(link, hw, None, Status::Available).await;
            beat.tick(link, end).await;
            let remote = hw.state().remote_start.take();
            if remote.is_some() {
                break remote;
            }
            if now >= plug_at && hw.state().available {
                break None;
            }
            hw.sleep(
                plug_at
                    .min(end)
                    .min(beat.due())
                    .saturating_duration_since(now)
                    .max(Duration::from_millis(5)),
            )
            .await;
        };
        session += 1;
        let (tag, remote_id) = match remote {
            Some((t, r)) => (t, r),
            None => (tag.to_owned(), None),
        };
        let mut tx = Tx {
            id: format!("{id}-{session}"),
            tag,
            meter_wh: 0,
            power_w: hw.power_w(),
            remote_id,
        };
        let _ = link.status(Status::Preparing).await;
        let authorized = if remote_id.is_some() {
            true
        } else {
            link.authorize(&tx.tag).await.unwrap_or(false)
        };
        // The transaction starts on the station when it sends the start: its meter values
        // are sampled from then on, however long the CSMS takes to answer (with the answer's
        // time instead, every station answered after the same stall of the CSMS sampled in
        // step from then on, and the runs' bursts grew every interval).
        let started_at = tokio::time::Instant::now();
        if authorized && link.start(&mut tx).await.unwrap_or(false) {
            stats.tx_started.fetch_add(1, Ordering::Relaxed);
            hw.update(|s| {
                s.transaction = Some(tx.id.clone());
                s.stop = None;
            });
            let _ = link.status(Status::Charging).await;
            let stop_at = (started_at + cfg.session).min(end);
            let mut last = started_at;
            let cause = loop {
                let interval = link
                    .meter_interval()
                    .unwrap_or(cfg.interval)
                    .max(Duration::from_millis(10));
                let next = (last + interval).min(stop_at);
                hw.sleep(
                    next.min(beat.due())
                        .saturating_duration_since(tokio::time::Instant::now()),
                )
                .await;
                let woke = tokio::time::Instant::now();
                beat.tick(link, end).await;
                let now = tokio::time::Instant::now();
                if woke < next && hw.state().stop.is_none() && hw.state().triggers.is_empty() {
                    // Woken for the heartbeat only.
                    continue;
                }
                // A sample due is taken at the last tick of the station's sampling clock
                // (which keeps its phase, whatever the heartbeat's answer took; after a stall
                // of several intervals, the missed samples are skipped, not sent in a row); a
                // stop or a trigger now.
                let now = if woke >= next {
                    let missed = (woke - next).as_secs_f64() / interval.as_secs_f64();
                    (next + interval.mul_f64(missed.floor())).min(woke)
                } else {
                    now
                };
                tx.meter_wh +=
                    (tx.power_w * now.duration_since(last).as_secs_f64() / 3600.0).round() as i64;
                last = now;
                tx.power_w = hw.power_w();
                triggers(link, hw, Some(&tx), Status::Charging).await;
                if let Some(cause) = hw.state().stop.take() {
                    break cause;
                }
                if now >= stop_at {
                    break StopCause::Local;
                }
                if now >= next {
                    let _ = link.meter(&tx).await;
                }
            };
            if link.stop(&tx, cause).await.is_ok() {
                stats.tx_ended.fetch_add(1, Ordering::Relaxed);
            }
            hw.update(|s| s.transaction = None);
            let _ = link.status(Status::Finishing).await;
        }
        let available = hw.state().available;
        let _ = link
            .status(if available {
                Status::Available
            } else {
                Status::Unavailable
            })
            .await;
        plug_at = tokio::time::Instant::now() + cfg.pause;
    }
}

/// A number in [0, 1) from the station id, to spread the stations' first sessions.
///
/// FNV-1a, then a 64-bit finaliser (MurmurHash3's `fmix64`): FNV alone leaves the high bits
/// nearly the same for ids that differ in their last characters, and `SIM-0100` to
/// `SIM-0199` plugged in within the same second, their meter values in step from then on.
fn jitter(id: &str) -> f64 {
    let mut h = id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::jitter;

    /// Ids that differ only in their last digits are spread over the whole interval: every
    /// tenth of it gets about a tenth of 1,000 stations (FNV alone put 100 ids in a row at
    /// nearly the same point).
    #[test]
    fn jitter_spreads_neighbouring_ids() {
        let mut tenths = [0u32; 10];
        for n in 1..=1000 {
            let j = jitter(&format!("SIM-{n:04}"));
            assert!((0.0..1.0).contains(&j));
            tenths[(j * 10.0) as usize] += 1;
        }
        assert!(
            tenths.iter().all(|&c| (70..=130).contains(&c)),
            "{tenths:?}"
        );
        // The same id, the same point.
        assert_eq!(jitter("SIM-0042"), jitter("SIM-0042"));
    }
}
