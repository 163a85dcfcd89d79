//! The workloads of issue 9, one group per file; each group runs once per round and server on
//! a fresh data dir and records its figures in the [`Table`].

pub mod auth;
pub mod cluster;
pub mod disk;
pub mod kv;
pub mod watch;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use crate::server::Bin;
use crate::table::Table;

/// Sizes and durations of one run.
pub struct Opts {
    /// Length of each timed load phase.
    pub phase: Duration,
    /// Keys for the data-dir and restart workload.
    pub keys: u64,
    /// Watcher counts for the watch workload.
    pub watchers: Vec<usize>,
    /// Where data dirs (and the fsync probe) live.
    pub dir: PathBuf,
    pub value_len: usize,
}

/// A group of workloads that shares one server start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Put,
    Get,
    Cas,
    Watch,
    Cluster,
    Disk,
    Auth,
}

impl Group {
    pub const ALL: [Group; 7] = [
        Group::Put,
        Group::Get,
        Group::Cas,
        Group::Watch,
        Group::Cluster,
        Group::Disk,
        Group::Auth,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Group::Put => "put",
            Group::Get => "get",
            Group::Cas => "cas",
            Group::Watch => "watch",
            Group::Cluster => "cluster",
            Group::Disk => "disk",
            Group::Auth => "auth",
        }
    }

    pub async fn run(self, opts: &Opts, bin: &Bin, table: &mut Table) -> Result<()> {
        match self {
            Group::Put => kv::put(opts, bin, table).await,
            Group::Get => kv::get(opts, bin, table).await,
            Group::Cas => kv::cas(opts, bin, table).await,
            Group::Watch => watch::run(opts, bin, table).await,
            Group::Cluster => cluster::run(opts, bin, table).await,
            Group::Disk => disk::run(opts, bin, table).await,
            Group::Auth => auth::run(opts, bin, table).await,
        }
    }
}
