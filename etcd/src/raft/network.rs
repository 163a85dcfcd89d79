//! Peer RPC client: raft messages and the two forwarding calls, as JSON over HTTP on the peer
//! URLs.
//!
//! One `reqwest::Client` (one connection pool) serves every peer; it never uses a proxy, so an
//! `HTTP_PROXY` in the environment cannot reroute raft traffic. Every request carries our
//! cluster id; a peer of another cluster refuses it (see `http/peer.rs`).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openraft::OptionalSend;
use openraft::errors::{NetworkError, ReplicationClosed, Unreachable};
use openraft::network::v2::RaftNetworkV2;
use openraft::network::{RPCOption, RaftNetworkFactory};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::state_machine::Shared;
use super::types::{
    AppendEntriesRequest, AppendEntriesResponse, Entry, LogId, MemberInfo, RaftError, RpcError,
    Snapshot, SnapshotData, SnapshotMeta, SnapshotResponse, StreamingError, TransferLeaderRequest,
    TransferLeaderResponse, TypeConfig, Vote, VoteRequest, VoteResponse,
};
use etcd_common::headers::CLUSTER_ID;
use etcd_common::stats::{FollowerStats, LatencyStats};
use tokio_util::sync::CancellationToken;

/// Header naming the sending member on peer requests.
pub const FROM: &str = "X-Etcd-From";

/// Header with a joining member's own peer URLs, on its `/raft/cluster` request.
pub const PEER_URLS: &str = "X-Etcd-Peer-Urls";

/// A batch of entries larger than this is sent in parts (the follower acknowledges a prefix),
/// so no request nears the peer API's body limit and none takes long on a slow link.
const APPEND_BATCH_BYTES: usize = 16 << 20;

/// Requests larger than this are encoded on a blocking thread.
const ENCODE_INLINE: usize = 64 << 10;

/// Paths of the peer API (served by `http/peer.rs`).
pub mod paths {
    pub const APPEND: &str = "/raft/append";
    pub const VOTE: &str = "/raft/vote";
    pub const PRE_VOTE: &str = "/raft/pre-vote";
    pub const SNAPSHOT: &str = "/raft/snapshot";
    pub const TRANSFER_LEADER: &str = "/raft/transfer-leader";
    pub const PROPOSE: &str = "/raft/propose";
    pub const READ_INDEX: &str = "/raft/read-index";
    pub const MEMBERS: &str = "/raft/members";
    pub const CLUSTER: &str = "/raft/cluster";
}

/// Why a peer call failed, for the callers outside openraft's own replication.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The peer could not be reached at all.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// The peer refused the request before acting on it (wrong cluster, unknown member,
    /// malformed request).
    #[error("refused: {0}")]
    Refused(String),
    /// The request went out but no usable answer came back.
    #[error("peer error: {0}")]
    Other(String),
}

#[derive(Clone)]
pub struct PeerClient {
    http: reqwest::Client,
    /// `None` before we know which cluster we belong to (a joining member asking around).
    cluster_id: Option<String>,
    /// Our member id, so a peer can tell a removed member that it is gone.
    from: Option<String>,
    /// A joining member's own peer URLs, for `/raft/cluster`.
    peer_urls: Option<String>,
    /// The least time a raft message may take (connection, transfer, the peer's fsync, the
    /// answer): the election timeout, the failure detector etcd uses, not a heartbeat.
    floor: Duration,
    /// Cancelled when a peer answers 410 Gone: this member was removed from the cluster.
    pub removed: CancellationToken,
    /// Append-entries outcomes per follower, for `/v2/stats/leader` and `/v2/stats/self`.
    pub stats: Arc<Mutex<ReplicationStats>>,
}

/// etcd's leader-side view of its followers (etcd: v2stats/leader.go).
#[derive(Debug, Default)]
pub struct ReplicationStats {
    pub sent_appends: u64,
    pub followers: BTreeMap<u64, FollowerStats>,
}

impl ReplicationStats {
    fn record(&mut self, target: u64, elapsed: Option<Duration>) {
        self.sent_appends += 1;
        let f = self
            .followers
            .entry(target)
            .or_insert_with(|| FollowerStats {
                latency: LatencyStats {
                    minimum: f64::MAX,
                    ..LatencyStats::default()
                },
                ..FollowerStats::default()
            });
        let Some(d) = elapsed else {
            f.counts.fail += 1;
            return;
        };
        let n = f.counts.success as f64;
        let l = &mut f.latency;
        let total = n * l.average;
        let total_sq = n * (l.standard_deviation.powi(2) + l.average.powi(2));
        f.counts.success += 1;
        let n = f.counts.success as f64;
        l.current = d.as_secs_f64() * 1000.0;
        l.maximum = l.maximum.max(l.current);
        l.minimum = l.minimum.min(l.current);
        l.average = (total + l.current) / n;
        let avg_sq = (total_sq + l.current * l.current) / n;
        l.standard_deviation = (avg_sq - l.average * l.average).max(0.0).sqrt();
    }
}

