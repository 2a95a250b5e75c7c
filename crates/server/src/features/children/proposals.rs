//! Changes the family proposes to contact and care details. Staff see them on the profile
//! and confirm (the record changes, with the history naming the proposal) or decline.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawForm, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::form::{CareFormRow, Choices, care_rows};
use super::repo;
use super::service;
use crate::auth::session::CurrentSession;
use crate::error::{FieldError, PageError};
use crate::gate::{Gate, Use};
use crate::state::AppState;
use crate::view::Chrome;
use crate::web::params;
use tsunagu_core::access::Permission;

pub use super::repo::proposals::{Proposal, for_child};

#[derive(Template)]
#[template(path = "children/proposal_form.html")]
struct ProposalPage {
    chrome: Chrome,
    csrf_token: String,
    child: repo::Child,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
    care: Vec<CareFormRow>,
    choices: Choices,
}

impl ProposalPage {
    fn value(&self, key: &str) -> String {
        self.values.get(key).cloned().unwrap_or_default()
    }

    fn row(&self, prefix: &str, i: &usize, key: &str) -> String {
        self.value(&format!("{prefix}{i}_{key}"))
    }
}

fn proposal_page(
    state: &AppState,
    current: &CurrentSession,
    child: repo::Child,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
) -> ProposalPage {
    ProposalPage {
        chrome: Chrome::for_session(
            format!("{} さんの記録の変更を申し出る", child.name),
            state.settings.demo,
            Some(current),
        ),
        csrf_token: current.csrf_token.clone(),
        child,
        care: care_rows(&values),
        values,
        errors,
        choices: Choices::new(),
    }
}

pub async fn new_form(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let gate = Gate::page(&state, &current, &parts);
    // The form shows the record's contact and care details: a read like any other.
    let stored = service::open_with_profile(
        &gate,
        &state,
        &id,
        Permission::ProposeChange,
        Use::Read("proposal_form"),
    )
    .await?;
    let fields = stored.profile.to_fields();
    let page = proposal_page(&state, &current, stored.opened.record, fields, Vec::new());
    Ok(Html(page.render()?).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let gate = Gate::page(&state, &current, &parts);
    let stored =
        service::open_with_profile(&gate, &state, &id, Permission::ProposeChange, Use::Change)
            .await?;
    if let Err(errors) = service::propose(&gate, &state, &stored, &form).await? {
        let page = proposal_page(&state, &current, stored.opened.record, form, errors);
        return Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response());
    }
    Ok(Redirect::to(&format!("/children/{id}?proposed=1")).into_response())
}

/// Staff confirm (`decision=accept`) or decline a pending proposal.
pub async fn decide(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path((id, proposal_id)): Path<(String, String)>,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let note = form.get("note").map(|n| n.trim()).unwrap_or_default();
    let decision = form.get("decision").map(String::as_str);
    let gate = Gate::page(&state, &current, &parts);
    service::decide_proposal(&gate, &state, &id, &proposal_id, decision, note).await?;
    Ok(Redirect::to(&format!("/children/{id}")).into_response())
}
