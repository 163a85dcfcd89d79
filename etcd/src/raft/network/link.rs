//! One peer as the transport sees it: bounded lanes of long-lived connections, the backoff for
//! connection attempts, and the reachability an operator reads in the log.
//!
//! A raft request runs on a task of its own, so openraft giving up on it (a heartbeat has one
//! heartbeat interval) only stops the wait: the request finishes, its connection goes back to
//! the pool and the answer is recorded. Each lane admits a fixed number of requests at a time,
//! so a peer that does not answer holds those connections and no more — nothing piles up while
//! a link is down, and when it heals the held request completes on the connection it has.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::StatusCode;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The first pause after a failed attempt; it doubles per failure up to the link's cap.
const BACKOFF_START: Duration = Duration::from_millis(50);

/// How often a peer that stays down is mentioned again (etcd's prober warns about as often).
const REMINDER: Duration = Duration::from_secs(30);

/// Which connection(s) of a peer a request may use. Heartbeats and votes never wait behind a
/// large append or a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Heartbeats, empty appends, votes, pre-votes, leadership transfer.
    Control,
    /// Appends carrying entries.
    Append,
    /// InstallSnapshot.
    Snapshot,
}

impl Lane {
    fn index(self) -> usize {
        self as usize
    }

    /// Requests in flight at once, hence connections held, per lane.
    fn width(self) -> usize {
        match self {
            Lane::Control => 3,
            Lane::Append | Lane::Snapshot => 1,
        }
    }
}

/// Why a raft request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The peer could not be reached (connection refused or lost, or backing off after that).
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// No answer within the caller's deadline; the request may still complete.
    #[error("timed out: {0}")]
    TimedOut(String),
}

/// A peer's transport state, shared by every openraft client for that member.
pub struct Link {
    id: u64,
    /// The member's name for the log (empty until it has published it).
    name: Mutex<String>,
    lanes: [Arc<Semaphore>; 3],
    health: Mutex<Health>,
    /// The longest a backoff grows, and how long without an answer counts as unreachable.
    cap: Duration,
    stall: Duration,
}

#[derive(Default)]
struct Health {
    /// The peer has answered at least once since we started.
    ever_up: bool,
    /// Since when, why, and when we last said so.
    down: Option<Down>,
    failures: u32,
    retry_at: Option<Instant>,
    /// A request is trying the peer after a backoff.
    probing: bool,
    /// Requests started and not finished, and when the peer last answered anything.
    outstanding: u32,
    last_answer: Option<Instant>,
    oldest_start: Option<Instant>,
    /// The last refusal we logged, and when.
    refusal: Option<(String, Instant)>,
}

struct Down {
    since: Instant,
    reason: String,
    reminded: Instant,
}

impl Link {
    /// `election` is the failure detector: connection backoff is capped at half of it (a peer
    /// that comes back is reached before its own election timer would fire) and a request
    /// outstanding that long means the peer is unreachable.
    pub fn new(id: u64, election: Duration) -> Link {
        Link {
            id,
            name: Mutex::new(String::new()),
            lanes: [Lane::Control, Lane::Append, Lane::Snapshot]
                .map(|l| Arc::new(Semaphore::new(l.width()))),
            health: Mutex::new(Health::default()),
            cap: (election / 2).clamp(BACKOFF_START, Duration::from_secs(1)),
            stall: election,
        }
    }

    pub fn set_name(&self, name: &str) {
        if name.is_empty() {
            return;
        }
        let mut n = self.name.lock().unwrap_or_else(|p| p.into_inner());
        if *n != name {
            *n = name.to_string();
        }
    }

    /// How etcd names a peer in its log: the name and the hex id.
    fn label(&self) -> String {
        let name = self.name.lock().unwrap_or_else(|p| p.into_inner());
        let name = if name.is_empty() { "?" } else { name.as_str() };
        format!("peer {name} ({:x})", self.id)
    }

    fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Send `request` on `lane`, waiting at most `wait` for the answer. The request itself is
    /// bounded by its own (longer) timeout, set by the caller on the builder.
    pub async fn send(
        self: &Arc<Self>,
        lane: Lane,
        request: reqwest::RequestBuilder,
        wait: Duration,
    ) -> Result<(StatusCode, Bytes), SendError> {
        let deadline = tokio::time::Instant::now() + wait;
        self.await_retry(deadline).await?;
        let sem = self.lanes[lane.index()].clone();
        let permit = match tokio::time::timeout_at(deadline, sem.acquire_owned()).await {
            Ok(Ok(p)) => p,
            Ok(Err(_)) => return Err(SendError::Unreachable("link closed".into())),
            Err(_) => {
                self.check_stall();
                return Err(SendError::TimedOut(format!(
                    "{lane:?} lane busy: an earlier request is still unanswered"
                )));
            }
        };
        let task = tokio::spawn(self.clone().run(permit, request));
        match tokio::time::timeout_at(deadline, task).await {
            Ok(Ok(res)) => res.map_err(SendError::Unreachable),
            Ok(Err(e)) => Err(SendError::Unreachable(e.to_string())),
            Err(_) => {
                self.check_stall();
                Err(SendError::TimedOut(format!("no answer within {wait:?}")))
            }
        }
    }

