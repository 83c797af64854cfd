//! Persistence of the OCPI bridge (migration `0004_ocpi.sql`): partners, OCPI objects and the
//! push outbox, on SQLite and PostgreSQL with the same statements.

use async_trait::async_trait;
use sqlx::Row;

use crate::store::{PgStore, SqliteStore, StoreResult};

/// A partner as persisted: the handshake state of one peer of the credentials registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerRow {
    /// The registry's peer id.
    pub id: i64,
    /// SHA-256 of the token the partner calls us with (`TOKEN_A`, then `TOKEN_C`).
    pub token_hash: String,
    /// `pending`, `registered` or `unregistered`.
    pub state: String,
    /// The registration (JSON: version, `token_b`, versions URL, endpoints, roles).
    pub registration: Option<String>,
    /// A name the operator gave.
    pub name: Option<String>,
    /// When the `TOKEN_A` was issued.
    pub created_at: String,
    /// When the state last changed.
    pub updated_at: String,
}

/// One OCPI object as persisted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRow {
    /// Module (`locations`, `tokens`, ... or a bridge-private kind starting with `x-`).
    pub module: String,
    /// `SENDER` or `RECEIVER`.
    pub role: String,
    /// The path ids (JSON array).
    pub ids: String,
    /// Insertion order.
    pub seq: i64,
    /// The object (JSON).
    pub object: String,
}

/// One push to a partner.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutboxRow {
    /// Queue position (increasing).
    pub id: i64,
    /// The partner.
    pub partner_id: i64,
    /// `PUT`, `PATCH` or `POST`.
    pub method: String,
    /// The module of the partner's Receiver interface.
    pub module: String,
    /// Path segments after the module URL (JSON array).
    pub path: String,
    /// The body (JSON, OCPI 2.2.1).
    pub body: String,
    /// When it was queued.
    pub created_at: String,
    /// Failed deliveries so far.
    pub attempts: i64,
    /// The last delivery error.
    pub last_error: Option<String>,
    /// When it was delivered.
    pub delivered_at: Option<String>,
    /// What the delivery returned (the `Location` of a POSTed CDR).
    pub result: Option<String>,
}

/// What a partner's outbox holds (for the operator's dashboard).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxSummary {
    /// Pushes not delivered yet.
    pub pending: i64,
    /// When a push was last delivered (or dropped).
    pub last_delivered_at: Option<String>,
    /// The error of the latest push whose delivery failed at least once.
    pub last_error: Option<String>,
    /// The error of the oldest undelivered push (the one holding the others back), when its
    /// delivery failed at least once.
    pub head_error: Option<String>,
}

