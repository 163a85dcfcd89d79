//! `--force-new-cluster` (etcd's disaster recovery): this member, with the data it holds,
//! becomes a cluster of one. Before raft starts, the log gets one more entry, a configuration
//! whose only member is this one, under a new term this member has voted itself in; raft then
//! elects it alone and commits that entry like any other. The other members' entries stay in
//! the log: a later restart without the flag finds the one-member configuration there.
//!
//! Unlike etcd, which drops the entries after the commit index it recorded, every entry this
//! member holds is kept: our recorded commit index may lag (it is written lazily), and dropping
//! what lies beyond it could drop acknowledged writes.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::Path;

use openraft::Membership;
use openraft::RaftLogReader;
use openraft::entry::RaftEntry;
use openraft::storage::{IOFlushed, RaftLogStorage, RaftStateMachine};
use openraft::type_config::TypeConfigExt;
use openraft::vote::RaftLeaderIdExt;

use super::log_store::LogStore;
use super::state_machine::StateMachine;
use super::types::{Entry, LogId, MemberInfo, TypeConfig, Vote};

/// Entries read at a time while looking for the newest configuration, newest first.
const SCAN_CHUNK: u64 = 1024;

/// Rewrites the log in `log` so that `me` is the only member; the store keeps its data.
pub(super) async fn rewrite(
    log: &mut LogStore<TypeConfig>,
    sm: &mut StateMachine,
    me: u64,
) -> io::Result<()> {
    // A new data dir (nothing rewritten) has no old cluster to leave; it bootstraps as
    // configured.
    rewrite_as(log, sm, me, me, "--force-new-cluster")
        .await
        .map(drop)
}

/// `etcdctl backup`: the copy of a data dir in `dir` becomes a cluster of one whose only
/// member is `new`, with the name and URLs `old` has there. A new id (and with it a new cluster
/// id) means the copy can never rejoin, or be mistaken for, the cluster it came from.
pub async fn rebirth(dir: &Path, old: u64, new: u64) -> io::Result<()> {
    let (mut log, mut sm) = super::node::open_stores(dir).await?;
    let rewritten = rewrite_as(&mut log, &mut sm, old, new, "backup").await;
    drop(sm);
    // Closed before answering, so the copy is whole once the caller says so.
    let closed = log.close().await;
    if !rewritten? {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "backup: the data dir holds no raft log yet (its member never started)",
        ));
    }
    closed
}

/// Appends a configuration whose only member is `new`, holding `old`'s entry of the newest
/// configuration, under a new term `new` has voted itself in. False when the log is empty.
async fn rewrite_as(
    log: &mut LogStore<TypeConfig>,
    sm: &mut StateMachine,
    old: u64,
    new: u64,
    why: &str,
) -> io::Result<bool> {
    let state = log.get_log_state().await?;
    if state.last_log_id.is_none() {
        return Ok(false);
    }
    let info = newest_config(
        log,
        sm,
        state.last_purged_log_id.as_ref(),
        state.last_log_id.as_ref(),
    )
    .await?
    .and_then(|m| m.get_node(&old).cloned())
    .ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{why}: this member is not in the configuration its data dir holds"),
        )
    })?;
    let vote = log.read_vote().await?;
    let term = [
        vote.as_ref().map(|v| v.leader_id().term),
        state.last_log_id.as_ref().map(|l| l.leader_id.term),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(0)
        + 1;
    let index = state.last_log_id.as_ref().map_or(0, |l| l.index + 1);
    let alone = Membership::new(
        vec![BTreeSet::from([new])],
        BTreeMap::<u64, MemberInfo>::from([(new, info)]),
    )
    .map_err(io::Error::other)?;
    log.save_vote(&Vote::new(term, new)).await?;
    let log_id = LogId::new(
        openraft::alias::LeaderIdOf::<TypeConfig>::new_committed(term, new),
        index,
    );
    let (tx, rx) = TypeConfig::oneshot();
    log.append(
        [Entry::new_membership(log_id, alone)],
        IOFlushed::signal(tx),
    )
    .await?;
    rx.await
        .map_err(|_| io::Error::other(format!("{why}: log append dropped")))??;
    tracing::warn!(term, index, "{why}: this member is now a cluster of one");
    Ok(true)
}

/// The newest configuration: the last one in the log, else the state machine's.
async fn newest_config(
    log: &mut LogStore<TypeConfig>,
    sm: &mut StateMachine,
    purged: Option<&LogId>,
    last: Option<&LogId>,
) -> io::Result<Option<Membership<u64, MemberInfo>>> {
    let first = purged.map_or(0, |p| p.index + 1);
    let mut end = last.map_or(0, |l| l.index + 1);
    while end > first {
        let start = end.saturating_sub(SCAN_CHUNK).max(first);
        let entries = log.try_get_log_entries(start..end).await?;
        if let Some(m) = entries.iter().rev().find_map(|e| e.get_membership()) {
            return Ok(Some(m));
        }
        end = start;
    }
    let (_, stored) = sm.applied_state().await?;
    Ok(Some(stored.membership().clone()))
}
