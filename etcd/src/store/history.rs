//! The ring of the last 1000 events, answering `waitIndex` (etcd: event_history.go).

use std::collections::VecDeque;
use std::sync::Arc;

use etcd_common::{Action, ErrorCode, EtcdError};
use serde::{Deserialize, Serialize};

use super::event::Event;

pub const HISTORY_CAPACITY: usize = 1000;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct History {
    events: VecDeque<Arc<Event>>,
    /// Index of the oldest event still held once the ring has dropped any; 0 before that, so a
    /// `waitIndex` older than the first event ever is not "cleared" (as in etcd).
    start_index: u64,
}

impl History {
    pub fn push(&mut self, e: Arc<Event>) {
        if self.events.len() == HISTORY_CAPACITY {
            self.events.pop_front();
            self.start_index = self.events.front().map_or(0, |f| f.index());
        }
        self.events.push_back(e);
    }

    /// The first event at or after `index` that concerns `key` (etcd: `EventHistory.scan`).
    /// `Err` carries the 401 cause; its index is filled in by the caller.
    pub fn scan(
        &self,
        key: &[u8],
        recursive: bool,
        index: u64,
    ) -> Result<Vec<Arc<Event>>, EtcdError> {
        if index < self.start_index {
            return Err(EtcdError::new(
                ErrorCode::EventIndexCleared,
                format!(
                    "the requested history has been cleared [{}/{}]",
                    self.start_index, index
                ),
                0,
            ));
        }
        let first = self.events.partition_point(|e| e.index() < index);
        let mut prefix = key.to_vec();
        if !key.ends_with(b"/") {
            prefix.push(b'/');
        }
        Ok(self
            .events
            .range(first..)
            .filter(|e| !e.refresh && Self::concerns(e, key, recursive, &prefix))
            .cloned()
            .collect())
    }

    fn concerns(e: &Event, key: &[u8], recursive: bool, prefix: &[u8]) -> bool {
        if *e.node.key == *key || (recursive && e.node.key.starts_with(prefix)) {
            return true;
        }
        // A deleted or expired directory concerns every key below it.
        matches!(e.action, Action::Delete | Action::Expire)
            && e.prev_node
                .as_ref()
                .is_some_and(|p| p.dir && key.starts_with(&p.key))
    }
}
