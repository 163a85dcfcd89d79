//! Forwarded writes and read indexes on one long-lived connection to the leader.
//!
//! A follower used to send each forwarded write as its own HTTP request: with many clients on
//! a follower, the leader parsed as many requests as writes, and each held a connection. Now
//! a follower upgrades one connection to the leader (`GET /raft/forward`, the identity checks
//! of every peer request) and multiplexes its calls on it: each frame carries a call id, and
//! the leader answers each call when it is done, in any order.
//!
//! Whether a call may be sent again matters (a write must not happen twice): a call that never
//! got onto the connection is [`PeerError::Unreachable`] (not sent); once it is on the
//! connection, a broken connection or a missed deadline is [`PeerError::Other`] (it may have
//! happened).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use futures::StreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, oneshot};
use tokio_util::codec::FramedRead;

use super::{PeerClient, PeerError, paths, stream};

/// The `Upgrade` token of the forwarding connection.
pub const PROTOCOL: &str = "etcd-raft-forward/1";

/// What a call asks of the leader (the byte after the call id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Call {
    Propose = 1,
    ReadIndex = 2,
}

impl Call {
    pub fn from_byte(b: u8) -> Option<Call> {
        match b {
            1 => Some(Call::Propose),
            2 => Some(Call::ReadIndex),
            _ => None,
        }
    }
}

/// A call's frame: its id (8 bytes, big-endian), for a request the kind of call, then JSON.
pub fn frame(id: u64, call: Option<Call>, json: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(9 + json.len());
    b.put_u64(id);
    if let Some(c) = call {
        b.put_u8(c as u8);
    }
    b.put_slice(json);
    b.freeze()
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<Bytes, String>>>>>;

/// One open forwarding connection.
pub struct Conn {
    frames: mpsc::Sender<Bytes>,
    pending: Pending,
    next: AtomicU64,
    /// Given up on (see [`Conn::give_up`]).
    closed: AtomicBool,
    tasks: stream::Tasks,
}

impl Conn {
    fn new<T>(io: T) -> Conn
    where
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
    {
        let (r, w) = tokio::io::split(io);
        let (frames, to_write) = mpsc::channel::<Bytes>(1024);
        let pending: Pending = Arc::default();
        let writer = tokio::spawn(stream::write_frames(w, to_write));
        let answers = pending.clone();
        let reader = tokio::spawn(async move {
            let mut input = FramedRead::new(r, stream::codec());
            let why = loop {
                match input.next().await {
                    Some(Ok(mut f)) if f.len() >= 8 => {
                        let id = u64::from_be_bytes(f[..8].try_into().unwrap_or_default());
                        let body = f.split_off(8).freeze();
                        let waiter = lock(&answers).remove(&id);
                        if let Some(w) = waiter {
                            let _ = w.send(Ok(body));
                        }
                    }
                    Some(Ok(_)) => break "a malformed answer".to_string(),
                    Some(Err(e)) => break format!("connection broken: {e}"),
                    None => break "connection closed by the leader".to_string(),
                }
            };
            // Every call still waiting was sent: its outcome is unknown.
            for (_, w) in lock(&answers).drain() {
                let _ = w.send(Err(why.clone()));
            }
        });
        Conn {
            frames,
            pending,
            next: AtomicU64::new(1),
            closed: AtomicBool::new(false),
            tasks: stream::Tasks { writer, reader },
        }
    }

    fn is_open(&self) -> bool {
        !self.closed.load(Ordering::Relaxed)
            && !self.frames.is_closed()
            && !self.tasks.reader.is_finished()
    }

    /// Close the connection: a call that got no answer in its time means the leader or the
    /// link is stuck (a black-holed link keeps TCP open for many minutes), so later calls go
    /// on a new connection. The calls still waiting were sent: their outcome is unknown.
    fn give_up(&self, why: &str) {
        self.closed.store(true, Ordering::Relaxed);
        self.tasks.reader.abort();
        self.tasks.writer.abort();
        for (_, w) in lock(&self.pending).drain() {
            let _ = w.send(Err(why.to_string()));
        }
    }

    async fn call(&self, call: Call, json: &[u8], timeout: Duration) -> Result<Bytes, PeerError> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(id, tx);
        // A caller that stops waiting (the leader changed) leaves no waiter behind.
        let _waiting = Waiting {
            pending: &self.pending,
            id,
        };
        // Registered first: a reader that ends from here on fails this call with the rest.
        if !self.is_open() || self.frames.send(frame(id, Some(call), json)).await.is_err() {
            return Err(PeerError::Unreachable(
                "forwarding connection closed".into(),
            ));
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(Ok(body))) => Ok(body),
            Ok(Ok(Err(why))) => Err(PeerError::Other(why)),
            Ok(Err(_)) => Err(PeerError::Other("forwarding connection closed".into())),
            Err(_) => {
                let why = format!("no answer within {timeout:?}");
                self.give_up(&why);
                Err(PeerError::Other(why))
            }
        }
    }
}

