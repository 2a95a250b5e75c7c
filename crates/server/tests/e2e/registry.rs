//! The registry walked as its people use it: staff register a child with care items and see
//! the score; import a file with one bad row (nothing imported), fix it and import; export a
//! Shift_JIS CSV; the family withdraws the 保育 consent, the 保育 department can no longer
//! open the record, and the family sees that department's earlier access in the history.

use std::time::Duration;

use fantoccini::Locator;

use crate::a11y::assert_axe_clean;
use crate::harness::{Env, js, js_string, poll, screenshot, set_viewport};
use crate::signin::{body_text, fill, sign_in, sign_in_at_step, submit};

const DESKTOP: u32 = 1280;
const PHONE: u32 = 360;

/// Waits until the page's text contains `needle` (generously: the browser tests run side by
/// side on two cores, a PDF print among them).
pub(crate) async fn wait_for_text(env: &Env, what: &str, needle: &str) -> String {
    poll(Duration::from_secs(20), what, || async {
        let text = body_text(env).await;
        if text.contains(needle) {
            Ok(text)
        } else {
            Err(text)
        }
    })
    .await
}

/// Sets a form control's value directly (date inputs and selects ignore typed text).
pub(crate) async fn set_value(env: &Env, id: &str, value: &str) {
    js(
        env.client(),
        &format!(
            "const e = document.getElementById({id:?}); e.value = {value:?}; \
             e.dispatchEvent(new Event('change', {{bubbles: true}})); return true;"
        ),
    )
    .await;
}

