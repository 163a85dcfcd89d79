//! Workload (5): N long-poll watchers (`wait=true`) on one key, or recursive on a prefix; one
//! write; the time from the write's acknowledgement until the last watcher has its event.
//!
//! Each watcher is a bare TCP connection with a hand-written request, so that 10,000 of them
//! cost the load generator little. A watcher counts as registered once the response headers
//! have arrived: both servers send them only after the watch is in their hub.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use super::Opts;
use crate::load::Conn;
use crate::server::{Bin, Cluster};
use crate::table::{Better, Table};

/// Connections being opened at once (the listen backlog is finite).
const CONNECTING: usize = 256;
/// How long registering all watchers, and then notifying them, may take.
const DEADLINE: Duration = Duration::from_secs(60);
/// Largest answer a watcher reads before giving up on finding its event.
const MAX_ANSWER: usize = 64 * 1024;

pub async fn run(opts: &Opts, bin: &Bin, t: &mut Table) -> Result<()> {
    let c = Cluster::start(bin, 1, &opts.dir, &[]).await?;
    let url = c.urls()[0].clone();
    for &n in &opts.watchers {
        for recursive in [false, true] {
            let (watch_path, write_path) = if recursive {
                (
                    format!("/v2/keys/wp{n}?wait=true&recursive=true"),
                    format!("/v2/keys/wp{n}/a/b"),
                )
            } else {
                (
                    format!("/v2/keys/wk{n}?wait=true"),
                    format!("/v2/keys/wk{n}"),
                )
            };
            let (write_ms, last_ms) =
                notify_all(&url, n, &watch_path, &write_path, opts.value_len).await?;
            let what = if recursive {
                "recursive prefix"
            } else {
                "one key"
            };
            let name = format!("(5) {n} watchers, {what}: last notified");
            t.record(&name, "ms", Better::Lower, bin.flavor, last_ms);
            let name = format!("(5) {n} watchers, {what}: the write acknowledged");
            t.record(&name, "ms", Better::Lower, bin.flavor, write_ms);
            // The figure above, from the ack, favours a server that acknowledges late, after
            // notifying; this one, from the moment the write was sent, does not.
            let name = format!("(5) {n} watchers, {what}: last notified, from the write sent");
            t.record(&name, "ms", Better::Lower, bin.flavor, write_ms + last_ms);
        }
    }
    Ok(())
}

/// Register `n` watchers and write once. Returns the write's own latency, and the time from
/// its acknowledgement to the last event (0 when every event came before the ack), in ms.
async fn notify_all(
    url: &str,
    n: usize,
    watch: &str,
    write: &str,
    value_len: usize,
) -> Result<(f64, f64)> {
    let addr = url.trim_start_matches("http://").to_string();
    let request: Arc<str> = format!("GET {watch} HTTP/1.1\r\nHost: {addr}\r\n\r\n").into();
    let gate = Arc::new(Semaphore::new(CONNECTING));
    let (reg_tx, mut reg_rx) = tokio::sync::mpsc::channel::<()>(n);
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let (addr, request, gate, reg_tx) =
            (addr.clone(), request.clone(), gate.clone(), reg_tx.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::timeout(DEADLINE, watcher(&addr, &request, &gate, reg_tx)).await
        }));
    }
    drop(reg_tx);
    let stop = Instant::now() + DEADLINE;
    for i in 0..n {
        let left = stop.saturating_duration_since(Instant::now());
        if tokio::time::timeout(left, reg_rx.recv())
            .await
            .ok()
            .flatten()
            .is_none()
        {
            bail!("only {i} of {n} watchers registered");
        }
    }
    let mut conn = Conn::new(url)?;
    let form = format!("value={}", "w".repeat(value_len));
    let sent = Instant::now();
    let (s, _) = conn.put(write, &form).await?;
    let acked = Instant::now();
    if !s.is_success() {
        bail!("the write answered {s}");
    }
    let mut last = acked;
    let mut missed = 0;
    for task in tasks {
        match task.await {
            Ok(Ok(Ok(at))) => last = last.max(at),
            _ => missed += 1,
        }
    }
    if missed > 0 {
        bail!("{missed} of {n} watchers saw no event");
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Ok((ms(acked - sent), ms(last.duration_since(acked))))
}

/// One watcher: connect (under `gate`), send, report registration when the headers are in,
/// and return the instant its event arrived.
async fn watcher(
    addr: &str,
    request: &str,
    gate: &Semaphore,
    registered: tokio::sync::mpsc::Sender<()>,
) -> Result<Instant> {
    let mut permit = Some(gate.acquire().await?);
    let mut s = TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    s.write_all(request.as_bytes()).await?;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let mut body_at = None;
    while buf.len() < MAX_ANSWER {
        let got = s.read(&mut chunk).await?;
        if got == 0 {
            bail!("connection closed before the event");
        }
        buf.extend_from_slice(&chunk[..got]);
        if body_at.is_none()
            && let Some(i) = find(&buf, b"\r\n\r\n")
        {
            if !buf.starts_with(b"HTTP/1.1 200") {
                bail!("watch answered {}", String::from_utf8_lossy(&buf[..i]));
            }
            body_at = Some(i + 4);
            let _ = registered.send(()).await;
            // Registered: let the next connections in while this one waits.
            drop(permit.take());
        }
        // The event is one JSON line; its closing newline means it is all here.
        if let Some(b) = body_at
            && let Some(j) = find(&buf[b..], b"\"action\"")
            && buf[b + j..].contains(&b'\n')
        {
            return Ok(Instant::now());
        }
    }
    bail!("no event in {MAX_ANSWER} bytes")
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
