//! openraft's view of a peer: one [`PeerConnection`] per replication stream, heartbeat worker
//! or vote, all sharing the peer's [`Link`] (its connections, backoff and reachability).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openraft::OptionalSend;
use openraft::errors::{NetworkError, ReplicationClosed, Unreachable};
use openraft::network::v2::RaftNetworkV2;
use openraft::network::{RPCOption, RaftNetworkFactory};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::link::{Lane, Link, SendError};
use super::{PeerClient, paths, snapshot};
use crate::raft::state_machine::Shared;
use crate::raft::types::{
    AppendEntriesRequest, AppendEntriesResponse, Entry, LogId, MemberInfo, RaftError, RpcError,
    Snapshot, SnapshotData, SnapshotResponse, StreamingError, TransferLeaderRequest,
    TransferLeaderResponse, TypeConfig, Vote, VoteRequest, VoteResponse,
};

/// A batch of entries larger than this is sent in parts (the follower acknowledges a prefix),
/// so no request nears the peer API's body limit and none takes long on a slow link.
const APPEND_BATCH_BYTES: usize = 16 << 20;

/// Requests larger than this are encoded on a blocking thread.
const ENCODE_INLINE: usize = 64 << 10;

/// Builds one [`PeerConnection`] per target for openraft's replication streams.
pub struct NetworkFactory {
    client: PeerClient,
    shared: Arc<Shared>,
}

impl NetworkFactory {
    pub fn new(client: PeerClient, shared: Arc<Shared>) -> NetworkFactory {
        NetworkFactory { client, shared }
    }
}

impl RaftNetworkFactory<TypeConfig> for NetworkFactory {
    type Network = PeerConnection;

    async fn new_client(&mut self, target: u64, node: &MemberInfo) -> PeerConnection {
        let link = self.client.link(target);
        link.set_name(&node.name);
        PeerConnection {
            target,
            link,
            client: self.client.clone(),
            shared: self.shared.clone(),
            base: node.peer_urls.first().cloned().unwrap_or_default(),
        }
    }
}

pub struct PeerConnection {
    target: u64,
    link: Arc<Link>,
    client: PeerClient,
    /// Where the applied member list says the target lives now: a connection outlives a
    /// `PUT /v2/members/<id>` that moves the member to a new peer URL.
    shared: Arc<Shared>,
    /// The URL the connection was made for, until the member list knows the target.
    base: String,
}

fn network(e: impl std::fmt::Display) -> RpcError {
    RpcError::Network(NetworkError::from_string(e.to_string()))
}

impl PeerConnection {
    fn url(&self, path: &str) -> String {
        let base = self
            .shared
            .peer_url(self.target)
            .unwrap_or_else(|| self.base.clone());
        format!("{}{}", base.trim_end_matches('/'), path)
    }

    async fn rpc<Req, Resp>(
        &self,
        lane: Lane,
        path: &str,
        req: &Req,
        option: &RPCOption,
    ) -> Result<Resp, RpcError>
    where
        Req: Serialize,
        Result<Resp, RaftError>: DeserializeOwned,
    {
        let body = serde_json::to_vec(req).map_err(network)?;
        let wait = self.client.deadline(option.soft_ttl(), body.len());
        self.rpc_body(lane, path, body.into(), wait).await
    }

    /// Send `body` on `lane` and wait at most `wait` for the answer; the request itself may
    /// take two election timeouts longer, so a slow answer still lands on a connection kept alive.
    async fn rpc_body<Resp>(
        &self,
        lane: Lane,
        path: &str,
        body: reqwest::Body,
        wait: Duration,
    ) -> Result<Resp, RpcError>
    where
        Result<Resp, RaftError>: DeserializeOwned,
    {
        let url = self.url(path);
        let request = self
            .client
            .post(&url, wait + self.client.patience())
            .body(body);
        let (status, bytes) = self
            .link
            .send(lane, request, wait)
            .await
            .map_err(|e| match e {
                SendError::Unreachable(m) => RpcError::Unreachable(Unreachable::from_string(m)),
                SendError::TimedOut(m) => network(m),
            })?;
        self.client
            .check_status(status, &url, &bytes)
            .map_err(network)?;
        let res: Result<Resp, RaftError> = serde_json::from_slice(&bytes).map_err(network)?;
        res.map_err(|e| RpcError::Unreachable(Unreachable::new(&e)))
    }
}

/// Keep the longest prefix of `req`'s entries that fits [`APPEND_BATCH_BYTES`] (at least one).
/// Returns the log id of the last entry kept when some were left for the next request, and
/// about how many bytes the entries kept take.
fn split_batch(req: &mut AppendEntriesRequest) -> (Option<LogId>, usize) {
    let mut total = 0usize;
    let mut keep = req.entries.len();
    for (i, e) in req.entries.iter().enumerate() {
        let w = entry_weight(e);
        if total + w > APPEND_BATCH_BYTES && i > 0 {
            keep = i;
            break;
        }
        total += w;
    }
    if keep == req.entries.len() {
        return (None, total);
    }
    req.entries.truncate(keep);
    (req.entries.last().map(|e| e.log_id), total)
}

