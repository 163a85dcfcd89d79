//! Everything etcdctl writes, and the one place that prints errors and maps them to exit codes:
//! [`fail`] / [`fail_client`] print `Error:  …` and return the [`Exit`] every command ends with.
//! [`format`] has one formatter per `-o` mode; [`spinner`] the terminal-only progress spinner.
//!
//! Bytes written to pipes are exactly real etcdctl's; colour and spinners appear only on a
//! terminal and never under `NO_COLOR`. A write to a closed stdout ends the process with 141,
//! the status Go's runtime gets from SIGPIPE, so `etcdctl watch -f /k | head -1` ends as
//! real etcdctl does. Never performs I/O other than stdout/stderr.

pub mod format;
pub mod spinner;

pub use format::Format;
pub use spinner::Spinner;

use std::io::{IsTerminal, Write};

use colored::Colorize;

use crate::client::ClientError;

/// etcdctl's exit codes (etcd: etcdctl/ctlv2/command/error.go).
pub const EXIT_BAD_ARGS: u8 = 1;
pub const EXIT_BAD_CONNECTION: u8 = 2;
pub const EXIT_SERVER_ERROR: u8 = 4;
pub const EXIT_CLUSTER_NOT_HEALTHY: u8 = 5;
/// The status a Go program killed by SIGPIPE reports through the shell (128 + 13).
pub const EXIT_BROKEN_PIPE: u8 = 141;

/// Every status etcdctl exits with and what it means (rendered into the man pages).
pub const EXIT_STATUSES: &[(u8, &str)] = &[
    (0, "Success; also a watch ended by SIGINT (Ctrl+C)."),
    (
        EXIT_BAD_ARGS,
        "Bad arguments: a missing key or value, an unknown flag, an unusable flag value.",
    ),
    (
        EXIT_BAD_CONNECTION,
        "No endpoint could be reached (every member failed the request or the cluster sync).",
    ),
    (3, "Unknown command (\"No help topic for ...\")."),
    (
        EXIT_SERVER_ERROR,
        "The server answered with an etcd error, e.g. 100 Key not found or 401 for a watch whose index was cleared.",
    ),
    (
        EXIT_CLUSTER_NOT_HEALTHY,
        "cluster-health found the cluster unhealthy.",
    ),
    (
        EXIT_BROKEN_PIPE,
        "Standard output was closed (etcdctl ... | head), as Go programs end on SIGPIPE.",
    ),
    (143, "A watch or exec-watch ended by SIGTERM."),
];

/// A command's end: the process exits with this status (whatever had to be said is printed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit(pub u8);

fn colour_allowed() -> bool {
    std::env::var_os(crate::cli::docs::ENV_NO_COLOR.0).is_none_or(|v| v.is_empty())
}

pub(crate) fn stdout_colour() -> bool {
    colour_allowed() && std::io::stdout().is_terminal()
}

fn stderr_colour() -> bool {
    colour_allowed() && std::io::stderr().is_terminal()
}

/// Write to stdout. A closed pipe ends the process, as SIGPIPE ends real etcdctl: otherwise
/// `etcdctl watch -f /k | grep -m1 x` would never return.
pub fn out(s: &str) {
    let mut o = std::io::stdout().lock();
    let written = o.write_all(s.as_bytes()).and_then(|()| o.flush());
    if let Err(e) = written
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(i32::from(EXIT_BROKEN_PIPE));
    }
}

/// Write to stderr.
pub fn err(s: &str) {
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(s.as_bytes());
    let _ = e.flush();
}

/// Print a line to stderr, red on a terminal.
pub fn err_line(s: &str) {
    if stderr_colour() {
        err(&format!("{}\n", s.red()));
    } else {
        err(&format!("{s}\n"));
    }
}

/// etcd: handleError — `Error:  <err>` (Go's Println of two operands), then a ClusterError's detail.
pub fn fail(code: u8, e: &dyn std::fmt::Display) -> Exit {
    err_line(&format!("Error:  {e}"));
    Exit(code)
}

/// `fail` for a client error, with the ClusterError detail lines.
pub fn fail_client(code: u8, e: &ClientError) -> Exit {
    err_line(&format!("Error:  {e}"));
    if let Some(d) = e.detail() {
        err(&format!("{d}\n"));
    }
    Exit(code)
}
