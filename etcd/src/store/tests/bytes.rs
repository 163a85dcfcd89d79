//! Keys and values are bytes: invalid UTF-8 never merges two keys or two values, and data
//! written before keys were bytes (plain JSON strings) still loads.

use super::*;
use crate::store::ByteStr;

fn b(x: &[u8]) -> ByteStr {
    ByteStr::from(x)
}

fn put(s: &mut Store, k: &[u8], v: &[u8]) -> Result<Arc<Event>, EtcdError> {
    op(
        s,
        Op::Set {
            path: k.into(),
            dir: false,
            value: v.into(),
            expire_at: None,
            refresh: false,
        },
    )
}

fn value(s: &Store, k: &[u8]) -> Option<ByteStr> {
    s.get(k, false, false, T0).ok()?.node.value
}

#[test]
fn keys_differing_only_in_invalid_bytes_are_two_keys() {
    let mut s = Store::new();
    put(&mut s, b"/k\xFE", b"\xFE").unwrap();
    put(&mut s, b"/k\xFF", b"\xFF").unwrap();
    assert_eq!(value(&s, b"/k\xFE"), Some(b(b"\xFE")));
    assert_eq!(value(&s, b"/k\xFF"), Some(b(b"\xFF")));
    assert_eq!(value(&s, "/k\u{FFFD}".as_bytes()), None);
    let listing = s.get("/", true, true, T0).unwrap().node.nodes.unwrap();
    let keys: Vec<_> = listing.iter().map(|n| n.key.clone()).collect();
    assert_eq!(keys, [b(b"/k\xFE"), b(b"/k\xFF")]);
}

#[test]
fn compare_and_swap_compares_bytes_and_the_cause_marks_invalid_bytes() {
    let mut s = Store::new();
    put(&mut s, b"/k", b"\xFE").unwrap();
    let cas = |s: &mut Store, prev: &[u8]| {
        op(
            s,
            Op::CompareAndSwap {
                path: "/k".into(),
                prev_value: prev.into(),
                prev_index: 0,
                value: "new".into(),
                expire_at: None,
                refresh: false,
            },
        )
    };
    let e = cas(&mut s, b"\xFF").unwrap_err();
    assert_eq!(e.code, ErrorCode::TestFailed);
    assert_eq!(
        crate::store::bytes::cause_bytes(&e.cause),
        b(b"[\xFF != \xFF]")
    );
    assert_ne!(e.cause, "[\u{FFFD} != \u{FFFD}]");
    cas(&mut s, b"\xFE").unwrap();
    let cad = op(
        &mut s,
        Op::CompareAndDelete {
            path: "/k".into(),
            prev_value: b(b"\xFF"),
            prev_index: 0,
        },
    );
    assert_eq!(cad.unwrap_err().code, ErrorCode::TestFailed);
}

#[test]
fn a_watch_on_one_key_is_not_woken_by_its_lossy_twin() {
    let mut s = Store::new();
    let mut w = s.watch(b"/k\xFE", false, false, 0).unwrap();
    put(&mut s, b"/k\xFF", b"v").unwrap();
    assert!(w.events.try_recv().is_err());
    put(&mut s, b"/k\xFE", b"v").unwrap();
    assert_eq!(w.events.try_recv().unwrap().node.key, b(b"/k\xFE"));
    // History answers by bytes too.
    let mut past = s.watch(b"/k\xFF", false, false, 1).unwrap();
    assert_eq!(past.events.try_recv().unwrap().index(), 1);
    let mut none = s.watch(b"/k\xFD", false, false, 1).unwrap();
    assert!(none.events.try_recv().is_err());
}

#[test]
fn invalid_bytes_survive_a_snapshot_with_their_history() {
    let mut s = Store::new();
    put(&mut s, b"/d\xE2\x82/k\xFE", b"v\xFF").unwrap();
    put(&mut s, b"/d\xE2\x82/k\xFF", b"w").unwrap();
    let mut r = Store::new();
    r.restore(&s.to_snapshot().unwrap()).unwrap();
    assert_eq!(value(&r, b"/d\xE2\x82/k\xFE"), Some(b(b"v\xFF")));
    assert_eq!(value(&r, b"/d\xE2\x82/k\xFF"), Some("w".into()));
    let mut w = r.watch(b"/d\xE2\x82/k\xFE", false, false, 1).unwrap();
    assert_eq!(w.events.try_recv().unwrap().node.value, Some(b(b"v\xFF")));
}

/// A snapshot as the store wrote it when keys were `String`s: plain JSON strings throughout.
#[test]
fn a_snapshot_in_the_old_string_format_still_loads() {
    let old = r#"{"version":2,"nodes":[{"path":"/a","created_index":1,"modified_index":1,"expire_at":null,"value":null},{"path":"/a/é","created_index":2,"modified_index":2,"expire_at":null,"value":"v\ufffd"}],"current_index":2,"history":{"events":[{"action":"set","node":{"key":"/a/é","value":"v\ufffd","modifiedIndex":2,"createdIndex":2},"prev_node":null,"etcd_index":2,"refresh":false}],"start_index":0},"removed_members":[]}"#;
    let mut s = Store::new();
    s.restore(old.as_bytes()).unwrap();
    assert_eq!(value(&s, "/a/é".as_bytes()), Some("v\u{FFFD}".into()));
    let mut w = s.watch("/a/é", false, false, 2).unwrap();
    assert_eq!(w.events.try_recv().unwrap().node.key, ByteStr::from("/a/é"));
    // And it is written back in the same form.
    let again = String::from_utf8(s.to_snapshot().unwrap()).unwrap();
    assert!(again.contains(r#""path":"/a/é""#), "{again}");
    assert!(again.contains(r#""value":"v�""#), "{again}");
}

/// A log entry as proposed when keys were `String`s decodes; a valid one encodes the same.
#[test]
fn a_command_in_the_old_string_format_still_decodes() {
    let old = r#"{"now":5,"op":{"CompareAndSwap":{"path":"/k","prev_value":"a","prev_index":0,"value":"b","expire_at":null,"refresh":false}}}"#;
    let cmd: Command = serde_json::from_str(old).unwrap();
    assert_eq!(serde_json::to_string(&cmd).unwrap(), old);
    let odd = Command {
        now: 5,
        op: Op::Set {
            path: b(b"/k\xFE"),
            dir: false,
            value: b(b"\xFF"),
            expire_at: None,
            refresh: false,
        },
    };
    let back: Command = serde_json::from_slice(&serde_json::to_vec(&odd).unwrap()).unwrap();
    assert_eq!(back, odd);
}
