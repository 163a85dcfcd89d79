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
    match clean_path.rsplit_once('/') {
        Some(("", name)) => ("/", name),
        Some((dir, name)) => (dir, name),
        None => ("/", clean_path),
    }
}

/// A node is hidden when its own name starts with `_`.
pub fn is_hidden_name(name: &str) -> bool {
    name.starts_with('_')
}

/// Whether `key_path` lies in a hidden part of the tree as seen from the watched `watch_path`
/// (etcd: watcher_hub.go `isHidden`).
///
/// etcd slices `key_path` at `len(watch_path)`; here the watch path must be a prefix of the key,
/// so a byte count from one string never cuts into a multi-byte character of the other. When a
/// directory is deleted its descendants' watchers are told too; their path is then not a prefix
/// of the key and nothing of it is hidden from them (etcd: `len(watchPath) > len(keyPath)`).
pub fn is_hidden_from(watch_path: &str, key_path: &str) -> bool {
    let Some(after) = key_path.strip_prefix(watch_path) else {
        return false;
    };
    clean(&format!("/{after}")).contains("/_")
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

    /// Byte offsets taken from one path used to slice the other: "/a" is 2 bytes, and byte 2
    /// of "/éb" falls inside 'é', which panicked before.
    #[test]
    fn multi_byte_keys_never_split_a_character() {
        assert!(!is_hidden_from("/a", "/éb"));
        assert!(!is_hidden_from("/é", "/ab/_c"));
        assert!(is_hidden_from("/é", "/é/_ü"));
        assert!(!is_hidden_from("/_é", "/_é/ü"));
        assert!(is_hidden_from("/", "/_日本"));
        assert_eq!(split("/日本/語"), ("/日本", "語"));
        assert_eq!(split("/é"), ("/", "é"));
        assert_eq!(join("/日本", "語"), "/日本/語");
    }
}
