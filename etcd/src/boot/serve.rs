//! Wiring: load the certificates, open the member's data, start raft, bind the client and peer
//! listeners (TLS on the `https://` ones), serve until SIGTERM or SIGINT (or the caller's
//! shutdown token), then drain and stop raft. Each listener holds at most `--max-connections`
//! connections; each connection's deadlines and request extensions are `conn.rs`'s.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::boot::conn::{self, Activity, Limits, Throttled, Tracked};
use crate::boot::flags::{Config, host_port};
use crate::boot::tls::Tls;
use crate::cluster::Cluster;
use crate::http::{self, App};

/// How long open connections (watches included) get to finish after a shutdown signal.
const DRAIN: Duration = Duration::from_secs(3);

/// A TLS handshake that takes longer than this is dropped (Go's default handshake timeout).
const HANDSHAKE: Duration = Duration::from_secs(10);

/// Connections beyond the cap being answered 503 at once, per listener; past these a further
/// one is closed unanswered, so refusing costs a bounded number of descriptors.
const REFUSING: usize = 64;

/// The sockets a member serves on, bound before anything touches the data dir.
pub struct Listeners {
    pub client: Vec<TcpListener>,
    pub peer: Vec<TcpListener>,
}

impl Listeners {
    /// Bind every `--listen-client-urls` and `--listen-peer-urls` address.
    pub async fn bind(config: &Config) -> anyhow::Result<Listeners> {
        Ok(Listeners {
            client: bind_all(&config.listen_client_urls).await?,
            peer: bind_all(&config.listen_peer_urls).await?,
        })
    }
}

/// The daemon's entry point: load certificates, bind, serve until SIGTERM or SIGINT.
pub async fn run(config: Config) -> anyhow::Result<()> {
    // A bad certificate is reported before anything listens, and a port in use before anything
    // is written to the data dir (auto-TLS fixtures aside, as in etcd).
    let tls = Tls::load(&config)?;
    let listeners = Listeners::bind(&config).await?;
    match crate::boot::limits::raise_open_files() {
        Ok(limit) => tracing::info!(limit, "open files limit"),
        Err(e) => tracing::warn!("could not raise the open files limit: {e}"),
    }
    serve_with(config, tls, listeners, wait_for_signal()).await
}

/// Serve on listeners the caller bound (tests bind port 0 and start members in-process) until
/// `stop` completes or the member is removed from the cluster.
pub async fn serve(
    config: Config,
    listeners: Listeners,
    stop: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let tls = Tls::load(&config)?;
    serve_with(config, tls, listeners, stop).await
}

