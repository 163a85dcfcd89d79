//! Watches: long polls, every action as an event, `waitIndex` replay from the 1000-event
//! history and its 401, future indexes, recursive watches (not woken by hidden keys), watches
//! below a deleted directory, streams, and the headers a watch answers with.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use etcd_tests::{Api, Server, assert_same};

fn body(s: &str) -> String {
    format!("{s}\n")
}

const LIMIT: Duration = Duration::from_secs(10);

/// A long poll answers with the next change; its X-Etcd-Index is the index when it started.
#[test]
fn long_poll_returns_the_next_change() {
    let d = Server::start();
    let w = d.watch("/v2/keys/foo?wait=true", LIMIT);
    d.wait_watchers(1);
    d.put("/v2/keys/other", &[("value", "x")]);
    d.put("/v2/keys/foo", &[("value", "bar")]);
    let r = w.join().unwrap().expect("watch answered");
    assert_eq!(r.status, 200);
    assert_same!(
        r.body,
        body(
            r#"{"action":"set","node":{"key":"/foo","value":"bar","modifiedIndex":5,"createdIndex":5}}"#
        )
    );
    assert_eq!(r.header("X-Etcd-Index"), Some("3"));
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert!(r.header("X-Etcd-Cluster-Id").is_some());
    for h in ["X-Raft-Index", "X-Raft-Term"] {
        assert!(r.header(h).is_some_and(|v| v.parse::<u64>().is_ok()), "{h}");
    }
    d.wait_watchers(0);
}

/// etcd flushes a long poll's headers at once, before any event.
#[test]
fn long_poll_headers_arrive_before_the_event() {
    let d = Server::start();
    let mut s = std::net::TcpStream::connect(d.client_addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET /v2/keys/x?wait=true HTTP/1.1\r\nHost: {}\r\n\r\n",
        d.client_addr()
    )
    .unwrap();
    let mut got = Vec::new();
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") && start.elapsed() < Duration::from_secs(5) {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&got);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head:?}");
    assert!(head.contains("X-Etcd-Index: 3\r\n"), "{head:?}");
}

/// Each kind of write is an event with its own action; waitIndex replays them one by one.
#[test]
fn every_action_replays_from_history() {
    let d = Server::start();
    d.put("/v2/keys/k", &[("value", "1")]); // 4 set
    d.put("/v2/keys/k?prevExist=true", &[("value", "2")]); // 5 update
    d.put("/v2/keys/k?prevValue=2", &[("value", "3")]); // 6 compareAndSwap
    d.delete("/v2/keys/k?prevValue=3"); // 7 compareAndDelete
    d.put("/v2/keys/k?prevExist=false", &[("value", "4")]); // 8 create
    d.delete("/v2/keys/k"); // 9 delete
    let want = [
        r#"{"action":"set","node":{"key":"/k","value":"1","modifiedIndex":4,"createdIndex":4}}"#,
        r#"{"action":"update","node":{"key":"/k","value":"2","modifiedIndex":5,"createdIndex":4},"prevNode":{"key":"/k","value":"1","modifiedIndex":4,"createdIndex":4}}"#,
        r#"{"action":"compareAndSwap","node":{"key":"/k","value":"3","modifiedIndex":6,"createdIndex":4},"prevNode":{"key":"/k","value":"2","modifiedIndex":5,"createdIndex":4}}"#,
        r#"{"action":"compareAndDelete","node":{"key":"/k","modifiedIndex":7,"createdIndex":4},"prevNode":{"key":"/k","value":"3","modifiedIndex":6,"createdIndex":4}}"#,
        r#"{"action":"create","node":{"key":"/k","value":"4","modifiedIndex":8,"createdIndex":8}}"#,
        r#"{"action":"delete","node":{"key":"/k","modifiedIndex":9,"createdIndex":8},"prevNode":{"key":"/k","value":"4","modifiedIndex":8,"createdIndex":8}}"#,
    ];
    for (i, w) in want.iter().enumerate() {
        let since = 4 + i;
        let r = d.get(&format!("/v2/keys/k?wait=true&waitIndex={since}"));
        assert_eq!(
            (r.status, r.body.as_str()),
            (200, body(w).as_str()),
            "{since}"
        );
        assert_eq!(r.header("X-Etcd-Index"), Some("9"));
    }
    // An index below the first event of this key finds the first one after it.
    let r = d.get("/v2/keys/k?wait=true&waitIndex=1");
    assert_same!(r.body, body(want[0]));
    // The in-order create under a directory and a directory set are events too.
    d.post("/v2/keys/q", &[("value", "job")]); // 10
    d.put("/v2/keys/dir", &[("dir", "true")]); // 11
    let r = d.get("/v2/keys/q?wait=true&waitIndex=10&recursive=true");
    assert_same!(
        r.body,
        body(
            r#"{"action":"create","node":{"key":"/q/00000000000000000010","value":"job","modifiedIndex":10,"createdIndex":10}}"#
        )
    );
    let r = d.get("/v2/keys/dir?wait=true&waitIndex=10");
    assert_same!(
        r.body,
        body(
            r#"{"action":"set","node":{"key":"/dir","dir":true,"modifiedIndex":11,"createdIndex":11}}"#
        )
    );
}

