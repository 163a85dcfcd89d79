//! The etcd v2 daemon as a library: the binary in `main.rs` only parses flags and calls
//! [`boot::serve::run`]; tests start members in-process with [`boot::serve::serve`], and fuzz
//! targets reach the store and the request parser directly.
//!
//! Layout (see ../shared/design.md):
//! - [`store`]: the pure v2 state machine (tree, TTLs, history, watchers, counters);
//! - [`raft`]: openraft glue — type config, redb log store, state machine, peer network;
//! - [`cluster`]: the one handle the HTTP face talks to (propose, read, watch, members);
//! - [`http`]: the client and peer HTTP faces (axum);
//! - [`boot`]: start-up — [`boot::flags`] is the one flag table (parser, `--help`, man page),
//!   identity, discovery, and the wiring that serves until shutdown;
//! - [`backup`]: `etcdctl backup`, an offline copy of a data dir under new ids.
#![deny(unsafe_code)]

pub mod backup;
pub mod boot;
pub mod cluster;
pub mod http;
pub mod raft;
pub mod store;
pub mod time;
