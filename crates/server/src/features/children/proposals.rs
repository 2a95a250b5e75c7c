//! Changes the family proposes to contact and care details. Staff see them on the profile
//! and confirm (the record changes, with the history naming the proposal) or decline.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawForm, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::form::{CareFormRow, Choices, EditOutcome, care_rows, save_edit};
use super::profile::{self, Change, proposable_field};
use super::{load_in_scope, refuse, repo, store};
use crate::audit::{self, Action, Event, Outcome};
use crate::auth::guard::audit_context;
use crate::auth::session::CurrentSession;
use crate::db::{Db, codec};
use crate::error::{AppError, PageError};
use crate::state::AppState;
use crate::web::layout::Chrome;
use crate::web::params;
use tsunagu_core::access::Permission;

/// What is stored: the proposed values of the proposable fields, and the changes in words.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    fields: HashMap<String, String>,
    changes: Vec<Change>,
}

#[derive(Debug, Clone)]
pub struct Proposal {
    pub id: String,
    pub proposed_by: String,
    pub proposed_at: DateTime<Utc>,
    pub message: String,
    pub status: String,
    pub changes: Vec<Change>,
    pub decision_note: String,
    fields: HashMap<String, String>,
}

impl Proposal {
    pub fn status_ja(&self) -> &'static str {
        match self.status.as_str() {
            "accepted" => "反映済み",
            "declined" => "見送り",
            _ => "確認待ち",
        }
    }

    pub fn at_ja(&self) -> String {
        crate::web::layout::format_instant_jst(self.proposed_at.timestamp_millis())
    }
}

pub async fn pending_count(db: &Db, child_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT count(*) FROM child_proposals WHERE child_id = $1 AND status = 'pending'")
        .bind(child_id)
        .fetch_one(db.pool())
        .await?
        .try_get(0)
}

/// The child's proposals, newest first.
pub async fn for_child(
    conn: &mut sqlx::AnyConnection,
    child_id: &str,
) -> Result<Vec<Proposal>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT p.id, a.display_name, p.proposed_at, p.message, p.status, p.changes, p.decision_note \
         FROM child_proposals p JOIN accounts a ON a.id = p.proposed_by WHERE p.child_id = $1 \
         ORDER BY p.proposed_at DESC, p.id",
    )
    .bind(child_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let stored: String = r.try_get("changes")?;
            let stored: Stored =
                serde_json::from_str(&stored).map_err(|e| sqlx::Error::ColumnDecode {
                    index: "changes".into(),
                    source: Box::new(e),
                })?;
            Ok(Proposal {
                id: r.try_get("id")?,
                proposed_by: r.try_get("display_name")?,
                proposed_at: codec::get_instant(r, "proposed_at")?,
                message: r.try_get("message")?,
                status: r.try_get("status")?,
                decision_note: r.try_get("decision_note")?,
                changes: stored.changes,
                fields: stored.fields,
            })
        })
        .collect()
}

#[derive(Template)]
#[template(path = "children/proposal_form.html")]
struct ProposalPage {
    chrome: Chrome,
    csrf_token: String,
    child: repo::Child,
    values: HashMap<String, String>,
    errors: Vec<String>,
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
    errors: Vec<String>,
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
    let Some((child, _, _)) =
        load_in_scope(&state, &current, &id, Permission::ProposeChange).await?
    else {
        return refuse(&state, &current, &parts, &id).await;
    };
    let Some((profile, _)) = store::load(&state.db, &id).await? else {
        return refuse(&state, &current, &parts, &id).await;
    };
    // The form shows the record's contact and care details: a read like any other.
    super::audit_read(&state, &current, &parts, &id, false, "proposal_form").await?;
    let page = proposal_page(&state, &current, child, profile.to_fields(), Vec::new());
    Ok(Html(page.render()?).into_response())
}

