//! etcd's command line: the same flags, `ETCD_*` variables, defaults and Go flag-package
//! spellings (`-name n`, `--name=n`, last occurrence wins, `--enable-v2=true`), turned into a
//! validated [`Config`] before anything touches the data directory.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, Command};

pub const VERSION: &str = "3.4.23";
pub const CLUSTER_VERSION: &str = "3.4.0";

/// How a flag takes its value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `--flag value` or `--flag=value`.
    Value,
    /// Go boolean: `--flag`, `--flag=true`, `--flag=false` (never a separate word).
    Bool,
}

/// (name, kind, default, used by us, help). Flags we do not use are accepted and ignored so
/// that any tool that starts etcd can start us.
const FLAGS: &[(&str, Kind, &str, bool, &str)] = &[
    (
        "name",
        Kind::Value,
        "default",
        true,
        "Human-readable name for this member.",
    ),
    (
        "data-dir",
        Kind::Value,
        "",
        true,
        "Path to the data directory (default ${name}.etcd).",
    ),
    (
        "listen-client-urls",
        Kind::Value,
        "http://localhost:2379",
        true,
        "List of URLs to listen on for client traffic.",
    ),
    (
        "advertise-client-urls",
        Kind::Value,
        "http://localhost:2379",
        true,
        "List of this member's client URLs to advertise to the public.",
    ),
    (
        "listen-peer-urls",
        Kind::Value,
        "http://localhost:2380",
        true,
        "List of URLs to listen on for peer traffic.",
    ),
    (
        "initial-advertise-peer-urls",
        Kind::Value,
        "http://localhost:2380",
        true,
        "List of this member's peer URLs to advertise to the rest of the cluster.",
    ),
    (
        "initial-cluster",
        Kind::Value,
        "",
        true,
        "Initial cluster configuration for bootstrapping (default ${name}=${initial-advertise-peer-urls}).",
    ),
    (
        "initial-cluster-state",
        Kind::Value,
        "new",
        true,
        "Initial cluster state ('new' or 'existing').",
    ),
    (
        "initial-cluster-token",
        Kind::Value,
        "etcd-cluster",
        true,
        "Initial cluster token for the etcd cluster during bootstrap.",
    ),
    (
        "snapshot-count",
        Kind::Value,
        "100000",
        true,
        "Number of committed transactions to trigger a snapshot to disk.",
    ),
    (
        "heartbeat-interval",
        Kind::Value,
        "100",
        true,
        "Time (in milliseconds) of a heartbeat interval.",
    ),
    (
        "election-timeout",
        Kind::Value,
        "1000",
        true,
        "Time (in milliseconds) for an election to timeout.",
    ),
    (
        "discovery",
        Kind::Value,
        "",
        true,
        "Discovery URL used to bootstrap the cluster.",
    ),
    (
        "discovery-fallback",
        Kind::Value,
        "proxy",
        true,
        "Expected behavior ('exit' or 'proxy') when discovery services fails.",
    ),
    (
        "enable-v2",
        Kind::Bool,
        "true",
        true,
        "Accept etcd V2 client requests (always on here).",
    ),
    (
        "version",
        Kind::Bool,
        "false",
        true,
        "Print the version and exit.",
    ),
    ("wal-dir", Kind::Value, "", false, ""),
    (
        "initial-election-tick-advance",
        Kind::Bool,
        "true",
        false,
        "",
    ),
    ("max-snapshots", Kind::Value, "5", false, ""),
    ("max-wals", Kind::Value, "5", false, ""),
    ("quota-backend-bytes", Kind::Value, "0", false, ""),
    ("backend-batch-interval", Kind::Value, "0", false, ""),
    ("backend-batch-limit", Kind::Value, "0", false, ""),
    ("max-txn-ops", Kind::Value, "128", false, ""),
    ("max-request-bytes", Kind::Value, "1572864", false, ""),
    ("max-concurrent-streams", Kind::Value, "", false, ""),
    ("grpc-keepalive-min-time", Kind::Value, "", false, ""),
    ("grpc-keepalive-interval", Kind::Value, "", false, ""),
    ("grpc-keepalive-timeout", Kind::Value, "", false, ""),
    ("discovery-proxy", Kind::Value, "", false, ""),
    ("discovery-srv", Kind::Value, "", false, ""),
    ("discovery-srv-name", Kind::Value, "", false, ""),
    ("strict-reconfig-check", Kind::Bool, "true", false, ""),
    ("pre-vote", Kind::Bool, "false", false, ""),
    ("auto-compaction-retention", Kind::Value, "0", false, ""),
    ("auto-compaction-mode", Kind::Value, "periodic", false, ""),
    ("cert-file", Kind::Value, "", false, ""),
    ("key-file", Kind::Value, "", false, ""),
    ("client-cert-auth", Kind::Bool, "false", false, ""),
    ("client-crl-file", Kind::Value, "", false, ""),
    ("client-cert-allowed-hostname", Kind::Value, "", false, ""),
    ("trusted-ca-file", Kind::Value, "", false, ""),
    ("auto-tls", Kind::Bool, "false", false, ""),
    ("peer-cert-file", Kind::Value, "", false, ""),
    ("peer-key-file", Kind::Value, "", false, ""),
    ("peer-client-cert-auth", Kind::Bool, "false", false, ""),
    ("peer-trusted-ca-file", Kind::Value, "", false, ""),
    ("peer-cert-allowed-cn", Kind::Value, "", false, ""),
    ("peer-cert-allowed-hostname", Kind::Value, "", false, ""),
    ("peer-auto-tls", Kind::Bool, "false", false, ""),
    ("peer-crl-file", Kind::Value, "", false, ""),
    ("cipher-suites", Kind::Value, "", false, ""),
    ("cors", Kind::Value, "", false, ""),
    ("host-whitelist", Kind::Value, "", false, ""),
    ("auth-token", Kind::Value, "simple", false, ""),
    ("bcrypt-cost", Kind::Value, "10", false, ""),
    ("auth-token-ttl", Kind::Value, "300", false, ""),
    ("enable-pprof", Kind::Bool, "false", false, ""),
    ("metrics", Kind::Value, "basic", false, ""),
    ("listen-metrics-urls", Kind::Value, "", false, ""),
    ("logger", Kind::Value, "capnslog", false, ""),
    ("log-outputs", Kind::Value, "default", false, ""),
    ("log-level", Kind::Value, "info", false, ""),
    ("debug", Kind::Bool, "false", false, ""),
    ("log-package-levels", Kind::Value, "", false, ""),
    ("proxy", Kind::Value, "off", false, ""),
    ("proxy-failure-wait", Kind::Value, "5000", false, ""),
    ("proxy-refresh-interval", Kind::Value, "30000", false, ""),
    ("proxy-dial-timeout", Kind::Value, "1000", false, ""),
    ("proxy-write-timeout", Kind::Value, "5000", false, ""),
    ("proxy-read-timeout", Kind::Value, "0", false, ""),
    ("force-new-cluster", Kind::Bool, "false", false, ""),
    (
        "experimental-initial-corrupt-check",
        Kind::Bool,
        "false",
        false,
        "",
    ),
    (
        "experimental-corrupt-check-time",
        Kind::Value,
        "0s",
        false,
        "",
    ),
    ("experimental-enable-v2v3", Kind::Value, "", false, ""),
    (
        "experimental-backend-bbolt-freelist-type",
        Kind::Value,
        "map",
        false,
        "",
    ),
    (
        "experimental-enable-lease-checkpoint",
        Kind::Bool,
        "false",
        false,
        "",
    ),
    (
        "experimental-compaction-batch-limit",
        Kind::Value,
        "1000",
        false,
        "",
    ),
    (
        "experimental-peer-skip-client-san-verification",
        Kind::Bool,
        "false",
        false,
        "",
    ),
    (
        "experimental-watch-progress-notify-interval",
        Kind::Value,
        "600s",
        false,
        "",
    ),
    (
        "experimental-warning-apply-duration",
        Kind::Value,
        "100ms",
        false,
        "",
    ),
];

