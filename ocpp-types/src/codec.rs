//! The validating codec: decode options, the [`Decoder`] the generated `Decode` impls drive, the
//! [`Validator`] behind outgoing validation, and the traits that tie them to message types.
//!
//! Decoding is one pass over the JSON text: every schema constraint (required members, JSON
//! types, `maxLength`, `enum`, `minimum` / `maximum`, `multipleOf`, `minItems` / `maxItems`,
//! `additionalProperties: false`, `format: date-time`) is checked while the value is built, and
//! the first violation is reported with its JSON pointer and OCPP error code.

use std::borrow::Cow;

use rust_decimal::Decimal;

use crate::datetime::{DateTime, Parsed};
use crate::error::{DecodeError, ErrorCode};
use crate::json::{self, JsonWriter, Kind, Parser, SyntaxError, MAX_DEPTH};
use crate::text::Text;

/// How strictly to read payloads.
///
/// [`DecodeOptions::STRICT`] (the default) follows the schemas to the letter.
/// [`DecodeOptions::LENIENT`] accepts what real-world chargers get wrong, keeps it, writes it back
/// unchanged, and counts every leniency it used in [`Leniencies`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct DecodeOptions {
    /// Accept strings longer than their `maxLength`.
    pub allow_over_long_strings: bool,
    /// Keep enum values the schema does not list, as the enum's `Unknown(String)` variant.
    pub keep_unknown_enum_values: bool,
    /// Keep members the schema does not define (they are written back on encode).
    pub keep_unknown_members: bool,
    /// Accept date-times without a UTC offset (read as UTC) or with a space / lower-case separator.
    pub lenient_date_times: bool,
    /// Treat `null` in an optional member as if the member were absent.
    pub null_as_absent: bool,
    /// Accept a member given twice (the last one wins).
    pub allow_duplicate_members: bool,
}

impl DecodeOptions {
    /// Exactly what the schemas say.
    pub const STRICT: DecodeOptions = DecodeOptions {
        allow_over_long_strings: false,
        keep_unknown_enum_values: false,
        keep_unknown_members: false,
        lenient_date_times: false,
        null_as_absent: false,
        allow_duplicate_members: false,
    };

    /// Every leniency on.
    pub const LENIENT: DecodeOptions = DecodeOptions {
        allow_over_long_strings: true,
        keep_unknown_enum_values: true,
        keep_unknown_members: true,
        lenient_date_times: true,
        null_as_absent: true,
        allow_duplicate_members: true,
    };

    /// Whether any leniency is on.
    pub const fn is_lenient(&self) -> bool {
        self.allow_over_long_strings
            || self.keep_unknown_enum_values
            || self.keep_unknown_members
            || self.lenient_date_times
            || self.null_as_absent
            || self.allow_duplicate_members
    }
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions::STRICT
    }
}

/// How many times each leniency was needed while decoding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Leniencies {
    /// Strings longer than their `maxLength`.
    pub over_long_strings: u32,
    /// Enum values the schema does not list.
    pub unknown_enum_values: u32,
    /// Members the schema does not define.
    pub unknown_members: u32,
    /// Date-times that are not strict RFC 3339.
    pub lenient_date_times: u32,
    /// `null` given for an optional member.
    pub null_members: u32,
    /// Members given more than once.
    pub duplicate_members: u32,
}

impl Leniencies {
    /// The sum of all counters.
    pub fn total(&self) -> u32 {
        self.over_long_strings
            + self.unknown_enum_values
            + self.unknown_members
            + self.lenient_date_times
            + self.null_members
            + self.duplicate_members
    }

    /// Whether no leniency was needed.
    pub fn is_empty(&self) -> bool {
        self.total() == 0
    }

    /// Adds another set of counters to this one.
    pub fn add(&mut self, other: &Leniencies) {
        self.over_long_strings += other.over_long_strings;
        self.unknown_enum_values += other.unknown_enum_values;
        self.unknown_members += other.unknown_members;
        self.lenient_date_times += other.lenient_date_times;
        self.null_members += other.null_members;
        self.duplicate_members += other.duplicate_members;
    }
}

/// A piece of JSON text known to be one valid JSON value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawJson(Box<str>);

impl RawJson {
    /// Checks `text` and wraps it.
    pub fn new(text: impl Into<String>) -> Result<Self, SyntaxError> {
        let text = text.into();
        json::validate(&text)?;
        Ok(RawJson(text.trim().into()))
    }

    fn from_valid(text: &str) -> Self {
        RawJson(text.into())
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        &self.0
    }
}

