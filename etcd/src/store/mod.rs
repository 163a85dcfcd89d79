//! THE v2 STORE: a pure, deterministic state machine of etcd's v2 key space.
//!
//! Owns the node tree, the etcd index, TTL deadlines, the 1000-event history, the watcher hub
//! and the operation counters. It never reads a clock, never does I/O and knows nothing of raft
//! or HTTP: writes arrive as [`Command`]s (time included) in log order; reads take the caller's
//! `now` only to show remaining TTLs. Behaviour follows etcd's `server/etcdserver/api/v2store`
//! function by function; the comments name the Go function each piece mirrors.

mod command;
mod event;
mod history;
pub mod path;
mod stats;
mod tree;
mod watch;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use etcd_common::{Action, ErrorCode, EtcdError, StoreStats};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

pub use command::{Command, Op};
pub use event::Event;
pub use history::HISTORY_CAPACITY;
pub use watch::{WATCHER_BUFFER, Watch};

use crate::time::UnixNanos;
use history::History;
use stats::{Counters, tally};
use tree::{Body, TreeNode};
use watch::WatcherHub;

/// Deadlines before this (2000-01-01) are treated as permanent, as etcd does for times that
/// were mangled in transit (v2store `minExpireTime`).
const MIN_EXPIRE: UnixNanos = 946_684_800_000_000_000;

pub struct Store {
    root: TreeNode,
    current_index: u64,
    /// (deadline, path) of every node with a TTL; the first entry expires next.
    ttl: BTreeSet<(UnixNanos, String)>,
    history: History,
    /// Members removed from the cluster (etcd keeps them under `/0/removed_members`): they
    /// may never come back, and the members API answers 410 for them.
    removed_members: BTreeSet<u64>,
    hub: WatcherHub,
    counters: Counters,
}

/// How deep keys may nest. etcd has no limit, but a tree thousands of levels deep would
/// overflow the stack of every recursive listing; 512 levels is far beyond any real key space.
pub const MAX_DEPTH: usize = 512;

/// The serialised form of a store, versioned so future layouts can still read old snapshots.
///
/// Nodes are a flat list in pre-order (every parent before its children): a nested encoding
/// would hit the JSON parser's recursion limit on deep trees and make the snapshot unreadable.
#[derive(Serialize, Deserialize)]
struct SnapshotV2<N> {
    version: u32,
    nodes: Vec<N>,
    current_index: u64,
    history: History,
    #[serde(default)]
    removed_members: BTreeSet<u64>,
}

#[derive(Serialize)]
struct FlatNodeRef<'a> {
    path: &'a str,
    created_index: u64,
    modified_index: u64,
    expire_at: Option<UnixNanos>,
    /// `None` for a directory.
    value: Option<&'a str>,
}

#[derive(Deserialize)]
struct FlatNode {
    path: String,
    created_index: u64,
    modified_index: u64,
    expire_at: Option<UnixNanos>,
    value: Option<String>,
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

impl Store {
    pub fn new() -> Store {
        Store {
            root: TreeNode::new_dir("/".to_string(), 0, None),
            current_index: 0,
            ttl: BTreeSet::new(),
            history: History::default(),
            removed_members: BTreeSet::new(),
            hub: WatcherHub::default(),
            counters: Counters::default(),
        }
    }

    /// The etcd index: the number of modifications applied so far.
    pub fn index(&self) -> u64 {
        self.current_index
    }

    /// Account for modifications etcd makes outside the user key space (member records and the
    /// cluster version live in its v2 tree under `/0`), so indexes line up with real etcd.
    pub fn advance_index(&mut self, n: u64) {
        self.current_index += n;
    }

    /// Record a member removed from the cluster (applied with the membership change).
    pub fn record_removed_member(&mut self, id: u64) {
        self.removed_members.insert(id);
    }

    pub fn is_removed_member(&self, id: u64) -> bool {
        self.removed_members.contains(&id)
    }

    /// The earliest TTL deadline, for the leader's expiry ticker.
    pub fn next_expiry(&self) -> Option<UnixNanos> {
        self.ttl.first().map(|(t, _)| *t)
    }

    pub fn stats(&self) -> StoreStats {
        self.counters.snapshot(self.hub.count())
    }

