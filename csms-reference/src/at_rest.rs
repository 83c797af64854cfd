//! Encryption at rest of personal data and partner credentials.
//!
//! What is encrypted (SQL stores, [`SqliteStore`] and [`PgStore`], when opened with a
//! [`Cipher`] holding a [`DataKey`], which `csms serve` always does):
//!
//! | table | column | nonce |
//! | --- | --- | --- |
//! | `id_tokens` | `id_token`, `parent_id`, `group_id` | synthetic (equality lookups) |
//! | `transactions` | `id_token` | synthetic |
//! | `reservations` | `id_token` | synthetic |
//! | `transaction_events` | `payload` (the TransactionEvent / Start / Stop as received) | random |
//! | `message_log` | `payload` (every OCPP payload: idTags, idTokens) | random |
//! | `ocpi_partners` | `registration` (the partner's `TOKEN_B`, URLs, roles) | random |
//! | `ocpi_objects` | `ids` (synthetic: primary key) and `object` (tokens, sessions, CDRs) | random |
//! | `ocpi_outbox` | `body` (sessions and CDRs carry `cdr_token`, `auth_id`) | random |
//!
//! A value is stored as `enc1:` + base64url(nonce ‖ AES-256-GCM ciphertext ‖ tag). A column
//! used for equality (`WHERE id_token = ?`, primary keys) takes a synthetic nonce, the first 96
//! bits of HMAC-SHA256 over the plaintext with a key of its own (the SIV construction): equal
//! plaintexts give equal ciphertexts, so lookups, `ON CONFLICT` and uniqueness keep working,
//! and all that is revealed is which rows share a value. Other columns take random nonces.
//! Ordering by an encrypted column (the id-token listing) orders by ciphertext; searching
//! by part of a token (`LIKE`) is not possible on an encrypted column, only exact match (no
//! such search exists in this crate).
//!
//! Reading accepts a value without the prefix as plaintext (a database from before this
//! module); [`seal_existing`] (run at every start) encrypts such rows, and on SQLite then
//! vacuums so the old pages do not keep them. A value with the prefix that the key does not
//! open is an error, never returned as text: a start with another key stops with
//! [`AtRestError::WrongKey`], checked against a value stored at the first encrypted start
//! (migration `0007_at_rest`).
//!
//! The 256-bit data key comes from the `CSMS_DATA_KEY` variable (base64, 32 bytes), else the
//! file `[security] data_key_file` names (base64 text; created when missing), else a file
//! generated at the first start beside the SQLite database (`<database>.key`) or, for
//! PostgreSQL, `csms-data.key` in the working directory; files are created with mode 0600.
//! The key's location is logged, the key never. An in-memory SQLite database gets a key that
//! lives as long as the process. Losing the key loses the encrypted values: back it up apart
//! from the database.
//!
//! [`SqliteStore`]: crate::store::SqliteStore
//! [`PgStore`]: crate::store::PgStore

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use sqlx::Row;

use crate::store::{PgStore, SqliteStore, StoreResult};

/// The prefix of an encrypted value.
pub const PREFIX: &str = "enc1:";
/// The variable holding the data key (base64 of 32 bytes).
pub const KEY_ENV: &str = "CSMS_DATA_KEY";
const AAD: &[u8] = b"csms-at-rest-v1";
const CHECK: &str = "csms data key check";

/// Why a value could not be encrypted or decrypted, or the key not loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AtRestError {
    /// An encrypted value was read but the store has no key.
    #[error("an encrypted value was read but no data key is configured")]
    NoKey,
    /// An encrypted value did not decrypt with this key (another key, or altered data).
    #[error("an encrypted value does not decrypt with this data key (was the database encrypted with another key? set {KEY_ENV} or [security] data_key_file to the key it was created with)")]
    WrongKey,
    /// An encrypted value is malformed.
    #[error("an encrypted value is malformed: {0}")]
    Malformed(&'static str),
    /// The key text is not base64 of 32 bytes.
    #[error("the data key from {0} is not the base64 text of 32 bytes")]
    BadKey(String),
    /// The key file could not be read or written.
    #[error("data key file {path}: {source}")]
    File {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The system random generator failed.
    #[error("the system random generator failed")]
    Random,
}

impl From<AtRestError> for sqlx::Error {
    fn from(e: AtRestError) -> Self {
        sqlx::Error::Decode(Box::new(e))
    }
}

/// A 256-bit data key, split into an AES-256-GCM key and an HMAC key for synthetic nonces.
/// `Debug` never shows it.
pub struct DataKey {
    aead: LessSafeKey,
    siv: hmac::Key,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(***)")
    }
}

