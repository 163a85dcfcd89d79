//! Wall-clock helpers at the edge of the system.
//!
//! The store never reads a clock; callers stamp commands with [`now`] and the store works on the
//! numbers. The Go formats (`RFC3339Nano`, `Duration.String()`) live in `etcd_common::go::time`,
//! shared with etcdctl; they are re-exported here so existing paths keep working.

pub use etcd_common::go::time::{NANOS_PER_SECOND, UnixNanos, rfc3339_nano};

/// Go's `Duration.String()` (kept under the name the daemon's callers use).
pub use etcd_common::go::time::duration_string as go_duration;

/// The current wall-clock time. Only the HTTP layer, the expiry ticker and stats call this.
pub fn now() -> UnixNanos {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}
