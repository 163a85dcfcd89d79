//! The lock module's operations (etcd 0.3/0.4: `mod/lock/v2`): a lock named `<name>` is the
//! directory `/_etcd/mod/lock/<name>` of ordinary v2 keys, one in-order child per holder or
//! waiter; the child with the smallest index holds the lock. So locks replicate, expire and
//! can be watched like any other key.
//!
//! Where etcd's code has bugs (`notes/legacy-and-auth.md` §2.7) this follows its documentation:
//! store errors are JSON, not 500 text (Q1); a waiter re-checks after every event on its
//! predecessor instead of taking the first one as its turn (Q2); waiting children are kept alive
//! and an anonymous lock keeps its `-` value (Q3); a waiter whose own node is gone fails (Q5);
//! the keep-alive interval has a floor (Q6).

use std::sync::Arc;
use std::time::Duration;

use etcd_common::{ErrorCode, EtcdError};
use tokio::time::Instant;

use crate::cluster::Cluster;
use crate::store::{ByteStr, Command, Node, Op};
use crate::time::{self, NANOS_PER_SECOND};

/// Where every lock lives; the `_` hides it from listings of `/_etcd/mod`.
const PREFIX: &str = "/_etcd/mod/lock";

/// The value of a lock taken without one (etcd 0.3's, and its documentation's, default).
const ANONYMOUS: &str = "-";

/// Shortest interval between two keep-alives of a waiting child (etcd's `ttl/2` spins at
/// `ttl=1`).
const MIN_KEEP_ALIVE: Duration = Duration::from_millis(500);

/// What a lock operation answers; `modules/mod.rs` turns it into a response.
#[derive(Debug)]
pub enum Reply {
    /// 200 with this text body (an index, a value, or nothing).
    Text(String),
    /// An etcd error, as JSON with its status.
    Error(EtcdError),
    /// 500 with this text (Go's `http.Error`).
    Failed(String),
}

impl From<EtcdError> for Reply {
    fn from(e: EtcdError) -> Reply {
        Reply::Error(e)
    }
}

/// How long an acquire may wait for its turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// `timeout=0`: take the lock now or fail.
    No,
    For(Duration),
    Forever,
}

impl Wait {
    /// etcd's `timeout` parameter: absent or empty waits forever, a negative one too.
    pub fn parse(timeout: Option<&str>, cause: &str) -> Result<Wait, EtcdError> {
        let Some(t) = timeout.filter(|t| !t.is_empty()) else {
            return Ok(Wait::Forever);
        };
        match t.parse::<i64>() {
            Ok(0) => Ok(Wait::No),
            Ok(n) if n > 0 => Ok(Wait::For(Duration::from_secs(n.unsigned_abs()))),
            Ok(_) => Ok(Wait::Forever),
            Err(_) => Err(EtcdError::request(ErrorCode::TimeoutNaN, cause)),
        }
    }
}

/// etcd's `ttl` parameter (Go's `strconv.Atoi`); required.
pub fn parse_ttl(ttl: Option<&str>, cause: &str) -> Result<i64, EtcdError> {
    ttl.and_then(|t| t.parse::<i64>().ok())
        .ok_or_else(|| EtcdError::request(ErrorCode::TtlNaN, cause))
}

/// One lock, by name.
pub struct Lock {
    cluster: Arc<Cluster>,
    dir: String,
}

/// A child of the lock directory: a holder or a waiter.
struct Child {
    index: u64,
    key: ByteStr,
    value: ByteStr,
}

impl Lock {
    pub fn new(cluster: Arc<Cluster>, name: &str) -> Lock {
        Lock {
            cluster,
            dir: etcd_common::go::path::join(PREFIX, name),
        }
    }

    /// The directory holding the lock's children, for the permission check.
    pub fn dir(&self) -> &str {
        &self.dir
    }

    /// `POST`: queue for the lock (or find this value's place in the queue) and wait for the
    /// turn; answers the lock's index.
    pub async fn acquire(&self, value: &[u8], ttl: i64, wait: Wait) -> Reply {
        match self.acquire_inner(value, ttl, wait).await {
            Ok(reply) | Err(reply) => reply,
        }
    }

