//! Lossless date-times: the instant, plus exactly how the peer wrote it.

use std::fmt;
use std::str::FromStr;

use chrono::{FixedOffset, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};

/// How a date-time was spelled, so it can be written back byte for byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
struct Style {
    /// Number of fraction-of-second digits written (0 = none).
    frac: u8,
    /// Separator between date and time: `T`, `t` or a space (lenient).
    sep: u8,
    /// How the offset was written.
    offset: OffsetStyle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
enum OffsetStyle {
    /// `Z`
    #[default]
    Zulu,
    /// `z` (lenient)
    ZuluLower,
    /// `+hh:mm` / `-hh:mm`
    Numeric,
    /// `-00:00` (RFC 3339: the local offset is unknown)
    MinusZero,
    /// No offset at all (lenient; read as UTC).
    Missing,
}

/// A date-time as OCPP carries it: an RFC 3339 timestamp that keeps the peer's offset and
/// fraction-of-second precision, and writes back exactly what it read.
///
/// Equality compares the instant, the offset and the spelling; use [`DateTime::instant`] to compare
/// instants only.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime {
    value: chrono::DateTime<FixedOffset>,
    style: Style,
}

/// Why a date-time could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DateTimeError {
    /// The text is not an RFC 3339 date-time.
    #[error("not an RFC 3339 date-time (expected YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm))")]
    Syntax,
    /// A field is out of range (month 13, hour 24, offset beyond 23:59, ...).
    #[error("date-time field out of range")]
    Range,
    /// The offset is missing and strict parsing was requested.
    #[error("date-time without a UTC offset")]
    MissingOffset,
}

/// Whether a lenient parse had to bend a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    /// The text is a strict RFC 3339 date-time.
    Strict,
    /// The text was accepted only by the lenient rules (no offset, a space or lower-case separator).
    Lenient,
}

impl DateTime {
    /// Parses a strict RFC 3339 date-time.
    pub fn parse(s: &str) -> Result<Self, DateTimeError> {
        match Self::parse_lenient(s)? {
            (dt, Parsed::Strict) => Ok(dt),
            (dt, Parsed::Lenient) if dt.style.offset == OffsetStyle::Missing => {
                Err(DateTimeError::MissingOffset)
            }
            _ => Err(DateTimeError::Syntax),
        }
    }

