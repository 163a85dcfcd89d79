//! Concurrent clients on every member (quorum reads, writes, compare-and-swaps on a few
//! register keys, in-order POSTs to a queue) and one watcher following `waitIndex` across
//! members. Every loop is bounded by a count and stopped by a flag.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::history::{Acked, Clock, Entry, History, Op, Outcome, Rng, Seen};
use crate::Resp;

/// How a request ended: answered, certainly not delivered (the connection was refused), or
/// lost on the way (it may or may not have been applied).
enum Sent {
    Answer(Resp),
    Refused,
    Lost,
}

impl Sent {
    fn answer(self) -> Option<Resp> {
        match self {
            Sent::Answer(r) => Some(r),
            _ => None,
        }
    }
}

fn call(url: &str, method: &str, form: Option<&[(&str, &str)]>, timeout: Duration) -> Sent {
    let resp = match crate::http::send_raw(url, method, form, timeout) {
        Ok(r) => r,
        Err(e) if e.is_connect() => return Sent::Refused,
        Err(_) => return Sent::Lost,
    };
    match crate::http::into_resp(resp) {
        Ok(r) => Sent::Answer(r),
        Err(_) => Sent::Lost,
    }
}

/// A GET whose failure does not matter (the watcher, the final listing).
fn send(url: &str, method: &str, form: Option<&[(&str, &str)]>, timeout: Duration) -> Option<Resp> {
    call(url, method, form, timeout).answer()
}

/// Where the clients write: registers `/fault/r<i>` and the queue `/fault/q`.
pub const PREFIX: &str = "/v2/keys/fault";

#[derive(Debug, Clone)]
pub struct Config {
    pub clients_per_member: usize,
    pub keys: u64,
    /// Per request; a request that outlasts it has an unknown outcome.
    pub timeout: Duration,
    /// Operations per client at most.
    pub max_ops: usize,
    /// Pause between one client's operations (pacing, so a run stays a few thousand ops).
    pub pace: Duration,
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            clients_per_member: 2,
            keys: 3,
            timeout: Duration::from_millis(1500),
            max_ops: 1500,
            pace: Duration::from_millis(5),
            seed: 1,
        }
    }
}

/// Clients and watcher, running.
pub struct Workload {
    stop: Arc<AtomicBool>,
    clients: Vec<JoinHandle<History>>,
    watcher: Option<JoinHandle<Result<Vec<Seen>, String>>>,
    watch_target: Arc<AtomicU64>,
    /// Acknowledged writes so far, across clients (for waiting on progress).
    pub acked: Arc<AtomicU64>,
    pub clock: Clock,
}

/// What a client learned from a node in an answer.
fn node_of(body: &str) -> Option<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    Some(v["node"].clone())
}

fn acked_from(node: &serde_json::Value) -> Option<Acked> {
    Some(Acked {
        key: node["key"].as_str()?.to_string(),
        value: node["value"].as_str()?.to_string(),
        index: node["modifiedIndex"].as_u64()?,
    })
}

struct Client {
    id: usize,
    url: String,
    cfg: Config,
    clock: Clock,
    rng: Rng,
    known: Vec<Option<String>>,
    seq: u64,
    acked: Arc<AtomicU64>,
    hist: History,
}

impl Client {
    fn one(&mut self) {
        let k = self.rng.below(self.cfg.keys);
        let key = format!("/fault/r{k}");
        let path = format!("{}{}{}", self.url, "/v2/keys", key);
        self.seq += 1;
        let value = format!("c{}-{}", self.id, self.seq);
        let t = self.cfg.timeout;
        let start = self.clock.now();
        let choice = self.rng.below(10);
        let (op, outcome, node) = if choice < 4 {
            let r = send(&format!("{path}?quorum=true"), "GET", None, t);
            if r.is_none() {
                thread::sleep(REFUSED_PAUSE);
            }
            let outcome = match &r {
                Some(r) if r.status == 200 => node_of(&r.body)
                    .and_then(|n| n["value"].as_str().map(|v| Outcome::Read(Some(v.into())))),
                Some(r) if r.status == 404 && r.body.contains("\"errorCode\":100") => {
                    Some(Outcome::Read(None))
                }
                _ => None,
            };
            // A failed read changed nothing: it is left out of the history.
            let Some(outcome) = outcome else { return };
            if let Outcome::Read(v) = &outcome {
                self.known[k as usize] = v.clone();
            }
            (Op::Read, outcome, None)
        } else if choice < 7 {
            let r = call(&path, "PUT", Some(&[("value", &value)]), t);
            let Some((outcome, node)) = write_outcome(r) else {
                return;
            };
            (Op::Write(value.clone()), outcome, node)
        } else if choice < 9 {
            let expect = self.known[k as usize]
                .clone()
                .unwrap_or_else(|| "none".into());
            let form = [("value", value.as_str()), ("prevValue", expect.as_str())];
            let r = call(&path, "PUT", Some(&form), t);
            let Some((outcome, node)) = write_outcome(r) else {
                return;
            };
            let op = Op::Cas {
                expect,
                new: value.clone(),
            };
            (op, outcome, node)
        } else {
            return self.post(&value);
        };
        if outcome == Outcome::Done {
            self.known[k as usize] = Some(value);
        }
        if let Some(a) = node.as_ref().and_then(acked_from) {
            self.acked.fetch_add(1, Ordering::SeqCst);
            self.hist.acked.push(a);
        }
        let end = self.clock.now();
        self.hist
            .ops
            .push(Entry::new(&key, op, outcome, start, end));
    }

