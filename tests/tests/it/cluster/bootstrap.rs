//! Bootstrap safety: different tokens never mix, bad `--initial-cluster` flags fail fast
//! without a data dir, an unannounced member cannot join.

use super::*;

// 7. Token isolation: different tokens, different cluster ids; a member with the wrong token
//    cannot join.
#[test]
fn clusters_with_different_tokens_never_mix() {
    let a = Cluster::start(1);
    let b = Cluster::start(1);
    let cid = |c: &Cluster| {
        c.members[0]
            .get("/v2/keys/")
            .header("X-Etcd-Cluster-Id")
            .expect("X-Etcd-Cluster-Id")
            .to_string()
    };
    assert_ne!(cid(&a), cid(&b));
    drop((a, b));

    // n3 is configured with another token: its member ids, hence its cluster id, differ, and the
    // others refuse its messages. Real etcd 3.4 keeps n3 running, never ready to serve clients,
    // logging "cluster ID mismatch"; n1 and n2 form the cluster and list n3 unpublished.
    let mut c = Cluster::configure(3, &[]);
    let args = &mut c.members[2].args;
    let t = args
        .iter()
        .position(|a| a == "--initial-cluster-token")
        .unwrap();
    args[t + 1] = format!("{}-other", c.token);
    for m in &mut c.members {
        m.spawn();
    }
    c.members[0].wait_ready();
    c.members[1].wait_ready();
    let l = c.wait_leader_among(&[0, 1], SETTLE);
    assert_eq!(
        c.members[l].put("/v2/keys/k", &[("value", "v")]).status,
        201
    );
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        if let Some(r) = probe(&c.members[2].url("/v2/keys/k"), Duration::from_millis(500)) {
            assert_ne!(
                r.status, 200,
                "the member with the wrong token serves: {}",
                r.body
            );
        }
        if c.members[2].exit_status().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    wait_for(SETTLE, "a cluster ID mismatch in n3's log", || {
        c.members[2]
            .log()
            .contains("cluster ID mismatch")
            .then_some(())
    });
    let n3 = c
        .member_list()
        .into_iter()
        .find(|m| m["name"] == "n3")
        .expect("n3 listed by n1");
    assert_eq!(n3["clientURLs"], serde_json::json!([]), "{n3}");
    let ids: BTreeSet<String> = (0..2)
        .map(|i| {
            c.members[i]
                .get("/v2/keys/")
                .header("X-Etcd-Cluster-Id")
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1);
}

// 8. Bad --initial-cluster: a quick non-zero exit, a clear message, no usable data dir left.
#[test]
fn bad_initial_cluster_flags_fail_fast_without_leaving_a_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let e = Endpoints::new();
    let cases: Vec<(String, String)> = vec![
        (
            format!("other={}", e.peer_url()),
            r#"couldn't find local name "n1" in the initial cluster configuration"#.into(),
        ),
        (
            "n1=not-a-url".into(),
            "URL scheme must be http, https, unix, or unixs: not-a-url".into(),
        ),
        (
            format!("n1={0},n2={0}", e.peer_url()),
            "duplicate url".into(),
        ),
    ];
    for (initial, want) in cases {
        let started = Instant::now();
        let mut child = std::process::Command::new(etcd_bin())
            .args(["--enable-v2", "--name", "n1", "--data-dir"])
            .arg(&data)
            .args(["--initial-advertise-peer-urls", &e.peer_url()])
            .args(["--listen-peer-urls", &e.peer_url()])
            .args(["--listen-client-urls", &e.client_url()])
            .args(["--advertise-client-urls", &e.client_url()])
            .args(["--initial-cluster", &initial])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if started.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("--initial-cluster {initial}: still running after 10 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert!(!status.success(), "{initial} started");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{initial}: exit took {:?}",
            started.elapsed()
        );
        assert!(stderr.contains(&want), "{initial}: {stderr}");
        // Real etcd opens its backend (member/snap/db) before checking the initial cluster, but
        // writes no WAL, so a later start is still a fresh one. Ours creates nothing.
        let left = files_below(&data);
        if running_real() {
            assert!(
                left.iter().all(|f| f.ends_with("member/snap/db")),
                "{initial} left {left:?}"
            );
        } else {
            assert_eq!(left, Vec::<String>::new(), "{initial} left files");
        }
        let _ = std::fs::remove_dir_all(&data);
    }
}

fn files_below(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_below(&p));
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out
}

// 16. A member that was never added through the API cannot join an existing cluster with
//     `--initial-cluster-state existing`: it exits (real etcd: "member count is unequal").
#[test]
fn an_unannounced_member_cannot_join_an_existing_cluster() {
    let c = Cluster::start(3);
    let ends = Endpoints::new();
    let initial = c.initial_cluster_with(&format!("n4={}", ends.peer_url()));
    let args = [
        "--initial-cluster",
        initial.as_str(),
        "--initial-cluster-state",
        "existing",
        "--initial-cluster-token",
        c.token.as_str(),
        "--heartbeat-interval",
        "50",
        "--election-timeout",
        "500",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut d = etcd_tests::Daemon::new(etcd_bin(), "n4".into(), ends, args);
    d.spawn();
    let status = wait_for(SETTLE, "the unannounced member to exit", || {
        if let Some(r) = probe(&d.url("/v2/keys/"), Duration::from_millis(300)) {
            assert_ne!(r.status, 200, "it serves clients: {}", r.body);
        }
        d.exit_status()
    });
    println!(
        "unannounced member: {status}; log tail: {:?}",
        d.log().lines().last()
    );
    assert!(!status.success());
    assert_eq!(c.member_list().len(), 3);
    let l = c.leader();
    assert_eq!(
        c.members[l]
            .put("/v2/keys/still", &[("value", "ok")])
            .status,
        201
    );
}
