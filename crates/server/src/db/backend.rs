//! The few places where SQLite and PostgreSQL need different statements.
//! Feature code never branches on the backend; it calls these.

use std::path::Path;

use sqlx::Row;

use super::Db;
use crate::config::Backend;
use crate::error::StartupError;

/// Each SQLite connection's page cache: 8 MiB instead of SQLite's 2 MB, so the indexes a
/// list walks stay in memory on a registry of national size (docs/PERFORMANCE.md); with the
/// default pool of 8 connections that is at most 64 MiB.
pub const SQLITE_PAGE_CACHE: &str = "PRAGMA cache_size = -8192";

/// Statements run on every new connection.
pub fn per_connection_setup(backend: Backend) -> &'static [&'static str] {
    match backend {
        // Foreign keys are off by default in SQLite; the busy timeout makes a writer wait
        // for another instead of failing at once; NORMAL is safe in WAL mode; sorts and
        // the list's id sets stay in memory rather than in temporary files.
        Backend::Sqlite => &[
            "PRAGMA foreign_keys = ON",
            "PRAGMA busy_timeout = 5000",
            "PRAGMA synchronous = NORMAL",
            SQLITE_PAGE_CACHE,
            "PRAGMA temp_store = MEMORY",
        ],
        Backend::Postgres => &["SET TIME ZONE 'UTC'"],
    }
}

/// Whether a read of many rows is cheaper as one JSON text built by the database. On
/// SQLite it is: each column of each row otherwise goes through the `Any` driver, which
/// copies every value several times (a list page: 1.5 → 1.1 ms of CPU). On PostgreSQL it
/// is not: `json_build_array` costs the server more than sending the rows (+0.6 ms per
/// page). Measurements in docs/PERFORMANCE.md, fourth pass.
pub fn reads_pages_as_json(backend: Backend) -> bool {
    backend == Backend::Sqlite
}

/// After many rows were written at once (the national generator): PostgreSQL's statistics
/// and visibility map are brought up to date at once rather than whenever autovacuum next
/// comes by, as an operator does after a bulk load. Without them the planner guesses
/// row counts, and index-only scans (e.g. a centre's consents) still visit every row.
/// SQLite plans without statistics and needs nothing.
pub async fn after_bulk_load(db: &Db) -> Result<(), sqlx::Error> {
    if db.backend() == Backend::Postgres {
        // The simple protocol: VACUUM refuses to run inside a (prepared) transaction block.
        sqlx::raw_sql("VACUUM (ANALYZE)").execute(db.pool()).await?;
    }
    Ok(())
}

