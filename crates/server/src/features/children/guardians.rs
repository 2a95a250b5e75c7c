//! The family's accounts of a child, for the record's staff: make an account for one of
//! the record's guardians (its initial password shown once), link an account the family
//! already has, or end a link (the family's access ends with their next request).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawForm, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use tsunagu_core::access::Permission;

use super::profile::Guardian;
use super::repo::Child;
use super::service;
use crate::auth::session::CurrentSession;
use crate::error::{FieldError, PageError};
use crate::features::consent::{self, LinkedGuardian};
use crate::gate::{Gate, Use};
use crate::state::AppState;
use crate::view::Chrome;
use crate::web::params;

#[derive(Template)]
#[template(path = "children/guardians.html")]
struct GuardiansPage {
    chrome: Chrome,
    csrf_token: String,
    child: Child,
    linked: Vec<LinkedGuardian>,
    /// The record's guardian entries with a name, by their row number.
    entries: Vec<(usize, Guardian)>,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
    notice: &'static str,
}

impl GuardiansPage {
    fn value(&self, key: &str) -> String {
        self.values.get(key).cloned().unwrap_or_default()
    }

    fn error_of(&self, field: &str) -> Option<&FieldError> {
        self.errors.iter().find(|e| e.field == field)
    }
}

#[derive(Template)]
#[template(path = "children/guardian_created.html")]
struct CreatedPage {
    chrome: Chrome,
    child: Child,
    created: service::CreatedGuardian,
}

async fn page(
    gate: &Gate<'_>,
    state: &AppState,
    id: &str,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
    notice: &'static str,
) -> Result<GuardiansPage, PageError> {
    let stored = service::open_record(
        gate,
        state,
        id,
        Permission::WriteChild,
        Use::Read("guardians"),
    )
    .await?;
    let mut conn = state
        .db
        .pool()
        .acquire()
        .await
        .map_err(crate::error::AppError::from)?;
    let linked = consent::linked_guardians(&mut conn, stored.opened.id()).await?;
    let child = stored.opened.record;
    Ok(GuardiansPage {
        chrome: Chrome::for_session(
            format!("{} さんのご家族のアカウント", child.name),
            state.settings.demo,
            Some(gate.current()),
        ),
        csrf_token: gate.current().csrf_token.clone(),
        linked,
        entries: stored
            .profile
            .guardians
            .into_iter()
            .enumerate()
            .filter(|(_, g)| !g.name.trim().is_empty())
            .collect(),
        child,
        values,
        errors,
        notice,
    })
}

pub async fn show(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let gate = Gate::page(&state, &current, &parts);
    let notice = match parts.uri.query() {
        Some("linked=1") => "アカウントを連携しました。ご家族は次の画面からこの記録を見られます。",
        Some("unlinked=1") => "連携を解除しました。ご家族はこの記録を見られなくなりました。",
        _ => "",
    };
    let page = page(&gate, &state, &id, HashMap::new(), Vec::new(), notice).await?;
    Ok(Html(page.render()?).into_response())
}

/// Makes an account for one guardian entry; the answer shows its initial password once.
pub async fn create(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let gate = Gate::page(&state, &current, &parts);
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    match service::create_guardian_account(&gate, &state, &id, field("entry"), field("login_id"))
        .await?
    {
        Ok(created) => {
            let stored =
                service::open_record(&gate, &state, &id, Permission::WriteChild, Use::Change)
                    .await?;
            let page = CreatedPage {
                chrome: Chrome::for_session(
                    "ご家族のアカウントを作成しました",
                    state.settings.demo,
                    Some(&current),
                ),
                child: stored.opened.record,
                created,
            };
            Ok(Html(page.render()?).into_response())
        }
        Err(errors) => {
            let page = page(&gate, &state, &id, form, errors, "").await?;
            Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response())
        }
    }
}

/// Links an account the family already has.
pub async fn link(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let gate = Gate::page(&state, &current, &parts);
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    match service::link_guardian_account(
        &gate,
        &state,
        &id,
        field("existing_login_id"),
        field("relation"),
    )
    .await?
    {
        Ok(()) => Ok(Redirect::to(&format!("/children/{id}/guardians?linked=1")).into_response()),
        Err(errors) => {
            let page = page(&gate, &state, &id, form, errors, "").await?;
            Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response())
        }
    }
}

pub async fn unlink(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path((id, account_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let gate = Gate::page(&state, &current, &parts);
    service::unlink_guardian_account(&gate, &id, &account_id).await?;
    Ok(Redirect::to(&format!("/children/{id}/guardians?unlinked=1")).into_response())
}
