//! The resource directory walked as its people use it: the demo nursery's staff update
//! their vacancies; 板橋区's staff search 「吸引」+「人工呼吸器」 and find the nursery; 山田
//! はると's record lists it as fitting with the reasons the others do not fit; the
//! transition board counts it; the public page shows it without the staff-only phone.

use fantoccini::Locator;

use crate::a11y::assert_axe_clean;
use crate::harness::{Env, assert_no_horizontal_scroll, screenshot, set_viewport};
use crate::registry::{click, open_haruto_as_staff, set_value, wait_for_text};
use crate::signin::sign_in;

const DESKTOP: u32 = 1280;
const PHONE: u32 = 360;

/// Screenshots at both widths, axe-clean, no sideways scroll on the phone.
async fn look(env: &Env, name: &str) {
    let c = env.client();
    assert_axe_clean(c, name).await;
    screenshot(c, name, DESKTOP).await;
    set_viewport(c, PHONE, 900).await;
    screenshot(c, name, PHONE).await;
    assert_no_horizontal_scroll(c, name).await;
    set_viewport(c, DESKTOP, 900).await;
}

#[tokio::test]
async fn a_facility_updates_its_vacancies_and_staff_families_and_the_board_find_it() {
    let env = Env::start_demo().await;
    let accounts = env.app.demo_accounts();
    let c = env.client();

    // The nursery's staff: their home says what to keep, their entry's form takes the
    // vacancies as of today.
    sign_in(&env, &accounts, "nursery.staff").await;
    let home = wait_for_text(&env, "the home page", "事業所の資源情報").await;
    assert!(home.contains("事業所の資源情報"), "{home}");
    env.goto("/directory/mine").await;
    wait_for_text(&env, "the facility's entries", "ひだまり保育園（架空）").await;
    look(&env, "directory-mine").await;
    click(&env, "td a[href$='/edit']").await;
    wait_for_text(&env, "the entry's form", "空き状況を更新する").await;
    look(&env, "directory-form").await;
    // A place is more than the places there are: refused beside the field.
    set_value(&env, "vac_3", "500").await;
    click(&env, "#vacancy-form button[type=submit]").await;
    let refused = wait_for_text(&env, "the refusal", "定員（90人）を超えています").await;
    assert!(refused.contains("保存していません"), "{refused}");
    set_value(&env, "vac_3", "1").await;
    click(&env, "#vacancy-form button[type=submit]").await;
    let saved = wait_for_text(&env, "the saved entry", "空き状況を保存しました").await;
    assert!(saved.contains("3歳児クラス 空き1人"), "{saved}");
    c.delete_all_cookies().await.expect("sign out");

    // 板橋区's staff search by care items and find it, with why.
    open_haruto_as_staff(&env, &accounts).await;
    env.goto("/directory").await;
    wait_for_text(&env, "the search", "資源を探す").await;
    click(&env, "input[name=care][value=suction]").await;
    click(&env, "input[name=care][value=ventilator]").await;
    click(&env, "form.search-form button[type=submit]").await;
    let found = wait_for_text(&env, "the results", "人工呼吸器・吸引に対応").await;
    assert!(found.contains("ひだまり保育園（架空）"), "{found}");
    assert!(
        !found.contains("上板橋保育園"),
        "it accepts neither: {found}"
    );
    look(&env, "directory-search").await;

    // 山田 はると's record: ひだまり fits (with a parent for the ventilator); the ward
    // nurseries do not, and say why.
    env.goto("/children").await;
    let record = c
        .find(Locator::LinkText("山田 はると"))
        .await
        .expect("はると")
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    env.goto(&format!("{record}/services")).await;
    let matches = wait_for_text(&env, "the matches", "合う資源").await;
    let (fitting, rest) = matches
        .split_once("合わない資源と、その理由")
        .expect("two parts");
    assert!(fitting.contains("ひだまり保育園（架空）"), "{fitting}");
    assert!(
        fitting.contains("人工呼吸器は保護者の付き添いがあれば対応"),
        "{fitting}"
    );
    assert!(rest.contains("人工呼吸器に対応していません"), "{rest}");
    look(&env, "child-matching").await;

    // The transition board counts the fitting places for はると's next step.
    env.goto("/children/transitions").await;
    let board = wait_for_text(&env, "the board", "移行ボード").await;
    assert!(board.contains("合う受け入れ先"), "{board}");
    c.delete_all_cookies().await.expect("sign out");

    // The public page, signed out: the nursery without its staff-only phone.
    env.goto("/public/directory?care=suction&care=ventilator")
        .await;
    let public = wait_for_text(&env, "the public search", "ひだまり保育園（架空）").await;
    assert!(!public.contains("03-0000-0000"), "{public}");
    look(&env, "directory-public").await;
    c.find(Locator::LinkText("ひだまり保育園（架空）"))
        .await
        .expect("the nursery's link")
        .click()
        .await
        .expect("open the nursery");
    let detail = wait_for_text(&env, "the public page", "受け入れている医療的ケア").await;
    assert!(!detail.contains("03-0000-0000"), "{detail}");
    assert!(detail.contains("3歳児クラス 空き1人"), "{detail}");
    look(&env, "directory-public-detail").await;
}

