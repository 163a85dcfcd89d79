//! The redb side of the log store: the table layout of `raft-log.redb` and every operation on
//! it, synchronous and free of openraft types (a log row is an index and its JSON bytes).
//!
//! Owns nothing but functions; the storage thread (`io_thread.rs`) decides when they run and in
//! which transaction, readers call the read functions from `spawn_blocking`.

use std::io;
use std::path::Path;

use redb::Database;
use redb::ReadableDatabase;
use redb::ReadableTable;
use redb::Table;
use redb::TableDefinition;
use redb::WriteTransaction;

use super::journal::JournaledFile;

/// File name of the log database inside the data dir.
pub const FILE_NAME: &str = "raft-log.redb";

const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("raft_log");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("raft_meta");

pub(super) const KEY_VOTE: &str = "vote";
pub(super) const KEY_COMMITTED: &str = "committed";
pub(super) const KEY_LAST_PURGED: &str = "last_purged";

/// One encoded log row: (index, JSON entry).
pub(super) type Row = (u64, Vec<u8>);

/// redb's page cache for the log. The log is written once and read back only by lagging
/// followers and restarts (recent entries are served from the in-memory tail), and the kernel's
/// page cache is under it anyway, so a small cache suffices: 4 MiB rather than 16 took the RSS
/// of 100k keys from 120 to 105 MiB with no change in PUT throughput (etcd-bench --only
/// disk,put); redb's default (1 GiB ceiling) only inflates resident memory.
const CACHE_BYTES: usize = 4 << 20;

/// Adds context to any redb error, keeping the `io::ErrorKind` when redb wraps an I/O error
/// (so ENOSPC stays `StorageFull` on its way to openraft).
pub(super) fn db_err<E: Into<redb::Error>>(what: &'static str) -> impl FnOnce(E) -> io::Error {
    move |e| {
        let e: redb::Error = e.into();
        let kind = match &e {
            redb::Error::Io(io) => io.kind(),
            redb::Error::DatabaseAlreadyOpen => io::ErrorKind::ResourceBusy,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, format!("raft-log.redb: {what}: {e}"))
    }
}

/// Opens or creates the file and creates both tables.
///
/// No compaction here: the space a purge frees is given back right after it (`committer.rs`),
/// and compacting at every open cost 30-40 ms of each restart (100k keys: a 28 MB log, 25k
/// entries past the snapshot) for the little the commits since the last purge left free.
///
/// A file that is not a redb database, or is damaged beyond redb's repair, fails here with an
/// error naming its path (the daemon then exits non-zero rather than start on an empty log).
pub(super) fn open_db(path: &Path) -> io::Result<Database> {
    // redb would take an empty file for a new database: a log truncated to nothing must not
    // become an empty log that silently forgets the vote and every entry.
    if std::fs::metadata(path).is_ok_and(|m| m.len() == 0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} is empty (truncated?); refusing to start on an empty log",
                path.display()
            ),
        ));
    }
    let named = |e: io::Error| io::Error::new(e.kind(), format!("{e} ({})", path.display()));
    let backend = JournaledFile::open(path).map_err(named)?;
    let db = Database::builder()
        .set_cache_size(CACHE_BYTES)
        .create_with_backend(backend)
        .map_err(|e| {
            let e = db_err("open")(e);
            io::Error::new(e.kind(), format!("{} ({})", e, path.display()))
        })?;

    // Create both tables up front: reading a table that was never created is an error.
    let tx = db.begin_write().map_err(db_err("begin create tables"))?;
    tx.open_table(LOG).map_err(db_err("create raft_log"))?;
    tx.open_table(META).map_err(db_err("create raft_meta"))?;
    tx.commit().map_err(db_err("commit create tables"))?;
    tracing::debug!(path = %path.display(), "raft-log: opened");
    Ok(db)
}

/// Rows with index in `from..to` (`to == None`: unbounded), ascending, from one read snapshot.
pub(super) fn read_rows(db: &Database, from: u64, to: Option<u64>) -> io::Result<Vec<Row>> {
    let tx = db.begin_read().map_err(db_err("begin read"))?;
    let log = tx.open_table(LOG).map_err(db_err("read: open raft_log"))?;
    let range = match to {
        Some(to) => log.range(from..to),
        None => log.range(from..),
    }
    .map_err(db_err("read: range"))?;
    range
        .map(|row| {
            let (k, v) = row.map_err(db_err("read: next"))?;
            Ok((k.value(), v.value().to_vec()))
        })
        .collect()
}

/// The last row and `last_purged`, read in one snapshot.
pub(super) fn log_state(db: &Database) -> io::Result<(Option<Row>, Option<Vec<u8>>)> {
    let tx = db.begin_read().map_err(db_err("begin read"))?;
    let log = tx
        .open_table(LOG)
        .map_err(db_err("log state: open raft_log"))?;
    let meta = tx
        .open_table(META)
        .map_err(db_err("log state: open raft_meta"))?;
    let last = log
        .last()
        .map_err(db_err("log state: last entry"))?
        .map(|(k, v)| (k.value(), v.value().to_vec()));
    let purged = meta
        .get(KEY_LAST_PURGED)
        .map_err(db_err("log state: last_purged"))?
        .map(|v| v.value().to_vec());
    Ok((last, purged))
}

pub(super) fn get_meta(db: &Database, key: &str) -> io::Result<Option<Vec<u8>>> {
    let tx = db.begin_read().map_err(db_err("begin read"))?;
    let meta = tx
        .open_table(META)
        .map_err(db_err("get meta: open raft_meta"))?;
    Ok(meta
        .get(key)
        .map_err(db_err("get meta"))?
        .map(|v| v.value().to_vec()))
}

/// Both tables of one write transaction, open for a whole group of writes: redb allows several
/// open tables per transaction, and opening them once per group keeps per-write cost flat.
pub(super) struct Writer<'txn> {
    log: Table<'txn, u64, &'static [u8]>,
    meta: Table<'txn, &'static str, &'static [u8]>,
}

impl<'txn> Writer<'txn> {
    pub(super) fn new(tx: &'txn WriteTransaction) -> io::Result<Self> {
        Ok(Self {
            log: tx.open_table(LOG).map_err(db_err("write: open raft_log"))?,
            meta: tx
                .open_table(META)
                .map_err(db_err("write: open raft_meta"))?,
        })
    }

    pub(super) fn insert(&mut self, index: u64, bytes: &[u8]) -> io::Result<()> {
        self.log
            .insert(index, bytes)
            .map(drop)
            .map_err(db_err("append: insert"))
    }

    pub(super) fn put_meta(&mut self, key: &str, value: &[u8]) -> io::Result<()> {
        self.meta
            .insert(key, value)
            .map(drop)
            .map_err(db_err("put meta: insert"))
    }

    /// Deletes every entry with index `>= from`.
    pub(super) fn truncate_from(&mut self, from: u64) -> io::Result<()> {
        self.log
            .retain_in(from.., |_, _| false)
            .map_err(db_err("truncate: delete"))
    }

    /// Records `last_purged` and deletes every entry with index `<= upto`; the caller's single
    /// transaction makes the two one atomic step.
    pub(super) fn purge_upto(&mut self, upto: u64, last_purged: &[u8]) -> io::Result<()> {
        self.put_meta(KEY_LAST_PURGED, last_purged)?;
        self.log
            .retain_in(..=upto, |_, _| false)
            .map_err(db_err("purge: delete"))
    }
}
