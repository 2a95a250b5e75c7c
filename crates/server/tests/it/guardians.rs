//! Staff link a family's account to their child: a new account made from the record's
//! guardian entry (initial password shown once), or one the family already has; the link
//! is audited and shown on the record, and ending it ends the family's access at once.

use axum::http::StatusCode;
use tsunagu_core::access::Role;

use crate::support::{Session, TestApp, csrf_in_page, page_login, session_cookie, world};

async fn register_with_guardian(app: &TestApp, staff: &Session) -> String {
    let res = app
        .post_form_as(
            staff,
            "/children",
            &[
                ("name", "田中 そら"),
                ("kana", "たなか そら"),
                ("birth_date", "2021-09-01"),
                ("sex", "male"),
                ("municipality_code", "131199"),
                ("g0_name", "田中 みき"),
                ("g0_kana", "たなか みき"),
                ("g0_relation", "母"),
                ("g0_phone", "090-2222-3333"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    res.header("location")
        .trim_start_matches("/children/")
        .trim_end_matches("?registered=1")
        .to_string()
}

/// The text of the element with this id.
fn text_of(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let start = html.find(&marker).expect(id) + marker.len();
    let end = start + html[start..].find('<').expect("end");
    html[start..end].to_string()
}

/// A family signs in on the pages with the initial password and sets their own.
async fn first_sign_in(app: &TestApp, login: &str, initial: &str) -> Session {
    let res = page_login(app, login, initial).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(res.header("location"), "/account/password");
    let cookie = session_cookie(&res).expect("a session");
    let bare = Session {
        cookie: cookie.clone(),
        csrf: String::new(),
    };
    let form = app.get_as(&bare, "/account/password").await;
    let session = Session {
        cookie,
        csrf: csrf_in_page(&form.body).expect("csrf"),
    };
    let new = "sora-no-okaasan-2026";
    let res = app
        .post_form_as(
            &session,
            "/account/password",
            &[
                ("current_password", initial),
                ("new_password", new),
                ("confirm_password", new),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    // The session is renewed with the new password.
    let cookie = session_cookie(&res)
        .filter(|c| !c.is_empty())
        .unwrap_or(session.cookie);
    let bare = Session {
        cookie: cookie.clone(),
        csrf: String::new(),
    };
    let home = app.get_as(&bare, "/home").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.header("location"));
    Session {
        cookie,
        csrf: csrf_in_page(&home.body).unwrap_or_default(),
    }
}

#[tokio::test]
async fn staff_make_the_familys_account_and_unlinking_ends_its_access_at_once() {
    let (app, world) = world().await;
    let staff = world.login_as(&app, Role::MunicipalStaff).await;
    let id = register_with_guardian(&app, &staff).await;
    let page = app
        .get_as(&staff, &format!("/children/{id}/guardians"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("連携しているご家族のアカウントはありません")
    );
    assert!(page.body.contains("田中 みき"));
    let accounts_before = app.count("SELECT count(*) FROM accounts", &[]).await;

    // A login id that breaks the rule, and one already taken: named beside the field,
    // nothing created.
    let staff_login = world.person(Role::MunicipalStaff).login.clone();
    for (login, says) in [
        ("ア", "半角の英小文字・数字"),
        (staff_login.as_str(), "すでに使われています"),
    ] {
        let res = app
            .post_form_as(
                &staff,
                &format!("/children/{id}/guardians"),
                &[("entry", "0"), ("login_id", login)],
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{login}");
        assert!(res.body.contains(says), "{login}: {}", res.body);
        assert!(res.body.contains("login_id-error"));
    }
    // An entry the record does not have.
    let res = app
        .post_form_as(
            &staff,
            &format!("/children/{id}/guardians"),
            &[("entry", "2"), ("login_id", "tanaka.miki")],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.count("SELECT count(*) FROM accounts", &[]).await,
        accounts_before
    );

    // The account is made and its initial password shown once.
    let res = app
        .post_form_as(
            &staff,
            &format!("/children/{id}/guardians"),
            &[("entry", "0"), ("login_id", "Tanaka.Miki")],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.body.contains("tanaka.miki"));
    let initial = text_of(&res.body, "initial-password");
    assert!(initial.len() >= 10, "{initial}");
    let account_id: String = sqlx::Row::try_get(
        &sqlx::query("SELECT id FROM accounts WHERE login_id = 'tanaka.miki'")
            .fetch_one(app.db.pool())
            .await
            .unwrap(),
        0,
    )
    .unwrap();
    // The family belongs to the town's families' organisation, not to the office.
    let homes = sqlx::query(
        "SELECT o.kind, o.name FROM memberships m JOIN organisations o ON o.id = m.organisation_id \
         WHERE m.account_id = $1",
    )
    .bind(&account_id)
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(homes.len(), 1);
    let kind: String = sqlx::Row::try_get(&homes[0], 0).unwrap();
    let name: String = sqlx::Row::try_get(&homes[0], 1).unwrap();
    assert_eq!(kind, "family");
    assert!(name.ends_with("のご家族"), "{name}");
    let detail = format!("guardian_link:{account_id}");
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE action = 'update' AND resource_id = $1 AND detail = $2",
            &[&id, &detail]
        )
        .await,
        1
    );
    let record = app.get_as(&staff, &format!("/children/{id}")).await;
    assert!(record.body.contains("田中 みき（母）"), "{}", record.body);

    // The family signs in, sets a password, and sees their child — as a family, not as a
    // member of the ward's office.
    let family = first_sign_in(&app, "tanaka.miki", &initial).await;
    let seen = app.get_as(&family, &format!("/children/{id}")).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(seen.body.contains("田中 そら"));
    assert!(
        seen.body
            .contains("<span class=\"user-org\">（ご家族）</span>"),
        "the header names no office"
    );
    // The family cannot manage accounts of their own record.
    let res = app
        .get_as(&family, &format!("/children/{id}/guardians"))
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);

    // Ending the link ends their access with the next request.
    let res = app
        .post_form_as(
            &staff,
            &format!("/children/{id}/guardians/{account_id}/unlink"),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let refused = app.get_as(&family, &format!("/children/{id}")).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let detail = format!("guardian_unlink:{account_id}");
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE resource_id = $1 AND detail = $2",
            &[&id, &detail]
        )
        .await,
        1
    );
    // Unlinking twice says it is done already and writes nothing.
    let again = app
        .post_form_as(
            &staff,
            &format!("/children/{id}/guardians/{account_id}/unlink"),
            &[],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    // Relinking the account the family already has brings the record back.
    let res = app
        .post_form_as(
            &staff,
            &format!("/children/{id}/guardians/link"),
            &[("existing_login_id", "tanaka.miki"), ("relation", "母")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let seen = app.get_as(&family, &format!("/children/{id}")).await;
    assert_eq!(seen.status, StatusCode::OK);
}

#[tokio::test]
async fn only_family_accounts_are_linked_and_only_by_the_records_staff() {
    let (app, world) = world().await;
    let staff = world.login_as(&app, Role::MunicipalStaff).await;
    let id = register_with_guardian(&app, &staff).await;
    // A staff account is not a family's.
    let res = app
        .post_form_as(
            &staff,
            &format!("/children/{id}/guardians/link"),
            &[(
                "existing_login_id",
                &world.person(Role::FacilityStaff).login,
            )],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(
        res.body.contains("保護者アカウントはありません"),
        "{}",
        res.body
    );
    // Another town's staff cannot reach the record (the same answer as a missing one).
    let nerima = world.sign_in(&app, &world.nerima_staff).await;
    let res = app
        .post_form_as(
            &nerima,
            &format!("/children/{id}/guardians/link"),
            &[("existing_login_id", &world.person(Role::Guardian).login)],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM child_guardians WHERE child_id = $1",
            &[&id]
        )
        .await,
        0
    );
}