impl PeerClient {
    pub fn new(
        cluster_id: u64,
        member_id: u64,
        floor: Duration,
        tls: &crate::boot::tls::PeerClientTls,
    ) -> PeerClient {
        let http = tls
            .apply(reqwest::Client::builder())
            .no_proxy()
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .build()
            .unwrap_or_default();
        PeerClient {
            http,
            cluster_id: (cluster_id != 0).then(|| format!("{cluster_id:x}")),
            from: (member_id != 0).then(|| format!("{member_id:x}")),
            peer_urls: None,
            floor,
            removed: CancellationToken::new(),
            stats: Arc::new(Mutex::new(ReplicationStats::default())),
        }
    }

    /// A client for a member that does not know its cluster yet: it names itself by the peer
    /// URLs `member add` recorded.
    pub fn joining(peer_urls: &[String], tls: &crate::boot::tls::PeerClientTls) -> PeerClient {
        let mut client = PeerClient::new(0, 0, Duration::from_secs(2), tls);
        client.peer_urls = Some(peer_urls.join(","));
        client
    }

    /// How long a raft message of `bytes` may take: never less than the election timeout,
    /// plus a millisecond a KiB for moving, parsing and syncing it on a slow link or a busy
    /// peer. Giving up early only means sending the same bytes again; a dead peer is noticed
    /// by heartbeats, not by this deadline.
    fn deadline(&self, soft_ttl: Duration, bytes: usize) -> Duration {
        soft_ttl.max(self.floor) + Duration::from_millis((bytes >> 10) as u64)
    }

    /// POST `req` as JSON to `base + path` and decode the JSON answer.
    pub async fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        base: &str,
        path: &str,
        req: &Req,
        timeout: Duration,
    ) -> Result<Resp, PeerError> {
        let body = serde_json::to_vec(req).map_err(|e| PeerError::Other(e.to_string()))?;
        self.send(base, path, body.into(), timeout).await
    }

    /// POST `body` to `base + path` and decode the JSON answer.
    async fn send<Resp: DeserializeOwned>(
        &self,
        base: &str,
        path: &str,
        body: reqwest::Body,
        timeout: Duration,
    ) -> Result<Resp, PeerError> {
        let url = format!("{}{}", base.trim_end_matches('/'), path);
        let mut request = self.http.post(&url);
        if let Some(id) = &self.cluster_id {
            request = request.header(CLUSTER_ID, id);
        }
        if let Some(id) = &self.from {
            request = request.header(FROM, id);
        }
        if let Some(urls) = &self.peer_urls {
            request = request.header(PEER_URLS, urls);
        }
        let resp = request
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| {
                if e.is_connect() {
                    PeerError::Unreachable(e.to_string())
                } else {
                    PeerError::Other(e.to_string())
                }
            })?;
        let status = resp.status();
        if status == reqwest::StatusCode::GONE {
            self.removed.cancel();
        }
        if !status.is_success() {
            let body = resp.text().await.unwrap_or_default();
            let m = format!("HTTP {status} from {url}: {body}");
            // The peer router refuses before acting (400/403/404/410/412/413); anything
            // else (a 5xx from a proxy, say) says nothing about whether it acted.
            return Err(if status.is_client_error() {
                PeerError::Refused(m)
            } else {
                PeerError::Other(m)
            });
        }
        resp.json()
            .await
            .map_err(|e| PeerError::Other(e.to_string()))
    }
}

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
        PeerConnection {
            target,
            client: self.client.clone(),
            shared: self.shared.clone(),
            base: node.peer_urls.first().cloned().unwrap_or_default(),
        }
    }
}

pub struct PeerConnection {
    target: u64,
    client: PeerClient,
    /// Where the applied member list says the target lives now: a connection outlives a
    /// `PUT /v2/members/<id>` that moves the member to a new peer URL.
    shared: Arc<Shared>,
    /// The URL the connection was made for, until the member list knows the target.
    base: String,
}

impl PeerConnection {
    fn base(&self) -> String {
        self.shared
            .peer_url(self.target)
            .unwrap_or_else(|| self.base.clone())
    }

    async fn rpc<Req, Resp>(
        &self,
        path: &str,
        req: &Req,
        option: &RPCOption,
    ) -> Result<Resp, RpcError>
    where
        Req: Serialize,
        Result<Resp, RaftError>: DeserializeOwned,
    {
        let body = serde_json::to_vec(req)
            .map_err(|e| RpcError::Network(NetworkError::from_string(e.to_string())))?;
        let timeout = self.client.deadline(option.soft_ttl(), body.len());
        self.rpc_body(path, body.into(), timeout).await
    }

