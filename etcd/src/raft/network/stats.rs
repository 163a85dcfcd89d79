//! Append-entries outcomes per follower, for `/v2/stats/leader` and `/v2/stats/self`.

use std::collections::BTreeMap;
use std::time::Duration;

use etcd_common::stats::{FollowerStats, LatencyStats};

/// etcd's leader-side view of its followers (etcd: v2stats/leader.go).
#[derive(Debug, Default)]
pub struct ReplicationStats {
    pub sent_appends: u64,
    pub followers: BTreeMap<u64, FollowerStats>,
}

impl ReplicationStats {
    pub(super) fn record(&mut self, target: u64, elapsed: Option<Duration>) {
        self.sent_appends += 1;
        let f = self
            .followers
            .entry(target)
            .or_insert_with(|| FollowerStats {
                latency: LatencyStats {
                    minimum: f64::MAX,
                    ..LatencyStats::default()
                },
                ..FollowerStats::default()
            });
        let Some(d) = elapsed else {
            f.counts.fail += 1;
            return;
        };
        let n = f.counts.success as f64;
        let l = &mut f.latency;
        let total = n * l.average;
        let total_sq = n * (l.standard_deviation.powi(2) + l.average.powi(2));
        f.counts.success += 1;
        let n = f.counts.success as f64;
        l.current = d.as_secs_f64() * 1000.0;
        l.maximum = l.maximum.max(l.current);
        l.minimum = l.minimum.min(l.current);
        l.average = (total + l.current) / n;
        let avg_sq = (total_sq + l.current * l.current) / n;
        l.standard_deviation = (avg_sq - l.average * l.average).max(0.0).sqrt();
    }
}
