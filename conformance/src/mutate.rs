//! Invalid payloads made from a valid one by a single fault, each with the exact error code (per
//! version, spelled independently of `ocpp_types`) and JSON pointer a strict decoder must report.

use serde_json::{Map, Value};

use crate::generate::{decimal_value, mantissa_range, number_scale};
use crate::schema::{Node, StrFormat};
use ocpp_types::OcppVersion;

/// The kinds of fault, as in the table of DESIGN.md "Validation and error codes".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// The action is unknown to the version.
    UnknownAction,
    /// The action is known, but not sent to this receiver.
    WrongDirection,
    /// The payload is not a JSON object.
    NotAnObject,
    /// The payload is not valid JSON.
    InvalidJson,
    /// A member the (closed) object does not define, in strict mode.
    UnknownMember,
    /// A required member is absent.
    MissingRequired,
    /// An array has fewer items than `minItems`.
    TooFewItems,
    /// An array has more items than `maxItems`.
    TooManyItems,
    /// A member has the wrong JSON type.
    WrongType,
    /// A string that is not one of the enum's values.
    BadEnumValue,
    /// A string longer than `maxLength`.
    TooLong,
    /// A number below `minimum` or above `maximum`, or not a multiple of `multipleOf`.
    OutOfRange,
    /// A `date-time` or `uri` string that does not have the format.
    BadFormat,
}

impl Fault {
    /// The error code the version must answer the fault with, spelled as on the wire. Written out
    /// here from the specifications rather than taken from `ocpp_types::ErrorCode::wire`, so that
    /// a wrong spelling there is caught.
    pub fn expected_wire(self, version: OcppVersion) -> &'static str {
        let v16 = version == OcppVersion::V16;
        match self {
            Fault::UnknownAction => "NotImplemented",
            Fault::WrongDirection => "NotSupported",
            Fault::NotAnObject | Fault::InvalidJson | Fault::UnknownMember => {
                if v16 {
                    "FormationViolation"
                } else {
                    "FormatViolation"
                }
            }
            Fault::MissingRequired | Fault::TooFewItems | Fault::TooManyItems => {
                if v16 {
                    "OccurenceConstraintViolation"
                } else {
                    "OccurrenceConstraintViolation"
                }
            }
            Fault::WrongType => "TypeConstraintViolation",
            Fault::BadEnumValue | Fault::TooLong | Fault::OutOfRange | Fault::BadFormat => {
                "PropertyConstraintViolation"
            }
        }
    }
}

/// One invalid payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Mutation {
    /// The fault introduced.
    pub fault: Fault,
    /// What was changed, for failure messages.
    pub what: String,
    /// The JSON pointer the decoder must report.
    pub path: String,
    /// The invalid payload.
    pub payload: Value,
}

/// A location in a payload together with the schema node that describes it.
#[derive(Debug, Clone)]
pub struct Site<'n> {
    /// The JSON pointer of the value.
    pub pointer: String,
    /// Its schema.
    pub node: &'n Node,
}

