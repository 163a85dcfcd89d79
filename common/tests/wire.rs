//! Golden bytes of the wire types, as the daemon writes them (Go's `encoding/json` through
//! `etcd_common::go::json`). Each expected string was taken from real etcd 3.4.23 answering
//! the same request (`curl` against `/usr/bin/etcd --enable-v2`), with ids and times fixed.

use std::collections::BTreeMap;

use etcd_common::go::json;
use etcd_common::stats::{CountsStats, FollowerStats, LatencyStats, LeaderInfo};
use etcd_common::{
    Action, ErrorBody, ErrorCode, EtcdError, LeaderStats, Member, MemberList, Node, Response,
    SelfStats, StoreStats, Version,
};

fn leaf(key: &str, value: &str, modified: u64, created: u64) -> Node {
    Node {
        key: key.into(),
        value: Some(value.into()),
        modified_index: modified,
        created_index: created,
        ..Node::default()
    }
}

/// Both directions: our bytes are etcd's, and etcd's bytes parse back to the same value.
fn golden<T>(value: &T, etcd: &str)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    assert_eq!(json::to_string(value), etcd);
    assert_eq!(&serde_json::from_str::<T>(etcd).unwrap(), value);
}

#[test]
fn set_with_ttl_escapes_html_and_orders_fields_as_etcd() {
    let mut node = leaf("/a/b", "x<y", 4, 4);
    node.expiration = Some("2026-12-01T09:06:33.127744267Z".into());
    node.ttl = 100;
    golden(
        &Response {
            action: Action::Set,
            node: Some(node),
            prev_node: None,
        },
        r#"{"action":"set","node":{"key":"/a/b","value":"x\u003cy","expiration":"2026-12-01T09:06:33.127744267Z","ttl":100,"modifiedIndex":4,"createdIndex":4}}"#,
    );
}

#[test]
fn recursive_get_lists_children_and_omits_the_empty_value_of_a_dir() {
    let dir = Node {
        key: "/a".into(),
        dir: true,
        nodes: Some(vec![leaf("/a/b", "z", 5, 5)]),
        modified_index: 4,
        created_index: 4,
        ..Node::default()
    };
    golden(
        &Response {
            action: Action::Get,
            node: Some(dir),
            prev_node: None,
        },
        r#"{"action":"get","node":{"key":"/a","dir":true,"nodes":[{"key":"/a/b","value":"z","modifiedIndex":5,"createdIndex":5}],"modifiedIndex":4,"createdIndex":4}}"#,
    );
}

#[test]
fn delete_carries_prev_node_and_a_valueless_node() {
    let node = Node {
        key: "/a/b".into(),
        modified_index: 6,
        created_index: 5,
        ..Node::default()
    };
    golden(
        &Response {
            action: Action::Delete,
            node: Some(node),
            prev_node: Some(leaf("/a/b", "z", 5, 5)),
        },
        r#"{"action":"delete","node":{"key":"/a/b","modifiedIndex":6,"createdIndex":5},"prevNode":{"key":"/a/b","value":"z","modifiedIndex":5,"createdIndex":5}}"#,
    );
}

#[test]
fn error_bodies_are_etcds_and_escape_the_cause() {
    let e = EtcdError::new(ErrorCode::TestFailed, "[q != z]", 5);
    assert_eq!(
        e.to_json_line(),
        "{\"errorCode\":101,\"message\":\"Compare failed\",\"cause\":\"[q != z]\",\"index\":5}\n"
    );
    let e = EtcdError::new(ErrorCode::KeyNotFound, "/a/missing<", 7);
    let etcd =
        r#"{"errorCode":100,"message":"Key not found","cause":"/a/missing\u003c","index":7}"#;
    assert_eq!(e.to_json_line(), format!("{etcd}\n"));
    golden(&e.body(), etcd);
    // A request error has no cause: etcd omits the field and keeps the index.
    golden(
        &ErrorBody {
            error_code: 209,
            message: "Invalid field".into(),
            cause: String::new(),
            index: 0,
        },
        r#"{"errorCode":209,"message":"Invalid field","index":0}"#,
    );
}

#[test]
fn members_list() {
    golden(
        &MemberList {
            members: vec![Member {
                id: "bdae9bbc11dd390d".into(),
                name: "default".into(),
                peer_urls: vec!["http://127.0.0.1:23801".into()],
                client_urls: vec!["http://127.0.0.1:23791".into()],
            }],
        },
        r#"{"members":[{"id":"bdae9bbc11dd390d","name":"default","peerURLs":["http://127.0.0.1:23801"],"clientURLs":["http://127.0.0.1:23791"]}]}"#,
    );
}

#[test]
fn stats_bodies() {
    golden(
        &StoreStats {
            gets_success: 2,
            gets_fail: 7,
            sets_success: 5,
            delete_success: 1,
            create_success: 1,
            compare_and_swap_fail: 1,
            ..StoreStats::default()
        },
        r#"{"getsSuccess":2,"getsFail":7,"setsSuccess":5,"setsFail":0,"deleteSuccess":1,"deleteFail":0,"updateSuccess":0,"updateFail":0,"createSuccess":1,"createFail":0,"compareAndSwapSuccess":0,"compareAndSwapFail":1,"compareAndDeleteSuccess":0,"compareAndDeleteFail":0,"expireCount":0,"watchers":0}"#,
    );
    golden(
        &SelfStats {
            name: "default".into(),
            id: "bdae9bbc11dd390d".into(),
            state: "StateLeader".into(),
            start_time: "2026-12-01T09:04:52.0927265Z".into(),
            leader_info: LeaderInfo {
                leader: "bdae9bbc11dd390d".into(),
                uptime: "247.310948ms".into(),
                start_time: "2026-12-01T09:04:53.09689632Z".into(),
            },
            recv_append_request_cnt: 0,
            recv_pkg_rate: None,
            recv_bandwidth_rate: None,
            send_append_request_cnt: 0,
            send_pkg_rate: None,
            send_bandwidth_rate: None,
        },
        r#"{"name":"default","id":"bdae9bbc11dd390d","state":"StateLeader","startTime":"2026-12-01T09:04:52.0927265Z","leaderInfo":{"leader":"bdae9bbc11dd390d","uptime":"247.310948ms","startTime":"2026-12-01T09:04:53.09689632Z"},"recvAppendRequestCnt":0,"sendAppendRequestCnt":0}"#,
    );
    golden(
        &LeaderStats {
            leader: "bdae9bbc11dd390d".into(),
            followers: BTreeMap::new(),
        },
        r#"{"leader":"bdae9bbc11dd390d","followers":{}}"#,
    );
    let mut followers = BTreeMap::new();
    followers.insert(
        "fd422379fda50e48".to_string(),
        FollowerStats {
            latency: LatencyStats {
                current: 0.001431,
                average: 0.0023,
                standard_deviation: 0.5,
                minimum: 0.000913,
                maximum: 1.25,
            },
            counts: CountsStats {
                fail: 0,
                success: 42,
            },
        },
    );
    golden(
        &LeaderStats {
            leader: "bdae9bbc11dd390d".into(),
            followers,
        },
        r#"{"leader":"bdae9bbc11dd390d","followers":{"fd422379fda50e48":{"latency":{"current":0.001431,"average":0.0023,"standardDeviation":0.5,"minimum":0.000913,"maximum":1.25},"counts":{"fail":0,"success":42}}}}"#,
    );
}

#[test]
fn version_body() {
    golden(
        &Version {
            etcdserver: "3.4.23".into(),
            etcdcluster: "3.4.0".into(),
        },
        r#"{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}"#,
    );
}
