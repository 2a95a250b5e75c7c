//! Authorisation on the backend under test: every route's rule (anonymous and half-signed-in
//! requests never get through), the role × route matrix kept here as the statement of who
//! may do what, the 板橋区 / 練馬区 boundary with its audit trail, and break-glass from request
//! to the family's history and revocation.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::Duration;
use tsunagu::auth::guard::Access;
use tsunagu_core::access::Role;
use tsunagu_core::clock::Clock;

use crate::support::{
    ITABASHI_FAMILY_NAME, ITABASHI_SHARED_NAME, NERIMA_NAME, NewPerson, SAPPORO_NAME, Session,
    TestApp, TestResponse, World, csrf_in_page, session_cookie, shows_escaped, signed_in, world,
};

const NO_SUCH_ID: &str = "00000000-0000-4000-8000-000000000000";
const REASON: &str = "災害時の安否確認のため、至急、医療的ケアの内容を確認する必要があります";

fn location(res: &TestResponse) -> &str {
    res.header("location")
}

/// A concrete path for a route pattern: every `{…}` segment replaced by `id`.
fn concrete(pattern: &str, id: &str) -> String {
    pattern
        .split('/')
        .map(|seg| {
            if seg.starts_with('{') && seg.ends_with('}') {
                id
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

// ---------------------------------------------------------------------------------------
// Route coverage
// ---------------------------------------------------------------------------------------

/// The routes anyone may use, signed in or not. Adding one is a conscious change: add it here.
const PUBLIC_ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/municipalities"),
    ("GET", "/municipalities/results"),
    ("GET", "/municipalities/{code}"),
    ("GET", "/api/v1/municipalities"),
    ("GET", "/api/v1/municipalities/{code}"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("GET", "/api/openapi.json"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/api/v1/session"),
    ("GET", "/assets/{file}"),
    ("GET", "/public/directory"),
    ("GET", "/public/directory/{id}"),
    ("GET", "/public/mentoring"),
    ("POST", "/public/mentoring"),
    ("GET", "/api/hsds/"),
    ("GET", "/api/hsds/services"),
    ("GET", "/api/hsds/services/{id}"),
    ("GET", "/api/hsds/service_at_locations"),
    ("GET", "/api/hsds/service_at_locations/{id}"),
    ("GET", "/api/hsds/organizations"),
    ("GET", "/api/hsds/organizations/{id}"),
    ("GET", "/api/hsds/taxonomies"),
    ("GET", "/api/hsds/taxonomies/{id}"),
    ("GET", "/api/hsds/taxonomy_terms"),
    ("GET", "/api/hsds/taxonomy_terms/{id}"),
    ("GET", "/api/hsds/export.zip"),
];

fn specs() -> Vec<tsunagu::auth::guard::RouteSpec> {
    tsunagu::router::routes().into_parts().1
}

#[test]
fn every_route_is_declared_once_and_the_public_ones_are_exactly_these() {
    let specs = specs();
    let mut seen = BTreeSet::new();
    for spec in &specs {
        assert!(
            seen.insert((spec.method.to_string(), spec.path)),
            "{} {} declared twice",
            spec.method,
            spec.path
        );
    }
    let public: BTreeSet<(String, &str)> = specs
        .iter()
        .filter(|s| s.access == Access::Public)
        .map(|s| (s.method.to_string(), s.path))
        .collect();
    let expected: BTreeSet<(String, &str)> = PUBLIC_ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), *p))
        .collect();
    assert_eq!(
        public, expected,
        "the public routes changed: review the new route's access rule, then update PUBLIC_ROUTES"
    );
    // Nothing under /api/ beyond sign-in and reference data is public.
    for (method, path) in &public {
        assert!(
            !path.starts_with("/api/v1/")
                || path.starts_with("/api/v1/municipalities")
                || *path == "/api/v1/session",
            "{method} {path}"
        );
    }
}

/// An anonymous request (no cookie, or one that opens nothing) to a protected route.
async fn anonymous(
    app: &TestApp,
    method: &Method,
    uri: &str,
    cookie: Option<&str>,
) -> TestResponse {
    let mut req = Request::builder().method(method.clone()).uri(uri);
    if let Some(c) = cookie {
        req = req.header("cookie", format!("tsunagu_session={c}"));
    }
    if *method != Method::GET {
        req = req.header("content-type", "application/x-www-form-urlencoded");
    }
    app.request(req.body(Body::from("csrf_token=guess")).unwrap())
        .await
}

#[tokio::test]
async fn no_protected_route_answers_anyone_who_is_not_signed_in() {
    let (app, world) = world().await;
    let children_before = app.count("SELECT count(*) FROM children", &[]).await;
    let protected: Vec<_> = specs()
        .into_iter()
        .filter(|s| s.access != Access::Public)
        .collect();
    assert!(protected.len() >= 20, "{}", protected.len());
    for spec in &protected {
        let uri = concrete(spec.path, &world.children.nerima);
        for cookie in [None, Some("not-a-session"), Some("")] {
            let res = anonymous(&app, &spec.method, &uri, cookie).await;
            let what = format!("{} {} (cookie {cookie:?})", spec.method, spec.path);
            if spec.path.starts_with("/api/") {
                assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{what}");
                assert_eq!(res.json()["error"]["code"], "unauthenticated", "{what}");
            } else {
                assert_eq!(res.status, StatusCode::SEE_OTHER, "{what}");
                let next = tsunagu::web::params::url_encode(&uri);
                assert_eq!(location(&res), format!("/login?next={next}"), "{what}");
            }
            assert!(!res.body.contains(NERIMA_NAME), "{what}");
        }
    }
    assert_eq!(
        app.count("SELECT count(*) FROM children", &[]).await,
        children_before
    );
    assert_eq!(
        app.count("SELECT count(*) FROM break_glass_grants", &[])
            .await,
        0
    );
}

/// After the password and before the second factor, only the sign-in steps and logout answer.
#[tokio::test]
async fn a_half_signed_in_session_reaches_only_the_sign_in_steps() {
    let (app, world) = world().await;
    let staff = world.person(Role::MunicipalStaff);
    let first = app
        .request(
            Request::builder()
                .method(Method::POST)
                .uri("/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(crate::support::form_body(&[
                    ("login_id", &staff.login),
                    ("password", &staff.password),
                ])))
                .unwrap(),
        )
        .await;
    assert_eq!(location(&first), "/login/totp");
    let cookie = session_cookie(&first).unwrap();
    let page = app
        .get_as(
            &Session {
                cookie: cookie.clone(),
                csrf: String::new(),
            },
            "/login/totp",
        )
        .await;
    let half = Session {
        cookie,
        csrf: csrf_in_page(&page.body).unwrap(),
    };
    for spec in specs() {
        if !matches!(spec.access, Access::SignedIn | Access::Permission(_)) {
            continue;
        }
        let uri = concrete(spec.path, &world.children.itabashi_family);
        let res = if spec.method == Method::GET {
            app.get_as(&half, &uri).await
        } else {
            app.send_as(&half, spec.method.clone(), &uri).await
        };
        let what = format!("{} {}", spec.method, spec.path);
        if spec.path.starts_with("/api/") {
            assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{what}");
            assert_eq!(res.json()["error"]["code"], "totp_required", "{what}");
        } else {
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{what}");
            assert_eq!(location(&res), "/login/totp", "{what}");
        }
    }
    assert_eq!(
        app.count("SELECT count(*) FROM audit_log WHERE action = 'read'", &[])
            .await,
        0
    );
}

