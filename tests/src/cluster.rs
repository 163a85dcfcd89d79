//! Several members on loopback ports: start, find the leader, kill, pause, restart, add, remove.
//!
//! - [`Cluster::start`]: `n` members named n1..nN bootstrapped together (`--initial-cluster-state
//!   new`, a token unique to the test), waiting until every member names the same leader in
//!   `/v2/members/leader` and that member's `/v2/stats/leader` answers.
//! - [`Member`]: one process ([`Daemon`] underneath, so `kill/term/restart/get/put/...` work) plus
//!   `stop()`/`start()` = SIGSTOP/SIGCONT.
//! - [`Cluster::add_member`] / [`Cluster::remove_member`]: membership through `/v2/members`,
//!   as etcd's docs describe (add through the API first, then start the new process with
//!   `--initial-cluster-state existing` and every current member in `--initial-cluster`).
//!
//! Every wait has a deadline; every process is killed by its pid when its handle drops.

use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use crate::{Daemon, Endpoints, Resp, etcd_bin, free_port, request_raw, running_real, try_request};

/// Election settings small enough for fast tests, large enough for a busy 2-core machine.
/// Real etcd 3.4 accepts them (it requires election ≥ 5 × heartbeat).
pub const HEARTBEAT_MS: &str = "50";
pub const ELECTION_MS: &str = "500";

/// How long a cluster may take to agree on a leader: generous, since on a loaded 2-core machine
/// heartbeats are late and elections repeat; the wait polls, so it costs nothing when healthy.
pub const LEADER_LIMIT: Duration = Duration::from_secs(60);

/// One member of a [`Cluster`].
pub struct Member(pub Daemon);

impl Deref for Member {
    type Target = Daemon;
    fn deref(&self) -> &Daemon {
        &self.0
    }
}

impl DerefMut for Member {
    fn deref_mut(&mut self) -> &mut Daemon {
        &mut self.0
    }
}

impl Member {
    /// SIGSTOP: the process freezes (its sockets stay open, as with a long GC pause).
    pub fn stop(&self) {
        self.0.pause();
    }

    /// SIGCONT after [`Member::stop`].
    pub fn start(&self) {
        self.0.resume();
    }

    /// Whether the process is running (started and not killed by us).
    pub fn is_up(&self) -> bool {
        self.0.pid().is_some()
    }

    /// `/v2/stats/self` of this member, if it answers.
    pub fn stats_self(&self) -> Option<serde_json::Value> {
        let r = try_request("GET", &self.url("/v2/stats/self"), None).ok()?;
        (r.status == 200).then(|| r.json())
    }

    /// The leader id this member reports in `/v2/members/leader` (`None` when down or during an
    /// election). Not `/v2/stats/self`: real etcd updates its `leaderInfo` and `state` only when
    /// an append arrives, so on an idle cluster a deposed leader may go on naming itself there.
    pub fn leader_view(&self) -> Option<String> {
        if !self.is_up() {
            return None;
        }
        let r = try_request("GET", &self.url("/v2/members/leader"), None).ok()?;
        (r.status == 200)
            .then(|| r.json()["id"].as_str().map(String::from))
            .flatten()
            .filter(|l| !l.is_empty())
    }

    /// Whether this member currently leads: `/v2/stats/leader` answers 200 only on the leader
    /// (403 elsewhere), from the raft state itself.
    pub fn is_leader(&self) -> bool {
        self.is_up()
            && try_request("GET", &self.url("/v2/stats/leader"), None)
                .is_ok_and(|r| r.status == 200)
    }

    /// This member's id: the entry of its own `/v2/members` that has its peer URL.
    pub fn id(&self) -> String {
        let r = self.get("/v2/members");
        let url = self.peer_url();
        r.json()["members"]
            .as_array()
            .and_then(|ms| {
                ms.iter().find(|m| {
                    m["peerURLs"]
                        .as_array()
                        .is_some_and(|u| u.iter().any(|u| u == url.as_str()))
                })
            })
            .and_then(|m| m["id"].as_str().map(String::from))
            .unwrap_or_else(|| panic!("{url} not in its own /v2/members: {}", r.body))
    }

    /// X-Raft-Term of a GET of the root on this member.
    pub fn raft_term(&self) -> u64 {
        let r = self.get("/v2/keys/");
        r.header("X-Raft-Term")
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("no X-Raft-Term from {}: {:?}", self.name, r.headers))
    }
}

