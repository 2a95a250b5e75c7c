//! Importing children from files (CSV in UTF-8 or Shift_JIS, .xlsx) through mapping, dry run
//! and an all-or-nothing commit; exporting the list as CSV (UTF-8, CP932) and .xlsx.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use tsunagu_core::access::Role;

use crate::support::{
    BOUNDARY, ITABASHI_FAMILY_NAME, ITABASHI_SHARED_NAME, NERIMA_NAME, Session, TestApp,
    TestResponse, World, bom_csv, get_bytes, multipart_body, request_as, selected_mapping,
    signed_in, upload_to,
};

async fn upload(app: &TestApp, session: &Session, filename: &str, bytes: &[u8]) -> TestResponse {
    upload_to(app, session, "/children/import", filename, bytes).await
}

/// Uploads and returns the import's id (from the redirect to the mapping page).
async fn uploaded(app: &TestApp, session: &Session, filename: &str, bytes: &[u8]) -> String {
    let res = upload(app, session, filename, bytes).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    res.header("location")
        .strip_prefix("/children/import/")
        .expect("redirect to the mapping")
        .to_string()
}

/// Opens the mapping page, keeps what it guessed, and posts it to `check` or `commit`.
async fn post_guessed(
    app: &TestApp,
    session: &Session,
    id: &str,
    step: &str,
    extra: &[(&str, &str)],
) -> TestResponse {
    let page = app.get_as(session, &format!("/children/import/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let mapping = selected_mapping(&page.body);
    let mut fields: Vec<(&str, &str)> = mapping
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    fields.extend_from_slice(extra);
    app.post_form_as(session, &format!("/children/import/{id}/{step}"), &fields)
        .await
}

async fn children(app: &TestApp) -> i64 {
    app.count("SELECT count(*) FROM children", &[]).await
}

const HEADER: &str = "氏名,フリガナ,生年月日,性別,市区町村コード,医療的ケア,医療機器,保護者氏名,保護者続柄,保護者電話番号,就労希望\n";

/// A GET whose body is kept as bytes (Shift_JIS and .xlsx).
async fn staff() -> (TestApp, World, Session) {
    signed_in(Role::MunicipalStaff).await
}

#[tokio::test]
async fn a_utf8_csv_is_mapped_checked_and_imported_in_one_go() {
    let (app, _world, s) = staff().await;
    let csv = format!(
        "{HEADER}\
         青木 そら,あおき そら,2023-04-10,女,131199,人工呼吸器(高)、気管切開、吸引(高),人工呼吸器(100W 内部4時間 外部8時間),青木 みどり,母,090-1234-5678,就労を希望\n\
         石田 りく,イシダ リク,2021/9/3,男,131199,経管栄養(高)、持続経管注入ポンプ(低),,石田 あや,母,03-1234-5678,希望なし\n"
    );
    let id = uploaded(&app, &s, "一覧.csv", &bom_csv(&csv)).await;
    let page = app.get_as(&s, &format!("/children/import/{id}")).await;
    assert!(page.body.contains("一覧.csv") && page.body.contains("2行"));
    let mapping = selected_mapping(&page.body);
    assert_eq!(mapping[0].1, "name");
    assert_eq!(mapping[1].1, "kana");
    assert_eq!(mapping[4].1, "municipality_code");
    assert_eq!(mapping[5].1, "care_items");
    assert_eq!(mapping[10].1, "g0_wishes_to_work");

    let before = children(&app).await;
    let dry = post_guessed(&app, &s, &id, "check", &[]).await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
    assert!(dry.body.contains("問題なし"), "{}", dry.body);
    assert!(dry.body.contains("取り込む（2件）"));
    assert_eq!(children(&app).await, before, "a dry run writes nothing");

    let done = post_guessed(&app, &s, &id, "commit", &[]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        done.body.contains("2件の児童を登録しました"),
        "{}",
        done.body
    );
    assert_eq!(children(&app).await, before + 2);
    let staff_id = &_world.person(Role::MunicipalStaff).id;
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE actor_account_id = $1 AND action = 'create' AND detail = 'import' AND child_id IS NOT NULL",
            &[staff_id]
        )
        .await,
        2
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE actor_account_id = $1 AND action = 'import' AND detail LIKE 'commit;%rows=2'",
            &[staff_id]
        )
        .await,
        1
    );
    // The care items, devices and guardians arrived with their details.
    let aoki = app
        .count(
            "SELECT count(*) FROM child_care_items ci JOIN children c ON c.id = ci.child_id WHERE c.name = $1",
            &["青木 そら"],
        )
        .await;
    assert_eq!(aoki, 3);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM child_devices d JOIN children c ON c.id = d.child_id WHERE c.name = $1 AND d.power_watts = 100 AND d.battery_external_minutes = 480",
            &["青木 そら"],
        )
        .await,
        1
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM guardians g JOIN children c ON c.id = g.child_id WHERE c.name = $1 AND g.wishes_to_work = 'yes'",
            &["青木 そら"],
        )
        .await,
        1
    );
    // Committed once: a second click (or a replayed request) imports nothing and says
    // when the file was imported, with what it created.
    let again = post_guessed_raw(&app, &s, &id).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(
        again.body.contains("すでに取り込まれています"),
        "{}",
        again.body
    );
    assert!(again.body.contains("青木 そら"), "{}", again.body);
    assert_eq!(children(&app).await, before + 2);
    let mapping = app.get_as(&s, &format!("/children/import/{id}")).await;
    assert_eq!(mapping.status, StatusCode::CONFLICT);
}

