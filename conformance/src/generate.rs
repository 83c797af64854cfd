//! Valid payloads from a schema [`Node`]: proptest strategies ([`strategy`]) and deterministic
//! edge-value examples ([`example`]).
//!
//! Numbers are built from an integer mantissa and a decimal scale and turned into a
//! [`serde_json::Value`] by parsing their decimal text, so the `f64` that `serde_json` keeps is the
//! one it will also read back from the re-encoded text: the comparison of input and output as
//! `Value`s is exact, never a floating-point accident.

use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use serde_json::{Map, Value};

use crate::schema::{Node, StrFormat};

/// The name of the extra member put into open objects (2.x `customData`).
pub const VENDOR_MEMBER: &str = "vendorExtension";

/// Items generated for an array without `maxItems`, beyond its `minItems`.
const UNBOUNDED_EXTRA_ITEMS: usize = 3;
/// Largest mantissa magnitude for numbers without bounds.
const NUMBER_SPAN: i64 = 1_000_000_000_000;
/// Decimal places for numbers without `multipleOf`.
const DEFAULT_SCALE: u32 = 6;

/// Characters strings are made of: ASCII, JSON escapes, control characters, two- and three-byte
/// UTF-8, and a character outside the Basic Multilingual Plane (a surrogate pair in `\u` form).
pub const CHARS: &[char] = &[
    'a', 'Z', '0', '9', ' ', '-', '_', '.', ':', '"', '\\', '/', '\u{1}', '\n', '\t', '\u{7f}',
    'é', 'ß', '€', '中', '\u{fffd}', '😀',
];

/// The text of the decimal `mantissa * 10^-scale`, written with exactly `scale` decimals.
pub fn decimal_text(mantissa: i64, scale: u32) -> String {
    if scale == 0 {
        return mantissa.to_string();
    }
    let digits = mantissa.unsigned_abs().to_string();
    let digits = format!("{digits:0>width$}", width = scale as usize + 1);
    let (int, frac) = digits.split_at(digits.len() - scale as usize);
    format!("{}{int}.{frac}", if mantissa < 0 { "-" } else { "" })
}

/// `mantissa * 10^-scale` as the `Value` `serde_json` reads from its text.
pub fn decimal_value(mantissa: i64, scale: u32) -> Value {
    serde_json::from_str(&decimal_text(mantissa, scale)).expect("decimal text is JSON")
}

/// The largest scale a number node accepts (its `multipleOf`, or the default).
pub fn number_scale(multiple_of_scale: Option<u32>) -> u32 {
    multiple_of_scale.unwrap_or(DEFAULT_SCALE)
}

/// The mantissa range of a number node at `scale`.
pub fn mantissa_range(min: Option<i64>, max: Option<i64>, scale: u32) -> (i64, i64) {
    let f = 10i64.pow(scale);
    let lo = min.map_or(-NUMBER_SPAN, |m| m.saturating_mul(f));
    let hi = max.map_or(NUMBER_SPAN, |m| m.saturating_mul(f));
    (lo, hi)
}

/// A string of exactly `len` characters cycling through `seed`.
pub fn cycled(seed: &[char], len: usize) -> String {
    seed.iter().cycle().take(len).collect()
}

fn date_time_text(parts: (i32, u32, u32, u32, u32, u32), frac: &str, offset: &str) -> String {
    let (y, mo, d, h, mi, s) = parts;
    let frac = if frac.is_empty() {
        String::new()
    } else {
        format!(".{frac}")
    };
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}{offset}")
}

fn date_time_strategy() -> BoxedStrategy<Value> {
    let date = (
        1970i32..=2099,
        1u32..=12,
        1u32..=28,
        0u32..=23,
        0u32..=59,
        0u32..=59,
    );
    let frac = (0usize..=9, any::<u64>()).prop_map(|(n, x)| {
        let digits = format!("{:018}", x % 1_000_000_000_000_000_000);
        digits[..n].to_string()
    });
    let offset = prop_oneof![
        2 => Just("Z".to_string()),
        3 => (any::<bool>(), 0u32..=23, 0u32..=59)
            .prop_map(|(neg, h, m)| format!("{}{h:02}:{m:02}", if neg { '-' } else { '+' })),
    ];
    (date, frac, offset)
        .prop_map(|(d, f, o)| Value::String(date_time_text(d, &f, &o)))
        .boxed()
}

/// Sample date-times used by the deterministic examples: every fraction width, `Z` and offsets.
pub const DATE_TIMES: &[&str] = &[
    "2024-03-01T08:30:00Z",
    "2024-02-29T23:59:59.123456789+05:45",
    "1999-12-31T23:59:59.1-08:00",
    "2030-01-01T00:00:00.000Z",
    "2024-06-15T12:00:00.50+00:00",
    "2024-10-27T02:30:00.123-00:30",
];

