//! TLS on the client and peer URLs (rustls): etcd's flags, every file loaded and checked before
//! anything listens, the server configs for `https://` listeners, and the client config the
//! peer client and discovery dial with. Owns no socket: `serve.rs` wraps accepted streams.
//!
//! etcd: pkg/transport/listener.go (`TLSInfo`, `SelfCert`) and embed/config.go.

mod auto;
mod files;
mod verify;

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

use crate::boot::flags::Config;

/// One side's flags (`--cert-file` … or `--peer-cert-file` …).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SideFlags {
    pub cert_file: String,
    pub key_file: String,
    pub client_cert_auth: bool,
    pub trusted_ca_file: String,
    pub auto_tls: bool,
}

/// Every TLS flag, as parsed; nothing is read from disk until [`Tls::load`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFlags {
    pub client: SideFlags,
    pub peer: SideFlags,
    /// Go cipher-suite names (`TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`); empty: rustls' defaults.
    pub cipher_suites: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// An `https://` listen URL with no certificate to serve it (etcd's own words).
    #[error(
        "TLS key/cert ({cert_flag}, {key_flag}) must be provided for {side} url {url} with HTTPS scheme"
    )]
    MissingKeyPair {
        cert_flag: &'static str,
        key_flag: &'static str,
        side: &'static str,
        url: String,
    },
    /// One half of a certificate/key pair.
    #[error("{given} {path} is given without {missing}")]
    HalfPair {
        given: &'static str,
        path: String,
        missing: &'static str,
    },
    /// A file that cannot be read (Go's `open` wording).
    #[error("{flag}: open {path}: {reason}")]
    Open {
        flag: &'static str,
        path: String,
        reason: String,
    },
    /// A file that is not what its flag needs.
    #[error("{flag} {path}: {reason}")]
    Parse {
        flag: &'static str,
        path: String,
        reason: String,
    },
    /// A key that does not belong to its certificate.
    #[error("{key_flag} {key_file} does not match {cert_flag} {cert_file}: {reason}")]
    Mismatch {
        key_flag: &'static str,
        key_file: String,
        cert_flag: &'static str,
        cert_file: String,
        reason: String,
    },
    /// An expired or not yet valid certificate.
    #[error("{flag} {path}: x509: certificate of {subject} {what} {at}")]
    Validity {
        flag: &'static str,
        path: String,
        what: &'static str,
        at: String,
        subject: String,
    },
    /// Client-certificate auth with nothing to check certificates against.
    #[error("{auth_flag} requires {ca_flag}")]
    AuthWithoutCa {
        auth_flag: &'static str,
        ca_flag: &'static str,
    },
    /// A `--cipher-suites` name rustls does not implement (etcd's wording).
    #[error(
        "--cipher-suites: unexpected TLS cipher suite {name:?} (this build supports {supported})"
    )]
    CipherSuite { name: String, supported: String },
    /// The self-signed certificate of `--auto-tls` could not be made.
    #[error("auto-tls: cannot create a self-signed certificate in {dir}: {reason}")]
    AutoTls { dir: String, reason: String },
    /// rustls refused the configuration.
    #[error("tls: {0}")]
    Config(String),
}

/// The flag names of one side, for messages.
struct Side {
    cert: &'static str,
    key: &'static str,
    ca: &'static str,
    auth: &'static str,
    /// `client` / `peer`: the message word and the `fixtures/` directory.
    name: &'static str,
}

const CLIENT: Side = Side {
    cert: "--cert-file",
    key: "--key-file",
    ca: "--trusted-ca-file",
    auth: "--client-cert-auth",
    name: "client",
};
const PEER: Side = Side {
    cert: "--peer-cert-file",
    key: "--peer-key-file",
    ca: "--peer-trusted-ca-file",
    auth: "--peer-client-cert-auth",
    name: "peer",
};

/// A certificate and key ready to serve or present.
struct KeyPair {
    certs: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
    /// Made by auto-TLS: peers cannot verify it, so our peer client does not verify theirs.
    self_signed: bool,
}

/// What the member serves and dials with, loaded once at start.
#[derive(Clone, Default)]
pub struct Tls {
    /// For the `https://` client listeners.
    pub client: Option<Arc<ServerConfig>>,
    /// For the `https://` peer listeners.
    pub peer: Option<Arc<ServerConfig>>,
    /// For raft, forwarding, joining and discovery requests.
    pub peer_client: PeerClientTls,
}

