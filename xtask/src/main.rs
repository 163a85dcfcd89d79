//! `cargo run -p xtask -- generate [ROOT]`: regenerate `completions/` and `man/` for both
//! binaries (ROOT defaults to the repository root this crate lives in).
#![deny(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("generate") => {
            let root = args
                .get(1)
                .map(PathBuf::from)
                .unwrap_or_else(xtask::repo_root);
            match xtask::write_all(&root) {
                Ok(n) => {
                    println!("wrote {n} files under {}", root.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("xtask generate: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => {
            eprintln!("usage: cargo run -p xtask -- generate [ROOT]");
            ExitCode::from(2)
        }
    }
}
