//! Encryption at rest (`csms_reference::at_rest`) against `csms serve` (the real binary): id
//! tokens, transactions' tokens and the message log never reach the SQLite file in clear, the
//! API and OCPP behave as before, the generated key file is private, a database from before
//! encryption is encrypted at start, and a start with another key stops with a clear error.

use std::io::Read;
use std::process::{Command, Stdio};

use csms_reference::store::{IdTokenRecord, SqliteStore, Store};
use serde_json::{json, Value};
use sqlx::Row;

mod common;

use common::process::{self, serve_command, Csms};
use common::raw::{ws, ws_call, Ws};
use common::{postgres_url, PgDatabase};

const TAG: &str = "SECRETTAG0451";
const OTHER: &str = "PARENTTAG0777";

fn command(db: &str, key: Option<&str>) -> Command {
    let mut cmd = serve_command(db);
    cmd.env("CSMS_LOG", "warn")
        .env_remove("CSMS_API_TOKEN")
        .env_remove("CSMS_DATA_KEY");
    if let Some(k) = key {
        cmd.env("CSMS_DATA_KEY", k);
    }
    cmd
}

fn serve(db: &str, key: Option<&str>) -> Csms {
    let mut cmd = command(db, key);
    cmd.stderr(Stdio::null());
    process::spawn(cmd)
}

async fn ws16(ocpp: &str, id: &str) -> Ws {
    ws(ocpp, id, "ocpp1.6").await
}

async fn call(w: &mut Ws, id: &str, action: &str, payload: Value) -> Value {
    let v = ws_call(w, id, action, payload).await;
    assert_eq!(v[0], 3, "{v}");
    v[2].clone()
}

async fn get(url: String) -> Value {
    let r = reqwest::get(url).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    r.json().await.unwrap()
}

