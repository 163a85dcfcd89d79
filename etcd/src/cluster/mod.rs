//! The one handle the HTTP face talks to: propose writes (forwarding to the leader), read
//! (locally or linearizably), watch, and describe members and raft state. No openraft type
//! and no lock guard crosses this boundary; raft failures become etcd errors in `errors.rs`.

mod errors;
mod join;
mod members;
mod policy;
mod read;
mod stats;
mod tasks;
mod write;

pub use crate::raft::membership::{MemberOp, MemberOpError};
pub use policy::ClusterConfig;
pub use write::Written;

use std::io;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::boot::flags::Config;
use crate::boot::identity;
use crate::raft::network::PeerClient;
use crate::raft::node::{RaftNode, Settings};
use crate::raft::rpc::PeerService;
use crate::raft::state_machine::Shared;
use crate::time::{self, UnixNanos};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("{0}")]
    Config(String),
}

pub struct Cluster {
    pub member_id: u64,
    pub cluster_id: u64,
    pub name: String,
    node: RaftNode,
    shared: Arc<Shared>,
    peers: PeerClient,
    peer_service: Arc<PeerService>,
    request_timeout: Duration,
    election_timeout: Duration,
    started_at: UnixNanos,
    leader_since: AtomicU64,
    advertise_client_urls: Vec<String>,
    token: String,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// Cancelled when this member has been removed from the cluster; the server then exits,
    /// as etcd does.
    pub removed: CancellationToken,
}

impl Cluster {
    /// Open (or create) the member's data, start raft, and bootstrap a new cluster when the
    /// data dir is empty and the state is `new`.
    pub async fn start(config: &Config) -> Result<Arc<Cluster>, StartError> {
        let dir = identity::member_dir(&config.data_dir);
        std::fs::create_dir_all(&dir)?;
        let existing = identity::load(&dir)?;
        let fresh = existing.is_none();
        let identity = match existing {
            Some(id) => id,
            None => join::new_identity(config).await?,
        };
        let election = Duration::from_millis(config.election_timeout_ms);
        let peers = PeerClient::new(
            identity.cluster_id,
            identity.member_id,
            election,
            &config.peer_client_tls,
        );
        // The identity is durable before raft is initialised (see `RaftNode::start`).
        if fresh {
            identity::save(&dir, &identity)?;
        }
        let settings = Settings {
            dir: &dir,
            member_id: identity.member_id,
            cluster_id: identity.cluster_id,
            heartbeat_ms: config.heartbeat_interval_ms,
            election_ms: config.election_timeout_ms,
            snapshot_count: config.snapshot_count,
            force_new_cluster: config.force_new_cluster,
        };
        let (node, shared) =
            RaftNode::start(settings, peers.clone(), identity.bootstrap.clone()).await?;
        let peer_service = Arc::new(PeerService::new(
            node.clone(),
            shared.clone(),
            identity.member_id,
            identity.cluster_id,
            config.initial_cluster_token.clone(),
        ));
        let cluster = Arc::new(Cluster {
            member_id: identity.member_id,
            cluster_id: identity.cluster_id,
            name: identity.name,
            node,
            shared,
            request_timeout: Duration::from_secs(5) + 2 * election,
            election_timeout: election,
            started_at: time::now(),
            leader_since: AtomicU64::new(0),
            advertise_client_urls: config.advertise_client_urls.clone(),
            token: config.initial_cluster_token.clone(),
            tasks: Mutex::new(Vec::new()),
            removed: peers.removed.clone(),
            peers,
            peer_service,
        });
        let handles = tasks::spawn_all(&cluster);
        if let Ok(mut t) = cluster.tasks.lock() {
            *t = handles;
        }
        Ok(cluster)
    }

    /// Stop the background tasks, then raft (flushes and closes the log store).
    /// Resolves, with the reason, if raft's core stops by itself: a member without it can
    /// neither write nor serve current reads, so the server exits rather than linger.
    pub async fn raft_stopped(&self) -> String {
        self.node.stopped().await
    }

    pub async fn shutdown(&self) {
        if let Ok(mut t) = self.tasks.lock() {
            for h in t.drain(..) {
                h.abort();
            }
        }
        self.node.shutdown().await;
    }

    /// Wait until the state machine has caught up with what was committed before a restart, so
    /// that reads never go back in time.
    pub async fn wait_ready(&self, timeout: Duration) {
        self.node.wait_recovery(timeout).await;
    }

    /// The peer API (raft RPCs, forwarding, membership), served on the peer URLs.
    pub fn peer_router(&self) -> axum::Router {
        crate::raft::rpc::router(self.peer_service.clone())
    }
}

pub fn data_dir_exists(dir: &Path) -> bool {
    identity::member_dir(dir).join("identity.json").exists()
}
