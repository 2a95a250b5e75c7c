//! One child, one record: registering a child whose kana and birth date match a record the
//! registrant may know of is stopped with what may be said of it, and goes through only
//! with a reason; another department of the town is told, an outside organisation is not.

use axum::http::{Method, StatusCode};
use tsunagu_core::access::Role;

use crate::support::{NewPerson, Person, Session, TestApp, TestResponse, World, send_json, world};

const CHILD: [(&str, &str); 5] = [
    ("name", "重複 みお"),
    ("kana", "ちょうふく みお"),
    ("birth_date", "2021-10-10"),
    ("sex", "female"),
    ("municipality_code", "131199"),
];

/// 保健 staff of 板橋区 (another department of the town), signed in.
async fn health_staff(app: &TestApp, world: &World) -> (Person, Session) {
    let person = world
        .add_person(
            app,
            NewPerson::new(
                "itabashi.health2",
                "板橋 保子",
                "itabashi-health",
                Role::MunicipalStaff,
            ),
        )
        .await;
    let session = world.sign_in(app, &person).await;
    (person, session)
}

/// The id of the record a registration redirected to.
fn registered_id(res: &TestResponse) -> String {
    res.header("location")
        .trim_start_matches("/children/")
        .trim_end_matches("?registered=1")
        .to_string()
}

fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut form = CHILD.to_vec();
    form.extend_from_slice(extra);
    form
}

