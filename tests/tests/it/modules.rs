//! etcd 0.3's lock and leader modules (`--enable-mod`), as the 0.4 API documentation describes
//! them: acquire, renew, release and get with their error bodies, waiters that get the lock in
//! turn, give up on a timeout or a hang-up, and are kept alive while they wait; elections
//! through the leader module; the same lock through two members. Real etcd 3.4 has no modules
//! (404), so these tests run against ours only.

use std::io::Write;
use std::net::TcpStream;

use etcd_tests::cluster::Cluster;
use etcd_tests::wait::WATCH_LIMIT;
use etcd_tests::{Api, Resp, Server, running_real, wait_for, wait_until};

const LOCK: &str = "/mod/v2/lock/mylock";
const LEADER: &str = "/mod/v2/leader/myclustername";

fn start() -> Option<Server> {
    (!running_real()).then(|| Server::start_with(&["--enable-mod"]))
}

/// (value, createdIndex, modifiedIndex) of each child of a lock, in index order.
fn queue(d: &impl Api, name: &str) -> Vec<(String, u64, u64)> {
    let r = d.get(&format!(
        "/v2/keys/_etcd/mod/lock/{name}?recursive=true&sorted=true"
    ));
    let nodes = r.json()["node"]["nodes"].as_array().cloned();
    nodes
        .unwrap_or_default()
        .iter()
        .map(|n| {
            (
                n["value"].as_str().unwrap_or_default().to_string(),
                n["createdIndex"].as_u64().unwrap_or_default(),
                n["modifiedIndex"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

fn values(d: &impl Api, name: &str) -> Vec<String> {
    queue(d, name).into_iter().map(|(v, _, _)| v).collect()
}

fn assert_text(r: &Resp, status: u16, body: &str) {
    assert_eq!((r.status, r.body.as_str()), (status, body), "{r:?}");
}

/// An error as etcd 0.4 writes it: JSON with a newline, its status, `X-Etcd-Index`.
fn assert_error(r: &Resp, status: u16, code: u16, message: &str, cause: &str) {
    let want = format!(
        "{{\"errorCode\":{code},\"message\":\"{message}\",\"cause\":\"{cause}\",\"index\":0}}\n"
    );
    assert_eq!(
        (r.status, r.body.as_str()),
        (status, want.as_str()),
        "{r:?}"
    );
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert_eq!(r.header("X-Etcd-Index"), Some("0"));
}

/// A request answered in its own thread, for the ones that wait for a lock.
fn in_thread(
    url: String,
    method: &'static str,
    form: Vec<(&'static str, &'static str)>,
) -> std::thread::JoinHandle<Resp> {
    std::thread::spawn(move || etcd_tests::request(method, &url, Some(&form)))
}

#[test]
fn a_lock_is_acquired_read_renewed_and_released_as_documented() {
    let Some(d) = start() else { return };
    let r = d.post(LOCK, &[("ttl", "20")]);
    let (value, index, _) = queue(&d, "mylock")[0].clone();
    assert_text(&r, 200, &index.to_string());
    assert_eq!(r.header("Content-Type"), Some("text/plain; charset=utf-8"));
    // An anonymous lock holds etcd's "-".
    assert_eq!(value, "-");
    assert_text(
        &d.get(&format!("{LOCK}?field=index")),
        200,
        &index.to_string(),
    );
    assert_text(&d.get(LOCK), 200, "-");
    assert_text(&d.get(&format!("{LOCK}?field=value")), 200, "-");
    assert_error(
        &d.get(&format!("{LOCK}?field=foo")),
        400,
        209,
        "Invalid field",
        "Get",
    );

    let i = index.to_string();
    let r = d.put(LOCK, &[("index", &i), ("ttl", "40")]);
    assert_text(&r, 200, "");
    let renewed = d.get("/v2/keys/_etcd/mod/lock/mylock?recursive=true");
    assert_eq!(renewed.json()["node"]["nodes"][0]["ttl"], 40, "{renewed:?}");

    let r = d.delete(&format!("{LOCK}?index={i}"));
    assert_text(&r, 200, "");
    assert!(queue(&d, "mylock").is_empty());
    // A free lock reads as nothing.
    assert_text(&d.get(LOCK), 200, "");
    assert_text(&d.get(&format!("{LOCK}?field=foo")), 200, "");
}

#[test]
fn lock_requests_get_the_documented_errors() {
    let Some(d) = start() else { return };
    let ttl_nan = "The given TTL in POST form is not a number";
    assert_error(&d.post(LOCK, &[]), 400, 202, ttl_nan, "Acquire");
    assert_error(&d.post(LOCK, &[("ttl", "x")]), 400, 202, ttl_nan, "Acquire");
    // A bad timeout is reported before a bad TTL.
    assert_error(
        &d.post(LOCK, &[("ttl", "x"), ("timeout", "y")]),
        400,
        205,
        "The given timeout in POST form is not a number",
        "Acquire",
    );
    let required = "Index or value is required";
    assert_error(&d.put(LOCK, &[("ttl", "x")]), 400, 202, ttl_nan, "Renew");
    assert_error(&d.put(LOCK, &[("ttl", "5")]), 400, 207, required, "Renew");
    assert_error(&d.delete(LOCK), 400, 207, required, "Release");
    assert_error(
        &d.delete(&format!("{LOCK}?index=3&value=v")),
        400,
        208,
        "Index and value cannot both be specified",
        "Release",
    );
    // DELETE reads only the query: a form body does not count.
    let r = d.request("DELETE", LOCK, Some(&[("index", "3")]));
    assert_error(&r, 400, 207, required, "Release");

    d.post(LOCK, &[("ttl", "20"), ("value", "mine")]);
    let missing = [("ttl", "5"), ("value", "nobody")];
    assert_error(&d.put(LOCK, &missing), 404, 100, "Key not found", "Renew");
    let r = d.delete(&format!("{LOCK}?value=nobody"));
    assert_error(&r, 404, 100, "Key not found", "Release");
    // An index nobody holds is the store's own 404 (etcd's code meant it; a type-switch bug
    // made it a 500).
    let r = d.delete(&format!("{LOCK}?index=999"));
    assert_eq!(r.status, 404, "{r:?}");
    assert_eq!(r.json()["errorCode"], 100);
    assert_eq!(
        r.json()["cause"],
        "/_etcd/mod/lock/mylock/00000000000000000999"
    );
    let r = d.request("PATCH", LOCK, None);
    assert_eq!(r.status, 405, "{r:?}");
}

#[test]
fn waiters_get_the_lock_in_turn_and_only_when_the_holder_lets_go() {
    let Some(d) = start() else { return };
    let first = d.post(LOCK, &[("ttl", "20"), ("value", "first")]);
    assert_eq!(first.status, 200, "{first:?}");
    let second = in_thread(
        d.url(LOCK),
        "POST",
        vec![("ttl", "20"), ("value", "second")],
    );
    wait_until(WATCH_LIMIT, "the second request queues", || {
        values(&d, "mylock") == ["first", "second"]
    });
    d.wait_watchers(1);
    // The holder renewing (an update of the key the waiter watches) is not the waiter's turn:
    // it looks again and watches again.
    let r = d.put(LOCK, &[("value", "first"), ("ttl", "30")]);
    assert_text(&r, 200, "");
    d.wait_watchers(1);
    assert!(
        !second.is_finished(),
        "the waiter took the lock on a renewal"
    );
    // The same value asks for the same place in the queue: the holder gets its index back.
    let again = d.post(LOCK, &[("ttl", "20"), ("value", "first")]);
    assert_text(&again, 200, &first.body);
    assert_eq!(values(&d, "mylock"), ["first", "second"]);

    assert_text(&d.delete(&format!("{LOCK}?value=first")), 200, "");
    let second = second.join().expect("second request");
    let (_, index, _) = queue(&d, "mylock")[0].clone();
    assert_text(&second, 200, &index.to_string());
    assert_text(&d.get(LOCK), 200, "second");
}

#[test]
fn a_waiter_leaves_the_queue_on_timeout_or_when_its_client_hangs_up() {
    let Some(d) = start() else { return };
    d.post(LOCK, &[("ttl", "60"), ("value", "holder")]);

    let r = d.post(LOCK, &[("ttl", "60"), ("timeout", "0")]);
    assert_text(&r, 500, "failed to acquire lock\n");
    assert_eq!(r.header("Content-Type"), Some("text/plain; charset=utf-8"));
    wait_until(WATCH_LIMIT, "the timeout=0 request left", || {
        values(&d, "mylock") == ["holder"]
    });

    let r = d.post(
        LOCK,
        &[("ttl", "60"), ("timeout", "1"), ("value", "patient")],
    );
    assert_text(&r, 500, "lock watch closed\n");
    wait_until(WATCH_LIMIT, "the timed-out request left", || {
        values(&d, "mylock") == ["holder"]
    });

    // A client that hangs up while waiting takes its place in the queue with it, long before
    // its TTL would.
    let mut conn = TcpStream::connect(d.client_addr()).expect("connect");
    let body = "ttl=60&value=gone";
    write!(
        conn,
        "POST {LOCK} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        d.client_addr(),
        body.len()
    )
    .expect("send");
    wait_until(WATCH_LIMIT, "the request queues", || {
        values(&d, "mylock") == ["holder", "gone"]
    });
    drop(conn);
    wait_until(WATCH_LIMIT, "the hung-up request left", || {
        values(&d, "mylock") == ["holder"]
    });
}

#[test]
fn a_waiting_request_keeps_its_place_alive_past_its_ttl() {
    let Some(d) = start() else { return };
    d.post(LOCK, &[("ttl", "60"), ("value", "holder")]);
    let waiter = in_thread(d.url(LOCK), "POST", vec![("ttl", "1"), ("value", "waiter")]);
    // Each keep-alive moves the waiter's modifiedIndex; three of them span more than its 1 s
    // TTL, and it must never have expired meanwhile.
    let mut seen = Vec::new();
    wait_until(WATCH_LIMIT, "three keep-alives of the waiter", || {
        let q = queue(&d, "mylock");
        match q.iter().find(|(v, _, _)| v == "waiter") {
            Some((_, _, modified)) if !seen.contains(modified) => seen.push(*modified),
            Some(_) => {}
            None => assert!(seen.is_empty(), "the waiter expired while waiting: {q:?}"),
        }
        seen.len() >= 4
    });
    assert_text(&d.delete(&format!("{LOCK}?value=holder")), 200, "");
    assert_eq!(waiter.join().expect("waiter").status, 200);
}

#[test]
fn the_leader_module_elects_one_name_at_a_time() {
    let Some(d) = start() else { return };
    let form = [("ttl", "300"), ("name", "foo.mydomain.com")];
    let r = d.put(LEADER, &form);
    assert_eq!(r.status, 200, "{r:?}");
    let index = r.body.clone();
    assert_eq!(index, queue(&d, "myclustername")[0].1.to_string());
    assert_text(&d.get(LEADER), 200, "foo.mydomain.com");
    // The leader renews by asking again.
    assert_text(&d.put(LEADER, &form), 200, &index);

    let bar = in_thread(d.url(LEADER), "PUT", vec![("ttl", "300"), ("name", "bar")]);
    wait_until(WATCH_LIMIT, "bar queues", || {
        values(&d, "myclustername") == ["foo.mydomain.com", "bar"]
    });
    let required = "Name is required in POST form";
    assert_error(&d.put(LEADER, &[("ttl", "300")]), 400, 206, required, "Set");
    assert_error(&d.delete(LEADER), 400, 206, required, "Delete");
    let r = d.delete(&format!("{LEADER}?name=nobody"));
    assert_error(&r, 404, 100, "Key not found", "Release");
    // Lock errors come through as they are.
    let r = d.put(LEADER, &[("name", "baz")]);
    let ttl_nan = "The given TTL in POST form is not a number";
    assert_error(&r, 400, 202, ttl_nan, "Acquire");
    let r = d.post(LEADER, &[("ttl", "300"), ("name", "baz")]);
    assert_eq!(
        (r.status, r.header("Allow")),
        (405, Some("GET,PUT,DELETE")),
        "{r:?}"
    );

    assert_text(
        &d.delete(&format!("{LEADER}?name=foo.mydomain.com")),
        200,
        "",
    );
    let bar = bar.join().expect("bar");
    assert_eq!(bar.status, 200, "{bar:?}");
    assert_text(&d.get(LEADER), 200, "bar");
}

#[test]
fn without_the_flag_there_are_no_modules() {
    let d = Server::start();
    let r = d.post(LOCK, &[("ttl", "20")]);
    assert_text(&r, 404, "404 page not found\n");
    assert_text(&d.get(LEADER), 404, "404 page not found\n");
}

/// The lock is the cluster's: held through one member, waited for through another, released
/// through a third.
#[test]
fn a_lock_is_shared_by_every_member() {
    if running_real() {
        return;
    }
    let c = Cluster::start_with(3, &["--enable-mod"]);
    let [a, b, third] = [&c.members[0].0, &c.members[1].0, &c.members[2].0];
    let r = a.post(LOCK, &[("ttl", "60"), ("value", "a")]);
    assert_eq!(r.status, 200, "{r:?}");
    let waiter = in_thread(b.url(LOCK), "POST", vec![("ttl", "60"), ("value", "b")]);
    wait_for(WATCH_LIMIT, "b queued, as every member sees it", || {
        c.members
            .iter()
            .all(|m| values(&m.0, "mylock") == ["a", "b"])
            .then_some(())
    });
    assert_text(&third.get(LOCK), 200, "a");
    assert_text(&third.delete(&format!("{LOCK}?value=a")), 200, "");
    let got = waiter.join().expect("waiter");
    assert_eq!(got.status, 200, "{got:?}");
    wait_until(WATCH_LIMIT, "the third member sees b hold the lock", || {
        third.get(LOCK).body == "b"
    });
}

/// With auth on, a lock request needs permission on the lock's directory, as its keys would.
#[test]
fn with_auth_a_lock_needs_permission_on_its_directory() {
    let Some(d) = start() else { return };
    let send = |method: &str, path: &str, who: Option<(&str, &str)>, body: &str| {
        let client = reqwest::blocking::Client::builder()
            .no_proxy()
            .build()
            .expect("client");
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = client.request(method, d.url(path));
        if let Some((u, p)) = who {
            req = req.basic_auth(u, Some(p));
        }
        let ct = if body.starts_with('{') {
            "application/json"
        } else {
            "application/x-www-form-urlencoded"
        };
        let resp = req.header("Content-Type", ct).body(body.to_string()).send();
        etcd_tests::http::into_resp(resp.expect("request")).expect("response")
    };
    let root = Some(("root", "rootpw"));
    let bob = Some(("bob", "bobpw"));
    let lock_role = r#"{"role":"locker","permissions":{"kv":{"read":["/_etcd/mod/lock/mylock*"],"write":["/_etcd/mod/lock/mylock*"]}}}"#;
    let setup = [
        (
            "/v2/auth/users/root",
            r#"{"user":"root","password":"rootpw"}"#,
        ),
        ("/v2/auth/roles/locker", lock_role),
        (
            "/v2/auth/users/bob",
            r#"{"user":"bob","password":"bobpw","roles":["locker"]}"#,
        ),
        ("/v2/auth/enable", ""),
        (
            "/v2/auth/roles/guest",
            r#"{"role":"guest","revoke":{"kv":{"read":["/*"],"write":["/*"]}}}"#,
        ),
    ];
    for (path, body) in setup {
        let r = send("PUT", path, root, body);
        assert!(r.status < 300, "{path}: {r:?}");
    }
    let denied = "{\"errorCode\":110,\"message\":\"The request requires user authentication\",\"cause\":\"Insufficient credentials\",\"index\":0}\n";
    assert_text(&send("POST", LOCK, None, "ttl=20"), 401, denied);
    assert_text(&send("GET", LOCK, None, ""), 401, denied);
    let r = send("POST", LOCK, bob, "ttl=20");
    assert_eq!(r.status, 200, "{r:?}");
    assert_text(&send("GET", LOCK, bob, ""), 200, "-");
    assert_text(
        &send("POST", "/mod/v2/lock/other", bob, "ttl=20"),
        401,
        denied,
    );
    assert_text(&send("GET", LEADER, bob, ""), 401, denied);
}
