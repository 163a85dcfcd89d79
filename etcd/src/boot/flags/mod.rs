//! etcd's command line: the same flags, `ETCD_*` variables, defaults and Go flag-package
//! spellings (`-name n`, `--name=n`, last occurrence wins, `--enable-v2=true`), turned into a
//! validated [`Config`] before anything touches the data directory.
//!
//! [`table`] is the one flag table; [`help`] renders `etcd --help` from it, and `xtask` renders
//! `man/etcd.1` from [`command`].

pub mod help;
pub mod table;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

use clap::ArgMatches;

pub use table::command;

/// The etcd release we reproduce (`etcd --version`, the man page).
pub const VERSION: &str = "3.4.23";
pub const CLUSTER_VERSION: &str = "3.4.0";

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
    /// `-h`, `-help`, `--help`: print [`help::USAGE`] and [`help::flag_list`], exit 0.
    PrintHelp,
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
    /// The TLS flags; the files are read by `boot::tls::Tls::load`.
    pub tls: crate::boot::tls::TlsFlags,
    /// How peer requests dial, set from the loaded TLS before the cluster starts.
    pub peer_client_tls: crate::boot::tls::PeerClientTls,
    /// Timeouts and caps on the listeners' connections and on watchers per client address.
    pub limits: crate::boot::conn::Limits,
    /// Serve the 0.3 lock and leader modules (`--enable-mod`).
    pub enable_mod: bool,
    /// Start as a cluster of one with the data in the data dir (`--force-new-cluster`).
    pub force_new_cluster: bool,
}

impl Config {
    pub fn parse<I: IntoIterator<Item = OsString>>(args: I) -> Result<Invocation, ConfigError> {
        let m = command()
            .try_get_matches_from(normalise_args(args))
            .map_err(|e| ConfigError::Usage(clap_message(&e)))?;
        if m.get_flag("help") {
            return Ok(Invocation::PrintHelp);
        }
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
            tls: tls_flags(m),
            peer_client_tls: Default::default(),
            limits: limit_flags(m)?,
            enable_mod: m.get_one::<bool>("enable-mod").copied().unwrap_or(false),
            force_new_cluster: m
                .get_one::<bool>("force-new-cluster")
                .copied()
                .unwrap_or(false),
            name,
        })
    }
}

fn tls_flags(m: &ArgMatches) -> crate::boot::tls::TlsFlags {
    use crate::boot::tls::{SideFlags, TlsFlags};
    let s = |k: &str| m.get_one::<String>(k).cloned().unwrap_or_default();
    let b = |k: &str| m.get_one::<bool>(k).copied().unwrap_or(false);
    // etcd 3.3: `--ca-file ca.crt` is `--trusted-ca-file ca.crt --client-cert-auth`.
    let ca_file = s("ca-file");
    let mut client = SideFlags {
        cert_file: s("cert-file"),
        key_file: s("key-file"),
        client_cert_auth: b("client-cert-auth") || !ca_file.is_empty(),
        trusted_ca_file: s("trusted-ca-file"),
        auto_tls: b("auto-tls"),
    };
    if client.trusted_ca_file.is_empty() {
        client.trusted_ca_file = ca_file;
    }
    TlsFlags {
        client,
        peer: SideFlags {
            cert_file: s("peer-cert-file"),
            key_file: s("peer-key-file"),
            client_cert_auth: b("peer-client-cert-auth"),
            trusted_ca_file: s("peer-trusted-ca-file"),
            auto_tls: b("peer-auto-tls"),
        },
        cipher_suites: s("cipher-suites")
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(String::from)
            .collect(),
    }
}

