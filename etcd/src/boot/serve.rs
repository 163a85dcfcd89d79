//! Wiring: load the certificates, open the member's data, start raft, bind the client and peer
//! listeners (TLS on the `https://` ones), serve until SIGTERM or SIGINT (or the caller's
//! shutdown token), then drain and stop raft.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::boot::flags::{Config, host_port};
use crate::boot::tls::Tls;
use crate::cluster::Cluster;
use crate::http::{self, App};

/// How long open connections (watches included) get to finish after a shutdown signal.
const DRAIN: Duration = Duration::from_secs(3);

/// A TLS handshake that takes longer than this is dropped (Go's default handshake timeout).
const HANDSHAKE: Duration = Duration::from_secs(10);

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
    let peer = Served {
        side: "peer",
        urls: &config.listen_peer_urls,
        tls: tls.peer.clone(),
    };
    spawn_servers(
        &mut servers,
        listeners.peer,
        &peer,
        cluster.peer_router(),
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
    }
    let client = Served {
        side: "client",
        urls: &config.listen_client_urls,
        tls: tls.client.clone(),
    };
    spawn_servers(
        &mut servers,
        listeners.client,
        &client,
        http::client_router(app),
        &shutdown,
    );
    tracing::info!(
        name = %cluster.name,
        member = format!("{:x}", cluster.member_id),
        cluster = format!("{:x}", cluster.cluster_id),
        "ready to serve client requests on {}",
        config.listen_client_urls.join(",")
    );

    tokio::select! {
        _ = &mut stop => tracing::info!("received signal; shutting down"),
        _ = cluster.removed.cancelled() => {}
    }
    cluster.step_down().await;
    shutdown.cancel();
    let _ = tokio::time::timeout(DRAIN, async {
        while servers.join_next().await.is_some() {}
    })
    .await;
    cluster.shutdown().await;
    Ok(())
}

/// One kind of listener: which side it serves and with which TLS on its `https://` URLs.
struct Served<'a> {
    side: &'static str,
    /// The listen URLs, in the order the listeners were bound.
    urls: &'a [String],
    tls: Option<Arc<rustls::ServerConfig>>,
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
            router.clone(),
            acceptor,
            served.side,
            shutdown.clone(),
        ));
    }
}

/// Accept connections until `shutdown`, then let each finish its request. A TLS listener does
/// each handshake in the connection's own task, so a slow or hostile client holds up no other.
async fn serve_listener(
    listener: TcpListener,
    router: axum::Router,
    tls: Option<TlsAcceptor>,
    side: &'static str,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        let (stream, from) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: keep serving the open connections.
                Err(e) => {
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let shutdown = shutdown.clone();
        let tls = tls.clone();
        conns.spawn(async move {
            let Some(acceptor) = tls else {
                return serve_connection(stream, router, shutdown).await;
            };
            let handshake = tokio::select! {
                _ = shutdown.cancelled() => return,
                h = tokio::time::timeout(HANDSHAKE, acceptor.accept(stream)) => h,
            };
            match handshake {
                Ok(Ok(stream)) => serve_connection(stream, router, shutdown).await,
                // etcd logs these too ("http: TLS handshake error from …"); for the peer port
                // this is how an untrusted member shows up.
                Ok(Err(e)) => tracing::warn!("{side}: TLS handshake error from {from}: {e}"),
                Err(_) => tracing::warn!("{side}: TLS handshake from {from} timed out"),
            }
        });
        // Reap finished connections so the set does not grow without bound.
        while conns.try_join_next().is_some() {}
    }
    while conns.join_next().await.is_some() {}
    Ok(())
}

/// Serve HTTP/1.1 on one connection until it closes or `shutdown` asks it to finish.
///
/// hyper is driven directly rather than through `axum::serve` so that header names go out in
/// canonical case (`X-Etcd-Index`), byte for byte as Go's server writes them.
async fn serve_connection<S>(stream: S, router: axum::Router, shutdown: CancellationToken)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper_util::service::TowerToHyperService::new(router);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.title_case_headers(true);
    let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
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