/// The flag definitions as a clap command (also used to render `man/etcd.1`).
pub fn command() -> Command {
    let mut cmd = Command::new("etcd")
        .about("etcd v2: a replicated, durable, hierarchical key-value store")
        .disable_version_flag(true)
        .args_override_self(true)
        .dont_collapse_args_in_usage(true);
    for (name, kind, default, used, help) in FLAGS {
        // The command is built once per process; leaking the few variable names is free.
        let env: &'static str =
            Box::leak(format!("ETCD_{}", name.to_uppercase().replace('-', "_")).into_boxed_str());
        let mut arg = Arg::new(*name).long(*name).env(env).hide(!used);
        if !help.is_empty() {
            arg = arg.help(*help);
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
            arg = arg.default_value(*default);
        }
        cmd = cmd.arg(arg);
    }
    cmd
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!("parse error: invalid boolean value {s:?}")),
    }
}

/// Go's flag package takes `-name` and `--name` alike; clap wants two dashes for long names.
fn normalise_args<I: IntoIterator<Item = OsString>>(args: I) -> Vec<OsString> {
    let mut out = Vec::new();
    let mut rest = false;
    for (i, a) in args.into_iter().enumerate() {
        let s = a.to_string_lossy();
        if i > 0 && !rest && s.starts_with('-') && !s.starts_with("--") && s.len() > 2 {
            out.push(OsString::from(format!("-{s}")));
        } else {
            if s == "--" {
                rest = true;
            }
            out.push(a);
        }
    }
    out
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The command line itself did not parse (unknown flag, bad boolean, …).
    #[error("{0}")]
    Usage(String),
    /// The flags parsed but describe an impossible cluster.
    #[error("{0}")]
    Invalid(String),
}

