//! TLS on the client and peer URLs with certificates made in the test (`etcd_tests::tls`):
//! https and http client URLs at once, client-certificate auth, a 3-member cluster whose peers
//! talk TLS (replication, forwarding, a member added and caught up by snapshot), a peer with a
//! certificate from another CA refused, discovery over https, auto-TLS, etcdctl over https,
//! and every bad-certificate start-up error (exact message, exit 1, nothing listening).

mod cert_user;
mod etcdctl;
mod startup;

use std::time::Duration;

use etcd_tests::cluster::{self, Cluster, Member, unique_token};
use etcd_tests::ctl::Ctl;
use etcd_tests::tls::{Pki, https_client, https_urls, wait_ready_with};
use etcd_tests::{Daemon, Endpoints, etcd_bin, free_port, wait_until};

fn skip_real() -> bool {
    if etcd_tests::running_real() {
        println!(
            "skipped against real etcd: these tests start our binary with generated certificates"
        );
        return true;
    }
    false
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// A single member serving https (and, when `http_too`, a second client URL over http).
fn https_member(pki: &Pki, extra: &[&str], http_too: Option<u16>) -> Daemon {
    let ends = Endpoints::new();
    let mut args = vec![
        "--initial-cluster".to_string(),
        format!("default={}", ends.peer_url()),
    ];
    args.extend(https_urls(&ends, true, false));
    if let Some(port) = http_too {
        let both = format!(
            "https://127.0.0.1:{},http://127.0.0.1:{port}",
            ends.client_port
        );
        args.extend(strings(&["--listen-client-urls", &both]));
    }
    args.extend(strings(&[
        "--cert-file",
        pki.server.cert(),
        "--key-file",
        pki.server.key(),
    ]));
    args.extend(strings(extra));
    let mut d = Daemon::new(etcd_bin(), "default".into(), ends, args);
    d.spawn();
    d
}

/// A member demanding client certificates signed by the test CA, ready, and a client that
/// presents one (CN "client").
fn cert_auth_member(pki: &Pki) -> (Daemon, reqwest::blocking::Client) {
    let mut d = https_member(
        pki,
        &["--client-cert-auth", "--trusted-ca-file", pki.ca()],
        None,
    );
    let signed = https_client(&pki.ca, Some(&pki.client));
    wait_ready_with(&mut d, &signed, "/v2/keys/");
    (d, signed)
}

fn https_url(d: &Daemon, path: &str) -> String {
    format!("https://127.0.0.1:{}{path}", d.ends.client_port)
}

#[test]
fn one_member_serves_https_and_http_client_urls_at_once() {
    if skip_real() {
        return;
    }
    let pki = Pki::new();
    let http_port = free_port();
    let mut d = https_member(&pki, &[], Some(http_port));
    let client = https_client(&pki.ca, None);
    wait_ready_with(&mut d, &client, "/v2/keys/");
    let put = client
        .put(https_url(&d, "/v2/keys/tls"))
        .form(&[("value", "secret")])
        .send()
        .unwrap();
    assert_eq!(put.status(), 201);
    let plain = etcd_tests::request(
        "GET",
        &format!("http://127.0.0.1:{http_port}/v2/keys/tls"),
        None,
    );
    assert_eq!(plain.json()["node"]["value"], "secret");
    // Plain HTTP on the https port gets no answer, and the handshake failure is logged.
    assert!(etcd_tests::try_request("GET", &d.url("/v2/keys/tls"), None).is_err());
    wait_until(
        Duration::from_secs(10),
        "the handshake error is logged",
        || {
            d.log()
                .contains("client: TLS handshake error from 127.0.0.1:")
        },
    );
}

#[test]
fn client_cert_auth_refuses_a_stranger_at_the_handshake_and_accepts_a_signed_client() {
    if skip_real() {
        return;
    }
    let pki = Pki::new();
    let (d, signed) = cert_auth_member(&pki);
    for (who, client) in [
        ("no certificate", https_client(&pki.ca, None)),
        ("a stranger", https_client(&pki.ca, Some(&pki.stranger))),
    ] {
        let r = client.get(https_url(&d, "/v2/keys/")).send();
        assert!(r.is_err(), "{who} was served: {r:?}");
    }
    wait_until(Duration::from_secs(10), "both refusals are logged", || {
        let log = d.log();
        log.contains("peer sent no certificates") && log.contains("UnknownIssuer")
    });
    let r = signed
        .put(https_url(&d, "/v2/keys/k"))
        .form(&[("value", "v")])
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
}

/// `--peer-*` TLS flags for a member presenting `pair`, trusting `ca`, demanding client certs.
fn peer_tls(pair: &etcd_tests::tls::Pair, ca: &str) -> Vec<String> {
    strings(&[
        "--peer-cert-file",
        pair.cert(),
        "--peer-key-file",
        pair.key(),
        "--peer-client-cert-auth",
        "--peer-trusted-ca-file",
        ca,
    ])
}

fn member_args(initial: &str, state: &str, token: &str) -> Vec<String> {
    cluster::member_args(initial, state, token, &strings(&["--snapshot-count", "20"]))
}

/// PUT until 201: on a loaded machine a write can time out, as on etcd (bounded in time).
fn put_until_created(d: &Daemon, key: &str, value: &str) {
    wait_until(Duration::from_secs(30), "the write is accepted", || {
        d.put(key, &[("value", value)]).status == 201
    });
}

fn https_peer(ends: &Endpoints) -> String {
    format!("https://127.0.0.1:{}", ends.peer_port)
}

/// A member with https peer URLs (client URLs stay http, so the harness reads it as usual).
fn peer_tls_member(
    name: &str,
    ends: Endpoints,
    args: Vec<String>,
    pki_args: Vec<String>,
) -> Daemon {
    let mut all = args;
    all.extend(https_urls(&ends, false, true));
    all.extend(pki_args);
    Daemon::new(etcd_bin(), name.to_string(), ends, all)
}

#[test]
// Over 80 lines on purpose: one scenario whose steps build on the cluster the previous ones made.
fn three_members_with_peer_tls_replicate_forward_and_catch_a_new_member_up_by_snapshot() {
    if skip_real() {
        return;
    }
    let pki = Pki::new();
    let token = unique_token();
    let ends: Vec<Endpoints> = (0..3).map(|_| Endpoints::new()).collect();
    let initial = ends
        .iter()
        .enumerate()
        .map(|(i, e)| format!("n{}={}", i + 1, https_peer(e)))
        .collect::<Vec<_>>()
        .join(",");
    let members = ends
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let args = member_args(&initial, "new", &token);
            Member(peer_tls_member(
                &format!("n{}", i + 1),
                e,
                args,
                peer_tls(&pki.server, pki.ca()),
            ))
        })
        .collect();
    let mut c = Cluster {
        members,
        token: token.clone(),
        extra: Vec::new(),
    };
    c.launch();
    // A write through a follower is forwarded to the leader over the TLS peer port.
    let f = c.follower();
    put_until_created(&c.members[f], "/v2/keys/via-follower", "1");
    for m in &c.members {
        wait_until(Duration::from_secs(20), "the write replicates", || {
            m.get("/v2/keys/via-follower").status == 200
        });
    }
    // Enough writes for a snapshot, so the new member is caught up by InstallSnapshot.
    let l = c.leader();
    for i in 0..60 {
        put_until_created(&c.members[l], &format!("/v2/keys/k{i}"), "x");
    }
    let new_ends = Endpoints::new();
    let added = c.post_member(0, &https_peer(&new_ends));
    assert_eq!(added.status, 201, "{}", added.body);
    let initial4 = format!("{initial},n4={}", https_peer(&new_ends));
    let args = member_args(&initial4, "existing", &token);
    let mut n4 = peer_tls_member("n4", new_ends, args, peer_tls(&pki.server, pki.ca()));
    n4.spawn();
    n4.wait_ready();
    wait_until(Duration::from_secs(30), "n4 catches up", || {
        n4.get("/v2/keys/k59").status == 200 && n4.get("/v2/keys/via-follower").status == 200
    });
}

