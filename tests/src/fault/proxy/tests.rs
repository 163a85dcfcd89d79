use super::*;
use crate::free_port;

/// An echo server on a free port (answers every chunk with the same bytes).
fn echo() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    thread::spawn(move || {
        for s in l.incoming().take(16).flatten() {
            thread::spawn(move || {
                let mut s = s;
                let mut buf = [0u8; 1024];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 || s.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

/// Member 0 connects through the proxy to member 1 and says who it is.
fn connect(p: &Proxy) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", p.ports()[1])).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(b"POST /raft HTTP/1.1\r\nX-Etcd-From: a0\r\n\r\n")
        .expect("write");
    let mut head = [0u8; 40];
    s.read_exact(&mut head).expect("echo of the head");
    s
}

fn roundtrip(s: &mut TcpStream) -> std::io::Result<Duration> {
    let t = Instant::now();
    s.write_all(b"ping")?;
    let mut b = [0u8; 4];
    s.read_exact(&mut b)?;
    Ok(t.elapsed())
}

#[test]
fn drops_delays_resets_and_heals_a_directed_link() {
    let p = Proxy::start(&[free_port(), free_port()], &[echo(), echo()]);
    p.set_ids(HashMap::from([
        ("a0".to_string(), 0),
        ("b1".to_string(), 1),
    ]));
    let mut s = connect(&p);
    assert!(roundtrip(&mut s).expect("pass") < Duration::from_millis(500));
    // The other direction's rule does not touch this link.
    p.set(1, 0, Link::Drop);
    assert!(roundtrip(&mut s).is_ok());
    // Held while dropped, delivered once healed.
    p.set(0, 1, Link::Drop);
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("t");
    s.write_all(b"held").expect("accepted while dropped");
    let mut b = [0u8; 4];
    assert!(
        s.read_exact(&mut b).is_err(),
        "nothing crosses a dropped link"
    );
    p.heal();
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("t");
    s.read_exact(&mut b).expect("delivered after the heal");
    assert_eq!(&b, b"held");
    p.set(0, 1, Link::Delay(Duration::from_millis(100)));
    assert!(roundtrip(&mut s).expect("delayed") >= Duration::from_millis(200));
    p.set(0, 1, Link::Reset);
    assert!(roundtrip(&mut s).is_err(), "reset closes the connection");
    p.heal();
    let mut s = connect(&p);
    assert!(roundtrip(&mut s).is_ok());
    assert_eq!(p.opened().get(&(Some(0), 1)), Some(&2));
}

/// Holding 1's bytes to 0 holds the answers on a connection 0 opened, not its requests.
#[test]
fn holds_one_direction_of_bytes_whoever_opened_the_connection() {
    let p = Proxy::start(&[free_port(), free_port()], &[echo(), echo()]);
    p.set_ids(HashMap::from([
        ("a0".to_string(), 0),
        ("b1".to_string(), 1),
    ]));
    let mut s = connect(&p);
    p.hold_bytes(1, 0);
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("t");
    assert!(roundtrip(&mut s).is_err(), "the answer is held");
    p.heal();
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("t");
    let mut b = [0u8; 4];
    s.read_exact(&mut b)
        .expect("the held answer, after the heal");
    assert_eq!(&b, b"ping");
    // 0's bytes to 1 held: the request never reaches the echo server.
    p.hold_bytes(0, 1);
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("t");
    assert!(roundtrip(&mut s).is_err(), "the request is held");
    p.heal();
}

#[test]
fn finds_either_sender_header() {
    let ours = b"POST /raft/append HTTP/1.1\r\nx-etcd-from: ABC1\r\n\r\n";
    let real = b"GET /raft/stream/msgapp/1 HTTP/1.1\r\nX-Server-From: 8e9e05c52164694d\r\n\r\n";
    assert_eq!(sender_id(ours).as_deref(), Some("abc1"));
    assert_eq!(sender_id(real).as_deref(), Some("8e9e05c52164694d"));
    assert_eq!(sender_id(b"GET /version HTTP/1.1\r\n\r\n"), None);
}
