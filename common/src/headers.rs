//! Response header names etcd v2 sets on key-space responses.

pub const ETCD_INDEX: &str = "X-Etcd-Index";
pub const RAFT_INDEX: &str = "X-Raft-Index";
pub const RAFT_TERM: &str = "X-Raft-Term";
pub const CLUSTER_ID: &str = "X-Etcd-Cluster-Id";
