//! A town imports the facilities it lists (those that do not use tsunagu) from its Excel or
//! CSV sheet: mapping, a dry run that names every problem in Japanese with its row, and an
//! all-or-nothing commit that a replay cannot repeat; the services are then found in the
//! directory's search. Only a town's staff import.

use axum::http::StatusCode;
use tsunagu_core::access::Role;

use crate::support::{
    Session, TestApp, TestResponse, World, bom_csv, directory_service, encode, facility, get_bytes,
    selected_mapping, upload_to, world,
};

const SERVICES: &str = "SELECT count(*) FROM services";
const ORGANISATIONS: &str = "SELECT count(*) FROM organisations";
const VACANCIES: &str = "SELECT count(*) FROM service_vacancies";

async fn upload(app: &TestApp, session: &Session, filename: &str, bytes: &[u8]) -> TestResponse {
    upload_to(app, session, "/directory/import", filename, bytes).await
}

/// Uploads and returns the import's id (from the redirect to the mapping page).
async fn uploaded(app: &TestApp, session: &Session, filename: &str, bytes: &[u8]) -> String {
    let res = upload(app, session, filename, bytes).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    res.header("location")
        .strip_prefix("/directory/import/")
        .expect("redirect to the mapping")
        .to_string()
}

/// The mapping page's guesses and default town, as the form posts them.
async fn guessed_form(app: &TestApp, session: &Session, id: &str) -> Vec<(String, String)> {
    let page = app
        .get_as(session, &format!("/directory/import/{id}"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let mut form = selected_mapping(&page.body);
    let default = page
        .body
        .split("name=\"default_municipality_code\"")
        .nth(1)
        .and_then(|rest| rest.split("value=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_string();
    form.push(("default_municipality_code".into(), default));
    form
}

async fn post_step(
    app: &TestApp,
    session: &Session,
    id: &str,
    step: &str,
    form: &[(String, String)],
) -> TestResponse {
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    app.post_form_as(session, &format!("/directory/import/{id}/{step}"), &fields)
        .await
}

/// What the database holds of the directory: services, organisations, vacancy reports.
async fn counts(app: &TestApp) -> (i64, i64, i64) {
    (
        app.count(SERVICES, &[]).await,
        app.count(ORGANISATIONS, &[]).await,
        app.count(VACANCIES, &[]).await,
    )
}

/// The check page's row `line` (its table row) holds `message`.
fn row_says(body: &str, line: usize, message: &str) -> bool {
    body.split("<tr>")
        .find(|row| row.contains(&format!(">{line}行目</td>")))
        .is_some_and(|row| row.contains(message))
}

/// The staff's directory search for a word.
fn search(word: &str) -> String {
    format!("/directory?q={}", encode(word))
}

async fn town_staff(app: &TestApp, world: &World) -> Session {
    world.login_as(app, Role::MunicipalStaff).await
}

const GOOD: &str = "事業所名,種別,サービス名,ふりがな,所在地,電話番号,定員,医ケア児の受け入れ人数,待機人数,受け入れる医療的ケア,対応年齢（から）,対応年齢（まで）,看護師のいる時間,空き（人数）,空きの時点,公開しない項目\n\
ひだまり保育園（架空）,保育所,ひだまり保育園 分園,ひだまりほいくえん ぶんえん,東京都板橋区板橋2-2,03-1111-2222,30,1,2,吸引、経管栄養(看護師がいる時間のみ),1歳児,5歳児,平日 9:00〜17:00,2,令和8年11月20日,電話番号\n\
社会福祉法人 さくら会,児童発達支援,さくらキッズ,さくらきっず,東京都板橋区成増1-1,03-3333-4444,10,2,0,人工呼吸器、気管切開、吸引,0,5,常勤,1,2026-11-01,\n\
社会福祉法人 さくら会,放課後等デイサービス,さくらデイ,さくらでい,東京都板橋区成増1-1,03-3333-4444,10,,,酸素療法,小1,高3,,,,\n\
記入例 社会福祉法人 ひまわり会,保育所,記入例 ひまわり保育園,,,,,,,,,,,,,\n";

#[tokio::test]
async fn a_towns_csv_is_checked_then_imported_at_once_and_found_in_the_directory() {
    let (app, world) = world().await;
    let s = town_staff(&app, &world).await;
    // The directory page is read once first: its copy in memory must see the import.
    let before_search = app.get_as(&s, &search("さくら")).await;
    assert!(!before_search.body.contains("さくらキッズ"));
    let mine = app.get_as(&s, "/directory/mine").await;
    assert!(
        mine.body.contains("href=\"/directory/import\"")
            && mine.body.contains("Excel・CSVから一括登録"),
        "{}",
        mine.body
    );

    let id = uploaded(&app, &s, "事業所一覧.csv", &bom_csv(GOOD)).await;
    let form = guessed_form(&app, &s, &id).await;
    let target = |i: usize| form[i].1.as_str();
    assert_eq!(
        (target(0), target(1), target(2), target(10), target(13)),
        ("organisation", "kind", "name", "age_from", "vacancies")
    );
    // A town's sheet has no code column: the uploader's town is offered.
    assert!(
        form.contains(&("default_municipality_code".into(), "131199".into())),
        "{form:?}"
    );

    let before = counts(&app).await;
    let dry = post_step(&app, &s, &id, "check", &form).await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
    assert!(dry.body.contains("取り込む（3件）"), "{}", dry.body);
    assert!(dry.body.contains("新しい事業所 1件"), "{}", dry.body);
    assert!(row_says(&dry.body, 5, "記入例の行なので取り込みません"));
    assert!(row_says(&dry.body, 3, "新しく登録する事業所"));
    assert_eq!(counts(&app).await, before, "a dry run writes nothing");

    let done = post_step(&app, &s, &id, "commit", &form).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        done.body.contains("3件のサービスを登録しました")
            && done.body.contains("新しい事業所 1件")
            && done.body.contains("href=\"/directory/mine\""),
        "{}",
        done.body
    );
    let (services, organisations, vacancies) = before;
    assert_eq!(
        counts(&app).await,
        (services + 3, organisations + 1, vacancies + 2)
    );
    // The one organisation of two rows, a facility of the town; the existing one reused.
    assert_eq!(
        app.count(
            "SELECT count(*) FROM organisations WHERE name = $1 AND kind = 'facility' AND municipality_code = '131199'",
            &["社会福祉法人 さくら会"],
        )
        .await,
        1
    );
    assert_eq!(
        app.text(
            "SELECT s.organisation_id FROM services s WHERE s.name = $1",
            &["ひだまり保育園 分園"],
        )
        .await,
        world.organisations["nursery"].to_string()
    );
    // What the rows said, as the form would have stored it.
    assert_eq!(
        app.count(
            "SELECT count(*) FROM services WHERE name = $1 AND kind = 'nursery' AND capacity = 30 \
             AND care_children_now = 1 AND waiting_list = 2 AND age_from = 1 AND age_to = 5 \
             AND staff_only = 'phone' AND weekdays = '1111100' AND phone = '03-1111-2222'",
            &["ひだまり保育園 分園"],
        )
        .await,
        1
    );
    assert_eq!(
        app.text(
            "SELECT c.conditions FROM service_care c JOIN services s ON s.id = c.service_id \
             WHERE s.name = $1 AND c.care_item = 'tube_feeding'",
            &["ひだまり保育園 分園"],
        )
        .await,
        "看護師がいる時間のみ"
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM service_vacancies v JOIN services s ON s.id = v.service_id \
             WHERE s.name = $1 AND v.class_age = -1 AND v.vacancies = 2 AND v.as_of = '2026-11-20'",
            &["ひだまり保育園 分園"],
        )
        .await,
        1
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM services WHERE name = $1 AND age_from = 6 AND age_to = 17",
            &["さくらデイ"],
        )
        .await,
        1
    );
    // Audited: each service and organisation created, and the file.
    let staff = &world.person(Role::MunicipalStaff).id;
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE actor_account_id = $1 AND action = 'create' \
             AND resource_type = 'service' AND detail LIKE 'import%'",
            &[staff],
        )
        .await,
        3
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE actor_account_id = $1 AND action = 'create' \
             AND resource_type = 'organisation'",
            &[staff],
        )
        .await,
        1
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE actor_account_id = $1 AND action = 'import' \
             AND resource_type = 'service_import' AND detail LIKE 'commit;%rows=3%'",
            &[staff],
        )
        .await,
        1
    );

    // The directory finds them at once: its copy in memory follows the import.
    let found = app.get_as(&s, &search("さくら")).await;
    assert!(
        found.body.contains("さくらキッズ") && found.body.contains("さくらデイ"),
        "{}",
        found.body
    );
    let with_places = app
        .get_as(&s, "/directory?vacancies=1&kind=child_development")
        .await;
    assert!(
        with_places.body.contains("さくらキッズ"),
        "{}",
        with_places.body
    );
    let public = app
        .get(&format!("/public/directory?q={}", encode("ひだまり")))
        .await;
    assert!(
        public.body.contains("ひだまり保育園 分園"),
        "{}",
        public.body
    );
    assert!(!public.body.contains("03-1111-2222"), "a staff-only phone");
    let mine = app.get_as(&s, "/directory/mine").await;
    assert!(mine.body.contains("さくらデイ"), "{}", mine.body);

    // Sent again (a second click, a replayed request): 409, what the first created, no doubles.
    let again = post_step(&app, &s, &id, "commit", &form).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(
        again.body.contains("すでに取り込まれています") && again.body.contains("さくらキッズ"),
        "{}",
        again.body
    );
    let check_again = post_step(&app, &s, &id, "check", &form).await;
    assert_eq!(check_again.status, StatusCode::CONFLICT);
    assert_eq!(
        counts(&app).await,
        (services + 3, organisations + 1, vacancies + 2)
    );
    // A new upload of the same sheet stops at its registered rows.
    let id = uploaded(&app, &s, "事業所一覧.csv", &bom_csv(GOOD)).await;
    let form = guessed_form(&app, &s, &id).await;
    let dry = post_step(&app, &s, &id, "commit", &form).await;
    assert_eq!(dry.status, StatusCode::BAD_REQUEST, "{}", dry.body);
    for line in 2..=4 {
        assert!(
            row_says(&dry.body, line, "すでに登録されています"),
            "row {line}: {}",
            dry.body
        );
    }
    assert_eq!(
        counts(&app).await,
        (services + 3, organisations + 1, vacancies + 2)
    );
}

