//! Applies committed commands to the v2 store; builds, persists and installs snapshots.
//!
//! The store lives in memory (as etcd's own v2 store does); durability comes from the raft log
//! plus the latest snapshot, which is kept in the `snapshot` file (`snapshot_file/`). A
//! restart loads that snapshot and openraft re-applies the log tail up to the saved commit
//! index. This is the only caller of [`Store::apply`].
//!
//! Snapshots reach openraft as open files ([`SnapshotData`]), never as bytes in memory: a
//! snapshot is decoded into a new tree as its file is read, on a blocking thread and without
//! the store's lock, and swapped in at the end.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use futures::{Stream, TryStreamExt};
use openraft::storage::RaftStateMachine;
use openraft::{EntryPayload, OptionalSend, RaftSnapshotBuilder};

use super::log_store::DiskHealth;
use super::snapshot_file::SnapshotFile;
use super::snapshot_write::Staged;
use super::types::{
    ApplyResult, EntryResponder, LogId, MemberInfo, Snapshot, SnapshotData, SnapshotMeta,
    StoredMembership, TypeConfig,
};
use crate::store::{Restored, Store};

/// Indexes etcd itself spends per member it records in its v2 tree (`raftAttributes` create
/// and `attributes` set) and once for the cluster version; mirrored so that a fresh member's
/// first user write gets the same etcd index as on real etcd.
const INTERNAL_WRITES_PER_MEMBER: u64 = 2;
const INTERNAL_WRITES_FOR_VERSION: u64 = 1;

/// State shared between the state machine (writer) and the HTTP face (readers).
pub struct Shared {
    store: RwLock<Store>,
    applied_index: AtomicU64,
    /// `applied_index` for waiters, sent once the entries' writers have their answers and
    /// before the entries' watchers are woken.
    applied: tokio::sync::watch::Sender<u64>,
    members: RwLock<BTreeMap<u64, MemberInfo>>,
    /// Bumped whenever `members` is replaced.
    members_version: tokio::sync::watch::Sender<u64>,
    disk: Arc<DiskHealth>,
    file: Arc<SnapshotFile>,
}

impl Shared {
    fn new(disk: Arc<DiskHealth>, file: Arc<SnapshotFile>) -> Shared {
        Shared {
            store: RwLock::new(Store::new()),
            applied_index: AtomicU64::new(0),
            applied: tokio::sync::watch::Sender::new(0),
            members: RwLock::new(BTreeMap::new()),
            members_version: tokio::sync::watch::Sender::new(0),
            disk,
            file,
        }
    }

    /// Where snapshots are kept, and received (the peer API streams one into it).
    pub fn snapshot_file(&self) -> Arc<SnapshotFile> {
        self.file.clone()
    }

    /// Why this member cannot make writes durable right now (a full or failing disk), or
    /// `None`; while it is `Some`, writes are refused and the member reports itself unhealthy.
    pub fn disk_fault(&self) -> Option<String> {
        self.disk.fault()
    }

