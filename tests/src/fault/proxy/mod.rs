//! A user-space TCP proxy in front of every member's peer port, faulting DIRECTED links.
//!
//! Member X advertises the proxy's port for its peer URL, so every connection any member opens
//! to X arrives here. The link A→B is the set of connections A opened to B; which member opened
//! one is read from the first request's `X-Etcd-From` (ours) or `X-Server-From` (real etcd)
//! header, and the bytes are then forwarded verbatim. A rule applies to both directions of the
//! link's connections (requests and the answers on them).
//!
//! [`Proxy::hold_bytes`] instead faults one direction of BYTES between two members, whoever opened
//! the connection: a member that can send but not receive has its requests delivered and the
//! answers to them held, and the requests others open to it held too. That is the same fault for
//! ours (every RPC flows with the connection) and for real etcd (whose streams flow against it).
//!
//! `Drop` stalls a connection: bytes are accepted into the socket buffers and nothing is
//! forwarded until the link heals, when everything held is delivered. That is what a firewall
//! DROP looks like to TCP, whose retransmissions deliver the held bytes once the path is back;
//! throwing bytes away in user space would instead corrupt the HTTP stream, which no real
//! network does.
//!
//! Two differences from a real network: a connection to a member that is down is accepted and
//! then closed (the proxy's port stays open), not refused; and real etcd's long-lived streams
//! are GETs that the RECEIVING member opens (`/raft/stream/...`, messages flow against the
//! connection), so a one-way rule cuts the opposite raft direction there than for ours, whose
//! every RPC flows with the connection. Real etcd's probes carry no sender header: a connection
//! without one gets the most severe rule into its destination.

use std::collections::{HashMap, HashSet};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

/// What happens to a directed link's traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Pass,
    /// Black hole: hold every byte, both directions, sockets kept open.
    Drop,
    /// Every chunk forwarded this much later, each way.
    Delay(Duration),
    /// Close the link's connections, and every new one at once.
    Reset,
}

impl Link {
    fn severity(self) -> u8 {
        match self {
            Link::Pass => 0,
            Link::Delay(_) => 1,
            Link::Drop => 2,
            Link::Reset => 3,
        }
    }
}

/// How often a stalled or idle pump looks at the rules and the stop flag.
const TICK: Duration = Duration::from_millis(5);
/// Chunks held per direction before the reader stops reading (so senders feel backpressure).
const QUEUE_CHUNKS: usize = 64;
/// The longest request head looked at for the sender's id.
const HEAD_LIMIT: usize = 64 << 10;

struct Conn {
    from_id: Option<String>,
    to: usize,
    streams: [TcpStream; 2],
}

#[derive(Default)]
struct State {
    /// Hex member id → member index.
    ids: HashMap<String, usize>,
    /// (from, to) → rule; absent means Pass.
    rules: HashMap<(usize, usize), Link>,
    /// (from, to): bytes member `from` writes to member `to` are held, on any connection.
    held: HashSet<(usize, usize)>,
    /// Connections opened, by (sender id as sent, destination).
    opened: HashMap<(Option<String>, usize), u64>,
    conns: HashMap<u64, Conn>,
}

struct Inner {
    state: Mutex<State>,
    setup_delay: Mutex<Duration>,
    stop: AtomicBool,
    next_conn: AtomicU64,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The rule for a connection: by its sender when known; when not, the most severe rule into
    /// `to` (a fault must not leak through a connection the proxy could not attribute).
    fn rule(&self, from_id: Option<&str>, to: usize) -> Link {
        let s = self.lock();
        match from_id.and_then(|id| s.ids.get(id)) {
            Some(from) => s.rules.get(&(*from, to)).copied().unwrap_or(Link::Pass),
            None => s
                .rules
                .iter()
                .filter(|((_, t), _)| *t == to)
                .map(|(_, l)| *l)
                .max_by_key(|l| l.severity())
                .unwrap_or(Link::Pass),
        }
    }

    /// Whether the bytes of a connection opened by `from_id` to `to` are held in this direction
    /// (`up`: written by the opener). An unattributed opener matches any member.
    fn held(&self, from_id: Option<&str>, to: usize, up: bool) -> bool {
        let s = self.lock();
        if s.held.is_empty() {
            return false;
        }
        let opener = from_id.and_then(|id| s.ids.get(id)).copied();
        s.held.iter().any(|&(a, b)| {
            let (writer, reader) = if up {
                (opener, to)
            } else {
                (Some(to), opener.unwrap_or(b))
            };
            writer.is_none_or(|w| w == a) && reader == b
        })
    }
}

