//! etcdctl against a running daemon: exact stdout, stderr and exit status for every command,
//! flag and failure path (the expectations are real etcdctl v2's, indexes computed from the
//! daemon's X-Etcd-Index before the first write), plus watches that survive a member restart.
//!
//! Uses our daemon by default; `ETCD_BIN=/usr/bin/etcd` runs the same checks against real etcd.

use std::time::Duration;

use etcd_tests::Api;
use etcd_tests::Daemon;
use etcd_tests::ctl::{
    ChildGuard, Ctl, CtlOutput, LineCollector, dead_port, etcd_index, members, wait_published,
};

/// A fresh single-member daemon whose member list already publishes its client URL.
fn start() -> (Daemon, String) {
    let d = Daemon::start();
    let url = d.client_url();
    wait_published(&url);
    (d, url)
}

#[track_caller]
fn expect(o: CtlOutput, stdout: &str, stderr: &str, code: i32) {
    assert_eq!(
        (o.stdout.as_str(), o.stderr.as_str(), o.code),
        (stdout, stderr, code),
        "unexpected etcdctl result"
    );
}

#[track_caller]
fn ok(o: CtlOutput, stdout: &str) {
    expect(o, stdout, "", 0);
}

fn not_found(key: &str, idx: u64) -> String {
    format!("Error:  100: Key not found ({key}) [{idx}]\n")
}

#[test]
fn key_commands_simple_output_and_errors() {
    let (_d, url) = start();
    let c = Ctl::ours(&url);
    let b = etcd_index(&url);

    ok(c.run(&["set", "/foo", "bar"]), "bar\n"); // b+1
    ok(c.run(&["get", "/foo"]), "bar\n");
    expect(c.run(&["get", "/nope"]), "", &not_found("/nope", b + 1), 4);
    ok(c.run(&["mkdir", "/d"]), ""); // b+2
    expect(c.run(&["get", "/d"]), "", "/d: is a directory\n", 1);
    ok(c.run(&["set", "/d/a", "1"]), "1\n"); // b+3
    ok(c.run(&["mkdir", "/d/sub"]), ""); // b+4
    ok(c.run(&["ls", "--sort"]), "/d\n/foo\n");
    ok(c.run(&["ls", "--sort", "-p"]), "/d/\n/foo\n");
    ok(
        c.run(&["ls", "--sort", "-r", "/"]),
        "/d\n/d/a\n/d/sub\n/foo\n",
    );
    ok(c.run(&["ls", "--sort", "/d", "-p"]), "/d/a\n/d/sub/\n");
    ok(c.run(&["ls", "/foo"]), "/foo\n");
    expect(c.run(&["ls", "/nope"]), "", &not_found("/nope", b + 4), 4);

    expect(
        c.run(&["mk", "/foo", "x"]),
        "",
        &format!("Error:  105: Key already exists (/foo) [{}]\n", b + 4),
        4,
    );
    ok(c.run_stdin(&["mk", "/y"], b"line\n"), "line\n\n"); // b+5
    ok(c.run_stdin(&["set", "/x"], b"fromstdin"), "fromstdin\n"); // b+6
    expect(c.run(&["set", "/x"]), "", "Error:  value required\n", 1);
    expect(c.run(&["mk", "/x2"]), "", "Error:  value required\n", 1);
    expect(c.run(&["update", "/x"]), "", "Error:  value required\n", 1);
    expect(
        c.run(&["update", "/nokey", "v"]),
        "",
        &not_found("/nokey", b + 6),
        4,
    );
    ok(c.run(&["update", "/x", "u"]), "u\n"); // b+7

    ok(c.run(&["rm", "/foo"]), "PrevNode.Value: bar\n"); // b+8
    expect(
        c.run(&["rm", "/d"]),
        "",
        &format!("Error:  102: Not a file (/d) [{}]\n", b + 8),
        4,
    );
    expect(
        c.run(&["rm", "/d", "--dir"]),
        "",
        &format!("Error:  108: Directory not empty (/d) [{}]\n", b + 8),
        4,
    );
    ok(c.run(&["rm", "-r", "/d"]), ""); // b+9
    ok(c.run(&["rmdir", "/y"]), "PrevNode.Value: line\n\n"); // b+10

    ok(c.run(&["set", "/c", "1"]), "1\n"); // b+11
    expect(
        c.run(&["rm", "--with-value", "2", "/c"]),
        "",
        &format!("Error:  101: Compare failed ([2 != 1]) [{}]\n", b + 11),
        4,
    );
    expect(
        c.run(&["rm", "--with-index", "99", "/c"]),
        "",
        &format!(
            "Error:  101: Compare failed ([99 != {}]) [{}]\n",
            b + 11,
            b + 11
        ),
        4,
    );
    ok(c.run(&["rm", "--with-value", "1", "/c"]), "\n"); // b+12
    ok(c.run(&["set", "/c", "1"]), "1\n"); // b+13
    expect(
        c.run(&["set", "--swap-with-value", "2", "/c", "3"]),
        "",
        &format!("Error:  101: Compare failed ([2 != 1]) [{}]\n", b + 13),
        4,
    );
    expect(
        c.run(&["set", "--swap-with-index", "1", "/c", "3"]),
        "",
        &format!(
            "Error:  101: Compare failed ([1 != {}]) [{}]\n",
            b + 13,
            b + 13
        ),
        4,
    );
    ok(c.run(&["set", "--swap-with-value", "1", "/c", "3"]), "3\n"); // b+14

    ok(c.run(&["setdir", "/sd"]), ""); // b+15
    expect(
        c.run(&["setdir", "/sd"]),
        "",
        &format!("Error:  102: Not a file (/sd) [{}]\n", b + 15),
        4,
    );
    ok(c.run(&["updatedir", "--ttl", "50", "/sd"]), ""); // b+16
    expect(
        c.run(&["updatedir", "/nod"]),
        "",
        &not_found("/nod", b + 16),
        4,
    );
    expect(
        c.run(&["set", "/sd", "v"]),
        "",
        &format!("Error:  102: Not a file (/sd) [{}]\n", b + 16),
        4,
    );
    expect(
        c.run(&["mkdir", "/c"]),
        "",
        &format!("Error:  105: Key already exists (/c) [{}]\n", b + 16),
        4,
    );
    expect(
        c.run(&["get", "/c/x"]),
        "",
        &format!("Error:  104: Not a directory (/c) [{}]\n", b + 16),
        4,
    );
    ok(c.run(&["mk", "--in-order", "/q", "v1"]), "v1\n"); // b+17
    ok(c.run(&["ls", "/q"]), &format!("/q/{:020}\n", b + 17));
    ok(c.run(&["set", "--ttl", "100", "/t", "v"]), "v\n"); // b+18
    ok(c.run(&["get", "--quorum", "/t"]), "v\n");
}