    /// Parses a date-time, also accepting what real chargers send: no offset (read as UTC), a space
    /// or a lower-case `t` between date and time, a lower-case `z`. Says whether leniency was needed.
    pub fn parse_lenient(s: &str) -> Result<(Self, Parsed), DateTimeError> {
        let b = s.as_bytes();
        if b.len() < 19 {
            return Err(DateTimeError::Syntax);
        }
        let num = |i: usize, n: usize| -> Result<u32, DateTimeError> {
            let mut v = 0u32;
            for &c in &b[i..i + n] {
                if !c.is_ascii_digit() {
                    return Err(DateTimeError::Syntax);
                }
                v = v * 10 + u32::from(c - b'0');
            }
            Ok(v)
        };
        if b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
            return Err(DateTimeError::Syntax);
        }
        let year = num(0, 4)?;
        let month = num(5, 2)?;
        let day = num(8, 2)?;
        let sep = b[10];
        let mut lenient = false;
        match sep {
            b'T' => {}
            b't' | b' ' => lenient = true,
            _ => return Err(DateTimeError::Syntax),
        }
        let hour = num(11, 2)?;
        let minute = num(14, 2)?;
        let second = num(17, 2)?;
        let mut i = 19;
        let mut nanos = 0u32;
        let mut frac = 0u8;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                if i - start < 9 {
                    nanos = nanos * 10 + u32::from(b[i] - b'0');
                }
                i += 1;
            }
            let digits = i - start;
            if digits == 0 || digits > 9 {
                // More than nanosecond precision cannot be kept exactly.
                return Err(DateTimeError::Syntax);
            }
            frac = digits as u8;
            nanos *= 10u32.pow(9 - digits as u32);
        }
        let (offset_secs, offset) = match b.get(i) {
            Some(b'Z') => {
                i += 1;
                (0, OffsetStyle::Zulu)
            }
            Some(b'z') => {
                i += 1;
                lenient = true;
                (0, OffsetStyle::ZuluLower)
            }
            Some(&c @ (b'+' | b'-')) => {
                if b.len() < i + 6 || b[i + 3] != b':' {
                    return Err(DateTimeError::Syntax);
                }
                let oh = num(i + 1, 2)?;
                let om = num(i + 4, 2)?;
                if oh > 23 || om > 59 {
                    return Err(DateTimeError::Range);
                }
                i += 6;
                let secs = (oh * 3600 + om * 60) as i32;
                let style = if c == b'-' && secs == 0 {
                    OffsetStyle::MinusZero
                } else {
                    OffsetStyle::Numeric
                };
                (if c == b'-' { -secs } else { secs }, style)
            }
            None => {
                lenient = true;
                (0, OffsetStyle::Missing)
            }
            Some(_) => return Err(DateTimeError::Syntax),
        };
        if i != b.len() {
            return Err(DateTimeError::Syntax);
        }
        let date = NaiveDate::from_ymd_opt(year as i32, month, day).ok_or(DateTimeError::Range)?;
        let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)
            .ok_or(DateTimeError::Range)?;
        let tz = FixedOffset::east_opt(offset_secs).ok_or(DateTimeError::Range)?;
        let value = tz
            .from_local_datetime(&date.and_time(time))
            .single()
            .ok_or(DateTimeError::Range)?;
        let dt = DateTime {
            value,
            style: Style { frac, sep, offset },
        };
        Ok((
            dt,
            if lenient {
                Parsed::Lenient
            } else {
                Parsed::Strict
            },
        ))
    }

    /// The instant with the peer's offset.
    pub fn instant(&self) -> chrono::DateTime<FixedOffset> {
        self.value
    }

    /// The instant in UTC.
    pub fn to_utc(&self) -> chrono::DateTime<Utc> {
        self.value.with_timezone(&Utc)
    }

    /// Number of fraction-of-second digits the peer wrote (0 to 9).
    pub fn precision(&self) -> u8 {
        self.style.frac
    }

    /// Whether the peer omitted the UTC offset (only possible through lenient parsing).
    pub fn offset_missing(&self) -> bool {
        self.style.offset == OffsetStyle::Missing
    }

    /// Whether the value is written as strict RFC 3339 (what [`DateTime::parse`] accepts): a `T`
    /// separator and a `Z` or numeric offset. Only lenient parsing makes values that are not.
    pub fn is_strict(&self) -> bool {
        self.style.sep == b'T'
            && matches!(
                self.style.offset,
                OffsetStyle::Zulu | OffsetStyle::Numeric | OffsetStyle::MinusZero
            )
    }

    /// The current time in UTC, written with millisecond precision.
    pub fn now() -> Self {
        let now = Utc::now();
        let millis = now.timestamp_subsec_millis();
        let now = now.with_nanosecond(millis * 1_000_000).unwrap_or(now);
        DateTime::from_utc_with_precision(now, 3)
    }

    /// A UTC instant written with `digits` fraction-of-second digits (0 to 9; the instant is
    /// truncated to that precision).
    pub fn from_utc_with_precision(t: chrono::DateTime<Utc>, digits: u8) -> Self {
        let digits = digits.min(9);
        let unit = 10u32.pow(9 - u32::from(digits));
        let nanos = t.timestamp_subsec_nanos() % 1_000_000_000;
        let t = t.with_nanosecond(nanos - nanos % unit).unwrap_or(t);
        DateTime {
            value: t.fixed_offset(),
            style: Style {
                frac: digits,
                sep: b'T',
                offset: OffsetStyle::Zulu,
            },
        }
    }

    /// Writes the date-time exactly as it was read (or, for constructed values, in RFC 3339).
    pub fn write_to(&self, out: &mut impl fmt::Write) -> fmt::Result {
        use chrono::{Datelike, Timelike};
        let v = &self.value;
        write!(
            out,
            "{:04}-{:02}-{:02}{}{:02}:{:02}:{:02}",
            v.year(),
            v.month(),
            v.day(),
            self.style.sep as char,
            v.hour(),
            v.minute(),
            v.second()
        )?;
        if self.style.frac > 0 {
            let nanos = v.nanosecond() % 1_000_000_000;
            let digits = u32::from(self.style.frac);
            write!(
                out,
                ".{:0width$}",
                nanos / 10u32.pow(9 - digits),
                width = digits as usize
            )?;
        }
        match self.style.offset {
            OffsetStyle::Zulu => out.write_char('Z'),
            OffsetStyle::ZuluLower => out.write_char('z'),
            OffsetStyle::Missing => Ok(()),
            OffsetStyle::MinusZero => out.write_str("-00:00"),
            OffsetStyle::Numeric => {
                let secs = v.offset().local_minus_utc();
                let sign = if secs < 0 { '-' } else { '+' };
                let secs = secs.unsigned_abs();
                write!(out, "{sign}{:02}:{:02}", secs / 3600, (secs / 60) % 60)
            }
        }
    }
}