    async fn acquire_inner(&self, value: &[u8], ttl: i64, wait: Wait) -> Result<Reply, Reply> {
        let deadline = match wait {
            Wait::For(d) => Some(Instant::now() + d),
            Wait::No | Wait::Forever => None,
        };
        let found = if value.is_empty() {
            None
        } else {
            // The same value anywhere in the cluster is the same request: read what is there.
            self.cluster.linearize().await?;
            match self.children() {
                Ok((children, _)) => children.into_iter().find(|c| c.value.as_bytes() == value),
                // No directory yet: nobody has queued.
                Err(e) if e.code == ErrorCode::KeyNotFound => None,
                Err(e) => return Err(e.into()),
            }
        };
        let (own, mut abandon) = match found {
            Some(child) => (child, None),
            None => {
                let value = if value.is_empty() {
                    ANONYMOUS.as_bytes()
                } else {
                    value
                };
                let child = self.create(value, ttl).await?;
                let abandon = Abandon::new(self.cluster.clone(), child.key.clone());
                (child, Some(abandon))
            }
        };
        let keep_alive =
            (ttl > 0).then(|| Duration::from_secs(ttl.unsigned_abs() / 2).max(MIN_KEEP_ALIVE));
        let mut next_keep_alive = keep_alive.map(|k| Instant::now() + k);
        loop {
            let (children, etcd_index) = self.children()?;
            let Some(pos) = children.iter().position(|c| c.index == own.index) else {
                return Err(
                    EtcdError::new(ErrorCode::KeyNotFound, own.key.to_lossy(), etcd_index).into(),
                );
            };
            if pos == 0 {
                break;
            }
            if wait == Wait::No {
                return Err(Reply::Failed("failed to acquire lock".to_string()));
            }
            // Only the predecessor's change can make this child the first; whatever it was
            // (deleted, expired, renewed), look again.
            let before = &children[pos - 1];
            let mut watch = self
                .cluster
                .watch(&before.key, false, false, etcd_index + 1)?;
            let _unwatch = Unwatch(&self.cluster, watch.id);
            loop {
                let tick = next_keep_alive.unwrap_or_else(far_future);
                tokio::select! {
                    _ = watch.events.recv() => break,
                    _ = tokio::time::sleep_until(deadline.unwrap_or_else(far_future)) => {
                        return Err(Reply::Failed("lock watch closed".to_string()));
                    }
                    _ = tokio::time::sleep_until(tick) => {
                        self.refresh(&own.key, ttl).await?;
                        next_keep_alive = keep_alive.map(|k| Instant::now() + k);
                    }
                }
            }
        }
        // Acquired: the TTL starts afresh, and the child is the caller's to release.
        self.write(Op::Update {
            path: own.key.clone(),
            value: own.value.clone(),
            expire_at: expire_at(ttl),
            refresh: false,
        })
        .await?;
        if let Some(a) = abandon.as_mut() {
            a.disarm();
        }
        Ok(Reply::Text(own.index.to_string()))
    }

    /// `PUT`: a new TTL (and, with `index` and `value`, a new value) for one child.
    pub async fn renew(&self, index: &str, value: &[u8], ttl: i64) -> Reply {
        let child = match (index.is_empty(), value.is_empty()) {
            (true, true) => {
                return EtcdError::request(ErrorCode::IndexOrValueRequired, "Renew").into();
            }
            (true, false) => match self.find(value, "Renew") {
                Ok(c) => c,
                Err(e) => return e.into(),
            },
            (false, true) => {
                let key = self.child_key(index);
                match self.cluster.get(&key, false, false, time::now()) {
                    Ok(e) => Child {
                        index: 0,
                        value: e.node.value.unwrap_or_default(),
                        key,
                    },
                    Err(e) => return e.into(),
                }
            }
            (false, false) => Child {
                index: 0,
                key: self.child_key(index),
                value: ByteStr::from(value),
            },
        };
        let update = Op::Update {
            path: child.key,
            value: child.value,
            expire_at: expire_at(ttl),
            refresh: false,
        };
        match self.write(update).await {
            Ok(_) => Reply::Text(String::new()),
            Err(e) => e.into(),
        }
    }

    /// `DELETE`: give the lock up (or leave the queue).
    pub async fn release(&self, index: &str, value: &[u8]) -> Reply {
        let key = match (index.is_empty(), value.is_empty()) {
            (true, true) => {
                return EtcdError::request(ErrorCode::IndexOrValueRequired, "Release").into();
            }
            (false, false) => {
                return EtcdError::request(ErrorCode::IndexValueMutex, "Release").into();
            }
            (true, false) => match self.find(value, "Release") {
                Ok(c) => c.key,
                Err(e) => return e.into(),
            },
            (false, true) => self.child_key(index),
        };
        let delete = Op::Delete {
            path: key,
            dir: false,
            recursive: false,
        };
        match self.write(delete).await {
            Ok(_) => Reply::Text(String::new()),
            Err(e) => e.into(),
        }
    }

