//! The byte string of keys and values: what the client sent, byte for byte.
//!
//! etcd's keys and values are Go strings, which are bytes: `/k%FE` and `/k%FF` are two keys and
//! `prevValue=%FF` does not match a value written as `%FE`. Invalid UTF-8 becomes U+FFFD only
//! when JSON is written for a client (Go's `encoding/json` writes `\ufffd` for every byte that
//! is not part of a valid sequence), never while parsing, comparing or storing.
//!
//! Serialized (raft log, peer messages, snapshots), a valid-UTF-8 string is a plain JSON string,
//! exactly as the `String` it replaced, so old data still loads and normal values cost nothing
//! more; only invalid UTF-8 goes out through `serialize_bytes` (a JSON array of numbers with
//! serde_json's formatter, Go's lossy string with `http::json`'s) and reads back from either.

use std::borrow::{Borrow, Cow};
use std::fmt;
use std::ops::Deref;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Keys and values as bytes; ordered bytewise, as Go compares strings.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteStr(Vec<u8>);

impl ByteStr {
    pub fn new() -> ByteStr {
        ByteStr(Vec::new())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }

    /// The text, when it is valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// For logs and messages: invalid bytes shown as U+FFFD, one per byte as Go shows them.
    pub fn to_lossy(&self) -> Cow<'_, str> {
        go_lossy(&self.0)
    }
}

/// Go's view of invalid UTF-8: one U+FFFD for every byte that is not part of a valid sequence
/// (`utf8.DecodeRune` answers `(RuneError, 1)`), where Rust's `from_utf8_lossy` writes one per
/// maximal invalid subsequence (`"\xE2\x82"` is two U+FFFD in Go, one in Rust).
pub fn go_lossy(b: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(b) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(b.len() + 8);
    for chunk in b.utf8_chunks() {
        out.push_str(chunk.valid());
        out.extend(std::iter::repeat_n('\u{FFFD}', chunk.invalid().len()));
    }
    Cow::Owned(out)
}

/// Error causes are `String`s (they cross the wire in `etcd_common::EtcdError`), yet Go writes an
/// invalid byte in a cause as `\ufffd` and a real U+FFFD as itself. A cause built from key or
/// value bytes therefore writes each invalid byte as the noncharacter U+FFFE, and a real U+FFFE
/// or U+FFFF behind the escape U+FFFF; [`cause_bytes`] undoes it when the error is written.
const CAUSE_INVALID: char = '\u{FFFE}';
const CAUSE_ESCAPE: char = '\u{FFFF}';

/// `b` as text for an error cause (see [`CAUSE_INVALID`]).
pub fn cause_text(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == CAUSE_INVALID || c == CAUSE_ESCAPE {
                out.push(CAUSE_ESCAPE);
            }
            out.push(c);
        }
        out.extend(std::iter::repeat_n(CAUSE_INVALID, chunk.invalid().len()));
    }
    out
}

/// The bytes a cause stands for: U+FFFE is an invalid byte (0xFF), U+FFFF escapes the next
/// character. Causes never built by [`cause_text`] come back unchanged unless they hold one.
pub fn cause_bytes(cause: &str) -> ByteStr {
    if !cause.contains([CAUSE_INVALID, CAUSE_ESCAPE]) {
        return ByteStr::from(cause);
    }
    let mut out = Vec::with_capacity(cause.len());
    let mut chars = cause.chars();
    let mut buf = [0; 4];
    while let Some(c) = chars.next() {
        let c = match c {
            CAUSE_INVALID => {
                out.push(0xFF);
                continue;
            }
            CAUSE_ESCAPE => chars.next().unwrap_or(CAUSE_ESCAPE),
            c => c,
        };
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
    ByteStr(out)
}

impl Deref for ByteStr {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for ByteStr {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Borrow<[u8]> for ByteStr {
    fn borrow(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for ByteStr {
    fn from(v: Vec<u8>) -> ByteStr {
        ByteStr(v)
    }
}

impl From<&[u8]> for ByteStr {
    fn from(v: &[u8]) -> ByteStr {
        ByteStr(v.to_vec())
    }
}

impl From<String> for ByteStr {
    fn from(s: String) -> ByteStr {
        ByteStr(s.into_bytes())
    }
}

impl From<&str> for ByteStr {
    fn from(s: &str) -> ByteStr {
        ByteStr(s.as_bytes().to_vec())
    }
}

impl PartialEq<str> for ByteStr {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for ByteStr {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl fmt::Debug for ByteStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_str() {
            Some(s) => fmt::Debug::fmt(s, f),
            None => write!(f, "b{:?}", self.0.escape_ascii().to_string()),
        }
    }
}

impl fmt::Display for ByteStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_lossy())
    }
}

impl Serialize for ByteStr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.as_str() {
            Some(text) => s.serialize_str(text),
            None => s.serialize_bytes(&self.0),
        }
    }
}

