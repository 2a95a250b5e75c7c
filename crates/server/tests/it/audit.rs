//! The hash-chained audit trail on the backend under test: appends, tampering of every
//! kind, rollback, concurrent writers, search and CSV.

use chrono::{DateTime, Duration, TimeZone, Utc};
use sha2::{Digest, Sha256};
use sqlx::Row;
use tsunagu::audit::{
    self, Action, AuditEntry, AuditQuery, ChainProblem, Context, Event, Outcome, ProblemKind,
    VerifyReport,
};
use tsunagu::db::Db;

use crate::support::{TestDatabase, fresh_database};

async fn database() -> (TestDatabase, Db) {
    let database = fresh_database().await;
    let db = tsunagu::open_database(&database.url, Some(4))
        .await
        .expect("open and migrate");
    (database, db)
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).unwrap()
}

fn ctx(actor: &str) -> Context {
    Context {
        actor_account_id: Some(actor.into()),
        actor_organisation_id: Some("org-1".into()),
        client_addr: "192.0.2.1".into(),
        user_agent: "Mozilla/5.0".into(),
    }
}

async fn five(db: &Db) {
    for i in 0..5i64 {
        let event = Event::new(Action::Read, Outcome::Allowed)
            .resource("child", format!("c-{i}"))
            .child(format!("c-{i}"))
            .fields(["name", "care_items"])
            .detail(format!("理由 {i}"));
        let seq = audit::record_standalone(db, &ctx("a-1"), &event, t0() + Duration::minutes(i))
            .await
            .unwrap();
        assert_eq!(seq, i + 1);
    }
}

async fn exec(db: &Db, sql: &'static str) {
    sqlx::query(sql).execute(db.pool()).await.unwrap();
}

async fn problem(db: &Db) -> Option<ChainProblem> {
    audit::verify(db).await.unwrap().first_problem
}

fn at(seq: i64, kind: ProblemKind) -> Option<ChainProblem> {
    Some(ChainProblem { seq, kind })
}

/// The canonical form as documented in `tsunagu::audit::chain`, written independently:
/// an outside verifier can recompute every hash from the stored columns alone.
async fn documented_hash(db: &Db, seq: i64, detail: &str, prev_hash: &str) -> String {
    let row = sqlx::query(
        "SELECT at, actor_account_id, actor_organisation_id, action, outcome, resource_type, \
         resource_id, child_id, fields, client_addr, user_agent FROM audit_log WHERE seq = $1",
    )
    .bind(seq)
    .fetch_one(db.pool())
    .await
    .unwrap();
    let s = |c: &str| serde_json::Value::from(row.try_get::<String, _>(c).unwrap());
    let o = |c: &str| serde_json::Value::from(row.try_get::<Option<String>, _>(c).unwrap());
    let canonical = serde_json::json!([
        "tsunagu-audit-v1",
        seq,
        row.try_get::<i64, _>("at").unwrap(),
        o("actor_account_id"),
        o("actor_organisation_id"),
        s("action"),
        s("outcome"),
        o("resource_type"),
        o("resource_id"),
        o("child_id"),
        s("fields"),
        detail,
        s("client_addr"),
        s("user_agent"),
        prev_hash,
    ])
    .to_string();
    format!("{:x}", Sha256::digest(canonical.as_bytes()))
}

async fn stored(db: &Db, seq: i64) -> (String, String, String) {
    let row = sqlx::query("SELECT detail, prev_hash, hash FROM audit_log WHERE seq = $1")
        .bind(seq)
        .fetch_one(db.pool())
        .await
        .unwrap();
    (
        row.try_get("detail").unwrap(),
        row.try_get("prev_hash").unwrap(),
        row.try_get("hash").unwrap(),
    )
}

