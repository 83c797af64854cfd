//! Counters of a simulator run and its summary.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ocpp_core::CallFailure;
use serde_json::{json, Value};

/// Live counters shared by every simulated station.
#[derive(Debug, Default)]
pub struct Stats {
    sent: Mutex<BTreeMap<String, u64>>,
    errors: Mutex<BTreeMap<String, u64>>,
    received: Mutex<BTreeMap<String, u64>>,
    /// Round trips of answered calls: (milliseconds from `epoch` to sending, microseconds).
    latencies_us: Mutex<Vec<(u32, u64)>>,
    /// Answered calls per second of the run (index: whole seconds since `epoch`).
    per_second: Mutex<Vec<u64>>,
    epoch: Mutex<Option<Instant>>,
    /// The most stations connected at once.
    pub peak_online: AtomicI64,
    /// Stations whose boot was accepted at least once.
    pub connected: AtomicU64,
    /// Stations that never got an accepted boot (or could not start).
    pub failed: AtomicU64,
    /// Stations connected right now.
    pub online: AtomicI64,
    /// Stations connected when the load ended (before the stations shut down).
    pub final_online: AtomicU64,
    /// Stations started so far (ramp-up).
    pub started: AtomicU64,
    /// Calls without an answer within the call timeout.
    pub timeouts: AtomicU64,
    /// Calls not sent or not answered because the connection was down (never transaction
    /// messages: those wait in the offline queue).
    pub disconnected: AtomicU64,
    /// Transactions started (the CSMS acknowledged the start).
    pub tx_started: AtomicU64,
    /// Transactions ended (the CSMS acknowledged the stop).
    pub tx_ended: AtomicU64,
    /// Reconnections after the first connection, over all stations.
    pub reconnects: AtomicU64,
}

fn bump(map: &Mutex<BTreeMap<String, u64>>, key: &str) {
    let mut map = map.lock().unwrap();
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_owned(), 1);
        }
    }
}

impl Stats {
    /// Marks the start of the run: messages per second are counted from here.
    pub fn set_epoch(&self, at: Instant) {
        *self.epoch.lock().unwrap() = Some(at);
    }

    /// A station came online (`+1`) or went offline (`-1`); keeps the peak.
    pub fn online_change(&self, delta: i64) {
        let now = self.online.fetch_add(delta, Ordering::Relaxed) + delta;
        self.peak_online.fetch_max(now, Ordering::Relaxed);
    }

    fn answered_at(&self, at: Instant) {
        let epoch = *self.epoch.lock().unwrap();
        let Some(epoch) = epoch else { return };
        let i = at.saturating_duration_since(epoch).as_secs() as usize;
        let mut ps = self.per_second.lock().unwrap();
        if ps.len() <= i {
            ps.resize(i + 1, 0);
        }
        ps[i] += 1;
    }

    /// Awaits one station-initiated call and records it: sent, latency, error code.
    pub async fn timed<T>(
        &self,
        action: &str,
        call: impl std::future::Future<Output = Result<T, CallFailure>>,
    ) -> Result<T, CallFailure> {
        let t = Instant::now();
        let r = call.await;
        let done = Instant::now();
        let us = done.duration_since(t).as_micros() as u64;
        match &r {
            Ok(_) => {
                bump(&self.sent, action);
                let epoch = *self.epoch.lock().unwrap();
                let sent_ms =
                    epoch.map_or(0, |e| t.saturating_duration_since(e).as_millis() as u32);
                self.latencies_us.lock().unwrap().push((sent_ms, us));
                self.answered_at(done);
            }
            Err(CallFailure::Error { error, wire_code }) => {
                if wire_code.is_empty() {
                    bump(
                        &self.errors,
                        &format!(
                            "not sent: {}",
                            error.code.wire(ocpp_types::OcppVersion::V201)
                        ),
                    );
                } else {
                    bump(&self.sent, action);
                    bump(&self.errors, wire_code);
                    self.answered_at(done);
                }
            }
            Err(CallFailure::Timeout) => {
                bump(&self.sent, action);
                self.timeouts.fetch_add(1, Ordering::Relaxed);
            }
            Err(CallFailure::InvalidResponse(_)) => {
                bump(&self.sent, action);
                bump(&self.errors, "InvalidResponse");
            }
            Err(_) => {
                self.disconnected.fetch_add(1, Ordering::Relaxed);
            }
        }
        r
    }

