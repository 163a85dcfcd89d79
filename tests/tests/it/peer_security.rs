//! One request must never stop a cluster: strangers on the peer port change and learn nothing,
//! a vote whose term would overflow is refused, and values as large as the client API accepts
//! replicate to every member.
//!
//! The peer API is ours (real etcd's is a different protocol), so these run against our binary
//! only.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use etcd_tests::cluster::Cluster;
use etcd_tests::{Daemon, Resp, running_real, wait_for};

const SETTLE: Duration = Duration::from_secs(30);

/// POST `body` to a member's peer URL with exactly the given headers.
fn peer_post(peer_url: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let mut req = client
        .post(format!("{peer_url}{path}"))
        .header("Content-Type", "application/json")
        .body(body.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().unwrap_or_else(|e| panic!("{path}: {e}"));
    Resp {
        status: resp.status().as_u16(),
        headers: Vec::new(),
        body: resp.text().unwrap_or_default(),
    }
}

/// Open the append stream (`GET /raft/stream`, upgraded) with `headers`. `Err(status line)`
/// when the member refuses the upgrade.
fn open_stream(peer_url: &str, headers: &[(&str, &str)]) -> Result<TcpStream, String> {
    open_upgrade(peer_url, "/raft/stream", "etcd-raft-append/1", headers)
}

/// Upgrade a peer connection at `path` to `protocol`.
fn open_upgrade(
    peer_url: &str,
    path: &str,
    protocol: &str,
    headers: &[(&str, &str)],
) -> Result<TcpStream, String> {
    let addr = peer_url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(SETTLE)).expect("timeout");
    let mut head = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: upgrade\r\nUpgrade: {protocol}\r\n"
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).expect("write");
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    while !answer.ends_with(b"\r\n\r\n") && answer.len() < 64 << 10 {
        s.read_exact(&mut byte).expect("the answer's head");
        answer.push(byte[0]);
    }
    let answer = String::from_utf8_lossy(&answer).to_string();
    let status = answer.lines().next().unwrap_or_default().to_string();
    if status.starts_with("HTTP/1.1 101") {
        Ok(s)
    } else {
        Err(status)
    }
}

/// Send one frame on an open stream; the answer frame, or `None` if the member closed it.
fn stream_frame(s: &mut TcpStream, frame: &str) -> Option<String> {
    let len = u32::try_from(frame.len()).expect("small frame");
    s.write_all(&len.to_be_bytes()).expect("write");
    s.write_all(frame.as_bytes()).expect("write");
    let mut len = [0u8; 4];
    match s.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return None,
        Err(e) => panic!("the member neither answered nor closed the stream: {e}"),
    }
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
    s.read_exact(&mut body).expect("the answer frame");
    Some(String::from_utf8_lossy(&body).to_string())
}

fn cluster_id(d: &Daemon) -> String {
    d.get("/v2/keys/")
        .header("X-Etcd-Cluster-Id")
        .expect("cluster id header")
        .to_string()
}

