//! The client port as a server on the internet needs it (issue 10): thousands of idle
//! keep-alive connections leave `/health` answering, a slowloris is cut off at the header
//! timeout, an idle connection is closed at the idle timeout while a pending watch is not, the
//! connection cap answers 503 at once, and the per-client watcher cap answers 429 until a
//! watcher ends. Raw sockets throughout, so each check sees exactly one connection.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use etcd_tests::daemon::{Daemon, Endpoints, etcd_bin};
use etcd_tests::{Api, InProcess, running_real, wait_until};

/// One client connection, read by hand.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// The pieces of an answer a test looks at.
struct Answer {
    status: u16,
    body: String,
}

impl Conn {
    fn open(addr: &str) -> Conn {
        let stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("read timeout");
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    /// A keep-alive GET.
    fn send_get(&mut self, target: &str) {
        let req = format!("GET {target} HTTP/1.1\r\nHost: etcd\r\n\r\n");
        self.stream.write_all(req.as_bytes()).expect("write");
    }

    /// Read more bytes; `Ok(false)` when none came within the read timeout, `Err` once closed.
    fn fill(&mut self) -> Result<bool, ()> {
        let mut chunk = [0u8; 4096];
        match self.stream.read(&mut chunk) {
            Ok(0) => Err(()),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(true)
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Ok(false),
            Err(_) => Err(()),
        }
    }

    /// The next whole response (a `Content-Length` body), within `limit`.
    fn answer(&mut self, limit: Duration) -> Answer {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(a) = self.take_answer() {
                return a;
            }
            assert!(Instant::now() < deadline, "no whole answer in {limit:?}");
            if self.fill().is_err() {
                let text = String::from_utf8_lossy(&self.buf).into_owned();
                panic!("closed before a whole answer; read {text:?}");
            }
        }
    }

    fn take_answer(&mut self) -> Option<Answer> {
        let text = String::from_utf8_lossy(&self.buf).into_owned();
        let (head, rest) = text.split_once("\r\n\r\n")?;
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .expect("a Content-Length answer");
        if rest.len() < length {
            return None;
        }
        let status = head.split(' ').nth(1)?.parse().ok()?;
        let body = rest[..length].to_string();
        self.buf.drain(..head.len() + 4 + length);
        Some(Answer { status, body })
    }

    /// The status line of the next answer, once its head has arrived.
    fn status_line(&mut self, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        while !self.buf.windows(4).any(|w| w == b"\r\n\r\n") {
            assert!(Instant::now() < deadline, "no answer head in {limit:?}");
            assert!(self.fill().is_ok(), "closed before an answer head");
        }
        let text = String::from_utf8_lossy(&self.buf);
        text.lines().next().unwrap_or_default().to_string()
    }

    /// Whether the server closes this connection within `limit`.
    fn closed_within(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.fill().is_err() {
                return true;
            }
        }
        false
    }
}

fn skip_real() -> bool {
    if running_real() {
        println!("skipped against real etcd: these limits are ours (etcd has no such flags)");
        return true;
    }
    false
}

