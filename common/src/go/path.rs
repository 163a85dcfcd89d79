//! Go's `path` package as etcd uses it on keys and request paths.

/// Go's `path.Clean(path.Join("/", p))`: absolute, no empty, `.` or `..` segments, no trailing
/// slash except for the root itself. etcd cleans every key this way (etcd: v2store/store.go).
pub fn clean(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    if parts.is_empty() {
        return "/".to_string();
    }
    let mut out = String::with_capacity(p.len() + 1);
    for s in parts {
        out.push('/');
        out.push_str(s);
    }
    out
}

/// Go's `path.Join(base, elem)` for a rooted `base`.
pub fn join(base: &str, elem: &str) -> String {
    clean(&format!("{base}/{elem}"))
}

/// etcd: pkg/pathutil `CanonicalURLPath` and net/http's `cleanPath`: [`clean`], keeping a
/// trailing slash. The client canonicalises request paths with it and the server redirects
/// any path that is not already canonical.
pub fn canonical_url_path(p: &str) -> String {
    if p.is_empty() {
        return "/".to_string();
    }
    let mut np = clean(p);
    if p.ends_with('/') && np != "/" {
        np.push('/');
    }
    np
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Outputs of Go 1.19's `path.Clean("/" + p)`.
    #[test]
    fn clean_matches_go() {
        for (input, go) in [
            ("", "/"),
            ("/", "/"),
            ("foo", "/foo"),
            ("/a//b/./c/", "/a/b/c"),
            ("/a/../../b", "/b"),
            ("..", "/"),
            ("/ü/./x", "/ü/x"),
            ("a/b/..", "/a"),
        ] {
            assert_eq!(clean(input), go, "clean({input:?})");
        }
    }

    #[test]
    fn canonical_url_path_keeps_trailing_slash() {
        assert_eq!(canonical_url_path(""), "/");
        assert_eq!(canonical_url_path("/v2/keys/"), "/v2/keys/");
        assert_eq!(canonical_url_path("//v2/keys/../keys/a/"), "/v2/keys/a/");
        assert_eq!(canonical_url_path("/v2//keys"), "/v2/keys");
        assert_eq!(canonical_url_path("/../"), "/");
    }

    #[test]
    fn join_matches_go() {
        assert_eq!(
            join("/v2/members", "8e9e05c52164694d"),
            "/v2/members/8e9e05c52164694d"
        );
        assert_eq!(join("/v2/members", "../x"), "/v2/x");
        assert_eq!(join("/v2/members", ""), "/v2/members");
    }
}
