//! Endpoints and flags: unreachable endpoints and fail-over, flags, environment and usage,
//! member commands and cluster-health.

use super::*;

#[test]
// Over 80 lines on purpose: one scenario whose steps build on the state the previous ones left.
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

/// A member that accepts connections but never answers (SIGSTOP) is reported as failed after
/// `--total-timeout`, and the verdict follows: real etcdctl sets no deadline on this probe and
/// hangs until the member wakes (README lists the difference).
#[test]
fn cluster_health_gives_up_on_a_member_that_never_answers() {
    let c = etcd_tests::cluster::Cluster::start(3);
    let url = c.members[0].client_url();
    let ms = members(&url);
    assert_eq!(ms.len(), 3);
    let stopped_url = c.members[2].client_url();
    c.members[2].pause();
    let o = Ctl::ours(&url).run(&["--total-timeout", "2s", "cluster-health"]);
    c.members[2].resume();
    let mut want = String::new();
    for m in &ms {
        let u = &m.client_urls[0];
        if *u == stopped_url {
            want += &format!(
                "failed to check the health of member {} on {u}: Get \"{u}/health\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)\n",
                m.id
            );
            want += &format!(
                "member {} is unreachable: [{u}] are all unreachable\n",
                m.id
            );
        } else {
            want += &format!("member {} is healthy: got healthy result from {u}\n", m.id);
        }
    }
    want += "cluster is degraded\n";
    expect(o, &want, "", 5);
}
