//! The model: etcd v2 semantics over a flat map of absolute paths, written from
//! `v2store/store.go` as simply as possible, so that it is obviously right where the store is
//! clever.

use std::collections::BTreeMap;

use etcd::store::Event;
use etcd::time::rfc3339_nano;
use etcd_common::{Action, ErrorCode, EtcdError, Node};

use super::SEC;

#[derive(Debug, Clone)]
struct MNode {
    dir: bool,
    value: String,
    created: u64,
    modified: u64,
    expire_at: Option<i64>,
}

/// What the comparison looks at in a write's event.
#[derive(Debug, PartialEq, Eq)]
pub struct Summary {
    action: Action,
    key: String,
    modified: u64,
    created: u64,
    prev_modified: Option<u64>,
    etcd_index: u64,
}

pub fn summary(e: &Event) -> Summary {
    Summary {
        action: e.action,
        key: e.node.key.to_lossy().into_owned(),
        modified: e.node.modified_index,
        created: e.node.created_index,
        prev_modified: e.prev_node.as_ref().map(|p| p.modified_index),
        etcd_index: e.etcd_index,
    }
}

/// etcd v2 semantics over a flat map of absolute paths; the root is implicit.
#[derive(Default, Clone)]
pub struct Model {
    nodes: BTreeMap<String, MNode>,
    pub index: u64,
}

fn prefixes(p: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for seg in p.split('/').filter(|s| !s.is_empty()) {
        cur.push('/');
        cur.push_str(seg);
        out.push(cur.clone());
    }
    out
}

fn parent(p: &str) -> &str {
    match p.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &p[..i],
    }
}

fn err(code: ErrorCode, cause: &str, index: u64) -> EtcdError {
    EtcdError::new(code, cause, index)
}

pub type Outcome = Result<Summary, EtcdError>;

impl Model {
    fn is_dir(&self, p: &str) -> bool {
        p == "/" || self.nodes.get(p).is_some_and(|n| n.dir)
    }

    fn ev(&self, action: Action, key: &str, created: u64, prev: Option<u64>) -> Summary {
        Summary {
            action,
            key: key.to_string(),
            modified: self.index,
            created,
            prev_modified: prev,
            etcd_index: self.index,
        }
    }

    /// etcd: `internalGet` — a file in the middle is 104, a missing segment 100.
    fn lookup(&self, p: &str) -> Result<(), EtcdError> {
        let mut prev = "/".to_string();
        for pre in prefixes(p) {
            if !self.is_dir(&prev) {
                return Err(err(ErrorCode::NotDir, &prev, self.index));
            }
            if !self.nodes.contains_key(&pre) {
                return Err(err(ErrorCode::KeyNotFound, &pre, self.index));
            }
            prev = pre;
        }
        Ok(())
    }

    /// Create the missing parents of `p` with the next index; a file in the way is 104.
    fn ensure_dirs(&mut self, p: &str) -> Result<(), EtcdError> {
        let mut pres = prefixes(p);
        pres.pop();
        for pre in pres {
            match self.nodes.get(&pre) {
                Some(n) if !n.dir => return Err(err(ErrorCode::NotDir, &pre, self.index)),
                Some(_) => {}
                None => {
                    let n = node(true, "", self.index + 1, None);
                    self.nodes.insert(pre, n);
                }
            }
        }
        Ok(())
    }

    fn remove_subtree(&mut self, p: &str) {
        let below = format!("{p}/");
        self.nodes.retain(|k, _| k != p && !k.starts_with(&below));
    }

    pub fn set(&mut self, p: &str, dir: bool, v: &str, exp: Option<i64>) -> Outcome {
        match self.lookup(p) {
            Ok(()) => {}
            Err(e) if e.code == ErrorCode::KeyNotFound => {}
            Err(e) => return Err(e),
        }
        if p == "/" {
            return Err(err(ErrorCode::RootReadOnly, "/", self.index));
        }
        self.ensure_dirs(p)?;
        let prev = self.nodes.get(p).cloned();
        if prev.as_ref().is_some_and(|n| n.dir) {
            return Err(err(ErrorCode::NotFile, p, self.index));
        }
        self.index += 1;
        self.nodes
            .insert(p.to_string(), node(dir, v, self.index, exp));
        Ok(self.ev(Action::Set, p, self.index, prev.map(|n| n.modified)))
    }

