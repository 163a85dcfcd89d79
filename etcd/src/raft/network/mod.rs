//! Peer RPC client: raft messages and the forwarding calls, over HTTP/1.1 on the peer URLs.
//!
//! One `reqwest::Client` (one pool of keep-alive connections, built in [`build_http_client`])
//! serves every peer; it never uses a proxy, so an `HTTP_PROXY` in the environment cannot
//! reroute raft traffic. Raft messages go through the peer's [`link::Link`]: a fixed number
//! of requests in flight per lane (hence connections), each request on its own task so a
//! deadline openraft gives up on never tears a connection down, and a capped exponential
//! backoff between attempts to reach a peer that is down. Every request carries our cluster
//! id; a peer of another cluster refuses it (see `rpc.rs`).

mod connection;
pub mod forwarder;
mod link;
pub mod snapshot;
mod stats;
pub mod stream;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use etcd_common::headers::CLUSTER_ID;
use tokio_util::sync::CancellationToken;

pub use connection::{NetworkFactory, PeerConnection};
pub use stats::ReplicationStats;

/// Header naming the sending member on peer requests.
pub const FROM: &str = "X-Etcd-From";

/// Header with a joining member's own peer URLs, on its `/raft/cluster` request.
pub const PEER_URLS: &str = "X-Etcd-Peer-Urls";

/// Paths of the peer API (served by `http/peer.rs`).
pub mod paths {
    pub const APPEND: &str = "/raft/append";
    pub const STREAM: &str = "/raft/stream";
    pub const FORWARD: &str = "/raft/forward";
    pub const VOTE: &str = "/raft/vote";
    pub const PRE_VOTE: &str = "/raft/pre-vote";
    pub const SNAPSHOT: &str = "/raft/snapshot";
    pub const TRANSFER_LEADER: &str = "/raft/transfer-leader";
    pub const PROPOSE: &str = "/raft/propose";
    pub const READ_INDEX: &str = "/raft/read-index";
    pub const MEMBERS: &str = "/raft/members";
    pub const CLUSTER: &str = "/raft/cluster";
}

/// Whether `status`, the answer to an upgrade to the append or forwarding stream, says the peer
/// predates the streams: members before b11dbce answer 405 (their `/raft/{rpc}` route takes only
/// POST), a router without the path 404. Either way the caller falls back to plain requests.
fn predates_streams(status: reqwest::StatusCode) -> bool {
    status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::METHOD_NOT_ALLOWED
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
    /// Each peer's lanes, backoff and reachability, by member id.
    links: Arc<Mutex<HashMap<u64, Arc<link::Link>>>>,
    /// The backoff of forwarding calls, by peer URL.
    gates: Arc<Mutex<HashMap<String, link::Gate>>>,
    /// Cancelled when a peer answers 410 Gone: this member was removed from the cluster.
    pub removed: CancellationToken,
    /// Append-entries outcomes per follower, for `/v2/stats/leader` and `/v2/stats/self`.
    pub stats: Arc<Mutex<ReplicationStats>>,
    /// The connections forwarded writes and reads travel on, by leader.
    forwarders: forwarder::Forwarders,
}

/// The HTTP client for all peer traffic; the one place its connections are configured (peer
/// TLS goes here). Connection setup has its own timeout, half the election timeout, apart
/// from any request's deadline: a slow handshake (a busy peer, a proxy, TLS, a WAN) still
/// completes and its connection is kept for the requests that follow.
pub fn build_http_client(
    connect_timeout: Duration,
    tls: &crate::boot::tls::PeerClientTls,
) -> reqwest::Client {
    tls.apply(reqwest::Client::builder())
        .no_proxy()
        .connect_timeout(connect_timeout)
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        .tcp_keepalive(Duration::from_secs(30))
        .build()
        .unwrap_or_default()
}

impl PeerClient {
    pub fn new(
        cluster_id: u64,
        member_id: u64,
        floor: Duration,
        tls: &crate::boot::tls::PeerClientTls,
    ) -> PeerClient {
        PeerClient {
            http: build_http_client(floor / 2, tls),
            cluster_id: (cluster_id != 0).then(|| format!("{cluster_id:x}")),
            from: (member_id != 0).then(|| format!("{member_id:x}")),
            peer_urls: None,
            floor,
            links: Arc::default(),
            gates: Arc::default(),
            removed: CancellationToken::new(),
            stats: Arc::new(Mutex::new(ReplicationStats::default())),
            forwarders: forwarder::Forwarders::default(),
        }
    }

    /// A client for a member that does not know its cluster yet: it names itself by the peer
    /// URLs `member add` recorded.
    pub fn joining(peer_urls: &[String], tls: &crate::boot::tls::PeerClientTls) -> PeerClient {
        let mut client = PeerClient::new(0, 0, Duration::from_secs(2), tls);
        client.peer_urls = Some(peer_urls.join(","));
        client
    }