fn member_ids(d: &Daemon) -> Vec<String> {
    let members = d.get("/v2/members").json();
    let mut ids: Vec<String> = members["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["id"].as_str().expect("id").to_string())
        .collect();
    ids.sort();
    ids
}

const PROPOSE_SET: &str = r#"{"now":0,"op":{"Set":{"path":"/stranger","dir":false,"value":"x","expire_at":null,"refresh":false}}}"#;
const PROPOSE_WIPE: &str = r#"{"now":0,"op":{"Delete":{"path":"/","dir":true,"recursive":true}}}"#;
const ADD_MEMBER: &str = r#"{"Add":{"peer_urls":["http://127.0.0.1:9"],"now_unix":0}}"#;

#[test]
fn strangers_on_the_peer_port_change_and_learn_nothing() {
    if running_real() {
        return;
    }
    let d = Daemon::start();
    assert_eq!(d.put("/v2/keys/keep", &[("value", "v")]).status, 201);
    let id = cluster_id(&d);
    let members_before = member_ids(&d);
    let me = members_before[0].clone();
    let other = "other-cluster".to_string();

    // No cluster id, another cluster's, ours without a sender, ours claiming to be the member
    // itself, ours with an id nobody has.
    let header_sets: Vec<Vec<(&str, &str)>> = vec![
        vec![],
        vec![("X-Etcd-Cluster-Id", other.as_str())],
        vec![("X-Etcd-Cluster-Id", id.as_str())],
        vec![
            ("X-Etcd-Cluster-Id", id.as_str()),
            ("X-Etcd-From", me.as_str()),
        ],
        vec![("X-Etcd-Cluster-Id", id.as_str()), ("X-Etcd-From", "1234")],
    ];
    for headers in &header_sets {
        for (path, body) in [
            ("/raft/propose", PROPOSE_SET),
            ("/raft/propose", PROPOSE_WIPE),
            ("/raft/members", ADD_MEMBER),
            ("/raft/read-index", "null"),
            ("/raft/vote", "{}"),
            ("/raft/append", "{}"),
            ("/raft/snapshot", ""),
            ("/raft/transfer-leader", "{}"),
        ] {
            let r = peer_post(&d.peer_url(), path, headers, body);
            assert!(
                r.status == 412 || r.status == 403,
                "{path} with {headers:?} answered {} {}",
                r.status,
                r.body
            );
        }
        for (path, protocol) in [
            ("/raft/stream", "etcd-raft-append/1"),
            ("/raft/forward", "etcd-raft-forward/1"),
        ] {
            match open_upgrade(&d.peer_url(), path, protocol, headers) {
                Err(status) => assert!(
                    status.contains(" 412 ") || status.contains(" 403 "),
                    "{path} with {headers:?} answered {status}"
                ),
                Ok(_) => panic!("a stranger upgraded {path} with {headers:?}"),
            }
        }
    }
    // The member list goes only to a member that `member add` recorded.
    for headers in [vec![], vec![("X-Etcd-Peer-Urls", "http://127.0.0.1:9")]] {
        let r = peer_post(&d.peer_url(), "/raft/cluster", &headers, "null");
        assert_eq!(r.status, 403, "{}", r.body);
        assert!(!r.body.contains(&me), "member id leaked: {}", r.body);
    }

    assert_eq!(d.get("/v2/keys/keep").status, 200, "the tree was wiped");
    assert_eq!(
        d.get("/v2/keys/stranger").status,
        404,
        "a stranger wrote a key"
    );
    assert_eq!(
        member_ids(&d),
        members_before,
        "a stranger changed membership"
    );
    assert_eq!(d.put("/v2/keys/after", &[("value", "v")]).status, 201);
}

#[test]
fn a_vote_whose_term_would_overflow_is_refused_and_writes_go_on() {
    if running_real() {
        return;
    }
    let mut c = Cluster::start(3);
    let leader = c.wait_leader(SETTLE);
    let follower = (leader + 1) % 3;
    let id = cluster_id(&c.members[leader]);
    let from = c.members[follower].id();
    let vote = format!(
        r#"{{"vote":{{"leader_id":{{"term":{},"node_id":{}}},"committed":false}},"last_log_id":null}}"#,
        u64::MAX,
        u64::from_str_radix(&from, 16).expect("hex id")
    );
    for target in 0..3 {
        let r = peer_post(
            &c.members[target].peer_url(),
            "/raft/vote",
            &[("X-Etcd-Cluster-Id", &id), ("X-Etcd-From", &from)],
            &vote,
        );
        assert_eq!(r.status, 403, "member {target}: {} {}", r.status, r.body);
    }
    // The same on the append stream: a frame with a stale vote is answered (so frames are
    // read and decoded), one with the overflowing term closes the stream unanswered.
    let node = u64::from_str_radix(&from, 16).expect("hex id");
    let append = |term: u64| {
        format!(
            r#"{{"vote":{{"leader_id":{{"term":{term},"node_id":{node}}},"committed":false}},"prev_log_id":null,"leader_commit":null,"entries":[]}}"#
        )
    };
    let headers = [
        ("X-Etcd-Cluster-Id", id.as_str()),
        ("X-Etcd-From", from.as_str()),
    ];
    for target in (0..3).filter(|t| *t != follower) {
        let url = c.members[target].peer_url();
        let mut s = open_stream(&url, &headers).expect("a member opens the stream");
        let answer = stream_frame(&mut s, &append(0)).expect("an answer to a stale vote");
        assert!(answer.contains("HigherVote"), "member {target}: {answer}");
        let mut s = open_stream(&url, &headers).expect("a member opens the stream");
        assert_eq!(
            stream_frame(&mut s, &append(u64::MAX)),
            None,
            "member {target}"
        );
    }
    for i in 0..3 {
        let r = c.members[i].put(&format!("/v2/keys/after-vote-{i}"), &[("value", "v")]);
        assert_eq!(r.status, 201, "{}", r.body);
    }
    // Nothing was persisted that would stop a restarted member.
    c.members[leader].kill();
    c.members[leader].restart();
    wait_for(SETTLE, "a write after the restart", || {
        let r = c.members[leader].put("/v2/keys/after-restart", &[("value", "v")]);
        (r.status == 201 || r.status == 200).then_some(())
    });
}

#[test]
fn a_nine_mib_value_replicates_through_follower_and_leader() {
    // A debug build on a busy two-core machine spends seconds encoding, sending and decoding
    // each 9 MiB entry (a release build about 0.15 s a MiB), and at etcd's default timing its
    // heartbeats sometimes came late enough for an election in between ("leader changed").
    // The timing here is that of a slow network, as etcd's tuning guide sets it.
    let c = Cluster::start_with(
        3,
        &["--heartbeat-interval", "300", "--election-timeout", "3000"],
    );
    let leader = c.wait_leader(SETTLE);
    let follower = (leader + 1) % 3;
    // Printable, but with characters JSON must escape, so the log entry is larger than the value.
    let big: String = (0..9 * 1024 * 1024)
        .map(|i| match i % 64 {
            0 => '"',
            1 => '\\',
            n => (b'a' + (n % 26) as u8) as char,
        })
        .collect();
    for (who, key) in [(follower, "/v2/keys/big-f"), (leader, "/v2/keys/big-l")] {
        let r = c.members[who].put(key, &[("value", big.as_str())]);
        assert_eq!(
            r.status,
            201,
            "PUT {key} on member {who}: {}",
            &r.body[..r.body.len().min(300)]
        );
        for m in 0..3 {
            wait_for(SETTLE, &format!("{key} on member {m}"), || {
                let r = c.members[m].get(key);
                (r.status == 200 && r.json()["node"]["value"].as_str() == Some(big.as_str()))
                    .then_some(())
            });
        }
    }
    // The log is not stuck behind the large entries.
    for i in 0..20 {
        let r = c.members[i % 3].put(&format!("/v2/keys/small-{i}"), &[("value", "v")]);
        assert_eq!(r.status, 201, "{}", r.body);
    }
}

/// A panic inside raft (here in its state-machine worker, by the test-only
/// `ETCD_TEST_PANIC_ON_SET` hook) must not leave a member half alive, serving stale reads and
/// failing every write: it exits with status 1 and says why.
#[test]
fn a_member_whose_raft_core_panics_exits_saying_why() {
    if running_real() {
        return;
    }
    let ends = etcd_tests::Endpoints::new();
    let cluster = format!("default={}", ends.peer_url());
    let d = Daemon::new(
        etcd_tests::etcd_bin(),
        "default".into(),
        ends,
        vec!["--initial-cluster".into(), cluster],
    );
    let log = std::fs::File::create(d.log_path()).expect("log file");
    let child = std::process::Command::new(&d.bin)
        .args(d.command_args())
        .env("ETCD_TEST_PANIC_ON_SET", "/boom")
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn etcd");
    let mut child = KillOnDrop(child);
    let root = format!("{}/v2/keys/", d.client_url());
    wait_for(SETTLE, "the member serving", || {
        let r = etcd_tests::try_request("GET", &root, None).ok()?;
        (r.status == 200).then_some(())
    });
    assert_eq!(d.put("/v2/keys/fine", &[("value", "v")]).status, 201);
    // The write that panics gets no success, however it ends (an error, or the connection
    // closed as the member exits).
    let boom = format!("{root}boom");
    if let Ok(r) = etcd_tests::try_request("PUT", &boom, Some(&[("value", "v")])) {
        assert_ne!(r.status, 201, "{}", r.body);
    }
    let exited =
        etcd_tests::wait::poll_until(SETTLE, || child.0.try_wait().ok().flatten().is_some());
    assert!(
        exited,
        "the member lingered after its raft core died; log:\n{}",
        d.log()
    );
    let status = child.0.wait().expect("exit status");
    assert_eq!(status.code(), Some(1), "log:\n{}", d.log());
    assert!(d.log().contains("raft stopped"), "log:\n{}", d.log());
    // The entry is in the log: replaying it panics again, and the member says so at start and
    // exits instead of waiting forever to serve.
    let restart_log = d.log_path().with_file_name("restart.log");
    let again = std::process::Command::new(&d.bin)
        .args(d.command_args())
        .env("ETCD_TEST_PANIC_ON_SET", "/boom")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&restart_log).expect("log file"))
        .spawn()
        .expect("spawn etcd");
    let mut again = KillOnDrop(again);
    let exited =
        etcd_tests::wait::poll_until(SETTLE, || again.0.try_wait().ok().flatten().is_some());
    assert!(exited, "the restarted member hung on the entry that panics");
    let stderr = std::fs::read_to_string(&restart_log).unwrap_or_default();
    assert_eq!(again.0.wait().expect("status").code(), Some(1), "{stderr}");
    // Replayed at start, before serving: the error names the entry and the panic.
    assert!(
        stderr.contains("applying log entry") && stderr.contains("panicked"),
        "{stderr}"
    );
}

/// The process this test started, killed (by its own handle) if the test ends early.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
