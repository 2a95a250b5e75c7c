//! The database: one pool over the `Any` driver, the same SQL for SQLite and PostgreSQL.
//! Everything that differs between the two backends lives in [`backend`].

pub mod backend;
pub mod codec;
pub mod migrations;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

use crate::config::{Backend, DatabaseUrl};
use crate::error::StartupError;

/// A pool plus the backend it talks to.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
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
        Ok(Self { pool, backend })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
