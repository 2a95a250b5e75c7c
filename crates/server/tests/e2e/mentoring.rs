//! The parent-mentor programme walked: a parent applies on the public page with a wish;
//! the office sees the mentors suggested for it and confirms one; the mentor finds the
//! consultation on their page.

use crate::a11y::assert_axe_clean;
use crate::harness::{Env, assert_no_horizontal_scroll, screenshot, set_viewport};
use crate::registry::{click, set_value, wait_for_text};
use crate::signin::sign_in;

async fn look(env: &Env, name: &str) {
    let c = env.client();
    assert_axe_clean(c, name).await;
    screenshot(c, name, 1280).await;
    set_viewport(c, 360, 900).await;
    screenshot(c, name, 360).await;
    assert_no_horizontal_scroll(c, name).await;
    set_viewport(c, 1280, 900).await;
}

#[tokio::test]
async fn a_parent_applies_the_office_confirms_and_the_mentor_sees_it() {
    let env = Env::start_demo().await;
    let accounts = env.app.demo_accounts();
    let c = env.client();

    env.goto("/public/mentoring").await;
    let page = wait_for_text(&env, "the programme page", "ペアレントメンターとは").await;
    assert!(
        page.contains("悩みや気持ちを聞いてもらうだけでも良いですか？"),
        "{page}"
    );
    assert!(page.contains("ひまわりさん"), "{page}");
    look(&env, "mentoring-public").await;
    set_value(&env, "name", "はるとママ").await;
    set_value(&env, "email", "mama@example.jp").await;
    set_value(&env, "municipality_code", "131199").await;
    click(&env, "input[name=raising]").await;
    click(&env, "input[name=work][value=on_leave]").await;
    click(&env, "input[name=topic_return_to_work]").await;
    click(&env, "input[name=care_ventilator]").await;
    // The first Monday morning the programme takes: ひまわり (the demo mentor with an
    // account, and a child on a ventilator like this family's) is free then.
    let today = tsunagu_core::clock::Clock::today_jst(&tsunagu_core::clock::SystemClock);
    let from = tsunagu_core::mentoring::earliest_day(&tsunagu_core::mentoring::TOKYO, today);
    let monday = tsunagu_core::mentoring::slots_between(
        &tsunagu_core::mentoring::TOKYO,
        from,
        from + chrono::Duration::days(14),
    )
    .into_iter()
    .find(|s| chrono::Datelike::weekday(&s.date) == chrono::Weekday::Mon && s.index == 0)
    .expect("a Monday")
    .key(&tsunagu_core::mentoring::TOKYO);
    set_value(&env, "wish_1", &monday).await;
    click(&env, "#apply-form button[type=submit]").await;
    let done = wait_for_text(&env, "the receipt", "受付番号").await;
    assert!(done.contains("お申し込みを受け付けました"), "{done}");
    look(&env, "mentoring-applied").await;
    let reference = c
        .find(fantoccini::Locator::Id("reference"))
        .await
        .expect("the reference")
        .text()
        .await
        .expect("its text");

    sign_in(&env, &accounts, "mentor.office").await;
    wait_for_text(&env, "the home page", "ペアレントメンターへの相談の申込").await;
    env.goto("/mentoring").await;
    wait_for_text(&env, "the inbox", &reference).await;
    look(&env, "mentoring-inbox").await;
    c.find(fantoccini::Locator::LinkText(&reference))
        .await
        .expect("the application's link")
        .click()
        .await
        .expect("open it");
    let application = wait_for_text(&env, "the application", "メンターの候補").await;
    assert!(application.contains("希望の日時のうち"), "{application}");
    look(&env, "mentoring-application").await;
    // The first suggestion free in the wish: its URL, then confirm.
    let url = c
        .find(fantoccini::Locator::Css(
            ".confirm-form input[name=meeting_url]",
        ))
        .await
        .expect("a mentor free in the wish");
    url.send_keys("https://meet.example.jp/e2e")
        .await
        .expect("type the URL");
    click(&env, ".confirm-form button[type=submit]").await;
    wait_for_text(&env, "the confirmation", "相談を確定しました").await;
    c.delete_all_cookies().await.expect("sign out");

    sign_in(&env, &accounts, "mentor").await;
    env.goto("/mentoring/me").await;
    let me = wait_for_text(&env, "the mentor's page", "これからの相談").await;
    assert!(me.contains("オンライン相談に入る"), "{me}");
    look(&env, "mentoring-me").await;
}
