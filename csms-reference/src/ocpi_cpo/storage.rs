//! The [`ocpi::server::Storage`] of the bridge: every object in memory (the OCPI server's
//! trait is synchronous) and written through to the database, in order, by one writer task.
//!
//! - eMSP tokens are indexed by uid ([`CpoStorage::token_by_uid`]): a station's Authorize is
//!   answered without scanning the token list.
//! - [`CpoStorage::put_with_pushes`] writes objects and queues outbox pushes in one database
//!   transaction: a CDR is stored if and only if its POST is queued, so that a restart neither
//!   loses nor repeats it.
//! - Sessions and CDRs are shown to a partner only when their token belongs to one of its
//!   parties ([`as_viewer`], set by the OCPI server's middleware for GET requests).
//! - A change of the tariffs wakes [`CpoStorage::tariffs_changed`] (sessions that could not be
//!   priced are priced again).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use ocpi::server::Storage;
use ocpi::v221::{InterfaceRole, ModuleId};
use serde_json::Value;
use tokio::sync::{mpsc, Notify};

use super::db::{ObjectRow, OcpiDb, OutboxRow};

enum Write {
    Put(ObjectRow),
    Delete(String, String, String),
    Flush(tokio::sync::oneshot::Sender<()>),
    Atomic(
        Vec<ObjectRow>,
        Vec<OutboxRow>,
        tokio::sync::oneshot::Sender<Result<(), String>>,
    ),
}

type Key = (String, String, Vec<String>);

const TOKENS: &str = "tokens";
const RECEIVER: &str = "RECEIVER";

/// Who a request is served to: the caller, and which partner owns each party (as
/// `OcpiCpo::owner_of` decides: the partner with that role, else the hub).
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    /// The calling partner.
    pub peer: u64,
    /// Every registered partner's parties: partner, country code, party id.
    pub parties: Vec<(u64, String, String)>,
    /// The hub that speaks for parties without a partner of their own.
    pub hub: Option<u64>,
}

impl Viewer {
    fn owns(&self, cc: &str, pid: &str) -> bool {
        self.parties
            .iter()
            .find(|(_, c, p)| c.eq_ignore_ascii_case(cc) && p.eq_ignore_ascii_case(pid))
            .map(|(id, _, _)| *id)
            .or(self.hub)
            == Some(self.peer)
    }
}

tokio::task_local! {
    /// The partner a request is served to.
    static VIEWER: Viewer;
}

/// Runs `f` on behalf of a partner: the sessions and CDRs it lists or gets are those of its
/// own tokens (transport_and_format, GET: "the server might not send all CDRs to a client,
/// because some CDRs do not belong to this client"; one of another party is unknown).
pub async fn as_viewer<F: std::future::Future>(viewer: Viewer, f: F) -> F::Output {
    VIEWER.scope(viewer, f).await
}

/// Whether the partner served now (if any) may see an object.
fn visible(module: &str, role: &str, object: &Value) -> bool {
    if role != "SENDER" || !(module == "sessions" || module == "cdrs") {
        return true;
    }
    VIEWER
        .try_with(|viewer| {
            let party = |k: &str| {
                object
                    .get("cdr_token")
                    .and_then(|t| t.get(k))
                    .and_then(Value::as_str)
                    .unwrap_or("")
            };
            viewer.owns(party("country_code"), party("party_id"))
        })
        .unwrap_or(true)
}

/// The index key of a token uid (uids are compared without regard to case).
fn uid_key(uid: &str) -> String {
    uid.to_ascii_uppercase()
}

