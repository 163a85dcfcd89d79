//! etcd 0.4's cluster admin API, served on the peer port as 0.4 serves it
//! (`curl -L http://127.0.0.1:7001/v2/admin/config`):
//! - `GET|PUT /v2/admin/config`: the cluster policy (`cluster/policy.rs`);
//! - `GET /v2/admin/machines`, `GET|DELETE /v2/admin/machines/<name>`: the members by name.
//!
//! With auth enabled, changes need the root role, as member changes through `/v2/members` do.
//! Nothing here reaches raft but through [`crate::cluster::Cluster`]'s own writes and member
//! changes, so the peer port's guard on raft traffic is untouched.

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde::Serialize;

use super::credentials::{self, Caller};
use super::{App, go_error_text, method_not_allowed};
use crate::cluster::{ClusterConfig, MemberOp};

/// A policy body is a few numbers; anything longer is not one.
const MAX_CONFIG_BODY: usize = 64 << 10;

pub fn peer_routes(app: App) -> Router {
    Router::new()
        .route("/v2/admin/config", any(config))
        .route("/v2/admin/machines", any(machines))
        .route("/v2/admin/machines/{name}", any(machine))
        .with_state(app)
}

/// 0.4's `machineMessage`, fields in its order.
#[derive(Serialize)]
struct Machine {
    name: String,
    state: &'static str,
    #[serde(rename = "clientURL")]
    client_url: String,
    #[serde(rename = "peerURL")]
    peer_url: String,
}

/// Members that have published a name, sorted by it, as 0.4 lists its registry. A member added
/// but not started yet has no name, so it is not listed (`/v2/members` shows it).
fn list(app: &App) -> Vec<Machine> {
    let leader = app
        .cluster
        .leader_id()
        .map(etcd_common::stats::format_member_id);
    let mut machines: Vec<Machine> = app
        .cluster
        .members()
        .into_iter()
        .filter(|m| !m.name.is_empty())
        .map(|m| Machine {
            state: if Some(&m.id) == leader.as_ref() {
                "leader"
            } else {
                "follower"
            },
            name: m.name,
            client_url: m.client_urls.into_iter().next().unwrap_or_default(),
            peer_url: m.peer_urls.into_iter().next().unwrap_or_default(),
        })
        .collect();
    machines.sort_by(|a, b| a.name.cmp(&b.name));
    machines
}

/// 0.4 answers with Go's `json.Encoder`: a trailing newline.
fn json_line<T: Serialize>(status: StatusCode, v: &T) -> Response {
    super::admin::json_body(status, v, true)
}

/// The policy's JSON, which it writes itself (Go's number form).
fn json_text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

async fn machines(State(app): State<App>, method: Method) -> Response {
    match method {
        Method::GET | Method::HEAD => json_line(StatusCode::OK, &list(&app)),
        _ => method_not_allowed("GET,HEAD"),
    }
}

async fn machine(State(app): State<App>, Path(name): Path<String>, req: Request) -> Response {
    match *req.method() {
        Method::GET | Method::HEAD => {
            let found = list(&app).into_iter().find(|m| m.name == name);
            json_line(StatusCode::OK, &found)
        }
        Method::DELETE => {
            if let Some(refused) = without_root(&app, Caller::of(&req)).await {
                return refused;
            }
            let id = app
                .cluster
                .members()
                .into_iter()
                .find(|m| m.name == name)
                .and_then(|m| etcd_common::stats::parse_member_id(&m.id));
            let Some(id) = id else {
                return super::admin::member_error(
                    &app,
                    crate::cluster::MemberOpError::NotFound(name),
                );
            };
            match app.cluster.member_op(MemberOp::Remove { id }).await {
                Ok(_) => StatusCode::OK.into_response(),
                Err(e) => super::admin::member_error(&app, e),
            }
        }
        _ => method_not_allowed("GET,HEAD,DELETE"),
    }
}

/// etcd's refusal of a change by anyone but root, once auth is on.
async fn without_root(app: &App, caller: Caller<'_>) -> Option<Response> {
    let root = credentials::has_root_access(app, caller).await;
    (!root).then(|| super::auth::http_error(StatusCode::UNAUTHORIZED, "Insufficient credentials"))
}

async fn config(State(app): State<App>, req: Request) -> Response {
    let current = app.cluster.cluster_config().unwrap_or_default();
    match *req.method() {
        Method::GET | Method::HEAD => json_text(StatusCode::OK, format!("{}\n", current.to_json())),
        Method::PUT => {
            if let Some(refused) = without_root(&app, Caller::of(&req)).await {
                return refused;
            }
            let body = match axum::body::to_bytes(req.into_body(), MAX_CONFIG_BODY).await {
                Ok(b) => b,
                Err(e) => return go_error_text(StatusCode::BAD_REQUEST, format!("{e}\n")),
            };
            let changes = match parse_changes(&body) {
                Ok(c) => c,
                Err(e) => return go_error_text(StatusCode::BAD_REQUEST, format!("{e}\n")),
            };
            set(&app, current.merged(&changes)).await
        }
        _ => method_not_allowed("GET,HEAD,PUT"),
    }
}

/// The body as 0.4 decodes it, into a JSON object; `null` changes nothing.
fn parse_changes(body: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    match serde_json::from_slice(body) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        Ok(serde_json::Value::Null) => Ok(serde_json::Map::new()),
        Ok(other) => Err(format!(
            "the cluster config must be a JSON object, not {other}"
        )),
        Err(e) => Err(format!("invalid cluster config: {e}")),
    }
}

async fn set(app: &App, c: ClusterConfig) -> Response {
    match app.cluster.set_cluster_config(c).await {
        Ok(c) => json_text(StatusCode::OK, format!("{}\n", c.to_json())),
        Err(e) => super::error::error_response(&e),
    }
}
