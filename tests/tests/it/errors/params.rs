//! Parameter errors: answered before the store is touched (400, index 0, no raft headers), and
//! when several parameters are wrong, the first in etcd's parse order wins.

use super::*;

fn inv(field: &str) -> String {
    format!("invalid value for \"{field}\"")
}

/// Each `(method, path, form, code, cause)` is a 400 with etcd's body, index 0, and nothing is
/// written.
#[track_caller]
fn assert_param_errors(cases: &[(&str, &str, &str, u16, String)]) {
    let d = Server::start();
    for (m, p, f, code, cause) in cases {
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
    assert_eq!(d.index(), 3, "a refused request wrote something");
}

/// A TTL that is not a non-negative integer.
#[test]
fn a_bad_ttl_is_202() {
    assert_param_errors(&[
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
    ]);
}

/// prevIndex and waitIndex that are not unsigned integers.
#[test]
fn a_bad_index_is_203() {
    assert_param_errors(&[
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
    ]);
}

/// Boolean flags that are not Go booleans, and fields used where etcd refuses them.
#[test]
fn a_bad_flag_or_field_is_209() {
    assert_param_errors(&[
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
    ]);
}

/// Bodies and queries Go's form parser refuses (bad escapes, semicolons).
#[test]
fn a_bad_form_is_210() {
    assert_param_errors(&[
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
    ]);
}

/// An empty prevValue, a value on a refresh, a refresh without a TTL.
#[test]
fn empty_prev_value_and_bad_refreshes_are_201_211_212() {
    assert_param_errors(&[
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
    ]);
}

/// When several parameters are wrong, the first in etcd's parse order is reported:
/// prevIndex, waitIndex, recursive, sorted, wait, dir, quorum, stream, wait-not-on-GET,
/// prevValue, noValueOnSuccess, ttl, prevExist, refresh (then value-on-refresh, TTL-on-refresh).
#[test]
fn the_first_bad_parameter_in_etcds_order_wins() {
    let d = Server::start();
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
