//! One HTTP exchange with one endpoint: the `--debug` cURL line, credentials, the per-request
//! header timeout, and reading a long-poll body up to its first event.

use futures::StreamExt;
use reqwest::header::HeaderMap;
use tokio::time::Instant;

use super::Client;
use super::endpoint::Endpoint;
use super::error::{ClientError, EndpointError, map_reqwest_error};
use super::requests::{Action, Body, header_u64};

/// A raw HTTP answer.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Client {
    pub(crate) async fn send_one(
        &self,
        ep: &Endpoint,
        deadline: Option<Instant>,
        action: &Action,
    ) -> Result<HttpResponse, ClientError> {
        let url = ep.url(&action.path, &action.query);
        if self.debug {
            let mut line = format!("cURL Command: curl -X {} {}", action.method, url);
            if let Some(Body::Form(b) | Body::Json(b)) = &action.body {
                line.push_str(&format!(" -d {}", etcd_common::go::strconv::quote(b)));
            }
            eprintln!("{line}");
        }
        let mut req = self.http.request(action.method.clone(), &url);
        match &action.body {
            Some(Body::Form(b)) => {
                req = req
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(b.clone());
            }
            Some(Body::Json(b)) => {
                req = req
                    .header("Content-Type", "application/json")
                    .body(b.clone());
            }
            None => {}
        }
        if let Some((u, p)) = &self.credentials {
            req = req.basic_auth(u, Some(p));
        }
        let header_deadline = if !action.wait && !self.header_timeout.is_zero() {
            Some(Instant::now() + self.header_timeout)
        } else {
            None
        };
        let limit = match (header_deadline, deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let sent = match limit {
            Some(l) => match tokio::time::timeout_at(l, req.send()).await {
                Ok(r) => r,
                Err(_) => {
                    if deadline.is_some_and(|d| d <= Instant::now()) {
                        return Err(ClientError::DeadlineExceeded);
                    }
                    return Err(ClientError::Endpoint(EndpointError {
                        message: format!("client: endpoint {} exceeded header timeout", ep.text),
                        connection: false,
                    }));
                }
            },
            None => req.send().await,
        };
        let resp = sent.map_err(|e| ClientError::Endpoint(map_reqwest_error(&e, ep)))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        if action.wait && status == 200 {
            self.wait_index
                .set(header_u64(&headers, etcd_common::headers::ETCD_INDEX));
        }
        let read = read_body(resp, action.wait);
        let body = match deadline {
            Some(d) => tokio::time::timeout_at(d, read)
                .await
                .map_err(|_| ClientError::DeadlineExceeded)?,
            None => read.await,
        }
        .map_err(|e| ClientError::Endpoint(map_reqwest_error(&e, ep)))?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }

    /// A plain GET with no failover and no debug line (cluster-health's `/health` probe).
    ///
    /// Bounded by `--total-timeout`: real etcdctl sets no deadline here and waits forever on a
    /// member that accepts connections but never answers (a stopped process, a full backlog),
    /// so `cluster-health` never gets to its verdict.
    pub async fn probe(&self, url: &str) -> Result<Vec<u8>, String> {
        let ep = Endpoint::parse(url)?;
        let full = format!("{url}/health");
        let get = async {
            let resp = self.http.get(&full).send().await?;
            resp.bytes().await.map(|b| b.to_vec())
        };
        match tokio::time::timeout(self.total_timeout, get).await {
            Ok(got) => {
                got.map_err(|e| format!("Get {full:?}: {}", map_reqwest_error(&e, &ep).message))
            }
            Err(_) => Err(format!(
                "Get {full:?}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
            )),
        }
    }
}

/// Read a body; for a long-poll stop at the first complete line (one event).
async fn read_body(resp: reqwest::Response, wait: bool) -> Result<Vec<u8>, reqwest::Error> {
    if !wait {
        return resp.bytes().await.map(|b| b.to_vec());
    }
    let mut out = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk?);
        if out.contains(&b'\n') {
            break;
        }
    }
    Ok(out)
}

/// The TLS files etcdctl was given (`--cert-file`, `--key-file`, `--ca-file`, or their
/// `ETCDCTL_*` variables) and `--insecure-skip-tls-verify`.
#[derive(Debug, Clone, Default)]
pub struct TlsFiles {
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
    pub ca_file: Option<String>,
    pub insecure_skip_verify: bool,
}

