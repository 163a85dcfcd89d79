//! One accepted connection as a server on the internet needs it: a deadline for each request's
//! headers and for the idle time between requests, a 503 for a connection beyond the
//! listener's cap, and accept errors logged at a bounded rate. Owns no listener (`serve.rs`
//! accepts) and no route (the routers answer).
//!
//! hyper's own `header_read_timeout` also runs while a keep-alive connection waits for its next
//! request, so it cannot tell a slow client from an idle one; the clock here can: the header
//! deadline starts at the connection's start and at the first byte of each later request, the
//! idle deadline when the last response has been written, and neither runs while a request
//! (a long-poll watch included) is outstanding.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::http::credentials::CertificateUser;

/// The resource-limit flags (`--header-read-timeout`, `--idle-timeout`, `--max-connections`,
/// `--max-watchers-per-client`); `None` turns one off (or, for connections, derives it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    pub header_read_timeout: Option<Duration>,
    pub idle_timeout: Option<Duration>,
    /// `None`: [`derived_max_connections`] when serving starts.
    pub max_connections: Option<usize>,
    pub max_watchers_per_client: Option<usize>,
}

/// The connection cap when `--max-connections` is 0: the open-files limit less a reserve for
/// the data files, the peers' connections and the connections being refused (a tenth of the
/// limit, at least 256 and at most 4,096), so a flood of connections on one listener ends in
/// 503s rather than in `accept: Too many open files`. With 20,000 files that is 18,000.
pub fn derived_max_connections(open_files: u64) -> usize {
    let reserve = (open_files / 10).clamp(256, 4096);
    usize::try_from(open_files.saturating_sub(reserve))
        .unwrap_or(usize::MAX)
        .max(16)
}

/// The current open-files soft limit (raised to the hard limit at start by `boot::limits`).
pub fn open_files() -> u64 {
    use nix::sys::resource::{Resource, getrlimit};
    getrlimit(Resource::RLIMIT_NOFILE).map_or(1024, |(soft, _)| soft)
}

/// Marks "no header being read": the request's head has been parsed, or none has begun.
const NONE: u64 = u64::MAX;

/// What a connection is doing, for its deadlines. All updates come from the connection's own
/// task (hyper polls reads, the service and the response body there), so plain atomics do.
pub struct Activity {
    born: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds since `born` when the current request's first byte arrived, or [`NONE`].
    head_since: AtomicU64,
    /// Milliseconds since `born` when the last response was finished.
    idle_since: AtomicU64,
    /// Woken whenever a deadline may have moved, so the watchdog re-reads it.
    changed: Notify,
}

impl Activity {
    pub fn new() -> Arc<Activity> {
        Arc::new(Activity {
            born: Instant::now(),
            in_flight: AtomicUsize::new(0),
            // As Go's server: the first request's headers are due from the connection's start.
            head_since: AtomicU64::new(0),
            idle_since: AtomicU64::new(0),
            changed: Notify::new(),
        })
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.born.elapsed().as_millis()).unwrap_or(NONE - 1)
    }

    fn on_read(&self) {
        if self.in_flight.load(SeqCst) == 0 && self.head_since.load(SeqCst) == NONE {
            self.head_since.store(self.now_ms(), SeqCst);
            self.changed.notify_one();
        }
    }

    /// A request's head has been parsed: no deadline runs until its response is finished.
    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, SeqCst);
        self.head_since.store(NONE, SeqCst);
        InFlight(self.clone())
    }

    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        if self.in_flight.load(SeqCst) > 0 {
            return None;
        }
        let at = |ms: u64, d: Duration| self.born + Duration::from_millis(ms) + d;
        match self.head_since.load(SeqCst) {
            NONE => limits
                .idle_timeout
                .map(|d| at(self.idle_since.load(SeqCst), d)),
            since => limits.header_read_timeout.map(|d| at(since, d)),
        }
    }

    /// Resolves once the connection has waited too long for headers or sat idle too long.
    pub async fn expired(&self, limits: &Limits) {
        loop {
            let changed = self.changed.notified();
            match self.deadline(limits) {
                Some(at) if at <= Instant::now() => return,
                Some(at) => {
                    tokio::select! {
                        _ = changed => {}
                        _ = tokio::time::sleep_until(at) => {}
                    }
                }
                None => changed.await,
            }
        }
    }
}

/// One outstanding request; dropped with its response body, when hyper has written it all (or
/// the connection ended).
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, SeqCst) == 1 {
            self.0.idle_since.store(self.0.now_ms(), SeqCst);
            self.0.changed.notify_one();
        }
    }
}