impl DataKey {
    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        let master = hmac::Key::new(hmac::HMAC_SHA256, bytes);
        let enc = hmac::sign(&master, b"csms at-rest aes-256-gcm");
        let siv = hmac::sign(&master, b"csms at-rest synthetic nonce");
        let aead = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, enc.as_ref()).expect("32-byte AES-256 key"),
        );
        DataKey {
            aead,
            siv: hmac::Key::new(hmac::HMAC_SHA256, siv.as_ref()),
        }
    }

    /// A key from its base64 text (standard alphabet, padding optional, spaces trimmed);
    /// `from` names where the text came from, for the error.
    pub fn from_base64(text: &str, from: &str) -> Result<Self, AtRestError> {
        let t = text.trim();
        let bytes = STANDARD
            .decode(t)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(t))
            .map_err(|_| AtRestError::BadKey(from.into()))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| AtRestError::BadKey(from.into()))?;
        Ok(Self::from_bytes(&bytes))
    }

    /// A new random key and its base64 text.
    pub fn generate() -> Result<(Self, String), AtRestError> {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| AtRestError::Random)?;
        Ok((Self::from_bytes(&bytes), STANDARD.encode(bytes)))
    }

    fn seal_with(&self, nonce: [u8; NONCE_LEN], plaintext: &str) -> String {
        let mut buf = plaintext.as_bytes().to_vec();
        self.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(AAD),
                &mut buf,
            )
            .expect("AES-GCM sealing of an in-memory buffer");
        let mut raw = Vec::with_capacity(NONCE_LEN + buf.len());
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&buf);
        let mut out = String::with_capacity(PREFIX.len() + raw.len() * 4 / 3 + 4);
        out.push_str(PREFIX);
        URL_SAFE_NO_PAD.encode_string(raw, &mut out);
        out
    }

    /// Encrypts with a random nonce.
    pub fn seal(&self, plaintext: &str) -> Result<String, AtRestError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| AtRestError::Random)?;
        Ok(self.seal_with(nonce, plaintext))
    }

    /// Encrypts with a synthetic nonce: the same plaintext always gives the same text.
    pub fn seal_deterministic(&self, plaintext: &str) -> String {
        let tag = hmac::sign(&self.siv, plaintext.as_bytes());
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&tag.as_ref()[..NONCE_LEN]);
        self.seal_with(nonce, plaintext)
    }

    /// Decrypts a value made by [`seal`](Self::seal) or
    /// [`seal_deterministic`](Self::seal_deterministic) (with its prefix).
    pub fn open(&self, value: &str) -> Result<String, AtRestError> {
        let b64 = value
            .strip_prefix(PREFIX)
            .ok_or(AtRestError::Malformed("no enc1: prefix"))?;
        let mut raw = URL_SAFE_NO_PAD
            .decode(b64)
            .map_err(|_| AtRestError::Malformed("not base64url"))?;
        if raw.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(AtRestError::Malformed("too short"));
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&raw[..NONCE_LEN]);
        let plain = self
            .aead
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(AAD),
                &mut raw[NONCE_LEN..],
            )
            .map_err(|_| AtRestError::WrongKey)?;
        String::from_utf8(plain.to_vec()).map_err(|_| AtRestError::Malformed("not UTF-8"))
    }
}

/// What a store encrypts with: a [`DataKey`], or none (values are stored and read as they
/// are; an encrypted value read without a key is an error). Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Cipher(Option<Arc<DataKey>>);

impl Cipher {
    /// A cipher with `key`.
    pub fn new(key: DataKey) -> Self {
        Cipher(Some(Arc::new(key)))
    }

    /// No encryption.
    pub fn none() -> Self {
        Cipher(None)
    }

    /// Whether values are encrypted.
    pub fn enabled(&self) -> bool {
        self.0.is_some()
    }

