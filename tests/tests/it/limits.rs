//! Process limits the daemon sets for itself at start.

use std::process::{Command, Stdio};
use std::time::Duration;

use etcd_tests::daemon::{Daemon, Endpoints, etcd_bin};
use etcd_tests::wait_until;

/// The open-files soft limit of process `pid`, and its hard limit.
fn open_files_limit(pid: u32) -> (u64, u64) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("limits");
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("Max open files line");
    let fields: Vec<&str> = line.split_whitespace().collect();
    let parse = |s: &str| s.parse().unwrap_or(u64::MAX);
    (parse(fields[3]), parse(fields[4]))
}

#[test]
fn the_open_files_soft_limit_is_raised_to_the_hard_limit() {
    // Started with a soft limit of 256 (as a shell with `ulimit -S -n 256` would), the member
    // raises it to the hard limit, as Go programs do.
    let d = Daemon::new(etcd_bin(), "default".into(), Endpoints::new(), Vec::new());
    let child = Command::new("/bin/sh")
        .arg("-c")
        .arg(r#"ulimit -S -n 256 && exec "$0" "$@""#)
        .arg(etcd_bin())
        .args(d.command_args())
        .args(["--initial-cluster", &format!("default={}", d.peer_url())])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn etcd under sh");
    let child = Reaped(child);
    let url = format!("{}/v2/keys/", d.client_url());
    wait_until(Duration::from_secs(30), "the member to serve", || {
        etcd_tests::cluster::probe(&url, Duration::from_secs(2)).is_some_and(|r| r.status == 200)
    });
    let (soft, hard) = open_files_limit(child.0.id());
    assert!(
        hard > 256,
        "this machine's hard limit is too low to tell: {hard}"
    );
    assert_eq!(soft, hard, "soft limit not raised");
}

/// A child killed (by its pid, through `Child`) and reaped when the test ends, pass or fail.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
