//! The operator HTTP API (JSON), described by the OpenAPI document at `/api/openapi.json`.
//!
//! Errors are `{"error": "...", ...}` with the HTTP status of the fault: 400 for a malformed
//! request (with `path` for a payload that breaks the OCPP schema), 404 for an unknown station
//! or record, 409 for a station that is not connected, 502 for a CALLERROR from the station
//! (with `code`) or an invalid answer, 504 when the station did not answer in time.
//! Listings take `limit` (1 to 1000, default 100) and `offset`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use ocpp_core::transport::Connections;
use ocpp_types::OcppVersion;
use serde_json::{json, Value};

use crate::domain::{now, Csms};
use crate::ocpp::{operator_call, OperatorCallError};
use crate::store::{IdTokenRecord, Page};

/// What the API handlers share.
#[derive(Debug, Clone)]
pub struct ApiState {
    /// The domain.
    pub csms: Arc<Csms>,
    /// The connected stations.
    pub connections: Connections,
}

/// An API error: a status and a JSON body.
#[derive(Debug)]
pub struct ApiError(pub(crate) StatusCode, pub(crate) Value);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(self.1)).into_response()
    }
}

pub(crate) fn err(status: StatusCode, msg: impl Into<String>) -> ApiError {
    ApiError(status, json!({"error": msg.into()}))
}

pub(crate) fn db(e: crate::store::StoreError) -> ApiError {
    tracing::error!(error = %e, "API storage error");
    err(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

impl From<OperatorCallError> for ApiError {
    fn from(e: OperatorCallError) -> Self {
        let msg = e.to_string();
        match e {
            OperatorCallError::UnknownStation(_) => err(StatusCode::NOT_FOUND, msg),
            OperatorCallError::NotConnected(_) | OperatorCallError::Disconnected => {
                err(StatusCode::CONFLICT, msg)
            }
            OperatorCallError::UnknownAction { .. } | OperatorCallError::Refused(_) => {
                err(StatusCode::BAD_REQUEST, msg)
            }
            OperatorCallError::InvalidPayload { path, .. } => {
                ApiError(StatusCode::BAD_REQUEST, json!({"error": msg, "path": path}))
            }
            OperatorCallError::CallError { code, description } => ApiError(
                StatusCode::BAD_GATEWAY,
                json!({"error": msg, "code": code, "description": description}),
            ),
            OperatorCallError::InvalidResponse(_) => err(StatusCode::BAD_GATEWAY, msg),
            OperatorCallError::Timeout => err(StatusCode::GATEWAY_TIMEOUT, msg),
        }
    }
}

type ApiResult = Result<Json<Value>, ApiError>;

fn page(q: &HashMap<String, String>) -> Result<Page, ApiError> {
    let num = |k: &str, d: i64, max: i64| -> Result<i64, ApiError> {
        match q.get(k) {
            None => Ok(d),
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| (0..=max).contains(n))
                .ok_or_else(|| {
                    err(
                        StatusCode::BAD_REQUEST,
                        format!("query parameter {k}={v:?} is not an integer from 0 to {max}"),
                    )
                }),
        }
    };
    let limit = num("limit", 100, 1000)?.max(1);
    Ok(Page {
        limit,
        offset: num("offset", 0, i64::MAX)?,
    })
}

pub(crate) fn body(b: &Bytes) -> Result<Value, ApiError> {
    if b.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(b).map_err(|e| {
        err(
            StatusCode::BAD_REQUEST,
            format!("the body is not JSON: {e}"),
        )
    })
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The API routes.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/metrics", get(metrics))
        .route("/api/stations", get(stations))
        .route("/api/stations/{id}", get(station))
        .route("/api/stations/{id}/registration", post(registration))
        .route("/api/stations/{id}/statuses", get(statuses))
        .route("/api/stations/{id}/status-history", get(status_history))
        .route("/api/stations/{id}/events", get(events))
        .route("/api/stations/{id}/messages", get(messages))
        .route("/api/stations/{id}/variables", get(variables))
        .route("/api/stations/{id}/reservations", get(reservations))
        .route("/api/stations/{id}/transactions", get(station_transactions))
        .route("/api/stations/{id}/transactions/{tx}", get(transaction))
        .route("/api/transactions", get(transactions))
        .route("/api/id-tokens", get(id_tokens).post(create_id_token))
        .route(
            "/api/id-tokens/{token}",
            put(update_id_token)
                .delete(delete_id_token)
                .get(get_id_token),
        )
        .route("/api/stations/{id}/calls/{action}", post(call))
        .route("/api/stations/{id}/remote-start", post(remote_start))
        .route("/api/stations/{id}/remote-stop", post(remote_stop))
        .route("/api/stations/{id}/reset", post(reset))
        .route("/api/stations/{id}/unlock", post(unlock))
        .route("/api/stations/{id}/availability", post(availability))
        .route("/api/stations/{id}/trigger", post(trigger))
        .route(
            "/api/stations/{id}/configuration",
            get(get_configuration).post(set_configuration),
        )
        .merge(crate::smart_charging::api::routes())
        .merge(crate::dashboard::routes())
        .fallback(|| async {
            err(
                StatusCode::NOT_FOUND,
                "no such route; see /api/openapi.json",
            )
        })
        .with_state(state)
        .layer(axum::middleware::from_fn(
            crate::dashboard::same_origin_writes,
        ))
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("openapi.json"),
    )
        .into_response()
}