/// A waitIndex beyond the current index waits for that index: earlier changes do not wake it.
#[test]
fn future_wait_index_skips_earlier_changes() {
    let d = Server::start();
    let w = d.watch("/v2/keys/fw?wait=true&waitIndex=6", LIMIT);
    d.wait_watchers(1);
    for v in ["1", "2", "3", "4"] {
        d.put("/v2/keys/fw", &[("value", v)]); // 4, 5, 6, 7
    }
    let r = w.join().unwrap().expect("watch");
    assert_same!(
        r.body,
        body(
            r#"{"action":"set","node":{"key":"/fw","value":"3","modifiedIndex":6,"createdIndex":6},"prevNode":{"key":"/fw","value":"2","modifiedIndex":5,"createdIndex":5}}"#
        )
    );
    assert_eq!(r.header("X-Etcd-Index"), Some("3"));
    // waitIndex=0 means "from the next change", like no waitIndex.
    let w = d.watch("/v2/keys/fw?wait=true&waitIndex=0", LIMIT);
    d.wait_watchers(1);
    d.put("/v2/keys/fw", &[("value", "5")]); // 8
    let r = w.join().unwrap().expect("watch");
    assert_eq!(r.json()["node"]["modifiedIndex"], 8);
}

/// Recursive watches see changes below the directory, but not hidden ones; a plain watch on
/// a directory only sees changes of the directory itself.
#[test]
fn recursive_watches_see_children_but_not_hidden_keys() {
    let d = Server::start();
    let rec = d.watch("/v2/keys/dir?wait=true&recursive=true", LIMIT);
    d.wait_watchers(1);
    d.put("/v2/keys/dir/_hidden", &[("value", "h")]); // 4
    d.put("/v2/keys/dir/sub/x", &[("value", "v")]); // 5
    let r = rec.join().unwrap().expect("watch");
    assert_same!(
        r.body,
        body(
            r#"{"action":"set","node":{"key":"/dir/sub/x","value":"v","modifiedIndex":5,"createdIndex":5}}"#
        )
    );
    // The history scan, unlike live notification, does not skip hidden keys.
    let r = d.get("/v2/keys/dir?wait=true&recursive=true&waitIndex=4");
    assert_eq!(r.json()["node"]["key"], "/dir/_hidden");
    let r = d.get("/v2/keys/dir?wait=true&recursive=true&waitIndex=5");
    assert_eq!(r.json()["node"]["key"], "/dir/sub/x");
    let r = d.get("/v2/keys/dir/_hidden?wait=true&waitIndex=4");
    assert_eq!(r.json()["node"]["key"], "/dir/_hidden");
    // A non-recursive watch on the directory is woken by the directory, not its children.
    let plain = d.watch("/v2/keys/dir?wait=true", LIMIT);
    d.wait_watchers(1);
    d.put("/v2/keys/dir/y", &[("value", "1")]); // 6
    d.put("/v2/keys/dir?prevExist=true&dir=true", &[("ttl", "100")]); // 7
    let r = plain.join().unwrap().expect("watch");
    assert_eq!(r.json()["action"], "update");
    assert_eq!(r.json()["node"]["modifiedIndex"], 7);
    let r = d.get("/v2/keys/?wait=true&recursive=true&waitIndex=5");
    assert_eq!(r.json()["node"]["key"], "/dir/sub/x");
}