#[tokio::test]
async fn a_town_runs_its_survey_the_nursery_answers_and_the_gaps_show() {
    let env = Env::start_demo().await;
    let accounts = env.app.demo_accounts();
    let c = env.client();

    // The nursery is asked: its home page says so, the question leads to the answer form.
    sign_in(&env, &accounts, "nursery.staff").await;
    let home = wait_for_text(&env, "the home page", "資源調査への回答").await;
    assert!(home.contains("締切"), "{home}");
    env.goto("/directory/mine").await;
    wait_for_text(&env, "the questions", "資源調査への回答をお願いします").await;
    click(&env, "#questions a").await;
    wait_for_text(&env, "the answer form", "この内容で回答する").await;
    look(&env, "directory-survey-answer").await;
    // More places than the capacity: refused beside the field, nothing saved.
    set_value(&env, "capacity", "2").await;
    set_value(&env, "vac_3", "5").await;
    click(&env, "#answer-form button[type=submit]").await;
    let refused = wait_for_text(&env, "the refusal", "定員（2人）を超えています").await;
    assert!(refused.contains("回答は保存していません"), "{refused}");
    set_value(&env, "capacity", "90").await;
    set_value(&env, "vac_3", "1").await;
    click(&env, "#answer-form button[type=submit]").await;
    wait_for_text(&env, "the answered entry", "資源調査に回答しました").await;
    c.delete_all_cookies().await.expect("sign out");

    // The town follows its round and sees the gaps of its prefecture.
    sign_in(&env, &accounts, "itabashi.welfare").await;
    let home = wait_for_text(&env, "the home page", "資源調査「").await;
    assert!(home.contains("資源の不足と計画目標"), "{home}");
    env.goto("/directory/surveys").await;
    wait_for_text(&env, "the rounds", "受付中").await;
    look(&env, "directory-surveys").await;
    click(&env, "#rounds a").await;
    let round = wait_for_text(&env, "the round", "市区町村ごとの回答状況").await;
    assert!(round.contains("回答済み"), "{round}");
    look(&env, "directory-survey").await;
    env.goto("/directory/surveys/new").await;
    wait_for_text(&env, "the new round's form", "調査を始めて回答を依頼する").await;
    look(&env, "directory-survey-new").await;
    env.goto("/gaps").await;
    let gaps = wait_for_text(&env, "the gaps", "市区町村ごとの需要と受け皿").await;
    assert!(
        gaps.contains("板橋区") && gaps.contains("協議の場"),
        "{gaps}"
    );
    look(&env, "gaps").await;
    env.goto("/directory/import").await;
    wait_for_text(&env, "the import", "一括登録").await;
    look(&env, "directory-import").await;
}