    /// Open a long-lived connection (the append stream's upgrade request): the same backoff as
    /// [`Link::send`], and a setup that takes longer than `wait` counts as a failure.
    pub async fn open(
        self: &Arc<Self>,
        request: reqwest::RequestBuilder,
        wait: Duration,
    ) -> Result<reqwest::Response, SendError> {
        let deadline = tokio::time::Instant::now() + wait;
        self.await_retry(deadline).await?;
        self.started();
        match tokio::time::timeout_at(deadline, request.send()).await {
            Ok(Ok(resp)) => {
                self.answered();
                Ok(resp)
            }
            Ok(Err(e)) => {
                let reason = describe(&e);
                self.failed(&reason);
                Err(SendError::Unreachable(reason))
            }
            Err(_) => {
                let reason = format!("no answer to the stream setup within {wait:?}");
                self.failed(&reason);
                Err(SendError::TimedOut(reason))
            }
        }
    }

    /// The peer answered but refused the request (another cluster's member, or one that does
    /// not know us): said once, and again every [`REMINDER`] while it goes on, as etcd says
    /// "cluster ID mismatch" when its peers refuse it.
    pub fn refused(&self, reason: &str) {
        let mut h = self.health();
        let now = Instant::now();
        let said = h
            .refusal
            .as_ref()
            .is_some_and(|(r, at)| r == reason && now.duration_since(*at) < REMINDER);
        if !said {
            tracing::warn!("{} refused our request: {reason}", self.label());
            h.refusal = Some((reason.to_string(), now));
        }
    }

    /// An answer arrived on a long-lived stream: the peer is reachable.
    pub fn heard(&self) {
        let mut h = self.health();
        self.heard_locked(&mut h);
    }

    /// A long-lived stream broke or went quiet past its deadline.
    pub fn broke(&self, reason: &str) {
        let mut h = self.health();
        self.back_off(&mut h, reason);
    }

    /// While backing off after a failure, wait for the next attempt if it falls within the
    /// caller's deadline (so the next heartbeat is the probe), else fail at once. One request
    /// at a time probes a peer that is down; the others fail at once, so the lanes do not each
    /// open a connection to a dead peer.
    async fn await_retry(&self, deadline: tokio::time::Instant) -> Result<(), SendError> {
        let at = {
            let h = self.health();
            let Some(at) = h.retry_at else {
                return Ok(());
            };
            let at = tokio::time::Instant::from_std(at);
            if at > deadline || h.probing {
                return Err(self.backing_off(&h));
            }
            at
        };
        tokio::time::sleep_until(at).await;
        let mut h = self.health();
        if h.probing {
            return Err(self.backing_off(&h));
        }
        h.probing = h.retry_at.is_some();
        Ok(())
    }

    fn backing_off(&self, h: &Health) -> SendError {
        let reason = h.down.as_ref().map(|d| d.reason.as_str()).unwrap_or("");
        SendError::Unreachable(format!("backing off after: {reason}"))
    }

    /// The request's own task: it holds the lane until the answer (or the request's timeout),
    /// whoever was waiting for it.
    async fn run(
        self: Arc<Self>,
        permit: OwnedSemaphorePermit,
        request: reqwest::RequestBuilder,
    ) -> Result<(StatusCode, Bytes), String> {
        let _permit = permit;
        self.started();
        let res = match request.send().await {
            Ok(resp) => {
                let status = resp.status();
                match resp.bytes().await {
                    Ok(body) => Ok((status, body)),
                    Err(e) => Err(describe(&e)),
                }
            }
            Err(e) => Err(describe(&e)),
        };
        match &res {
            Ok(_) => self.answered(),
            Err(reason) => self.failed(reason),
        }
        res
    }

    fn started(&self) {
        let mut h = self.health();
        h.outstanding += 1;
        if h.outstanding == 1 {
            h.oldest_start = Some(Instant::now());
        }
    }

    fn finished(h: &mut Health) {
        h.outstanding = h.outstanding.saturating_sub(1);
        if h.outstanding == 0 {
            h.oldest_start = None;
        }
    }

