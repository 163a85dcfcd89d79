//! urfave/cli's answers to a command line that does not parse: help and version on stdout,
//! `No help topic for '…'` for an unknown command, `Incorrect Usage…` for the rest, worded the
//! way Go's flag package words them.

use clap::error::{ContextKind, ContextValue, ErrorKind};

use crate::output::{self, EXIT_BAD_ARGS, Exit};

/// Help and version go to stdout with status 0; an unknown command is etcdctl's
/// `No help topic for '…'` (status 3); any other usage error is status 1.
pub fn usage_error(e: clap::Error, cmd: &mut clap::Command, args: &[String]) -> Exit {
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            output::out(&e.render().to_string());
            Exit(0)
        }
        ErrorKind::InvalidSubcommand => {
            let name = match e.get(ContextKind::InvalidSubcommand) {
                Some(ContextValue::String(s)) => s.clone(),
                _ => String::new(),
            };
            output::err(&format!("No help topic for '{name}'\n"));
            Exit(3)
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
            Exit(EXIT_BAD_ARGS)
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
