//! `watch` and `exec-watch`: long-poll watches that survive member restarts.
//!
//! etcd: ctlv2/command/{watch,exec_watch}_command.go and client/keys.go httpWatcher. Each event is
//! one `GET …?wait=true&waitIndex=N` long-poll with no total timeout, the body read as a stream
//! up to the event's newline; the next poll asks for `modifiedIndex + 1`, so nothing is missed or
//! repeated. Unlike real etcdctl, `watch --forever` and `exec-watch` keep going when every member
//! is unreachable (they retry with backoff from the last index seen). When the server answers
//! 401 (the events after the last one seen fell out of its 1000-event history) they say so on
//! stderr, deliver the current state of what is watched as `get` events (see [`resync`]), and go
//! on from the GET's X-Etcd-Index; a plain `watch` keeps etcdctl's exit 4.
//! SIGINT ends them with status 0 as etcdctl does; SIGTERM with 143.

use std::collections::VecDeque;
use std::future::Future;
use std::time::Duration;

use etcd_common::{Action, ErrorBody, ErrorCode, Node, Response};
use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::cli::{ExecWatchArgs, WatchArgs, parse_go_int};
use crate::client::{self, Client, ClientError, KeyResponse};
use crate::output::{self, EXIT_BAD_ARGS, EXIT_SERVER_ERROR, Exit};

use super::{Ctx, connect, require_key};

const BACKOFF_START: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_secs(1);

/// A sequence of watch events on one key.
struct Watcher<'a> {
    client: &'a mut Client,
    key: String,
    recursive: bool,
    /// The waitIndex of the next poll (0 = "from now").
    next: u64,
    /// Retry through outages and resynchronise after 401 instead of failing.
    resilient: bool,
    /// Events already read but not yet returned (the current state after a 401).
    pending: VecDeque<KeyResponse>,
}

