//! Go's wording of operating-system errors, as `os.PathError` prints them
//! (`open /x: no such file or directory`): Rust's `Display` says `No such file or directory
//! (os error 2)`.

/// The bare reason: the OS message without Rust's `(os error N)`, lowercased as Go's `strerror`
/// table has it.
pub fn reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    let s = s.find(" (os error").map_or(s.as_str(), |i| &s[..i]);
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// `os.PathError`: `<op> <path>: <reason>`.
pub fn path_error(op: &str, path: &std::path::Path, e: &std::io::Error) -> String {
    format!("{op} {}: {}", path.display(), reason(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Error;

    #[test]
    fn worded_as_go() {
        let missing = std::fs::File::open("/nonexistent/x").unwrap_err();
        assert_eq!(
            path_error("open", std::path::Path::new("/nonexistent/x"), &missing),
            "open /nonexistent/x: no such file or directory"
        );
        // Messages of our own pass through, only the first letter lowered.
        assert_eq!(reason(&Error::other("In use")), "in use");
    }
}
