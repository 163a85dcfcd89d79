//! Compatibility with the real thing, where installed:
//! 1. the same scripted session through real etcdctl and ours against one daemon;
//! 2. our etcdctl against real etcd and against our daemon.
//!
//! Transcripts (stdout, stderr, exit status of every step) are compared line by line after
//! `ctl::normalise` (indexes and other numbers masked; our extended block mapped to `Index:`).
//! When real etcd/etcdctl is not installed each test says it skipped; with `CI=true` it fails.

use etcd_tests::Daemon;
use etcd_tests::ctl::{Ctl, CtlOutput, dead_port, normalise, wait_published};

/// One step: arguments (with `{p}` = the session's key prefix) and optional stdin.
type Step = (&'static [&'static str], &'static str);

const SESSION: &[Step] = &[
    (&["set", "{p}/foo", "bar"], ""),
    (&["-o", "json", "set", "{p}/foo", "bar&two"], ""),
    (&["-o", "extended", "set", "{p}/foo", "bar three"], ""),
    (&["get", "{p}/foo"], ""),
    (&["-o", "json", "get", "{p}/foo"], ""),
    (&["-o", "extended", "get", "{p}/foo"], ""),
    (&["get", "{p}/nope"], ""),
    (&["-o", "json", "get", "{p}/nope"], ""),
    (&["mkdir", "{p}/d"], ""),
    (&["-o", "json", "mkdir", "{p}/dd"], ""),
    (&["-o", "extended", "mkdir", "{p}/ddd"], ""),
    (&["get", "{p}/d"], ""),
    (&["set", "{p}/d/a", "one"], ""),
    (&["mkdir", "{p}/d/sub"], ""),
    (&["ls", "--sort", "{p}"], ""),
    (&["ls", "--sort", "-p", "{p}"], ""),
    (&["ls", "--sort", "-r", "{p}"], ""),
    (&["-o", "json", "ls", "--sort", "{p}/d"], ""),
    (&["-o", "extended", "ls", "--sort", "{p}/d"], ""),
    (&["ls", "{p}/foo"], ""),
    (&["ls", "{p}/nope"], ""),
    (&["get"], ""),
    (&["set", "{p}/x"], ""),
    (&["set", "{p}/x"], "from stdin"),
    (&["mk", "{p}/y"], "line\n"),
    (&["mk", "{p}/y", "z"], ""),
    (&["update", "{p}/nokey", "v"], ""),
    (&["update", "{p}/x", "updated"], ""),
    (&["rm", "{p}/foo"], ""),
    (&["-o", "json", "rm", "{p}/d/a"], ""),
    (&["-o", "extended", "rm", "--dir", "{p}/ddd"], ""),
    (&["rm", "{p}/d"], ""),
    (&["rm", "{p}/d", "--dir"], ""),
    (&["rm", "-r", "{p}/d"], ""),
    (&["rmdir", "{p}/y"], ""),
    (&["set", "{p}/c", "one"], ""),
    (&["rm", "--with-value", "two", "{p}/c"], ""),
    (&["rm", "--with-value", "one", "{p}/c"], ""),
    (&["set", "{p}/c", "one"], ""),
    (&["set", "--swap-with-value", "two", "{p}/c", "three"], ""),
    (
        &[
            "-o",
            "json",
            "set",
            "--swap-with-value",
            "one",
            "{p}/c",
            "three",
        ],
        "",
    ),
    (&["mk", "--in-order", "{p}/q", "first"], ""),
    (&["setdir", "{p}/sd"], ""),
    (&["setdir", "{p}/sd"], ""),
    (&["updatedir", "{p}/sd"], ""),
    (
        &["-o", "extended", "updatedir", "--ttl", "50", "{p}/sd"],
        "",
    ),
    (&["updatedir", "{p}/nod"], ""),
    (&["set", "{p}/sd", "v"], ""),
    (&["mkdir", "{p}/c"], ""),
    (&["get", "{p}/c/x"], ""),
    (&["-o", "yaml", "get", "{p}/c"], ""),
    (&["set", "{p}/c", "--", "-x"], ""),
    (&["set", "{p}/c", "-y"], ""),
    (&["watch", "--after-index", "1", "{p}/c"], ""),
    (&["watch"], ""),
    (&["exec-watch", "{p}/c"], ""),
    (&["member", "list", "extra"], ""),
    (&["member", "add"], ""),
    (&["member", "remove", "abc"], ""),
    (&["member", "add", "foo", "notaurl"], ""),
];

