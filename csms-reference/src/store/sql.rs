//! The SQL implementations of [`Store`]: the same statements (`$N` placeholders, `ON CONFLICT`,
//! `RETURNING`) serve SQLite and PostgreSQL; one macro writes both implementations. Migrations
//! are embedded from `migrations/sqlite` and `migrations/postgres`.

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Row};

use super::*;
use crate::at_rest::Cipher;

fn migrator(files: &[(i64, &'static str, &'static str)]) -> Migrator {
    Migrator {
        migrations: Cow::Owned(
            files
                .iter()
                .map(|(v, d, sql)| {
                    Migration::new(
                        *v,
                        Cow::Borrowed(*d),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect(),
        ),
        ..Migrator::DEFAULT
    }
}

const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "smart_charging",
        include_str!("../../migrations/sqlite/0002_smart_charging.sql"),
    ),
    (
        4,
        "ocpi",
        include_str!("../../migrations/sqlite/0004_ocpi.sql"),
    ),
    (
        5,
        "ocpi_audit",
        include_str!("../../migrations/sqlite/0005_ocpi_audit.sql"),
    ),
    (
        7,
        "at_rest",
        include_str!("../../migrations/sqlite/0007_at_rest.sql"),
    ),
    (
        8,
        "at_rest_sealed",
        include_str!("../../migrations/sqlite/0008_at_rest_sealed.sql"),
    ),
];
const PG_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "smart_charging",
        include_str!("../../migrations/postgres/0002_smart_charging.sql"),
    ),
    (
        4,
        "ocpi",
        include_str!("../../migrations/postgres/0004_ocpi.sql"),
    ),
    (
        5,
        "ocpi_audit",
        include_str!("../../migrations/postgres/0005_ocpi_audit.sql"),
    ),
    (
        7,
        "at_rest",
        include_str!("../../migrations/postgres/0007_at_rest.sql"),
    ),
    (
        8,
        "at_rest_sealed",
        include_str!("../../migrations/postgres/0008_at_rest_sealed.sql"),
    ),
];

static NONCE: AtomicU64 = AtomicU64::new(0);

/// How long one database operation may wait (a lock held elsewhere, a connection from the
/// pool, a statement) before it fails, unless the caller chose otherwise
/// (`connect_with_timeout`): the station then gets a timely InternalError instead of no answer.
pub const DEFAULT_STORE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// The SQLite store (the embedded default).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The reads of the [`Store`] methods: connections of their own on a database file (WAL:
    /// readers do not wait for the writer, which group commit keeps busy under load); the
    /// writer's pool for an in-memory database.
    read: SqlitePool,
    /// Group commit of the units of work ([`Store::begin`]).
    group: super::group::Group,
    /// Encryption at rest ([`crate::at_rest`]).
    cipher: Cipher,
    /// Held by every clone of the store: the checkpoint task ends when the last one is dropped.
    _alive: Arc<()>,
}

/// How often the WAL is copied into the database file in the background.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// Copies the WAL into the database file on a connection of its own, every
/// [`CHECKPOINT_EVERY`] while the store is alive (`PASSIVE`: it never waits for the writer or
/// the readers). The writer's own checkpoint, after the commit that takes the WAL past 1,000
/// pages, then finds most pages copied already; without this it copies and syncs all of them
/// (4 MB, four times a second at 10,000 stations) while the next group of units waits. (In
/// the load runs of `benches/README.md` the difference was within what one run to the next
/// varies.) The writer's checkpoint stays: with group commit the writer is nearly always in a
/// transaction, and only a checkpoint between its transactions lets it start the WAL from
/// its beginning again (with `wal_autocheckpoint = 0` the WAL grew to 2.4 GB in 150 s).
async fn checkpoint(mut conn: sqlx::SqliteConnection, alive: std::sync::Weak<()>) {
    loop {
        tokio::time::sleep(CHECKPOINT_EVERY).await;
        if alive.strong_count() == 0 {
            break;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&mut conn)
            .await
        {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
    }
    let _ = sqlx::Connection::close(conn).await;
}

impl SqliteStore {
    /// Opens (creating the file when missing) and migrates the database at `url`
    /// (`sqlite:csms.db`, `sqlite::memory:`, `sqlite:///abs/path.db`).
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_with_timeout(url, DEFAULT_STORE_TIMEOUT).await
    }

    /// [`connect`](Self::connect), with how long a write may wait for a lock another process
    /// holds on the file (SQLite's busy timeout) before it fails.
    pub async fn connect_with_timeout(
        url: &str,
        timeout: std::time::Duration,
    ) -> StoreResult<Self> {
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before the station gets its answer.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(timeout)
            .foreign_keys(true);
        let reader = opts.clone().read_only(true);
        let checkpointer = opts.clone();
        let memory = in_memory(url);
        // One connection: SQLite has one writer at a time, and several pooled connections
        // upgrading deferred transactions fail with SQLITE_BUSY(_SNAPSHOT) under load (found
        // with ocpp-sim, 100 stations) instead of waiting. Serialising here never fails.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_slow_threshold(slow_acquire(timeout))
            // No ping on every acquire (one more round trip to the connection's thread per
            // group of units); a broken connection fails the unit's first statement instead.
            .test_before_acquire(false)
            .connect_with(opts)
            .await?;
        migrator(SQLITE_MIGRATIONS).run(&pool).await?;
        let alive = Arc::new(());
        let read = if memory {
            pool.clone()
        } else {
            // Two: the station connections' look-ups (authentication, boot state) and the
            // API's pages; each has a thread of its own in sqlx. Both kept open (a fixed set of
            // database files and threads, not one more under the first burst).
            let read = SqlitePoolOptions::new()
                .max_connections(2)
                .min_connections(2)
                .acquire_slow_threshold(slow_acquire(timeout))
                .test_before_acquire(false)
                .connect_with(reader)
                .await?;
            let conn = checkpointer.connect().await?;
            tokio::spawn(checkpoint(conn, Arc::downgrade(&alive)));
            read
        };
        let group = super::group::Group::new(pool.clone());
        Ok(SqliteStore {
            pool,
            read,
            group,
            cipher: Cipher::none(),
            _alive: alive,
        })
    }

    /// The pool, for direct queries.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The same store encrypting personal data and partner credentials with `cipher`
    /// ([`crate::at_rest`]).
    pub fn with_cipher(mut self, cipher: Cipher) -> Self {
        self.cipher = cipher;
        self
    }

    /// What this store encrypts with.
    pub fn cipher(&self) -> &Cipher {
        &self.cipher
    }
}

/// Whether a SQLite URL names an in-memory database (whose connections share nothing but
/// what the writer's pool holds).
pub(crate) fn in_memory(url: &str) -> bool {
    let rest = url.strip_prefix("sqlite:").unwrap_or(url);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = path.strip_prefix("//").unwrap_or(path);
    path.is_empty() || path == ":memory:" || query.split('&').any(|q| q == "mode=memory")
}

/// From how long a wait for a pooled connection sqlx logs a warning: half the store's timeout.
/// (sqlx's default, 2 s, wrote one warning per waiting message when 10,000 stations stopped
/// their sessions in the same second, 56,000 lines in 4 s; the wait is in the
/// `csms_store_duration_seconds` histogram either way.)
fn slow_acquire(timeout: std::time::Duration) -> std::time::Duration {
    timeout / 2
}

/// How many connections the PostgreSQL store opens at most unless `CSMS_DATABASE_POOL` says
/// otherwise. Each unit of work (one station message) holds one connection from its `BEGIN`
/// to its `COMMIT`, so this is how many messages are stored at once; PostgreSQL flushes the
/// commits that wait together with one WAL write. 32 keeps well under PostgreSQL's default
/// `max_connections` (100) with room for a second node, the API and `psql`.
pub const DEFAULT_PG_POOL: u32 = 32;

