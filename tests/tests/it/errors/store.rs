//! Store errors: etcd's body and status for each, carrying the current index (in the body and
//! in X-Etcd-Index), and never changing the store.

use super::*;

/// The body of a store error at index 6 (the index after [`assert_store_errors`]' writes).
fn e(code: u16, msg: &str, cause: &str) -> String {
    body(&format!(
        r#"{{"errorCode":{code},"message":"{msg}","cause":"{cause}","index":6}}"#
    ))
}

/// On a member holding `/dir/`, `/file` and `/full/child` (indexes 4-6), each
/// `(method, path, form, status, body)` fails with that answer and index 6.
#[track_caller]
fn assert_store_errors(cases: &[(&str, &str, &str, u16, String)]) {
    let d = Server::start();
    assert_eq!(d.put("/v2/keys/dir", &[("dir", "true")]).status, 201); // 4
    assert_eq!(d.put("/v2/keys/file", &[("value", "f")]).status, 201); // 5
    assert_eq!(d.put("/v2/keys/full/child", &[("value", "c")]).status, 201); // 6
    for (m, p, f, status, want) in cases {
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

/// Keys that do not exist, also below a missing parent.
#[test]
fn missing_keys_are_100() {
    assert_store_errors(&[
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
    ]);
}

/// Compare-and-swap and compare-and-delete whose condition fails.
#[test]
fn failed_compares_are_101() {
    assert_store_errors(&[
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
    ]);
}

/// A file used as a directory and a directory used as a file.
#[test]
fn files_and_directories_in_the_wrong_place_are_102_and_104() {
    assert_store_errors(&[
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
    ]);
}

/// Creating what exists, writing the root, deleting a non-empty directory.
#[test]
fn existing_keys_a_read_only_root_and_full_directories_are_105_107_108() {
    assert_store_errors(&[
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
    ]);
}
