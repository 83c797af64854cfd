//! The [`ocpi::server::Storage`] of the bridge: every object in memory (the OCPI server's
//! trait is synchronous) and written through to the database, in order, by one writer task.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use ocpi::server::Storage;
use ocpi::v221::{InterfaceRole, ModuleId};
use serde_json::Value;
use tokio::sync::mpsc;

use super::db::{ObjectRow, OcpiDb};

enum Write {
    Put(ObjectRow),
    Delete(String, String, String),
    Flush(tokio::sync::oneshot::Sender<()>),
}

type Key = (String, String, Vec<String>);

/// Objects by module, interface and path ids, ordered by insertion; persisted.
#[derive(Debug)]
pub struct CpoStorage {
    objects: RwLock<BTreeMap<Key, (i64, Value)>>,
    seq: AtomicI64,
    writes: mpsc::UnboundedSender<Write>,
    /// Writes that failed so far (see [`CpoStorage::failures`]).
    failures: Arc<AtomicU64>,
}

impl std::fmt::Debug for Write {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Write")
    }
}

impl CpoStorage {
    /// Loads every object from `db` and starts the writer task.
    pub async fn load(db: Arc<dyn OcpiDb>) -> crate::store::StoreResult<Self> {
        let rows = db.objects().await?;
        let mut objects = BTreeMap::new();
        let mut seq = 0;
        for r in rows {
            let ids: Vec<String> = serde_json::from_str(&r.ids).unwrap_or_default();
            let Ok(v) = serde_json::from_str::<Value>(&r.object) else {
                continue;
            };
            seq = seq.max(r.seq);
            objects.insert((r.module, r.role, ids), (r.seq, v));
        }
        let (tx, mut rx) = mpsc::unbounded_channel::<Write>();
        let failures = Arc::new(AtomicU64::new(0));
        let failed = failures.clone();
        tokio::spawn(async move {
            while let Some(w) = rx.recv().await {
                let r = match w {
                    Write::Put(row) => db.put_object(&row).await,
                    Write::Delete(m, r, ids) => db.delete_object(&m, &r, &ids).await,
                    Write::Flush(done) => {
                        let _ = done.send(());
                        Ok(())
                    }
                };
                if let Err(e) = r {
                    failed.fetch_add(1, Ordering::SeqCst);
                    tracing::error!(error = %e, "persisting an OCPI object failed");
                }
            }
        });
        Ok(CpoStorage {
            objects: RwLock::new(objects),
            seq: AtomicI64::new(seq),
            writes: tx,
            failures,
        })
    }

    /// Waits until every write issued so far is in the database.
    pub async fn flush(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.writes.send(Write::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    /// How many writes have failed since the start (compare two readings around a
    /// [`CpoStorage::flush`] to learn whether a change reached the database).
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::SeqCst)
    }

    /// Objects of a module kind given by name (bridge-private kinds such as `x-location`),
    /// with their path ids.
    pub fn list_kind(&self, module: &str, role: &str) -> Vec<(Vec<String>, Value)> {
        let g = self.objects.read().unwrap_or_else(|e| e.into_inner());
        let mut v: Vec<_> = g
            .iter()
            .filter(|((m, r, _), _)| m == module && r == role)
            .map(|((_, _, ids), (seq, o))| (*seq, ids.clone(), o.clone()))
            .collect();
        v.sort_by_key(|(s, _, _)| *s);
        v.into_iter().map(|(_, i, o)| (i, o)).collect()
    }

    /// One object of a kind given by name.
    pub fn get_kind(&self, module: &str, role: &str, ids: &[String]) -> Option<Value> {
        let g = self.objects.read().unwrap_or_else(|e| e.into_inner());
        g.get(&(module.to_owned(), role.to_owned(), ids.to_vec()))
            .map(|(_, v)| v.clone())
    }

    /// One page of the objects of a kind given by name, newest (last inserted) first, and how
    /// many there are: only the page is cloned (the operator's dashboard pages thousands of
    /// CDRs this way). Every object, whoever asks.
    pub fn page_kind(
        &self,
        module: &str,
        role: &str,
        offset: usize,
        limit: usize,
    ) -> (usize, Vec<(Vec<String>, Value)>) {
        let g = self.objects.read().unwrap_or_else(|e| e.into_inner());
        let mut v: Vec<(i64, &Key)> = g
            .iter()
            .filter(|((m, r, _), _)| m == module && r == role)
            .map(|(k, (seq, _))| (*seq, k))
            .collect();
        v.sort_unstable_by_key(|(seq, _)| std::cmp::Reverse(*seq));
        let page = v
            .iter()
            .skip(offset)
            .take(limit)
            .filter_map(|(_, k)| g.get(*k).map(|(_, o)| (k.2.clone(), o.clone())))
            .collect();
        (v.len(), page)
    }

    /// Stores an object of a kind given by name; returns whether it was new.
    pub fn put_kind(&self, module: &str, role: &str, ids: Vec<String>, object: Value) -> bool {
        let key = (module.to_owned(), role.to_owned(), ids);
        let mut g = self.objects.write().unwrap_or_else(|e| e.into_inner());
        let (seq, new) = match g.get(&key) {
            Some((s, _)) => (*s, false),
            None => (self.seq.fetch_add(1, Ordering::SeqCst) + 1, true),
        };
        let row = ObjectRow {
            module: key.0.clone(),
            role: key.1.clone(),
            ids: serde_json::to_string(&key.2).unwrap_or_default(),
            seq,
            object: object.to_string(),
        };
        g.insert(key, (seq, object));
        let _ = self.writes.send(Write::Put(row));
        new
    }

    /// Removes an object of a kind given by name; returns whether it existed.
    pub fn delete_kind(&self, module: &str, role: &str, ids: &[String]) -> bool {
        let key = (module.to_owned(), role.to_owned(), ids.to_vec());
        let mut g = self.objects.write().unwrap_or_else(|e| e.into_inner());
        let existed = g.remove(&key).is_some();
        if existed {
            let _ = self.writes.send(Write::Delete(
                key.0,
                key.1,
                serde_json::to_string(&key.2).unwrap_or_default(),
            ));
        }
        existed
    }
}

impl Storage for CpoStorage {
    fn list(&self, module: &ModuleId, role: &InterfaceRole) -> Vec<Value> {
        self.list_kind(module.as_str(), role.as_str())
            .into_iter()
            .map(|(_, v)| v)
            .collect()
    }
    fn get(&self, module: &ModuleId, role: &InterfaceRole, ids: &[String]) -> Option<Value> {
        self.get_kind(module.as_str(), role.as_str(), ids)
    }
    fn put(
        &self,
        module: &ModuleId,
        role: &InterfaceRole,
        ids: Vec<String>,
        object: Value,
    ) -> bool {
        self.put_kind(module.as_str(), role.as_str(), ids, object)
    }
    fn delete(&self, module: &ModuleId, role: &InterfaceRole, ids: &[String]) -> bool {
        self.delete_kind(module.as_str(), role.as_str(), ids)
    }
}
