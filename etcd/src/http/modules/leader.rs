//! The leader module (etcd 0.3/0.4: `mod/leader/v2`): leader election as a lock whose value is
//! the candidate's name. etcd proxies each request to its own lock module and copies the status
//! and body; here the lock's operations are called directly, with the same answers.

use axum::extract::{Path, Request, State};
use axum::response::Response;
use etcd_common::{ErrorCode, EtcdError};

use super::lock::{Lock, Reply};
use super::{Allowed, acquire_params, checked, respond};
use crate::http::App;
use crate::http::form::Method;

pub(super) async fn handler(
    State(app): State<App>,
    Path(name): Path<String>,
    req: Request,
) -> Response {
    let lock = Lock::new(app.cluster.clone(), &name);
    const METHODS: Allowed = (
        &[Method::Get, Method::Put, Method::Delete],
        "GET,PUT,DELETE",
    );
    let (method, mut form) = match checked(&app, &lock, req, METHODS).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let reply = match method {
        Method::Get | Method::Head => lock.get("value"),
        // Becomes the leader (or renews the lease) once the name holds the lock.
        Method::Put => {
            let candidate = form.take("name");
            if candidate.is_empty() {
                Reply::Error(EtcdError::request(ErrorCode::NameRequired, "Set"))
            } else {
                match acquire_params(&form, "Acquire") {
                    Ok((ttl, wait)) => lock.acquire(&candidate, ttl, wait).await,
                    Err(e) => Reply::Error(e),
                }
            }
        }
        Method::Delete => {
            let candidate = form.take("name");
            if candidate.is_empty() {
                Reply::Error(EtcdError::request(ErrorCode::NameRequired, "Delete"))
            } else {
                lock.release("", &candidate).await
            }
        }
        // `checked` lets no other method through.
        Method::Post => return crate::http::method_not_allowed(METHODS.1),
    };
    respond(reply)
}
