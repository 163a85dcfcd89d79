//! HTTP-level errors as Go's net/http answers them: the form parser (body before query, first
//! value wins, 10 MiB limit), ServeMux (301 for non-canonical paths, 404 pages, 405 with
//! `Allow`), HEAD answers, and odd bytes in keys.

use super::*;

/// Go's form parsing: the body comes before the query, the first repeated value wins, `+`
/// is a space, and a body that is not a form is ignored.
#[test]
fn form_values_body_before_query_first_value_wins() {
    let d = Server::start();
    let value = |r: Resp| r.json()["node"]["value"].as_str().map(str::to_string);
    assert_eq!(
        value(form(&d, "PUT", "/v2/keys/p?value=query", "value=body")),
        Some("body".into())
    );
    assert_eq!(
        value(form(&d, "PUT", "/v2/keys/p?value=q1&value=q2", "")),
        Some("q1".into())
    );
    assert_eq!(
        value(form(&d, "PUT", "/v2/keys/p", "value=b1&value=b2")),
        Some("b1".into())
    );
    assert_eq!(
        value(form(&d, "PUT", "/v2/keys/p", "value=a+b%2Bc%26d")),
        Some("a b+c&d".into())
    );
    let r = request_raw(
        "PUT",
        &d.url("/v2/keys/p"),
        "text/plain",
        b"value=zzz".to_vec(),
    );
    assert_eq!(r.status, 200);
    assert_eq!(value(r), Some(String::new()));
    // A body on DELETE is parsed as a form too (Go parses bodies of PUT, POST and PATCH only;
    // etcd ignores the value of a delete anyway).
    let r = form(&d, "DELETE", "/v2/keys/p", "value=x");
    assert_eq!(r.json()["action"], "delete");
}

/// A form body over Go's 10 MiB limit.
#[test]
fn oversized_body_is_rejected() {
    let d = Server::start();
    let mut big = b"value=".to_vec();
    big.resize(10 * 1024 * 1024 + 1, b'x');
    let r = request_raw(
        "PUT",
        &d.url("/v2/keys/big"),
        "application/x-www-form-urlencoded",
        big,
    );
    assert_eq!(
        (r.status, r.body.as_str()),
        (400, param_error(210, "http: POST too large").as_str())
    );
    // Exactly at the limit is fine.
    let mut ok = b"value=".to_vec();
    ok.resize(10 * 1024 * 1024, b'y');
    let r = request_raw(
        "PUT",
        &d.url("/v2/keys/big"),
        "application/x-www-form-urlencoded",
        ok,
    );
    assert_eq!(r.status, 201, "{}", &r.body[..r.body.len().min(200)]);
    let got = d.get("/v2/keys/big").json();
    assert_eq!(
        got["node"]["value"].as_str().map(str::len),
        Some(10 * 1024 * 1024 - 6)
    );
}

/// Go's ServeMux redirects non-canonical paths (`..`, `.`, `//`, also when escaped) with a
/// 301 and a small HTML body, keeping the query.
#[test]
fn non_canonical_paths_are_redirected() {
    let d = Server::start();
    let cases = [
        ("/v2/keys/a/../b", "/v2/keys/b"),
        ("/v2/keys/./b", "/v2/keys/b"),
        ("/v2/keys/a//b?x=1", "/v2/keys/a/b?x=1"),
        ("/v2/keys/a/..", "/v2/keys"),
        ("/v2/keys/..", "/v2"),
        ("/v2/keys/../", "/v2/"),
        ("/v2/keys/%2e%2e/x", "/v2/x"),
    ];
    for (target, location) in cases {
        let r = d.raw("GET", target, "", b"");
        assert_eq!(r.status, 301, "{target}: {r:?}");
        assert_eq!(r.header("Location"), Some(location), "{target}");
        assert_eq!(
            r.header("Content-Type"),
            Some("text/html; charset=utf-8"),
            "{target}"
        );
        assert_eq!(
            r.body,
            format!("<a href=\"{location}\">Moved Permanently</a>.\n\n"),
            "{target}"
        );
    }
    // A trailing slash on a key is not redirected: it names the same key.
    d.put("/v2/keys/a/b", &[("value", "1")]);
    let r = d.raw("GET", "/v2/keys/a/", "", b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["node"]["key"], "/a");
    // A bad escape in the path is refused by Go's server before any handler.
    let r = d.raw("GET", "/v2/keys/%zz", "", b"");
    assert_eq!((r.status, r.body.as_str()), (400, "400 Bad Request"));
    assert_eq!(r.header("Content-Type"), Some("text/plain; charset=utf-8"));
}

#[test]
fn unknown_paths_are_404_pages() {
    let d = Server::start();
    for p in ["/", "/v2", "/v2/", "/v2/nothing", "/v3x", "/v2/stats"] {
        let r = d.get(p);
        assert_eq!(
            (r.status, r.body.as_str()),
            (404, "404 page not found\n"),
            "{p}"
        );
        assert_eq!(
            r.header("Content-Type"),
            Some("text/plain; charset=utf-8"),
            "{p}"
        );
    }
}

