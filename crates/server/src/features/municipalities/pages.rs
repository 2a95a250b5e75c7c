//! The 市区町村 pages: live search (htmx fragment), browse by prefecture, detail.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use tsunagu_core::municipality::MunicipalityCode;

use super::api::prefecture_filter;
use super::repo::{self, Area, Municipality, Search};
use crate::error::{AppError, PageError};
use crate::organisations::{self, Organisation};
use crate::state::AppState;
use crate::view::Chrome;
use crate::web::params;

const PAGE_SIZE: i64 = 50;

/// Results of one prefecture, in code order, under its heading.
pub struct PrefectureGroup {
    pub name: String,
    pub items: Vec<Municipality>,
}

/// Everything the results list needs; rendered inside the page and alone for htmx.
pub struct Results {
    pub query: String,
    pub prefecture: String,
    pub groups: Vec<PrefectureGroup>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    pub searched: bool,
}

impl Results {
    /// The link to another page of the same search, with the query escaped for a URL.
    pub fn page_href(&self, page: i64) -> String {
        let mut href = format!("/municipalities?page={page}");
        if !self.query.is_empty() {
            href.push_str("&q=");
            href.push_str(&params::url_encode(&self.query));
        }
        if !self.prefecture.is_empty() {
            href.push_str("&pref=");
            href.push_str(&self.prefecture);
        }
        href
    }
}

#[derive(Template)]
#[template(path = "municipalities/index.html")]
struct IndexPage {
    chrome: Chrome,
    results: Results,
    prefectures: Vec<Municipality>,
}

#[derive(Template)]
#[template(path = "municipalities/results.html")]
struct ResultsFragment {
    results: Results,
}

#[derive(Template)]
#[template(path = "municipalities/detail.html")]
struct DetailPage {
    chrome: Chrome,
    municipality: Municipality,
    areas: Vec<Area>,
    children: Vec<Municipality>,
    organisations: Vec<Organisation>,
    /// Said of the 北方領土's villages (no one can be registered there); empty otherwise.
    no_residents_note: &'static str,
}

async fn load_results(
    state: &AppState,
    query: &HashMap<String, String>,
) -> Result<Results, AppError> {
    let get = |k: &str| query.get(k).map(String::as_str);
    let text = params::search_text(get("q"))?;
    let prefecture = prefecture_filter(get("pref"))?;
    let page = params::number(get("page"), "ページ番号", 1, 1, 1000)?;
    let searched = !text.is_empty() || prefecture.is_some();
    if !searched {
        return Ok(Results {
            query: text,
            prefecture: String::new(),
            groups: Vec::new(),
            total: 0,
            page: 1,
            pages: 0,
            searched,
        });
    }
    let found = repo::search(
        &state.db,
        &Search {
            text: text.clone(),
            prefecture_code: prefecture.clone(),
            limit: PAGE_SIZE,
            offset: (page - 1) * PAGE_SIZE,
        },
    )
    .await?;
    let mut groups: Vec<PrefectureGroup> = Vec::new();
    for m in found.items {
        match groups.last_mut() {
            Some(group) if group.name == m.prefecture_name => group.items.push(m),
            _ => groups.push(PrefectureGroup {
                name: m.prefecture_name.clone(),
                items: vec![m],
            }),
        }
    }
    Ok(Results {
        query: text,
        prefecture: prefecture.unwrap_or_default(),
        groups,
        total: found.total,
        page,
        pages: (found.total + PAGE_SIZE - 1) / PAGE_SIZE,
        searched,
    })
}

pub async fn index(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Html<String>, PageError> {
    let page = IndexPage {
        chrome: Chrome::new("市区町村をさがす", state.settings.demo),
        results: load_results(&state, &query).await?,
        prefectures: repo::prefectures(&state.db).await?,
    };
    Ok(Html(page.render()?))
}

/// The fragment htmx swaps in while the person types.
pub async fn results(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Html<String>, PageError> {
    let fragment = ResultsFragment {
        results: load_results(&state, &query).await?,
    };
    Ok(Html(fragment.render()?))
}

pub async fn detail(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Html<String>, PageError> {
    let code = MunicipalityCode::parse(&code).map_err(AppError::from)?;
    if let Some(municipality) = repo::northern_territory(code) {
        let page = DetailPage {
            chrome: Chrome::new(
                format!("{}（{}）", municipality.name, municipality.code),
                state.settings.demo,
            ),
            areas: Vec::new(),
            children: Vec::new(),
            organisations: Vec::new(),
            municipality,
            no_residents_note: repo::NO_RESIDENTS_NOTE,
        };
        return Ok(Html(page.render()?));
    }
    let municipality = repo::get(&state.db, code)
        .await?
        .ok_or_else(|| AppError::MunicipalityNotFound(code.to_string()))?;
    let page = DetailPage {
        no_residents_note: "",
        chrome: Chrome::new(
            format!("{}（{}）", municipality.name, municipality.code),
            state.settings.demo,
        ),
        areas: repo::areas_of(&state.db, &municipality.code).await?,
        children: repo::children(&state.db, &municipality).await?,
        organisations: organisations::in_municipality(&state.db, &municipality.code).await?,
        municipality,
    };
    Ok(Html(page.render()?))
}
