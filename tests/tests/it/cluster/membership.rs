//! Membership changes through `/v2/members`: a member joining by snapshot, removals (the
//! leader's too), the API's errors and a member moving to a new peer URL.

use super::*;

// 6. Membership: add a member that catches up by snapshot, remove a follower, remove the leader.
#[test]
// Over 80 lines on purpose: one scenario whose steps build on the state the previous ones left.
fn members_join_by_snapshot_and_can_be_removed_including_the_leader() {
    let mut c = Cluster::start_with(3, &["--snapshot-count", "50"]);
    // Retried until each succeeds: on a loaded machine a write can time out ("etcdserver:
    // request timed out"), as on etcd; a sequential client's retry keeps the order.
    for i in 0..250 {
        let key = format!("/v2/keys/k{}", i % 40);
        write_until_ok(&c.members[i % 3], "PUT", &key, &[("value", &i.to_string())]);
    }
    let n4 = c.add_member(0);
    let l = c.wait_leader(SETTLE);
    let want = wait_same_tree(&c, l, &[0, 1, 2, n4]);
    assert!(want.contains(r#""key":"/k39","value":"239""#), "{want}");
    let r = c.members[n4].get("/v2/keys/k0");
    assert_eq!(node(&r)["value"], "240");
    let list = c.member_list();
    assert_eq!(list.len(), 4);
    let me = wait_for(SETTLE, "n4 to publish its name and client URL", || {
        c.member_list().into_iter().find(|m| {
            m["name"] == "n4" && m["clientURLs"].as_array().is_some_and(|a| !a.is_empty())
        })
    });
    assert_eq!(
        me["clientURLs"],
        serde_json::json!([c.members[n4].client_url()])
    );
    assert_eq!(
        me["peerURLs"],
        serde_json::json!([c.members[n4].peer_url()])
    );
    // It serves writes too.
    assert_eq!(
        c.members[n4]
            .put("/v2/keys/from-n4", &[("value", "x")])
            .status,
        201
    );
    // kill -9 and restart: the new member (started with `existing`), then an original member
    // whose --initial-cluster still lists three; both come back with four members.
    let l = c.leader();
    let g = (0..3).find(|i| *i != l).unwrap();
    for i in [n4, g] {
        c.members[i].kill();
        let r = write_until_ok(
            &c.members[l],
            "PUT",
            "/v2/keys/while-down",
            &[("value", &c.members[i].name.clone())],
        );
        assert_eq!(r.status / 100, 2);
        c.members[i].restart();
        c.wait_leader(SETTLE);
        wait_same_tree(&c, l, &[0, 1, 2, n4]);
        let r = c.members[i].get("/v2/members");
        assert_eq!(
            r.json()["members"].as_array().map(Vec::len),
            Some(4),
            "{}",
            r.body
        );
    }

    // Remove a follower: 204, it stops being listed and exits.
    let l = c.leader();
    let f = (0..4).find(|i| *i != l && *i != n4).unwrap();
    let fid = c.id(f);
    let r = c.delete_member(l, &fid);
    assert_eq!((r.status, r.body.as_str()), (204, ""), "remove follower");
    let status = wait_for(SETTLE, "the removed member to exit", || {
        c.members[f].exit_status()
    });
    println!("a removed member exits with {status}");
    assert!(status.success(), "{status}");
    assert_eq!(c.member_list().len(), 3);
    // Started again on its data dir, it learns it was removed and exits again; the cluster
    // does not take it back.
    c.members[f].kill(); // reap the first process
    c.members[f].spawn();
    let status = wait_for(SETTLE, "the removed member, restarted, to exit", || {
        c.members[f].exit_status()
    });
    println!("a removed member restarted on its data dir exits with {status}");
    assert!(status.success(), "{status}");
    assert_eq!(c.member_list().len(), 3);
    // etcd remembers removed ids: 410 for them, 404 for ids it never knew (checked at the end,
    // so that a difference here does not hide how the leader's removal goes).
    let again = c.members[l].delete(&format!("/v2/members/{fid}"));
    let unknown = c.members[l].delete("/v2/members/1234567890abcdef");

    // Remove the leader: the other two carry on and elect one of themselves.
    let lid = c.id(l);
    let rest: Vec<usize> = (0..4).filter(|i| *i != l && *i != f).collect();
    // The removed leader stops once it has applied its removal, after answering (real etcd
    // may close the connection instead; ours answers).
    let r = c
        .try_delete_member(l, &lid)
        .unwrap_or_else(|e| panic!("removing the leader: no answer ({e})"));
    assert_eq!((r.status, r.body.as_str()), (204, ""), "remove leader");
    wait_for(SETTLE, "the others to drop the removed leader", || {
        rest.iter()
            .all(|i| !c.members[*i].get("/v2/members").body.contains(lid.as_str()))
            .then_some(())
    });
    wait_for(SETTLE, "the removed leader to exit", || {
        c.members[l].exit_status().map(|_| ())
    });
    c.members[l].kill(); // reap
    c.members[f].kill();
    let r = write_until_ok(
        &c.members[rest[0]],
        "PUT",
        "/v2/keys/after-removal",
        &[("value", "1")],
    );
    assert_eq!(node(&r)["value"], "1");
    let nl = c.wait_leader_among(&rest, SETTLE);
    let r = c.members[rest[1]].get("/v2/members/leader");
    assert_eq!(r.status, 200, "{}", r.body);
    let leader = r.json();
    assert_eq!(leader["id"].as_str(), Some(c.id(nl).as_str()));
    assert_ne!(leader["id"].as_str(), Some(lid.as_str()));
    assert_eq!(leader["name"], c.members[nl].name.as_str());
    assert_eq!(c.member_list().len(), 2);
    wait_same_tree(&c, nl, &rest);

    assert_eq!(
        (unknown.status, unknown.body.trim_end()),
        (404, r#"{"message":"No such member: 1234567890abcdef"}"#)
    );
    assert_eq!(
        (again.status, again.body.trim_end()),
        (
            410,
            format!(r#"{{"message":"Member permanently removed: {fid}"}}"#).as_str()
        ),
        "DELETE of an already removed member"
    );
}

// 13. The members API's errors (exact bodies where etcd's are reproducible).
#[test]
fn member_api_errors_match_etcd() {
    let c = Cluster::start(3);
    let l = c.leader();
    let json =
        |method: &str, path: &str, body: &str| members_json(&c.members[l], method, path, body);
    // Statuses are asserted at once; body differences are collected and asserted at the end,
    // so that a small one does not hide the others.
    let diffs = std::cell::RefCell::new(Vec::<String>::new());
    let check = |r: Resp, status: u16, body: &str| {
        assert_eq!(r.status, status, "{}", r.body);
        if r.body != body {
            diffs
                .borrow_mut()
                .push(format!("{status}: {:?}, want {body:?}", r.body));
        }
    };
    // A peer URL in use: 409 (post_member waits out real etcd's 5 s health window).
    let r = c.post_member(l, &c.members[2].peer_url());
    check(r, 409, r#"{"message":"membership: peerURL exists"}"#);
    let r = request_raw(
        "POST",
        &c.members[l].url("/v2/members"),
        "text/plain",
        br#"{"peerURLs":["http://127.0.0.1:1"]}"#.to_vec(),
    );
    check(
        r,
        415,
        r#"{"message":"Bad Content-Type text/plain, accept application/json"}"#,
    );
    let r = json("POST", "/v2/members", r#"{"peerURLs":["nope"]}"#);
    check(
        r,
        400,
        r#"{"message":"URL scheme must be http, https, unix, or unixs: nope"}"#,
    );
    let r = json("POST", "/v2/members", r#"{"peerURLs":[]}"#);
    check(r, 400, r#"{"message":"no valid URLs given"}"#);
    // Go's JSON error text cannot be matched word for word; the status and shape can.
    let r = json("POST", "/v2/members", "{bad");
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.json()["message"].is_string(), "{}", r.body);
    let r = json(
        "PUT",
        "/v2/members/1234567890abcdef",
        r#"{"peerURLs":["http://127.0.0.1:2"]}"#,
    );
    check(r, 404, r#"{"message":"No such member: 1234567890abcdef"}"#);
    let id = c.id((0..3).find(|i| *i != l).unwrap());
    let taken = c.members[l].peer_url();
    let r = json(
        "PUT",
        &format!("/v2/members/{id}"),
        &format!(r#"{{"peerURLs":["{taken}"]}}"#),
    );
    check(r, 409, r#"{"message":"membership: peerURL exists"}"#);
    assert_eq!(
        c.member_list().len(),
        3,
        "no member was added by the errors"
    );
    assert_eq!(
        diffs.into_inner(),
        Vec::<String>::new(),
        "members API bodies"
    );
}

/// A members-API request with a JSON body on member `m`.
fn members_json(m: &Member, method: &str, path: &str, body: &str) -> Resp {
    request_raw(
        method,
        &m.url(path),
        "application/json",
        body.as_bytes().to_vec(),
    )
}

// 13b. A member that moves to a new peer URL: PUT /v2/members/<id>, then a restart on the new
//      port (etcd's documented order).
#[test]
fn a_member_moves_to_a_new_peer_url() {
    let mut c = Cluster::start(3);
    let l = c.leader();
    let mover = (0..3).find(|i| *i != l).unwrap();
    let id = c.id(mover);
    let old_url = c.members[mover].peer_url();
    let new_port = etcd_tests::free_port();
    let new_url = format!("http://127.0.0.1:{new_port}");
    let r = members_json(
        &c.members[l],
        "PUT",
        &format!("/v2/members/{id}"),
        &format!(r#"{{"peerURLs":["{new_url}"]}}"#),
    );
    assert_eq!((r.status, r.body.as_str()), (204, ""), "member update");
    // Every other member must list the new URL (a 204 means the change is committed). Not the
    // mover: the leader replicates to the new URL at once, where nothing listens until the
    // restart below, so the mover may learn of its own move only then. (`member_list` asks the
    // first running member, sometimes the mover: that made this wait time out under load.)
    let others: Vec<usize> = (0..3).filter(|i| *i != mover).collect();
    wait_listed(&c, &others, &id, &new_url);
    let listed = c.members[others[0]].get("/v2/members").json()["members"]
        .as_array()
        .and_then(|ms| ms.iter().find(|m| m["id"] == id.as_str()).cloned());
    assert_eq!(
        listed.map(|m| m["name"].clone()),
        Some(serde_json::json!(c.members[mover].name))
    );
    let m = &mut c.members[mover];
    m.kill();
    m.ends.peer_port = new_port;
    for a in m.args.iter_mut() {
        *a = a.replace(&old_url, &new_url);
    }
    write_until_ok(&c.members[l], "PUT", "/v2/keys/moved", &[("value", "1")]);
    c.members[mover].restart();
    let nl = c.wait_leader(SETTLE);
    wait_same_tree(&c, nl, &[0, 1, 2]);
    assert_eq!(c.id(mover), id, "same member after the move");
    let r = write_until_ok(
        &c.members[mover],
        "PUT",
        "/v2/keys/from-moved",
        &[("value", "2")],
    );
    assert_eq!(node(&r)["value"], "2");
    // Whoever leads now (a loaded machine may see another election) appends to the moved
    // member at its new URL; asking a leader fixed before the poll would wait on a follower's
    // 403 after such an election.
    wait_for(SETTLE, "the leader's appends to the moved member", || {
        let leader = c.wait_leader(SETTLE);
        if leader == mover {
            return Some(());
        }
        let s = c.members[leader].get("/v2/stats/leader");
        (s.status == 200 && s.json()["followers"][id.as_str()]["counts"]["success"].as_u64()? > 0)
            .then_some(())
    });
}

/// Wait until every member in `members` lists member `id` with exactly `url` as its peer URL;
/// on a timeout, show what each member lists.
fn wait_listed(c: &Cluster, members: &[usize], id: &str, url: &str) {
    let moved = |m: &Member| {
        probe(&m.url("/v2/members"), Duration::from_secs(5)).is_some_and(|r| {
            r.status == 200
                && r.json()["members"].as_array().is_some_and(|ms| {
                    ms.iter()
                        .any(|m| m["id"] == id && m["peerURLs"] == serde_json::json!([url]))
                })
        })
    };
    if !poll_until(SETTLE, || members.iter().all(|i| moved(&c.members[*i]))) {
        let lists: Vec<String> = c
            .members
            .iter()
            .map(
                |m| match probe(&m.url("/v2/members"), Duration::from_secs(5)) {
                    Some(r) => format!("{} ({:?}): {}", m.name, m.leader_view(), r.body.trim()),
                    None => format!("{}: no answer", m.name),
                },
            )
            .collect();
        panic!(
            "PUT /v2/members/{id} answered 204, yet after {SETTLE:?} not every member lists \
             {url}:\n{}",
            lists.join("\n")
        );
    }
}
