//! Go's `encoding/json` bytes: the one formatter lives in `etcd_common::go::json`.
pub use etcd_common::go::json::{to_line, to_vec};
