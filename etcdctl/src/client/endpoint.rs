//! One endpoint (`http://127.0.0.1:2379`) split into what requests need, and the URL the Go
//! client builds for a request against it.

use etcd_common::go::path::canonical_url_path;
use etcd_common::go::url::{encode_values, path_escape};

/// One endpoint: `http://127.0.0.1:2379` split into what requests need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// As etcdctl prints it (`Cluster-Endpoints: …`, error messages).
    pub text: String,
    /// `scheme://authority`.
    pub(crate) base: String,
    /// The endpoint's own path (usually empty).
    pub(crate) path: String,
    /// `host:port` for Go-style dial error messages.
    pub(crate) host_port: String,
}

impl Endpoint {
    pub fn parse(s: &str) -> Result<Endpoint, String> {
        let text = if s.contains("://") {
            s.to_string()
        } else {
            format!("http://{s}")
        };
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| format!("parse {s:?}: invalid URL"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.is_empty() {
            return Err(format!("parse {s:?}: missing host"));
        }
        let host_port = if authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        {
            authority.to_string()
        } else if scheme == "https" {
            format!("{authority}:443")
        } else {
            format!("{authority}:80")
        };
        let host_port = host_port.replacen("localhost:", "127.0.0.1:", 1);
        Ok(Endpoint {
            base: format!("{scheme}://{authority}"),
            path: path.to_string(),
            host_port,
            text,
        })
    }

    pub(crate) fn url(&self, path: &str, query: &[(&str, String)]) -> String {
        let mut u = format!(
            "{}{}",
            self.base,
            path_escape(&canonical_url_path(&format!("{}{}", self.path, path)))
        );
        if !query.is_empty() {
            u.push('?');
            u.push_str(&encode_values(query));
        }
        u
    }
}