/// A call's entry among the pending ones, removed however the call ends.
struct Waiting<'a> {
    pending: &'a Pending,
    id: u64,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        lock(self.pending).remove(&self.id);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The forwarding connections of a member, by the leader's peer URL.
#[derive(Clone, Default)]
pub struct Forwarders {
    open: Arc<tokio::sync::Mutex<HashMap<String, Arc<Conn>>>>,
    /// Peers that predate the stream ([`super::predates_streams`]): plain requests for them.
    plain: Arc<Mutex<std::collections::HashSet<String>>>,
}

impl PeerClient {
    /// `call` with `req` on the leader at `base`, multiplexed on the forwarding connection
    /// (plain HTTP to a peer that does not know it), and its decoded answer.
    pub async fn forward<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        base: &str,
        call: Call,
        req: &Req,
        timeout: Duration,
    ) -> Result<Resp, PeerError> {
        let json = serde_json::to_vec(req).map_err(|e| PeerError::Other(e.to_string()))?;
        let answer = match self.forwarder(base, timeout).await? {
            Some(conn) => conn.call(call, &json, timeout).await?,
            None => {
                let path = match call {
                    Call::Propose => paths::PROPOSE,
                    Call::ReadIndex => paths::READ_INDEX,
                };
                self.call_raw(base, path, json, timeout).await?
            }
        };
        serde_json::from_slice(&answer).map_err(|e| PeerError::Other(e.to_string()))
    }

    /// The open connection to `base`, opening one if needed; `None` when `base` does not
    /// serve them.
    async fn forwarder(
        &self,
        base: &str,
        timeout: Duration,
    ) -> Result<Option<Arc<Conn>>, PeerError> {
        if lock(&self.forwarders.plain).contains(base) {
            return Ok(None);
        }
        // One opener at a time per member: concurrent callers share the new connection.
        let mut open = self.forwarders.open.lock().await;
        if let Some(c) = open.get(base).filter(|c| c.is_open()) {
            return Ok(Some(c.clone()));
        }
        open.remove(base);
        let url = format!("{}{}", base.trim_end_matches('/'), paths::FORWARD);
        // Nothing is sent before the upgrade: every failure here is safe to retry.
        if !self.gate(base, |g| g.open()) {
            return Err(PeerError::Unreachable(format!(
                "{base} failed a moment ago; backing off"
            )));
        }
        let request = self.upgrade_request(&url, PROTOCOL);
        let resp = match tokio::time::timeout(timeout, request.send()).await {
            Ok(Ok(r)) => {
                self.gate(base, super::link::Gate::answered);
                r
            }
            Ok(Err(e)) => {
                self.gate(base, |g| g.failed(self.gate_cap()));
                return Err(PeerError::Unreachable(super::link::describe(&e)));
            }
            Err(_) => {
                self.gate(base, |g| g.failed(self.gate_cap()));
                return Err(PeerError::Unreachable(format!(
                    "{url}: no answer to the upgrade within {timeout:?}"
                )));
            }
        };
        let status = resp.status();
        if super::predates_streams(status) {
            lock(&self.forwarders.plain).insert(base.to_string());
            return Ok(None);
        }
        if status != reqwest::StatusCode::SWITCHING_PROTOCOLS {
            let body = resp.bytes().await.unwrap_or_default();
            let why = match self.check_status(status, &url, &body) {
                Err(e) => e.to_string(),
                Ok(()) => format!("HTTP {status} from {url}"),
            };
            return Err(PeerError::Unreachable(why));
        }
        let io = resp
            .upgrade()
            .await
            .map_err(|e| PeerError::Unreachable(super::link::describe(&e)))?;
        let conn = Arc::new(Conn::new(io));
        open.insert(base.to_string(), conn.clone());
        Ok(Some(conn))
    }
}

