//! etcdctl in shell pipelines: `-o json` bytes as Go writes them, a closed stdout ending a
//! `watch --forever`, and a `--forever` watch that falls behind the server's 1000-event history
//! (401) delivering the current state instead of silently jumping to "now".
//!
//! A slow watcher is an exec-watch whose hook blocks until the test creates a gate file, so the
//! test decides when the watcher polls again; no process is paused and no sleep stands in for a
//! condition.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use etcd_tests::Daemon;
use etcd_tests::ctl::{ChildGuard, Ctl};

const LIMIT: Duration = Duration::from_secs(30);

/// More writes than the server's 1000-event history holds.
const FLOOD: usize = 1100;

/// The first line the child writes on stdout; the read end of the pipe is closed right after.
fn first_line_then_close(child: &mut std::process::Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
        // The reader drops here: stdout's pipe has no reader any more.
    });
    rx
}

/// Wait (bounded) for the child to exit; its status code, or 128+signal.
fn wait_exit(guard: &mut ChildGuard, limit: Duration) -> Option<i32> {
    let child = guard.0.as_mut()?;
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(s)) = child.try_wait() {
            use std::os::unix::process::ExitStatusExt;
            return s.code().or_else(|| s.signal().map(|n| 128 + n));
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn json_output_escapes_control_characters_and_html_like_go() {
    let d = Daemon::start();
    let value = "a\u{8}b\u{c}c<d>e&f\u{1}g\u{2028}h";
    let index = d.put("/v2/keys/k", &[("value", value)]).etcd_index();
    let ours = Ctl::ours(&d.client_url()).run(&["-o", "json", "get", "/k"]);
    assert_eq!(
        ours.stdout,
        format!(
            "{{\"action\":\"get\",\"node\":{{\"key\":\"/k\",\"value\":\"a\\u0008b\\u000cc\\u003cd\\u003ee\\u0026f\\u0001g\\u2028h\",\"nodes\":null,\"createdIndex\":{index},\"modifiedIndex\":{index}}},\"prevNode\":null}}\n"
        )
    );
    assert_eq!((ours.stderr.as_str(), ours.code), ("", 0));
    // Real etcdctl 3.4, when installed, prints the same bytes for the same answer.
    if let Some(real) = Ctl::real(&d.client_url()) {
        assert_eq!(real.run(&["-o", "json", "get", "/k"]), ours);
    }
}

#[test]
fn watch_forever_ends_once_stdout_is_closed() {
    let d = Daemon::start();
    let ctl = Ctl::ours(&d.client_url());
    let mut guard = ChildGuard(Some(ctl.spawn(&["watch", "--forever", "/k"])));
    let first = first_line_then_close(guard.0.as_mut().expect("child"));
    d.wait_watchers(1);
    d.put("/v2/keys/k", &[("value", "one")]);
    assert_eq!(first.recv_timeout(LIMIT).expect("first event"), "one\n");
    // The next event is written to a pipe nobody reads: etcdctl ends as Go ends on SIGPIPE.
    d.put("/v2/keys/k", &[("value", "two")]);
    assert_eq!(wait_exit(&mut guard, LIMIT), Some(141));
}

/// How long a hook waits for its gate before giving up (then the test fails on its output).
const HOOK_LIMIT: Duration = Duration::from_secs(120);

/// An exec-watch whose hook appends `action key value` to `out` and then blocks until `gate`
/// exists (at most `HOOK_LIMIT`).
fn slow_exec_watch(ctl: &Ctl, dir: &Path, extra: &[&str], key: &str) -> ChildGuard {
    let hook = format!(
        "printf '%s %s %s\\n' \"$ETCD_WATCH_ACTION\" \"$ETCD_WATCH_KEY\" \"$ETCD_WATCH_VALUE\" >> '{out}'; \
         i=0; while [ ! -e '{gate}' ] && [ $i -lt {tries} ]; do sleep 0.02; i=$((i+1)); done",
        out = dir.join("out").display(),
        gate = dir.join("gate").display(),
        tries = HOOK_LIMIT.as_millis() / 20,
    );
    let mut args = vec!["exec-watch"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[key, "--", "sh", "-c", &hook]);
    ChildGuard(Some(ctl.spawn(&args)))
}

fn hook_lines(dir: &Path, n: usize) -> Vec<String> {
    etcd_tests::wait_for(LIMIT, &format!("{n} hook runs"), || {
        let text = std::fs::read_to_string(dir.join("out")).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        (lines.len() >= n).then_some(lines)
    })
}

/// `FLOOD` writes to `key` from a few threads at once (the server batches concurrent proposals,
/// so this takes a fraction of the time of one writer).
fn flood(d: &Daemon, key: &str) {
    const WRITERS: usize = 8;
    let url = d.url(&format!("/v2/keys{key}"));
    std::thread::scope(|s| {
        for w in 0..WRITERS {
            let url = url.clone();
            s.spawn(move || {
                for i in (w..FLOOD).step_by(WRITERS) {
                    let r = etcd_tests::request("PUT", &url, Some(&[("value", &i.to_string())]));
                    assert!(
                        r.status == 200 || r.status == 201,
                        "write {i}: {}",
                        r.status
                    );
                }
            });
        }
    });
}

fn stderr_of(mut guard: ChildGuard) -> String {
    let mut child = guard.0.take().expect("child");
    let _ = child.kill();
    let out = child.wait_with_output().expect("output");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn forever_watch_of_a_key_delivers_its_latest_value_after_history_is_cleared() {
    let d = Daemon::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let ctl = Ctl::ours(&d.client_url());
    let guard = slow_exec_watch(&ctl, dir.path(), &[], "/k");
    d.wait_watchers(1);
    let first = d.put("/v2/keys/k", &[("value", "first")]).etcd_index();
    assert_eq!(hook_lines(dir.path(), 1), vec!["set /k first"]);
    // While the hook blocks, the events after `first` fall out of the server's history.
    flood(&d, "/other");
    d.put("/v2/keys/k", &[("value", "last")]);
    std::fs::write(dir.path().join("gate"), b"").expect("gate");
    assert_eq!(
        hook_lines(dir.path(), 2),
        vec!["set /k first", "get /k last"]
    );
    // Once caught up, ordinary events flow again.
    d.wait_watchers(1);
    d.put("/v2/keys/k", &[("value", "after")]);
    assert_eq!(hook_lines(dir.path(), 3)[2], "set /k after");
    let stderr = stderr_of(guard);
    let lost = format!("watch: events {}..", first + 1);
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.starts_with(&lost)
                && l.ends_with(
                    " were cleared from the server's history; resuming from the current state"
                ))
            .count(),
        1,
        "one line naming the lost range, got {stderr:?}"
    );
}

