//! THE v2 STORE: a pure, deterministic state machine of etcd's v2 key space.
//!
//! Owns the node tree, the etcd index, TTL deadlines, the 1000-event history, the watcher hub
//! and the operation counters. It never reads a clock, never does I/O and knows nothing of raft
//! or HTTP: writes arrive as [`Command`]s (time included) in log order; reads take the caller's
//! `now` only to show remaining TTLs. Behaviour follows etcd's `server/etcdserver/api/v2store`
//! function by function; the comments name the Go function each piece mirrors.
//!
//! One concern per file: `ops` (the writes), `tree` (nodes and walks), `ttl` (the expiration
//! index), `history` and `watch` (what `feed` puts behind its own lock), `snapshot`, `stats`,
//! `event`, `command`, `path`, `bytes`. Keys and values are bytes ([`ByteStr`]) throughout, as
//! Go strings are; nothing here inspects characters beyond the `/` separator and a leading `_`,
//! and only the JSON writer turns invalid UTF-8 into U+FFFD.

pub mod auth;
pub mod bytes;
mod command;
mod event;
mod feed;
mod history;
mod lost_race;
mod ops;
pub mod path;
mod snapshot;
mod stats;
mod tree;
mod ttl;
mod watch;

use std::collections::BTreeSet;
use std::sync::Arc;

use etcd_common::{Action, EtcdError, StoreStats};

pub use bytes::ByteStr;
pub use command::{Command, Op};
pub use event::{Event, Node};
pub use feed::Feed;
pub use history::HISTORY_CAPACITY;
pub use snapshot::Restored;
pub use watch::{WATCHER_BUFFER, Watch};

use crate::time::UnixNanos;
use stats::{Counters, WriteKind, tally};
use tree::{TreeNode, lookup};
use ttl::TtlIndex;

/// How deep keys may nest. etcd has no limit, but a tree thousands of levels deep would
/// overflow the stack of every recursive listing; 512 levels is far beyond any real key space.
pub const MAX_DEPTH: usize = 512;

pub struct Store {
    root: TreeNode,
    current_index: u64,
    ttl: TtlIndex,
    /// Members removed from the cluster (etcd keeps them under `/0/removed_members`): they
    /// may never come back, and the members API answers 410 for them.
    removed_members: BTreeSet<u64>,
    /// History and watchers, under their own lock so watching needs only `&self`.
    feed: Feed,
    counters: Counters,
    /// Users, roles and the auth flag (etcd's `/2`); shared with readers, copied on write.
    auth: Arc<auth::AuthState>,
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

impl Store {
    pub fn new() -> Store {
        Store {
            root: TreeNode::new_dir(ByteStr::from("/"), 0, None),
            current_index: 0,
            ttl: TtlIndex::default(),
            removed_members: BTreeSet::new(),
            feed: Feed::default(),
            counters: Counters::default(),
            auth: Arc::default(),
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
        self.feed.set_index(self.current_index);
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
        self.ttl.first().map(|(t, _)| t)
    }

    pub fn stats(&self) -> StoreStats {
        self.counters.snapshot(self.feed.watcher_count())
    }

    /// Apply one replicated write. `Ok(None)` for commands that answer no client (expiry).
    /// The command is taken by value so that its key and value move into the tree.
    pub fn apply(&mut self, cmd: Command) -> Result<Option<Arc<Event>>, EtcdError> {
        let now = cmd.now;
        let kind = WriteKind::of(&cmd.op);
        let result = match cmd.op {
            Op::Set {
                path,
                dir,
                value,
                expire_at,
                refresh,
            } => self.set(&path, dir, value, expire_at, refresh, now),
            Op::Create {
                path,
                dir,
                value,
                unique,
                expire_at,
            } => self.create(&path, dir, value, unique, expire_at, now),
            Op::Update {
                path,
                value,
                expire_at,
                refresh,
            } => self.update(&path, value, expire_at, refresh, now),
            Op::CompareAndSwap {
                path,
                prev_value,
                prev_index,
                value,
                expire_at,
                refresh,
            } => self.compare_and_swap(
                &path,
                &prev_value,
                prev_index,
                value,
                expire_at,
                refresh,
                now,
            ),
            Op::Delete {
                path,
                dir,
                recursive,
            } => self.delete(&path, dir, recursive, now),
            Op::CompareAndDelete {
                path,
                prev_value,
                prev_index,
            } => self.compare_and_delete(&path, &prev_value, prev_index, now),
            Op::Expire => {
                self.expire(now);
                return Ok(None);
            }
            Op::Auth(op) => return self.apply_auth(&op),
        };
        if let Some(kind) = kind {
            self.counters.tally_write(kind, &result);
        }
        result.map(Some)
    }

    /// etcd: `store.Get`.
    pub fn get(
        &self,
        key: impl AsRef<[u8]>,
        recursive: bool,
        sorted: bool,
        now: UnixNanos,
    ) -> Result<Event, EtcdError> {
        let clean = path::clean(key.as_ref());
        let r = lookup(&self.root, &clean, self.current_index).map(|n| {
            let mut e = Event::new(Action::Get, &clean, n.modified_index, n.created_index);
            e.etcd_index = self.current_index;
            e.node = n.load(recursive, sorted, now);
            e
        });
        tally(&self.counters.gets_success, &self.counters.gets_fail, &r);
        r
    }

    /// Start watching `key` for events at or after `since` (0: the next one); see
    /// [`Feed::watch`]. Takes `&self`: a read lock on the store is enough.
    pub fn watch(
        &self,
        key: impl AsRef<[u8]>,
        recursive: bool,
        stream: bool,
        since: u64,
    ) -> Result<Watch, EtcdError> {
        self.feed.watch(key.as_ref(), recursive, stream, since)
    }

    /// Forget a watcher whose client went away.
    pub fn unwatch(&self, id: u64) {
        self.feed.unwatch(id);
    }

    /// A handle for watching without holding any lock on the store. It stays valid across
    /// [`Store::restore`], which drops the watchers registered through it.
    pub fn feed(&self) -> Feed {
        self.feed.clone()
    }
}

#[cfg(test)]
mod tests;
