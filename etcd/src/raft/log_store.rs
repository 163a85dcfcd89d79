//! The durable raft log: one redb file, `raft-log.redb`, in the node's data dir.
//!
//! Owns the raft log entries (table `raft_log`, index -> JSON entry) and the raft metadata
//! (table `raft_meta`: `vote`, `committed`, `last_purged`, each JSON). It never touches the state
//! machine or snapshots; those live in their own redb file so that log appends and applies never
//! queue behind each other for redb's single writer.
//!
//! All redb I/O runs on one dedicated OS thread (`raft-log-io`). The async trait methods encode
//! their arguments, send a request over a channel and await a oneshot reply. This keeps blocking
//! fsyncs off the tokio workers, and it serialises every write in submission order, which
//! openraft requires ("All write-IO must be serialized", `RaftLogStorage`).

use std::fmt::Debug;
use std::io;
use std::marker::PhantomData;
use std::ops::Bound;
use std::ops::RangeBounds;
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::mpsc;
use std::thread::JoinHandle;

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
use redb::Durability;
use redb::ReadableDatabase;
use redb::ReadableTable;
use redb::TableDefinition;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

/// File name of the log database inside the data dir.
pub const FILE_NAME: &str = "raft-log.redb";

const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("raft_log");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("raft_meta");

const KEY_VOTE: &str = "vote";
const KEY_COMMITTED: &str = "committed";
const KEY_LAST_PURGED: &str = "last_purged";

/// Most append requests folded into one group commit, to bound the transaction size.
const MAX_GROUP_COMMIT: usize = 64;

/// redb-backed [`RaftLogStorage`] for openraft.
///
/// Construct with [`LogStore::open`]. It is a handle to the storage thread; the thread stops and
/// the file is closed by [`LogStore::close`], or when this store and every [`LogReader`] it
/// handed out have been dropped (that last drop blocks for at most the transaction in flight).
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
    _p: PhantomData<C>,
}

impl<C> Clone for LogReader<C>
where
    C: RaftTypeConfig,
{
    fn clone(&self) -> Self {
        Self {
            io: self.io.clone(),
            _p: PhantomData,
        }
    }
}

impl<C> LogStore<C>
where
    C: RaftTypeConfig,
{
    /// Opens (or creates) `dir/raft-log.redb`, creates both tables and compacts the file once.
    ///
    /// Blocking: it waits for the storage thread to open and compact the file (milliseconds for
    /// a log that is purged after snapshots). Call it at startup, or inside `spawn_blocking`.
    pub fn open(dir: &Path) -> io::Result<Self> {
        Ok(Self {
            io: Arc::new(IoThread::spawn(dir)?),
            _p: PhantomData,
        })
    }

    /// Stops the storage thread after every request sent before it, and closes the file,
    /// reporting the close error that a plain drop would ignore.
    ///
    /// Any [`LogReader`] still alive gets "log store is closed" errors afterwards.
    pub async fn close(self) -> io::Result<()> {
        self.io.call(|reply| Request::Close { reply }).await
    }

    async fn put_meta<T: Serialize>(
        &self,
        key: &'static str,
        value: &T,
        durability: Durability,
    ) -> io::Result<()> {
        let value = encode(key, value)?;
        self.io
            .call(|reply| Request::PutMeta {
                key,
                value,
                durability,
                reply,
            })
            .await
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
        self.get_log_reader().await.try_get_log_entries(range).await
    }

    async fn read_vote(&mut self) -> Result<Option<VoteOf<C>>, io::Error> {
        self.get_log_reader().await.read_vote().await
    }
}

impl<C> RaftLogReader<C> for LogReader<C>
where
    C: RaftTypeConfig,
{
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<C::Entry>, io::Error> {
        read_entries::<C, RB>(&self.io, range).await
    }

    async fn read_vote(&mut self) -> Result<Option<VoteOf<C>>, io::Error> {
        get_meta::<VoteOf<C>>(&self.io, KEY_VOTE).await
    }
}

