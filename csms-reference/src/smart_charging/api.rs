//! The smart-charging routes of the operator API (merged into [`crate::api::router`]).
//!
//! | Route | What |
//! |---|---|
//! | `GET /api/stations/{id}/charging-profiles?evse=` | the stored profiles |
//! | `POST /api/stations/{id}/charging-profiles` | validate and send a SetChargingProfile |
//! | `DELETE /api/stations/{id}/charging-profiles/{profileId}` | ClearChargingProfile by id |
//! | `POST /api/stations/{id}/charging-profiles/clear` | ClearChargingProfile with criteria |
//! | `GET /api/stations/{id}/composite-schedule?evse=&duration=&unit=&start=` | local composite |
//! | `POST /api/stations/{id}/composite-schedule/compare` | ask the station, compare |
//! | `GET /api/stations/{id}/smart-charging/reconciliation` | stored vs reported |
//! | `GET, POST /api/load-balancing/groups` | groups |
//! | `GET, PUT, DELETE /api/load-balancing/groups/{gid}` | one group |
//! | `PUT, DELETE /api/load-balancing/groups/{gid}/stations/{id}` | membership |
//! | `POST /api/load-balancing/groups/{gid}/rebalance` | share the limit now |

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use ocpp_core::smart_charging::{Decimal, RateUnit};
use ocpp_types::OcppVersion;
use serde_json::{json, Value};

use super::*;
use crate::api::{body, db, err, known, version_of, ApiError, ApiState};
use crate::domain::now;
use crate::ocpp::operator_call;

type E = ApiError;
type R = Result<Json<Value>, E>;

fn profile_err(e: ProfileError) -> E {
    match e {
        ProfileError::Decode { path, message } => ApiError(
            StatusCode::BAD_REQUEST,
            json!({"error": format!("invalid payload at {path:?}: {message}"), "path": path}),
        ),
        ProfileError::Rule(r) => rule_err(&r),
    }
}

fn rule_err(r: &ValidationError) -> E {
    ApiError(
        StatusCode::BAD_REQUEST,
        json!({"error": format!("the profile breaks rule {}: {r}", r.rule()), "rule": r.rule()}),
    )
}

/// An optional integer member of a JSON body: 400 when present and not an integer (never
/// silently replaced by the default).
fn body_int(b: &Value, k: &str) -> Result<Option<i64>, E> {
    match b.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| {
            err(
                StatusCode::BAD_REQUEST,
                format!("{k} must be an integer, not {v}"),
            )
        }),
    }
}

fn q_int<T: std::str::FromStr>(
    q: &HashMap<String, String>,
    k: &str,
    what: &str,
) -> Result<Option<T>, E> {
    match q.get(k) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            err(
                StatusCode::BAD_REQUEST,
                format!("query parameter {k}={v:?} is not {what}"),
            )
        }),
    }
}

fn record_json(r: &ChargingProfileRecord) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
    v["profile"] = serde_json::from_str(&r.profile).unwrap_or(Value::Null);
    v["neutral"] = serde_json::from_str(&r.neutral).unwrap_or(Value::Null);
    v
}

/// The smart-charging routes, to merge into the API router.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/api/stations/{id}/charging-profiles",
            get(list_profiles).post(set_profile),
        )
        .route(
            "/api/stations/{id}/charging-profiles/clear",
            post(clear_profiles),
        )
        .route(
            "/api/stations/{id}/charging-profiles/{profile}",
            axum::routing::delete(clear_profile),
        )
        .route("/api/stations/{id}/composite-schedule", get(composite))
        .route(
            "/api/stations/{id}/composite-schedule/compare",
            post(compare),
        )
        .route(
            "/api/stations/{id}/smart-charging/reconciliation",
            get(reconcile),
        )
        .route(
            "/api/load-balancing/groups",
            get(list_groups).post(create_group),
        )
        .route(
            "/api/load-balancing/groups/{gid}",
            get(get_group).put(update_group).delete(delete_group),
        )
        .route(
            "/api/load-balancing/groups/{gid}/stations/{id}",
            put(add_member).delete(remove_member),
        )
        .route(
            "/api/load-balancing/groups/{gid}/rebalance",
            post(rebalance_now),
        )
}

