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

mod model;
mod steps;

use etcd::store::Store;
use proptest::prelude::*;

use model::Model;
use steps::{Step, apply, model_get, step, store_get};

const SEC: i64 = 1_000_000_000;
const MS: i64 = 1_000_000;
/// A fake clock start that is deliberately not on a second boundary.
const T0: i64 = 1_800_000_000 * SEC + 123_456_789;

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
        let mut snapshot = Vec::new();
        store.write_snapshot(&mut snapshot).expect("snapshot");
        restored.restore(&snapshot).expect("restore");
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

/// Run a fixed sequence (one worth keeping regardless of what the generator draws) on a fresh
/// store and model.
fn run_fixed(steps: &[Step]) {
    let mut store = Store::new();
    let mut model = Model::default();
    let mut now = T0;
    for (i, s) in steps.iter().enumerate() {
        if let Err(e) = check_step(&mut store, &mut model, s, &mut now, &format!("step {i}")) {
            panic!("{e}\nsequence: {steps:?}");
        }
    }
}

/// A directory with a TTL takes its subtree, and its children's deadlines, with it.
#[test]
fn directory_ttl_takes_its_subtree_and_deadlines() {
    use Step::*;
    run_fixed(&[
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
    ]);
}

/// In-order keys under a file are 104; under the root they are fine.
#[test]
fn in_order_keys_under_a_file_are_104() {
    use Step::*;
    run_fixed(&[
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
    ]);
}

/// A hidden child makes a directory non-empty but is never listed.
#[test]
fn hidden_child_makes_dir_non_empty_but_is_not_listed() {
    use Step::*;
    run_fixed(&[
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
    ]);
}

/// TTL update of a directory; compare-and-swap/delete by index and value.
#[test]
fn dir_ttl_update_and_compare_by_index_and_value() {
    use Step::*;
    run_fixed(&[
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
    ]);
}
