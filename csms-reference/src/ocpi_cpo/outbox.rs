//! Delivery of the persisted outbox: one task per partner with pushes (so that a slow or
//! unreachable partner delays only its own pushes), each delivering its partner's pushes
//! oldest first, the next one only after the previous was delivered; failures retried with
//! exponential backoff, behind the partner's rate limit and circuit breaker ([`super::ops`]).
//! At most `push_concurrency` deliveries are in flight at once over all partners.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use ocpi::client::{ClientError, Exchange};
use ocpi::v221::{InterfaceRole, ModuleId, VersionNumber};
use serde_json::Value;
use tokio::sync::{watch, Notify, Semaphore};
use tokio::time::Instant;

use super::db::OutboxRow;
use super::OcpiCpo;
use crate::domain::now;

const BASE: Duration = Duration::from_millis(250);

enum Outcome {
    /// Delivered (with what the partner returned, e.g. a CDR's URL).
    Delivered(Option<String>),
    /// Refused for good (an OCPI client error, or the partner is gone): recorded, skipped.
    Dropped(String),
    /// Try again later (not before the partner's `Retry-After`, when it sent one with a 429).
    Retry(String, Option<Duration>),
}

fn retryable(e: &ClientError) -> bool {
    match e.http_status() {
        None => true,
        Some(s) => s >= 500 || s == 429 || s == 408,
    }
}

async fn deliver(cpo: &OcpiCpo, item: &OutboxRow) -> Outcome {
    let Some(reg) = cpo.registration(item.partner_id as u64) else {
        return Outcome::Dropped("the partner is not registered".into());
    };
    let module = ModuleId::from_wire(&item.module);
    let Some(url) = OcpiCpo::endpoint(&reg, &module, &InterfaceRole::Receiver) else {
        return Outcome::Dropped(format!("the partner has no {module} Receiver endpoint"));
    };
    let path: Vec<String> = serde_json::from_str(&item.path).unwrap_or_default();
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    let mut body: Value = serde_json::from_str(&item.body).unwrap_or(Value::Null);
    if reg.version != VersionNumber::V2_2_1 && item.method != "PATCH" {
        let (cc, pid) = cpo.party();
        let parties = ocpi::convert::Parties211 {
            country_code: cc.into(),
            party_id: pid.into(),
            token_country_code: body
                .pointer("/cdr_token/country_code")
                .and_then(Value::as_str)
                .unwrap_or(cc)
                .into(),
            token_party_id: body
                .pointer("/cdr_token/party_id")
                .and_then(Value::as_str)
                .unwrap_or(pid)
                .into(),
        };
        // Sessions name their location in `location_id`, CDRs in `cdr_location.id`.
        let location = body
            .get("location_id")
            .or_else(|| body.pointer("/cdr_location/id"))
            .and_then(Value::as_str)
            .and_then(|id| {
                cpo.storage()
                    .get_kind(ModuleId::Locations.as_str(), "SENDER", &[id.to_owned()])
            });
        match ocpi::convert::convert_json(
            &module,
            &VersionNumber::V2_2_1,
            &reg.version,
            &body,
            &parties,
            location.as_ref(),
        ) {
            Ok(c) => body = c.value,
            Err(e) => return Outcome::Dropped(format!("cannot convert to {}: {e}", reg.version)),
        }
    }
    if reg.version == VersionNumber::V2_1_1
        && item.method == "PATCH"
        && module == ModuleId::Sessions
    {
        session_patch_to_211(&mut body);
    }
    // To a hub: routed to the eMSP of the session or CDR, or (Locations, Tariffs) broadcast
    // to the hub itself.
    let to = if super::ops::is_hub(&reg) {
        let token = match module {
            ModuleId::Sessions => path.get(2).and_then(|id| {
                body.get("cdr_token").cloned().or_else(|| {
                    cpo.storage()
                        .get_kind(ModuleId::Sessions.as_str(), "SENDER", &[(*id).to_owned()])
                        .and_then(|s| s.get("cdr_token").cloned())
                })
            }),
            ModuleId::Cdrs => body.get("cdr_token").cloned(),
            _ => None,
        };
        let to = token.and_then(|t| {
            Some((
                t.get("country_code")?.as_str()?.to_owned(),
                t.get("party_id")?.as_str()?.to_owned(),
            ))
        });
        // A customer's session or CDR is never broadcast (sent to the hub itself): only
        // Locations and Tariffs are.
        if to.is_none() && matches!(module, ModuleId::Sessions | ModuleId::Cdrs) {
            return Outcome::Dropped(format!(
                "the {module} object names no party to route it to through the hub"
            ));
        }
        to
    } else {
        None
    };
    let retry_after: Arc<Mutex<Option<Duration>>> = Arc::default();
    let seen = retry_after.clone();
    let tap: super::ops::Tap = Arc::new(move |x: &Exchange| {
        if x.http_status == Some(429) {
            *seen.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(x.retry_after.unwrap_or(Duration::from_secs(1)));
        }
    });
    let client = cpo.partner_client(item.partner_id as u64, &reg, module.as_str(), to, Some(tap));
    let r = match item.method.as_str() {
        "PUT" => client.put_object(&url, &path, &body).await.map(|_| None),
        "PATCH" => client.patch_object(&url, &path, &body).await.map(|_| None),
        "DELETE" => client.delete_object(&url, &path).await.map(|_| None),
        "POST" => client.post_cdr(&url, &body).await.map(Some),
        other => return Outcome::Dropped(format!("unknown method {other}")),
    };
    match r {
        Ok(result) => Outcome::Delivered(result),
        Err(e) if retryable(&e) => Outcome::Retry(
            e.to_string(),
            *retry_after.lock().unwrap_or_else(|e| e.into_inner()),
        ),
        Err(e) => Outcome::Dropped(e.to_string()),
    }
}

