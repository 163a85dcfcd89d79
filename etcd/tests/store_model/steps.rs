//! The random steps, and how each one drives both the store and the model.

use etcd::store::{ByteStr, Command, Op, Store};
use etcd_common::EtcdError;
use proptest::prelude::*;

use super::model::{Model, Outcome, summary};
use super::{MS, SEC};

pub const KEYS: &[&str] = &[
    "/", "/a", "/a/b", "/a/b/c", "/c", "/_h", "/_h/d", "/a/_x", "/q",
];
pub const VALUES: &[&str] = &["x", "y", ""];

#[derive(Debug, Clone)]
pub enum Step {
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

pub fn step() -> impl Strategy<Value = Step> {
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

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("serialisable")
}

pub fn store_get(
    s: &Store,
    p: &str,
    recursive: bool,
    now: i64,
) -> Result<(String, u64), EtcdError> {
    s.get(p, recursive, true, now)
        .map(|e| (json(&e.node), e.etcd_index))
}

pub fn model_get(
    m: &Model,
    p: &str,
    recursive: bool,
    now: i64,
) -> Result<(String, u64), EtcdError> {
    m.get(p, recursive, now).map(|(n, i)| (json(&n), i))
}

/// Apply one step to the store and the model; the two outcomes, rendered for comparison.
pub fn apply(store: &mut Store, model: &mut Model, step: &Step, now: &mut i64) -> (String, String) {
    let (op, expected) = match step {
        Step::Get { k, recursive } => {
            let got = store_get(store, KEYS[*k], *recursive, *now);
            let want = model_get(model, KEYS[*k], *recursive, *now);
            return (format!("{got:?}"), format!("{want:?}"));
        }
        Step::Tick(ms) => {
            *now += ms * MS;
            model.expire(*now);
            let got = store.apply(Command {
                now: *now,
                op: Op::Expire,
            });
            let got = got.map(|e| e.is_none());
            return (format!("{got:?}"), "Ok(true)".to_string());
        }
        Step::Refresh {
            k,
            how,
            prev_value,
            ttl,
        } => refresh(model, KEYS[*k], *how, VALUES[*prev_value], *now + ttl * SEC),
        Step::Cas {
            k,
            prev_value,
            prev_index,
            v,
            ttl,
        } => {
            let exp = ttl.map(|t| *now + t * SEC);
            let (p, pv, v) = (KEYS[*k], VALUES[*prev_value], VALUES[*v]);
            let op = Op::CompareAndSwap {
                path: p.into(),
                prev_value: pv.into(),
                prev_index: *prev_index,
                value: v.into(),
                expire_at: exp,
                refresh: false,
            };
            (op, model.cas(p, pv, *prev_index, v, exp))
        }
        _ => write(model, step, *now),
    };
    let got = store
        .apply(Command { now: *now, op })
        .map(|e| summary(&e.expect("a write answers with an event")));
    (format!("{got:?}"), format!("{expected:?}"))
}

/// The store operation of a plain write step and the model's outcome for it.
fn write(model: &mut Model, step: &Step, now: i64) -> (Op, Outcome) {
    let at = |ttl: &Option<i64>| ttl.map(|t| now + t * SEC);
    let key = |k: &usize| KEYS[*k].into();
    match step {
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
        Step::Cas { .. } | Step::Refresh { .. } | Step::Get { .. } | Step::Tick(_) => {
            unreachable!("{step:?} is handled by `apply`")
        }
    }
}

/// A TTL refresh of `p` to `exp` through `how` (0 set, 1 update, 2 compare-and-swap on `pv`).
fn refresh(model: &mut Model, p: &str, how: u8, pv: &str, exp: i64) -> (Op, Outcome) {
    let exp = Some(exp);
    let keep = model.current_value(p);
    let path: ByteStr = p.into();
    match how {
        0 => (
            Op::Set {
                path,
                dir: false,
                value: ByteStr::new(),
                expire_at: exp,
                refresh: true,
            },
            model.set_refresh(p, exp),
        ),
        1 => (
            Op::Update {
                path,
                value: ByteStr::new(),
                expire_at: exp,
                refresh: true,
            },
            model.update(p, &keep, exp),
        ),
        _ => (
            Op::CompareAndSwap {
                path,
                prev_value: pv.into(),
                prev_index: 0,
                value: ByteStr::new(),
                expire_at: exp,
                refresh: true,
            },
            model.cas(p, pv, 0, &keep, exp),
        ),
    }
}
