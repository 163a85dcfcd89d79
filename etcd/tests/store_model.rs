//! Property test: random operation sequences against the store and against a deliberately
//! simple model of etcd v2's semantics (a flat map of paths), compared after every step —
//! outcome, error code, cause and index, and the full recursive listing. Also checks that a
//! snapshot restored into a fresh store behaves identically afterwards.

use std::collections::{BTreeMap, BTreeSet};

use etcd::store::{Command, Op, Store};
use etcd_common::{ErrorCode, EtcdError, Node};
use proptest::prelude::*;

const SEC: i64 = 1_000_000_000;
const T0: i64 = 1_800_000_000 * SEC;
const KEYS: &[&str] = &["/a", "/a/b", "/a/b/c", "/c", "/_h", "/a/_x", "/"];
const VALUES: &[&str] = &["x", "y", ""];

#[derive(Debug, Clone)]
enum Step {
    Set(usize, usize, Option<i64>),
    SetDir(usize),
    Create(usize, usize),
    Update(usize, usize, Option<i64>),
    Cas(usize, usize, usize),
    Delete(usize, bool, bool),
    Cad(usize, usize),
    Tick(i64),
}

fn step() -> impl Strategy<Value = Step> {
    let k = 0..KEYS.len();
    let v = 0..VALUES.len();
    let ttl = prop::option::of(1i64..4);
    prop_oneof![
        (k.clone(), v.clone(), ttl.clone()).prop_map(|(k, v, t)| Step::Set(k, v, t)),
        k.clone().prop_map(Step::SetDir),
        (k.clone(), v.clone()).prop_map(|(k, v)| Step::Create(k, v)),
        (k.clone(), v.clone(), ttl).prop_map(|(k, v, t)| Step::Update(k, v, t)),
        (k.clone(), v.clone(), v.clone()).prop_map(|(k, a, b)| Step::Cas(k, a, b)),
        (k.clone(), any::<bool>(), any::<bool>()).prop_map(|(k, d, r)| Step::Delete(k, d, r)),
        (k, v).prop_map(|(k, a)| Step::Cad(k, a)),
        (0i64..3).prop_map(Step::Tick),
    ]
}

#[derive(Debug, Clone)]
struct MNode {
    dir: bool,
    value: String,
    created: u64,
    modified: u64,
    expire_at: Option<i64>,
}

/// etcd v2 semantics over a flat map; written from the documentation, not from the store.
#[derive(Default)]
struct Model {
    nodes: BTreeMap<String, MNode>,
    index: u64,
}

