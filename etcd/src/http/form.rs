//! Go's `Request.ParseForm`, as etcd's handlers see it: the query string and a form body merged
//! into one [`Form`], with Go's errors. `request.rs` turns a form into a typed request.

use etcd_common::go::strconv::parse_bool;
use etcd_common::{ErrorCode, EtcdError};

/// Go's `http.maxFormSize`: a larger form body is refused with "http: POST too large".
pub const MAX_FORM_SIZE: usize = 10 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Put,
    Post,
    Delete,
}

impl Method {
    pub fn parse(m: &str) -> Option<Method> {
        Some(match m {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "PUT" => Method::Put,
            "POST" => Method::Post,
            "DELETE" => Method::Delete,
            _ => return None,
        })
    }
}

/// A request body as the handler could read it.
#[derive(Debug, Clone, Copy)]
pub enum Body<'a> {
    Read(&'a [u8]),
    /// Longer than a form may be ([`MAX_FORM_SIZE`]); not read further.
    TooLarge,
    /// Reading failed part way (the client went away, a bad chunk): Go reports the read error.
    Broken(&'a str),
}

/// Form values as Go's `r.Form` holds them: body values first, then query values.
#[derive(Debug, Default)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    pub(super) fn first(&self, k: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `k`, moved out (later lookups of `k` see the next one, if any).
    pub(super) fn take(&mut self, k: &str) -> String {
        match self.pairs.iter().position(|(key, _)| key == k) {
            Some(i) => self.pairs.swap_remove(i).1,
            None => String::new(),
        }
    }

    pub(super) fn has(&self, k: &str) -> bool {
        self.first(k).is_some()
    }

    pub(super) fn value(&self, k: &str) -> &str {
        self.first(k).unwrap_or("")
    }

    pub(super) fn uint(&self, k: &str, code: ErrorCode) -> Result<u64, EtcdError> {
        match self.first(k) {
            None => Ok(0),
            Some(v) => v
                .parse::<u64>()
                .map_err(|_| EtcdError::request(code, format!("invalid value for \"{k}\""))),
        }
    }

    pub(super) fn boolean(&self, k: &str) -> Result<bool, EtcdError> {
        match self.first(k) {
            None => Ok(false),
            Some(v) => parse_bool(v).ok_or_else(|| {
                EtcdError::request(
                    ErrorCode::InvalidField,
                    format!("invalid value for \"{k}\""),
                )
            }),
        }
    }
}

/// Go's `url.ParseQuery`: every good pair is kept; the first problem is reported.
fn parse_query(s: &str, out: &mut Vec<(String, String)>) -> Result<(), String> {
    let mut err = None;
    for part in s.split('&') {
        if part.contains(';') {
            err.get_or_insert_with(|| "invalid semicolon separator in query".to_string());
            continue;
        }
        if part.is_empty() {
            continue;
        }
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        match (query_unescape(k), query_unescape(v)) {
            (Ok(k), Ok(v)) => out.push((k, v)),
            (Err(e), _) | (_, Err(e)) => {
                err.get_or_insert(e);
            }
        }
    }
    err.map_or(Ok(()), Err)
}

/// Go's `url.QueryUnescape` (`+` is a space); invalid UTF-8 is kept as U+FFFD, which is what
/// Go's JSON encoder would print for those bytes anyway.
fn query_unescape(s: &str) -> Result<String, String> {
    unescape(s, true).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Percent-decoding; `plus_is_space` for query strings.
pub fn unescape(s: &str, plus_is_space: bool) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (
                    b.get(i + 1).and_then(|c| hex(*c)),
                    b.get(i + 2).and_then(|c| hex(*c)),
                ) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                    }
                    _ => {
                        let end = (i + 3).min(b.len());
                        let bad = String::from_utf8_lossy(&b[i..end]);
                        return Err(format!("invalid URL escape {bad:?}"));
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Go's `Request.ParseForm` for our purposes: the body counts only for POST and PUT with a
/// form content type.
pub fn parse_form(
    method: Method,
    query: Option<&str>,
    content_type: Option<&str>,
    body: Body<'_>,
) -> Result<Form, EtcdError> {
    let mut form = Form::default();
    let mut err = None;
    if matches!(method, Method::Post | Method::Put) {
        let media = content_type
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if media == "application/x-www-form-urlencoded" {
            match body {
                Body::Read(b) if b.len() <= MAX_FORM_SIZE => {
                    let text = String::from_utf8_lossy(b);
                    if let Err(e) = parse_query(&text, &mut form.pairs) {
                        err = Some(e);
                    }
                }
                Body::Read(_) | Body::TooLarge => {
                    err = Some("http: POST too large".to_string());
                }
                Body::Broken(e) => err = Some(e.to_string()),
            }
        }
    }
    if let Err(e) = parse_query(query.unwrap_or(""), &mut form.pairs)
        && err.is_none()
    {
        err = Some(e);
    }
    match err {
        Some(e) => Err(EtcdError::request(ErrorCode::InvalidForm, e)),
        None => Ok(form),
    }
}
