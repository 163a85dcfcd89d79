//! The leader's side of the forwarding connection (the follower's is
//! `network/forwarder.rs`): each frame is a call; each runs on its own task and is answered
//! when it is done, tagged with its id, in whatever order they finish.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;
use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;

use super::stream::upgrade;
use super::{PeerService, Refusal, decode, propose_reply, read_index_reply};
use crate::raft::network::forwarder::{Call, PROTOCOL, frame};
use crate::raft::network::stream::{codec, write_frames};

/// Calls running at once on one connection; the connection is not read while they are all
/// busy.
const MAX_CALLS: usize = 4096;

/// `GET /raft/forward` with `Upgrade: etcd-raft-forward/1`.
pub(super) async fn open(State(svc): State<Arc<PeerService>>, req: Request) -> Response {
    upgrade(
        svc,
        req,
        PROTOCOL,
        |s| &s.forwards,
        |svc, io, stop| async move {
            run(&svc, io, stop).await;
        },
    )
}

async fn run<T>(svc: &Arc<PeerService>, io: T, stop: CancellationToken)
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    let (r, w) = tokio::io::split(io);
    let mut frames = FramedRead::new(r, codec());
    let (tx, rx) = mpsc::channel::<Bytes>(1024);
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
    let write = write_frames(w, rx);
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
