//! Replication: forwarding and linearizable reads on followers, agreeing indexes and terms,
//! five members with two down, and leader statistics.

use super::*;

// 1. Writes on followers are forwarded; quorum reads anywhere see an acknowledged write at once.
#[test]
// Over 80 lines on purpose: one scenario whose steps build on the state the previous ones left.
fn writes_on_followers_are_forwarded_and_visible_on_every_member() {
    let c = Cluster::start(3);
    let l = c.leader();
    let mut order: Vec<usize> = (0..3).filter(|i| *i != l).collect();
    order.push(l);
    for i in order {
        let key = format!("/v2/keys/from-n{}", i + 1);
        let value = format!("v{i}");
        let r = c.members[i].put(&key, &[("value", &value)]);
        assert_eq!(r.status, 201, "write on {}: {}", c.members[i].name, r.body);
        let n = node(&r);
        assert_eq!(r.json()["action"], "set");
        assert_eq!(n["key"], key.trim_start_matches("/v2/keys"));
        assert_eq!(n["value"], value);
        let idx = modified_index(&r);
        assert_eq!(n["createdIndex"].as_u64(), Some(idx));
        assert_eq!(r.etcd_index(), idx, "X-Etcd-Index of the write");
        // A linearizable read on every member, right after the acknowledgement.
        for other in &c.members {
            let g = other.get(&format!("{key}?quorum=true"));
            assert_eq!(
                g.status, 200,
                "quorum read on {} after write on {}: {}",
                other.name, c.members[i].name, g.body
            );
            assert_eq!(node(&g)["value"], value);
            assert_eq!(modified_index(&g), idx);
        }
        // Default reads are local and may lag, but converge.
        for other in &c.members {
            wait_for(SETTLE, &format!("{key} on {}", other.name), || {
                let g = other.get(&key);
                (g.status == 200
                    && node(&g)["value"] == value.as_str()
                    && modified_index(&g) == idx)
                    .then_some(())
            });
        }
    }
    // Failed writes on a follower: etcd's error body, with the index of the last change, and
    // the same index in X-Etcd-Index.
    let f = c.follower();
    let cur = wait_for(SETTLE, "an agreed X-Etcd-Index", || {
        let seen: Vec<u64> = c
            .members
            .iter()
            .map(|m| m.get("/v2/keys/").etcd_index())
            .collect();
        seen.iter().all(|i| *i == seen[0]).then(|| seen[0])
    });
    /// Method, path, form, expected status and body.
    type Case<'a> = (
        &'a str,
        &'a str,
        &'a [(&'a str, &'a str)],
        u16,
        serde_json::Value,
    );
    let cases: [Case; 3] = [
        (
            "PUT",
            "/v2/keys/from-n1?prevValue=wrong",
            &[("value", "x")],
            412,
            serde_json::json!({"errorCode": 101, "message": "Compare failed",
                "cause": "[wrong != v0]", "index": cur}),
        ),
        (
            "PUT",
            "/v2/keys/from-n1?prevExist=false",
            &[("value", "x")],
            412,
            serde_json::json!({"errorCode": 105, "message": "Key already exists",
                "cause": "/from-n1", "index": cur}),
        ),
        (
            "DELETE",
            "/v2/keys/nope",
            &[],
            404,
            serde_json::json!({"errorCode": 100, "message": "Key not found",
                "cause": "/nope", "index": cur}),
        ),
    ];
    for (method, path, form, status, body) in cases {
        let r = c.members[f].request(method, path, Some(form));
        assert_eq!(
            (r.status, r.json()),
            (status, body),
            "{method} {path} on a follower"
        );
        assert_eq!(r.etcd_index(), cur, "X-Etcd-Index of {method} {path}");
    }
}

// 2. Every member reports the same X-Etcd-Index once writes settle and the same X-Raft-Term;
//    the term rises when the leader changes.
#[test]
fn etcd_index_and_raft_term_agree_across_members_and_the_term_rises_on_a_leader_change() {
    let mut c = Cluster::start(3);
    let mut last = 0;
    for k in 0..15 {
        let r = c.members[k % 3].put(&format!("/v2/keys/k{k}"), &[("value", "x")]);
        assert_eq!(r.status, 201, "{}", r.body);
        last = modified_index(&r);
    }
    let agreed = |c: &Cluster, who: &[usize]| -> (u64, u64) {
        wait_for(
            SETTLE,
            "members to agree on X-Etcd-Index and X-Raft-Term",
            || {
                let seen: Vec<(u64, u64)> = who
                    .iter()
                    .map(|i| {
                        let r = c.members[*i].get("/v2/keys/");
                        let term = r.header("X-Raft-Term").and_then(|t| t.parse().ok());
                        (r.etcd_index(), term.expect("X-Raft-Term"))
                    })
                    .collect();
                seen.iter().all(|s| *s == seen[0]).then(|| seen[0])
            },
        )
    };
    let (index, term) = agreed(&c, &[0, 1, 2]);
    assert!(index >= last, "X-Etcd-Index {index} < last write {last}");
    assert!(term >= 1);

    // A leader change: the leader stops gracefully; the others agree on a higher term.
    let l = c.leader();
    c.members[l].term();
    let rest: Vec<usize> = (0..3).filter(|i| *i != l).collect();
    c.wait_leader_among(&rest, SETTLE);
    let r = write_until_ok(
        &c.members[rest[0]],
        "PUT",
        "/v2/keys/after",
        &[("value", "y")],
    );
    let after = modified_index(&r);
    let (index2, term2) = agreed(&c, &rest);
    assert!(term2 > term, "term did not rise: {term} -> {term2}");
    assert!(index2 >= after);

    // The old leader comes back as a follower and agrees too.
    c.members[l].restart();
    c.wait_leader(SETTLE);
    let (_, term3) = agreed(&c, &[0, 1, 2]);
    assert!(term3 >= term2);
}