/// What the command line asked for.
pub enum Invocation {
    Run(Box<Config>),
    PrintVersion,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterState {
    New,
    Existing,
}

/// The validated configuration of one member.
#[derive(Debug, Clone)]
pub struct Config {
    pub name: String,
    pub data_dir: PathBuf,
    pub listen_client_urls: Vec<String>,
    pub advertise_client_urls: Vec<String>,
    pub listen_peer_urls: Vec<String>,
    pub initial_advertise_peer_urls: Vec<String>,
    /// name → peer URLs, in flag order of first appearance.
    pub initial_cluster: BTreeMap<String, Vec<String>>,
    pub initial_cluster_state: ClusterState,
    pub initial_cluster_token: String,
    pub snapshot_count: u64,
    pub heartbeat_interval_ms: u64,
    pub election_timeout_ms: u64,
    pub discovery: Option<String>,
    pub discovery_fallback: String,
}

impl Config {
    pub fn parse<I: IntoIterator<Item = OsString>>(args: I) -> Result<Invocation, ConfigError> {
        let m = command()
            .try_get_matches_from(normalise_args(args))
            .map_err(|e| ConfigError::Usage(clap_message(&e)))?;
        if m.get_one::<bool>("version").copied().unwrap_or(false) {
            return Ok(Invocation::PrintVersion);
        }
        Self::from_matches(&m).map(|c| Invocation::Run(Box::new(c)))
    }