#[test]
fn a_peer_with_a_certificate_from_another_ca_is_refused_and_logged() {
    if skip_real() {
        return;
    }
    let pki = Pki::new();
    let token = unique_token();
    let (e1, e2) = (Endpoints::new(), Endpoints::new());
    let alone = format!("n1={}", https_peer(&e1));
    let initial = format!("{alone},n2={}", https_peer(&e2));
    let mut n1 = peer_tls_member(
        "n1",
        e1,
        member_args(&alone, "new", &token),
        peer_tls(&pki.server, pki.ca()),
    );
    n1.spawn();
    n1.wait_ready();
    // The stranger trusts our CA (so it could verify n1) but presents its own CA's certificate.
    let mut n2 = peer_tls_member(
        "n2",
        e2,
        member_args(&initial, "existing", &token),
        peer_tls(&pki.stranger, pki.ca()),
    );
    n2.spawn();
    wait_until(Duration::from_secs(20), "n1 logs the refused peer", || {
        n1.log()
            .contains("peer: TLS handshake error from 127.0.0.1:")
            && n1.log().contains("UnknownIssuer")
    });
    // Nothing changed: n1 still serves writes alone and lists only itself.
    put_until_created(&n1, "/v2/keys/still", "ok");
    let members = n1.get("/v2/members").json();
    assert_eq!(members["members"].as_array().map(Vec::len), Some(1));
    assert!(etcd_tests::try_request("GET", &n2.url("/v2/keys/"), None).is_err());
}

#[test]
fn discovery_and_auto_tls_work_over_https() {
    if skip_real() {
        return;
    }
    let pki = Pki::new();
    let mut registry = https_member(&pki, &[], None);
    let ca_client = https_client(&pki.ca, None);
    wait_ready_with(&mut registry, &ca_client, "/v2/keys/");
    let size = ca_client
        .put(https_url(
            &registry,
            "/v2/keys/_etcd/registry/tls-disc/_config/size",
        ))
        .form(&[("value", "1")])
        .send()
        .unwrap();
    assert_eq!(size.status(), 201);
    // The member verifies the discovery service with the peer CA; its own URLs use auto-TLS.
    let ends = Endpoints::new();
    let mut args = strings(&[
        "--discovery",
        &https_url(&registry, "/v2/keys/_etcd/registry/tls-disc"),
        "--peer-trusted-ca-file",
        pki.ca(),
        "--auto-tls",
    ]);
    args.extend(https_urls(&ends, true, false));
    let mut m = Daemon::new(etcd_bin(), "auto".into(), ends, args);
    m.spawn();
    let insecure = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .tls_danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    wait_ready_with(&mut m, &insecure, "/v2/keys/");
    assert!(m.data_dir().join("fixtures/client/cert.pem").is_file());
    assert!(m.data_dir().join("fixtures/client/key.pem").is_file());
    let reg = ca_client
        .get(https_url(&registry, "/v2/keys/_etcd/registry/tls-disc"))
        .send()
        .unwrap();
    let reg: serde_json::Value = reg.json().unwrap();
    assert_eq!(reg["node"]["nodes"].as_array().map(Vec::len), Some(1));
}
