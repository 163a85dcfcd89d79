//! Members inside the test process: [`InProcess`] binds 127.0.0.1:0 listeners, builds the
//! daemon's `Config` from etcd's flags for them, and runs `etcd::boot::serve::serve` on its own
//! tokio runtime in a background thread until dropped. No process to spawn or reap, so the
//! single-member HTTP tests start in milliseconds. [`Server`] picks this tier or a process.

use std::net::TcpListener;
use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::Duration;

use etcd::boot::flags::{Config, Invocation};
use etcd::boot::serve::{Listeners, serve};
use tokio::sync::oneshot;

use crate::api::Api;
use crate::daemon::{Daemon, READY_LIMIT};
use crate::wait::wait_until;

/// How long the server gets to drain after the stop signal (serve's own drain is 3 s).
const STOP_LIMIT: Duration = Duration::from_secs(15);

/// One single-member cluster served by `etcd::boot::serve::serve` in this process.
pub struct InProcess {
    client_url: String,
    peer_url: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<(), String>>>,
    // Dropped last: the server must have closed its database first.
    dir: tempfile::TempDir,
}

fn bind_loopback() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.set_nonblocking(true).expect("nonblocking listener");
    let url = format!("http://{}", l.local_addr().expect("local addr"));
    (l, url)
}

impl InProcess {
    /// A fresh single member with `extra` flags (e.g. `--snapshot-count 100`); waits until it
    /// serves clients.
    pub fn start(extra: &[&str]) -> InProcess {
        let dir = tempfile::Builder::new()
            .prefix("etcd-inproc-")
            .tempdir()
            .expect("tempdir");
        let (client, client_url) = bind_loopback();
        let (peer, peer_url) = bind_loopback();
        let config = config(&dir.path().join("data"), &client_url, &peer_url, extra);
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name(format!("etcd {client_url}"))
            .spawn(move || run(config, client, peer, stopped))
            .expect("spawn server thread");
        let mut s = InProcess {
            client_url,
            peer_url,
            stop: Some(stop),
            thread: Some(thread),
            dir,
        };
        s.wait_ready();
        s
    }

    fn wait_ready(&mut self) {
        let url = self.url("/v2/keys/");
        wait_until(READY_LIMIT, &format!("{url} answers 200"), || {
            if self.thread.as_ref().is_some_and(JoinHandle::is_finished) {
                let why = self.thread.take().map(JoinHandle::join);
                panic!(
                    "in-process etcd {} ended during start: {why:?}",
                    self.client_url
                );
            }
            crate::cluster::probe(&url, Duration::from_secs(2)).is_some_and(|r| r.status == 200)
        });
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

/// etcd's own flags for a member on these URLs, parsed by the daemon's parser.
fn config(data_dir: &std::path::Path, client_url: &str, peer_url: &str, extra: &[&str]) -> Config {
    let data_dir = data_dir.display().to_string();
    let initial = format!("default={peer_url}");
    let mut args = vec![
        "etcd",
        "--enable-v2",
        "--name",
        "default",
        "--data-dir",
        &data_dir,
        "--listen-client-urls",
        client_url,
        "--advertise-client-urls",
        client_url,
        "--listen-peer-urls",
        peer_url,
        "--initial-advertise-peer-urls",
        peer_url,
        "--initial-cluster",
        &initial,
    ];
    args.extend_from_slice(extra);
    match Config::parse(args.iter().map(std::ffi::OsString::from)) {
        Ok(Invocation::Run(c)) => *c,
        Ok(_) => panic!("etcd flags {args:?} print something instead of starting a member"),
        Err(e) => panic!("etcd flags {args:?} do not make a config: {e}"),
    }
}

/// The server thread: its own runtime, so a test's blocking HTTP calls never starve it.
fn run(
    config: Config,
    client: TcpListener,
    peer: TcpListener,
    stopped: oneshot::Receiver<()>,
) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let served = rt.block_on(async move {
        let listeners = Listeners {
            client: vec![tokio::net::TcpListener::from_std(client)?],
            peer: vec![tokio::net::TcpListener::from_std(peer)?],
        };
        serve(config, listeners, async {
            let _ = stopped.await;
        })
        .await
    });
    // Bounded: a blocking task that never returns must not hang the test that dropped us.
    rt.shutdown_timeout(STOP_LIMIT);
    served.map_err(|e| format!("{e:#}"))
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            match t.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => eprintln!("in-process etcd {}: {e}", self.client_url),
                Err(_) => eprintln!("in-process etcd {} panicked", self.client_url),
            }
        }
    }
}

impl Api for InProcess {
    fn client_url(&self) -> String {
        self.client_url.clone()
    }
    fn peer_url(&self) -> String {
        self.peer_url.clone()
    }
    fn is_real(&self) -> bool {
        false
    }
}

/// A single member for tests that need no kill or restart: in-process by default; a process
/// when `ETCD_BIN` is set (so `ETCD_BIN=/usr/bin/etcd` still checks the same expectations
/// against real etcd) or `ETCD_TESTS_TIER=process`.
pub enum Server {
    InProcess(InProcess),
    Process(Daemon),
}

impl Server {
    pub fn start() -> Server {
        Self::start_with(&[])
    }

    pub fn start_with(extra: &[&str]) -> Server {
        if process_tier() {
            Server::Process(Daemon::start_with(extra))
        } else {
            Server::InProcess(InProcess::start(extra))
        }
    }

    fn api(&self) -> &dyn Api {
        match self {
            Server::InProcess(s) => s,
            Server::Process(d) => d,
        }
    }
}

/// Whether single-member tests must use processes.
pub fn process_tier() -> bool {
    std::env::var_os("ETCD_BIN").is_some()
        || std::env::var("ETCD_TESTS_TIER").is_ok_and(|t| t == "process")
}

impl Api for Server {
    fn client_url(&self) -> String {
        self.api().client_url()
    }
    fn peer_url(&self) -> String {
        self.api().peer_url()
    }
    fn is_real(&self) -> bool {
        self.api().is_real()
    }
}
