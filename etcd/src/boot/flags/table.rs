//! THE flag table: every flag etcd 3.4 accepts, with its `ETCD_*` variable, default and help.
//!
//! The parser, `etcd --help` and `man/etcd.1` (rendered by `xtask`) are all built from [`FLAGS`]
//! through [`command`], so they cannot drift apart. Flags we do not use are accepted and ignored
//! so that any tool that starts etcd can start us; they are listed under their own heading.

use clap::{Arg, ArgAction, Command};

use super::VERSION;

/// How a flag takes its value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `--flag value` or `--flag=value`.
    Value,
    /// Go boolean: `--flag`, `--flag=true`, `--flag=false` (never a separate word).
    Bool,
}

use Kind::{Bool, Value};

const USED: bool = true;
const IGNORED: bool = false;

/// The heading that groups the flags we accept but ignore (in `--help` and the man page).
pub const IGNORED_HEADING: &str = "Accepted for compatibility and ignored";

/// (name, kind, default, used by us, help), in etcd's `--help` order within each group.
#[rustfmt::skip]
pub const FLAGS: &[(&str, Kind, &str, bool, &str)] = &[
    ("name", Value, "default", USED, "Human-readable name for this member."),
    ("data-dir", Value, "", USED, "Path to the data directory (default ${name}.etcd)."),
    ("listen-client-urls", Value, "http://localhost:2379", USED, "List of URLs to listen on for client traffic."),
    ("advertise-client-urls", Value, "http://localhost:2379", USED, "List of this member's client URLs to advertise to the public."),
    ("listen-peer-urls", Value, "http://localhost:2380", USED, "List of URLs to listen on for peer traffic."),
    ("initial-advertise-peer-urls", Value, "http://localhost:2380", USED, "List of this member's peer URLs to advertise to the rest of the cluster."),
    ("initial-cluster", Value, "", USED, "Initial cluster configuration for bootstrapping (default ${name}=${initial-advertise-peer-urls})."),
    ("initial-cluster-state", Value, "new", USED, "Initial cluster state ('new' or 'existing')."),
    ("initial-cluster-token", Value, "etcd-cluster", USED, "Initial cluster token for the etcd cluster during bootstrap."),
    ("snapshot-count", Value, "100000", USED, "Number of committed transactions to trigger a snapshot to disk."),
    ("heartbeat-interval", Value, "100", USED, "Time (in milliseconds) of a heartbeat interval."),
    ("election-timeout", Value, "1000", USED, "Time (in milliseconds) for an election to timeout."),
    ("discovery", Value, "", USED, "Discovery URL used to bootstrap the cluster."),
    ("discovery-fallback", Value, "proxy", USED, "Expected behavior ('exit' or 'proxy') when discovery services fails."),
    ("enable-v2", Bool, "true", USED, "Accept etcd V2 client requests (always on here)."),
    ("enable-mod", Bool, "false", USED, "Serve etcd 0.3's lock and leader modules at /mod/v2/lock and /mod/v2/leader (deprecated in etcd 0.4, absent from 3.4) and etcd 0.4's dashboard at /mod/dashboard. Not an etcd flag."),
    ("version", Bool, "false", USED, "Print the version and exit."),
    ("wal-dir", Value, "", IGNORED, "Path to the dedicated wal directory."),
    ("initial-election-tick-advance", Bool, "true", IGNORED, "Whether to fast-forward initial election ticks on boot for faster election."),
    ("max-snapshots", Value, "5", IGNORED, "Maximum number of snapshot files to retain (0 is unlimited)."),
    ("max-wals", Value, "5", IGNORED, "Maximum number of wal files to retain (0 is unlimited)."),
    ("quota-backend-bytes", Value, "0", IGNORED, "Raise alarms when backend size exceeds the given quota (0 defaults to low space quota)."),
    ("backend-batch-interval", Value, "0", IGNORED, "BackendBatchInterval is the maximum time before commit the backend transaction."),
    ("backend-batch-limit", Value, "0", IGNORED, "BackendBatchLimit is the maximum operations before commit the backend transaction."),
    ("max-txn-ops", Value, "128", IGNORED, "Maximum number of operations permitted in a transaction."),
    ("max-request-bytes", Value, "1572864", IGNORED, "Maximum client request size in bytes the server will accept."),
    ("max-concurrent-streams", Value, "", IGNORED, "Maximum concurrent streams that each client can open at a time."),
    ("grpc-keepalive-min-time", Value, "", IGNORED, "Minimum duration interval that a client should wait before pinging server."),
    ("grpc-keepalive-interval", Value, "", IGNORED, "Frequency duration of server-to-client ping to check if a connection is alive (0 to disable)."),
    ("grpc-keepalive-timeout", Value, "", IGNORED, "Additional duration of wait before closing a non-responsive connection (0 to disable)."),
    ("discovery-proxy", Value, "", IGNORED, "HTTP proxy to use for traffic to discovery service."),
    ("discovery-srv", Value, "", IGNORED, "DNS srv domain used to bootstrap the cluster."),
    ("discovery-srv-name", Value, "", IGNORED, "Suffix to the dns srv name queried when bootstrapping."),
    ("strict-reconfig-check", Bool, "true", IGNORED, "Reject reconfiguration requests that would cause quorum loss."),
    ("pre-vote", Bool, "false", IGNORED, "Enable to run an additional Raft election phase."),
    ("auto-compaction-retention", Value, "0", IGNORED, "Auto compaction retention length. 0 means disable auto compaction."),
    ("auto-compaction-mode", Value, "periodic", IGNORED, "Interpret 'auto-compaction-retention' one of: periodic|revision. 'periodic' for duration based retention, defaulting to hours if no time unit is provided (e.g. '5m'). 'revision' for revision number based retention."),
    ("cert-file", Value, "", USED, "Path to the client server TLS cert file."),
    ("key-file", Value, "", USED, "Path to the client server TLS key file."),
    ("client-cert-auth", Bool, "false", USED, "Enable client cert authentication."),
    ("client-crl-file", Value, "", IGNORED, "Path to the client certificate revocation list file."),
    ("client-cert-allowed-hostname", Value, "", IGNORED, "Allowed TLS hostname for client cert authentication."),
    ("trusted-ca-file", Value, "", USED, "Path to the client server TLS trusted CA cert file."),
    ("ca-file", Value, "", USED, "DEPRECATED: Path to the client server TLS CA file. '-ca-file ca.crt' could be replaced by '-trusted-ca-file ca.crt -client-cert-auth' and etcd will perform the same."),
    ("auto-tls", Bool, "false", USED, "Client TLS using generated certificates."),
    ("peer-cert-file", Value, "", USED, "Path to the peer server TLS cert file."),
    ("peer-key-file", Value, "", USED, "Path to the peer server TLS key file."),
    ("peer-client-cert-auth", Bool, "false", USED, "Enable peer client cert authentication."),
    ("peer-trusted-ca-file", Value, "", USED, "Path to the peer server TLS trusted CA file."),
    ("peer-cert-allowed-cn", Value, "", IGNORED, "Required CN for client certs connecting to the peer endpoint."),
    ("peer-cert-allowed-hostname", Value, "", IGNORED, "Allowed TLS hostname for inter peer authentication."),
    ("peer-auto-tls", Bool, "false", USED, "Peer TLS using self-generated certificates if --peer-key-file and --peer-cert-file are not provided."),
    ("peer-crl-file", Value, "", IGNORED, "Path to the peer certificate revocation list file."),
    ("cipher-suites", Value, "", USED, "Comma-separated list of supported TLS cipher suites between client/server and peers (empty: rustls' defaults; TLS 1.3 suites are always on)."),
    ("header-read-timeout", Value, "10s", USED, "Time a client gets to send a request's headers, from its first byte (or from the connection's start) to the blank line; a connection that takes longer is closed (Go duration; 0 disables). Not an etcd flag."),
    ("idle-timeout", Value, "5m", USED, "Time a keep-alive connection may sit between requests before it is closed; a pending watch is not idle (Go duration; 0 disables). Not an etcd flag."),
    ("max-connections", Value, "0", USED, "Open connections allowed on each client and peer listener; beyond it a new connection is answered 503 and closed (0: the open-files limit less a reserve for data files and peers). Not an etcd flag."),
    ("max-watchers-per-client", Value, "20000", USED, "Pending wait=true requests allowed from one client IP address; beyond it a watch is answered 429 (0: no limit). Not an etcd flag."),
    ("cors", Value, "", IGNORED, "Comma-separated whitelist of origins for CORS, or cross-origin resource sharing, (empty or * means allow all)."),
    ("host-whitelist", Value, "", IGNORED, "Acceptable hostnames from HTTP client requests, if server is not secure (empty or * means allow all)."),
    ("auth-token", Value, "simple", IGNORED, "Specify a v3 authentication token type and its options ('simple' or 'jwt')."),
    ("bcrypt-cost", Value, "10", IGNORED, "Specify the cost / strength of the bcrypt algorithm for hashing auth passwords. Valid values are between 4 and 31."),
    ("auth-token-ttl", Value, "300", IGNORED, "Time (in seconds) of the auth-token-ttl."),
    ("enable-pprof", Bool, "false", IGNORED, "Enable runtime profiling data via HTTP server. Address is at client URL + \"/debug/pprof/\""),
    ("metrics", Value, "basic", IGNORED, "Set level of detail for exported metrics, specify 'extensive' to include histogram metrics."),
    ("listen-metrics-urls", Value, "", IGNORED, "List of URLs to listen on for the metrics and health endpoints."),
    ("logger", Value, "capnslog", IGNORED, "Specify 'zap' for structured logging or 'capnslog'. [WARN] 'capnslog' will be deprecated in v3.5."),
    ("log-outputs", Value, "default", IGNORED, "Specify 'stdout' or 'stderr' to skip journald logging even when running under systemd, or list of comma separated output targets."),
    ("log-level", Value, "info", IGNORED, "Configures log level. Only supports debug, info, warn, error, panic, or fatal."),
    ("debug", Bool, "false", IGNORED, "Enable debug-level logging for etcd. [WARN] Will be deprecated in v3.5. Use '--log-level=debug' instead."),
    ("log-package-levels", Value, "", IGNORED, "Specify a particular log level for each etcd package (eg: 'etcdmain=CRITICAL,etcdserver=DEBUG')."),
    ("proxy", Value, "off", IGNORED, "Proxy mode setting ('off', 'readonly' or 'on')."),
    ("proxy-failure-wait", Value, "5000", IGNORED, "Time (in milliseconds) an endpoint will be held in a failed state."),
    ("proxy-refresh-interval", Value, "30000", IGNORED, "Time (in milliseconds) of the endpoints refresh interval."),
    ("proxy-dial-timeout", Value, "1000", IGNORED, "Time (in milliseconds) for a dial to timeout."),
    ("proxy-write-timeout", Value, "5000", IGNORED, "Time (in milliseconds) for a write to timeout."),
    ("proxy-read-timeout", Value, "0", IGNORED, "Time (in milliseconds) for a read to timeout."),
    ("force-new-cluster", Bool, "false", USED, "Force to create a new one-member cluster."),
    ("experimental-initial-corrupt-check", Bool, "false", IGNORED, "Enable to check data corruption before serving any client/peer traffic."),
    ("experimental-corrupt-check-time", Value, "0s", IGNORED, "Duration of time between cluster corruption check passes."),
    ("experimental-enable-v2v3", Value, "", IGNORED, "Serve v2 requests through the v3 backend under a given prefix."),
    ("experimental-backend-bbolt-freelist-type", Value, "map", IGNORED, "ExperimentalBackendFreelistType specifies the type of freelist that boltdb backend uses(array and map are supported types)."),
    ("experimental-enable-lease-checkpoint", Bool, "false", IGNORED, "ExperimentalEnableLeaseCheckpoint enables primary lessor to persist lease remainingTTL to prevent indefinite auto-renewal of long lived leases."),
    ("experimental-compaction-batch-limit", Value, "1000", IGNORED, "ExperimentalCompactionBatchLimit sets the maximum revisions deleted in each compaction batch."),
    ("experimental-peer-skip-client-san-verification", Bool, "false", IGNORED, "Skip verification of SAN field in client certificate for peer connections."),
    ("experimental-watch-progress-notify-interval", Value, "600s", IGNORED, "Duration of periodical watch progress notification."),
    ("experimental-warning-apply-duration", Value, "100ms", IGNORED, "Warning is generated if requests take more than this duration."),
];

