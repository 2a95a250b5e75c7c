//! The audit trail on a real SQLite file (the integration tests repeat the behaviour on
//! both backends).

use chrono::{Duration, TimeZone, Utc};
use sqlx::Row;
use tempfile::TempDir;

use super::chain::{Columns, entry_hash};
use super::*;
use crate::config::DatabaseUrl;

type TestResult = Result<(), Box<dyn std::error::Error>>;

async fn database() -> Result<(TempDir, Db), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let url = DatabaseUrl::parse(&format!("sqlite://{}/a.db", dir.path().display()))?;
    let db = crate::open_database(&url, Some(2)).await?;
    Ok((dir, db))
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

/// Five entries, seq 1..=5, one minute apart.
async fn five(db: &Db) -> TestResult {
    for i in 0..5i64 {
        let event = Event::new(Action::Read, Outcome::Allowed)
            .resource("child", format!("c-{i}"))
            .child(format!("c-{i}"))
            .detail(format!("entry {i}"));
        let seq = record_standalone(db, &ctx("a-1"), &event, t0() + Duration::minutes(i)).await?;
        assert_eq!(seq, i + 1);
    }
    Ok(())
}

async fn exec(db: &Db, sql: &'static str) -> TestResult {
    sqlx::query(sql).execute(db.pool()).await?;
    Ok(())
}

async fn problem(db: &Db) -> Result<Option<ChainProblem>, sqlx::Error> {
    Ok(verify(db).await?.first_problem)
}

#[test]
fn actions_and_outcomes_round_trip() {
    for action in Action::ALL {
        assert_eq!(Action::parse(action.as_str()), Some(action));
    }
    for outcome in Outcome::ALL {
        assert_eq!(Outcome::parse(outcome.as_str()), Some(outcome));
    }
    assert_eq!(Action::BreakGlassRevoked.as_str(), "break_glass_revoked");
    assert_eq!(Action::parse("nope"), None);
}

#[tokio::test]
async fn an_intact_chain_verifies() -> TestResult {
    let (_dir, db) = database().await?;
    assert_eq!(
        verify(&db).await?,
        VerifyReport {
            entries: 0,
            first_problem: None
        }
    );
    five(&db).await?;
    assert_eq!(
        verify(&db).await?,
        VerifyReport {
            entries: 5,
            first_problem: None
        }
    );
    let message = verify_command(&db).await?;
    assert!(
        message.contains("5 件") && message.contains("5 entries"),
        "{message}"
    );
    // Entry 1 links to the genesis hash, and the head points at entry 5.
    let row = sqlx::query("SELECT prev_hash FROM audit_log WHERE seq = 1")
        .fetch_one(db.pool())
        .await?;
    assert_eq!(row.try_get::<String, _>(0)?, chain::GENESIS_HASH);
    Ok(())
}

#[tokio::test]
async fn verification_crosses_page_boundaries() -> TestResult {
    let (_dir, db) = database().await?;
    five(&db).await?;
    for page in [1, 2, 5, 6] {
        let report = chain::verify_in_pages(&db, page).await?;
        assert_eq!(
            (report.entries, report.first_problem),
            (5, None),
            "page {page}"
        );
    }
    exec(&db, "DELETE FROM audit_log WHERE seq = 3").await?;
    assert_eq!(
        chain::verify_in_pages(&db, 2).await?.first_problem,
        Some(ChainProblem {
            seq: 4,
            kind: ProblemKind::MissingEntry { expected_seq: 3 }
        })
    );
    Ok(())
}

#[tokio::test]
async fn an_edited_entry_is_named() -> TestResult {
    let (_dir, db) = database().await?;
    five(&db).await?;
    exec(
        &db,
        "UPDATE audit_log SET detail = 'nothing to see' WHERE seq = 3",
    )
    .await?;
    let report = verify(&db).await?;
    assert_eq!(
        report.first_problem,
        Some(ChainProblem {
            seq: 3,
            kind: ProblemKind::HashMismatch
        })
    );
    assert_eq!(report.entries, 3);
    let line = verify_command(&db).await.err().unwrap_or_default();
    assert_eq!(
        line,
        "監査ログ #3 の内容が改ざんされています / audit entry 3 was altered"
    );
    Ok(())
}

