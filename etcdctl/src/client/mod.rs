//! The HTTP side of etcdctl: endpoints, failover across members, per-request and total timeouts,
//! cluster sync, `--debug` cURL lines, and the v2 keys/members requests.
//!
//! This mirrors etcd's Go `client` package (client/client.go, keys.go, members.go) closely because
//! etcdctl's messages and exit codes are shaped by it: a request is tried on every endpoint in turn
//! (starting from the pinned one) and fails with a `ClusterError` listing each endpoint's failure;
//! create (`prevExist=false`) and delete requests are "one shot" and report the first failure as is.
//! Never prints anything except the `--debug` cURL lines.
//!
//! Split by concern: [`endpoint`] (one member's URL), [`transport`] (one exchange), this file
//! (the endpoint list, failover and sync), [`requests`] and [`members`] (what is asked),
//! [`error`] (how failures read).

pub mod auth;
pub mod endpoint;
pub mod error;
pub mod members;
pub mod requests;
pub mod transport;

use std::time::Duration;

use tokio::time::Instant;

pub use endpoint::Endpoint;
pub use error::{ClientError, EndpointError};
pub use requests::{
    Action, Body, DeleteOptions, KeyResponse, SetOptions, create_in_order_action, delete_action,
    get_action, header_u64, parse_key_response, set_action, wait_action,
};
pub use transport::HttpResponse;

use error::status_text;

/// How etcdctl was asked to connect.
#[derive(Debug, Clone)]
pub struct Config {
    pub endpoints: Vec<String>,
    pub header_timeout: Duration,
    pub total_timeout: Duration,
    pub debug: bool,
    pub credentials: Option<(String, String)>,
    pub tls: transport::TlsFiles,
}

/// The cluster client: an ordered endpoint list with a pinned (last good) member.
pub struct Client {
    http: reqwest::Client,
    endpoints: Vec<Endpoint>,
    pinned: usize,
    header_timeout: Duration,
    pub total_timeout: Duration,
    debug: bool,
    credentials: Option<(String, String)>,
    /// X-Etcd-Index of the last long-poll whose headers arrived (the watcher's start index).
    wait_index: std::cell::Cell<Option<u64>>,
}

impl Client {
    pub fn new(cfg: Config) -> Result<Client, String> {
        let endpoints = cfg
            .endpoints
            .iter()
            .map(|e| Endpoint::parse(e))
            .collect::<Result<Vec<_>, _>>()?;
        // etcd: etcdctl getTransport — dial timeout is min(30s, total-timeout).
        let mut dial = Duration::from_secs(30);
        if !cfg.total_timeout.is_zero() && cfg.total_timeout < dial {
            dial = cfg.total_timeout;
        }
        let http = transport::with_tls(reqwest::Client::builder(), &cfg.tls)?
            .no_proxy()
            .connect_timeout(dial)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Client {
            http,
            endpoints,
            pinned: 0,
            header_timeout: cfg.header_timeout,
            total_timeout: cfg.total_timeout,
            debug: cfg.debug,
            credentials: cfg.credentials,
            wait_index: std::cell::Cell::new(None),
        })
    }

    pub fn endpoints(&self) -> Vec<String> {
        self.endpoints.iter().map(|e| e.text.clone()).collect()
    }

    /// The X-Etcd-Index reported by the most recent long-poll, once.
    pub fn take_wait_index(&self) -> Option<u64> {
        self.wait_index.take()
    }

    /// A deadline `--total-timeout` from now (Go's context.WithTimeout: zero expires at once).
    pub fn total_deadline(&self) -> Option<Instant> {
        Some(Instant::now() + self.total_timeout)
    }

    /// etcd: client.go httpClusterClient.Do — try each endpoint starting from the pinned one.
    pub async fn send(
        &mut self,
        deadline: Option<Instant>,
        action: &Action,
        one_shot: bool,
    ) -> Result<HttpResponse, ClientError> {
        let n = self.endpoints.len();
        if n == 0 {
            return Err(ClientError::NoEndpoints);
        }
        let pinned = self.pinned;
        let mut errors: Vec<EndpointError> = Vec::new();
        for i in pinned..pinned + n {
            let k = i % n;
            let ep = self.endpoints[k].clone();
            let err = match self.send_one(&ep, deadline, action).await {
                Err(ClientError::DeadlineExceeded) => return Err(ClientError::DeadlineExceeded),
                Err(ClientError::Endpoint(e)) => {
                    errors.push(e);
                    true
                }
                Err(other) => return Err(other),
                Ok(resp) if resp.status / 100 == 5 => {
                    let message = match resp.status {
                        500 | 503 => format!("client: etcd member {} has no leader", ep.text),
                        s => format!(
                            "client: etcd member {} returns server error [{}]",
                            ep.text,
                            status_text(s)
                        ),
                    };
                    errors.push(EndpointError {
                        message,
                        connection: false,
                    });
                    true
                }
                Ok(resp) => {
                    self.pinned = k;
                    return Ok(resp);
                }
            };
            if err && one_shot {
                self.pinned = (k + 1) % n;
                // Go returns the first error collected (which is this endpoint's).
                return Err(ClientError::Endpoint(errors.swap_remove(0)));
            }
        }
        Err(ClientError::Cluster(errors))
    }

    /// etcd: client.go Sync — replace the endpoints with the members' client URLs.
    pub async fn sync(&mut self, deadline: Option<Instant>) -> Result<(), ClientError> {
        let members = self.member_list(deadline).await?;
        let urls: Vec<String> = members
            .iter()
            .flat_map(|m| m.client_urls.iter().cloned())
            .collect();
        if urls.is_empty() {
            return Err(ClientError::NoEndpoints);
        }
        let mut now: Vec<String> = self.endpoints();
        let mut new = urls.clone();
        now.sort();
        new.sort();
        if now == new {
            return Ok(());
        }
        let eps = urls
            .iter()
            .map(|u| Endpoint::parse(u))
            .collect::<Result<Vec<_>, _>>()
            .map_err(ClientError::Other)?;
        self.endpoints = eps;
        self.pinned = 0;
        Ok(())
    }

    // ---- key space ----------------------------------------------------------------------
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_error_text() {
        let e = ClientError::Cluster(vec![
            EndpointError {
                message: "dial tcp 127.0.0.1:2: connect: connection refused".into(),
                connection: true,
            },
            EndpointError {
                message: "dial tcp 127.0.0.1:1: connect: connection refused".into(),
                connection: true,
            },
        ]);
        assert_eq!(
            e.to_string(),
            "client: etcd cluster is unavailable or misconfigured; error #0: dial tcp 127.0.0.1:2: connect: connection refused\n; error #1: dial tcp 127.0.0.1:1: connect: connection refused\n"
        );
        assert!(e.is_connection_error());
    }
}
