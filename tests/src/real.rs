//! Real etcd 3.4 and etcdctl, the reference the compatibility tests compare against.
//!
//! Locally a missing binary skips those tests with a message. In CI (`CI=true`) it fails
//! them: a comparison that silently did not run would read as a pass.

use std::path::{Path, PathBuf};

/// Where Debian's `etcd-server` and `etcd-client` install them (`.ci/run` does).
pub const REAL_ETCD: &str = "/usr/bin/etcd";
pub const REAL_ETCDCTL: &str = "/usr/bin/etcdctl";

/// Whether real etcd must be present: CI sets `CI=true`.
pub fn required() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
}

/// `path` if it exists. Otherwise `None` after printing why the test is skipped, or, when
/// [`required`], a panic naming the missing binary.
pub fn binary(path: &str) -> Option<PathBuf> {
    locate(Path::new(path), required())
}

fn locate(path: &Path, required: bool) -> Option<PathBuf> {
    if path.exists() {
        return Some(path.to_path_buf());
    }
    assert!(
        !required,
        "{} is missing and CI=true requires it: the compatibility tests compare against real \
         etcd 3.4 (install etcd-server and etcd-client, as .ci/run does)",
        path.display()
    );
    println!("skipped: {} is not installed", path.display());
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_is_a_skip_locally_and_a_failure_in_ci() {
        let nowhere = Path::new("/nonexistent/etcd");
        assert_eq!(locate(nowhere, false), None);
        let e = std::panic::catch_unwind(|| locate(nowhere, true)).expect_err("CI must fail");
        let msg = e.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(
            msg.contains("/nonexistent/etcd is missing and CI=true"),
            "{msg}"
        );
        assert_eq!(locate(Path::new("/"), true), Some(PathBuf::from("/")));
    }
}
