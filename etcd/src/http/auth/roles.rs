//! `/v2/auth/roles`: list, get, create, update (grant, revoke) and delete roles (etcd: v2auth
//! `CreateRole`, `UpdateRole` with `Role.merge`, `DeleteRole`).

use axum::http::StatusCode;
use serde::Serialize;

use super::role_missing;
use super::wire::{RoleRequest, merge_permissions};
use super::{
    Answer, App, Failure, auth_err, bad_request, ok_empty, ok_json, on_conflict, propose,
    quorum_state,
};
use crate::store::auth::{AuthOp, AuthState, ROOT, Role};

// ---- roles ----------------------------------------------------------------------------------

fn root_refused(name: &str) -> Failure {
    auth_err(
        StatusCode::FORBIDDEN,
        format!("Cannot modify role {name}: is root role."),
    )
}

fn role_doesnt(name: &str) -> Failure {
    auth_err(StatusCode::NOT_FOUND, format!("Role {name} doesn't exist."))
}

pub(super) fn list_roles(state: &AuthState) -> Answer {
    #[derive(Serialize)]
    struct Roles {
        roles: Vec<Role>,
    }
    let mut roles: Vec<Role> = state.roles.values().cloned().collect();
    if !state.roles.contains_key(ROOT) {
        roles.push(Role::root());
    }
    roles.sort_by(|a, b| a.role.cmp(&b.role));
    ok_json(StatusCode::OK, &Roles { roles })
}

pub(super) async fn put_role(app: &App, name: &str, body: &[u8]) -> Answer {
    let r =
        RoleRequest::decode(body).ok_or_else(|| bad_request("Invalid JSON in request body."))?;
    if r.role != name {
        return Err(bad_request(
            "Role JSON name does not match the name in the URL",
        ));
    }
    if r.grant.as_ref().is_none_or(|g| g.is_empty())
        && r.revoke.as_ref().is_none_or(|g| g.is_empty())
    {
        let role = Role {
            role: r.role.clone(),
            permissions: r.permissions.clone(),
        };
        create_role(app, role).await?;
        // etcd echoes the decoded request, grant and revoke included.
        return ok_json(StatusCode::CREATED, &r);
    }
    if !r.permissions.is_empty() {
        return Err(bad_request(
            "Role JSON contains both permissions and grant/revoke",
        ));
    }
    if r.role == ROOT {
        return Err(root_refused(&r.role));
    }
    // etcd 3.4 answers from `getRole`: "does not exist." (DeleteRole says "doesn't").
    let old = quorum_state(app)
        .await?
        .role(&r.role)
        .ok_or_else(|| role_missing(&r.role))?;
    let permissions = merge_permissions(&old.permissions, r.grant.as_ref(), r.revoke.as_ref())
        .map_err(|m| auth_err(StatusCode::CONFLICT, m))?;
    let new = Role {
        role: old.role.clone(),
        permissions,
    };
    if new == old {
        return Err(auth_err(
            StatusCode::BAD_REQUEST,
            "Role not updated. Use grant/revoke to update the role.",
        ));
    }
    let op = AuthOp::PutRole {
        role: new.clone(),
        exist: true,
    };
    propose(app, op)
        .await
        .map_err(|e| on_conflict(e, || role_missing(name), || role_missing(name)))?;
    tracing::info!(role = %name, "auth: updated role");
    ok_json(StatusCode::OK, &new)
}

/// etcd: `CreateRole`.
pub(super) async fn create_role(app: &App, role: Role) -> Result<(), Failure> {
    if role.role == ROOT {
        return Err(root_refused(&role.role));
    }
    let name = role.role.clone();
    propose(app, AuthOp::PutRole { role, exist: false })
        .await
        .map_err(|e| {
            on_conflict(
                e,
                || auth_err(StatusCode::CONFLICT, format!("Role {name} already exists.")),
                || role_doesnt(&name),
            )
        })?;
    tracing::info!(role = %name, "auth: created new role");
    Ok(())
}

/// etcd: `DeleteRole` (users holding the role keep its name).
pub(super) async fn delete_role(app: &App, name: &str) -> Answer {
    if name == ROOT {
        return Err(root_refused(name));
    }
    let op = AuthOp::DeleteRole {
        name: name.to_string(),
    };
    propose(app, op)
        .await
        .map_err(|e| on_conflict(e, || role_doesnt(name), || role_doesnt(name)))?;
    tracing::info!(role = %name, "auth: deleted role");
    ok_empty()
}