/// Creates the folder of a SQLite file and checks that it can be written to.
pub fn prepare_sqlite_folder(path: &Path) -> Result<(), StartupError> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => Path::new(".").to_path_buf(),
    };
    let fail = |source| StartupError::DataFolder {
        path: folder.clone(),
        source,
    };
    std::fs::create_dir_all(&folder).map_err(fail)?;
    // A probe file: permission problems show up here, not as an obscure driver error later.
    let probe = folder.join(format!(".tsunagu-write-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(fail)?;
    std::fs::remove_file(&probe).map_err(fail)?;
    Ok(())
}

/// `($1, $2), ($3, $4)` for a multi-row INSERT. Both backends accept numbered
/// placeholders, so one generated string serves both.
pub fn placeholder_rows(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=columns)
                .map(|c| format!("${}", r * columns + c))
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Name and version of the server, e.g. "SQLite 3.50.4".
pub async fn server_version(db: &Db) -> Result<String, sqlx::Error> {
    let sql = match db.backend() {
        Backend::Sqlite => "SELECT sqlite_version()",
        Backend::Postgres => "SHOW server_version",
    };
    let row = sqlx::query(sql).fetch_one(db.pool()).await?;
    let version: String = row.try_get(0)?;
    Ok(format!("{} {}", db.backend().name(), version))
}

/// The backend's own integrity check; an empty list means no problem was found.
pub async fn integrity_problems(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    match db.backend() {
        Backend::Sqlite => {
            let rows = sqlx::query("PRAGMA integrity_check")
                .fetch_all(db.pool())
                .await?;
            let mut problems = Vec::new();
            for row in rows {
                let line: String = row.try_get(0)?;
                if line != "ok" {
                    problems.push(line);
                }
            }
            let fk = sqlx::query("PRAGMA foreign_key_check")
                .fetch_all(db.pool())
                .await?;
            if !fk.is_empty() {
                problems.push(format!(
                    "外部キー違反 {} 件 / {} foreign key violations",
                    fk.len(),
                    fk.len()
                ));
            }
            Ok(problems)
        }
        // PostgreSQL checks its pages itself; a query that reaches every table is the check.
        Backend::Postgres => {
            sqlx::query("SELECT count(*) FROM municipalities")
                .fetch_one(db.pool())
                .await?;
            Ok(Vec::new())
        }
    }
}

/// The PostgreSQL database's collation (`None` on SQLite, which compares text byte by byte).
pub async fn collation(db: &Db) -> Result<Option<String>, sqlx::Error> {
    match db.backend() {
        Backend::Sqlite => Ok(None),
        Backend::Postgres => {
            let row = sqlx::query(
                "SELECT datcollate::text FROM pg_database WHERE datname = current_database()",
            )
            .fetch_one(db.pool())
            .await?;
            Ok(Some(row.try_get(0)?))
        }
    }
}

/// Advice for a PostgreSQL database not created with the `C` collation: under any other,
/// text is compared through the C library's `strcoll` (slower, docs/PERFORMANCE.md) and
/// kana may be sorted in that locale's order rather than SQLite's. `None` when it is `C`.
pub fn collation_advice(collation: &str) -> Option<String> {
    if matches!(collation, "C" | "POSIX") {
        return None;
    }
    Some(format!(
        "照合順序が「{collation}」です。文字列の比較が遅くなり、一覧のかな順も SQLite と異なることがあります。\
         データベースは照合順序 C で作成してください（docs/OPERATIONS.md） / \
         collation {collation}: create the database with the C collation"
    ))
}

/// What `tsunagu backup` can do on this backend.
pub enum BackupOutcome {
    Written,
    UsePgDump,
}

/// An online, consistent copy of a SQLite database while the server keeps running.
/// `VACUUM INTO` reads one snapshot of the database and writes a compact new file.
pub async fn backup_to(db: &Db, target: &Path) -> Result<BackupOutcome, StartupError> {
    if db.backend() == Backend::Postgres {
        return Ok(BackupOutcome::UsePgDump);
    }
    if target.exists() {
        return Err(StartupError::Input(
            format!(
                "バックアップ先 {} は既に存在します。別のファイル名を指定してください",
                target.display()
            ),
            "backup target already exists",
        ));
    }
    let target_str = target.to_str().ok_or_else(|| {
        StartupError::Input(
            "バックアップ先のパスに使えない文字があります".into(),
            "backup path is not UTF-8",
        )
    })?;
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| StartupError::DataFolder {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    sqlx::query("VACUUM INTO $1")
        .bind(target_str)
        .execute(db.pool())
        .await?;
    Ok(BackupOutcome::Written)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_the_c_collation_goes_without_advice() {
        assert_eq!(super::collation_advice("C"), None);
        assert_eq!(super::collation_advice("POSIX"), None);
        for other in ["C.UTF-8", "ja_JP.UTF-8", "en_US.utf8"] {
            let advice = super::collation_advice(other).expect("advice");
            assert!(
                advice.contains(&format!("照合順序が「{other}」")),
                "{advice}"
            );
        }
    }

    #[test]
    fn placeholders_number_rows_in_order() {
        assert_eq!(super::placeholder_rows(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(super::placeholder_rows(1, 1), "($1)");
    }
}
