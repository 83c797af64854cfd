//! A small, strict, zero-copy JSON pull parser and a JSON writer.
//!
//! The parser reads RFC 8259 JSON from a `&str` without building a tree: the typed decoders pull
//! exactly the tokens they expect, strings without escapes are borrowed from the input, numbers are
//! handed over as their exact source text (so decimals stay exact), and nesting is bounded so
//! hostile input cannot exhaust the stack.

use std::borrow::Cow;
use std::fmt::Write as _;

/// The deepest nesting of arrays and objects the parser accepts.
pub const MAX_DEPTH: usize = 64;

/// A JSON syntax error: what was expected and the byte offset where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset into the input.
    pub offset: usize,
    /// What the parser expected or found.
    pub message: &'static str,
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid JSON at byte {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for SyntaxError {}

/// The kind of the next JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `{`
    Object,
    /// `[`
    Array,
    /// `"`
    String,
    /// `-` or a digit
    Number,
    /// `true` or `false`
    Bool,
    /// `null`
    Null,
    /// End of input.
    End,
    /// Anything else: not the start of a JSON value.
    Invalid,
}

impl Kind {
    /// The JSON type name, for messages.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Object => "an object",
            Kind::Array => "an array",
            Kind::String => "a string",
            Kind::Number => "a number",
            Kind::Bool => "a boolean",
            Kind::Null => "null",
            Kind::End => "the end of the input",
            Kind::Invalid => "an invalid token",
        }
    }
}

/// A pull parser over one JSON text.
#[derive(Debug, Clone)]
pub struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

type PResult<T> = Result<T, SyntaxError>;

impl<'a> Parser<'a> {
    /// A parser at the start of `src`.
    pub fn new(src: &'a str) -> Self {
        Parser { src, pos: 0 }
    }

