//! The one handle the HTTP face talks to: propose writes (forwarding to the leader), read
//! (locally or linearizably), watch, and describe members and raft state. No openraft type
//! crosses this boundary; raft failures become etcd errors here.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use etcd_common::stats::{LeaderInfo, LeaderStats, SelfStats, format_member_id};
use etcd_common::{ErrorCode, EtcdError, Member};
use openraft::Instant as _;
use openraft::async_runtime::WatchReceiver;
use openraft::{Config as RaftConfig, ServerState, SnapshotPolicy};
use tokio::time::Instant;

use crate::config::{ClusterState, Config};
use crate::identity::{self, Identity};
use crate::raft::log_store::LogStore;
use crate::raft::membership::{self, MemberOp, MemberOpError};
use crate::raft::network::{NetworkFactory, PeerClient, PeerError, paths};
use crate::raft::peer_service::{ClusterInfo, MemberOpReply, ProposeReply, ReadIndexReply};
use crate::raft::rpc::PeerService;
use crate::raft::state_machine::{Shared, StateMachine};
use crate::raft::types::{MemberInfo, Raft, TypeConfig};
use crate::store::{Command, Event, Op, Store};
use crate::time::{self, UnixNanos};
use tokio_util::sync::CancellationToken;

/// A write that was committed and applied.
pub struct Written {
    pub event: Event,
    /// The raft index of the entry (X-Raft-Index).
    pub raft_index: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("{0}")]
    Raft(String),
    #[error("{0}")]
    Config(String),
}

pub struct Cluster {
    pub member_id: u64,
    pub cluster_id: u64,
    pub name: String,
    raft: Raft,
    shared: Arc<Shared>,
    peers: PeerClient,
    request_timeout: Duration,
    election_timeout: Duration,
    started_at: UnixNanos,
    leader_since: AtomicU64,
    peer_service: Arc<PeerService>,
    advertise_client_urls: Vec<String>,
    token: String,
    /// Cancelled when this member has been removed from the cluster; the server then exits,
    /// as etcd does.
    pub removed: CancellationToken,
}

fn internal(cause: impl Into<String>) -> EtcdError {
    EtcdError::new(ErrorCode::RaftInternal, cause, 0)
}

fn timed_out() -> EtcdError {
    internal("etcdserver: request timed out")
}

impl Cluster {
    /// Open (or create) the member's data, start raft, and bootstrap a new cluster when the
    /// data dir is empty and the state is `new`.
    pub async fn start(config: &Config) -> Result<Arc<Cluster>, StartError> {
        let dir = identity::member_dir(&config.data_dir);
        std::fs::create_dir_all(&dir)?;
        let existing = identity::load(&dir)?;
        let fresh = existing.is_none();
        let identity = match existing {
            Some(id) => id,
            None if config.initial_cluster_state == ClusterState::Existing => {
                join_existing(config).await?
            }
            None => {
                let mut initial_members: BTreeMap<u64, MemberInfo> = BTreeMap::new();
                for (name, urls) in &config.initial_cluster {
                    let id = identity::member_id(urls, &config.initial_cluster_token, None);
                    initial_members.insert(
                        id,
                        MemberInfo {
                            name: name.clone(),
                            peer_urls: urls.clone(),
                            client_urls: Vec::new(),
                        },
                    );
                }
                let me = identity::member_id(
                    &config.initial_advertise_peer_urls,
                    &config.initial_cluster_token,
                    None,
                );
                let ids: Vec<u64> = initial_members.keys().copied().collect();
                Identity {
                    member_id: me,
                    cluster_id: identity::cluster_id(&ids),
                    name: config.name.clone(),
                    bootstrap: Some(initial_members),
                }
            }
        };

        let raft_config = RaftConfig {
            cluster_name: format!("{:x}", identity.cluster_id),
            heartbeat_interval: config.heartbeat_interval_ms,
            election_timeout_min: config.election_timeout_ms,
            election_timeout_max: config.election_timeout_ms * 2,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(config.snapshot_count),
            max_in_snapshot_log_to_keep: config.snapshot_count.min(1000),
            install_snapshot_timeout: 10_000,
            ..Default::default()
        }
        .validate()
        .map_err(|e| StartError::Config(e.to_string()))?;

        let log_dir = dir.clone();
        let log_store = tokio::task::spawn_blocking(move || LogStore::<TypeConfig>::open(&log_dir))
            .await
            .map_err(io::Error::other)??;
        let sm = StateMachine::open(&dir).await?;
        let shared = sm.shared();
        let election = Duration::from_millis(config.election_timeout_ms);
        let peers = PeerClient::new(identity.cluster_id, identity.member_id, election);
        let raft = Raft::new(
            identity.member_id,
            Arc::new(raft_config),
            NetworkFactory::new(peers.clone(), shared.clone()),
            log_store,
            sm,
        )
        .await
        .map_err(|e| StartError::Raft(e.to_string()))?;

        // The identity is durable before raft is initialised, and initialisation is retried
        // on restart until the log shows it happened, so a crash in between cannot leave a
        // member that never elects (openraft's `initialize` must run exactly once).
        if fresh {
            identity::save(&dir, &identity)?;
        }
        let initialized = raft
            .is_initialized()
            .await
            .map_err(|e| StartError::Raft(e.to_string()))?;
        if let (false, Some(members)) = (initialized, identity.bootstrap.clone()) {
            raft.initialize(members)
                .await
                .map_err(|e| StartError::Raft(e.to_string()))?;
        }

        let peer_service = Arc::new(PeerService {
            raft: raft.clone(),
            member_id: identity.member_id,
            shared: shared.clone(),
            cluster_id: identity.cluster_id,
            token: config.initial_cluster_token.clone(),
            recv_append: AtomicU64::new(0),
        });
        let cluster = Arc::new(Cluster {
            member_id: identity.member_id,
            cluster_id: identity.cluster_id,
            name: identity.name,
            raft,
            shared,
            request_timeout: Duration::from_secs(5) + 2 * election,
            election_timeout: election,
            started_at: time::now(),
            leader_since: AtomicU64::new(0),
            peer_service,
            advertise_client_urls: config.advertise_client_urls.clone(),
            token: config.initial_cluster_token.clone(),
            removed: peers.removed.clone(),
            peers,
        });
        tokio::spawn(cluster.clone().publish_attributes());
        tokio::spawn(cluster.clone().expire_ticker());
        tokio::spawn(cluster.clone().track_leadership());
        tokio::spawn(cluster.clone().promote_learners());
        Ok(cluster)
    }

