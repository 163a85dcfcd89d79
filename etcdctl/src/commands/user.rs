//! `etcdctl user add|get|list|remove|grant|revoke|passwd` (etcd: ctlv2/command/user_commands.go).
//! Errors are the server's message on stderr, exit 1, as etcdctl 3.4 prints them.

use serde_json::Value;

use super::Ctx;
use super::named::{self, refuse};
use crate::cli::{KeyArgs, UserRolesArgs};
use crate::client::Client;
use crate::output::{self, Exit};

async fn client_and_name(ctx: &Ctx, args: &[String]) -> Result<(Client, String), Exit> {
    named::client_and_name(ctx, args, "Please provide a username").await
}

fn ask(prompt: &str) -> Result<String, Exit> {
    crate::prompt::ask_password(prompt).map_err(|e| refuse(&format!("Error reading password: {e}")))
}

pub async fn add(ctx: &Ctx, a: &KeyArgs) -> Result<(), Exit> {
    let (mut c, arg) = client_and_name(ctx, &a.args).await?;
    let (user, password) = match arg.split_once(':') {
        Some((u, p)) => (u.to_string(), p.to_string()),
        None => (arg.clone(), ask("New password: ")?),
    };
    let fields = [("password", Value::String(password))];
    let deadline = c.total_deadline();
    c.put_user(deadline, &user, &fields, &[200, 201])
        .await
        .map_err(|e| refuse(&e.to_string()))?;
    output::out(&format!("User {user} created\n"));
    Ok(())
}

pub async fn get(ctx: &Ctx, a: &KeyArgs) -> Result<(), Exit> {
    let (mut c, name) = client_and_name(ctx, &a.args).await?;
    let deadline = c.total_deadline();
    let (user, roles) = c
        .get_user(deadline, &name)
        .await
        .map_err(|e| refuse(&e.to_string()))?;
    // etcdctl 3.4 decodes each role object into an empty name first and appends the real
    // names after them, so every role adds one more space before the list.
    let line = format!("{}{}", " ".repeat(roles.len()), roles.join(" "));
    output::out(&format!("User: {user}\nRoles: {line}\n"));
    Ok(())
}

pub async fn list(ctx: &Ctx, a: &KeyArgs) -> Result<(), Exit> {
    named::list(ctx, a, async |c, deadline| c.list_users(deadline).await).await
}

pub async fn remove(ctx: &Ctx, a: &KeyArgs) -> Result<(), Exit> {
    let target = client_and_name(ctx, &a.args).await?;
    named::remove(target, "User", async |c, deadline, name| {
        c.remove_user(deadline, name).await
    })
    .await
}

/// `user grant` and `user revoke`.
pub async fn grant_revoke(ctx: &Ctx, a: &UserRolesArgs, grant: bool) -> Result<(), Exit> {
    let roles: Vec<String> = a
        .roles
        .iter()
        .flat_map(|r| r.split(','))
        .map(String::from)
        .collect();
    if roles.is_empty() {
        return Err(refuse("No roles specified; please use `--roles`"));
    }
    let (mut c, name) = client_and_name(ctx, &a.args).await?;
    let list = Value::Array(roles.into_iter().map(Value::String).collect());
    let field = if grant { "grant" } else { "revoke" };
    let deadline = c.total_deadline();
    c.put_user(deadline, &name, &[(field, list)], &[200])
        .await
        .map_err(|e| refuse(&e.to_string()))?;
    output::out(&format!("User {name} updated\n"));
    Ok(())
}

pub async fn passwd(ctx: &Ctx, a: &KeyArgs) -> Result<(), Exit> {
    let (mut c, name) = client_and_name(ctx, &a.args).await?;
    let password = ask("New password: ")?;
    let deadline = c.total_deadline();
    let fields = [("password", Value::String(password))];
    c.put_user(deadline, &name, &fields, &[200])
        .await
        .map_err(|e| refuse(&e.to_string()))?;
    output::out("Password updated\n");
    Ok(())
}
