//! Integration-test harness, used by the `it` test binary (`tests/it/`).
//!
//! - [`Server`]: one single-member cluster for HTTP tests, in-process ([`InProcess`], the
//!   default) or a process ([`Daemon`], when `ETCD_BIN` is set, e.g. `/usr/bin/etcd` to check
//!   the same expectations against real etcd 3.4).
//! - [`Daemon`]: one member as a real process, for kill -9, restarts and SIGSTOP.
//! - [`Api`]: the client API of either (`get/put/post/delete/raw/watch/wait_watchers`).
//! - [`http`]: blocking HTTP with the status, headers and body kept verbatim.
//! - [`wait`]: deadline polls ([`wait_until`], [`wait_for`]); tests never sleep for a condition.
//! - [`assert_same!`]: equality with a line diff, for long texts and JSON.
//! - [`ctl`]: running etcdctl (ours and real). [`cluster`]: several members. [`real`]: real
//!   etcd as the reference (required in CI).
//!
//! Every wait has a deadline; processes are killed by pid when their handle drops.

pub mod api;
pub mod browser;
pub mod cluster;
pub mod ctl;
pub mod daemon;
pub mod diff;
pub mod fault;
pub mod http;
pub mod inprocess;
pub mod real;
pub mod text;
pub mod tls;
pub mod wait;

pub use api::Api;
pub use daemon::{
    Daemon, Endpoints, READY_LIMIT, etcd_bin, free_port, real_etcd, running_real, target_dir,
};
pub use http::{Resp, raw_http, request, request_raw, try_request};
pub use inprocess::{InProcess, Server};
pub use text::{Normaliser, is_rfc3339_nano, mask_expirations, rfc3339_unix_nanos, unix_nanos_now};
pub use wait::{wait_for, wait_until};

/// Total size of the files below `dir`.
pub fn dir_size(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            total += if p.is_dir() {
                dir_size(&p)
            } else {
                e.metadata().map(|m| m.len()).unwrap_or(0)
            };
        }
    }
    total
}
