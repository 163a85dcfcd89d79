//! The disk's fsync floor: 4 KiB written in place and `fdatasync`ed, in a loop, in a temporary
//! file on the filesystem the data dirs live on. One client's durable writes cannot be
//! acknowledged faster than this.
//!
//! And the floor of a log kept in redb, as ours is: one durable commit of one log-entry-sized
//! row after the last of a thousand. A commit writes every page its copy-on-write B-trees
//! touched (the log's leaf and branches, the freed-page tables, the header: about eight
//! scattered 4 KiB pages, measured with strace) before its fsync, where etcd's WAL appends one.

use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;

/// The file cycles over this many 4 KiB blocks, written once before timing so that no timed
/// write changes the file's size (which would add a metadata flush to every `fdatasync`).
const BLOCKS: u64 = 256;

pub struct Floor {
    pub p50_ms: f64,
    pub per_sec: f64,
}

impl Floor {
    /// From per-operation latencies (seconds) over `total` seconds.
    fn of(mut lat: Vec<f64>, total: f64) -> Floor {
        lat.sort_by(f64::total_cmp);
        Floor {
            p50_ms: lat.get(lat.len() / 2).copied().unwrap_or(0.0) * 1000.0,
            per_sec: lat.len() as f64 / total.max(1e-9),
        }
    }
}

/// Write+fdatasync loops for `dur` (and at most 100,000 of them).
pub fn measure(dir: &Path, dur: Duration) -> Result<Floor> {
    let mut f = tempfile::tempfile_in(dir)?;
    let block = [0x5au8; 4096];
    for _ in 0..BLOCKS {
        f.write_all(&block)?;
    }
    f.sync_all()?;
    let mut lat = Vec::new();
    let start = Instant::now();
    let mut i = 0u64;
    while start.elapsed() < dur && i < 100_000 {
        let t = Instant::now();
        f.write_all_at(&block, (i % BLOCKS) * 4096)?;
        f.sync_data()?;
        lat.push(t.elapsed().as_secs_f64());
        i += 1;
    }
    Ok(Floor::of(lat, start.elapsed().as_secs_f64()))
}

/// Rows in the table before timing: a log that is neither empty nor long (openraft keeps up to
/// a thousand entries behind a snapshot).
const REDB_ROWS: u64 = 1000;

/// Bytes in a row: a 256-byte value's log entry, as our log stores it.
const REDB_ROW: usize = 420;

/// One-row `Durability::Immediate` commits in a fresh redb file for `dur` (at most 100,000).
pub fn measure_redb(dir: &Path, dur: Duration) -> Result<Floor> {
    use redb::{Database, Durability, TableDefinition};
    const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("raft_log");
    let tmp = tempfile::tempdir_in(dir)?;
    let db = Database::builder()
        .set_cache_size(16 << 20)
        .create(tmp.path().join("probe.redb"))?;
    let row = vec![0x5au8; REDB_ROW];
    let tx = db.begin_write()?;
    {
        let mut t = tx.open_table(LOG)?;
        for i in 0..REDB_ROWS {
            t.insert(i, row.as_slice())?;
        }
    }
    tx.commit()?;
    let mut lat = Vec::new();
    let start = Instant::now();
    let mut i = REDB_ROWS;
    while start.elapsed() < dur && i < REDB_ROWS + 100_000 {
        let t = Instant::now();
        let mut tx = db.begin_write()?;
        tx.set_durability(Durability::Immediate)?;
        tx.open_table(LOG)?.insert(i, row.as_slice())?;
        tx.commit()?;
        lat.push(t.elapsed().as_secs_f64());
        i += 1;
    }
    Ok(Floor::of(lat, start.elapsed().as_secs_f64()))
}
