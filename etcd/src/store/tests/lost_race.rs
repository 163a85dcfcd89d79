//! `Store::settled_failure`: a compare it settles fails the same way through the log, now and
//! after any later write; what it cannot be sure of it leaves to the log.

use super::*;

fn cas(k: &str, prev_value: &str, prev_index: u64) -> Op {
    Op::CompareAndSwap {
        path: k.into(),
        prev_value: prev_value.into(),
        prev_index,
        value: "new".into(),
        expire_at: None,
        refresh: false,
    }
}

fn cad(k: &str, prev_index: u64) -> Op {
    Op::CompareAndDelete {
        path: k.into(),
        prev_value: "".into(),
        prev_index,
    }
}

/// Settles `o` and checks that applying it instead fails with the same error.
fn settled_as_applied(s: &mut Store, o: Op) -> EtcdError {
    let settled = s.settled_failure(&o).expect("settled");
    let applied = op(s, o).expect_err("fails through the log too");
    assert_eq!(settled, applied);
    settled
}

#[test]
fn a_passed_index_fails_now_and_after_any_later_write() {
    let mut s = Store::new();
    let first = set(&mut s, "/k", "a").unwrap().node.modified_index;
    set(&mut s, "/k", "b").unwrap();
    let e = settled_as_applied(&mut s, cas("/k", "", first));
    assert_eq!(e, err(ErrorCode::TestFailed, &format!("[{first} != 2]"), 2));
    settled_as_applied(&mut s, cad("/k", first));
    // Removed, then created again: the new key has a new index, never the old one.
    op(
        &mut s,
        Op::Delete {
            path: "/k".into(),
            dir: false,
            recursive: false,
        },
    )
    .unwrap();
    let e = settled_as_applied(&mut s, cas("/k", "", first));
    assert_eq!(e.code, ErrorCode::KeyNotFound);
    set(&mut s, "/k", "c").unwrap();
    settled_as_applied(&mut s, cas("/k", "", first));
}

#[test]
fn what_may_still_succeed_or_is_not_a_file_is_left_to_the_log() {
    let mut s = Store::new();
    let at = set(&mut s, "/k", "a").unwrap().node.modified_index;
    set(&mut s, "/other", "x").unwrap();
    // The index matches: the swap succeeds.
    assert!(s.settled_failure(&cas("/k", "", at)).is_none());
    // A value can come back; an index above the store's can still be reached; 0 compares
    // nothing.
    assert!(s.settled_failure(&cas("/k", "z", at + 1)).is_none());
    assert!(s.settled_failure(&cas("/k", "", 100)).is_none());
    assert!(s.settled_failure(&cas("/k", "", 0)).is_none());
    // Directories, the root and a path through a file answer other errors in apply.
    mkdir(&mut s, "/d");
    assert!(s.settled_failure(&cas("/d", "", 1)).is_none());
    assert!(s.settled_failure(&cas("/", "", 1)).is_none());
    assert!(s.settled_failure(&cas("/k/below", "", 1)).is_none());
    // Other writes are never settled.
    let plain = Op::Update {
        path: "/k".into(),
        value: "v".into(),
        expire_at: None,
        refresh: false,
    };
    assert!(s.settled_failure(&plain).is_none());
}

#[test]
fn a_settled_failure_is_counted_once_and_moves_nothing() {
    let mut s = Store::new();
    let first = set(&mut s, "/k", "a").unwrap().node.modified_index;
    set(&mut s, "/k", "b").unwrap();
    let before = s.current_index;
    assert!(s.settled_failure(&cas("/k", "", first)).is_some());
    assert_eq!(s.current_index, before);
    assert_eq!(s.stats().compare_and_swap_fail, 1);
    assert!(s.settled_failure(&cad("/k", first)).is_some());
    assert_eq!(s.stats().compare_and_delete_fail, 1);
}
