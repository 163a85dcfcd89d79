//! Go's `encoding/json` bytes for every body the client face writes: `etcd_common::go::json`,
//! whose formatter also writes the store's byte strings ([`crate::store::ByteStr`], keys and
//! values that need not be UTF-8) as Go writes such a string.

pub use etcd_common::go::json::{to_line, to_vec};

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