fn parent(p: &str) -> &str {
    match p.rfind('/') {
        Some(0) => "/",
        Some(i) => &p[..i],
        None => "/",
    }
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

fn err(code: ErrorCode, cause: &str, index: u64) -> EtcdError {
    EtcdError::new(code, cause, index)
}

impl Model {
    fn is_dir(&self, p: &str) -> bool {
        p == "/" || self.nodes.get(p).is_some_and(|n| n.dir)
    }

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

    fn ensure_dirs(&mut self, p: &str) -> Result<(), EtcdError> {
        let mut pres = prefixes(p);
        pres.pop();
        for pre in pres {
            match self.nodes.get(&pre) {
                Some(n) if !n.dir => return Err(err(ErrorCode::NotDir, &pre, self.index)),
                Some(_) => {}
                None => {
                    self.nodes.insert(pre, dir_node(self.index + 1, None));
                }
            }
        }
        Ok(())
    }

    fn remove_subtree(&mut self, p: &str) {
        let below = format!("{p}/");
        self.nodes.retain(|k, _| k != p && !k.starts_with(&below));
    }

    fn set(&mut self, p: &str, dir: bool, v: &str, exp: Option<i64>) -> Result<(), EtcdError> {
        match self.lookup(p) {
            Ok(())
            | Err(EtcdError {
                code: ErrorCode::KeyNotFound,
                ..
            }) => {}
            Err(e) => return Err(e),
        }
        if p == "/" {
            return Err(err(ErrorCode::RootReadOnly, "/", self.index));
        }
        self.ensure_dirs(p)?;
        if self.nodes.get(p).is_some_and(|n| n.dir) {
            return Err(err(ErrorCode::NotFile, p, self.index));
        }
        self.index += 1;
        let n = if dir {
            dir_node(self.index, exp)
        } else {
            file_node(v, self.index, exp)
        };
        self.nodes.insert(p.to_string(), n);
        Ok(())
    }

    fn create(&mut self, p: &str, v: &str) -> Result<(), EtcdError> {
        if p == "/" {
            return Err(err(ErrorCode::RootReadOnly, "/", self.index));
        }
        self.ensure_dirs(p)?;
        if self.nodes.contains_key(p) {
            return Err(err(ErrorCode::NodeExist, p, self.index));
        }
        self.index += 1;
        self.nodes
            .insert(p.to_string(), file_node(v, self.index, None));
        Ok(())
    }

    fn update(&mut self, p: &str, v: &str, exp: Option<i64>) -> Result<(), EtcdError> {
        if p == "/" {
            return Err(err(ErrorCode::RootReadOnly, "/", self.index));
        }
        self.lookup(p)?;
        let index = self.index;
        let n = self.nodes.get_mut(p).expect("looked up");
        if n.dir && !v.is_empty() {
            return Err(err(ErrorCode::NotFile, p, index));
        }
        if !n.dir {
            n.value = v.to_string();
            n.modified = index + 1;
        }
        n.expire_at = exp;
        self.index += 1;
        Ok(())
    }

    fn cas(&mut self, p: &str, prev: &str, v: &str) -> Result<(), EtcdError> {
        if p == "/" {
            return Err(err(ErrorCode::RootReadOnly, "/", self.index));
        }
        self.lookup(p)?;
        let index = self.index;
        let n = self.nodes.get_mut(p).expect("looked up");
        if n.dir {
            return Err(err(ErrorCode::NotFile, p, index));
        }
        if !prev.is_empty() && n.value != prev {
            return Err(err(
                ErrorCode::TestFailed,
                &format!("[{prev} != {}]", n.value),
                index,
            ));
        }
        n.value = v.to_string();
        n.modified = index + 1;
        n.expire_at = None;
        self.index += 1;
        Ok(())
    }

    fn delete(&mut self, p: &str, dir: bool, recursive: bool) -> Result<(), EtcdError> {
        if p == "/" {
            return Err(err(ErrorCode::RootReadOnly, "/", self.index));
        }
        self.lookup(p)?;
        if self.nodes[p].dir {
            if !(dir || recursive) {
                return Err(err(ErrorCode::NotFile, p, self.index));
            }
            let below = format!("{p}/");
            if !recursive && self.nodes.keys().any(|k| k.starts_with(&below)) {
                return Err(err(ErrorCode::DirNotEmpty, p, self.index));
            }
        }
        self.remove_subtree(p);
        self.index += 1;
        Ok(())
    }

    fn cad(&mut self, p: &str, prev: &str) -> Result<(), EtcdError> {
        self.lookup(p)?;
        if self.is_dir(p) {
            let cause = if p == "/" { "" } else { p };
            return Err(err(ErrorCode::NotFile, cause, self.index));
        }
        let value = &self.nodes[p].value;
        if !prev.is_empty() && value != prev {
            return Err(err(
                ErrorCode::TestFailed,
                &format!("[{prev} != {value}]"),
                self.index,
            ));
        }
        self.remove_subtree(p);
        self.index += 1;
        Ok(())
    }

    fn expire(&mut self, now: i64) {
        loop {
            let due: BTreeSet<(i64, String)> = self
                .nodes
                .iter()
                .filter_map(|(k, n)| n.expire_at.map(|t| (t, k.clone())))
                .filter(|(t, _)| *t <= now)
                .collect();
            let Some((_, p)) = due.into_iter().next() else {
                return;
            };
            self.index += 1;
            self.remove_subtree(&p);
        }
    }

    fn listing(&self, p: &str, now: i64) -> Vec<Node> {
        let below = if p == "/" {
            "/".to_string()
        } else {
            format!("{p}/")
        };
        self.nodes
            .iter()
            .filter(|(k, _)| k.starts_with(&below) && parent(k) == p)
            .filter(|(k, _)| !k.rsplit('/').next().unwrap_or("").starts_with('_'))
            .map(|(k, n)| {
                let (expiration, ttl) = match n.expire_at {
                    None => (None, 0),
                    Some(t) => {
                        let rem = t - now;
                        let mut ttl = rem / SEC;
                        if rem % SEC > 0 {
                            ttl += 1;
                        }
                        (Some(String::new()), ttl)
                    }
                };
                let nodes = if n.dir {
                    let c = self.listing(k, now);
                    if c.is_empty() { None } else { Some(c) }
                } else {
                    None
                };
                Node {
                    key: k.clone(),
                    value: (!n.dir).then(|| n.value.clone()),
                    dir: n.dir,
                    expiration,
                    ttl,
                    nodes,
                    modified_index: n.modified,
                    created_index: n.created,
                }
            })
            .collect()
    }
}

fn dir_node(index: u64, expire_at: Option<i64>) -> MNode {
    MNode {
        dir: true,
        value: String::new(),
        created: index,
        modified: index,
        expire_at,
    }
}

fn file_node(v: &str, index: u64, expire_at: Option<i64>) -> MNode {
    MNode {
        dir: false,
        value: v.to_string(),
        created: index,
        modified: index,
        expire_at,
    }
}

/// The store's listing with expiration strings blanked (the model does not format times).
fn store_listing(s: &Store, now: i64) -> Vec<Node> {
    fn blank(n: &mut Node) {
        if n.expiration.is_some() {
            n.expiration = Some(String::new());
        }
        for c in n.nodes.iter_mut().flatten() {
            blank(c);
        }
    }
    let mut root = s.get("/", true, true, now).expect("root").node;
    blank(&mut root);
    root.nodes.unwrap_or_default()
}

fn apply(store: &mut Store, model: &mut Model, step: &Step, now: &mut i64) -> (String, String) {
    let at = |ttl: &Option<i64>, now: i64| ttl.map(|t| now + t * SEC);
    let (op, expected) = match step {
        Step::Set(k, v, t) => (
            Op::Set {
                path: KEYS[*k].into(),
                dir: false,
                value: VALUES[*v].into(),
                expire_at: at(t, *now),
                refresh: false,
            },
            model.set(KEYS[*k], false, VALUES[*v], at(t, *now)),
        ),
        Step::SetDir(k) => (
            Op::Set {
                path: KEYS[*k].into(),
                dir: true,
                value: String::new(),
                expire_at: None,
                refresh: false,
            },
            model.set(KEYS[*k], true, "", None),
        ),
        Step::Create(k, v) => (
            Op::Create {
                path: KEYS[*k].into(),
                dir: false,
                value: VALUES[*v].into(),
                unique: false,
                expire_at: None,
            },
            model.create(KEYS[*k], VALUES[*v]),
        ),
        Step::Update(k, v, t) => (
            Op::Update {
                path: KEYS[*k].into(),
                value: VALUES[*v].into(),
                expire_at: at(t, *now),
                refresh: false,
            },
            model.update(KEYS[*k], VALUES[*v], at(t, *now)),
        ),
        Step::Cas(k, a, b) => (
            Op::CompareAndSwap {
                path: KEYS[*k].into(),
                prev_value: VALUES[*a].into(),
                prev_index: 0,
                value: VALUES[*b].into(),
                expire_at: None,
                refresh: false,
            },
            model.cas(KEYS[*k], VALUES[*a], VALUES[*b]),
        ),
        Step::Delete(k, d, r) => (
            Op::Delete {
                path: KEYS[*k].into(),
                dir: *d,
                recursive: *r,
            },
            model.delete(KEYS[*k], *d, *r),
        ),
        Step::Cad(k, a) => (
            Op::CompareAndDelete {
                path: KEYS[*k].into(),
                prev_value: VALUES[*a].into(),
                prev_index: 0,
            },
            model.cad(KEYS[*k], VALUES[*a]),
        ),
        Step::Tick(s) => {
            *now += s * SEC;
            model.expire(*now);
            (Op::Expire, Ok(()))
        }
    };
    let got = store.apply(&Command { now: *now, op }).map(|_| ());
    (format!("{got:?}"), format!("{expected:?}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn store_matches_model(steps in prop::collection::vec(step(), 1..40)) {
        let mut store = Store::new();
        let mut model = Model::default();
        let mut now = T0;
        for (i, s) in steps.iter().enumerate() {
            let (got, want) = apply(&mut store, &mut model, s, &mut now);
            prop_assert_eq!(&got, &want, "step {} {:?}", i, s);
            prop_assert_eq!(store.index(), model.index, "index after step {} {:?}", i, s);
            prop_assert_eq!(store_listing(&store, now), model.listing("/", now), "tree after step {} {:?}", i, s);
        }
        // A snapshot restored into a fresh store lists and behaves the same from here on.
        let mut restored = Store::new();
        restored.restore(&store.to_snapshot().unwrap()).unwrap();
        prop_assert_eq!(store_listing(&restored, now), store_listing(&store, now));
        for s in &steps {
            let mut n1 = now;
            let mut n2 = now;
            let mut m1 = Model::default();
            let mut m2 = Model::default();
            let a = apply(&mut store, &mut m1, s, &mut n1).0;
            let b = apply(&mut restored, &mut m2, s, &mut n2).0;
            prop_assert_eq!(a, b);
            prop_assert_eq!(store.index(), restored.index());
        }
        prop_assert_eq!(store_listing(&restored, now), store_listing(&store, now));
    }
}
