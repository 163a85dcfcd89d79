//! "A random mix": a seeded sequence of 3 or 4 faults drawn from the single-fault scenarios,
//! each held, healed, and waited for until every member is healthy before the next one starts.
//! The seed makes a failing mix repeatable (`FAULT_SEED=<n>` picks another); the sequence is
//! printed in the report's name.

use std::time::Duration;

use super::scenario::{Fault, Report, Scenario, heal, hold_fault};
use super::{Net, poll};

/// The faults a mix draws from: the single-fault scenarios that a few seconds' hold exercises
/// (a rolling restart and killing everyone are scenarios of their own; a delay is set from
/// the start).
const POOL: [Fault; 9] = [
    Fault::IsolateLeader,
    Fault::LeaderMute,
    Fault::LeaderDeaf,
    Fault::BlackholeFollower,
    Fault::MinorityPartition,
    Fault::KillLeader,
    Fault::KillFollower,
    Fault::StopLeader,
    Fault::SlowFsyncFollower,
];

/// splitmix64: a small, well-mixed deterministic generator (no dependency for a test).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The mix for `seed`: 3 or 4 faults, no fault twice in a row.
pub fn sequence(seed: u64) -> Vec<Fault> {
    let mut rng = Rng(seed);
    let len = 3 + rng.below(2);
    let mut out: Vec<Fault> = Vec::with_capacity(len);
    while out.len() < len {
        let f = POOL[rng.below(POOL.len())];
        if out.last() != Some(&f) {
            out.push(f);
        }
    }
    out
}

/// Runs the mix of `seed` on `net`; every step's problems land in `report`, prefixed with the
/// step. The last step is healed here too, so the caller's heal has nothing left to do.
pub fn run(seed: u64, s: &Scenario, net: &mut Net, report: &mut Report) {
    let steps = sequence(seed);
    report.name = format!("{} (seed {seed}: {steps:?})", report.name);
    // Each step is held long enough to outlast an election timeout, and the whole mix stays
    // within a few holds.
    let hold = (s.hold / 2).max(s.timing.election() + Duration::from_millis(300));
    for (i, fault) in steps.into_iter().enumerate() {
        let Some(leader) = net.leader_among(&net.live(), s.heal_limit()) else {
            report
                .problems
                .push(format!("step {i} ({fault:?}): no leader before it"));
            return;
        };
        let follower = (0..net.nodes.len())
            .find(|f| *f != leader)
            .expect("a follower");
        let step = Scenario {
            fault,
            hold,
            ..s.clone()
        };
        let mut scratch = Report::default();
        hold_fault(&step, net, leader, follower, &mut scratch);
        heal(&step, net, leader, follower);
        report.problems.extend(
            scratch
                .problems
                .into_iter()
                .map(|p| format!("step {i} ({fault:?}): {p}")),
        );
        if !poll(step.heal_limit(), || net.all_healthy()) {
            report.problems.push(format!(
                "step {i} ({fault:?}): not every member healthy within {:?} of the heal",
                step.heal_limit()
            ));
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_are_seeded_and_never_repeat_a_fault_back_to_back() {
        for seed in 0..200 {
            let a = sequence(seed);
            assert_eq!(a, sequence(seed));
            assert!((3..=4).contains(&a.len()));
            assert!(a.windows(2).all(|w| w[0] != w[1]));
        }
        assert_ne!(sequence(1), sequence(2));
    }
}
