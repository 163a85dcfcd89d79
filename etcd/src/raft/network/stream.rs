//! The append stream to one follower: openraft's `stream_append`, pipelined on one long-lived
//! connection.
//!
//! The connection is an HTTP/1.1 upgrade of `GET /raft/stream`, so it passes the cluster-id
//! and member checks (and the TLS) of every peer request; after the `101` both directions carry
//! length-prefixed JSON frames: AppendEntries requests one way, their results the other, in
//! order. A request goes out as soon as openraft produces it, without waiting for the answers
//! to earlier ones (etcd pipelines its MsgApp stream the same way), up to [`MAX_INFLIGHT`]
//! requests or [`MAX_INFLIGHT_BYTES`] unanswered; openraft batches whatever piles up meanwhile
//! into the next request. Per write this replaces two HTTP exchanges with each follower (the
//! entries, then the commit index) by two small frames.
//!
//! A session that ends cleanly leaves its connection for the next one; a session that fails or
//! is abandoned half-way closes it (the follower ends its side after an error anyway). A
//! session that starts with an entry-less request (a heartbeat: openraft's heartbeat worker
//! opens a one-request stream per heartbeat; or a probe) sends it as a plain request, so
//! heartbeats never set up connections and never queue behind entries.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;
use futures::{SinkExt, Stream, StreamExt};
use openraft::errors::{NetworkError, Unreachable};
use openraft::network::RPCOption;
use tokio::sync::mpsc;
use tokio_util::codec::{FramedRead, FramedWrite, LengthDelimitedCodec};

use super::connection::{PeerConnection, encode, split_all};
use super::link::SendError;
use super::paths;
use crate::raft::rpc::MAX_PEER_BODY;
use crate::raft::types::{AppendEntriesRequest, AppendEntriesResponse, RaftError, RpcError};

/// The `Upgrade` token of the append stream.
pub const PROTOCOL: &str = "etcd-raft-append/1";

/// Unanswered requests on one stream, at most.
const MAX_INFLIGHT: usize = 64;

/// Unanswered bytes on one stream, at most (one request is always allowed, whatever its size).
const MAX_INFLIGHT_BYTES: usize = 32 << 20;

pub type Answer = crate::raft::types::StreamAppendResult;

/// The framing both sides use: a 4-byte big-endian length, then that many bytes of JSON.
pub fn codec() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .max_frame_length(MAX_PEER_BODY)
        .new_codec()
}

/// Write the frames `rx` yields until it closes or the connection breaks; whatever queued up
/// meanwhile goes out with one flush.
pub async fn write_frames<W>(w: W, mut rx: mpsc::Receiver<Bytes>)
where
    W: tokio::io::AsyncWrite + Unpin,
{
    let mut out = FramedWrite::new(w, codec());
    while let Some(frame) = rx.recv().await {
        if out.feed(frame).await.is_err() {
            return;
        }
        while let Ok(frame) = rx.try_recv() {
            if out.feed(frame).await.is_err() {
                return;
            }
        }
        if SinkExt::<Bytes>::flush(&mut out).await.is_err() {
            return;
        }
    }
}

/// A connection's writer and reader tasks, ended with their owner (which closes it).
pub struct Tasks {
    pub writer: tokio::task::JoinHandle<()>,
    pub reader: tokio::task::JoinHandle<()>,
}

impl Drop for Tasks {
    fn drop(&mut self) {
        self.writer.abort();
        self.reader.abort();
    }
}

/// An open stream: frames go to the writer task, answers come from the reader task. Dropping
/// it ends both tasks, which closes the connection.
pub struct Pipe {
    frames: mpsc::Sender<Bytes>,
    answers: mpsc::Receiver<Result<Answer, String>>,
    _tasks: Tasks,
}

