//! Cross-site request forgery: every state change must come from our own pages
//! (Origin / Sec-Fetch-Site) and, once signed in, carry the session's token, either in the
//! `X-CSRF-Token` header (htmx, API) or in the form field `csrf_token`.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::state::Settings;

pub const HEADER: &str = "x-csrf-token";
pub const FORM_FIELD: &str = "csrf_token";

/// Browsers say where a request comes from. `Sec-Fetch-Site` is decisive when present
/// (all current browsers send it; our `Referrer-Policy: no-referrer` makes them send
/// `Origin: null` on form posts, so Origin alone cannot be used). Without it, `Origin` must
/// name this host or the configured public URL. A client that says neither (curl, scripts)
/// is left to the token check.
pub fn same_origin(headers: &HeaderMap, settings: &Settings) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get("origin").and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if let Some(public) = &settings.public_url
        && origin.eq_ignore_ascii_case(public.trim_end_matches('/'))
    {
        return true;
    }
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let bare = origin
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    !host.is_empty() && bare.eq_ignore_ascii_case(host)
}

/// Compares in constant time so the token cannot be guessed byte by byte.
fn equal(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Checks the token and gives the request back with its body intact.
pub async fn check_token(
    parts: Parts,
    body: Body,
    expected: &str,
    limit: usize,
) -> Result<Request, ()> {
    if let Some(given) = parts.headers.get(HEADER).and_then(|v| v.to_str().ok()) {
        return if equal(given, expected) {
            Ok(Request::from_parts(parts, body))
        } else {
            Err(())
        };
    }
    let is_form = parts
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(());
    }
    let bytes: Bytes = axum::body::to_bytes(body, limit).await.map_err(|_| ())?;
    let found = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .map_err(|_| ())?
        .into_iter()
        .any(|(k, v)| k == FORM_FIELD && equal(&v, expected));
    if found {
        Ok(Request::from_parts(parts, Body::from(bytes)))
    } else {
        Err(())
    }
}
