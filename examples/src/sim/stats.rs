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
    latencies_us: Mutex<Vec<u64>>,
    /// Stations whose boot was accepted at least once.
    pub connected: AtomicU64,
    /// Stations that never got an accepted boot (or could not start).
    pub failed: AtomicU64,
    /// Stations connected right now.
    pub online: AtomicI64,
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
    *map.lock().unwrap().entry(key.to_owned()).or_default() += 1;
}

impl Stats {
    /// Awaits one station-initiated call and records it: sent, latency, error code.
    pub async fn timed<T>(
        &self,
        action: &str,
        call: impl std::future::Future<Output = Result<T, CallFailure>>,
    ) -> Result<T, CallFailure> {
        let t = Instant::now();
        let r = call.await;
        let us = t.elapsed().as_micros() as u64;
        match &r {
            Ok(_) => {
                bump(&self.sent, action);
                self.latencies_us.lock().unwrap().push(us);
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

    /// The summary of the run.
    pub fn summary(&self, requested: usize, elapsed: Duration) -> Summary {
        let mut lat = self.latencies_us.lock().unwrap().clone();
        lat.sort_unstable();
        let pct = |p: f64| -> f64 {
            if lat.is_empty() {
                return 0.0;
            }
            let i = ((p / 100.0) * lat.len() as f64).ceil() as usize;
            lat[i.clamp(1, lat.len()) - 1] as f64 / 1000.0
        };
        Summary {
            stations: requested as u64,
            connected: self.connected.load(Ordering::Relaxed),
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
            calls: lat.len() as u64,
            p50_ms: pct(50.0),
            p90_ms: pct(90.0),
            p99_ms: pct(99.0),
            max_ms: lat.last().map_or(0.0, |m| *m as f64 / 1000.0),
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Stations asked for.
    pub stations: u64,
    /// Stations whose boot was accepted.
    pub connected: u64,
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

    /// The summary as JSON (`--report`).
    pub fn to_json(&self) -> Value {
        json!({
            "stations": {"requested": self.stations, "connected": self.connected, "failed": self.failed},
            "elapsedSeconds": self.elapsed.as_secs_f64(),
            "messagesSent": self.sent,
            "messagesSentTotal": self.sent_total(),
            "callErrors": self.errors,
            "callErrorsTotal": self.errors_total(),
            "timeouts": self.timeouts,
            "lostToDisconnect": self.disconnected,
            "csmsCallsAnswered": self.received,
            "transactions": {"started": self.tx_started, "ended": self.tx_ended},
            "reconnects": self.reconnects,
            "latencyMs": {"calls": self.calls, "p50": self.p50_ms, "p90": self.p90_ms, "p99": self.p99_ms, "max": self.max_ms},
        })
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "stations: {} requested, {} connected, {} failed ({:.1} s)",
            self.stations,
            self.connected,
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
        write!(
            f,
            "round trip over {} calls: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.calls, self.p50_ms, self.p90_ms, self.p99_ms, self.max_ms
        )
    }
}