impl Pipe {
    fn new<T>(io: T) -> Pipe
    where
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
    {
        let (r, w) = tokio::io::split(io);
        let (frames, to_write) = mpsc::channel::<Bytes>(MAX_INFLIGHT);
        let (to_answer, answers) = mpsc::channel(MAX_INFLIGHT);
        let writer = tokio::spawn(write_frames(w, to_write));
        let reader = tokio::spawn(async move {
            let mut input = FramedRead::new(r, codec());
            loop {
                let answer = match input.next().await {
                    Some(Ok(frame)) => {
                        match serde_json::from_slice::<Result<Answer, RaftError>>(&frame) {
                            Ok(Ok(a)) => Ok(a),
                            Ok(Err(e)) => Err(e.to_string()),
                            Err(e) => Err(format!("undecodable answer: {e}")),
                        }
                    }
                    Some(Err(e)) => Err(format!("stream broken: {e}")),
                    None => Err("stream closed by the peer".to_string()),
                };
                let last = answer.is_err();
                if to_answer.send(answer).await.is_err() || last {
                    return;
                }
            }
        });
        Pipe {
            frames,
            answers,
            _tasks: Tasks { writer, reader },
        }
    }
}

/// A request sent and not yet answered.
struct Sent {
    at: Instant,
    deadline: tokio::time::Instant,
    bytes: usize,
}

/// One `stream_append` session.
pub struct Session<'s, S> {
    conn: &'s mut PeerConnection,
    input: S,
    option: RPCOption,
    pipe: Option<Pipe>,
    inflight: VecDeque<Sent>,
    inflight_bytes: usize,
    input_done: bool,
    ended: bool,
}

enum Step {
    Request(Option<AppendEntriesRequest>),
    Answer(Option<Result<Answer, String>>),
    Late,
}

impl<'s, S> Session<'s, S>
where
    S: Stream<Item = AppendEntriesRequest> + Unpin + Send + 'static,
{
    pub fn new(conn: &'s mut PeerConnection, input: S, option: RPCOption) -> Self {
        let pipe = conn.pipe.take();
        Session {
            conn,
            input,
            option,
            pipe,
            inflight: VecDeque::new(),
            inflight_bytes: 0,
            input_done: false,
            ended: false,
        }
    }

    /// The answers, in request order; the stream ends after the first error.
    pub fn answers(self) -> impl Stream<Item = Result<Answer, RpcError>> + Send + 's {
        futures::stream::unfold(self, |mut s| async move {
            let next = s.next().await?;
            Some((next, s))
        })
    }

    async fn next(&mut self) -> Option<Result<Answer, RpcError>> {
        loop {
            if self.ended {
                return None;
            }
            if self.input_done && self.inflight.is_empty() {
                // A clean end: the connection serves the next session.
                self.conn.pipe = self.pipe.take();
                self.ended = true;
                return None;
            }
            let room = self.inflight.is_empty()
                || (self.inflight.len() < MAX_INFLIGHT && self.inflight_bytes < MAX_INFLIGHT_BYTES);
            let late_at = self.inflight.front().map(|s| s.deadline);
            let step = {
                let waiting = !self.inflight.is_empty();
                let Session {
                    input,
                    pipe,
                    input_done,
                    ..
                } = self;
                let answer = async {
                    match pipe {
                        Some(p) => p.answers.recv().await,
                        None => std::future::pending().await,
                    }
                };
                let late = async {
                    match late_at {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    biased;
                    a = answer, if waiting => Step::Answer(a),
                    () = late, if waiting => Step::Late,
                    r = input.next(), if !*input_done && room => Step::Request(r),
                }
            };
            match step {
                Step::Request(None) => self.input_done = true,
                Step::Request(Some(req)) => {
                    if self.pipe.is_none() && self.inflight.is_empty() && req.entries.is_empty()
                        || self.conn.streams_refused
                    {
                        return Some(self.plain(req).await);
                    }
                    if let Err(e) = self.send(req).await {
                        return Some(self.fail(e));
                    }
                }
                Step::Answer(Some(Ok(answer))) => {
                    self.answered();
                    if answer.is_err() {
                        // Conflict or a higher vote: the follower ends its side of the stream.
                        self.pipe = None;
                        self.ended = true;
                    }
                    return Some(Ok(answer));
                }
                Step::Answer(answer) => {
                    let reason = match answer {
                        Some(Err(reason)) => reason,
                        _ => "append stream ended".to_string(),
                    };
                    self.conn.link.broke(&reason);
                    let e = RpcError::Unreachable(Unreachable::from_string(reason));
                    return Some(self.fail(e));
                }
                Step::Late => {
                    let waited = self.inflight.front().map(|s| s.at.elapsed());
                    let reason = format!(
                        "no answer on the append stream within {:?}",
                        waited.unwrap_or_default()
                    );
                    self.conn.link.broke(&reason);
                    let e = RpcError::Network(NetworkError::from_string(reason));
                    return Some(self.fail(e));
                }
            }
        }
    }

    /// End the session with `e`, closing the connection.
    fn fail(&mut self, e: RpcError) -> Result<Answer, RpcError> {
        self.pipe = None;
        self.ended = true;
        Err(e)
    }

    fn answered(&mut self) {
        if let Some(sent) = self.inflight.pop_front() {
            self.inflight_bytes = self.inflight_bytes.saturating_sub(sent.bytes);
            self.conn.record(Some(sent.at.elapsed()));
        }
        self.conn.link.heard();
    }

    /// One request as a plain HTTP exchange (see the module doc).
    async fn plain(&mut self, req: AppendEntriesRequest) -> Result<Answer, RpcError> {
        use openraft::network::v2::RaftNetworkV2;
        let prev = req.prev_log_id;
        let last = req.entries.last().map(|e| e.log_id).or(prev);
        let res = self.conn.append_entries(req, self.option.clone()).await;
        match res {
            Ok(resp) => {
                // A follower that took only part of it: openraft sends the rest in a new session.
                if matches!(resp, AppendEntriesResponse::PartialSuccess(p) if p != last) {
                    self.ended = true;
                }
                let answer = resp.into_stream_result(prev, last);
                if answer.is_err() {
                    self.ended = true;
                }
                Ok(answer)
            }
            Err(e) => {
                self.ended = true;
                Err(e)
            }
        }
    }

    /// Put `req` on the stream (in parts, if it is large), opening the stream first if needed.
    async fn send(&mut self, req: AppendEntriesRequest) -> Result<(), RpcError> {
        if self.pipe.is_none() {
            match self.conn.open_pipe(&self.option).await? {
                Some(pipe) => self.pipe = Some(pipe),
                None => {
                    // The peer does not speak the stream (an older member): plain requests.
                    self.conn.streams_refused = true;
                    return Err(RpcError::Unreachable(Unreachable::from_string(
                        "the peer refused the append stream; retrying with plain requests",
                    )));
                }
            }
        }
        for part in split_all(req) {
            let body = encode(part).await?;
            let bytes = body.len();
            let wait = self.conn.client.deadline(self.option.soft_ttl(), bytes);
            let Some(pipe) = &self.pipe else {
                break;
            };
            if pipe.frames.send(body).await.is_err() {
                return Err(RpcError::Unreachable(Unreachable::from_string(
                    "append stream closed",
                )));
            }
            self.inflight.push_back(Sent {
                at: Instant::now(),
                deadline: tokio::time::Instant::now() + wait,
                bytes,
            });
            self.inflight_bytes += bytes;
        }
        Ok(())
    }
}

