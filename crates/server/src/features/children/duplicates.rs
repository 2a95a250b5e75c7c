//! The town's duplicate review: pairs of records that look like one child (the same folded
//! kana and birth date), one side the reviewer's own, and merging them into one.

use askama::Template;
use axum::extract::{Path, RawForm, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::repo::merges::PairSide;
use super::service;
use crate::auth::session::CurrentSession;
use crate::error::PageError;
use crate::gate::Gate;
use crate::state::AppState;
use crate::view::Chrome;
use crate::web::params;

/// One side of a pair as the page shows it.
struct SideView {
    id: String,
    name: String,
    kana: String,
    birth: String,
    owner: String,
    registered: String,
}

impl SideView {
    fn of(side: &PairSide) -> SideView {
        SideView {
            id: side.id.to_string(),
            name: side.name.clone(),
            kana: side.kana.clone(),
            birth: tsunagu_core::calendar::format_wareki_with_seireki(side.birth_date),
            owner: side.owner_name.clone(),
            registered: crate::view::format_instant_jst(side.created_at.timestamp_millis()),
        }
    }
}

#[derive(Template)]
#[template(path = "children/duplicates.html")]
struct DuplicatesPage {
    chrome: Chrome,
    csrf_token: String,
    /// (the reviewer's own record, the other one)
    pairs: Vec<(SideView, SideView)>,
    error: String,
    /// The pair the error is about: `(own id, other id)`.
    error_pair: (String, String),
    reason: String,
}

async fn render(
    state: &AppState,
    current: &CurrentSession,
    parts: &Parts,
    error: (String, (String, String), String),
) -> Result<DuplicatesPage, PageError> {
    let pairs = service::duplicate_pairs(state, current).await?;
    // The page shows children of other departments by name: a read, on record.
    let gate = Gate::page(state, current, parts);
    let ids: Vec<String> = pairs
        .iter()
        .flat_map(|(a, b)| [a.id.to_string(), b.id.to_string()])
        .collect();
    service::audit_shown(&gate, "duplicates", ids.iter().map(String::as_str)).await?;
    let (error, error_pair, reason) = error;
    Ok(DuplicatesPage {
        chrome: Chrome::for_session("重複の可能性がある記録", state.settings.demo, Some(current)),
        csrf_token: current.csrf_token.clone(),
        pairs: pairs
            .iter()
            .map(|(own, other)| (SideView::of(own), SideView::of(other)))
            .collect(),
        error,
        error_pair,
        reason,
    })
}

pub async fn review(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
) -> Result<Html<String>, PageError> {
    let page = render(&state, &current, &parts, Default::default()).await?;
    Ok(Html(page.render()?))
}

pub async fn merge(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    let (other, reason) = (field("merged_id"), field("reason"));
    let gate = Gate::page(&state, &current, &parts);
    match service::merge(&gate, &state, &id, &other, &reason).await? {
        Ok(()) => Ok(Redirect::to(&format!("/children/{id}?merged=1")).into_response()),
        Err(message) => {
            let page = render(&state, &current, &parts, (message, (id, other), reason)).await?;
            Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response())
        }
    }
}
