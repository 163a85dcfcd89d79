//! Read-ahead for a reader walking the log in order, so that reading and decoding the next
//! chunk overlaps with applying (or sending) this one.
//!
//! openraft re-applies the committed log at start in chunks of 64 entries, reading one and
//! applying it before asking for the next; a follower far behind is caught up the same way.
//! Decoding a chunk costs about as much as applying it (100k keys, 25k entries to re-apply
//! after kill -9: a quarter of the start in `decode_entry`), so a reader that was just asked
//! for `a..b` out of redb fetches `b..2b-a` on the blocking pool while its caller works.
//!
//! A fetched chunk is served only if it is still what a fresh read would return: nothing was
//! truncated since it started (the tail counts truncations), the tail holds none of its indexes
//! (a row there is newer than redb's), and it is whole.

use std::io;

use openraft::RaftTypeConfig;
use openraft::alias::EntryOf;
use tokio::task::JoinHandle;

use super::io_thread::Shared;
use super::{decode_entry, tables};

pub(super) struct ReadAhead<C: RaftTypeConfig> {
    from: u64,
    to: u64,
    truncations: u64,
    entries: JoinHandle<io::Result<Vec<EntryOf<C>>>>,
}

impl<C: RaftTypeConfig> ReadAhead<C> {
    /// Starts fetching `from..to` from redb, unless the tail holds part of it (then the caller
    /// reads it from there, cheaply, when it asks).
    pub(super) fn start(shared: &std::sync::Arc<Shared>, from: u64, to: u64) -> Option<Self> {
        let truncations = {
            let tail = shared.tail();
            if tail.holds_any(from, to) {
                return None;
            }
            tail.truncations()
        };
        let shared = shared.clone();
        let entries = tokio::task::spawn_blocking(move || {
            let rows = shared.with_db(move |db| tables::read_rows(db, from, Some(to)))?;
            rows.iter()
                .map(|(index, bytes)| decode_entry::<C>(*index, bytes))
                .collect()
        });
        Some(ReadAhead {
            from,
            to,
            truncations,
            entries,
        })
    }

    /// The fetched entries, if they answer a read of `from..to` made now; `None`: read afresh.
    pub(super) async fn take(self, shared: &Shared, from: u64, to: u64) -> Option<Vec<EntryOf<C>>> {
        if (self.from, self.to) != (from, to) {
            self.entries.abort();
            return None;
        }
        let entries = self.entries.await.ok()?.ok()?;
        let tail = shared.tail();
        let fresh = tail.truncations() == self.truncations && !tail.holds_any(from, to);
        (fresh && entries.len() as u64 == to - from).then_some(entries)
    }
}
