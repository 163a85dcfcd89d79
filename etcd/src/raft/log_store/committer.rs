//! The storage thread's committer: applies one group of writes in one redb transaction,
//! answers them, and retries a failed commit until the disk takes it (see `io_thread.rs`).

use std::io;
use std::sync::Arc;
use std::sync::PoisonError;
use std::sync::atomic::Ordering;

use redb::Durability;

use super::health::Retry;
use super::io_thread::{Shared, Write, closed, lock};
use super::tables;
use super::tables::Writer;

/// How often the committed log id rides along with a commit. Writing it touches the meta
/// table's pages besides the log's (nine 4 KiB pages a commit instead of about six, measured
/// with strace: each one more request the fsync waits for). A stale committed id costs nothing
/// but time at restart: recovery waits for the cluster's commit to cover the local log anyway
/// (`wait_for_recovery`), and a clean close writes the latest one.
const COMMITTED_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// The first failed commit, replayed to every later write.
struct Failure {
    kind: io::ErrorKind,
    message: String,
}

impl Failure {
    fn to_error(&self) -> io::Error {
        io::Error::new(
            self.kind,
            format!("raft-log: store failed earlier: {}", self.message),
        )
    }
}

pub(super) struct Committer {
    shared: Arc<Shared>,
    /// When a committed id last reached the file. A saved id (`Shared::committed`) is written
    /// by a durable commit with other work, never by a commit of its own, which would double
    /// the fsyncs per client write.
    committed_stored: Option<std::time::Instant>,
    failed: Option<Failure>,
}

impl Committer {
    pub(super) fn new(shared: Arc<Shared>) -> Committer {
        Committer {
            shared,
            committed_stored: None,
            failed: None,
        }
    }

    /// Applies `group` in one transaction, then answers every write in it, in order.
    pub(super) fn commit(&mut self, group: Vec<Write>) {
        if let Some(failure) = &self.failed {
            answer(group, &Err(failure.to_error()));
            return;
        }
        #[cfg(test)]
        let gate = self.shared.gate.clone();
        #[cfg(test)]
        let _held = lock(&gate);
        let result = self.write_until_done(&group);
        match &result {
            Ok(()) => self.committed(&group),
            Err(e) => {
                tracing::error!(error = %e, "raft-log: commit abandoned at close; every later write fails");
                self.failed = Some(Failure {
                    kind: e.kind(),
                    message: e.to_string(),
                });
            }
        }
        let purged = result.is_ok() && group.iter().any(|w| matches!(w, Write::Purge { .. }));
        answer(group, &result);
        if purged {
            self.compact();
        }
    }

    /// Gives the space a purge freed back to the file system: redb reuses freed pages but never
    /// shrinks the file, which would otherwise stay as large as the longest log between two
    /// snapshots. Purges come once per snapshot and leave a short log, so this is quick; readers
    /// wait on the lock meanwhile (compaction needs no live transaction). A failure only costs
    /// space: an I/O error surfaces, and is retried, at the next commit.
    fn compact(&self) {
        let mut guard = self
            .shared
            .db
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(db) = guard.as_mut() else { return };
        let started = std::time::Instant::now();
        match db.compact() {
            Ok(_) => tracing::debug!(took = ?started.elapsed(), "raft-log: compacted after purge"),
            Err(e) => tracing::warn!(error = %e, "raft-log: compaction after purge failed"),
        }
    }

    /// Commits `group`; while the disk refuses it, marks the disk faulty, reopens the file and
    /// tries the same group again with backoff. Gives up only when the store is closing.
    fn write_until_done(&mut self, group: &[Write]) -> io::Result<()> {
        if let Some(stall) = &self.shared.stall {
            stall.maybe_stall();
        }
        let shared = self.shared.clone();
        let mut retry = Retry::new(&shared.closing);
        loop {
            let error = match self.write(group) {
                Ok(()) => {
                    self.shared.health.clear();
                    return Ok(());
                }
                Err(e) => e,
            };
            self.shared.health.set_fault(&error.to_string());
            if !retry.wait("raft-log: commit", &error) {
                return Err(error);
            }
            if let Err(e) = self.reopen() {
                tracing::debug!(error = %e, "raft-log: reopen after a failed commit");
            }
        }
    }

    /// Replaces the database with a fresh open of the file: after an I/O error redb fails every
    /// later operation, and only a reopen (which repairs from the last durable commit) clears it.
    /// Readers wait on the lock meanwhile rather than see a closed store.
    fn reopen(&self) -> io::Result<()> {
        let mut guard = self
            .shared
            .db
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        // Dropped first: redb locks the file, so the old handle must let go of it.
        drop(guard.take());
        *guard = Some(tables::open_db(&self.shared.path)?);
        Ok(())
    }

