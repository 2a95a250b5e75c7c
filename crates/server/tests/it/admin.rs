//! Administration pages on the backend under test: organisations, accounts, the audit
//! trail; the reach of a prefecture's administrator; escaping; version conflicts; sessions.
//! Built on the shared [`World`](crate::support::World): 東京都 (tokyo.admin), 板橋区,
//! 札幌市 (北海道) and the operators' organisation.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::Duration;
use sqlx::Row;
use tsunagu::auth::password;
use tsunagu::db::Db;
use tsunagu_core::access::Role;
use tsunagu_core::clock::Clock;
use tsunagu_core::municipality::MunicipalityCode;

use crate::support::{NewPerson, TestApp, World, encode, form_body, shows_escaped, signed_in};

const ITABASHI: &str = "131199";
const SAPPORO: &str = "011002";
const SCRIPT: &str = "<script>alert(1)</script>";
const SQLISH: &str = "' OR 1=1 --";

async fn text(db: &Db, sql: &'static str, bind: &str) -> String {
    sqlx::query(sql)
        .bind(bind)
        .fetch_one(db.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

/// A flag column, selected `AS f`, read the way the app reads flags on both backends.
async fn flag(db: &Db, sql: &'static str, bind: &str) -> bool {
    let row = sqlx::query(sql)
        .bind(bind)
        .fetch_one(db.pool())
        .await
        .unwrap();
    tsunagu::db::codec::get_flag(&row, "f").unwrap()
}

async fn is_active(app: &TestApp, account_id: &str) -> bool {
    flag(
        &app.db,
        "SELECT active AS f FROM accounts WHERE id = $1",
        account_id,
    )
    .await
}

async fn sessions_of(app: &TestApp, account_id: &str) -> i64 {
    app.count(
        "SELECT count(*) FROM sessions WHERE account_id = $1",
        &[account_id],
    )
    .await
}

async fn memberships_of(app: &TestApp, account_id: &str) -> i64 {
    app.count(
        "SELECT count(*) FROM memberships WHERE account_id = $1",
        &[account_id],
    )
    .await
}

/// `(action, resource_id, fields, detail)` of every audit entry, oldest first.
async fn audit_rows(db: &Db) -> Vec<(String, String, String, String)> {
    sqlx::query(
        "SELECT action, resource_id, fields, detail FROM audit_log WHERE $1 = '' ORDER BY seq",
    )
    .bind("")
    .fetch_all(db.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| {
        (
            r.try_get("action").unwrap(),
            r.try_get::<Option<String>, _>("resource_id")
                .unwrap()
                .unwrap_or_default(),
            r.try_get("fields").unwrap(),
            r.try_get("detail").unwrap(),
        )
    })
    .collect()
}

fn assert_escaped(body: &str, raw: &str) {
    assert!(!body.contains(raw), "{raw} reflected raw");
    assert!(shows_escaped(body, raw), "{raw} not shown escaped");
}

/// The initial password from the result page.
fn shown_password(body: &str) -> String {
    const MARK: &str = "id=\"initial-password\">";
    let start = body.find(MARK).expect("password shown") + MARK.len();
    body[start..]
        .split('<')
        .next()
        .unwrap_or_default()
        .to_string()
}

fn org<'w>(world: &'w World, key: &str) -> &'w str {
    &world.organisations[key]
}

/// An organisation's edit form, all fields given.
fn org_form<'a>(
    name: &'a str,
    kana: &'a str,
    kind: &'a str,
    department: &'a str,
    code: &'a str,
    version: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("kana", kana),
        ("kind", kind),
        ("department", department),
        ("municipality_code", code),
        ("active", "1"),
        ("version", version),
    ]
}

