//! Events: the result of every store operation, kept in history and sent to watchers.

use etcd_common::{Action, Node, Response};

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
    pub fn new(action: Action, key: &str, modified_index: u64, created_index: u64) -> Event {
        Event {
            action,
            node: Node {
                key: key.to_string(),
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

    pub fn to_response(&self) -> Response {
        Response {
            action: self.action,
            node: Some(self.node.clone()),
            prev_node: self.prev_node.clone(),
        }
    }
}
