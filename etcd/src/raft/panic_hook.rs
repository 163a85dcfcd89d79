//! A test-only fault: a panic inside raft's state-machine worker, to show what a member does
//! when its raft core dies (it must exit, not linger serving stale reads).

use std::sync::OnceLock;

use crate::store::{Command, Op};

/// With `ETCD_TEST_PANIC_ON_SET=<path>` in the environment (read once; inert when unset),
/// applying a plain set of `<path>` panics.
pub(super) fn check(cmd: &Command) {
    static KEY: OnceLock<Option<Vec<u8>>> = OnceLock::new();
    let key = KEY.get_or_init(|| {
        let k = std::env::var_os("ETCD_TEST_PANIC_ON_SET")?;
        tracing::warn!("test hook: applying a set of {k:?} panics");
        Some(k.into_encoded_bytes())
    });
    if let (Some(k), Op::Set { path, .. }) = (key, &cmd.op)
        && path.as_bytes() == k.as_slice()
    {
        panic!("test hook: applying a set of {}", path.to_lossy());
    }
}
