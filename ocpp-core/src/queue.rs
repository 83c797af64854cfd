//! Storage for the charging station's offline queue of transaction-related messages.
//!
//! The engine writes a transaction-related CALL (1.6 `StartTransaction`, `StopTransaction`,
//! `MeterValues` with a `transactionId`; 2.x `TransactionEvent`) to the queue *before* it is sent,
//! and removes it only when the CSMS answered it with a CALLRESULT (or when the retry rules gave up
//! on it). A message is therefore never lost between [`crate::Engine::call`] returning and the
//! CSMS acknowledging it, as long as the queue's storage survives.
//!
//! Two implementations come with the crate: [`MemoryQueue`] (survives reconnects, not restarts)
//! and [`FileQueue`] (an append-only file with optionally fsync'ed writes, survives restarts and
//! power cuts). Bring your own by implementing [`OfflineQueue`].

use std::collections::VecDeque;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::CallId;

/// One queued transaction-related CALL, as it will be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    /// The call's id; its decimal form is the OCPP-J message id on the wire.
    pub id: CallId,
    /// The action name.
    pub action: String,
    /// The validated JSON payload.
    pub payload: String,
}

/// Ordered, durable storage for transaction-related messages that have not been acknowledged.
///
/// Implementations must keep messages in the order they were pushed, and a message pushed
/// successfully must still be there after a restart until [`OfflineQueue::pop_front`] removed it.
pub trait OfflineQueue {
    /// Appends a message. When this returns `Ok`, the message must be durable.
    fn push(&mut self, message: QueuedMessage) -> io::Result<()>;
    /// The oldest message.
    fn front(&self) -> Option<&QueuedMessage>;
    /// Removes the oldest message (it was acknowledged or given up on).
    fn pop_front(&mut self) -> io::Result<Option<QueuedMessage>>;
    /// Number of queued messages.
    fn len(&self) -> usize;
    /// Whether the queue is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The largest call id ever queued that is still stored, so that a restarted engine numbers
    /// its calls after it.
    fn max_id(&self) -> Option<CallId>;
}

/// An in-memory [`OfflineQueue`]: keeps messages across reconnects, loses them on restart.
#[derive(Debug, Clone, Default)]
pub struct MemoryQueue {
    items: VecDeque<QueuedMessage>,
}

impl MemoryQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// The queued messages, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &QueuedMessage> {
        self.items.iter()
    }
}

impl OfflineQueue for MemoryQueue {
    fn push(&mut self, message: QueuedMessage) -> io::Result<()> {
        self.items.push_back(message);
        Ok(())
    }
    fn front(&self) -> Option<&QueuedMessage> {
        self.items.front()
    }
    fn pop_front(&mut self) -> io::Result<Option<QueuedMessage>> {
        Ok(self.items.pop_front())
    }
    fn len(&self) -> usize {
        self.items.len()
    }
    fn max_id(&self) -> Option<CallId> {
        self.items.iter().map(|m| m.id).max()
    }
}

/// When [`FileQueue`] forces its writes to the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SyncPolicy {
    /// `fsync` (`File::sync_data`) after every push and pop: nothing acknowledged to the caller
    /// is lost on a power cut. The default.
    #[default]
    Always,
    /// Leave it to the operating system: survives a process crash, not a power cut.
    Never,
}

/// A file-backed [`OfflineQueue`]: an append-only log that survives restarts and power cuts.
///
/// # File format
///
/// A sequence of records, each a header line followed, for pushes, by the payload:
///
/// ```text
/// + <id> <action> <payload length in bytes> <FNV-1a 32 checksum of action and payload, hex>\n<payload>\n
/// - <id>\n
/// ```
///
/// `+` appends a message, `-` removes the oldest one (whose id it repeats as a check). On open the
/// log is replayed; a torn or corrupt record at the end (a write cut by a power failure) and
/// everything after it is cut off, so the queue holds exactly the records that were completely
/// written. When the queue becomes empty the file is truncated; when removed records outnumber
/// live ones by far, the file is rewritten (to a temporary file that is synced and renamed over
/// the log).
pub struct FileQueue {
    path: PathBuf,
    file: File,
    items: VecDeque<QueuedMessage>,
    dead_records: usize,
    sync: SyncPolicy,
}

impl fmt::Debug for FileQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileQueue")
            .field("path", &self.path)
            .field("len", &self.items.len())
            .field("dead_records", &self.dead_records)
            .field("sync", &self.sync)
            .finish()
    }
}

const COMPACT_MIN_DEAD: usize = 256;

