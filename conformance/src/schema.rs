//! A small model of the JSON-schema subset the OCPP schemas use, built at run time from the
//! official files, with local `$ref`s (`#/definitions/...`) resolved.
//!
//! The model is what payload generation ([`crate::generate`]) and mutation ([`crate::mutate`])
//! walk. Any keyword the OCPP schemas do not use (`oneOf`, `pattern`, ...) is reported as an error
//! rather than silently ignored, so that a new schema release cannot quietly weaken the suite.

use serde_json::{Map, Value};

/// The `format` of a string member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrFormat {
    /// Any text.
    Plain,
    /// `format: date-time` (RFC 3339).
    DateTime,
    /// `format: uri`.
    Uri,
}

/// One schema node.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// `type: object`.
    Object {
        /// The defined members, in the (alphabetical) order of the schema map.
        props: Vec<Prop>,
        /// `additionalProperties: false`.
        closed: bool,
    },
    /// `type: string` without `enum`.
    String {
        /// `maxLength`, in Unicode code points.
        max_len: Option<usize>,
        /// `format`.
        format: StrFormat,
    },
    /// `type: string` with `enum`.
    Enum {
        /// The allowed values.
        values: Vec<String>,
    },
    /// `type: integer`.
    Integer {
        /// `minimum`.
        min: Option<i64>,
        /// `maximum`.
        max: Option<i64>,
    },
    /// `type: number`.
    Number {
        /// `minimum` (the OCPP schemas only use integral bounds).
        min: Option<i64>,
        /// `maximum`.
        max: Option<i64>,
        /// `multipleOf` as a number of decimal places (`0.1` is 1); `None` without `multipleOf`.
        multiple_of_scale: Option<u32>,
    },
    /// `type: boolean`.
    Boolean,
    /// `type: array`.
    Array {
        /// `items`.
        item: Box<Node>,
        /// `minItems` (0 when absent).
        min: usize,
        /// `maxItems`.
        max: Option<usize>,
    },
    /// No `type` at all (2.x `DataTransfer.data`): any JSON value.
    Any,
}

/// A member of an object node.
#[derive(Debug, Clone, PartialEq)]
pub struct Prop {
    /// The member name.
    pub name: String,
    /// Whether it is listed in `required`.
    pub required: bool,
    /// Its schema.
    pub node: Node,
}

impl Node {
    /// Builds the model of a whole schema file (its root must be an object node).
    pub fn from_schema(root: &Value) -> Result<Node, String> {
        let node = build(root, root, 0)?;
        match node {
            Node::Object { .. } => Ok(node),
            other => Err(format!(
                "the root of the schema is not an object: {other:?}"
            )),
        }
    }

    /// The largest number of values of any enum reachable from this node (0 without enums).
    pub fn max_enum_len(&self) -> usize {
        match self {
            Node::Enum { values } => values.len(),
            Node::Object { props, .. } => props
                .iter()
                .map(|p| p.node.max_enum_len())
                .max()
                .unwrap_or(0),
            Node::Array { item, .. } => item.max_enum_len(),
            _ => 0,
        }
    }

    /// A short name of the node's kind, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Object { .. } => "object",
            Node::String {
                format: StrFormat::DateTime,
                ..
            } => "date-time",
            Node::String {
                format: StrFormat::Uri,
                ..
            } => "uri",
            Node::String { .. } => "string",
            Node::Enum { .. } => "enum",
            Node::Integer { .. } => "integer",
            Node::Number { .. } => "number",
            Node::Boolean => "boolean",
            Node::Array { .. } => "array",
            Node::Any => "any",
        }
    }
}

/// Keywords that carry no validation meaning for us.
const IGNORED: &[&str] = &[
    "$schema",
    "$id",
    "id",
    "title",
    "comment",
    "description",
    "javaType",
    "definitions",
    "default",
    "additionalItems",
];

fn integral(v: &Value, what: &str) -> Result<i64, String> {
    let f = v
        .as_f64()
        .ok_or_else(|| format!("{what} is not a number: {v}"))?;
    if f.fract() != 0.0 || f.abs() > 9.0e15 {
        return Err(format!(
            "{what} {v} is not an integral bound (unsupported by the harness)"
        ));
    }
    Ok(f as i64)
}

fn usize_of(v: Option<&Value>, what: &str) -> Result<Option<usize>, String> {
    v.map(|v| {
        v.as_u64()
            .map(|n| n as usize)
            .ok_or_else(|| format!("{what} is not a count: {v}"))
    })
    .transpose()
}

