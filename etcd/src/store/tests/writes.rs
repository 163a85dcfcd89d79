//! Writes and reads: set, create, update, compare-and-swap, delete, get.

use super::*;

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
        json(&g),
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
        Some(b"h".as_slice())
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
    mkdir(&mut s, "/d");
    // setting a dir over a dir is 102
    assert_eq!(
        op(
            &mut s,
            Op::Set {
                path: "/d".into(),
                dir: true,
                value: "".into(),
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