fn fnv1a(parts: &[&[u8]]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for part in parts {
        for b in *part {
            h ^= u32::from(*b);
            h = h.wrapping_mul(0x0100_0193);
        }
        // separate the parts so that ("ab", "c") and ("a", "bc") differ
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

impl FileQueue {
    /// Opens (or creates) the log at `path` with [`SyncPolicy::Always`] and replays it.
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        Self::open_with(path, SyncPolicy::Always)
    }

    /// Opens (or creates) the log at `path` with the given sync policy and replays it.
    pub fn open_with(path: impl AsRef<Path>, sync: SyncPolicy) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let (items, dead_records, valid_len) = Self::replay(&bytes);
        if valid_len < bytes.len() {
            tracing::warn!(
                path = %path.display(),
                cut = bytes.len() - valid_len,
                "offline queue: cutting a torn or corrupt tail"
            );
            file.set_len(valid_len as u64)?;
            file.sync_data()?;
        }
        file.seek(SeekFrom::End(0))?;
        Ok(FileQueue {
            path,
            file,
            items,
            dead_records,
            sync,
        })
    }

    /// The path of the log.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The queued messages, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &QueuedMessage> {
        self.items.iter()
    }

    /// Replays a log: the live messages, the number of removal records, and the length of the
    /// well-formed prefix.
    fn replay(bytes: &[u8]) -> (VecDeque<QueuedMessage>, usize, usize) {
        let mut items = VecDeque::new();
        let mut dead = 0;
        let mut pos = 0;
        while pos < bytes.len() {
            match Self::record(&bytes[pos..]) {
                Some((Record::Push(m), used)) => {
                    items.push_back(m);
                    pos += used;
                }
                Some((Record::Pop(id), used)) => {
                    if items.front().map(|m| m.id) != Some(id) {
                        break;
                    }
                    items.pop_front();
                    dead += 1;
                    pos += used;
                }
                None => break,
            }
        }
        (items, dead, pos)
    }

    fn record(bytes: &[u8]) -> Option<(Record, usize)> {
        let nl = bytes.iter().position(|b| *b == b'\n')?;
        let header = std::str::from_utf8(&bytes[..nl]).ok()?;
        let mut parts = header.split(' ');
        match parts.next()? {
            "-" => {
                let id = parts.next()?.parse().ok()?;
                if parts.next().is_some() {
                    return None;
                }
                Some((Record::Pop(CallId(id)), nl + 1))
            }
            "+" => {
                let id = parts.next()?.parse().ok()?;
                let action = parts.next()?;
                let len: usize = parts.next()?.parse().ok()?;
                let sum = u32::from_str_radix(parts.next()?, 16).ok()?;
                if parts.next().is_some() {
                    return None;
                }
                let start = nl + 1;
                let end = start.checked_add(len)?;
                if bytes.len() < end + 1 || bytes[end] != b'\n' {
                    return None;
                }
                let payload = &bytes[start..end];
                if fnv1a(&[action.as_bytes(), payload]) != sum {
                    return None;
                }
                let payload = std::str::from_utf8(payload).ok()?.to_owned();
                Some((
                    Record::Push(QueuedMessage {
                        id: CallId(id),
                        action: action.to_owned(),
                        payload,
                    }),
                    end + 1,
                ))
            }
            _ => None,
        }
    }

    fn append(&mut self, record: &[u8]) -> io::Result<()> {
        self.file.write_all(record)?;
        if self.sync == SyncPolicy::Always {
            self.file.sync_data()?;
        }
        Ok(())
    }

    fn push_record(m: &QueuedMessage, out: &mut Vec<u8>) {
        let sum = fnv1a(&[m.action.as_bytes(), m.payload.as_bytes()]);
        out.extend_from_slice(
            format!(
                "+ {} {} {} {:08x}\n",
                m.id.0,
                m.action,
                m.payload.len(),
                sum
            )
            .as_bytes(),
        );
        out.extend_from_slice(m.payload.as_bytes());
        out.push(b'\n');
    }

    /// Rewrites the log with only the live messages.
    fn compact(&mut self) -> io::Result<()> {
        let tmp = self.path.with_extension("compact");
        let mut out = Vec::new();
        for m in &self.items {
            Self::push_record(m, &mut out);
        }
        {
            let mut f = File::create(&tmp)?;
            f.write_all(&out)?;
            f.sync_data()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Make the rename durable; not every platform can open a directory, so this is
            // best effort.
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        self.file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(&self.path)?;
        self.dead_records = 0;
        Ok(())
    }
}

enum Record {
    Push(QueuedMessage),
    Pop(CallId),
}

impl OfflineQueue for FileQueue {
    fn push(&mut self, message: QueuedMessage) -> io::Result<()> {
        if message.action.is_empty() || message.action.contains([' ', '\n']) {
            return Err(invalid(format!(
                "action name {:?} cannot be stored",
                message.action
            )));
        }
        let mut rec = Vec::with_capacity(message.payload.len() + 64);
        Self::push_record(&message, &mut rec);
        self.append(&rec)?;
        self.items.push_back(message);
        Ok(())
    }

