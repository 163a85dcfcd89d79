//! The cap on pending long-poll watchers (`wait=true`) per client IP address: one client cannot
//! hold every watcher slot, task and socket the member has. Beyond the cap a watch is answered
//! at once with 429 and `{"message":"..."}`, the shape etcd gives its own non-key HTTP errors
//! (httptypes.HTTPError); a watch that ends frees its slot. etcd has no such limit.
//!
//! The client's address comes from the `ConnectInfo` extension `boot/conn.rs` puts on every
//! request; a request without one (none today) is not counted.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;

/// How many watches each client address has pending.
pub struct Watchers {
    /// `None`: no limit (`--max-watchers-per-client 0`).
    max: Option<usize>,
    pending: Mutex<HashMap<IpAddr, usize>>,
}

impl Watchers {
    pub fn new(max: Option<usize>) -> Arc<Watchers> {
        Arc::new(Watchers {
            max,
            pending: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for one more watch from `ip`, or `None` when it already has `max` pending.
    fn take(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let max = self.max?;
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let n = pending.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Slot {
            watchers: self.clone(),
            ip,
        })
    }

    /// Watches pending from `ip` (for tests and logs).
    pub fn pending(&self, ip: IpAddr) -> usize {
        let pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.get(&ip).copied().unwrap_or(0)
    }
}

/// One pending watch; dropped with the watch's response body.
struct Slot {
    watchers: Arc<Watchers>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut pending = self
            .watchers
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = pending.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                pending.remove(&self.ip);
            }
        }
    }
}

/// A key request that waits: GET `/v2/keys/...` with `wait` true as Go's `ParseBool` reads it
/// (the first `wait` in the query; `wait` on other methods is refused by the parser anyway).
fn is_watch(req: &Request) -> bool {
    if req.method() != axum::http::Method::GET || !req.uri().path().starts_with("/v2/keys") {
        return false;
    }
    let Some(query) = req.uri().query() else {
        return false;
    };
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "wait")
        .and_then(|(_, v)| etcd_common::go::strconv::parse_bool(&v))
        .unwrap_or(false)
}

/// Middleware: count the watch against its client's address, or refuse it.
pub async fn limit_watchers(
    State(watchers): State<Arc<Watchers>>,
    req: Request,
    next: Next,
) -> Response {
    if watchers.max.is_none() || !is_watch(&req) {
        return next.run(req).await;
    }
    let Some(ConnectInfo(from)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() else {
        return next.run(req).await;
    };
    let Some(slot) = watchers.take(from.ip()) else {
        tracing::debug!(client = %from.ip(), "refusing a watch: too many pending from this address");
        return too_many(watchers.max.unwrap_or(0));
    };
    let resp = next.run(req).await;
    // The long poll is the body: the slot is held until it has been written or dropped.
    resp.map(|body| {
        Body::new(body.map_frame(move |frame| {
            let _held = &slot;
            frame
        }))
    })
}

fn too_many(max: usize) -> Response {
    let body = serde_json::json!({
        "message": format!("Too many pending watches from this client address (limit {max})"),
    });
    let mut resp = (StatusCode::TOO_MANY_REQUESTS, format!("{body}\n")).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(uri: &str) -> Request {
        Request::builder().uri(uri).body(Body::empty()).unwrap()
    }

    #[test]
    fn only_waiting_key_gets_are_watches() {
        assert!(is_watch(&get("/v2/keys/a?wait=true")));
        assert!(is_watch(&get("/v2/keys/a?recursive=1&wait=1&stream=true")));
        assert!(!is_watch(&get("/v2/keys/a?wait=false&wait=true")));
        assert!(!is_watch(&get("/v2/keys/a")));
        assert!(!is_watch(&get("/v2/stats/self?wait=true")));
        let put = Request::builder()
            .method("PUT")
            .uri("/v2/keys/a?wait=true")
            .body(Body::empty())
            .unwrap();
        assert!(!is_watch(&put));
    }

    #[test]
    fn slots_are_counted_per_address_and_freed() {
        let w = Watchers::new(Some(2));
        let (a, b): (IpAddr, IpAddr) = ("127.0.0.1".parse().unwrap(), "::1".parse().unwrap());
        let s1 = w.take(a).unwrap();
        let _s2 = w.take(a).unwrap();
        assert!(w.take(a).is_none());
        assert!(w.take(b).is_some(), "another address has its own slots");
        drop(s1);
        assert_eq!(w.pending(a), 1);
        assert!(w.take(a).is_some());
    }
}
