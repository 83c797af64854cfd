//! The simulated hardware of one station: one EVSE with one connector, a meter, a power limit,
//! and the requests the CSMS made that the station's loop acts on.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use ocpp_core::smart_charging::{ChargingProfile, RateUnit};
use tokio::sync::Notify;

use super::stats::Stats;

/// The largest power of the simulated EVSE: 3 phases, 16 A, 230 V.
pub const MAX_POWER_W: f64 = 11_040.0;

/// A message the CSMS asked for with TriggerMessage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// Heartbeat.
    Heartbeat,
    /// StatusNotification.
    Status,
    /// MeterValues (or a TransactionEvent with meter values).
    MeterValues,
}

/// What the CSMS changed; read by the station loop.
#[derive(Debug)]
pub struct HwState {
    /// Operative (ChangeAvailability).
    pub available: bool,
    /// A remote start waiting: id token and 2.x remoteStartId.
    pub remote_start: Option<(String, Option<i64>)>,
    /// The transaction running, by its id.
    pub transaction: Option<String>,
    /// Stop the running transaction (remote stop, unlock, reset).
    pub stop: Option<StopCause>,
    /// A power limit from a charging profile, watts.
    pub limit_w: Option<f64>,
    /// Messages to send.
    pub triggers: Vec<Trigger>,
}

/// Why a transaction stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopCause {
    /// The EV driver ended it (scenario).
    Local,
    /// RemoteStop / RequestStopTransaction.
    Remote,
    /// Reset.
    Reset,
    /// UnlockConnector.
    Unlock,
}

/// The hardware of one simulated station.
#[derive(Debug)]
pub struct Hw {
    state: Mutex<HwState>,
    wake: Notify,
    /// The run's counters.
    pub stats: Arc<Stats>,
}

impl Hw {
    /// Idle, available hardware.
    pub fn new(stats: Arc<Stats>) -> Arc<Self> {
        Arc::new(Hw {
            state: Mutex::new(HwState {
                available: true,
                remote_start: None,
                transaction: None,
                stop: None,
                limit_w: None,
                triggers: Vec::new(),
            }),
            wake: Notify::new(),
            stats,
        })
    }

    /// The state, locked.
    pub fn state(&self) -> MutexGuard<'_, HwState> {
        self.state.lock().unwrap()
    }

    /// Changes the state and wakes the station loop.
    pub fn update<T>(&self, f: impl FnOnce(&mut HwState) -> T) -> T {
        let r = f(&mut self.state());
        self.wake.notify_one();
        r
    }

    /// Sleeps, or less when the CSMS changed something.
    pub async fn sleep(&self, d: Duration) {
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = self.wake.notified() => {}
        }
    }

    /// The power the EV draws now: the EVSE maximum under the profile limit.
    pub fn power_w(&self) -> f64 {
        let limit = self.state().limit_w.unwrap_or(MAX_POWER_W);
        limit.clamp(0.0, MAX_POWER_W)
    }

    /// Applies a charging profile: its first period's limit, in watts, limits the power
    /// (a simplification: no stacking, no validity window, no later periods).
    pub fn apply_profile(&self, profile: &ChargingProfile) {
        let limit = profile.schedule().and_then(|s| {
            let p = s.periods.first()?;
            let l: f64 = p.limit?.to_string().parse().ok()?;
            let phases = f64::from(p.number_phases.unwrap_or(3));
            Some(match s.rate_unit {
                RateUnit::A => l * 230.0 * phases,
                RateUnit::W => l,
            })
        });
        self.update(|s| s.limit_w = limit);
    }
}