/// About how many bytes an entry takes on the wire (JSON escaping aside).
fn entry_weight(e: &Entry) -> usize {
    match &e.payload {
        openraft::EntryPayload::Normal(cmd) => cmd.op.payload_len() + 256,
        _ => 1024,
    }
}

impl RaftNetworkV2<TypeConfig> for PeerConnection {
    type SnapshotData = SnapshotData;

    async fn append_entries(
        &mut self,
        req: AppendEntriesRequest,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse, RpcError> {
        let mut req = req;
        let (partial, weight) = split_batch(&mut req);
        // A heartbeat (or a bare commit-index update) must not wait behind entries.
        let lane = if req.entries.is_empty() {
            Lane::Control
        } else {
            Lane::Append
        };
        let started = Instant::now();
        let res = if weight > ENCODE_INLINE {
            // Megabytes of JSON are encoded on a blocking thread, not on an async worker
            // that also serves heartbeats.
            match tokio::task::spawn_blocking(move || serde_json::to_vec(&req)).await {
                Ok(Ok(body)) => {
                    let wait = self.client.deadline(option.soft_ttl(), body.len());
                    self.rpc_body(lane, paths::APPEND, body.into(), wait).await
                }
                Ok(Err(e)) => Err(network(e)),
                Err(e) => Err(network(e)),
            }
        } else {
            self.rpc(lane, paths::APPEND, &req, &option).await
        };
        let res = res.map(|r| match (r, partial) {
            (AppendEntriesResponse::Success, Some(last)) => {
                AppendEntriesResponse::PartialSuccess(Some(last))
            }
            (r, _) => r,
        });
        let ok = res.is_ok().then(|| started.elapsed());
        if let Ok(mut stats) = self.client.stats.lock() {
            stats.record(self.target, ok);
        }
        res
    }

    async fn vote(
        &mut self,
        req: VoteRequest,
        option: RPCOption,
    ) -> Result<VoteResponse, RpcError> {
        self.rpc(Lane::Control, paths::VOTE, &req, &option).await
    }

    /// Pre-vote asks whether a vote would be granted without raising anyone's term, so a
    /// member rejoining after a partition cannot unseat a healthy leader (etcd's PreVote).
    async fn pre_vote(
        &mut self,
        req: VoteRequest,
        option: RPCOption,
    ) -> Result<VoteResponse, RpcError> {
        self.rpc(Lane::Control, paths::PRE_VOTE, &req, &option)
            .await
    }

    async fn full_snapshot(
        &mut self,
        vote: Vote,
        snapshot: Snapshot,
        cancel: impl Future<Output = ReplicationClosed> + OptionalSend + 'static,
        option: RPCOption,
    ) -> Result<SnapshotResponse, StreamingError> {
        let head =
            snapshot::encode(&vote).map_err(|e| StreamingError::Network(NetworkError::new(&e)))?;
        // The snapshot file itself, streamed from its open descriptor: never in memory whole.
        let data = snapshot.snapshot;
        let size = data.len();
        let bytes = head.len() + usize::try_from(size).unwrap_or(usize::MAX);
        let wait = self.client.deadline(option.soft_ttl(), bytes);
        let body = reqwest::Body::wrap_stream(snapshot::chunks(head, data));
        let url = self.url(paths::SNAPSHOT);
        let request = self
            .client
            .post(&url, wait + self.client.patience())
            .header(snapshot::SIZE_HEADER, size.to_string())
            .body(body);
        let sent = tokio::select! {
            closed = cancel => return Err(StreamingError::Closed(closed)),
            sent = self.link.send(Lane::Snapshot, request, wait) => sent,
        };
        let (status, bytes) = sent.map_err(|e| match e {
            SendError::Unreachable(m) => StreamingError::Unreachable(Unreachable::from_string(m)),
            SendError::TimedOut(m) => StreamingError::Network(NetworkError::from_string(m)),
        })?;
        let decoded = self
            .client
            .check_status(status, &url, &bytes)
            .map_err(network)
            .and_then(|()| {
                serde_json::from_slice::<Result<SnapshotResponse, RaftError>>(&bytes)
                    .map_err(network)
            });
        match decoded {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => Err(StreamingError::Unreachable(Unreachable::new(&e))),
            Err(e) => Err(StreamingError::Network(NetworkError::new(&e))),
        }
    }

    async fn transfer_leader(
        &mut self,
        req: TransferLeaderRequest,
        option: RPCOption,
    ) -> Result<TransferLeaderResponse, RpcError> {
        self.rpc(Lane::Control, paths::TRANSFER_LEADER, &req, &option)
            .await
    }
}
