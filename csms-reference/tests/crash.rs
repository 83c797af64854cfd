//! The crash test: `csms serve` killed with SIGKILL in the middle of a burst of transactions
//! from 1.6, 2.0.1 and 2.1 stations, then restarted on the same SQLite database.
//!
//! - Every message a station got an answer to before the restart is in the database (the
//!   transaction, its events, its meter values, the status report, and the logged CALL), read
//!   straight from the file while the server is dead.
//! - After the restart the stations' offline queues replay what was not answered (2.x
//!   TransactionEvents with the same seqNo, 1.6 Start / MeterValues / Stop), and every station
//!   then redelivers its last messages once more on purpose: nothing is stored twice.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use csms_reference::store::{Page, SqliteStore, Store};
use ocpp_core::transport::{Backoff, StationClient};
use ocpp_core::{BootState, CallFailure, MemoryQueue, Peer, StationConfig};
use ocpp_types::{DecodeOptions, Protocol};
use serde_json::{json, Value};

mod common;

use common::station::NoCalls;

struct Server {
    child: Child,
    ocpp: String,
}

fn serve(db: &str, ocpp_listen: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_csms"))
        .arg("serve")
        .args(["--ocpp-listen", ocpp_listen, "--api-listen", "127.0.0.1:0"])
        .args(["--database-url", db])
        .env("CSMS_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("csms starts");
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut ocpp = None;
    for line in out.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("csms: stations connect to ws://") {
            ocpp = rest.split('/').next().map(str::to_owned);
            break;
        }
    }
    // Keep reading: the server's stdout stays open, as a supervisor's would.
    std::thread::spawn(move || out.for_each(drop));
    Server {
        child,
        ocpp: ocpp.expect("the station URL is printed"),
    }
}

/// One message a station sent, and the CSMS's answer if one came.
#[derive(Debug, Clone)]
struct Sent {
    station: String,
    action: &'static str,
    /// The transaction id (2.x id, 1.6 CSMS-assigned id as text).
    tx: String,
    /// The 2.x seqNo.
    seq: i64,
    /// A timestamp unique to this message.
    ts: String,
    payload: Value,
    answer: Option<Value>,
}

type Log = Arc<Mutex<Vec<Sent>>>;

async fn call<P: Protocol>(
    peer: &Peer<P>,
    action: &str,
    payload: &Value,
) -> Result<Value, CallFailure> {
    let a = P::action_from_name(action).unwrap();
    let req = P::decode_request(a, &payload.to_string(), &DecodeOptions::STRICT)
        .unwrap_or_else(|e| panic!("{action}: {e}"))
        .0;
    let resp = peer.call_any(req).await?;
    Ok(serde_json::from_str(&P::encode_response(&resp, &DecodeOptions::STRICT).unwrap()).unwrap())
}

/// Unique per station and message: day = station number, time of day = message counter.
fn ts(station: usize, n: usize) -> String {
    format!(
        "2025-01-{:02}T{:02}:{:02}:{:02}Z",
        station + 1,
        n / 3600,
        (n / 60) % 60,
        n % 60
    )
}

struct Station<P: Protocol> {
    id: String,
    no: usize,
    client: StationClient,
    peer: Peer<P>,
    log: Log,
    n: usize,
}

