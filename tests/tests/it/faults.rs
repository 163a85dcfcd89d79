//! Fault scenarios (issue 8): three members whose peer links cross our proxy, clients on every
//! member, a fault held for a few seconds, then the heal. Each asserts that within three
//! election timeouts of the heal a write succeeds and every member's /health is true, and that
//! the history is linearizable, no acknowledged POST was lost and the watcher saw every
//! acknowledged write once, in order. Each prints a `fault-report` line (time from heal to the
//! first write, peer connections opened); `FAULT_REPORT=<file>` collects them.
//! `FAULT_HOLD_MS=20000` makes a soak of every scenario. `ETCD_BIN=/usr/bin/etcd` runs real etcd
//! too. `follower_fsync_stalls` uses our test-only `ETCD_TEST_FSYNC_STALL_FILE` hook (real etcd
//! runs it unstalled); `random_mix` chains 3-4 of the other faults, seeded (`FAULT_SEED`).
//! Scenarios where the leader is lost (isolated, mute, deaf, killed, stopped) also assert
//! failover: the other two acknowledge a write within three election timeouts of the fault
//! (four for a deaf leader, see `Scenario::failover_limit`), the fault held past that. A
//! follower black-holed for five election timeouts must not depose the leader on its return.

use std::time::Duration;

use etcd_tests::fault::scenario::{Fault, Scenario, assert_passes, run};
use etcd_tests::fault::{Net, Timing};

/// Three members behind the proxy at etcd's default timing, and the index of their leader.
fn three_members_at_etcd_timing() -> (Net, Timing, usize) {
    let timing = Timing {
        heartbeat_ms: 100,
        election_ms: 1000,
    };
    let net = Net::start(3, timing, Duration::from_millis(0));
    let l = net.leader(Duration::from_secs(10));
    (net, timing, l)
}

fn scenario(name: &'static str, fault: Fault) {
    let s = Scenario::new(name, fault);
    let r = run(&s);
    assert_passes(&s, &r);
}

#[test]
fn baseline_without_faults() {
    scenario("none", Fault::None);
}

#[test]
fn leader_isolated_both_ways() {
    scenario("leader isolated both ways", Fault::IsolateLeader);
}

#[test]
fn follower_black_holed() {
    scenario("follower black-holed", Fault::BlackholeFollower);
}

#[test]
fn minority_partition() {
    scenario("minority partition", Fault::MinorityPartition);
}

#[test]
fn leader_killed() {
    scenario("leader kill -9", Fault::KillLeader);
}

#[test]
fn follower_killed() {
    scenario("follower kill -9", Fault::KillFollower);
}

#[test]
fn leader_stopped_past_the_election_timeout() {
    scenario("leader SIGSTOP", Fault::StopLeader);
}

#[test]
fn every_link_delayed_25ms() {
    scenario(
        "every link +25 ms",
        Fault::DelayAll(Duration::from_millis(25)),
    );
}

#[test]
fn leader_mute() {
    scenario("leader isolated one way (cannot send)", Fault::LeaderMute);
}

#[test]
fn leader_deaf() {
    scenario(
        "leader isolated one way (cannot receive)",
        Fault::LeaderDeaf,
    );
}

#[test]
fn everyone_killed() {
    scenario("kill -9 of all three", Fault::KillAll);
}

#[test]
fn rolling_restart() {
    scenario("rolling restart", Fault::RollingRestart);
}

#[test]
fn follower_fsync_stalls() {
    scenario(
        "follower fsync stalls 200 ms now and then",
        Fault::SlowFsyncFollower,
    );
}