    /// The whole input.
    pub fn source(&self) -> &'a str {
        self.src
    }

    /// The current byte offset.
    pub fn offset(&self) -> usize {
        self.pos
    }

    #[inline]
    fn err<T>(&self, message: &'static str) -> PResult<T> {
        Err(SyntaxError {
            offset: self.pos,
            message,
        })
    }

    #[inline]
    fn skip_ws(&mut self) {
        // Compact JSON has no white space between tokens: one comparison in the common case
        // (every white space byte is at most b' ').
        match self.src.as_bytes().get(self.pos) {
            Some(&c) if c <= b' ' => self.skip_ws_slow(),
            _ => {}
        }
    }

    #[cold]
    fn skip_ws_slow(&mut self) {
        let b = self.src.as_bytes();
        while let Some(&c) = b.get(self.pos) {
            if c == b' ' || c == b'\n' || c == b'\r' || c == b'\t' {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    #[inline]
    fn peek_byte(&mut self) -> Option<u8> {
        self.skip_ws();
        self.src.as_bytes().get(self.pos).copied()
    }

    /// The kind of the next value, after skipping white space.
    #[inline]
    pub fn peek(&mut self) -> Kind {
        match self.peek_byte() {
            Some(b'{') => Kind::Object,
            Some(b'[') => Kind::Array,
            Some(b'"') => Kind::String,
            Some(b'-' | b'0'..=b'9') => Kind::Number,
            Some(b't' | b'f') => Kind::Bool,
            Some(b'n') => Kind::Null,
            None => Kind::End,
            Some(_) => Kind::Invalid,
        }
    }

    /// Succeeds when only white space remains.
    pub fn finish(&mut self) -> PResult<()> {
        match self.peek_byte() {
            None => Ok(()),
            Some(_) => self.err("unexpected content after the value"),
        }
    }

    #[inline]
    fn expect_byte(&mut self, c: u8, message: &'static str) -> PResult<()> {
        if self.peek_byte() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            self.err(message)
        }
    }

    /// Consumes `{`.
    #[inline]
    pub fn object_begin(&mut self) -> PResult<()> {
        self.expect_byte(b'{', "expected '{'")
    }

    /// Reads the next member name of an object, or consumes the closing `}` and returns `None`.
    ///
    /// `first` must be `true` for the first call after [`Parser::object_begin`]; it is updated.
    #[inline]
    pub fn object_next(&mut self, first: &mut bool) -> PResult<Option<Cow<'a, str>>> {
        match self.peek_byte() {
            Some(b'}') => {
                self.pos += 1;
                return Ok(None);
            }
            Some(b',') if !*first => {
                self.pos += 1;
                self.skip_ws();
            }
            Some(_) if *first => {}
            _ => return self.err("expected ',' or '}'"),
        }
        *first = false;
        let b = self.src.as_bytes();
        if b.get(self.pos) != Some(&b'"') {
            return self.err("expected a member name");
        }
        // Fast path: a name without escapes, directly followed by ':'.
        let start = self.pos + 1;
        let end = find_special(b, start);
        if b.get(end) == Some(&b'"') && b.get(end + 1) == Some(&b':') {
            self.pos = end + 2;
            return Ok(Some(Cow::Borrowed(&self.src[start..end])));
        }
        let key = self.string()?;
        self.expect_byte(b':', "expected ':'")?;
        Ok(Some(key))
    }

    /// Like [`Parser::object_next`], but returns the name as bytes: borrowed from the input when
    /// it holds no escape, so that callers can match it against the names they know without a
    /// UTF-8 boundary check. The bytes are always valid UTF-8.
    #[inline(always)]
    pub fn object_next_key(&mut self, first: &mut bool) -> PResult<Option<Cow<'a, [u8]>>> {
        // Fast path for compact JSON: `}`, or `"name":` (first member) / `,"name":` (others)
        // without white space or escapes; anything else takes the general path.
        let b = self.src.as_bytes();
        let mut i = self.pos;
        match b.get(i) {
            Some(b'}') => {
                self.pos = i + 1;
                return Ok(None);
            }
            Some(b',') if !*first => i += 1,
            Some(b'"') if *first => {}
            _ => return self.object_next_key_slow(first),
        }
        if b.get(i) == Some(&b'"') {
            let start = i + 1;
            let end = find_special(b, start);
            if let (Some(b'"'), Some(b':')) = (b.get(end), b.get(end + 1)) {
                *first = false;
                self.pos = end + 2;
                return Ok(Some(Cow::Borrowed(&b[start..end])));
            }
        }
        self.object_next_key_slow(first)
    }

    #[cold]
    #[inline(never)]
    fn object_next_key_slow(&mut self, first: &mut bool) -> PResult<Option<Cow<'a, [u8]>>> {
        Ok(self.object_next(first)?.map(|key| match key {
            Cow::Borrowed(k) => Cow::Borrowed(k.as_bytes()),
            Cow::Owned(k) => Cow::Owned(k.into_bytes()),
        }))
    }

    /// Whether the next token is the `]` that closes an array (without consuming it).
    #[inline]
    pub fn at_array_end(&mut self) -> bool {
        self.peek_byte() == Some(b']')
    }

    /// Consumes `[`.
    #[inline]
    pub fn array_begin(&mut self) -> PResult<()> {
        self.expect_byte(b'[', "expected '['")
    }

    /// Moves to the next array item and returns `true`, or consumes the closing `]` and returns
    /// `false`. `first` must be `true` for the first call after [`Parser::array_begin`].
    #[inline]
    pub fn array_next(&mut self, first: &mut bool) -> PResult<bool> {
        match self.peek_byte() {
            Some(b']') => {
                self.pos += 1;
                Ok(false)
            }
            Some(b',') if !*first => {
                self.pos += 1;
                *first = false;
                Ok(true)
            }
            Some(_) if *first => {
                *first = false;
                Ok(true)
            }
            _ => self.err("expected ',' or ']'"),
        }
    }

    /// Reads a string that holds no escape as bytes, borrowed from the input, and returns `None`
    /// without moving when the next value is anything else (then use [`Parser::string`]). The
    /// bytes are always valid UTF-8.
    #[inline(always)]
    pub fn plain_string_bytes(&mut self) -> Option<&'a [u8]> {
        self.skip_ws();
        let b = self.src.as_bytes();
        if b.get(self.pos) != Some(&b'"') {
            return None;
        }
        let start = self.pos + 1;
        let end = find_special(b, start);
        if b.get(end) == Some(&b'"') {
            self.pos = end + 1;
            Some(&b[start..end])
        } else {
            None
        }
    }

    /// Reads a string that holds no escape, borrowed from the input, and returns `None` without
    /// moving when the next value is anything else (then use [`Parser::string`]).
    #[inline(always)]
    pub fn plain_string(&mut self) -> Option<&'a str> {
        self.skip_ws();
        let b = self.src.as_bytes();
        if b.get(self.pos) != Some(&b'"') {
            return None;
        }
        let start = self.pos + 1;
        let end = find_special(b, start);
        if b.get(end) == Some(&b'"') {
            self.pos = end + 1;
            Some(&self.src[start..end])
        } else {
            None
        }
    }

    /// Reads a string, borrowed from the input when it holds no escape.
    #[inline]
    pub fn string(&mut self) -> PResult<Cow<'a, str>> {
        self.expect_byte(b'"', "expected a string")?;
        let b = self.src.as_bytes();
        let start = self.pos;
        let i = find_special(b, start);
        match b.get(i) {
            Some(b'"') => {
                self.pos = i + 1;
                return Ok(Cow::Borrowed(&self.src[start..i]));
            }
            Some(b'\\') => {}
            Some(_) => {
                self.pos = i;
                return self.err("control character in string");
            }
            None => {
                self.pos = i;
                return self.err("unterminated string");
            }
        }
        // Slow path: unescape.
        let mut out = String::with_capacity(i - start + 16);
        out.push_str(&self.src[start..i]);
        self.pos = i;
        loop {
            let run_start = self.pos;
            let mut j = self.pos;
            while let Some(&c) = b.get(j) {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                j += 1;
            }
            out.push_str(&self.src[run_start..j]);
            self.pos = j;
            match b.get(j) {
                Some(b'"') => {
                    self.pos = j + 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    self.pos = j + 1;
                    let e = match b.get(self.pos) {
                        Some(&e) => e,
                        None => return self.err("unterminated escape"),
                    };
                    self.pos += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let c = if (0xD800..0xDC00).contains(&hi) {
                                if b.get(self.pos) != Some(&b'\\')
                                    || b.get(self.pos + 1) != Some(&b'u')
                                {
                                    return self.err("lone leading surrogate in \\u escape");
                                }
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return self.err("invalid trailing surrogate in \\u escape");
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else if (0xDC00..0xE000).contains(&hi) {
                                return self.err("lone trailing surrogate in \\u escape");
                            } else {
                                hi
                            };
                            match char::from_u32(c) {
                                Some(c) => out.push(c),
                                None => return self.err("invalid \\u escape"),
                            }
                        }
                        _ => {
                            self.pos -= 1;
                            return self.err("invalid escape");
                        }
                    }
                }
                Some(_) => return self.err("control character in string"),
                None => return self.err("unterminated string"),
            }
        }
    }

    fn hex4(&mut self) -> PResult<u32> {
        let b = self.src.as_bytes();
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match b.get(self.pos) {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return self.err("expected four hex digits"),
            };
            v = v * 16 + u32::from(d);
            self.pos += 1;
        }
        Ok(v)
    }

    /// Looks at the next value and, when it is a number without exponent of at most 18 digits,
    /// returns its digits as an integer, the number of digits after the point and the offset
    /// where the number ends; the caller moves there with [`Parser::set_offset`]. Anything else
    /// (including negative zero and invalid numbers) returns `None`: read it with
    /// [`Parser::number`].
    #[inline]
    pub(crate) fn peek_plain_number(&mut self) -> Option<(i64, u32, usize)> {
        self.skip_ws();
        let b = self.src.as_bytes();
        let mut i = self.pos;
        let negative = b.get(i) == Some(&b'-');
        i += usize::from(negative);
        let start = i;
        let mut mantissa: i64 = 0;
        while let Some(&c) = b.get(i) {
            if !c.is_ascii_digit() {
                break;
            }
            if i - start == 18 {
                return None;
            }
            mantissa = mantissa * 10 + i64::from(c - b'0');
            i += 1;
        }
        let int_digits = i - start;
        if int_digits == 0 || (int_digits > 1 && b[start] == b'0') {
            return None;
        }
        let mut scale = 0;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let fraction = i;
            while let Some(&c) = b.get(i) {
                if !c.is_ascii_digit() {
                    break;
                }
                if int_digits + (i - fraction) == 18 {
                    return None;
                }
                mantissa = mantissa * 10 + i64::from(c - b'0');
                i += 1;
            }
            if i == fraction {
                return None;
            }
            scale = (i - fraction) as u32;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) || (negative && mantissa == 0) {
            return None;
        }
        Some((if negative { -mantissa } else { mantissa }, scale, i))
    }

    /// Moves to `offset`, an offset returned by [`Parser::peek_plain_number`].
    #[inline]
    pub(crate) fn set_offset(&mut self, offset: usize) {
        self.pos = offset;
    }

    /// Reads a number and returns its exact source text.
    #[inline]
    pub fn number(&mut self) -> PResult<&'a str> {
        self.skip_ws();
        let b = self.src.as_bytes();
        let start = self.pos;
        let mut i = start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                i += 1;
                while matches!(b.get(i), Some(b'0'..=b'9')) {
                    i += 1;
                }
            }
            _ => {
                self.pos = i;
                return self.err("expected a digit");
            }
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if !matches!(b.get(i), Some(b'0'..=b'9')) {
                self.pos = i;
                return self.err("expected a digit after '.'");
            }
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !matches!(b.get(i), Some(b'0'..=b'9')) {
                self.pos = i;
                return self.err("expected a digit in the exponent");
            }
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
        }
        self.pos = i;
        Ok(&self.src[start..i])
    }

    /// Reads `true` or `false`.
    #[inline]
    pub fn boolean(&mut self) -> PResult<bool> {
        self.skip_ws();
        let rest = &self.src.as_bytes()[self.pos..];
        if rest.starts_with(b"true") {
            self.pos += 4;
            Ok(true)
        } else if rest.starts_with(b"false") {
            self.pos += 5;
            Ok(false)
        } else {
            self.err("expected true or false")
        }
    }

    /// Reads `null`.
    #[inline]
    pub fn null(&mut self) -> PResult<()> {
        self.skip_ws();
        if self.src.as_bytes()[self.pos..].starts_with(b"null") {
            self.pos += 4;
            Ok(())
        } else {
            self.err("expected null")
        }
    }

    /// Skips one complete value, checking its syntax, and returns its source text.
    pub fn skip_value(&mut self) -> PResult<&'a str> {
        self.skip_ws();
        let start = self.pos;
        // Iterative, with an explicit stack of open containers, so depth is bounded by MAX_DEPTH.
        let mut stack: Vec<(bool, bool)> = Vec::new(); // (is_object, first)
        loop {
            // Parse one value (or open a container).
            match self.peek() {
                Kind::Object => {
                    if stack.len() >= MAX_DEPTH {
                        return self.err("nesting too deep");
                    }
                    self.pos += 1;
                    stack.push((true, true));
                }
                Kind::Array => {
                    if stack.len() >= MAX_DEPTH {
                        return self.err("nesting too deep");
                    }
                    self.pos += 1;
                    stack.push((false, true));
                }
                Kind::String => {
                    self.string()?;
                }
                Kind::Number => {
                    self.number()?;
                }
                Kind::Bool => {
                    self.boolean()?;
                }
                Kind::Null => self.null()?,
                Kind::End => return self.err("unexpected end of input"),
                Kind::Invalid => return self.err("expected a value"),
            }
            // Close containers / advance to the next item.
            loop {
                let Some(top) = stack.last_mut() else {
                    return Ok(&self.src[start..self.pos]);
                };
                let (is_object, first) = top;
                if *is_object {
                    if self.object_next(first)?.is_some() {
                        break;
                    }
                } else if self.array_next(first)? {
                    break;
                }
                stack.pop();
            }
        }
    }
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// The offset of the first byte at or after `i` that ends a plain run of string content (a `"`,
/// a `\\` or a control character), or `b.len()`. Eight bytes at a time: in each of the three
/// zero-byte tests below the lowest flagged byte is always a true match, so the position is exact.
#[inline(always)]
fn find_special(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let mut a = [0u8; 8];
        a.copy_from_slice(chunk);
        let v = u64::from_le_bytes(a);
        let quote = v ^ (LO * u64::from(b'"'));
        let backslash = v ^ (LO * u64::from(b'\\'));
        let special = ((quote.wrapping_sub(LO) & !quote)
            | (backslash.wrapping_sub(LO) & !backslash)
            | (v.wrapping_sub(LO * 0x20) & !v))
            & HI;
        if special != 0 {
            return i + (special.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            return i;
        }
        i += 1;
    }
    i
}