    /// Records a CSMS-initiated call the simulated hardware answered.
    pub fn received(&self, action: &str) {
        bump(&self.received, action);
    }

    /// Messages sent so far.
    pub fn sent_total(&self) -> u64 {
        self.sent.lock().unwrap().values().sum()
    }

    /// CALLERRORs (and local refusals) so far.
    pub fn errors_total(&self) -> u64 {
        self.errors.lock().unwrap().values().sum()
    }

    /// The summary of the run. `steady` is the part of the run (from its start) over which the
    /// sustained rate is averaged: from when every station was started to the end of the load.
    pub fn summary_in(
        &self,
        requested: usize,
        elapsed: Duration,
        steady: (Duration, Duration),
    ) -> Summary {
        // One snapshot for the whole summary: while stations still run (ocpp-sim gives up
        // waiting for them), the phases then still add up to the calls counted.
        let lat = self.latencies_us.lock().unwrap().clone();
        let mut s = self.summary_of(requested, elapsed, &lat);
        let ps = self.per_second.lock().unwrap().clone();
        // Whole seconds inside the window only.
        let from = steady.0.as_secs_f64().ceil() as usize;
        let to = (steady.1.as_secs() as usize).min(ps.len());
        if to > from {
            let window = &ps[from..to];
            s.steady_seconds = window.len() as u64;
            s.calls_per_second = window.iter().sum::<u64>() as f64 / window.len() as f64;
        }
        s.peak_calls_per_second = ps.iter().copied().max().unwrap_or(0);
        let to_ms = steady.1.as_millis() as u32;
        let from_ms = (steady.0.as_millis() as u32).min(to_ms);
        let phase = |keep: &dyn Fn(u32) -> bool| {
            Latency::of(
                lat.iter()
                    .filter(|(at, _)| keep(*at))
                    .map(|(_, us)| *us)
                    .collect(),
            )
        };
        s.ramp_latency = phase(&|at| at < from_ms);
        s.steady_latency = phase(&|at| (from_ms..to_ms).contains(&at));
        s.teardown_latency = phase(&|at| at >= to_ms);
        // The round trip over the run, 10 s at a time (by the second each call was sent).
        let mut buckets: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
        for (at, us) in lat.iter() {
            buckets.entry(at / 10_000 * 10).or_default().push(*us);
        }
        s.timeline = buckets
            .into_iter()
            .map(|(second, v)| (second, Latency::of(v)))
            .collect();
        s
    }

    /// The summary of the run (no sustained rate: see [`Stats::summary_in`]).
    pub fn summary(&self, requested: usize, elapsed: Duration) -> Summary {
        let lat = self.latencies_us.lock().unwrap().clone();
        self.summary_of(requested, elapsed, &lat)
    }

    /// The summary over the round trips `lat` (a snapshot of the recorded ones).
    fn summary_of(&self, requested: usize, elapsed: Duration, lat: &[(u32, u64)]) -> Summary {
        let all = Latency::of(lat.iter().map(|(_, us)| *us).collect());
        Summary {
            stations: requested as u64,
            connected: self.connected.load(Ordering::Relaxed),
            peak_online: self.peak_online.load(Ordering::Relaxed).max(0) as u64,
            final_online: self.final_online.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            elapsed,
            sent: self.sent.lock().unwrap().clone(),
            errors: self.errors.lock().unwrap().clone(),
            received: self.received.lock().unwrap().clone(),
            timeouts: self.timeouts.load(Ordering::Relaxed),
            disconnected: self.disconnected.load(Ordering::Relaxed),
            tx_started: self.tx_started.load(Ordering::Relaxed),
            tx_ended: self.tx_ended.load(Ordering::Relaxed),
            reconnects: self.reconnects.load(Ordering::Relaxed),
            calls: all.calls,
            p50_ms: all.p50_ms,
            p90_ms: all.p90_ms,
            p99_ms: all.p99_ms,
            max_ms: all.max_ms,
            steady_seconds: 0,
            calls_per_second: 0.0,
            peak_calls_per_second: 0,
            ramp_latency: Latency::default(),
            steady_latency: Latency::default(),
            teardown_latency: Latency::default(),
            timeline: Vec::new(),
        }
    }
}

