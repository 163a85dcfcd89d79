//! Certificates for the TLS tests, made with rcgen in a temp dir: a CA with server, peer and
//! client certificates signed by it (all for 127.0.0.1 and localhost), a stranger CA with its
//! own certificate, an expired certificate and a key that matches nothing. Plus [`TlsMember`]
//! wiring: the `https://` flags for a member, an https client trusting the CA, and readiness
//! over https.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair,
};

/// A certificate and its key, as files.
#[derive(Debug, Clone)]
pub struct Pair {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Pair {
    pub fn cert(&self) -> &str {
        self.cert.to_str().expect("utf-8 path")
    }
    pub fn key(&self) -> &str {
        self.key.to_str().expect("utf-8 path")
    }
}

/// Every file a TLS test needs.
pub struct Pki {
    _dir: tempfile::TempDir,
    pub ca: PathBuf,
    /// Server and client use (members present it on both sides of the peer port).
    pub server: Pair,
    /// A client certificate signed by the CA, CN `client`.
    pub client: Pair,
    pub stranger_ca: PathBuf,
    /// Signed by the stranger CA, for 127.0.0.1 too.
    pub stranger: Pair,
    /// Signed by the CA, valid 2020-01-01 to 2020-02-01.
    pub expired: Pair,
    /// `server`'s certificate with another key.
    pub mismatched: Pair,
}

impl Pki {
    pub fn new() -> Pki {
        let dir = tempfile::Builder::new()
            .prefix("etcd-tls-")
            .tempdir()
            .expect("tempdir");
        let d = dir.path();
        let ca = issuer("test-ca");
        let stranger_ca = issuer("stranger-ca");
        let write = |name: &str, text: &str| -> PathBuf {
            let p = d.join(name);
            std::fs::write(&p, text).expect("write pem");
            p
        };
        let ca_path = write("ca.crt", &ca.pem());
        let stranger_ca_path = write("stranger-ca.crt", &stranger_ca.pem());
        let leaf_pair = |name: &str, cn: &str, signer: &CertifiedIssuer<'_, KeyPair>, expired| {
            let key = KeyPair::generate().expect("key");
            let cert = leaf(cn, expired).signed_by(&key, signer).expect("sign");
            Pair {
                cert: write(&format!("{name}.crt"), &cert.pem()),
                key: write(&format!("{name}.key"), &key.serialize_pem()),
            }
        };
        let server = leaf_pair("server", "server", &ca, false);
        let client = leaf_pair("client", "client", &ca, false);
        let stranger = leaf_pair("stranger", "stranger", &stranger_ca, false);
        let expired = leaf_pair("expired", "expired", &ca, true);
        let other = KeyPair::generate().expect("key");
        let mismatched = Pair {
            cert: server.cert.clone(),
            key: write("other.key", &other.serialize_pem()),
        };
        Pki {
            _dir: dir,
            ca: ca_path,
            server,
            client,
            stranger_ca: stranger_ca_path,
            stranger,
            expired,
            mismatched,
        }
    }

    pub fn ca(&self) -> &str {
        self.ca.to_str().expect("utf-8 path")
    }

    pub fn stranger_ca(&self) -> &str {
        self.stranger_ca.to_str().expect("utf-8 path")
    }
}

impl Default for Pki {
    fn default() -> Self {
        Self::new()
    }
}

fn issuer(cn: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, cn);
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("ca")
}

fn leaf(cn: &str, expired: bool) -> CertificateParams {
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .expect("params");
    params.distinguished_name.push(DnType::CommonName, cn);
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    if expired {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2020, 2, 1);
    }
    params
}

/// A blocking https client trusting `ca` (and presenting `identity` when given).
pub fn https_client(ca: &Path, identity: Option<&Pair>) -> reqwest::blocking::Client {
    let pem = std::fs::read(ca).expect("read ca");
    let mut b = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .tls_certs_only([reqwest::Certificate::from_pem(&pem).expect("ca pem")]);
    if let Some(p) = identity {
        let mut both = std::fs::read(&p.cert).expect("read cert");
        both.extend(std::fs::read(&p.key).expect("read key"));
        b = b.identity(reqwest::Identity::from_pem(&both).expect("identity"));
    }
    b.build().expect("https client")
}

/// Flags that turn a [`crate::Daemon`]'s URLs into `https://` ones (etcd takes the last
/// occurrence of a flag, so these override the `http://` ones the harness gives).
pub fn https_urls(ends: &crate::Endpoints, client: bool, peer: bool) -> Vec<String> {
    let scheme = |tls: bool| if tls { "https" } else { "http" };
    let c = format!("{}://127.0.0.1:{}", scheme(client), ends.client_port);
    let p = format!("{}://127.0.0.1:{}", scheme(peer), ends.peer_port);
    [
        "--listen-client-urls",
        &c,
        "--advertise-client-urls",
        &c,
        "--listen-peer-urls",
        &p,
        "--initial-advertise-peer-urls",
        &p,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Wait until `GET https://<d's client address><path>` answers 200 through `client` (or the
/// daemon exits, which panics).
pub fn wait_ready_with(d: &mut crate::Daemon, client: &reqwest::blocking::Client, path: &str) {
    let url = format!("https://127.0.0.1:{}{path}", d.ends.client_port);
    let ok = crate::wait::poll_until(crate::READY_LIMIT, || {
        if let Some(status) = d.exit_status() {
            panic!("{} exited with {status}; log:\n{}", d.name, d.log());
        }
        client
            .get(&url)
            .timeout(Duration::from_secs(2))
            .send()
            .is_ok_and(|r| r.status() == 200)
    });
    assert!(ok, "{} not ready over https; log:\n{}", d.name, d.log());
}
