//! The writes, each mirroring the etcd v2store function named in its doc.
//!
//! Every write either fails with the store untouched (its error carries the current index) or
//! moves the index by exactly one and publishes one event; expiry publishes one per key.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use etcd_common::{Action, ErrorCode, EtcdError};

use super::bytes::{ByteStr, cause_text};
use super::event::Event;
use super::tree::{Body, TreeNode, ensure_dir, lookup, lookup_mut};
use super::{MAX_DEPTH, Store, path, ttl};
use crate::time::UnixNanos;

/// What a create or set asks of `create_node` (etcd: `internalCreate`'s arguments).
struct NewNode {
    dir: bool,
    value: ByteStr,
    /// Name the node after the next index, below `clean` (POST: in-order keys).
    unique: bool,
    /// Replace an existing file (set) rather than fail with 105 (create).
    replace: bool,
    expire_at: Option<UnixNanos>,
    action: Action,
}

impl Store {
    /// etcd: `store.Set`.
    pub(super) fn set(
        &mut self,
        key: &[u8],
        dir: bool,
        value: ByteStr,
        expire_at: Option<UnixNanos>,
        refresh: bool,
        now: UnixNanos,
    ) -> Result<Arc<Event>, EtcdError> {
        let clean = path::clean(key);
        // The previous node itself is reported by `create_node`, which replaces it: only its
        // value (for a refresh) and the lookup's error are needed here.
        let value = match lookup(&self.root, &clean, self.current_index) {
            Ok(n) if refresh => ByteStr::from(n.value()),
            Ok(_) => value,
            Err(e) if e.code == ErrorCode::KeyNotFound && !refresh => value,
            Err(e) => return Err(e),
        };
        let spec = NewNode {
            dir,
            value,
            unique: false,
            replace: true,
            expire_at,
            action: Action::Set,
        };
        let mut e = self.create_node(&clean, spec, now)?;
        e.refresh = refresh;
        Ok(self.publish(e, &[]))
    }

    /// etcd: `store.Create`.
    pub(super) fn create(
        &mut self,
        key: &[u8],
        dir: bool,
        value: ByteStr,
        unique: bool,
        expire_at: Option<UnixNanos>,
        now: UnixNanos,
    ) -> Result<Arc<Event>, EtcdError> {
        let spec = NewNode {
            dir,
            value,
            unique,
            replace: false,
            expire_at,
            action: Action::Create,
        };
        let e = self.create_node(&path::clean(key), spec, now)?;
        Ok(self.publish(e, &[]))
    }

    /// etcd: `store.internalCreate`. On success the index has moved to the event's.
    fn create_node(
        &mut self,
        clean: &[u8],
        spec: NewNode,
        now: UnixNanos,
    ) -> Result<Event, EtcdError> {
        let curr = self.current_index;
        let next = curr + 1;
        let node_path = if spec.unique {
            path::join(clean, format!("{next:020}").as_bytes())
        } else {
            ByteStr::from(clean)
        };
        check_writable_depth(&node_path, curr)?;
        let expire_at = ttl::effective(spec.expire_at);
        let (dir_name, name) = path::split(&node_path);
        let (dir_name, name) = (dir_name.to_vec(), ByteStr::from(name));
        let parent = ensure_dir(&mut self.root, &dir_name, curr)?;

        let mut e = Event::new(spec.action, &node_path, next, next);
        if let Some(existing) = parent.get(&name) {
            if !spec.replace {
                return Err(EtcdError::new(
                    ErrorCode::NodeExist,
                    cause_text(&node_path),
                    curr,
                ));
            }
            if existing.is_dir() {
                return Err(EtcdError::new(
                    ErrorCode::NotFile,
                    cause_text(&node_path),
                    curr,
                ));
            }
            e.prev_node = Some(existing.repr(false, false, now));
            if let Some(at) = existing.expire_at {
                self.ttl.remove(at, &existing.path);
            }
        }
        let node = if spec.dir {
            e.node.dir = true;
            TreeNode::new_dir(node_path.clone(), next, expire_at)
        } else {
            e.node.value = Some(spec.value.clone());
            TreeNode::new_file(node_path.clone(), spec.value, next, expire_at)
        };
        if let Some(at) = expire_at {
            (e.node.expiration, e.node.ttl) = node.expiration_and_ttl(now);
            self.ttl.insert(at, &node_path);
        }
        parent.insert(name, node);
        self.current_index = next;
        e.etcd_index = next;
        Ok(e)
    }

