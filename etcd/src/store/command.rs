//! The replicated write: what raft carries and every member applies in log order.
//!
//! Time is part of the command. The member that accepts a request stamps `now` and turns a TTL
//! into an absolute `expire_at`, so applying the same log on any member, at any later moment,
//! yields the same tree (etcd: v2http/client.go `rr.Expiration = clock.Now().Add(ttl)`).

use serde::{Deserialize, Serialize};

use super::auth::AuthOp;
use super::bytes::ByteStr;
use crate::time::UnixNanos;

/// One store mutation, stamped with the proposer's clock. Keys and values are bytes; valid
/// UTF-8 serializes as the plain strings older log entries hold (see [`ByteStr`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// Wall-clock time at proposal; used for TTLs shown in the response and as the expiry cutoff.
    pub now: UnixNanos,
    pub op: Op,
}

/// The store operations, one per etcd v2store write method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// PUT without preconditions (`store.Set`).
    Set {
        path: ByteStr,
        dir: bool,
        value: ByteStr,
        expire_at: Option<UnixNanos>,
        refresh: bool,
    },
    /// PUT `prevExist=false`, or POST (`unique`: an in-order key named by the next index).
    Create {
        path: ByteStr,
        dir: bool,
        value: ByteStr,
        unique: bool,
        expire_at: Option<UnixNanos>,
    },
    /// PUT `prevExist=true` (`store.Update`).
    Update {
        path: ByteStr,
        value: ByteStr,
        expire_at: Option<UnixNanos>,
        refresh: bool,
    },
    /// PUT with `prevValue` and/or `prevIndex`.
    CompareAndSwap {
        path: ByteStr,
        prev_value: ByteStr,
        prev_index: u64,
        value: ByteStr,
        expire_at: Option<UnixNanos>,
        refresh: bool,
    },
    Delete {
        path: ByteStr,
        dir: bool,
        recursive: bool,
    },
    CompareAndDelete {
        path: ByteStr,
        prev_value: ByteStr,
        prev_index: u64,
    },
    /// Remove everything whose deadline is at or before `Command::now` (etcd's SYNC request).
    Expire,
    /// A write of users, roles or the auth flag (etcd's writes under `/2`).
    Auth(AuthOp),
}

impl Op {
    /// The key and index of a compare on `prevIndex` alone (no `prevValue`): the writes whose
    /// failure can be known before the log (`Store::settled_failure`).
    pub fn index_compare(&self) -> Option<(&ByteStr, u64)> {
        match self {
            Op::CompareAndSwap {
                path,
                prev_value,
                prev_index,
                ..
            }
            | Op::CompareAndDelete {
                path,
                prev_value,
                prev_index,
            } if prev_value.is_empty() && *prev_index != 0 => Some((path, *prev_index)),
            _ => None,
        }
    }

    /// How many bytes of keys and values the operation carries (what sizes its log entry).
    pub fn payload_len(&self) -> usize {
        match self {
            Op::Set { path, value, .. }
            | Op::Create { path, value, .. }
            | Op::Update { path, value, .. } => path.len() + value.len(),
            Op::CompareAndSwap {
                path,
                prev_value,
                value,
                ..
            } => path.len() + prev_value.len() + value.len(),
            Op::Delete { path, .. } => path.len(),
            Op::CompareAndDelete {
                path, prev_value, ..
            } => path.len() + prev_value.len(),
            Op::Expire => 0,
            Op::Auth(a) => a.payload_len(),
        }
    }
}

impl std::fmt::Display for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.op {
            Op::Set { path, .. } => write!(f, "set {path}"),
            Op::Create { path, .. } => write!(f, "create {path}"),
            Op::Update { path, .. } => write!(f, "update {path}"),
            Op::CompareAndSwap { path, .. } => write!(f, "compareAndSwap {path}"),
            Op::Delete { path, .. } => write!(f, "delete {path}"),
            Op::CompareAndDelete { path, .. } => write!(f, "compareAndDelete {path}"),
            Op::Expire => write!(f, "expire <= {}", self.now),
            Op::Auth(a) => write!(f, "auth {}", a.key()),
        }
    }
}
