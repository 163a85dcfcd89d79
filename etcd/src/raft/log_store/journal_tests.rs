use std::fs::OpenOptions;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use redb::ReadableDatabase;
use redb::ReadableTableMetadata;
use redb::StorageBackend;
use redb::TableDefinition;
use tempfile::TempDir;

use super::*;

fn read(path: &Path, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut out = vec![0; len];
    std::fs::File::open(path)?.read_exact_at(&mut out, offset)?;
    Ok(out)
}

/// What a power cut can do to writes the kernel had not written back: lose them.
fn lose(path: &Path, offset: u64, len: usize) -> io::Result<()> {
    let f = OpenOptions::new().write(true).open(path)?;
    f.write_all_at(&vec![0xee; len], offset)
}

/// A crash: the backend disappears without `close`, so the journal keeps its records.
fn crash(b: JournaledFile) {
    std::mem::forget(b);
}

#[test]
fn synced_writes_are_replayed_after_a_crash_and_unsynced_ones_are_not() -> io::Result<()> {
    let dir = TempDir::new()?;
    let path = dir.path().join("db");
    let b = JournaledFile::open(&path)?;
    b.set_len(3 * BLOCK)?;
    b.write(0, &[1; 4096])?;
    b.write(8192, b"second page")?;
    b.sync_data()?;
    b.write(4096, &[3; 4096])?;
    crash(b);
    lose(&path, 0, 3 * BLOCK as usize)?;

    let b = JournaledFile::open(&path)?;
    assert_eq!(b.len()?, 3 * BLOCK);
    assert_eq!(read(&path, 0, 4096)?, vec![1; 4096]);
    assert_eq!(read(&path, 8192, 11)?, b"second page");
    assert_eq!(
        read(&path, 4096, 4)?,
        vec![0xee; 4],
        "the unsynced write is not invented"
    );
    Ok(())
}

#[test]
fn a_torn_last_record_is_ignored_and_the_ones_before_it_kept() -> io::Result<()> {
    let dir = TempDir::new()?;
    let path = dir.path().join("db");
    let b = JournaledFile::open(&path)?;
    b.set_len(2 * BLOCK)?;
    b.write(0, b"first")?;
    b.sync_data()?;
    b.write(4096, b"second")?;
    b.sync_data()?;
    crash(b);
    lose(&path, 0, 2 * BLOCK as usize)?;
    // The second record starts at the second journal block after the header: tear its body.
    let journal = journal_path(&path);
    lose(&journal, 2 * BLOCK + RECORD_HEAD as u64, 8)?;

    let _b = JournaledFile::open(&path)?;
    assert_eq!(read(&path, 0, 5)?, b"first");
    assert_eq!(read(&path, 4096, 6)?, vec![0xee; 6]);
    Ok(())
}

#[test]
fn a_full_journal_checkpoints_and_a_clean_close_leaves_nothing_to_replay() -> io::Result<()> {
    let dir = TempDir::new()?;
    let path = dir.path().join("db");
    let b = JournaledFile::open(&path)?;
    b.set_len(64 * BLOCK)?;
    // Each sync is a record of three blocks; more than the journal holds.
    let rounds = CAPACITY / (3 * BLOCK) + 10;
    for i in 0..rounds {
        b.write((i % 64) * BLOCK, &[i as u8; 8000])?;
        b.sync_data()?;
    }
    crash(b);
    let last = rounds - 1;
    lose(&path, (last % 64) * BLOCK, 8000)?;
    let b = JournaledFile::open(&path)?;
    assert_eq!(
        read(&path, (last % 64) * BLOCK, 8000)?,
        vec![last as u8; 8000]
    );

    b.write(0, b"closed")?;
    b.sync_data()?;
    b.close()?;
    drop(b);
    let generation = read(&journal_path(&path), 4, 8)?;
    lose(&path, 100, 10)?;
    let _b = JournaledFile::open(&path)?;
    assert_eq!(
        read(&path, 100, 10)?,
        vec![0xee; 10],
        "no record survived the close"
    );
    assert_ne!(read(&journal_path(&path), 4, 8)?, generation);
    Ok(())
}

#[test]
fn a_write_larger_than_the_journal_is_made_durable_by_a_checkpoint() -> io::Result<()> {
    let dir = TempDir::new()?;
    let path = dir.path().join("db");
    let b = JournaledFile::open(&path)?;
    let big = vec![7u8; MAX_PENDING + 1];
    b.set_len(big.len() as u64)?;
    b.write(0, &big)?;
    b.sync_data()?;
    crash(b);
    let _b = JournaledFile::open(&path)?;
    assert_eq!(read(&path, 0, 16)?, vec![7; 16]);
    Ok(())
}

#[test]
fn redb_commits_through_it_survive_reopening() -> Result<(), redb::Error> {
    const T: TableDefinition<u64, &[u8]> = TableDefinition::new("t");
    let dir = TempDir::new()?;
    let path = dir.path().join("db");
    for round in 0..3u64 {
        let db = redb::Database::builder().create_with_backend(JournaledFile::open(&path)?)?;
        for i in 0..50 {
            let tx = db.begin_write()?;
            tx.open_table(T)?
                .insert(round * 100 + i, b"value".as_slice())?;
            tx.commit()?;
        }
        let tx = db.begin_read()?;
        assert_eq!(tx.open_table(T)?.len()?, (round + 1) * 50);
    }
    Ok(())
}