/// Members of an object that its schema does not define, kept with their raw JSON so they are
/// written back unchanged (lenient decoding, and the open-ended `customData` of 2.x).
///
/// Empty in the common case, where it takes one pointer and allocates nothing.
// A boxed Vec keeps the common, empty case at one pointer instead of three words.
#[allow(clippy::box_collection)]
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Extra(Option<Box<Vec<(String, RawJson)>>>);

impl Extra {
    /// No members.
    pub const fn new() -> Self {
        Extra(None)
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |v| v.len())
    }

    /// The members in the order they were read or inserted.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &RawJson)> {
        self.0
            .iter()
            .flat_map(|v| v.iter())
            .map(|(k, v)| (k.as_str(), v))
    }

    /// The member called `name`.
    pub fn get(&self, name: &str) -> Option<&RawJson> {
        self.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// Sets a member, replacing one of the same name.
    pub fn insert(&mut self, name: impl Into<String>, value: RawJson) {
        let name = name.into();
        let members = self.0.get_or_insert_with(Default::default);
        match members.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = value,
            None => members.push((name, value)),
        }
    }

    /// Writes the members into an object being written.
    #[inline]
    pub fn encode_members(&self, w: &mut JsonWriter, first: &mut bool) {
        for (k, v) in self.iter() {
            w.item(first);
            w.string(k);
            w.push(':');
            w.raw(v.get());
        }
    }
}

/// A type that can be read from JSON with full schema validation.
pub trait Decode: Sized {
    /// Reads one value at the decoder's position.
    fn decode(d: &mut Decoder<'_>) -> Result<Self, DecodeError>;
}

/// A type that can be written as JSON and checked against its schema before sending.
pub trait Encode {
    /// Writes the value.
    fn encode(&self, w: &mut JsonWriter);

    /// Checks every schema constraint the Rust type cannot express (lengths, ranges, array sizes,
    /// unknown enum values and members under strict options).
    fn validate(&self, v: &Validator) -> Result<(), DecodeError>;

    /// The value as a JSON string.
    fn to_json(&self) -> String {
        let mut w = JsonWriter::with_capacity(256);
        self.encode(&mut w);
        w.into_string()
    }
}

/// Decodes a whole payload (which must be a JSON object) under `opts`.
pub fn decode_payload<T: Decode>(json: &str, opts: &DecodeOptions) -> Result<T, DecodeError> {
    Decoder::new(json, *opts).payload()
}

/// Decodes a whole payload under `opts` and reports the leniencies that were needed.
pub fn decode_payload_counted<T: Decode>(
    json: &str,
    opts: &DecodeOptions,
) -> Result<(T, Leniencies), DecodeError> {
    let mut d = Decoder::new(json, *opts);
    let v = d.payload()?;
    Ok((v, d.leniencies))
}

/// Validates `value` under `opts` and returns its JSON.
pub fn encode_validated<T: Encode>(value: &T, opts: &DecodeOptions) -> Result<String, DecodeError> {
    value.validate(&Validator::new(*opts))?;
    Ok(value.to_json())
}

fn syntax(e: SyntaxError) -> DecodeError {
    DecodeError::new(ErrorCode::FormatViolation, e.to_string())
}

fn type_error(expected: &str, found: Kind) -> DecodeError {
    DecodeError::new(
        ErrorCode::TypeConstraintViolation,
        format!("expected {expected}, found {}", found.name()),
    )
}

/// Checks a string against `maxLength` (counted in Unicode code points, as JSON Schema does).
#[inline]
pub fn check_max_length(s: &str, max: usize) -> Result<(), DecodeError> {
    if s.len() <= max {
        return Ok(());
    }
    let n = s.chars().count();
    if n <= max {
        Ok(())
    } else {
        Err(DecodeError::new(
            ErrorCode::PropertyConstraintViolation,
            format!("string of {n} characters exceeds maxLength {max}"),
        ))
    }
}

/// Checks an integer against `minimum` / `maximum`.
#[inline]
pub fn check_integer(v: i64, min: Option<i64>, max: Option<i64>) -> Result<(), DecodeError> {
    if min.is_some_and(|m| v < m) || max.is_some_and(|m| v > m) {
        return Err(DecodeError::new(
            ErrorCode::PropertyConstraintViolation,
            format!("{v} is outside {}", range_text(min, max)),
        ));
    }
    Ok(())
}

fn range_text<T: std::fmt::Display>(min: Option<T>, max: Option<T>) -> String {
    match (min, max) {
        (Some(a), Some(b)) => format!("[{a}, {b}]"),
        (Some(a), None) => format!("minimum {a}"),
        (None, Some(b)) => format!("maximum {b}"),
        (None, None) => "no range".into(),
    }
}

/// Checks a decimal against `minimum` / `maximum` / `multipleOf`.
#[inline]
pub fn check_decimal(
    v: &Decimal,
    min: Option<Decimal>,
    max: Option<Decimal>,
    multiple_of: Option<Decimal>,
) -> Result<(), DecodeError> {
    if min.is_some_and(|m| *v < m) || max.is_some_and(|m| *v > m) {
        return Err(DecodeError::new(
            ErrorCode::PropertyConstraintViolation,
            format!("{v} is outside {}", range_text(min, max)),
        ));
    }
    if let Some(m) = multiple_of {
        if !(*v % m).is_zero() {
            return Err(DecodeError::new(
                ErrorCode::PropertyConstraintViolation,
                format!("{v} is not a multiple of {m}"),
            ));
        }
    }
    Ok(())
}

/// Checks an array's length against `minItems` / `maxItems`.
#[inline]
pub fn check_items(len: usize, min: usize, max: Option<usize>) -> Result<(), DecodeError> {
    if len < min || max.is_some_and(|m| len > m) {
        let bound = match max {
            Some(m) => format!("between {min} and {m}"),
            None => format!("at least {min}"),
        };
        return Err(DecodeError::new(
            ErrorCode::OccurrenceConstraintViolation,
            format!("array has {len} items, expected {bound}"),
        ));
    }
    Ok(())
}

/// Checks a URI (`format: uri`): a scheme, a colon, and no white space or control characters.
pub fn check_uri(s: &str) -> Result<(), DecodeError> {
    let bad = || {
        DecodeError::new(
            ErrorCode::PropertyConstraintViolation,
            format!("{s:?} is not a URI"),
        )
    };
    let (scheme, rest) = s.split_once(':').ok_or_else(bad)?;
    let mut sc = scheme.chars();
    if !sc.next().is_some_and(|c| c.is_ascii_alphabetic())
        || !sc.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        || rest.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad());
    }
    Ok(())
}