    /// `GET`: the holder's index or value; nothing when the lock is free.
    pub fn get(&self, field: &str) -> Reply {
        let children = match self.children() {
            Ok((c, _)) => c,
            Err(e) => return e.into(),
        };
        let Some(holder) = children.into_iter().next() else {
            return Reply::Text(String::new());
        };
        match field {
            "index" => Reply::Text(holder.index.to_string()),
            "value" => Reply::Text(holder.value.to_lossy().into_owned()),
            _ => EtcdError::request(ErrorCode::InvalidField, "Get").into(),
        }
    }

    /// The lock's children in index order, and the store index they were read at.
    fn children(&self) -> Result<(Vec<Child>, u64), EtcdError> {
        let e = self
            .cluster
            .get(self.dir.as_bytes(), true, true, time::now())?;
        let children = e
            .node
            .nodes
            .unwrap_or_default()
            .into_iter()
            .filter_map(child)
            .collect();
        Ok((children, e.etcd_index))
    }

    /// The child holding `value`, or the 404 etcd answers for it.
    fn find(&self, value: &[u8], cause: &str) -> Result<Child, EtcdError> {
        self.children()?
            .0
            .into_iter()
            .find(|c| c.value.as_bytes() == value)
            .ok_or_else(|| EtcdError::request(ErrorCode::KeyNotFound, cause))
    }

    /// The key of the child with `index`, as the store names in-order keys.
    fn child_key(&self, index: &str) -> ByteStr {
        let name = match index.parse::<u64>() {
            Ok(n) => format!("{n:020}"),
            Err(_) => index.to_string(),
        };
        ByteStr::from(etcd_common::go::path::join(&self.dir, &name))
    }

    async fn create(&self, value: &[u8], ttl: i64) -> Result<Child, EtcdError> {
        let e = self
            .write(Op::Create {
                path: ByteStr::from(self.dir.as_str()),
                dir: false,
                value: ByteStr::from(value),
                unique: true,
                expire_at: expire_at(ttl),
            })
            .await?;
        Ok(Child {
            index: e.created_index,
            key: e.key,
            value: ByteStr::from(value),
        })
    }

    /// A new TTL for a waiting child, without waking its watchers.
    async fn refresh(&self, key: &ByteStr, ttl: i64) -> Result<(), EtcdError> {
        self.write(Op::Update {
            path: key.clone(),
            value: ByteStr::new(),
            expire_at: expire_at(ttl),
            refresh: true,
        })
        .await
        .map(drop)
    }

    async fn write(&self, op: Op) -> Result<Node, EtcdError> {
        let cmd = Command {
            now: time::now(),
            op,
        };
        self.cluster.propose(cmd).await.map(|w| w.event.node)
    }
}

/// A directory entry as a queue position; entries that are not in-order keys do not queue.
fn child(node: Node) -> Option<Child> {
    if node.dir {
        return None;
    }
    let base = node.key.rsplit(|b| *b == b'/').next()?;
    let index = std::str::from_utf8(base).ok()?.parse::<u64>().ok()?;
    Some(Child {
        index,
        value: node.value.unwrap_or_default(),
        key: node.key,
    })
}

/// The deadline of a TTL given now; none for `ttl <= 0` (go-etcd sends no TTL then).
fn expire_at(ttl: i64) -> Option<i64> {
    (ttl > 0).then(|| time::now().saturating_add(ttl.saturating_mul(NANOS_PER_SECOND)))
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365)
}

/// Removes a watcher however the wait ends.
struct Unwatch<'a>(&'a Cluster, u64);

impl Drop for Unwatch<'_> {
    fn drop(&mut self) {
        self.0.unwatch(self.1);
    }
}

/// Deletes the child an acquire queued unless it was disarmed: a request that times out, fails
/// or whose client hangs up leaves the queue, so the next waiter's turn is not held up until
/// the TTL runs out.
struct Abandon {
    cluster: Arc<Cluster>,
    key: Option<ByteStr>,
}

impl Abandon {
    fn new(cluster: Arc<Cluster>, key: ByteStr) -> Abandon {
        Abandon {
            cluster,
            key: Some(key),
        }
    }

    fn disarm(&mut self) {
        self.key = None;
    }
}

impl Drop for Abandon {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let cluster = self.cluster.clone();
        // Dropped inside the handler's future, so on the runtime (also when hyper drops the
        // future of a client that hung up); a runtime going away takes the TTL's way out.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            let cmd = Command {
                now: time::now(),
                op: Op::Delete {
                    path: key,
                    dir: false,
                    recursive: false,
                },
            };
            if let Err(e) = cluster.propose(cmd).await {
                tracing::debug!(error = %e, "lock: removing an abandoned waiter");
            }
        });
    }
}