/// The connection's stream, telling its [`Activity`] when bytes arrive.
pub struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S> Tracked<S> {
    pub fn new(inner: S, activity: Arc<Activity>) -> Tracked<S> {
        Tracked { inner, activity }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.on_read();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The router as hyper calls it on one connection: each request carries the client's address
/// (axum's `ConnectInfo`) and, over TLS with a verified client certificate, its CommonName;
/// each response body holds the request's [`InFlight`] until it has been written.
pub struct Service {
    pub router: hyper_util::service::TowerToHyperService<axum::Router>,
    pub from: SocketAddr,
    pub certificate: Option<CertificateUser>,
    pub activity: Arc<Activity>,
}

type Answer = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

impl hyper::service::Service<Request<Incoming>> for Service {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, mut req: Request<Incoming>) -> Answer {
        let in_flight = self.activity.begin();
        req.extensions_mut().insert(ConnectInfo(self.from));
        if let Some(c) = &self.certificate {
            req.extensions_mut().insert(c.clone());
        }
        let answer = self.router.call(req);
        Box::pin(async move {
            let resp = answer.await?;
            Ok(resp.map(|body| {
                Body::new(body.map_frame(move |frame| {
                    let _held = &in_flight;
                    frame
                }))
            }))
        })
    }
}

/// The subject CommonName of a client's leaf certificate (the last CN attribute, as Go's
/// `pkix.Name` keeps it).
pub fn common_name(leaf: &rustls::pki_types::CertificateDer<'_>) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(leaf.as_ref()).ok()?;
    let cn = cert.subject().iter_common_name().last()?;
    cn.as_str().ok().map(str::to_string)
}

/// The answer to a connection beyond the listener's cap.
fn refusal() -> Vec<u8> {
    let body = "{\"message\":\"Too many open connections\"}\n";
    format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// How long a refused connection is kept to answer it and read what its client sent.
const REFUSAL_LIMIT: Duration = Duration::from_secs(2);

/// Answer 503 and close. What the client sent is read (and dropped) after the answer, so the
/// close does not reset the connection before the client has read it.
pub async fn refuse<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) {
    let _ = tokio::time::timeout(REFUSAL_LIMIT, async {
        stream.write_all(&refusal()).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 4096];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<_, io::Error>(())
    })
    .await;
}

/// A warning logged at most once a second, with the count of those held back: an accept loop
/// out of file descriptors fails hundreds of times a second.
#[derive(Default)]
pub struct Throttled {
    last: Option<Instant>,
    held_back: u64,
}

impl Throttled {
    pub fn warn(&mut self, what: std::fmt::Arguments<'_>) {
        let now = Instant::now();
        if self
            .last
            .is_some_and(|l| now.duration_since(l) < Duration::from_secs(1))
        {
            self.held_back += 1;
            return;
        }
        if self.held_back > 0 {
            tracing::warn!(
                "{what} ({} more like it in the last second)",
                self.held_back
            );
        } else {
            tracing::warn!("{what}");
        }
        self.last = Some(now);
        self.held_back = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_derived_cap_leaves_a_reserve_and_holds_the_benchmark() {
        assert_eq!(derived_max_connections(20_000), 18_000);
        assert_eq!(derived_max_connections(1024), 768);
        assert_eq!(derived_max_connections(1 << 20), (1 << 20) - 4096);
        assert_eq!(derived_max_connections(100), 16);
    }

    #[tokio::test]
    async fn deadlines_follow_the_requests() {
        let limits = Limits {
            header_read_timeout: Some(Duration::from_secs(10)),
            idle_timeout: Some(Duration::from_secs(300)),
            ..Limits::default()
        };
        let secs = |a: &Activity| {
            a.deadline(&limits)
                .map(|at| at.duration_since(a.born).as_secs())
        };
        let a = Activity::new();
        assert_eq!(secs(&a), Some(10), "headers are due from the start");
        let req = a.begin();
        assert_eq!(secs(&a), None, "a pending request is not idle");
        a.on_read();
        assert_eq!(secs(&a), None, "body bytes start no header clock");
        drop(req);
        assert_eq!(secs(&a), Some(300), "idle once the response is written");
        a.on_read();
        assert_eq!(secs(&a), Some(10), "the next request's first byte");
    }

    #[test]
    fn the_refusal_is_a_whole_http_response() {
        let text = String::from_utf8(refusal()).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 "));
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
    }
}