#[tokio::test]
async fn a_deleted_middle_entry_is_missing() -> TestResult {
    let (_dir, db) = database().await?;
    five(&db).await?;
    exec(&db, "DELETE FROM audit_log WHERE seq = 3").await?;
    assert_eq!(
        problem(&db).await?,
        Some(ChainProblem {
            seq: 4,
            kind: ProblemKind::MissingEntry { expected_seq: 3 }
        })
    );
    Ok(())
}

#[tokio::test]
async fn a_deleted_first_entry_is_missing() -> TestResult {
    let (_dir, db) = database().await?;
    five(&db).await?;
    exec(&db, "DELETE FROM audit_log WHERE seq = 1").await?;
    assert_eq!(
        problem(&db).await?,
        Some(ChainProblem {
            seq: 2,
            kind: ProblemKind::MissingEntry { expected_seq: 1 }
        })
    );
    Ok(())
}

#[tokio::test]
async fn deleted_newest_entries_disagree_with_the_head() -> TestResult {
    let (_dir, db) = database().await?;
    five(&db).await?;
    exec(&db, "DELETE FROM audit_log WHERE seq = 5").await?;
    assert_eq!(
        problem(&db).await?,
        Some(ChainProblem {
            seq: 5,
            kind: ProblemKind::HeadMismatch
        })
    );
    // Everything deleted: still caught by the head.
    exec(&db, "DELETE FROM audit_log").await?;
    assert_eq!(
        problem(&db).await?.map(|p| p.kind),
        Some(ProblemKind::HeadMismatch)
    );
    Ok(())
}

#[tokio::test]
async fn a_changed_prev_hash_is_a_hash_mismatch() -> TestResult {
    // prev_hash is part of the canonical form, so changing it alone changes the content.
    let (_dir, db) = database().await?;
    five(&db).await?;
    exec(
        &db,
        "UPDATE audit_log SET prev_hash = '1111111111111111111111111111111111111111111111111111111111111111' WHERE seq = 2",
    )
    .await?;
    assert_eq!(
        problem(&db).await?,
        Some(ChainProblem {
            seq: 2,
            kind: ProblemKind::HashMismatch
        })
    );
    Ok(())
}

