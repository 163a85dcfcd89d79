//! `/v2/auth/users`: list, get, create, update (password, grant, revoke) and delete users
//! (etcd: v2auth `CreateUser`, `CreateOrUpdateUser`, `UpdateUser` with `User.merge`, `DeleteUser`).

use axum::http::StatusCode;
use serde::Serialize;

use super::wire::UserRequest;
use super::{
    Answer, App, Failure, auth_err, bad_request, ok_empty, ok_json, on_conflict, propose,
    quorum_state,
};
use crate::store::auth::{AuthOp, AuthState, ROOT, Role, User};
use etcd_common::{ErrorCode, EtcdError};

// ---- users ----------------------------------------------------------------------------------

/// A user as GET shows it: the roles resolved to full objects (etcd: `userWithRoles`).
#[derive(Serialize)]
struct UserWithRoles {
    user: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    roles: Vec<Role>,
}

/// A user as PUT answers: the stored record without its password.
#[derive(Serialize)]
struct UserOut<'a> {
    user: &'a str,
    roles: &'a Option<Vec<String>>,
}

fn user_missing(name: &str) -> Failure {
    auth_err(
        StatusCode::NOT_FOUND,
        format!("User {name} does not exist."),
    )
}

pub(super) fn role_missing(name: &str) -> Failure {
    auth_err(
        StatusCode::NOT_FOUND,
        format!("Role {name} does not exist."),
    )
}

pub(super) fn list_users(state: &AuthState) -> Answer {
    #[derive(Serialize)]
    struct Users {
        users: Option<Vec<UserWithRoles>>,
    }
    let users: Vec<UserWithRoles> = state
        .users
        .keys()
        .filter_map(|name| state.user(name))
        .map(|u| UserWithRoles {
            // Roles that do not resolve are left out of the listing.
            roles: u
                .roles
                .iter()
                .flatten()
                .filter_map(|r| state.role(r))
                .collect(),
            user: u.user,
        })
        .collect();
    let users = (!users.is_empty()).then_some(users);
    ok_json(StatusCode::OK, &Users { users })
}

pub(super) fn get_user(state: &AuthState, name: &str) -> Answer {
    let u = state.user(name).ok_or_else(|| user_missing(name))?;
    let roles = u
        .roles
        .iter()
        .flatten()
        .map(|r| state.role(r).ok_or_else(|| role_missing(r)))
        .collect::<Result<Vec<_>, _>>()?;
    ok_json(
        StatusCode::OK,
        &UserWithRoles {
            user: u.user,
            roles,
        },
    )
}

pub(super) async fn put_user(app: &App, name: &str, body: &[u8]) -> Answer {
    let u =
        UserRequest::decode(body).ok_or_else(|| bad_request("Invalid JSON in request body."))?;
    if u.user != name {
        return Err(bad_request(
            "User JSON name does not match the name in the URL",
        ));
    }
    let has_roles = u.roles.as_ref().is_some_and(|r| !r.is_empty());
    let (out, status) = if u.grant.is_empty() && u.revoke.is_empty() {
        if has_roles {
            (create_user(app, u).await?, StatusCode::OK)
        } else if quorum_state(app).await?.users.contains_key(&u.user) {
            (update_user(app, u).await?, StatusCode::OK)
        } else {
            (create_user(app, u).await?, StatusCode::CREATED)
        }
    } else if has_roles {
        return Err(bad_request(
            "User JSON contains both roles and grant/revoke",
        ));
    } else {
        (update_user(app, u).await?, StatusCode::OK)
    };
    ok_json(
        status,
        &UserOut {
            user: &out.user,
            roles: &out.roles,
        },
    )
}

/// etcd's bcrypt cost: Go's `bcrypt.DefaultCost`. (The bcrypt crate's `DEFAULT_COST` is 12,
/// which made every uncached password check four times as slow as etcd's.)
const COST: u32 = 10;