/// The proxy: one listener per member, forwarding to that member's real peer port.
pub struct Proxy {
    inner: Arc<Inner>,
    ports: Vec<u16>,
}

impl Proxy {
    /// Listen on `listen[i]`, forwarding to `targets[i]` (member i's real peer port).
    pub fn start(listen: &[u16], targets: &[u16]) -> Proxy {
        let inner = Arc::new(Inner {
            state: Mutex::new(State::default()),
            setup_delay: Mutex::new(Duration::ZERO),
            stop: AtomicBool::new(false),
            next_conn: AtomicU64::new(0),
        });
        for (to, (&port, &target)) in listen.iter().zip(targets).enumerate() {
            let l = TcpListener::bind(("127.0.0.1", port)).expect("bind proxy port");
            l.set_nonblocking(true).expect("nonblocking");
            let inner = inner.clone();
            thread::spawn(move || accept_loop(&inner, &l, to, target));
        }
        Proxy {
            inner,
            ports: listen.to_vec(),
        }
    }

    pub fn ports(&self) -> &[u16] {
        &self.ports
    }

    /// Teach the proxy which hex member id is which member.
    pub fn set_ids(&self, ids: HashMap<String, usize>) {
        self.inner.lock().ids = ids;
    }

    /// Time added before a new connection's first byte is forwarded (as TLS would add).
    pub fn set_setup_delay(&self, d: Duration) {
        *self
            .inner
            .setup_delay
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = d;
    }

    /// Set the rule of the directed link `from`→`to`.
    pub fn set(&self, from: usize, to: usize, link: Link) {
        let mut s = self.inner.lock();
        s.rules.insert((from, to), link);
        if link == Link::Reset {
            let ids = s.ids.clone();
            for c in s.conns.values() {
                let known = c.from_id.as_ref().and_then(|id| ids.get(id));
                if c.to == to && known.is_none_or(|f| *f == from) {
                    for st in &c.streams {
                        let _ = st.shutdown(Shutdown::Both);
                    }
                }
            }
        }
    }

    /// Both directions between `a` and every other member.
    pub fn isolate(&self, a: usize, n: usize, link: Link) {
        for b in (0..n).filter(|b| *b != a) {
            self.set(a, b, link);
            self.set(b, a, link);
        }
    }

    /// Hold every byte member `from` writes to member `to`, on connections either opened;
    /// the other direction still passes. Healed by [`Proxy::heal`], which delivers what was held.
    pub fn hold_bytes(&self, from: usize, to: usize) {
        self.inner.lock().held.insert((from, to));
    }

    /// Every link passes again.
    pub fn heal(&self) {
        let mut s = self.inner.lock();
        s.rules.clear();
        s.held.clear();
    }

    /// Connections opened so far, by (sender index if known, destination).
    pub fn opened(&self) -> HashMap<(Option<usize>, usize), u64> {
        let s = self.inner.lock();
        let mut out = HashMap::new();
        for ((id, to), n) in &s.opened {
            let from = id.as_ref().and_then(|id| s.ids.get(id)).copied();
            *out.entry((from, *to)).or_insert(0) += n;
        }
        out
    }

    /// Total connections opened so far.
    pub fn opened_total(&self) -> u64 {
        self.inner.lock().opened.values().sum()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::SeqCst);
        for c in self.inner.lock().conns.values() {
            for st in &c.streams {
                let _ = st.shutdown(Shutdown::Both);
            }
        }
    }
}

fn accept_loop(inner: &Arc<Inner>, l: &TcpListener, to: usize, target: u16) {
    while !inner.stop.load(Ordering::SeqCst) {
        match l.accept() {
            Ok((s, _)) => {
                let inner = inner.clone();
                thread::spawn(move || serve(&inner, s, to, target));
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => thread::sleep(TICK),
            Err(_) => thread::sleep(TICK),
        }
    }
}

/// Read until the end of the first request head; returns the bytes read.
fn read_head(inner: &Inner, s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !inner.stop.load(Ordering::SeqCst) && buf.len() < HEAD_LIMIT {
        match s.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    return Some(buf);
                }
            }
            Err(e) if is_timeout(&e) => {}
            Err(_) => return None,
        }
    }
    Some(buf)
}

