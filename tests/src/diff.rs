//! [`assert_same!`](crate::assert_same): equality for long texts and JSON that prints a line
//! diff (`-` expected, `+` ours) instead of two walls of text to compare by eye.

use std::fmt::Write as _;

/// What `assert_same!` can compare: texts as they are, JSON pretty-printed (one field a line,
/// so a diff points at the field).
pub trait AsText {
    fn as_text(&self) -> String;
}

impl AsText for str {
    fn as_text(&self) -> String {
        self.to_string()
    }
}

impl AsText for String {
    fn as_text(&self) -> String {
        self.clone()
    }
}

impl AsText for serde_json::Value {
    fn as_text(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("<unprintable: {e}>"))
    }
}

impl<T: AsText + ?Sized> AsText for &T {
    fn as_text(&self) -> String {
        (**self).as_text()
    }
}

impl AsText for Vec<String> {
    fn as_text(&self) -> String {
        self.join("\n")
    }
}

/// Panic with a line diff unless `ours` and `expected` have the same text.
#[track_caller]
pub fn check<A: AsText + ?Sized, B: AsText + ?Sized>(ours: &A, expected: &B, what: &str) {
    let (o, e) = (ours.as_text(), expected.as_text());
    if o != e {
        panic!(
            "{what}: ours differs from expected (- expected, + ours):\n{}",
            diff(&e, &o)
        );
    }
}

/// Equal runs longer than this are cut to their first and last lines.
const CONTEXT: usize = 3;

/// A line diff of `a` (shown `-`) against `b` (shown `+`), from their longest common
/// subsequence of lines.
pub fn diff(a: &str, b: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.split('\n').collect(), b.split('\n').collect());
    // lcs[i][j]: common lines of a[i..] and b[j..]. Quadratic, fine for test transcripts.
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out, mut same) = (0, 0, String::new(), Vec::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            same.push(a[i]);
            (i, j) = (i + 1, j + 1);
            continue;
        }
        flush(&mut out, &mut same);
        if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            let _ = writeln!(out, "- {}", a[i]);
            i += 1;
        } else {
            let _ = writeln!(out, "+ {}", b[j]);
            j += 1;
        }
    }
    flush(&mut out, &mut same);
    out
}

fn flush(out: &mut String, same: &mut Vec<&str>) {
    if same.len() > 2 * CONTEXT + 1 {
        for l in &same[..CONTEXT] {
            let _ = writeln!(out, "  {l}");
        }
        let _ = writeln!(out, "  … {} equal lines …", same.len() - 2 * CONTEXT);
        for l in &same[same.len() - CONTEXT..] {
            let _ = writeln!(out, "  {l}");
        }
    } else {
        for l in same.iter() {
            let _ = writeln!(out, "  {l}");
        }
    }
    same.clear();
}

/// `assert_same!(ours, expected)` or `assert_same!(ours, expected, "context {}", x)`: like
/// `assert_eq!`, for strings, `Vec<String>` and `serde_json::Value`, printing a line diff.
#[macro_export]
macro_rules! assert_same {
    ($ours:expr, $expected:expr $(,)?) => {
        $crate::diff::check(&$ours, &$expected, stringify!($ours))
    };
    ($ours:expr, $expected:expr, $($what:tt)+) => {
        $crate::diff::check(&$ours, &$expected, &format!($($what)+))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_marks_changed_lines_and_cuts_long_equal_runs() {
        let a = "1\n2\n3\n4\n5\n6\n7\n8\n9\nold\n10";
        let b = "1\n2\n3\n4\n5\n6\n7\n8\n9\nnew\n10";
        assert_eq!(
            diff(a, b),
            "  1\n  2\n  3\n  … 3 equal lines …\n  7\n  8\n  9\n- old\n+ new\n  10\n"
        );
    }

    #[test]
    fn json_is_compared_pretty() {
        let e = std::panic::catch_unwind(|| {
            crate::assert_same!(
                serde_json::json!({"a": 1, "b": 2}),
                serde_json::json!({"a": 1, "b": 3})
            )
        })
        .expect_err("differs");
        let msg = e.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(msg.contains("-   \"b\": 3\n+   \"b\": 2"), "{msg}");
    }
}
