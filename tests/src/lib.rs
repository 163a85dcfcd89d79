//! Integration-test harness: start real `etcd` processes on loopback ports, talk HTTP to them,
//! kill and restart them. Used by every file in `tests/tests/`.
//!
//! - [`Daemon`]: one member (ours by default; `ETCD_BIN=/usr/bin/etcd` runs the same tests
//!   against real etcd 3.4, which is how the expectations were checked).
//! - [`Resp`] and the `get/put/post/delete/request` helpers: blocking HTTP with the status,
//!   headers and body kept verbatim.
//! - [`ctl`]: running etcdctl (ours and real). [`cluster`]: several members.
//!
//! Every wait has a deadline; processes are killed by pid when their handle drops.

pub mod cluster;
pub mod ctl;
pub mod fault;

use std::collections::HashSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// How long a member may take to become ready.
pub const READY_LIMIT: Duration = Duration::from_secs(30);

/// The directory cargo puts binaries in, seen from a test executable (`target/<profile>/deps/x`).
pub fn target_dir() -> PathBuf {
    ctl::target_dir()
}

/// Path of our `etcd`, or of `$ETCD_BIN`.
pub fn etcd_bin() -> PathBuf {
    if let Ok(p) = std::env::var("ETCD_BIN") {
        return PathBuf::from(p);
    }
    let p = target_dir().join("etcd");
    assert!(
        p.exists(),
        "{} is missing: run `cargo build --workspace --bins` first",
        p.display()
    );
    p
}

/// Whether the tests run against real etcd (`ETCD_BIN` points at it).
pub fn running_real() -> bool {
    std::env::var("ETCD_BIN").is_ok_and(|b| !b.contains("target"))
}

/// Real etcd 3.4, if installed.
pub fn real_etcd() -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin/etcd");
    p.exists().then_some(p)
}

/// A free loopback port, never handed out twice in this process.
pub fn free_port() -> u16 {
    static TAKEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    for _ in 0..1000 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("bind 127.0.0.1:0");
        let mut taken = TAKEN.lock().unwrap_or_else(|p| p.into_inner());
        if taken.get_or_insert_with(HashSet::new).insert(port) {
            return port;
        }
    }
    panic!("no free port")
}

/// One HTTP answer, kept verbatim.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// X-Etcd-Index as a number.
    pub fn etcd_index(&self) -> u64 {
        self.header("X-Etcd-Index")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no X-Etcd-Index in {:?}", self.headers))
    }
}

fn http() -> &'static reqwest::blocking::Client {
    static CLIENT: std::sync::OnceLock<reqwest::blocking::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::blocking::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client")
    })
}

/// Any request; `body` is sent as a form when given.
pub fn request(method: &str, url: &str, form: Option<&[(&str, &str)]>) -> Resp {
    try_request(method, url, form).unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

pub fn try_request(
    method: &str,
    url: &str,
    form: Option<&[(&str, &str)]>,
) -> Result<Resp, reqwest::Error> {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = http().request(method, url);
    if let Some(form) = form {
        req = req.form(form);
    }
    into_resp(req.send()?)
}

/// A request with a raw body and content type.
pub fn request_raw(method: &str, url: &str, content_type: &str, body: Vec<u8>) -> Resp {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let resp = http()
        .request(method, url)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    into_resp(resp).unwrap_or_else(|e| panic!("{url}: {e}"))
}

fn into_resp(resp: reqwest::blocking::Response) -> Result<Resp, reqwest::Error> {
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = resp.text()?;
    Ok(Resp {
        status,
        headers,
        body,
    })
}

/// Ports and URLs of one member.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub client_port: u16,
    pub peer_port: u16,
}

impl Endpoints {
    pub fn new() -> Endpoints {
        Endpoints {
            client_port: free_port(),
            peer_port: free_port(),
        }
    }
    pub fn client_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }
    pub fn peer_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.peer_port)
    }
}

impl Default for Endpoints {
    fn default() -> Self {
        Self::new()
    }
}

/// One etcd process and its data dir.
pub struct Daemon {
    pub name: String,
    pub bin: PathBuf,
    pub ends: Endpoints,
    /// Flags beyond the ones every member gets.
    pub args: Vec<String>,
    dir: tempfile::TempDir,
    child: Option<Child>,
    starts: u32,
}

impl Daemon {
    /// Our etcd (or `$ETCD_BIN`) as a fresh single-member cluster.
    pub fn start() -> Daemon {
        Self::start_with(&[])
    }

    /// Real etcd 3.4, if installed.
    pub fn start_real() -> Option<Daemon> {
        let bin = real_etcd()?;
        Some(Self::launch_single(bin, &[]))
    }

