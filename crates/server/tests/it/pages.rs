//! The HTML pages: top, 市区町村 search (full page and htmx fragment), detail, errors.

use axum::http::{Method, StatusCode};
use tsunagu_core::access::Role;

use crate::support::{app, encode};

#[tokio::test]
async fn top_page_is_japanese_with_landmarks_and_todays_fiscal_year() {
    let app = app().await;
    let res = app.get("/").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.header("content-type").starts_with("text/html"));
    let html = &res.body;
    assert!(html.contains(r#"<html lang="ja">"#));
    for landmark in [
        "<header",
        "<nav",
        "<main id=\"main\"",
        "<footer",
        "class=\"skip-link\" href=\"#main\"",
    ] {
        assert!(html.contains(landmark), "missing {landmark}");
    }
    assert!(html.contains("医療的ケア児"));
    // The test clock stands at 2026-11-21 (Japan).
    assert!(html.contains("令和8年11月21日"), "wareki date missing");
    assert!(
        html.contains("令和8年度（2026年度）"),
        "fiscal year missing"
    );
    assert!(
        !html.contains("デモ環境"),
        "the demo banner must not show outside demo mode"
    );
}

#[tokio::test]
async fn municipality_search_page_groups_by_prefecture() {
    let app = app().await;
    let res = app
        .get(&format!("/municipalities?q={}", encode("いたばし")))
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.body.contains("<h2>東京都</h2>"));
    assert!(res.body.contains("板橋区"));
    assert!(res.body.contains("href=\"/municipalities/131199\""));
    assert!(res.body.contains(r#"id="municipality-q""#));
}

#[tokio::test]
async fn live_search_fragment_has_no_layout() {
    let app = app().await;
    let res = app
        .get(&format!("/municipalities/results?q={}", encode("中央区")))
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(!res.body.contains("<html"));
    assert!(res.body.contains("<h2>東京都</h2>"));
    assert!(
        res.body.contains("<h2>北海道</h2>"),
        "札幌市中央区 belongs under 北海道"
    );
}

#[tokio::test]
async fn empty_search_explains_what_to_type_and_no_match_says_so() {
    let app = app().await;
    let empty = app.get("/municipalities").await;
    assert!(empty.body.contains("入力するか、都道府県を選んでください"));
    let none = app
        .get(&format!("/municipalities?q={}", encode("ありえないまち")))
        .await;
    assert_eq!(none.status, StatusCode::OK);
    assert!(none.body.contains("一致する市区町村はありません"));
}

#[tokio::test]
async fn user_text_is_escaped_in_pages() {
    let app = app().await;
    let attack = r#"<script>alert("x")</script>"#;
    let res = app
        .get(&format!("/municipalities?q={}", encode(attack)))
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(!res.body.contains("<script>alert"), "raw script reflected");
    assert!(res.body.contains("&#60;script&#62;") || res.body.contains("&lt;script&gt;"));
}

#[tokio::test]
async fn pagination_links_keep_the_search() {
    let app = app().await;
    let res = app.get("/municipalities?pref=01").await;
    assert!(
        res.body.contains("（1 / 4 ページ）"),
        "北海道 has 179 municipalities + wards + itself"
    );
    assert!(
        res.body
            .contains("href=\"/municipalities?page=2&#38;pref=01\""),
        "next-page link keeps the filter"
    );
    let page4 = app.get("/municipalities?pref=01&page=4").await;
    assert!(page4.body.contains("rel=\"prev\""));
    assert!(!page4.body.contains("rel=\"next\""));
}

#[tokio::test]
async fn detail_of_a_designated_city_lists_its_wards() {
    let app = app().await;
    let res = app.get("/municipalities/011002").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.body.contains("札幌市"));
    assert!(res.body.contains("政令指定都市"));
    assert!(res.body.contains("行政区（10）"));
    assert!(res.body.contains("札幌市中央区"));
}

#[tokio::test]
async fn errors_are_japanese_pages_with_a_way_back() {
    let app = app().await;
    let bad = app.get("/municipalities/131190").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("検査数字"));
    assert!(bad.body.contains(r#"href="/""#));
    let missing = app.get("/no/such/page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("ページが見つかりません"));
    let bad_page = app.get("/municipalities?pref=13&page=0").await;
    assert_eq!(bad_page.status, StatusCode::BAD_REQUEST);
    assert!(
        bad_page
            .body
            .contains("ページ番号は1から1000までの整数で指定してください")
    );
}

/// An error page keeps the signed-in frame (header, menu) and leads back to the page the
/// person came from on this site, else to their home; a foreign Referer is not followed.
#[tokio::test]
async fn error_pages_keep_the_signed_in_frame_and_a_way_back() {
    let (app, world, staff) = crate::support::signed_in(Role::MunicipalStaff).await;
    let name = world.person(Role::MunicipalStaff).display_name.clone();
    let ask = |referer: Option<&'static str>| {
        let mut req = crate::support::request_as(&staff, Method::GET, "/children?care_item=magic")
            .header("host", "tsunagu.example.lg.jp");
        if let Some(r) = referer {
            req = req.header("referer", r);
        }
        app.request(req.body(axum::body::Body::empty()).unwrap())
    };
    let res = ask(Some("http://tsunagu.example.lg.jp/children?q=%E3%81%82")).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("選択肢にありません"), "{}", res.body);
    assert!(
        res.body.contains(&name),
        "the header names who is signed in"
    );
    assert!(res.body.contains("児童の記録</a>"), "the menu is there");
    assert!(
        res.body
            .contains("<a href=\"/children?q=%E3%81%82\">前のページへ戻る</a>"),
        "{}",
        res.body
    );
    let res = ask(Some("https://evil.example/phish")).await;
    assert!(
        res.body.contains("<a href=\"/home\">マイページへ戻る</a>"),
        "{}",
        res.body
    );
    assert!(!res.body.contains("evil.example"));
    let res = ask(None).await;
    assert!(res.body.contains("マイページへ戻る"));
}