pub struct Cluster {
    pub members: Vec<Member>,
    pub token: String,
    /// Flags every member got beyond the cluster ones (new members get them too).
    pub extra: Vec<String>,
}

/// A GET with a short timeout, for members that may hang (paused or never ready):
/// `None` on any transport error.
pub fn probe(url: &str, timeout: Duration) -> Option<Resp> {
    send(url, "GET", None, timeout)
}

/// Any request (`form` as a form body) with its own timeout; `None` on any transport error.
pub fn send(
    url: &str,
    method: &str,
    form: Option<&[(&str, &str)]>,
    timeout: Duration,
) -> Option<Resp> {
    crate::http::into_resp(crate::http::send_raw(url, method, form, timeout).ok()?).ok()
}

/// A token no other test (or test run) uses.
pub fn unique_token() -> String {
    format!("tok-{}-{}", std::process::id(), free_port())
}

/// The flags of a cluster member at the tests' timing, then `extra`.
pub fn member_args(initial: &str, state: &str, token: &str, extra: &[String]) -> Vec<String> {
    let mut args: Vec<String> = [
        "--initial-cluster",
        initial,
        "--initial-cluster-state",
        state,
        "--initial-cluster-token",
        token,
        "--heartbeat-interval",
        HEARTBEAT_MS,
        "--election-timeout",
        ELECTION_MS,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().cloned());
    args
}

impl Cluster {
    /// `n` members named n1..nN bootstrapped together; waits until all agree on a leader.
    pub fn start(n: usize) -> Cluster {
        Self::start_with(n, &[])
    }

    /// As [`Cluster::start`], with extra flags for every member (e.g. `--snapshot-count 50`).
    pub fn start_with(n: usize, extra: &[&str]) -> Cluster {
        let mut c = Self::configure(n, extra);
        c.launch();
        c
    }

