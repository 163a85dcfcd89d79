//! The command line: clap definitions for etcdctl (and a descriptive one for the etcd daemon's man
//! page), Go-style flag normalisation, and Go duration parsing.
//!
//! Owns argument *shape* only; never talks to the network. Positional arguments are optional here
//! because real etcdctl reports missing ones itself (`Error:  key required`, exit 1) after it has
//! connected, and we copy that order.

use std::time::Duration;

use clap::{Arg, ArgAction, Args, Command, Parser, Subcommand};

/// The etcd release whose etcdctl v2 we reproduce; printed by `--version` as real etcdctl does.
pub const COMPAT_VERSION: &str = "3.4.23";

/// Default endpoints, as etcdctl v2 has them.
pub const DEFAULT_ENDPOINTS: &str = "http://127.0.0.1:2379,http://127.0.0.1:4001";

const MAIN_TEMPLATE: &str = "\
NAME:
   {name} - {about}

USAGE:
   {usage}

VERSION:
   {version}

COMMANDS:
{subcommands}

GLOBAL OPTIONS:
{options}";

/// urfave/cli's layout for a leaf command; `{desc}` is the optional DESCRIPTION block.
fn sub_template(path: &str, desc: &str) -> String {
    format!("NAME:\n   {path} - {{about}}\n\nUSAGE:\n   {{usage}}\n\n{desc}OPTIONS:\n{{options}}")
}

/// urfave/cli's layout for a command with subcommands.
fn group_template(path: &str) -> String {
    format!(
        "NAME:\n   {path} - {{about}}\n\nUSAGE:\n   {{usage}}\n\nCOMMANDS:\n{{subcommands}}\n\nOPTIONS:\n{{options}}"
    )
}

const SET_DESCRIPTION: &str = "DESCRIPTION:\n   Set sets the value of a key.\n\n   When <value> begins with '-', <value> is interpreted as a flag.\n   Insert '--' for workaround:\n\n   $ set -- <key> <value>\n\n";

#[derive(Debug, Parser)]
#[command(
    name = "etcdctl",
    about = "A simple command line client for etcd.",
    version = COMPAT_VERSION,
    override_usage = "etcdctl [global options] command [command options] [arguments...]",
    help_template = MAIN_TEMPLATE,
    disable_version_flag = true,
    subcommand_help_heading = "COMMANDS",
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Option<Cmd>,
}

/// Flags that apply to every command (urfave/cli "global options").
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// output cURL commands which can be used to reproduce the request
    #[arg(long)]
    pub debug: bool,

    /// don't synchronize cluster information before sending request
    #[arg(long = "no-sync")]
    pub no_sync: bool,

    /// output response in the given format (`simple`, `extended` or `json`)
    #[arg(short = 'o', long, value_name = "simple", default_value = "simple")]
    pub output: String,

    /// domain name to query for SRV records describing cluster endpoints (not supported)
    #[arg(short = 'D', long = "discovery-srv", value_name = "value")]
    pub discovery_srv: Option<String>,

    /// accept insecure SRV records describing cluster endpoints
    #[arg(long = "insecure-discovery")]
    pub insecure_discovery: bool,

    /// DEPRECATED - "--endpoints" should be used instead
    #[arg(short = 'C', long, value_name = "value")]
    pub peers: Option<String>,

    /// DEPRECATED - "--endpoints" should be used instead
    #[arg(long, value_name = "value")]
    pub endpoint: Option<String>,

    /// a comma-delimited list of machine addresses in the cluster (default: "http://127.0.0.1:2379,http://127.0.0.1:4001")
    #[arg(long, value_name = "value")]
    pub endpoints: Option<String>,

    /// identify HTTPS client using this SSL certificate file (HTTPS is not supported by this build)
    #[arg(long = "cert-file", value_name = "value")]
    pub cert_file: Option<String>,

    /// identify HTTPS client using this SSL key file (HTTPS is not supported by this build)
    #[arg(long = "key-file", value_name = "value")]
    pub key_file: Option<String>,

    /// verify certificates of HTTPS-enabled servers using this CA bundle (HTTPS is not supported by this build)
    #[arg(long = "ca-file", value_name = "value")]
    pub ca_file: Option<String>,

    /// provide username[:password] and prompt if password is not supplied.
    #[arg(short = 'u', long, value_name = "value")]
    pub username: Option<String>,

    /// connection timeout per request
    #[arg(long, value_name = "value", default_value = "2s", value_parser = parse_go_duration)]
    pub timeout: Duration,

    /// timeout for the command execution (except watch)
    #[arg(long = "total-timeout", value_name = "value", default_value = "5s", value_parser = parse_go_duration)]
    pub total_timeout: Duration,

    /// print the version
    #[arg(short = 'v', long)]
    pub version: bool,
}