/// A JSON writer appending to a `String`.
#[derive(Debug, Default, Clone)]
pub struct JsonWriter {
    buf: String,
}

impl JsonWriter {
    /// An empty writer.
    pub fn new() -> Self {
        JsonWriter { buf: String::new() }
    }

    /// An empty writer with room for `n` bytes.
    pub fn with_capacity(n: usize) -> Self {
        JsonWriter {
            buf: String::with_capacity(n),
        }
    }

    /// A writer appending to `buf`.
    pub fn from_string(buf: String) -> Self {
        JsonWriter { buf }
    }

    /// The text written so far.
    pub fn as_str(&self) -> &str {
        &self.buf
    }

    /// The text written.
    pub fn into_string(self) -> String {
        self.buf
    }

    /// Appends raw JSON text (which must be valid JSON in that position).
    #[inline]
    pub fn raw(&mut self, s: &str) {
        self.buf.push_str(s);
    }

    /// Appends one raw character.
    #[inline]
    pub fn push(&mut self, c: char) {
        self.buf.push(c);
    }

    /// Writes `,` unless this is the first member, then `"name":`. `name` must need no escaping.
    #[inline]
    pub fn member(&mut self, first: &mut bool, name: &str) {
        if !std::mem::take(first) {
            self.buf.push(',');
        }
        self.buf.push('"');
        self.buf.push_str(name);
        self.buf.push_str("\":");
    }