    /// The saved committed id, if this commit of `group` should write it: it is not in the
    /// file yet, it is due (an empty group, the shutdown's, always writes it), and every append
    /// queued before it was saved is durable or in `group`.
    fn committed_to_write(&self, group: &[Write]) -> Option<Vec<u8>> {
        let due = group.is_empty()
            || self
                .committed_stored
                .is_none_or(|at| at.elapsed() >= COMMITTED_EVERY);
        if !due {
            return None;
        }
        let in_group = group.iter().rev().find_map(|w| match w {
            Write::Append { seq, .. } => Some(*seq),
            _ => None,
        });
        let durable_below = self.shared.tail().durable_below();
        let covered = |seq: u64| seq < durable_below || in_group.is_some_and(|last| seq <= last);
        let committed = lock(&self.shared.committed);
        committed
            .as_ref()
            .filter(|c| !c.stored && c.after_append.is_none_or(covered))
            .map(|c| c.value.clone())
    }

    /// Marks `value` as in the file, unless a newer id was saved meanwhile.
    fn committed_written(&mut self, value: &[u8]) {
        let mut committed = lock(&self.shared.committed);
        if let Some(c) = committed.as_mut().filter(|c| c.value == value) {
            c.stored = true;
        }
        self.committed_stored = Some(std::time::Instant::now());
    }

    /// One transaction holding the saved committed id (when due) and every write of `group`,
    /// in order. On any error the transaction is dropped, which aborts it: nothing of it
    /// reaches the file (and the committed id waits for the next attempt).
    fn write(&mut self, group: &[Write]) -> io::Result<()> {
        let committed = self.committed_to_write(group);
        if group.is_empty() && committed.is_none() {
            return Ok(());
        }
        let shared = self.shared.clone();
        let guard = shared.db.read().unwrap_or_else(PoisonError::into_inner);
        let db = guard.as_ref().ok_or_else(closed)?;
        let mut tx = db.begin_write().map_err(tables::db_err("begin write"))?;
        tx.set_durability(Durability::Immediate)
            .map_err(tables::db_err("set durability"))?;
        {
            let mut w = Writer::new(&tx)?;
            if let Some(value) = &committed {
                w.put_meta(tables::KEY_COMMITTED, value)?;
            }
            for write in group {
                match write {
                    Write::Append { rows, .. } => {
                        for (index, bytes) in rows {
                            w.insert(*index, bytes)?;
                        }
                    }
                    Write::SaveVote { value, .. } => w.put_meta(tables::KEY_VOTE, value)?,
                    Write::TruncateFrom { from, .. } => w.truncate_from(*from)?,
                    Write::Purge {
                        upto, last_purged, ..
                    } => w.purge_upto(*upto, last_purged)?,
                }
            }
        }
        #[cfg(test)]
        if self.shared.fail_commits.load(Ordering::SeqCst) {
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "injected: no space left on device",
            ));
        }
        tx.commit().map_err(tables::db_err("commit"))?;
        if let Some(value) = &committed {
            self.committed_written(value);
        }
        Ok(())
    }

    /// Bookkeeping after a successful commit, before anyone is answered: the tail learns that
    /// the appended rows are committed and drops what the truncations and purges removed; the
    /// vote cache takes the now durable vote.
    ///
    /// Applying the truncations and purges after the group's appends is exact: both are awaited
    /// by their caller, so no append can queue behind one inside the same group.
    fn committed(&self, group: &[Write]) {
        #[cfg(test)]
        self.shared.commits.fetch_add(1, Ordering::SeqCst);
        let mut tail = self.shared.tail();
        let mut last_append = None;
        for write in group {
            match write {
                Write::Append { seq, .. } => last_append = Some(*seq),
                Write::TruncateFrom { from, .. } => tail.truncate_from(*from),
                Write::Purge { upto, .. } => tail.purge_upto(*upto),
                Write::SaveVote { value, .. } => *lock(&self.shared.vote) = Some(value.clone()),
            }
        }
        if let Some(seq) = last_append {
            tail.durable_through(seq);
        }
    }

    /// Makes a saved committed id durable (a clean shutdown keeps the commit index), then
    /// closes the file, reporting the close error that a plain drop would ignore.
    pub(super) fn shutdown(&mut self) -> io::Result<()> {
        // One attempt only: a disk that is still failing must not hold up the shutdown.
        let flushed = if self.failed.is_none() {
            self.write(&[])
        } else {
            Ok(())
        };
        self.shared.open.store(false, Ordering::Release);
        let db = self
            .shared
            .db
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let closed = db.map_or(Ok(()), |db| db.close().map_err(tables::db_err("close")));
        flushed.and(closed)
    }
}

/// Sends every write of a group its copy of the group's result (`io::Error` is not `Clone`).
fn answer(group: Vec<Write>, result: &io::Result<()>) {
    let copy = || match result {
        Ok(()) => Ok(()),
        Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
    };
    for write in group {
        match write {
            Write::Append { flushed, .. } => flushed(copy()),
            Write::SaveVote { reply, .. }
            | Write::TruncateFrom { reply, .. }
            | Write::Purge { reply, .. } => {
                let _ = reply.send(copy());
            }
        }
    }
}
