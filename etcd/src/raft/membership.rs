//! Membership changes as etcd's members API offers them, executed on the leader.
//!
//! etcd adds a member as a voter at once; with openraft's joint consensus that would stall a
//! small cluster until the new process is up. So `Add` records the member as a learner and
//! answers immediately (as `etcdctl member add` expects), and the leader promotes learners to
//! voters once they have caught up ([`promote_caught_up_learners`]).

use std::collections::BTreeSet;

use openraft::ChangeMembers;
use openraft::async_runtime::WatchReceiver;
use serde::{Deserialize, Serialize};

use super::types::{MemberInfo, Raft};
use crate::boot::identity;

/// A change requested through `/v2/members` (or a member publishing its own attributes).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum MemberOp {
    Add {
        peer_urls: Vec<String>,
        now_unix: i64,
    },
    Remove {
        id: u64,
    },
    Update {
        id: u64,
        peer_urls: Vec<String>,
    },
    Publish {
        id: u64,
        info: MemberInfo,
    },
}

/// Failures in etcd's members-API terms.
#[derive(Debug, Clone, Serialize, Deserialize, thiserror::Error)]
pub enum MemberOpError {
    /// 404 `No such member: <id>`.
    #[error("No such member: {0}")]
    NotFound(String),
    /// 410 `Member permanently removed: <id>`.
    #[error("Member permanently removed: {0}")]
    Removed(String),
    /// 409, e.g. `etcdserver: peerURL exists`.
    #[error("{0}")]
    Conflict(String),
    /// 403: the cluster policy's `activeSize` is reached (in etcd 0.4's words, error 103).
    #[error("Reached the max number of peers in the cluster")]
    Full,
    /// 500, anything raft reported.
    #[error("{0}")]
    Internal(String),
}

pub async fn execute(
    raft: &Raft,
    token: &str,
    op: MemberOp,
) -> Result<Option<(u64, MemberInfo)>, MemberOpError> {
    let membership = raft
        .metrics()
        .borrow_watched()
        .membership_config
        .membership()
        .clone();
    let internal = |e: String| MemberOpError::Internal(e);
    match op {
        MemberOp::Add {
            peer_urls,
            now_unix,
        } => add(raft, token, &membership, peer_urls, now_unix).await,
        MemberOp::Remove { id } => {
            if membership.get_node(&id).is_none() {
                return Err(MemberOpError::NotFound(format!("{id:x}")));
            }
            let change = if membership.voter_ids().any(|v| v == id) {
                ChangeMembers::RemoveVoters(BTreeSet::from([id]))
            } else {
                ChangeMembers::RemoveNodes(BTreeSet::from([id]))
            };
            raft.change_membership(change, false)
                .await
                .map_err(|e| internal(e.to_string()))?;
            Ok(None)
        }
        MemberOp::Update { id, peer_urls } => {
            let Some(current) = membership.get_node(&id).cloned() else {
                return Err(MemberOpError::NotFound(format!("{id:x}")));
            };
            let taken = membership.nodes().any(|(other, n)| {
                *other != id && n.peer_urls.iter().any(|u| peer_urls.contains(u))
            });
            if taken {
                return Err(MemberOpError::Conflict(
                    "membership: peerURL exists".to_string(),
                ));
            }
            let info = MemberInfo {
                peer_urls,
                ..current
            };
            raft.change_membership(ChangeMembers::SetNodes([(id, info.clone())].into()), true)
                .await
                .map_err(|e| internal(e.to_string()))?;
            Ok(Some((id, info)))
        }
        MemberOp::Publish { id, info } => {
            let Some(current) = membership.get_node(&id) else {
                return Err(MemberOpError::NotFound(format!("{id:x}")));
            };
            // Publishing sets the name and client URLs only, as etcd's does. The peer URLs are
            // the leader's: a member restarted after `member update` moved it may still hold
            // the old ones, and must not move itself back.
            let info = MemberInfo {
                peer_urls: current.peer_urls.clone(),
                ..info
            };
            raft.change_membership(ChangeMembers::SetNodes([(id, info.clone())].into()), true)
                .await
                .map_err(|e| internal(e.to_string()))?;
            Ok(Some((id, info)))
        }
    }
}

/// `member add`: a learner with etcd's member id for these peer URLs at this time.
async fn add(
    raft: &Raft,
    token: &str,
    membership: &openraft::Membership<u64, MemberInfo>,
    peer_urls: Vec<String>,
    now_unix: i64,
) -> Result<Option<(u64, MemberInfo)>, MemberOpError> {
    let taken = membership
        .nodes()
        .any(|(_, n)| n.peer_urls.iter().any(|u| peer_urls.contains(u)));
    if taken {
        return Err(MemberOpError::Conflict(
            "membership: peerURL exists".to_string(),
        ));
    }
    let id = identity::member_id(&peer_urls, token, Some(now_unix));
    let info = MemberInfo {
        name: String::new(),
        peer_urls,
        client_urls: Vec::new(),
    };
    raft.add_learner(id, info.clone(), false)
        .await
        .map_err(|e| MemberOpError::Internal(e.to_string()))?;
    Ok(Some((id, info)))
}

/// On the leader: make voters of learners whose log has caught up to within `slack` entries.
pub async fn promote_caught_up_learners(raft: &Raft, slack: u64) {
    let (learners, last, progress) = {
        let m = raft.metrics();
        let m = m.borrow_watched();
        let learners: Vec<u64> = m.membership_config.membership().learner_ids().collect();
        let last = m.last_log_index.unwrap_or(0);
        let progress = m.replication.clone();
        (learners, last, progress)
    };
    let Some(progress) = progress else { return };
    let ready: BTreeSet<u64> = learners
        .into_iter()
        .filter(|id| {
            progress
                .get(id)
                .and_then(|p| p.as_ref())
                .is_some_and(|matched| matched.index + slack >= last)
        })
        .collect();
    if !ready.is_empty() {
        let _ = raft
            .change_membership(ChangeMembers::AddVoterIds(ready), true)
            .await;
    }
}