/// Rewrites entry `seq` as an attacker who knows the format would: new detail and/or
/// prev_hash, and a hash recomputed to match.
async fn rewrite(db: &Db, seq: i64, detail: &str, prev_hash: Option<&str>) -> TestResult {
    let row = sqlx::query(
        "SELECT at, actor_account_id, actor_organisation_id, action, outcome, resource_type, \
         resource_id, child_id, fields, client_addr, user_agent, prev_hash FROM audit_log WHERE seq = $1",
    )
    .bind(seq)
    .fetch_one(db.pool())
    .await?;
    let get = |c: &str| row.try_get::<String, _>(c);
    let opt = |c: &str| row.try_get::<Option<String>, _>(c);
    let stored_prev = get("prev_hash")?;
    let prev_hash = prev_hash.unwrap_or(&stored_prev);
    let (actor, org, rtype, rid, child) = (
        opt("actor_account_id")?,
        opt("actor_organisation_id")?,
        opt("resource_type")?,
        opt("resource_id")?,
        opt("child_id")?,
    );
    let (action, outcome, fields, addr, ua) = (
        get("action")?,
        get("outcome")?,
        get("fields")?,
        get("client_addr")?,
        get("user_agent")?,
    );
    let hash = entry_hash(&Columns {
        seq,
        at: row.try_get("at")?,
        actor_account_id: actor.as_deref(),
        actor_organisation_id: org.as_deref(),
        action: &action,
        outcome: &outcome,
        resource_type: rtype.as_deref(),
        resource_id: rid.as_deref(),
        child_id: child.as_deref(),
        fields: &fields,
        detail,
        client_addr: &addr,
        user_agent: &ua,
        prev_hash,
    });
    sqlx::query("UPDATE audit_log SET detail = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
        .bind(detail)
        .bind(prev_hash)
        .bind(hash)
        .bind(seq)
        .execute(db.pool())
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_rewritten_entry_breaks_the_link_to_the_next() -> TestResult {
    let (_dir, db) = database().await?;
    five(&db).await?;
    rewrite(&db, 3, "rewritten", None).await?;
    assert_eq!(
        problem(&db).await?,
        Some(ChainProblem {
            seq: 4,
            kind: ProblemKind::BrokenLink
        })
    );
    Ok(())
}

#[tokio::test]
async fn a_forged_prev_hash_with_its_hash_recomputed_is_a_broken_link() -> TestResult {
    let (_dir, db) = database().await?;
    five(&db).await?;
    rewrite(&db, 2, "entry 1", Some(&"2".repeat(64))).await?;
    assert_eq!(
        problem(&db).await?,
        Some(ChainProblem {
            seq: 2,
            kind: ProblemKind::BrokenLink
        })
    );
    Ok(())
}

#[tokio::test]
async fn a_rewritten_last_entry_disagrees_with_the_head() -> TestResult {
    let (_dir, db) = database().await?;
    five(&db).await?;
    rewrite(&db, 5, "rewritten", None).await?;
    assert_eq!(
        problem(&db).await?,
        Some(ChainProblem {
            seq: 5,
            kind: ProblemKind::HeadMismatch
        })
    );
    Ok(())
}

#[tokio::test]
async fn a_rolled_back_transaction_leaves_no_entry() -> TestResult {
    let (_dir, db) = database().await?;
    five(&db).await?;
    let mut tx = db.pool().begin().await?;
    let seq = record(
        &mut tx,
        &ctx("a-1"),
        &Event::new(Action::Update, Outcome::Allowed).fields(["name"]),
        t0(),
    )
    .await?;
    assert_eq!(seq, 6);
    tx.rollback().await?;
    assert_eq!(verify(&db).await?.entries, 5);
    assert_eq!(problem(&db).await?, None);
    // The sequence continues without a gap.
    let next = record_standalone(
        &db,
        &ctx("a-1"),
        &Event::new(Action::Logout, Outcome::Allowed),
        t0(),
    )
    .await?;
    assert_eq!(next, 6);
    assert_eq!(problem(&db).await?, None);
    Ok(())
}

#[tokio::test]
async fn concurrent_writers_get_consecutive_numbers() -> TestResult {
    let (_dir, db) = database().await?;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let event = Event::new(Action::Read, Outcome::Allowed).child(format!("c-{i}"));
            record_standalone(&db, &ctx(&format!("a-{i}")), &event, t0()).await
        }));
    }
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await??);
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=20).collect::<Vec<i64>>());
    assert_eq!(
        verify(&db).await?,
        VerifyReport {
            entries: 20,
            first_problem: None
        }
    );
    Ok(())
}

/// Standalone entries are committed in shared transactions: each caller's entry is in the
/// log when its call returns, and entries written inside other transactions interleave
/// with them without breaking the chain (grouping itself: `batch::tests`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grouped_entries_are_committed_when_the_call_returns() -> TestResult {
    let (_dir, db) = database().await?;
    let mut tasks = Vec::new();
    for i in 0..60 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let event = Event::new(Action::Read, Outcome::Allowed)
                .child(format!("c-{i}"))
                .fields(["name", "care"])
                .detail(format!("read {i}"));
            let seq = if i % 10 == 0 {
                let _turn = db.sqlite_writer_turn().await;
                let mut tx = db.pool().begin().await?;
                let seq = record(&mut tx, &ctx("writer"), &event, t0()).await?;
                tx.commit().await?;
                seq
            } else {
                record_standalone(&db, &ctx(&format!("a-{i}")), &event, t0()).await?
            };
            let stored: i64 =
                sqlx::query("SELECT count(*) FROM audit_log WHERE seq = $1 AND detail = $2")
                    .bind(seq)
                    .bind(format!("read {i}"))
                    .fetch_one(db.pool())
                    .await?
                    .try_get(0)?;
            Ok::<_, sqlx::Error>((seq, stored))
        }));
    }
    let mut seqs = Vec::new();
    for task in tasks {
        let (seq, stored) = task.await??;
        assert_eq!(
            stored, 1,
            "entry {seq} was not committed when its call returned"
        );
        seqs.push(seq);
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=60).collect::<Vec<i64>>());
    assert_eq!(
        verify(&db).await?,
        VerifyReport {
            entries: 60,
            first_problem: None
        }
    );
    Ok(())
}