    fn post(&mut self, value: &str) {
        let url = format!("{}{PREFIX}/q", self.url);
        let r = send(&url, "POST", Some(&[("value", value)]), self.cfg.timeout);
        if let Some(a) = r
            .filter(|r| r.status == 201)
            .and_then(|r| node_of(&r.body))
            .as_ref()
            .and_then(acked_from)
        {
            self.acked.fetch_add(1, Ordering::SeqCst);
            self.hist.acked.push(a.clone());
            self.hist.queued.push(a);
        }
    }
}

/// After a refused connection, so a client of a dead member does not spin.
const REFUSED_PAUSE: Duration = Duration::from_millis(50);

/// A write's outcome: 2xx done, 412/404 a refused swap, anything else unknown; `None` when it
/// was certainly never delivered (it is left out of the history).
fn write_outcome(r: Sent) -> Option<(Outcome, Option<serde_json::Value>)> {
    let r = match r {
        Sent::Answer(r) => r,
        Sent::Refused => {
            thread::sleep(REFUSED_PAUSE);
            return None;
        }
        Sent::Lost => {
            thread::sleep(REFUSED_PAUSE);
            return Some((Outcome::Unknown, None));
        }
    };
    Some(match r.status {
        200 | 201 => (Outcome::Done, node_of(&r.body)),
        412 if r.body.contains("\"errorCode\":101") => (Outcome::CasFailed, None),
        404 if r.body.contains("\"errorCode\":100") => (Outcome::CasFailed, None),
        _ => {
            thread::sleep(REFUSED_PAUSE);
            (Outcome::Unknown, None)
        }
    })
}

impl Workload {
    /// Start `cfg.clients_per_member` clients on each of `client_urls`, and the watcher.
    pub fn start(client_urls: &[String], cfg: &Config) -> Workload {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(AtomicU64::new(0));
        let clock = Clock::new();
        let mut clients = Vec::new();
        for id in 0..client_urls.len() * cfg.clients_per_member {
            let mut c = Client {
                id,
                url: client_urls[id % client_urls.len()].clone(),
                cfg: cfg.clone(),
                clock,
                rng: Rng::new(cfg.seed * 1000 + id as u64),
                known: vec![None; cfg.keys as usize],
                seq: 0,
                acked: acked.clone(),
                hist: History::default(),
            };
            let stop = stop.clone();
            clients.push(thread::spawn(move || {
                for _ in 0..c.cfg.max_ops {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    c.one();
                    thread::sleep(c.cfg.pace);
                }
                c.hist
            }));
        }
        let watch_target = Arc::new(AtomicU64::new(u64::MAX));
        let urls = client_urls.to_vec();
        let target = watch_target.clone();
        let watcher = Some(thread::spawn(move || watch(&urls, &target)));
        Workload {
            stop,
            clients,
            watcher,
            watch_target,
            acked,
            clock,
        }
    }