/// Reads the source text of a JSON number (already checked by the parser) as an exact decimal.
fn parse_decimal(text: &str) -> Option<Decimal> {
    if let Some(d) = parse_plain_decimal(text) {
        return Some(d);
    }
    if text.contains(['e', 'E']) {
        Decimal::from_scientific(text).ok()
    } else {
        Decimal::from_str_exact(text).ok()
    }
}

/// The fast path of [`parse_decimal`]: `-?digits(.digits)?` of at most 18 bytes, which fits an
/// `i64` mantissa. Anything else (exponents, long numbers, negative zero) returns `None`.
#[inline]
fn parse_plain_decimal(text: &str) -> Option<Decimal> {
    let b = text.as_bytes();
    let (negative, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut mantissa: i64 = 0;
    let mut scale = 0u32;
    let mut fraction = false;
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + i64::from(c - b'0');
                scale += u32::from(fraction);
            }
            b'.' if !fraction => fraction = true,
            _ => return None,
        }
    }
    if negative && mantissa == 0 {
        return None;
    }
    Some(Decimal::new(
        if negative { -mantissa } else { mantissa },
        scale,
    ))
}

/// Reads JSON with schema validation; the generated `Decode` impls drive it.
#[derive(Debug)]
pub struct Decoder<'a> {
    p: Parser<'a>,
    opts: DecodeOptions,
    leniencies: Leniencies,
    depth: usize,
}

impl<'a> Decoder<'a> {
    /// A decoder at the start of `json`.
    pub fn new(json: &'a str, opts: DecodeOptions) -> Self {
        Decoder {
            p: Parser::new(json),
            opts,
            leniencies: Leniencies::default(),
            depth: 0,
        }
    }

    /// The options in force.
    pub fn options(&self) -> &DecodeOptions {
        &self.opts
    }

    /// The leniencies used so far.
    pub fn leniencies(&self) -> &Leniencies {
        &self.leniencies
    }

    /// Reads a whole payload: it must be a JSON object and nothing may follow it.
    ///
    /// When a fault is found, the whole text is still checked for syntax, so that a syntactically
    /// broken payload is always reported as a syntax `FormatViolation` at the root.
    pub fn payload<T: Decode>(&mut self) -> Result<T, DecodeError> {
        let kind = self.p.peek();
        if kind != Kind::Object {
            if kind == Kind::Invalid || kind == Kind::End {
                return Err(syntax(SyntaxError {
                    offset: self.p.offset(),
                    message: "expected a value",
                }));
            }
            return Err(DecodeError::new(
                ErrorCode::FormatViolation,
                format!("the payload must be a JSON object, found {}", kind.name()),
            ));
        }
        let result = T::decode(self).and_then(|v| self.p.finish().map(|()| v).map_err(syntax));
        match result {
            // The first fault found may sit before a syntax error (an unknown member, a wrong
            // type): a payload that is not JSON at all is reported as such.
            Err(e) => match json::validate(self.p.source()) {
                Err(s) => Err(syntax(s)),
                Ok(()) => Err(e),
            },
            ok => ok,
        }
    }