impl Tls {
    /// Load and check every file the flags name (generating auto-TLS certificates first).
    pub fn load(config: &Config) -> Result<Tls, TlsError> {
        let provider = Arc::new(provider(&config.tls.cipher_suites)?);
        let fixtures = config.data_dir.join("fixtures");
        let (client, _) = server_side(
            &CLIENT,
            &config.tls.client,
            &config.listen_client_urls,
            &fixtures,
            &provider,
        )?;
        let (peer, peer_pair) = server_side(
            &PEER,
            &config.tls.peer,
            &config.listen_peer_urls,
            &fixtures,
            &provider,
        )?;
        let peer_client = peer_client(&config.tls.peer, peer_pair, &provider)?;
        Ok(Tls {
            client,
            peer,
            peer_client,
        })
    }
}

/// The rustls client settings for peer traffic; `None`: reqwest's defaults (system roots).
#[derive(Clone, Default)]
pub struct PeerClientTls(Option<Arc<ClientConfig>>);

impl std::fmt::Debug for PeerClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "PeerClientTls(configured)"
        } else {
            "PeerClientTls(default)"
        })
    }
}

impl PeerClientTls {
    /// `builder` set to present our peer certificate and trust the peer CA.
    pub fn apply(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        match &self.0 {
            Some(c) => builder.tls_backend_preconfigured(ClientConfig::clone(c)),
            None => builder,
        }
    }
}

fn server_side(
    side: &Side,
    flags: &SideFlags,
    listen_urls: &[String],
    fixtures: &Path,
    provider: &Arc<CryptoProvider>,
) -> Result<(Option<Arc<ServerConfig>>, Option<KeyPair>), TlsError> {
    let pair = key_pair(side, flags, listen_urls, fixtures, provider)?;
    if pair.is_none()
        && let Some(url) = listen_urls.iter().find(|u| u.starts_with("https://"))
    {
        return Err(TlsError::MissingKeyPair {
            cert_flag: side.cert,
            key_flag: side.key,
            side: side.name,
            url: url.clone(),
        });
    }
    let roots = match flags.trusted_ca_file.as_str() {
        "" if flags.client_cert_auth => {
            return Err(TlsError::AuthWithoutCa {
                auth_flag: side.auth,
                ca_flag: side.ca,
            });
        }
        "" => None,
        ca => Some(files::roots(side.ca, ca)?),
    };
    let Some(pair) = pair else {
        return Ok((None, None));
    };
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    // As Go's `tls.RequireAndVerifyClientCert`: without --client-cert-auth a CA alone asks for
    // no certificate.
    let builder = match roots.filter(|_| flags.client_cert_auth) {
        Some(roots) => {
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| TlsError::Config(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let config = builder
        .with_single_cert(pair.certs.clone(), pair.key.clone_key())
        .map_err(|e| TlsError::Config(e.to_string()))?;
    Ok((Some(Arc::new(config)), Some(pair)))
}

/// The side's certificate and key: from the flags, else auto-TLS, else none.
fn key_pair(
    side: &Side,
    flags: &SideFlags,
    listen_urls: &[String],
    fixtures: &Path,
    provider: &CryptoProvider,
) -> Result<Option<KeyPair>, TlsError> {
    let (cert_file, key_file, self_signed) =
        match (flags.cert_file.as_str(), flags.key_file.as_str()) {
            ("", "") if flags.auto_tls => {
                let hosts: Vec<String> = listen_urls.iter().filter_map(|u| url_host(u)).collect();
                let (c, k) = auto::self_cert(&fixtures.join(side.name), &hosts)?;
                (c, k, true)
            }
            ("", "") => return Ok(None),
            (c, "") => return Err(half(side.cert, c, side.key)),
            ("", k) => return Err(half(side.key, k, side.cert)),
            (c, k) => {
                if flags.auto_tls {
                    tracing::warn!("ignoring {} auto TLS since certs given", side.name);
                }
                (c.to_string(), k.to_string(), false)
            }
        };
    let (certs, key) = files::key_pair(provider, side.cert, &cert_file, side.key, &key_file)?;
    Ok(Some(KeyPair {
        certs,
        key,
        self_signed,
    }))
}

fn half(given: &'static str, path: &str, missing: &'static str) -> TlsError {
    TlsError::HalfPair {
        given,
        path: path.to_string(),
        missing,
    }
}

/// `https://127.0.0.1:2380` → `127.0.0.1`: the names an auto-TLS certificate covers.
fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    Some(
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
    )
}

/// How the peer client dials: our peer certificate as its client certificate and the peer CA
/// (or the system's roots) to verify the other member; auto-TLS peers are not verified, as in
/// etcd, since no CA vouches for them.
fn peer_client(
    flags: &SideFlags,
    pair: Option<KeyPair>,
    provider: &Arc<CryptoProvider>,
) -> Result<PeerClientTls, TlsError> {
    if pair.is_none() && flags.trusted_ca_file.is_empty() {
        return Ok(PeerClientTls(None));
    }
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let builder = if pair.as_ref().is_some_and(|p| p.self_signed) {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verify::NoVerify(provider.clone())))
    } else {
        let roots = match flags.trusted_ca_file.as_str() {
            "" => system_roots(),
            ca => files::roots(PEER.ca, ca)?,
        };
        builder.with_root_certificates(roots)
    };
    let config = match pair {
        Some(p) => builder
            .with_client_auth_cert(p.certs, p.key)
            .map_err(|e| TlsError::Config(e.to_string()))?,
        None => builder.with_no_client_auth(),
    };
    Ok(PeerClientTls(Some(Arc::new(config))))
}