/// Two commits of the same staged file at once (a double click, a replay racing the
/// first): exactly one imports, the other is told it was imported.
#[tokio::test]
async fn two_commits_of_one_file_at_once_import_it_once() {
    let (app, _world, s) = signed_in(Role::MunicipalStaff).await;
    let before = children(&app).await;
    let csv = "氏名,ふりがな,生年月日,性別,団体コード\n\
               同時 いち,どうじ いち,2021-01-01,女,131199\n\
               同時 に,どうじ に,2021-02-02,男,131199\n";
    let id = uploaded(&app, &s, "twice.csv", csv.as_bytes()).await;
    let mapping = app.get_as(&s, &format!("/children/import/{id}")).await;
    assert_eq!(mapping.status, StatusCode::OK);
    let form = [
        ("col_0", "name"),
        ("col_1", "kana"),
        ("col_2", "birth_date"),
        ("col_3", "sex"),
        ("col_4", "municipality_code"),
    ];
    let uri = format!("/children/import/{id}/commit");
    let (a, b) = tokio::join!(
        app.post_form_as(&s, &uri, &form),
        app.post_form_as(&s, &uri, &form)
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{} / {}",
        a.body,
        b.body
    );
    assert_eq!(children(&app).await, before + 2);
}

/// A commit of an upload that no longer exists (no mapping page to read first).
async fn post_guessed_raw(app: &TestApp, s: &Session, id: &str) -> TestResponse {
    app.post_form_as(
        s,
        &format!("/children/import/{id}/commit"),
        &[("col_0", "name")],
    )
    .await
}

#[tokio::test]
async fn a_shift_jis_csv_without_a_code_column_takes_the_towns_code() {
    let (app, _world, s) = staff().await;
    let text = "氏名,ふりがな,生年月日,性別,住所\r\n髙橋 そら,たかはし そら,2022-01-05,女,東京都板橋区１丁目\r\n";
    let (sjis, _, had_errors) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!had_errors);
    assert!(std::str::from_utf8(&sjis).is_err(), "really Shift_JIS");
    let id = uploaded(&app, &s, "sjis.csv", &sjis).await;
    let page = app.get_as(&s, &format!("/children/import/{id}")).await;
    assert!(
        page.body
            .contains("name=\"default_municipality_code\" type=\"text\" inputmode=\"numeric\" maxlength=\"6\" value=\"131199\""),
        "the uploader's town is offered"
    );
    let before = children(&app).await;
    let done = post_guessed(
        &app,
        &s,
        &id,
        "commit",
        &[("default_municipality_code", "131199")],
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(children(&app).await, before + 1);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM children WHERE name = $1 AND municipality_code = '131199'",
            &["髙橋 そら"]
        )
        .await,
        1,
        "the name decoded from CP932 as written"
    );
}

#[tokio::test]
async fn an_xlsx_file_is_read_from_its_first_sheet() {
    let (app, _world, s) = staff().await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    for (col, heading) in [
        "氏名",
        "ふりがな",
        "生年月日",
        "性別",
        "団体コード",
        "医療的ケア",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(0, col as u16, *heading).unwrap();
    }
    ws.write_string(1, 0, "上田 ひな").unwrap();
    ws.write_string(1, 1, "うえだ ひな").unwrap();
    let birth = rust_xlsxwriter::ExcelDateTime::from_ymd(2024, 2, 29).unwrap();
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy/m/d");
    ws.write_datetime_with_format(1, 2, &birth, &date).unwrap();
    ws.write_string(1, 3, "女").unwrap();
    ws.write_number(1, 4, 131199.0).unwrap();
    ws.write_string(1, 5, "酸素療法(高)").unwrap();
    let bytes = book.save_to_buffer().unwrap();

    let id = uploaded(&app, &s, "list.xlsx", &bytes).await;
    let dry = post_guessed(&app, &s, &id, "check", &[]).await;
    assert!(dry.body.contains("2024-02-29"), "{}", dry.body);
    assert!(dry.body.contains("取り込む（1件）"), "{}", dry.body);
    let before = children(&app).await;
    let done = post_guessed(&app, &s, &id, "commit", &[]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(children(&app).await, before + 1);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM children WHERE name = $1 AND birth_date = '2024-02-29'",
            &["上田 ひな"]
        )
        .await,
        1
    );
}

