//! Headless Chromium (Debian's `/usr/bin/chromium`) driven over the DevTools protocol on a pipe,
//! for end-to-end tests of the dashboard: `--remote-debugging-pipe` reads commands on the
//! browser's fd 3 and writes replies on its fd 4, each JSON message ending in a NUL. A shell
//! `exec` maps those to the child's stdin and stdout, so no CDP crate and no unsafe `pre_exec`
//! are needed. Only loopback pages are opened; every wait has a deadline.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
/// One protocol command (navigate, evaluate) answers in milliseconds; this bounds a hang.
const CALL_LIMIT: Duration = Duration::from_secs(20);

/// The browser, if installed. Missing, it skips the test locally and fails it in CI (as real
/// etcd does, see [`crate::real`]): a browser test that silently did not run is no pass.
pub fn chromium() -> Option<PathBuf> {
    let p = PathBuf::from(CHROMIUM);
    if p.exists() {
        return Some(p);
    }
    assert!(
        !crate::real::required(),
        "{CHROMIUM} is missing and CI=true requires it: the dashboard tests drive it (install \
         Debian's chromium, as .ci/run does)"
    );
    println!("skipped: {CHROMIUM} is not installed");
    None
}

pub struct Browser {
    child: Child,
    commands: ChildStdin,
    replies: mpsc::Receiver<Value>,
    next_id: u64,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// A fresh browser (its own empty profile) with one blank page attached.
    pub fn launch(chromium: &std::path::Path) -> Browser {
        let profile = tempfile::tempdir().expect("profile dir");
        // The flags the machine notes give for a closed network: no background connections.
        let flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--remote-debugging-pipe",
        ];
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 </dev/null >/dev/null"#)
            .arg(chromium)
            .args(flags)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn chromium");
        let commands = child.stdin.take().expect("stdin");
        let out = child.stdout.take().expect("stdout");
        let (tx, replies) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(out);
            let mut buf = Vec::new();
            while r.read_until(0, &mut buf).is_ok_and(|n| n > 0) {
                buf.pop_if(|b| *b == 0);
                if let Ok(v) = serde_json::from_slice::<Value>(&buf)
                    && tx.send(v).is_err()
                {
                    return;
                }
                buf.clear();
            }
        });
        let mut b = Browser {
            child,
            commands,
            replies,
            next_id: 0,
            session: String::new(),
            _profile: profile,
        };
        let target = b.call("Target.createTarget", json!({"url": "about:blank"}));
        let id = target["targetId"].clone();
        let attached = b.call(
            "Target.attachToTarget",
            json!({"targetId": id, "flatten": true}),
        );
        b.session = attached["sessionId"]
            .as_str()
            .expect("sessionId")
            .to_string();
        b
    }

    /// One command (on the page once attached); its `result`, or a panic naming the error.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            msg["sessionId"] = json!(self.session);
        }
        let mut bytes = serde_json::to_vec(&msg).expect("json");
        bytes.push(0);
        self.commands
            .write_all(&bytes)
            .and_then(|()| self.commands.flush())
            .expect("write to chromium");
        let deadline = Instant::now() + CALL_LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let reply = self
                .replies
                .recv_timeout(left)
                .unwrap_or_else(|e| panic!("chromium: no reply to {method} ({e})"));
            if reply["id"] == json!(id) {
                if let Some(err) = reply.get("error") {
                    panic!("chromium: {method}: {err}");
                }
                return reply["result"].clone();
            }
        }
    }

    /// Loads `url` in the page.
    pub fn open(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url}));
    }

    /// Evaluates `js` in the page (promises awaited) and returns its value.
    pub fn eval(&mut self, js: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": js, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("page threw evaluating {js}: {e}");
        }
        r["result"]["value"].clone()
    }

    /// Evaluates `js` until it gives something other than null, false or "" (a page still
    /// loading may throw meanwhile), within `limit`.
    pub fn wait(&mut self, limit: Duration, what: &str, js: &str) -> Value {
        let guarded =
            format!("(() => {{ try {{ return ({js}); }} catch (e) {{ return null; }} }})()");
        let deadline = Instant::now() + limit;
        loop {
            let v = self.eval(&guarded);
            let falsy = v.is_null() || v == json!(false) || v == json!("");
            if !falsy {
                return v;
            }
            assert!(Instant::now() < deadline, "page never showed {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
