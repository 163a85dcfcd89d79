//! Start-up errors for every bad certificate: the exact message naming the flag and the file,
//! exit status 1, and no data dir written.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Pki, skip_real, strings};
use etcd_tests::{Endpoints, etcd_bin, wait_for};

/// Run our etcd with `args` until it exits (killed after 20 s): (exit code, stderr).
fn start_fails(args: &[String]) -> (i32, String) {
    let mut child = Command::new(etcd_bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn etcd");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = wait_for(Duration::from_secs(25), "etcd exits", || {
        if Instant::now() > deadline {
            let _ = child.kill();
        }
        child.try_wait().ok().flatten()
    });
    let mut err = String::new();
    if let Some(mut s) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut s, &mut err);
    }
    (status.code().unwrap_or(-1), err)
}

#[test]
fn bad_certificates_stop_the_start_naming_the_file_before_anything_listens() {
    if skip_real() {
        return;
    }
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    let garbage = garbage.to_str().unwrap();
    let (srv, ca) = (&pki.server, pki.ca());
    let exp = &pki.expired;
    let cases: Vec<(Vec<&str>, String)> = vec![
        (vec![], "TLS key/cert (--cert-file, --key-file) must be provided for client url {client} with HTTPS scheme".into()),
        (vec!["--cert-file", "/nonexistent.crt", "--key-file", srv.key()], "--cert-file: open /nonexistent.crt: no such file or directory".into()),
        (vec!["--cert-file", srv.cert(), "--key-file", "/tmp"], "--key-file: open /tmp: is a directory".into()),
        (vec!["--cert-file", garbage, "--key-file", srv.key()], format!("--cert-file {garbage}: tls: failed to find any PEM data in certificate input")),
        (vec!["--cert-file", srv.cert(), "--key-file", pki.mismatched.key()], format!("--key-file {} does not match --cert-file {}: tls: private key does not match public key", pki.mismatched.key(), srv.cert())),
        (vec!["--cert-file", exp.cert(), "--key-file", exp.key()], format!("--cert-file {}: x509: certificate of CN=expired expired at Feb  1 00:00:00 2020 +00:00", exp.cert())),
        (vec!["--cert-file", srv.cert(), "--key-file", srv.key(), "--client-cert-auth", "--trusted-ca-file", "/nonexistent-ca.crt"], "--trusted-ca-file: open /nonexistent-ca.crt: no such file or directory".into()),
        (vec!["--cert-file", srv.cert(), "--key-file", srv.key(), "--client-cert-auth"], "--client-cert-auth requires --trusted-ca-file".into()),
        (vec!["--cert-file", srv.cert(), "--key-file", srv.key(), "--peer-trusted-ca-file", ca, "--listen-peer-urls", "https://127.0.0.1:{peer}", "--initial-advertise-peer-urls", "https://127.0.0.1:{peer}", "--initial-cluster", "default=https://127.0.0.1:{peer}"], "TLS key/cert (--peer-cert-file, --peer-key-file) must be provided for peer url https://127.0.0.1:{peer} with HTTPS scheme".into()),
    ];
    for (flags, want) in cases {
        let ends = Endpoints::new();
        let data = dir.path().join(format!("data-{}", ends.client_port));
        let client = format!("https://127.0.0.1:{}", ends.client_port);
        let fill = |s: &str| {
            s.replace("{client}", &client)
                .replace("{peer}", &ends.peer_port.to_string())
        };
        let mut args = strings(&[
            "--data-dir",
            data.to_str().unwrap(),
            "--listen-client-urls",
            &client,
            "--advertise-client-urls",
            &client,
        ]);
        args.extend(strings(&[
            "--listen-peer-urls",
            &ends.peer_url(),
            "--initial-advertise-peer-urls",
            &ends.peer_url(),
        ]));
        args.push("--initial-cluster".into());
        args.push(format!("default={}", ends.peer_url()));
        args.extend(flags.iter().map(|f| fill(f)));
        let (code, err) = start_fails(&args);
        assert_eq!(
            (code, err),
            (1, format!("etcd: {}\n", fill(&want))),
            "{flags:?}"
        );
        assert!(!data.exists(), "{flags:?} wrote {}", data.display());
    }
}
