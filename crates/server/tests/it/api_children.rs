//! The children JSON API: list with filters, pagination and scope; the record with its
//! score; registration and edits through the one validator; the version check; transitions;
//! the access log; 404 and audit for everything out of reach; CSRF on writes; and the
//! OpenAPI description of every `/api/v1` route.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tsunagu::auth::guard::Access;
use tsunagu_core::access::Role;

use crate::support::{
    ITABASHI_FAMILY_NAME, ITABASHI_SHARED_NAME, NERIMA_NAME, NewPerson, SAPPORO_NAME, Session,
    TestApp, TestResponse, request_as, send_json, signed_in, world,
};

const NO_SUCH_ID: &str = "00000000-0000-4000-8000-000000000000";

async fn post_child(app: &TestApp, session: &Session, body: &Value) -> TestResponse {
    send_json(
        app,
        session,
        Method::POST,
        "/api/v1/children",
        body,
        Some(&session.csrf),
    )
    .await
}

async fn patch_child(app: &TestApp, session: &Session, id: &str, body: &Value) -> TestResponse {
    send_json(
        app,
        session,
        Method::PATCH,
        &format!("/api/v1/children/{id}"),
        body,
        Some(&session.csrf),
    )
    .await
}

/// Ventilator (high) + tracheostomy + suction (high) + tube feeding (high): basic
/// 10 + 8 + 8 + 8 = 34, 見守り 2 + 0 + 1 + 2 = 5, total 39.
fn breathing_child() -> Value {
    json!({
        "name": "呼吸 たすく",
        "name_kana": "こきゅう たすく",
        "birth_date": "2023-05-05",
        "sex": "male",
        "municipality_code": "131199",
        "address": "板橋区大山1-1",
        "care_items": [
            {"item": "ventilator", "watch": "high"},
            {"item": "tracheostomy", "watch": "high"},
            {"item": "suction", "watch": "high"},
            {"item": "tube_feeding", "watch": "high"}
        ],
        "guardians": [
            {"name": "呼吸 はな", "kana": "こきゅう はな", "relation": "母", "phone": "090-1234-5678", "wishes_to_work": "yes"}
        ],
        "devices": [
            {"kind": "ventilator", "power_watts": 45, "battery_internal_hours": 4.5}
        ],
        "siblings": [{"name": "呼吸 あお", "birth_date": "2020-01-10"}]
    })
}

fn a_child(name: &str, kana: &str, care: &[&str]) -> Value {
    json!({
        "name": name,
        "kana": kana,
        "birth_date": "2021-09-01",
        "sex": "female",
        "municipality_code": "131199",
        "care_items": care,
    })
}

async fn created_id(app: &TestApp, session: &Session, body: &Value) -> String {
    let res = post_child(app, session, body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    res.json()["id"].as_str().unwrap().to_string()
}

fn assert_error(res: &TestResponse, status: StatusCode, code: &str) {
    assert_eq!(res.status, status, "{}", res.body);
    assert_eq!(res.json()["error"]["code"], code, "{}", res.body);
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{}",
        res.body
    );
}

