//! The notice area: the family and the record's owner are told when someone opens the
//! record by break-glass (the break-glass page promises it), a family is told how their
//! change request was decided; the header counts what is unread; each person sees only
//! their own; and the home page lists the work waiting.

use axum::http::StatusCode;
use tsunagu_core::access::Role;

use crate::support::{TestApp, signed_in};

const REASON: &str = "救急搬送先の病院から、人工呼吸器の設定の照会があったため";

async fn notices_of(app: &TestApp, account: &str) -> i64 {
    app.count(
        "SELECT count(*) FROM notices WHERE account_id = $1",
        &[account],
    )
    .await
}

#[tokio::test]
async fn a_break_glass_opening_is_told_to_the_family_and_the_owner_and_no_one_else() {
    let (app, world, itabashi) = signed_in(Role::MunicipalStaff).await;
    let nerima_child = world.children.nerima.clone();
    let before_other = notices_of(&app, &world.person(Role::Guardian).id).await;
    let res = app
        .post_form_as(
            &itabashi,
            "/break-glass",
            &[
                ("resource_type", "child"),
                ("resource_id", &nerima_child),
                ("reason", REASON),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);

    // The 練馬区 family: one notice, counted in the header, naming who and why.
    let family = world.sign_in(&app, &world.nerima_guardian).await;
    let home = app.get_as(&family, "/home").await;
    assert!(
        home.body.contains("aria-label=\"未読 1件\""),
        "{}",
        home.body
    );
    assert!(home.body.contains("未読 1件"));
    let list = app.get_as(&family, "/notices").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body.contains("緊急閲覧（ブレークグラス）"),
        "{}",
        list.body
    );
    assert!(list.body.contains(REASON));
    assert!(list.body.contains("板橋区"), "who opened it");
    // Opening it marks it read and leads to the record's access history.
    let id: String = app
        .text(
            "SELECT id FROM notices WHERE account_id = $1",
            &[&world.nerima_guardian.id],
        )
        .await;
    let open = app.get_as(&family, &format!("/notices/{id}")).await;
    assert_eq!(open.status, StatusCode::SEE_OTHER);
    assert_eq!(
        open.header("location"),
        format!("/children/{nerima_child}/access-log")
    );
    let home = app.get_as(&family, "/home").await;
    assert!(!home.body.contains("aria-label=\"未読"), "read now");

    // The owner's staff are told too, and asked to review.
    let owner = world.sign_in(&app, &world.nerima_staff).await;
    let list = app.get_as(&owner, "/notices").await;
    assert!(list.body.contains("取り消してください"), "{}", list.body);
    let home = app.get_as(&owner, "/home").await;
    assert!(
        home.body.contains("緊急閲覧で開かれている記録"),
        "{}",
        home.body
    );
    // Someone else's notice is not found, for the owner as for anyone.
    let foreign = app.get_as(&owner, &format!("/notices/{id}")).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);

    // Nobody else heard of it: not 板橋区's family, not the opener.
    assert_eq!(
        notices_of(&app, &world.person(Role::Guardian).id).await,
        before_other
    );
    assert_eq!(
        notices_of(&app, &world.person(Role::MunicipalStaff).id).await,
        0
    );
}

#[tokio::test]
async fn a_family_hears_how_their_request_was_decided_and_staff_see_it_waiting() {
    let (app, world, staff) = signed_in(Role::MunicipalStaff).await;
    let id = world.children.itabashi_family.clone();
    let family = world.login_as(&app, Role::Guardian).await;
    let res = app
        .post_form_as(
            &family,
            &format!("/children/{id}/proposals"),
            &[
                ("address", "板橋区大山町7-7"),
                ("g0_name", "山田 さくら"),
                ("g0_relation", "母"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    // Waiting: on the staff's home with the child's name, on the family's as theirs.
    let home = app.get_as(&staff, "/home").await;
    assert!(
        home.body.contains("ご家族からの変更の申出（確認待ち）"),
        "{}",
        home.body
    );
    assert!(home.body.contains("山田 はると"));
    let home = app.get_as(&family, "/home").await;
    assert!(
        home.body.contains("確認を待っている変更の申出"),
        "{}",
        home.body
    );
    let proposal: String = app
        .text("SELECT id FROM child_proposals WHERE child_id = $1", &[&id])
        .await;
    let res = app
        .post_form_as(
            &staff,
            &format!("/children/{id}/proposals/{proposal}/decision"),
            &[("decision", "decline"), ("note", "電話で確認します")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let list = app.get_as(&family, "/notices").await;
    assert!(list.body.contains("見送られました"), "{}", list.body);
    let home = app.get_as(&staff, "/home").await;
    assert!(!home.body.contains("ご家族からの変更の申出（確認待ち）"));
    // Marking everything read empties the count.
    let res = app.post_form_as(&family, "/notices/read", &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM notices WHERE account_id = $1 AND read_at IS NULL",
            &[&world.person(Role::Guardian).id]
        )
        .await,
        0
    );
}
