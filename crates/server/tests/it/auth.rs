//! Authentication on the backend under test: password and TOTP through the API and the pages,
//! answers that never tell whether a login exists, replay and recovery codes, lockout and the
//! per-address limit, forced password change and the password policy, idle and absolute
//! expiry, logout (here and everywhere), session rotation, CSRF, injection and body limits.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::Duration;
use tsunagu_core::access::Role;
use tsunagu_core::clock::Clock;

use crate::support::{
    NewPerson, Person, Session, TestApp, TestResponse, World, csrf_in_page, encode, form_body,
    page_login, request_as, session_cookie, shows_escaped, sign_in, try_sign_in, world,
};

fn code_of(res: &TestResponse) -> String {
    res.json()["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code: {}", res.body))
        .to_string()
}

fn assert_error(res: &TestResponse, status: StatusCode, code: &str) {
    assert_eq!(res.status, status, "{}", res.body);
    assert_eq!(code_of(res), code, "{}", res.body);
}

fn location(res: &TestResponse) -> &str {
    res.header("location")
}

async fn sessions_of(app: &TestApp, person: &Person) -> i64 {
    app.count(
        "SELECT count(*) FROM sessions WHERE account_id = $1",
        &[&person.id],
    )
    .await
}

/// A session from a cookie value alone (pages give the CSRF token in the form).
fn cookie_only(cookie: &str) -> Session {
    Session {
        cookie: cookie.to_string(),
        csrf: String::new(),
    }
}

/// The pages' sign-in up to the second factor: password, then the code. Returns both cookies.
async fn page_login_with_totp(app: &TestApp, world: &World, person: &Person) -> (String, String) {
    let first = page_login(app, &person.login, &person.password).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    assert_eq!(location(&first), "/login/totp");
    let half = session_cookie(&first).expect("first-factor cookie");
    let form = app.get_as(&cookie_only(&half), "/login/totp").await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = csrf_in_page(&form.body).expect("csrf field on the code page");
    let code = world.next_code(person).expect("a TOTP account");
    let second = app
        .post_form_as(
            &Session {
                cookie: half.clone(),
                csrf,
            },
            "/login/totp",
            &[("code", &code)],
        )
        .await;
    assert_eq!(second.status, StatusCode::SEE_OTHER, "{}", second.body);
    let full = session_cookie(&second).expect("second-factor cookie");
    (half, full)
}