    /// Reads `{`, or fails with `TypeConstraintViolation`.
    #[inline]
    pub fn object_begin(&mut self) -> Result<(), DecodeError> {
        match self.p.peek() {
            Kind::Object => {
                if self.depth >= MAX_DEPTH {
                    return Err(DecodeError::new(
                        ErrorCode::FormatViolation,
                        "nesting too deep",
                    ));
                }
                self.depth += 1;
                self.p.object_begin().map_err(syntax)
            }
            k => Err(type_error("an object", k)),
        }
    }

    /// The next member name, or `None` at the end of the object.
    #[inline]
    pub fn next_member(&mut self, first: &mut bool) -> Result<Option<Cow<'a, str>>, DecodeError> {
        let r = self.p.object_next(first).map_err(syntax)?;
        if r.is_none() {
            self.depth -= 1;
        }
        Ok(r)
    }

    /// The next member name as bytes (see [`Parser::object_next_key`]), or `None` at the end of
    /// the object. The generated decoders match it against the names of the schema.
    #[inline(always)]
    pub fn next_key(&mut self, first: &mut bool) -> Result<Option<Cow<'a, [u8]>>, DecodeError> {
        match self.p.object_next_key(first) {
            Ok(Some(k)) => Ok(Some(k)),
            Ok(None) => {
                self.depth -= 1;
                Ok(None)
            }
            Err(e) => Err(syntax(e)),
        }
    }

    /// The member name returned by [`Decoder::next_key`] as a string.
    pub fn key_str(key: Cow<'a, [u8]>) -> Cow<'a, str> {
        match key {
            Cow::Borrowed(k) => String::from_utf8_lossy(k),
            Cow::Owned(k) => match String::from_utf8(k) {
                Ok(k) => Cow::Owned(k),
                Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
            },
        }
    }

    /// [`Decoder::unknown_member`] for a name returned by [`Decoder::next_key`].
    #[cold]
    pub fn unknown_key(
        &mut self,
        key: Cow<'a, [u8]>,
        extra: &mut Extra,
    ) -> Result<(), DecodeError> {
        self.unknown_member(Self::key_str(key), extra)
    }

    /// [`Decoder::extension_member`] for a name returned by [`Decoder::next_key`].
    pub fn extension_key(
        &mut self,
        key: Cow<'a, [u8]>,
        extra: &mut Extra,
    ) -> Result<(), DecodeError> {
        self.extension_member(Self::key_str(key), extra)
    }

    /// Handles a member the schema does not define: `FormatViolation` under strict options; kept
    /// in `extra` under lenient ones.
    pub fn unknown_member(
        &mut self,
        name: Cow<'a, str>,
        extra: &mut Extra,
    ) -> Result<(), DecodeError> {
        if !self.opts.keep_unknown_members {
            return Err(DecodeError::new(
                ErrorCode::FormatViolation,
                format!("member {name:?} is not defined by the schema"),
            )
            .at_key(&name));
        }
        self.leniencies.unknown_members += 1;
        self.extension_member(name, extra)
    }

    /// Keeps a member of an open-ended object (2.x `customData`), whatever the options.
    pub fn extension_member(
        &mut self,
        name: Cow<'a, str>,
        extra: &mut Extra,
    ) -> Result<(), DecodeError> {
        let raw = self.p.skip_value().map_err(syntax)?;
        extra.insert(name.into_owned(), RawJson::from_valid(raw));
        Ok(())
    }

    /// Called when a member is seen a second time: `FormatViolation` under strict options.
    #[cold]
    #[inline(never)]
    pub fn duplicate(&mut self, name: &str) -> Result<(), DecodeError> {
        if self.opts.allow_duplicate_members {
            self.leniencies.duplicate_members += 1;
            Ok(())
        } else {
            Err(DecodeError::new(
                ErrorCode::FormatViolation,
                format!("member {name:?} is given more than once"),
            )
            .at_key(name))
        }
    }

    /// For an optional member: under lenient options, consumes a `null` and returns `true`.
    #[inline(always)]
    pub fn null_as_absent(&mut self) -> Result<bool, DecodeError> {
        if self.opts.null_as_absent {
            self.null_as_absent_slow()
        } else {
            Ok(false)
        }
    }

    #[inline(never)]
    fn null_as_absent_slow(&mut self) -> Result<bool, DecodeError> {
        if self.p.peek() == Kind::Null {
            self.p.null().map_err(syntax)?;
            self.leniencies.null_members += 1;
            return Ok(true);
        }
        Ok(false)
    }

    /// The error for a required member that is absent.
    pub fn missing(name: &str) -> DecodeError {
        DecodeError::new(
            ErrorCode::OccurrenceConstraintViolation,
            format!("required member {name:?} is missing"),
        )
        .at_key(name)
    }

    #[inline]
    fn raw_string(&mut self) -> Result<Cow<'a, str>, DecodeError> {
        if let Some(s) = self.p.plain_string() {
            return Ok(Cow::Borrowed(s));
        }
        match self.p.peek() {
            Kind::String => self.p.string().map_err(syntax),
            k => Err(type_error("a string", k)),
        }
    }

    /// Reads a string, checking `maxLength` when given.
    #[inline(never)]
    pub fn string(&mut self, max_length: Option<usize>) -> Result<Text, DecodeError> {
        // Fast path: no escape, and short enough in bytes (so in characters).
        if let Some(s) = self.p.plain_string() {
            if max_length.is_none_or(|m| s.len() <= m) {
                return Ok(Text::new(s));
            }
            return self.checked_string(Cow::Borrowed(s), max_length);
        }
        self.string_slow(max_length)
    }

    #[inline(never)]
    fn string_slow(&mut self, max_length: Option<usize>) -> Result<Text, DecodeError> {
        let s = self.raw_string()?;
        self.checked_string(s, max_length)
    }

    #[inline(never)]
    fn checked_string(
        &mut self,
        s: Cow<'a, str>,
        max_length: Option<usize>,
    ) -> Result<Text, DecodeError> {
        if let Some(max) = max_length {
            if let Err(e) = check_max_length(&s, max) {
                if !self.opts.allow_over_long_strings {
                    return Err(e);
                }
                self.leniencies.over_long_strings += 1;
            }
        }
        Ok(Text::from(s))
    }

    /// Reads a `format: uri` string.
    pub fn uri(&mut self, max_length: Option<usize>) -> Result<Text, DecodeError> {
        let s = self.string(max_length)?;
        check_uri(&s)?;
        Ok(s)
    }

    /// Reads the string of an enum value, to be matched by the caller.
    #[inline]
    pub fn enum_str(&mut self) -> Result<Cow<'a, str>, DecodeError> {
        self.raw_string()
    }

    /// Reads the string of an enum value as bytes, to be matched by the caller (the generated
    /// decoders); see [`Decoder::unknown_enum_bytes`]. The bytes are always valid UTF-8.
    #[inline(never)]
    pub fn enum_bytes(&mut self) -> Result<Cow<'a, [u8]>, DecodeError> {
        if let Some(s) = self.p.plain_string_bytes() {
            return Ok(Cow::Borrowed(s));
        }
        self.enum_bytes_slow()
    }

    #[inline(never)]
    fn enum_bytes_slow(&mut self) -> Result<Cow<'a, [u8]>, DecodeError> {
        Ok(match self.raw_string()? {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        })
    }

    /// [`Decoder::unknown_enum`] for a value read with [`Decoder::enum_bytes`].
    #[cold]
    pub fn unknown_enum_bytes(
        &mut self,
        value: Cow<'a, [u8]>,
        type_name: &str,
    ) -> Result<String, DecodeError> {
        self.unknown_enum(Self::key_str(value), type_name)
    }

    /// Handles an enum value the schema does not list: `PropertyConstraintViolation` under strict
    /// options; kept under lenient ones. `type_name` names the enum in the message.
    pub fn unknown_enum(
        &mut self,
        value: Cow<'a, str>,
        type_name: &str,
    ) -> Result<String, DecodeError> {
        if self.opts.keep_unknown_enum_values {
            self.leniencies.unknown_enum_values += 1;
            Ok(value.into_owned())
        } else {
            Err(DecodeError::new(
                ErrorCode::PropertyConstraintViolation,
                format!("{value:?} is not a value of {type_name}"),
            ))
        }
    }

    #[inline]
    fn raw_number(&mut self) -> Result<&'a str, DecodeError> {
        match self.p.peek() {
            Kind::Number => self.p.number().map_err(syntax),
            k => Err(type_error("a number", k)),
        }
    }

    /// Reads an integer (a number without a fraction; `2.0` counts as an integer, as in JSON
    /// Schema), checking `minimum` / `maximum`.
    #[inline]
    pub fn integer(&mut self, min: Option<i64>, max: Option<i64>) -> Result<i64, DecodeError> {
        if let Some((v, 0, end)) = self.p.peek_plain_number() {
            self.p.set_offset(end);
            check_integer(v, min, max)?;
            return Ok(v);
        }
        self.integer_slow(min, max)
    }

    #[inline(never)]
    fn integer_slow(&mut self, min: Option<i64>, max: Option<i64>) -> Result<i64, DecodeError> {
        let text = match self.p.peek() {
            Kind::Number => self.p.number().map_err(syntax)?,
            k => return Err(type_error("an integer", k)),
        };
        let v = match text.parse::<i64>() {
            Ok(v) => v,
            Err(_) => {
                let d = parse_decimal(text);
                match d {
                    Some(d) if d.fract().is_zero() => i64::try_from(d).map_err(|_| {
                        DecodeError::new(
                            ErrorCode::PropertyConstraintViolation,
                            format!("integer {text} is out of the supported range"),
                        )
                    })?,
                    Some(_) => {
                        return Err(DecodeError::new(
                            ErrorCode::TypeConstraintViolation,
                            format!("expected an integer, found {text}"),
                        ))
                    }
                    None if !text.contains(['.', 'e', 'E']) => {
                        return Err(DecodeError::new(
                            ErrorCode::PropertyConstraintViolation,
                            format!("integer {text} is out of the supported range"),
                        ))
                    }
                    None => {
                        return Err(DecodeError::new(
                            ErrorCode::TypeConstraintViolation,
                            format!("expected an integer, found {text}"),
                        ))
                    }
                }
            }
        };
        check_integer(v, min, max)?;
        Ok(v)
    }

    /// Reads an exact decimal, checking `minimum` / `maximum` / `multipleOf`.
    #[inline]
    pub fn decimal(
        &mut self,
        min: Option<Decimal>,
        max: Option<Decimal>,
        multiple_of: Option<Decimal>,
    ) -> Result<Decimal, DecodeError> {
        if let Some((mantissa, scale, end)) = self.p.peek_plain_number() {
            self.p.set_offset(end);
            let v = Decimal::new(mantissa, scale);
            check_decimal(&v, min, max, multiple_of)?;
            return Ok(v);
        }
        self.decimal_slow(min, max, multiple_of)
    }

    #[inline(never)]
    fn decimal_slow(
        &mut self,
        min: Option<Decimal>,
        max: Option<Decimal>,
        multiple_of: Option<Decimal>,
    ) -> Result<Decimal, DecodeError> {
        let text = self.raw_number()?;
        let v = parse_decimal(text).ok_or_else(|| {
            DecodeError::new(
                ErrorCode::PropertyConstraintViolation,
                format!("number {text} is outside the exact decimal range (28 significant digits)"),
            )
        })?;
        check_decimal(&v, min, max, multiple_of)?;
        Ok(v)
    }

    /// Reads a boolean.
    #[inline]
    pub fn boolean(&mut self) -> Result<bool, DecodeError> {
        match self.p.peek() {
            Kind::Bool => self.p.boolean().map_err(syntax),
            k => Err(type_error("a boolean", k)),
        }
    }

    /// Reads a `format: date-time` string.
    #[inline]
    pub fn date_time(&mut self) -> Result<DateTime, DecodeError> {
        let s = self.raw_string()?;
        match DateTime::parse_lenient(&s) {
            Ok((dt, Parsed::Strict)) => Ok(dt),
            Ok((dt, Parsed::Lenient)) if self.opts.lenient_date_times => {
                self.leniencies.lenient_date_times += 1;
                Ok(dt)
            }
            Ok((_, Parsed::Lenient)) => Err(DecodeError::new(
                ErrorCode::PropertyConstraintViolation,
                format!("{s:?} is not an RFC 3339 date-time with offset"),
            )),
            Err(e) => Err(DecodeError::new(
                ErrorCode::PropertyConstraintViolation,
                format!("{s:?}: {e}"),
            )),
        }
    }

    /// Reads any JSON value (a member the schema leaves untyped, such as 2.x `DataTransfer.data`).
    pub fn any(&mut self) -> Result<RawJson, DecodeError> {
        match self.p.peek() {
            Kind::End | Kind::Invalid => Err(syntax(SyntaxError {
                offset: self.p.offset(),
                message: "expected a value",
            })),
            _ => Ok(RawJson::from_valid(self.p.skip_value().map_err(syntax)?)),
        }
    }

    /// Reads an array, each item with `item`, checking `minItems` / `maxItems`.
    #[inline]
    pub fn array<T>(
        &mut self,
        min_items: usize,
        max_items: Option<usize>,
        mut item: impl FnMut(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        match self.p.peek() {
            Kind::Array => {}
            k => return Err(type_error("an array", k)),
        }
        if self.depth >= MAX_DEPTH {
            return Err(DecodeError::new(
                ErrorCode::FormatViolation,
                "nesting too deep",
            ));
        }
        self.depth += 1;
        self.p.array_begin().map_err(syntax)?;
        let mut first = true;
        if !self.p.array_next(&mut first).map_err(syntax)? {
            self.depth -= 1;
            check_items(0, min_items, max_items)?;
            return Ok(Vec::new());
        }
        if max_items == Some(0) {
            self.p.skip_value().map_err(syntax)?;
            return Err(check_items(1, min_items, max_items).unwrap_err());
        }
        // Most arrays hold one item: allocate exactly one; otherwise room for several, so that
        // long arrays of large items are not copied at every doubling.
        let item0 = item(self).map_err(|e| e.at_index(0))?;
        let mut out = if self.p.at_array_end() {
            Vec::with_capacity(1)
        } else {
            Vec::with_capacity(max_items.map_or(8, |m| m.min(8)))
        };
        out.push(item0);
        while self.p.array_next(&mut first).map_err(syntax)? {
            if max_items.is_some_and(|m| out.len() >= m) {
                // Report too many items at the first item past the limit, after checking its syntax.
                self.p.skip_value().map_err(syntax)?;
                return Err(check_items(out.len() + 1, min_items, max_items).unwrap_err());
            }
            let idx = out.len();
            out.push(item(self).map_err(|e| e.at_index(idx))?);
        }
        self.depth -= 1;
        check_items(out.len(), min_items, max_items)?;
        Ok(out)
    }
}