async fn metrics(State(s): State<ApiState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.csms.metrics().render(),
    )
        .into_response()
}

fn station_json(s: &ApiState, rec: &crate::store::StationRecord) -> Value {
    let mut v = to_json(rec);
    let live = s.connections.get(&rec.id);
    v["connected"] = json!(live.is_some());
    if let Some(h) = live {
        v["version"] = json!(h.version().as_str());
        v["securityProfileInUse"] = json!(h.info().security_profile);
    }
    v["hasPassword"] = json!(rec.password_hash.is_some());
    v["bootPayload"] = rec
        .boot_payload
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or(Value::Null);
    v.as_object_mut().map(|o| o.remove("boot_payload"));
    v
}

async fn stations(
    State(s): State<ApiState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let list = s.csms.store().stations(page(&q)?).await.map_err(db)?;
    Ok(Json(
        json!({"items": list.iter().map(|r| station_json(&s, r)).collect::<Vec<_>>()}),
    ))
}

pub(crate) async fn known(s: &ApiState, id: &str) -> Result<crate::store::StationRecord, ApiError> {
    s.csms
        .store()
        .station(id)
        .await
        .map_err(db)?
        .ok_or_else(|| err(StatusCode::NOT_FOUND, format!("station {id:?} is unknown")))
}

async fn station(State(s): State<ApiState>, Path(id): Path<String>) -> ApiResult {
    let rec = known(&s, &id).await?;
    let mut v = station_json(&s, &rec);
    v["statuses"] = to_json(&s.csms.store().statuses(&id).await.map_err(db)?);
    v["localListVersion"] = json!(s.csms.store().local_list_version(&id).await.map_err(db)?);
    Ok(Json(v))
}

async fn registration(State(s): State<ApiState>, Path(id): Path<String>, b: Bytes) -> ApiResult {
    let b = body(&b)?;
    let reg = b.get("registration").and_then(Value::as_str).unwrap_or("");
    if !matches!(reg, "Accepted" | "Pending" | "Rejected") {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "registration must be Accepted, Pending or Rejected",
        ));
    }
    known(&s, &id).await?;
    s.csms
        .store()
        .set_registration(&id, reg)
        .await
        .map_err(db)?;
    Ok(Json(json!({"id": id, "registration": reg})))
}

async fn statuses(State(s): State<ApiState>, Path(id): Path<String>) -> ApiResult {
    known(&s, &id).await?;
    Ok(Json(
        json!({"items": s.csms.store().statuses(&id).await.map_err(db)?}),
    ))
}

async fn status_history(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    known(&s, &id).await?;
    Ok(Json(
        json!({"items": s.csms.store().status_history(&id, page(&q)?).await.map_err(db)?}),
    ))
}

async fn events(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    known(&s, &id).await?;
    let items = s
        .csms
        .store()
        .events(&id, q.get("kind").map(String::as_str), page(&q)?)
        .await
        .map_err(db)?;
    let items: Vec<Value> = items
        .iter()
        .map(|e| {
            let mut v = to_json(e);
            v["payload"] = serde_json::from_str(&e.payload).unwrap_or(Value::Null);
            v
        })
        .collect();
    Ok(Json(json!({"items": items})))
}

async fn messages(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    known(&s, &id).await?;
    Ok(Json(
        json!({"items": s.csms.store().messages(&id, page(&q)?).await.map_err(db)?}),
    ))
}

async fn variables(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    known(&s, &id).await?;
    Ok(Json(
        json!({"items": s.csms.store().variables(&id, page(&q)?).await.map_err(db)?}),
    ))
}

