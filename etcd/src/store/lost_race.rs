//! Compare-and-swaps that can no longer succeed, answered without the log.
//!
//! A key's modified index only grows, and every later write of it takes an index above the
//! store's current one. So a compare on `prevIndex` alone (no `prevValue`) that fails against
//! the applied tree, for an index the store has already passed, fails against every later tree
//! too: its answer is settled, and proposing it would only spend a log entry (stored,
//! replicated and applied for nothing). A compare on a value is never settled early: a value
//! can come back.

use etcd_common::{ErrorCode, EtcdError};

use super::command::Op;
use super::ops::compare;
use super::stats::WriteKind;
use super::tree::lookup;
use super::{Store, path};

impl Store {
    /// The error `op` is certain to end in, if it is a compare on `prevIndex` alone that this
    /// tree already fails; counted as the failure it is. `None`: it must go through the log.
    pub fn settled_failure(&self, op: &Op) -> Option<EtcdError> {
        let (key, prev_index) = op.index_compare()?;
        let curr = self.current_index;
        if prev_index > curr {
            return None;
        }
        let clean = path::clean(key);
        if clean == "/" {
            return None;
        }
        let error = match lookup(&self.root, &clean, curr) {
            // Created again later, it takes an index above `curr`: still not `prev_index`.
            Err(e) if e.code == ErrorCode::KeyNotFound => e,
            Err(_) => return None,
            // A directory is answered by the log's apply (it may become a file).
            Ok(node) if node.is_dir() => return None,
            Ok(node) => compare(node, &[], prev_index, curr).err()?,
        };
        let failed: Result<(), &EtcdError> = Err(&error);
        if let Some(kind) = WriteKind::of(op) {
            self.counters.tally_write(kind, &failed);
        }
        Some(error)
    }
}