    /// `value` encrypted with a random nonce (as it is without a key).
    ///
    /// # Panics
    ///
    /// When the system random generator fails (it does not on the supported systems).
    pub fn seal<'a>(&self, value: &'a str) -> Cow<'a, str> {
        match &self.0 {
            Some(k) => Cow::Owned(k.seal(value).expect("the system random generator")),
            None => Cow::Borrowed(value),
        }
    }

    /// [`seal`](Self::seal) of an optional value.
    pub fn seal_opt<'a>(&self, value: &'a Option<String>) -> Option<Cow<'a, str>> {
        value.as_deref().map(|v| self.seal(v))
    }

    /// `value` encrypted with a synthetic nonce (for columns compared for equality).
    pub fn det<'a>(&self, value: &'a str) -> Cow<'a, str> {
        match &self.0 {
            Some(k) => Cow::Owned(k.seal_deterministic(value)),
            None => Cow::Borrowed(value),
        }
    }

    /// [`det`](Self::det) of an optional value.
    pub fn det_opt<'a>(&self, value: &'a Option<String>) -> Option<Cow<'a, str>> {
        value.as_deref().map(|v| self.det(v))
    }

    /// A stored value decrypted; a value without the prefix is plaintext from before
    /// encryption and returned as it is.
    pub fn open(&self, value: String) -> Result<String, AtRestError> {
        if !value.starts_with(PREFIX) {
            return Ok(value);
        }
        match &self.0 {
            Some(k) => k.open(&value),
            None => Err(AtRestError::NoKey),
        }
    }

    /// [`open`](Self::open) of an optional value.
    pub fn open_opt(&self, value: Option<String>) -> Result<Option<String>, AtRestError> {
        value.map(|v| self.open(v)).transpose()
    }

    /// [`open`](Self::open) in place.
    pub fn open_in(&self, value: &mut String) -> Result<(), AtRestError> {
        if value.starts_with(PREFIX) {
            *value = self.open(std::mem::take(value))?;
        }
        Ok(())
    }

    /// [`open_opt`](Self::open_opt) in place.
    pub fn open_opt_in(&self, value: &mut Option<String>) -> Result<(), AtRestError> {
        if let Some(v) = value {
            self.open_in(v)?;
        }
        Ok(())
    }
}

/// Where the data key came from (for the start-up log; never the key itself).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeySource {
    /// The `CSMS_DATA_KEY` variable.
    Env,
    /// An existing file.
    File(PathBuf),
    /// A file generated now.
    Generated(PathBuf),
    /// A key of this process only (an in-memory database).
    Ephemeral,
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Env => write!(f, "the {KEY_ENV} variable"),
            KeySource::File(p) => write!(f, "file {}", p.display()),
            KeySource::Generated(p) => write!(f, "file {} (generated now)", p.display()),
            KeySource::Ephemeral => f.write_str("a key of this process (in-memory database)"),
        }
    }
}

/// The default key file for a database URL: `<file>.key` beside a SQLite file,
/// `csms-data.key` in the working directory for PostgreSQL, `None` for an in-memory SQLite
/// database.
pub fn default_key_file(database_url: &str) -> Option<PathBuf> {
    let Some(rest) = database_url.strip_prefix("sqlite:") else {
        return Some(PathBuf::from("csms-data.key"));
    };
    if crate::store::in_memory(database_url) {
        return None;
    }
    let path = rest.split_once('?').map_or(rest, |(path, _)| path);
    let path = path.strip_prefix("//").unwrap_or(path);
    let mut p = PathBuf::from(path).into_os_string();
    p.push(".key");
    Some(PathBuf::from(p))
}