async fn reservations(State(s): State<ApiState>, Path(id): Path<String>) -> ApiResult {
    known(&s, &id).await?;
    // Expiry is enforced on read too, not only by the periodic sweep.
    s.csms
        .store()
        .expire_reservations(chrono::Utc::now())
        .await
        .map_err(db)?;
    Ok(Json(
        json!({"items": s.csms.store().reservations(&id).await.map_err(db)?}),
    ))
}

async fn station_transactions(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    known(&s, &id).await?;
    Ok(Json(
        json!({"items": s.csms.store().transactions(Some(&id), page(&q)?).await.map_err(db)?}),
    ))
}

async fn transactions(
    State(s): State<ApiState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let station = q.get("station").map(String::as_str);
    Ok(Json(
        json!({"items": s.csms.store().transactions(station, page(&q)?).await.map_err(db)?}),
    ))
}

async fn transaction(
    State(s): State<ApiState>,
    Path((id, tx)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let rec = s
        .csms
        .store()
        .transaction(&id, &tx)
        .await
        .map_err(db)?
        .ok_or_else(|| {
            err(
                StatusCode::NOT_FOUND,
                format!("station {id:?} has no transaction {tx:?}"),
            )
        })?;
    let mut v = to_json(&rec);
    v["meterValues"] = to_json(
        &s.csms
            .store()
            .meter_values(&id, &tx, page(&q)?)
            .await
            .map_err(db)?,
    );
    Ok(Json(v))
}

async fn id_tokens(
    State(s): State<ApiState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    Ok(Json(
        json!({"items": s.csms.store().id_tokens(page(&q)?).await.map_err(db)?}),
    ))
}

fn token_from(b: &Value, id: Option<&str>) -> Result<IdTokenRecord, ApiError> {
    let mut b = b.clone();
    if let (Some(id), Some(o)) = (id, b.as_object_mut()) {
        o.insert("idToken".into(), json!(id));
    }
    let t: IdTokenRecord = serde_json::from_value(b)
        .map_err(|e| err(StatusCode::BAD_REQUEST, format!("invalid id token: {e}")))?;
    if t.id_token.is_empty() || t.id_token.len() > 255 {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "idToken must have 1 to 255 characters",
        ));
    }
    const STATUSES: [&str; 10] = [
        "Accepted",
        "Blocked",
        "ConcurrentTx",
        "Expired",
        "Invalid",
        "NoCredit",
        "NotAllowedTypeEVSE",
        "NotAtThisLocation",
        "NotAtThisTime",
        "Unknown",
    ];
    if !STATUSES.contains(&t.status.as_str()) {
        return Err(err(
            StatusCode::BAD_REQUEST,
            format!(
                "status {:?} is not one of {}",
                t.status,
                STATUSES.join(", ")
            ),
        ));
    }
    if let Some(e) = &t.expiry {
        chrono::DateTime::parse_from_rfc3339(e).map_err(|_| {
            err(
                StatusCode::BAD_REQUEST,
                format!("expiry {e:?} is not an RFC 3339 date-time"),
            )
        })?;
    }
    Ok(t)
}

async fn create_id_token(
    State(s): State<ApiState>,
    b: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let t = token_from(&body(&b)?, None)?;
    s.csms.store().put_id_token(&t, &now()).await.map_err(db)?;
    Ok((StatusCode::CREATED, Json(to_json(&t))))
}

async fn update_id_token(
    State(s): State<ApiState>,
    Path(token): Path<String>,
    b: Bytes,
) -> ApiResult {
    let t = token_from(&body(&b)?, Some(&token))?;
    s.csms.store().put_id_token(&t, &now()).await.map_err(db)?;
    Ok(Json(to_json(&t)))
}

async fn get_id_token(
    State(s): State<ApiState>,
    Path(token): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let ty = q.get("type").map(String::as_str).unwrap_or("");
    let t = s.csms.store().id_token(&token, ty).await.map_err(db)?;
    t.map(|t| Json(to_json(&t)))
        .ok_or_else(|| err(StatusCode::NOT_FOUND, format!("no id token {token:?}")))
}

async fn delete_id_token(
    State(s): State<ApiState>,
    Path(token): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<StatusCode, ApiError> {
    let ty = q.get("type").map(String::as_str).unwrap_or("");
    if s.csms
        .store()
        .delete_id_token(&token, ty)
        .await
        .map_err(db)?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(err(
            StatusCode::NOT_FOUND,
            format!("no id token {token:?} of type {ty:?}"),
        ))
    }
}

