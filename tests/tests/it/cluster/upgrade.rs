//! A rolling upgrade from members that predate the peer streams (b11dbce): such a member answers
//! a GET of `/raft/stream` or `/raft/forward` with 405, its `/raft/{rpc}` taking only POST. At
//! every step of the upgrade, whichever member leads, writes through every member must land
//! everywhere: a newer leader sends plain appends to an older follower, and a newer follower
//! forwards plain proposals to an older leader. `ETCD_TEST_PEER_BEFORE_STREAMS` makes a member
//! serve the older peer API.

use super::*;

const BEFORE_STREAMS: &str = "ETCD_TEST_PEER_BEFORE_STREAMS";

#[test]
fn a_rolling_upgrade_from_members_without_peer_streams() {
    if running_real() {
        return;
    }
    let mut c = Cluster::configure(3, &[]);
    for m in &mut c.members {
        m.env.push((BEFORE_STREAMS.into(), "1".into()));
    }
    c.launch();
    let mut n = 0;
    let mut write_everywhere = |c: &Cluster, step: &str| {
        for i in 0..3 {
            n += 1;
            let key = format!("/v2/keys/upgrade/k{n}");
            let r = write_until_ok(&c.members[i], "PUT", &key, &[("value", step)]);
            assert_eq!(r.status, 201, "{step}, via {i}: {r:?}");
        }
        let l = c.wait_leader(SETTLE);
        wait_same_tree(c, l, &[0, 1, 2]);
    };
    write_everywhere(&c, "all older");
    for i in 0..3 {
        // Upgraded in place: the same data dir, without the hook.
        c.members[i].env.clear();
        c.members[i].restart();
        write_everywhere(&c, &format!("{} upgraded", i + 1));
    }
    let r = c.members[0].get("/v2/keys/upgrade?recursive=true&quorum=true");
    assert_eq!(
        node(&r)["nodes"].as_array().map(Vec::len),
        Some(12),
        "{r:?}"
    );
}
