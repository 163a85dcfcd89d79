//! openraft's view of a peer: one [`PeerConnection`] per replication stream, heartbeat worker
//! or vote, all sharing the peer's [`Link`] (its connections, backoff and reachability).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use openraft::OptionalSend;
use openraft::base::{BoxFuture, BoxStream};
use openraft::errors::{NetworkError, ReplicationClosed, Unreachable};
use openraft::network::v2::RaftNetworkV2;
use openraft::network::{RPCOption, RaftNetworkFactory};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::link::{Lane, Link, SendError};
use super::{PeerClient, paths, snapshot, stream};
use crate::raft::state_machine::Shared;
use crate::raft::types::{
    AppendEntriesRequest, AppendEntriesResponse, Entry, MemberInfo, RaftError, RpcError, Snapshot,
    SnapshotData, SnapshotResponse, StreamAppendResult, StreamingError, TransferLeaderRequest,
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
            pipe: None,
            streams_refused: false,
        }
    }
}

pub struct PeerConnection {
    target: u64,
    pub(super) link: Arc<Link>,
    pub(super) client: PeerClient,
    /// Where the applied member list says the target lives now: a connection outlives a
    /// `PUT /v2/members/<id>` that moves the member to a new peer URL.
    shared: Arc<Shared>,
    /// The URL the connection was made for, until the member list knows the target.
    base: String,
    /// The append stream a finished session left open (`stream.rs`).
    pub(super) pipe: Option<stream::Pipe>,
    /// The peer predates the stream ([`super::predates_streams`]), so plain requests.
    pub(super) streams_refused: bool,
}

fn network(e: impl std::fmt::Display) -> RpcError {
    RpcError::Network(NetworkError::from_string(e.to_string()))
}

impl PeerConnection {
    pub(super) fn url(&self, path: &str) -> String {
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
        if let Err(e) = self.client.check_status(status, &url, &bytes) {
            if let super::PeerError::Refused(m) = &e {
                self.link.refused(m);
            }
            return Err(network(e));
        }
        let res: Result<Resp, RaftError> = serde_json::from_slice(&bytes).map_err(network)?;
        res.map_err(|e| RpcError::Unreachable(Unreachable::new(&e)))
    }
}

impl PeerConnection {
    /// One append's outcome for `/v2/stats/leader`: its latency, or `None` for a failure.
    pub(super) fn record(&self, ok: Option<Duration>) {
        if let Ok(mut stats) = self.client.stats.lock() {
            stats.record(self.target, ok);
        }
    }
}

/// `req` as consecutive requests of at most [`APPEND_BATCH_BYTES`] of entries each (at least
/// one entry each, and always at least one request).
pub(super) fn split_all(req: AppendEntriesRequest) -> Vec<AppendEntriesRequest> {
    let AppendEntriesRequest {
        vote,
        prev_log_id,
        leader_commit,
        entries,
    } = req;
    let mut parts = Vec::new();
    let (mut prev, mut batch, mut total) = (prev_log_id, Vec::new(), 0usize);
    for e in entries {
        let w = entry_weight(&e);
        if !batch.is_empty() && total + w > APPEND_BATCH_BYTES {
            let last = batch.last().map(|e: &Entry| e.log_id);
            parts.push(AppendEntriesRequest {
                vote,
                prev_log_id: prev,
                leader_commit,
                entries: std::mem::take(&mut batch),
            });
            (prev, total) = (last, 0);
        }
        total += w;
        batch.push(e);
    }
    parts.push(AppendEntriesRequest {
        vote,
        prev_log_id: prev,
        leader_commit,
        entries: batch,
    });
    parts
}

/// `req` encoded; megabytes of JSON on a blocking thread, not on an async worker that also
/// serves heartbeats.
pub(super) async fn encode(req: AppendEntriesRequest) -> Result<Bytes, RpcError> {
    let weight: usize = req.entries.iter().map(entry_weight).sum();
    let body = if weight > ENCODE_INLINE {
        tokio::task::spawn_blocking(move || serde_json::to_vec(&req))
            .await
            .map_err(network)?
    } else {
        serde_json::to_vec(&req)
    };
    body.map(Bytes::from).map_err(network)
}