#[test]
fn unknown_methods_are_405_with_allow() {
    let d = Server::start();
    let cases = [
        ("PATCH", "/v2/keys/a", "HEAD,GET,PUT,POST,DELETE"),
        ("PATCH", "/v2/keys/", "HEAD,GET,PUT,POST,DELETE"),
        ("PATCH", "/v2/members", "GET,POST,DELETE,PUT"),
        ("PUT", "/v2/machines", "GET,HEAD"),
        ("POST", "/v2/stats/self", "GET"),
        ("POST", "/v2/stats/store", "GET"),
        ("DELETE", "/v2/stats/leader", "GET"),
        ("POST", "/version", "GET"),
        ("POST", "/health", "GET"),
        ("HEAD", "/health", "GET"),
        ("HEAD", "/version", "GET"),
    ];
    for (m, p, allow) in cases {
        let r = d.raw(m, p, "", b"");
        assert_eq!(r.status, 405, "{m} {p}");
        assert_eq!(r.header("Allow"), Some(allow), "{m} {p}");
        assert_eq!(
            r.header("Content-Type"),
            Some("text/plain; charset=utf-8"),
            "{m} {p}"
        );
        if m != "HEAD" {
            assert_eq!(r.body, "Method Not Allowed\n", "{m} {p}");
        }
    }
}

/// HEAD answers with GET's status and headers (Content-Length included) and no body.
#[test]
fn head_has_the_get_headers_and_no_body() {
    let d = Server::start();
    d.put("/v2/keys/h", &[("value", "hello")]);
    let get = d.raw("GET", "/v2/keys/h", "", b"");
    let head = d.raw("HEAD", "/v2/keys/h", "", b"");
    assert_eq!((head.status, head.body.as_str()), (200, ""));
    for h in [
        "Content-Type",
        "Content-Length",
        "X-Etcd-Index",
        "X-Etcd-Cluster-Id",
    ] {
        assert_eq!(head.header(h), get.header(h), "{h}");
    }
    assert_eq!(
        head.header("Content-Length"),
        Some(get.body.len().to_string().as_str())
    );
    assert!(head.header("X-Raft-Index").is_some());
    let head = d.raw("HEAD", "/v2/keys/missing", "", b"");
    assert_eq!((head.status, head.body.as_str()), (404, ""));
    let get = d.raw("GET", "/v2/keys/missing", "", b"");
    assert_eq!(
        head.header("Content-Length"),
        Some(get.body.len().to_string().as_str())
    );
    assert_eq!(head.header("X-Etcd-Index"), Some("4"));
    assert!(head.header("X-Raft-Index").is_none());
    let head = d.raw("HEAD", "/v2/machines", "", b"");
    assert_eq!((head.status, head.body.as_str()), (200, ""));
    assert_eq!(
        head.header("Content-Length"),
        Some(d.client_url().len().to_string().as_str())
    );
}

/// Keys are the unescaped path: spaces, unicode, NUL and an escaped slash (which splits).
#[test]
fn odd_bytes_in_keys() {
    let d = Server::start();
    let r = form(&d, "PUT", "/v2/keys/sp%20ace", "value=1");
    assert_same!(
        r.body,
        body(
            r#"{"action":"set","node":{"key":"/sp ace","value":"1","modifiedIndex":4,"createdIndex":4}}"#
        )
    );
    let r = form(&d, "PUT", "/v2/keys/%E2%98%83", "value=%E2%98%83");
    assert_same!(
        r.body,
        body(
            r#"{"action":"set","node":{"key":"/☃","value":"☃","modifiedIndex":5,"createdIndex":5}}"#
        )
    );
    assert_eq!(d.get("/v2/keys/%E2%98%83").json()["node"]["value"], "☃");
    let r = form(&d, "PUT", "/v2/keys/a%2Fb/c", "value=1");
    assert_same!(
        r.body,
        body(
            r#"{"action":"set","node":{"key":"/a/b/c","value":"1","modifiedIndex":6,"createdIndex":6}}"#
        )
    );
    let r = d.get("/v2/keys/a%00b");
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            404,
            body(r#"{"errorCode":100,"message":"Key not found","cause":"/a\u0000b","index":6}"#)
                .as_str()
        )
    );
    // Go's JSON encoder escapes <, >, & and control characters; U+2028 too.
    let r = form(
        &d,
        "PUT",
        "/v2/keys/esc",
        "value=%3Cb%3E%26%22%5C%09%0A%E2%80%A8%7F",
    );
    assert_same!(
        r.body,
        body(
            r#"{"action":"set","node":{"key":"/esc","value":"\u003cb\u003e\u0026\"\\\t\n\u2028","modifiedIndex":7,"createdIndex":7}}"#
        )
        .replace("\\u2028\"", "\\u2028\u{7f}\"")
    );
}
