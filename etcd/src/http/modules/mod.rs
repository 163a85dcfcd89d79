//! etcd 0.3's modules, served with `--enable-mod`: the lock module (`/mod/v2/lock/<name>`),
//! the leader module built on it (`/mod/v2/leader/<name>`) and 0.4's dashboard
//! (`/mod/dashboard`). etcd 0.4 deprecated and unmounted
//! them and 3.4 answers 404 there, which is what we answer without the flag.
//!
//! Parameters are Go's `FormValue`: the query, and a form body on POST and PUT.

pub mod dashboard;
pub mod leader;
pub mod lock;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use self::lock::{Lock, Reply, Wait};
use super::App;
use super::credentials;
use super::error::error_response;
use super::form::{self, Form, Method};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/mod/v2/lock/{*name}", any(lock_handler))
        .route("/mod/v2/leader/{*name}", any(leader::handler))
        .merge(dashboard::routes())
}

async fn lock_handler(State(app): State<App>, Path(name): Path<String>, req: Request) -> Response {
    let lock = Lock::new(app.cluster.clone(), &name);
    const METHODS: Allowed = (
        &[Method::Get, Method::Post, Method::Put, Method::Delete],
        "GET,POST,PUT,DELETE",
    );
    let (method, mut form) = match checked(&app, &lock, req, METHODS).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let reply = match method {
        Method::Get | Method::Head => {
            let field = form.first("field").filter(|f| !f.is_empty());
            lock.get(field.unwrap_or("value"))
        }
        Method::Post => match acquire_params(&form, "Acquire") {
            Ok((ttl, wait)) => lock.acquire(&form.take("value"), ttl, wait).await,
            Err(e) => Reply::Error(e),
        },
        Method::Put => match lock::parse_ttl(form.first("ttl"), "Renew") {
            Ok(ttl) => {
                let index = form.first("index").unwrap_or("").to_string();
                lock.renew(&index, &form.take("value"), ttl).await
            }
            Err(e) => Reply::Error(e),
        },
        Method::Delete => {
            let index = form.first("index").unwrap_or("").to_string();
            lock.release(&index, &form.take("value")).await
        }
    };
    respond(reply)
}

/// An acquire's `ttl` and `timeout`, checked in etcd's order (a bad timeout wins).
fn acquire_params(form: &Form, cause: &str) -> Result<(i64, Wait), etcd_common::EtcdError> {
    let wait = Wait::parse(form.first("timeout"), cause)?;
    let ttl = lock::parse_ttl(form.first("ttl"), cause)?;
    Ok((ttl, wait))
}

/// The methods a module serves, and its `Allow` list for the others.
type Allowed = (&'static [Method], &'static str);

/// The method, the form, and the caller's permission on the lock's keys (a write for anything
/// but GET), or the response refusing the request.
async fn checked(
    app: &App,
    lock: &Lock,
    req: Request,
    (methods, allow): Allowed,
) -> Result<(Method, Form), Response> {
    let (parts, body): (_, Body) = req.into_parts();
    let method = Method::parse(parts.method.as_str())
        .filter(|m| methods.contains(m))
        .ok_or_else(|| super::method_not_allowed(allow))?;
    let form = form::read_form(method, &parts, body)
        .await
        .map_err(|e| error_response(&e))?;
    let caller = credentials::Caller::new(&parts.headers, &parts.extensions);
    let write = method != Method::Get;
    credentials::authorize_key(app, caller, write, lock.dir().as_bytes(), true).await?;
    Ok((method, form))
}

/// A reply as etcd's handlers write it: text bodies as Go sniffs them, errors as etcd's JSON,
/// failures as `http.Error` text.
fn respond(reply: Reply) -> Response {
    match reply {
        Reply::Text(body) if body.is_empty() => StatusCode::OK.into_response(),
        Reply::Text(body) => {
            let mut resp = (StatusCode::OK, body).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            resp
        }
        Reply::Error(e) => error_response(&e),
        Reply::Failed(text) => super::go_error_text(StatusCode::INTERNAL_SERVER_ERROR, text + "\n"),
    }
}
