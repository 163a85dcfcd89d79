//! Snapshots: round trip of tree, index, deadlines and history; deep trees.

use super::*;

#[test]
fn snapshot_round_trip_keeps_tree_index_ttl_and_history() {
    let mut s = Store::new();
    s.advance_index(3);
    set(&mut s, "/a/b", "1").unwrap();
    op(
        &mut s,
        Op::Set {
            path: "/t".into(),
            dir: false,
            value: "x".into(),
            expire_at: Some(T0 + SEC),
            refresh: false,
        },
    )
    .unwrap();
    let bytes = s.to_snapshot().unwrap();
    let mut r = Store::new();
    r.restore(&bytes).unwrap();
    assert_eq!(r.index(), 5);
    assert_eq!(r.next_expiry(), Some(T0 + SEC));
    assert_eq!(
        json(&r.get("/", true, true, T0).unwrap()),
        json(&s.get("/", true, true, T0).unwrap())
    );
    let mut w = r.watch("/a/b", false, false, 4).unwrap();
    assert_eq!(w.events.try_recv().unwrap().index(), 4);
}

/// Found by fuzzing: a key hundreds of levels deep made the (then nested) snapshot unreadable.
#[test]
fn deep_keys_snapshot_and_depth_limit() {
    let mut s = Store::new();
    let deepest = "/d".repeat(MAX_DEPTH);
    set(&mut s, &deepest, "v").unwrap();
    let too_deep = "/e".repeat(MAX_DEPTH + 1);
    assert_eq!(
        set(&mut s, &too_deep, "v").unwrap_err(),
        err(
            ErrorCode::InvalidField,
            &format!("key is nested more than {MAX_DEPTH} levels deep"),
            1
        )
    );
    let mut r = Store::new();
    r.restore(&s.to_snapshot().unwrap()).unwrap();
    assert_eq!(
        r.get(&deepest, false, false, T0)
            .unwrap()
            .node
            .value
            .as_deref(),
        Some(b"v".as_slice())
    );
    assert_eq!(
        json(&r.get("/", true, true, T0).unwrap()),
        json(&s.get("/", true, true, T0).unwrap())
    );
}