/// The storage of the OCPI bridge.
#[async_trait]
pub trait OcpiDb: super::ops::AuditDb + Send + Sync + 'static {
    /// Every partner.
    async fn partners(&self) -> StoreResult<Vec<PartnerRow>>;
    /// Creates or replaces a partner (`created_at` and `name` kept on update when given none).
    async fn put_partner(&self, p: &PartnerRow) -> StoreResult<()>;
    /// Every object, in insertion order.
    async fn objects(&self) -> StoreResult<Vec<ObjectRow>>;
    /// Creates or replaces an object.
    async fn put_object(&self, o: &ObjectRow) -> StoreResult<()>;
    /// Deletes an object.
    async fn delete_object(&self, module: &str, role: &str, ids: &str) -> StoreResult<()>;
    /// Creates or replaces objects and queues pushes in one database transaction (a CDR and
    /// its POST are stored together or not at all). The default is not atomic.
    async fn put_objects_with_outbox(
        &self,
        objects: &[ObjectRow],
        pushes: &[OutboxRow],
    ) -> StoreResult<()> {
        for o in objects {
            self.put_object(o).await?;
        }
        for p in pushes {
            self.push_outbox(p).await?;
        }
        Ok(())
    }
    /// Queues a push; returns its id.
    async fn push_outbox(&self, o: &OutboxRow) -> StoreResult<i64>;
    /// The oldest undelivered push of a partner.
    async fn next_outbox(&self, partner_id: i64) -> StoreResult<Option<OutboxRow>>;
    /// Partners with undelivered pushes.
    async fn outbox_partners(&self) -> StoreResult<Vec<i64>>;
    /// Marks a push delivered.
    async fn outbox_delivered(&self, id: i64, at: &str, result: Option<&str>) -> StoreResult<()>;
    /// Records a failed delivery.
    async fn outbox_failed(&self, id: i64, error: &str) -> StoreResult<()>;
    /// The pushes of a partner, oldest first.
    async fn outbox(&self, partner_id: i64, limit: i64) -> StoreResult<Vec<OutboxRow>>;
    /// A partner's backlog, last delivery and last error (read-only; the SQL stores answer
    /// with indexed queries, this default reads the partner's whole outbox).
    async fn outbox_summary(&self, partner_id: i64) -> StoreResult<OutboxSummary> {
        let rows = self.outbox(partner_id, i64::MAX).await?;
        Ok(OutboxSummary {
            pending: rows.iter().filter(|r| r.delivered_at.is_none()).count() as i64,
            last_delivered_at: rows.iter().filter_map(|r| r.delivered_at.clone()).max(),
            last_error: rows.iter().rev().find_map(|r| r.last_error.clone()),
            head_error: rows
                .iter()
                .find(|r| r.delivered_at.is_none())
                .and_then(|r| r.last_error.clone()),
        })
    }
    /// Pushes to any partner of one module (as queued: `cdrs`, `sessions`, ...) after the
    /// queue position `after`, oldest first, at most `limit` (read-only).
    async fn outbox_of_module(
        &self,
        module: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<OutboxRow>>;
}

