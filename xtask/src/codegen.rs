//! The OCPP code generator: official JSON schemas + action table -> Rust in
//! `ocpp16/src/generated`, `ocpp201/src/generated` and `ocpp21/src/generated`.
//!
//! The schema text itself is never copied: the generated code carries names, constraints and our
//! own documentation derived from them, not the schemas' descriptions.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{Map, Value};

/// One protocol version to generate.
struct VersionSpec {
    /// Folder under the schema directory and version string in the action table.
    version: &'static str,
    /// The crate it is generated into.
    crate_dir: &'static str,
    /// The `ocpp_types::OcppVersion` variant.
    variant: &'static str,
    /// The name of the `Protocol` marker type.
    protocol: &'static str,
}

const VERSIONS: [VersionSpec; 3] = [
    VersionSpec {
        version: "1.6",
        crate_dir: "ocpp16",
        variant: "V16",
        protocol: "Ocpp16",
    },
    VersionSpec {
        version: "2.0.1",
        crate_dir: "ocpp201",
        variant: "V201",
        protocol: "Ocpp201",
    },
    VersionSpec {
        version: "2.1",
        crate_dir: "ocpp21",
        variant: "V21",
        protocol: "Ocpp21",
    },
];

/// Names for the inline (anonymous) objects and enums of the 1.6 schemas, keyed by
/// `SchemaFileStem:member.path`. The names are the ones the OCPP 1.6 specification uses for these
/// types. Inline types not listed are named after their member, and two different types that end
/// up with one name are an error, so every collision must be resolved here.
const INLINE_NAMES: &[(&str, &str)] = &[
    ("AuthorizeResponse:idTagInfo.status", "AuthorizationStatus"),
    (
        "StartTransactionResponse:idTagInfo.status",
        "AuthorizationStatus",
    ),
    (
        "StopTransactionResponse:idTagInfo.status",
        "AuthorizationStatus",
    ),
    (
        "SendLocalList:localAuthorizationList.idTagInfo.status",
        "AuthorizationStatus",
    ),
    ("SendLocalList:localAuthorizationList", "AuthorizationData"),
    ("BootNotificationResponse:status", "RegistrationStatus"),
    (
        "CancelReservationResponse:status",
        "CancelReservationStatus",
    ),
    ("ChangeAvailability:type", "AvailabilityType"),
    ("ChangeAvailabilityResponse:status", "AvailabilityStatus"),
    ("ChangeConfigurationResponse:status", "ConfigurationStatus"),
    ("ClearCacheResponse:status", "ClearCacheStatus"),
    (
        "ClearChargingProfile:chargingProfilePurpose",
        "ChargingProfilePurposeType",
    ),
    (
        "ClearChargingProfileResponse:status",
        "ClearChargingProfileStatus",
    ),
    ("DataTransferResponse:status", "DataTransferStatus"),
    ("DiagnosticsStatusNotification:status", "DiagnosticsStatus"),
    ("FirmwareStatusNotification:status", "FirmwareStatus"),
    (
        "GetCompositeSchedule:chargingRateUnit",
        "ChargingRateUnitType",
    ),
    (
        "GetCompositeScheduleResponse:status",
        "GetCompositeScheduleStatus",
    ),
    (
        "GetCompositeScheduleResponse:chargingSchedule.chargingRateUnit",
        "ChargingRateUnitType",
    ),
    ("GetConfigurationResponse:configurationKey", "KeyValue"),
    (
        "MeterValues:meterValue.sampledValue.context",
        "ReadingContext",
    ),
    ("MeterValues:meterValue.sampledValue.format", "ValueFormat"),
    ("MeterValues:meterValue.sampledValue.unit", "UnitOfMeasure"),
    // The StopTransaction schema lets transactionData hold no sampled value, unlike MeterValues.
    ("StopTransaction:transactionData", "TransactionData"),
    (
        "StopTransaction:transactionData.sampledValue.context",
        "ReadingContext",
    ),
    (
        "StopTransaction:transactionData.sampledValue.format",
        "ValueFormat",
    ),
    (
        "StopTransaction:transactionData.sampledValue.unit",
        "UnitOfMeasure",
    ),
    ("StopTransaction:reason", "Reason"),
    (
        "RemoteStartTransaction:chargingProfile.chargingProfilePurpose",
        "ChargingProfilePurposeType",
    ),
    (
        "RemoteStartTransaction:chargingProfile.chargingProfileKind",
        "ChargingProfileKindType",
    ),
    (
        "RemoteStartTransaction:chargingProfile.recurrencyKind",
        "RecurrencyKindType",
    ),
    (
        "RemoteStartTransaction:chargingProfile.chargingSchedule.chargingRateUnit",
        "ChargingRateUnitType",
    ),
    (
        "RemoteStartTransactionResponse:status",
        "RemoteStartStopStatus",
    ),
    (
        "RemoteStopTransactionResponse:status",
        "RemoteStartStopStatus",
    ),
    ("ReserveNowResponse:status", "ReservationStatus"),
    ("Reset:type", "ResetType"),
    ("ResetResponse:status", "ResetStatus"),
    ("SendLocalList:updateType", "UpdateType"),
    ("SendLocalListResponse:status", "UpdateStatus"),
    ("SetChargingProfile:csChargingProfiles", "ChargingProfile"),
    (
        "SetChargingProfile:csChargingProfiles.chargingProfilePurpose",
        "ChargingProfilePurposeType",
    ),
    (
        "SetChargingProfile:csChargingProfiles.chargingProfileKind",
        "ChargingProfileKindType",
    ),
    (
        "SetChargingProfile:csChargingProfiles.recurrencyKind",
        "RecurrencyKindType",
    ),
    (
        "SetChargingProfile:csChargingProfiles.chargingSchedule.chargingRateUnit",
        "ChargingRateUnitType",
    ),
    ("SetChargingProfileResponse:status", "ChargingProfileStatus"),
    ("StatusNotification:errorCode", "ChargePointErrorCode"),
    ("StatusNotification:status", "ChargePointStatus"),
    ("TriggerMessage:requestedMessage", "MessageTrigger"),
    ("TriggerMessageResponse:status", "TriggerMessageStatus"),
    ("UnlockConnectorResponse:status", "UnlockStatus"),
];

/// Fixes for defects in the official schemas, applied before generation. Each names the schema
/// file, the JSON pointer it changes, the value the official file must hold there (so a fix that
/// no longer matches fails loudly), the replacement, and why.
struct SchemaFix {
    version: &'static str,
    file: &'static str,
    pointer: &'static str,
    expect: &'static str,
    replace: &'static str,
    reason: &'static str,
}

const SCHEMA_FIXES: &[SchemaFix] = &[SchemaFix {
    version: "1.6",
    file: "StopTransaction.json",
    pointer: "/properties/transactionData/items/properties/sampledValue/items/properties/unit/enum",
    expect: r#"["Wh","kWh","varh","kvarh","W","kW","VA","kVA","var","kvar","A","V","K","Celcius","Celsius","Fahrenheit","Percent"]"#,
    replace: r#"["Wh","kWh","varh","kvarh","W","kW","VA","kVA","var","kvar","A","V","K","Celcius","Celsius","Fahrenheit","Percent","Hertz"]"#,
    reason:
        "StopTransaction.json's unit list lacks Hertz, which MeterValues.json lists for the same \
             SampledValue (the Frequency measurand is reported in Hertz); with the fix one \
             UnitOfMeasure type serves both messages, as in the specification",
}];

#[derive(Debug, Clone, PartialEq)]
enum Ty {
    Str {
        max: Option<u64>,
        uri: bool,
    },
    Int {
        min: Option<i64>,
        max: Option<i64>,
    },
    Num {
        min: Option<String>,
        max: Option<String>,
        mult: Option<String>,
    },
    Bool,
    DateTime,
    Any,
    Named(String),
    Array {
        item: Box<Ty>,
        min: u64,
        max: Option<u64>,
    },
}

#[derive(Debug, Clone, PartialEq)]
struct Field {
    json: String,
    rust: String,
    ty: Ty,
    required: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Def {
    Struct { fields: Vec<Field>, open: bool },
    Enum { values: Vec<String> },
}

#[derive(Debug)]
struct TypeEntry {
    def: Def,
    origins: BTreeSet<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    StationToCsms,
    CsmsToStation,
    Both,
}

#[derive(Debug)]
struct ActionInfo {
    name: String,
    dir: Dir,
    block: String,
    request: String,
    response: Option<String>,
    files: Vec<String>,
}

#[derive(Default)]
struct Model {
    types: BTreeMap<String, TypeEntry>,
    messages: BTreeMap<String, TypeEntry>,
    conflicts: Vec<String>,
    used_inline_names: BTreeSet<String>,
}

struct Ctx<'a> {
    stem: &'a str,
    root: &'a Value,
    file: String,
}

fn rust_keyword(s: &str) -> bool {
    matches!(
        s,
        "as" | "async"
            | "await"
            | "break"
            | "const"
            | "continue"
            | "crate"
            | "dyn"
            | "else"
            | "enum"
            | "extern"
            | "false"
            | "fn"
            | "for"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "pub"
            | "ref"
            | "return"
            | "self"
            | "static"
            | "struct"
            | "super"
            | "trait"
            | "true"
            | "type"
            | "unsafe"
            | "use"
            | "where"
            | "while"
            | "abstract"
            | "become"
            | "box"
            | "do"
            | "final"
            | "macro"
            | "override"
            | "priv"
            | "typeof"
            | "unsized"
            | "virtual"
            | "yield"
            | "try"
            | "gen"
    )
}

