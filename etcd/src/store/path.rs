//! Key paths: etcd cleans every key with Go's `path.Clean(path.Join("/", key))`.

/// Go's `path.Clean` applied to `"/" + key`: absolute, no empty, `.` or `..` segments, no
/// trailing slash (except the root itself). One definition, shared with etcdctl.
pub fn clean(key: &str) -> String {
    etcd_common::go::path::clean(key)
}

/// The segments of a clean path (`"/a/b"` → `["a", "b"]`; the root has none).
pub fn segments(clean_path: &str) -> impl Iterator<Item = &str> {
    clean_path.split('/').filter(|s| !s.is_empty())
}

/// Go's `path.Join(dir, name)` for a clean `dir` and a single segment `name`.
pub fn join(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// Split a clean path into its parent and last segment (`"/a/b"` → `("/a", "b")`).
pub fn split(clean_path: &str) -> (&str, &str) {
    match clean_path.rfind('/') {
        Some(0) => ("/", &clean_path[1..]),
        Some(i) => (&clean_path[..i], &clean_path[i + 1..]),
        None => ("/", clean_path),
    }
}

/// A node is hidden when its own name starts with `_`.
pub fn is_hidden_name(name: &str) -> bool {
    name.starts_with('_')
}

/// Whether `key_path` lies in a hidden part of the tree as seen from the watched `watch_path`
/// (etcd: watcher_hub.go `isHidden`).
pub fn is_hidden_from(watch_path: &str, key_path: &str) -> bool {
    if watch_path.len() > key_path.len() {
        return false;
    }
    let after = clean(&format!("/{}", &key_path[watch_path.len()..]));
    after.contains("/_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_like_go() {
        assert_eq!(clean(""), "/");
        assert_eq!(clean("/"), "/");
        assert_eq!(clean("foo"), "/foo");
        assert_eq!(clean("/a//b/./c/"), "/a/b/c");
        assert_eq!(clean("/a/../../b"), "/b");
    }

    #[test]
    fn splits_and_joins() {
        assert_eq!(split("/a"), ("/", "a"));
        assert_eq!(split("/a/b/c"), ("/a/b", "c"));
        assert_eq!(join("/", "a"), "/a");
        assert_eq!(join("/a", "b"), "/a/b");
    }

    #[test]
    fn hidden_relative_to_watch() {
        assert!(is_hidden_from("/", "/_x"));
        assert!(is_hidden_from("/a", "/a/_b/c"));
        assert!(!is_hidden_from("/_a", "/_a/b"));
        assert!(!is_hidden_from("/a/b", "/a"));
    }
}
