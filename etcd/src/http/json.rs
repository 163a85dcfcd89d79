//! JSON bytes exactly as Go's `encoding/json` writes them.
//!
//! Go escapes `<`, `>`, `&`, U+2028 and U+2029 inside strings and writes `\u0008`/`\u000c`
//! where serde_json would write `\b`/`\f`; clients comparing bodies byte for byte see the
//! difference, so we format the Go way.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter, Serializer};

struct GoFormatter;

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

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        char_escape: CharEscape,
    ) -> io::Result<()> {
        let s: &[u8] = match char_escape {
            CharEscape::Quote => b"\\\"",
            CharEscape::ReverseSolidus => b"\\\\",
            CharEscape::Solidus => b"\\/",
            CharEscape::Backspace => b"\\u0008",
            CharEscape::FormFeed => b"\\u000c",
            CharEscape::LineFeed => b"\\n",
            CharEscape::CarriageReturn => b"\\r",
            CharEscape::Tab => b"\\t",
            CharEscape::AsciiControl(byte) => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let b = [
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[(byte >> 4) as usize],
                    HEX[(byte & 0xF) as usize],
                ];
                return writer.write_all(&b);
            }
        };
        writer.write_all(s)
    }
}

/// Go's `json.Marshal` output.
pub fn to_vec<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    let mut ser = Serializer::with_formatter(&mut out, GoFormatter);
    // Our wire types contain only strings, numbers, bools and maps with string keys, which
    // cannot fail to serialise.
    let _ = value.serialize(&mut ser);
    out
}

/// Go's `json.NewEncoder(w).Encode(v)`: the JSON and a newline.
pub fn to_line<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = to_vec(value);
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_go() {
        let v = serde_json::json!({"v": "a<b>&c\u{2028}\u{8}\u{c}\u{1}\n\"\\"});
        assert_eq!(
            String::from_utf8(to_vec(&v)).unwrap(),
            r#"{"v":"a\u003cb\u003e\u0026c\u2028\u0008\u000c\u0001\n\"\\"}"#
        );
    }
}