    async fn rpc_body<Resp>(
        &self,
        path: &str,
        body: reqwest::Body,
        timeout: Duration,
    ) -> Result<Resp, RpcError>
    where
        Result<Resp, RaftError>: DeserializeOwned,
    {
        let res: Result<Resp, RaftError> = self
            .client
            .send(&self.base(), path, body, timeout)
            .await
            .map_err(|e| match e {
                PeerError::Unreachable(m) => RpcError::Unreachable(Unreachable::from_string(m)),
                PeerError::Refused(m) | PeerError::Other(m) => {
                    RpcError::Network(NetworkError::from_string(m))
                }
            })?;
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

/// The InstallSnapshot body: an 8-byte big-endian length, the vote and meta as JSON, then the
/// snapshot bytes unchanged (JSON would have spelled every byte as a number, 4x the size).
pub mod snapshot_body {
    use super::{SnapshotMeta, Vote};

    pub fn encode(vote: &Vote, meta: &SnapshotMeta) -> serde_json::Result<Vec<u8>> {
        let head = serde_json::to_vec(&(vote, meta))?;
        let mut out = Vec::with_capacity(8 + head.len());
        out.extend_from_slice(&(head.len() as u64).to_be_bytes());
        out.extend_from_slice(&head);
        Ok(out)
    }

    pub fn decode(body: &[u8]) -> Result<(Vote, SnapshotMeta, Vec<u8>), String> {
        let (len, rest) = body
            .split_first_chunk::<8>()
            .ok_or("snapshot body too short")?;
        let len = usize::try_from(u64::from_be_bytes(*len)).map_err(|e| e.to_string())?;
        if len > rest.len() {
            return Err("snapshot header longer than the body".to_string());
        }
        let (head, data) = rest.split_at(len);
        let (vote, meta) = serde_json::from_slice(head).map_err(|e| e.to_string())?;
        Ok((vote, meta, data.to_vec()))
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
        let started = std::time::Instant::now();
        let res = if weight > ENCODE_INLINE {
            // Megabytes of JSON are encoded on a blocking thread, not on an async worker
            // that also serves heartbeats.
            match tokio::task::spawn_blocking(move || serde_json::to_vec(&req)).await {
                Ok(Ok(body)) => {
                    let timeout = self.client.deadline(option.soft_ttl(), body.len());
                    self.rpc_body(paths::APPEND, body.into(), timeout).await
                }
                Ok(Err(e)) => Err(RpcError::Network(NetworkError::new(&e))),
                Err(e) => Err(RpcError::Network(NetworkError::new(&e))),
            }
        } else {
            self.rpc(paths::APPEND, &req, &option).await
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
        self.rpc(paths::VOTE, &req, &option).await
    }

    /// Pre-vote asks whether a vote would be granted without raising anyone's term, so a
    /// member rejoining after a partition cannot unseat a healthy leader (etcd's PreVote).
    async fn pre_vote(
        &mut self,
        req: VoteRequest,
        option: RPCOption,
    ) -> Result<VoteResponse, RpcError> {
        self.rpc(paths::PRE_VOTE, &req, &option).await
    }

    async fn full_snapshot(
        &mut self,
        vote: Vote,
        snapshot: Snapshot,
        cancel: impl Future<Output = ReplicationClosed> + OptionalSend + 'static,
        option: RPCOption,
    ) -> Result<SnapshotResponse, StreamingError> {
        let head = snapshot_body::encode(&vote, &snapshot.meta)
            .map_err(|e| StreamingError::Network(NetworkError::new(&e)))?;
        let data = snapshot.snapshot.into_inner();
        let timeout = self
            .client
            .deadline(option.soft_ttl(), head.len() + data.len());
        // Two chunks, so the snapshot bytes are sent from where they are, not copied.
        let chunks: [Result<Vec<u8>, std::io::Error>; 2] = [Ok(head), Ok(data)];
        let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
        tokio::select! {
            closed = cancel => Err(StreamingError::Closed(closed)),
            res = self.rpc_body(paths::SNAPSHOT, body, timeout) => match res {
                Ok(r) => Ok(r),
                Err(RpcError::Unreachable(u)) => Err(StreamingError::Unreachable(u)),
                Err(e) => Err(StreamingError::Network(NetworkError::new(&e))),
            },
        }
    }

    async fn transfer_leader(
        &mut self,
        req: TransferLeaderRequest,
        option: RPCOption,
    ) -> Result<TransferLeaderResponse, RpcError> {
        self.rpc(paths::TRANSFER_LEADER, &req, &option).await
    }
}
