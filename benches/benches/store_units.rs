//! `store-units`: how many units of work (one station message each: its state changes, the
//! CALL and its answer logged, the station touched, committed) the reference CSMS's store
//! completes per second, and how long each takes, on SQLite and PostgreSQL, with many stations
//! at once. No WebSocket, no codec: the store path of `csms serve` alone.
//!
//! ```sh
//! cargo bench -p benches --bench store_units -- sqlite:/tmp/units.db 500 10
//! cargo bench -p benches --bench store_units -- postgres://postgres@127.0.0.1/units 500 10
//! ```
//!
//! Arguments: database URL (a fresh SQLite file, or a PostgreSQL database whose tables the run
//! may fill), concurrent stations (default 500), seconds per mode (default 10). Each station
//! task sends, one after the other and as fast as the store answers, the messages of a
//! charging station in the proportions of `ocpp-sim --scenario charging` (a StatusNotification,
//! a TransactionEvent with two samples, MeterValues with two samples, heartbeats). Two modes
//! run one after the other on the same store:
//!
//! - `separate`: the statements one after the other as the CSMS issued them before batching
//!   (CALL logged, state changes, one insert per sample, `touch`, answer logged);
//! - `batched`: what the CSMS does now (samples in one insert, the CALL, its answer and the
//!   touch in one statement, [`StoreTx::log_exchange`]).
//!
//! Prints per mode: units per second, and the p50 / p99 / max time of a unit from asking for
//! it (`begin`, which waits for the connection) to its commit.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use csms_reference::store::{
    MessageRecord, MeterValueRecord, PgStore, SqliteStore, StatusRecord, Store, StoreTx,
    TxEventRecord,
};

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Separate,
    Batched,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn log(station: &str, direction: &str, kind: &str, n: u64, action: &str) -> MessageRecord {
    MessageRecord {
        station_id: station.to_owned(),
        direction: direction.into(),
        kind: kind.into(),
        message_id: n.to_string(),
        action: action.into(),
        payload: r#"{"connectorId":1,"meterValue":[{"timestamp":"2026-11-30T12:00:00Z","sampledValue":[{"value":"1234"}]}]}"#.into(),
        at: now(),
    }
}

fn samples(tx: &str, n: u64) -> Vec<MeterValueRecord> {
    ["Energy.Active.Import.Register", "Power.Active.Import"]
        .iter()
        .map(|m| MeterValueRecord {
            transaction_id: Some(tx.to_owned()),
            evse_id: Some(1),
            timestamp: format!("2026-11-30T12:00:{:02}.{:03}Z", n % 60, n % 1000),
            value: (n * 10).to_string(),
            measurand: Some((*m).into()),
            unit: Some("Wh".into()),
            context: Some("Sample.Periodic".into()),
            ..Default::default()
        })
        .collect()
}

/// One unit of work of message `n` of `station`.
async fn unit(store: &dyn Store, mode: Mode, station: &str, n: u64) -> Result<(), String> {
    let at = now();
    let kind = n % 6;
    let action = match kind {
        0 => "StatusNotification",
        1 | 2 => "TransactionEvent",
        3 | 4 => "MeterValues",
        _ => "Heartbeat",
    };
    let call = log(station, "in", "call", n, action);
    let answer = log(station, "out", "result", n, action);
    let mut db: Box<dyn StoreTx> = store.begin().await.map_err(|e| e.to_string())?;
    let e = |e: csms_reference::store::StoreError| e.to_string();
    if mode == Mode::Separate {
        db.log_message(&call).await.map_err(e)?;
    }
    let tx = format!("{station}-tx");
    match kind {
        0 => db
            .record_status(&StatusRecord {
                station_id: station.to_owned(),
                evse_id: 1,
                connector_id: 1,
                status: if n % 12 == 0 { "Occupied" } else { "Available" }.into(),
                error_code: None,
                info: None,
                timestamp: Some(at.clone()),
                payload: "{}".into(),
                received_at: at.clone(),
            })
            .await
            .map_err(e)?,
        1 | 2 => {
            let ev = TxEventRecord {
                station_id: station.to_owned(),
                version: "2.0.1".into(),
                transaction_id: tx.clone(),
                seq_no: n as i64,
                event_type: if n < 6 { "Started" } else { "Updated" }.into(),
                trigger_reason: Some("MeterValuePeriodic".into()),
                timestamp: at.clone(),
                evse_id: Some(1),
                connector_id: Some(1),
                meter_values: samples(&tx, n),
                payload: "{}".into(),
                received_at: at.clone(),
                ..Default::default()
            };
            if mode == Mode::Separate {
                // As before: the event without its samples, then one insert per sample.
                let mut bare = ev.clone();
                bare.meter_values.clear();
                db.apply_transaction_event(&bare).await.map_err(e)?;
                for m in &ev.meter_values {
                    db.insert_meter_values(station, std::slice::from_ref(m))
                        .await
                        .map_err(e)?;
                }
            } else {
                db.apply_transaction_event(&ev).await.map_err(e)?;
            }
        }
        3 | 4 => {
            let values = samples(&tx, n);
            if mode == Mode::Separate {
                for m in &values {
                    db.insert_meter_values(station, std::slice::from_ref(m))
                        .await
                        .map_err(e)?;
                }
            } else {
                db.insert_meter_values(station, &values).await.map_err(e)?;
            }
        }
        _ => {}
    }
    if mode == Mode::Separate {
        db.touch(station, &at).await.map_err(e)?;
        db.log_message(&answer).await.map_err(e)?;
    } else {
        db.log_exchange(&call, &answer, &at).await.map_err(e)?;
    }
    db.commit().await.map_err(e)
}

