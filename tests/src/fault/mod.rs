//! A fault harness of our own: members whose peer links pass through a [`proxy::Proxy`] that
//! can drop, delay or reset each DIRECTED link, clients recording a [`history::History`], the
//! [`checker`]s that judge it, and the [`scenario`] runner that ties them together.
//!
//! Each member listens for peers on its real port and advertises the proxy's port (in
//! `--initial-advertise-peer-urls` and everyone's `--initial-cluster`), so every peer
//! connection, including forwarded client requests, crosses the proxy. Client traffic does not.
//! Runs against real etcd too (`ETCD_BIN=/usr/bin/etcd`).

pub mod checker;
pub mod history;
mod mix;
pub mod proxy;
pub mod report;
pub mod scenario;
mod verdict;
pub mod workload;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::cluster::{probe, unique_token};
use crate::{READY_LIMIT, etcd_bin, free_port};
use proxy::Proxy;

/// One member: its own process handling, since its peer URLs differ from what [`crate::Daemon`]
/// advertises (real port to listen on, the proxy's port to advertise).
pub struct Node {
    pub name: String,
    pub client_port: u16,
    pub peer_port: u16,
    pub proxy_port: u16,
    args: Vec<String>,
    bin: PathBuf,
    dir: tempfile::TempDir,
    child: Option<Child>,
    paused: bool,
}