// ---------------------------------------------------------------------------------------
// Password and second factor
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn staff_sign_in_with_password_and_totp_through_the_api() {
    let (app, world) = world().await;
    let staff = world.person(Role::MunicipalStaff);
    let code = world.next_code(staff);
    let res = try_sign_in(&app, &staff.login, &staff.password, code.as_deref()).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let body = res.json();
    assert_eq!(body["me"]["login"], staff.login.as_str());
    assert_eq!(body["me"]["two_factor"], true);
    assert_eq!(body["me"]["memberships"][0]["role"], "municipal_staff");
    let csrf = body["csrf_token"].as_str().unwrap();
    assert!(csrf.len() >= 32, "a long random CSRF token");
    let cookie = res.header("set-cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    let session = Session {
        cookie: session_cookie(&res).unwrap(),
        csrf: csrf.to_string(),
    };
    let me = app.get_as(&session, "/api/v1/me").await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["id"], staff.id.as_str());
    // The table holds only the token's hash: a copy of the database opens nothing.
    assert_eq!(
        app.count(
            "SELECT count(*) FROM sessions WHERE token_hash = $1",
            &[&session.cookie]
        )
        .await,
        0
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM sessions WHERE token_hash = $1",
            &[&tsunagu::auth::session::hash_token(&session.cookie)]
        )
        .await,
        1
    );
    // Two audit entries: the password, then the second factor.
    for detail in ["password", "totp"] {
        assert_eq!(
            app.count(
                "SELECT count(*) FROM audit_log WHERE actor_account_id = $1 AND action = 'login' AND outcome = 'allowed' AND detail = $2",
                &[&staff.id, detail]
            )
            .await,
            1,
            "{detail}"
        );
    }
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_login_get_the_same_answer() {
    let (app, world) = world().await;
    let staff = world.person(Role::MunicipalStaff);
    let code = world.next_code(staff);
    let wrong = try_sign_in(&app, &staff.login, "Not-the-password-1", code.as_deref()).await;
    let unknown = try_sign_in(&app, "nobody.here", "Not-the-password-1", code.as_deref()).await;
    assert_error(&wrong, StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_error(&unknown, StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(wrong.body, unknown.body, "the answer must not tell which");
    assert!(session_cookie(&wrong).is_none() && session_cookie(&unknown).is_none());
    // The same on the sign-in page: same status, same message, for both.
    let page_wrong = page_login(&app, &staff.login, "Not-the-password-1").await;
    let page_unknown = page_login(&app, "nobody.here", "Not-the-password-1").await;
    assert_eq!(page_wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(page_unknown.status, StatusCode::UNAUTHORIZED);
    let message = "ログインIDまたはパスワード（または確認コード）が正しくありません";
    assert!(page_wrong.body.contains(message) && page_unknown.body.contains(message));
    assert!(session_cookie(&page_wrong).is_none());
    // Both failures are audited; the one on a real account names it.
    assert_eq!(
        app.audit_count(&staff.id, "login_failed", "failed").await,
        2
    );
}

#[tokio::test]
async fn a_missing_totp_is_asked_for_and_leaves_no_session() {
    let (app, world) = world().await;
    let staff = world.person(Role::Coordinator);
    let res = try_sign_in(&app, &staff.login, &staff.password, None).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "totp_required");
    assert!(session_cookie(&res).is_none());
    let blank = try_sign_in(&app, &staff.login, &staff.password, Some("  ")).await;
    assert_error(&blank, StatusCode::UNAUTHORIZED, "totp_required");
    assert_eq!(sessions_of(&app, staff).await, 0, "no half-open session");
    // A guardian has no second factor: the password alone signs in.
    let guardian = world.person(Role::Guardian);
    assert!(guardian.totp_secret.is_none());
    sign_in(&app, &guardian.login, &guardian.password, None).await;
}

#[tokio::test]
async fn a_wrong_totp_code_is_refused() {
    let (app, world) = world().await;
    let staff = world.person(Role::MunicipalStaff);
    let secret = staff.totp_secret.as_deref().unwrap();
    world.next_code(staff);
    // The code of an hour later: outside the ±1 step window.
    let later =
        tsunagu::auth::totp::current_code(secret, world.clock.now() + Duration::hours(1)).unwrap();
    let res = try_sign_in(&app, &staff.login, &staff.password, Some(&later)).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert!(session_cookie(&res).is_none());
    let res = try_sign_in(&app, &staff.login, &staff.password, Some("12345")).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_credentials");
}

#[tokio::test]
async fn a_replayed_totp_code_is_refused() {
    let (app, world) = world().await;
    let staff = world.person(Role::MunicipalStaff);
    let code = world.next_code(staff).unwrap();
    sign_in(&app, &staff.login, &staff.password, Some(&code)).await;
    // The same code again, within the same 30-second step: someone saw it.
    let replay = try_sign_in(&app, &staff.login, &staff.password, Some(&code)).await;
    assert_error(&replay, StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert!(session_cookie(&replay).is_none());
    // Still refused in the next step, while the code is within the window.
    world.clock.advance(Duration::seconds(30));
    let replay = try_sign_in(&app, &staff.login, &staff.password, Some(&code)).await;
    assert_error(&replay, StatusCode::UNAUTHORIZED, "invalid_credentials");
    // The code of the new step works.
    let fresh =
        tsunagu::auth::totp::current_code(staff.totp_secret.as_deref().unwrap(), world.clock.now())
            .unwrap();
    sign_in(&app, &staff.login, &staff.password, Some(&fresh)).await;
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE actor_account_id = $1 AND action = 'login_failed' AND detail = 'second_factor'",
            &[&staff.id]
        )
        .await,
        2
    );
}

/// Enrolment through the pages (secret, first code, ten recovery codes), then a recovery code
/// stands in for the second factor exactly once.
#[tokio::test]
async fn enrolment_gives_recovery_codes_that_work_once() {
    let (app, world) = world().await;
    let mut new = NewPerson::new(
        "coordinator.two",
        "調整 次郎",
        "consultation",
        Role::Coordinator,
    );
    new.totp = false;
    let person = world.add_person(&app, new).await;
    // Staff without a second factor must enrol before anything else.
    let api = try_sign_in(&app, &person.login, &person.password, None).await;
    assert_error(&api, StatusCode::UNAUTHORIZED, "totp_enrolment_required");
    let first = page_login(&app, &person.login, &person.password).await;
    assert_eq!(location(&first), "/account/two-factor");
    let half = cookie_only(&session_cookie(&first).unwrap());
    let home = app.get_as(&half, "/home").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&home), "/account/two-factor");
    let form = app.get_as(&half, "/account/two-factor").await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = csrf_in_page(&form.body).unwrap();
    let secret: String = sqlx::Row::try_get(
        &sqlx::query("SELECT totp_secret FROM accounts WHERE id = $1")
            .bind(person.id.as_str())
            .fetch_one(app.db.pool())
            .await
            .unwrap(),
        0,
    )
    .unwrap();
    assert!(
        form.body.contains(&secret),
        "the secret is shown for typing"
    );
    let half = Session {
        cookie: half.cookie,
        csrf,
    };
    let wrong = app
        .post_form_as(&half, "/account/two-factor", &[("code", "000000x")])
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    let code = tsunagu::auth::totp::current_code(&secret, world.clock.now()).unwrap();
    let done = app
        .post_form_as(&half, "/account/two-factor", &[("code", &code)])
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let full = session_cookie(&done).expect("the session rotates when enrolment completes");
    assert_ne!(full, half.cookie);
    let codes: Vec<String> = done
        .body
        .split("<li>")
        .skip(1)
        .filter_map(|s| s.split("</li>").next())
        .filter(|c| c.len() == 14 && c.matches('-').count() == 2)
        .map(str::to_string)
        .collect();
    assert_eq!(codes.len(), 10, "{}", done.body);
    assert_eq!(
        app.get_as(&cookie_only(&full), "/home").await.status,
        StatusCode::OK
    );
    // Recovery code instead of the TOTP code; written in capitals with spaces, as people do.
    let typed = codes[3].to_uppercase().replace('-', " ");
    world.clock.advance(Duration::seconds(30));
    sign_in(&app, &person.login, &person.password, Some(&typed)).await;
    world.clock.advance(Duration::seconds(30));
    let again = try_sign_in(&app, &person.login, &person.password, Some(&codes[3])).await;
    assert_error(&again, StatusCode::UNAUTHORIZED, "invalid_credentials");
    // Another unused code still works.
    sign_in(&app, &person.login, &person.password, Some(&codes[4])).await;
    assert_eq!(
        app.count(
            "SELECT count(*) FROM recovery_codes WHERE account_id = $1 AND used_at IS NOT NULL",
            &[&person.id]
        )
        .await,
        2
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE actor_account_id = $1 AND action = 'login' AND detail = 'recovery_code'",
            &[&person.id]
        )
        .await,
        2
    );
}

