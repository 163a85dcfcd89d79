//! The follower's side of the append stream (the leader's is `network/stream.rs`): a peer
//! request that passed the cluster and member checks is upgraded, then its frames are fed to
//! openraft's `stream_append` in order and the answers written back in the same order.
//!
//! A leader opens at most a couple of streams to each follower at a time; a stream it abandoned
//! on a link that went silent would otherwise sit here until TCP gave up. So each sender keeps
//! only its [`PER_PEER`] newest streams and an older one is closed when a new one opens.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_util::codec::{FramedRead, FramedWrite};
use tokio_util::sync::CancellationToken;

use super::{FROM, PeerService, Refusal, decode};
use crate::raft::network::stream::{Answer, PROTOCOL, codec};
use crate::raft::types::{AppendEntriesRequest, RaftError};

/// Streams kept open per sending member.
const PER_PEER: usize = 2;

/// The open streams, by sending member.
#[derive(Default)]
pub struct Streams {
    inner: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    /// The last stream id handed out.
    last: u64,
    /// Each sender's streams, oldest first.
    by_peer: HashMap<u64, VecDeque<(u64, CancellationToken)>>,
}

impl Streams {
    /// Register a new stream from `from`, closing its oldest beyond [`PER_PEER`].
    fn open(&self, from: u64) -> (u64, CancellationToken) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.last += 1;
        let id = inner.last;
        let token = CancellationToken::new();
        let open = inner.by_peer.entry(from).or_default();
        open.push_back((id, token.clone()));
        while open.len() > PER_PEER {
            if let Some((_, old)) = open.pop_front() {
                old.cancel();
            }
        }
        (id, token)
    }

    fn close(&self, from: u64, id: u64) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(open) = inner.by_peer.get_mut(&from) {
            open.retain(|(i, _)| *i != id);
            if open.is_empty() {
                inner.by_peer.remove(&from);
            }
        }
    }
}

/// `GET /raft/stream` with `Upgrade: etcd-raft-append/1`.
pub(super) async fn open(State(svc): State<Arc<PeerService>>, req: Request) -> Response {
    upgrade(
        svc,
        req,
        PROTOCOL,
        |s| &s.streams,
        |svc, io, stop| async move {
            run(&svc, io, stop).await;
        },
    )
}

/// The upgraded connection a handler serves.
pub(super) type Upgraded = hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>;

/// Check who is asking, then upgrade `req` to `protocol` and hand the connection to `serve` on
/// a task of its own, registered in `registry` (which closes a sender's oldest beyond
/// [`PER_PEER`]).
pub(super) fn upgrade<F, Fut>(
    svc: Arc<PeerService>,
    mut req: Request,
    protocol: &'static str,
    registry: fn(&PeerService) -> &Streams,
    serve: F,
) -> Response
where
    F: FnOnce(Arc<PeerService>, Upgraded, CancellationToken) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let checked = svc
        .check_cluster(req.headers())
        .and_then(|()| svc.check_member(req.headers()));
    if let Err(e) = checked {
        return e.into_response();
    }
    let wants = req
        .headers()
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(protocol.as_bytes()));
    if !wants {
        return Refusal::BadRequest(format!("expected Upgrade: {protocol}")).into_response();
    }
    let from = super::header(req.headers(), FROM)
        .and_then(etcd_common::stats::parse_member_id)
        .unwrap_or_default();
    let on_upgrade = hyper::upgrade::on(&mut req);
    let (id, stop) = registry(&svc).open(from);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(io) => serve(svc.clone(), hyper_util::rt::TokioIo::new(io), stop).await,
            Err(e) => tracing::debug!("{protocol} from {from:x}: upgrade failed: {e}"),
        }
        registry(&svc).close(from, id);
    });
    (
        StatusCode::SWITCHING_PROTOCOLS,
        [(header::CONNECTION, "upgrade"), (header::UPGRADE, protocol)],
    )
        .into_response()
}

/// Serve one stream until the leader closes it, raft ends it (after a conflict or a higher
/// vote), a frame is malformed, or a newer stream from the same member replaces it.
async fn run<T>(svc: &PeerService, io: T, stop: CancellationToken)
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    let (r, w) = tokio::io::split(io);
    let mut frames = FramedRead::new(r, codec());
    let mut out = FramedWrite::new(w, codec());
    let (tx, rx) = mpsc::channel::<AppendEntriesRequest>(64);
    let input =
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|r| (r, rx)) });
    let answers = svc.node.raw().stream_append(input);
    let read = async move {
        while let Some(Ok(frame)) = frames.next().await {
            svc.recv_append.fetch_add(1, Ordering::Relaxed);
            let req: AppendEntriesRequest = match decode(frame.freeze()).await {
                Ok(req) => req,
                Err(e) => {
                    tracing::warn!("append stream: refused a malformed request: {e}");
                    break;
                }
            };
            if svc.check_term(&req.vote).is_err() || tx.send(req).await.is_err() {
                break;
            }
        }
        // No more requests: raft answers those it has, then `write` ends the stream.
        drop(tx);
        std::future::pending::<()>().await
    };
    let write = async move {
        let mut answers = std::pin::pin!(answers);
        while let Some(answer) = answers.next().await {
            let answer: Result<Answer, RaftError> = answer.map_err(RaftError::Fatal);
            let Ok(bytes) = serde_json::to_vec(&answer) else {
                return;
            };
            if out.send(Bytes::from(bytes)).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        () = stop.cancelled() => {}
        () = write => {}
        () = read => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sender_keeps_only_its_newest_streams() {
        let streams = Streams::default();
        let (a, first) = streams.open(7);
        let (_, second) = streams.open(7);
        let (_, other) = streams.open(8);
        assert!(!first.is_cancelled() && !second.is_cancelled());
        let (_, third) = streams.open(7);
        assert!(first.is_cancelled(), "the oldest of three is closed");
        assert!(!second.is_cancelled() && !third.is_cancelled() && !other.is_cancelled());
        streams.close(7, a);
        let (_, fourth) = streams.open(7);
        assert!(second.is_cancelled() && !third.is_cancelled() && !fourth.is_cancelled());
    }
}
