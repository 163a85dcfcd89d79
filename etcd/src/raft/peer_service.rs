//! The server side of the peer API: decode a peer's JSON request, hand it to raft (or to the
//! leader-only helpers), encode the answer. `http/peer.rs` only moves bytes to and from here,
//! so no openraft type leaks into the HTTP layer.

use std::io::Cursor;

use serde::{Deserialize, Serialize};

use super::membership::{self, MemberOp, MemberOpError};
use super::network::paths;
use super::types::{ApplyResult, MemberInfo, Raft, RaftError, Snapshot};
use crate::store::Command;
use openraft::async_runtime::WatchReceiver;

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

pub enum PeerAnswer {
    Ok(Vec<u8>),
    BadRequest(String),
    NotFound,
}

fn encode<T: Serialize>(v: &T) -> PeerAnswer {
    match serde_json::to_vec(v) {
        Ok(b) => PeerAnswer::Ok(b),
        Err(e) => PeerAnswer::BadRequest(e.to_string()),
    }
}

macro_rules! decode {
    ($body:expr) => {
        match serde_json::from_slice($body) {
            Ok(v) => v,
            Err(e) => return PeerAnswer::BadRequest(e.to_string()),
        }
    };
}

pub async fn dispatch(
    raft: &Raft,
    cluster_id: u64,
    token: &str,
    path: &str,
    body: &[u8],
) -> PeerAnswer {
    match path {
        paths::APPEND => encode(&raft.append_entries(decode!(body)).await),
        paths::VOTE => encode(&raft.vote(decode!(body)).await),
        paths::SNAPSHOT => {
            let (vote, meta, data): (_, _, Vec<u8>) = decode!(body);
            let snapshot = Snapshot {
                meta,
                snapshot: Cursor::new(data),
            };
            let res: Result<_, RaftError> = raft
                .install_full_snapshot(vote, snapshot)
                .await
                .map_err(RaftError::Fatal);
            encode(&res)
        }
        paths::TRANSFER_LEADER => {
            let res: Result<_, RaftError> = raft
                .handle_transfer_leader(decode!(body))
                .await
                .map_err(RaftError::Fatal);
            encode(&res)
        }
        paths::PROPOSE => {
            let cmd: Command = decode!(body);
            let reply = match raft.client_write(cmd).await {
                Ok(r) => ProposeReply {
                    result: Ok(r.data),
                    raft_index: r.log_id.index,
                },
                Err(e) => ProposeReply {
                    result: Err(e.to_string()),
                    raft_index: 0,
                },
            };
            encode(&reply)
        }
        paths::READ_INDEX => {
            let result = raft
                .ensure_linearizable(openraft::ReadPolicy::ReadIndex)
                .await
                .map(|r| r.index())
                .map_err(|e| e.to_string());
            encode(&ReadIndexReply { result })
        }
        paths::MEMBERS => {
            let op: MemberOp = decode!(body);
            let reply: MemberOpReply = membership::execute(raft, token, op).await;
            encode(&reply)
        }
        paths::CLUSTER => {
            let members = raft
                .metrics()
                .borrow_watched()
                .membership_config
                .nodes()
                .map(|(id, n)| (*id, n.clone()))
                .collect();
            encode(&ClusterInfo {
                cluster_id,
                members,
            })
        }
        _ => PeerAnswer::NotFound,
    }
}
