//! Locations: the operator's location descriptions with their EVSE assignments (bridge kind
//! `x-location`), the OCPI Locations built from them and the stations' statuses, and the
//! status PATCHes.

use ocpi::v221::{Location, ModuleId};
use ocpi::validate::Validate;
use serde_json::{json, Map, Value};

use super::OcpiCpo;
use crate::domain::now;
use crate::store::StatusRecord;

/// The bridge kind holding the operator's location descriptions.
pub(super) const CONFIG: &str = "x-location";

/// The OCPI status of an OCPP connector status (1.6 and 2.x spellings).
pub(super) fn ocpi_status(ocpp: &str) -> &'static str {
    match ocpp {
        "Available" => "AVAILABLE",
        "Preparing" | "Charging" | "SuspendedEV" | "SuspendedEVSE" | "Finishing" | "Occupied" => {
            "CHARGING"
        }
        "Reserved" => "RESERVED",
        "Unavailable" => "INOPERATIVE",
        "Faulted" => "OUTOFORDER",
        _ => "UNKNOWN",
    }
}

/// An EVSE of a location description: where it is, and its description.
#[derive(Debug, Clone)]
pub(super) struct Assigned {
    /// The location id.
    pub location_id: String,
    /// The EVSE uid.
    pub uid: String,
    /// The EVSE's description (with `station`, `evse` and `connectors`).
    pub evse: Value,
    /// The location description.
    pub location: Value,
}

fn uid_of(cfg: &Value) -> Option<String> {
    if let Some(u) = cfg.get("uid").and_then(Value::as_str) {
        return Some(u.to_owned());
    }
    let station = cfg.get("station")?.as_str()?;
    let evse = cfg.get("evse")?.as_i64()?;
    Some(format!("{station}-{evse}"))
}

/// Every assigned EVSE.
pub(super) fn assigned(cpo: &OcpiCpo) -> Vec<Assigned> {
    let mut out = Vec::new();
    for (ids, loc) in cpo.storage().list_kind(CONFIG, "SENDER") {
        let Some(id) = ids.first() else { continue };
        for e in loc
            .get("evses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(uid) = uid_of(e) {
                out.push(Assigned {
                    location_id: id.clone(),
                    uid,
                    evse: e.clone(),
                    location: loc.clone(),
                });
            }
        }
    }
    out
}

/// The EVSE a station's EVSE (1.6: connector) is assigned to.
pub(super) fn find(cpo: &OcpiCpo, station: &str, evse: i64) -> Option<Assigned> {
    assigned(cpo).into_iter().find(|a| {
        a.evse.get("station").and_then(Value::as_str) == Some(station)
            && a.evse.get("evse").and_then(Value::as_i64) == Some(evse)
    })
}

/// The `LocationReferences` of a station's location (for real-time authorization).
pub(super) fn references_of(cpo: &OcpiCpo, station: &str) -> Option<Value> {
    let mine: Vec<Assigned> = assigned(cpo)
        .into_iter()
        .filter(|a| a.evse.get("station").and_then(Value::as_str) == Some(station))
        .collect();
    let first = mine.first()?;
    let uids: Vec<&str> = mine
        .iter()
        .filter(|a| a.location_id == first.location_id)
        .map(|a| a.uid.as_str())
        .collect();
    Some(json!({"location_id": first.location_id, "evse_uids": uids}))
}

async fn current_status(cpo: &OcpiCpo, station: &str, evse: i64) -> &'static str {
    let statuses = cpo.csms.store().statuses(station).await.unwrap_or_default();
    statuses
        .iter()
        .filter(|s| s.evse_id == evse && s.connector_id != 0)
        .max_by(|a, b| a.received_at.cmp(&b.received_at))
        .map(|s| ocpi_status(&s.status))
        .unwrap_or("UNKNOWN")
}

/// Checks an operator's location description; the message names what is wrong.
pub(super) fn check_config(cfg: &Value) -> Result<(), String> {
    let o = cfg.as_object().ok_or("the body must be a JSON object")?;
    for (i, e) in o
        .get("evses")
        .map(|e| e.as_array().ok_or("evses must be an array"))
        .transpose()?
        .into_iter()
        .flatten()
        .enumerate()
    {
        if e.get("station").and_then(Value::as_str).is_none() {
            return Err(format!("evses[{i}].station (the station id) is required"));
        }
        if e.get("evse").and_then(Value::as_i64).is_none_or(|n| n < 1) {
            return Err(format!(
                "evses[{i}].evse (the EVSE id; the connector id on 1.6) must be a positive integer"
            ));
        }
        if e.get("connectors")
            .and_then(Value::as_array)
            .is_none_or(|c| c.is_empty())
        {
            return Err(format!(
                "evses[{i}].connectors must list at least one connector"
            ));
        }
    }
    Ok(())
}

