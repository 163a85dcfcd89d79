//! THE request parser for `/v2/keys`: a [`Form`] and the method become a typed
//! [`KeyRequest`] — a read, a watch, or a write whose store operation is decided here, once,
//! with etcd's errors (etcd: v2http/client.go `parseKeyRequest`, and the `applierV2store`
//! dispatch of PUT, POST and DELETE).

use etcd_common::go::strconv::parse_bool;
use etcd_common::{ErrorCode, EtcdError};

use super::form::{Form, Method};
use crate::store::{ByteStr, Command, Op, path};
use crate::time::{NANOS_PER_SECOND, UnixNanos};

/// One `/v2/keys` request, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRequest {
    /// GET or HEAD without `wait`.
    Get {
        key: ByteStr,
        recursive: bool,
        sorted: bool,
        quorum: bool,
    },
    /// GET with `wait=true`.
    Watch {
        key: ByteStr,
        recursive: bool,
        stream: bool,
        wait_index: u64,
    },
    /// PUT, POST or DELETE.
    Write(Write),
}

/// A write: the store operation, still to be stamped with the proposer's clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    op: Op,
    ttl: Option<u64>,
    /// `noValueOnSuccess`: answer a successful set/create/update/CAS without the nodes.
    pub no_value_on_success: bool,
}

impl Write {
    /// The replicated command, with TTLs turned into absolute deadlines at `now` (etcd:
    /// v2http/client.go `rr.Expiration = clock.Now().Add(ttl)`). The value is moved, not copied.
    pub fn into_command(self, now: UnixNanos) -> Command {
        let expire_at = self.ttl.map(|t| {
            let t = i64::try_from(t).unwrap_or(i64::MAX);
            now.saturating_add(t.saturating_mul(NANOS_PER_SECOND))
        });
        let mut op = self.op;
        match &mut op {
            Op::Set { expire_at: e, .. }
            | Op::Create { expire_at: e, .. }
            | Op::Update { expire_at: e, .. }
            | Op::CompareAndSwap { expire_at: e, .. } => *e = expire_at,
            Op::Delete { .. } | Op::CompareAndDelete { .. } | Op::Expire | Op::Auth(_) => {}
        }
        Command { now, op }
    }

    /// The key written.
    pub fn key(&self) -> &[u8] {
        match &self.op {
            Op::Set { path, .. }
            | Op::Create { path, .. }
            | Op::Update { path, .. }
            | Op::CompareAndSwap { path, .. }
            | Op::Delete { path, .. }
            | Op::CompareAndDelete { path, .. } => path,
            Op::Expire | Op::Auth(_) => b"/",
        }
    }
}

fn invalid(code: ErrorCode, cause: &str) -> EtcdError {
    EtcdError::request(code, cause)
}

fn optional_bool(form: &Form, k: &str, cause: &str) -> Result<Option<bool>, EtcdError> {
    form.first(k)
        .map(|v| parse_bool(v).ok_or_else(|| invalid(ErrorCode::InvalidField, cause)))
        .transpose()
}

