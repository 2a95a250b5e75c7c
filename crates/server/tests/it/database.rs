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

/// A database of the release before families had their own organisation: its guardians'
/// memberships sat in the department that owns their child's record. The upgrade moves
/// them to the town's families' organisation, once per account, and leaves staff alone.
#[tokio::test]
async fn the_upgrade_moves_families_out_of_the_departments() {
    let database = fresh_database().await;
    let db = tsunagu::db::Db::connect(&database.url, 2).await.unwrap();
    let migrator = if on_postgres() {
        &migrations::POSTGRES
    } else {
        &migrations::SQLITE
    };
    migrator.run_to(20261207000018, db.pool()).await.unwrap();
    for sql in [
        "INSERT INTO municipalities (code, prefecture_code, name, kana, kind, parent_code, search_key) \
         VALUES ('130001', '13', '東京都', 'とうきょうと', 'prefecture', NULL, 'x'), \
                ('131199', '13', '板橋区', 'いたばしく', 'special_ward', '130001', 'y')",
        "INSERT INTO organisations (id, name, kana, kind, department, municipality_code, created_at, updated_at) \
         VALUES ('11111111-1111-4111-8111-111111111111', '障害サービス課', 'しょうがい', 'municipal_department', 'disability_welfare', '131199', 1, 1), \
                ('22222222-2222-4222-8222-222222222222', '保育課', 'ほいく', 'municipal_department', 'childcare', '131199', 2, 2)",
        "INSERT INTO accounts (id, login_id, display_name, kana, password_hash, created_at, updated_at) \
         VALUES ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'mother', '田中 みき', 'たなか みき', 'x', 1, 1), \
                ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'staff', '職員', 'しょくいん', 'x', 1, 1)",
        // The mother's two children are owned by two departments: two old memberships.
        "INSERT INTO memberships (account_id, organisation_id, role, created_at) VALUES \
         ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', '11111111-1111-4111-8111-111111111111', 'guardian', 5), \
         ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', '22222222-2222-4222-8222-222222222222', 'guardian', 6), \
         ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', '11111111-1111-4111-8111-111111111111', 'municipal_staff', 7)",
    ] {
        sqlx::query(sql).execute(db.pool()).await.unwrap();
    }
    migrator.run(db.pool()).await.unwrap();

    let rows = sqlx::query(
        "SELECT m.account_id, m.role, o.kind, o.name, o.id FROM memberships m \
         JOIN organisations o ON o.id = m.organisation_id ORDER BY m.account_id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let seen: Vec<(String, String, String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get(0).unwrap(),
                r.try_get(1).unwrap(),
                r.try_get(2).unwrap(),
                r.try_get(3).unwrap(),
                r.try_get(4).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa".into(),
                "guardian".into(),
                "family".into(),
                "板橋区のご家族".into(),
                organisations::repo::families_id("131199").as_str().into(),
            ),
            (
                "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb".into(),
                "municipal_staff".into(),
                "municipal_department".into(),
                "障害サービス課".into(),
                "11111111-1111-4111-8111-111111111111".into(),
            ),
        ]
    );
    // The families' id is one the application reads as an id.
    let families = organisations::repo::families_id("131199");
    assert_eq!(
        tsunagu_core::ids::OrganisationId::parse(families.as_str()).unwrap(),
        families
    );
    if !on_postgres() {
        assert_eq!(
            count(&db, "SELECT count(*) FROM pragma_foreign_key_check").await,
            0
        );
        assert_eq!(count(&db, "PRAGMA foreign_keys").await, 1);
    }
}
