//! The wire contract between the `etcd` daemon and `etcdctl`.
//!
//! Everything here is plain serde data shaped exactly like etcd v2's JSON: field names, field
//! order and omissions match real etcd byte for byte, because clients written against etcd parse
//! these bodies. No I/O, no async, no knowledge of raft or HTTP frameworks.
//!
//! [`go`] holds the Go-compatibility helpers (path cleaning, URL escaping, `ParseBool`, Go's
//! JSON escaping, RFC 3339 times and durations) that both binaries must apply identically.
#![deny(unsafe_code)]

pub mod error;
pub mod go;
pub mod headers;
pub mod node;
pub mod stats;

pub use error::{ErrorBody, ErrorCode, EtcdError};
pub use node::{Action, Node, Response};
pub use stats::{LeaderStats, Member, MemberList, SelfStats, StoreStats, Version};
