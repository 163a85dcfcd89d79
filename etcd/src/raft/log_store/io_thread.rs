//! The storage thread (`raft-log-io`): the one writer of `raft-log.redb`, and group commit (each
//! group is applied and answered by `committer.rs`).
//!
//! Every write (append, vote, truncate, purge) is a [`Write`] on one FIFO channel. The committed
//! log id is not: it waits in [`Shared`] for the next commit that covers the entries it names
//! (see `committer.rs`), so saving it, once per client write, never wakes this thread.
//! The thread takes everything that is queued, applies it in arrival order inside ONE redb
//! transaction and commits it with `Durability::Immediate`: one fsync per batch, however many
//! writes it holds. Only then does it answer: append callbacks fire, awaited writes get their
//! reply. Because `append` returns as soon as its rows are in the in-memory tail, openraft keeps
//! submitting while a commit is on disk, and the next batch collects all of it.
//!
//! Ordering: requests are applied strictly in arrival order, which openraft requires ("All
//! write-IO must be serialized"). A commit that fails (a full disk, an I/O error) is not
//! reported to openraft, which would stop the raft core for good: the thread marks the disk
//! faulty (`health.rs`), reopens the file (redb refuses every operation after an I/O error) and
//! retries the same group with backoff until it commits, then answers it. Only a close gives
//! up: then that write and every later one fail with the error, so nothing queued behind a lost
//! write is ever acknowledged.
//!
//! Reads never come here: they go to the tail and to redb directly (MVCC snapshots run alongside
//! a write transaction), so they never wait behind an fsync.

use std::io;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::MutexGuard;
use std::sync::PoisonError;
use std::sync::RwLock;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::thread::JoinHandle;

use redb::Database;
use tokio::sync::oneshot;

use super::committer::Committer;
use super::health::DiskHealth;
use super::stall::Stall;
use super::tables;
use super::tail::Bytes;
use super::tail::Tail;

/// Most writes folded into one group commit, to bound the transaction size.
const MAX_GROUP: usize = 256;

/// Answer to an awaited write, sent after the commit that contains it.
pub(super) type Reply = oneshot::Sender<io::Result<()>>;

/// `IOFlushed::io_completed`, type-erased so the storage thread need not be generic.
pub(super) type Flushed = Box<dyn FnOnce(io::Result<()>) + Send>;

/// One write, in the form the storage thread applies it.
pub(super) enum Write {
    /// The rows are already in the tail under sequence number `seq`.
    Append {
        seq: u64,
        rows: Vec<(u64, Bytes)>,
        flushed: Flushed,
    },
    SaveVote {
        value: Vec<u8>,
        reply: Reply,
    },
    TruncateFrom {
        from: u64,
        reply: Reply,
    },
    Purge {
        upto: u64,
        last_purged: Vec<u8>,
        reply: Reply,
    },
}

enum Request {
    Write(Write),
    /// Stop after everything sent before, and close the file.
    Close {
        reply: Reply,
    },
}

/// State shared by the store, its readers and the storage thread.
pub(super) struct Shared {
    /// `None` once closed. Readers and the storage thread take the read lock (redb runs read
    /// snapshots alongside the writer); only closing takes the write lock.
    pub(super) db: RwLock<Option<Database>>,
    pub(super) tail: Mutex<Tail>,
    /// The last durable vote, so `read_vote` (twice per replication read) never touches redb.
    pub(super) vote: Mutex<Option<Vec<u8>>>,
    /// The last committed log id saved, durable or not: what `read_committed` answers.
    pub(super) committed: Mutex<Option<Committed>>,
    pub(super) open: AtomicBool,
    /// Set before a close request is sent (or the channel dropped), so that a commit retrying
    /// on a faulty disk gives up instead of holding the shutdown.
    pub(super) closing: AtomicBool,
    pub(super) health: Arc<DiskHealth>,
    /// The file, for reopening it after an I/O error.
    pub(super) path: PathBuf,
    /// Test-only fsync stalls (`ETCD_TEST_FSYNC_STALL_MS`); inert when unset.
    pub(super) stall: Option<Stall>,
    /// Successful redb commits, so tests can see group commit through the public API.
    #[cfg(test)]
    pub(super) commits: std::sync::atomic::AtomicU64,
    /// Makes every commit fail as a full disk would, to test error propagation.
    #[cfg(test)]
    pub(super) fail_commits: AtomicBool,
    /// Held by a test to stall the storage thread before its next commit.
    #[cfg(test)]
    pub(super) gate: Arc<Mutex<()>>,
}

/// A poisoned lock only means another thread panicked; the data under these locks is replaced
/// whole, never left half-updated, so it is safe to go on.
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(super) fn tail(&self) -> MutexGuard<'_, Tail> {
        lock(&self.tail)
    }

    /// Runs a read on the database, or fails with "closed".
    pub(super) fn with_db<T>(
        &self,
        read: impl FnOnce(&Database) -> io::Result<T>,
    ) -> io::Result<T> {
        let guard = self.db.read().unwrap_or_else(PoisonError::into_inner);
        read(guard.as_ref().ok_or_else(closed)?)
    }

    pub(super) fn check_open(&self) -> io::Result<()> {
        if self.open.load(Ordering::Acquire) {
            Ok(())
        } else {
            Err(closed())
        }
    }

    pub(super) fn vote(&self) -> io::Result<Option<Vec<u8>>> {
        self.check_open()?;
        Ok(lock(&self.vote).clone())
    }

    pub(super) fn committed(&self) -> io::Result<Option<Vec<u8>>> {
        self.check_open()?;
        Ok(lock(&self.committed).as_ref().map(|c| c.value.clone()))
    }

    /// Keeps `value` for `read_committed` and for the next commit that covers it. It names
    /// entries openraft has already handed to `append`, so the append queued last is the newest
    /// it can need.
    pub(super) fn set_committed(&self, value: Vec<u8>) {
        let after_append = self.tail().last_seq();
        *lock(&self.committed) = Some(Committed {
            value,
            after_append,
            stored: false,
        });
    }
}