impl Node {
    pub fn client_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }
    pub fn advertised_peer_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.proxy_port)
    }
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.client_url(), path)
    }
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("stderr.log")
    }
    /// The last `lines` lines of this member's log (every start appended).
    pub fn log_tail(&self, lines: usize) -> String {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
    pub fn is_up(&self) -> bool {
        self.child.is_some()
    }
    /// Running and not paused: it can answer.
    pub fn is_live(&self) -> bool {
        self.is_up() && !self.paused
    }

    fn command_args(&self) -> Vec<String> {
        let data = self.dir.path().join("data").display().to_string();
        let mut a: Vec<String> = [
            "--enable-v2",
            "--name",
            &self.name,
            "--data-dir",
            &data,
            "--listen-client-urls",
            &self.client_url(),
            "--advertise-client-urls",
            &self.client_url(),
            "--listen-peer-urls",
            &format!("http://127.0.0.1:{}", self.peer_port),
            "--initial-advertise-peer-urls",
            &self.advertised_peer_url(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(self.args.iter().cloned());
        a
    }

    /// Start the process (same data dir and ports every time), with the fsync-stall switch
    /// of [`Node::set_fsync_stall`] (inert until that file is written).
    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "{} already running", self.name);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("log file");
        let child = std::process::Command::new(&self.bin)
            .args(self.command_args())
            .env("ETCD_TEST_FSYNC_STALL_FILE", self.stall_file())
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", self.bin.display()));
        self.child = Some(child);
        self.paused = false;
    }

    fn stall_file(&self) -> PathBuf {
        self.dir.path().join("fsync-stall")
    }

    /// Makes this member's log commits stall `pause` at most once per `every` (our etcd's
    /// test-only hook; real etcd ignores it), or stops that with `None`. Takes effect within
    /// 50 ms, without a restart.
    pub fn set_fsync_stall(&self, stall: Option<(Duration, Duration)>) {
        match stall {
            Some((pause, every)) => std::fs::write(
                self.stall_file(),
                format!("{},{}", pause.as_millis(), every.as_millis()),
            )
            .expect("stall file"),
            None => {
                let _ = std::fs::remove_file(self.stall_file());
            }
        }
    }

    fn signal(&self, sig: Signal) {
        if let Some(c) = &self.child {
            let _ = kill(Pid::from_raw(c.id() as i32), sig);
        }
    }

    /// kill -9 and reap.
    pub fn kill(&mut self) {
        self.resume();
        self.signal(Signal::SIGKILL);
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
    }

    /// SIGSTOP.
    pub fn pause(&mut self) {
        self.signal(Signal::SIGSTOP);
        self.paused = true;
    }

    /// SIGCONT.
    pub fn resume(&mut self) {
        self.signal(Signal::SIGCONT);
        self.paused = false;
    }

    /// Whether `/health` says true.
    pub fn healthy(&self) -> bool {
        self.is_live()
            && probe(&self.url("/health"), Duration::from_millis(500))
                .is_some_and(|r| r.status == 200 && r.body.contains("true"))
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Timing of a cluster under test.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub heartbeat_ms: u64,
    pub election_ms: u64,
}

impl Timing {
    pub fn election(&self) -> Duration {
        Duration::from_millis(self.election_ms)
    }
}

/// Three (or `n`) members behind one proxy.
pub struct Net {
    pub nodes: Vec<Node>,
    pub proxy: Proxy,
    pub timing: Timing,
    /// Hex member id of each node.
    pub ids: Vec<String>,
}

impl Net {
    /// Start `n` members bootstrapped together through the proxy; waits for a leader.
    pub fn start(n: usize, timing: Timing, setup_delay: Duration) -> Net {
        let proxy_ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let peer_ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let proxy = Proxy::start(&proxy_ports, &peer_ports);
        proxy.set_setup_delay(setup_delay);
        let initial = (0..n)
            .map(|i| format!("n{}=http://127.0.0.1:{}", i + 1, proxy_ports[i]))
            .collect::<Vec<_>>()
            .join(",");
        let token = unique_token();
        let (hb, el) = (
            timing.heartbeat_ms.to_string(),
            timing.election_ms.to_string(),
        );
        let args: Vec<String> = [
            "--initial-cluster",
            &initial,
            "--initial-cluster-state",
            "new",
            "--initial-cluster-token",
            &token,
            "--heartbeat-interval",
            &hb,
            "--election-timeout",
            &el,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut nodes: Vec<Node> = (0..n)
            .map(|i| Node {
                name: format!("n{}", i + 1),
                client_port: free_port(),
                peer_port: peer_ports[i],
                proxy_port: proxy_ports[i],
                args: args.clone(),
                bin: etcd_bin(),
                dir: tempfile::Builder::new()
                    .prefix("etcd-fault-")
                    .tempdir()
                    .expect("tempdir"),
                child: None,
                paused: false,
            })
            .collect();
        for node in &mut nodes {
            node.spawn();
        }
        let mut net = Net {
            nodes,
            proxy,
            timing,
            ids: Vec::new(),
        };
        net.ids = net.wait_ids();
        let map: HashMap<String, usize> = net
            .ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.to_ascii_lowercase(), i))
            .collect();
        net.proxy.set_ids(map);
        net.leader(READY_LIMIT);
        net
    }

    /// Each node's id, from the first `/v2/members` that lists them all (by advertised URL).
    fn wait_ids(&self) -> Vec<String> {
        crate::wait_for(READY_LIMIT, "members to list each other", || {
            let r = probe(&self.nodes[0].url("/v2/members"), Duration::from_secs(1))?;
            let v: serde_json::Value = serde_json::from_str(&r.body).ok()?;
            let ms = v["members"].as_array()?.clone();
            self.nodes
                .iter()
                .map(|n| {
                    let url = n.advertised_peer_url();
                    ms.iter()
                        .find(|m| {
                            m["peerURLs"]
                                .as_array()
                                .is_some_and(|u| u.iter().any(|u| u == url.as_str()))
                        })
                        .and_then(|m| m["id"].as_str().map(String::from))
                })
                .collect()
        })
    }

    /// The leader every live member agrees on (`among` defaults to every live member).
    pub fn leader_among(&self, among: &[usize], limit: Duration) -> Option<usize> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(l) = self.agreed_leader(among) {
                return Some(l);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn agreed_leader(&self, among: &[usize]) -> Option<usize> {
        let views: Vec<Option<String>> = among
            .iter()
            .map(|i| {
                let r = probe(
                    &self.nodes[*i].url("/v2/members/leader"),
                    Duration::from_millis(500),
                )?;
                let v: serde_json::Value = serde_json::from_str(&r.body).ok()?;
                v["id"].as_str().map(String::from)
            })
            .collect();
        let first = views.first()?.clone()?;
        let l = self.ids.iter().position(|id| *id == first)?;
        let leads = probe(
            &self.nodes[l].url("/v2/stats/leader"),
            Duration::from_millis(500),
        )
        .is_some_and(|r| r.status == 200);
        (views.iter().all(|v| v.as_deref() == Some(first.as_str())) && among.contains(&l) && leads)
            .then_some(l)
    }

    /// The agreed leader among the live members; panics after `limit`.
    pub fn leader(&self, limit: Duration) -> usize {
        let live = self.live();
        self.leader_among(&live, limit)
            .unwrap_or_else(|| panic!("no agreed leader among {live:?} in {limit:?}"))
    }

    /// Member `i`'s raft term, from the X-Raft-Term of a read.
    pub fn term_of(&self, i: usize) -> Option<u64> {
        probe(&self.nodes[i].url("/v2/keys/"), Duration::from_millis(500))?
            .header("x-raft-term")?
            .parse()
            .ok()
    }

    pub fn live(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|i| self.nodes[*i].is_live())
            .collect()
    }

    pub fn all_healthy(&self) -> bool {
        self.nodes.iter().all(Node::healthy)
    }
}

/// Poll `f` every 20 ms until it holds or `limit` passes; whether it held.
pub fn poll(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