/// Key arguments: real etcdctl ignores extras and reports missing ones itself.
#[derive(Debug, Clone, Args)]
pub struct KeyArgs {
    #[arg(value_name = "key")]
    pub args: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// check the health of the etcd cluster
    #[command(
        name = "cluster-health",
        override_usage = "etcdctl cluster-health [command options]"
    )]
    ClusterHealth(ClusterHealthArgs),
    /// make a new key with a given value
    #[command(override_usage = "etcdctl mk [command options] <key> <value>")]
    Mk(MkArgs),
    /// make a new directory
    #[command(override_usage = "etcdctl mkdir [command options] <key>")]
    Mkdir(TtlArgs),
    /// remove a key or a directory
    #[command(override_usage = "etcdctl rm [command options] <key>")]
    Rm(RmArgs),
    /// removes the key if it is an empty directory or a key-value pair
    #[command(override_usage = "etcdctl rmdir <key>")]
    Rmdir(KeyArgs),
    /// retrieve the value of a key
    #[command(override_usage = "etcdctl get [command options] <key>")]
    Get(GetArgs),
    /// retrieve a directory
    #[command(override_usage = "etcdctl ls [command options] [key]")]
    Ls(LsArgs),
    /// set the value of a key
    #[command(override_usage = "etcdctl set [command options] <key> <value>")]
    Set(SetArgs),
    /// create a new directory or update an existing directory TTL
    #[command(override_usage = "etcdctl setdir [command options] <key>")]
    Setdir(TtlArgs),
    /// update an existing key with a given value
    #[command(override_usage = "etcdctl update [command options] <key> <value>")]
    Update(TtlArgs),
    /// update an existing directory
    #[command(override_usage = "etcdctl updatedir [command options] <key> <value>")]
    Updatedir(TtlArgs),
    /// watch a key for changes
    #[command(override_usage = "etcdctl watch [command options] <key>")]
    Watch(WatchArgs),
    /// watch a key for changes and exec an executable
    #[command(
        name = "exec-watch",
        override_usage = "etcdctl exec-watch [command options] <key> [--] <command> [args...]"
    )]
    ExecWatch(ExecWatchArgs),
    /// member add, remove and list subcommands
    #[command(
        subcommand,
        override_usage = "etcdctl member command [command options] [arguments...]"
    )]
    Member(MemberCmd),
}

/// The maintainers' generator, deliberately outside `Cli` so it appears in no completion or man
/// page: `etcdctl generate <repo-root>` writes `completions/` and `man/`.
#[derive(Debug, Parser)]
#[command(name = "etcdctl generate")]
pub struct Generate {
    /// repository root that receives completions/ and man/
    pub dir: std::path::PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct ClusterHealthArgs {
    /// forever check the health every 10 second until CTRL+C
    #[arg(short = 'f', long)]
    pub forever: bool,
}

#[derive(Debug, Clone, Args)]
pub struct MkArgs {
    /// create in-order key under directory <key>
    #[arg(long = "in-order")]
    pub in_order: bool,
    /// key time-to-live in seconds
    #[arg(long, value_name = "value", default_value = "0", allow_hyphen_values = true, value_parser = parse_go_int)]
    pub ttl: i64,
    #[command(flatten)]
    pub keys: KeyArgs,
}

#[derive(Debug, Clone, Args)]
pub struct TtlArgs {
    /// key time-to-live in seconds
    #[arg(long, value_name = "value", default_value = "0", allow_hyphen_values = true, value_parser = parse_go_int)]
    pub ttl: i64,
    #[command(flatten)]
    pub keys: KeyArgs,
}

#[derive(Debug, Clone, Args)]
pub struct SetArgs {
    /// key time-to-live in seconds
    #[arg(long, value_name = "value", default_value = "0", allow_hyphen_values = true, value_parser = parse_go_int)]
    pub ttl: i64,
    /// previous value
    #[arg(
        long = "swap-with-value",
        value_name = "value",
        default_value = "",
        hide_default_value = true,
        allow_hyphen_values = true
    )]
    pub swap_with_value: String,
    /// previous index
    #[arg(long = "swap-with-index", value_name = "value", default_value = "0", allow_hyphen_values = true, value_parser = parse_go_int)]
    pub swap_with_index: i64,
    #[command(flatten)]
    pub keys: KeyArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RmArgs {
    /// removes the key if it is an empty directory or a key-value pair
    #[arg(long)]
    pub dir: bool,
    /// removes the key and all child keys(if it is a directory)
    #[arg(short = 'r', long)]
    pub recursive: bool,
    /// previous value
    #[arg(
        long = "with-value",
        value_name = "value",
        default_value = "",
        hide_default_value = true,
        allow_hyphen_values = true
    )]
    pub with_value: String,
    /// previous index
    #[arg(long = "with-index", value_name = "value", default_value = "0", allow_hyphen_values = true, value_parser = parse_go_int)]
    pub with_index: i64,
    #[command(flatten)]
    pub keys: KeyArgs,
}

