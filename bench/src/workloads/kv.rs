//! Workloads (1)–(4) on one member: sequential PUT, concurrent PUT, GET (default and
//! `quorum=true`), and compare-and-swap increments of one key.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use super::Opts;
use crate::load::{self, Conn};
use crate::server::{Bin, Cluster};
use crate::table::{Better, Table};

/// Keys written before the read phases; reads pick among them.
const READ_KEYS: u64 = 1_000;
/// Clients of the compare-and-swap loop, all on one key.
const CAS_CLIENTS: usize = 16;

pub const SEQ_PUT: &str = "(1) PUT, 1 client, sequential";

/// (1) and (2): one fresh member; sequential PUT, then 16 and 64 clients.
pub async fn put(opts: &Opts, bin: &Bin, t: &mut Table) -> Result<()> {
    let c = Cluster::start(bin, 1, &opts.dir, &[]).await?;
    let urls = c.urls();
    let f = bin.flavor;
    let o = load::closed_loop(&urls, 1, opts.phase, load::puts("s/k", opts.value_len)).await;
    o.warn("PUT/GET");
    t.record(SEQ_PUT, "ops/s", Better::Higher, f, o.rate());
    t.record(
        "(1) PUT, 1 client: p50",
        "ms",
        Better::Lower,
        f,
        o.quantile_ms(0.5),
    );
    t.record(
        "(1) PUT, 1 client: p99",
        "ms",
        Better::Lower,
        f,
        o.quantile_ms(0.99),
    );
    for n in [16, 64] {
        let o = load::closed_loop(
            &urls,
            n,
            opts.phase,
            load::puts(&format!("p{n}/k"), opts.value_len),
        )
        .await;
        o.warn("PUT/GET");
        t.record(
            &format!("(2) PUT, {n} clients"),
            "ops/s",
            Better::Higher,
            f,
            o.rate(),
        );
        t.record(
            &format!("(2) PUT, {n} clients: p99"),
            "ms",
            Better::Lower,
            f,
            o.quantile_ms(0.99),
        );
    }
    Ok(())
}

/// (3): GET at 16 and 64 clients, default and `quorum=true`, of keys written beforehand.
pub async fn get(opts: &Opts, bin: &Bin, t: &mut Table) -> Result<()> {
    let c = Cluster::start(bin, 1, &opts.dir, &[]).await?;
    let urls = c.urls();
    let written = load::fill(
        &urls[0],
        "r/k",
        READ_KEYS,
        16,
        opts.value_len,
        Duration::from_secs(60),
    )
    .await;
    if written < READ_KEYS {
        bail!("only {written} of {READ_KEYS} keys written");
    }
    for quorum in [false, true] {
        for n in [16, 64] {
            let o =
                load::closed_loop(&urls, n, opts.phase, load::gets("r/k", READ_KEYS, quorum)).await;
            o.warn("PUT/GET");
            let name = if quorum {
                format!("(3) GET quorum=true, {n} clients")
            } else {
                format!("(3) GET, {n} clients")
            };
            t.record(&name, "ops/s", Better::Higher, bin.flavor, o.rate());
        }
    }
    Ok(())
}

/// (4): `CAS_CLIENTS` clients each read the counter and compare-and-swap it to value+1 with
/// `prevIndex`; a 412 means another client won the race, and the loop reads again.
pub async fn cas(opts: &Opts, bin: &Bin, t: &mut Table) -> Result<()> {
    let c = Cluster::start(bin, 1, &opts.dir, &[]).await?;
    let url = c.urls()[0].clone();
    let mut conn = Conn::new(&url)?;
    let (s, _) = conn.put("/v2/keys/cas/n", "value=0").await?;
    if !s.is_success() {
        bail!("seeding the counter answered {s}");
    }
    let won = Arc::new(AtomicU64::new(0));
    let lost = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let stop = start + opts.phase;
    let mut tasks = Vec::new();
    for _ in 0..CAS_CLIENTS {
        let (url, won, lost, failed) = (url.clone(), won.clone(), lost.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            let Ok(mut conn) = Conn::new(&url) else {
                return;
            };
            for _ in 0..10_000_000u64 {
                if Instant::now() >= stop {
                    break;
                }
                match increment(&mut conn).await {
                    Ok(true) => won.fetch_add(1, Ordering::Relaxed),
                    Ok(false) => lost.fetch_add(1, Ordering::Relaxed),
                    Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let secs = start.elapsed().as_secs_f64();
    let won = won.load(Ordering::Relaxed);
    let (value, _) = read_counter(&mut conn).await?;
    if value != won {
        eprintln!("cas: counter is {value} after {won} successful increments");
    }
    let f = bin.flavor;
    t.record(
        "(4) CAS, 16 clients: successes",
        "ops/s",
        Better::Higher,
        f,
        won as f64 / secs,
    );
    let lost = lost.load(Ordering::Relaxed) as f64 / secs;
    t.record("(4) CAS, 16 clients: 412s", "/s", Better::Lower, f, lost);
    let failed = failed.load(Ordering::Relaxed);
    if failed > 0 {
        eprintln!("cas: {failed} requests failed");
    }
    Ok(())
}

/// The counter's value and modifiedIndex.
async fn read_counter(conn: &mut Conn) -> Result<(u64, u64)> {
    let (s, body) = conn.get("/v2/keys/cas/n").await?;
    if !s.is_success() {
        bail!("GET answered {s}");
    }
    let v: serde_json::Value = serde_json::from_slice(&body)?;
    let value = v["node"]["value"].as_str().and_then(|s| s.parse().ok());
    let index = v["node"]["modifiedIndex"].as_u64();
    match (value, index) {
        (Some(value), Some(index)) => Ok((value, index)),
        _ => bail!("unexpected body {v}"),
    }
}

/// One read-then-CAS; `Ok(false)` when another client won (412).
async fn increment(conn: &mut Conn) -> Result<bool> {
    let (value, index) = read_counter(conn).await?;
    let form = format!("value={}&prevIndex={index}", value + 1);
    let (s, _) = conn.put("/v2/keys/cas/n", &form).await?;
    match s.as_u16() {
        200 | 201 => Ok(true),
        412 => Ok(false),
        other => bail!("CAS answered {other}"),
    }
}