/// Loads the data key: `CSMS_DATA_KEY`, else `file` (created when missing), else
/// [`default_key_file`] (created when missing), else a key of this process.
pub fn load_key(
    file: Option<&Path>,
    database_url: &str,
) -> Result<(DataKey, KeySource), AtRestError> {
    if let Ok(text) = std::env::var(KEY_ENV) {
        return Ok((DataKey::from_base64(&text, KEY_ENV)?, KeySource::Env));
    }
    let path = match file {
        Some(f) => f.to_path_buf(),
        None => match default_key_file(database_url) {
            Some(p) => p,
            None => return Ok((DataKey::generate()?.0, KeySource::Ephemeral)),
        },
    };
    let ferr = |source| AtRestError::File {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            return Ok((
                DataKey::from_base64(&text, &path.display().to_string())?,
                KeySource::File(path),
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(ferr(e)),
    }
    let (key, text) = DataKey::generate()?;
    // Written to a temporary file, then linked to its name: the name appears complete, and
    // when two processes generate at once the second finds the first one's key.
    let tmp = path.with_extension(format!("key.tmp{}", std::process::id()));
    write_private(&tmp, &text).map_err(ferr)?;
    let linked = std::fs::hard_link(&tmp, &path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok((key, KeySource::Generated(path))),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(&path).map_err(ferr)?;
            Ok((
                DataKey::from_base64(&text, &path.display().to_string())?,
                KeySource::File(path),
            ))
        }
        Err(e) => Err(ferr(e)),
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path)?;
    f.write_all(text.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()
}

/// Why a store could not be prepared for encryption at rest.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrepareError {
    /// The key does not open this database's check value.
    #[error("{0}")]
    Key(#[from] AtRestError),
    /// The database failed.
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
}

/// The SQL side of encryption at rest: the key check and the encryption of rows stored in
/// plaintext. Implemented by the SQL stores.
#[async_trait::async_trait]
pub trait AtRestDb: Send + Sync {
    /// The cipher the store writes with.
    fn cipher(&self) -> &Cipher;
    /// The stored key check value, if any.
    async fn key_check(&self) -> StoreResult<Option<String>>;
    /// Stores the key check value (when none is stored).
    async fn put_key_check(&self, check: &str, at: &str) -> StoreResult<()>;
    /// Encrypts every value of the encrypted columns still stored in plaintext; returns how
    /// many rows changed. In the append-only tables it reads only the rows after the largest
    /// id an earlier call checked.
    async fn seal_existing(&self) -> StoreResult<u64>;
}

/// Checks the store's key against the database (a database first opened with a key records a
/// check value; another key is [`AtRestError::WrongKey`]) and encrypts rows stored in
/// plaintext. Returns how many rows were encrypted. Does nothing without a key.
pub async fn prepare(db: &dyn AtRestDb) -> Result<u64, PrepareError> {
    let Some(key) = db.cipher().0.clone() else {
        return Ok(0);
    };
    match db.key_check().await? {
        Some(check) => {
            if key.open(&check)? != CHECK {
                return Err(AtRestError::WrongKey.into());
            }
        }
        None => {
            db.put_key_check(&key.seal(CHECK)?, &crate::domain::now())
                .await?
        }
    }
    Ok(seal_existing(db).await?)
}

/// [`AtRestDb::seal_existing`].
pub async fn seal_existing(db: &dyn AtRestDb) -> StoreResult<u64> {
    db.seal_existing().await
}

/// Columns of a table with a flag: for key columns, `true` when an integer; for encrypted
/// columns, `true` when compared for equality (synthetic nonce).
type Columns = &'static [(&'static str, bool)];

/// The encrypted columns: table, key columns, encrypted columns.
const COLUMNS: &[(&str, Columns, Columns)] = &[
    (
        "id_tokens",
        &[("id_token", false), ("token_type", false)],
        &[("id_token", true), ("parent_id", true), ("group_id", true)],
    ),
    ("transactions", &[("id", true)], &[("id_token", true)]),
    (
        "reservations",
        &[("station_id", false), ("id", true)],
        &[("id_token", true)],
    ),
    ("transaction_events", &[("id", true)], &[("payload", false)]),
    ("message_log", &[("id", true)], &[("payload", false)]),
    ("ocpi_partners", &[("id", true)], &[("registration", false)]),
    (
        "ocpi_objects",
        &[("module", false), ("role", false), ("ids", false)],
        &[("ids", true), ("object", false)],
    ),
    ("ocpi_outbox", &[("id", true)], &[("body", false)]),
];

/// The tables of [`COLUMNS`] whose rows are only ever inserted, with increasing ids that are
/// never reused (`AUTOINCREMENT`, `BIGSERIAL`), and whose encrypted values never change: the
/// largest, the message log and the transaction events. [`AtRestDb::seal_existing`] records in
/// `at_rest_sealed` the largest id it has checked in each, and the next start checks only the
/// rows after it (a database of months no longer reads its whole message log at every start).
const APPEND_ONLY: &[&str] = &["message_log", "transaction_events"];