    /// etcd: `store.Update`.
    pub(super) fn update(
        &mut self,
        key: &[u8],
        value: ByteStr,
        expire_at: Option<UnixNanos>,
        refresh: bool,
        now: UnixNanos,
    ) -> Result<Arc<Event>, EtcdError> {
        let clean = path::clean(key);
        let curr = self.current_index;
        if clean == "/" {
            return Err(EtcdError::new(ErrorCode::RootReadOnly, "/", curr));
        }
        let next = curr + 1;
        let node = lookup_mut(&mut self.root, &clean, curr)?;
        if node.is_dir() && !value.is_empty() {
            return Err(EtcdError::new(ErrorCode::NotFile, cause_text(&clean), curr));
        }
        let mut e = Event::new(Action::Update, &clean, next, node.created_index);
        e.etcd_index = next;
        e.refresh = refresh;
        e.prev_node = Some(node.repr(false, false, now));
        match &mut node.body {
            Body::File(v) => {
                if !refresh {
                    *v = value;
                }
                node.modified_index = next;
                e.node.value = Some(v.clone());
            }
            // etcd's node.Write refuses directories and Update ignores that error, so a
            // directory's own modifiedIndex stays put while the event carries the new index.
            Body::Dir(_) => e.node.dir = true,
        }
        (e.node.expiration, e.node.ttl) = self.ttl.set_deadline(node, &clean, expire_at, now);
        self.current_index = next;
        Ok(self.publish(e, &[]))
    }

