//! The durable raft log: one redb file, `raft-log.redb`, in the node's data dir.
//!
//! Owns the raft log entries (table `raft_log`, index -> JSON entry) and the raft metadata
//! (table `raft_meta`: `vote`, `committed`, `last_purged`, each JSON). It never touches the state
//! machine or snapshots; those live in their own redb file so that log appends and applies never
//! queue behind each other for redb's single writer.
//!
//! - `mod.rs` (this file): the openraft [`RaftLogStorage`] / [`RaftLogReader`] impls, which
//!   encode and decode and know `C`;
//! - `io_thread.rs`: the one writer thread and its group commit;
//! - `read_ahead.rs`: the next chunk fetched for a reader walking the log in order;
//! - `tail.rs`: appended rows not yet committed, which readers see at once, and a cache of the
//!   latest committed ones;
//! - `tables.rs`: the table layout and each redb operation.
//!
//! `append` returns as soon as its rows are in the tail and fires its callback from the storage
//! thread once the redb commit holding them returned: openraft 0.10's contract, and what lets
//! one fsync cover every write submitted while the previous one was on disk.

mod committer;
mod health;
mod io_thread;
mod journal;
mod read_ahead;
mod stall;
mod tables;
mod tail;

#[cfg(test)]
mod suite;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::io;
use std::marker::PhantomData;
use std::ops::Bound;
use std::ops::RangeBounds;
use std::path::Path;
use std::sync::Arc;

use openraft::LogState;
use openraft::OptionalSend;
use openraft::RaftLogReader;
use openraft::RaftTypeConfig;
use openraft::alias::EntryOf;
use openraft::alias::LogIdOf;
use openraft::alias::VoteOf;
use openraft::entry::RaftEntry;
use openraft::storage::IOFlushed;
use openraft::storage::RaftLogStorage;
use redb::Database;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use self::health::DiskHealth;
pub(crate) use self::health::Retry;
use self::io_thread::Flushed;
use self::io_thread::IoThread;
use self::io_thread::Shared;
use self::io_thread::Write;
use self::read_ahead::ReadAhead;
pub use self::tables::FILE_NAME;
use self::tables::KEY_LAST_PURGED;
use self::tail::Bytes;

/// redb-backed [`RaftLogStorage`] for openraft.
///
/// Construct with [`LogStore::open`]. It is a handle to the storage thread; the thread stops and
/// the file is closed by [`LogStore::close`], or when this store and every [`LogReader`] it
/// handed out have been dropped (that last drop blocks for at most the commit in flight).
///
/// `C` needs nothing beyond [`RaftTypeConfig`]: with openraft's `serde` feature on, entries,
/// votes and log ids are serde types, stored as JSON.
pub struct LogStore<C>
where
    C: RaftTypeConfig,
{
    io: Arc<IoThread>,
    _p: PhantomData<C>,
}

/// Read-only handle used by openraft's replication tasks; shares the storage thread.
pub struct LogReader<C>
where
    C: RaftTypeConfig,
{
    io: Arc<IoThread>,
    /// The chunk after the last one read from redb, being fetched.
    ahead: Option<ReadAhead<C>>,
}

impl<C> Clone for LogReader<C>
where
    C: RaftTypeConfig,
{
    fn clone(&self) -> Self {
        Self {
            io: self.io.clone(),
            ahead: None,
        }
    }
}

impl<C> LogStore<C>
where
    C: RaftTypeConfig,
{
    /// Opens (or creates) `dir/raft-log.redb` and creates both tables.
    ///
    /// Blocking: it opens the file (after a crash redb repairs it: 20-30 ms for a 28 MB log).
    /// Call it at startup, or inside `spawn_blocking`.
    ///
    /// `health` is told when durable writes fail and when they succeed again (see `health.rs`).
    pub fn open_with(dir: &Path, health: Arc<DiskHealth>) -> io::Result<Self> {
        Ok(Self {
            io: Arc::new(IoThread::spawn(dir, health)?),
            _p: PhantomData,
        })
    }

    /// [`LogStore::open_with`] a health record of its own.
    pub fn open(dir: &Path) -> io::Result<Self> {
        Self::open_with(dir, Arc::default())
    }

    /// Stops the storage thread after every write sent before it, and closes the file,
    /// reporting the close error that a plain drop would ignore.
    ///
    /// Any [`LogReader`] still alive gets "log store is closed" errors afterwards.
    pub async fn close(self) -> io::Result<()> {
        self.io.close().await
    }

    fn shared(&self) -> &Arc<Shared> {
        self.io.shared()
    }
}

