//! Durability beyond `restart.rs`: the watch history (and where it starts) survives kill -9
//! and snapshots, in-order keys continue after a restart, acknowledged deletes stay deleted,
//! TTLs that pass while the member is down expire once it is back, and SIGTERM exits cleanly.
//!
//! Real etcd re-publishes its member attributes on every start, an internal write that costs
//! one index; `republish` below accounts for it (we publish only when they change).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use etcd_tests::wait::WRITES_LIMIT;
use etcd_tests::{Daemon, rfc3339_unix_nanos, try_request, unix_nanos_now, wait_for, wait_until};

fn republish(d: &Daemon) -> u64 {
    u64::from(d.is_real())
}

/// Events from before a kill -9 replay byte for byte afterwards.
#[test]
fn watch_history_survives_kill_9() {
    let mut d = Daemon::start();
    let mut events = Vec::new();
    for i in 0..20 {
        let r = d.put(
            &format!("/v2/keys/h/k{}", i % 5),
            &[("value", &i.to_string())],
        );
        assert_eq!(r.status / 100, 2);
        events.push(r.body);
    }
    d.delete("/v2/keys/h/k0");
    let before = d.index();
    d.kill();
    d.restart();
    assert_eq!(d.index(), before + republish(&d));
    for (i, want) in events.iter().enumerate() {
        let since = 4 + i;
        let r = d.get(&format!(
            "/v2/keys/h/k{}?wait=true&waitIndex={since}",
            i % 5
        ));
        assert_eq!(&r.body, want, "waitIndex={since}");
    }
    let r = d.get("/v2/keys/h?wait=true&recursive=true&waitIndex=24");
    assert_eq!(r.json()["action"], "delete");
}

/// The history is part of the snapshot: with snapshots every 100 entries, a restart still
/// replays old events, and the 1000-event window starts where it did.
#[test]
fn watch_history_survives_snapshots() {
    let mut d = Daemon::start_with(&["--snapshot-count", "100"]);
    for i in 0..1010u32 {
        let r = d.put("/v2/keys/s", &[("value", &i.to_string())]); // 4 ..= 1013
        assert_eq!(r.status / 100, 2, "{}", r.body);
    }
    let cleared = |d: &Daemon| {
        let r = d.get("/v2/keys/s?wait=true&waitIndex=4");
        assert_eq!(r.status, 400, "{}", r.body);
        let now = r.etcd_index();
        assert_eq!(
            r.json()["cause"],
            format!("the requested history has been cleared [{}/4]", now - 999)
        );
        now - 999
    };
    let first = cleared(&d);
    let replay = d.get(&format!("/v2/keys/s?wait=true&waitIndex={}", first + 5));
    d.kill();
    d.restart();
    assert_eq!(cleared(&d), first + republish(&d));
    let again = d.get(&format!("/v2/keys/s?wait=true&waitIndex={}", first + 5));
    assert_eq!(again.body, replay.body);
    assert_eq!(again.json()["node"]["value"], (first + 5 - 4).to_string());
}

/// In-order keys are named by the index, which carries on after a restart.
#[test]
fn in_order_keys_continue_after_restart() {
    let mut d = Daemon::start();
    let mut names = Vec::new();
    for i in 0..3 {
        let r = d.post("/v2/keys/q", &[("value", &format!("job{i}"))]);
        names.push(r.json()["node"]["key"].as_str().unwrap().to_string());
    }
    assert_eq!(names[0], "/q/00000000000000000004");
    d.kill();
    d.restart();
    let r = d.post("/v2/keys/q", &[("value", "job3")]);
    let idx = 7 + republish(&d);
    assert_eq!(
        r.json()["node"]["key"],
        format!("/q/{idx:020}"),
        "{}",
        r.body
    );
    names.push(format!("/q/{idx:020}"));
    let list = d.get("/v2/keys/q?sorted=true").json();
    let got: Vec<&str> = list["node"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["key"].as_str().unwrap())
        .collect();
    assert_eq!(got, names);
}

