//! Workload (7): `keys` keys on one member: resident memory, data-dir size (allocated and
//! apparent), and the time from starting the process again to serving a linearizable read of
//! the last key, after SIGTERM and after kill -9.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use super::Opts;
use crate::load::{self, Conn};
use crate::server::{Bin, Cluster, dir_size};
use crate::table::{Better, Table};

const FILL_DEADLINE: Duration = Duration::from_secs(600);
const RESTART_DEADLINE: Duration = Duration::from_secs(120);
/// Memory and disk are read once they hold still (a snapshot may be under way after the
/// fill): this many equal samples in a row, at most `SETTLE_SAMPLES_MAX` samples.
const SETTLE_EQUAL: usize = 4;
const SETTLE_SAMPLES_MAX: usize = 60;
const SETTLE_EVERY: Duration = Duration::from_millis(250);

const MIB: f64 = 1024.0 * 1024.0;

pub async fn run(opts: &Opts, bin: &Bin, t: &mut Table) -> Result<()> {
    let mut c = Cluster::start(bin, 1, &opts.dir, &[]).await?;
    let url = c.urls()[0].clone();
    let keys = opts.keys;
    let written = load::fill(&url, "d/k", keys, 64, opts.value_len, FILL_DEADLINE).await;
    if written < keys {
        bail!("only {written} of {keys} keys written");
    }
    let (rss, (allocated, apparent)) = settle(&c).await;
    let f = bin.flavor;
    let k = if keys.is_multiple_of(1000) {
        format!("{}k", keys / 1000)
    } else {
        keys.to_string()
    };
    t.record(&format!("(7) {k} keys: RSS"), "MiB", Better::Lower, f, rss);
    let name = format!("(7) {k} keys: data dir, allocated");
    t.record(&name, "MiB", Better::Lower, f, allocated as f64 / MIB);
    let name = format!("(7) {k} keys: data dir, apparent");
    t.record(&name, "MiB", Better::Lower, f, apparent as f64 / MIB);
    let last = format!("/v2/keys/d/k{}?quorum=true", keys - 1);
    c.terminate(0).await?;
    let secs = restart(&mut c, &url, &last).await?;
    t.record(
        &format!("(7) {k} keys: restart after SIGTERM"),
        "s",
        Better::Lower,
        f,
        secs,
    );
    c.kill9(0)?;
    let secs = restart(&mut c, &url, &last).await?;
    t.record(
        &format!("(7) {k} keys: restart after kill -9"),
        "s",
        Better::Lower,
        f,
        secs,
    );
    Ok(())
}

/// RSS (MiB) and data-dir size once both have stopped changing (or the samples ran out).
async fn settle(c: &Cluster) -> (f64, (u64, u64)) {
    let sample = || (c.rss_mib(0), dir_size(&c.members[0].data_dir));
    let mut last = sample();
    let mut equal = 0;
    for _ in 0..SETTLE_SAMPLES_MAX {
        tokio::time::sleep(SETTLE_EVERY).await;
        let now = sample();
        // RSS moves by a few pages without anything happening: compare to 1 MiB.
        if (now.0 - last.0).abs() < 1.0 && now.1 == last.1 {
            equal += 1;
            if equal >= SETTLE_EQUAL {
                return now;
            }
        } else {
            equal = 0;
        }
        last = now;
    }
    last
}

/// Start member 0 again and time it until it serves `path`.
async fn restart(c: &mut Cluster, url: &str, path: &str) -> Result<f64> {
    let start = Instant::now();
    c.spawn(0)?;
    let mut conn = Conn::new(url)?;
    loop {
        if let Ok((s, _)) = conn.get(path).await
            && s.is_success()
        {
            return Ok(start.elapsed().as_secs_f64());
        }
        if start.elapsed() > RESTART_DEADLINE {
            bail!("not serving {path} within {RESTART_DEADLINE:?} of restart");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
