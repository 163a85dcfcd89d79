//! The answers of the peer API calls that are ours rather than raft's: forwarded writes and
//! reads, the member list for a joining member, membership changes.

use serde::{Deserialize, Serialize};

use super::membership::MemberOpError;
use super::types::{ApplyResult, MemberInfo};

/// A write forwarded by a follower: the leader answers with the apply result and the raft
/// index of the entry, so the follower can wait until it has applied it too.
#[derive(Debug, Serialize, Deserialize)]
pub struct ProposeReply {
    pub result: Result<ApplyResult, String>,
    pub raft_index: u64,
}

/// The leader's answer to a follower's linearizable read: apply up to here, then read.
#[derive(Debug, Serialize, Deserialize)]
pub struct ReadIndexReply {
    pub result: Result<u64, String>,
}

/// What a joining member learns from an existing one: who is in the cluster, and its id.
#[derive(Debug, Serialize, Deserialize)]
pub struct ClusterInfo {
    pub cluster_id: u64,
    pub members: Vec<(u64, MemberInfo)>,
}

pub type MemberOpReply = Result<Option<(u64, MemberInfo)>, MemberOpError>;
