//! Request bodies of the auth API, decoded as Go's `json.Decoder` decodes them into etcd's
//! `User` and `Role`: the first JSON value only (trailing bytes ignored), field names matched
//! case-insensitively, `null` leaving a field at its zero value, a wrong type an error. Go's
//! nil-vs-empty slices are kept (`Option<Vec>`), because responses echo them.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::store::auth::{Permissions, RwPermission};

/// etcd's `User` as a client sends it.
pub struct UserRequest {
    pub user: String,
    pub password: String,
    pub roles: Option<Vec<String>>,
    pub grant: Vec<String>,
    pub revoke: Vec<String>,
}

/// etcd's `Role` as a client sends it; serialised back when a create echoes it.
#[derive(Serialize)]
pub struct RoleRequest {
    pub role: String,
    pub permissions: Permissions,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant: Option<Permissions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoke: Option<Permissions>,
}

/// The first JSON value of the body, as an object (or `None` for JSON `null`).
fn first_object(body: &[u8]) -> Result<Option<Map<String, Value>>, ()> {
    let mut values = serde_json::Deserializer::from_slice(body).into_iter::<Value>();
    match values.next() {
        Some(Ok(Value::Object(m))) => Ok(Some(m)),
        Some(Ok(Value::Null)) => Ok(None),
        _ => Err(()),
    }
}

/// Go's field lookup: the exact name, else any name equal under ASCII case folding.
fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

fn string(obj: &Map<String, Value>, name: &str) -> Result<String, ()> {
    match field(obj, name) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(()),
    }
}

fn list(v: Option<&Value>) -> Result<Option<Vec<String>>, ()> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                Value::Null => Ok(String::new()),
                _ => Err(()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(()),
    }
}

fn permissions(v: Option<&Value>) -> Result<Option<Permissions>, ()> {
    let obj = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(()),
    };
    let kv = match field(obj, "kv") {
        None | Some(Value::Null) => RwPermission::default(),
        Some(Value::Object(kv)) => RwPermission {
            read: list(field(kv, "read"))?,
            write: list(field(kv, "write"))?,
        },
        Some(_) => return Err(()),
    };
    Ok(Some(Permissions { kv }))
}

impl UserRequest {
    /// `None`: etcd's "Invalid JSON in request body."
    pub fn decode(body: &[u8]) -> Option<UserRequest> {
        let obj = first_object(body).ok()?.unwrap_or_default();
        Some(UserRequest {
            user: string(&obj, "user").ok()?,
            password: string(&obj, "password").ok()?,
            roles: list(field(&obj, "roles")).ok()?,
            grant: list(field(&obj, "grant")).ok()?.unwrap_or_default(),
            revoke: list(field(&obj, "revoke")).ok()?.unwrap_or_default(),
        })
    }
}

impl RoleRequest {
    pub fn decode(body: &[u8]) -> Option<RoleRequest> {
        let obj = first_object(body).ok()?.unwrap_or_default();
        Some(RoleRequest {
            role: string(&obj, "role").ok()?,
            permissions: permissions(field(&obj, "permissions"))
                .ok()?
                .unwrap_or_default(),
            grant: permissions(field(&obj, "grant")).ok()?,
            revoke: permissions(field(&obj, "revoke")).ok()?,
        })
    }
}

impl Permissions {
    /// etcd: `Permissions.IsEmpty`.
    pub fn is_empty(&self) -> bool {
        self.kv.read.as_ref().is_none_or(Vec::is_empty)
            && self.kv.write.as_ref().is_none_or(Vec::is_empty)
    }
}

/// etcd: `Role.merge` — grants (a duplicate is refused with the message returned), then
/// revokes (an ungranted one is ignored); each touched list comes out sorted, never nil.
pub fn merge_permissions(
    old: &Permissions,
    grant: Option<&Permissions>,
    revoke: Option<&Permissions>,
) -> Result<Permissions, String> {
    let mut kv = old.kv.clone();
    if let Some(g) = grant {
        kv.read = Some(granted(&kv.read, &g.kv.read, "read")?);
        kv.write = Some(granted(&kv.write, &g.kv.write, "write")?);
    }
    if let Some(r) = revoke {
        kv.read = Some(revoked(&kv.read, &r.kv.read));
        kv.write = Some(revoked(&kv.write, &r.kv.write));
    }
    Ok(Permissions { kv })
}

fn set_of(l: &Option<Vec<String>>) -> Vec<String> {
    let mut v = l.clone().unwrap_or_default();
    v.sort();
    v.dedup();
    v
}

fn granted(
    have: &Option<Vec<String>>,
    add: &Option<Vec<String>>,
    kind: &str,
) -> Result<Vec<String>, String> {
    let mut out = set_of(have);
    for p in add.iter().flatten() {
        if out.contains(p) {
            return Err(format!("Granting duplicate {kind} permission {p}"));
        }
        out.push(p.clone());
    }
    out.sort();
    Ok(out)
}

fn revoked(have: &Option<Vec<String>>, remove: &Option<Vec<String>>) -> Vec<String> {
    let mut out = set_of(have);
    out.retain(|p| !remove.iter().flatten().any(|r| r == p));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_like_go_first_value_any_case_null_as_zero() {
        let u = UserRequest::decode(br#"{"User":"bob","password":null,"roles":["a"]} trailing"#)
            .unwrap();
        assert_eq!((u.user.as_str(), u.password.as_str()), ("bob", ""));
        assert_eq!(u.roles, Some(vec!["a".to_string()]));
        assert!(UserRequest::decode(b"").is_none());
        assert!(UserRequest::decode(br#"{"user":5}"#).is_none());
        assert_eq!(UserRequest::decode(b"null").unwrap().user, "");
    }

    #[test]
    fn grant_refuses_duplicates_and_revoke_ignores_the_ungranted() {
        let old = Permissions::default();
        let g = Permissions {
            kv: RwPermission {
                read: Some(vec!["/b".into(), "/a".into()]),
                write: None,
            },
        };
        let merged = merge_permissions(&old, Some(&g), None).unwrap();
        assert_eq!(merged.kv.read, Some(vec!["/a".into(), "/b".into()]));
        assert_eq!(merged.kv.write, Some(vec![]));
        let err = merge_permissions(&merged, Some(&g), None).unwrap_err();
        assert_eq!(err, "Granting duplicate read permission /b");
        let gone = merge_permissions(&merged, None, Some(&g)).unwrap();
        assert_eq!(gone.kv.read, Some(vec![]));
    }
}