// ---------------------------------------------------------------------------------------
// Lockout and rate limit
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn five_failures_lock_the_account_for_fifteen_minutes() {
    let (app, world) = world().await;
    let staff = world.person(Role::MunicipalStaff);
    for _ in 0..5 {
        let res = try_sign_in(&app, &staff.login, "Wrong-password-99", None).await;
        assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    assert_eq!(
        app.audit_count(&staff.id, "account_locked", "allowed")
            .await,
        1
    );
    // Locked: even the right password and code are refused, and the code is not used up.
    let code = world.next_code(staff).unwrap();
    let res = try_sign_in(&app, &staff.login, &staff.password, Some(&code)).await;
    assert_error(&res, StatusCode::LOCKED, "locked");
    assert!(session_cookie(&res).is_none());
    let page = page_login(&app, &staff.login, &staff.password).await;
    assert_eq!(page.status, StatusCode::LOCKED);
    assert!(page.body.contains("一時的にロックされています"));
    // Another account is not affected.
    world.sign_in(&app, world.person(Role::Coordinator)).await;
    // Fourteen minutes later: still locked.
    world.clock.advance(Duration::minutes(13));
    let code = world.next_code(staff).unwrap();
    let res = try_sign_in(&app, &staff.login, &staff.password, Some(&code)).await;
    assert_error(&res, StatusCode::LOCKED, "locked");
    // Fifteen minutes after the lock: open again.
    world.clock.advance(Duration::seconds(30));
    world.sign_in(&app, staff).await;
    let failed: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT failed_logins FROM accounts WHERE id = $1")
            .bind(staff.id.as_str())
            .fetch_one(app.db.pool())
            .await
            .unwrap(),
        0,
    )
    .unwrap();
    assert_eq!(failed, 0, "a successful sign-in clears the count");
}

#[tokio::test]
async fn an_unknown_login_locks_like_a_known_one() {
    let (app, world) = world().await;
    let staff = world.person(Role::MunicipalStaff);
    for login in [staff.login.as_str(), "nobody.at.all"] {
        for _ in 0..5 {
            let res = try_sign_in(&app, login, "Wrong-password-99", None).await;
            assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_credentials");
        }
    }
    // The sixth attempt answers the same for both: the lock reveals nothing.
    let known = try_sign_in(&app, &staff.login, "Wrong-password-99", None).await;
    let unknown = try_sign_in(&app, "nobody.at.all", "Wrong-password-99", None).await;
    assert_error(&known, StatusCode::LOCKED, "locked");
    assert_error(&unknown, StatusCode::LOCKED, "locked");
    assert_eq!(known.body, unknown.body);
    // Old failures are purged once past every window; sessions past the absolute limit too.
    world.clock.advance(Duration::hours(13));
    tsunagu::auth::login::purge_expired(&app.db, world.clock.now(), Duration::hours(12))
        .await
        .unwrap();
    assert_eq!(
        app.count("SELECT count(*) FROM login_failures", &[]).await,
        0
    );
}

