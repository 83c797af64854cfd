//! The primitive types of the specification (`types.asciidoc`): bounded strings, case-insensitive
//! strings, exact numbers, date-times that keep the peer's text, and the ISO codes.

use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::str::FromStr;

use rust_decimal::Decimal;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::iso_codes;
use crate::validate::{Validate, Validator};

/// Members of an object that this crate does not know; kept on read and written back.
pub type Extra = serde_json::Map<String, serde_json::Value>;

macro_rules! string_newtype_common {
    ($name:ident) => {
        impl<const N: usize> Deref for $name<N> {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }
        impl<const N: usize> AsRef<str> for $name<N> {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl<const N: usize> From<&str> for $name<N> {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
        impl<const N: usize> From<String> for $name<N> {
            fn from(s: String) -> Self {
                Self(s)
            }
        }
        impl<const N: usize> fmt::Display for $name<N> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl<const N: usize> fmt::Debug for $name<N> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }
        impl<const N: usize> Serialize for $name<N> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de, const N: usize> Deserialize<'de> for $name<N> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map(Self)
            }
        }
    };
}

/// `string(N)`: a Unicode string of at most `N` characters.
///
/// Any string is accepted on read; [`Validate`] reports an over-long one.
#[derive(Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Str<const N: usize>(pub String);
string_newtype_common!(Str);

impl<const N: usize> Validate for Str<N> {
    fn validate_into(&self, v: &mut Validator) {
        let len = self.0.chars().count();
        if len > N {
            v.error(format!(
                "string of {len} characters exceeds the maximum of {N}"
            ));
        }
    }
}

impl<const N: usize> JsonSchema for Str<N> {
    fn schema_name() -> Cow<'static, str> {
        format!("String{N}").into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "maxLength": N})
    }
}

/// `CiString(N)`: case-insensitive string of at most `N` printable ASCII characters
/// (0x20 to 0x7E). Equality and hashing ignore ASCII case; the text is written back as read.
#[derive(Clone, Default)]
pub struct CiStr<const N: usize>(pub String);
string_newtype_common!(CiStr);

impl<const N: usize> PartialEq for CiStr<N> {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}
impl<const N: usize> Eq for CiStr<N> {}
impl<const N: usize> Hash for CiStr<N> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for b in self.0.bytes() {
            state.write_u8(b.to_ascii_uppercase());
        }
    }
}

impl<const N: usize> CiStr<N> {
    /// Case-insensitive comparison with a `&str`.
    pub fn eq_str(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other)
    }
}

impl<const N: usize> Validate for CiStr<N> {
    fn validate_into(&self, v: &mut Validator) {
        validate_cistring(&self.0, N, v);
    }
}

fn validate_cistring(s: &str, max: usize, v: &mut Validator) {
    if let Some(c) = s.chars().find(|c| !(' '..='~').contains(c)) {
        v.error(format!(
            "CiString may only hold printable ASCII, found {c:?}"
        ));
    }
    let len = s.chars().count();
    if len > max {
        v.error(format!(
            "string of {len} characters exceeds the maximum of {max}"
        ));
    }
}

impl<const N: usize> JsonSchema for CiStr<N> {
    fn schema_name() -> Cow<'static, str> {
        format!("CiString{N}").into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "maxLength": N, "pattern": "^[\\x20-\\x7E]*$"})
    }
}

macro_rules! code_newtype {
    ($(#[$m:meta])* $name:ident, $len:literal, $schema:literal, $check:expr) => {
        $(#[$m])*
        #[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub String);

        impl $name {
            /// Wraps a code (not checked; see [`Validate`]).
            pub fn new(s: impl Into<String>) -> Self {
                Self(s.into())
            }
            /// The code as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }
        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map(Self)
            }
        }
        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({"type": "string", "maxLength": $len, "pattern": $schema})
            }
        }
        impl Validate for $name {
            fn validate_into(&self, v: &mut Validator) {
                let check: fn(&str) -> Result<(), String> = $check;
                if let Err(e) = check(&self.0) {
                    v.error(e);
                }
            }
        }
    };
}

fn in_table(table: &[&str], code: &str, what: &str) -> Result<(), String> {
    let upper = code.to_ascii_uppercase();
    if table.binary_search(&upper.as_str()).is_ok() {
        Ok(())
    } else {
        Err(format!("{code:?} is not an {what}"))
    }
}

