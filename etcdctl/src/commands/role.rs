//! `etcdctl role add|get|list|remove|grant|revoke` (etcd: ctlv2/command/role_commands.go).

use etcd_common::go::path::canonical_url_path;

use super::Ctx;
use super::named::{self, refuse};
use crate::cli::{KeyArgs, RolePathArgs};
use crate::client::Client;
use crate::client::auth::Permission;
use crate::output::{self, Exit};

async fn client_and_name(ctx: &Ctx, args: &[String]) -> Result<(Client, String), Exit> {
    named::client_and_name(ctx, args, "Please provide a role name").await
}

pub async fn add(ctx: &Ctx, a: &KeyArgs) -> Result<(), Exit> {
    let (mut c, name) = client_and_name(ctx, &a.args).await?;
    let deadline = c.total_deadline();
    if c.get_role(deadline, &name).await.is_ok() {
        return Err(refuse(&format!("Role {name} already exists")));
    }
    c.add_role(deadline, &name)
        .await
        .map_err(|e| refuse(&e.to_string()))?;
    output::out(&format!("Role {name} created\n"));
    Ok(())
}

pub async fn get(ctx: &Ctx, a: &KeyArgs) -> Result<(), Exit> {
    let (mut c, name) = client_and_name(ctx, &a.args).await?;
    let deadline = c.total_deadline();
    let kv = c
        .get_role(deadline, &name)
        .await
        .map_err(|e| refuse(&e.to_string()))?;
    let mut s = format!("Role: {name}\nKV Read:\n");
    for p in kv.read.iter().flatten() {
        s.push_str(&format!("\t{p}\n"));
    }
    s.push_str("KV Write:\n");
    for p in kv.write.iter().flatten() {
        s.push_str(&format!("\t{p}\n"));
    }
    output::out(&s);
    Ok(())
}

pub async fn list(ctx: &Ctx, a: &KeyArgs) -> Result<(), Exit> {
    named::list(ctx, a, async |c, deadline| c.list_roles(deadline).await).await
}

pub async fn remove(ctx: &Ctx, a: &KeyArgs) -> Result<(), Exit> {
    let target = client_and_name(ctx, &a.args).await?;
    named::remove(target, "Role", async |c, deadline, name| {
        c.remove_role(deadline, name).await
    })
    .await
}

/// etcd: roleGrantRevoke — the flags are checked before the name and the connection.
pub async fn grant_revoke(ctx: &Ctx, a: &RolePathArgs, grant: bool) -> Result<(), Exit> {
    let path = a.path.clone().unwrap_or_default();
    if path.is_empty() {
        return Err(refuse("No path specified; please use `--path`"));
    }
    let canon = canonical_url_path(&path);
    if canon != path {
        return Err(refuse(&format!(
            "Not canonical path; please use `--path={canon}`"
        )));
    }
    let perm = match (a.read, a.write, a.readwrite) {
        (true, false, false) => Permission::Read,
        (false, true, false) => Permission::Write,
        (false, false, true) => Permission::ReadWrite,
        _ => {
            return Err(refuse(
                "Please specify exactly one of --read, --write or --readwrite",
            ));
        }
    };
    let (mut c, name) = client_and_name(ctx, &a.args).await?;
    let deadline = c.total_deadline();
    let current = c
        .get_role(deadline, &name)
        .await
        .map_err(|e| refuse(&e.to_string()))?;
    let op = if grant { "grant" } else { "revoke" };
    let new = c
        .modify_role(deadline, &name, op, &path, perm)
        .await
        .map_err(|e| refuse(&e.to_string()))?;
    if new == current {
        let what = if grant { "granted" } else { "revoked" };
        output::out(&format!("Role unchanged; already {what}"));
    }
    output::out(&format!("Role {name} updated\n"));
    Ok(())
}
