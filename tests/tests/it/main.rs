//! The one integration-test binary (as ripgrep does): every area is a module here, so the
//! harness and the daemon are linked once instead of once per file.
//!
//! Single-member HTTP tests run against an in-process member ([`etcd_tests::Server`]) unless
//! `ETCD_BIN` is set; kill -9, restarts, clusters, etcdctl and real-etcd comparisons use real
//! processes.

mod admin;
mod auth;
mod bytes;
mod cas_races;
mod cluster;
mod cluster_admin;
mod compat_with_real_etcd;
mod connections;
mod dashboard;
mod discovery;
mod disk_faults;
mod durability;
mod errors;
mod etcdctl;
mod etcdctl_auth;
mod etcdctl_compat;
mod etcdctl_pipes;
mod faults;
mod keys_api;
mod limits;
mod modules;
mod peer_security;
mod restart;
mod tls;
mod ttl;
mod watch;