/// bcrypt at etcd's cost, on the blocking pool: computed before proposing, so the log carries
/// the hash and never the password.
async fn hash_password(password: String) -> Result<String, Failure> {
    let hashed = tokio::task::spawn_blocking(move || {
        bcrypt::hash_with_result(password, COST)
            .map(|h| h.format_for_version(bcrypt::Version::TwoA))
    })
    .await;
    match hashed {
        Ok(Ok(h)) => Ok(h),
        _ => Err(Failure::Etcd(EtcdError::new(
            ErrorCode::RaftInternal,
            "cannot hash password",
            0,
        ))),
    }
}

/// etcd: `CreateUser` / `createUserInternal`.
async fn create_user(app: &App, u: UserRequest) -> Result<User, Failure> {
    let mut roles = u.roles;
    if u.user == ROOT {
        let r = roles.get_or_insert_with(Vec::new);
        if !r.iter().any(|x| x == ROOT) {
            r.push(ROOT.to_string());
        }
    }
    if u.password.is_empty() {
        return Err(auth_err(
            StatusCode::BAD_REQUEST,
            format!("Cannot create user {} with an empty password", u.user),
        ));
    }
    let user = User {
        password: hash_password(u.password).await?,
        user: u.user,
        roles,
    };
    let name = user.user.clone();
    let op = AuthOp::PutUser {
        user: user.clone(),
        exist: false,
    };
    propose(app, op).await.map_err(|e| {
        on_conflict(
            e,
            || auth_err(StatusCode::CONFLICT, format!("User {name} already exists.")),
            || user_missing(&name),
        )
    })?;
    tracing::info!(user = %user.user, "auth: created user");
    Ok(user)
}

/// etcd: `UpdateUser` with `User.merge`.
async fn update_user(app: &App, u: UserRequest) -> Result<User, Failure> {
    // etcd 3.4 answers from `getUser`, so "does not exist." rather than UpdateUser's own text.
    let doesnt = user_missing;
    let old = quorum_state(app)
        .await?
        .user(&u.user)
        .ok_or_else(|| doesnt(&u.user))?;
    let password = if u.password.is_empty() {
        old.password.clone()
    } else {
        hash_password(u.password).await?
    };
    let mut roles: Vec<String> = old.roles.clone().unwrap_or_default();
    for g in &u.grant {
        if roles.contains(g) {
            let m = format!("Granting duplicate role {g} for user {}", u.user);
            return Err(auth_err(StatusCode::CONFLICT, m));
        }
        roles.push(g.clone());
    }
    for r in &u.revoke {
        let Some(at) = roles.iter().position(|x| x == r) else {
            let m = format!("Revoking ungranted role {r} for user {}", u.user);
            return Err(auth_err(StatusCode::CONFLICT, m));
        };
        roles.remove(at);
    }
    roles.sort();
    roles.dedup();
    let new = User {
        user: old.user.clone(),
        password,
        roles: Some(roles),
    };
    if new == old {
        return Err(auth_err(
            StatusCode::BAD_REQUEST,
            "User not updated. Use grant/revoke/password to update the user.",
        ));
    }
    let op = AuthOp::PutUser {
        user: new.clone(),
        exist: true,
    };
    propose(app, op)
        .await
        .map_err(|e| on_conflict(e, || doesnt(&new.user), || doesnt(&new.user)))?;
    tracing::info!(user = %new.user, "auth: updated user");
    Ok(new)
}

/// etcd: `DeleteUser`.
pub(super) async fn delete_user(app: &App, name: &str) -> Answer {
    if app.cluster.auth().enabled && name == ROOT {
        return Err(auth_err(
            StatusCode::FORBIDDEN,
            "Cannot delete root user while auth is enabled.",
        ));
    }
    let op = AuthOp::DeleteUser {
        name: name.to_string(),
    };
    let absent = || auth_err(StatusCode::NOT_FOUND, format!("User {name} does not exist"));
    propose(app, op)
        .await
        .map_err(|e| on_conflict(e, absent, absent))?;
    tracing::info!(user = %name, "auth: deleted user");
    ok_empty()
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn passwords_are_hashed_as_etcd_hashes_them() {
        let Ok(h) = super::hash_password("pw".into()).await else {
            panic!("hashing failed");
        };
        // Go's bcrypt writes version 2a and cost 10, as etcd's stored users have.
        assert!(h.starts_with("$2a$10$"), "{h}");
        assert!(bcrypt::verify("pw", &h).unwrap());
    }
}