/// Deleting a directory wakes the watchers of every key below it with the directory's event.
#[test]
fn deleting_a_parent_wakes_watchers_below_it() {
    let d = Server::start();
    d.put("/v2/keys/wd/sub/k", &[("value", "1")]); // 4
    let on_key = d.watch("/v2/keys/wd/sub/k?wait=true", LIMIT);
    let on_dir = d.watch("/v2/keys/wd?wait=true", LIMIT);
    let on_sub = d.watch("/v2/keys/wd/sub?wait=true&recursive=true", LIMIT);
    d.wait_watchers(3);
    let del = d.delete("/v2/keys/wd?recursive=true"); // 5
    let want = body(
        r#"{"action":"delete","node":{"key":"/wd","dir":true,"modifiedIndex":5,"createdIndex":4},"prevNode":{"key":"/wd","dir":true,"modifiedIndex":4,"createdIndex":4}}"#,
    );
    assert_eq!(del.body, want);
    for w in [on_key, on_dir, on_sub] {
        let r = w.join().unwrap().expect("watch");
        assert_eq!(r.body, want);
        assert_eq!(r.header("X-Etcd-Index"), Some("4"));
    }
    // From history: a key below (even one that never existed) sees the parent's delete.
    for p in [
        "/v2/keys/wd/sub/k?wait=true&waitIndex=5",
        "/v2/keys/wd/sub/k/deeper?wait=true&waitIndex=5",
        "/v2/keys/wd/sub?wait=true&waitIndex=4",
    ] {
        assert_eq!(d.get(p).body, want, "{p}");
    }
    // The key's own history still has its set.
    let r = d.get("/v2/keys/wd/sub/k?wait=true&waitIndex=4");
    assert_eq!(r.json()["action"], "set");
}