#[test]
fn missing_arguments_are_exit_1() {
    let (_d, url) = start();
    let c = Ctl::ours(&url);
    for cmd in [
        "get",
        "set",
        "mk",
        "mkdir",
        "setdir",
        "update",
        "updatedir",
        "rm",
        "rmdir",
        "watch",
    ] {
        expect(c.run(&[cmd]), "", "Error:  key required\n", 1);
    }
    expect(
        c.run(&["exec-watch", "/c"]),
        "",
        "Error:  key and command to exec required\n",
        1,
    );
    expect(
        c.run(&["member", "list", "x"]),
        "",
        "No arguments accepted\n",
        1,
    );
    expect(
        c.run(&["member", "add"]),
        "",
        "Provide a name and a single member peerURL\n",
        1,
    );
    expect(
        c.run(&["member", "remove"]),
        "",
        "Provide a single member ID\n",
        1,
    );
    expect(
        c.run(&["member", "update"]),
        "",
        "Provide an ID and a list of comma separated peerURL (0xabcd http://example.com,http://example1.com)\n",
        1,
    );
}

#[test]
fn json_and_extended_output() {
    let (_d, url) = start();
    let c = Ctl::ours(&url);
    let b = etcd_index(&url);

    ok(c.run(&["set", "/foo", "bar"]), "bar\n"); // b+1
    ok(
        c.run(&["-o", "json", "set", "/foo", "a&<b>"]), // b+2
        &format!(
            "{{\"action\":\"set\",\"node\":{{\"key\":\"/foo\",\"value\":\"a\\u0026\\u003cb\\u003e\",\"nodes\":null,\"createdIndex\":{0},\"modifiedIndex\":{0}}},\"prevNode\":{{\"key\":\"/foo\",\"value\":\"bar\",\"nodes\":null,\"createdIndex\":{1},\"modifiedIndex\":{1}}}}}\n",
            b + 2,
            b + 1
        ),
    );
    ok(
        c.run(&["-o", "json", "get", "/foo"]),
        &format!(
            "{{\"action\":\"get\",\"node\":{{\"key\":\"/foo\",\"value\":\"a\\u0026\\u003cb\\u003e\",\"nodes\":null,\"createdIndex\":{0},\"modifiedIndex\":{0}}},\"prevNode\":null}}\n",
            b + 2
        ),
    );
    ok(
        c.run(&["-o", "json", "mkdir", "/d2"]), // b+3
        &format!(
            "{{\"action\":\"create\",\"node\":{{\"key\":\"/d2\",\"dir\":true,\"value\":\"\",\"nodes\":null,\"createdIndex\":{0},\"modifiedIndex\":{0}}},\"prevNode\":null}}\n",
            b + 3
        ),
    );
    ok(
        c.run(&["-o", "json", "ls", "/d2"]),
        &format!(
            "{{\"action\":\"get\",\"node\":{{\"key\":\"/d2\",\"dir\":true,\"value\":\"\",\"nodes\":null,\"createdIndex\":{0},\"modifiedIndex\":{0}}},\"prevNode\":null}}\n",
            b + 3
        ),
    );
    ok(
        c.run(&["-o", "json", "rm", "--dir", "/d2"]), // b+4
        &format!(
            "{{\"action\":\"delete\",\"node\":{{\"key\":\"/d2\",\"dir\":true,\"value\":\"\",\"nodes\":null,\"createdIndex\":{0},\"modifiedIndex\":{1}}},\"prevNode\":{{\"key\":\"/d2\",\"dir\":true,\"value\":\"\",\"nodes\":null,\"createdIndex\":{0},\"modifiedIndex\":{0}}}}}\n",
            b + 3,
            b + 4
        ),
    );
    // Real etcdctl never prints errors as JSON (its type check misses client.Error values).
    expect(
        c.run(&["-o", "json", "get", "/nope"]),
        "",
        &not_found("/nope", b + 4),
        4,
    );
    expect(
        c.run(&["-o", "yaml", "get", "/foo"]),
        "",
        "Unsupported output format: yaml\n",
        0,
    );

    // Extended: everything exact except the raft index and term, which only have to be numbers.
    let o = c.run(&["-o", "extended", "set", "/foo", "v3"]); // b+5
    assert_eq!((o.stderr.as_str(), o.code), ("", 0));
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines.len(), 10, "unexpected extended output:\n{}", o.stdout);
    assert_eq!(
        lines[..6],
        [
            "Key: /foo".to_string(),
            format!("Created-Index: {}", b + 5),
            format!("Modified-Index: {}", b + 5),
            "PrevNode.Value: a&<b>".to_string(),
            "TTL: 0".to_string(),
            format!("Etcd-Index: {}", b + 5),
        ]
    );
    for (line, prefix) in [(lines[6], "Raft-Index: "), (lines[7], "Raft-Term: ")] {
        let n = line.strip_prefix(prefix).unwrap_or("x");
        assert!(n.parse::<u64>().is_ok(), "bad line {line:?}");
    }
    assert_eq!(lines[8..], ["", "v3"]);
    assert!(o.stdout.ends_with("v3\n"));

    let o = c.run(&["-o", "extended", "get", "/foo"]);
    assert_eq!(o.code, 0);
    assert!(
        !o.stdout.contains("PrevNode.Value"),
        "get has no previous node:\n{}",
        o.stdout
    );
    let o = c.run(&["-o", "extended", "rm", "/foo"]); // b+6
    assert_eq!(o.code, 0);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines.len(), 8, "a delete has no value block:\n{}", o.stdout);
    assert_eq!(lines[3], "PrevNode.Value: v3");
    assert_eq!(lines[5], format!("Etcd-Index: {}", b + 6));
}

