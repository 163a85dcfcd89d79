//! openraft type configuration and the aliases the rest of `raft/` uses.
//!
//! The replicated payload is the store's [`Command`]; the apply result is [`ApplyResult`]. A
//! member's raft node record is [`MemberInfo`] (name and URLs), keyed by etcd's 64-bit member id.

use serde::{Deserialize, Serialize};

use crate::store::{Command, Event};
use etcd_common::{ErrorCode, EtcdError};

/// A cluster member as raft's membership config carries it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInfo {
    /// Empty until the member has started and published its name (etcd shows "" for members
    /// added with `member add` that have not started yet).
    pub name: String,
    pub peer_urls: Vec<String>,
    pub client_urls: Vec<String>,
}

/// What applying one command produced, carried back to the proposer (possibly over the wire
/// from the leader, hence serde).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApplyResult {
    Event(Box<Event>),
    Error {
        code: u16,
        cause: String,
        index: u64,
    },
    /// Blank, membership and expiry entries answer nobody.
    Nothing,
}

impl ApplyResult {
    pub fn from_result(r: Result<Option<std::sync::Arc<Event>>, EtcdError>) -> ApplyResult {
        match r {
            Ok(Some(e)) => ApplyResult::Event(Box::new((*e).clone())),
            Ok(None) => ApplyResult::Nothing,
            Err(e) => ApplyResult::Error {
                code: e.code.code(),
                cause: e.cause,
                index: e.index,
            },
        }
    }

    pub fn into_result(self) -> Result<Option<Event>, EtcdError> {
        match self {
            ApplyResult::Event(e) => Ok(Some(*e)),
            ApplyResult::Nothing => Ok(None),
            ApplyResult::Error { code, cause, index } => Err(EtcdError::new(
                ErrorCode::from_code(code).unwrap_or(ErrorCode::RaftInternal),
                cause,
                index,
            )),
        }
    }
}

impl std::fmt::Display for ApplyResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApplyResult::Event(e) => write!(f, "{} {}", e.action, e.node.key),
            ApplyResult::Error { code, cause, .. } => write!(f, "error {code} ({cause})"),
            ApplyResult::Nothing => write!(f, "-"),
        }
    }
}

/// A snapshot file, open (see `snapshot_file/`): snapshots are never in memory whole.
pub type SnapshotData = super::snapshot_file::SnapshotData;

openraft::declare_raft_types!(
    pub TypeConfig:
        D = Command,
        R = ApplyResult,
        NodeId = u64,
        Node = MemberInfo,
);

pub type Raft = openraft::Raft<TypeConfig, super::state_machine::StateMachine>;

pub type LogId = openraft::alias::LogIdOf<TypeConfig>;
pub type Vote = <TypeConfig as openraft::RaftTypeConfig>::Vote;
pub type Entry = <TypeConfig as openraft::RaftTypeConfig>::Entry;
pub type StoredMembership = openraft::alias::StoredMembershipOf<TypeConfig>;
pub type SnapshotMeta = openraft::alias::SnapshotMetaOf<TypeConfig>;
pub type Snapshot = openraft::alias::SnapshotOf<TypeConfig, SnapshotData>;
pub type EntryResponder = openraft::storage::EntryResponder<TypeConfig>;
pub type RaftError<E = openraft::errors::Infallible> = openraft::errors::RaftError<TypeConfig, E>;
pub type RpcError<E = openraft::errors::Infallible> = openraft::errors::RPCError<TypeConfig, E>;
pub type ClientWriteError = openraft::errors::ClientWriteError<TypeConfig>;
pub type LinearizableReadError = openraft::errors::LinearizableReadError<TypeConfig>;
pub type ForwardToLeader = openraft::errors::ForwardToLeader<TypeConfig>;
pub type StreamingError = openraft::errors::StreamingError<TypeConfig>;
pub type VoteRequest = openraft::raft::VoteRequest<TypeConfig>;
pub type VoteResponse = openraft::raft::VoteResponse<TypeConfig>;
pub type AppendEntriesRequest = openraft::raft::AppendEntriesRequest<TypeConfig>;
pub type AppendEntriesResponse = openraft::raft::AppendEntriesResponse<TypeConfig>;
pub type StreamAppendResult = openraft::raft::StreamAppendResult<TypeConfig>;
pub type SnapshotResponse = openraft::raft::SnapshotResponse<TypeConfig>;
pub type TransferLeaderRequest = openraft::raft::TransferLeaderRequest<TypeConfig>;
pub type TransferLeaderResponse = openraft::raft::TransferLeaderResponse<TypeConfig>;
