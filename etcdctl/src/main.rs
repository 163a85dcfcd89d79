//! etcdctl: a command-line client for the etcd v2 API, compatible with `ETCDCTL_API=2 etcdctl`.
//!
//! This file only parses the command line and turns the outcome into an exit status; the
//! commands live in `commands/`, the HTTP client in `client.rs`, all printing in `output.rs`.
#![deny(unsafe_code)]

mod cli;
mod client;
mod commands;
mod output;

use std::process::ExitCode;

use clap::FromArgMatches;
use clap::error::{ContextKind, ContextValue, ErrorKind};

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if raw.get(1).is_some_and(|a| a == "generate") {
        return generate(&raw[1..]);
    }
    let mut cmd = cli::command();
    let args = cli::normalise_args(&cmd, raw);
    let args_for_errors = args.clone();
    let parsed = cmd
        .try_get_matches_from_mut(args)
        .and_then(|m| cli::Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(c) => c,
        Err(e) => return usage_error(e, &mut cmd, &args_for_errors),
    };
    if cli.global.version {
        output::out(&format!(
            "etcdctl version: {}\nAPI version: 2\n",
            cli::COMPAT_VERSION
        ));
        return ExitCode::SUCCESS;
    }
    let Some(command) = cli.command else {
        output::out(&cmd.render_help().to_string());
        return ExitCode::SUCCESS;
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            output::err_line(&format!("Error:  {e}"));
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::run(cli.global, command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(output::Exit(code)) => ExitCode::from(code),
    }
}

/// `etcdctl generate <repo-root>`: regenerate completions/ and man/ (see commands/generate.rs).
fn generate(args: &[String]) -> ExitCode {
    use clap::Parser;
    let g = match cli::Generate::try_parse_from(args) {
        Ok(g) => g,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(1);
        }
    };
    match commands::generate::write_all(&g.dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            output::err_line(&format!("generate: {e:#}"));
            ExitCode::from(1)
        }
    }
}

/// Help and version go to stdout with status 0; an unknown command is etcdctl's
/// `No help topic for '…'` (status 3); any other usage error is status 1.
fn usage_error(e: clap::Error, cmd: &mut clap::Command, args: &[String]) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            output::out(&e.render().to_string());
            ExitCode::SUCCESS
        }
        ErrorKind::InvalidSubcommand => {
            let name = match e.get(ContextKind::InvalidSubcommand) {
                Some(ContextValue::String(s)) => s.clone(),
                _ => String::new(),
            };
            output::err(&format!("No help topic for '{name}'\n"));
            ExitCode::from(3)
        }
        _ => {
            // urfave/cli: "Incorrect Usage. <why>" (":" for a subcommand), the help, then <why>.
            let (why, name) = go_flag_message(&e);
            let root_help = cmd.render_help().to_string();
            let (sep, help) = match failing_subcommand(cmd, args) {
                Some(sub)
                    if e.kind() == ErrorKind::UnknownArgument
                        || sub.get_arguments().any(|a| a.get_long() == Some(&name)) =>
                {
                    (":", sub.render_help().to_string())
                }
                _ => (".", root_help),
            };
            output::err(&format!("Incorrect Usage{sep} {why}\n\n{help}\n{why}\n"));
            ExitCode::from(1)
        }
    }
}

/// The subcommand (possibly nested) the arguments name, if any.
fn failing_subcommand<'a>(
    cmd: &'a mut clap::Command,
    args: &[String],
) -> Option<&'a mut clap::Command> {
    let mut path = Vec::new();
    let mut cur: &clap::Command = cmd;
    for a in args.iter().skip(1) {
        if let Some(sub) = cur.find_subcommand(a) {
            path.push(sub.get_name().to_string());
            cur = sub;
        }
    }
    if path.is_empty() {
        return None;
    }
    let mut target = cmd;
    for name in path {
        target = target.find_subcommand_mut(name)?;
    }
    Some(target)
}

/// Go's flag package wording for the common clap errors, and the flag's name.
fn go_flag_message(e: &clap::Error) -> (String, String) {
    let arg = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.clone(),
        _ => String::new(),
    };
    // `--timeout <value>` → `timeout`
    let name = arg
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_start_matches('-')
        .to_string();
    let why = match e.kind() {
        ErrorKind::UnknownArgument => format!("flag provided but not defined: -{name}"),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let value = match e.get(ContextKind::InvalidValue) {
                Some(ContextValue::String(s)) => s.clone(),
                _ => String::new(),
            };
            format!("invalid value {value:?} for flag -{name}: parse error")
        }
        ErrorKind::NoEquals | ErrorKind::MissingRequiredArgument => {
            format!("flag needs an argument: -{name}")
        }
        _ => {
            let text = e.render().to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ");
            first.to_string()
        }
    };
    (why, name)
}