    pub fn create(
        &mut self,
        p: &str,
        dir: bool,
        v: &str,
        unique: bool,
        exp: Option<i64>,
    ) -> Outcome {
        let p = if unique {
            let base = if p == "/" { "" } else { p };
            format!("{base}/{:020}", self.index + 1)
        } else {
            p.to_string()
        };
        if p == "/" {
            return Err(err(ErrorCode::RootReadOnly, "/", self.index));
        }
        self.ensure_dirs(&p)?;
        if self.nodes.contains_key(&p) {
            return Err(err(ErrorCode::NodeExist, &p, self.index));
        }
        self.index += 1;
        self.nodes.insert(p.clone(), node(dir, v, self.index, exp));
        Ok(self.ev(Action::Create, &p, self.index, None))
    }

    /// The current value a refresh keeps (`""` for directories and missing keys, whose
    /// operations fail or ignore it).
    pub fn current_value(&self, p: &str) -> String {
        self.nodes
            .get(p)
            .map(|n| n.value.clone())
            .unwrap_or_default()
    }

    /// etcd: `store.Set` with `Refresh`: a missing key is 100; otherwise the node is replaced
    /// by one with the same value (new createdIndex) and the new deadline.
    pub fn set_refresh(&mut self, p: &str, exp: Option<i64>) -> Outcome {
        self.lookup(p)?;
        let v = self.current_value(p);
        self.set(p, false, &v, exp)
    }

    pub fn update(&mut self, p: &str, v: &str, exp: Option<i64>) -> Outcome {
        if p == "/" {
            return Err(err(ErrorCode::RootReadOnly, "/", self.index));
        }
        self.lookup(p)?;
        let next = self.index + 1;
        let n = self.nodes.get_mut(p).expect("looked up");
        if n.dir && !v.is_empty() {
            return Err(err(ErrorCode::NotFile, p, self.index));
        }
        let (created, prev) = (n.created, n.modified);
        if !n.dir {
            n.value = v.to_string();
            n.modified = next;
        }
        n.expire_at = exp;
        self.index = next;
        Ok(self.ev(Action::Update, p, created, Some(prev)))
    }

    fn compare(n: &MNode, prev_value: &str, prev_index: u64, index: u64) -> Result<(), EtcdError> {
        let value_ok = prev_value.is_empty() || n.value == prev_value;
        let index_ok = prev_index == 0 || n.modified == prev_index;
        let cause = match (value_ok, index_ok) {
            (true, true) => return Ok(()),
            (false, true) => format!("[{prev_value} != {}]", n.value),
            (true, false) => format!("[{prev_index} != {}]", n.modified),
            (false, false) => format!(
                "[{prev_value} != {}] [{prev_index} != {}]",
                n.value, n.modified
            ),
        };
        Err(err(ErrorCode::TestFailed, &cause, index))
    }

    pub fn cas(&mut self, p: &str, pv: &str, pi: u64, v: &str, exp: Option<i64>) -> Outcome {
        if p == "/" {
            return Err(err(ErrorCode::RootReadOnly, "/", self.index));
        }
        self.lookup(p)?;
        let index = self.index;
        let n = self.nodes.get_mut(p).expect("looked up");
        if n.dir {
            return Err(err(ErrorCode::NotFile, p, index));
        }
        Self::compare(n, pv, pi, index)?;
        let (created, prev) = (n.created, n.modified);
        n.value = v.to_string();
        n.modified = index + 1;
        n.expire_at = exp;
        self.index += 1;
        Ok(self.ev(Action::CompareAndSwap, p, created, Some(prev)))
    }

