//! Unit tests of the log store through its public API, plus the test-only hooks at the end of
//! `mod.rs`: durability across reopen and crash, group commit, error propagation.

use std::io;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use openraft::RaftLogReader;
use openraft::alias::EntryOf;
use openraft::alias::LogIdOf;
use openraft::entry::RaftEntry;
use openraft::storage::IOFlushed;
use openraft::storage::RaftLogStorage;
use openraft::type_config::TypeConfigExt;
use openraft::vote::RaftLeaderIdExt;
use tempfile::TempDir;

use super::DiskHealth;
use super::FILE_NAME;
use super::LogStore;
use super::suite::C;

fn log_id(term: u64, index: u64) -> LogIdOf<C> {
    LogIdOf::<C>::new(
        openraft::alias::LeaderIdOf::<C>::new_committed(term, 1),
        index,
    )
}

fn blank(term: u64, index: u64) -> EntryOf<C> {
    EntryOf::<C>::new_blank(log_id(term, index))
}

fn normal(term: u64, index: u64, data: &str) -> EntryOf<C> {
    EntryOf::<C>::new_normal(log_id(term, index), data.to_owned())
}

/// Appends and waits for the flush callback, as the raft core does.
async fn append_flushed(store: &mut LogStore<C>, entries: Vec<EntryOf<C>>) -> io::Result<()> {
    let (tx, rx) = C::oneshot();
    store.append(entries, IOFlushed::signal(tx)).await?;
    rx.await.map_err(|_| io::Error::other("callback dropped"))?
}

#[tokio::test]
async fn reopened_store_keeps_vote_entries_committed_and_last_purged() -> io::Result<()> {
    let dir = TempDir::new()?;
    let vote = openraft::alias::VoteOf::<C>::new(3, 1);
    {
        let mut store = LogStore::<C>::open(dir.path())?;
        append_flushed(
            &mut store,
            (0..=9).map(|i| normal(1, i, &format!("v{i}"))).collect(),
        )
        .await?;
        store.save_vote(&vote).await?;
        store.save_committed(Some(log_id(1, 7))).await?;
        store.purge(log_id(1, 3)).await?;
        // Plain drop: must release the file lock before returning.
    }
    {
        let mut store = LogStore::<C>::open(dir.path())?;
        assert_eq!(store.read_vote().await?, Some(vote));
        assert_eq!(store.read_committed().await?, Some(log_id(1, 7)));
        let state = store.get_log_state().await?;
        assert_eq!(state.last_purged_log_id, Some(log_id(1, 3)));
        assert_eq!(state.last_log_id, Some(log_id(1, 9)));
        let entries = store.try_get_log_entries(..).await?;
        let indexes: Vec<u64> = entries.iter().map(|e| e.index()).collect();
        assert_eq!(indexes, (4..=9).collect::<Vec<_>>());
        assert_eq!(entries[0], normal(1, 4, "v4"));

        // Purge everything: last_log_id falls back to last_purged, across a reopen too.
        store.purge(log_id(1, 9)).await?;
        store.close().await?;
    }
    let mut store = LogStore::<C>::open(dir.path())?;
    let state = store.get_log_state().await?;
    assert_eq!(state.last_purged_log_id, Some(log_id(1, 9)));
    assert_eq!(state.last_log_id, Some(log_id(1, 9)));
    assert!(store.try_get_log_entries(..).await?.is_empty());
    store.close().await
}

#[tokio::test]
async fn a_purge_gives_the_freed_space_back() -> io::Result<()> {
    let dir = TempDir::new()?;
    let file = dir.path().join(FILE_NAME);
    let mut store = LogStore::<C>::open(dir.path())?;
    let payload = "x".repeat(1024);
    for chunk in 0..20u64 {
        let entries = (chunk * 100..(chunk + 1) * 100).map(|i| normal(1, i, &payload));
        append_flushed(&mut store, entries.collect()).await?;
    }
    let before = std::fs::metadata(&file)?.len();
    store.purge(log_id(1, 1_899)).await?;
    // The storage thread compacts right after answering the purge; its next commit is behind it.
    append_flushed(&mut store, vec![blank(1, 2_000)]).await?;
    let after = std::fs::metadata(&file)?.len();
    assert!(
        after < before / 2,
        "compaction after purge: {before} -> {after} bytes"
    );
    assert_eq!(
        indexes(&store.try_get_log_entries(..).await?),
        (1_900..=2_000).collect::<Vec<_>>()
    );
    store.close().await?;

    let mut store = LogStore::<C>::open(dir.path())?;
    assert_eq!(
        store.get_log_state().await?.last_log_id,
        Some(log_id(1, 2_000))
    );
    store.close().await
}

