//! tsunagu: build the application from a configuration. Used by `main` and by the tests.

pub mod audit;
pub mod auth;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod features;
pub mod gate;
pub mod openapi;
pub mod organisations;
pub mod router;
pub mod state;
pub mod tabular;
pub mod telemetry;
pub mod view;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tsunagu_core::clock::Clock;

use crate::config::{Backend, DatabaseUrl};
use crate::db::Db;
use crate::error::StartupError;
use crate::state::{AppState, Settings};

/// Default pool sizes: SQLite has one writer anyway. PostgreSQL: two connections per core
/// of this machine, at least 4 and at most 16 — more backends than the cores can run only
/// take turns: on 2 cores, 4 connections served the national list and child page with a
/// lower p99 and less database CPU per page than 16 (docs/PERFORMANCE.md, fifth pass).
pub fn default_max_connections(backend: Backend) -> u32 {
    match backend {
        Backend::Sqlite => 8,
        Backend::Postgres => {
            let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
            postgres_pool_size(cores)
        }
    }
}

fn postgres_pool_size(cores: usize) -> u32 {
    u32::try_from(cores.saturating_mul(2)).map_or(16, |n| n.clamp(4, 16))
}

/// Connects, applies pending migrations and loads reference data.
pub async fn open_database(
    url: &DatabaseUrl,
    max_connections: Option<u32>,
) -> Result<Db, StartupError> {
    let db = Db::connect(
        url,
        max_connections.unwrap_or_else(|| default_max_connections(url.backend())),
    )
    .await?;
    migrate(&db).await?;
    Ok(db)
}

/// Applies pending migrations, then (re)loads the reference data if its snapshot changed.
pub async fn migrate(db: &Db) -> Result<(), StartupError> {
    db::migrations::run(db).await?;
    features::municipalities::reference::ensure_loaded(db).await
}

/// Purges expired sessions and old sign-in failures every ten minutes while serving.
pub fn spawn_maintenance(db: Db, clock: Arc<dyn Clock>, settings: &Settings) {
    let absolute = settings.lifetimes().absolute;
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            if let Err(err) = auth::login::purge_expired(&db, clock.now(), absolute).await {
                tracing::warn!(error = %err, "maintenance purge failed");
            }
        }
    });
}

/// Appends the audit chain's head to `file` every `every` while serving, when the chain has
/// grown since the last checkpoint (and once at start): a rewritten chain no longer holds
/// a head recorded outside the database (`tsunagu audit verify --checkpoints`).
pub fn spawn_audit_checkpoints(
    db: Db,
    clock: Arc<dyn Clock>,
    file: std::path::PathBuf,
    every: std::time::Duration,
) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        let mut last_seq = None;
        loop {
            ticks.tick().await;
            let head = match audit::chain::checkpoint(&db, clock.now()).await {
                Ok(head) => head,
                Err(err) => {
                    tracing::warn!(error = %err, "audit checkpoint: reading the head failed");
                    continue;
                }
            };
            if last_seq == Some(head.seq) {
                continue;
            }
            match audit::write_checkpoint(&db, &file, clock.now()).await {
                Ok(line) => {
                    tracing::info!(checkpoint = %line, "audit checkpoint written");
                    last_seq = Some(head.seq);
                }
                Err(err) => tracing::error!(error = %err, "audit checkpoint not written"),
            }
        }
    });
}

pub fn app(db: Db, clock: Arc<dyn Clock>, settings: Settings) -> Router {
    router::router(AppState {
        db,
        clock,
        settings: Arc::new(settings),
        copies: Arc::default(),
    })
}

/// Binds first, so a port in use is reported before anything else happens.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, StartupError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartupError::Listen {
            addr: addr.to_string(),
            source,
        })
}

/// What a slow or stuck client may hold. A client that has not sent a whole request head
/// within `header_read` — also the time a kept-alive connection may sit idle between
/// requests — is cut off; a request body that makes no progress for `body_idle` is ended;
/// beyond `max_connections` open connections, new ones are closed at once, so a crowd of
/// slow sockets cannot starve everyone else.
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    pub header_read: std::time::Duration,
    pub body_idle: std::time::Duration,
    pub max_connections: usize,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            header_read: std::time::Duration::from_secs(10),
            body_idle: std::time::Duration::from_secs(20),
            max_connections: 1024,
        }
    }
}

/// Serves until Ctrl-C or SIGTERM, letting requests in flight finish.
pub async fn serve(listener: TcpListener, app: Router) -> Result<(), StartupError> {
    serve_with(listener, app, ServeLimits::default(), shutdown_signal()).await
}

/// [`serve`] with chosen limits, until `stop` completes (tests stop it themselves).
pub async fn serve_with(
    listener: TcpListener,
    app: Router,
    limits: ServeLimits,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), StartupError> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let app = app.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
        limits.body_idle,
    ));
    let open = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .keep_alive(true);
    tokio::pin!(stop);
    loop {
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait a little, keep serving.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tracing::warn!(%addr, "connection refused: too many open connections");
            drop(stream);
            continue;
        };
        let app = app.clone();
        let service = hyper::service::service_fn(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(addr));
                tower::ServiceExt::oneshot(app.clone(), request.map(axum::body::Body::new))
            },
        );
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A client cut off (timeout, reset) is not an error of the server.
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, %addr, "connection ended");
            }
            drop(permit);
        });
    }
    drop(listener);
    // Requests in flight finish; connections idle or stuck are closed.
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(std::time::Duration::from_secs(30)) => {
            tracing::warn!("shutdown: connections still open after 30 s were dropped");
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::postgres_pool_size;

    #[test]
    fn the_postgres_pool_follows_the_cores_within_bounds() {
        assert_eq!(postgres_pool_size(1), 4);
        assert_eq!(postgres_pool_size(2), 4);
        assert_eq!(postgres_pool_size(4), 8);
        assert_eq!(postgres_pool_size(64), 16);
        assert_eq!(postgres_pool_size(usize::MAX), 16);
    }
}
