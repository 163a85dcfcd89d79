//! The command line: clap definitions for etcdctl, Go-style flag normalisation ([`normalise`]),
//! urfave/cli's usage errors ([`usage`]) and the man-page extras ([`docs`]).
//!
//! Owns argument *shape* only; never talks to the network. Positional arguments are optional here
//! because real etcdctl reports missing ones itself (`Error:  key required`, exit 1) after it has
//! connected, and we copy that order.

pub mod args;
pub mod docs;
pub mod normalise;
pub mod usage;

use std::time::Duration;

use clap::{Args, Command, Parser, Subcommand};

pub use args::*;
pub use normalise::normalise_args;

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

    /// identify HTTPS client using this SSL certificate file
    #[arg(long = "cert-file", value_name = "value", env = docs::ENV_CERT_FILE.0, hide_env = true)]
    pub cert_file: Option<String>,

    /// identify HTTPS client using this SSL key file
    #[arg(long = "key-file", value_name = "value", env = docs::ENV_KEY_FILE.0, hide_env = true)]
    pub key_file: Option<String>,

    /// verify certificates of HTTPS-enabled servers using this CA bundle
    #[arg(long = "ca-file", value_name = "value", env = docs::ENV_CA_FILE.0, hide_env = true)]
    pub ca_file: Option<String>,

    /// skip server certificate verification (CAUTION: this option should be enabled only for testing purposes)
    #[arg(long = "insecure-skip-tls-verify")]
    pub insecure_skip_tls_verify: bool,

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

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// backup an etcd directory
    #[command(override_usage = "etcdctl backup [command options]")]
    Backup(BackupArgs),
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
    /// user add, grant and revoke subcommands
    #[command(
        subcommand,
        override_usage = "etcdctl user command [command options] [arguments...]"
    )]
    User(UserCmd),
    /// role add, grant and revoke subcommands
    #[command(
        subcommand,
        override_usage = "etcdctl role command [command options] [arguments...]"
    )]
    Role(RoleCmd),
    /// overall auth controls
    #[command(
        subcommand,
        override_usage = "etcdctl auth command [command options] [arguments...]"
    )]
    Auth(AuthCmd),
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// add a new user for the etcd cluster
    #[command(override_usage = "etcdctl user add <user>")]
    Add(KeyArgs),
    /// get details for a user
    #[command(override_usage = "etcdctl user get <user>")]
    Get(KeyArgs),
    /// list all current users
    #[command(override_usage = "etcdctl user list")]
    List(KeyArgs),
    /// remove a user for the etcd cluster
    #[command(override_usage = "etcdctl user remove <user>")]
    Remove(KeyArgs),
    /// grant roles to an etcd user
    #[command(override_usage = "etcdctl user grant [command options] <user>")]
    Grant(UserRolesArgs),
    /// revoke roles for an etcd user
    #[command(override_usage = "etcdctl user revoke [command options] <user>")]
    Revoke(UserRolesArgs),
    /// change password for a user
    #[command(override_usage = "etcdctl user passwd <user>")]
    Passwd(KeyArgs),
}

#[derive(Debug, Subcommand)]
pub enum RoleCmd {
    /// add a new role for the etcd cluster
    #[command(override_usage = "etcdctl role add <role>")]
    Add(KeyArgs),
    /// get details for a role
    #[command(override_usage = "etcdctl role get <role>")]
    Get(KeyArgs),
    /// list all roles
    #[command(override_usage = "etcdctl role list")]
    List(KeyArgs),
    /// remove a role from the etcd cluster
    #[command(override_usage = "etcdctl role remove <role>")]
    Remove(KeyArgs),
    /// grant path matches to an etcd role
    #[command(override_usage = "etcdctl role grant [command options] <role>")]
    Grant(RolePathArgs),
    /// revoke path matches for an etcd role
    #[command(override_usage = "etcdctl role revoke [command options] <role>")]
    Revoke(RolePathArgs),
}

#[derive(Debug, Subcommand)]
pub enum AuthCmd {
    /// enable auth access controls
    #[command(override_usage = "etcdctl auth enable")]
    Enable(KeyArgs),
    /// disable auth access controls
    #[command(override_usage = "etcdctl auth disable")]
    Disable(KeyArgs),
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

/// Go's `strconv.ParseInt(s, 0, 64)`, as urfave/cli's IntFlag uses it.
pub fn parse_go_int(s: &str) -> Result<i64, String> {
    etcd_common::go::strconv::parse_int(s).ok_or_else(|| "parse error".to_string())
}

/// Go's `time.ParseDuration`; a negative timeout behaves as an already-expired one.
pub fn parse_go_duration(s: &str) -> Result<Duration, String> {
    let nanos =
        etcd_common::go::time::parse_duration(s).ok_or_else(|| "parse error".to_string())?;
    Ok(Duration::from_nanos(u64::try_from(nanos).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_go_duration("-1s"), Ok(Duration::ZERO));
        assert_eq!(parse_go_duration("1x"), Err("parse error".to_string()));
    }

    /// The Go parsing itself is tested in etcd_common::go; here only the flag-facing wrappers.
    #[test]
    fn go_ints() {
        assert_eq!(parse_go_int("0x10"), Ok(16));
        assert_eq!(parse_go_int("abc"), Err("parse error".to_string()));
    }
}
