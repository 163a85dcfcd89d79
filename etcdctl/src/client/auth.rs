//! The v2 auth API as etcd's Go client calls it (etcd: client/auth_user.go, auth_role.go):
//! each call accepts the statuses the Go client accepts and turns any other answer into the
//! server's `message` (its `authError`), or, where the Go client does not parse the body,
//! `unexpected status code N`.

use etcd_common::go::json;
use etcd_common::go::path::join;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::time::Instant;

use super::Client;
use super::error::ClientError;
use super::requests::{Action, Body};

/// A role's permissions as `role get` prints them.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
pub struct RoleKv {
    #[serde(default)]
    pub read: Option<Vec<String>>,
    #[serde(default)]
    pub write: Option<Vec<String>>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
struct Perms {
    #[serde(default)]
    kv: RoleKv,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct RoleBody {
    #[serde(default)]
    permissions: Perms,
}

/// Which lists a `role grant`/`revoke` touches.
#[derive(Debug, Clone, Copy)]
pub enum Permission {
    Read,
    Write,
    ReadWrite,
}

fn other(e: impl std::fmt::Display) -> ClientError {
    ClientError::Other(e.to_string())
}

/// The Go client's `authError`: the body's `message`.
fn auth_error(body: &[u8]) -> ClientError {
    #[derive(Deserialize)]
    struct Message {
        #[serde(default)]
        message: String,
    }
    match serde_json::from_slice::<Message>(body) {
        Ok(m) => ClientError::Other(m.message),
        Err(e) => other(e),
    }
}

impl Client {
    async fn auth_call(
        &mut self,
        deadline: Option<Instant>,
        method: Method,
        path: String,
        body: Option<String>,
        ok: &[u16],
    ) -> Result<Vec<u8>, ClientError> {
        let mut action = Action::new(method, path);
        action.body = body.map(Body::Json);
        let resp = self.send(deadline, &action, false).await?;
        if ok.contains(&resp.status) {
            Ok(resp.body)
        } else {
            Err(auth_error(&resp.body))
        }
    }

    /// PUT a user object (create, password, grant or revoke).
    pub async fn put_user(
        &mut self,
        deadline: Option<Instant>,
        user: &str,
        fields: &[(&str, Value)],
        ok: &[u16],
    ) -> Result<(), ClientError> {
        let mut obj = serde_json::Map::new();
        obj.insert("user".into(), Value::String(user.into()));
        for (k, v) in fields {
            obj.insert((*k).into(), v.clone());
        }
        let body = json::to_string(&Value::Object(obj));
        let path = join("/v2/auth/users", user);
        self.auth_call(deadline, Method::PUT, path, Some(body), ok)
            .await
            .map(|_| ())
    }

    pub async fn remove_user(
        &mut self,
        deadline: Option<Instant>,
        user: &str,
    ) -> Result<(), ClientError> {
        let path = join("/v2/auth/users", user);
        self.auth_call(deadline, Method::DELETE, path, None, &[200, 201])
            .await
            .map(|_| ())
    }

    /// The user's role names (the server sends them as full role objects).
    pub async fn get_user(
        &mut self,
        deadline: Option<Instant>,
        user: &str,
    ) -> Result<(String, Vec<String>), ClientError> {
        let path = join("/v2/auth/users", user);
        let body = self
            .auth_call(deadline, Method::GET, path, None, &[200])
            .await?;
        let v: Value = serde_json::from_slice(&body).map_err(other)?;
        let name = v["user"].as_str().unwrap_or_default().to_string();
        let roles = v["roles"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r["role"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        Ok((name, roles))
    }

    pub async fn list_users(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<Vec<String>, ClientError> {
        let body = self
            .auth_call(deadline, Method::GET, "/v2/auth/users".into(), None, &[200])
            .await?;
        names(&body, "users", "user")
    }

    /// Unlike the users call, the Go client reports only the status here.
    pub async fn list_roles(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<Vec<String>, ClientError> {
        let action = Action::new(Method::GET, "/v2/auth/roles".into());
        let resp = self.send(deadline, &action, false).await?;
        if resp.status != 200 {
            return Err(other(format!("unexpected status code {}", resp.status)));
        }
        names(&resp.body, "roles", "role")
    }

    /// `None` when the role does not exist (or cannot be read).
    pub async fn get_role(
        &mut self,
        deadline: Option<Instant>,
        role: &str,
    ) -> Result<RoleKv, ClientError> {
        let path = join("/v2/auth/roles", role);
        let body = self
            .auth_call(deadline, Method::GET, path, None, &[200])
            .await?;
        let r: RoleBody = serde_json::from_slice(&body).map_err(other)?;
        Ok(r.permissions.kv)
    }

    pub async fn add_role(
        &mut self,
        deadline: Option<Instant>,
        role: &str,
    ) -> Result<(), ClientError> {
        #[derive(Serialize)]
        struct Kv {
            read: Option<Vec<String>>,
            write: Option<Vec<String>>,
        }
        #[derive(Serialize)]
        struct P {
            kv: Kv,
        }
        #[derive(Serialize)]
        struct R<'a> {
            role: &'a str,
            permissions: P,
        }
        let kv = Kv {
            read: None,
            write: None,
        };
        let body = json::to_string(&R {
            role,
            permissions: P { kv },
        });
        let path = join("/v2/auth/roles", role);
        self.auth_call(deadline, Method::PUT, path, Some(body), &[200, 201])
            .await
            .map(|_| ())
    }

    pub async fn remove_role(
        &mut self,
        deadline: Option<Instant>,
        role: &str,
    ) -> Result<(), ClientError> {
        let path = join("/v2/auth/roles", role);
        self.auth_call(deadline, Method::DELETE, path, None, &[200])
            .await
            .map(|_| ())
    }

    /// Grant (`op` = "grant") or revoke one path; the role as the server then has it.
    pub async fn modify_role(
        &mut self,
        deadline: Option<Instant>,
        role: &str,
        op: &str,
        path: &str,
        perm: Permission,
    ) -> Result<RoleKv, ClientError> {
        let list = Value::Array(vec![Value::String(path.into())]);
        let (read, write) = match perm {
            Permission::Read => (list, Value::Null),
            Permission::Write => (Value::Null, list),
            Permission::ReadWrite => (list.clone(), list),
        };
        let body = serde_json::json!({"role": role, op: {"kv": {"read": read, "write": write}}});
        let url = join("/v2/auth/roles", role);
        let body = self
            .auth_call(
                deadline,
                Method::PUT,
                url,
                Some(json::to_string(&body)),
                &[200],
            )
            .await?;
        let r: RoleBody = serde_json::from_slice(&body).map_err(other)?;
        Ok(r.permissions.kv)
    }

    /// PUT (enable) or DELETE (disable) `/v2/auth/enable`.
    pub async fn set_auth(
        &mut self,
        deadline: Option<Instant>,
        enable: bool,
    ) -> Result<(), ClientError> {
        let method = if enable { Method::PUT } else { Method::DELETE };
        self.auth_call(
            deadline,
            method,
            "/v2/auth/enable".into(),
            None,
            &[200, 201],
        )
        .await
        .map(|_| ())
    }
}

fn names(body: &[u8], list: &str, field: &str) -> Result<Vec<String>, ClientError> {
    let v: Value = serde_json::from_slice(body).map_err(other)?;
    Ok(v[list]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e[field].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default())
}