impl<P: Protocol> Station<P> {
    async fn start(ocpp: &str, id: &str, no: usize, log: Log) -> Self {
        let boot = if P::VERSION == ocpp_types::OcppVersion::V16 {
            r#"{"chargePointVendor":"ACME","chargePointModel":"Crash"}"#
        } else {
            r#"{"chargingStation":{"model":"Crash","vendorName":"ACME"},"reason":"PowerUp"}"#
        };
        let a = P::action_from_name("BootNotification").unwrap();
        let boot = P::decode_request(a, boot, &DecodeOptions::STRICT)
            .unwrap()
            .0;
        let mut backoff = Backoff::default();
        backoff.initial = Duration::from_millis(50);
        backoff.max = Duration::from_millis(300);
        let client = StationClient::builder(format!("ws://{ocpp}/ocpp"), id)
            .version::<P, _>(
                Arc::new(NoCalls),
                StationConfig::new(boot),
                MemoryQueue::new(),
            )
            .backoff(backoff)
            .start()
            .unwrap();
        let mut st = client.status();
        tokio::time::timeout(
            Duration::from_secs(20),
            st.wait_for(|s| s.boot == BootState::Accepted && s.connected.is_some()),
        )
        .await
        .expect("boot accepted in time")
        .unwrap();
        let peer = client.peer::<P>().unwrap();
        Station {
            id: id.into(),
            no,
            client,
            peer,
            log,
            n: 0,
        }
    }

    fn next_ts(&mut self) -> String {
        self.n += 1;
        ts(self.no, self.n)
    }

    /// Sends one message and records it. Transaction messages wait through a crash (the
    /// offline queue replays them); a StatusNotification cut by the crash is not retried, as
    /// a station reports its current status afresh after a reconnect.
    async fn send(
        &mut self,
        action: &'static str,
        tx: &str,
        seq: i64,
        ts: String,
        payload: Value,
    ) -> Option<Value> {
        let i = {
            let mut l = self.log.lock().unwrap();
            l.push(Sent {
                station: self.id.clone(),
                action,
                tx: tx.into(),
                seq,
                ts,
                payload: payload.clone(),
                answer: None,
            });
            l.len() - 1
        };
        match call(&self.peer, action, &payload).await {
            Ok(v) => {
                self.log.lock().unwrap()[i].answer = Some(v.clone());
                Some(v)
            }
            Err(e) => {
                assert_eq!(action, "StatusNotification", "{action} failed: {e}");
                let mut st = self.client.status();
                let _ = tokio::time::timeout(
                    Duration::from_secs(30),
                    st.wait_for(|s| s.connected.is_some()),
                )
                .await;
                None
            }
        }
    }

