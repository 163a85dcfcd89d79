//! `--auto-tls` / `--peer-auto-tls`: a self-signed certificate generated at the first start and
//! kept in `<data-dir>/fixtures/client` or `/peer`, as etcd's `transport.SelfCert` does, so a
//! restart presents the same certificate.

use std::path::{Path, PathBuf};

use super::TlsError;
use etcd_common::go::os::reason as go_io_reason;

/// The certificate and key files for `dir`, generated for `hosts` unless both already exist.
pub fn self_cert(dir: &Path, hosts: &[String]) -> Result<(String, String), TlsError> {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let text = |p: &PathBuf| p.to_string_lossy().into_owned();
    if cert.is_file() && key.is_file() {
        return Ok((text(&cert), text(&key)));
    }
    let failed = |what: &str, e: &dyn std::fmt::Display| TlsError::AutoTls {
        dir: text(&dir.to_path_buf()),
        reason: format!("{what}: {e}"),
    };
    std::fs::create_dir_all(dir).map_err(|e| failed("mkdir", &go_io_reason(&e)))?;
    let mut params =
        rcgen::CertificateParams::new(hosts.to_vec()).map_err(|e| failed("bad host", &e))?;
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "etcd");
    // etcd: pkg/transport/listener.go selfSignedCertValidity is one year.
    params.not_before = time::OffsetDateTime::now_utc();
    params.not_after = params.not_before + time::Duration::days(365);
    let pair = rcgen::KeyPair::generate().map_err(|e| failed("generate key", &e))?;
    let signed = params
        .self_signed(&pair)
        .map_err(|e| failed("self-sign", &e))?;
    write_private(&key, pair.serialize_pem().as_bytes()).map_err(|e| failed("write key", &e))?;
    std::fs::write(&cert, signed.pem()).map_err(|e| failed("write cert", &go_io_reason(&e)))?;
    tracing::info!("generated self-signed certificate {}", cert.display());
    Ok((text(&cert), text(&key)))
}

/// The key file is readable by its owner only, as etcd writes it (0600).
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| go_io_reason(&e))?;
    f.write_all(bytes).map_err(|e| go_io_reason(&e))
}
