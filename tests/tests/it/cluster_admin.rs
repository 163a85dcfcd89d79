//! etcd 0.4's cluster admin API on the peer port (`/v2/admin/config`, `/v2/admin/machines`), as
//! the reference documents show it. Real etcd 3.4 answers 404 there, so these run against ours
//! only.

use std::time::Duration;

use etcd_tests::cluster::Cluster;
use etcd_tests::{Api, Resp, Server, request_raw, running_real, try_request, wait_for};

const SETTLE: Duration = Duration::from_secs(60);
const DEFAULTS: &str = "{\"activeSize\":9,\"removeDelay\":1800,\"syncInterval\":5}\n";

fn put_config(peer_url: &str, body: &str, auth: Option<&str>) -> Resp {
    let client = reqwest::blocking::Client::new();
    let mut req = client
        .put(format!("{peer_url}/v2/admin/config"))
        .body(body.to_string());
    if let Some((u, p)) = auth.and_then(|a| a.split_once(':')) {
        req = req.basic_auth(u, Some(p));
    }
    etcd_tests::http::into_resp(req.send().expect("PUT /v2/admin/config")).expect("response")
}

fn get(url: &str) -> Resp {
    try_request("GET", url, None).unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// PUT `value` at `url` until it succeeds: the cluster may be changing its membership.
fn put_until_ok(url: &str, value: &str, what: &str) -> Resp {
    wait_for(SETTLE, what, || {
        let r = try_request("PUT", url, Some(&[("value", value)])).ok()?;
        (r.status / 100 == 2).then_some(r)
    })
}

/// `/v2/admin/machines` of the member at `peer_url`, as (name, state) pairs.
fn machines(peer_url: &str) -> Option<Vec<(String, String)>> {
    let r = try_request("GET", &format!("{peer_url}/v2/admin/machines"), None).ok()?;
    let list = r.json();
    Some(
        list.as_array()?
            .iter()
            .map(|m| {
                (
                    m["name"].as_str().unwrap_or("").into(),
                    m["state"].as_str().unwrap_or("").into(),
                )
            })
            .collect(),
    )
}

#[test]
fn config_and_machines_as_the_04_docs_show_them_and_the_policy_caps_and_shrinks_the_cluster() {
    if running_real() {
        eprintln!("skipped: etcd 3.4 has no 0.4 admin API");
        return;
    }
    let mut c = Cluster::start(3);
    let l = c.leader();
    let f = c.follower();
    let other = (0..3).find(|i| *i != l && *i != f).expect("a third member");

    // The defaults while no policy is set; the policy is off (members are not capped).
    let r = get(&format!("{}/v2/admin/config", c.members[f].peer_url()));
    assert_eq!((r.status, r.body.as_str()), (200, DEFAULTS));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        get(&format!(
            "{}/v2/keys/_etcd/config",
            c.members[f].client_url()
        ))
        .status,
        404
    );

    // Machines by name, sorted, the leader marked; one by name; an unknown name is `null`.
    let r = get(&format!("{}/v2/admin/machines", c.members[f].peer_url()));
    assert_eq!(r.status, 200);
    let want: Vec<serde_json::Value> = (0..3)
        .map(|i| {
            serde_json::json!({
                "name": c.members[i].name,
                "state": if i == l { "leader" } else { "follower" },
                "clientURL": c.members[i].client_url(),
                "peerURL": c.members[i].peer_url(),
            })
        })
        .collect();
    assert_eq!(r.json(), serde_json::Value::Array(want.clone()));
    assert!(
        r.body.starts_with("[{\"name\":\"n1\",\"state\":"),
        "{}",
        r.body
    );
    assert!(r.body.ends_with("}]\n"), "{}", r.body);
    let r = get(&format!(
        "{}/v2/admin/machines/{}",
        c.members[l].peer_url(),
        c.members[f].name
    ));
    assert_eq!(r.json(), want[f]);
    let r = get(&format!(
        "{}/v2/admin/machines/nobody",
        c.members[l].peer_url()
    ));
    assert_eq!((r.status, r.body.as_str()), (200, "null\n"));

    // Bad bodies and methods.
    let peer_f = c.members[f].peer_url();
    let r = put_config(&peer_f, "{\"activeSize\":", None);
    assert_eq!(r.status, 400, "{}", r.body);
    let r = put_config(&peer_f, "[3]", None);
    assert_eq!(r.status, 400, "{}", r.body);
    let r = try_request("POST", &format!("{peer_f}/v2/admin/config"), None).expect("POST");
    assert_eq!((r.status, r.header("allow")), (405, Some("GET,HEAD,PUT")));

    // The docs' PUT, through a follower: merged, minimums applied, replicated as /_etcd/config.
    let r = put_config(
        &peer_f,
        r#"{"activeSize":3, "removeDelay":1800,"syncInterval":0.5}"#,
        None,
    );
    let set = "{\"activeSize\":3,\"removeDelay\":1800,\"syncInterval\":1}\n";
    assert_eq!((r.status, r.body.as_str()), (200, set), "PUT on a follower");
    for m in &c.members {
        wait_for(SETTLE, "every member to serve the new policy", || {
            let r = get(&format!("{}/v2/admin/config", m.peer_url()));
            (r.body == set).then_some(())
        });
    }
    let r = get(&format!(
        "{}/v2/keys/_etcd/config",
        c.members[other].client_url()
    ));
    assert_eq!(r.json()["node"]["value"], set.trim_end());

    // activeSize 3 is reached: no fourth member.
    let r = c.post_member(l, "http://127.0.0.1:1");
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            403,
            r#"{"message":"Reached the max number of peers in the cluster"}"#
        )
    );

    // removeDelay 2: a member killed -9 loses its seat; the two left go on writing.
    let r = put_config(&c.members[l].peer_url(), r#"{"removeDelay":2}"#, None);
    assert_eq!(
        r.body,
        "{\"activeSize\":3,\"removeDelay\":2,\"syncInterval\":1}\n"
    );
    c.members[other].kill();
    let gone = c.members[other].name.clone();
    let peer_l = c.members[l].peer_url();
    wait_for(SETTLE, "the silent member to be removed", || {
        let list = machines(&peer_l)?;
        (list.len() == 2 && list.iter().all(|(n, _)| *n != gone)).then_some(())
    });
    let r = put_until_ok(
        &c.members[l].url("/v2/keys/after"),
        "1",
        "a write on the two members left",
    );
    assert_eq!(r.json()["node"]["value"], "1");

    // DELETE by name removes the member, which then exits; an unknown name is 404.
    let r = try_request(
        "DELETE",
        &format!("{peer_l}/v2/admin/machines/{}", c.members[f].name),
        None,
    )
    .expect("DELETE");
    assert_eq!((r.status, r.body.as_str()), (200, ""));
    let leader_name = c.members[l].name.clone();
    wait_for(SETTLE, "only the leader to be listed", || {
        (machines(&peer_l)? == vec![(leader_name.clone(), "leader".to_string())]).then_some(())
    });
    wait_for(SETTLE, "the removed member to exit", || {
        c.members[f].exit_status()
    });
    let r = try_request(
        "DELETE",
        &format!("{peer_l}/v2/admin/machines/nobody"),
        None,
    )
    .expect("DELETE");
    assert_eq!(
        (r.status, r.body.as_str()),
        (404, r#"{"message":"No such member: nobody"}"#)
    );
}

#[test]
fn policy_changes_need_root_once_auth_is_on() {
    if running_real() {
        eprintln!("skipped: etcd 3.4 has no 0.4 admin API");
        return;
    }
    let s = Server::start();
    let peer = s.peer_url();
    let user = request_raw(
        "PUT",
        &s.url("/v2/auth/users/root"),
        "application/json",
        br#"{"user":"root","password":"pw"}"#.to_vec(),
    );
    assert_eq!(user.status, 201, "{}", user.body);
    assert_eq!(s.request("PUT", "/v2/auth/enable", None).status, 200);

    let r = put_config(&peer, r#"{"activeSize":5}"#, None);
    assert_eq!(
        (r.status, r.body.as_str()),
        (401, "{\"message\":\"Insufficient credentials\"}")
    );
    let r = put_config(&peer, r#"{"activeSize":5}"#, Some("root:wrong"));
    assert_eq!(r.status, 401);
    let r =
        try_request("DELETE", &format!("{peer}/v2/admin/machines/default"), None).expect("DELETE");
    assert_eq!(r.status, 401);
    // Reads stay open, as 0.4's are.
    assert_eq!(get(&format!("{peer}/v2/admin/config")).body, DEFAULTS);
    let r = put_config(&peer, r#"{"activeSize":5}"#, Some("root:pw"));
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            200,
            "{\"activeSize\":5,\"removeDelay\":1800,\"syncInterval\":5}\n"
        )
    );
}

#[test]
fn an_active_size_below_the_member_count_removes_members_down_to_it() {
    if running_real() {
        eprintln!("skipped: etcd 3.4 has no 0.4 admin API");
        return;
    }
    let mut c = Cluster::start(4);
    let l = c.leader();
    let peer_l = c.members[l].peer_url();
    let r = put_config(&peer_l, r#"{"activeSize":3}"#, None);
    assert_eq!(r.status, 200, "{}", r.body);
    let list = wait_for(SETTLE, "the cluster to shrink to three", || {
        let list = machines(&peer_l)?;
        (list.len() == 3).then_some(list)
    });
    let removed = (0..4)
        .find(|i| !list.iter().any(|(n, _)| *n == c.members[*i].name))
        .expect("one member removed");
    assert_ne!(removed, l, "the leader keeps its seat");
    wait_for(SETTLE, "the removed member to exit", || {
        c.members[removed].exit_status()
    });
    // It stays at three: no second removal follows.
    let r = put_until_ok(
        &c.members[l].url("/v2/keys/k"),
        "v",
        "a write on the three left",
    );
    assert_eq!(r.json()["node"]["value"], "v");
    assert_eq!(machines(&peer_l).map(|m| m.len()), Some(3));
}
