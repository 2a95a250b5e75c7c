//! Survey rounds (資源調査): a town asks its facilities, each answers for its own entries
//! only (the town for those without accounts), progress and reminders follow, the results
//! are a spreadsheet, and an answer after the round closed or with a bad figure changes
//! nothing.

use axum::http::StatusCode;
use chrono::Duration;
use tsunagu_core::access::Role;
use tsunagu_core::clock::Clock;

use crate::support::{TestApp, directory_service, facility, get_bytes, two_nurseries, world};

const ROUNDS: &str = "SELECT count(*) FROM survey_rounds";
const ANSWERED: &str = "SELECT count(*) FROM survey_answers WHERE answered_at IS NOT NULL";

async fn survey_notices(app: &TestApp, account: &str) -> i64 {
    app.count(
        "SELECT count(*) FROM notices WHERE account_id = $1 AND kind = 'survey'",
        &[account],
    )
    .await
}

fn round_of(location: &str) -> String {
    location
        .trim_start_matches("/directory/surveys/")
        .split('?')
        .next()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn a_town_asks_its_facilities_each_answers_its_own_and_the_results_follow() {
    let (app, world) = world().await;
    let (ours, theirs) = two_nurseries(&app, &world).await;
    // A nursery of 板橋区 with no accounts of its own: the town answers for it.
    let quiet_org = facility(&app, "しずか保育園", "131199").await;
    let quiet = directory_service(&app, &quiet_org, "131199", "しずか保育園").await;
    crate::support::directory_changed(&app).await;
    let town = world.login_as(&app, Role::MunicipalStaff).await;
    let town_id = world.person(Role::MunicipalStaff).id.to_string();
    let nursery_id = world.person(Role::FacilityStaff).id.to_string();
    let today = world.clock.now().date_naive();
    let due = (today + Duration::days(14)).to_string();

    // Bad input opens nothing: no kind, a past day, another town.
    for (fields, message) in [
        (
            vec![
                ("title", "調査"),
                ("place", "131199"),
                ("closes_on", due.as_str()),
            ],
            "調査する種別を1つ以上選んでください",
        ),
        (
            vec![
                ("title", "調査"),
                ("place", "131199"),
                ("kind_nursery", "1"),
                ("closes_on", "2020-01-01"),
            ],
            "締切日に過去の日付は入力できません",
        ),
        (
            vec![
                ("title", "調査"),
                ("place", "131202"),
                ("kind_nursery", "1"),
                ("closes_on", due.as_str()),
            ],
            "調査できる範囲の市区町村を選んでください",
        ),
    ] {
        let refused = app.post_form_as(&town, "/directory/surveys", &fields).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{message}");
        assert!(refused.body.contains(message), "{message}");
    }
    assert_eq!(app.count(ROUNDS, &[]).await, 0);

    // The town's round asks its two nurseries, not 練馬区's.
    let opened = app
        .post_form_as(
            &town,
            "/directory/surveys",
            &[
                ("title", "令和8年度 受け入れ状況調査"),
                ("place", "131199"),
                ("kind_nursery", "1"),
                ("closes_on", due.as_str()),
            ],
        )
        .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    let round = round_of(opened.header("location"));
    assert_eq!(
        app.count(
            "SELECT count(*) FROM survey_answers WHERE round_id = $1",
            &[&round]
        )
        .await,
        2
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM survey_answers WHERE service_id = $1",
            &[&theirs]
        )
        .await,
        0
    );
    // The nursery's staff are told; the town for the nursery without accounts.
    assert_eq!(survey_notices(&app, &nursery_id).await, 1);
    assert_eq!(survey_notices(&app, &town_id).await, 1);

    // The facility finds the question on its home page and its entries' page.
    let facility_staff = world.login_as(&app, Role::FacilityStaff).await;
    let home = app.get_as(&facility_staff, "/home").await;
    assert!(
        home.body.contains("資源調査への回答</a>：<strong>1件"),
        "{}",
        home.body
    );
    let mine = app.get_as(&facility_staff, "/directory/mine").await;
    let answer_uri = format!("/directory/surveys/{round}/services/{ours}");
    assert!(mine.body.contains(&answer_uri));
    assert!(!mine.body.contains(&quiet.to_string()));
    // Prefilled from the entry as it stands.
    let form = app.get_as(&facility_staff, &answer_uri).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("name=\"capacity\" type=\"number\" min=\"0\" max=\"10000\" inputmode=\"numeric\" value=\"90\""));
    let version = app
        .count("SELECT version FROM services WHERE id = $1", &[&ours])
        .await
        .to_string();

    // More places free than the new capacity: refused beside the field, nothing written.
    let refused = app
        .post_form_as(
            &facility_staff,
            &answer_uri,
            &[
                ("version", version.as_str()),
                ("capacity", "60"),
                ("accept_suction", "1"),
                ("as_of", &today.to_string()),
                ("vac_1", "61"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body.contains("定員（60人）を超えています"),
        "{}",
        refused.body
    );
    assert_eq!(app.count(ANSWERED, &[]).await, 0);
    assert_eq!(
        app.count("SELECT capacity FROM services WHERE id = $1", &[&ours])
            .await,
        90
    );

    // A good answer: the entry, its vacancies and the answer in one step.
    let answered = app
        .post_form_as(
            &facility_staff,
            &answer_uri,
            &[
                ("version", version.as_str()),
                ("capacity", "60"),
                ("care_children_now", "3"),
                ("accept_suction", "1"),
                ("accept_ventilator", "1"),
                ("dev_ventilator", "with_parent"),
                ("as_of", &today.to_string()),
                ("vac_1", "0"),
                ("vac_2", "1"),
            ],
        )
        .await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.body);
    assert_eq!(app.count(ANSWERED, &[]).await, 1);
    assert_eq!(
        app.count("SELECT capacity FROM services WHERE id = $1", &[&ours])
            .await,
        60
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM service_vacancies WHERE service_id = $1",
            &[&ours]
        )
        .await,
        2
    );
    let shown = app
        .get_as(
            &facility_staff,
            &format!("/directory/services/{ours}?answered=1"),
        )
        .await;
    assert!(shown.body.contains("資源調査に回答しました"));
    // The facility cannot answer for the nursery the town keeps: 404, nothing written.
    let not_theirs = app
        .post_form_as(
            &facility_staff,
            &format!("/directory/surveys/{round}/services/{quiet}"),
            &[("version", "1"), ("capacity", "1")],
        )
        .await;
    assert_eq!(not_theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count(ANSWERED, &[]).await, 1);

    // The town follows progress, reminds the one not answered, takes the results.
    let progress = app
        .get_as(&town, &format!("/directory/surveys/{round}"))
        .await;
    assert_eq!(progress.status, StatusCode::OK);
    assert!(
        progress.body.contains("<strong>1 / 2件</strong>"),
        "{}",
        progress.body
    );
    let reminded = app
        .post_form_as(&town, &format!("/directory/surveys/{round}/remind"), &[])
        .await;
    assert_eq!(reminded.status, StatusCode::SEE_OTHER);
    assert!(reminded.header("location").ends_with("reminded=1"));
    assert_eq!(survey_notices(&app, &town_id).await, 2);
    assert_eq!(survey_notices(&app, &nursery_id).await, 1);
    let (status, csv) = get_bytes(
        &app,
        Some(&town),
        &format!("/directory/surveys/{round}/results.csv"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(csv).expect("UTF-8");
    let line = text
        .lines()
        .find(|l| l.contains("ひだまり保育園"))
        .expect("the nursery's line");
    assert!(
        line.contains("回答済み") && line.contains(",60,3,"),
        "{line}"
    );
    assert!(line.contains("1歳児クラス0人、2歳児クラス1人"), "{line}");
    assert!(text.contains("未回答"));
    let (status, xlsx) = get_bytes(
        &app,
        Some(&town),
        &format!("/directory/surveys/{round}/results.xlsx"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(xlsx.starts_with(b"PK"));
    // Another town's staff do not see the round.
    let nerima = world.sign_in(&app, &world.nerima_staff).await;
    assert_eq!(
        app.get_as(&nerima, &format!("/directory/surveys/{round}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Closed: an answer is refused and changes nothing.
    let closed = app
        .post_form_as(&town, &format!("/directory/surveys/{round}/close"), &[])
        .await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER);
    let version = app
        .count(
            "SELECT version FROM services WHERE id = $1",
            &[quiet.as_str()],
        )
        .await
        .to_string();
    let late = app
        .post_form_as(
            &town,
            &format!("/directory/surveys/{round}/services/{quiet}"),
            &[
                ("version", version.as_str()),
                ("capacity", "12"),
                ("as_of", &today.to_string()),
                ("vac_1", "1"),
            ],
        )
        .await;
    assert_eq!(late.status, StatusCode::BAD_REQUEST);
    assert!(late.body.contains("締め切られました"), "{}", late.body);
    assert_eq!(app.count(ANSWERED, &[]).await, 1);
    assert_eq!(
        app.count(
            "SELECT capacity FROM services WHERE id = $1",
            &[quiet.as_str()]
        )
        .await,
        90
    );
}

#[tokio::test]
async fn a_prefecture_round_reaches_every_town_and_ends_on_its_last_day() {
    let (app, world) = world().await;
    let (ours, theirs) = two_nurseries(&app, &world).await;
    let prefecture = world.login_as(&app, Role::PrefectureAdmin).await;
    let today = world.clock.now().date_naive();
    let opened = app
        .post_form_as(
            &prefecture,
            "/directory/surveys",
            &[
                ("title", "都内 医療的ケア児受け入れ調査"),
                ("place", "13"),
                ("kind_nursery", "1"),
                ("closes_on", &(today + Duration::days(3)).to_string()),
            ],
        )
        .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    let round = round_of(opened.header("location"));
    // Both wards' nurseries are asked; 練馬区's has no accounts, so its town is told.
    for service in [&ours, &theirs] {
        assert_eq!(
            app.count(
                "SELECT count(*) FROM survey_answers WHERE round_id = $1 AND service_id = $2",
                &[&round, service]
            )
            .await,
            1
        );
    }
    assert_eq!(
        survey_notices(&app, world.nerima_staff.id.as_str()).await,
        1
    );
    // A town's staff follow their own town's rounds only: the prefecture's is not theirs.
    let town = world.login_as(&app, Role::MunicipalStaff).await;
    assert_eq!(
        app.get_as(&town, &format!("/directory/surveys/{round}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // After the last day an answer is refused.
    world.clock.advance(Duration::days(4));
    let facility_staff = world.login_as(&app, Role::FacilityStaff).await;
    let uri = format!("/directory/surveys/{round}/services/{ours}");
    let form = app.get_as(&facility_staff, &uri).await;
    assert!(form.body.contains("締め切られました"));
    assert!(!form.body.contains("id=\"answer-form\""));
    let version = app
        .count("SELECT version FROM services WHERE id = $1", &[&ours])
        .await
        .to_string();
    let late = app
        .post_form_as(
            &facility_staff,
            &uri,
            &[("version", version.as_str()), ("capacity", "10")],
        )
        .await;
    assert_eq!(late.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.count(ANSWERED, &[]).await, 0);
    // The home page no longer asks for it.
    let home = app.get_as(&facility_staff, "/home").await;
    assert!(!home.body.contains("資源調査への回答</a>"));
}
