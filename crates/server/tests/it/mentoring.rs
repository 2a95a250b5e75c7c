//! The parent-mentor programme: a wish outside the programme's rules is refused with the
//! rule in Japanese and nothing is stored; a form sent twice is one application; a family
//! holds one application at a time; the office sees mentors ranked with reasons, confirms
//! one (never two consultations of one mentor in one slot, even 50 at once), or declines.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use tower::ServiceExt;
use tsunagu_core::access::Role;
use tsunagu_core::clock::Clock;
use tsunagu_core::mentoring::{TOKYO, earliest_day, slots_between};

use crate::support::{Session, TestApp, World, form_body, request_as, world};

const APPLICATIONS: &str = "SELECT count(*) FROM mentor_applications";
const CONSULTATIONS: &str = "SELECT count(*) FROM mentor_consultations WHERE status = 'confirmed'";

fn today(world: &World) -> NaiveDate {
    world
        .clock
        .now()
        .with_timezone(&tsunagu_core::clock::JST)
        .date_naive()
}

/// The first Monday 10:30 slot the programme takes, as a key.
fn first_monday(world: &World) -> String {
    let from = earliest_day(&TOKYO, today(world));
    slots_between(&TOKYO, from, from + Duration::days(30))
        .into_iter()
        .find(|s| s.date.weekday() == Weekday::Mon && s.index == 0)
        .map(|s| s.key(&TOKYO))
        .expect("a Monday in a month")
}

/// Registers a mentor through the office's form; returns nothing (the page lists it).
async fn mentor(app: &TestApp, office: &Session, fields: &[(&str, &str)]) {
    let mut all = vec![
        ("monthly_cap", "4"),
        ("active", "1"),
        ("public_consent", "1"),
    ];
    all.extend_from_slice(fields);
    let saved = app.post_form_as(office, "/mentoring/mentors", &all).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
}

fn application<'a>(wish: &'a str, email: &'a str, key: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", "はるとママ"),
        ("email", email),
        ("municipality_code", "131199"),
        ("raising", "1"),
        ("work", "on_leave"),
        ("topic_return_to_work", "1"),
        ("care_ventilator", "1"),
        ("preference", "same_care"),
        ("wish_1", wish),
        ("idempotency_key", key),
    ]
}

