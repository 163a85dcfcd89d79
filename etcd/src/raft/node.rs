//! One member's raft, as the rest of the daemon sees it: start it, propose, read-index,
//! wait, hand leadership over, watch its state. Every openraft type stops here; what crosses
//! this line is ours ([`Status`], [`WriteError`], [`ReadError`]).

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use openraft::async_runtime::WatchReceiver;
use openraft::{Config as RaftConfig, Instant as _, ServerState, SnapshotPolicy};

use super::log_store::{DiskHealth, LogStore};
use super::membership::{self, MemberOp, MemberOpError};
use super::network::{NetworkFactory, PeerClient};
use super::races::{Entry, Races};
use super::state_machine::{Shared, StateMachine};
use super::types::{ApplyResult, ForwardToLeader, MemberInfo, Raft, TypeConfig};
use crate::store::Command;

/// What a member's raft needs to start.
pub struct Settings<'a> {
    pub dir: &'a Path,
    pub member_id: u64,
    pub cluster_id: u64,
    pub heartbeat_ms: u64,
    pub election_ms: u64,
    pub snapshot_count: u64,
    /// `--force-new-cluster`: make this member, with its data, a cluster of one.
    pub force_new_cluster: bool,
}

/// A member's role as etcd names it in `/v2/stats/self`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Leader,
    Candidate,
    Follower,
    Shutdown,
}

/// A point-in-time view of raft's state.
#[derive(Debug, Clone)]
pub struct Status {
    pub role: Role,
    /// Whom raft follows (itself, on the leader).
    pub leader: Option<u64>,
    pub term: u64,
    pub voters: Vec<u64>,
    /// The configuration raft holds (newest, applied or not), voters and learners.
    pub members: BTreeMap<u64, MemberInfo>,
    /// On the leader: how long ago a quorum last acknowledged it.
    pub quorum_acked: Option<Duration>,
    /// On the leader: the last log index each member is known to hold.
    pub matched: BTreeMap<u64, Option<u64>>,
    /// On the leader: how long ago each member last acknowledged a heartbeat or an append
    /// (`None`: not since this member became leader).
    pub acked: BTreeMap<u64, Option<Duration>>,
}

/// Who leads and, on the leader, whether a quorum still hears it: what every write asks, without
/// the copy of the membership a [`Status`] makes.
#[derive(Debug, Clone, Copy)]
pub struct Leadership {
    pub role: Role,
    pub leader: Option<u64>,
    pub voters: usize,
    pub quorum_acked: Option<Duration>,
}

/// The leader a follower should forward to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Leader {
    pub id: u64,
    pub peer_url: Option<String>,
}

/// Why a proposal was not applied here (also the answer a follower gets when it forwarded).
#[derive(Debug, Clone, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum WriteError {
    /// This member does not lead; `leader` is whom it follows, if anyone.
    #[error("not the leader")]
    NotLeader(Option<Leader>),
    /// The entry was appended, then overwritten by a new leader: it may or may not be applied.
    #[error("leader changed")]
    Discarded,
    /// Raft stopped (shutdown or a storage fault).
    #[error("{0}")]
    Fatal(String),
}

/// Why a read barrier could not be passed here.
#[derive(Debug, Clone, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum ReadError {
    /// Ask the leader for its read index instead.
    #[error("not the leader")]
    NotLeader(Option<Leader>),
    /// Leadership could not be confirmed (no quorum yet); worth retrying.
    #[error("{0}")]
    NoQuorum(String),
}

/// A committed and applied entry: what applying it produced and its raft index.
pub struct Applied {
    pub result: ApplyResult,
    pub raft_index: u64,
}

/// The raft of this member.
#[derive(Clone)]
pub struct RaftNode {
    raft: Raft,
    /// The applied tree, for compares settled without the log.
    shared: Arc<Shared>,
    races: Arc<Races>,
}

fn role_of(state: ServerState) -> Role {
    match state {
        ServerState::Leader => Role::Leader,
        ServerState::Candidate => Role::Candidate,
        ServerState::Shutdown => Role::Shutdown,
        _ => Role::Follower,
    }
}