async fn serve_with(
    mut config: Config,
    tls: Tls,
    listeners: Listeners,
    stop: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    tokio::pin!(stop);
    config.peer_client_tls = tls.peer_client.clone();
    if let Some(url) = config.discovery.clone()
        && !crate::cluster::data_dir_exists(&config.data_dir)
    {
        config.initial_cluster = crate::boot::discovery::discover(&config, &url).await?;
        config.initial_cluster_state = crate::boot::flags::ClusterState::New;
    }
    std::fs::create_dir_all(&config.data_dir)?;
    let cluster = Cluster::start(&config).await?;
    let shutdown = CancellationToken::new();
    let app = App::new(cluster.clone(), shutdown.clone());
    let mut servers = tokio::task::JoinSet::new();
    // Peers are served at once (elections need them); clients only once the state machine has
    // caught up with what was committed before a restart, so no read goes back in time.
    let limits = Arc::new(config.limits.clone());
    let peer = Served {
        side: "peer",
        urls: &config.listen_peer_urls,
        tls: tls.peer.clone(),
        limits: limits.clone(),
    };
    spawn_servers(
        &mut servers,
        listeners.peer,
        &peer,
        cluster
            .peer_router()
            .merge(crate::http::cluster_admin::peer_routes(app.clone())),
        &shutdown,
    );
    cluster
        .wait_ready(Duration::from_millis(config.election_timeout_ms * 5))
        .await;
    tokio::select! {
        _ = cluster.wait_published() => {}
        _ = &mut stop => {
            shutdown.cancel();
            cluster.shutdown().await;
            return Ok(());
        }
        // Replaying the log can stop raft too (an entry whose apply fails): say so and exit
        // rather than wait forever to serve.
        why = cluster.raft_stopped() => {
            shutdown.cancel();
            cluster.shutdown().await;
            anyhow::bail!("raft stopped: {why}");
        }
    }
    let client = Served {
        side: "client",
        urls: &config.listen_client_urls,
        tls: tls.client.clone(),
        limits: limits.clone(),
    };
    let watchers = http::limits::Watchers::new(config.limits.max_watchers_per_client);
    spawn_servers(
        &mut servers,
        listeners.client,
        &client,
        http::client_router(app, watchers, config.enable_mod),
        &shutdown,
    );
    tracing::info!(
        name = %cluster.name,
        member = format!("{:x}", cluster.member_id),
        cluster = format!("{:x}", cluster.cluster_id),
        "ready to serve client requests on {}",
        config.listen_client_urls.join(",")
    );

    let mut fatal = None;
    tokio::select! {
        _ = &mut stop => tracing::info!("received signal; shutting down"),
        _ = cluster.removed.cancelled() => {}
        why = cluster.raft_stopped() => {
            tracing::error!("raft stopped: {why}; shutting down");
            fatal = Some(why);
        }
    }
    cluster.step_down().await;
    shutdown.cancel();
    let _ = tokio::time::timeout(DRAIN, async {
        while servers.join_next().await.is_some() {}
    })
    .await;
    cluster.shutdown().await;
    match fatal {
        Some(why) => anyhow::bail!("raft stopped: {why}"),
        None => Ok(()),
    }
}

/// One kind of listener: which side it serves and with which TLS on its `https://` URLs.
struct Served<'a> {
    side: &'static str,
    /// The listen URLs, in the order the listeners were bound.
    urls: &'a [String],
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: Arc<Limits>,
}

fn spawn_servers(
    servers: &mut tokio::task::JoinSet<std::io::Result<()>>,
    listeners: Vec<TcpListener>,
    served: &Served<'_>,
    router: axum::Router,
    shutdown: &CancellationToken,
) {
    for (i, l) in listeners.into_iter().enumerate() {
        let https = served
            .urls
            .get(i)
            .is_some_and(|u| u.starts_with("https://"));
        let acceptor = served.tls.clone().filter(|_| https).map(TlsAcceptor::from);
        servers.spawn(serve_listener(
            l,
            Endpoint {
                router: router.clone(),
                tls: acceptor,
                side: served.side,
                limits: served.limits.clone(),
            },
            shutdown.clone(),
        ));
    }
}

/// What one listener serves, shared by its connections.
#[derive(Clone)]
struct Endpoint {
    router: axum::Router,
    tls: Option<TlsAcceptor>,
    side: &'static str,
    limits: Arc<Limits>,
}

