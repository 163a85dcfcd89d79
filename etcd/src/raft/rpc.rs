//! The peer API server: raft RPCs, forwarded writes and reads, membership changes.
//!
//! Nothing reaches openraft before the sender has proved who it is, as etcd's peer handlers
//! check before they step a message into raft:
//! - every request carries our cluster id (`X-Etcd-Cluster-Id`; a missing header is a
//!   mismatch, 412) and the sender's member id (`X-Etcd-From`), which must be a member of the
//!   configuration raft holds (403 for a stranger, 410 for a removed member, so it exits);
//! - the one exception is `/raft/cluster`, which a member started with
//!   `--initial-cluster-state existing` asks before it knows the cluster id: it must name the
//!   peer URLs that `member add` recorded for it;
//! - a vote or leader term far beyond ours is refused: no election could produce it, and
//!   accepting it would let one message push the term toward `u64::MAX`, where raft's
//!   `term + 1` overflows.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::forward::{ClusterInfo, MemberOpReply, ProposeReply, ReadIndexReply};
use super::membership::MemberOp;
use super::network::{FROM, PEER_URLS, paths, snapshot};
use super::node::RaftNode;
use super::state_machine::Shared;
use super::types::{
    AppendEntriesRequest, RaftError, Snapshot, SnapshotData, SnapshotMeta, TransferLeaderRequest,
    Vote, VoteRequest,
};
use crate::store::Command;
use etcd_common::headers::CLUSTER_ID;

mod forwarded;
mod stream;

/// A term this far beyond ours cannot come from a real election: even a member cut off for
/// years, campaigning every election timeout, does not get there.
const MAX_TERM_STEP: u64 = 1 << 32;

/// Largest peer request body. A client write is at most 10 MiB of form data, which JSON
/// escaping can grow to about 60 MiB in one log entry; the sender splits larger batches.
pub const MAX_PEER_BODY: usize = 128 << 20;

/// Snapshots carry the whole store; the snapshot route reads its body itself, chunk by chunk,
/// and enforces this as it goes.
const MAX_SNAPSHOT_BODY: usize = 4 << 30;

/// What the peer router needs: raft, who we are, and the applied member list.
pub struct PeerService {
    node: RaftNode,
    member_id: u64,
    shared: Arc<Shared>,
    cluster_id: u64,
    token: String,
    /// AppendEntries received, for `/v2/stats/self` `recvAppendRequestCnt`.
    recv_append: AtomicU64,
    /// The append streams open to us (`rpc/stream.rs`).
    streams: stream::Streams,
    /// The forwarding connections open to us (`rpc/forwarded.rs`).
    forwards: stream::Streams,
}

impl PeerService {
    pub fn new(
        node: RaftNode,
        shared: Arc<Shared>,
        member_id: u64,
        cluster_id: u64,
        token: String,
    ) -> PeerService {
        PeerService {
            node,
            member_id,
            shared,
            cluster_id,
            token,
            recv_append: AtomicU64::new(0),
            streams: stream::Streams::default(),
            forwards: stream::Streams::default(),
        }
    }

    /// AppendEntries received so far.
    pub fn recv_append(&self) -> u64 {
        self.recv_append.load(Ordering::Relaxed)
    }
}

/// The peer-facing router.
pub fn router(svc: Arc<PeerService>) -> Router {
    let router = Router::new().route(
        paths::SNAPSHOT,
        post(install_snapshot).layer(DefaultBodyLimit::max(MAX_SNAPSHOT_BODY)),
    );
    // Test-only: `ETCD_TEST_PEER_BEFORE_STREAMS=1` serves the peer API as members before
    // b11dbce did, without the append and forwarding streams (a GET there is then a 405, as
    // `/raft/{rpc}` takes only POST), so tests can run a rolling upgrade from such a member.
    let before_streams =
        std::env::var_os("ETCD_TEST_PEER_BEFORE_STREAMS").is_some_and(|v| !v.is_empty());
    let router = if before_streams {
        tracing::warn!("test hook: the peer API without its streams, as older members serve it");
        router
    } else {
        router
            .route(paths::STREAM, get(stream::open))
            .route(paths::FORWARD, get(forwarded::open))
    };
    router
        .route("/raft/{rpc}", post(rpc))
        .layer(DefaultBodyLimit::max(MAX_PEER_BODY))
        .with_state(svc)
}

