//! `GET /api/v1/municipalities?q=&prefecture=&limit=&offset=` and `GET /api/v1/municipalities/{code}`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Serialize;
use tsunagu_core::municipality::MunicipalityCode;

use super::repo::{self, Area, Municipality, Search};
use crate::error::{ApiError, AppError};
use crate::state::AppState;
use crate::web::params;

#[derive(Serialize)]
pub struct SearchResponse {
    items: Vec<Municipality>,
    total: i64,
    limit: i64,
    offset: i64,
}

pub async fn search(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<SearchResponse>, ApiError> {
    let get = |k: &str| query.get(k).map(String::as_str);
    let search = Search {
        text: params::search_text(get("q"))?,
        prefecture_code: prefecture_filter(get("prefecture"))?,
        limit: params::number(get("limit"), "limit", 50, 1, 500)?,
        offset: params::number(get("offset"), "offset", 0, 0, 100_000)?,
    };
    let page = repo::search(&state.db, &search).await?;
    Ok(Json(SearchResponse {
        items: page.items,
        total: page.total,
        limit: search.limit,
        offset: search.offset,
    }))
}

#[derive(Serialize)]
pub struct Detail {
    #[serde(flatten)]
    municipality: Municipality,
    areas: Vec<Area>,
    /// Only for the 北方領土's villages: no one lives or can be registered there.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    no_residents_registered: bool,
    #[serde(skip_serializing_if = "str::is_empty")]
    note: &'static str,
}

pub async fn get(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<Detail>, ApiError> {
    let code = MunicipalityCode::parse(&code).map_err(AppError::from)?;
    if let Some(municipality) = repo::northern_territory(code) {
        return Ok(Json(Detail {
            municipality,
            areas: Vec::new(),
            no_residents_registered: true,
            note: repo::NO_RESIDENTS_NOTE,
        }));
    }
    let municipality = repo::get(&state.db, code)
        .await?
        .ok_or_else(|| AppError::MunicipalityNotFound(code.to_string()))?;
    let areas = repo::areas_of(&state.db, &municipality.code).await?;
    Ok(Json(Detail {
        municipality,
        areas,
        no_residents_registered: false,
        note: "",
    }))
}

/// A prefecture given as "13", "東京都"'s code "130001", or nothing.
pub(super) fn prefecture_filter(raw: Option<&str>) -> Result<Option<String>, AppError> {
    let Some(text) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let number = match text.len() {
        1 | 2 => text.parse::<u8>().ok().filter(|n| (1..=47).contains(n)),
        _ => MunicipalityCode::parse(text)
            .ok()
            .map(|c| c.prefecture_number()),
    };
    number
        .map(|n| Some(format!("{n:02}")))
        .ok_or_else(|| AppError::BadRequest("都道府県は01〜47の番号で指定してください".into()))
}