/// A 2.2.1 session PATCH as 2.1.1 (PATCHes are not whole objects, so the object conversion
/// does not apply): `end_date_time` is `end_datetime`, `total_cost` a number excluding VAT,
/// and charging periods have no `tariff_id`.
fn session_patch_to_211(body: &mut Value) {
    let Some(o) = body.as_object_mut() else {
        return;
    };
    if let Some(end) = o.remove("end_date_time") {
        o.insert("end_datetime".into(), end);
    }
    if let Some(cost) = o.remove("total_cost") {
        let excl = match cost {
            Value::Object(mut p) => p.remove("excl_vat"),
            n @ Value::Number(_) => Some(n),
            _ => None,
        };
        if let Some(e) = excl {
            o.insert("total_cost".into(), e);
        }
    }
    if let Some(Value::Array(periods)) = o.get_mut("charging_periods") {
        for p in periods.iter_mut().filter_map(Value::as_object_mut) {
            p.remove("tariff_id");
        }
    }
}

/// The delivery task, until `stop`: starts a task per partner with pushes and wakes them
/// when pushes are queued. A partner's task that ended (it panicked, say) is logged and
/// started again at the next pass, so that partner's pushes do not stop silently.
pub(super) async fn run(cpo: Weak<OcpiCpo>, mut stop: watch::Receiver<bool>) {
    let mut workers: HashMap<i64, Arc<Notify>> = HashMap::new();
    // Dropped (aborting the partners' tasks) when this task ends or is aborted.
    let mut tasks = tokio::task::JoinSet::new();
    // The partner of each task, by task id.
    let mut owners: HashMap<tokio::task::Id, i64> = HashMap::new();
    let Some(c) = cpo.upgrade() else { return };
    let slots = Arc::new(Semaphore::new(c.settings.ops.push_concurrency.max(1)));
    drop(c);
    loop {
        let Some(c) = cpo.upgrade() else { return };
        let wake = c.outbox_wake.clone();
        let mut next = Instant::now() + Duration::from_secs(60);
        match c.db.outbox_partners().await {
            Ok(partners) => {
                for p in partners {
                    workers
                        .entry(p)
                        .or_insert_with(|| {
                            let w = Arc::new(Notify::new());
                            let h = tasks.spawn(partner_task(
                                cpo.clone(),
                                p,
                                w.clone(),
                                slots.clone(),
                                stop.clone(),
                            ));
                            owners.insert(h.id(), p);
                            w
                        })
                        .notify_one();
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "reading the OCPI outbox failed");
                next = Instant::now() + Duration::from_secs(1);
            }
        }
        drop(c);
        let mut ended = false;
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep_until(next) => {}
            Some(done) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                // A partner's task ended before `stop` (it panicked): forgotten, so the next
                // pass starts it again (after a second, not in a tight loop).
                let id = match &done { Ok((id, ())) => *id, Err(e) => e.id() };
                if let Some(p) = owners.remove(&id) {
                    workers.remove(&p);
                    match done {
                        Err(e) if e.is_panic() => tracing::error!(partner = p, error = %e, "OCPI delivery task of a partner panicked; restarting it"),
                        _ => tracing::warn!(partner = p, "OCPI delivery task of a partner ended; restarting it"),
                    }
                }
                ended = true;
            }
            _ = stop.wait_for(|s| *s) => return,
        }
        if ended {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    }
}