fn leader_of(f: Option<&ForwardToLeader>) -> Option<Leader> {
    let f = f?;
    Some(Leader {
        id: f.leader_id?,
        peer_url: f
            .leader_node
            .as_ref()
            .and_then(|n| n.peer_urls.first().cloned()),
    })
}

/// openraft's timers for etcd's `--heartbeat-interval` h and `--election-timeout` E.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Timers {
    min: u64,
    max: u64,
    probe: u64,
}

impl Timers {
    /// A follower campaigns once its leader's lease (`max`, also the leader's CheckQuorum lease
    /// and the time a voter refuses to vote for anyone else) has expired AND a timer drawn from
    /// `[min, max)` has run on top of it: `[max + min, 2 max)` after the last heartbeat. etcd's
    /// follower campaigns `[E, 2E)` after it; the first of two followers (what failover waits
    /// for) at about 1.33 E on average. With `max = 3E/4` and `min = E/4` ours campaigns in
    /// `[E, 1.5E)` — never sooner than etcd's (so no more eager under load), the first of two
    /// at about 1.17 E. (`[E/2, E)` on top of a lease of E made it `[1.5E, 2E)`: 1.68 s against
    /// etcd's 1.27 s in the bench.) `min` stays above the heartbeat, as openraft requires.
    ///
    /// `probe` is openraft's CheckQuorum: a leader that has had no quorum acknowledgement for
    /// its lease stops heartbeating for `probe`, so followers that still hear it (a leader that
    /// can send but not receive) let their leases run out and elect; etcd's leader steps down
    /// instead. Its last heartbeat left by the end of its lease, so the followers campaign at
    /// most 2 max later; one more `max` leaves room for the pre-vote and vote rounds, so the
    /// old leader's next heartbeat does not reach a follower still waiting for its timer.
    fn derive(heartbeat_ms: u64, election_ms: u64) -> Timers {
        let min = (election_ms / 4).max(heartbeat_ms + 1);
        let max = election_ms.saturating_sub(min).max(min + 1);
        Timers {
            min,
            max,
            probe: 3 * max,
        }
    }
}

/// The log and the state machine in `dir`, sharing one record of the disk's health.
pub(super) async fn open_stores(dir: &Path) -> io::Result<(LogStore<TypeConfig>, StateMachine)> {
    let disk = Arc::new(DiskHealth::default());
    let log_dir = dir.to_path_buf();
    let log_disk = disk.clone();
    let log =
        tokio::task::spawn_blocking(move || LogStore::<TypeConfig>::open_with(&log_dir, log_disk))
            .await
            .map_err(io::Error::other)??;
    let sm = StateMachine::open(dir, disk).await?;
    Ok((log, sm))
}

impl RaftNode {
    /// Open the log and the state machine in `dir` and start raft; a brand-new member of a new
    /// cluster passes `bootstrap` (the initial members), once.
    pub async fn start(
        s: Settings<'_>,
        peers: PeerClient,
        bootstrap: Option<BTreeMap<u64, MemberInfo>>,
    ) -> io::Result<(RaftNode, Arc<Shared>)> {
        let timers = Timers::derive(s.heartbeat_ms, s.election_ms);
        let config = RaftConfig {
            cluster_name: format!("{:x}", s.cluster_id),
            heartbeat_interval: s.heartbeat_ms,
            election_timeout_min: timers.min,
            election_timeout_max: timers.max,
            quorum_loss_probe_interval: Some(timers.probe),
            enable_pre_vote: Some(true),
            // A leader sends entries to its followers before its own fsync returns, so after a
            // kill -9 it may hold fewer entries than it handed out. Resuming leadership of the
            // same term would reuse those log ids for new entries, and a follower holding the
            // old ones sees the same ids and keeps them: two logs, one committed index. A
            // restarted leader therefore stands for election like any member (as in etcd).
            enable_leader_restore: Some(false),
            snapshot_policy: SnapshotPolicy::LogsSinceLast(s.snapshot_count),
            max_in_snapshot_log_to_keep: s.snapshot_count.min(1000),
            install_snapshot_timeout: 10_000,
            ..Default::default()
        }
        .validate()
        .map_err(io::Error::other)?;
        let (mut log_store, mut sm) = open_stores(s.dir).await?;
        if s.force_new_cluster {
            super::force_new::rewrite(&mut log_store, &mut sm, s.member_id).await?;
        }
        let shared = sm.shared();
        let network = NetworkFactory::new(peers, shared.clone());
        let raft = Raft::new(s.member_id, Arc::new(config), network, log_store, sm)
            .await
            .map_err(io::Error::other)?;
        // `initialize` must run exactly once; it is retried on restart until the log shows it
        // happened, so a crash in between cannot leave a member that never elects.
        let initialized = raft.is_initialized().await.map_err(io::Error::other)?;
        if let (false, Some(members)) = (initialized, bootstrap) {
            raft.initialize(members).await.map_err(io::Error::other)?;
        }
        let node = RaftNode {
            raft,
            shared: shared.clone(),
            races: Arc::default(),
        };
        Ok((node, shared))
    }

