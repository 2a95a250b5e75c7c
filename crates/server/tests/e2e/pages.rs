//! The application's pages in a real browser: structure, accessibility (axe-core), phone
//! width, live search through htmx, Japanese rendering. Screenshots go to `target/e2e/`.

use std::time::Duration;

use fantoccini::Locator;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use serde_json::Value;

use crate::a11y::assert_axe_clean;
use crate::harness::{
    Env, assert_japanese_glyphs, assert_no_horizontal_scroll, font_available, js, js_bool,
    js_string, poll, screenshot, set_viewport,
};

/// Phone width the layout must fit without sideways scrolling.
const PHONE: u32 = 360;
const DESKTOP: u32 = 1280;

fn tab_key() -> KeyActions {
    let tab = Key::Tab.chars().next().expect("Key::Tab is one code point");
    KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: tab })
        .then(KeyAction::Up { value: tab })
}

#[tokio::test]
async fn top_page_structure_accessibility_and_layout() {
    let env = Env::start().await;
    let c = env.client();
    env.goto("/").await;

    let lang = js_string(c, "return document.documentElement.getAttribute('lang')").await;
    assert_eq!(lang, "ja", "/ : <html lang> should be \"ja\"");

    let h1 = c
        .find(Locator::Css("h1"))
        .await
        .expect("/ : the page should have an <h1>");
    let h1_text = h1.text().await.expect("text of <h1>");
    assert!(
        h1_text.contains("つなぐ"),
        "/ : <h1> should contain 「つなぐ」, it is 「{h1_text}」"
    );

    // Skip link to the main content, first in the tab order and visible when focused.
    let skip = c
        .find(Locator::Css("a.skip-link"))
        .await
        .expect("/ : the page should have a skip link `a.skip-link`");
    let href = skip.attr("href").await.expect("href of the skip link");
    assert_eq!(
        href.as_deref(),
        Some("#main"),
        "/ : the skip link should point to #main"
    );
    assert!(
        js_bool(
            c,
            "const t = document.getElementById('main');
             return !!t && !!(t.closest('main, [role=main]') || t.querySelector('main, [role=main]'));"
        )
        .await,
        "/ : the skip link's target #main should exist and be (or be inside, or contain) the main landmark"
    );
    c.perform_actions(tab_key())
        .await
        .expect("press Tab on the top page");
    let focused = js_string(
        c,
        "const a = document.activeElement;
         return a ? a.outerHTML.slice(0, 200) : '';",
    )
    .await;
    assert!(
        js_bool(
            c,
            "return !!document.activeElement && document.activeElement.matches('a.skip-link')"
        )
        .await,
        "/ : the first Tab should focus the skip link; it focused {focused}"
    );
    let skip_visible = js(
        c,
        "const r = document.activeElement.getBoundingClientRect();
         return {ok: r.width > 1 && r.height > 1 && r.left >= 0 && r.top >= 0
                     && r.right <= window.innerWidth && r.bottom <= window.innerHeight,
                 rect: [r.left, r.top, r.width, r.height]};",
    )
    .await;
    assert_eq!(
        skip_visible.get("ok"),
        Some(&Value::Bool(true)),
        "/ : the focused skip link should be visible inside the viewport (WCAG 2.4.7); rect {}",
        skip_visible.get("rect").cloned().unwrap_or(Value::Null)
    );
    js(c, "document.activeElement.blur(); return null;").await;

    for (landmark, selector) in [
        ("header (banner)", "header, [role=banner]"),
        ("nav (navigation)", "nav, [role=navigation]"),
        ("main", "main, [role=main]"),
        ("footer (contentinfo)", "footer, [role=contentinfo]"),
    ] {
        assert!(
            c.find(Locator::Css(selector)).await.is_ok(),
            "/ : landmark {landmark} is missing (looked for `{selector}`)"
        );
    }

    assert_axe_clean(c, &format!("/ at {DESKTOP} px")).await;
    screenshot(c, "top", DESKTOP).await;

    set_viewport(c, PHONE, 900).await;
    assert_no_horizontal_scroll(c, "/").await;
    assert_axe_clean(c, &format!("/ at {PHONE} px")).await;
    screenshot(c, "top", PHONE).await;

    env.close().await;
}

#[tokio::test]
async fn municipality_live_search_finds_itabashi() {
    let env = Env::start().await;
    let c = env.client();
    env.goto("/municipalities").await;

    let input = c
        .find(Locator::Css("input#municipality-q"))
        .await
        .expect("/municipalities: the search input `input#municipality-q` should exist");
    let input_type = input.attr("type").await.expect("type of the search input");
    assert_eq!(
        input_type.as_deref(),
        Some("search"),
        "/municipalities: #municipality-q should be type=search"
    );
    let input_name = input.attr("name").await.expect("name of the search input");
    assert_eq!(
        input_name.as_deref(),
        Some("q"),
        "/municipalities: #municipality-q should have name=q"
    );
    c.find(Locator::Css("#municipality-results"))
        .await
        .expect("/municipalities: the results container #municipality-results should exist");

    input.click().await.expect("focus the search input");
    input
        .send_keys("いたばし")
        .await
        .expect("type 「いたばし」 into the search input");

    // htmx replaces the results after the request; poll for the answer.
    let results_text = poll(
        Duration::from_secs(5),
        "「板橋区」 in #municipality-results after typing 「いたばし」",
        move || async move {
            let text = js_string(
                c,
                "const r = document.getElementById('municipality-results');
                 return r ? r.innerText : '(no #municipality-results)';",
            )
            .await;
            if text.contains("板橋区") {
                Ok(text)
            } else {
                Err(format!("results text 「{}」", text.trim()))
            }
        },
    )
    .await;

    let headings = js(
        c,
        "return Array.from(document.querySelectorAll(
             '#municipality-results h2, #municipality-results h3, #municipality-results h4, \
              #municipality-results h5, #municipality-results h6, #municipality-results [role=heading]'))
             .map(function (h) { return h.textContent.trim(); });",
    )
    .await;
    let headings: Vec<String> = headings
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    assert!(
        headings.iter().any(|h| h.contains("東京都")),
        "/municipalities: results for 「いたばし」 should be grouped under a prefecture heading \
         「東京都」 (h2–h6 inside #municipality-results); headings: {headings:?}; results text: \
         「{}」",
        results_text.trim()
    );

    assert_axe_clean(c, &format!("/municipalities with results at {DESKTOP} px")).await;
    screenshot(c, "municipalities", DESKTOP).await;

    set_viewport(c, PHONE, 900).await;
    assert_no_horizontal_scroll(c, "/municipalities with results").await;
    assert_axe_clean(c, &format!("/municipalities with results at {PHONE} px")).await;
    screenshot(c, "municipalities", PHONE).await;

    env.close().await;
}

#[tokio::test]
async fn japanese_text_renders_with_cjk_fonts() {
    let env = Env::start().await;
    let c = env.client();

    assert!(
        font_available(c, "Noto Sans CJK JP").await,
        "Chromium cannot use the font 「Noto Sans CJK JP」: install the Debian package \
         fonts-noto-cjk (scripts/test does)"
    );

    env.goto("/").await;
    assert_japanese_glyphs(c, "/", "h1, main p, main li, nav a, footer").await;
    env.goto("/municipalities").await;
    assert_japanese_glyphs(c, "/municipalities", "h1, label").await;

    env.close().await;
}
