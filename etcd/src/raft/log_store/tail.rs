//! The in-memory tail of the log: every row that `append` accepted but the storage thread has
//! not yet committed to redb, plus the most recent committed rows as a read cache.
//!
//! Pending rows are what let `append` return at once (openraft requires entries to be readable
//! when it returns, and durable only when its callback fires) while the storage thread folds
//! every queued write into one fsync. The cached committed rows serve what is read right after a
//! commit, on every write: the state machine applying the entries just committed, replication
//! to a follower a little behind. Neither then waits for a redb read.
//!
//! Readers consult the tail *before* redb. A pending row is evicted only after the commit that
//! holds it returned, so a reader that looks at the tail first and at redb second cannot miss a
//! row that moved from one to the other in between. A cached row is always the latest write of
//! its index: truncate and purge are applied to the tail as to redb.

use std::collections::BTreeMap;
use std::sync::Arc;

/// Shared, immutable JSON bytes of one entry: the tail and the storage thread's request hold the
/// same allocation, so an append copies no entry.
pub(super) type Bytes = Arc<[u8]>;

/// Committed rows kept beyond the pending ones; about 1 MiB with etcd-sized entries.
const KEEP_COMMITTED: usize = 4096;

#[derive(Default)]
pub(super) struct Tail {
    /// index -> (sequence number of the append that wrote it, its bytes).
    rows: BTreeMap<u64, (u64, Bytes)>,
    /// Sequence number of the next append; only ever grows.
    next_seq: u64,
    /// Appends with a sequence number below this are committed to redb.
    durable_below: u64,
    /// Truncations applied so far: a read-ahead started before one is stale.
    truncations: u64,
}

impl Tail {
    /// Adds the rows of one append and returns its sequence number. A row replaces an older
    /// row with the same index, exactly as the later redb insert will.
    pub(super) fn push(&mut self, rows: &[(u64, Bytes)]) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        for (index, bytes) in rows {
            self.rows.insert(*index, (seq, bytes.clone()));
        }
        seq
    }

    /// Sequence number of the latest append, if any.
    pub(super) fn last_seq(&self) -> Option<u64> {
        self.next_seq.checked_sub(1)
    }

    /// Every append with a sequence number below this is committed to redb.
    pub(super) fn durable_below(&self) -> u64 {
        self.durable_below
    }

    /// Records that every append with sequence number `<= seq` is committed to redb (the
    /// storage thread calls this after the commit returned), and evicts the oldest committed
    /// rows beyond the cache size. Pending rows are never evicted.
    pub(super) fn durable_through(&mut self, seq: u64) {
        self.durable_below = self.durable_below.max(seq + 1);
        while self.rows.len() > KEEP_COMMITTED {
            match self.rows.first_entry() {
                Some(oldest) if oldest.get().0 < self.durable_below => {
                    oldest.remove();
                }
                _ => break,
            }
        }
    }

    /// Drops every row with index `>= from`, as the committed truncation did in redb.
    pub(super) fn truncate_from(&mut self, from: u64) {
        drop(self.rows.split_off(&from));
        self.truncations += 1;
    }

    /// How many truncations were applied (see `read_ahead.rs`).
    pub(super) fn truncations(&self) -> u64 {
        self.truncations
    }

    /// Drops every row with index `<= upto`, as the committed purge did in redb.
    pub(super) fn purge_upto(&mut self, upto: u64) {
        self.rows = match upto.checked_add(1) {
            Some(keep_from) => self.rows.split_off(&keep_from),
            None => BTreeMap::new(),
        };
    }

    /// Rows with index in `from..to` (`to == None`: unbounded), ascending.
    pub(super) fn range(&self, from: u64, to: Option<u64>) -> Vec<(u64, Bytes)> {
        let rows = match to {
            Some(to) => self.rows.range(from..to),
            None => self.rows.range(from..),
        };
        rows.map(|(index, (_, bytes))| (*index, bytes.clone()))
            .collect()
    }

    /// Whether any row has an index in `from..to`.
    pub(super) fn holds_any(&self, from: u64, to: u64) -> bool {
        self.rows.range(from..to).next().is_some()
    }

    /// The row with the highest index.
    pub(super) fn last(&self) -> Option<(u64, Bytes)> {
        self.rows
            .last_key_value()
            .map(|(index, (_, bytes))| (*index, bytes.clone()))
    }

    /// Rows not yet committed to redb.
    #[cfg(test)]
    pub(super) fn pending(&self) -> usize {
        self.rows
            .values()
            .filter(|(seq, _)| *seq >= self.durable_below)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(indexes: impl IntoIterator<Item = u64>, tag: u8) -> Vec<(u64, Bytes)> {
        indexes
            .into_iter()
            .map(|i| (i, Arc::from(vec![tag])))
            .collect()
    }

    fn indexes(tail: &Tail) -> Vec<u64> {
        tail.range(0, None).iter().map(|r| r.0).collect()
    }

    #[test]
    fn later_writes_win_and_truncate_purge_apply() {
        let mut tail = Tail::default();
        let first = tail.push(&rows([1, 2, 3], b'a'));
        tail.push(&rows([3, 4], b'b'));
        assert_eq!(indexes(&tail), [1, 2, 3, 4]);
        assert_eq!(&*tail.range(3, Some(4))[0].1, b"b");

        tail.durable_through(first);
        assert_eq!(
            tail.pending(),
            2,
            "index 3 was rewritten by the pending append"
        );
        assert_eq!(
            indexes(&tail),
            [1, 2, 3, 4],
            "committed rows stay as a cache"
        );

        tail.truncate_from(4);
        tail.purge_upto(1);
        assert_eq!(indexes(&tail), [2, 3]);
        tail.purge_upto(u64::MAX);
        assert!(tail.last().is_none());
    }

    #[test]
    fn evicts_only_committed_rows_beyond_the_cache() {
        let mut tail = Tail::default();
        let total = KEEP_COMMITTED as u64 + 10;
        let mut last = 0;
        for i in 0..total {
            last = tail.push(&rows([i], b'x'));
        }
        tail.durable_through(last - 20);
        assert_eq!(tail.range(0, None).len(), KEEP_COMMITTED);
        assert_eq!(tail.range(0, None)[0].0, 10);
        assert_eq!(tail.pending(), 20);
    }
}