/// Round-trip percentiles of a set of calls, milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Latency {
    /// Calls measured.
    pub calls: u64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Maximum.
    pub max_ms: f64,
}

impl Latency {
    /// The percentiles of `us` (round trips in microseconds; nearest-rank).
    pub fn of(mut us: Vec<u64>) -> Latency {
        if us.is_empty() {
            return Latency::default();
        }
        us.sort_unstable();
        let pct = |p: f64| -> f64 {
            let i = ((p / 100.0) * us.len() as f64).ceil() as usize;
            us[i.clamp(1, us.len()) - 1] as f64 / 1000.0
        };
        Latency {
            calls: us.len() as u64,
            p50_ms: pct(50.0),
            p90_ms: pct(90.0),
            p99_ms: pct(99.0),
            max_ms: *us.last().expect("not empty") as f64 / 1000.0,
        }
    }

    fn to_json(self) -> Value {
        json!({"calls": self.calls, "p50": self.p50_ms, "p90": self.p90_ms, "p99": self.p99_ms, "max": self.max_ms})
    }
}

/// What a run did.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Stations asked for.
    pub stations: u64,
    /// Stations whose boot was accepted.
    pub connected: u64,
    /// The most stations connected at once.
    pub peak_online: u64,
    /// Stations connected when the load ended, before they shut down.
    pub final_online: u64,
    /// Stations that never got an accepted boot.
    pub failed: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Answered (or timed-out) station-initiated calls per action.
    pub sent: BTreeMap<String, u64>,
    /// CALLERRORs per wire code (and `not sent: <code>` for calls the library refused).
    pub errors: BTreeMap<String, u64>,
    /// CSMS-initiated calls answered per action.
    pub received: BTreeMap<String, u64>,
    /// Calls that timed out.
    pub timeouts: u64,
    /// Calls lost to a disconnect (never transaction messages).
    pub disconnected: u64,
    /// Transactions started.
    pub tx_started: u64,
    /// Transactions ended.
    pub tx_ended: u64,
    /// Reconnections.
    pub reconnects: u64,
    /// Calls with a measured round trip.
    pub calls: u64,
    /// Round-trip latency percentiles and maximum, milliseconds.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Maximum.
    pub max_ms: f64,
    /// Whole seconds over which [`Summary::calls_per_second`] is averaged (0: no such window).
    pub steady_seconds: u64,
    /// Answered calls per second, sustained: the mean over the steady window (every station
    /// started, load not yet ended). Each call is two WebSocket messages (CALL and answer).
    pub calls_per_second: f64,
    /// The most calls answered in one second.
    pub peak_calls_per_second: u64,
    /// Round trips of the calls sent in the steady window (every station started, load not
    /// yet ended): the stations held, without the connect ramp.
    pub steady_latency: Latency,
    /// Round trips of the calls sent before the steady window: the stations connecting.
    pub ramp_latency: Latency,
    /// Round trips of the calls sent after the load ended: every station stopping its
    /// session and going offline at the same moment.
    pub teardown_latency: Latency,
    /// Round trips by the 10 s of the run in which the calls were sent (start second, figures).
    pub timeline: Vec<(u32, Latency)>,
}