#[tokio::test]
async fn range_reads_and_truncate_after() -> io::Result<()> {
    let dir = TempDir::new()?;
    let mut store = LogStore::<C>::open(dir.path())?;
    append_flushed(&mut store, (0..=9).map(|i| blank(1, i)).collect()).await?;

    let idx = |v: Vec<EntryOf<C>>| v.iter().map(|e| e.index()).collect::<Vec<_>>();
    assert_eq!(idx(store.try_get_log_entries(3..5).await?), [3, 4]);
    assert_eq!(idx(store.try_get_log_entries(3..=5).await?), [3, 4, 5]);
    assert_eq!(idx(store.try_get_log_entries(8..).await?), [8, 9]);
    assert_eq!(idx(store.try_get_log_entries(..2).await?), [0, 1]);
    let excluded_start = (Bound::Excluded(7), Bound::Unbounded);
    assert_eq!(
        idx(store.try_get_log_entries(excluded_start).await?),
        [8, 9]
    );
    assert!(store.try_get_log_entries(5..5).await?.is_empty());
    let max = (Bound::Excluded(u64::MAX), Bound::Unbounded);
    assert!(store.try_get_log_entries(max).await?.is_empty());

    store.truncate_after(Some(log_id(1, 6))).await?;
    assert_eq!(store.get_log_state().await?.last_log_id, Some(log_id(1, 6)));
    // Overwrite the tail with a new term, as a follower does after a conflict.
    append_flushed(&mut store, vec![blank(2, 7)]).await?;
    assert_eq!(store.get_log_state().await?.last_log_id, Some(log_id(2, 7)));

    store.truncate_after(None).await?;
    let state = store.get_log_state().await?;
    assert_eq!((state.last_log_id, state.last_purged_log_id), (None, None));
    store.close().await
}

/// A reader walking the old log in chunks (re-apply at start) gets exactly what fresh reads
/// would, also when the log is truncated or rewritten after it fetched ahead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_ahead_never_serves_a_stale_chunk() -> io::Result<()> {
    let dir = TempDir::new()?;
    {
        let mut store = LogStore::<C>::open(dir.path())?;
        let entries = (0..1000).map(|i| normal(1, i, &format!("a{i}"))).collect();
        append_flushed(&mut store, entries).await?;
        store.close().await?;
    }
    // Reopened: the tail is empty, every chunk comes out of redb.
    let mut store = LogStore::<C>::open(dir.path())?;
    let mut reader = store.get_log_reader().await;
    for start in (0..640).step_by(64) {
        let chunk = reader.try_get_log_entries(start..start + 64).await?;
        let want: Vec<_> = (start..start + 64)
            .map(|i| normal(1, i, &format!("a{i}")))
            .collect();
        assert_eq!(chunk, want, "chunk at {start}");
    }
    // 640..704 is being fetched; cut the log inside it.
    store.truncate_after(Some(log_id(1, 659))).await?;
    assert_eq!(
        indexes(&reader.try_get_log_entries(640..704).await?),
        (640..660).collect::<Vec<_>>()
    );
    // And rewrite it under a new term while a new reader fetches 640..704.
    let mut reader = store.get_log_reader().await;
    assert_eq!(reader.try_get_log_entries(576..640).await?.len(), 64);
    store.truncate_after(Some(log_id(1, 600))).await?;
    let rewritten = (601..800).map(|i| normal(2, i, &format!("b{i}"))).collect();
    append_flushed(&mut store, rewritten).await?;
    let chunk = reader.try_get_log_entries(640..704).await?;
    let want: Vec<_> = (640..704).map(|i| normal(2, i, &format!("b{i}"))).collect();
    assert_eq!(chunk, want);
    store.close().await
}