fn names_of(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

async fn reads(app: &TestApp, actor: &str, child: &str, detail: &str) -> i64 {
    app.count(
        "SELECT count(*) FROM audit_log WHERE actor_account_id = $1 AND action = 'read' AND outcome = 'allowed' AND child_id = $2 AND detail = $3",
        &[actor, child, detail],
    )
    .await
}

async fn denied(app: &TestApp, actor: &str, resource: &str) -> i64 {
    app.count(
        "SELECT count(*) FROM audit_log WHERE actor_account_id = $1 AND action = 'denied' AND outcome = 'denied' AND resource_id = $2",
        &[actor, resource],
    )
    .await
}

#[tokio::test]
async fn the_list_filters_paginates_and_stays_in_the_callers_town() {
    let (app, world, staff) = signed_in(Role::MunicipalStaff).await;
    created_id(&app, &staff, &breathing_child()).await;
    created_id(
        &app,
        &staff,
        &a_child("安藤 みお", "あんどう みお", &["suction"]),
    )
    .await;
    created_id(&app, &staff, &a_child("伊藤 そら", "いとう そら", &[])).await;

    let res = app.get_as(&staff, "/api/v1/children").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.header("content-type").starts_with("application/json"));
    let all = res.json();
    assert_eq!(all["total"], 5);
    assert_eq!(all["page"], 1);
    assert_eq!(all["per_page"], 50);
    let names = names_of(&all);
    assert_eq!(names.len(), 5);
    assert!(names.contains(&ITABASHI_FAMILY_NAME.to_string()));
    assert!(names.contains(&ITABASHI_SHARED_NAME.to_string()));
    // 板橋区 staff never see 練馬区 or 札幌市 children, whatever they filter on.
    for query in [
        "",
        "?municipality=131202",
        "?municipality=011002",
        "?q=%E3%81%9F%E3%81%8B%E3%81%AF%E3%81%97",
    ] {
        let body = app
            .get_as(&staff, &format!("/api/v1/children{query}"))
            .await
            .body;
        assert!(
            !body.contains(NERIMA_NAME) && !body.contains(SAPPORO_NAME),
            "{query}"
        );
        assert!(!body.contains(world.children.nerima.as_str()), "{query}");
        assert!(!body.contains(world.children.sapporo.as_str()), "{query}");
    }
    assert_eq!(
        app.get_as(&staff, "/api/v1/children?municipality=131202")
            .await
            .json()["total"],
        0
    );
    // Rows carry what the issue asks for; by kana.
    let first = &all["items"][0];
    assert_eq!(first["name_kana"], "あんどう みお");
    assert_eq!(first["municipality_code"], "131199");
    assert_eq!(first["municipality_name"], "板橋区");
    assert_eq!(first["version"], 1);
    assert_eq!(first["birth_date"], "2021-09-01");
    assert_eq!(first["care_items"], json!(["suction"]));
    assert_eq!(first["score"]["tier"], "tier3");
    assert!(first["id"].is_string());

    // Filters as on the list page.
    let vent = app
        .get_as(&staff, "/api/v1/children?care_item=ventilator")
        .await
        .json();
    assert_eq!(names_of(&vent), ["呼吸 たすく"]);
    assert_eq!(
        vent["items"][0]["care_items"],
        json!(["ventilator", "tracheostomy", "suction", "tube_feeding"])
    );
    assert_eq!(vent["items"][0]["score"]["total"], 39);
    assert_eq!(vent["items"][0]["score"]["tier"], "tier32");
    let tier = app
        .get_as(&staff, "/api/v1/children?tier=tier32")
        .await
        .json();
    assert_eq!(tier["total"], 1);
    let text = app
        .get_as(&staff, "/api/v1/children?q=%E3%81%84%E3%81%A8%E3%81%86")
        .await
        .json();
    assert_eq!(names_of(&text), ["伊藤 そら"]);
    let device = app
        .get_as(
            &staff,
            "/api/v1/children?device=ventilator&wishes_to_work=yes",
        )
        .await
        .json();
    assert_eq!(names_of(&device), ["呼吸 たすく"]);

    // Pages.
    let mut seen = Vec::new();
    for page in 1..=3 {
        let res = app
            .get_as(&staff, &format!("/api/v1/children?per_page=2&page={page}"))
            .await
            .json();
        assert_eq!(res["total"], 5);
        assert_eq!(res["page"], page);
        assert_eq!(res["per_page"], 2);
        seen.extend(names_of(&res));
    }
    assert_eq!(seen, names);
    let beyond = app
        .get_as(&staff, "/api/v1/children?per_page=2&page=4")
        .await
        .json();
    assert_eq!(beyond["items"], json!([]));
    assert_eq!(beyond["total"], 5);

    // Bad parameters are 400 with a Japanese message.
    for uri in [
        "/api/v1/children?per_page=101",
        "/api/v1/children?per_page=0",
        "/api/v1/children?page=abc",
        "/api/v1/children?care_item=magic",
        "/api/v1/children?municipality=131190",
        "/api/v1/children?tier=tier99",
        // A parameter with no value is not "any" in the API (a form's empty field is).
        "/api/v1/children?tier=",
        "/api/v1/children?page=",
        "/api/v1/children?municipality=",
    ] {
        assert_error(
            &app.get_as(&staff, uri).await,
            StatusCode::BAD_REQUEST,
            "bad_request",
        );
    }
    // Each list answered is one read entry naming the children it showed; refused
    // requests showed none. (A registration's answer, the record as stored, is read
    // through the gate as `created`.)
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE action = 'read' AND resource_type <> 'child_list' \
             AND detail <> 'api;created'",
            &[]
        )
        .await,
        0
    );
    assert!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE action = 'read' AND resource_type = 'child_list' AND detail LIKE 'shown=%'",
            &[]
        )
        .await
            > 0
    );

    // A guardian sees their own child only.
    let guardian = world.login_as(&app, Role::Guardian).await;
    let theirs = app.get_as(&guardian, "/api/v1/children").await.json();
    assert_eq!(names_of(&theirs), [ITABASHI_FAMILY_NAME]);
}

/// Ids of a list page, in order.
fn ids_of(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_string())
        .collect()
}