    /// Our etcd with extra flags (e.g. `--snapshot-count 100`).
    pub fn start_with(args: &[&str]) -> Daemon {
        Self::launch_single(etcd_bin(), args)
    }

    fn launch_single(bin: PathBuf, args: &[&str]) -> Daemon {
        let ends = Endpoints::new();
        let name = "default".to_string();
        let mut all = vec![
            "--initial-cluster".to_string(),
            format!("{name}={}", ends.peer_url()),
        ];
        all.extend(args.iter().map(|s| s.to_string()));
        let mut d = Daemon::new(bin, name, ends, all);
        d.spawn();
        d.wait_ready();
        d
    }

    /// A member that is not started yet (clusters build these).
    pub fn new(bin: PathBuf, name: String, ends: Endpoints, args: Vec<String>) -> Daemon {
        Daemon {
            name,
            bin,
            ends,
            args,
            dir: tempfile::Builder::new()
                .prefix("etcd-test-")
                .tempdir()
                .expect("tempdir"),
            child: None,
            starts: 0,
        }
    }

    pub fn is_real(&self) -> bool {
        !self.bin.to_string_lossy().contains("target")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// stderr of every start, appended.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("stderr.log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    pub fn client_url(&self) -> String {
        self.ends.client_url()
    }

    pub fn peer_url(&self) -> String {
        self.ends.peer_url()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.client_url(), path)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// The full command line of this member.
    pub fn command_args(&self) -> Vec<String> {
        let mut a = vec![
            "--enable-v2".to_string(),
            "--name".to_string(),
            self.name.clone(),
            "--data-dir".to_string(),
            self.data_dir().display().to_string(),
            "--listen-client-urls".to_string(),
            self.client_url(),
            "--advertise-client-urls".to_string(),
            self.client_url(),
            "--listen-peer-urls".to_string(),
            self.peer_url(),
            "--initial-advertise-peer-urls".to_string(),
            self.peer_url(),
        ];
        a.extend(self.args.iter().cloned());
        a
    }

    /// Start the process (without waiting for readiness).
    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "{} already running", self.name);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("log file");
        let child = Command::new(&self.bin)
            .args(self.command_args())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", self.bin.display()));
        self.child = Some(child);
        self.starts += 1;
    }

    /// Wait until `/health` answers (any status) and a GET of the root works.
    pub fn wait_ready(&mut self) {
        let deadline = Instant::now() + READY_LIMIT;
        while Instant::now() < deadline {
            if let Some(status) = self.exit_status() {
                panic!(
                    "{} exited with {status} during start; log:\n{}",
                    self.name,
                    self.log()
                );
            }
            if let Ok(r) = try_request("GET", &self.url("/v2/keys/"), None)
                && r.status == 200
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "{} not ready in {READY_LIMIT:?}; log:\n{}",
            self.name,
            self.log()
        );
    }

    /// The exit status if the process has ended.
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    fn signal(&self, sig: Signal) {
        if let Some(pid) = self.pid() {
            let _ = kill(Pid::from_raw(pid as i32), sig);
        }
    }

    /// SIGKILL and reap.
    pub fn kill(&mut self) {
        self.signal(Signal::SIGKILL);
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait (bounded; SIGKILL after 10 s). Returns the exit status.
    pub fn term(&mut self) -> Option<std::process::ExitStatus> {
        self.signal(Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(s) = self.exit_status() {
                self.child = None;
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
        None
    }

    /// SIGSTOP / SIGCONT.
    pub fn pause(&self) {
        self.signal(Signal::SIGSTOP);
    }
    pub fn resume(&self) {
        self.signal(Signal::SIGCONT);
    }

    /// Start again on the same data dir and ports, and wait until ready.
    pub fn restart(&mut self) {
        if self.child.is_some() {
            self.kill();
        }
        self.spawn();
        self.wait_ready();
    }

    pub fn get(&self, path: &str) -> Resp {
        request("GET", &self.url(path), None)
    }
    pub fn put(&self, path: &str, form: &[(&str, &str)]) -> Resp {
        request("PUT", &self.url(path), Some(form))
    }
    pub fn post(&self, path: &str, form: &[(&str, &str)]) -> Resp {
        request("POST", &self.url(path), Some(form))
    }
    pub fn delete(&self, path: &str) -> Resp {
        request("DELETE", &self.url(path), None)
    }
    pub fn request(&self, method: &str, path: &str, form: Option<&[(&str, &str)]>) -> Resp {
        request(method, &self.url(path), form)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.resume();
        self.kill();
    }
}

/// Total size of the files below `dir`.
pub fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            total += if p.is_dir() {
                dir_size(&p)
            } else {
                e.metadata().map(|m| m.len()).unwrap_or(0)
            };
        }
    }
    total
}

