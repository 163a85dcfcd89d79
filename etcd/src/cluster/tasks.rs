//! What a member does on its own, beside answering requests: propose TTL expiry (leader),
//! publish its name and client URLs, promote caught-up learners (leader), apply the 0.4 cluster
//! policy (leader, `policy.rs`), remember when it became leader and notice its own removal. Each runs as a task whose handle the cluster
//! keeps, so shutdown stops them all.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::Cluster;
use crate::raft::membership::MemberOp;
use crate::raft::node::Role;
use crate::raft::types::MemberInfo;
use crate::time;

/// Start every background task of `cluster`.
pub fn spawn_all(cluster: &Arc<Cluster>) -> Vec<JoinHandle<()>> {
    vec![
        tokio::spawn(cluster.clone().publish_attributes()),
        tokio::spawn(cluster.clone().expire_ticker()),
        tokio::spawn(cluster.clone().track_leadership()),
        tokio::spawn(cluster.clone().promote_learners()),
        tokio::spawn(cluster.clone().enforce_cluster_policy()),
    ]
}

impl Cluster {
    pub(super) fn is_shut_down(&self) -> bool {
        self.node.status().role == Role::Shutdown
    }

    /// On the leader, propose expiry when the earliest TTL deadline has passed (etcd's SYNC).
    async fn expire_ticker(self: Arc<Self>) {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !self.is_shut_down() {
            tick.tick().await;
            if !self.is_leader() {
                continue;
            }
            let now = time::now();
            let due = self.shared.store().next_expiry().is_some_and(|t| t <= now);
            if due {
                self.node.expire(now).await;
            }
        }
    }

    /// Whether our name and client URLs are in the replicated member list.
    pub fn is_published(&self) -> bool {
        self.shared
            .members()
            .get(&self.member_id)
            .is_some_and(|m| m.name == self.name && m.client_urls == self.advertise_client_urls)
    }

    /// Wait until our attributes are published, as etcd does before it serves clients (so no
    /// client ever sees a member list without this member's client URLs).
    pub async fn wait_published(&self) {
        while !self.is_published() && !self.is_shut_down() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Record our name and client URLs in the membership once a leader exists (etcd publishes
    /// its attributes the same way after start).
    async fn publish_attributes(self: Arc<Self>) {
        for attempt in 0u32.. {
            if self.is_shut_down() || self.is_published() {
                return;
            }
            let current = self.shared.members().get(&self.member_id).cloned();
            if let Some(c) = current {
                let info = MemberInfo {
                    name: self.name.clone(),
                    client_urls: self.advertise_client_urls.clone(),
                    peer_urls: c.peer_urls,
                };
                let op = MemberOp::Publish {
                    id: self.member_id,
                    info,
                };
                if self.member_op(op).await.is_ok() {
                    continue;
                }
            }
            let backoff = 50u64.saturating_mul(1 << attempt.min(5));
            tokio::time::sleep(Duration::from_millis(backoff)).await;
        }
    }

    /// On the leader, turn caught-up learners (members added through the API) into voters.
    async fn promote_learners(self: Arc<Self>) {
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        while !self.is_shut_down() {
            tick.tick().await;
            if self.is_leader() {
                self.node.promote_caught_up_learners(64).await;
            }
        }
    }

    /// Remember when this member last became leader (`leaderInfo.startTime`), and notice when
    /// the cluster removed it.
    async fn track_leadership(self: Arc<Self>) {
        let mut rx = self.node.watch_status();
        let mut members = self.shared.watch_members();
        let mut was_leader = false;
        let mut was_member = false;
        loop {
            let s = self.node.status();
            if s.role == Role::Shutdown {
                return;
            }
            // The applied configuration, not raft's effective one: a leader removing itself
            // appends the new configuration before it is committed, and stopping then would
            // leave the change to the others and the client without an answer (etcd stops a
            // removed member when it applies its removal).
            let member = self.shared.members().contains_key(&self.member_id);
            if was_member && !member {
                tracing::warn!("the member has been permanently removed from the cluster");
                self.removed.cancel();
            }
            was_member |= member;
            let is_leader = s.leader.is_some();
            if is_leader && !was_leader {
                self.leader_since
                    .store(time::now() as u64, Ordering::Relaxed);
            }
            was_leader = is_leader;
            tokio::select! {
                alive = self.node.changed(&mut rx) => if !alive { return },
                gone = members.changed() => if gone.is_err() { return },
            }
        }
    }

    /// On a graceful stop, a leader hands leadership to the most caught-up voter first, as
    /// etcd does, so writes pause for a round trip rather than an election timeout.
    pub async fn step_down(&self) {
        if !self.is_leader() {
            return;
        }
        let s = self.node.status();
        let target = s
            .voters
            .iter()
            .copied()
            .filter(|id| *id != self.member_id)
            .max_by_key(|id| s.matched.get(id).copied().flatten());
        let Some(to) = target else { return };
        if !self.node.transfer_leader(to).await {
            return;
        }
        let deadline = Instant::now() + self.election_timeout;
        while Instant::now() < deadline && self.leader_id() == Some(self.member_id) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
