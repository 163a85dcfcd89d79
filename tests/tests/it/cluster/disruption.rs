//! Disruptions that must lose nothing: a member paused past the election timeout (no stale
//! quorum reads), and a rolling restart under load (leadership handed over on SIGTERM).

use super::*;

// 5. SIGSTOP past the election timeout, SIGCONT: no acknowledged write lost or duplicated, and
//    the resumed member never answers a quorum read with stale data; once for a follower, once
//    for the leader.
#[test]
fn a_paused_follower_neither_loses_writes_nor_serves_stale_quorum_reads() {
    paused_member_scenario("follower");
}

#[test]
fn a_paused_leader_neither_loses_writes_nor_serves_stale_quorum_reads() {
    paused_member_scenario("leader");
}

/// Writes acknowledged while a member was paused, `(key, value)`, and the values of writes
/// that failed (they may or may not have been applied).
type Outcome = (Vec<(String, String)>, BTreeSet<String>);

fn paused_member_scenario(target: &str) {
    let c = Cluster::start(3);
    let p = if target == "leader" {
        c.leader()
    } else {
        c.follower()
    };
    let other = (0..3).find(|i| *i != p).unwrap();
    let before = format!("before-{target}");
    write_until_ok(&c.members[p], "PUT", "/v2/keys/lin", &[("value", &before)]);
    wait_same_tree(&c, p, &[0, 1, 2]);

    let outcome = write_while_paused(&c, p, other, target);
    let latest = format!("after-{target}");
    write_until_ok(
        &c.members[other],
        "PUT",
        "/v2/keys/lin",
        &[("value", &latest)],
    );
    c.members[p].start();
    check_quorum_reads_after_resume(&c.members[p], &latest, target);
    c.wait_leader(SETTLE);
    wait_same_tree(&c, other, &[0, 1, 2]);
    check_queue(&c.members[p], target, &outcome);
}