#[test]
fn debug_prints_curl_commands() {
    let (_d, url) = start();
    let c = Ctl::ours(&url);
    let m = members(&url);
    let published = m[0].client_urls.join(",");
    let first = m[0].client_urls[0].clone();
    ok(c.run(&["set", "/c", "v"]), "v\n");
    expect(
        c.run(&["--debug", "get", "/c"]),
        "v\n",
        &format!(
            "start to sync cluster using endpoints({url})\n\
             cURL Command: curl -X GET {url}/v2/members\n\
             got endpoints({published}) after sync\n\
             Cluster-Endpoints: {}\n\
             cURL Command: curl -X GET {first}/v2/keys/c?quorum=false&recursive=false&sorted=false\n",
            m[0].client_urls.join(", ")
        ),
        0,
    );
    expect(
        c.run(&["--debug", "--no-sync", "set", "/c", "a b&c"]),
        "a b&c\n",
        &format!(
            "Cluster-Endpoints: {url}\n\
             cURL Command: curl -X PUT {url}/v2/keys/c -d \"value=a+b%26c\"\n"
        ),
        0,
    );
    let o = c.run(&[
        "--debug",
        "--no-sync",
        "mk",
        "--in-order",
        "--ttl",
        "5",
        "/q",
        "x y",
    ]);
    assert_eq!(o.code, 0);
    assert_eq!(
        o.stderr,
        format!(
            "Cluster-Endpoints: {url}\ncURL Command: curl -X POST {url}/v2/keys/q -d \"ttl=5&value=x+y\"\n"
        )
    );
    let o = c.run(&[
        "--debug",
        "--no-sync",
        "rm",
        "--with-value",
        "a b",
        "--with-index",
        "3",
        "-r",
        "--dir",
        "/zz",
    ]);
    assert_eq!(o.code, 4);
    assert!(
        o.stderr.contains(&format!(
            "cURL Command: curl -X DELETE {url}/v2/keys/zz?dir=true&prevIndex=3&prevValue=a+b&recursive=true\n"
        )),
        "{}",
        o.stderr
    );
    let o = c.run(&["--debug", "--no-sync", "mkdir", "/dbg"]);
    assert_eq!(
        o.stderr,
        format!(
            "Cluster-Endpoints: {url}\ncURL Command: curl -X PUT {url}/v2/keys/dbg?dir=true&prevExist=false -d \"\"\n"
        )
    );
    let o = c.run(&[
        "--debug",
        "--no-sync",
        "watch",
        "--after-index",
        "1",
        "-r",
        "/c",
    ]);
    assert!(
        o.stderr.contains(&format!(
            "cURL Command: curl -X GET {url}/v2/keys/c?recursive=true&wait=true&waitIndex=2\n"
        )),
        "{}",
        o.stderr
    );
}