#[tokio::test]
async fn municipal_staff_are_refused_every_admin_page() {
    let (app, world, staff) = signed_in(Role::MunicipalStaff).await;
    let me = world.person(Role::MunicipalStaff).id.clone();
    for uri in [
        "/admin/organisations".to_string(),
        "/admin/organisations/new".to_string(),
        format!("/admin/organisations/{}", org(&world, "itabashi-welfare")),
        "/admin/accounts".to_string(),
        "/admin/accounts/new".to_string(),
        format!("/admin/accounts/{me}"),
        "/admin/audit".to_string(),
        "/admin/audit/export.csv".to_string(),
    ] {
        let res = app.get_as(&staff, &uri).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{uri}");
        assert!(res.body.contains("権限がありません"), "{uri}");
    }
    let res = app
        .post_form_as(
            &staff,
            "/admin/organisations",
            &[
                ("name", "x"),
                ("kana", "えっくす"),
                ("kind", "facility"),
                ("municipality_code", ITABASHI),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = app
        .post_form_as(&staff, &format!("/admin/accounts/{me}/deactivate"), &[])
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(is_active(&app, &me).await);
    // The refusals are audited; without a session it is the sign-in page.
    assert!(app.audit_count(&me, "denied", "denied").await >= 10);
    assert_eq!(
        app.get("/admin/accounts").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn organisations_are_validated_and_stored_verbatim() {
    let (app, _world, tokyo) = signed_in(Role::PrefectureAdmin).await;
    let all = "SELECT count(*) FROM organisations";
    let before = app.count(all, &[]).await;

    // Wrong check digit, and a municipal department without its department.
    let res = app
        .post_form_as(
            &tokyo,
            "/admin/organisations",
            &[
                ("name", "板橋区 子ども家庭部"),
                ("kana", "いたばしく"),
                ("kind", "municipal_department"),
                ("department", ""),
                ("municipality_code", "131190"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(
        res.body.contains("検査数字（6桁目）が正しくありません"),
        "{}",
        res.body
    );
    assert!(res.body.contains("担当分野（障害福祉"), "{}", res.body);
    assert!(res.body.contains("板橋区 子ども家庭部"), "values kept");

    // A well-formed code naming no municipality; one in another prefecture; a department
    // for a facility; the operators' kind, which only a system administrator may choose;
    // a families' organisation, which tsunagu makes itself.
    let nowhere = MunicipalityCode::parse("13999").unwrap().to_string();
    for (kind, department, code, message) in [
        ("facility", "", nowhere.as_str(), "見つかりません"),
        ("facility", "", SAPPORO, "管理する都道府県の外"),
        ("facility", "health", ITABASHI, "担当分野は、種別が"),
        ("system", "", ITABASHI, "種別を選んでください"),
        ("family", "", ITABASHI, "自動で作られます"),
    ] {
        let res = app
            .post_form_as(
                &tokyo,
                "/admin/organisations",
                &[
                    ("name", "ひまわり"),
                    ("kana", "ひまわり"),
                    ("kind", kind),
                    ("department", department),
                    ("municipality_code", code),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{code}");
        assert!(res.body.contains(message), "{message}: {}", res.body);
    }
    // Kana must be kana; what was typed comes back escaped.
    let res = app
        .post_form_as(
            &tokyo,
            "/admin/organisations",
            &[
                ("name", SQLISH),
                ("kana", SCRIPT),
                ("kind", "facility"),
                ("municipality_code", ITABASHI),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("ふりがなを"));
    assert_escaped(&res.body, SCRIPT);
    assert!(shows_escaped(&res.body, SQLISH) && !res.body.contains("value=\"' OR"));
    assert_eq!(app.count(all, &[]).await, before, "nothing created");

    // Metacharacters in the name are stored verbatim and shown escaped.
    let name = format!("{SCRIPT}{SQLISH}");
    let res = app
        .post_form_as(
            &tokyo,
            "/admin/organisations",
            &[
                ("name", &name),
                ("kana", "ひまわりほいくか"),
                ("kind", "municipal_department"),
                ("department", "childcare"),
                ("municipality_code", "13119"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(app.count(all, &[]).await, before + 1);
    let id = text(
        &app.db,
        "SELECT id FROM organisations WHERE kana = $1",
        "ひまわりほいくか",
    )
    .await;
    assert_eq!(
        text(&app.db, "SELECT name FROM organisations WHERE id = $1", &id).await,
        name
    );
    assert_eq!(
        text(
            &app.db,
            "SELECT municipality_code FROM organisations WHERE id = $1",
            &id
        )
        .await,
        ITABASHI,
        "a 5-digit code is stored with its check digit"
    );
    assert_eq!(
        res.header("location"),
        format!("/admin/organisations/{id}?saved=1")
    );
    let page = app
        .get_as(&tokyo, &format!("/admin/organisations/{id}?saved=1"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("保存しました"));
    assert_escaped(&page.body, SCRIPT);
    assert!(shows_escaped(&page.body, SQLISH));
    let list = app.get_as(&tokyo, "/admin/organisations").await;
    assert_escaped(&list.body, SCRIPT);
    let search = app
        .get_as(
            &tokyo,
            &format!("/admin/organisations?q={}", encode(SCRIPT)),
        )
        .await;
    assert_eq!(search.status, StatusCode::OK);
    assert!(search.body.contains(">1 件<"), "{}", search.body);
    assert_escaped(&search.body, SCRIPT);

    let audit = audit_rows(&app.db).await;
    let created = audit.last().unwrap();
    assert_eq!(
        (created.0.as_str(), created.1.as_str()),
        ("create", id.as_str())
    );
    assert!(created.2.contains("municipality_code"));
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_and_changes_nothing() {
    let (app, world, admin) = signed_in(Role::SystemAdmin).await;
    let id = org(&world, "consultation").to_string();
    let uri = format!("/admin/organisations/{id}");
    let kana = "そうだんしえんじぎょうしょ みどりのて";
    let page = app.get_as(&admin, &uri).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("name=\"version\" value=\"1\""));

    let form = |name, version| org_form(name, kana, "consultation_office", "", ITABASHI, version);
    let first = app
        .post_form_as(&admin, &uri, &form("みどりのて 板橋", "1"))
        .await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    // A second administrator who opened the page at version 1 saves later.
    let second = app
        .post_form_as(&admin, &uri, &form("上書きの名前", "1"))
        .await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert!(
        second.body.contains("ほかの人が更新しました"),
        "{}",
        second.body
    );
    assert!(
        second.body.contains("みどりのて 板橋"),
        "the latest content is shown"
    );
    assert!(second.body.contains("name=\"version\" value=\"2\""));
    assert_eq!(
        text(&app.db, "SELECT name FROM organisations WHERE id = $1", &id).await,
        "みどりのて 板橋"
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM organisations WHERE id = $1 AND version = 2",
            &[&id]
        )
        .await,
        1
    );
    let updates: Vec<_> = audit_rows(&app.db)
        .await
        .into_iter()
        .filter(|r| r.0 == "update")
        .collect();
    assert_eq!(updates.len(), 1);
    assert_eq!(
        (updates[0].1.as_str(), updates[0].2.as_str()),
        (id.as_str(), r#"["name"]"#)
    );

    // Deactivating is one more change; saving the same again writes nothing.
    let mut off = form("みどりのて 板橋", "2");
    off[5] = ("active", "0");
    let res = app.post_form_as(&admin, &uri, &off).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(
        !flag(
            &app.db,
            "SELECT active AS f FROM organisations WHERE id = $1",
            &id
        )
        .await
    );
    off[6] = ("version", "3");
    let res = app.post_form_as(&admin, &uri, &off).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM organisations WHERE id = $1 AND version = 3",
            &[&id]
        )
        .await,
        1
    );
    // An administrator cannot switch off their own organisation.
    let system = org(&world, "system").to_string();
    let res = app
        .post_form_as(
            &admin,
            &format!("/admin/organisations/{system}"),
            &[
                ("name", "つなぐ運用管理"),
                ("kana", "つなぐうんようかんり"),
                ("kind", "system"),
                ("department", ""),
                ("municipality_code", "130001"),
                ("active", "0"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("自分が所属する組織は無効にできません"));
}

#[tokio::test]
async fn a_new_account_gets_a_one_time_password_it_must_change() {
    let (app, world, tokyo) = signed_in(Role::PrefectureAdmin).await;
    let ward = org(&world, "itabashi-welfare").to_string();
    let page = app.get_as(&tokyo, "/admin/accounts/new").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("板橋区 福祉部 障害サービス課"));
    assert!(page.body.contains("市区町村職員"));
    assert!(
        !page.body.contains("value=\"system_admin\""),
        "cannot grant system_admin"
    );
    assert!(!page.body.contains("札幌市"), "Hokkaido is not offered");

    let display_name = format!("{SCRIPT} {SQLISH}");
    let res = app
        .post_form_as(
            &tokyo,
            "/admin/accounts",
            &[
                ("login_id", "Itabashi.Yamada"),
                ("display_name", &display_name),
                ("kana", "やまだ はなこ"),
                ("organisation_id", &ward),
                ("role", "municipal_staff"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_escaped(&res.body, SCRIPT);
    assert!(
        res.body.contains("itabashi.yamada"),
        "login id folded to lower case"
    );
    let initial = shown_password(&res.body);
    assert_eq!(initial.chars().count(), password::INITIAL_PASSWORD_LENGTH);
    assert_eq!(res.header("cache-control"), "no-store");

    let id = text(
        &app.db,
        "SELECT id FROM accounts WHERE login_id = $1",
        "itabashi.yamada",
    )
    .await;
    assert_eq!(
        text(
            &app.db,
            "SELECT display_name FROM accounts WHERE id = $1",
            &id
        )
        .await,
        display_name,
        "stored verbatim"
    );
    let stored = text(
        &app.db,
        "SELECT password_hash FROM accounts WHERE id = $1",
        &id,
    )
    .await;
    assert!(stored.starts_with("$argon2id$") && !stored.contains(&initial));
    assert!(password::verify(&initial, Some(&stored)).await);
    assert!(
        flag(
            &app.db,
            "SELECT must_change_password AS f FROM accounts WHERE id = $1",
            &id
        )
        .await
    );
    // Shown once: not on the detail page, not in the audit trail.
    let detail = app.get_as(&tokyo, &format!("/admin/accounts/{id}")).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(!detail.body.contains(&initial));
    assert_escaped(&detail.body, SCRIPT);
    assert!(
        detail.body.contains("板橋区 福祉部 障害サービス課")
            && detail.body.contains("市区町村職員")
    );
    let audit = audit_rows(&app.db).await;
    assert!(audit.iter().all(|r| !r.3.contains(&initial)));
    let created = audit
        .iter()
        .find(|r| r.0 == "create" && r.1 == id)
        .expect("audited");
    assert!(created.3.contains("role=municipal_staff") && created.3.contains(&ward));
    let list = app.get_as(&tokyo, "/admin/accounts?q=yamada").await;
    assert!(list.body.contains("itabashi.yamada"));
    assert_escaped(&list.body, SCRIPT);

    // The first sign-in with it leads straight to the password change.
    let login = app
        .request(
            Request::builder()
                .method(Method::POST)
                .uri("/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(form_body(&[
                    ("login_id", "itabashi.yamada"),
                    ("password", &initial),
                ])))
                .unwrap(),
        )
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
    assert_eq!(login.header("location"), "/account/password");

    // The same id again (in capitals): refused with a message, nothing created.
    let accounts = "SELECT count(*) FROM accounts";
    let before = app.count(accounts, &[]).await;
    let res = app
        .post_form_as(
            &tokyo,
            "/admin/accounts",
            &[
                ("login_id", "ITABASHI.YAMADA"),
                ("display_name", "別の人"),
                ("kana", "べつのひと"),
                ("organisation_id", &ward),
                ("role", "municipal_staff"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(
        res.body
            .contains("ログインID「itabashi.yamada」はすでに使われています"),
        "{}",
        res.body
    );
    assert!(!res.body.contains("initial-password"));
    // A family's account is made from their child's record, in the town's families'
    // organisation: neither the role nor that organisation is offered or taken here.
    assert!(!page.body.contains("value=\"guardian\""));
    assert!(
        !page.body.contains("のご家族"),
        "the families are not a choice"
    );
    let families = tsunagu::organisations::repo::families_id("131199").to_string();
    for (organisation, role, says) in [
        (
            ward.as_str(),
            "guardian",
            "「ご家族のアカウント」から作ってください",
        ),
        (
            families.as_str(),
            "municipal_staff",
            "組織を一覧から選んでください",
        ),
    ] {
        let res = app
            .post_form_as(
                &tokyo,
                "/admin/accounts",
                &[
                    ("login_id", "someone.new"),
                    ("display_name", "新しい人"),
                    ("kana", "あたらしいひと"),
                    ("organisation_id", organisation),
                    ("role", role),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{role}");
        assert!(res.body.contains(says), "{role}: {}", res.body);
    }
    assert_eq!(app.count(accounts, &[]).await, before);
    // Every problem at once.
    let res = app
        .post_form_as(
            &tokyo,
            "/admin/accounts",
            &[("login_id", "a b<"), ("display_name", ""), ("kana", SQLISH)],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    for message in [
        "ログインIDは",
        "氏名（表示名）を",
        "ふりがなを",
        "組織を一覧から",
        "権限（役割）を一覧から",
    ] {
        assert!(res.body.contains(message), "{message}");
    }
    assert_eq!(app.count(accounts, &[]).await, before);
}

#[tokio::test]
async fn a_prefecture_admin_stays_in_their_prefecture() {
    let (app, world, tokyo) = signed_in(Role::PrefectureAdmin).await;
    let sapporo_org = org(&world, "sapporo-welfare").to_string();
    let system_org = org(&world, "system").to_string();
    let ward = org(&world, "itabashi-welfare").to_string();
    let sapporo_staff = world.sapporo_staff.clone();
    let system_admin = world.person(Role::SystemAdmin).clone();
    let ward_staff = world.person(Role::MunicipalStaff).clone();
    let colleague = world
        .add_person(
            &app,
            NewPerson::new(
                "tokyo.admin2",
                "都庁 次郎",
                "tokyo-centre",
                Role::PrefectureAdmin,
            ),
        )
        .await;
    world.sign_in(&app, &sapporo_staff).await;

    let orgs = app.get_as(&tokyo, "/admin/organisations").await;
    assert!(orgs.body.contains("板橋区 福祉部 障害サービス課"));
    assert!(!orgs.body.contains("札幌市"));
    assert!(
        !orgs.body.contains("つなぐ運用管理"),
        "the operators belong to no prefecture"
    );
    for id in [sapporo_org.as_str(), system_org.as_str(), "no-such-id"] {
        let uri = format!("/admin/organisations/{id}");
        assert_eq!(
            app.get_as(&tokyo, &uri).await.status,
            StatusCode::NOT_FOUND,
            "{id}"
        );
        let form = org_form("乗っ取り", "のっとり", "facility", "", ITABASHI, "1");
        let res = app.post_form_as(&tokyo, &uri, &form).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{id}");
    }
    assert_eq!(
        text(
            &app.db,
            "SELECT name FROM organisations WHERE id = $1",
            &sapporo_org
        )
        .await,
        "札幌市 保健福祉局 障がい福祉課"
    );
    // Nor can a Tokyo organisation be moved to Hokkaido.
    let form = org_form(
        "移転",
        "いてん",
        "municipal_department",
        "disability_welfare",
        SAPPORO,
        "1",
    );
    let res = app
        .post_form_as(&tokyo, &format!("/admin/organisations/{ward}"), &form)
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        text(
            &app.db,
            "SELECT municipality_code FROM organisations WHERE id = $1",
            &ward
        )
        .await,
        ITABASHI
    );

    let list = app.get_as(&tokyo, "/admin/accounts").await;
    assert!(list.body.contains("itabashi.welfare") && list.body.contains("tokyo.admin2"));
    assert!(!list.body.contains("sapporo.welfare") && !list.body.contains("<td>admin</td>"));
    for who in [&sapporo_staff, &system_admin] {
        let sessions = sessions_of(&app, &who.id).await;
        let res = app
            .get_as(&tokyo, &format!("/admin/accounts/{}", who.id))
            .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        for action in ["deactivate", "unlock", "reset-password", "reset-two-factor"] {
            let uri = format!("/admin/accounts/{}/{action}", who.id);
            let res = app.post_form_as(&tokyo, &uri, &[]).await;
            assert_eq!(res.status, StatusCode::NOT_FOUND, "{action}");
        }
        assert!(is_active(&app, &who.id).await);
        assert_eq!(sessions_of(&app, &who.id).await, sessions);
    }
    assert_eq!(sessions_of(&app, &sapporo_staff.id).await, 1);
    // A fellow prefecture admin is visible but above what Tokyo may change.
    let res = app
        .get_as(&tokyo, &format!("/admin/accounts/{}", colleague.id))
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(!res.body.contains("/reset-password\""));
    let res = app
        .post_form_as(
            &tokyo,
            &format!("/admin/accounts/{}/reset-password", colleague.id),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(res.body.contains("変更できません"));
    assert!(
        !flag(
            &app.db,
            "SELECT must_change_password AS f FROM accounts WHERE id = $1",
            &colleague.id
        )
        .await
    );

    // No administrator roles granted, and nothing in Hokkaido.
    for (organisation, role, message) in [
        (
            ward.as_str(),
            "system_admin",
            "システム管理者だけが付与できます",
        ),
        (
            ward.as_str(),
            "prefecture_admin",
            "システム管理者だけが付与できます",
        ),
        (sapporo_org.as_str(), "municipal_staff", "組織を一覧から"),
    ] {
        let res = app
            .post_form_as(
                &tokyo,
                &format!("/admin/accounts/{}/roles", ward_staff.id),
                &[("organisation_id", organisation), ("role", role)],
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{role}");
        assert!(res.body.contains(message), "{message}");
        let res = app
            .post_form_as(
                &tokyo,
                "/admin/accounts",
                &[
                    ("login_id", "new.one"),
                    ("display_name", "新人"),
                    ("kana", "しんじん"),
                    ("organisation_id", organisation),
                    ("role", role),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{role}");
        assert!(res.body.contains(message), "{message}");
    }
    assert_eq!(memberships_of(&app, &ward_staff.id).await, 1);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM accounts WHERE login_id = $1",
            &["new.one"]
        )
        .await,
        0
    );
    assert!(
        audit_rows(&app.db)
            .await
            .iter()
            .any(|r| r.0 == "denied" && r.1 == sapporo_staff.id),
        "the probes are audited"
    );
}

#[tokio::test]
async fn roles_deactivation_unlock_and_resets() {
    let (app, world, admin) = signed_in(Role::SystemAdmin).await;
    let me = world.person(Role::SystemAdmin).clone();
    let staff = world.person(Role::MunicipalStaff).clone();
    let id = staff.id.clone();
    let ward = org(&world, "itabashi-welfare").to_string();
    let first = world.sign_in(&app, &staff).await;
    let second = world.sign_in(&app, &staff).await;
    assert_eq!(sessions_of(&app, &id).await, 2);

    // Roles: added, then removed, each audited.
    let roles = format!("/admin/accounts/{id}/roles");
    let grant = [("organisation_id", ward.as_str()), ("role", "coordinator")];
    let res = app.post_form_as(&admin, &roles, &grant).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(memberships_of(&app, &id).await, 2);
    let detail = app
        .get_as(&admin, &format!("/admin/accounts/{id}?done=role_added"))
        .await;
    assert!(detail.body.contains("権限を追加しました"));
    assert!(detail.body.contains("医療的ケア児等コーディネーター"));
    let res = app
        .post_form_as(&admin, &format!("{roles}/remove"), &grant)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(memberships_of(&app, &id).await, 1);
    let changes: Vec<_> = audit_rows(&app.db)
        .await
        .into_iter()
        .filter(|r| r.0 == "role_change")
        .collect();
    assert_eq!(changes.len(), 2);
    assert!(changes[0].3.contains("add role=coordinator") && changes[0].3.contains(&ward));
    assert!(changes[1].3.contains("remove role=coordinator"));

    // Not on oneself.
    let res = app
        .post_form_as(
            &admin,
            &format!("/admin/accounts/{}/deactivate", me.id),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("自分のアカウントの無効化はできません"));
    let res = app
        .post_form_as(
            &admin,
            &format!("/admin/accounts/{}/roles/remove", me.id),
            &[
                ("organisation_id", org(&world, "system")),
                ("role", "system_admin"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(
        res.body
            .contains("自分のアカウントの権限の変更はできません")
    );
    assert!(is_active(&app, &me.id).await);
    assert_eq!(memberships_of(&app, &me.id).await, 1);

    // A lockout shows in the list, and unlocking clears it.
    sqlx::query("UPDATE accounts SET failed_logins = 3, locked_until = $1 WHERE id = $2")
        .bind((world.clock.now() + Duration::minutes(10)).timestamp_millis())
        .bind(id.as_str())
        .execute(app.db.pool())
        .await
        .unwrap();
    let list = app
        .get_as(&admin, "/admin/accounts?q=itabashi.welfare")
        .await;
    assert!(
        list.body.contains("ロック中") && list.body.contains("3 回"),
        "{}",
        list.body
    );
    let res = app
        .post_form_as(&admin, &format!("/admin/accounts/{id}/unlock"), &[])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM accounts WHERE id = $1 AND failed_logins = 0 AND locked_until IS NULL",
            &[&id]
        )
        .await,
        1
    );
    let list = app
        .get_as(&admin, "/admin/accounts?q=itabashi.welfare")
        .await;
    assert!(!list.body.contains("ロック中"));
    assert!(
        audit_rows(&app.db)
            .await
            .iter()
            .any(|r| r.0 == "account_unlocked" && r.1 == id)
    );

    // Deactivation ends every session at once.
    assert_eq!(app.get_as(&first, "/home").await.status, StatusCode::OK);
    let res = app
        .post_form_as(&admin, &format!("/admin/accounts/{id}/deactivate"), &[])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(sessions_of(&app, &id).await, 0);
    assert!(!is_active(&app, &id).await);
    for session in [&first, &second] {
        assert_eq!(
            app.get_as(session, "/home").await.status,
            StatusCode::SEE_OTHER
        );
    }
    let entry = audit_rows(&app.db)
        .await
        .into_iter()
        .rfind(|r| r.1 == id)
        .unwrap();
    assert_eq!(
        (entry.0.as_str(), entry.2.as_str()),
        ("update", r#"["active"]"#)
    );
    assert!(entry.3.contains("sessions_ended=2"), "{}", entry.3);
    let res = app
        .post_form_as(&admin, &format!("/admin/accounts/{id}/reactivate"), &[])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(is_active(&app, &id).await);

    // A password reset is shown once, must be changed, and ends the sessions.
    let again = world.sign_in(&app, &staff).await;
    let res = app
        .post_form_as(&admin, &format!("/admin/accounts/{id}/reset-password"), &[])
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let initial = shown_password(&res.body);
    let stored = text(
        &app.db,
        "SELECT password_hash FROM accounts WHERE id = $1",
        &id,
    )
    .await;
    assert!(password::verify(&initial, Some(&stored)).await);
    assert!(
        flag(
            &app.db,
            "SELECT must_change_password AS f FROM accounts WHERE id = $1",
            &id
        )
        .await
    );
    assert_eq!(sessions_of(&app, &id).await, 0);
    assert_eq!(
        app.get_as(&again, "/home").await.status,
        StatusCode::SEE_OTHER
    );
    let audit = audit_rows(&app.db).await;
    assert!(audit.iter().all(|r| !r.3.contains(&initial)));
    assert!(audit.iter().any(|r| r.0 == "password_change" && r.1 == id));

    // A two-factor reset forgets the secret and ends the sessions.
    assert!(
        flag(
            &app.db,
            "SELECT totp_enabled AS f FROM accounts WHERE id = $1",
            &id
        )
        .await
    );
    let res = app
        .post_form_as(
            &admin,
            &format!("/admin/accounts/{id}/reset-two-factor"),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(
        !flag(
            &app.db,
            "SELECT totp_enabled AS f FROM accounts WHERE id = $1",
            &id
        )
        .await
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM accounts WHERE id = $1 AND totp_secret IS NULL",
            &[&id]
        )
        .await,
        1
    );
    assert!(
        audit_rows(&app.db)
            .await
            .iter()
            .any(|r| r.0 == "totp_reset" && r.1 == id)
    );
}

#[tokio::test]
async fn audit_search_filters_pages_and_exports() {
    let (app, world, admin) = signed_in(Role::SystemAdmin).await;
    let tokyo = world.login_as(&app, Role::PrefectureAdmin).await;
    let hokkaido_admin = world
        .add_person(
            &app,
            NewPerson::new(
                "hokkaido.admin",
                "北海 道子",
                "sapporo-welfare",
                Role::PrefectureAdmin,
            ),
        )
        .await;
    let hokkaido = world.sign_in(&app, &hokkaido_admin).await;
    let health = org(&world, "itabashi-health").to_string();
    let sapporo = org(&world, "sapporo-welfare").to_string();
    // Each prefecture's admin edits an organisation of theirs: one entry each.
    for (who, id, code) in [(&tokyo, &health, ITABASHI), (&hokkaido, &sapporo, SAPPORO)] {
        let form = org_form(
            "保健の課",
            "ほけんのか",
            "municipal_department",
            "health",
            code,
            "1",
        );
        let res = app
            .post_form_as(who, &format!("/admin/organisations/{id}"), &form)
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    }

    let all = app.get_as(&admin, "/admin/audit").await;
    assert_eq!(all.status, StatusCode::OK);
    for column in [
        "日時(JST)",
        "操作者",
        "組織",
        "操作",
        "結果",
        "対象",
        "項目",
        "詳細",
        "接続元",
    ] {
        assert!(
            all.body
                .contains(&format!("<th scope=\"col\">{column}</th>")),
            "{column}"
        );
    }
    assert!(all.body.contains("2026-11-21 12:"), "JST time");
    assert!(all.body.contains("都庁 花子") && all.body.contains("北海 道子"));
    assert!(
        all.body.contains("ログイン"),
        "sign-ins are there for the system admin"
    );

    let by_person = app
        .get_as(&admin, "/admin/audit?login_id=tokyo.admin")
        .await;
    assert!(by_person.body.contains(&health) && !by_person.body.contains(&sapporo));
    let by_record = app
        .get_as(
            &admin,
            &format!("/admin/audit?resource_type=organisation&resource_id={sapporo}"),
        )
        .await;
    assert!(by_record.body.contains(">1 件・"), "{}", by_record.body);
    assert!(by_record.body.contains("北海 道子"));
    // The changed fields are named in Japanese, not as the code's keys.
    assert!(
        by_record.body.contains("<td>更新</td>") && by_record.body.contains("名称、よみがな"),
        "{}",
        by_record.body
    );
    assert!(!by_record.body.contains("name, kana"));
    // A person is found by a part of their name as well as by their login id.
    let by_name = app
        .get_as(&admin, &format!("/admin/audit?login_id={}", encode("都庁")))
        .await;
    assert_eq!(by_name.status, StatusCode::OK);
    assert!(by_name.body.contains(&health) && !by_name.body.contains(&sapporo));
    let unknown = app
        .get_as(&admin, &format!("/admin/audit?login_id={}", encode(SCRIPT)))
        .await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert!(unknown.body.contains("見つかりません"));
    assert_escaped(&unknown.body, SCRIPT);

    // Days are JST, both ends inclusive.
    let organisations = "/admin/audit?resource_type=organisation";
    let today = app
        .get_as(
            &admin,
            &format!("{organisations}&from=2026-11-21&to=2026-11-21"),
        )
        .await;
    assert!(today.body.contains(">2 件・"), "{}", today.body);
    for outside in ["from=2026-11-22", "to=2026-11-20"] {
        let res = app
            .get_as(&admin, &format!("{organisations}&{outside}"))
            .await;
        assert!(
            res.body.contains("条件に一致する記録はありません"),
            "{outside}"
        );
    }
    for bad in [
        "from=2026-13-01",
        "to=21%2F11%2F2026",
        "from=2026-11-22&to=2026-11-21",
    ] {
        let res = app.get_as(&admin, &format!("/admin/audit?{bad}")).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(res.body.contains("期間の"), "{bad}");
    }
    let res = app
        .get_as(&admin, "/admin/audit/export.csv?from=yesterday")
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);

    // A prefecture's admin sees the actors of their own prefecture only.
    let mine = app.get_as(&tokyo, "/admin/audit").await;
    assert!(mine.body.contains(&health) && !mine.body.contains(&sapporo));
    assert!(!mine.body.contains("北海 道子"));
    let probe = app
        .get_as(&tokyo, "/admin/audit?login_id=hokkaido.admin")
        .await;
    assert!(probe.body.contains("見つかりません"));

    // CSV: BOM, Japanese header, the same filter; the export itself is audited.
    let csv = app
        .get_as(
            &admin,
            &format!(
                "/admin/audit/export.csv?resource_type=organisation&resource_id={sapporo}&from=2026-11-21"
            ),
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.header("content-type").starts_with("text/csv"));
    assert!(csv.header("content-disposition").contains("attachment"));
    assert!(csv.body.starts_with(
        "\u{feff}連番,日時(JST),操作者,組織,操作,結果,対象種別,対象ID,児童ID,項目,詳細,接続元,ブラウザ\r\n"
    ));
    assert_eq!(csv.body.lines().count(), 2, "{}", csv.body);
    assert!(csv.body.contains(&sapporo) && csv.body.contains("更新"));
    let export = audit_rows(&app.db).await.into_iter().last().unwrap();
    assert_eq!(export.0, "export");
    assert!(export.3.contains("resource_type=organisation") && export.3.contains(&sapporo));
    assert!(
        export.3.contains("from=2026-11-21") && export.3.contains("rows=1"),
        "{}",
        export.3
    );
    let seen = app
        .get_as(&admin, "/admin/audit?resource_type=audit_log")
        .await;
    assert!(
        seen.body.contains(">1 件・") && seen.body.contains("<td>出力</td>"),
        "{}",
        seen.body
    );
    // A prefecture's export holds its own actors only.
    let csv = app
        .get_as(&tokyo, "/admin/audit/export.csv?resource_type=organisation")
        .await;
    assert!(csv.body.contains(&health) && !csv.body.contains(&sapporo));
}