#[tokio::test]
async fn a_second_registration_of_the_same_child_is_stopped_and_needs_a_reason() {
    let (app, world) = world().await;
    let welfare = world.login_as(&app, Role::MunicipalStaff).await;
    let res = app.post_form_as(&welfare, "/children", &CHILD).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let first = registered_id(&res);
    let count = || {
        app.count(
            "SELECT count(*) FROM children WHERE kana = 'ちょうふく みお'",
            &[],
        )
    };
    // The same department again, the kana in katakana: stopped, with the record to open.
    let mut again = CHILD.to_vec();
    again[1] = ("kana", "チョウフク ミオ");
    let res = app.post_form_as(&welfare, "/children", &again).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert!(res.body.contains("すでに登録されています"), "{}", res.body);
    assert!(res.body.contains(&format!("/children/{first}")));
    assert_eq!(count().await, 1);
    // A reason too short is named beside its field.
    let res = app
        .post_form_as(
            &welfare,
            "/children",
            &with(&[("duplicate_reason", "双子")]),
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert!(res.body.contains("duplicate_reason-error"), "{}", res.body);
    assert_eq!(count().await, 1);
    // The API says the same with a stable code and the record's id.
    let res = send_json(
        &app,
        &welfare,
        Method::POST,
        "/api/v1/children",
        &serde_json::json!({"name": "重複 みお", "kana": "ちょうふく みお", "birth_date": "2021-10-10",
            "sex": "female", "municipality_code": "131199"}),
        Some(&welfare.csrf),
    )
    .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert_eq!(res.json()["error"]["code"], "possible_duplicate");
    assert_eq!(res.json()["error"]["duplicate_of"], first.as_str());
    // With a reason it is registered.
    let res = app
        .post_form_as(
            &welfare,
            "/children",
            &with(&[(
                "duplicate_reason",
                "双子のきょうだいで、ふりがなの読みが同じです",
            )]),
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(count().await, 2);
}

#[tokio::test]
async fn another_department_is_told_only_that_a_record_exists_and_whose() {
    let (app, world) = world().await;
    let welfare = world.login_as(&app, Role::MunicipalStaff).await;
    let res = app.post_form_as(&welfare, "/children", &CHILD).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    // 保健 of the same ward, without the family's consent to read the record.
    let (_, health) = health_staff(&app, &world).await;
    let res = app
        .post_form_as(
            &health,
            "/children",
            &with(&[("diagnoses", "秘密の診断名")]),
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert!(
        res.body.contains("障害"),
        "the owner is named: {}",
        res.body
    );
    assert!(res.body.contains("内容は表示できません"));
    assert!(!res.body.contains("/children/0") && !res.body.contains("の記録を開く"));
    // Or the same child: 保健 asks the owner to share it. The owner's staff are told who
    // asks, with the way to the family's consents; 保健 learns no id.
    let res = app
        .post_form_as(
            &health,
            "/children/access-requests",
            &with(&[("access_message", "新生児訪問の記録と照合したい")]),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.body.contains("共有の依頼を伝えました"));
    assert!(!res.body.contains("/children/0"), "{}", res.body);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM notices WHERE account_id = $1 AND kind = 'access_request' AND link LIKE '%/consents' AND message LIKE '%重複 みお%照合したい%'",
            &[&world.person(Role::MunicipalStaff).id],
        )
        .await,
        1
    );
    // A child that is not there: said so, nobody told.
    let mut nobody = CHILD.to_vec();
    nobody[2] = ("birth_date", "2020-01-01");
    let res = app
        .post_form_as(&health, "/children/access-requests", &nobody)
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    // Registered anyway with a reason: the owner department hears of it, with the reason.
    let res = app
        .post_form_as(
            &health,
            "/children",
            &with(&[(
                "duplicate_reason",
                "保健センターの新生児訪問で把握した別の児童です",
            )]),
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let told = app
        .count(
            "SELECT count(*) FROM notices WHERE account_id = $1 AND kind = 'possible_duplicate' AND message LIKE '%新生児訪問%'",
            &[&world.person(Role::MunicipalStaff).id],
        )
        .await;
    assert_eq!(told, 1);
    // An outside organisation (the consultation office) hears of nothing it cannot read.
    let coordinator = world.login_as(&app, Role::Coordinator).await;
    let res = app.post_form_as(&coordinator, "/children", &CHILD).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
}

/// The town reviews the pairs: 障害福祉 sees the record 保健 registered anyway beside its
/// own and merges it in. Both histories are kept, 保健's consents and access move to the
/// one record, 保健 is told and still reads the child; the merged id is gone, a second
/// merge or another town's staff gets nothing.
#[tokio::test]
async fn the_town_merges_two_records_of_one_child_keeping_both_histories() {
    let (app, world) = world().await;
    let welfare = world.login_as(&app, Role::MunicipalStaff).await;
    let res = app.post_form_as(&welfare, "/children", &CHILD).await;
    let own = registered_id(&res);
    let (health_person, health) = health_staff(&app, &world).await;
    let res = app
        .post_form_as(
            &health,
            "/children",
            &with(&[
                (
                    "duplicate_reason",
                    "保健センターの新生児訪問で把握した記録です",
                ),
                ("diagnoses", "新生児訪問での所見"),
            ]),
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let other = registered_id(&res);
    // 保健 edits its record once, so it has a history of its own.
    let edit = app
        .get_as(&health, &format!("/children/{other}/edit"))
        .await;
    assert_eq!(edit.status, StatusCode::OK);
    let mut fields = with(&[("diagnoses", "新生児訪問での所見（追記）")]);
    fields.push(("version", "1"));
    let saved = app
        .post_form_as(&health, &format!("/children/{other}"), &fields)
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);

    // 障害福祉's home and review show the pair.
    let home = app.get_as(&welfare, "/home").await;
    assert!(
        home.body.contains("重複の可能性がある記録"),
        "{}",
        home.body
    );
    let review = app.get_as(&welfare, "/children/duplicates").await;
    assert_eq!(review.status, StatusCode::OK);
    assert!(
        review.body.contains(&format!("value=\"{other}\"")),
        "{}",
        review.body
    );
    assert!(review.body.contains("健康推進課"), "{}", review.body);
    // A reason is needed, beside its field; nothing changes without one.
    let merge = format!("/children/{own}/merge");
    let res = app
        .post_form_as(
            &welfare,
            &merge,
            &[("merged_id", other.as_str()), ("reason", "同じ")],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("10文字以上"), "{}", res.body);
    assert_eq!(
        app.count("SELECT count(*) FROM children WHERE id = $1", &[&other])
            .await,
        1
    );
    // Merged.
    let reason = "生年月日・保護者の氏名が同じで同一の児童と確認";
    let res = app
        .post_form_as(
            &welfare,
            &merge,
            &[("merged_id", other.as_str()), ("reason", reason)],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(
        app.count("SELECT count(*) FROM children WHERE id = $1", &[&other])
            .await,
        0
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM child_shares WHERE child_id = $1 AND organisation_id = $2 AND basis = 'merge'",
            &[&own, &world.organisations["itabashi-health"]],
        )
        .await,
        1
    );
    // Both histories: the merged record's content and edit are on the kept one's page.
    let history = app
        .get_as(&welfare, &format!("/children/{own}/history"))
        .await;
    assert!(history.body.contains("統合した記録"), "{}", history.body);
    assert!(
        history.body.contains("新生児訪問での所見（追記）"),
        "{}",
        history.body
    );
    assert!(history.body.contains(reason), "{}", history.body);
    // On the audit trail: the kept record changed, the merged one removed.
    let actor = &world.person(Role::MunicipalStaff).id;
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE actor_account_id = $1 AND action = 'update' AND child_id = $2 AND detail = $3",
            &[actor, &own, &format!("merge:{other}")],
        )
        .await,
        1
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE action = 'delete' AND child_id = $1",
            &[&other],
        )
        .await,
        1
    );
    // 保健 is told and still reads the child, through the one record.
    assert_eq!(
        app.count(
            "SELECT count(*) FROM notices WHERE account_id = $1 AND message LIKE '%統合しました%'",
            &[&health_person.id],
        )
        .await,
        1
    );
    assert_eq!(
        app.get_as(&health, &format!("/children/{own}"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get_as(&health, &format!("/children/{other}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // A third record of the child, kept by 障害福祉 with a reason, takes the kept one in:
    // both earlier records' histories are on it.
    let res = app
        .post_form_as(
            &welfare,
            "/children",
            &with(&[(
                "duplicate_reason",
                "転入の手続きで作り直した記録です（確認前）",
            )]),
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let third = registered_id(&res);
    let res = app
        .post_form_as(
            &welfare,
            &format!("/children/{third}/merge"),
            &[("merged_id", own.as_str()), ("reason", reason)],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let history = app
        .get_as(&welfare, &format!("/children/{third}/history"))
        .await;
    assert!(
        history.body.contains("新生児訪問での所見（追記）"),
        "{}",
        history.body
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM child_merges WHERE survivor_id = $1",
            &[&third]
        )
        .await,
        2
    );
    // Again, or by another town's staff: nothing to merge.
    let again = app
        .post_form_as(
            &welfare,
            &merge,
            &[("merged_id", other.as_str()), ("reason", reason)],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let nerima = world.sign_in(&app, &world.nerima_staff).await;
    let review = app.get_as(&nerima, "/children/duplicates").await;
    assert!(
        review.body.contains("重複の可能性がある記録はありません"),
        "{}",
        review.body
    );
    let res = app
        .post_form_as(
            &nerima,
            &format!("/children/{own}/merge"),
            &[
                ("merged_id", world.children.nerima.as_str()),
                ("reason", reason),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}
