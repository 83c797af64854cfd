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
        let raw = serde_json::value::RawValue::from_string(v.to_json()).map_err(S::Error::custom)?;
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
