//! What every response carries: security headers, cached assets, health, metrics, limits.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};

use tsunagu::state::Settings;

use crate::support::{app, app_with, test_clock};

#[tokio::test]
async fn every_response_has_the_security_headers() {
    let app = app().await;
    for uri in [
        "/",
        "/municipalities",
        "/api/v1/municipalities/131199",
        "/nothing-here",
        "/healthz",
    ] {
        let res = app.get(uri).await;
        let csp = res.header("content-security-policy");
        assert!(csp.contains("default-src 'self'"), "{uri}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{uri}");
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{uri}"
        );
        assert_eq!(res.header("x-content-type-options"), "nosniff", "{uri}");
        assert_eq!(res.header("referrer-policy"), "no-referrer", "{uri}");
        assert!(!res.header("x-request-id").is_empty(), "{uri}: request id");
    }
}

#[tokio::test]
async fn pages_reference_no_inline_script_or_external_host() {
    let app = app().await;
    let html = app.get("/").await.body;
    for fragment in ["<script>", " onclick=", "style=\"", "http://", "https://"] {
        assert!(!html.contains(fragment), "page contains {fragment}");
    }
}

#[tokio::test]
async fn assets_are_content_hashed_and_cached_for_a_year() {
    let app = app().await;
    let html = app.get("/").await.body;
    let start = html
        .find("/assets/htmx-2.0.11.min.")
        .expect("htmx referenced with its version");
    let url: String = html[start..].chars().take_while(|c| *c != '"').collect();
    assert!(
        url.ends_with(".js") && url.len() > "/assets/htmx-2.0.11.min..js".len(),
        "{url}"
    );
    let res = app.get(&url).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(
        res.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert!(res.header("content-type").starts_with("text/javascript"));
    assert!(res.body.contains("htmx"));
    let stale = app.get("/assets/htmx-2.0.11.min.0000000000.js").await;
    assert_eq!(stale.status, StatusCode::NOT_FOUND);
    // Pages themselves are never cached.
    assert_eq!(app.get("/").await.header("cache-control"), "no-store");
}

#[tokio::test]
async fn healthz_checks_the_database() {
    let app = app().await;
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK);
    app.db.close().await;
    assert_eq!(
        app.get("/healthz").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

const METRICS_TOKEN: &str = "metrics-token-for-the-tests-0123456789";

async fn metrics_with(app: &crate::support::TestApp, auth: Option<&str>) -> (StatusCode, String) {
    let mut req = Request::builder().method(Method::GET).uri("/metrics");
    if let Some(auth) = auth {
        req = req.header("authorization", auth);
    }
    let res = app.request(req.body(Body::empty()).unwrap()).await;
    (res.status, res.body)
}

#[tokio::test]
async fn metrics_answer_only_with_the_configured_bearer_token() {
    // No token configured: metrics are off for everyone.
    let off = app().await;
    assert_eq!(metrics_with(&off, None).await.0, StatusCode::NOT_FOUND);
    let bearer = format!("Bearer {METRICS_TOKEN}");
    assert_eq!(
        metrics_with(&off, Some(&bearer)).await.0,
        StatusCode::NOT_FOUND
    );
    let settings = Settings {
        metrics_token: Some(METRICS_TOKEN.into()),
        ..Settings::default()
    };
    let app = app_with(test_clock(), settings).await;
    for wrong in [
        None,
        Some("Bearer "),
        Some("Bearer metrics-token-for-the-tests-012345678"),
        Some("Basic bWV0cmljczp0b2tlbg=="),
        Some(METRICS_TOKEN),
    ] {
        let (status, body) = metrics_with(&app, wrong).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{wrong:?}");
        assert!(!body.contains("http_requests_total"), "{wrong:?}");
    }
    let (status, body) = metrics_with(&app, Some(&bearer)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("db_pool_connections"));
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern() {
    let settings = Settings {
        metrics_token: Some(METRICS_TOKEN.into()),
        ..Settings::default()
    };
    let app = app_with(test_clock(), settings).await;
    app.get("/api/v1/municipalities/131199").await;
    let text = metrics_with(&app, Some(&format!("Bearer {METRICS_TOKEN}")))
        .await
        .1;
    assert!(
        text.lines().any(|l| l.starts_with("http_requests_total")
            && l.contains(r#"route="/api/v1/municipalities/{code}""#)
            && l.contains(r#"status="200""#)),
        "{text}"
    );
    assert!(text.contains("http_request_duration_seconds_bucket"));
    assert!(text.contains("db_pool_connections"));
    assert!(!text.contains("131199"), "raw ids must not become labels");
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_with_413() {
    let app = app().await;
    let big = vec![b'a'; 3 * 1024 * 1024];
    let res = app
        .request(
            Request::builder()
                .method(Method::POST)
                .uri("/municipalities")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("content-length", big.len().to_string())
                .body(Body::from(big))
                .unwrap(),
        )
        .await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        res.body.contains("送信データが大きすぎます（2 MBまで）"),
        "{}",
        res.body
    );
}

/// Each route declares its body limit where it is added; only the file uploads (the
/// imports') take more than the default.
#[test]
fn only_the_file_upload_declares_a_larger_body() {
    use tsunagu::web::security::{BODY_LIMIT_BYTES, UPLOAD_LIMIT_BYTES};
    let specs = tsunagu::router::routes().into_parts().1;
    let mut larger: Vec<(String, &str, usize)> = specs
        .iter()
        .filter(|s| s.body_limit != BODY_LIMIT_BYTES)
        .map(|s| (s.method.to_string(), s.path, s.body_limit))
        .collect();
    larger.sort();
    assert_eq!(
        larger,
        [
            ("POST".to_string(), "/children/import", UPLOAD_LIMIT_BYTES),
            ("POST".to_string(), "/directory/import", UPLOAD_LIMIT_BYTES),
        ]
    );
}
