//! Static assets embedded in the binary and served under a content-hashed URL,
//! so browsers may cache them for a year and still see every new version at once.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

pub struct Asset {
    /// The file name as written in the source tree, e.g. `htmx-2.0.11.min.js`.
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
    /// `name` with the first 10 hex digits of its SHA-256 before the extension.
    pub hashed_name: String,
}

macro_rules! asset {
    ($name:literal, $type:literal) => {
        (
            $name,
            $type,
            include_bytes!(concat!("../../assets/", $name)).as_slice(),
        )
    };
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    [
        asset!("htmx-2.0.11.min.js", "text/javascript; charset=utf-8"),
        asset!("app.css", "text/css; charset=utf-8"),
        asset!("app.js", "text/javascript; charset=utf-8"),
        asset!("favicon.svg", "image/svg+xml"),
    ]
    .into_iter()
    .map(|(name, content_type, body)| {
        let digest = Sha256::digest(body);
        let hash: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
        let hashed_name = match name.rsplit_once('.') {
            Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
            None => format!("{name}.{hash}"),
        };
        Asset {
            name,
            content_type,
            body,
            hashed_name,
        }
    })
    .collect()
});

/// The URL of an asset by its source name, for templates. An unknown name is a
/// programming error caught by the template tests, answered with a harmless path.
pub fn url(name: &str) -> String {
    ASSETS
        .iter()
        .find(|a| a.name == name)
        .map(|a| format!("/assets/{}", a.hashed_name))
        .unwrap_or_else(|| format!("/assets/missing/{name}"))
}

pub fn all() -> &'static [Asset] {
    &ASSETS
}

pub async fn serve(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.hashed_name == file) {
        Some(asset) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(asset.content_type),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
            ],
            asset.body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
