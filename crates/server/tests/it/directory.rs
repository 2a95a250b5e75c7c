//! The resource directory: a facility keeps its own entry and nobody else's, every bad
//! value is refused beside its field and changes nothing, searches say why each result is
//! shown, the public sees only public fields, entries go stale, and a child's record lists
//! the services that fit with the reasons the others do not.

use axum::http::StatusCode;
use chrono::Duration;
use tsunagu_core::access::Role;

use crate::support::{Session, TestApp, World, directory_service, facility, world};

const SERVICES: &str = "SELECT count(*) FROM services";
const VACANCIES: &str = "SELECT count(*) FROM service_vacancies";

/// A complete, valid form of a nursery of the world's nursery organisation.
fn nursery_form(world: &World) -> Vec<(&'static str, String)> {
    vec![
        (
            "organisation_id",
            world.organisations["nursery"].to_string(),
        ),
        ("kind", "nursery".into()),
        ("name", "ひだまり保育園 本園".into()),
        ("kana", "ひだまりほいくえん ほんえん".into()),
        (
            "description",
            "看護師が常勤しています。\n見学できます。".into(),
        ),
        ("municipality_code", "131199".into()),
        ("address", "東京都板橋区板橋1-1".into()),
        ("phone", "０３－１２３４－５６７８".into()),
        ("age_from", "1".into()),
        ("age_to", "5".into()),
        ("capacity", "90".into()),
        ("care_children_now", "2".into()),
        ("accept_suction", "1".into()),
        ("cond_suction", "看護師のいる時間".into()),
        ("accept_ventilator", "1".into()),
        ("dev_ventilator", "with_parent".into()),
        ("wd_0", "1".into()),
        ("wd_1", "1".into()),
        ("opens_at", "7:30".into()),
        ("closes_at", "18:30".into()),
        ("closed_on_holidays", "1".into()),
        ("private_phone", "1".into()),
    ]
}

