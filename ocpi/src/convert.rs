//! Conversions of locations, sessions, CDRs, tariffs and tokens between OCPI 2.1.1, 2.2.1 and
//! 2.3.0, each saying what it loses.
//!
//! Every function returns [`Converted`]: the value and a list of [`Loss`] notes, one per member
//! (by JSON path in the source) that the target version cannot carry or that had to be
//! assumed. Unknown members (`extra`) travel along unchanged. Money stays exact.
//!
//! Decisions:
//! - 2.2.1 -> 2.3.0: a `Price` `{excl_vat, incl_vat}` becomes `{before_taxes, taxes: [VAT]}`
//!   with the VAT amount `incl_vat - excl_vat` (no tax at all without `incl_vat`); a tariff gets
//!   `tax_included: NO` (2.2.1 prices exclude VAT). Nothing is lost.
//! - 2.3.0 -> 2.2.1: `excl_vat` = `before_taxes`, `incl_vat` = `before_taxes` + all taxes (the
//!   tax breakdown is lost when it is more than one tax named `VAT`); a tariff with
//!   `tax_included: YES` has its prices divided by `1 + vat/100` (rounded to 6 decimals when not
//!   exact, noted); parking places, `help_phone`, accepted service providers, connector
//!   capabilities, `preauthorize_amount`, `hub_party_id` are dropped; enum values 2.2.1 does
//!   not define (`EMAID`, `MCS`, ...) are kept as unknown values and noted.
//! - 2.1.1 -> 2.2.1: 2.1.1 objects have no owner; the caller gives the parties ([`Parties211`]).
//!   A session/CDR token is rebuilt from `auth_id` (as `uid` and `contract_id`, type `OTHER`).
//! - 2.2.1 -> 2.1.1: the owner, VAT, the token's uid/type and everything 2.1.1 has no member for
//!   are dropped and noted; only the first `tariff_ids` entry of a connector is kept.
//! - 2.1.1 <-> 2.3.0 goes through 2.2.1 and concatenates the losses.

use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::primitives::{CountryCode, PartyId};
use crate::{v211, v221, v230};

/// One thing a conversion could not carry over, or had to assume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loss {
    /// JSON path in the source object, e.g. `$.evses[0].parking`.
    pub path: String,
    /// What was lost or assumed.
    pub note: String,
}

/// The result of a conversion: the value and what it lost.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted<T> {
    /// The converted value.
    pub value: T,
    /// What the conversion lost or assumed; empty when lossless.
    pub losses: Vec<Loss>,
}

impl<T> Converted<T> {
    /// Whether nothing was lost.
    pub fn is_lossless(&self) -> bool {
        self.losses.is_empty()
    }
}

/// Why a conversion failed: the source cannot be expressed in the target at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// The converted JSON does not form the target object (a required member is missing).
    #[error("cannot form the target object: {0}")]
    Shape(#[from] serde_json::Error),
    /// A session becomes a 2.1.1 session only with its location, which was not given.
    #[error("a 2.1.1 session embeds its location, which was not given")]
    MissingLocation,
}

/// The parties that 2.1.1 objects do not name, needed to upgrade them to 2.2.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parties211 {
    /// Country code of the owner (the CPO; the eMSP for tokens).
    pub country_code: CountryCode,
    /// Party id of the owner.
    pub party_id: PartyId,
    /// Country code of the eMSP that issued the tokens of sessions and CDRs.
    pub token_country_code: CountryCode,
    /// Party id of the eMSP that issued the tokens of sessions and CDRs.
    pub token_party_id: PartyId,
}

struct Ctx {
    losses: Vec<Loss>,
}

impl Ctx {
    fn lose(&mut self, path: impl Into<String>, note: impl Into<String>) {
        self.losses.push(Loss {
            path: path.into(),
            note: note.into(),
        });
    }
    /// Removes `key` from `o`, noting it when present and not empty.
    fn drop(&mut self, o: &mut Map<String, Value>, path: &str, key: &str, why: &str) {
        if let Some(v) = o.remove(key) {
            let empty = v.is_null() || v.as_array().is_some_and(|a| a.is_empty());
            if !empty {
                self.lose(format!("{path}.{key}"), why.to_owned());
            }
        }
    }
    fn unknown_enum(&mut self, v: &Value, path: &str, known: &[&str], target: &str) {
        if let Some(s) = v.as_str() {
            if !known.contains(&s) {
                self.lose(
                    path,
                    format!("{s:?} is not a value of {target}; kept as an unknown value"),
                );
            }
        }
    }
}

fn run<S: Serialize, T: DeserializeOwned>(
    src: &S,
    f: impl FnOnce(&mut Value, &mut Ctx),
) -> Result<Converted<T>, ConvertError> {
    let mut v = serde_json::to_value(src)?;
    let mut ctx = Ctx { losses: vec![] };
    f(&mut v, &mut ctx);
    Ok(Converted {
        value: serde_json::from_value(v)?,
        losses: ctx.losses,
    })
}

fn obj(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    v.as_object_mut().expect("object")
}

fn each(v: &mut Value, key: &str, path: &str, mut f: impl FnMut(&mut Value, &str)) {
    if let Some(Value::Array(a)) = v.get_mut(key) {
        for (i, x) in a.iter_mut().enumerate() {
            f(x, &format!("{path}.{key}[{i}]"));
        }
    }
}

fn dec(v: &Value) -> Option<Decimal> {
    serde_json::from_value::<crate::primitives::Number>(v.clone())
        .ok()
        .map(|n| n.0)
}

fn num(d: Decimal) -> Value {
    serde_json::to_value(crate::primitives::Number(d)).unwrap_or(Value::Null)
}

// ---------------------------------------------------------------- 2.2.1 <-> 2.3.0

