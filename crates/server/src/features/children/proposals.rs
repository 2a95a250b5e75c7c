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
    /// The record's version the form was made on, and what its proposable fields held
    /// then: the proposal keeps only what the family changed from these.
    base_version: String,
    seen: String,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
    care: Vec<CareFormRow>,
    choices: Choices,
}

impl ProposalPage {
    fn value(&self, key: &str) -> String {
        self.values.get(key).cloned().unwrap_or_default()
    }

    fn errors_of(&self, key: &str) -> Vec<&str> {
        FieldError::messages_for(&self.errors, key)
    }

    /// The messages for one field of a numbered row (保護者, 医療機器, きょうだい).
    fn row_errors(&self, prefix: &str, i: &usize, key: &str) -> Vec<&str> {
        FieldError::messages_for(&self.errors, &format!("{prefix}{i}_{key}"))
    }

    fn row(&self, prefix: &str, i: &usize, key: &str) -> String {
        self.value(&format!("{prefix}{i}_{key}"))
    }
}

fn proposal_page(
    state: &AppState,
    current: &CurrentSession,
    child: repo::Child,
    (base_version, seen): (String, String),
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
) -> ProposalPage {
    ProposalPage {
        base_version,
        seen,
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
    let stored = service::open_record(
        &gate,
        &state,
        &id,
        Permission::ProposeChange,
        Use::Read("proposal_form"),
    )
    .await?;
    let fields = stored.profile.to_fields();
    let seen = serde_json::to_string(&super::profile::proposable_values(&fields))
        .map_err(|e| crate::error::AppError::Internal(e.to_string()))?;
    let base = (stored.version.to_string(), seen);
    let page = proposal_page(
        &state,
        &current,
        stored.opened.record,
        base,
        fields,
        Vec::new(),
    );
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
        service::open_record(&gate, &state, &id, Permission::ProposeChange, Use::Change).await?;
    if let Err(errors) = service::propose(&gate, &state, &stored, &form).await? {
        // Shown again on the version it was made on, so only what the family changed
        // still counts as changed.
        let base = (
            form.get("base_version").cloned().unwrap_or_default(),
            form.get("seen").cloned().unwrap_or_default(),
        );
        let page = proposal_page(&state, &current, stored.opened.record, base, form, errors);
        return Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response());
    }
    Ok(Redirect::to(&format!("/children/{id}?proposed=1")).into_response())
}

/// Staff confirm (`decision=accept`) or decline a pending proposal; for each field changed
/// since the family saw it, `choose_{field}` says which value to keep.
pub async fn decide(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path((id, proposal_id)): Path<(String, String)>,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let decision = service::ProposalDecision {
        decision: form.get("decision").map(String::as_str),
        note: form.get("note").map(|n| n.trim()).unwrap_or_default(),
        version_seen: form.get("version").and_then(|v| v.trim().parse().ok()),
        choices: form
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("choose_")?.to_string(), v.clone())))
            .collect(),
    };
    let gate = Gate::page(&state, &current, &parts);
    service::decide_proposal(&gate, &state, &id, &proposal_id, &decision).await?;
    let outcome = if decision.decision == Some("accept") {
        "proposal_accepted"
    } else {
        "proposal_declined"
    };
    Ok(Redirect::to(&format!("/children/{id}?{outcome}=1")).into_response())
}

/// A pending proposal as the record's page shows it to staff: beside the record now.
pub(crate) struct PendingReview {
    pub proposal: Proposal,
    pub review: Option<service::Review>,
}