/// The operating system's CA certificates; unreadable ones are skipped, as Go skips them.
fn system_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(found.certs);
    roots
}

/// rustls' provider limited to the Go-named TLS 1.2 suites in `names`; TLS 1.3's suites stay
/// on, as Go's `--cipher-suites` cannot change them either.
fn provider(names: &[String]) -> Result<CryptoProvider, TlsError> {
    let mut p = rustls::crypto::aws_lc_rs::default_provider();
    if names.is_empty() {
        return Ok(p);
    }
    let tls12: Vec<_> = p
        .cipher_suites
        .iter()
        .copied()
        .filter(|s| s.tls13().is_none())
        .collect();
    let mut keep: Vec<_> = p
        .cipher_suites
        .iter()
        .copied()
        .filter(|s| s.tls13().is_some())
        .collect();
    for name in names {
        if go_tls13_name(name) {
            continue;
        }
        match tls12
            .iter()
            .find(|s| go_names_match(&format!("{:?}", s.suite()), name))
        {
            Some(s) => keep.push(*s),
            None => {
                let supported = tls12
                    .iter()
                    .map(|s| format!("{:?}", s.suite()))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(TlsError::CipherSuite {
                    name: name.clone(),
                    supported,
                });
            }
        }
    }
    p.cipher_suites = keep;
    Ok(p)
}

/// rustls calls it `…_CHACHA20_POLY1305_SHA256`; Go accepts that and the name without `_SHA256`.
fn go_names_match(rustls_name: &str, go_name: &str) -> bool {
    rustls_name == go_name
        || (rustls_name.contains("CHACHA20")
            && rustls_name.strip_suffix("_SHA256") == Some(go_name))
}

/// Go lists its TLS 1.3 suites under these names; they are always on.
fn go_tls13_name(name: &str) -> bool {
    matches!(
        name,
        "TLS_AES_128_GCM_SHA256" | "TLS_AES_256_GCM_SHA384" | "TLS_CHACHA20_POLY1305_SHA256"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_cipher_suite_names_map_onto_rustls() {
        let p = provider(&[
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256".into(),
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305".into(),
            "TLS_AES_128_GCM_SHA256".into(),
        ])
        .unwrap();
        let names: Vec<String> = p
            .cipher_suites
            .iter()
            .map(|s| format!("{:?}", s.suite()))
            .collect();
        assert!(names.contains(&"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256".to_string()));
        assert!(names.contains(&"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256".to_string()));
        assert!(!names.contains(&"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384".to_string()));
        let e = provider(&["TLS_RSA_WITH_RC4_128_SHA".into()]).unwrap_err();
        assert!(e.to_string().starts_with(
            "--cipher-suites: unexpected TLS cipher suite \"TLS_RSA_WITH_RC4_128_SHA\""
        ));
    }

    #[test]
    fn auto_tls_hosts_come_from_the_listen_urls() {
        assert_eq!(
            url_host("https://127.0.0.1:2380").as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(url_host("https://[::1]:2380/").as_deref(), Some("::1"));
    }
}