impl KeyRequest {
    /// etcd: `parseKeyRequest`. `key` is the decoded path after `/v2/keys`, as bytes. Every
    /// parameter is checked in etcd's order, whatever the method, so errors match etcd's.
    pub fn parse(
        method: Method,
        key: impl AsRef<[u8]>,
        mut form: Form,
    ) -> Result<KeyRequest, EtcdError> {
        let prev_index = form.uint("prevIndex", ErrorCode::IndexNaN)?;
        let wait_index = form.uint("waitIndex", ErrorCode::IndexNaN)?;
        let recursive = form.boolean("recursive")?;
        let sorted = form.boolean("sorted")?;
        let wait = form.boolean("wait")?;
        let dir = form.boolean("dir")?;
        // etcd 0.4's `consistent=true` asked for a read from the leader, the latest state; a
        // quorum read gives that. etcd 3.4 ignores the parameter, so a value that is not true
        // is ignored too, never an error.
        let consistent = form.first("consistent").and_then(parse_bool) == Some(true);
        let quorum = form.boolean("quorum")? || consistent;
        let stream = form.boolean("stream")?;
        if wait && method != Method::Get {
            return Err(invalid(
                ErrorCode::InvalidField,
                "\"wait\" can only be used with GET requests",
            ));
        }
        if form.has("prevValue") && form.is_empty("prevValue") {
            return Err(invalid(
                ErrorCode::PrevValueRequired,
                "\"prevValue\" cannot be empty",
            ));
        }
        let no_value_on_success = form.boolean("noValueOnSuccess")?;
        let ttl = match form.is_empty("ttl") {
            true => None,
            false => Some(form.uint("ttl", ErrorCode::TtlNaN)?),
        };
        let prev_exist = optional_bool(&form, "prevExist", "invalid value for prevExist")?;
        let refresh =
            optional_bool(&form, "refresh", "invalid value for refresh")?.unwrap_or(false);
        if refresh {
            if !form.is_empty("value") {
                return Err(invalid(
                    ErrorCode::RefreshValue,
                    "A value was provided on a refresh",
                ));
            }
            if ttl.is_none() {
                return Err(invalid(ErrorCode::RefreshTtlRequired, "No TTL value set"));
            }
        }
        let key = path::clean(key.as_ref());
        let compare = Compare {
            prev_value: form.take("prevValue"),
            prev_index,
        };
        let value = form.take("value");
        let op = match method {
            Method::Get | Method::Head if wait => {
                return Ok(KeyRequest::Watch {
                    key,
                    recursive,
                    stream,
                    wait_index,
                });
            }
            Method::Get | Method::Head => {
                return Ok(KeyRequest::Get {
                    key,
                    recursive,
                    sorted,
                    quorum,
                });
            }
            Method::Post => Op::Create {
                path: key,
                dir,
                value,
                unique: true,
                expire_at: None,
            },
            Method::Delete => compare.delete(key, dir, recursive),
            Method::Put => compare.put(key, value, dir, prev_exist, refresh),
        };
        Ok(KeyRequest::Write(Write {
            op,
            ttl,
            no_value_on_success,
        }))
    }
}

/// `prevValue` and `prevIndex`: which of etcd's writes a PUT or DELETE is.
struct Compare {
    prev_value: ByteStr,
    prev_index: u64,
}

impl Compare {
    fn any(&self) -> bool {
        self.prev_index > 0 || !self.prev_value.is_empty()
    }

    fn delete(self, path: ByteStr, dir: bool, recursive: bool) -> Op {
        if self.any() {
            Op::CompareAndDelete {
                path,
                prev_value: self.prev_value,
                prev_index: self.prev_index,
            }
        } else {
            Op::Delete {
                path,
                dir,
                recursive,
            }
        }
    }