/// stream=true sends one JSON line per event and skips hidden keys in recursive streams;
/// with a waitIndex in the history its first line is the replayed event.
/// (Real etcd then sends nothing more on that stream: its hub hands a replayed event to the
/// watcher without registering it. That is a bug and is not asserted.)
#[test]
fn streams_send_one_line_per_event() {
    use std::io::BufRead;
    let d = Server::start();
    d.put("/v2/keys/st", &[("value", "a")]); // 4
    let url = d.url("/v2/keys/st?wait=true&stream=true");
    let rurl = d.url("/v2/keys/sd?wait=true&stream=true&recursive=true");
    let reader = |url: String, n: usize, idx: &'static str| {
        std::thread::spawn(move || {
            let resp = reqwest::blocking::Client::builder()
                .no_proxy()
                .timeout(LIMIT)
                .build()
                .unwrap()
                .get(url)
                .send()
                .expect("stream");
            assert_eq!(resp.headers()["x-etcd-index"], idx);
            let mut lines = std::io::BufReader::new(resp).lines();
            (0..n)
                .map(|_| lines.next().expect("line").expect("read"))
                .collect::<Vec<_>>()
        })
    };
    let s1 = reader(url, 2, "4");
    let s2 = reader(rurl, 2, "4");
    d.wait_watchers(2);
    d.put("/v2/keys/st", &[("value", "b")]); // 5
    d.put("/v2/keys/sd/_h", &[("value", "h")]); // 6
    d.put("/v2/keys/sd/x", &[("value", "x")]); // 7
    d.delete("/v2/keys/st"); // 8
    d.put("/v2/keys/sd/y", &[("value", "y")]); // 9
    assert_eq!(
        s1.join().unwrap(),
        [
            r#"{"action":"set","node":{"key":"/st","value":"b","modifiedIndex":5,"createdIndex":5},"prevNode":{"key":"/st","value":"a","modifiedIndex":4,"createdIndex":4}}"#,
            r#"{"action":"delete","node":{"key":"/st","modifiedIndex":8,"createdIndex":5},"prevNode":{"key":"/st","value":"b","modifiedIndex":5,"createdIndex":5}}"#,
        ]
    );
    assert_eq!(
        s2.join().unwrap(),
        [
            r#"{"action":"set","node":{"key":"/sd/x","value":"x","modifiedIndex":7,"createdIndex":7}}"#,
            r#"{"action":"set","node":{"key":"/sd/y","value":"y","modifiedIndex":9,"createdIndex":9}}"#,
        ]
    );
    d.wait_watchers(0);
    let replay = reader(
        d.url("/v2/keys/st?wait=true&stream=true&waitIndex=4"),
        1,
        "9",
    );
    assert_eq!(
        replay.join().unwrap(),
        [r#"{"action":"set","node":{"key":"/st","value":"a","modifiedIndex":4,"createdIndex":4}}"#]
    );
}

/// The history holds the last 1000 events; older indexes answer 401 (with HTTP 400).
#[test]
fn history_holds_1000_events_then_401() {
    let d = Server::start();
    for i in 0..1005u32 {
        let r = d.put("/v2/keys/h", &[("value", &i.to_string())]); // 4 ..= 1008
        assert_eq!(r.status / 100, 2);
    }
    let r = d.get("/v2/keys/h?wait=true&waitIndex=9");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["node"]["modifiedIndex"], 9);
    for since in [8u64, 4, 1] {
        let r = d.get(&format!("/v2/keys/h?wait=true&waitIndex={since}"));
        assert_eq!(
            (r.status, r.body.as_str()),
            (
                400,
                body(&format!(
                    r#"{{"errorCode":401,"message":"The event in requested index is outdated and cleared","cause":"the requested history has been cleared [9/{since}]","index":1008}}"#
                ))
                .as_str()
            ),
            "waitIndex={since}"
        );
        assert_eq!(r.header("X-Etcd-Index"), Some("1008"));
    }
    // Without waitIndex a watch is not affected.
    let w = d.watch("/v2/keys/h?wait=true", LIMIT);
    d.wait_watchers(1);
    d.put("/v2/keys/h", &[("value", "last")]);
    assert_eq!(
        w.join().unwrap().expect("watch").json()["node"]["value"],
        "last"
    );
}

/// TTL refreshes do not wake watchers; expiry does.
#[test]
fn refresh_does_not_wake_watchers_but_expiry_does() {
    let d = Server::start();
    d.put("/v2/keys/r", &[("value", "v"), ("ttl", "100")]); // 4
    let w = d.watch("/v2/keys/r?wait=true", LIMIT);
    d.wait_watchers(1);
    let r = d.put("/v2/keys/r?refresh=true", &[("ttl", "1")]); // 5
    assert_eq!(r.status, 200);
    let r = w.join().unwrap().expect("watch");
    assert_eq!(r.json()["action"], "expire");
    assert_eq!(r.json()["node"]["modifiedIndex"], 6);
    assert_eq!(r.json()["prevNode"]["value"], "v");
    // The refresh spent index 5 but is not in the history either.
    let r = d.get("/v2/keys/r?wait=true&waitIndex=5");
    assert_eq!(r.json()["action"], "expire");
    assert_eq!(r.json()["node"]["modifiedIndex"], 6);
}