impl<C> RaftLogStorage<C> for LogStore<C>
where
    C: RaftTypeConfig,
{
    type LogReader = LogReader<C>;

    /// `last_log_id` is the last entry present, or `last_purged` when every entry was purged.
    async fn get_log_state(&mut self) -> Result<LogState<C>, io::Error> {
        let (last_entry, last_purged) = self.io.call(|reply| Request::LogState { reply }).await?;

        let last_purged_log_id = last_purged
            .map(|bytes| decode::<LogIdOf<C>>(KEY_LAST_PURGED, &bytes))
            .transpose()?;
        let last_log_id = match last_entry {
            Some((_, bytes)) => Some(decode::<EntryOf<C>>("last log entry", &bytes)?.log_id()),
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
            _p: PhantomData,
        }
    }

    /// # Correctness
    ///
    /// - Durable before returning: one `Durability::Immediate` commit, i.e. one fsync. A vote
    ///   that is lost on power failure would let this node vote twice in one term.
    /// - Ordered after every earlier append/truncate/purge: the storage thread is FIFO.
    async fn save_vote(&mut self, vote: &VoteOf<C>) -> Result<(), io::Error> {
        self.put_meta(KEY_VOTE, vote, Durability::Immediate).await
    }

    /// Unsynced by design (`Durability::None`): it becomes durable with the next append, vote,
    /// truncate or purge. Losing it on a crash only makes the restarted node re-apply less; it
    /// never claims more than was committed.
    async fn save_committed(&mut self, committed: Option<LogIdOf<C>>) -> Result<(), io::Error> {
        self.put_meta(KEY_COMMITTED, &committed, Durability::None)
            .await
    }

    async fn read_committed(&mut self) -> Result<Option<LogIdOf<C>>, io::Error> {
        Ok(get_meta::<Option<LogIdOf<C>>>(&self.io, KEY_COMMITTED)
            .await?
            .flatten())
    }

    /// # Correctness
    ///
    /// - Readable when this returns: the reply is sent only after the redb commit returned.
    /// - Durable when `callback` fires: the commit is `Durability::Immediate` (one fsync for the
    ///   whole batch, and for every other append that was folded into the same group commit),
    ///   and the callback fires only after `commit()` returned `Ok`.
    /// - No holes: the batch is one transaction, so it is either all there or not at all.
    async fn append<I>(&mut self, entries: I, callback: IOFlushed<C>) -> Result<(), io::Error>
    where
        I: IntoIterator<Item = C::Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries = entries
            .into_iter()
            .map(|entry| Ok((entry.index(), encode("log entry", &entry)?)))
            .collect::<io::Result<Vec<_>>>()?;
        let flushed: Flushed = Box::new(move |res| callback.io_completed(res));

        self.io
            .call(|reply| Request::Append {
                entries,
                flushed,
                reply,
            })
            .await
            .map(|_batch_size| ())
    }

    /// Removes every entry after `last_log_id` (all of them for `None`) in one durable
    /// transaction, so no hole can appear.
    async fn truncate_after(&mut self, last_log_id: Option<LogIdOf<C>>) -> Result<(), io::Error> {
        tracing::debug!(?last_log_id, "raft-log: truncate_after");
        let from = match last_log_id {
            Some(log_id) => log_id.index() + 1,
            None => 0,
        };
        self.io
            .call(|reply| Request::TruncateFrom { from, reply })
            .await
    }

    /// # Correctness
    ///
    /// - Atomic: `last_purged` is written and `..=log_id.index` deleted in one transaction, so
    ///   a crash can never leave a hole or a `last_purged` that disagrees with the entries.
    /// - Durable before returning (`Durability::Immediate`); purges are rare (once per snapshot).
    async fn purge(&mut self, log_id: LogIdOf<C>) -> Result<(), io::Error> {
        tracing::debug!(%log_id, "raft-log: purge");
        let upto = log_id.index();
        let last_purged = encode(KEY_LAST_PURGED, &log_id)?;
        self.io
            .call(|reply| Request::Purge {
                upto,
                last_purged,
                reply,
            })
            .await
    }
}

async fn read_entries<C, RB>(io: &IoThread, range: RB) -> io::Result<Vec<C::Entry>>
where
    C: RaftTypeConfig,
    RB: RangeBounds<u64>,
{
    // Normalise to a half-open `from..to` (`to == None` means unbounded) so that an empty or
    // inverted range never reaches redb.
    let from = match range.start_bound() {
        Bound::Included(&i) => i,
        Bound::Excluded(&i) => match i.checked_add(1) {
            Some(i) => i,
            None => return Ok(Vec::new()),
        },
        Bound::Unbounded => 0,
    };
    let to = match range.end_bound() {
        Bound::Included(&i) => i.checked_add(1),
        Bound::Excluded(&i) => Some(i),
        Bound::Unbounded => None,
    };
    if to.is_some_and(|to| to <= from) {
        return Ok(Vec::new());
    }

    let rows = io.call(|reply| Request::Read { from, to, reply }).await?;
    rows.into_iter()
        .map(|(index, bytes)| {
            let entry = decode::<EntryOf<C>>("log entry", &bytes)?;
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
        })
        .collect()
}

