//! `watch` and `exec-watch`: events, a member restart under a running watch, and a
//! `--forever` watch resynchronising after its index left the history.

use super::*;

#[test]
// Over 80 lines on purpose: one scenario whose steps build on the state the previous ones left.
fn watch_and_exec_watch_events() {
    let (_d, url) = start();
    let c = Ctl::ours(&url);
    let b = etcd_index(&url);
    ok(c.run(&["set", "/w/k", "one"]), "one\n"); // b+1
    ok(c.run(&["set", "/w/k", "two"]), "two\n"); // b+2
    ok(c.run(&["mkdir", "/w/d"]), ""); // b+3
    ok(c.run(&["rm", "/w/k"]), "PrevNode.Value: two\n"); // b+4

    let after = b.to_string();
    ok(c.run(&["watch", "--after-index", &after, "/w/k"]), "one\n");
    ok(
        c.run(&["watch", "--after-index", &after, "-r", "/w"]),
        "[set] /w/k\none\n",
    );
    ok(
        c.run(&[
            "-o",
            "json",
            "watch",
            "--after-index",
            &(b + 1).to_string(),
            "/w/k",
        ]),
        &format!(
            "{{\"action\":\"set\",\"node\":{{\"key\":\"/w/k\",\"value\":\"two\",\"nodes\":null,\"createdIndex\":{0},\"modifiedIndex\":{0}}},\"prevNode\":{{\"key\":\"/w/k\",\"value\":\"one\",\"nodes\":null,\"createdIndex\":{1},\"modifiedIndex\":{1}}}}}\n",
            b + 2,
            b + 1
        ),
    );
    // Directory events are skipped by watch; the delete shows the previous value.
    ok(
        c.run(&["watch", "--after-index", &(b + 2).to_string(), "-r", "/w"]),
        "[delete] /w/k\nPrevNode.Value: two\n",
    );

    // exec-watch: the documented `<key> -- <command>` form and etcdctl's environment variables.
    let mut ew = ChildGuard(Some(c.spawn(&[
        "exec-watch",
        "--after-index",
        &after,
        "-r",
        "/w",
        "--",
        "sh",
        "-c",
        "echo \"$ETCD_WATCH_ACTION|$ETCD_WATCH_KEY|$ETCD_WATCH_VALUE|$ETCD_WATCH_MODIFIED_INDEX\"",
    ])));
    let child = ew.0.as_mut().expect("child");
    let out = LineCollector::new(child.stdout.take().expect("stdout"));
    let err = LineCollector::new(child.stderr.take().expect("stderr"));
    let lines = out.wait_for(3, Duration::from_secs(20));
    assert_eq!(
        lines,
        vec![
            format!("set|/w/k|one|{}", b + 1),
            format!("set|/w/k|two|{}", b + 2),
            format!("delete|/w/k||{}", b + 4),
        ]
    );
    assert_eq!(
        err.wait_for(1, Duration::from_secs(10)),
        vec!["Ignored dir /w/d change".to_string()]
    );
    assert_eq!(
        ew.interrupt(),
        Some(0),
        "SIGINT ends exec-watch with status 0"
    );

    // A failing hook does not stop the watch; hooks run in order.
    let mut ew = ChildGuard(Some(c.spawn(&[
        "exec-watch",
        "--after-index",
        &after,
        "/w/k",
        "--",
        "sh",
        "-c",
        "echo $ETCD_WATCH_VALUE; exit 3",
    ])));
    let child = ew.0.as_mut().expect("child");
    let out = LineCollector::new(child.stdout.take().expect("stdout"));
    assert_eq!(
        out.wait_for(3, Duration::from_secs(20)),
        vec!["one", "two", ""]
    );
    assert_eq!(ew.interrupt(), Some(0));

    // watch --forever until SIGINT.
    let mut w = ChildGuard(Some(c.spawn(&[
        "watch",
        "--forever",
        "--after-index",
        &after,
        "/w/k",
    ])));
    let child = w.0.as_mut().expect("child");
    let out = LineCollector::new(child.stdout.take().expect("stdout"));
    assert_eq!(
        out.wait_for(3, Duration::from_secs(20)),
        vec!["one", "two", "PrevNode.Value: two"]
    );
    assert_eq!(w.interrupt(), Some(0));
}

