//! Go's `net/url` escaping as the etcd client builds request URLs and bodies.

/// Go's `url.QueryEscape`: unreserved bytes kept, space as `+`, the rest `%XX`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => push_hex(&mut out, b),
        }
    }
    out
}

/// Go's `url.URL.EscapedPath` for a path without a RawPath (`shouldEscape(c, encodePath)`):
/// `/` and the sub-delimiters a path may carry stay, everything else is `%XX`.
pub fn path_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'a'..=b'z'
            | b'A'..=b'Z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
            | b'$'
            | b'&'
            | b'+'
            | b','
            | b'/'
            | b':'
            | b';'
            | b'='
            | b'@' => out.push(b as char),
            _ => push_hex(&mut out, b),
        }
    }
    out
}

/// Go's `url.Values.Encode`: keys sorted (stably, so repeated keys keep their order), each pair
/// `QueryEscape`d.
pub fn encode_values(values: &[(&str, String)]) -> String {
    let mut v: Vec<&(&str, String)> = values.iter().collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v.iter()
        .map(|(k, val)| format!("{}={}", query_escape(k), query_escape(val)))
        .collect::<Vec<_>>()
        .join("&")
}

fn push_hex(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(HEX[(b >> 4) as usize] as char);
    out.push(HEX[(b & 0xF) as usize] as char);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Outputs of Go's `url.QueryEscape` and `(&url.URL{Path: p}).EscapedPath()`.
    #[test]
    fn escapes_match_go() {
        assert_eq!(query_escape("a b&c=d/ü~*"), "a+b%26c%3Dd%2F%C3%BC~%2A");
        assert_eq!(
            path_escape("/v2/keys/a b/ü?x#y*(z)!~$&+,:;=@"),
            "/v2/keys/a%20b/%C3%BC%3Fx%23y%2A%28z%29%21~$&+,:;=@"
        );
        assert_eq!(
            encode_values(&[
                ("value", "x y".into()),
                ("ttl", "5".into()),
                ("dir", "true".into())
            ]),
            "dir=true&ttl=5&value=x+y"
        );
        assert_eq!(encode_values(&[]), "");
    }
}