#[derive(Debug, Clone, Args)]
pub struct GetArgs {
    /// returns result in sorted order
    #[arg(long)]
    pub sort: bool,
    /// require quorum for get request
    #[arg(short = 'q', long)]
    pub quorum: bool,
    #[command(flatten)]
    pub keys: KeyArgs,
}

#[derive(Debug, Clone, Args)]
pub struct LsArgs {
    /// returns result in sorted order
    #[arg(long)]
    pub sort: bool,
    /// returns all key names recursively for the given path
    #[arg(short = 'r', long)]
    pub recursive: bool,
    /// append slash (/) to directories
    #[arg(short = 'p')]
    pub slash: bool,
    /// require quorum for get request
    #[arg(short = 'q', long)]
    pub quorum: bool,
    #[command(flatten)]
    pub keys: KeyArgs,
}

#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    /// forever watch a key until CTRL+C
    #[arg(short = 'f', long)]
    pub forever: bool,
    /// watch after the given index
    #[arg(long = "after-index", value_name = "value", default_value = "0", allow_hyphen_values = true, value_parser = parse_go_int)]
    pub after_index: i64,
    /// returns all values for key and child keys
    #[arg(short = 'r', long)]
    pub recursive: bool,
    #[command(flatten)]
    pub keys: KeyArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ExecWatchArgs {
    /// watch after the given index
    #[arg(long = "after-index", value_name = "value", default_value = "0", allow_hyphen_values = true, value_parser = parse_go_int)]
    pub after_index: i64,
    /// watch all values for key and child keys
    #[arg(short = 'r', long)]
    pub recursive: bool,
    /// the key, an optional `--`, then the command and its arguments
    #[arg(
        value_name = "key",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub args: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum MemberCmd {
    /// enumerate existing cluster members
    #[command(override_usage = "etcdctl member list")]
    List(KeyArgs),
    /// add a new member to the etcd cluster
    #[command(override_usage = "etcdctl member add <name> <peerURL>")]
    Add(KeyArgs),
    /// remove an existing member from the etcd cluster
    #[command(override_usage = "etcdctl member remove <memberID>")]
    Remove(KeyArgs),
    /// update an existing member in the etcd cluster
    #[command(override_usage = "etcdctl member update <memberID> <peerURLs>")]
    Update(KeyArgs),
}

/// The full clap command, with etcdctl's help layout applied to every subcommand.
pub fn command() -> Command {
    use clap::CommandFactory;
    Cli::command().mut_subcommands(|c| style(c, "etcdctl"))
}

fn style(cmd: Command, parent: &str) -> Command {
    let path = format!("{parent} {}", cmd.get_name());
    let cmd = if cmd.has_subcommands() {
        cmd.help_template(group_template(&path))
    } else if cmd.get_name() == "set" {
        cmd.help_template(sub_template(&path, SET_DESCRIPTION))
    } else {
        cmd.help_template(sub_template(&path, ""))
    };
    cmd.mut_subcommands(|c| style(c, &path))
}

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

/// Go's `strconv.ParseInt(s, 0, 64)`, as urfave/cli's IntFlag uses it.
pub fn parse_go_int(s: &str) -> Result<i64, String> {
    let err = || "parse error".to_string();
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let body = body.replace('_', "");
    let (radix, digits) =
        if let Some(r) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, r.to_string())
        } else if let Some(r) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (2, r.to_string())
        } else if let Some(r) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
            (8, r.to_string())
        } else if body.len() > 1 && body.starts_with('0') {
            (8, body[1..].to_string())
        } else {
            (10, body)
        };
    if digits.is_empty() {
        return Err(err());
    }
    let v = i128::from_str_radix(&digits, radix).map_err(|_| err())?;
    let v = if neg { -v } else { v };
    i64::try_from(v).map_err(|_| err())
}