async fn list_profiles(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> R {
    known(&s, &id).await?;
    let evse: Option<i64> = q_int(&q, "evse", "an EVSE id")?;
    let list = s
        .csms
        .store()
        .charging_profiles(&id, evse)
        .await
        .map_err(db)?;
    Ok(Json(
        json!({"items": list.iter().map(record_json).collect::<Vec<_>>()}),
    ))
}

async fn send(s: &ApiState, id: &str, action: &str, payload: &Value) -> Result<Value, E> {
    let (version, answer) =
        operator_call(&s.csms, &s.connections, id, action, &payload.to_string()).await?;
    Ok(json!({"station": id, "version": version.as_str(), "action": action, "response": answer}))
}

async fn set_profile(State(s): State<ApiState>, Path(id): Path<String>, b: Bytes) -> R {
    let payload = body(&b)?;
    let version = version_of(&s, &id).await?;
    let installed = read_set_request(version, &payload.to_string()).map_err(profile_err)?;
    check_profile(s.csms.store().as_ref(), &id, version, &installed)
        .await
        .map_err(db)?
        .map_err(|r| rule_err(&r))?;
    let mut out = send(&s, &id, "SetChargingProfile", &payload).await?;
    let stored = s
        .csms
        .store()
        .charging_profiles(&id, Some(i64::from(installed.evse_id)))
        .await
        .map_err(db)?
        .into_iter()
        .find(|r| r.profile_id == installed.profile.id);
    out["stored"] = stored.as_ref().map_or(Value::Null, record_json);
    Ok(Json(out))
}

async fn clear_profiles(State(s): State<ApiState>, Path(id): Path<String>, b: Bytes) -> R {
    let payload = body(&b)?;
    version_of(&s, &id).await?;
    Ok(Json(send(&s, &id, "ClearChargingProfile", &payload).await?))
}

async fn clear_profile(
    State(s): State<ApiState>,
    Path((id, profile)): Path<(String, String)>,
) -> R {
    let profile: i64 = profile.parse().map_err(|_| {
        err(
            StatusCode::BAD_REQUEST,
            format!("profile id {profile:?} is not an integer"),
        )
    })?;
    let version = version_of(&s, &id).await?;
    let payload = if version == OcppVersion::V16 {
        json!({"id": profile})
    } else {
        json!({"chargingProfileId": profile})
    };
    Ok(Json(send(&s, &id, "ClearChargingProfile", &payload).await?))
}

fn unit_of(v: Option<&str>) -> Result<Option<RateUnit>, E> {
    match v {
        None => Ok(None),
        Some("A") => Ok(Some(RateUnit::A)),
        Some("W") => Ok(Some(RateUnit::W)),
        Some(o) => Err(err(
            StatusCode::BAD_REQUEST,
            format!("unit {o:?} is not A or W"),
        )),
    }
}

async fn composite(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> R {
    known(&s, &id).await?;
    let evse_id: u32 = q_int(&q, "evse", "an EVSE id (0 or more)")?.unwrap_or(0);
    let duration: u32 = q_int(&q, "duration", "a duration in seconds")?.unwrap_or(86_400);
    if duration == 0 {
        return Err(err(StatusCode::BAD_REQUEST, "duration must be positive"));
    }
    let unit = unit_of(q.get("unit").map(String::as_str))?.unwrap_or(RateUnit::A);
    let start = match q.get("start") {
        None => Utc::now(),
        Some(t) => DateTime::parse_from_rfc3339(t)
            .map_err(|_| {
                err(
                    StatusCode::BAD_REQUEST,
                    format!("start {t:?} is not an RFC 3339 date-time"),
                )
            })?
            .with_timezone(&Utc),
    };
    let req = LocalComposite {
        evse_id,
        duration,
        unit,
        start,
    };
    Ok(Json(
        local_composite(s.csms.store().as_ref(), &id, &req)
            .await
            .map_err(db)?,
    ))
}

async fn compare(State(s): State<ApiState>, Path(id): Path<String>, b: Bytes) -> R {
    let b = body(&b)?;
    let version = version_of(&s, &id).await?;
    let evse = body_int(&b, "evseId")?.unwrap_or(0);
    let duration = body_int(&b, "duration")?.unwrap_or(3600);
    if evse < 0 || duration <= 0 {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "evseId must be 0 or more and duration positive",
        ));
    }
    let unit = unit_of(b.get("unit").and_then(Value::as_str))?;
    let mut p = if version == OcppVersion::V16 {
        json!({"connectorId": evse, "duration": duration})
    } else {
        json!({"evseId": evse, "duration": duration})
    };
    if let Some(u) = unit {
        p["chargingRateUnit"] = json!(u.as_str());
    }
    let mut out = send(&s, &id, "GetCompositeSchedule", &p).await?;
    let r = reconciliation(s.csms.store().as_ref(), &id)
        .await
        .map_err(db)?;
    out["comparison"] = r["compositeSchedules"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["evseId"] == json!(evse)).cloned())
        .unwrap_or(Value::Null);
    Ok(Json(out))
}

