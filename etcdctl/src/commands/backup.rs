//! `etcdctl backup` (etcd: ctlv2/command/backup_command.go): offline, no server contact; the
//! work is the daemon's own (`etcd::backup`), which knows its data dir.
//!
//! `--wal-dir` and `--backup-wal-dir` name nothing here: our etcd keeps its log inside the data
//! dir whatever `--wal-dir` says, so the backup's log goes beside its data too. `--with-v3` has
//! nothing to add: there is no v3 store.

use crate::cli::BackupArgs;
use crate::output::{self, EXIT_BAD_ARGS, Exit};

fn unix_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

pub async fn backup(a: &BackupArgs) -> Result<(), Exit> {
    let data_dir = std::path::Path::new(&a.data_dir);
    let backup_dir = std::path::Path::new(&a.backup_dir);
    match etcd::backup::run(data_dir, backup_dir, unix_nanos()).await {
        // Silent on success, as etcd's is.
        Ok(_) => Ok(()),
        // etcd's `log.Fatal`, through capnslog: a stamped line on stderr, exit 1.
        Err(e) => {
            let stamp = etcd_common::go::time::log_stamp(unix_nanos());
            output::err(&format!("{stamp} I | {e}\n"));
            Err(Exit(EXIT_BAD_ARGS))
        }
    }
}
