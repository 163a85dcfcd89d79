//! Reads and watches. Default reads are served from this member's store (stale allowed, as
//! etcd's); `quorum=true` reads first pass a read barrier: the leader's read index, applied
//! here.

use std::time::Duration;

use etcd_common::EtcdError;
use etcd_common::StoreStats;
use tokio::time::Instant;

use super::Cluster;
use super::errors;
use crate::raft::forward;
use crate::raft::node::ReadError;
use crate::store::auth::AuthState;
use crate::store::{Event, Watch};
use crate::time::UnixNanos;

const RETRY: Duration = Duration::from_millis(50);

impl Cluster {
    /// A key or directory as this member's store has it.
    pub fn get(
        &self,
        key: &[u8],
        recursive: bool,
        sorted: bool,
        now: UnixNanos,
    ) -> Result<Event, EtcdError> {
        self.shared.store().get(key, recursive, sorted, now)
    }

    /// Register a watcher (the store's hub has its own lock: this never waits for an apply).
    pub fn watch(
        &self,
        key: &[u8],
        recursive: bool,
        stream: bool,
        wait_index: u64,
    ) -> Result<Watch, EtcdError> {
        self.shared
            .store()
            .watch(key, recursive, stream, wait_index)
    }

    pub fn unwatch(&self, id: u64) {
        self.shared.store().unwatch(id);
    }

    /// Users, roles and the auth switch as this member has applied them.
    pub fn auth(&self) -> std::sync::Arc<AuthState> {
        self.shared.store().auth()
    }

    pub fn store_stats(&self) -> StoreStats {
        self.shared.store().stats()
    }

    /// The raft index of the last applied entry (X-Raft-Index).
    pub fn raft_index(&self) -> u64 {
        self.shared.applied_index()
    }

    pub fn raft_term(&self) -> u64 {
        self.node.role_and_term().1
    }

    /// Make the next local read linearizable: confirm leadership through a quorum (or ask the
    /// leader for its read index) and wait until this member has applied up to it. Without a
    /// quorum etcd keeps trying until its request timeout; so do we.
    pub async fn linearize(&self) -> Result<(), EtcdError> {
        let deadline = Instant::now() + self.request_timeout;
        let work = async {
            loop {
                let index = match self.node.read_index().await {
                    Ok(i) => Some(i),
                    Err(ReadError::NotLeader(Some(l))) if l.id != self.member_id => {
                        let term = self.raft_term();
                        let remaining = deadline.saturating_duration_since(Instant::now());
                        // A read is safe to ask again, of whoever leads once this one is gone.
                        tokio::select! {
                            index = forward::read_index(&self.peers, &l, remaining) => index.ok(),
                            () = self.node.left(l.id, term) => None,
                        }
                    }
                    Err(_) => None,
                };
                if let Some(index) = index {
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    return if self.node.wait_applied(index, remaining).await {
                        Ok(())
                    } else {
                        Err(errors::timed_out())
                    };
                }
                tokio::time::sleep(RETRY).await;
            }
        };
        tokio::time::timeout_at(deadline, work)
            .await
            .unwrap_or_else(|_| Err(errors::timed_out()))
    }
}