#[test]
fn unreachable_endpoints_and_failover() {
    let (_d, url) = start();
    Ctl::ours(&url).run(&["set", "/c", "v"]);
    let p1 = dead_port();
    let p2 = dead_port();
    let dead = format!("http://127.0.0.1:{p1}");
    let dead2 = format!("http://127.0.0.1:{p2}");
    let refused = |p: u16| format!("dial tcp 127.0.0.1:{p}: connect: connection refused");

    // Sync fails on every endpoint: exit 2 with the ClusterError and its detail.
    let both = format!("{dead},{dead2}");
    expect(
        Ctl::ours(&both).run(&["get", "/c"]),
        "",
        &format!(
            "Error:  client: etcd cluster is unavailable or misconfigured; error #0: {}\n; error #1: {}\n\nerror #0: {}\nerror #1: {}\n\n",
            refused(p1),
            refused(p2),
            refused(p1),
            refused(p2)
        ),
        2,
    );
    // Without sync the request itself fails: exit 4.
    expect(
        Ctl::ours(&dead).run(&["--no-sync", "get", "/c"]),
        "",
        &format!(
            "Error:  client: etcd cluster is unavailable or misconfigured; error #0: {}\n\nerror #0: {}\n\n",
            refused(p1),
            refused(p1)
        ),
        4,
    );
    // Create and delete are one-shot: the first endpoint's error, as is.
    expect(
        Ctl::ours(&dead).run(&["--no-sync", "mk", "/c2", "1"]),
        "",
        &format!("Error:  {}\n", refused(p1)),
        4,
    );
    expect(
        Ctl::ours(&dead).run(&["--no-sync", "rm", "/c"]),
        "",
        &format!("Error:  {}\n", refused(p1)),
        4,
    );
    // Failover: a dead first endpoint is skipped.
    ok(
        Ctl::ours(&format!("{dead},{url}")).run(&["--no-sync", "get", "/c"]),
        "v\n",
    );
    ok(
        Ctl::ours(&format!("{dead},{url}")).run(&["get", "/c"]),
        "v\n",
    );
    // cluster-health when the members cannot be listed.
    expect(
        Ctl::ours(&dead).run(&["cluster-health"]),
        "cluster may be unhealthy: failed to list members\n",
        &format!(
            "Error:  client: etcd cluster is unavailable or misconfigured; error #0: {}\n\nerror #0: {}\n\n",
            refused(p1),
            refused(p1)
        ),
        4,
    );
    // A member that accepts connections but never answers: the per-request timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_url = format!("http://{}", silent.local_addr().expect("addr"));
    let o = Ctl::ours(&silent_url).run(&["--no-sync", "--timeout", "200ms", "get", "/c"]);
    expect(
        o,
        "",
        &format!(
            "Error:  client: etcd cluster is unavailable or misconfigured; error #0: client: endpoint {silent_url} exceeded header timeout\n\nerror #0: client: endpoint {silent_url} exceeded header timeout\n\n"
        ),
        4,
    );
    let o = Ctl::ours(&silent_url).run(&[
        "--no-sync",
        "--timeout",
        "5s",
        "--total-timeout",
        "300ms",
        "get",
        "/c",
    ]);
    expect(o, "", "Error:  context deadline exceeded\n", 4);
}