#[tokio::test]
async fn one_bad_row_stops_the_whole_file_and_every_problem_is_named() {
    let (app, world, s) = staff().await;
    let bad = format!(
        "{HEADER}\
         良い 行,よい ぎょう,2023-01-01,女,131199,,,,,,\n\
         日付 ちがい,ひづけ ちがい,2023-02-30,女,131199,,,,,,\n\
         検査 すうじ,けんさ すうじ,2023-01-01,男,131198,,,,,,\n\
         ケア ふめい,けあ ふめい,2023-01-01,女,131199,人工呼吸器(高)、魔法,,,,,\n\
         {ITABASHI_FAMILY_NAME},やまだ はると,2022-06-14,女,131199,,,,,,\n\
         良い 行,よい ぎょう,2023-01-01,女,131199,,,,,,\n\
         練馬 の子,ねりま のこ,2023-01-01,女,131202,,,,,,\n"
    );
    let id = uploaded(&app, &s, "bad.csv", &bom_csv(&bad)).await;
    let before = children(&app).await;
    let creates_before = app
        .audit_count(&world.person(Role::MunicipalStaff).id, "create", "allowed")
        .await;
    let dry = post_guessed(&app, &s, &id, "check", &[]).await;
    assert_eq!(dry.status, StatusCode::OK);
    let body = &dry.body;
    assert!(body.contains("問題のある行 6行"), "{body}");
    assert!(!body.contains("取り込む（"), "no commit button");
    let row = |line: usize| {
        let start = body
            .find(&format!("\"行\">{line}行目</td>"))
            .unwrap_or_else(|| panic!("row {line} listed"));
        let end = body[start..].find("</tr>").unwrap() + start;
        body[start..end].to_string()
    };
    assert!(row(2).contains("問題なし"));
    assert!(
        row(3).contains("生年月日を 2020-04-02 や 令和2年4月2日 の形で入力してください"),
        "{}",
        row(3)
    );
    assert!(
        row(4).contains("検査数字（6桁目）が正しくありません"),
        "{}",
        row(4)
    );
    assert!(
        row(5).contains("「魔法」という項目はありません"),
        "{}",
        row(5)
    );
    assert!(row(6).contains("すでに登録されています"), "{}", row(6));
    assert!(row(7).contains("2行目と同じ児童です"), "{}", row(7));
    assert!(row(8).contains("担当外の市区町村（練馬区）"), "{}", row(8));

    // The commit checks again and writes nothing at all.
    let refused = post_guessed(&app, &s, &id, "commit", &[]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body.contains("どの行も登録していません"),
        "{}",
        refused.body
    );
    assert_eq!(children(&app).await, before);
    assert_eq!(
        app.audit_count(&world.person(Role::MunicipalStaff).id, "create", "allowed")
            .await,
        creates_before
    );

    // The fixed file goes in whole.
    let fixed = format!(
        "{HEADER}\
         良い 行,よい ぎょう,2023-01-01,女,131199,,,,,,\n\
         日付 ちがい,ひづけ ちがい,2023-02-28,女,131199,,,,,,\n\
         検査 すうじ,けんさ すうじ,2023-01-01,男,131199,,,,,,\n\
         ケア ふめい,けあ ふめい,2023-01-01,女,131199,人工呼吸器(高),,,,,\n"
    );
    let id = uploaded(&app, &s, "fixed.csv", &bom_csv(&fixed)).await;
    let done = post_guessed(&app, &s, &id, "commit", &[]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(children(&app).await, before + 4);
    assert_eq!(
        app.audit_count(&world.person(Role::MunicipalStaff).id, "create", "allowed")
            .await,
        creates_before + 4
    );
}

#[tokio::test]
async fn another_towns_rows_are_refused_and_uploads_stay_with_the_uploader() {
    let (app, world, s) = staff().await;
    // The second row is 練馬区's registered child: the uploader learns only that the town is
    // not theirs, not that the child is registered there.
    let csv = format!(
        "{HEADER}練馬 の子,ねりま のこ,2023-01-01,女,131202,,,,,,\n\
         {NERIMA_NAME},たかはし めい,2022-06-14,女,131202,,,,,,\n"
    );
    let id = uploaded(&app, &s, "nerima.csv", &bom_csv(&csv)).await;
    let dry = post_guessed(&app, &s, &id, "check", &[]).await;
    assert_eq!(
        dry.body
            .matches("担当外の市区町村（練馬区）の児童は登録できません")
            .count(),
        2,
        "{}",
        dry.body
    );
    assert!(!dry.body.contains("すでに登録されています"), "{}", dry.body);
    // 練馬区's staff cannot open 板橋区's upload; the attempt is audited.
    let nerima = world.sign_in(&app, &world.nerima_staff).await;
    let denied_before = app
        .audit_count(&world.nerima_staff.id, "denied", "denied")
        .await;
    let res = app.get_as(&nerima, &format!("/children/import/{id}")).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(!res.body.contains("練馬 の子"));
    let res = app
        .post_form_as(&nerima, &format!("/children/import/{id}/commit"), &[])
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.audit_count(&world.nerima_staff.id, "denied", "denied")
            .await,
        denied_before + 2
    );
}

