//! The servers under test: ours or real etcd, one or three members on fresh loopback ports and
//! a fresh data dir. Only processes started here are ever signalled, by pid; dropping a
//! [`Cluster`] kills what is left of it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::load::Conn;

/// Which implementation a binary is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    Ours,
    Etcd,
}

/// A binary to benchmark.
#[derive(Clone, Debug)]
pub struct Bin {
    pub flavor: Flavor,
    pub path: PathBuf,
}

/// How long a member may take to accept its first write (three members: to elect a leader).
const READY_DEADLINE: Duration = Duration::from_secs(30);
/// How long a member may take to exit after SIGTERM.
const EXIT_DEADLINE: Duration = Duration::from_secs(30);

/// One member process and what it takes to start it again on the same data dir.
pub struct Member {
    pub child: Option<Child>,
    pub client_url: String,
    args: Vec<String>,
    pub data_dir: PathBuf,
}

/// The members of one measurement, with the temporary directory holding their data dirs.
pub struct Cluster {
    bin: PathBuf,
    pub members: Vec<Member>,
    _dir: tempfile::TempDir,
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Cluster {
    /// Start `n` members of `bin` under `base` (the filesystem being measured) and wait until
    /// every one accepts a write. `extra` goes to every member (e.g. election timing).
    pub async fn start(bin: &Bin, n: usize, base: &Path, extra: &[&str]) -> Result<Cluster> {
        let dir = tempfile::Builder::new()
            .prefix("etcd-bench")
            .tempdir_in(base)?;
        let mut ports = Vec::new();
        for _ in 0..n {
            ports.push((free_port()?, free_port()?));
        }
        let initial = ports
            .iter()
            .enumerate()
            .map(|(i, (_, p))| format!("m{i}=http://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",");
        let mut members = Vec::new();
        for (i, (c, p)) in ports.iter().enumerate() {
            let client_url = format!("http://127.0.0.1:{c}");
            let peer = format!("http://127.0.0.1:{p}");
            let data_dir = dir.path().join(format!("m{i}"));
            let mut args: Vec<String> = vec![
                "--enable-v2".into(),
                "--name".into(),
                format!("m{i}"),
                "--data-dir".into(),
                data_dir.display().to_string(),
                "--listen-client-urls".into(),
                client_url.clone(),
                "--advertise-client-urls".into(),
                client_url.clone(),
                "--listen-peer-urls".into(),
                peer.clone(),
                "--initial-advertise-peer-urls".into(),
                peer,
                "--initial-cluster".into(),
                initial.clone(),
                "--initial-cluster-state".into(),
                "new".into(),
            ];
            args.extend(extra.iter().map(|s| s.to_string()));
            members.push(Member {
                child: None,
                client_url,
                args,
                data_dir,
            });
        }
        let mut cluster = Cluster {
            bin: bin.path.clone(),
            members,
            _dir: dir,
        };
        for i in 0..n {
            cluster.spawn(i)?;
        }
        for i in 0..n {
            cluster.wait_writable(i, READY_DEADLINE).await?;
        }
        Ok(cluster)
    }

    /// Start member `i` (again), on its own data dir and ports.
    pub fn spawn(&mut self, i: usize) -> Result<()> {
        let m = &mut self.members[i];
        let child = Command::new(&self.bin)
            .args(&m.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("start {}", self.bin.display()))?;
        m.child = Some(child);
        Ok(())
    }

    pub fn urls(&self) -> Vec<String> {
        self.members.iter().map(|m| m.client_url.clone()).collect()
    }

    /// Poll member `i` with a write until one succeeds.
    pub async fn wait_writable(&self, i: usize, deadline: Duration) -> Result<()> {
        let url = &self.members[i].client_url;
        let stop = Instant::now() + deadline;
        let mut conn = Conn::new(url)?;
        loop {
            let r = conn.put("/v2/keys/bench-ready", "value=1").await;
            if r.is_ok_and(|(s, _)| s.is_success()) {
                return Ok(());
            }
            if Instant::now() > stop {
                bail!("{url} did not accept a write within {deadline:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The index of the member that says it leads (etcd's `/v2/stats/self`).
    pub async fn leader(&self) -> Result<usize> {
        let stop = Instant::now() + READY_DEADLINE;
        loop {
            for (i, m) in self.members.iter().enumerate() {
                if m.child.is_none() {
                    continue;
                }
                let Ok(mut conn) = Conn::new(&m.client_url) else {
                    continue;
                };
                if let Ok((s, body)) = conn.get("/v2/stats/self").await
                    && s.is_success()
                    && serde_json::from_slice::<serde_json::Value>(&body)
                        .is_ok_and(|v| v["state"] == "StateLeader")
                {
                    return Ok(i);
                }
            }
            if Instant::now() > stop {
                bail!("no member claims leadership");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn signal(&self, i: usize, sig: Signal) -> Result<()> {
        let child = self.members[i]
            .child
            .as_ref()
            .context("member not running")?;
        kill(Pid::from_raw(i32::try_from(child.id())?), sig)?;
        Ok(())
    }

    /// kill -9 member `i` and reap it.
    pub fn kill9(&mut self, i: usize) -> Result<()> {
        self.signal(i, Signal::SIGKILL)?;
        if let Some(mut c) = self.members[i].child.take() {
            c.wait()?;
        }
        Ok(())
    }

    /// SIGTERM member `i` and wait (bounded) for it to exit.
    pub async fn terminate(&mut self, i: usize) -> Result<()> {
        self.signal(i, Signal::SIGTERM)?;
        let stop = Instant::now() + EXIT_DEADLINE;
        let mut child = self.members[i].child.take().context("member not running")?;
        loop {
            if child.try_wait()?.is_some() {
                return Ok(());
            }
            if Instant::now() > stop {
                let _ = child.kill();
                let _ = child.wait();
                bail!("member did not exit within {EXIT_DEADLINE:?} of SIGTERM");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Resident memory of member `i` in MiB (VmRSS).
    pub fn rss_mib(&self, i: usize) -> f64 {
        let Some(child) = &self.members[i].child else {
            return 0.0;
        };
        std::fs::read_to_string(format!("/proc/{}/status", child.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
            })
            .map_or(0.0, |kib| kib / 1024.0)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for m in &mut self.members {
            if let Some(mut c) = m.child.take() {
                if let Ok(pid) = i32::try_from(c.id()) {
                    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                }
                let _ = c.wait();
            }
        }
    }
}

/// Bytes under `dir`: (allocated, from `st_blocks`; apparent, from `st_size`). Bounded by the
/// tree itself; symlinks are not followed.
pub fn dir_size(dir: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let mut stack = vec![dir.to_path_buf()];
    let (mut allocated, mut apparent) = (0, 0);
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(md) = e.path().symlink_metadata() else {
                continue;
            };
            if md.is_dir() {
                stack.push(e.path());
            } else {
                allocated += md.blocks() * 512;
                apparent += md.len();
            }
        }
    }
    (allocated, apparent)
}

/// Raise this process's open-file limit to its hard limit; children inherit it.
pub fn raise_nofile() -> Result<u64> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard)?;
    Ok(hard)
}