fn build(root: &Value, v: &Value, depth: usize) -> Result<Node, String> {
    if depth > 48 {
        return Err("schema nesting too deep (recursive $ref?)".into());
    }
    let obj = v
        .as_object()
        .ok_or_else(|| format!("schema node is not an object: {v}"))?;
    if let Some(r) = obj.get("$ref") {
        let r = r.as_str().ok_or("$ref is not a string")?;
        let ptr = r
            .strip_prefix('#')
            .ok_or_else(|| format!("non-local $ref {r}"))?;
        let target = root
            .pointer(ptr)
            .ok_or_else(|| format!("$ref {r} points nowhere"))?;
        return build(root, target, depth + 1);
    }
    for k in obj.keys() {
        let known = IGNORED.contains(&k.as_str())
            || matches!(
                k.as_str(),
                "type"
                    | "properties"
                    | "required"
                    | "additionalProperties"
                    | "maxLength"
                    | "format"
                    | "enum"
                    | "minimum"
                    | "maximum"
                    | "multipleOf"
                    | "items"
                    | "minItems"
                    | "maxItems"
            );
        if !known {
            return Err(format!("unsupported schema keyword {k:?}"));
        }
    }
    let ty = match obj.get("type") {
        None => return Ok(Node::Any),
        Some(Value::String(t)) => t.as_str(),
        Some(other) => return Err(format!("unsupported type {other}")),
    };
    Ok(match ty {
        "object" => object(root, obj, depth)?,
        "string" => {
            if let Some(e) = obj.get("enum") {
                let values = e
                    .as_array()
                    .ok_or("enum is not an array")?
                    .iter()
                    .map(|x| {
                        x.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| format!("enum value {x} is not a string"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Node::Enum { values }
            } else {
                let format = match obj.get("format").and_then(Value::as_str) {
                    None => StrFormat::Plain,
                    Some("date-time") => StrFormat::DateTime,
                    Some("uri") => StrFormat::Uri,
                    Some(f) => return Err(format!("unsupported format {f}")),
                };
                Node::String {
                    max_len: usize_of(obj.get("maxLength"), "maxLength")?,
                    format,
                }
            }
        }
        "integer" => Node::Integer {
            min: obj
                .get("minimum")
                .map(|v| integral(v, "minimum"))
                .transpose()?,
            max: obj
                .get("maximum")
                .map(|v| integral(v, "maximum"))
                .transpose()?,
        },
        "number" => {
            let multiple_of_scale = match obj.get("multipleOf") {
                None => None,
                Some(m) => {
                    let text = m.to_string();
                    let scale = match text.split_once('.') {
                        Some(("0", frac))
                            if frac.ends_with('1')
                                && frac[..frac.len() - 1].bytes().all(|b| b == b'0') =>
                        {
                            frac.len() as u32
                        }
                        _ if text == "1" => 0,
                        _ => {
                            return Err(format!(
                                "multipleOf {text} is not a power of ten (unsupported)"
                            ))
                        }
                    };
                    Some(scale)
                }
            };
            Node::Number {
                min: obj
                    .get("minimum")
                    .map(|v| integral(v, "minimum"))
                    .transpose()?,
                max: obj
                    .get("maximum")
                    .map(|v| integral(v, "maximum"))
                    .transpose()?,
                multiple_of_scale,
            }
        }
        "boolean" => Node::Boolean,
        "array" => Node::Array {
            item: Box::new(build(
                root,
                obj.get("items").ok_or("array without items")?,
                depth + 1,
            )?),
            min: usize_of(obj.get("minItems"), "minItems")?.unwrap_or(0),
            max: usize_of(obj.get("maxItems"), "maxItems")?,
        },
        t => return Err(format!("unsupported type {t}")),
    })
}

fn object(root: &Value, obj: &Map<String, Value>, depth: usize) -> Result<Node, String> {
    let required: Vec<&str> = match obj.get("required") {
        None => Vec::new(),
        Some(r) => r
            .as_array()
            .ok_or("required is not an array")?
            .iter()
            .map(|x| x.as_str().ok_or("required entry is not a string"))
            .collect::<Result<_, _>>()?,
    };
    let mut props = Vec::new();
    if let Some(p) = obj.get("properties") {
        for (name, s) in p.as_object().ok_or("properties is not an object")? {
            props.push(Prop {
                name: name.clone(),
                required: required.contains(&name.as_str()),
                node: build(root, s, depth + 1).map_err(|e| format!("{name}: {e}"))?,
            });
        }
    }
    for r in &required {
        if !props.iter().any(|p| p.name == *r) {
            return Err(format!("required member {r} has no schema"));
        }
    }
    let closed = match obj.get("additionalProperties") {
        None | Some(Value::Bool(true)) => false,
        Some(Value::Bool(false)) => true,
        Some(other) => return Err(format!("unsupported additionalProperties {other}")),
    };
    Ok(Node::Object { props, closed })
}
