//! Members as real processes: [`Daemon`] spawns `etcd` (ours, or `$ETCD_BIN`) on loopback
//! ports with its own data dir, and kills, pauses and restarts it by pid. The tier for kill -9,
//! restarts, clusters, etcdctl and comparisons with real etcd.

use std::collections::HashSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::api::Api;
use crate::http::Resp;
use crate::wait::poll_until;

/// How long a member may take to become ready.
/// How long a member may take to exit after SIGTERM: it drains connections (3 s) and stops
/// raft, which a loaded machine slows down.
pub const TERM_LIMIT: Duration = Duration::from_secs(30);

/// Generous for a loaded machine (a member waits for an election before it serves clients).
pub const READY_LIMIT: Duration = Duration::from_secs(60);

/// The directory cargo puts binaries in, seen from a test executable (`target/<profile>/deps/x`).
pub fn target_dir() -> PathBuf {
    crate::ctl::target_dir()
}

/// Path of our `etcd`, or of `$ETCD_BIN`.
pub fn etcd_bin() -> PathBuf {
    if let Ok(p) = std::env::var("ETCD_BIN") {
        return PathBuf::from(p);
    }
    let p = target_dir().join("etcd");
    assert!(
        p.exists(),
        "{} is missing: run `cargo build --workspace --bins` first",
        p.display()
    );
    p
}

/// Whether the tests run against real etcd (`ETCD_BIN` points at it).
pub fn running_real() -> bool {
    std::env::var("ETCD_BIN").is_ok_and(|b| !b.contains("target"))
}

/// Real etcd 3.4, if installed (a missing one fails the test in CI; see [`crate::real`]).
pub fn real_etcd() -> Option<PathBuf> {
    crate::real::binary(crate::real::REAL_ETCD)
}

/// A free loopback port, never handed out twice in this process.
pub fn free_port() -> u16 {
    static TAKEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    for _ in 0..1000 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("bind 127.0.0.1:0");
        let mut taken = TAKEN.lock().unwrap_or_else(|p| p.into_inner());
        if taken.get_or_insert_with(HashSet::new).insert(port) {
            return port;
        }
    }
    panic!("no free port")
}

/// Ports and URLs of one member.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub client_port: u16,
    pub peer_port: u16,
}

impl Endpoints {
    pub fn new() -> Endpoints {
        Endpoints {
            client_port: free_port(),
            peer_port: free_port(),
        }
    }
    pub fn client_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }
    pub fn peer_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.peer_port)
    }
}

impl Default for Endpoints {
    fn default() -> Self {
        Self::new()
    }
}

/// One etcd process and its data dir.
pub struct Daemon {
    pub name: String,
    pub bin: PathBuf,
    pub ends: Endpoints,
    /// Flags beyond the ones every member gets.
    pub args: Vec<String>,
    /// Environment variables for the process, beyond the test's own.
    pub env: Vec<(String, String)>,
    dir: tempfile::TempDir,
    child: Option<Child>,
    starts: u32,
}

impl Daemon {
    /// Our etcd (or `$ETCD_BIN`) as a fresh single-member cluster.
    pub fn start() -> Daemon {
        Self::start_with(&[])
    }

    /// Real etcd 3.4, if installed.
    pub fn start_real() -> Option<Daemon> {
        let bin = real_etcd()?;
        Some(Self::launch_single(bin, &[]))
    }

    /// Our etcd with extra flags (e.g. `--snapshot-count 100`).
    pub fn start_with(args: &[&str]) -> Daemon {
        Self::launch_single(etcd_bin(), args)
    }

    fn launch_single(bin: PathBuf, args: &[&str]) -> Daemon {
        let ends = Endpoints::new();
        let name = "default".to_string();
        let mut all = vec![
            "--initial-cluster".to_string(),
            format!("{name}={}", ends.peer_url()),
        ];
        all.extend(args.iter().map(|s| s.to_string()));
        let mut d = Daemon::new(bin, name, ends, all);
        d.spawn();
        d.wait_ready();
        d
    }

    /// A member that is not started yet (clusters build these).
    pub fn new(bin: PathBuf, name: String, ends: Endpoints, args: Vec<String>) -> Daemon {
        Daemon {
            name,
            bin,
            ends,
            args,
            env: Vec::new(),
            dir: tempfile::Builder::new()
                .prefix("etcd-test-")
                .tempdir()
                .expect("tempdir"),
            child: None,
            starts: 0,
        }
    }

    pub fn is_real(&self) -> bool {
        !self.bin.to_string_lossy().contains("target")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// stderr of every start, appended.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("stderr.log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    pub fn client_url(&self) -> String {
        self.ends.client_url()
    }

