//! A miniature [`Protocol`] for tests, examples and benchmarks of the engine without the
//! generated version crates, and a helper that wires two engines together.
//!
//! [`Mini16`], [`Mini201`] and [`Mini21`] know a handful of actions with small, made-up schemas
//! (not the official ones) that exercise every validation the engine relies on: required
//! members, JSON types, `maxLength`, enums, minimums and unknown members. Messages are
//! [`MiniMessage`]s: an action and a list of members.
//!
//! | action | direction | versions | request members | response members |
//! | --- | --- | --- | --- | --- |
//! | BootNotification | station → CSMS | all | `model` (≤ 20), `vendor` (≤ 50) | `status` (Accepted, Pending, Rejected), `interval` (≥ 0), `currentTime` |
//! | Heartbeat | station → CSMS | all | — | `currentTime` |
//! | StatusNotification | station → CSMS | all | `connectorId` (≥ 0), `status` (Available, Occupied, Faulted) | — |
//! | StartTransaction | station → CSMS | 1.6 | `connectorId` (≥ 0), `idTag` (≤ 20), `meterStart` | `transactionId` |
//! | StopTransaction | station → CSMS | 1.6 | `transactionId`, `meterStop` | — |
//! | MeterValues | station → CSMS | all | `connectorId` (≥ 0), `value`, optional `transactionId` | — |
//! | TransactionEvent | station → CSMS | 2.0.1, 2.1 | `eventType` (Started, Updated, Ended), `seqNo` (≥ 0), `transactionId` (≤ 36) | — |
//! | Reset | CSMS → station | all | `type` (Hard, Soft, Immediate, OnIdle) | `status` (Accepted, Rejected) |
//! | DataTransfer | both | all | `vendorId` (≤ 255), optional `messageId` (≤ 50), `data` | `status` (Accepted, Rejected, UnknownMessageId, UnknownVendorId), optional `data` |
//! | NotifyPeriodicEventStream | station → CSMS, SEND | 2.1 | `id` (≥ 0), `pending` (≥ 0) | (never answered) |
//!
//! Members are strings unless their constraint is numeric (then integers). `Heartbeat` and the
//! members marked optional may be absent; everything else is required.

use std::time::Instant;

use ocpp_types::{
    Decode, DecodeError, DecodeOptions, Decoder, Direction, ErrorCode, Extra, Leniencies,
    OcppVersion, Protocol, Validator,
};

use crate::{Engine, Event, OfflineQueue};

/// The actions of the miniature protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum MiniAction {
    BootNotification,
    Heartbeat,
    StatusNotification,
    StartTransaction,
    StopTransaction,
    MeterValues,
    TransactionEvent,
    Reset,
    DataTransfer,
    NotifyPeriodicEventStream,
}

const ALL: [MiniAction; 10] = [
    MiniAction::BootNotification,
    MiniAction::Heartbeat,
    MiniAction::StatusNotification,
    MiniAction::StartTransaction,
    MiniAction::StopTransaction,
    MiniAction::MeterValues,
    MiniAction::TransactionEvent,
    MiniAction::Reset,
    MiniAction::DataTransfer,
    MiniAction::NotifyPeriodicEventStream,
];

impl MiniAction {
    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            MiniAction::BootNotification => "BootNotification",
            MiniAction::Heartbeat => "Heartbeat",
            MiniAction::StatusNotification => "StatusNotification",
            MiniAction::StartTransaction => "StartTransaction",
            MiniAction::StopTransaction => "StopTransaction",
            MiniAction::MeterValues => "MeterValues",
            MiniAction::TransactionEvent => "TransactionEvent",
            MiniAction::Reset => "Reset",
            MiniAction::DataTransfer => "DataTransfer",
            MiniAction::NotifyPeriodicEventStream => "NotifyPeriodicEventStream",
        }
    }

    fn in_version(self, v: OcppVersion) -> bool {
        match self {
            MiniAction::StartTransaction | MiniAction::StopTransaction => v == OcppVersion::V16,
            MiniAction::TransactionEvent => v != OcppVersion::V16,
            MiniAction::NotifyPeriodicEventStream => v == OcppVersion::V21,
            _ => true,
        }
    }
}

/// A member value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A JSON string.
    Str(String),
    /// A JSON integer.
    Int(i64),
}

