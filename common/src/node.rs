//! Nodes and key-space responses (`{"action":…,"node":…,"prevNode":…}`).
//!
//! etcd: server/etcdserver/api/v2store/node_extern.go and event.go.

use serde::{Deserialize, Serialize};

/// One node of the key space as etcd serialises it (`NodeExtern`).
///
/// Field order is etcd's; every field is `omitempty` there, so zero values are skipped here too.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    /// Absolute key; the root's key is empty and therefore omitted, as in etcd.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key: String,
    /// `None` for directories and for the node of a delete event; `Some("")` is a real empty value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub dir: bool,
    /// RFC 3339 with nanoseconds, UTC, trailing zeros trimmed (Go's `RFC3339Nano`).
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

/// The action that produced a response or event, spelled as etcd spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    #[serde(rename = "get")]
    Get,
    #[serde(rename = "create")]
    Create,
    #[serde(rename = "set")]
    Set,
    #[serde(rename = "update")]
    Update,
    #[serde(rename = "delete")]
    Delete,
    #[serde(rename = "compareAndSwap")]
    CompareAndSwap,
    #[serde(rename = "compareAndDelete")]
    CompareAndDelete,
    #[serde(rename = "expire")]
    Expire,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Get => "get",
            Action::Create => "create",
            Action::Set => "set",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::CompareAndSwap => "compareAndSwap",
            Action::CompareAndDelete => "compareAndDelete",
            Action::Expire => "expire",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key-space response body, also the body of each watch event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    pub action: Action,
    /// Omitted under `noValueOnSuccess=true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<Node>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_node: Option<Node>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_fields_in_etcd_order_with_omissions() {
        let n = Node {
            key: "/foo".into(),
            value: Some("bar".into()),
            expiration: Some("2013-12-04T12:01:21.874888581Z".into()),
            ttl: 5,
            modified_index: 5,
            created_index: 5,
            ..Node::default()
        };
        assert_eq!(
            serde_json::to_string(&n).unwrap(),
            r#"{"key":"/foo","value":"bar","expiration":"2013-12-04T12:01:21.874888581Z","ttl":5,"modifiedIndex":5,"createdIndex":5}"#
        );
    }

    #[test]
    fn root_listing_omits_key_and_empty_value_is_kept() {
        let root = Node {
            dir: true,
            nodes: Some(vec![Node {
                key: "/e".into(),
                value: Some(String::new()),
                modified_index: 4,
                created_index: 4,
                ..Node::default()
            }]),
            ..Node::default()
        };
        assert_eq!(
            serde_json::to_string(&root).unwrap(),
            r#"{"dir":true,"nodes":[{"key":"/e","value":"","modifiedIndex":4,"createdIndex":4}]}"#
        );
    }

    #[test]
    fn response_round_trips() {
        let text = r#"{"action":"compareAndSwap","node":{"key":"/foo","value":"two","modifiedIndex":9,"createdIndex":8},"prevNode":{"key":"/foo","value":"one","modifiedIndex":8,"createdIndex":8}}"#;
        let r: Response = serde_json::from_str(text).unwrap();
        assert_eq!(r.action, Action::CompareAndSwap);
        assert_eq!(serde_json::to_string(&r).unwrap(), text);
        assert_eq!(
            serde_json::to_string(&Response {
                action: Action::Set,
                node: None,
                prev_node: None
            })
            .unwrap(),
            r#"{"action":"set"}"#
        );
    }
}