fn snake_case(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                None => false,
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                _ => false,
            };
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    if rust_keyword(&out) {
        out.push('_');
    }
    out
}

fn pascal_case(s: &str) -> String {
    let mut out = String::new();
    for part in s
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
    {
        let mut cs = part.chars();
        if let Some(f) = cs.next() {
            out.push(f.to_ascii_uppercase());
            out.extend(cs);
        }
    }
    if out.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        out.insert(0, 'N');
    }
    out
}

fn num_text(v: &Value) -> Result<String> {
    match v {
        Value::Number(n) => Ok(n.to_string()),
        _ => bail!("expected a number, found {v}"),
    }
}

fn int_bound(v: Option<&Value>) -> Result<Option<i64>> {
    match v {
        None => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                return Ok(Some(i));
            }
            let f = n.as_f64().ok_or_else(|| anyhow!("bad bound {n}"))?;
            if f.fract() != 0.0 {
                bail!("integer bound {n} is not integral");
            }
            Ok(Some(f as i64))
        }
        Some(other) => bail!("bad bound {other}"),
    }
}

impl Model {
    fn register(&mut self, name: &str, def: Def, origin: String, message: bool) {
        let map = if message {
            &mut self.messages
        } else {
            &mut self.types
        };
        match map.get_mut(name) {
            Some(e) if e.def == def => {
                e.origins.insert(origin);
            }
            Some(e) => self.conflicts.push(format!(
                "type {name} is defined differently in {origin} and in {}",
                e.origins.iter().next().cloned().unwrap_or_default()
            )),
            None => {
                map.insert(
                    name.to_owned(),
                    TypeEntry {
                        def,
                        origins: BTreeSet::from([origin]),
                    },
                );
            }
        }
    }

    fn inline_name(&mut self, cx: &Ctx<'_>, path: &str, member: &str) -> String {
        let key = format!("{}:{}", cx.stem, path);
        if let Some((k, n)) = INLINE_NAMES.iter().find(|(k, _)| *k == key) {
            self.used_inline_names.insert((*k).to_owned());
            return (*n).to_owned();
        }
        pascal_case(member)
    }

    /// Converts the schema of a member (or array item) into a type, registering named types.
    fn ty(&mut self, cx: &Ctx<'_>, s: &Value, path: &str, member: &str) -> Result<Ty> {
        let o = s
            .as_object()
            .ok_or_else(|| anyhow!("{}#{path}: schema is not an object", cx.file))?;
        if let Some(r) = o.get("$ref").and_then(Value::as_str) {
            let def_name = r
                .strip_prefix("#/definitions/")
                .ok_or_else(|| anyhow!("{}#{path}: unsupported $ref {r}", cx.file))?;
            let target = cx
                .root
                .pointer(&format!("/definitions/{def_name}"))
                .ok_or_else(|| anyhow!("{}: missing definition {def_name}", cx.file))?;
            let def = self.def(cx, target, &format!("definitions.{def_name}"))?;
            self.register(def_name, def, cx.file.clone(), false);
            return Ok(Ty::Named(def_name.to_owned()));
        }
        let ty = o.get("type").and_then(Value::as_str);
        Ok(match ty {
            None => Ty::Any,
            Some("string") if o.contains_key("enum") => {
                let name = self.inline_name(cx, path, member);
                let def = self.def(cx, s, path)?;
                self.register(&name, def, format!("{}#{path}", cx.file), false);
                Ty::Named(name)
            }
            Some("string") => {
                let max = o.get("maxLength").and_then(Value::as_u64);
                match o.get("format").and_then(Value::as_str) {
                    Some("date-time") => Ty::DateTime,
                    Some("uri") => Ty::Str { max, uri: true },
                    None => Ty::Str { max, uri: false },
                    Some(f) => bail!("{}#{path}: unsupported format {f}", cx.file),
                }
            }
            Some("integer") => Ty::Int {
                min: int_bound(o.get("minimum"))?,
                max: int_bound(o.get("maximum"))?,
            },
            Some("number") => Ty::Num {
                min: o.get("minimum").map(num_text).transpose()?,
                max: o.get("maximum").map(num_text).transpose()?,
                mult: o.get("multipleOf").map(num_text).transpose()?,
            },
            Some("boolean") => Ty::Bool,
            Some("array") => {
                let items = o
                    .get("items")
                    .ok_or_else(|| anyhow!("{}#{path}: array without items", cx.file))?;
                let item = self.ty(cx, items, path, member)?;
                Ty::Array {
                    item: Box::new(item),
                    min: o.get("minItems").and_then(Value::as_u64).unwrap_or(0),
                    max: o.get("maxItems").and_then(Value::as_u64),
                }
            }
            Some("object") => {
                let name = self.inline_name(cx, path, member);
                let def = self.def(cx, s, path)?;
                self.register(&name, def, format!("{}#{path}", cx.file), false);
                Ty::Named(name)
            }
            Some(t) => bail!("{}#{path}: unsupported type {t}", cx.file),
        })
    }

    /// Converts an object or enum schema into a definition.
    fn def(&mut self, cx: &Ctx<'_>, s: &Value, path: &str) -> Result<Def> {
        let o = s
            .as_object()
            .ok_or_else(|| anyhow!("{}#{path}: not an object", cx.file))?;
        if let Some(values) = o.get("enum") {
            let values = values
                .as_array()
                .ok_or_else(|| anyhow!("{}#{path}: enum is not an array", cx.file))?
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| anyhow!("{}#{path}: non-string enum", cx.file))
                })
                .collect::<Result<Vec<_>>>()?;
            return Ok(Def::Enum { values });
        }
        if o.get("type").and_then(Value::as_str) != Some("object") {
            bail!("{}#{path}: expected an object or an enum", cx.file);
        }
        let required: BTreeSet<&str> = o
            .get("required")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let empty = Map::new();
        let props = o
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for r in &required {
            if !props.contains_key(*r) {
                bail!("{}#{path}: required member {r} has no schema", cx.file);
            }
        }
        let open = !matches!(o.get("additionalProperties"), Some(Value::Bool(false)));
        let mut fields = Vec::new();
        let mut seen = BTreeSet::new();
        for (k, v) in props {
            if !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                bail!("{}#{path}: member name {k:?} needs escaping", cx.file);
            }
            let sub = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            let ty = self.ty(cx, v, &sub, k)?;
            let mut rust = snake_case(k);
            if rust == "extra" {
                rust = "extra_".into();
            }
            if !seen.insert(rust.clone()) {
                bail!(
                    "{}#{path}: two members map to the Rust name {rust}",
                    cx.file
                );
            }
            fields.push(Field {
                json: k.clone(),
                rust,
                ty,
                required: required.contains(k.as_str()),
            });
        }
        Ok(Def::Struct { fields, open })
    }
}

/// Action name, direction and block of one row of the action table.
type ActionRow = (String, Dir, String);

fn read_actions(tsv: &Path) -> Result<BTreeMap<String, Vec<ActionRow>>> {
    let text = fs::read_to_string(tsv).with_context(|| format!("reading {}", tsv.display()))?;
    let mut out: BTreeMap<String, Vec<ActionRow>> = BTreeMap::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let [version, action, dir, group] = cols[..] else {
            bail!(
                "{}:{}: expected 4 tab-separated columns",
                tsv.display(),
                i + 1
            );
        };
        // A SEND-only action is marked "(SEND, no response)" after its direction.
        let dir = dir.split(" (").next().unwrap_or(dir);
        let dir = match dir {
            "ChargingStation->CSMS" => Dir::StationToCsms,
            "CSMS->ChargingStation" => Dir::CsmsToStation,
            "both" => Dir::Both,
            d => bail!("{}:{}: unknown direction {d}", tsv.display(), i + 1),
        };
        out.entry(version.to_owned())
            .or_default()
            .push((action.to_owned(), dir, group.to_owned()));
    }
    Ok(out)
}

fn apply_fixes(
    version: &str,
    file: &str,
    root: &mut Value,
    used: &mut BTreeSet<usize>,
) -> Result<()> {
    for (i, fix) in SCHEMA_FIXES.iter().enumerate() {
        if fix.version != version || fix.file != file {
            continue;
        }
        let slot = root.pointer_mut(fix.pointer).ok_or_else(|| {
            anyhow!(
                "schema fix for {version}/{file}{}: pointer matches nothing",
                fix.pointer
            )
        })?;
        let expect: Value = serde_json::from_str(fix.expect)?;
        if *slot != expect {
            bail!(
                "schema fix for {version}/{file}{} no longer matches the official schema ({}); remove or update it",
                fix.pointer,
                fix.reason
            );
        }
        *slot = serde_json::from_str(fix.replace)?;
        used.insert(i);
    }
    Ok(())
}

