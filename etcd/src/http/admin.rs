//! `/version`, `/health`, `/v2/stats/*`, `/v2/members`, `/v2/machines` (etcd: etcdhttp and
//! v2http). Bodies and content types as etcd sends them: stats without a trailing newline,
//! members with one.

use axum::Router;
use axum::body::Bytes;
use axum::extract::Request;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::http::Method;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use etcd_common::headers::CLUSTER_ID;
use etcd_common::{MemberList, Version};
use serde::Serialize;

use super::App;
use super::json;
use crate::boot::flags::{CLUSTER_VERSION, VERSION, host_port};
use crate::cluster::{MemberOp, MemberOpError};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/version", gated(version, GET_ONLY))
        .route("/health", gated(health, GET_ONLY))
        .route("/v2/stats/self", gated(self_stats, GET_ONLY))
        .route("/v2/stats/store", gated(store_stats, GET_ONLY))
        .route("/v2/stats/leader", gated(leader_stats, GET_ONLY))
        .route("/v2/machines", gated(machines, GET_HEAD))
        .route("/v2/members", any(members_root))
        .route("/v2/members/{id}", any(member))
}

/// The methods a route serves; anything else is etcd's 405 with this `Allow` list.
#[derive(Clone, Copy)]
struct Allowed {
    methods: &'static [Method],
    allow: &'static str,
}

const GET_ONLY: Allowed = Allowed {
    methods: &[Method::GET],
    allow: "GET",
};
const GET_HEAD: Allowed = Allowed {
    methods: &[Method::GET, Method::HEAD],
    allow: "GET,HEAD",
};

/// A route that serves only `allowed`'s methods.
fn gated<H, T>(handler: H, allowed: Allowed) -> axum::routing::MethodRouter<App>
where
    H: axum::handler::Handler<T, App>,
    T: 'static,
{
    any(handler).layer(from_fn_with_state(allowed, gate))
}

async fn gate(State(a): State<Allowed>, req: Request, next: Next) -> Response {
    if a.methods.contains(req.method()) {
        next.run(req).await
    } else {
        super::method_not_allowed(a.allow)
    }
}

/// etcd's members handler serves these methods on `/v2/members` and below.
const MEMBERS_ALLOW: &str = "GET,POST,DELETE,PUT";

async fn members_root(
    State(app): State<App>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match method {
        Method::GET => members(State(app)).await,
        Method::POST => add_member(State(app), headers, body).await,
        _ => super::method_not_allowed(MEMBERS_ALLOW),
    }
}

async fn member(
    State(app): State<App>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match (method, id.as_str()) {
        (Method::GET, "leader") => leader(State(app)).await,
        (Method::DELETE, _) => remove_member(State(app), Path(id)).await,
        (Method::PUT, _) => update_member(State(app), Path(id), headers, body).await,
        // etcd's members handler knows no single-member GET.
        (Method::GET, _) => message(&app, StatusCode::NOT_FOUND, "Not found"),
        _ => super::method_not_allowed(MEMBERS_ALLOW),
    }
}

