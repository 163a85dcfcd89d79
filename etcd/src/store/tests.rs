//! Store behaviour, operation by operation, as etcd's v2store does it.

use super::*;

const T0: UnixNanos = 1_800_000_000_000_000_000;
const SEC: UnixNanos = 1_000_000_000;

fn cmd(op: Op) -> Command {
    Command { now: T0, op }
}

fn set(s: &mut Store, k: &str, v: &str) -> Result<Arc<Event>, EtcdError> {
    s.apply(&cmd(Op::Set {
        path: k.into(),
        dir: false,
        value: v.into(),
        expire_at: None,
        refresh: false,
    }))
    .map(|e| e.expect("event"))
}

fn op(s: &mut Store, o: Op) -> Result<Arc<Event>, EtcdError> {
    s.apply(&cmd(o)).map(|e| e.expect("event"))
}

fn json(e: &Event) -> String {
    serde_json::to_string(&e.to_response()).unwrap()
}

fn err(code: ErrorCode, cause: &str, index: u64) -> EtcdError {
    EtcdError::new(code, cause, index)
}

#[test]
fn set_then_overwrite_reports_prev_node_and_created() {
    let mut s = Store::new();
    let e = set(&mut s, "/message", "Hello world").unwrap();
    assert!(e.is_created());
    assert_eq!(
        json(&e),
        r#"{"action":"set","node":{"key":"/message","value":"Hello world","modifiedIndex":1,"createdIndex":1}}"#
    );
    let e = set(&mut s, "message", "Hello etcd").unwrap();
    assert!(!e.is_created());
    assert_eq!(
        json(&e),
        r#"{"action":"set","node":{"key":"/message","value":"Hello etcd","modifiedIndex":2,"createdIndex":2},"prevNode":{"key":"/message","value":"Hello world","modifiedIndex":1,"createdIndex":1}}"#
    );
    assert_eq!(s.index(), 2);
}

#[test]
fn intermediate_dirs_are_created_and_files_block_them() {
    let mut s = Store::new();
    set(&mut s, "/a/b/c", "x").unwrap();
    let g = s.get("/a", false, false, T0).unwrap();
    assert_eq!(
        serde_json::to_string(&g.to_response()).unwrap(),
        r#"{"action":"get","node":{"key":"/a","dir":true,"nodes":[{"key":"/a/b","dir":true,"modifiedIndex":1,"createdIndex":1}],"modifiedIndex":1,"createdIndex":1}}"#
    );
    // set below a file: the lookup fails first with 104 on the file.
    assert_eq!(
        set(&mut s, "/a/b/c/d", "y").unwrap_err(),
        err(ErrorCode::NotDir, "/a/b/c", 1)
    );
    // create below a file: the walk fails with 104 on the file too.
    let e = op(
        &mut s,
        Op::Create {
            path: "/a/b/c/d".into(),
            dir: false,
            value: "y".into(),
            unique: false,
            expire_at: None,
        },
    );
    assert_eq!(e.unwrap_err(), err(ErrorCode::NotDir, "/a/b/c", 1));
}

#[test]
fn get_errors_and_root_listing() {
    let mut s = Store::new();
    assert_eq!(
        s.get("/nope", false, false, T0).unwrap_err(),
        err(ErrorCode::KeyNotFound, "/nope", 0)
    );
    set(&mut s, "/foo", "two").unwrap();
    set(&mut s, "/_hidden", "h").unwrap();
    set(&mut s, "/foo_dir/foo", "bar").unwrap();
    assert_eq!(
        s.get("/foo/x", false, false, T0).unwrap_err(),
        err(ErrorCode::NotDir, "/foo", 3)
    );
    let root = s.get("/", true, true, T0).unwrap();
    assert_eq!(
        json(&root),
        r#"{"action":"get","node":{"dir":true,"nodes":[{"key":"/foo","value":"two","modifiedIndex":1,"createdIndex":1},{"key":"/foo_dir","dir":true,"nodes":[{"key":"/foo_dir/foo","value":"bar","modifiedIndex":3,"createdIndex":3}],"modifiedIndex":3,"createdIndex":3}]}}"#
    );
    // Hidden keys are readable by name.
    assert_eq!(
        s.get("/_hidden", false, false, T0)
            .unwrap()
            .node
            .value
            .as_deref(),
        Some("h")
    );
    let stats = s.stats();
    assert_eq!((stats.gets_success, stats.gets_fail), (2, 2));
}

