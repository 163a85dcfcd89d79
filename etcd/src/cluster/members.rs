//! The cluster as clients see it: who is a member, who leads, and membership changes through
//! `/v2/members` (run on the leader, here or forwarded to it).

use std::time::Duration;

use etcd_common::Member;
use etcd_common::stats::format_member_id;
use tokio::time::Instant;

use super::Cluster;
use crate::raft::forward::{self, ForwardError, MemberOpReply};
use crate::raft::membership::{MemberOp, MemberOpError};
use crate::raft::node::Role;

impl Cluster {
    pub fn is_leader(&self) -> bool {
        self.leader_id() == Some(self.member_id)
    }

    /// The leader as clients should see it. A leader that has not heard from a quorum within
    /// an election timeout counts as none: etcd's leader steps down then (check-quorum), and
    /// clients must not be told a cut-off member still leads.
    pub fn leader_id(&self) -> Option<u64> {
        let s = self.node.leadership();
        let leader = s.leader?;
        if leader == self.member_id {
            if s.role != Role::Leader {
                return None;
            }
            let heard_from_quorum = s.quorum_acked.is_some_and(|t| t < self.election_timeout);
            if s.voters > 1 && !heard_from_quorum {
                return None;
            }
        }
        Some(leader)
    }

    /// Members as of the last applied configuration.
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

    /// Run a members-API change on the leader (here, or forwarded to it).
    pub async fn member_op(&self, op: MemberOp) -> MemberOpReply {
        if let MemberOp::Remove { id } | MemberOp::Update { id, .. } = &op
            && self.shared.store().is_removed_member(*id)
        {
            return Err(MemberOpError::Removed(format!("{id:x}")));
        }
        if matches!(op, MemberOp::Add { .. }) && !self.has_room() {
            return Err(MemberOpError::Full);
        }
        let deadline = Instant::now() + self.request_timeout;
        while Instant::now() < deadline {
            match self.leader_id() {
                Some(l) if l == self.member_id => {
                    let removing = match &op {
                        MemberOp::Remove { id } => Some(*id),
                        _ => None,
                    };
                    let reply = self.node.member_op(&self.token, op).await;
                    // A leader removing itself may see raft stop before the call returns;
                    // once the removal is applied it happened, whatever the call said.
                    if let (Err(MemberOpError::Internal(_)), Some(id)) = (&reply, removing)
                        && self.shared.store().is_removed_member(id)
                    {
                        return Ok(None);
                    }
                    return reply;
                }
                Some(l) => {
                    if let Some(reply) = self.forward_member_op(l, &op, deadline).await {
                        return reply;
                    }
                }
                None => {}
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(MemberOpError::Internal(
            "etcdserver: request timed out".to_string(),
        ))
    }

    /// `None` when the leader could not be asked (worth asking again).
    async fn forward_member_op(
        &self,
        leader: u64,
        op: &MemberOp,
        deadline: Instant,
    ) -> Option<MemberOpReply> {
        let url = self
            .shared
            .members()
            .get(&leader)
            .and_then(|m| m.peer_urls.first().cloned())?;
        let remaining = deadline.saturating_duration_since(Instant::now());
        match forward::member_op(&self.peers, &url, op, remaining).await {
            Ok(reply) => Some(reply),
            Err(ForwardError::NotSent(_)) => None,
            Err(_) => Some(Err(MemberOpError::Internal(
                "etcdserver: request timed out, possibly due to previous leader failure"
                    .to_string(),
            ))),
        }
    }
}