/// The resource-limit flags; a zero turns a timeout or a watcher cap off, and a zero
/// `--max-connections` is derived from the open-files limit when serving starts.
fn limit_flags(m: &ArgMatches) -> Result<crate::boot::conn::Limits, ConfigError> {
    let s = |k: &str| m.get_one::<String>(k).cloned().unwrap_or_default();
    let bad = |k: &str| {
        ConfigError::Usage(format!(
            "invalid value {:?} for flag -{k}: parse error",
            s(k)
        ))
    };
    let duration = |k: &str| -> Result<Option<std::time::Duration>, ConfigError> {
        let nanos = etcd_common::go::time::parse_duration(&s(k))
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| bad(k))?;
        Ok((nanos > 0).then(|| std::time::Duration::from_nanos(nanos)))
    };
    let count = |k: &str| -> Result<Option<usize>, ConfigError> {
        let n = s(k).parse::<usize>().map_err(|_| bad(k))?;
        Ok((n > 0).then_some(n))
    };
    Ok(crate::boot::conn::Limits {
        header_read_timeout: duration("header-read-timeout")?,
        idle_timeout: duration("idle-timeout")?,
        max_connections: count("max-connections")?,
        max_watchers_per_client: count("max-watchers-per-client")?,
    })
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

/// A comma-separated URL list; each must be `http://host:port` or `https://host:port`.
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

/// `http(s)://host:port[/]` → `host:port`, with `localhost` meaning 127.0.0.1 as etcd resolves
/// it.
pub fn host_port(url: &str) -> Result<String, String> {
    let rest = if let Some(r) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    {
        r
    } else if url.starts_with("unix") {
        return Err(format!("{url}: unix sockets are not supported"));
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
    use std::time::Duration;

    use super::*;

    fn parse(args: &[&str]) -> Result<Config, ConfigError> {
        let mut v = vec![OsString::from("etcd")];
        v.extend(args.iter().map(OsString::from));
        match Config::parse(v)? {
            Invocation::Run(c) => Ok(*c),
            Invocation::PrintVersion | Invocation::PrintHelp => panic!("not a run"),
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
    fn every_help_spelling_asks_for_help() {
        for spelling in ["-h", "-help", "--help"] {
            let args = [OsString::from("etcd"), OsString::from(spelling)];
            assert!(
                matches!(Config::parse(args), Ok(Invocation::PrintHelp)),
                "{spelling}"
            );
        }
        assert!(Config::parse(["etcd", "-V"].map(OsString::from)).is_err());
    }

    #[test]
    fn https_urls_and_tls_flags_parse() {
        let c = parse(&[
            "--listen-client-urls",
            "https://127.0.0.1:2379,http://127.0.0.1:4001",
            "--cert-file",
            "c.pem",
            "--key-file=k.pem",
            "--ca-file",
            "ca.pem",
            "--peer-auto-tls",
            "--cipher-suites",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256",
        ])
        .unwrap();
        assert_eq!(c.listen_client_urls[0], "https://127.0.0.1:2379");
        assert_eq!(c.tls.client.cert_file, "c.pem");
        assert_eq!(c.tls.client.key_file, "k.pem");
        // etcd 3.3's --ca-file: a trusted CA and client-certificate auth in one flag.
        assert_eq!(c.tls.client.trusted_ca_file, "ca.pem");
        assert!(c.tls.client.client_cert_auth);
        assert!(c.tls.peer.auto_tls && !c.tls.client.auto_tls);
        assert_eq!(c.tls.cipher_suites.len(), 2);
        assert_eq!(
            host_port("https://localhost:2379/"),
            Ok("127.0.0.1:2379".into())
        );
    }

    #[test]
    fn limit_flags_parse_go_durations_and_zero_turns_off() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.limits.header_read_timeout, Some(Duration::from_secs(10)));
        assert_eq!(c.limits.idle_timeout, Some(Duration::from_secs(300)));
        assert_eq!(c.limits.max_connections, None);
        assert_eq!(c.limits.max_watchers_per_client, Some(20_000));
        let c = parse(&[
            "--header-read-timeout",
            "500ms",
            "--idle-timeout=0",
            "--max-connections",
            "50",
            "--max-watchers-per-client",
            "0",
        ])
        .unwrap();
        assert_eq!(
            c.limits.header_read_timeout,
            Some(Duration::from_millis(500))
        );
        assert_eq!(c.limits.idle_timeout, None);
        assert_eq!(c.limits.max_connections, Some(50));
        assert_eq!(c.limits.max_watchers_per_client, None);
        let e = parse(&["--idle-timeout", "5"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value \"5\" for flag -idle-timeout: parse error"
        );
        assert!(parse(&["--max-connections", "-1"]).is_err());
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
