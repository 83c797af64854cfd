//! Commands and charging profiles from eMSPs (and SCSPs), turned into OCPP calls of the
//! station's version; the station's answer, or its timeout, is POSTed to `response_url`.
//!
//! - A station has `command_timeout_seconds` to answer (the `timeout` of the synchronous
//!   answer); then TIMEOUT is posted. At most [`MAX_IN_FLIGHT`] commands wait for stations at
//!   once; more are refused (REJECTED).
//! - A partner acts on its own only: START_SESSION and RESERVE_NOW with tokens of its parties,
//!   STOP_SESSION and charging profiles on sessions of its tokens (others are
//!   `UNKNOWN_SESSION`: a session of another party is not disclosed), CANCEL_RESERVATION of
//!   its reservations.
//! - The token of a START_SESSION / RESERVE_NOW is kept ([`super::pending`]) until its session
//!   starts, the station refuses or does not answer, or it expires.

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Instant;

use ocpi::handlers::{
    ChargingProfilesReceiver, CommandRequest, CommandsReceiver, Handlers, RequestContext,
};
use ocpi::transport::{OcpiError, StatusCode};
use ocpi::v221::{
    ChargingProfileResponse, ChargingProfileResponseType, CommandResponse, CommandResponseType,
    CommandResult, CommandType, SetChargingProfile,
};
use ocpp_types::OcppVersion;
use serde_json::{json, Value};

use super::locations::{self, Assigned};
use super::OcpiCpo;
use crate::ocpp::{operator_call, OperatorCallError};

/// Commands and charging profiles waiting for a station's answer at most at once.
pub const MAX_IN_FLIGHT: usize = 1000;

static NEXT_ID: AtomicI64 = AtomicI64::new(0);

static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// A place among the requests waiting for a station, given back when dropped.
struct InFlight;

impl InFlight {
    fn take() -> Option<InFlight> {
        IN_FLIGHT
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < MAX_IN_FLIGHT).then_some(n + 1)
            })
            .ok()
            .map(|_| InFlight)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The synchronous answer's `timeout`: how long the station has (seconds).
fn timeout_secs(cpo: &OcpiCpo) -> u32 {
    cpo.settings.command_timeout.as_secs().min(u32::MAX as u64) as u32
}

/// The station's answer to `action`, or [`OperatorCallError::Timeout`] after the command
/// timeout.
async fn call_station(
    cpo: &OcpiCpo,
    station: &str,
    action: &str,
    payload: &Value,
) -> Result<(OcppVersion, Value), OperatorCallError> {
    tokio::time::timeout(
        cpo.settings.command_timeout,
        operator_call(
            &cpo.csms,
            &cpo.connections,
            station,
            action,
            &payload.to_string(),
        ),
    )
    .await
    .unwrap_or(Err(OperatorCallError::Timeout))
}

/// Until when the token of a command is kept when the command is accepted.
fn token_expiry(req: &CommandRequest) -> Instant {
    let now = Instant::now();
    let reservation = req
        .str_member("expiry_date")
        .filter(|_| req.command == CommandType::ReserveNow)
        .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
        .and_then(|d| {
            (d.with_timezone(&chrono::Utc) - chrono::Utc::now())
                .to_std()
                .ok()
        });
    match reservation {
        Some(d) => now + (d + super::pending::START_TTL).min(super::pending::RESERVATION_TTL_MAX),
        None => now + super::pending::START_TTL,
    }
}