/// Delivers one partner's pushes in order, until `stop` (or the bridge is gone).
async fn partner_task(
    cpo: Weak<OcpiCpo>,
    p: i64,
    wake: Arc<Notify>,
    slots: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) {
    // Failed attempts of the push at the head, and when to try it again.
    let mut backoff: Option<(u32, Instant)> = None;
    loop {
        let Some(c) = cpo.upgrade() else { return };
        let retry_max = c.settings.retry_max;
        let gate = c.ops.gate(p as u64);
        let wait = match (gate, backoff.map(|(_, u)| u)) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b).filter(|u| *u > Instant::now()),
        };
        if let Some(until) = wait {
            drop(c);
            tokio::select! {
                _ = tokio::time::sleep_until(until) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            continue;
        }
        let item = match c.db.next_outbox(p).await {
            Ok(Some(i)) => i,
            Ok(None) => {
                drop(c);
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_secs(60)) => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
                continue;
            }
            Err(e) => {
                tracing::error!(error = %e, partner = p, "reading the OCPI outbox failed");
                drop(c);
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
                continue;
            }
        };
        let outcome = {
            let Ok(_slot) = slots.acquire().await else {
                return;
            };
            deliver(&c, &item).await
        };
        match outcome {
            Outcome::Delivered(result) => {
                backoff = None;
                c.ops.delivered(p as u64, false);
                let _ =
                    c.db.outbox_delivered(item.id, &now(), result.as_deref())
                        .await;
            }
            Outcome::Dropped(why) => {
                backoff = None;
                tracing::warn!(partner = p, push = item.id, error = %why, "OCPI push refused; skipped");
                c.ops.delivered(p as u64, true);
                let _ = c.db.outbox_failed(item.id, &why).await;
                let _ =
                    c.db.outbox_delivered(item.id, &now(), Some(&format!("dropped: {why}")))
                        .await;
            }
            Outcome::Retry(why, Some(retry_after)) => {
                // Rate limited by the partner: wait what it asked (at most the longest
                // backoff: a partner's huge Retry-After must not park its pushes for a year
                // or overflow the clock), not a failure.
                let retry_after = retry_after.min(retry_max);
                let _ = c.db.outbox_failed(item.id, &why).await;
                tracing::info!(
                    partner = p,
                    push = item.id,
                    ?retry_after,
                    "OCPI partner rate limits us; waiting"
                );
                c.ops.rate_limited_out(p as u64, retry_after);
            }
            Outcome::Retry(why, None) => {
                let _ = c.db.outbox_failed(item.id, &why).await;
                let n = backoff.map_or(0, |(n, _)| n + 1);
                let delay = BASE.saturating_mul(1 << n.min(16)).min(retry_max);
                tracing::info!(partner = p, push = item.id, attempt = n + 1, ?delay, error = %why, "OCPI push failed; retrying later");
                backoff = Some((n, Instant::now() + delay));
                c.ops.failed(p as u64);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::session_patch_to_211;
    use serde_json::json;

    #[test]
    fn a_session_patch_for_2_1_1_uses_its_field_names_and_a_number_cost() {
        let mut p = json!({
            "kwh": 10, "status": "COMPLETED", "end_date_time": "2026-01-01T10:00:00Z",
            "total_cost": {"excl_vat": 3.0, "incl_vat": 3.6},
            "charging_periods": [{"start_date_time": "2026-01-01T09:00:00Z",
                "dimensions": [{"type": "ENERGY", "volume": 10}], "tariff_id": "T1"}],
            "last_updated": "2026-01-01T10:00:00Z"
        });
        session_patch_to_211(&mut p);
        assert_eq!(
            p,
            json!({
                "kwh": 10, "status": "COMPLETED", "end_datetime": "2026-01-01T10:00:00Z",
                "total_cost": 3.0,
                "charging_periods": [{"start_date_time": "2026-01-01T09:00:00Z",
                    "dimensions": [{"type": "ENERGY", "volume": 10}]}],
                "last_updated": "2026-01-01T10:00:00Z"
            })
        );
    }
}
