//! The three checks: linearizability of each key's register history (Wing–Gong search as
//! Lowe describes it, memoised on the set of linearised operations and the register's value),
//! no acknowledged in-order POST lost, and a watcher that saw every acknowledged write once,
//! in order.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::history::{Acked, Entry, Op, Outcome, Seen};

/// Why a check failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// No order of `key`'s operations explains what they returned; `op` is the first operation
    /// whose answer could not be placed.
    NotLinearizable { key: String, op: String },
    /// The search gave up after this many steps (make the history smaller).
    Inconclusive { key: String, steps: u64 },
    /// An acknowledged POST is missing from the queue at the end (or holds another value).
    LostWrite { key: String, value: String },
    /// The watcher saw an index twice or went backwards.
    WatchOrder { index: u64, after: u64 },
    /// An acknowledged write the watcher passed over.
    WatchGap { key: String, index: u64 },
    /// The watcher saw a value other than the one acknowledged at that index.
    WatchMismatch {
        index: u64,
        seen: String,
        acked: String,
    },
    /// The watcher never reached the final index.
    WatchBehind { reached: u64, wanted: u64 },
    /// The watcher's history was cleared or it stopped with an error.
    WatchBroken(String),
}

/// Step budget per key: far beyond what a few thousand operations need when they linearise.
pub const STEP_LIMIT: u64 = 20_000_000;

type Value = Option<String>;

/// The register's value after `op` from `state`, or `None` when `op` with `outcome` cannot
/// happen in that state.
fn step(state: &Value, op: &Op, outcome: &Outcome) -> Option<Value> {
    match (op, outcome) {
        (Op::Read, Outcome::Read(v)) => (v == state).then(|| state.clone()),
        (Op::Read, _) => Some(state.clone()),
        (Op::Write(v), Outcome::Done | Outcome::Unknown) => Some(Some(v.clone())),
        (Op::Cas { expect, new }, Outcome::Done | Outcome::Unknown) => {
            (state.as_deref() == Some(expect.as_str())).then(|| Some(new.clone()))
        }
        (Op::Cas { expect, .. }, Outcome::CasFailed) => {
            (state.as_deref() != Some(expect.as_str())).then(|| state.clone())
        }
        (Op::Write(_) | Op::Cas { .. }, Outcome::Read(_)) | (Op::Write(_), Outcome::CasFailed) => {
            None
        }
    }
}

/// Check every key's history on its own (linearizability is compositional).
pub fn check_linearizable(ops: &[Entry]) -> Result<(), Violation> {
    let mut by_key: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
    for e in ops {
        by_key.entry(&e.key).or_default().push(e);
    }
    for (key, entries) in by_key {
        // Open writes nobody observed only multiply the search; drop them first. That is not
        // sound on its own (one might explain a refused swap), so a failure is confirmed on
        // the whole history before it is reported.
        let pruned = prune_unobserved_open(&entries);
        if pruned.len() == entries.len() {
            check_key(key, &entries)?;
        } else if let Err(v) = check_key(key, &pruned) {
            match check_key(key, &entries) {
                Ok(()) => {}
                Err(Violation::Inconclusive { .. }) => return Err(v),
                Err(full) => return Err(full),
            }
        }
    }
    Ok(())
}

/// `entries` without the open writes and swaps whose value no read or swap ever expected.
fn prune_unobserved_open<'a>(entries: &[&'a Entry]) -> Vec<&'a Entry> {
    let observed: HashSet<&str> = entries
        .iter()
        .filter_map(|e| match (&e.op, &e.outcome) {
            (Op::Read, Outcome::Read(Some(v))) => Some(v.as_str()),
            (Op::Cas { expect, .. }, Outcome::Done | Outcome::Unknown) => Some(expect.as_str()),
            _ => None,
        })
        .collect();
    entries
        .iter()
        .copied()
        .filter(|e| {
            let written = match &e.op {
                Op::Write(v) | Op::Cas { new: v, .. } => v.as_str(),
                Op::Read => return true,
            };
            e.outcome != Outcome::Unknown || observed.contains(written)
        })
        .collect()
}

