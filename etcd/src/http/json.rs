//! Go's `encoding/json` bytes for every body the client face writes.
//!
//! The escaping of text is `etcd_common::go::json`'s [`GoFormatter`]. Keys and values are bytes
//! ([`crate::store::ByteStr`]) and reach the serializer through `serialize_bytes` when they are
//! not valid UTF-8; Go writes such a string with `\ufffd` for every byte outside a valid
//! sequence (a real U+FFFD stays itself), and so does [`write_lossy`] here.

use std::io::{self, Write};

use etcd_common::go::json::GoFormatter;
use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter, Serializer};

/// [`GoFormatter`], with byte strings written as Go writes a string holding invalid UTF-8.
struct GoBytesFormatter;

impl Formatter for GoBytesFormatter {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        GoFormatter.write_string_fragment(writer, fragment)
    }

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        char_escape: CharEscape,
    ) -> io::Result<()> {
        GoFormatter.write_char_escape(writer, char_escape)
    }

    fn write_byte_array<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        value: &[u8],
    ) -> io::Result<()> {
        write_lossy(writer, value)
    }
}

/// Go's `encodeState.string` for bytes: valid runs escaped as any string, each invalid byte
/// as `\ufffd` (etcd: encoding/json `c == utf8.RuneError && size == 1`).
fn write_lossy<W: ?Sized + Write>(writer: &mut W, value: &[u8]) -> io::Result<()> {
    writer.write_all(b"\"")?;
    let mut text = Vec::new();
    for chunk in value.utf8_chunks() {
        if !chunk.valid().is_empty() {
            // The valid run goes through the very escaping a `str` gets; its quotes are dropped.
            text.clear();
            chunk
                .valid()
                .serialize(&mut Serializer::with_formatter(&mut text, GoFormatter))
                .map_err(io::Error::other)?;
            writer.write_all(&text[1..text.len() - 1])?;
        }
        for _ in chunk.invalid() {
            writer.write_all(b"\\ufffd")?;
        }
    }
    writer.write_all(b"\"")
}

/// Go's `json.Marshal` output.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    let mut ser = Serializer::with_formatter(&mut out, GoBytesFormatter);
    // The bodies hold only strings, bytes, numbers, bools, sequences and string-keyed maps,
    // which cannot fail to serialise.
    let _ = value.serialize(&mut ser);
    out
}

/// Go's `json.NewEncoder(w).Encode(v)`: the JSON and a newline.
pub fn to_line<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = to_vec(value);
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ByteStr;

    /// Go 1.19: `json.Marshal("<\xfe\xe2\x82é\ufffd\"\x01")` is
    /// `"\u003c\ufffd\ufffd\ufffdé�\"\u0001"`.
    #[test]
    fn invalid_bytes_are_written_as_go_writes_them() {
        let v = ByteStr::from(b"<\xFE\xE2\x82\xC3\xA9\xEF\xBF\xBD\"\x01".as_slice());
        let want = "\"\\u003c\\ufffd\\ufffd\\ufffdé\u{FFFD}\\\"\\u0001\"";
        assert_eq!(String::from_utf8(to_vec(&v)).unwrap(), want);
    }

    #[test]
    fn valid_text_is_written_as_before() {
        let v = ByteStr::from("a<b>&\u{2028}\u{8}é");
        assert_eq!(
            to_vec(&v),
            etcd_common::go::json::to_vec("a<b>&\u{2028}\u{8}é")
        );
        assert_eq!(to_line(&1u8), b"1\n");
    }

    #[test]
    fn a_lone_truncated_sequence_is_one_escape_per_byte() {
        let v = ByteStr::from(b"\xF0\x9F\x98".as_slice());
        assert_eq!(to_vec(&v), b"\"\\ufffd\\ufffd\\ufffd\"");
    }
}
