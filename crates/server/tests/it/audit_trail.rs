//! The audit trail as the application writes it and as an operator checks it: reads of a
//! child are recorded, and `tsunagu audit verify` passes on an untouched log and names the
//! entry that was changed or deleted.

use std::process::{Command, Output};

use axum::http::StatusCode;
use sqlx::Row;
use tsunagu_core::access::Role;

use crate::support::{TestApp, World, request_as, world};

fn verify(app: &TestApp) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args([
            "audit",
            "verify",
            "--database-url",
            app._database.url.as_str(),
        ])
        .env_remove("TSUNAGU_DATABASE_URL")
        .env("TSUNAGU_LOG", "error")
        .output()
        .expect("run tsunagu")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A day's work: sign-ins, reads in and out of scope, an export, a break-glass.
async fn some_activity(app: &TestApp, world: &World) {
    let staff = world.login_as(app, Role::MunicipalStaff).await;
    for child in [
        &world.children.itabashi_family,
        &world.children.itabashi_shared,
    ] {
        let res = app.get_as(&staff, &format!("/children/{child}")).await;
        assert_eq!(res.status, StatusCode::OK);
    }
    let res = app
        .get_as(&staff, &format!("/children/{}", world.children.nerima))
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get_as(&staff, "/children/export.csv").await.status,
        StatusCode::OK
    );
    let res = app
        .post_form_as(
            &staff,
            "/break-glass",
            &[
                ("resource_id", &world.children.nerima),
                (
                    "reason",
                    "救急搬送先から医療的ケアの内容について照会があったため",
                ),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let family = world.login_as(app, Role::Guardian).await;
    let res = app
        .get_as(
            &family,
            &format!("/children/{}/access-log", world.children.itabashi_family),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
}

async fn seq_of_read(app: &TestApp, child: &str) -> i64 {
    let row = sqlx::query(
        "SELECT seq FROM audit_log WHERE action = 'read' AND child_id = $1 ORDER BY seq LIMIT 1",
    )
    .bind(child)
    .fetch_one(app.db.pool())
    .await
    .expect("a read entry");
    row.try_get(0).unwrap()
}

async fn last_seq(app: &TestApp) -> i64 {
    let row = sqlx::query("SELECT max(seq) FROM audit_log")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    row.try_get(0).unwrap()
}

#[tokio::test]
async fn reading_a_child_is_audited_with_who_from_where() {
    let (app, world) = world().await;
    let session = world.login_as(&app, Role::Coordinator).await;
    let coordinator = world.person(Role::Coordinator);
    let child = &world.children.itabashi_family;
    let res = app
        .request(
            request_as(
                &session,
                axum::http::Method::GET,
                &format!("/children/{child}"),
            )
            .header("user-agent", "Mozilla/5.0 (tsunagu test)")
            .body(axum::body::Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let row = sqlx::query(
        "SELECT actor_account_id, actor_organisation_id, outcome, resource_type, resource_id, \
         client_addr, user_agent FROM audit_log WHERE action = 'read' AND child_id = $1",
    )
    .bind(child.as_str())
    .fetch_one(app.db.pool())
    .await
    .expect("exactly one read entry");
    let text = |c: &str| {
        row.try_get::<Option<String>, _>(c)
            .unwrap()
            .unwrap_or_default()
    };
    assert_eq!(text("actor_account_id"), coordinator.id);
    assert_eq!(text("actor_organisation_id"), coordinator.organisation_id);
    assert_eq!(text("outcome"), "allowed");
    assert_eq!(text("resource_type"), "child");
    assert_eq!(text("resource_id"), *child);
    // The tests send no peer address; the server records that it had none.
    assert_eq!(text("client_addr"), "unknown");
    assert_eq!(text("user_agent"), "Mozilla/5.0 (tsunagu test)");
    // The family sees it.
    let family = world.login_as(&app, Role::Guardian).await;
    let history = app
        .get_as(&family, &format!("/children/{child}/access-log"))
        .await;
    assert!(history.body.contains(&coordinator.display_name));
    assert!(history.body.contains("<td>閲覧</td>"), "{}", history.body);
}

#[tokio::test]
async fn audit_verify_passes_untouched_and_names_the_altered_entry() {
    let (app, world) = world().await;
    some_activity(&app, &world).await;
    let total = last_seq(&app).await;
    assert!(total >= 8, "{total} entries");
    let ok = verify(&app);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert!(
        stdout(&ok).contains(&format!("audit chain of {total} entries verified")),
        "{}",
        stdout(&ok)
    );
    assert!(stdout(&ok).contains("改ざんはありません"));
    // Someone edits the stored read of a child.
    let n = seq_of_read(&app, &world.children.itabashi_shared).await;
    assert!(n > 1 && n < total, "a middle entry: {n} of {total}");
    sqlx::query("UPDATE audit_log SET detail = 'x' WHERE seq = $1")
        .bind(n)
        .execute(app.db.pool())
        .await
        .unwrap();
    let bad = verify(&app);
    assert_eq!(bad.status.code(), Some(2), "{}", stdout(&bad));
    let message = stderr(&bad);
    assert!(
        message.contains(&format!("監査ログ #{n} の内容が改ざんされています"))
            && message.contains(&format!("audit entry {n} was altered")),
        "{message}"
    );
    assert!(!message.contains("panicked"), "{message}");
}

#[tokio::test]
async fn audit_verify_names_a_deleted_entry() {
    let (app, world) = world().await;
    some_activity(&app, &world).await;
    let total = last_seq(&app).await;
    let n = seq_of_read(&app, &world.children.itabashi_family).await;
    assert!(n > 1 && n < total);
    sqlx::query("DELETE FROM audit_log WHERE seq = $1")
        .bind(n)
        .execute(app.db.pool())
        .await
        .unwrap();
    let bad = verify(&app);
    assert_eq!(bad.status.code(), Some(2), "{}", stdout(&bad));
    let message = stderr(&bad);
    assert!(
        message.contains(&format!("監査ログ #{n} が削除されています"))
            && message.contains(&format!("audit entry {n} is missing")),
        "{message}"
    );
}

#[tokio::test]
async fn audit_verify_notices_the_newest_entry_deleted() {
    let (app, world) = world().await;
    some_activity(&app, &world).await;
    let total = last_seq(&app).await;
    sqlx::query("DELETE FROM audit_log WHERE seq = $1")
        .bind(total)
        .execute(app.db.pool())
        .await
        .unwrap();
    let bad = verify(&app);
    assert_eq!(bad.status.code(), Some(2), "{}", stdout(&bad));
    let message = stderr(&bad);
    assert!(
        message.contains(&format!("#{total}")) && message.contains(&format!("entry {total}")),
        "{message}"
    );
}