    pub fn peer_url(&self) -> String {
        self.ends.peer_url()
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// The full command line of this member.
    pub fn command_args(&self) -> Vec<String> {
        let mut a = vec![
            "--enable-v2".to_string(),
            "--name".to_string(),
            self.name.clone(),
            "--data-dir".to_string(),
            self.data_dir().display().to_string(),
            "--listen-client-urls".to_string(),
            self.client_url(),
            "--advertise-client-urls".to_string(),
            self.client_url(),
            "--listen-peer-urls".to_string(),
            self.peer_url(),
            "--initial-advertise-peer-urls".to_string(),
            self.peer_url(),
        ];
        a.extend(self.args.iter().cloned());
        a
    }

    /// Start the process (without waiting for readiness).
    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "{} already running", self.name);
        let child = spawn_logged(&self.bin, &self.command_args(), &self.env, &self.log_path());
        self.child = Some(child);
        self.starts += 1;
    }

    /// Wait until a GET of the root answers 200 (a member accepts connections before it
    /// serves clients, so each probe gets a short timeout of its own).
    pub fn wait_ready(&mut self) {
        let url = self.url("/v2/keys/");
        let ready = poll_until(READY_LIMIT, || {
            if let Some(status) = self.exit_status() {
                panic!(
                    "{} exited with {status} during start; log:\n{}",
                    self.name,
                    self.log()
                );
            }
            crate::cluster::probe(&url, Duration::from_secs(2)).is_some_and(|r| r.status == 200)
        });
        assert!(
            ready,
            "{} not ready in {READY_LIMIT:?}; log:\n{}",
            self.name,
            self.log()
        );
    }

    /// The exit status if the process has ended.
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    fn signal(&self, sig: Signal) {
        if let Some(pid) = self.pid() {
            let _ = kill(Pid::from_raw(pid as i32), sig);
        }
    }

    /// SIGKILL and reap.
    pub fn kill(&mut self) {
        self.signal(Signal::SIGKILL);
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait (bounded; SIGKILL after [`TERM_LIMIT`]). Returns the exit status.
    pub fn term(&mut self) -> Option<std::process::ExitStatus> {
        self.signal(Signal::SIGTERM);
        let mut status = None;
        poll_until(TERM_LIMIT, || {
            status = self.exit_status();
            status.is_some()
        });
        if status.is_some() {
            self.child = None;
        } else {
            self.kill();
        }
        status
    }

    /// SIGSTOP / SIGCONT.
    pub fn pause(&self) {
        self.signal(Signal::SIGSTOP);
    }
    pub fn resume(&self) {
        self.signal(Signal::SIGCONT);
    }

    /// Start again on the same data dir and ports, and wait until ready.
    pub fn restart(&mut self) {
        if self.child.is_some() {
            self.kill();
        }
        self.spawn();
        self.wait_ready();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.resume();
        self.kill();
    }
}

/// The [`Api`] calls as inherent methods too, so a test file that names only `Daemon` (as every
/// file did before [`Api`]) compiles without importing the trait.
impl Daemon {
    pub fn url(&self, path: &str) -> String {
        Api::url(self, path)
    }
    pub fn client_addr(&self) -> String {
        Api::client_addr(self)
    }
    pub fn get(&self, path: &str) -> Resp {
        Api::get(self, path)
    }
    pub fn put(&self, path: &str, form: &[(&str, &str)]) -> Resp {
        Api::put(self, path, form)
    }
    pub fn post(&self, path: &str, form: &[(&str, &str)]) -> Resp {
        Api::post(self, path, form)
    }
    pub fn delete(&self, path: &str) -> Resp {
        Api::delete(self, path)
    }
    pub fn request(&self, method: &str, path: &str, form: Option<&[(&str, &str)]>) -> Resp {
        Api::request(self, method, path, form)
    }
    pub fn raw(&self, method: &str, target: &str, extra_headers: &str, body: &[u8]) -> Resp {
        Api::raw(self, method, target, extra_headers, body)
    }
    pub fn watch(&self, path: &str, limit: Duration) -> std::thread::JoinHandle<Option<Resp>> {
        Api::watch(self, path, limit)
    }
    pub fn wait_watchers(&self, n: u64) {
        Api::wait_watchers(self, n)
    }
    pub fn index(&self) -> u64 {
        Api::index(self)
    }
}

impl Api for Daemon {
    fn client_url(&self) -> String {
        self.ends.client_url()
    }
    fn peer_url(&self) -> String {
        self.ends.peer_url()
    }
    fn is_real(&self) -> bool {
        Daemon::is_real(self)
    }
}

/// Start `bin` with `args`, stdout and stderr appended to `log`.
pub fn spawn_logged(bin: &Path, args: &[String], env: &[(String, String)], log: &Path) -> Child {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("log file");
    Command::new(bin)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("log"))
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()))
}
