//! Prometheus metrics, written in the text exposition format by hand.
//!
//! | metric | labels | what |
//! | --- | --- | --- |
//! | `csms_connected_stations` | `version` | stations connected now |
//! | `csms_messages_total` | `direction`, `action` | OCPP messages (calls and answers) |
//! | `csms_call_errors_total` | `direction`, `code` | CALLERRORs sent (`out`) and received (`in`) |
//! | `csms_call_duration_seconds` | `action` | CSMS-initiated call latency (histogram) |
//! | `csms_store_duration_seconds` | `action` | time to persist one incoming message (histogram) |
//! | `csms_api_auth_failures_total` | | operator API requests refused for missing or wrong credentials |
//! | `csms_disconnects_total` | `reason` | station connections ended: `closed` (by the station), `keepalive_timeout` (no pong: half-open TCP), `slow_peer` (it did not read what was sent), `message_too_big`, `replaced`, `kicked`, `shutdown`, `error` |
//! | `csms_refused_connections_total` | `reason` | station connections refused before the WebSocket upgrade by the CSMS (`bad_station_id`, `throttled`, `wrong_password`) |
//! | `csms_refused_messages_total` | `code` | station messages the engine refused, by the CALLERROR code answered (`dropped`: no answer possible) |
//! | `csms_flood_refusals_total` | | CALLs refused because too many of the station's CALLs were already waiting (a flood sent without waiting for answers; also in `csms_refused_messages_total{code="GenericError"}`) |
//! | `csms_bad_frames_total` | `kind` | unusable frames from stations: `binary` (ignored), `invalid_utf8` (connection dropped; also `csms_disconnects_total{reason="error"}`) |
//!
//! Other modules add their own families through [`MetricsSource`]: the OCPI bridge's partner
//! health (`csms_ocpi_*`, see `ocpi_cpo::ops`).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

const BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0, 30.0];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum += secs;
    }
}

#[derive(Debug, Default)]
struct Inner {
    connected: BTreeMap<String, i64>,
    messages: BTreeMap<(String, String), u64>,
    errors: BTreeMap<(String, String), u64>,
    calls: BTreeMap<String, Histogram>,
    store: BTreeMap<String, Histogram>,
    api_auth_failures: u64,
    refused: BTreeMap<String, u64>,
    disconnects: BTreeMap<&'static str, u64>,
    refused_messages: BTreeMap<String, u64>,
    flood_refusals: u64,
    bad_frames: BTreeMap<&'static str, u64>,
}

/// A part of the exposition kept by another module (e.g. the OCPI bridge's partner health),
/// written after the registry's own metrics ([`Metrics::add_source`]).
pub trait MetricsSource: Send + Sync {
    /// Appends metric families in the text exposition format.
    fn render(&self, out: &mut String);
}