/// Checks outgoing values against their schema under the given options.
#[derive(Debug, Clone, Copy, Default)]
pub struct Validator {
    opts: DecodeOptions,
}

impl Validator {
    /// A validator with `opts` (strict: [`DecodeOptions::STRICT`]).
    pub const fn new(opts: DecodeOptions) -> Self {
        Validator { opts }
    }

    /// The options in force.
    pub fn options(&self) -> &DecodeOptions {
        &self.opts
    }

    /// Checks a string's length.
    #[inline]
    pub fn string(&self, s: &str, max_length: Option<usize>) -> Result<(), DecodeError> {
        match max_length {
            Some(max) if !self.opts.allow_over_long_strings => check_max_length(s, max),
            _ => Ok(()),
        }
    }

    /// Checks a `format: uri` string.
    pub fn uri(&self, s: &str, max_length: Option<usize>) -> Result<(), DecodeError> {
        self.string(s, max_length)?;
        check_uri(s)
    }

    /// Checks an integer's range.
    #[inline]
    pub fn integer(&self, v: i64, min: Option<i64>, max: Option<i64>) -> Result<(), DecodeError> {
        check_integer(v, min, max)
    }

    /// Checks a decimal's range and `multipleOf`.
    #[inline]
    pub fn decimal(
        &self,
        v: &Decimal,
        min: Option<Decimal>,
        max: Option<Decimal>,
        multiple_of: Option<Decimal>,
    ) -> Result<(), DecodeError> {
        check_decimal(v, min, max, multiple_of)
    }