/// About how many bytes an entry takes on the wire (JSON escaping aside).
pub(super) fn entry_weight(e: &Entry) -> usize {
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
        // Only as much as one request should carry; the follower acknowledges that prefix.
        let mut parts = split_all(req).into_iter();
        let Some(req) = parts.next() else {
            return Err(network("an append without a request"));
        };
        let partial = parts.next().and(req.entries.last().map(|e| e.log_id));
        // A heartbeat (or a bare commit-index update) must not wait behind entries.
        let lane = if req.entries.is_empty() {
            Lane::Control
        } else {
            Lane::Append
        };
        let started = Instant::now();
        let res = match encode(req).await {
            Ok(body) => {
                let wait = self.client.deadline(option.soft_ttl(), body.len());
                self.rpc_body(lane, paths::APPEND, body.into(), wait).await
            }
            Err(e) => Err(e),
        };
        let res = res.map(|r| match (r, partial) {
            (AppendEntriesResponse::Success, Some(last)) => {
                AppendEntriesResponse::PartialSuccess(Some(last))
            }
            (r, _) => r,
        });
        self.record(res.is_ok().then(|| started.elapsed()));
        res
    }

    fn stream_append<'s, S>(
        &'s mut self,
        input: S,
        option: RPCOption,
    ) -> BoxFuture<'s, Result<BoxStream<'s, Result<StreamAppendResult, RpcError>>, RpcError>>
    where
        S: futures::Stream<Item = AppendEntriesRequest> + OptionalSend + Unpin + 'static,
    {
        Box::pin(async move {
            let answers: BoxStream<'s, _> =
                Box::pin(stream::Session::new(self, input, option).answers());
            Ok(answers)
        })
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

#[cfg(test)]
mod tests {
    use openraft::entry::RaftEntry;
    use openraft::vote::RaftLeaderIdExt;

    use super::*;
    use crate::raft::types::LogId;

    fn log_id(index: u64) -> LogId {
        LogId::new(
            openraft::alias::LeaderIdOf::<TypeConfig>::new_committed(2, 1),
            index,
        )
    }

    /// A large batch goes out as consecutive requests: each starts where the last one ended,
    /// all carry the leader's vote and commit, and no entry is lost or repeated.
    #[test]
    fn a_large_batch_is_split_into_consecutive_requests() {
        let per_part = APPEND_BATCH_BYTES / entry_weight(&Entry::new_blank(log_id(1)));
        let total = 2 * per_part as u64 + 100;
        let req = AppendEntriesRequest {
            vote: Vote::new_committed(2, 1),
            prev_log_id: Some(log_id(10)),
            leader_commit: Some(log_id(20)),
            entries: (11..11 + total)
                .map(|i| Entry::new_blank(log_id(i)))
                .collect(),
        };
        let parts = split_all(req);
        let sizes: Vec<usize> = parts.iter().map(|p| p.entries.len()).collect();
        assert_eq!(sizes, [per_part, per_part, 100]);
        let mut prev = Some(log_id(10));
        for p in &parts {
            assert_eq!(p.prev_log_id, prev);
            assert_eq!(p.leader_commit, Some(log_id(20)));
            assert_eq!(p.vote, Vote::new_committed(2, 1));
            assert_eq!(p.entries[0].log_id.index, prev.map_or(0, |l| l.index) + 1);
            prev = p.entries.last().map(|e| e.log_id);
        }
        assert_eq!(prev, Some(log_id(10 + total)));
        let small = AppendEntriesRequest {
            vote: Vote::new_committed(2, 1),
            prev_log_id: None,
            leader_commit: None,
            entries: Vec::new(),
        };
        assert_eq!(
            split_all(small).len(),
            1,
            "an empty request stays one request"
        );
    }
}
