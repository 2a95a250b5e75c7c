//! The database: one pool over the `Any` driver, the same SQL for SQLite and PostgreSQL.
//! Everything that differs between the two backends lives in [`backend`].

pub mod backend;
pub mod codec;
pub mod migrations;
#[cfg(test)]
pub(crate) mod plans;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Connection, Executor};

use crate::config::{Backend, DatabaseUrl};
use crate::error::StartupError;

/// A pooled connection idle for this long is checked before use (see [`Db::connect`]).
pub const CHECK_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

/// A pool plus the backend it talks to.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer at a time; hot write paths take turns here (see
    /// [`Db::sqlite_writer_turn`]). Per process, which is all SQLite serves.
    sqlite_writer: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Values shared by every clone of this pool, one per type (the audit trail keeps its
    /// group-commit queue here): the database layer holds them without knowing them.
    shared: std::sync::Arc<std::sync::Mutex<Vec<std::sync::Arc<dyn std::any::Any + Send + Sync>>>>,
}

impl Db {
    /// Opens the pool. For SQLite the folder is created first, so that a missing or
    /// unwritable folder gets its own clear message instead of a driver error.
    pub async fn connect(url: &DatabaseUrl, max_connections: u32) -> Result<Self, StartupError> {
        install_default_drivers();
        if let Some(path) = url.sqlite_path() {
            backend::prepare_sqlite_folder(&path)?;
        }
        let backend = url.backend();
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            // sqlx checks every connection when it goes back to the pool, and by default
            // again when it is taken out: a round trip per use (to SQLite's worker thread or
            // to PostgreSQL), several per page. A connection released moments ago is alive;
            // one that sat idle may have been closed by the server (a restart), so only
            // that one is checked, and replaced when dead (docs/PERFORMANCE.md, fourth pass).
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= CHECK_WHEN_IDLE_FOR {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    for pragma in backend::per_connection_setup(backend) {
                        conn.execute(*pragma).await?;
                    }
                    Ok(())
                })
            })
            .connect(&url.connect_url())
            .await
            .map_err(|source| StartupError::Connect {
                url: url.redacted(),
                source,
            })?;
        if backend == Backend::Sqlite {
            // WAL lets readers go on while one writer commits; it is a property of the file.
            pool.execute("PRAGMA journal_mode=WAL").await?;
        }
        Ok(Self {
            pool,
            backend,
            sqlite_writer: Default::default(),
            shared: Default::default(),
        })
    }

    /// On SQLite, waits for this process's turn to write; on PostgreSQL, returns at once.
    /// Hold the guard for the whole write transaction.
    pub async fn sqlite_writer_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.backend {
            Backend::Sqlite => Some(self.sqlite_writer.lock().await),
            Backend::Postgres => None,
        }
    }

    /// The value of type `T` shared by every clone of this pool, made on first use.
    pub fn shared<T: std::any::Any + Send + Sync + Default>(&self) -> std::sync::Arc<T> {
        let mut values = self
            .shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(found) = values.iter().find_map(|v| v.clone().downcast::<T>().ok()) {
            return found;
        }
        let value = std::sync::Arc::new(T::default());
        values.push(value.clone());
        value
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// One round trip to the database (the health check).
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