    fn put(
        self,
        path: ByteStr,
        value: ByteStr,
        dir: bool,
        prev_exist: Option<bool>,
        refresh: bool,
    ) -> Op {
        match prev_exist {
            Some(true) if !self.any() => Op::Update {
                path,
                value,
                expire_at: None,
                refresh,
            },
            Some(false) => Op::Create {
                path,
                dir,
                value,
                unique: false,
                expire_at: None,
            },
            _ if self.any() => Op::CompareAndSwap {
                path,
                prev_value: self.prev_value,
                prev_index: self.prev_index,
                value,
                expire_at: None,
                refresh,
            },
            _ => Op::Set {
                path,
                dir,
                value,
                expire_at: None,
                refresh,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::form::{Body, parse_form};
    use super::*;

    fn req(method: Method, q: &str, body: &str) -> Result<KeyRequest, EtcdError> {
        let form = parse_form(
            method,
            Some(q),
            Some("application/x-www-form-urlencoded"),
            Body::Read(body.as_bytes()),
        )?;
        KeyRequest::parse(method, "/foo", form)
    }

    fn op(r: KeyRequest, now: UnixNanos) -> Op {
        match r {
            KeyRequest::Write(w) => w.into_command(now).op,
            other => panic!("not a write: {other:?}"),
        }
    }

    #[test]
    fn body_wins_over_query() {
        let r = req(Method::Put, "value=q", "value=b+c%21").unwrap();
        match op(r, 0) {
            Op::Set { value, .. } => assert_eq!(value, "b c!"),
            other => panic!("{other:?}"),
        }
    }

    /// Go's form values are bytes: `%FE` and `%FF` (and raw bytes in a body) stay apart.
    #[test]
    fn values_and_keys_keep_invalid_utf8_bytes() {
        let r = req(Method::Put, "prevValue=%FF", "value=%FE").unwrap();
        match op(r, 0) {
            Op::CompareAndSwap {
                prev_value, value, ..
            } => {
                assert_eq!(prev_value.as_bytes(), b"\xFF");
                assert_eq!(value.as_bytes(), b"\xFE");
            }
            other => panic!("{other:?}"),
        }
        let form = parse_form(
            Method::Put,
            None,
            Some("application/x-www-form-urlencoded"),
            Body::Read(b"value=a\xE2\x82"),
        )
        .unwrap();
        match op(
            KeyRequest::parse(Method::Put, b"/k\xFE/../j\xFF", form).unwrap(),
            0,
        ) {
            Op::Set { path, value, .. } => {
                assert_eq!(path.as_bytes(), b"/j\xFF");
                assert_eq!(value.as_bytes(), b"a\xE2\x82");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            req(Method::Put, "ttl=%FF", "").unwrap_err().code,
            ErrorCode::TtlNaN
        );
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
    fn bodies_too_large_or_broken_are_form_errors() {
        let form = |b| {
            parse_form(
                Method::Put,
                None,
                Some("application/x-www-form-urlencoded"),
                b,
            )
        };
        assert_eq!(
            form(Body::TooLarge).unwrap_err(),
            EtcdError::request(ErrorCode::InvalidForm, "http: POST too large")
        );
        assert_eq!(
            form(Body::Broken("unexpected EOF")).unwrap_err(),
            EtcdError::request(ErrorCode::InvalidForm, "unexpected EOF")
        );
    }

    #[test]
    fn reads_and_watches_are_not_writes() {
        assert!(matches!(
            req(Method::Get, "quorum=true", "").unwrap(),
            KeyRequest::Get { quorum: true, .. }
        ));
        assert!(matches!(
            req(Method::Head, "", "").unwrap(),
            KeyRequest::Get { quorum: false, .. }
        ));
        assert!(matches!(
            req(Method::Get, "consistent=true", "").unwrap(),
            KeyRequest::Get { quorum: true, .. }
        ));
        assert!(matches!(
            req(Method::Get, "consistent=maybe", "").unwrap(),
            KeyRequest::Get { quorum: false, .. }
        ));
        assert!(matches!(
            req(Method::Get, "wait=true&waitIndex=7&stream=true", "").unwrap(),
            KeyRequest::Watch {
                wait_index: 7,
                stream: true,
                ..
            }
        ));
    }

    #[test]
    fn empty_ttl_is_no_ttl_and_commands_dispatch_like_etcd() {
        let r = req(Method::Put, "ttl=&prevExist=true", "value=v").unwrap();
        assert!(matches!(
            op(r, 0),
            Op::Update {
                expire_at: None,
                ..
            }
        ));
        let r = req(Method::Put, "prevIndex=0", "value=v").unwrap();
        assert!(matches!(op(r, 0), Op::Set { .. }));
        let r = req(Method::Put, "prevValue=a&prevExist=true", "value=v").unwrap();
        assert!(matches!(op(r, 0), Op::CompareAndSwap { .. }));
        let r = req(Method::Delete, "prevIndex=3", "").unwrap();
        assert!(matches!(op(r, 0), Op::CompareAndDelete { .. }));
        let r = req(Method::Post, "", "value=v").unwrap();
        assert!(matches!(op(r, 0), Op::Create { unique: true, .. }));
        let r = req(Method::Put, "ttl=5", "value=v").unwrap();
        match op(r, 10) {
            Op::Set { expire_at, .. } => assert_eq!(expire_at, Some(10 + 5 * NANOS_PER_SECOND)),
            other => panic!("{other:?}"),
        }
    }
}