/// Builds the model of one version.
fn build(
    spec: &VersionSpec,
    schema_dir: &Path,
    actions: &[ActionRow],
    fixes_used: &mut BTreeSet<usize>,
) -> Result<(Model, Vec<ActionInfo>)> {
    let dir = schema_dir.join(spec.version);
    let is_v16 = spec.version == "1.6";
    let mut model = Model::default();
    let mut infos = Vec::new();
    let mut files_seen = BTreeSet::new();
    for (action, d, block) in actions {
        let (req_file, resp_file) = if is_v16 {
            (
                format!("{action}.json"),
                Some(format!("{action}Response.json")),
            )
        } else if dir.join(format!("{action}Request.json")).exists() {
            (
                format!("{action}Request.json"),
                Some(format!("{action}Response.json")),
            )
        } else {
            (format!("{action}.json"), None)
        };
        let mut info = ActionInfo {
            name: action.clone(),
            dir: *d,
            block: block.clone(),
            request: String::new(),
            response: None,
            files: Vec::new(),
        };
        for (file, is_response) in [(Some(req_file), false), (resp_file, true)] {
            let Some(file) = file else { continue };
            let path = dir.join(&file);
            let text =
                fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            let mut root: Value = serde_json::from_str(&text)
                .with_context(|| format!("parsing {}", path.display()))?;
            apply_fixes(spec.version, &file, &mut root, fixes_used)?;
            files_seen.insert(file.clone());
            let stem = file.trim_end_matches(".json").to_owned();
            let type_name = if is_response {
                format!("{action}Response")
            } else if is_v16 {
                format!("{action}Request")
            } else {
                stem.clone()
            };
            let cx = Ctx {
                stem: &stem,
                root: &root,
                file: format!("{}/{file}", spec.version),
            };
            let def = model.def(&cx, &root, "")?;
            model.register(&type_name, def, cx.file.clone(), true);
            if is_response {
                info.response = Some(type_name);
            } else {
                info.request = type_name;
            }
            info.files.push(file);
        }
        infos.push(info);
    }
    // Every schema file must belong to an action of the table.
    for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") && !files_seen.contains(&name) {
            bail!(
                "{}/{name} belongs to no action of the action table",
                spec.version
            );
        }
    }
    for name in model.messages.keys() {
        if model.types.contains_key(name) {
            bail!(
                "{}: message type {name} collides with a data type",
                spec.version
            );
        }
    }
    if !model.conflicts.is_empty() {
        bail!(
            "{}: conflicting type definitions:\n  {}",
            spec.version,
            model.conflicts.join("\n  ")
        );
    }
    Ok((model, infos))
}

// ---------------------------------------------------------------------------------------------
// Emission

fn decimal_const(text: &str) -> Result<String> {
    // Exact: split into mantissa and scale at generation time.
    let (neg, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text),
    };
    if digits.contains(['e', 'E']) {
        bail!("exponent in schema bound {text}");
    }
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let frac = frac.trim_end_matches('0');
    let mantissa: u128 = format!("{int}{frac}")
        .parse()
        .with_context(|| format!("bound {text}"))?;
    let scale = frac.len();
    let lo = (mantissa & 0xffff_ffff) as u32;
    let mid = ((mantissa >> 32) & 0xffff_ffff) as u32;
    let hi = ((mantissa >> 64) & 0xffff_ffff) as u32;
    Ok(format!(
        "Some(Decimal::from_parts({lo}, {mid}, {hi}, {neg}, {scale}))"
    ))
}

fn opt_usize(v: Option<u64>) -> String {
    v.map_or("None".into(), |m| format!("Some({m})"))
}

fn opt_i64(v: Option<i64>) -> String {
    v.map_or("None".into(), |m| format!("Some({m})"))
}

fn opt_dec(v: &Option<String>) -> Result<String> {
    v.as_deref().map_or(Ok("None".into()), decimal_const)
}

/// Types kept behind a pointer because they are rare and would otherwise make every object that
/// may carry them larger (2.x `customData` appears in every object; a signed meter value, four
/// strings, in every sampled value), and so every move of it slower.
fn boxed(name: &str) -> bool {
    matches!(name, "CustomDataType" | "SignedMeterValueType")
}

fn rust_type(ty: &Ty) -> String {
    match ty {
        Ty::Str { .. } => "Text".into(),
        Ty::Int { .. } => "i64".into(),
        Ty::Num { .. } => "Decimal".into(),
        Ty::Bool => "bool".into(),
        Ty::DateTime => "DateTime".into(),
        Ty::Any => "RawJson".into(),
        Ty::Named(n) if boxed(n) => format!("Box<{n}>"),
        Ty::Named(n) => n.clone(),
        Ty::Array { item, .. } => format!("Vec<{}>", rust_type(item)),
    }
}

fn decode_expr(ty: &Ty) -> Result<String> {
    Ok(match ty {
        Ty::Str { max, uri: false } => format!("d.string({})", opt_usize(*max)),
        Ty::Str { max, uri: true } => format!("d.uri({})", opt_usize(*max)),
        Ty::Int { min, max } => format!("d.integer({}, {})", opt_i64(*min), opt_i64(*max)),
        Ty::Num { min, max, mult } => format!(
            "d.decimal({}, {}, {})",
            opt_dec(min)?,
            opt_dec(max)?,
            opt_dec(mult)?
        ),
        Ty::Bool => "d.boolean()".into(),
        Ty::DateTime => "d.date_time()".into(),
        Ty::Any => "d.any()".into(),
        Ty::Named(n) if boxed(n) => format!("{n}::decode(d).map(Box::new)"),
        Ty::Named(n) => format!("{n}::decode(d)"),
        Ty::Array { item, min, max } => {
            format!(
                "d.array({min}, {}, |d| {})",
                opt_usize(*max),
                decode_expr(item)?
            )
        }
    })
}

/// `v` is a reference to the value.
fn encode_stmt(ty: &Ty, v: &str) -> String {
    match ty {
        Ty::Str { .. } => format!("w.string({v});"),
        Ty::Int { .. } => format!("w.integer(*{v});"),
        Ty::Num { .. } => format!("w.decimal({v});"),
        Ty::Bool => format!("w.boolean(*{v});"),
        Ty::DateTime => format!("w.date_time({v});"),
        Ty::Any => format!("w.raw({v}.get());"),
        Ty::Named(_) => format!("{v}.encode(w);"),
        Ty::Array { item, .. } => format!(
            "w.push('['); let mut first = true; for x in {v} {{ w.item(&mut first); {} }} w.push(']');",
            encode_stmt(item, "x")
        ),
    }
}

/// `v` is a reference to the value; evaluates to `Result<(), DecodeError>`.
fn validate_expr(ty: &Ty, v: &str) -> Result<Option<String>> {
    Ok(match ty {
        Ty::Str { max, uri: false } => max.map(|m| format!("vl.string({v}, Some({m}))")),
        Ty::Str { max, uri: true } => Some(format!("vl.uri({v}, {})", opt_usize(*max))),
        Ty::Int {
            min: None,
            max: None,
        } => None,
        Ty::Int { min, max } => Some(format!(
            "vl.integer(*{v}, {}, {})",
            opt_i64(*min),
            opt_i64(*max)
        )),
        Ty::Num {
            min: None,
            max: None,
            mult: None,
        } => None,
        Ty::Num { min, max, mult } => Some(format!(
            "vl.decimal({v}, {}, {}, {})",
            opt_dec(min)?,
            opt_dec(max)?,
            opt_dec(mult)?
        )),
        Ty::Bool | Ty::Any => None,
        Ty::DateTime => Some(format!("vl.date_time({v})")),
        Ty::Named(_) => Some(format!("{v}.validate(vl)")),
        Ty::Array { item, min, max } => {
            let (arg, inner) = match validate_expr(item, "x")? {
                Some(e) => ("x", e),
                None => ("_", "Ok(())".to_owned()),
            };
            Some(format!(
                "vl.array({v}, {min}, {}, |{arg}| {inner})",
                opt_usize(*max)
            ))
        }
    })
}

fn ty_doc(ty: &Ty) -> String {
    match ty {
        Ty::Str { max: Some(m), uri } => {
            format!(
                "{}at most {m} characters",
                if *uri { "a URI of " } else { "" }
            )
        }
        Ty::Str { max: None, uri } => (if *uri { "a URI" } else { "a string" }).into(),
        Ty::Int { min, max } => match (min, max) {
            (Some(a), Some(b)) => format!("an integer from {a} to {b}"),
            (Some(a), None) => format!("an integer, at least {a}"),
            (None, Some(b)) => format!("an integer, at most {b}"),
            (None, None) => "an integer".into(),
        },
        Ty::Num { min, max, mult } => {
            let mut s = "an exact decimal".to_owned();
            if let Some(a) = min {
                let _ = write!(s, ", at least {a}");
            }
            if let Some(b) = max {
                let _ = write!(s, ", at most {b}");
            }
            if let Some(m) = mult {
                let _ = write!(s, ", a multiple of {m}");
            }
            s
        }
        Ty::Bool => "a boolean".into(),
        Ty::DateTime => "an RFC 3339 date-time".into(),
        Ty::Any => "any JSON value".into(),
        Ty::Named(n) => format!("a [`{n}`]"),
        Ty::Array { item, min, max } => {
            let n = match (min, max) {
                (0, None) => String::new(),
                (a, None) => format!("at least {a} "),
                (a, Some(b)) if a == b => format!("exactly {a} "),
                (a, Some(b)) => format!("{a} to {b} "),
            };
            format!("an array of {n}items, each {}", ty_doc(item))
        }
    }
}

