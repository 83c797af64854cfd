//! Delivery of the persisted outbox: per partner, oldest push first, the next one only after
//! the previous was delivered; failures retried with exponential backoff.

use std::collections::HashMap;
use std::sync::Weak;
use std::time::Duration;

use ocpi::client::{Client, ClientError};
use ocpi::server::encoding_of;
use ocpi::v221::{InterfaceRole, ModuleId, VersionNumber};
use serde_json::Value;
use tokio::sync::watch;
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
    /// Try again later.
    Retry(String),
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
        let location = body
            .get("location_id")
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
    let mut client = Client::new(reg.token_b.clone(), encoding_of(&reg.version));
    client.retry.attempts = 1;
    let r = match item.method.as_str() {
        "PUT" => client.put_object(&url, &path, &body).await.map(|_| None),
        "PATCH" => client.patch_object(&url, &path, &body).await.map(|_| None),
        "DELETE" => client.delete_object(&url, &path).await.map(|_| None),
        "POST" => client.post_cdr(&url, &body).await.map(Some),
        other => return Outcome::Dropped(format!("unknown method {other}")),
    };
    match r {
        Ok(result) => Outcome::Delivered(result),
        Err(e) if retryable(&e) => Outcome::Retry(e.to_string()),
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

/// The delivery task, until `stop`.
pub(super) async fn run(cpo: Weak<OcpiCpo>, mut stop: watch::Receiver<bool>) {
    let mut backoff: HashMap<i64, (u32, Instant)> = HashMap::new();
    loop {
        let Some(c) = cpo.upgrade() else { return };
        let wake = c.outbox_wake.clone();
        let retry_max = c.settings.retry_max;
        let mut next: Option<Instant> = None;
        let partners = match c.db.outbox_partners().await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "reading the OCPI outbox failed");
                next = Some(Instant::now() + Duration::from_secs(1));
                Vec::new()
            }
        };
        for p in partners {
            if let Some((_, until)) = backoff.get(&p) {
                if *until > Instant::now() {
                    next = Some(next.map_or(*until, |n| n.min(*until)));
                    continue;
                }
            }
            loop {
                let item = match c.db.next_outbox(p).await {
                    Ok(Some(i)) => i,
                    Ok(None) => break,
                    Err(e) => {
                        tracing::error!(error = %e, "reading the OCPI outbox failed");
                        break;
                    }
                };
                match deliver(&c, &item).await {
                    Outcome::Delivered(result) => {
                        backoff.remove(&p);
                        let _ =
                            c.db.outbox_delivered(item.id, &now(), result.as_deref())
                                .await;
                    }
                    Outcome::Dropped(why) => {
                        tracing::warn!(partner = p, push = item.id, error = %why, "OCPI push refused; skipped");
                        let _ = c.db.outbox_failed(item.id, &why).await;
                        let _ = c
                            .db
                            .outbox_delivered(item.id, &now(), Some(&format!("dropped: {why}")))
                            .await;
                    }
                    Outcome::Retry(why) => {
                        let _ = c.db.outbox_failed(item.id, &why).await;
                        let n = backoff.get(&p).map_or(0, |(n, _)| n + 1);
                        let delay = BASE.saturating_mul(1 << n.min(16)).min(retry_max);
                        let until = Instant::now() + delay;
                        tracing::info!(partner = p, push = item.id, attempt = n + 1, ?delay, error = %why, "OCPI push failed; retrying later");
                        backoff.insert(p, (n, until));
                        next = Some(next.map_or(until, |x| x.min(until)));
                        break;
                    }
                }
            }
        }
        drop(c);
        let sleep = next.unwrap_or_else(|| Instant::now() + Duration::from_secs(60));
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep_until(sleep) => {}
            _ = stop.wait_for(|s| *s) => return,
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
