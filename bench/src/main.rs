//! Benchmark: our etcd against real etcd 3.4, measured in the same run on loopback.
//!
//! ```sh
//! cargo build --release -p etcd -p etcd-bench
//! target/release/etcd-bench [--seconds 5] [--keys 100000]
//! ```
//!
//! For each server: writes/s with 1 and 64 concurrent clients (PUT of a 256-byte value over
//! keep-alive HTTP/1.1), reads/s with 64 clients, resident memory after writing `--keys`
//! distinct keys, and write throughput of a three-member cluster at 64 clients. Every loop is
//! bounded by time and count; only processes started here are stopped, by pid.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

struct Server {
    children: Vec<Child>,
    urls: Vec<String>,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(c.id() as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
            let _ = c.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

async fn start(bin: &Path, members: usize) -> Result<Server> {
    let dir = tempfile::tempdir()?;
    let ports: Vec<(u16, u16)> = (0..members).map(|_| (free_port(), free_port())).collect();
    let initial = ports
        .iter()
        .enumerate()
        .map(|(i, (_, p))| format!("m{i}=http://127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(",");
    let mut children = Vec::new();
    let mut urls = Vec::new();
    for (i, (c, p)) in ports.iter().enumerate() {
        let client = format!("http://127.0.0.1:{c}");
        let peer = format!("http://127.0.0.1:{p}");
        let child = Command::new(bin)
            .args(["--enable-v2", "--name", &format!("m{i}")])
            .arg("--data-dir")
            .arg(dir.path().join(format!("m{i}")))
            .args([
                "--listen-client-urls",
                &client,
                "--advertise-client-urls",
                &client,
            ])
            .args([
                "--listen-peer-urls",
                &peer,
                "--initial-advertise-peer-urls",
                &peer,
            ])
            .args(["--initial-cluster", &initial])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("start {}", bin.display()))?;
        children.push(child);
        urls.push(client);
    }
    let server = Server {
        children,
        urls,
        _dir: dir,
    };
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
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
            if Instant::now() > deadline {
                bail!("{} did not become ready", bin.display());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(server)
}

/// Run `clients` loops for `secs`, each doing `op(client, url, i)`; requests per second.
async fn load(urls: &[String], clients: usize, secs: f64, write: bool) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let stop = Instant::now() + Duration::from_secs_f64(secs);
    let value = "v".repeat(256);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let url = urls[c % urls.len()].clone();
        let done = done.clone();
        let value = value.clone();
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap_or_default();
            let mut i = 0u64;
            while Instant::now() < stop && i < 10_000_000 {
                let key = format!("{url}/v2/keys/bench/c{c}-{}", i % 1000);
                let ok = if write {
                    http.put(&key)
                        .form(&[("value", value.as_str())])
                        .send()
                        .await
                } else {
                    http.get(format!("{url}/v2/keys/bench-ready")).send().await
                };
                if let Ok(r) = ok {
                    let good = r.status().is_success();
                    let _ = r.bytes().await;
                    if good {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
                i += 1;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    done.load(Ordering::Relaxed) as f64 / secs
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

async fn fill(url: &str, keys: usize) {
    let per = keys.div_ceil(32);
    let mut tasks = Vec::new();
    for c in 0..32 {
        let url = url.to_string();
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            for i in 0..per {
                let _ = http
                    .put(format!("{url}/v2/keys/fill/c{c}/k{i}"))
                    .form(&[("value", "0123456789abcdef0123456789abcdef")])
                    .send()
                    .await;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

struct Figures {
    w1: f64,
    w64: f64,
    r64: f64,
    rss_mib: f64,
    w64_cluster: Option<f64>,
}

async fn measure(bin: &Path, secs: f64, keys: usize) -> Result<Figures> {
    let s = start(bin, 1).await?;
    let w1 = load(&s.urls, 1, secs, true).await;
    let w64 = load(&s.urls, 64, secs, true).await;
    let r64 = load(&s.urls, 64, secs, false).await;
    fill(&s.urls[0], keys).await;
    let rss_mib = rss_kib(s.children[0].id()) as f64 / 1024.0;
    drop(s);
    let w64_cluster = match start(bin, 3).await {
        Ok(c) => Some(load(&c.urls, 64, secs, true).await),
        Err(e) => {
            eprintln!("three-member cluster of {}: {e}", bin.display());
            None
        }
    };
    Ok(Figures {
        w1,
        w64,
        r64,
        rss_mib,
        w64_cluster,
    })
}

fn arg(name: &str, default: f64) -> f64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> Result<()> {
    let secs = arg("--seconds", 5.0);
    let keys = arg("--keys", 100_000.0) as usize;
    let exe = std::env::current_exe()?;
    let ours: PathBuf = exe.with_file_name("etcd");
    if !ours.exists() {
        bail!("{} missing: cargo build --release -p etcd", ours.display());
    }
    let real = PathBuf::from("/usr/bin/etcd");
    println!("measuring ours ({}) …", ours.display());
    let a = measure(&ours, secs, keys).await?;
    let b = if real.exists() {
        println!("measuring real etcd ({}) …", real.display());
        Some(measure(&real, secs, keys).await?)
    } else {
        println!("real etcd not installed: ours only");
        None
    };
    println!();
    println!(
        "{:<34} {:>12} {:>12} {:>8}",
        "", "ours", "real etcd", "ratio"
    );
    let row = |name: &str, x: f64, y: Option<f64>, higher_better: bool| match y {
        Some(y) if y > 0.0 => {
            let ratio = if higher_better { x / y } else { y / x };
            println!("{name:<34} {x:>12.0} {y:>12.0} {ratio:>7.2}x");
        }
        _ => println!("{name:<34} {x:>12.0} {:>12} {:>8}", "-", "-"),
    };
    row("writes/s, 1 client", a.w1, b.as_ref().map(|b| b.w1), true);
    row(
        "writes/s, 64 clients",
        a.w64,
        b.as_ref().map(|b| b.w64),
        true,
    );
    row(
        "reads/s, 64 clients",
        a.r64,
        b.as_ref().map(|b| b.r64),
        true,
    );
    row(
        &format!("RSS MiB after {keys} keys (lower)"),
        a.rss_mib,
        b.as_ref().map(|b| b.rss_mib),
        false,
    );
    row(
        "3 members: writes/s, 64 clients",
        a.w64_cluster.unwrap_or(0.0),
        b.as_ref().and_then(|b| b.w64_cluster),
        true,
    );
    println!("(ratio > 1 means ours is better)");
    Ok(())
}