    /// The transport state of member `target`, shared by all its openraft clients.
    fn link(&self, target: u64) -> Arc<link::Link> {
        let mut links = self.links.lock().unwrap_or_else(|p| p.into_inner());
        links
            .entry(target)
            .or_insert_with(|| Arc::new(link::Link::new(target, self.floor)))
            .clone()
    }

    fn gate<T>(&self, base: &str, f: impl FnOnce(&mut link::Gate) -> T) -> T {
        let mut gates = self.gates.lock().unwrap_or_else(|p| p.into_inner());
        f(gates.entry(base.to_string()).or_default())
    }

    /// How long a raft message of `bytes` may take: never less than the election timeout,
    /// plus a millisecond a KiB for moving, parsing and syncing it on a slow link or a busy
    /// peer. Giving up early only means sending the same bytes again; a dead peer is noticed
    /// by heartbeats, not by this deadline.
    fn deadline(&self, soft_ttl: Duration, bytes: usize) -> Duration {
        soft_ttl.max(self.floor) + Duration::from_millis((bytes >> 10) as u64)
    }

    /// How long a raft request may still complete after openraft stopped waiting for it,
    /// before its connection is given up: two election timeouts. A peer behind a stalled link
    /// answers on the connection it has once the link is back (a new connection would not be
    /// faster); one that never answers is given a fresh connection.
    fn patience(&self) -> Duration {
        2 * self.floor
    }

    /// Our cluster id and member id on `request`.
    fn identified(&self, mut request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if let Some(id) = &self.cluster_id {
            request = request.header(CLUSTER_ID, id);
        }
        if let Some(id) = &self.from {
            request = request.header(FROM, id);
        }
        request
    }

    /// A POST to `url` with our identity headers, bounded by `timeout` as a whole.
    fn post(&self, url: &str, timeout: Duration) -> reqwest::RequestBuilder {
        let mut request = self.identified(self.http.post(url).timeout(timeout));
        if let Some(urls) = &self.peer_urls {
            request = request.header(PEER_URLS, urls);
        }
        request.header(reqwest::header::CONTENT_TYPE, "application/json")
    }

    /// The request that turns a connection into an append stream (`stream.rs`) or a
    /// forwarding connection (`forwarder.rs`), with our identity headers; its deadline is the
    /// caller's.
    fn upgrade_request(&self, url: &str, protocol: &str) -> reqwest::RequestBuilder {
        use reqwest::header::{CONNECTION, UPGRADE};
        self.identified(self.http.get(url))
            .header(CONNECTION, "upgrade")
            .header(UPGRADE, protocol)
    }

    /// A non-success answer as an error; 410 Gone also means we were removed.
    fn check_status(
        &self,
        status: reqwest::StatusCode,
        url: &str,
        body: &[u8],
    ) -> Result<(), PeerError> {
        if status == reqwest::StatusCode::GONE {
            self.removed.cancel();
        }
        if status.is_success() {
            return Ok(());
        }
        let m = format!(
            "HTTP {status} from {url}: {}",
            String::from_utf8_lossy(body)
        );
        // The peer router refuses before acting (400/403/404/410/412/413); anything else
        // (a 5xx from a proxy, say) says nothing about whether it acted.
        Err(if status.is_client_error() {
            PeerError::Refused(m)
        } else {
            PeerError::Other(m)
        })
    }

    /// POST `req` as JSON to `base + path` and decode the JSON answer (the forwarding calls).
    pub async fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        base: &str,
        path: &str,
        req: &Req,
        timeout: Duration,
    ) -> Result<Resp, PeerError> {
        let body = serde_json::to_vec(req).map_err(|e| PeerError::Other(e.to_string()))?;
        let bytes = self.call_raw(base, path, body, timeout).await?;
        serde_json::from_slice(&bytes).map_err(|e| PeerError::Other(e.to_string()))
    }

    /// The backoff of a failing peer URL grows to half the election timeout, at most 1 s.
    fn gate_cap(&self) -> Duration {
        (self.floor / 2).min(Duration::from_secs(1))
    }

    /// POST `body` to `base + path`; the answer's body.
    async fn call_raw(
        &self,
        base: &str,
        path: &str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Bytes, PeerError> {
        let url = format!("{}{}", base.trim_end_matches('/'), path);
        if !self.gate(base, |g| g.open()) {
            return Err(PeerError::Unreachable(format!(
                "{base} failed a moment ago; backing off"
            )));
        }
        let sent = self.post(&url, timeout).body(body).send().await;
        let resp = match sent {
            Ok(r) => {
                self.gate(base, link::Gate::answered);
                r
            }
            Err(e) => {
                self.gate(base, |g| g.failed(self.gate_cap()));
                let m = link::describe(&e);
                return Err(if e.is_connect() {
                    PeerError::Unreachable(m)
                } else {
                    PeerError::Other(m)
                });
            }
        };
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| PeerError::Other(e.to_string()))?;
        self.check_status(status, &url, &bytes)?;
        Ok(bytes)
    }
}