fn price_221_to_230(p: &mut Value) {
    let o = obj(p);
    let excl = o.remove("excl_vat");
    let incl = o.remove("incl_vat");
    if let Some(e) = &excl {
        o.insert("before_taxes".into(), e.clone());
        if let (Some(ed), Some(id)) = (dec(e), incl.as_ref().and_then(dec)) {
            o.insert(
                "taxes".into(),
                json!([{"name": "VAT", "amount": num(id - ed)}]),
            );
        }
    }
}

fn price_230_to_221(p: &mut Value, path: &str, c: &mut Ctx) {
    let o = obj(p);
    let before = o.remove("before_taxes");
    let taxes = o.remove("taxes").unwrap_or(Value::Array(vec![]));
    let taxes = taxes.as_array().cloned().unwrap_or_default();
    if let Some(b) = before.as_ref().and_then(dec) {
        o.insert("excl_vat".into(), num(b));
        if !taxes.is_empty() {
            let sum: Decimal = taxes
                .iter()
                .filter_map(|t| t.get("amount").and_then(dec))
                .sum();
            o.insert("incl_vat".into(), num(b + sum));
        }
    }
    let plain_vat = taxes.len() == 1
        && taxes[0].get("name").and_then(Value::as_str) == Some("VAT")
        && taxes[0].as_object().is_some_and(|t| t.len() == 2);
    if !taxes.is_empty() && !plain_vat {
        c.lose(
            format!("{path}.taxes"),
            "the tax breakdown (names, account numbers, percentages) is summed into incl_vat",
        );
    }
}

fn price_fields(v: &mut Value, path: &str, keys: &[&str], f: &mut dyn FnMut(&mut Value, &str)) {
    for k in keys {
        if let Some(p) = v.get_mut(*k) {
            f(p, &format!("{path}.{k}"));
        }
    }
}

const CDR_PRICES: &[&str] = &[
    "total_cost",
    "total_fixed_cost",
    "total_energy_cost",
    "total_time_cost",
    "total_parking_cost",
    "total_reservation_cost",
];

fn tariff_221_to_230_json(t: &mut Value) {
    for k in ["min_price", "max_price"] {
        if let Some(p) = t.get_mut(k) {
            let o = obj(p);
            if let Some(e) = o.remove("excl_vat") {
                o.insert("before_taxes".into(), e);
            }
            if let Some(i) = o.remove("incl_vat") {
                o.insert("after_taxes".into(), i);
            }
        }
    }
    obj(t).insert("tax_included".into(), json!("NO"));
}