    fn answered(&self) {
        let mut h = self.health();
        Self::finished(&mut h);
        self.heard_locked(&mut h);
    }

    fn heard_locked(&self, h: &mut Health) {
        h.last_answer = Some(Instant::now());
        h.failures = 0;
        h.retry_at = None;
        h.probing = false;
        if let Some(down) = h.down.take() {
            if h.ever_up {
                tracing::info!(
                    "{} is reachable again (unreachable for {:.1}s)",
                    self.label(),
                    down.since.elapsed().as_secs_f64()
                );
            } else {
                tracing::info!("{} became active", self.label());
            }
        } else if !h.ever_up {
            tracing::info!("{} became active", self.label());
        }
        h.ever_up = true;
    }

    fn failed(&self, reason: &str) {
        let mut h = self.health();
        Self::finished(&mut h);
        self.back_off(&mut h, reason);
    }

    fn back_off(&self, h: &mut Health, reason: &str) {
        h.failures = h.failures.saturating_add(1);
        let shift = h.failures.saturating_sub(1).min(16);
        let pause = BACKOFF_START.saturating_mul(1 << shift).min(self.cap);
        h.retry_at = Some(Instant::now() + pause);
        h.probing = false;
        self.mark_down(h, reason);
    }

    /// A caller gave up waiting: if the peer has not answered anything for the failure
    /// detector's time while requests are outstanding, it is unreachable (a black-holed link
    /// or a stopped process never refuses a connection).
    fn check_stall(&self) {
        let mut h = self.health();
        let Some(start) = h.oldest_start else {
            return;
        };
        let quiet = h.last_answer.map_or(start, |a| a.max(start)).elapsed();
        if quiet >= self.stall {
            let reason = format!("no answer for {} ms", quiet.as_millis());
            self.mark_down(&mut h, &reason);
        }
    }

    fn mark_down(&self, h: &mut Health, reason: &str) {
        let now = Instant::now();
        match &mut h.down {
            None => {
                if h.ever_up {
                    tracing::warn!("{} became unreachable: {reason}", self.label());
                } else {
                    tracing::debug!("{} not reachable yet: {reason}", self.label());
                }
                h.down = Some(Down {
                    since: now,
                    reason: reason.to_string(),
                    reminded: now,
                });
            }
            Some(d) => {
                d.reason = reason.to_string();
                if now.duration_since(d.reminded) >= REMINDER {
                    d.reminded = now;
                    tracing::warn!(
                        "{} still unreachable after {}s: {reason}",
                        self.label(),
                        d.since.elapsed().as_secs()
                    );
                }
            }
        }
    }
}

/// The backoff alone, for calls addressed by URL rather than member (forwarded writes and
/// reads): while a peer URL is failing, a retry loop does not open a connection per retry.
#[derive(Default)]
pub struct Gate {
    failures: u32,
    retry_at: Option<Instant>,
}

impl Gate {
    /// Whether an attempt may go out now.
    pub fn open(&self) -> bool {
        self.retry_at.is_none_or(|at| Instant::now() >= at)
    }

    pub fn failed(&mut self, cap: Duration) {
        self.failures = self.failures.saturating_add(1);
        let shift = self.failures.saturating_sub(1).min(16);
        self.retry_at = Some(Instant::now() + BACKOFF_START.saturating_mul(1 << shift).min(cap));
    }

    pub fn answered(&mut self) {
        *self = Gate::default();
    }
}

/// A reqwest error with its causes: "error sending request" alone tells an operator nothing.
pub fn describe(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_half_the_election_timeout() {
        let link = Link::new(1, Duration::from_millis(1000));
        let mut pauses = Vec::new();
        for _ in 0..6 {
            let before = Instant::now();
            link.failed("refused");
            let at = link.health().retry_at.unwrap_or(before);
            pauses.push((at - before).as_millis() / 10 * 10);
        }
        assert_eq!(pauses, [50, 100, 200, 400, 500, 500]);
        link.answered();
        assert!(link.health().retry_at.is_none());
        assert!(link.health().down.is_none());
    }

    #[test]
    fn a_stall_counts_only_past_the_failure_detector() {
        let link = Link::new(1, Duration::from_millis(1000));
        link.started();
        link.check_stall();
        assert!(
            link.health().down.is_none(),
            "a fresh request is not a stall"
        );
        link.health().oldest_start = Some(Instant::now() - Duration::from_secs(2));
        link.check_stall();
        assert!(link.health().down.is_some());
        assert!(link.health().retry_at.is_none(), "a stall sets no backoff");
    }
}
