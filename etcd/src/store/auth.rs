//! v2 authentication state: users, roles and the enabled flag (etcd: v2auth, which keeps them
//! in its v2 store under `/2`, beside the user key space `/1`).
//!
//! Here they live outside the node tree, so no `/v2/keys` request can see or change them, but
//! every write still counts in the etcd index exactly as etcd's writes under `/2` do. The
//! store is a plain resource store, as etcd's is: create (fails 105 when present), update
//! (fails 100 when absent), delete (fails 100 when absent). The rules — merging grants, refusing
//! duplicates, the root role — live with the HTTP handlers, which read, decide and propose, as
//! etcd's `v2auth.store` does. Passwords arrive already hashed: the raft log never holds one.

use std::collections::BTreeMap;
use std::sync::Arc;

use etcd_common::{Action, ErrorCode, EtcdError};
use serde::{Deserialize, Serialize};

use super::{Event, Store};

/// etcd's `RootRoleName`: the built-in role that may do everything; never stored.
pub const ROOT: &str = "root";
/// etcd's `GuestRoleName`: the permissions of requests without credentials.
pub const GUEST: &str = "guest";

/// etcd creates `/2`, `/2/users/`, `/2/roles/` and `/2/enabled` before its first auth write:
/// four modifications of the etcd index.
const ENSURE_WRITES: u64 = 4;

/// A user as stored (etcd: `v2auth.User` without grant/revoke). `roles` keeps Go's nil/empty
/// distinction, because etcd's responses show it (`"roles":null` vs `"roles":[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub user: String,
    /// The bcrypt hash; never serialised to a client.
    pub password: String,
    pub roles: Option<Vec<String>>,
}

/// A role's key permissions (etcd: `RWPermission`); `None` is Go's nil slice (`null`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RwPermission {
    pub read: Option<Vec<String>>,
    pub write: Option<Vec<String>>,
}

/// A role as stored and shown (etcd: `v2auth.Role` without grant/revoke).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub role: String,
    pub permissions: Permissions,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permissions {
    pub kv: RwPermission,
}

impl Role {
    /// etcd's synthesised `rootRole`: read and write `/*`.
    pub fn root() -> Role {
        Role::all(ROOT)
    }

    /// The `guest` role etcd creates on enable when there is none.
    pub fn default_guest() -> Role {
        Role::all(GUEST)
    }

    fn all(name: &str) -> Role {
        let all = Some(vec!["/*".to_string()]);
        Role {
            role: name.to_string(),
            permissions: Permissions {
                kv: RwPermission {
                    read: all.clone(),
                    write: all,
                },
            },
        }
    }

    /// etcd: `Role.HasKeyAccess` (`recursive == false`) and `HasRecursiveAccess`.
    /// Matched on bytes: a key with invalid UTF-8 matches exactly the patterns it would in etcd.
    pub fn allows(&self, key: &[u8], write: bool, recursive: bool) -> bool {
        if self.role == ROOT {
            return true;
        }
        let kv = &self.permissions.kv;
        let list = if write { &kv.write } else { &kv.read };
        list.iter()
            .flatten()
            .any(|pat| match pat.strip_suffix('*') {
                Some(prefix) => key.starts_with(prefix.as_bytes()),
                // A pattern without `*` names one key and never grants a recursive request.
                None => !recursive && key == pat.as_bytes(),
            })
    }
}

/// The whole auth state, as the snapshot carries it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthState {
    /// Whether etcd would have created its `/2` directories (see [`ENSURE_WRITES`]).
    pub ensured: bool,
    pub enabled: bool,
    pub users: BTreeMap<String, User>,
    pub roles: BTreeMap<String, Role>,
}

impl AuthState {
    /// etcd: `getUser`, which attaches the root role to the user named root.
    pub fn user(&self, name: &str) -> Option<User> {
        let mut u = self.users.get(name)?.clone();
        if u.user == ROOT {
            let roles = u.roles.get_or_insert_with(Vec::new);
            if !roles.iter().any(|r| r == ROOT) {
                roles.push(ROOT.to_string());
            }
        }
        Some(u)
    }