/// Appends without waiting, as the raft core does; the returned future yields the callback's
/// result.
async fn append_async(
    store: &mut LogStore<C>,
    entries: Vec<EntryOf<C>>,
) -> io::Result<impl Future<Output = io::Result<()>> + use<>> {
    let (tx, rx) = C::oneshot();
    store.append(entries, IOFlushed::signal(tx)).await?;
    Ok(async move { rx.await.map_err(|_| io::Error::other("callback dropped"))? })
}

fn indexes(entries: &[EntryOf<C>]) -> Vec<u64> {
    entries.iter().map(|e| e.index()).collect()
}

// The held lock stalls the storage thread, on purpose; nothing awaited here needs it.
#[allow(clippy::await_holding_lock)]
#[tokio::test]
async fn back_to_back_appends_share_commits_and_ack_only_durable_entries() -> io::Result<()> {
    const APPENDS: u64 = 32;
    let dir = TempDir::new()?;
    let mut store = LogStore::<C>::open(dir.path())?;
    let before = store.commits();

    // Hold the storage thread at its next commit, so the appends below queue up behind it
    // whatever the disk's speed. It takes at most the first append into that commit.
    let gate = store.commit_gate();
    let held = gate.lock().unwrap();
    let mut callbacks = Vec::new();
    for i in 0..APPENDS {
        // `append` returns before any fsync: it would hang here otherwise.
        let entry = normal(1, i, &format!("v{i}"));
        callbacks.push(append_async(&mut store, vec![entry.clone()]).await?);
        // Readable the moment it returns, by the store and by a reader.
        let mut reader = store.get_log_reader().await;
        assert_eq!(reader.try_get_log_entries(i..=i).await?, [entry]);
    }
    let state = store.get_log_state().await?;
    assert_eq!(state.last_log_id, Some(log_id(1, APPENDS - 1)));
    assert!(
        store.durable_indexes()?.is_empty(),
        "nothing is committed yet"
    );
    assert_eq!(store.commits(), before);
    drop(held);

    for (i, callback) in (0..APPENDS).zip(callbacks) {
        callback.await?;
        // Acknowledged means committed to redb (`Durability::Immediate`), not just in the tail.
        let durable = store.durable_indexes()?;
        assert!(
            durable.len() as u64 > i,
            "callback {i} fired before its commit: {durable:?}"
        );
    }
    let commits = store.commits() - before;
    assert!(
        commits <= 2,
        "{APPENDS} queued appends took {commits} commits"
    );
    assert_eq!(store.pending_rows(), 0, "every row is committed");
    let all = store.try_get_log_entries(..).await?;
    assert_eq!(indexes(&all), (0..APPENDS).collect::<Vec<_>>());
    store.close().await
}

/// A copy of the live files (the database and its commit journal): the disk image a power cut
/// would leave right now, without a clean shutdown (the original stays open and is closed only
/// after the copy).
fn crash_image(live: &Path) -> io::Result<TempDir> {
    let image = TempDir::new()?;
    for name in [
        FILE_NAME.to_owned(),
        format!(
            "{}",
            super::journal::journal_path(Path::new(FILE_NAME)).display()
        ),
    ] {
        std::fs::copy(live.join(&name), image.path().join(&name))?;
    }
    Ok(image)
}

#[tokio::test]
async fn acknowledged_writes_survive_a_crash() -> io::Result<()> {
    let dir = TempDir::new()?;
    let mut store = LogStore::<C>::open(dir.path())?;
    let vote = openraft::alias::VoteOf::<C>::new(2, 1);
    let first = append_async(&mut store, (0..5).map(|i| normal(1, i, "a")).collect()).await?;
    let second = append_async(&mut store, (5..9).map(|i| normal(1, i, "b")).collect()).await?;
    store.save_vote(&vote).await?;
    first.await?;
    second.await?;

    // Every write above was acknowledged and the store is idle: the file must hold all of it.
    let image = crash_image(dir.path())?;
    let mut reopened = LogStore::<C>::open(image.path())?;
    assert_eq!(reopened.read_vote().await?, Some(vote));
    let entries = reopened.try_get_log_entries(..).await?;
    assert_eq!(indexes(&entries), (0..9).collect::<Vec<_>>());
    assert_eq!(entries[8], normal(1, 8, "b"));
    reopened.close().await?;
    store.close().await
}