/// The store reads exactly as its readers do.
impl<C> RaftLogReader<C> for LogStore<C>
where
    C: RaftTypeConfig,
{
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<C::Entry>, io::Error> {
        Ok(read_entries::<C>(self.shared(), half_open(&range)).await?.0)
    }

    async fn read_vote(&mut self) -> Result<Option<VoteOf<C>>, io::Error> {
        decode_opt(tables::KEY_VOTE, self.shared().vote()?)
    }
}

impl<C> RaftLogReader<C> for LogReader<C>
where
    C: RaftTypeConfig,
{
    /// # Correctness
    ///
    /// - Sees every appended entry, durable or not: the tail is read before redb, and a row
    ///   leaves the tail only after its commit returned, so no row can slip between the two.
    /// - A hole inside the result is reported as an error, never returned.
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<C::Entry>, io::Error> {
        let shared = self.io.shared();
        let ahead = self.ahead.take();
        let Some((from, Some(to))) = half_open(&range) else {
            return Ok(read_entries::<C>(shared, half_open(&range)).await?.0);
        };
        let fetched = match ahead {
            Some(ahead) => ahead.take(shared, from, to).await,
            None => None,
        };
        let (entries, from_db) = match fetched {
            Some(entries) => (entries, true),
            None => read_entries::<C>(shared, Some((from, Some(to)))).await?,
        };
        // A whole chunk out of redb is a walk through the old log (re-apply, catch-up), worth
        // fetching ahead; one out of the tail is the latest entries, with nothing after them.
        if from_db && to > from && entries.len() as u64 == to - from {
            self.ahead = ReadAhead::start(shared, to, to.saturating_add(to - from));
        }
        Ok(entries)
    }

    /// The last durable vote: the cache is updated right after the commit that holds it.
    async fn read_vote(&mut self) -> Result<Option<VoteOf<C>>, io::Error> {
        decode_opt(tables::KEY_VOTE, self.io.shared().vote()?)
    }
}