#[test]
fn create_update_and_prev_exist() {
    let mut s = Store::new();
    let create = |v: &str| Op::Create {
        path: "/k".into(),
        dir: false,
        value: v.into(),
        unique: false,
        expire_at: None,
    };
    let e = op(&mut s, create("1")).unwrap();
    assert_eq!(e.action, Action::Create);
    assert_eq!(
        op(&mut s, create("2")).unwrap_err(),
        err(ErrorCode::NodeExist, "/k", 1)
    );
    let e = op(
        &mut s,
        Op::Update {
            path: "/k".into(),
            value: "3".into(),
            expire_at: None,
            refresh: false,
        },
    )
    .unwrap();
    assert_eq!(
        json(&e),
        r#"{"action":"update","node":{"key":"/k","value":"3","modifiedIndex":2,"createdIndex":1},"prevNode":{"key":"/k","value":"1","modifiedIndex":1,"createdIndex":1}}"#
    );
    assert_eq!(
        op(
            &mut s,
            Op::Update {
                path: "/missing".into(),
                value: "3".into(),
                expire_at: None,
                refresh: false
            }
        )
        .unwrap_err(),
        err(ErrorCode::KeyNotFound, "/missing", 2)
    );
    let st = s.stats();
    assert_eq!(
        (
            st.create_success,
            st.create_fail,
            st.update_success,
            st.update_fail
        ),
        (1, 1, 1, 1)
    );
}

#[test]
fn in_order_keys_use_the_next_index() {
    let mut s = Store::new();
    set(&mut s, "/x", "1").unwrap();
    let post = |v: &str| Op::Create {
        path: "/queue".into(),
        dir: false,
        value: v.into(),
        unique: true,
        expire_at: None,
    };
    let e = op(&mut s, post("Job1")).unwrap();
    assert_eq!(e.node.key, "/queue/00000000000000000002");
    let e = op(&mut s, post("Job2")).unwrap();
    assert_eq!(e.node.key, "/queue/00000000000000000003");
    set(&mut s, "/f", "file").unwrap();
    let e = op(
        &mut s,
        Op::Create {
            path: "/f".into(),
            dir: false,
            value: "v".into(),
            unique: true,
            expire_at: None,
        },
    );
    assert_eq!(e.unwrap_err(), err(ErrorCode::NotDir, "/f", 4));
}

#[test]
fn root_is_read_only() {
    let mut s = Store::new();
    assert_eq!(
        set(&mut s, "/", "x").unwrap_err(),
        err(ErrorCode::RootReadOnly, "/", 0)
    );
    assert_eq!(
        op(
            &mut s,
            Op::Delete {
                path: "/".into(),
                dir: true,
                recursive: true
            }
        )
        .unwrap_err(),
        err(ErrorCode::RootReadOnly, "/", 0)
    );
}

#[test]
fn directories_delete_rules() {
    let mut s = Store::new();
    op(
        &mut s,
        Op::Set {
            path: "/d".into(),
            dir: true,
            value: String::new(),
            expire_at: None,
            refresh: false,
        },
    )
    .unwrap();
    // setting a dir over a dir is 102
    assert_eq!(
        op(
            &mut s,
            Op::Set {
                path: "/d".into(),
                dir: true,
                value: String::new(),
                expire_at: None,
                refresh: false
            }
        )
        .unwrap_err(),
        err(ErrorCode::NotFile, "/d", 1)
    );
    set(&mut s, "/d/k", "v").unwrap();
    let del = |dir, recursive| Op::Delete {
        path: "/d".into(),
        dir,
        recursive,
    };
    assert_eq!(
        op(&mut s, del(false, false)).unwrap_err(),
        err(ErrorCode::NotFile, "/d", 2)
    );
    assert_eq!(
        op(&mut s, del(true, false)).unwrap_err(),
        err(ErrorCode::DirNotEmpty, "/d", 2)
    );
    let e = op(&mut s, del(false, true)).unwrap();
    assert_eq!(
        json(&e),
        r#"{"action":"delete","node":{"key":"/d","dir":true,"modifiedIndex":3,"createdIndex":1},"prevNode":{"key":"/d","dir":true,"modifiedIndex":1,"createdIndex":1}}"#
    );
}

