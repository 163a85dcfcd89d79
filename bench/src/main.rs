//! Benchmark: our etcd against real etcd 3.4 (`--enable-v2`), measured in the same run on
//! loopback.
//!
//! ```sh
//! cargo build --release -p etcd -p etcd-bench
//! cargo run --release -p etcd-bench -- [--seconds 10] [--keys 100000] [--ours PATH] [--real PATH]
//! ```
//!
//! For each server, each phase on a fresh data dir and fresh loopback ports:
//! (a) writes/s with 1 and with 64 concurrent clients (PUT `/v2/keys/bench/k<i>` of a 256-byte
//! value over keep-alive HTTP/1.1, one connection per client), (b) reads/s with 64 clients (GET
//! of keys written beforehand), (c) resident memory (VmRSS) after writing `--keys` distinct
//! keys, and (d) writes/s of a three-member cluster at 64 clients spread over the members.
//! Every loop is bounded by a deadline and a count; only processes started here are stopped,
//! by pid.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// The value every write carries.
const VALUE_LEN: usize = 256;
/// Upper bound on requests per client per phase, whatever the duration.
const MAX_REQUESTS_PER_CLIENT: u64 = 5_000_000;
/// Keys written before the read phase; reads pick among them.
const READ_KEYS: u64 = 1_000;
/// How long a single member may take to answer its first write.
const START_DEADLINE: Duration = Duration::from_secs(30);
/// How long a three-member cluster may take to elect a leader and accept a write everywhere.
const CLUSTER_DEADLINE: Duration = Duration::from_secs(10);

