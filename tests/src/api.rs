//! [`Api`]: the client API of one member, whatever runs it (a process or an in-process
//! server). Tests call `get/put/watch/...` through it so one test body serves both tiers.

use std::time::Duration;

use crate::http::{Resp, into_resp, raw_http, request};
use crate::wait::{WATCH_LIMIT, wait_until};

/// Everything a test does to a member over its client URL.
pub trait Api {
    /// `http://127.0.0.1:<port>` of the client listener.
    fn client_url(&self) -> String;

    /// `http://127.0.0.1:<port>` of the peer listener.
    fn peer_url(&self) -> String;

    /// Whether this member is real etcd (`ETCD_BIN=/usr/bin/etcd`), for the few answers that
    /// legitimately differ.
    fn is_real(&self) -> bool;

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.client_url(), path)
    }

    /// `host:port` of the client URL.
    fn client_addr(&self) -> String {
        self.client_url().trim_start_matches("http://").to_string()
    }

    fn get(&self, path: &str) -> Resp {
        request("GET", &self.url(path), None)
    }
    fn put(&self, path: &str, form: &[(&str, &str)]) -> Resp {
        request("PUT", &self.url(path), Some(form))
    }
    fn post(&self, path: &str, form: &[(&str, &str)]) -> Resp {
        request("POST", &self.url(path), Some(form))
    }
    fn delete(&self, path: &str) -> Resp {
        request("DELETE", &self.url(path), None)
    }
    fn request(&self, method: &str, path: &str, form: Option<&[(&str, &str)]>) -> Resp {
        request(method, &self.url(path), form)
    }

    /// A raw request line and headers (`Host` and `Connection: close` added) sent verbatim.
    fn raw(&self, method: &str, target: &str, extra_headers: &str, body: &[u8]) -> Resp {
        let mut req = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{extra_headers}",
            self.client_addr()
        );
        if !body.is_empty() || method == "PUT" || method == "POST" {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        raw_http(&self.client_addr(), &bytes)
    }

    /// Start a long poll on `path` in a thread; join it for the answer. Give it `limit`.
    fn watch(&self, path: &str, limit: Duration) -> std::thread::JoinHandle<Option<Resp>> {
        let url = self.url(path);
        std::thread::spawn(move || {
            let client = reqwest::blocking::Client::builder()
                .no_proxy()
                .timeout(limit)
                .build()
                .ok()?;
            into_resp(client.get(url).send().ok()?).ok()
        })
    }

    /// The `watchers` gauge of `/v2/stats/store` (real etcd 3.4 has it too).
    fn watchers(&self) -> u64 {
        let r = self.get("/v2/stats/store");
        r.json()["watchers"]
            .as_u64()
            .unwrap_or_else(|| panic!("no watchers gauge in /v2/stats/store: {}", r.body))
    }

    /// Wait until the store reports exactly `n` watchers (so a watch just started is
    /// registered, or one just answered is gone).
    fn wait_watchers(&self, n: u64) {
        wait_until(
            WATCH_LIMIT,
            &format!("{n} watcher(s) in /v2/stats/store"),
            || self.watchers() == n,
        );
    }

    /// The etcd index right now (from a GET of the root).
    fn index(&self) -> u64 {
        self.get("/v2/keys/").etcd_index()
    }
}