/// The PostgreSQL pool size: `CSMS_DATABASE_POOL` (1 or more) or [`DEFAULT_PG_POOL`].
pub fn pg_pool_size() -> u32 {
    std::env::var("CSMS_DATABASE_POOL")
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(DEFAULT_PG_POOL)
}

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// The reads of the [`Store`] methods: the same pool.
    read: PgPool,
    /// Encryption at rest ([`crate::at_rest`]).
    cipher: Cipher,
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host/db`) and migrates.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_in_schema(url, None).await
    }

    /// Connects and works in `schema` (created when missing) instead of the default search
    /// path; the tests give each run its own schema.
    pub async fn connect_in_schema(url: &str, schema: Option<&str>) -> StoreResult<Self> {
        Self::connect_with_timeout(url, schema, DEFAULT_STORE_TIMEOUT).await
    }

    /// [`connect_in_schema`](Self::connect_in_schema), with how long one operation may wait:
    /// for a connection from the pool (the server unreachable or refusing connections), for a
    /// lock (`lock_timeout`) and for a statement (`statement_timeout`).
    pub async fn connect_with_timeout(
        url: &str,
        schema: Option<&str>,
        timeout: std::time::Duration,
    ) -> StoreResult<Self> {
        let ms = timeout.as_millis().max(1).to_string();
        let mut opts = PgConnectOptions::from_str(url)?.options([
            ("lock_timeout", ms.as_str()),
            ("statement_timeout", ms.as_str()),
        ]);
        if let Some(s) = schema {
            let admin = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(opts.clone())
                .await?;
            sqlx::query(&format!(
                "CREATE SCHEMA IF NOT EXISTS \"{}\"",
                s.replace('"', "")
            ))
            .execute(&admin)
            .await?;
            admin.close().await;
            opts = opts.options([("search_path", s)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(pg_pool_size())
            .acquire_slow_threshold(slow_acquire(timeout))
            // A connection is checked (one round trip) before each unit of work: after the
            // server restarts, every pooled connection is broken, and without the check each
            // would fail one station message after the database is back (tests/faults.rs).
            .test_before_acquire(true)
            .acquire_timeout(timeout)
            .connect_with(opts)
            .await?;
        migrator(PG_MIGRATIONS).run(&pool).await?;
        Ok(PgStore {
            read: pool.clone(),
            pool,
            cipher: Cipher::none(),
        })
    }

    /// The pool, for direct queries.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The same store encrypting personal data and partner credentials with `cipher`
    /// ([`crate::at_rest`]).
    pub fn with_cipher(mut self, cipher: Cipher) -> Self {
        self.cipher = cipher;
        self
    }

    /// What this store encrypts with.
    pub fn cipher(&self) -> &Cipher {
        &self.cipher
    }
}

fn station_row<R: Row>(r: &R) -> Result<StationRecord, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(StationRecord {
        id: r.try_get("id")?,
        version: r.try_get("version")?,
        registration: r.try_get("registration")?,
        vendor: r.try_get("vendor")?,
        model: r.try_get("model")?,
        serial_number: r.try_get("serial_number")?,
        firmware_version: r.try_get("firmware_version")?,
        boot_reason: r.try_get("boot_reason")?,
        boot_payload: r.try_get("boot_payload")?,
        first_seen: r.try_get("first_seen")?,
        last_seen: r.try_get("last_seen")?,
        last_boot_at: r.try_get("last_boot_at")?,
        connected: r.try_get("connected")?,
        security_profile: r.try_get("security_profile")?,
        password_hash: r.try_get("password_hash")?,
    })
}

macro_rules! row_fn {
    ($name:ident, $ty:ty, |$r:ident| $body:expr) => {
        fn $name<R: Row>($r: &R) -> Result<$ty, sqlx::Error>
        where
            for<'a> &'a str: sqlx::ColumnIndex<R>,
            for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
            for<'a> Option<String>: sqlx::Decode<'a, R::Database>,
            for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
            for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
        {
            Ok($body)
        }
    };
}

row_fn!(message_row, MessageRecord, |r| MessageRecord {
    station_id: r.try_get("station_id")?,
    direction: r.try_get("direction")?,
    kind: r.try_get("kind")?,
    message_id: r.try_get("message_id")?,
    action: r.try_get("action")?,
    payload: r.try_get("payload")?,
    at: r.try_get("at")?,
});

row_fn!(status_row, StatusRecord, |r| StatusRecord {
    station_id: r.try_get("station_id")?,
    evse_id: r.try_get("evse_id")?,
    connector_id: r.try_get("connector_id")?,
    status: r.try_get("status")?,
    error_code: r.try_get("error_code")?,
    info: r.try_get("info")?,
    timestamp: r.try_get("timestamp")?,
    payload: r.try_get("payload")?,
    received_at: r.try_get("received_at")?,
});

row_fn!(token_row, IdTokenRecord, |r| IdTokenRecord {
    id_token: r.try_get("id_token")?,
    token_type: r.try_get("token_type")?,
    status: r.try_get("status")?,
    expiry: r.try_get("expiry")?,
    parent_id: r.try_get("parent_id")?,
    group_id: r.try_get("group_id")?,
});

row_fn!(tx_row, TransactionRecord, |r| TransactionRecord {
    station_id: r.try_get("station_id")?,
    transaction_id: r.try_get("transaction_id")?,
    version: r.try_get("version")?,
    evse_id: r.try_get::<Option<i64>, _>("evse_id")?,
    connector_id: r.try_get::<Option<i64>, _>("connector_id")?,
    id_token: r.try_get("id_token")?,
    token_type: r.try_get("token_type")?,
    status: r.try_get("status")?,
    started_at: r.try_get("started_at")?,
    stopped_at: r.try_get("stopped_at")?,
    meter_start: r.try_get("meter_start")?,
    meter_stop: r.try_get("meter_stop")?,
    stop_reason: r.try_get("stop_reason")?,
    charging_state: r.try_get("charging_state")?,
    last_seq_no: r.try_get::<Option<i64>, _>("last_seq_no")?,
    offline: r.try_get("offline")?,
});

row_fn!(meter_row, MeterValueRecord, |r| MeterValueRecord {
    transaction_id: r.try_get("transaction_id")?,
    evse_id: r.try_get::<Option<i64>, _>("evse_id")?,
    timestamp: r.try_get("timestamp")?,
    value: r.try_get("value")?,
    measurand: r.try_get("measurand")?,
    phase: r.try_get("phase")?,
    unit: r.try_get("unit")?,
    context: r.try_get("context")?,
    location: r.try_get("location")?,
    signed_data: r.try_get("signed_data")?,
});

row_fn!(variable_row, VariableRecord, |r| VariableRecord {
    component: r.try_get("component")?,
    component_instance: r.try_get("component_instance")?,
    evse_id: r.try_get("evse_id")?,
    connector_id: r.try_get("connector_id")?,
    variable: r.try_get("variable")?,
    variable_instance: r.try_get("variable_instance")?,
    attribute_type: r.try_get("attribute_type")?,
    value: r.try_get("value")?,
    mutability: r.try_get("mutability")?,
    persistent: r.try_get::<Option<bool>, _>("persistent")?,
    constant: r.try_get::<Option<bool>, _>("constant_value")?,
    characteristics: r.try_get("characteristics")?,
    source: r.try_get("source")?,
    updated_at: r.try_get("updated_at")?,
});

row_fn!(event_row, EventRecord, |r| EventRecord {
    station_id: r.try_get("station_id")?,
    kind: r.try_get("kind")?,
    status: r.try_get("status")?,
    detail: r.try_get("detail")?,
    payload: r.try_get("payload")?,
    at: r.try_get("at")?,
});

row_fn!(reservation_row, ReservationRecord, |r| ReservationRecord {
    id: r.try_get("id")?,
    station_id: r.try_get("station_id")?,
    evse_id: r.try_get::<Option<i64>, _>("evse_id")?,
    id_token: r.try_get("id_token")?,
    expiry: r.try_get("expiry")?,
    status: r.try_get("status")?,
});

// Encryption at rest (crate::at_rest): the encrypted columns decrypted as they are read.

fn open_message(c: &Cipher, mut m: MessageRecord) -> Result<MessageRecord, sqlx::Error> {
    c.open_in(&mut m.payload)?;
    Ok(m)
}

fn open_token(c: &Cipher, mut t: IdTokenRecord) -> Result<IdTokenRecord, sqlx::Error> {
    c.open_in(&mut t.id_token)?;
    c.open_opt_in(&mut t.parent_id)?;
    c.open_opt_in(&mut t.group_id)?;
    Ok(t)
}

fn open_tx(c: &Cipher, mut t: TransactionRecord) -> Result<TransactionRecord, sqlx::Error> {
    c.open_opt_in(&mut t.id_token)?;
    Ok(t)
}

fn open_reservation(
    c: &Cipher,
    mut r: ReservationRecord,
) -> Result<ReservationRecord, sqlx::Error> {
    c.open_in(&mut r.id_token)?;
    Ok(r)
}

// Smart charging rows (crate::smart_charging).

row_fn!(profile_row, ChargingProfileRecord, |r| {
    ChargingProfileRecord {
        station_id: r.try_get("station_id")?,
        profile_id: r.try_get("profile_id")?,
        evse_id: r.try_get("evse_id")?,
        version: r.try_get("version")?,
        purpose: r.try_get("purpose")?,
        stack_level: r.try_get("stack_level")?,
        kind: r.try_get("kind")?,
        recurrency: r.try_get("recurrency")?,
        transaction_id: r.try_get("transaction_id")?,
        valid_from: r.try_get("valid_from")?,
        valid_to: r.try_get("valid_to")?,
        rate_unit: r.try_get("rate_unit")?,
        profile: r.try_get("profile")?,
        neutral: r.try_get("neutral")?,
        source: r.try_get("source")?,
        installed_at: r.try_get("installed_at")?,
    }
});

row_fn!(composite_row, CompositeReportRecord, |r| {
    CompositeReportRecord {
        station_id: r.try_get("station_id")?,
        evse_id: r.try_get("evse_id")?,
        version: r.try_get("version")?,
        requested_at: r.try_get("requested_at")?,
        duration: r.try_get("duration")?,
        rate_unit: r.try_get("rate_unit")?,
        status: r.try_get("status")?,
        reported: r.try_get("reported")?,
        predicted: r.try_get("predicted")?,
        differences: r.try_get("differences")?,
        payload: r.try_get("payload")?,
        at: r.try_get("at")?,
    }
});

row_fn!(reported_row, ReportedProfileRecord, |r| {
    ReportedProfileRecord {
        station_id: r.try_get("station_id")?,
        request_id: r.try_get("request_id")?,
        evse_id: r.try_get("evse_id")?,
        limit_source: r.try_get("limit_source")?,
        profile_id: r.try_get("profile_id")?,
        profile: r.try_get("profile")?,
        at: r.try_get("at")?,
    }
});

row_fn!(group_row, LoadGroupRecord, |r| LoadGroupRecord {
    id: r.try_get("id")?,
    name: r.try_get("name")?,
    limit: r.try_get("limit_value")?,
    unit: r.try_get("rate_unit")?,
    min_per_car: r.try_get("min_per_car")?,
    created_at: r.try_get("created_at")?,
    updated_at: r.try_get("updated_at")?,
});

const PROFILE_COLS: &str = "station_id, profile_id, evse_id, version, purpose, stack_level, kind, recurrency, transaction_id, valid_from, valid_to, rate_unit, profile, neutral, source, installed_at";

const STATION_COLS: &str = "id, version, registration, vendor, model, serial_number, firmware_version, boot_reason, boot_payload, first_seen, last_seen, last_boot_at, connected, security_profile, password_hash";
const TX_COLS: &str = "station_id, transaction_id, version, evse_id, connector_id, id_token, token_type, status, started_at, stopped_at, meter_start, meter_stop, stop_reason, charging_state, last_seq_no, offline";
const METER_COLS: &str = "transaction_id, evse_id, timestamp, value, measurand, phase, unit, context, location, signed_data";

/// One Store write as its own unit of work: begin, the StoreTx method, commit.
macro_rules! in_tx {
    ($self:ident, $method:ident($($arg:expr),*)) => {{
        let mut t = Box::new($self.unit().await?);
        let r = t.$method($($arg),*).await?;
        t.commit().await?;
        Ok(r)
    }};
}

macro_rules! sql_store {
    ($store:ty, $tx:ident) => {
        #[async_trait]
        impl Store for $store {
            async fn begin(&self) -> StoreResult<Box<dyn StoreTx>> {
                Ok(Box::new(self.unit().await?))
            }

            fn ocpi_db(&self) -> Option<std::sync::Arc<dyn crate::ocpi_cpo::db::OcpiDb>> {
                Some(std::sync::Arc::new(self.clone()))
            }

            async fn log_message(&self, m: &MessageRecord) -> StoreResult<()> {
                in_tx!(self, log_message(m))
            }

            async fn messages(&self, station_id: &str, page: Page) -> StoreResult<Vec<MessageRecord>> {
                let rows = sqlx::query("SELECT * FROM message_log WHERE station_id = $1 ORDER BY id LIMIT $2 OFFSET $3")
                    .bind(station_id).bind(page.limit).bind(page.offset)
                    .fetch_all(&self.read).await?;
                Ok(rows.iter().map(|r| open_message(&self.cipher, message_row(r)?)).collect::<Result<_, _>>()?)
            }

            async fn ensure_station(&self, station_id: &str, registration: &str, at: &str) -> StoreResult<StationRecord> {
                in_tx!(self, ensure_station(station_id, registration, at))
            }

            async fn station(&self, station_id: &str) -> StoreResult<Option<StationRecord>> {
                let row = sqlx::query(&format!("SELECT {STATION_COLS} FROM stations WHERE id = $1"))
                    .bind(station_id).fetch_optional(&self.read).await?;
                Ok(row.as_ref().map(station_row).transpose()?)
            }

            async fn stations(&self, page: Page) -> StoreResult<Vec<StationRecord>> {
                let rows = sqlx::query(&format!("SELECT {STATION_COLS} FROM stations ORDER BY id LIMIT $1 OFFSET $2"))
                    .bind(page.limit).bind(page.offset).fetch_all(&self.read).await?;
                Ok(rows.iter().map(station_row).collect::<Result<_, _>>()?)
            }

            async fn record_boot(&self, b: &BootRecord) -> StoreResult<()> {
                in_tx!(self, record_boot(b))
            }

            async fn set_registration(&self, station_id: &str, registration: &str) -> StoreResult<bool> {
                let r = sqlx::query("UPDATE stations SET registration = $2 WHERE id = $1")
                    .bind(station_id).bind(registration).execute(&self.pool).await?;
                Ok(r.rows_affected() > 0)
            }

            async fn set_station_auth(&self, station_id: &str, security_profile: Option<i64>, password_hash: Option<&str>, at: &str) -> StoreResult<()> {
                sqlx::query("INSERT INTO stations (id, first_seen, security_profile, password_hash) VALUES ($1, $2, $3, $4) \
                             ON CONFLICT (id) DO UPDATE SET security_profile = $3, password_hash = $4")
                    .bind(station_id).bind(at).bind(security_profile).bind(password_hash)
                    .execute(&self.pool).await?;
                Ok(())
            }

            async fn set_connected(&self, station_id: &str, version: &str, connected: bool, at: &str) -> StoreResult<()> {
                // In a unit of work: on SQLite it shares the group commit of the station messages
                // (10,000 stations connecting are 10,000 of these).
                let mut t = self.unit().await?;
                sqlx::query("UPDATE stations SET connected = $2, version = $3, last_seen = $4 WHERE id = $1")
                    .bind(station_id).bind(connected).bind(version).bind(at)
                    .execute(&mut *t.0).await?;
                t.0.commit().await?;
                Ok(())
            }

            async fn reset_connected(&self) -> StoreResult<()> {
                sqlx::query("UPDATE stations SET connected = FALSE WHERE connected").execute(&self.pool).await?;
                Ok(())
            }

            async fn touch(&self, station_id: &str, at: &str) -> StoreResult<()> {
                in_tx!(self, touch(station_id, at))
            }

            async fn record_status(&self, s: &StatusRecord) -> StoreResult<()> {
                in_tx!(self, record_status(s))
            }

            async fn statuses(&self, station_id: &str) -> StoreResult<Vec<StatusRecord>> {
                let rows = sqlx::query("SELECT station_id, evse_id, connector_id, status, error_code, info, timestamp, '' AS payload, updated_at AS received_at FROM connector_status WHERE station_id = $1 ORDER BY evse_id, connector_id")
                    .bind(station_id).fetch_all(&self.read).await?;
                Ok(rows.iter().map(status_row).collect::<Result<_, _>>()?)
            }

            async fn status_history(&self, station_id: &str, page: Page) -> StoreResult<Vec<StatusRecord>> {
                let rows = sqlx::query("SELECT station_id, evse_id, connector_id, status, error_code, info, timestamp, payload, received_at FROM status_history WHERE station_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3")
                    .bind(station_id).bind(page.limit).bind(page.offset).fetch_all(&self.read).await?;
                Ok(rows.iter().map(status_row).collect::<Result<_, _>>()?)
            }

            async fn id_token(&self, id_token: &str, token_type: &str) -> StoreResult<Option<IdTokenRecord>> {
                in_tx!(self, id_token(id_token, token_type))
            }

            async fn put_id_token(&self, t: &IdTokenRecord, at: &str) -> StoreResult<()> {
                sqlx::query("INSERT INTO id_tokens (id_token, token_type, status, expiry, parent_id, group_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                             ON CONFLICT (id_token, token_type) DO UPDATE SET status = $3, expiry = $4, parent_id = $5, group_id = $6, updated_at = $7")
                    .bind(self.cipher.det(&t.id_token)).bind(&t.token_type).bind(&t.status).bind(&t.expiry)
                    .bind(self.cipher.det_opt(&t.parent_id)).bind(self.cipher.det_opt(&t.group_id)).bind(at)
                    .execute(&self.pool).await?;
                Ok(())
            }

            async fn delete_id_token(&self, id_token: &str, token_type: &str) -> StoreResult<bool> {
                let r = sqlx::query("DELETE FROM id_tokens WHERE id_token = $1 AND token_type = $2")
                    .bind(self.cipher.det(id_token)).bind(token_type).execute(&self.pool).await?;
                Ok(r.rows_affected() > 0)
            }

            async fn id_tokens(&self, page: Page) -> StoreResult<Vec<IdTokenRecord>> {
                let rows = sqlx::query("SELECT * FROM id_tokens ORDER BY id_token, token_type LIMIT $1 OFFSET $2")
                    .bind(page.limit).bind(page.offset).fetch_all(&self.read).await?;
                Ok(rows.iter().map(|r| open_token(&self.cipher, token_row(r)?)).collect::<Result<_, _>>()?)
            }

            async fn start_transaction_16(&self, s: &TxStart) -> StoreResult<i64> {
                in_tx!(self, start_transaction_16(s))
            }

            async fn apply_transaction_event(&self, e: &TxEventRecord) -> StoreResult<TxEventOutcome> {
                in_tx!(self, apply_transaction_event(e))
            }

            async fn transaction(&self, station_id: &str, transaction_id: &str) -> StoreResult<Option<TransactionRecord>> {
                let row = sqlx::query(&format!("SELECT {TX_COLS} FROM transactions WHERE station_id = $1 AND transaction_id = $2"))
                    .bind(station_id).bind(transaction_id).fetch_optional(&self.read).await?;
                Ok(row.as_ref().map(|r| open_tx(&self.cipher, tx_row(r)?)).transpose()?)
            }

            async fn transactions(&self, station_id: Option<&str>, page: Page) -> StoreResult<Vec<TransactionRecord>> {
                let rows = sqlx::query(&format!("SELECT {TX_COLS} FROM transactions WHERE ($1 = '' OR station_id = $1) ORDER BY id DESC LIMIT $2 OFFSET $3"))
                    .bind(station_id.unwrap_or("")).bind(page.limit).bind(page.offset).fetch_all(&self.read).await?;
                Ok(rows.iter().map(|r| open_tx(&self.cipher, tx_row(r)?)).collect::<Result<_, _>>()?)
            }

            async fn insert_meter_values(&self, station_id: &str, values: &[MeterValueRecord]) -> StoreResult<()> {
                in_tx!(self, insert_meter_values(station_id, values))
            }

            async fn meter_values(&self, station_id: &str, transaction_id: &str, page: Page) -> StoreResult<Vec<MeterValueRecord>> {
                let rows = sqlx::query(&format!("SELECT {METER_COLS} FROM meter_values WHERE station_id = $1 AND transaction_id = $2 ORDER BY id LIMIT $3 OFFSET $4"))
                    .bind(station_id).bind(transaction_id).bind(page.limit).bind(page.offset).fetch_all(&self.read).await?;
                Ok(rows.iter().map(meter_row).collect::<Result<_, _>>()?)
            }

            async fn upsert_variables(&self, station_id: &str, vars: &[VariableRecord]) -> StoreResult<()> {
                in_tx!(self, upsert_variables(station_id, vars))
            }

            async fn variables(&self, station_id: &str, page: Page) -> StoreResult<Vec<VariableRecord>> {
                let rows = sqlx::query("SELECT * FROM device_model WHERE station_id = $1 ORDER BY component, component_instance, evse_id, connector_id, variable, variable_instance, attribute_type LIMIT $2 OFFSET $3")
                    .bind(station_id).bind(page.limit).bind(page.offset).fetch_all(&self.read).await?;
                Ok(rows.iter().map(variable_row).collect::<Result<_, _>>()?)
            }

            async fn record_event(&self, e: &EventRecord) -> StoreResult<()> {
                in_tx!(self, record_event(e))
            }

            async fn events(&self, station_id: &str, kind: Option<&str>, page: Page) -> StoreResult<Vec<EventRecord>> {
                let rows = sqlx::query("SELECT * FROM station_events WHERE station_id = $1 AND ($2 = '' OR kind = $2) ORDER BY id DESC LIMIT $3 OFFSET $4")
                    .bind(station_id).bind(kind.unwrap_or("")).bind(page.limit).bind(page.offset).fetch_all(&self.read).await?;
                Ok(rows.iter().map(event_row).collect::<Result<_, _>>()?)
            }

            async fn put_reservation(&self, r: &ReservationRecord, at: &str) -> StoreResult<()> {
                sqlx::query("INSERT INTO reservations (id, station_id, evse_id, id_token, expiry, status, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                             ON CONFLICT (station_id, id) DO UPDATE SET evse_id = $3, id_token = $4, expiry = $5, status = $6, updated_at = $7")
                    .bind(r.id).bind(&r.station_id).bind(r.evse_id).bind(self.cipher.det(&r.id_token)).bind(&r.expiry).bind(&r.status).bind(at)
                    .execute(&self.pool).await?;
                Ok(())
            }

            async fn set_reservation_status(&self, station_id: &str, id: i64, status: &str, at: &str) -> StoreResult<bool> {
                in_tx!(self, set_reservation_status(station_id, id, status, at))
            }

            async fn reservations(&self, station_id: &str) -> StoreResult<Vec<ReservationRecord>> {
                let rows = sqlx::query("SELECT * FROM reservations WHERE station_id = $1 ORDER BY id")
                    .bind(station_id).fetch_all(&self.read).await?;
                Ok(rows.iter().map(|r| open_reservation(&self.cipher, reservation_row(r)?)).collect::<Result<_, _>>()?)
            }

            async fn set_local_list_version(&self, station_id: &str, version: i64, at: &str) -> StoreResult<()> {
                sqlx::query("INSERT INTO local_list_versions (station_id, version, updated_at) VALUES ($1, $2, $3) ON CONFLICT (station_id) DO UPDATE SET version = $2, updated_at = $3")
                    .bind(station_id).bind(version).bind(at).execute(&self.pool).await?;
                Ok(())
            }

            async fn expire_reservations(&self, now: chrono::DateTime<chrono::Utc>) -> StoreResult<Vec<ReservationRecord>> {
                // Found on a reader (this runs every few seconds, and on SQLite the writer is
                // the station messages' queue); the writer only when one is due. The update
                // checks the status and the expiry it read, so a reservation used, cancelled
                // or replaced (a ReserveNow with the same id) meanwhile stays as it is.
                let rows = sqlx::query("SELECT * FROM reservations WHERE status IN ('Reserved', 'Accepted')")
                    .fetch_all(&self.read).await?;
                let mut due = Vec::new();
                for row in &rows {
                    let r = open_reservation(&self.cipher, reservation_row(row)?)?;
                    if chrono::DateTime::parse_from_rfc3339(&r.expiry).is_ok_and(|e| e <= now) {
                        due.push(r);
                    }
                }
                if due.is_empty() {
                    return Ok(due);
                }
                let at = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                let mut tx = self.pool.begin().await?;
                let mut expired = Vec::new();
                for mut r in due {
                    let n = sqlx::query("UPDATE reservations SET status = 'Expired', updated_at = $3 WHERE station_id = $1 AND id = $2 AND status = $4 AND expiry = $5")
                        .bind(&r.station_id).bind(r.id).bind(&at).bind(&r.status).bind(&r.expiry)
                        .execute(&mut *tx).await?;
                    if n.rows_affected() > 0 {
                        r.status = "Expired".into();
                        expired.push(r);
                    }
                }
                tx.commit().await?;
                Ok(expired)
            }

            async fn local_list_version(&self, station_id: &str) -> StoreResult<Option<i64>> {
                let row = sqlx::query("SELECT version FROM local_list_versions WHERE station_id = $1")
                    .bind(station_id).fetch_optional(&self.read).await?;
                Ok(row.map(|r| r.try_get("version")).transpose()?)
            }

            // Smart charging (crate::smart_charging).

            async fn put_charging_profile(&self, p: &ChargingProfileRecord, replaced: &[i64]) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                for id in replaced {
                    sqlx::query("DELETE FROM charging_profiles WHERE station_id = $1 AND profile_id = $2")
                        .bind(&p.station_id).bind(id).execute(&mut *tx).await?;
                }
                sqlx::query(&format!("INSERT INTO charging_profiles ({PROFILE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                             ON CONFLICT (station_id, profile_id) DO UPDATE SET evse_id = $3, version = $4, purpose = $5, stack_level = $6, kind = $7, recurrency = $8, \
                               transaction_id = $9, valid_from = $10, valid_to = $11, rate_unit = $12, profile = $13, neutral = $14, source = $15, installed_at = $16"))
                    .bind(&p.station_id).bind(p.profile_id).bind(p.evse_id).bind(&p.version).bind(&p.purpose)
                    .bind(p.stack_level).bind(&p.kind).bind(&p.recurrency).bind(&p.transaction_id)
                    .bind(&p.valid_from).bind(&p.valid_to).bind(&p.rate_unit).bind(&p.profile)
                    .bind(&p.neutral).bind(&p.source).bind(&p.installed_at)
                    .execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn charging_profiles(&self, station_id: &str, evse_id: Option<i64>) -> StoreResult<Vec<ChargingProfileRecord>> {
                let rows = sqlx::query(&format!("SELECT {PROFILE_COLS} FROM charging_profiles WHERE station_id = $1 AND ($2 < 0 OR evse_id = $2) ORDER BY evse_id, profile_id"))
                    .bind(station_id).bind(evse_id.unwrap_or(-1)).fetch_all(&self.read).await?;
                Ok(rows.iter().map(profile_row).collect::<Result<_, _>>()?)
            }

            async fn delete_charging_profiles(&self, station_id: &str, ids: &[i64]) -> StoreResult<u64> {
                let mut tx = self.pool.begin().await?;
                let mut n = 0;
                for id in ids {
                    n += sqlx::query("DELETE FROM charging_profiles WHERE station_id = $1 AND profile_id = $2")
                        .bind(station_id).bind(id).execute(&mut *tx).await?.rows_affected();
                }
                tx.commit().await?;
                Ok(n)
            }

            async fn active_transactions(&self, station_id: &str) -> StoreResult<Vec<TransactionRecord>> {
                let rows = sqlx::query(&format!("SELECT {TX_COLS} FROM transactions WHERE station_id = $1 AND status = 'Active' ORDER BY id"))
                    .bind(station_id).fetch_all(&self.read).await?;
                Ok(rows.iter().map(|r| open_tx(&self.cipher, tx_row(r)?)).collect::<Result<_, _>>()?)
            }

            async fn put_composite_report(&self, c: &CompositeReportRecord) -> StoreResult<()> {
                sqlx::query("INSERT INTO composite_reports (station_id, evse_id, version, requested_at, duration, rate_unit, status, reported, predicted, differences, payload, at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
                    .bind(&c.station_id).bind(c.evse_id).bind(&c.version).bind(&c.requested_at).bind(c.duration)
                    .bind(&c.rate_unit).bind(&c.status).bind(&c.reported).bind(&c.predicted).bind(&c.differences)
                    .bind(&c.payload).bind(&c.at)
                    .execute(&self.pool).await?;
                Ok(())
            }

            async fn composite_reports(&self, station_id: &str, evse_id: Option<i64>, page: Page) -> StoreResult<Vec<CompositeReportRecord>> {
                let rows = sqlx::query("SELECT * FROM composite_reports WHERE station_id = $1 AND ($2 < 0 OR evse_id = $2) ORDER BY id DESC LIMIT $3 OFFSET $4")
                    .bind(station_id).bind(evse_id.unwrap_or(-1)).bind(page.limit).bind(page.offset).fetch_all(&self.read).await?;
                Ok(rows.iter().map(composite_row).collect::<Result<_, _>>()?)
            }

            async fn put_reported_profiles(&self, profiles: &[ReportedProfileRecord]) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                for p in profiles {
                    sqlx::query("INSERT INTO reported_profiles (station_id, request_id, evse_id, limit_source, profile_id, profile, at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                        .bind(&p.station_id).bind(p.request_id).bind(p.evse_id).bind(&p.limit_source)
                        .bind(p.profile_id).bind(&p.profile).bind(&p.at)
                        .execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn latest_reported_profiles(&self, station_id: &str) -> StoreResult<Vec<ReportedProfileRecord>> {
                let rows = sqlx::query("SELECT * FROM reported_profiles WHERE station_id = $1 AND request_id = \
                                        (SELECT request_id FROM reported_profiles WHERE station_id = $1 ORDER BY id DESC LIMIT 1) ORDER BY id")
                    .bind(station_id).fetch_all(&self.read).await?;
                Ok(rows.iter().map(reported_row).collect::<Result<_, _>>()?)
            }

            async fn put_load_group(&self, g: &LoadGroupRecord) -> StoreResult<()> {
                sqlx::query("INSERT INTO lb_groups (id, name, limit_value, rate_unit, min_per_car, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                             ON CONFLICT (id) DO UPDATE SET name = $2, limit_value = $3, rate_unit = $4, min_per_car = $5, updated_at = $7")
                    .bind(&g.id).bind(&g.name).bind(&g.limit).bind(&g.unit).bind(&g.min_per_car)
                    .bind(&g.created_at).bind(&g.updated_at)
                    .execute(&self.pool).await?;
                Ok(())
            }

            async fn load_group(&self, id: &str) -> StoreResult<Option<LoadGroupRecord>> {
                let row = sqlx::query("SELECT * FROM lb_groups WHERE id = $1").bind(id).fetch_optional(&self.read).await?;
                Ok(row.as_ref().map(group_row).transpose()?)
            }

            async fn load_groups(&self) -> StoreResult<Vec<LoadGroupRecord>> {
                let rows = sqlx::query("SELECT * FROM lb_groups ORDER BY id").fetch_all(&self.read).await?;
                Ok(rows.iter().map(group_row).collect::<Result<_, _>>()?)
            }

            async fn delete_load_group(&self, id: &str) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("DELETE FROM lb_group_members WHERE group_id = $1").bind(id).execute(&mut *tx).await?;
                let r = sqlx::query("DELETE FROM lb_groups WHERE id = $1").bind(id).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(r.rows_affected() > 0)
            }

            async fn add_load_group_member(&self, group_id: &str, station_id: &str, at: &str) -> StoreResult<Option<String>> {
                let mut tx = self.pool.begin().await?;
                let existing = sqlx::query("SELECT group_id FROM lb_group_members WHERE station_id = $1")
                    .bind(station_id).fetch_optional(&mut *tx).await?;
                if let Some(row) = existing {
                    let g: String = row.try_get("group_id")?;
                    tx.rollback().await?;
                    return Ok((g != group_id).then_some(g));
                }
                sqlx::query("INSERT INTO lb_group_members (group_id, station_id, added_at) VALUES ($1, $2, $3)")
                    .bind(group_id).bind(station_id).bind(at).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(None)
            }

            async fn remove_load_group_member(&self, group_id: &str, station_id: &str) -> StoreResult<bool> {
                let r = sqlx::query("DELETE FROM lb_group_members WHERE group_id = $1 AND station_id = $2")
                    .bind(group_id).bind(station_id).execute(&self.pool).await?;
                Ok(r.rows_affected() > 0)
            }

            async fn load_group_members(&self, group_id: &str) -> StoreResult<Vec<String>> {
                let rows = sqlx::query("SELECT station_id FROM lb_group_members WHERE group_id = $1 ORDER BY station_id")
                    .bind(group_id).fetch_all(&self.read).await?;
                Ok(rows.iter().map(|r| r.try_get("station_id")).collect::<Result<_, _>>()?)
            }

            async fn load_group_of(&self, station_id: &str) -> StoreResult<Option<String>> {
                let row = sqlx::query("SELECT group_id FROM lb_group_members WHERE station_id = $1")
                    .bind(station_id).fetch_optional(&self.read).await?;
                Ok(row.map(|r| r.try_get("group_id")).transpose()?)
            }

            async fn load_group_transactions(&self, group_id: &str) -> StoreResult<Vec<TransactionRecord>> {
                let cols = TX_COLS.split(", ").map(|c| format!("t.{c}")).collect::<Vec<_>>().join(", ");
                let rows = sqlx::query(&format!("SELECT {cols} FROM transactions t JOIN lb_group_members m ON m.station_id = t.station_id \
                                                 WHERE m.group_id = $1 AND t.status = 'Active' ORDER BY t.id"))
                    .bind(group_id).fetch_all(&self.read).await?;
                Ok(rows.iter().map(|r| open_tx(&self.cipher, tx_row(r)?)).collect::<Result<_, _>>()?)
            }

            // Read methods of the operator dashboard.

            async fn search_stations(&self, f: &StationFilter, page: Page) -> StoreResult<(Vec<StationRecord>, i64)> {
                let like = format!("%{}%", f.text.to_ascii_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
                let cond = "($1 = '%%' OR LOWER(id) LIKE $1 ESCAPE '\\' OR LOWER(COALESCE(vendor, '')) LIKE $1 ESCAPE '\\' \
                            OR LOWER(COALESCE(model, '')) LIKE $1 ESCAPE '\\' OR LOWER(COALESCE(serial_number, '')) LIKE $1 ESCAPE '\\' \
                            OR LOWER(COALESCE(firmware_version, '')) LIKE $1 ESCAPE '\\') \
                            AND ($2 = '' OR version = $2) \
                            AND ($3 = '' OR ($3 = 'online' AND connected) OR ($3 = 'offline' AND NOT connected))";
                let rows = sqlx::query(&format!("SELECT {STATION_COLS} FROM stations WHERE {cond} ORDER BY id LIMIT $4 OFFSET $5"))
                    .bind(&like).bind(&f.version).bind(&f.connection).bind(page.limit).bind(page.offset)
                    .fetch_all(&self.read).await?;
                let n: i64 = sqlx::query(&format!("SELECT COUNT(*) AS n FROM stations WHERE {cond}"))
                    .bind(&like).bind(&f.version).bind(&f.connection)
                    .fetch_one(&self.read).await?.try_get("n")?;
                Ok((rows.iter().map(station_row).collect::<Result<_, _>>()?, n))
            }

            async fn statuses_of(&self, station_ids: &[String]) -> StoreResult<Vec<StatusRecord>> {
                if station_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let marks: Vec<String> = (1..=station_ids.len()).map(|i| format!("${i}")).collect();
                let sql = format!("SELECT station_id, evse_id, connector_id, status, error_code, info, timestamp, '' AS payload, updated_at AS received_at FROM connector_status WHERE station_id IN ({}) ORDER BY station_id, evse_id, connector_id", marks.join(", "));
                let mut q = sqlx::query(&sql);
                for id in station_ids {
                    q = q.bind(id);
                }
                let rows = q.fetch_all(&self.read).await?;
                Ok(rows.iter().map(status_row).collect::<Result<_, _>>()?)
            }

            async fn recent_messages(&self, station_id: &str, page: Page) -> StoreResult<Vec<MessageRecord>> {
                let rows = sqlx::query("SELECT * FROM message_log WHERE station_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3")
                    .bind(station_id).bind(page.limit).bind(page.offset)
                    .fetch_all(&self.read).await?;
                Ok(rows.iter().map(|r| open_message(&self.cipher, message_row(r)?)).collect::<Result<_, _>>()?)
            }

            async fn search_transactions(&self, station_id: Option<&str>, status: Option<&str>, page: Page) -> StoreResult<(Vec<TransactionRecord>, i64)> {
                let cond = "($1 = '' OR station_id = $1) AND ($2 = '' OR status = $2)";
                let (st, stat) = (station_id.unwrap_or(""), status.unwrap_or(""));
                let rows = sqlx::query(&format!("SELECT {TX_COLS} FROM transactions WHERE {cond} ORDER BY id DESC LIMIT $3 OFFSET $4"))
                    .bind(st).bind(stat).bind(page.limit).bind(page.offset).fetch_all(&self.read).await?;
                let n: i64 = sqlx::query(&format!("SELECT COUNT(*) AS n FROM transactions WHERE {cond}"))
                    .bind(st).bind(stat).fetch_one(&self.read).await?.try_get("n")?;
                Ok((rows.iter().map(|r| open_tx(&self.cipher, tx_row(r)?)).collect::<Result<_, _>>()?, n))
            }

            async fn energy_register_bounds(&self, station_id: &str, transaction_id: &str) -> StoreResult<Option<(MeterValueRecord, MeterValueRecord)>> {
                let cond = "station_id = $1 AND transaction_id = $2 AND (measurand IS NULL OR measurand = 'Energy.Active.Import.Register') AND phase IS NULL";
                let first = sqlx::query(&format!("SELECT {METER_COLS} FROM meter_values WHERE {cond} ORDER BY id LIMIT 1"))
                    .bind(station_id).bind(transaction_id).fetch_optional(&self.read).await?;
                let last = sqlx::query(&format!("SELECT {METER_COLS} FROM meter_values WHERE {cond} ORDER BY id DESC LIMIT 1"))
                    .bind(station_id).bind(transaction_id).fetch_optional(&self.read).await?;
                Ok(match (first, last) {
                    (Some(a), Some(b)) => Some((meter_row(&a)?, meter_row(&b)?)),
                    _ => None,
                })
            }

            async fn count_id_tokens(&self) -> StoreResult<i64> {
                Ok(sqlx::query("SELECT COUNT(*) AS n FROM id_tokens").fetch_one(&self.read).await?.try_get("n")?)
            }
        }

        #[async_trait]
        impl StoreTx for $tx {
            async fn log_message(&mut self, m: &MessageRecord) -> StoreResult<()> {
                sqlx::query("INSERT INTO message_log (station_id, direction, kind, message_id, action, payload, at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(&m.station_id).bind(&m.direction).bind(&m.kind).bind(&m.message_id)
                    .bind(&m.action).bind(self.1.seal(&m.payload)).bind(&m.at)
                    .execute(&mut *self.0).await?;
                Ok(())
            }

            async fn ensure_station(&mut self, station_id: &str, registration: &str, at: &str) -> StoreResult<StationRecord> {
                sqlx::query("INSERT INTO stations (id, registration, first_seen) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
                    .bind(station_id).bind(registration).bind(at)
                    .execute(&mut *self.0).await?;
                let row = sqlx::query(&format!("SELECT {STATION_COLS} FROM stations WHERE id = $1"))
                    .bind(station_id).fetch_one(&mut *self.0).await?;
                Ok(station_row(&row)?)
            }

            async fn record_boot(&mut self, b: &BootRecord) -> StoreResult<()> {
                sqlx::query("INSERT INTO stations (id, version, vendor, model, serial_number, firmware_version, boot_reason, boot_payload, first_seen, last_seen, last_boot_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $9) \
                             ON CONFLICT (id) DO UPDATE SET version = $2, vendor = $3, model = $4, serial_number = $5, firmware_version = $6, boot_reason = $7, boot_payload = $8, last_seen = $9, last_boot_at = $9")
                    .bind(&b.station_id).bind(&b.version).bind(&b.vendor).bind(&b.model)
                    .bind(&b.serial_number).bind(&b.firmware_version).bind(&b.reason)
                    .bind(&b.payload).bind(&b.at)
                    .execute(&mut *self.0).await?;
                Ok(())
            }

            async fn touch(&mut self, station_id: &str, at: &str) -> StoreResult<()> {
                sqlx::query("UPDATE stations SET last_seen = $2 WHERE id = $1")
                    .bind(station_id).bind(at).execute(&mut *self.0).await?;
                Ok(())
            }

            async fn record_status(&mut self, s: &StatusRecord) -> StoreResult<()> {
                let tx = &mut *self.0;
                if MULTI_STATEMENT {
                    // Both statements below in one round trip (same parameters, $8 the payload).
                    sqlx::query("INSERT INTO connector_status (station_id, evse_id, connector_id, status, error_code, info, timestamp, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $9) \
                                 ON CONFLICT (station_id, evse_id, connector_id) DO UPDATE SET status = $4, error_code = $5, info = $6, timestamp = $7, updated_at = $9; \
                                 INSERT INTO status_history (station_id, evse_id, connector_id, status, error_code, info, timestamp, payload, received_at) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 \
                                 WHERE $7 IS NULL OR NOT EXISTS (SELECT 1 FROM status_history WHERE station_id = $1 AND evse_id = $2 AND connector_id = $3 AND status = $4 AND timestamp = $7)")
                        .bind(&s.station_id).bind(s.evse_id).bind(s.connector_id).bind(&s.status)
                        .bind(&s.error_code).bind(&s.info).bind(&s.timestamp).bind(&s.payload).bind(&s.received_at)
                        .execute(&mut *tx).await?;
                    return Ok(());
                }
                sqlx::query("INSERT INTO connector_status (station_id, evse_id, connector_id, status, error_code, info, timestamp, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                             ON CONFLICT (station_id, evse_id, connector_id) DO UPDATE SET status = $4, error_code = $5, info = $6, timestamp = $7, updated_at = $8")
                    .bind(&s.station_id).bind(s.evse_id).bind(s.connector_id).bind(&s.status)
                    .bind(&s.error_code).bind(&s.info).bind(&s.timestamp).bind(&s.received_at)
                    .execute(&mut *tx).await?;
                // A redelivered report (same status at the same station time) is one entry.
                sqlx::query("INSERT INTO status_history (station_id, evse_id, connector_id, status, error_code, info, timestamp, payload, received_at) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 \
                             WHERE $7 IS NULL OR NOT EXISTS (SELECT 1 FROM status_history WHERE station_id = $1 AND evse_id = $2 AND connector_id = $3 AND status = $4 AND timestamp = $7)")
                    .bind(&s.station_id).bind(s.evse_id).bind(s.connector_id).bind(&s.status)
                    .bind(&s.error_code).bind(&s.info).bind(&s.timestamp).bind(&s.payload).bind(&s.received_at)
                    .execute(&mut *tx).await?;
                Ok(())
            }

            async fn id_token(&mut self, id_token: &str, token_type: &str) -> StoreResult<Option<IdTokenRecord>> {
                let row = sqlx::query("SELECT * FROM id_tokens WHERE id_token = $1 AND (token_type = $2 OR token_type = '') ORDER BY token_type DESC LIMIT 1")
                    .bind(self.1.det(id_token)).bind(token_type).fetch_optional(&mut *self.0).await?;
                Ok(row.as_ref().map(|r| open_token(&self.1, token_row(r)?)).transpose()?)
            }

            async fn start_transaction_16(&mut self, s: &TxStart) -> StoreResult<i64> {
                let tx = &mut *self.0;
                let existing = sqlx::query("SELECT id FROM transactions WHERE station_id = $1 AND version = '1.6' AND connector_id = $2 AND id_token = $3 AND meter_start = $4 AND started_at = $5")
                    .bind(&s.station_id).bind(s.connector_id).bind(self.1.det(&s.id_token)).bind(&s.meter_start).bind(&s.timestamp)
                    .fetch_optional(&mut *tx).await?;
                if let Some(row) = existing {
                    return Ok(row.try_get("id")?);
                }
                let placeholder = format!("pending-{}-{}", std::process::id(), NONCE.fetch_add(1, Ordering::Relaxed));
                let row = sqlx::query("INSERT INTO transactions (station_id, transaction_id, version, evse_id, connector_id, id_token, status, started_at, meter_start, reservation_id, last_seq_no, updated_at) \
                                       VALUES ($1, $2, '1.6', $3, $3, $4, 'Active', $5, $6, $7, 0, $8) RETURNING id")
                    .bind(&s.station_id).bind(&placeholder).bind(s.connector_id).bind(self.1.det(&s.id_token))
                    .bind(&s.timestamp).bind(&s.meter_start).bind(s.reservation_id).bind(&s.received_at)
                    .fetch_one(&mut *tx).await?;
                let id: i64 = row.try_get("id")?;
                sqlx::query("UPDATE transactions SET transaction_id = $2 WHERE id = $1")
                    .bind(id).bind(id.to_string()).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO transaction_events (station_id, transaction_id, seq_no, event_type, trigger_reason, timestamp, offline, payload, received_at) VALUES ($1, $2, 0, 'Started', NULL, $3, FALSE, $4, $5)")
                    .bind(&s.station_id).bind(id.to_string()).bind(&s.timestamp).bind(self.1.seal(&s.payload)).bind(&s.received_at)
                    .execute(&mut *tx).await?;
                Ok(id)
            }

            async fn apply_transaction_event(&mut self, e: &TxEventRecord) -> StoreResult<TxEventOutcome> {
                let tx = &mut *self.0;
                let inserted = sqlx::query("INSERT INTO transaction_events (station_id, transaction_id, seq_no, event_type, trigger_reason, timestamp, offline, payload, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                                            ON CONFLICT (station_id, transaction_id, seq_no) DO NOTHING RETURNING id")
                    .bind(&e.station_id).bind(&e.transaction_id).bind(e.seq_no).bind(&e.event_type)
                    .bind(&e.trigger_reason).bind(&e.timestamp).bind(e.offline).bind(self.1.seal(&e.payload)).bind(&e.received_at)
                    .fetch_optional(&mut *tx).await?;
                let Some(row) = inserted else {
                    return Ok(TxEventOutcome { duplicate: true });
                };
                let event_id: i64 = row.try_get("id")?;
                let ended = e.event_type == "Ended";
                let status = if ended { "Ended" } else { "Active" };
                let started = if e.event_type == "Started" { Some(e.timestamp.as_str()) } else { None };
                let stopped = if ended { Some(e.timestamp.as_str()) } else { None };
                // An event may arrive before the Started one (offline delivery out of order):
                // the row is created by whichever comes first, and each fills what it knows.
                sqlx::query("INSERT INTO transactions (station_id, transaction_id, version, evse_id, connector_id, id_token, token_type, status, started_at, stopped_at, meter_stop, stop_reason, charging_state, last_seq_no, offline, reservation_id, updated_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
                             ON CONFLICT (station_id, transaction_id) DO UPDATE SET \
                               evse_id = COALESCE(transactions.evse_id, excluded.evse_id), \
                               connector_id = COALESCE(transactions.connector_id, excluded.connector_id), \
                               id_token = COALESCE(excluded.id_token, transactions.id_token), \
                               token_type = COALESCE(excluded.token_type, transactions.token_type), \
                               status = CASE WHEN transactions.status = 'Ended' THEN 'Ended' ELSE excluded.status END, \
                               started_at = COALESCE(transactions.started_at, excluded.started_at), \
                               stopped_at = COALESCE(excluded.stopped_at, transactions.stopped_at), \
                               meter_stop = COALESCE(excluded.meter_stop, transactions.meter_stop), \
                               stop_reason = COALESCE(excluded.stop_reason, transactions.stop_reason), \
                               charging_state = COALESCE(excluded.charging_state, transactions.charging_state), \
                               last_seq_no = CASE WHEN transactions.last_seq_no IS NULL OR excluded.last_seq_no > transactions.last_seq_no THEN excluded.last_seq_no ELSE transactions.last_seq_no END, \
                               offline = transactions.offline OR excluded.offline, \
                               reservation_id = COALESCE(transactions.reservation_id, excluded.reservation_id), \
                               updated_at = excluded.updated_at")
                    .bind(&e.station_id).bind(&e.transaction_id).bind(&e.version).bind(e.evse_id).bind(e.connector_id)
                    .bind(self.1.det_opt(&e.id_token)).bind(&e.token_type).bind(status).bind(started).bind(stopped)
                    .bind(&e.meter_stop).bind(&e.stop_reason).bind(&e.charging_state).bind(e.seq_no)
                    .bind(e.offline).bind(e.reservation_id).bind(&e.received_at)
                    .execute(&mut *tx).await?;
                insert_meters(&mut *tx, &e.station_id, &e.meter_values, Some(event_id)).await?;
                Ok(TxEventOutcome { duplicate: false })
            }

            async fn insert_meter_values(&mut self, station_id: &str, values: &[MeterValueRecord]) -> StoreResult<()> {
                insert_meters(&mut *self.0, station_id, values, None).await?;
                Ok(())
            }

            async fn log_exchange(&mut self, call: &MessageRecord, answer: &MessageRecord, at: &str) -> StoreResult<()> {
                self.exchange(call, answer, at).await
            }

            async fn upsert_variables(&mut self, station_id: &str, vars: &[VariableRecord]) -> StoreResult<()> {
                let tx = &mut *self.0;
                for v in vars {
                    sqlx::query("INSERT INTO device_model (station_id, component, component_instance, evse_id, connector_id, variable, variable_instance, attribute_type, value, mutability, persistent, constant_value, characteristics, source, updated_at) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                                 ON CONFLICT (station_id, component, component_instance, evse_id, connector_id, variable, variable_instance, attribute_type) DO UPDATE SET \
                                   value = COALESCE(excluded.value, device_model.value), \
                                   mutability = COALESCE(excluded.mutability, device_model.mutability), \
                                   persistent = COALESCE(excluded.persistent, device_model.persistent), \
                                   constant_value = COALESCE(excluded.constant_value, device_model.constant_value), \
                                   characteristics = COALESCE(excluded.characteristics, device_model.characteristics), \
                                   source = excluded.source, updated_at = excluded.updated_at")
                        .bind(station_id).bind(&v.component).bind(&v.component_instance).bind(v.evse_id).bind(v.connector_id)
                        .bind(&v.variable).bind(&v.variable_instance).bind(&v.attribute_type).bind(&v.value)
                        .bind(&v.mutability).bind(v.persistent).bind(v.constant).bind(&v.characteristics)
                        .bind(&v.source).bind(&v.updated_at)
                        .execute(&mut *tx).await?;
                }
                Ok(())
            }

            async fn record_event(&mut self, e: &EventRecord) -> StoreResult<()> {
                sqlx::query("INSERT INTO station_events (station_id, kind, status, detail, payload, at) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(&e.station_id).bind(&e.kind).bind(&e.status).bind(&e.detail).bind(&e.payload).bind(&e.at)
                    .execute(&mut *self.0).await?;
                Ok(())
            }

            async fn set_reservation_status(&mut self, station_id: &str, id: i64, status: &str, at: &str) -> StoreResult<bool> {
                let r = sqlx::query("UPDATE reservations SET status = $3, updated_at = $4 WHERE station_id = $1 AND id = $2")
                    .bind(station_id).bind(id).bind(status).bind(at).execute(&mut *self.0).await?;
                Ok(r.rows_affected() > 0)
            }

            async fn commit(self: Box<Self>) -> StoreResult<()> {
                self.0.commit().await?;
                Ok(())
            }
        }
    };
}

macro_rules! insert_meter_fn {
    ($name:ident, $db:ty, $multi_statement:expr) => {
        /// Stores `values` in as few round trips as the backend allows: one multi-row insert
        /// for the samples of a transaction event; the deduplicating inserts of a MeterValues
        /// message in one multi-statement query on SQLite, one statement each on PostgreSQL
        /// (whose prepared statements hold one statement).
        async fn $name(
            conn: &mut <$db as sqlx::Database>::Connection,
            station_id: &str,
            values: &[MeterValueRecord],
            source_event: Option<i64>,
        ) -> Result<(), sqlx::Error> {
            const N: usize = 12;
            fn marks(row: usize) -> String {
                let v: Vec<String> = (1..=N).map(|k| format!("${}", row * N + k)).collect();
                v.join(", ")
            }
            // A MeterValues message redelivered (the CSMS stored it, then the station lost
            // the answer) adds nothing: a sample identical in every column is stored once.
            // Samples of a TransactionEvent are deduplicated with their event (seqNo).
            fn dedup(row: usize) -> String {
                let p = |k: usize| format!("${}", row * N + k);
                format!("INSERT INTO meter_values (station_id, {METER_COLS}, source_event) SELECT {} \
                         WHERE NOT EXISTS (SELECT 1 FROM meter_values WHERE station_id = {} AND source_event IS NULL AND transaction_id IS NOT DISTINCT FROM {} \
                           AND evse_id IS NOT DISTINCT FROM {} AND timestamp = {} AND value = {} AND measurand IS NOT DISTINCT FROM {} AND phase IS NOT DISTINCT FROM {} \
                           AND unit IS NOT DISTINCT FROM {} AND context IS NOT DISTINCT FROM {} AND location IS NOT DISTINCT FROM {})",
                        marks(row), p(1), p(2), p(3), p(4), p(5), p(6), p(7), p(8), p(9), p(10))
            }
            if values.is_empty() {
                return Ok(());
            }
            // At most 256 rows (3,072 parameters) per query, well below both backends' limits.
            let batches: Vec<(String, &[MeterValueRecord])> = if source_event.is_some() {
                values.chunks(256).map(|c| {
                    let rows: Vec<String> = (0..c.len()).map(|r| format!("({})", marks(r))).collect();
                    (format!("INSERT INTO meter_values (station_id, {METER_COLS}, source_event) VALUES {}", rows.join(", ")), c)
                }).collect()
            } else if $multi_statement {
                values.chunks(256).map(|c| {
                    let stmts: Vec<String> = (0..c.len()).map(dedup).collect();
                    (stmts.join("; "), c)
                }).collect()
            } else {
                values.chunks(1).map(|c| (dedup(0), c)).collect()
            };
            for (sql, rows) in &batches {
                let mut q = sqlx::query(sql);
                for m in rows.iter() {
                    q = q.bind(station_id).bind(&m.transaction_id).bind(m.evse_id).bind(&m.timestamp).bind(&m.value)
                        .bind(&m.measurand).bind(&m.phase).bind(&m.unit).bind(&m.context).bind(&m.location)
                        .bind(&m.signed_data).bind(source_event);
                }
                q.execute(&mut *conn).await?;
            }
            Ok(())
        }
    };
}

/// The columns of a message log row, as the exchange inserts bind them.
const LOG_ROW: &str = "station_id, direction, kind, message_id, action, payload, at";

/// Binds the parameters of a unit's exchange statement, the same on both backends: the CALL's
/// and the answer's [`LOG_ROW`] ($1–$14, payloads sealed with the cipher), then the station's
/// `last_seen` ($15).
macro_rules! bind_exchange {
    ($q:expr, $cipher:expr, $call:expr, $answer:expr, $at:expr) => {{
        let mut q = $q;
        for m in [$call, $answer] {
            q = q
                .bind(&m.station_id)
                .bind(&m.direction)
                .bind(&m.kind)
                .bind(&m.message_id)
                .bind(&m.action)
                .bind($cipher.seal(&m.payload))
                .bind(&m.at);
        }
        q.bind($at)
    }};
}

mod sqlite_impl {
    use super::*;
    /// A unit of work on SQLite.
    pub(super) struct Tx(crate::store::group::Unit, Cipher);
    impl SqliteStore {
        /// A unit of work, committed with the other units of its group.
        async fn unit(&self) -> Result<Tx, sqlx::Error> {
            Ok(Tx(self.group.begin().await?, self.cipher.clone()))
        }
    }
    /// A query may hold several statements (sharing its numbered parameters).
    const MULTI_STATEMENT: bool = true;
    insert_meter_fn!(insert_meters, sqlx::Sqlite, MULTI_STATEMENT);
    impl Tx {
        /// The CALL and its answer logged, the station touched and the unit's savepoint
        /// released: one round trip to the connection's thread instead of four.
        async fn exchange(
            &mut self,
            call: &MessageRecord,
            answer: &MessageRecord,
            at: &str,
        ) -> StoreResult<()> {
            // Formatted once, not for every message.
            static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
                format!(
                    "INSERT INTO message_log ({LOG_ROW}) VALUES ($1, $2, $3, $4, $5, $6, $7), ($8, $9, $10, $11, $12, $13, $14); \
                     UPDATE stations SET last_seen = $15 WHERE id = $1; {}",
                    crate::store::group::Unit::RELEASE
                )
            });
            bind_exchange!(sqlx::query(&SQL), &self.1, call, answer, at)
                .execute(&mut *self.0)
                .await?;
            self.0.released();
            Ok(())
        }
    }
    sql_store!(SqliteStore, Tx);
}

mod pg_impl {
    use super::*;
    /// A unit of work on PostgreSQL.
    pub(super) struct Tx(sqlx::Transaction<'static, sqlx::Postgres>, Cipher);
    impl PgStore {
        /// A unit of work: a transaction of its own (PostgreSQL commits concurrent
        /// transactions together by itself).
        async fn unit(&self) -> Result<Tx, sqlx::Error> {
            Ok(Tx(self.pool.begin().await?, self.cipher.clone()))
        }
    }
    /// A prepared statement is one statement.
    const MULTI_STATEMENT: bool = false;
    insert_meter_fn!(insert_meters, sqlx::Postgres, MULTI_STATEMENT);
    impl Tx {
        /// The CALL and its answer logged and the station touched, in one statement.
        async fn exchange(
            &mut self,
            call: &MessageRecord,
            answer: &MessageRecord,
            at: &str,
        ) -> StoreResult<()> {
            // Formatted once, not for every message.
            static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
                format!(
                    "WITH touched AS (UPDATE stations SET last_seen = $15 WHERE id = $1) \
                     INSERT INTO message_log ({LOG_ROW}) VALUES ($1, $2, $3, $4, $5, $6, $7), ($8, $9, $10, $11, $12, $13, $14)"
                )
            });
            bind_exchange!(sqlx::query(&SQL), &self.1, call, answer, at)
                .execute(&mut *self.0)
                .await?;
            Ok(())
        }
    }
    sql_store!(PgStore, Tx);
}