/// Processes we started for one measurement, killed by pid when dropped.
struct Server {
    children: Vec<Child>,
    urls: Vec<String>,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        for c in &mut self.children {
            if let Ok(pid) = i32::try_from(c.id()) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let _ = c.wait();
        }
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Start `members` processes of `bin` on loopback and wait until every member accepts a write.
async fn start(bin: &Path, members: usize, deadline: Duration) -> Result<Server> {
    let dir = tempfile::tempdir()?;
    let mut ports = Vec::new();
    for _ in 0..members {
        ports.push((free_port()?, free_port()?));
    }
    let initial = ports
        .iter()
        .enumerate()
        .map(|(i, (_, p))| format!("m{i}=http://127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(",");
    let mut server = Server {
        children: Vec::new(),
        urls: Vec::new(),
        _dir: dir,
    };
    for (i, (c, p)) in ports.iter().enumerate() {
        let client = format!("http://127.0.0.1:{c}");
        let peer = format!("http://127.0.0.1:{p}");
        let child = Command::new(bin)
            .args(["--enable-v2", "--name", &format!("m{i}")])
            .arg("--data-dir")
            .arg(server._dir.path().join(format!("m{i}")))
            .args(["--listen-client-urls", &client])
            .args(["--advertise-client-urls", &client])
            .args(["--listen-peer-urls", &peer])
            .args(["--initial-advertise-peer-urls", &peer])
            .args(["--initial-cluster", &initial])
            .args(["--initial-cluster-state", "new"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("start {}", bin.display()))?;
        server.children.push(child);
        server.urls.push(client);
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()?;
    let stop = Instant::now() + deadline;
    for u in &server.urls {
        loop {
            let ok = http
                .put(format!("{u}/v2/keys/bench-ready"))
                .form(&[("value", "1")])
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                break;
            }
            if Instant::now() > stop {
                bail!(
                    "{} ({members} member(s)) did not accept a write within {deadline:?}",
                    bin.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(server)
}

#[derive(Clone, Copy)]
enum Kind {
    /// PUT `bench/k<n>` with `n` from a shared counter: every write a new key.
    Write,
    /// GET one of the `READ_KEYS` keys `bench/r<j>`.
    Read,
}

/// Outcome of one load phase.
#[derive(Clone, Copy, Default)]
struct Rate {
    per_sec: f64,
    errors: u64,
}

/// `clients` loops, one keep-alive connection each, for `secs`; successful requests per second.
async fn load(urls: &[String], clients: usize, secs: f64, kind: Kind) -> Rate {
    let ok = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let next_key = Arc::new(AtomicU64::new(0));
    let value: Arc<str> = "v".repeat(VALUE_LEN).into();
    let start = Instant::now();
    let stop = start + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let url = urls[c % urls.len()].clone();
        let (ok, errors, next_key, value) =
            (ok.clone(), errors.clone(), next_key.clone(), value.clone());
        tasks.push(tokio::spawn(async move {
            let Ok(http) = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .timeout(Duration::from_secs(10))
                .build()
            else {
                return;
            };
            let mut i = 0u64;
            while Instant::now() < stop && i < MAX_REQUESTS_PER_CLIENT {
                let sent = match kind {
                    Kind::Write => {
                        let n = next_key.fetch_add(1, Ordering::Relaxed);
                        http.put(format!("{url}/v2/keys/bench/k{n}"))
                            .form(&[("value", &*value)])
                            .send()
                            .await
                    }
                    Kind::Read => {
                        let j = (c as u64 * 7919 + i) % READ_KEYS;
                        http.get(format!("{url}/v2/keys/bench/r{j}")).send().await
                    }
                };
                let good = match sent {
                    Ok(r) => {
                        let good = r.status().is_success();
                        good && r.bytes().await.is_ok()
                    }
                    Err(_) => false,
                };
                if good {
                    ok.fetch_add(1, Ordering::Relaxed);
                } else {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
                i += 1;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = start.elapsed().as_secs_f64().max(secs);
    Rate {
        per_sec: ok.load(Ordering::Relaxed) as f64 / elapsed,
        errors: errors.load(Ordering::Relaxed),
    }
}

/// Write `count` keys with `prefix<i>` using `clients` connections; bounded by `deadline`.
/// Returns how many writes succeeded.
async fn fill(url: &str, prefix: &str, count: u64, clients: u64, deadline: Duration) -> u64 {
    let next = Arc::new(AtomicU64::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let stop = Instant::now() + deadline;
    let value: Arc<str> = "f".repeat(VALUE_LEN).into();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (url, prefix, next, ok, value) = (
            url.to_string(),
            prefix.to_string(),
            next.clone(),
            ok.clone(),
            value.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let Ok(http) = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .timeout(Duration::from_secs(10))
                .build()
            else {
                return;
            };
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count || Instant::now() > stop {
                    break;
                }
                let r = http
                    .put(format!("{url}/v2/keys/{prefix}{i}"))
                    .form(&[("value", &*value)])
                    .send()
                    .await;
                if let Ok(r) = r
                    && r.status().is_success()
                    && r.bytes().await.is_ok()
                {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    ok.load(Ordering::Relaxed)
}

fn rss_mib(child: &Child) -> f64 {
    std::fs::read_to_string(format!("/proc/{}/status", child.id()))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

struct Figures {
    w1: Rate,
    w64: Rate,
    r64: Rate,
    rss_idle_mib: f64,
    rss_mib: f64,
    keys_written: u64,
    w64_cluster: Option<Rate>,
}

async fn measure(name: &str, bin: &Path, secs: f64, keys: u64) -> Result<Figures> {
    println!("{name}: writes and reads on one member …");
    let s = start(bin, 1, START_DEADLINE).await?;
    let w1 = load(&s.urls, 1, secs, Kind::Write).await;
    let w64 = load(&s.urls, 64, secs, Kind::Write).await;
    let written = fill(
        &s.urls[0],
        "bench/r",
        READ_KEYS,
        16,
        Duration::from_secs(60),
    )
    .await;
    if written < READ_KEYS {
        bail!("{name}: only {written} of {READ_KEYS} read keys written");
    }
    let r64 = load(&s.urls, 64, secs, Kind::Read).await;
    drop(s);

    println!("{name}: memory after {keys} keys on a fresh member …");
    let s = start(bin, 1, START_DEADLINE).await?;
    let rss_idle_mib = rss_mib(&s.children[0]);
    let keys_written = fill(&s.urls[0], "mem/k", keys, 64, Duration::from_secs(300)).await;
    // 100k writes reach the default --snapshot-count (100000) of both servers: give the
    // snapshot that may just have started time to finish, so both are read after it.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss_mib = rss_mib(&s.children[0]);
    drop(s);

    println!("{name}: three-member cluster …");
    let w64_cluster = match start(bin, 3, CLUSTER_DEADLINE).await {
        Ok(c) => Some(load(&c.urls, 64, secs, Kind::Write).await),
        Err(e) => {
            println!("{name}: three-member cluster skipped: {e}");
            None
        }
    };
    Ok(Figures {
        w1,
        w64,
        r64,
        rss_idle_mib,
        rss_mib,
        keys_written,
        w64_cluster,
    })
}

/// The value after `name` on the command line.
fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn print_table(a: &Figures, b: Option<&Figures>, keys: u64) {
    println!();
    println!(
        "{:<44} {:>12} {:>12} {:>11}",
        "", "ours", "real etcd", "ours/real"
    );
    let row = |name: &str, x: Option<f64>, y: Option<f64>| {
        let cell = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.0}"));
        let ratio = match (x, y) {
            (Some(x), Some(y)) if y > 0.0 => format!("{:.2}", x / y),
            _ => "-".to_string(),
        };
        println!("{name:<44} {:>12} {:>12} {ratio:>11}", cell(x), cell(y));
    };
    row(
        "writes/s, 1 client",
        Some(a.w1.per_sec),
        b.map(|b| b.w1.per_sec),
    );
    row(
        "writes/s, 64 clients",
        Some(a.w64.per_sec),
        b.map(|b| b.w64.per_sec),
    );
    row(
        "reads/s, 64 clients",
        Some(a.r64.per_sec),
        b.map(|b| b.r64.per_sec),
    );
    row(
        "RSS MiB, idle (lower is better)",
        Some(a.rss_idle_mib),
        b.map(|b| b.rss_idle_mib),
    );
    row(
        &format!("RSS MiB after {keys} keys (lower is better)"),
        Some(a.rss_mib),
        b.map(|b| b.rss_mib),
    );
    row(
        "3 members: writes/s, 64 clients",
        a.w64_cluster.map(|r| r.per_sec),
        b.and_then(|b| b.w64_cluster.map(|r| r.per_sec)),
    );
    let errors = |f: &Figures| {
        f.w1.errors + f.w64.errors + f.r64.errors + f.w64_cluster.map_or(0, |r| r.errors)
    };
    println!(
        "failed requests: ours {}, real {}; keys written for RSS: ours {}, real {}",
        errors(a),
        b.map_or("-".to_string(), |b| errors(b).to_string()),
        a.keys_written,
        b.map_or("-".to_string(), |b| b.keys_written.to_string()),
    );
    if a.w64_cluster.is_none() {
        println!("our three-member cluster did not elect a leader within {CLUSTER_DEADLINE:?}");
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let secs: f64 = arg("--seconds")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10.0);
    let keys: u64 = arg("--keys")
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let ours = match arg("--ours") {
        Some(p) => PathBuf::from(p),
        None => std::env::current_exe()?.with_file_name("etcd"),
    };
    if !ours.exists() {
        bail!("{} missing: cargo build --release -p etcd", ours.display());
    }
    let real = PathBuf::from(arg("--real").unwrap_or_else(|| "/usr/bin/etcd".to_string()));
    println!(
        "{secs} s per phase, {VALUE_LEN}-byte values, {} CPUs; load generator shares the machine",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let a = measure("ours", &ours, secs, keys).await?;
    let b = if real.exists() {
        Some(measure("real etcd", &real, secs, keys).await?)
    } else {
        println!("{} not installed: ours only", real.display());
        None
    };
    print_table(&a, b.as_ref(), keys);
    Ok(())
}
