//! One fault scenario end to end: three members behind the proxy, clients on all of them, a
//! fault held for a while, the heal, and then the verdict: how long until a write succeeds and
//! every member is healthy, how many peer connections were opened, and the three checks.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use super::proxy::Link;
pub use super::report::{Report, assert_passes};
use super::verdict::judge;
use super::workload::{Config, Workload};
use super::{Net, Timing};
use crate::cluster::send;

/// What goes wrong, and to whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    /// Every link to and from the leader black-holed.
    IsolateLeader,
    /// The leader's own connections black-holed: it can receive, not send.
    LeaderMute,
    /// Connections to the leader black-holed: it can send, not receive.
    LeaderDeaf,
    /// Every link to and from a follower black-holed, for at least five election timeouts; on
    /// the heal it must not depose the leader (pre-vote: same leader, same term).
    BlackholeFollower,
    /// A follower cut off by resets (connections refused and closed); it must not serve
    /// `quorum=true` reads or accept writes meanwhile.
    MinorityPartition,
    KillLeader,
    KillFollower,
    /// SIGSTOP of the leader for the hold (longer than the election timeout).
    StopLeader,
    /// Every link delayed this much each way, from the start.
    DelayAll(Duration),
    /// kill -9 of every member; all restarted at the heal.
    KillAll,
    /// Each member in turn killed, restarted and waited for until healthy (no hold).
    RollingRestart,
    /// A follower whose fsync stalls 200 ms about twice a second (the test-only
    /// `ETCD_TEST_FSYNC_STALL_FILE` hook), under the same load.
    SlowFsyncFollower,
    /// A seeded sequence of faults from the set above, each held and healed before the next
    /// (see `mix.rs`).
    RandomMix(u64),
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: &'static str,
    pub fault: Fault,
    pub hold: Duration,
    pub timing: Timing,
    pub setup_delay: Duration,
    pub workload: Config,
}