/// A committed log id and whether the file has it yet.
pub(super) struct Committed {
    pub(super) value: Vec<u8>,
    /// Tail sequence number of the last append queued before it was saved: a commit may
    /// write it only once that append is durable too, or the file could name entries it lacks.
    pub(super) after_append: Option<u64>,
    pub(super) stored: bool,
}

pub(super) fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "raft-log: log store is closed")
}

/// The channel to the storage thread, and the thread itself. Shared by the store and its readers;
/// dropping the last of them stops the thread and waits for it to close the file.
pub(super) struct IoThread {
    tx: Option<mpsc::Sender<Request>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    shared: Arc<Shared>,
}

impl IoThread {
    /// Opens (or creates) `dir/raft-log.redb` and starts the thread. Blocking.
    pub(super) fn spawn(dir: &Path, health: Arc<DiskHealth>) -> io::Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("raft-log: create data dir {}: {e}", dir.display()),
            )
        })?;
        let path = dir.join(tables::FILE_NAME);
        let db = tables::open_db(&path)?;
        let vote = tables::get_meta(&db, tables::KEY_VOTE)?;
        let committed = tables::get_meta(&db, tables::KEY_COMMITTED)?;
        let shared = Arc::new(Shared {
            db: RwLock::new(Some(db)),
            tail: Mutex::new(Tail::default()),
            vote: Mutex::new(vote),
            committed: Mutex::new(committed.map(|value| Committed {
                value,
                after_append: None,
                stored: true,
            })),
            open: AtomicBool::new(true),
            closing: AtomicBool::new(false),
            health,
            path,
            stall: Stall::from_env(),
            #[cfg(test)]
            commits: Default::default(),
            #[cfg(test)]
            fail_commits: AtomicBool::new(false),
            #[cfg(test)]
            gate: Default::default(),
        });

        let (tx, rx) = mpsc::channel();
        let for_thread = shared.clone();
        let thread = std::thread::Builder::new()
            .name("raft-log-io".to_owned())
            .spawn(move || run(for_thread, rx))
            .map_err(|e| {
                io::Error::new(e.kind(), format!("raft-log: spawn storage thread: {e}"))
            })?;
        Ok(Self {
            tx: Some(tx),
            thread: Mutex::new(Some(thread)),
            shared,
        })
    }

    pub(super) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Queues a write without waiting for it.
    pub(super) fn send(&self, write: Write) -> io::Result<()> {
        self.request(Request::Write(write))
    }

    /// Queues a write and waits until the commit that contains it returned.
    pub(super) async fn call(&self, write: impl FnOnce(Reply) -> Write) -> io::Result<()> {
        let (reply, rx) = oneshot::channel();
        self.send(write(reply))?;
        rx.await.map_err(|_| closed())?
    }

    /// Stops the thread after every write sent before, and closes the file.
    pub(super) async fn close(&self) -> io::Result<()> {
        self.shared.closing.store(true, Ordering::Release);
        let (reply, rx) = oneshot::channel();
        self.request(Request::Close { reply })?;
        rx.await.map_err(|_| closed())?
    }

    fn request(&self, request: Request) -> io::Result<()> {
        let tx = self.tx.as_ref().ok_or_else(closed)?;
        tx.send(request).map_err(|_| closed())
    }
}

impl Drop for IoThread {
    fn drop(&mut self) {
        // Disconnecting the channel makes the thread finish the queued writes and close the
        // file. Joining here makes "dropped" mean "file closed", so a node can reopen its data
        // dir right away (redb locks the file). Nobody holds a handle any more, so no caller is
        // waiting on a reply: this blocks for at most the commit in flight (a commit retrying
        // on a faulty disk sees `closing` and gives up).
        self.shared.closing.store(true, Ordering::Release);
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

/// The storage thread's loop: one group commit per turn.
fn run(shared: Arc<Shared>, rx: mpsc::Receiver<Request>) {
    let mut committer = Committer::new(shared);
    let close = loop {
        // Every handle gone: finish as a close would, with nobody to tell.
        let Ok(first) = rx.recv() else { break None };
        let (group, close) = drain(first, &rx);
        committer.commit(group);
        if close.is_some() {
            break close;
        }
    };
    let result = committer.shutdown();
    match close {
        Some(reply) => {
            let _ = reply.send(result);
        }
        None => {
            if let Err(e) = result {
                tracing::error!(error = %e, "raft-log: close on drop");
            }
        }
    }
}

/// `first` and every write queued behind it, up to `MAX_GROUP` or a close request.
fn drain(first: Request, rx: &mpsc::Receiver<Request>) -> (Vec<Write>, Option<Reply>) {
    let mut group = Vec::new();
    let mut next = Some(first);
    while let Some(request) = next {
        match request {
            Request::Write(write) => group.push(write),
            Request::Close { reply } => return (group, Some(reply)),
        }
        if group.len() >= MAX_GROUP {
            break;
        }
        next = rx.try_recv().ok();
    }
    (group, None)
}