/// What an attacker who knows the format does: change a row and recompute its hash.
async fn rewrite(db: &Db, seq: i64, detail: &str, prev_hash: &str) {
    let hash = documented_hash(db, seq, detail, prev_hash).await;
    sqlx::query("UPDATE audit_log SET detail = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
        .bind(detail)
        .bind(prev_hash)
        .bind(hash)
        .bind(seq)
        .execute(db.pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn an_intact_chain_verifies_and_matches_the_documented_form() {
    let (_database, db) = database().await;
    assert_eq!(
        audit::verify_command(&db).await,
        Ok("監査ログ 0 件の連鎖を確認しました。改ざんはありません / audit chain of 0 entries verified".into())
    );
    five(&db).await;
    assert_eq!(
        audit::verify(&db).await.unwrap(),
        VerifyReport {
            entries: 5,
            first_problem: None
        }
    );
    let mut prev = "0".repeat(64);
    for seq in 1..=5 {
        let (detail, prev_hash, hash) = stored(&db, seq).await;
        assert_eq!(prev_hash, prev);
        assert_eq!(documented_hash(&db, seq, &detail, &prev_hash).await, hash);
        prev = hash;
    }
}

#[tokio::test]
async fn an_edited_entry_is_named() {
    let (_database, db) = database().await;
    five(&db).await;
    exec(&db, "UPDATE audit_log SET detail = 'nothing' WHERE seq = 3").await;
    assert_eq!(problem(&db).await, at(3, ProblemKind::HashMismatch));
    assert_eq!(
        audit::verify_command(&db).await,
        Err("監査ログ #3 の内容が改ざんされています / audit entry 3 was altered".into())
    );
}

#[tokio::test]
async fn a_deleted_middle_entry_is_missing() {
    let (_database, db) = database().await;
    five(&db).await;
    exec(&db, "DELETE FROM audit_log WHERE seq = 3").await;
    assert_eq!(
        problem(&db).await,
        at(4, ProblemKind::MissingEntry { expected_seq: 3 })
    );
}

#[tokio::test]
async fn a_deleted_last_entry_disagrees_with_the_head() {
    let (_database, db) = database().await;
    five(&db).await;
    exec(&db, "DELETE FROM audit_log WHERE seq = 5").await;
    assert_eq!(problem(&db).await, at(5, ProblemKind::HeadMismatch));
}

#[tokio::test]
async fn a_changed_prev_hash_is_a_hash_mismatch_unless_the_hash_is_forged_too() {
    let (_database, db) = database().await;
    five(&db).await;
    // prev_hash is part of the canonical form: changed alone, the entry's hash no longer fits.
    exec(
        &db,
        "UPDATE audit_log SET prev_hash = 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff' WHERE seq = 2",
    )
    .await;
    assert_eq!(problem(&db).await, at(2, ProblemKind::HashMismatch));
    // With the hash recomputed the entry is consistent in itself but no longer linked.
    let (detail, _, _) = stored(&db, 2).await;
    rewrite(&db, 2, &detail, &"f".repeat(64)).await;
    assert_eq!(problem(&db).await, at(2, ProblemKind::BrokenLink));
}

#[tokio::test]
async fn a_rewritten_entry_breaks_the_next_link() {
    let (_database, db) = database().await;
    five(&db).await;
    let (_, prev_hash, _) = stored(&db, 3).await;
    rewrite(&db, 3, "書き換え", &prev_hash).await;
    assert_eq!(problem(&db).await, at(4, ProblemKind::BrokenLink));
}

#[tokio::test]
async fn a_rolled_back_transaction_leaves_no_entry() {
    let (_database, db) = database().await;
    five(&db).await;
    let mut tx = db.pool().begin().await.unwrap();
    let event = Event::new(Action::Update, Outcome::Allowed)
        .resource("child", "c-1")
        .fields(["name"]);
    assert_eq!(
        audit::record(&mut tx, &ctx("a-1"), &event, t0())
            .await
            .unwrap(),
        6
    );
    tx.rollback().await.unwrap();
    assert_eq!(
        audit::verify(&db).await.unwrap(),
        VerifyReport {
            entries: 5,
            first_problem: None
        }
    );
    let next = audit::record_standalone(&db, &ctx("a-1"), &event, t0())
        .await
        .unwrap();
    assert_eq!(next, 6);
    assert_eq!(problem(&db).await, None);
}

#[tokio::test]
async fn concurrent_writers_get_consecutive_numbers() {
    let (_database, db) = database().await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                let event = Event::new(Action::Read, Outcome::Allowed).child(format!("c-{i}"));
                audit::record_standalone(&db, &ctx(&format!("a-{i}")), &event, t0()).await
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await.unwrap().unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=20).collect::<Vec<i64>>());
    assert_eq!(
        audit::verify(&db).await.unwrap(),
        VerifyReport {
            entries: 20,
            first_problem: None
        }
    );
}

#[tokio::test]
async fn nul_and_long_text_are_stored_the_same_on_both_backends() {
    let (_database, db) = database().await;
    let mut context = ctx("a-1");
    context.user_agent = "あ".repeat(400);
    let event = Event::new(Action::BreakGlass, Outcome::Allowed)
        .detail(format!("救急搬送\0{}", "x".repeat(2000)));
    audit::record_standalone(&db, &context, &event, t0())
        .await
        .unwrap();
    let (entries, _) = audit::search(&db, &AuditQuery::default()).await.unwrap();
    assert_eq!(entries[0].user_agent.chars().count(), 300);
    assert_eq!(entries[0].detail.chars().count(), 1000);
    assert!(entries[0].detail.starts_with("救急搬送\u{FFFD}x"));
    assert_eq!(problem(&db).await, None);
}

#[tokio::test]
async fn search_filters_and_pages_newest_first() {
    let (_database, db) = database().await;
    let cases = [
        ("a-1", "child", "c-1", Some("c-1"), 0),
        ("a-1", "child", "c-2", Some("c-2"), 10),
        ("a-2", "child", "c-1", Some("c-1"), 20),
        ("a-2", "account", "a-9", None, 30),
        ("a-3", "child", "c-1", Some("c-1"), 40),
    ];
    for (actor, rtype, rid, child, minutes) in cases {
        let mut event = Event::new(Action::Read, Outcome::Allowed).resource(rtype, rid);
        if let Some(child) = child {
            event = event.child(child);
        }
        audit::record_standalone(&db, &ctx(actor), &event, t0() + Duration::minutes(minutes))
            .await
            .unwrap();
    }
    let run = |q: AuditQuery| {
        let db = db.clone();
        async move {
            let (entries, total) = audit::search(&db, &q).await.unwrap();
            (entries.iter().map(|e| e.seq).collect::<Vec<_>>(), total)
        }
    };
    assert_eq!(run(AuditQuery::default()).await, (vec![5, 4, 3, 2, 1], 5));
    assert_eq!(
        run(AuditQuery {
            child_id: Some("c-1".into()),
            ..Default::default()
        })
        .await,
        (vec![5, 3, 1], 3)
    );
    assert_eq!(
        run(AuditQuery {
            actor_account_id: Some("a-2".into()),
            ..Default::default()
        })
        .await,
        (vec![4, 3], 2)
    );
    assert_eq!(
        run(AuditQuery {
            resource_type: Some("child".into()),
            resource_id: Some("c-2".into()),
            ..Default::default()
        })
        .await,
        (vec![2], 1)
    );
    assert_eq!(
        run(AuditQuery {
            resource_id: Some("a-9".into()),
            ..Default::default()
        })
        .await,
        (vec![4], 1)
    );
    assert_eq!(
        run(AuditQuery {
            from: Some(t0() + Duration::minutes(10)),
            until: Some(t0() + Duration::minutes(30)),
            ..Default::default()
        })
        .await,
        (vec![3, 2], 2)
    );
    assert_eq!(
        run(AuditQuery {
            child_id: Some("c-1".into()),
            actor_account_id: Some("a-1".into()),
            ..Default::default()
        })
        .await,
        (vec![1], 1)
    );
    assert_eq!(
        run(AuditQuery {
            limit: 2,
            offset: 1,
            ..Default::default()
        })
        .await,
        (vec![4, 3], 5)
    );
    assert_eq!(
        run(AuditQuery {
            child_id: Some("nobody".into()),
            ..Default::default()
        })
        .await,
        (vec![], 0)
    );
}

#[tokio::test]
async fn entries_come_back_with_every_column_and_as_csv() {
    let (_database, db) = database().await;
    let event = Event::new(Action::Update, Outcome::Allowed)
        .resource("child", "c-1")
        .child("c-1")
        .fields(["name", "birth_date"])
        .detail("=HYPERLINK(\"http://evil\")");
    let mut context = ctx("@admin");
    context.user_agent = "-1+2".into();
    audit::record_standalone(&db, &context, &event, t0())
        .await
        .unwrap();
    let (entries, total) = audit::search(&db, &AuditQuery::default()).await.unwrap();
    assert_eq!(total, 1);
    let e: &AuditEntry = &entries[0];
    assert_eq!(
        (e.seq, e.at, e.action.as_str(), e.outcome.as_str()),
        (1, t0(), "update", "allowed")
    );
    assert_eq!(e.actor_organisation_id.as_deref(), Some("org-1"));
    assert_eq!(e.fields, vec!["name".to_string(), "birth_date".to_string()]);
    assert_eq!(e.prev_hash, "0".repeat(64));
    assert_eq!(e.hash.len(), 64);

    let bytes = tsunagu::features::admin::audit::to_csv(&entries);
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "連番,日時(JST),操作者,組織,操作,結果,対象種別,対象ID,児童ID,項目,詳細,接続元,ブラウザ"
    );
    assert_eq!(
        lines[1],
        "1,2026-11-21 12:00:00,'@admin,org-1,更新,許可,child,c-1,c-1,\"name, birth_date\",\"'=HYPERLINK(\"\"http://evil\"\")\",192.0.2.1,'-1+2"
    );
}

