//! 市区町村: the reference list of Japan's local governments, searchable by name,
//! kana or code, as pages and as JSON.

mod api;
mod pages;
pub mod reference;
pub mod repo;

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/municipalities", get(pages::index))
        .route("/municipalities/results", get(pages::results))
        .route("/municipalities/{code}", get(pages::detail))
        .route("/api/v1/municipalities", get(api::search))
        .route("/api/v1/municipalities/{code}", get(api::get))
}