#[tokio::test]
async fn a_child_reached_several_ways_is_listed_once_and_every_page_agrees() {
    let (app, world) = world().await;
    let staff = world.login_as(&app, Role::MunicipalStaff).await;
    let centre = world.login_as(&app, Role::SupportCenterStaff).await;
    // The family's child is owned by 板橋区 障害福祉 and, besides, shared with it and with
    // the support centre, which also holds a consent for it.
    for org in ["itabashi-welfare", "tokyo-centre"] {
        sqlx::query(
            "INSERT INTO child_shares (child_id, organisation_id, basis, created_at) VALUES ($1, $2, 'referral', 0)",
        )
        .bind(world.children.itabashi_family.as_str())
        .bind(world.organisations[org].as_str())
        .execute(app.db.pool())
        .await
        .expect("share");
    }
    for (session, expected) in [
        (
            &staff,
            vec![
                &world.children.itabashi_family,
                &world.children.itabashi_shared,
            ],
        ),
        (
            &centre,
            vec![
                &world.children.itabashi_family,
                &world.children.itabashi_shared,
                &world.children.nerima,
            ],
        ),
    ] {
        let all = app.get_as(session, "/api/v1/children").await.json();
        assert_eq!(all["total"], expected.len(), "{all}");
        let mut listed = ids_of(&all);
        listed.sort();
        let mut want: Vec<String> = expected.iter().map(|id| id.to_string()).collect();
        want.sort();
        assert_eq!(listed, want);
        // One per page, in the same order as the whole list, each page with the same total;
        // past the last page: nothing, and still the total.
        let mut paged = Vec::new();
        for page in 1..=expected.len() + 1 {
            let res = app
                .get_as(session, &format!("/api/v1/children?per_page=1&page={page}"))
                .await
                .json();
            assert_eq!(res["total"], expected.len(), "page {page}: {res}");
            paged.extend(ids_of(&res));
        }
        assert_eq!(paged, ids_of(&all));
    }
}

#[tokio::test]
async fn the_record_carries_its_fields_and_score_and_each_get_is_an_audited_read() {
    let (app, world, staff) = signed_in(Role::MunicipalStaff).await;
    let id = created_id(&app, &staff, &breathing_child()).await;
    let actor = &world.person(Role::MunicipalStaff).id;
    let before = reads(&app, actor, &id, "api").await;

    let res = app.get_as(&staff, &format!("/api/v1/children/{id}")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let child = res.json();
    assert_eq!(child["id"], id.as_str());
    assert_eq!(child["version"], 1);
    assert_eq!(child["municipality_code"], "131199");
    assert_eq!(child["municipality_name"], "板橋区");
    assert_eq!(
        child["owner_organisation"]["id"],
        world.organisations["itabashi-welfare"].as_str()
    );
    assert_eq!(child["name"], "呼吸 たすく");
    assert_eq!(child["name_kana"], "こきゅう たすく");
    assert_eq!(child["birth_date"], "2023-05-05");
    assert_eq!(child["sex"], "male");
    assert_eq!(child["status"], "active");
    assert_eq!(child["address"], "板橋区大山1-1");
    assert_eq!(child["recipient_certificate"], false);
    assert_eq!(child["care_items"][0]["item"], "ventilator");
    assert_eq!(child["care_items"][0]["label"], "人工呼吸器の管理");
    assert_eq!(child["care_items"][0]["watch"], "high");
    assert_eq!(child["care_items"][0]["variant"], Value::Null);
    assert_eq!(
        child["score"],
        json!({"basic": 34, "watch": 5, "total": 39, "tier": "tier32", "tier_label": "32点以上"})
    );
    assert_eq!(child["guardians"][0]["relation"], "母");
    assert_eq!(child["guardians"][0]["phone"], "090-1234-5678");
    assert_eq!(child["guardians"][0]["wishes_to_work"], "yes");
    assert_eq!(child["devices"][0]["kind"], "ventilator");
    assert_eq!(child["devices"][0]["power_watts"], 45);
    assert_eq!(child["devices"][0]["battery_internal_hours"], 4.5);
    assert_eq!(child["devices"][0]["battery_external_hours"], Value::Null);
    assert_eq!(child["siblings"][0]["birth_date"], "2020-01-10");
    // 2023-05-05 is in the 2歳児クラス in 令和8年度 (test clock 2026-11-21).
    assert_eq!(child["life_stage"]["label"], "2歳児クラス");
    assert_eq!(child["life_stage"]["stage"], "nursery_class");
    assert!(child["transitions"].is_array());
    assert_eq!(child["via_break_glass"], false);
    assert_eq!(reads(&app, actor, &id, "api").await, before + 1);

    // Each GET is one more read.
    app.get_as(&staff, &format!("/api/v1/children/{id}")).await;
    assert_eq!(reads(&app, actor, &id, "api").await, before + 2);

    // A fetched record can be sent back as it is: nothing changes, the version stays.
    let mut back = child.clone();
    back["version"] = json!(1);
    let res = patch_child(&app, &staff, &id, &back).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.json()["version"], 1);
    assert_eq!(res.json()["changes"], json!([]));
}

