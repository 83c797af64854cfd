//! Schema-driven conformance harness for the generated OCPP messages (`ocpp16`, `ocpp201`,
//! `ocpp21`).
//!
//! For every request and response schema of a version, the harness
//! - builds a model of the official schema at run time ([`schema::Node`]; the schemas are read
//!   from `OCPP_SCHEMA_DIR` or `<workspace>/../shared/schemas/ocpp`, never copied),
//! - generates valid payloads ([`generate`]: proptest strategies biased to edge values, and
//!   deterministic examples that cover every enum value), decodes them strictly, encodes them
//!   again, validates the output with the `jsonschema` crate and requires it to equal the input
//!   ([`Suite::check_round_trip`]),
//! - applies single-fault mutations ([`mutate`]) and requires the exact error code, spelled for
//!   the version, and the exact JSON pointer ([`Suite::check_mutation`]),
//! - checks the lenient property: an unknown member in a closed object and an unknown enum
//!   value are kept and written back under [`DecodeOptions::LENIENT`] and refused under
//!   [`DecodeOptions::STRICT`] ([`Suite::check_lenient`]).
//!
//! Every failure message names the version, the schema file, the payload and the error. Runs are
//! deterministic: every schema gets its own proptest RNG seeded from [`BASE_SEED`] (override with
//! `OCPP_CONFORMANCE_SEED`) and its file name; `OCPP_CONFORMANCE_CASES` overrides the number of
//! random cases per schema ([`DEFAULT_CASES`]).
//!
//! When the schema directory is absent, [`Suite::load`] returns `None` after printing that the
//! tests are skipped, unless the environment variable `CI` is `true`, where it panics.

pub mod generate;
pub mod mutate;
pub mod schema;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ocpp_types::{DecodeError, DecodeOptions, Leniencies, OcppVersion, Protocol};
use proptest::strategy::{BoxedStrategy, Strategy};
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde_json::Value;

use crate::generate::Variant;
use crate::mutate::{Fault, Mutation};
use crate::schema::Node;

/// Random cases per schema and property.
pub const DEFAULT_CASES: u32 = 24;
/// The seed every schema's RNG is derived from.
pub const BASE_SEED: u64 = 0x0CC9_2016_2021_2025;
/// Most failures printed by [`Report::assert_ok`] (all are counted).
pub const MAX_PRINTED_FAILURES: usize = 40;

/// Whether a schema describes the CALL (or SEND) payload or the CALLRESULT payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The CALL or SEND payload.
    Request,
    /// The CALLRESULT payload.
    Response,
}

/// The folder holding `1.6/`, `2.0.1/` and `2.1/`: `OCPP_SCHEMA_DIR`, or
/// `<workspace root>/../shared/schemas/ocpp`.
pub fn schema_root() -> PathBuf {
    match std::env::var_os("OCPP_SCHEMA_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/schemas/ocpp"),
    }
}

/// Whether running under CI (`CI=true`), where missing schemas are a failure.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// The schema folder of `version`, or `None` (after printing that the caller is skipped) when
/// it does not exist. Panics instead under CI.
pub fn version_dir(version: OcppVersion, who: &str) -> Option<PathBuf> {
    let dir = schema_root().join(version.as_str());
    if dir.is_dir() {
        return Some(dir);
    }
    let msg = format!(
        "OCPP {version} schema folder {} not found (set OCPP_SCHEMA_DIR to the folder holding 1.6/, 2.0.1/, 2.1/)",
        dir.display()
    );
    if in_ci() {
        panic!("{msg}; CI=true, so this is a failure");
    }
    eprintln!("SKIPPED {who}: {msg}");
    None
}

/// The schema file name of an action's request or response in `version`.
pub fn schema_file(version: OcppVersion, action: &str, kind: Kind, is_send: bool) -> String {
    match (version, kind) {
        (_, Kind::Response) => format!("{action}Response.json"),
        (OcppVersion::V16, Kind::Request) => format!("{action}.json"),
        (_, Kind::Request) if is_send => format!("{action}.json"),
        (_, Kind::Request) => format!("{action}Request.json"),
    }
}

type RoundTrip = fn(
    &str,
    Kind,
    &str,
    &DecodeOptions,
    &DecodeOptions,
) -> Result<(String, Leniencies), DecodeError>;

