//! Signing in as a person would: password, then the code from the authenticator app, then
//! the pages that role may see; and the break-glass a municipal worker uses in an emergency.

use std::time::Duration;

use fantoccini::Locator;
use serde_json::Value;

use crate::a11y::assert_axe_clean;
use crate::harness::{Env, js_string, poll, screenshot, set_viewport};

const DESKTOP: u32 = 1280;
const PHONE: u32 = 360;

pub(crate) fn account<'a>(accounts: &'a [Value], login: &str) -> &'a Value {
    accounts
        .iter()
        .find(|a| a["login"] == login)
        .unwrap_or_else(|| panic!("demo account {login} missing"))
}

/// Types into a field found by id.
pub(crate) async fn fill(env: &Env, id: &str, text: &str) {
    let field = env
        .client()
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("field #{id}: {e}"));
    field.clear().await.ok();
    field
        .send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("type into #{id}: {e}"));
}

pub(crate) async fn submit(env: &Env) {
    env.client()
        .find(Locator::Css("main form button[type=submit]"))
        .await
        .expect("a submit button in the main form")
        .click()
        .await
        .expect("click submit");
}

pub(crate) async fn body_text(env: &Env) -> String {
    js_string(env.client(), "return document.body.innerText;").await
}

/// Password, then a TOTP code computed from the demo secret. A second sign-in of the same
/// person within 30 s must use the next step's code: a used step is refused (replay).
pub(crate) async fn sign_in(env: &Env, accounts: &[Value], login: &str) {
    sign_in_at_step(env, accounts, login, 0).await;
}

pub(crate) async fn sign_in_at_step(env: &Env, accounts: &[Value], login: &str, steps_ahead: i64) {
    let person = account(accounts, login);
    env.goto("/login").await;
    fill(env, "login_id", login).await;
    fill(
        env,
        "password",
        person["password"].as_str().expect("password"),
    )
    .await;
    submit(env).await;
    // Generous: checking a password (Argon2) takes its time when the browser tests run side
    // by side on two cores.
    poll(
        Duration::from_secs(15),
        "the code page after the password",
        || async {
            let text = body_text(env).await;
            if text.contains("確認コードの入力") {
                Ok(())
            } else {
                Err(text)
            }
        },
    )
    .await;
    let secret = person["totp_secret"]
        .as_str()
        .expect("staff have a TOTP secret");
    let code = tsunagu::auth::totp::current_code(
        secret,
        // The served binary runs on the real clock.
        tsunagu_core::clock::Clock::now(&tsunagu_core::clock::SystemClock)
            + chrono::Duration::seconds(30 * steps_ahead),
    )
    .expect("a code");
    fill(env, "code", &code).await;
    submit(env).await;
    poll(
        Duration::from_secs(15),
        "マイページ after the code",
        || async {
            let text = body_text(env).await;
            if text.contains("マイページ") && text.contains("所属と役割") {
                Ok(())
            } else {
                Err(text)
            }
        },
    )
    .await;
}

#[tokio::test]
async fn staff_sign_in_with_a_code_and_see_only_their_town() {
    let env = Env::start_demo().await;
    let accounts = env.app.demo_accounts();
    let c = env.client();

    // A wrong password first: a Japanese message, nothing else.
    env.goto("/login").await;
    fill(&env, "login_id", "itabashi.welfare").await;
    fill(&env, "password", "wrong-password-1").await;
    submit(&env).await;
    poll(
        Duration::from_secs(15),
        "the sign-in error message",
        || async {
            let text = body_text(&env).await;
            if text.contains("ログインIDまたはパスワード") {
                Ok(())
            } else {
                Err(text)
            }
        },
    )
    .await;
    assert_axe_clean(c, "/login with an error").await;
    screenshot(c, "login-error", DESKTOP).await;

    sign_in(&env, &accounts, "itabashi.welfare").await;
    assert_axe_clean(c, "/home").await;
    screenshot(c, "home", DESKTOP).await;

    env.goto("/children").await;
    let list = body_text(&env).await;
    assert!(
        list.contains("山田 はると") && list.contains("佐藤 ゆい"),
        "{list}"
    );
    assert!(
        !list.contains("高橋 めい"),
        "a child of 練馬区 must not be listed: {list}"
    );
    assert_axe_clean(c, "/children").await;
    screenshot(c, "children", DESKTOP).await;
    set_viewport(c, PHONE, 900).await;
    screenshot(c, "children", PHONE).await;
    set_viewport(c, DESKTOP, 900).await;

    env.close().await;
}

#[tokio::test]
async fn break_glass_opens_another_towns_record_and_the_owner_sees_it() {
    let env = Env::start_demo().await;
    let accounts = env.app.demo_accounts();
    let c = env.client();

    // The 練馬区 child's id, as its own staff see it.
    sign_in(&env, &accounts, "nerima.welfare").await;
    env.goto("/children").await;
    let href = c
        .find(Locator::LinkText("高橋 めい"))
        .await
        .expect("練馬区 staff see their child")
        .attr("href")
        .await
        .expect("href")
        .expect("a link");
    c.delete_all_cookies()
        .await
        .expect("sign out by dropping the cookie");

    // 板橋区 staff: refused (404), then break-glass with a reason.
    sign_in(&env, &accounts, "itabashi.welfare").await;
    env.goto(&href).await;
    let refused = body_text(&env).await;
    assert!(refused.contains("記録を表示できません"), "{refused}");
    assert_axe_clean(c, "refused record with break-glass form").await;
    screenshot(c, "break-glass-offer", DESKTOP).await;
    fill(
        &env,
        "reason",
        "災害時の安否確認のため、避難所からの問い合わせに対応",
    )
    .await;
    submit(&env).await;
    poll(
        Duration::from_secs(15),
        "the record after break-glass",
        || async {
            let text = body_text(&env).await;
            if text.contains("高橋 めい") && text.contains("緊急閲覧") {
                Ok(())
            } else {
                Err(text)
            }
        },
    )
    .await;
    screenshot(c, "break-glass-record", DESKTOP).await;
    c.delete_all_cookies().await.expect("sign out");

    // The owner organisation sees the grant with its reason.
    sign_in_at_step(&env, &accounts, "nerima.welfare", 1).await;
    env.goto("/break-glass").await;
    let review = body_text(&env).await;
    assert!(
        review.contains("避難所からの問い合わせ") && review.contains("板橋 福子"),
        "{review}"
    );
    assert_axe_clean(c, "/break-glass").await;
    screenshot(c, "break-glass-review", DESKTOP).await;

    env.close().await;
}