enum Val {
    Int(i64),
    Text(Option<String>),
}

macro_rules! at_rest_db {
    ($store:ty, $sqlite:expr) => {
        #[async_trait::async_trait]
        impl AtRestDb for $store {
            fn cipher(&self) -> &Cipher {
                self.cipher()
            }

            async fn key_check(&self) -> StoreResult<Option<String>> {
                let row = sqlx::query("SELECT key_check FROM at_rest_keys WHERE id = 1")
                    .fetch_optional(self.pool())
                    .await?;
                Ok(row.map(|r| r.try_get("key_check")).transpose()?)
            }

            async fn put_key_check(&self, check: &str, at: &str) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO at_rest_keys (id, key_check, created_at) VALUES (1, $1, $2) \
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(check)
                .bind(at)
                .execute(self.pool())
                .await?;
                Ok(())
            }

            async fn seal_existing(&self) -> StoreResult<u64> {
                let c = self.cipher().clone();
                if !c.enabled() {
                    return Ok(0);
                }
                let mut changed = 0u64;
                for (table, keys, values) in COLUMNS {
                    let mut plain = values
                        .iter()
                        .map(|(v, _)| format!("({v} IS NOT NULL AND {v} NOT LIKE 'enc1:%')"))
                        .collect::<Vec<_>>()
                        .join(" OR ");
                    // An append-only table: the rows up to the id checked at an earlier start
                    // are not read again, and the rows up to the largest id now are checked.
                    let mut upto = None;
                    if APPEND_ONLY.contains(table) {
                        let from: Option<i64> = sqlx::query_scalar(
                            "SELECT max_id FROM at_rest_sealed WHERE table_name = $1",
                        )
                        .bind(*table)
                        .fetch_optional(self.pool())
                        .await?;
                        upto = sqlx::query_scalar::<_, Option<i64>>(&format!(
                            "SELECT MAX(id) FROM {table}"
                        ))
                        .fetch_one(self.pool())
                        .await?;
                        plain = format!("id > {} AND ({plain})", from.unwrap_or(0));
                    }
                    let cols = keys
                        .iter()
                        .map(|(k, _)| format!("{k} AS k_{k}"))
                        .chain(values.iter().map(|(v, _)| format!("{v} AS v_{v}")))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let select = format!("SELECT {cols} FROM {table} WHERE {plain} LIMIT 500");
                    let sets = values
                        .iter()
                        .enumerate()
                        .map(|(i, (v, _))| format!("{v} = ${}", i + 1))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let wheres = keys
                        .iter()
                        .enumerate()
                        .map(|(i, (k, _))| format!("{k} = ${}", values.len() + i + 1))
                        .collect::<Vec<_>>()
                        .join(" AND ");
                    let update = format!("UPDATE {table} SET {sets} WHERE {wheres}");
                    loop {
                        let mut tx = self.pool().begin().await?;
                        let rows = sqlx::query(&select).fetch_all(&mut *tx).await?;
                        if rows.is_empty() {
                            break;
                        }
                        for r in &rows {
                            let mut vals = Vec::new();
                            for (v, det) in values.iter() {
                                let old: Option<String> = r.try_get(format!("v_{v}").as_str())?;
                                let new = match old {
                                    Some(o) if o.starts_with(PREFIX) => Some(o),
                                    Some(o) if *det => Some(c.det(&o).into_owned()),
                                    Some(o) => Some(c.seal(&o).into_owned()),
                                    None => None,
                                };
                                vals.push(Val::Text(new));
                            }
                            for (k, int) in keys.iter() {
                                let name = format!("k_{k}");
                                vals.push(if *int {
                                    Val::Int(r.try_get(name.as_str())?)
                                } else {
                                    Val::Text(r.try_get(name.as_str())?)
                                });
                            }
                            let mut q = sqlx::query(&update);
                            for v in vals {
                                q = match v {
                                    Val::Int(i) => q.bind(i),
                                    Val::Text(t) => q.bind(t),
                                };
                            }
                            q.execute(&mut *tx).await?;
                            changed += 1;
                        }
                        tx.commit().await?;
                    }
                    if let Some(upto) = upto {
                        sqlx::query(
                            "INSERT INTO at_rest_sealed (table_name, max_id) VALUES ($1, $2) \
                             ON CONFLICT (table_name) DO UPDATE SET max_id = $2",
                        )
                        .bind(*table)
                        .bind(upto)
                        .execute(self.pool())
                        .await?;
                    }
                }
                if changed > 0 && $sqlite {
                    // The plaintext may remain in free pages and in the write-ahead log.
                    sqlx::query("VACUUM").execute(self.pool()).await?;
                    // A checkpoint that finds another running (the store's background one)
                    // does not wait and reports `busy` instead of an error: try again until
                    // the WAL is copied and truncated.
                    let mut tries = 0;
                    loop {
                        let busy: i64 = sqlx::query_scalar("PRAGMA wal_checkpoint(TRUNCATE)")
                            .fetch_one(self.pool())
                            .await?;
                        if busy == 0 {
                            break;
                        }
                        tries += 1;
                        if tries == 200 {
                            tracing::warn!("the write-ahead log could not be truncated after encrypting: old plaintext may remain in it until the next checkpoint");
                            break;
                        }
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                }
                Ok(changed)
            }
        }
    };
}