pub(crate) async fn click(env: &Env, css: &str) {
    env.client()
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// The href of the link with this text on the current page.
pub(crate) async fn link_to(env: &Env, text: &str) -> String {
    env.client()
        .find(Locator::LinkText(text))
        .await
        .unwrap_or_else(|e| panic!("link {text}: {e}"))
        .attr("href")
        .await
        .expect("href")
        .expect("a link")
}

/// A guardian signs in with the password alone (no second factor is required of families).
/// 板橋区's welfare staff sign in and open 山田 はると's record; its address.
pub(crate) async fn open_haruto_as_staff(env: &Env, accounts: &[serde_json::Value]) -> String {
    sign_in(env, accounts, "itabashi.welfare").await;
    env.goto("/children").await;
    let record = link_to(env, "山田 はると").await;
    env.goto(&record).await;
    wait_for_text(env, "the record", "判定スコア").await;
    record
}

async fn sign_in_family(env: &Env, accounts: &[serde_json::Value], login: &str) {
    let person = crate::signin::account(accounts, login);
    if person["totp_secret"].is_string() {
        return sign_in(env, accounts, login).await;
    }
    env.goto("/login").await;
    fill(env, "login_id", login).await;
    fill(
        env,
        "password",
        person["password"].as_str().expect("password"),
    )
    .await;
    submit(env).await;
    wait_for_text(env, "マイページ after the password", "マイページ").await;
}

#[tokio::test]
async fn staff_register_import_and_export_then_the_family_withdraws_a_consent() {
    let env = Env::start_demo().await;
    let accounts = env.app.demo_accounts();
    let c = env.client();

    // Staff register a child with care items and see the computed score and tier.
    sign_in(&env, &accounts, "itabashi.welfare").await;
    env.goto("/children/new").await;
    fill(&env, "name", "登録 つばさ").await;
    fill(&env, "kana", "とうろく つばさ").await;
    set_value(&env, "birth_date", "2023-05-05").await;
    set_value(&env, "sex", "male").await;
    for item in ["ventilator", "tracheostomy", "suction", "tube_feeding"] {
        click(&env, &format!("#care_{item}")).await;
        if item != "tracheostomy" {
            set_value(&env, &format!("watch_{item}"), "high").await;
        }
    }
    set_value(&env, "d0_kind", "ventilator").await;
    fill(&env, "d0_power_watts", "45").await;
    fill(&env, "d0_battery_internal_hours", "4.5").await;
    assert_axe_clean(c, "/children/new filled in").await;
    screenshot(c, "child-new", DESKTOP).await;
    // A date in the future is named beside its field; what was typed stays in the form.
    set_value(&env, "intake_date", "2099-01-01").await;
    submit(&env).await;
    let refused = wait_for_text(&env, "the form's problems", "入力内容を確認してください").await;
    assert!(
        refused.contains("把握した日が未来の日付になっています"),
        "{refused}"
    );
    let beside = js_string(
        c,
        "return document.getElementById('intake_date-error')?.textContent ?? ''",
    )
    .await;
    assert!(beside.contains("未来の日付"), "{beside}");
    assert_axe_clean(c, "/children/new with a problem").await;
    screenshot(c, "child-new-problem", DESKTOP).await;
    set_viewport(c, PHONE, 900).await;
    screenshot(c, "child-new-problem", PHONE).await;
    set_viewport(c, DESKTOP, 900).await;
    set_value(&env, "intake_date", "2024-01-10").await;
    submit(&env).await;
    let profile = wait_for_text(&env, "the new child's profile", "判定スコア").await;
    assert!(profile.contains("39点"), "{profile}");
    assert!(profile.contains("32点以上"), "{profile}");
    assert!(profile.contains("4.5時間"), "{profile}");
    assert_axe_clean(c, "child profile").await;
    screenshot(c, "child-profile", DESKTOP).await;
    set_viewport(c, PHONE, 900).await;
    screenshot(c, "child-profile", PHONE).await;
    set_viewport(c, DESKTOP, 900).await;

    // Import a file with one bad row: that row's problem is shown and nothing is imported.
    let folder = tempfile::tempdir().expect("a folder for the files");
    let bad = folder.path().join("children-bad.csv");
    let good = folder.path().join("children.csv");
    let header = "氏名,ふりがな,生年月日,性別,団体コード,医療的ケア\n";
    std::fs::write(
        &bad,
        format!(
            "{header}取込 いちか,とりこみ いちか,2021-07-07,女,131199,経管栄養(低)\n\
             取込 にこ,とりこみ にこ,2021-02-30,男,131199,酸素療法(高)\n"
        ),
    )
    .expect("write the bad file");
    std::fs::write(
        &good,
        format!(
            "{header}取込 いちか,とりこみ いちか,2021-07-07,女,131199,経管栄養(低)\n\
             取込 にこ,とりこみ にこ,2021-02-28,男,131199,酸素療法(高)\n"
        ),
    )
    .expect("write the fixed file");
    for (file, expect_problem) in [(&bad, true), (&good, false)] {
        env.goto("/children/import").await;
        c.find(Locator::Id("import-file"))
            .await
            .expect("the file field")
            .send_keys(&file.display().to_string())
            .await
            .expect("choose the file");
        submit(&env).await;
        wait_for_text(&env, "the column mapping", "取り込む列の対応付け").await;
        if expect_problem {
            assert_axe_clean(c, "import mapping").await;
            screenshot(c, "import-mapping", DESKTOP).await;
        }
        submit(&env).await;
        let check = wait_for_text(&env, "the dry run", "試し読み").await;
        if expect_problem {
            assert!(check.contains("3行目"), "{check}");
            assert!(check.contains("2021-02-30"), "{check}");
            assert!(
                check.contains("どの行も登録しません") || check.contains("取り込めません"),
                "{check}"
            );
            assert_axe_clean(c, "import dry run with a problem").await;
            screenshot(c, "import-problem", DESKTOP).await;
            env.goto("/children?q=%E3%81%A8%E3%82%8A%E3%81%93%E3%81%BF")
                .await;
            let list = body_text(&env).await;
            assert!(!list.contains("取込 いちか"), "nothing imported: {list}");
        } else {
            click(
                &env,
                "#import-commit button[type=submit], form[action$='/commit'] button[type=submit]",
            )
            .await;
            wait_for_text(&env, "the import result", "取込 にこ").await;
            screenshot(c, "import-done", DESKTOP).await;
        }
    }
    env.goto("/children?q=%E3%81%A8%E3%82%8A%E3%81%93%E3%81%BF")
        .await;
    let list = body_text(&env).await;
    assert!(
        list.contains("取込 いちか") && list.contains("取込 にこ"),
        "{list}"
    );

    // The same file, one care level corrected, sent back: the registered rows are offered
    // as updates, each change shown beside the record's value before anything is written.
    let corrected = folder.path().join("children-corrected.csv");
    std::fs::write(
        &corrected,
        format!(
            "{header}取込 いちか,とりこみ いちか,2021-07-07,女,131199,経管栄養(低)\n\
             取込 にこ,とりこみ にこ,2021-02-28,男,131199,酸素療法(低)\n"
        ),
    )
    .expect("write the corrected file");
    env.goto("/children/import").await;
    c.find(Locator::Id("import-file"))
        .await
        .expect("the file field")
        .send_keys(&corrected.display().to_string())
        .await
        .expect("choose the file");
    submit(&env).await;
    wait_for_text(&env, "the column mapping", "取り込む列の対応付け").await;
    submit(&env).await;
    wait_for_text(&env, "the registered rows", "ファイルの内容で更新する").await;
    click(&env, "button[name=registered][value=update]").await;
    let check = wait_for_text(&env, "the updates", "更新 1件").await;
    assert!(check.contains("ファイルの内容と同じなので"), "{check}");
    assert_axe_clean(c, "import updates").await;
    screenshot(c, "import-update", DESKTOP).await;
    set_viewport(c, PHONE, 900).await;
    screenshot(c, "import-update", PHONE).await;
    crate::harness::assert_no_horizontal_scroll(c, "import updates").await;
    set_viewport(c, DESKTOP, 900).await;
    click(&env, "form[action$='/commit'] button[type=submit]").await;
    let done = wait_for_text(&env, "the update result", "記録を更新しました").await;
    assert!(done.contains("更新: 医療的ケア"), "{done}");

    // Export the list as Shift_JIS: the bytes decode back to the names.
    env.goto("/children").await;
    let decoded = js_string(
        c,
        "return fetch('/children/export.csv?encoding=cp932')\
           .then(r => r.arrayBuffer())\
           .then(b => new TextDecoder('shift_jis').decode(b));",
    )
    .await;
    assert!(decoded.contains("登録 つばさ"), "{decoded}");
    assert!(decoded.contains("山田 はると"), "{decoded}");
    assert_axe_clean(c, "/children with filters").await;
    screenshot(c, "children-filters", DESKTOP).await;
    set_viewport(c, PHONE, 900).await;
    screenshot(c, "children-filters", PHONE).await;
    set_viewport(c, DESKTOP, 900).await;
    env.goto("/children/transitions").await;
    wait_for_text(&env, "the transition board", "移行ボード").await;
    assert_axe_clean(c, "/children/transitions").await;
    screenshot(c, "transition-board", DESKTOP).await;
    c.delete_all_cookies().await.expect("sign out");

    // The 保育 department opens 山田 はると's record while the family consents.
    sign_in(&env, &accounts, "itabashi.childcare").await;
    env.goto("/children").await;
    let record = link_to(&env, "山田 はると").await;
    env.goto(&record).await;
    wait_for_text(&env, "the record as 保育 sees it", "判定スコア").await;
    c.delete_all_cookies().await.expect("sign out");

    // The family withdraws the 保育 consent.
    sign_in_family(&env, &accounts, "guardian").await;
    env.goto(&format!("{record}/consents")).await;
    wait_for_text(&env, "the consents page", "同意の記録").await;
    assert_axe_clean(c, "consents page").await;
    screenshot(c, "consents", DESKTOP).await;
    click(
        &env,
        "button[aria-label='市区町村の担当課との共有（保育課）の同意を撤回する']",
    )
    .await;
    wait_for_text(&env, "the withdrawal notice", "同意を撤回しました").await;
    c.delete_all_cookies().await.expect("sign out");

    // 保育 can no longer open it, nor find it in the list.
    sign_in_at_step(&env, &accounts, "itabashi.childcare", 1).await;
    env.goto(&record).await;
    wait_for_text(&env, "the refusal", "記録を表示できません").await;
    env.goto("/children").await;
    let list = body_text(&env).await;
    assert!(!list.contains("山田 はると"), "{list}");
    c.delete_all_cookies().await.expect("sign out");

    // The family sees 保育's earlier access in the history.
    sign_in_family(&env, &accounts, "guardian").await;
    env.goto(&format!("{record}/access-log")).await;
    let history = wait_for_text(&env, "the access history", "閲覧履歴").await;
    assert!(history.contains("保育"), "{history}");
    assert_axe_clean(c, "access history").await;
    screenshot(c, "access-history", DESKTOP).await;
    set_viewport(c, PHONE, 900).await;
    screenshot(c, "access-history", PHONE).await;

    env.close().await;
}

/// The record's facts as the page shows them (basic, medical, care and device sections).
async fn record_facts(env: &Env) -> String {
    js_string(
        env.client(),
        "return ['basic-title','medical-title','care-title','devices-title']\
           .map(id => document.getElementById(id).closest('section').innerText).join('\\n');",
    )
    .await
}

#[tokio::test]
async fn a_family_proposal_changes_only_its_field_and_an_outdated_one_is_chosen_side_by_side() {
    let env = Env::start_demo().await;
    let accounts = env.app.demo_accounts();
    let c = env.client();

    // Staff note the record as it is.
    let record = open_haruto_as_staff(&env, &accounts).await;
    let before = record_facts(&env).await;
    c.delete_all_cookies().await.expect("sign out");

    // The family proposes a new address only.
    sign_in_family(&env, &accounts, "guardian").await;
    env.goto(&format!("{record}/proposals/new")).await;
    wait_for_text(&env, "the proposal form", "変更を申し出る").await;
    fill(&env, "address", "板橋区大山町9-9").await;
    submit(&env).await;
    wait_for_text(&env, "the proposal sent", "変更の申出を送りました").await;
    c.delete_all_cookies().await.expect("sign out");

    // Staff change the same address meanwhile (the family also phoned).
    sign_in_at_step(&env, &accounts, "itabashi.welfare", 1).await;
    env.goto(&format!("{record}/edit")).await;
    wait_for_text(&env, "the edit form", "住所").await;
    fill(&env, "address", "板橋区成増5-5").await;
    submit(&env).await;
    wait_for_text(&env, "the saved record", "保存しました").await;
    env.goto(&record).await;
    let page = wait_for_text(
        &env,
        "the side-by-side choice",
        "この申出のあと、記録が更新されています",
    )
    .await;
    for shown in ["申出時の値", "いまの値", "板橋区大山町9-9", "板橋区成増5-5"]
    {
        assert!(page.contains(shown), "{shown}: {page}");
    }
    assert_axe_clean(c, "a record with an outdated proposal").await;
    js(
        c,
        "document.querySelector('#proposals-title').scrollIntoView(); return true;",
    )
    .await;
    screenshot(c, "proposal-side-by-side", DESKTOP).await;
    set_viewport(c, PHONE, 900).await;
    screenshot(c, "proposal-side-by-side", PHONE).await;
    set_viewport(c, DESKTOP, 900).await;

    // Staff choose the family's address and accept.
    js(
        c,
        "const card = [...document.querySelectorAll('.proposal')]\
           .find(p => p.textContent.includes('板橋区大山町9-9'));\
         card.querySelector('input[name=choose_address][value=proposal]').click();\
         card.querySelector('button[value=accept]').click(); return true;",
    )
    .await;
    wait_for_text(
        &env,
        "the accepted proposal",
        "申出を確認し、記録に反映しました",
    )
    .await;
    let after = record_facts(&env).await;
    // Everything but the address reads exactly as before.
    let strip = |text: &str| {
        text.lines()
            .filter(|l| !l.contains("板橋区"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&before), strip(&after));
    assert!(after.contains("板橋区大山町9-9"), "{after}");
    env.close().await;
}

#[tokio::test]
async fn staff_make_a_familys_account_and_the_family_sees_their_child() {
    let env = Env::start_demo().await;
    let accounts = env.app.demo_accounts();
    let c = env.client();

    // Staff register a child with the mother as guardian.
    sign_in(&env, &accounts, "itabashi.welfare").await;
    env.goto("/children/new").await;
    fill(&env, "name", "連携 ひなた").await;
    fill(&env, "kana", "れんけい ひなた").await;
    set_value(&env, "birth_date", "2022-02-02").await;
    set_value(&env, "sex", "female").await;
    fill(&env, "g0_name", "連携 まい").await;
    fill(&env, "g0_kana", "れんけい まい").await;
    fill(&env, "g0_relation", "母").await;
    submit(&env).await;
    wait_for_text(&env, "the registered child", "登録しました").await;
    let record = js_string(c, "return location.pathname;").await;
    click(&env, &format!("a[href='{record}/guardians']")).await;
    wait_for_text(
        &env,
        "the family accounts page",
        "記録の保護者のアカウントを作る",
    )
    .await;
    assert_axe_clean(c, "family accounts").await;
    screenshot(c, "guardian-accounts", DESKTOP).await;
    set_viewport(c, PHONE, 900).await;
    screenshot(c, "guardian-accounts", PHONE).await;
    set_viewport(c, DESKTOP, 900).await;
    fill(&env, "login_id", "renkei.mai").await;
    click(&env, "form[action$='/guardians'] button[type=submit]").await;
    wait_for_text(
        &env,
        "the initial password",
        "ご家族のアカウントを作成しました",
    )
    .await;
    let initial = js_string(
        c,
        "return document.getElementById('initial-password').textContent.trim();",
    )
    .await;
    screenshot(c, "guardian-created", DESKTOP).await;
    env.goto(&record).await;
    let page = wait_for_text(
        &env,
        "the record with its family account",
        "ご家族のアカウント",
    )
    .await;
    assert!(page.contains("連携 まい（母）"), "{page}");
    c.delete_all_cookies().await.expect("sign out");

    // The mother signs in, chooses her own password and finds her child.
    env.goto("/login").await;
    fill(&env, "login_id", "renkei.mai").await;
    fill(&env, "password", &initial).await;
    submit(&env).await;
    wait_for_text(&env, "the password change", "新しいパスワード").await;
    fill(&env, "current_password", &initial).await;
    fill(&env, "new_password", "hinata-no-haha-2026").await;
    fill(&env, "confirm_password", "hinata-no-haha-2026").await;
    submit(&env).await;
    let home = wait_for_text(&env, "the family's home", "マイページ").await;
    assert!(home.contains("連携 ひなた"), "{home}");
    assert!(
        !home.contains("障害サービス課"),
        "a family belongs to no office: {home}"
    );
    env.goto(&record).await;
    wait_for_text(
        &env,
        "the child's record as the family sees it",
        "判定スコア",
    )
    .await;
    env.close().await;
}

#[tokio::test]
async fn the_family_is_told_when_their_childs_record_is_opened_by_break_glass() {
    let env = Env::start_demo().await;
    let accounts = env.app.demo_accounts();
    let c = env.client();

    sign_in_family(&env, &accounts, "guardian").await;
    let record = link_to(&env, "山田 はると").await;
    c.delete_all_cookies().await.expect("sign out");

    // 練馬区 staff open the 板橋区 child's record by break-glass, with a reason.
    sign_in(&env, &accounts, "nerima.welfare").await;
    env.goto(&record).await;
    wait_for_text(
        &env,
        "the refusal with the break-glass offer",
        "記録を表示できません",
    )
    .await;
    fill(
        &env,
        "reason",
        "転入の相談で、前住所地での医療的ケアの内容を確認するため",
    )
    .await;
    submit(&env).await;
    // The record itself (the offer page before it says 緊急閲覧 too).
    wait_for_text(
        &env,
        "the record opened by break-glass",
        "緊急閲覧（ブレークグラス）で表示しています",
    )
    .await;
    c.delete_all_cookies().await.expect("sign out");

    // The family sees the count in the header and the notice with who and why.
    sign_in_family(&env, &accounts, "guardian").await;
    let badge = js_string(
        c,
        "return document.querySelector('.notices-link .badge')?.textContent ?? '';",
    )
    .await;
    assert_eq!(badge.trim(), "1");
    env.goto("/notices").await;
    let notices = wait_for_text(&env, "the notices", "緊急閲覧（ブレークグラス）").await;
    assert!(notices.contains("前住所地での医療的ケア"), "{notices}");
    assert!(notices.contains("練馬区"), "{notices}");
    assert_axe_clean(c, "/notices").await;
    screenshot(c, "notices", DESKTOP).await;
    set_viewport(c, PHONE, 900).await;
    screenshot(c, "notices", PHONE).await;
    set_viewport(c, DESKTOP, 900).await;
    click(&env, "#notices a").await;
    wait_for_text(&env, "the access history from the notice", "閲覧履歴").await;
    env.close().await;
}

#[tokio::test]
async fn childcare_registering_a_child_welfare_has_is_offered_to_ask_for_sharing() {
    let env = Env::start_demo().await;
    let accounts = env.app.demo_accounts();
    let c = env.client();
    let fill_child = async || {
        env.goto("/children/new").await;
        fill(&env, "name", "重複 はな").await;
        fill(&env, "kana", "ちょうふく はな").await;
        set_value(&env, "birth_date", "2022-08-08").await;
        set_value(&env, "sex", "female").await;
    };

    // 障害福祉 registers the child (no consent to 保育 yet).
    sign_in(&env, &accounts, "itabashi.welfare").await;
    fill_child().await;
    submit(&env).await;
    wait_for_text(&env, "the registered child", "登録しました").await;
    c.delete_all_cookies().await.expect("sign out");

    // 保育 registers the same child: told it exists and whose, not what it holds.
    sign_in(&env, &accounts, "itabashi.childcare").await;
    fill_child().await;
    fill(&env, "diagnoses", "保育で聞き取った内容").await;
    submit(&env).await;
    let warned = wait_for_text(
        &env,
        "the duplicate warning",
        "すでに登録されている可能性があります",
    )
    .await;
    assert!(warned.contains("内容は表示できません"), "{warned}");
    assert_axe_clean(c, "registration with a possible duplicate").await;
    js(
        c,
        "document.getElementById('duplicate').scrollIntoView(); return true;",
    )
    .await;
    screenshot(c, "child-duplicate", DESKTOP).await;
    set_viewport(c, PHONE, 900).await;
    screenshot(c, "child-duplicate", PHONE).await;
    set_viewport(c, DESKTOP, 900).await;
    fill(&env, "access_message", "入園の相談がありました").await;
    click(&env, "button[formaction='/children/access-requests']").await;
    wait_for_text(&env, "the request sent", "共有の依頼を伝えました").await;
    // And keeps a record of its own anyway, with a reason (the town reviews the pair).
    fill_child().await;
    submit(&env).await;
    wait_for_text(
        &env,
        "the warning again",
        "すでに登録されている可能性があります",
    )
    .await;
    fill(
        &env,
        "duplicate_reason",
        "保育の入園申込みで把握した記録として残します",
    )
    .await;
    click(&env, "#duplicate button:not([formaction])").await;
    wait_for_text(&env, "registered anyway", "登録しました").await;
    c.delete_all_cookies().await.expect("sign out");

    // 障害福祉 finds the request in its notices, leading to the child's consents.
    sign_in_at_step(&env, &accounts, "itabashi.welfare", 1).await;
    env.goto("/notices").await;
    let notices = wait_for_text(&env, "the request among the notices", "共有の依頼").await;
    assert!(notices.contains("入園の相談がありました"), "{notices}");
    c.find(Locator::XPath(
        "//*[@id='notices']//a[contains(., '記録の共有を依頼しています')]",
    ))
    .await
    .expect("the request's notice")
    .click()
    .await
    .expect("open the notice");
    wait_for_text(&env, "the consents of the child", "同意").await;

    // 障害福祉 finds the pair on its home page and merges the two into its own record.
    env.goto("/home").await;
    wait_for_text(&env, "the pair on the home page", "重複の可能性がある記録").await;
    click(&env, "a[href='/children/duplicates']").await;
    let review = wait_for_text(&env, "the review", "貴課の記録に統合する").await;
    assert!(review.contains("保育"), "{review}");
    assert_axe_clean(c, "/children/duplicates").await;
    screenshot(c, "duplicates", DESKTOP).await;
    set_viewport(c, PHONE, 900).await;
    screenshot(c, "duplicates", PHONE).await;
    crate::harness::assert_no_horizontal_scroll(c, "/children/duplicates").await;
    set_viewport(c, DESKTOP, 900).await;
    c.find(Locator::Css(".duplicate-pair textarea"))
        .await
        .expect("the reason")
        .send_keys("保護者の氏名と住所が同じで、同じ児童と確認しました")
        .await
        .expect("type the reason");
    click(&env, ".duplicate-pair button[type=submit]").await;
    // A merge cannot be undone: the page asks first.
    let question = c.get_alert_text().await.expect("the confirmation");
    assert!(question.contains("元に戻せません"), "{question}");
    c.accept_alert().await.expect("confirm");
    wait_for_text(&env, "the merged record", "2つの記録を1つに統合しました").await;
    env.close().await;
}

#[tokio::test]
async fn a_shift_jis_export_offers_geta_for_what_shift_jis_lacks() {
    let env = Env::start_demo().await;
    let accounts = env.app.demo_accounts();
    let c = env.client();
    sign_in(&env, &accounts, "itabashi.welfare").await;
    env.goto("/children/new").await;
    fill(&env, "name", "𠮷田 みらい").await;
    fill(&env, "kana", "よしだ みらい").await;
    set_value(&env, "birth_date", "2021-04-04").await;
    set_value(&env, "sex", "female").await;
    submit(&env).await;
    wait_for_text(&env, "the registered child", "登録しました").await;
    env.goto("/children/export.csv?encoding=cp932").await;
    let choice = wait_for_text(&env, "the choice", "Shift_JISで表せない文字があります").await;
    assert!(choice.contains("「𠮷田 みらい」さん"), "{choice}");
    assert!(choice.contains("U+20BB7"), "{choice}");
    assert_axe_clean(c, "the Shift_JIS choice").await;
    screenshot(c, "export-cp932-choice", DESKTOP).await;
    set_viewport(c, PHONE, 900).await;
    screenshot(c, "export-cp932-choice", PHONE).await;
    set_viewport(c, DESKTOP, 900).await;
    let href = c
        .find(fantoccini::Locator::LinkText(
            "〓（げた）に置き換えて Shift_JIS で出力する",
        ))
        .await
        .expect("the げた link")
        .attr("href")
        .await
        .expect("href")
        .expect("a link");
    let decoded = js_string(
        c,
        &format!(
            "return fetch({href:?}).then(r => r.arrayBuffer())\
               .then(b => new TextDecoder('shift_jis').decode(b));"
        ),
    )
    .await;
    assert!(decoded.contains("〓田 みらい"), "{decoded}");
    assert!(decoded.contains("山田 はると"), "{decoded}");
    env.close().await;
}

/// The pages of a printed PDF as text (poppler's pdftotext; pages end with a form feed).
fn pdf_pages(pdf: &[u8], name: &str) -> Vec<String> {
    let path = crate::harness::screenshot_dir().join(format!("{name}.pdf"));
    std::fs::write(&path, pdf).expect("write the pdf");
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .split('\u{c}')
        .filter(|page| !page.trim().is_empty())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn every_printed_page_of_a_profile_names_the_child_and_its_handling() {
    use fantoccini::wd::{PrintConfiguration, PrintSize};
    let env = Env::start_demo().await;
    let accounts = env.app.demo_accounts();
    let c = env.client();
    open_haruto_as_staff(&env, &accounts).await;
    // On A4 as offices print it the record takes two sheets: each carries the child's
    // name, 「取扱注意」 and its page number.
    let config = PrintConfiguration::builder()
        .size(PrintSize::A4)
        .build()
        .expect("print configuration");
    let pages = pdf_pages(
        &c.print(config).await.expect("print the page"),
        "profile-print-a4",
    );
    assert!(pages.len() >= 2, "{} pages", pages.len());
    for (i, page) in pages.iter().enumerate() {
        assert!(page.contains("山田 はると"), "page {}: {page}", i + 1);
        assert!(page.contains("取扱注意"), "page {}: {page}", i + 1);
        let number = format!("{} / {} ページ", i + 1, pages.len());
        assert!(page.contains(&number), "page {}: {page}", i + 1);
    }
    // The transition board prints with its title, what it covers and the day.
    env.goto("/children/transitions").await;
    wait_for_text(&env, "the board", "移行ボード").await;
    let config = PrintConfiguration::builder().build().expect("A4");
    let board = pdf_pages(&c.print(config).await.expect("print"), "board-print-a4");
    assert!(board[0].contains("移行ボード"), "{}", board[0]);
    assert!(
        board[0].contains("担当範囲のすべての市区町村"),
        "{}",
        board[0]
    );
    assert!(board[0].contains("印刷日"), "{}", board[0]);
    env.close().await;
}
