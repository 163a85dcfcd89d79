//! Raft RPC endpoints on the peer URL. Requests from another cluster (a different
//! `X-Etcd-Cluster-Id`) are refused, so clusters bootstrapped with different tokens never mix.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use etcd_common::headers::CLUSTER_ID;

use super::App;
use crate::raft::network::{FROM, paths};
use crate::raft::peer_service::PeerAnswer;

pub fn routes() -> Router<App> {
    Router::new().route("/raft/{rpc}", post(rpc))
}

async fn rpc(
    State(app): State<App>,
    Path(rpc): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ours = format!("{:x}", app.cluster.cluster_id);
    if let Some(theirs) = headers.get(CLUSTER_ID).and_then(|v| v.to_str().ok())
        && theirs != ours
    {
        return (
            StatusCode::PRECONDITION_FAILED,
            format!("cluster ID mismatch: local={ours} remote={theirs}"),
        )
            .into_response();
    }
    let path = format!("/raft/{rpc}");
    // A removed member that campaigns learns here that it is gone (etcd answers 410 too).
    let from = headers
        .get(FROM)
        .and_then(|v| v.to_str().ok())
        .and_then(etcd_common::stats::parse_member_id);
    if path == paths::VOTE
        && let Some(from) = from
        && !app.cluster.knows_member(from)
    {
        return (
            StatusCode::GONE,
            "the member has been permanently removed from the cluster",
        )
            .into_response();
    }
    match app.cluster.peer_rpc(&path, &body).await {
        PeerAnswer::Ok(bytes) => (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            bytes,
        )
            .into_response(),
        PeerAnswer::BadRequest(m) => (StatusCode::BAD_REQUEST, m).into_response(),
        PeerAnswer::NotFound => StatusCode::NOT_FOUND.into_response(),
    }
}
