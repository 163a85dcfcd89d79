//! The store's serialised form: versioned, with the tree as a flat list.
//!
//! Nodes are a flat list in pre-order (every parent before its children): a nested encoding
//! would hit the JSON parser's recursion limit on deep trees and make the snapshot unreadable
//! (found by fuzzing; see `etcd/fuzz/README.md`).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::Store;
use super::auth::AuthState;
use super::bytes::ByteStr;
use super::history::History;
use super::path;
use super::tree::{Body, TreeNode, lookup_mut};
use super::ttl::TtlIndex;
use crate::time::UnixNanos;

/// The layout written today; `version` lets a future layout still read old snapshots.
#[derive(Serialize, Deserialize)]
struct SnapshotV2<N> {
    version: u32,
    nodes: Vec<N>,
    current_index: u64,
    history: History,
    #[serde(default)]
    removed_members: BTreeSet<u64>,
    /// Users, roles and the auth flag; absent in snapshots written before auth existed.
    #[serde(default)]
    auth: AuthState,
}

#[derive(Serialize)]
struct FlatNodeRef<'a> {
    path: &'a ByteStr,
    created_index: u64,
    modified_index: u64,
    expire_at: Option<UnixNanos>,
    /// `None` for a directory.
    value: Option<&'a ByteStr>,
}

#[derive(Deserialize)]
struct FlatNode {
    path: ByteStr,
    created_index: u64,
    modified_index: u64,
    expire_at: Option<UnixNanos>,
    value: Option<ByteStr>,
}

impl Store {
    pub fn to_snapshot(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut nodes = Vec::new();
        let mut stack: Vec<&TreeNode> = self
            .root
            .children()
            .into_iter()
            .flat_map(|c| c.values().rev())
            .collect();
        while let Some(n) = stack.pop() {
            nodes.push(FlatNodeRef {
                path: &n.path,
                created_index: n.created_index,
                modified_index: n.modified_index,
                expire_at: n.expire_at,
                value: match &n.body {
                    Body::File(v) => Some(v),
                    Body::Dir(_) => None,
                },
            });
            if let Some(children) = n.children() {
                stack.extend(children.values().rev());
            }
        }
        serde_json::to_vec(&SnapshotV2 {
            version: 2,
            nodes,
            current_index: self.current_index,
            history: self.feed.history(),
            removed_members: self.removed_members.clone(),
            auth: (*self.auth).clone(),
        })
    }

    /// Replace the whole state with a snapshot. Every watcher is dropped (their responses end
    /// and clients re-watch from their last index), as etcd does on recovery. A snapshot that
    /// does not parse leaves the store as it was.
    pub fn restore(&mut self, bytes: &[u8]) -> Result<(), serde_json::Error> {
        let snap: SnapshotV2<FlatNode> = serde_json::from_slice(bytes)?;
        let mut root = TreeNode::new_dir(ByteStr::from("/"), 0, None);
        let mut ttl = TtlIndex::default();
        for f in snap.nodes {
            insert_flat(&mut root, &mut ttl, f)?;
        }
        self.root = root;
        self.ttl = ttl;
        self.current_index = snap.current_index;
        self.removed_members = snap.removed_members;
        self.auth = std::sync::Arc::new(snap.auth);
        self.feed.reset(snap.history, snap.current_index);
        Ok(())
    }
}

fn insert_flat(
    root: &mut TreeNode,
    ttl: &mut TtlIndex,
    f: FlatNode,
) -> Result<(), serde_json::Error> {
    let (parent, name) = path::split(&f.path);
    let name = ByteStr::from(name);
    let children = lookup_mut(root, parent, 0)
        .ok()
        .and_then(|p| p.children_mut())
        .ok_or_else(|| {
            serde::de::Error::custom(format!("snapshot: {} before its parent", f.path))
        })?;
    if let Some(at) = f.expire_at {
        ttl.insert(at, &f.path);
    }
    let node = match f.value {
        Some(v) => TreeNode::new_file(f.path, v, f.created_index, f.expire_at),
        None => TreeNode::new_dir(f.path, f.created_index, f.expire_at),
    };
    children.insert(
        name,
        TreeNode {
            modified_index: f.modified_index,
            ..node
        },
    );
    Ok(())
}