    /// etcd: `getRole`; root is synthesised.
    pub fn role(&self, name: &str) -> Option<Role> {
        if name == ROOT {
            return Some(Role::root());
        }
        self.roles.get(name).cloned()
    }
}

/// The replicated auth writes (etcd: `setResource` / `deleteResource` under `/2`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthOp {
    /// `exist`: etcd's prevExist — update an existing user (else create a new one).
    PutUser {
        user: User,
        exist: bool,
    },
    DeleteUser {
        name: String,
    },
    PutRole {
        role: Role,
        exist: bool,
    },
    DeleteRole {
        name: String,
    },
    SetEnabled {
        enabled: bool,
    },
}

impl AuthOp {
    /// Bytes of names and permissions carried (sizes the log entry).
    pub fn payload_len(&self) -> usize {
        match self {
            AuthOp::PutUser { user, .. } => {
                user.user.len() + user.password.len() + list_len(&user.roles)
            }
            AuthOp::DeleteUser { name } | AuthOp::DeleteRole { name } => name.len(),
            AuthOp::PutRole { role, .. } => {
                role.role.len()
                    + list_len(&role.permissions.kv.read)
                    + list_len(&role.permissions.kv.write)
            }
            AuthOp::SetEnabled { .. } => 0,
        }
    }

    /// The key etcd would have written, for logs (never the password).
    pub fn key(&self) -> String {
        match self {
            AuthOp::PutUser { user, .. } => format!("/2/users/{}", user.user),
            AuthOp::DeleteUser { name } => format!("/2/users/{name}"),
            AuthOp::PutRole { role, .. } => format!("/2/roles/{}", role.role),
            AuthOp::DeleteRole { name } => format!("/2/roles/{name}"),
            AuthOp::SetEnabled { .. } => "/2/enabled".to_string(),
        }
    }
}

fn list_len(l: &Option<Vec<String>>) -> usize {
    l.iter().flatten().map(String::len).sum()
}

impl Store {
    /// The auth state, shared: readers clone the `Arc`, writers copy on write.
    pub fn auth(&self) -> Arc<AuthState> {
        self.auth.clone()
    }

    /// Apply one auth write. The answer is an event on the `/2` key etcd would have written;
    /// it goes to no watcher and no history (nothing under `/2` is watchable), but it moves
    /// the etcd index as etcd's does.
    pub(super) fn apply_auth(&mut self, op: &AuthOp) -> Result<Option<Arc<Event>>, EtcdError> {
        let auth = Arc::make_mut(&mut self.auth);
        if !auth.ensured {
            auth.ensured = true;
            self.advance_index(ENSURE_WRITES);
        }
        let auth = Arc::make_mut(&mut self.auth);
        let key = op.key();
        let index = self.current_index;
        let action = match op {
            AuthOp::PutUser { user, exist } => {
                let present = auth.users.contains_key(&user.user);
                check(present, *exist, &key, index)?;
                auth.users.insert(user.user.clone(), user.clone());
                put_action(*exist)
            }
            AuthOp::PutRole { role, exist } => {
                let present = auth.roles.contains_key(&role.role);
                check(present, *exist, &key, index)?;
                auth.roles.insert(role.role.clone(), role.clone());
                put_action(*exist)
            }
            AuthOp::DeleteUser { name } => {
                auth.users
                    .remove(name)
                    .ok_or_else(|| missing(&key, index))?;
                Action::Delete
            }
            AuthOp::DeleteRole { name } => {
                auth.roles
                    .remove(name)
                    .ok_or_else(|| missing(&key, index))?;
                Action::Delete
            }
            AuthOp::SetEnabled { enabled } => {
                auth.enabled = *enabled;
                Action::Update
            }
        };
        self.advance_index(1);
        let index = self.current_index;
        let mut event = Event::new(action, key.as_bytes(), index, index);
        event.etcd_index = index;
        Ok(Some(Arc::new(event)))
    }
}