impl Scenario {
    /// Defaults: 100/1000 ms timing (so "3 election timeouts" is 3 s on a busy machine), a
    /// 3 s fault (`FAULT_HOLD_MS` overrides it for a soak), 5 ms connection setup.
    pub fn new(name: &'static str, fault: Fault) -> Scenario {
        let hold = std::env::var("FAULT_HOLD_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(Duration::from_secs(3), Duration::from_millis);
        let mut workload = Config::default();
        if hold > Duration::from_secs(10) {
            workload.max_ops = 20_000;
        }
        let mut s = Scenario {
            name,
            fault,
            hold,
            timing: Timing {
                heartbeat_ms: 100,
                election_ms: 1000,
            },
            setup_delay: Duration::from_millis(5),
            workload,
        };
        // The fault must outlast the failover it asserts (and then some, so the new leader
        // serves while the old one is still cut off), and a black-holed follower must have
        // campaigned a few times before it rejoins.
        if let Some(limit) = s.failover_limit() {
            s.hold = s.hold.max(limit + s.timing.election() / 2);
        }
        if fault == Fault::BlackholeFollower {
            s.hold = s.hold.max(5 * s.timing.election());
        }
        s
    }

    /// What a scenario must meet after the heal.
    pub fn heal_limit(&self) -> Duration {
        3 * self.timing.election()
    }

    /// For a fault that costs the majority its leader: how soon after the fault it must have
    /// acknowledged a write. Three election timeouts, as after a heal; four for a deaf leader,
    /// which keeps heartbeating until it notices: etcd's leader checks its quorum once per
    /// election timeout, so it steps down up to 2E after it last heard one, and its followers
    /// campaign [E, 2E) after its last heartbeat. (Ours stops heartbeating 3E/4 after its last
    /// acknowledgement and its followers campaign [E, 1.5E) later: about 2.25E.)
    pub fn failover_limit(&self) -> Option<Duration> {
        let e = self.timing.election();
        match self.fault {
            Fault::IsolateLeader | Fault::KillLeader | Fault::StopLeader | Fault::LeaderMute => {
                Some(3 * e)
            }
            Fault::LeaderDeaf => Some(4 * e),
            _ => None,
        }
    }
}

/// How long after the heal we keep measuring (past the limit, so the report has a number).
const MEASURE: Duration = Duration::from_secs(20);

/// Run `s` and return its report; [`assert_passes`] judges it.
pub fn run(s: &Scenario) -> Report {
    let delay = match s.fault {
        Fault::DelayAll(d) => Some(d),
        _ => None,
    };
    let net = Net::start(3, s.timing, s.setup_delay);
    let mut net = net;
    if let Some(d) = delay {
        for a in 0..3 {
            for b in (0..3).filter(|b| *b != a) {
                net.proxy.set(a, b, Link::Delay(d));
            }
        }
    }
    let urls: Vec<String> = net.nodes.iter().map(|n| n.client_url()).collect();
    let leader = net.leader(crate::READY_LIMIT);
    let follower = (0..3).find(|i| *i != leader).expect("a follower");
    let mut report = Report {
        name: s.name.to_string(),
        ..Report::default()
    };
    let w = Workload::start(&urls, &s.workload);
    if !w.wait_acked(20, Duration::from_secs(10)) {
        report.problems.push("no progress before the fault".into());
    }
    let before = w.acked.load(std::sync::atomic::Ordering::SeqCst);
    let term_before = net.term_of(leader);
    hold_fault(s, &mut net, leader, follower, &mut report);
    report.acked_during_fault = w.acked.load(std::sync::atomic::Ordering::SeqCst) - before;
    // The majority that lost its leader must elect another and serve within the limit.
    if let Some(limit) = s.failover_limit()
        && !within(report.fault_to_write, limit)
    {
        report.problems.push(format!(
            "the majority acknowledged no write within {limit:?} of losing its leader"
        ));
    }
    let healed = Instant::now();
    heal(s, &mut net, leader, follower);
    let all: Vec<usize> = (0..net.nodes.len()).collect();
    report.heal_to_write = first_write(&net, &all, healed, MEASURE);
    let after = net.leader_among(&net.live(), Duration::from_secs(5));
    report.leaders = (
        net.nodes[leader].name.clone(),
        after.map_or("?".into(), |l| net.nodes[l].name.clone()),
    );
    report.terms = (term_before, after.and_then(|l| net.term_of(l)));
    // Pre-vote: the rejoining follower's campaigns raised no term, so the leader stays. Real
    // etcd 3.4 runs without --pre-vote by default and is deposed (its line shows it).
    if s.fault == Fault::BlackholeFollower
        && !crate::running_real()
        && (after != Some(leader) || report.terms.0 != report.terms.1)
    {
        report.problems.push(format!(
            "the rejoining follower deposed the leader: {}->{} terms {:?}",
            report.leaders.0, report.leaders.1, report.terms
        ));
    }
    report.heal_to_healthy = crate::fault::poll(MEASURE.saturating_sub(healed.elapsed()), || {
        net.all_healthy()
    })
    .then(|| healed.elapsed());
    if !w.wait_acked(20, Duration::from_secs(5)) {
        report
            .problems
            .push("clients made no progress after the heal".into());
    }
    let (hist, seen) = w.finish();
    report.ops = hist.ops.len();
    report.acked = hist.acked.len();
    judge(&hist, seen, &urls, &mut report);
    report.peer_connections = net.proxy.opened_total();
    report.by_link = links(&net);
    if !report.problems.is_empty() || !within(report.heal_to_healthy, s.heal_limit()) {
        for n in &net.nodes {
            // FAULT_LOG_DIR keeps every member's whole log of a failed run, for reading later.
            if let Ok(dir) = std::env::var("FAULT_LOG_DIR") {
                let to = format!("{dir}/{}-{}-{}.log", s.name, std::process::id(), n.name);
                let _ = std::fs::copy(n.log_path(), to.replace(' ', "_"));
            }
            let _ = writeln!(
                report.logs,
                "--- {} log (last 25 lines):\n{}",
                n.name,
                n.log_tail(25)
            );
        }
    }
    report
}

pub(super) fn within(d: Option<Duration>, limit: Duration) -> bool {
    d.is_some_and(|d| d <= limit)
}

fn links(net: &Net) -> String {
    let mut v: Vec<_> = net.proxy.opened().into_iter().collect();
    v.sort();
    v.iter()
        .map(|((from, to), n)| {
            let f = from.map_or("?".to_string(), |f| (f + 1).to_string());
            format!("{f}->{}:{n}", to + 1)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The slow follower's fsync: 200 ms stalls, at most one every 500 ms.
const STALL: (Duration, Duration) = (Duration::from_millis(200), Duration::from_millis(500));

/// Apply the fault and hold it for `s.hold`.
pub(super) fn hold_fault(
    s: &Scenario,
    net: &mut Net,
    leader: usize,
    follower: usize,
    report: &mut Report,
) {
    let n = net.nodes.len();
    // The leader's write latency before a follower fault, to compare with during it.
    let baseline = matches!(
        s.fault,
        Fault::BlackholeFollower | Fault::MinorityPartition | Fault::KillFollower
    )
    .then(|| typical_write(net, leader, Instant::now() + BASELINE));
    match s.fault {
        Fault::None | Fault::DelayAll(_) => {}
        Fault::IsolateLeader => net.proxy.isolate(leader, n, Link::Drop),
        Fault::BlackholeFollower => net.proxy.isolate(follower, n, Link::Drop),
        Fault::MinorityPartition => net.proxy.isolate(follower, n, Link::Reset),
        Fault::LeaderMute => (0..n)
            .filter(|b| *b != leader)
            .for_each(|b| net.proxy.hold_bytes(leader, b)),
        Fault::LeaderDeaf => (0..n)
            .filter(|a| *a != leader)
            .for_each(|a| net.proxy.hold_bytes(a, leader)),
        Fault::KillLeader => net.nodes[leader].kill(),
        Fault::KillFollower => net.nodes[follower].kill(),
        Fault::StopLeader => net.nodes[leader].pause(),
        Fault::KillAll => net.nodes.iter_mut().for_each(super::Node::kill),
        Fault::RollingRestart => return rolling_restart(net, report),
        Fault::SlowFsyncFollower => net.nodes[follower].set_fsync_stall(Some(STALL)),
        Fault::RandomMix(seed) => return super::mix::run(seed, s, net, report),
    }
    let started = Instant::now();
    let until = started + s.hold;
    let survivors: Vec<usize> = match s.fault {
        Fault::BlackholeFollower
        | Fault::MinorityPartition
        | Fault::KillFollower
        | Fault::SlowFsyncFollower => (0..n).filter(|i| *i != follower).collect(),
        Fault::IsolateLeader
        | Fault::LeaderMute
        | Fault::LeaderDeaf
        | Fault::KillLeader
        | Fault::StopLeader => (0..n).filter(|i| *i != leader).collect(),
        _ => Vec::new(),
    };
    report.majority_timed = !survivors.is_empty();
    if report.majority_timed {
        report.fault_to_write = first_write(net, &survivors, started, s.hold);
    }
    if s.fault == Fault::MinorityPartition {
        // Give the cut-off member an election timeout to notice, then keep asking it.
        let from = Instant::now() + s.timing.election();
        minority_refuses(net, follower, from, until, report);
    }
    if let Some(before) = baseline {
        // Measured once the fault is an election timeout old, through to its end.
        std::thread::sleep(
            (started + s.timing.election()).saturating_duration_since(Instant::now()),
        );
        let during = typical_write(net, leader, until);
        report.leader_write_p25 = Some((before, during));
        // A leader that waited on the gone follower would add at least a heartbeat to every
        // write; the factor absorbs a CPU shared with another test, which scales both figures.
        let slack = Duration::from_millis(s.timing.heartbeat_ms);
        if during > before * 2 + slack {
            report.problems.push(format!(
                "the leader's writes slowed from {before:?} to {during:?} (lower quartile) with a follower gone"
            ));
        }
    }
    let left = until.saturating_duration_since(Instant::now());
    std::thread::sleep(left);
}

/// How long the leader's write latency is sampled before a follower fault.
const BASELINE: Duration = Duration::from_millis(1000);

/// The lower quartile of the leader's write latency until `until`. A leader that waited on a
/// gone follower would be slow on every write, which moves the lower quartile as much as the
/// median; another test hogging the CPU for part of the window (the suite runs two at a time
/// on two cores) moves it far less.
fn typical_write(net: &Net, i: usize, until: Instant) -> Duration {
    let mut times = Vec::new();
    for round in 0..1000u32 {
        let t = Instant::now();
        let ok = send(
            &net.nodes[i].url("/v2/keys/latency"),
            "PUT",
            Some(&[("value", &round.to_string())]),
            Duration::from_secs(2),
        )
        .is_some_and(|r| r.status / 100 == 2);
        times.push(if ok {
            t.elapsed()
        } else {
            Duration::from_secs(2)
        });
        if Instant::now() >= until {
            break;
        }
    }
    times.sort();
    times[times.len() / 4]
}

/// Until `until`, the isolated member must neither acknowledge a write nor answer a quorum read.
fn minority_refuses(net: &Net, i: usize, from: Instant, until: Instant, report: &mut Report) {
    std::thread::sleep(from.saturating_duration_since(Instant::now()));
    let node = &net.nodes[i];
    let t = Duration::from_millis(500);
    for round in 0..100 {
        if Instant::now() >= until {
            break;
        }
        let w = send(
            &node.url("/v2/keys/minority"),
            "PUT",
            Some(&[("value", &round.to_string())]),
            t,
        );
        if w.as_ref().is_some_and(|r| r.status / 100 == 2) {
            report
                .problems
                .push("the isolated member accepted a write".into());
            return;
        }
        let r = send(&node.url("/v2/keys/fault/r0?quorum=true"), "GET", None, t);
        if r.as_ref().is_some_and(|r| r.status == 200) {
            report
                .problems
                .push("the isolated member served a quorum read".into());
            return;
        }
    }
}

fn rolling_restart(net: &mut Net, report: &mut Report) {
    for i in 0..net.nodes.len() {
        net.nodes[i].kill();
        net.nodes[i].spawn();
        if !super::poll(Duration::from_secs(10), || net.all_healthy()) {
            report.problems.push(format!(
                "not healthy 10 s after restarting {}",
                net.nodes[i].name
            ));
            return;
        }
    }
}

pub(super) fn heal(s: &Scenario, net: &mut Net, leader: usize, follower: usize) {
    match s.fault {
        Fault::SlowFsyncFollower => net.nodes[follower].set_fsync_stall(None),
        Fault::KillLeader => net.nodes[leader].spawn(),
        Fault::KillFollower => net.nodes[follower].spawn(),
        Fault::StopLeader => net.nodes[leader].resume(),
        Fault::KillAll => net.nodes.iter_mut().for_each(super::Node::spawn),
        Fault::DelayAll(_) | Fault::RollingRestart | Fault::RandomMix(_) => {}
        _ => net.proxy.heal(),
    }
}

/// A new probe write starts this often while none has been acknowledged.
const PROBE_EVERY: Duration = Duration::from_millis(25);

/// How long one probe write waits for its answer.
const PROBE_WAIT: Duration = Duration::from_millis(1000);

/// Probes in flight at most: enough that one still starts every [`PROBE_EVERY`] while all
/// before it hang for [`PROBE_WAIT`] (forwarded to a leader that went silent), so the first
/// write after a failover is seen within a probe interval, not when a slot frees up. (With 10
/// the probes stalled from 250 ms to 1 s after the fault, just where failovers end.)
const PROBES_IN_FLIGHT: usize = 44;

/// Time from `since` to the first acknowledged write on one of the members `on`, if within
/// `limit`.
///
/// Probes overlap: one starts every [`PROBE_EVERY`] on the next live member, each on its own
/// thread (at most [`PROBES_IN_FLIGHT`]). A probe sent to a member that cannot commit hangs
/// until [`PROBE_WAIT`]; probing one at a time would then report that wait instead of when the
/// cluster became writable again.
fn first_write(net: &Net, on: &[usize], since: Instant, limit: Duration) -> Option<Duration> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let first: std::sync::Mutex<Option<Duration>> = std::sync::Mutex::new(None);
    let acked = || first.lock().map(|f| *f).unwrap_or(None);
    let in_flight = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let rounds = limit.as_millis() / PROBE_EVERY.as_millis() + 1;
        for round in 0..rounds {
            if acked().is_some() || since.elapsed() > limit {
                break;
            }
            let node = &net.nodes[on[round as usize % on.len()]];
            if node.is_live() && in_flight.load(Ordering::SeqCst) < PROBES_IN_FLIGHT {
                in_flight.fetch_add(1, Ordering::SeqCst);
                let url = node.url("/v2/keys/probe");
                let (first, in_flight) = (&first, &in_flight);
                scope.spawn(move || {
                    let value = round.to_string();
                    let r = send(&url, "PUT", Some(&[("value", &value)]), PROBE_WAIT);
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    if r.is_some_and(|r| r.status / 100 == 2) {
                        let at = since.elapsed();
                        if let Ok(mut f) = first.lock() {
                            *f = Some(f.map_or(at, |f| f.min(at)));
                        }
                    }
                });
            }
            std::thread::sleep(PROBE_EVERY);
        }
    });
    acked().filter(|at| *at <= limit + PROBE_WAIT)
}
