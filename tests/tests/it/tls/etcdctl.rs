//! etcdctl over https: `--ca-file`, client certificates (flags and `ETCDCTL_*` variables),
//! `--insecure-skip-tls-verify`, and the refusals as real etcdctl words them.

use super::{Ctl, Pki, cert_auth_member, https_url, skip_real};

#[test]
fn etcdctl_over_https_with_ca_client_certs_and_clear_refusals() {
    if skip_real() {
        return;
    }
    let pki = Pki::new();
    let (d, _) = cert_auth_member(&pki);
    let ctl = Ctl::ours(&https_url(&d, ""));
    let (cert, key) = (pki.client.cert(), pki.client.key());
    let set = ctl.run(&[
        "--ca-file",
        pki.ca(),
        "--cert-file",
        cert,
        "--key-file",
        key,
        "set",
        "/a",
        "1",
    ]);
    assert_eq!(
        (set.stdout.as_str(), set.code),
        ("1\n", 0),
        "{}",
        set.stderr
    );
    // The same through ETCDCTL_* variables.
    let mut cmd = ctl.command(&["--endpoints", &https_url(&d, ""), "get", "/a"]);
    cmd.env("ETCDCTL_CA_FILE", pki.ca())
        .env("ETCDCTL_CERT_FILE", cert)
        .env("ETCDCTL_KEY_FILE", key);
    let got = etcd_tests::ctl::run_command(cmd, b"");
    assert_eq!(
        (got.stdout.as_str(), got.code),
        ("1\n", 0),
        "{}",
        got.stderr
    );
    let skip = ctl.run(&[
        "--insecure-skip-tls-verify",
        "--cert-file",
        cert,
        "--key-file",
        key,
        "get",
        "/a",
    ]);
    assert_eq!(
        (skip.stdout.as_str(), skip.code),
        ("1\n", 0),
        "{}",
        skip.stderr
    );
    refusals_read_as_go_words_them(&ctl, &pki, &https_url(&d, ""));
}

/// A refused or unverifiable certificate (exit 4) and unreadable files (exit 1), in Go's words.
fn refusals_read_as_go_words_them(ctl: &Ctl, pki: &Pki, url: &str) {
    let (cert, key) = (pki.client.cert(), pki.client.key());
    // Refusals, worded as Go's client words them, exit 4 as real etcdctl does.
    let (sc, sk) = (pki.stranger.cert(), pki.stranger.key());
    let cases: [(&[&str], &str); 3] = [
        (
            &["--ca-file", pki.ca()],
            "remote error: tls: certificate required",
        ),
        (
            &["--ca-file", pki.ca(), "--cert-file", sc, "--key-file", sk],
            "remote error: tls: unknown certificate authority",
        ),
        (
            &["--cert-file", cert, "--key-file", key],
            "x509: certificate signed by unknown authority",
        ),
    ];
    for (flags, why) in cases {
        let mut args = flags.to_vec();
        args.extend(["get", "/a"]);
        let out = ctl.run(&args);
        assert_eq!(out.code, 4, "{args:?}: {}", out.stderr);
        assert_eq!(
            out.stderr,
            format!(
                "Error:  client: etcd cluster is unavailable or misconfigured; error #0: {why}\n\nerror #0: {why}\n\n"
            ),
            "{args:?}"
        );
    }
    // Unreadable files: Go's text, exit 1, before any request.
    let mismatched = ctl.run(&[
        "--ca-file",
        pki.ca(),
        "--cert-file",
        cert,
        "--key-file",
        pki.mismatched.key(),
        "get",
        "/a",
    ]);
    assert_eq!(
        (mismatched.stderr.as_str(), mismatched.code),
        ("tls: private key does not match public key\n", 1)
    );
    let missing = ctl.run(&["--ca-file", "/nonexistent", "get", "/a"]);
    assert_eq!(
        (missing.stderr.as_str(), missing.code),
        ("open /nonexistent: no such file or directory\n", 1)
    );
    if let Some(real) = Ctl::real(url) {
        let theirs = real.run(&["--ca-file", "/nonexistent", "get", "/a"]);
        assert_eq!((theirs.stderr, theirs.code), (missing.stderr, missing.code));
    }
}
