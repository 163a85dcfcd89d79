//! A member added to a cluster holding ~100 MB catches up by snapshot (issue 8): the snapshot
//! streams in chunks, and the joining member serves the data byte for byte at the leader's
//! X-Etcd-Index.

use super::*;

/// 100 values of 1 MiB.
const KEYS: usize = 100;
const VALUE_BYTES: usize = 1 << 20;

/// A value that differs per key (so a mix-up shows) and needs no escaping in a form.
fn value(i: usize) -> String {
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..VALUE_BYTES)
        .map(|j| alphabet[(i * 7 + j * 13 + j / 4096) % alphabet.len()] as char)
        .collect()
}

/// The peak resident set of process `pid`, in MiB (Linux `VmHWM`).
fn peak_rss_mib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

fn fill(c: &Cluster) {
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let urls: Vec<String> = c.members.iter().map(|m| m.client_url()).collect();
            std::thread::spawn(move || {
                for i in (t..KEYS).step_by(4) {
                    let url = format!("{}/v2/keys/big/k{i:03}", urls[i % urls.len()]);
                    let v = value(i);
                    wait_for(SETTLE, &format!("PUT {url}"), || {
                        let r = try_request("PUT", &url, Some(&[("value", v.as_str())])).ok()?;
                        (r.status / 100 == 2).then_some(())
                    });
                }
            })
        })
        .collect();
    for w in writers {
        w.join().expect("writer thread");
    }
}

#[test]
fn a_member_added_to_a_100mb_store_catches_up_by_snapshot() {
    let mut c = Cluster::start_with(3, &["--snapshot-count", "20"]);
    let started = Instant::now();
    fill(&c);
    let filled = started.elapsed();
    let l = c.wait_leader(SETTLE);
    let want = c.members[l].get("/v2/keys/big/k042?quorum=true");
    assert_eq!(
        want.status,
        200,
        "{}",
        &want.body[..want.body.len().min(200)]
    );
    let index = want.etcd_index();

    let joined_at = Instant::now();
    let n4 = c.add_member(l);
    let caught_up = wait_for(Duration::from_secs(120), "n4 to serve the store", || {
        let r = try_request("GET", &c.members[n4].url("/v2/keys/big/k042"), None).ok()?;
        (r.status == 200 && r.etcd_index() >= index).then_some(r)
    });
    let took = joined_at.elapsed();
    assert_eq!(node(&caught_up)["value"].as_str(), Some(value(42).as_str()));
    for i in [0, 17, KEYS - 1] {
        let key = format!("/v2/keys/big/k{i:03}");
        let r = c.members[n4].get(&key);
        assert_eq!(r.status, 200, "{key} on n4");
        assert!(
            node(&r)["value"].as_str() == Some(value(i).as_str()),
            "{key} differs on n4"
        );
    }
    // Quiet now: the new member's index is the leader's.
    let leader_index = c.members[l].get("/v2/keys/big/k000").etcd_index();
    let n4_index = c.members[n4].get("/v2/keys/big/k000").etcd_index();
    assert_eq!(
        n4_index, leader_index,
        "X-Etcd-Index on n4 and on the leader"
    );
    let rss = c.members[n4].pid().and_then(peak_rss_mib);
    println!(
        "snapshot catch-up: {KEYS} x {} KiB written in {:.1}s; n4 served them {:.1}s after member add; n4 peak RSS {} MiB",
        VALUE_BYTES >> 10,
        filled.as_secs_f64(),
        took.as_secs_f64(),
        rss.map_or("?".into(), |r| r.to_string()),
    );
}