/// Accept connections until `shutdown`, then let each finish its request. A TLS listener does
/// each handshake in the connection's own task, so a slow or hostile client holds up no other.
/// A connection beyond the cap is answered 503 and closed rather than left in the backlog.
async fn serve_listener(
    listener: TcpListener,
    endpoint: Endpoint,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let side = endpoint.side;
    let max = endpoint
        .limits
        .max_connections
        .unwrap_or_else(|| conn::derived_max_connections(conn::open_files()));
    let open = Arc::new(Semaphore::new(max.min(Semaphore::MAX_PERMITS)));
    let refusing = Arc::new(Semaphore::new(REFUSING));
    let (mut accept_errors, mut refusals) = (Throttled::default(), Throttled::default());
    let mut conns = tokio::task::JoinSet::new();
    loop {
        let (stream, from) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: keep serving the open connections.
                Err(e) => {
                    accept_errors.warn(format_args!("{side}: accept: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        // Reap finished connections so the set does not grow without bound.
        while conns.try_join_next().is_some() {}
        let Ok(permit) = open.clone().try_acquire_owned() else {
            refusals.warn(format_args!(
                "{side}: {max} connections open (--max-connections); refusing {from}"
            ));
            if let Ok(refusing) = refusing.clone().try_acquire_owned() {
                let tls = endpoint.tls.clone();
                conns.spawn(async move {
                    let _refusing = refusing;
                    refuse(stream, tls).await;
                });
            }
            continue;
        };
        let endpoint = endpoint.clone();
        let shutdown = shutdown.clone();
        conns.spawn(async move {
            let _open = permit;
            serve_stream(stream, from, endpoint, shutdown).await;
        });
    }
    while conns.join_next().await.is_some() {}
    Ok(())
}

/// Answer a connection beyond the cap, over TLS when the listener is `https://`.
async fn refuse(stream: TcpStream, tls: Option<TlsAcceptor>) {
    match tls {
        None => conn::refuse(stream).await,
        Some(acceptor) => {
            if let Ok(Ok(stream)) = tokio::time::timeout(HANDSHAKE, acceptor.accept(stream)).await {
                conn::refuse(stream).await;
            }
        }
    }
}

/// One accepted connection: the TLS handshake (with its client certificate's name) if the
/// listener is `https://`, then HTTP.
async fn serve_stream(
    stream: TcpStream,
    from: std::net::SocketAddr,
    endpoint: Endpoint,
    shutdown: CancellationToken,
) {
    let Some(acceptor) = endpoint.tls.clone() else {
        return serve_connection(stream, from, None, endpoint, shutdown).await;
    };
    let side = endpoint.side;
    let handshake = tokio::select! {
        _ = shutdown.cancelled() => return,
        h = tokio::time::timeout(HANDSHAKE, acceptor.accept(stream)) => h,
    };
    match handshake {
        Ok(Ok(stream)) => {
            let certificate = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .and_then(conn::common_name)
                .map(|cn| http::credentials::CertificateUser(cn.into()));
            serve_connection(stream, from, certificate, endpoint, shutdown).await
        }
        // etcd logs these too ("http: TLS handshake error from …"); for the peer port
        // this is how an untrusted member shows up.
        Ok(Err(e)) => tracing::warn!("{side}: TLS handshake error from {from}: {e}"),
        Err(_) => tracing::warn!("{side}: TLS handshake from {from} timed out"),
    }
}

/// Serve HTTP/1.1 on one connection until it closes, misses a deadline (`conn.rs`), or
/// `shutdown` asks it to finish.
///
/// hyper is driven directly rather than through `axum::serve` so that header names go out in
/// canonical case (`X-Etcd-Index`), byte for byte as Go's server writes them.
async fn serve_connection<S>(
    stream: S,
    from: std::net::SocketAddr,
    certificate: Option<http::credentials::CertificateUser>,
    endpoint: Endpoint,
    shutdown: CancellationToken,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Activity::new();
    let service = conn::Service {
        router: hyper_util::service::TowerToHyperService::new(endpoint.router),
        from,
        certificate,
        activity: activity.clone(),
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.title_case_headers(true);
    let io = hyper_util::rt::TokioIo::new(Tracked::new(stream, activity.clone()));
    // Upgrades carry the append stream between members (`raft/network/stream.rs`).
    let conn = builder.serve_connection(io, service).with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        // Dropping the connection closes it: no request is outstanding, or its headers are late.
        _ = activity.expired(&endpoint.limits) => {
            tracing::debug!("{}: closing {from}: idle or headers late", endpoint.side);
        }
        _ = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

async fn bind_all(urls: &[String]) -> anyhow::Result<Vec<TcpListener>> {
    let mut out = Vec::new();
    for u in urls {
        let addr = host_port(u).map_err(anyhow::Error::msg)?;
        let l = TcpListener::bind(&addr)
            .await
            .map_err(|e| anyhow::anyhow!("listen tcp {addr}: bind: {e}"))?;
        out.push(l);
    }
    Ok(out)
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        // Without signal handlers we can only serve until killed.
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
