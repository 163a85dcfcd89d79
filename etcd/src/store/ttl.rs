//! The expiration index: every node with a deadline, soonest first (etcd: ttl_key_heap.go).
//!
//! It holds paths, not nodes, so the tree stays the one owner of node data; every write that
//! gives, changes or removes a deadline keeps the two in step.

use std::collections::BTreeSet;

use super::bytes::ByteStr;
use super::tree::TreeNode;
use crate::time::UnixNanos;

/// Deadlines before this (2000-01-01) are treated as permanent, as etcd does for times that
/// were mangled in transit (v2store `minExpireTime`).
const MIN_EXPIRE: UnixNanos = 946_684_800_000_000_000;

/// The deadline a write asked for, or `None` when it is permanent or too old to be real.
pub fn effective(expire_at: Option<UnixNanos>) -> Option<UnixNanos> {
    expire_at.filter(|t| *t >= MIN_EXPIRE)
}

/// (deadline, path) of every node with a TTL; the first entry expires next.
#[derive(Debug, Default)]
pub struct TtlIndex {
    by_deadline: BTreeSet<(UnixNanos, ByteStr)>,
}

impl TtlIndex {
    pub fn insert(&mut self, at: UnixNanos, path: &[u8]) {
        self.by_deadline.insert((at, ByteStr::from(path)));
    }

    pub fn remove(&mut self, at: UnixNanos, path: &[u8]) {
        self.by_deadline.remove(&(at, ByteStr::from(path)));
    }

    /// The entry that expires next.
    pub fn first(&self) -> Option<(UnixNanos, &[u8])> {
        self.by_deadline.first().map(|(t, p)| (*t, p.as_bytes()))
    }

    /// Give `node` (at `clean`) its new deadline (etcd: `node.UpdateTTL`, which makes it
    /// permanent when none is given), keep the index in step, and return what the event shows
    /// for it at `now`.
    pub fn set_deadline(
        &mut self,
        node: &mut TreeNode,
        clean: &[u8],
        expire_at: Option<UnixNanos>,
        now: UnixNanos,
    ) -> (Option<String>, i64) {
        if let Some(at) = node.expire_at {
            self.remove(at, clean);
        }
        node.expire_at = effective(expire_at);
        if let Some(at) = node.expire_at {
            self.insert(at, clean);
        }
        node.expiration_and_ttl(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_is_the_soonest_deadline_and_old_times_are_permanent() {
        let mut ttl = TtlIndex::default();
        ttl.insert(MIN_EXPIRE + 5, b"/b");
        ttl.insert(MIN_EXPIRE + 1, b"/a");
        assert_eq!(ttl.first(), Some((MIN_EXPIRE + 1, b"/a".as_slice())));
        ttl.remove(MIN_EXPIRE + 1, b"/a");
        assert_eq!(ttl.first(), Some((MIN_EXPIRE + 5, b"/b".as_slice())));
        assert_eq!(effective(Some(MIN_EXPIRE - 1)), None);
        assert_eq!(effective(Some(MIN_EXPIRE)), Some(MIN_EXPIRE));
    }

    #[test]
    fn set_deadline_moves_or_drops_the_entry() {
        let mut ttl = TtlIndex::default();
        let mut node = TreeNode::new_file("/k".into(), "v".into(), 1, Some(MIN_EXPIRE + 9));
        ttl.insert(MIN_EXPIRE + 9, b"/k");
        ttl.set_deadline(&mut node, b"/k", Some(MIN_EXPIRE + 3), MIN_EXPIRE);
        assert_eq!(ttl.first(), Some((MIN_EXPIRE + 3, b"/k".as_slice())));
        assert_eq!(
            ttl.set_deadline(&mut node, b"/k", None, MIN_EXPIRE),
            (None, 0)
        );
        assert_eq!(ttl.first(), None);
    }
}
