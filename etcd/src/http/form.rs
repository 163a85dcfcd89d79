//! Go's `Request.ParseForm`, as etcd's handlers see it: the query string and a form body merged
//! into one [`Form`], with Go's errors. `request.rs` turns a form into a typed request.

use etcd_common::go::strconv::parse_bool;
use etcd_common::{ErrorCode, EtcdError};

use crate::store::ByteStr;

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

/// Form values as Go's `r.Form` holds them: body values first, then query values. Values are
/// the decoded bytes (Go strings): `%FE` and `%FF` stay two values.
#[derive(Debug, Default)]
pub struct Form {
    pairs: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Form {
    fn first_bytes(&self, k: &str) -> Option<&[u8]> {
        self.pairs
            .iter()
            .find(|(key, _)| key == k.as_bytes())
            .map(|(_, v)| v.as_slice())
    }

    /// The first value of `k` as text; a value that is not UTF-8 is never a valid number or
    /// boolean, so it is handed on as something that fails to parse as either.
    pub(super) fn first(&self, k: &str) -> Option<&str> {
        self.first_bytes(k)
            .map(|v| std::str::from_utf8(v).unwrap_or("\u{FFFD}"))
    }

    /// The first value of `k`, moved out (later lookups of `k` see the next one, if any).
    pub(super) fn take(&mut self, k: &str) -> ByteStr {
        match self.pairs.iter().position(|(key, _)| key == k.as_bytes()) {
            Some(i) => ByteStr::from(self.pairs.swap_remove(i).1),
            None => ByteStr::new(),
        }
    }

    pub(super) fn has(&self, k: &str) -> bool {
        self.first_bytes(k).is_some()
    }

    /// Whether `k` is absent or empty (Go's `r.FormValue(k) == ""`).
    pub(super) fn is_empty(&self, k: &str) -> bool {
        self.first_bytes(k).is_none_or(|v| v.is_empty())
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

/// Go's `url.ParseQuery`, on bytes as Go's strings are: every good pair is kept; the first
/// problem is reported.
fn parse_query(s: &[u8], out: &mut Vec<(Vec<u8>, Vec<u8>)>) -> Result<(), String> {
    let mut err = None;
    for part in s.split(|b| *b == b'&') {
        if part.contains(&b';') {
            err.get_or_insert_with(|| "invalid semicolon separator in query".to_string());
            continue;
        }
        if part.is_empty() {
            continue;
        }
        let (k, v) = match part.iter().position(|b| *b == b'=') {
            Some(i) => (&part[..i], &part[i + 1..]),
            None => (part, &b""[..]),
        };
        match (unescape(k, true), unescape(v, true)) {
            (Ok(k), Ok(v)) => out.push((k, v)),
            (Err(e), _) | (_, Err(e)) => {
                err.get_or_insert(e);
            }
        }
    }
    err.map_or(Ok(()), Err)
}

/// Percent-decoding (Go's `url.QueryUnescape` with `plus_is_space`, else `PathUnescape`): the
/// bytes as sent, valid UTF-8 or not.
pub fn unescape(s: impl AsRef<[u8]>, plus_is_space: bool) -> Result<Vec<u8>, String> {
    let b = s.as_ref();
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
                    if let Err(e) = parse_query(b, &mut form.pairs) {
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
    if let Err(e) = parse_query(query.unwrap_or("").as_bytes(), &mut form.pairs)
        && err.is_none()
    {
        err = Some(e);
    }
    match err {
        Some(e) => Err(EtcdError::request(ErrorCode::InvalidForm, e)),
        None => Ok(form),
    }
}

/// Reads a request's body as Go's `ParseForm` would (at most [`MAX_FORM_SIZE`]) and parses the
/// form from it and the query.
pub async fn read_form(
    method: Method,
    parts: &axum::http::request::Parts,
    body: axum::body::Body,
) -> Result<Form, EtcdError> {
    let read = axum::body::to_bytes(body, MAX_FORM_SIZE + 1).await;
    let broken;
    let body = match &read {
        Ok(b) if b.len() > MAX_FORM_SIZE => Body::TooLarge,
        Ok(b) => Body::Read(b),
        Err(e) if is_length_limit(e) => Body::TooLarge,
        Err(e) => {
            broken = e.to_string();
            Body::Broken(&broken)
        }
    };
    let content_type = parts
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    parse_form(method, parts.uri.query(), content_type, body)
}

/// Whether reading the body stopped at the size limit (rather than the client going away).
fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}
