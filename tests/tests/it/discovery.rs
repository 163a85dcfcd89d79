//! Bootstrap through `--discovery`: our own daemon serves as the discovery cluster, three
//! members find each other through `/_etcd/registry/<token>`, and a fourth is refused.

use std::time::Duration;

use etcd_tests::{Daemon, Endpoints, etcd_bin, wait_for};

#[test]
// Over 80 lines on purpose: one scenario whose steps build on the state the previous ones left.
fn three_members_bootstrap_through_a_registry_and_a_fourth_is_refused() {
    if etcd_tests::running_real() {
        println!("skipped against real etcd: it is the same protocol, checked against ours");
        return;
    }
    let registry = Daemon::start();
    let url = registry.url("/v2/keys/_etcd/registry/tok-disc");
    assert_eq!(
        registry
            .put(
                "/v2/keys/_etcd/registry/tok-disc/_config/size",
                &[("value", "3")]
            )
            .status,
        201
    );
    let mut members: Vec<Daemon> = (1..=3)
        .map(|i| {
            Daemon::new(
                etcd_bin(),
                format!("d{i}"),
                Endpoints::new(),
                vec!["--discovery".into(), url.clone()],
            )
        })
        .collect();
    for m in &mut members {
        m.spawn();
    }
    for m in &mut members {
        m.wait_ready();
    }
    for m in &members {
        let list = wait_for(Duration::from_secs(20), "three published members", || {
            let r = m.get("/v2/members").json();
            let names: Vec<String> = r["members"]
                .as_array()?
                .iter()
                .map(|x| x["name"].as_str().unwrap_or_default().to_string())
                .collect();
            (names.len() == 3 && names.iter().all(|n| !n.is_empty())).then_some(names)
        });
        let mut sorted = list.clone();
        sorted.sort();
        assert_eq!(sorted, ["d1", "d2", "d3"]);
    }
    // The registry lists the three registrations (hidden `_config` aside).
    let reg = registry.get("/v2/keys/_etcd/registry/tok-disc").json();
    assert_eq!(reg["node"]["nodes"].as_array().unwrap().len(), 3);
    // Writes replicate between the discovered members.
    assert_eq!(members[0].put("/v2/keys/x", &[("value", "1")]).status, 201);
    wait_for(Duration::from_secs(10), "the write on d3", || {
        (members[2].get("/v2/keys/x").status == 200).then_some(())
    });
    // A fourth member: the cluster is full, it exits without creating its data dir.
    let e = Endpoints::new();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d4");
    let out = std::process::Command::new(etcd_bin())
        .args(["--name", "d4", "--discovery", &url, "--data-dir"])
        .arg(&data)
        .args([
            "--listen-client-urls",
            &e.client_url(),
            "--advertise-client-urls",
            &e.client_url(),
        ])
        .args([
            "--listen-peer-urls",
            &e.peer_url(),
            "--initial-advertise-peer-urls",
            &e.peer_url(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("discovery: cluster is full"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!data.exists());
}