/// Objects by module, interface and path ids, ordered by insertion; persisted.
#[derive(Debug)]
pub struct CpoStorage {
    objects: RwLock<BTreeMap<Key, (i64, Value)>>,
    seq: AtomicI64,
    writes: mpsc::UnboundedSender<Write>,
    /// Writes that failed so far (see [`CpoStorage::failures`]).
    failures: Arc<AtomicU64>,
    /// eMSP tokens (module `tokens`, Receiver interface) by uid (upper case).
    tokens: RwLock<HashMap<String, Vec<Vec<String>>>>,
    /// Woken when a tariff is stored or removed.
    tariffs: Arc<Notify>,
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
        let mut tokens: HashMap<String, Vec<Vec<String>>> = HashMap::new();
        let mut seq = 0;
        for r in rows {
            let ids: Vec<String> = serde_json::from_str(&r.ids).unwrap_or_default();
            let Ok(v) = serde_json::from_str::<Value>(&r.object) else {
                continue;
            };
            seq = seq.max(r.seq);
            if r.module == TOKENS && r.role == RECEIVER {
                if let Some(uid) = v.get("uid").and_then(Value::as_str) {
                    tokens.entry(uid_key(uid)).or_default().push(ids.clone());
                }
            }
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
                    Write::Atomic(objects, pushes, done) => {
                        let r = db.put_objects_with_outbox(&objects, &pushes).await;
                        let _ = done.send(r.as_ref().map(|_| ()).map_err(|e| e.to_string()));
                        r
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
            tokens: RwLock::new(tokens),
            tariffs: Arc::new(Notify::new()),
        })
    }

    /// The stored eMSP tokens with this uid (any party; compared without regard to case),
    /// oldest first: an indexed lookup.
    pub fn token_by_uid(&self, uid: &str) -> Vec<Value> {
        let keys = self
            .tokens
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&uid_key(uid))
            .cloned()
            .unwrap_or_default();
        let g = self.objects.read().unwrap_or_else(|e| e.into_inner());
        let mut found: Vec<(i64, Value)> = keys
            .into_iter()
            .filter_map(|ids| g.get(&(TOKENS.to_owned(), RECEIVER.to_owned(), ids)))
            .map(|(s, v)| (*s, v.clone()))
            .collect();
        found.sort_by_key(|(s, _)| *s);
        found.into_iter().map(|(_, v)| v).collect()
    }

    /// Woken when a tariff is stored or removed.
    pub fn tariffs_changed(&self) -> Arc<Notify> {
        self.tariffs.clone()
    }

    fn index(&self, key: &Key, old: Option<&Value>, new: Option<&Value>) {
        if key.0 == TOKENS && key.1 == RECEIVER {
            let uid = |v: Option<&Value>| {
                v.and_then(|v| v.get("uid"))
                    .and_then(Value::as_str)
                    .map(uid_key)
            };
            let mut t = self.tokens.write().unwrap_or_else(|e| e.into_inner());
            if let Some(u) = uid(old) {
                if let Some(list) = t.get_mut(&u) {
                    list.retain(|ids| ids != &key.2);
                    if list.is_empty() {
                        t.remove(&u);
                    }
                }
            }
            if let Some(u) = uid(new) {
                t.entry(u).or_default().push(key.2.clone());
            }
        } else if key.0 == "tariffs" && key.1 == "SENDER" {
            self.tariffs.notify_one();
        }
    }

    /// Stores objects (module, role, ids, object) in memory and, in one database transaction
    /// after every write issued before, with the outbox rows `pushes`. When the database
    /// refuses, the objects are taken back from memory too and the error is returned.
    pub async fn put_with_pushes(
        &self,
        objects: Vec<(&str, &str, Vec<String>, Value)>,
        pushes: Vec<OutboxRow>,
    ) -> Result<(), String> {
        let mut rows = Vec::new();
        let mut previous = Vec::new();
        {
            let mut g = self.objects.write().unwrap_or_else(|e| e.into_inner());
            for (module, role, ids, object) in objects {
                let key = (module.to_owned(), role.to_owned(), ids);
                let old = g.get(&key).cloned();
                let seq = match &old {
                    Some((s, _)) => *s,
                    None => self.seq.fetch_add(1, Ordering::SeqCst) + 1,
                };
                rows.push(ObjectRow {
                    module: key.0.clone(),
                    role: key.1.clone(),
                    ids: serde_json::to_string(&key.2).unwrap_or_default(),
                    seq,
                    object: object.to_string(),
                });
                self.index(&key, old.as_ref().map(|(_, v)| v), Some(&object));
                g.insert(key.clone(), (seq, object));
                previous.push((key, old));
            }
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        let r = match self.writes.send(Write::Atomic(rows, pushes, tx)) {
            Ok(()) => rx
                .await
                .unwrap_or_else(|_| Err("the OCPI writer stopped".into())),
            Err(_) => Err("the OCPI writer stopped".into()),
        };
        if r.is_err() {
            let mut g = self.objects.write().unwrap_or_else(|e| e.into_inner());
            for (key, old) in previous.into_iter().rev() {
                let now = g.get(&key).map(|(_, v)| v.clone());
                self.index(&key, now.as_ref(), old.as_ref().map(|(_, v)| v));
                match old {
                    Some(o) => g.insert(key, o),
                    None => g.remove(&key),
                };
            }
        }
        r
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
    /// with their path ids (within [`as_viewer`]: the sessions and CDRs of that partner).
    pub fn list_kind(&self, module: &str, role: &str) -> Vec<(Vec<String>, Value)> {
        let g = self.objects.read().unwrap_or_else(|e| e.into_inner());
        let mut v: Vec<_> = g
            .iter()
            .filter(|((m, r, _), (_, o))| m == module && r == role && visible(m, r, o))
            .map(|((_, _, ids), (seq, o))| (*seq, ids.clone(), o.clone()))
            .collect();
        v.sort_by_key(|(s, _, _)| *s);
        v.into_iter().map(|(_, i, o)| (i, o)).collect()
    }

    /// One object of a kind given by name (within [`as_viewer`]: only that partner's sessions
    /// and CDRs).
    pub fn get_kind(&self, module: &str, role: &str, ids: &[String]) -> Option<Value> {
        let g = self.objects.read().unwrap_or_else(|e| e.into_inner());
        g.get(&(module.to_owned(), role.to_owned(), ids.to_vec()))
            .map(|(_, v)| v.clone())
            .filter(|v| visible(module, role, v))
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

    /// How many objects of a kind given by name there are (a range of the ordered map: no
    /// object is looked at beyond that kind; every object, whoever asks).
    pub fn count_kind(&self, module: &str, role: &str) -> usize {
        let g = self.objects.read().unwrap_or_else(|e| e.into_inner());
        g.range((module.to_owned(), role.to_owned(), Vec::new())..)
            .take_while(|((m, r, _), _)| m == module && r == role)
            .count()
    }

    /// Stores an object of a kind given by name; returns whether it was new.
    pub fn put_kind(&self, module: &str, role: &str, ids: Vec<String>, object: Value) -> bool {
        let key = (module.to_owned(), role.to_owned(), ids);
        let mut g = self.objects.write().unwrap_or_else(|e| e.into_inner());
        let (seq, new) = match g.get(&key) {
            Some((s, _)) => (*s, false),
            None => (self.seq.fetch_add(1, Ordering::SeqCst) + 1, true),
        };
        self.index(&key, g.get(&key).map(|(_, v)| v), Some(&object));
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
        let old = g.remove(&key);
        let existed = old.is_some();
        self.index(&key, old.as_ref().map(|(_, v)| v), None);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{SqliteStore, Store};
    use serde_json::json;

    fn token(cc: &str, pid: &str, uid: &str) -> Value {
        json!({"country_code": cc, "party_id": pid, "uid": uid, "type": "RFID"})
    }

    #[tokio::test]
    async fn tokens_are_found_by_uid_through_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("t.db").display());
        let store = SqliteStore::connect(&url).await.unwrap();
        let db = store.ocpi_db().unwrap();
        let s = CpoStorage::load(db.clone()).await.unwrap();
        let ids = |cc: &str, pid: &str, uid: &str| vec![cc.into(), pid.into(), uid.into()];
        for i in 0..1000 {
            let uid = format!("u{i}");
            s.put_kind(
                TOKENS,
                RECEIVER,
                ids("NL", "MSP", &uid),
                token("NL", "MSP", &uid),
            );
        }
        s.put_kind(
            TOKENS,
            RECEIVER,
            ids("DE", "ABC", "u7"),
            token("DE", "ABC", "u7"),
        );
        assert_eq!(s.token_by_uid("U500"), vec![token("NL", "MSP", "u500")]);
        let both = s.token_by_uid("u7");
        assert_eq!(both.len(), 2, "one per party, oldest first");
        assert_eq!(both[0]["party_id"], "MSP");
        // A token replaced under the same path with another uid moves in the index.
        s.put_kind(
            TOKENS,
            RECEIVER,
            ids("NL", "MSP", "u1"),
            token("NL", "MSP", "renamed"),
        );
        assert!(s.token_by_uid("u1").is_empty());
        assert_eq!(s.token_by_uid("RENAMED").len(), 1);
        assert!(s.delete_kind(TOKENS, RECEIVER, &ids("NL", "MSP", "u2")));
        assert!(s.token_by_uid("u2").is_empty());
        // Objects of other modules are not tokens.
        s.put_kind(
            "sessions",
            "SENDER",
            vec!["x".into()],
            json!({"uid": "u3x"}),
        );
        assert!(s.token_by_uid("u3x").is_empty());
        // The index is rebuilt from the database at start.
        s.flush().await;
        let again = CpoStorage::load(db).await.unwrap();
        assert_eq!(again.token_by_uid("u999").len(), 1);
        assert_eq!(again.token_by_uid("renamed").len(), 1);
        assert!(again.token_by_uid("u2").is_empty());
        assert_eq!(again.token_by_uid("u7").len(), 2);
    }
}