/// Why a peer request was refused before it reached raft.
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error("cluster ID mismatch: local={ours} remote={theirs}")]
    ClusterMismatch { ours: String, theirs: String },
    #[error("the member has been permanently removed from the cluster")]
    Removed,
    #[error("unknown member {0}")]
    UnknownMember(String),
    #[error("term {theirs} is implausible (current term {ours})")]
    ImplausibleTerm { theirs: u64, ours: u64 },
    #[error("{0}")]
    BadRequest(String),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = match &self {
            Refusal::ClusterMismatch { .. } => StatusCode::PRECONDITION_FAILED,
            Refusal::Removed => StatusCode::GONE,
            Refusal::UnknownMember(_) | Refusal::ImplausibleTerm { .. } => StatusCode::FORBIDDEN,
            Refusal::BadRequest(_) => StatusCode::BAD_REQUEST,
        };
        (status, self.to_string()).into_response()
    }
}

impl PeerService {
    fn check_cluster(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let ours = format!("{:x}", self.cluster_id);
        let theirs = header(headers, CLUSTER_ID).unwrap_or_default();
        if theirs != ours {
            return Err(Refusal::ClusterMismatch {
                ours,
                theirs: theirs.to_string(),
            });
        }
        Ok(())
    }

    /// The sender must be in the configuration raft holds. A member that is still joining has
    /// no configuration yet; it takes the leader's word (the cluster id was checked).
    fn check_member(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let from_text = header(headers, FROM).unwrap_or_default();
        let from = etcd_common::stats::parse_member_id(from_text);
        let members = self.node.status().members;
        if members.is_empty() {
            return Ok(());
        }
        match from {
            // A member never sends itself a message: whoever claims to be us is not.
            Some(id) if id != self.member_id && members.contains_key(&id) => Ok(()),
            Some(id) if self.shared.store().is_removed_member(id) => Err(Refusal::Removed),
            _ => {
                tracing::warn!(
                    from = from_text,
                    "refused a peer request from an unknown member"
                );
                Err(Refusal::UnknownMember(from_text.to_string()))
            }
        }
    }

