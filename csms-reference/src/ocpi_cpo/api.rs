//! The operator's OCPI routes, mounted in the operator API (behind its authentication):
//!
//! - `POST /api/ocpi/partners` (`{"name": ..}` optional): a new partner's `TOKEN_A` and our
//!   versions URL, to hand to the eMSP (201); `GET /api/ocpi/partners`: every partner, its
//!   handshake state, version, roles and endpoints, whether it is a hub, and its `health`
//!   (circuit `closed` / `open` / `half_open`, consecutive failures, outbox backlog, pushes
//!   delivered / failed / dropped, rate-limited requests both ways, last success);
//!   `GET /api/ocpi/partners/{id}/outbox`: its pushes, delivered or queued.
//! - `GET /api/ocpi/audit?partner=&limit=&before=`: the audit log of OCPI requests both ways,
//!   newest first (`limit` 1 to 1000, default 100; `before` an id: the rows older than it),
//!   as `{"items": [..], "next_before": id or null}`.
//! - `GET /api/ocpi/hubclientinfo`: the `ClientInfo` objects hubs PUT (parties they connect).
//! - `PUT /api/ocpi/locations/{id}`: a location description (OCPI Location members such as
//!   `name`, `address`, `city`, `postal_code`, `country`, `coordinates`, `time_zone`,
//!   `operator`, `opening_times`, `facilities`, and `evses`: each with `station` (station id),
//!   `evse` (EVSE id; the connector id on 1.6), optional `uid` and OCPI EVSE members such as
//!   `evse_id`, `capabilities`, and `connectors` with OCPI connector members, `id` being the
//!   OCPP connector id, and `tariff_ids`); answers the published OCPI location, 400 naming what
//!   is wrong. `GET /api/ocpi/locations[/{id}]`.
//! - `PUT|GET|DELETE /api/ocpi/tariffs/{id}` (an OCPI 2.2.1 Tariff; `country_code`,
//!   `party_id`, `id` and `last_updated` are filled in), `GET /api/ocpi/tariffs`.
//! - `GET /api/ocpi/sessions`, `GET /api/ocpi/cdrs`, `GET /api/ocpi/tokens` (tokens pushed by
//!   eMSPs).
//! - `GET /api/ocpi/unpriced`: sessions whose CDR is held because it cannot be priced (the
//!   connector's tariff is not published, or the tariff engine refused), with the reason.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use ocpi::v221::{ModuleId, Tariff};
use ocpi::validate::Validate;
use serde_json::{json, Value};

use super::OcpiCpo;
use crate::domain::now;

type S = State<Arc<OcpiCpo>>;

fn err(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({"error": msg.into()}))).into_response()
}

/// A refused request: its status and message.
type Bad = (StatusCode, String);

fn body(b: &Bytes) -> Result<Value, Bad> {
    if b.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(b).map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            format!("the body is not JSON: {e}"),
        )
    })
}

/// The routes (merge them into the operator API router before its authentication layer).
pub fn routes(cpo: Arc<OcpiCpo>) -> Router {
    Router::new()
        .route("/api/ocpi/partners", post(create_partner).get(partners))
        .route("/api/ocpi/partners/{id}/outbox", get(outbox))
        .route("/api/ocpi/locations", get(locations))
        .route("/api/ocpi/locations/{id}", put(put_location).get(location))
        .route("/api/ocpi/tariffs", get(tariffs))
        .route(
            "/api/ocpi/tariffs/{id}",
            put(put_tariff).get(tariff).delete(delete_tariff),
        )
        .route("/api/ocpi/sessions", get(sessions))
        .route("/api/ocpi/cdrs", get(cdrs))
        .route("/api/ocpi/tokens", get(tokens))
        .route("/api/ocpi/unpriced", get(unpriced))
        .route("/api/ocpi/audit", get(audit))
        .route("/api/ocpi/hubclientinfo", get(hub_client_info))
        .with_state(cpo)
}

async fn create_partner(State(cpo): S, b: Bytes) -> Response {
    let b = match body(&b) {
        Ok(b) => b,
        Err((st, m)) => return err(st, m),
    };
    let name = match b.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return err(StatusCode::BAD_REQUEST, "name must be a string"),
    };
    let (id, token_a) = cpo.issue_token_a(name).await;
    (
        StatusCode::CREATED,
        Json(json!({"id": id, "token_a": token_a, "versions_url": cpo.versions_url()})),
    )
        .into_response()
}

async fn partners(State(cpo): S) -> Response {
    Json(json!(cpo.partners_json())).into_response()
}

