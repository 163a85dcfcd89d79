//! Start-up: the daemon's command line.

pub mod flags;
