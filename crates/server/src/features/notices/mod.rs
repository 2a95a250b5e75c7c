//! The notice area: what the product tells one person, with an unread count in the header
//! (read with the session, `auth::repo::RESOLVE`). Every capability adds its notices
//! through [`notify`], in the transaction of the change it tells about, so a notice
//! exists exactly when the change does. Kinds so far: a break-glass opening of a record
//! (to the family and the record's owner), a decision on a family's change request.

pub mod repo;

use std::collections::HashMap;
use tsunagu_core::ids::{AccountId, NoticeId};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use crate::audit::{self, Action, Event, Outcome};
use crate::auth::guard::{Access, Routes, audit_context};
use crate::auth::session::CurrentSession;
use crate::error::{AppError, PageError};
use crate::state::AppState;
use crate::view::Chrome;
use crate::web::params;

pub use repo::Notice;

const PER_PAGE: i64 = 30;

/// What a notice is about, as the list names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    BreakGlass,
    ProposalDecided,
    PossibleDuplicate,
    AccessRequest,
    Survey,
    Mentoring,
}

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Kind::BreakGlass => "break_glass",
            Kind::ProposalDecided => "proposal_decided",
            Kind::PossibleDuplicate => "possible_duplicate",
            Kind::AccessRequest => "access_request",
            Kind::Survey => "survey",
            Kind::Mentoring => "mentoring",
        }
    }

    pub fn label_ja(code: &str) -> &'static str {
        match code {
            "break_glass" => "緊急閲覧",
            "proposal_decided" => "変更の申出",
            "possible_duplicate" => "重複の可能性",
            "access_request" => "共有の依頼",
            "survey" => "資源調査",
            "mentoring" => "ペアレントメンター",
            _ => "お知らせ",
        }
    }
}

/// Tells each of `accounts` about something, in the caller's transaction. `link` is a
/// path inside the product ("" for none).
pub async fn notify(
    conn: &mut AnyConnection,
    accounts: &[AccountId],
    kind: Kind,
    message: &str,
    link: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let mut told: Vec<&AccountId> = Vec::with_capacity(accounts.len());
    for account in accounts {
        if told.contains(&account) {
            continue;
        }
        repo::insert(conn, account, kind.code(), message, link, now).await?;
        told.push(account);
    }
    Ok(())
}

pub fn routes() -> Routes {
    Routes::new()
        .get("/notices", Access::SignedIn, list)
        .post("/notices/read", Access::SignedIn, read_all)
        .get("/notices/{id}", Access::SignedIn, open)
}

#[derive(Template)]
#[template(path = "notices/list.html")]
struct ListPage {
    chrome: Chrome,
    csrf_token: String,
    notices: Vec<Notice>,
    unread: i64,
    page: i64,
    pages: i64,
    notice: &'static str,
}

impl ListPage {
    fn kind_label(&self, code: &str) -> &'static str {
        Kind::label_ja(code)
    }
}

async fn list(
    State(state): State<AppState>,
    current: CurrentSession,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let page = params::number(q.get("page").map(String::as_str), "page", 1, 1, 10_000)?;
    let (notices, total) = repo::page(
        &state.db,
        &current.account.id,
        PER_PAGE,
        (page - 1) * PER_PAGE,
    )
    .await?;
    let view = ListPage {
        chrome: Chrome::for_session("お知らせ", state.settings.demo, Some(&current)),
        csrf_token: current.csrf_token.clone(),
        unread: current.unread_notices,
        notices,
        page,
        pages: ((total + PER_PAGE - 1) / PER_PAGE).max(1),
        notice: if q.contains_key("read") {
            "すべて既読にしました。"
        } else {
            ""
        },
    };
    Ok(Html(view.render()?).into_response())
}

/// Opens one notice: marked read, then to what it is about.
async fn open(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let opened = match NoticeId::parse(&id) {
        Ok(notice_id) => repo::open(&state.db, &current.account.id, &notice_id, now).await?,
        Err(_) => None,
    };
    let Some(notice) = opened else {
        // Another person's notice looks missing; the try is on record like any refusal.
        let kept: String = id.chars().take(64).collect();
        let event = Event::new(Action::Denied, Outcome::Denied).resource("notice", kept);
        let ctx = audit_context(&parts, Some(&current));
        audit::record_standalone(&state.db, &ctx, &event, now)
            .await
            .map_err(AppError::from)?;
        return Err(AppError::NotFound.into());
    };
    // Only paths inside the product are followed.
    let to = if notice.link.starts_with('/') && !notice.link.starts_with("//") {
        notice.link
    } else {
        "/notices".to_string()
    };
    Ok(Redirect::to(&to).into_response())
}

async fn read_all(
    State(state): State<AppState>,
    current: CurrentSession,
) -> Result<Response, PageError> {
    let mut conn = state.db.pool().acquire().await.map_err(AppError::from)?;
    repo::read_all(&mut conn, &current.account.id, state.clock.now()).await?;
    Ok(Redirect::to("/notices?read=1").into_response())
}
