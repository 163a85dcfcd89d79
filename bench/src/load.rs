//! The load generator: keep-alive HTTP/1.1 connections (hyper, one per client, reconnected
//! after an error) and a closed loop of `clients` tasks that each send a request, wait for the
//! answer and send the next, for a fixed time. Latencies are kept per request, in microseconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode, header};
use hyper_util::rt::TokioIo;

/// Longest a single request may take before it counts as failed.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Upper bound on requests per client per phase, whatever the duration.
const MAX_REQUESTS_PER_CLIENT: u64 = 10_000_000;

/// One keep-alive connection to one member.
pub struct Conn {
    addr: String,
    sender: Option<SendRequest<Full<Bytes>>>,
    /// An `Authorization` header sent with every request.
    authorization: Option<String>,
}

impl Conn {
    /// `url` is `http://host:port`; nothing is connected until the first request.
    pub fn new(url: &str) -> Result<Conn> {
        let addr = url
            .strip_prefix("http://")
            .context("only http:// URLs")?
            .trim_end_matches('/');
        Ok(Conn {
            addr: addr.to_string(),
            sender: None,
            authorization: None,
        })
    }

    /// Send HTTP basic credentials `user:password` with every request.
    pub fn with_basic_auth(mut self, user_password: &str) -> Conn {
        use base64::Engine;
        let token = base64::engine::general_purpose::STANDARD.encode(user_password);
        self.authorization = Some(format!("Basic {token}"));
        self
    }

    async fn connect(&mut self) -> Result<&mut SendRequest<Full<Bytes>>> {
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            let tcp = tokio::net::TcpStream::connect(&self.addr).await?;
            tcp.set_nodelay(true)?;
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
            tokio::spawn(conn);
            self.sender = Some(sender);
        }
        self.sender.as_mut().context("connected")
    }

    /// Send one request and read the whole answer.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        form: Option<&str>,
    ) -> Result<(StatusCode, Bytes)> {
        let r = tokio::time::timeout(REQUEST_TIMEOUT, self.send_inner(method, path, form)).await;
        match r {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => {
                self.sender = None;
                Err(e)
            }
            Err(_) => {
                self.sender = None;
                bail!("timed out after {REQUEST_TIMEOUT:?}")
            }
        }
    }

    async fn send_inner(
        &mut self,
        method: Method,
        path: &str,
        form: Option<&str>,
    ) -> Result<(StatusCode, Bytes)> {
        let host = self.addr.clone();
        let authorization = self.authorization.clone();
        let sender = self.connect().await?;
        sender.ready().await?;
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, host);
        if let Some(a) = authorization {
            req = req.header(header::AUTHORIZATION, a);
        }
        let body = match form {
            Some(f) => {
                req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Full::new(Bytes::copy_from_slice(f.as_bytes()))
            }
            None => Full::new(Bytes::new()),
        };
        let resp = sender.send_request(req.body(body)?).await?;
        let status = resp.status();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }

    pub async fn get(&mut self, path: &str) -> Result<(StatusCode, Bytes)> {
        self.send(Method::GET, path, None).await
    }

    pub async fn put(&mut self, path: &str, form: &str) -> Result<(StatusCode, Bytes)> {
        self.send(Method::PUT, path, Some(form)).await
    }
}

/// A request the closed loop sends: method, path and query, form body.
pub struct Req {
    pub method: Method,
    pub path: String,
    pub form: Option<Arc<str>>,
}

/// Builds the `i`-th request of client `c`.
pub type MakeReq = Arc<dyn Fn(usize, u64) -> Req + Send + Sync>;

/// What one closed-loop phase measured.
#[derive(Default)]
pub struct Outcome {
    pub ok: u64,
    pub errors: u64,
    pub secs: f64,
    /// Latency of every successful request, µs, sorted.
    pub lat_us: Vec<u32>,
}