#[tokio::test]
async fn wrong_second_factors_count_towards_the_lockout() {
    let (app, world) = world().await;
    let staff = world.person(Role::SupportCenterStaff);
    let secret = staff.totp_secret.as_deref().unwrap();
    for _ in 0..5 {
        world.clock.advance(Duration::seconds(30));
        let far = tsunagu::auth::totp::current_code(secret, world.clock.now() + Duration::hours(2))
            .unwrap();
        let res = try_sign_in(&app, &staff.login, &staff.password, Some(&far)).await;
        assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    let code = world.next_code(staff).unwrap();
    let res = try_sign_in(&app, &staff.login, &staff.password, Some(&code)).await;
    assert_error(&res, StatusCode::LOCKED, "locked");
}

#[tokio::test]
async fn twenty_failures_from_one_address_make_it_wait() {
    let (app, world) = world().await;
    for i in 0..20 {
        let res = try_sign_in(&app, &format!("guess.{i}"), "Wrong-password-99", None).await;
        assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    // Tests send no peer address: every request comes from "unknown", one client.
    let staff = world.person(Role::MunicipalStaff);
    let code = world.next_code(staff).unwrap();
    let res = try_sign_in(&app, &staff.login, &staff.password, Some(&code)).await;
    assert_error(&res, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE action = 'login_failed' AND detail = 'rate_limited'",
            &[]
        )
        .await,
        1
    );
    world.clock.advance(Duration::minutes(15));
    world.sign_in(&app, staff).await;
}

// ---------------------------------------------------------------------------------------
// Forced password change and the policy
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_forced_password_change_comes_before_everything_else() {
    let (app, world) = world().await;
    let mut new = NewPerson::new(
        "itabashi.health",
        "保健 花子",
        "itabashi-health",
        Role::MunicipalStaff,
    );
    new.must_change_password = true;
    let person = world.add_person(&app, new).await;
    // The API cannot change passwords: it says what is due and keeps no session.
    let code = world.next_code(&person);
    let api = try_sign_in(&app, &person.login, &person.password, code.as_deref()).await;
    assert_error(&api, StatusCode::UNAUTHORIZED, "password_change_required");
    assert!(session_cookie(&api).is_none());
    assert_eq!(sessions_of(&app, &person).await, 0);
    // The pages: password, code, then the change before anything else.
    let (_, cookie) = page_login_with_totp(&app, &world, &person).await;
    let session = cookie_only(&cookie);
    for path in [
        "/home",
        "/children",
        "/children/new",
        "/children/export.csv",
        "/break-glass",
        &format!("/children/{}", world.children.itabashi_family),
    ] {
        let res = app.get_as(&session, path).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&res), "/account/password", "{path}");
    }
    let me = app.get_as(&session, "/api/v1/me").await;
    assert_error(&me, StatusCode::UNAUTHORIZED, "password_change_required");
    let form = app.get_as(&session, "/account/password").await;
    assert_eq!(form.status, StatusCode::OK);
    let session = Session {
        cookie,
        csrf: csrf_in_page(&form.body).unwrap(),
    };
    let change = async |new: &str| {
        app.post_form_as(
            &session,
            "/account/password",
            &[
                ("current_password", &person.password),
                ("new_password", new),
                ("confirm_password", new),
            ],
        )
        .await
    };
    let short = change("Ab3$xyz").await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert!(
        short
            .body
            .contains("パスワードは8文字以上にしてください（二要素認証を使う場合）"),
        "{}",
        short.body
    );
    let common = change("password").await;
    assert_eq!(common.status, StatusCode::BAD_REQUEST);
    assert!(
        common
            .body
            .contains("よく使われるパスワードのため使えません"),
        "{}",
        common.body
    );
    let same = change(&person.password).await;
    assert_eq!(same.status, StatusCode::BAD_REQUEST);
    assert!(same.body.contains("現在と同じパスワードには変更できません"));
    let mismatch = app
        .post_form_as(
            &session,
            "/account/password",
            &[
                ("current_password", &person.password),
                ("new_password", "Hinata-no-Michi-42"),
                ("confirm_password", "Hinata-no-Michi-43"),
            ],
        )
        .await;
    assert!(
        mismatch
            .body
            .contains("新しいパスワードと確認用の入力が一致しません")
    );
    // Still blocked after the refusals.
    assert_eq!(
        location(&app.get_as(&session, "/home").await),
        "/account/password"
    );
    let done = change("Hinata-no-Michi-42").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(location(&done), "/home?password_changed=1");
    assert_eq!(app.get_as(&session, "/home").await.status, StatusCode::OK);
    assert_eq!(
        app.get_as(&session, "/children").await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.audit_count(&person.id, "password_change", "allowed")
            .await,
        1
    );
    // The old password is gone, the new one works.
    let code = world.next_code(&person);
    let old = try_sign_in(&app, &person.login, &person.password, code.as_deref()).await;
    assert_error(&old, StatusCode::UNAUTHORIZED, "invalid_credentials");
    let code = world.next_code(&person);
    sign_in(&app, &person.login, "Hinata-no-Michi-42", code.as_deref()).await;
}

#[tokio::test]
async fn a_guardian_without_two_factor_needs_a_longer_password() {
    let (app, world) = world().await;
    let mut new = NewPerson::new(
        "family.suzuki",
        "鈴木 あおい",
        "itabashi-welfare",
        Role::Guardian,
    );
    new.must_change_password = true;
    let person = world.add_person(&app, new).await;
    let first = page_login(&app, &person.login, &person.password).await;
    assert_eq!(location(&first), "/account/password");
    let half = session_cookie(&first).unwrap();
    let blocked = app.get_as(&cookie_only(&half), "/home").await;
    assert_eq!(location(&blocked), "/account/password");
    let form = app.get_as(&cookie_only(&half), "/account/password").await;
    let session = Session {
        cookie: half.clone(),
        csrf: csrf_in_page(&form.body).unwrap(),
    };
    let change = async |new: &str| {
        app.post_form_as(
            &session,
            "/account/password",
            &[
                ("current_password", &person.password),
                ("new_password", new),
                ("confirm_password", new),
            ],
        )
        .await
    };
    let short = change("Hinata-Sora1").await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert!(
        short
            .body
            .contains("パスワードは13文字以上にしてください（二要素認証を使わない場合）"),
        "{}",
        short.body
    );
    let common = change("password12345").await;
    assert!(
        common
            .body
            .contains("よく使われるパスワードのため使えません"),
        "{}",
        common.body
    );
    let done = change("Hinata-no-Sora-2026").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    // Fully signed in now, under a new session id; the half-open one is gone.
    let full = session_cookie(&done).expect("rotated");
    assert_ne!(full, half);
    assert_eq!(
        app.get_as(&cookie_only(&full), "/home").await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get_as(&cookie_only(&half), "/home").await.status,
        StatusCode::SEE_OTHER
    );
}

