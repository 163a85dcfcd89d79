//! `etcdctl`: everything lives in the library; see `lib.rs`.
#![deny(unsafe_code)]

fn main() -> std::process::ExitCode {
    etcdctl::run(std::env::args_os())
}