async fn get_meta<T: DeserializeOwned>(io: &IoThread, key: &'static str) -> io::Result<Option<T>> {
    let bytes = io.call(|reply| Request::GetMeta { key, reply }).await?;
    bytes.map(|bytes| decode(key, &bytes)).transpose()
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

// ---------------------------------------------------------------------------------------------
// The storage thread. Everything below is synchronous and knows nothing about `C`: requests
// carry encoded bytes, and the append callback is type-erased.

type Reply<T> = oneshot::Sender<io::Result<T>>;

/// `IOFlushed::io_completed`, type-erased so the storage thread need not be generic.
type Flushed = Box<dyn FnOnce(io::Result<()>) + Send>;

/// One encoded log row: (index, JSON entry).
type Row = (u64, Vec<u8>);

enum Request {
    /// Replies with the number of appends committed in the same group commit.
    Append {
        entries: Vec<Row>,
        flushed: Flushed,
        reply: Reply<usize>,
    },
    /// Rows with index in `from..to` (`to == None`: unbounded), ascending.
    Read {
        from: u64,
        to: Option<u64>,
        reply: Reply<Vec<Row>>,
    },
    /// The last row and `last_purged`, read in one snapshot.
    LogState {
        reply: Reply<(Option<Row>, Option<Vec<u8>>)>,
    },
    GetMeta {
        key: &'static str,
        reply: Reply<Option<Vec<u8>>>,
    },
    PutMeta {
        key: &'static str,
        value: Vec<u8>,
        durability: Durability,
        reply: Reply<()>,
    },
    TruncateFrom {
        from: u64,
        reply: Reply<()>,
    },
    Purge {
        upto: u64,
        last_purged: Vec<u8>,
        reply: Reply<()>,
    },
    Close {
        reply: Reply<()>,
    },
}

/// The channel to the storage thread, and the thread itself. Shared by the store and its readers;
/// dropping the last of them stops the thread and waits for it to close the file.
struct IoThread {
    tx: Option<mpsc::Sender<Request>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl IoThread {
    fn spawn(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("raft-log: create data dir {}: {e}", dir.display()),
            )
        })?;
        let path = dir.join(FILE_NAME);

        let (tx, rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("raft-log-io".to_owned())
            .spawn(move || match open_db(&path) {
                Ok(db) => {
                    // The receiver only goes away if `spawn` already returned an error.
                    let _ = ready_tx.send(Ok(()));
                    run(db, rx);
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            })
            .map_err(|e| {
                io::Error::new(e.kind(), format!("raft-log: spawn storage thread: {e}"))
            })?;

        let ready = ready_rx.recv().unwrap_or_else(|_| {
            Err(io::Error::other(
                "raft-log: storage thread died while opening",
            ))
        });
        if let Err(e) = ready {
            let _ = thread.join();
            return Err(e);
        }
        Ok(Self {
            tx: Some(tx),
            thread: Mutex::new(Some(thread)),
        })
    }

    async fn call<T>(&self, request: impl FnOnce(Reply<T>) -> Request) -> io::Result<T> {
        let (reply, rx) = oneshot::channel();
        let tx = self.tx.as_ref().ok_or_else(closed)?;
        tx.send(request(reply)).map_err(|_| closed())?;
        rx.await.map_err(|_| closed())?
    }
}

impl Drop for IoThread {
    fn drop(&mut self) {
        // Disconnecting the channel makes the thread finish the queued requests and close the
        // file. Joining here makes "dropped" mean "file closed", so a node can reopen its data
        // dir right away (redb locks the file). Nobody holds a handle any more, so no caller is
        // waiting on a reply: this blocks for at most the transaction in flight.
        drop(self.tx.take());
        let thread = match self.thread.get_mut() {
            Ok(thread) => thread.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(thread) = thread
            && thread.join().is_err()
        {
            tracing::error!("raft-log: storage thread panicked");
        }
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "raft-log: log store is closed")
}

/// Adds context to any redb error, keeping the `io::ErrorKind` when redb wraps an I/O error.
fn db_err<E: Into<redb::Error>>(what: &'static str) -> impl FnOnce(E) -> io::Error {
    move |e| {
        let e: redb::Error = e.into();
        let kind = match &e {
            redb::Error::Io(io) => io.kind(),
            redb::Error::DatabaseAlreadyOpen => io::ErrorKind::ResourceBusy,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, format!("raft-log.redb: {what}: {e}"))
    }
}

/// redb's page cache for the log. The log is written once and read back only by lagging
/// followers and restarts, so a small cache suffices; redb's default (1 GiB ceiling) only
/// inflates resident memory.
const CACHE_BYTES: usize = 16 << 20;

fn open_db(path: &Path) -> io::Result<Database> {
    let mut db = Database::builder()
        .set_cache_size(CACHE_BYTES)
        .create(path)
        .map_err(db_err("open"))?;

    // Create both tables up front: reading a table that was never created is an error.
    let tx = db.begin_write().map_err(db_err("begin create tables"))?;
    tx.open_table(LOG).map_err(db_err("create raft_log"))?;
    tx.open_table(META).map_err(db_err("create raft_meta"))?;
    tx.commit().map_err(db_err("commit create tables"))?;

    // redb reuses freed pages but never shrinks the file, and purged log prefixes leave a lot
    // of them. Compaction needs no live transaction, which is only guaranteed right here, before
    // the first request. One pass is enough (a purged log is small) and costs milliseconds.
    let compacted = db.compact().map_err(db_err("compact"))?;
    tracing::debug!(path = %path.display(), compacted, "raft-log: opened");
    Ok(db)
}

/// The storage thread's loop. Requests run strictly in arrival order.
fn run(db: Database, rx: mpsc::Receiver<Request>) {
    let mut pending: Option<Request> = None;
    let mut deferred = Deferred::new();
    loop {
        let request = match pending.take() {
            Some(request) => request,
            None => match rx.recv() {
                Ok(request) => request,
                // Every handle is gone.
                Err(mpsc::RecvError) => break,
            },
        };
        match request {
            Request::Append {
                entries,
                flushed,
                reply,
            } => {
                // Group commit: fold the appends that are already queued into one transaction,
                // stopping at the first other request, which runs right after. This is safe
                // because (1) the appends are committed in arrival order inside the one
                // transaction, so a later batch still overwrites an earlier one on the same
                // index, exactly as separate commits would; (2) nothing else ran in between,
                // so FIFO order with votes/truncates/purges is kept; (3) the commit is atomic
                // and `Immediate`, so every folded append becomes readable and durable at the
                // same instant, and each caller is answered only after that.
                let mut group = vec![(entries, flushed, reply)];
                while group.len() < MAX_GROUP_COMMIT {
                    match rx.try_recv() {
                        Ok(Request::Append {
                            entries,
                            flushed,
                            reply,
                        }) => group.push((entries, flushed, reply)),
                        Ok(other) => {
                            pending = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                let result = append_group(
                    &db,
                    &mut deferred,
                    group.iter().map(|(entries, _, _)| entries),
                );
                let size = group.len();
                for (_, flushed, reply) in group {
                    flushed(clone_result(&result));
                    let _ = reply.send(clone_result(&result).map(|()| size));
                }
            }
            Request::Read { from, to, reply } => {
                let _ = reply.send(read_rows(&db, from, to));
            }
            Request::LogState { reply } => {
                let _ = reply.send(log_state(&db));
            }
            Request::GetMeta { key, reply } => {
                let answer = match deferred.get(key) {
                    Some(v) => Ok(Some(v.clone())),
                    None => get_meta_bytes(&db, key),
                };
                let _ = reply.send(answer);
            }
            Request::PutMeta {
                key,
                value,
                durability: Durability::None,
                reply,
            } => {
                deferred.insert(key, value);
                let _ = reply.send(Ok(()));
            }
            Request::PutMeta {
                key,
                value,
                durability,
                reply,
            } => {
                let _ = reply.send(put_meta_bytes(&db, &mut deferred, key, &value, durability));
            }
            Request::TruncateFrom { from, reply } => {
                let _ = reply.send(truncate_from(&db, &mut deferred, from));
            }
            Request::Purge {
                upto,
                last_purged,
                reply,
            } => {
                let _ = reply.send(purge_upto(&db, &mut deferred, upto, &last_purged));
            }
            Request::Close { reply } => {
                let result = flush_deferred(&db, &mut deferred)
                    .and_then(|()| db.close().map_err(db_err("close")));
                let _ = reply.send(result);
                return;
            }
        }
    }
    if let Err(e) = flush_deferred(&db, &mut deferred) {
        tracing::error!(error = %e, "raft-log: flush on drop");
    }
    if let Err(e) = db.close() {
        tracing::error!(error = %e, "raft-log: close on drop");
    }
}

/// Make deferred metadata durable (on close, so a clean shutdown keeps the commit index).
fn flush_deferred(db: &Database, deferred: &mut Deferred) -> io::Result<()> {
    if deferred.is_empty() {
        return Ok(());
    }
    write_txn(db, Durability::Immediate, deferred)?
        .commit()
        .map_err(db_err("flush deferred: commit"))
}

/// `io::Error` is not `Clone`; every member of a group commit gets its own copy.
fn clone_result(result: &io::Result<()>) -> io::Result<()> {
    match result {
        Ok(()) => Ok(()),
        Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
    }
}

/// Metadata written with `Durability::None` (the commit index): instead of a transaction of
/// its own per update — that would double the transactions per client write — it is kept here
/// and folded into the next write transaction, which makes it durable as promised.
type Deferred = std::collections::BTreeMap<&'static str, Vec<u8>>;

fn write_txn(
    db: &Database,
    durability: Durability,
    deferred: &mut Deferred,
) -> io::Result<redb::WriteTransaction> {
    let mut tx = db.begin_write().map_err(db_err("begin write"))?;
    tx.set_durability(durability)
        .map_err(db_err("set durability"))?;
    if !deferred.is_empty() {
        let mut meta = tx
            .open_table(META)
            .map_err(db_err("deferred: open raft_meta"))?;
        for (key, value) in std::mem::take(deferred) {
            meta.insert(key, value.as_slice())
                .map_err(db_err("deferred: insert"))?;
        }
    }
    Ok(tx)
}

fn append_group<'a>(
    db: &Database,
    deferred: &mut Deferred,
    group: impl Iterator<Item = &'a Vec<Row>>,
) -> io::Result<()> {
    let tx = write_txn(db, Durability::Immediate, deferred)?;
    {
        let mut log = tx
            .open_table(LOG)
            .map_err(db_err("append: open raft_log"))?;
        for rows in group {
            for (index, bytes) in rows {
                log.insert(index, bytes.as_slice())
                    .map_err(db_err("append: insert"))?;
            }
        }
    }
    tx.commit().map_err(db_err("append: commit"))
}

fn read_rows(db: &Database, from: u64, to: Option<u64>) -> io::Result<Vec<Row>> {
    let tx = db.begin_read().map_err(db_err("begin read"))?;
    let log = tx.open_table(LOG).map_err(db_err("read: open raft_log"))?;
    let range = match to {
        Some(to) => log.range(from..to),
        None => log.range(from..),
    }
    .map_err(db_err("read: range"))?;
    range
        .map(|row| {
            let (k, v) = row.map_err(db_err("read: next"))?;
            Ok((k.value(), v.value().to_vec()))
        })
        .collect()
}

fn log_state(db: &Database) -> io::Result<(Option<Row>, Option<Vec<u8>>)> {
    let tx = db.begin_read().map_err(db_err("begin read"))?;
    let log = tx
        .open_table(LOG)
        .map_err(db_err("log state: open raft_log"))?;
    let meta = tx
        .open_table(META)
        .map_err(db_err("log state: open raft_meta"))?;
    let last = log
        .last()
        .map_err(db_err("log state: last entry"))?
        .map(|(k, v)| (k.value(), v.value().to_vec()));
    let purged = meta
        .get(KEY_LAST_PURGED)
        .map_err(db_err("log state: last_purged"))?
        .map(|v| v.value().to_vec());
    Ok((last, purged))
}

fn get_meta_bytes(db: &Database, key: &str) -> io::Result<Option<Vec<u8>>> {
    let tx = db.begin_read().map_err(db_err("begin read"))?;
    let meta = tx
        .open_table(META)
        .map_err(db_err("get meta: open raft_meta"))?;
    Ok(meta
        .get(key)
        .map_err(db_err("get meta"))?
        .map(|v| v.value().to_vec()))
}

fn put_meta_bytes(
    db: &Database,
    deferred: &mut Deferred,
    key: &str,
    value: &[u8],
    durability: Durability,
) -> io::Result<()> {
    let tx = write_txn(db, durability, deferred)?;
    {
        let mut meta = tx
            .open_table(META)
            .map_err(db_err("put meta: open raft_meta"))?;
        meta.insert(key, value)
            .map_err(db_err("put meta: insert"))?;
    }
    tx.commit().map_err(db_err("put meta: commit"))
}

fn truncate_from(db: &Database, deferred: &mut Deferred, from: u64) -> io::Result<()> {
    let tx = write_txn(db, Durability::Immediate, deferred)?;
    {
        let mut log = tx
            .open_table(LOG)
            .map_err(db_err("truncate: open raft_log"))?;
        log.retain_in(from.., |_, _| false)
            .map_err(db_err("truncate: delete"))?;
    }
    tx.commit().map_err(db_err("truncate: commit"))
}

fn purge_upto(
    db: &Database,
    deferred: &mut Deferred,
    upto: u64,
    last_purged: &[u8],
) -> io::Result<()> {
    let tx = write_txn(db, Durability::Immediate, deferred)?;
    {
        let mut meta = tx
            .open_table(META)
            .map_err(db_err("purge: open raft_meta"))?;
        meta.insert(KEY_LAST_PURGED, last_purged)
            .map_err(db_err("purge: write last_purged"))?;
        let mut log = tx.open_table(LOG).map_err(db_err("purge: open raft_log"))?;
        log.retain_in(..=upto, |_, _| false)
            .map_err(db_err("purge: delete"))?;
    }
    tx.commit().map_err(db_err("purge: commit"))
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;
    use std::sync::Arc;
    use std::sync::Mutex;

    use futures::Stream;
    use futures::StreamExt;
    use openraft::ErrorSubject;
    use openraft::ErrorVerb;
    use openraft::RaftSnapshotBuilder;
    use openraft::StorageError;
    use openraft::alias::SnapshotMetaOf;
    use openraft::alias::SnapshotOf;
    use openraft::alias::StoredMembershipOf;
    use openraft::storage::EntryResponder;
    use openraft::storage::RaftStateMachine;
    use openraft::testing::log::StoreBuilder;
    use openraft::testing::log::Suite;
    use openraft::type_config::TypeConfigExt;
    use openraft::vote::RaftLeaderIdExt;
    use tempfile::TempDir;

    use super::*;

    openraft::declare_raft_types!(pub TestConfig: D = String, R = String);

    type C = TestConfig;

    /// Minimal in-memory state machine: the suite needs one next to the log store.
    #[derive(Clone, Default)]
    struct MemStateMachine {
        inner: Arc<Mutex<MemState>>,
    }

    #[derive(Default)]
    struct MemState {
        applied: Option<LogIdOf<C>>,
        membership: StoredMembershipOf<C>,
        snapshot: Option<(SnapshotMetaOf<C>, Vec<u8>)>,
    }

    fn poisoned<T>(_: T) -> io::Error {
        io::Error::other("state machine mutex poisoned")
    }

    impl RaftSnapshotBuilder<C> for MemStateMachine {
        type SnapshotData = Cursor<Vec<u8>>;

        async fn build_snapshot(&mut self) -> io::Result<SnapshotOf<C, Cursor<Vec<u8>>>> {
            let mut state = self.inner.lock().map_err(poisoned)?;
            let meta = SnapshotMetaOf::<C> {
                last_log_id: state.applied,
                last_membership: state.membership.clone(),
            };
            let data = serde_json::to_vec(&(state.applied, &state.membership))?;
            state.snapshot = Some((meta.clone(), data.clone()));
            Ok(SnapshotOf::<C, _> {
                meta,
                snapshot: Cursor::new(data),
            })
        }
    }

    impl RaftStateMachine<C> for MemStateMachine {
        type SnapshotData = Cursor<Vec<u8>>;
        type SnapshotBuilder = Self;

        async fn applied_state(
            &mut self,
        ) -> io::Result<(Option<LogIdOf<C>>, StoredMembershipOf<C>)> {
            let state = self.inner.lock().map_err(poisoned)?;
            Ok((state.applied, state.membership.clone()))
        }

        async fn apply<S>(&mut self, mut entries: S) -> io::Result<()>
        where
            S: Stream<Item = io::Result<EntryResponder<C>>> + Unpin + OptionalSend,
        {
            while let Some(item) = entries.next().await {
                let (entry, responder) = item?;
                {
                    let mut state = self.inner.lock().map_err(poisoned)?;
                    state.applied = Some(entry.log_id());
                    if let Some(membership) = entry.get_membership() {
                        state.membership =
                            StoredMembershipOf::<C>::new(Some(entry.log_id()), membership);
                    }
                }
                if let Some(responder) = responder {
                    responder.send(String::new());
                }
            }
            Ok(())
        }

        async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
            self.clone()
        }

        async fn install_snapshot(
            &mut self,
            meta: &SnapshotMetaOf<C>,
            snapshot: Cursor<Vec<u8>>,
        ) -> io::Result<()> {
            let mut state = self.inner.lock().map_err(poisoned)?;
            state.applied = meta.last_log_id;
            state.membership = meta.last_membership.clone();
            state.snapshot = Some((meta.clone(), snapshot.into_inner()));
            Ok(())
        }

        async fn get_current_snapshot(
            &mut self,
        ) -> io::Result<Option<SnapshotOf<C, Cursor<Vec<u8>>>>> {
            let state = self.inner.lock().map_err(poisoned)?;
            Ok(state
                .snapshot
                .clone()
                .map(|(meta, data)| SnapshotOf::<C, _> {
                    meta,
                    snapshot: Cursor::new(data),
                }))
        }
    }

    struct Builder;

    impl StoreBuilder<C, LogStore<C>, MemStateMachine, TempDir> for Builder {
        async fn build(&self) -> Result<(TempDir, LogStore<C>, MemStateMachine), StorageError<C>> {
            let io_err = |e| StorageError::from_io_error(ErrorSubject::Store, ErrorVerb::Write, e);
            let dir = TempDir::new().map_err(io_err)?;
            let store = LogStore::open(dir.path()).map_err(io_err)?;
            Ok((dir, store, MemStateMachine::default()))
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn passes_openraft_storage_suite() -> Result<(), StorageError<C>> {
        Suite::test_all(Builder).await
    }

    fn log_id(term: u64, index: u64) -> LogIdOf<C> {
        LogIdOf::<C>::new(
            openraft::alias::LeaderIdOf::<C>::new_committed(term, 1),
            index,
        )
    }

    fn blank(term: u64, index: u64) -> EntryOf<C> {
        EntryOf::<C>::new_blank(log_id(term, index))
    }

    fn normal(term: u64, index: u64, data: &str) -> EntryOf<C> {
        EntryOf::<C>::new_normal(log_id(term, index), data.to_owned())
    }

    /// Appends and waits for the flush callback, as the raft core does.
    async fn append_flushed(store: &mut LogStore<C>, entries: Vec<EntryOf<C>>) -> io::Result<()> {
        let (tx, rx) = C::oneshot();
        store.append(entries, IOFlushed::signal(tx)).await?;
        rx.await.map_err(|_| io::Error::other("callback dropped"))?
    }

    #[tokio::test]
    async fn reopened_store_keeps_vote_entries_committed_and_last_purged() -> io::Result<()> {
        let dir = TempDir::new()?;
        let vote = openraft::alias::VoteOf::<C>::new(3, 1);
        {
            let mut store = LogStore::<C>::open(dir.path())?;
            append_flushed(
                &mut store,
                (0..=9).map(|i| normal(1, i, &format!("v{i}"))).collect(),
            )
            .await?;
            store.save_vote(&vote).await?;
            store.save_committed(Some(log_id(1, 7))).await?;
            store.purge(log_id(1, 3)).await?;
            // Plain drop: must release the file lock before returning.
        }
        {
            let mut store = LogStore::<C>::open(dir.path())?;
            assert_eq!(store.read_vote().await?, Some(vote));
            assert_eq!(store.read_committed().await?, Some(log_id(1, 7)));
            let state = store.get_log_state().await?;
            assert_eq!(state.last_purged_log_id, Some(log_id(1, 3)));
            assert_eq!(state.last_log_id, Some(log_id(1, 9)));
            let entries = store.try_get_log_entries(..).await?;
            let indexes: Vec<u64> = entries.iter().map(|e| e.index()).collect();
            assert_eq!(indexes, (4..=9).collect::<Vec<_>>());
            assert_eq!(entries[0], normal(1, 4, "v4"));

            // Purge everything: last_log_id falls back to last_purged, across a reopen too.
            store.purge(log_id(1, 9)).await?;
            store.close().await?;
        }
        let mut store = LogStore::<C>::open(dir.path())?;
        let state = store.get_log_state().await?;
        assert_eq!(state.last_purged_log_id, Some(log_id(1, 9)));
        assert_eq!(state.last_log_id, Some(log_id(1, 9)));
        assert!(store.try_get_log_entries(..).await?.is_empty());
        store.close().await
    }

    #[tokio::test]
    async fn reopen_compacts_space_freed_by_purge() -> io::Result<()> {
        let dir = TempDir::new()?;
        let file = dir.path().join(FILE_NAME);
        let mut store = LogStore::<C>::open(dir.path())?;
        let payload = "x".repeat(1024);
        for chunk in 0..20u64 {
            let entries = (chunk * 100..(chunk + 1) * 100).map(|i| normal(1, i, &payload));
            append_flushed(&mut store, entries.collect()).await?;
        }
        store.purge(log_id(1, 1_999)).await?;
        store.close().await?;
        let before = std::fs::metadata(&file)?.len();

        let mut store = LogStore::<C>::open(dir.path())?;
        let after = std::fs::metadata(&file)?.len();
        assert!(
            after < before / 2,
            "compaction at open: {before} -> {after} bytes"
        );
        assert_eq!(
            store.get_log_state().await?.last_log_id,
            Some(log_id(1, 1_999))
        );
        store.close().await
    }

    #[tokio::test]
    async fn range_reads_and_truncate_after() -> io::Result<()> {
        let dir = TempDir::new()?;
        let mut store = LogStore::<C>::open(dir.path())?;
        append_flushed(&mut store, (0..=9).map(|i| blank(1, i)).collect()).await?;

        let idx = |v: Vec<EntryOf<C>>| v.iter().map(|e| e.index()).collect::<Vec<_>>();
        assert_eq!(idx(store.try_get_log_entries(3..5).await?), [3, 4]);
        assert_eq!(idx(store.try_get_log_entries(3..=5).await?), [3, 4, 5]);
        assert_eq!(idx(store.try_get_log_entries(8..).await?), [8, 9]);
        assert_eq!(idx(store.try_get_log_entries(..2).await?), [0, 1]);
        let excluded_start = (Bound::Excluded(7), Bound::Unbounded);
        assert_eq!(
            idx(store.try_get_log_entries(excluded_start).await?),
            [8, 9]
        );
        assert!(store.try_get_log_entries(5..5).await?.is_empty());
        let max = (Bound::Excluded(u64::MAX), Bound::Unbounded);
        assert!(store.try_get_log_entries(max).await?.is_empty());

        store.truncate_after(Some(log_id(1, 6))).await?;
        assert_eq!(store.get_log_state().await?.last_log_id, Some(log_id(1, 6)));
        // Overwrite the tail with a new term, as a follower does after a conflict.
        append_flushed(&mut store, vec![blank(2, 7)]).await?;
        assert_eq!(store.get_log_state().await?.last_log_id, Some(log_id(2, 7)));

        store.truncate_after(None).await?;
        let state = store.get_log_state().await?;
        assert_eq!((state.last_log_id, state.last_purged_log_id), (None, None));
        store.close().await
    }

    #[tokio::test]
    async fn queued_appends_share_one_commit_and_all_callbacks_fire() -> io::Result<()> {
        let dir = TempDir::new()?;
        let mut store = LogStore::<C>::open(dir.path())?;
        let io = store.io.clone();

        // 16 appends queued at once (one poll of `join_all` sends them all before the storage
        // thread has finished even one fsync), so they are folded into one or two commits.
        let mut flushes = Vec::new();
        let calls = (0..16u64).map(|i| {
            let (tx, rx) = std::sync::mpsc::channel();
            flushes.push(rx);
            let entries = vec![(i, encode("test", &blank(1, i)).unwrap())];
            let flushed: Flushed = Box::new(move |res| tx.send(res).unwrap());
            io.call(move |reply| Request::Append {
                entries,
                flushed,
                reply,
            })
        });
        let sizes = futures::future::try_join_all(calls).await?;
        assert!(
            sizes.iter().any(|&n| n > 1),
            "no group commit happened: {sizes:?}"
        );
        for rx in flushes {
            rx.try_recv().unwrap()?;
        }
        assert_eq!(store.try_get_log_entries(..).await?.len(), 16);
        drop(io);
        store.close().await
    }

    #[tokio::test]
    async fn calls_after_close_fail_cleanly() -> io::Result<()> {
        let dir = TempDir::new()?;
        let mut store = LogStore::<C>::open(dir.path())?;
        let mut reader = store.get_log_reader().await;
        store.close().await?;
        let err = reader.read_vote().await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        // The file is closed even though a reader is alive.
        drop(LogStore::<C>::open(dir.path())?);
        Ok(())
    }

    #[test]
    fn second_open_of_same_dir_is_refused() -> io::Result<()> {
        let dir = TempDir::new()?;
        let _first = LogStore::<C>::open(dir.path())?;
        let Err(err) = LogStore::<C>::open(dir.path()) else {
            panic!("second open must fail");
        };
        assert_eq!(err.kind(), io::ErrorKind::ResourceBusy, "{err}");
        Ok(())
    }
}