code_newtype!(
    /// ISO 3166-1 alpha-2 country code, `CiString(2)` (the `country_code` of a party).
    CountryCode, 2, "^[A-Za-z]{2}$",
    |s| in_table(&iso_codes::ISO_3166_ALPHA2, s, "ISO 3166-1 alpha-2 country code")
);
code_newtype!(
    /// ISO 3166-1 alpha-3 country code, `string(3)` (the `country` of a location).
    CountryAlpha3, 3, "^[A-Z]{3}$",
    |s| {
        if s.bytes().any(|b| b.is_ascii_lowercase()) {
            return Err(format!("{s:?} must be upper case"));
        }
        in_table(&iso_codes::ISO_3166_ALPHA3, s, "ISO 3166-1 alpha-3 country code")
    }
);
code_newtype!(
    /// ISO 4217 currency code, `string(3)`.
    Currency, 3, "^[A-Z]{3}$",
    |s| {
        if s.bytes().any(|b| b.is_ascii_lowercase()) {
            return Err(format!("{s:?} must be upper case"));
        }
        in_table(&iso_codes::ISO_4217, s, "ISO 4217 currency code")
    }
);
code_newtype!(
    /// Party id (ISO 15118 eMI3 operator / provider id), `CiString(3)`: three letters or digits.
    PartyId, 3, "^[A-Za-z0-9]{3}$",
    |s| {
        if s.len() == 3 && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(())
        } else {
            Err(format!("{s:?} is not a party id (three ASCII letters or digits)"))
        }
    }
);
code_newtype!(
    /// ISO 639-1 language code, `string(2)`.
    Language, 2, "^[a-z]{2}$",
    |s| {
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(format!("{s:?} must be lower case"));
        }
        if iso_codes::ISO_639_1.binary_search(&s).is_ok() {
            Ok(())
        } else {
            Err(format!("{s:?} is not an ISO 639-1 language code"))
        }
    }
);

code_newtype!(
    /// Time of day `HH:MM` in 24 h format with leading zeros (`string(5)`).
    TimeOfDay, 5, "^([0-1][0-9]|2[0-3]):[0-5][0-9]$",
    |s| if is_time_of_day(s) { Ok(()) } else { Err(format!("{s:?} is not a time of day HH:MM")) }
);
code_newtype!(
    /// Calendar date `YYYY-MM-DD` (`string(10)`).
    Date, 10, "^([12][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
    |s| if is_date(s) { Ok(()) } else { Err(format!("{s:?} is not a date YYYY-MM-DD")) }
);
code_newtype!(
    /// Latitude in decimal degrees, `string(10)`, regex `-?[0-9]{1,2}\.[0-9]{5,7}`.
    Latitude, 10, "^-?[0-9]{1,2}\\.[0-9]{5,7}$",
    |s| check_coordinate(s, 2, 90)
);
code_newtype!(
    /// Longitude in decimal degrees, `string(11)`, regex `-?[0-9]{1,3}\.[0-9]{5,7}`.
    Longitude, 11, "^-?[0-9]{1,3}\\.[0-9]{5,7}$",
    |s| check_coordinate(s, 3, 180)
);

fn check_coordinate(s: &str, int_digits: usize, max: u32) -> Result<(), String> {
    let body = s.strip_prefix('-').unwrap_or(s);
    let ok = match body.split_once('.') {
        Some((i, f)) => {
            (1..=int_digits).contains(&i.len())
                && i.bytes().all(|b| b.is_ascii_digit())
                && (5..=7).contains(&f.len())
                && f.bytes().all(|b| b.is_ascii_digit())
                && i.parse::<u32>().map(|v| v <= max).unwrap_or(false)
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a coordinate with 5 to 7 decimals within \u{b1}{max}"
        ))
    }
}

/// `URL`: an absolute `http` or `https` URL of at most 255 characters.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Url(pub String);

impl Url {
    /// Wraps a URL (not checked; see [`Validate`]).
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The URL as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Appends a path segment, inserting a `/` when needed.
    pub fn join(&self, segment: &str) -> String {
        let base = self.0.trim_end_matches('/');
        format!("{base}/{}", segment.trim_start_matches('/'))
    }
}
impl fmt::Debug for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}
impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl From<&str> for Url {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}
impl From<String> for Url {
    fn from(s: String) -> Self {
        Self(s)
    }
}
impl JsonSchema for Url {
    fn schema_name() -> Cow<'static, str> {
        "URL".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "format": "uri", "maxLength": 255})
    }
}
impl Validate for Url {
    fn validate_into(&self, v: &mut Validator) {
        let s = &self.0;
        if s.chars().count() > 255 {
            v.error("URL exceeds 255 characters");
        }
        let rest = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"));
        match rest {
            Some(r) if !r.is_empty() && !r.starts_with('/') && !r.contains(' ') => {}
            _ => v.error(format!("{s:?} is not an absolute http(s) URL")),
        }
    }
}

