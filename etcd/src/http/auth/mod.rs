//! `/v2/auth`: users, roles and the auth switch (etcd: v2http/client_auth.go for the handlers,
//! v2auth/auth.go for the rules). Each handler reads the replicated auth state, decides as
//! etcd's `v2auth.store` does, and proposes the resulting resource write; the store only
//! enforces create-vs-update (see `store/auth.rs`). Error bodies are etcd's `HTTPError`
//! (`{"message":…}`, no newline); success bodies are `json.Encoder` lines.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use etcd_common::go::path;
use etcd_common::{ErrorCode, EtcdError};
use serde::Serialize;

use super::App;
use super::credentials::{Caller, has_root_access};
use super::error::error_response;
use super::form::{self, MAX_FORM_SIZE};
use super::json;
use crate::store::auth::{AuthOp, AuthState, GUEST, ROOT, Role};
use crate::store::{Command, Op};
use crate::time;

mod roles;
mod users;
mod wire;

use roles::{create_role, delete_role, list_roles, put_role};
use users::{delete_user, get_user, list_users, put_user, role_missing};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/v2/auth/enable", any(enable))
        .route("/v2/auth/users", any(users))
        .route("/v2/auth/users/", any(users))
        .route("/v2/auth/users/{*rest}", any(users))
        .route("/v2/auth/roles", any(roles))
        .route("/v2/auth/roles/", any(roles))
        .route("/v2/auth/roles/{*rest}", any(roles))
}

/// Why a handler answered with an error.
pub enum Failure {
    /// etcd's `HTTPError` (and `v2auth.Error`, whose messages start with `auth: `).
    Http(StatusCode, String),
    /// An error from the store or raft (a timeout, say), written as a v2 error.
    Etcd(EtcdError),
}

fn auth_err(status: StatusCode, msg: impl std::fmt::Display) -> Failure {
    Failure::Http(status, format!("auth: {msg}"))
}

fn bad_request(msg: &str) -> Failure {
    Failure::Http(StatusCode::BAD_REQUEST, msg.to_string())
}

type Answer = Result<Response, Failure>;

impl Failure {
    fn into_response(self) -> Response {
        match self {
            Failure::Http(status, message) => http_error(status, &message),
            Failure::Etcd(e) => error_response(&e),
        }
    }
}

/// etcd's `httptypes.HTTPError.WriteTo`.
pub fn http_error(status: StatusCode, message: &str) -> Response {
    #[derive(Serialize)]
    struct Message<'a> {
        message: &'a str,
    }
    let mut resp = (status, json::to_vec(&Message { message })).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// etcd's `writeNoAuth`.
fn no_auth() -> Response {
    http_error(StatusCode::UNAUTHORIZED, "Insufficient credentials")
}

fn ok_json<T: Serialize>(status: StatusCode, v: &T) -> Answer {
    Ok((status, json::to_line(v)).into_response())
}

fn ok_empty() -> Answer {
    Ok(StatusCode::OK.into_response())
}

