//! Store behaviour, operation by operation, as etcd's v2store does it: shared helpers here,
//! one file per concern below.

mod snapshot;
mod ttl;
mod watch;
mod writes;

use std::sync::Arc;

use etcd_common::{Action, ErrorCode, EtcdError};

use super::{Command, Event, MAX_DEPTH, Op, Store, WATCHER_BUFFER};
use crate::time::UnixNanos;

const T0: UnixNanos = 1_800_000_000_000_000_000;
const SEC: UnixNanos = 1_000_000_000;

fn cmd(op: Op) -> Command {
    Command { now: T0, op }
}

fn set(s: &mut Store, k: &str, v: &str) -> Result<Arc<Event>, EtcdError> {
    s.apply(cmd(Op::Set {
        path: k.into(),
        dir: false,
        value: v.into(),
        expire_at: None,
        refresh: false,
    }))
    .map(|e| e.expect("event"))
}

fn op(s: &mut Store, o: Op) -> Result<Arc<Event>, EtcdError> {
    s.apply(cmd(o)).map(|e| e.expect("event"))
}

fn json(e: &Event) -> String {
    serde_json::to_string(&e.to_response()).unwrap()
}

fn err(code: ErrorCode, cause: &str, index: u64) -> EtcdError {
    EtcdError::new(code, cause, index)
}