fn emit_struct(
    out: &mut String,
    name: &str,
    fields: &[Field],
    open: bool,
    doc: &str,
) -> Result<()> {
    writeln!(out, "{doc}")?;
    writeln!(out, "#[derive(Debug, Clone, PartialEq, Eq)]")?;
    writeln!(out, "pub struct {name} {{")?;
    for f in fields {
        let req = if f.required { "Required" } else { "Optional" };
        writeln!(out, "    /// `{}`: {req}; {}.", f.json, ty_doc(&f.ty))?;
        let t = rust_type(&f.ty);
        if f.required {
            writeln!(out, "    pub {}: {t},", f.rust)?;
        } else {
            writeln!(out, "    pub {}: Option<{t}>,", f.rust)?;
        }
    }
    if open {
        writeln!(out, "    /// Further members: this object is open to vendor-specific members, which are kept and written back.")?;
    } else {
        writeln!(out, "    /// Members the schema does not define, kept only under lenient decoding and written back on encode.")?;
    }
    writeln!(out, "    pub extra: Extra,")?;
    writeln!(out, "}}\n")?;

    // Constructor.
    let req: Vec<&Field> = fields.iter().filter(|f| f.required).collect();
    writeln!(out, "impl {name} {{")?;
    writeln!(
        out,
        "    /// A value with the required members given and every optional member absent."
    )?;
    if req.len() > 7 {
        writeln!(out, "    #[allow(clippy::too_many_arguments)]")?;
    }
    let params: Vec<String> = req
        .iter()
        .map(|f| format!("{}: {}", f.rust, rust_type(&f.ty)))
        .collect();
    writeln!(out, "    pub fn new({}) -> Self {{", params.join(", "))?;
    writeln!(out, "        {name} {{")?;
    for f in fields {
        if f.required {
            writeln!(out, "            {},", f.rust)?;
        } else {
            writeln!(out, "            {}: None,", f.rust)?;
        }
    }
    writeln!(out, "            extra: Extra::new(),")?;
    writeln!(out, "        }}\n    }}\n}}\n")?;

    // Decode. Every fault leaves the member loop through one exit (`break 'fail`) with the
    // member name to add to its JSON pointer, so that the decoded members are dropped in one
    // place instead of at every `?`: the functions stay small and the hot path straight.
    writeln!(out, "impl Decode for {name} {{")?;
    writeln!(
        out,
        "    fn decode(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {{"
    )?;
    writeln!(out, "        d.object_begin()?;")?;
    for f in fields {
        writeln!(
            out,
            "        let mut f_{}: Option<{}> = None;",
            f.rust,
            rust_type(&f.ty)
        )?;
    }
    writeln!(out, "        let mut extra = Extra::new();")?;
    writeln!(out, "        let mut first = true;")?;
    writeln!(
        out,
        "        let (e, at): (DecodeError, Option<&'static str>) = 'fail: {{"
    )?;
    writeln!(out, "            loop {{")?;
    writeln!(
        out,
        "                let key = match d.next_key(&mut first) {{ Ok(Some(k)) => k, Ok(None) => break, Err(e) => break 'fail (e, None) }};"
    )?;
    let unknown = if open { "extension_key" } else { "unknown_key" };
    let unknown_stmt =
        format!("if let Err(e) = d.{unknown}(key, &mut extra) {{ break 'fail (e, None); }}");
    // One switch on the name's length, then at most a few fixed-length comparisons (a `match`
    // on byte strings would compare the name with every member name in turn).
    let mut by_len: BTreeMap<usize, Vec<&Field>> = BTreeMap::new();
    for f in fields {
        by_len.entry(f.json.len()).or_default().push(f);
    }
    writeln!(out, "                match key.len() {{")?;
    for (len, group) in &by_len {
        writeln!(out, "                    {len} => {{")?;
        for (i, f) in group.iter().enumerate() {
            let kw = if i == 0 { "if" } else { "} else if" };
            writeln!(
                out,
                "                        {kw} *key == *b\"{}\" {{",
                f.json
            )?;
            writeln!(
                out,
                "                        if f_{}.is_some() {{ if let Err(e) = d.duplicate(\"{}\") {{ break 'fail (e, None); }} }}",
                f.rust, f.json
            )?;
            // `null` is a valid value of an untyped member, never an absent one.
            if !f.required && f.ty != Ty::Any {
                writeln!(
                    out,
                    "                        match d.null_as_absent() {{ Ok(false) => {{}} Ok(true) => {{ f_{} = None; continue; }} Err(e) => break 'fail (e, None) }}",
                    f.rust
                )?;
            }
            writeln!(
                out,
                "                        match {} {{ Ok(v) => f_{} = Some(v), Err(e) => break 'fail (e, Some(\"{}\")) }}",
                decode_expr(&f.ty)?,
                f.rust,
                f.json
            )?;
        }
        writeln!(out, "                        }} else {{ {unknown_stmt} }}")?;
        writeln!(out, "                    }}")?;
    }
    writeln!(out, "                    _ => {{ {unknown_stmt} }}")?;
    writeln!(out, "                }}\n            }}")?;
    for f in fields.iter().filter(|f| f.required) {
        writeln!(
            out,
            "            let Some(r_{r}) = f_{r} else {{ break 'fail (Decoder::missing(\"{j}\"), None) }};",
            r = f.rust,
            j = f.json
        )?;
    }
    writeln!(out, "            return Ok({name} {{")?;
    for f in fields {
        if f.required {
            writeln!(out, "                {r}: r_{r},", r = f.rust)?;
        } else {
            writeln!(out, "                {r}: f_{r},", r = f.rust)?;
        }
    }
    writeln!(out, "                extra,\n            }});")?;
    writeln!(out, "        }};")?;
    writeln!(
        out,
        "        Err(match at {{ Some(k) => e.at_key(k), None => e }})"
    )?;
    writeln!(out, "    }}\n}}\n")?;

    // Encode + validate.
    writeln!(out, "impl Encode for {name} {{")?;
    writeln!(out, "    fn encode(&self, w: &mut JsonWriter) {{")?;
    writeln!(out, "        w.push('{{');")?;
    writeln!(out, "        let mut first = true;")?;
    for f in fields {
        if f.required {
            writeln!(out, "        w.member(&mut first, \"{}\");", f.json)?;
            writeln!(
                out,
                "        {{ let v = &self.{}; {} }}",
                f.rust,
                encode_stmt(&f.ty, "v")
            )?;
        } else {
            writeln!(
                out,
                "        if let Some(v) = &self.{} {{ w.member(&mut first, \"{}\"); {} }}",
                f.rust,
                f.json,
                encode_stmt(&f.ty, "v")
            )?;
        }
    }
    writeln!(out, "        self.extra.encode_members(w, &mut first);")?;
    writeln!(out, "        w.push('}}');\n    }}\n")?;
    writeln!(
        out,
        "    fn validate(&self, vl: &Validator) -> Result<(), DecodeError> {{"
    )?;
    let mut any = false;
    for f in fields {
        let Some(e) = validate_expr(&f.ty, "v")? else {
            continue;
        };
        any = true;
        if f.required {
            writeln!(
                out,
                "        {{ let v = &self.{}; {e}.map_err(|e| e.at_key(\"{}\"))?; }}",
                f.rust, f.json
            )?;
        } else {
            writeln!(
                out,
                "        if let Some(v) = &self.{} {{ {e}.map_err(|e| e.at_key(\"{}\"))?; }}",
                f.rust, f.json
            )?;
        }
    }
    if open {
        writeln!(out, "        Ok(())")?;
    } else {
        writeln!(out, "        vl.extra(&self.extra)")?;
    }
    let _ = any;
    writeln!(out, "    }}\n}}\n")?;
    Ok(())
}

fn variant_names(name: &str, values: &[String]) -> Result<Vec<String>> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for v in values {
        let mut var = pascal_case(v);
        if var.is_empty() {
            bail!("enum {name}: value {v:?} gives no variant name");
        }
        if var == "UnknownValue" {
            var = "UnknownValue_".into();
        }
        if !seen.insert(var.clone()) {
            bail!("enum {name}: two values map to the variant {var}");
        }
        out.push(var);
    }
    Ok(out)
}

fn emit_enum(out: &mut String, name: &str, values: &[String], doc: &str) -> Result<()> {
    let vars = variant_names(name, values)?;
    writeln!(out, "{doc}")?;
    writeln!(out, "#[derive(Debug, Clone, PartialEq, Eq, Hash)]")?;
    writeln!(out, "pub enum {name} {{")?;
    for (v, w) in vars.iter().zip(values) {
        writeln!(out, "    /// `{w}`")?;
        writeln!(out, "    {v},")?;
    }
    writeln!(
        out,
        "    /// A value the schema does not list, kept only under lenient decoding."
    )?;
    writeln!(out, "    UnknownValue(String),")?;
    writeln!(out, "}}\n")?;
    writeln!(out, "impl {name} {{")?;
    writeln!(
        out,
        "    /// Every value the schema lists, in schema order."
    )?;
    let all: Vec<String> = vars.iter().map(|v| format!("{name}::{v}")).collect();
    writeln!(
        out,
        "    pub const ALL: &'static [{name}] = &[{}];\n",
        all.join(", ")
    )?;
    writeln!(out, "    /// The value as written on the wire.")?;
    writeln!(out, "    pub fn as_str(&self) -> &str {{")?;
    writeln!(out, "        match self {{")?;
    for (v, w) in vars.iter().zip(values) {
        writeln!(out, "            {name}::{v} => \"{w}\",")?;
    }
    writeln!(out, "            {name}::UnknownValue(s) => s,")?;
    writeln!(out, "        }}\n    }}\n}}\n")?;
    writeln!(out, "impl std::fmt::Display for {name} {{")?;
    writeln!(out, "    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{ f.write_str(self.as_str()) }}\n}}\n")?;
    writeln!(out, "impl std::str::FromStr for {name} {{")?;
    writeln!(out, "    type Err = UnknownEnumValue;")?;
    writeln!(
        out,
        "    fn from_str(s: &str) -> Result<Self, Self::Err> {{"
    )?;
    writeln!(out, "        match s {{")?;
    for (v, w) in vars.iter().zip(values) {
        writeln!(out, "            \"{w}\" => Ok({name}::{v}),")?;
    }
    writeln!(
        out,
        "            _ => Err(UnknownEnumValue {{ type_name: \"{name}\", value: s.to_owned() }}),"
    )?;
    writeln!(out, "        }}\n    }}\n}}\n")?;
    writeln!(out, "impl Decode for {name} {{")?;
    writeln!(
        out,
        "    fn decode(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {{"
    )?;
    // As for member names: a switch on the length, then fixed-length comparisons.
    let unknown = format!("{name}::UnknownValue(d.unknown_enum_bytes(s, \"{name}\")?)");
    let mut by_len: BTreeMap<usize, Vec<(&String, &String)>> = BTreeMap::new();
    for (v, w) in vars.iter().zip(values) {
        by_len.entry(w.len()).or_default().push((v, w));
    }
    writeln!(out, "        let s = d.enum_bytes()?;")?;
    writeln!(out, "        Ok(match s.len() {{")?;
    for (len, group) in &by_len {
        write!(out, "            {len} => ")?;
        for (v, w) in group {
            write!(out, "if *s == *b\"{w}\" {{ {name}::{v} }} else ")?;
        }
        writeln!(out, "{{ {unknown} }},")?;
    }
    writeln!(out, "            _ => {unknown},")?;
    writeln!(out, "        }})\n    }}\n}}\n")?;
    writeln!(out, "impl Encode for {name} {{")?;
    writeln!(
        out,
        "    fn encode(&self, w: &mut JsonWriter) {{ w.string(self.as_str()); }}\n"
    )?;
    writeln!(
        out,
        "    fn validate(&self, vl: &Validator) -> Result<(), DecodeError> {{"
    )?;
    writeln!(out, "        match self {{ {name}::UnknownValue(s) => vl.unknown_enum(s, \"{name}\"), _ => Ok(()) }}")?;
    writeln!(out, "    }}\n}}\n")?;
    Ok(())
}

