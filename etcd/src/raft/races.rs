//! Compares in flight through this member, by key: what lets a compare-and-swap that has lost
//! its race be answered from the tree (`Store::settled_failure`) instead of queuing for the log
//! behind the swap that beat it.
//!
//! Sixteen clients swapping one key all read index i and all send `prevIndex=i`. The first goes
//! to the log; the other fifteen wait here until it is applied, find it has moved the index past
//! i, and are answered 412 at once: one log entry a round, not sixteen. (It did not raise the
//! rounds a second, which one write's latency bounds.) The wait is bounded and only an
//! optimization: a compare that gets past it is decided by the apply, as every write is.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::watch;

use super::state_machine::Shared;
use crate::store::{Command, Op};

/// The longest a compare waits for the compares of its key that went in before it. Past this it
/// goes to the log like any write (a stuck write must not hold up the ones behind it).
const MOST_WAIT: Duration = Duration::from_secs(1);

#[derive(Default)]
pub struct Races {
    keys: Mutex<HashMap<Vec<u8>, Flights>>,
}

/// The compares of one key in flight. Counts, not identities: a wait for "those before me" is
/// a wait until as many have ended as had entered, which is exact when they end in log order
/// and merely early when they do not.
struct Flights {
    in_flight: usize,
    entered: u64,
    /// How many have ended; dropped (closing every receiver) when none is left in flight.
    ended: watch::Sender<u64>,
}

/// One compare in flight; leaving (drop, whatever the outcome) wakes the compares waiting on it.
pub struct Flight<'a> {
    races: &'a Races,
    key: Vec<u8>,
}

/// What to do with a write.
pub enum Entry<'a> {
    /// Propose it, holding this while it is in flight (`None` for writes that are no compare).
    Propose(Option<Flight<'a>>),
    /// Already decided: the compare can no longer succeed.
    Settled(etcd_common::EtcdError),
}

enum Step<'a> {
    Done(Entry<'a>),
    /// Until this many compares of the key have ended.
    Wait(u64, watch::Receiver<u64>),
}

impl Races {
    /// Enters `cmd`, unless it is a compare on `prevIndex` alone that has already failed; such a
    /// compare first waits (once, at most [`MOST_WAIT`]) for the compares of its key ahead of it.
    pub async fn enter(&self, cmd: &Command, shared: &Shared) -> Entry<'_> {
        let Some(key) = key_of(&cmd.op) else {
            return Entry::Propose(None);
        };
        let settles = cmd.op.index_compare().is_some();
        let mut may_wait = settles;
        loop {
            match self.step(key, cmd, settles, may_wait, shared) {
                Step::Done(entry) => return entry,
                Step::Wait(target, mut ended) => {
                    // Closed (all ended, the entry gone) or timed out: either way, look again.
                    let _ = tokio::time::timeout(MOST_WAIT, ended.wait_for(|&n| n >= target)).await;
                    may_wait = false;
                }
            }
        }
    }

    /// One look under the lock, so that two compares arriving together cannot both find the
    /// key idle and both go to the log.
    fn step(
        &self,
        key: &[u8],
        cmd: &Command,
        settles: bool,
        may_wait: bool,
        shared: &Shared,
    ) -> Step<'_> {
        let mut keys = self.lock();
        if may_wait && let Some(f) = keys.get(key).filter(|f| f.in_flight > 0) {
            return Step::Wait(f.entered, f.ended.subscribe());
        }
        if settles && let Some(e) = shared.store().settled_failure(&cmd.op) {
            return Step::Done(Entry::Settled(e));
        }
        let f = keys.entry(key.to_vec()).or_insert_with(|| Flights {
            in_flight: 0,
            entered: 0,
            ended: watch::Sender::new(0),
        });
        f.in_flight += 1;
        f.entered += 1;
        Step::Done(Entry::Propose(Some(Flight {
            races: self,
            key: key.to_vec(),
        })))
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Vec<u8>, Flights>> {
        // The map is consistent between statements: a panicking holder leaves it usable.
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        let mut keys = self.races.lock();
        let Some(f) = keys.get_mut(&self.key) else {
            return;
        };
        f.in_flight -= 1;
        f.ended.send_modify(|n| *n += 1);
        if f.in_flight == 0 {
            keys.remove(&self.key);
        }
    }
}

/// The key of a compare, as sent (two spellings of one key are two keys here: that only skips
/// the shortcut). Other writes are not tracked: a compare that races a plain write goes to the
/// log, and plain writes (the bulk of a write load) skip the lock and the map entirely.
fn key_of(op: &Op) -> Option<&[u8]> {
    match op {
        Op::CompareAndSwap { path, .. } | Op::CompareAndDelete { path, .. } => Some(path.as_ref()),
        _ => None,
    }
}
