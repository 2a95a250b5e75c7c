//! The OpenAPI description of the JSON API, served at `/api/openapi.json`.
//! Kept as a file beside the code so a change to the API shows up in the same diff.

use axum::http::header;
use axum::response::IntoResponse;

use crate::auth::guard::{Access, Routes};

pub const OPENAPI_JSON: &str = include_str!("openapi.json");

pub fn routes() -> Routes {
    Routes::new().get("/api/openapi.json", Access::Public, spec)
}

async fn spec() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}
