//! `etcdctl backup`: an offline copy of a data dir under a new member and cluster id, which
//! starts (with `--force-new-cluster`, as etcd documents the restore) as a cluster of one
//! holding every acknowledged write, while the source member keeps its own identity.

use super::*;
use etcd_tests::{Endpoints, etcd_bin};

/// `etcdctl backup` with these flags (it talks to no server).
fn backup(args: &[&str]) -> CtlOutput {
    let mut all = vec!["backup"];
    all.extend_from_slice(args);
    Ctl::ours("http://127.0.0.1:1").raw(&all)
}

/// stderr without etcd's log stamp (`2026-12-03 13:00:36.995288 I | `), which must be there.
#[track_caller]
fn unstamped(stderr: &str) -> String {
    stderr
        .lines()
        .map(|l| {
            let (stamp, rest) = l.split_at_checked(26).unwrap_or(("", l));
            let shape = stamp
                .chars()
                .map(|c| if c.is_ascii_digit() { '9' } else { c })
                .collect::<String>();
            assert_eq!(shape, "9999-99-99 99:99:99.999999", "stamp of {l:?}");
            format!("{}\n", rest.strip_prefix(" I | ").unwrap_or(rest))
        })
        .collect()
}

fn tree(d: &Daemon) -> String {
    let r = d.get("/v2/keys/?recursive=true&sorted=true&quorum=true");
    assert_eq!(r.status, 200, "{r:?}");
    r.body
}

fn cluster_id(d: &Daemon) -> String {
    d.get("/v2/keys/")
        .header("X-Etcd-Cluster-Id")
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_backup_starts_a_new_cluster_of_one_with_every_acknowledged_write() {
    // A small snapshot count, so the copy holds a snapshot and the log after it.
    let mut source = Daemon::start_with(&["--snapshot-count", "40"]);
    wait_published(&source.client_url());
    for i in 0..100 {
        let r = source.put(
            &format!("/v2/keys/dir/k{i:03}"),
            &[("value", &i.to_string())],
        );
        assert_eq!(r.status, 201, "{r:?}");
    }
    let snapshot = source.data_dir().join("member/snapshot");
    etcd_tests::wait_for(Duration::from_secs(30), "a snapshot", || {
        snapshot.exists().then_some(())
    });
    let before = tree(&source);
    let old_id = members(&source.client_url())[0].id.clone();
    let old_cluster = cluster_id(&source);
    let data_dir = source.data_dir().display().to_string();

    let mut restored = Daemon::new(
        etcd_bin(),
        "default".into(),
        Endpoints::new(),
        vec!["--force-new-cluster".into()],
    );
    let backup_dir = restored.data_dir().display().to_string();

    // The member holds its log: no copy of a B-tree it is rewriting, and nothing created.
    let o = backup(&["--data-dir", &data_dir, "--backup-dir", &backup_dir]);
    assert_eq!((o.code, o.stdout.as_str()), (1, ""), "{o:?}");
    assert_eq!(
        unstamped(&o.stderr),
        format!(
            "{data_dir}/member/raft-log.redb: in use by a running etcd; stop that member first (or back up another one)\n"
        )
    );
    assert!(!restored.data_dir().exists());

    // Killed, not stopped: what it acknowledged is on disk, and in the copy.
    source.kill();
    let o = backup(&["--data-dir", &data_dir, "--backup-dir", &backup_dir]);
    assert_eq!(
        (o.code, o.stdout.as_str(), o.stderr.as_str()),
        (0, "", ""),
        "{o:?}"
    );
    assert!(restored.data_dir().join("member/snapshot").exists());
    let again = backup(&["--data-dir", &data_dir, "--backup-dir", &backup_dir]);
    assert_eq!(again.code, 1, "{again:?}");
    assert_eq!(
        unstamped(&again.stderr),
        format!("{backup_dir}/member: not empty; back up into a new directory\n")
    );

    restored.spawn();
    restored.wait_ready();
    assert_eq!(tree(&restored), before);
    let list = members(&restored.client_url());
    assert_eq!(list.len(), 1, "{list:?}");
    assert_ne!(list[0].id, old_id);
    assert_eq!(list[0].client_urls, vec![restored.client_url()]);
    assert_ne!(cluster_id(&restored), old_cluster);
    let r = restored.put("/v2/keys/after", &[("value", "1")]);
    assert_eq!(r.status, 201, "{r:?}");

    // It stays that cluster of one without the flag.
    restored.args.clear();
    restored.restart();
    assert_eq!(members(&restored.client_url())[0].id, list[0].id);
    let r = restored.get("/v2/keys/after?quorum=true");
    assert!(r.body.contains(r#""value":"1""#), "{r:?}");

    // The source was only read: it comes back as itself, with its data.
    source.restart();
    assert_eq!(members(&source.client_url())[0].id, old_id);
    assert_eq!(cluster_id(&source), old_cluster);
    assert_eq!(tree(&source), before);
}

#[test]
fn backup_errors_name_the_path_and_create_nothing() {
    let empty = tempfile::tempdir().expect("tempdir");
    let data_dir = empty.path().join("none");
    let backup_dir = empty.path().join("backup");
    let o = backup(&[
        "--data-dir",
        &data_dir.display().to_string(),
        "--backup-dir",
        &backup_dir.display().to_string(),
    ]);
    assert_eq!((o.code, o.stdout.as_str()), (1, ""), "{o:?}");
    assert_eq!(
        unstamped(&o.stderr),
        format!(
            "open {}/member/identity.json: no such file or directory\n",
            data_dir.display()
        )
    );
    assert!(!backup_dir.exists());

    // No flags: both dirs are the empty path, so the member dir is `member` in the cwd.
    let mut cmd = Ctl::ours("http://127.0.0.1:1").command(&["backup"]);
    cmd.current_dir(empty.path());
    let o = etcd_tests::ctl::run_command(cmd, b"");
    assert_eq!(o.code, 1, "{o:?}");
    assert_eq!(
        unstamped(&o.stderr),
        "open member/identity.json: no such file or directory\n"
    );
    assert!(!empty.path().join("member").exists());
}
