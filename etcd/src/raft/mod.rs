//! Consensus and durability: openraft wired to a redb log and the v2 store.
//!
//! Nothing outside this module and `cluster.rs` names an openraft type.

pub mod log_store;
pub mod membership;
pub mod network;
pub mod peer_service;
pub mod rpc;
pub mod state_machine;
pub mod types;