    /// etcd: `store.CompareAndSwap`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn compare_and_swap(
        &mut self,
        key: &[u8],
        prev_value: &[u8],
        prev_index: u64,
        value: ByteStr,
        expire_at: Option<UnixNanos>,
        refresh: bool,
        now: UnixNanos,
    ) -> Result<Arc<Event>, EtcdError> {
        let clean = path::clean(key);
        let curr = self.current_index;
        if clean == "/" {
            return Err(EtcdError::new(ErrorCode::RootReadOnly, "/", curr));
        }
        let node = lookup_mut(&mut self.root, &clean, curr)?;
        if node.is_dir() {
            return Err(EtcdError::new(ErrorCode::NotFile, cause_text(&clean), curr));
        }
        compare(node, prev_value, prev_index, curr)?;
        let next = curr + 1;
        let mut e = Event::new(Action::CompareAndSwap, &clean, next, node.created_index);
        e.etcd_index = next;
        e.refresh = refresh;
        e.prev_node = Some(node.repr(false, false, now));
        if !refresh {
            node.body = Body::File(value);
        }
        node.modified_index = next;
        e.node.value = Some(ByteStr::from(node.value()));
        (e.node.expiration, e.node.ttl) = self.ttl.set_deadline(node, &clean, expire_at, now);
        self.current_index = next;
        Ok(self.publish(e, &[]))
    }

    /// etcd: `store.Delete`.
    pub(super) fn delete(
        &mut self,
        key: &[u8],
        dir: bool,
        recursive: bool,
        now: UnixNanos,
    ) -> Result<Arc<Event>, EtcdError> {
        let clean = path::clean(key);
        let curr = self.current_index;
        if clean == "/" {
            return Err(EtcdError::new(ErrorCode::RootReadOnly, "/", curr));
        }
        let dir = dir || recursive;
        let node = lookup(&self.root, &clean, curr)?;
        let mut e = Event::new(Action::Delete, &clean, curr + 1, node.created_index);
        e.prev_node = Some(node.repr(false, false, now));
        if let Some(children) = node.children() {
            e.node.dir = true;
            if !dir {
                return Err(EtcdError::new(ErrorCode::NotFile, cause_text(&clean), curr));
            }
            if !children.is_empty() && !recursive {
                return Err(EtcdError::new(
                    ErrorCode::DirNotEmpty,
                    cause_text(&clean),
                    curr,
                ));
            }
        }
        Ok(self.remove_and_publish(e))
    }

    /// etcd: `store.CompareAndDelete`.
    pub(super) fn compare_and_delete(
        &mut self,
        key: &[u8],
        prev_value: &[u8],
        prev_index: u64,
        now: UnixNanos,
    ) -> Result<Arc<Event>, EtcdError> {
        let clean = path::clean(key);
        let curr = self.current_index;
        let node = lookup(&self.root, &clean, curr)?;
        if node.is_dir() {
            // etcd has no root check here; its "/1" namespace trims to an empty cause.
            let cause = if clean == "/" {
                String::new()
            } else {
                cause_text(&clean)
            };
            return Err(EtcdError::new(ErrorCode::NotFile, cause, curr));
        }
        compare(node, prev_value, prev_index, curr)?;
        let mut e = Event::new(
            Action::CompareAndDelete,
            &clean,
            curr + 1,
            node.created_index,
        );
        e.prev_node = Some(node.repr(false, false, now));
        Ok(self.remove_and_publish(e))
    }

    /// etcd: `store.DeleteExpiredKeys`.
    pub(super) fn expire(&mut self, cutoff: UnixNanos) {
        while let Some((at, p)) = self.ttl.first() {
            if at > cutoff {
                break;
            }
            let p = ByteStr::from(p);
            let Ok(node) = lookup(&self.root, &p, self.current_index) else {
                // Unreachable while the index is kept in step with the tree; never loop on it.
                self.ttl.remove(at, &p);
                continue;
            };
            let mut e = Event::new(
                Action::Expire,
                &p,
                self.current_index + 1,
                node.created_index,
            );
            e.prev_node = Some(node.repr(false, false, cutoff));
            e.node.dir = node.is_dir();
            self.remove_and_publish(e);
            self.counters.expire_count.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Detach the node of `e` (the key a delete or expiry removes) with everything below it,
    /// drop their deadlines, move the index to `e`'s and publish it to the node's watchers and
    /// to those of every removed descendant (etcd: `node.Remove` with its callback).
    fn remove_and_publish(&mut self, mut e: Event) -> Arc<Event> {
        let clean = e.node.key.clone();
        let mut descendants = Vec::new();
        let (parent_path, name) = path::split(&clean);
        let removed = lookup_mut(&mut self.root, parent_path, 0)
            .ok()
            .and_then(|p| p.children_mut())
            .and_then(|c| c.remove(name));
        if let Some(removed) = removed {
            let mut paths = Vec::new();
            removed.collect_paths_post_order(&mut paths);
            for (p, at) in paths {
                if let Some(at) = at {
                    self.ttl.remove(at, &p);
                }
                if p != clean {
                    descendants.push(p);
                }
            }
        }
        self.current_index = e.node.modified_index;
        e.etcd_index = self.current_index;
        self.publish(e, &descendants)
    }

    fn publish(&mut self, e: Event, removed: &[ByteStr]) -> Arc<Event> {
        let e = Arc::new(e);
        self.feed.publish(&e, removed, self.current_index);
        e
    }
}

/// The root is read-only, and keys may not nest deeper than [`MAX_DEPTH`].
fn check_writable_depth(node_path: &[u8], curr: u64) -> Result<(), EtcdError> {
    if node_path == b"/" {
        return Err(EtcdError::new(ErrorCode::RootReadOnly, "/", curr));
    }
    if path::segments(node_path).count() > MAX_DEPTH {
        return Err(EtcdError::new(
            ErrorCode::InvalidField,
            format!("key is nested more than {MAX_DEPTH} levels deep"),
            curr,
        ));
    }
    Ok(())
}

/// etcd: `node.Compare` and `getCompareFailCause`.
pub(super) fn compare(
    node: &TreeNode,
    prev_value: &[u8],
    prev_index: u64,
    curr: u64,
) -> Result<(), EtcdError> {
    let index_ok = prev_index == 0 || node.modified_index == prev_index;
    let value_ok = prev_value.is_empty() || node.value() == prev_value;
    let cause = match (value_ok, index_ok) {
        (true, true) => return Ok(()),
        (true, false) => format!("[{} != {}]", prev_index, node.modified_index),
        (false, true) => format!(
            "[{} != {}]",
            cause_text(prev_value),
            cause_text(node.value())
        ),
        (false, false) => format!(
            "[{} != {}] [{} != {}]",
            cause_text(prev_value),
            cause_text(node.value()),
            prev_index,
            node.modified_index
        ),
    };
    Err(EtcdError::new(ErrorCode::TestFailed, cause, curr))
}