fn header(spec: &VersionSpec, what: &str, files: &str) -> String {
    format!(
        "// @generated by xtask codegen from {files}; do not edit\n\
         //! {what} of OCPP {}, generated from the official OCA JSON schemas.\n\n\
         #![allow(clippy::all, unused_imports)]\n\n\
         use ocpp_types::codec::{{Decode, Decoder, Encode, Extra, RawJson, Validator}};\n\
         use ocpp_types::json::JsonWriter;\n\
         use ocpp_types::{{DateTime, DecodeError, Decimal, Text}};\n\
         use crate::UnknownEnumValue;\n",
        spec.version
    )
}

fn used_by(origins: &BTreeSet<String>) -> String {
    let mut files: Vec<&str> = origins
        .iter()
        .map(|o| {
            o.split('#')
                .next()
                .unwrap_or(o)
                .rsplit('/')
                .next()
                .unwrap_or(o)
                .trim_end_matches(".json")
        })
        .collect();
    files.dedup();
    files.join(", ")
}

fn emit_types(spec: &VersionSpec, model: &Model) -> Result<String> {
    let mut out = header(
        spec,
        "Data types and enumerations",
        &format!("schemas/ocpp/{}/*.json", spec.version),
    );
    for (name, e) in &model.types {
        let doc = format!(
            "/// `{name}` of OCPP {}; used in {}.",
            spec.version,
            used_by(&e.origins)
        );
        match &e.def {
            Def::Struct { fields, open } => emit_struct(&mut out, name, fields, *open, &doc)?,
            Def::Enum { values } => emit_enum(&mut out, name, values, &doc)?,
        }
    }
    writeln!(
        out,
        "ocpp_types::impl_serde!({});",
        model.types.keys().cloned().collect::<Vec<_>>().join(", ")
    )?;
    Ok(out)
}

fn dir_text(d: Dir) -> &'static str {
    match d {
        Dir::StationToCsms => "sent by the charging station to the CSMS",
        Dir::CsmsToStation => "sent by the CSMS to the charging station",
        Dir::Both => "sent by either side",
    }
}

fn dir_variant(d: Dir) -> &'static str {
    match d {
        Dir::StationToCsms => "Direction::StationToCsms",
        Dir::CsmsToStation => "Direction::CsmsToStation",
        Dir::Both => "Direction::Both",
    }
}