async fn send(s: &ApiState, id: &str, action: &str, payload: &Value) -> ApiResult {
    let (version, answer) =
        operator_call(&s.csms, &s.connections, id, action, &payload.to_string()).await?;
    Ok(Json(
        json!({"station": id, "version": version.as_str(), "action": action, "response": answer}),
    ))
}

async fn call(
    State(s): State<ApiState>,
    Path((id, action)): Path<(String, String)>,
    b: Bytes,
) -> ApiResult {
    // The payload is checked against the station's version in operator_call; here only that
    // it is JSON at all (the OCPP decoder gives the path of any other fault).
    std::str::from_utf8(&b).map_err(|_| err(StatusCode::BAD_REQUEST, "the body is not UTF-8"))?;
    let payload = if b.is_empty() {
        "{}".to_owned()
    } else {
        String::from_utf8_lossy(&b).into_owned()
    };
    let (version, answer) = operator_call(&s.csms, &s.connections, &id, &action, &payload).await?;
    Ok(Json(
        json!({"station": id, "version": version.as_str(), "action": action, "response": answer}),
    ))
}

pub(crate) async fn version_of(s: &ApiState, id: &str) -> Result<OcppVersion, ApiError> {
    match s.connections.get(id) {
        Some(h) => Ok(h.version()),
        None => {
            known(s, id).await?;
            Err(err(
                StatusCode::CONFLICT,
                format!("station {id:?} is not connected"),
            ))
        }
    }
}

fn opt_i(b: &Value, k: &str) -> Result<Option<i64>, ApiError> {
    match b.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| err(StatusCode::BAD_REQUEST, format!("{k} must be an integer"))),
    }
}

fn req_s<'a>(b: &'a Value, k: &str) -> Result<&'a str, ApiError> {
    b.get(k).and_then(Value::as_str).ok_or_else(|| {
        err(
            StatusCode::BAD_REQUEST,
            format!("{k} (a string) is required"),
        )
    })
}

static REMOTE_START_ID: AtomicI64 = AtomicI64::new(0);

async fn remote_start(State(s): State<ApiState>, Path(id): Path<String>, b: Bytes) -> ApiResult {
    let b = body(&b)?;
    let token = req_s(&b, "idToken")?;
    let v = version_of(&s, &id).await?;
    if v == OcppVersion::V16 {
        let mut p = json!({"idTag": token});
        if let Some(c) = opt_i(&b, "connectorId")?.or(opt_i(&b, "evseId")?) {
            p["connectorId"] = json!(c);
        }
        send(&s, &id, "RemoteStartTransaction", &p).await
    } else {
        let rid = REMOTE_START_ID.fetch_add(1, Ordering::Relaxed)
            + (chrono::Utc::now().timestamp() % 1_000_000) * 1000;
        let ty = b.get("type").and_then(Value::as_str).unwrap_or("Central");
        let mut p = json!({"idToken": {"idToken": token, "type": ty}, "remoteStartId": rid});
        if let Some(e) = opt_i(&b, "evseId")? {
            p["evseId"] = json!(e);
        }
        send(&s, &id, "RequestStartTransaction", &p).await
    }
}

async fn remote_stop(State(s): State<ApiState>, Path(id): Path<String>, b: Bytes) -> ApiResult {
    let b = body(&b)?;
    let tx = match b.get("transactionId") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(err(StatusCode::BAD_REQUEST, "transactionId is required")),
    };
    let v = version_of(&s, &id).await?;
    if v == OcppVersion::V16 {
        let n: i64 = tx
            .parse()
            .map_err(|_| err(StatusCode::BAD_REQUEST, "a 1.6 transactionId is an integer"))?;
        send(
            &s,
            &id,
            "RemoteStopTransaction",
            &json!({"transactionId": n}),
        )
        .await
    } else {
        send(
            &s,
            &id,
            "RequestStopTransaction",
            &json!({"transactionId": tx}),
        )
        .await
    }
}

async fn reset(State(s): State<ApiState>, Path(id): Path<String>, b: Bytes) -> ApiResult {
    let b = body(&b)?;
    let hard = match b.get("type").and_then(Value::as_str).unwrap_or("Soft") {
        "Soft" | "OnIdle" => false,
        "Hard" | "Immediate" => true,
        other => {
            return Err(err(
                StatusCode::BAD_REQUEST,
                format!("type {other:?} is not Soft or Hard"),
            ))
        }
    };
    let v = version_of(&s, &id).await?;
    if v == OcppVersion::V16 {
        send(
            &s,
            &id,
            "Reset",
            &json!({"type": if hard { "Hard" } else { "Soft" }}),
        )
        .await
    } else {
        let mut p = json!({"type": if hard { "Immediate" } else { "OnIdle" }});
        if let Some(e) = opt_i(&b, "evseId")? {
            p["evseId"] = json!(e);
        }
        send(&s, &id, "Reset", &p).await
    }
}