impl<C> RaftLogStorage<C> for LogStore<C>
where
    C: RaftTypeConfig,
{
    type LogReader = LogReader<C>;

    /// `last_log_id` is the last entry present (pending or durable), or `last_purged` when every
    /// entry was purged.
    async fn get_log_state(&mut self) -> Result<LogState<C>, io::Error> {
        // Tail first, redb second, as for entries (see `tail.rs`).
        let pending_last = self.shared().tail().last();
        let (durable_last, last_purged) = read_db(self.shared(), tables::log_state).await?;

        let last_purged_log_id = decode_opt::<LogIdOf<C>>(KEY_LAST_PURGED, last_purged)?;
        let pending = pending_last
            .as_ref()
            .map(|(index, bytes)| (*index, &bytes[..]));
        let durable = durable_last
            .as_ref()
            .map(|(index, bytes)| (*index, &bytes[..]));
        // The higher index is the last row; on a tie the tail holds the latest write of it.
        let last_row = match (pending, durable) {
            (Some(p), Some(d)) => Some(if p.0 >= d.0 { p } else { d }),
            (p, d) => p.or(d),
        };
        let last_log_id = match last_row {
            Some((index, bytes)) => Some(decode_entry::<C>(index, bytes)?.log_id()),
            None => last_purged_log_id.clone(),
        };
        Ok(LogState {
            last_purged_log_id,
            last_log_id,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        LogReader {
            io: self.io.clone(),
            ahead: None,
        }
    }

    /// # Correctness
    ///
    /// - Durable before returning: it waits for the `Durability::Immediate` commit that holds it
    ///   (shared with whatever else was queued). A vote lost on power failure would let this
    ///   node vote twice in one term.
    /// - Ordered after every earlier write: the storage thread applies writes in arrival order,
    ///   inside one transaction when they share a commit.
    async fn save_vote(&mut self, vote: &VoteOf<C>) -> Result<(), io::Error> {
        let value = encode(tables::KEY_VOTE, vote)?;
        self.io.call(|reply| Write::SaveVote { value, reply }).await
    }

    /// # Correctness
    ///
    /// - Unsynced by design: it returns at once and is written by a later durable commit (or a
    ///   clean close). Losing it on a crash only makes the restarted node re-apply less; it
    ///   never claims more than was committed.
    /// - Ordered: no commit writes it before the last append queued ahead of it is durable, so
    ///   it never reaches the file before the entries it points at.
    async fn save_committed(&mut self, committed: Option<LogIdOf<C>>) -> Result<(), io::Error> {
        let value = encode(tables::KEY_COMMITTED, &committed)?;
        self.shared().check_open()?;
        self.shared().set_committed(value);
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogIdOf<C>>, io::Error> {
        let committed =
            decode_opt::<Option<LogIdOf<C>>>(tables::KEY_COMMITTED, self.shared().committed()?)?;
        Ok(committed.flatten())
    }

    /// # Correctness
    ///
    /// - Readable when this returns: the rows are put in the in-memory tail before the write is
    ///   queued, and every reader consults the tail.
    /// - Durable when `callback` fires: the storage thread fires it only after the
    ///   `Durability::Immediate` commit holding these rows returned `Ok` (one fsync for every
    ///   write queued with them). A failed commit reaches `callback` as its `io::Error`, and so
    ///   does every later write: nothing queued behind a lost entry is acknowledged.
    /// - No holes: the batch is applied inside one transaction, so it is all there or not at all.
    async fn append<I>(&mut self, entries: I, callback: IOFlushed<C>) -> Result<(), io::Error>
    where
        I: IntoIterator<Item = C::Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let rows = entries
            .into_iter()
            .map(|entry| Ok((entry.index(), Bytes::from(encode("log entry", &entry)?))))
            .collect::<io::Result<Vec<_>>>()?;
        // Into the tail before the queue: the storage thread trims the tail after committing,
        // so a row queued first could be trimmed before it was ever added, and then linger.
        let seq = self.shared().tail().push(&rows);
        let flushed: Flushed = Box::new(move |res| callback.io_completed(res));
        self.io.send(Write::Append { seq, rows, flushed })
    }

    /// # Correctness
    ///
    /// - Removes every entry after `last_log_id` (all of them for `None`) in one transaction, so
    ///   no hole can appear; applied after every earlier append.
    /// - Durable before returning. Waiting also means the tail holds nothing when the next write
    ///   comes (openraft awaits this call), so no pending row can outlive the truncation.
    async fn truncate_after(&mut self, last_log_id: Option<LogIdOf<C>>) -> Result<(), io::Error> {
        tracing::debug!(?last_log_id, "raft-log: truncate_after");
        let from = match last_log_id {
            Some(log_id) => log_id.index() + 1,
            None => 0,
        };
        self.io
            .call(|reply| Write::TruncateFrom { from, reply })
            .await
    }

    /// # Correctness
    ///
    /// - Atomic: `last_purged` is written and `..=log_id.index` deleted in one transaction, so
    ///   a crash can never leave a hole or a `last_purged` that disagrees with the entries.
    /// - Durable before returning; purges are rare (once per snapshot).
    async fn purge(&mut self, log_id: LogIdOf<C>) -> Result<(), io::Error> {
        tracing::debug!(%log_id, "raft-log: purge");
        let upto = log_id.index();
        let last_purged = encode(KEY_LAST_PURGED, &log_id)?;
        self.io
            .call(|reply| Write::Purge {
                upto,
                last_purged,
                reply,
            })
            .await
    }
}

/// `range` as a half-open `from..to` (`to == None`: unbounded), or `None` when it is empty, so
/// that an empty or inverted range never reaches redb.
fn half_open(range: &impl RangeBounds<u64>) -> Option<(u64, Option<u64>)> {
    let from = match range.start_bound() {
        Bound::Included(&i) => i,
        Bound::Excluded(&i) => i.checked_add(1)?,
        Bound::Unbounded => 0,
    };
    let to = match range.end_bound() {
        Bound::Included(&i) => i.checked_add(1),
        Bound::Excluded(&i) => Some(i),
        Bound::Unbounded => None,
    };
    match to {
        Some(to) if to <= from => None,
        _ => Some((from, to)),
    }
}

/// Entries in `range` (from [`half_open`]), the tail's rows over redb's, and whether redb had
/// to be read for them.
async fn read_entries<C>(
    shared: &Arc<Shared>,
    range: Option<(u64, Option<u64>)>,
) -> io::Result<(Vec<C::Entry>, bool)>
where
    C: RaftTypeConfig,
{
    let Some((from, to)) = range else {
        return Ok((Vec::new(), false));
    };
    // Tail first, redb second (see `tail.rs`). The state machine and replication mostly ask for
    // what was just appended or committed: when the tail holds the whole bounded range, redb is
    // not read at all.
    let pending: BTreeMap<u64, Bytes> = shared.tail().range(from, to).into_iter().collect();
    let covered = to.is_some_and(|to| pending.len() as u64 == to - from);
    let mut entries = BTreeMap::new();
    if !covered {
        for (index, bytes) in read_db(shared, move |db| tables::read_rows(db, from, to)).await? {
            // The tail's row is the latest write of its index; redb's may be older.
            if !pending.contains_key(&index) {
                entries.insert(index, decode_entry::<C>(index, &bytes)?);
            }
        }
    }
    for (index, bytes) in pending {
        entries.insert(index, decode_entry::<C>(index, &bytes)?);
    }
    if let (Some(first), Some(last)) = (entries.keys().next(), entries.keys().next_back())
        && last - first + 1 != entries.len() as u64
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("raft-log: hole in the log between {first} and {last}"),
        ));
    }
    Ok((entries.into_values().collect(), !covered))
}

