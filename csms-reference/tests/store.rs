//! The storage test suite, run against SQLite (a temp file) and PostgreSQL
//! (`OCPP_TEST_POSTGRES_URL`, each run in its own schema; SKIPPED when unset).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use csms_reference::store::*;

fn unique() -> String {
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{}_{}", std::process::id(), n)
}

async fn suite(store: Arc<dyn Store>) {
    let sid = format!("CS-{}", unique());
    let at = "2024-05-01T10:00:00.000Z";

    // Stations, boots, registration.
    let st = store.ensure_station(&sid, "Pending", at).await.unwrap();
    assert_eq!(st.registration, "Pending");
    assert!(st.last_boot_at.is_none());
    store
        .record_boot(&BootRecord {
            station_id: sid.clone(),
            version: "2.0.1".into(),
            vendor: Some("ACME".into()),
            model: Some("W1".into()),
            serial_number: None,
            firmware_version: Some("1.2".into()),
            reason: Some("PowerUp".into()),
            payload: r#"{"reason":"PowerUp"}"#.into(),
            at: at.into(),
        })
        .await
        .unwrap();
    assert!(store.set_registration(&sid, "Accepted").await.unwrap());
    assert!(!store
        .set_registration("nobody-here", "Accepted")
        .await
        .unwrap());
    let st = store.ensure_station(&sid, "Pending", at).await.unwrap();
    assert_eq!(
        st.registration, "Accepted",
        "ensure_station keeps an existing station"
    );
    assert_eq!(st.vendor.as_deref(), Some("ACME"));
    assert_eq!(st.last_boot_at.as_deref(), Some(at));
    store.set_connected(&sid, "2.0.1", true, at).await.unwrap();
    assert!(store.station(&sid).await.unwrap().unwrap().connected);
    store
        .set_station_auth(&sid, Some(1), Some("$argon2id$x"), at)
        .await
        .unwrap();
    let st = store.station(&sid).await.unwrap().unwrap();
    assert_eq!(
        (st.security_profile, st.password_hash.as_deref()),
        (Some(1), Some("$argon2id$x"))
    );
    assert!(store
        .stations(Page {
            limit: 1000,
            offset: 0
        })
        .await
        .unwrap()
        .iter()
        .any(|s| s.id == sid));

    // Message log.
    for (i, dir) in ["in", "out"].iter().enumerate() {
        store
            .log_message(&MessageRecord {
                station_id: sid.clone(),
                direction: (*dir).into(),
                kind: if i == 0 { "call" } else { "result" }.into(),
                message_id: "m1".into(),
                action: "Heartbeat".into(),
                payload: "{}".into(),
                at: at.into(),
            })
            .await
            .unwrap();
    }
    let log = store.messages(&sid, Page::default()).await.unwrap();
    assert_eq!(
        log.iter().map(|m| m.direction.as_str()).collect::<Vec<_>>(),
        ["in", "out"]
    );

    // Status with history.
    for status in ["Available", "Occupied"] {
        store
            .record_status(&StatusRecord {
                station_id: sid.clone(),
                evse_id: 1,
                connector_id: 1,
                status: status.into(),
                error_code: None,
                info: None,
                timestamp: Some(at.into()),
                payload: "{}".into(),
                received_at: at.into(),
            })
            .await
            .unwrap();
    }
    let now = store.statuses(&sid).await.unwrap();
    assert_eq!(now.len(), 1);
    assert_eq!(now[0].status, "Occupied");
    let hist = store.status_history(&sid, Page::default()).await.unwrap();
    assert_eq!(
        hist.iter().map(|s| s.status.as_str()).collect::<Vec<_>>(),
        ["Occupied", "Available"]
    );

    // Id tokens: a typed row wins over the any-type row.
    let tok = format!("TOK{}", unique());
    let any = IdTokenRecord {
        id_token: tok.clone(),
        token_type: String::new(),
        status: "Blocked".into(),
        expiry: None,
        parent_id: Some("P1".into()),
        group_id: None,
    };
    store.put_id_token(&any, at).await.unwrap();
    let typed = IdTokenRecord {
        token_type: "ISO14443".into(),
        status: "Accepted".into(),
        ..any.clone()
    };
    store.put_id_token(&typed, at).await.unwrap();
    assert_eq!(
        store
            .id_token(&tok, "ISO14443")
            .await
            .unwrap()
            .unwrap()
            .status,
        "Accepted"
    );
    assert_eq!(
        store.id_token(&tok, "eMAID").await.unwrap().unwrap().status,
        "Blocked"
    );
    assert_eq!(
        store
            .id_token(&tok, "")
            .await
            .unwrap()
            .unwrap()
            .parent_id
            .as_deref(),
        Some("P1")
    );
    assert!(store.delete_id_token(&tok, "ISO14443").await.unwrap());
    assert!(!store.delete_id_token(&tok, "ISO14443").await.unwrap());
    assert!(store.id_token("no-such-token", "").await.unwrap().is_none());

    // 1.6 transaction: server id, redelivery gets the same id, stop with meter values.
    let start = TxStart {
        station_id: sid.clone(),
        connector_id: 1,
        id_token: "TAG".into(),
        meter_start: "100".into(),
        timestamp: "2024-05-01T10:01:00+02:00".into(),
        reservation_id: None,
        payload: "{}".into(),
        received_at: at.into(),
    };
    let id = store.start_transaction_16(&start).await.unwrap();
    assert_eq!(
        store.start_transaction_16(&start).await.unwrap(),
        id,
        "redelivered start"
    );
    let id2 = store
        .start_transaction_16(&TxStart {
            meter_start: "200".into(),
            ..start.clone()
        })
        .await
        .unwrap();
    assert_ne!(id, id2);
    let stop = TxEventRecord {
        station_id: sid.clone(),
        version: "1.6".into(),
        transaction_id: id.to_string(),
        seq_no: i64::MAX,
        event_type: "Ended".into(),
        timestamp: "2024-05-01T11:00:00+02:00".into(),
        meter_stop: Some("1500".into()),
        stop_reason: Some("Local".into()),
        meter_values: vec![MeterValueRecord {
            transaction_id: Some(id.to_string()),
            timestamp: "2024-05-01T11:00:00+02:00".into(),
            value: "1500".into(),
            measurand: Some("Energy.Active.Import.Register".into()),
            unit: Some("Wh".into()),
            ..Default::default()
        }],
        payload: "{}".into(),
        received_at: at.into(),
        ..Default::default()
    };
    assert!(
        !store
            .apply_transaction_event(&stop)
            .await
            .unwrap()
            .duplicate
    );
    assert!(
        store
            .apply_transaction_event(&stop)
            .await
            .unwrap()
            .duplicate
    );
    let tx = store
        .transaction(&sid, &id.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tx.status, "Ended");
    assert_eq!(tx.meter_start.as_deref(), Some("100"));
    assert_eq!(tx.meter_stop.as_deref(), Some("1500"));
    assert_eq!(tx.started_at.as_deref(), Some("2024-05-01T10:01:00+02:00"));
    assert_eq!(
        store
            .meter_values(&sid, &id.to_string(), Page::default())
            .await
            .unwrap()
            .len(),
        1
    );

    // 2.x transaction: events out of order, redelivery, offline flag.
    let ev = |seq: i64, ty: &str, offline: bool| TxEventRecord {
        station_id: sid.clone(),
        version: "2.0.1".into(),
        transaction_id: "tx-a".into(),
        seq_no: seq,
        event_type: ty.into(),
        timestamp: format!("2024-05-01T10:0{seq}:00Z"),
        offline,
        evse_id: Some(1),
        connector_id: Some(1),
        id_token: (ty == "Started").then(|| "TOKEN".into()),
        charging_state: Some("Charging".into()),
        meter_values: vec![MeterValueRecord {
            transaction_id: Some("tx-a".into()),
            evse_id: Some(1),
            timestamp: format!("2024-05-01T10:0{seq}:00Z"),
            value: format!("{seq}.50"),
            phase: Some("L1".into()),
            context: Some("Sample.Periodic".into()),
            signed_data: Some(r#"{"signedMeterData":"x"}"#.into()),
            ..Default::default()
        }],
        payload: "{}".into(),
        received_at: at.into(),
        ..Default::default()
    };
    store
        .apply_transaction_event(&ev(1, "Updated", true))
        .await
        .unwrap();
    store
        .apply_transaction_event(&ev(0, "Started", false))
        .await
        .unwrap();
    assert!(
        store
            .apply_transaction_event(&ev(1, "Updated", true))
            .await
            .unwrap()
            .duplicate
    );
    let tx = store.transaction(&sid, "tx-a").await.unwrap().unwrap();
    assert_eq!(
        (tx.status.as_str(), tx.last_seq_no, tx.offline),
        ("Active", Some(1), true)
    );
    assert_eq!(tx.started_at.as_deref(), Some("2024-05-01T10:00:00Z"));
    assert_eq!(tx.id_token.as_deref(), Some("TOKEN"));
    store
        .apply_transaction_event(&TxEventRecord {
            stop_reason: Some("EVDisconnected".into()),
            ..ev(2, "Ended", false)
        })
        .await
        .unwrap();
    let tx = store.transaction(&sid, "tx-a").await.unwrap().unwrap();
    assert_eq!(
        (tx.status.as_str(), tx.stop_reason.as_deref()),
        ("Ended", Some("EVDisconnected"))
    );
    let mv = store
        .meter_values(&sid, "tx-a", Page::default())
        .await
        .unwrap();
    assert_eq!(mv.len(), 3, "the redelivered event added no meter value");
    assert!(mv
        .iter()
        .any(|m| m.value == "1.50" && m.phase.as_deref() == Some("L1")));
    let page = store
        .meter_values(
            &sid,
            "tx-a",
            Page {
                limit: 2,
                offset: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(
        store
            .transactions(Some(&sid), Page::default())
            .await
            .unwrap()
            .len(),
        3
    );
    store
        .insert_meter_values(
            &sid,
            &[MeterValueRecord {
                transaction_id: Some("tx-a".into()),
                timestamp: at.into(),
                value: "9".into(),
                ..Default::default()
            }],
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .meter_values(&sid, "tx-a", Page::default())
            .await
            .unwrap()
            .len(),
        4
    );

    // Device model upsert keeps what a later partial report does not say.
    let var = VariableRecord {
        component: "OCPPCommCtrlr".into(),
        variable: "HeartbeatInterval".into(),
        attribute_type: "Actual".into(),
        value: Some("300".into()),
        mutability: Some("ReadWrite".into()),
        source: "NotifyReport".into(),
        updated_at: at.into(),
        ..Default::default()
    };
    store
        .upsert_variables(&sid, std::slice::from_ref(&var))
        .await
        .unwrap();
    store
        .upsert_variables(
            &sid,
            &[VariableRecord {
                value: Some("60".into()),
                mutability: None,
                source: "SetVariables".into(),
                ..var.clone()
            }],
        )
        .await
        .unwrap();
    let vars = store.variables(&sid, Page::default()).await.unwrap();
    assert_eq!(vars.len(), 1);
    assert_eq!(
        (vars[0].value.as_deref(), vars[0].mutability.as_deref()),
        (Some("60"), Some("ReadWrite"))
    );

    // Events, reservations, local list.
    for kind in ["SecurityEventNotification", "FirmwareStatusNotification"] {
        store
            .record_event(&EventRecord {
                station_id: sid.clone(),
                kind: kind.into(),
                status: Some("x".into()),
                detail: None,
                payload: "{}".into(),
                at: at.into(),
            })
            .await
            .unwrap();
    }
    assert_eq!(
        store
            .events(&sid, None, Page::default())
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store
            .events(&sid, Some("FirmwareStatusNotification"), Page::default())
            .await
            .unwrap()
            .len(),
        1
    );
    let r = ReservationRecord {
        id: 7,
        station_id: sid.clone(),
        evse_id: Some(1),
        id_token: "T".into(),
        expiry: at.into(),
        status: "Reserved".into(),
    };
    store.put_reservation(&r, at).await.unwrap();
    assert!(store
        .set_reservation_status(&sid, 7, "Expired", at)
        .await
        .unwrap());
    assert!(!store
        .set_reservation_status(&sid, 8, "Expired", at)
        .await
        .unwrap());
    assert_eq!(store.reservations(&sid).await.unwrap()[0].status, "Expired");
    assert_eq!(store.local_list_version(&sid).await.unwrap(), None);
    store.set_local_list_version(&sid, 3, at).await.unwrap();
    store.set_local_list_version(&sid, 4, at).await.unwrap();
    assert_eq!(store.local_list_version(&sid).await.unwrap(), Some(4));
}

#[tokio::test]
async fn sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("t.db").display());
    let store = SqliteStore::connect(&url).await.unwrap();
    suite(Arc::new(store)).await;
    // Reopening migrates nothing new and keeps the data.
    let again = SqliteStore::connect(&url).await.unwrap();
    assert_eq!(again.stations(Page::default()).await.unwrap().len(), 1);
}

#[tokio::test]
async fn postgres_store() {
    let Ok(url) = std::env::var("OCPP_TEST_POSTGRES_URL") else {
        println!("SKIPPED postgres_store: OCPP_TEST_POSTGRES_URL is not set");
        return;
    };
    let schema = format!("csms_test_{}", unique());
    let store = PgStore::connect_in_schema(&url, Some(&schema))
        .await
        .unwrap();
    suite(Arc::new(store.clone())).await;
    // Run the suite twice in the same schema: ids are unique per run.
    suite(Arc::new(store.clone())).await;
    sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .execute(store.pool())
        .await
        .unwrap();
}

/// On a SQLite file, the store's reads have connections of their own: a read while a unit of
/// work holds the writer (group commit keeps it busy under load) answers at once, from what is
/// committed, and sees the unit's writes once it commits. (A read that waited for the
/// writer's connection, which this task holds, would fail when the pool gives up, after 30 s.)
#[tokio::test]
async fn sqlite_reads_do_not_wait_for_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("r.db").display());
    let store = SqliteStore::connect(&url).await.unwrap();
    let (before, after) = ("2024-05-01T10:00:00.000Z", "2024-05-01T11:00:00.000Z");
    store
        .ensure_station("CS-R", "Pending", before)
        .await
        .unwrap();
    store.touch("CS-R", before).await.unwrap();

    let mut unit = store.begin().await.unwrap();
    unit.touch("CS-R", after).await.unwrap();
    let seen = store.station("CS-R").await.unwrap().unwrap();
    assert_eq!(
        seen.last_seen.as_deref(),
        Some(before),
        "not the uncommitted write"
    );
    assert_eq!(store.stations(Page::default()).await.unwrap().len(), 1);
    unit.commit().await.unwrap();

    let seen = store.station("CS-R").await.unwrap().unwrap();
    assert_eq!(
        seen.last_seen.as_deref(),
        Some(after),
        "the committed write"
    );
}