#[test]
fn flags_env_and_usage() {
    let (_d, url) = start();
    let c = Ctl::ours(&url);
    ok(c.run(&["set", "/c", "v"]), "v\n");

    ok(
        c.raw(&["--version"]),
        "etcdctl version: 3.4.23\nAPI version: 2\n",
    );
    ok(c.raw(&["-v"]), "etcdctl version: 3.4.23\nAPI version: 2\n");
    expect(c.raw(&["bogus"]), "", "No help topic for 'bogus'\n", 3);
    let o = c.raw(&["get", "--bogus", "/c"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .starts_with("Incorrect Usage: flag provided but not defined: -bogus\n\n"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr
            .ends_with("\nflag provided but not defined: -bogus\n")
    );
    let o = c.raw(&["--timeout", "1x", "get", "/c"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .starts_with("Incorrect Usage. invalid value \"1x\" for flag -timeout: parse error\n"),
        "{}",
        o.stderr
    );
    let o = c.raw(&["help"]);
    assert_eq!(o.code, 0);
    assert!(
        o.stdout
            .starts_with("NAME:\n   etcdctl - A simple command line client for etcd.\n")
    );
    let o = c.raw(&["get", "--help"]);
    assert_eq!(o.code, 0);
    assert!(
        o.stdout
            .starts_with("NAME:\n   etcdctl get - retrieve the value of a key\n")
    );

    // Go-style single-dash long flags.
    ok(c.raw(&["-endpoints", &url, "get", "/c"]), "v\n");
    let ej = format!("-endpoints={url}");
    let o = c.raw(&[&ej, "-output=json", "get", "/c"]);
    assert!(o.stdout.starts_with("{\"action\":\"get\""), "{o:?}");
    let o = c.raw(&["-endpoints", &url, "-o", "extended", "get", "/c"]);
    assert!(o.stdout.starts_with("Key: /c\n"), "{o:?}");
    let o = c.raw(&["-endpoints", &url, "-debug", "-no-sync", "get", "/c"]);
    assert_eq!(o.stdout, "v\n");
    assert!(o.stderr.starts_with("Cluster-Endpoints: "), "{o:?}");

    // Endpoint sources in etcdctl's precedence.
    let mut cmd = c.command(&["get", "/c"]);
    cmd.env("ETCDCTL_ENDPOINTS", &url);
    ok(etcd_tests::ctl::run_command(cmd, b""), "v\n");
    let mut cmd = c.command(&["get", "/c"]);
    cmd.env("ETCDCTL_PEERS", &url);
    ok(etcd_tests::ctl::run_command(cmd, b""), "v\n");
    let mut cmd = c.command(&["--endpoint", &url, "get", "/c"]);
    cmd.env("ETCDCTL_PEERS", format!("http://127.0.0.1:{}", dead_port()));
    ok(etcd_tests::ctl::run_command(cmd, b""), "v\n");
    ok(c.raw(&["-C", &url, "get", "/c"]), "v\n");
    ok(c.raw(&["--peers", &url, "get", "/c"]), "v\n");

    // Values that look like flags, flags after arguments, negative TTLs, path cleaning.
    ok(c.run(&["set", "/c", "--", "-x"]), "-x\n");
    ok(c.run(&["set", "--", "/c", "-y"]), "-y\n");
    ok(c.run(&["set", "/c", "-z"]), "-z\n");
    ok(c.run(&["set", "/c", "w", "--ttl", "-5"]), "w\n");
    ok(c.run(&["set", "/k", "v", "extra"]), "v\n");
    ok(c.run(&["get", "//a/../k"]), "v\n");
    ok(c.run(&["get", "/k", "--quorum"]), "v\n");
}

#[test]
fn member_commands_and_cluster_health() {
    let (_d, url) = start();
    let c = Ctl::ours(&url);
    let ms = members(&url);
    assert_eq!(ms.len(), 1);
    let m = &ms[0];
    ok(
        c.run(&["member", "list"]),
        &format!(
            "{}: name={} peerURLs={} clientURLs={} isLeader=true\n",
            m.id,
            m.name,
            m.peer_urls.join(","),
            m.client_urls.join(",")
        ),
    );
    ok(
        c.run(&["cluster-health"]),
        &format!(
            "member {} is healthy: got healthy result from {}\ncluster is healthy\n",
            m.id, m.client_urls[0]
        ),
    );
    expect(
        c.run(&["member", "remove", "abc"]),
        "",
        "Couldn't find a member in the cluster with an ID of abc.\n",
        1,
    );
    expect(
        c.run(&["member", "add", "foo", "notaurl"]),
        "",
        "URL scheme must be http, https, unix, or unixs: notaurl\n",
        1,
    );
    expect(
        c.run(&["member", "add", "foo", &m.peer_urls[0]]),
        "",
        "membership: peerURL exists\n",
        1,
    );
    expect(
        c.run(&["member", "update", "abc", "http://127.0.0.1:9999"]),
        "",
        "No such member: abc\n",
        1,
    );
    let o = c.run(&["--debug", "--no-sync", "member", "list"]);
    assert_eq!(
        o.stderr,
        format!(
            "Cluster-Endpoints: {url}\ncURL Command: curl -X GET {url}/v2/members\ncURL Command: curl -X GET {url}/v2/members/leader\n"
        )
    );
}

#[test]
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
    // The watcher has resynchronised once it is waiting again; a write then arrives exactly once.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut n = 0;
    while out.lines().is_empty() && std::time::Instant::now() < deadline {
        n += 1;
        ok(
            c.run(&["set", "/h", &format!("new{n}")]),
            &format!("new{n}\n"),
        );
        out.wait_for(1, Duration::from_millis(200));
    }
    let lines = out.wait_for(n, Duration::from_secs(10));
    let expected: Vec<String> = (1..=n).map(|i| format!("new{i}")).collect();
    assert!(
        !lines.is_empty() && expected.ends_with(&lines),
        "after the resync only new writes are reported, once each, in order: {lines:?} (wrote {n})"
    );
    assert_eq!(w.interrupt(), Some(0));
}
