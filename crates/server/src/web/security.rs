//! Security headers on every response (the CSP allows only our own scripts and styles: no
//! inline script, no eval, no framing) and the size limit of request bodies, per route.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::error::{AppError, is_api, refuse};

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Request bodies above this are refused with 413 before a handler sees them.
pub const BODY_LIMIT_BYTES: usize = 2 * 1024 * 1024;
/// The limit of the routes that take a file (the children import: a 5 MB file and the
/// form around it).
pub const UPLOAD_LIMIT_BYTES: usize = 6 * 1024 * 1024;
const UPLOAD_ROUTES: [(&str, &str); 1] = [("POST", "/children/import")];

/// The body limit of a route.
pub fn body_limit(method: &Method, path: &str) -> usize {
    if UPLOAD_ROUTES
        .iter()
        .any(|(m, p)| method.as_str() == *m && path == *p)
    {
        UPLOAD_LIMIT_BYTES
    } else {
        BODY_LIMIT_BYTES
    }
}

/// Refuses a body over its route's limit in Japanese (a page, or the JSON error under
/// `/api/`): at once when the declared length is over; otherwise the body is cut off at the
/// limit while it is read, and the extractor's own 413 (English plain text) is answered
/// the same way.
pub async fn limit_body(request: Request, next: Next) -> Response {
    let limit = body_limit(request.method(), request.uri().path());
    let api = is_api(&request);
    let too_large = || refuse(api, AppError::TooLarge(limit / (1024 * 1024)));
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return too_large();
    }
    let response = next
        .run(request.map(|body| Body::new(http_body_util::Limited::new(body, limit))))
        .await;
    let plain_text = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && plain_text {
        return too_large();
    }
    response
}

pub async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(
        h,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        h,
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=()",
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        // Pages may hold children's data: never keep them in shared or disk caches.
        set(h, header::CACHE_CONTROL, "no-store");
    }
    response
}
