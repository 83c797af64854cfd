//! Commands and charging profiles from eMSPs (and SCSPs), turned into OCPP calls of the
//! station's version; the station's answer, or its timeout, is POSTed to `response_url`.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock, Weak};

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

/// How long a station has to answer, in the synchronous answer (seconds).
const TIMEOUT: u32 = 30;

static NEXT_ID: AtomicI64 = AtomicI64::new(0);

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
            cpo.command_tokens
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(uid.clone(), remembered);
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
                    json!({"station": station, "number": n}),
                );
            }
        }
        let client = ctx.client();
        let version = ctx.version.clone();
        let command = request.command.clone();
        let response_url = request.response_url.clone();
        let cpo2 = cpo.clone();
        tokio::spawn(async move {
            let answer = operator_call(
                &cpo2.csms,
                &cpo2.connections,
                &station,
                &action,
                &payload.to_string(),
            )
            .await;
            let result = result_of(&command, &answer);
            tracing::info!(%station, %action, %command, result, "OCPI command answered by the station");
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
        Ok(response(CommandResponseType::Accepted, TIMEOUT))
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
        let client = ctx.client();
        let url = request.response_url.0.clone();
        tokio::spawn(async move {
            // operator_call records an accepted profile through the smart-charging module.
            let answer = operator_call(
                &cpo.csms,
                &cpo.connections,
                &station,
                &action,
                &payload.to_string(),
            )
            .await;
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
            timeout: TIMEOUT,
            extra: Default::default(),
        })
    }
}
