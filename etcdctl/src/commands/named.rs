//! What `user` and `role` commands share (etcd: ctlv2/command/{user,role}_commands.go): the
//! refusal etcdctl prints, one name an argument, listing names and removing one by name.

use tokio::time::Instant;

use super::{Ctx, connect};
use crate::cli::KeyArgs;
use crate::client::{Client, ClientError};
use crate::output::{self, EXIT_BAD_ARGS, Exit};

/// etcdctl's `fmt.Fprintln(os.Stderr, …); os.Exit(1)`.
pub fn refuse(msg: &str) -> Exit {
    output::err_line(msg);
    Exit(EXIT_BAD_ARGS)
}

/// etcd: mustUserAPIAndName / mustRoleAPIAndName — exactly one argument, else `missing`.
pub async fn client_and_name(
    ctx: &Ctx,
    args: &[String],
    missing: &str,
) -> Result<(Client, String), Exit> {
    let [name] = args else {
        return Err(refuse(missing));
    };
    Ok((connect(ctx).await?, name.clone()))
}

/// `user list` / `role list`: no arguments, one name a line.
pub async fn list<F>(ctx: &Ctx, a: &KeyArgs, names: F) -> Result<(), Exit>
where
    F: AsyncFnOnce(&mut Client, Option<Instant>) -> Result<Vec<String>, ClientError>,
{
    if !a.args.is_empty() {
        return Err(refuse("No arguments accepted"));
    }
    let mut c = connect(ctx).await?;
    let deadline = c.total_deadline();
    let names = names(&mut c, deadline)
        .await
        .map_err(|e| refuse(&e.to_string()))?;
    let lines: String = names.iter().map(|n| format!("{n}\n")).collect();
    output::out(&lines);
    Ok(())
}

/// `user remove` / `role remove`: "`<what>` `<name>` removed" once the server agrees.
pub async fn remove<F>((mut c, name): (Client, String), what: &str, remove: F) -> Result<(), Exit>
where
    F: AsyncFnOnce(&mut Client, Option<Instant>, &str) -> Result<(), ClientError>,
{
    let deadline = c.total_deadline();
    remove(&mut c, deadline, &name)
        .await
        .map_err(|e| refuse(&e.to_string()))?;
    output::out(&format!("{what} {name} removed\n"));
    Ok(())
}
