//! Writes: replicate a command and answer with the event applying it produced. On a follower
//! the leader proposes it for us, and we answer once we have applied it too, so a client that
//! reads back from the member it wrote to sees its write.

use std::time::Duration;

use etcd_common::EtcdError;
use tokio::time::Instant;

use super::Cluster;
use super::errors;
use crate::raft::forward::{self, ForwardError};
use crate::raft::node::{Applied, Leader, Role, WriteError};
use crate::store::{Command, Event};

/// A write that was committed and applied.
pub struct Written {
    pub event: Event,
    /// The raft index of the entry (X-Raft-Index).
    pub raft_index: u64,
}

/// How long to wait before asking again while no leader is known (an election).
const RETRY: Duration = Duration::from_millis(50);

impl Cluster {
    /// Replicate and apply one command; on a follower the leader proposes it for us.
    pub async fn propose(&self, cmd: Command) -> Result<Written, EtcdError> {
        // A member that cannot make its log durable refuses at once, rather than time out.
        if let Some(cause) = self.disk_fault() {
            return Err(errors::disk_failed(&cause));
        }
        let deadline = Instant::now() + self.request_timeout + size_allowance(&cmd);
        tokio::time::timeout_at(deadline, self.propose_until(cmd, deadline))
            .await
            .unwrap_or_else(|_| Err(errors::timed_out()))
    }

    /// Why this member's disk refuses durable writes right now (full, failing), if it does.
    pub fn disk_fault(&self) -> Option<String> {
        self.shared.disk_fault()
    }

    async fn propose_until(&self, cmd: Command, deadline: Instant) -> Result<Written, EtcdError> {
        // On the leader the command is moved into raft, not copied; should leadership move in
        // the instant between, the client hears "leader changed", as from etcd. A leader that
        // has not heard from a quorum lately (raft refuses its proposals until it does: a
        // follower busy with a huge entry answers late) takes the retrying path below instead.
        if self.is_leader() {
            return match self.node.write(cmd).await {
                Ok(a) => written(a),
                Err(WriteError::NotLeader(_)) => Err(errors::leader_changed()),
                Err(e) => Err(errors::write_failed(&e)),
            };
        }
        loop {
            // A follower that knows its leader forwards at once: asking raft first would cost a
            // trip through its core, and a copy of the command, only to hear "not the leader".
            let (leader, term) = match self.known_leader() {
                Some(l) => l,
                None => match self.node.write(cmd.clone()).await {
                    Ok(a) => return written(a),
                    Err(WriteError::NotLeader(Some(l))) if l.id != self.member_id => {
                        (l, self.raft_term())
                    }
                    // An election is under way: ask again until the deadline.
                    Err(WriteError::NotLeader(_)) => {
                        tokio::time::sleep(RETRY).await;
                        continue;
                    }
                    Err(e) => return Err(errors::write_failed(&e)),
                },
            };
            let remaining = deadline.saturating_duration_since(Instant::now());
            // Once the leader is gone with the write in flight, whether it happened is unknown
            // (it may have reached a follower that then elected a leader holding it): etcd's
            // answer for that, as soon as we know, rather than silence until the deadline.
            let answer = tokio::select! {
                answer = forward::propose(&self.peers, &leader, &cmd, remaining) => answer,
                () = self.leader_left(leader.id, term) => return Err(errors::leader_failed()),
            };
            match answer {
                Ok(a) => {
                    let w = written(a)?;
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    if !self.node.wait_applied(w.raft_index, remaining).await {
                        return Err(errors::timed_out());
                    }
                    return Ok(w);
                }
                // It certainly did not happen: try again, on whoever leads now.
                Err(ForwardError::NotSent(_) | ForwardError::Write(WriteError::NotLeader(_))) => {
                    tokio::time::sleep(RETRY).await;
                }
                Err(e) => return Err(errors::forward_failed(&e)),
            }
        }
    }
}

impl Cluster {
    /// Resolves a moment after this member stopped following `leader` in `term`; the moment
    /// lets an answer the old leader already sent (it stepped down with the write committed)
    /// arrive.
    pub(super) async fn leader_left(&self, leader: u64, term: u64) {
        self.node.left(leader, term).await;
        tokio::time::sleep(self.election_timeout / 4).await;
    }

    /// The leader this follower knows of, with its peer URL, and the term it leads; `None`
    /// while there is none, or when this member leads after all.
    fn known_leader(&self) -> Option<(Leader, u64)> {
        let s = self.node.status();
        let id = s.leader.filter(|&l| l != self.member_id)?;
        if s.role == Role::Leader {
            return None;
        }
        let peer_url = s.members.get(&id)?.peer_urls.first().cloned()?;
        Some((
            Leader {
                id,
                peer_url: Some(peer_url),
            },
            s.term,
        ))
    }
}

fn written(a: Applied) -> Result<Written, EtcdError> {
    match a.result.into_result()? {
        Some(event) => Ok(Written {
            event,
            raft_index: a.raft_index,
        }),
        None => Err(errors::no_event()),
    }
}

/// Extra time for a large write (two milliseconds a KiB, 2 s a MiB): replicating megabytes to
/// every member takes longer than etcd's request timeout was sized for. A release build moves
/// a MiB through three members in about 0.15 s; the headroom is for unoptimised builds and
/// busy machines, where a 9 MiB write through a follower took over 9 s.
fn size_allowance(cmd: &Command) -> Duration {
    Duration::from_millis((cmd.op.payload_len() >> 9) as u64)
}