    /// Apply one replicated write. `Ok(None)` for commands that answer no client (expiry).
    pub fn apply(&mut self, cmd: &Command) -> Result<Option<Arc<Event>>, EtcdError> {
        let now = cmd.now;
        let result = match &cmd.op {
            Op::Set {
                path,
                dir,
                value,
                expire_at,
                refresh,
            } => {
                let r = self.set(path, *dir, value, *expire_at, *refresh, now);
                tally(&self.counters.sets_success, &self.counters.sets_fail, &r);
                r
            }
            Op::Create {
                path,
                dir,
                value,
                unique,
                expire_at,
            } => {
                let r = self.create(path, *dir, value, *unique, *expire_at, now);
                tally(
                    &self.counters.create_success,
                    &self.counters.create_fail,
                    &r,
                );
                r
            }
            Op::Update {
                path,
                value,
                expire_at,
                refresh,
            } => {
                let r = self.update(path, value, *expire_at, *refresh, now);
                tally(
                    &self.counters.update_success,
                    &self.counters.update_fail,
                    &r,
                );
                r
            }
            Op::CompareAndSwap {
                path,
                prev_value,
                prev_index,
                value,
                expire_at,
                refresh,
            } => {
                let r = self.compare_and_swap(
                    path,
                    prev_value,
                    *prev_index,
                    value,
                    *expire_at,
                    *refresh,
                    now,
                );
                tally(
                    &self.counters.compare_and_swap_success,
                    &self.counters.compare_and_swap_fail,
                    &r,
                );
                r
            }
            Op::Delete {
                path,
                dir,
                recursive,
            } => {
                let r = self.delete(path, *dir, *recursive, now);
                tally(
                    &self.counters.delete_success,
                    &self.counters.delete_fail,
                    &r,
                );
                r
            }
            Op::CompareAndDelete {
                path,
                prev_value,
                prev_index,
            } => {
                let r = self.compare_and_delete(path, prev_value, *prev_index, now);
                tally(
                    &self.counters.compare_and_delete_success,
                    &self.counters.compare_and_delete_fail,
                    &r,
                );
                r
            }
            Op::Expire => {
                self.expire(now);
                return Ok(None);
            }
        };
        result.map(Some)
    }

    // ---- reads -------------------------------------------------------------------------

    /// etcd: `store.Get`.
    pub fn get(
        &self,
        key: &str,
        recursive: bool,
        sorted: bool,
        now: UnixNanos,
    ) -> Result<Event, EtcdError> {
        let clean = path::clean(key);
        let r = self.lookup(&clean).map(|n| {
            let mut e = Event::new(Action::Get, &clean, n.modified_index, n.created_index);
            e.etcd_index = self.current_index;
            e.node = n.load(recursive, sorted, now);
            e
        });
        tally(&self.counters.gets_success, &self.counters.gets_fail, &r);
        r
    }

    /// Start watching `key` for events at or after `since` (0: the next one). History answers
    /// at once when it holds a match (etcd: `store.Watch` and `watcherHub.watch`).
    pub fn watch(
        &mut self,
        key: &str,
        recursive: bool,
        stream: bool,
        since: u64,
    ) -> Result<Watch, EtcdError> {
        let key = path::clean(key);
        let current = self.current_index;
        let since = if since == 0 { current + 1 } else { since };
        let past = self
            .history
            .scan(&key, recursive, since)
            .map_err(|e| EtcdError {
                index: current,
                ..e
            })?;
        if !stream && let Some(first) = past.first().cloned() {
            let (tx, rx) = mpsc::channel(1);
            // Cannot fail: the channel is new and has room for one.
            let _ = tx.try_send(first);
            return Ok(Watch {
                id: 0,
                start_index: current,
                events: rx,
            });
        }
        // A stream replays every matching event from history, then continues live from the
        // next index (etcd sends only the first historical match and then stalls).
        let replay = if stream { past } else { Vec::new() };
        let (tx, rx) = mpsc::channel(WATCHER_BUFFER + replay.len());
        for e in &replay {
            let _ = tx.try_send(e.clone());
        }
        let live_since = if replay.is_empty() {
            since
        } else {
            current + 1
        };
        let id = self.hub.register(key, recursive, stream, live_since, tx);
        Ok(Watch {
            id,
            start_index: current,
            events: rx,
        })
    }

    /// Forget a watcher whose client went away.
    pub fn unwatch(&mut self, id: u64) {
        if id != 0 {
            self.hub.remove(id);
        }
    }

    // ---- snapshots ---------------------------------------------------------------------

