//! TTLs: the expiration and remaining ttl a node shows, expiry and its `expire` event, the
//! expiry of a directory's whole subtree, refreshes (which move the deadline without a new
//! modifiedIndex or a watcher wake-up), unsetting and replacing TTLs, and ttl=0.

use std::time::Duration;

use etcd_tests::{
    Api, Server, assert_same, mask_expirations, rfc3339_unix_nanos, unix_nanos_now, wait_for,
};

fn body(s: &str) -> String {
    format!("{s}\n")
}

const SEC: i128 = 1_000_000_000;

/// A TTL shows as an RFC3339Nano UTC expiration about ttl seconds ahead, and a remaining ttl
/// rounded up to whole seconds.
#[test]
fn ttl_shows_expiration_and_remaining_seconds() {
    let d = Server::start();
    let before = unix_nanos_now();
    let r = d.put("/v2/keys/t", &[("value", "v"), ("ttl", "20")]);
    let after = unix_nanos_now();
    assert_eq!(r.status, 201);
    assert_same!(
        mask_expirations(&r.body),
        body(
            r#"{"action":"set","node":{"key":"/t","value":"v","expiration":"<exp>","ttl":20,"modifiedIndex":4,"createdIndex":4}}"#
        )
    );
    let exp = r.json()["node"]["expiration"].as_str().unwrap().to_string();
    let at = rfc3339_unix_nanos(&exp).unwrap();
    // Clocks of the same machine: the deadline is set between our two readings (+20 s).
    assert!(
        at >= before + 20 * SEC - SEC / 2 && at <= after + 20 * SEC + SEC / 2,
        "{exp}"
    );
    let g = d.get("/v2/keys/t");
    assert_same!(
        mask_expirations(&g.body),
        body(
            r#"{"action":"get","node":{"key":"/t","value":"v","expiration":"<exp>","ttl":20,"modifiedIndex":4,"createdIndex":4}}"#
        )
    );
    assert_eq!(g.json()["node"]["expiration"], exp.as_str());
    // A listing shows the ttl of children too.
    d.put("/v2/keys/dir/c", &[("value", "1"), ("ttl", "30")]);
    let l = d.get("/v2/keys/dir");
    assert_same!(
        mask_expirations(&l.body),
        body(
            r#"{"action":"get","node":{"key":"/dir","dir":true,"nodes":[{"key":"/dir/c","value":"1","expiration":"<exp>","ttl":30,"modifiedIndex":5,"createdIndex":5}],"modifiedIndex":5,"createdIndex":5}}"#
        )
    );
}