/// `FAULT_SEED=<n>` runs another mix; the default one is fixed so that CI is repeatable.
#[test]
fn random_mix() {
    let seed = std::env::var("FAULT_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    scenario("random mix", Fault::RandomMix(seed));
}

/// The leader is killed while its own fsync lags what it already sent to its followers (they
/// committed those entries without it). Restarted, it must stand for election rather than
/// resume its old term with a shorter log: resuming, it handed out the same log ids again for
/// new entries, and the followers, seeing ids they already held, kept their old entries — two
/// logs, and acknowledged writes lost. Afterwards every member must hold the same tree.
#[test]
fn leader_killed_while_its_fsync_lags_its_followers() {
    use etcd_tests::fault::poll;
    use etcd_tests::fault::workload::replica_trees;

    let timing = Timing {
        heartbeat_ms: 100,
        election_ms: 1000,
    };
    let mut net = Net::start(3, timing, Duration::from_millis(0));
    let l = net.leader(Duration::from_secs(10));
    let urls: Vec<String> = net.nodes.iter().map(|n| n.client_url()).collect();
    let put = |url: &str, key: &str, value: &str| {
        etcd_tests::http::send_raw(
            &format!("{url}/v2/keys/fault/{key}"),
            "PUT",
            Some(&[("value", value)]),
            Duration::from_secs(3),
        )
        .ok()
        .map(|r| r.status().as_u16())
    };
    // Every commit of the leader's log now sleeps 5 s: what it writes next is durable on the
    // followers only. The hook rereads its file at most every 50 ms, so the first few writes
    // below may still be ordinary ones; the first commit that stalls holds every later one
    // for the rest of the loop.
    net.nodes[l].set_fsync_stall(Some((Duration::from_secs(5), Duration::ZERO)));
    let mut acked = 0;
    for i in 0..30 {
        if put(&urls[l], &format!("k{}", i % 5), &format!("before-{i}")) == Some(200) {
            acked += 1;
        }
    }
    assert!(
        acked > 0,
        "no write was acknowledged while the leader's fsync stalled"
    );
    net.nodes[l].kill();
    net.nodes[l].set_fsync_stall(None);
    net.nodes[l].spawn();
    // Writes through every member after the restart, whoever leads.
    let mut last = 0u64;
    let mut written = 0;
    for i in 0..200 {
        let url = &urls[i % 3];
        let r = etcd_tests::http::send_raw(
            &format!("{url}/v2/keys/fault/k{}", i % 5),
            "PUT",
            Some(&[("value", &format!("after-{i}"))]),
            Duration::from_secs(3),
        );
        if let Ok(r) = r
            && r.status().as_u16() / 100 == 2
            && let Some(index) = r
                .headers()
                .get("x-etcd-index")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
        {
            last = last.max(index);
            written += 1;
            if written == 30 {
                break;
            }
        } else {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    assert_eq!(
        written, 30,
        "the cluster did not take writes after the restart"
    );
    assert!(
        poll(Duration::from_secs(10), || net.all_healthy()),
        "not healthy after the restart"
    );
    let trees = replica_trees(&urls, last);
    assert!(trees.iter().all(Option::is_some), "a member gave no tree");
    assert!(
        trees.windows(2).all(|w| w[0] == w[1]),
        "replicas diverged: {trees:#?}"
    );
}

/// A follower forwarding to a leader that went silent (black-holed both ways, its sockets kept
/// open) gives up on it once the rest of the cluster has moved on: the write is answered with
/// etcd's "possibly due to previous leader failure" (it may have reached the old leader), a
/// quorum read is asked again of the new leader and answered — both within a few election
/// timeouts, not after the 7 s request timeout. (Real etcd answers the write only then, so
/// with `ETCD_BIN` this fails: a deliberate difference, see README.)
#[test]
fn a_forward_to_a_leader_that_went_silent_ends_at_the_next_election() {
    use etcd_tests::fault::proxy::Link;
    use std::time::Instant;

    let (net, timing, l) = three_members_at_etcd_timing();
    let f = (l + 1) % 3;
    let url = net.nodes[f].url("/v2/keys/fault/w");
    let put = |value: &str| {
        let r = etcd_tests::http::send_raw(
            &url,
            "PUT",
            Some(&[("value", value)]),
            Duration::from_secs(20),
        )
        .expect("an answer");
        let status = r.status().as_u16();
        (status, r.text().unwrap_or_default())
    };
    // Through the follower while the leader is reachable: it forwards, and keeps the connection.
    assert_eq!(put("1").0, 201);

    net.proxy.isolate(l, 3, Link::Drop);
    let started = Instant::now();
    let read_url = format!("{url}?quorum=true");
    let read = std::thread::spawn(move || {
        let r = etcd_tests::http::send_raw(&read_url, "GET", None, Duration::from_secs(20));
        let took = started.elapsed();
        r.map(|r| (r.status().as_u16(), r.text().unwrap_or_default(), took))
    });
    let (status, body) = put("2");
    let took = started.elapsed();
    let limit = 3 * timing.election();
    assert!(took < limit, "the forwarded write took {took:?}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    assert_eq!(
        (status, v["errorCode"].as_u64(), v["cause"].as_str()),
        (
            500,
            Some(300),
            Some("etcdserver: request timed out, possibly due to previous leader failure")
        ),
        "{body}"
    );
    let (status, body, took) = read.join().unwrap().expect("the quorum read answered");
    assert!(took < limit, "the forwarded quorum read took {took:?}");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    assert_eq!(v["node"]["value"], "1", "{body}");
    net.proxy.heal();
}

/// etcd's check-quorum: a leader cut off from both followers stops acting as leader within
/// about two election timeouts: `/v2/stats/leader` refuses as on any follower and
/// `/v2/members/leader` answers 503 "During election" (real etcd 3.4 does both), and
/// `/v2/stats/self` says `StateFollower` with no leader (real etcd keeps saying `StateLeader`,
/// a stale stat: with `ETCD_BIN` this fails, see README). openraft keeps the role and only
/// refuses new proposals once its quorum lease runs out; we report what etcd's raft does.
/// Once healed the cluster has exactly one leader again.
#[test]
fn an_isolated_leader_stops_calling_itself_leader() {
    use etcd_tests::fault::poll;
    use etcd_tests::fault::proxy::Link;

    let (net, timing, l) = three_members_at_etcd_timing();
    let get = |i: usize, path: &str| -> (u16, serde_json::Value) {
        etcd_tests::http::send_raw(&net.nodes[i].url(path), "GET", None, Duration::from_secs(2))
            .ok()
            .map(|r| {
                let status = r.status().as_u16();
                let body = r.text().unwrap_or_default();
                (status, serde_json::from_str(&body).unwrap_or_default())
            })
            .unwrap_or_default()
    };
    let (_, before) = get(l, "/v2/stats/self");
    assert_eq!(before["state"], "StateLeader", "{before}");
    assert_eq!(
        before["leaderInfo"]["leader"],
        net.ids[l].as_str(),
        "{before}"
    );

    net.proxy.isolate(l, 3, Link::Drop);
    let mut seen = Default::default();
    let stepped_down = poll(3 * timing.election(), || {
        seen = (get(l, "/v2/stats/leader"), get(l, "/v2/members/leader"));
        seen.0.0 == 403 && seen.1.0 == 503
    });
    assert!(
        stepped_down,
        "three election timeouts after the cut: {seen:?}"
    );
    assert_eq!(seen.1.1["message"], "During election", "{seen:?}");
    let (_, me) = get(l, "/v2/stats/self");
    assert_eq!(me["state"], "StateFollower", "{me}");
    assert_eq!(me["leaderInfo"]["leader"], "", "{me}");

    net.proxy.heal();
    let again = net.leader(3 * timing.election());
    let leaders = (0..3)
        .filter(|i| get(*i, "/v2/stats/self").1["state"] == "StateLeader")
        .count();
    assert_eq!(
        leaders,
        1,
        "leaders after the heal (agreed on n{})",
        again + 1
    );
}
