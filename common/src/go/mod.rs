//! The one home of Go-compatible behaviour shared by the daemon and etcdctl.
//!
//! etcd and its Go client get these details from Go's standard library (`path`, `net/url`,
//! `strconv`, `encoding/json`, `time`); clients compare bytes, so both binaries must reproduce
//! them exactly and identically. Pure functions only: no I/O, no clock (the daemon's `now()`
//! stays in the daemon).

pub mod json;
pub mod os;
pub mod path;
pub mod strconv;
pub mod time;
pub mod url;