async fn public_post(app: &TestApp, fields: &[(&str, &str)]) -> crate::support::TestResponse {
    app.request(
        axum::http::Request::builder()
            .method(Method::POST)
            .uri("/public/mentoring")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form_body(fields)))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn a_family_applies_within_the_rules_and_the_office_confirms_one_mentor() {
    let (app, world) = world().await;
    let office = world.login_as(&app, Role::MentorOffice).await;
    let mentor_login = world.person(Role::Mentor).login.clone();
    // ひまわり: Monday mornings, a child on a ventilator, her own account; さくら: Mondays.
    mentor(
        &app,
        &office,
        &[
            ("nickname", "ひまわり"),
            ("account_login", mentor_login.as_str()),
            ("care_ventilator", "1"),
            ("care_suction", "1"),
            ("topic_return_to_work", "1"),
            ("work_style", "短時間正社員"),
            ("slot_0_0", "1"),
            ("slot_0_1", "1"),
        ],
    )
    .await;
    mentor(
        &app,
        &office,
        &[
            ("nickname", "さくら"),
            ("slot_0_0", "1"),
            ("topic_balance", "1"),
        ],
    )
    .await;
    // A mentor's bad input: no nickname, a cap out of range.
    let refused = app
        .post_form_as(&office, "/mentoring/mentors", &[("monthly_cap", "999")])
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("ニックネームを入力してください"));
    assert!(refused.body.contains("0から60の整数"));

    // Wishes outside the rules, from the signed-in family: each refused, nothing stored.
    let family = world.login_as(&app, Role::Guardian).await;
    let today = today(&world);
    let monday = first_monday(&world);
    let tuesday = {
        let date =
            NaiveDate::parse_from_str(&monday[..10], "%Y-%m-%d").unwrap() + Duration::days(1);
        format!("{date}T10:30")
    };
    // A consultation day inside the notice: after today, before the earliest day.
    let too_soon = {
        let earliest = earliest_day(&TOKYO, today);
        let mut d = today + Duration::days(1);
        while tsunagu_core::mentoring::is_consultation_day(&TOKYO, d).is_err() {
            d += Duration::days(1);
        }
        assert!(d < earliest, "a consultation day inside the notice");
        format!("{d}T10:30")
    };
    let far = {
        let mut d = today + Duration::days(120);
        while tsunagu_core::mentoring::is_consultation_day(&TOKYO, d).is_err() {
            d += Duration::days(1);
        }
        format!("{d}T10:30")
    };
    let off_template = format!("{}T11:00", &monday[..10]);
    let key = uuid::Uuid::new_v4().to_string();
    for (field, value, message) in [
        ("wish_1", tuesday.as_str(), "相談は月・水・木曜日だけです"),
        (
            "wish_1",
            off_template.as_str(),
            "相談の時間帯は 10:30〜11:30、13:00〜14:00、20:00〜21:00 です",
        ),
        ("wish_1", too_soon.as_str(), "3営業日前までです"),
        ("wish_1", far.as_str(), "90日先までの日時を選んでください"),
        ("wish_1", "2020-01-06T10:30", "過ぎた日時は選べません"),
        ("wish_1", "", "希望の日時を1つ以上選んでください"),
        (
            "municipality_code",
            "011002",
            "東京都にお住まいの方が対象です",
        ),
        ("email", "hello@", "name@example.jp のように"),
        ("work", "not_working", "おしゃべりcafe"),
    ] {
        let mut fields = application(&monday, "family@example.jp", &key);
        fields.retain(|(k, _)| *k != field);
        fields.push((field, value));
        let answer = app.post_form_as(&family, "/mentoring/apply", &fields).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{field}={value}: {}",
            answer.body
        );
        assert!(answer.body.contains(message), "{field}={value}: {message}");
    }
    assert_eq!(app.count(APPLICATIONS, &[]).await, 0);

    // The public form: one application, sent twice with the same key, is one.
    let key = uuid::Uuid::new_v4().to_string();
    let fields = application(&monday, "mama@example.jp", &key);
    let first = public_post(&app, &fields).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(first.body.contains("受付番号"));
    let again = public_post(&app, &fields).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(app.count(APPLICATIONS, &[]).await, 1);
    let reference = app
        .text("SELECT reference FROM mentor_applications", &[])
        .await;
    assert!(again.body.contains(&reference));
    // The same family (by e-mail) cannot hold a second one while the first waits.
    let other_key = uuid::Uuid::new_v4().to_string();
    let second = public_post(&app, &application(&monday, "MAMA@example.jp", &other_key)).await;
    assert_eq!(second.status, StatusCode::BAD_REQUEST);
    assert!(
        second
            .body
            .contains("受付中のお申し込みがすでに1件あります")
    );
    assert_eq!(app.count(APPLICATIONS, &[]).await, 1);

    // The office: ひまわり first (free in the wish, same care), with why.
    let home = app.get_as(&office, "/home").await;
    assert!(home.body.contains("調整待ち 1件"), "{}", home.body);
    let id = app.text("SELECT id FROM mentor_applications", &[]).await;
    let page = app
        .get_as(&office, &format!("/mentoring/applications/{id}"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let himawari = page.body.find("ひまわりさん</h3>").expect("ひまわり");
    let sakura = page.body.find("さくらさん</h3>").expect("さくら");
    assert!(himawari < sakura, "ranked");
    assert!(page.body.contains("お子さんのケアが同じ（人工呼吸器"));
    let himawari_id = app
        .text("SELECT id FROM mentors WHERE nickname = 'ひまわり'", &[])
        .await;
    let version = app
        .count(
            "SELECT version FROM mentor_applications WHERE id = $1",
            &[&id],
        )
        .await
        .to_string();
    let confirm = format!("/mentoring/applications/{id}/confirm");
    let bad_url = app
        .post_form_as(
            &office,
            &confirm,
            &[
                ("version", version.as_str()),
                ("mentor_id", himawari_id.as_str()),
                ("slot", monday.as_str()),
                ("meeting_url", "zoom"),
            ],
        )
        .await;
    assert_eq!(bad_url.status, StatusCode::BAD_REQUEST);
    assert!(bad_url.body.contains("https:// から入力してください"));
    assert_eq!(app.count(CONSULTATIONS, &[]).await, 0);
    let confirmed = app
        .post_form_as(
            &office,
            &confirm,
            &[
                ("version", version.as_str()),
                ("mentor_id", himawari_id.as_str()),
                ("slot", monday.as_str()),
                ("meeting_url", "https://meet.example.jp/abc"),
            ],
        )
        .await;
    assert_eq!(
        confirmed.status,
        StatusCode::SEE_OTHER,
        "{}",
        confirmed.body
    );
    assert_eq!(app.count(CONSULTATIONS, &[]).await, 1);
    // The mentor is told and sees it on their page.
    let mentor_session = world.login_as(&app, Role::Mentor).await;
    let me = app.get_as(&mentor_session, "/mentoring/me").await;
    assert!(
        me.body.contains("https://meet.example.jp/abc"),
        "{}",
        me.body
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM notices WHERE account_id = $1 AND kind = 'mentoring'",
            &[world.person(Role::Mentor).id.as_str()]
        )
        .await,
        1
    );

    // Another family wishing the same slot: ひまわり is taken there, nothing changes.
    let key = uuid::Uuid::new_v4().to_string();
    let other = public_post(&app, &application(&monday, "papa@example.jp", &key)).await;
    assert_eq!(other.status, StatusCode::OK);
    let other_id = app
        .text(
            "SELECT id FROM mentor_applications WHERE email = 'papa@example.jp'",
            &[],
        )
        .await;
    let taken = app
        .post_form_as(
            &office,
            &format!("/mentoring/applications/{other_id}/confirm"),
            &[
                ("version", "1"),
                ("mentor_id", himawari_id.as_str()),
                ("slot", monday.as_str()),
                ("meeting_url", "https://meet.example.jp/def"),
            ],
        )
        .await;
    assert_eq!(taken.status, StatusCode::BAD_REQUEST);
    assert!(
        taken.body.contains("すでに別の相談が確定しています"),
        "{}",
        taken.body
    );
    assert_eq!(app.count(CONSULTATIONS, &[]).await, 1);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM mentor_applications WHERE id = $1 AND status = 'pending'",
            &[&other_id]
        )
        .await,
        1
    );
    // Declined with a reason (none: refused).
    let decline = format!("/mentoring/applications/{other_id}/decline");
    let no_reason = app
        .post_form_as(&office, &decline, &[("version", "1"), ("reason", " ")])
        .await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST);
    let declined = app
        .post_form_as(
            &office,
            &decline,
            &[
                ("version", "1"),
                ("reason", "ご希望の日時に対応できるメンターがいませんでした"),
            ],
        )
        .await;
    assert_eq!(declined.status, StatusCode::SEE_OTHER);

    // Public submissions from one address are limited: the sixth within the hour is not
    // taken (four were sent above).
    let key = uuid::Uuid::new_v4().to_string();
    let fifth = public_post(&app, &application(&monday, "five@example.jp", &key)).await;
    assert_eq!(fifth.status, StatusCode::OK);
    let key = uuid::Uuid::new_v4().to_string();
    let sixth = public_post(&app, &application(&monday, "six@example.jp", &key)).await;
    assert_eq!(sixth.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(sixth.body.contains("しばらく受け付けを止めています"));
}

