//! `tsunagu demo`: the demo data set on a fresh database (the national set is too slow for
//! the tests; its distribution is unit-tested in `demo::national`).

use std::collections::{HashMap, HashSet};
use std::process::Command;

use sqlx::Row;
use tsunagu::db::Db;

use crate::support::{fresh_database, test_now};

async fn seeded() -> (
    Db,
    crate::support::TestDatabase,
    Vec<tsunagu::demo::DemoAccount>,
) {
    let database = fresh_database().await;
    let db = tsunagu::open_database(&database.url, Some(4))
        .await
        .expect("open and migrate");
    let accounts = tsunagu::demo::seed(&db, test_now())
        .await
        .expect("seed the demo");
    (db, database, accounts)
}

async fn strings(db: &Db, sql: &'static str, bind: &str) -> Vec<String> {
    sqlx::query(sql)
        .bind(bind.to_string())
        .fetch_all(db.pool())
        .await
        .expect(sql)
        .iter()
        .map(|r| r.try_get::<String, _>(0).expect("text column"))
        .collect()
}

async fn count(db: &Db, sql: &'static str) -> i64 {
    sqlx::query(sql)
        .fetch_one(db.pool())
        .await
        .expect(sql)
        .try_get(0)
        .expect("count")
}

#[tokio::test]
async fn the_demo_has_a_few_dozen_realistic_children_with_families_and_consents() {
    let (db, _database, accounts) = seeded().await;

    // A few dozen children in several municipalities, the four named ones among them.
    let children =
        sqlx::query("SELECT id, name, municipality_code, care_score, care_tier, care_mask, device_mask FROM children")
            .fetch_all(db.pool())
            .await
            .expect("children");
    assert!((30..=60).contains(&children.len()), "{}", children.len());
    let by_name: HashMap<String, String> = children
        .iter()
        .map(|r| (r.get::<String, _>("name"), r.get::<String, _>("id")))
        .collect();
    for name in ["山田 はると", "佐藤 ゆい", "鈴木 そうた", "高橋 めい"] {
        assert!(by_name.contains_key(name), "{name} missing");
    }
    let towns: HashSet<String> = children
        .iter()
        .map(|r| r.get("municipality_code"))
        .collect();
    assert!(towns.len() >= 5, "{towns:?}");
    let itabashi = children
        .iter()
        .filter(|r| r.get::<String, _>("municipality_code") == "131199")
        .count();
    assert!(
        itabashi <= 50,
        "板橋区's list must fit on one page for the browser tests"
    );

    // Realistic patterns, and the stored score is the one computed from the items.
    let mut patterns = HashSet::new();
    for row in &children {
        let id: String = row.get("id");
        let id = tsunagu_core::ids::ChildId::from_stored(id);
        let (profile, _) = tsunagu::features::children::store::load(&db, &id)
            .await
            .expect("profile")
            .expect("a child");
        let items = profile.care;
        // The list filters' masks agree with the items and devices.
        assert_eq!(
            row.get::<i64, _>("care_mask"),
            tsunagu_core::care::CareItem::mask(items.iter().map(|e| &e.item)),
            "{id}"
        );
        assert_eq!(
            row.get::<i64, _>("device_mask"),
            tsunagu_core::device::DeviceKind::mask(profile.devices.iter().map(|d| &d.kind)),
            "{id}"
        );
        let score = tsunagu_core::care::score(&items, &tsunagu_core::care::SCORE_TABLE_2021)
            .expect("a valid combination");
        assert_eq!(
            row.get::<i64, _>("care_score"),
            i64::from(score.total),
            "{id}"
        );
        assert_eq!(row.get::<String, _>("care_tier"), score.tier.code(), "{id}");
        let codes: Vec<&str> = items.iter().map(|e| e.item.code()).collect();
        patterns.insert(codes.join("+"));
    }
    let haruto = &by_name["山田 はると"];
    let haruto_items: Vec<String> = strings(
        &db,
        "SELECT item FROM child_care_items WHERE child_id = $1 ORDER BY item",
        haruto,
    )
    .await;
    assert_eq!(
        haruto_items,
        ["suction", "tracheostomy", "tube_feeding", "ventilator"],
        "ventilator + tracheostomy + suction + tube feeding"
    );
    assert!(
        patterns.contains("tube_feeding"),
        "tube feeding alone: {patterns:?}"
    );
    assert!(patterns.contains("oxygen"), "oxygen alone: {patterns:?}");
    assert!(patterns.len() >= 6, "{patterns:?}");

    // 山田 はると: guardians with details, a ventilator with battery hours, the demo
    // guardian's account linked, consents to 保健, 保育, the centre and the consultation office.
    let guardian = accounts
        .iter()
        .find(|a| a.login == "guardian")
        .expect("guardian account");
    assert_eq!(guardian.role, "guardian");
    let linked = strings(
        &db,
        "SELECT a.login_id FROM child_guardians g JOIN accounts a ON a.id = g.account_id WHERE g.child_id = $1",
        haruto,
    )
    .await;
    assert_eq!(linked, ["guardian"]);
    let haruto_id = tsunagu_core::ids::ChildId::from_stored(haruto.to_string());
    let (profile, version) = tsunagu::features::children::store::load(&db, &haruto_id)
        .await
        .expect("load")
        .expect("山田 はると");
    assert_eq!(version, 1);
    assert_eq!(profile.guardians.len(), 2);
    assert!(!profile.guardians[0].phone.is_empty());
    let ventilator = profile
        .devices
        .iter()
        .find(|d| d.kind == tsunagu_core::device::DeviceKind::Ventilator)
        .expect("a ventilator device");
    assert!(
        ventilator.battery_internal_minutes.is_some()
            && ventilator.battery_external_minutes.is_some()
    );
    let consents = strings(
        &db,
        "SELECT k.purpose || ':' || COALESCE(k.department, '') || ':' || COALESCE(o.name, '') FROM child_consents k \
         LEFT JOIN organisations o ON o.id = k.organisation_id WHERE k.child_id = $1 ORDER BY 1",
        haruto,
    )
    .await;
    for wanted in [
        "registry::",
        "department:health:",
        "department:childcare:",
        "organisation::東京都医療的ケア児支援センター（区部）",
        "organisation::相談支援事業所 みどりのて（架空）",
    ] {
        assert!(
            consents.iter().any(|c| c == wanted),
            "{wanted} not in {consents:?}"
        );
    }
    // The 板橋区 保育 department has a municipal_staff account in the demo.
    let childcare = accounts
        .iter()
        .find(|a| a.login == "itabashi.childcare")
        .expect("itabashi.childcare");
    assert_eq!(childcare.role, "municipal_staff");
    assert!(childcare.organisation.contains("保育"));

    // Everyone has a guardian and a registry consent; one pending family proposal.
    let n = children.len() as i64;
    assert!(count(&db, "SELECT count(DISTINCT child_id) FROM guardians").await == n);
    assert_eq!(
        count(
            &db,
            "SELECT count(DISTINCT child_id) FROM child_consents WHERE purpose = 'registry'"
        )
        .await,
        n
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM child_proposals WHERE status = 'pending'"
        )
        .await,
        1
    );
    let proposal_child = strings(
        &db,
        "SELECT child_id FROM child_proposals WHERE status = $1",
        "pending",
    )
    .await;
    assert_eq!(&proposal_child[0], haruto);

    // Every write was audited, and the chain holds.
    let report = tsunagu::audit::verify(&db).await.expect("verify");
    assert!(report.first_problem.is_none(), "{:?}", report.first_problem);
    assert_eq!(
        report.entries,
        n + 1,
        "one entry per child and one for the proposal"
    );

    // The demo refuses a database that already has records.
    let again = tsunagu::demo::seed(&db, test_now()).await;
    assert!(again.is_err(), "seeding twice must be refused");
    db.close().await;
}