    fn from_matches(m: &ArgMatches) -> Result<Config, ConfigError> {
        let s = |k: &str| m.get_one::<String>(k).cloned().unwrap_or_default();
        let name = s("name");
        let data_dir = match s("data-dir") {
            d if d.is_empty() => PathBuf::from(format!("{name}.etcd")),
            d => PathBuf::from(d),
        };
        let urls = |k: &str| -> Result<Vec<String>, ConfigError> { parse_urls(k, &s(k)) };
        let initial_advertise_peer_urls = urls("initial-advertise-peer-urls")?;
        let initial_cluster_text = match s("initial-cluster") {
            c if c.is_empty() => initial_advertise_peer_urls
                .iter()
                .map(|u| format!("{name}={u}"))
                .collect::<Vec<_>>()
                .join(","),
            c => c,
        };
        let initial_cluster = parse_initial_cluster(&initial_cluster_text)?;
        let discovery = Some(s("discovery")).filter(|d| !d.is_empty());
        if discovery.is_none() && !initial_cluster.contains_key(&name) {
            return Err(ConfigError::Invalid(format!(
                "couldn't find local name {name:?} in the initial cluster configuration"
            )));
        }
        if let Some(mine) = initial_cluster.get(&name) {
            let mut a = mine.clone();
            let mut b = initial_advertise_peer_urls.clone();
            a.sort();
            b.sort();
            if discovery.is_none() && a != b {
                return Err(ConfigError::Invalid(format!(
                    "--initial-cluster has {name}={} but missing from --initial-advertise-peer-urls={} (resolved urls: {:?} != {:?})",
                    mine.join(","),
                    initial_advertise_peer_urls.join(","),
                    mine,
                    initial_advertise_peer_urls
                )));
            }
        }
        let initial_cluster_state = match s("initial-cluster-state").as_str() {
            "new" => ClusterState::New,
            "existing" => ClusterState::Existing,
            other => {
                return Err(ConfigError::Invalid(format!(
                    "invalid value \"{other}\" for flag -initial-cluster-state: valid values are \"new\" or \"existing\""
                )));
            }
        };
        let number = |k: &str| -> Result<u64, ConfigError> {
            s(k).parse::<u64>().map_err(|_| {
                ConfigError::Usage(format!(
                    "invalid value {:?} for flag -{k}: parse error",
                    s(k)
                ))
            })
        };
        let heartbeat_interval_ms = number("heartbeat-interval")?;
        let election_timeout_ms = number("election-timeout")?;
        if heartbeat_interval_ms == 0 || election_timeout_ms < 5 * heartbeat_interval_ms {
            return Err(ConfigError::Invalid(format!(
                "--election-timeout[{election_timeout_ms}ms] should be at least as 5 times as --heartbeat-interval[{heartbeat_interval_ms}ms]"
            )));
        }
        Ok(Config {
            data_dir,
            listen_client_urls: urls("listen-client-urls")?,
            advertise_client_urls: urls("advertise-client-urls")?,
            listen_peer_urls: urls("listen-peer-urls")?,
            initial_advertise_peer_urls,
            initial_cluster,
            initial_cluster_state,
            initial_cluster_token: s("initial-cluster-token"),
            snapshot_count: number("snapshot-count")?.max(1),
            heartbeat_interval_ms,
            election_timeout_ms,
            discovery,
            discovery_fallback: s("discovery-fallback"),
            name,
        })
    }
}

fn clap_message(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() == ErrorKind::UnknownArgument
        && let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg)
    {
        let flag = arg.split('=').next().unwrap_or(arg).trim_start_matches('-');
        return format!("flag provided but not defined: -{flag}");
    }
    let text = e.to_string();
    text.lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_string()
}

/// A comma-separated URL list; each must be `http://host:port` (we serve no TLS).
pub fn parse_urls(flag: &str, text: &str) -> Result<Vec<String>, ConfigError> {
    let mut out = Vec::new();
    for u in text.split(',').map(str::trim).filter(|u| !u.is_empty()) {
        host_port(u).map_err(|why| {
            ConfigError::Invalid(format!("invalid value {text:?} for flag -{flag}: {why}"))
        })?;
        out.push(u.trim_end_matches('/').to_string());
    }
    if out.is_empty() {
        return Err(ConfigError::Invalid(format!(
            "invalid value {text:?} for flag -{flag}: no URLs given"
        )));
    }
    Ok(out)
}

