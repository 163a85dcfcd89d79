//! Statistics, members and version bodies (`/v2/stats/*`, `/v2/members`, `/version`).
//!
//! etcd: server/etcdserver/api/v2stats and etcdhttp; field order as etcd writes it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `/version`: `{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    pub etcdserver: String,
    pub etcdcluster: String,
}

/// A cluster member as `/v2/members` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    /// 16 lowercase hex digits.
    pub id: String,
    /// Empty for a member that was added but has not started yet.
    pub name: String,
    #[serde(rename = "peerURLs")]
    pub peer_urls: Vec<String>,
    #[serde(rename = "clientURLs")]
    pub client_urls: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberList {
    pub members: Vec<Member>,
}

/// `/v2/stats/store`: counters of store operations, in etcd's order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreStats {
    pub gets_success: u64,
    pub gets_fail: u64,
    pub sets_success: u64,
    pub sets_fail: u64,
    pub delete_success: u64,
    pub delete_fail: u64,
    pub update_success: u64,
    pub update_fail: u64,
    pub create_success: u64,
    pub create_fail: u64,
    pub compare_and_swap_success: u64,
    pub compare_and_swap_fail: u64,
    pub compare_and_delete_success: u64,
    pub compare_and_delete_fail: u64,
    pub expire_count: u64,
    pub watchers: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaderInfo {
    pub leader: String,
    pub uptime: String,
    pub start_time: String,
}

/// `/v2/stats/self`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SelfStats {
    pub name: String,
    pub id: String,
    pub state: String,
    pub start_time: String,
    #[serde(rename = "leaderInfo")]
    pub leader_info: LeaderInfo,
    pub recv_append_request_cnt: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recv_pkg_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recv_bandwidth_rate: Option<f64>,
    pub send_append_request_cnt: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_pkg_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_bandwidth_rate: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LatencyStats {
    pub current: f64,
    pub average: f64,
    pub standard_deviation: f64,
    pub minimum: f64,
    pub maximum: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountsStats {
    pub fail: u64,
    pub success: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FollowerStats {
    pub latency: LatencyStats,
    pub counts: CountsStats,
}

/// `/v2/stats/leader`: `{"leader":"…","followers":{"<id>":{…}}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LeaderStats {
    pub leader: String,
    pub followers: BTreeMap<String, FollowerStats>,
}

/// Format a member id the way etcd does (`%x`: lowercase hex, no padding).
pub fn format_member_id(id: u64) -> String {
    format!("{id:x}")
}

/// Parse a member id as etcd accepts it in URLs and flags (hex, no prefix).
pub fn parse_member_id(s: &str) -> Option<u64> {
    u64::from_str_radix(s, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_stats_field_order() {
        let s = serde_json::to_string(&StoreStats::default()).unwrap();
        assert_eq!(
            s,
            r#"{"getsSuccess":0,"getsFail":0,"setsSuccess":0,"setsFail":0,"deleteSuccess":0,"deleteFail":0,"updateSuccess":0,"updateFail":0,"createSuccess":0,"createFail":0,"compareAndSwapSuccess":0,"compareAndSwapFail":0,"compareAndDeleteSuccess":0,"compareAndDeleteFail":0,"expireCount":0,"watchers":0}"#
        );
    }

    #[test]
    fn member_wire_names() {
        let m = Member {
            id: format_member_id(0xddd67b312462fd7b),
            name: "default".into(),
            peer_urls: vec!["http://127.0.0.1:2380".into()],
            client_urls: vec!["http://127.0.0.1:2379".into()],
        };
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"id":"ddd67b312462fd7b","name":"default","peerURLs":["http://127.0.0.1:2380"],"clientURLs":["http://127.0.0.1:2379"]}"#
        );
        assert_eq!(
            parse_member_id("ddd67b312462fd7b"),
            Some(0xddd67b312462fd7b)
        );
    }
}