    /// Checks a date-time's form.
    #[inline]
    pub fn date_time(&self, v: &DateTime) -> Result<(), DecodeError> {
        if !self.opts.lenient_date_times && !v.is_strict() {
            return Err(DecodeError::new(
                ErrorCode::PropertyConstraintViolation,
                format!("{v} is not an RFC 3339 date-time with offset"),
            ));
        }
        Ok(())
    }

    /// Checks an array's length and each item.
    #[inline]
    pub fn array<T>(
        &self,
        items: &[T],
        min_items: usize,
        max_items: Option<usize>,
        mut item: impl FnMut(&T) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        check_items(items.len(), min_items, max_items)?;
        for (i, x) in items.iter().enumerate() {
            item(x).map_err(|e| e.at_index(i))?;
        }
        Ok(())
    }

    /// Refuses an enum value outside the schema under strict options.
    pub fn unknown_enum(&self, value: &str, type_name: &str) -> Result<(), DecodeError> {
        if self.opts.keep_unknown_enum_values {
            Ok(())
        } else {
            Err(DecodeError::new(
                ErrorCode::PropertyConstraintViolation,
                format!("{value:?} is not a value of {type_name}"),
            ))
        }
    }

    /// Refuses members the schema does not define under strict options.
    pub fn extra(&self, extra: &Extra) -> Result<(), DecodeError> {
        match extra.iter().next() {
            Some((name, _)) if !self.opts.keep_unknown_members => Err(DecodeError::new(
                ErrorCode::FormatViolation,
                format!("member {name:?} is not defined by the schema"),
            )
            .at_key(name)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slow_decimal(text: &str) -> Option<Decimal> {
        if text.contains(['e', 'E']) {
            Decimal::from_scientific(text).ok()
        } else {
            Decimal::from_str_exact(text).ok()
        }
    }

    #[test]
    fn plain_decimals_read_exactly_like_the_general_parser() {
        for text in [
            "0",
            "7",
            "-7",
            "12.50",
            "0.001",
            "-0.5",
            "230.4",
            "123456789012345678",
            "1234567890123456.8",
        ] {
            let fast = parse_plain_decimal(text).unwrap();
            let slow = slow_decimal(text).unwrap();
            assert_eq!(fast, slow, "{text}");
            assert_eq!(fast.to_string(), slow.to_string(), "{text}");
        }
        // Left to the general parser.
        for text in ["-0", "-0.0", "1e3", "1234567890123456789", "1.5E-7"] {
            assert_eq!(parse_plain_decimal(text), None, "{text}");
            assert_eq!(parse_decimal(text), slow_decimal(text), "{text}");
        }
    }

    proptest::proptest! {
        #[test]
        fn decimal_fast_path_agrees_with_rust_decimal(
            int in "-?(0|[1-9][0-9]{0,20})",
            frac in proptest::option::of("[0-9]{1,20}"),
        ) {
            let text = match frac {
                Some(f) => format!("{int}.{f}"),
                None => int,
            };
            let fast = parse_decimal(&text);
            let slow = slow_decimal(&text);
            proptest::prop_assert_eq!(fast, slow);
            if let (Some(a), Some(b)) = (fast, slow) {
                proptest::prop_assert_eq!(a.to_string(), b.to_string());
            }
        }
    }

    #[test]
    fn numbers_read_alike_on_the_fast_and_the_general_path() {
        for text in [
            "0",
            "-1",
            "7",
            "12.50",
            "0.001",
            "-0.5",
            "-0",
            "-0.0",
            "2.0",
            "1e3",
            "1.5E-7",
            "123456789012345678",
            "1234567890123456789",
            "12345678901234567.8",
            "99999999999999999999999",
            "0.000000000000000001",
        ] {
            let slow = slow_decimal(text);
            let fast = Decoder::new(text, DecodeOptions::STRICT).decimal(None, None, None);
            assert_eq!(
                fast.ok().map(|d| d.to_string()),
                slow.map(|d| d.to_string()),
                "{text}"
            );
            let int = Decoder::new(text, DecodeOptions::STRICT).integer(None, None);
            match slow {
                Some(d) if d.fract().is_zero() && i64::try_from(d).is_ok() => {
                    assert_eq!(int.unwrap(), i64::try_from(d).unwrap(), "{text}")
                }
                _ => assert!(int.is_err(), "{text}"),
            }
        }
        for bad in ["01", "-", "1.", "-01.5", ".5"] {
            let mut d = Decoder::new(bad, DecodeOptions::STRICT);
            let r = d
                .decimal(None, None, None)
                .and_then(|_| d.p.finish().map_err(syntax));
            assert!(r.is_err(), "{bad}");
        }
        let e = Decoder::new("5", DecodeOptions::STRICT)
            .integer(Some(6), None)
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::PropertyConstraintViolation);
        let e = Decoder::new("2.5", DecodeOptions::STRICT)
            .integer(None, None)
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::TypeConstraintViolation);
    }

    #[test]
    fn arrays_of_one_item_take_exactly_one_slot() {
        let mut d = Decoder::new("[1]", DecodeOptions::STRICT);
        assert_eq!(
            d.array(0, None, |d| d.integer(None, None)).unwrap(),
            vec![1]
        );
        let mut d = Decoder::new("[1]", DecodeOptions::STRICT);
        assert_eq!(
            d.array(0, None, |d| d.integer(None, None))
                .unwrap()
                .capacity(),
            1
        );
        let mut d = Decoder::new("[1,2,3,4,5,6,7,8,9,10]", DecodeOptions::STRICT);
        let v = d.array(0, None, |d| d.integer(None, None)).unwrap();
        assert_eq!(v, (1..=10).collect::<Vec<i64>>());
        let mut d = Decoder::new("[]", DecodeOptions::STRICT);
        let e = d.array(1, None, |d| d.integer(None, None)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::OccurrenceConstraintViolation);
        let mut d = Decoder::new("[1,2,3]", DecodeOptions::STRICT);
        let e = d.array(0, Some(2), |d| d.integer(None, None)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::OccurrenceConstraintViolation);
        let mut d = Decoder::new("[\"x\"]", DecodeOptions::STRICT);
        let e = d.array(0, Some(0), |d| d.integer(None, None)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::OccurrenceConstraintViolation);
    }
}
