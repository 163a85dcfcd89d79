//! `/version`, `/health`, `/v2/stats/*`, `/v2/members`, `/v2/machines` (etcd: etcdhttp and
//! v2http). Bodies and content types as etcd sends them: stats without a trailing newline,
//! members with one.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use etcd_common::headers::CLUSTER_ID;
use etcd_common::{MemberList, Version};
use serde::Serialize;

use super::App;
use super::json;
use crate::config::{CLUSTER_VERSION, VERSION};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/version", get(version))
        .route("/health", get(health))
        .route("/v2/stats/self", get(self_stats))
        .route("/v2/stats/store", get(store_stats))
        .route("/v2/stats/leader", get(leader_stats))
        .route("/v2/members", get(members))
        .route("/v2/members/leader", get(leader))
        .route("/v2/machines", get(machines))
}

fn json_body<T: Serialize>(status: StatusCode, v: &T, newline: bool) -> Response {
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
    let healthy = app.cluster.leader_id().is_some();
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
    let stats = app.cluster.store().stats();
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
            &serde_json::json!({"message": "During leader election"}),
            true,
        ),
    };
    with_cluster_id(&app, resp)
}

async fn machines(State(app): State<App>) -> Response {
    let urls: Vec<String> = app
        .cluster
        .members()
        .into_iter()
        .flat_map(|m| m.client_urls)
        .collect();
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        urls.join(", "),
    )
        .into_response()
}