/// An attacker with write access to the database rewrites an entry and every hash after
/// it, and the head: `verify` passes, but the chain no longer holds the head recorded
/// outside the database at a checkpoint.
#[tokio::test]
async fn a_chain_rewritten_with_recomputed_hashes_fails_against_its_checkpoints() {
    let (_database, db) = database().await;
    five(&db).await;
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("audit-checkpoints.txt");
    let now = crate::support::test_now();
    let line = audit::write_checkpoint(&db, &file, now).await.unwrap();
    assert!(line.contains("\t5\t"), "{line}");
    let text = std::fs::read_to_string(&file).unwrap();
    let recorded = audit::parse_checkpoints(&text).unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(
        audit::check_checkpoints(&db, &recorded).await.unwrap(),
        Ok(1)
    );
    // Rewrite entry 2 and re-link 3–5 with recomputed hashes, then the head.
    let (_, prev1, _) = stored(&db, 2).await;
    rewrite(&db, 2, "書き換えた内容", &prev1).await;
    for seq in 3..=5 {
        let (_, _, prev) = stored(&db, seq - 1).await;
        let (detail, _, _) = stored(&db, seq).await;
        rewrite(&db, seq, &detail, &prev).await;
    }
    let (_, _, last) = stored(&db, 5).await;
    sqlx::query("UPDATE audit_head SET last_hash = $1 WHERE id = 1")
        .bind(&last)
        .execute(db.pool())
        .await
        .unwrap();
    assert_eq!(
        problem(&db).await,
        None,
        "the rewritten chain verifies in itself"
    );
    let held = audit::check_checkpoints(&db, &recorded).await.unwrap();
    let message = held.unwrap_err();
    assert!(message.contains("連番 5"), "{message}");
    assert!(message.contains("書き換えられています"), "{message}");
    // A truncated chain (the checkpoint's entry deleted) fails too.
    exec(&db, "DELETE FROM audit_log WHERE seq = 5").await;
    assert!(
        audit::check_checkpoints(&db, &recorded)
            .await
            .unwrap()
            .unwrap_err()
            .contains("削除されています")
    );
    // A file that is not a checkpoint file is named, not half-read.
    assert!(audit::parse_checkpoints("2026-12-07T00:00:00Z\t5\tnothex").is_err());
    assert_eq!(
        audit::parse_checkpoints("# 紙の記録と照合済み\n\n").unwrap(),
        vec![]
    );
}

#[tokio::test]
async fn csv_has_a_bom_japanese_header_and_no_formulas() {
    let (_database, db) = database().await;
    let event = Event::new(Action::Update, Outcome::Allowed)
        .resource("child", "c-1")
        .fields(["name", "birth_date"])
        .detail("=HYPERLINK(\"http://evil\")");
    let mut context = ctx("@admin");
    context.user_agent = "-1+2".into();
    audit::record_standalone(&db, &context, &event, t0())
        .await
        .unwrap();
    let (entries, _) = audit::search(&db, &AuditQuery::default()).await.unwrap();
    let bytes = tsunagu::features::admin::audit::to_csv(&entries);
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let mut lines = text.split("\r\n");
    assert_eq!(
        lines.next(),
        Some(
            "連番,日時(JST),操作者,組織,操作,結果,対象種別,対象ID,児童ID,項目,詳細,接続元,ブラウザ"
        )
    );
    assert_eq!(
        lines.next(),
        Some(
            "1,2026-11-21 12:00:00,'@admin,org-1,更新,許可,child,c-1,,\"name, birth_date\",\"'=HYPERLINK(\"\"http://evil\"\")\",192.0.2.1,'-1+2"
        )
    );
}
