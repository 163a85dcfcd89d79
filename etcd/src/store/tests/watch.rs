//! Watches: history replay, 401 when cleared, hidden keys, slow watchers.

use super::*;

#[test]
fn watch_history_replay_and_cleared_index() {
    let mut s = Store::new();
    set(&mut s, "/foo", "a").unwrap();
    set(&mut s, "/other", "b").unwrap();
    set(&mut s, "/foo", "c").unwrap();
    let mut w = s.watch("/foo", false, false, 2).unwrap();
    assert_eq!(w.events.try_recv().unwrap().index(), 3);
    assert_eq!(w.id, 0);
    for i in 0..1000 {
        set(&mut s, "/other", &i.to_string()).unwrap();
    }
    let e = s.watch("/foo", false, false, 3).err().unwrap();
    assert_eq!(
        e,
        err(
            ErrorCode::EventIndexCleared,
            "the requested history has been cleared [4/3]",
            1003
        )
    );
    assert!(s.watch("/foo", false, false, 4).is_ok());
}

#[test]
fn recursive_watch_skips_hidden_and_removed_watchers_are_counted() {
    let mut s = Store::new();
    let mut rec = s.watch("/", true, false, 0).unwrap();
    let mut exact = s.watch("/a/b", false, true, 0).unwrap();
    assert_eq!(s.stats().watchers, 2);
    set(&mut s, "/_h", "x").unwrap();
    assert!(rec.events.try_recv().is_err());
    set(&mut s, "/a/b", "1").unwrap();
    assert_eq!(rec.events.try_recv().unwrap().node.key, "/a/b");
    assert_eq!(exact.events.try_recv().unwrap().index(), 2);
    // The recursive one-shot watcher is gone; the stream stays.
    assert_eq!(s.stats().watchers, 1);
    set(&mut s, "/a/b", "2").unwrap();
    assert_eq!(exact.events.try_recv().unwrap().index(), 3);
    // Deleting the parent directory reaches the watcher of the key below, once.
    op(
        &mut s,
        Op::Delete {
            path: "/a".into(),
            dir: true,
            recursive: true,
        },
    )
    .unwrap();
    assert_eq!(exact.events.try_recv().unwrap().node.key, "/a");
    assert!(exact.events.try_recv().is_err());
    s.unwatch(exact.id);
    assert_eq!(s.stats().watchers, 0);
}

#[test]
fn slow_watcher_is_dropped_instead_of_blocking() {
    let mut s = Store::new();
    let mut w = s.watch("/k", false, true, 0).unwrap();
    for i in 0..(WATCHER_BUFFER + 5) {
        set(&mut s, "/k", &i.to_string()).unwrap();
    }
    assert_eq!(s.stats().watchers, 0);
    let mut n = 0;
    while w.events.try_recv().is_ok() {
        n += 1;
    }
    assert_eq!(n, WATCHER_BUFFER);
}

/// Expected indexes for a watch on a key written once per index up to `last`.
fn expected(since: u64, start_index: u64, stream: bool, last: u64) -> Vec<u64> {
    let first = if since == 0 { start_index + 1 } else { since };
    let all: Vec<u64> = (first..=last).collect();
    if stream {
        all
    } else {
        all.into_iter().take(1).collect()
    }
}

/// A watch registered (through the feed, with no store lock) while another thread applies
/// writes sees every event from its start exactly once, in order: nothing falls between
/// "looked in history" and "registered live", and nothing is both replayed and sent live.
#[test]
fn watch_registered_during_applies_sees_every_later_event_once() {
    watches_during_applies_see_every_later_event_once(1);
}

/// The same with the writer holding live wake-ups back for batches of 7 writes, as the apply
/// path does while it answers a batch's writers: history has the events before the watchers
/// are woken, and still nobody misses or repeats one.
#[test]
fn watch_registered_while_wake_ups_are_held_sees_every_later_event_once() {
    watches_during_applies_see_every_later_event_once(7);
}

fn watches_during_applies_see_every_later_event_once(held_batch: u64) {
    // Fewer writes than a watcher's buffer, so no watcher is dropped as slow.
    const WRITES: u64 = 60;
    for round in 0..20u64 {
        let mut s = Store::new();
        let feed = s.feed();
        let writer = std::thread::spawn(move || {
            let feed = s.feed();
            for batch in 0..WRITES.div_ceil(held_batch) {
                let _held = (held_batch > 1).then(|| feed.hold());
                for i in batch * held_batch..((batch + 1) * held_batch).min(WRITES) {
                    set(&mut s, "/k", &i.to_string()).unwrap();
                }
                std::thread::yield_now();
            }
            s
        });
        let mut watches = Vec::new();
        for n in 0..400u64 {
            // Alternate "from now" with a waitIndex that may be past, present or future.
            let since = if n % 2 == 0 {
                0
            } else {
                (n + round) % WRITES + 1
            };
            let stream = n % 4 < 2;
            let w = feed.watch(b"/k", false, stream, since).unwrap();
            watches.push((since, stream, w));
            if writer.is_finished() {
                break;
            }
            std::thread::yield_now();
        }
        let s = writer.join().unwrap();
        assert_eq!(s.index(), WRITES);
        for (since, stream, mut w) in watches {
            let mut got = Vec::new();
            while let Ok(e) = w.events.try_recv() {
                got.push(e.index());
            }
            let want = expected(since, w.start_index, stream, WRITES);
            assert_eq!(
                got, want,
                "since {since} stream {stream} at {}",
                w.start_index
            );
        }
    }
}