/// A request or response of the miniature protocol: the action and the members in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MiniMessage {
    /// The action.
    pub action: MiniAction,
    /// The members.
    pub members: Vec<(String, Value)>,
}

impl MiniMessage {
    /// A message without members.
    pub fn new(action: MiniAction) -> Self {
        MiniMessage {
            action,
            members: Vec::new(),
        }
    }

    /// Adds a string member.
    #[must_use]
    pub fn s(mut self, name: &str, v: &str) -> Self {
        self.members
            .push((name.to_owned(), Value::Str(v.to_owned())));
        self
    }

    /// Adds an integer member.
    #[must_use]
    pub fn i(mut self, name: &str, v: i64) -> Self {
        self.members.push((name.to_owned(), Value::Int(v)));
        self
    }

    /// The member called `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.members.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// A valid BootNotification request.
    pub fn boot() -> Self {
        MiniMessage::new(MiniAction::BootNotification)
            .s("model", "M1")
            .s("vendor", "V")
    }

    /// A BootNotification response.
    pub fn boot_response(status: &str, interval: i64) -> Self {
        MiniMessage::new(MiniAction::BootNotification)
            .s("status", status)
            .i("interval", interval)
            .s("currentTime", "2025-01-01T00:00:00Z")
    }

    fn write(&self, out: &mut ocpp_types::json::JsonWriter) {
        let mut first = true;
        out.push('{');
        for (name, v) in &self.members {
            out.member(&mut first, name);
            match v {
                Value::Str(s) => out.string(s),
                Value::Int(i) => out.integer(*i),
            }
        }
        out.push('}');
    }
}

#[derive(Clone, Copy)]
enum Ty {
    Str(usize),
    Int(i64),
    Enum(&'static [&'static str]),
}

type Schema = &'static [(&'static str, Ty, bool)];

fn schema(action: MiniAction, response: bool) -> Schema {
    use MiniAction::*;
    const TIME: (&str, Ty, bool) = ("currentTime", Ty::Str(40), true);
    match (action, response) {
        (BootNotification, false) => &[("model", Ty::Str(20), true), ("vendor", Ty::Str(50), true)],
        (BootNotification, true) => &[
            (
                "status",
                Ty::Enum(&["Accepted", "Pending", "Rejected"]),
                true,
            ),
            ("interval", Ty::Int(0), true),
            TIME,
        ],
        (Heartbeat, false) => &[],
        (Heartbeat, true) => &[TIME],
        (StatusNotification, false) => &[
            ("connectorId", Ty::Int(0), true),
            (
                "status",
                Ty::Enum(&["Available", "Occupied", "Faulted"]),
                true,
            ),
        ],
        (StartTransaction, false) => &[
            ("connectorId", Ty::Int(0), true),
            ("idTag", Ty::Str(20), true),
            ("meterStart", Ty::Int(i64::MIN), true),
        ],
        (StartTransaction, true) => &[("transactionId", Ty::Int(i64::MIN), true)],
        (StopTransaction, false) => &[
            ("transactionId", Ty::Int(i64::MIN), true),
            ("meterStop", Ty::Int(i64::MIN), true),
        ],
        (MeterValues, false) => &[
            ("connectorId", Ty::Int(0), true),
            ("value", Ty::Int(i64::MIN), true),
            ("transactionId", Ty::Int(i64::MIN), false),
        ],
        (TransactionEvent, false) => &[
            (
                "eventType",
                Ty::Enum(&["Started", "Updated", "Ended"]),
                true,
            ),
            ("seqNo", Ty::Int(0), true),
            ("transactionId", Ty::Str(36), true),
        ],
        (Reset, false) => &[(
            "type",
            Ty::Enum(&["Hard", "Soft", "Immediate", "OnIdle"]),
            true,
        )],
        (Reset, true) => &[("status", Ty::Enum(&["Accepted", "Rejected"]), true)],
        (DataTransfer, false) => &[
            ("vendorId", Ty::Str(255), true),
            ("messageId", Ty::Str(50), false),
            ("data", Ty::Str(usize::MAX), false),
        ],
        (DataTransfer, true) => &[
            (
                "status",
                Ty::Enum(&[
                    "Accepted",
                    "Rejected",
                    "UnknownMessageId",
                    "UnknownVendorId",
                ]),
                true,
            ),
            ("data", Ty::Str(usize::MAX), false),
        ],
        (NotifyPeriodicEventStream, _) => {
            &[("id", Ty::Int(0), true), ("pending", Ty::Int(0), true)]
        }
        (StatusNotification | StopTransaction | MeterValues | TransactionEvent, true) => &[],
    }
}

