//! Reading certificate, key and CA files, each failure naming the flag and the file: what etcd
//! reports only once it has started serving, we report before anything listens.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{RootCertStore, crypto::CryptoProvider, sign::CertifiedKey};

use super::TlsError;

/// Read a whole file, worded as Go's `os.Open` error (`open x: no such file or directory`).
fn read(flag: &'static str, path: &str) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError::Open {
        flag,
        path: path.to_string(),
        reason: etcd_common::go::os::reason(&e),
    })
}

/// Every PEM certificate in `path` (the leaf first), each checked to be valid now.
pub fn certificates(
    flag: &'static str,
    path: &str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read(flag, path)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Parse {
            flag,
            path: path.to_string(),
            reason: format!("bad PEM: {e}"),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Parse {
            flag,
            path: path.to_string(),
            reason: "tls: failed to find any PEM data in certificate input".into(),
        });
    }
    for c in &certs {
        check_validity(flag, path, c)?;
    }
    Ok(certs)
}

/// The one private key in `path` (PKCS#8, PKCS#1 or SEC1).
pub fn private_key(flag: &'static str, path: &str) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read(flag, path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|_| TlsError::Parse {
        flag,
        path: path.to_string(),
        reason: "tls: failed to find any PEM data in key input".into(),
    })
}

/// Certificate and key, proven to belong together.
pub fn key_pair(
    provider: &CryptoProvider,
    cert_flag: &'static str,
    cert_file: &str,
    key_flag: &'static str,
    key_file: &str,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let certs = certificates(cert_flag, cert_file)?;
    let key = private_key(key_flag, key_file)?;
    if let Err(e) = CertifiedKey::from_der(certs.clone(), key.clone_key(), provider) {
        let reason = match e {
            rustls::Error::InconsistentKeys(_) => {
                "tls: private key does not match public key".to_string()
            }
            other => other.to_string(),
        };
        return Err(TlsError::Mismatch {
            key_flag,
            key_file: key_file.to_string(),
            cert_flag,
            cert_file: cert_file.to_string(),
            reason,
        });
    }
    Ok((certs, key))
}

/// The CA bundle in `path` as a root store.
pub fn roots(flag: &'static str, path: &str) -> Result<RootCertStore, TlsError> {
    let mut store = RootCertStore::empty();
    for c in certificates(flag, path)? {
        store.add(c).map_err(|e| TlsError::Parse {
            flag,
            path: path.to_string(),
            reason: format!("not a CA certificate: {e}"),
        })?;
    }
    Ok(store)
}

/// An expired (or not yet valid) certificate is refused at start, not at the first handshake.
fn check_validity(
    flag: &'static str,
    path: &str,
    cert: &CertificateDer<'_>,
) -> Result<(), TlsError> {
    let parse_error = |reason: String| TlsError::Parse {
        flag,
        path: path.to_string(),
        reason,
    };
    let (_, x509) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|e| parse_error(format!("x509: {e}")))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let validity = x509.validity();
    let invalid = |what: &'static str, at: &x509_parser::time::ASN1Time| TlsError::Validity {
        flag,
        path: path.to_string(),
        what,
        at: at.to_string(),
        subject: x509.subject().to_string(),
    };
    if now > validity.not_after.timestamp() {
        return Err(invalid("expired at", &validity.not_after));
    }
    if now < validity.not_before.timestamp() {
        return Err(invalid("is not valid before", &validity.not_before));
    }
    Ok(())
}
