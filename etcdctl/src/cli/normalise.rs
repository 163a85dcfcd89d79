//! Go's flag spellings for clap: `-endpoints x` as `--endpoints x`, and urfave/cli's reordering
//! of a command's flags in front of its operands.

use clap::Command;

/// Every long flag name etcdctl knows, for Go-style `-name` normalisation.
fn long_flag_names(cmd: &Command, out: &mut Vec<String>) {
    for a in cmd.get_arguments() {
        if let Some(l) = a.get_long() {
            out.push(l.to_string());
        }
    }
    out.push("help".into());
    for s in cmd.get_subcommands() {
        long_flag_names(s, out);
    }
}

/// Go's flag package accepts `-endpoints x` and `-output=json` as well as the double-dash forms;
/// clap only knows `--endpoints`. Rewrite single-dash long flags (up to `--`) before clap sees
/// them, then reorder the subcommand's flags in front of its positional arguments the way
/// urfave/cli does, so `rm /d --dir` works and `set /k -x` takes `-x` as the value.
pub fn normalise_args(cmd: &Command, args: Vec<String>) -> Vec<String> {
    let mut names = Vec::new();
    long_flag_names(cmd, &mut names);
    let mut out = Vec::with_capacity(args.len());
    let mut done = false;
    for (i, a) in args.into_iter().enumerate() {
        if i == 0 || done {
            out.push(a);
            continue;
        }
        if a == "--" {
            done = true;
            out.push(a);
            continue;
        }
        if let Some(rest) = a.strip_prefix('-')
            && !rest.starts_with('-')
            && rest.len() > 1
        {
            let name = rest.split('=').next().unwrap_or("");
            if name.len() > 1 && names.iter().any(|n| n == name) {
                out.push(format!("-{a}"));
                continue;
            }
        }
        out.push(a);
    }
    reorder_subcommand_args(cmd, out)
}

/// How a flag looks on the command line: its names and whether it takes a value.
struct FlagShape {
    long: Option<String>,
    short: Option<char>,
    takes_value: bool,
}

fn flag_shapes(cmd: &Command, out: &mut Vec<FlagShape>) {
    for a in cmd.get_arguments() {
        if a.is_positional() {
            continue;
        }
        out.push(FlagShape {
            long: a.get_long().map(str::to_string),
            short: a.get_short(),
            takes_value: a.get_action().takes_values(),
        });
    }
}

/// The flag `arg` names (`--ttl`, `-r`, `--ttl=5`), if it is one of `flags`.
fn find_flag<'a>(flags: &'a [FlagShape], arg: &str) -> Option<&'a FlagShape> {
    if arg == "--help" || arg == "-h" {
        return None;
    }
    let name = arg.split('=').next().unwrap_or("");
    if let Some(l) = name.strip_prefix("--") {
        flags.iter().find(|f| f.long.as_deref() == Some(l))
    } else if let Some(s) = name.strip_prefix('-') {
        let mut cs = s.chars();
        match (cs.next(), cs.next()) {
            (Some(c), None) => flags.iter().find(|f| f.short == Some(c)),
            _ => None,
        }
    } else {
        None
    }
}

/// urfave/cli's reorderArgs for key commands: known flags (with their values) first, then `--`,
/// then the positional arguments. `exec-watch`, `member` and `help` keep their arguments as given.
fn reorder_subcommand_args(cmd: &Command, args: Vec<String>) -> Vec<String> {
    let mut globals = Vec::new();
    flag_shapes(cmd, &mut globals);
    // Find the subcommand, skipping global flags and their values.
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        if a == "--" || !a.starts_with('-') || a == "-" {
            break;
        }
        if !a.contains('=') && find_flag(&globals, a).is_some_and(|f| f.takes_value) {
            i += 1;
        }
        i += 1;
    }
    let Some(name) = args.get(i) else { return args };
    let Some(sub) = cmd.find_subcommand(name) else {
        return args;
    };
    if sub.has_subcommands() || sub.get_name() == "exec-watch" || sub.is_hide_set() {
        return args;
    }
    let mut flags = Vec::new();
    flag_shapes(sub, &mut flags);
    let mut front: Vec<String> = args[..=i].to_vec();
    let mut positional = Vec::new();
    let mut help = false;
    let mut rest = args[i + 1..].iter();
    while let Some(a) = rest.next() {
        if a == "--" {
            positional.extend(rest.by_ref().cloned());
            break;
        }
        if a == "--help" || a == "-h" {
            help = true;
            continue;
        }
        match find_flag(&flags, a) {
            Some(f) => {
                front.push(a.clone());
                if f.takes_value
                    && !a.contains('=')
                    && let Some(v) = rest.next()
                {
                    front.push(v.clone());
                }
            }
            // Go stops parsing flags at the first operand: an unknown flag before it is an error
            // (left for clap to report), after it just an operand.
            None if positional.is_empty() && a.starts_with('-') && a != "-" => {
                front.push(a.clone())
            }
            None => positional.push(a.clone()),
        }
    }
    if help {
        front.push("--help".into());
    }
    if !positional.is_empty() {
        front.push("--".into());
        front.extend(positional);
    }
    front
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::command;

    #[test]
    fn single_dash_long_flags_are_normalised() {
        let cmd = command();
        let args: Vec<String> = [
            "etcdctl",
            "-endpoints",
            "http://x",
            "-o",
            "json",
            "-output=json",
            "ls",
            "-recursive",
            "-p",
            "--",
            "-debug",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let out = normalise_args(&cmd, args);
        assert_eq!(
            out,
            vec![
                "etcdctl",
                "--endpoints",
                "http://x",
                "-o",
                "json",
                "--output=json",
                "ls",
                "--recursive",
                "-p",
                "--",
                "-debug"
            ]
        );
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            normalise_args(&cmd, v(&["etcdctl", "rm", "/d", "--dir"])),
            v(&["etcdctl", "rm", "--dir", "--", "/d"])
        );
        assert_eq!(
            normalise_args(&cmd, v(&["etcdctl", "set", "/c", "--", "-x"])),
            v(&["etcdctl", "set", "--", "/c", "-x"])
        );
        assert_eq!(
            normalise_args(&cmd, v(&["etcdctl", "set", "/c", "-x", "--ttl", "-5"])),
            v(&["etcdctl", "set", "--ttl", "-5", "--", "/c", "-x"])
        );
        assert_eq!(
            normalise_args(
                &cmd,
                v(&["etcdctl", "-C", "x", "exec-watch", "/k", "ls", "-r"])
            ),
            v(&["etcdctl", "-C", "x", "exec-watch", "/k", "ls", "-r"])
        );
    }
}
