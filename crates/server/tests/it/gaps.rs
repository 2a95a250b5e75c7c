//! The gaps table: children who will need a kind of service against the services that fit
//! them, per municipality and 圏域, with small counts hidden from viewers who may not see the
//! records; the plan targets met alone, through the 圏域 or named missing; and the 協議の場
//! recorded by its own town only.

use axum::http::StatusCode;
use tsunagu_core::access::Role;
use tsunagu_core::care::CareItem;

use crate::support::{TestApp, World, directory_changed, directory_service, facility, world};

async fn exec(app: &TestApp, sql: &str, binds: &[&str]) {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
    for b in binds {
        query = query.bind(b.to_string());
    }
    query.execute(app.db.pool()).await.expect("setup statement");
}

/// The 板橋区 family's child needs 吸引 and a guardian works; so does the 練馬区 child's.
async fn families_at_work(app: &TestApp, world: &World) {
    for child in [&world.children.itabashi_family, &world.children.nerima] {
        exec(
            app,
            &format!(
                "UPDATE children SET care_mask = {} WHERE id = $1",
                CareItem::Suction.bit()
            ),
            &[child.as_str()],
        )
        .await;
        exec(
            app,
            "INSERT INTO guardians (id, child_id, position, name, relation, employment, wishes_to_work) \
             VALUES ($1, $2, 0, '保護者', '母', 'working', 'unknown')",
            &[&uuid::Uuid::new_v4().to_string(), child.as_str()],
        )
        .await;
    }
}

/// The cell of a need in a row of the page (the text between the row's id and its end).
fn row<'a>(body: &'a str, id: &str) -> &'a str {
    let start = body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no row {id}"));
    let rest = &body[start..];
    &rest[..rest.find("</tr>").unwrap_or(rest.len())]
}

