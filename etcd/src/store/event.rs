//! Events: the result of every store operation, kept in history and sent to watchers.
//!
//! [`Node`] is `etcd_common::Node` with byte-string keys and values: the store's nodes carry
//! the client's bytes (a watch on `/k\xFE` must not see `/k\xFF`), and only `http::json` turns
//! them into Go's lossy text. Serialized with serde_json it is byte-identical to the common
//! type whenever keys and values are valid UTF-8, so history in old snapshots still loads.

use etcd_common::Action;
use serde::{Deserialize, Serialize};

use super::bytes::ByteStr;

/// One node as etcd serialises it (`NodeExtern`); field order and omissions as in
/// `etcd_common::Node`, which etcdctl parses this into.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    /// Absolute key; the root's key is empty and therefore omitted, as in etcd.
    #[serde(default, skip_serializing_if = "ByteStr::is_empty")]
    pub key: ByteStr,
    /// `None` for directories and for the node of a delete event; `Some("")` is a real empty value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<ByteStr>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub dir: bool,
    /// RFC 3339 with nanoseconds, UTC (Go's `RFC3339Nano`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<String>,
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub ttl: i64,
    /// `None` when a directory has no visible children (etcd omits the empty list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<Vec<Node>>,
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub modified_index: u64,
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub created_index: u64,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

/// An applied change (or a read result), with the etcd index it was observed at.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Event {
    pub action: Action,
    pub node: Node,
    pub prev_node: Option<Node>,
    /// The store's index after this event (X-Etcd-Index).
    pub etcd_index: u64,
    /// A TTL refresh: recorded in history for index continuity but never sent to watchers.
    pub refresh: bool,
}

impl Event {
    pub fn new(action: Action, key: &[u8], modified_index: u64, created_index: u64) -> Event {
        Event {
            action,
            node: Node {
                key: ByteStr::from(key),
                modified_index,
                created_index,
                ..Node::default()
            },
            prev_node: None,
            etcd_index: 0,
            refresh: false,
        }
    }

    /// The index that orders events (etcd: `Event.Index()`, the node's modifiedIndex).
    pub fn index(&self) -> u64 {
        self.node.modified_index
    }

    /// Whether a write answered 201 Created rather than 200 (etcd: `Event.IsCreated`).
    pub fn is_created(&self) -> bool {
        self.action == Action::Create || (self.action == Action::Set && self.prev_node.is_none())
    }
}