impl PeerConnection {
    /// Upgrade a connection to the append stream. `Ok(None)`: the peer does not know the
    /// stream (see [`super::predates_streams`]).
    async fn open_pipe(&mut self, option: &RPCOption) -> Result<Option<Pipe>, RpcError> {
        let url = self.url(paths::STREAM);
        let wait = self.client.deadline(option.soft_ttl(), 0);
        let request = self.client.upgrade_request(&url, PROTOCOL);
        let resp = self.link.open(request, wait).await.map_err(|e| match e {
            SendError::Unreachable(m) => RpcError::Unreachable(Unreachable::from_string(m)),
            SendError::TimedOut(m) => RpcError::Network(NetworkError::from_string(m)),
        })?;
        let status = resp.status();
        if super::predates_streams(status) {
            return Ok(None);
        }
        if status != reqwest::StatusCode::SWITCHING_PROTOCOLS {
            let body = resp.bytes().await.unwrap_or_default();
            let e = match self.client.check_status(status, &url, &body) {
                Err(super::PeerError::Refused(m)) => {
                    self.link.refused(&m);
                    m
                }
                Err(e) => e.to_string(),
                Ok(()) => format!("HTTP {status} from {url}"),
            };
            return Err(RpcError::Unreachable(Unreachable::from_string(e)));
        }
        let io = resp.upgrade().await.map_err(|e| {
            RpcError::Unreachable(Unreachable::from_string(super::link::describe(&e)))
        })?;
        Ok(Some(Pipe::new(io)))
    }
}