impl From<chrono::DateTime<Utc>> for DateTime {
    /// Uses the shortest of 0, 3, 6 or 9 fraction digits that keeps the instant exact.
    fn from(t: chrono::DateTime<Utc>) -> Self {
        let n = t.timestamp_subsec_nanos() % 1_000_000_000;
        let digits = if n == 0 {
            0
        } else if n % 1_000_000 == 0 {
            3
        } else if n % 1_000 == 0 {
            6
        } else {
            9
        };
        DateTime::from_utc_with_precision(t, digits)
    }
}

impl From<chrono::DateTime<FixedOffset>> for DateTime {
    /// Keeps the offset (written `Z` when it is zero).
    fn from(t: chrono::DateTime<FixedOffset>) -> Self {
        let mut dt = DateTime::from(t.with_timezone(&Utc));
        dt.value = t;
        if t.offset().local_minus_utc() != 0 {
            dt.style.offset = OffsetStyle::Numeric;
        }
        dt
    }
}

impl FromStr for DateTime {
    type Err = DateTimeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DateTime::parse(s)
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

impl fmt::Debug for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DateTime({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_exactly() {
        for s in [
            "2024-02-29T23:59:59Z",
            "2024-02-29T23:59:59.1Z",
            "2024-02-29T23:59:59.120Z",
            "2024-02-29T23:59:59.123456789+05:30",
            "1999-12-31T00:00:00-00:00",
            "2030-01-01T12:00:00.000001-11:45",
        ] {
            let dt: DateTime = s.parse().unwrap();
            assert_eq!(dt.to_string(), s);
            assert!(dt.is_strict());
        }
    }

    #[test]
    fn keeps_offset_and_instant() {
        let dt: DateTime = "2024-01-01T10:00:00+02:00".parse().unwrap();
        assert_eq!(dt.to_utc().to_rfc3339(), "2024-01-01T08:00:00+00:00");
        assert_eq!(dt.instant().offset().local_minus_utc(), 7200);
    }

    #[test]
    fn strict_rejects_and_lenient_accepts() {
        for s in [
            "2024-01-01T10:00:00",
            "2024-01-01 10:00:00Z",
            "2024-01-01t10:00:00z",
        ] {
            assert!(DateTime::parse(s).is_err(), "{s}");
            let (dt, how) = DateTime::parse_lenient(s).unwrap();
            assert_eq!(how, Parsed::Lenient);
            assert!(!dt.is_strict());
            assert_eq!(dt.to_string(), s, "lenient values write back as read");
        }
        assert!(
            DateTime::parse("2024-01-01T10:00:00").unwrap_err() == DateTimeError::MissingOffset
        );
    }

    #[test]
    fn rejects_garbage_and_ranges() {
        for s in [
            "",
            "2024-13-01T00:00:00Z",
            "2024-02-30T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:00+24:00",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00ZZ",
            "2024-01-01T00:00:00+0100",
            "2024-01-01T00:00:00.1234567890Z",
            "abcd-01-01T00:00:00Z",
        ] {
            assert!(DateTime::parse_lenient(s).is_err(), "{s}");
        }
    }

    #[test]
    fn constructed_values_use_shortest_exact_precision() {
        let t = chrono::DateTime::parse_from_rfc3339("2024-05-01T00:00:00.250Z")
            .unwrap()
            .to_utc();
        assert_eq!(DateTime::from(t).to_string(), "2024-05-01T00:00:00.250Z");
        let t = chrono::DateTime::parse_from_rfc3339("2024-05-01T00:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(DateTime::from(t).to_string(), "2024-05-01T00:00:00Z");
    }
}

impl serde::Serialize for DateTime {
    /// Serializes as the text read (or, for constructed values, RFC 3339).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for DateTime {
    /// Deserializes a strict RFC 3339 date-time; the lenient forms (no offset, a space or a
    /// lower-case separator) are accepted too, since stored values may have been received
    /// leniently.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        DateTime::parse_lenient(&s)
            .map(|(dt, _)| dt)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod serde_tests {
    use super::DateTime;

    #[test]
    fn serde_keeps_the_text() {
        for s in [
            "\"2024-01-01T10:00:00.10+02:00\"",
            "\"2024-01-01 10:00:00\"",
        ] {
            let dt: DateTime = serde_json::from_str(s).unwrap();
            assert_eq!(serde_json::to_string(&dt).unwrap(), s);
        }
        assert!(serde_json::from_str::<DateTime>("\"yesterday\"").is_err());
    }
}
