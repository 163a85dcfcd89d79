//! Process limits a server needs. Go raises the open-files soft limit to the hard limit when a
//! program starts, so etcd holds as many client connections and watchers as the system
//! allows; with the common soft limit of 1,024 a member with a thousand keep-alive clients
//! would stop accepting connections.

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// Raise the soft limit on open files to the hard limit; the limit in force afterwards.
pub fn raise_open_files() -> nix::Result<u64> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    if soft < hard {
        setrlimit(Resource::RLIMIT_NOFILE, hard, hard)?;
    }
    Ok(hard)
}
