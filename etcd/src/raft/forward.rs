//! Asking the leader to do what only it can: propose a write, confirm a read index, change
//! membership. The wire answers carry our typed errors, so a follower knows whether a write
//! certainly did not happen (retry it on the new leader) or may have (tell the client, as
//! etcd does, that the outcome is unknown).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::membership::{MemberOp, MemberOpError};
use super::network::forwarder::Call;
use super::network::{PeerClient, PeerError, paths};
use super::node::{Applied, Leader, ReadError, WriteError};
use super::types::{ApplyResult, MemberInfo};
use crate::store::Command;

/// A write forwarded by a follower: the leader answers with the apply result and the raft
/// index of the entry, so the follower can wait until it has applied it too.
#[derive(Debug, Serialize, Deserialize)]
pub struct ProposeReply {
    pub result: Result<ApplyResult, WriteError>,
    pub raft_index: u64,
}

/// The leader's answer to a follower's linearizable read: apply up to here, then read.
#[derive(Debug, Serialize, Deserialize)]
pub struct ReadIndexReply {
    pub result: Result<u64, ReadError>,
}

/// What a joining member learns from an existing one: who is in the cluster, and its id.
#[derive(Debug, Serialize, Deserialize)]
pub struct ClusterInfo {
    pub cluster_id: u64,
    pub members: Vec<(u64, MemberInfo)>,
}

pub type MemberOpReply = Result<Option<(u64, MemberInfo)>, MemberOpError>;

/// Why a forwarded request did not come back with an answer from the leader's raft.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// It never reached the leader's raft (no connection, or the peer refused it before
    /// looking at it): safe to send again.
    #[error("not sent: {0}")]
    NotSent(String),
    /// Sent, but no answer came back: it may or may not have been carried out.
    #[error("no answer: {0}")]
    NoAnswer(String),
    /// The leader's raft answered with an error.
    #[error("{0}")]
    Write(WriteError),
    #[error("{0}")]
    Read(ReadError),
}

impl From<PeerError> for ForwardError {
    fn from(e: PeerError) -> ForwardError {
        match e {
            PeerError::Unreachable(m) | PeerError::Refused(m) => ForwardError::NotSent(m),
            PeerError::Other(m) => ForwardError::NoAnswer(m),
        }
    }
}

fn leader_url(leader: &Leader) -> Result<&str, ForwardError> {
    leader
        .peer_url
        .as_deref()
        .ok_or_else(|| ForwardError::NotSent(format!("no peer URL for leader {:x}", leader.id)))
}

/// Propose `cmd` on `leader`.
pub async fn propose(
    client: &PeerClient,
    leader: &Leader,
    cmd: &Command,
    timeout: Duration,
) -> Result<Applied, ForwardError> {
    let reply: ProposeReply = client
        .forward(leader_url(leader)?, Call::Propose, cmd, timeout)
        .await?;
    match reply.result {
        Ok(result) => Ok(Applied {
            result,
            raft_index: reply.raft_index,
        }),
        Err(e) => Err(ForwardError::Write(e)),
    }
}

/// The leader's read index.
pub async fn read_index(
    client: &PeerClient,
    leader: &Leader,
    timeout: Duration,
) -> Result<u64, ForwardError> {
    let reply: ReadIndexReply = client
        .forward(leader_url(leader)?, Call::ReadIndex, &(), timeout)
        .await?;
    reply.result.map_err(ForwardError::Read)
}

/// Run a members-API change on the leader at `peer_url`.
pub async fn member_op(
    client: &PeerClient,
    peer_url: &str,
    op: &MemberOp,
    timeout: Duration,
) -> Result<MemberOpReply, ForwardError> {
    Ok(client.call(peer_url, paths::MEMBERS, op, timeout).await?)
}

/// Ask the members at `peer_urls` who is in the cluster (a member joining with
/// `--initial-cluster-state existing`).
pub async fn cluster_info(
    client: &PeerClient,
    peer_url: &str,
    timeout: Duration,
) -> Result<ClusterInfo, PeerError> {
    client.call(peer_url, paths::CLUSTER, &(), timeout).await
}