pub(super) fn json_body<T: Serialize>(status: StatusCode, v: &T, newline: bool) -> Response {
    let body = if newline {
        json::to_line(v)
    } else {
        json::to_vec(v)
    };
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn with_cluster_id(app: &App, mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(CLUSTER_ID, app.cluster_id_header.clone());
    resp
}

async fn version() -> Response {
    json_body(
        StatusCode::OK,
        &Version {
            etcdserver: VERSION.to_string(),
            etcdcluster: CLUSTER_VERSION.to_string(),
        },
        false,
    )
}

async fn health(State(app): State<App>) -> Response {
    // As etcd's NOSPACE alarm does, a disk that refuses writes makes the member unhealthy.
    let healthy = app.cluster.leader_id().is_some() && app.cluster.disk_fault().is_none();
    let body = if healthy {
        r#"{"health":"true"}"#
    } else {
        r#"{"health":"false"}"#
    };
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn self_stats(State(app): State<App>) -> Response {
    json_body(StatusCode::OK, &app.cluster.self_stats(), false)
}

async fn store_stats(State(app): State<App>) -> Response {
    let stats = app.cluster.store_stats();
    json_body(StatusCode::OK, &stats, false)
}

async fn leader_stats(State(app): State<App>) -> Response {
    if !app.cluster.is_leader() {
        return json_body(
            StatusCode::FORBIDDEN,
            &serde_json::json!({"message": "not current leader"}),
            false,
        );
    }
    json_body(StatusCode::OK, &app.cluster.leader_stats(), false)
}

async fn members(State(app): State<App>) -> Response {
    let list = MemberList {
        members: app.cluster.members(),
    };
    with_cluster_id(&app, json_body(StatusCode::OK, &list, true))
}

async fn leader(State(app): State<App>) -> Response {
    let leader = app
        .cluster
        .leader_id()
        .map(etcd_common::stats::format_member_id);
    let found = leader.and_then(|id| app.cluster.members().into_iter().find(|m| m.id == id));
    let resp = match found {
        Some(m) => json_body(StatusCode::OK, &m, true),
        None => json_body(
            StatusCode::SERVICE_UNAVAILABLE,
            &serde_json::json!({"message": "During election"}),
            true,
        ),
    };
    with_cluster_id(&app, resp)
}

async fn machines(State(app): State<App>) -> Response {
    let mut urls: Vec<String> = app
        .cluster
        .members()
        .into_iter()
        .flat_map(|m| m.client_urls)
        .collect();
    // etcd sorts them (membership.RaftCluster.ClientURLs).
    urls.sort();
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        urls.join(", "),
    )
        .into_response()
}

/// etcd's members-API errors: `{"message":…}` without a trailing newline.
fn message(app: &App, status: StatusCode, m: impl Into<String>) -> Response {
    with_cluster_id(
        app,
        json_body(status, &serde_json::json!({"message": m.into()}), false),
    )
}

pub(super) fn member_error(app: &App, e: MemberOpError) -> Response {
    let status = match e {
        MemberOpError::NotFound(_) => StatusCode::NOT_FOUND,
        MemberOpError::Conflict(_) => StatusCode::CONFLICT,
        MemberOpError::Removed(_) => StatusCode::GONE,
        MemberOpError::Full => StatusCode::FORBIDDEN,
        MemberOpError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    message(app, status, e.to_string())
}

/// The `{"peerURLs":[…]}` body of POST and PUT, checked as etcd checks it.
/// A members-API refusal: the status and the `message` text.
type Refusal = (StatusCode, String);

fn peer_urls(headers: &HeaderMap, body: &[u8]) -> Result<Vec<String>, Refusal> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct.split(';').next().unwrap_or("").trim() != "application/json" {
        return Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Bad Content-Type {ct}, accept application/json"),
        ));
    }
    #[derive(serde::Deserialize)]
    struct Req {
        #[serde(rename = "peerURLs")]
        peer_urls: Vec<String>,
    }
    let req: Req =
        serde_json::from_slice(body).map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()))?;
    for u in &req.peer_urls {
        host_port(u).map_err(|e| (StatusCode::BAD_REQUEST, e))?;
    }
    if req.peer_urls.is_empty() {
        return Err((StatusCode::BAD_REQUEST, "no valid URLs given".to_string()));
    }
    Ok(req.peer_urls)
}

fn member_id(id: &str) -> Result<u64, Refusal> {
    etcd_common::stats::parse_member_id(id)
        .ok_or_else(|| (StatusCode::NOT_FOUND, format!("No such member: {id}")))
}

async fn add_member(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let urls = match peer_urls(&headers, &body) {
        Ok(u) => u,
        Err((status, m)) => return message(&app, status, m),
    };
    let op = MemberOp::Add {
        peer_urls: urls,
        now_unix: crate::time::now() / crate::time::NANOS_PER_SECOND,
    };
    match app.cluster.member_op(op).await {
        Ok(Some((id, info))) => {
            let m = etcd_common::Member {
                id: etcd_common::stats::format_member_id(id),
                name: info.name,
                peer_urls: info.peer_urls,
                client_urls: info.client_urls,
            };
            with_cluster_id(&app, json_body(StatusCode::CREATED, &m, true))
        }
        Ok(None) => message(&app, StatusCode::INTERNAL_SERVER_ERROR, "no member"),
        Err(e) => member_error(&app, e),
    }
}

async fn remove_member(State(app): State<App>, Path(id): Path<String>) -> Response {
    let id = match member_id(&id) {
        Ok(id) => id,
        Err((status, m)) => return message(&app, status, m),
    };
    match app.cluster.member_op(MemberOp::Remove { id }).await {
        Ok(_) => with_cluster_id(&app, StatusCode::NO_CONTENT.into_response()),
        Err(e) => member_error(&app, e),
    }
}

async fn update_member(
    State(app): State<App>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let id = match member_id(&id) {
        Ok(id) => id,
        Err((status, m)) => return message(&app, status, m),
    };
    let urls = match peer_urls(&headers, &body) {
        Ok(u) => u,
        Err((status, m)) => return message(&app, status, m),
    };
    match app
        .cluster
        .member_op(MemberOp::Update {
            id,
            peer_urls: urls,
        })
        .await
    {
        Ok(_) => with_cluster_id(&app, StatusCode::NO_CONTENT.into_response()),
        Err(e) => member_error(&app, e),
    }
}