fn tariff_230_to_221_json(t: &mut Value, path: &str, c: &mut Ctx) {
    let o = obj(t);
    for k in ["min_price", "max_price"] {
        if let Some(p) = o.get_mut(k) {
            let p = obj(p);
            if let Some(e) = p.remove("before_taxes") {
                p.insert("excl_vat".into(), e);
            }
            if let Some(i) = p.remove("after_taxes") {
                p.insert("incl_vat".into(), i);
            }
        }
    }
    c.drop(
        o,
        path,
        "preauthorize_amount",
        "OCPI 2.2.1 has no preauthorize_amount",
    );
    let included = o.remove("tax_included");
    match included.as_ref().and_then(Value::as_str) {
        Some("YES") => {
            let mut inexact = false;
            if let Some(Value::Array(els)) = o.get_mut("elements") {
                for el in els {
                    if let Some(Value::Array(pcs)) = el.get_mut("price_components") {
                        for pc in pcs {
                            let vat = pc.get("vat").and_then(dec);
                            let price = pc.get("price").and_then(dec);
                            if let (Some(vat), Some(price)) = (vat, price) {
                                let div = Decimal::ONE + vat / Decimal::ONE_HUNDRED;
                                let exact = price / div;
                                let rounded = exact.round_dp(6);
                                inexact |= rounded * div != price;
                                obj(pc).insert("price".into(), num(rounded.normalize()));
                            }
                        }
                    }
                }
            }
            c.lose(
                format!("{path}.tax_included"),
                if inexact {
                    "prices included taxes; converted to excluding VAT, rounded to 6 decimals"
                } else {
                    "prices included taxes; converted to excluding VAT"
                },
            );
        }
        Some("N/A") => {
            if let Some(Value::Array(els)) = o.get_mut("elements") {
                for el in els {
                    if let Some(Value::Array(pcs)) = el.get_mut("price_components") {
                        for pc in pcs {
                            obj(pc).remove("vat");
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

const TOKEN_TYPES_221: &[&str] = &["AD_HOC_USER", "APP_USER", "OTHER", "RFID"];

fn location_230_to_221_json(l: &mut Value, c: &mut Ctx) {
    let o = obj(l);
    c.drop(o, "$", "parking_places", "OCPI 2.2.1 has no parking places");
    c.drop(o, "$", "help_phone", "OCPI 2.2.1 has no help_phone");
    each(l, "evses", "$", |e, p| {
        let eo = obj(e);
        c.drop(eo, p, "parking", "OCPI 2.2.1 has no EVSE parking");
        c.drop(
            eo,
            p,
            "accepted_service_providers",
            "OCPI 2.2.1 has no accepted_service_providers",
        );
        if let Some(Value::Array(rs)) = eo.get("parking_restrictions") {
            for (i, r) in rs.iter().enumerate() {
                c.unknown_enum(
                    r,
                    &format!("{p}.parking_restrictions[{i}]"),
                    v221::ParkingRestriction::VALUES,
                    "the 2.2.1 ParkingRestriction",
                );
            }
        }
        each(e, "connectors", p, |k, p| {
            let ko = obj(k);
            c.drop(
                ko,
                p,
                "capabilities",
                "OCPI 2.2.1 has no connector capabilities",
            );
            if let Some(s) = ko.get("standard") {
                c.unknown_enum(
                    s,
                    &format!("{p}.standard"),
                    v221::ConnectorType::VALUES,
                    "the 2.2.1 ConnectorType",
                );
            }
        });
    });
}

/// A 2.2.1 location as 2.3.0 (lossless).
pub fn location_221_to_230(l: &v221::Location) -> Result<Converted<v230::Location>, ConvertError> {
    run(l, |_, _| {})
}

/// A 2.3.0 location as 2.2.1.
pub fn location_230_to_221(l: &v230::Location) -> Result<Converted<v221::Location>, ConvertError> {
    run(l, location_230_to_221_json)
}

/// A 2.2.1 tariff as 2.3.0 (`tax_included: NO`; lossless).
pub fn tariff_221_to_230(t: &v221::Tariff) -> Result<Converted<v230::Tariff>, ConvertError> {
    run(t, |v, _| tariff_221_to_230_json(v))
}

/// A 2.3.0 tariff as 2.2.1.
pub fn tariff_230_to_221(t: &v230::Tariff) -> Result<Converted<v221::Tariff>, ConvertError> {
    run(t, |v, c| tariff_230_to_221_json(v, "$", c))
}

/// A 2.2.1 token as 2.3.0 (lossless).
pub fn token_221_to_230(t: &v221::Token) -> Result<Converted<v230::Token>, ConvertError> {
    run(t, |_, _| {})
}

/// A 2.3.0 token as 2.2.1 (`EMAID` is not a 2.2.1 token type).
pub fn token_230_to_221(t: &v230::Token) -> Result<Converted<v221::Token>, ConvertError> {
    run(t, |v, c| {
        if let Some(ty) = v.get("type") {
            c.unknown_enum(ty, "$.type", TOKEN_TYPES_221, "the 2.2.1 TokenType");
        }
    })
}

/// A 2.2.1 session as 2.3.0 (VAT becomes one tax named `VAT`; lossless).
pub fn session_221_to_230(s: &v221::Session) -> Result<Converted<v230::Session>, ConvertError> {
    run(s, |v, _| {
        if let Some(p) = v.get_mut("total_cost") {
            price_221_to_230(p);
        }
    })
}

/// A 2.3.0 session as 2.2.1.
pub fn session_230_to_221(s: &v230::Session) -> Result<Converted<v221::Session>, ConvertError> {
    run(s, |v, c| {
        if let Some(p) = v.get_mut("total_cost") {
            price_230_to_221(p, "$.total_cost", c);
        }
        if let Some(ty) = v.pointer("/cdr_token/type") {
            c.unknown_enum(
                ty,
                "$.cdr_token.type",
                TOKEN_TYPES_221,
                "the 2.2.1 TokenType",
            );
        }
    })
}

/// A 2.2.1 CDR as 2.3.0 (lossless).
pub fn cdr_221_to_230(cdr: &v221::Cdr) -> Result<Converted<v230::Cdr>, ConvertError> {
    run(cdr, |v, _| {
        price_fields(v, "$", CDR_PRICES, &mut |p, _| price_221_to_230(p));
        each(v, "tariffs", "$", |t, _| tariff_221_to_230_json(t));
    })
}

/// A 2.3.0 CDR as 2.2.1.
pub fn cdr_230_to_221(cdr: &v230::Cdr) -> Result<Converted<v221::Cdr>, ConvertError> {
    run(cdr, |v, c| {
        price_fields(v, "$", CDR_PRICES, &mut |p, path| {
            price_230_to_221(p, path, c)
        });
        each(v, "tariffs", "$", |t, p| tariff_230_to_221_json(t, p, c));
        if let Some(ty) = v.pointer("/cdr_token/type") {
            c.unknown_enum(
                ty,
                "$.cdr_token.type",
                TOKEN_TYPES_221,
                "the 2.2.1 TokenType",
            );
        }
        if let Some(s) = v.pointer("/cdr_location/connector_standard") {
            c.unknown_enum(
                s,
                "$.cdr_location.connector_standard",
                v221::ConnectorType::VALUES,
                "the 2.2.1 ConnectorType",
            );
        }
    })
}

// ---------------------------------------------------------------- 2.1.1 <-> 2.2.1

fn rename(o: &mut Map<String, Value>, from: &str, to: &str) {
    if let Some(v) = o.remove(from) {
        o.insert(to.into(), v);
    }
}

fn owner(o: &mut Map<String, Value>, cc: &CountryCode, pid: &PartyId) {
    o.insert("country_code".into(), json!(cc.as_str()));
    o.insert("party_id".into(), json!(pid.as_str()));
}

const LOCATION_TYPES: &[&str] = &[
    "ON_STREET",
    "PARKING_GARAGE",
    "UNDERGROUND_GARAGE",
    "PARKING_LOT",
];

fn energy_mix_rename(v: &mut Value, from: &str, to: &str) {
    if let Some(m) = v.get_mut("energy_mix") {
        each(m, "environ_impact", "", |i, _| rename(obj(i), from, to));
    }
}

fn location_211_to_221_json(v: &mut Value, p: &Parties211, c: &mut Ctx) {
    let o = obj(v);
    owner(o, &p.country_code, &p.party_id);
    o.insert("publish".into(), json!(true));
    if let Some(t) = o.remove("type") {
        match t.as_str() {
            Some(s) if LOCATION_TYPES.contains(&s) => {
                o.insert("parking_type".into(), t);
            }
            _ => c.lose(
                "$.type",
                format!("location type {t} has no 2.2.1 parking_type"),
            ),
        }
    }
    if let Some(h) = o.get_mut("opening_times") {
        obj(h).entry("twentyfourseven").or_insert(json!(false));
    }
    energy_mix_rename(v, "source", "category");
    each(v, "evses", "$", |e, p| {
        each(e, "connectors", p, |k, _| {
            let ko = obj(k);
            rename(ko, "voltage", "max_voltage");
            rename(ko, "amperage", "max_amperage");
            if let Some(t) = ko.remove("tariff_id") {
                ko.insert("tariff_ids".into(), json!([t]));
            }
        });
    });
}

fn location_221_to_211_json(v: &mut Value, c: &mut Ctx) {
    let o = obj(v);
    o.remove("country_code");
    o.remove("party_id");
    if o.remove("publish") == Some(json!(false)) {
        c.lose(
            "$.publish",
            "2.1.1 cannot restrict who sees a location (publish: false)",
        );
    }
    c.drop(
        o,
        "$",
        "publish_allowed_to",
        "2.1.1 has no publish_allowed_to",
    );
    c.drop(o, "$", "state", "2.1.1 has no state");
    let t = o.remove("parking_type");
    let ty = match t.as_ref().and_then(Value::as_str) {
        Some(s) if LOCATION_TYPES.contains(&s) => s.to_owned(),
        Some(s) => {
            c.lose(
                "$.parking_type",
                format!("{s:?} is not a 2.1.1 location type; written as OTHER"),
            );
            "OTHER".into()
        }
        None => "UNKNOWN".into(),
    };
    o.insert("type".into(), json!(ty));
    if let Some(Value::Array(fs)) = o.get("facilities") {
        for (i, f) in fs.iter().enumerate() {
            c.unknown_enum(
                f,
                &format!("$.facilities[{i}]"),
                v211::Facility::VALUES,
                "the 2.1.1 Facility",
            );
        }
    }
    energy_mix_rename(v, "category", "source");
    each(v, "evses", "$", |e, p| {
        if let Some(Value::Array(cs)) = e.get("capabilities") {
            for (i, x) in cs.iter().enumerate() {
                c.unknown_enum(
                    x,
                    &format!("{p}.capabilities[{i}]"),
                    v211::Capability::VALUES,
                    "the 2.1.1 Capability",
                );
            }
        }
        each(e, "connectors", p, |k, p| {
            let ko = obj(k);
            rename(ko, "max_voltage", "voltage");
            rename(ko, "max_amperage", "amperage");
            c.drop(
                ko,
                p,
                "max_electric_power",
                "2.1.1 has no max_electric_power",
            );
            if let Some(Value::Array(ids)) = ko.remove("tariff_ids") {
                if ids.len() > 1 {
                    c.lose(
                        format!("{p}.tariff_ids"),
                        "2.1.1 has one tariff_id; only the first is kept",
                    );
                }
                if let Some(first) = ids.into_iter().next() {
                    ko.insert("tariff_id".into(), first);
                }
            }
            for (k2, known, what) in [
                (
                    "standard",
                    v211::ConnectorType::VALUES,
                    "the 2.1.1 ConnectorType",
                ),
                ("power_type", v211::PowerType::VALUES, "the 2.1.1 PowerType"),
            ] {
                if let Some(x) = ko.get(k2) {
                    c.unknown_enum(x, &format!("{p}.{k2}"), known, what);
                }
            }
        });
    });
}

/// A 2.1.1 location as 2.2.1, owned by `parties` (fails when 2.2.1 requires a member the
/// location lacks, e.g. `time_zone`).
pub fn location_211_to_221(
    l: &v211::Location,
    parties: &Parties211,
) -> Result<Converted<v221::Location>, ConvertError> {
    run(l, |v, c| location_211_to_221_json(v, parties, c))
}

/// A 2.2.1 location as 2.1.1 (fails without `postal_code`, which 2.1.1 requires).
pub fn location_221_to_211(l: &v221::Location) -> Result<Converted<v211::Location>, ConvertError> {
    run(l, location_221_to_211_json)
}

fn tariff_211_to_221_json(v: &mut Value, p: &Parties211, path: &str, c: &mut Ctx) {
    owner(obj(v), &p.country_code, &p.party_id);
    energy_mix_rename(v, "source", "category");
    c.lose(
        format!("{path}.elements"),
        "2.1.1 gives no VAT rate; 2.2.1 reads a missing vat as no VAT applicable",
    );
}

fn tariff_221_to_211_json(v: &mut Value, path: &str, c: &mut Ctx) {
    let o = obj(v);
    o.remove("country_code");
    o.remove("party_id");
    for k in [
        "type",
        "min_price",
        "max_price",
        "start_date_time",
        "end_date_time",
    ] {
        c.drop(o, path, k, "2.1.1 tariffs have no such member");
    }
    energy_mix_rename(v, "category", "source");
    each(v, "elements", path, |el, p| {
        each(el, "price_components", p, |pc, p| {
            c.drop(obj(pc), p, "vat", "2.1.1 has no VAT rate");
        });
        if let Some(r) = el.get_mut("restrictions") {
            let rp = format!("{p}.restrictions");
            for k in ["min_current", "max_current", "reservation"] {
                c.drop(obj(r), &rp, k, "2.1.1 has no such restriction");
            }
        }
    });
}

/// A 2.1.1 tariff as 2.2.1, owned by `parties`.
pub fn tariff_211_to_221(
    t: &v211::Tariff,
    parties: &Parties211,
) -> Result<Converted<v221::Tariff>, ConvertError> {
    run(t, |v, c| tariff_211_to_221_json(v, parties, "$", c))
}

/// A 2.2.1 tariff as 2.1.1.
pub fn tariff_221_to_211(t: &v221::Tariff) -> Result<Converted<v211::Tariff>, ConvertError> {
    run(t, |v, c| tariff_221_to_211_json(v, "$", c))
}

/// A 2.1.1 token as 2.2.1, issued by the owner in `parties` (`contract_id` = `auth_id`).
pub fn token_211_to_221(
    t: &v211::Token,
    parties: &Parties211,
) -> Result<Converted<v221::Token>, ConvertError> {
    run(t, |v, _| {
        let o = obj(v);
        owner(o, &parties.country_code, &parties.party_id);
        rename(o, "auth_id", "contract_id");
    })
}

/// A 2.2.1 token as 2.1.1 (`auth_id` = `contract_id`).
pub fn token_221_to_211(t: &v221::Token) -> Result<Converted<v211::Token>, ConvertError> {
    run(t, |v, c| {
        let o = obj(v);
        o.remove("country_code");
        o.remove("party_id");
        rename(o, "contract_id", "auth_id");
        for k in ["group_id", "default_profile_type", "energy_contract"] {
            c.drop(o, "$", k, "2.1.1 tokens have no such member");
        }
        if let Some(ty) = o.get("type") {
            c.unknown_enum(ty, "$.type", v211::TokenType::VALUES, "the 2.1.1 TokenType");
        }
    })
}

/// The `cdr_token` rebuilt from a 2.1.1 `auth_id`.
fn cdr_token_from_auth_id(o: &mut Map<String, Value>, p: &Parties211, c: &mut Ctx) {
    if let Some(a) = o.remove("auth_id") {
        o.insert(
            "cdr_token".into(),
            json!({"country_code": p.token_country_code.as_str(), "party_id": p.token_party_id.as_str(),
                   "uid": a, "type": "OTHER", "contract_id": a}),
        );
        c.lose(
            "$.auth_id",
            "the token's uid and type are unknown in 2.1.1: uid = auth_id, type OTHER",
        );
    }
}

fn cdr_token_to_auth_id(o: &mut Map<String, Value>, c: &mut Ctx) {
    if let Some(t) = o.remove("cdr_token") {
        o.insert(
            "auth_id".into(),
            t.get("contract_id").cloned().unwrap_or(Value::Null),
        );
        c.lose(
            "$.cdr_token",
            "2.1.1 keeps only the contract id (as auth_id)",
        );
    }
}

fn number_price(o: &mut Map<String, Value>, key: &str, c: &mut Ctx) {
    if let Some(p) = o.remove(key) {
        if p.get("incl_vat").is_some() {
            c.lose(format!("$.{key}.incl_vat"), "2.1.1 costs exclude VAT");
        }
        if let Some(e) = p.get("excl_vat") {
            o.insert(key.into(), e.clone());
        }
    }
}

/// A 2.1.1 session as 2.2.1: the embedded location is reduced to its ids (first EVSE, first
/// connector).
pub fn session_211_to_221(
    s: &v211::Session,
    parties: &Parties211,
) -> Result<Converted<v221::Session>, ConvertError> {
    run(s, |v, c| {
        let o = obj(v);
        owner(o, &parties.country_code, &parties.party_id);
        rename(o, "start_datetime", "start_date_time");
        rename(o, "end_datetime", "end_date_time");
        cdr_token_from_auth_id(o, parties, c);
        if let Some(l) = o.remove("location") {
            let evse = l.pointer("/evses/0").cloned().unwrap_or(Value::Null);
            o.insert(
                "location_id".into(),
                l.get("id").cloned().unwrap_or(Value::Null),
            );
            o.insert(
                "evse_uid".into(),
                evse.get("uid").cloned().unwrap_or(Value::Null),
            );
            o.insert(
                "connector_id".into(),
                evse.pointer("/connectors/0/id")
                    .cloned()
                    .unwrap_or(Value::Null),
            );
            c.lose(
                "$.location",
                "2.2.1 sessions keep only the location, EVSE and connector ids",
            );
        }
        if let Some(t) = o.remove("total_cost") {
            o.insert("total_cost".into(), json!({"excl_vat": t}));
        }
    })
}

/// A 2.2.1 session as 2.1.1, embedding `location` (a 2.1.1 location, reduced to the session's
/// EVSE and connector).
pub fn session_221_to_211(
    s: &v221::Session,
    location: &v211::Location,
) -> Result<Converted<v211::Session>, ConvertError> {
    let mut loc = location.clone();
    loc.evses.retain(|e| e.uid.0 == s.evse_uid.0);
    for e in &mut loc.evses {
        e.connectors.retain(|k| k.id.0 == s.connector_id.0);
    }
    run(s, |v, c| {
        let o = obj(v);
        o.remove("country_code");
        o.remove("party_id");
        rename(o, "start_date_time", "start_datetime");
        rename(o, "end_date_time", "end_datetime");
        cdr_token_to_auth_id(o, c);
        for k in ["location_id", "evse_uid", "connector_id"] {
            o.remove(k);
        }
        o.insert(
            "location".into(),
            serde_json::to_value(&loc).unwrap_or(Value::Null),
        );
        c.drop(
            o,
            "$",
            "authorization_reference",
            "2.1.1 has no authorization_reference",
        );
        number_price(o, "total_cost", c);
        if o.get("status").and_then(Value::as_str) == Some("RESERVATION") {
            c.lose("$.status", "RESERVATION is not a 2.1.1 session status");
        }
        each(v, "charging_periods", "$", |cp, p| {
            c.drop(
                obj(cp),
                p,
                "tariff_id",
                "2.1.1 charging periods have no tariff_id",
            );
        });
    })
}

/// A 2.1.1 CDR as 2.2.1 (`cdr_location` from the embedded location's first EVSE/connector).
pub fn cdr_211_to_221(
    cdr: &v211::Cdr,
    parties: &Parties211,
) -> Result<Converted<v221::Cdr>, ConvertError> {
    run(cdr, |v, c| {
        let o = obj(v);
        owner(o, &parties.country_code, &parties.party_id);
        rename(o, "stop_date_time", "end_date_time");
        cdr_token_from_auth_id(o, parties, c);
        if let Some(l) = o.remove("location") {
            let e = l.pointer("/evses/0").cloned().unwrap_or(Value::Null);
            let k = e.pointer("/connectors/0").cloned().unwrap_or(Value::Null);
            let mut cl = Map::new();
            for key in [
                "id",
                "name",
                "address",
                "city",
                "postal_code",
                "country",
                "coordinates",
            ] {
                if let Some(x) = l.get(key) {
                    cl.insert(key.into(), x.clone());
                }
            }
            for (to, from) in [
                ("evse_uid", &e["uid"]),
                ("evse_id", &e["evse_id"]),
                ("connector_id", &k["id"]),
                ("connector_standard", &k["standard"]),
                ("connector_format", &k["format"]),
                ("connector_power_type", &k["power_type"]),
            ] {
                if !from.is_null() {
                    cl.insert(to.into(), from.clone());
                }
            }
            o.insert("cdr_location".into(), Value::Object(cl));
            c.lose(
                "$.location",
                "2.2.1 keeps the location as a CdrLocation (address, EVSE and connector only)",
            );
        }
        if let Some(t) = o.remove("total_cost") {
            o.insert("total_cost".into(), json!({"excl_vat": t}));
        }
        each(v, "tariffs", "$", |t, p| {
            tariff_211_to_221_json(t, parties, p, c)
        });
    })
}

/// A 2.2.1 CDR as 2.1.1 (the location is rebuilt from `cdr_location`; the connector's voltage
/// and amperage, unknown there, are written as 0).
pub fn cdr_221_to_211(cdr: &v221::Cdr) -> Result<Converted<v211::Cdr>, ConvertError> {
    run(cdr, |v, c| {
        let o = obj(v);
        o.remove("country_code");
        o.remove("party_id");
        cdr_token_to_auth_id(o, c);
        if let Some(cl) = o.remove("cdr_location") {
            let lu = o.get("last_updated").cloned().unwrap_or(Value::Null);
            let mut l = Map::new();
            for key in [
                "id",
                "name",
                "address",
                "city",
                "postal_code",
                "country",
                "coordinates",
            ] {
                if let Some(x) = cl.get(key) {
                    l.insert(key.into(), x.clone());
                }
            }
            l.insert("type".into(), json!("UNKNOWN"));
            l.insert(
                "evses".into(),
                json!([{
                "uid": cl["evse_uid"], "evse_id": cl["evse_id"], "status": "UNKNOWN",
                "connectors": [{"id": cl["connector_id"], "standard": cl["connector_standard"],
                    "format": cl["connector_format"], "power_type": cl["connector_power_type"],
                    "voltage": 0, "amperage": 0, "last_updated": lu}],
                "last_updated": lu}]),
            );
            l.insert("last_updated".into(), lu);
            o.insert("location".into(), Value::Object(l));
            c.lose(
                "$.cdr_location",
                "2.1.1 embeds a Location: type UNKNOWN, EVSE status UNKNOWN, voltage/amperage 0",
            );
        }
        rename(o, "end_date_time", "stop_date_time");
        number_price(o, "total_cost", c);
        for k in [
            "session_id",
            "authorization_reference",
            "signed_data",
            "total_fixed_cost",
            "total_energy_cost",
            "total_time_cost",
            "total_parking_cost",
            "total_reservation_cost",
            "invoice_reference_id",
            "credit",
            "credit_reference_id",
            "home_charging_compensation",
        ] {
            c.drop(o, "$", k, "2.1.1 CDRs have no such member");
        }
        each(v, "charging_periods", "$", |cp, p| {
            c.drop(
                obj(cp),
                p,
                "tariff_id",
                "2.1.1 charging periods have no tariff_id",
            );
        });
        each(v, "tariffs", "$", |t, p| tariff_221_to_211_json(t, p, c));
    })
}

// ---------------------------------------------------------------- 2.1.1 <-> 2.3.0

fn chain<B, C>(
    first: Result<Converted<B>, ConvertError>,
    then: impl FnOnce(&B) -> Result<Converted<C>, ConvertError>,
) -> Result<Converted<C>, ConvertError> {
    let a = first?;
    let mut b = then(&a.value)?;
    let mut losses = a.losses;
    losses.append(&mut b.losses);
    b.losses = losses;
    Ok(b)
}

/// A 2.1.1 location as 2.3.0 (through 2.2.1).
pub fn location_211_to_230(
    l: &v211::Location,
    p: &Parties211,
) -> Result<Converted<v230::Location>, ConvertError> {
    chain(location_211_to_221(l, p), location_221_to_230)
}
/// A 2.3.0 location as 2.1.1 (through 2.2.1).
pub fn location_230_to_211(l: &v230::Location) -> Result<Converted<v211::Location>, ConvertError> {
    chain(location_230_to_221(l), location_221_to_211)
}
/// A 2.1.1 tariff as 2.3.0 (through 2.2.1).
pub fn tariff_211_to_230(
    t: &v211::Tariff,
    p: &Parties211,
) -> Result<Converted<v230::Tariff>, ConvertError> {
    chain(tariff_211_to_221(t, p), tariff_221_to_230)
}
/// A 2.3.0 tariff as 2.1.1 (through 2.2.1).
pub fn tariff_230_to_211(t: &v230::Tariff) -> Result<Converted<v211::Tariff>, ConvertError> {
    chain(tariff_230_to_221(t), tariff_221_to_211)
}
/// A 2.1.1 token as 2.3.0 (through 2.2.1).
pub fn token_211_to_230(
    t: &v211::Token,
    p: &Parties211,
) -> Result<Converted<v230::Token>, ConvertError> {
    chain(token_211_to_221(t, p), token_221_to_230)
}
/// A 2.3.0 token as 2.1.1 (through 2.2.1).
pub fn token_230_to_211(t: &v230::Token) -> Result<Converted<v211::Token>, ConvertError> {
    chain(token_230_to_221(t), token_221_to_211)
}
/// A 2.1.1 session as 2.3.0 (through 2.2.1).
pub fn session_211_to_230(
    s: &v211::Session,
    p: &Parties211,
) -> Result<Converted<v230::Session>, ConvertError> {
    chain(session_211_to_221(s, p), session_221_to_230)
}
/// A 2.3.0 session as 2.1.1 (through 2.2.1), embedding `location`.
pub fn session_230_to_211(
    s: &v230::Session,
    location: &v211::Location,
) -> Result<Converted<v211::Session>, ConvertError> {
    chain(session_230_to_221(s), |x| session_221_to_211(x, location))
}
/// A 2.1.1 CDR as 2.3.0 (through 2.2.1).
pub fn cdr_211_to_230(
    cdr: &v211::Cdr,
    p: &Parties211,
) -> Result<Converted<v230::Cdr>, ConvertError> {
    chain(cdr_211_to_221(cdr, p), cdr_221_to_230)
}
/// A 2.3.0 CDR as 2.1.1 (through 2.2.1).
pub fn cdr_230_to_211(cdr: &v230::Cdr) -> Result<Converted<v211::Cdr>, ConvertError> {
    chain(cdr_230_to_221(cdr), cdr_221_to_211)
}

/// The three object families: 2.0/2.1/2.1.1, 2.2/2.2.1 and 2.3.0 (and later).
fn family(v: &v221::VersionNumber) -> u8 {
    use v221::VersionNumber as N;
    match v {
        N::V2_0 | N::V2_1 | N::V2_1_1 => 0,
        N::V2_2 | N::V2_2_1 => 1,
        _ => 2,
    }
}

fn via<A: DeserializeOwned, B: Serialize>(
    v: &Value,
    f: impl FnOnce(&A) -> Result<Converted<B>, ConvertError>,
) -> Result<Converted<Value>, ConvertError> {
    let a: A = serde_json::from_value(v.clone())?;
    let c = f(&a)?;
    Ok(Converted {
        value: serde_json::to_value(c.value)?,
        losses: c.losses,
    })
}

/// Converts an object of a module, as JSON, between two versions (the server uses it to serve
/// a storage kept in one version to peers of every version).
///
/// Locations, sessions, CDRs, tariffs and tokens are converted by the functions above; objects
/// of other modules, and any object between versions of one family (2.2 and 2.2.1), are
/// returned unchanged. `parties` names the owner when upgrading 2.1.1 objects. A session
/// downgraded to 2.1.1 embeds its location: `location` is that location in the `from` version
/// ([`ConvertError::MissingLocation`] without it). A CDR downgraded to 2.1.1 takes its EVSE
/// and connector from `location` when given (voltage, amperage, status as published), else
/// rebuilds them from `cdr_location` with voltage and amperage 0.
pub fn convert_json(
    module: &v221::ModuleId,
    from: &v221::VersionNumber,
    to: &v221::VersionNumber,
    value: &Value,
    parties: &Parties211,
    location: Option<&Value>,
) -> Result<Converted<Value>, ConvertError> {
    use v221::ModuleId as M;
    let same = || {
        Ok(Converted {
            value: value.clone(),
            losses: vec![],
        })
    };
    let (f, t) = (family(from), family(to));
    if f == t {
        return same();
    }
    let p = parties;
    let location_211 = || -> Result<v211::Location, ConvertError> {
        let l = location.ok_or(ConvertError::MissingLocation)?;
        let c = convert_json(
            &M::Locations,
            from,
            &v221::VersionNumber::V2_1_1,
            l,
            p,
            None,
        )?;
        Ok(serde_json::from_value(c.value)?)
    };
    match (module, f, t) {
        (M::Locations, 0, 1) => via(value, |x| location_211_to_221(x, p)),
        (M::Locations, 0, _) => via(value, |x| location_211_to_230(x, p)),
        (M::Locations, 1, 0) => via(value, location_221_to_211),
        (M::Locations, 1, _) => via(value, location_221_to_230),
        (M::Locations, _, 0) => via(value, location_230_to_211),
        (M::Locations, ..) => via(value, location_230_to_221),
        (M::Tariffs, 0, 1) => via(value, |x| tariff_211_to_221(x, p)),
        (M::Tariffs, 0, _) => via(value, |x| tariff_211_to_230(x, p)),
        (M::Tariffs, 1, 0) => via(value, tariff_221_to_211),
        (M::Tariffs, 1, _) => via(value, tariff_221_to_230),
        (M::Tariffs, _, 0) => via(value, tariff_230_to_211),
        (M::Tariffs, ..) => via(value, tariff_230_to_221),
        (M::Tokens, 0, 1) => via(value, |x| token_211_to_221(x, p)),
        (M::Tokens, 0, _) => via(value, |x| token_211_to_230(x, p)),
        (M::Tokens, 1, 0) => via(value, token_221_to_211),
        (M::Tokens, 1, _) => via(value, token_221_to_230),
        (M::Tokens, _, 0) => via(value, token_230_to_211),
        (M::Tokens, ..) => via(value, token_230_to_221),
        (M::Sessions, 0, 1) => via(value, |x| session_211_to_221(x, p)),
        (M::Sessions, 0, _) => via(value, |x| session_211_to_230(x, p)),
        (M::Sessions, 1, 0) => {
            let l = location_211()?;
            via(value, |x| session_221_to_211(x, &l))
        }
        (M::Sessions, 1, _) => via(value, session_221_to_230),
        (M::Sessions, _, 0) => {
            let l = location_211()?;
            via(value, |x| session_230_to_211(x, &l))
        }
        (M::Sessions, ..) => via(value, session_230_to_221),
        (M::Cdrs, 0, 1) => via(value, |x| cdr_211_to_221(x, p)),
        (M::Cdrs, 0, _) => via(value, |x| cdr_211_to_230(x, p)),
        (M::Cdrs, 1, 0) => cdr_location_from(via(value, cdr_221_to_211)?, location_211),
        (M::Cdrs, 1, _) => via(value, cdr_221_to_230),
        (M::Cdrs, _, 0) => cdr_location_from(via(value, cdr_230_to_211)?, location_211),
        (M::Cdrs, ..) => via(value, cdr_230_to_221),
        _ => same(),
    }
}

/// A CDR converted to 2.1.1 with its `location` rebuilt from `cdr_location` (connector voltage
/// and amperage unknown, written as 0): when the caller passed the published location, the
/// CDR's EVSE and connector are taken from it instead (status, voltage, amperage, tariff), the
/// EVSE narrowed to the connector charged at. Without a location the rebuilt one is kept.
fn cdr_location_from(
    mut c: Converted<Value>,
    location_211: impl FnOnce() -> Result<v211::Location, ConvertError>,
) -> Result<Converted<Value>, ConvertError> {
    let Ok(published) = location_211().and_then(|l| Ok(serde_json::to_value(l)?)) else {
        return Ok(c);
    };
    let Some(rebuilt) = c.value.get("location") else {
        return Ok(c);
    };
    let evse_uid = rebuilt.pointer("/evses/0/uid").cloned();
    let connector_id = rebuilt.pointer("/evses/0/connectors/0/id").cloned();
    let evse = published
        .get("evses")
        .and_then(Value::as_array)
        .and_then(|evses| evses.iter().find(|e| e.get("uid") == evse_uid.as_ref()));
    let connector = evse
        .and_then(|e| e.get("connectors"))
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|x| x.get("id") == connector_id.as_ref()));
    let (Some(evse), Some(connector)) = (evse, connector) else {
        return Ok(c);
    };
    let mut evse = evse.clone();
    evse["connectors"] = Value::Array(vec![connector.clone()]);
    let mut location = published;
    location["evses"] = Value::Array(vec![evse]);
    c.value["location"] = location;
    Ok(c)
}

/// The interface a 2.1.1 endpoint implements: 2.1.1 version details name no interface role,
/// each party offering its own side of a module. A CPO offers the Sender side of locations,
/// tariffs, sessions and CDRs and the Receiver side of tokens and commands; any other party
/// (an eMSP) the opposite. Credentials is always a Receiver.
pub fn interface_211(module: &v221::ModuleId, party: &v221::Role) -> v221::InterfaceRole {
    use v221::{InterfaceRole as I, ModuleId as M};
    let cpo = *party == v221::Role::Cpo;
    match module {
        M::Credentials => I::Receiver,
        M::Locations | M::Tariffs | M::Sessions | M::Cdrs if cpo => I::Sender,
        M::Locations | M::Tariffs | M::Sessions | M::Cdrs => I::Receiver,
        _ if cpo => I::Receiver,
        _ => I::Sender,
    }
}

/// The role of the other party of a 2.1.1 connection, which 2.1.1 credentials do not say: a
/// CPO talks to an eMSP, anyone else to a CPO.
pub fn peer_role_211(ours: &v221::Role) -> v221::Role {
    if *ours == v221::Role::Cpo {
        v221::Role::Emsp
    } else {
        v221::Role::Cpo
    }
}

/// 2.1.1 version details as 2.2.1, the interface of each endpoint given by the party's role
/// ([`interface_211`]). Lossless.
pub fn version_details_211_to_221(
    d: &v211::VersionDetails,
    party: &v221::Role,
) -> v221::VersionDetails {
    v221::VersionDetails {
        version: d.version.clone(),
        endpoints: d
            .endpoints
            .iter()
            .map(|e| {
                let identifier = v221::ModuleId::from_wire(e.identifier.as_str());
                v221::Endpoint {
                    role: interface_211(&identifier, party),
                    identifier,
                    url: e.url.clone(),
                    extra: e.extra.clone(),
                }
            })
            .collect(),
        extra: d.extra.clone(),
    }
}

/// 2.2.1 version details as 2.1.1: the interface roles are dropped and, 2.1.1 having one
/// endpoint per module, only the first endpoint of each module is kept (the others noted).
pub fn version_details_221_to_211(d: &v221::VersionDetails) -> Converted<v211::VersionDetails> {
    let mut losses = Vec::new();
    let mut endpoints: Vec<v211::Endpoint> = Vec::new();
    for (i, e) in d.endpoints.iter().enumerate() {
        let id = v211::ModuleId::from_wire(e.identifier.as_str());
        if endpoints.iter().any(|x| x.identifier == id) {
            losses.push(Loss {
                path: format!("$.endpoints[{i}]"),
                note: format!(
                    "2.1.1 has one endpoint per module: the {} {} endpoint is left out",
                    e.identifier, e.role
                ),
            });
            continue;
        }
        endpoints.push(v211::Endpoint {
            identifier: id,
            url: e.url.clone(),
            extra: e.extra.clone(),
        });
    }
    Converted {
        value: v211::VersionDetails {
            version: d.version.clone(),
            endpoints,
            extra: d.extra.clone(),
        },
        losses,
    }
}

/// 2.1.1 credentials as 2.2.1: one role, of the given kind (2.1.1 does not say it).
pub fn credentials_211_to_221(c: &v211::Credentials, role: v221::Role) -> v221::Credentials {
    v221::Credentials {
        token: crate::primitives::Str(c.token.0.clone()),
        url: c.url.clone(),
        roles: vec![v221::CredentialsRole {
            role,
            business_details: c.business_details.clone(),
            party_id: c.party_id.clone(),
            country_code: c.country_code.clone(),
            extra: Default::default(),
        }],
        extra: c.extra.clone(),
    }
}

/// 2.2.1 credentials as 2.1.1: the first role's party (the other roles noted as lost); `None`
/// without any role.
pub fn credentials_221_to_211(c: &v221::Credentials) -> Option<Converted<v211::Credentials>> {
    let first = c.roles.first()?;
    let losses = c
        .roles
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, r)| Loss {
            path: format!("$.roles[{i}]"),
            note: format!(
                "2.1.1 credentials name one party: {} {}{} is left out",
                r.role, r.country_code.0, r.party_id.0
            ),
        })
        .collect();
    Some(Converted {
        value: v211::Credentials {
            token: crate::primitives::Str(c.token.0.clone()),
            url: c.url.clone(),
            business_details: first.business_details.clone(),
            party_id: first.party_id.clone(),
            country_code: first.country_code.clone(),
            extra: c.extra.clone(),
        },
        losses,
    })
}