/// Escapes a member name for a JSON pointer (RFC 6901).
pub fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// Every value of `value` that `node` describes, depth first, the root first. Only the first
/// item of each array is entered (mutating the others would test the same code again).
pub fn sites<'n>(value: &Value, node: &'n Node) -> Vec<Site<'n>> {
    fn walk<'n>(v: &Value, n: &'n Node, ptr: String, out: &mut Vec<Site<'n>>) {
        out.push(Site {
            pointer: ptr.clone(),
            node: n,
        });
        match (n, v) {
            (Node::Object { props, .. }, Value::Object(m)) => {
                for p in props {
                    if let Some(x) = m.get(&p.name) {
                        walk(x, &p.node, format!("{ptr}/{}", escape(&p.name)), out);
                    }
                }
            }
            (Node::Array { item, .. }, Value::Array(a)) => {
                if let Some(x) = a.first() {
                    walk(x, item, format!("{ptr}/0"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, node, String::new(), &mut out);
    out
}

/// `payload` with the value at `pointer` replaced.
pub fn replaced(payload: &Value, pointer: &str, new: Value) -> Value {
    let mut p = payload.clone();
    *p.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no value at {pointer} in {payload}")) = new;
    p
}

fn object_at<'a>(payload: &'a mut Value, pointer: &str) -> &'a mut Map<String, Value> {
    payload
        .pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .expect("an object site")
}

/// A member name no schema defines.
pub const UNKNOWN_MEMBER: &str = "unknownMemberX";
/// An enum value no schema lists.
pub const UNKNOWN_ENUM_VALUE: &str = "NotAnEnumValueX";

/// Every single-fault mutation of the valid `payload` described by `root`.
pub fn mutations(payload: &Value, root: &Node) -> Vec<Mutation> {
    let mut out = Vec::new();
    let mut push = |fault, what: String, path: String, payload: Value| {
        out.push(Mutation {
            fault,
            what,
            path,
            payload,
        });
    };
    for site in sites(payload, root) {
        let ptr = site.pointer.as_str();
        let current = payload.pointer(ptr).expect("site exists");
        let member = format!("member {}", if ptr.is_empty() { "<root>" } else { ptr });
        // Type changes, for every member (the root's type is the frame tests' business).
        if !ptr.is_empty() {
            let wrong: &[Value] = match site.node {
                Node::String { .. } | Node::Enum { .. } => &[Value::from(42), Value::Null],
                Node::Integer { .. } => &[Value::from("1"), Value::from(1.5), Value::Null],
                Node::Number { .. } => &[Value::from("1.5"), Value::Bool(true)],
                Node::Boolean => &[Value::from("true"), Value::from(1)],
                Node::Object { .. } => &[Value::from("x"), Value::Array(vec![])],
                Node::Array { .. } => &[Value::from("x"), Value::Object(Map::new())],
                Node::Any => &[],
            };
            for w in wrong {
                push(
                    Fault::WrongType,
                    format!("{member} ({}) set to {w}", site.node.kind()),
                    ptr.into(),
                    replaced(payload, ptr, w.clone()),
                );
            }
        }
        match site.node {
            Node::Object { props, closed } => {
                for p in props.iter().filter(|p| p.required) {
                    let mut m = payload.clone();
                    object_at(&mut m, ptr).remove(&p.name);
                    push(
                        Fault::MissingRequired,
                        format!("required member {:?} removed from {member}", p.name),
                        format!("{ptr}/{}", escape(&p.name)),
                        m,
                    );
                }
                if *closed {
                    let mut m = payload.clone();
                    object_at(&mut m, ptr).insert(UNKNOWN_MEMBER.into(), Value::from(1));
                    push(
                        Fault::UnknownMember,
                        format!("unknown member added to {member}"),
                        format!("{ptr}/{UNKNOWN_MEMBER}"),
                        m,
                    );
                }
            }
            Node::Enum { .. } => push(
                Fault::BadEnumValue,
                format!("{member} set to an unknown enum value"),
                ptr.into(),
                replaced(payload, ptr, Value::from(UNKNOWN_ENUM_VALUE)),
            ),
            Node::String { max_len, format } => {
                if let Some(max) = max_len {
                    push(
                        Fault::TooLong,
                        format!("{member} set to {} characters (maxLength {max})", max + 1),
                        ptr.into(),
                        replaced(payload, ptr, Value::String("x".repeat(max + 1))),
                    );
                }
                let bad: &[&str] = match format {
                    StrFormat::Plain => &[],
                    StrFormat::DateTime => &[
                        "not a date",
                        "2024-13-01T00:00:00Z",
                        "2024-02-30T10:00:00Z",
                        "2024-01-01T24:00:00Z",
                    ],
                    StrFormat::Uri => &["not a uri"],
                };
                for b in bad {
                    push(
                        Fault::BadFormat,
                        format!("{member} set to {b:?}"),
                        ptr.into(),
                        replaced(payload, ptr, Value::from(*b)),
                    );
                }
            }
            Node::Integer { min, max } => {
                if let Some(m) = min.and_then(|m| m.checked_sub(1)) {
                    push(
                        Fault::OutOfRange,
                        format!("{member} set to {m} (minimum {})", m + 1),
                        ptr.into(),
                        replaced(payload, ptr, Value::from(m)),
                    );
                }
                if let Some(m) = max.and_then(|m| m.checked_add(1)) {
                    push(
                        Fault::OutOfRange,
                        format!("{member} set to {m} (maximum {})", m - 1),
                        ptr.into(),
                        replaced(payload, ptr, Value::from(m)),
                    );
                }
            }
            Node::Number {
                min,
                max,
                multiple_of_scale,
            } => {
                let scale = number_scale(*multiple_of_scale);
                let (lo, hi) = mantissa_range(*min, *max, scale);
                if min.is_some() {
                    let v = decimal_value(lo - 1, scale);
                    push(
                        Fault::OutOfRange,
                        format!("{member} set to {v} (minimum {lo}e-{scale})"),
                        ptr.into(),
                        replaced(payload, ptr, v),
                    );
                }
                if max.is_some() {
                    let v = decimal_value(hi + 1, scale);
                    push(
                        Fault::OutOfRange,
                        format!("{member} set to {v} (maximum {hi}e-{scale})"),
                        ptr.into(),
                        replaced(payload, ptr, v),
                    );
                }
                if let Some(s) = multiple_of_scale {
                    // One more decimal than multipleOf allows, inside the range.
                    let base = lo.max(0).min(hi) * 10;
                    let v = decimal_value(base + 5, s + 1);
                    push(
                        Fault::OutOfRange,
                        format!("{member} set to {v} (multipleOf 1e-{s})"),
                        ptr.into(),
                        replaced(payload, ptr, v),
                    );
                }
            }
            Node::Array { min, max, item } => {
                let items = current.as_array().expect("array site");
                // Copies of the smallest valid item keep over-full arrays cheap to decode.
                let first = items
                    .first()
                    .map(|_| crate::generate::example(item, crate::generate::Variant::minimal(0)));
                if *min > 0 {
                    let mut fewer = items.clone();
                    fewer.truncate(min - 1);
                    push(
                        Fault::TooFewItems,
                        format!("{member} given {} items (minItems {min})", min - 1),
                        ptr.into(),
                        replaced(payload, ptr, Value::Array(fewer)),
                    );
                }
                if let (Some(max), Some(first)) = (max, first) {
                    push(
                        Fault::TooManyItems,
                        format!("{member} given {} items (maxItems {max})", max + 1),
                        ptr.into(),
                        replaced(payload, ptr, Value::Array(vec![first; max + 1])),
                    );
                }
            }
            Node::Boolean | Node::Any => {}
        }
    }
    out
}

/// Valid variations of a valid payload that exercise array sizes: every array emptied (when
/// `minItems` is 0), cut to `minItems`, and filled to `maxItems` with the item's minimal example;
/// and every `maxLength` string filled with multi-byte characters up to its limit.
pub fn valid_variations(payload: &Value, root: &Node) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for site in sites(payload, root) {
        let ptr = site.pointer.as_str();
        match site.node {
            Node::Array { min, max, item } => {
                let items = payload
                    .pointer(ptr)
                    .and_then(Value::as_array)
                    .expect("array site");
                let small = crate::generate::example(item, crate::generate::Variant::minimal(0));
                if *min == 0 && !items.is_empty() {
                    out.push((
                        format!("array {ptr} empty"),
                        replaced(payload, ptr, Value::Array(vec![])),
                    ));
                }
                if items.len() > *min {
                    out.push((
                        format!("array {ptr} with minItems {min} items"),
                        replaced(payload, ptr, Value::Array(items[..*min].to_vec())),
                    ));
                }
                if let Some(max) = max {
                    if *max != items.len() && *max > 0 {
                        let mut full = items.clone();
                        full.resize(*max, small);
                        out.push((
                            format!("array {ptr} full ({max} items)"),
                            replaced(payload, ptr, Value::Array(full)),
                        ));
                    }
                }
            }
            Node::String {
                max_len: Some(max),
                format: StrFormat::Plain,
            } => {
                out.push((
                    format!("string {ptr} of {max} multi-byte characters"),
                    replaced(
                        payload,
                        ptr,
                        Value::String(crate::generate::cycled(&['é', '😀', '€'], *max)),
                    ),
                ));
            }
            _ => {}
        }
    }
    out
}
