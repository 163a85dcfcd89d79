//! Any bytes, read as a request (method, query, form body, key path), go through the one
//! request parser and, when they parse, into the store as a command, a read and a watch.
//! Nothing may panic; every error must be an etcd error.
#![no_main]

use etcd::http::params::{KeyRequest, Method, parse_form};
use etcd::store::Store;
use libfuzzer_sys::fuzz_target;

const METHODS: [Method; 5] = [Method::Get, Method::Head, Method::Put, Method::Post, Method::Delete];
const NOW: i64 = 1_800_000_000_000_000_000;

fuzz_target!(|data: &[u8]| {
    let Some((&m, rest)) = data.split_first() else { return };
    let method = METHODS[m as usize % METHODS.len()];
    let text = String::from_utf8_lossy(rest);
    let mut parts = text.splitn(3, '\u{0}');
    let (query, body, key) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let mut store = Store::new();
    // A little state so that compare, delete and update paths are reached too.
    for seed in ["/a/b", "/c", "/_h"] {
        let form = parse_form(Method::Put, None, Some("application/x-www-form-urlencoded"), b"value=v").unwrap();
        let req = KeyRequest::parse(Method::Put, seed, &form).unwrap();
        let _ = store.apply(&req.to_command(NOW).unwrap());
    }
    let Ok(form) = parse_form(method, Some(query), Some("application/x-www-form-urlencoded"), body.as_bytes()) else {
        return;
    };
    let Ok(req) = KeyRequest::parse(method, key, &form) else { return };
    if let Some(cmd) = req.to_command(NOW) {
        let _ = store.apply(&cmd);
        let _ = store.apply(&etcd::store::Command { now: NOW + (1 << 40), op: etcd::store::Op::Expire });
    }
    let _ = store.get(&req.key, req.recursive, req.sorted, NOW);
    if let Ok(w) = store.watch(&req.key, req.recursive, req.stream, req.wait_index) {
        store.unwatch(w.id);
    }
    let snapshot = store.to_snapshot().unwrap();
    let mut restored = Store::new();
    restored.restore(&snapshot).unwrap();
    assert_eq!(restored.index(), store.index());
});
