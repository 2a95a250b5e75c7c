//! Registering a child with care items: the score and tier come from the table, never typed.

use axum::http::StatusCode;
use tsunagu_core::access::Role;

use crate::support::signed_in;

fn location(res: &crate::support::TestResponse) -> String {
    res.header("location").to_string()
}

#[tokio::test]
async fn care_items_give_the_score_and_tier_on_the_profile() {
    let (app, _world, staff) = signed_in(Role::MunicipalStaff).await;
    // Ventilator (high 2) + tracheostomy (no 見守り with a ventilator) + suction (high 1)
    // + tube feeding (high 2): basic 10 + 8 + 8 + 8 = 34, 見守り 2 + 0 + 1 + 2 = 5.
    let res = app
        .post_form_as(
            &staff,
            "/children",
            &[
                ("name", "呼吸 たすく"),
                ("kana", "こきゅう たすく"),
                ("birth_date", "2023-05-05"),
                ("sex", "male"),
                ("municipality_code", "131199"),
                ("care_ventilator", "1"),
                ("watch_ventilator", "high"),
                ("care_tracheostomy", "1"),
                ("watch_tracheostomy", "high"),
                ("care_suction", "1"),
                ("watch_suction", "high"),
                ("care_tube_feeding", "1"),
                ("watch_tube_feeding", "high"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let page = app.get_as(&staff, &location(&res)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("判定スコア <strong>39点</strong>（基本 34点＋見守り 5点）"),
        "{}",
        page.body
    );
    assert!(page.body.contains("32点以上"));
    // 2023-05-05 is in the 2歳児クラス in 令和8年度 (test clock 2026-11-21).
    assert!(page.body.contains("2歳児クラス"));
    assert!(page.body.contains("人工呼吸器"));
}

#[tokio::test]
async fn an_impossible_care_combination_is_refused_in_japanese_and_nothing_is_stored() {
    let (app, _world, staff) = signed_in(Role::MunicipalStaff).await;
    let before = app.count("SELECT count(*) FROM children", &[]).await;
    for (fields, message) in [
        // A feeding pump without tube feeding.
        (vec![("care_feeding_pump", "1")], "経管栄養"),
        // Nebulizer has no 見守り level.
        (
            vec![("care_nebulizer", "1"), ("watch_nebulizer", "high")],
            "見守り",
        ),
        // 間欠的導尿 has 低 only.
        (
            vec![("care_intermittent", "1"), ("watch_intermittent", "high")],
            "見守り",
        ),
    ] {
        let mut form = vec![
            ("name", "確認 ひかり"),
            ("kana", "かくにん ひかり"),
            ("birth_date", "2022-01-10"),
            ("sex", "female"),
            ("municipality_code", "131199"),
        ];
        form.extend(fields);
        let res = app.post_form_as(&staff, "/children", &form).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{message}");
        assert!(res.body.contains(message), "{message}: {}", res.body);
        // What was ticked stays ticked, so nothing has to be typed again.
        assert!(res.body.contains("checked"));
    }
    assert_eq!(
        app.count("SELECT count(*) FROM children", &[]).await,
        before
    );
}

#[tokio::test]
async fn a_wrong_date_or_kana_is_refused_with_every_problem_named() {
    let (app, _world, staff) = signed_in(Role::MunicipalStaff).await;
    let res = app
        .post_form_as(
            &staff,
            "/children",
            &[
                ("name", ""),
                ("kana", "Tanaka"),
                ("birth_date", "2026-02-30"),
                ("sex", "female"),
                ("municipality_code", "131190"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    for message in ["氏名", "ふりがな", "生年月日", "検査数字"] {
        assert!(res.body.contains(message), "{message}");
    }
}

/// Dates as people write them, in the form and the API alike, and read back in 和暦.
#[tokio::test]
async fn dates_are_taken_as_people_write_them_and_shown_in_wareki() {
    let (app, _world, staff) = signed_in(Role::MunicipalStaff).await;
    let res = app
        .post_form_as(
            &staff,
            "/children",
            &[
                ("name", "和暦 はな"),
                ("kana", "われき はな"),
                ("birth_date", "令和元年5月1日"),
                ("sex", "female"),
                ("municipality_code", "131199"),
                ("intake_date", "R5.4.1"),
                ("s0_name", "和暦 そう"),
                ("s0_birth_date", "H31.4.30"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let page = app.get_as(&staff, &location(&res)).await;
    assert!(
        page.body.contains("令和元年5月1日（2019年）"),
        "{}",
        page.body
    );
    assert!(page.body.contains("令和5年4月1日（2023年）"));
    assert!(page.body.contains("平成31年4月30日（2019年）生"));
    // The API reads the same words.
    let res = crate::support::send_json(
        &app,
        &staff,
        axum::http::Method::POST,
        "/api/v1/children",
        &serde_json::json!({
            "name": "和暦 あお",
            "kana": "われき あお",
            "birth_date": "２０２２年２月２２日",
            "sex": "male",
            "municipality_code": "131199",
        }),
        Some(&staff.csrf),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.json()["birth_date"], "2022-02-22");
    // A date outside its era is refused with the ways to write it, and nothing is stored.
    let before = app.count("SELECT count(*) FROM children", &[]).await;
    let res = app
        .post_form_as(
            &staff,
            "/children",
            &[
                ("name", "和暦 なし"),
                ("kana", "われき なし"),
                ("birth_date", "H31.5.1"),
                ("sex", "female"),
                ("municipality_code", "131199"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("令和2年4月2日 の形で"), "{}", res.body);
    assert_eq!(
        app.count("SELECT count(*) FROM children", &[]).await,
        before
    );
}

/// Control characters, bidirectional overrides and zero-width characters are refused in
/// every field with a Japanese message beside it; a multi-line field keeps its lines.
#[tokio::test]
async fn hidden_characters_are_refused_beside_their_field_and_nothing_is_stored() {
    let (app, _world, staff) = signed_in(Role::MunicipalStaff).await;
    let before = app.count("SELECT count(*) FROM children", &[]).await;
    for (field, value, shown) in [
        ("name", "山田\u{202E}ろはす", "U+202E"),
        ("kana", "やま\u{200B}だ", "U+200B"),
        ("address", "板橋区\u{0000}1-1", "U+0000"),
        ("address", "板橋区\n1-1", "U+000A"),
        ("g0_name", "\u{001B}[31m山田", "U+001B"),
    ] {
        let mut form = vec![
            ("name", "見えない もじ"),
            ("kana", "みえない もじ"),
            ("birth_date", "2021-01-01"),
            ("sex", "female"),
            ("municipality_code", "131199"),
            ("g0_relation", "母"),
        ];
        form.retain(|(k, _)| *k != field);
        form.push((field, value));
        let res = app.post_form_as(&staff, "/children", &form).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{field}");
        assert!(res.body.contains(shown), "{field}: {}", res.body);
        assert!(
            res.body.contains(&format!("id=\"{field}-error\"")),
            "{field} beside"
        );
    }
    let res = crate::support::send_json(
        &app,
        &staff,
        axum::http::Method::POST,
        "/api/v1/children",
        &serde_json::json!({
            "name": "見えない もじ", "kana": "みえない\u{2066}もじ", "birth_date": "2021-01-01",
            "sex": "female", "municipality_code": "131199",
        }),
        Some(&staff.csrf),
    )
    .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let fields = &res.json()["error"]["fields"];
    assert!(
        fields
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["field"] == "kana" && f["code"] == "format"),
        "{fields}"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM children", &[]).await,
        before
    );
    // Lines in the diagnosis are kept.
    let res = app
        .post_form_as(
            &staff,
            "/children",
            &[
                ("name", "改行 あり"),
                ("kana", "かいぎょう あり"),
                ("birth_date", "2021-01-01"),
                ("sex", "female"),
                ("municipality_code", "131199"),
                ("diagnoses", "脊髄性筋萎縮症\r\n（I型）"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
}

/// Half-width katakana and full-width digits are accepted and stored normalised, and the
/// record shows the normalised value; full-width punctuation stays as written.
#[tokio::test]
async fn half_width_kana_and_full_width_digits_are_normalised() {
    let (app, _world, staff) = signed_in(Role::MunicipalStaff).await;
    let res = app
        .post_form_as(
            &staff,
            "/children",
            &[
                ("name", "ﾊﾝｶｸ ﾀﾛｳ"),
                ("kana", "ﾊﾝｶｸ ﾀﾛｳ"),
                ("birth_date", "２０２１－０３－０３"),
                ("sex", "male"),
                ("municipality_code", "１３１１９９"),
                ("address", "板橋区板橋１－２－３"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let page = app.get_as(&staff, &location(&res)).await;
    assert!(page.body.contains("ハンカク タロウ"), "{}", page.body);
    assert!(page.body.contains("板橋区板橋1－2－3"), "{}", page.body);
    assert!(!page.body.contains("ﾊﾝｶｸ"));
}

/// The kinds of 導尿 and 排便管理 are lines of their own: a child with 消化管ストーマ and 浣腸
/// has both, each scored, on the form, the page and the API.
#[tokio::test]
async fn two_kinds_of_bowel_care_are_two_lines_each_scored() {
    let (app, _world, staff) = signed_in(Role::MunicipalStaff).await;
    let res = app
        .post_form_as(
            &staff,
            "/children",
            &[
                ("name", "排便 ふたば"),
                ("kana", "はいべん ふたば"),
                ("birth_date", "2021-05-05"),
                ("sex", "female"),
                ("municipality_code", "131199"),
                ("care_stoma", "1"),
                ("watch_stoma", "high"),
                ("care_enema", "1"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let id = res
        .header("location")
        .trim_start_matches("/children/")
        .trim_end_matches("?registered=1")
        .to_string();
    assert_eq!(
        app.count(
            "SELECT count(*) FROM child_care_items WHERE child_id = $1 AND item = 'bowel_management'",
            &[&id],
        )
        .await,
        2
    );
    // 消化管ストーマ 5 + 見守り高 1, 浣腸 3.
    assert_eq!(
        app.count("SELECT care_score FROM children WHERE id = $1", &[&id])
            .await,
        9
    );
    let page = app.get_as(&staff, &format!("/children/{id}")).await;
    assert!(
        page.body.contains("排便管理（消化管ストーマ）")
            || page.body.contains("（消化管ストーマ）"),
        "{}",
        page.body
    );
    assert!(page.body.contains("（浣腸）"), "{}", page.body);
    let form = app.get_as(&staff, &format!("/children/{id}/edit")).await;
    for line in ["care_stoma", "care_enema"] {
        let at = form.body.find(&format!("name=\"{line}\"")).expect(line);
        assert!(form.body[at..at + 40].contains("checked"), "{line}");
    }
    let json = app
        .get_as(&staff, &format!("/api/v1/children/{id}"))
        .await
        .json();
    let variants: Vec<&str> = json["care_items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["variant"].as_str())
        .collect();
    assert_eq!(variants, ["stoma", "enema"]);
}