async fn post(
    app: &TestApp,
    session: &Session,
    uri: &str,
    fields: &[(&'static str, String)],
) -> crate::support::TestResponse {
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.post_form_as(session, uri, &borrowed).await
}

fn with(
    mut form: Vec<(&'static str, String)>,
    key: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    form.retain(|(k, _)| *k != key);
    form.push((key, value.to_string()));
    form
}

async fn version_of(app: &TestApp, id: &str) -> String {
    app.count("SELECT version FROM services WHERE id = $1", &[id])
        .await
        .to_string()
}

#[tokio::test]
async fn a_facility_keeps_its_own_entry_and_every_bad_value_changes_nothing() {
    let (app, world) = world().await;
    let facility_staff = world.login_as(&app, Role::FacilityStaff).await;
    let form = nursery_form(&world);

    // Each bad value: a Japanese message beside its field, nothing written.
    for (key, value, says) in [
        ("kind", "daycare", "種別を一覧から選んでください"),
        ("capacity", "-1", "定員に負の数は入力できません"),
        ("care_children_now", "120", "定員（90人）を超えています"),
        ("areas", "131189", "対象地域"),
        (
            "accept_levitation",
            "1",
            "医療的ケアの項目を一覧から選んでください",
        ),
        (
            "dev_ventilator",
            "sometimes",
            "医療機器の扱いを一覧から選んでください",
        ),
        ("closes_at", "6:00", "終了時刻は開始時刻より後に"),
        ("name", "", "名称を入力してください"),
        ("name", "ひだまり\u{202e}保育園", "名称"),
        ("phone", "電話して", "電話番号は"),
        ("latitude", "35.7", "緯度と経度は両方"),
        ("municipality_code", "999999", "団体コード"),
    ] {
        let res = post(
            &app,
            &facility_staff,
            "/directory/services",
            &with(form.clone(), key, value),
        )
        .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{key}={value}");
        assert!(res.body.contains(says), "{key}={value}: {}", res.body);
        assert!(res.body.contains("保存していません"), "{key}");
    }
    // A wrong check digit is named, never corrected to another town's code.
    let res = post(
        &app,
        &facility_staff,
        "/directory/services",
        &with(form.clone(), "areas", "131189"),
    )
    .await;
    assert!(!res.body.contains("正しくは"), "{}", res.body);
    assert_eq!(app.count(SERVICES, &[]).await, 0);

    // Saved: 保存しました, the full-width phone read as digits, audited as a creation.
    let res = post(&app, &facility_staff, "/directory/services", &form).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let location = res.header("location").to_string();
    assert!(location.ends_with("?saved=1"), "{location}");
    let id = location
        .trim_start_matches("/directory/services/")
        .trim_end_matches("?saved=1")
        .to_string();
    let page = app.get_as(&facility_staff, &location).await;
    assert!(page.body.contains("保存しました"), "{}", page.body);
    assert!(page.body.contains("03-1234-5678"));
    assert!(page.body.contains("吸引（看護師のいる時間）"));
    assert!(
        page.body
            .contains("人工呼吸器: 保護者の付き添いがあれば対応")
    );
    assert!(
        page.body.contains("月・火 07:30〜18:30（祝日は休み）"),
        "{}",
        page.body
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE action = 'create' AND resource_type = 'service' AND resource_id = $1",
            &[&id]
        )
        .await,
        1
    );

    // Vacancies: a future date, more than the places, a negative number — refused, none kept.
    let vacancies = format!("/directory/services/{id}/vacancies");
    let version = version_of(&app, &id).await;
    for (fields, says) in [
        (vec![("as_of", "2026-12-25"), ("vac_2", "1")], "未来の日付"),
        (
            vec![("as_of", "2026-11-20"), ("vac_2", "100")],
            "2歳児クラスの空き（100人）が定員（90人）を超えています",
        ),
        (vec![("as_of", "2026-11-20"), ("vac_1", "-1")], "負の数"),
        (
            vec![("as_of", "11月20日ごろ"), ("vac_1", "1")],
            "いつ時点の空きか",
        ),
        (vec![("as_of", "2026-11-20")], "1つ以上入力してください"),
    ] {
        let mut fields: Vec<(&str, &str)> = fields;
        fields.push(("version", &version));
        let res = app.post_form_as(&facility_staff, &vacancies, &fields).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{says}");
        assert!(res.body.contains(says), "{says}: {}", res.body);
    }
    assert_eq!(app.count(VACANCIES, &[]).await, 0);
    let res = app
        .post_form_as(
            &facility_staff,
            &vacancies,
            &[
                ("as_of", "令和8年11月20日"),
                ("vac_1", "0"),
                ("vac_2", "1"),
                ("version", &version),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(app.count(VACANCIES, &[]).await, 2);
    let page = app
        .get_as(&facility_staff, &format!("/directory/services/{id}"))
        .await;
    assert!(
        page.body
            .contains("2歳児クラス 空き1人（令和8年11月20日（2026年）時点）"),
        "{}",
        page.body
    );
    // The same form sent again (an older version) changes nothing.
    let again = app
        .post_form_as(
            &facility_staff,
            &vacancies,
            &[
                ("as_of", "2026-11-20"),
                ("vac_2", "5"),
                ("version", &version),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("ほかの人がこの情報を保存しました"));
    assert_eq!(app.count(VACANCIES, &[]).await, 2);

    // Another facility's entry: answered as missing and audited, nothing written, through
    // every way in.
    let other_org = facility(&app, "ねりま療育園", "131202").await;
    let other = directory_service(&app, &other_org, "131202", "ねりま療育園")
        .await
        .to_string();
    let other_version = version_of(&app, &other).await;
    for uri in [
        format!("/directory/services/{other}/vacancies"),
        format!("/directory/services/{other}/confirm"),
        format!("/directory/services/{other}"),
    ] {
        let res = app
            .post_form_as(
                &facility_staff,
                &uri,
                &[
                    ("as_of", "2026-11-20"),
                    ("vac_2", "3"),
                    ("version", &other_version),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{uri}");
    }
    let edit = app
        .get_as(
            &facility_staff,
            &format!("/directory/services/{other}/edit"),
        )
        .await;
    assert_eq!(edit.status, StatusCode::NOT_FOUND);
    assert_eq!(version_of(&app, &other).await, other_version);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM service_vacancies WHERE service_id = $1",
            &[&other]
        )
        .await,
        0
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE action = 'denied' AND resource_type = 'service' AND resource_id = $1",
            &[&other]
        )
        .await,
        4
    );
    // A forged id, not even a UUID: the same answer.
    let res = app
        .get_as(&facility_staff, "/directory/services/not-a-uuid/edit")
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);

    // The town keeps the entries located in it: 板橋区's staff may edit this one, not
    // 練馬区's.
    let town = world.login_as(&app, Role::MunicipalStaff).await;
    assert_eq!(
        app.get_as(&town, &format!("/directory/services/{id}/edit"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get_as(&town, &format!("/directory/services/{other}/edit"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // The facility's home lists its entry.
    let home = app.get_as(&facility_staff, "/home").await;
    assert!(home.body.contains("事業所の資源情報"), "{}", home.body);
    assert!(home.body.contains("1件"));
}

#[tokio::test]
async fn two_saves_of_one_entry_at_once_keep_one_and_tell_the_other() {
    let (app, world) = world().await;
    let facility_staff = world.login_as(&app, Role::FacilityStaff).await;
    let town = world.login_as(&app, Role::MunicipalStaff).await;
    let id = directory_service(
        &app,
        &world.organisations["nursery"],
        "131199",
        "ひだまり保育園",
    )
    .await
    .to_string();
    let version = version_of(&app, &id).await;
    let uri = format!("/directory/services/{id}");
    let mine = with(
        with(nursery_form(&world), "version", &version),
        "capacity",
        "80",
    );
    let theirs = with(
        with(nursery_form(&world), "version", &version),
        "capacity",
        "70",
    );
    let (a, b) = tokio::join!(
        post(&app, &facility_staff, &uri, &mine),
        post(&app, &town, &uri, &theirs)
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::SEE_OTHER, StatusCode::CONFLICT],
        "{} / {}",
        a.body,
        b.body
    );
    let capacity = app
        .count("SELECT capacity FROM services WHERE id = $1", &[&id])
        .await;
    assert!(capacity == 80 || capacity == 70);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE action = 'update' AND resource_id = $1",
            &[&id]
        )
        .await,
        1
    );
}

#[tokio::test]
async fn searches_say_why_and_the_public_sees_only_public_fields() {
    let (app, world) = world().await;
    let facility_staff = world.login_as(&app, Role::FacilityStaff).await;
    let town = world.login_as(&app, Role::MunicipalStaff).await;
    let (ours, _theirs) = crate::support::two_nurseries(&app, &world).await;
    let version = version_of(&app, &ours).await;
    let res = app
        .post_form_as(
            &facility_staff,
            &format!("/directory/services/{ours}/vacancies"),
            &[
                ("as_of", "2026-11-20"),
                ("vac_2", "1"),
                ("vac_3", "0"),
                ("version", &version),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);

    let found = app
        .get_as(&town, "/directory?care=suction&care=tube_feeding")
        .await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(
        found.body.contains("ひだまり保育園") && !found.body.contains("ねりま療育園"),
        "{}",
        found.body
    );
    assert!(
        found.body.contains("吸引・経管栄養に対応"),
        "{}",
        found.body
    );
    let both = app.get_as(&town, "/directory?care=tube_feeding").await;
    assert!(both.body.contains("ひだまり保育園") && both.body.contains("ねりま療育園"));
    let near = app.get_as(&town, "/directory?municipality=131202").await;
    assert!(near.body.contains("練馬区にあります") && !near.body.contains("ひだまり保育園"));
    let free = app.get_as(&town, "/directory?vacancies=1&age=2").await;
    assert!(free.body.contains("2歳児クラス 空き1人"), "{}", free.body);
    let none = app.get_as(&town, "/directory?vacancies=1&age=3").await;
    assert!(none.body.contains("0件"), "{}", none.body);
    assert!(
        none.body
            .contains("条件に合う施設・サービスは見つかりませんでした")
    );
    let text = app
        .get_as(
            &town,
            &format!("/directory?q={}", crate::support::encode("ヒダマリ")),
        )
        .await;
    assert!(
        text.body.contains("ひだまり保育園"),
        "kana-insensitive: {}",
        text.body
    );
    // By area (圏域): 区部 holds both wards; 多摩 neither; an unknown area is refused.
    let kubu = app.get_as(&town, "/directory?area=13-kubu").await;
    assert!(
        kubu.body.contains("ひだまり保育園") && kubu.body.contains("ねりま療育園"),
        "{}",
        kubu.body
    );
    assert!(kubu.body.contains("区部（圏域）の板橋区"), "{}", kubu.body);
    let tama = app.get_as(&town, "/directory?area=13-tama").await;
    assert!(tama.body.contains("0件"), "{}", tama.body);
    let nowhere = app.get_as(&town, "/directory?area=99-nowhere").await;
    assert_eq!(nowhere.status, StatusCode::BAD_REQUEST);
    assert!(nowhere.body.contains("圏域を一覧から選んでください"));
    let bad = app
        .get_as(&town, "/directory?kind=daycare&care=levitation")
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("種別を一覧から選んでください"));
    assert!(
        bad.body
            .contains("医療的ケアの項目を一覧から選んでください")
    );

    // Staff see the phone and the nurse's hours; the public page keeps them (staff-only).
    let staff_view = app
        .get_as(&town, &format!("/directory/services/{ours}"))
        .await;
    assert!(
        staff_view.body.contains("03-1234-5678") && staff_view.body.contains("平日 9:00〜17:00")
    );
    let public_search = app.get("/public/directory?care=suction").await;
    assert_eq!(public_search.status, StatusCode::OK);
    assert!(public_search.body.contains("ひだまり保育園"));
    assert!(!public_search.body.contains("03-1234-5678"));
    let public_view = app.get(&format!("/public/directory/{ours}")).await;
    assert_eq!(public_view.status, StatusCode::OK);
    assert!(public_view.body.contains("吸引"));
    assert!(
        !public_view.body.contains("03-1234-5678")
            && !public_view.body.contains("平日 9:00〜17:00")
    );
    assert_eq!(
        app.get("/public/directory/not-a-uuid").await.status,
        StatusCode::NOT_FOUND
    );

    // 91 days later, not confirmed: shown as possibly out of date, and the facility is told.
    world.clock.advance(Duration::days(91));
    let town = world.login_as(&app, Role::MunicipalStaff).await;
    let stale = app.get_as(&town, "/directory?care=suction").await;
    assert!(
        stale.body.contains("情報が古い可能性があります"),
        "{}",
        stale.body
    );
    let facility_staff = world.login_as(&app, Role::FacilityStaff).await;
    let home = app.get_as(&facility_staff, "/home").await;
    assert!(
        home.body.contains("うち1件は情報が古い可能性があります"),
        "{}",
        home.body
    );
    let version = version_of(&app, &ours).await;
    let res = app
        .post_form_as(
            &facility_staff,
            &format!("/directory/services/{ours}/confirm"),
            &[("version", &version)],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let fresh = app.get_as(&town, "/directory?care=suction").await;
    assert!(!fresh.body.contains("情報が古い可能性があります"));
}

#[tokio::test]
async fn a_childs_record_lists_what_fits_and_why_the_rest_does_not() {
    let (app, world) = world().await;
    let town = world.login_as(&app, Role::MunicipalStaff).await;
    // 2023-05-05: 2歳児クラス in 令和8年度; 吸引 and 経管栄養.
    let res = app
        .post_form_as(
            &town,
            "/children",
            &[
                ("name", "合致 さき"),
                ("kana", "がっち さき"),
                ("birth_date", "2023-05-05"),
                ("sex", "female"),
                ("municipality_code", "131199"),
                ("care_suction", "1"),
                ("watch_suction", "high"),
                ("care_tube_feeding", "1"),
                ("watch_tube_feeding", "high"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let child = res
        .header("location")
        .trim_start_matches("/children/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let fits = directory_service(
        &app,
        &world.organisations["nursery"],
        "131199",
        "ひだまり保育園",
    )
    .await
    .to_string();
    let full = directory_service(
        &app,
        &world.organisations["consultation"],
        "131199",
        "いっぱい保育園",
    )
    .await
    .to_string();
    let other_org = facility(&app, "ねりま療育園", "131202").await;
    let away = directory_service(&app, &other_org, "131202", "ねりま療育園")
        .await
        .to_string();
    let facility_staff = world.login_as(&app, Role::FacilityStaff).await;
    let version = version_of(&app, &fits).await;
    let res = app
        .post_form_as(
            &facility_staff,
            &format!("/directory/services/{fits}/vacancies"),
            &[
                ("as_of", "2026-11-20"),
                ("vac_2", "1"),
                ("vac_3", "1"),
                ("version", &version),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    sqlx::query(
        "INSERT INTO service_vacancies (id, service_id, class_age, vacancies, as_of, recorded_at) \
         VALUES ('v-full', $1, 2, 0, '2026-11-01', 1)",
    )
    .bind(&full)
    .execute(app.db.pool())
    .await
    .unwrap();
    crate::support::directory_changed(&app).await;

    let page = app
        .get_as(&town, &format!("/children/{child}/services"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let (fitting, rest) = page.body.split_once("misses-title").expect("two parts");
    assert!(
        fitting.contains("ひだまり保育園") && fitting.contains("2歳児クラス 空き1人"),
        "{fitting}"
    );
    assert!(!fitting.contains("いっぱい保育園") && !fitting.contains("ねりま療育園"));
    assert!(
        rest.contains("空きがありません（令和8年11月1日（2026年）時点）"),
        "{rest}"
    );
    assert!(
        rest.contains("お住まいの市区町村は対象地域に入っていません"),
        "{rest}"
    );
    let _ = away;
    // Reading what fits a child is reading the child.
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE action = 'read' AND child_id = $1 AND detail = 'matching'",
            &[&child]
        )
        .await,
        1
    );
    // The transition board counts, for the child's next step (nursery entry next April, in
    // the 3歳児クラス), the places that fit: ひだまり's 3歳児 place.
    let board = app.get_as(&town, "/children/transitions").await;
    let row = board
        .body
        .split("合致 さき")
        .nth(1)
        .expect("the child on the board");
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("合う受け入れ先 1件"), "{row}");
    sqlx::query("UPDATE service_vacancies SET vacancies = 0 WHERE class_age = 3")
        .execute(app.db.pool())
        .await
        .unwrap();
    crate::support::directory_changed(&app).await;
    let board = app.get_as(&town, "/children/transitions").await;
    let row = board
        .body
        .split("合致 さき")
        .nth(1)
        .expect("the child on the board");
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("空きのある受け入れ先がありません"), "{row}");
    // The family reads it too, with the public fields only.
    let record = app.get_as(&town, &format!("/children/{child}")).await;
    assert!(record.body.contains(&format!("/children/{child}/services")));
}
