//! `etcdctl auth enable|disable` (etcd: ctlv2/command/auth_commands.go).

use super::named::refuse;
use super::{Ctx, connect};
use crate::cli::KeyArgs;
use crate::output::{self, Exit};

pub async fn enable_disable(ctx: &Ctx, a: &KeyArgs, enable: bool) -> Result<(), Exit> {
    if !a.args.is_empty() {
        return Err(refuse("No arguments accepted"));
    }
    let mut c = connect(ctx).await?;
    let deadline = c.total_deadline();
    c.set_auth(deadline, enable)
        .await
        .map_err(|e| refuse(&e.to_string()))?;
    output::out(if enable {
        "Authentication Enabled\n"
    } else {
        "Authentication Disabled\n"
    });
    Ok(())
}
