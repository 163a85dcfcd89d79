//! Each command's own flags and operands (urfave/cli "command options").

use clap::Args;

use super::parse_go_int;

/// Key arguments: real etcdctl ignores extras and reports missing ones itself.
#[derive(Debug, Clone, Args)]
pub struct KeyArgs {
    #[arg(value_name = "key")]
    pub args: Vec<String>,
}

/// `user grant` / `user revoke`.
#[derive(Debug, Clone, Args)]
pub struct UserRolesArgs {
    /// List of roles to grant or revoke
    #[arg(long, value_name = "value")]
    pub roles: Vec<String>,
    #[arg(value_name = "user")]
    pub args: Vec<String>,
}

/// `role grant` / `role revoke`.
#[derive(Debug, Clone, Args)]
pub struct RolePathArgs {
    /// Path granted for the role to access
    #[arg(long, value_name = "value")]
    pub path: Option<String>,
    /// Grant read-only access
    #[arg(long)]
    pub read: bool,
    /// Grant write-only access
    #[arg(long)]
    pub write: bool,
    /// Grant read-write access
    #[arg(long, visible_alias = "rw")]
    pub readwrite: bool,
    #[arg(value_name = "role")]
    pub args: Vec<String>,
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

/// `backup`'s flags, as etcd's are: plain strings, empty when absent.
#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// Path to the etcd data dir
    #[arg(
        long = "data-dir",
        value_name = "value",
        default_value = "",
        hide_default_value = true
    )]
    pub data_dir: String,
    /// Path to the etcd wal dir
    #[arg(
        long = "wal-dir",
        value_name = "value",
        default_value = "",
        hide_default_value = true
    )]
    pub wal_dir: String,
    /// Path to the backup dir
    #[arg(
        long = "backup-dir",
        value_name = "value",
        default_value = "",
        hide_default_value = true
    )]
    pub backup_dir: String,
    /// Path to the backup wal dir
    #[arg(
        long = "backup-wal-dir",
        value_name = "value",
        default_value = "",
        hide_default_value = true
    )]
    pub backup_wal_dir: String,
    /// Backup v3 backend data
    #[arg(long = "with-v3")]
    pub with_v3: bool,
}