impl Outcome {
    /// Say on stderr when requests of phase `what` failed (the rate counts successes only).
    pub fn warn(&self, what: &str) {
        if self.errors > 0 {
            eprintln!("{what}: {} requests failed", self.errors);
        }
    }

    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.secs.max(1e-9)
    }

    /// The `q`-quantile latency in ms (0 when nothing succeeded).
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.lat_us.is_empty() {
            return 0.0;
        }
        let i = ((self.lat_us.len() - 1) as f64 * q).round() as usize;
        f64::from(self.lat_us[i]) / 1000.0
    }
}

/// `clients` tasks, one connection each (spread over `urls`), each sending the requests `make`
/// builds back to back for `dur`; 2xx is success.
pub async fn closed_loop(urls: &[String], clients: usize, dur: Duration, make: MakeReq) -> Outcome {
    let errors = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let stop = start + dur;
    let mut tasks = Vec::new();
    for c in 0..clients {
        let url = urls[c % urls.len()].clone();
        let (errors, make) = (errors.clone(), make.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let Ok(mut conn) = Conn::new(&url) else {
                return lat;
            };
            let mut i = 0u64;
            while Instant::now() < stop && i < MAX_REQUESTS_PER_CLIENT {
                let r = make(c, i);
                let t = Instant::now();
                match conn.send(r.method, &r.path, r.form.as_deref()).await {
                    Ok((s, _)) if s.is_success() => {
                        lat.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                i += 1;
            }
            lat
        }));
    }
    let mut lat_us = Vec::new();
    for t in tasks {
        if let Ok(l) = t.await {
            lat_us.extend(l);
        }
    }
    lat_us.sort_unstable();
    Outcome {
        ok: lat_us.len() as u64,
        errors: errors.load(Ordering::Relaxed),
        secs: start.elapsed().as_secs_f64(),
        lat_us,
    }
}

/// The form body of a write of a `len`-byte value.
pub fn value_form(len: usize) -> Arc<str> {
    format!("value={}", "v".repeat(len)).into()
}

/// PUT `/v2/keys/<prefix><n>` with `n` from a counter shared by all clients: every write a
/// new key.
pub fn puts(prefix: &str, value_len: usize) -> MakeReq {
    let next = Arc::new(AtomicU64::new(0));
    let form = value_form(value_len);
    let prefix = prefix.to_string();
    Arc::new(move |_, _| Req {
        method: Method::PUT,
        path: format!("/v2/keys/{prefix}{}", next.fetch_add(1, Ordering::Relaxed)),
        form: Some(form.clone()),
    })
}

/// GET one of `keys` keys `/v2/keys/<prefix><j>`, optionally with `quorum=true`.
pub fn gets(prefix: &str, keys: u64, quorum: bool) -> MakeReq {
    let prefix = prefix.to_string();
    let q = if quorum { "?quorum=true" } else { "" };
    Arc::new(move |c, i| Req {
        method: Method::GET,
        path: format!("/v2/keys/{prefix}{}{q}", (c as u64 * 7919 + i) % keys),
        form: None,
    })
}

/// Write `count` keys `<prefix><i>` with `clients` connections, bounded by `deadline`;
/// how many were written.
pub async fn fill(
    url: &str,
    prefix: &str,
    count: u64,
    clients: usize,
    value_len: usize,
    deadline: Duration,
) -> u64 {
    let next = Arc::new(AtomicU64::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let stop = Instant::now() + deadline;
    let form = value_form(value_len);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (next, ok, form) = (next.clone(), ok.clone(), form.clone());
        let (url, prefix) = (url.to_string(), prefix.to_string());
        tasks.push(tokio::spawn(async move {
            let Ok(mut conn) = Conn::new(&url) else {
                return;
            };
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count || Instant::now() > stop {
                    break;
                }
                if let Ok((s, _)) = conn.put(&format!("/v2/keys/{prefix}{i}"), &form).await
                    && s.is_success()
                {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    ok.load(Ordering::Relaxed)
}