// ---------------------------------------------------------------------------------------
// The matrix
// ---------------------------------------------------------------------------------------

/// What a `{id}` in a route stands for.
#[derive(Debug, Clone, Copy)]
enum On {
    Nothing,
    /// 板橋区: the family's child (shared with the consultation office).
    ItabashiFamily,
    /// 板橋区: the child shared with the nursery.
    ItabashiShared,
    /// 練馬区's child.
    Nerima,
    /// 札幌市's child (another prefecture).
    Sapporo,
    /// A break-glass grant on a record of 板橋区 障害福祉 (the municipal account's own).
    GrantOnOwn,
    /// A break-glass grant on a record of 練馬区.
    GrantOnOther,
    /// An organisation in 東京都 / in 北海道.
    OrgTokyo,
    OrgHokkaido,
    /// An account of 板橋区 / of 札幌市.
    AccountTokyo,
    AccountHokkaido,
    /// A directory service of the nursery (the facility's own), in 板橋区.
    ServiceItabashi,
    /// A directory service of a facility in 練馬区.
    ServiceNerima,
    /// An id that exists nowhere.
    Missing,
}

/// Past the guard: any answer but 401 and 403 (the handler's own checks then apply, tested
/// with the feature).
const A: u16 = 0;
/// Refused by the guard for want of the permission.
const D: u16 = 403;

/// The session is used up by the route: sign in afresh for it.
const FRESH: bool = true;

