//! Deadline polls: the only way a test waits for something. A fixed sleep guesses how long a
//! condition takes; these poll the condition itself, so they are quick on an idle machine and
//! still pass on a loaded one, and a timeout names what never happened.

use std::time::{Duration, Instant};

/// How long a watcher may take to register or a write to become visible. Generous: on a
/// loaded 2-core machine a debug build can stall for seconds, and a passing poll returns early.
pub const WATCH_LIMIT: Duration = Duration::from_secs(30);

/// How long concurrent writers may take to get a given number of writes acknowledged.
pub const WRITES_LIMIT: Duration = Duration::from_secs(30);

/// Between polls: short enough not to slow tests, long enough not to spin.
const POLL: Duration = Duration::from_millis(20);

/// Poll `cond` until it holds; panic naming `what` if it still does not after `limit`.
pub fn wait_until(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting until {what}"
        );
        std::thread::sleep(POLL);
    }
}

/// Poll `cond` until it holds or `limit` passes; whether it held. For tests that assert
/// afterwards with a richer message than "timed out".
pub fn poll_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if cond() {
            return true;
        }
        if start.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(POLL);
    }
}

/// Poll `f` until it returns `Some`, or panic naming `what` after `limit`.
pub fn wait_for<T>(limit: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_until_names_what_it_waited_for() {
        let e = std::panic::catch_unwind(|| {
            wait_until(Duration::from_millis(50), "pigs fly", || false)
        })
        .expect_err("must time out");
        let msg = e.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(msg.contains("waiting until pigs fly"), "{msg}");
        let mut n = 0;
        wait_until(Duration::from_secs(5), "three polls", || {
            n += 1;
            n == 3
        });
    }
}
