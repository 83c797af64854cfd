//! Group commit for SQLite: the units of work of concurrent station messages share one database
//! transaction, and one `COMMIT` (one `fsync` with `synchronous = FULL`) makes all of them
//! durable. Each unit still learns that its writes are on disk before its answer goes out.
//!
//! SQLite has one writer and the store one connection, so the units run one after the other
//! anyway; what costs is the `fsync` of every `COMMIT`. Here a unit is a `SAVEPOINT` inside the
//! group's open transaction (`BEGIN IMMEDIATE`): [`Unit::commit`] releases the savepoint (the
//! unit's writes join the group), gives the connection to the next unit waiting, and queues up
//! for the lock again. The lock is fair (first come, first served), so every unit that was
//! waiting runs before the committing unit gets the lock back; whichever unit of the group gets
//! it back first issues the one `COMMIT` and the others find their group committed. A unit
//! dropped without `commit` is rolled back to its savepoint; the others of its group keep
//! their writes. Under light load a group is one unit, and this costs one savepoint more than
//! a plain transaction.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection, SqlitePool};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// The shared transaction of a group of units.
#[derive(Debug)]
struct State {
    /// The connection, held from the group's `BEGIN` to its `COMMIT`.
    conn: Option<PoolConnection<Sqlite>>,
    /// The number of the group being filled (its `BEGIN` issued when `conn` is held).
    open: u64,
    /// Groups up to this number are finished.
    done: u64,
    /// Groups whose `COMMIT` failed, with the error (the newest few).
    failed: BTreeMap<u64, String>,
    /// A unit was dropped without commit: roll back to its savepoint first.
    rollback: bool,
}

/// The group-commit coordinator of one SQLite pool.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pool: SqlitePool,
    state: Arc<Mutex<State>>,
}

/// How many failed group numbers are remembered (a unit waits for its own group only briefly).
const FAILED_KEPT: usize = 1024;

impl Group {
    /// Group commit over `pool` (whose connections use `synchronous = FULL`).
    pub(crate) fn new(pool: SqlitePool) -> Self {
        Group {
            pool,
            state: Arc::new(Mutex::new(State {
                conn: None,
                open: 1,
                done: 0,
                failed: BTreeMap::new(),
                rollback: false,
            })),
        }
    }

    /// Begins a unit: waits for the connection, joins the open group (beginning it when none
    /// is open) and sets the unit's savepoint.
    pub(crate) async fn begin(&self) -> Result<Unit, sqlx::Error> {
        let mut g = self.state.clone().lock_owned().await;
        settle(&mut g).await?;
        if g.conn.is_none() {
            // A new group: its BEGIN and the unit's savepoint in one round trip to the
            // connection's worker thread.
            let mut conn = self.pool.acquire().await?;
            if let Err(e) = sqlx::query("BEGIN IMMEDIATE; SAVEPOINT unit")
                .execute(&mut *conn)
                .await
            {
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                return Err(e);
            }
            g.conn = Some(conn);
        } else {
            let conn = g.conn.as_mut().expect("held");
            if let Err(e) = sqlx::query("SAVEPOINT unit").execute(&mut **conn).await {
                // Leave no half-open group behind.
                flush(&mut g).await;
                return Err(e);
            }
        }
        Ok(Unit {
            guard: Some(g),
            state: self.state.clone(),
            released: false,
        })
    }
}

/// Rolls back a dropped unit's savepoint, if any.
async fn settle(g: &mut State) -> Result<(), sqlx::Error> {
    if std::mem::take(&mut g.rollback) {
        if let Some(conn) = g.conn.as_mut() {
            let r = sqlx::query("ROLLBACK TO unit; RELEASE unit")
                .execute(&mut **conn)
                .await;
            if let Err(e) = r {
                // The connection is in an unknown state: end the group.
                let _ = sqlx::query("ROLLBACK").execute(&mut **conn).await;
                let open = g.open;
                fail(g, open, e.to_string());
                g.conn = None;
                g.open += 1;
                g.done = open;
                return Err(e);
            }
        }
    }
    Ok(())
}

fn fail(g: &mut State, group: u64, error: String) {
    g.failed.insert(group, error);
    while g.failed.len() > FAILED_KEPT {
        g.failed.pop_first();
    }
}

/// Commits the open group (if any), returns the connection to the pool and finishes the group.
async fn flush(g: &mut State) {
    let _ = settle(g).await;
    let Some(mut conn) = g.conn.take() else {
        return;
    };
    let group = g.open;
    if let Err(e) = sqlx::query("COMMIT").execute(&mut *conn).await {
        tracing::error!(error = %e, "group commit failed");
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        fail(g, group, e.to_string());
    }
    g.done = group;
    g.open = group + 1;
}

/// One unit of work inside a group; derefs to the connection for its statements.
#[derive(Debug)]
pub(crate) struct Unit {
    guard: Option<OwnedMutexGuard<State>>,
    state: Arc<Mutex<State>>,
    /// The unit's last statement released its savepoint already ([`Unit::released`]).
    released: bool,
}

impl Deref for Unit {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        self.guard
            .as_ref()
            .and_then(|g| g.conn.as_deref())
            .expect("a live unit holds the connection")
    }
}

impl DerefMut for Unit {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.guard
            .as_mut()
            .and_then(|g| g.conn.as_deref_mut())
            .expect("a live unit holds the connection")
    }
}

impl Unit {
    /// The SQL that releases the unit's savepoint: a store that ends the unit's last write
    /// with it (one round trip less) says so with [`Unit::released`].
    pub(crate) const RELEASE: &'static str = "RELEASE unit";

    /// The unit's last statement ended with [`Unit::RELEASE`]: its writes have joined the
    /// group, [`Unit::commit`] does not release again, and dropping the unit no longer rolls
    /// them back.
    pub(crate) fn released(&mut self) {
        self.released = true;
    }

    /// Adds the unit's writes to its group and returns once the group is committed (on disk).
    pub(crate) async fn commit(mut self) -> Result<(), sqlx::Error> {
        let mut g = self.guard.take().expect("live unit");
        let conn = g.conn.as_mut().expect("held");
        if !self.released {
            if let Err(e) = sqlx::query(Self::RELEASE).execute(&mut **conn).await {
                g.rollback = true;
                self.guard = Some(g);
                return Err(e);
            }
        }
        let group = g.open;
        // Let the units waiting join the group, then commit it unless one of them has.
        drop(g);
        let mut g = self.state.clone().lock_owned().await;
        if g.done < group {
            flush(&mut g).await;
        }
        match g.failed.get(&group) {
            Some(e) => Err(sqlx::Error::Protocol(format!("group commit failed: {e}"))),
            None => Ok(()),
        }
    }
}

impl Drop for Unit {
    fn drop(&mut self) {
        let Some(mut g) = self.guard.take() else {
            return;
        };
        // Dropped without commit: its savepoint is rolled back by whoever locks next; make
        // sure someone does, so that the group is committed and the connection returned.
        // (A released savepoint is gone: those writes are the group's now.)
        g.rollback = !self.released;
        drop(g);
        let state = self.state.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let mut g = state.lock_owned().await;
                flush(&mut g).await;
            });
        }
    }
}
