//! A simulated wire and clock for two engines.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use ocpp_core::testing::{MiniAction, MiniMessage};
use ocpp_core::types::Protocol;
use ocpp_core::{Config, Engine, Event, MemoryQueue, OfflineQueue, StationConfig};

/// The miniature protocols, whatever the version.
pub trait Mini:
    Protocol<Action = MiniAction, AnyRequest = MiniMessage, AnyResponse = MiniMessage>
{
}
impl<T: Protocol<Action = MiniAction, AnyRequest = MiniMessage, AnyResponse = MiniMessage>> Mini
    for T
{
}

/// Which way a frame went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    ToCsms,
    ToStation,
}

/// A station engine and a CSMS engine on a simulated wire and clock.
pub struct Pair<P: Protocol, Q: OfflineQueue = MemoryQueue> {
    pub t0: Instant,
    pub now: Instant,
    pub station: Engine<P, Q>,
    pub csms: Engine<P>,
    pub station_events: Vec<Event<P>>,
    pub csms_events: Vec<Event<P>>,
    pub wire: Vec<(Dir, String)>,
    pub online: bool,
    /// Answer BootNotification, Heartbeat and transaction messages automatically on the CSMS.
    pub auto_csms: Option<String>,
    /// Answer Reset and DataTransfer automatically on the station.
    pub auto_station: bool,
}

pub fn ok_response(action: MiniAction) -> MiniMessage {
    let m = MiniMessage::new(action);
    match action {
        MiniAction::BootNotification => MiniMessage::boot_response("Accepted", 60),
        MiniAction::Heartbeat => m.s("currentTime", "2025-01-01T00:00:00Z"),
        MiniAction::StartTransaction => m.i("transactionId", 42),
        MiniAction::Reset | MiniAction::DataTransfer => m.s("status", "Accepted"),
        _ => m,
    }
}

pub fn station_config<P: Mini>() -> StationConfig<P> {
    StationConfig::new(MiniMessage::boot())
}

impl<P: Mini> Pair<P, MemoryQueue> {
    pub fn new() -> Self {
        Self::with(Config::default(), station_config::<P>(), MemoryQueue::new())
    }
}

impl<P: Mini, Q: OfflineQueue> Pair<P, Q> {
    pub fn with(config: Config, sc: StationConfig<P>, queue: Q) -> Self {
        let t0 = Instant::now();
        let station = Engine::station(t0, config.clone(), sc, queue).unwrap();
        let csms = Engine::csms(config);
        let mut p = Pair {
            t0,
            now: t0,
            station,
            csms,
            station_events: Vec::new(),
            csms_events: Vec::new(),
            wire: Vec::new(),
            online: true,
            auto_csms: None,
            auto_station: false,
        };
        p.flush();
        p
    }

    /// Seconds since the start.
    pub fn secs(&self) -> u64 {
        (self.now - self.t0).as_secs()
    }

    /// Moves frames both ways and collects events until nothing moves.
    pub fn flush(&mut self) {
        loop {
            let mut moved = false;
            while let Some(f) = self.station.poll_transmit() {
                moved = true;
                if self.online {
                    self.wire.push((Dir::ToCsms, f.clone()));
                    self.csms.handle_text(self.now, &f);
                }
            }
            while let Some(f) = self.csms.poll_transmit() {
                moved = true;
                if self.online {
                    self.wire.push((Dir::ToStation, f.clone()));
                    self.station.handle_text(self.now, &f);
                }
            }
            while let Some(e) = self.station.poll_event() {
                moved = true;
                self.on_station_event(e);
            }
            while let Some(e) = self.csms.poll_event() {
                moved = true;
                self.on_csms_event(e);
            }
            if !moved {
                return;
            }
        }
    }

    fn on_csms_event(&mut self, e: Event<P>) {
        if let (Some(status), Event::Call { id, action, .. }) = (&self.auto_csms, &e) {
            let resp = match action {
                MiniAction::BootNotification => MiniMessage::boot_response(status, 60),
                a => ok_response(*a),
            };
            self.csms.respond(id, Ok(resp)).unwrap();
        }
        self.csms_events.push(e);
    }

