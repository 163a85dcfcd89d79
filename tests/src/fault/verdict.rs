//! The verdict on a scenario's history: linearizable, no acknowledged write lost, every watcher
//! saw every acknowledged write in order, and every replica holds the same tree.

use super::checker::{Violation, check_linearizable, check_no_lost_writes, check_watch};
use super::history::{History, Seen};
use super::report::Report;
use super::workload::{queue_listing, replica_trees};

pub(super) fn judge(
    hist: &History,
    seen: Result<Vec<Seen>, String>,
    urls: &[String],
    report: &mut Report,
) {
    if let Err(v) = check_linearizable(&hist.ops) {
        // The key's whole history, so a failure can be read without a rerun (client `cN`
        // talks to member `N % members`).
        if let Violation::NotLinearizable { key, .. } = &v {
            let mut ops: Vec<_> = hist.ops.iter().filter(|e| &e.key == key).collect();
            ops.sort_by_key(|e| e.invoke);
            for e in ops {
                report.logs.push_str(&format!(
                    "history {key}: {:?} -> {:?} [{} .. {:?}]\n",
                    e.op, e.outcome, e.invoke, e.complete
                ));
            }
        }
        report.problems.push(format!("linearizability: {v:?}"));
    }
    match queue_listing(urls) {
        Some(listing) => {
            if let Err(v) = check_no_lost_writes(&hist.queued, &listing) {
                report.problems.push(format!("lost write: {v:?}"));
            }
        }
        None => report.problems.push("queue listing unavailable".into()),
    }
    let last = hist.acked.iter().map(|a| a.index).max().unwrap_or(0);
    replicas_agree(urls, last, report);
    match seen {
        Ok(seen) => {
            if let Err(v) = check_watch(&hist.acked, &seen, last) {
                for a in &hist.acked {
                    report
                        .logs
                        .push_str(&format!("acked {} {}={}\n", a.index, a.key, a.value));
                }
                for s in &seen {
                    report.logs.push_str(&format!(
                        "seen {} {}={:?} from member {}\n",
                        s.index,
                        s.key,
                        s.value,
                        s.member + 1
                    ));
                }
                report.problems.push(format!("watch: {v:?}"));
            }
        }
        Err(e) => report.problems.push(format!("watch: {e}")),
    }
}

/// Every member, once it applied the last acknowledged index, holds the same `/fault` tree.
fn replicas_agree(urls: &[String], last: u64, report: &mut Report) {
    let trees = replica_trees(urls, last);
    let Some(Some(first)) = trees.first() else {
        report
            .problems
            .push("replicas: member 1 gave no tree".into());
        return;
    };
    for (i, t) in trees.iter().enumerate().skip(1) {
        match t {
            None => report
                .problems
                .push(format!("replicas: member {} gave no tree", i + 1)),
            Some(t) if t != first => {
                let only: Vec<_> = t.iter().filter(|a| !first.contains(a)).collect();
                let missing: Vec<_> = first.iter().filter(|a| !t.contains(a)).collect();
                report.problems.push(format!(
                    "replicas diverged: member {} has {only:?}, lacks {missing:?} of member 1",
                    i + 1
                ));
            }
            Some(_) => {}
        }
    }
}