/// Go's `time.ParseDuration`: `2s`, `1.5s`, `500ms`, `1m30s`, `0`.
pub fn parse_go_duration(s: &str) -> Result<Duration, String> {
    let err = || "parse error".to_string();
    let mut rest = s;
    let neg = if let Some(r) = rest.strip_prefix('-') {
        rest = r;
        true
    } else {
        if let Some(r) = rest.strip_prefix('+') {
            rest = r;
        }
        false
    };
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(err());
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(err());
        }
        let num: f64 = rest[..num_len].parse().map_err(|_| err())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let nanos = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(err()),
        };
        total += num * nanos;
    }
    if neg {
        // A negative timeout behaves as an already-expired one.
        return Ok(Duration::ZERO);
    }
    Ok(Duration::from_nanos(total as u64))
}

/// A hand-written description of the daemon's flags, used only to render `man/etcd.1`.
pub fn etcd_daemon_command() -> Command {
    let flag = |name: &'static str, value: &'static str, help: &'static str| {
        Arg::new(name)
            .long(name)
            .value_name(value)
            .help(help)
            .action(ArgAction::Set)
    };
    Command::new("etcd")
        .about("etcd v2 daemon: a replicated, hierarchical key-value store")
        .version(env!("CARGO_PKG_VERSION"))
        .arg(flag("name", "name", "Human-readable name for this member (default: default)"))
        .arg(flag("data-dir", "dir", "Path to the data directory (default: ${name}.etcd)"))
        .arg(flag("listen-client-urls", "urls", "List of URLs to listen on for client traffic (default: http://localhost:2379)"))
        .arg(flag("advertise-client-urls", "urls", "List of this member's client URLs to advertise to the rest of the cluster (default: http://localhost:2379)"))
        .arg(flag("listen-peer-urls", "urls", "List of URLs to listen on for peer traffic (default: http://localhost:2380)"))
        .arg(flag("initial-advertise-peer-urls", "urls", "List of this member's peer URLs to advertise to the rest of the cluster (default: http://localhost:2380)"))
        .arg(flag("initial-cluster", "name=url,...", "Initial cluster configuration for bootstrapping (default: default=http://localhost:2380)"))
        .arg(flag("initial-cluster-state", "new|existing", "Initial cluster state: 'new' or 'existing' (default: new)"))
        .arg(flag("initial-cluster-token", "token", "Initial cluster token for the etcd cluster during bootstrap (default: etcd-cluster)"))
        .arg(flag("snapshot-count", "count", "Number of committed transactions to trigger a snapshot to disk (default: 100000)"))
        .arg(flag("heartbeat-interval", "ms", "Time (in milliseconds) of a heartbeat interval (default: 100)"))
        .arg(flag("election-timeout", "ms", "Time (in milliseconds) for an election to timeout (default: 1000)"))
        .arg(flag("discovery", "url", "Discovery URL used to bootstrap the cluster"))
        .arg(
            Arg::new("enable-v2")
                .long("enable-v2")
                .value_name("bool")
                .num_args(0..=1)
                .help("Accept etcd V2 client requests (always on in this implementation)"),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_go_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_go_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_go_duration("0"), Ok(Duration::ZERO));
        assert!(parse_go_duration("1x").is_err());
        assert!(parse_go_duration("").is_err());
        assert!(parse_go_duration("s").is_err());
    }

    #[test]
    fn go_ints() {
        assert_eq!(parse_go_int("10"), Ok(10));
        assert_eq!(parse_go_int("-5"), Ok(-5));
        assert_eq!(parse_go_int("0x10"), Ok(16));
        assert_eq!(parse_go_int("010"), Ok(8));
        assert!(parse_go_int("abc").is_err());
    }

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
