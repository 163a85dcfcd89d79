//! Where applied events go: the 1000-event history and the watcher hub, behind one lock of
//! their own so that registering a watch never waits for the store's write lock.
//!
//! A watch looks in history and then, if nothing there answers it, registers live. An event is
//! pushed to history and sent to live watchers. Both happen under this one mutex, so an event is
//! either in history when a watch looks or delivered to it live, never neither and never both
//! (etcd: `store.Watch` holds `worldLock` for the same reason). The store's own index is
//! mirrored here, updated in the same critical section, because a watch's start and its
//! `X-Etcd-Index` must agree with the history it scanned.
//!
//! Lock order: the store's owner locks the store first (apply) and then this; nothing holding
//! this mutex ever reaches for the store, so the two cannot deadlock.

use std::sync::{Arc, Mutex, MutexGuard};

use etcd_common::EtcdError;
use tokio::sync::mpsc;

use super::bytes::ByteStr;
use super::event::Event;
use super::history::History;
use super::path;
use super::watch::{WATCHER_BUFFER, Watch, WatcherHub};

/// A handle on the feed; clones share it. [`super::Store::feed`] hands one out so watches can be
/// registered with no store lock at all.
#[derive(Clone, Default)]
pub struct Feed {
    shared: Arc<Mutex<FeedState>>,
}

#[derive(Default)]
struct FeedState {
    history: History,
    hub: WatcherHub,
    /// The store's index as of the last event or index change published here.
    index: u64,
    /// While [`Feed::hold`]'s guard lives: events in history whose live watchers are not woken
    /// yet, in order, each with the paths deleted along with it.
    held: Option<Vec<(Arc<Event>, Vec<ByteStr>)>>,
}

impl FeedState {
    fn wake(&mut self, e: &Arc<Event>, removed: &[ByteStr]) {
        for p in removed {
            self.hub.notify_path(e, p, true);
        }
        if !e.refresh {
            self.hub.notify(e);
        }
    }
}

/// From [`Feed::hold`]: live watchers are woken when this is dropped.
#[must_use = "watchers are woken when the guard is dropped"]
pub struct Held<'a>(&'a Feed);

impl Held<'_> {
    /// Whether dropping this wakes anyone: events are held and some watcher is registered.
    pub fn wakes_anyone(&self) -> bool {
        let st = self.0.lock();
        st.hub.count() > 0 && st.held.as_ref().is_some_and(|h| !h.is_empty())
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let mut st = self.0.lock();
        for (e, removed) in st.held.take().unwrap_or_default() {
            st.wake(&e, &removed);
        }
    }
}

impl Feed {
    /// Nothing done under this lock can panic short of a bug, and history and hub are whole
    /// between calls, so a poisoned lock still guards usable data (as the store's own lock).
    fn lock(&self) -> MutexGuard<'_, FeedState> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Record `e`, after which the store's index is `index`, and wake its watchers: those of
    /// `removed` (descendants deleted along with `e`'s node, etcd's `node.Remove` callback) and
    /// those of the key and its ancestors. A TTL refresh is recorded but wakes nobody.
    pub fn publish(&self, e: &Arc<Event>, removed: &[ByteStr], index: u64) {
        let mut st = self.lock();
        st.history.push(e.clone());
        st.index = index;
        match st.held.as_mut() {
            Some(held) => held.push((e.clone(), removed.to_vec())),
            None => st.wake(e, removed),
        }
    }

    /// Put off waking live watchers until the guard is dropped; events still go to history (and
    /// the index moves) at once. The apply path holds the feed while it answers the writers, so
    /// that a write seen by 10,000 watchers is acknowledged before they are woken, not after.
    ///
    /// Exact because every live watcher filters by index: one registered meanwhile found the
    /// held events in history (and was answered from there, or registered past them), so the
    /// late wake-up neither skips nor repeats an event for anyone.
    pub fn hold(&self) -> Held<'_> {
        self.lock().held.get_or_insert_with(Vec::new);
        Held(self)
    }

    /// Move the index without an event (writes etcd makes outside the user key space).
    pub fn set_index(&self, index: u64) {
        self.lock().index = index;
    }

    /// Replace history and index and drop every watcher: their channels close and their
    /// responses end, so clients re-watch from their last index (snapshot install).
    pub fn reset(&self, history: History, index: u64) {
        let mut st = self.lock();
        st.history = history;
        st.hub.clear();
        if let Some(held) = st.held.as_mut() {
            held.clear();
        }
        st.index = index;
    }

    /// A copy of the history, for a snapshot.
    pub fn history(&self) -> History {
        self.lock().history.clone()
    }

    pub fn watcher_count(&self) -> u64 {
        self.lock().hub.count()
    }

    /// Start watching `key` for events at or after `since` (0: the next one). History answers
    /// at once when it holds a match (etcd: `store.Watch` and `watcherHub.watch`).
    pub fn watch(
        &self,
        key: &[u8],
        recursive: bool,
        stream: bool,
        since: u64,
    ) -> Result<Watch, EtcdError> {
        let key = path::clean(key);
        let mut st = self.lock();
        let current = st.index;
        let since = if since == 0 { current + 1 } else { since };
        let past = st
            .history
            .scan(&key, recursive, since)
            .map_err(|e| EtcdError {
                index: current,
                ..e
            })?;
        if !stream && let Some(first) = past.first().cloned() {
            let (tx, rx) = mpsc::channel(1);
            // Cannot fail: the channel is new and has room for one.
            let _ = tx.try_send(first);
            return Ok(Watch {
                id: 0,
                start_index: current,
                events: rx,
            });
        }
        // A stream replays every matching event from history, then continues live from the
        // next index (etcd sends only the first historical match and then stalls).
        let replay = if stream { past } else { Vec::new() };
        let (tx, rx) = mpsc::channel(WATCHER_BUFFER + replay.len());
        for e in &replay {
            let _ = tx.try_send(e.clone());
        }
        let live_since = if replay.is_empty() {
            since
        } else {
            current + 1
        };
        let id = st.hub.register(key, recursive, stream, live_since, tx);
        Ok(Watch {
            id,
            start_index: current,
            events: rx,
        })
    }

    /// Forget a watcher whose client went away (0: nothing was registered).
    pub fn unwatch(&self, id: u64) {
        if id != 0 {
            self.lock().hub.remove(id);
        }
    }
}
