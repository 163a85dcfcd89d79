//! openraft's storage conformance suite (`Suite::test_all`) run against [`LogStore`], with the
//! minimal in-memory state machine the suite needs beside a log store.

use std::io;
use std::io::Cursor;
use std::sync::Arc;
use std::sync::Mutex;

use futures::Stream;
use futures::StreamExt;
use openraft::ErrorSubject;
use openraft::ErrorVerb;
use openraft::OptionalSend;
use openraft::RaftSnapshotBuilder;
use openraft::StorageError;
use openraft::alias::LogIdOf;
use openraft::alias::SnapshotMetaOf;
use openraft::alias::SnapshotOf;
use openraft::alias::StoredMembershipOf;
use openraft::entry::RaftEntry;
use openraft::storage::EntryResponder;
use openraft::storage::RaftStateMachine;
use openraft::testing::log::StoreBuilder;
use openraft::testing::log::Suite;
use tempfile::TempDir;

use super::LogStore;

openraft::declare_raft_types!(pub TestConfig: D = String, R = String);

/// The config every test of the log store uses.
pub(super) type C = TestConfig;

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

    async fn applied_state(&mut self) -> io::Result<(Option<LogIdOf<C>>, StoredMembershipOf<C>)> {
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

    async fn get_current_snapshot(&mut self) -> io::Result<Option<SnapshotOf<C, Cursor<Vec<u8>>>>> {
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