#[test]
fn forever_recursive_watch_delivers_what_changed_since_the_last_event_in_index_order() {
    let d = Daemon::start();
    let dir = tempfile::tempdir().expect("tempdir");
    d.put("/v2/keys/d/untouched", &[("value", "old")]);
    let ctl = Ctl::ours(&d.client_url());
    let guard = slow_exec_watch(&ctl, dir.path(), &["-r"], "/d");
    d.wait_watchers(1);
    d.put("/v2/keys/d/a", &[("value", "1")]);
    assert_eq!(hook_lines(dir.path(), 1), vec!["set /d/a 1"]);
    flood(&d, "/d/b");
    let b = d.get("/v2/keys/d/b").json()["node"]["value"].clone();
    d.put("/v2/keys/d/c", &[("value", "last")]);
    std::fs::write(dir.path().join("gate"), b"").expect("gate");
    let lines = hook_lines(dir.path(), 3);
    assert_eq!(
        lines,
        vec![
            "set /d/a 1".to_string(),
            format!("get /d/b {}", b.as_str().unwrap_or_default()),
            "get /d/c last".to_string()
        ]
    );
    assert!(stderr_of(guard).contains("were cleared from the server's history"));
}

#[test]
fn plain_watch_after_history_is_cleared_keeps_etcdctls_exit_4() {
    let d = Daemon::start();
    let first = d.put("/v2/keys/k", &[("value", "first")]).etcd_index();
    flood(&d, "/k");
    let after = first.to_string();
    let out = Ctl::ours(&d.client_url()).run(&["watch", "--after-index", &after, "/k"]);
    assert_eq!(out.code, 4, "{out:?}");
    assert!(
        out.stderr
            .starts_with("Error:  401: The event in requested index is outdated and cleared"),
        "{out:?}"
    );
    assert_eq!(out.stdout, "");
}