    pub fn to_snapshot(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut nodes = Vec::new();
        let mut stack: Vec<&TreeNode> = self
            .root
            .children()
            .into_iter()
            .flat_map(|c| c.values().rev())
            .collect();
        while let Some(n) = stack.pop() {
            nodes.push(FlatNodeRef {
                path: &n.path,
                created_index: n.created_index,
                modified_index: n.modified_index,
                expire_at: n.expire_at,
                value: match &n.body {
                    Body::File(v) => Some(v),
                    Body::Dir(_) => None,
                },
            });
            if let Some(children) = n.children() {
                stack.extend(children.values().rev());
            }
        }
        serde_json::to_vec(&SnapshotV2 {
            version: 2,
            nodes,
            current_index: self.current_index,
            history: self.history.clone(),
            removed_members: self.removed_members.clone(),
        })
    }

    /// Replace the whole state with a snapshot. Every watcher is dropped (their responses end
    /// and clients re-watch from their last index), as etcd does on recovery.
    pub fn restore(&mut self, bytes: &[u8]) -> Result<(), serde_json::Error> {
        let snap: SnapshotV2<FlatNode> = serde_json::from_slice(bytes)?;
        let mut root = TreeNode::new_dir("/".to_string(), 0, None);
        let mut ttl = BTreeSet::new();
        for f in snap.nodes {
            let (parent, name) = path::split(&f.path);
            let name = name.to_string();
            let children = lookup_mut(&mut root, parent, 0)
                .ok()
                .and_then(|p| p.children_mut())
                .ok_or_else(|| {
                    serde::de::Error::custom(format!("snapshot: {} before its parent", f.path))
                })?;
            if let Some(at) = f.expire_at {
                ttl.insert((at, f.path.clone()));
            }
            let node = match f.value {
                Some(v) => TreeNode::new_file(f.path, v, f.created_index, f.expire_at),
                None => TreeNode::new_dir(f.path, f.created_index, f.expire_at),
            };
            let node = TreeNode {
                modified_index: f.modified_index,
                ..node
            };
            children.insert(name, node);
        }
        self.root = root;
        self.current_index = snap.current_index;
        self.history = snap.history;
        self.removed_members = snap.removed_members;
        self.ttl = ttl;
        self.hub.clear();
        Ok(())
    }

    // ---- writes (each mirrors the etcd function named in its doc) -----------------------

    /// etcd: `store.Set`.
    fn set(
        &mut self,
        key: &str,
        dir: bool,
        value: &str,
        expire_at: Option<UnixNanos>,
        refresh: bool,
        now: UnixNanos,
    ) -> Result<Arc<Event>, EtcdError> {
        let clean = path::clean(key);
        let prev = match self.lookup(&clean) {
            Ok(n) => Some(n.load(false, false, now)),
            Err(e) if e.code == ErrorCode::KeyNotFound => {
                if refresh {
                    return Err(e);
                }
                None
            }
            Err(e) => return Err(e),
        };
        let value = match (&prev, refresh) {
            (Some(p), true) => p.value.clone().unwrap_or_default(),
            _ => value.to_string(),
        };
        let mut e = self.create_node(
            &clean,
            dir,
            &value,
            false,
            true,
            expire_at,
            Action::Set,
            now,
        )?;
        e.etcd_index = self.current_index;
        if prev.is_some() {
            e.prev_node = prev;
        }
        Ok(self.publish(e, refresh))
    }

    /// etcd: `store.Create`.
    fn create(
        &mut self,
        key: &str,
        dir: bool,
        value: &str,
        unique: bool,
        expire_at: Option<UnixNanos>,
        now: UnixNanos,
    ) -> Result<Arc<Event>, EtcdError> {
        let clean = path::clean(key);
        let mut e = self.create_node(
            &clean,
            dir,
            value,
            unique,
            false,
            expire_at,
            Action::Create,
            now,
        )?;
        e.etcd_index = self.current_index;
        Ok(self.publish(e, false))
    }

