//! Asking for a password as etcdctl's speakeasy does: the prompt on stdout, one line read from
//! stdin, then a newline on stdout. On a terminal the typed line is not echoed; from a pipe it is
//! simply read (speakeasy runs `stty` there too and prints its complaints on stderr — not copied).

use std::io::{self, BufRead, IsTerminal, Write};
use std::os::fd::AsFd;

use nix::sys::termios::{self, LocalFlags, SetArg};

/// Print `prompt`, read one line without echoing it on a terminal, and end the prompt's line.
pub fn ask_password(prompt: &str) -> io::Result<String> {
    let stdin = io::stdin();
    // Echo goes off before the prompt shows, so nothing typed after seeing it is echoed.
    let echo_off = stdin.is_terminal().then(|| EchoOff::new(&stdin)).flatten();
    let mut out = io::stdout().lock();
    out.write_all(prompt.as_bytes())?;
    out.flush()?;
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    drop(echo_off);
    out.write_all(b"\n")?;
    out.flush()?;
    read?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// The terminal's echo switched off for as long as this lives (restored on drop, also when the
/// read fails).
struct EchoOff {
    saved: termios::Termios,
}

impl EchoOff {
    fn new(stdin: &io::Stdin) -> Option<EchoOff> {
        let saved = termios::tcgetattr(stdin.as_fd()).ok()?;
        let mut quiet = saved.clone();
        // The Enter is not echoed either: the newline printed after the read ends the line.
        quiet
            .local_flags
            .remove(LocalFlags::ECHO | LocalFlags::ECHONL);
        termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &quiet).ok()?;
        Some(EchoOff { saved })
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(io::stdin().as_fd(), SetArg::TCSANOW, &self.saved);
    }
}
