//! The registry as staff and families use it: editing with history and the conflict
//! message, consents enforced by the policy (a withdrawal closes the record at once), the
//! family's proposals, the list filters and the transition board.

use axum::http::StatusCode;
use tsunagu_core::access::Role;

use crate::support::{NewPerson, Session, TestApp, World, shows_escaped, world};

const NO_SUCH_ID: &str = "00000000-0000-4000-8000-000000000000";

async fn version(app: &TestApp, id: &str) -> i64 {
    let row = sqlx::query("SELECT version FROM children WHERE id = $1")
        .bind(id)
        .fetch_one(app.db.pool())
        .await
        .expect("child");
    sqlx::Row::try_get(&row, 0).expect("version")
}

/// The child's fields as the edit form holds them, with `changes` applied.
fn edit_form<'a>(
    version: &'a str,
    name: &'a str,
    kana: &'a str,
    changes: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("version", version),
        ("name", name),
        ("kana", kana),
        ("birth_date", "2022-06-14"),
        ("sex", "female"),
        ("municipality_code", "131199"),
    ];
    for (k, v) in changes {
        form.retain(|(key, _)| key != k);
        form.push((k, v));
    }
    form
}

async fn staff_session(app: &TestApp, world: &World) -> Session {
    world.login_as(app, Role::MunicipalStaff).await
}

#[tokio::test]
async fn the_second_of_two_editors_sees_the_other_change_and_nothing_is_overwritten() {
    let (app, world) = world().await;
    let first = staff_session(&app, &world).await;
    let colleague = world
        .add_person(
            &app,
            NewPerson::new(
                "itabashi.welfare2",
                "板橋 次郎",
                "itabashi-welfare",
                Role::MunicipalStaff,
            ),
        )
        .await;
    let second = world.sign_in(&app, &colleague).await;
    let id = world.children.itabashi_family.clone();
    let uri = format!("/children/{id}");
    assert_eq!(version(&app, &id).await, 1);
    // Both open the form at version 1; the colleague saves first.
    let res = app
        .post_form_as(
            &second,
            &uri,
            &edit_form(
                "1",
                "山田 はると",
                "やまだ はると",
                &[("address", "板橋区大山町1-1")],
            ),
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(version(&app, &id).await, 2);
    let res = app
        .post_form_as(
            &first,
            &uri,
            &edit_form(
                "1",
                "山田 はると",
                "やまだ はると",
                &[("address", "板橋区仲町2-2")],
            ),
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert!(res.body.contains("他の人が更新しました"), "{}", res.body);
    assert!(res.body.contains("板橋 次郎"));
    assert!(res.body.contains("板橋区大山町1-1"));
    // What the first editor typed is kept in the form, and not saved.
    assert!(res.body.contains("板橋区仲町2-2"));
    assert_eq!(version(&app, &id).await, 2);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM children WHERE id = $1 AND address = '板橋区大山町1-1'",
            &[&id],
        )
        .await,
        1
    );
    // The history names who changed which field, before and after.
    let history = app.get_as(&first, &format!("{uri}/history")).await;
    assert_eq!(history.status, StatusCode::OK);
    assert!(history.body.contains("板橋 次郎"));
    assert!(history.body.contains("住所"));
    assert!(history.body.contains("板橋区大山町1-1"));
    // The write is audited with the field names.
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE action = 'update' AND child_id = $1 AND fields LIKE '%address%'",
            &[&id],
        )
        .await,
        1
    );
}

