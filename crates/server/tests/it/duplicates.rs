//! One child, one record: registering a child whose kana and birth date match a record the
//! registrant may know of is stopped with what may be said of it, and goes through only
//! with a reason; another department of the town is told, an outside organisation is not.

use axum::http::{Method, StatusCode};
use tsunagu_core::access::Role;

use crate::support::{NewPerson, send_json, world};

const CHILD: [(&str, &str); 5] = [
    ("name", "重複 みお"),
    ("kana", "ちょうふく みお"),
    ("birth_date", "2021-10-10"),
    ("sex", "female"),
    ("municipality_code", "131199"),
];

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
    let first = res
        .header("location")
        .trim_start_matches("/children/")
        .trim_end_matches("?registered=1")
        .to_string();
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
    let health = world
        .add_person(
            &app,
            NewPerson::new(
                "itabashi.health2",
                "板橋 保子",
                "itabashi-health",
                Role::MunicipalStaff,
            ),
        )
        .await;
    let health = world.sign_in(&app, &health).await;
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