#[tokio::test]
async fn an_xlsx_sheet_is_read_with_its_numbers_and_dates() {
    let (app, world) = world().await;
    let s = town_staff(&app, &world).await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    for (col, heading) in [
        "事業所",
        "サービス種別",
        "施設名",
        "団体コード",
        "定員",
        "医療的ケア",
        "空き",
        "時点",
        "開所日",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(0, col as u16, *heading).unwrap();
    }
    ws.write_string(1, 0, "NPO法人 つばさ").unwrap();
    ws.write_string(1, 1, "放課後等デイサービス").unwrap();
    ws.write_string(1, 2, "つばさクラブ").unwrap();
    ws.write_number(1, 3, 131199.0).unwrap();
    ws.write_number(1, 4, 10.0).unwrap();
    ws.write_string(1, 5, "導尿(間欠的導尿のみ)、血糖測定")
        .unwrap();
    ws.write_number(1, 6, 3.0).unwrap();
    let as_of = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 11, 10).unwrap();
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy/m/d");
    ws.write_datetime_with_format(1, 7, &as_of, &date).unwrap();
    ws.write_string(1, 8, "月〜土").unwrap();
    let bytes = book.save_to_buffer().unwrap();

    let id = uploaded(&app, &s, "facilities.xlsx", &bytes).await;
    let form = guessed_form(&app, &s, &id).await;
    let dry = post_step(&app, &s, &id, "check", &form).await;
    assert!(dry.body.contains("取り込む（1件）"), "{}", dry.body);
    let done = post_step(&app, &s, &id, "commit", &form).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM services WHERE name = $1 AND kind = 'after_school_day' \
             AND municipality_code = '131199' AND capacity = 10 AND weekdays = '1111110'",
            &["つばさクラブ"],
        )
        .await,
        1
    );
    assert_eq!(
        app.text(
            "SELECT c.conditions FROM service_care c JOIN services s ON s.id = c.service_id \
             WHERE s.name = $1 AND c.care_item = 'catheterisation'",
            &["つばさクラブ"],
        )
        .await,
        "間欠的導尿のみ"
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM service_vacancies v JOIN services s ON s.id = v.service_id \
             WHERE s.name = $1 AND v.vacancies = 3 AND v.as_of = '2026-11-10'",
            &["つばさクラブ"],
        )
        .await,
        1
    );
    let found = app.get_as(&s, &search("つばさ")).await;
    assert!(found.body.contains("つばさクラブ"), "{}", found.body);
}

