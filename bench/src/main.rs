//! Benchmark: our etcd against real etcd 3.4 (`--enable-v2`), measured in the same run on
//! loopback, interleaved (ours, etcd, ours, etcd, …) over several rounds, each on a fresh data
//! dir. It measures and prints; it is not part of `cargo test`.
//!
//! ```sh
//! cargo build --release -p etcd -p etcd-bench
//! target/release/etcd-bench [--quick] [--rounds N] [--only put,cas] [--seconds S]
//! ```
//!
//! Workloads (issue 9): (1) sequential PUT, (2) PUT at 16 and 64 clients, (3) GET at 16 and 64,
//! default and `quorum=true`, (4) CAS increments of one key, (5) long-poll watchers, (6) three
//! members and failover, (7) data-dir size, memory and restart with many keys. Every loop is
//! bounded by a deadline and a count; only processes started here are stopped, by pid.

mod fsync;
mod load;
mod server;
mod table;
mod workloads;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use clap::Parser;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use server::{Bin, Flavor};
use table::Table;
use workloads::{Group, Opts};

#[derive(Parser)]
#[command(about = "Compare our etcd with real etcd 3.4 on the workloads of issue 9")]
struct Args {
    /// A short run (one round, short phases, fewer keys and watchers): under a minute.
    #[arg(long)]
    quick: bool,
    /// Rounds per workload and server.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Seconds per timed load phase [default: 5, --quick: 0.5].
    #[arg(long)]
    seconds: Option<f64>,
    /// Keys for workload (7) [default: 100000, --quick: 10000].
    #[arg(long)]
    keys: Option<u64>,
    /// Watcher counts for workload (5), comma-separated [default: 1000,10000, --quick: 1000].
    #[arg(long, value_delimiter = ',')]
    watchers: Option<Vec<usize>>,
    /// Only these workload groups: put, get, cas, watch, cluster, disk (comma-separated).
    #[arg(long, value_delimiter = ',')]
    only: Option<Vec<String>>,
    /// Our etcd binary [default: `etcd` beside this program].
    #[arg(long)]
    ours: Option<PathBuf>,
    /// Real etcd; skipped (ours alone) when absent.
    #[arg(long, default_value = "/usr/bin/etcd")]
    real: PathBuf,
    /// Where data dirs and the fsync probe live [default: the temp dir].
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Bytes in every written value.
    #[arg(long, default_value_t = 256)]
    value_len: usize,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let ours = match &args.ours {
        Some(p) => p.clone(),
        None => std::env::current_exe()?.with_file_name("etcd"),
    };
    if !ours.exists() {
        bail!("{} missing: cargo build --release -p etcd", ours.display());
    }
    let mut bins = vec![Bin {
        flavor: Flavor::Ours,
        path: ours,
    }];
    if args.real.exists() {
        bins.push(Bin {
            flavor: Flavor::Etcd,
            path: args.real.clone(),
        });
    } else {
        println!(
            "{} not installed: measuring ours alone",
            args.real.display()
        );
    }
    let groups = groups(args.only.as_deref())?;
    let rounds = if args.quick { 1 } else { args.rounds.max(1) };
    let opts = Opts {
        phase: Duration::from_secs_f64(args.seconds.unwrap_or(if args.quick { 0.5 } else { 5.0 })),
        keys: args
            .keys
            .unwrap_or(if args.quick { 10_000 } else { 100_000 })
            .max(1),
        watchers: args.watchers.clone().unwrap_or(if args.quick {
            vec![1000]
        } else {
            vec![1000, 10_000]
        }),
        dir: args.dir.clone().unwrap_or_else(std::env::temp_dir),
        value_len: args.value_len,
    };
    let nofile = server::raise_nofile()?;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "{} UTC; {cores} cores, shared with the load generator; {rounds} round(s), {:?} phases, \
         {}-byte values, RLIMIT_NOFILE {nofile}; data dirs under {}",
        utc_now(),
        opts.phase,
        opts.value_len,
        opts.dir.display()
    );
    let table = run(&groups, rounds, &bins, &opts).await;
    println!();
    table.print();
    Ok(())
}

fn groups(only: Option<&[String]>) -> Result<Vec<Group>> {
    let Some(only) = only else {
        return Ok(Group::ALL.to_vec());
    };
    only.iter()
        .map(|name| {
            Group::ALL
                .into_iter()
                .find(|g| g.name() == name)
                .ok_or_else(|| anyhow::anyhow!("no workload group {name:?}"))
        })
        .collect()
}

/// Every group, round by round, alternating the servers: A B A B.
async fn run(groups: &[Group], rounds: usize, bins: &[Bin], opts: &Opts) -> Table {
    let bar = progress((groups.len() * rounds * bins.len()) as u64);
    let mut table = Table::default();
    let mut floors = Vec::new();
    let mut redb_floors = Vec::new();
    for &g in groups {
        for round in 1..=rounds {
            if g == Group::Put {
                let probe = opts.phase.min(Duration::from_secs(2));
                match fsync::measure(&opts.dir, probe) {
                    Ok(f) => floors.push(f),
                    Err(e) => bar.println(format!("fsync floor: {e:#}")),
                }
                match fsync::measure_redb(&opts.dir, probe) {
                    Ok(f) => redb_floors.push(f),
                    Err(e) => bar.println(format!("redb commit floor: {e:#}")),
                }
            }
            for bin in bins {
                bar.set_message(format!(
                    "{} round {round}/{rounds}: {:?}",
                    g.name(),
                    bin.flavor
                ));
                if let Err(e) = g.run(opts, bin, &mut table).await {
                    bar.println(format!(
                        "{} round {round} {:?}: {e:#}",
                        g.name(),
                        bin.flavor
                    ));
                }
                bar.inc(1);
            }
        }
    }
    bar.finish_and_clear();
    if let Some((p50, rate)) = medians(&floors) {
        let mut note = format!(
            "disk's fsync floor in the same run: p50 {p50:.3} ms, {rate:.0} fsyncs/s (median)"
        );
        if let Some((p50, rate)) = medians(&redb_floors) {
            note.push_str(&format!(
                "; one durable redb commit of one log row: p50 {p50:.3} ms, {rate:.0}/s"
            ));
        }
        table.note(workloads::kv::SEQ_PUT, note);
    }
    table
}

/// Median p50 and median rate of the probes, if any ran.
fn medians(floors: &[fsync::Floor]) -> Option<(f64, f64)> {
    if floors.is_empty() {
        return None;
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Some((
        median(floors.iter().map(|f| f.p50_ms).collect()),
        median(floors.iter().map(|f| f.per_sec).collect()),
    ))
}

/// A progress bar on stderr, drawn only on a terminal.
fn progress(total: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {msg}") {
        bar.set_style(style);
    }
    bar
}

/// Today's date and time in UTC, from the system clock (no date crate needed).
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60
    )
}