at_rest_db!(SqliteStore, true);
at_rest_db!(PgStore, false);

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> DataKey {
        DataKey::from_bytes(&[b; 32])
    }

    #[test]
    fn round_trip_random_and_synthetic_nonces() {
        let k = key(1);
        let a = k.seal("04A2B3C4D5E6F7").unwrap();
        let b = k.seal("04A2B3C4D5E6F7").unwrap();
        assert!(a.starts_with(PREFIX) && !a.contains("04A2B3"));
        assert_ne!(a, b, "random nonces");
        assert_eq!(k.open(&a).unwrap(), "04A2B3C4D5E6F7");
        let d1 = k.seal_deterministic("04A2B3C4D5E6F7");
        assert_eq!(d1, k.seal_deterministic("04A2B3C4D5E6F7"));
        assert_ne!(d1, k.seal_deterministic("04A2B3C4D5E6F8"));
        assert_eq!(k.open(&d1).unwrap(), "04A2B3C4D5E6F7");
        assert_eq!(k.open(&k.seal("").unwrap()).unwrap(), "");
    }

    #[test]
    fn another_key_or_altered_data_is_an_error() {
        let v = key(1).seal("secret").unwrap();
        assert!(matches!(key(2).open(&v), Err(AtRestError::WrongKey)));
        let mut altered = v.clone().into_bytes();
        let last = altered.len() - 1;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        assert!(key(1).open(&altered).is_err());
        assert!(matches!(Cipher::none().open(v), Err(AtRestError::NoKey)));
    }

    #[test]
    fn plaintext_from_before_is_read_as_it_is() {
        let c = Cipher::new(key(3));
        assert_eq!(c.open("TOKEN1".into()).unwrap(), "TOKEN1");
        assert_eq!(Cipher::none().seal("x"), "x");
    }

    #[test]
    fn key_text_and_default_files() {
        let (_, text) = DataKey::generate().unwrap();
        assert!(DataKey::from_base64(&text, "t").is_ok());
        assert!(matches!(
            DataKey::from_base64("c2hvcnQ=", "t"),
            Err(AtRestError::BadKey(_))
        ));
        assert_eq!(
            default_key_file("sqlite:/var/lib/csms.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/csms.db.key"))
        );
        assert_eq!(
            default_key_file("sqlite:csms.db"),
            Some(PathBuf::from("csms.db.key"))
        );
        assert_eq!(
            default_key_file("sqlite:///abs/x.db"),
            Some(PathBuf::from("/abs/x.db.key"))
        );
        assert_eq!(default_key_file("sqlite::memory:"), None);
        assert_eq!(
            default_key_file("postgres://u@h/db"),
            Some(PathBuf::from("csms-data.key"))
        );
    }

    #[cfg(unix)]
    #[test]
    fn generated_key_file_is_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("k.key");
        let (a, src) = load_key(Some(&f), "sqlite::memory:").unwrap();
        assert_eq!(src, KeySource::Generated(f.clone()));
        let mode = std::fs::metadata(&f).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let (b, src) = load_key(Some(&f), "sqlite::memory:").unwrap();
        assert_eq!(src, KeySource::File(f.clone()));
        assert_eq!(b.open(&a.seal("x").unwrap()).unwrap(), "x");
    }
}