/// Writers create and delete keys concurrently; the member is killed mid-flight. Every key
/// whose delete was acknowledged is gone after the restart, every key whose create was
/// acknowledged (and no delete attempted) is there with its value.
#[test]
fn acknowledged_deletes_and_creates_survive_kill_9() {
    let mut d = Daemon::start();
    let base = d.client_url();
    // (key, value, deleted)
    let acked: Arc<Mutex<Vec<(String, String, bool)>>> = Arc::default();
    let tried_delete: Arc<Mutex<Vec<String>>> = Arc::default();
    // A bound only: the writers stop at their first failed request, i.e. at the kill.
    let stop = Instant::now() + Duration::from_secs(60);
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (base, acked, tried) = (base.clone(), acked.clone(), tried_delete.clone());
            std::thread::spawn(move || {
                for i in 0..3000 {
                    if Instant::now() > stop {
                        break;
                    }
                    let key = format!("/v2/keys/c{w}/k{i}");
                    let value = format!("{w}.{i}");
                    let create = format!("{base}{key}?prevExist=false");
                    match try_request("PUT", &create, Some(&[("value", &value)])) {
                        Ok(r) if r.status == 201 => {
                            acked.lock().unwrap().push((key.clone(), value, false))
                        }
                        _ => break,
                    }
                    if i % 2 == 0 {
                        tried.lock().unwrap().push(key.clone());
                        match try_request("DELETE", &format!("{base}{key}"), None) {
                            Ok(r) if r.status == 200 => {
                                acked.lock().unwrap().push((key, String::new(), true))
                            }
                            _ => break,
                        }
                    }
                }
            })
        })
        .collect();
    wait_until(
        WRITES_LIMIT,
        "40 creates and deletes acknowledged before the kill",
        || acked.lock().unwrap().len() >= 40,
    );
    d.kill();
    for w in writers {
        w.join().expect("writer");
    }
    d.restart();
    let acked = acked.lock().unwrap().clone();
    let tried: std::collections::HashSet<String> =
        tried_delete.lock().unwrap().iter().cloned().collect();
    assert!(acked.len() > 20, "too few acknowledged: {}", acked.len());
    let deleted: std::collections::HashSet<&String> =
        acked.iter().filter(|a| a.2).map(|a| &a.0).collect();
    for (key, value, is_delete) in &acked {
        let r = d.get(key);
        if *is_delete {
            assert_eq!(
                r.status, 404,
                "{key}: acknowledged delete undone: {}",
                r.body
            );
        } else if !deleted.contains(key) && !tried.contains(key) {
            assert_eq!(r.status, 200, "{key}: acknowledged create lost");
            assert_eq!(r.json()["node"]["value"], value.as_str());
        }
    }
}

/// A TTL that runs out while the member is down expires once it is back, with an expire
/// event; one that has not run out keeps its deadline.
#[test]
fn ttls_that_pass_while_down_expire_after_restart() {
    let mut d = Daemon::start();
    let short = d.put("/v2/keys/short", &[("value", "s"), ("ttl", "1")]); // 4
    let long = d.put("/v2/keys/long", &[("value", "l"), ("ttl", "60")]); // 5
    assert!(d.term().is_some(), "SIGTERM did not stop the member");
    let short_exp = short.json()["node"]["expiration"]
        .as_str()
        .and_then(rfc3339_unix_nanos)
        .expect("the short key's expiration");
    wait_until(
        Duration::from_secs(10),
        "the short key's deadline passes while down",
        || unix_nanos_now() > short_exp,
    );
    d.restart();
    wait_for(Duration::from_secs(10), "the short key to expire", || {
        (d.get("/v2/keys/short").status == 404).then_some(())
    });
    let e = d.get("/v2/keys/short?wait=true&waitIndex=6").json();
    assert_eq!(e["action"], "expire");
    assert_eq!(e["node"]["key"], "/short");
    let l = d.get("/v2/keys/long").json();
    assert_eq!(l["node"]["expiration"], long.json()["node"]["expiration"]);
    assert!(l["node"]["ttl"].as_u64().is_some_and(|t| t <= 60 && t > 50));
}

/// SIGTERM stops the member promptly and with a clean exit; the data is all there.
#[test]
fn sigterm_exits_cleanly_and_keeps_data() {
    let mut d = Daemon::start();
    for i in 0..10 {
        d.put(&format!("/v2/keys/t/k{i}"), &[("value", &i.to_string())]);
    }
    let before = d.get("/v2/keys/t?recursive=true&sorted=true");
    let started = Instant::now();
    let status = d
        .term()
        .expect("SIGTERM did not stop the member within TERM_LIMIT");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        status.success() || status.code().is_none(),
        "exit status {status}"
    );
    d.restart();
    let after = d.get("/v2/keys/t?recursive=true&sorted=true");
    assert_eq!(after.body, before.body);
}