#[tokio::test]
async fn long_text_is_truncated_before_hashing() -> TestResult {
    let (_dir, db) = database().await?;
    let mut context = ctx("a-1");
    context.user_agent = "あ".repeat(400);
    let event = Event::new(Action::BreakGlass, Outcome::Allowed)
        .detail(format!("理由{}\0", "x".repeat(2000)));
    record_standalone(&db, &context, &event, t0()).await?;
    let (entries, _) = search(&db, &AuditQuery::default()).await?;
    assert_eq!(entries[0].user_agent.chars().count(), MAX_USER_AGENT_CHARS);
    assert_eq!(entries[0].detail.chars().count(), MAX_DETAIL_CHARS);
    assert_eq!(problem(&db).await?, None);
    Ok(())
}

#[tokio::test]
async fn search_filters_and_pages_newest_first() -> TestResult {
    let (_dir, db) = database().await?;
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
        record_standalone(&db, &ctx(actor), &event, t0() + Duration::minutes(minutes)).await?;
    }
    let seqs = |entries: &[AuditEntry]| entries.iter().map(|e| e.seq).collect::<Vec<_>>();

    let (all, total) = search(&db, &AuditQuery::default()).await?;
    assert_eq!((seqs(&all), total), (vec![5, 4, 3, 2, 1], 5));

    let by_child = AuditQuery {
        child_id: Some("c-1".into()),
        ..Default::default()
    };
    let (found, total) = search(&db, &by_child).await?;
    assert_eq!((seqs(&found), total), (vec![5, 3, 1], 3));

    let by_actor = AuditQuery {
        actor_account_id: Some("a-2".into()),
        ..Default::default()
    };
    assert_eq!(seqs(&search(&db, &by_actor).await?.0), vec![4, 3]);

    let by_resource = AuditQuery {
        resource_type: Some("child".into()),
        resource_id: Some("c-2".into()),
        ..Default::default()
    };
    assert_eq!(seqs(&search(&db, &by_resource).await?.0), vec![2]);

    let by_type = AuditQuery {
        resource_type: Some("account".into()),
        ..Default::default()
    };
    assert_eq!(seqs(&search(&db, &by_type).await?.0), vec![4]);

    // from inclusive, until exclusive.
    let window = AuditQuery {
        from: Some(t0() + Duration::minutes(10)),
        until: Some(t0() + Duration::minutes(30)),
        ..Default::default()
    };
    assert_eq!(seqs(&search(&db, &window).await?.0), vec![3, 2]);

    let combined = AuditQuery {
        child_id: Some("c-1".into()),
        actor_account_id: Some("a-1".into()),
        ..Default::default()
    };
    assert_eq!(seqs(&search(&db, &combined).await?.0), vec![1]);

    let page = AuditQuery {
        limit: 2,
        offset: 1,
        ..Default::default()
    };
    let (found, total) = search(&db, &page).await?;
    assert_eq!((seqs(&found), total), (vec![4, 3], 5));

    let first = &all[4];
    assert_eq!(first.actor_account_id.as_deref(), Some("a-1"));
    assert_eq!(first.action, "read");
    assert_eq!(first.at, t0());
    assert!(first.fields.is_empty());
    Ok(())
}