async fn reconcile(State(s): State<ApiState>, Path(id): Path<String>) -> R {
    known(&s, &id).await?;
    Ok(Json(
        reconciliation(s.csms.store().as_ref(), &id)
            .await
            .map_err(db)?,
    ))
}

fn decimal(b: &Value, k: &str, default: Option<Decimal>) -> Result<Decimal, E> {
    let bad = || {
        err(
            StatusCode::BAD_REQUEST,
            format!("{k} must be a decimal number of 0 or more"),
        )
    };
    let d = match b.get(k) {
        None | Some(Value::Null) => default.ok_or_else(|| {
            err(
                StatusCode::BAD_REQUEST,
                format!("{k} (a number) is required"),
            )
        })?,
        Some(Value::Number(n)) => n.to_string().parse().map_err(|_| bad())?,
        Some(Value::String(t)) => t.parse().map_err(|_| bad())?,
        Some(_) => return Err(bad()),
    };
    if d < Decimal::ZERO {
        return Err(bad());
    }
    Ok(d.normalize())
}

async fn group_json(s: &ApiState, g: &LoadGroupRecord) -> Result<Value, E> {
    let store = s.csms.store();
    let members = store.load_group_members(&g.id).await.map_err(db)?;
    let mut allocations = Vec::new();
    for t in store.load_group_transactions(&g.id).await.map_err(db)? {
        let evse = t.evse_id.or(t.connector_id);
        let profile = match evse {
            Some(e) => store
                .charging_profiles(&t.station_id, Some(e))
                .await
                .map_err(db)?
                .into_iter()
                .find(|r| {
                    r.source == "load-balancing"
                        && r.transaction_id.as_deref() == Some(&t.transaction_id)
                }),
            None => None,
        };
        let limit = profile
            .as_ref()
            .and_then(|r| stored_profile(r).ok())
            .and_then(|p| p.profile.schedule()?.periods.first()?.limit)
            .map(|d| d.normalize().to_string());
        allocations.push(json!({
            "stationId": t.station_id,
            "transactionId": t.transaction_id,
            "evseId": evse,
            "limit": limit,
        }));
    }
    let mut v = serde_json::to_value(g).unwrap_or(Value::Null);
    v["stations"] = json!(members);
    v["allocations"] = json!(allocations);
    Ok(v)
}

fn spawn_rebalance(s: &ApiState, group: &str) {
    let csms = s.csms.clone();
    let connections = s.connections.clone();
    let group = group.to_owned();
    tokio::spawn(async move {
        if let Err(e) = rebalance(&csms, &connections, &group).await {
            tracing::error!(group, error = %e, "rebalancing failed");
        }
    });
}

async fn list_groups(State(s): State<ApiState>) -> R {
    let mut items = Vec::new();
    for g in s.csms.store().load_groups().await.map_err(db)? {
        items.push(group_json(&s, &g).await?);
    }
    Ok(Json(json!({"items": items})))
}

fn group_from(
    b: &Value,
    id: &str,
    existing: Option<&LoadGroupRecord>,
) -> Result<LoadGroupRecord, E> {
    if id.is_empty() || id.len() > 64 {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "id must have 1 to 64 characters",
        ));
    }
    let old_limit = existing.and_then(|g| g.limit.parse().ok());
    let old_min = existing.and_then(|g| g.min_per_car.parse().ok());
    let limit = decimal(b, "limit", old_limit)?;
    let min = decimal(b, "minPerCar", old_min.or(Some(Decimal::ZERO)))?;
    let unit = match b.get("unit").and_then(Value::as_str) {
        Some(u) => unit_of(Some(u))?.unwrap_or(RateUnit::A),
        None => match existing {
            Some(g) => unit_of(Some(&g.unit))?.unwrap_or(RateUnit::A),
            None => RateUnit::A,
        },
    };
    let at = now();
    Ok(LoadGroupRecord {
        id: id.to_owned(),
        name: b
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| existing.and_then(|g| g.name.clone())),
        limit: limit.to_string(),
        unit: unit.as_str().to_owned(),
        min_per_car: min.to_string(),
        created_at: existing.map_or_else(|| at.clone(), |g| g.created_at.clone()),
        updated_at: at,
    })
}