    /// The openraft handle, for the peer router (inside `raft/` only).
    pub(super) fn raw(&self) -> &Raft {
        &self.raft
    }

    pub async fn shutdown(&self) {
        let _ = self.raft.shutdown().await;
    }

    pub fn status(&self) -> Status {
        let m = self.raft.metrics();
        let m = m.borrow_watched();
        let role = role_of(m.state);
        let membership = m.membership_config.membership();
        Status {
            role,
            leader: m.current_leader,
            term: m.current_term,
            voters: membership.voter_ids().collect(),
            members: membership.nodes().map(|(id, n)| (*id, n.clone())).collect(),
            quorum_acked: m.last_quorum_acked.as_ref().map(|t| t.elapsed()),
            matched: m
                .replication
                .as_ref()
                .map(|r| {
                    r.iter()
                        .map(|(id, l)| (*id, l.as_ref().map(|l| l.index)))
                        .collect()
                })
                .unwrap_or_default(),
            acked: m
                .heartbeat
                .as_ref()
                .map(|h| {
                    h.iter()
                        .map(|(id, t)| (*id, t.as_ref().map(|t| t.elapsed())))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// Role and term alone: every client request needs them, and [`RaftNode::status`] copies
    /// the whole membership.
    pub fn role_and_term(&self) -> (Role, u64) {
        let m = self.raft.metrics();
        let m = m.borrow_watched();
        (role_of(m.state), m.current_term)
    }

    pub fn leadership(&self) -> Leadership {
        let m = self.raft.metrics();
        let m = m.borrow_watched();
        Leadership {
            role: role_of(m.state),
            leader: m.current_leader,
            voters: m.membership_config.membership().voter_ids().count(),
            quorum_acked: m.last_quorum_acked.as_ref().map(|t| t.elapsed()),
        }
    }

    /// Resolves once this member no longer follows `leader` in `term`: it heard of a newer
    /// term, stood for election, lost its leader, or raft stopped. A request forwarded to
    /// `leader` waits on this beside the answer, so a leader that went silent (black-holed,
    /// partitioned) costs the client an election timeout, not the whole request timeout.
    pub async fn left(&self, leader: u64, term: u64) {
        let mut rx = self.raft.server_metrics();
        loop {
            {
                let m = rx.borrow_watched();
                if m.vote.leader_id.term != term || m.current_leader != Some(leader) {
                    return;
                }
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
    }

    /// Resolves when raft's state may have changed; `false` once raft has stopped.
    pub async fn changed(&self, rx: &mut StatusWatch) -> bool {
        rx.0.changed().await.is_ok()
    }

    /// Resolves, with the reason, once raft's core has stopped on its own (a panic, a storage
    /// error); never during normal operation.
    pub async fn stopped(&self) -> String {
        // The core drops its metrics senders when it ends, and only then: waiting on the
        // server metrics wakes for role changes alone, not for every write.
        let mut rx = self.raft.server_metrics();
        while rx.changed().await.is_ok() {}
        match &self.raft.metrics().borrow_watched().running_state {
            Err(fatal) => fatal.to_string(),
            Ok(()) => "raft's core is gone".to_string(),
        }
    }

    pub fn watch_status(&self) -> StatusWatch {
        StatusWatch(self.raft.server_metrics())
    }

    /// Replicate `cmd` and apply it, here, on the leader; a compare that has already lost
    /// its race is answered from the applied tree instead (see `races.rs`).
    pub async fn write(&self, cmd: Command) -> Result<Applied, WriteError> {
        let _flight = match self.races.enter(&cmd, &self.shared).await {
            Entry::Propose(flight) => flight,
            Entry::Settled(e) => {
                return Ok(Applied {
                    result: ApplyResult::from_result(Err(e)),
                    raft_index: self.shared.applied_index(),
                });
            }
        };
        match self.raft.client_write(cmd).await {
            Ok(r) => Ok(Applied {
                result: r.data,
                raft_index: r.log_id.index,
            }),
            Err(e) => {
                if let Some(f) = e.forward_to_leader() {
                    return Err(WriteError::NotLeader(leader_of(Some(f))));
                }
                match e.api_error() {
                    Some(openraft::errors::ClientWriteError::LogEntryDiscarded(_)) => {
                        Err(WriteError::Discarded)
                    }
                    _ => Err(WriteError::Fatal(e.to_string())),
                }
            }
        }
    }

    /// The read index: once this member has applied up to it, a local read is linearizable.
    pub async fn read_index(&self) -> Result<u64, ReadError> {
        match self
            .raft
            .ensure_linearizable(openraft::ReadPolicy::ReadIndex)
            .await
        {
            Ok(r) => Ok(r.index()),
            Err(e) => match e.forward_to_leader() {
                Some(f) => Err(ReadError::NotLeader(leader_of(Some(f)))),
                None => Err(ReadError::NoQuorum(e.to_string())),
            },
        }
    }

    /// Wait until this member has applied `index`; `false` on timeout.
    pub async fn wait_applied(&self, index: u64, timeout: Duration) -> bool {
        self.shared.wait_applied(index, timeout).await
    }

    /// Wait until the state machine has caught up with what was committed before a restart.
    pub async fn wait_recovery(&self, timeout: Duration) {
        let _ = self.raft.wait_for_recovery(Some(timeout)).await;
    }

    /// Ask `to` to take over leadership; `false` if raft refused at once.
    pub async fn transfer_leader(&self, to: u64) -> bool {
        self.raft.trigger().transfer_leader(to).await.is_ok()
    }

    /// Run a members-API change; only the leader can.
    pub async fn member_op(
        &self,
        token: &str,
        op: MemberOp,
    ) -> Result<Option<(u64, MemberInfo)>, MemberOpError> {
        membership::execute(&self.raft, token, op).await
    }

    /// On the leader: make voters of learners within `slack` entries of the log's end.
    pub async fn promote_caught_up_learners(&self, slack: u64) {
        membership::promote_caught_up_learners(&self.raft, slack).await;
    }

    /// Propose TTL expiry at `now` (leader only; a failure is retried on the next tick).
    pub async fn expire(&self, now: crate::time::UnixNanos) {
        let _ = self
            .raft
            .client_write(Command {
                now,
                op: crate::store::Op::Expire,
            })
            .await;
    }
}

/// A subscription to raft's role, leader, term and membership (see [`RaftNode::changed`]).
///
/// openraft's server metrics, not its full metrics: those are sent after every write (log
/// index, applied index), and each would wake every subscriber for nothing.
pub struct StatusWatch(
    openraft::alias::WatchReceiverOf<TypeConfig, openraft::metrics::RaftServerMetrics<TypeConfig>>,
);

#[cfg(test)]
mod tests {
    use super::Timers;

    /// A follower's first campaign falls `[max + min, 2 max)` after the last heartbeat.
    #[test]
    fn followers_campaign_in_one_to_one_and_a_half_election_timeouts() {
        let t = Timers::derive(100, 1000);
        assert_eq!((t.max + t.min, 2 * t.max), (1000, 1500));
        assert!(t.probe >= 2 * t.max, "openraft: probe >= lease + max");
        // etcd's smallest election timeout (5 heartbeats) still keeps min above the heartbeat.
        let t = Timers::derive(100, 500);
        assert!(t.min > 100 && t.min < t.max);
        assert_eq!(t.max + t.min, 500);
        let t = Timers::derive(1, 2);
        assert!(t.min > 1 && t.min < t.max);
    }
}
