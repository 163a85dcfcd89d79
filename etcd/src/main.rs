//! `etcd`: parse etcd's flags, then serve.

use std::process::ExitCode;

use etcd::boot::flags::{CLUSTER_VERSION, Config, ConfigError, Invocation, VERSION, help};

/// openraft at `warn`, but not its per-RPC failure lines (a heartbeat, an append or, from the
/// raft core, a vote or pre-vote to a peer that is down: several a second while a member
/// campaigns alone, with decimal ids): the peer transport logs reachability once
/// per change, with the member's name and hex id, as etcd does (`raft/network/link.rs`).
/// openraft also logs every membership change it refuses as an ERROR; our caller retries
/// those (a name published during an election) and reports what is left.
const DEFAULT_LOG_FILTER: &str = "info,openraft=warn,openraft::core::heartbeat=error,openraft::replication=error,\
     openraft::engine::handler::replication_handler=error,openraft::raft::api::management=off,\
     openraft::core::raft_core=error";

// glibc's malloc was a seventh of the daemon's CPU under 64 writing clients (perf, 2 cores):
// every request allocates and frees on whichever worker thread runs it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let config = match Config::parse(std::env::args_os()) {
        Ok(Invocation::Run(c)) => *c,
        Ok(Invocation::PrintVersion) => {
            println!("etcd Version: {VERSION}");
            println!("Git SHA: Not provided (use ./build instead of go build)");
            println!("Rust Version: etcd-rs {}", env!("CARGO_PKG_VERSION"));
            println!("Go OS/Arch: {}/{}", std::env::consts::OS, go_arch());
            println!("Cluster Version: {CLUSTER_VERSION}");
            return ExitCode::SUCCESS;
        }
        Ok(Invocation::PrintHelp) => {
            // etcd splits its help the same way: usage on stderr, the flags on stdout.
            eprint!("{}", help::USAGE);
            print!("{}", help::flag_list());
            return ExitCode::SUCCESS;
        }
        Err(ConfigError::Usage(m)) => {
            eprintln!("{m}");
            eprint!("{}", help::USAGE);
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("etcd: {e}");
            return ExitCode::from(1);
        }
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ETCD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER)),
        )
        .init();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    // tokio reads TOKIO_WORKER_THREADS itself, unless told a count here.
    if std::env::var_os("TOKIO_WORKER_THREADS").is_none() {
        builder.worker_threads(worker_threads());
    }
    let runtime = match builder.enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("etcd: cannot start runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(etcd::boot::serve::run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("etcd: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// One core fewer than the machine has, and at least one: the storage thread (redb's commits)
/// and the clients on the same machine need a core as much as the HTTP tasks do. On the 2-core
/// VM, one worker instead of two was ahead on every row of `etcd-bench --only put,get,cas
/// --rounds 2 --seconds 3` run against the two-worker build (sequential PUT 4,275 vs 3,582/s,
/// 16-client PUT 26,418 vs 20,252/s, quorum GET 53,263 vs 41,845/s): fewer tasks handed between
/// workers, fewer idle workers woken.
fn worker_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}