#[tokio::test]
async fn one_bad_row_among_good_ones_writes_nothing_and_every_problem_is_named() {
    let (app, world) = world().await;
    let s = town_staff(&app, &world).await;
    directory_service(
        &app,
        &world.organisations["nursery"],
        "131199",
        "ひだまり保育園",
    )
    .await;
    let nerima = facility(&app, "ねりま療育園", "131202").await;
    let nerima_service = directory_service(&app, &nerima, "131202", "ねりま療育園").await;
    let csv = format!(
        "事業所名,種別,サービス名,市区町村コード,対象地域,定員,受け入れる医療的ケア,空き（人数）,空きの時点,サービスID\n\
         さくら会,児童発達支援,さくらキッズ,131199,,10,吸引,1,2026-11-01,\n\
         さくら会,放課後等デイサービス,さくらデイ,131199,,3,,5,2026-11-01,\n\
         ひまわり会,保育所,ひまわり保育園,131199,,-5,,,,\n\
         ひまわり会,保育所,ひまわり保育園 分園,131199,,10,,-1,2026-11-01,\n\
         ひまわり会,児童発達支援,ひまわりキッズ,131199,,,魔法,,,\n\
         ひまわり会,魔法学校,ひまわり学園,131199,,,,,,\n\
         ひまわり会,児童発達支援,ひまわりキッズ 2,131199,,10,,1,2026-12-24,\n\
         ひまわり会,児童発達支援,ひまわりキッズ 3,131199,131198,,,,,\n\
         ひまわり会,児童発達支援,ひまわりキッズ 4,131199,,,,,,{nerima_service}\n\
         ねりま会,児童発達支援,ねりまキッズ,131202,,,,,,\n\
         ひだまり保育園（架空）,保育所,ひだまり保育園,131199,,,,,,\n\
         さくら会,児童発達支援,さくらキッズ,131199,,,,,,\n\
         ひまわり会,保育所,ひまわり保育園 3,131199,,10,,2,,\n"
    );
    let before = counts(&app).await;
    let id = uploaded(&app, &s, "bad.csv", &bom_csv(&csv)).await;
    let form = guessed_form(&app, &s, &id).await;
    let dry = post_step(&app, &s, &id, "check", &form).await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
    assert!(dry.body.contains("問題のある行 12行"), "{}", dry.body);
    assert!(row_says(&dry.body, 2, "問題なし"), "{}", dry.body);
    for (line, message) in [
        (3, "全年齢の空き（5人）が定員（3人）を超えています"),
        (4, "定員に負の数は入力できません"),
        (5, "全年齢の空きに負の数は入力できません"),
        (6, "受け入れる医療的ケア「魔法」という項目はありません"),
        (7, "種別「魔法学校」はありません"),
        (8, "「時点」に未来の日付は入力できません"),
        (
            9,
            "対象地域: 団体コード 131198 の検査数字（6桁目）が正しくありません",
        ),
        (10, "ほかの事業所のサービスです"),
        (11, "担当外の市区町村（練馬区）のサービスは登録できません"),
        (12, "すでに登録されています"),
        (13, "2行目と同じサービスです"),
        (14, "いつ時点の空きかを"),
    ] {
        assert!(
            row_says(&dry.body, line, message),
            "row {line}: expected 「{message}」 in {}",
            dry.body
        );
    }
    assert!(!dry.body.contains("/commit"), "no way to commit");
    // The commit, sent anyway, checks again and writes nothing.
    let refused = post_step(&app, &s, &id, "commit", &form).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("どの行も登録していません"));
    assert_eq!(counts(&app).await, before);
    // The upload is still there to check again after fixing the mapping.
    let page = app.get_as(&s, &format!("/directory/import/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);

    // The mapping's own problems: a required column left out, vacancies without a date.
    let mut no_kind = form.clone();
    for (_, value) in &mut no_kind {
        if value == "kind" || value == "as_of" {
            value.clear();
        }
    }
    let res = post_step(&app, &s, &id, "check", &no_kind).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(
        res.body.contains("「種別」の列を選んでください")
            && res.body.contains("「空きの時点」の列も選んでください"),
        "{}",
        res.body
    );
    assert_eq!(counts(&app).await, before);
}

#[tokio::test]
async fn malformed_files_are_refused_in_japanese_and_nothing_is_kept() {
    let (app, world) = world().await;
    let s = town_staff(&app, &world).await;
    let uploads = "SELECT count(*) FROM uploads";
    for (name, bytes, message) in [
        (
            "broken.xlsx",
            b"PK\x03\x04 not really a workbook".to_vec(),
            "ファイルを読み取れませんでした",
        ),
        (
            "photo.csv",
            vec![0xFF, 0xD8, 0xFF, 0x00, 0x81, 0xFF, 0xFE],
            "ファイルを読み取れませんでした",
        ),
        ("empty.csv", Vec::new(), "取り込むファイルを選んでください"),
        (
            "heading-only.csv",
            "事業所名,種別,サービス名\n".as_bytes().to_vec(),
            "取り込む行がありません",
        ),
        (
            "many.csv",
            format!("事業所名\n{}", "さくら会\n".repeat(2_001)).into_bytes(),
            "2000行まで",
        ),
    ] {
        let res = upload(&app, &s, name, &bytes).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{name}: {}", res.body);
        assert!(res.body.contains(message), "{name}: {}", res.body);
        assert_eq!(app.count(uploads, &[]).await, 0, "{name}");
    }
    // A workbook whose sheet is not what it says.
    let mut book = rust_xlsxwriter::Workbook::new();
    book.add_worksheet().write_string(0, 0, "事業所名").unwrap();
    let whole = book.save_to_buffer().unwrap();
    let res = upload(&app, &s, "cut.xlsx", &whole[..whole.len() / 2]).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
    assert!(res.body.contains("ファイルを読み取れませんでした"));
    assert_eq!(app.count(SERVICES, &[]).await, 0);
}

/// Two commits of one upload at once (a double click, a replay racing the first): exactly
/// one writes, the other is told it was imported.
#[tokio::test]
async fn two_commits_of_one_file_at_once_import_it_once() {
    let (app, world) = world().await;
    let s = town_staff(&app, &world).await;
    let id = uploaded(&app, &s, "twice.csv", &bom_csv(GOOD)).await;
    let form = guessed_form(&app, &s, &id).await;
    let before = counts(&app).await;
    let (a, b) = tokio::join!(
        post_step(&app, &s, &id, "commit", &form),
        post_step(&app, &s, &id, "commit", &form)
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
    let (services, organisations, vacancies) = before;
    assert_eq!(
        counts(&app).await,
        (services + 3, organisations + 1, vacancies + 2)
    );
}

#[tokio::test]
async fn only_a_towns_staff_import_and_an_upload_stays_with_its_uploader() {
    let (app, world) = world().await;
    let itabashi = town_staff(&app, &world).await;
    // A facility keeps its own entries, not a town's list; nor do the consultation office
    // or the support centre, who may keep their own organisation's.
    for role in [
        Role::FacilityStaff,
        Role::Coordinator,
        Role::SupportCenterStaff,
    ] {
        let session = world.login_as(&app, role).await;
        let person = &world.person(role).id;
        let denied = app.audit_count(person, "denied", "denied").await;
        let res = app.get_as(&session, "/directory/import").await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{role:?}");
        assert!(
            res.body.contains("市区町村の職員が使えます"),
            "{}",
            res.body
        );
        let res = upload(&app, &session, "list.csv", &bom_csv(GOOD)).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{role:?}");
        let (status, _) = get_bytes(&app, Some(&session), "/directory/import/template.csv").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role:?}");
        assert_eq!(
            app.audit_count(person, "denied", "denied").await,
            denied + 3
        );
        let mine = app.get_as(&session, "/directory/mine").await;
        assert!(!mine.body.contains("/directory/import"), "{role:?}");
    }
    for role in [Role::Guardian, Role::CouncilViewer, Role::PrefectureAdmin] {
        let session = world.login_as(&app, role).await;
        let res = app.get_as(&session, "/directory/import").await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{role:?}");
    }
    assert_eq!(app.count("SELECT count(*) FROM uploads", &[]).await, 0);

    // 練馬区's staff cannot open, check or commit 板橋区's upload: 404, audited.
    let id = uploaded(&app, &itabashi, "list.csv", &bom_csv(GOOD)).await;
    let form = guessed_form(&app, &itabashi, &id).await;
    let nerima = world.sign_in(&app, &world.nerima_staff).await;
    let denied = app
        .audit_count(&world.nerima_staff.id, "denied", "denied")
        .await;
    let res = app
        .get_as(&nerima, &format!("/directory/import/{id}"))
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(!res.body.contains("さくら会"));
    for step in ["check", "commit"] {
        let res = post_step(&app, &nerima, &id, step, &form).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{step}");
    }
    assert_eq!(
        app.audit_count(&world.nerima_staff.id, "denied", "denied")
            .await,
        denied + 3
    );
    assert_eq!(app.count(SERVICES, &[]).await, 0);
    // An upload is used by the import it was sent to only.
    let res = app
        .get_as(&itabashi, &format!("/children/import/{id}"))
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let children = upload_to(
        &app,
        &itabashi,
        "/children/import",
        "children.csv",
        &bom_csv("氏名,ふりがな\n山田 はな,やまだ はな\n"),
    )
    .await;
    let children_id = children
        .header("location")
        .strip_prefix("/children/import/")
        .expect("a children's upload")
        .to_string();
    let res = app
        .get_as(&itabashi, &format!("/directory/import/{children_id}"))
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_template_names_every_column_and_its_example_row_is_never_imported() {
    let (app, world) = world().await;
    let s = town_staff(&app, &world).await;
    let (status, bytes) = get_bytes(&app, Some(&s), "/directory/import/template.csv").await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap().to_vec()).unwrap();
    let heading = text.lines().next().unwrap();
    for label in [
        "事業所名",
        "種別",
        "サービス名",
        "市区町村コード",
        "受け入れる医療的ケア",
        "対応年齢(から)",
        "空き(人数)",
        "空きの時点",
        "公開しない項目",
    ] {
        assert!(heading.split(',').any(|h| h == label), "{label}: {heading}");
    }
    assert!(text.contains("記入例 ひまわり保育園"), "{text}");
    let before = counts(&app).await;

    // Sent back as it is: the example is left out, so nothing is imported.
    let id = uploaded(&app, &s, "template.csv", text.as_bytes()).await;
    let form = guessed_form(&app, &s, &id).await;
    let dry = post_step(&app, &s, &id, "check", &form).await;
    assert!(
        dry.body.contains("記入例の行なので取り込みません"),
        "{}",
        dry.body
    );
    assert!(dry.body.contains("登録する行がありません"), "{}", dry.body);
    let res = post_step(&app, &s, &id, "commit", &form).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(counts(&app).await, before);

    // The example made real imports as the template says.
    let real = text.replace("記入例 ", "");
    let id = uploaded(&app, &s, "filled.csv", real.as_bytes()).await;
    let form = guessed_form(&app, &s, &id).await;
    let done = post_step(&app, &s, &id, "commit", &form).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM services s JOIN organisations o ON o.id = s.organisation_id \
             WHERE s.name = $1 AND o.name = $2 AND o.kana = $3",
            &[
                "ひまわり保育園",
                "社会福祉法人 ひまわり会",
                "きにゅうれい ひまわりかい"
            ],
        )
        .await,
        1
    );
}
