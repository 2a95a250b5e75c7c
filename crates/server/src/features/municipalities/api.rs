//! `GET /api/v1/municipalities?q=&prefecture=&limit=&offset=` and `GET /api/v1/municipalities/{code}`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Serialize;
use tsunagu_core::municipality::MunicipalityCode;

use super::repo::{self, Area, Municipality, Search};
use crate::error::{ApiError, AppError, ErrorBody};
use crate::state::AppState;
use crate::web::params;

/// 検索結果の1ページ
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = MunicipalityPage)]
pub struct SearchResponse {
    items: Vec<Municipality>,
    total: i64,
    limit: i64,
    offset: i64,
}

/// The search's query, as the OpenAPI description shows it.
#[allow(dead_code)]
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct SearchQuery {
    /// 名称・よみがな・団体コードの一部（全角・カタカナも可）
    #[param(schema_with = crate::web::api_schema::search_text)]
    q: Option<String>,
    /// 都道府県：01〜47 の番号（都道府県の団体コード 130001 なども可）
    #[param(pattern = "^(0[1-9]|[1-3][0-9]|4[0-7])$")]
    prefecture: Option<String>,
    /// 件数（既定 50）
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    #[param(minimum = 0, maximum = 100000)]
    offset: Option<i64>,
}

/// 市区町村を探す
///
/// 全国の市区町村（総務省の全国地方公共団体コード）を名称・よみがな・コードで探します。サインインは不要です。
#[utoipa::path(get, path = "/api/v1/municipalities", tag = "municipalities", operation_id = "searchMunicipalities",
    params(SearchQuery),
    responses(
        (status = 200, description = "検索結果", body = SearchResponse),
        (status = 400, description = "値の誤り（bad_request）", body = ErrorBody),
    ))]
pub async fn search(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<SearchResponse>, ApiError> {
    params::api_no_empty(&query, &["prefecture", "limit", "offset"])?;
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

/// 市区町村と、その圏域
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = MunicipalityDetail)]
pub struct Detail {
    #[serde(flatten)]
    municipality: Municipality,
    areas: Vec<Area>,
    /// 北方領土の6村のときだけ true：団体コードはあるが住民を登録できない
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    no_residents_registered: bool,
    /// 北方領土の村についての説明（そのときだけ）
    #[serde(skip_serializing_if = "str::is_empty")]
    note: &'static str,
}

/// 市区町村
///
/// 団体コードの市区町村と、その圏域。北方領土の6村は no_residents_registered: true で答えます。
#[utoipa::path(get, path = "/api/v1/municipalities/{code}", tag = "municipalities", operation_id = "getMunicipality",
    params(("code" = String, Path, description = "団体コード（5桁または検査数字つき6桁。先頭2桁は都道府県 01〜47）", pattern = "^(0[1-9]|[1-3][0-9]|4[0-7])[0-9]{3,4}$")),
    responses(
        (status = 200, description = "市区町村", body = Detail),
        (status = 400, description = "団体コードの形式・検査数字の誤り（invalid_municipality_code）", body = ErrorBody),
        (status = 404, description = "その団体コードの市区町村はない（municipality_not_found）", body = ErrorBody),
    ))]
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
