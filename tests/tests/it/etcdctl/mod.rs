//! etcdctl against a running daemon: exact stdout, stderr and exit status for every command,
//! flag and failure path (the expectations are real etcdctl v2's, indexes computed from the
//! daemon's X-Etcd-Index before the first write), plus watches that survive a member restart.
//!
//! Uses our daemon by default; `ETCD_BIN=/usr/bin/etcd` runs the same checks against real etcd.

use std::time::Duration;

use etcd_tests::Daemon;
use etcd_tests::ctl::{
    ChildGuard, Ctl, CtlOutput, LineCollector, dead_port, etcd_index, members, wait_published,
};

mod backup;
mod endpoints;
mod keys;
mod output;
mod watch;

/// A fresh single-member daemon whose member list already publishes its client URL.
fn start() -> (Daemon, String) {
    let d = Daemon::start();
    let url = d.client_url();
    wait_published(&url);
    (d, url)
}

/// One run's streams and status as text, so a difference shows as a line diff.
fn shown(stdout: &str, stderr: &str, code: i32) -> String {
    format!("stdout:\n{stdout}\nstderr:\n{stderr}\nexit status: {code}\n")
}

#[track_caller]
fn expect(o: CtlOutput, stdout: &str, stderr: &str, code: i32) {
    etcd_tests::assert_same!(
        shown(&o.stdout, &o.stderr, o.code),
        shown(stdout, stderr, code),
        "etcdctl result"
    );
}

#[track_caller]
fn ok(o: CtlOutput, stdout: &str) {
    expect(o, stdout, "", 0);
}

fn not_found(key: &str, idx: u64) -> String {
    format!("Error:  100: Key not found ({key}) [{idx}]\n")
}
