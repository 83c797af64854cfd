//! Storage: the [`Store`] trait the CSMS writes through, its records, and the two SQL
//! implementations ([`SqliteStore`], [`PgStore`]).
//!
//! Every method is one database transaction, committed when the future resolves: the CSMS
//! answers a station only after the methods recording what it reported have returned, so a
//! crash never loses an acknowledged message.
//!
//! Times are RFC 3339 text exactly as the station wrote them (its offset and precision kept);
//! payloads are the JSON text exactly as received or sent. Library users can implement
//! [`Store`] over their own database.

use async_trait::async_trait;
use serde::Serialize;

mod group;
mod sql;
pub(crate) use sql::in_memory;

pub use sql::{pg_pool_size, PgStore, SqliteStore, DEFAULT_PG_POOL, DEFAULT_STORE_TIMEOUT};

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema migration failed.
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The database URL is not one this build supports.
    #[error("unsupported database URL {0:?} (use sqlite:<file> or postgres://...)")]
    UnsupportedUrl(String),
}

/// A result of a storage operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// A page of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// How many rows at most.
    pub limit: i64,
    /// How many rows to skip.
    pub offset: i64,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            limit: 100,
            offset: 0,
        }
    }
}

/// One OCPP message as it crossed the wire (the station message log).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MessageRecord {
    /// The station.
    pub station_id: String,
    /// `in` (from the station) or `out` (to the station).
    pub direction: String,
    /// `call`, `result` or `error`.
    pub kind: String,
    /// The OCPP message id.
    pub message_id: String,
    /// The action of the CALL (of the CALL answered, for results and errors).
    pub action: String,
    /// The payload JSON (for errors: `{"code":..,"description":..}`).
    pub payload: String,
    /// When the CSMS saw it (RFC 3339, UTC).
    pub at: String,
}

/// What a BootNotification reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootRecord {
    /// The station.
    pub station_id: String,
    /// The protocol version of the connection (`1.6`, `2.0.1`, `2.1`).
    pub version: String,
    /// Vendor name.
    pub vendor: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Serial number.
    pub serial_number: Option<String>,
    /// Firmware version.
    pub firmware_version: Option<String>,
    /// Boot reason (2.x).
    pub reason: Option<String>,
    /// The whole request JSON.
    pub payload: String,
    /// When it was received.
    pub at: String,
}

/// A station as stored.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StationRecord {
    /// The station id.
    pub id: String,
    /// The version of its last connection.
    pub version: Option<String>,
    /// `Accepted`, `Pending` (waiting for an operator) or `Rejected`.
    pub registration: String,
    /// Vendor name from the last boot.
    pub vendor: Option<String>,
    /// Model from the last boot.
    pub model: Option<String>,
    /// Serial number from the last boot.
    pub serial_number: Option<String>,
    /// Firmware version from the last boot.
    pub firmware_version: Option<String>,
    /// Boot reason from the last boot (2.x).
    pub boot_reason: Option<String>,
    /// The last BootNotification payload.
    pub boot_payload: Option<String>,
    /// When the station was first seen.
    pub first_seen: String,
    /// When the station last sent anything.
    pub last_seen: Option<String>,
    /// When the station last booted.
    pub last_boot_at: Option<String>,
    /// Whether it is connected (as last recorded by this CSMS).
    pub connected: bool,
    /// The security profile it must use, when configured per station.
    pub security_profile: Option<i64>,
    /// Whether a Basic-auth password hash is stored (the hash itself is never shown).
    #[serde(skip)]
    pub password_hash: Option<String>,
}

/// A connector (or EVSE) status report.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StatusRecord {
    /// The station.
    pub station_id: String,
    /// The EVSE (2.x); in 1.6 the connector id, 0 for the whole station.
    pub evse_id: i64,
    /// The connector within the EVSE (2.x); in 1.6 the connector id again.
    pub connector_id: i64,
    /// The status as the station spelled it.
    pub status: String,
    /// The 1.6 error code.
    pub error_code: Option<String>,
    /// Free text info (1.6 `info`, vendor error code).
    pub info: Option<String>,
    /// The station's timestamp.
    pub timestamp: Option<String>,
    /// The request JSON.
    #[serde(skip)]
    pub payload: String,
    /// When the CSMS received it.
    pub received_at: String,
}

