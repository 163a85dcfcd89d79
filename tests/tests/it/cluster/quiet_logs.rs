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