    /// Wait until `n` more writes were acknowledged, or `limit` passes; whether they were.
    pub fn wait_acked(&self, n: u64, limit: Duration) -> bool {
        let goal = self.acked.load(Ordering::SeqCst) + n;
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.acked.load(Ordering::SeqCst) >= goal {
                return true;
            }
            thread::sleep(Duration::from_millis(10));
        }
        false
    }

    /// Stop the clients, then let the watcher catch up to the last acknowledged write.
    pub fn finish(mut self) -> (History, Result<Vec<Seen>, String>) {
        self.stop.store(true, Ordering::SeqCst);
        let mut hist = History::default();
        for c in self.clients.drain(..) {
            hist.merge(c.join().expect("client thread"));
        }
        let last = hist.acked.iter().map(|a| a.index).max().unwrap_or(0);
        self.watch_target.store(last, Ordering::SeqCst);
        let seen = self
            .watcher
            .take()
            .map(|w| w.join().expect("watcher thread"))
            .unwrap_or_else(|| Err("no watcher".into()));
        (hist, seen)
    }
}

/// How long the watcher may take to catch up once the clients stopped.
const CATCH_UP: Duration = Duration::from_secs(20);

/// Follow every change under `/fault` from index 1, moving to the next member whenever a
/// long poll fails or idles, until past `target` (set once the clients stop).
fn watch(urls: &[String], target: &AtomicU64) -> Result<Vec<Seen>, String> {
    let mut seen = Vec::new();
    let mut next = 1u64;
    let mut member = 0usize;
    let mut deadline: Option<Instant> = None;
    // Bounded: each round is one long poll of at most a second.
    for _ in 0..100_000 {
        let goal = target.load(Ordering::SeqCst);
        if goal != u64::MAX {
            if next > goal {
                return Ok(seen);
            }
            let d = *deadline.get_or_insert_with(|| Instant::now() + CATCH_UP);
            if Instant::now() > d {
                return Ok(seen);
            }
        }
        let url = format!(
            "{}{PREFIX}?wait=true&recursive=true&waitIndex={next}",
            urls[member % urls.len()]
        );
        match send(&url, "GET", None, Duration::from_secs(1)) {
            Some(r) if r.status == 200 => {
                let Some(node) = node_of(&r.body) else {
                    member += 1;
                    continue;
                };
                let index = node["modifiedIndex"].as_u64().unwrap_or(0);
                seen.push(Seen {
                    key: node["key"].as_str().unwrap_or_default().to_string(),
                    value: node["value"].as_str().map(String::from),
                    index,
                    member: member % urls.len(),
                });
                next = index.max(next) + 1;
            }
            Some(r) if r.status == 400 || r.status == 401 => {
                return Err(format!("watch from {next} refused: {}", r.body.trim()));
            }
            Some(_) => member += 1,
            None => {
                // Refused or idle: try the next member, without spinning on a dead one.
                member += 1;
                thread::sleep(REFUSED_PAUSE);
            }
        }
    }
    Ok(seen)
}

/// Each member's whole `/fault` tree (key, value, modifiedIndex of every leaf), read locally
/// once the member has applied at least `index`: replicas that applied the same log agree.
pub fn replica_trees(client_urls: &[String], index: u64) -> Vec<Option<Vec<Acked>>> {
    client_urls
        .iter()
        .map(|u| {
            let url = format!("{u}{PREFIX}?recursive=true&sorted=true");
            // Bounded: a member catching up gets a few seconds.
            for _ in 0..50 {
                let r = send(&url, "GET", None, Duration::from_secs(5))?;
                let applied = r
                    .header("x-etcd-index")
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
                if r.status == 200 && applied >= index {
                    let mut leaves = Vec::new();
                    collect_leaves(&node_of(&r.body)?, &mut leaves);
                    return Some(leaves);
                }
                thread::sleep(Duration::from_millis(100));
            }
            None
        })
        .collect()
}

fn collect_leaves(node: &serde_json::Value, out: &mut Vec<Acked>) {
    match node["nodes"].as_array() {
        Some(children) => children.iter().for_each(|c| collect_leaves(c, out)),
        None => out.extend(acked_from(node)),
    }
}

/// Every in-order key under `/fault/q` at the end, read with a quorum on any member that answers.
pub fn queue_listing(client_urls: &[String]) -> Option<Vec<Acked>> {
    for u in client_urls {
        let url = format!("{u}{PREFIX}/q?recursive=true&sorted=true&quorum=true");
        let Some(r) = send(&url, "GET", None, Duration::from_secs(5)) else {
            continue;
        };
        if r.status == 404 {
            return Some(Vec::new());
        }
        if r.status != 200 {
            continue;
        }
        let nodes = node_of(&r.body)?["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        return Some(nodes.iter().filter_map(acked_from).collect());
    }
    None
}