fn fresh_id() -> i64 {
    (chrono::Utc::now().timestamp() % 1_000_000) * 1000 + NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

struct CpoHandlers(Arc<OnceLock<Weak<OcpiCpo>>>);

impl CpoHandlers {
    fn cpo(&self) -> Result<Arc<OcpiCpo>, OcpiError> {
        self.0
            .get()
            .and_then(Weak::upgrade)
            .ok_or_else(|| OcpiError::server_error("the CPO is shutting down"))
    }
}

/// The bridge's handlers of the commands and charging profiles Receiver interfaces.
pub(super) fn handlers(slot: Arc<OnceLock<Weak<OcpiCpo>>>) -> Handlers {
    let h = Arc::new(CpoHandlers(slot));
    Handlers {
        commands_receiver: h.clone(),
        charging_profiles_receiver: h,
        ..Handlers::default()
    }
}

fn response(result: CommandResponseType, timeout: u32) -> CommandResponse {
    CommandResponse {
        result,
        timeout,
        message: vec![],
        extra: Default::default(),
    }
}

fn unknown_location(what: &str) -> OcpiError {
    OcpiError::new(200, StatusCode::UNKNOWN_LOCATION, what.to_owned())
}

/// The assigned EVSE a command names (`location_id` and `evse_uid`; the first EVSE of the
/// location when no uid is given).
fn target(cpo: &OcpiCpo, req: &CommandRequest) -> Result<Assigned, OcpiError> {
    let loc = req
        .str_member("location_id")
        .ok_or_else(|| OcpiError::invalid_parameters("location_id is required"))?;
    let uid = req.str_member("evse_uid");
    locations::assigned(cpo)
        .into_iter()
        .find(|a| a.location_id == loc && uid.is_none_or(|u| u == a.uid))
        .ok_or_else(|| unknown_location(&format!("no EVSE {uid:?} at location {loc:?}")))
}

fn station_evse(a: &Assigned) -> (String, i64) {
    (
        a.evse
            .get("station")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        a.evse.get("evse").and_then(Value::as_i64).unwrap_or(1),
    )
}

fn id_token_2x(token: &Value) -> Value {
    let ty = match token.get("type").and_then(Value::as_str) {
        Some("RFID") => "ISO14443",
        Some("APP_USER") | Some("AD_HOC_USER") => "eMAID",
        _ => "Central",
    };
    json!({"idToken": token.get("uid").and_then(Value::as_str).unwrap_or(""), "type": ty})
}

/// The OCPP call of a command: station, action, payload (or the synchronous refusal).
fn plan(
    cpo: &OcpiCpo,
    req: &CommandRequest,
) -> Result<Result<(String, String, Value), CommandResponseType>, OcpiError> {
    let version_of = |station: &str| cpo.connections.get(station).map(|h| h.version());
    match &req.command {
        CommandType::StartSession | CommandType::ReserveNow => {
            let a = target(cpo, req)?;
            let (station, evse) = station_evse(&a);
            let Some(v) = version_of(&station) else {
                return Ok(Err(CommandResponseType::Rejected));
            };
            let token = req.body.get("token").cloned().unwrap_or(Value::Null);
            let uid = token
                .get("uid")
                .and_then(Value::as_str)
                .ok_or_else(|| OcpiError::invalid_parameters("token.uid is required"))?
                .to_owned();
            let mut remembered = token.clone();
            if let Some(r) = req.str_member("authorization_reference") {
                remembered["authorization_reference"] = json!(r);
            }
            let kept = cpo
                .command_tokens
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(&uid, remembered, token_expiry(req), Instant::now());
            if !kept {
                tracing::warn!(token = %uid, "too many command tokens waiting: command refused");
                return Ok(Err(CommandResponseType::Rejected));
            }
            let v16 = v == OcppVersion::V16;
            if req.command == CommandType::StartSession {
                Ok(Ok(if v16 {
                    (
                        station,
                        "RemoteStartTransaction".into(),
                        json!({"idTag": uid, "connectorId": evse}),
                    )
                } else {
                    (
                        station,
                        "RequestStartTransaction".into(),
                        json!({"idToken": id_token_2x(&token), "remoteStartId": fresh_id(), "evseId": evse}),
                    )
                }))
            } else {
                let expiry = req
                    .str_member("expiry_date")
                    .ok_or_else(|| OcpiError::invalid_parameters("expiry_date is required"))?;
                let rid = reservation_number(cpo, req.str_member("reservation_id").unwrap_or(""));
                Ok(Ok(if v16 {
                    (
                        station,
                        "ReserveNow".into(),
                        json!({"connectorId": evse, "expiryDate": expiry, "idTag": uid, "reservationId": rid}),
                    )
                } else {
                    (
                        station,
                        "ReserveNow".into(),
                        json!({"id": rid, "expiryDateTime": expiry, "idToken": id_token_2x(&token), "evseId": evse}),
                    )
                }))
            }
        }
        CommandType::StopSession => {
            let sid = req
                .str_member("session_id")
                .ok_or_else(|| OcpiError::invalid_parameters("session_id is required"))?;
            let Some((station, tx)) = session_of(cpo, sid) else {
                return Ok(Err(CommandResponseType::UnknownSession));
            };
            let Some(v) = version_of(&station) else {
                return Ok(Err(CommandResponseType::Rejected));
            };
            Ok(Ok(if v == OcppVersion::V16 {
                let n: i64 = tx.parse().map_err(|_| {
                    OcpiError::server_error("a 1.6 transaction id that is not a number")
                })?;
                (
                    station,
                    "RemoteStopTransaction".into(),
                    json!({"transactionId": n}),
                )
            } else {
                (
                    station,
                    "RequestStopTransaction".into(),
                    json!({"transactionId": tx}),
                )
            }))
        }
        CommandType::CancelReservation => {
            let rid = req
                .str_member("reservation_id")
                .ok_or_else(|| OcpiError::invalid_parameters("reservation_id is required"))?;
            let Some((station, n)) = reservation_of(cpo, rid) else {
                return Ok(Err(CommandResponseType::Rejected));
            };
            if version_of(&station).is_none() {
                return Ok(Err(CommandResponseType::Rejected));
            }
            Ok(Ok((
                station,
                "CancelReservation".into(),
                json!({"reservationId": n}),
            )))
        }
        CommandType::UnlockConnector => {
            let a = target(cpo, req)?;
            let (station, evse) = station_evse(&a);
            let Some(v) = version_of(&station) else {
                return Ok(Err(CommandResponseType::Rejected));
            };
            let connector: i64 = req
                .str_member("connector_id")
                .and_then(|c| c.parse().ok())
                .unwrap_or(1);
            Ok(Ok(if v == OcppVersion::V16 {
                (
                    station,
                    "UnlockConnector".into(),
                    json!({"connectorId": evse}),
                )
            } else {
                (
                    station,
                    "UnlockConnector".into(),
                    json!({"evseId": evse, "connectorId": connector}),
                )
            }))
        }
        _ => Ok(Err(CommandResponseType::NotSupported)),
    }
}

/// The OCPP reservation number of an OCPI reservation id (numeric ids are kept; others
/// get a fresh number), remembered with its station for CANCEL_RESERVATION.
fn reservation_number(cpo: &OcpiCpo, id: &str) -> i64 {
    let n = id.parse::<i64>().unwrap_or_else(|_| fresh_id());
    let station = cpo
        .storage()
        .get_kind("x-reservation", "SENDER", &[id.to_owned()]);
    if station.is_none() {
        cpo.storage().put_kind(
            "x-reservation",
            "SENDER",
            vec![id.to_owned()],
            json!({"number": n}),
        );
    }
    n
}

fn reservation_of(cpo: &OcpiCpo, id: &str) -> Option<(String, i64)> {
    let r = cpo
        .storage()
        .get_kind("x-reservation", "SENDER", &[id.to_owned()])?;
    Some((
        r.get("station")?.as_str()?.to_owned(),
        r.get("number")?.as_i64()?,
    ))
}

/// The partner that made a reservation.
fn reservation_partner(cpo: &OcpiCpo, id: &str) -> Option<u64> {
    cpo.storage()
        .get_kind("x-reservation", "SENDER", &[id.to_owned()])?
        .get("partner")?
        .as_u64()
}

/// Whether the token of a START_SESSION / RESERVE_NOW belongs to the calling partner (one of
/// its parties, or the hub it is reached through).
fn token_of_caller(cpo: &OcpiCpo, ctx: &RequestContext, req: &CommandRequest) -> bool {
    let Some(t) = req.body.get("token") else {
        // The body check of the OCPI server requires it; plan() names it when missing.
        return true;
    };
    let party = |k: &str| t.get(k).and_then(Value::as_str).unwrap_or("");
    cpo.owner_of(party("country_code"), party("party_id")) == Some(ctx.peer)
}

/// The station and transaction of a session we serve.
fn session_of(cpo: &OcpiCpo, session_id: &str) -> Option<(String, String)> {
    let v = cpo
        .storage()
        .get_kind("x-session", "SENDER", &[session_id.to_owned()])?;
    Some((
        v.get("station")?.as_str()?.to_owned(),
        v.get("transaction")?.as_str()?.to_owned(),
    ))
}

/// The partner a session we serve is reported to (the owner of its token's party).
fn session_owner(cpo: &OcpiCpo, session_id: &str) -> Option<u64> {
    let s = cpo.storage().get_kind(
        ocpi::v221::ModuleId::Sessions.as_str(),
        "SENDER",
        &[session_id.to_owned()],
    )?;
    let t = s.get("cdr_token")?;
    cpo.owner_of(
        t.get("country_code")?.as_str()?,
        t.get("party_id")?.as_str()?,
    )
}

/// The OCPI result of a station's answer.
fn result_of(
    command: &CommandType,
    answer: &Result<(OcppVersion, Value), OperatorCallError>,
) -> &'static str {
    match answer {
        Ok((_, a)) => match a.get("status").and_then(Value::as_str).unwrap_or("") {
            "Accepted" | "Unlocked" => "ACCEPTED",
            "Occupied" => "EVSE_OCCUPIED",
            "Faulted" | "Unavailable" => "EVSE_INOPERATIVE",
            "UnlockFailed" | "OngoingAuthorizedTransaction" | "UnknownConnector" => "FAILED",
            "NotSupported" => "NOT_SUPPORTED",
            "Rejected" if *command == CommandType::CancelReservation => "UNKNOWN_RESERVATION",
            _ => "REJECTED",
        },
        Err(OperatorCallError::Timeout) => "TIMEOUT",
        Err(_) => "FAILED",
    }
}

