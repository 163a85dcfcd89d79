//! Key paths: etcd cleans every key with Go's `path.Clean(path.Join("/", key))`; all of it on
//! bytes, since keys are bytes (only `/`, `.` and a leading `_` mean anything here).

use super::bytes::ByteStr;

/// Go's `path.Clean` applied to `"/" + key`: absolute, no empty, `.` or `..` segments, no
/// trailing slash (except the root itself). Bytes in, bytes out: Go's is bytewise too.
pub fn clean(key: &[u8]) -> ByteStr {
    let mut parts: Vec<&[u8]> = Vec::new();
    for seg in key.split(|b| *b == b'/') {
        match seg {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    if parts.is_empty() {
        return ByteStr::from("/");
    }
    let mut out = Vec::with_capacity(key.len() + 1);
    for s in parts {
        out.push(b'/');
        out.extend_from_slice(s);
    }
    ByteStr::from(out)
}

/// The segments of a clean path (`"/a/b"` → `["a", "b"]`; the root has none).
pub fn segments(clean_path: &[u8]) -> impl Iterator<Item = &[u8]> {
    clean_path.split(|b| *b == b'/').filter(|s| !s.is_empty())
}

/// Go's `path.Join(dir, name)` for a clean `dir` and a single segment `name`.
pub fn join(dir: &[u8], name: &[u8]) -> ByteStr {
    let mut out = Vec::with_capacity(dir.len() + name.len() + 1);
    if dir != b"/" {
        out.extend_from_slice(dir);
    }
    out.push(b'/');
    out.extend_from_slice(name);
    ByteStr::from(out)
}

/// Split a clean path into its parent and last segment (`"/a/b"` → `("/a", "b")`).
pub fn split(clean_path: &[u8]) -> (&[u8], &[u8]) {
    match clean_path.iter().rposition(|b| *b == b'/') {
        Some(0) => (b"/", &clean_path[1..]),
        Some(i) => (&clean_path[..i], &clean_path[i + 1..]),
        None => (b"/", clean_path),
    }
}

/// A node is hidden when its own name starts with `_`.
pub fn is_hidden_name(name: &[u8]) -> bool {
    name.first() == Some(&b'_')
}

/// Whether `key_path` lies in a hidden part of the tree as seen from the watched `watch_path`
/// (etcd: watcher_hub.go `isHidden`).
///
/// etcd slices `key_path` at `len(watch_path)`; here the watch path must be a prefix of the key.
/// When a directory is deleted its descendants' watchers are told too; their path is then not a
/// prefix of the key and nothing of it is hidden from them (etcd: `len(watchPath) > len(keyPath)`).
pub fn is_hidden_from(watch_path: &[u8], key_path: &[u8]) -> bool {
    let Some(after) = key_path.strip_prefix(watch_path) else {
        return false;
    };
    let mut rel = Vec::with_capacity(after.len() + 1);
    rel.push(b'/');
    rel.extend_from_slice(after);
    clean(&rel).windows(2).any(|w| w == b"/_")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> &[u8] {
        s.as_bytes()
    }

    fn pair<'a>(a: &'a str, c: &'a str) -> (&'a [u8], &'a [u8]) {
        (a.as_bytes(), c.as_bytes())
    }

    #[test]
    fn cleans_like_go() {
        assert_eq!(clean(b("")), "/");
        assert_eq!(clean(b("/")), "/");
        assert_eq!(clean(b("foo")), "/foo");
        assert_eq!(clean(b("/a//b/./c/")), "/a/b/c");
        assert_eq!(clean(b("/a/../../b")), "/b");
    }

    #[test]
    fn splits_and_joins() {
        assert_eq!(split(b("/a")), pair("/", "a"));
        assert_eq!(split(b("/a/b/c")), pair("/a/b", "c"));
        assert_eq!(join(b("/"), b("a")), "/a");
        assert_eq!(join(b("/a"), b("b")), "/a/b");
    }

    #[test]
    fn hidden_relative_to_watch() {
        assert!(is_hidden_from(b("/"), b("/_x")));
        assert!(is_hidden_from(b("/a"), b("/a/_b/c")));
        assert!(!is_hidden_from(b("/_a"), b("/_a/b")));
        assert!(!is_hidden_from(b("/a/b"), b("/a")));
    }

    /// Byte offsets taken from one path used to slice the other: "/a" is 2 bytes, and byte 2
    /// of "/éb" falls inside 'é', which panicked before.
    #[test]
    fn multi_byte_keys_never_split_a_character() {
        assert!(!is_hidden_from(b("/a"), b("/éb")));
        assert!(!is_hidden_from(b("/é"), b("/ab/_c")));
        assert!(is_hidden_from(b("/é"), b("/é/_ü")));
        assert!(!is_hidden_from(b("/_é"), b("/_é/ü")));
        assert!(is_hidden_from(b("/"), b("/_日本")));
        assert_eq!(split(b("/日本/語")), pair("/日本", "語"));
        assert_eq!(split(b("/é")), pair("/", "é"));
        assert_eq!(join(b("/日本"), b("語")), "/日本/語");
    }
}
