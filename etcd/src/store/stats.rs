//! Store operation counters (`/v2/stats/store`), kept as atomics so reads can count under a
//! shared lock.

use std::sync::atomic::{AtomicU64, Ordering};

use etcd_common::StoreStats;

use super::command::Op;

#[derive(Debug, Default)]
pub struct Counters {
    pub gets_success: AtomicU64,
    pub gets_fail: AtomicU64,
    pub sets_success: AtomicU64,
    pub sets_fail: AtomicU64,
    pub delete_success: AtomicU64,
    pub delete_fail: AtomicU64,
    pub update_success: AtomicU64,
    pub update_fail: AtomicU64,
    pub create_success: AtomicU64,
    pub create_fail: AtomicU64,
    pub compare_and_swap_success: AtomicU64,
    pub compare_and_swap_fail: AtomicU64,
    pub compare_and_delete_success: AtomicU64,
    pub compare_and_delete_fail: AtomicU64,
    pub expire_count: AtomicU64,
}

/// Count one outcome on the success or the failure counter.
pub fn tally<T, E>(ok: &AtomicU64, fail: &AtomicU64, r: &Result<T, E>) {
    let c = if r.is_ok() { ok } else { fail };
    c.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    /// Count a write's outcome on its operation's counters. Expiry is counted per key removed
    /// (`expire_count`), not per command.
    pub fn tally_write<T, E>(&self, kind: WriteKind, r: &Result<T, E>) {
        let (ok, fail) = match kind {
            WriteKind::Set => (&self.sets_success, &self.sets_fail),
            WriteKind::Create => (&self.create_success, &self.create_fail),
            WriteKind::Update => (&self.update_success, &self.update_fail),
            WriteKind::CompareAndSwap => {
                (&self.compare_and_swap_success, &self.compare_and_swap_fail)
            }
            WriteKind::Delete => (&self.delete_success, &self.delete_fail),
            WriteKind::CompareAndDelete => (
                &self.compare_and_delete_success,
                &self.compare_and_delete_fail,
            ),
        };
        tally(ok, fail, r);
    }

    pub fn snapshot(&self, watchers: u64) -> StoreStats {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StoreStats {
            gets_success: g(&self.gets_success),
            gets_fail: g(&self.gets_fail),
            sets_success: g(&self.sets_success),
            sets_fail: g(&self.sets_fail),
            delete_success: g(&self.delete_success),
            delete_fail: g(&self.delete_fail),
            update_success: g(&self.update_success),
            update_fail: g(&self.update_fail),
            create_success: g(&self.create_success),
            create_fail: g(&self.create_fail),
            compare_and_swap_success: g(&self.compare_and_swap_success),
            compare_and_swap_fail: g(&self.compare_and_swap_fail),
            compare_and_delete_success: g(&self.compare_and_delete_success),
            compare_and_delete_fail: g(&self.compare_and_delete_fail),
            expire_count: g(&self.expire_count),
            watchers,
        }
    }
}

/// Which counter pair a write is tallied in; taken before the command is moved into the tree.
#[derive(Clone, Copy)]
pub enum WriteKind {
    Set,
    Create,
    Update,
    CompareAndSwap,
    Delete,
    CompareAndDelete,
}

impl WriteKind {
    /// `None` for writes etcd does not count (expiry).
    pub fn of(op: &Op) -> Option<WriteKind> {
        Some(match op {
            Op::Set { .. } => WriteKind::Set,
            Op::Create { .. } => WriteKind::Create,
            Op::Update { .. } => WriteKind::Update,
            Op::CompareAndSwap { .. } => WriteKind::CompareAndSwap,
            Op::Delete { .. } => WriteKind::Delete,
            Op::CompareAndDelete { .. } => WriteKind::CompareAndDelete,
            Op::Expire | Op::Auth(_) => return None,
        })
    }
}