// ---------------------------------------------------------------------------------------
// Expiry
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn sessions_expire_after_thirty_idle_minutes() {
    let (app, world) = world().await;
    let staff = world.person(Role::MunicipalStaff);
    let api = world.sign_in(&app, staff).await;
    let page = world.sign_in(&app, staff).await;
    // Activity keeps a session alive.
    for _ in 0..3 {
        world.clock.advance(Duration::minutes(29));
        assert_eq!(app.get_as(&api, "/api/v1/me").await.status, StatusCode::OK);
        assert_eq!(app.get_as(&page, "/home").await.status, StatusCode::OK);
    }
    world.clock.advance(Duration::minutes(31));
    let expired = app.get_as(&api, "/api/v1/me").await;
    assert_error(&expired, StatusCode::UNAUTHORIZED, "session_expired");
    let expired = app.get_as(&page, "/children?q=a").await;
    assert_eq!(expired.status, StatusCode::SEE_OTHER);
    assert_eq!(
        location(&expired),
        "/login?next=%2Fchildren%3Fq%3Da&expired=1"
    );
    assert_eq!(
        session_cookie(&expired).as_deref(),
        Some(""),
        "cookie cleared"
    );
    // The expired sessions are deleted, not just refused.
    assert_eq!(sessions_of(&app, staff).await, 0);
    let login = app.get("/login?next=%2Fchildren&expired=1").await;
    assert!(
        login
            .body
            .contains("一定時間操作がなかったため、サインインが切れました")
    );
    // Once gone, the cookie is simply unknown.
    let after = app.get_as(&api, "/api/v1/me").await;
    assert_error(&after, StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn sessions_end_after_twelve_hours_however_busy() {
    let (app, world) = world().await;
    let session = world.login_as(&app, Role::Coordinator).await;
    // 28 × 25 minutes = 11 h 40 min of steady work.
    for _ in 0..28 {
        world.clock.advance(Duration::minutes(25));
        let res = app.get_as(&session, "/api/v1/me").await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    }
    world.clock.advance(Duration::minutes(25));
    let res = app.get_as(&session, "/api/v1/me").await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "session_expired");
}

// ---------------------------------------------------------------------------------------
// Logout and rotation
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn logout_ends_the_session() {
    let (app, world) = world().await;
    let staff = world.person(Role::MunicipalStaff);
    let page = world.sign_in(&app, staff).await;
    let api = world.sign_in(&app, staff).await;
    let res = app.post_form_as(&page, "/logout", &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/login?signed_out=1");
    assert_eq!(session_cookie(&res).as_deref(), Some(""));
    let old = app.get_as(&page, "/api/v1/me").await;
    assert_error(&old, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(
        location(&app.get_as(&page, "/home").await),
        "/login?next=%2Fhome"
    );
    // The other session of the same person is untouched by a plain logout.
    assert_eq!(app.get_as(&api, "/api/v1/me").await.status, StatusCode::OK);
    let res = app.send_as(&api, Method::DELETE, "/api/v1/session").await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let old = app.get_as(&api, "/api/v1/me").await;
    assert_error(&old, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(sessions_of(&app, staff).await, 0);
    assert_eq!(app.audit_count(&staff.id, "logout", "allowed").await, 2);
}

#[tokio::test]
async fn log_out_everywhere_ends_every_session_of_the_account() {
    let (app, world) = world().await;
    let staff = world.person(Role::MunicipalStaff);
    let here = world.sign_in(&app, staff).await;
    let phone = world.sign_in(&app, staff).await;
    let colleague = world.login_as(&app, Role::Coordinator).await;
    let res = app.post_form_as(&here, "/logout/everywhere", &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    for s in [&here, &phone] {
        let me = app.get_as(s, "/api/v1/me").await;
        assert_error(&me, StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    assert_eq!(sessions_of(&app, staff).await, 0);
    assert_eq!(
        app.get_as(&colleague, "/api/v1/me").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_session_id_rotates_at_sign_in_and_after_the_second_factor() {
    let (app, world) = world().await;
    let staff = world.person(Role::MunicipalStaff);
    // A cookie planted before sign-in (session fixation) is never adopted.
    let planted = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let first = app
        .request(
            Request::builder()
                .method(Method::POST)
                .uri("/login")
                .header("cookie", format!("tsunagu_session={planted}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(form_body(&[
                    ("login_id", &staff.login),
                    ("password", &staff.password),
                ])))
                .unwrap(),
        )
        .await;
    assert_eq!(location(&first), "/login/totp");
    let half = session_cookie(&first).unwrap();
    assert_ne!(half, planted);
    // The first-factor session can do nothing but the second factor.
    let blocked = app.get_as(&cookie_only(&half), "/children").await;
    assert_eq!(location(&blocked), "/login/totp");
    let me = app.get_as(&cookie_only(&half), "/api/v1/me").await;
    assert_error(&me, StatusCode::UNAUTHORIZED, "totp_required");
    let form = app.get_as(&cookie_only(&half), "/login/totp").await;
    let half_csrf = csrf_in_page(&form.body).unwrap();
    let code = world.next_code(staff).unwrap();
    let second = app
        .post_form_as(
            &Session {
                cookie: half.clone(),
                csrf: half_csrf.clone(),
            },
            "/login/totp",
            &[("code", &code)],
        )
        .await;
    assert_eq!(location(&second), "/home");
    let full = session_cookie(&second).unwrap();
    assert_ne!(full, half, "a new id after the second factor");
    assert_eq!(
        app.get_as(&cookie_only(&full), "/home").await.status,
        StatusCode::OK
    );
    // The old id is dead, for pages and the API alike.
    let old = app.get_as(&cookie_only(&half), "/login/totp").await;
    assert_eq!(old.status, StatusCode::SEE_OTHER);
    assert!(
        location(&old).starts_with("/login?next="),
        "{}",
        location(&old)
    );
    let old = app.get_as(&cookie_only(&half), "/api/v1/me").await;
    assert_error(&old, StatusCode::UNAUTHORIZED, "unauthenticated");
    // The CSRF token rotates too.
    let page = app.get_as(&cookie_only(&full), "/home").await;
    let full_csrf = csrf_in_page(&page.body).unwrap();
    assert_ne!(full_csrf, half_csrf);
    // Two API sign-ins: two different sessions.
    let a = world.sign_in(&app, staff).await;
    let b = world.sign_in(&app, staff).await;
    assert_ne!(a.cookie, b.cookie);
    assert_ne!(a.csrf, b.csrf);
}

// ---------------------------------------------------------------------------------------
// CSRF
// ---------------------------------------------------------------------------------------

/// A state-changing request with the session's cookie and chosen CSRF evidence.
async fn forged(
    app: &TestApp,
    session: &Session,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    form: Option<&[(&str, &str)]>,
) -> TestResponse {
    let mut builder = request_as(session, method, uri).header("host", "localhost");
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let body = match form {
        Some(fields) => {
            builder = builder.header("content-type", "application/x-www-form-urlencoded");
            Body::from(form_body(fields))
        }
        None => Body::empty(),
    };
    app.request(builder.body(body).unwrap()).await
}

/// Header or form fields, as name and value.
type Fields<'a> = Vec<(&'a str, &'a str)>;

#[tokio::test]
async fn logout_without_a_valid_token_or_from_another_site_is_refused() {
    let (app, world) = world().await;
    let staff = world.person(Role::MunicipalStaff);
    let s = world.sign_in(&app, staff).await;
    let other = world.login_as(&app, Role::Coordinator).await;
    let right = s.csrf.as_str();
    let cases: [(&str, Fields, Option<Fields>); 7] = [
        ("no token", vec![], Some(vec![])),
        ("wrong token", vec![], Some(vec![("csrf_token", "f00d")])),
        (
            "another session's token",
            vec![],
            Some(vec![("csrf_token", other.csrf.as_str())]),
        ),
        ("wrong header", vec![("x-csrf-token", "f00d")], None),
        (
            "evil origin",
            vec![("origin", "https://evil.example")],
            Some(vec![("csrf_token", right)]),
        ),
        (
            "cross-site fetch",
            vec![("sec-fetch-site", "cross-site")],
            Some(vec![("csrf_token", right)]),
        ),
        (
            "same-site but another origin",
            vec![("sec-fetch-site", "same-site")],
            Some(vec![("csrf_token", right)]),
        ),
    ];
    for (what, headers, form) in &cases {
        let res = forged(&app, &s, Method::POST, "/logout", headers, form.as_deref()).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{what}: {}", res.body);
        assert!(
            res.body
                .contains("不正な送信元からの操作のため受け付けませんでした"),
            "{what}"
        );
        assert_eq!(sessions_of(&app, staff).await, 1, "{what}: session kept");
        assert_eq!(app.get_as(&s, "/home").await.status, StatusCode::OK);
    }
    // Our own page, from our own origin, with the token: accepted.
    let res = forged(
        &app,
        &s,
        Method::POST,
        "/logout",
        &[
            ("origin", "http://localhost"),
            ("sec-fetch-site", "same-origin"),
        ],
        Some(&[("csrf_token", right)]),
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(sessions_of(&app, staff).await, 0);
}

#[tokio::test]
async fn a_child_is_not_created_by_a_forged_request() {
    let (app, world) = world().await;
    let s = world.login_as(&app, Role::MunicipalStaff).await;
    let fields = |token: &'static str| {
        vec![
            ("csrf_token", token),
            ("name", "偽造 たろう"),
            ("kana", "ぎぞう たろう"),
            ("birth_date", "2023-01-05"),
            ("sex", "male"),
            ("municipality_code", "131199"),
        ]
    };
    let before = app.count("SELECT count(*) FROM children", &[]).await;
    let no_token: Vec<_> = fields("").into_iter().skip(1).collect();
    let res = forged(&app, &s, Method::POST, "/children", &[], Some(&no_token)).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = forged(
        &app,
        &s,
        Method::POST,
        "/children",
        &[],
        Some(&fields("0000")),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let mut good = fields("");
    good[0].1 = &s.csrf;
    let res = forged(
        &app,
        &s,
        Method::POST,
        "/children",
        &[("origin", "https://evil.example")],
        Some(&good),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = forged(
        &app,
        &s,
        Method::POST,
        "/children",
        &[("sec-fetch-site", "cross-site")],
        Some(&good),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.count("SELECT count(*) FROM children", &[]).await,
        before,
        "nothing created"
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE action = 'create'",
            &[]
        )
        .await,
        0
    );
    // The token in the header works as well as the form field.
    let res = forged(
        &app,
        &s,
        Method::POST,
        "/children",
        &[("x-csrf-token", &s.csrf)],
        Some(&fields("").into_iter().skip(1).collect::<Vec<_>>()),
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(
        app.count("SELECT count(*) FROM children", &[]).await,
        before + 1
    );
}

#[tokio::test]
async fn the_api_refuses_a_forged_sign_out_with_csrf_failed() {
    let (app, world) = world().await;
    let staff = world.person(Role::MunicipalStaff);
    let s = world.sign_in(&app, staff).await;
    for (what, headers) in [
        ("no token", vec![]),
        ("wrong token", vec![("x-csrf-token", "nope")]),
        (
            "evil origin",
            vec![
                ("x-csrf-token", s.csrf.as_str()),
                ("origin", "https://evil.example"),
            ],
        ),
        (
            "cross-site",
            vec![
                ("x-csrf-token", s.csrf.as_str()),
                ("sec-fetch-site", "cross-site"),
            ],
        ),
    ] {
        let res = forged(&app, &s, Method::DELETE, "/api/v1/session", &headers, None).await;
        assert_error(&res, StatusCode::FORBIDDEN, "csrf_failed");
        assert_eq!(sessions_of(&app, staff).await, 1, "{what}");
    }
    assert_eq!(app.get_as(&s, "/api/v1/me").await.status, StatusCode::OK);
    // Signing in from another site is refused too (login CSRF).
    let code = world.next_code(staff).unwrap();
    let res = app
        .request(
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/session")
                .header("content-type", "application/json")
                .header("origin", "https://evil.example")
                .body(Body::from(
                    serde_json::json!({"login": staff.login, "password": staff.password, "totp": code})
                        .to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_error(&res, StatusCode::FORBIDDEN, "csrf_failed");
    let res = app
        .request(
            Request::builder()
                .method(Method::POST)
                .uri("/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("sec-fetch-site", "cross-site")
                .body(Body::from(form_body(&[
                    ("login_id", &staff.login),
                    ("password", &staff.password),
                ])))
                .unwrap(),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(sessions_of(&app, staff).await, 1);
}

// ---------------------------------------------------------------------------------------
// Injection and size limits
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn sql_and_html_in_a_login_id_are_harmless() {
    let (app, world) = world().await;
    for login in [
        "' OR '1'='1' --",
        "admin'--",
        "admin\" OR 1=1; DROP TABLE accounts; --",
        "<script>alert(1)</script>",
    ] {
        let res = try_sign_in(&app, login, "' OR '1'='1", None).await;
        assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_credentials");
        let page = page_login(&app, login, "x").await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert!(!page.body.contains("<script>alert(1)</script>"));
    }
    let page = page_login(&app, "<script>alert(1)</script>", "x").await;
    assert!(
        shows_escaped(&page.body, "<script>alert(1)</script>"),
        "the login id comes back escaped: {}",
        page.body
    );
    // The accounts table is intact and the real accounts still sign in.
    assert!(app.count("SELECT count(*) FROM accounts", &[]).await >= 10);
    world.login_as(&app, Role::Guardian).await;
}

#[tokio::test]
async fn sql_and_html_in_a_child_name_are_stored_verbatim_and_shown_escaped() {
    let (app, world) = world().await;
    let s = world.login_as(&app, Role::MunicipalStaff).await;
    let names = [
        "<script>alert(1)</script>",
        "'; DROP TABLE children; --",
        "=HYPERLINK(\"http://evil.example\")",
    ];
    let mut ids = Vec::new();
    for (day, name) in names.into_iter().enumerate() {
        // One birth date each: the same kana on the same day would be a possible duplicate.
        let birth = format!("2023-01-{:02}", day + 1);
        let res = app
            .post_form_as(
                &s,
                "/children",
                &[
                    ("name", name),
                    ("kana", "てすと"),
                    ("birth_date", &birth),
                    ("sex", "other"),
                    ("municipality_code", "131199"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{name}: {}", res.body);
        let id = location(&res)
            .strip_prefix("/children/")
            .and_then(|rest| rest.strip_suffix("?registered=1"))
            .expect("to the new record")
            .to_string();
        let stored: String = sqlx::Row::try_get(
            &sqlx::query("SELECT name FROM children WHERE id = $1")
                .bind(&id)
                .fetch_one(app.db.pool())
                .await
                .unwrap(),
            0,
        )
        .unwrap();
        assert_eq!(stored, name, "stored verbatim");
        ids.push(id);
    }
    let detail = app.get_as(&s, &format!("/children/{}", ids[0])).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(!detail.body.contains("<script>alert(1)</script>"));
    assert!(shows_escaped(&detail.body, "<script>alert(1)</script>"));
    let detail = app.get_as(&s, &format!("/children/{}", ids[1])).await;
    assert!(!detail.body.contains("'; DROP TABLE"));
    assert!(shows_escaped(&detail.body, "'; DROP TABLE children; --"));
    let list = app.get_as(&s, "/children").await;
    assert!(!list.body.contains("<script>alert(1)</script>"));
    assert!(shows_escaped(&list.body, "<script>alert(1)</script>"));
    assert!(shows_escaped(&list.body, "'; DROP TABLE children; --"));
    assert!(list.body.contains(crate::support::ITABASHI_FAMILY_NAME));
    // The table is still there, with every row.
    assert_eq!(app.count("SELECT count(*) FROM children", &[]).await, 7);
    // The CSV carries the names as data; a formula is neutralised for spreadsheets.
    let csv = app.get_as(&s, "/children/export.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.contains("<script>alert(1)</script>"));
    assert!(csv.body.contains("'; DROP TABLE children; --"));
    assert!(
        csv.body
            .contains("\"'=HYPERLINK(\"\"http://evil.example\"\")\""),
        "{}",
        csv.body
    );
    // Search text is data too: SQL and LIKE wildcards match only themselves.
    for q in ["' OR '1'='1", "%", "_", "%' OR 1=1 --"] {
        let res = app.get_as(&s, &format!("/children?q={}", encode(q))).await;
        assert_eq!(res.status, StatusCode::OK, "{q}");
        assert!(
            !res.body.contains(crate::support::ITABASHI_FAMILY_NAME),
            "{q} must not match everything"
        );
    }
}

#[tokio::test]
async fn bodies_over_two_mebibytes_are_refused_before_anything_else() {
    let (app, world) = world().await;
    let s = world.login_as(&app, Role::MunicipalStaff).await;
    let big = format!("csrf_token={}&name={}", s.csrf, "a".repeat(3 * 1024 * 1024));
    let before = app.count("SELECT count(*) FROM children", &[]).await;
    let res = app
        .request(
            request_as(&s, Method::POST, "/children")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("content-length", big.len().to_string())
                .body(Body::from(big))
                .unwrap(),
        )
        .await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        app.count("SELECT count(*) FROM children", &[]).await,
        before
    );
    let big_json = format!(
        "{{\"login\":\"admin\",\"password\":\"{}\"}}",
        "a".repeat(3 * 1024 * 1024)
    );
    let res = app
        .request(
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/session")
                .header("content-type", "application/json")
                .header("content-length", big_json.len().to_string())
                .body(Body::from(big_json))
                .unwrap(),
        )
        .await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(res.json()["error"]["code"], "payload_too_large");
    // Without a length announced, the limit holds while the body is read: the handler's
    // reading stops at 2 MiB (token in the header)…
    let unannounced = format!("name={}", "b".repeat(3 * 1024 * 1024));
    let res = app
        .request(
            request_as(&s, Method::POST, "/children")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("x-csrf-token", &s.csrf)
                .body(Body::from(unannounced))
                .unwrap(),
        )
        .await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    // In Japanese like the announced one, not the extractor's English text.
    assert!(
        res.header("content-type").starts_with("text/html"),
        "{}",
        res.body
    );
    assert!(
        res.body.contains("送信データが大きすぎます（2 MBまで）"),
        "{}",
        res.body
    );
    // …and so does the guard's, looking for the token in the form. (It answers 403, not
    // 413: the guard cannot tell an oversized form from one without a token.)
    let unannounced = format!("csrf_token={}&name={}", s.csrf, "b".repeat(3 * 1024 * 1024));
    let res = app
        .request(
            request_as(&s, Method::POST, "/children")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(unannounced))
                .unwrap(),
        )
        .await;
    assert!(
        matches!(
            res.status,
            StatusCode::PAYLOAD_TOO_LARGE | StatusCode::FORBIDDEN
        ),
        "{}",
        res.status
    );
    assert_eq!(
        app.count("SELECT count(*) FROM children", &[]).await,
        before
    );
}

#[tokio::test]
async fn a_half_finished_sign_in_does_not_block_signing_in_again() {
    let (app, world) = world().await;
    let staff = world.person(Role::MunicipalStaff);
    // Password accepted, code page left open: the cookie of a half-open session remains.
    let first = page_login(&app, &staff.login, &staff.password).await;
    let cookie = first
        .header("set-cookie")
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(cookie.starts_with("tsunagu_session="));
    let again = app
        .request(
            Request::builder()
                .method(Method::POST)
                .uri("/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", &cookie)
                .header("sec-fetch-site", "same-origin")
                .body(Body::from(format!(
                    "login_id={}&password={}",
                    staff.login,
                    staff
                        .password
                        .replace('+', "%2B")
                        .replace('&', "%26")
                        .replace('=', "%3D")
                )))
                .unwrap(),
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    assert_eq!(again.header("location"), "/login/totp");
}

#[tokio::test]
async fn a_session_carries_every_membership_of_active_organisations_only() {
    let (app, world) = world().await;
    let staff = world.person(Role::MunicipalStaff);
    let session = world.sign_in(&app, staff).await;
    // A second membership (the nursery) and a third in an organisation since closed.
    for (org, role) in [
        ("nursery", "facility_staff"),
        ("consultation", "coordinator"),
    ] {
        sqlx::query(
            "INSERT INTO memberships (account_id, organisation_id, role, created_at) VALUES ($1, $2, $3, 0)",
        )
        .bind(staff.id.as_str())
        .bind(world.organisations[org].as_str())
        .bind(role)
        .execute(app.db.pool())
        .await
        .expect("membership");
    }
    sqlx::query("UPDATE organisations SET active = $1 WHERE id = $2")
        .bind(false)
        .bind(world.organisations["consultation"].as_str())
        .execute(app.db.pool())
        .await
        .expect("close");
    let me = app.get_as(&session, "/api/v1/me").await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    let mut roles: Vec<String> = me.json()["memberships"]
        .as_array()
        .expect("memberships")
        .iter()
        .map(|m| m["role"].as_str().expect("role").to_string())
        .collect();
    roles.sort();
    assert_eq!(roles, ["facility_staff", "municipal_staff"]);
}

/// Served over https, the session cookie carries the `__Host-` prefix, and a cookie of the
/// plain name (which another host of the domain could plant) is not a session.
#[tokio::test]
async fn over_https_the_session_cookie_is_host_prefixed_and_a_plain_one_is_ignored() {
    let settings = tsunagu::state::Settings {
        public_url: Some("https://tsunagu.example.lg.jp".into()),
        ..Default::default()
    };
    let clock = crate::support::manual_clock();
    let app = crate::support::app_with(clock.clone(), settings).await;
    let world = World::build(&app, clock).await;
    let person = world.person(Role::Guardian).clone();
    let res = try_sign_in(&app, &person.login, &person.password, None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let set = res.header("set-cookie").to_string();
    assert!(set.starts_with("__Host-tsunagu_session="), "{set}");
    assert!(set.contains("; Secure"), "{set}");
    let token = set
        .trim_start_matches("__Host-tsunagu_session=")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let me = |cookie: String| {
        app.request(
            Request::builder()
                .method(Method::GET)
                .uri("/api/v1/me")
                .header("cookie", cookie)
                .body(Body::empty())
                .unwrap(),
        )
    };
    assert_eq!(
        me(format!("tsunagu_session={token}")).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        me(format!("__Host-tsunagu_session={token}")).await.status,
        StatusCode::OK
    );
}