    /// etcd: `store.internalCreate`.
    #[allow(clippy::too_many_arguments)]
    fn create_node(
        &mut self,
        clean: &str,
        dir: bool,
        value: &str,
        unique: bool,
        replace: bool,
        expire_at: Option<UnixNanos>,
        action: Action,
        now: UnixNanos,
    ) -> Result<Event, EtcdError> {
        let curr = self.current_index;
        let next = curr + 1;
        let node_path = if unique {
            path::clean(&format!("{clean}/{next:020}"))
        } else {
            clean.to_string()
        };
        if node_path == "/" {
            return Err(EtcdError::new(ErrorCode::RootReadOnly, "/", curr));
        }
        if path::segments(&node_path).count() > MAX_DEPTH {
            return Err(EtcdError::new(
                ErrorCode::InvalidField,
                format!("key is nested more than {MAX_DEPTH} levels deep"),
                curr,
            ));
        }
        let expire_at = expire_at.filter(|t| *t >= MIN_EXPIRE);
        let (dir_name, name) = path::split(&node_path);
        let (dir_name, name) = (dir_name.to_string(), name.to_string());
        let parent = ensure_dir(&mut self.root, &dir_name, curr)?;

        let mut e = Event::new(action, &node_path, next, next);
        if let Some(existing) = parent.get(&name) {
            if !replace {
                return Err(EtcdError::new(ErrorCode::NodeExist, node_path, curr));
            }
            if existing.is_dir() {
                return Err(EtcdError::new(ErrorCode::NotFile, node_path, curr));
            }
            e.prev_node = Some(existing.repr(false, false, now));
            if let Some(at) = existing.expire_at {
                self.ttl.remove(&(at, existing.path.clone()));
            }
        }
        let node = if dir {
            e.node.dir = true;
            TreeNode::new_dir(node_path.clone(), next, expire_at)
        } else {
            e.node.value = Some(value.to_string());
            TreeNode::new_file(node_path.clone(), value.to_string(), next, expire_at)
        };
        if let Some(at) = expire_at {
            (e.node.expiration, e.node.ttl) = node.expiration_and_ttl(now);
            self.ttl.insert((at, node_path));
        }
        parent.insert(name, node);
        self.current_index = next;
        Ok(e)
    }

    /// etcd: `store.Update`.
    fn update(
        &mut self,
        key: &str,
        value: &str,
        expire_at: Option<UnixNanos>,
        refresh: bool,
        now: UnixNanos,
    ) -> Result<Arc<Event>, EtcdError> {
        let clean = path::clean(key);
        let curr = self.current_index;
        if clean == "/" {
            return Err(EtcdError::new(ErrorCode::RootReadOnly, "/", curr));
        }
        let next = curr + 1;
        let node = lookup_mut(&mut self.root, &clean, curr)?;
        if node.is_dir() && !value.is_empty() {
            return Err(EtcdError::new(ErrorCode::NotFile, clean, curr));
        }
        let mut e = Event::new(Action::Update, &clean, next, node.created_index);
        e.etcd_index = next;
        e.prev_node = Some(node.repr(false, false, now));
        match &mut node.body {
            Body::File(v) => {
                if !refresh {
                    *v = value.to_string();
                }
                node.modified_index = next;
                e.node.value = Some(v.clone());
            }
            // etcd's node.Write refuses directories and Update ignores that error, so a
            // directory's own modifiedIndex stays put while the event carries the new index.
            Body::Dir(_) => e.node.dir = true,
        }
        (e.node.expiration, e.node.ttl) = set_deadline(&mut self.ttl, node, &clean, expire_at, now);
        self.current_index = next;
        Ok(self.publish(e, refresh))
    }

    /// etcd: `store.CompareAndSwap`.
    #[allow(clippy::too_many_arguments)]
    fn compare_and_swap(
        &mut self,
        key: &str,
        prev_value: &str,
        prev_index: u64,
        value: &str,
        expire_at: Option<UnixNanos>,
        refresh: bool,
        now: UnixNanos,
    ) -> Result<Arc<Event>, EtcdError> {
        let clean = path::clean(key);
        let curr = self.current_index;
        if clean == "/" {
            return Err(EtcdError::new(ErrorCode::RootReadOnly, "/", curr));
        }
        let node = lookup_mut(&mut self.root, &clean, curr)?;
        if node.is_dir() {
            return Err(EtcdError::new(ErrorCode::NotFile, clean, curr));
        }
        compare(node, prev_value, prev_index, curr)?;
        let next = curr + 1;
        let mut e = Event::new(Action::CompareAndSwap, &clean, next, node.created_index);
        e.etcd_index = next;
        e.prev_node = Some(node.repr(false, false, now));
        if !refresh {
            node.body = Body::File(value.to_string());
        }
        node.modified_index = next;
        e.node.value = Some(node.value().to_string());
        (e.node.expiration, e.node.ttl) = set_deadline(&mut self.ttl, node, &clean, expire_at, now);
        self.current_index = next;
        Ok(self.publish(e, refresh))
    }