    /// The members, configured but not started (tests that change one member's flags).
    pub fn configure(n: usize, extra: &[&str]) -> Cluster {
        let token = unique_token();
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let ends: Vec<Endpoints> = (0..n).map(|_| Endpoints::new()).collect();
        let initial = ends
            .iter()
            .enumerate()
            .map(|(i, e)| format!("n{}={}", i + 1, e.peer_url()))
            .collect::<Vec<_>>()
            .join(",");
        let members = ends
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                let args = member_args(&initial, "new", &token, &extra);
                Member(Daemon::new(etcd_bin(), format!("n{}", i + 1), e, args))
            })
            .collect();
        Cluster {
            members,
            token,
            extra,
        }
    }

    /// Start every configured member, wait until each serves clients and all agree on a leader.
    pub fn launch(&mut self) {
        for m in &mut self.members {
            m.spawn();
        }
        for m in &mut self.members {
            m.wait_ready();
        }
        self.wait_leader(LEADER_LIMIT);
    }

    /// The leader's id as each member reports it (`None` where down or unknown).
    pub fn leader_views(&self) -> Vec<Option<String>> {
        self.members.iter().map(Member::leader_view).collect()
    }

    /// Wait until every running member names the same leader, and that leader is one of the
    /// running members and says it leads; returns its index.
    pub fn wait_leader(&self, limit: Duration) -> usize {
        self.wait_leader_among(&self.up(), limit)
    }

    /// As [`Cluster::wait_leader`], asking only the members `among` (and the leader among them).
    pub fn wait_leader_among(&self, among: &[usize], limit: Duration) -> usize {
        let deadline = Instant::now() + limit;
        loop {
            let views: Vec<Option<String>> = among
                .iter()
                .map(|i| self.members[*i].leader_view())
                .collect();
            if let Some(Some(first)) = views.first()
                && views.iter().all(|v| v.as_deref() == Some(first.as_str()))
                && let Some(i) = self.index_of(first)
                && among.contains(&i)
                && self.members[i].is_leader()
            {
                return i;
            }
            assert!(
                Instant::now() < deadline,
                "no agreed leader among {among:?}: {views:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Index of the running member whose `/v2/stats/self` id is `id`.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.members
            .iter()
            .position(|m| m.is_up() && m.stats_self().is_some_and(|s| s["id"] == id))
    }

    /// The agreed leader's index (waits up to [`LEADER_LIMIT`]).
    pub fn leader(&self) -> usize {
        self.wait_leader(LEADER_LIMIT)
    }

    /// A running member that is not the leader.
    pub fn follower(&self) -> usize {
        let l = self.leader();
        (0..self.members.len())
            .find(|i| *i != l && self.members[*i].is_up())
            .expect("a running follower")
    }

    /// The running members' indexes.
    pub fn up(&self) -> Vec<usize> {
        (0..self.members.len())
            .filter(|i| self.members[*i].is_up())
            .collect()
    }

    /// `/v2/members` as seen by the first running member that answers.
    pub fn member_list(&self) -> Vec<serde_json::Value> {
        for m in self.members.iter().filter(|m| m.is_up()) {
            if let Ok(r) = try_request("GET", &m.url("/v2/members"), None)
                && r.status == 200
            {
                return r.json()["members"].as_array().cloned().unwrap_or_default();
            }
        }
        panic!("no member answers /v2/members")
    }

    /// Member `i`'s id, found by its peer URL in `/v2/members` (works while it is down).
    pub fn id(&self, i: usize) -> String {
        let url = self.members[i].peer_url();
        self.member_list()
            .iter()
            .find(|m| {
                m["peerURLs"]
                    .as_array()
                    .is_some_and(|u| u.iter().any(|u| u == url.as_str()))
            })
            .and_then(|m| m["id"].as_str().map(String::from))
            .unwrap_or_else(|| panic!("{url} not in /v2/members"))
    }

    /// `--initial-cluster` listing every running member plus `extra`.
    pub fn initial_cluster_with(&self, extra: &str) -> String {
        let mut parts: Vec<String> = self
            .members
            .iter()
            .filter(|m| m.is_up())
            .map(|m| format!("{}={}", m.name, m.peer_url()))
            .collect();
        parts.push(extra.to_string());
        parts.join(",")
    }

    /// POST /v2/members with `peerURLs` on member `via`. Real etcd refuses with 500 until every
    /// member has been connected for 5 s (its strict reconfiguration check), so against real
    /// etcd a 500 is retried for a while; ours must accept at once.
    pub fn post_member(&self, via: usize, peer_url: &str) -> Resp {
        let body = format!(r#"{{"peerURLs":["{peer_url}"]}}"#);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let r = request_raw(
                "POST",
                &self.members[via].url("/v2/members"),
                "application/json",
                body.clone().into_bytes(),
            );
            if r.status == 500 && running_real() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(250));
                continue;
            }
            return r;
        }
    }

    /// DELETE /v2/members/<id> on member `via` (500 retried against real etcd, as above).
    pub fn delete_member(&self, via: usize, id: &str) -> Resp {
        self.try_delete_member(via, id)
            .unwrap_or_else(|e| panic!("DELETE /v2/members/{id}: {e}"))
    }

    /// As [`Cluster::delete_member`], but a transport error is returned: a leader that removes
    /// itself may close the connection before it answers (real etcd 3.4 sometimes does).
    pub fn try_delete_member(&self, via: usize, id: &str) -> Result<Resp, String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let r = try_request(
                "DELETE",
                &self.members[via].url(&format!("/v2/members/{id}")),
                None,
            )
            .map_err(|e| e.to_string())?;
            if r.status == 500 && running_real() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(250));
                continue;
            }
            return Ok(r);
        }
    }

    /// Add a member through the API on member `via` (asserting the 201 and its exact body), then
    /// start it with `--initial-cluster-state existing`; waits until it serves clients.
    /// Returns its index.
    pub fn add_member(&mut self, via: usize) -> usize {
        let ends = Endpoints::new();
        let name = format!("n{}", self.members.len() + 1);
        let r = self.post_member(via, &ends.peer_url());
        assert_eq!(r.status, 201, "member add: {}", r.body);
        let added = r.json();
        let id = added["id"].as_str().expect("id").to_string();
        assert_eq!(
            added,
            serde_json::json!({"id": id, "name": "", "peerURLs": [ends.peer_url()], "clientURLs": []}),
            "member add body"
        );
        let initial = self.initial_cluster_with(&format!("{name}={}", ends.peer_url()));
        let args = member_args(&initial, "existing", &self.token, &self.extra);
        let mut d = Daemon::new(etcd_bin(), name, ends, args);
        d.spawn();
        d.wait_ready();
        self.members.push(Member(d));
        self.members.len() - 1
    }
}
