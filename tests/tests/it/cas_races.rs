//! Compare-and-swap races on one key, as a counter's clients run them: every client read the
//! same index and swaps on it. One wins; every other is answered 412 naming the winner's index,
//! exactly as etcd answers it. On ours the losers cost no log entry: they wait for the winner
//! and are answered from the tree it leaves (real etcd spends an entry on each).

use std::sync::Barrier;

use etcd_tests::cluster::Cluster;
use etcd_tests::{Api, Resp, Server};

const CLIENTS: usize = 16;

/// Every target swaps `/v2/keys/counter` on `prev_index` at once (after a barrier).
fn race(targets: &[&(dyn Api + Sync)], prev_index: u64) -> Vec<Resp> {
    let barrier = Barrier::new(targets.len());
    std::thread::scope(|s| {
        let handles: Vec<_> = targets
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let barrier = &barrier;
                s.spawn(move || {
                    let value = format!("client{i}");
                    barrier.wait();
                    t.put(
                        &format!("/v2/keys/counter?prevIndex={prev_index}"),
                        &[("value", value.as_str())],
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// One 200 whose swap came from `prev_index`, and every other answer the 412 for it; returns
/// the winner's index.
fn one_winner(answers: &[Resp], prev_index: u64) -> u64 {
    let won: Vec<&Resp> = answers.iter().filter(|r| r.status == 200).collect();
    assert_eq!(won.len(), 1, "one winner: {answers:?}");
    let winner = won[0].json();
    assert_eq!(winner["action"], "compareAndSwap");
    assert_eq!(winner["prevNode"]["modifiedIndex"], prev_index);
    let at = winner["node"]["modifiedIndex"].as_u64().unwrap();
    let lost = format!(
        "{{\"errorCode\":101,\"message\":\"Compare failed\",\"cause\":\"[{prev_index} != {at}]\",\"index\":{at}}}\n"
    );
    for r in answers.iter().filter(|r| r.status != 200) {
        assert_eq!((r.status, r.body.as_str()), (412, lost.as_str()));
        assert_eq!(r.header("X-Etcd-Index"), Some(at.to_string().as_str()));
    }
    at
}

fn raft_index(m: &impl Api) -> u64 {
    let r = m.get("/v2/keys/counter");
    r.header("X-Raft-Index").unwrap().parse().unwrap()
}

#[test]
fn sixteen_swaps_on_one_index_make_one_winner_and_fifteen_412s() {
    let d = Server::start();
    let mut at = d.put("/v2/keys/counter", &[("value", "0")]).etcd_index();
    for round in 0..3 {
        let before = raft_index(&d);
        let targets: Vec<&(dyn Api + Sync)> = vec![&d; CLIENTS];
        at = one_winner(&race(&targets, at), at);
        let spent = raft_index(&d) - before;
        if d.is_real() {
            assert!(spent >= CLIENTS as u64, "round {round}: {spent} entries");
        } else {
            assert_eq!(spent, 1, "round {round}: the losers spent log entries");
        }
    }
    let stats = d.get("/v2/stats/store").json();
    assert_eq!(stats["compareAndSwapSuccess"], 3);
    assert_eq!(stats["compareAndSwapFail"], 3 * (CLIENTS as u64 - 1));
}

#[test]
fn swaps_racing_through_a_follower_and_the_leader_make_one_winner() {
    let c = Cluster::start(3);
    let (l, f) = (c.leader(), c.follower());
    let leader: &etcd_tests::Daemon = &c.members[l];
    let follower: &etcd_tests::Daemon = &c.members[f];
    let mut at = leader
        .put("/v2/keys/counter", &[("value", "0")])
        .etcd_index();
    for round in 0..2 {
        let before = raft_index(leader);
        let targets: Vec<&(dyn Api + Sync)> = (0..CLIENTS)
            .map(|i| {
                if i % 2 == 0 {
                    leader as _
                } else {
                    follower as _
                }
            })
            .collect();
        at = one_winner(&race(&targets, at), at);
        if !leader.is_real() {
            assert_eq!(raft_index(leader) - before, 1, "round {round}");
        }
    }
    // A loser answered early on the follower is a loser there too: its tree has the winner.
    let r = follower.put("/v2/keys/counter?prevIndex=1", &[("value", "late")]);
    assert_eq!(r.status, 412);
}
