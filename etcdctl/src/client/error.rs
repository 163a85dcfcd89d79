//! Why a request failed, worded exactly as etcdctl's Go client words it (etcd: client/client.go
//! `ClusterError`, net's dial/read errors, `http.StatusText`).

use std::fmt;

use etcd_common::ErrorBody;

use super::endpoint::Endpoint;

/// Why one endpoint failed a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointError {
    pub message: String,
    /// Go's `isConnectionError`: a dial/read failure or a timeout, as opposed to e.g. a 5xx.
    pub connection: bool,
}

/// A failed request, displayed exactly as etcdctl's Go client formats it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// The server answered with a v2 error body.
    Etcd(ErrorBody),
    /// Every endpoint failed (`client: etcd cluster is unavailable or misconfigured; …`).
    Cluster(Vec<EndpointError>),
    /// A one-shot request failed on the endpoint it was sent to.
    Endpoint(EndpointError),
    /// `--total-timeout` elapsed.
    DeadlineExceeded,
    /// Sync found no published client URLs.
    NoEndpoints,
    EmptyBody,
    InvalidJson,
    /// Anything else, already formatted.
    Other(String),
}

impl ClientError {
    /// Go's `isConnectionError`, which decides between exit codes 2 and 4 after a failed sync.
    pub fn is_connection_error(&self) -> bool {
        match self {
            ClientError::Cluster(errs) => errs.iter().all(|e| e.connection),
            ClientError::Endpoint(e) => e.connection,
            ClientError::DeadlineExceeded => true,
            _ => false,
        }
    }

    /// The extra lines etcdctl prints after a `ClusterError` (`ClusterError.Detail()`).
    pub fn detail(&self) -> Option<String> {
        match self {
            ClientError::Cluster(errs) => {
                let mut s = String::new();
                for (i, e) in errs.iter().enumerate() {
                    s.push_str(&format!("error #{i}: {}\n", e.message));
                }
                Some(s)
            }
            _ => None,
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Etcd(b) => write!(f, "{b}"),
            ClientError::Cluster(errs) => {
                f.write_str("client: etcd cluster is unavailable or misconfigured")?;
                for (i, e) in errs.iter().enumerate() {
                    writeln!(f, "; error #{i}: {}", e.message)?;
                }
                Ok(())
            }
            ClientError::Endpoint(e) => f.write_str(&e.message),
            ClientError::DeadlineExceeded => f.write_str("context deadline exceeded"),
            ClientError::NoEndpoints => f.write_str("client: no endpoints available"),
            ClientError::EmptyBody => f.write_str("client: response body is empty"),
            ClientError::InvalidJson => f.write_str(
                "client: response is invalid json. The endpoint is probably not valid etcd cluster endpoint",
            ),
            ClientError::Other(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for ClientError {}

/// Describe a transport failure the way Go's net package would.
pub(crate) fn map_reqwest_error(e: &reqwest::Error, ep: &Endpoint) -> EndpointError {
    if let Some(message) = super::transport::tls_failure(e) {
        return EndpointError {
            message,
            connection: false,
        };
    }
    let io = io_error_in(e);
    let reason = match io {
        Some(k) => io_reason(k),
        None if e.is_timeout() => "i/o timeout".to_string(),
        None => {
            return EndpointError {
                message: e.to_string(),
                connection: e.is_connect() || e.is_body() || e.is_request(),
            };
        }
    };
    let message = if e.is_connect() {
        format!("dial tcp {}: connect: {reason}", ep.host_port)
    } else if reason == "unexpected EOF" {
        reason
    } else {
        format!("read tcp {}: read: {reason}", ep.host_port)
    };
    EndpointError {
        message,
        connection: true,
    }
}

fn io_error_in(e: &reqwest::Error) -> Option<&std::io::Error> {
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        src = s.source();
    }
    None
}

fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => "connection refused".into(),
        ConnectionReset => "connection reset by peer".into(),
        TimedOut => "i/o timeout".into(),
        UnexpectedEof => "unexpected EOF".into(),
        HostUnreachable => "no route to host".into(),
        NetworkUnreachable => "network is unreachable".into(),
        _ => {
            let s = e.to_string();
            let s = match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            };
            let mut c = s.chars();
            match c.next() {
                Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
                None => s,
            }
        }
    }
}

/// Go's `http.StatusText` for the 5xx codes that reach the failover loop.
pub(crate) fn status_text(code: u16) -> &'static str {
    match code {
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}
