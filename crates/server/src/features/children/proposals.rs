//! Changes the family proposes to contact and care details. Staff see them on the profile
//! and confirm (the record changes, with the history naming the proposal) or decline.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawForm, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::form::{CareFormRow, Choices, care_rows};
use super::profile;
use super::repo::proposals::{NewProposal, RESOURCE_TYPE, insert_pending};
use super::repo::{self, Child};
use super::{service, store};
use crate::audit::{Action, Event, Outcome};
use crate::auth::session::CurrentSession;
use crate::error::{FieldError, PageError};
use crate::gate::{Gate, Use, Written};
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
    let child = gate
        .open::<Child>(&id, Permission::ProposeChange, Use::Read("proposal_form"))
        .await?
        .record;
    let Some((profile, _)) = store::load(&state.db, &id).await? else {
        return Err(gate.refused::<Child>(&id).await.into());
    };
    let page = proposal_page(&state, &current, child, profile.to_fields(), Vec::new());
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
    let opened = gate
        .open::<Child>(&id, Permission::ProposeChange, Use::Change)
        .await?;
    let Some((before, version)) = store::load(&state.db, &id).await? else {
        return Err(gate.refused::<Child>(&id).await.into());
    };
    let message = form
        .get("message")
        .map(|m| m.trim().to_string())
        .unwrap_or_default();
    let fields = service::overlay(before.to_fields(), &form);
    let mut errors = Vec::new();
    if message.chars().count() > 500 {
        errors.push(FieldError::new(
            "message",
            "too_long",
            "連絡事項は500文字以内で入力してください",
        ));
    }
    let after = match profile::parse(&fields, state.clock.today_jst()) {
        Ok(p) => Some(p),
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    let changes = after.map(|a| a.changes_from(&before)).unwrap_or_default();
    if errors.is_empty() && changes.is_empty() {
        errors.push(FieldError::new(
            "",
            "unchanged",
            "変更された項目がありません",
        ));
    }
    if !errors.is_empty() {
        let page = proposal_page(&state, &current, opened.record, form, errors);
        return Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response());
    }
    let proposal_id = uuid::Uuid::new_v4().to_string();
    let new = NewProposal {
        child_id: &id,
        proposed_by: &current.account.id,
        proposed_at: state.clock.now(),
        base_version: version,
        fields,
        changes,
        message: &message,
    };
    let event = Event::new(Action::Create, Outcome::Allowed)
        .resource(RESOURCE_TYPE, &proposal_id)
        .child(&id);
    gate.write(event, async |tx| {
        insert_pending(tx, &proposal_id, &new).await?;
        Ok(Written::Changed {
            value: (),
            fields: new.changes.iter().map(|c| c.field.clone()).collect(),
        })
    })
    .await?;
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