/// `builder` set up for `files`, or an error worded as Go's (`open x: no such file or
/// directory`, `tls: private key does not match public key`), which etcdctl prints as is.
pub(crate) fn with_tls(
    builder: reqwest::ClientBuilder,
    files: &TlsFiles,
) -> Result<reqwest::ClientBuilder, String> {
    let nonempty = |f: &Option<String>| f.clone().filter(|s| !s.is_empty());
    let (cert, key, ca) = (
        nonempty(&files.cert_file),
        nonempty(&files.key_file),
        nonempty(&files.ca_file),
    );
    if cert.is_none() && key.is_none() && ca.is_none() && !files.insecure_skip_verify {
        return Ok(builder);
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let config = if files.insecure_skip_verify {
        config
            .dangerous()
            .with_custom_certificate_verifier(std::sync::Arc::new(NoVerify(provider)))
    } else {
        config.with_root_certificates(roots(ca.as_deref())?)
    };
    let config = match (cert, key) {
        (None, None) => config.with_no_client_auth(),
        (Some(c), Some(k)) => {
            let certs = pem_certs(&c)?;
            let key = PrivateKeyDer::from_pem_slice(&read(&k)?)
                .map_err(|_| "tls: failed to find any PEM data in key input".to_string())?;
            config
                .with_client_auth_cert(certs, key)
                .map_err(|e| match e {
                    rustls::Error::InconsistentKeys(_) => {
                        "tls: private key does not match public key".to_string()
                    }
                    other => format!("tls: {other}"),
                })?
        }
        // etcd: pkg/transport TLSInfo.baseConfig
        (c, k) => {
            return Err(format!(
                "KeyFile and CertFile must both be present[key: {}, cert: {}]",
                k.unwrap_or_default(),
                c.unwrap_or_default()
            ));
        }
    };
    Ok(builder.tls_backend_preconfigured(config))
}

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Go's `os.ReadFile` wording: `open /x: no such file or directory`.
fn read(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path)
        .map_err(|e| etcd_common::go::os::path_error("open", std::path::Path::new(path), &e))
}

fn pem_certs(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&read(path)?)
        .filter_map(Result::ok)
        .collect();
    if certs.is_empty() {
        return Err("tls: failed to find any PEM data in certificate input".into());
    }
    Ok(certs)
}

/// The `--ca-file` bundle, or the system's roots without one (as Go uses them).
fn roots(ca: Option<&str>) -> Result<rustls::RootCertStore, String> {
    let mut roots = rustls::RootCertStore::empty();
    match ca {
        Some(path) => {
            for c in pem_certs(path)? {
                roots.add(c).map_err(|e| format!("{path}: {e}"))?;
            }
        }
        None => {
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        }
    }
    Ok(roots)
}

/// A TLS failure in `e`'s chain, worded as Go's crypto/tls and crypto/x509 word it. Go does
/// not count these as connection errors (they are no `net.Error`), so etcdctl exits 4.
pub(crate) fn tls_failure(e: &reqwest::Error) -> Option<String> {
    // The rustls error sits inside an io::Error (itself maybe boxed in another), so the walk
    // descends into each io::Error's payload as well as along `source()`.
    let mut stack: Vec<&(dyn std::error::Error + 'static)> = Vec::new();
    stack.extend(std::error::Error::source(e));
    for _ in 0..32 {
        let s = stack.pop()?;
        if let Some(tls) = s.downcast_ref::<rustls::Error>() {
            return Some(go_tls_text(tls));
        }
        if let Some(inner) = s
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            stack.push(inner);
        }
        stack.extend(s.source());
    }
    None
}

fn go_tls_text(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::AlertReceived(alert) => format!("remote error: tls: {}", alert_text(alert)),
        rustls::Error::InvalidCertificate(C::UnknownIssuer | C::BadSignature) => {
            "x509: certificate signed by unknown authority".into()
        }
        rustls::Error::InvalidCertificate(
            C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. },
        ) => "x509: certificate has expired or is not yet valid".into(),
        rustls::Error::InvalidCertificate(
            C::NotValidForName | C::NotValidForNameContext { .. },
        ) => "x509: certificate is not valid for this host name".into(),
        other => format!("tls: {other}"),
    }
}

/// `BadCertificate` → `bad certificate`, as Go names alerts.
fn alert_text(alert: &rustls::AlertDescription) -> String {
    let name = format!("{alert:?}");
    match name.as_str() {
        "UnknownCA" => return "unknown certificate authority".into(),
        "ProtocolVersion" => return "protocol version not supported".into(),
        _ => {}
    }
    let mut out = String::new();
    for ch in name.chars() {
        if ch.is_ascii_uppercase() && !out.is_empty() {
            out.push(' ');
        }
        out.push(ch.to_ascii_lowercase());
    }
    out
}

/// `--insecure-skip-tls-verify`: the chain is not checked, the handshake signatures are.
#[derive(Debug)]
struct NoVerify(std::sync::Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        let algs = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        let algs = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algs)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_read_as_go_names_them() {
        use rustls::AlertDescription as A;
        assert_eq!(alert_text(&A::BadCertificate), "bad certificate");
        assert_eq!(alert_text(&A::CertificateRequired), "certificate required");
        assert_eq!(alert_text(&A::UnknownCA), "unknown certificate authority");
    }

    #[test]
    fn unreadable_files_read_as_go_words_them() {
        let files = TlsFiles {
            ca_file: Some("/nonexistent".into()),
            ..TlsFiles::default()
        };
        let e = with_tls(reqwest::Client::builder(), &files).err().unwrap();
        assert_eq!(e, "open /nonexistent: no such file or directory");
    }
}