/// Run the session with `ctl`, keys under `prefix`; the transcript names keys `{p}`.
fn transcript(ctl: &Ctl, prefix: &str) -> String {
    let mut s = String::new();
    for (args, stdin) in SESSION {
        let args: Vec<String> = args.iter().map(|a| a.replace("{p}", prefix)).collect();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = ctl.run_stdin(&refs, stdin.as_bytes());
        let shown: Vec<String> = args.iter().map(|a| a.replace(prefix, "{p}")).collect();
        let shown: Vec<&str> = shown.iter().map(String::as_str).collect();
        let o = etcd_tests::ctl::CtlOutput {
            stdout: o.stdout.replace(prefix, "{p}"),
            stderr: o.stderr.replace(prefix, "{p}"),
            code: o.code,
        };
        s.push_str(&o.transcript(&shown));
    }
    s
}

/// Transcripts compared after `normalise`, shown as a line diff when they differ.
#[track_caller]
fn assert_same_transcript(ours_name: &str, ours: &str, expected_name: &str, expected: &str) {
    etcd_tests::assert_same!(
        normalise(ours),
        normalise(expected),
        "{ours_name} (+) against {expected_name} (-)"
    );
}

/// One run as text, so a difference shows as a line diff.
fn shown(o: &CtlOutput) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}\nexit status: {}\n",
        o.stdout, o.stderr, o.code
    )
}

#[test]
fn real_etcdctl_and_ours_agree_against_one_daemon() {
    let d = Daemon::start();
    let url = d.client_url();
    wait_published(&url);
    // Skips (with a message) when real etcdctl is missing; fails instead in CI.
    let Some(real) = Ctl::real(&url) else {
        return;
    };
    let ours = Ctl::ours(&url);
    let t_real = transcript(&real, "/real");
    let t_ours = transcript(&ours, "/ours");
    assert_same_transcript("our etcdctl", &t_ours, "real etcdctl", &t_real);

    for args in [vec!["member", "list"], vec!["cluster-health"]] {
        let r = real.run(&args);
        let o = ours.run(&args);
        etcd_tests::assert_same!(shown(&o), shown(&r), "etcdctl {args:?}");
    }

    // Failure paths that do not depend on the daemon.
    let dead = format!("http://127.0.0.1:{}", dead_port());
    for args in [
        vec!["--endpoints", dead.as_str(), "get", "/c"],
        vec!["--endpoints", dead.as_str(), "--no-sync", "get", "/c"],
        vec!["--endpoints", dead.as_str(), "--no-sync", "mk", "/c", "v"],
        vec!["--version"],
        vec!["bogus"],
    ] {
        let r = real.raw(&args);
        let o = ours.raw(&args);
        etcd_tests::assert_same!(shown(&o), shown(&r), "etcdctl {args:?}");
    }
}

#[test]
fn ours_against_real_etcd_and_our_daemon() {
    // Skips (with a message) when real etcd is missing; fails instead in CI.
    let Some(real) = Daemon::start_real() else {
        return;
    };
    let d = Daemon::start();
    wait_published(&real.client_url());
    wait_published(&d.client_url());
    let t_real = transcript(&Ctl::ours(&real.client_url()), "/k");
    let t_ours = transcript(&Ctl::ours(&d.client_url()), "/k");
    assert_same_transcript("against our etcd", &t_ours, "against real etcd", &t_real);
}
