//! etcdctl as a library: a command-line client for the etcd v2 API, compatible with
//! `ETCDCTL_API=2 etcdctl` byte for byte. The binary (`main.rs`) only calls [`run`]; `xtask`
//! renders completions and man pages from [`cli::command`] and [`cli::docs`].
//!
//! Layout: [`cli`] (argument shape), [`commands`] (one file per command family), [`client`]
//! (HTTP, failover, the v2 requests), [`output`] (the one place that writes to stdout/stderr,
//! prints errors and maps exit codes).
#![deny(unsafe_code)]

pub mod cli;
pub mod client;
pub mod commands;
pub mod output;
pub mod prompt;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::FromArgMatches;

use output::{EXIT_BAD_ARGS, Exit};

/// Run etcdctl on a full argument list (program name first) and return its exit status.
pub fn run<I: IntoIterator<Item = OsString>>(args: I) -> ExitCode {
    ExitCode::from(run_to_exit(args).0)
}

fn run_to_exit<I: IntoIterator<Item = OsString>>(args: I) -> Exit {
    let raw: Vec<String> = args
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut cmd = cli::command();
    let args = cli::normalise_args(&cmd, raw);
    let args_for_errors = args.clone();
    let parsed = cmd
        .try_get_matches_from_mut(args)
        .and_then(|m| cli::Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(c) => c,
        Err(e) => return cli::usage::usage_error(e, &mut cmd, &args_for_errors),
    };
    if cli.global.version {
        output::out(&format!(
            "etcdctl version: {}\nAPI version: 2\n",
            cli::COMPAT_VERSION
        ));
        return Exit(0);
    }
    let Some(command) = cli.command else {
        output::out(&cmd.render_help().to_string());
        return Exit(0);
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return output::fail(EXIT_BAD_ARGS, &e),
    };
    match runtime.block_on(commands::run(cli.global, command)) {
        Ok(()) => Exit(0),
        Err(exit) => exit,
    }
}
