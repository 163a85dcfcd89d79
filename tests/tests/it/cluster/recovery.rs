//! Disaster recovery as etcd documents it: every member lost but one data dir, which starts
//! with `--force-new-cluster` as a cluster of one with all its data, stays one after a plain
//! restart, and grows again by `member add`.

use super::*;

#[test]
fn force_new_cluster_makes_one_survivor_a_cluster_of_one_with_its_data() {
    let mut c = Cluster::start(3);
    for i in 0..20 {
        let key = format!("/v2/keys/k{i}");
        write_until_ok(&c.members[i % 3], "PUT", &key, &[("value", &i.to_string())]);
    }
    let l = c.wait_leader(SETTLE);
    let want = wait_same_tree(&c, l, &[0, 1, 2]);
    let survivor = c.id(0);
    for m in &mut c.members {
        m.kill();
    }

    c.members[0].args.push("--force-new-cluster".to_string());
    c.members[0].spawn();
    c.members[0].wait_ready();
    let tree = |c: &Cluster| {
        c.members[0]
            .get("/v2/keys/?recursive=true&sorted=true&quorum=true")
            .body
    };
    let list = |c: &Cluster| -> Vec<String> {
        c.member_list()
            .iter()
            .map(|m| m["id"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(tree(&c), want);
    assert_eq!(list(&c), vec![survivor.as_str()]);
    let r = write_until_ok(&c.members[0], "PUT", "/v2/keys/after", &[("value", "1")]);
    assert_eq!(r.status, 201, "{r:?}");

    // A restart without the flag finds the cluster of one it became.
    c.members[0].args.retain(|a| a != "--force-new-cluster");
    c.members[0].kill();
    c.members[0].spawn();
    c.members[0].wait_ready();
    assert_eq!(list(&c), vec![survivor.as_str()]);
    let r = c.members[0].get("/v2/keys/after?quorum=true");
    assert_eq!(node(&r)["value"], "1", "{r:?}");
    write_until_ok(&c.members[0], "PUT", "/v2/keys/after", &[("value", "2")]);

    // And it grows again as any cluster does.
    let n = c.add_member(0);
    let r = wait_for(SETTLE, "the new member serves the data", || {
        let r = c.members[n].get("/v2/keys/after?quorum=true");
        (r.status == 200).then_some(r)
    });
    assert_eq!(node(&r)["value"], "2");
    assert_eq!(list(&c).len(), 2);
}
