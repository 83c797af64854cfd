//! Smart charging in the dashboard: the installed charging profiles of a station (on its page)
//! and the site load-balancing groups (`/load-balancing`), through `/api/.../charging-profiles`
//! and `/api/load-balancing/groups`.

use std::fmt::Write as _;

use axum::extract::State;
use axum::response::Html;

use super::{db, enc, esc, fmt_time, layout, or_dash, PageError, PageResult};
use crate::api::ApiState;
use crate::store::ChargingProfileRecord;

/// The limit of the first period of a stored profile, with its unit.
fn first_limit(rec: &ChargingProfileRecord) -> Option<String> {
    let p = crate::smart_charging::stored_profile(rec).ok()?;
    let limit = p.profile.schedule()?.periods.first()?.limit?;
    Some(format!(
        "{} {}",
        limit.normalize(),
        rec.rate_unit.as_deref().unwrap_or("")
    ))
}

/// The card of a station's installed charging profiles (part of the station's live fragment).
pub(super) async fn profiles_card(s: &ApiState, id: &str) -> Result<String, PageError> {
    let store = s.csms.store();
    let list = store.charging_profiles(id, None).await.map_err(db)?;
    let group = store.load_group_of(id).await.map_err(db)?;
    let mut out = format!(
        r#"<div class="card flush"><h2>Charging profiles <span class="muted" style="font-weight:400">· installed, as the station accepted them{} · <a href="/api/stations/{}/charging-profiles">JSON</a></span></h2><table id="profiles"><thead><tr><th>Id</th><th>EVSE</th><th>Purpose</th><th class="num">Stack level</th><th>Kind</th><th class="num">First limit</th><th>Valid (UTC)</th><th>Transaction</th><th>Source</th><th></th></tr></thead><tbody>"#,
        match &group {
            Some(g) => format!(
                r#" · in load-balancing group <a href="/load-balancing#group-{}">{}</a>"#,
                esc(g),
                esc(g)
            ),
            None => String::new(),
        },
        enc(id)
    );
    for r in &list {
        let valid = match (&r.valid_from, &r.valid_to) {
            (None, None) => "always".to_owned(),
            (f, t) => format!("{} – {}", fmt_time(f.as_deref()), fmt_time(t.as_deref())),
        };
        let _ = write!(
            out,
            r#"<tr data-profile="{}"><td class="mono">{}</td><td>{}</td><td>{}</td><td class="num">{}</td><td>{}</td><td class="num mono">{}</td><td>{valid}</td><td class="mono">{}</td><td>{}</td><td class="num"><button class="small danger" data-method="DELETE" data-url="/api/stations/{}/charging-profiles/{}" data-confirm="Clear this profile on the station?">Clear</button></td></tr>"#,
            r.profile_id,
            r.profile_id,
            if r.evse_id == 0 {
                "station".to_owned()
            } else {
                r.evse_id.to_string()
            },
            esc(&r.purpose),
            r.stack_level,
            esc(&r.kind),
            or_dash(first_limit(r).as_deref()),
            or_dash(r.transaction_id.as_deref()),
            esc(&r.source),
            enc(id),
            r.profile_id,
        );
    }
    if list.is_empty() {
        out.push_str(r#"<tr><td colspan="10" class="empty">No charging profile installed through this CSMS.</td></tr>"#);
    }
    out.push_str("</tbody></table></div>");
    Ok(out)
}

async fn render(s: &ApiState) -> PageResult {
    let store = s.csms.store();
    let groups = store.load_groups().await.map_err(db)?;
    let mut out = String::new();
    for g in &groups {
        let members = store.load_group_members(&g.id).await.map_err(db)?;
        let txs = store.load_group_transactions(&g.id).await.map_err(db)?;
        let gid = enc(&g.id);
        let _ = write!(
            out,
            r#"<div class="card" id="group-{}" data-group="{}"><div class="toolbar" style="justify-content:space-between;margin-bottom:10px"><h2 style="margin:0">{} <span class="muted" style="font-weight:400">{}</span></h2><div style="display:flex;gap:6px"><button class="small" data-method="POST" data-url="/api/load-balancing/groups/{gid}/rebalance">Rebalance now</button><button class="small danger" data-method="DELETE" data-url="/api/load-balancing/groups/{gid}" data-confirm="Delete this group?">Delete group</button></div></div>
<div class="grid g4" style="margin-bottom:14px"><div class="stat"><div class="l">Grid limit</div><div class="v">{} {}</div></div><div class="stat"><div class="l">Minimum per car</div><div class="v">{} {}</div></div><div class="stat"><div class="l">Stations</div><div class="v">{}</div></div><div class="stat"><div class="l">Active sessions</div><div class="v">{}</div></div></div>
<div class="grid g2"><div><h3>Stations</h3>"#,
            esc(&g.id),
            esc(&g.id),
            esc(&g.id),
            or_dash(g.name.as_deref()),
            esc(&g.limit),
            esc(&g.unit),
            esc(&g.min_per_car),
            esc(&g.unit),
            members.len(),
            txs.len(),
        );
        if members.is_empty() {
            out.push_str(r#"<p class="muted">No station yet: add one below.</p>"#);
        }
        for m in &members {
            let _ = write!(
                out,
                r#"<span class="conn s-unknown" style="margin-bottom:6px"><a class="mono" href="/stations/{}">{}</a> <button class="small" style="padding:0 6px;border:0;background:none" title="Remove from the group" data-method="DELETE" data-url="/api/load-balancing/groups/{gid}/stations/{}">✕</button></span>"#,
                enc(m),
                esc(m),
                enc(m)
            );
        }
        out.push_str(r#"</div><div><h3>Limits given to the sessions</h3><table><thead><tr><th>Station</th><th>Transaction</th><th class="num">Limit</th></tr></thead><tbody>"#);
        for t in &txs {
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
            let _ = write!(
                out,
                r#"<tr><td><a class="mono" href="/stations/{}">{}</a></td><td><a class="mono" href="/sessions/{}/{}">{}</a></td><td class="num mono">{}</td></tr>"#,
                enc(&t.station_id),
                esc(&t.station_id),
                enc(&t.station_id),
                enc(&t.transaction_id),
                esc(&t.transaction_id),
                or_dash(profile.as_ref().and_then(first_limit).as_deref()),
            );
        }
        if txs.is_empty() {
            out.push_str(r#"<tr><td colspan="3" class="empty">No active session.</td></tr>"#);
        }
        out.push_str("</tbody></table></div></div></div>");
    }
    if groups.is_empty() {
        out.push_str(r#"<div class="card empty">No load-balancing group yet. A group shares one grid limit among the sessions of its stations.</div>"#);
    }
    Ok(Html(out))
}

/// `GET /load-balancing`: the load-balancing groups.
pub(super) async fn page(State(s): State<ApiState>) -> PageResult {
    let live = render(&s).await?.0;
    let body = format!(
        r#"<h1>Load balancing</h1><div class="sub">Site groups: one grid limit shared equally among the charging sessions of the group's stations, each given at least its minimum (later sessions wait when the limit is spent).</div>
<div class="card"><h2>New group</h2><form id="group-add" class="toolbar" data-api="POST /api/load-balancing/groups" data-reset="1">
<input name="id" placeholder="Group id" required maxlength="64" aria-label="Group id" style="width:140px">
<input name="name" placeholder="Name (optional)" aria-label="Name" style="width:180px">
<input name="limit" placeholder="Grid limit" required inputmode="decimal" aria-label="Limit" style="width:110px">
<select name="unit" aria-label="Unit"><option value="A">A per phase</option><option value="W">W</option></select>
<input name="minPerCar" placeholder="Minimum per car" inputmode="decimal" aria-label="Minimum per car" style="width:150px">
<button class="primary" type="submit">Create group</button></form>
<h2 style="margin-top:6px">Add a station to a group</h2><form id="group-member" class="toolbar" style="margin:0" data-api="PUT /api/load-balancing/groups/{{group}}/stations/{{station}}" data-reset="1">
<input name="group" placeholder="Group id" required aria-label="Group id" style="width:140px">
<input name="station" placeholder="Station id" required aria-label="Station id" style="width:180px">
<button type="submit">Add station</button></form></div>
<div id="groups-live" data-live="/ui/load-balancing" data-every="3000">{live}</div>"#
    );
    Ok(Html(layout("Load balancing", "load", &body)))
}

/// `GET /ui/load-balancing`: the live part of the load-balancing page.
pub(super) async fn fragment(State(s): State<ApiState>) -> PageResult {
    render(&s).await
}