/// Who may do what, kept here and not derived from the code. Columns follow `Role::ALL`:
/// システム管理者, 都道府県管理者, 支援センター, 市区町村職員 (板橋区 障害福祉), コーディネーター,
/// メンター事務局, メンター, 事業所 (保育園), 保護者 (板橋区の子), 協議会委員. Rows run in this order.
#[rustfmt::skip]
const MATRIX: &[(&str, &str, On, bool, [u16; 10])] = &[
    //                                                                  adm  pref cent muni coor offi ment faci guar coun
    ("GET",    "/home",                          On::Nothing,        false, [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET",    "/notices",                       On::Nothing,        false, [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET",    "/notices/{id}",                  On::Missing,        false, [404, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
    ("POST",   "/notices/read",                  On::Nothing,        false, [303, 303, 303, 303, 303, 303, 303, 303, 303, 303]),
    ("GET",    "/api/v1/me",                     On::Nothing,        false, [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET",    "/login/totp",                    On::Nothing,        false, [303, 303, 303, 303, 303, 303, 303, 303, 303, 303]),
    ("POST",   "/login/totp",                    On::Nothing,        false, [303, 303, 303, 303, 303, 303, 303, 303, 303, 303]),
    ("GET",    "/account/password",              On::Nothing,        false, [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST",   "/account/password",              On::Nothing,        false, [400, 400, 400, 400, 400, 400, 400, 400, 400, 400]),
    ("GET",    "/account/two-factor",            On::Nothing,        false, [303, 303, 303, 303, 303, 303, 303, 303, 200, 303]),
    ("POST",   "/account/two-factor",            On::Nothing,        false, [303, 303, 303, 303, 303, 303, 303, 303, 400, 303]),
    ("GET",    "/children",                      On::Nothing,        false, [  D,   D, 200, 200, 200,   D,   D, 200, 200,   D]),
    ("GET",    "/children/new",                  On::Nothing,        false, [  D,   D, 200, 200, 200,   D,   D,   D,   D,   D]),
    ("GET",    "/children/export.csv",           On::Nothing,        false, [  D,   D, 200, 200, 200,   D,   D,   D,   D,   D]),
    ("GET",    "/children/{id}",                 On::ItabashiFamily, false, [  D,   D, 200, 200, 200,   D,   D, 404, 200,   D]),
    ("GET",    "/children/{id}",                 On::ItabashiShared, false, [  D,   D, 200, 200, 404,   D,   D, 200, 404,   D]),
    ("GET",    "/children/{id}",                 On::Nerima,         false, [  D,   D, 200, 404, 404,   D,   D, 404, 404,   D]),
    ("GET",    "/children/{id}",                 On::Sapporo,        false, [  D,   D, 404, 404, 404,   D,   D, 404, 404,   D]),
    ("GET",    "/children/{id}",                 On::Missing,        false, [  D,   D, 404, 404, 404,   D,   D, 404, 404,   D]),
    ("GET",    "/children/{id}/access-log",      On::ItabashiFamily, false, [  D,   D, 404, 200, 404,   D,   D, 404, 200,   D]),
    ("GET",    "/children/{id}/access-log",      On::ItabashiShared, false, [  D,   D, 404, 200, 404,   D,   D, 404, 404,   D]),
    ("GET",    "/children/{id}/access-log",      On::Nerima,         false, [  D,   D, 404, 404, 404,   D,   D, 404, 404,   D]),
    ("GET",    "/children/{id}/access-log",      On::Sapporo,        false, [  D,   D, 404, 404, 404,   D,   D, 404, 404,   D]),
    ("GET",    "/children/transitions",          On::Nothing,        false, [  D,   D, 200, 200, 200,   D,   D, 200, 200,   D]),
    // The town's duplicate review: municipal staff review their town's pairs; others who
    // may register see an empty review. A merge needs the record's owner and a pair.
    ("GET",    "/children/duplicates",           On::Nothing,        false, [  D,   D, 200, 200, 200,   D,   D,   D,   D,   D]),
    ("POST",   "/children/{id}/merge",           On::ItabashiFamily, false, [  D,   D, 404, 404, 404,   D,   D,   D,   D,   D]),
    ("POST",   "/children/{id}/merge",           On::Sapporo,        false, [  D,   D, 404, 404, 404,   D,   D,   D,   D,   D]),
    // ItabashiFamily is shared by the family's consent with the consultation office
    // (coordinator) and the support centre; Nerima with the support centre. Sharing is
    // seeing: they read (200 above) but neither edit, record consents nor link accounts.
    ("GET",    "/children/{id}/edit",            On::ItabashiFamily, false, [  D,   D, 404, 200, 404,   D,   D,   D,   D,   D]),
    ("GET",    "/children/{id}/edit",            On::Nerima,         false, [  D,   D, 404, 404, 404,   D,   D,   D,   D,   D]),
    ("GET",    "/children/{id}/history",         On::ItabashiFamily, false, [  D,   D, 200, 200, 200,   D,   D, 404, 200,   D]),
    ("GET",    "/children/{id}/history",         On::Sapporo,        false, [  D,   D, 404, 404, 404,   D,   D, 404, 404,   D]),
    ("GET",    "/children/{id}/consents",        On::ItabashiFamily, false, [  D,   D, 200, 200, 200,   D,   D, 404, 200,   D]),
    ("GET",    "/children/{id}/consents",        On::ItabashiShared, false, [  D,   D, 200, 200, 404,   D,   D, 200, 404,   D]),
    ("GET",    "/children/{id}/guardians",       On::ItabashiFamily, false, [  D,   D, 404, 200, 404,   D,   D,   D,   D,   D]),
    ("GET",    "/children/{id}/guardians",       On::Sapporo,        false, [  D,   D, 404, 404, 404,   D,   D,   D,   D,   D]),
    ("POST",   "/children/{id}/guardians",       On::ItabashiFamily, false, [  D,   D, 404, 400, 404,   D,   D,   D,   D,   D]),
    ("POST",   "/children/{id}/guardians",       On::Nerima,         false, [  D,   D, 404, 404, 404,   D,   D,   D,   D,   D]),
    ("POST",   "/children/{id}/guardians/link",  On::ItabashiFamily, false, [  D,   D, 404, 400, 404,   D,   D,   D,   D,   D]),
    ("POST",   "/children/{id}/guardians/{account_id}/unlink", On::ItabashiFamily, false, [  D,   D, 404, 409, 404,   D,   D,   D,   D,   D]),
    ("POST",   "/children/{id}/guardians/{account_id}/unlink", On::Sapporo, false, [  D,   D, 404, 404, 404,   D,   D,   D,   D,   D]),
    ("GET",    "/children/{id}/proposals/new",   On::ItabashiFamily, false, [  D,   D,   D,   D,   D,   D,   D,   D, 200,   D]),
    ("GET",    "/children/{id}/proposals/new",   On::ItabashiShared, false, [  D,   D,   D,   D,   D,   D,   D,   D, 404,   D]),
    ("POST",   "/children/{id}",                 On::ItabashiFamily, false, [  D,   D, 400, 400, 400,   D,   D,   D,   D,   D]),
    ("POST",   "/children/{id}/consents",        On::ItabashiFamily, false, [  D,   D, 404, 400, 404,   D,   D,   D, 400,   D]),
    ("POST",   "/children/{id}/consents",        On::Sapporo,        false, [  D,   D, 404, 404, 404,   D,   D,   D, 404,   D]),
    ("POST",   "/children/{id}/consents/{consent_id}/withdraw", On::ItabashiFamily, false, [  D,   D, 404, 404, 404,   D,   D,   D, 404,   D]),
    ("POST",   "/children/{id}/proposals",       On::ItabashiFamily, false, [  D,   D,   D,   D,   D,   D,   D,   D, 400,   D]),
    ("POST",   "/children/{id}/proposals",       On::Nerima,         false, [  D,   D,   D,   D,   D,   D,   D,   D, 404,   D]),
    ("POST",   "/children/{id}/proposals/{proposal_id}/decision", On::ItabashiFamily, false, [  D,   D, 404, 404, 404,   D,   D,   D,   D,   D]),
    ("GET",    "/children/export.xlsx",          On::Nothing,        false, [  D,   D, 200, 200, 200,   D,   D,   D,   D,   D]),
    ("GET",    "/children/import",               On::Nothing,        false, [  D,   D, 200, 200, 200,   D,   D,   D,   D,   D]),
    ("GET",    "/children/import/template.csv",  On::Nothing,        false, [  D,   D, 200, 200, 200,   D,   D,   D,   D,   D]),
    ("POST",   "/children/import",               On::Nothing,        false, [  D,   D, 400, 400, 400,   D,   D,   D,   D,   D]),
    ("GET",    "/children/import/{id}",          On::Missing,        false, [  D,   D, 404, 404, 404,   D,   D,   D,   D,   D]),
    ("POST",   "/children/import/{id}/check",    On::Missing,        false, [  D,   D, 404, 404, 404,   D,   D,   D,   D,   D]),
    ("POST",   "/children/import/{id}/commit",   On::Missing,        false, [  D,   D, 404, 404, 404,   D,   D,   D,   D,   D]),
    ("GET",    "/break-glass",                   On::Nothing,        false, [  D,   D, 200, 200, 200,   D,   D,   D,   D,   D]),
    ("POST",   "/break-glass/{id}/revoke",       On::GrantOnOther,   false, [  D,   D, 404, 404, 404,   D,   D,   D,   D,   D]),
    ("POST",   "/break-glass/{id}/revoke",       On::GrantOnOwn,     false, [  D,   D, 404, 303, 404,   D,   D,   D,   D,   D]),
    ("POST",   "/children/access-requests",      On::Nothing,        false, [  D,   D, 400, 400, 400,   D,   D,   D,   D,   D]),
    ("POST",   "/children",                      On::Nothing,        false, [  D,   D, 303, 303, 303,   D,   D,   D,   D,   D]),
    ("POST",   "/break-glass",                   On::Sapporo,        false, [  D,   D, 404, 404,   D,   D,   D,   D,   D,   D]),
    ("POST",   "/break-glass",                   On::Missing,        false, [  D,   D, 404, 404,   D,   D,   D,   D,   D,   D]),
    ("POST",   "/break-glass",                   On::ItabashiFamily, false, [  D,   D, 303, 303,   D,   D,   D,   D,   D,   D]),
    ("POST",   "/break-glass",                   On::Nerima,         false, [  D,   D, 303, 303,   D,   D,   D,   D,   D,   D]),
    // Below the break-glass rows: 板橋区 staff now hold a grant on 練馬区's record (read only).
    ("GET",    "/api/v1/children",               On::Nothing,        false, [  D,   D, 200, 200, 200,   D,   D, 200, 200,   D]),
    ("POST",   "/api/v1/children",               On::Nothing,        false, [  D,   D, 400, 400, 400,   D,   D,   D,   D,   D]),
    ("GET",    "/api/v1/children/{id}",          On::ItabashiFamily, false, [  D,   D, 200, 200, 200,   D,   D, 404, 200,   D]),
    ("GET",    "/api/v1/children/{id}",          On::ItabashiShared, false, [  D,   D, 200, 200, 404,   D,   D, 200, 404,   D]),
    ("GET",    "/api/v1/children/{id}",          On::Nerima,         false, [  D,   D, 200, 200, 404,   D,   D, 404, 404,   D]),
    ("GET",    "/api/v1/children/{id}",          On::Sapporo,        false, [  D,   D, 404, 404, 404,   D,   D, 404, 404,   D]),
    ("GET",    "/api/v1/children/{id}",          On::Missing,        false, [  D,   D, 404, 404, 404,   D,   D, 404, 404,   D]),
    ("PATCH",  "/api/v1/children/{id}",          On::ItabashiFamily, false, [  D,   D, 400, 400, 400,   D,   D,   D,   D,   D]),
    ("GET",    "/api/v1/children/{id}/transitions", On::ItabashiFamily, false, [  D,   D, 200, 200, 200,   D,   D, 404, 200,   D]),
    ("GET",    "/api/v1/children/{id}/transitions", On::Sapporo,    false, [  D,   D, 404, 404, 404,   D,   D, 404, 404,   D]),
    ("GET",    "/api/v1/children/{id}/access-log", On::ItabashiFamily, false, [  D,   D, 404, 200, 404,   D,   D, 404, 200,   D]),
    ("GET",    "/api/v1/children/{id}/access-log", On::ItabashiShared, false, [  D,   D, 404, 200, 404,   D,   D, 404, 404,   D]),
    ("GET",    "/api/v1/children/{id}/access-log", On::Nerima,      false, [  D,   D, 404, 404, 404,   D,   D, 404, 404,   D]),
    ("GET",    "/admin/organisations",           On::Nothing,        false, [200, 200,   D,   D,   D,   D,   D,   D,   D,   D]),
    ("GET",    "/admin/organisations/new",       On::Nothing,        false, [200, 200,   D,   D,   D,   D,   D,   D,   D,   D]),
    ("POST",   "/admin/organisations",           On::Nothing,        false, [  A,   A,   D,   D,   D,   D,   D,   D,   D,   D]),
    ("GET",    "/admin/organisations/{id}",      On::OrgTokyo,       false, [200, 200,   D,   D,   D,   D,   D,   D,   D,   D]),
    ("GET",    "/admin/organisations/{id}",      On::OrgHokkaido,    false, [200, 404,   D,   D,   D,   D,   D,   D,   D,   D]),
    ("POST",   "/admin/organisations/{id}",      On::Missing,        false, [  A,   A,   D,   D,   D,   D,   D,   D,   D,   D]),
    ("GET",    "/admin/accounts",                On::Nothing,        false, [200, 200,   D,   D,   D,   D,   D,   D,   D,   D]),
    ("GET",    "/admin/accounts/new",            On::Nothing,        false, [200, 200,   D,   D,   D,   D,   D,   D,   D,   D]),
    ("POST",   "/admin/accounts",                On::Nothing,        false, [  A,   A,   D,   D,   D,   D,   D,   D,   D,   D]),
    ("GET",    "/admin/accounts/{id}",           On::AccountTokyo,   false, [200, 200,   D,   D,   D,   D,   D,   D,   D,   D]),
    ("GET",    "/admin/accounts/{id}",           On::AccountHokkaido,false, [200, 404,   D,   D,   D,   D,   D,   D,   D,   D]),
    ("POST",   "/admin/accounts/{id}/roles",     On::Missing,        false, [  A,   A,   D,   D,   D,   D,   D,   D,   D,   D]),
    ("POST",   "/admin/accounts/{id}/roles/remove", On::Missing,     false, [  A,   A,   D,   D,   D,   D,   D,   D,   D,   D]),
    ("POST",   "/admin/accounts/{id}/deactivate", On::Missing,       false, [  A,   A,   D,   D,   D,   D,   D,   D,   D,   D]),
    ("POST",   "/admin/accounts/{id}/reactivate", On::Missing,       false, [  A,   A,   D,   D,   D,   D,   D,   D,   D,   D]),
    ("POST",   "/admin/accounts/{id}/unlock",    On::Missing,        false, [  A,   A,   D,   D,   D,   D,   D,   D,   D,   D]),
    ("POST",   "/admin/accounts/{id}/reset-password", On::Missing,   false, [  A,   A,   D,   D,   D,   D,   D,   D,   D,   D]),
    ("POST",   "/admin/accounts/{id}/reset-two-factor", On::Missing, false, [  A,   A,   D,   D,   D,   D,   D,   D,   D,   D]),
    ("GET",    "/admin/audit",                   On::Nothing,        false, [200, 200,   D,   D,   D,   D,   D,   D,   D,   D]),
    ("GET",    "/admin/audit/export.csv",        On::Nothing,        false, [200, 200,   D,   D,   D,   D,   D,   D,   D,   D]),
    // The directory: staff of every kind read it; a facility keeps its own entries, a
    // town's staff those located in the town, nobody another's.
    ("GET",    "/directory",                     On::Nothing,        false, [  D, 200, 200, 200, 200, 200,   D, 200,   D, 200]),
    ("GET",    "/directory/mine",                On::Nothing,        false, [  D,   D, 200, 200, 200,   D,   D, 200,   D,   D]),
    ("GET",    "/directory/services/new",        On::Nothing,        false, [  D,   D, 200, 200, 200,   D,   D, 200,   D,   D]),
    ("POST",   "/directory/services",            On::Nothing,        false, [  D,   D, 400, 400, 400,   D,   D, 400,   D,   D]),
    ("GET",    "/directory/services/{id}",       On::ServiceItabashi, false, [ D, 200, 200, 200, 200, 200,   D, 200,   D, 200]),
    ("GET",    "/directory/services/{id}",       On::Missing,        false, [  D, 404, 404, 404, 404, 404,   D, 404,   D, 404]),
    ("GET",    "/directory/services/{id}/edit",  On::ServiceItabashi, false, [ D,   D, 404, 200, 404,   D,   D, 200,   D,   D]),
    ("GET",    "/directory/services/{id}/edit",  On::ServiceNerima,  false, [  D,   D, 404, 404, 404,   D,   D, 404,   D,   D]),
    ("POST",   "/directory/services/{id}",       On::ServiceItabashi, false, [ D,   D, 404, 400, 404,   D,   D, 400,   D,   D]),
    ("POST",   "/directory/services/{id}",       On::ServiceNerima,  false, [  D,   D, 404, 404, 404,   D,   D, 404,   D,   D]),
    ("POST",   "/directory/services/{id}/vacancies", On::ServiceItabashi, false, [D, D, 404, 400, 404,   D,   D, 400,   D,   D]),
    ("POST",   "/directory/services/{id}/vacancies", On::ServiceNerima, false, [ D,   D, 404, 404, 404,   D,   D, 404,   D,   D]),
    ("POST",   "/directory/services/{id}/confirm", On::ServiceItabashi, false, [ D,   D, 404, 409, 404,   D,   D, 409,   D,   D]),
    ("POST",   "/directory/services/{id}/confirm", On::ServiceNerima, false, [  D,   D, 404, 404, 404,   D,   D, 404,   D,   D]),
    // Survey rounds: the prefecture, the centre and a town run them (a round out of reach
    // is 404); an answer needs the entry and a round that asked it (here none: 404).
    ("GET",    "/directory/surveys",             On::Nothing,        false, [  D, 200, 200, 200,   D,   D,   D,   D,   D,   D]),
    ("GET",    "/directory/surveys/new",         On::Nothing,        false, [  D, 200, 200, 200,   D,   D,   D,   D,   D,   D]),
    ("POST",   "/directory/surveys",             On::Nothing,        false, [  D, 400, 400, 400,   D,   D,   D,   D,   D,   D]),
    ("GET",    "/directory/surveys/{id}",        On::Missing,        false, [  D, 404, 404, 404,   D,   D,   D,   D,   D,   D]),
    ("POST",   "/directory/surveys/{id}/remind", On::Missing,        false, [  D, 404, 404, 404,   D,   D,   D,   D,   D,   D]),
    ("POST",   "/directory/surveys/{id}/close",  On::Missing,        false, [  D, 404, 404, 404,   D,   D,   D,   D,   D,   D]),
    ("GET",    "/directory/surveys/{id}/results.xlsx", On::Missing,  false, [  D, 404, 404, 404,   D,   D,   D,   D,   D,   D]),
    ("GET",    "/directory/surveys/{id}/results.csv", On::Missing,   false, [  D, 404, 404, 404,   D,   D,   D,   D,   D,   D]),
    ("GET",    "/directory/surveys/{round}/services/{service}", On::ServiceItabashi, false, [D, D, 404, 404, 404, D, D, 404, D, D]),
    ("POST",   "/directory/surveys/{round}/services/{service}", On::ServiceItabashi, false, [D, D, 404, 404, 404, D, D, 404, D, D]),
    // The parent-mentor programme: the office runs it, a mentor sees their own, a family
    // applies (its own child's town decides the programme).
    ("GET",    "/mentoring",                     On::Nothing,        false, [  D,   D,   D,   D,   D, 200,   D,   D,   D,   D]),
    ("GET",    "/mentoring/applications/{id}",   On::Missing,        false, [  D,   D,   D,   D,   D, 404,   D,   D,   D,   D]),
    ("POST",   "/mentoring/applications/{id}/confirm", On::Missing,  false, [  D,   D,   D,   D,   D, 404,   D,   D,   D,   D]),
    ("POST",   "/mentoring/applications/{id}/decline", On::Missing,  false, [  D,   D,   D,   D,   D, 404,   D,   D,   D,   D]),
    ("GET",    "/mentoring/mentors",             On::Nothing,        false, [  D,   D,   D,   D,   D, 200,   D,   D,   D,   D]),
    ("GET",    "/mentoring/mentors/new",         On::Nothing,        false, [  D,   D,   D,   D,   D, 200,   D,   D,   D,   D]),
    ("POST",   "/mentoring/mentors",             On::Nothing,        false, [  D,   D,   D,   D,   D, 400,   D,   D,   D,   D]),
    ("GET",    "/mentoring/mentors/{id}",        On::Missing,        false, [  D,   D,   D,   D,   D, 404,   D,   D,   D,   D]),
    ("POST",   "/mentoring/mentors/{id}",        On::Missing,        false, [  D,   D,   D,   D,   D, 404,   D,   D,   D,   D]),
    ("GET",    "/mentoring/me",                  On::Nothing,        false, [  D,   D,   D,   D,   D,   D, 200,   D,   D,   D]),
    ("GET",    "/mentoring/apply",               On::Nothing,        false, [  D,   D,   D,   D,   D,   D,   D,   D, 200,   D]),
    ("POST",   "/mentoring/apply",               On::Nothing,        false, [  D,   D,   D,   D,   D,   D,   D,   D, 400,   D]),
    ("GET",    "/mentoring/applications/mine",   On::Nothing,        false, [  D,   D,   D,   D,   D,   D,   D,   D, 200,   D]),
    // The gaps table: whoever sees aggregates; a forum is recorded for a place the person
    // keeps plan records for (none named here: 404).
    ("GET",    "/gaps",                          On::Nothing,        false, [  D, 200, 200, 200,   D, 200,   D,   D,   D, 200]),
    ("GET",    "/gaps/export.xlsx",              On::Nothing,        false, [  D, 200, 200, 200,   D, 200,   D,   D,   D, 200]),
    ("GET",    "/gaps/export.csv",               On::Nothing,        false, [  D, 200, 200, 200,   D, 200,   D,   D,   D, 200]),
    ("POST",   "/gaps/forums",                   On::Nothing,        false, [  D, 404, 404, 404,   D,   D,   D,   D,   D,   D]),
    ("POST",   "/gaps/forums/remove",            On::Nothing,        false, [  D, 404, 404, 404,   D,   D,   D,   D,   D,   D]),
    // A town's sheet of facilities: its staff only (an import registers organisations); a
    // facility, the centre and the consultation office keep their own entries by the form.
    ("GET",    "/directory/import",              On::Nothing,        false, [  D,   D,   D, 200,   D,   D,   D,   D,   D,   D]),
    ("GET",    "/directory/import/template.csv", On::Nothing,        false, [  D,   D,   D, 200,   D,   D,   D,   D,   D,   D]),
    ("POST",   "/directory/import",              On::Nothing,        false, [  D,   D,   D, 400,   D,   D,   D,   D,   D,   D]),
    ("GET",    "/directory/import/{id}",         On::Missing,        false, [  D,   D,   D, 404,   D,   D,   D,   D,   D,   D]),
    ("POST",   "/directory/import/{id}/check",   On::Missing,        false, [  D,   D,   D, 404,   D,   D,   D,   D,   D,   D]),
    ("POST",   "/directory/import/{id}/commit",  On::Missing,        false, [  D,   D,   D, 404,   D,   D,   D,   D,   D,   D]),
    // Matching is a read of the child's record: whoever reads the record (the town's
    // staff by now through the break-glass grant opened above).
    ("GET",    "/children/{id}/services",        On::ItabashiFamily, false, [  D,   D, 200, 200, 200,   D,   D, 404, 200,   D]),
    ("GET",    "/children/{id}/services",        On::Nerima,         false, [  D,   D, 200, 200, 404,   D,   D, 404, 404,   D]),
    ("GET",    "/children/{id}/services",        On::Sapporo,        false, [  D,   D, 404, 404, 404,   D,   D, 404, 404,   D]),
    ("POST",   "/logout",                        On::Nothing,        FRESH, [303, 303, 303, 303, 303, 303, 303, 303, 303, 303]),
    ("DELETE", "/api/v1/session",                On::Nothing,        FRESH, [204, 204, 204, 204, 204, 204, 204, 204, 204, 204]),
    ("POST",   "/logout/everywhere",             On::Nothing,        FRESH, [303, 303, 303, 303, 303, 303, 303, 303, 303, 303]),
];

/// The ids the matrix's `{id}` stand for, in one world.
struct Ids {
    grant_on_own: String,
    grant_on_other: String,
    itabashi_health_staff: String,
    service_itabashi: String,
    service_nerima: String,
}

impl Ids {
    fn of(&self, world: &World, on: On) -> String {
        match on {
            On::Nothing => String::new(),
            On::ItabashiFamily => world.children.itabashi_family.to_string(),
            On::ItabashiShared => world.children.itabashi_shared.to_string(),
            On::Nerima => world.children.nerima.to_string(),
            On::Sapporo => world.children.sapporo.to_string(),
            On::GrantOnOwn => self.grant_on_own.clone(),
            On::GrantOnOther => self.grant_on_other.clone(),
            On::OrgTokyo => world.organisations["itabashi-health"].to_string(),
            On::OrgHokkaido => world.organisations["sapporo-welfare"].to_string(),
            On::AccountTokyo => self.itabashi_health_staff.clone(),
            On::AccountHokkaido => world.sapporo_staff.id.to_string(),
            On::ServiceItabashi => self.service_itabashi.clone(),
            On::ServiceNerima => self.service_nerima.clone(),
            On::Missing => NO_SUCH_ID.to_string(),
        }
    }
}

/// Opens a grant through the pages and returns its id.
async fn break_glass(app: &TestApp, session: &Session, child: &str) -> String {
    let res = app
        .post_form_as(
            session,
            "/break-glass",
            &[
                ("resource_type", "child"),
                ("resource_id", child),
                ("reason", REASON),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(location(&res), format!("/children/{child}"));
    let row = sqlx::query(
        "SELECT id FROM break_glass_grants WHERE resource_id = $1 ORDER BY started_at DESC",
    )
    .bind(child)
    .fetch_one(app.db.pool())
    .await
    .expect("a grant");
    sqlx::Row::try_get(&row, 0).unwrap()
}

/// The request a matrix row makes, with a body that changes nothing where it can.
async fn matrix_request(
    app: &TestApp,
    session: &Session,
    method: &str,
    uri: &str,
    pattern: &str,
    id: &str,
) -> TestResponse {
    match method {
        "GET" => app.get_as(session, uri).await,
        "DELETE" => app.send_as(session, Method::DELETE, uri).await,
        "PATCH" => app.send_as(session, Method::PATCH, uri).await,
        "POST" => {
            let fields: Vec<(&str, &str)> = match pattern {
                "/children" => vec![
                    ("name", "新規 さくら"),
                    ("kana", "しんき さくら"),
                    ("birth_date", "2024-02-29"),
                    ("sex", "female"),
                    ("municipality_code", "131199"),
                    // Each role registers the same child in turn: the second is told of
                    // the first and registers anyway.
                    ("duplicate_reason", "権限の確認のために登録する別の児童です"),
                ],
                "/break-glass" => vec![
                    ("resource_type", "child"),
                    ("resource_id", id),
                    ("reason", REASON),
                ],
                "/account/password" => vec![
                    ("current_password", "not-my-password"),
                    ("new_password", "Hinata-no-Michi-42"),
                    ("confirm_password", "Hinata-no-Michi-42"),
                ],
                "/login/totp" | "/account/two-factor" => vec![("code", "000000")],
                _ => vec![],
            };
            app.post_form_as(session, uri, &fields).await
        }
        other => panic!("no such method in the matrix: {other}"),
    }
}

#[tokio::test]
async fn every_role_against_every_protected_route() {
    let (app, world) = world().await;
    // Every protected route has at least one row, and every row names a real route.
    let declared: BTreeSet<(String, String)> = specs()
        .into_iter()
        .filter(|s| s.access != Access::Public)
        .map(|s| (s.method.to_string(), s.path.to_string()))
        .collect();
    let in_table: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(m, p, ..)| (m.to_string(), p.to_string()))
        .collect();
    let missing: Vec<_> = declared.difference(&in_table).collect();
    assert!(
        missing.is_empty(),
        "protected routes without a row in authz.rs MATRIX (say who may use them): {missing:?}"
    );
    let stale: Vec<_> = in_table.difference(&declared).collect();
    assert!(
        stale.is_empty(),
        "rows for routes that no longer exist: {stale:?}"
    );

    // Grants to revoke: one on the 板橋区 record (opened by 練馬区), one on the 練馬区 record
    // (opened by a 板橋区 保健 colleague, so the matrix's own account holds none).
    let nerima = world.sign_in(&app, &world.nerima_staff).await;
    let grant_on_own = break_glass(&app, &nerima, &world.children.itabashi_family).await;
    let colleague = world
        .add_person(
            &app,
            NewPerson::new(
                "itabashi.health",
                "保健 花子",
                "itabashi-health",
                Role::MunicipalStaff,
            ),
        )
        .await;
    let as_colleague = world.sign_in(&app, &colleague).await;
    let grant_on_other = break_glass(&app, &as_colleague, &world.children.nerima).await;
    let nerima_facility = crate::support::facility(&app, "ねりま療育園", "131202").await;
    let ids = Ids {
        grant_on_own,
        grant_on_other,
        itabashi_health_staff: colleague.id.to_string(),
        service_itabashi: crate::support::directory_service(
            &app,
            &world.organisations["nursery"],
            "131199",
            "ひだまり保育園",
        )
        .await
        .to_string(),
        service_nerima: crate::support::directory_service(
            &app,
            &nerima_facility,
            "131202",
            "ねりま療育園",
        )
        .await
        .to_string(),
    };

    let mut sessions = Vec::new();
    for person in &world.people {
        sessions.push(world.sign_in(&app, person).await);
    }
    let mut failures = Vec::new();
    for (method, pattern, on, fresh, expected) in MATRIX {
        let id = ids.of(&world, *on);
        let uri = concrete(pattern, &id);
        for (column, person) in world.people.iter().enumerate() {
            let session = if *fresh {
                world.sign_in(&app, person).await
            } else {
                sessions[column].clone()
            };
            let denied_before = app.audit_count(&person.id, "denied", "denied").await;
            let reads_before = app
                .count(
                    "SELECT count(*) FROM audit_log WHERE actor_account_id = $1 AND action = 'read' AND child_id = $2",
                    &[&person.id, &id],
                )
                .await;
            let res = matrix_request(&app, &session, method, &uri, pattern, &id).await;
            let want = expected[column];
            let got = res.status.as_u16();
            let role = person.role.as_str();
            let ok = if want == A {
                !matches!(got, 401 | 403)
            } else {
                got == want
            };
            if !ok {
                failures.push(format!(
                    "{method} {pattern} on {on:?} as {role}: expected {}, got {got}",
                    if want == A {
                        "past the guard".to_string()
                    } else {
                        want.to_string()
                    }
                ));
                continue;
            }
            // Every refusal by the policy is audited as denied.
            if matches!(got, 403 | 404) {
                let denied_after = app.audit_count(&person.id, "denied", "denied").await;
                if denied_after <= denied_before {
                    failures.push(format!(
                        "{method} {pattern} on {on:?} as {role}: {got} without a 'denied' audit entry"
                    ));
                }
            }
            // Every read of a child's record is audited as a read of that child.
            if *method == "GET"
                && (*pattern == "/children/{id}" || pattern.starts_with("/api/v1/children/{id}"))
                && got == 200
            {
                let reads_after = app
                    .count(
                        "SELECT count(*) FROM audit_log WHERE actor_account_id = $1 AND action = 'read' AND child_id = $2",
                        &[&person.id, &id],
                    )
                    .await;
                if reads_after != reads_before + 1 {
                    failures.push(format!("{pattern} on {on:?} as {role}: read not audited"));
                }
            }
            // What a denied person sees names nothing of the record.
            if got == 404
                && (pattern.starts_with("/children/") || pattern.starts_with("/api/v1/children/"))
            {
                for name in [
                    ITABASHI_FAMILY_NAME,
                    ITABASHI_SHARED_NAME,
                    NERIMA_NAME,
                    SAPPORO_NAME,
                ] {
                    if res.body.contains(name) {
                        failures.push(format!("{pattern} on {on:?} as {role}: 404 shows {name}"));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of the matrix's expectations failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// 板橋区 and 練馬区
// ---------------------------------------------------------------------------------------

async fn denied_on(app: &TestApp, actor: &str, resource_id: &str) -> i64 {
    app.count(
        "SELECT count(*) FROM audit_log WHERE actor_account_id = $1 AND action = 'denied' AND outcome = 'denied' AND resource_id = $2",
        &[actor, resource_id],
    )
    .await
}

#[tokio::test]
async fn itabashi_staff_see_nothing_of_nerima_until_break_glass_and_not_after_revocation() {
    let (app, world, itabashi) = signed_in(Role::MunicipalStaff).await;
    let staff = world.person(Role::MunicipalStaff).clone();
    let nerima_id = world.children.nerima.clone();

    // The list: 板橋区's children, nothing of 練馬区 or 札幌市, whatever the search.
    let list = app.get_as(&itabashi, "/children").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains(ITABASHI_FAMILY_NAME) && list.body.contains(ITABASHI_SHARED_NAME));
    assert!(!list.body.contains(NERIMA_NAME) && !list.body.contains(nerima_id.as_str()));
    assert!(!list.body.contains(SAPPORO_NAME));
    for q in ["たかはし", "高橋", "めい", "きたの"] {
        let res = app
            .get_as(
                &itabashi,
                &format!("/children?q={}", crate::support::encode(q)),
            )
            .await;
        assert!(!res.body.contains(NERIMA_NAME), "{q}");
        assert!(!res.body.contains(SAPPORO_NAME), "{q}");
    }
    // The export: the same reach.
    let csv = app.get_as(&itabashi, "/children/export.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.contains(ITABASHI_FAMILY_NAME));
    assert!(!csv.body.contains(NERIMA_NAME) && !csv.body.contains(nerima_id.as_str()));
    assert!(!csv.body.contains("131202") && !csv.body.contains(SAPPORO_NAME));
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE actor_account_id = $1 AND action = 'export' AND detail LIKE '%rows=2'",
            &[&staff.id]
        )
        .await,
        1,
        "the export is audited with its row count"
    );
    // Guessing the id: the same 404 as for an id that does not exist, audited, with the
    // break-glass offer.
    let guess = app
        .get_as(&itabashi, &format!("/children/{nerima_id}"))
        .await;
    let none = app
        .get_as(&itabashi, &format!("/children/{NO_SUCH_ID}"))
        .await;
    assert_eq!(guess.status, StatusCode::NOT_FOUND);
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    assert_eq!(
        guess.body.replace(nerima_id.as_str(), "ID"),
        none.body.replace(NO_SUCH_ID, "ID"),
        "out of scope looks exactly like missing"
    );
    assert!(!guess.body.contains(NERIMA_NAME));
    assert!(guess.body.contains("action=\"/break-glass\""));
    assert_eq!(denied_on(&app, &staff.id, &nerima_id).await, 1);
    let history = app
        .get_as(&itabashi, &format!("/children/{nerima_id}/access-log"))
        .await;
    assert_eq!(history.status, StatusCode::NOT_FOUND);
    assert_eq!(denied_on(&app, &staff.id, &nerima_id).await, 2);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE action = 'read' AND child_id = $1",
            &[&nerima_id]
        )
        .await,
        0
    );

    // Break-glass needs a real reason.
    let short = app
        .post_form_as(
            &itabashi,
            "/break-glass",
            &[("resource_id", &nerima_id), ("reason", "急ぎです")],
        )
        .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert!(short.body.contains("10文字以上"));
    assert_eq!(
        app.count("SELECT count(*) FROM break_glass_grants", &[])
            .await,
        0
    );
    // With one: that record, for reading, shown as break-glass.
    let open = app
        .post_form_as(
            &itabashi,
            "/break-glass",
            &[("resource_id", &nerima_id), ("reason", REASON)],
        )
        .await;
    assert_eq!(open.status, StatusCode::SEE_OTHER, "{}", open.body);
    let read = app
        .get_as(&itabashi, &format!("/children/{nerima_id}"))
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(read.body.contains(NERIMA_NAME));
    assert!(
        read.body
            .contains("緊急閲覧（ブレークグラス）で表示しています")
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE actor_account_id = $1 AND action = 'break_glass' AND child_id = $2 AND detail = $3",
            &[&staff.id, &nerima_id, REASON]
        )
        .await,
        1
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE actor_account_id = $1 AND action = 'read' AND child_id = $2 AND detail = 'break_glass'",
            &[&staff.id, &nerima_id]
        )
        .await,
        1
    );
    // Only that record and only for reading: the list, the export and the other town's
    // history stay closed, and nobody writes through break-glass.
    let list = app.get_as(&itabashi, "/children").await;
    assert!(!list.body.contains(NERIMA_NAME));
    let csv = app.get_as(&itabashi, "/children/export.csv").await;
    assert!(!csv.body.contains(NERIMA_NAME));
    let history = app
        .get_as(&itabashi, &format!("/children/{nerima_id}/access-log"))
        .await;
    assert_eq!(history.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get_as(&itabashi, &format!("/children/{}", world.children.sapporo))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // 練馬区 sees the grant, with who and why; 板橋区 does not see it among its own.
    let nerima = world.sign_in(&app, &world.nerima_staff).await;
    let review = app.get_as(&nerima, "/break-glass").await;
    assert_eq!(review.status, StatusCode::OK);
    assert!(review.body.contains(REASON), "{}", review.body);
    assert!(review.body.contains(&staff.display_name));
    assert!(review.body.contains("板橋区 福祉部 障害サービス課"));
    let own_review = app.get_as(&itabashi, "/break-glass").await;
    assert!(!own_review.body.contains(REASON));
    // The family sees it in the record's history, with the reason.
    let family = world.sign_in(&app, &world.nerima_guardian).await;
    let history = app
        .get_as(&family, &format!("/children/{nerima_id}/access-log"))
        .await;
    assert_eq!(history.status, StatusCode::OK);
    assert!(history.body.contains(REASON), "{}", history.body);
    assert!(history.body.contains(&staff.display_name));
    assert!(history.body.contains("緊急閲覧"));
    assert!(history.body.contains("閲覧"));
    // Nobody else's family sees it.
    let other_family = world.login_as(&app, Role::Guardian).await;
    let res = app
        .get_as(&other_family, &format!("/children/{nerima_id}/access-log"))
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);

    // 練馬区 revokes it: the record closes again at once.
    let grant: String = sqlx::Row::try_get(
        &sqlx::query("SELECT id FROM break_glass_grants WHERE resource_id = $1")
            .bind(nerima_id.as_str())
            .fetch_one(app.db.pool())
            .await
            .unwrap(),
        0,
    )
    .unwrap();
    assert!(
        review
            .body
            .contains(&format!("/break-glass/{grant}/revoke"))
    );
    // 板橋区 cannot revoke (or even find) a grant on a record it does not own.
    let res = app
        .post_form_as(&itabashi, &format!("/break-glass/{grant}/revoke"), &[])
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app
        .post_form_as(&nerima, &format!("/break-glass/{grant}/revoke"), &[])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/break-glass");
    let read = app
        .get_as(&itabashi, &format!("/children/{nerima_id}"))
        .await;
    assert_eq!(read.status, StatusCode::NOT_FOUND);
    assert!(!read.body.contains(NERIMA_NAME));
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE actor_account_id = $1 AND action = 'break_glass_revoked' AND child_id = $2",
            &[&world.nerima_staff.id, &nerima_id]
        )
        .await,
        1
    );
    let history = app
        .get_as(&family, &format!("/children/{nerima_id}/access-log"))
        .await;
    assert!(history.body.contains("取消済み"));
    let review = app.get_as(&nerima, "/break-glass").await;
    assert!(review.body.contains("取消済み"));
    assert!(
        !review
            .body
            .contains(&format!("/break-glass/{grant}/revoke"))
    );
}

#[tokio::test]
async fn a_break_glass_grant_ends_by_itself_after_its_hours() {
    let (app, world, itabashi) = signed_in(Role::MunicipalStaff).await;
    let nerima_id = world.children.nerima.clone();
    break_glass(&app, &itabashi, &nerima_id).await;
    assert_eq!(
        app.get_as(&itabashi, &format!("/children/{nerima_id}"))
            .await
            .status,
        StatusCode::OK
    );
    // Keep the session alive, and pass the three hours (the default).
    for _ in 0..6 {
        world.clock.advance(Duration::minutes(29));
        assert_eq!(app.get_as(&itabashi, "/home").await.status, StatusCode::OK);
    }
    world.clock.advance(Duration::minutes(7));
    let res = app
        .get_as(&itabashi, &format!("/children/{nerima_id}"))
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let nerima = world.sign_in(&app, &world.nerima_staff).await;
    let review = app.get_as(&nerima, "/break-glass").await;
    assert!(review.body.contains("期限切れ"));
}

#[tokio::test]
async fn break_glass_does_not_reach_another_prefecture() {
    let (app, world, itabashi) = signed_in(Role::MunicipalStaff).await;
    let sapporo_id = world.children.sapporo.clone();
    let staff = world.person(Role::MunicipalStaff).id.clone();
    let res = app
        .post_form_as(
            &itabashi,
            "/break-glass",
            &[("resource_id", &sapporo_id), ("reason", REASON)],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.count("SELECT count(*) FROM break_glass_grants", &[])
            .await,
        0
    );
    assert_eq!(denied_on(&app, &staff, &sapporo_id).await, 1);
    // Nor does the support centre's.
    let centre = world.login_as(&app, Role::SupportCenterStaff).await;
    let res = app
        .post_form_as(
            &centre,
            "/break-glass",
            &[("resource_id", &sapporo_id), ("reason", REASON)],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // A grant that exists anyway (written before a move, or by hand) opens nothing.
    sqlx::query(
        "INSERT INTO break_glass_grants (id, account_id, organisation_id, resource_type, resource_id, \
         owner_organisation_id, reason, started_at, expires_at) VALUES ($1, $2, $3, 'child', $4, $5, $6, $7, $8)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(staff.as_str())
    .bind(world.organisations["itabashi-welfare"].as_str())
    .bind(sapporo_id.as_str())
    .bind(world.organisations["sapporo-welfare"].as_str())
    .bind(REASON)
    .bind(world.clock.now().timestamp_millis())
    .bind(world.clock.now().timestamp_millis() + 3_600_000)
    .execute(app.db.pool())
    .await
    .unwrap();
    let res = app
        .get_as(&itabashi, &format!("/children/{sapporo_id}"))
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(!res.body.contains(SAPPORO_NAME));
}

#[tokio::test]
async fn the_family_history_names_who_read_the_record() {
    let (app, world, family) = signed_in(Role::Guardian).await;
    let child = world.children.itabashi_family.clone();
    let coordinator = world.login_as(&app, Role::Coordinator).await;
    assert_eq!(
        app.get_as(&coordinator, &format!("/children/{child}"))
            .await
            .status,
        StatusCode::OK
    );
    let history = app
        .get_as(&family, &format!("/children/{child}/access-log"))
        .await;
    assert_eq!(history.status, StatusCode::OK);
    assert!(
        history
            .body
            .contains(&world.person(Role::Coordinator).display_name)
    );
    assert!(history.body.contains("相談支援事業所 みどりのて（架空）"));
    assert!(history.body.contains("医療的ケア児等コーディネーター"));
    assert!(shows_escaped(&history.body, ITABASHI_FAMILY_NAME));
}

/// A new record is placed by where the child lives, not by who will own it: 板橋区 staff
/// cannot register a child of 練馬区 or 札幌市 (`access::registering_membership`).
#[tokio::test]
async fn municipal_staff_register_only_children_of_their_own_town() {
    let (app, _world, itabashi) = signed_in(Role::MunicipalStaff).await;
    for code in ["131202", "011002"] {
        let res = app
            .post_form_as(
                &itabashi,
                "/children",
                &[
                    ("name", "転入 まち"),
                    ("kana", "てんにゅう まち"),
                    ("birth_date", "2023-05-05"),
                    ("sex", "female"),
                    ("municipality_code", code),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{code}");
    }
    assert_eq!(app.count("SELECT count(*) FROM children", &[]).await, 4);
}