#[tokio::test]
async fn a_failed_commit_is_retried_until_the_disk_takes_it() -> io::Result<()> {
    let dir = TempDir::new()?;
    let health = Arc::new(DiskHealth::default());
    let mut store = LogStore::<C>::open_with(dir.path(), health.clone())?;
    append_flushed(&mut store, vec![blank(1, 0)]).await?;

    store.fail_commits(true);
    let mut held = Box::pin(append_async(&mut store, vec![blank(1, 1)]).await?);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while health.fault().is_none() {
        assert!(std::time::Instant::now() < deadline, "no fault reported");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(health.fault().unwrap().contains("no space left"));
    // Not acknowledged while the disk refuses it, yet readable (it is in the tail).
    assert!(
        tokio::time::timeout(Duration::from_millis(100), &mut held)
            .await
            .is_err()
    );
    assert_eq!(indexes(&store.try_get_log_entries(..).await?), [0, 1]);
    assert_eq!(store.durable_indexes()?, [0]);

    // Space comes back: the same batch commits, and later writes go through.
    store.fail_commits(false);
    held.await?;
    assert_eq!(health.fault(), None);
    append_flushed(&mut store, vec![blank(1, 2)]).await?;
    let vote = openraft::alias::VoteOf::<C>::new(2, 1);
    store.save_vote(&vote).await?;
    assert_eq!(store.durable_indexes()?, [0, 1, 2]);
    store.close().await?;

    let mut store = LogStore::<C>::open(dir.path())?;
    assert_eq!(indexes(&store.try_get_log_entries(..).await?), [0, 1, 2]);
    assert_eq!(store.read_vote().await?, Some(vote));
    store.close().await
}

#[tokio::test]
async fn a_close_gives_up_a_failing_commit_and_fails_what_follows() -> io::Result<()> {
    let dir = TempDir::new()?;
    let mut store = LogStore::<C>::open(dir.path())?;
    append_flushed(&mut store, vec![blank(1, 0)]).await?;
    store.fail_commits(true);
    let lost = append_async(&mut store, vec![blank(1, 1)]).await?;
    // Closing must not wait for the disk; the held write fails instead of being acknowledged.
    let closed = tokio::time::timeout(Duration::from_secs(5), store.close()).await;
    assert!(closed.is_ok(), "close waited for a failing disk");
    assert_eq!(lost.await.unwrap_err().kind(), io::ErrorKind::StorageFull);

    let mut store = LogStore::<C>::open(dir.path())?;
    assert_eq!(indexes(&store.try_get_log_entries(..).await?), [0]);
    store.close().await
}

#[tokio::test]
async fn committed_index_rides_on_the_next_commit() -> io::Result<()> {
    let dir = TempDir::new()?;
    let mut store = LogStore::<C>::open(dir.path())?;
    append_flushed(&mut store, (0..3).map(|i| blank(1, i)).collect()).await?;
    let before = store.commits();
    store.save_committed(Some(log_id(1, 2))).await?;
    assert_eq!(store.read_committed().await?, Some(log_id(1, 2)));
    // No commit of its own: the next durable write carries it.
    append_flushed(&mut store, vec![blank(1, 3)]).await?;
    assert_eq!(store.commits() - before, 1);

    let image = crash_image(dir.path())?;
    let mut reopened = LogStore::<C>::open(image.path())?;
    assert_eq!(reopened.read_committed().await?, Some(log_id(1, 2)));
    reopened.close().await?;
    store.close().await
}

#[tokio::test]
async fn calls_after_close_fail_cleanly() -> io::Result<()> {
    let dir = TempDir::new()?;
    let mut store = LogStore::<C>::open(dir.path())?;
    let mut reader = store.get_log_reader().await;
    store.close().await?;
    let err = reader.read_vote().await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    // The file is closed even though a reader is alive.
    drop(LogStore::<C>::open(dir.path())?);
    Ok(())
}

#[test]
fn second_open_of_same_dir_is_refused() -> io::Result<()> {
    let dir = TempDir::new()?;
    let _first = LogStore::<C>::open(dir.path())?;
    let Err(err) = LogStore::<C>::open(dir.path()) else {
        panic!("second open must fail");
    };
    assert_eq!(err.kind(), io::ErrorKind::ResourceBusy, "{err}");
    Ok(())
}