#[cfg(test)]
mod tests {
    use futures::SinkExt;
    use tokio_util::codec::FramedWrite;

    use super::*;

    /// A fake leader on the other end of an in-memory pipe: it reads `n` calls, then answers
    /// them in reverse order (each with its own body), then closes.
    async fn leader(io: tokio::io::DuplexStream, n: usize, answer: usize) {
        let (r, w) = tokio::io::split(io);
        let mut calls = FramedRead::new(r, stream::codec());
        let mut out = FramedWrite::new(w, stream::codec());
        let mut got = Vec::new();
        while got.len() < n {
            let Some(Ok(f)) = calls.next().await else {
                return;
            };
            let id = u64::from_be_bytes(f[..8].try_into().unwrap_or_default());
            assert_eq!(Call::from_byte(f[8]), Some(Call::Propose));
            got.push((id, f[9..].to_vec()));
        }
        for (id, body) in got.into_iter().rev().take(answer) {
            let _ = out.send(frame(id, None, &body)).await;
        }
    }

    #[tokio::test]
    async fn answers_reach_their_callers_in_any_order_and_a_lost_connection_fails_the_rest() {
        let (ours, theirs) = tokio::io::duplex(1 << 16);
        // Three calls, two answered: the third is left hanging when the leader closes.
        let fake = tokio::spawn(leader(theirs, 3, 2));
        let conn = Arc::new(Conn::new(ours));
        let calls: Vec<_> = (0..3)
            .map(|i| {
                let conn = conn.clone();
                tokio::spawn(async move {
                    let body = format!("call {i}");
                    let r = conn
                        .call(Call::Propose, body.as_bytes(), Duration::from_secs(30))
                        .await;
                    (body, r)
                })
            })
            .collect();
        let _ = fake.await;
        let mut answered = 0;
        for c in calls {
            let (body, r) = c.await.expect("call task");
            match r {
                Ok(answer) => {
                    assert_eq!(answer, body.as_bytes(), "an answer reached another caller");
                    answered += 1;
                }
                // Sent and never answered: the outcome is unknown, never "not sent".
                Err(PeerError::Other(_)) => {}
                Err(e) => panic!("{body}: {e}"),
            }
        }
        assert_eq!(answered, 2);
        assert!(
            !conn.is_open(),
            "the connection is given up once the leader closed it"
        );
        assert!(conn.pending.lock().map(|p| p.is_empty()).unwrap_or(false));
        // A call after the loss was never sent: safe to retry elsewhere.
        let late = conn
            .call(Call::Propose, b"late", Duration::from_secs(30))
            .await;
        assert!(matches!(late, Err(PeerError::Unreachable(_))), "{late:?}");
    }
}

#[cfg(test)]
mod silent {
    use super::*;

    /// A leader that reads calls and never answers: the call that times out closes the
    /// connection, and the calls waiting beside it learn at once that their outcome is unknown.
    #[tokio::test]
    async fn a_call_that_times_out_gives_the_connection_up() {
        let (ours, theirs) = tokio::io::duplex(1 << 16);
        let (first_in, first) = oneshot::channel();
        let _silent = tokio::spawn(async move {
            let mut calls = FramedRead::new(theirs, stream::codec());
            let mut first_in = Some(first_in);
            while calls.next().await.is_some() {
                if let Some(tx) = first_in.take() {
                    let _ = tx.send(());
                }
            }
        });
        let conn = Arc::new(Conn::new(ours));
        let patient = {
            let conn = conn.clone();
            tokio::spawn(async move {
                conn.call(Call::Propose, b"patient", Duration::from_secs(600))
                    .await
            })
        };
        // The patient call reached the leader before the short one starts.
        tokio::time::timeout(Duration::from_secs(30), first)
            .await
            .expect("the patient call reaches the leader")
            .expect("the leader task");
        let short = conn
            .call(Call::Propose, b"short", Duration::from_millis(50))
            .await;
        assert!(matches!(short, Err(PeerError::Other(_))), "{short:?}");
        assert!(!conn.is_open());
        let patient = tokio::time::timeout(Duration::from_secs(30), patient)
            .await
            .expect("the waiting call is failed, not left for its own deadline")
            .expect("task");
        assert!(matches!(patient, Err(PeerError::Other(_))), "{patient:?}");
    }
}