/// An identifier token the CSMS authorizes.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct IdTokenRecord {
    /// The token value (1.6 idTag, 2.x idToken).
    pub id_token: String,
    /// The 2.x token type (`ISO14443`, `eMAID`, ...); empty matches every type (and 1.6).
    #[serde(default)]
    pub token_type: String,
    /// `Accepted`, `Blocked`, `Expired`, `Invalid`, ...
    pub status: String,
    /// When it expires (RFC 3339).
    #[serde(default)]
    pub expiry: Option<String>,
    /// The 1.6 parent id tag.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// The 2.x group id token.
    #[serde(default)]
    pub group_id: Option<String>,
}

/// A 1.6 StartTransaction, before the CSMS assigned its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxStart {
    /// The station.
    pub station_id: String,
    /// The connector.
    pub connector_id: i64,
    /// The id tag.
    pub id_token: String,
    /// The start meter register (Wh), as text.
    pub meter_start: String,
    /// The station's timestamp.
    pub timestamp: String,
    /// The reservation it ends.
    pub reservation_id: Option<i64>,
    /// The request JSON.
    pub payload: String,
    /// When the CSMS received it.
    pub received_at: String,
}

/// One transaction-related event, version-neutral: a 2.x TransactionEvent, or a 1.6
/// StopTransaction (`Ended`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxEventRecord {
    /// The station.
    pub station_id: String,
    /// The version (`1.6`, `2.0.1`, `2.1`).
    pub version: String,
    /// The transaction id (the 1.6 integer as text).
    pub transaction_id: String,
    /// The sequence number (2.x `seqNo`; 1.6 Stop uses `i64::MAX`).
    pub seq_no: i64,
    /// `Started`, `Updated` or `Ended`.
    pub event_type: String,
    /// Why the event was sent.
    pub trigger_reason: Option<String>,
    /// The station's timestamp.
    pub timestamp: String,
    /// Whether the station sent it after being offline.
    pub offline: bool,
    /// The EVSE.
    pub evse_id: Option<i64>,
    /// The connector.
    pub connector_id: Option<i64>,
    /// The token.
    pub id_token: Option<String>,
    /// The token type (2.x).
    pub token_type: Option<String>,
    /// The charging state (2.x).
    pub charging_state: Option<String>,
    /// The stop reason.
    pub stop_reason: Option<String>,
    /// The 1.6 stop meter register.
    pub meter_stop: Option<String>,
    /// The reservation it ends.
    pub reservation_id: Option<i64>,
    /// The meter values carried.
    pub meter_values: Vec<MeterValueRecord>,
    /// The request JSON.
    pub payload: String,
    /// When the CSMS received it.
    pub received_at: String,
}

/// What [`Store::apply_transaction_event`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxEventOutcome {
    /// The event was stored before (same station, transaction and seqNo): nothing changed.
    pub duplicate: bool,
}

/// A transaction as stored.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TransactionRecord {
    /// The station.
    pub station_id: String,
    /// The transaction id.
    pub transaction_id: String,
    /// The version.
    pub version: String,
    /// The EVSE (2.x).
    pub evse_id: Option<i64>,
    /// The connector.
    pub connector_id: Option<i64>,
    /// The token that started it.
    pub id_token: Option<String>,
    /// Its type (2.x).
    pub token_type: Option<String>,
    /// `Active` or `Ended`.
    pub status: String,
    /// Station time of the start.
    pub started_at: Option<String>,
    /// Station time of the end.
    pub stopped_at: Option<String>,
    /// 1.6 start register.
    pub meter_start: Option<String>,
    /// 1.6 stop register.
    pub meter_stop: Option<String>,
    /// Why it stopped.
    pub stop_reason: Option<String>,
    /// The last charging state (2.x).
    pub charging_state: Option<String>,
    /// The highest seqNo seen (2.x).
    pub last_seq_no: Option<i64>,
    /// Whether any event came offline.
    pub offline: bool,
}