/// The event list: a doubly linked list (index 0 is the head) of calls and returns by time.
struct Events {
    op: Vec<usize>,
    is_call: Vec<bool>,
    next: Vec<usize>,
    prev: Vec<usize>,
    /// Per operation: its call's and return's positions (return `None` for open ones).
    call_at: Vec<usize>,
    ret_at: Vec<Option<usize>>,
}

const END: usize = usize::MAX;

impl Events {
    fn build(entries: &[&Entry]) -> Events {
        let mut ev: Vec<(u64, u8, usize)> = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            // Calls sort before returns at the same instant: overlapping is the lenient reading.
            ev.push((e.invoke, 0, i));
            if let Some(c) = e.complete {
                ev.push((c.max(e.invoke), 1, i));
            }
        }
        ev.sort();
        let n = ev.len() + 1;
        let mut s = Events {
            op: vec![usize::MAX; n],
            is_call: vec![false; n],
            next: (1..=n).map(|i| if i == n { END } else { i }).collect(),
            prev: (0..n).map(|i| i.wrapping_sub(1)).collect(),
            call_at: vec![0; entries.len()],
            ret_at: vec![None; entries.len()],
        };
        for (pos, (_, kind, i)) in ev.into_iter().enumerate() {
            let at = pos + 1;
            s.op[at] = i;
            s.is_call[at] = kind == 0;
            if kind == 0 {
                s.call_at[i] = at;
            } else {
                s.ret_at[i] = Some(at);
            }
        }
        s
    }

    fn unlink(&mut self, at: usize) {
        let (p, n) = (self.prev[at], self.next[at]);
        self.next[p] = n;
        if n != END {
            self.prev[n] = p;
        }
    }

    fn relink(&mut self, at: usize) {
        let (p, n) = (self.prev[at], self.next[at]);
        self.next[p] = at;
        if n != END {
            self.prev[n] = at;
        }
    }

    fn lift(&mut self, op: usize) {
        self.unlink(self.call_at[op]);
        if let Some(r) = self.ret_at[op] {
            self.unlink(r);
        }
    }

    fn unlift(&mut self, op: usize) {
        if let Some(r) = self.ret_at[op] {
            self.relink(r);
        }
        self.relink(self.call_at[op]);
    }
}

fn check_key(key: &str, entries: &[&Entry]) -> Result<(), Violation> {
    let mut ev = Events::build(entries);
    let mut returns_left = ev.ret_at.iter().filter(|r| r.is_some()).count();
    // The linearised set as a bitset: it is copied into the memo at every step.
    let mut done = vec![0u64; entries.len().div_ceil(64)];
    let flip = |d: &mut Vec<u64>, op: usize| d[op / 64] ^= 1 << (op % 64);
    let mut seen: HashSet<(Vec<u64>, Value)> = HashSet::new();
    let mut stack: Vec<(usize, Value)> = Vec::new();
    let mut state: Value = None;
    let mut at = ev.next[0];
    let mut steps = 0u64;
    while returns_left > 0 {
        steps += 1;
        if steps > STEP_LIMIT {
            return Err(Violation::Inconclusive {
                key: key.to_string(),
                steps,
            });
        }
        if at == END {
            // Only open calls are left after the last return: nothing more to explain.
            return Ok(());
        }
        let op = ev.op[at];
        if ev.is_call[at] {
            let e = entries[op];
            if let Some(new) = step(&state, &e.op, &e.outcome) {
                flip(&mut done, op);
                if seen.insert((done.clone(), new.clone())) {
                    stack.push((op, std::mem::replace(&mut state, new)));
                    ev.lift(op);
                    if ev.ret_at[op].is_some() {
                        returns_left -= 1;
                    }
                    at = ev.next[0];
                    continue;
                }
                flip(&mut done, op);
            }
            at = ev.next[at];
        } else {
            let Some((last, prev)) = stack.pop() else {
                return Err(Violation::NotLinearizable {
                    key: key.to_string(),
                    op: format!("{:?}", entries[op]),
                });
            };
            flip(&mut done, last);
            state = prev;
            ev.unlift(last);
            if ev.ret_at[last].is_some() {
                returns_left += 1;
            }
            at = ev.next[ev.call_at[last]];
        }
    }
    Ok(())
}