/// Decodes `payload` as `kind` of `action` under `dec`, then encodes the result under `enc`,
/// through the [`Protocol`] dispatch tables of `P`.
pub fn round_trip<P: Protocol>(
    action: &str,
    kind: Kind,
    payload: &str,
    dec: &DecodeOptions,
    enc: &DecodeOptions,
) -> Result<(String, Leniencies), DecodeError> {
    let a = P::action_from_name(action)
        .unwrap_or_else(|| panic!("OCPP {} has no action {action}", P::VERSION));
    match kind {
        Kind::Request => {
            let (v, l) = P::decode_request(a, payload, dec)?;
            Ok((P::encode_request(&v, enc)?, l))
        }
        Kind::Response => {
            let (v, l) = P::decode_response(a, payload, dec)?;
            Ok((P::encode_response(&v, enc)?, l))
        }
    }
}

/// One message schema with its model and compiled validator.
#[derive(Debug)]
pub struct MessageSchema {
    /// The action name.
    pub action: &'static str,
    /// Request or response.
    pub kind: Kind,
    /// The schema file name (`BootNotificationRequest.json`).
    pub file: String,
    /// The schema as read.
    pub raw: Value,
    /// Its model.
    pub node: Node,
    /// The official schema, compiled by the `jsonschema` crate (formats validated).
    pub validator: jsonschema::Validator,
}

/// Every message schema of one version, and the codec of that version.
#[derive(Debug)]
pub struct Suite {
    /// The version.
    pub version: OcppVersion,
    /// The folder the schemas were read from.
    pub dir: PathBuf,
    /// Every request and response schema, in the order of the action table.
    pub messages: Vec<MessageSchema>,
    round_trip: RoundTrip,
}

/// Failures collected over many checks, reported together.
#[derive(Debug, Default)]
pub struct Report {
    /// How many checks ran.
    pub checks: usize,
    /// The failure messages.
    pub failures: Vec<String>,
}

impl Report {
    /// Records the outcome of one check.
    pub fn record(&mut self, r: Result<(), String>) {
        self.checks += 1;
        if let Err(e) = r {
            self.failures.push(e);
        }
    }

    /// Panics with the failures (at most [`MAX_PRINTED_FAILURES`] printed) when there are any;
    /// prints the number of checks otherwise.
    pub fn assert_ok(&self, what: &str) {
        if self.failures.is_empty() {
            eprintln!("{what}: {} checks passed", self.checks);
            return;
        }
        let mut s = format!(
            "{what}: {} of {} checks failed\n",
            self.failures.len(),
            self.checks
        );
        for f in self.failures.iter().take(MAX_PRINTED_FAILURES) {
            let _ = writeln!(s, "---\n{f}");
        }
        if self.failures.len() > MAX_PRINTED_FAILURES {
            let _ = writeln!(
                s,
                "--- and {} more",
                self.failures.len() - MAX_PRINTED_FAILURES
            );
        }
        panic!("{s}");
    }
}