#[tokio::test]
async fn fifty_confirmations_of_one_mentor_slot_at_once_make_one_consultation() {
    let (app, world) = world().await;
    let office = world.login_as(&app, Role::MentorOffice).await;
    mentor(
        &app,
        &office,
        &[("nickname", "ひまわり"), ("slot_0_0", "1")],
    )
    .await;
    let mentor_id = app.text("SELECT id FROM mentors", &[]).await;
    let monday = first_monday(&world);
    let office_id = world.organisations["mentor-office"].clone();
    let mut ids = Vec::new();
    let mut conn = app.db.pool().acquire().await.unwrap();
    for i in 0..50 {
        let id = uuid::Uuid::new_v4().to_string();
        let (key, family, reference) = (
            uuid::Uuid::new_v4().to_string(),
            format!("email:f{i}@example.jp"),
            format!("PM-T{i:05}"),
        );
        let wishes = vec![monday.clone()];
        let inserted = tsunagu::features::mentoring::repo::insert_application(
            &mut conn,
            &tsunagu::features::mentoring::repo::NewApplication {
                id: &id,
                reference: &reference,
                office_id: &office_id,
                idempotency_key: &key,
                family_key: &family,
                account_id: None,
                name: "保護者",
                email: "f@example.jp",
                municipality_code: "131199",
                child_care: &[],
                work: "working",
                topics: &[],
                preference: "",
                message: "",
                wishes: &wishes,
            },
            1,
            crate::support::test_now(),
        )
        .await
        .unwrap();
        assert_eq!(
            inserted,
            tsunagu::features::mentoring::repo::Inserted::Stored
        );
        ids.push(id);
    }
    drop(conn);
    let tasks: Vec<_> = ids
        .iter()
        .map(|id| {
            let router = app.router.clone();
            let request = request_as(
                &office,
                Method::POST,
                &format!("/mentoring/applications/{id}/confirm"),
            )
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form_body(&[
                ("csrf_token", office.csrf.as_str()),
                ("version", "1"),
                ("mentor_id", mentor_id.as_str()),
                ("slot", monday.as_str()),
                ("meeting_url", "https://meet.example.jp/x"),
            ])))
            .unwrap();
            tokio::spawn(async move { router.oneshot(request).await.unwrap().status() })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    let confirmed = statuses
        .iter()
        .filter(|s| **s == StatusCode::SEE_OTHER)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::BAD_REQUEST)
        .count();
    assert_eq!((confirmed, refused), (1, 49), "{statuses:?}");
    assert_eq!(app.count(CONSULTATIONS, &[]).await, 1);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM mentor_applications WHERE status = 'confirmed'",
            &[]
        )
        .await,
        1
    );
}
