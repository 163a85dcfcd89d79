//! Every error path of the client API with real etcd 3.4's exact answer: parameter errors
//! (index 0) and which one wins when several are wrong, store errors (with the current index),
//! Go's form parser (escapes, semicolons, body over query, repeated values), Go's ServeMux
//! (301 for non-canonical paths, 404 pages, 405 with `Allow`), HEAD answers and odd keys.

use etcd_tests::{Api, Resp, Server, request_raw};

fn body(s: &str) -> String {
    format!("{s}\n")
}

fn form(d: &Server, method: &str, path: &str, form: &str) -> Resp {
    request_raw(
        method,
        &d.url(path),
        "application/x-www-form-urlencoded",
        form.as_bytes().to_vec(),
    )
}

fn param_error(code: u16, cause: &str) -> String {
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

/// Parameter errors are answered before the store is touched: 400, index 0, no raft headers.
#[test]
fn every_bad_parameter_is_a_400_with_index_0() {
    let d = Server::start();
    let inv = |f: &str| format!("invalid value for \"{f}\"");
    let cases: Vec<(&str, &str, &str, u16, String)> = vec![
        ("PUT", "/v2/keys/k?ttl=abc", "value=1", 202, inv("ttl")),
        ("PUT", "/v2/keys/k", "value=1&ttl=-1", 202, inv("ttl")),
        (
            "PUT",
            "/v2/keys/k",
            "value=1&ttl=99999999999999999999",
            202,
            inv("ttl"),
        ),
        ("PUT", "/v2/keys/k", "dir=true&ttl=1.5", 202, inv("ttl")),
        ("GET", "/v2/keys/k?ttl=x", "", 202, inv("ttl")),
        ("DELETE", "/v2/keys/k?ttl=x", "", 202, inv("ttl")),
        (
            "PUT",
            "/v2/keys/k?prevIndex=abc",
            "value=1",
            203,
            inv("prevIndex"),
        ),
        (
            "PUT",
            "/v2/keys/k?prevIndex=",
            "value=1",
            203,
            inv("prevIndex"),
        ),
        (
            "DELETE",
            "/v2/keys/k?prevIndex=-3",
            "",
            203,
            inv("prevIndex"),
        ),
        (
            "GET",
            "/v2/keys/k?wait=true&waitIndex=abc",
            "",
            203,
            inv("waitIndex"),
        ),
        (
            "GET",
            "/v2/keys/k?wait=true&waitIndex=",
            "",
            203,
            inv("waitIndex"),
        ),
        (
            "GET",
            "/v2/keys/k?wait=true&waitIndex=99999999999999999999",
            "",
            203,
            inv("waitIndex"),
        ),
        ("GET", "/v2/keys/k?recursive=yes", "", 209, inv("recursive")),
        ("GET", "/v2/keys/k?recursive=", "", 209, inv("recursive")),
        (
            "GET",
            "/v2/keys/k?recursive=tRue",
            "",
            209,
            inv("recursive"),
        ),
        ("GET", "/v2/keys/k?sorted=x", "", 209, inv("sorted")),
        ("GET", "/v2/keys/k?wait=x", "", 209, inv("wait")),
        ("GET", "/v2/keys/k?quorum=x", "", 209, inv("quorum")),
        (
            "GET",
            "/v2/keys/k?wait=true&stream=x",
            "",
            209,
            inv("stream"),
        ),
        ("PUT", "/v2/keys/k?dir=x", "value=1", 209, inv("dir")),
        ("PUT", "/v2/keys/k?dir=", "value=1", 209, inv("dir")),
        (
            "PUT",
            "/v2/keys/k?noValueOnSuccess=x",
            "value=1",
            209,
            inv("noValueOnSuccess"),
        ),
        (
            "PUT",
            "/v2/keys/k?prevExist=maybe",
            "value=1",
            209,
            "invalid value for prevExist".into(),
        ),
        (
            "PUT",
            "/v2/keys/k?prevExist=",
            "value=1",
            209,
            "invalid value for prevExist".into(),
        ),
        (
            "GET",
            "/v2/keys/k?prevExist=x",
            "",
            209,
            "invalid value for prevExist".into(),
        ),
        (
            "PUT",
            "/v2/keys/k?refresh=x",
            "value=1",
            209,
            "invalid value for refresh".into(),
        ),
        (
            "PUT",
            "/v2/keys/k?wait=true",
            "value=1",
            209,
            "\"wait\" can only be used with GET requests".into(),
        ),
        (
            "DELETE",
            "/v2/keys/k?wait=true",
            "",
            209,
            "\"wait\" can only be used with GET requests".into(),
        ),
        (
            "POST",
            "/v2/keys/k?wait=true",
            "value=1",
            209,
            "\"wait\" can only be used with GET requests".into(),
        ),
        (
            "PUT",
            "/v2/keys/k?prevValue=",
            "value=1",
            201,
            "\"prevValue\" cannot be empty".into(),
        ),
        (
            "DELETE",
            "/v2/keys/k?prevValue=",
            "",
            201,
            "\"prevValue\" cannot be empty".into(),
        ),
        (
            "PUT",
            "/v2/keys/k?refresh=true&ttl=5",
            "value=1",
            211,
            "A value was provided on a refresh".into(),
        ),
        (
            "PUT",
            "/v2/keys/k?refresh=true",
            "",
            212,
            "No TTL value set".into(),
        ),
        (
            "PUT",
            "/v2/keys/k?refresh=true&ttl=",
            "",
            212,
            "No TTL value set".into(),
        ),
        (
            "GET",
            "/v2/keys/k?refresh=true",
            "",
            212,
            "No TTL value set".into(),
        ),
        // Go's form parser.
        (
            "GET",
            "/v2/keys/k?a=%zz",
            "",
            210,
            "invalid URL escape \"%zz\"".into(),
        ),
        (
            "PUT",
            "/v2/keys/k",
            "value=%zz",
            210,
            "invalid URL escape \"%zz\"".into(),
        ),
        (
            "PUT",
            "/v2/keys/k",
            "value=a%",
            210,
            "invalid URL escape \"%\"".into(),
        ),
        (
            "PUT",
            "/v2/keys/k?value=%4",
            "",
            210,
            "invalid URL escape \"%4\"".into(),
        ),
        (
            "PUT",
            "/v2/keys/k",
            "value=x;y",
            210,
            "invalid semicolon separator in query".into(),
        ),
        (
            "GET",
            "/v2/keys/k?a=1;b=2",
            "",
            210,
            "invalid semicolon separator in query".into(),
        ),
    ];
    for (m, p, f, code, cause) in &cases {
        let r = form(&d, m, p, f);
        assert_eq!(
            (r.status, r.body.as_str()),
            (400, param_error(*code, cause).as_str()),
            "{m} {p} [{f}]"
        );
        assert_eq!(r.header("X-Etcd-Index"), Some("0"), "{m} {p}");
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        assert!(r.header("X-Etcd-Cluster-Id").is_some(), "{m} {p}");
        assert!(r.header("X-Raft-Index").is_none(), "{m} {p}");
    }
    // Nothing was written.
    assert_eq!(d.index(), 3);
}

/// When several parameters are wrong, the first in etcd's parse order is reported:
/// prevIndex, waitIndex, recursive, sorted, wait, dir, quorum, stream, wait-not-on-GET,
/// prevValue, noValueOnSuccess, ttl, prevExist, refresh (then value-on-refresh, TTL-on-refresh).
#[test]
fn the_first_bad_parameter_in_etcds_order_wins() {
    let d = Server::start();
    let inv = |f: &str| format!("invalid value for \"{f}\"");
    let cases: Vec<(&str, u16, String)> = vec![
        ("ttl=x&prevIndex=x", 203, inv("prevIndex")),
        ("prevIndex=x&waitIndex=x", 203, inv("prevIndex")),
        ("waitIndex=x&recursive=x", 203, inv("waitIndex")),
        ("recursive=x&sorted=x", 209, inv("recursive")),
        ("sorted=x&wait=x", 209, inv("sorted")),
        ("wait=x&dir=x", 209, inv("wait")),
        ("dir=x&quorum=x", 209, inv("dir")),
        ("quorum=x&stream=x", 209, inv("quorum")),
        ("stream=x&prevValue=", 209, inv("stream")),
        (
            "prevValue=&noValueOnSuccess=x",
            201,
            "\"prevValue\" cannot be empty".into(),
        ),
        ("noValueOnSuccess=x&refresh=x", 209, inv("noValueOnSuccess")),
        ("refresh=x&ttl=x", 202, inv("ttl")),
        ("ttl=x&prevExist=x", 202, inv("ttl")),
        (
            "prevExist=x&wait=true",
            209,
            "\"wait\" can only be used with GET requests".into(),
        ),
        (
            "noValueOnSuccess=x&wait=true",
            209,
            "\"wait\" can only be used with GET requests".into(),
        ),
        (
            "ttl=x&wait=true",
            209,
            "\"wait\" can only be used with GET requests".into(),
        ),
        (
            "refresh=true&prevValue=",
            201,
            "\"prevValue\" cannot be empty".into(),
        ),
        (
            "refresh=x&prevExist=x",
            209,
            "invalid value for prevExist".into(),
        ),
        (
            "refresh=true&value=v&prevExist=x",
            209,
            "invalid value for prevExist".into(),
        ),
        (
            "refresh=true&value=v",
            211,
            "A value was provided on a refresh".into(),
        ),
        ("refresh=true&ttl=x", 202, inv("ttl")),
    ];
    for (q, code, cause) in &cases {
        let r = form(&d, "PUT", &format!("/v2/keys/pq?{q}"), "");
        assert_eq!(
            (r.status, r.body.as_str()),
            (400, param_error(*code, cause).as_str()),
            "PUT ?{q}"
        );
    }
}

/// Store errors carry the current etcd index in the body and in X-Etcd-Index.
#[test]
fn store_errors_carry_the_current_index() {
    let d = Server::start();
    assert_eq!(d.put("/v2/keys/dir", &[("dir", "true")]).status, 201); // 4
    assert_eq!(d.put("/v2/keys/file", &[("value", "f")]).status, 201); // 5
    assert_eq!(d.put("/v2/keys/full/child", &[("value", "c")]).status, 201); // 6
    let e = |code: u16, msg: &str, cause: &str| {
        body(&format!(
            r#"{{"errorCode":{code},"message":"{msg}","cause":"{cause}","index":6}}"#
        ))
    };
    let cases: Vec<(&str, &str, &str, u16, String)> = vec![
        (
            "GET",
            "/v2/keys/none",
            "",
            404,
            e(100, "Key not found", "/none"),
        ),
        (
            "GET",
            "/v2/keys/none/deeper",
            "",
            404,
            e(100, "Key not found", "/none"),
        ),
        (
            "PUT",
            "/v2/keys/none?prevExist=true",
            "value=1",
            404,
            e(100, "Key not found", "/none"),
        ),
        (
            "PUT",
            "/v2/keys/none?prevValue=a",
            "value=b",
            404,
            e(100, "Key not found", "/none"),
        ),
        (
            "PUT",
            "/v2/keys/none?prevIndex=4",
            "value=b",
            404,
            e(100, "Key not found", "/none"),
        ),
        (
            "DELETE",
            "/v2/keys/none?prevIndex=1",
            "",
            404,
            e(100, "Key not found", "/none"),
        ),
        (
            "DELETE",
            "/v2/keys/none",
            "",
            404,
            e(100, "Key not found", "/none"),
        ),
        (
            "PUT",
            "/v2/keys/file?prevValue=x",
            "value=1",
            412,
            e(101, "Compare failed", "[x != f]"),
        ),
        (
            "PUT",
            "/v2/keys/file?prevIndex=1&prevValue=zz",
            "value=1",
            412,
            e(101, "Compare failed", "[zz != f] [1 != 5]"),
        ),
        (
            "PUT",
            "/v2/keys/file?prevIndex=0&prevValue=zz",
            "value=1",
            412,
            e(101, "Compare failed", "[zz != f]"),
        ),
        (
            "DELETE",
            "/v2/keys/file?prevIndex=9&prevValue=f",
            "",
            412,
            e(101, "Compare failed", "[9 != 5]"),
        ),
        (
            "PUT",
            "/v2/keys/dir",
            "value=1",
            403,
            e(102, "Not a file", "/dir"),
        ),
        (
            "PUT",
            "/v2/keys/dir",
            "dir=true",
            403,
            e(102, "Not a file", "/dir"),
        ),
        (
            "PUT",
            "/v2/keys/dir",
            "dir=true&value=x",
            403,
            e(102, "Not a file", "/dir"),
        ),
        (
            "PUT",
            "/v2/keys/dir?prevValue=a",
            "value=1",
            403,
            e(102, "Not a file", "/dir"),
        ),
        (
            "PUT",
            "/v2/keys/dir?prevIndex=4",
            "value=1",
            403,
            e(102, "Not a file", "/dir"),
        ),
        (
            "DELETE",
            "/v2/keys/dir?prevValue=a",
            "",
            403,
            e(102, "Not a file", "/dir"),
        ),
        (
            "DELETE",
            "/v2/keys/dir?prevIndex=4",
            "",
            403,
            e(102, "Not a file", "/dir"),
        ),
        (
            "DELETE",
            "/v2/keys/dir",
            "",
            403,
            e(102, "Not a file", "/dir"),
        ),
        (
            "GET",
            "/v2/keys/file/x",
            "",
            400,
            e(104, "Not a directory", "/file"),
        ),
        (
            "PUT",
            "/v2/keys/file/x",
            "value=1",
            400,
            e(104, "Not a directory", "/file"),
        ),
        (
            "POST",
            "/v2/keys/file",
            "value=1",
            400,
            e(104, "Not a directory", "/file"),
        ),
        (
            "PUT",
            "/v2/keys/file?prevExist=false",
            "value=1",
            412,
            e(105, "Key already exists", "/file"),
        ),
        (
            "PUT",
            "/v2/keys/dir?prevExist=false",
            "dir=true",
            412,
            e(105, "Key already exists", "/dir"),
        ),
        (
            "PUT",
            "/v2/keys/",
            "value=1",
            400,
            e(107, "Root is read only", "/"),
        ),
        (
            "PUT",
            "/v2/keys/",
            "dir=true",
            400,
            e(107, "Root is read only", "/"),
        ),
        (
            "DELETE",
            "/v2/keys/",
            "",
            400,
            e(107, "Root is read only", "/"),
        ),
        (
            "DELETE",
            "/v2/keys/?dir=true",
            "",
            400,
            e(107, "Root is read only", "/"),
        ),
        (
            "DELETE",
            "/v2/keys/?recursive=true",
            "",
            400,
            e(107, "Root is read only", "/"),
        ),
        (
            "DELETE",
            "/v2/keys/full?dir=true",
            "",
            403,
            e(108, "Directory not empty", "/full"),
        ),
    ];
    for (m, p, f, status, want) in &cases {
        let r = form(&d, m, p, f);
        assert_eq!(
            (r.status, r.body.as_str()),
            (*status, want.as_str()),
            "{m} {p} [{f}]"
        );
        assert_eq!(r.header("X-Etcd-Index"), Some("6"), "{m} {p}");
        assert!(r.header("X-Raft-Index").is_none(), "{m} {p}");
    }
    assert_eq!(d.index(), 6, "a failed request changed the store");
}

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
    assert_eq!(
        r.body,
        body(
            r#"{"action":"set","node":{"key":"/sp ace","value":"1","modifiedIndex":4,"createdIndex":4}}"#
        )
    );
    let r = form(&d, "PUT", "/v2/keys/%E2%98%83", "value=%E2%98%83");
    assert_eq!(
        r.body,
        body(
            r#"{"action":"set","node":{"key":"/☃","value":"☃","modifiedIndex":5,"createdIndex":5}}"#
        )
    );
    assert_eq!(d.get("/v2/keys/%E2%98%83").json()["node"]["value"], "☃");
    let r = form(&d, "PUT", "/v2/keys/a%2Fb/c", "value=1");
    assert_eq!(
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
    assert_eq!(
        r.body,
        body(
            r#"{"action":"set","node":{"key":"/esc","value":"\u003cb\u003e\u0026\"\\\t\n\u2028","modifiedIndex":7,"createdIndex":7}}"#
        )
        .replace("\\u2028\"", "\\u2028\u{7f}\"")
    );
}
