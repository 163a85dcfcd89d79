//! Go's `time` formatting and parsing: `RFC3339Nano` timestamps (etcd's `expiration`, stats'
//! `startTime`), `Duration.String()` (stats' `uptime`) and `time.ParseDuration` (etcdctl's
//! `--timeout`). The clock itself is not here: the daemon stamps commands with its own `now()`.

/// Nanoseconds since the Unix epoch (UTC).
pub type UnixNanos = i64;

pub const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// Go's `RFC3339Nano` in UTC: `2013-12-04T12:01:21.874888581Z`, trailing fractional zeros
/// trimmed, no fraction at all when it is zero.
pub fn rfc3339_nano(t: UnixNanos) -> String {
    let secs = t.div_euclid(NANOS_PER_SECOND);
    let nanos = t.rem_euclid(NANOS_PER_SECOND);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    );
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

/// The timestamp etcd's log lines start with (capnslog: `2006-01-02 15:04:05.000000`), in UTC.
pub fn log_stamp(t: UnixNanos) -> String {
    let secs = t.div_euclid(NANOS_PER_SECOND);
    let micros = t.rem_euclid(NANOS_PER_SECOND) / 1000;
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{micros:06}",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// Go's `Duration.String()` for non-negative durations, e.g. `10m59.322358947s`, `1.5ms`, `0s`.
pub fn duration_string(nanos: i64) -> String {
    if nanos <= 0 {
        return "0s".to_string();
    }
    if nanos < NANOS_PER_SECOND {
        let (unit, div) = if nanos >= 1_000_000 {
            ("ms", 1_000_000)
        } else if nanos >= 1_000 {
            ("µs", 1_000)
        } else {
            ("ns", 1)
        };
        return format!("{}{unit}", trim_fraction(nanos, div));
    }
    let total_secs = nanos / NANOS_PER_SECOND;
    let h = total_secs / 3600;
    let m = (total_secs / 60) % 60;
    let s_nanos = nanos - (h * 3600 + m * 60) * NANOS_PER_SECOND;
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if h > 0 || m > 0 {
        out.push_str(&format!("{m}m"));
    }
    out.push_str(&trim_fraction(s_nanos, NANOS_PER_SECOND));
    out.push('s');
    out
}

/// Go's `time.ParseDuration` (`2s`, `1.5s`, `500ms`, `1m30s`, `-1h`, `0`), in nanoseconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let whole_len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let whole = &rest[..whole_len];
        rest = &rest[whole_len..];
        let mut frac = "";
        if let Some(r) = rest.strip_prefix('.') {
            let n = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            frac = &r[..n];
            rest = &r[n..];
        }
        if whole.is_empty() && frac.is_empty() {
            return None;
        }
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale: i128 = match &rest[..unit_len] {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        rest = &rest[unit_len..];
        let w: i128 = if whole.is_empty() {
            0
        } else {
            whole.parse().ok()?
        };
        total += w.checked_mul(scale)?;
        // Fraction digits beyond the unit's resolution are dropped, as Go does.
        let mut f_scale = scale;
        for d in frac.bytes() {
            f_scale /= 10;
            total += i128::from(d - b'0') * f_scale;
        }
        if total > i128::from(i64::MAX) {
            return None;
        }
    }
    i64::try_from(if neg { -total } else { total }).ok()
}

fn trim_fraction(value: i64, div: i64) -> String {
    let whole = value / div;
    let frac = value % div;
    if frac == 0 {
        return whole.to_string();
    }
    let width = div.to_string().len() - 1;
    let frac = format!("{frac:0width$}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// Days since 1970-01-01 to (year, month, day); Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Go: `time.Unix(0, n).UTC().Format(time.RFC3339Nano)`.
    #[test]
    fn formats_like_go_rfc3339nano() {
        assert_eq!(rfc3339_nano(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339_nano(1_795_908_058_413_911_798),
            "2026-11-28T23:20:58.413911798Z"
        );
        assert_eq!(
            rfc3339_nano(1_700_000_000_500_000_000),
            "2023-11-14T22:13:20.5Z"
        );
        assert_eq!(
            rfc3339_nano(951_782_400 * NANOS_PER_SECOND),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(rfc3339_nano(-1), "1969-12-31T23:59:59.999999999Z");
    }

    /// capnslog: `2006-01-02 15:04:05.000000`, microseconds truncated as Go's formatter does.
    #[test]
    fn formats_like_capnslog() {
        assert_eq!(
            log_stamp(1_795_908_058_413_911_798),
            "2026-11-28 23:20:58.413911"
        );
        assert_eq!(log_stamp(0), "1970-01-01 00:00:00.000000");
    }

    /// Go: `time.Duration(n).String()`.
    #[test]
    fn formats_like_go_duration() {
        assert_eq!(duration_string(0), "0s");
        assert_eq!(duration_string(1_047_395_768), "1.047395768s");
        assert_eq!(duration_string(659_322_358_947), "10m59.322358947s");
        assert_eq!(duration_string(3_600 * NANOS_PER_SECOND), "1h0m0s");
        assert_eq!(duration_string(1_500_000), "1.5ms");
        assert_eq!(duration_string(1_000), "1µs");
        assert_eq!(duration_string(999), "999ns");
    }

    /// Go: `time.ParseDuration(s)`.
    #[test]
    fn parses_like_go_duration() {
        assert_eq!(parse_duration("2s"), Some(2 * NANOS_PER_SECOND));
        assert_eq!(parse_duration("1.5s"), Some(1_500_000_000));
        assert_eq!(parse_duration("1m30s"), Some(90 * NANOS_PER_SECOND));
        assert_eq!(parse_duration("500ms"), Some(500_000_000));
        assert_eq!(parse_duration(".5s"), Some(500_000_000));
        assert_eq!(parse_duration("1h"), Some(3_600 * NANOS_PER_SECOND));
        assert_eq!(parse_duration("-1s"), Some(-NANOS_PER_SECOND));
        assert_eq!(parse_duration("0"), Some(0));
        assert_eq!(parse_duration("3µs"), Some(3_000));
        for bad in ["", "1x", "s", "1", ".s", "1.2.3s", "-"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