/// The database's bytes (main file and write-ahead log) contain `needle`.
fn file_contains(path: &std::path::Path, needle: &str) -> bool {
    let mut all = Vec::new();
    for p in [
        path.to_path_buf(),
        path.with_extension("db-wal"),
        path.with_extension("db-shm"),
    ] {
        if let Ok(mut f) = std::fs::File::open(&p) {
            f.read_to_end(&mut all).unwrap();
        }
    }
    all.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// A 1.6 station: boot, Authorize and a whole transaction with `TAG`.
async fn charge(csms: &Csms, station: &str) {
    let mut w = ws16(&csms.ocpp, station).await;
    let boot = call(
        &mut w,
        "b",
        "BootNotification",
        json!({"chargePointVendor": "V", "chargePointModel": "M"}),
    )
    .await;
    assert_eq!(boot["status"], "Accepted");
    let auth = call(&mut w, "a", "Authorize", json!({"idTag": TAG})).await;
    assert_eq!(auth["idTagInfo"]["status"], "Accepted");
    let start = call(
        &mut w,
        "s",
        "StartTransaction",
        json!({"connectorId": 1, "idTag": TAG, "meterStart": 0, "timestamp": "2026-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(start["idTagInfo"]["status"], "Accepted");
    let tx = start["transactionId"].as_i64().unwrap();
    let stop = call(
        &mut w,
        "t",
        "StopTransaction",
        json!({"transactionId": tx, "idTag": TAG, "meterStop": 1000, "timestamp": "2026-01-01T01:00:00Z"}),
    )
    .await;
    assert_eq!(stop["idTagInfo"]["status"], "Accepted");
    w.close(None).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_tokens_and_the_message_log_are_not_stored_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("at_rest.db");
    let db = format!("sqlite:{}", path.display());
    let csms = serve(&db, None);

    // The generated key file: beside the database, private.
    let key_file = dir.path().join("at_rest.db.key");
    let key = std::fs::read_to_string(&key_file).expect("a key file beside the database");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "key file mode {mode:o}");
    }

    let r = reqwest::Client::new()
        .post(format!("{}/api/id-tokens", csms.api))
        .json(&json!({"idToken": TAG, "status": "Accepted", "parentId": OTHER}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    charge(&csms, "CS-AT-REST").await;

    // The API reads everything back in clear.
    let tokens = get(format!("{}/api/id-tokens", csms.api)).await;
    assert!(tokens.to_string().contains(TAG), "{tokens}");
    let one = get(format!("{}/api/id-tokens/{TAG}", csms.api)).await;
    assert_eq!(one["parentId"], OTHER);
    let txs = get(format!("{}/api/stations/CS-AT-REST/transactions", csms.api)).await;
    assert!(txs.to_string().contains(TAG), "{txs}");
    let log = get(format!("{}/api/stations/CS-AT-REST/messages", csms.api)).await;
    assert!(log.to_string().contains(TAG), "{log}");
    drop(csms);

    // Neither the database file nor its log holds the tokens in clear.
    assert!(!file_contains(&path, TAG), "the id token is in the file");
    assert!(!file_contains(&path, OTHER), "the parent id is in the file");
    assert!(file_contains(&path, "enc1:"));
    assert!(
        file_contains(&path, "CS-AT-REST"),
        "the check itself can see the file"
    );

    // Another key: a clear error, no start.
    let (_, other_key) = csms_reference::at_rest::DataKey::generate().unwrap();
    let out = command(&db, Some(&other_key))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not decrypt with this data key"),
        "stderr: {err}"
    );

    // The right key by variable: the same data.
    let csms = serve(&db, Some(key.trim()));
    let one = get(format!("{}/api/id-tokens/{TAG}", csms.api)).await;
    assert_eq!(one["idToken"], TAG);
    charge(&csms, "CS-AT-REST-2").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_from_before_encryption_is_encrypted_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("legacy.db");
    let db = format!("sqlite:{}", path.display());
    {
        // Written without a key: plaintext rows, as before encryption at rest.
        let s = SqliteStore::connect(&db).await.unwrap();
        s.put_id_token(
            &IdTokenRecord {
                id_token: TAG.into(),
                token_type: String::new(),
                status: "Accepted".into(),
                expiry: None,
                parent_id: Some(OTHER.into()),
                group_id: None,
            },
            "2026-01-01T00:00:00Z",
        )
        .await
        .unwrap();
        let row = sqlx::query("SELECT id_token FROM id_tokens")
            .fetch_one(s.pool())
            .await
            .unwrap();
        assert_eq!(row.get::<String, _>("id_token"), TAG);
        s.pool().close().await;
    }
    let csms = serve(&db, None);
    let one = get(format!("{}/api/id-tokens/{TAG}", csms.api)).await;
    assert_eq!(one["parentId"], OTHER);
    charge(&csms, "CS-LEGACY").await;
    drop(csms);
    let s = SqliteStore::connect(&db).await.unwrap();
    for row in sqlx::query("SELECT id_token, parent_id FROM id_tokens")
        .fetch_all(s.pool())
        .await
        .unwrap()
    {
        let t: String = row.get("id_token");
        assert!(t.starts_with("enc1:"), "{t}");
    }
    // Read without the key, an encrypted value is an error, not ciphertext passed off as a
    // token.
    assert!(s.id_tokens(Default::default()).await.is_err());
    s.pool().close().await;
    assert!(
        !file_contains(&path, TAG),
        "the plaintext is gone from the file"
    );
}

/// PostgreSQL (a database of its own, dropped afterwards): the rows hold no token in clear,
/// the API reads them, another key is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_rows_hold_no_token_in_clear() {
    let Some(admin_url) = postgres_url("postgres_rows_hold_no_token_in_clear") else {
        return;
    };
    let pg = PgDatabase::create(&admin_url, "csms_at_rest").await;
    let url = pg.url.clone();
    // The key by variable: no key file is written into the working directory.
    let (_, key) = csms_reference::at_rest::DataKey::generate().unwrap();
    let csms = serve(&url, Some(&key));
    let r = reqwest::Client::new()
        .post(format!("{}/api/id-tokens", csms.api))
        .json(&json!({"idToken": TAG, "status": "Accepted", "parentId": OTHER}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    charge(&csms, "CS-AT-REST-PG").await;
    let txs = get(format!(
        "{}/api/stations/CS-AT-REST-PG/transactions",
        csms.api
    ))
    .await;
    assert!(txs.to_string().contains(TAG), "{txs}");
    drop(csms);

    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    let mut values = 0;
    for q in [
        "SELECT id_token AS v FROM id_tokens",
        "SELECT parent_id AS v FROM id_tokens",
        "SELECT id_token AS v FROM transactions",
        "SELECT payload AS v FROM message_log",
        "SELECT payload AS v FROM transaction_events",
    ] {
        for row in sqlx::query(q).fetch_all(&pool).await.unwrap() {
            let v: Option<String> = row.get("v");
            if let Some(v) = v {
                assert!(!v.contains(TAG) && !v.contains(OTHER), "{q}: {v}");
                assert!(v.starts_with("enc1:"), "{q}: {v}");
                values += 1;
            }
        }
    }
    assert!(values >= 10, "{values} encrypted values checked");
    pool.close().await;

    let (_, other_key) = csms_reference::at_rest::DataKey::generate().unwrap();
    let out = command(&url, Some(&other_key))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not decrypt with this data key"));
    pg.drop_it().await;
}

/// The message log is append-only: a start checks only the rows after the largest id the
/// last start checked (`at_rest_sealed`). A plaintext row written after it (by a build from
/// before encryption at rest, say) is encrypted at the next start; the rows up to it are not
/// read again (a row there made plaintext behind the store's back stays as it is, which is
/// how the test sees that they were not read).
#[tokio::test]
async fn a_start_checks_only_the_new_rows_of_the_message_log() {
    use csms_reference::at_rest::{prepare, Cipher, DataKey};
    use csms_reference::store::MessageRecord;

    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("log.db").display());
    let log = |n: u32| MessageRecord {
        station_id: "CS-LOG".into(),
        direction: "in".into(),
        kind: "call".into(),
        message_id: n.to_string(),
        action: "Authorize".into(),
        payload: format!(r#"{{"idTag":"{TAG}{n}"}}"#),
        at: "2026-01-01T00:00:00Z".into(),
    };
    let payloads = |pool: sqlx::SqlitePool| async move {
        sqlx::query("SELECT payload FROM message_log ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>("payload"))
            .collect::<Vec<_>>()
    };
    let sealed_upto = |pool: sqlx::SqlitePool| async move {
        sqlx::query_scalar::<_, i64>(
            "SELECT max_id FROM at_rest_sealed WHERE table_name = 'message_log'",
        )
        .fetch_optional(&pool)
        .await
        .unwrap()
    };

    let plain = SqliteStore::connect(&db).await.unwrap();
    plain.log_message(&log(1)).await.unwrap();
    let keyed = SqliteStore::connect(&db)
        .await
        .unwrap()
        .with_cipher(Cipher::new(DataKey::from_bytes(&[7; 32])));
    assert_eq!(prepare(&keyed).await.unwrap(), 1, "the first start: row 1");
    assert_eq!(sealed_upto(plain.pool().clone()).await, Some(1));
    assert!(payloads(plain.pool().clone()).await[0].starts_with("enc1:"));

    plain.log_message(&log(2)).await.unwrap();
    sqlx::query("UPDATE message_log SET payload = 'behind the back' WHERE id = 1")
        .execute(plain.pool())
        .await
        .unwrap();
    assert_eq!(
        prepare(&keyed).await.unwrap(),
        1,
        "the next start: row 2 only"
    );
    let now = payloads(plain.pool().clone()).await;
    assert_eq!(now[0], "behind the back", "row 1 not read again");
    assert!(
        now[1].starts_with("enc1:") && !now[1].contains(TAG),
        "{}",
        now[1]
    );
    assert_eq!(sealed_upto(plain.pool().clone()).await, Some(2));
    // Nothing new: nothing to do, and the mark stays.
    assert_eq!(prepare(&keyed).await.unwrap(), 0);
    assert_eq!(sealed_upto(plain.pool().clone()).await, Some(2));
}
