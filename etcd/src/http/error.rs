//! etcd errors as HTTP responses (etcd: v2error `Error.WriteTo`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use etcd_common::EtcdError;
use etcd_common::headers::ETCD_INDEX;

use super::json;

/// The JSON body, the status for the code, and `X-Etcd-Index`.
pub fn error_response(e: &EtcdError) -> Response {
    let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut resp = (status, json::to_line(&e.body())).into_response();
    let h = resp.headers_mut();
    h.insert(ETCD_INDEX, HeaderValue::from(e.index));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