/// Poll `f` until it returns `Some`, or panic with `what` after `limit`.
pub fn wait_for<T>(limit: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Send `request` verbatim (a full HTTP/1.1 request; add `Connection: close`) to `addr` and
/// read the answer to the end. For what an HTTP client would tidy up first: `..` segments,
/// bad escapes in the path, HEAD answers with their exact headers.
pub fn raw_http(addr: &str, request: &[u8]) -> Resp {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("{addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(request).expect("write");
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    parse_raw_response(&raw)
}

fn parse_raw_response(raw: &[u8]) -> Resp {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {text:?}"));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad status line in {text:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Resp {
        status,
        headers,
        body,
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].strip_prefix("\r\n").unwrap_or(&rest[n..]);
    }
    out
}

impl Daemon {
    /// `host:port` of the client URL.
    pub fn client_addr(&self) -> String {
        format!("127.0.0.1:{}", self.ends.client_port)
    }

    /// A raw request line and headers (`Host` and `Connection: close` added) sent verbatim.
    pub fn raw(&self, method: &str, target: &str, extra_headers: &str, body: &[u8]) -> Resp {
        let mut req = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{extra_headers}",
            self.client_addr()
        );
        if !body.is_empty() || method == "PUT" || method == "POST" {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        raw_http(&self.client_addr(), &bytes)
    }

    /// Start a long poll on `path` in a thread; join it for the answer. Give it `limit`.
    pub fn watch(&self, path: &str, limit: Duration) -> std::thread::JoinHandle<Option<Resp>> {
        let url = self.url(path);
        std::thread::spawn(move || {
            let client = reqwest::blocking::Client::builder()
                .no_proxy()
                .timeout(limit)
                .build()
                .ok()?;
            into_resp(client.get(url).send().ok()?).ok()
        })
    }

    /// Wait until the store reports exactly `n` watchers (so a watch just started is registered).
    pub fn wait_watchers(&self, n: u64) {
        wait_for(Duration::from_secs(10), "watchers to register", || {
            (self.get("/v2/stats/store").json()["watchers"] == n).then_some(())
        });
    }

    /// The etcd index right now (from a GET of the root).
    pub fn index(&self) -> u64 {
        self.get("/v2/keys/").etcd_index()
    }
}

/// Whether `s` is an RFC 3339 time in UTC with nanoseconds as Go's `time.RFC3339Nano` prints
/// it: `2006-01-02T15:04:05.999999999Z` (trailing zeros of the fraction dropped).
pub fn is_rfc3339_nano(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|x| x.iter().all(u8::is_ascii_digit));
    if b.len() < 20 || !s.ends_with('Z') {
        return false;
    }
    let fixed = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let frac = &s[19..s.len() - 1];
    fixed
        && (frac.is_empty()
            || (frac.starts_with('.')
                && (2..=10).contains(&frac.len())
                && frac[1..].bytes().all(|c| c.is_ascii_digit())
                && !frac.ends_with('0')))
}

/// Makes two servers' transcripts comparable: every index number (`createdIndex`,
/// `modifiedIndex`, `"index"`, `X-Etcd-Index`, in-order key names, the `[a/b]` of a 401 cause)
/// becomes `#n`, numbered by first appearance, so equal indexes stay equal and the order in
/// which they appear must match; expirations become `<exp>` and remaining TTLs `<ttl>`.
/// Use one `Normaliser` per server and feed it the transcript in order.
#[derive(Debug, Default)]
pub struct Normaliser {
    seen: std::collections::HashMap<u64, usize>,
}

impl Normaliser {
    pub fn new() -> Normaliser {
        Normaliser::default()
    }

    fn id(&mut self, n: u64) -> String {
        let next = self.seen.len();
        format!("#{}", self.seen.entry(n).or_insert(next))
    }