    /// Stop raft (flushes and closes the log store).
    /// Stop raft (flushes and closes the log store).
    pub async fn shutdown(&self) {
        let _ = self.raft.shutdown().await;
    }

    /// On a graceful stop, a leader hands leadership to the most caught-up voter first, as
    /// etcd does, so writes pause for a round trip rather than an election timeout.
    pub async fn step_down(&self) {
        if !self.is_leader() {
            return;
        }
        let target = {
            let m = self.raft.metrics();
            let m = m.borrow_watched();
            let voters: Vec<u64> = m.membership_config.membership().voter_ids().collect();
            let progress = m.replication.clone().unwrap_or_default();
            voters
                .into_iter()
                .filter(|id| *id != self.member_id)
                .max_by_key(|id| progress.get(id).and_then(|p| p.as_ref().map(|l| l.index)))
        };
        let Some(to) = target else { return };
        if self.raft.trigger().transfer_leader(to).await.is_err() {
            return;
        }
        let deadline = Instant::now() + self.election_timeout;
        while Instant::now() < deadline && self.leader_id() == Some(self.member_id) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Wait until the state machine has caught up with what was committed before a restart, so
    /// that reads never go back in time.
    pub async fn wait_ready(&self, timeout: Duration) {
        let _ = self.raft.wait_for_recovery(Some(timeout)).await;
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

    // ---- reads -------------------------------------------------------------------------

    pub fn store(&self) -> RwLockReadGuard<'_, Store> {
        self.shared.store()
    }

    pub fn store_mut(&self) -> RwLockWriteGuard<'_, Store> {
        self.shared.store_mut()
    }

    pub fn raft_index(&self) -> u64 {
        self.shared.applied_index()
    }

    pub fn raft_term(&self) -> u64 {
        self.raft.metrics().borrow_watched().current_term
    }

