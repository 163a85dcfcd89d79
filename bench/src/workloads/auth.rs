//! Workload (8), of the security issue: with auth enabled, one client's plain (guest) GETs
//! alone, then while others send 100 requests a second with a wrong password. bcrypt at etcd's
//! cost takes tens of milliseconds a check; where that work runs decides whether the flood
//! slows everyone else down.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use hyper::Method;

use super::Opts;
use crate::load::{self, Conn};
use crate::server::{Bin, Cluster};
use crate::table::{Better, Table};

/// Bad-password requests per second, sent open loop (each on a connection of its own, whether
/// or not the earlier ones were answered yet).
const BAD_PER_SEC: u64 = 100;

pub async fn run(opts: &Opts, bin: &Bin, t: &mut Table) -> Result<()> {
    let c = Cluster::start(bin, 1, &opts.dir, &[]).await?;
    let urls = c.urls();
    enable_auth(&urls[0]).await?;
    let f = bin.flavor;
    let reads = || load::gets("g/k", 1, false);
    let alone = load::closed_loop(&urls, 1, opts.phase, reads()).await;
    alone.warn("auth GET");
    t.record(
        "(8) auth on: GET 1 client: p99",
        "ms",
        Better::Lower,
        f,
        alone.quantile_ms(0.99),
    );
    let refused = Arc::new(AtomicU64::new(0));
    let stop = Instant::now() + opts.phase;
    let flood = tokio::spawn(bad_passwords(urls[0].clone(), stop, refused.clone()));
    let during = load::closed_loop(&urls, 1, opts.phase, reads()).await;
    during.warn("auth GET during the flood");
    let _ = flood.await;
    t.record(
        "(8) auth on: GET 1 client: p99 during 100 bad passwords/s",
        "ms",
        Better::Lower,
        f,
        during.quantile_ms(0.99),
    );
    t.record(
        "(8) bad-password requests answered 401",
        "/s",
        Better::Higher,
        f,
        refused.load(Ordering::Relaxed) as f64 / opts.phase.as_secs_f64(),
    );
    Ok(())
}

/// A root user, auth on (which creates the guest role with read and write on `/*`), and the
/// key the reads ask for.
async fn enable_auth(url: &str) -> Result<()> {
    let mut conn = Conn::new(url)?;
    let user = r#"{"user":"root","password":"rootpw"}"#;
    let (s, _) = conn
        .send(Method::PUT, "/v2/auth/users/root", Some(user))
        .await?;
    ensure!(s.is_success(), "creating root answered {s}");
    let mut root = Conn::new(url)?.with_basic_auth("root:rootpw");
    let (s, _) = root.send(Method::PUT, "/v2/auth/enable", None).await?;
    ensure!(s.is_success(), "enabling auth answered {s}");
    let (s, _) = conn.put("/v2/keys/g/k0", "value=v").await?;
    ensure!(s.is_success(), "the guest's write answered {s}");
    Ok(())
}

/// `BAD_PER_SEC` wrong-password requests a second until `stop`, counting the 401s answered
/// by then; what is still unanswered at `stop` is dropped.
async fn bad_passwords(url: String, stop: Instant, refused: Arc<AtomicU64>) {
    let mut sent = tokio::task::JoinSet::new();
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / BAD_PER_SEC));
    while Instant::now() < stop {
        tick.tick().await;
        let (url, refused) = (url.clone(), refused.clone());
        sent.spawn(async move {
            let Ok(conn) = Conn::new(&url) else {
                return;
            };
            if let Ok((s, _)) = conn
                .with_basic_auth("root:wrong")
                .get("/v2/keys/g/k0")
                .await
                && s.as_u16() == 401
            {
                refused.fetch_add(1, Ordering::Relaxed);
            }
        });
        while sent.try_join_next().is_some() {}
    }
    sent.abort_all();
}