// 9. Five members survive two down (the leader and a follower); the two catch up by snapshot
//    (the log behind is purged), and what they installed survives a kill -9 of everyone.
#[test]
fn five_members_survive_two_down() {
    let mut c = Cluster::start_with(5, &["--snapshot-count", "50"]);
    let l = c.leader();
    let f = (0..5).find(|i| *i != l).unwrap();
    let down = [l, f];
    let rest: Vec<usize> = (0..5).filter(|i| !down.contains(i)).collect();
    for i in down {
        c.members[i].kill();
    }
    write_until_ok(
        &c.members[rest[0]],
        "PUT",
        "/v2/keys/first",
        &[("value", "x")],
    );
    // Each write retried until it succeeds: with two of five down a loaded machine can see an
    // election, and a write during one fails ("has to forward request to: None"), as on etcd.
    for k in 0..150 {
        let m = &c.members[rest[k % 3]];
        let key = format!("/v2/keys/k{}", k % 30);
        write_until_ok(m, "PUT", &key, &[("value", &k.to_string())]);
    }
    let nl = c.wait_leader_among(&rest, SETTLE);
    for i in down {
        c.members[i].restart();
    }
    c.wait_leader(SETTLE);
    let want = wait_same_tree(&c, nl, &[0, 1, 2, 3, 4]);
    assert!(want.contains(r#""key":"/k29","value":"149""#), "{want}");

    // Everyone crashes at once; every member comes back with the same tree.
    for m in &mut c.members {
        m.kill();
    }
    for m in &mut c.members {
        m.spawn();
    }
    for m in &mut c.members {
        m.wait_ready();
    }
    let l = c.leader();
    write_until_ok(&c.members[l], "PUT", "/v2/keys/barrier", &[("value", "x")]);
    wait_same_tree(&c, l, &[0, 1, 2, 3, 4]);
    for i in down {
        let r = c.members[i].get("/v2/keys/k29");
        assert_eq!(
            node(&r)["value"],
            "149",
            "{} after the crash",
            c.members[i].name
        );
    }
}

// 11. Leader statistics: followers with successful appends on the leader, 403 on followers.
#[test]
fn leader_stats_list_every_follower_and_followers_refuse_them() {
    let c = Cluster::start(3);
    for k in 0..3 {
        assert_eq!(
            c.members[k]
                .put(&format!("/v2/keys/s{k}"), &[("value", "x")])
                .status,
            201
        );
    }
    let l = c.leader();
    let lid = c.id(l);
    let follower_ids: BTreeSet<String> = (0..3).filter(|i| *i != l).map(|i| c.id(i)).collect();
    let stats = wait_for(SETTLE, "successful appends to every follower", || {
        let s = c.members[l].get("/v2/stats/leader").json();
        s["followers"]
            .as_object()?
            .values()
            .all(|f| f["counts"]["success"].as_u64().is_some_and(|n| n > 0))
            .then_some(s)
    });
    assert_eq!(stats["leader"], lid.as_str());
    let listed: BTreeSet<String> = stats["followers"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(listed, follower_ids);
    for f in stats["followers"].as_object().unwrap().values() {
        // Failures are counted too (appends sent while a member was still starting).
        assert!(f["counts"]["fail"].is_u64(), "{f}");
        assert!(f["latency"]["current"].is_number(), "{f}");
    }
    let mut states = Vec::new();
    for (i, m) in c.members.iter().enumerate() {
        let s = m.stats_self().expect("stats/self");
        assert_eq!(s["name"], m.name.as_str());
        assert_eq!(s["id"], c.id(i).as_str());
        assert_eq!(s["leaderInfo"]["leader"], lid.as_str());
        states.push(s["state"].as_str().unwrap().to_string());
        if i != l {
            let r = m.get("/v2/stats/leader");
            assert_eq!(
                (r.status, r.body.as_str()),
                (403, r#"{"message":"not current leader"}"#),
                "/v2/stats/leader on follower {}",
                m.name
            );
        }
    }
    let leaders = states.iter().filter(|s| *s == "StateLeader").count();
    let followers = states.iter().filter(|s| *s == "StateFollower").count();
    assert_eq!((leaders, followers), (1, 2), "{states:?}");
}