/// `http://host:port[/]` → `host:port`, with `localhost` meaning 127.0.0.1 as etcd resolves it.
pub fn host_port(url: &str) -> Result<String, String> {
    let rest = if let Some(r) = url.strip_prefix("http://") {
        r
    } else if url.starts_with("https://") || url.starts_with("unix") {
        return Err(format!("{url}: TLS and unix sockets are not supported"));
    } else {
        return Err(format!(
            "URL scheme must be http, https, unix, or unixs: {url}"
        ));
    };
    let hp = rest.trim_end_matches('/');
    if hp.contains('/') {
        return Err(format!("URL must not contain a path: {url}"));
    }
    let Some((host, port)) = hp.rsplit_once(':') else {
        return Err(format!(
            "URL address does not have the form \"host:port\": {url}"
        ));
    };
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err(format!(
            "URL address does not have the form \"host:port\": {url}"
        ));
    }
    let host = if host == "localhost" {
        "127.0.0.1"
    } else {
        host
    };
    Ok(format!("{host}:{port}"))
}

/// `n1=http://a:2380,n1=http://a2:2380,n2=http://b:2380` → name → URLs.
pub fn parse_initial_cluster(text: &str) -> Result<BTreeMap<String, Vec<String>>, ConfigError> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut seen = std::collections::BTreeSet::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let Some((name, url)) = item.split_once('=') else {
            return Err(ConfigError::Invalid(format!(
                "invalid value {text:?} for flag -initial-cluster: {item:?} is not of the form name=url"
            )));
        };
        host_port(url).map_err(|why| {
            ConfigError::Invalid(format!(
                "invalid value {text:?} for flag -initial-cluster: {why}"
            ))
        })?;
        let url = url.trim_end_matches('/').to_string();
        if !seen.insert(url.clone()) {
            return Err(ConfigError::Invalid(format!(
                "--initial-cluster has duplicate url {url}"
            )));
        }
        out.entry(name.to_string()).or_default().push(url);
    }
    if out.is_empty() {
        return Err(ConfigError::Invalid(
            "--initial-cluster must not be empty".to_string(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, ConfigError> {
        let mut v = vec![OsString::from("etcd")];
        v.extend(args.iter().map(OsString::from));
        match Config::parse(v)? {
            Invocation::Run(c) => Ok(*c),
            Invocation::PrintVersion => panic!("version"),
        }
    }

    #[test]
    fn defaults_are_etcds() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.name, "default");
        assert_eq!(c.data_dir, PathBuf::from("default.etcd"));
        assert_eq!(c.listen_client_urls, vec!["http://localhost:2379"]);
        assert_eq!(
            c.initial_cluster.get("default").unwrap(),
            &vec!["http://localhost:2380".to_string()]
        );
        assert_eq!(c.snapshot_count, 100_000);
    }

    #[test]
    fn go_style_flags_and_last_value_wins() {
        let c = parse(&[
            "-name",
            "n1",
            "--data-dir=/tmp/x",
            "-listen-client-urls",
            "http://127.0.0.52:2379",
            "--enable-v2=true",
            "--name",
            "n2",
            "-initial-cluster",
            "n2=http://localhost:2380",
        ])
        .unwrap();
        assert_eq!(c.name, "n2");
        assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(c.listen_client_urls, vec!["http://127.0.0.52:2379"]);
    }

    #[test]
    fn cluster_errors_are_clear() {
        let e = parse(&[
            "--name",
            "x",
            "--initial-cluster",
            "a=http://127.0.0.1:2380",
        ]);
        assert!(
            e.unwrap_err()
                .to_string()
                .contains("couldn't find local name")
        );
        let e = parse(&["--initial-cluster", "default=notaurl"]);
        assert!(e.unwrap_err().to_string().contains("URL scheme"));
        let e = parse(&["--bogus"]);
        assert_eq!(
            e.unwrap_err().to_string(),
            "flag provided but not defined: -bogus"
        );
    }
}
