//! THE request parser for `/v2/keys`: query string and form body to a typed [`KeyRequest`],
//! with etcd's errors (etcd: v2http/client.go `parseKeyRequest`, Go's `Request.ParseForm`).

use etcd_common::go::strconv::parse_bool;
use etcd_common::{ErrorCode, EtcdError};

use crate::store::{Command, Op, path};
use crate::time::{NANOS_PER_SECOND, UnixNanos};

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

/// One `/v2/keys` request, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRequest {
    pub method: Method,
    /// Clean absolute key.
    pub key: String,
    pub value: String,
    pub dir: bool,
    pub prev_value: String,
    pub prev_index: u64,
    pub prev_exist: Option<bool>,
    pub wait: bool,
    pub wait_index: u64,
    pub recursive: bool,
    pub sorted: bool,
    pub quorum: bool,
    pub stream: bool,
    pub ttl: Option<u64>,
    pub refresh: bool,
    pub no_value_on_success: bool,
}

/// Form values as Go's `r.Form` holds them: body values first, then query values.
#[derive(Debug, Default)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    fn first(&self, k: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }

    fn has(&self, k: &str) -> bool {
        self.first(k).is_some()
    }

    fn value(&self, k: &str) -> &str {
        self.first(k).unwrap_or("")
    }

    fn uint(&self, k: &str, code: ErrorCode) -> Result<u64, EtcdError> {
        match self.first(k) {
            None => Ok(0),
            Some(v) => v
                .parse::<u64>()
                .map_err(|_| EtcdError::request(code, format!("invalid value for \"{k}\""))),
        }
    }

    fn boolean(&self, k: &str) -> Result<bool, EtcdError> {
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
    body: &[u8],
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
            if body.len() > MAX_FORM_SIZE {
                err = Some("http: POST too large".to_string());
            } else {
                let text = String::from_utf8_lossy(body);
                if let Err(e) = parse_query(&text, &mut form.pairs) {
                    err = Some(e);
                }
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

impl KeyRequest {
    /// etcd: `parseKeyRequest`. `key` is the decoded path after `/v2/keys`.
    pub fn parse(method: Method, key: &str, form: &Form) -> Result<KeyRequest, EtcdError> {
        let prev_index = form.uint("prevIndex", ErrorCode::IndexNaN)?;
        let wait_index = form.uint("waitIndex", ErrorCode::IndexNaN)?;
        let recursive = form.boolean("recursive")?;
        let sorted = form.boolean("sorted")?;
        let wait = form.boolean("wait")?;
        let dir = form.boolean("dir")?;
        let quorum = form.boolean("quorum")?;
        let stream = form.boolean("stream")?;
        if wait && method != Method::Get {
            return Err(EtcdError::request(
                ErrorCode::InvalidField,
                "\"wait\" can only be used with GET requests",
            ));
        }
        let prev_value = form.value("prevValue").to_string();
        if form.has("prevValue") && prev_value.is_empty() {
            return Err(EtcdError::request(
                ErrorCode::PrevValueRequired,
                "\"prevValue\" cannot be empty",
            ));
        }
        let no_value_on_success = form.boolean("noValueOnSuccess")?;
        let ttl = match form.value("ttl") {
            "" => None,
            _ => Some(form.uint("ttl", ErrorCode::TtlNaN)?),
        };
        let prev_exist = match form.first("prevExist") {
            None => None,
            Some(v) => Some(parse_bool(v).ok_or_else(|| {
                EtcdError::request(ErrorCode::InvalidField, "invalid value for prevExist")
            })?),
        };
        let refresh = match form.first("refresh") {
            None => false,
            Some(v) => {
                let r = parse_bool(v).ok_or_else(|| {
                    EtcdError::request(ErrorCode::InvalidField, "invalid value for refresh")
                })?;
                if r {
                    if !form.value("value").is_empty() {
                        return Err(EtcdError::request(
                            ErrorCode::RefreshValue,
                            "A value was provided on a refresh",
                        ));
                    }
                    if ttl.is_none() {
                        return Err(EtcdError::request(
                            ErrorCode::RefreshTtlRequired,
                            "No TTL value set",
                        ));
                    }
                }
                r
            }
        };
        Ok(KeyRequest {
            method,
            key: path::clean(key),
            value: form.value("value").to_string(),
            dir,
            prev_value,
            prev_index,
            prev_exist,
            wait,
            wait_index,
            recursive,
            sorted,
            quorum,
            stream,
            ttl,
            refresh,
            no_value_on_success,
        })
    }

    /// The replicated command for a write, stamped with `now` (etcd: `applierV2store` Put,
    /// Post and Delete dispatch). `None` for reads.
    pub fn to_command(&self, now: UnixNanos) -> Option<Command> {
        let expire_at = self.ttl.map(|t| {
            let t = i64::try_from(t).unwrap_or(i64::MAX);
            now.saturating_add(t.saturating_mul(NANOS_PER_SECOND))
        });
        let path = self.key.clone();
        let op = match self.method {
            Method::Get | Method::Head => return None,
            Method::Post => Op::Create {
                path,
                dir: self.dir,
                value: self.value.clone(),
                unique: true,
                expire_at,
            },
            Method::Delete => {
                if self.prev_index > 0 || !self.prev_value.is_empty() {
                    Op::CompareAndDelete {
                        path,
                        prev_value: self.prev_value.clone(),
                        prev_index: self.prev_index,
                    }
                } else {
                    Op::Delete {
                        path,
                        dir: self.dir,
                        recursive: self.recursive,
                    }
                }
            }
            Method::Put => {
                let compare = self.prev_index > 0 || !self.prev_value.is_empty();
                match self.prev_exist {
                    Some(true) if !compare => Op::Update {
                        path,
                        value: self.value.clone(),
                        expire_at,
                        refresh: self.refresh,
                    },
                    Some(false) => Op::Create {
                        path,
                        dir: self.dir,
                        value: self.value.clone(),
                        unique: false,
                        expire_at,
                    },
                    _ if compare => Op::CompareAndSwap {
                        path,
                        prev_value: self.prev_value.clone(),
                        prev_index: self.prev_index,
                        value: self.value.clone(),
                        expire_at,
                        refresh: self.refresh,
                    },
                    _ => Op::Set {
                        path,
                        dir: self.dir,
                        value: self.value.clone(),
                        expire_at,
                        refresh: self.refresh,
                    },
                }
            }
        };
        Some(Command { now, op })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: Method, q: &str, body: &str) -> Result<KeyRequest, EtcdError> {
        let form = parse_form(
            method,
            Some(q),
            Some("application/x-www-form-urlencoded"),
            body.as_bytes(),
        )?;
        KeyRequest::parse(method, "/foo", &form)
    }

    #[test]
    fn body_wins_over_query() {
        let r = req(Method::Put, "value=q", "value=b+c%21").unwrap();
        assert_eq!(r.value, "b c!");
    }

    #[test]
    fn errors_match_etcd() {
        let e = |m, q| req(m, q, "").unwrap_err();
        assert_eq!(
            e(Method::Put, "ttl=abc"),
            EtcdError::request(ErrorCode::TtlNaN, "invalid value for \"ttl\"")
        );
        assert_eq!(
            e(Method::Get, "waitIndex=x"),
            EtcdError::request(ErrorCode::IndexNaN, "invalid value for \"waitIndex\"")
        );
        assert_eq!(
            e(Method::Get, "recursive=yes"),
            EtcdError::request(ErrorCode::InvalidField, "invalid value for \"recursive\"")
        );
        assert_eq!(
            e(Method::Put, "wait=true"),
            EtcdError::request(
                ErrorCode::InvalidField,
                "\"wait\" can only be used with GET requests"
            )
        );
        assert_eq!(
            e(Method::Put, "prevValue=").code,
            ErrorCode::PrevValueRequired
        );
        assert_eq!(
            e(Method::Put, "refresh=true&value=x&ttl=1").code,
            ErrorCode::RefreshValue
        );
        assert_eq!(
            e(Method::Put, "refresh=true").code,
            ErrorCode::RefreshTtlRequired
        );
        assert_eq!(
            e(Method::Get, "a=%zz"),
            EtcdError::request(ErrorCode::InvalidForm, "invalid URL escape \"%zz\"")
        );
    }

    #[test]
    fn empty_ttl_is_no_ttl_and_commands_dispatch_like_etcd() {
        let r = req(Method::Put, "ttl=&prevExist=true", "value=v").unwrap();
        assert_eq!(r.ttl, None);
        assert!(matches!(r.to_command(0).unwrap().op, Op::Update { .. }));
        let r = req(Method::Put, "prevIndex=0", "value=v").unwrap();
        assert!(matches!(r.to_command(0).unwrap().op, Op::Set { .. }));
        let r = req(Method::Put, "prevValue=a&prevExist=true", "value=v").unwrap();
        assert!(matches!(
            r.to_command(0).unwrap().op,
            Op::CompareAndSwap { .. }
        ));
        let r = req(Method::Delete, "prevIndex=3", "").unwrap();
        assert!(matches!(
            r.to_command(0).unwrap().op,
            Op::CompareAndDelete { .. }
        ));
        let r = req(Method::Put, "ttl=5", "value=v").unwrap();
        match r.to_command(10).unwrap().op {
            Op::Set { expire_at, .. } => assert_eq!(expire_at, Some(10 + 5 * NANOS_PER_SECOND)),
            other => panic!("{other:?}"),
        }
    }
}
