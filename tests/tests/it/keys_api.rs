//! The v2 keys API, example by example from the reference documents, with exact bodies,
//! statuses and headers (a fresh member's first write gets index 4, as on real etcd).

use std::time::{Duration, Instant};

use etcd_tests::{Api, Server, assert_same, request_raw, wait_for};

fn body(s: &str) -> String {
    format!("{s}\n")
}

#[test]
fn set_get_update_delete_with_prev_node() {
    let d = Server::start();
    let r = d.put("/v2/keys/message", &[("value", "Hello world")]);
    assert_eq!(r.status, 201);
    assert_same!(
        r.body,
        body(
            r#"{"action":"set","node":{"key":"/message","value":"Hello world","modifiedIndex":4,"createdIndex":4}}"#
        )
    );
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert_eq!(r.header("X-Etcd-Index"), Some("4"));
    for h in ["X-Raft-Index", "X-Raft-Term"] {
        let v = r.header(h).unwrap_or_else(|| panic!("{h} missing"));
        assert!(v.parse::<u64>().is_ok(), "{h}: {v}");
    }
    // Go's strconv.FormatUint(id, 16): lower-case hex without leading zeros, so one cluster id
    // in sixteen prints with fewer than 16 digits.
    let id = r.header("X-Etcd-Cluster-Id").expect("X-Etcd-Cluster-Id");
    let parsed = u64::from_str_radix(id, 16).unwrap_or_else(|e| panic!("{id}: {e}"));
    assert_eq!(format!("{parsed:x}"), id);

    let r = d.get("/v2/keys/message");
    assert_eq!(r.status, 200);
    assert_same!(
        r.body,
        body(
            r#"{"action":"get","node":{"key":"/message","value":"Hello world","modifiedIndex":4,"createdIndex":4}}"#
        )
    );
    let r = d.put("/v2/keys/message", &[("value", "Hello etcd")]);
    assert_eq!(r.status, 200);
    assert_same!(
        r.body,
        body(
            r#"{"action":"set","node":{"key":"/message","value":"Hello etcd","modifiedIndex":5,"createdIndex":5},"prevNode":{"key":"/message","value":"Hello world","modifiedIndex":4,"createdIndex":4}}"#
        )
    );
    let r = d.delete("/v2/keys/message");
    assert_same!(
        r.body,
        body(
            r#"{"action":"delete","node":{"key":"/message","modifiedIndex":6,"createdIndex":5},"prevNode":{"key":"/message","value":"Hello etcd","modifiedIndex":5,"createdIndex":5}}"#
        )
    );
    let r = d.get("/v2/keys/message");
    assert_eq!(r.status, 404);
    assert_same!(
        r.body,
        body(r#"{"errorCode":100,"message":"Key not found","cause":"/message","index":6}"#)
    );
    assert_eq!(r.header("X-Etcd-Index"), Some("6"));
}

#[test]
fn ttl_unset_and_refresh() {
    let d = Server::start();
    let r = d
        .put("/v2/keys/foo", &[("value", "bar"), ("ttl", "5")])
        .json();
    assert_eq!(r["node"]["ttl"], 5);
    let exp = r["node"]["expiration"].as_str().unwrap().to_string();
    assert!(
        exp.ends_with('Z') && exp.contains('T') && exp.len() >= 20,
        "{exp}"
    );
    // Refresh: same value, new deadline, update action, no watcher woken. The watcher must be
    // registered before the refresh, or it would see the later update whatever refresh did.
    let watcher = d.watch("/v2/keys/foo?wait=true", Duration::from_secs(30));
    d.wait_watchers(1);
    let r = d.put("/v2/keys/foo?refresh=true&prevExist=true", &[("ttl", "7")]);
    assert_eq!(r.status, 200);
    assert_eq!(d.watchers(), 1, "the refresh woke the watcher");
    let j = r.json();
    assert_eq!(j["action"], "update");
    assert_eq!(j["node"]["value"], "bar");
    assert_eq!(j["node"]["ttl"], 7);
    assert_eq!(j["prevNode"]["expiration"].as_str(), Some(exp.as_str()));
    // Unset the TTL through an update.
    let r = d.put(
        "/v2/keys/foo",
        &[("value", "bar"), ("ttl", ""), ("prevExist", "true")],
    );
    assert_same!(
        r.body,
        body(r#"{"action":"update","node":{"key":"/foo","value":"bar","modifiedIndex":6,"createdIndex":4},"prevNode":{"key":"/foo","value":"bar","expiration":"EXP","ttl":7,"modifiedIndex":5,"createdIndex":4}}"#)
            .replace("EXP", j["node"]["expiration"].as_str().unwrap())
            .replace("\"ttl\":7", &format!("\"ttl\":{}", r.json()["prevNode"]["ttl"]))
    );
    // The watcher saw the update at 6, not the refresh at 5.
    let seen = watcher.join().unwrap().expect("watch").json();
    assert_eq!(seen["node"]["modifiedIndex"], 6);
}

#[test]
fn keys_expire_with_an_expire_event() {
    let d = Server::start();
    d.put("/v2/keys/dir", &[("dir", "true"), ("ttl", "1")]);
    d.put("/v2/keys/dir/k", &[("value", "v")]);
    let started = Instant::now();
    let r = d.get("/v2/keys/dir/k?wait=true");
    let j = r.json();
    assert_eq!(j["action"], "expire");
    assert_eq!(j["node"]["key"], "/dir");
    assert_eq!(j["node"]["dir"], true);
    assert_eq!(j["node"]["modifiedIndex"], 6);
    assert_eq!(j["prevNode"]["key"], "/dir");
    assert!(started.elapsed() < Duration::from_secs(5));
    let r = d.get("/v2/keys/dir/k");
    assert_same!(
        r.body,
        body(r#"{"errorCode":100,"message":"Key not found","cause":"/dir","index":6}"#)
    );
    let stats = d.get("/v2/stats/store").json();
    assert_eq!(stats["expireCount"], 1);
}

#[test]
fn in_order_keys_and_sorted_listing() {
    let d = Server::start();
    let r = d.post("/v2/keys/queue", &[("value", "Job1")]);
    assert_eq!(r.status, 201);
    assert_same!(
        r.body,
        body(
            r#"{"action":"create","node":{"key":"/queue/00000000000000000004","value":"Job1","modifiedIndex":4,"createdIndex":4}}"#
        )
    );
    d.post("/v2/keys/queue", &[("value", "Job2")]);
    let r = d.get("/v2/keys/queue?recursive=true&sorted=true");
    assert_same!(
        r.body,
        body(
            r#"{"action":"get","node":{"key":"/queue","dir":true,"nodes":[{"key":"/queue/00000000000000000004","value":"Job1","modifiedIndex":4,"createdIndex":4},{"key":"/queue/00000000000000000005","value":"Job2","modifiedIndex":5,"createdIndex":5}],"modifiedIndex":4,"createdIndex":4}}"#
        )
    );
}

#[test]
fn compare_and_swap_and_compare_and_delete() {
    let d = Server::start();
    d.put("/v2/keys/foo", &[("value", "one")]);
    let r = d.put("/v2/keys/foo?noValueOnSuccess=true", &[("value", "one")]);
    assert_same!(r.body, body(r#"{"action":"set"}"#));
    let r = d.put("/v2/keys/foo?prevExist=false", &[("value", "three")]);
    assert_eq!(r.status, 412);
    assert_same!(
        r.body,
        body(r#"{"errorCode":105,"message":"Key already exists","cause":"/foo","index":5}"#)
    );
    let r = d.put("/v2/keys/foo?prevValue=two", &[("value", "three")]);
    assert_eq!(r.status, 412);
    assert_same!(
        r.body,
        body(r#"{"errorCode":101,"message":"Compare failed","cause":"[two != one]","index":5}"#)
    );
    let r = d.put("/v2/keys/foo?prevValue=one", &[("value", "two")]);
    assert_same!(
        r.body,
        body(
            r#"{"action":"compareAndSwap","node":{"key":"/foo","value":"two","modifiedIndex":6,"createdIndex":5},"prevNode":{"key":"/foo","value":"one","modifiedIndex":5,"createdIndex":5}}"#
        )
    );
    let r = d.delete("/v2/keys/foo?prevIndex=1");
    assert_same!(
        r.body,
        body(r#"{"errorCode":101,"message":"Compare failed","cause":"[1 != 6]","index":6}"#)
    );
    let r = d.delete("/v2/keys/foo?prevValue=two");
    assert_same!(
        r.body,
        body(
            r#"{"action":"compareAndDelete","node":{"key":"/foo","modifiedIndex":7,"createdIndex":5},"prevNode":{"key":"/foo","value":"two","modifiedIndex":6,"createdIndex":5}}"#
        )
    );
}

#[test]
fn directories_hidden_keys_and_their_errors() {
    let d = Server::start();
    let r = d.put("/v2/keys/dir", &[("dir", "true")]);
    assert_same!(
        r.body,
        body(
            r#"{"action":"set","node":{"key":"/dir","dir":true,"modifiedIndex":4,"createdIndex":4}}"#
        )
    );
    d.put("/v2/keys/foo_dir/foo", &[("value", "bar")]);
    d.put("/v2/keys/_message", &[("value", "Hello hidden world")]);
    let r = d.get("/v2/keys/?recursive=true&sorted=true");
    assert_same!(
        r.body,
        body(
            r#"{"action":"get","node":{"dir":true,"nodes":[{"key":"/dir","dir":true,"modifiedIndex":4,"createdIndex":4},{"key":"/foo_dir","dir":true,"nodes":[{"key":"/foo_dir/foo","value":"bar","modifiedIndex":5,"createdIndex":5}],"modifiedIndex":5,"createdIndex":5}]}}"#
        )
    );
    assert_eq!(
        d.get("/v2/keys/_message").json()["node"]["value"],
        "Hello hidden world"
    );
    let cases: &[(&str, &str, u16, &str)] = &[
        (
            "DELETE",
            "/v2/keys/foo_dir",
            403,
            r#"{"errorCode":102,"message":"Not a file","cause":"/foo_dir","index":6}"#,
        ),
        (
            "DELETE",
            "/v2/keys/foo_dir?dir=true",
            403,
            r#"{"errorCode":108,"message":"Directory not empty","cause":"/foo_dir","index":6}"#,
        ),
        (
            "GET",
            "/v2/keys/foo_dir/foo/x",
            400,
            r#"{"errorCode":104,"message":"Not a directory","cause":"/foo_dir/foo","index":6}"#,
        ),
        (
            "PUT",
            "/v2/keys/",
            400,
            r#"{"errorCode":107,"message":"Root is read only","cause":"/","index":6}"#,
        ),
        (
            "DELETE",
            "/v2/keys/?recursive=true",
            400,
            r#"{"errorCode":107,"message":"Root is read only","cause":"/","index":6}"#,
        ),
    ];
    for (m, p, status, want) in cases {
        let r = d.request(m, p, None);
        assert_eq!(
            (r.status, r.body.as_str()),
            (*status, body(want).as_str()),
            "{m} {p}"
        );
    }
    let r = d.delete("/v2/keys/dir?dir=true");
    assert_same!(
        r.body,
        body(
            r#"{"action":"delete","node":{"key":"/dir","dir":true,"modifiedIndex":7,"createdIndex":4},"prevNode":{"key":"/dir","dir":true,"modifiedIndex":4,"createdIndex":4}}"#
        )
    );
    let r = d.delete("/v2/keys/foo_dir?recursive=true");
    assert_eq!(r.status, 200);
}

#[test]
// Over 80 lines on purpose: a table of requests and expected answers, read top to bottom.
fn request_errors_match_etcd() {
    let d = Server::start();
    let cases: &[(&str, &str, u16, &str)] = &[
        (
            "PUT",
            "/v2/keys/x?ttl=abc",
            400,
            r#"{"errorCode":202,"message":"The given TTL in POST form is not a number","cause":"invalid value for \"ttl\"","index":0}"#,
        ),
        (
            "PUT",
            "/v2/keys/x?prevIndex=abc",
            400,
            r#"{"errorCode":203,"message":"The given index in POST form is not a number","cause":"invalid value for \"prevIndex\"","index":0}"#,
        ),
        (
            "GET",
            "/v2/keys/x?wait=true&waitIndex=-1",
            400,
            r#"{"errorCode":203,"message":"The given index in POST form is not a number","cause":"invalid value for \"waitIndex\"","index":0}"#,
        ),
        (
            "GET",
            "/v2/keys/x?recursive=yes",
            400,
            r#"{"errorCode":209,"message":"Invalid field","cause":"invalid value for \"recursive\"","index":0}"#,
        ),
        (
            "PUT",
            "/v2/keys/x?wait=true",
            400,
            r#"{"errorCode":209,"message":"Invalid field","cause":"\"wait\" can only be used with GET requests","index":0}"#,
        ),
        (
            "PUT",
            "/v2/keys/x?prevValue=",
            400,
            r#"{"errorCode":201,"message":"PrevValue is Required in POST form","cause":"\"prevValue\" cannot be empty","index":0}"#,
        ),
        (
            "PUT",
            "/v2/keys/x?refresh=true&ttl=5&value=v",
            400,
            r#"{"errorCode":211,"message":"Value provided on refresh","cause":"A value was provided on a refresh","index":0}"#,
        ),
        (
            "PUT",
            "/v2/keys/x?refresh=true",
            400,
            r#"{"errorCode":212,"message":"A TTL must be provided on refresh","cause":"No TTL value set","index":0}"#,
        ),
        (
            "PUT",
            "/v2/keys/x?prevExist=maybe",
            400,
            r#"{"errorCode":209,"message":"Invalid field","cause":"invalid value for prevExist","index":0}"#,
        ),
        (
            "GET",
            "/v2/keys/x?a=%zz",
            400,
            r#"{"errorCode":210,"message":"Invalid POST form","cause":"invalid URL escape \"%zz\"","index":0}"#,
        ),
        (
            "GET",
            "/v2/keys/x?wait=true&waitIndex=1&stream=nope",
            400,
            r#"{"errorCode":209,"message":"Invalid field","cause":"invalid value for \"stream\"","index":0}"#,
        ),
    ];
    for (m, p, status, want) in cases {
        let r = d.request(m, p, None);
        assert_eq!(
            (r.status, r.body.as_str()),
            (*status, body(want).as_str()),
            "{m} {p}"
        );
        assert_eq!(r.header("X-Etcd-Index"), Some("0"));
    }
    let r = d.request("PATCH", "/v2/keys/x", None);
    assert_eq!((r.status, r.body.as_str()), (405, "Method Not Allowed\n"));
    assert_eq!(r.header("Allow"), Some("HEAD,GET,PUT,POST,DELETE"));
    // A form body over Go's 10 MiB limit.
    let mut big = b"value=".to_vec();
    big.resize(10 * 1024 * 1024 + 10, b'x');
    let r = request_raw(
        "PUT",
        &d.url("/v2/keys/big"),
        "application/x-www-form-urlencoded",
        big,
    );
    assert_eq!(
        (r.status, r.body.as_str()),
        (400, body(r#"{"errorCode":210,"message":"Invalid POST form","cause":"http: POST too large","index":0}"#).as_str())
    );
    // Non-canonical paths are redirected, as Go's ServeMux does.
    let r = d.get("/v2/keys/a//b");
    assert_eq!(
        (r.status, r.header("Location")),
        (301, Some("/v2/keys/a/b"))
    );
    // Odd bytes in keys and values round-trip, escaped the way Go escapes them.
    let r = request_raw(
        "PUT",
        &d.url("/v2/keys/odd%00%C3%A9"),
        "application/x-www-form-urlencoded",
        b"value=%3C%26%3E%08".to_vec(),
    );
    assert_same!(
        r.body,
        body(
            r#"{"action":"set","node":{"key":"/odd\u0000é","value":"\u003c\u0026\u003e\u0008","modifiedIndex":4,"createdIndex":4}}"#
        )
    );
}

#[test]
// Over 80 lines on purpose: one scenario whose steps build on the state the previous ones left.
fn watches_long_poll_recursive_history_stream_and_cleared() {
    let d = Server::start();
    let url = d.url("/v2/keys/foo?wait=true");
    let waiter = std::thread::spawn(move || {
        reqwest::blocking::Client::new()
            .get(url)
            .timeout(Duration::from_secs(10))
            .send()
            .map(|r| (r.headers().get("X-Etcd-Index").cloned(), r.text()))
    });
    wait_for(Duration::from_secs(5), "the watcher to register", || {
        (d.get("/v2/stats/store").json()["watchers"] == 1).then_some(())
    });
    d.put("/v2/keys/foo", &[("value", "bar")]);
    let (idx, text) = waiter.join().unwrap().expect("watch");
    assert_eq!(idx.unwrap().to_str().unwrap(), "3");
    assert_eq!(
        text.unwrap(),
        body(
            r#"{"action":"set","node":{"key":"/foo","value":"bar","modifiedIndex":4,"createdIndex":4}}"#
        )
    );
    // History replay, and a recursive watch on the parent.
    d.put("/v2/keys/dir/a", &[("value", "1")]);
    let r = d.get("/v2/keys/foo?wait=true&waitIndex=4");
    assert_eq!(r.json()["node"]["modifiedIndex"], 4);
    assert_eq!(r.header("X-Etcd-Index"), Some("5"));
    let r = d.get("/v2/keys/dir?wait=true&recursive=true&waitIndex=1");
    assert_eq!(r.json()["node"]["key"], "/dir/a");
    // A disconnected long poll is dropped from the hub at once.
    let url = d.url("/v2/keys/nothing?wait=true");
    let _ = reqwest::blocking::Client::new()
        .get(url)
        .timeout(Duration::from_millis(300))
        .send()
        .and_then(|r| r.text());
    wait_for(
        Duration::from_secs(5),
        "the abandoned watcher to go",
        || (d.get("/v2/stats/store").json()["watchers"] == 0).then_some(()),
    );
    // stream=true keeps the response open and sends one JSON line per event.
    let url = d.url("/v2/keys/s?wait=true&stream=true");
    let streamer = std::thread::spawn(move || {
        use std::io::BufRead;
        let resp = reqwest::blocking::Client::new()
            .get(url)
            .timeout(Duration::from_secs(10))
            .send()
            .expect("stream");
        let mut lines = std::io::BufReader::new(resp).lines();
        (0..3)
            .map(|_| lines.next().expect("line").expect("read"))
            .collect::<Vec<_>>()
    });
    wait_for(Duration::from_secs(5), "the stream watcher", || {
        (d.get("/v2/stats/store").json()["watchers"] == 1).then_some(())
    });
    for v in ["1", "2", "3"] {
        d.put("/v2/keys/s", &[("value", v)]);
    }
    let lines = streamer.join().unwrap();
    let values: Vec<String> = lines
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["node"]["value"].to_string())
        .collect();
    assert_eq!(values, ["\"1\"", "\"2\"", "\"3\""]);
    // More than 1000 events later, the old index is cleared.
    for i in 0..1005 {
        d.put("/v2/keys/other", &[("value", &i.to_string())]);
    }
    let r = d.get("/v2/keys/foo?wait=true&waitIndex=4");
    assert_eq!(r.status, 400);
    let j = r.json();
    assert_eq!(j["errorCode"], 401);
    assert_eq!(
        j["message"],
        "The event in requested index is outdated and cleared"
    );
    let now = r.etcd_index();
    assert_eq!(
        j["cause"],
        format!("the requested history has been cleared [{}/4]", now - 999)
    );
}

#[test]
fn quorum_reads_admin_endpoints() {
    let d = Server::start();
    d.put("/v2/keys/q", &[("value", "1")]);
    assert_eq!(d.get("/v2/keys/q?quorum=true").json()["node"]["value"], "1");
    assert_eq!(
        d.get("/v2/keys/q?consistent=true").json()["node"]["value"],
        "1"
    );
    let v = d.get("/version");
    assert_eq!(v.body, r#"{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}"#);
    let h = d.get("/health");
    assert_eq!((h.status, h.body.as_str()), (200, r#"{"health":"true"}"#));
    let m = d.get("/v2/members").json();
    assert_eq!(m["members"][0]["name"], "default");
    assert_eq!(m["members"][0]["clientURLs"][0], d.client_url());
    assert_eq!(d.get("/v2/machines").body, d.client_url());
    let s = d.get("/v2/stats/self").json();
    assert_eq!(s["state"], "StateLeader");
    assert_eq!(s["name"], "default");
    let l = d.get("/v2/stats/leader").json();
    assert_eq!(l["leader"], s["id"]);
    let st = d.get("/v2/stats/store").json();
    assert!(st["setsSuccess"].as_u64().unwrap() >= 1);
    let head = d.request("HEAD", "/v2/keys/q", None);
    assert_eq!((head.status, head.body.as_str()), (200, ""));
}