/// Runs a redb read on the blocking pool: redb is synchronous and a cold read may touch disk.
async fn read_db<T: Send + 'static>(
    shared: &Arc<Shared>,
    read: impl FnOnce(&Database) -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    let shared = shared.clone();
    tokio::task::spawn_blocking(move || shared.with_db(read))
        .await
        .map_err(|e| io::Error::other(format!("raft-log: read task: {e}")))?
}

fn decode_entry<C: RaftTypeConfig>(index: u64, bytes: &[u8]) -> io::Result<EntryOf<C>> {
    let entry = decode::<EntryOf<C>>("log entry", bytes)?;
    if entry.index() != index {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "raft-log: entry stored at index {index} has log id {}",
                entry.log_id()
            ),
        ));
    }
    Ok(entry)
}

fn encode<T: Serialize + ?Sized>(what: &str, value: &T) -> io::Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("raft-log: encode {what}: {e}"),
        )
    })
}

fn decode<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> io::Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("raft-log: decode {what}: {e}"),
        )
    })
}

fn decode_opt<T: DeserializeOwned>(what: &str, bytes: Option<Vec<u8>>) -> io::Result<Option<T>> {
    bytes.map(|bytes| decode(what, &bytes)).transpose()
}

/// Hooks for tests in this module: what is durable, bypassing the tail, and fault injection.
#[cfg(test)]
impl<C: RaftTypeConfig> LogStore<C> {
    fn commits(&self) -> u64 {
        self.shared()
            .commits
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    fn fail_commits(&self, fail: bool) {
        self.shared()
            .fail_commits
            .store(fail, std::sync::atomic::Ordering::SeqCst);
    }

    /// Indexes committed to redb, read straight from the file (not the tail).
    fn durable_indexes(&self) -> io::Result<Vec<u64>> {
        let rows = self.shared().with_db(|db| tables::read_rows(db, 0, None))?;
        Ok(rows.into_iter().map(|(index, _)| index).collect())
    }

    /// While the caller holds this lock, the storage thread waits before its next commit.
    fn commit_gate(&self) -> Arc<std::sync::Mutex<()>> {
        self.shared().gate.clone()
    }

    /// Rows in the tail not yet committed to redb.
    fn pending_rows(&self) -> usize {
        self.shared().tail().pending()
    }
}