    /// etcd: `store.Delete`.
    fn delete(
        &mut self,
        key: &str,
        dir: bool,
        recursive: bool,
        now: UnixNanos,
    ) -> Result<Arc<Event>, EtcdError> {
        let clean = path::clean(key);
        let curr = self.current_index;
        if clean == "/" {
            return Err(EtcdError::new(ErrorCode::RootReadOnly, "/", curr));
        }
        let dir = dir || recursive;
        let node = self.lookup(&clean)?;
        let next = curr + 1;
        let mut e = Event::new(Action::Delete, &clean, next, node.created_index);
        e.etcd_index = next;
        e.prev_node = Some(node.repr(false, false, now));
        if let Some(children) = node.children() {
            e.node.dir = true;
            if !dir {
                return Err(EtcdError::new(ErrorCode::NotFile, clean, curr));
            }
            if !children.is_empty() && !recursive {
                return Err(EtcdError::new(ErrorCode::DirNotEmpty, clean, curr));
            }
        }
        let e = Arc::new(e);
        self.remove_subtree(&clean, &e);
        self.current_index = next;
        self.publish_arc(e)
    }

    /// etcd: `store.CompareAndDelete`.
    fn compare_and_delete(
        &mut self,
        key: &str,
        prev_value: &str,
        prev_index: u64,
        now: UnixNanos,
    ) -> Result<Arc<Event>, EtcdError> {
        let clean = path::clean(key);
        let curr = self.current_index;
        let node = self.lookup(&clean)?;
        if node.is_dir() {
            // etcd has no root check here; its "/1" namespace trims to an empty cause.
            let cause = if clean == "/" { String::new() } else { clean };
            return Err(EtcdError::new(ErrorCode::NotFile, cause, curr));
        }
        compare(node, prev_value, prev_index, curr)?;
        let next = curr + 1;
        let mut e = Event::new(Action::CompareAndDelete, &clean, next, node.created_index);
        e.etcd_index = next;
        e.prev_node = Some(node.repr(false, false, now));
        let e = Arc::new(e);
        self.remove_subtree(&clean, &e);
        self.current_index = next;
        self.publish_arc(e)
    }

    /// etcd: `store.DeleteExpiredKeys`.
    fn expire(&mut self, cutoff: UnixNanos) {
        while let Some((at, p)) = self.ttl.first().cloned() {
            if at > cutoff {
                break;
            }
            let Ok(node) = self.lookup(&p) else {
                // Unreachable while the index is kept in step with the tree; never loop on it.
                self.ttl.remove(&(at, p));
                continue;
            };
            let next = self.current_index + 1;
            let mut e = Event::new(Action::Expire, &p, next, node.created_index);
            e.etcd_index = next;
            e.prev_node = Some(node.repr(false, false, cutoff));
            e.node.dir = node.is_dir();
            let e = Arc::new(e);
            self.current_index = next;
            self.remove_subtree(&p, &e);
            self.counters
                .expire_count
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.history.push(e.clone());
            self.hub.notify(&e);
        }
    }

    // ---- helpers -----------------------------------------------------------------------

    /// etcd: `store.internalGet`.
    fn lookup(&self, clean: &str) -> Result<&TreeNode, EtcdError> {
        let mut cur = &self.root;
        for seg in path::segments(clean) {
            let Some(children) = cur.children() else {
                return Err(EtcdError::new(
                    ErrorCode::NotDir,
                    cur.path.clone(),
                    self.current_index,
                ));
            };
            match children.get(seg) {
                Some(c) => cur = c,
                None => {
                    return Err(EtcdError::new(
                        ErrorCode::KeyNotFound,
                        path::join(&cur.path, seg),
                        self.current_index,
                    ));
                }
            }
        }
        Ok(cur)
    }

    /// Detach the node at `clean` with everything below it, drop their deadlines, and tell the
    /// watchers of every removed descendant (etcd: `node.Remove` with its callback). The node's
    /// own watchers hear it from [`WatcherHub::notify`].
    fn remove_subtree(&mut self, clean: &str, e: &Arc<Event>) {
        let (parent_path, name) = path::split(clean);
        let Ok(parent) = lookup_mut(&mut self.root, parent_path, 0) else {
            return;
        };
        let Some(children) = parent.children_mut() else {
            return;
        };
        let Some(removed) = children.remove(name) else {
            return;
        };
        let mut paths = Vec::new();
        removed.collect_paths_post_order(&mut paths);
        for (p, at) in paths {
            if let Some(at) = at {
                self.ttl.remove(&(at, p.clone()));
            }
            if p != clean {
                self.hub.notify_path(e, &p, true);
            }
        }
    }