/// One sampled value.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct MeterValueRecord {
    /// The transaction, if any.
    pub transaction_id: Option<String>,
    /// The EVSE (2.x) or connector (1.6).
    pub evse_id: Option<i64>,
    /// The station's timestamp of the sample.
    pub timestamp: String,
    /// The value as text.
    pub value: String,
    /// The measurand (absent means the default, energy import register).
    pub measurand: Option<String>,
    /// The phase.
    pub phase: Option<String>,
    /// The unit (1.6 `unit`, 2.x `unitOfMeasure.unit`).
    pub unit: Option<String>,
    /// The reading context.
    pub context: Option<String>,
    /// The location.
    pub location: Option<String>,
    /// Signed meter data (2.x `signedMeterValue` JSON, 1.6 `format` SignedData value).
    pub signed_data: Option<String>,
}

/// One attribute of one variable of the device model (2.x), or a 1.6 configuration key
/// (component `OCPP16`, variable = key).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct VariableRecord {
    /// Component name.
    pub component: String,
    /// Component instance (empty when none).
    pub component_instance: String,
    /// EVSE id (0 when none).
    pub evse_id: i64,
    /// Connector id (0 when none).
    pub connector_id: i64,
    /// Variable name.
    pub variable: String,
    /// Variable instance (empty when none).
    pub variable_instance: String,
    /// Attribute type (`Actual`, `Target`, `MinSet`, `MaxSet`).
    pub attribute_type: String,
    /// The value.
    pub value: Option<String>,
    /// Mutability.
    pub mutability: Option<String>,
    /// Persistent flag.
    pub persistent: Option<bool>,
    /// Constant flag.
    pub constant: Option<bool>,
    /// The variable characteristics JSON.
    pub characteristics: Option<String>,
    /// Where it came from: `NotifyReport`, `GetVariables`, `SetVariables`, `GetConfiguration`, ...
    pub source: String,
    /// When it was stored.
    pub updated_at: String,
}

/// Anything else a station reported, kept whole: security events, firmware / diagnostics / log /
/// publish status, reservation status, charging limits, EV charging needs, display messages,
/// customer information, events and monitoring reports, certificate requests, DataTransfer.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EventRecord {
    /// The station.
    pub station_id: String,
    /// The kind: the action name.
    pub kind: String,
    /// The status or type the message carries, if any.
    pub status: Option<String>,
    /// A short detail (request id, event type, tech info).
    pub detail: Option<String>,
    /// The whole request JSON.
    pub payload: String,
    /// When the CSMS received it.
    pub at: String,
}

/// A reservation made through the CSMS.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReservationRecord {
    /// The reservation id.
    pub id: i64,
    /// The station.
    pub station_id: String,
    /// The EVSE (2.x) or connector (1.6).
    pub evse_id: Option<i64>,
    /// The token it is for.
    pub id_token: String,
    /// When it expires.
    pub expiry: String,
    /// `Reserved`, `Accepted`, `Expired`, `Removed`, `Cancelled`, `Used`, ...
    pub status: String,
}

