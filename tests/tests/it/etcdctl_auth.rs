//! `etcdctl user|role|auth` against real etcdctl: the same session — real etcdctl on real etcd
//! 3.4, ours on our daemon — compared transcript against transcript (stdout, stderr, exit
//! status of every step). Skipped, with a message, when real etcd or etcdctl is missing.

use etcd_tests::Daemon;
use etcd_tests::ctl::{Ctl, normalise, wait_published};

const ROOT: &str = "root:rootpw";

const SESSION: &[&[&str]] = &[
    &["user", "list"],
    &["user", "add"],
    &["user", "add", "root:rootpw"],
    &["user", "add", "alice:pw"],
    &["user", "add", "alice:pw2"],
    &["user", "get", "alice"],
    &["user", "get", "root"],
    &["user", "get", "zed"],
    &["user", "list"],
    &["role", "add"],
    &["role", "add", "r1"],
    &["role", "add", "r1"],
    &["role", "get", "r1"],
    &["role", "list"],
    &["role", "grant", "r1"],
    &["role", "grant", "r1", "--path", "/a"],
    &["role", "grant", "r1", "--path", "/a", "--read", "--write"],
    &["role", "grant", "r1", "--path", "/a/../b*", "--read"],
    &["role", "grant", "r1", "--path", "/a*", "--rw"],
    &["role", "grant", "r1", "--path", "/a*", "--rw"],
    &["role", "get", "r1"],
    &["role", "revoke", "r1", "--path", "/zz", "--read"],
    &["role", "revoke", "r1", "--path", "/a*", "--write"],
    &["user", "grant", "alice"],
    &["user", "grant", "alice", "--roles", "r1"],
    &["user", "grant", "alice", "--roles", "r1"],
    &["user", "revoke", "alice", "--roles", "nope"],
    &["user", "get", "alice"],
    &["auth", "disable"],
    &["auth", "enable", "extra"],
    &["auth", "enable"],
    &["auth", "enable"],
    &["user", "list"],
    &["role", "list"],
    &["-u", "alice:pw2", "user", "list"],
    &["-u", "alice:wrong", "set", "/a", "1"],
    &["-u", ROOT, "set", "/a", "1"],
    &["-u", "alice:pw2", "get", "/a"],
    &["-u", "alice:pw2", "set", "/a", "2"],
    &["-u", ROOT, "user", "list"],
    &["-u", ROOT, "role", "list"],
    &["-u", ROOT, "user", "remove", "root"],
    &["-u", "alice:pw2", "auth", "disable"],
    &["-u", ROOT, "auth", "disable"],
    &["role", "remove", "nope"],
    &["role", "remove", "r1"],
    &["user", "remove", "zed"],
    &["user", "remove", "alice"],
    &["user", "list", "extra"],
];

fn transcript(ctl: &Ctl) -> String {
    SESSION
        .iter()
        .map(|args| ctl.run_stdin(args, b"").transcript(args))
        .collect()
}

#[test]
fn user_role_and_auth_commands_match_real_etcdctl() {
    // Skips (with a message) when real etcd/etcdctl is missing; fails instead in CI.
    let Some(real_daemon) = Daemon::start_real() else {
        return;
    };
    let ours_daemon = Daemon::start();
    let (real_url, ours_url) = (real_daemon.client_url(), ours_daemon.client_url());
    wait_published(&ours_url);
    let Some(real) = Ctl::real(&real_url) else {
        return;
    };
    let ours = Ctl::ours(&ours_url);
    let (expected, got) = (transcript(&real), transcript(&ours));
    etcd_tests::assert_same!(
        normalise(&got),
        normalise(&expected),
        "our etcdctl (+) against real etcdctl (-)"
    );
}

#[test]
fn passwd_reads_the_new_password_from_stdin() {
    let d = Daemon::start();
    let url = d.client_url();
    wait_published(&url);
    let ctl = Ctl::ours(&url);
    assert_eq!(ctl.run(&["user", "add", "bob:one"]).code, 0);
    let o = ctl.run_stdin(&["user", "passwd", "bob"], b"two\n");
    assert_eq!(
        (o.stdout.as_str(), o.code),
        ("New password: \nPassword updated\n", 0)
    );
    assert_eq!(ctl.run(&["user", "add", "root:r"]).code, 0);
    assert_eq!(ctl.run(&["role", "add", "all"]).code, 0);
    let grant = ["role", "grant", "all", "--path", "/*", "--rw"];
    assert_eq!(ctl.run(&grant).code, 0);
    assert_eq!(ctl.run(&["user", "grant", "bob", "--roles", "all"]).code, 0);
    assert_eq!(ctl.run(&["auth", "enable"]).code, 0);
    assert_eq!(ctl.run(&["-u", "bob:two", "set", "/k", "v"]).code, 0);
    let old = ctl.run(&["-u", "bob:one", "set", "/k", "v"]);
    assert_ne!(old.code, 0, "{old:?}");
    // No password in the flag: etcdctl asks for it and reads stdin; the prompt and the newline
    // after the answer go to stdout, as real etcdctl's (speakeasy) do.
    let asked = ctl.run_stdin(&["-u", "bob", "get", "/k"], b"two\n");
    assert_eq!(
        (asked.stdout.as_str(), asked.stderr.as_str(), asked.code),
        ("Password: \nv\n", "", 0),
        "{asked:?}"
    );
}

/// On a terminal the password is read without echo: what the user types never shows, and the
/// terminal is left echoing again afterwards.
#[test]
fn a_password_typed_on_a_terminal_is_not_echoed() {
    use std::io::{Read, Write};
    use std::os::fd::AsFd;
    use std::process::Stdio;

    use nix::sys::termios::{LocalFlags, tcgetattr};

    let d = Daemon::start();
    let url = d.client_url();
    wait_published(&url);
    let ctl = Ctl::ours(&url);
    assert_eq!(ctl.run(&["set", "/k", "v"]).code, 0);
    let pty = nix::pty::openpty(None, None).expect("openpty");
    let mut child = ctl
        .command(&["--endpoints", &url, "-u", "bob", "get", "/k"])
        .stdin(Stdio::from(pty.slave.try_clone().expect("dup pty")))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn etcdctl");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut prompt = [0u8; 10];
    stdout.read_exact(&mut prompt).expect("the prompt");
    assert_eq!(&prompt, b"Password: ");
    let mut master = std::fs::File::from(pty.master);
    master.write_all(b"sekrit\n").expect("type the password");
    let out = etcd_tests::ctl::wait_output(child, Some(stdout));
    assert_eq!((out.stdout.as_str(), out.code), ("\nv\n", 0), "{out:?}");
    // Whatever the terminal echoed is readable on the master side now that etcdctl is gone.
    nix::fcntl::fcntl(
        master.as_fd(),
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    )
    .expect("non-blocking master");
    let mut echoed = Vec::new();
    let _ = master.read_to_end(&mut echoed);
    let echoed = String::from_utf8_lossy(&echoed);
    assert!(!echoed.contains("sekrit"), "echoed: {echoed:?}");
    let restored = tcgetattr(pty.slave.as_fd()).expect("tcgetattr");
    assert!(restored.local_flags.contains(LocalFlags::ECHO));
}