/// The CSMS's metrics registry.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
    sources: Mutex<Vec<std::sync::Weak<dyn MetricsSource>>>,
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A station of `version` connected (`+1`) or left (`-1`).
    pub fn connected(&self, version: &str, delta: i64) {
        *self.lock().connected.entry(version.to_owned()).or_default() += delta;
    }

    /// One message in `direction` (`in`/`out`) of `action`.
    pub fn message(&self, direction: &str, action: &str) {
        *self
            .lock()
            .messages
            .entry((direction.to_owned(), action.to_owned()))
            .or_default() += 1;
    }

    /// One CALLERROR in `direction` with `code`.
    pub fn call_error(&self, direction: &str, code: &str) {
        *self
            .lock()
            .errors
            .entry((direction.to_owned(), code.to_owned()))
            .or_default() += 1;
    }

    /// The latency of a CSMS-initiated call.
    pub fn call_latency(&self, action: &str, d: Duration) {
        self.lock()
            .calls
            .entry(action.to_owned())
            .or_default()
            .observe(d.as_secs_f64());
    }

    /// The time spent storing one incoming message.
    pub fn store_latency(&self, action: &str, d: Duration) {
        self.lock()
            .store
            .entry(action.to_owned())
            .or_default()
            .observe(d.as_secs_f64());
    }

    /// One operator API request refused for its credentials.
    pub fn api_auth_failure(&self) {
        self.lock().api_auth_failures += 1;
    }

    /// One station connection refused by the CSMS's authenticator, for `reason`.
    pub fn refused_connection(&self, reason: &str) {
        *self.lock().refused.entry(reason.to_owned()).or_default() += 1;
    }

    /// One station connection ended, for `reason` (a [`DisconnectReason::label`]).
    ///
    /// [`DisconnectReason::label`]: ocpp_core::transport::DisconnectReason::label
    pub fn disconnect(&self, reason: &'static str) {
        *self.lock().disconnects.entry(reason).or_default() += 1;
    }

    /// One station message refused by the engine, answered with `code` (`dropped`: not
    /// answered); `flood` when it was refused because too many CALLs were waiting.
    pub fn refused_message(&self, code: &str, flood: bool) {
        let mut m = self.lock();
        *m.refused_messages.entry(code.to_owned()).or_default() += 1;
        if flood {
            m.flood_refusals += 1;
        }
    }

    /// One unusable frame from a station: `binary` or `invalid_utf8`.
    pub fn bad_frame(&self, kind: &'static str) {
        *self.lock().bad_frames.entry(kind).or_default() += 1;
    }

    /// Adds a source whose metrics are written with these as long as it lives.
    pub fn add_source(&self, source: std::sync::Weak<dyn MetricsSource>) {
        let mut s = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        s.retain(|x| x.strong_count() > 0);
        s.push(source);
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut o = self.render_own();
        let sources: Vec<_> = self
            .sources
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(std::sync::Weak::upgrade)
            .collect();
        for s in sources {
            s.render(&mut o);
        }
        o
    }

    fn render_own(&self) -> String {
        let m = self.lock();
        let mut o = String::new();
        o.push_str("# HELP csms_connected_stations Stations connected now.\n# TYPE csms_connected_stations gauge\n");
        for v in ["1.6", "2.0.1", "2.1"] {
            let n = m.connected.get(v).copied().unwrap_or(0);
            let _ = writeln!(o, "csms_connected_stations{{version=\"{v}\"}} {n}");
        }
        o.push_str("# HELP csms_messages_total OCPP messages by direction and action.\n# TYPE csms_messages_total counter\n");
        for ((d, a), n) in &m.messages {
            let _ = writeln!(
                o,
                "csms_messages_total{{direction=\"{}\",action=\"{}\"}} {n}",
                esc(d),
                esc(a)
            );
        }
        o.push_str("# HELP csms_call_errors_total CALLERRORs by direction and code.\n# TYPE csms_call_errors_total counter\n");
        for ((d, c), n) in &m.errors {
            let _ = writeln!(
                o,
                "csms_call_errors_total{{direction=\"{}\",code=\"{}\"}} {n}",
                esc(d),
                esc(c)
            );
        }
        o.push_str("# HELP csms_api_auth_failures_total Operator API requests refused for their credentials.\n# TYPE csms_api_auth_failures_total counter\n");
        let _ = writeln!(o, "csms_api_auth_failures_total {}", m.api_auth_failures);
        o.push_str("# HELP csms_refused_connections_total Station connections refused before the upgrade.\n# TYPE csms_refused_connections_total counter\n");
        for (r, n) in &m.refused {
            let _ = writeln!(
                o,
                "csms_refused_connections_total{{reason=\"{}\"}} {n}",
                esc(r)
            );
        }
        o.push_str("# HELP csms_disconnects_total Station connections ended, by reason.\n# TYPE csms_disconnects_total counter\n");
        for (r, n) in &m.disconnects {
            let _ = writeln!(o, "csms_disconnects_total{{reason=\"{r}\"}} {n}");
        }
        o.push_str("# HELP csms_refused_messages_total Station messages refused by the engine, by the code answered.\n# TYPE csms_refused_messages_total counter\n");
        for (c, n) in &m.refused_messages {
            let _ = writeln!(o, "csms_refused_messages_total{{code=\"{}\"}} {n}", esc(c));
        }
        o.push_str("# HELP csms_flood_refusals_total CALLs refused because too many were waiting for an answer.\n# TYPE csms_flood_refusals_total counter\n");
        let _ = writeln!(o, "csms_flood_refusals_total {}", m.flood_refusals);
        o.push_str("# HELP csms_bad_frames_total Unusable frames from stations, by kind.\n# TYPE csms_bad_frames_total counter\n");
        for k in ["binary", "invalid_utf8"] {
            let n = m.bad_frames.get(k).copied().unwrap_or(0);
            let _ = writeln!(o, "csms_bad_frames_total{{kind=\"{k}\"}} {n}");
        }
        for (name, help, map) in [
            (
                "csms_call_duration_seconds",
                "Latency of CSMS-initiated calls.",
                &m.calls,
            ),
            (
                "csms_store_duration_seconds",
                "Time to persist one incoming message.",
                &m.store,
            ),
        ] {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} histogram");
            for (a, h) in map {
                let a = esc(a);
                for (i, b) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        o,
                        "{name}_bucket{{action=\"{a}\",le=\"{b}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(o, "{name}_bucket{{action=\"{a}\",le=\"+Inf\"}} {}", h.count);
                let _ = writeln!(o, "{name}_sum{{action=\"{a}\"}} {}", h.sum);
                let _ = writeln!(o, "{name}_count{{action=\"{a}\"}} {}", h.count);
            }
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition() {
        let m = Metrics::default();
        m.connected("2.0.1", 1);
        m.message("in", "BootNotification");
        m.call_error("in", "NotSupported");
        m.call_latency("Reset", Duration::from_millis(3));
        let t = m.render();
        assert!(t.contains("csms_connected_stations{version=\"2.0.1\"} 1"));
        assert!(t.contains("csms_connected_stations{version=\"1.6\"} 0"));
        assert!(t.contains("csms_messages_total{direction=\"in\",action=\"BootNotification\"} 1"));
        assert!(t.contains("csms_call_errors_total{direction=\"in\",code=\"NotSupported\"} 1"));
        assert!(t.contains("csms_call_duration_seconds_bucket{action=\"Reset\",le=\"0.005\"} 1"));
        assert!(t.contains("csms_call_duration_seconds_bucket{action=\"Reset\",le=\"0.001\"} 0"));
    }
}