async fn unlock(State(s): State<ApiState>, Path(id): Path<String>, b: Bytes) -> ApiResult {
    let b = body(&b)?;
    let c = opt_i(&b, "connectorId")?.unwrap_or(1);
    let v = version_of(&s, &id).await?;
    if v == OcppVersion::V16 {
        send(&s, &id, "UnlockConnector", &json!({"connectorId": c})).await
    } else {
        let e = opt_i(&b, "evseId")?.unwrap_or(1);
        send(
            &s,
            &id,
            "UnlockConnector",
            &json!({"evseId": e, "connectorId": c}),
        )
        .await
    }
}

async fn availability(State(s): State<ApiState>, Path(id): Path<String>, b: Bytes) -> ApiResult {
    let b = body(&b)?;
    let op = match b.get("operative") {
        Some(Value::Bool(o)) => *o,
        _ => {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "operative (true or false) is required",
            ))
        }
    };
    let status = if op { "Operative" } else { "Inoperative" };
    let v = version_of(&s, &id).await?;
    if v == OcppVersion::V16 {
        let c = opt_i(&b, "connectorId")?
            .or(opt_i(&b, "evseId")?)
            .unwrap_or(0);
        send(
            &s,
            &id,
            "ChangeAvailability",
            &json!({"connectorId": c, "type": status}),
        )
        .await
    } else {
        let mut p = json!({"operationalStatus": status});
        if let Some(e) = opt_i(&b, "evseId")? {
            p["evse"] = json!({"id": e});
            if let Some(c) = opt_i(&b, "connectorId")? {
                p["evse"]["connectorId"] = json!(c);
            }
        }
        send(&s, &id, "ChangeAvailability", &p).await
    }
}

async fn trigger(State(s): State<ApiState>, Path(id): Path<String>, b: Bytes) -> ApiResult {
    let b = body(&b)?;
    let msg = req_s(&b, "message")?;
    let v = version_of(&s, &id).await?;
    let mut p = json!({"requestedMessage": msg});
    if v == OcppVersion::V16 {
        if let Some(c) = opt_i(&b, "connectorId")? {
            p["connectorId"] = json!(c);
        }
    } else if let Some(e) = opt_i(&b, "evseId")? {
        p["evse"] = json!({"id": e});
        if let Some(c) = opt_i(&b, "connectorId")? {
            p["evse"]["connectorId"] = json!(c);
        }
    }
    send(&s, &id, "TriggerMessage", &p).await
}

async fn get_configuration(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let v = version_of(&s, &id).await?;
    if v == OcppVersion::V16 {
        let mut p = json!({});
        if let Some(keys) = q.get("keys") {
            p["key"] = json!(keys
                .split(',')
                .filter(|k| !k.is_empty())
                .collect::<Vec<_>>());
        }
        send(&s, &id, "GetConfiguration", &p).await
    } else {
        let vars = q.get("variables").ok_or_else(|| {
            err(
                StatusCode::BAD_REQUEST,
                "give variables=Component.Variable[,...] for a 2.x station",
            )
        })?;
        let mut data = Vec::new();
        for cv in vars.split(',').filter(|k| !k.is_empty()) {
            let (c, var) = cv.split_once('.').ok_or_else(|| {
                err(
                    StatusCode::BAD_REQUEST,
                    format!("{cv:?} is not Component.Variable"),
                )
            })?;
            data.push(json!({"component": {"name": c}, "variable": {"name": var}}));
        }
        send(&s, &id, "GetVariables", &json!({"getVariableData": data})).await
    }
}

async fn set_configuration(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    b: Bytes,
) -> ApiResult {
    let b = body(&b)?;
    let value = req_s(&b, "value")?;
    let v = version_of(&s, &id).await?;
    if v == OcppVersion::V16 {
        let key = req_s(&b, "key")?;
        send(
            &s,
            &id,
            "ChangeConfiguration",
            &json!({"key": key, "value": value}),
        )
        .await
    } else {
        let c = req_s(&b, "component")?;
        let var = req_s(&b, "variable")?;
        let mut d =
            json!({"component": {"name": c}, "variable": {"name": var}, "attributeValue": value});
        if let Some(t) = b.get("attributeType").and_then(Value::as_str) {
            d["attributeType"] = json!(t);
        }
        send(&s, &id, "SetVariables", &json!({"setVariableData": [d]})).await
    }
}