/// `number`: an exact decimal.
///
/// JSON numbers are read through the shortest text that round-trips the parsed double, so every
/// number with up to 15 significant digits (all money and energy values in practice) is read
/// exactly: `0.1` is `0.1`, never `0.1000000000000000055…`. Strings are not accepted. Numbers are
/// written as JSON numbers (integers exactly; fractions as the nearest double, whose shortest text
/// is again the decimal for up to 15 significant digits). A number read in fraction form (`10.0`)
/// keeps a scale of at least 1 and is written back as a fraction; an integer stays an integer. `serde_json`'s `arbitrary_precision`
/// feature is not needed (and not enabled, as it changes behaviour for every crate of a build).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Number(pub Decimal);

impl Number {
    /// Zero.
    pub const ZERO: Number = Number(Decimal::ZERO);

    /// The decimal value.
    pub fn value(self) -> Decimal {
        self.0
    }
}
impl Deref for Number {
    type Target = Decimal;
    fn deref(&self) -> &Decimal {
        &self.0
    }
}
impl From<Decimal> for Number {
    fn from(d: Decimal) -> Self {
        Number(d)
    }
}
impl From<Number> for Decimal {
    fn from(n: Number) -> Self {
        n.0
    }
}
impl From<i64> for Number {
    fn from(i: i64) -> Self {
        Number(Decimal::from(i))
    }
}
impl FromStr for Number {
    type Err = rust_decimal::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Decimal::from_str(s)
            .or_else(|_| Decimal::from_scientific(s))
            .map(Number)
    }
}
impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
impl Serialize for Number {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_decimal(&self.0, s)
    }
}

/// Writes a decimal as a JSON number (see [`Number`]).
pub fn serialize_decimal<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    if d.scale() == 0 {
        if let Ok(i) = i64::try_from(*d) {
            return s.serialize_i64(i);
        }
    }
    let f: f64 = d
        .normalize()
        .to_string()
        .parse()
        .map_err(|_| serde::ser::Error::custom("decimal not representable"))?;
    s.serialize_f64(f)
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON number")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Number, E> {
                Ok(Number(Decimal::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Number, E> {
                Ok(Number(Decimal::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Number, E> {
                if !v.is_finite() {
                    return Err(E::custom("number is not finite"));
                }
                let text = v.to_string();
                Decimal::from_str(&text)
                    .or_else(|_| Decimal::from_scientific(&text))
                    .map(|mut d| {
                        // `10.0` was written as a fraction: keep it one (scale 1), so that it
                        // is written back as `10.0`, not `10`.
                        if d.scale() == 0 {
                            d.rescale(1);
                        }
                        Number(d)
                    })
                    .map_err(|_| E::custom(format!("number {text} out of the decimal range")))
            }
        }
        d.deserialize_any(V)
    }
}
impl JsonSchema for Number {
    fn schema_name() -> Cow<'static, str> {
        "number".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "number"})
    }
}
impl Validate for Number {
    fn validate_into(&self, _v: &mut Validator) {}
}

/// `DateTime`: an RFC 3339 timestamp; the text the peer sent is kept and written back.
///
/// The specification wants UTC; a timestamp without an offset is read as UTC, one with an
/// offset is converted for [`DateTime::utc`] but written back with the offset it had.
#[derive(Clone)]
pub struct DateTime {
    raw: String,
    utc: chrono::DateTime<chrono::Utc>,
}

/// A timestamp that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid DateTime {0:?}: expected RFC 3339, e.g. 2019-06-24T12:39:09Z")]
pub struct DateTimeError(pub String);

impl DateTime {
    /// Reads an RFC 3339 timestamp, with or without offset, with optional fractional seconds.
    pub fn parse(s: &str) -> Result<Self, DateTimeError> {
        let utc = if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
            dt.with_timezone(&chrono::Utc)
        } else if let Ok(n) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
            n.and_utc()
        } else {
            return Err(DateTimeError(s.to_owned()));
        };
        Ok(Self {
            raw: s.to_owned(),
            utc,
        })
    }

    /// A timestamp for an instant, written as `YYYY-MM-DDTHH:MM:SS[.fff]Z`.
    pub fn from_utc(utc: chrono::DateTime<chrono::Utc>) -> Self {
        Self {
            raw: utc.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            utc,
        }
    }

    /// Now, truncated to whole seconds.
    pub fn now() -> Self {
        let now = chrono::Utc::now();
        Self::from_utc(
            chrono::DurationRound::duration_trunc(now, chrono::TimeDelta::seconds(1))
                .unwrap_or(now),
        )
    }

    /// The instant.
    pub fn utc(&self) -> chrono::DateTime<chrono::Utc> {
        self.utc
    }

    /// The text as read (or as written for [`DateTime::from_utc`]).
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}
impl PartialEq for DateTime {
    fn eq(&self, other: &Self) -> bool {
        self.utc == other.utc
    }
}
impl Eq for DateTime {}
impl PartialOrd for DateTime {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for DateTime {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.utc.cmp(&other.utc)
    }
}
impl Hash for DateTime {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.utc.hash(state);
    }
}
impl fmt::Debug for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.raw, f)
    }
}
impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}
impl FromStr for DateTime {
    type Err = DateTimeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
impl From<chrono::DateTime<chrono::Utc>> for DateTime {
    fn from(d: chrono::DateTime<chrono::Utc>) -> Self {
        Self::from_utc(d)
    }
}
impl Serialize for DateTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.raw)
    }
}
impl<'de> Deserialize<'de> for DateTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Cow::<'de, str>::deserialize(d)?;
        DateTime::parse(&s).map_err(de::Error::custom)
    }
}
impl JsonSchema for DateTime {
    fn schema_name() -> Cow<'static, str> {
        "DateTime".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "format": "date-time", "maxLength": 25})
    }
}
impl Validate for DateTime {
    fn validate_into(&self, v: &mut Validator) {
        if self.raw.len() > 25 && !self.raw.contains('.') {
            v.error("DateTime longer than 25 characters");
        }
    }
}

