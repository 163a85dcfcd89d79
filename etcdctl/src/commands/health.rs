//! `cluster-health [--forever]` (etcd: ctlv2/command/cluster_health.go).
//!
//! Lists members without syncing, probes each member's client URLs at `/health`, prints one line
//! per member and a verdict; exit 0 when every member is healthy, 5 otherwise.

use std::time::Duration;

use crate::cli::ClusterHealthArgs;
use crate::client::Client;
use crate::output::{self, EXIT_CLUSTER_NOT_HEALTHY, EXIT_SERVER_ERROR, Exit};
use etcd_common::Member;

use super::{Ctx, connect_no_sync};

/// `{"health":"true"}` (etcd 3.x) or `{"health":true}` (2.x); Go matches the field name
/// case-insensitively.
fn parse_health(body: &[u8]) -> Result<bool, String> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let obj = v.as_object().ok_or_else(|| {
        "json: cannot unmarshal into Go value of type struct { Health bool }".to_string()
    })?;
    let field = obj
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("health"))
        .map(|(_, v)| v);
    Ok(match field {
        Some(serde_json::Value::String(s)) => s == "true",
        Some(serde_json::Value::Bool(b)) => *b,
        _ => false,
    })
}

pub async fn cluster_health(ctx: &Ctx, a: &ClusterHealthArgs) -> Result<(), Exit> {
    let mut c = connect_no_sync(ctx).await?;
    let members = match c.member_list(None).await {
        Ok(m) => m,
        Err(e) => {
            output::out("cluster may be unhealthy: failed to list members\n");
            return Err(output::fail_client(EXIT_SERVER_ERROR, &e));
        }
    };
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    loop {
        let mut healthy = 0usize;
        for m in &members {
            if check_member(&mut c, m).await {
                healthy += 1;
            }
        }
        if healthy == members.len() {
            output::out("cluster is healthy\n");
        } else if healthy == 0 {
            output::out("cluster is unavailable\n");
        } else {
            output::out("cluster is degraded\n");
        }
        if !a.forever {
            return if healthy == members.len() {
                Ok(())
            } else {
                Err(Exit(EXIT_CLUSTER_NOT_HEALTHY))
            };
        }
        output::out("\nnext check after 10 second...\n\n");
        let sleep = tokio::time::sleep(Duration::from_secs(10));
        match sigint.as_mut() {
            Some(s) => {
                tokio::select! {
                    _ = sleep => {}
                    _ = s.recv() => return Err(Exit(0)),
                }
            }
            None => sleep.await,
        }
    }
}

/// Probe one member's client URLs until one answers; print etcdctl's line for it. Whether it
/// answered healthy.
async fn check_member(c: &mut Client, m: &Member) -> bool {
    let mut healthy = false;
    if m.client_urls.is_empty() {
        output::out(&format!(
            "member {} is unreachable: no available published client urls\n",
            m.id
        ));
        return false;
    }
    let mut checked = false;
    for url in &m.client_urls {
        let body = match c.probe(url).await {
            Ok(b) => b,
            Err(e) => {
                output::out(&format!(
                    "failed to check the health of member {} on {url}: {e}\n",
                    m.id
                ));
                continue;
            }
        };
        match parse_health(&body) {
            Ok(true) => {
                output::out(&format!(
                    "member {} is healthy: got healthy result from {url}\n",
                    m.id
                ));
                healthy = true;
            }
            Ok(false) => output::out(&format!(
                "member {} is unhealthy: got unhealthy result from {url}\n",
                m.id
            )),
            Err(e) => {
                output::out(&format!(
                    "failed to check the health of member {} on {url}: {e}\n",
                    m.id
                ));
                continue;
            }
        }
        checked = true;
        break;
    }
    if !checked {
        output::out(&format!(
            "member {} is unreachable: [{}] are all unreachable\n",
            m.id,
            m.client_urls.join(" ")
        ));
    }
    healthy
}

#[cfg(test)]
mod tests {
    use super::parse_health;

    #[test]
    fn health_bodies() {
        assert_eq!(parse_health(br#"{"health":"true"}"#), Ok(true));
        assert_eq!(parse_health(br#"{"health":true}"#), Ok(true));
        assert_eq!(parse_health(br#"{"health":"false"}"#), Ok(false));
        assert!(parse_health(b"nope").is_err());
    }
}