/// Watching takes `&self`: it works through a read lock while others read too.
#[test]
fn watch_and_unwatch_need_only_a_shared_borrow() {
    let lock = std::sync::RwLock::new(Store::new());
    let (a, b) = (lock.read().unwrap(), lock.read().unwrap());
    let w = a.watch("/k", false, true, 0).unwrap();
    assert_eq!(b.stats().watchers, 1);
    b.unwatch(w.id);
    assert_eq!(a.stats().watchers, 0);
}

/// Watchers registered through a feed handle are dropped by a restore, and the handle keeps
/// working with the restored history and index.
#[test]
fn restore_drops_feed_watchers_and_the_handle_stays_valid() {
    let mut s = Store::new();
    set(&mut s, "/k", "1").unwrap();
    let snap = s.to_snapshot().unwrap();
    set(&mut s, "/k", "2").unwrap();
    let feed = s.feed();
    let mut w = feed.watch(b"/k", false, true, 0).unwrap();
    assert_eq!(w.start_index, 2);
    s.restore(&snap).unwrap();
    assert!(matches!(
        w.events.try_recv(),
        Err(tokio::sync::mpsc::error::TryRecvError::Disconnected)
    ));
    let mut again = feed.watch(b"/k", false, false, 1).unwrap();
    assert_eq!((again.id, again.start_index), (0, 1));
    assert_eq!(again.events.try_recv().unwrap().index(), 1);
    set(&mut s, "/k", "3").unwrap();
    let mut live = feed.watch(b"/k", false, false, 2).unwrap();
    assert_eq!(live.events.try_recv().unwrap().index(), 2);
}

/// Keys with multi-byte characters: hidden children stay hidden from a recursive watch, and
/// deleting a directory reaches the watchers of keys below it.
#[test]
fn multi_byte_keys_watch_hidden_and_deleted_below() {
    let mut s = Store::new();
    let mut rec = s.watch("/é", true, true, 0).unwrap();
    set(&mut s, "/é/_ü", "hidden").unwrap();
    set(&mut s, "/éb", "not below").unwrap();
    set(&mut s, "/é/ü", "seen").unwrap();
    assert_eq!(rec.events.try_recv().unwrap().node.key, "/é/ü");
    assert!(rec.events.try_recv().is_err());
    set(&mut s, "/日本/語", "below").unwrap();
    let mut below = s.watch("/日本/語", false, false, 0).unwrap();
    let delete = Op::Delete {
        path: "/日本".into(),
        dir: true,
        recursive: true,
    };
    op(&mut s, delete).unwrap();
    assert_eq!(below.events.try_recv().unwrap().node.key, "/日本");
}

/// While the feed is held, a write is in history (a watch from its index is answered at once)
/// but watchers already waiting are woken only when the guard drops, each once.
#[test]
fn held_wake_ups_reach_waiting_watchers_when_released() {
    let mut s = Store::new();
    let feed = s.feed();
    let mut waiting = s.watch("/k", false, false, 0).unwrap();
    let mut streaming = s.watch("/", true, true, 0).unwrap();
    let held = feed.hold();
    set(&mut s, "/k", "a").unwrap();
    set(&mut s, "/k", "b").unwrap();
    assert!(waiting.events.try_recv().is_err());
    assert!(streaming.events.try_recv().is_err());
    let mut from_history = s.watch("/k", false, false, 2).unwrap();
    assert_eq!(from_history.events.try_recv().unwrap().index(), 2);
    let mut after = s.watch("/k", false, true, 0).unwrap();
    assert_eq!(after.start_index, 2);
    drop(held);
    assert_eq!(waiting.events.try_recv().unwrap().index(), 1);
    let got: Vec<u64> = std::iter::from_fn(|| streaming.events.try_recv().ok())
        .map(|e| e.index())
        .collect();
    assert_eq!(got, [1, 2]);
    assert!(
        after.events.try_recv().is_err(),
        "a watch from now saw the past"
    );
    set(&mut s, "/k", "c").unwrap();
    assert_eq!(after.events.try_recv().unwrap().index(), 3);
}
