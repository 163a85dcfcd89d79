//! etcd 0.4's cluster policy (`/v2/admin/config` on the peer port): how many members may sit
//! in the cluster (`activeSize`), how long a member may stay silent before the leader removes
//! it (`removeDelay`, seconds), and how often a standby syncs (`syncInterval`; we have no
//! standbys, so it is kept and reported only).
//!
//! 0.4 keeps the policy in the key `/_etcd/config`, and so do we: it replicates, lands in
//! snapshots and reads back like any key. Until an operator sets it the policy is off, so a
//! cluster moved over from etcd 2.x or 3.x is never capped and never shrinks on its own; `GET`
//! shows 0.4's defaults meanwhile, as 0.4 does for a missing key.

use std::time::Duration;

use etcd_common::EtcdError;
use etcd_common::go::strconv::json_float;
use serde::Deserialize;

use super::{Cluster, MemberOp};
use crate::store::{ByteStr, Command, Op};
use crate::time;

/// Where 0.4 keeps the policy.
pub const CONFIG_KEY: &str = "/_etcd/config";

/// How often the leader applies the policy (0.4's monitors run every second).
const MONITOR_EVERY: Duration = Duration::from_secs(1);

/// 0.4's `ClusterConfig`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClusterConfig {
    pub active_size: i64,
    pub remove_delay: f64,
    pub sync_interval: f64,
}

impl Default for ClusterConfig {
    fn default() -> ClusterConfig {
        ClusterConfig {
            active_size: 9,
            remove_delay: 1800.0,
            sync_interval: 5.0,
        }
    }
}

impl ClusterConfig {
    /// The JSON 0.4 writes and answers, numbers in Go's form (`1800`, `0.5`).
    pub fn to_json(self) -> String {
        format!(
            r#"{{"activeSize":{},"removeDelay":{},"syncInterval":{}}}"#,
            self.active_size,
            json_float(self.remove_delay),
            json_float(self.sync_interval)
        )
    }

    /// A `PUT` body merged into `self`, as 0.4 merges it: only numeric `activeSize`,
    /// `removeDelay` and `syncInterval` count (`activeSize` truncated to an integer); anything
    /// else in the object is ignored. Then 0.4's minimums: 3 members, 2 s, 1 s.
    pub fn merged(self, body: &serde_json::Map<String, serde_json::Value>) -> ClusterConfig {
        let number = |k: &str| body.get(k).and_then(serde_json::Value::as_f64);
        let mut c = self;
        if let Some(n) = number("activeSize") {
            // `as` saturates, where Go's int() of a huge float is undefined.
            c.active_size = n as i64;
        }
        if let Some(n) = number("removeDelay") {
            c.remove_delay = n;
        }
        if let Some(n) = number("syncInterval") {
            c.sync_interval = n;
        }
        c.active_size = c.active_size.max(3);
        c.remove_delay = c.remove_delay.max(2.0);
        c.sync_interval = c.sync_interval.max(1.0);
        c
    }

    fn parse(value: &[u8]) -> Option<ClusterConfig> {
        serde_json::from_slice(value).ok()
    }
}

impl Cluster {
    /// The policy an operator set, as this member has applied it; `None` while it is off (the
    /// key is missing, or holds something that is not a policy).
    pub fn cluster_config(&self) -> Option<ClusterConfig> {
        let event = self
            .get(CONFIG_KEY.as_bytes(), false, false, time::now())
            .ok()?;
        ClusterConfig::parse(event.node.value.as_deref()?)
    }

    /// Replicate a new policy; it takes effect on every member as it applies it.
    pub async fn set_cluster_config(&self, c: ClusterConfig) -> Result<ClusterConfig, EtcdError> {
        let cmd = Command {
            now: time::now(),
            op: Op::Set {
                path: ByteStr::from(CONFIG_KEY),
                dir: false,
                value: ByteStr::from(c.to_json().as_str()),
                expire_at: None,
                refresh: false,
            },
        };
        self.propose(cmd).await.map(|_| c)
    }

