//! A spinner on stderr for long waits, shown only when stderr is a terminal.

use std::io::IsTerminal;
use std::time::Duration;

/// A spinner on stderr for waits longer than a moment; invisible unless stderr is a terminal.
pub struct Spinner {
    task: Option<tokio::task::JoinHandle<()>>,
    bar: std::sync::Arc<std::sync::Mutex<Option<indicatif::ProgressBar>>>,
}

impl Spinner {
    /// Show `msg` with a spinner if this wait lasts more than ~400ms.
    pub fn start(msg: &str) -> Spinner {
        let bar = std::sync::Arc::new(std::sync::Mutex::new(None));
        if !std::io::stderr().is_terminal() {
            return Spinner { task: None, bar };
        }
        let msg = msg.to_string();
        let slot = bar.clone();
        let task = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(400)).await;
            let pb = indicatif::ProgressBar::new_spinner();
            pb.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            pb.set_message(msg);
            pb.enable_steady_tick(Duration::from_millis(100));
            if let Ok(mut s) = slot.lock() {
                *s = Some(pb);
            }
        });
        Spinner {
            task: Some(task),
            bar,
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
        if let Ok(mut s) = self.bar.lock()
            && let Some(pb) = s.take()
        {
            pb.finish_and_clear();
        }
    }
}
