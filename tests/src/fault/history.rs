//! What the clients did and saw: register operations with invoke/complete times, acknowledged
//! in-order POSTs, and a watcher's events. The checkers in [`super::checker`] judge them.

use std::time::Instant;

/// An operation on one key (a register).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// A `quorum=true` GET.
    Read,
    /// A PUT of a value no other operation writes.
    Write(String),
    /// A PUT with `prevValue`.
    Cas { expect: String, new: String },
}

/// What came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The value read (`None`: key not found).
    Read(Option<String>),
    /// The write or compare-and-swap took effect.
    Done,
    /// The compare-and-swap was refused (the value differed, or the key was absent).
    CasFailed,
    /// A timeout or error: it may or may not have taken effect (the operation stays open).
    Unknown,
}

/// One operation in a history; times in nanoseconds since the history's start.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    pub op: Op,
    pub outcome: Outcome,
    pub invoke: u64,
    /// `None` for an open operation (unknown outcome): it may take effect any time after invoke.
    pub complete: Option<u64>,
}

impl Entry {
    /// A completed operation (an `Unknown` outcome is made open).
    pub fn new(key: &str, op: Op, outcome: Outcome, invoke: u64, complete: u64) -> Entry {
        let complete = (outcome != Outcome::Unknown).then_some(complete);
        Entry {
            key: key.to_string(),
            op,
            outcome,
            invoke,
            complete,
        }
    }
}

/// An acknowledged write, for the lost-write and watch checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acked {
    pub key: String,
    pub value: String,
    pub index: u64,
}

/// One event a watcher saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub key: String,
    pub value: Option<String>,
    pub index: u64,
    /// Which member's watch delivered it (its position in the client URLs).
    pub member: usize,
}

/// Everything recorded in one run.
#[derive(Debug, Default, Clone)]
pub struct History {
    pub ops: Vec<Entry>,
    /// Every acknowledged write (PUT, CAS and POST) with its modifiedIndex.
    pub acked: Vec<Acked>,
    /// The keys acknowledged for in-order POSTs to the queue directory.
    pub queued: Vec<Acked>,
}

impl History {
    pub fn merge(&mut self, other: History) {
        self.ops.extend(other.ops);
        self.acked.extend(other.acked);
        self.queued.extend(other.queued);
    }
}

/// A monotonic clock shared by every client of a run.
#[derive(Debug, Clone, Copy)]
pub struct Clock(Instant);

impl Clock {
    pub fn new() -> Clock {
        Clock(Instant::now())
    }
    pub fn now(&self) -> u64 {
        self.0.elapsed().as_nanos() as u64
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

/// A small deterministic generator (xorshift64*), so a run can be repeated from its seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}