async fn outbox(State(cpo): S, Path(id): Path<i64>) -> Response {
    match cpo.db.outbox(id, 10_000).await {
        Ok(rows) => Json(json!(rows)).into_response(),
        Err(e) => err(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

fn list(cpo: &OcpiCpo, module: &ModuleId) -> Response {
    let v: Vec<Value> = cpo
        .storage()
        .list_kind(module.as_str(), "SENDER")
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    Json(json!(v)).into_response()
}

fn one(cpo: &OcpiCpo, module: &ModuleId, id: &str) -> Response {
    match cpo
        .storage()
        .get_kind(module.as_str(), "SENDER", &[id.to_owned()])
    {
        Some(v) => Json(v).into_response(),
        None => err(StatusCode::NOT_FOUND, format!("no {module} {id:?}")),
    }
}

fn check_id(id: &str) -> Result<(), Bad> {
    if id.is_empty() || id.len() > 36 || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err((
            StatusCode::BAD_REQUEST,
            "an OCPI id has 1 to 36 visible ASCII characters".into(),
        ));
    }
    Ok(())
}

async fn locations(State(cpo): S) -> Response {
    list(&cpo, &ModuleId::Locations)
}

async fn location(State(cpo): S, Path(id): Path<String>) -> Response {
    one(&cpo, &ModuleId::Locations, &id)
}

async fn put_location(State(cpo): S, Path(id): Path<String>, b: Bytes) -> Response {
    if let Err((st, m)) = check_id(&id) {
        return err(st, m);
    }
    let b = match body(&b) {
        Ok(b) => b,
        Err((st, m)) => return err(st, m),
    };
    match super::locations::put(&cpo, &id, b).await {
        Ok(loc) => Json(loc).into_response(),
        Err(e) => err(StatusCode::BAD_REQUEST, e),
    }
}

async fn tariffs(State(cpo): S) -> Response {
    list(&cpo, &ModuleId::Tariffs)
}

async fn tariff(State(cpo): S, Path(id): Path<String>) -> Response {
    one(&cpo, &ModuleId::Tariffs, &id)
}

async fn put_tariff(State(cpo): S, Path(id): Path<String>, b: Bytes) -> Response {
    if let Err((st, m)) = check_id(&id) {
        return err(st, m);
    }
    let mut t = match body(&b) {
        Ok(b) => b,
        Err((st, m)) => return err(st, m),
    };
    let Some(o) = t.as_object_mut() else {
        return err(StatusCode::BAD_REQUEST, "the body must be a JSON object");
    };
    let (cc, pid) = cpo.party();
    o.insert("country_code".into(), json!(cc));
    o.insert("party_id".into(), json!(pid));
    o.insert("id".into(), json!(id));
    o.insert("last_updated".into(), json!(now()));
    let typed: Tariff = match serde_json::from_value(t.clone()) {
        Ok(t) => t,
        Err(e) => return err(StatusCode::BAD_REQUEST, format!("not an OCPI tariff: {e}")),
    };
    if let Err(e) = typed.validate() {
        return err(StatusCode::BAD_REQUEST, e.to_string());
    }
    cpo.storage().put_kind(
        ModuleId::Tariffs.as_str(),
        "SENDER",
        vec![id.clone()],
        t.clone(),
    );
    let (cc, pid) = (cc.to_owned(), pid.to_owned());
    cpo.push_all("PUT", &ModuleId::Tariffs, &[&cc, &pid, &id], &t)
        .await;
    Json(t).into_response()
}

async fn delete_tariff(State(cpo): S, Path(id): Path<String>) -> Response {
    if !cpo.storage().delete_kind(
        ModuleId::Tariffs.as_str(),
        "SENDER",
        std::slice::from_ref(&id),
    ) {
        return err(StatusCode::NOT_FOUND, format!("no tariff {id:?}"));
    }
    let (cc, pid) = cpo.party();
    let (cc, pid) = (cc.to_owned(), pid.to_owned());
    cpo.push_all(
        "DELETE",
        &ModuleId::Tariffs,
        &[&cc, &pid, &id],
        &Value::Null,
    )
    .await;
    StatusCode::NO_CONTENT.into_response()
}

async fn sessions(State(cpo): S) -> Response {
    list(&cpo, &ModuleId::Sessions)
}

async fn cdrs(State(cpo): S) -> Response {
    list(&cpo, &ModuleId::Cdrs)
}

async fn tokens(State(cpo): S) -> Response {
    let v: Vec<Value> = cpo
        .storage()
        .list_kind(ModuleId::Tokens.as_str(), "RECEIVER")
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    Json(json!(v)).into_response()
}

async fn unpriced(State(cpo): S) -> Response {
    Json(json!(cpo.unpriced())).into_response()
}

/// The query of `GET /api/ocpi/audit`.
#[derive(Debug, serde::Deserialize)]
struct AuditQuery {
    partner: Option<String>,
    limit: Option<String>,
    before: Option<String>,
}

async fn audit(
    State(cpo): S,
    axum::extract::Query(q): axum::extract::Query<AuditQuery>,
) -> Response {
    let num = |name: &str, v: &Option<String>| -> Result<Option<i64>, Bad> {
        match v.as_deref().filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => s.parse::<i64>().map(Some).map_err(|_| {
                (
                    StatusCode::BAD_REQUEST,
                    format!("{name} must be a number, not {s:?}"),
                )
            }),
        }
    };
    let (partner, limit, before) = match (
        num("partner", &q.partner),
        num("limit", &q.limit),
        num("before", &q.before),
    ) {
        (Ok(p), Ok(l), Ok(b)) => (p, l, b),
        (Err((st, m)), _, _) | (_, Err((st, m)), _) | (_, _, Err((st, m))) => return err(st, m),
    };
    let limit = limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return err(StatusCode::BAD_REQUEST, "limit must be 1 to 1000");
    }
    match cpo.db.audit(partner, before, limit).await {
        Ok(rows) => {
            let next = (rows.len() as i64 == limit)
                .then(|| rows.last().map(|r| r.id))
                .flatten();
            Json(json!({"items": rows, "next_before": next})).into_response()
        }
        Err(e) => err(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn hub_client_info(State(cpo): S) -> Response {
    let v: Vec<Value> = cpo
        .storage()
        .list_kind(ModuleId::HubClientInfo.as_str(), "RECEIVER")
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    Json(json!(v)).into_response()
}