#[tokio::test]
async fn the_demo_command_seeds_a_given_database_and_writes_the_accounts_file() {
    let database = fresh_database().await;
    let url = database.url.as_str().to_string();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args(["demo", "--seed-only", "--database-url", &url])
        .current_dir(dir.path())
        .env_remove("TSUNAGU_DATABASE_URL")
        .env("TSUNAGU_LOG", "error")
        .output()
        .expect("run tsunagu demo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text =
        std::fs::read_to_string(dir.path().join("data/demo-accounts.json")).expect("accounts file");
    let accounts: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let logins: Vec<&str> = accounts
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|a| a["login"].as_str())
        .collect();
    for login in [
        "itabashi.welfare",
        "itabashi.childcare",
        "nerima.welfare",
        "center.staff",
        "guardian",
    ] {
        assert!(logins.contains(&login), "{login} not in {logins:?}");
    }
    let verify = Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args(["audit", "verify", "--database-url", &url])
        .env_remove("TSUNAGU_DATABASE_URL")
        .env("TSUNAGU_LOG", "error")
        .output()
        .expect("run tsunagu audit verify");
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

/// The step the national generator ends with runs on either backend; on PostgreSQL it
/// leaves the statistics the planner needs (a fresh bulk load has none until autovacuum
/// comes by).
#[tokio::test]
async fn after_a_bulk_load_the_planner_has_statistics() {
    let (db, _database, _accounts) = seeded().await;
    tsunagu::db::backend::after_bulk_load(&db)
        .await
        .expect("after the load");
    if db.backend() == tsunagu::config::Backend::Postgres {
        let analysed = count(
            &db,
            "SELECT count(*) FROM pg_stat_user_tables \
             WHERE relname IN ('children', 'child_consents') AND last_analyze IS NOT NULL",
        )
        .await;
        assert_eq!(analysed, 2);
    }
}

/// The demo does not contradict itself: where a child goes fits its class of this 年度
/// (no 小学3年 at a 中学校, no 5歳児クラス at a school).
#[tokio::test]
async fn each_demo_child_goes_where_its_class_goes() {
    use tsunagu_core::calendar::{LifeStage, fiscal_year, life_stage};
    let (db, _database, _accounts) = seeded().await;
    let rows = sqlx::query("SELECT name, birth_date, attending FROM children")
        .fetch_all(db.pool())
        .await
        .expect("children");
    let year = fiscal_year(test_now().date_naive());
    for row in &rows {
        let name: String = row.get("name");
        let attending: String = row.get("attending");
        let birth: String = row.get("birth_date");
        let birth = chrono::NaiveDate::parse_from_str(&birth, "%Y-%m-%d").expect("date");
        let stage = life_stage(birth, year);
        let none_of = |words: &[&str]| words.iter().all(|w| !attending.contains(w));
        let preschool = ["保育", "幼稚園", "こども園", "児童発達支援"];
        let fits = match stage {
            LifeStage::Elementary(_) => none_of(&["中学", "高等部"]) && none_of(&preschool),
            LifeStage::JuniorHigh(_) => none_of(&["小学", "高等部"]) && none_of(&preschool),
            LifeStage::UpperSecondary(_) => none_of(&["小学", "中学"]) && none_of(&preschool),
            LifeStage::AfterSchool => none_of(&["小学", "中学"]) && none_of(&preschool),
            _ => none_of(&["学校", "学級"]),
        };
        assert!(fits, "{name} ({stage:?}) attends {attending}");
    }
}