    /// Writes `,` unless this is the first array item.
    #[inline]
    pub fn item(&mut self, first: &mut bool) {
        if !std::mem::take(first) {
            self.buf.push(',');
        }
    }

    /// Writes a string literal, escaping as needed.
    #[inline]
    pub fn string(&mut self, s: &str) {
        self.buf.push('"');
        let bytes = s.as_bytes();
        let mut start = 0;
        for (i, &c) in bytes.iter().enumerate() {
            let esc: &str = match c {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0x08 => "\\b",
                0x0c => "\\f",
                c if c < 0x20 => {
                    self.buf.push_str(&s[start..i]);
                    let _ = write!(self.buf, "\\u{:04x}", c);
                    start = i + 1;
                    continue;
                }
                _ => continue,
            };
            self.buf.push_str(&s[start..i]);
            self.buf.push_str(esc);
            start = i + 1;
        }
        self.buf.push_str(&s[start..]);
        self.buf.push('"');
    }

    /// Writes an integer.
    #[inline]
    pub fn integer(&mut self, v: i64) {
        let _ = write!(self.buf, "{v}");
    }

    /// Writes a boolean.
    #[inline]
    pub fn boolean(&mut self, v: bool) {
        self.buf.push_str(if v { "true" } else { "false" });
    }