/// Every acknowledged in-order POST is in the final listing, with its value.
pub fn check_no_lost_writes(queued: &[Acked], listing: &[Acked]) -> Result<(), Violation> {
    let present: HashMap<&str, &str> = listing
        .iter()
        .map(|a| (a.key.as_str(), a.value.as_str()))
        .collect();
    for a in queued {
        if present.get(a.key.as_str()) != Some(&a.value.as_str()) {
            return Err(Violation::LostWrite {
                key: a.key.clone(),
                value: a.value.clone(),
            });
        }
    }
    Ok(())
}

/// The watcher saw strictly increasing indexes, reached `final_index`, and passed no
/// acknowledged write.
pub fn check_watch(acked: &[Acked], seen: &[Seen], final_index: u64) -> Result<(), Violation> {
    let mut last = 0;
    for s in seen {
        if s.index <= last {
            return Err(Violation::WatchOrder {
                index: s.index,
                after: last,
            });
        }
        last = s.index;
    }
    if last < final_index {
        return Err(Violation::WatchBehind {
            reached: last,
            wanted: final_index,
        });
    }
    let by_index: HashMap<u64, &Seen> = seen.iter().map(|s| (s.index, s)).collect();
    for a in acked {
        match by_index.get(&a.index) {
            None => {
                return Err(Violation::WatchGap {
                    key: a.key.clone(),
                    index: a.index,
                });
            }
            Some(s) if s.key != a.key || s.value.as_deref() != Some(a.value.as_str()) => {
                return Err(Violation::WatchMismatch {
                    index: a.index,
                    seen: format!("{}={:?}", s.key, s.value),
                    acked: format!("{}={}", a.key, a.value),
                });
            }
            Some(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(v: &str, t0: u64, t1: u64) -> Entry {
        Entry::new("k", Op::Write(v.into()), Outcome::Done, t0, t1)
    }
    fn r(v: Option<&str>, t0: u64, t1: u64) -> Entry {
        Entry::new("k", Op::Read, Outcome::Read(v.map(String::from)), t0, t1)
    }
    fn cas(expect: &str, new: &str, outcome: Outcome, t0: u64, t1: u64) -> Entry {
        let op = Op::Cas {
            expect: expect.into(),
            new: new.into(),
        };
        Entry::new("k", op, outcome, t0, t1)
    }

    #[test]
    fn accepts_a_sequential_history() {
        let h = [
            r(None, 0, 1),
            w("a", 2, 3),
            r(Some("a"), 4, 5),
            cas("a", "b", Outcome::Done, 6, 7),
            cas("a", "c", Outcome::CasFailed, 8, 9),
            r(Some("b"), 10, 11),
        ];
        assert_eq!(check_linearizable(&h), Ok(()));
    }

    #[test]
    fn accepts_overlapping_operations_in_either_order() {
        // The read overlaps both writes, so it may see either.
        let h = [w("a", 0, 10), w("b", 5, 15), r(Some("a"), 1, 20)];
        assert_eq!(check_linearizable(&h), Ok(()));
    }

    #[test]
    fn rejects_a_stale_read() {
        // "b" was acknowledged before the read began, yet the read returned "a".
        let h = [w("a", 0, 1), w("b", 2, 3), r(Some("a"), 4, 5)];
        assert!(matches!(
            check_linearizable(&h),
            Err(Violation::NotLinearizable { .. })
        ));
    }

    #[test]
    fn rejects_a_read_of_a_value_never_written() {
        let h = [w("a", 0, 1), r(Some("zz"), 2, 3)];
        assert!(check_linearizable(&h).is_err());
    }

    #[test]
    fn rejects_two_successful_swaps_from_the_same_value() {
        let h = [
            w("a", 0, 1),
            cas("a", "b", Outcome::Done, 2, 10),
            cas("a", "c", Outcome::Done, 3, 11),
        ];
        assert!(check_linearizable(&h).is_err());
    }

    #[test]
    fn an_open_write_may_or_may_not_have_happened() {
        let open = Entry::new("k", Op::Write("x".into()), Outcome::Unknown, 2, 3);
        let took = [w("a", 0, 1), open.clone(), r(Some("x"), 10, 11)];
        let never = [w("a", 0, 1), open.clone(), r(Some("a"), 10, 11)];
        assert_eq!(check_linearizable(&took), Ok(()));
        assert_eq!(check_linearizable(&never), Ok(()));
        // But once seen, it cannot un-happen.
        let flip = [
            w("a", 0, 1),
            open,
            r(Some("x"), 10, 11),
            r(Some("a"), 12, 13),
        ];
        assert!(check_linearizable(&flip).is_err());
    }

    #[test]
    fn many_open_writes_nobody_saw_check_quickly() {
        let mut h = vec![w("a", 0, 1)];
        for i in 0..500u64 {
            h.push(Entry::new(
                "k",
                Op::Write(format!("lost{i}")),
                Outcome::Unknown,
                2 + i,
                0,
            ));
            h.push(r(Some("a"), 3 + i, 4 + i));
        }
        assert_eq!(check_linearizable(&h), Ok(()));
    }

    #[test]
    fn keys_are_judged_apart() {
        let mut other = w("a", 0, 1);
        other.key = "other".into();
        let h = [w("b", 0, 1), other, r(Some("b"), 2, 3)];
        assert_eq!(check_linearizable(&h), Ok(()));
    }

    fn acked(key: &str, value: &str, index: u64) -> Acked {
        Acked {
            key: key.into(),
            value: value.into(),
            index,
        }
    }

    #[test]
    fn finds_a_lost_write() {
        let queued = [acked("/q/1", "a", 1), acked("/q/2", "b", 2)];
        assert_eq!(check_no_lost_writes(&queued, &queued), Ok(()));
        assert_eq!(
            check_no_lost_writes(&queued, &queued[..1]),
            Err(Violation::LostWrite {
                key: "/q/2".into(),
                value: "b".into()
            })
        );
    }

    fn seen(key: &str, value: &str, index: u64) -> Seen {
        Seen {
            key: key.into(),
            value: Some(value.into()),
            index,
            member: 0,
        }
    }

    #[test]
    fn finds_a_watch_gap_a_repeat_and_a_stall() {
        let writes = [
            acked("/k", "a", 3),
            acked("/k", "b", 5),
            acked("/k", "c", 8),
        ];
        let all = [seen("/k", "a", 3), seen("/k", "b", 5), seen("/k", "c", 8)];
        assert_eq!(check_watch(&writes, &all, 8), Ok(()));
        let gap = [seen("/k", "a", 3), seen("/k", "c", 8)];
        assert_eq!(
            check_watch(&writes, &gap, 8),
            Err(Violation::WatchGap {
                key: "/k".into(),
                index: 5
            })
        );
        let repeat = [
            all[0].clone(),
            all[1].clone(),
            all[1].clone(),
            all[2].clone(),
        ];
        assert!(matches!(
            check_watch(&writes, &repeat, 8),
            Err(Violation::WatchOrder { index: 5, .. })
        ));
        assert!(matches!(
            check_watch(&writes, &all[..2], 8),
            Err(Violation::WatchBehind { reached: 5, .. })
        ));
    }

    #[test]
    fn a_few_thousand_concurrent_operations_check_quickly() {
        // Five clients, each write overlapping its neighbours', reads seeing the latest value.
        let mut h = Vec::new();
        for i in 0..3000u64 {
            let t = i * 10;
            h.push(w(&format!("v{i}"), t, t + 25));
            h.push(r(Some(&format!("v{i}")), t + 26, t + 30));
        }
        assert_eq!(check_linearizable(&h), Ok(()));
    }
}
