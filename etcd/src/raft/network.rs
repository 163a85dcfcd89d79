//! Peer RPC client: raft messages and the two forwarding calls, as JSON over HTTP on the peer
//! URLs.
//!
//! One `reqwest::Client` (one connection pool) serves every peer; it never uses a proxy, so an
//! `HTTP_PROXY` in the environment cannot reroute raft traffic. Every request carries our
//! cluster id; a peer of another cluster refuses it (see `http/peer.rs`).

use std::future::Future;
use std::time::Duration;

use openraft::OptionalSend;
use openraft::errors::{NetworkError, ReplicationClosed, Unreachable};
use openraft::network::v2::RaftNetworkV2;
use openraft::network::{RPCOption, RaftNetworkFactory};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::types::{
    AppendEntriesRequest, AppendEntriesResponse, MemberInfo, RaftError, RpcError, Snapshot,
    SnapshotData, SnapshotResponse, StreamingError, TransferLeaderRequest, TransferLeaderResponse,
    TypeConfig, Vote, VoteRequest, VoteResponse,
};
use etcd_common::headers::CLUSTER_ID;
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
}

impl NetworkFactory {
    pub fn new(client: PeerClient) -> NetworkFactory {
        NetworkFactory { client }
    }
}

impl RaftNetworkFactory<TypeConfig> for NetworkFactory {
    type Network = PeerConnection;

    async fn new_client(&mut self, _target: u64, node: &MemberInfo) -> PeerConnection {
        PeerConnection {
            client: self.client.clone(),
            base: node.peer_urls.first().cloned().unwrap_or_default(),
        }
    }
}

pub struct PeerConnection {
    client: PeerClient,
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
        let res: Result<Resp, RaftError> = self
            .client
            .call(&self.base, path, req, option.soft_ttl())
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
        self.rpc(paths::APPEND, &req, &option).await
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