/// The sender's member id from `X-Etcd-From` or `X-Server-From`, lowercased.
pub fn sender_id(head: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(head);
    text.split("\r\n").find_map(|line| {
        let (k, v) = line.split_once(':')?;
        let k = k.trim();
        (k.eq_ignore_ascii_case("x-etcd-from") || k.eq_ignore_ascii_case("x-server-from"))
            .then(|| v.trim().to_ascii_lowercase())
    })
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

fn serve(inner: &Arc<Inner>, mut client: TcpStream, to: usize, target: u16) {
    let _ = client.set_read_timeout(Some(Duration::from_millis(50)));
    let Some(head) = read_head(inner, &mut client) else {
        return;
    };
    let from_id = sender_id(&head);
    *inner
        .lock()
        .opened
        .entry((from_id.clone(), to))
        .or_insert(0) += 1;
    let delay = *inner.setup_delay.lock().unwrap_or_else(|p| p.into_inner());
    thread::sleep(delay);
    if inner.rule(from_id.as_deref(), to) == Link::Reset {
        return;
    }
    let Ok(upstream) = TcpStream::connect(("127.0.0.1", target)) else {
        return;
    };
    let _ = upstream.set_read_timeout(Some(Duration::from_millis(50)));
    let id = inner.next_conn.fetch_add(1, Ordering::SeqCst);
    let (Ok(c2), Ok(u2)) = (client.try_clone(), upstream.try_clone()) else {
        return;
    };
    inner.lock().conns.insert(
        id,
        Conn {
            from_id: from_id.clone(),
            to,
            streams: [c2, u2],
        },
    );
    let link = Arc::new((from_id, to));
    let up = spawn_pump(inner, &client, &upstream, head, (&link, true));
    let down = spawn_pump(inner, &upstream, &client, Vec::new(), (&link, false));
    let _ = up.join();
    let _ = down.join();
    inner.lock().conns.remove(&id);
}

type Chunk = (Instant, Vec<u8>);

/// One direction: a reader feeding a bounded queue, a writer applying the link's rule.
fn spawn_pump(
    inner: &Arc<Inner>,
    src: &TcpStream,
    dst: &TcpStream,
    first: Vec<u8>,
    (link, up): (&Arc<(Option<String>, usize)>, bool),
) -> thread::JoinHandle<()> {
    let (tx, rx) = sync_channel::<Chunk>(QUEUE_CHUNKS);
    let (src, dst) = (src.try_clone(), dst.try_clone());
    let (inner_r, inner_w, link) = (inner.clone(), inner.clone(), link.clone());
    thread::spawn(move || {
        let (Ok(src), Ok(dst)) = (src, dst) else {
            return;
        };
        let reader = thread::spawn(move || pump_read(&inner_r, src, first, tx));
        pump_write(&inner_w, dst, rx, (&link, up));
        let _ = reader.join();
    })
}

fn pump_read(inner: &Inner, mut src: TcpStream, first: Vec<u8>, tx: SyncSender<Chunk>) {
    if !first.is_empty() && tx.send((Instant::now(), first)).is_err() {
        return;
    }
    let mut buf = vec![0u8; 16 << 10];
    while !inner.stop.load(Ordering::SeqCst) {
        match src.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if tx.send((Instant::now(), buf[..n].to_vec())).is_err() {
                    return;
                }
            }
            Err(e) if is_timeout(&e) => {}
            Err(_) => return,
        }
    }
}

fn pump_write(
    inner: &Inner,
    mut dst: TcpStream,
    rx: Receiver<Chunk>,
    (link, up): (&(Option<String>, usize), bool),
) {
    let close = |d: &TcpStream| {
        let _ = d.shutdown(Shutdown::Both);
    };
    loop {
        let (read_at, bytes) = match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(c) => c,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if inner.stop.load(Ordering::SeqCst) {
                    return close(&dst);
                }
                continue;
            }
            // The reader saw the end: pass the half-close on.
            Err(_) => {
                let _ = dst.shutdown(Shutdown::Write);
                return;
            }
        };
        loop {
            if inner.stop.load(Ordering::SeqCst) {
                return close(&dst);
            }
            if inner.held(link.0.as_deref(), link.1, up) {
                thread::sleep(TICK);
                continue;
            }
            match inner.rule(link.0.as_deref(), link.1) {
                Link::Drop => thread::sleep(TICK),
                Link::Reset => return close(&dst),
                Link::Pass => break,
                Link::Delay(d) => {
                    let due = read_at + d;
                    let now = Instant::now();
                    if now >= due {
                        break;
                    }
                    thread::sleep((due - now).min(TICK));
                }
            }
        }
        if dst.write_all(&bytes).is_err() {
            return close(&dst);
        }
    }
}

#[cfg(test)]
mod tests;