/// The current fields with the proposable ones replaced by the proposal's.
fn overlay(
    current: HashMap<String, String>,
    proposed: &HashMap<String, String>,
) -> HashMap<String, String> {
    let mut fields: HashMap<String, String> = current
        .into_iter()
        .filter(|(k, _)| !proposable_field(k))
        .collect();
    fields.extend(
        proposed
            .iter()
            .filter(|(k, _)| proposable_field(k))
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    fields
}

pub async fn create(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let Some((child, _, _)) =
        load_in_scope(&state, &current, &id, Permission::ProposeChange).await?
    else {
        return refuse(&state, &current, &parts, &id).await;
    };
    let Some((before, version)) = store::load(&state.db, &id).await? else {
        return refuse(&state, &current, &parts, &id).await;
    };
    let message = form
        .get("message")
        .map(|m| m.trim().to_string())
        .unwrap_or_default();
    let fields = overlay(before.to_fields(), &form);
    let mut errors = Vec::new();
    if message.chars().count() > 500 {
        errors.push("連絡事項は500文字以内で入力してください".to_string());
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
        errors.push("変更された項目がありません".to_string());
    }
    if !errors.is_empty() {
        let page = proposal_page(&state, &current, child, form, errors);
        return Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response());
    }
    let stored = Stored {
        fields: fields
            .into_iter()
            .filter(|(k, _)| proposable_field(k))
            .collect(),
        changes: changes.clone(),
    };
    let now = state.clock.now();
    let ctx = audit_context(&parts, Some(&current));
    let mut tx = state.db.pool().begin().await?;
    let proposal_id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO child_proposals (id, child_id, proposed_by, proposed_at, base_version, changes, message) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&proposal_id)
    .bind(&id)
    .bind(&current.account.id)
    .bind(codec::instant_to_db(now))
    .bind(version)
    .bind(serde_json::to_string(&stored).map_err(|e| AppError::Internal(e.to_string()))?)
    .bind(&message)
    .execute(&mut *tx)
    .await?;
    let event = Event::new(Action::Create, Outcome::Allowed)
        .resource("child_proposal", &proposal_id)
        .child(&id)
        .fields(changes.iter().map(|c| c.field.clone()));
    audit::record(&mut tx, &ctx, &event, now).await?;
    tx.commit().await?;
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
    if load_in_scope(&state, &current, &id, Permission::WriteChild)
        .await?
        .is_none()
    {
        return refuse(&state, &current, &parts, &id).await;
    }
    let of_child = for_child(
        &mut *state.db.pool().acquire().await.map_err(AppError::from)?,
        &id,
    )
    .await?;
    let Some(proposal) = of_child
        .into_iter()
        .find(|p| p.id == proposal_id && p.status == "pending")
    else {
        return refuse(&state, &current, &parts, &id).await;
    };
    let note = form
        .get("note")
        .map(|n| n.trim().to_string())
        .unwrap_or_default();
    if note.chars().count() > 500 {
        return Err(AppError::BadRequest("確認メモは500文字以内で入力してください".into()).into());
    }
    let accept = match form.get("decision").map(String::as_str) {
        Some("accept") => true,
        Some("decline") => false,
        _ => return Err(AppError::BadRequest("反映するか見送るかを選んでください".into()).into()),
    };
    if accept {
        let Some((profile, version)) = store::load(&state.db, &id).await? else {
            return Err(AppError::NotFound.into());
        };
        let fields = overlay(profile.to_fields(), &proposal.fields);
        match save_edit(&state, &current, &parts, &id, version, &fields, "proposal").await? {
            EditOutcome::Saved { .. } => {}
            EditOutcome::Invalid(errors) => {
                return Err(AppError::BadRequest(format!(
                    "申出をそのまま反映できません：{}",
                    errors.join("、")
                ))
                .into());
            }
            EditOutcome::Conflict { .. } => {
                return Err(AppError::Conflict(
                    "記録が同時に更新されました。ページを開き直してから、もう一度反映してください"
                        .into(),
                )
                .into());
            }
            EditOutcome::Missing => return refuse(&state, &current, &parts, &id).await,
        }
    }
    let now = state.clock.now();
    let ctx = audit_context(&parts, Some(&current));
    let mut tx = state.db.pool().begin().await?;
    sqlx::query(
        "UPDATE child_proposals SET status = $1, decided_by = $2, decided_at = $3, decision_note = $4 \
         WHERE id = $5 AND status = 'pending'",
    )
    .bind(if accept { "accepted" } else { "declined" })
    .bind(&current.account.id)
    .bind(codec::instant_to_db(now))
    .bind(&note)
    .bind(&proposal_id)
    .execute(&mut *tx)
    .await?;
    let event = Event::new(Action::Update, Outcome::Allowed)
        .resource("child_proposal", &proposal_id)
        .child(&id)
        .detail(if accept { "accepted" } else { "declined" });
    audit::record(&mut tx, &ctx, &event, now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/children/{id}")).into_response())
}

/// A family proposal written directly, without the form (the demo's pending proposal).
pub struct NewProposal<'a> {
    pub child_id: &'a str,
    pub proposed_by: &'a str,
    pub proposed_at: DateTime<Utc>,
    pub base_version: i64,
    /// The proposed values; only proposable fields are kept.
    pub fields: HashMap<String, String>,
    pub changes: Vec<Change>,
    pub message: &'a str,
}

/// Stores a pending proposal as the form does; the caller audits in the same transaction.
pub async fn insert_pending(
    conn: &mut sqlx::AnyConnection,
    new: &NewProposal<'_>,
) -> Result<String, sqlx::Error> {
    let stored = Stored {
        fields: new
            .fields
            .iter()
            .filter(|(k, _)| proposable_field(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        changes: new.changes.clone(),
    };
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO child_proposals (id, child_id, proposed_by, proposed_at, base_version, changes, message) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(new.child_id)
    .bind(new.proposed_by)
    .bind(codec::instant_to_db(new.proposed_at))
    .bind(new.base_version)
    .bind(serde_json::to_string(&stored).map_err(|e| sqlx::Error::Encode(e.into()))?)
    .bind(new.message)
    .execute(conn)
    .await?;
    Ok(id)
}
