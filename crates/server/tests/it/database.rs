//! The database layer on the backend under test: migrations, reference data, conventions.

use sqlx::Row;
use tsunagu::db::migrations;
use tsunagu::organisations::{self, Department, NewOrganisation, OrganisationKind};
use tsunagu_core::clock::Clock;
use tsunagu_core::municipality::MunicipalityCode;

use crate::support::{app, fresh_database, on_postgres};

async fn count(db: &tsunagu::db::Db, sql: &'static str) -> i64 {
    sqlx::query(sql)
        .fetch_one(db.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

#[tokio::test]
async fn migrations_apply_once_and_load_the_snapshot() {
    let app = app().await;
    assert_eq!(
        count(&app.db, "SELECT count(*) FROM municipalities").await,
        // The snapshot's 1,963 and 浜松市's two wards of 2024 (data/municipality_changes.csv).
        1965
    );
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM municipalities WHERE kind = 'prefecture'"
        )
        .await,
        47
    );
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM area_members WHERE area_id = '13-kubu'"
        )
        .await,
        23
    );
    let loaded_at = count(&app.db, "SELECT loaded_at FROM reference_snapshots").await;
    // Running again changes nothing: the same snapshot is not reloaded.
    tsunagu::migrate(&app.db).await.unwrap();
    assert_eq!(
        count(&app.db, "SELECT loaded_at FROM reference_snapshots").await,
        loaded_at
    );
    let status = migrations::status(&app.db).await.unwrap();
    assert!(!status.is_empty() && status.iter().all(|m| m.applied));
}

#[tokio::test]
async fn a_changed_snapshot_reloads_without_losing_referenced_rows() {
    let app = app().await;
    let org = organisations::create(
        &app.db,
        &NewOrganisation {
            name: "板橋区 障害サービス課".into(),
            kana: "いたばしく".into(),
            kind: OrganisationKind::MunicipalDepartment,
            department: Some(Department::DisabilityWelfare),
            municipality_code: MunicipalityCode::parse("131199").unwrap(),
        },
        crate::support::test_clock().now(),
    )
    .await
    .unwrap();
    sqlx::query("UPDATE reference_snapshots SET snapshot = 'older'")
        .execute(app.db.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE municipalities SET name = 'いたばし（旧）' WHERE code = '131199'")
        .execute(app.db.pool())
        .await
        .unwrap();
    tsunagu::migrate(&app.db).await.unwrap();
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM municipalities WHERE name = '板橋区'"
        )
        .await,
        1
    );
    let found = organisations::in_municipality(&app.db, "131199")
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, org.id);
    assert!(found[0].active, "flags read back as true on both backends");
}

#[tokio::test]
async fn organisation_rules_hold_in_the_database() {
    let app = app().await;
    // A municipal department without a department is refused by the schema itself.
    let res = sqlx::query(
        "INSERT INTO organisations (id, name, kana, kind, department, municipality_code, created_at, updated_at) \
         VALUES ('x', 'x', 'x', 'municipal_department', NULL, '131199', 0, 0)",
    )
    .execute(app.db.pool())
    .await;
    assert!(res.is_err(), "department required");
    // An unknown municipality is refused by the foreign key.
    let res = sqlx::query(
        "INSERT INTO organisations (id, name, kana, kind, department, municipality_code, created_at, updated_at) \
         VALUES ('y', 'y', 'y', 'facility', NULL, '131989', 0, 0)",
    )
    .execute(app.db.pool())
    .await;
    assert!(res.is_err(), "foreign key enforced");
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_foreign_keys() {
    if on_postgres() {
        return;
    }
    let app = app().await;
    let mode: String = sqlx::query("PRAGMA journal_mode")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(count(&app.db, "PRAGMA foreign_keys").await, 1);
    assert_eq!(count(&app.db, "PRAGMA busy_timeout").await, 5000);
}

#[tokio::test]
async fn an_empty_database_reports_pending_migrations() {
    let database = fresh_database().await;
    let db = tsunagu::db::Db::connect(&database.url, 2).await.unwrap();
    let status = migrations::status(&db).await.unwrap();
    assert!(!status.is_empty() && status.iter().all(|m| !m.applied));
}

/// Connections are not checked on every use (a round trip each time), so one the server
/// closed while it sat in the pool (a PostgreSQL restart) must still be found out and
/// replaced before a request uses it.
#[tokio::test]
async fn a_connection_closed_by_the_server_is_replaced_after_sitting_idle() {
    let database = fresh_database().await;
    let db = tsunagu::open_database(&database.url, Some(1))
        .await
        .expect("open");
    let session_id = if on_postgres() {
        "SELECT CAST(pg_backend_pid() AS BIGINT)"
    } else {
        "SELECT 1"
    };
    let first = count(&db, session_id).await;
    if on_postgres() {
        let other = tsunagu::open_database(&database.url, Some(1))
            .await
            .expect("a second pool");
        let ended: bool = sqlx::query("SELECT pg_terminate_backend(CAST($1 AS INTEGER))")
            .bind(first)
            .fetch_one(other.pool())
            .await
            .expect("terminate")
            .try_get(0)
            .expect("a flag");
        assert!(ended);
    }
    tokio::time::sleep(tsunagu::db::CHECK_WHEN_IDLE_FOR + std::time::Duration::from_millis(200))
        .await;
    let second = count(&db, session_id).await;
    if on_postgres() {
        assert_ne!(first, second, "a new server process");
    }
}
