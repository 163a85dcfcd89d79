//! The watcher hub: long-poll and stream watchers, woken by applied events. It lives inside
//! [`super::feed::Feed`], whose lock it shares with the history.
//!
//! etcd: watcher_hub.go and watcher.go. Sending never blocks: each watcher has a bounded
//! channel (100, as etcd) and a watcher that cannot keep up is dropped, which ends its HTTP
//! response; the apply path never waits for a client.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::bytes::ByteStr;
use super::event::Event;
use super::path;

pub const WATCHER_BUFFER: usize = 100;

/// A registered watch as the HTTP layer holds it.
pub struct Watch {
    /// 0 when nothing was registered (the answer came from history).
    pub id: u64,
    /// X-Etcd-Index for the response: the store index when the watch started.
    pub start_index: u64,
    pub events: mpsc::Receiver<Arc<Event>>,
}

struct Watcher {
    id: u64,
    recursive: bool,
    stream: bool,
    since_index: u64,
    tx: mpsc::Sender<Arc<Event>>,
}

#[derive(Default)]
pub struct WatcherHub {
    by_path: HashMap<ByteStr, Vec<Watcher>>,
    path_of: HashMap<u64, ByteStr>,
    next_id: u64,
}

impl WatcherHub {
    pub fn count(&self) -> u64 {
        self.path_of.len() as u64
    }

    pub fn register(
        &mut self,
        key: ByteStr,
        recursive: bool,
        stream: bool,
        since_index: u64,
        tx: mpsc::Sender<Arc<Event>>,
    ) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.path_of.insert(id, key.clone());
        self.by_path.entry(key).or_default().push(Watcher {
            id,
            recursive,
            stream,
            since_index,
            tx,
        });
        id
    }

    pub fn remove(&mut self, id: u64) {
        if let Some(p) = self.path_of.remove(&id)
            && let Some(list) = self.by_path.get_mut(&p)
        {
            list.retain(|w| w.id != id);
            if list.is_empty() {
                self.by_path.remove(&p);
            }
        }
    }

    /// Drop every watcher: their channels close and their responses end (snapshot install).
    pub fn clear(&mut self) {
        self.by_path.clear();
        self.path_of.clear();
    }

    /// Wake the watchers of `e.node.key` and of every ancestor (etcd: `watcherHub.notify`).
    pub fn notify(&mut self, e: &Arc<Event>) {
        self.notify_path(e, b"/", false);
        let key = e.node.key.clone();
        let mut curr = ByteStr::from("/");
        for seg in path::segments(&key) {
            curr = path::join(&curr, seg);
            self.notify_path(e, &curr, false);
        }
    }

    /// Wake the watchers registered exactly at `node_path` (etcd: `notifyWatchers`). `deleted`
    /// forces delivery to watchers of keys removed along with a deleted directory.
    pub fn notify_path(&mut self, e: &Arc<Event>, node_path: &[u8], deleted: bool) {
        let Some(list) = self.by_path.get_mut(node_path) else {
            return;
        };
        let original = *e.node.key == *node_path;
        if !original && path::is_hidden_from(node_path, &e.node.key) {
            return;
        }
        let mut removed = Vec::new();
        list.retain(|w| {
            let interested = (w.recursive || original || deleted) && e.index() >= w.since_index;
            if !interested {
                return true;
            }
            let delivered = w.tx.try_send(e.clone()).is_ok();
            let keep = delivered && w.stream;
            if !keep {
                removed.push(w.id);
            }
            keep
        });
        if list.is_empty() {
            self.by_path.remove(node_path);
        }
        for id in removed {
            self.path_of.remove(&id);
        }
    }
}
