//! Start-up: the command line ([`flags`], the one flag table), who this member is
//! ([`identity`]), bootstrap through a discovery URL ([`discovery`]), and the wiring that
//! serves until shutdown ([`serve`]: `run` for the binary, `serve` on caller-bound listeners
//! for in-process tests), with TLS on `https://` URLs ([`tls`]).

pub mod conn;
pub mod discovery;
pub mod flags;
pub mod identity;
pub mod limits;
pub mod serve;
pub mod tls;