#[tokio::test]
async fn another_towns_child_and_a_forged_id_are_404_with_a_denied_audit_entry() {
    let (app, world, staff) = signed_in(Role::MunicipalStaff).await;
    let actor = world.person(Role::MunicipalStaff).id.clone();
    for id in [
        world.children.nerima.as_str(),
        world.children.sapporo.as_str(),
        NO_SUCH_ID,
        "not-even-a-uuid",
    ] {
        for suffix in ["", "/transitions", "/access-log"] {
            let before = denied(&app, &actor, id).await;
            let res = app
                .get_as(&staff, &format!("/api/v1/children/{id}{suffix}"))
                .await;
            assert_error(&res, StatusCode::NOT_FOUND, "not_found");
            for name in [NERIMA_NAME, SAPPORO_NAME] {
                assert!(!res.body.contains(name), "{}", res.body);
            }
            assert_eq!(denied(&app, &actor, id).await, before + 1, "{id}{suffix}");
        }
        let before = denied(&app, &actor, id).await;
        let res = patch_child(
            &app,
            &staff,
            id,
            &json!({"version": 1, "address": "練馬区"}),
        )
        .await;
        assert_error(&res, StatusCode::NOT_FOUND, "not_found");
        assert_eq!(denied(&app, &actor, id).await, before + 1);
    }
    // The two answers are the same, so ids cannot be probed.
    let other = app
        .get_as(
            &staff,
            &format!("/api/v1/children/{}", world.children.nerima),
        )
        .await;
    let missing = app
        .get_as(&staff, &format!("/api/v1/children/{NO_SUCH_ID}"))
        .await;
    assert_eq!(other.body, missing.body);
    assert_eq!(
        app.count("SELECT count(*) FROM audit_log WHERE action = 'read'", &[])
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT count(*) FROM child_history", &[]).await,
        0
    );
}

