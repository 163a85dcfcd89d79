//! A normal three-member bootstrap is quiet (issue 8): no WARN and no ERROR line in any
//! member's log once the cluster is healthy and has served a write, as with real etcd, whose
//! bootstrap logs only INFO ("peer became active", "elected leader").

use super::*;

/// The log lines at WARN or ERROR (tracing's level column; real etcd's JSON `"level"`).
fn loud_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| {
            let mut words = l.split_whitespace().take(3);
            words.any(|w| w == "WARN" || w == "ERROR")
                || l.contains(r#""level":"warn""#)
                || l.contains(r#""level":"error""#)
        })
        .collect()
}

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
        let loud = loud_lines(&log);
        assert!(loud.is_empty(), "{} logged:\n{}", m.name, loud.join("\n"));
    }
}
