//! The leader's side of the forwarding connection (the follower's is
//! `network/forwarder.rs`): each frame is a call; each runs on its own task and is answered
//! when it is done, tagged with its id, in whatever order they finish.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::codec::{FramedRead, FramedWrite};
use tokio_util::sync::CancellationToken;

use super::{FROM, PeerService, Refusal, decode, propose_reply, read_index_reply};
use crate::raft::network::forwarder::{Call, PROTOCOL, frame};
use crate::raft::network::stream::codec;

/// Calls running at once on one connection; the connection is not read while they are all
/// busy.
const MAX_CALLS: usize = 4096;

/// `GET /raft/forward` with `Upgrade: etcd-raft-forward/1`.
pub(super) async fn open(State(svc): State<Arc<PeerService>>, mut req: Request) -> Response {
    let checked = svc
        .check_cluster(req.headers())
        .and_then(|()| svc.check_member(req.headers()));
    if let Err(e) = checked {
        return e.into_response();
    }
    let wants = req
        .headers()
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(PROTOCOL.as_bytes()));
    if !wants {
        return Refusal::BadRequest(format!("expected Upgrade: {PROTOCOL}")).into_response();
    }
    let from = super::header(req.headers(), FROM)
        .and_then(etcd_common::stats::parse_member_id)
        .unwrap_or_default();
    let upgrade = hyper::upgrade::on(&mut req);
    let (id, stop) = svc.forwards.open(from);
    tokio::spawn(async move {
        match upgrade.await {
            Ok(io) => run(&svc, hyper_util::rt::TokioIo::new(io), stop).await,
            Err(e) => tracing::debug!("forwarding from {from:x}: upgrade failed: {e}"),
        }
        svc.forwards.close(from, id);
    });
    (
        StatusCode::SWITCHING_PROTOCOLS,
        [(header::CONNECTION, "upgrade"), (header::UPGRADE, PROTOCOL)],
    )
        .into_response()
}

async fn run<T>(svc: &Arc<PeerService>, io: T, stop: CancellationToken)
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    let (r, w) = tokio::io::split(io);
    let mut frames = FramedRead::new(r, codec());
    let mut out = FramedWrite::new(w, codec());
    let (tx, mut rx) = mpsc::channel::<Bytes>(1024);
    let busy = Arc::new(Semaphore::new(MAX_CALLS));
    let read = async {
        while let Some(Ok(f)) = frames.next().await {
            let Some((id, call)) = head(&f) else {
                tracing::warn!("forwarding: refused a malformed call");
                return;
            };
            let Ok(permit) = busy.clone().acquire_owned().await else {
                return;
            };
            let (svc, tx) = (svc.clone(), tx.clone());
            let body = f.freeze().slice(9..);
            tokio::spawn(async move {
                let _permit = permit;
                let json = match answer(&svc, call, body).await {
                    Ok(json) => json,
                    Err(e) => {
                        tracing::warn!("forwarding: refused a call: {e}");
                        return;
                    }
                };
                let _ = tx.send(frame(id, None, &json)).await;
            });
        }
    };
    let write = async {
        while let Some(f) = rx.recv().await {
            if out.feed(f).await.is_err() {
                return;
            }
            while let Ok(f) = rx.try_recv() {
                if out.feed(f).await.is_err() {
                    return;
                }
            }
            if SinkExt::<Bytes>::flush(&mut out).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        () = stop.cancelled() => {}
        // The follower closed: answers still running have nowhere to go.
        () = read => {}
        () = write => {}
    }
}

/// A call frame's id and kind.
fn head(f: &[u8]) -> Option<(u64, Call)> {
    let id = u64::from_be_bytes(f.get(..8)?.try_into().ok()?);
    Some((id, Call::from_byte(*f.get(8)?)?))
}

async fn answer(svc: &PeerService, call: Call, body: Bytes) -> Result<Vec<u8>, Refusal> {
    let json = match call {
        Call::Propose => serde_json::to_vec(&propose_reply(svc, decode(body).await?).await),
        Call::ReadIndex => serde_json::to_vec(&read_index_reply(svc).await),
    };
    json.map_err(|e| Refusal::BadRequest(e.to_string()))
}
