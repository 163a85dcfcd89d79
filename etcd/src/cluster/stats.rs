//! `/v2/stats/self` and `/v2/stats/leader` (etcd: v2stats/server.go, leader.go).

use std::sync::atomic::Ordering;

use etcd_common::stats::{LeaderInfo, LeaderStats, SelfStats, format_member_id};

use super::Cluster;
use crate::raft::node::Role;
use crate::time;

impl Cluster {
    pub fn self_stats(&self) -> SelfStats {
        let mut s = self.node.status();
        // A leader whose quorum lease ran out reports what etcd's check-quorum would have made
        // of it: a follower that knows no leader. openraft keeps the role (it only refuses new
        // proposals), and `leader_id` already hides it from clients.
        if s.role == Role::Leader && self.leader_id() != Some(self.member_id) {
            s.role = Role::Follower;
            s.leader = None;
        }
        let state = match s.role {
            Role::Leader => "StateLeader",
            Role::Candidate => "StateCandidate",
            _ => "StateFollower",
        };
        let since = self.leader_since.load(Ordering::Relaxed) as i64;
        let now = time::now();
        SelfStats {
            name: self.name.clone(),
            id: format_member_id(self.member_id),
            state: state.to_string(),
            start_time: time::rfc3339_nano(self.started_at),
            leader_info: LeaderInfo {
                leader: s.leader.map(format_member_id).unwrap_or_default(),
                uptime: time::go_duration(if since > 0 { now - since } else { 0 }),
                start_time: if since > 0 {
                    time::rfc3339_nano(since)
                } else {
                    "0001-01-01T00:00:00Z".to_string()
                },
            },
            recv_append_request_cnt: self.peer_service.recv_append(),
            recv_pkg_rate: None,
            recv_bandwidth_rate: None,
            send_append_request_cnt: if s.role == Role::Leader {
                self.peers.stats.lock().map(|s| s.sent_appends).unwrap_or(0)
            } else {
                0
            },
            send_pkg_rate: None,
            send_bandwidth_rate: None,
        }
    }

    pub fn leader_stats(&self) -> LeaderStats {
        let members = self.shared.members();
        let followers = self
            .peers
            .stats
            .lock()
            .map(|s| {
                s.followers
                    .iter()
                    .filter(|(id, _)| members.contains_key(id) && **id != self.member_id)
                    .map(|(id, f)| {
                        let mut f = f.clone();
                        if f.counts.success == 0 {
                            f.latency.minimum = 0.0;
                        }
                        (format_member_id(*id), f)
                    })
                    .collect()
            })
            .unwrap_or_default();
        LeaderStats {
            leader: format_member_id(self.member_id),
            followers,
        }
    }
}
