//! Every answer that shows a child's data leaves an audit entry, and so does every refusal:
//! the route table is walked, each GET that may show a child is requested by someone who
//! may, and the trail must have grown. A new route that shows children without auditing
//! fails here unless it is listed below with why it shows none.

use axum::http::{Method, StatusCode};
use tsunagu::auth::guard::Access;
use tsunagu_core::access::{Permission, Role};

use crate::support::world;

/// GET routes under a child-reading permission that show no child's data, with why.
const SHOW_NO_CHILD: &[(&str, &str)] = &[
    ("/children/new", "the empty registration form"),
    ("/children/import", "the upload form"),
    (
        "/children/import/template.csv",
        "the template's fictional example row",
    ),
    (
        "/children/import/{id}",
        "the uploader's own file, before any child is created",
    ),
    (
        "/break-glass",
        "grants on the viewer's records: names of staff, not children's data",
    ),
];

#[tokio::test]
async fn every_route_that_shows_a_child_is_audited() {
    let (app, world) = world().await;
    let staff = world.login_as(&app, Role::MunicipalStaff).await;
    let family = world.login_as(&app, Role::Guardian).await;
    let child = world.children.itabashi_family.clone();
    let mut walked = 0;
    let mut unaudited = Vec::new();
    for route in tsunagu::router::routes().into_parts().1 {
        let Access::Permission(permission) = route.access else {
            continue;
        };
        let reads_children = matches!(
            permission,
            Permission::ReadChild
                | Permission::WriteChild
                | Permission::ExportChildren
                | Permission::RecordConsent
                | Permission::ProposeChange
        );
        if route.method != Method::GET
            || !reads_children
            || SHOW_NO_CHILD.iter().any(|(p, _)| *p == route.path)
        {
            continue;
        }
        assert!(
            !route.path.replace("{id}", "").contains('{'),
            "{}: a child route with another parameter; say how to walk it",
            route.path
        );
        let who = if permission == Permission::ProposeChange {
            &family
        } else {
            &staff
        };
        let uri = route.path.replace("{id}", &child);
        let before = app.count("SELECT count(*) FROM audit_log", &[]).await;
        let res = app.get_as(who, &uri).await;
        assert_eq!(res.status, StatusCode::OK, "{uri}: {}", res.body);
        let after = app.count("SELECT count(*) FROM audit_log", &[]).await;
        if after <= before {
            unaudited.push(uri);
        }
        walked += 1;
    }
    assert!(walked >= 10, "walked only {walked} routes");
    assert!(
        unaudited.is_empty(),
        "shown without an audit entry: {unaudited:?}"
    );
}

/// A request refused as forged (no token, another site's origin) is on record.
#[tokio::test]
async fn forged_requests_are_refused_on_record() {
    let (app, world) = world().await;
    let staff = world.login_as(&app, Role::MunicipalStaff).await;
    let child = world.children.itabashi_family.clone();
    let bare = crate::support::Session {
        cookie: staff.cookie.clone(),
        csrf: String::new(),
    };
    let res = app
        .post_form_as(&bare, &format!("/children/{child}/consents"), &[])
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = app
        .request(
            crate::support::request_as(&staff, Method::POST, "/logout")
                .header("origin", "https://evil.example")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    for why in ["csrf:token", "csrf:origin"] {
        assert_eq!(
            app.count(
                "SELECT count(*) FROM audit_log WHERE action = 'denied' AND detail = $1",
                &[why]
            )
            .await,
            1,
            "{why}"
        );
    }
}