    pub fn delete(&mut self, p: &str, dir: bool, recursive: bool) -> Outcome {
        if p == "/" {
            return Err(err(ErrorCode::RootReadOnly, "/", self.index));
        }
        self.lookup(p)?;
        let n = self.nodes[p].clone();
        if n.dir {
            if !(dir || recursive) {
                return Err(err(ErrorCode::NotFile, p, self.index));
            }
            // Hidden children count: etcd checks `len(n.Children)`.
            let below = format!("{p}/");
            if !recursive && self.nodes.keys().any(|k| k.starts_with(&below)) {
                return Err(err(ErrorCode::DirNotEmpty, p, self.index));
            }
        }
        self.remove_subtree(p);
        self.index += 1;
        Ok(self.ev(Action::Delete, p, n.created, Some(n.modified)))
    }

    pub fn cad(&mut self, p: &str, pv: &str, pi: u64) -> Outcome {
        self.lookup(p)?;
        if self.is_dir(p) {
            // etcd has no root check here; its "/1" namespace trims to an empty cause.
            let cause = if p == "/" { "" } else { p };
            return Err(err(ErrorCode::NotFile, cause, self.index));
        }
        let n = self.nodes[p].clone();
        Self::compare(&n, pv, pi, self.index)?;
        self.remove_subtree(p);
        self.index += 1;
        Ok(self.ev(Action::CompareAndDelete, p, n.created, Some(n.modified)))
    }

    /// etcd: `DeleteExpiredKeys` — earliest deadline first (ties by path, parents first), each
    /// expiry one index, a directory taking its whole subtree with it.
    pub fn expire(&mut self, now: i64) {
        loop {
            let due = self
                .nodes
                .iter()
                .filter_map(|(k, n)| n.expire_at.map(|t| (t, k.clone())))
                .filter(|(t, _)| *t <= now)
                .min();
            let Some((_, p)) = due else { return };
            self.index += 1;
            self.remove_subtree(&p);
        }
    }

    fn repr(&self, p: &str, n: &MNode, recursive: bool, now: i64) -> Node {
        let (expiration, ttl) = match n.expire_at {
            None => (None, 0),
            Some(t) => {
                let rem = (t - now).max(0);
                (Some(rfc3339_nano(t)), rem / SEC + i64::from(rem % SEC > 0))
            }
        };
        Node {
            key: if p == "/" {
                String::new()
            } else {
                p.to_string()
            },
            value: (!n.dir).then(|| n.value.clone()),
            dir: n.dir,
            expiration,
            ttl,
            nodes: if n.dir && recursive {
                self.children(p, recursive, now)
            } else {
                None
            },
            modified_index: n.modified,
            created_index: n.created,
        }
    }

    /// Visible direct children, sorted; `None` when there are none (etcd omits the list).
    fn children(&self, p: &str, recursive: bool, now: i64) -> Option<Vec<Node>> {
        let out: Vec<Node> = self
            .nodes
            .iter()
            .filter(|(k, _)| k.as_str() != "/" && parent(k) == p)
            .filter(|(k, _)| !k.rsplit('/').next().unwrap_or("").starts_with('_'))
            .map(|(k, n)| self.repr(k, n, recursive, now))
            .collect();
        (!out.is_empty()).then_some(out)
    }

    /// etcd: `store.Get` (a directory always lists its direct children).
    pub fn get(&self, p: &str, recursive: bool, now: i64) -> Result<(Node, u64), EtcdError> {
        self.lookup(p)?;
        let root = node(true, "", 0, None);
        let n = if p == "/" { &root } else { &self.nodes[p] };
        let mut out = self.repr(p, n, false, now);
        if n.dir {
            out.nodes = self.children(p, recursive, now);
        }
        Ok((out, self.index))
    }
}

fn node(dir: bool, v: &str, index: u64, expire_at: Option<i64>) -> MNode {
    MNode {
        dir,
        value: if dir { String::new() } else { v.to_string() },
        created: index,
        modified: index,
        expire_at,
    }
}
