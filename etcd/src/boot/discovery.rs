//! Bootstrap through a discovery URL: another etcd v2 cluster's
//! `/v2/keys/<registry>/<token>` directory (etcd: server/etcdserver/api/v2discovery).
//!
//! Each member reads the expected size from `<token>/_config/size`, registers itself as
//! `<token>/<member id>` = `name=peerURL,…`, then waits until `size` members have registered;
//! the first `size` (by creation index) form the initial cluster. Nothing is written to our own
//! data dir until this has succeeded.

use std::collections::BTreeMap;
use std::time::Duration;

use etcd_common::{ErrorBody, Node, Response};

use crate::boot::flags::{Config, parse_initial_cluster};
use crate::boot::identity;

#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("discovery: size key not found")]
    SizeNotFound,
    #[error("discovery: bad size key: {0}")]
    BadSize(String),
    #[error("discovery: cluster is full")]
    FullCluster,
    #[error("discovery: duplicate ID")]
    DuplicateId,
    #[error("discovery: {0}")]
    Other(String),
}

/// Register with the discovery service and return the initial cluster (name → peer URLs).
pub async fn discover(
    config: &Config,
    url: &str,
) -> Result<BTreeMap<String, Vec<String>>, DiscoveryError> {
    // An https discovery URL is verified with the peer CA (or the system's roots), and our peer
    // certificate is presented if the discovery cluster asks for one.
    let http = config
        .peer_client_tls
        .apply(reqwest::Client::builder())
        .no_proxy()
        .build()
        .map_err(|e| DiscoveryError::Other(e.to_string()))?;
    let base = url.trim_end_matches('/');
    let me = identity::member_id(
        &config.initial_advertise_peer_urls,
        &config.initial_cluster_token,
        None,
    );
    let size = get_size(&http, base).await?;
    let registered = list(&http, base).await?;
    let my_key = format!("{}/{me:x}", key_of(base));
    if registered.len() >= size && !registered.iter().take(size).any(|n| n.key == my_key) {
        return Err(DiscoveryError::FullCluster);
    }
    let value = config
        .initial_advertise_peer_urls
        .iter()
        .map(|u| format!("{}={u}", config.name))
        .collect::<Vec<_>>()
        .join(",");
    let resp = http
        .put(format!("{base}/{me:x}"))
        .query(&[("prevExist", "false")])
        .form(&[("value", value.as_str())])
        .send()
        .await
        .map_err(|e| DiscoveryError::Other(e.to_string()))?;
    if !resp.status().is_success() {
        let body: Option<ErrorBody> = resp.json().await.ok();
        // Already registered by an earlier attempt of ours: fine.
        if body.as_ref().is_none_or(|b| b.error_code != 105) {
            return Err(DiscoveryError::DuplicateId);
        }
    }
    // Wait (bounded by the caller's patience: etcd waits indefinitely) until enough members.
    for _ in 0..3000 {
        let nodes = list(&http, base).await?;
        if nodes.len() >= size {
            let text = nodes
                .iter()
                .take(size)
                .filter_map(|n| n.value.clone())
                .collect::<Vec<_>>()
                .join(",");
            return parse_initial_cluster(&text).map_err(|e| DiscoveryError::Other(e.to_string()));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(DiscoveryError::Other(
        "timed out waiting for other members to register".to_string(),
    ))
}

/// `/v2/keys/_etcd/registry/abc` part of the URL, as the keys in the registry are named.
fn key_of(base: &str) -> String {
    let after_scheme = base.split_once("://").map_or(base, |(_, r)| r);
    let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
    path.strip_prefix("/v2/keys").unwrap_or(path).to_string()
}

async fn get_size(http: &reqwest::Client, base: &str) -> Result<usize, DiscoveryError> {
    let resp = http
        .get(format!("{base}/_config/size"))
        .send()
        .await
        .map_err(|e| DiscoveryError::Other(e.to_string()))?;
    if resp.status() == reqwest::StatusCode::NOT_FOUND {
        return Err(DiscoveryError::SizeNotFound);
    }
    let r: Response = resp
        .json()
        .await
        .map_err(|e| DiscoveryError::Other(e.to_string()))?;
    let v = r.node.and_then(|n| n.value).unwrap_or_default();
    v.parse::<usize>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or(DiscoveryError::BadSize(v))
}

/// Registered members, oldest first, without `_config`.
async fn list(http: &reqwest::Client, base: &str) -> Result<Vec<Node>, DiscoveryError> {
    let resp = http
        .get(base)
        .send()
        .await
        .map_err(|e| DiscoveryError::Other(e.to_string()))?;
    if resp.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(Vec::new());
    }
    let r: Response = resp
        .json()
        .await
        .map_err(|e| DiscoveryError::Other(e.to_string()))?;
    let mut nodes: Vec<Node> = r
        .node
        .and_then(|n| n.nodes)
        .unwrap_or_default()
        .into_iter()
        .filter(|n| !n.dir && !n.key.ends_with("/_config"))
        .collect();
    nodes.sort_by_key(|n| n.created_index);
    Ok(nodes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn registry_key_from_url() {
        assert_eq!(
            super::key_of("http://127.0.0.1:2379/v2/keys/_etcd/registry/abc"),
            "/_etcd/registry/abc"
        );
    }
}