impl<'de> Deserialize<'de> for ByteStr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ByteStr, D::Error> {
        d.deserialize_any(ByteStrVisitor)
    }
}

struct ByteStrVisitor;

impl<'de> Visitor<'de> for ByteStrVisitor {
    type Value = ByteStr;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array of bytes")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteStr, E> {
        Ok(ByteStr::from(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<ByteStr, E> {
        Ok(ByteStr::from(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<ByteStr, E> {
        Ok(ByteStr::from(v))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<ByteStr, E> {
        Ok(ByteStr(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ByteStr, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(b) = seq.next_element::<u8>()? {
            out.push(b);
        }
        Ok(ByteStr(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_utf8_serializes_exactly_as_a_string_did() {
        let b = ByteStr::from("/日本/k\"<");
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(json, serde_json::to_string("/日本/k\"<").unwrap());
        let back: ByteStr = serde_json::from_str(&json).unwrap();
        assert_eq!(back, b);
    }

    #[test]
    fn invalid_utf8_round_trips_as_an_array_of_bytes() {
        let b = ByteStr::from(b"k\xFE\xE2\x82".as_slice());
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(json, "[107,254,226,130]");
        let back: ByteStr = serde_json::from_str(&json).unwrap();
        assert_eq!(back, b);
        assert_ne!(back, ByteStr::from(b"k\xFF\xE2\x82".as_slice()));
    }

    #[test]
    fn old_plain_strings_still_decode() {
        let back: Vec<ByteStr> = serde_json::from_str(r#"["/a","","\ufffd"]"#).unwrap();
        assert_eq!(back, vec!["/a".into(), ByteStr::new(), "\u{FFFD}".into()]);
    }

    /// Go: `[]rune(string([]byte{...}))` — one RuneError per byte outside a valid sequence.
    #[test]
    fn lossy_text_counts_invalid_bytes_as_go_does() {
        assert_eq!(go_lossy(b"a\xE2\x82b"), "a\u{FFFD}\u{FFFD}b");
        assert_eq!(go_lossy(b"\xF0\x9F\x98"), "\u{FFFD}\u{FFFD}\u{FFFD}");
        assert_eq!(go_lossy(b"\xED\xA0\x80"), "\u{FFFD}\u{FFFD}\u{FFFD}");
        assert_eq!(go_lossy(b"\xC0\x80\xFF"), "\u{FFFD}\u{FFFD}\u{FFFD}");
        assert_eq!(go_lossy("é\u{FFFD}".as_bytes()), "é\u{FFFD}");
    }

    #[test]
    fn causes_keep_invalid_bytes_apart_from_real_replacement_characters() {
        let mut raw = "/k\u{FFFD}\u{FFFF}\u{FFFE}".as_bytes().to_vec();
        raw.extend_from_slice(b"\xF0\x9F\x98\xFF\xFF");
        raw.extend_from_slice("\u{FFFF}".as_bytes());
        let back = cause_bytes(&cause_text(&raw));
        assert_eq!(back.to_lossy(), go_lossy(&raw));
        assert_eq!(cause_bytes("plain"), "plain");
    }
}