/// Everything after the root check carries etcd's two headers, errors included.
fn finish(app: &App, answer: Answer) -> Response {
    let mut resp = answer.unwrap_or_else(Failure::into_response);
    let h = resp.headers_mut();
    h.insert("X-Etcd-Cluster-Id", app.cluster_id_header.clone());
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

async fn propose(app: &App, op: AuthOp) -> Result<(), EtcdError> {
    let cmd = Command {
        now: time::now(),
        op: Op::Auth(op),
    };
    app.cluster.propose(cmd).await.map(|_| ())
}

/// etcd reads with `quorum=true` before it writes (`getUser(name, true)`).
async fn quorum_state(app: &App) -> Result<Arc<AuthState>, Failure> {
    app.cluster.linearize().await.map_err(Failure::Etcd)?;
    Ok(app.cluster.auth())
}

/// The store's prevExist answers become etcd's auth messages; anything else passes through.
fn on_conflict(
    e: EtcdError,
    exists: impl FnOnce() -> Failure,
    absent: impl FnOnce() -> Failure,
) -> Failure {
    match e.code {
        ErrorCode::NodeExist => exists(),
        ErrorCode::KeyNotFound => absent(),
        _ => Failure::Etcd(e),
    }
}

fn allowed(method: &Method, methods: &[Method]) -> bool {
    methods.contains(method)
}

// ---- /v2/auth/enable ------------------------------------------------------------------------

#[derive(Serialize)]
struct Enabled {
    enabled: bool,
}

async fn enable(State(app): State<App>, req: Request) -> Response {
    let method = req.method().clone();
    if !allowed(&method, &[Method::GET, Method::PUT, Method::DELETE]) {
        return super::method_not_allowed("GET,PUT,DELETE");
    }
    // etcd: `hasWriteRootAccess` — reading the switch is open to all.
    if method != Method::GET && !has_root_access(&app, Caller::of(&req)).await {
        return no_auth();
    }
    let answer = match method {
        Method::GET => ok_json(
            StatusCode::OK,
            &Enabled {
                enabled: app.cluster.auth().enabled,
            },
        ),
        Method::PUT => enable_auth(&app).await,
        _ => disable_auth(&app).await,
    };
    finish(&app, answer)
}

/// etcd: `EnableAuth`.
async fn enable_auth(app: &App) -> Answer {
    if app.cluster.auth().enabled {
        return Err(auth_err(StatusCode::CONFLICT, "already enabled"));
    }
    let state = quorum_state(app).await?;
    if state.user(ROOT).is_none() {
        return Err(auth_err(
            StatusCode::CONFLICT,
            "No root user available, please create one",
        ));
    }
    if state.role(GUEST).is_none() {
        tracing::info!("auth: no guest role access found, creating default");
        create_role(app, Role::default_guest()).await?;
    }
    propose(app, AuthOp::SetEnabled { enabled: true })
        .await
        .map_err(Failure::Etcd)?;
    tracing::info!("auth: enabled auth");
    ok_empty()
}

/// etcd: `DisableAuth`.
async fn disable_auth(app: &App) -> Answer {
    if !app.cluster.auth().enabled {
        return Err(auth_err(StatusCode::CONFLICT, "already disabled"));
    }
    propose(app, AuthOp::SetEnabled { enabled: false })
        .await
        .map_err(Failure::Etcd)?;
    tracing::info!("auth: disabled auth");
    ok_empty()
}

// ---- routing of /users/… and /roles/… --------------------------------------------------------

/// etcd: `handleUsers` / `handleRoles` — `path.Clean` of the path after `/v2/auth`, split on
/// `/`: two pieces is the collection, three names one entry, more is an invalid path.
enum Target {
    Base,
    One(String),
    Invalid,
}

fn target(req: &Request) -> Target {
    let decoded = form::unescape(req.uri().path(), false).unwrap_or_default();
    let decoded = String::from_utf8_lossy(&decoded);
    let sub = path::clean(decoded.get("/v2/auth".len()..).unwrap_or(""));
    let pieces: Vec<&str> = sub.split('/').collect();
    match pieces.len() {
        2 => Target::Base,
        3 => Target::One(pieces[2].to_string()),
        _ => Target::Invalid,
    }
}

/// The root check every users and roles request passes (GET included).
async fn guarded(
    app: &App,
    method: &Method,
    methods: &[Method],
    caller: Caller<'_>,
) -> Option<Response> {
    if !allowed(method, methods) {
        let allow = if methods.len() == 1 {
            "GET"
        } else {
            "GET,PUT,DELETE"
        };
        return Some(super::method_not_allowed(allow));
    }
    if !has_root_access(app, caller).await {
        return Some(no_auth());
    }
    None
}

const ONE: [Method; 3] = [Method::GET, Method::PUT, Method::DELETE];

/// The users and the roles collection: the same routes and checks, different records.
#[derive(Clone, Copy)]
enum Collection {
    Users,
    Roles,
}

impl Collection {
    fn list(self, app: &App) -> Answer {
        let state = app.cluster.auth();
        match self {
            Collection::Users => list_users(&state),
            Collection::Roles => list_roles(&state),
        }
    }

    fn get(self, app: &App, name: &str) -> Answer {
        let state = app.cluster.auth();
        match self {
            Collection::Users => get_user(&state, name),
            Collection::Roles => state
                .role(name)
                .ok_or_else(|| role_missing(name))
                .and_then(|r| ok_json(StatusCode::OK, &r)),
        }
    }

    async fn put(self, app: &App, name: &str, body: &[u8]) -> Answer {
        match self {
            Collection::Users => put_user(app, name, body).await,
            Collection::Roles => put_role(app, name, body).await,
        }
    }

    async fn delete(self, app: &App, name: &str) -> Answer {
        match self {
            Collection::Users => delete_user(app, name).await,
            Collection::Roles => delete_role(app, name).await,
        }
    }
}

async fn users(State(app): State<App>, req: Request) -> Response {
    collection(app, req, Collection::Users).await
}

async fn roles(State(app): State<App>, req: Request) -> Response {
    collection(app, req, Collection::Roles).await
}

/// etcd: `handleUsers` / `handleRoles` and what they dispatch to.
async fn collection(app: App, req: Request, c: Collection) -> Response {
    let name = match target(&req) {
        Target::Invalid => return bad_request("Invalid path").into_response(),
        Target::Base => None,
        Target::One(name) => Some(name),
    };
    let methods: &[Method] = if name.is_some() { &ONE } else { &[Method::GET] };
    let method = req.method().clone();
    if let Some(refused) = guarded(&app, &method, methods, Caller::of(&req)).await {
        return refused;
    }
    let Some(name) = name else {
        return finish(&app, c.list(&app));
    };
    let answer = match method {
        Method::GET => c.get(&app, &name),
        Method::PUT => match read_body(req.into_body()).await {
            Some(body) => c.put(&app, &name, &body).await,
            None => Err(bad_request("Invalid JSON in request body.")),
        },
        _ => c.delete(&app, &name).await,
    };
    finish(&app, answer)
}

async fn read_body(body: Body) -> Option<Vec<u8>> {
    to_bytes(body, MAX_FORM_SIZE).await.ok().map(|b| b.to_vec())
}
