//! `etcdctl backup` (etcd: etcdctl/ctlv2/command/backup_command.go): a copy of a member's data
//! dir under a new member id and cluster id, so that it can start a new cluster
//! (`etcd --data-dir <backup> --force-new-cluster`) but can never rejoin the old one.
//!
//! It works on files, with no server contact, as etcd's does. Unlike etcd's (whose WAL is
//! append-only and can be read while the member writes it), ours refuses a data dir whose member
//! is running: the log is a B-tree the member rewrites in place, and a copy taken meanwhile
//! could hold pages of two different commits. The member's lock on `raft-log.redb` tells.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use etcd_common::go::os::path_error;

use crate::boot::identity::{self, Identity};
use crate::raft::log_store::FILE_NAME as LOG_FILE;

/// Files of a data dir that are not copied: the identity is written new, and temporary files
/// are a crashed write's leftovers (the member removes them at start).
fn skipped(name: &str) -> bool {
    name == "identity.json" || name.ends_with(".tmp")
}

/// What the backup became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    pub member_id: u64,
    pub cluster_id: u64,
}

/// Copies the member in `data_dir` to `backup_dir` under fresh ids (see the module doc). Every
/// error is worded for an operator, naming the path it concerns.
pub async fn run(
    data_dir: &Path,
    backup_dir: &Path,
    now_unix_nanos: i64,
) -> Result<Backup, String> {
    let from = identity::member_dir(data_dir);
    let to = identity::member_dir(backup_dir);
    let old = identity::load(&from)
        .map_err(|e| path_error("read", &from.join("identity.json"), &e))?
        .ok_or_else(|| {
            // ENOENT, so it reads as the operating system's (and Go's) words for it.
            let missing = io::Error::from_raw_os_error(2);
            path_error("open", &from.join("identity.json"), &missing)
        })?;
    // Held until the copy is done, so the member cannot start meanwhile either.
    let _lock = lock_log(&from.join(LOG_FILE))?;
    create_empty_dir(&to)?;
    let made = make(&from, &to, old, now_unix_nanos).await;
    if made.is_err() {
        // Half a backup would only be mistaken for a whole one; the next try starts clean.
        let _ = std::fs::remove_dir_all(&to);
    }
    made
}

/// Fills the empty member dir `to` from `from`.
async fn make(
    from: &Path,
    to: &Path,
    old: Identity,
    now_unix_nanos: i64,
) -> Result<Backup, String> {
    copy_files(from, to)?;
    let new = new_member_id(&old, now_unix_nanos);
    crate::raft::force_new::rebirth(to, old.member_id, new)
        .await
        .map_err(|e| format!("{}: {e}", to.display()))?;
    let born = Identity {
        member_id: new,
        cluster_id: identity::cluster_id(&[new]),
        name: old.name,
        bootstrap: None,
    };
    identity::save(to, &born).map_err(|e| path_error("write", &to.join("identity.json"), &e))?;
    Ok(Backup {
        member_id: born.member_id,
        cluster_id: born.cluster_id,
    })
}

/// A shared lock on the log file; refused while a member holds its exclusive one.
fn lock_log(path: &Path) -> Result<File, String> {
    let file = File::open(path).map_err(|e| path_error("open", path, &e))?;
    match file.try_lock_shared() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "{}: in use by a running etcd; stop that member first (or back up another one)",
            path.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(path_error("lock", path, &e)),
    }
}

/// `dir`, created with mode 0700 as etcd creates its backup dirs, and empty: a backup is never
/// merged into another member's files.
fn create_empty_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| path_error("mkdir", dir, &e))?;
    let mut entries = std::fs::read_dir(dir).map_err(|e| path_error("open", dir, &e))?;
    if entries.next().is_some() {
        return Err(format!(
            "{}: not empty; back up into a new directory",
            dir.display()
        ));
    }
    Ok(())
}

/// Every file of the member dir (the log, its journal, the snapshot), each made durable, and
/// then the directory entries.
fn copy_files(from: &Path, to: &Path) -> Result<(), String> {
    let entries = std::fs::read_dir(from).map_err(|e| path_error("open", from, &e))?;
    for entry in entries {
        let entry = entry.map_err(|e| path_error("readdir", from, &e))?;
        let name = entry.file_name();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if !is_file || skipped(&name.to_string_lossy()) {
            continue;
        }
        let (src, dst): (PathBuf, PathBuf) = (entry.path(), to.join(&name));
        std::fs::copy(&src, &dst).map_err(|e| path_error("copy", &src, &e))?;
        File::open(&dst)
            .and_then(|f| f.sync_all())
            .map_err(|e| path_error("fsync", &dst, &e))?;
    }
    File::open(to)
        .and_then(|d| d.sync_all())
        .map_err(|e| path_error("fsync", to, &e))
}

/// A member id derived from the old member's and the time, as etcd draws one from the clock;
/// never the old id, never 0 (raft's "nobody").
fn new_member_id(old: &Identity, now_unix_nanos: i64) -> u64 {
    let seed = [format!("{:x}", old.member_id), old.name.clone()];
    // A sha1 that lands on either twice in a row does not happen; the bound only makes it sure.
    (0..8)
        .map(|n| identity::member_id(&seed, "etcdctl-backup", Some(now_unix_nanos + n)))
        .find(|&id| id != 0 && id != old.member_id)
        .unwrap_or(old.member_id ^ 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_differ_from_the_old_and_from_each_other() {
        let old = Identity {
            member_id: 7,
            cluster_id: 9,
            name: "default".into(),
            bootstrap: None,
        };
        let a = new_member_id(&old, 1);
        let b = new_member_id(&old, 2);
        assert!(a != 7 && a != 0 && a != b);
    }

    #[tokio::test]
    async fn a_member_that_never_started_has_nothing_to_back_up_and_leaves_nothing() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().join("data");
        let member = identity::member_dir(&data);
        std::fs::create_dir_all(&member).expect("mkdir");
        let id = Identity {
            member_id: 7,
            cluster_id: 9,
            name: "x".into(),
            bootstrap: None,
        };
        identity::save(&member, &id).expect("identity");
        // An empty log, as a member leaves that never joined its cluster.
        let log = crate::raft::log_store::LogStore::<crate::raft::types::TypeConfig>::open(&member)
            .expect("log");
        log.close().await.expect("close");
        let backup = tmp.path().join("backup");
        let e = run(&data, &backup, 1)
            .await
            .expect_err("nothing to back up");
        assert!(e.contains("holds no raft log yet"), "{e}");
        assert!(!identity::member_dir(&backup).exists());
    }

    #[test]
    fn only_data_is_copied() {
        assert!(skipped("identity.json"));
        assert!(skipped("snapshot.tmp"));
        assert!(!skipped("raft-log.redb"));
        assert!(!skipped("raft-log.journal"));
        assert!(!skipped("snapshot"));
    }
}
