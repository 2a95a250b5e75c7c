//! Schema migrations, embedded in the binary: one folder per backend with the same
//! versions. Reference data is loaded right after, as part of the same step.

use std::collections::BTreeSet;

use sqlx::Row;
use sqlx::migrate::Migrator;

use super::Db;
use crate::config::Backend;
use crate::error::StartupError;

pub static SQLITE: Migrator = sqlx::migrate!("../../migrations/sqlite");
pub static POSTGRES: Migrator = sqlx::migrate!("../../migrations/postgres");

fn migrator(backend: Backend) -> &'static Migrator {
    match backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    }
}

/// Applies pending migrations. The reference data is loaded after them by
/// `tsunagu::migrate` (the database layer knows no feature).
pub async fn run(db: &Db) -> Result<(), StartupError> {
    migrator(db.backend())
        .run(db.pool())
        .await
        .map_err(|err| StartupError::Migrate(err.to_string()))?;
    Ok(())
}

/// One migration as `tsunagu check` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    pub version: i64,
    pub description: String,
    pub applied: bool,
}

pub async fn status(db: &Db) -> Result<Vec<MigrationStatus>, sqlx::Error> {
    let applied: BTreeSet<i64> =
        match sqlx::query("SELECT version FROM _sqlx_migrations WHERE success = $1")
            .bind(true)
            .fetch_all(db.pool())
            .await
        {
            Ok(rows) => rows
                .iter()
                .map(|r| r.try_get::<i64, _>(0))
                .collect::<Result<_, _>>()?,
            // No table yet: nothing has been applied.
            Err(_) => BTreeSet::new(),
        };
    Ok(migrator(db.backend())
        .iter()
        .map(|m| MigrationStatus {
            version: m.version,
            description: m.description.to_string(),
            applied: applied.contains(&m.version),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_have_the_same_migration_versions() {
        let versions = |m: &Migrator| -> Vec<(i64, String)> {
            m.iter()
                .map(|m| (m.version, m.description.to_string()))
                .collect()
        };
        assert!(SQLITE.iter().next().is_some(), "no migrations embedded");
        assert_eq!(versions(&SQLITE), versions(&POSTGRES));
    }
}
