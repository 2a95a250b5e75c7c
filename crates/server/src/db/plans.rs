//! Checks on SQLite's query plans for the statements every request runs. The tests run on
//! small data, where a statement that reads a whole table is still fast; on the national
//! set the same plan costs milliseconds per request (docs/PERFORMANCE.md, third pass: a
//! session statement that joined every organisation). Without statistics SQLite plans the
//! same way for an empty table as for a full one, so an empty migrated database shows it.

use sqlx::Row;
use tempfile::TempDir;

use crate::config::DatabaseUrl;
use crate::db::Db;

/// A migrated SQLite database in a temporary folder.
pub(crate) async fn database() -> (TempDir, Db) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = DatabaseUrl::parse(&format!("sqlite://{}/plans.db", dir.path().display()))
        .expect("a SQLite URL");
    let db = Db::connect(&url, 1).await.expect("a database");
    // The schema is all a plan needs (no reference data).
    crate::db::migrations::run(&db)
        .await
        .expect("a migrated database");
    (dir, db)
}

/// The lines of SQLite's plan for one of the application's statements (`EXPLAIN QUERY
/// PLAN`, each `$n` bound to a dummy value: values do not change the plan).
pub(crate) async fn plan(db: &Db, sql: &str) -> Vec<String> {
    // Safe: the text is one of the application's own statements, prefixed.
    let mut explain = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")));
    let placeholders = (1..=400)
        .take_while(|n| sql.contains(&format!("${n}")))
        .count();
    for _ in 0..placeholders {
        explain = explain.bind("x");
    }
    explain
        .fetch_all(db.pool())
        .await
        .expect("a plan")
        .iter()
        .map(|row| row.try_get::<String, _>("detail").expect("plan detail"))
        .collect()
}

/// The plan lines that read a table (or a join) from end to end. Reading the rows of a
/// common table expression, a subquery or a named intermediate result is fine.
pub(crate) fn full_scans(plan: &[String], intermediate: &[&str]) -> Vec<String> {
    plan.iter()
        .filter(|line| {
            let Some(what) = line.strip_prefix("SCAN ") else {
                return false;
            };
            let name = what.split_whitespace().next().unwrap_or("");
            !(name == "CONSTANT" || name.starts_with("(subquery-") || intermediate.contains(&name))
        })
        .cloned()
        .collect()
}

mod tests {
    use super::*;

    #[tokio::test]
    async fn the_check_sees_a_full_scan() {
        let (_dir, db) = database().await;
        let scan = plan(&db, "SELECT id FROM children WHERE name = $1").await;
        assert_eq!(full_scans(&scan, &[]).len(), 1, "{scan:?}");
        let search = plan(&db, "SELECT name FROM children WHERE id = $1").await;
        assert!(full_scans(&search, &[]).is_empty(), "{search:?}");
    }

    /// Without the query planner stability guarantee SQLite plans a statement again each
    /// time a value bound to `LIMIT $n` changes, i.e. on every list page (docs/PERFORMANCE.md,
    /// fourth pass). The flag is set for the bundled build in `.cargo/config.toml`.
    #[tokio::test]
    async fn statements_are_planned_once_whatever_their_values() {
        let (_dir, db) = database().await;
        let row = sqlx::query("SELECT sqlite_compileoption_used('ENABLE_QPSG')")
            .fetch_one(db.pool())
            .await
            .expect("compile options");
        assert_eq!(row.try_get::<i64, _>(0).expect("a number"), 1);
    }
}
