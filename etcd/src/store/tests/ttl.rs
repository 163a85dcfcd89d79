//! Deadlines: how TTLs show, what expiry removes and whom it wakes, refresh.

use super::*;

#[test]
fn ttl_is_shown_as_ceiling_and_expiry_emits_events() {
    let mut s = Store::new();
    let e = op(
        &mut s,
        Op::Set {
            path: "/foo".into(),
            dir: false,
            value: "bar".into(),
            expire_at: Some(T0 + 5 * SEC),
            refresh: false,
        },
    )
    .unwrap();
    assert_eq!(e.node.ttl, 5);
    assert_eq!(e.node.expiration.as_deref(), Some("2027-01-15T08:00:05Z"));
    assert_eq!(
        s.get("/foo", false, false, T0 + SEC / 2).unwrap().node.ttl,
        5
    );
    assert_eq!(
        s.get("/foo", false, false, T0 + 4 * SEC + 1)
            .unwrap()
            .node
            .ttl,
        1
    );
    assert_eq!(s.next_expiry(), Some(T0 + 5 * SEC));
    let mut w = s.watch("/foo", false, false, 0).unwrap();
    // Not yet due.
    s.apply(Command {
        now: T0 + 4 * SEC,
        op: Op::Expire,
    })
    .unwrap();
    assert!(s.get("/foo", false, false, T0).is_ok());
    s.apply(Command {
        now: T0 + 5 * SEC,
        op: Op::Expire,
    })
    .unwrap();
    assert_eq!(
        s.get("/foo", false, false, T0).unwrap_err(),
        err(ErrorCode::KeyNotFound, "/foo", 2)
    );
    let ev = w.events.try_recv().unwrap();
    assert_eq!(
        json(&ev),
        r#"{"action":"expire","node":{"key":"/foo","modifiedIndex":2,"createdIndex":1},"prevNode":{"key":"/foo","value":"bar","expiration":"2027-01-15T08:00:05Z","modifiedIndex":1,"createdIndex":1}}"#
    );
    assert_eq!(s.stats().expire_count, 1);
    assert_eq!(s.next_expiry(), None);
}

#[test]
fn directory_ttl_expires_subtree_and_wakes_watchers_below() {
    let mut s = Store::new();
    op(
        &mut s,
        Op::Set {
            path: "/dir".into(),
            dir: true,
            value: "".into(),
            expire_at: Some(T0 + SEC),
            refresh: false,
        },
    )
    .unwrap();
    op(
        &mut s,
        Op::Set {
            path: "/dir/k".into(),
            dir: false,
            value: "v".into(),
            expire_at: Some(T0 + 10 * SEC),
            refresh: false,
        },
    )
    .unwrap();
    let mut below = s.watch("/dir/k", false, false, 0).unwrap();
    s.apply(Command {
        now: T0 + 2 * SEC,
        op: Op::Expire,
    })
    .unwrap();
    let ev = below.events.try_recv().unwrap();
    assert_eq!(ev.action, Action::Expire);
    assert_eq!(ev.node.key, "/dir");
    assert!(ev.node.dir);
    // The child's own deadline went with it.
    assert_eq!(s.next_expiry(), None);
    assert!(s.get("/dir/k", false, false, T0).is_err());
}

#[test]
fn update_removes_ttl_unless_given_and_refresh_keeps_value_silently() {
    let mut s = Store::new();
    op(
        &mut s,
        Op::Set {
            path: "/foo".into(),
            dir: false,
            value: "bar".into(),
            expire_at: Some(T0 + 5 * SEC),
            refresh: false,
        },
    )
    .unwrap();
    let mut w = s.watch("/foo", false, false, 0).unwrap();
    let e = op(
        &mut s,
        Op::Update {
            path: "/foo".into(),
            value: "".into(),
            expire_at: Some(T0 + 9 * SEC),
            refresh: true,
        },
    )
    .unwrap();
    assert_eq!(e.node.value.as_deref(), Some(b"bar".as_slice()));
    assert_eq!(e.node.ttl, 9);
    assert_eq!(e.node.modified_index, 2);
    assert!(
        w.events.try_recv().is_err(),
        "refresh must not wake watchers"
    );
    let e = op(
        &mut s,
        Op::Update {
            path: "/foo".into(),
            value: "bar".into(),
            expire_at: None,
            refresh: false,
        },
    )
    .unwrap();
    assert_eq!(e.node.expiration, None);
    assert_eq!(s.next_expiry(), None);
    assert_eq!(w.events.try_recv().unwrap().index(), 3);
    // Refresh of a missing key through set is 100.
    assert_eq!(
        op(
            &mut s,
            Op::Set {
                path: "/nope".into(),
                dir: false,
                value: "".into(),
                expire_at: Some(T0 + SEC),
                refresh: true
            }
        )
        .unwrap_err(),
        err(ErrorCode::KeyNotFound, "/nope", 3)
    );
}