    fn on_station_event(&mut self, e: Event<P>) {
        if let (true, Event::Call { id, action, .. }) = (self.auto_station, &e) {
            self.station.respond(id, Ok(ok_response(*action))).unwrap();
        }
        self.station_events.push(e);
    }

    /// Advances the clock by `d`, firing every timer on the way at its exact time.
    pub fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        loop {
            let next = [self.station.poll_timeout(), self.csms.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    self.station.handle_timeout(self.now);
                    self.csms.handle_timeout(self.now);
                    self.flush();
                }
                _ => break,
            }
        }
        self.now = end;
        self.station.handle_timeout(self.now);
        self.csms.handle_timeout(self.now);
        self.flush();
    }

    pub fn secs_f(&mut self, s: u64) {
        self.advance(Duration::from_secs(s));
    }

    /// Collects events without moving frames.
    pub fn drain_events(&mut self) {
        while let Some(e) = self.station.poll_event() {
            self.station_events.push(e);
        }
        while let Some(e) = self.csms.poll_event() {
            self.csms_events.push(e);
        }
    }

    /// Advances one second at a time until the CSMS got a CALL of `action`; returns the number
    /// of seconds waited.
    pub fn wait_for_csms_call(&mut self, action: MiniAction, max_secs: u64) -> u64 {
        for waited in 0..=max_secs {
            if self
                .csms_events
                .iter()
                .any(|e| matches!(e, Event::Call { action: a, .. } if *a == action))
            {
                return waited;
            }
            self.secs_f(1);
        }
        panic!("no {action:?} within {max_secs} s");
    }

    /// Accepts the pending BootNotification on the CSMS side.
    pub fn accept_boot(&mut self) {
        let id = self.take_csms_call(MiniAction::BootNotification).0;
        self.csms
            .respond(&id, Ok(MiniMessage::boot_response("Accepted", 60)))
            .unwrap();
        self.flush();
    }

    /// Takes the oldest undelivered CSMS-side Event::Call of `action`.
    pub fn take_csms_call(&mut self, action: MiniAction) -> (String, MiniMessage) {
        take_call(&mut self.csms_events, action)
    }

    pub fn take_station_call(&mut self, action: MiniAction) -> (String, MiniMessage) {
        take_call(&mut self.station_events, action)
    }

    /// Frames sent toward the CSMS as they were sent.
    pub fn to_csms(&self) -> Vec<&str> {
        self.wire
            .iter()
            .filter(|(d, _)| *d == Dir::ToCsms)
            .map(|(_, f)| f.as_str())
            .collect()
    }

    pub fn to_station(&self) -> Vec<&str> {
        self.wire
            .iter()
            .filter(|(d, _)| *d == Dir::ToStation)
            .map(|(_, f)| f.as_str())
            .collect()
    }

    /// Actions of the CALLs sent to the CSMS, in order.
    pub fn calls_to_csms(&self) -> Vec<String> {
        self.to_csms().into_iter().filter_map(call_action).collect()
    }

    pub fn disconnect(&mut self) {
        self.online = false;
        self.station.handle_disconnect(self.now);
        self.csms.handle_disconnect(self.now);
        self.flush();
    }

    /// Reconnects the station to a new CSMS engine (a new WebSocket).
    pub fn reconnect(&mut self, config: Config) {
        self.online = true;
        self.csms = Engine::csms(config);
        self.csms_events.clear();
        self.station.handle_connect(self.now);
        self.flush();
    }
}

pub fn take_call<P: Protocol>(
    events: &mut Vec<Event<P>>,
    want: P::Action,
) -> (String, P::AnyRequest) {
    let i = events
        .iter()
        .position(|e| matches!(e, Event::Call { action, .. } if *action == want))
        .unwrap_or_else(|| panic!("no {want:?} call in {events:#?}"));
    match events.remove(i) {
        Event::Call { id, request, .. } => (id, request),
        _ => unreachable!(),
    }
}

/// The action of a CALL frame.
pub fn call_action(frame: &str) -> Option<String> {
    match ocpp_core::types::Frame::parse(frame, ocpp_core::types::OcppVersion::V21).ok()? {
        ocpp_core::types::Frame::Call { action, .. } => Some(action.into_owned()),
        _ => None,
    }
}