    /// Writes a date-time string, exactly as it was read.
    #[inline]
    pub fn date_time(&mut self, v: &crate::DateTime) {
        self.buf.push('"');
        let _ = v.write_to(&mut self.buf);
        self.buf.push('"');
    }

    /// Writes an exact decimal.
    #[inline]
    pub fn decimal(&mut self, v: &rust_decimal::Decimal) {
        let _ = write!(self.buf, "{v}");
    }
}

/// Checks that `s` is exactly one JSON value (with optional surrounding white space).
pub fn validate(s: &str) -> Result<(), SyntaxError> {
    let mut p = Parser::new(s);
    p.skip_value()?;
    p.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_borrow_unless_escaped() {
        let mut p = Parser::new(r#""abc" "a\"b\u00e9\ud83d\ude00\n""#);
        assert!(matches!(p.string().unwrap(), Cow::Borrowed("abc")));
        let s = p.string().unwrap();
        assert!(matches!(s, Cow::Owned(_)));
        assert_eq!(s, "a\"bé😀\n");
        p.finish().unwrap();
    }

    #[test]
    fn rejects_bad_strings() {
        for bad in [
            r#""abc"#,
            "\"a\u{1}\"",
            r#""\x""#,
            r#""\ud800""#,
            r#""\udc00""#,
            r#""\u12""#,
        ] {
            assert!(Parser::new(bad).string().is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers_keep_source_text() {
        for ok in [
            "0",
            "-0",
            "12.50",
            "1e3",
            "-1.5E-7",
            "123456789012345678901234567890",
        ] {
            assert_eq!(Parser::new(ok).number().unwrap(), ok);
        }
        for bad in ["01", "-", "1.", ".5", "1e", "+1"] {
            let mut p = Parser::new(bad);
            assert!(p.number().is_err() || p.finish().is_err(), "{bad}");
        }
    }

    #[test]
    fn skip_value_checks_syntax_and_depth() {
        assert_eq!(validate(r#" {"a":[1,2,{"b":null}],"c":true} "#), Ok(()));
        for bad in [
            "{",
            "[1,]",
            "{\"a\" 1}",
            "{\"a\":1,}",
            "[1 2]",
            "",
            "nul",
            "{}x",
            "{1:2}",
        ] {
            assert!(validate(bad).is_err(), "{bad:?}");
        }
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(validate(&deep).is_err());
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(validate(&ok).is_ok());
    }

    fn find_special_naive(b: &[u8], i: usize) -> usize {
        (i..b.len())
            .find(|&j| b[j] == b'"' || b[j] == b'\\' || b[j] < 0x20)
            .unwrap_or(b.len())
    }

    proptest::proptest! {
        #[test]
        fn find_special_matches_the_naive_scan(
            s in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
            start in 0usize..64,
        ) {
            let start = start.min(s.len());
            proptest::prop_assert_eq!(find_special(&s, start), find_special_naive(&s, start));
        }

        #[test]
        fn strings_read_back_what_was_written(s in "\\PC{0,40}") {
            let mut w = JsonWriter::new();
            w.string(&s);
            let mut p = Parser::new(w.as_str());
            proptest::prop_assert_eq!(p.string().unwrap(), s.as_str());
            proptest::prop_assert!(p.finish().is_ok());
        }
    }

    #[test]
    fn object_names_fast_and_slow_paths_agree() {
        for text in [r#"{"ab":1,"c\u0064":2 , "e" :3}"#, r#"{ "x\"y" : 4 }"#] {
            let mut p = Parser::new(text);
            p.object_begin().unwrap();
            let mut first = true;
            let mut keys = Vec::new();
            while let Some(k) = p.object_next(&mut first).unwrap() {
                keys.push(k.into_owned());
                p.number().unwrap();
            }
            p.finish().unwrap();
            assert!(keys == ["ab", "cd", "e"] || keys == ["x\"y"], "{keys:?}");
        }
    }

    #[test]
    fn writer_escapes() {
        let mut w = JsonWriter::new();
        w.string("a\"b\\c\n\u{1}é");
        assert_eq!(w.as_str(), r#""a\"b\\c\n\u0001é""#);
        let v: String = serde_json::from_str(w.as_str()).unwrap();
        assert_eq!(v, "a\"b\\c\n\u{1}é");
    }
}
