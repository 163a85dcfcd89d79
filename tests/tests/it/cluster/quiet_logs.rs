//! A normal three-member bootstrap is quiet (issue 8): no ERROR line in any member's log once
//! the cluster is healthy and has served a write, and no flood of warnings. (An election race
//! at bootstrap may leave one of openraft's "message will be ignored" warnings, as etcd's own
//! bootstrap warns while its peers are still starting.)

use super::*;

/// The log lines at `level` (tracing's level column).
fn lines_at<'a>(log: &'a str, level: &str) -> Vec<&'a str> {
    log.lines()
        .filter(|l| l.split_whitespace().take(3).any(|w| w == level))
        .collect()
}

/// More warnings than this from one member at bootstrap is a flood.
const WARN_BUDGET: usize = 3;

#[test]
fn a_fresh_three_member_cluster_logs_no_warning() {
    if running_real() {
        // etcd 3.4 warns while its peers are still starting ("prober detected unhealthy").
        println!("skipped against real etcd");
        return;
    }
    let c = Cluster::start(3);
    let l = c.wait_leader(SETTLE);
    let f = (l + 1) % 3;
    write_until_ok(&c.members[f], "PUT", "/v2/keys/quiet", &[("value", "1")]);
    wait_same_tree(&c, l, &[0, 1, 2]);
    for m in &c.members {
        let log = m.log();
        let errors = lines_at(&log, "ERROR");
        assert!(
            errors.is_empty(),
            "{} logged:\n{}",
            m.name,
            errors.join("\n")
        );
        let warns = lines_at(&log, "WARN");
        assert!(
            warns.len() <= WARN_BUDGET,
            "{} logged {} warnings:\n{}",
            m.name,
            warns.len(),
            warns.join("\n")
        );
    }
}

/// A member left alone campaigns every election timeout. It says once per peer that the peer
/// is unreachable, naming it and its hex id as etcd does, and does not repeat a warning per
/// vote it cannot send (openraft logs two a campaign, with decimal ids).
#[test]
fn a_member_left_alone_names_each_gone_peer_once() {
    if running_real() {
        // etcd 3.4 warns every few seconds per peer ("prober detected unhealthy status").
        println!("skipped against real etcd");
        return;
    }
    let mut c = Cluster::start(3);
    let l = c.wait_leader(SETTLE);
    let alone = (l + 1) % 3;
    let gone: Vec<usize> = (0..3).filter(|i| *i != alone).collect();
    let names: Vec<(String, String)> = gone
        .iter()
        .map(|&g| (c.members[g].name.clone(), c.members[g].id()))
        .collect();
    for &g in &gone {
        c.members[g].kill();
    }
    for (name, id) in &names {
        wait_for(
            SETTLE,
            &format!("{name} ({id}) reported unreachable"),
            || {
                c.members[alone]
                    .log()
                    .lines()
                    .any(|l| l.contains("became unreachable") && l.contains(name) && l.contains(id))
                    .then_some(())
            },
        );
    }
    let before = lines_at(&c.members[alone].log(), "WARN").len();
    // Ten election timeouts of campaigning alone, the member answering all along.
    let window = Duration::from_millis(10 * ELECTION_MS.parse::<u64>().expect("ms"));
    let started = Instant::now();
    wait_for(window + SETTLE, "ten election timeouts", || {
        let r = try_request("GET", &c.members[alone].url("/v2/stats/self"), None).ok()?;
        assert_eq!(r.status, 200, "{}", r.body);
        (started.elapsed() >= window).then_some(())
    });
    let log = c.members[alone].log();
    let warns = lines_at(&log, "WARN");
    assert!(
        warns.len() - before <= WARN_BUDGET,
        "{} warned {} times while alone:\n{}",
        c.members[alone].name,
        warns.len() - before,
        warns[before..].join("\n")
    );
}