    /// One charging session: status, start, meter values, stop.
    async fn session(&mut self, k: usize) {
        let t = self.next_ts();
        if P::VERSION == ocpp_types::OcppVersion::V16 {
            let c = (k % 2 + 1) as i64;
            self.send(
                "StatusNotification",
                "",
                0,
                t.clone(),
                json!({"connectorId": c, "errorCode": "NoError", "status": "Charging", "timestamp": t}),
            )
            .await;
            let t = self.next_ts();
            let meter_start = (k * 1000) as i64;
            let a = self
                .send(
                    "StartTransaction",
                    "",
                    0,
                    t.clone(),
                    json!({"connectorId": c, "idTag": "CRASH", "meterStart": meter_start, "timestamp": t}),
                )
                .await
                .expect("a transaction message is answered");
            let tx = a["transactionId"].as_i64().unwrap();
            if let Some(e) = self
                .log
                .lock()
                .unwrap()
                .iter_mut()
                .rev()
                .find(|s| s.station == self.id && s.ts == t)
            {
                e.tx = tx.to_string();
            }
            let t = self.next_ts();
            self.send(
                "MeterValues",
                &tx.to_string(),
                0,
                t.clone(),
                json!({"connectorId": c, "transactionId": tx, "meterValue": [{"timestamp": t, "sampledValue": [{"value": format!("{}.50", meter_start + 500), "unit": "Wh"}]}]}),
            )
            .await;
            let t = self.next_ts();
            self.send(
                "StopTransaction",
                &tx.to_string(),
                0,
                t.clone(),
                json!({"transactionId": tx, "meterStop": meter_start + 900, "timestamp": t, "reason": "Local"}),
            )
            .await;
        } else {
            let tx = format!("{}-{k}", self.id);
            self.send(
                "StatusNotification",
                "",
                0,
                t.clone(),
                json!({"timestamp": t, "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1}),
            )
            .await;
            for (seq, ty, trig) in [
                (0, "Started", "Authorized"),
                (1, "Updated", "MeterValuePeriodic"),
                (2, "Ended", "StopAuthorized"),
            ] {
                let t = self.next_ts();
                let mut p = json!({"eventType": ty, "timestamp": t, "triggerReason": trig, "seqNo": seq,
                    "transactionInfo": {"transactionId": tx, "chargingState": "Charging"},
                    "evse": {"id": 1, "connectorId": 1}, "idToken": {"idToken": "CRASH", "type": "ISO14443"}});
                if seq == 1 {
                    p["meterValue"] = json!([{"timestamp": t, "sampledValue": [{"value": 12.5, "measurand": "Energy.Active.Import.Register"}]}]);
                }
                if seq == 2 {
                    p["transactionInfo"]["stoppedReason"] = json!("Local");
                }
                self.send("TransactionEvent", &tx, seq, t, p).await;
            }
        }
    }

    /// Sends the last transaction's messages again, as a station that never saw the answers
    /// would; every one must be answered as before and change nothing.
    async fn redeliver_last(&mut self) {
        let mine: Vec<Sent> = {
            let l = self.log.lock().unwrap();
            let last_tx = l
                .iter()
                .rev()
                .find(|s| s.station == self.id && !s.tx.is_empty())
                .map(|s| s.tx.clone())
                .unwrap();
            l.iter()
                .filter(|s| s.station == self.id && s.action != "StatusNotification")
                .filter(|s| {
                    s.tx == last_tx
                        || (s.action == "StartTransaction"
                            && s.answer.as_ref().is_some_and(|a| {
                                a["transactionId"].as_i64().map(|n| n.to_string())
                                    == Some(last_tx.clone())
                            }))
                })
                .cloned()
                .collect()
        };
        assert!(!mine.is_empty());
        for s in mine {
            let again = call(&self.peer, s.action, &s.payload).await.unwrap();
            if s.action == "StartTransaction" {
                assert_eq!(
                    again["transactionId"],
                    s.answer.as_ref().unwrap()["transactionId"],
                    "a redelivered StartTransaction gets the same id"
                );
            }
        }
    }
}

async fn count(pool: &sqlx::SqlitePool, sql: &str, binds: &[&str]) -> i64 {
    let mut q = sqlx::query_scalar::<_, i64>(sql);
    for b in binds {
        q = q.bind(*b);
    }
    q.fetch_one(pool).await.unwrap()
}

/// Every answered message of `sent` is in the database exactly once, with its logged CALL.
async fn check_stored(db: &str, sent: &[Sent]) -> usize {
    // The message log's payloads are encrypted at rest: read it through the store, with the
    // data key `csms serve` generated beside the database.
    let key_file = csms_reference::at_rest::default_key_file(db).unwrap();
    let key = std::fs::read_to_string(&key_file).unwrap();
    let cipher = csms_reference::at_rest::Cipher::new(
        csms_reference::at_rest::DataKey::from_base64(&key, "the key file").unwrap(),
    );
    let store = SqliteStore::connect(db).await.unwrap().with_cipher(cipher);
    let pool = store.pool();
    let mut checked = 0;
    for s in sent.iter().filter(|s| s.answer.is_some()) {
        let st = s.station.as_str();
        let what = format!("{} {} {} {}", st, s.action, s.tx, s.ts);
        let n = match s.action {
            "StatusNotification" => {
                count(pool, "SELECT COUNT(*) FROM status_history WHERE station_id = $1 AND timestamp = $2", &[st, &s.ts]).await
            }
            "TransactionEvent" => {
                let seq = s.seq.to_string();
                let n = count(pool, "SELECT COUNT(*) FROM transaction_events WHERE station_id = $1 AND transaction_id = $2 AND seq_no = CAST($3 AS INTEGER)", &[st, &s.tx, &seq]).await;
                assert_eq!(count(pool, "SELECT COUNT(*) FROM transactions WHERE station_id = $1 AND transaction_id = $2", &[st, &s.tx]).await, 1, "{what}");
                if s.seq == 1 {
                    assert_eq!(count(pool, "SELECT COUNT(*) FROM meter_values WHERE station_id = $1 AND transaction_id = $2 AND timestamp = $3", &[st, &s.tx, &s.ts]).await, 1, "{what}: its meter value");
                }
                if s.seq == 2 {
                    assert_eq!(count(pool, "SELECT COUNT(*) FROM transactions WHERE station_id = $1 AND transaction_id = $2 AND status = 'Ended'", &[st, &s.tx]).await, 1, "{what}: ended");
                }
                n
            }
            "StartTransaction" => {
                let tx = s.answer.as_ref().unwrap()["transactionId"].to_string();
                count(pool, "SELECT COUNT(*) FROM transactions WHERE station_id = $1 AND transaction_id = $2 AND started_at = $3", &[st, &tx, &s.ts]).await
            }
            "MeterValues" => {
                count(pool, "SELECT COUNT(*) FROM meter_values WHERE station_id = $1 AND transaction_id = $2 AND timestamp = $3", &[st, &s.tx, &s.ts]).await
            }
            "StopTransaction" => {
                count(pool, "SELECT COUNT(*) FROM transactions WHERE station_id = $1 AND transaction_id = $2 AND status = 'Ended' AND stopped_at = $3", &[st, &s.tx, &s.ts]).await
            }
            other => panic!("{other}"),
        };
        assert_eq!(n, 1, "{what}: stored once");
        let log = store
            .messages(
                st,
                Page {
                    limit: 1_000_000,
                    offset: 0,
                },
            )
            .await
            .unwrap();
        let calls: Vec<&str> = log
            .iter()
            .filter(|m| {
                m.direction == "in"
                    && m.kind == "call"
                    && m.action == s.action
                    && m.payload.contains(&s.ts)
            })
            .map(|m| m.message_id.as_str())
            .collect();
        let logged = calls.len();
        let answered = log
            .iter()
            .filter(|m| {
                m.direction == "out"
                    && m.kind == "result"
                    && m.action == s.action
                    && calls.contains(&m.message_id.as_str())
            })
            .count();
        assert!(
            logged >= 1 && answered >= 1,
            "{what}: the CALL and its answer are logged ({logged}, {answered})"
        );
        checked += 1;
    }
    store.pool().close().await;
    checked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_burst_loses_nothing_acknowledged_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("crash.db").display());
    let mut server = serve(&db, "127.0.0.1:0");
    let ocpp = server.ocpp.clone();
    let log: Log = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let sessions = Arc::new(AtomicUsize::new(0));

    let mut tasks = Vec::new();
    macro_rules! spawn_station {
        ($p:ty, $id:expr, $no:expr) => {{
            let (ocpp, log, stop, sessions) =
                (ocpp.clone(), log.clone(), stop.clone(), sessions.clone());
            tasks.push(tokio::spawn(async move {
                let mut s = Station::<$p>::start(&ocpp, $id, $no, log).await;
                let mut k = 0;
                while !stop.load(Ordering::SeqCst) {
                    s.session(k).await;
                    k += 1;
                    sessions.fetch_add(1, Ordering::SeqCst);
                }
                s.redeliver_last().await;
                s.client.shutdown().await;
                k
            }));
        }};
    }
    spawn_station!(ocpp16::Ocpp16, "CRASH16A", 0);
    spawn_station!(ocpp16::Ocpp16, "CRASH16B", 1);
    spawn_station!(ocpp201::Ocpp201, "CRASH201A", 2);
    spawn_station!(ocpp201::Ocpp201, "CRASH201B", 3);
    spawn_station!(ocpp21::Ocpp21, "CRASH21A", 4);
    spawn_station!(ocpp21::Ocpp21, "CRASH21B", 5);

    // Mid-burst: every station is in its sessions.
    let answered = || {
        log.lock()
            .unwrap()
            .iter()
            .filter(|s| s.answer.is_some())
            .count()
    };
    tokio::time::timeout(Duration::from_secs(60), async {
        while answered() < 60 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap_or_else(|_| {
        for t in &tasks {
            assert!(!t.is_finished(), "a station task ended early");
        }
        panic!(
            "the burst is stuck: {:#?}",
            log.lock().unwrap().iter().rev().take(8).collect::<Vec<_>>()
        )
    });
    server.child.kill().expect("SIGKILL");
    server.child.wait().unwrap();
    // Answers already on the wire may still arrive: let them, then freeze the picture.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before: Vec<Sent> = log.lock().unwrap().clone();
    let acked_before = before.iter().filter(|s| s.answer.is_some()).count();
    let unanswered = before.iter().filter(|s| s.answer.is_none()).count();
    println!("crash: {acked_before} messages answered before SIGKILL, {unanswered} in flight");
    if unanswered == 0 {
        // The stations send without pause, so this is rare; the stored-state checks below still
        // hold, the run only proves less about messages cut off mid-flight.
        println!("crash: the kill happened to fall between messages (nothing in flight)");
    }
    assert_eq!(check_stored(&db, &before).await, acked_before);

    // Restart on the same database and port: the stations reconnect and replay.
    let sessions_at_restart = sessions.load(Ordering::SeqCst);
    let mut server = serve(&db, &ocpp);
    tokio::time::timeout(Duration::from_secs(60), async {
        while sessions.load(Ordering::SeqCst) < sessions_at_restart + 12 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the stations carry on after the restart");
    stop.store(true, Ordering::SeqCst);
    let mut total_sessions = 0;
    for t in tasks {
        total_sessions += tokio::time::timeout(Duration::from_secs(60), t)
            .await
            .expect("stations finish")
            .unwrap();
    }
    let after: Vec<Sent> = log.lock().unwrap().clone();
    let lost: Vec<&Sent> = after
        .iter()
        .filter(|s| s.answer.is_none() && s.action != "StatusNotification")
        .collect();
    assert!(
        lost.is_empty(),
        "the offline queues replayed everything: {lost:?}"
    );
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    // Everything answered is there exactly once; nothing more than what was sent.
    let checked = check_stored(&db, &after).await;
    assert!(checked > acked_before);
    let store = SqliteStore::connect(&db).await.unwrap();
    let pool = store.pool();
    let n_tx = count(pool, "SELECT COUNT(*) FROM transactions", &[]).await;
    assert_eq!(n_tx as usize, total_sessions, "one transaction per session");
    let ended = count(
        pool,
        "SELECT COUNT(*) FROM transactions WHERE status = 'Ended'",
        &[],
    )
    .await;
    assert_eq!(ended, n_tx);
    let events = count(pool, "SELECT COUNT(*) FROM transaction_events", &[]).await;
    let sent_events = after
        .iter()
        .filter(|s| {
            matches!(
                s.action,
                "TransactionEvent" | "StartTransaction" | "StopTransaction"
            )
        })
        .count();
    assert_eq!(events as usize, sent_events, "no event stored twice");
    let samples = count(pool, "SELECT COUNT(*) FROM meter_values", &[]).await;
    let sent_samples = after
        .iter()
        .filter(|s| s.action == "MeterValues" || (s.action == "TransactionEvent" && s.seq == 1))
        .count();
    assert_eq!(
        samples as usize, sent_samples,
        "no meter value stored twice"
    );
    // 1.6 registers keep what the station sent.
    let v: String = sqlx::query_scalar(
        "SELECT value FROM meter_values WHERE station_id = 'CRASH16A' ORDER BY id LIMIT 1",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert!(v.ends_with(".50"), "{v}");
    println!(
        "crash: {total_sessions} sessions, {checked} answered messages checked after the restart"
    );
}