fn emit_messages(spec: &VersionSpec, model: &Model, infos: &[ActionInfo]) -> Result<String> {
    let mut out = header(
        spec,
        "Request and response messages",
        &format!("schemas/ocpp/{}/*.json", spec.version),
    );
    out.push_str(
        "use crate::generated::types::*;\nuse ocpp_types::{Direction, Message, OcppVersion};\n\n",
    );
    for info in infos {
        let req = &model.messages[&info.request];
        let kind = if info.response.is_some() {
            "request (CALL payload)"
        } else {
            "message (SEND payload, never answered)"
        };
        let answered = match &info.response {
            Some(r) => format!(" Answered by [`{r}`]."),
            None => String::new(),
        };
        let doc = format!(
            "/// The `{}` {kind} of OCPP {}, {}; block `{}`.{answered}",
            info.name,
            spec.version,
            dir_text(info.dir),
            info.block
        );
        let Def::Struct { fields, open } = &req.def else {
            bail!("{} is not an object", info.request)
        };
        emit_struct(&mut out, &info.request, fields, *open, &doc)?;
        writeln!(
            out,
            "impl Message for {} {{ const ACTION: &'static str = \"{}\"; const VERSION: OcppVersion = OcppVersion::{}; }}\n",
            info.request, info.name, spec.variant
        )?;
        match &info.response {
            Some(resp) => {
                writeln!(
                    out,
                    "impl ocpp_types::Request for {} {{ type Response = {resp}; const DIRECTION: Direction = {}; }}\n",
                    info.request,
                    dir_variant(info.dir)
                )?;
                let r = &model.messages[resp];
                let doc = format!(
                    "/// The `{}` response (CALLRESULT payload) of OCPP {}; answers [`{}`].",
                    info.name, spec.version, info.request
                );
                let Def::Struct { fields, open } = &r.def else {
                    bail!("{resp} is not an object")
                };
                emit_struct(&mut out, resp, fields, *open, &doc)?;
            }
            None => {
                writeln!(
                    out,
                    "impl ocpp_types::SendMessage for {} {{ const DIRECTION: Direction = {}; }}\n",
                    info.request,
                    dir_variant(info.dir)
                )?;
            }
        }
    }
    writeln!(
        out,
        "ocpp_types::impl_serde!({});",
        model
            .messages
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    Ok(out)
}

fn emit_actions(spec: &VersionSpec, infos: &[ActionInfo]) -> Result<String> {
    let mut out = format!(
        "// @generated by xtask codegen from spec/ocpp-actions.tsv and schemas/ocpp/{v}/*.json; do not edit\n\
         //! The actions of OCPP {v}, the tagged request and response enums, and the dispatch tables.\n\n\
         #![allow(clippy::all, unused_imports)]\n\n\
         use ocpp_types::codec::{{decode_payload_counted, encode_validated}};\n\
         use ocpp_types::{{DecodeError, DecodeOptions, Direction, ErrorCode, Leniencies, OcppVersion}};\n\
         use crate::generated::messages::*;\n\n",
        v = spec.version
    );
    let p = spec.protocol;
    // Blocks.
    let mut blocks: Vec<&str> = infos.iter().map(|i| i.block.as_str()).collect();
    blocks.sort();
    blocks.dedup();
    let block_doc = if spec.version == "1.6" {
        "feature profile"
    } else {
        "functional block"
    };
    writeln!(out, "/// The {block_doc}s of OCPP {}.", spec.version)?;
    writeln!(
        out,
        "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]\npub enum Block {{"
    )?;
    for b in &blocks {
        let v = b.split_once('_').map_or(*b, |(_, n)| n);
        writeln!(out, "    /// `{b}`\n    {},", pascal_case(v))?;
    }
    writeln!(out, "}}\n")?;
    writeln!(out, "impl Block {{")?;
    writeln!(out, "    /// Every {block_doc}.")?;
    let all: Vec<String> = blocks
        .iter()
        .map(|b| {
            format!(
                "Block::{}",
                pascal_case(b.split_once('_').map_or(*b, |(_, n)| n))
            )
        })
        .collect();
    writeln!(
        out,
        "    pub const ALL: &'static [Block] = &[{}];",
        all.join(", ")
    )?;
    writeln!(
        out,
        "    /// The name used in the action table (for 2.x with its letter, `A_Security`)."
    )?;
    writeln!(
        out,
        "    pub const fn name(self) -> &'static str {{ match self {{"
    )?;
    for (b, a) in blocks.iter().zip(&all) {
        writeln!(out, "        {a} => \"{b}\",")?;
    }
    writeln!(out, "    }} }}\n}}\n")?;

    // Action enum.
    writeln!(
        out,
        "/// Every action of OCPP {} ({} actions).",
        spec.version,
        infos.len()
    )?;
    writeln!(
        out,
        "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]\npub enum Action {{"
    )?;
    for i in infos {
        writeln!(
            out,
            "    /// `{}`, {}.\n    {},",
            i.name,
            dir_text(i.dir),
            i.name
        )?;
    }
    writeln!(out, "}}\n")?;
    writeln!(out, "impl Action {{")?;
    let all: Vec<String> = infos
        .iter()
        .map(|i| format!("Action::{}", i.name))
        .collect();
    writeln!(
        out,
        "    /// Every action, in the order of the action table."
    )?;
    writeln!(
        out,
        "    pub const ALL: &'static [Action] = &[{}];\n",
        all.join(", ")
    )?;
    writeln!(out, "    /// The action name on the wire.")?;
    writeln!(
        out,
        "    pub const fn name(self) -> &'static str {{ match self {{"
    )?;
    for i in infos {
        writeln!(out, "        Action::{0} => \"{0}\",", i.name)?;
    }
    writeln!(out, "    }} }}\n")?;
    writeln!(
        out,
        "    /// The action called `name` (case-sensitive, as on the wire)."
    )?;
    writeln!(
        out,
        "    pub fn from_name(name: &str) -> Option<Action> {{ Some(match name {{"
    )?;
    for i in infos {
        writeln!(out, "        \"{0}\" => Action::{0},", i.name)?;
    }
    writeln!(out, "        _ => return None,\n    }}) }}\n")?;
    writeln!(out, "    /// Who sends the action.")?;
    writeln!(
        out,
        "    pub const fn direction(self) -> Direction {{ match self {{"
    )?;
    for i in infos {
        writeln!(out, "        Action::{} => {},", i.name, dir_variant(i.dir))?;
    }
    writeln!(out, "    }} }}\n")?;
    writeln!(out, "    /// The {block_doc} of the action.")?;
    writeln!(
        out,
        "    pub const fn block(self) -> Block {{ match self {{"
    )?;
    for i in infos {
        let b = pascal_case(i.block.split_once('_').map_or(i.block.as_str(), |(_, n)| n));
        writeln!(out, "        Action::{} => Block::{b},", i.name)?;
    }
    writeln!(out, "    }} }}\n")?;
    writeln!(
        out,
        "    /// Whether the action is a SEND (2.1), never answered."
    )?;
    let sends: Vec<String> = infos
        .iter()
        .filter(|i| i.response.is_none())
        .map(|i| format!("Action::{}", i.name))
        .collect();
    if sends.is_empty() {
        writeln!(out, "    pub const fn is_send(self) -> bool {{ false }}")?;
    } else {
        writeln!(
            out,
            "    pub const fn is_send(self) -> bool {{ matches!(self, {}) }}",
            sends.join(" | ")
        )?;
    }
    writeln!(out, "}}\n")?;
    writeln!(out, "impl std::fmt::Display for Action {{ fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{ f.write_str(self.name()) }} }}\n")?;

    // AnyRequest.
    writeln!(
        out,
        "/// Any request (CALL or SEND payload) of OCPP {}, tagged by action.",
        spec.version
    )?;
    writeln!(
        out,
        "#[derive(Debug, Clone, PartialEq, Eq)]\npub enum AnyRequest {{"
    )?;
    for i in infos {
        writeln!(out, "    /// `{}`\n    {}({}),", i.name, i.name, i.request)?;
    }
    writeln!(out, "}}\n")?;
    writeln!(out, "impl AnyRequest {{")?;
    writeln!(out, "    /// The action.")?;
    writeln!(out, "    pub fn action(&self) -> Action {{ match self {{")?;
    for i in infos {
        writeln!(out, "        AnyRequest::{0}(_) => Action::{0},", i.name)?;
    }
    writeln!(out, "    }} }}\n")?;
    writeln!(
        out,
        "    /// Decodes the request payload of `action` under `opts`, with the leniencies used."
    )?;
    writeln!(out, "    pub fn decode(action: Action, payload: &str, opts: &DecodeOptions) -> Result<(AnyRequest, Leniencies), DecodeError> {{ match action {{")?;
    for i in infos {
        writeln!(out, "        Action::{0} => decode_payload_counted(payload, opts).map(|(v, l)| (AnyRequest::{0}(v), l)),", i.name)?;
    }
    writeln!(out, "    }} }}\n")?;
    writeln!(
        out,
        "    /// Validates the request under `opts` and writes its JSON payload."
    )?;
    writeln!(out, "    pub fn encode(&self, opts: &DecodeOptions) -> Result<String, DecodeError> {{ match self {{")?;
    for i in infos {
        writeln!(
            out,
            "        AnyRequest::{}(v) => encode_validated(v, opts),",
            i.name
        )?;
    }
    writeln!(out, "    }} }}\n}}\n")?;
    for i in infos {
        writeln!(
            out,
            "impl From<{r}> for AnyRequest {{ fn from(v: {r}) -> Self {{ AnyRequest::{a}(v) }} }}",
            r = i.request,
            a = i.name
        )?;
        writeln!(out, "impl TryFrom<AnyRequest> for {r} {{ type Error = AnyRequest; fn try_from(v: AnyRequest) -> Result<Self, AnyRequest> {{ match v {{ AnyRequest::{a}(v) => Ok(v), other => Err(other) }} }} }}", r = i.request, a = i.name)?;
    }
    writeln!(out)?;

    // AnyResponse.
    let answered: Vec<&ActionInfo> = infos.iter().filter(|i| i.response.is_some()).collect();
    writeln!(
        out,
        "/// Any response (CALLRESULT payload) of OCPP {}, tagged by action.",
        spec.version
    )?;
    writeln!(
        out,
        "#[derive(Debug, Clone, PartialEq, Eq)]\npub enum AnyResponse {{"
    )?;
    for i in &answered {
        writeln!(
            out,
            "    /// `{}`\n    {}({}),",
            i.name,
            i.name,
            i.response.as_deref().unwrap_or_default()
        )?;
    }
    writeln!(out, "}}\n")?;
    writeln!(out, "impl AnyResponse {{")?;
    writeln!(out, "    /// The action of the CALL this answers.")?;
    writeln!(out, "    pub fn action(&self) -> Action {{ match self {{")?;
    for i in &answered {
        writeln!(out, "        AnyResponse::{0}(_) => Action::{0},", i.name)?;
    }
    writeln!(out, "    }} }}\n")?;
    writeln!(
        out,
        "    /// Decodes the response payload of `action` under `opts`, with the leniencies used."
    )?;
    writeln!(
        out,
        "    /// A SEND action has no response: that is a `ProtocolError`."
    )?;
    writeln!(out, "    pub fn decode(action: Action, payload: &str, opts: &DecodeOptions) -> Result<(AnyResponse, Leniencies), DecodeError> {{ match action {{")?;
    for i in infos {
        if i.response.is_some() {
            writeln!(out, "        Action::{0} => decode_payload_counted(payload, opts).map(|(v, l)| (AnyResponse::{0}(v), l)),", i.name)?;
        } else {
            writeln!(out, "        Action::{0} => Err(DecodeError::new(ErrorCode::ProtocolError, \"{0} is a SEND and is never answered\")),", i.name)?;
        }
    }
    writeln!(out, "    }} }}\n")?;
    writeln!(
        out,
        "    /// Validates the response under `opts` and writes its JSON payload."
    )?;
    writeln!(out, "    pub fn encode(&self, opts: &DecodeOptions) -> Result<String, DecodeError> {{ match self {{")?;
    for i in &answered {
        writeln!(
            out,
            "        AnyResponse::{}(v) => encode_validated(v, opts),",
            i.name
        )?;
    }
    writeln!(out, "    }} }}\n}}\n")?;
    for i in &answered {
        let r = i.response.as_deref().unwrap_or_default();
        writeln!(out, "impl From<{r}> for AnyResponse {{ fn from(v: {r}) -> Self {{ AnyResponse::{a}(v) }} }}", a = i.name)?;
        writeln!(out, "impl TryFrom<AnyResponse> for {r} {{ type Error = AnyResponse; fn try_from(v: AnyResponse) -> Result<Self, AnyResponse> {{ match v {{ AnyResponse::{a}(v) => Ok(v), other => Err(other) }} }} }}", a = i.name)?;
    }
    writeln!(out)?;

    // Protocol.
    writeln!(
        out,
        "/// The dispatch tables of OCPP {}, for the engine.",
        spec.version
    )?;
    writeln!(
        out,
        "#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]\npub struct {p};\n"
    )?;
    writeln!(
        out,
        "impl ocpp_types::Protocol for {p} {{
    const VERSION: OcppVersion = OcppVersion::{v};
    type Action = Action;
    type AnyRequest = AnyRequest;
    type AnyResponse = AnyResponse;
    fn actions() -> &'static [Action] {{ Action::ALL }}
    fn action_from_name(name: &str) -> Option<Action> {{ Action::from_name(name) }}
    fn action_name(action: Action) -> &'static str {{ action.name() }}
    fn action_direction(action: Action) -> Direction {{ action.direction() }}
    fn action_is_send(action: Action) -> bool {{ action.is_send() }}
    fn action_block(action: Action) -> &'static str {{ action.block().name() }}
    fn decode_request(action: Action, payload: &str, opts: &DecodeOptions) -> Result<(AnyRequest, Leniencies), DecodeError> {{ AnyRequest::decode(action, payload, opts) }}
    fn decode_response(action: Action, payload: &str, opts: &DecodeOptions) -> Result<(AnyResponse, Leniencies), DecodeError> {{ AnyResponse::decode(action, payload, opts) }}
    fn request_action(request: &AnyRequest) -> Action {{ request.action() }}
    fn response_action(response: &AnyResponse) -> Action {{ response.action() }}
    fn encode_request(request: &AnyRequest, opts: &DecodeOptions) -> Result<String, DecodeError> {{ request.encode(opts) }}
    fn encode_response(response: &AnyResponse, opts: &DecodeOptions) -> Result<String, DecodeError> {{ response.encode(opts) }}
}}",
        v = spec.variant
    )?;
    Ok(out)
}

fn block_ident(block: &str) -> String {
    pascal_case(block.split_once('_').map_or(block, |(_, n)| n))
}

