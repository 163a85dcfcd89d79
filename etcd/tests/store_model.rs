//! Property test: random operation sequences run against the store and against a deliberately
//! simple model of etcd v2's semantics (a flat `BTreeMap` of paths), compared after every step:
//! outcome (error code, cause and index, or the event's action, key, indexes and prevNode
//! index), the etcd index, and the JSON of a recursive sorted GET of `/`. The model was written
//! from etcd's `v2store/store.go` and checked against etcd 3.4 with curl where they could
//! differ (104 for a file in the way of a create; a directory's TTL update moves the event's
//! index but not the directory's own `modifiedIndex`).
//!
//! A snapshot restored into a fresh store must list the same tree and then behave exactly like
//! the original (and the model) for a further random sequence, TTL expiry included.

use std::collections::BTreeMap;

use etcd::store::{Command, Event, Op, Store};
use etcd::time::rfc3339_nano;
use etcd_common::{Action, ErrorCode, EtcdError, Node};
use proptest::prelude::*;

const SEC: i64 = 1_000_000_000;
const MS: i64 = 1_000_000;
/// A fake clock start that is deliberately not on a second boundary.
const T0: i64 = 1_800_000_000 * SEC + 123_456_789;
const KEYS: &[&str] = &[
    "/", "/a", "/a/b", "/a/b/c", "/c", "/_h", "/_h/d", "/a/_x", "/q",
];
const VALUES: &[&str] = &["x", "y", ""];

#[derive(Debug, Clone)]
enum Step {
    Set {
        k: usize,
        v: usize,
        dir: bool,
        ttl: Option<i64>,
    },
    Create {
        k: usize,
        v: usize,
        dir: bool,
        unique: bool,
        ttl: Option<i64>,
    },
    Update {
        k: usize,
        v: usize,
        ttl: Option<i64>,
    },
    Cas {
        k: usize,
        prev_value: usize,
        prev_index: u64,
        v: usize,
        ttl: Option<i64>,
    },
    Delete {
        k: usize,
        dir: bool,
        recursive: bool,
    },
    Cad {
        k: usize,
        prev_value: usize,
        prev_index: u64,
    },
    Get {
        k: usize,
        recursive: bool,
    },
    /// A TTL refresh (no value, watchers not woken) through `how`: 0 set, 1 update (PUT
    /// `prevExist=true`), 2 compare-and-swap on `prev_value`.
    Refresh {
        k: usize,
        how: u8,
        prev_value: usize,
        ttl: i64,
    },
    /// Advance the fake clock by this many milliseconds and apply `Op::Expire`.
    Tick(i64),
}

fn step() -> impl Strategy<Value = Step> {
    let k = || 0..KEYS.len();
    let v = || 0..VALUES.len();
    let ttl = || prop::option::weighted(0.3, 0i64..4);
    let prev_index = || prop_oneof![3 => Just(0u64), 1 => 1u64..16];
    prop_oneof![
        4 => (k(), v(), any::<bool>(), ttl()).prop_map(|(k, v, dir, ttl)| Step::Set { k, v, dir, ttl }),
        3 => (k(), v(), any::<bool>(), prop::bool::weighted(0.3), ttl())
            .prop_map(|(k, v, dir, unique, ttl)| Step::Create { k, v, dir, unique, ttl }),
        2 => (k(), v(), ttl()).prop_map(|(k, v, ttl)| Step::Update { k, v, ttl }),
        2 => (k(), v(), prev_index(), v(), ttl()).prop_map(|(k, prev_value, prev_index, v, ttl)| {
            Step::Cas { k, prev_value, prev_index, v, ttl }
        }),
        2 => (k(), any::<bool>(), any::<bool>())
            .prop_map(|(k, dir, recursive)| Step::Delete { k, dir, recursive }),
        1 => (k(), v(), prev_index())
            .prop_map(|(k, prev_value, prev_index)| Step::Cad { k, prev_value, prev_index }),
        2 => (k(), any::<bool>()).prop_map(|(k, recursive)| Step::Get { k, recursive }),
        1 => (k(), 0u8..3, v(), 0i64..4)
            .prop_map(|(k, how, prev_value, ttl)| Step::Refresh { k, how, prev_value, ttl }),
        2 => (0i64..2500).prop_map(Step::Tick),
    ]
}

