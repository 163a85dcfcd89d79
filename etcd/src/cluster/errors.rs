//! The one place raft's failures become etcd's errors (etcd: etcdserver/errors.go and
//! v2http's `writeKeyError`): clients see etcd's codes and messages, never raft's own text.

use etcd_common::{ErrorCode, EtcdError};

use crate::raft::forward::ForwardError;
use crate::raft::node::WriteError;

fn internal(cause: &str) -> EtcdError {
    EtcdError::new(ErrorCode::RaftInternal, cause, 0)
}

/// etcd's `ErrTimeout`.
pub fn timed_out() -> EtcdError {
    internal("etcdserver: request timed out")
}

/// etcd's `ErrTimeoutDueToLeaderFail`: the leader went away with the request in flight.
pub fn leader_failed() -> EtcdError {
    internal("etcdserver: request timed out, possibly due to previous leader failure")
}

/// etcd's `ErrLeaderChanged`.
pub fn leader_changed() -> EtcdError {
    internal("etcdserver: leader changed")
}

/// etcd's `ErrStopped`.
pub fn stopped() -> EtcdError {
    internal("etcdserver: server stopped")
}

/// This member's disk refuses durable writes (etcd would exit on the failed WAL write; we
/// refuse writes with the cause and keep serving reads until the disk takes writes again).
pub fn disk_failed(cause: &str) -> EtcdError {
    internal(&format!("etcdserver: {cause}"))
}

/// An applied entry that answered nobody (etcd: "received response with no Event/Watcher").
pub fn no_event() -> EtcdError {
    internal("received response with no Event/Watcher")
}

/// A write that failed for good (the caller retries what can be retried first).
pub fn write_failed(e: &WriteError) -> EtcdError {
    match e {
        // Only reached when no leader emerged before the deadline.
        WriteError::NotLeader(_) => timed_out(),
        WriteError::Discarded => leader_changed(),
        WriteError::Fatal(m) => {
            tracing::error!("raft stopped: {m}");
            stopped()
        }
    }
}

/// A forwarded write that failed for good.
pub fn forward_failed(e: &ForwardError) -> EtcdError {
    match e {
        ForwardError::NotSent(_) => timed_out(),
        ForwardError::NoAnswer(_) => leader_failed(),
        ForwardError::Write(w) => write_failed(w),
        ForwardError::Read(_) => timed_out(),
    }
}