    fn front(&self) -> Option<&QueuedMessage> {
        self.items.front()
    }

    fn pop_front(&mut self) -> io::Result<Option<QueuedMessage>> {
        let Some(front) = self.items.front() else {
            return Ok(None);
        };
        if self.items.len() == 1 {
            // The queue becomes empty: start the log afresh.
            self.file.set_len(0)?;
            if self.sync == SyncPolicy::Always {
                self.file.sync_data()?;
            }
            self.dead_records = 0;
        } else {
            let rec = format!("- {}\n", front.id.0);
            self.append(rec.as_bytes())?;
            self.dead_records += 1;
        }
        let popped = self.items.pop_front();
        if self.dead_records >= COMPACT_MIN_DEAD && self.dead_records > 4 * self.items.len() {
            self.compact()?;
        }
        Ok(popped)
    }

    fn len(&self) -> usize {
        self.items.len()
    }

    fn max_id(&self) -> Option<CallId> {
        self.items.iter().map(|m| m.id).max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ocpp-core-queue-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        let _ = std::fs::remove_file(&p);
        p
    }

    fn msg(id: u64, payload: &str) -> QueuedMessage {
        QueuedMessage {
            id: CallId(id),
            action: "TransactionEvent".into(),
            payload: payload.into(),
        }
    }

    #[test]
    fn file_queue_survives_reopen_in_order() {
        let p = tmp("reopen.log");
        {
            let mut q = FileQueue::open(&p).unwrap();
            q.push(msg(1, r#"{"a":"x\ny"}"#)).unwrap();
            q.push(msg(2, "{\n}")).unwrap();
            q.push(msg(3, "{}")).unwrap();
            assert_eq!(q.pop_front().unwrap().unwrap().id, CallId(1));
        }
        let mut q = FileQueue::open(&p).unwrap();
        assert_eq!(q.len(), 2);
        assert_eq!(q.front().unwrap(), &msg(2, "{\n}"));
        assert_eq!(q.max_id(), Some(CallId(3)));
        q.pop_front().unwrap();
        q.pop_front().unwrap();
        assert!(q.is_empty());
        assert_eq!(
            std::fs::metadata(&p).unwrap().len(),
            0,
            "an empty queue truncates its log"
        );
        drop(q);
        assert!(FileQueue::open(&p).unwrap().is_empty());
    }

    #[test]
    fn torn_tail_is_cut_and_the_rest_kept() {
        let p = tmp("torn.log");
        {
            let mut q = FileQueue::open(&p).unwrap();
            q.push(msg(7, r#"{"seqNo":1}"#)).unwrap();
            q.push(msg(8, r#"{"seqNo":2}"#)).unwrap();
        }
        let full = std::fs::read(&p).unwrap();
        // Cut the last record anywhere: only the first message survives.
        let first_len = full
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(1)
            .unwrap()
            .0
            + 1;
        for cut in first_len..full.len() {
            std::fs::write(&p, &full[..cut]).unwrap();
            let q = FileQueue::open(&p).unwrap();
            assert_eq!(q.len(), 1, "cut at {cut}");
            assert_eq!(q.front().unwrap().id, CallId(7));
            assert_eq!(std::fs::metadata(&p).unwrap().len() as usize, first_len);
        }
        // A flipped payload byte fails the checksum.
        let mut bad = full.clone();
        let last = bad.len() - 3;
        bad[last] ^= 1;
        std::fs::write(&p, &bad).unwrap();
        assert_eq!(FileQueue::open(&p).unwrap().len(), 1);
        // And a new push after the cut is appended cleanly.
        let mut q = FileQueue::open(&p).unwrap();
        q.push(msg(9, "{}")).unwrap();
        drop(q);
        let ids: Vec<_> = FileQueue::open(&p)
            .unwrap()
            .iter()
            .map(|m| m.id.0)
            .collect();
        assert_eq!(ids, [7, 9]);
    }

    #[test]
    fn compaction_keeps_live_messages() {
        let p = tmp("compact.log");
        let mut q = FileQueue::open_with(&p, SyncPolicy::Never).unwrap();
        q.push(msg(0, "{}")).unwrap();
        for i in 1..=600 {
            q.push(msg(i, "{}")).unwrap();
            q.pop_front().unwrap();
        }
        assert!(q.dead_records < COMPACT_MIN_DEAD);
        drop(q);
        let q = FileQueue::open(&p).unwrap();
        assert_eq!(q.iter().map(|m| m.id.0).collect::<Vec<_>>(), [600]);
    }

    #[test]
    fn action_with_space_is_refused() {
        let p = tmp("space.log");
        let mut q = FileQueue::open(&p).unwrap();
        let mut m = msg(1, "{}");
        m.action = "A B".into();
        assert!(q.push(m).is_err());
        assert!(q.is_empty());
    }
}
