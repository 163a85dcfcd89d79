//! Any bytes, read as up to eight requests (method, query, form body, key path), go through the
//! one request parser and, when they parse, into one store as commands, reads and watches.
//! Nothing may panic; the etcd index moves by exactly one per successful write and not at all
//! on a failed one; a snapshot restored into a fresh store lists the same tree.
//!
//! Input layout: requests separated by 0xFE; in each, the first byte picks the method (and
//! whether the body is sent as a form), the rest is `query \0 body \0 key`.
#![no_main]

use etcd::http::form::{Body, Method, parse_form};
use etcd::http::request::KeyRequest;
use etcd::store::{Command, Op, Store};
use libfuzzer_sys::fuzz_target;

const METHODS: [Method; 5] = [
    Method::Get,
    Method::Head,
    Method::Put,
    Method::Post,
    Method::Delete,
];
const NOW: i64 = 1_800_000_000_000_000_000;
const FORM: &str = "application/x-www-form-urlencoded";

fn seeded() -> Store {
    let mut store = Store::new();
    // A little state so that compare, delete and update paths are reached from the start.
    for seed in ["/a/b", "/c", "/_h"] {
        let form = parse_form(Method::Put, None, Some(FORM), Body::Read(b"value=v"))
            .expect("seed form");
        let Ok(KeyRequest::Write(w)) = KeyRequest::parse(Method::Put, seed, form) else {
            panic!("a PUT is a write");
        };
        let cmd = w.into_command(NOW);
        store.apply(cmd).expect("seed write");
    }
    store
}

fn request(store: &mut Store, chunk: &[u8], now: i64) {
    let Some((&m, rest)) = chunk.split_first() else {
        return;
    };
    let method = METHODS[m as usize % METHODS.len()];
    let content_type = if (m as usize / METHODS.len()) % 4 == 3 {
        None
    } else {
        Some(FORM)
    };
    let text = String::from_utf8_lossy(rest);
    let mut parts = text.splitn(3, '\u{0}');
    let (query, body, key) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let Ok(form) = parse_form(method, Some(query), content_type, Body::Read(body.as_bytes()))
    else {
        return;
    };
    let Ok(req) = KeyRequest::parse(method, key, form) else {
        return;
    };
    match req {
        KeyRequest::Write(w) => {
            let key = w.key().to_vec();
            let cmd = w.into_command(now);
            let before = store.index();
            match store.apply(cmd.clone()) {
                Ok(Some(e)) => {
                    assert_eq!(store.index(), before + 1, "{cmd}");
                    assert_eq!(e.etcd_index, store.index(), "{cmd}");
                }
                Ok(None) => unreachable!("only Op::Expire answers nobody: {cmd}"),
                Err(e) => {
                    assert_eq!(store.index(), before, "{cmd}: {e:?}");
                    assert_eq!(e.index, before, "{cmd}: {e:?}");
                }
            }
            let _ = store.get(&key, true, true, now);
        }
        KeyRequest::Get {
            key,
            recursive,
            sorted,
            ..
        } => {
            let _ = store.get(&key, recursive, sorted, now);
        }
        KeyRequest::Watch {
            key,
            recursive,
            stream,
            wait_index,
        } => {
            if let Ok(w) = store.watch(&key, recursive, stream, wait_index) {
                store.unwatch(w.id);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut store = seeded();
    let mut now = NOW;
    for chunk in data.split(|b| *b == 0xFE).take(8) {
        request(&mut store, chunk, now);
        now += 700_000_000;
    }
    let before = store.index();
    let _ = store.apply(Command {
        now: now + (1 << 40),
        op: Op::Expire,
    });
    assert!(store.index() >= before);
    let listing = |s: &Store| s.get("/", true, true, now).map(|e| e.node);
    let mut snapshot = Vec::new();
    store.write_snapshot(&mut snapshot).expect("snapshot");
    let mut restored = Store::new();
    restored
        .restore(&snapshot)
        .expect("restore of our own snapshot");
    assert_eq!(restored.index(), store.index());
    assert_eq!(listing(&restored), listing(&store));
});
