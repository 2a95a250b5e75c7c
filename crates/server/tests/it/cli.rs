//! The `tsunagu` command itself: bad input ends with one clear line and exit code 2.

use std::process::{Command, Output};

use crate::support::{fresh_database, on_postgres};

fn tsunagu(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args(args)
        .env_remove("TSUNAGU_DATABASE_URL")
        .env("TSUNAGU_LOG", "error")
        .output()
        .expect("run tsunagu")
}

/// Exit code 2, one line on stderr, Japanese and English, and never a panic.
fn assert_clean_failure(out: &Output, japanese: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("エラー")).collect();
    assert_eq!(lines.len(), 1, "one error line expected: {stderr}");
    assert!(lines[0].contains(japanese), "{stderr}");
    assert!(
        lines[0].contains(" / "),
        "Japanese / English expected: {stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
}

#[test]
fn holidays_are_printed_as_csv() {
    let out = tsunagu(&["calendar", "holidays", "--from", "2026", "--to", "2026"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().next().unwrap().starts_with("2026-01-01,元日"));
    assert!(text.contains("2026-05-06,振替休日\n"));
    assert!(text.contains("2026-09-22,国民の休日\n"));
    assert!(
        text.lines()
            .all(|l| l.len() > 11 && l.as_bytes()[10] == b',')
    );
}

#[test]
fn a_year_out_of_range_is_refused() {
    assert_clean_failure(
        &tsunagu(&["calendar", "holidays", "--from", "1954", "--to", "2000"]),
        "1955",
    );
    assert_clean_failure(
        &tsunagu(&["calendar", "holidays", "--from", "2000", "--to", "2100"]),
        "2099",
    );
}

#[test]
fn an_unknown_database_scheme_is_refused_without_creating_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .current_dir(dir.path())
        .args(["migrate", "--database-url", "mysql://localhost/tsunagu"])
        .output()
        .unwrap();
    assert_clean_failure(&out, "データベースURLの形式が不明です");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing may be created"
    );
}

#[test]
fn an_unwritable_data_folder_is_refused() {
    // /proc does not accept new folders, even for root.
    let out = tsunagu(&[
        "migrate",
        "--database-url",
        "sqlite:///proc/tsunagu-test/x.db",
    ]);
    assert_clean_failure(&out, "データフォルダを作成または書き込みできません");
}

#[test]
fn a_port_in_use_is_refused() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/x.db", dir.path().display());
    let out = tsunagu(&["serve", "--database-url", &url, "--listen", &addr]);
    assert_clean_failure(&out, "使用中");
}

#[test]
fn a_bad_listen_address_is_refused() {
    assert_clean_failure(
        &tsunagu(&["serve", "--listen", "localhost:http"]),
        "待ち受けアドレスが不正です",
    );
}

#[tokio::test]
async fn migrate_then_check_reports_backend_and_migrations() {
    let database = fresh_database().await;
    let url = database.url.as_str().to_string();
    let migrate = tsunagu(&["migrate", "--database-url", &url]);
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    let check = tsunagu(&["check", "--database-url", &url]);
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let backend = if on_postgres() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    assert!(
        stdout.contains(&format!("バックエンド / backend: {backend} ")),
        "{stdout}"
    );
    assert!(stdout.contains("適用済 applied"));
    assert!(stdout.contains("整合性 / integrity: ok"));
    // PostgreSQL: the database's collation, with advice unless it is C.
    if on_postgres() {
        let db = tsunagu::db::Db::connect(&database.url, 1)
            .await
            .expect("connect");
        let collation: String = sqlx::Row::try_get(
            &sqlx::query(
                "SELECT datcollate::text FROM pg_database WHERE datname = current_database()",
            )
            .fetch_one(db.pool())
            .await
            .expect("collation"),
            0,
        )
        .expect("text");
        db.close().await;
        assert!(
            stdout.contains(&format!("照合順序 / collation: {collation}\n")),
            "{stdout}"
        );
        assert_eq!(
            stdout.contains("照合順序 C で作成してください"),
            collation != "C" && collation != "POSIX",
            "{stdout}"
        );
    } else {
        assert!(!stdout.contains("照合順序"), "{stdout}");
    }
}

#[tokio::test]
async fn check_on_an_empty_database_says_migrations_are_pending() {
    let database = fresh_database().await;
    let out = tsunagu(&["check", "--database-url", database.url.as_str()]);
    assert_clean_failure(&out, "未適用のマイグレーション");
}

#[tokio::test]
async fn backup_writes_a_consistent_copy_or_points_to_pg_dump() {
    let database = fresh_database().await;
    let url = database.url.as_str().to_string();
    assert!(
        tsunagu(&["migrate", "--database-url", &url])
            .status
            .success()
    );
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("backup.db");
    let target_str = target.to_str().unwrap();
    let out = tsunagu(&["backup", "--database-url", &url, "--to", target_str]);
    if on_postgres() {
        assert_clean_failure(&out, "pg_dump");
        return;
    }
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The copy is a complete database of its own.
    let copy = format!("sqlite://{target_str}");
    let check = tsunagu(&["check", "--database-url", &copy]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    // Never overwrite an existing file.
    assert_clean_failure(
        &tsunagu(&["backup", "--database-url", &url, "--to", target_str]),
        "既に存在します",
    );
}

/// `audit checkpoint` appends the head to a file and prints it; `audit verify
/// --checkpoints` checks the chain holds it, and names a file it cannot read as a checkpoint.
#[tokio::test]
async fn audit_checkpoints_are_written_and_verified_from_the_command_line() {
    let database = fresh_database().await;
    let url = database.url.as_str().to_string();
    assert!(
        tsunagu(&["migrate", "--database-url", &url])
            .status
            .success()
    );
    let db = tsunagu::db::Db::connect(&database.url, 1)
        .await
        .expect("connect");
    let ctx = tsunagu::audit::Context {
        actor_account_id: None,
        actor_organisation_id: None,
        client_addr: "127.0.0.1".into(),
        user_agent: "checkpoint test".into(),
    };
    let event = tsunagu::audit::Event::new(
        tsunagu::audit::Action::Login,
        tsunagu::audit::Outcome::Allowed,
    );
    tsunagu::audit::record_standalone(&db, &ctx, &event, crate::support::test_now())
        .await
        .expect("an entry");
    db.close().await;
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("checkpoints.txt");
    let file = file.to_str().unwrap();
    let written = tsunagu(&["audit", "checkpoint", "--database-url", &url, "--to", file]);
    assert!(
        written.status.success(),
        "{}",
        String::from_utf8_lossy(&written.stderr)
    );
    let line = String::from_utf8_lossy(&written.stdout).trim().to_string();
    assert_eq!(std::fs::read_to_string(file).unwrap().trim(), line);
    let verified = tsunagu(&[
        "audit",
        "verify",
        "--database-url",
        &url,
        "--checkpoints",
        file,
    ]);
    let stdout = String::from_utf8_lossy(&verified.stdout);
    assert!(
        verified.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    assert!(
        stdout.contains("チェックポイント 1 件と一致しました"),
        "{stdout}"
    );
    std::fs::write(file, "これはチェックポイントではない\n").unwrap();
    let refused = tsunagu(&[
        "audit",
        "verify",
        "--database-url",
        &url,
        "--checkpoints",
        file,
    ]);
    assert_clean_failure(&refused, "チェックポイントの1行目を読めません");
}
