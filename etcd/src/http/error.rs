//! etcd errors as HTTP responses (etcd: v2error `Error.WriteTo`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use etcd_common::EtcdError;
use etcd_common::headers::ETCD_INDEX;
use serde::Serialize;

use super::json;
use crate::store::ByteStr;
use crate::store::bytes::cause_bytes;

/// etcd's error body; the cause is the bytes it stands for, so a key or value with invalid
/// UTF-8 in it is written with Go's `\ufffd` (see `store::bytes::cause_text`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    error_code: u16,
    message: &'a str,
    #[serde(skip_serializing_if = "ByteStr::is_empty")]
    cause: ByteStr,
    index: u64,
}

/// The JSON body, the status for the code, and `X-Etcd-Index`.
pub fn error_response(e: &EtcdError) -> Response {
    let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let body = Body {
        error_code: e.code.code(),
        message: e.code.message(),
        cause: cause_bytes(&e.cause),
        index: e.index,
    };
    let mut resp = (status, json::to_line(&body)).into_response();
    let h = resp.headers_mut();
    h.insert(ETCD_INDEX, HeaderValue::from(e.index));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