impl CommandsReceiver for CpoHandlers {
    fn command(
        &self,
        ctx: &RequestContext,
        request: &CommandRequest,
    ) -> Result<CommandResponse, OcpiError> {
        let cpo = self.cpo()?;
        if request.command == CommandType::StopSession {
            // Only the eMSP a session is reported to may stop it; to any other partner the
            // session does not exist.
            let owned = request
                .str_member("session_id")
                .is_some_and(|sid| session_owner(&cpo, sid) == Some(ctx.peer));
            if !owned && request.str_member("session_id").is_some() {
                return Ok(response(CommandResponseType::UnknownSession, 0));
            }
        }
        let own = match request.command {
            CommandType::StartSession | CommandType::ReserveNow => {
                token_of_caller(&cpo, ctx, request)
            }
            CommandType::CancelReservation => request
                .str_member("reservation_id")
                .is_none_or(|id| reservation_partner(&cpo, id).is_none_or(|p| p == ctx.peer)),
            _ => true,
        };
        if !own {
            tracing::warn!(partner = ctx.peer, command = %request.command, "an OCPI command on another party's token or reservation refused");
            return Ok(response(CommandResponseType::Rejected, 0));
        }
        let Some(slot) = InFlight::take() else {
            tracing::warn!("too many OCPI commands waiting for stations: command refused");
            return Ok(response(CommandResponseType::Rejected, 0));
        };
        let (station, action, payload) = match plan(&cpo, request)? {
            Ok(p) => p,
            Err(refusal) => return Ok(response(refusal, 0)),
        };
        if request.command == CommandType::ReserveNow {
            if let Some(id) = request.str_member("reservation_id") {
                let n = payload
                    .get("reservationId")
                    .or_else(|| payload.get("id"))
                    .cloned();
                cpo.storage().put_kind(
                    "x-reservation",
                    "SENDER",
                    vec![id.to_owned()],
                    json!({"station": station, "number": n, "partner": ctx.peer}),
                );
            }
        }
        // To a hub: routed back to the requesting party.
        let client = ctx.client().map(|c| cpo.audited_reply(ctx, "commands", c));
        let version = ctx.version.clone();
        let command = request.command.clone();
        let response_url = request.response_url.clone();
        let cpo2 = cpo.clone();
        let uid = request
            .body
            .get("token")
            .and_then(|t| t.get("uid"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        tokio::spawn(async move {
            let _slot = slot;
            let answer = call_station(&cpo2, &station, &action, &payload).await;
            let result = result_of(&command, &answer);
            tracing::info!(%station, %action, %command, result, "OCPI command answered by the station");
            if result != "ACCEPTED" {
                // No session will come of it: its token is not kept.
                if let Some(uid) = &uid {
                    cpo2.command_tokens
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(uid);
                }
            }
            let Some(client) = client else { return };
            let body: CommandResult = match serde_json::from_value(json!({"result": result})) {
                Ok(b) => b,
                Err(_) => return,
            };
            if let Err(e) = client
                .post_command_result(&response_url, &version, &body)
                .await
            {
                tracing::warn!(error = %e, %response_url, "posting a command result failed");
            }
        });
        Ok(response(CommandResponseType::Accepted, timeout_secs(&cpo)))
    }
}

/// An OCPI charging profile as the OCPP TxProfile of the station's version.
fn ocpp_profile(
    version: OcppVersion,
    evse: i64,
    tx: &str,
    p: &ocpi::v221::ChargingProfile,
) -> Result<(String, Value), OcpiError> {
    let unit = match p.charging_rate_unit.as_str() {
        "A" => "A",
        _ => "W",
    };
    let periods: Vec<Value> = p
        .charging_profile_period
        .iter()
        .map(|q| json!({"startPeriod": q.start_period, "limit": crate::smart_charging::num(q.limit.0)}))
        .collect();
    let id = fresh_id();
    let mut schedule = json!({"chargingRateUnit": unit, "chargingSchedulePeriod": periods});
    if let Some(d) = p.duration {
        schedule["duration"] = json!(d);
    }
    if let Some(s) = &p.start_date_time {
        schedule["startSchedule"] = json!(s.to_string());
    }
    if let Some(m) = &p.min_charging_rate {
        schedule["minChargingRate"] = crate::smart_charging::num(m.0);
    }
    let kind = if p.start_date_time.is_some() {
        "Absolute"
    } else {
        "Relative"
    };
    if version == OcppVersion::V16 {
        let n: i64 = tx
            .parse()
            .map_err(|_| OcpiError::server_error("a 1.6 transaction id that is not a number"))?;
        Ok((
            "SetChargingProfile".into(),
            json!({"connectorId": evse, "csChargingProfiles": {
                "chargingProfileId": id, "transactionId": n, "stackLevel": 0,
                "chargingProfilePurpose": "TxProfile", "chargingProfileKind": kind,
                "chargingSchedule": schedule}}),
        ))
    } else {
        schedule["id"] = json!(id);
        Ok((
            "SetChargingProfile".into(),
            json!({"evseId": evse, "chargingProfile": {
                "id": id, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
                "chargingProfileKind": kind, "transactionId": tx,
                "chargingSchedule": [schedule]}}),
        ))
    }
}

impl ChargingProfilesReceiver for CpoHandlers {
    fn set_profile(
        &self,
        ctx: &RequestContext,
        session_id: &str,
        request: SetChargingProfile,
    ) -> Result<ChargingProfileResponse, OcpiError> {
        let cpo = self.cpo()?;
        let refuse = |r| {
            Ok(ChargingProfileResponse {
                result: r,
                timeout: 0,
                extra: Default::default(),
            })
        };
        // Only on sessions of the caller's tokens (mod_charging_profiles: "ChargingProfile
        // can be created by the owner of a Token on Sessions that belong to that token").
        if session_owner(&cpo, session_id) != Some(ctx.peer) {
            return refuse(ChargingProfileResponseType::UnknownSession);
        }
        let Some((station, tx)) = session_of(&cpo, session_id) else {
            return refuse(ChargingProfileResponseType::UnknownSession);
        };
        let Some(version) = cpo.connections.get(&station).map(|h| h.version()) else {
            return refuse(ChargingProfileResponseType::Rejected);
        };
        let evse = cpo
            .storage()
            .get_kind("x-session", "SENDER", &[session_id.to_owned()])
            .and_then(|v| v.get("evse").and_then(Value::as_i64))
            .unwrap_or(1);
        let (action, payload) = ocpp_profile(version, evse, &tx, &request.charging_profile)?;
        // To a hub: routed back to the requesting party.
        let client = ctx
            .client()
            .map(|c| cpo.audited_reply(ctx, "chargingprofiles", c));
        let url = request.response_url.0.clone();
        let Some(slot) = InFlight::take() else {
            return refuse(ChargingProfileResponseType::Rejected);
        };
        let timeout = timeout_secs(&cpo);
        tokio::spawn(async move {
            let _slot = slot;
            // operator_call records an accepted profile through the smart-charging module.
            let answer = call_station(&cpo, &station, &action, &payload).await;
            let result = match &answer {
                Ok((_, a)) if a.get("status").and_then(Value::as_str) == Some("Accepted") => {
                    "ACCEPTED"
                }
                Ok(_) => "REJECTED",
                Err(_) => "UNKNOWN",
            };
            if let Some(c) = client {
                let Ok(r) = serde_json::from_value(json!({"result": result})) else {
                    return;
                };
                let r = ocpi::handlers::ChargingProfileAsyncResult::Set(r);
                if let Err(e) = c.post_charging_profile_result(&url, &r).await {
                    tracing::warn!(error = %e, %url, "posting a charging profile result failed");
                }
            }
        });
        Ok(ChargingProfileResponse {
            result: ChargingProfileResponseType::Accepted,
            timeout,
            extra: Default::default(),
        })
    }

    /// Reading the active profile is not offered; a session of another party is unknown.
    fn get_active_profile(
        &self,
        ctx: &RequestContext,
        session_id: &str,
        _duration: u32,
        _response_url: &str,
    ) -> Result<ChargingProfileResponse, OcpiError> {
        self.not_offered_on_own(ctx, session_id)
    }

    /// Clearing is not offered; a session of another party is unknown.
    fn clear_profile(
        &self,
        ctx: &RequestContext,
        session_id: &str,
        _response_url: &str,
    ) -> Result<ChargingProfileResponse, OcpiError> {
        self.not_offered_on_own(ctx, session_id)
    }
}

impl CpoHandlers {
    /// `NOT_SUPPORTED` on a session of the caller's tokens, `UNKNOWN_SESSION` on any other.
    fn not_offered_on_own(
        &self,
        ctx: &RequestContext,
        session_id: &str,
    ) -> Result<ChargingProfileResponse, OcpiError> {
        let cpo = self.cpo()?;
        let result = if session_owner(&cpo, session_id) == Some(ctx.peer) {
            ChargingProfileResponseType::NotSupported
        } else {
            ChargingProfileResponseType::UnknownSession
        };
        Ok(ChargingProfileResponse {
            result,
            timeout: 0,
            extra: Default::default(),
        })
    }
}
