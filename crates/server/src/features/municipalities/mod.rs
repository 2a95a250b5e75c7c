//! 市区町村: the reference list of Japan's local governments, searchable by name,
//! kana or code, as pages and as JSON.

pub mod api;
mod index;
mod pages;

pub mod repo;

pub use repo::reference;

use crate::auth::guard::{Access, Routes};

/// Reference data about places, not people: open to anyone.
pub fn routes() -> Routes {
    Routes::new()
        .get("/municipalities", Access::Public, pages::index)
        .get("/municipalities/results", Access::Public, pages::results)
        .get("/municipalities/{code}", Access::Public, pages::detail)
        .get("/api/v1/municipalities", Access::Public, api::search)
        .get("/api/v1/municipalities/{code}", Access::Public, api::get)
}