/// Reads any JSON object, keeping each member's raw text.
struct RawObject(Extra);

impl Decode for RawObject {
    fn decode(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        d.object_begin()?;
        let mut extra = Extra::new();
        let mut first = true;
        while let Some(name) = d.next_member(&mut first)? {
            if extra.get(&name).is_some() {
                d.duplicate(&name)?;
            }
            d.extension_member(name, &mut extra)?;
        }
        Ok(RawObject(extra))
    }
}

fn decode(
    action: MiniAction,
    response: bool,
    json: &str,
    opts: &DecodeOptions,
) -> Result<(MiniMessage, Leniencies), DecodeError> {
    let (RawObject(raw), mut len) = ocpp_types::decode_payload_counted::<RawObject>(json, opts)?;
    let schema = schema(action, response);
    let mut msg = MiniMessage::new(action);
    for (name, value) in raw.iter() {
        let Some((_, ty, _)) = schema.iter().find(|(n, _, _)| *n == name) else {
            if !opts.keep_unknown_members {
                return Err(DecodeError::new(
                    ErrorCode::FormatViolation,
                    format!("member {name:?} is not defined by the schema"),
                )
                .at_key(name));
            }
            len.unknown_members += 1;
            continue;
        };
        let mut d = Decoder::new(value.get(), *opts);
        let v = match ty {
            Ty::Str(max) => d.string(Some(*max)).map(|s| Value::Str(s.into_string())),
            Ty::Int(min) => d.integer(Some(*min), None).map(Value::Int),
            Ty::Enum(values) => d.enum_str().and_then(|s| {
                if values.contains(&&*s) {
                    Ok(Value::Str(s.into_owned()))
                } else {
                    d.unknown_enum(s, "the enum").map(Value::Str)
                }
            }),
        }
        .map_err(|e| e.at_key(name))?;
        len.add(d.leniencies());
        msg.members.push((name.to_owned(), v));
    }
    for (name, _, required) in schema {
        if *required && msg.get(name).is_none() {
            return Err(Decoder::missing(name));
        }
    }
    Ok((msg, len))
}

fn validate(m: &MiniMessage, response: bool, opts: &DecodeOptions) -> Result<(), DecodeError> {
    let v = Validator::new(*opts);
    let schema = schema(m.action, response);
    for (name, value) in &m.members {
        let at = |e: DecodeError| e.at_key(name);
        let Some((_, ty, _)) = schema.iter().find(|(n, _, _)| n == name) else {
            if opts.keep_unknown_members {
                continue;
            }
            return Err(at(DecodeError::new(
                ErrorCode::FormatViolation,
                "member not in the schema",
            )));
        };
        match (ty, value) {
            (Ty::Str(max), Value::Str(s)) => v.string(s, Some(*max)).map_err(at)?,
            (Ty::Int(min), Value::Int(i)) => v.integer(*i, Some(*min), None).map_err(at)?,
            (Ty::Enum(values), Value::Str(s)) if !values.contains(&s.as_str()) => {
                v.unknown_enum(s, "the enum").map_err(at)?
            }
            (Ty::Enum(_), Value::Str(_)) => {}
            _ => {
                return Err(at(DecodeError::new(
                    ErrorCode::TypeConstraintViolation,
                    "wrong type",
                )))
            }
        }
    }
    for (name, _, required) in schema {
        if *required && m.get(name).is_none() {
            return Err(Decoder::missing(name));
        }
    }
    Ok(())
}

fn encode(m: &MiniMessage, response: bool, opts: &DecodeOptions) -> Result<String, DecodeError> {
    validate(m, response, opts)?;
    let mut w = ocpp_types::json::JsonWriter::with_capacity(64);
    m.write(&mut w);
    Ok(w.into_string())
}

/// The miniature protocol for version `V` (16, 201 or 21); see the module docs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mini<const V: u16>;

