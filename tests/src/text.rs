//! Text helpers: Go's RFC 3339 times as etcd prints expirations, and the normalisation that
//! makes two servers' transcripts comparable although their indexes differ.

/// Whether `s` is an RFC 3339 time in UTC with nanoseconds as Go's `time.RFC3339Nano` prints
/// it: `2006-01-02T15:04:05.999999999Z` (trailing zeros of the fraction dropped).
pub fn is_rfc3339_nano(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|x| x.iter().all(u8::is_ascii_digit));
    if b.len() < 20 || !s.ends_with('Z') {
        return false;
    }
    let fixed = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let frac = &s[19..s.len() - 1];
    fixed
        && (frac.is_empty()
            || (frac.starts_with('.')
                && (2..=10).contains(&frac.len())
                && frac[1..].bytes().all(|c| c.is_ascii_digit())
                && !frac.ends_with('0')))
}

/// Makes two servers' transcripts comparable: every index number (`createdIndex`,
/// `modifiedIndex`, `"index"`, `X-Etcd-Index`, in-order key names, the `[a/b]` of a 401 cause)
/// becomes `#n`, numbered by first appearance, so equal indexes stay equal and the order in
/// which they appear must match; expirations become `<exp>` and remaining TTLs `<ttl>`.
/// Use one `Normaliser` per server and feed it the transcript in order.
#[derive(Debug, Default)]
pub struct Normaliser {
    seen: std::collections::HashMap<u64, usize>,
}

impl Normaliser {
    pub fn new() -> Normaliser {
        Normaliser::default()
    }

    fn id(&mut self, n: u64) -> String {
        let next = self.seen.len();
        format!("#{}", self.seen.entry(n).or_insert(next))
    }

    pub fn normalise(&mut self, s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        const NUMBERED: [&str; 5] = [
            "\"createdIndex\":",
            "\"modifiedIndex\":",
            "\"index\":",
            "X-Etcd-Index: ",
            "x-etcd-index: ",
        ];
        while !rest.is_empty() {
            if let Some(p) = NUMBERED.iter().find(|p| rest.starts_with(**p)) {
                out.push_str(p);
                rest = &rest[p.len()..];
                let end = rest
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(rest.len());
                if let Ok(n) = rest[..end].parse() {
                    out.push_str(&self.id(n));
                }
                rest = &rest[end..];
            } else if let Some(r) = rest.strip_prefix("\"expiration\":\"") {
                out.push_str("\"expiration\":\"<exp>");
                rest = &r[r.find('"').unwrap_or(r.len())..];
            } else if let Some(r) = rest.strip_prefix("\"ttl\":") {
                out.push_str("\"ttl\":<ttl>");
                let end = r
                    .find(|c: char| !(c.is_ascii_digit() || c == '-'))
                    .unwrap_or(r.len());
                rest = &r[end..];
            } else if rest.starts_with('/')
                && rest.len() > 20
                && rest.as_bytes()[1..21].iter().all(u8::is_ascii_digit)
                && !rest.as_bytes().get(21).is_some_and(u8::is_ascii_digit)
            {
                let n = rest[1..21].parse().unwrap_or(0);
                out.push('/');
                out.push_str(&self.id(n));
                rest = &rest[21..];
            } else if rest.starts_with("history has been cleared [") {
                let p = "history has been cleared [";
                out.push_str(p);
                rest = &rest[p.len()..];
                for sep in ['/', ']'] {
                    let end = rest.find(sep).unwrap_or(rest.len());
                    match rest[..end].parse() {
                        Ok(n) => out.push_str(&self.id(n)),
                        Err(_) => out.push_str(&rest[..end]),
                    }
                    rest = &rest[end..];
                    if let Some(r) = rest.strip_prefix(sep) {
                        out.push(sep);
                        rest = r;
                    }
                }
            } else {
                let c = rest.chars().next().expect("non-empty");
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normaliser_maps_indexes_consistently() {
        let mut n = Normaliser::new();
        let a = n.normalise(
            r#"X-Etcd-Index: 9 {"key":"/q/00000000000000000009","ttl":4,"expiration":"2026-01-01T00:00:00.5Z","modifiedIndex":9,"createdIndex":7,"index":12}"#,
        );
        assert_eq!(
            a,
            r#"X-Etcd-Index: #0 {"key":"/q/#0","ttl":<ttl>,"expiration":"<exp>","modifiedIndex":#0,"createdIndex":#1,"index":#2}"#
        );
        let b = n.normalise(r#""cause":"the requested history has been cleared [1010/4]""#);
        assert_eq!(
            b,
            r#""cause":"the requested history has been cleared [#3/#4]""#
        );
    }

    #[test]
    fn rfc3339_nano() {
        assert!(is_rfc3339_nano("2026-11-23T01:05:01.506843169Z"));
        assert!(is_rfc3339_nano("2026-11-23T01:05:01.5Z"));
        assert!(is_rfc3339_nano("2026-11-23T01:05:01Z"));
        assert!(!is_rfc3339_nano("2026-11-23T01:05:01.50Z"));
        assert!(!is_rfc3339_nano("2026-11-23 01:05:01Z"));
        assert!(!is_rfc3339_nano("2026-11-23T01:05:01+00:00"));
    }
}

/// Nanoseconds since the Unix epoch of an RFC 3339 UTC time (`…Z`), as etcd prints expirations.
pub fn rfc3339_unix_nanos(s: &str) -> Option<i128> {
    if !is_rfc3339_nano(s) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss) = (n(11..13)?, n(14..16)?, n(17..19)?);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    let secs = days * 86400 + hh * 3600 + mm * 60 + ss;
    let frac = &s[19..s.len() - 1];
    let nanos = if frac.is_empty() {
        0
    } else {
        format!("{:0<9}", &frac[1..]).parse::<i128>().ok()?
    };
    Some(i128::from(secs) * 1_000_000_000 + nanos)
}

/// Now, in nanoseconds since the Unix epoch.
pub fn unix_nanos_now() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

/// Replace the value of every `"expiration":"…"` with `<exp>` (after checking its format).
pub fn mask_expirations(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    let pat = "\"expiration\":\"";
    while let Some(i) = rest.find(pat) {
        out.push_str(&rest[..i + pat.len()]);
        rest = &rest[i + pat.len()..];
        let end = rest.find('"').unwrap_or(rest.len());
        assert!(
            is_rfc3339_nano(&rest[..end]),
            "expiration {:?} is not RFC3339Nano UTC",
            &rest[..end]
        );
        out.push_str("<exp>");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod time_tests {
    use super::*;

    #[test]
    fn parses_rfc3339() {
        assert_eq!(
            rfc3339_unix_nanos("1970-01-01T00:00:01.5Z"),
            Some(1_500_000_000)
        );
        assert_eq!(
            rfc3339_unix_nanos("2026-11-23T01:11:19.179800887Z"),
            Some(1_795_396_279_179_800_887)
        );
        assert_eq!(
            mask_expirations(r#"{"expiration":"2026-11-23T01:11:19Z","ttl":1}"#),
            r#"{"expiration":"<exp>","ttl":1}"#
        );
    }
}
