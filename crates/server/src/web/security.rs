//! Security headers on every response (the CSP allows only our own scripts and styles: no
//! inline script, no eval, no framing) and the size limit of request bodies, per route.

use axum::body::Body;
use axum::extract::{Request, State};
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
/// The body limit each route declared (`Routes::post_upload` for a file), looked up before
/// routing so that every request, matched or not, is held to one.
#[derive(Debug, Clone, Default)]
pub struct BodyLimits {
    /// Routes over [`BODY_LIMIT_BYTES`]: method, path pattern (`{id}` matches one segment).
    larger: Vec<(Method, &'static str, usize)>,
}

impl BodyLimits {
    pub fn new(routes: impl IntoIterator<Item = (Method, &'static str, usize)>) -> Self {
        Self {
            larger: routes
                .into_iter()
                .filter(|(_, _, limit)| *limit > BODY_LIMIT_BYTES)
                .collect(),
        }
    }

    /// The limit of the route a request goes to.
    pub fn of(&self, method: &Method, path: &str) -> usize {
        self.larger
            .iter()
            .find(|(m, pattern, _)| m == method && matches_pattern(pattern, path))
            .map_or(BODY_LIMIT_BYTES, |(_, _, limit)| *limit)
    }
}

fn matches_pattern(pattern: &str, path: &str) -> bool {
    let (mut want, mut got) = (pattern.split('/'), path.split('/'));
    loop {
        match (want.next(), got.next()) {
            (None, None) => return true,
            (Some(w), Some(g)) if w == g || (w.starts_with('{') && !g.is_empty()) => {}
            _ => return false,
        }
    }
}

/// Refuses a body over its route's limit in Japanese (a page, or the JSON error under
/// `/api/`): at once when the declared length is over; otherwise the body is cut off at the
/// limit while it is read, and the extractor's own 413 (English plain text) is answered
/// the same way.
pub async fn limit_body(
    State(limits): State<std::sync::Arc<BodyLimits>>,
    request: Request,
    next: Next,
) -> Response {
    let limit = limits.of(request.method(), request.uri().path());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_declared_for_files_takes_more_and_every_other_the_default() {
        let limits = BodyLimits::new([
            (Method::POST, "/children/import", UPLOAD_LIMIT_BYTES),
            (Method::POST, "/files/{id}/parts", UPLOAD_LIMIT_BYTES),
            (Method::POST, "/children", BODY_LIMIT_BYTES),
        ]);
        assert_eq!(
            limits.of(&Method::POST, "/children/import"),
            UPLOAD_LIMIT_BYTES
        );
        assert_eq!(
            limits.of(&Method::POST, "/files/7/parts"),
            UPLOAD_LIMIT_BYTES
        );
        assert_eq!(
            limits.of(&Method::GET, "/children/import"),
            BODY_LIMIT_BYTES
        );
        assert_eq!(
            limits.of(&Method::POST, "/children/import/x"),
            BODY_LIMIT_BYTES
        );
        assert_eq!(limits.of(&Method::POST, "/files//parts"), BODY_LIMIT_BYTES);
        assert_eq!(limits.of(&Method::POST, "/children"), BODY_LIMIT_BYTES);
    }
}