/// The OCPI Location of a description, with the stations' current statuses; validated.
pub(super) async fn build(cpo: &OcpiCpo, id: &str, cfg: &Value) -> Result<Value, String> {
    let at = now();
    let mut loc: Map<String, Value> = cfg.as_object().cloned().unwrap_or_default();
    let evses = loc.remove("evses");
    let (cc, pid) = cpo.party();
    loc.insert("country_code".into(), json!(cc));
    loc.insert("party_id".into(), json!(pid));
    loc.insert("id".into(), json!(id));
    loc.entry("publish").or_insert(json!(true));
    loc.insert("last_updated".into(), json!(at));
    let mut out = Vec::new();
    for e in evses
        .as_ref()
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let station = e.get("station").and_then(Value::as_str).unwrap_or("");
        let n = e.get("evse").and_then(Value::as_i64).unwrap_or(0);
        let uid = uid_of(e).unwrap_or_default();
        let mut evse = e.as_object().cloned().unwrap_or_default();
        evse.remove("station");
        evse.remove("evse");
        evse.insert("uid".into(), json!(uid));
        evse.insert(
            "status".into(),
            json!(current_status(cpo, station, n).await),
        );
        evse.insert("last_updated".into(), json!(at));
        let connectors: Vec<Value> = e
            .get("connectors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| {
                let mut c = c.clone();
                if c.get("id").is_none() {
                    c["id"] = json!("1");
                }
                c["last_updated"] = json!(at);
                c
            })
            .collect();
        evse.insert("connectors".into(), Value::Array(connectors));
        out.push(Value::Object(evse));
    }
    loc.insert("evses".into(), Value::Array(out));
    let loc = Value::Object(loc);
    let typed: Location =
        serde_json::from_value(loc.clone()).map_err(|e| format!("not an OCPI location: {e}"))?;
    typed.validate().map_err(|e| e.to_string())?;
    Ok(loc)
}

/// Stores a location description, publishes the location and PUTs it to every partner.
pub(super) async fn put(cpo: &OcpiCpo, id: &str, cfg: Value) -> Result<Value, String> {
    check_config(&cfg)?;
    let loc = build(cpo, id, &cfg).await?;
    let ids = vec![id.to_owned()];
    cpo.storage().put_kind(CONFIG, "SENDER", ids.clone(), cfg);
    cpo.storage()
        .put_kind(ModuleId::Locations.as_str(), "SENDER", ids, loc.clone());
    let (cc, pid) = cpo.party();
    let (cc, pid) = (cc.to_owned(), pid.to_owned());
    cpo.push_all("PUT", &ModuleId::Locations, &[&cc, &pid, id], &loc)
        .await;
    Ok(loc)
}

/// A status report: the EVSE's status in the location, PATCHed to every partner.
pub(super) async fn status_changed(cpo: &OcpiCpo, rec: &StatusRecord) {
    if rec.connector_id == 0 {
        return;
    }
    let Some(a) = find(cpo, &rec.station_id, rec.evse_id) else {
        return;
    };
    let status = ocpi_status(&rec.status);
    let ids = vec![a.location_id.clone()];
    let Some(mut loc) = cpo
        .storage()
        .get_kind(ModuleId::Locations.as_str(), "SENDER", &ids)
    else {
        return;
    };
    let at = now();
    let mut changed = false;
    if let Some(evses) = loc.get_mut("evses").and_then(Value::as_array_mut) {
        for e in evses {
            if e.get("uid").and_then(Value::as_str) == Some(a.uid.as_str())
                && e.get("status").and_then(Value::as_str) != Some(status)
            {
                e["status"] = json!(status);
                e["last_updated"] = json!(at);
                changed = true;
            }
        }
    }
    if !changed {
        return;
    }
    loc["last_updated"] = json!(at);
    cpo.storage()
        .put_kind(ModuleId::Locations.as_str(), "SENDER", ids, loc);
    let (cc, pid) = cpo.party();
    let (cc, pid) = (cc.to_owned(), pid.to_owned());
    cpo.push_all(
        "PATCH",
        &ModuleId::Locations,
        &[&cc, &pid, &a.location_id, &a.uid],
        &json!({"status": status, "last_updated": at}),
    )
    .await;
}

/// How long after a partner's registration its catch-up pushes are queued: the partner
/// learns our roles and `TOKEN_C` from the answer to its credentials request, and may refuse
/// a push that arrives before it stored them.
const CATCH_UP_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// A partner that just registered is sent the current tariffs, then the current locations
/// (tariffs first: locations name them), each a PUT through its outbox, in the order they
/// were created. Changes made after this are pushed to it as to every partner.
pub(super) fn catch_up(cpo: &std::sync::Arc<OcpiCpo>, partner: u64) {
    let weak = std::sync::Arc::downgrade(cpo);
    tokio::spawn(async move {
        tokio::time::sleep(CATCH_UP_GRACE).await;
        let Some(cpo) = weak.upgrade() else { return };
        let Some(reg) = cpo.registration(partner) else {
            return;
        };
        let (cc, pid) = cpo.party();
        let (cc, pid) = (cc.to_owned(), pid.to_owned());
        let mut sent = 0;
        for module in [ModuleId::Tariffs, ModuleId::Locations] {
            if OcpiCpo::endpoint(&reg, &module, &ocpi::v221::InterfaceRole::Receiver).is_none() {
                continue;
            }
            for (ids, object) in cpo.storage().list_kind(module.as_str(), "SENDER") {
                let Some(id) = ids.first() else { continue };
                cpo.push(partner, "PUT", &module, &[&cc, &pid, id], &object)
                    .await;
                sent += 1;
            }
        }
        tracing::info!(
            partner,
            pushes = sent,
            "a new OCPI partner is sent the current tariffs and locations"
        );
    });
}