fn uri_text(body: &str, max: Option<usize>) -> String {
    let full = format!("https://example.com/{body}");
    match max {
        Some(m) if full.chars().count() > m => {
            let mut s = String::from("urn:");
            s.push_str(&cycled(&['a', 'b', '1'], m.saturating_sub(4)));
            s.chars().take(m.max(3)).collect()
        }
        _ => full,
    }
}

fn any_value(i: usize) -> Value {
    let samples = [
        serde_json::json!({"k": [1, "x", null, true, 2.5], "nested": {"a": {}}}),
        serde_json::json!("text with \"quotes\" and é"),
        serde_json::json!(42),
        Value::Null,
        serde_json::json!(true),
        serde_json::json!([]),
        serde_json::json!(-0.125),
    ];
    samples[i % samples.len()].clone()
}

/// A proptest strategy for valid values of `node`, biased towards the edges: strings of exactly
/// `maxLength` or empty, every enum value, arrays empty or full, optional members present or
/// absent, bounds of integer and number ranges, every date-time fraction width and offsets.
pub fn strategy(node: &Node) -> BoxedStrategy<Value> {
    match node {
        Node::Object { props, closed } => {
            let members: Vec<BoxedStrategy<Option<(String, Value)>>> = props
                .iter()
                .map(|p| {
                    let name = p.name.clone();
                    let s = strategy(&p.node).prop_map(move |v| (name.clone(), v));
                    if p.required {
                        s.prop_map(Some).boxed()
                    } else {
                        proptest::option::of(s).boxed()
                    }
                })
                .collect();
            let extra: BoxedStrategy<Option<Value>> = if *closed {
                Just(None).boxed()
            } else {
                proptest::option::of((0usize..7).prop_map(any_value)).boxed()
            };
            (members, extra)
                .prop_map(|(members, extra)| {
                    let mut m: Map<String, Value> = members.into_iter().flatten().collect();
                    if let Some(x) = extra {
                        m.insert(VENDOR_MEMBER.to_string(), x);
                    }
                    Value::Object(m)
                })
                .boxed()
        }
        Node::String {
            max_len,
            format: StrFormat::Plain,
        } => {
            let max = max_len.unwrap_or(40);
            let len = prop_oneof![2 => Just(max), 1 => Just(0), 4 => 0..=max.min(24)];
            let seed = proptest::collection::vec(proptest::sample::select(CHARS), 1..=8);
            (len, seed)
                .prop_map(|(len, seed)| Value::String(cycled(&seed, len)))
                .boxed()
        }
        Node::String {
            format: StrFormat::DateTime,
            ..
        } => date_time_strategy(),
        Node::String {
            max_len,
            format: StrFormat::Uri,
        } => {
            let max = *max_len;
            "[a-z0-9]{0,16}"
                .prop_map(move |body| Value::String(uri_text(&body, max)))
                .boxed()
        }
        Node::Enum { values } => proptest::sample::select(values.clone())
            .prop_map(Value::String)
            .boxed(),
        Node::Integer { min, max } => {
            let lo = min.unwrap_or(i64::MIN);
            let hi = max.unwrap_or(i64::MAX);
            let near = (lo.max(-1000), hi.min(1000));
            let near = if near.0 <= near.1 { near } else { (lo, hi) };
            prop_oneof![
                1 => Just(lo),
                1 => Just(hi),
                4 => near.0..=near.1,
                2 => lo..=hi,
            ]
            .prop_map(Value::from)
            .boxed()
        }
        Node::Number {
            min,
            max,
            multiple_of_scale,
        } => {
            let top = number_scale(*multiple_of_scale);
            let (min, max) = (*min, *max);
            (0..=top)
                .prop_flat_map(move |scale| {
                    let (lo, hi) = mantissa_range(min, max, scale);
                    (
                        Just(scale),
                        prop_oneof![1 => Just(lo), 1 => Just(hi), 5 => lo..=hi],
                    )
                })
                .prop_map(|(scale, m)| decimal_value(m, scale))
                .boxed()
        }
        Node::Boolean => any::<bool>().prop_map(Value::Bool).boxed(),
        Node::Array { item, min, max } => {
            let hi = max
                .unwrap_or(min + UNBOUNDED_EXTRA_ITEMS)
                .min(min + UNBOUNDED_EXTRA_ITEMS + 2);
            let item = strategy(item);
            let sizes = match max {
                Some(m) if *m <= 8 => prop_oneof![1 => Just(*m), 3 => *min..=hi].boxed(),
                _ => (*min..=hi).boxed(),
            };
            sizes
                .prop_flat_map(move |n| proptest::collection::vec(item.clone(), n))
                .prop_map(Value::Array)
                .boxed()
        }
        Node::Any => (0usize..7).prop_map(any_value).boxed(),
    }
}