    /// Record an event and wake its watchers; a TTL refresh is recorded but wakes nobody.
    fn publish(&mut self, mut e: Event, refresh: bool) -> Arc<Event> {
        e.refresh = refresh;
        let e = Arc::new(e);
        self.history.push(e.clone());
        if !refresh {
            self.hub.notify(&e);
        }
        e
    }

    fn publish_arc(&mut self, e: Arc<Event>) -> Result<Arc<Event>, EtcdError> {
        self.history.push(e.clone());
        self.hub.notify(&e);
        Ok(e)
    }
}

/// Give `node` its new deadline (etcd: `node.UpdateTTL`, which makes it permanent when none is
/// given), keep the TTL index in step, and return what the event shows for it at `now`.
fn set_deadline(
    ttl: &mut BTreeSet<(UnixNanos, String)>,
    node: &mut TreeNode,
    clean: &str,
    expire_at: Option<UnixNanos>,
    now: UnixNanos,
) -> (Option<String>, i64) {
    if let Some(at) = node.expire_at {
        ttl.remove(&(at, clean.to_string()));
    }
    node.expire_at = expire_at.filter(|t| *t >= MIN_EXPIRE);
    if let Some(at) = node.expire_at {
        ttl.insert((at, clean.to_string()));
    }
    node.expiration_and_ttl(now)
}

/// etcd: `node.Compare` and `getCompareFailCause`.
fn compare(node: &TreeNode, prev_value: &str, prev_index: u64, curr: u64) -> Result<(), EtcdError> {
    let index_ok = prev_index == 0 || node.modified_index == prev_index;
    let value_ok = prev_value.is_empty() || node.value() == prev_value;
    let cause = match (value_ok, index_ok) {
        (true, true) => return Ok(()),
        (true, false) => format!("[{} != {}]", prev_index, node.modified_index),
        (false, true) => format!("[{} != {}]", prev_value, node.value()),
        (false, false) => format!(
            "[{} != {}] [{} != {}]",
            prev_value,
            node.value(),
            prev_index,
            node.modified_index
        ),
    };
    Err(EtcdError::new(ErrorCode::TestFailed, cause, curr))
}

fn lookup_mut<'a>(
    root: &'a mut TreeNode,
    clean: &str,
    curr: u64,
) -> Result<&'a mut TreeNode, EtcdError> {
    let mut cur = root;
    for seg in path::segments(clean) {
        let cur_path = cur.path.clone();
        let Some(children) = cur.children_mut() else {
            return Err(EtcdError::new(ErrorCode::NotDir, cur_path, curr));
        };
        match children.get_mut(seg) {
            Some(c) => cur = c,
            None => {
                return Err(EtcdError::new(
                    ErrorCode::KeyNotFound,
                    path::join(&cur_path, seg),
                    curr,
                ));
            }
        }
    }
    Ok(cur)
}

/// Walk to the directory `dir_path`, creating missing directories on the way with the next
/// index (etcd: `store.walk` with `checkDir`). A file in the way is 104 Not a directory.
fn ensure_dir<'a>(
    root: &'a mut TreeNode,
    dir_path: &str,
    curr: u64,
) -> Result<&'a mut BTreeMap<String, TreeNode>, EtcdError> {
    let mut cur = root;
    for seg in path::segments(dir_path) {
        let cur_path = cur.path.clone();
        let Some(children) = cur.children_mut() else {
            return Err(EtcdError::new(ErrorCode::NotDir, cur_path, curr));
        };
        let child = children
            .entry(seg.to_string())
            .or_insert_with(|| TreeNode::new_dir(path::join(&cur_path, seg), curr + 1, None));
        if !child.is_dir() {
            return Err(EtcdError::new(ErrorCode::NotDir, child.path.clone(), curr));
        }
        cur = child;
    }
    match cur.children_mut() {
        Some(c) => Ok(c),
        None => Err(EtcdError::new(
            ErrorCode::NotFile,
            dir_path.to_string(),
            curr,
        )),
    }
}

#[cfg(test)]
mod tests;