impl Watcher<'_> {
    /// etcd: httpWatcher.Next, plus reconnection when `resilient`.
    async fn next_event(&mut self) -> Result<KeyResponse, Exit> {
        if let Some(ev) = self.pending.pop_front() {
            return Ok(ev);
        }
        let mut backoff = BACKOFF_START;
        let mut spinner = Some(output::Spinner::start(&format!(
            "watching {} for changes…",
            self.key
        )));
        loop {
            let action = client::wait_action(&self.key, self.next, self.recursive);
            let result = match self.client.send(None, &action, false).await {
                Ok(resp) => client::parse_key_response(&resp),
                Err(e) => Err(e),
            };
            let err = match result {
                Ok(ev) => {
                    if let Some(n) = &ev.body.node {
                        self.next = n.modified_index + 1;
                    }
                    return Ok(ev);
                }
                Err(ClientError::EmptyBody) => {
                    // The server ended the poll without an event: poll again from where we were.
                    self.pin_start_index();
                    continue;
                }
                Err(e) => e,
            };
            if !self.resilient {
                return Err(output::fail_client(EXIT_SERVER_ERROR, &err));
            }
            match &err {
                ClientError::Etcd(b) if b.error_code == ErrorCode::EventIndexCleared.code() => {
                    self.resync(b).await;
                    match self.pending.pop_front() {
                        Some(ev) => return Ok(ev),
                        None => continue,
                    }
                }
                ClientError::Etcd(b)
                    if b.error_code != ErrorCode::WatcherCleared.code()
                        && b.error_code != ErrorCode::RaftInternal.code()
                        && b.error_code != ErrorCode::LeaderElect.code() =>
                {
                    return Err(output::fail_client(EXIT_SERVER_ERROR, &err));
                }
                _ => {}
            }
            self.pin_start_index();
            if spinner.is_none() {
                spinner = Some(output::Spinner::start("reconnecting to the cluster…"));
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }

    /// A "from now" watch that has to be re-issued continues from the index the server reported
    /// when it started, so events written while we were away are not skipped.
    fn pin_start_index(&mut self) {
        if self.next == 0
            && let Some(i) = self.client.take_wait_index()
        {
            self.next = i + 1;
        }
    }

    /// After 401: say which events were lost, queue the current state of what is watched (the
    /// nodes modified since the last event seen, oldest first) and continue after the GET.
    async fn resync(&mut self, cleared: &ErrorBody) {
        output::err(&format!(
            "watch: events {}..{} were cleared from the server's history; resuming from the current state\n",
            self.next,
            lost_until(cleared, self.next)
        ));
        let since = self.next;
        let mut backoff = BACKOFF_START;
        loop {
            let action = client::get_action(&self.key, self.recursive, false, false);
            let answer = match self.client.send(None, &action, false).await {
                Ok(resp) => client::parse_key_response(&resp),
                Err(e) => Err(e),
            };
            match answer {
                Ok(mut r) => {
                    self.next = r.etcd_index + 1;
                    let nodes = changed_since(r.body.node.take(), since, self.recursive);
                    self.pending
                        .extend(nodes.into_iter().map(|node| KeyResponse {
                            body: Response {
                                action: Action::Get,
                                node: Some(node),
                                prev_node: None,
                            },
                            ..r.clone()
                        }));
                    return;
                }
                // The key is gone: nothing to deliver; go on after the index of the answer.
                Err(ClientError::Etcd(b)) if b.error_code == ErrorCode::KeyNotFound.code() => {
                    self.next = b.index + 1;
                    return;
                }
                Err(_) => {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
    }
}

/// The last lost index named by a 401's cause (`the requested history has been cleared
/// [oldest/requested]`): every event before the oldest one kept.
fn lost_until(cleared: &ErrorBody, requested: u64) -> u64 {
    let oldest = cleared
        .cause
        .rsplit_once('[')
        .and_then(|(_, r)| r.split_once('/'))
        .and_then(|(n, _)| n.parse::<u64>().ok());
    match oldest {
        Some(o) if o > requested => o - 1,
        _ => cleared.index.max(requested),
    }
}

/// The nodes of `root` (and, for a recursive watch, below it) modified at or after `since`, each
/// without its children, in modifiedIndex order: what a watcher that saw everything before
/// `since` has not seen of the current state.
fn changed_since(root: Option<Node>, since: u64, recursive: bool) -> Vec<Node> {
    let mut out = Vec::new();
    let mut stack: Vec<Node> = root.into_iter().collect();
    while let Some(mut n) = stack.pop() {
        let children = n.nodes.take();
        if recursive {
            stack.extend(children.into_iter().flatten());
        }
        if n.modified_index >= since {
            out.push(n);
        }
    }
    out.sort_by_key(|n| n.modified_index);
    out
}

async fn recv(s: &mut Option<Signal>) {
    match s {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}

/// Run `f` until it ends or SIGINT (status 0, as etcdctl) / SIGTERM (143) arrives.
async fn until_signalled(f: impl Future<Output = Result<(), Exit>>) -> Result<(), Exit> {
    let mut int = signal(SignalKind::interrupt()).ok();
    let mut term = signal(SignalKind::terminate()).ok();
    tokio::select! {
        r = f => r,
        _ = recv(&mut int) => Err(Exit(0)),
        _ = recv(&mut term) => Err(Exit(143)),
    }
}

/// etcd's `--after-index N` means waitIndex N+1 (Go's uint64 arithmetic).
fn first_wait_index(after: i64) -> u64 {
    let a = after as u64;
    if a > 0 { a.wrapping_add(1) } else { 0 }
}

pub async fn watch(ctx: &Ctx, a: &WatchArgs) -> Result<(), Exit> {
    until_signalled(async {
        let mut c = connect(ctx).await?;
        let key = require_key(&a.keys.args)?.to_string();
        let mut w = Watcher {
            client: &mut c,
            key,
            recursive: a.recursive,
            next: first_wait_index(a.after_index),
            resilient: a.forever,
            pending: VecDeque::new(),
        };
        loop {
            let ev = w.next_event().await?;
            let node = ev.body.node.clone().unwrap_or_default();
            if node.dir {
                continue;
            }
            if a.recursive {
                output::out(&format!("[{}] {}\n", ev.body.action, node.key));
            }
            ctx.format.print(&ev);
            if !a.forever {
                return Ok(());
            }
        }
    })
    .await
}

/// The documented form: `exec-watch [options] <key> [--] <command> [args...]`. Options may also
/// sit between the key and a `--` (as urfave/cli reorders them).
struct ExecSpec {
    key: String,
    command: Vec<String>,
    recursive: bool,
    after_index: i64,
}

fn parse_exec_args(a: &ExecWatchArgs) -> Result<ExecSpec, Exit> {
    let mut args: Vec<String> = a.args.clone();
    if args.first().is_some_and(|s| s == "--") {
        args.remove(0);
    }
    let usage = || output::fail(EXIT_BAD_ARGS, &"key and command to exec required");
    if args.len() < 2 {
        return Err(usage());
    }
    let key = args.remove(0);
    let mut spec = ExecSpec {
        key,
        command: Vec::new(),
        recursive: a.recursive,
        after_index: a.after_index,
    };
    let sep = args.iter().position(|s| s == "--");
    match sep.and_then(|p| parse_exec_opts(&args[..p]).map(|o| (p, o))) {
        Some((p, (recursive, after))) => {
            spec.recursive |= recursive;
            if let Some(a) = after {
                spec.after_index = a;
            }
            spec.command = args[p + 1..].to_vec();
        }
        None => spec.command = args,
    }
    if spec.command.is_empty() {
        return Err(usage());
    }
    Ok(spec)
}

/// Flags between the key and `--` (`-r`, `--after-index N`); None if anything else is there.
fn parse_exec_opts(opts: &[String]) -> Option<(bool, Option<i64>)> {
    let mut recursive = false;
    let mut after = None;
    let mut it = opts.iter();
    while let Some(o) = it.next() {
        let name = o.strip_prefix('-')?;
        let name = name.strip_prefix('-').unwrap_or(name);
        let (name, inline) = match name.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (name, None),
        };
        match name {
            "r" | "recursive" => recursive = true,
            "after-index" => {
                let v = inline.or_else(|| it.next().cloned())?;
                after = Some(parse_go_int(&v).ok()?);
            }
            _ => return None,
        }
    }
    Some((recursive, after))
}

/// Go's os/exec start error text.
fn spawn_error(prog: &str, e: &std::io::Error) -> String {
    let reason = match e.kind() {
        std::io::ErrorKind::NotFound if !prog.contains('/') => {
            return format!("exec: {prog:?}: executable file not found in $PATH");
        }
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    };
    format!("fork/exec {prog}: {reason}")
}

pub async fn exec_watch(ctx: &Ctx, a: &ExecWatchArgs) -> Result<(), Exit> {
    until_signalled(async {
        let mut c = connect(ctx).await?;
        let spec = parse_exec_args(a)?;
        let mut w = Watcher {
            client: &mut c,
            key: spec.key.clone(),
            recursive: spec.recursive,
            next: first_wait_index(spec.after_index),
            resilient: true,
            pending: VecDeque::new(),
        };
        loop {
            let ev = w.next_event().await?;
            let node = ev.body.node.clone().unwrap_or_default();
            if node.dir {
                output::err(&format!("Ignored dir {} change\n", node.key));
                continue;
            }
            // etcd: environResponse. Hooks run one at a time, in event order.
            let status = tokio::process::Command::new(&spec.command[0])
                .args(&spec.command[1..])
                .env("ETCD_WATCH_ACTION", ev.body.action.as_str())
                .env("ETCD_WATCH_MODIFIED_INDEX", node.modified_index.to_string())
                .env("ETCD_WATCH_KEY", &node.key)
                .env("ETCD_WATCH_VALUE", node.value.as_deref().unwrap_or(""))
                .status()
                .await;
            if let Err(e) = status {
                output::err(&spawn_error(&spec.command[0], &e));
                return Err(Exit(1));
            }
            // A failing hook does not stop the watch.
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(args: &[&str]) -> Result<ExecSpec, Exit> {
        parse_exec_args(&ExecWatchArgs {
            after_index: 0,
            recursive: false,
            args: args.iter().map(|s| s.to_string()).collect(),
        })
    }

    #[test]
    fn exec_watch_documented_form() {
        let s = spec(&["/k", "--", "sh", "-c", "env"]).ok().unwrap();
        assert_eq!(s.key, "/k");
        assert_eq!(s.command, vec!["sh", "-c", "env"]);
        let s = spec(&["/k", "echo", "hi"]).ok().unwrap();
        assert_eq!(s.command, vec!["echo", "hi"]);
        let s = spec(&["/k", "-r", "--after-index", "7", "--", "echo"])
            .ok()
            .unwrap();
        assert!(s.recursive);
        assert_eq!(s.after_index, 7);
        assert_eq!(s.command, vec!["echo"]);
        let s = spec(&["/k", "echo", "--", "x"]).ok().unwrap();
        assert_eq!(s.command, vec!["echo", "--", "x"]);
        assert!(spec(&["/k"]).is_err());
    }

    fn node(key: &str, index: u64, children: Option<Vec<Node>>) -> Node {
        Node {
            key: key.into(),
            value: children.is_none().then(|| "v".to_string()),
            dir: children.is_some(),
            nodes: children,
            modified_index: index,
            created_index: index,
            ..Node::default()
        }
    }

    #[test]
    fn resync_delivers_what_changed_since_the_last_event_in_index_order() {
        let tree = node(
            "/d",
            2,
            Some(vec![
                node("/d/b", 1200, None),
                node("/d/a", 3, None),
                node("/d/s", 4, Some(vec![node("/d/s/x", 1100, None)])),
            ]),
        );
        let keys = |ns: Vec<Node>| ns.into_iter().map(|n| n.key).collect::<Vec<_>>();
        assert_eq!(
            keys(changed_since(Some(tree.clone()), 5, true)),
            vec!["/d/s/x", "/d/b"]
        );
        assert!(changed_since(Some(tree.clone()), 5, false).is_empty());
        assert_eq!(keys(changed_since(Some(tree), 2, false)), vec!["/d"]);
        assert!(changed_since(None, 1, true).is_empty());
    }

    #[test]
    fn lost_range_comes_from_the_401_cause() {
        let body = |cause: &str, index| ErrorBody {
            error_code: 401,
            message: "The event in requested index is outdated and cleared".into(),
            cause: cause.into(),
            index,
        };
        assert_eq!(
            lost_until(
                &body("the requested history has been cleared [1105/5]", 2104),
                5
            ),
            1104
        );
        assert_eq!(lost_until(&body("odd", 2104), 5), 2104);
    }

    #[test]
    fn after_index_is_go_arithmetic() {
        assert_eq!(first_wait_index(0), 0);
        assert_eq!(first_wait_index(3), 4);
        assert_eq!(first_wait_index(-1), 0);
    }
}