    /// Make the next local read linearizable: confirm leadership through a quorum (or ask the
    /// leader for its read index) and wait until this member has applied up to it.
    pub async fn linearize(&self) -> Result<(), EtcdError> {
        let deadline = Instant::now() + self.request_timeout;
        let work = async {
            loop {
                let err = match self
                    .raft
                    .ensure_linearizable(openraft::ReadPolicy::ReadIndex)
                    .await
                {
                    Ok(_) => return Ok(()),
                    Err(e) => e,
                };
                let Some(f) = err.forward_to_leader() else {
                    // No quorum (yet): etcd keeps trying until its request timeout.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let Some(answer) = self
                    .ask_leader::<_, ReadIndexReply>(f, paths::READ_INDEX, &(), deadline)
                    .await
                else {
                    continue;
                };
                let remaining = deadline.saturating_duration_since(Instant::now());
                match answer {
                    Ok(ReadIndexReply { result: Ok(index) }) => {
                        return self.wait_applied(index, remaining).await;
                    }
                    // The leader could not confirm itself, or did not answer: retry until the
                    // deadline, then report the timeout as etcd does.
                    Ok(ReadIndexReply { result: Err(_) }) | Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        };
        tokio::time::timeout_at(deadline, work)
            .await
            .unwrap_or_else(|_| Err(timed_out()))
    }

    /// Send `req` to the leader raft named in `f`. `None` (after a short pause) while no
    /// other leader is known, e.g. during an election: the caller retries until its deadline.
    async fn ask_leader<Req: serde::Serialize, Rep: serde::de::DeserializeOwned>(
        &self,
        f: &crate::raft::types::ForwardToLeader,
        path: &str,
        req: &Req,
        deadline: Instant,
    ) -> Option<Result<Rep, PeerError>> {
        let Some(base) = leader_base(f.leader_id, f.leader_node.as_ref(), self.member_id) else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            return None;
        };
        let remaining = deadline.saturating_duration_since(Instant::now());
        Some(self.peers.call(&base, path, req, remaining).await)
    }

    async fn wait_applied(&self, index: u64, timeout: Duration) -> Result<(), EtcdError> {
        self.raft
            .wait(Some(timeout))
            .applied_index_at_least(Some(index), "read your write")
            .await
            .map(|_| ())
            .map_err(|_| timed_out())
    }

    // ---- writes ------------------------------------------------------------------------

    /// Replicate and apply one command; on a follower the leader proposes it for us.
    pub async fn propose(&self, cmd: Command) -> Result<Written, EtcdError> {
        let deadline = Instant::now() + self.request_timeout + size_allowance(&cmd);
        let work = async {
            loop {
                let err = match self.raft.client_write(cmd.clone()).await {
                    Ok(resp) => return written(Ok(resp.data), resp.log_id.index),
                    Err(e) => e,
                };
                if let Some(openraft::errors::ClientWriteError::LogEntryDiscarded(_)) =
                    err.api_error()
                {
                    return Err(internal("etcdserver: leader changed"));
                }
                let Some(f) = err.forward_to_leader() else {
                    return Err(internal(err.to_string()));
                };
                let Some(answer) = self
                    .ask_leader::<_, ProposeReply>(f, paths::PROPOSE, &cmd, deadline)
                    .await
                else {
                    continue;
                };
                let remaining = deadline.saturating_duration_since(Instant::now());
                match answer {
                    Ok(reply) => {
                        let w = written(
                            reply.result.map_err(|e| internal(e.to_string())),
                            reply.raft_index,
                        )?;
                        // Answer only once this member shows the write, so a client that
                        // reads back from the same member sees it.
                        self.wait_applied(w.raft_index, remaining).await?;
                        return Ok(w);
                    }
                    // The request never reached the leader: safe to retry.
                    Err(PeerError::Unreachable(_)) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    // It may have been applied: never retry, answer as etcd does.
                    Err(PeerError::Other(_)) => {
                        return Err(internal(
                            "etcdserver: request timed out, possibly due to previous leader failure",
                        ));
                    }
                }
            }
        };
        tokio::time::timeout_at(deadline, work)
            .await
            .unwrap_or_else(|_| Err(timed_out()))
    }

    // ---- background tasks --------------------------------------------------------------

    /// On the leader, propose expiry when the earliest TTL deadline has passed (etcd's SYNC).
    async fn expire_ticker(self: Arc<Self>) {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if self.raft.metrics().borrow_watched().state == ServerState::Shutdown {
                return;
            }
            if !self.is_leader() {
                continue;
            }
            let now = time::now();
            let due = self.store().next_expiry().is_some_and(|t| t <= now);
            if due {
                let _ = self
                    .raft
                    .client_write(Command {
                        now,
                        op: Op::Expire,
                    })
                    .await;
            }
        }
    }

    /// Record our name and client URLs in the membership once a leader exists (etcd publishes
    /// its attributes the same way after start).
    async fn publish_attributes(self: Arc<Self>) {
        for attempt in 0u32.. {
            if self.is_shut_down() {
                return;
            }
            if self.is_published() {
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
        loop {
            tick.tick().await;
            if self.is_shut_down() {
                return;
            }
            if self.is_leader() {
                membership::promote_caught_up_learners(&self.raft, 64).await;
            }
        }
    }

    fn is_shut_down(&self) -> bool {
        self.raft.metrics().borrow_watched().state == ServerState::Shutdown
    }

    /// Run a members-API change on the leader (here, or forwarded to it).
    pub async fn member_op(&self, op: MemberOp) -> MemberOpReply {
        if let MemberOp::Remove { id } | MemberOp::Update { id, .. } = &op
            && self.store().is_removed_member(*id)
        {
            return Err(MemberOpError::Removed(format!("{id:x}")));
        }
        let deadline = Instant::now() + self.request_timeout;
        loop {
            if Instant::now() >= deadline {
                return Err(MemberOpError::Internal(
                    "etcdserver: request timed out".to_string(),
                ));
            }
            let leader = self.leader_id();
            match leader {
                Some(l) if l == self.member_id => {
                    return membership::execute(&self.raft, &self.token, op).await;
                }
                Some(l) => {
                    let base = self
                        .shared
                        .members()
                        .get(&l)
                        .and_then(|m| m.peer_urls.first().cloned());
                    if let Some(base) = base {
                        let remaining = deadline.saturating_duration_since(Instant::now());
                        match self
                            .peers
                            .call::<_, MemberOpReply>(&base, paths::MEMBERS, &op, remaining)
                            .await
                        {
                            Ok(reply) => return reply,
                            Err(PeerError::Unreachable(_)) => {}
                            Err(e) => return Err(MemberOpError::Internal(e.to_string())),
                        }
                    }
                }
                None => {}
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Remember when this member last became leader (`leaderInfo.startTime`).
    async fn track_leadership(self: Arc<Self>) {
        let mut rx = self.raft.metrics();
        let mut was_leader = false;
        let mut was_member = false;
        loop {
            let is_leader = {
                let m = rx.borrow_and_update();
                if m.state == ServerState::Shutdown {
                    return;
                }
                let member = m
                    .membership_config
                    .membership()
                    .get_node(&self.member_id)
                    .is_some();
                if was_member && !member {
                    tracing::warn!("the member has been permanently removed from the cluster");
                    self.removed.cancel();
                }
                was_member |= member;
                m.current_leader.is_some()
            };
            if is_leader && !was_leader {
                self.leader_since
                    .store(time::now() as u64, Ordering::Relaxed);
            }
            was_leader = is_leader;
            if rx.changed().await.is_err() {
                return;
            }
        }
    }

    // ---- cluster view ------------------------------------------------------------------

    pub fn is_leader(&self) -> bool {
        self.leader_id() == Some(self.member_id)
    }

    /// The leader as clients should see it. A leader that has not heard from a quorum within
    /// an election timeout counts as none: etcd's leader steps down then (check-quorum), and
    /// clients must not be told a cut-off member still leads.
    pub fn leader_id(&self) -> Option<u64> {
        let m = self.raft.metrics();
        let m = m.borrow_watched();
        let leader = m.current_leader?;
        if leader == self.member_id {
            if m.state != ServerState::Leader {
                return None;
            }
            let voters = m.membership_config.membership().voter_ids().count();
            let heard_from_quorum = m
                .last_quorum_acked
                .as_ref()
                .is_some_and(|t| t.elapsed() < self.election_timeout);
            if voters > 1 && !heard_from_quorum {
                return None;
            }
        }
        Some(leader)
    }

    pub fn members(&self) -> Vec<Member> {
        self.shared
            .members()
            .into_iter()
            .map(|(id, m)| Member {
                id: format_member_id(id),
                name: m.name,
                peer_urls: m.peer_urls,
                client_urls: m.client_urls,
            })
            .collect()
    }

    pub fn self_stats(&self) -> SelfStats {
        let m = self.raft.metrics().borrow_watched().clone();
        let state = match m.state {
            ServerState::Leader => "StateLeader",
            ServerState::Candidate => "StateCandidate",
            _ => "StateFollower",
        };
        let since = self.leader_since.load(Ordering::Relaxed) as i64;
        let now = time::now();
        SelfStats {
            name: self.name.clone(),
            id: format_member_id(self.member_id),
            state: state.to_string(),
            start_time: time::rfc3339_nano(self.started_at),
            leader_info: LeaderInfo {
                leader: m.current_leader.map(format_member_id).unwrap_or_default(),
                uptime: time::go_duration(if since > 0 { now - since } else { 0 }),
                start_time: if since > 0 {
                    time::rfc3339_nano(since)
                } else {
                    "0001-01-01T00:00:00Z".to_string()
                },
            },
            recv_append_request_cnt: self.peer_service.recv_append.load(Ordering::Relaxed),
            recv_pkg_rate: None,
            recv_bandwidth_rate: None,
            send_append_request_cnt: if m.state == ServerState::Leader {
                self.peers.stats.lock().map(|s| s.sent_appends).unwrap_or(0)
            } else {
                0
            },
            send_pkg_rate: None,
            send_bandwidth_rate: None,
        }
    }

    pub fn leader_stats(&self) -> LeaderStats {
        let members = self.shared.members();
        let followers = self
            .peers
            .stats
            .lock()
            .map(|s| {
                s.followers
                    .iter()
                    .filter(|(id, _)| members.contains_key(id) && **id != self.member_id)
                    .map(|(id, f)| {
                        let mut f = f.clone();
                        if f.counts.success == 0 {
                            f.latency.minimum = 0.0;
                        }
                        (format_member_id(*id), f)
                    })
                    .collect()
            })
            .unwrap_or_default();
        LeaderStats {
            leader: format_member_id(self.member_id),
            followers,
        }
    }

    /// The peer API (raft RPCs, forwarding, membership), served on the peer URLs.
    pub fn peer_router(&self) -> axum::Router {
        crate::raft::rpc::router(self.peer_service.clone())
    }
}

/// Extra time for a large write (a millisecond a KiB): replicating megabytes to every member
/// takes longer than etcd's request timeout was sized for.
fn size_allowance(cmd: &Command) -> Duration {
    let bytes = match &cmd.op {
        Op::Set { value, .. }
        | Op::Create { value, .. }
        | Op::Update { value, .. }
        | Op::CompareAndSwap { value, .. } => value.len(),
        _ => 0,
    };
    Duration::from_millis((bytes >> 10) as u64)
}

fn written(
    result: Result<crate::raft::types::ApplyResult, EtcdError>,
    raft_index: u64,
) -> Result<Written, EtcdError> {
    match result?.into_result()? {
        Some(event) => Ok(Written { event, raft_index }),
        None => Err(internal("received response with no Event/Watcher")),
    }
}

/// The leader's peer URL, if we know a leader other than ourselves.
fn leader_base(id: Option<u64>, node: Option<&MemberInfo>, me: u64) -> Option<String> {
    match (id, node) {
        (Some(id), Some(n)) if id != me => n.peer_urls.first().cloned(),
        _ => None,
    }
}

/// A member started with `--initial-cluster-state existing` learns its id (assigned by
/// `member add`) and the cluster id from the other members listed in `--initial-cluster`.
async fn join_existing(config: &Config) -> Result<Identity, StartError> {
    let mine: std::collections::BTreeSet<&String> =
        config.initial_advertise_peer_urls.iter().collect();
    let others: Vec<&String> = config
        .initial_cluster
        .values()
        .flatten()
        .filter(|u| !mine.contains(u))
        .collect();
    let client = PeerClient::joining(&config.initial_advertise_peer_urls);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last_error = String::from("no other members in --initial-cluster");
    let mut not_listed = 0;
    while Instant::now() < deadline {
        for base in &others {
            match client
                .call::<_, ClusterInfo>(base, paths::CLUSTER, &(), Duration::from_secs(2))
                .await
            {
                Ok(info) => {
                    let found = info.members.iter().find(|(_, m)| {
                        let theirs: std::collections::BTreeSet<&String> =
                            m.peer_urls.iter().collect();
                        theirs == mine
                    });
                    match found {
                        Some((id, _)) => {
                            return Ok(Identity {
                                member_id: *id,
                                cluster_id: info.cluster_id,
                                name: config.name.clone(),
                                bootstrap: None,
                            });
                        }
                        None => {
                            // The cluster answered and does not know us: etcd refuses such a
                            // member at once. A short grace covers a `member add` still
                            // committing when we started.
                            not_listed += 1;
                            if not_listed >= 10 {
                                return Err(StartError::Config(format!(
                                    "cannot join the existing cluster: member with peer URLs {} has not been added to the cluster (use `etcdctl member add` first)",
                                    config.initial_advertise_peer_urls.join(",")
                                )));
                            }
                            last_error = format!(
                                "member with peer URLs {} has not been added to the cluster (use `etcdctl member add` first)",
                                config.initial_advertise_peer_urls.join(",")
                            )
                        }
                    }
                }
                Err(e) => last_error = format!("cannot reach {base}: {e}"),
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(StartError::Config(format!(
        "cannot join the existing cluster: {last_error}"
    )))
}

pub fn data_dir_exists(dir: &Path) -> bool {
    identity::member_dir(dir).join("identity.json").exists()
}
