//! Whether this member's disk currently takes writes, and how the storage thread waits for it to
//! come back.
//!
//! etcd exits when a WAL write fails (a full disk included). We keep the member up instead: the
//! storage thread holds on to the failed batch and retries it, reopening the file, until the
//! disk takes it (see `io_thread.rs`). Meanwhile [`DiskHealth`] says why, so that the client API
//! refuses new writes at once with that cause and `/health` reports false, while reads go on
//! being served from memory. Nothing is acknowledged that is not on disk, and nothing accepted
//! is dropped: the batch that failed is the batch that is finally committed.

use std::sync::Mutex;
use std::sync::PoisonError;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::time::Duration;
use std::time::Instant;

/// First wait before retrying a failed commit; doubled after each failure up to [`RETRY_MAX`].
const RETRY_MIN: Duration = Duration::from_millis(20);
/// Longest wait between two attempts: how late a member notices that space came back.
const RETRY_MAX: Duration = Duration::from_millis(500);
/// How often a wait looks at the closing flag, so a shutdown is not held up by a backoff.
const POLL: Duration = Duration::from_millis(10);
/// A fault that lasts is logged again this often, not on every retry.
const REMIND_EVERY: Duration = Duration::from_secs(30);

/// The state of the member's durable storage, shared by the storage threads (writers) and the
/// client API (readers). Cheap to read: one atomic load when healthy.
#[derive(Default)]
pub struct DiskHealth {
    faulty: AtomicBool,
    cause: Mutex<Option<String>>,
}

impl DiskHealth {
    /// Why writes cannot be made durable right now, or `None` when they can.
    pub fn fault(&self) -> Option<String> {
        if !self.faulty.load(Ordering::Acquire) {
            return None;
        }
        self.cause
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Records a failed durable write; the first one of a fault is logged.
    pub fn set_fault(&self, cause: &str) {
        let mut slot = self.cause.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            tracing::error!(
                cause,
                "storage: a durable write failed; refusing writes and retrying until the disk takes it"
            );
        }
        *slot = Some(cause.to_owned());
        self.faulty.store(true, Ordering::Release);
    }

    /// Records that a durable write succeeded; the end of a fault is logged.
    pub fn clear(&self) {
        if !self.faulty.load(Ordering::Acquire) {
            return;
        }
        let mut slot = self.cause.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.take().is_some() {
            tracing::info!("storage: durable writes succeed again; accepting writes");
        }
        self.faulty.store(false, Ordering::Release);
    }
}

/// Exponential backoff between attempts at one failed write, which gives up when `closing` is
/// set (a shutdown must not wait for a disk that may never come back).
pub(crate) struct Retry<'a> {
    next: Duration,
    closing: &'a AtomicBool,
    since: Instant,
    reminded: Instant,
}

impl<'a> Retry<'a> {
    pub(crate) fn new(closing: &'a AtomicBool) -> Self {
        let now = Instant::now();
        Self {
            next: RETRY_MIN,
            closing,
            since: now,
            reminded: now,
        }
    }

    /// Waits before the next attempt; `false` when the store is closing and must give up.
    pub(crate) fn wait(&mut self, what: &str, error: &std::io::Error) -> bool {
        if self.reminded.elapsed() >= REMIND_EVERY {
            self.reminded = Instant::now();
            tracing::warn!(%error, failing_for = ?self.since.elapsed(), "{what}: still failing");
        } else {
            tracing::debug!(%error, "{what}: retrying in {:?}", self.next);
        }
        let until = Instant::now() + self.next;
        self.next = (self.next * 2).min(RETRY_MAX);
        // Bounded: at most RETRY_MAX / POLL turns.
        while Instant::now() < until {
            if self.closing.load(Ordering::Acquire) {
                return false;
            }
            std::thread::sleep(POLL.min(until.saturating_duration_since(Instant::now())));
        }
        !self.closing.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_is_set_and_cleared() {
        let h = DiskHealth::default();
        assert_eq!(h.fault(), None);
        h.set_fault("no space left on device");
        assert_eq!(h.fault().as_deref(), Some("no space left on device"));
        h.clear();
        assert_eq!(h.fault(), None);
    }

    #[test]
    fn retry_gives_up_once_closing() {
        let closing = AtomicBool::new(false);
        let mut retry = Retry::new(&closing);
        let e = std::io::Error::other("x");
        assert!(retry.wait("test", &e));
        closing.store(true, Ordering::Release);
        assert!(!retry.wait("test", &e));
    }
}