async fn run(store: Arc<dyn Store>, mode: Mode, stations: usize, secs: u64, tag: &str) {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let lat = Arc::new(Mutex::new(Vec::<u64>::new()));
    let mut tasks = Vec::new();
    for s in 0..stations {
        let (store, stop, done, errors, lat) = (
            store.clone(),
            stop.clone(),
            done.clone(),
            errors.clone(),
            lat.clone(),
        );
        let station = format!("UNITS-{tag}-{s:05}");
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                match unit(store.as_ref(), mode, &station, n).await {
                    Ok(()) => {
                        mine.push(t.elapsed().as_micros() as u64);
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        if errors.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!("{station}: {e}");
                        }
                    }
                }
                n += 1;
            }
            lat.lock().unwrap_or_else(|e| e.into_inner()).extend(mine);
        }));
    }
    let t = Instant::now();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let units = done.load(Ordering::Relaxed);
    let elapsed = t.elapsed().as_secs_f64();
    for t in tasks {
        let _ = t.await;
    }
    let mut l = std::mem::take(&mut *lat.lock().unwrap_or_else(|e| e.into_inner()));
    l.sort_unstable();
    let pct = |p: f64| {
        if l.is_empty() {
            return 0.0;
        }
        l[(((p / 100.0) * l.len() as f64).ceil() as usize).clamp(1, l.len()) - 1] as f64 / 1000.0
    };
    println!(
        "{:<8} {:>9.0} units/s  p50 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms  ({} units, {} errors, {} stations, {:.1} s)",
        if mode == Mode::Separate { "separate" } else { "batched" },
        units as f64 / elapsed,
        pct(50.0),
        pct(99.0),
        l.last().map_or(0.0, |m| *m as f64 / 1000.0),
        units,
        errors.load(Ordering::Relaxed),
        stations,
        elapsed
    );
}

fn main() {
    // `cargo bench` adds `--bench`.
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with("--"));
    let url = args
        .next()
        .unwrap_or_else(|| "sqlite:/tmp/store-units.db".into());
    let stations: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(500);
    let secs: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(10);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    rt.block_on(async move {
        let store: Arc<dyn Store> = if url.starts_with("sqlite:") {
            Arc::new(SqliteStore::connect(&url).await.expect("the SQLite store"))
        } else {
            Arc::new(PgStore::connect(&url).await.expect("the PostgreSQL store"))
        };
        for s in 0..stations {
            for tag in ["s", "b"] {
                let id = format!("UNITS-{tag}-{s:05}");
                store
                    .ensure_station(&id, "Accepted", &now())
                    .await
                    .expect("a station");
            }
        }
        println!("{url}: {stations} stations, {secs} s per mode");
        run(store.clone(), Mode::Separate, stations, secs, "s").await;
        run(store.clone(), Mode::Batched, stations, secs, "b").await;
    });
}