fn emit_handlers(spec: &VersionSpec, infos: &[ActionInfo]) -> Result<String> {
    let p = spec.protocol;
    let mut out = format!(
        "// @generated by xtask codegen from spec/ocpp-actions.tsv; do not edit\n\
         //! Handler traits of OCPP {v}: one async trait per {unit} and role, with a method per action\n\
         //! that role receives, and a `Router` per role that dispatches decoded calls to them.\n\n\
         #![allow(clippy::all, unused_variables, unused_imports)]\n\n\
         use std::sync::Arc;\n\
         use ocpp_core::{{async_trait, not_supported, CallContext, CallError, Dispatch}};\n\
         use crate::generated::actions::{{AnyRequest, AnyResponse, {p}}};\n\
         use crate::generated::messages::*;\n\n",
        v = spec.version,
        unit = if spec.version == "1.6" { "feature profile" } else { "functional block" },
    );
    for (module, role_doc, receives) in [
        ("csms", "the CSMS", Dir::StationToCsms),
        ("station", "the charging station", Dir::CsmsToStation),
    ] {
        writeln!(
            out,
            "/// Handlers for {role_doc}: the calls {role_doc} receives."
        )?;
        writeln!(out, "pub mod {module} {{\n    use super::*;\n")?;
        // Blocks in table order.
        let mut blocks: Vec<&str> = Vec::new();
        for i in infos {
            if (i.dir == receives || i.dir == Dir::Both) && !blocks.contains(&i.block.as_str()) {
                blocks.push(&i.block);
            }
        }
        for b in &blocks {
            let t = format!("{}Handler", block_ident(b));
            let acts: Vec<&ActionInfo> = infos
                .iter()
                .filter(|i| i.block == *b && (i.dir == receives || i.dir == Dir::Both))
                .collect();
            writeln!(out, "/// The `{b}` calls {role_doc} receives. Every method has a default that answers `NotSupported`; implement the ones you support.")?;
            writeln!(
                out,
                "#[async_trait]\npub trait {t}: Send + Sync + 'static {{"
            )?;
            for a in &acts {
                let m = snake_case(&a.name);
                match &a.response {
                    Some(r) => {
                        writeln!(out, "    /// Handles `{}` ({}).", a.name, dir_text(a.dir))?;
                        writeln!(out, "    async fn {m}(&self, ctx: &CallContext<{p}>, request: {}) -> Result<{r}, CallError> {{ Err(not_supported(\"{}\")) }}", a.request, a.name)?;
                    }
                    None => {
                        writeln!(
                            out,
                            "    /// Handles the SEND `{}` ({}); it is never answered.",
                            a.name,
                            dir_text(a.dir)
                        )?;
                        writeln!(
                            out,
                            "    async fn {m}(&self, ctx: &CallContext<{p}>, message: {}) {{}}",
                            a.request
                        )?;
                    }
                }
            }
            writeln!(out, "}}\n")?;
            writeln!(
                out,
                "#[async_trait]\nimpl<T: {t} + ?Sized> {t} for Arc<T> {{"
            )?;
            for a in &acts {
                let m = snake_case(&a.name);
                match &a.response {
                    Some(r) => writeln!(out, "    async fn {m}(&self, ctx: &CallContext<{p}>, request: {}) -> Result<{r}, CallError> {{ (**self).{m}(ctx, request).await }}", a.request)?,
                    None => writeln!(out, "    async fn {m}(&self, ctx: &CallContext<{p}>, message: {}) {{ (**self).{m}(ctx, message).await }}", a.request)?,
                }
            }
            writeln!(out, "}}\n")?;
        }
        // Router.
        writeln!(out, "/// Dispatches the calls {role_doc} receives to the registered handlers; calls of a block with no handler are answered `NotSupported`, and so are calls this role never receives.")?;
        writeln!(out, "#[derive(Clone, Default)]\npub struct Router {{")?;
        for b in &blocks {
            let t = format!("{}Handler", block_ident(b));
            writeln!(
                out,
                "    {}: Option<Arc<dyn {t}>>,",
                snake_case(&block_ident(b))
            )?;
        }
        writeln!(out, "}}\n")?;
        writeln!(out, "impl std::fmt::Debug for Router {{ fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{ f.debug_struct(\"Router\")")?;
        for b in &blocks {
            let f = snake_case(&block_ident(b));
            writeln!(out, "    .field(\"{f}\", &self.{f}.is_some())")?;
        }
        writeln!(out, "    .finish() }} }}\n")?;
        writeln!(out, "impl Router {{\n    /// A router with no handler: every call is answered `NotSupported`.\n    pub fn new() -> Self {{ Self::default() }}\n")?;
        for b in &blocks {
            let t = format!("{}Handler", block_ident(b));
            let f = snake_case(&block_ident(b));
            writeln!(out, "    /// Registers the handler of the `{b}` calls.")?;
            writeln!(out, "    pub fn {f}(mut self, handler: impl {t}) -> Self {{ self.{f} = Some(Arc::new(handler)); self }}\n")?;
        }
        writeln!(out, "}}\n")?;
        writeln!(out, "#[async_trait]\nimpl Dispatch<{p}> for Router {{")?;
        writeln!(out, "    async fn dispatch(&self, ctx: CallContext<{p}>, request: AnyRequest) -> Result<AnyResponse, CallError> {{")?;
        writeln!(out, "        match request {{")?;
        for b in &blocks {
            let f = snake_case(&block_ident(b));
            for a in infos.iter().filter(|i| {
                i.block == *b && (i.dir == receives || i.dir == Dir::Both) && i.response.is_some()
            }) {
                writeln!(out, "            AnyRequest::{a}(r) => match &self.{f} {{ Some(h) => h.{m}(&ctx, r).await.map(AnyResponse::from), None => Err(not_supported(\"{a}\")) }},", a = a.name, m = snake_case(&a.name))?;
            }
        }
        writeln!(
            out,
            "            other => Err(not_supported(other.action().name())),"
        )?;
        writeln!(out, "        }}\n    }}\n")?;
        writeln!(
            out,
            "    async fn dispatch_send(&self, ctx: CallContext<{p}>, message: AnyRequest) {{"
        )?;
        writeln!(out, "        match message {{")?;
        for b in &blocks {
            let f = snake_case(&block_ident(b));
            for a in infos.iter().filter(|i| {
                i.block == *b && (i.dir == receives || i.dir == Dir::Both) && i.response.is_none()
            }) {
                writeln!(out, "            AnyRequest::{a}(m) => if let Some(h) = &self.{f} {{ h.{m}(&ctx, m).await }},", a = a.name, m = snake_case(&a.name))?;
            }
        }
        writeln!(out, "            _ => {{}}\n        }}\n    }}\n}}\n")?;
        writeln!(out, "}}\n")?;
    }
    Ok(out)
}

/// A minimal payload that satisfies the schema: required members only, lower bounds, first enum
/// values. Used by the generated routing tests.
fn minimal_json(model: &Model, ty: &Ty) -> Result<String> {
    Ok(match ty {
        Ty::Str { uri: true, .. } => "\"urn:x\"".into(),
        Ty::Str { .. } => "\"\"".into(),
        Ty::Int { min, max } => min.unwrap_or(0).min(max.unwrap_or(i64::MAX)).to_string(),
        Ty::Num { min, .. } => min.clone().unwrap_or_else(|| "0".into()),
        Ty::Bool => "false".into(),
        Ty::DateTime => "\"2024-01-01T00:00:00Z\"".into(),
        Ty::Any => "null".into(),
        Ty::Named(n) => match &model
            .types
            .get(n)
            .ok_or_else(|| anyhow!("unknown type {n}"))?
            .def
        {
            Def::Enum { values } => format!("\"{}\"", values[0]),
            Def::Struct { fields, .. } => minimal_object(model, fields)?,
        },
        Ty::Array { item, min, .. } => {
            let one = minimal_json(model, item)?;
            format!("[{}]", vec![one; *min as usize].join(","))
        }
    })
}

fn minimal_object(model: &Model, fields: &[Field]) -> Result<String> {
    let mut parts = Vec::new();
    for f in fields.iter().filter(|f| f.required) {
        parts.push(format!("\"{}\":{}", f.json, minimal_json(model, &f.ty)?));
    }
    Ok(format!("{{{}}}", parts.join(",")))
}