/// The flag definitions as a clap command: what the parser, `--help` and the man page use.
pub fn command() -> Command {
    let mut cmd = Command::new("etcd")
        .about("etcd v2: a replicated, durable, hierarchical key-value store")
        .long_about(
            "etcd v2: a replicated, durable, hierarchical key-value store. Every flag can also be \
             given as an ETCD_* environment variable (--initial-cluster-token is \
             ETCD_INITIAL_CLUSTER_TOKEN); a flag on the command line wins. Go's flag spellings \
             work: -name n, --name n, --name=n; the last occurrence wins.",
        )
        .version(VERSION)
        .disable_version_flag(true)
        .disable_help_flag(true)
        .args_override_self(true)
        .dont_collapse_args_in_usage(true)
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::SetTrue)
                .help("Show the help information about etcd and exit."),
        );
    for (name, kind, default, used, help) in FLAGS {
        cmd = cmd.arg(flag(name, *kind, default, *used, help));
    }
    cmd
}

/// `ETCD_DATA_DIR` for `data-dir`: etcd's flag-to-variable rule.
pub fn env_name(flag: &str) -> String {
    format!("ETCD_{}", flag.to_uppercase().replace('-', "_"))
}

fn flag(
    name: &'static str,
    kind: Kind,
    default: &'static str,
    used: bool,
    help: &'static str,
) -> Arg {
    // The command is built a few times per process at most; leaking the names is free.
    let env: &'static str = Box::leak(env_name(name).into_boxed_str());
    let mut arg = Arg::new(name).long(name).env(env).help(help);
    if !used {
        arg = arg.help_heading(IGNORED_HEADING);
    }
    arg = match kind {
        Kind::Value => arg
            .action(ArgAction::Set)
            .num_args(1)
            .allow_hyphen_values(true),
        Kind::Bool => arg
            .action(ArgAction::Set)
            .num_args(0..=1)
            .require_equals(true)
            .default_missing_value("true")
            .value_parser(parse_go_bool),
    };
    if !default.is_empty() {
        arg = arg.default_value(default);
    }
    arg
}

/// Go's `strconv.ParseBool` with the flag package's message.
fn parse_go_bool(s: &str) -> Result<bool, String> {
    etcd_common::go::strconv::parse_bool(s)
        .ok_or_else(|| format!("parse error: invalid boolean value {s:?}"))
}