/// The miniature protocol as OCPP 1.6.
pub type Mini16 = Mini<16>;
/// The miniature protocol as OCPP 2.0.1.
pub type Mini201 = Mini<201>;
/// The miniature protocol as OCPP 2.1.
pub type Mini21 = Mini<21>;

impl<const V: u16> Protocol for Mini<V> {
    const VERSION: OcppVersion = match V {
        16 => OcppVersion::V16,
        201 => OcppVersion::V201,
        _ => OcppVersion::V21,
    };
    type Action = MiniAction;
    type AnyRequest = MiniMessage;
    type AnyResponse = MiniMessage;

    fn actions() -> &'static [MiniAction] {
        match V {
            16 => &[
                MiniAction::BootNotification,
                MiniAction::Heartbeat,
                MiniAction::StatusNotification,
                MiniAction::StartTransaction,
                MiniAction::StopTransaction,
                MiniAction::MeterValues,
                MiniAction::Reset,
                MiniAction::DataTransfer,
            ],
            201 => &[
                MiniAction::BootNotification,
                MiniAction::Heartbeat,
                MiniAction::StatusNotification,
                MiniAction::MeterValues,
                MiniAction::TransactionEvent,
                MiniAction::Reset,
                MiniAction::DataTransfer,
            ],
            _ => &[
                MiniAction::BootNotification,
                MiniAction::Heartbeat,
                MiniAction::StatusNotification,
                MiniAction::MeterValues,
                MiniAction::TransactionEvent,
                MiniAction::Reset,
                MiniAction::DataTransfer,
                MiniAction::NotifyPeriodicEventStream,
            ],
        }
    }

    fn action_from_name(name: &str) -> Option<MiniAction> {
        ALL.into_iter()
            .find(|a| a.name() == name && a.in_version(Self::VERSION))
    }

    fn action_name(action: MiniAction) -> &'static str {
        action.name()
    }

    fn action_direction(action: MiniAction) -> Direction {
        match action {
            MiniAction::Reset => Direction::CsmsToStation,
            MiniAction::DataTransfer => Direction::Both,
            _ => Direction::StationToCsms,
        }
    }

    fn action_is_send(action: MiniAction) -> bool {
        action == MiniAction::NotifyPeriodicEventStream
    }

    fn action_block(_action: MiniAction) -> &'static str {
        "Mini"
    }

    fn decode_request(
        action: MiniAction,
        payload: &str,
        opts: &DecodeOptions,
    ) -> Result<(MiniMessage, Leniencies), DecodeError> {
        decode(action, false, payload, opts)
    }

    fn decode_response(
        action: MiniAction,
        payload: &str,
        opts: &DecodeOptions,
    ) -> Result<(MiniMessage, Leniencies), DecodeError> {
        decode(action, true, payload, opts)
    }

    fn request_action(request: &MiniMessage) -> MiniAction {
        request.action
    }

    fn response_action(response: &MiniMessage) -> MiniAction {
        response.action
    }

    fn encode_request(request: &MiniMessage, opts: &DecodeOptions) -> Result<String, DecodeError> {
        encode(request, false, opts)
    }

    fn encode_response(
        response: &MiniMessage,
        opts: &DecodeOptions,
    ) -> Result<String, DecodeError> {
        encode(response, true, opts)
    }
}

/// Moves every frame one engine transmits to the other, in both directions, until neither has
/// anything left to send; returns how many frames moved. Events are left for the caller.
pub fn exchange<P: Protocol, Q1: OfflineQueue, Q2: OfflineQueue>(
    now: Instant,
    a: &mut Engine<P, Q1>,
    b: &mut Engine<P, Q2>,
) -> usize {
    let mut moved = 0;
    loop {
        let mut any = false;
        while let Some(f) = a.poll_transmit() {
            b.handle_text(now, &f);
            moved += 1;
            any = true;
        }
        while let Some(f) = b.poll_transmit() {
            a.handle_text(now, &f);
            moved += 1;
            any = true;
        }
        if !any {
            return moved;
        }
    }
}

/// Drains an engine's events into a vector.
pub fn events<P: Protocol, Q: OfflineQueue>(e: &mut Engine<P, Q>) -> Vec<Event<P>> {
    std::iter::from_fn(|| e.poll_event()).collect()
}