    fn check_term(&self, vote: &Vote) -> Result<(), Refusal> {
        let ours = self.node.status().term;
        let theirs = vote.leader_id.term;
        if theirs > ours.saturating_add(MAX_TERM_STEP) || theirs > u64::MAX - MAX_TERM_STEP {
            tracing::warn!(
                theirs,
                ours,
                "refused a raft message with an implausible term"
            );
            return Err(Refusal::ImplausibleTerm { theirs, ours });
        }
        Ok(())
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Bodies above this are decoded on a blocking thread: parsing megabytes of JSON on an async
/// worker would hold up heartbeats and every other request it serves.
const DECODE_INLINE: usize = 64 << 10;

async fn decode<T: DeserializeOwned + Send + 'static>(body: Bytes) -> Result<T, Refusal> {
    let inline = body.len() <= DECODE_INLINE;
    let parse =
        move || serde_json::from_slice(&body).map_err(|e| Refusal::BadRequest(e.to_string()));
    if inline {
        return parse();
    }
    tokio::task::spawn_blocking(parse)
        .await
        .map_err(|e| Refusal::BadRequest(e.to_string()))?
}

fn json<T: Serialize>(v: &T) -> Response {
    match serde_json::to_vec(v) {
        Ok(b) => ([(axum::http::header::CONTENT_TYPE, "application/json")], b).into_response(),
        Err(e) => Refusal::BadRequest(e.to_string()).into_response(),
    }
}

async fn rpc(
    State(svc): State<Arc<PeerService>>,
    Path(rpc): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/raft/{rpc}");
    let res = if path == paths::CLUSTER {
        cluster_info(&svc, &headers)
    } else {
        match svc
            .check_cluster(&headers)
            .and_then(|_| svc.check_member(&headers))
        {
            Ok(()) => dispatch(&svc, &path, body).await,
            Err(e) => Err(e),
        }
    };
    res.unwrap_or_else(IntoResponse::into_response)
}

async fn dispatch(svc: &PeerService, path: &str, body: Bytes) -> Result<Response, Refusal> {
    let raft = svc.node.raw();
    Ok(match path {
        paths::APPEND => {
            svc.recv_append.fetch_add(1, Ordering::Relaxed);
            let req: AppendEntriesRequest = decode(body).await?;
            svc.check_term(&req.vote)?;
            json(&raft.append_entries(req).await)
        }
        paths::VOTE => {
            let req: VoteRequest = decode(body).await?;
            svc.check_term(&req.vote)?;
            json(&raft.vote(req).await)
        }
        paths::PRE_VOTE => {
            let req: VoteRequest = decode(body).await?;
            svc.check_term(&req.vote)?;
            json(&raft.pre_vote(req).await)
        }
        paths::TRANSFER_LEADER => {
            let req: TransferLeaderRequest = decode(body).await?;
            svc.check_term(req.from_leader())?;
            let res: Result<_, RaftError> = raft
                .handle_transfer_leader(req)
                .await
                .map_err(RaftError::Fatal);
            json(&res)
        }
        paths::PROPOSE => json(&propose_reply(svc, decode(body).await?).await),
        paths::READ_INDEX => json(&read_index_reply(svc).await),
        paths::MEMBERS => {
            let op: MemberOp = decode(body).await?;
            let reply: MemberOpReply = svc.node.member_op(&svc.token, op).await;
            json(&reply)
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    })
}

/// A write a follower forwarded, proposed here.
async fn propose_reply(svc: &PeerService, cmd: Command) -> ProposeReply {
    match svc.node.write(cmd).await {
        Ok(a) => ProposeReply {
            result: Ok(a.result),
            raft_index: a.raft_index,
        },
        Err(e) => ProposeReply {
            result: Err(e),
            raft_index: 0,
        },
    }
}

async fn read_index_reply(svc: &PeerService) -> ReadIndexReply {
    ReadIndexReply {
        result: svc.node.read_index().await,
    }
}

/// Tell a joining member the cluster id and the members, if `member add` recorded its peer
/// URLs; a stranger learns nothing.
fn cluster_info(svc: &PeerService, headers: &HeaderMap) -> Result<Response, Refusal> {
    let mut theirs: Vec<&str> = header(headers, PEER_URLS)
        .unwrap_or_default()
        .split(',')
        .filter(|u| !u.is_empty())
        .collect();
    theirs.sort_unstable();
    let members: Vec<_> = svc.node.status().members.into_iter().collect();
    let listed = members.iter().any(|(_, m)| {
        let mut urls: Vec<&str> = m.peer_urls.iter().map(String::as_str).collect();
        urls.sort_unstable();
        urls == theirs
    });
    if !listed {
        tracing::warn!(
            peer_urls = theirs.join(","),
            "refused the member list to a member that was not added"
        );
        return Err(Refusal::UnknownMember(theirs.join(",")));
    }
    Ok(json(&ClusterInfo {
        cluster_id: svc.cluster_id,
        members,
    }))
}

/// InstallSnapshot: the body is binary (see [`snapshot`]): the vote as JSON behind a length,
/// then the sender's snapshot file as it is. It is written chunk by chunk to a file in the
/// member dir and verified on the way, so a large store is never in memory as bytes; that file
/// becomes our snapshot.
async fn install_snapshot(
    State(svc): State<Arc<PeerService>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let res = async {
        svc.check_cluster(&headers)?;
        svc.check_member(&headers)?;
        let expected = header(&headers, snapshot::SIZE_HEADER)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let (vote, meta, data) = receive_snapshot(&svc, body, expected).await?;
        let snapshot = Snapshot {
            meta,
            snapshot: data,
        };
        let res: Result<_, RaftError> = svc
            .node
            .raw()
            .install_full_snapshot(vote, snapshot)
            .await
            .map_err(RaftError::Fatal);
        Ok::<_, Refusal>(json(&res))
    }
    .await;
    res.unwrap_or_else(IntoResponse::into_response)
}

/// Receive the body into a file; the vote is checked as soon as it is in, before the bulk.
async fn receive_snapshot(
    svc: &PeerService,
    body: Body,
    expected: u64,
) -> Result<(Vote, SnapshotMeta, SnapshotData), Refusal> {
    let refuse = |e: snapshot::DecodeError| Refusal::BadRequest(e.to_string());
    let file = svc.shared.snapshot_file();
    let mut receiver =
        snapshot::Receiver::new(file, expected, MAX_SNAPSHOT_BODY as u64).map_err(refuse)?;
    let mut stream = body.into_data_stream();
    let mut checked = false;
    let started = std::time::Instant::now();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| Refusal::BadRequest(e.to_string()))?;
        receiver.push(chunk).await.map_err(refuse)?;
        if !checked && let Some(vote) = receiver.vote() {
            svc.check_term(vote)?;
            checked = true;
        }
    }
    let received = receiver.finish().await.map_err(refuse)?;
    tracing::info!(
        bytes = received.2.len(),
        took = ?started.elapsed(),
        "received a snapshot"
    );
    Ok(received)
}
