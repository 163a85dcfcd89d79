//! JSON bytes exactly as Go's `encoding/json` writes them (`json.Marshal`, `Encoder.Encode`).
//!
//! Go escapes `<`, `>`, `&`, U+2028 and U+2029 inside strings and writes every other control
//! character as `\u00XX` (`\u0008`, `\u000c`, …) where serde_json would write `\b`/`\f`; clients
//! comparing bodies byte for byte see the difference, so both binaries format the Go way.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter, Serializer};

/// serde_json's compact formatter with Go's string escaping.
pub struct GoFormatter;

/// Go's `encodeState.string` for bytes: valid runs escaped as any string, each invalid byte
/// as `\ufffd` (encoding/json: `c == utf8.RuneError && size == 1`).
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

impl Formatter for GoFormatter {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let esc = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[start..i])?;
            writer.write_all(esc.as_bytes())?;
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn write_byte_array<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        value: &[u8],
    ) -> io::Result<()> {
        write_lossy(writer, value)
    }

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        char_escape: CharEscape,
    ) -> io::Result<()> {
        let byte = match char_escape {
            CharEscape::Quote => return writer.write_all(b"\\\""),
            CharEscape::ReverseSolidus => return writer.write_all(b"\\\\"),
            CharEscape::Solidus => return writer.write_all(b"\\/"),
            CharEscape::LineFeed => return writer.write_all(b"\\n"),
            CharEscape::CarriageReturn => return writer.write_all(b"\\r"),
            CharEscape::Tab => return writer.write_all(b"\\t"),
            // Go has no short forms for these two.
            CharEscape::Backspace => 0x08,
            CharEscape::FormFeed => 0x0c,
            CharEscape::AsciiControl(byte) => byte,
        };
        const HEX: &[u8; 16] = b"0123456789abcdef";
        writer.write_all(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[(byte >> 4) as usize],
            HEX[(byte & 0xF) as usize],
        ])
    }
}

/// Go's `json.Marshal` output.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    let mut ser = Serializer::with_formatter(&mut out, GoFormatter);
    // The bodies hold only strings, bytes, numbers, bools, sequences and string-keyed maps,
    // which cannot fail to serialise.
    let _ = value.serialize(&mut ser);
    out
}

/// Go's `json.Marshal` output as a string.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    // The formatter writes only whole UTF-8 fragments and ASCII escapes.
    String::from_utf8(to_vec(value)).unwrap_or_default()
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

    /// Go 1.19: `json.Marshal(map[string]string{"v": "a<b>&c\u2028\u2029\b\f\x01\x1f\x7f\n\r\t\"\\/é"})`.
    #[test]
    fn escapes_like_go() {
        let v = serde_json::json!({"v": "a<b>&c\u{2028}\u{2029}\u{8}\u{c}\u{1}\u{1f}\u{7f}\n\r\t\"\\/é"});
        assert_eq!(
            to_string(&v),
            "{\"v\":\"a\\u003cb\\u003e\\u0026c\\u2028\\u2029\\u0008\\u000c\\u0001\\u001f\u{7f}\\n\\r\\t\\\"\\\\/é\"}"
        );
        assert_eq!(to_line(&1u8), b"1\n");
    }
}