/// The test process needs a descriptor per client connection too.
fn raise_own_open_files(need: u64) -> Result<(), String> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).map_err(|e| e.to_string())?;
    if hard < need {
        return Err(format!("the hard open-files limit is {hard}, below {need}"));
    }
    if soft < hard {
        setrlimit(Resource::RLIMIT_NOFILE, hard, hard).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// A member process started with a soft limit of 1,024 open files, as a shell would start it.
struct LowLimitMember {
    child: std::process::Child,
    daemon: Daemon,
}

impl LowLimitMember {
    fn start() -> LowLimitMember {
        let daemon = Daemon::new(etcd_bin(), "default".into(), Endpoints::new(), Vec::new());
        let log = std::fs::File::create(daemon.log_path()).expect("log file");
        let child = Command::new("/bin/sh")
            .arg("-c")
            .arg(r#"ulimit -S -n 1024 && exec "$0" "$@""#)
            .arg(etcd_bin())
            .args(daemon.command_args())
            .args([
                "--initial-cluster",
                &format!("default={}", daemon.peer_url()),
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn etcd under sh");
        let m = LowLimitMember { child, daemon };
        let url = m.daemon.url("/health");
        wait_until(Duration::from_secs(60), "the member to serve", || {
            etcd_tests::cluster::probe(&url, Duration::from_secs(2))
                .is_some_and(|r| r.status == 200)
        });
        m
    }
}

impl Drop for LowLimitMember {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn two_thousand_idle_keep_alive_connections_leave_health_answering() {
    if skip_real() {
        return;
    }
    const IDLE: usize = 2000;
    // 2,000 sockets in this process and in the member, with room for the other tests here and
    // for the member's reserve (the member raises its own soft limit to the same hard limit).
    const NEED: u64 = 2 * IDLE as u64;
    if let Err(why) = raise_own_open_files(NEED) {
        println!("skipped: {why}; this test needs {NEED} open files");
        return;
    }
    let m = LowLimitMember::start();
    let addr = m.daemon.client_addr();
    let mut idle = Vec::with_capacity(IDLE);
    for i in 0..IDLE {
        let mut c = Conn::open(&addr);
        c.send_get("/v2/keys/");
        let a = c.answer(Duration::from_secs(10));
        assert_eq!(a.status, 200, "connection {i}: {}", a.body);
        idle.push(c);
    }
    // Each probe is a new connection; one that hangs is retried until the deadline.
    let started = Instant::now();
    let url = m.daemon.url("/health");
    wait_until(Duration::from_secs(10), "/health to answer 200", || {
        etcd_tests::cluster::probe(&url, Duration::from_secs(1)).is_some_and(|r| r.status == 200)
    });
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "slow: {:?}",
        started.elapsed()
    );
    // Every idle connection is still served.
    for c in idle.iter_mut().step_by(97) {
        c.send_get("/health");
        assert_eq!(c.answer(Duration::from_secs(10)).status, 200);
    }
    let log = m.daemon.log();
    assert!(!log.contains("Too many open files"), "log:\n{log}");
}

#[test]
fn a_slowloris_is_cut_off_at_the_header_timeout() {
    if skip_real() {
        return;
    }
    let s = InProcess::start(&["--header-read-timeout", "1s"]);
    let mut c = Conn::open(&s.client_addr());
    let started = Instant::now();
    c.stream
        .write_all(b"GET /v2/keys/ HTTP/1.1\r\nHost: etcd\r\n")
        .expect("write");
    // One header byte per read timeout (100 ms), never the blank line: at most 100 bytes.
    let mut cut = None;
    for _ in 0..100 {
        if c.fill().is_err() || c.stream.write_all(b"X").is_err() {
            cut = Some(started.elapsed());
            break;
        }
    }
    let cut = cut.expect("the slowloris was never cut off");
    assert!(
        cut >= Duration::from_millis(900) && cut < Duration::from_secs(5),
        "cut off after {cut:?}"
    );
    // An honest client on the same server is served.
    let mut ok = Conn::open(&s.client_addr());
    ok.send_get("/health");
    assert_eq!(ok.answer(Duration::from_secs(10)).status, 200);
}

#[test]
fn an_idle_connection_is_closed_but_a_pending_watch_is_not() {
    if skip_real() {
        return;
    }
    let s = InProcess::start(&["--idle-timeout", "1s", "--header-read-timeout", "1s"]);
    let mut watch = Conn::open(&s.client_addr());
    let watch_started = Instant::now();
    watch.send_get("/v2/keys/w?wait=true");
    let mut idle = Conn::open(&s.client_addr());
    idle.send_get("/v2/keys/");
    assert_eq!(idle.answer(Duration::from_secs(10)).status, 200);
    let answered = Instant::now();
    assert!(
        idle.closed_within(Duration::from_secs(10)),
        "the idle connection stayed open"
    );
    let idle_for = answered.elapsed();
    assert!(
        idle_for >= Duration::from_millis(900),
        "closed after {idle_for:?}"
    );
    // The watch has waited longer than both timeouts and is still there to get its event.
    wait_until(
        Duration::from_secs(10),
        "the watch to outlast the timeouts",
        || watch_started.elapsed() > Duration::from_millis(2500),
    );
    assert_eq!(s.put("/v2/keys/w", &[("value", "x")]).status, 201);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !String::from_utf8_lossy(&watch.buf).contains(r#""value":"x""#) {
        assert!(Instant::now() < deadline, "no event on the watch");
        assert!(watch.fill().is_ok(), "the pending watch was closed");
    }
}

#[test]
fn the_connection_cap_answers_503_and_open_connections_are_served() {
    if skip_real() {
        return;
    }
    let s = InProcess::start(&[
        "--max-connections",
        "50",
        "--idle-timeout",
        "0",
        "--header-read-timeout",
        "0",
    ]);
    let addr = s.client_addr();
    // The harness's own pooled connection (readiness probe) may hold a place or two.
    let mut open = Vec::new();
    let refused = loop {
        assert!(open.len() <= 50, "more than 50 connections served");
        let mut c = Conn::open(&addr);
        c.send_get("/health");
        let a = c.answer(Duration::from_secs(10));
        if a.status != 200 {
            break a;
        }
        open.push(c);
    };
    assert!(open.len() >= 45, "refused after only {}", open.len());
    assert_eq!(refused.status, 503);
    assert_eq!(
        refused.body,
        "{\"message\":\"Too many open connections\"}\n"
    );
    let first = open.first_mut().expect("an open connection");
    first.send_get("/health");
    assert_eq!(first.answer(Duration::from_secs(10)).status, 200);
    // A connection that ends makes room.
    drop(open.pop());
    wait_until(
        Duration::from_secs(10),
        "room after a connection closed",
        || {
            let mut c = Conn::open(&addr);
            c.send_get("/health");
            c.answer(Duration::from_secs(10)).status == 200
        },
    );
}

#[test]
fn the_per_client_watcher_cap_answers_429_until_a_watcher_ends() {
    if skip_real() {
        return;
    }
    let s = InProcess::start(&["--max-watchers-per-client", "2"]);
    let addr = s.client_addr();
    let mut watches: Vec<Conn> = ["/v2/keys/a?wait=true", "/v2/keys/b?wait=true"]
        .iter()
        .map(|t| {
            let mut c = Conn::open(&addr);
            c.send_get(t);
            c
        })
        .collect();
    s.wait_watchers(2);
    let mut third = Conn::open(&addr);
    third.send_get("/v2/keys/c?wait=true");
    let refused = third.answer(Duration::from_secs(10));
    assert_eq!(refused.status, 429);
    assert_eq!(
        refused.body,
        "{\"message\":\"Too many pending watches from this client address (limit 2)\"}\n"
    );
    // Other requests are not counted.
    assert_eq!(s.get("/v2/keys/").status, 200);
    // The watch on /a gets its event and ends; a new watch then waits instead of being refused.
    assert_eq!(s.put("/v2/keys/a", &[("value", "1")]).status, 201);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !String::from_utf8_lossy(&watches[0].buf).contains(r#""value":"1""#) {
        assert!(Instant::now() < deadline, "no event on /a");
        let _ = watches[0].fill();
    }
    wait_until(Duration::from_secs(10), "a new watch to wait", || {
        let mut c = Conn::open(&addr);
        c.send_get("/v2/keys/c?wait=true");
        // A pending watch answers its head (200) at once and its body at the event.
        let waits = c.status_line(Duration::from_secs(10)).contains(" 200 ");
        if waits {
            watches.push(c);
        }
        waits
    });
    s.wait_watchers(2);
}
