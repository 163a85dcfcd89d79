//! Every error path of the client API with real etcd 3.4's exact answer: parameter errors
//! (index 0) and which one wins when several are wrong, store errors (with the current index),
//! Go's form parser (escapes, semicolons, body over query, repeated values), Go's ServeMux
//! (301 for non-canonical paths, 404 pages, 405 with `Allow`), HEAD answers and odd keys.

use etcd_tests::{Api, Resp, Server, assert_same, request_raw};

mod http;
mod params;
mod store;

pub(super) fn body(s: &str) -> String {
    format!("{s}\n")
}

pub(super) fn form(d: &Server, method: &str, path: &str, form: &str) -> Resp {
    request_raw(
        method,
        &d.url(path),
        "application/x-www-form-urlencoded",
        form.as_bytes().to_vec(),
    )
}

pub(super) fn param_error(code: u16, cause: &str) -> String {
    let message = match code {
        201 => "PrevValue is Required in POST form",
        202 => "The given TTL in POST form is not a number",
        203 => "The given index in POST form is not a number",
        209 => "Invalid field",
        210 => "Invalid POST form",
        211 => "Value provided on refresh",
        212 => "A TTL must be provided on refresh",
        _ => unreachable!(),
    };
    let cause = cause.replace('"', "\\\"");
    body(&format!(
        r#"{{"errorCode":{code},"message":"{message}","cause":"{cause}","index":0}}"#
    ))
}
