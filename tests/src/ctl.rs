//! Running etcdctl in tests: ours (the binary next to the test executable) and, when installed,
//! real etcdctl v2 (`/usr/bin/etcdctl` with `ETCDCTL_API=2`). Every run is bounded in time.
//!
//! Also the normalisation used to compare two transcripts whose indexes legitimately differ.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What one etcdctl invocation produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtlOutput {
    pub stdout: String,
    pub stderr: String,
    /// Exit status; -1 when killed by a signal.
    pub code: i32,
}

impl CtlOutput {
    /// `$ args`, stdout, `ERR: `-prefixed stderr lines and `[rc=N]`: a transcript entry.
    pub fn transcript(&self, args: &[&str]) -> String {
        let mut s = format!("$ {}\n{}", args.join(" "), self.stdout);
        for l in self.stderr.lines() {
            s.push_str(&format!("ERR: {l}\n"));
        }
        s.push_str(&format!("[rc={}]\n", self.code));
        s
    }
}

/// The directory cargo puts binaries in, seen from a test executable (`target/debug/deps/x`).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("exe dir");
    deps.parent().expect("target dir").to_path_buf()
}

/// Our etcdctl.
pub fn ours_path() -> PathBuf {
    target_dir().join("etcdctl")
}

/// Real etcdctl, if installed (a missing one fails the test in CI; see [`crate::real`]).
pub fn real_path() -> Option<PathBuf> {
    crate::real::binary(crate::real::REAL_ETCDCTL)
}

/// How long any single etcdctl run may take before the test fails.
pub const RUN_LIMIT: Duration = Duration::from_secs(30);

/// An etcdctl binary bound to one endpoint list.
#[derive(Debug, Clone)]
pub struct Ctl {
    pub bin: PathBuf,
    pub real: bool,
    pub endpoints: String,
}

impl Ctl {
    pub fn ours(endpoints: &str) -> Ctl {
        Ctl {
            bin: ours_path(),
            real: false,
            endpoints: endpoints.to_string(),
        }
    }

    pub fn real(endpoints: &str) -> Option<Ctl> {
        Some(Ctl {
            bin: real_path()?,
            real: true,
            endpoints: endpoints.to_string(),
        })
    }

    /// A command with a clean, deterministic environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        for v in [
            "ETCDCTL_ENDPOINTS",
            "ETCDCTL_ENDPOINT",
            "ETCDCTL_PEERS",
            "ETCDCTL_USERNAME",
            "ETCDCTL_DISCOVERY_SRV",
            "ETCDCTL_CA_FILE",
            "ETCDCTL_CERT_FILE",
            "ETCDCTL_KEY_FILE",
        ] {
            c.env_remove(v);
        }
        c.env("ETCDCTL_API", "2");
        c.args(args);
        c
    }

    /// `etcdctl --endpoints <ep> args…` with empty stdin.
    pub fn run(&self, args: &[&str]) -> CtlOutput {
        self.run_stdin(args, b"")
    }

    /// `etcdctl --endpoints <ep> args…` with `stdin` piped in.
    pub fn run_stdin(&self, args: &[&str], stdin: &[u8]) -> CtlOutput {
        let mut all = vec!["--endpoints", self.endpoints.as_str()];
        all.extend_from_slice(args);
        run_command(self.command(&all), stdin)
    }

    /// `etcdctl args…` exactly as given (no endpoint added).
    pub fn raw(&self, args: &[&str]) -> CtlOutput {
        run_command(self.command(args), b"")
    }

    /// Start a long-running etcdctl (watch, exec-watch) with piped stdout and stderr.
    pub fn spawn(&self, args: &[&str]) -> Child {
        let mut all = vec!["--endpoints", self.endpoints.as_str()];
        all.extend_from_slice(args);
        self.command(&all)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn etcdctl")
    }
}

/// Run to completion within `RUN_LIMIT`, collecting both streams.
pub fn run_command(mut cmd: Command, stdin: &[u8]) -> CtlOutput {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn etcdctl");
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(stdin);
    }
    let stdout = child.stdout.take();
    wait_output(child, stdout)
}

