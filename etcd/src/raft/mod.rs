//! Consensus and durability: openraft wired to a redb log and the v2 store.
//!
//! Nothing outside this module names an openraft type: the rest of the daemon sees
//! [`node::RaftNode`] and our own error and status types.

pub mod force_new;
pub mod forward;
pub mod log_store;
pub mod membership;
pub mod network;
pub mod node;
mod panic_hook;
mod races;
pub mod rpc;
pub mod snapshot_file;
mod snapshot_format;
pub mod snapshot_write;
pub mod state_machine;
pub mod types;