fn emit_handler_tests(spec: &VersionSpec, model: &Model, infos: &[ActionInfo]) -> Result<String> {
    let p = spec.protocol;
    let mut out = String::new();
    writeln!(out, "#[cfg(test)]\nmod tests {{\n    use super::*;\n    use ocpp_core::{{CallFailure, Outbound, Peer}};\n    use ocpp_types::{{DecodeOptions, ErrorCode, Protocol, Role}};\n    use crate::generated::actions::Action;\n")?;
    writeln!(out, "    struct NoPeer;\n    #[async_trait]\n    impl Outbound<{p}> for NoPeer {{\n        async fn call_any(&self, _: AnyRequest) -> Result<AnyResponse, CallFailure> {{ Err(CallFailure::Disconnected) }}\n        async fn send_any(&self, _: AnyRequest) -> Result<(), CallFailure> {{ Err(CallFailure::Disconnected) }}\n    }}\n")?;
    writeln!(out, "    /// Answers every call with GenericError naming the method that ran; records SENDs.\n    #[derive(Default)]\n    struct Recorder {{ sends: std::sync::Mutex<Vec<&'static str>> }}\n")?;
    for (module, receives) in [
        ("csms", Dir::StationToCsms),
        ("station", Dir::CsmsToStation),
    ] {
        let mut blocks: Vec<&str> = Vec::new();
        for i in infos {
            if (i.dir == receives || i.dir == Dir::Both) && !blocks.contains(&i.block.as_str()) {
                blocks.push(&i.block);
            }
        }
        for b in &blocks {
            writeln!(
                out,
                "    #[async_trait]\n    impl {module}::{}Handler for Recorder {{",
                block_ident(b)
            )?;
            for a in infos
                .iter()
                .filter(|i| i.block == *b && (i.dir == receives || i.dir == Dir::Both))
            {
                let m = snake_case(&a.name);
                match &a.response {
                    Some(r) => writeln!(out, "        async fn {m}(&self, _: &CallContext<{p}>, _: {}) -> Result<{r}, CallError> {{ Err(CallError::new(ErrorCode::GenericError, \"{module}:{}\")) }}", a.request, a.name)?,
                    None => writeln!(out, "        async fn {m}(&self, _: &CallContext<{p}>, _: {}) {{ self.sends.lock().unwrap().push(\"{module}:{}\"); }}", a.request, a.name)?,
                }
            }
            writeln!(out, "    }}")?;
        }
        writeln!(out, "    fn {module}_router(r: &Arc<Recorder>) -> {module}::Router {{ {module}::Router::new()")?;
        for b in &blocks {
            writeln!(out, "        .{}(r.clone())", snake_case(&block_ident(b)))?;
        }
        writeln!(out, "    }}\n")?;
    }
    writeln!(out, "    fn block_on<F: std::future::Future>(f: F) -> F::Output {{\n        let mut f = std::pin::pin!(f);\n        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());\n        loop {{ if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {{ return v; }} }}\n    }}\n")?;
    writeln!(out, "    fn ctx(role: Role) -> CallContext<{p}> {{ CallContext {{ station_id: \"CS1\".into(), security_profile: 0, message_id: \"1\".into(), role, peer: Peer::new(Arc::new(NoPeer)) }} }}\n")?;
    writeln!(
        out,
        "    /// A minimal valid request of every action.\n    const MINIMAL: &[(&str, &str)] = &["
    )?;
    for i in infos {
        let Def::Struct { fields, .. } = &model.messages[&i.request].def else {
            bail!("not an object")
        };
        let json = minimal_object(model, fields)?;
        writeln!(out, "        (\"{}\", r#\"{json}\"#),", i.name)?;
    }
    writeln!(out, "    ];\n")?;
    writeln!(
        out,
        r#"    #[test]
    fn every_action_reaches_its_handler_in_its_role() {{
        assert_eq!(MINIMAL.len(), Action::ALL.len());
        let rec = Arc::new(Recorder::default());
        let routers = (csms_router(&rec), station_router(&rec));
        let empty = (csms::Router::new(), station::Router::new());
        for (name, payload) in MINIMAL {{
            let action = Action::from_name(name).unwrap();
            for (role, module) in [(Role::Csms, "csms"), (Role::ChargingStation, "station")] {{
                let decoded = ocpp_types::decode_call::<{p}>(role, name, payload, &DecodeOptions::STRICT);
                let receives = action.direction().received_by(role);
                if !receives {{
                    assert_eq!(decoded.unwrap_err().code(), ErrorCode::NotSupported, "{{name}} to {{module}}");
                    continue;
                }}
                let (request, _) = decoded.unwrap_or_else(|e| panic!("{{name}}: {{e}}"));
                let (full, none): (&dyn Dispatch<{p}>, &dyn Dispatch<{p}>) = match role {{
                    Role::Csms => (&routers.0, &empty.0),
                    Role::ChargingStation => (&routers.1, &empty.1),
                }};
                if action.is_send() {{
                    block_on(full.dispatch_send(ctx(role), request.clone()));
                    assert_eq!(rec.sends.lock().unwrap().pop(), Some(format!("{{module}}:{{name}}").leak() as &str));
                    continue;
                }}
                let err = block_on(full.dispatch(ctx(role), request.clone())).unwrap_err();
                assert_eq!((err.code, err.description.as_str()), (ErrorCode::GenericError, format!("{{module}}:{{name}}").as_str()));
                let err = block_on(none.dispatch(ctx(role), request)).unwrap_err();
                assert_eq!(err.code, ErrorCode::NotSupported, "{{name}} without a handler");
            }}
        }}
    }}

    #[test]
    fn calls_a_role_never_receives_are_not_supported_by_its_router() {{
        for (name, payload) in MINIMAL {{
            let action = Action::from_name(name).unwrap();
            let request = AnyRequest::decode(action, payload, &DecodeOptions::STRICT).unwrap().0;
            let rec = Arc::new(Recorder::default());
            for (role, router) in [(Role::Csms, &csms_router(&rec) as &dyn Dispatch<{p}>), (Role::ChargingStation, &station_router(&rec))] {{
                if !action.direction().received_by(role) && !action.is_send() {{
                    let err = block_on(router.dispatch(ctx(role), request.clone())).unwrap_err();
                    assert_eq!(err.code, ErrorCode::NotSupported, "{{name}}");
                }}
            }}
        }}
    }}

    #[test]
    fn made_up_actions_are_not_implemented() {{
        for role in [Role::Csms, Role::ChargingStation] {{
            let err = ocpp_types::decode_call::<{p}>(role, "FlyToTheMoon", "{{}}", &DecodeOptions::STRICT).unwrap_err();
            assert_eq!(err.code(), ErrorCode::NotImplemented);
        }}
        assert_eq!(<{p} as Protocol>::actions().len(), {n});
    }}
}}"#,
        n = infos.len()
    )?;
    Ok(out)
}

fn rustfmt(root: &Path, code: &str) -> Result<String> {
    let mut child = Command::new("rustfmt")
        .arg("--edition")
        .arg("2021")
        .arg("--config-path")
        .arg(root.join("rustfmt.toml"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running rustfmt (install it with `rustup component add rustfmt`)")?;
    let mut stdin = child.stdin.take().ok_or_else(|| anyhow!("rustfmt stdin"))?;
    let code_owned = code.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(code_owned.as_bytes()));
    let out = child.wait_with_output()?;
    writer
        .join()
        .map_err(|_| anyhow!("rustfmt writer panicked"))??;
    if !out.status.success() {
        bail!("rustfmt failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8(out.stdout)?)
}

fn shared_dir(root: &Path) -> PathBuf {
    std::env::var_os("OCPP_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared"))
}

/// Generates (or checks) every version.
pub fn run(root: &Path, check: bool) -> Result<()> {
    let shared = shared_dir(root);
    let schema_dir = std::env::var_os("OCPP_SCHEMA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| shared.join("schemas/ocpp"));
    let tsv = std::env::var_os("OCPP_ACTIONS_TSV")
        .map(PathBuf::from)
        .unwrap_or_else(|| shared.join("spec/ocpp-actions.tsv"));
    if !schema_dir.is_dir() {
        bail!(
            "schema directory {} not found: set OCPP_SCHEMA_DIR to the folder holding 1.6/, 2.0.1/ and 2.1/",
            schema_dir.display()
        );
    }
    let actions = read_actions(&tsv)?;
    let mut fixes_used = BTreeSet::new();
    let mut stale = Vec::new();
    for spec in &VERSIONS {
        let rows = actions
            .get(spec.version)
            .ok_or_else(|| anyhow!("the action table has no rows for {}", spec.version))?;
        let (model, infos) = build(spec, &schema_dir, rows, &mut fixes_used)?;
        if spec.version == "1.6" {
            for (k, _) in INLINE_NAMES {
                if !model.used_inline_names.contains(*k) {
                    bail!("INLINE_NAMES entry {k} matches no inline type of the 1.6 schemas");
                }
            }
        }
        let files = [
            ("types.rs", emit_types(spec, &model)?),
            ("messages.rs", emit_messages(spec, &model, &infos)?),
            ("actions.rs", emit_actions(spec, &infos)?),
            (
                "handlers.rs",
                emit_handlers(spec, &infos)? + &emit_handler_tests(spec, &model, &infos)?,
            ),
            (
                "mod.rs",
                format!(
                    "// @generated by xtask codegen; do not edit\n\
                     //! Code generated from the official OCPP {} schemas.\n\n\
                     pub mod actions;\npub mod handlers;\npub mod messages;\npub mod types;\n",
                    spec.version
                ),
            ),
        ];
        let out_dir = root.join(spec.crate_dir).join("src/generated");
        let mut wanted = BTreeSet::new();
        for (name, code) in files {
            let code = rustfmt(root, &code)
                .with_context(|| format!("formatting {}/{name}", spec.crate_dir))?;
            let path = out_dir.join(name);
            wanted.insert(name.to_owned());
            let current = fs::read_to_string(&path).ok();
            if current.as_deref() != Some(code.as_str()) {
                if check {
                    stale.push(path.display().to_string());
                } else {
                    fs::create_dir_all(&out_dir)?;
                    fs::write(&path, code)?;
                    println!("wrote {}", path.display());
                }
            }
        }
        if out_dir.is_dir() {
            for entry in fs::read_dir(&out_dir)? {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if !wanted.contains(&name) {
                    if check {
                        stale.push(format!("{} (not generated)", entry.path().display()));
                    } else {
                        fs::remove_file(entry.path())?;
                        println!("removed stale {}", entry.path().display());
                    }
                }
            }
        }
        println!(
            "OCPP {}: {} actions, {} message types, {} data types",
            spec.version,
            infos.len(),
            model.messages.len(),
            model.types.len()
        );
    }
    for (i, fix) in SCHEMA_FIXES.iter().enumerate() {
        if !fixes_used.contains(&i) {
            bail!(
                "schema fix for {}/{}{} matched no schema file",
                fix.version,
                fix.file,
                fix.pointer
            );
        }
    }
    if check && !stale.is_empty() {
        bail!(
            "generated code is out of date; run `cargo xtask codegen` and commit:\n  {}",
            stale.join("\n  ")
        );
    }
    Ok(())
}
