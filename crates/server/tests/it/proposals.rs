//! A family's change request never erases nor reverts data: a proposal carries only the
//! fields the family changed from the version they saw, and an older proposal laid over
//! a newer record is decided field by field, side by side, never silently.

use std::collections::HashMap;

use axum::http::StatusCode;
use tsunagu::features::children::{profile, store};
use tsunagu_core::access::Role;

use crate::support::{Session, TestApp, World, world};

async fn stored_fields(app: &TestApp, id: &str) -> (HashMap<String, String>, i64) {
    let id = tsunagu_core::ids::ChildId::parse(id).expect("a child's id");
    let (profile, version) = store::load(&app.db, &id)
        .await
        .expect("load")
        .expect("the child");
    (profile.to_fields(), version)
}

/// Staff give the family's child a full record: a 受給者証 with 医療的ケア区分 3, care
/// items, a guardian with contact details and a device.
async fn full_record(app: &TestApp, staff: &Session, id: &str) {
    let res = app
        .post_form_as(
            staff,
            &format!("/children/{id}"),
            &[
                ("version", "1"),
                ("name", "山田 はると"),
                ("kana", "やまだ はると"),
                ("birth_date", "2022-06-14"),
                ("sex", "male"),
                ("municipality_code", "131199"),
                ("address", "板橋区板橋1-1-1"),
                ("hospital", "都立小児総合医療センター"),
                ("recipient_certificate", "yes"),
                ("care_category", "3"),
                ("care_ventilator", "on"),
                ("care_suction", "on"),
                ("care_oxygen", "on"),
                ("watch_oxygen", "low"),
                ("g0_name", "山田 さくら"),
                ("g0_kana", "やまだ さくら"),
                ("g0_relation", "母"),
                ("g0_phone", "03-1234-5678"),
                ("g0_employment", "on_leave"),
                ("g0_wishes_to_work", "yes"),
                ("d0_kind", "ventilator"),
                ("d0_power_watts", "60"),
                ("d0_battery_internal_hours", "4"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
}

/// A hidden input's value in a page, with the page's HTML escapes undone.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).expect(name) + marker.len();
    let end = start + html[start..].find('"').expect("end of value");
    html[start..end]
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// What a browser sends from the family's proposal form as it was filled in on opening,
/// with `changes` typed over it: every proposable field of the record, the version and
/// what the form was made on.
async fn proposal_form(
    app: &TestApp,
    guardian: &Session,
    id: &str,
    changes: &[(&str, &str)],
) -> Vec<(String, String)> {
    let page = app
        .get_as(guardian, &format!("/children/{id}/proposals/new"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let (fields, _) = stored_fields(app, id).await;
    let mut form: Vec<(String, String)> = fields
        .into_iter()
        // What the form shows: the proposable fields (医療的ケア区分 is not among them,
        // whatever its key looks like).
        .filter(|(k, v)| k != "care_category" && profile::proposable_field(k) && !v.is_empty())
        .collect();
    // The empty guardian rows' choices arrive preselected as 未確認.
    for i in 0..3 {
        for member in ["employment", "wishes_to_work"] {
            let key = format!("g{i}_{member}");
            if !form.iter().any(|(k, _)| *k == key) {
                form.push((key, "unknown".into()));
            }
        }
    }
    form.push(("base_version".into(), hidden(&page.body, "base_version")));
    form.push(("seen".into(), hidden(&page.body, "seen")));
    for (key, value) in changes {
        form.retain(|(k, _)| k != key);
        if !value.is_empty() {
            form.push(((*key).into(), (*value).into()));
        }
    }
    form
}

async fn send(app: &TestApp, who: &Session, uri: &str, form: &[(String, String)]) -> StatusCode {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let res = app.post_form_as(who, uri, &pairs).await;
    assert!(
        res.status == StatusCode::SEE_OTHER || res.status.is_client_error(),
        "{}: {}",
        res.status,
        res.body
    );
    res.status
}

/// Staff save the record's edit form as it stands with `changes` typed over it; the new
/// version.
async fn staff_edit(app: &TestApp, staff: &Session, id: &str, changes: &[(&str, &str)]) -> i64 {
    let (mut fields, version) = stored_fields(app, id).await;
    for (key, value) in changes {
        fields.insert((*key).into(), (*value).into());
    }
    fields.insert("version".into(), version.to_string());
    let edit: Vec<(String, String)> = fields.into_iter().collect();
    assert_eq!(
        send(app, staff, &format!("/children/{id}"), &edit).await,
        StatusCode::SEE_OTHER
    );
    version + 1
}

/// Staff accept a proposal from a page that showed the record at `version`.
async fn accept(app: &TestApp, staff: &Session, id: &str, proposal: &str, version: i64) {
    let status = send(
        app,
        staff,
        &format!("/children/{id}/proposals/{proposal}/decision"),
        &[
            ("decision".into(), "accept".into()),
            ("version".into(), version.to_string()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

async fn pending_proposal(app: &TestApp, id: &str) -> String {
    let row = sqlx::query(
        "SELECT id FROM child_proposals WHERE child_id = $1 AND status = 'pending' ORDER BY proposed_at DESC",
    )
    .bind(id)
    .fetch_one(app.db.pool())
    .await
    .expect("a pending proposal");
    sqlx::Row::try_get(&row, 0).expect("id")
}

async fn setup() -> (TestApp, World, Session, Session, String) {
    let (app, world) = world().await;
    let staff = world.login_as(&app, Role::MunicipalStaff).await;
    let guardian = world.login_as(&app, Role::Guardian).await;
    let id = world.children.itabashi_family.to_string();
    full_record(&app, &staff, &id).await;
    (app, world, staff, guardian, id)
}

/// Every field of `before` except `changed` is the same in `after`.
fn only_changed(
    before: &HashMap<String, String>,
    after: &HashMap<String, String>,
    changed: &[&str],
) {
    let keys: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for key in keys {
        if changed.contains(&key.as_str()) {
            continue;
        }
        assert_eq!(
            before.get(key),
            after.get(key),
            "{key} changed although the family did not touch it"
        );
    }
}

#[tokio::test]
async fn a_proposal_of_a_new_address_and_phone_changes_only_those() {
    let (app, _world, staff, guardian, id) = setup().await;
    let (before, version) = stored_fields(&app, &id).await;
    assert_eq!(before.get("care_category").map(String::as_str), Some("3"));
    let form = proposal_form(
        &app,
        &guardian,
        &id,
        &[
            ("address", "板橋区大山町2-2"),
            ("g0_phone", "090-1111-2222"),
        ],
    )
    .await;
    let status = send(&app, &guardian, &format!("/children/{id}/proposals"), &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // The proposal holds the two fields the family changed, nothing else.
    let proposal = pending_proposal(&app, &id).await;
    let page = app.get_as(&staff, &format!("/children/{id}")).await;
    assert!(page.body.contains("保護者1の電話番号"), "{}", page.body);
    assert!(!page.body.contains("医療的ケア区分：区分3 →"));
    // Only the two fields are offered for deciding, not the empty rows' preselected
    // choices.
    assert!(!page.body.contains("保護者2の"), "{}", page.body);
    assert!(!page.body.contains("保護者3の"), "{}", page.body);
    accept(&app, &staff, &id, &proposal, version).await;
    let (after, new_version) = stored_fields(&app, &id).await;
    assert_eq!(new_version, version + 1);
    assert_eq!(after["address"], "板橋区大山町2-2");
    assert_eq!(after["g0_phone"], "090-1111-2222");
    only_changed(&before, &after, &["address", "g0_phone"]);
    assert_eq!(after.get("care_category").map(String::as_str), Some("3"));
}

#[tokio::test]
async fn a_proposal_form_sent_unchanged_is_refused_and_stores_nothing() {
    let (app, _world, _staff, guardian, id) = setup().await;
    let form = proposal_form(&app, &guardian, &id, &[]).await;
    let res = app
        .post_form_as(
            &guardian,
            &format!("/children/{id}/proposals"),
            &form
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(
        res.body.contains("変更された項目がありません"),
        "{}",
        res.body
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM child_proposals WHERE child_id = $1",
            &[&id]
        )
        .await,
        0
    );
}

#[tokio::test]
async fn an_older_proposal_never_reverts_a_newer_change() {
    let (app, _world, staff, guardian, id) = setup().await;
    // The family opens the form at this version and proposes a new phone number…
    let form = proposal_form(&app, &guardian, &id, &[("g0_phone", "090-1111-2222")]).await;
    // …while staff, meanwhile, record a new address and hospital.
    staff_edit(
        &app,
        &staff,
        &id,
        &[("address", "板橋区成増3-3"), ("hospital", "板橋中央病院")],
    )
    .await;
    assert_eq!(
        send(&app, &guardian, &format!("/children/{id}/proposals"), &form).await,
        StatusCode::SEE_OTHER
    );
    let proposal = pending_proposal(&app, &id).await;
    let (before, version) = stored_fields(&app, &id).await;
    // The page says the record changed since, and the phone applies: staff accept.
    let page = app.get_as(&staff, &format!("/children/{id}")).await;
    assert!(page.body.contains("この申出のあと、記録が更新されています"));
    accept(&app, &staff, &id, &proposal, version).await;
    let (after, _) = stored_fields(&app, &id).await;
    assert_eq!(after["g0_phone"], "090-1111-2222");
    assert_eq!(after["address"], "板橋区成増3-3", "the newer address stays");
    only_changed(&before, &after, &["g0_phone"]);
}

#[tokio::test]
async fn a_field_changed_by_both_is_chosen_side_by_side() {
    let (app, _world, staff, guardian, id) = setup().await;
    let form = proposal_form(&app, &guardian, &id, &[("address", "板橋区大山町2-2")]).await;
    assert_eq!(
        send(&app, &guardian, &format!("/children/{id}/proposals"), &form).await,
        StatusCode::SEE_OTHER
    );
    let proposal = pending_proposal(&app, &id).await;
    // Staff change the same address afterwards (a call from the family, say).
    let version = staff_edit(&app, &staff, &id, &[("address", "板橋区成増3-3")]).await;
    // Both values side by side, with what the family saw.
    let page = app.get_as(&staff, &format!("/children/{id}")).await;
    for shown in [
        "申出時の値",
        "いまの値",
        "板橋区板橋1-1-1",
        "板橋区成増3-3",
        "板橋区大山町2-2",
        "申出のあと変更されました",
    ] {
        assert!(page.body.contains(shown), "{shown}");
    }
    let decide = format!("/children/{id}/proposals/{proposal}/decision");
    // Accepting without choosing is refused, names the field, and changes nothing.
    let res = app
        .post_form_as(
            &staff,
            &decide,
            &[("decision", "accept"), ("version", &version.to_string())],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("住所"), "{}", res.body);
    let (after, unchanged) = stored_fields(&app, &id).await;
    assert_eq!(unchanged, version);
    assert_eq!(after["address"], "板橋区成増3-3");
    // A decision made on a page older than the record is refused too.
    let res = app
        .post_form_as(
            &staff,
            &decide,
            &[
                ("decision", "accept"),
                ("version", &(version - 1).to_string()),
                ("choose_address", "proposal"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    // Choosing the family's value applies it.
    let res = app
        .post_form_as(
            &staff,
            &decide,
            &[
                ("decision", "accept"),
                ("version", &version.to_string()),
                ("choose_address", "proposal"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let (after, _) = stored_fields(&app, &id).await;
    assert_eq!(after["address"], "板橋区大山町2-2");
    assert_eq!(
        app.count(
            "SELECT count(*) FROM child_proposals WHERE id = $1 AND status = 'accepted'",
            &[&proposal]
        )
        .await,
        1
    );
}