/// One unit of work: the writes of one station message (its log entries and every state change
/// it reports) committed together by [`StoreTx::commit`], so the message log and the state
/// never disagree. Dropped without `commit`, nothing of it is written. Reads inside the unit
/// ([`StoreTx::id_token`], [`StoreTx::ensure_station`]) see its own writes.
///
/// The methods do what the [`Store`] methods of the same name do.
#[async_trait]
pub trait StoreTx: Send {
    /// Appends to the station message log.
    async fn log_message(&mut self, message: &MessageRecord) -> StoreResult<()>;
    /// Creates the station if it is unknown (with `registration`); returns it.
    async fn ensure_station(
        &mut self,
        station_id: &str,
        registration: &str,
        at: &str,
    ) -> StoreResult<StationRecord>;
    /// Records a boot.
    async fn record_boot(&mut self, boot: &BootRecord) -> StoreResult<()>;
    /// Updates the last-seen time.
    async fn touch(&mut self, station_id: &str, at: &str) -> StoreResult<()>;
    /// Records a status report.
    async fn record_status(&mut self, status: &StatusRecord) -> StoreResult<()>;
    /// The token with this value and type.
    async fn id_token(
        &mut self,
        id_token: &str,
        token_type: &str,
    ) -> StoreResult<Option<IdTokenRecord>>;
    /// Starts a 1.6 transaction (idempotent, see [`Store::start_transaction_16`]).
    async fn start_transaction_16(&mut self, start: &TxStart) -> StoreResult<i64>;
    /// Applies a transaction event (idempotent by seqNo).
    async fn apply_transaction_event(
        &mut self,
        event: &TxEventRecord,
    ) -> StoreResult<TxEventOutcome>;
    /// Stores meter values outside a transaction event; a sample identical to a stored one in
    /// every column (a redelivery) is not stored again.
    async fn insert_meter_values(
        &mut self,
        station_id: &str,
        values: &[MeterValueRecord],
    ) -> StoreResult<()>;
    /// Creates or updates device-model attributes.
    async fn upsert_variables(
        &mut self,
        station_id: &str,
        variables: &[VariableRecord],
    ) -> StoreResult<()>;
    /// Records any other report.
    async fn record_event(&mut self, event: &EventRecord) -> StoreResult<()>;
    /// Sets a reservation's status; false when unknown.
    async fn set_reservation_status(
        &mut self,
        station_id: &str,
        id: i64,
        status: &str,
        at: &str,
    ) -> StoreResult<bool>;
    /// The last write of a station message's unit: logs the CALL and then its answer and sets
    /// the station's last-seen time to `at`. A store may do this in one statement (and, on
    /// SQLite, end the unit's savepoint with it): nothing but [`commit`](Self::commit) may
    /// follow. By default [`log_message`](Self::log_message), [`touch`](Self::touch),
    /// [`log_message`](Self::log_message).
    async fn log_exchange(
        &mut self,
        call: &MessageRecord,
        answer: &MessageRecord,
        at: &str,
    ) -> StoreResult<()> {
        self.log_message(call).await?;
        self.touch(&call.station_id, at).await?;
        self.log_message(answer).await
    }
    /// Commits every write of the unit.
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}

/// A charging profile installed on a station, as the CSMS knows it (recorded when the station
/// accepted the SetChargingProfile that carried it).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ChargingProfileRecord {
    /// The station.
    pub station_id: String,
    /// `chargingProfileId` (1.6) / `id` (2.x).
    pub profile_id: i64,
    /// The EVSE (1.6: connector); 0 for the whole station.
    pub evse_id: i64,
    /// The version the profile is spelled in (`1.6`, `2.0.1`, `2.1`).
    pub version: String,
    /// The purpose as the version spells it (`TxProfile`, `ChargePointMaxProfile`, ...).
    pub purpose: String,
    /// The stack level.
    pub stack_level: i64,
    /// `Absolute`, `Relative`, `Recurring` or `Dynamic`.
    pub kind: String,
    /// `Daily` or `Weekly` for a Recurring profile.
    pub recurrency: Option<String>,
    /// The transaction of a TxProfile.
    pub transaction_id: Option<String>,
    /// Not in force before (RFC 3339, UTC).
    pub valid_from: Option<String>,
    /// Not in force from (RFC 3339, UTC).
    pub valid_to: Option<String>,
    /// The unit of the first schedule (`A` or `W`).
    pub rate_unit: Option<String>,
    /// The profile JSON exactly as sent, in the station's version.
    pub profile: String,
    /// The version-neutral model of the profile as JSON.
    pub neutral: String,
    /// Who installed it: `csms` (the operator) or `load-balancing`.
    pub source: String,
    /// When the station accepted it.
    pub installed_at: String,
}

/// A station's answer to GetCompositeSchedule, with what the CSMS predicted for the same window.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CompositeReportRecord {
    /// The station.
    pub station_id: String,
    /// The EVSE (1.6: connector) asked about.
    pub evse_id: i64,
    /// The version of the station.
    pub version: String,
    /// When the CSMS asked (the start of the predicted window).
    pub requested_at: String,
    /// The requested duration in seconds.
    pub duration: i64,
    /// The requested unit, if one was asked for.
    pub rate_unit: Option<String>,
    /// The status the station answered.
    pub status: String,
    /// The station's schedule in neutral form (JSON), when it sent one.
    pub reported: Option<String>,
    /// The CSMS's prediction over its stored profiles (JSON).
    pub predicted: Option<String>,
    /// Where the two differ (JSON array).
    pub differences: Option<String>,
    /// The station's answer JSON.
    pub payload: String,
    /// When it was recorded.
    pub at: String,
}