#[tokio::test]
async fn registering_computes_the_score_and_bad_input_is_refused_in_japanese() {
    let (app, world, staff) = signed_in(Role::MunicipalStaff).await;
    let actor = world.person(Role::MunicipalStaff).id.clone();
    let res = post_child(&app, &staff, &breathing_child()).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let created = res.json();
    let id = created["id"].as_str().unwrap();
    assert_eq!(res.header("location"), format!("/api/v1/children/{id}"));
    assert_eq!(created["version"], 1);
    assert_eq!(created["score"]["total"], 39);
    assert_eq!(created["score"]["tier"], "tier32");
    assert_eq!(created["care_items"].as_array().unwrap().len(), 4);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM child_care_items WHERE child_id = $1",
            &[id]
        )
        .await,
        4
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM children WHERE id = $1 AND care_score = 39 AND care_tier = 'tier32' AND owner_organisation_id = $2",
            &[id, &world.organisations["itabashi-welfare"]]
        )
        .await,
        1
    );
    assert_eq!(app.audit_count(&actor, "create", "allowed").await, 1);
    // The answer shows the record: read through the gate, on record like any read.
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE action = 'read' AND child_id = $1 AND detail = 'api;created'",
            &[id]
        )
        .await,
        1
    );

    let children = app.count("SELECT count(*) FROM children", &[]).await;
    let audit = app.count("SELECT count(*) FROM audit_log", &[]).await;
    let with = |key: &str, value: Value| {
        let mut body = breathing_child();
        body[key] = value;
        body
    };
    let mut long = breathing_child();
    long["name"] = json!("長".repeat(101));
    let mut unknown = breathing_child();
    unknown["colour"] = json!("blue");
    for (body, message) in [
        (
            with("birth_date", json!("2023-02-30")),
            "生年月日を 2020-04-02 や 令和2年4月2日 の形で入力してください",
        ),
        (with("birth_date", json!("2030-01-01")), "生年月日が未来"),
        (
            with("municipality_code", json!("131190")),
            "住所地の市区町村",
        ),
        (
            with("care_items", json!([{"item": "magic"}])),
            "「magic」は医療的ケアの項目コードではありません",
        ),
        (
            with("care_items", json!([{"item": "feeding_pump"}])),
            "経管栄養",
        ),
        (
            with("care_items", json!(["suction", "suction"])),
            "重複しています",
        ),
        (long, "氏名は100文字以内で入力してください"),
        (unknown, "「colour」という項目はありません"),
        (
            with(
                "devices",
                json!([{"kind": "ventilator", "power_watts": 99999}]),
            ),
            "医療機器1の消費電力",
        ),
        (
            with("guardians", json!([{}, {}, {}, {}])),
            "保護者は3件まで",
        ),
        (
            with("address", json!({"city": "板橋区"})),
            "「address」は文字列",
        ),
    ] {
        let res = post_child(&app, &staff, &body).await;
        assert_error(&res, StatusCode::BAD_REQUEST, "invalid_child");
        let json = res.json();
        let errors: Vec<&str> = json["error"]["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        assert!(
            errors.iter().any(|e| e.contains(message)),
            "{message} not in {errors:?}"
        );
        assert!(json["error"]["message"].as_str().unwrap().contains(message));
    }
    // Several problems are named at once.
    let mut many = breathing_child();
    many["name"] = json!("");
    many["sex"] = json!("robot");
    let json = post_child(&app, &staff, &many).await.json();
    assert!(json["error"]["errors"].as_array().unwrap().len() >= 2);
    // Each problem also comes with its field and a stable code, for a client to place it.
    let fields = json["error"]["fields"].as_array().unwrap();
    let has = |field: &str, code: &str| {
        fields
            .iter()
            .any(|f| f["field"] == field && f["code"] == code && f["message"].is_string())
    };
    assert!(has("name", "required"), "{fields:?}");
    assert!(has("sex", "not_a_choice"), "{fields:?}");
    // Not JSON at all.
    let res = app
        .request(
            request_as(&staff, Method::POST, "/api/v1/children")
                .header("x-csrf-token", &staff.csrf)
                .header("content-type", "application/json")
                .body(Body::from("name=呼吸"))
                .unwrap(),
        )
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "bad_request");
    // Nothing was written by any of them.
    assert_eq!(
        app.count("SELECT count(*) FROM children", &[]).await,
        children
    );
    assert_eq!(
        app.count("SELECT count(*) FROM audit_log", &[]).await,
        audit
    );

    // A child of another town is not 板橋区 staff's to register: 403, audited, nothing written.
    let res = post_child(&app, &staff, &with("municipality_code", json!("131202"))).await;
    assert_error(&res, StatusCode::FORBIDDEN, "forbidden");
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("担当外")
    );
    assert_eq!(denied(&app, &actor, "131202").await, 1);
    assert_eq!(
        app.count("SELECT count(*) FROM children", &[]).await,
        children
    );

    // Roles without WriteChild are refused by the guard.
    let nursery = world.login_as(&app, Role::FacilityStaff).await;
    assert_error(
        &post_child(&app, &nursery, &breathing_child()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
}

#[tokio::test]
async fn an_edit_needs_the_version_and_a_stale_one_names_the_other_change() {
    let (app, world, staff) = signed_in(Role::MunicipalStaff).await;
    let id = created_id(&app, &staff, &breathing_child()).await;
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
    let other = world.sign_in(&app, &colleague).await;

    // Without the version: 400, nothing written.
    let res = patch_child(&app, &staff, &id, &json!({"address": "板橋区板橋1-1"})).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "version_required");
    let res = patch_child(
        &app,
        &staff,
        &id,
        &json!({"version": "1", "address": "板橋区板橋1-1"}),
    )
    .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "version_required");

    // The colleague changes the address from version 1.
    let res = patch_child(
        &app,
        &other,
        &id,
        &json!({"version": 1, "address": "板橋区板橋1-1"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let saved = res.json();
    assert_eq!(saved["id"], id.as_str());
    assert_eq!(saved["version"], 2);
    assert_eq!(saved["changes"][0]["field"], "address");
    assert_eq!(saved["changes"][0]["before"], "板橋区大山1-1");
    assert_eq!(saved["changes"][0]["after"], "板橋区板橋1-1");
    assert_eq!(
        app.count(
            "SELECT count(*) FROM child_history WHERE child_id = $1 AND version = 2 AND source = 'api' AND account_id = $2",
            &[&id, &colleague.id]
        )
        .await,
        1
    );
    assert_eq!(app.audit_count(&colleague.id, "update", "allowed").await, 1);

    // The first person, still at version 1, changes the guardians: 409 naming who changed
    // the record, but none of the colleague's values (the address is not theirs to see
    // through a conflict), and nothing of theirs is saved. The answer is a read, audited.
    let reads_before = app
        .count(
            "SELECT count(*) FROM audit_log WHERE action = 'read' AND resource_id = $1 AND detail LIKE 'conflict%'",
            &[&id],
        )
        .await;
    let res = patch_child(
        &app,
        &staff,
        &id,
        &json!({"version": 1, "guardians": [{"name": "呼吸 ゆう", "relation": "父"}]}),
    )
    .await;
    assert_error(&res, StatusCode::CONFLICT, "version_conflict");
    let conflict = res.json();
    let message = conflict["error"]["message"].as_str().unwrap();
    assert!(message.contains("板橋 次郎"), "{message}");
    assert!(!res.body.contains("板橋区板橋1-1"), "{}", res.body);
    assert_eq!(conflict["error"]["current_version"], 2);
    assert_eq!(conflict["error"]["others"][0]["version"], 2);
    assert_eq!(conflict["error"]["others"][0]["account_name"], "板橋 次郎");
    assert_eq!(conflict["error"]["others"][0]["changes"], json!([]));
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE action = 'read' AND resource_id = $1 AND detail LIKE 'conflict%'",
            &[&id],
        )
        .await,
        reads_before + 1
    );
    // The same field changed by both: that field, with the colleague's value, is named.
    let res = patch_child(
        &app,
        &staff,
        &id,
        &json!({"version": 1, "address": "板橋区成増2-2"}),
    )
    .await;
    assert_error(&res, StatusCode::CONFLICT, "version_conflict");
    let conflict = res.json();
    assert!(
        conflict["error"]["message"]
            .as_str()
            .unwrap()
            .contains("住所"),
        "{conflict}"
    );
    assert_eq!(
        conflict["error"]["others"][0]["changes"][0]["field"],
        "address"
    );
    let now = app
        .get_as(&staff, &format!("/api/v1/children/{id}"))
        .await
        .json();
    assert_eq!(now["version"], 2);
    assert_eq!(now["guardians"][0]["name"], "呼吸 はな");

    // From the current version it goes through; lists replace whole lists, absent members
    // keep their values, and the score follows the care items.
    let res = patch_child(
        &app,
        &staff,
        &id,
        &json!({
            "version": 2,
            "guardians": [{"name": "呼吸 ゆう", "relation": "父"}],
            "care_items": [{"item": "suction"}],
            "devices": []
        }),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let saved = res.json();
    let fields: Vec<&str> = saved["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["care_items", "guardians", "devices"]);
    assert_eq!(saved["version"], 3);
    let now = app
        .get_as(&staff, &format!("/api/v1/children/{id}"))
        .await
        .json();
    assert_eq!(now["version"], 3);
    assert_eq!(now["address"], "板橋区板橋1-1");
    assert_eq!(now["guardians"].as_array().unwrap().len(), 1);
    assert_eq!(now["guardians"][0]["relation"], "父");
    assert_eq!(now["devices"], json!([]));
    assert_eq!(now["siblings"][0]["name"], "呼吸 あお");
    assert_eq!(now["score"]["tier"], "tier3");
    assert_eq!(
        app.count(
            "SELECT count(*) FROM children WHERE id = $1 AND care_tier = 'tier3'",
            &[&id]
        )
        .await,
        1
    );
    // The list's care and device filters follow the edit (the masks kept on the child).
    let listed = async |query: &str| {
        app.get_as(&staff, &format!("/api/v1/children?{query}"))
            .await
            .body
            .contains(id.as_str())
    };
    assert!(!listed("care_item=ventilator").await);
    assert!(!listed("device=ventilator").await);
    assert!(listed("care_item=suction").await);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM child_history WHERE child_id = $1",
            &[&id]
        )
        .await,
        2
    );

    // Invalid values and a move to another town are 400 and change nothing.
    for (body, message) in [
        (
            json!({"version": 3, "birth_date": "2023-13-01"}),
            "生年月日",
        ),
        (
            json!({"version": 3, "municipality_code": "131202"}),
            "住所地の市区町村は変更できません",
        ),
        (
            json!({"version": 3, "status": "moved_out"}),
            "その日付を入力してください",
        ),
    ] {
        let res = patch_child(&app, &staff, &id, &body).await;
        assert_error(&res, StatusCode::BAD_REQUEST, "invalid_child");
        assert!(res.body.contains(message), "{}", res.body);
    }
    assert_eq!(
        app.count(
            "SELECT count(*) FROM child_history WHERE child_id = $1",
            &[&id]
        )
        .await,
        2
    );
}

