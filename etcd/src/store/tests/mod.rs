//! Store behaviour, operation by operation, as etcd's v2store does it: shared helpers here,
//! one file per concern below.

mod bytes;
mod lost_race;
mod snapshot;
mod ttl;
mod watch;
mod writes;

use std::sync::Arc;

use etcd_common::{Action, ErrorCode, EtcdError};

use super::{Command, Event, MAX_DEPTH, Node, Op, Store, WATCHER_BUFFER};
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

fn mkdir(s: &mut Store, k: &str) {
    op(
        s,
        Op::Set {
            path: k.into(),
            dir: true,
            value: "".into(),
            expire_at: None,
            refresh: false,
        },
    )
    .expect("mkdir");
}

fn op(s: &mut Store, o: Op) -> Result<Arc<Event>, EtcdError> {
    s.apply(cmd(o)).map(|e| e.expect("event"))
}

/// The response body of an event, as `etcd_common::Response` serialises it.
fn json(e: &Event) -> String {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Body<'a> {
        action: Action,
        node: &'a Node,
        #[serde(skip_serializing_if = "Option::is_none")]
        prev_node: Option<&'a Node>,
    }
    let body = Body {
        action: e.action,
        node: &e.node,
        prev_node: e.prev_node.as_ref(),
    };
    serde_json::to_string(&body).unwrap()
}

fn err(code: ErrorCode, cause: &str, index: u64) -> EtcdError {
    EtcdError::new(code, cause, index)
}