/// Every write around a member restart is reported exactly once, in order, by a running
/// `watch --forever` and a running `exec-watch`.
#[test]
fn watches_survive_member_restart() {
    let (mut d, url) = start();
    let c = Ctl::ours(&url);
    let b = etcd_index(&url).to_string();

    let mut w = ChildGuard(Some(c.spawn(&[
        "watch",
        "--forever",
        "--after-index",
        &b,
        "-r",
        "/r",
    ])));
    let wout = LineCollector::new(w.0.as_mut().and_then(|c| c.stdout.take()).expect("stdout"));
    let mut ew = ChildGuard(Some(c.spawn(&[
        "exec-watch",
        "--recursive",
        "--after-index",
        &b,
        "/r",
        "--",
        "sh",
        "-c",
        "echo \"$ETCD_WATCH_KEY=$ETCD_WATCH_VALUE\"",
    ])));
    let eout = LineCollector::new(ew.0.as_mut().and_then(|c| c.stdout.take()).expect("stdout"));

    let mut expected_watch = Vec::new();
    let mut expected_exec = Vec::new();
    let mut write = |i: usize| {
        let key = format!("/r/k{i}");
        let val = format!("v{i}");
        ok(c.run(&["set", &key, &val]), &format!("{val}\n"));
        expected_watch.push(format!("[set] {key}"));
        expected_watch.push(val.clone());
        expected_exec.push(format!("{key}={val}"));
    };
    for i in 1..=3 {
        write(i);
    }
    // Make sure the watchers are attached before the member goes away.
    assert_eq!(wout.wait_for(6, Duration::from_secs(20)).len(), 6);
    assert_eq!(eout.wait_for(3, Duration::from_secs(20)).len(), 3);

    d.kill();
    d.restart();
    wait_published(&url);
    for i in 4..=6 {
        write(i);
    }
    d.term();
    d.restart();
    wait_published(&url);
    for i in 7..=8 {
        write(i);
    }

    let got = wout.wait_for(expected_watch.len(), Duration::from_secs(30));
    assert_eq!(got, expected_watch, "watch --forever output");
    let got = eout.wait_for(expected_exec.len(), Duration::from_secs(30));
    assert_eq!(got, expected_exec, "exec-watch hook output");
    // Nothing repeated afterwards either: a last write's event comes right after the others.
    ok(c.run(&["set", "/r/k9", "v9"]), "v9\n");
    expected_watch.extend(["[set] /r/k9".to_string(), "v9".to_string()]);
    expected_exec.push("/r/k9=v9".to_string());
    let got = wout.wait_for(expected_watch.len(), Duration::from_secs(30));
    assert_eq!(
        got, expected_watch,
        "watch --forever output after a last write"
    );
    let got = eout.wait_for(expected_exec.len(), Duration::from_secs(30));
    assert_eq!(
        got, expected_exec,
        "exec-watch hook output after a last write"
    );
    assert_eq!(w.interrupt(), Some(0));
    assert_eq!(ew.interrupt(), Some(0));
}

/// A `watch --forever` whose index fell out of the 1000-event history (401) resynchronises from
/// the current index instead of failing (real etcdctl exits 4 here; a one-shot watch still does).
#[test]
fn watch_forever_resyncs_after_history_cleared() {
    let (d, url) = start();
    let c = Ctl::ours(&url);
    let b = etcd_index(&url);
    ok(c.run(&["set", "/h", "old"]), "old\n"); // b+1
    for i in 0..1010 {
        let v = i.to_string();
        let r = d.put("/v2/keys/fill", &[("value", v.as_str())]);
        assert!(
            r.status == 200 || r.status == 201,
            "fill write {i}: {}",
            r.status
        );
    }
    let after = b.to_string();
    let o = c.run(&["watch", "--after-index", &after, "/h"]);
    assert_eq!(o.code, 4);
    assert!(
        o.stderr
            .starts_with("Error:  401: The event in requested index is outdated and cleared"),
        "{o:?}"
    );

    let mut w = ChildGuard(Some(c.spawn(&[
        "watch",
        "--forever",
        "--after-index",
        &after,
        "/h",
    ])));
    let out = LineCollector::new(w.0.as_mut().and_then(|c| c.stdout.take()).expect("stdout"));
    // The cleared range is reported and the key's current value delivered first; then every
    // write arrives exactly once, in order.
    let first = out.wait_for(1, Duration::from_secs(20));
    assert_eq!(
        first,
        vec!["old".to_string()],
        "the current value comes first"
    );
    for n in 1..=3 {
        ok(
            c.run(&["set", "/h", &format!("new{n}")]),
            &format!("new{n}\n"),
        );
    }
    let lines = out.wait_for(4, Duration::from_secs(10));
    assert_eq!(lines, ["old", "new1", "new2", "new3"], "{lines:?}");
    assert_eq!(w.interrupt(), Some(0));
}