#[tokio::test]
async fn an_edit_without_the_csrf_header_is_refused() {
    let (app, world, staff) = signed_in(Role::MunicipalStaff).await;
    let id = world.children.itabashi_family.clone();
    let body = json!({"version": 1, "address": "板橋区"});
    let uri = format!("/api/v1/children/{id}");
    for token in [None, Some("forged"), Some("")] {
        let res = send_json(&app, &staff, Method::PATCH, &uri, &body, token).await;
        assert_error(&res, StatusCode::FORBIDDEN, "csrf_failed");
        let res = send_json(
            &app,
            &staff,
            Method::POST,
            "/api/v1/children",
            &breathing_child(),
            token,
        )
        .await;
        assert_error(&res, StatusCode::FORBIDDEN, "csrf_failed");
    }
    // A cross-site browser request is refused even with the token.
    let res = app
        .request(
            request_as(&staff, Method::PATCH, &uri)
                .header("content-type", "application/json")
                .header("x-csrf-token", &staff.csrf)
                .header("sec-fetch-site", "cross-site")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await;
    assert_error(&res, StatusCode::FORBIDDEN, "csrf_failed");
    assert_eq!(
        app.count("SELECT count(*) FROM child_history", &[]).await,
        0
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM children WHERE id = $1 AND version = 1",
            &[&id]
        )
        .await,
        1
    );
    // With the header it goes through.
    let res = patch_child(&app, &staff, &id, &body).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

#[tokio::test]
async fn transitions_list_every_step_and_are_an_audited_read() {
    let (app, world, staff) = signed_in(Role::MunicipalStaff).await;
    let id = world.children.itabashi_family.clone();
    let actor = world.person(Role::MunicipalStaff).id.clone();
    let res = app
        .get_as(&staff, &format!("/api/v1/children/{id}/transitions"))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let json = res.json();
    assert_eq!(json["child_id"], id.as_str());
    // Born 2022-06-14; today 2026-11-21.
    assert_eq!(json["birth_date"], "2022-06-14");
    assert_eq!(json["today"], "2026-11-21");
    assert_eq!(json["horizon_months"], 18);
    let steps = json["transitions"].as_array().unwrap();
    let find = |kind: &str| {
        steps
            .iter()
            .find(|t| t["kind"] == kind)
            .unwrap_or_else(|| panic!("{kind} in {json}"))
    };
    let school = find("school_entry");
    assert_eq!(school["date"], "2029-04-01");
    assert_eq!(school["prepare_from"], "2028-04-01");
    assert_eq!(school["label"], "就学（小学校入学）");
    assert!(school["date_wareki"].as_str().unwrap().contains("令和11年"));
    assert_eq!(school["when"], "later");
    let graduation = find("graduation");
    assert_eq!(graduation["date"], "2041-03-31");
    for t in steps {
        assert!(
            ["past", "upcoming", "later"].contains(&t["when"].as_str().unwrap()),
            "{t}"
        );
    }
    let dates: Vec<&str> = steps.iter().map(|t| t["date"].as_str().unwrap()).collect();
    let mut sorted = dates.clone();
    sorted.sort();
    assert_eq!(dates, sorted);
    assert_eq!(reads(&app, &actor, &id, "api;transitions").await, 1);
}

#[tokio::test]
async fn the_access_log_is_for_the_family_and_the_owner_only() {
    let (app, world) = world().await;
    let family = world.children.itabashi_family.clone();
    let shared = world.children.itabashi_shared.clone();
    let guardian = world.login_as(&app, Role::Guardian).await;
    let nursery = world.login_as(&app, Role::FacilityStaff).await;
    let owner = world.login_as(&app, Role::MunicipalStaff).await;
    let nursery_id = world.person(Role::FacilityStaff).id.clone();

    // The nursery may read the record shared with it, but not who else opened it.
    let res = app
        .get_as(&nursery, &format!("/api/v1/children/{shared}"))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let before = denied(&app, &nursery_id, &shared).await;
    let res = app
        .get_as(&nursery, &format!("/api/v1/children/{shared}/access-log"))
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    assert!(!res.body.contains(ITABASHI_SHARED_NAME));
    assert_eq!(denied(&app, &nursery_id, &shared).await, before + 1);

    // The owner sees the nursery's read, with its name and organisation.
    let res = app
        .get_as(&owner, &format!("/api/v1/children/{shared}/access-log"))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let log = res.json();
    assert_eq!(log["child_id"], shared.as_str());
    let entries = log["entries"].as_array().unwrap();
    assert!(
        entries.iter().any(|e| e["action"] == "read"
            && e["actor_name"] == "日向 保"
            && e["organisation_name"] == "ひだまり保育園（架空）"),
        "{log}"
    );
    assert!(entries.iter().all(|e| e["at"].is_string()));
    assert_eq!(log["break_glass"], json!([]));

    // The guardian sees their child's log, including this very look (an audited read).
    let guardian_id = world.person(Role::Guardian).id.clone();
    let res = app
        .get_as(&guardian, &format!("/api/v1/children/{family}/access-log"))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(
        reads(&app, &guardian_id, &family, "api;access_log").await,
        1
    );
    assert!(
        res.json()["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["actor_name"] == "山田 さくら" && e["action"] == "read")
    );
    // …but not another family's.
    let res = app
        .get_as(&guardian, &format!("/api/v1/children/{shared}/access-log"))
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn api_docs_describe_every_api_v1_route_and_error_code() {
    let app = crate::support::app().await;
    let spec = app.get("/api/openapi.json").await.json();
    let mut missing = Vec::new();
    for route in tsunagu::router::routes().into_parts().1 {
        if !route.path.starts_with("/api/v1/") {
            continue;
        }
        let method = route.method.as_str().to_ascii_lowercase();
        let operation = &spec["paths"][route.path][&method];
        if !operation.is_object() {
            missing.push(format!("{} {}", route.method, route.path));
            continue;
        }
        // A success is described, and protected routes say how they refuse.
        let answers = &operation["responses"];
        let mut expected = vec![];
        if route.access != Access::Public {
            expected.push("401");
        }
        if matches!(route.access, Access::Permission(_)) {
            expected.push("403");
        }
        if !["200", "201", "204"]
            .iter()
            .any(|s| answers[*s].is_object())
        {
            missing.push(format!(
                "{} {} (no success answer)",
                route.method, route.path
            ));
        }
        for status in expected {
            if !answers[status].is_object() {
                missing.push(format!("{} {} {status}", route.method, route.path));
            }
        }
    }
    assert!(missing.is_empty(), "not in openapi.json: {missing:?}");
    let codes: Vec<&str> =
        spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
    for code in [
        "not_found",
        "bad_request",
        "forbidden",
        "csrf_failed",
        "invalid_child",
        "version_required",
        "version_conflict",
    ] {
        assert!(codes.contains(&code), "{code}");
    }
    // Every reference points at something that exists.
    let text = spec.to_string();
    for part in text.split("\"$ref\":\"#/").skip(1) {
        let target = part.split('"').next().unwrap();
        let mut node = &spec;
        for segment in target.split('/') {
            node = &node[segment];
        }
        assert!(!node.is_null(), "dangling $ref #/{target}");
    }
}

#[tokio::test]
async fn break_glass_opens_reading_through_the_api_but_not_writing_nor_the_log() {
    let (app, world, staff) = signed_in(Role::MunicipalStaff).await;
    let actor = world.person(Role::MunicipalStaff).id.clone();
    let nerima = world.children.nerima.clone();
    let res = app
        .post_form_as(
            &staff,
            "/break-glass",
            &[
                ("resource_type", "child"),
                ("resource_id", &nerima),
                (
                    "reason",
                    "災害時の安否確認のため、至急、医療的ケアの内容を確認する必要があります",
                ),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);

    let res = app
        .get_as(&staff, &format!("/api/v1/children/{nerima}"))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.json()["name"], NERIMA_NAME);
    assert_eq!(res.json()["via_break_glass"], true);
    assert_eq!(reads(&app, &actor, &nerima, "break_glass;api").await, 1);
    let res = app
        .get_as(&staff, &format!("/api/v1/children/{nerima}/transitions"))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(
        reads(&app, &actor, &nerima, "break_glass;api;transitions").await,
        1
    );
    // The grant opens reading only; the access log stays the family's and the owner's.
    let res = patch_child(
        &app,
        &staff,
        &nerima,
        &json!({"version": 1, "address": "練馬区豊玉北6-12-1"}),
    )
    .await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    let res = app
        .get_as(&staff, &format!("/api/v1/children/{nerima}/access-log"))
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        app.count(
            "SELECT count(*) FROM children WHERE id = $1 AND version = 1",
            &[&nerima]
        )
        .await,
        1
    );
    // The family sees the break-glass, with its reason, in their log.
    let family = world.sign_in(&app, &world.nerima_guardian).await;
    let res = app
        .get_as(&family, &format!("/api/v1/children/{nerima}/access-log"))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let log = res.json();
    assert_eq!(log["break_glass"].as_array().unwrap().len(), 1);
    assert_eq!(log["break_glass"][0]["account_name"], "板橋 福子");
    assert!(
        log["break_glass"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("安否確認")
    );
    assert!(
        log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "read" && e["actor_name"] == "板橋 福子")
    );
}
