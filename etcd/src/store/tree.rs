//! The node tree: directories and keys, their indexes and deadlines, and their JSON view.
//!
//! etcd: v2store/node.go. Children live in a `BTreeMap`, so listings come out in key order even
//! without `sorted=true` (etcd's are in Go map order, which no client may rely on).

use std::collections::BTreeMap;

use etcd_common::{ErrorCode, EtcdError};
use serde::{Deserialize, Serialize};

use super::bytes::{ByteStr, cause_text};
use super::event::Node;
use super::path;
use crate::time::{NANOS_PER_SECOND, UnixNanos, rfc3339_nano};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeNode {
    pub path: ByteStr,
    pub created_index: u64,
    pub modified_index: u64,
    /// Absolute deadline; `None` is permanent.
    pub expire_at: Option<UnixNanos>,
    pub body: Body,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Body {
    File(ByteStr),
    Dir(BTreeMap<ByteStr, TreeNode>),
}

impl TreeNode {
    pub fn new_dir(path: ByteStr, index: u64, expire_at: Option<UnixNanos>) -> TreeNode {
        TreeNode {
            path,
            created_index: index,
            modified_index: index,
            expire_at,
            body: Body::Dir(BTreeMap::new()),
        }
    }

    pub fn new_file(
        path: ByteStr,
        value: ByteStr,
        index: u64,
        expire_at: Option<UnixNanos>,
    ) -> TreeNode {
        TreeNode {
            path,
            created_index: index,
            modified_index: index,
            expire_at,
            body: Body::File(value),
        }
    }

    pub fn is_dir(&self) -> bool {
        matches!(self.body, Body::Dir(_))
    }

    pub fn value(&self) -> &[u8] {
        match &self.body {
            Body::File(v) => v,
            Body::Dir(_) => b"",
        }
    }

    pub fn children(&self) -> Option<&BTreeMap<ByteStr, TreeNode>> {
        match &self.body {
            Body::Dir(c) => Some(c),
            Body::File(_) => None,
        }
    }

    pub fn children_mut(&mut self) -> Option<&mut BTreeMap<ByteStr, TreeNode>> {
        match &mut self.body {
            Body::Dir(c) => Some(c),
            Body::File(_) => None,
        }
    }

    pub fn is_hidden(&self) -> bool {
        path::is_hidden_name(path::split(&self.path).1)
    }

    /// `expiration` and `ttl` as etcd shows them at `now`: ttl is the ceiling of the remaining
    /// seconds (etcd: node.go `expirationAndTTL`).
    pub fn expiration_and_ttl(&self, now: UnixNanos) -> (Option<String>, i64) {
        match self.expire_at {
            None => (None, 0),
            Some(at) => {
                let remaining = at.saturating_sub(now);
                let mut ttl = remaining / NANOS_PER_SECOND;
                if remaining % NANOS_PER_SECOND > 0 {
                    ttl += 1;
                }
                (Some(rfc3339_nano(at)), ttl)
            }
        }
    }

    /// The JSON view of this node (etcd: `node.Repr`): a directory lists its children only when
    /// `recursive`; hidden children are never listed.
    pub fn repr(&self, recursive: bool, sorted: bool, now: UnixNanos) -> Node {
        let (expiration, ttl) = self.expiration_and_ttl(now);
        let mut out = Node {
            // The root's key is empty on the wire (etcd trims its "/1" namespace to nothing).
            key: if self.path == "/" {
                ByteStr::new()
            } else {
                self.path.clone()
            },
            expiration,
            ttl,
            modified_index: self.modified_index,
            created_index: self.created_index,
            ..Default::default()
        };
        match &self.body {
            Body::File(v) => out.value = Some(v.clone()),
            Body::Dir(children) => {
                out.dir = true;
                if recursive {
                    out.nodes = list(children, recursive, sorted, now);
                }
            }
        }
        out
    }

    /// The view a GET returns (etcd: `loadInternalNode`): a directory always lists its direct
    /// children, recursing further only when asked.
    pub fn load(&self, recursive: bool, sorted: bool, now: UnixNanos) -> Node {
        let mut out = self.repr(false, sorted, now);
        if let Body::Dir(children) = &self.body {
            out.nodes = list(children, recursive, sorted, now);
        }
        out
    }

    /// Every path in this subtree, children before their parent (the order etcd removes them).
    pub fn collect_paths_post_order(&self, out: &mut Vec<(ByteStr, Option<UnixNanos>)>) {
        if let Body::Dir(children) = &self.body {
            for child in children.values() {
                child.collect_paths_post_order(out);
            }
        }
        out.push((self.path.clone(), self.expire_at));
    }
}

fn list(
    children: &BTreeMap<ByteStr, TreeNode>,
    recursive: bool,
    sorted: bool,
    now: UnixNanos,
) -> Option<Vec<Node>> {
    // BTreeMap order is byte order of the names, which is etcd's sort order of full keys for
    // siblings, so `sorted` needs no extra work.
    let _ = sorted;
    let nodes: Vec<_> = children
        .values()
        .filter(|c| !c.is_hidden())
        .map(|c| c.repr(recursive, sorted, now))
        .collect();
    if nodes.is_empty() { None } else { Some(nodes) }
}

/// The node at `clean` (etcd: `store.internalGet`). Errors carry `curr`, the store's index.
pub fn lookup<'a>(root: &'a TreeNode, clean: &[u8], curr: u64) -> Result<&'a TreeNode, EtcdError> {
    let mut cur = root;
    for seg in path::segments(clean) {
        let Some(children) = cur.children() else {
            return Err(EtcdError::new(
                ErrorCode::NotDir,
                cause_text(&cur.path),
                curr,
            ));
        };
        match children.get(seg) {
            Some(c) => cur = c,
            None => {
                let missing = path::join(&cur.path, seg);
                return Err(EtcdError::new(
                    ErrorCode::KeyNotFound,
                    cause_text(&missing),
                    curr,
                ));
            }
        }
    }
    Ok(cur)
}