#[tokio::test]
async fn unreadable_oversized_and_empty_uploads_are_refused_in_japanese() {
    let (app, _world, s) = staff().await;
    let before = app.count("SELECT count(*) FROM uploads", &[]).await;
    let res = upload(
        &app,
        &s,
        "photo.csv",
        &[0xFF, 0xD8, 0xFF, 0x00, 0x81, 0xFF, 0xFE],
    )
    .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(
        res.body.contains("ファイルを読み取れませんでした"),
        "{}",
        res.body
    );
    let res = upload(&app, &s, "broken.xlsx", b"PK\x03\x04 truncated").await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("ファイルを読み取れませんでした"));

    let max = tsunagu::features::children::import::MAX_FILE_BYTES;
    let res = upload(&app, &s, "big.csv", &vec![b'a'; max + 1]).await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(res.body.contains("ファイルが大きすぎます"), "{}", res.body);
    let res = upload(&app, &s, "huge.csv", &vec![b'a'; 6 * 1024 * 1024]).await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        res.body.contains("送信データが大きすぎます（6 MBまで）"),
        "{}",
        res.body
    );
    let mut many = String::from("氏名,ふりがな\n");
    for i in 0..5_001 {
        many.push_str(&format!("子{i},こ\n"));
    }
    let res = upload(&app, &s, "many.csv", many.as_bytes()).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("5000行まで"), "{}", res.body);

    let res = upload(&app, &s, "empty.csv", b"").await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("取り込むファイルを選んでください"));
    let res = upload(&app, &s, "header.csv", "氏名,ふりがな\n".as_bytes()).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("取り込む行がありません"));
    assert_eq!(app.count("SELECT count(*) FROM uploads", &[]).await, before);
    // A 3 MB file is over the 2 MiB limit of other forms but within the import's own.
    let mut large = String::from("氏名,ふりがな,備考\n");
    while large.len() < 3 * 1024 * 1024 {
        large.push_str(&format!("山田 はな,やまだ はな,{}\n", "メモ".repeat(300)));
    }
    let res = upload(&app, &s, "large.csv", large.as_bytes()).await;
    assert!(
        res.status.is_success() || res.status.is_redirection(),
        "{}: {}",
        res.status,
        res.body
    );
    assert_eq!(
        app.count("SELECT count(*) FROM uploads", &[]).await,
        before + 1
    );
    // A multipart upload without the session's token is refused by the guard.
    let body = multipart_body("not-the-token", "a.csv", b"a,b\n1,2\n");
    let res = app
        .request(
            request_as(&s, Method::POST, "/children/import")
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                )
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_template_lists_every_column_and_reads_back() {
    let (app, _world, s) = staff().await;
    let (status, bytes) = get_bytes(&app, Some(&s), "/children/import/template.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(bytes.clone()).unwrap();
    for heading in [
        "氏名",
        "ふりがな",
        "団体コード",
        "医療的ケア",
        "医療機器",
        "保護者1就労希望",
    ] {
        assert!(text.contains(heading), "{heading}");
    }
    // The example row reads back, and is never imported as a child: sent back with a
    // real row under it, only the real row is registered.
    let id = uploaded(&app, &s, "template.csv", &bytes).await;
    let dry = post_guessed(&app, &s, &id, "check", &[]).await;
    assert!(
        dry.body.contains("記入例の行なので取り込みません"),
        "{}",
        dry.body
    );
    assert!(dry.body.contains("取り込む（0件）"), "{}", dry.body);
    let mut filled = text.clone();
    let columns = text.lines().next().unwrap().split(',').count();
    let mut row = vec![""; columns];
    row[..5].copy_from_slice(&["上野 なぎ", "うえの なぎ", "2022-06-01", "女", "131199"]);
    filled.push_str(&row.join(","));
    filled.push('\n');
    let before = children(&app).await;
    let id = uploaded(&app, &s, "filled.csv", filled.as_bytes()).await;
    let dry = post_guessed(&app, &s, &id, "check", &[]).await;
    assert!(dry.body.contains("取り込む（1件）"), "{}", dry.body);
    let done = post_guessed(&app, &s, &id, "commit", &[]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(children(&app).await, before + 1);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM children WHERE name LIKE '記入例%'",
            &[]
        )
        .await,
        0
    );
}