/// A key expires at its deadline with an `expire` event whose prevNode is the key as it was.
#[test]
fn key_expires_with_an_expire_event() {
    let d = Server::start();
    let r = d.put("/v2/keys/t1", &[("value", "v"), ("ttl", "1")]);
    let exp = r.json()["node"]["expiration"].as_str().unwrap().to_string();
    let w = d.watch("/v2/keys/t1?wait=true", Duration::from_secs(10));
    let r = w.join().unwrap().expect("expire event");
    assert_same!(
        r.body,
        body(&format!(
            r#"{{"action":"expire","node":{{"key":"/t1","modifiedIndex":5,"createdIndex":4}},"prevNode":{{"key":"/t1","value":"v","expiration":"{exp}","modifiedIndex":4,"createdIndex":4}}}}"#
        ))
    );
    // Not before its deadline.
    let deadline = rfc3339_unix_nanos(&exp).unwrap();
    assert!(unix_nanos_now() >= deadline - SEC / 10);
    let g = d.get("/v2/keys/t1");
    assert_eq!(
        (g.status, g.body.as_str()),
        (
            404,
            body(r#"{"errorCode":100,"message":"Key not found","cause":"/t1","index":5}"#).as_str()
        )
    );
    // The expiry is in the history.
    let h = d.get("/v2/keys/t1?wait=true&waitIndex=5");
    assert_eq!(h.body, r.body);
}

/// A directory with a TTL takes its whole subtree with it; watchers below it get the
/// directory's expire event.
#[test]
fn directory_ttl_expires_the_subtree() {
    let d = Server::start();
    d.put("/v2/keys/keep", &[("value", "k")]); // 4
    d.put("/v2/keys/tdir", &[("dir", "true"), ("ttl", "1")]); // 5
    d.put("/v2/keys/tdir/a/b", &[("value", "1")]); // 6
    d.put("/v2/keys/tdir/c", &[("value", "2")]); // 7
    let w = d.watch("/v2/keys/tdir/a/b?wait=true", Duration::from_secs(10));
    let r = w.join().unwrap().expect("expire event");
    let j = r.json();
    assert_same!(
        mask_expirations(&r.body),
        body(
            r#"{"action":"expire","node":{"key":"/tdir","dir":true,"modifiedIndex":8,"createdIndex":5},"prevNode":{"key":"/tdir","dir":true,"expiration":"<exp>","modifiedIndex":5,"createdIndex":5}}"#
        ),
        "{j}"
    );
    for k in ["/tdir/a/b", "/tdir/c", "/tdir"] {
        let g = d.get(&format!("/v2/keys{k}"));
        assert_same!(
            g.body,
            body(r#"{"errorCode":100,"message":"Key not found","cause":"/tdir","index":8}"#)
        );
    }
    let root = d.get("/v2/keys/?recursive=true");
    assert_same!(
        root.body,
        body(
            r#"{"action":"get","node":{"dir":true,"nodes":[{"key":"/keep","value":"k","modifiedIndex":4,"createdIndex":4}]}}"#
        )
    );
}

/// refresh=true moves the deadline and keeps the value without waking watchers. Without
/// prevExist it goes through the set path (action `set`, a new createdIndex); with
/// prevExist=true it is an `update`.
#[test]
// Over 80 lines on purpose: one scenario whose steps build on the state the previous ones left.
fn refresh_moves_the_deadline_only() {
    let d = Server::start();
    d.put("/v2/keys/r", &[("value", "v"), ("ttl", "30")]); // 4
    let w = d.watch("/v2/keys/r?wait=true", Duration::from_secs(10));
    d.wait_watchers(1);
    let r = d.put("/v2/keys/r?refresh=true", &[("ttl", "40")]); // 5
    assert_eq!(r.status, 200);
    assert_same!(
        mask_expirations(&r.body),
        body(
            r#"{"action":"set","node":{"key":"/r","value":"v","expiration":"<exp>","ttl":40,"modifiedIndex":5,"createdIndex":5},"prevNode":{"key":"/r","value":"v","expiration":"<exp>","ttl":30,"modifiedIndex":4,"createdIndex":4}}"#
        )
    );
    let new_exp = r.json()["node"]["expiration"].clone();
    let g = d.get("/v2/keys/r").json();
    assert_eq!(g["node"]["expiration"], new_exp);
    assert_eq!(g["node"]["modifiedIndex"], 5);
    assert_eq!(g["node"]["value"], "v");
    let r = d.put("/v2/keys/r?refresh=true&prevExist=true", &[("ttl", "50")]); // 6
    assert_same!(
        mask_expirations(&r.body),
        body(
            r#"{"action":"update","node":{"key":"/r","value":"v","expiration":"<exp>","ttl":50,"modifiedIndex":6,"createdIndex":5},"prevNode":{"key":"/r","value":"v","expiration":"<exp>","ttl":40,"modifiedIndex":5,"createdIndex":5}}"#
        )
    );
    assert_eq!(d.get("/v2/keys/r").json()["node"]["modifiedIndex"], 6);
    // The watcher is still waiting: the next real change wakes it.
    d.put("/v2/keys/r", &[("value", "w")]); // 7
    let seen = w.join().unwrap().expect("watch").json();
    assert_eq!(seen["node"]["modifiedIndex"], 7);
    assert_eq!(seen["prevNode"]["modifiedIndex"], 6);

    // Directories refresh with prevExist=true; without it the set path refuses the directory.
    d.put("/v2/keys/td", &[("dir", "true"), ("ttl", "30")]); // 8
    let r = d.put(
        "/v2/keys/td?refresh=true&prevExist=true",
        &[("ttl", "40"), ("dir", "true")],
    );
    assert_same!(
        mask_expirations(&r.body),
        body(
            r#"{"action":"update","node":{"key":"/td","dir":true,"expiration":"<exp>","ttl":40,"modifiedIndex":9,"createdIndex":8},"prevNode":{"key":"/td","dir":true,"expiration":"<exp>","ttl":30,"modifiedIndex":8,"createdIndex":8}}"#
        )
    );
    let r = d.put("/v2/keys/td?refresh=true", &[("ttl", "40")]);
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            403,
            body(r#"{"errorCode":102,"message":"Not a file","cause":"/td","index":9}"#).as_str()
        )
    );
    let r = d.put("/v2/keys/nokey?refresh=true", &[("ttl", "4")]);
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            404,
            body(r#"{"errorCode":100,"message":"Key not found","cause":"/nokey","index":9}"#)
                .as_str()
        )
    );
    // Refresh with a condition: compareAndSwap that keeps the value; a permanent key gets a TTL.
    d.put("/v2/keys/perm", &[("value", "p")]); // 10
    let r = d.put("/v2/keys/perm?refresh=true&prevValue=x", &[("ttl", "4")]);
    assert_same!(
        r.body,
        body(r#"{"errorCode":101,"message":"Compare failed","cause":"[x != p]","index":10}"#)
    );
    let r = d.put("/v2/keys/perm?refresh=true&prevValue=p", &[("ttl", "400")]);
    assert_same!(
        mask_expirations(&r.body),
        body(
            r#"{"action":"compareAndSwap","node":{"key":"/perm","value":"p","expiration":"<exp>","ttl":400,"modifiedIndex":11,"createdIndex":10},"prevNode":{"key":"/perm","value":"p","modifiedIndex":10,"createdIndex":10}}"#
        )
    );
    let r = d.put(
        "/v2/keys/perm?refresh=true&prevExist=false",
        &[("ttl", "4")],
    );
    assert_same!(
        r.body,
        body(r#"{"errorCode":105,"message":"Key already exists","cause":"/perm","index":11}"#)
    );
}

/// An update with an empty ttl makes the key permanent; a plain set replaces the node (and
/// its TTL); a compare-and-swap with a ttl sets a new one.
#[test]
fn ttl_unset_and_replace() {
    let d = Server::start();
    d.put("/v2/keys/u", &[("value", "1"), ("ttl", "30")]); // 4
    let r = d.put("/v2/keys/u?prevExist=true", &[("value", "2"), ("ttl", "")]); // 5
    assert_same!(
        mask_expirations(&r.body),
        body(
            r#"{"action":"update","node":{"key":"/u","value":"2","modifiedIndex":5,"createdIndex":4},"prevNode":{"key":"/u","value":"1","expiration":"<exp>","ttl":30,"modifiedIndex":4,"createdIndex":4}}"#
        )
    );
    let r = d.put("/v2/keys/u?prevValue=2", &[("value", "3"), ("ttl", "50")]); // 6
    assert_same!(
        mask_expirations(&r.body),
        body(
            r#"{"action":"compareAndSwap","node":{"key":"/u","value":"3","expiration":"<exp>","ttl":50,"modifiedIndex":6,"createdIndex":4},"prevNode":{"key":"/u","value":"2","modifiedIndex":5,"createdIndex":4}}"#
        )
    );
    let r = d.put("/v2/keys/u", &[("value", "4")]); // 7
    assert_same!(
        mask_expirations(&r.body),
        body(
            r#"{"action":"set","node":{"key":"/u","value":"4","modifiedIndex":7,"createdIndex":7},"prevNode":{"key":"/u","value":"3","expiration":"<exp>","ttl":50,"modifiedIndex":6,"createdIndex":4}}"#
        )
    );
    // An update without ttl also drops the TTL (etcd's update takes the new expiration as given).
    d.put("/v2/keys/u2", &[("value", "1"), ("ttl", "30")]); // 8
    let r = d.put("/v2/keys/u2?prevExist=true", &[("value", "2")]); // 9
    assert!(r.json()["node"].get("ttl").is_none(), "{}", r.body);
}

/// ttl=0 sets a deadline of now: the answer has an expiration but no ttl, and the key goes
/// at the next expiry pass.
#[test]
fn ttl_zero_expires_at_once() {
    let d = Server::start();
    let r = d.put("/v2/keys/z", &[("value", "v"), ("ttl", "0")]);
    assert_eq!(r.status, 201);
    assert_same!(
        mask_expirations(&r.body),
        body(
            r#"{"action":"set","node":{"key":"/z","value":"v","expiration":"<exp>","modifiedIndex":4,"createdIndex":4}}"#
        )
    );
    wait_for(Duration::from_secs(5), "the ttl=0 key to expire", || {
        (d.get("/v2/keys/z").status == 404).then_some(())
    });
    let h = d.get("/v2/keys/z?wait=true&waitIndex=5").json();
    assert_eq!(h["action"], "expire");
}
