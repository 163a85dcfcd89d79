//! The client API (keys, stats, members, version, health). Handlers talk only to [`Cluster`];
//! no openraft type appears here. (The peer API lives with raft, in `raft/rpc.rs`.)

pub mod admin;
pub mod auth;
pub mod cluster_admin;
pub mod credentials;
pub mod error;
pub mod form;
pub mod json;
pub mod keys;
pub mod limits;
pub mod modules;
pub mod request;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio_util::sync::CancellationToken;

use crate::cluster::Cluster;

/// What every handler gets. Axum clones the state for every request and every middleware
/// layer, so it is one `Arc`: a clone of the fields themselves (three `Arc`s, a cancellation
/// token that locks its tree, a header value) showed in the profile of a 64-client write load.
#[derive(Clone)]
pub struct App(Arc<AppState>);

pub struct AppState {
    pub cluster: Arc<Cluster>,
    /// Cancelled on shutdown so open watches end and the server can drain.
    pub shutdown: CancellationToken,
    /// Our cluster id as etcd prints it, for `X-Etcd-Cluster-Id`.
    pub cluster_id_header: HeaderValue,
    /// Checks passwords for the auth API and the keys' permission check.
    pub verifier: Arc<credentials::Verifier>,
    pub last_watch_line: Arc<keys::LastWatchLine>,
}

impl std::ops::Deref for App {
    type Target = AppState;

    fn deref(&self) -> &AppState {
        &self.0
    }
}

impl App {
    pub fn new(cluster: Arc<Cluster>, shutdown: CancellationToken) -> App {
        let cluster_id_header = HeaderValue::from_str(&format!("{:x}", cluster.cluster_id))
            .unwrap_or(HeaderValue::from_static("0"));
        App(Arc::new(AppState {
            cluster,
            shutdown,
            cluster_id_header,
            verifier: credentials::verifier(),
            last_watch_line: Arc::default(),
        }))
    }
}

/// The client-facing router; `watchers` caps the pending watches of each client address;
/// `enable_mod` serves etcd 0.3's lock and leader modules.
pub fn client_router(app: App, watchers: Arc<limits::Watchers>, enable_mod: bool) -> Router {
    let mut router = Router::new();
    if enable_mod {
        router = router.merge(modules::routes());
    }
    router
        .merge(keys::routes())
        .merge(admin::routes())
        .merge(auth::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            app.clone(),
            members_root_only,
        ))
        .layer(middleware::from_fn_with_state(
            watchers,
            limits::limit_watchers,
        ))
        .layer(middleware::from_fn(cors))
        .with_state(app)
}

/// Go's `http.Error` text responses (`text/plain; charset=utf-8`, `nosniff`).
fn go_error(status: StatusCode, text: &'static str) -> Response {
    go_error_text(status, text.to_string())
}

fn go_error_text(status: StatusCode, text: String) -> Response {
    let mut resp = (status, text).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(
        "X-Content-Type-Options",
        HeaderValue::from_static("nosniff"),
    );
    resp
}

/// Go's `http.NotFound`, for every path etcd does not serve.
async fn not_found() -> Response {
    go_error(StatusCode::NOT_FOUND, "404 page not found\n")
}

/// Go's `http.Error(w, "Method Not Allowed", 405)` with the handler's `Allow` list.
pub fn method_not_allowed(allow: &'static str) -> Response {
    let mut resp = go_error(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed\n");
    resp.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    resp
}

/// etcd: the members handler's `hasWriteRootAccess` — once auth is enabled, only root may
/// add, update or remove members (after the method check, before anything else).
async fn members_root_only(
    axum::extract::State(app): axum::extract::State<App>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    let members = path == "/v2/members" || path.starts_with("/v2/members/");
    let write = matches!(req.method().as_str(), "POST" | "PUT" | "DELETE");
    if members && write && !credentials::has_root_access(&app, credentials::Caller::of(&req)).await
    {
        return auth::http_error(StatusCode::UNAUTHORIZED, "Insufficient credentials");
    }
    next.run(req).await
}

/// etcd answers every client request with these CORS headers.
async fn cors(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        "Access-Control-Allow-Headers",
        HeaderValue::from_static("accept, content-type, authorization"),
    );
    h.insert(
        "Access-Control-Allow-Methods",
        HeaderValue::from_static("POST, GET, OPTIONS, PUT, DELETE"),
    );
    h.insert("Access-Control-Allow-Origin", HeaderValue::from_static("*"));
    resp
}