/// One profile a 2.x station reported in ReportChargingProfiles.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ReportedProfileRecord {
    /// The station.
    pub station_id: String,
    /// The `requestId` of the GetChargingProfiles it answers.
    pub request_id: i64,
    /// The EVSE the profiles are installed on.
    pub evse_id: i64,
    /// `chargingLimitSource` (`CSO`, `EMS`, `SO`, `Other`).
    pub limit_source: String,
    /// The profile id.
    pub profile_id: i64,
    /// The profile JSON as reported.
    pub profile: String,
    /// When it was received.
    pub at: String,
}

/// A load-balancing group: stations behind one grid connection sharing a limit.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LoadGroupRecord {
    /// The group id.
    pub id: String,
    /// A name for people.
    pub name: Option<String>,
    /// The limit of the grid connection, an exact decimal as text (per phase in A, or W).
    pub limit: String,
    /// `A` or `W`.
    pub unit: String,
    /// The least a charging car is given, an exact decimal as text, in `unit`.
    pub min_per_car: String,
    /// When it was created.
    pub created_at: String,
    /// When it was last changed.
    pub updated_at: String,
}

/// The storage of the CSMS. Each method commits before it returns.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Begins a unit of work (see [`StoreTx`]). On SQLite the unit holds the database's one
    /// connection until it is committed or dropped: do not call other [`Store`] methods while
    /// holding it.
    async fn begin(&self) -> StoreResult<Box<dyn StoreTx>>;
    /// The storage of the OCPI bridge ([`crate::ocpi_cpo`]) over the same database, when this
    /// store has one (the SQL stores do; the default has none and the bridge cannot start).
    fn ocpi_db(&self) -> Option<std::sync::Arc<dyn crate::ocpi_cpo::db::OcpiDb>> {
        None
    }
    /// Appends to the station message log.
    async fn log_message(&self, message: &MessageRecord) -> StoreResult<()>;
    /// The station message log of a station, oldest first.
    async fn messages(&self, station_id: &str, page: Page) -> StoreResult<Vec<MessageRecord>>;

    /// Creates the station if it is unknown (with `registration`); returns it.
    async fn ensure_station(
        &self,
        station_id: &str,
        registration: &str,
        at: &str,
    ) -> StoreResult<StationRecord>;
    /// A station.
    async fn station(&self, station_id: &str) -> StoreResult<Option<StationRecord>>;
    /// Stations by id.
    async fn stations(&self, page: Page) -> StoreResult<Vec<StationRecord>>;
    /// Records a boot (and creates the station when unknown).
    async fn record_boot(&self, boot: &BootRecord) -> StoreResult<()>;
    /// Sets the registration status; false when the station is unknown.
    async fn set_registration(&self, station_id: &str, registration: &str) -> StoreResult<bool>;
    /// Sets the per-station security profile and password hash (creating the station).
    async fn set_station_auth(
        &self,
        station_id: &str,
        security_profile: Option<i64>,
        password_hash: Option<&str>,
        at: &str,
    ) -> StoreResult<()>;
    /// Records a connect or disconnect.
    async fn set_connected(
        &self,
        station_id: &str,
        version: &str,
        connected: bool,
        at: &str,
    ) -> StoreResult<()>;
    /// Marks every station disconnected (at start-up).
    async fn reset_connected(&self) -> StoreResult<()>;
    /// Updates the last-seen time.
    async fn touch(&self, station_id: &str, at: &str) -> StoreResult<()>;

    /// Records a status report: current state and history.
    async fn record_status(&self, status: &StatusRecord) -> StoreResult<()>;
    /// The current status of every connector of a station.
    async fn statuses(&self, station_id: &str) -> StoreResult<Vec<StatusRecord>>;
    /// The status history of a station, newest first.
    async fn status_history(&self, station_id: &str, page: Page) -> StoreResult<Vec<StatusRecord>>;

    /// The token with this value and type (a row of empty type matches every type).
    async fn id_token(
        &self,
        id_token: &str,
        token_type: &str,
    ) -> StoreResult<Option<IdTokenRecord>>;
    /// Creates or replaces a token.
    async fn put_id_token(&self, token: &IdTokenRecord, at: &str) -> StoreResult<()>;
    /// Deletes a token; false when there was none.
    async fn delete_id_token(&self, id_token: &str, token_type: &str) -> StoreResult<bool>;
    /// Tokens by value.
    async fn id_tokens(&self, page: Page) -> StoreResult<Vec<IdTokenRecord>>;

    /// Starts a 1.6 transaction and returns its CSMS-assigned id. A redelivered
    /// StartTransaction (same connector, tag, register and timestamp) gets the same id.
    async fn start_transaction_16(&self, start: &TxStart) -> StoreResult<i64>;
    /// Applies a transaction event (creating the transaction on its first event) with its meter
    /// values. A redelivered event (same seqNo) changes nothing.
    async fn apply_transaction_event(&self, event: &TxEventRecord) -> StoreResult<TxEventOutcome>;
    /// A transaction.
    async fn transaction(
        &self,
        station_id: &str,
        transaction_id: &str,
    ) -> StoreResult<Option<TransactionRecord>>;
    /// Transactions, newest first, of one station or all.
    async fn transactions(
        &self,
        station_id: Option<&str>,
        page: Page,
    ) -> StoreResult<Vec<TransactionRecord>>;
    /// Stores meter values outside a transaction event (MeterValues).
    async fn insert_meter_values(
        &self,
        station_id: &str,
        values: &[MeterValueRecord],
    ) -> StoreResult<()>;
    /// The meter values of a transaction, oldest first.
    async fn meter_values(
        &self,
        station_id: &str,
        transaction_id: &str,
        page: Page,
    ) -> StoreResult<Vec<MeterValueRecord>>;

    /// Creates or updates device-model attributes (or 1.6 configuration keys).
    async fn upsert_variables(
        &self,
        station_id: &str,
        variables: &[VariableRecord],
    ) -> StoreResult<()>;
    /// The device model of a station.
    async fn variables(&self, station_id: &str, page: Page) -> StoreResult<Vec<VariableRecord>>;

    /// Records any other report.
    async fn record_event(&self, event: &EventRecord) -> StoreResult<()>;
    /// Reports of a station, newest first, optionally of one kind.
    async fn events(
        &self,
        station_id: &str,
        kind: Option<&str>,
        page: Page,
    ) -> StoreResult<Vec<EventRecord>>;

    /// Creates or replaces a reservation.
    async fn put_reservation(&self, reservation: &ReservationRecord, at: &str) -> StoreResult<()>;
    /// Sets a reservation's status; false when unknown.
    async fn set_reservation_status(
        &self,
        station_id: &str,
        id: i64,
        status: &str,
        at: &str,
    ) -> StoreResult<bool>;
    /// The reservations of a station.
    async fn reservations(&self, station_id: &str) -> StoreResult<Vec<ReservationRecord>>;
    /// Records the local authorization list version a station accepted.
    async fn set_local_list_version(
        &self,
        station_id: &str,
        version: i64,
        at: &str,
    ) -> StoreResult<()>;
    /// The local list version last accepted.
    async fn local_list_version(&self, station_id: &str) -> StoreResult<Option<i64>>;

    /// Sets every reservation still `Reserved` or `Accepted` whose expiry is not after `now`
    /// to `Expired`, and returns them (with their new status). Expiry times are compared as
    /// instants, whatever offset they were written with.
    async fn expire_reservations(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<Vec<ReservationRecord>>;

    // Read methods of the operator dashboard (`crate::dashboard`).

    /// Stations matching `filter`, by id, and how many match in all.
    async fn search_stations(
        &self,
        filter: &StationFilter,
        page: Page,
    ) -> StoreResult<(Vec<StationRecord>, i64)>;
    /// The current status of every connector of several stations.
    async fn statuses_of(&self, station_ids: &[String]) -> StoreResult<Vec<StatusRecord>>;
    /// The station message log of a station, newest first.
    async fn recent_messages(
        &self,
        station_id: &str,
        page: Page,
    ) -> StoreResult<Vec<MessageRecord>>;
    /// Transactions, newest first, of one station or all, of one status (`Active`, `Ended`) or
    /// all, and how many match in all.
    async fn search_transactions(
        &self,
        station_id: Option<&str>,
        status: Option<&str>,
        page: Page,
    ) -> StoreResult<(Vec<TransactionRecord>, i64)>;
    /// The first and the last energy register reading (`Energy.Active.Import.Register` or no
    /// measurand, no phase) of a transaction.
    async fn energy_register_bounds(
        &self,
        station_id: &str,
        transaction_id: &str,
    ) -> StoreResult<Option<(MeterValueRecord, MeterValueRecord)>>;
    /// How many id tokens there are.
    async fn count_id_tokens(&self) -> StoreResult<i64>;

    // Smart charging (crate::smart_charging).

    /// Records an installed charging profile (replacing one with the same id) and removes
    /// the profiles with the ids in `replaced` (those it displaced), in one transaction.
    async fn put_charging_profile(
        &self,
        profile: &ChargingProfileRecord,
        replaced: &[i64],
    ) -> StoreResult<()>;
    /// The installed profiles of a station (of one EVSE when given), by EVSE and id.
    async fn charging_profiles(
        &self,
        station_id: &str,
        evse_id: Option<i64>,
    ) -> StoreResult<Vec<ChargingProfileRecord>>;
    /// Removes profiles of a station by id; returns how many were removed.
    async fn delete_charging_profiles(&self, station_id: &str, ids: &[i64]) -> StoreResult<u64>;
    /// The active transactions of a station, oldest first.
    async fn active_transactions(&self, station_id: &str) -> StoreResult<Vec<TransactionRecord>>;
    /// Records a GetCompositeSchedule answer.
    async fn put_composite_report(&self, report: &CompositeReportRecord) -> StoreResult<()>;
    /// GetCompositeSchedule answers of a station (of one EVSE when given), newest first.
    async fn composite_reports(
        &self,
        station_id: &str,
        evse_id: Option<i64>,
        page: Page,
    ) -> StoreResult<Vec<CompositeReportRecord>>;
    /// Records the profiles of one ReportChargingProfiles message.
    async fn put_reported_profiles(&self, profiles: &[ReportedProfileRecord]) -> StoreResult<()>;
    /// The profiles a station reported for its latest `requestId`, in the order received.
    async fn latest_reported_profiles(
        &self,
        station_id: &str,
    ) -> StoreResult<Vec<ReportedProfileRecord>>;
    /// Creates or updates a load-balancing group (`created_at` is kept on update).
    async fn put_load_group(&self, group: &LoadGroupRecord) -> StoreResult<()>;
    /// A load-balancing group.
    async fn load_group(&self, id: &str) -> StoreResult<Option<LoadGroupRecord>>;
    /// Every load-balancing group, by id.
    async fn load_groups(&self) -> StoreResult<Vec<LoadGroupRecord>>;
    /// Deletes a group and its memberships; false when unknown.
    async fn delete_load_group(&self, id: &str) -> StoreResult<bool>;
    /// Adds a station to a group. Returns the group it is already in instead, if another.
    async fn add_load_group_member(
        &self,
        group_id: &str,
        station_id: &str,
        at: &str,
    ) -> StoreResult<Option<String>>;
    /// Removes a station from a group; false when it was not a member.
    async fn remove_load_group_member(&self, group_id: &str, station_id: &str)
        -> StoreResult<bool>;
    /// The stations of a group, by id.
    async fn load_group_members(&self, group_id: &str) -> StoreResult<Vec<String>>;
    /// The group a station belongs to.
    async fn load_group_of(&self, station_id: &str) -> StoreResult<Option<String>>;
    /// The active transactions of every station of a group, oldest first (in the order the
    /// CSMS recorded their start).
    async fn load_group_transactions(&self, group_id: &str) -> StoreResult<Vec<TransactionRecord>>;
}

/// Which stations [`Store::search_stations`] returns (empty fields match everything).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StationFilter {
    /// Text found, ignoring ASCII case, in the id, vendor, model, serial number or firmware
    /// version.
    pub text: String,
    /// The version of the last connection (`1.6`, `2.0.1`, `2.1`).
    pub version: String,
    /// `online` or `offline` (as last recorded).
    pub connection: String,
}