/// Registers a child through the form.
async fn register(app: &TestApp, s: &Session, name: &str, kana: &str) {
    let res = app
        .post_form_as(
            s,
            "/children",
            &[
                ("name", name),
                ("kana", kana),
                ("birth_date", "2023-03-03"),
                ("sex", "male"),
                ("municipality_code", "131199"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
}

#[tokio::test]
async fn a_shift_jis_export_refuses_a_character_it_cannot_hold() {
    let (app, world, s) = staff().await;
    register(&app, &s, "𠮷田 はると", "よしだ はると").await;
    register(&app, &s, "𩸽野 うみ", "ほっけの うみ").await;
    let exports_before = app
        .audit_count(&world.person(Role::MunicipalStaff).id, "export", "allowed")
        .await;
    // Not one name blocking everyone's export: every record and character is listed, and
    // the two ways on are offered; nothing is exported yet.
    let (status, bytes) = get_bytes(
        &app,
        Some(&s),
        "/children/export.csv?encoding=cp932&status=active",
    )
    .await;
    let body = String::from_utf8_lossy(&bytes);
    assert_eq!(status, StatusCode::CONFLICT);
    for shown in [
        "「𠮷田 はると」さん",
        "「𩸽野 うみ」さん",
        "U+20BB7",
        "U+29E3D",
        "氏名",
    ] {
        assert!(body.contains(shown), "{shown}: {body}");
    }
    assert!(body.contains("substitute=geta"), "{body}");
    assert!(
        body.contains("status=active"),
        "the list's filter is kept: {body}"
    );
    assert_eq!(
        app.audit_count(&world.person(Role::MunicipalStaff).id, "export", "allowed")
            .await,
        exports_before,
        "nothing was exported"
    );
    // With 〓 (げた) in place of each, the file is Shift_JIS and says so in the audit.
    let (status, bytes) = get_bytes(
        &app,
        Some(&s),
        "/children/export.csv?encoding=cp932&substitute=geta",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let text = encoding_rs::SHIFT_JIS
        .decode_without_bom_handling_and_without_replacement(&bytes)
        .expect("valid Shift_JIS");
    assert!(
        text.contains("〓田 はると") && text.contains("〓野 うみ"),
        "{text}"
    );
    assert!(text.contains(ITABASHI_FAMILY_NAME), "the others unchanged");
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE action = 'export' AND detail LIKE 'format=csv-cp932-geta; replaced=2;%'",
            &[]
        )
        .await,
        1
    );
    // The same list in UTF-8 keeps the characters.
    let (status, bytes) = get_bytes(&app, Some(&s), "/children/export.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8(bytes).unwrap().contains("𠮷田 はると"));
}

#[tokio::test]
async fn a_shift_jis_export_decodes_back_and_is_audited_with_its_filter() {
    let (app, world, s) = staff().await;
    register(&app, &s, "髙橋 そら", "たかはし そら").await;
    let (status, bytes) = get_bytes(&app, Some(&s), "/children/export.csv?encoding=cp932").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = encoding_rs::SHIFT_JIS
        .decode_without_bom_handling_and_without_replacement(&bytes)
        .expect("valid Shift_JIS");
    assert!(text.starts_with("ID,氏名,ふりがな,生年月日"), "{text}");
    assert!(text.contains(ITABASHI_FAMILY_NAME) && text.contains(ITABASHI_SHARED_NAME));
    assert!(text.contains("髙橋 そら"));
    assert!(!text.contains(NERIMA_NAME) && !text.contains("&#"));

    let staff_id = &world.person(Role::MunicipalStaff).id;
    let (status, _) = get_bytes(
        &app,
        Some(&s),
        "/children/export.csv?encoding=cp932&q=%E5%B1%B1%E7%94%B0",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE actor_account_id = $1 AND action = 'export' \
             AND detail LIKE 'format=csv-cp932; q=%' AND detail LIKE '%rows=1'",
            &[staff_id]
        )
        .await,
        1,
        "the export is audited with its filter, format and row count"
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE actor_account_id = $1 AND action = 'export' AND child_id = $2",
            &[staff_id, &world.children.itabashi_family]
        )
        .await,
        2,
        "each export is in the child's access history"
    );
}

#[tokio::test]
async fn an_xlsx_export_opens_and_reads_back_as_an_import() {
    use calamine::{Data, Reader, Xlsx};
    let (app, world, s) = staff().await;
    let csv = format!(
        "{HEADER}青木 そら,あおき そら,2023-04-10,女,131199,人工呼吸器(高)、気管切開、吸引(高),人工呼吸器(100W 内部4時間),青木 みどり,母,090-1234-5678,就労を希望\n"
    );
    let id = uploaded(&app, &s, "one.csv", &bom_csv(&csv)).await;
    assert_eq!(
        post_guessed(&app, &s, &id, "commit", &[]).await.status,
        StatusCode::OK
    );
    let (status, bytes) =
        get_bytes(&app, Some(&s), "/children/export.xlsx?care_item=ventilator").await;
    assert_eq!(status, StatusCode::OK);
    let mut book = Xlsx::new(std::io::Cursor::new(bytes.clone())).expect("an xlsx file");
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    let rows: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
    assert_eq!(rows.len(), 2, "the heading and the one ventilated child");
    let header: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(rows[1][col("氏名")], Data::String("青木 そら".into()));
    assert!(matches!(rows[1][col("生年月日")], Data::DateTime(_)));
    assert_eq!(
        rows[1][col("医療的ケア")],
        Data::String("人工呼吸器(高)、気管切開、吸引(高)".into())
    );
    assert!(matches!(
        rows[1][col("判定スコア")],
        Data::Float(_) | Data::Int(_)
    ));
    assert_eq!(
        rows[1][col("保護者1就労希望")],
        Data::String("就労を希望".into())
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE actor_account_id = $1 AND action = 'export' \
             AND detail = 'format=xlsx; care_item=ventilator; rows=1'",
            &[&world.person(Role::MunicipalStaff).id]
        )
        .await,
        1
    );
    // Every column is recognised on the way back in; the only problem is that the child
    // is registered already.
    let id = uploaded(&app, &s, "export.xlsx", &bytes).await;
    let dry = post_guessed(&app, &s, &id, "check", &[]).await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
    assert!(dry.body.contains("すでに登録されています"), "{}", dry.body);
    assert!(dry.body.contains("問題のある行 1行"));
    let start = dry.body.find("\"行\">2行目</td>").expect("row 2");
    let end = dry.body[start..].find("</tr>").unwrap() + start;
    assert_eq!(
        dry.body[start..end].matches("<li>").count(),
        1,
        "{}",
        dry.body
    );

    // The list exported as CSV, a new child written under it and sent back: the page
    // offers to skip the rows already registered; chosen, only the new row goes in and the
    // registered record is left as it was.
    let (_, exported) = get_bytes(&app, Some(&s), "/children/export.csv").await;
    let mut text = String::from_utf8(exported).expect("utf-8");
    let columns = text.lines().next().unwrap().split(',').count();
    let mut row = vec![""; columns];
    row[1..6].copy_from_slice(&["新井 るい", "あらい るい", "2022-02-02", "男", "131199"]);
    text.push_str(&row.join(","));
    text.push_str("\r\n");
    let version_before = app
        .count(
            "SELECT version FROM children WHERE name = $1",
            &["青木 そら"],
        )
        .await;
    let before = children(&app).await;
    let id = uploaded(&app, &s, "list-plus-one.csv", text.as_bytes()).await;
    let dry = post_guessed(&app, &s, &id, "check", &[]).await;
    assert!(
        dry.body.contains("登録済みの児童の行はとばす"),
        "{}",
        dry.body
    );
    let refused = post_guessed(&app, &s, &id, "commit", &[]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(children(&app).await, before, "nothing without the choice");
    let skipping = post_guessed(&app, &s, &id, "check", &[("registered", "skip")]).await;
    assert!(skipping.body.contains("とばします"), "{}", skipping.body);
    assert!(
        skipping.body.contains("取り込む（1件）"),
        "{}",
        skipping.body
    );
    let done = post_guessed(&app, &s, &id, "commit", &[("registered", "skip")]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(children(&app).await, before + 1);
    assert_eq!(
        app.count(
            "SELECT version FROM children WHERE name = $1",
            &["青木 そら"]
        )
        .await,
        version_before
    );
}

// ---------------------------------------------------------------------------------------
// Hostile files: the server stays up, answers /healthz while it reads them, refuses each
// with a Japanese message naming the limit, and imports nothing.
// ---------------------------------------------------------------------------------------

/// An .xlsx assembled part by part, so each part can be made hostile. `sheet` is the
/// worksheet XML's body (inside `<sheetData>`, after an optional `<dimension>`),
/// written through `write_sheet` so very large parts need not exist in memory.
fn crafted_xlsx(
    dimension: Option<&str>,
    shared_strings: Option<&str>,
    write_sheet: impl FnOnce(&mut dyn std::io::Write),
) -> Vec<u8> {
    use std::io::Write;
    use zip::write::SimpleFileOptions;
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let part = |zip: &mut zip::ZipWriter<_>, name: &str, text: &str| {
        zip.start_file(name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    };
    part(
        &mut zip,
        "[Content_Types].xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
    );
    part(
        &mut zip,
        "_rels/.rels",
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
    );
    part(
        &mut zip,
        "xl/workbook.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
    );
    let mut rels = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>"#,
    );
    if shared_strings.is_some() {
        rels.push_str(r#"<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>"#);
    }
    rels.push_str("</Relationships>");
    part(&mut zip, "xl/_rels/workbook.xml.rels", &rels);
    if let Some(strings) = shared_strings {
        part(&mut zip, "xl/sharedStrings.xml", strings);
    }
    zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
    let head = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{}<sheetData>"#,
        dimension
            .map(|d| format!(r#"<dimension ref="{d}"/>"#))
            .unwrap_or_default()
    );
    zip.write_all(head.as_bytes()).unwrap();
    write_sheet(&mut zip);
    zip.write_all(b"</sheetData></worksheet>").unwrap();
    zip.finish().unwrap().into_inner()
}

fn inline(cell: &str, text: &str) -> String {
    format!(r#"<c r="{cell}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}

/// Uploads while asking /healthz every few milliseconds; the slowest health answer.
async fn upload_while_checking_health(
    app: &TestApp,
    session: &Session,
    name: &str,
    bytes: &[u8],
) -> (TestResponse, std::time::Duration) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let done = AtomicBool::new(false);
    let uploading = async {
        let res = upload(app, session, name, bytes).await;
        done.store(true, Ordering::SeqCst);
        res
    };
    let checking = async {
        let mut slowest = std::time::Duration::ZERO;
        while !done.load(Ordering::SeqCst) {
            let started = std::time::Instant::now();
            let health = app.get("/healthz").await;
            assert_eq!(health.status, StatusCode::OK);
            slowest = slowest.max(started.elapsed());
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        slowest
    };
    tokio::join!(uploading, checking)
}

#[tokio::test]
async fn hostile_files_are_refused_naming_the_limit_while_the_server_answers() {
    let (app, _world, s) = staff().await;
    let before = children(&app).await;
    let header_row = format!("<row r=\"1\">{}</row>", inline("A1", "氏名"));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            // A dimension of the whole sheet and one cell at its far corner: reading the
            // declared range took 549 GB and aborted the process.
            "huge-dimension.xlsx",
            crafted_xlsx(Some("A1:XFD1048576"), None, |w| {
                let rows = format!(
                    "{header_row}<row r=\"1048576\">{}</row>",
                    inline("XFD1048576", "x")
                );
                w.write_all(rows.as_bytes()).unwrap();
            }),
            "列が多すぎます（200列まで）",
        ),
        (
            // Shared strings declaring four billion entries (reserved up front before).
            "shared-strings.xlsx",
            crafted_xlsx(
                None,
                Some(
                    r#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="4000000000" uniqueCount="4000000000"><si><t>氏名</t></si></sst>"#,
                ),
                |w| {
                    w.write_all(r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#.as_bytes())
                        .unwrap();
                },
            ),
            "文字列が多すぎます（1000000個まで）",
        ),
        (
            // 80 MB of nothing in 80 KB.
            "zip-bomb.xlsx",
            crafted_xlsx(None, None, |w| {
                w.write_all(header_row.as_bytes()).unwrap();
                let blank = vec![b' '; 1024 * 1024];
                for _ in 0..80 {
                    w.write_all(&blank).unwrap();
                }
            }),
            "展開後の大きさが上限（64 MB）",
        ),
        (
            // 10 MB of nothing: under the size limit, far over any real compression ratio.
            "ratio.xlsx",
            crafted_xlsx(None, None, |w| {
                w.write_all(header_row.as_bytes()).unwrap();
                w.write_all(&vec![b' '; 10 * 1024 * 1024]).unwrap();
            }),
            "圧縮率が異常に高い",
        ),
        (
            "deep.xlsx",
            crafted_xlsx(None, None, |w| {
                w.write_all(header_row.as_bytes()).unwrap();
                w.write_all("<x>".repeat(100_000).as_bytes()).unwrap();
                w.write_all("</x>".repeat(100_000).as_bytes()).unwrap();
            }),
            "入れ子64段まで",
        ),
        (
            "bad-reference.xlsx",
            crafted_xlsx(None, None, |w| {
                w.write_all(
                    format!(
                        "{header_row}<row r=\"2\">{}</row>",
                        inline("ZZZZZZZZ99999999999999", "x")
                    )
                    .as_bytes(),
                )
                .unwrap();
            }),
            "ファイルを読み取れませんでした",
        ),
        (
            // Twenty million rows.
            "twenty-million-rows.xlsx",
            crafted_xlsx(None, None, |w| {
                w.write_all(header_row.as_bytes()).unwrap();
                let row = b"<row><c><v>1</v></c></row>".repeat(100_000);
                for _ in 0..200 {
                    w.write_all(&row).unwrap();
                }
            }),
            "展開後の大きさが上限（64 MB）",
        ),
        (
            "truncated.xlsx",
            {
                let whole = crafted_xlsx(None, None, |w| {
                    w.write_all(header_row.as_bytes()).unwrap();
                });
                whole[..whole.len() / 2].to_vec()
            },
            "ファイルを読み取れませんでした",
        ),
        (
            "too-many-rows.csv",
            bom_csv(&format!("氏名\n{}", "はると\n".repeat(5_001))),
            "1回に取り込めるのは5000行までです",
        ),
    ];
    for (name, bytes, message) in cases {
        assert!(
            bytes.len() < 5 * 1024 * 1024,
            "{name}: {} bytes",
            bytes.len()
        );
        let (res, slowest) = upload_while_checking_health(&app, &s, name, &bytes).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{name}: {}", res.body);
        assert!(
            res.body.contains(message),
            "{name}: expected 「{message}」 in {}",
            res.body
        );
        assert!(
            slowest < std::time::Duration::from_millis(100),
            "{name}: /healthz took {slowest:?} during the upload"
        );
        assert_eq!(
            app.count("SELECT count(*) FROM uploads", &[]).await,
            0,
            "{name}: stored"
        );
    }
    assert_eq!(children(&app).await, before);
    // Still serving, and still reading an honest file.
    let honest = crafted_xlsx(None, None, |w| {
        w.write_all(
            format!(
                "{header_row}<row r=\"2\">{}</row>",
                inline("A2", "山田 はると")
            )
            .as_bytes(),
        )
        .unwrap();
    });
    let res = upload(&app, &s, "honest.xlsx", &honest).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
}

/// The duplicate check is no oracle: an organisation outside the town (here the
/// consultation office, which the family of 佐藤 ゆい never consented to) learns nothing
/// of a child it cannot read; the town's own department is told.
#[tokio::test]
async fn the_duplicate_check_tells_outside_organisations_nothing() {
    let (app, world) = crate::support::world().await;
    let csv = format!(
        "氏名,ふりがな,生年月日,性別,団体コード\n{ITABASHI_SHARED_NAME},さとう ゆい,2022-06-14,女,131199\n"
    );
    let form = [
        ("col_0", "name"),
        ("col_1", "kana"),
        ("col_2", "birth_date"),
        ("col_3", "sex"),
        ("col_4", "municipality_code"),
    ];
    let mut told = Vec::new();
    for role in [Role::Coordinator, Role::MunicipalStaff] {
        let s = world.login_as(&app, role).await;
        let id = uploaded(&app, &s, "probe.csv", csv.as_bytes()).await;
        let check = app
            .post_form_as(&s, &format!("/children/import/{id}/check"), &form)
            .await;
        assert_eq!(check.status, StatusCode::OK, "{}", check.body);
        told.push(check.body.contains("すでに登録されています"));
    }
    assert_eq!(
        told,
        [false, true],
        "outside: nothing; the town's department: told"
    );
}

/// Downloads are named for what they are: 「児童一覧_板橋区_20261121_UTF-8.csv」, with the
/// encoding for CSV, the town when every row shares one, and an ASCII fallback.
#[tokio::test]
async fn downloads_have_descriptive_japanese_names() {
    let (app, _world, s) = signed_in(Role::MunicipalStaff).await;
    for (uri, name) in [
        ("/children/export.csv", "児童一覧_板橋区_20261121_UTF-8.csv"),
        (
            "/children/export.csv?encoding=cp932",
            "児童一覧_板橋区_20261121_Shift_JIS.csv",
        ),
        ("/children/export.xlsx", "児童一覧_板橋区_20261121.xlsx"),
    ] {
        let res = app.get_as(&s, uri).await;
        assert_eq!(res.status, StatusCode::OK, "{uri}");
        let disposition = res.header("content-disposition").to_string();
        let encoded = disposition
            .split("filename*=UTF-8''")
            .nth(1)
            .unwrap_or_else(|| panic!("{uri}: {disposition}"));
        let decoded = percent_decode(encoded);
        assert_eq!(decoded, name, "{uri}");
        assert!(disposition.starts_with("attachment; filename=\"children."));
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() + 1 {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The value of the hidden `plan` field of a check page (the updates it showed).
fn shown_plan(body: &str) -> String {
    let start = body.find("name=\"plan\" value=\"").expect("plan field") + 19;
    let end = body[start..].find('"').unwrap() + start;
    body[start..end].to_string()
}

/// The staff's own export, one address corrected and one cell emptied, sent back: the check
/// shows each registered record's changes beside what it holds; the commit writes only
/// those, as shown. A record changed after the check is not overwritten: the page shows the
/// changes anew.
#[tokio::test]
async fn a_corrected_export_updates_only_what_it_changes_after_showing_it() {
    let (app, world, s) = staff().await;
    let child = world.children.itabashi_family.to_string();
    sqlx::query("UPDATE children SET hospital = 'いたばし小児病院' WHERE id = $1")
        .bind(&child)
        .execute(app.db.pool())
        .await
        .unwrap();
    let (_, bytes) = get_bytes(&app, Some(&s), "/children/export.csv").await;
    let text = String::from_utf8(bytes).unwrap();
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let mut rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    assert!(rows.len() >= 2, "the town has more than one child");
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let row = rows
        .iter()
        .position(|r| r[col("氏名")] == ITABASHI_FAMILY_NAME)
        .unwrap();
    let hospital = |app: &TestApp| {
        let child = child.clone();
        let db = app.db.clone();
        async move {
            sqlx::Row::try_get::<String, _>(
                &sqlx::query("SELECT hospital FROM children WHERE id = $1")
                    .bind(child)
                    .fetch_one(db.pool())
                    .await
                    .unwrap(),
                0,
            )
            .unwrap()
        }
    };
    let hospital_before = hospital(&app).await;
    rows[row][col("住所")] = "東京都板橋区新町1-2-3".into();
    rows[row][col("医療機関")] = String::new();
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    out.write_record(&header).unwrap();
    for r in &rows {
        out.write_record(r).unwrap();
    }
    let file = out.into_inner().unwrap();
    let versions = "SELECT CAST(sum(version) AS BIGINT) FROM children";
    let versions_before = app.count(versions, &[]).await;
    let children_before = children(&app).await;
    let id = uploaded(&app, &s, "corrected.csv", &file).await;

    // Until the user chooses, registered rows stop the file.
    let dry = post_guessed(&app, &s, &id, "check", &[]).await;
    assert!(
        dry.body.contains("ファイルの内容で更新する"),
        "{}",
        dry.body
    );
    let check = post_guessed(&app, &s, &id, "check", &[("registered", "update")]).await;
    assert_eq!(check.status, StatusCode::OK, "{}", check.body);
    assert!(check.body.contains("更新 1件"), "{}", check.body);
    assert!(check.body.contains("<ins>東京都板橋区新町1-2-3</ins>"));
    assert!(
        check
            .body
            .contains("ファイルの内容と同じなので、変更しません"),
        "the other rows change nothing"
    );
    let start = check.body.find("diff-table").unwrap();
    let diff = &check.body[start..check.body[start..].find("</table>").unwrap() + start];
    assert_eq!(
        diff.matches("<tr>").count(),
        2,
        "head and the address: {diff}"
    );
    assert_eq!(
        app.count(versions, &[]).await,
        versions_before,
        "a check writes nothing"
    );
    // Showing the record's values is a read of it.
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE action = 'read' AND child_id = $1 AND detail LIKE '%import_check%'",
            &[&child]
        )
        .await,
        1
    );
    let plan = shown_plan(&check.body);
    assert!(plan.starts_with(&child), "{plan}");

    // Someone changes the record after the check: the commit writes nothing and shows the
    // changes again.
    sqlx::query(
        "UPDATE children SET address = '東京都板橋区別町', version = version + 1 WHERE id = $1",
    )
    .bind(&child)
    .execute(app.db.pool())
    .await
    .unwrap();
    let stale = post_guessed(
        &app,
        &s,
        &id,
        "commit",
        &[("registered", "update"), ("plan", &plan)],
    )
    .await;
    assert_eq!(stale.status, StatusCode::BAD_REQUEST, "{}", stale.body);
    assert!(stale.body.contains("試し読みの後に"), "{}", stale.body);
    assert!(stale.body.contains("<del>東京都板橋区別町</del>"));
    assert_eq!(
        app.count(
            "SELECT count(*) FROM children WHERE address = '東京都板橋区別町'",
            &[]
        )
        .await,
        1
    );
    let plan = shown_plan(&stale.body);

    let done = post_guessed(
        &app,
        &s,
        &id,
        "commit",
        &[("registered", "update"), ("plan", &plan)],
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        done.body.contains("1件の記録を更新しました"),
        "{}",
        done.body
    );
    assert!(
        done.body.contains("から 0件の児童を登録しました"),
        "{}",
        done.body
    );
    assert_eq!(children(&app).await, children_before, "no second record");
    assert!(done.body.contains("更新: 住所"));
    assert_eq!(
        app.count(
            "SELECT count(*) FROM children WHERE id = $1 AND address = '東京都板橋区新町1-2-3'",
            &[&child]
        )
        .await,
        1
    );
    assert_eq!(
        hospital(&app).await,
        hospital_before,
        "an empty cell erases nothing"
    );
    assert_eq!(
        app.count(versions, &[]).await,
        versions_before + 2,
        "the change in between and the import, nothing else"
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM child_history WHERE child_id = $1 AND source = 'import'",
            &[&child]
        )
        .await,
        1
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE action = 'update' AND child_id = $1 AND detail = 'import' AND fields = '[\"address\"]'",
            &[&child]
        )
        .await,
        1
    );

    // The same file again: nothing differs now, the check shows no update. A record changed
    // before the commit is not overwritten either: refused, and the change is shown.
    let id = uploaded(&app, &s, "corrected-again.csv", &file).await;
    let check = post_guessed(&app, &s, &id, "check", &[("registered", "update")]).await;
    assert!(
        check.body.contains("ファイルの内容と同じなので"),
        "{}",
        check.body
    );
    assert_eq!(shown_plan(&check.body), "");
    sqlx::query(
        "UPDATE children SET address = '東京都板橋区三園', version = version + 1 WHERE id = $1",
    )
    .bind(&child)
    .execute(app.db.pool())
    .await
    .unwrap();
    let stale = post_guessed(
        &app,
        &s,
        &id,
        "commit",
        &[("registered", "update"), ("plan", "")],
    )
    .await;
    assert_eq!(stale.status, StatusCode::BAD_REQUEST, "{}", stale.body);
    assert!(stale.body.contains("試し読みの後に"), "{}", stale.body);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM children WHERE address = '東京都板橋区三園'",
            &[]
        )
        .await,
        1
    );
}
