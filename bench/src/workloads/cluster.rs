//! Workload (6): three members at `--election-timeout 1000`: sequential and 64-client PUT
//! through the leader and through a follower, then failover: kill -9 of the leader and the
//! time until a write succeeds on a survivor, [`FAILOVERS`] times a round (the killed member
//! restarted and the cluster writable on every member between two), since one sample of a
//! randomized election timeout says little.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use tokio::task::JoinSet;

use super::Opts;
use crate::load::{self, Conn};
use crate::server::{Bin, Cluster};
use crate::table::{Better, Table};

/// etcd's defaults, spelled out so both servers certainly run with the same timing.
const TIMING: [&str; 4] = ["--heartbeat-interval", "100", "--election-timeout", "1000"];
/// How long after the kill a write may take to succeed before the run counts as failed.
const FAILOVER_DEADLINE: Duration = Duration::from_secs(30);
/// A new write attempt is started this often while none has succeeded.
const ATTEMPT_EVERY: Duration = Duration::from_millis(10);
/// Leader kills per round.
const FAILOVERS: usize = 3;
/// How long a restarted member may take to accept a write again.
const REJOIN_DEADLINE: Duration = Duration::from_secs(30);

pub async fn run(opts: &Opts, bin: &Bin, t: &mut Table) -> Result<()> {
    let mut c = Cluster::start(bin, 3, &opts.dir, &TIMING).await?;
    let leader = c.leader().await?;
    let follower = (leader + 1) % 3;
    let f = bin.flavor;
    for (via, i) in [("leader", leader), ("follower", follower)] {
        let url = vec![c.members[i].client_url.clone()];
        let prefix = format!("s-{via}/k");
        let o = load::closed_loop(&url, 1, opts.phase, load::puts(&prefix, opts.value_len)).await;
        o.warn("3 members, PUT");
        t.record(
            &format!("(6) 3 members, PUT 1 client via {via}"),
            "ops/s",
            Better::Higher,
            f,
            o.rate(),
        );
        t.record(
            &format!("(6) 3 members, PUT 1 client via {via}: p50"),
            "ms",
            Better::Lower,
            f,
            o.quantile_ms(0.5),
        );
        let prefix = format!("c-{via}/k");
        let o = load::closed_loop(&url, 64, opts.phase, load::puts(&prefix, opts.value_len)).await;
        o.warn("3 members, PUT");
        t.record(
            &format!("(6) 3 members, PUT 64 clients via {via}"),
            "ops/s",
            Better::Higher,
            f,
            o.rate(),
        );
    }
    for round in 0..FAILOVERS {
        if round > 0 {
            for i in 0..3 {
                c.wait_writable(i, REJOIN_DEADLINE).await?;
            }
        }
        let secs = failover(&mut c).await?;
        t.record(
            "(6) failover: kill -9 leader → a write succeeds",
            "s",
            Better::Lower,
            f,
            secs,
        );
    }
    Ok(())
}

/// Kill the leader, time the first write on a survivor, and start the killed member again.
async fn failover(c: &mut Cluster) -> Result<f64> {
    let leader = c.leader().await?;
    let survivors: Vec<String> = (0..3)
        .filter(|&i| i != leader)
        .map(|i| c.members[i].client_url.clone())
        .collect();
    c.kill9(leader)?;
    let killed = Instant::now();
    let secs = first_write(&survivors, killed).await?;
    c.spawn(leader)?;
    Ok(secs)
}

/// Start a write on the survivors (in turn) every `ATTEMPT_EVERY` until one succeeds; seconds
/// from `since` to that success.
async fn first_write(survivors: &[String], since: Instant) -> Result<f64> {
    let mut attempts = JoinSet::new();
    let stop = since + FAILOVER_DEADLINE;
    let mut tick = tokio::time::interval(ATTEMPT_EVERY);
    let mut n = 0usize;
    while Instant::now() < stop {
        tokio::select! {
            _ = tick.tick() => {
                let url = survivors[n % survivors.len()].clone();
                n += 1;
                attempts.spawn(async move {
                    let mut conn = Conn::new(&url)?;
                    let (s, _) = conn.put("/v2/keys/failover", "value=1").await?;
                    anyhow::ensure!(s.is_success(), "answered {s}");
                    Ok::<_, anyhow::Error>(Instant::now())
                });
            }
            Some(done) = attempts.join_next() => {
                if let Ok(Ok(at)) = done {
                    return Ok(at.duration_since(since).as_secs_f64());
                }
            }
        }
    }
    bail!("no write succeeded within {FAILOVER_DEADLINE:?} of killing the leader")
}
