//! The traits that tie a generated message type to its action, version and answer.

use std::fmt::Debug;

use crate::codec::{Decode, Encode};
use crate::{Direction, OcppVersion};

/// A payload type that travels as a CALL (or 2.1 SEND) of one action.
pub trait Message: Encode + Decode + Clone + Debug + Send + Sync + 'static {
    /// The action name on the wire.
    const ACTION: &'static str;
    /// The protocol version the type belongs to.
    const VERSION: OcppVersion;
}

/// A request: a CALL that is answered with a CALLRESULT of type [`Request::Response`].
pub trait Request: Message {
    /// The CALLRESULT payload type.
    type Response: Encode + Decode + Clone + Debug + Send + Sync + 'static;
    /// Who sends this CALL.
    const DIRECTION: Direction;
}

/// A 2.1 SEND message, which is never answered.
pub trait SendMessage: Message {
    /// Who sends this message.
    const DIRECTION: Direction;
}

/// Glue that gives generated types `serde` implementations through the validating codec.
///
/// `Serialize` writes exactly what [`Encode`] writes (exact decimals and date-times included) when
/// the serializer is `serde_json`; other serializers receive the JSON text as a string.
/// `Deserialize` reads leniently ([`crate::DecodeOptions::LENIENT`]) so that stored values that
/// were received leniently read back; use [`crate::decode_payload`] for strict validation.
pub mod serde_glue {
    use serde::de::Error as _;
    use serde::ser::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::codec::{Decode, Decoder, Encode};
    use crate::DecodeOptions;

    /// Serializes through [`Encode`].
    pub fn serialize<T: Encode, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        let raw =
            serde_json::value::RawValue::from_string(v.to_json()).map_err(S::Error::custom)?;
        raw.serialize(s)
    }

    /// Deserializes through [`Decode`] with lenient options.
    pub fn deserialize<'de, T: Decode, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        let text = v.to_string();
        let mut dec = Decoder::new(&text, DecodeOptions::LENIENT);
        T::decode(&mut dec).map_err(D::Error::custom)
    }
}

/// Implements `serde::Serialize` and `serde::Deserialize` for codec types through [`serde_glue`].
#[macro_export]
macro_rules! impl_serde {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::serde::Serialize for $t {
            fn serialize<S: $crate::serde::Serializer>(&self, s: S) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::message::serde_glue::serialize(self, s)
            }
        }
        impl<'de> $crate::serde::Deserialize<'de> for $t {
            fn deserialize<D: $crate::serde::Deserializer<'de>>(d: D) -> ::core::result::Result<Self, D::Error> {
                $crate::message::serde_glue::deserialize(d)
            }
        }
    )*};
}

/// A protocol version's generated dispatch tables: what the engine needs to route and decode any
/// message of that version without knowing the concrete types.
///
/// Implemented by `ocpp16::Ocpp16`, `ocpp201::Ocpp201` and `ocpp21::Ocpp21`.
pub trait Protocol: Copy + Debug + Default + Send + Sync + 'static {
    /// The version.
    const VERSION: OcppVersion;
    /// The version's action enum.
    type Action: Copy + Eq + std::hash::Hash + Debug + Send + Sync + 'static;
    /// Any request (CALL or SEND payload) of the version, tagged by action.
    type AnyRequest: Debug + Clone + Send + Sync + 'static;
    /// Any response (CALLRESULT payload) of the version, tagged by action.
    type AnyResponse: Debug + Clone + Send + Sync + 'static;

    /// Every action of the version.
    fn actions() -> &'static [Self::Action];
    /// The action called `name`, or `None` when the version does not know it.
    fn action_from_name(name: &str) -> Option<Self::Action>;
    /// The action's wire name.
    fn action_name(action: Self::Action) -> &'static str;
    /// Who sends the action's CALL (or SEND).
    fn action_direction(action: Self::Action) -> Direction;
    /// Whether the action is a SEND (never answered) rather than a CALL.
    fn action_is_send(action: Self::Action) -> bool;
    /// The functional block (2.x) or feature profile (1.6) the action belongs to.
    fn action_block(action: Self::Action) -> &'static str;

    /// Decodes a request payload of `action`.
    fn decode_request(
        action: Self::Action,
        payload: &str,
        opts: &crate::DecodeOptions,
    ) -> Result<(Self::AnyRequest, crate::Leniencies), crate::DecodeError>;
    /// Decodes a response payload of `action`.
    fn decode_response(
        action: Self::Action,
        payload: &str,
        opts: &crate::DecodeOptions,
    ) -> Result<(Self::AnyResponse, crate::Leniencies), crate::DecodeError>;
    /// The action of a request.
    fn request_action(request: &Self::AnyRequest) -> Self::Action;
    /// The action of a response.
    fn response_action(response: &Self::AnyResponse) -> Self::Action;
    /// Validates a request under `opts` and writes its JSON payload.
    fn encode_request(
        request: &Self::AnyRequest,
        opts: &crate::DecodeOptions,
    ) -> Result<String, crate::DecodeError>;
    /// Validates a response under `opts` and writes its JSON payload.
    fn encode_response(
        response: &Self::AnyResponse,
        opts: &crate::DecodeOptions,
    ) -> Result<String, crate::DecodeError>;
}

/// Decodes an incoming CALL (or SEND) received by `receiver`, with the dispatch tables of `P`.
///
/// An action the version does not know is `NotImplemented`; an action the version knows but that
/// `receiver` never receives (a CSMS receiving `Reset`) is `NotSupported`; the payload's own
/// faults carry the codes of the table in the crate docs.
pub fn decode_call<P: Protocol>(
    receiver: crate::Role,
    action: &str,
    payload: &str,
    opts: &crate::DecodeOptions,
) -> Result<(P::AnyRequest, crate::Leniencies), crate::DecodeError> {
    use crate::{DecodeError, ErrorCode};
    let Some(a) = P::action_from_name(action) else {
        return Err(DecodeError::new(
            ErrorCode::NotImplemented,
            format!("OCPP {} has no action {action:?}", P::VERSION),
        ));
    };
    if !P::action_direction(a).received_by(receiver) {
        return Err(DecodeError::new(
            ErrorCode::NotSupported,
            format!(
                "{action} is not sent to the {}",
                match receiver {
                    crate::Role::Csms => "CSMS",
                    crate::Role::ChargingStation => "charging station",
                }
            ),
        ));
    }
    P::decode_request(a, payload, opts)
}