#[tokio::test]
async fn bad_input_on_edit_is_named_in_japanese_and_changes_nothing() {
    let (app, world) = world().await;
    let staff = staff_session(&app, &world).await;
    let id = world.children.itabashi_family.clone();
    let long = "あ".repeat(1001);
    for (field, value, message) in [
        ("diagnoses", long.as_str(), "診断名は1000文字以内"),
        ("intake_date", "2026-13-01", "把握した日「2026-13-01」"),
        ("g0_name", "山田 さくら", "保護者1の続柄を入力してください"),
        (
            "d0_kind",
            "掃除機",
            "医療機器1の種類「掃除機」は選択肢にありません",
        ),
        (
            "municipality_code",
            "131202",
            "住所地の市区町村は変更できません",
        ),
        ("status", "deceased", "その日付を入力してください"),
    ] {
        let res = app
            .post_form_as(
                &staff,
                &format!("/children/{id}"),
                &edit_form("1", "山田 はると", "やまだ はると", &[(field, value)]),
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{field}: {}", res.body);
        assert!(res.body.contains(message), "{field}: {}", res.body);
    }
    assert_eq!(version(&app, &id).await, 1);
    // The message also stands beside its field, which is marked invalid and points at it.
    let res = app
        .post_form_as(
            &staff,
            &format!("/children/{id}"),
            &edit_form(
                "1",
                "山田 はると",
                "やまだ はると",
                &[("intake_date", "2026-13-01")],
            ),
        )
        .await;
    let beside = res
        .body
        .split(r#"id="intake_date-error">"#)
        .nth(1)
        .unwrap_or_default();
    assert!(
        beside.starts_with("把握した日「2026-13-01」"),
        "{}",
        res.body
    );
    assert!(res.body.contains(
        r#"name="intake_date" aria-invalid="true" aria-describedby="intake_date-error""#
    ));
    // Without a version the edit is refused outright.
    let mut no_version = edit_form("1", "山田 はると", "やまだ はると", &[]);
    no_version.retain(|(k, _)| *k != "version");
    let res = app
        .post_form_as(&staff, &format!("/children/{id}"), &no_version)
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("版の情報がありません"));
    // Another municipality's child and a forged id look the same: not found.
    for other in [world.children.nerima.as_str(), NO_SUCH_ID] {
        let res = app
            .post_form_as(
                &staff,
                &format!("/children/{other}"),
                &edit_form("1", "改ざん", "かいざん", &[]),
            )
            .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(
        app.count("SELECT count(*) FROM children WHERE name = '改ざん'", &[])
            .await,
        0
    );
}

#[tokio::test]
async fn a_department_reads_the_record_only_while_the_family_consents() {
    let (app, world) = world().await;
    let owner = staff_session(&app, &world).await;
    let health_person = world
        .add_person(
            &app,
            NewPerson::new(
                "itabashi.health",
                "健康 保子",
                "itabashi-health",
                Role::MunicipalStaff,
            ),
        )
        .await;
    let health = world.sign_in(&app, &health_person).await;
    let guardian = world.login_as(&app, Role::Guardian).await;
    let id = world.children.itabashi_family.clone();
    let profile = format!("/children/{id}");
    // Consents that name no recipient (the registry itself, the mentor programme) open the
    // record to nobody: neither the detail nor the list of another department.
    for purpose in ["registry", "mentor"] {
        let res = app
            .post_form_as(
                &owner,
                &format!("{profile}/consents"),
                &[
                    ("purpose", purpose),
                    ("given_on", "2026-11-20"),
                    ("method", "paper"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    }
    assert_eq!(
        app.get_as(&health, &profile).await.status,
        StatusCode::NOT_FOUND
    );
    let facility = world.login_as(&app, Role::FacilityStaff).await;
    assert!(
        !app.get_as(&facility, "/children")
            .await
            .body
            .contains("山田 はると")
    );
    let list = app.get_as(&health, "/children").await;
    assert!(!list.body.contains("山田 はると"));
    // The owner records the family's paper consent to share with 保健.
    let res = app
        .post_form_as(
            &owner,
            &format!("{profile}/consents"),
            &[
                ("purpose", "department"),
                ("department", "health"),
                ("given_on", "2026-11-20"),
                ("method", "paper"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let page = app.get_as(&health, &profile).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        app.get_as(&health, "/children")
            .await
            .body
            .contains("山田 はると")
    );
    // The consent lets 保健 see the record, not change it or its consents.
    assert!(!page.body.contains("編集する"), "{}", page.body);
    assert_eq!(
        app.get_as(&health, &format!("{profile}/edit")).await.status,
        StatusCode::NOT_FOUND
    );
    let before = app.count("SELECT count(*) FROM child_consents", &[]).await;
    let res = app
        .post_form_as(
            &health,
            &format!("{profile}/consents"),
            &[
                ("purpose", "department"),
                ("department", "childcare"),
                ("given_on", "2026-11-20"),
                ("method", "paper"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.body);
    assert_eq!(
        app.count("SELECT count(*) FROM child_consents", &[]).await,
        before
    );
    // The same consent twice is refused.
    let again = app
        .post_form_as(
            &owner,
            &format!("{profile}/consents"),
            &[
                ("purpose", "department"),
                ("department", "health"),
                ("given_on", "2026-11-20"),
                ("method", "paper"),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains("同じ内容の有効な同意がすでにあります"));
    // The guardian withdraws it: the department is closed out on its next request.
    let consent_id: String = sqlx::Row::try_get(
        &sqlx::query(
            "SELECT id FROM child_consents WHERE child_id = $1 AND department = 'health' AND withdrawn_at IS NULL",
        )
        .bind(id.as_str())
        .fetch_one(app.db.pool())
        .await
        .unwrap(),
        0,
    )
    .unwrap();
    let res = app
        .post_form_as(
            &guardian,
            &format!("{profile}/consents/{consent_id}/withdraw"),
            &[("reason", "保健との共有をやめたい")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(
        app.get_as(&health, &profile).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(
        !app.get_as(&health, "/children")
            .await
            .body
            .contains("山田 はると")
    );
    // The family sees who opened the record while it was shared.
    let log = app
        .get_as(&guardian, &format!("{profile}/access-log"))
        .await;
    assert_eq!(log.status, StatusCode::OK);
    assert!(log.body.contains("健康 保子"), "{}", log.body);
    let consents = app.get_as(&guardian, &format!("{profile}/consents")).await;
    assert!(consents.body.contains("撤回・終了"));
    assert!(consents.body.contains("保健との共有をやめたい"));
}

#[tokio::test]
async fn consents_with_bad_dates_or_no_recipient_are_refused_and_nothing_is_written() {
    let (app, world) = world().await;
    let owner = staff_session(&app, &world).await;
    let id = world.children.itabashi_family.clone();
    let before = app
        .count(
            "SELECT count(*) FROM child_consents WHERE child_id = $1",
            &[&id],
        )
        .await;
    for (fields, message) in [
        (
            vec![
                ("purpose", "department"),
                ("given_on", "2026-11-20"),
                ("method", "paper"),
            ],
            "共有する担当課を選んでください",
        ),
        (
            vec![
                ("purpose", "registry"),
                ("given_on", "2027-01-01"),
                ("method", "paper"),
            ],
            "同意日が未来の日付",
        ),
        (
            vec![
                ("purpose", "registry"),
                ("given_on", "2026/11/31"),
                ("method", "paper"),
            ],
            "同意日「2026/11/31」",
        ),
        (
            vec![
                ("purpose", "organisation"),
                ("organisation_id", NO_SUCH_ID),
                ("given_on", "2026-11-20"),
                ("method", "paper"),
            ],
            "共有する外部機関を一覧から選んでください",
        ),
        (
            vec![
                ("purpose", "mentor"),
                ("given_on", "2026-11-20"),
                ("method", "paper"),
                ("expires_on", "2026-11-01"),
            ],
            "有効期限は今日より後の日付",
        ),
    ] {
        let res = app
            .post_form_as(&owner, &format!("/children/{id}/consents"), &fields)
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{message}");
        assert!(res.body.contains(message), "{message}: {}", res.body);
    }
    assert_eq!(
        app.count(
            "SELECT count(*) FROM child_consents WHERE child_id = $1",
            &[&id],
        )
        .await,
        before
    );
    // A facility that can read a shared record cannot record consents on it.
    let facility = world.login_as(&app, Role::FacilityStaff).await;
    let res = app
        .post_form_as(
            &facility,
            &format!("/children/{}/consents", world.children.itabashi_shared),
            &[("purpose", "registry")],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_family_proposes_a_change_and_staff_confirm_it() {
    let (app, world) = world().await;
    let guardian = world.login_as(&app, Role::Guardian).await;
    let staff = staff_session(&app, &world).await;
    let id = world.children.itabashi_family.clone();
    let form = app
        .get_as(&guardian, &format!("/children/{id}/proposals/new"))
        .await;
    assert_eq!(form.status, StatusCode::OK);
    // The family cannot edit the record directly.
    let direct = app
        .post_form_as(
            &guardian,
            &format!("/children/{id}"),
            &edit_form("1", "山田 はると", "やまだ はると", &[]),
        )
        .await;
    assert_eq!(direct.status, StatusCode::FORBIDDEN);
    // A bad phone number is named; nothing is stored.
    let bad = app
        .post_form_as(
            &guardian,
            &format!("/children/{id}/proposals"),
            &[
                ("g0_name", "山田 さくら"),
                ("g0_relation", "母"),
                ("g0_phone", "12"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("保護者1の電話番号「12」"));
    // A proposal may not touch what is not the family's to propose (the name stays).
    let res = app
        .post_form_as(
            &guardian,
            &format!("/children/{id}/proposals"),
            &[
                ("name", "書き換え"),
                ("g0_name", "山田 さくら"),
                ("g0_relation", "母"),
                ("g0_phone", "090-1234-5678"),
                ("g0_wishes_to_work", "yes"),
                ("care_oxygen", "1"),
                ("watch_oxygen", "low"),
                ("message", "在宅酸素が始まりました"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(version(&app, &id).await, 1);
    let profile = app.get_as(&staff, &format!("/children/{id}")).await;
    assert!(profile.body.contains("確認待ち"));
    assert!(profile.body.contains("在宅酸素が始まりました"));
    let proposal_id: String = app
        .text("SELECT id FROM child_proposals WHERE child_id = $1", &[&id])
        .await;
    let res = app
        .post_form_as(
            &staff,
            &format!("/children/{id}/proposals/{proposal_id}/decision"),
            &[("decision", "accept"), ("note", "電話で確認済み")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(version(&app, &id).await, 2);
    let profile = app.get_as(&guardian, &format!("/children/{id}")).await;
    assert!(profile.body.contains("090-1234-5678"));
    assert!(profile.body.contains("酸素療法"));
    assert!(profile.body.contains("反映済み"));
    assert!(!profile.body.contains("書き換え"));
    let history = app.get_as(&staff, &format!("/children/{id}/history")).await;
    assert!(history.body.contains("家族の申出を確認"));
    // Deciding twice is refused (the proposal is no longer pending), and says why.
    let twice = app
        .post_form_as(
            &staff,
            &format!("/children/{id}/proposals/{proposal_id}/decision"),
            &[("decision", "decline")],
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert!(twice.body.contains("すでに確認済み"), "{}", twice.body);
    assert_eq!(version(&app, &id).await, 2);
}

/// Two staff decide the same proposal at once, one accepting and one declining: exactly
/// one decision stands, and the record matches it (changed only if accepted). Deciding
/// and saving are one transaction; before, the record could be changed by an acceptance
/// whose proposal had meanwhile been declined.
#[tokio::test]
async fn a_proposal_accepted_and_declined_at_once_is_decided_once_and_the_record_matches() {
    let (app, world) = world().await;
    let guardian = world.login_as(&app, Role::Guardian).await;
    let staff = staff_session(&app, &world).await;
    let id = world.children.itabashi_family.clone();
    for round in 0..6 {
        let phone = format!("090-1111-000{round}");
        let res = app
            .post_form_as(
                &guardian,
                &format!("/children/{id}/proposals"),
                &[
                    ("g0_name", "山田 さくら"),
                    ("g0_relation", "母"),
                    ("g0_phone", phone.as_str()),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let proposal_id: String = sqlx::Row::try_get(
            &sqlx::query(
                "SELECT id FROM child_proposals WHERE child_id = $1 AND status = 'pending'",
            )
            .bind(id.as_str())
            .fetch_one(app.db.pool())
            .await
            .unwrap(),
            0,
        )
        .unwrap();
        let before = version(&app, &id).await;
        let uri = format!("/children/{id}/proposals/{proposal_id}/decision");
        let (accept, decline) = tokio::join!(
            app.post_form_as(&staff, &uri, &[("decision", "accept")]),
            app.post_form_as(&staff, &uri, &[("decision", "decline")]),
        );
        let won = [&accept, &decline]
            .iter()
            .filter(|r| r.status == StatusCode::SEE_OTHER)
            .count();
        assert_eq!(
            won, 1,
            "round {round}: {} / {}",
            accept.status, decline.status
        );
        let status: String = app
            .text(
                "SELECT status FROM child_proposals WHERE id = $1",
                &[&proposal_id],
            )
            .await;
        let after = version(&app, &id).await;
        match status.as_str() {
            "accepted" => assert_eq!(after, before + 1, "round {round}"),
            "declined" => assert_eq!(
                after, before,
                "round {round}: declined, yet the record changed"
            ),
            other => panic!("round {round}: proposal left {other}"),
        }
    }
}

/// Registers a child through the form and returns its id.
async fn register(app: &TestApp, staff: &Session, fields: &[(&str, &str)]) -> String {
    let res = app.post_form_as(staff, "/children", fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    res.header("location")
        .trim_start_matches("/children/")
        .trim_end_matches("?registered=1")
        .to_string()
}

#[tokio::test]
async fn the_list_filters_by_care_device_tier_stage_and_wish_to_work() {
    let (app, world) = world().await;
    let staff = staff_session(&app, &world).await;
    let base = |name: &'static str, kana: &'static str, birth: &'static str| {
        vec![
            ("name", name),
            ("kana", kana),
            ("birth_date", birth),
            ("sex", "male"),
            ("municipality_code", "131199"),
        ]
    };
    let mut ventilated = base("呼吸 そら", "こきゅう そら", "2020-05-01");
    ventilated.extend([
        ("care_ventilator", "1"),
        ("watch_ventilator", "high"),
        ("care_tracheostomy", "1"),
        ("care_suction", "1"),
        ("watch_suction", "high"),
        ("d0_kind", "ventilator"),
        ("d0_power_watts", "45"),
        ("d0_battery_internal_hours", "4"),
        ("g0_name", "呼吸 みき"),
        ("g0_relation", "母"),
        ("g0_employment", "on_leave"),
        ("g0_wishes_to_work", "yes"),
    ]);
    register(&app, &staff, &ventilated).await;
    let mut oxygen = base("酸素 ひなた", "サンソ ヒナタ", "2012-08-08");
    oxygen.extend([("care_oxygen", "1"), ("watch_oxygen", "low")]);
    register(&app, &staff, &oxygen).await;
    let shows = async |query: &str, name: &str| {
        let res = app.get_as(&staff, &format!("/children?{query}")).await;
        assert_eq!(res.status, StatusCode::OK, "{query}: {}", res.body);
        res.body.contains(name)
    };
    assert!(shows("care_item=ventilator", "呼吸 そら").await);
    assert!(!shows("care_item=ventilator", "酸素 ひなた").await);
    assert!(shows("device=ventilator", "呼吸 そら").await);
    assert!(!shows("device=ventilator", "山田 はると").await);
    assert!(shows("tier=tier16", "呼吸 そら").await);
    assert!(!shows("tier=tier16", "酸素 ひなた").await);
    assert!(shows("wishes_to_work=yes", "呼吸 そら").await);
    assert!(!shows("wishes_to_work=yes", "酸素 ひなた").await);
    // 2012-08-08 is 中学1年 in 令和8年度; 2020-05-01 is a 6歳児クラス child (not yet at school).
    assert!(shows("stage=junior_high", "酸素 ひなた").await);
    assert!(!shows("stage=junior_high", "呼吸 そら").await);
    assert!(shows("stage=preschool", "呼吸 そら").await);
    assert!(shows("age=12-14", "酸素 ひなた").await);
    // Kana search folds katakana, hiragana and half-width forms.
    assert!(shows("q=%E3%81%95%E3%82%93%E3%81%9D", "酸素 ひなた").await); // さんそ
    assert!(shows("q=%EF%BD%BB%EF%BE%9D%EF%BD%BF", "酸素 ひなた").await); // ｻﾝｿ
    assert!(!shows("q=%E3%81%95%E3%82%93%E3%81%9D", "呼吸 そら").await);
    // A value that is not a choice is refused in Japanese.
    let res = app.get_as(&staff, "/children?tier=tier99").await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(
        res.body
            .contains("スコア区分「tier99」は選択肢にありません")
    );
    // Another town's children never appear, whatever the filter.
    assert!(!shows("q=", "高橋 めい").await);
}

#[tokio::test]
async fn the_transition_board_groups_next_steps_by_school_year_and_kind() {
    let (app, world) = world().await;
    let staff = staff_session(&app, &world).await;
    // Born 2020-05-01: 就学 on 2027-04-01 (令和9年度), within 18 months of 2026-11-21.
    register(
        &app,
        &staff,
        &[
            ("name", "就学 まなぶ"),
            ("kana", "しゅうがく まなぶ"),
            ("birth_date", "2020-05-01"),
            ("sex", "male"),
            ("municipality_code", "131199"),
        ],
    )
    .await;
    // Born 2008-04-02: 高等部3年 this year, graduating 2027-03-31 (令和8年度).
    register(
        &app,
        &staff,
        &[
            ("name", "卒業 はるか"),
            ("kana", "そつぎょう はるか"),
            ("birth_date", "2008-04-02"),
            ("sex", "female"),
            ("municipality_code", "131199"),
        ],
    )
    .await;
    let board = app.get_as(&staff, "/children/transitions").await;
    assert_eq!(board.status, StatusCode::OK);
    let body = &board.body;
    let school = body
        .find("令和9年度（2027年度）　就学（小学校入学）")
        .expect(body);
    let graduation = body
        .find("令和8年度（2026年度）　卒業（卒後）")
        .expect("graduation group");
    assert!(graduation < school, "earlier 年度 first");
    let pupil = body.find("就学 まなぶ").expect("pupil listed");
    assert!(pupil > school);
    assert!(body.find("卒業 はるか").expect("graduate listed") < school);
    assert!(body.contains("令和9年4月1日"));
    assert!(body.contains("令和9年3月31日"));
    assert!(!body.contains("高橋 めい"), "another town's child");

    // Two toddlers born the same day: the one at home is listed for nursery entry, the one
    // already at a nursery is not (its next step, 就学, is beyond the board's months).
    for (name, kana, attending) in [
        ("在宅 ひなの", "ざいたく ひなの", ""),
        ("通園 こはる", "つうえん こはる", "ひまわり保育園"),
    ] {
        register(
            &app,
            &staff,
            &[
                ("name", name),
                ("kana", kana),
                ("birth_date", "2024-06-01"),
                ("sex", "female"),
                ("municipality_code", "131199"),
                ("attending", attending),
            ],
        )
        .await;
    }
    let board = app.get_as(&staff, "/children/transitions").await;
    assert!(board.body.contains("在宅 ひなの"), "{}", board.body);
    assert!(!board.body.contains("通園 こはる"), "{}", board.body);
}

#[tokio::test]
async fn names_with_markup_are_shown_as_text() {
    let (app, world) = world().await;
    let staff = staff_session(&app, &world).await;
    let raw = "<script>alert(1)</script>";
    let id = register(
        &app,
        &staff,
        &[
            ("name", raw),
            ("kana", "すくりぷと"),
            ("birth_date", "2021-01-01"),
            ("sex", "other"),
            ("municipality_code", "131199"),
            ("diagnoses", raw),
        ],
    )
    .await;
    for uri in [format!("/children/{id}"), "/children".to_string()] {
        let page = app.get_as(&staff, &uri).await;
        assert!(!page.body.contains(raw), "{uri}");
        assert!(shows_escaped(&page.body, raw), "{uri}");
    }
}

#[tokio::test]
async fn an_expired_consent_closes_the_record_without_anyone_acting() {
    let (app, world) = world().await;
    let owner = staff_session(&app, &world).await;
    let health_person = world
        .add_person(
            &app,
            NewPerson::new(
                "itabashi.health",
                "健康 保子",
                "itabashi-health",
                Role::MunicipalStaff,
            ),
        )
        .await;
    let id = world.children.itabashi_family.clone();
    let profile = format!("/children/{id}");
    // The test clock stands at 2026-11-21; the consent runs to the end of November.
    let res = app
        .post_form_as(
            &owner,
            &format!("{profile}/consents"),
            &[
                ("purpose", "department"),
                ("department", "health"),
                ("given_on", "2026-11-20"),
                ("method", "paper"),
                ("expires_on", "2026-11-30"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let health = world.sign_in(&app, &health_person).await;
    assert_eq!(app.get_as(&health, &profile).await.status, StatusCode::OK);
    // On the last day it still holds; the day after, the department is closed out.
    world.clock.advance(chrono::Duration::days(9));
    let health = world.sign_in(&app, &health_person).await;
    assert_eq!(app.get_as(&health, &profile).await.status, StatusCode::OK);
    world.clock.advance(chrono::Duration::days(1));
    let health = world.sign_in(&app, &health_person).await;
    assert_eq!(
        app.get_as(&health, &profile).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(
        !app.get_as(&health, "/children")
            .await
            .body
            .contains("山田 はると")
    );
}

/// A child reached in two ways (owned and consented; shared and consented) is one line of
/// the list and counts once in its total.
#[tokio::test]
async fn a_child_reached_in_two_ways_is_listed_and_counted_once() {
    let (app, world) = world().await;
    let owner = staff_session(&app, &world).await;
    let coordinator = world.login_as(&app, Role::Coordinator).await;
    let profile = format!("/children/{}", world.children.itabashi_family);
    let api_total = async |session: &Session| {
        let res = app.get_as(session, "/api/v1/children").await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        res.json()["total"].as_i64().expect("total")
    };
    let lines = async |session: &Session| {
        let res = app.get_as(session, "/children").await;
        res.body.matches(&format!("href=\"{profile}\"")).count()
    };
    let (owner_total, coordinator_total) = (api_total(&owner).await, api_total(&coordinator).await);
    assert_eq!((lines(&owner).await, lines(&coordinator).await), (1, 1));
    // The consultation office reaches the child by the family's consent (the fixture); the
    // record is now also shared with it, and the family consents to sharing with the
    // owner's own department (障害福祉).
    let mut conn = app.db.pool().acquire().await.expect("connection");
    tsunagu::features::consent::share(
        &mut conn,
        &world.children.itabashi_family,
        &world.organisations["consultation"],
        "referral",
        tsunagu_core::clock::Clock::now(world.clock.as_ref()),
    )
    .await
    .expect("share");
    drop(conn);
    let res = app
        .post_form_as(
            &owner,
            &format!("{profile}/consents"),
            &[
                ("purpose", "department"),
                ("department", "disability_welfare"),
                ("given_on", "2026-11-20"),
                ("method", "paper"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!((lines(&owner).await, lines(&coordinator).await), (1, 1));
    assert_eq!(api_total(&owner).await, owner_total);
    assert_eq!(api_total(&coordinator).await, coordinator_total);
}

/// An organisation reached by consent filters by care item on the consents' copy of the
/// child's care (kept by the database): it follows every edit, and a consent given after
/// the care was recorded starts with it.
#[tokio::test]
async fn a_consented_organisations_care_filter_follows_every_edit() {
    let (app, world) = world().await;
    let owner = staff_session(&app, &world).await;
    let coordinator = world.login_as(&app, Role::Coordinator).await;
    let centre = world.login_as(&app, Role::SupportCenterStaff).await;
    let id = world.children.itabashi_family.clone();
    let uri = format!("/children/{id}");
    let ventilated = async |session: &Session| {
        let res = app.get_as(session, "/children?care_item=ventilator").await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        res.body.contains(&format!("href=\"{uri}\""))
    };
    let edit = async |care: &[(&str, &str)]| {
        let current = version(&app, &id).await.to_string();
        let res = app
            .post_form_as(
                &owner,
                &uri,
                &edit_form(&current, "山田 はると", "やまだ はると", care),
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    };
    assert!(!ventilated(&coordinator).await);
    edit(&[("care_ventilator", "1"), ("watch_ventilator", "high")]).await;
    assert!(ventilated(&coordinator).await);
    assert!(ventilated(&centre).await);
    // The care changes: no more ventilator, oxygen instead.
    edit(&[("care_oxygen", "1"), ("watch_oxygen", "low")]).await;
    assert!(!ventilated(&coordinator).await);
    assert!(
        app.get_as(&coordinator, "/children?care_item=oxygen")
            .await
            .body
            .contains(&format!("href=\"{uri}\""))
    );
    // A consent recorded after the care starts with the child's care.
    let facility = world.login_as(&app, Role::FacilityStaff).await;
    let nursery = world.organisations["nursery"].clone();
    assert!(
        !app.get_as(&facility, "/children?care_item=oxygen")
            .await
            .body
            .contains(&format!("href=\"{uri}\""))
    );
    let res = app
        .post_form_as(
            &owner,
            &format!("{uri}/consents"),
            &[
                ("purpose", "organisation"),
                ("organisation_id", nursery.as_str()),
                ("given_on", "2026-11-20"),
                ("method", "paper"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert!(
        app.get_as(&facility, "/children?care_item=oxygen")
            .await
            .body
            .contains(&format!("href=\"{uri}\""))
    );
    let copies = app
        .count(
            "SELECT count(*) FROM child_consents k JOIN children c ON c.id = k.child_id \
             WHERE k.care_mask <> c.care_mask",
            &[],
        )
        .await;
    assert_eq!(copies, 0);
}

/// A family's consent to share with the support centre lets the centre read the record —
/// not edit it, record a consent for a third party (and reach the record through it), nor
/// withdraw the family's own consents.
#[tokio::test]
async fn a_consent_to_share_is_not_a_right_to_change() {
    let (app, world) = world().await;
    let centre = world.login_as(&app, Role::SupportCenterStaff).await;
    let id = world.children.itabashi_family.clone();
    let profile = format!("/children/{id}");
    assert_eq!(app.get_as(&centre, &profile).await.status, StatusCode::OK);
    let before_version = version(&app, &id).await;
    let res = app
        .post_form_as(
            &centre,
            &profile,
            &edit_form(
                &before_version.to_string(),
                "山田 はると",
                "やまだ はると",
                &[("address", "センターが書き換えた住所")],
            ),
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.body);
    assert_eq!(version(&app, &id).await, before_version);
    // A consent naming a third party, recorded by the centre: refused, nothing stored.
    let consents = app
        .count(
            "SELECT count(*) FROM child_consents WHERE child_id = $1",
            &[&id],
        )
        .await;
    let res = app
        .post_form_as(
            &centre,
            &format!("{profile}/consents"),
            &[
                ("purpose", "organisation"),
                ("organisation_id", &world.organisations["nursery"]),
                ("given_on", "2026-11-20"),
                ("method", "paper"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.body);
    // Withdrawing the family's consent to the centre itself: refused.
    let consent_id: String = app
        .text(
            "SELECT id FROM child_consents WHERE child_id = $1 AND withdrawn_at IS NULL",
            &[&id],
        )
        .await;
    let res = app
        .post_form_as(
            &centre,
            &format!("{profile}/consents/{consent_id}/withdraw"),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.body);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM child_consents WHERE child_id = $1 AND withdrawn_at IS NULL",
            &[&id]
        )
        .await,
        consents
    );
    // Each try is on record as refused.
    assert!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE resource_id = $1 AND outcome = 'denied'",
            &[&id]
        )
        .await
            >= 3
    );
}

/// The list's 市区町村 filter takes a name as well as a code; a name several towns share is
/// answered with the candidates, an unknown one with how to write it.
#[tokio::test]
async fn the_municipality_filter_takes_a_name() {
    let (app, world) = world().await;
    let centre = world.login_as(&app, Role::SupportCenterStaff).await;
    let filtered = async |town: &str| {
        app.get_as(
            &centre,
            &format!("/children?municipality={}", crate::support::encode(town)),
        )
        .await
    };
    let by_name = filtered("板橋区").await;
    assert_eq!(by_name.status, StatusCode::OK);
    assert!(by_name.body.contains(crate::support::ITABASHI_FAMILY_NAME));
    assert!(
        !by_name.body.contains(crate::support::NERIMA_NAME),
        "only 板橋区"
    );
    let by_code = filtered("131199").await;
    assert_eq!(
        by_code.body.matches("/children/").count(),
        by_name.body.matches("/children/").count()
    );
    let shared = filtered("府中市").await;
    assert_eq!(shared.status, StatusCode::BAD_REQUEST);
    assert!(shared.body.contains("東京都府中市"), "{}", shared.body);
    assert!(shared.body.contains("広島県府中市"), "{}", shared.body);
    assert_eq!(filtered("東京都府中市").await.status, StatusCode::OK);
    let unknown = filtered("架空市").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(unknown.body.contains("見つかりません"));
}

/// The free-text fields around a record (a family's message, a withdrawal's reason, a
/// break-glass reason shown to the family) refuse hidden characters too, and change nothing.
#[tokio::test]
async fn hidden_characters_are_refused_in_messages_and_reasons() {
    let (app, world) = world().await;
    let family = world.login_as(&app, Role::Guardian).await;
    let id = world.children.itabashi_family.clone();
    let res = app
        .post_form_as(
            &family,
            &format!("/children/{id}/proposals"),
            &[
                ("address", "板橋区大山町8-8"),
                ("message", "住所が\u{200B}変わりました"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("U+200B"), "{}", res.body);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM child_proposals WHERE child_id = $1",
            &[&id]
        )
        .await,
        0
    );
    let consent = app
        .text(
            "SELECT id FROM child_consents WHERE child_id = $1 AND withdrawn_at IS NULL",
            &[&id],
        )
        .await;
    let res = app
        .post_form_as(
            &family,
            &format!("/children/{id}/consents/{consent}/withdraw"),
            &[("reason", "理由\u{0000}")],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM child_consents WHERE id = $1 AND withdrawn_at IS NULL",
            &[&consent]
        )
        .await,
        1
    );
    let nerima = world.sign_in(&app, &world.nerima_staff).await;
    let res = app
        .post_form_as(
            &nerima,
            "/break-glass",
            &[
                ("resource_type", "child"),
                ("resource_id", &id),
                ("reason", "救急搬送の照会のため\u{202E}めたし認確"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("U+202E"), "{}", res.body);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM break_glass_grants WHERE resource_id = $1",
            &[&id]
        )
        .await,
        0
    );
}

/// A search box with an invisible character finds nothing and hides what was searched
/// for: the list, its API and the municipality search say so in Japanese.
#[tokio::test]
async fn a_search_with_an_invisible_character_is_refused_in_japanese() {
    let (app, world) = world().await;
    let staff = world.login_as(&app, Role::MunicipalStaff).await;
    for (uri, hidden) in [
        ("/children?q=", "%E5%B1%B1%E2%80%8B%E7%94%B0"), // 山\u{200B}田
        ("/api/v1/children?q=", "%E5%B1%B1%E2%80%AE%E7%94%B0"), // 山\u{202E}田
        ("/api/v1/municipalities?q=", "%E6%9D%BF%1B%E6%A9%8B"), // 板\u{1b}橋
    ] {
        let res = app.get_as(&staff, &format!("{uri}{hidden}")).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{uri}: {}", res.body);
        assert!(res.body.contains("検索語"), "{uri}: {}", res.body);
        assert!(res.body.contains("U+"), "{uri}: {}", res.body);
    }
    // The same search without the character is answered.
    let res = app.get_as(&staff, "/children?q=%E5%B1%B1%E7%94%B0").await;
    assert_eq!(res.status, StatusCode::OK);
}

/// A route of intake nobody chose stays empty — on the form, the page and after an edit —
/// and is not recorded as 保健センター.
#[tokio::test]
async fn an_intake_route_left_empty_stays_empty() {
    let (app, world) = world().await;
    let staff = staff_session(&app, &world).await;
    let fields = [
        ("name", "経路 みち"),
        ("kana", "けいろ みち"),
        ("birth_date", "2023-03-03"),
        ("sex", "female"),
        ("municipality_code", "131199"),
        ("intake_source", ""),
    ];
    let id = register(&app, &staff, &fields).await;
    let ids = [id.as_str()];
    let stored = || {
        app.count(
            "SELECT count(*) FROM children WHERE id = $1 AND intake_source = ''",
            &ids,
        )
    };
    assert_eq!(stored().await, 1);
    let page = app.get_as(&staff, &format!("/children/{id}")).await;
    assert!(
        page.body.contains("<dt>把握の経路</dt><dd>未登録"),
        "{}",
        page.body
    );
    // An edit of another field keeps it empty.
    let mut edited = fields.to_vec();
    edited.push(("address", "板橋区大山町1-1"));
    edited.push(("version", "1"));
    let res = app
        .post_form_as(&staff, &format!("/children/{id}"), &edited)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(stored().await, 1);
    // A route chosen is kept, and a made-up one refused.
    let mut chosen = fields.to_vec();
    chosen[5] = ("intake_source", "hospital_discharge");
    chosen[1] = ("kana", "けいろ みちか");
    let other = register(&app, &staff, &chosen).await;
    assert_eq!(
        app.count(
            "SELECT count(*) FROM children WHERE id = $1 AND intake_source = 'hospital_discharge'",
            &[&other],
        )
        .await,
        1
    );
    let mut made_up = fields.to_vec();
    made_up[5] = ("intake_source", "magic");
    made_up[1] = ("kana", "けいろ みちこ");
    let res = app.post_form_as(&staff, "/children", &made_up).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("選択肢にありません"), "{}", res.body);
}