macro_rules! ocpi_db {
    ($store:ty) => {
        #[async_trait]
        impl OcpiDb for $store {
            async fn put_objects_with_outbox(
                &self,
                objects: &[ObjectRow],
                pushes: &[OutboxRow],
            ) -> StoreResult<()> {
                let mut tx = self.pool().begin().await?;
                for o in objects {
                    sqlx::query(
                        "INSERT INTO ocpi_objects (module, role, ids, seq, object) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (module, role, ids) \
                         DO UPDATE SET object = excluded.object",
                    )
                    .bind(&o.module)
                    .bind(&o.role)
                    .bind(self.cipher().det(&o.ids))
                    .bind(o.seq)
                    .bind(self.cipher().seal(&o.object))
                    .execute(&mut *tx)
                    .await?;
                }
                for p in pushes {
                    sqlx::query(
                        "INSERT INTO ocpi_outbox (partner_id, method, module, path, body, \
                         created_at, attempts) VALUES ($1, $2, $3, $4, $5, $6, 0)",
                    )
                    .bind(p.partner_id)
                    .bind(&p.method)
                    .bind(&p.module)
                    .bind(&p.path)
                    .bind(self.cipher().seal(&p.body))
                    .bind(&p.created_at)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }
            async fn partners(&self) -> StoreResult<Vec<PartnerRow>> {
                let rows = sqlx::query(
                    "SELECT id, token_hash, state, registration, name, created_at, updated_at \
                     FROM ocpi_partners ORDER BY id",
                )
                .fetch_all(self.pool())
                .await?;
                let mut out = Vec::new();
                for r in rows {
                    out.push(PartnerRow {
                        id: r.try_get("id")?,
                        token_hash: r.try_get("token_hash")?,
                        state: r.try_get("state")?,
                        registration: self
                            .cipher()
                            .open_opt(r.try_get("registration")?)
                            .map_err(sqlx::Error::from)?,
                        name: r.try_get("name")?,
                        created_at: r.try_get("created_at")?,
                        updated_at: r.try_get("updated_at")?,
                    });
                }
                Ok(out)
            }
            async fn put_partner(&self, p: &PartnerRow) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO ocpi_partners (id, token_hash, state, registration, name, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (id) DO UPDATE SET token_hash = excluded.token_hash, \
                     state = excluded.state, registration = excluded.registration, \
                     name = COALESCE(excluded.name, ocpi_partners.name), \
                     updated_at = excluded.updated_at",
                )
                .bind(p.id)
                .bind(&p.token_hash)
                .bind(&p.state)
                .bind(self.cipher().seal_opt(&p.registration))
                .bind(&p.name)
                .bind(&p.created_at)
                .bind(&p.updated_at)
                .execute(self.pool())
                .await?;
                Ok(())
            }
            async fn objects(&self) -> StoreResult<Vec<ObjectRow>> {
                let rows = sqlx::query(
                    "SELECT module, role, ids, seq, object FROM ocpi_objects ORDER BY seq",
                )
                .fetch_all(self.pool())
                .await?;
                let mut out = Vec::new();
                for r in rows {
                    out.push(ObjectRow {
                        module: r.try_get("module")?,
                        role: r.try_get("role")?,
                        ids: self.cipher().open(r.try_get("ids")?).map_err(sqlx::Error::from)?,
                        seq: r.try_get("seq")?,
                        object: self
                            .cipher()
                            .open(r.try_get("object")?)
                            .map_err(sqlx::Error::from)?,
                    });
                }
                Ok(out)
            }
            async fn put_object(&self, o: &ObjectRow) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO ocpi_objects (module, role, ids, seq, object) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (module, role, ids) \
                     DO UPDATE SET object = excluded.object",
                )
                .bind(&o.module)
                .bind(&o.role)
                .bind(self.cipher().det(&o.ids))
                .bind(o.seq)
                .bind(self.cipher().seal(&o.object))
                .execute(self.pool())
                .await?;
                Ok(())
            }
            async fn delete_object(&self, module: &str, role: &str, ids: &str) -> StoreResult<()> {
                sqlx::query(
                    "DELETE FROM ocpi_objects WHERE module = $1 AND role = $2 AND ids = $3",
                )
                .bind(module)
                .bind(role)
                .bind(self.cipher().det(ids))
                .execute(self.pool())
                .await?;
                Ok(())
            }
            async fn push_outbox(&self, o: &OutboxRow) -> StoreResult<i64> {
                let r = sqlx::query(
                    "INSERT INTO ocpi_outbox (partner_id, method, module, path, body, created_at, \
                     attempts) VALUES ($1, $2, $3, $4, $5, $6, 0) RETURNING id",
                )
                .bind(o.partner_id)
                .bind(&o.method)
                .bind(&o.module)
                .bind(&o.path)
                .bind(self.cipher().seal(&o.body))
                .bind(&o.created_at)
                .fetch_one(self.pool())
                .await?;
                Ok(r.try_get("id")?)
            }
            async fn next_outbox(&self, partner_id: i64) -> StoreResult<Option<OutboxRow>> {
                let rows = sqlx::query(
                    "SELECT * FROM ocpi_outbox WHERE partner_id = $1 AND delivered_at IS NULL \
                     ORDER BY id LIMIT 1",
                )
                .bind(partner_id)
                .fetch_all(self.pool())
                .await?;
                rows.iter()
                    .next()
                    .map(|r| open_outbox(self.cipher(), outbox_row(r)?))
                    .transpose()
                    .map_err(Into::into)
            }
            async fn outbox_partners(&self) -> StoreResult<Vec<i64>> {
                let rows = sqlx::query(
                    "SELECT DISTINCT partner_id FROM ocpi_outbox WHERE delivered_at IS NULL",
                )
                .fetch_all(self.pool())
                .await?;
                let mut out = Vec::new();
                for r in rows {
                    out.push(r.try_get("partner_id")?);
                }
                Ok(out)
            }
            async fn outbox_delivered(
                &self,
                id: i64,
                at: &str,
                result: Option<&str>,
            ) -> StoreResult<()> {
                sqlx::query("UPDATE ocpi_outbox SET delivered_at = $1, result = $2 WHERE id = $3")
                    .bind(at)
                    .bind(result)
                    .bind(id)
                    .execute(self.pool())
                    .await?;
                Ok(())
            }
            async fn outbox_failed(&self, id: i64, error: &str) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE ocpi_outbox SET attempts = attempts + 1, last_error = $1 WHERE id = $2",
                )
                .bind(error)
                .bind(id)
                .execute(self.pool())
                .await?;
                Ok(())
            }
            async fn outbox(&self, partner_id: i64, limit: i64) -> StoreResult<Vec<OutboxRow>> {
                let rows = sqlx::query(
                    "SELECT * FROM ocpi_outbox WHERE partner_id = $1 ORDER BY id LIMIT $2",
                )
                .bind(partner_id)
                .bind(limit)
                .fetch_all(self.pool())
                .await?;
                let mut out = Vec::new();
                for r in &rows {
                    out.push(open_outbox(self.cipher(), outbox_row(r)?)?);
                }
                Ok(out)
            }
            async fn outbox_summary(&self, partner_id: i64) -> StoreResult<OutboxSummary> {
                let pending: i64 = sqlx::query(
                    "SELECT COUNT(*) AS n FROM ocpi_outbox \
                     WHERE partner_id = $1 AND delivered_at IS NULL",
                )
                .bind(partner_id)
                .fetch_one(self.pool())
                .await?
                .try_get("n")?;
                let last_delivered_at: Option<String> = sqlx::query(
                    "SELECT MAX(delivered_at) AS t FROM ocpi_outbox WHERE partner_id = $1",
                )
                .bind(partner_id)
                .fetch_one(self.pool())
                .await?
                .try_get("t")?;
                let last_error = match sqlx::query(
                    "SELECT last_error FROM ocpi_outbox \
                     WHERE partner_id = $1 AND last_error IS NOT NULL ORDER BY id DESC LIMIT 1",
                )
                .bind(partner_id)
                .fetch_optional(self.pool())
                .await?
                {
                    Some(r) => r.try_get("last_error")?,
                    None => None,
                };
                let head_error = match sqlx::query(
                    "SELECT last_error FROM ocpi_outbox \
                     WHERE partner_id = $1 AND delivered_at IS NULL ORDER BY id LIMIT 1",
                )
                .bind(partner_id)
                .fetch_optional(self.pool())
                .await?
                {
                    Some(r) => r.try_get("last_error")?,
                    None => None,
                };
                Ok(OutboxSummary {
                    pending,
                    last_delivered_at,
                    last_error,
                    head_error,
                })
            }
            async fn outbox_of_module(
                &self,
                module: &str,
                after: i64,
                limit: i64,
            ) -> StoreResult<Vec<OutboxRow>> {
                let rows = sqlx::query(
                    "SELECT * FROM ocpi_outbox WHERE module = $1 AND id > $2 ORDER BY id LIMIT $3",
                )
                .bind(module)
                .bind(after)
                .bind(limit)
                .fetch_all(self.pool())
                .await?;
                let mut out = Vec::new();
                for r in &rows {
                    out.push(open_outbox(self.cipher(), outbox_row(r)?)?);
                }
                Ok(out)
            }
        }
    };
}

/// A push with its body decrypted ([`crate::at_rest`]).
fn open_outbox(c: &crate::at_rest::Cipher, mut o: OutboxRow) -> Result<OutboxRow, sqlx::Error> {
    c.open_in(&mut o.body)?;
    Ok(o)
}

fn outbox_row<R: Row>(r: &R) -> Result<OutboxRow, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(OutboxRow {
        id: r.try_get("id")?,
        partner_id: r.try_get("partner_id")?,
        method: r.try_get("method")?,
        module: r.try_get("module")?,
        path: r.try_get("path")?,
        body: r.try_get("body")?,
        created_at: r.try_get("created_at")?,
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
        delivered_at: r.try_get("delivered_at")?,
        result: r.try_get("result")?,
    })
}

ocpi_db!(SqliteStore);
ocpi_db!(PgStore);
