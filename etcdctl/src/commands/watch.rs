//! `watch` and `exec-watch`: long-poll watches that survive member restarts.
//!
//! etcd: ctlv2/command/{watch,exec_watch}_command.go and client/keys.go httpWatcher. Each event is
//! one `GET …?wait=true&waitIndex=N` long-poll with no total timeout, the body read as a stream
//! up to the event's newline; the next poll asks for `modifiedIndex + 1`, so nothing is missed or
//! repeated. Unlike real etcdctl, `watch --forever` and `exec-watch` keep going when every member
//! is unreachable (they retry with backoff from the last index seen) and, when the server answers
//! 401 (the index fell out of its 1000-event history), resynchronise from a GET's X-Etcd-Index.
//! SIGINT ends them with status 0 as etcdctl does; SIGTERM with 143.

use std::future::Future;
use std::time::Duration;

use etcd_common::ErrorCode;
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
}

impl Watcher<'_> {
    /// etcd: httpWatcher.Next, plus reconnection when `resilient`.
    async fn next_event(&mut self) -> Result<KeyResponse, Exit> {
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
                    self.resync().await?;
                    continue;
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

    /// After 401: read the current index with a GET and continue just after it.
    async fn resync(&mut self) -> Result<(), Exit> {
        let mut backoff = BACKOFF_START;
        loop {
            let action = client::get_action(&self.key, false, false, false);
            if let Ok(resp) = self.client.send(None, &action, false).await
                && let Some(i) = client::header_u64(&resp.headers, etcd_common::headers::ETCD_INDEX)
            {
                self.next = i + 1;
                return Ok(());
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }
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

    #[test]
    fn after_index_is_go_arithmetic() {
        assert_eq!(first_wait_index(0), 0);
        assert_eq!(first_wait_index(3), 4);
        assert_eq!(first_wait_index(-1), 0);
    }
}