async fn create_group(State(s): State<ApiState>, b: Bytes) -> Result<(StatusCode, Json<Value>), E> {
    let b = body(&b)?;
    let id = b
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| err(StatusCode::BAD_REQUEST, "id (a string) is required"))?;
    let store = s.csms.store();
    if store.load_group(id).await.map_err(db)?.is_some() {
        return Err(err(
            StatusCode::CONFLICT,
            format!("group {id:?} exists; PUT changes it"),
        ));
    }
    let g = group_from(&b, id, None)?;
    store.put_load_group(&g).await.map_err(db)?;
    let mut added = Vec::new();
    for st in b
        .get("stations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if let Some(other) = store
            .add_load_group_member(id, st, &now())
            .await
            .map_err(db)?
        {
            return Err(err(
                StatusCode::CONFLICT,
                format!("station {st:?} is in group {other:?}"),
            ));
        }
        added.push(st.to_owned());
    }
    if !added.is_empty() {
        spawn_rebalance(&s, id);
    }
    Ok((StatusCode::CREATED, Json(group_json(&s, &g).await?)))
}

async fn load(s: &ApiState, gid: &str) -> Result<LoadGroupRecord, E> {
    s.csms
        .store()
        .load_group(gid)
        .await
        .map_err(db)?
        .ok_or_else(|| err(StatusCode::NOT_FOUND, format!("no group {gid:?}")))
}

async fn get_group(State(s): State<ApiState>, Path(gid): Path<String>) -> R {
    let g = load(&s, &gid).await?;
    Ok(Json(group_json(&s, &g).await?))
}

async fn update_group(State(s): State<ApiState>, Path(gid): Path<String>, b: Bytes) -> R {
    let b = body(&b)?;
    let old = load(&s, &gid).await?;
    let g = group_from(&b, &gid, Some(&old))?;
    s.csms.store().put_load_group(&g).await.map_err(db)?;
    spawn_rebalance(&s, &gid);
    Ok(Json(group_json(&s, &g).await?))
}

async fn delete_group(State(s): State<ApiState>, Path(gid): Path<String>) -> Result<StatusCode, E> {
    let store = s.csms.store();
    let members = store.load_group_members(&gid).await.map_err(db)?;
    if !store.delete_load_group(&gid).await.map_err(db)? {
        return Err(err(StatusCode::NOT_FOUND, format!("no group {gid:?}")));
    }
    let csms = s.csms.clone();
    let connections = s.connections.clone();
    tokio::spawn(async move {
        // After any recomputation still sending shares to the members.
        let lock = group_lock(&csms, &gid);
        let _guard = lock.lock().await;
        for m in members {
            clear_load_profiles(&csms, &connections, &m).await;
        }
    });
    Ok(StatusCode::NO_CONTENT)
}

async fn add_member(State(s): State<ApiState>, Path((gid, id)): Path<(String, String)>) -> R {
    load(&s, &gid).await?;
    known(&s, &id).await?;
    if let Some(other) = s
        .csms
        .store()
        .add_load_group_member(&gid, &id, &now())
        .await
        .map_err(db)?
    {
        return Err(err(
            StatusCode::CONFLICT,
            format!("station {id:?} is in group {other:?}; remove it there first"),
        ));
    }
    spawn_rebalance(&s, &gid);
    let g = load(&s, &gid).await?;
    Ok(Json(group_json(&s, &g).await?))
}

async fn remove_member(State(s): State<ApiState>, Path((gid, id)): Path<(String, String)>) -> R {
    load(&s, &gid).await?;
    if !s
        .csms
        .store()
        .remove_load_group_member(&gid, &id)
        .await
        .map_err(db)?
    {
        return Err(err(
            StatusCode::NOT_FOUND,
            format!("station {id:?} is not in group {gid:?}"),
        ));
    }
    let csms: Arc<Csms> = s.csms.clone();
    let connections = s.connections.clone();
    let group = gid.clone();
    tokio::spawn(async move {
        {
            // After a recomputation that may still send this station a share (it read the
            // members before the removal): a share sent after the clear would stay.
            let lock = group_lock(&csms, &group);
            let _guard = lock.lock().await;
            clear_load_profiles(&csms, &connections, &id).await;
        }
        if let Err(e) = rebalance(&csms, &connections, &group).await {
            tracing::error!(group, error = %e, "rebalancing failed");
        }
    });
    let g = load(&s, &gid).await?;
    Ok(Json(group_json(&s, &g).await?))
}

async fn rebalance_now(State(s): State<ApiState>, Path(gid): Path<String>) -> R {
    load(&s, &gid).await?;
    let a = rebalance(&s.csms, &s.connections, &gid).await.map_err(db)?;
    Ok(Json(json!({"group": gid, "allocations": a})))
}
