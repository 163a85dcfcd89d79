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
    AppendEntriesRequest, AppendEntriesResponse, MemberInfo, RaftError, RpcError, Snapshot,
    SnapshotData, SnapshotResponse, StreamingError, TransferLeaderRequest, TransferLeaderResponse,
    TypeConfig, Vote, VoteRequest, VoteResponse,
};
use etcd_common::headers::CLUSTER_ID;
use etcd_common::stats::{FollowerStats, LatencyStats};
use tokio_util::sync::CancellationToken;

/// Header naming the sending member on peer requests.
pub const FROM: &str = "X-Etcd-From";

/// Paths of the peer API (served by `http/peer.rs`).
pub mod paths {
    pub const APPEND: &str = "/raft/append";
    pub const VOTE: &str = "/raft/vote";
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
    /// The peer answered, but not with what we asked for.
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
    pub fn new(cluster_id: u64, member_id: u64) -> PeerClient {
        let http = reqwest::Client::builder()
            .no_proxy()
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .build()
            .unwrap_or_default();
        PeerClient {
            http,
            cluster_id: (cluster_id != 0).then(|| format!("{cluster_id:x}")),
            from: (member_id != 0).then(|| format!("{member_id:x}")),
            removed: CancellationToken::new(),
            stats: Arc::new(Mutex::new(ReplicationStats::default())),
        }
    }

    /// POST `req` as JSON to `base + path` and decode the JSON answer.
    pub async fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        base: &str,
        path: &str,
        req: &Req,
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
        let resp = request
            .json(req)
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
            return Err(PeerError::Other(format!(
                "HTTP {status} from {url}: {body}"
            )));
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
        let base = self
            .shared
            .peer_url(self.target)
            .unwrap_or_else(|| self.base.clone());
        let res: Result<Resp, RaftError> = self
            .client
            .call(&base, path, req, option.soft_ttl())
            .await
            .map_err(|e| match e {
                PeerError::Unreachable(m) => RpcError::Unreachable(Unreachable::from_string(m)),
                PeerError::Other(m) => RpcError::Network(NetworkError::from_string(m)),
            })?;
        res.map_err(|e| RpcError::Unreachable(Unreachable::new(&e)))
    }
}

impl RaftNetworkV2<TypeConfig> for PeerConnection {
    type SnapshotData = SnapshotData;

    async fn append_entries(
        &mut self,
        req: AppendEntriesRequest,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse, RpcError> {
        let started = std::time::Instant::now();
        let res = self.rpc(paths::APPEND, &req, &option).await;
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

    async fn full_snapshot(
        &mut self,
        vote: Vote,
        snapshot: Snapshot,
        cancel: impl Future<Output = ReplicationClosed> + OptionalSend + 'static,
        option: RPCOption,
    ) -> Result<SnapshotResponse, StreamingError> {
        let req = (vote, snapshot.meta, snapshot.snapshot.into_inner());
        tokio::select! {
            closed = cancel => Err(StreamingError::Closed(closed)),
            res = self.rpc(paths::SNAPSHOT, &req, &option) => match res {
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