/// Wait (within `RUN_LIMIT`) for a started etcdctl to exit; `stdout` is the rest of its output
/// (the caller may have read the start of it already), stderr is read from the child.
pub fn wait_output<R: Read + Send + 'static>(mut child: Child, stdout: Option<R>) -> CtlOutput {
    let out = reader(stdout);
    let err = reader(child.stderr.take());
    let deadline = Instant::now() + RUN_LIMIT;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("etcdctl did not finish within {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    CtlOutput {
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        code: status.code().unwrap_or(-1),
    }
}

/// Read a pipe to its end on a thread.
pub fn reader<R: Read + Send + 'static>(r: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(mut r) = r {
            let _ = r.read_to_end(&mut s);
        }
        String::from_utf8_lossy(&s).into_owned()
    })
}

/// Collect a child's output lines as they come, so a test can poll for them.
pub struct LineCollector {
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    _thread: std::thread::JoinHandle<()>,
}

impl LineCollector {
    pub fn new<R: Read + Send + 'static>(r: R) -> LineCollector {
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = lines.clone();
        let thread = std::thread::spawn(move || {
            use std::io::BufRead;
            for l in std::io::BufReader::new(r).lines() {
                match l {
                    Ok(l) => sink.lock().expect("lock").push(l),
                    Err(_) => break,
                }
            }
        });
        LineCollector {
            lines,
            _thread: thread,
        }
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("lock").clone()
    }

    /// Wait (bounded) until at least `n` lines arrived; returns them all.
    pub fn wait_for(&self, n: usize, limit: Duration) -> Vec<String> {
        let deadline = Instant::now() + limit;
        loop {
            let l = self.lines();
            if l.len() >= n || Instant::now() > deadline {
                return l;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Make two transcripts comparable: every run of digits becomes `#` (indexes, ids, ports,
/// times), our extended `Etcd-Index/Raft-Index/Raft-Term` block becomes real etcdctl's `Index:`
/// line, and the random order in which real etcdctl tries endpoints is not compared.
pub fn normalise(s: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for l in s.lines() {
        if l.starts_with("Raft-Index: ") || l.starts_with("Raft-Term: ") {
            continue;
        }
        let l = l.replace("Etcd-Index: ", "Index: ");
        let mut out = String::with_capacity(l.len());
        let mut in_digits = false;
        for c in l.chars() {
            if c.is_ascii_digit() {
                if !in_digits {
                    out.push('#');
                }
                in_digits = true;
            } else {
                in_digits = false;
                out.push(c);
            }
        }
        lines.push(out);
    }
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

/// The X-Etcd-Index a daemon reports right now (so tests can predict the indexes of writes).
pub fn etcd_index(client_url: &str) -> u64 {
    let resp = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
        .get(format!("{client_url}/v2/keys/"))
        .send()
        .expect("GET /v2/keys/");
    resp.headers()
        .get("X-Etcd-Index")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("X-Etcd-Index header")
}

/// One member as `/v2/members` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInfo {
    pub id: String,
    pub name: String,
    pub peer_urls: Vec<String>,
    pub client_urls: Vec<String>,
}

/// The members of a daemon, from `/v2/members`.
pub fn members(client_url: &str) -> Vec<MemberInfo> {
    let v: serde_json::Value = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
        .get(format!("{client_url}/v2/members"))
        .send()
        .expect("GET /v2/members")
        .json()
        .expect("members json");
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    v["members"]
        .as_array()
        .map(|ms| {
            ms.iter()
                .map(|m| MemberInfo {
                    id: m["id"].as_str().unwrap_or_default().to_string(),
                    name: m["name"].as_str().unwrap_or_default().to_string(),
                    peer_urls: strings(&m["peerURLs"]),
                    client_urls: strings(&m["clientURLs"]),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Wait (bounded) until the daemon's member list publishes a client URL: etcdctl syncs its
/// endpoints from it before every command.
pub fn wait_published(client_url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if members(client_url)
            .iter()
            .any(|m| !m.client_urls.is_empty())
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{client_url}: no member published its client URLs within 30s");
}

/// A loopback port nobody listens on (bound, then released).
pub fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Kills a spawned etcdctl when the test ends, however it ends.
pub struct ChildGuard(pub Option<Child>);

impl ChildGuard {
    /// Send SIGINT and wait (bounded) for the exit status.
    pub fn interrupt(&mut self) -> Option<i32> {
        let child = self.0.as_mut()?;
        let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).ok()?);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(s)) = child.try_wait() {
                return s.code();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