#[tokio::test]
async fn each_need_is_counted_against_the_services_that_fit_and_small_cells_are_hidden() {
    let (app, world) = world().await;
    families_at_work(&app, &world).await;
    let town = world.login_as(&app, Role::MunicipalStaff).await;

    // No nursery yet: the 板橋区 child has none that fits. Their own town sees the count.
    let page = app.get_as(&town, "/gaps").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let itabashi = row(&page.body, "town-131199");
    assert!(itabashi.contains("必要 1人"), "{itabashi}");
    assert!(itabashi.contains("受け皿なし <strong>1人"), "{itabashi}");
    // 練馬区's children are not the town's to count.
    let nerima = row(&page.body, "town-131202");
    assert!(nerima.contains("必要 —"), "{nerima}");
    assert!(!nerima.contains("1人"), "{nerima}");
    // Reading counts drawn from records is audited, naming the prefecture.
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE actor_account_id = $1 AND resource_type = 'gaps' AND resource_id = '13'",
            &[world.person(Role::MunicipalStaff).id.as_str()],
        )
        .await,
        1
    );

    // A nursery of 板橋区 accepting 吸引 with two places free: the child is covered.
    let nursery = directory_service(
        &app,
        &world.organisations["nursery"],
        "131199",
        "ひだまり保育園",
    )
    .await;
    exec(
        &app,
        "INSERT INTO service_vacancies (id, service_id, class_age, vacancies, as_of, recorded_at, recorded_by) \
         VALUES ($1, $2, 3, 2, '2026-11-01', 0, NULL)",
        &[&uuid::Uuid::new_v4().to_string(), nursery.as_str()],
    )
    .await;
    directory_changed(&app).await;
    let page = app.get_as(&town, "/gaps").await;
    let itabashi = row(&page.body, "town-131199");
    assert!(itabashi.contains("受け皿なし 0人"), "{itabashi}");
    assert!(itabashi.contains("1か所・空き2人"), "{itabashi}");
    // The area (区部) holds both wards: the staff may not see 練馬区's, so it is hidden.
    let kubu = row(&page.body, "area-13-kubu");
    assert!(kubu.contains("必要 —"), "{kubu}");

    // The prefecture sees every town, but one or two children are 「2人以下」.
    let prefecture = world.login_as(&app, Role::PrefectureAdmin).await;
    let page = app.get_as(&prefecture, "/gaps").await;
    assert_eq!(page.status, StatusCode::OK);
    for id in ["town-131199", "town-131202", "area-13-kubu"] {
        let cells = row(&page.body, id);
        assert!(
            cells.contains("必要 <span class=\"suppressed\">2人以下"),
            "{id}: {cells}"
        );
        assert!(
            !cells.contains("必要 1人") && !cells.contains("必要 2人"),
            "{cells}"
        );
    }
    assert!(page.body.contains("id=\"suppressed-note\""));
    // So does the council: its own town only, hidden all the same.
    let council = world.login_as(&app, Role::CouncilViewer).await;
    let page = app.get_as(&council, "/gaps").await;
    assert!(row(&page.body, "town-131199").contains("2人以下"));
    assert!(row(&page.body, "town-131202").contains("必要 —"));

    // The spreadsheet says the same, suppressed words in place of numbers.
    let (status, csv) =
        crate::support::get_bytes(&app, Some(&prefecture), "/gaps/export.csv").await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(csv).expect("UTF-8");
    assert!(text.starts_with('\u{feff}'));
    let line = text
        .lines()
        .find(|l| l.contains("板橋区"))
        .expect("板橋区's line");
    assert!(line.contains("2人以下"), "{line}");
    let (status, xlsx) =
        crate::support::get_bytes(&app, Some(&prefecture), "/gaps/export.xlsx").await;
    assert_eq!(status, StatusCode::OK);
    assert!(xlsx.starts_with(b"PK"));

    // Another prefecture's table is not the town's to open; a facility has no figures.
    assert_eq!(
        app.get_as(&town, "/gaps?prefecture=01").await.status,
        StatusCode::NOT_FOUND
    );
    let facility_staff = world.login_as(&app, Role::FacilityStaff).await;
    assert_ne!(
        app.get_as(&facility_staff, "/gaps").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn plan_targets_are_met_alone_or_through_the_area_and_forums_are_kept_by_their_town() {
    let (app, world) = world().await;
    let town = world.login_as(&app, Role::MunicipalStaff).await;
    // A 児童発達支援センター in 練馬区: 練馬区 meets the target, 板橋区 through 区部.
    let centre_org = facility(&app, "ねりま発達支援センター", "131202").await;
    let centre = directory_service(&app, &centre_org, "131202", "ねりま発達支援センター").await;
    exec(
        &app,
        "UPDATE services SET kind = 'child_development_centre' WHERE id = $1",
        &[centre.as_str()],
    )
    .await;
    directory_changed(&app).await;
    let page = app.get_as(&town, "/gaps").await;
    assert_eq!(page.status, StatusCode::OK);
    let itabashi = row(&page.body, "targets-131199");
    assert!(itabashi.contains("区部で達成"), "{itabashi}");
    assert!(
        itabashi.contains("協議の場の設置が記録されていません"),
        "{itabashi}"
    );
    assert!(row(&page.body, "targets-131202").contains("<span class=\"target-words\">達成"));
    // The prefecture's support centre is an organisation of the world.
    assert!(
        page.body
            .contains("医療的ケア児支援センター（都道府県に設置）：○ 達成")
    );

    // The town's home page names what it misses.
    let home = app.get_as(&town, "/home").await;
    assert!(
        home.body.contains("板橋区は<strong>成果目標のうち"),
        "{}",
        home.body
    );
    assert!(home.body.contains("協議の場の設置が記録されていません"));

    let forums = "SELECT count(*) FROM plan_forums";
    // A date in the future is refused beside the field; nothing is written.
    let refused = app
        .post_form_as(
            &town,
            "/gaps/forums",
            &[("place", "131199"), ("established_on", "2099-04-01")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("設置日に未来の日付は入力できません"));
    assert_eq!(app.count(forums, &[]).await, 0);
    // Another town's forum is not this town's to record: 404, audited, nothing written.
    let other = app
        .post_form_as(
            &town,
            "/gaps/forums",
            &[("place", "131202"), ("established_on", "2024-04-01")],
        )
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count(forums, &[]).await, 0);
    assert!(
        app.audit_count(
            world.person(Role::MunicipalStaff).id.as_str(),
            "denied",
            "denied"
        )
        .await
            >= 1
    );
    // Its own, in 和暦: recorded, and the target is met.
    let saved = app
        .post_form_as(
            &town,
            "/gaps/forums",
            &[
                ("place", "131199"),
                ("established_on", "令和6年4月1日"),
                ("note", "板橋区医療的ケア児等支援協議会"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = app.get_as(&town, "/gaps?saved=1").await;
    assert!(page.body.contains("協議の場の設置を記録しました"));
    assert!(
        page.body
            .contains("2024-04-01 設置（板橋区医療的ケア児等支援協議会）")
    );
    assert!(!row(&page.body, "targets-131199").contains("協議の場の設置が記録されていません"));

    // The prefecture records the 区部 forum: 練馬区 meets it through the area.
    let prefecture = world.login_as(&app, Role::PrefectureAdmin).await;
    let saved = app
        .post_form_as(
            &prefecture,
            "/gaps/forums",
            &[("place", "13-kubu"), ("established_on", "2023-10-01")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = app.get_as(&prefecture, "/gaps").await;
    assert!(!row(&page.body, "targets-131202").contains("協議の場の設置が記録されていません"));
    // The town cannot remove the area's record (it does not keep every town of it) …
    let removal = app
        .post_form_as(&town, "/gaps/forums/remove", &[("place", "13-kubu")])
        .await;
    assert_eq!(removal.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count(forums, &[]).await, 2);
    // … but its own, yes.
    let removal = app
        .post_form_as(&town, "/gaps/forums/remove", &[("place", "131199")])
        .await;
    assert_eq!(removal.status, StatusCode::SEE_OTHER);
    assert_eq!(app.count(forums, &[]).await, 1);
}