fn put_action(exist: bool) -> Action {
    if exist {
        Action::Update
    } else {
        Action::Create
    }
}

/// etcd's prevExist check: 105 when creating what exists, 100 when updating what does not.
fn check(present: bool, exist: bool, key: &str, index: u64) -> Result<(), EtcdError> {
    match (present, exist) {
        (true, false) => Err(EtcdError::new(ErrorCode::NodeExist, key, index)),
        (false, true) => Err(missing(key, index)),
        _ => Ok(()),
    }
}

fn missing(key: &str, index: u64) -> EtcdError {
    EtcdError::new(ErrorCode::KeyNotFound, key, index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Command, Op};

    fn user(name: &str) -> User {
        User {
            user: name.to_string(),
            password: "$2a$10$hash".to_string(),
            roles: None,
        }
    }

    fn apply(s: &mut Store, op: AuthOp) -> Result<Option<Arc<Event>>, EtcdError> {
        s.apply(Command {
            now: 0,
            op: Op::Auth(op),
        })
    }

    #[test]
    fn first_auth_write_counts_the_directories_etcd_creates() {
        let mut s = Store::new();
        let put = |exist| AuthOp::PutUser {
            user: user("root"),
            exist,
        };
        let e = apply(&mut s, put(false)).unwrap().unwrap();
        assert_eq!((e.etcd_index, s.index()), (5, 5));
        let err = apply(&mut s, put(false)).unwrap_err();
        assert_eq!((err.code, s.index()), (ErrorCode::NodeExist, 5));
        apply(&mut s, put(true)).unwrap();
        assert_eq!(s.index(), 6);
    }

    #[test]
    fn update_or_delete_of_what_is_absent_fails_with_100() {
        let mut s = Store::new();
        let put = AuthOp::PutRole {
            role: Role::default_guest(),
            exist: true,
        };
        assert_eq!(apply(&mut s, put).unwrap_err().code, ErrorCode::KeyNotFound);
        let del = AuthOp::DeleteUser { name: "x".into() };
        assert_eq!(apply(&mut s, del).unwrap_err().code, ErrorCode::KeyNotFound);
        assert_eq!(s.index(), 4);
    }

    #[test]
    fn auth_state_is_in_the_snapshot() {
        let mut s = Store::new();
        apply(
            &mut s,
            AuthOp::PutUser {
                user: user("bob"),
                exist: false,
            },
        )
        .unwrap();
        apply(&mut s, AuthOp::SetEnabled { enabled: true }).unwrap();
        let mut t = Store::new();
        t.restore(&s.to_snapshot().unwrap()).unwrap();
        assert_eq!(t.auth(), s.auth());
        assert_eq!(t.index(), s.index());
    }

    #[test]
    fn patterns_with_a_star_are_prefixes_and_only_they_grant_recursive_access() {
        let mut r = Role::all("r");
        r.permissions.kv.read = Some(vec!["/foo*".into(), "/bar".into()]);
        assert!(r.allows(b"/foo", false, false));
        assert!(r.allows(b"/foobar/x", false, true));
        assert!(r.allows(b"/bar", false, false));
        assert!(!r.allows(b"/bar", false, true));
        assert!(!r.allows(b"/bar/x", false, false));
        assert!(Role::root().allows(b"/anything", true, true));
        // Bytes, not text: an invalid byte after the prefix still matches, and a key that
        // differs only in invalid bytes is another key.
        r.permissions.kv.write = Some(vec!["/k\u{FFFD}".into(), "/p*".into()]);
        assert!(r.allows(b"/p\xFE", true, false));
        assert!(!r.allows(b"/k\xFE", true, false));
        assert!(r.allows("/k\u{FFFD}".as_bytes(), true, false));
    }

    #[test]
    fn the_user_named_root_always_has_the_root_role() {
        let mut a = AuthState::default();
        a.users.insert("root".into(), user("root"));
        assert_eq!(a.user("root").unwrap().roles, Some(vec!["root".into()]));
        assert_eq!(a.role("root"), Some(Role::root()));
    }
}