    pub fn normalise(&mut self, s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        const NUMBERED: [&str; 5] = [
            "\"createdIndex\":",
            "\"modifiedIndex\":",
            "\"index\":",
            "X-Etcd-Index: ",
            "x-etcd-index: ",
        ];
        while !rest.is_empty() {
            if let Some(p) = NUMBERED.iter().find(|p| rest.starts_with(**p)) {
                out.push_str(p);
                rest = &rest[p.len()..];
                let end = rest
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(rest.len());
                if let Ok(n) = rest[..end].parse() {
                    out.push_str(&self.id(n));
                }
                rest = &rest[end..];
            } else if let Some(r) = rest.strip_prefix("\"expiration\":\"") {
                out.push_str("\"expiration\":\"<exp>");
                rest = &r[r.find('"').unwrap_or(r.len())..];
            } else if let Some(r) = rest.strip_prefix("\"ttl\":") {
                out.push_str("\"ttl\":<ttl>");
                let end = r
                    .find(|c: char| !(c.is_ascii_digit() || c == '-'))
                    .unwrap_or(r.len());
                rest = &r[end..];
            } else if rest.starts_with('/')
                && rest.len() > 20
                && rest.as_bytes()[1..21].iter().all(u8::is_ascii_digit)
                && !rest.as_bytes().get(21).is_some_and(u8::is_ascii_digit)
            {
                let n = rest[1..21].parse().unwrap_or(0);
                out.push('/');
                out.push_str(&self.id(n));
                rest = &rest[21..];
            } else if rest.starts_with("history has been cleared [") {
                let p = "history has been cleared [";
                out.push_str(p);
                rest = &rest[p.len()..];
                for sep in ['/', ']'] {
                    let end = rest.find(sep).unwrap_or(rest.len());
                    match rest[..end].parse() {
                        Ok(n) => out.push_str(&self.id(n)),
                        Err(_) => out.push_str(&rest[..end]),
                    }
                    rest = &rest[end..];
                    if let Some(r) = rest.strip_prefix(sep) {
                        out.push(sep);
                        rest = r;
                    }
                }
            } else {
                let c = rest.chars().next().expect("non-empty");
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normaliser_maps_indexes_consistently() {
        let mut n = Normaliser::new();
        let a = n.normalise(
            r#"X-Etcd-Index: 9 {"key":"/q/00000000000000000009","ttl":4,"expiration":"2026-01-01T00:00:00.5Z","modifiedIndex":9,"createdIndex":7,"index":12}"#,
        );
        assert_eq!(
            a,
            r#"X-Etcd-Index: #0 {"key":"/q/#0","ttl":<ttl>,"expiration":"<exp>","modifiedIndex":#0,"createdIndex":#1,"index":#2}"#
        );
        let b = n.normalise(r#""cause":"the requested history has been cleared [1010/4]""#);
        assert_eq!(
            b,
            r#""cause":"the requested history has been cleared [#3/#4]""#
        );
    }

    #[test]
    fn rfc3339_nano() {
        assert!(is_rfc3339_nano("2026-11-23T01:05:01.506843169Z"));
        assert!(is_rfc3339_nano("2026-11-23T01:05:01.5Z"));
        assert!(is_rfc3339_nano("2026-11-23T01:05:01Z"));
        assert!(!is_rfc3339_nano("2026-11-23T01:05:01.50Z"));
        assert!(!is_rfc3339_nano("2026-11-23 01:05:01Z"));
        assert!(!is_rfc3339_nano("2026-11-23T01:05:01+00:00"));
    }

    #[test]
    fn dechunks() {
        let r = parse_raw_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        );
        assert_eq!((r.status, r.body.as_str()), (200, "abcde"));
    }
}

/// Nanoseconds since the Unix epoch of an RFC 3339 UTC time (`…Z`), as etcd prints expirations.
pub fn rfc3339_unix_nanos(s: &str) -> Option<i128> {
    if !is_rfc3339_nano(s) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss) = (n(11..13)?, n(14..16)?, n(17..19)?);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    let secs = days * 86400 + hh * 3600 + mm * 60 + ss;
    let frac = &s[19..s.len() - 1];
    let nanos = if frac.is_empty() {
        0
    } else {
        format!("{:0<9}", &frac[1..]).parse::<i128>().ok()?
    };
    Some(i128::from(secs) * 1_000_000_000 + nanos)
}

/// Now, in nanoseconds since the Unix epoch.
pub fn unix_nanos_now() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

/// Replace the value of every `"expiration":"…"` with `<exp>` (after checking its format).
pub fn mask_expirations(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    let pat = "\"expiration\":\"";
    while let Some(i) = rest.find(pat) {
        out.push_str(&rest[..i + pat.len()]);
        rest = &rest[i + pat.len()..];
        let end = rest.find('"').unwrap_or(rest.len());
        assert!(
            is_rfc3339_nano(&rest[..end]),
            "expiration {:?} is not RFC3339Nano UTC",
            &rest[..end]
        );
        out.push_str("<exp>");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod time_tests {
    use super::*;

    #[test]
    fn parses_rfc3339() {
        assert_eq!(
            rfc3339_unix_nanos("1970-01-01T00:00:01.5Z"),
            Some(1_500_000_000)
        );
        assert_eq!(
            rfc3339_unix_nanos("2026-11-23T01:11:19.179800887Z"),
            Some(1_795_396_279_179_800_887)
        );
        assert_eq!(
            mask_expirations(r#"{"expiration":"2026-11-23T01:11:19Z","ttl":1}"#),
            r#"{"expiration":"<exp>","ttl":1}"#
        );
    }
}