/// Which deterministic example to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    /// Rotates through enum values (value `index % len`), string lengths (max, 1, 0), integer and
    /// number edges (max, min, middle), date-time samples and booleans.
    pub index: usize,
    /// `true`: every optional member present, arrays with `min(max, 2)` items (at least one), open
    /// objects with an extra member. `false`: only required members, arrays with `minItems` items.
    pub full: bool,
    /// Keep the payload small (the codec is slow in debug builds): strings of at most 3
    /// characters and arrays of at most `max(minItems, 1)` items.
    pub compact: bool,
}

impl Variant {
    /// Every optional member present, edge-length strings.
    pub const fn full(index: usize) -> Self {
        Variant {
            index,
            full: true,
            compact: false,
        }
    }

    /// Every optional member present, short strings and arrays.
    pub const fn compact(index: usize) -> Self {
        Variant {
            index,
            full: true,
            compact: true,
        }
    }

    /// Only the required members.
    pub const fn minimal(index: usize) -> Self {
        Variant {
            index,
            full: false,
            compact: false,
        }
    }
}

/// A deterministic valid value of `node`; see [`Variant`].
pub fn example(node: &Node, v: Variant) -> Value {
    let i = v.index;
    match node {
        Node::Object { props, closed } => {
            let mut m = Map::new();
            for (k, p) in props.iter().enumerate() {
                if p.required || v.full {
                    m.insert(
                        p.name.clone(),
                        example(&p.node, Variant { index: i + k, ..v }),
                    );
                }
            }
            if v.full && !closed {
                m.insert(VENDOR_MEMBER.into(), any_value(i));
            }
            Value::Object(m)
        }
        Node::String {
            max_len,
            format: StrFormat::Plain,
        } => {
            let max = max_len.unwrap_or(24);
            let len = [max, 1.min(max), 0][i % 3];
            let len = if v.compact { len.min(3) } else { len };
            let seed: Vec<char> = CHARS
                .iter()
                .cycle()
                .skip(i)
                .take(CHARS.len())
                .copied()
                .collect();
            Value::String(cycled(&seed, len))
        }
        Node::String {
            format: StrFormat::DateTime,
            ..
        } => Value::String(DATE_TIMES[i % DATE_TIMES.len()].into()),
        Node::String {
            max_len,
            format: StrFormat::Uri,
        } => Value::String(uri_text(&format!("p{i}"), *max_len)),
        Node::Enum { values } => Value::String(values[i % values.len()].clone()),
        Node::Integer { min, max } => {
            let lo = min.unwrap_or(i64::MIN);
            let hi = max.unwrap_or(i64::MAX);
            let mid = 7i64.clamp(lo, hi);
            Value::from([hi, lo, mid][i % 3])
        }
        Node::Number {
            min,
            max,
            multiple_of_scale,
        } => {
            let scale = number_scale(*multiple_of_scale).min(3);
            let (lo, hi) = mantissa_range(*min, *max, scale);
            let mid = 12_345i64.clamp(lo, hi);
            let (m, s) = [
                (hi, scale),
                (lo, scale),
                (mid, scale),
                (hi / 10i64.pow(scale), 0),
            ][i % 4];
            decimal_value(m, s)
        }
        Node::Boolean => Value::Bool(i % 2 == 0),
        Node::Array { item, min, max } => {
            let n = match (v.full, v.compact) {
                (true, false) => 2.max(*min).min(max.unwrap_or(usize::MAX)),
                (true, true) => 1.max(*min).min(max.unwrap_or(usize::MAX)),
                (false, _) => *min,
            };
            Value::Array(
                (0..n)
                    .map(|k| example(item, Variant { index: i + k, ..v }))
                    .collect(),
            )
        }
        Node::Any => any_value(i),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_texts() {
        assert_eq!(decimal_text(0, 0), "0");
        assert_eq!(decimal_text(-5, 2), "-0.05");
        assert_eq!(decimal_text(12345, 3), "12.345");
        assert_eq!(decimal_text(-100, 1), "-10.0");
        assert_eq!(decimal_value(15, 1), serde_json::json!(1.5));
    }

    #[test]
    fn uri_fits_its_max_length() {
        assert_eq!(uri_text("abc", None), "https://example.com/abc");
        assert_eq!(uri_text("abc", Some(10)).chars().count(), 10);
    }
}
