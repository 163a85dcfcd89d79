//! Key-space commands: get, ls, mk, mkdir, setdir, set, update, updatedir, rm, rmdir.
//!
//! etcd: ctlv2/command/{get,ls,mk,mkdir,set,set_dir,update,update_dir,rm,rmdir}_command.go.
//! Each connects first (as etcdctl does), then validates its arguments, sends one request under
//! `--total-timeout`, and prints through the chosen formatter.

use crate::cli::{GetArgs, KeyArgs, LsArgs, MkArgs, RmArgs, SetArgs, TtlArgs};
use crate::client::{self, Action, DeleteOptions, KeyResponse, SetOptions};
use crate::output::{self, EXIT_BAD_ARGS, EXIT_SERVER_ERROR, Exit, Format};

use super::{Ctx, arg_or_stdin, connect, require_key};

/// Send one key request; any failure is etcdctl's `handleError(ExitServerError)`.
async fn request(ctx: &Ctx, action: Action, one_shot: bool) -> Result<KeyResponse, Exit> {
    let mut c = connect(ctx).await?;
    send(&mut c, action, one_shot).await
}

async fn send(c: &mut client::Client, action: Action, one_shot: bool) -> Result<KeyResponse, Exit> {
    let deadline = c.total_deadline();
    let spinner = output::Spinner::start("waiting for the cluster…");
    let r = c.key_request(deadline, &action, one_shot).await;
    drop(spinner);
    r.map_err(|e| output::fail_client(EXIT_SERVER_ERROR, &e))
}

fn value_required() -> Exit {
    output::fail(EXIT_BAD_ARGS, &"value required")
}

pub async fn get(ctx: &Ctx, a: &GetArgs) -> Result<(), Exit> {
    let mut c = connect(ctx).await?;
    let key = require_key(&a.keys.args)?;
    let resp = send(
        &mut c,
        client::get_action(key, false, a.sort, a.quorum),
        false,
    )
    .await?;
    let node = resp.body.node.clone().unwrap_or_default();
    if node.dir {
        output::err_line(&format!("{}: is a directory", node.key));
        return Err(Exit(1));
    }
    ctx.format.print(&resp);
    Ok(())
}

pub async fn ls(ctx: &Ctx, a: &LsArgs) -> Result<(), Exit> {
    let key = a.keys.args.first().map(String::as_str).unwrap_or("/");
    let resp = request(
        ctx,
        client::get_action(key, a.recursive, a.sort, a.quorum),
        false,
    )
    .await?;
    ctx.format.print_ls(&resp, a.slash);
    Ok(())
}

pub async fn mk(ctx: &Ctx, a: &MkArgs) -> Result<(), Exit> {
    let mut c = connect(ctx).await?;
    let key = require_key(&a.keys.args)?;
    let value = arg_or_stdin(&a.keys.args, 1).ok_or_else(value_required)?;
    let (action, one_shot) = if a.in_order {
        (client::create_in_order_action(key, &value, a.ttl), false)
    } else {
        let opts = SetOptions {
            ttl: a.ttl,
            prev_exist: Some(false),
            ..SetOptions::default()
        };
        (client::set_action(key, &value, &opts), true)
    };
    let resp = send(&mut c, action, one_shot).await?;
    ctx.format.print(&resp);
    Ok(())
}

/// mkdir (`prev_exist = Some(false)`) and setdir (`None`).
pub async fn mkdir(ctx: &Ctx, a: &TtlArgs, prev_exist: Option<bool>) -> Result<(), Exit> {
    let mut c = connect(ctx).await?;
    let key = require_key(&a.keys.args)?;
    let opts = SetOptions {
        ttl: a.ttl,
        dir: true,
        prev_exist,
        ..SetOptions::default()
    };
    let resp = send(
        &mut c,
        client::set_action(key, "", &opts),
        prev_exist == Some(false),
    )
    .await?;
    if ctx.format != Format::Simple {
        ctx.format.print(&resp);
    }
    Ok(())
}

pub async fn set(ctx: &Ctx, a: &SetArgs) -> Result<(), Exit> {
    let mut c = connect(ctx).await?;
    let key = require_key(&a.keys.args)?;
    let value = arg_or_stdin(&a.keys.args, 1).ok_or_else(value_required)?;
    let opts = SetOptions {
        ttl: a.ttl,
        prev_value: a.swap_with_value.clone(),
        prev_index: a.swap_with_index as u64,
        ..SetOptions::default()
    };
    let resp = send(&mut c, client::set_action(key, &value, &opts), false).await?;
    ctx.format.print(&resp);
    Ok(())
}

pub async fn update(ctx: &Ctx, a: &TtlArgs) -> Result<(), Exit> {
    let mut c = connect(ctx).await?;
    let key = require_key(&a.keys.args)?;
    let value = arg_or_stdin(&a.keys.args, 1).ok_or_else(value_required)?;
    let opts = SetOptions {
        ttl: a.ttl,
        prev_exist: Some(true),
        ..SetOptions::default()
    };
    let resp = send(&mut c, client::set_action(key, &value, &opts), false).await?;
    ctx.format.print(&resp);
    Ok(())
}

pub async fn updatedir(ctx: &Ctx, a: &TtlArgs) -> Result<(), Exit> {
    let mut c = connect(ctx).await?;
    let key = require_key(&a.keys.args)?;
    let opts = SetOptions {
        ttl: a.ttl,
        dir: true,
        prev_exist: Some(true),
        ..SetOptions::default()
    };
    let resp = send(&mut c, client::set_action(key, "", &opts), false).await?;
    if ctx.format != Format::Simple {
        ctx.format.print(&resp);
    }
    Ok(())
}

async fn delete(ctx: &Ctx, args: &[String], opts: DeleteOptions) -> Result<(), Exit> {
    let mut c = connect(ctx).await?;
    let key = require_key(args)?;
    let resp = send(&mut c, client::delete_action(key, &opts), true).await?;
    let is_dir = resp.body.node.as_ref().is_some_and(|n| n.dir);
    if !is_dir || ctx.format != Format::Simple {
        ctx.format.print(&resp);
    }
    Ok(())
}

pub async fn rm(ctx: &Ctx, a: &RmArgs) -> Result<(), Exit> {
    let opts = DeleteOptions {
        prev_value: a.with_value.clone(),
        prev_index: a.with_index as u64,
        dir: a.dir,
        recursive: a.recursive,
    };
    delete(ctx, &a.keys.args, opts).await
}

pub async fn rmdir(ctx: &Ctx, a: &KeyArgs) -> Result<(), Exit> {
    let opts = DeleteOptions {
        dir: true,
        ..DeleteOptions::default()
    };
    delete(ctx, &a.args, opts).await
}