fn describe(e: &DecodeError, version: OcppVersion) -> String {
    format!(
        "{} at {:?}: {}",
        e.code().wire(version),
        e.path(),
        e.description()
    )
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The number of random cases per schema (`OCPP_CONFORMANCE_CASES` or [`DEFAULT_CASES`]).
pub fn cases() -> u32 {
    std::env::var("OCPP_CONFORMANCE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

/// A deterministic proptest runner for one schema and property.
pub fn runner(label: &str) -> TestRunner {
    let base = std::env::var("OCPP_CONFORMANCE_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(BASE_SEED);
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&base.to_le_bytes());
    seed[8..16].copy_from_slice(&fnv(label).to_le_bytes());
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        max_shrink_iters: 512,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed))
}

static SUITES: [OnceLock<Option<Suite>>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];

impl Suite {
    /// The suite of `P`'s version, loaded once per process; `None` when the schemas are absent
    /// (outside CI). Panics when a schema cannot be read, modelled or compiled.
    pub fn get<P: Protocol>() -> Option<&'static Suite> {
        let slot = match P::VERSION {
            OcppVersion::V16 => &SUITES[0],
            OcppVersion::V201 => &SUITES[1],
            OcppVersion::V21 => &SUITES[2],
        };
        let suite = slot.get_or_init(|| Suite::load::<P>()).as_ref();
        if suite.is_none() {
            let test = std::thread::current().name().unwrap_or("?").to_string();
            eprintln!("SKIPPED {test}: no OCPP {} schemas", P::VERSION);
        }
        suite
    }

    /// Reads every request and response schema of `P`'s actions.
    pub fn load<P: Protocol>() -> Option<Suite> {
        let version = P::VERSION;
        let dir = version_dir(version, &format!("OCPP {version} schema conformance"))?;
        let mut messages = Vec::new();
        for &a in P::actions() {
            let name = P::action_name(a);
            let send = P::action_is_send(a);
            let kinds: &[Kind] = if send {
                &[Kind::Request]
            } else {
                &[Kind::Request, Kind::Response]
            };
            for &kind in kinds {
                let file = schema_file(version, name, kind, send);
                let path = dir.join(&file);
                let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
                    panic!("OCPP {version}: cannot read {}: {e}", path.display())
                });
                let raw: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("OCPP {version}: {file} is not JSON: {e}"));
                let node = Node::from_schema(&raw)
                    .unwrap_or_else(|e| panic!("OCPP {version}: {file}: {e}"));
                let validator = jsonschema::options()
                    .should_validate_formats(true)
                    .build(&raw)
                    .unwrap_or_else(|e| panic!("OCPP {version}: {file} does not compile: {e}"));
                messages.push(MessageSchema {
                    action: name,
                    kind,
                    file,
                    raw,
                    node,
                    validator,
                });
            }
        }
        Some(Suite {
            version,
            dir,
            messages,
            round_trip: round_trip::<P>,
        })
    }

    /// The `*.json` files of the version's folder.
    pub fn files_on_disk(&self) -> BTreeSet<String> {
        std::fs::read_dir(&self.dir)
            .expect("schema folder readable")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".json"))
            .collect()
    }

    fn fail(&self, m: &MessageSchema, what: &str, payload: &str, error: &str) -> String {
        format!(
            "OCPP {} {}: {what}\n  payload: {payload}\n  error: {error}",
            self.version, m.file
        )
    }

    /// Decodes `payload` as `m` under `dec` and encodes it under `enc`.
    pub fn codec(
        &self,
        m: &MessageSchema,
        payload: &str,
        dec: &DecodeOptions,
        enc: &DecodeOptions,
    ) -> Result<(String, Leniencies), DecodeError> {
        (self.round_trip)(m.action, m.kind, payload, dec, enc)
    }

    /// The valid-payload property: `input` satisfies the official schema (else the harness is
    /// wrong), decodes strictly, encodes strictly, the output satisfies the schema and equals
    /// the input as a `Value`.
    pub fn check_round_trip(&self, m: &MessageSchema, input: &Value) -> Result<(), String> {
        let text = input.to_string();
        if let Err(e) = m.validator.validate(input) {
            return Err(self.fail(
                m,
                "HARNESS: generated payload is not valid per the official schema",
                &text,
                &e.to_string(),
            ));
        }
        let (out, lenient) = self
            .codec(m, &text, &DecodeOptions::STRICT, &DecodeOptions::STRICT)
            .map_err(|e| {
                self.fail(
                    m,
                    "valid payload refused (strict decode + encode)",
                    &text,
                    &describe(&e, self.version),
                )
            })?;
        if !lenient.is_empty() {
            return Err(self.fail(
                m,
                "strict decoding reported leniencies",
                &text,
                &format!("{lenient:?}"),
            ));
        }
        let out_v: Value = serde_json::from_str(&out).map_err(|e| {
            self.fail(
                m,
                "encoder wrote invalid JSON",
                &text,
                &format!("{e}; output: {out}"),
            )
        })?;
        if let Err(e) = m.validator.validate(&out_v) {
            return Err(self.fail(
                m,
                "re-encoded payload violates the official schema",
                &text,
                &format!("{e}; output: {out}"),
            ));
        }
        if out_v != *input {
            return Err(self.fail(
                m,
                "re-encoded payload differs from the input",
                &text,
                &format!("output: {out}"),
            ));
        }
        Ok(())
    }

    /// The mutation property: the official schema rejects the mutated payload (else the harness
    /// is wrong), and a strict decode fails with exactly the expected code, spelled for the
    /// version, at exactly the expected JSON pointer.
    pub fn check_mutation(&self, m: &MessageSchema, mu: &Mutation) -> Result<(), String> {
        let text = mu.payload.to_string();
        let what = format!("mutation {:?}: {}", mu.fault, mu.what);
        if m.validator.is_valid(&mu.payload) {
            return Err(self.fail(
                m,
                &format!("HARNESS: {what}: the official schema accepts it"),
                &text,
                "-",
            ));
        }
        let expected = mu.fault.expected_wire(self.version);
        match self.codec(m, &text, &DecodeOptions::STRICT, &DecodeOptions::STRICT) {
            Ok((out, _)) => Err(self.fail(
                m,
                &format!("{what}: accepted"),
                &text,
                &format!("no error; output: {out}"),
            )),
            Err(e) if e.code().wire(self.version) == expected && e.path() == mu.path => Ok(()),
            Err(e) => Err(self.fail(
                m,
                &format!("{what}: expected {expected} at {:?}", mu.path),
                &text,
                &describe(&e, self.version),
            )),
        }
    }

    /// The outgoing-validation property: a value decoded leniently with an over-long string or an
    /// unknown enum value is refused by the strict encoder with the mutation's code and path.
    pub fn check_strict_encode_refuses(
        &self,
        m: &MessageSchema,
        mu: &Mutation,
    ) -> Result<(), String> {
        let text = mu.payload.to_string();
        let what = format!(
            "strict encode after lenient decode, {:?}: {}",
            mu.fault, mu.what
        );
        let expected = mu.fault.expected_wire(self.version);
        match self.codec(m, &text, &DecodeOptions::LENIENT, &DecodeOptions::STRICT) {
            Ok((out, _)) => Err(self.fail(
                m,
                &format!("{what}: encoded"),
                &text,
                &format!("no error; output: {out}"),
            )),
            Err(e) if e.code().wire(self.version) == expected && e.path() == mu.path => Ok(()),
            Err(e) => Err(self.fail(
                m,
                &format!("{what}: expected {expected} at {:?}", mu.path),
                &text,
                &describe(&e, self.version),
            )),
        }
    }

    /// The lenient property: `valid` with an unknown member added to the closed object at
    /// `object_ptr` and, when `enum_ptr` is given, that enum replaced by an unknown value, decodes
    /// under LENIENT (counting the leniencies) and re-encodes under LENIENT to exactly the same
    /// `Value`, while STRICT refuses it.
    pub fn check_lenient(
        &self,
        m: &MessageSchema,
        valid: &Value,
        object_ptr: &str,
        enum_ptr: Option<&str>,
    ) -> Result<(), String> {
        let mut input = valid.clone();
        input
            .pointer_mut(object_ptr)
            .and_then(Value::as_object_mut)
            .expect("object site")
            .insert(
                mutate::UNKNOWN_MEMBER.into(),
                serde_json::json!({"kept": [1, "two", null], "x": 1.25}),
            );
        if let Some(p) = enum_ptr {
            input = mutate::replaced(&input, p, Value::from("FutureValueX"));
        }
        let text = input.to_string();
        let what = format!(
            "lenient: unknown member at {object_ptr:?}, unknown enum value at {enum_ptr:?}"
        );
        if self
            .codec(m, &text, &DecodeOptions::STRICT, &DecodeOptions::STRICT)
            .is_ok()
        {
            return Err(self.fail(m, &format!("{what}: STRICT accepted it"), &text, "no error"));
        }
        let (out, l) = self
            .codec(m, &text, &DecodeOptions::LENIENT, &DecodeOptions::LENIENT)
            .map_err(|e| {
                self.fail(
                    m,
                    &format!("{what}: LENIENT refused it"),
                    &text,
                    &describe(&e, self.version),
                )
            })?;
        if l.unknown_members != 1 || l.unknown_enum_values != u32::from(enum_ptr.is_some()) {
            return Err(self.fail(
                m,
                &format!("{what}: wrong leniency counts"),
                &text,
                &format!("{l:?}"),
            ));
        }
        let out_v: Value = serde_json::from_str(&out).map_err(|e| {
            self.fail(
                m,
                &format!("{what}: encoder wrote invalid JSON"),
                &text,
                &format!("{e}; output: {out}"),
            )
        })?;
        if out_v != input {
            return Err(self.fail(
                m,
                &format!("{what}: written back differently"),
                &text,
                &format!("output: {out}"),
            ));
        }
        Ok(())
    }

    /// Runs [`Suite::check_round_trip`] on [`cases`] random payloads of `m`, and the lenient
    /// property on each of them. Returns the failure, with the shrunk payload, if any.
    pub fn run_random(&self, m: &MessageSchema) -> Result<(), String> {
        let label = format!("{}/{}", self.version, m.file);
        let strategy: BoxedStrategy<(Value, usize, usize)> = (
            generate::strategy(&m.node),
            proptest::num::usize::ANY,
            proptest::num::usize::ANY,
        )
            .boxed();
        let result = runner(&label).run(&strategy, |(v, i, j)| {
            self.check_round_trip(m, &v).map_err(TestCaseError::fail)?;
            let sites = mutate::sites(&v, &m.node);
            let closed: Vec<&str> = sites
                .iter()
                .filter(|s| matches!(s.node, Node::Object { closed: true, .. }))
                .map(|s| s.pointer.as_str())
                .collect();
            let enums: Vec<&str> = sites
                .iter()
                .filter(|s| matches!(s.node, Node::Enum { .. }))
                .map(|s| s.pointer.as_str())
                .collect();
            let Some(object) = (!closed.is_empty()).then(|| closed[i % closed.len()]) else {
                return Ok(());
            };
            let en = if enums.is_empty() {
                None
            } else {
                Some(enums[j % enums.len()])
            };
            self.check_lenient(m, &v, object, en)
                .map_err(TestCaseError::fail)?;
            Ok(())
        });
        match result {
            Ok(()) => Ok(()),
            Err(TestError::Fail(reason, (v, _, _))) => Err(format!(
                "{reason}\n  (shrunk payload: {v}; seed label {label})"
            )),
            Err(TestError::Abort(reason)) => Err(format!(
                "OCPP {} {}: proptest aborted: {reason}",
                self.version, m.file
            )),
        }
    }

    /// The deterministic valid payloads of `m`: the minimal one, three full ones (every string
    /// at its `maxLength`, at 1 and at 0 characters, integers and numbers at their bounds),
    /// compact full ones for every index up to the longest enum (so every enum value appears),
    /// and the array-size and multi-byte variations of the first compact one.
    pub fn examples(&self, m: &MessageSchema) -> Vec<(String, Value)> {
        let mut out = vec![(
            "minimal".to_string(),
            generate::example(&m.node, Variant::minimal(0)),
        )];
        for index in 0..3 {
            out.push((
                format!("full #{index}"),
                generate::example(&m.node, Variant::full(index)),
            ));
        }
        for index in 3..m.node.max_enum_len().max(4) {
            out.push((
                format!("compact #{index}"),
                generate::example(&m.node, Variant::compact(index)),
            ));
        }
        out.extend(mutate::valid_variations(
            &generate::example(&m.node, Variant::compact(0)),
            &m.node,
        ));
        out
    }

    /// The single-fault mutations of `m`, applied to its first compact full example.
    pub fn mutations(&self, m: &MessageSchema) -> Vec<Mutation> {
        mutate::mutations(&generate::example(&m.node, Variant::compact(0)), &m.node)
    }

    /// Every enum value reachable in `m`'s schema, as `(pointer pattern, value)`.
    pub fn enum_values(&self, m: &MessageSchema) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        fn walk(n: &Node, ptr: String, out: &mut BTreeSet<(String, String)>) {
            match n {
                Node::Enum { values } => {
                    out.extend(values.iter().map(|v| (ptr.clone(), v.clone())))
                }
                Node::Object { props, .. } => {
                    for p in props {
                        walk(&p.node, format!("{ptr}/{}", p.name), out);
                    }
                }
                Node::Array { item, .. } => walk(item, format!("{ptr}/*"), out),
                _ => {}
            }
        }
        walk(&m.node, String::new(), &mut out);
        out
    }
}

/// Every `(pointer pattern, value)` of enums in `value` (array indices written `*`).
pub fn enum_values_in(value: &Value, node: &Node) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    fn walk(v: &Value, n: &Node, ptr: String, out: &mut BTreeSet<(String, String)>) {
        match (n, v) {
            (Node::Enum { .. }, Value::String(s)) => {
                out.insert((ptr, s.clone()));
            }
            (Node::Object { props, .. }, Value::Object(m)) => {
                for p in props {
                    if let Some(x) = m.get(&p.name) {
                        walk(x, &p.node, format!("{ptr}/{}", p.name), out);
                    }
                }
            }
            (Node::Array { item, .. }, Value::Array(a)) => {
                for x in a {
                    walk(x, item, format!("{ptr}/*"), out);
                }
            }
            _ => {}
        }
    }
    walk(value, node, String::new(), &mut out);
    out
}

/// The faults a list of mutations covers, with their counts.
pub fn fault_counts(ms: &[Mutation]) -> std::collections::BTreeMap<Fault, usize> {
    let mut c = std::collections::BTreeMap::new();
    for m in ms {
        *c.entry(m.fault).or_insert(0) += 1;
    }
    c
}
