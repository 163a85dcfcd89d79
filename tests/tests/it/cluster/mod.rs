//! Three- and five-member clusters of real processes: forwarding, linearizable reads on
//! followers, agreeing indexes and terms, leader failure, whole-cluster crashes, pauses,
//! membership changes with snapshot catch-up, token isolation, bad `--initial-cluster` flags, a
//! rolling upgrade from members without the peer streams,
//! watches across a leader change and leader statistics.
//!
//! Every expectation was first checked against real etcd 3.4 (`ETCD_BIN=/usr/bin/etcd`); where
//! real etcd behaves differently for a reason that is not a bug of ours, the test says so.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use etcd_tests::Api;
use etcd_tests::cluster::ELECTION_MS;
use etcd_tests::cluster::{Cluster, Member, probe, send};
use etcd_tests::wait::poll_until;
use etcd_tests::{
    Endpoints, Resp, etcd_bin, request_raw, running_real, try_request, wait_for, wait_until,
};

/// Upper bound for anything that should take a few election timeouts. Generous (a loaded 2-core machine can stall a debug build for seconds); every use polls a
/// condition, so a healthy run never waits this long.
const SETTLE: Duration = Duration::from_secs(60);

/// Write `form` at `path` through member `m`, retrying transport errors and non-2xx answers until
/// one succeeds (bounded by [`SETTLE`]).
fn write_until_ok(m: &Member, method: &str, path: &str, form: &[(&str, &str)]) -> Resp {
    wait_for(SETTLE, &format!("{method} {path} on {}", m.name), || {
        let r = try_request(method, &m.url(path), Some(form)).ok()?;
        (r.status / 100 == 2).then_some(r)
    })
}

/// Wait until every listed member serves the same tree and X-Etcd-Index as `reference` (local
/// reads lag).
fn wait_same_tree(c: &Cluster, reference: usize, members: &[usize]) -> String {
    wait_for(SETTLE, "members to serve the same tree and index", || {
        let want = c.members[reference].get("/v2/keys/?recursive=true&sorted=true&quorum=true");
        members
            .iter()
            .all(|i| {
                let r = c.members[*i].get("/v2/keys/?recursive=true&sorted=true");
                r.body == want.body && r.etcd_index() == want.etcd_index()
            })
            .then_some(want.body)
    })
}

fn node(r: &Resp) -> serde_json::Value {
    r.json()["node"].clone()
}

fn modified_index(r: &Resp) -> u64 {
    node(r)["modifiedIndex"]
        .as_u64()
        .unwrap_or_else(|| panic!("no modifiedIndex: {}", r.body))
}

mod bootstrap;
mod disruption;
mod failover;
mod membership;
mod quiet_logs;
mod recovery;
mod replication;
mod snapshot_catchup;
mod upgrade;