    /// Whether the policy leaves room for one more member.
    pub(super) fn has_room(&self) -> bool {
        self.cluster_config()
            .is_none_or(|c| (self.shared.members().len() as i64) < c.active_size)
    }

    /// On the leader, once a second, 0.4's two monitors: remove a member while there are more
    /// than `activeSize`, and remove a member that has not answered for `removeDelay`. One
    /// removal a tick, so the cluster changes one step at a time, as 0.4's does.
    pub(super) async fn enforce_cluster_policy(self: std::sync::Arc<Self>) {
        let mut tick = tokio::time::interval(MONITOR_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !self.is_shut_down() {
            tick.tick().await;
            if !self.is_leader() {
                continue;
            }
            let Some(config) = self.cluster_config() else {
                continue;
            };
            if let Some(id) = self.member_to_remove(config) {
                tracing::warn!("cluster policy: removing member {id:x}");
                if let Err(e) = self.member_op(MemberOp::Remove { id }).await {
                    tracing::warn!("cluster policy: removing member {id:x} failed: {e}");
                }
            }
        }
    }

    /// Which member the policy removes now, if any. Over `activeSize`, the member furthest
    /// behind (0.4 picks at random; the one furthest behind costs the cluster least); else a
    /// member silent for longer than `removeDelay`. Never the leader itself.
    fn member_to_remove(&self, config: ClusterConfig) -> Option<u64> {
        let status = self.node.status();
        let others: Vec<u64> = self
            .shared
            .members()
            .keys()
            .copied()
            .filter(|id| *id != self.member_id)
            .collect();
        if others.len() as i64 + 1 > config.active_size {
            return others
                .iter()
                .copied()
                .min_by_key(|id| status.matched.get(id).copied().flatten());
        }
        let leading_for = Duration::from_nanos(
            (time::now() as u64)
                .saturating_sub(self.leader_since.load(std::sync::atomic::Ordering::Relaxed)),
        );
        let delay = Duration::try_from_secs_f64(config.remove_delay).unwrap_or(Duration::MAX);
        others.into_iter().find(|id| {
            let silent = status
                .acked
                .get(id)
                .copied()
                .flatten()
                .unwrap_or(leading_for);
            silent > delay
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn merge_takes_numbers_only_and_applies_the_minimums() {
        let c = ClusterConfig::default();
        assert_eq!(
            c.to_json(),
            r#"{"activeSize":9,"removeDelay":1800,"syncInterval":5}"#
        );
        let m = c.merged(&body(
            r#"{"activeSize":4.9,"removeDelay":"10","syncInterval":0.5,"x":1}"#,
        ));
        assert_eq!(
            m.to_json(),
            r#"{"activeSize":4,"removeDelay":1800,"syncInterval":1}"#
        );
        let m = c.merged(&body(
            r#"{"activeSize":-1e300,"removeDelay":2.5,"syncInterval":1e30}"#,
        ));
        assert_eq!(
            m.to_json(),
            r#"{"activeSize":3,"removeDelay":2.5,"syncInterval":1e+30}"#
        );
        assert_eq!(c.merged(&body("{}")), c);
    }

    #[test]
    fn a_stored_policy_reads_back_and_anything_else_is_none() {
        let c = ClusterConfig {
            active_size: 5,
            remove_delay: 2.0,
            sync_interval: 1.5,
        };
        assert_eq!(ClusterConfig::parse(c.to_json().as_bytes()), Some(c));
        assert_eq!(
            ClusterConfig::parse(br#"{"activeSize":4}"#),
            Some(ClusterConfig {
                active_size: 4,
                ..ClusterConfig::default()
            })
        );
        assert_eq!(ClusterConfig::parse(b"not json"), None);
        assert_eq!(ClusterConfig::parse(br#"{"activeSize":"4"}"#), None);
    }
}
