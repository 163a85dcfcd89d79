//! A test-only fault: fsync stalls of one member, switched on and off at run time by a file.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::PoisonError;

/// Test-only fsync stalls, switched by a file: with `ETCD_TEST_FSYNC_STALL_FILE=<path>` in the
/// environment (read once when the store opens; inert when unset), while `<path>` holds
/// `<ms>[,<every_ms>]`, a commit at least `every_ms` (default 1000) after the last stall first
/// sleeps `ms`, as a disk hiccup would. The fault harness writes and removes the file to slow
/// one follower's fsync now and then, and to heal it.
pub(crate) struct Stall {
    path: PathBuf,
    state: Mutex<StallState>,
}

struct StallState {
    last_stall: std::time::Instant,
    /// The file's content as of `read_at` (read at most every `REREAD`, not per commit).
    spec: Option<(std::time::Duration, std::time::Duration)>,
    read_at: Option<std::time::Instant>,
}

impl Stall {
    const REREAD: std::time::Duration = std::time::Duration::from_millis(50);

    pub(crate) fn from_env() -> Option<Stall> {
        let path = PathBuf::from(std::env::var_os("ETCD_TEST_FSYNC_STALL_FILE")?);
        tracing::warn!(path = %path.display(), "test hook: fsync stalls switched by this file");
        Some(Stall {
            path,
            state: Mutex::new(StallState {
                last_stall: std::time::Instant::now(),
                spec: None,
                read_at: None,
            }),
        })
    }

    fn parse(text: &str) -> Option<(std::time::Duration, std::time::Duration)> {
        let text = text.trim();
        let (pause, every) = text.split_once(',').unwrap_or((text, "1000"));
        let ms = |s: &str| s.trim().parse().ok().map(std::time::Duration::from_millis);
        Some((ms(pause)?, ms(every)?))
    }

    pub(crate) fn maybe_stall(&self) {
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if st.read_at.is_none_or(|t| t.elapsed() >= Self::REREAD) {
            st.spec = std::fs::read_to_string(&self.path)
                .ok()
                .and_then(|t| Self::parse(&t));
            st.read_at = Some(std::time::Instant::now());
        }
        if let Some((pause, every)) = st.spec
            && st.last_stall.elapsed() >= every
        {
            std::thread::sleep(pause);
            st.last_stall = std::time::Instant::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pause_and_period() {
        let ms = std::time::Duration::from_millis;
        assert_eq!(Stall::parse("200"), Some((ms(200), ms(1000))));
        assert_eq!(Stall::parse(" 200,500\n"), Some((ms(200), ms(500))));
        assert_eq!(Stall::parse("x"), None);
    }
}
