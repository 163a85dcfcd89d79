//! What one scenario run measured, the line it prints, and the verdict.

use std::time::Duration;

use super::scenario::{Scenario, within};

/// What one run measured.
#[derive(Debug, Default)]
pub struct Report {
    pub name: String,
    pub heal_to_write: Option<Duration>,
    /// From the fault's start to the first write acknowledged by a member of the majority.
    pub fault_to_write: Option<Duration>,
    /// Whether the fault left a majority whose writes were timed (`fault_to_write`).
    pub majority_timed: bool,
    pub heal_to_healthy: Option<Duration>,
    pub peer_connections: u64,
    pub by_link: String,
    pub ops: usize,
    pub acked: usize,
    /// The leader before the fault and after the heal (`n1`..), `?` if none agreed.
    pub leaders: (String, String),
    /// The raft term of those leaders (X-Raft-Term), if they answered.
    pub terms: (Option<u64>, Option<u64>),
    /// Lower-quartile latency of writes on the leader before and during the fault (follower faults).
    pub leader_write_p25: Option<(Duration, Duration)>,
    /// Writes acknowledged while the fault was held.
    pub acked_during_fault: u64,
    pub problems: Vec<String>,
    pub logs: String,
}

impl Report {
    pub fn line(&self) -> String {
        let ms = |d: Option<Duration>| d.map_or("never".into(), |d| d.as_millis().to_string());
        format!(
            "fault-report | {} | {} | fault->write on majority {} ms | heal->write {} ms | heal->healthy {} ms | peer conns {} ({}) | leader {}->{} (term {}->{}) | leader write p25 {} | ops {} acked {} (during fault {}) | {}",
            self.name,
            if crate::running_real() {
                "real etcd"
            } else {
                "ours"
            },
            if self.majority_timed {
                ms(self.fault_to_write)
            } else {
                "-".into()
            },
            ms(self.heal_to_write),
            ms(self.heal_to_healthy),
            self.peer_connections,
            self.by_link,
            self.leaders.0,
            self.leaders.1,
            self.terms.0.map_or("?".into(), |t| t.to_string()),
            self.terms.1.map_or("?".into(), |t| t.to_string()),
            self.leader_write_p25.map_or("-".into(), |(a, b)| format!(
                "{} -> {} ms",
                a.as_millis(),
                b.as_millis()
            )),
            self.ops,
            self.acked,
            self.acked_during_fault,
            if self.problems.is_empty() {
                "ok".to_string()
            } else {
                self.problems.join("; ")
            }
        )
    }
}

/// Print the report (and append it to `$FAULT_REPORT` if set), then assert it passed.
pub fn assert_passes(s: &Scenario, r: &Report) {
    let line = r.line();
    eprintln!("{line}");
    if let Ok(path) = std::env::var("FAULT_REPORT") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(f, "{line}");
        }
    }
    let limit = s.heal_limit();
    assert!(
        r.problems.is_empty() && within(r.heal_to_write, limit) && within(r.heal_to_healthy, limit),
        "{} failed (limit {limit:?} after the heal):\n{line}\n{}",
        s.name,
        r.logs
    );
}