#[test]
fn compare_and_swap_and_delete_causes() {
    let mut s = Store::new();
    set(&mut s, "/foo", "one").unwrap();
    let cas = |pv: &str, pi: u64| Op::CompareAndSwap {
        path: "/foo".into(),
        prev_value: pv.into(),
        prev_index: pi,
        value: "two".into(),
        expire_at: None,
        refresh: false,
    };
    assert_eq!(
        op(&mut s, cas("two", 0)).unwrap_err(),
        err(ErrorCode::TestFailed, "[two != one]", 1)
    );
    assert_eq!(
        op(&mut s, cas("", 7)).unwrap_err(),
        err(ErrorCode::TestFailed, "[7 != 1]", 1)
    );
    assert_eq!(
        op(&mut s, cas("x", 7)).unwrap_err(),
        err(ErrorCode::TestFailed, "[x != one] [7 != 1]", 1)
    );
    let e = op(&mut s, cas("one", 1)).unwrap();
    assert_eq!(
        json(&e),
        r#"{"action":"compareAndSwap","node":{"key":"/foo","value":"two","modifiedIndex":2,"createdIndex":1},"prevNode":{"key":"/foo","value":"one","modifiedIndex":1,"createdIndex":1}}"#
    );
    let cad = |pv: &str, pi: u64| Op::CompareAndDelete {
        path: "/foo".into(),
        prev_value: pv.into(),
        prev_index: pi,
    };
    assert_eq!(
        op(&mut s, cad("", 1)).unwrap_err(),
        err(ErrorCode::TestFailed, "[1 != 2]", 2)
    );
    let e = op(&mut s, cad("two", 0)).unwrap();
    assert_eq!(
        json(&e),
        r#"{"action":"compareAndDelete","node":{"key":"/foo","modifiedIndex":3,"createdIndex":1},"prevNode":{"key":"/foo","value":"two","modifiedIndex":2,"createdIndex":1}}"#
    );
    let st = s.stats();
    assert_eq!(
        (
            st.compare_and_swap_success,
            st.compare_and_swap_fail,
            st.compare_and_delete_success,
            st.compare_and_delete_fail
        ),
        (1, 3, 1, 1)
    );
}

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
    s.apply(&Command {
        now: T0 + 4 * SEC,
        op: Op::Expire,
    })
    .unwrap();
    assert!(s.get("/foo", false, false, T0).is_ok());
    s.apply(&Command {
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
            value: String::new(),
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
    s.apply(&Command {
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
            value: String::new(),
            expire_at: Some(T0 + 9 * SEC),
            refresh: true,
        },
    )
    .unwrap();
    assert_eq!(e.node.value.as_deref(), Some("bar"));
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
                value: String::new(),
                expire_at: Some(T0 + SEC),
                refresh: true
            }
        )
        .unwrap_err(),
        err(ErrorCode::KeyNotFound, "/nope", 3)
    );
}

#[test]
fn watch_history_replay_and_cleared_index() {
    let mut s = Store::new();
    set(&mut s, "/foo", "a").unwrap();
    set(&mut s, "/other", "b").unwrap();
    set(&mut s, "/foo", "c").unwrap();
    let mut w = s.watch("/foo", false, false, 2).unwrap();
    assert_eq!(w.events.try_recv().unwrap().index(), 3);
    assert_eq!(w.id, 0);
    for i in 0..1000 {
        set(&mut s, "/other", &i.to_string()).unwrap();
    }
    let e = s.watch("/foo", false, false, 3).err().unwrap();
    assert_eq!(
        e,
        err(
            ErrorCode::EventIndexCleared,
            "the requested history has been cleared [4/3]",
            1003
        )
    );
    assert!(s.watch("/foo", false, false, 4).is_ok());
}

#[test]
fn recursive_watch_skips_hidden_and_removed_watchers_are_counted() {
    let mut s = Store::new();
    let mut rec = s.watch("/", true, false, 0).unwrap();
    let mut exact = s.watch("/a/b", false, true, 0).unwrap();
    assert_eq!(s.stats().watchers, 2);
    set(&mut s, "/_h", "x").unwrap();
    assert!(rec.events.try_recv().is_err());
    set(&mut s, "/a/b", "1").unwrap();
    assert_eq!(rec.events.try_recv().unwrap().node.key, "/a/b");
    assert_eq!(exact.events.try_recv().unwrap().index(), 2);
    // The recursive one-shot watcher is gone; the stream stays.
    assert_eq!(s.stats().watchers, 1);
    set(&mut s, "/a/b", "2").unwrap();
    assert_eq!(exact.events.try_recv().unwrap().index(), 3);
    // Deleting the parent directory reaches the watcher of the key below, once.
    op(
        &mut s,
        Op::Delete {
            path: "/a".into(),
            dir: true,
            recursive: true,
        },
    )
    .unwrap();
    assert_eq!(exact.events.try_recv().unwrap().node.key, "/a");
    assert!(exact.events.try_recv().is_err());
    s.unwatch(exact.id);
    assert_eq!(s.stats().watchers, 0);
}

#[test]
fn slow_watcher_is_dropped_instead_of_blocking() {
    let mut s = Store::new();
    let mut w = s.watch("/k", false, true, 0).unwrap();
    for i in 0..(WATCHER_BUFFER + 5) {
        set(&mut s, "/k", &i.to_string()).unwrap();
    }
    assert_eq!(s.stats().watchers, 0);
    let mut n = 0;
    while w.events.try_recv().is_ok() {
        n += 1;
    }
    assert_eq!(n, WATCHER_BUFFER);
}

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
        Some("v")
    );
    assert_eq!(
        json(&r.get("/", true, true, T0).unwrap()),
        json(&s.get("/", true, true, T0).unwrap())
    );
}