impl Summary {
    /// CALLERRORs in total.
    pub fn errors_total(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Messages sent in total.
    pub fn sent_total(&self) -> u64 {
        self.sent.values().sum()
    }

    /// Calls that got no answer: timed out, or lost when the connection dropped.
    pub fn lost(&self) -> u64 {
        self.timeouts + self.disconnected
    }

    /// Answered calls (results and CALLERRORs).
    pub fn answered(&self) -> u64 {
        self.sent_total() - self.timeouts
    }

    /// The summary as JSON (`--report`).
    pub fn to_json(&self) -> Value {
        json!({
            "stations": {"requested": self.stations, "connected": self.connected, "failed": self.failed, "peakOnline": self.peak_online, "finalOnline": self.final_online},
            "elapsedSeconds": self.elapsed.as_secs_f64(),
            "messagesSent": self.sent,
            "messagesSentTotal": self.sent_total(),
            "callErrors": self.errors,
            "callErrorsTotal": self.errors_total(),
            "timeouts": self.timeouts,
            "lostToDisconnect": self.disconnected,
            "lost": self.lost(),
            "answered": self.answered(),
            "callsPerSecond": {"sustained": self.calls_per_second, "steadySeconds": self.steady_seconds, "peak": self.peak_calls_per_second},
            "messagesPerSecond": {"sustained": self.calls_per_second * 2.0},
            "csmsCallsAnswered": self.received,
            "transactions": {"started": self.tx_started, "ended": self.tx_ended},
            "reconnects": self.reconnects,
            "latencyMs": {"calls": self.calls, "p50": self.p50_ms, "p90": self.p90_ms, "p99": self.p99_ms, "max": self.max_ms},
            "steadyLatencyMs": self.steady_latency.to_json(),
            "rampLatencyMs": self.ramp_latency.to_json(),
            "teardownLatencyMs": self.teardown_latency.to_json(),
            "latencyTimelineMs": self.timeline.iter().map(|(second, l)| {
                let mut v = l.to_json();
                v["fromSecond"] = json!(second);
                v
            }).collect::<Vec<_>>(),
        })
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "stations: {} requested, {} connected (peak online {}, online at the end {}), {} failed ({:.1} s)",
            self.stations,
            self.connected,
            self.peak_online,
            self.final_online,
            self.failed,
            self.elapsed.as_secs_f64()
        )?;
        writeln!(f, "messages sent: {}", self.sent_total())?;
        for (a, n) in &self.sent {
            writeln!(f, "  {a:<28} {n}")?;
        }
        writeln!(f, "CALLERRORs: {}", self.errors_total())?;
        for (c, n) in &self.errors {
            writeln!(f, "  {c:<28} {n}")?;
        }
        if !self.received.is_empty() {
            writeln!(
                f,
                "CSMS calls answered: {}",
                self.received.values().sum::<u64>()
            )?;
            for (a, n) in &self.received {
                writeln!(f, "  {a:<28} {n}")?;
            }
        }
        writeln!(
            f,
            "transactions: {} started, {} ended; timeouts {}, lost to disconnect {}, reconnects {}",
            self.tx_started, self.tx_ended, self.timeouts, self.disconnected, self.reconnects
        )?;
        writeln!(
            f,
            "calls sent {}, answered {}, lost (unanswered) {}",
            self.sent_total(),
            self.answered(),
            self.lost()
        )?;
        writeln!(
            f,
            "sustained {:.1} calls/s ({:.1} messages/s) over {} s, peak {} calls/s",
            self.calls_per_second,
            self.calls_per_second * 2.0,
            self.steady_seconds,
            self.peak_calls_per_second
        )?;
        write!(
            f,
            "round trip over {} calls: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.calls, self.p50_ms, self.p90_ms, self.p99_ms, self.max_ms
        )?;
        for (name, l) in [
            ("connect ramp", &self.ramp_latency),
            ("steady window", &self.steady_latency),
            ("teardown", &self.teardown_latency),
        ] {
            if l.calls > 0 {
                write!(
                    f,
                    "\n{name}, {} calls: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                    l.calls, l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms
                )?;
            }
        }
        Ok(())
    }
}