/// Freeze member `p`, write ten queue entries through `other`, and keep `p` frozen past the
/// election timeout. A write sent at the moment of the freeze must end (either way) in
/// bounded time.
fn write_while_paused(c: &Cluster, p: usize, other: usize, target: &str) -> Outcome {
    c.members[p].stop();
    let url = c.members[other].url("/v2/keys/queue");
    let frozen_value = format!("{target}-frozen");
    let in_flight = std::thread::spawn({
        let value = frozen_value.clone();
        move || {
            let sent = Instant::now();
            let r = send(&url, "POST", Some(&[("value", &value)]), SETTLE);
            (r, sent.elapsed())
        }
    });
    let frozen_at = Instant::now();
    if target == "leader" {
        // Not `wait_leader`: it would ask the frozen member too, and hang on it.
        wait_until(
            SETTLE,
            "the other two members to elect a new leader",
            || (0..3).any(|i| i != p && c.members[i].is_leader()),
        );
    }
    let (mut acked, mut unsure) = (Vec::new(), BTreeSet::new());
    let deadline = Instant::now() + SETTLE;
    let mut seq = 0;
    while acked.len() < 10 && Instant::now() < deadline {
        seq += 1;
        let value = format!("{target}-{seq}");
        match try_request(
            "POST",
            &c.members[other].url("/v2/keys/queue"),
            Some(&[("value", &value)]),
        ) {
            Ok(r) if r.status == 201 => {
                acked.push((node(&r)["key"].as_str().unwrap().to_string(), value));
            }
            _ => {
                unsure.insert(value);
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
    assert_eq!(acked.len(), 10, "writes while the {target} was paused");
    // Frozen past the election timeout, so it resumes with its election timer expired.
    let election = Duration::from_millis(ELECTION_MS.parse().expect("ELECTION_MS"));
    wait_until(
        SETTLE,
        "the pause to outlast three election timeouts",
        || frozen_at.elapsed() > 3 * election,
    );
    let (r, took) = in_flight.join().unwrap();
    println!(
        "a write sent as the {target} froze: {:?} after {took:?}",
        r.as_ref().map(|r| (r.status, r.body.trim()))
    );
    match r {
        Some(r) if r.status == 201 => {
            acked.push((node(&r)["key"].as_str().unwrap().to_string(), frozen_value));
        }
        Some(r) => {
            assert!(r.status >= 500, "{} {}", r.status, r.body);
            unsure.insert(frozen_value);
        }
        None => panic!("a write sent as the {target} froze got no answer in {SETTLE:?}"),
    }
    (acked, unsure)
}

/// Right after resuming, every quorum read on `m` for 1.5 s reflects `latest` or fails; so
/// does every read with etcd 0.4's `consistent=true` (asked in turn with `quorum=true`).
fn check_quorum_reads_after_resume(m: &Member, latest: &str, target: &str) {
    let mut answers = BTreeMap::<String, usize>::new();
    let until = Instant::now() + Duration::from_millis(1500);
    let reads = ["/v2/keys/lin?quorum=true", "/v2/keys/lin?consistent=true"];
    let mut turn = 0;
    while Instant::now() < until {
        turn += 1;
        let read = reads[turn % reads.len()];
        let answer = match probe(&m.url(read), Duration::from_secs(5)) {
            None => "transport error".to_string(),
            Some(r) if r.status == 200 => {
                let v = node(&r)["value"].as_str().unwrap_or_default().to_string();
                assert_eq!(
                    v, latest,
                    "stale quorum read from the resumed {target}: {}",
                    r.body
                );
                v
            }
            Some(r) => {
                assert!(
                    r.status >= 500,
                    "quorum read on the resumed {target}: {} {}",
                    r.status,
                    r.body
                );
                format!("{} {}", r.status, r.body.trim())
            }
        };
        *answers.entry(answer).or_default() += 1;
    }
    println!("quorum reads on the resumed {target}: {answers:?}");
}

/// Every acknowledged key exactly once, with its value; anything else only for a request that
/// failed (it may or may not have been applied), and never twice.
fn check_queue(m: &Member, target: &str, (acked, unsure): &Outcome) {
    let listing = m.get("/v2/keys/queue?quorum=true&sorted=true");
    assert_eq!(listing.status, 200, "{}", listing.body);
    let present: Vec<(String, String)> = listing.json()["node"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| {
            n["value"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{target}-"))
        })
        .map(|n| {
            (
                n["key"].as_str().unwrap().to_string(),
                n["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (key, value) in acked {
        assert_eq!(
            present.iter().filter(|(_, v)| v == value).count(),
            1,
            "{value} in {present:?}"
        );
        assert!(
            present.contains(&(key.clone(), value.clone())),
            "{key}={value} lost"
        );
    }
    for (key, value) in &present {
        assert!(
            acked.iter().any(|(_, v)| v == value) || unsure.contains(value),
            "{key}={value} was never written"
        );
    }
    let distinct: BTreeSet<&String> = present.iter().map(|(_, v)| v).collect();
    assert_eq!(
        distinct.len(),
        present.len(),
        "a write applied twice: {present:?}"
    );
}

// 14. A rolling restart (SIGTERM, restart, one member at a time, followers first) under a steady
//     write load: writes keep succeeding while any one member is down, none acknowledged is
//     lost; and SIGTERM of the leader hands leadership over (etcd 3.4 transfers it before it
//     exits), so writes pause for well under an election.
#[test]
// Over 80 lines on purpose: one scenario whose steps build on the state the previous ones left.
fn a_rolling_restart_under_load_loses_nothing() {
    use std::os::unix::process::ExitStatusExt;
    use std::sync::atomic::{AtomicBool, Ordering};
    let mut c = Cluster::start(3);
    let urls: Vec<String> = c.members.iter().map(|m| m.client_url()).collect();
    let acked: Arc<Mutex<BTreeMap<String, (String, u64)>>> = Arc::default();
    let times: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    type Failure = (Instant, usize, Option<String>);
    let failures: Arc<Mutex<Vec<Failure>>> = Arc::default();
    // One writer per member, each with a short timeout (400 ms): a write proposed just as a
    // leader steps down can hang until the server's request timeout (real etcd: 6 s).
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (acked, times, done, failures) =
                (acked.clone(), times.clone(), done.clone(), failures.clone());
            let url = urls[w].clone();
            std::thread::spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(90);
                let mut i = 0usize;
                while !done.load(Ordering::SeqCst) && Instant::now() < deadline && i < 20_000 {
                    i += 1;
                    let key = format!("/v2/keys/roll/w{w}/k{i}");
                    let value = format!("v{i}");
                    let started = Instant::now();
                    let r = send(
                        &format!("{url}{key}"),
                        "PUT",
                        Some(&[("value", &value)]),
                        Duration::from_millis(400),
                    );
                    match r {
                        Some(r) if r.status == 201 => {
                            let idx = modified_index(&r);
                            acked.lock().unwrap().insert(key, (value, idx));
                            times.lock().unwrap().push(Instant::now());
                        }
                        r => {
                            failures.lock().unwrap().push((
                                started,
                                w,
                                r.map(|r| format!("{} {}", r.status, r.body.trim())),
                            ));
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                }
            })
        })
        .collect();
    let acks_between = |from: Instant, to: Instant| {
        times
            .lock()
            .unwrap()
            .iter()
            .filter(|t| **t > from && **t < to)
            .count()
    };
    let stop = |c: &mut Cluster, i: usize| {
        let status = c.members[i].term().expect("exit after SIGTERM");
        // Real etcd cleans up, then re-raises SIGTERM on itself (Go's osutil.HandleInterrupts).
        assert!(
            status.success() || status.signal() == Some(15),
            "{} after SIGTERM: {status}",
            c.members[i].name
        );
    };
    let began = Instant::now();
    wait_until(
        SETTLE,
        "10 writes acknowledged before the first restart",
        || acks_between(began, Instant::now()) >= 10,
    );
    let mut restarted = Vec::new();
    for _ in 0..3 {
        let l = c.leader();
        let i = (0..3)
            .filter(|i| !restarted.contains(i))
            .min_by_key(|i| *i == l)
            .unwrap();
        stop(&mut c, i);
        let from = Instant::now();
        poll_until(SETTLE, || acks_between(from, Instant::now()) >= 10);
        let n = acks_between(from, Instant::now());
        let failed: Vec<(Duration, usize, Option<String>)> = failures
            .lock()
            .unwrap()
            .iter()
            .filter(|f| f.0 > from)
            .map(|f| (f.0 - from, f.1, f.2.clone()))
            .collect();
        assert!(
            n > 0,
            "no write succeeded while {} (leader: {}) was down; failures: {failed:?}",
            c.members[i].name,
            i == l
        );
        c.members[i].restart();
        c.wait_leader(SETTLE);
        restarted.push(i);
    }
    // SIGTERM of the leader: the longest pause between two acknowledged writes.
    let l = c.leader();
    let resumed = Instant::now();
    wait_until(
        SETTLE,
        "10 writes acknowledged after the last restart",
        || acks_between(resumed, Instant::now()) >= 10,
    );
    let sent = Instant::now();
    stop(&mut c, l);
    // The gap is measured once writes have clearly resumed after the stop.
    let stopped = Instant::now();
    poll_until(SETTLE, || acks_between(stopped, Instant::now()) >= 10);
    let gap = {
        let t = times.lock().unwrap();
        let mut around: Vec<Instant> = t
            .iter()
            .copied()
            .filter(|x| *x > sent - Duration::from_millis(300))
            .collect();
        around.sort();
        around
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or(Duration::MAX)
    };
    c.members[l].restart();
    c.wait_leader(SETTLE);
    done.store(true, Ordering::SeqCst);
    for w in writers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    println!(
        "{} acknowledged writes; longest write pause around the leader's SIGTERM: {gap:?}",
        acked.len()
    );
    let l = c.leader();
    write_until_ok(&c.members[l], "PUT", "/v2/keys/barrier", &[("value", "x")]);
    wait_same_tree(&c, l, &[0, 1, 2]);
    for m in &c.members {
        for (key, (value, idx)) in &acked {
            let n = node(&m.get(key));
            assert_eq!(
                (n["value"].as_str(), n["modifiedIndex"].as_u64()),
                (Some(value.as_str()), Some(*idx)),
                "{key} on {}",
                m.name
            );
        }
    }
    // With a handover the pause is about one request timeout (a write proposed to the old
    // leader as it hands over is dropped; real etcd: 0.03-0.5 s); without one it is a whole
    // election (ours before the fix: 1.7-1.9 s).
    assert!(
        gap < Duration::from_millis(1000),
        "writes paused {gap:?} when the leader stopped gracefully (no leadership transfer?)"
    );
}