    /// Read access to the store. A poisoned lock means a panic mid-apply; the data is still the
    /// last consistent state the panicking writer left, so reads continue.
    pub fn store(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn store_mut(&self) -> RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The raft index of the last applied entry (X-Raft-Index).
    pub fn applied_index(&self) -> u64 {
        self.applied_index.load(Ordering::Acquire)
    }

    /// Resolves once `index` is applied here; `false` after `timeout` (or at shutdown).
    pub async fn wait_applied(&self, index: u64, timeout: std::time::Duration) -> bool {
        if self.applied_index() >= index {
            return true;
        }
        let mut applied = self.applied.subscribe();
        let reached = tokio::time::timeout(timeout, applied.wait_for(|&i| i >= index)).await;
        matches!(reached, Ok(Ok(_)))
    }

    /// Members as of the last applied membership config.
    /// A member's current first peer URL (it changes with `PUT /v2/members/<id>`).
    pub fn peer_url(&self, id: u64) -> Option<String> {
        self.members
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .and_then(|m| m.peer_urls.first().cloned())
    }

    /// Changes whenever the applied configuration does.
    pub fn watch_members(&self) -> tokio::sync::watch::Receiver<u64> {
        self.members_version.subscribe()
    }

    pub fn members(&self) -> BTreeMap<u64, MemberInfo> {
        self.members
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

pub struct StateMachine {
    shared: Arc<Shared>,
    last_applied: Option<LogId>,
    last_membership: StoredMembership,
    file: Arc<SnapshotFile>,
}

impl Drop for StateMachine {
    /// Raft has stopped: a snapshot write still retrying on a faulty disk may give up.
    fn drop(&mut self) {
        self.file.closing.store(true, Ordering::Release);
    }
}

impl StateMachine {
    /// Load the latest snapshot in `dir` into a fresh store; `disk` hears of failed writes.
    ///
    /// A snapshot that cannot be read or does not decode is an error naming the file: starting
    /// on an empty store instead would silently lose everything the purged log held.
    pub async fn open(dir: &Path, disk: Arc<DiskHealth>) -> io::Result<StateMachine> {
        let file = Arc::new(SnapshotFile::new(dir, disk.clone()));
        let mut sm = StateMachine {
            shared: Arc::new(Shared::new(disk, file.clone())),
            last_applied: None,
            last_membership: StoredMembership::default(),
            file: file.clone(),
        };
        let loaded = blocking(move || {
            file.clean()?;
            file.migrate_legacy()?;
            file.load(|r| Store::decode_snapshot(r))
        })
        .await?;
        if let Some((meta, restored)) = loaded {
            sm.install(&meta, restored);
        }
        Ok(sm)
    }

    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// Swap a decoded snapshot in; the old tree is freed on a blocking thread, off the lock.
    fn install(&mut self, meta: &SnapshotMeta, restored: Restored) {
        let old = self.shared.store_mut().install_snapshot(restored);
        tokio::task::spawn_blocking(move || drop(old));
        self.last_applied = meta.last_log_id;
        self.last_membership = meta.last_membership.clone();
        self.publish_members();
        let index = self.last_applied.map_or(0, |l| l.index);
        self.shared.applied_index.store(index, Ordering::Release);
        self.shared.applied.send_replace(index);
    }

    fn publish_members(&self) {
        let members: BTreeMap<u64, MemberInfo> = self
            .last_membership
            .nodes()
            .map(|(id, n)| (*id, n.clone()))
            .collect();
        *self
            .shared
            .members
            .write()
            .unwrap_or_else(|p| p.into_inner()) = members;
        self.shared.members_version.send_modify(|v| *v += 1);
    }

    fn snapshot_meta(&self) -> SnapshotMeta {
        SnapshotMeta {
            last_log_id: self.last_applied,
            last_membership: self.last_membership.clone(),
        }
    }

    fn builder(&self, meta: SnapshotMeta, staged: io::Result<Staged>) -> SnapshotBuilder {
        SnapshotBuilder {
            meta,
            staged,
            file: self.file.clone(),
        }
    }

    /// Serialise the store into the temporary snapshot file through a buffer, never into
    /// memory whole; `retry` while the disk refuses. Blocking, on this task (see
    /// [`StateMachine::try_create_snapshot_builder`] for why here).
    fn stage(&self, meta: &SnapshotMeta, retry: bool) -> io::Result<Staged> {
        in_place(|| {
            let store = self.shared.store();
            let write = |w: &mut dyn Write| store.write_snapshot(w).map_err(io::Error::from);
            match retry {
                true => self.file.stage_retrying(meta, write),
                false => self.file.stage(meta, write),
            }
        })
    }

    async fn read_snapshot(&self) -> io::Result<Option<Snapshot>> {
        let file = self.file.clone();
        let current = blocking(move || file.current()).await?;
        Ok(current.map(|(meta, snapshot)| Snapshot { meta, snapshot }))
    }
}

/// Run blocking file work off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(io::Error::other)?
}

/// Run `f`, which blocks, on this task. On a multi-threaded runtime the worker's other tasks
/// move to another thread meanwhile; a current-thread runtime (unit tests) just waits.
fn in_place<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// A snapshot captured at a log position, persisted when openraft asks for it to be built.
///
/// The store is serialised into the temporary snapshot file when the builder is made, inside
/// the state machine's task, so the data matches `meta.last_log_id` exactly even though
/// building runs while applies continue. Building checksums that file and puts it in place.
pub struct SnapshotBuilder {
    meta: SnapshotMeta,
    staged: io::Result<Staged>,
    file: Arc<SnapshotFile>,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    type SnapshotData = SnapshotData;

    async fn build_snapshot(&mut self) -> Result<Snapshot, io::Error> {
        // A second build is refused: the staged file is installed once.
        let built = Err(io::Error::other("snapshot: builder already used"));
        let staged = std::mem::replace(&mut self.staged, built)?;
        let file = self.file.clone();
        let snapshot = blocking(move || file.seal(staged)).await?;
        Ok(Snapshot {
            meta: self.meta.clone(),
            snapshot,
        })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotData = SnapshotData;
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), io::Error> {
        Ok((self.last_applied, self.last_membership.clone()))
    }

    /// # Correctness
    /// - Entries are applied in log order under one write lock per batch, so readers never see
    ///   half a batch and the apply path takes the lock once, not once per entry.
    /// - Responders are answered after the lock is released, and before the batch's watchers
    ///   are woken (the store never blocks on them either way).
    async fn apply<Strm>(&mut self, mut entries: Strm) -> Result<(), io::Error>
    where
        Strm: Stream<Item = Result<EntryResponder, io::Error>> + Unpin + OptionalSend,
    {
        let mut batch = Vec::new();
        while let Some(item) = entries.try_next().await? {
            batch.push(item);
        }
        let mut replies = Vec::new();
        let mut membership_changed = false;
        let feed = self.shared.store().feed();
        // Writers first: the batch's watchers are woken once its writers have their answers
        // (when `held` drops), so a write that 10,000 watchers wait on is not acknowledged
        // behind 10,000 woken tasks.
        let held = feed.hold();
        {
            let mut store = self.shared.store_mut();
            for (entry, responder) in batch {
                self.last_applied = Some(entry.log_id);
                let result = match entry.payload {
                    EntryPayload::Blank => ApplyResult::Nothing,
                    EntryPayload::Normal(cmd) => {
                        // A panic here would kill openraft's state-machine worker and leave its
                        // core running without one: every later write would hang. As an error
                        // it stops raft, and the server exits saying why.
                        let applied = std::panic::catch_unwind(AssertUnwindSafe(|| {
                            super::panic_hook::check(&cmd);
                            store.apply(cmd)
                        }));
                        match applied {
                            Ok(result) => ApplyResult::from_result(result),
                            Err(panic) => return Err(apply_panicked(entry.log_id, &panic)),
                        }
                    }
                    EntryPayload::Membership(m) => {
                        let before = self.last_membership.membership();
                        let first = before.nodes().next().is_none();
                        let added = m
                            .nodes()
                            .filter(|(id, _)| before.get_node(id).is_none())
                            .count() as u64;
                        let version = if first {
                            INTERNAL_WRITES_FOR_VERSION
                        } else {
                            0
                        };
                        store.advance_index(added * INTERNAL_WRITES_PER_MEMBER + version);
                        for (id, _) in before.nodes() {
                            if m.get_node(id).is_none() {
                                store.record_removed_member(*id);
                            }
                        }
                        self.last_membership = StoredMembership::new(Some(entry.log_id), m);
                        membership_changed = true;
                        ApplyResult::Nothing
                    }
                };
                tracing::debug!(log_id = %entry.log_id, etcd_index = store.index(), "applied");
                if let Some(r) = responder {
                    replies.push((r, result));
                }
            }
            self.shared
                .applied_index
                .store(self.last_applied.map_or(0, |l| l.index), Ordering::Release);
        }
        if membership_changed {
            self.publish_members();
        }
        for (r, result) in replies {
            r.send(result);
        }
        // A follower's writers wait for the index instead (they forwarded their write).
        self.shared
            .applied
            .send_replace(self.shared.applied_index());
        // Sending an answer only makes its HTTP task runnable; waking the watchers at once would
        // queue a thousand of their tasks ahead of it (tokio moves the oldest half of a full run
        // queue to the global one). One yield lets the writers' responses go out first: with
        // 1,000 watchers the write's own latency went from 5-7 ms to 1.1 ms (etcd-bench --only watch).
        if held.wakes_anyone() {
            tokio::task::yield_now().await;
        }
        Ok(())
    }

    /// # Correctness
    /// - The store is written out here, on the state machine's task: it is the store's only
    ///   writer, so no apply runs meanwhile and the file holds the store at `meta`. Readers go
    ///   on under the read lock.
    /// - One attempt: a disk that refuses it defers this snapshot (openraft tries again after
    ///   `--snapshot-count` more entries) rather than keep every apply waiting on the disk. It
    ///   is not reported as a disk fault: that would refuse the writes whose applies would
    ///   bring the next attempt, and the log store reports a full disk on its own.
    async fn try_create_snapshot_builder(&mut self, force: bool) -> Option<SnapshotBuilder> {
        if force {
            return Some(self.get_snapshot_builder().await);
        }
        let meta = self.snapshot_meta();
        match self.stage(&meta, false) {
            Ok(staged) => Some(self.builder(meta, Ok(staged))),
            Err(e) => {
                tracing::warn!(error = %e, "snapshot: not written now; tried again later");
                None
            }
        }
    }

    /// A snapshot that must be built (openraft asks so at start, when the log is purged and
    /// no snapshot file is found): the write is retried while the disk refuses it, applies
    /// waiting, as nothing runs yet.
    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        let meta = self.snapshot_meta();
        let staged = self.stage(&meta, true);
        self.builder(meta, staged)
    }

    /// # Correctness
    /// - The file is decoded (and verified) before it replaces the snapshot on disk, so the
    ///   member dir never holds a snapshot this member could not start from.
    /// - It is durable in place before the store changes: a crash in between restarts from the
    ///   new snapshot, never from an older one with the log behind it already purged.
    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: SnapshotData,
    ) -> Result<(), io::Error> {
        let file = self.file.clone();
        let started = std::time::Instant::now();
        let bytes = snapshot.len();
        let restored = blocking(move || {
            let restored = file.decode(&snapshot, |r| Store::decode_snapshot(r))?;
            file.install(snapshot)?;
            Ok(restored)
        })
        .await?;
        self.install(meta, restored);
        tracing::info!(
            index = meta.last_log_id.map_or(0, |l| l.index),
            bytes,
            took = ?started.elapsed(),
            "installed a snapshot"
        );
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot>, io::Error> {
        self.read_snapshot().await
    }
}
/// The error a panicking apply becomes (the store may be half changed: raft must stop).
fn apply_panicked(log_id: LogId, panic: &Box<dyn std::any::Any + Send>) -> io::Error {
    let why = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a panic");
    io::Error::other(format!("applying log entry {log_id} panicked: {why}"))
}