/// Checks an `HH:MM` time of day (`([0-1][0-9]|2[0-3]):[0-5][0-9]`).
pub fn is_time_of_day(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 5
        && b[2] == b':'
        && ((b[0] == b'0' || b[0] == b'1') && b[1].is_ascii_digit()
            || b[0] == b'2' && (b'0'..=b'3').contains(&b[1]))
        && (b'0'..=b'5').contains(&b[3])
        && b[4].is_ascii_digit()
}

/// Checks a `YYYY-MM-DD` date as the tariff restrictions define it.
pub fn is_date(s: &str) -> bool {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
        && s.len() == 10
        && (s.starts_with('1') || s.starts_with('2'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_reads_exactly() {
        let n: Number = serde_json::from_str("0.1").unwrap();
        assert_eq!(n.0, Decimal::from_str("0.1").unwrap());
        let n: Number = serde_json::from_str("20.45").unwrap();
        assert_eq!(n.0.to_string(), "20.45");
        let n: Number = serde_json::from_str("123456789012.345").unwrap();
        assert_eq!(n.0.to_string(), "123456789012.345");
        assert_eq!(serde_json::to_string(&n).unwrap(), "123456789012.345");
        assert_eq!(serde_json::to_string(&Number::from(42)).unwrap(), "42");
        assert!(serde_json::from_str::<Number>("\"1\"").is_err());
    }

    #[test]
    fn datetime_keeps_text() {
        for s in [
            "2019-06-24T12:39:09Z",
            "2019-06-24T12:39:09",
            "2019-06-24T14:39:09.123+02:00",
        ] {
            let d: DateTime = serde_json::from_value(serde_json::json!(s)).unwrap();
            assert_eq!(serde_json::to_value(&d).unwrap(), serde_json::json!(s));
        }
        let a = DateTime::parse("2019-06-24T12:39:09Z").unwrap();
        let b = DateTime::parse("2019-06-24T14:39:09+02:00").unwrap();
        assert_eq!(a, b);
        assert!(DateTime::parse("24-06-2019").is_err());
    }

    #[test]
    fn codes() {
        assert!(CountryCode::from("NL").validate().is_ok());
        assert!(CountryCode::from("nl").validate().is_ok());
        let e = CountryCode::from("XX").validate().unwrap_err();
        assert_eq!(e.0[0].path, "$");
        assert!(CountryAlpha3::from("DEU").validate().is_ok());
        assert!(CountryAlpha3::from("DEX").validate().is_err());
        assert!(Currency::from("EUR").validate().is_ok());
        assert!(Currency::from("EUX").validate().is_err());
        assert!(PartyId::from("EXA").validate().is_ok());
        assert!(PartyId::from("EX").validate().is_err());
        assert!(PartyId::from("E-A").validate().is_err());
        assert!(Language::from("en").validate().is_ok());
        assert!(Language::from("xx").validate().is_err());
        assert!(CiStr::<3>::from("abcd").validate().is_err());
        assert!(CiStr::<5>::from("ab\u{e9}").validate().is_err());
        assert_eq!(CiStr::<5>::from("AbC"), CiStr::<5>::from("aBc"));
        assert!(Str::<3>::from("\u{e9}\u{e9}\u{e9}").validate().is_ok());
        assert!(Url::from("https://example.com/ocpi/").validate().is_ok());
        assert!(Url::from("example.com").validate().is_err());
        assert!(is_time_of_day("23:59") && !is_time_of_day("24:00") && !is_time_of_day("9:00"));
        assert!(is_date("2015-12-24") && !is_date("2015-13-01"));
    }
}