/// [`lookup`] for writing.
pub fn lookup_mut<'a>(
    root: &'a mut TreeNode,
    clean: &[u8],
    curr: u64,
) -> Result<&'a mut TreeNode, EtcdError> {
    let mut cur = root;
    for seg in path::segments(clean) {
        let cur_path = cur.path.clone();
        let Some(children) = cur.children_mut() else {
            return Err(EtcdError::new(
                ErrorCode::NotDir,
                cause_text(&cur_path),
                curr,
            ));
        };
        match children.get_mut(seg) {
            Some(c) => cur = c,
            None => {
                let missing = path::join(&cur_path, seg);
                return Err(EtcdError::new(
                    ErrorCode::KeyNotFound,
                    cause_text(&missing),
                    curr,
                ));
            }
        }
    }
    Ok(cur)
}

/// Walk to the directory `dir_path`, creating missing directories on the way with the next
/// index (etcd: `store.walk` with `checkDir`). A file in the way is 104 Not a directory.
pub fn ensure_dir<'a>(
    root: &'a mut TreeNode,
    dir_path: &[u8],
    curr: u64,
) -> Result<&'a mut BTreeMap<ByteStr, TreeNode>, EtcdError> {
    let mut cur = root;
    for seg in path::segments(dir_path) {
        let cur_path = cur.path.clone();
        let Some(children) = cur.children_mut() else {
            return Err(EtcdError::new(
                ErrorCode::NotDir,
                cause_text(&cur_path),
                curr,
            ));
        };
        let child = children
            .entry(ByteStr::from(seg))
            .or_insert_with(|| TreeNode::new_dir(path::join(&cur_path, seg), curr + 1, None));
        if !child.is_dir() {
            return Err(EtcdError::new(
                ErrorCode::NotDir,
                cause_text(&child.path),
                curr,
            ));
        }
        cur = child;
    }
    match cur.children_mut() {
        Some(c) => Ok(c),
        None => Err(EtcdError::new(
            ErrorCode::NotFile,
            cause_text(dir_path),
            curr,
        )),
    }
}