// ---- the model ---------------------------------------------------------------------------

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
struct Summary {
    action: Action,
    key: String,
    modified: u64,
    created: u64,
    prev_modified: Option<u64>,
    etcd_index: u64,
}

fn summary(e: &Event) -> Summary {
    Summary {
        action: e.action,
        key: e.node.key.clone(),
        modified: e.node.modified_index,
        created: e.node.created_index,
        prev_modified: e.prev_node.as_ref().map(|p| p.modified_index),
        etcd_index: e.etcd_index,
    }
}

/// etcd v2 semantics over a flat map of absolute paths; the root is implicit.
#[derive(Default, Clone)]
struct Model {
    nodes: BTreeMap<String, MNode>,
    index: u64,
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

type Outcome = Result<Summary, EtcdError>;

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

    fn set(&mut self, p: &str, dir: bool, v: &str, exp: Option<i64>) -> Outcome {
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

    fn create(&mut self, p: &str, dir: bool, v: &str, unique: bool, exp: Option<i64>) -> Outcome {
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
    fn current_value(&self, p: &str) -> String {
        self.nodes
            .get(p)
            .map(|n| n.value.clone())
            .unwrap_or_default()
    }

    /// etcd: `store.Set` with `Refresh`: a missing key is 100; otherwise the node is replaced
    /// by one with the same value (new createdIndex) and the new deadline.
    fn set_refresh(&mut self, p: &str, exp: Option<i64>) -> Outcome {
        self.lookup(p)?;
        let v = self.current_value(p);
        self.set(p, false, &v, exp)
    }

    fn update(&mut self, p: &str, v: &str, exp: Option<i64>) -> Outcome {
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

    fn cas(&mut self, p: &str, pv: &str, pi: u64, v: &str, exp: Option<i64>) -> Outcome {
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

    fn delete(&mut self, p: &str, dir: bool, recursive: bool) -> Outcome {
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

    fn cad(&mut self, p: &str, pv: &str, pi: u64) -> Outcome {
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
    fn expire(&mut self, now: i64) {
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
    fn get(&self, p: &str, recursive: bool, now: i64) -> Result<(Node, u64), EtcdError> {
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

// ---- driving both ------------------------------------------------------------------------

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("serialisable")
}

fn store_get(s: &Store, p: &str, recursive: bool, now: i64) -> Result<(String, u64), EtcdError> {
    s.get(p, recursive, true, now)
        .map(|e| (json(&e.node), e.etcd_index))
}

fn model_get(m: &Model, p: &str, recursive: bool, now: i64) -> Result<(String, u64), EtcdError> {
    m.get(p, recursive, now).map(|(n, i)| (json(&n), i))
}

/// Apply one step to the store and the model; the two outcomes, rendered for comparison.
fn apply(store: &mut Store, model: &mut Model, step: &Step, now: &mut i64) -> (String, String) {
    let at = |ttl: &Option<i64>| ttl.map(|t| *now + t * SEC);
    let key = |k: &usize| KEYS[*k].to_string();
    let (op, expected) = match step {
        Step::Set { k, v, dir, ttl } => (
            Op::Set {
                path: key(k),
                dir: *dir,
                value: VALUES[*v].into(),
                expire_at: at(ttl),
                refresh: false,
            },
            model.set(KEYS[*k], *dir, VALUES[*v], at(ttl)),
        ),
        Step::Create {
            k,
            v,
            dir,
            unique,
            ttl,
        } => (
            Op::Create {
                path: key(k),
                dir: *dir,
                value: VALUES[*v].into(),
                unique: *unique,
                expire_at: at(ttl),
            },
            model.create(KEYS[*k], *dir, VALUES[*v], *unique, at(ttl)),
        ),
        Step::Update { k, v, ttl } => (
            Op::Update {
                path: key(k),
                value: VALUES[*v].into(),
                expire_at: at(ttl),
                refresh: false,
            },
            model.update(KEYS[*k], VALUES[*v], at(ttl)),
        ),
        Step::Cas {
            k,
            prev_value,
            prev_index,
            v,
            ttl,
        } => (
            Op::CompareAndSwap {
                path: key(k),
                prev_value: VALUES[*prev_value].into(),
                prev_index: *prev_index,
                value: VALUES[*v].into(),
                expire_at: at(ttl),
                refresh: false,
            },
            model.cas(
                KEYS[*k],
                VALUES[*prev_value],
                *prev_index,
                VALUES[*v],
                at(ttl),
            ),
        ),
        Step::Delete { k, dir, recursive } => (
            Op::Delete {
                path: key(k),
                dir: *dir,
                recursive: *recursive,
            },
            model.delete(KEYS[*k], *dir, *recursive),
        ),
        Step::Cad {
            k,
            prev_value,
            prev_index,
        } => (
            Op::CompareAndDelete {
                path: key(k),
                prev_value: VALUES[*prev_value].into(),
                prev_index: *prev_index,
            },
            model.cad(KEYS[*k], VALUES[*prev_value], *prev_index),
        ),
        Step::Get { k, recursive } => {
            let got = store_get(store, KEYS[*k], *recursive, *now);
            let want = model_get(model, KEYS[*k], *recursive, *now);
            return (format!("{got:?}"), format!("{want:?}"));
        }
        Step::Refresh {
            k,
            how,
            prev_value,
            ttl,
        } => {
            let (p, exp, pv) = (KEYS[*k], Some(*now + ttl * SEC), VALUES[*prev_value]);
            let keep = model.current_value(p);
            match how {
                0 => (
                    Op::Set {
                        path: key(k),
                        dir: false,
                        value: String::new(),
                        expire_at: exp,
                        refresh: true,
                    },
                    model.set_refresh(p, exp),
                ),
                1 => (
                    Op::Update {
                        path: key(k),
                        value: String::new(),
                        expire_at: exp,
                        refresh: true,
                    },
                    model.update(p, &keep, exp),
                ),
                _ => (
                    Op::CompareAndSwap {
                        path: key(k),
                        prev_value: pv.to_string(),
                        prev_index: 0,
                        value: String::new(),
                        expire_at: exp,
                        refresh: true,
                    },
                    model.cas(p, pv, 0, &keep, exp),
                ),
            }
        }
        Step::Tick(ms) => {
            *now += ms * MS;
            model.expire(*now);
            let got = store.apply(&Command {
                now: *now,
                op: Op::Expire,
            });
            let got = got.map(|e| e.is_none());
            return (format!("{got:?}"), "Ok(true)".to_string());
        }
    };
    let got = store
        .apply(&Command { now: *now, op })
        .map(|e| summary(&e.expect("a write answers with an event")));
    (format!("{got:?}"), format!("{expected:?}"))
}

fn check_step(
    store: &mut Store,
    model: &mut Model,
    s: &Step,
    now: &mut i64,
    what: &str,
) -> Result<(), TestCaseError> {
    let (got, want) = apply(store, model, s, now);
    prop_assert_eq!(&got, &want, "{}: outcome of {:?}", what, s);
    prop_assert_eq!(store.index(), model.index, "{}: index after {:?}", what, s);
    prop_assert_eq!(
        store_get(store, "/", true, *now),
        model_get(model, "/", true, *now),
        "{}: tree after {:?}",
        what,
        s
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn store_matches_model(
        steps in prop::collection::vec(step(), 1..60),
        tail in prop::collection::vec(step(), 0..30),
    ) {
        let mut store = Store::new();
        let mut model = Model::default();
        let mut now = T0;
        for (i, s) in steps.iter().enumerate() {
            check_step(&mut store, &mut model, s, &mut now, &format!("step {i}"))?;
        }

        // Snapshot round trip: the restored store lists the same tree ...
        let mut restored = Store::new();
        restored.restore(&store.to_snapshot().expect("snapshot")).expect("restore");
        prop_assert_eq!(restored.index(), store.index());
        prop_assert_eq!(
            store_get(&restored, "/", true, now),
            store_get(&store, "/", true, now)
        );
        // ... and then behaves like the original and the model, TTL deadlines included.
        let mut model2 = model.clone();
        let mut now2 = now;
        for (i, s) in tail.iter().enumerate() {
            check_step(&mut store, &mut model, s, &mut now, &format!("tail {i}"))?;
            check_step(&mut restored, &mut model2, s, &mut now2, &format!("restored tail {i}"))?;
        }
    }
}

/// Fixed sequences worth keeping regardless of what the generator happens to draw.
#[test]
fn fixed_sequences_match_model() {
    use Step::*;
    let cases: Vec<Vec<Step>> = vec![
        // A directory with a TTL takes its subtree, and its children's deadlines, with it.
        vec![
            Set {
                k: 1,
                v: 0,
                dir: true,
                ttl: Some(1),
            },
            Set {
                k: 2,
                v: 0,
                dir: false,
                ttl: Some(3),
            },
            Tick(999),
            Get {
                k: 1,
                recursive: true,
            },
            Tick(1),
            Get {
                k: 2,
                recursive: false,
            },
            Tick(3000),
        ],
        // In-order keys under a file are 104; under the root they are fine.
        vec![
            Set {
                k: 4,
                v: 0,
                dir: false,
                ttl: None,
            },
            Create {
                k: 4,
                v: 0,
                dir: false,
                unique: true,
                ttl: None,
            },
            Create {
                k: 0,
                v: 1,
                dir: false,
                unique: true,
                ttl: Some(1),
            },
            Create {
                k: 8,
                v: 1,
                dir: true,
                unique: true,
                ttl: None,
            },
            Tick(1000),
        ],
        // A hidden child makes a directory non-empty but is never listed.
        vec![
            Set {
                k: 7,
                v: 0,
                dir: false,
                ttl: None,
            },
            Delete {
                k: 1,
                dir: true,
                recursive: false,
            },
            Get {
                k: 1,
                recursive: true,
            },
            Get {
                k: 7,
                recursive: false,
            },
        ],
        // TTL update of a directory; compare-and-swap/delete by index and value.
        vec![
            Set {
                k: 1,
                v: 0,
                dir: true,
                ttl: None,
            },
            Update {
                k: 1,
                v: 2,
                ttl: Some(2),
            },
            Update {
                k: 1,
                v: 0,
                ttl: None,
            },
            Set {
                k: 4,
                v: 0,
                dir: false,
                ttl: None,
            },
            Cas {
                k: 4,
                prev_value: 1,
                prev_index: 4,
                v: 1,
                ttl: None,
            },
            Cas {
                k: 4,
                prev_value: 0,
                prev_index: 4,
                v: 1,
                ttl: Some(1),
            },
            Cad {
                k: 4,
                prev_value: 0,
                prev_index: 0,
            },
            Cad {
                k: 4,
                prev_value: 1,
                prev_index: 5,
            },
            Cad {
                k: 0,
                prev_value: 0,
                prev_index: 0,
            },
        ],
    ];
    for steps in cases {
        let mut store = Store::new();
        let mut model = Model::default();
        let mut now = T0;
        for (i, s) in steps.iter().enumerate() {
            if let Err(e) = check_step(&mut store, &mut model, s, &mut now, &format!("step {i}")) {
                panic!("{e}\nsequence: {steps:?}");
            }
        }
    }
}
