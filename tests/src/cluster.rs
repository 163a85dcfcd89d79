//! Several members on loopback ports: start, find the leader, kill, pause, restart, add.

use std::time::{Duration, Instant};

use crate::{Daemon, Endpoints, etcd_bin, try_request};

/// Election settings small enough for fast tests, large enough for a busy 2-core machine.
pub const HEARTBEAT_MS: &str = "50";
pub const ELECTION_MS: &str = "500";

pub struct Cluster {
    pub members: Vec<Daemon>,
    pub token: String,
}

impl Cluster {
    /// `n` members named n1..nN bootstrapped together; waits until all agree on a leader.
    pub fn start(n: usize) -> Cluster {
        Self::start_with(n, &[])
    }

    pub fn start_with(n: usize, extra: &[&str]) -> Cluster {
        let token = format!("tok-{}-{}", std::process::id(), crate::free_port());
        let ends: Vec<Endpoints> = (0..n).map(|_| Endpoints::new()).collect();
        let initial = ends
            .iter()
            .enumerate()
            .map(|(i, e)| format!("n{}={}", i + 1, e.peer_url()))
            .collect::<Vec<_>>()
            .join(",");
        let mut members: Vec<Daemon> = ends
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                let mut args = vec![
                    "--initial-cluster".to_string(),
                    initial.clone(),
                    "--initial-cluster-state".to_string(),
                    "new".to_string(),
                    "--initial-cluster-token".to_string(),
                    token.clone(),
                    "--heartbeat-interval".to_string(),
                    HEARTBEAT_MS.to_string(),
                    "--election-timeout".to_string(),
                    ELECTION_MS.to_string(),
                ];
                args.extend(extra.iter().map(|s| s.to_string()));
                Daemon::new(etcd_bin(), format!("n{}", i + 1), e, args)
            })
            .collect();
        for m in &mut members {
            m.spawn();
        }
        for m in &mut members {
            m.wait_ready();
        }
        let c = Cluster { members, token };
        c.wait_leader(Duration::from_secs(20));
        c
    }

    /// The leader's id as each running member reports it (`None` where unknown).
    pub fn leader_views(&self) -> Vec<Option<String>> {
        self.members
            .iter()
            .map(|m| {
                m.pid()?;
                try_request("GET", &m.url("/v2/stats/self"), None)
                    .ok()
                    .filter(|r| r.status == 200)
                    .and_then(|r| r.json()["leaderInfo"]["leader"].as_str().map(String::from))
                    .filter(|l| !l.is_empty())
            })
            .collect()
    }

    /// Wait until every running member names the same leader, which is running; its index.
    pub fn wait_leader(&self, limit: Duration) -> usize {
        let deadline = Instant::now() + limit;
        loop {
            let views = self.leader_views();
            let running: Vec<&Option<String>> = views
                .iter()
                .zip(&self.members)
                .filter(|(_, m)| m.pid().is_some())
                .map(|(v, _)| v)
                .collect();
            if let Some(Some(first)) = running.first()
                && running.iter().all(|v| v.as_deref() == Some(first.as_str()))
                && let Some(i) = self.index_of(first)
                && self.members[i].pid().is_some()
            {
                return i;
            }
            assert!(Instant::now() < deadline, "no agreed leader: {views:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Index of the member with this id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.members.iter().position(|m| {
            m.pid().is_some()
                && try_request("GET", &m.url("/v2/stats/self"), None)
                    .ok()
                    .is_some_and(|r| r.status == 200 && r.json()["id"] == id)
        })
    }

    pub fn leader(&self) -> usize {
        self.wait_leader(Duration::from_secs(20))
    }

    pub fn follower(&self) -> usize {
        let l = self.leader();
        (0..self.members.len())
            .find(|i| *i != l && self.members[*i].pid().is_some())
            .expect("a running follower")
    }

    /// Every running member's member id.
    pub fn id(&self, i: usize) -> String {
        let r = try_request("GET", &self.members[i].url("/v2/stats/self"), None).expect("self");
        r.json()["id"].as_str().expect("id").to_string()
    }

    /// `--initial-cluster` listing every current member plus `extra`.
    pub fn initial_cluster_with(&self, extra: &str) -> String {
        let mut parts: Vec<String> = self
            .members
            .iter()
            .map(|m| format!("{}={}", m.name, m.peer_url()))
            .collect();
        parts.push(extra.to_string());
        parts.join(",")
    }

    /// Add a member through the API on member `via`, then start it with
    /// `--initial-cluster-state existing`. Returns its index.
    pub fn add_member(&mut self, via: usize, extra: &[&str]) -> usize {
        let ends = Endpoints::new();
        let name = format!("n{}", self.members.len() + 1);
        let r = crate::request_raw(
            "POST",
            &self.members[via].url("/v2/members"),
            "application/json",
            format!(r#"{{"peerURLs":["{}"]}}"#, ends.peer_url()).into_bytes(),
        );
        assert_eq!(r.status, 201, "member add: {}", r.body);
        let initial = self.initial_cluster_with(&format!("{name}={}", ends.peer_url()));
        let mut args = vec![
            "--initial-cluster".to_string(),
            initial,
            "--initial-cluster-state".to_string(),
            "existing".to_string(),
            "--initial-cluster-token".to_string(),
            self.token.clone(),
            "--heartbeat-interval".to_string(),
            HEARTBEAT_MS.to_string(),
            "--election-timeout".to_string(),
            ELECTION_MS.to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut d = Daemon::new(etcd_bin(), name, ends, args);
        d.spawn();
        d.wait_ready();
        self.members.push(d);
        self.members.len() - 1
    }
}
