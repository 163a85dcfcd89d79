//! Who this member is: its id and its cluster's, from its data dir when it has one, from
//! `--initial-cluster` for a new cluster, or from the existing members when it joins one.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use tokio::time::Instant;

use super::StartError;
use crate::boot::flags::{ClusterState, Config};
use crate::boot::identity::{self, Identity};
use crate::raft::forward;
use crate::raft::network::{PeerClient, PeerError};
use crate::raft::types::MemberInfo;

/// How long a joining member keeps asking before it gives up.
const JOIN_LIMIT: Duration = Duration::from_secs(30);

/// How many answers "not a member" it takes before a joining member gives up (a short grace
/// covers a `member add` still committing when it started).
const NOT_LISTED_LIMIT: u32 = 10;

/// The identity of a member with no data yet.
pub async fn new_identity(config: &Config) -> Result<Identity, StartError> {
    if config.initial_cluster_state == ClusterState::Existing {
        return join_existing(config).await;
    }
    let mut initial_members: BTreeMap<u64, MemberInfo> = BTreeMap::new();
    for (name, urls) in &config.initial_cluster {
        let id = identity::member_id(urls, &config.initial_cluster_token, None);
        initial_members.insert(
            id,
            MemberInfo {
                name: name.clone(),
                peer_urls: urls.clone(),
                client_urls: Vec::new(),
            },
        );
    }
    let me = identity::member_id(
        &config.initial_advertise_peer_urls,
        &config.initial_cluster_token,
        None,
    );
    let ids: Vec<u64> = initial_members.keys().copied().collect();
    Ok(Identity {
        member_id: me,
        cluster_id: identity::cluster_id(&ids),
        name: config.name.clone(),
        bootstrap: Some(initial_members),
    })
}

/// A member started with `--initial-cluster-state existing` learns its id (assigned by
/// `member add`) and the cluster id from the other members listed in `--initial-cluster`.
async fn join_existing(config: &Config) -> Result<Identity, StartError> {
    let mine: BTreeSet<&String> = config.initial_advertise_peer_urls.iter().collect();
    let others: Vec<&String> = config
        .initial_cluster
        .values()
        .flatten()
        .filter(|u| !mine.contains(u))
        .collect();
    let not_added = format!(
        "member with peer URLs {} has not been added to the cluster (use `etcdctl member add` first)",
        config.initial_advertise_peer_urls.join(",")
    );
    let client = PeerClient::joining(&config.initial_advertise_peer_urls, &config.peer_client_tls);
    let deadline = Instant::now() + JOIN_LIMIT;
    let mut last_error = String::from("no other members in --initial-cluster");
    let mut not_listed = 0;
    while Instant::now() < deadline {
        for base in &others {
            let found = match forward::cluster_info(&client, base, Duration::from_secs(2)).await {
                Ok(info) => info
                    .members
                    .iter()
                    .find(|(_, m)| m.peer_urls.iter().collect::<BTreeSet<_>>() == mine)
                    .map(|(id, _)| (*id, info.cluster_id)),
                // A member refuses the member list to whoever `member add` did not record.
                Err(PeerError::Refused(_)) => None,
                Err(e) => {
                    last_error = format!("cannot reach {base}: {e}");
                    continue;
                }
            };
            if let Some((member_id, cluster_id)) = found {
                return Ok(Identity {
                    member_id,
                    cluster_id,
                    name: config.name.clone(),
                    bootstrap: None,
                });
            }
            not_listed += 1;
            if not_listed >= NOT_LISTED_LIMIT {
                return Err(StartError::Config(format!(
                    "cannot join the existing cluster: {not_added}"
                )));
            }
            last_error = not_added.clone();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(StartError::Config(format!(
        "cannot join the existing cluster: {last_error}"
    )))
}
