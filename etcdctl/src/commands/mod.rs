//! Command dispatch and the connection set-up every command shares (etcd: ctlv2/command/util.go).
//!
//! Each family lives in its own file; all of them print through `output` and talk through `client`.

pub mod auth;
pub mod backup;
pub mod health;
pub mod keys;
pub mod member;
pub mod named;
pub mod role;
pub mod user;
pub mod watch;

use std::io::Read;

use crate::cli::docs::{ENV_DISCOVERY_SRV, ENV_ENDPOINT, ENV_ENDPOINTS, ENV_PEERS, ENV_USERNAME};
use crate::cli::{AuthCmd, Cmd, DEFAULT_ENDPOINTS, GlobalArgs, MemberCmd, RoleCmd, UserCmd};
use crate::client::{Client, ClientError, Config};
use crate::output::{self, EXIT_BAD_ARGS, EXIT_BAD_CONNECTION, EXIT_SERVER_ERROR, Exit, Format};

/// What every command needs: the global flags and the chosen output format.
pub struct Ctx {
    pub global: GlobalArgs,
    pub format: Format,
}

pub async fn run(global: GlobalArgs, cmd: Cmd) -> Result<(), Exit> {
    let ctx = Ctx {
        format: Format::parse(&global.output),
        global,
    };
    match cmd {
        Cmd::Backup(a) => backup::backup(&a).await,
        Cmd::ClusterHealth(a) => health::cluster_health(&ctx, &a).await,
        Cmd::Mk(a) => keys::mk(&ctx, &a).await,
        Cmd::Mkdir(a) => keys::mkdir(&ctx, &a, Some(false)).await,
        Cmd::Setdir(a) => keys::mkdir(&ctx, &a, None).await,
        Cmd::Rm(a) => keys::rm(&ctx, &a).await,
        Cmd::Rmdir(a) => keys::rmdir(&ctx, &a).await,
        Cmd::Get(a) => keys::get(&ctx, &a).await,
        Cmd::Ls(a) => keys::ls(&ctx, &a).await,
        Cmd::Set(a) => keys::set(&ctx, &a).await,
        Cmd::Update(a) => keys::update(&ctx, &a).await,
        Cmd::Updatedir(a) => keys::updatedir(&ctx, &a).await,
        Cmd::Watch(a) => watch::watch(&ctx, &a).await,
        Cmd::ExecWatch(a) => watch::exec_watch(&ctx, &a).await,
        Cmd::Member(MemberCmd::List(a)) => member::list(&ctx, &a.args).await,
        Cmd::Member(MemberCmd::Add(a)) => member::add(&ctx, &a.args).await,
        Cmd::Member(MemberCmd::Remove(a)) => member::remove(&ctx, &a.args).await,
        Cmd::Member(MemberCmd::Update(a)) => member::update(&ctx, &a.args).await,
        Cmd::User(UserCmd::Add(a)) => user::add(&ctx, &a).await,
        Cmd::User(UserCmd::Get(a)) => user::get(&ctx, &a).await,
        Cmd::User(UserCmd::List(a)) => user::list(&ctx, &a).await,
        Cmd::User(UserCmd::Remove(a)) => user::remove(&ctx, &a).await,
        Cmd::User(UserCmd::Grant(a)) => user::grant_revoke(&ctx, &a, true).await,
        Cmd::User(UserCmd::Revoke(a)) => user::grant_revoke(&ctx, &a, false).await,
        Cmd::User(UserCmd::Passwd(a)) => user::passwd(&ctx, &a).await,
        Cmd::Role(RoleCmd::Add(a)) => role::add(&ctx, &a).await,
        Cmd::Role(RoleCmd::Get(a)) => role::get(&ctx, &a).await,
        Cmd::Role(RoleCmd::List(a)) => role::list(&ctx, &a).await,
        Cmd::Role(RoleCmd::Remove(a)) => role::remove(&ctx, &a).await,
        Cmd::Role(RoleCmd::Grant(a)) => role::grant_revoke(&ctx, &a, true).await,
        Cmd::Role(RoleCmd::Revoke(a)) => role::grant_revoke(&ctx, &a, false).await,
        Cmd::Auth(AuthCmd::Enable(a)) => auth::enable_disable(&ctx, &a, true).await,
        Cmd::Auth(AuthCmd::Disable(a)) => auth::enable_disable(&ctx, &a, false).await,
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// etcd: getPeersFlagValue — flags and variables in etcdctl's exact precedence.
fn endpoint_list(g: &GlobalArgs) -> Vec<String> {
    let nonempty = |o: &Option<String>| o.clone().filter(|v| !v.is_empty());
    let s = nonempty(&g.endpoints)
        .or_else(|| env_nonempty(ENV_ENDPOINTS.0))
        .or_else(|| nonempty(&g.endpoint))
        .or_else(|| env_nonempty(ENV_ENDPOINT.0))
        .or_else(|| nonempty(&g.peers))
        .or_else(|| env_nonempty(ENV_PEERS.0))
        .unwrap_or_else(|| DEFAULT_ENDPOINTS.to_string());
    s.split(',').map(str::to_string).collect()
}

fn credentials(g: &GlobalArgs) -> Result<Option<(String, String)>, String> {
    let flag = g
        .username
        .clone()
        .filter(|v| !v.is_empty())
        .or_else(|| env_nonempty(ENV_USERNAME.0));
    let Some(flag) = flag else { return Ok(None) };
    if let Some((u, p)) = flag.split_once(':') {
        return Ok(Some((u.to_string(), p.to_string())));
    }
    let password = crate::prompt::ask_password("Password: ").map_err(|e| e.to_string())?;
    Ok(Some((flag, password)))
}

fn new_client(ctx: &Ctx) -> Result<Client, Exit> {
    let g = &ctx.global;
    let srv = g
        .discovery_srv
        .clone()
        .filter(|v| !v.is_empty())
        .or_else(|| env_nonempty(ENV_DISCOVERY_SRV.0));
    if let Some(domain) = srv {
        output::err_line(&format!(
            "discovery-srv ({domain}) is not supported by this etcdctl; use --endpoints"
        ));
        return Err(Exit(EXIT_BAD_ARGS));
    }
    let creds = credentials(g).map_err(|e| {
        output::err_line(&e);
        Exit(EXIT_BAD_ARGS)
    })?;
    Client::new(Config {
        endpoints: endpoint_list(g),
        header_timeout: g.timeout,
        total_timeout: g.total_timeout,
        debug: g.debug,
        credentials: creds,
        tls: crate::client::transport::TlsFiles {
            cert_file: g.cert_file.clone(),
            key_file: g.key_file.clone(),
            ca_file: g.ca_file.clone(),
            insecure_skip_verify: g.insecure_skip_tls_verify,
        },
    })
    .map_err(|e| {
        output::err_line(&e);
        Exit(EXIT_BAD_ARGS)
    })
}

/// etcd: mustNewClient — build the client and, unless `--no-sync`, sync the member list first.
pub async fn connect(ctx: &Ctx) -> Result<Client, Exit> {
    let mut c = new_client(ctx)?;
    let debug = ctx.global.debug;
    if !ctx.global.no_sync {
        if debug {
            output::err(&format!(
                "start to sync cluster using endpoints({})\n",
                c.endpoints().join(",")
            ));
        }
        let spinner = output::Spinner::start("synchronising cluster membership…");
        let r = c.sync(c.total_deadline()).await;
        drop(spinner);
        if let Err(e) = r {
            if e == ClientError::NoEndpoints {
                output::err("etcd cluster has no published client endpoints.\n");
                output::err(&format!(
                    "Try '--no-sync' if you want to access non-published client endpoints({}).\n",
                    c.endpoints().join(",")
                ));
                return Err(output::fail_client(EXIT_SERVER_ERROR, &e));
            }
            if e.is_connection_error() {
                return Err(output::fail_client(EXIT_BAD_CONNECTION, &e));
            }
        }
        if debug {
            output::err(&format!(
                "got endpoints({}) after sync\n",
                c.endpoints().join(",")
            ));
        }
    }
    if debug {
        output::err(&format!(
            "Cluster-Endpoints: {}\n",
            c.endpoints().join(", ")
        ));
    }
    Ok(c)
}

/// etcd: mustNewClientNoSync (cluster-health).
pub async fn connect_no_sync(ctx: &Ctx) -> Result<Client, Exit> {
    let c = new_client(ctx)?;
    if ctx.global.debug {
        output::err(&format!(
            "Cluster-Endpoints: {}\n",
            c.endpoints().join(", ")
        ));
    }
    Ok(c)
}

/// etcd: argOrStdin — the i-th argument, or all of stdin; empty means "absent".
pub fn arg_or_stdin(args: &[String], i: usize) -> Option<String> {
    if let Some(a) = args.get(i) {
        return Some(a.clone());
    }
    let mut buf = Vec::new();
    std::io::stdin().read_to_end(&mut buf).ok()?;
    if buf.is_empty() {
        return None;
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// The first positional argument or `Error:  key required` (exit 1).
pub fn require_key(args: &[String]) -> Result<&str, Exit> {
    args.first()
        .map(String::as_str)
        .ok_or_else(|| output::fail(EXIT_BAD_ARGS, &"key required"))
}
