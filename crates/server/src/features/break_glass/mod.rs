//! Break-glass: a staff member with the permission opens one record outside their scope
//! for a few hours after giving a reason. Every grant is audited, listed for the record's
//! owner organisation (who may revoke it) and shown in the family's access history.

pub mod repo;

use std::collections::HashMap;
use tsunagu_core::ids::ChildId;

use askama::Template;
use axum::extract::{Path, RawForm, State};
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Duration;
use tsunagu_core::access::{Permission, may};

pub use repo::GrantView;

use crate::audit::{self, Action, Event, Outcome};
use crate::auth::guard::{Access, Routes, audit_context};
use crate::auth::repo::accounts;
use crate::auth::session::CurrentSession;
use crate::error::{AppError, PageError};
use crate::features::children::repo as children;
use crate::features::notices;
use crate::state::AppState;
use crate::view::Chrome;
use crate::web::params;

pub const MIN_REASON_CHARS: usize = 10;
pub const MAX_REASON_CHARS: usize = 500;

pub fn routes() -> Routes {
    Routes::new()
        .post(
            "/break-glass",
            Access::Permission(Permission::BreakGlass),
            open,
        )
        .get(
            "/break-glass",
            Access::Permission(Permission::ReviewBreakGlass),
            review,
        )
        .post(
            "/break-glass/{id}/revoke",
            Access::Permission(Permission::ReviewBreakGlass),
            revoke,
        )
}

/// Opens a grant on a child's record and goes to it.
async fn open(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form: HashMap<String, String> = params::form(&body)?;
    let child_id = form.get("resource_id").cloned().unwrap_or_default();
    let reason = form
        .get("reason")
        .map(|r| r.trim().to_string())
        .unwrap_or_default();
    let chars = reason.chars().count();
    if !(MIN_REASON_CHARS..=MAX_REASON_CHARS).contains(&chars) {
        return Err(AppError::BadRequest(format!(
            "緊急閲覧の理由を{MIN_REASON_CHARS}文字以上{MAX_REASON_CHARS}文字以内で具体的に入力してください"
        ))
        .into());
    }
    // The reason is shown to the family and the owner: nothing hidden in it.
    if let Some(c) = tsunagu_core::text::hidden_character(&reason, true) {
        let message = tsunagu_core::text::hidden_character_message("緊急閲覧の理由", c);
        return Err(AppError::BadRequest(message).into());
    }
    let now = state.clock.now();
    let ctx = audit_context(&parts, Some(&current));
    let found = match ChildId::parse(&child_id) {
        Ok(id) => children::get(&state.db, &id, state.clock.today_jst()).await?,
        Err(_) => None,
    };
    let child_name = found
        .as_ref()
        .map(|(c, _)| c.name.clone())
        .unwrap_or_default();
    let target = found.map(|(_, t)| t);
    let Some(target) = target.filter(|t| {
        // Beyond the reach of the role's break-glass (another prefecture) looks missing.
        may(&current.actor, Permission::ReadChild, Some(t)).allowed()
            || may(&current.actor, Permission::BreakGlass, Some(t)).allowed()
    }) else {
        return Err(denied(
            &state,
            &ctx,
            children::RESOURCE_TYPE,
            &child_id,
            "break_glass",
        )
        .await);
    };
    if may(&current.actor, Permission::ReadChild, Some(&target)).allowed() {
        // Within scope already: no grant needed.
        return Ok(Redirect::to(&format!("/children/{child_id}")).into_response());
    }
    let expires = now + Duration::hours(state.settings.break_glass_hours);
    let organisation_id = current
        .organisation_id()
        .ok_or(AppError::Forbidden)?
        .clone();
    let mut tx = state.db.pool().begin().await.map_err(AppError::from)?;
    repo::create(
        &mut tx,
        &current.account.id,
        &organisation_id,
        &target,
        &reason,
        now,
        expires,
    )
    .await
    .map_err(AppError::from)?;
    audit::record(
        &mut tx,
        &ctx,
        &Event::new(Action::BreakGlass, Outcome::Allowed)
            .resource(children::RESOURCE_TYPE, &child_id)
            .child(&child_id)
            .detail(&reason),
        now,
    )
    .await
    .map_err(AppError::from)?;
    // The page promises it: the family and the record's owner are told, with the reason.
    let opener = current
        .memberships
        .iter()
        .find(|m| m.organisation_id == organisation_id)
        .map(|m| m.organisation_name.clone())
        .unwrap_or_default();
    let until = crate::view::format_instant_jst(expires.timestamp_millis());
    notices::notify(
        &mut tx,
        &target.guardian_account_ids,
        notices::Kind::BreakGlass,
        &format!(
            "{opener}の{}さんが、緊急閲覧（ブレークグラス）で{child_name}さんの記録を開きました。理由：{reason}（{until}まで閲覧できます）",
            current.account.display_name
        ),
        &format!("/children/{child_id}/access-log"),
        now,
    )
    .await
    .map_err(AppError::from)?;
    let owners = accounts::staff_of(&mut tx, &target.owner_organisation_id)
        .await
        .map_err(AppError::from)?;
    notices::notify(
        &mut tx,
        &owners,
        notices::Kind::BreakGlass,
        &format!(
            "{opener}の{}さんが、{child_name}さんの記録を緊急閲覧で開きました。理由を確かめ、必要なら取り消してください。",
            current.account.display_name
        ),
        "/break-glass",
        now,
    )
    .await
    .map_err(AppError::from)?;
    tx.commit().await.map_err(AppError::from)?;
    Ok(Redirect::to(&format!("/children/{child_id}")).into_response())
}

/// How many grants are open now on the records of the person's organisations (their home
/// page asks them to review these).
pub async fn open_on_records_of(
    state: &AppState,
    current: &CurrentSession,
) -> Result<usize, AppError> {
    let organisations = current.organisation_ids();
    let now = state.clock.now().timestamp_millis();
    Ok(repo::for_owners(&state.db, &organisations)
        .await?
        .iter()
        .filter(|g| g.is_open(&now))
        .count())
}

#[derive(Template)]
#[template(path = "break_glass/review.html")]
struct ReviewPage {
    chrome: Chrome,
    grants: Vec<GrantView>,
    csrf_token: String,
    now_ms: i64,
}

/// Grants on the records of the viewer's organisations, newest first.
async fn review(
    State(state): State<AppState>,
    current: CurrentSession,
) -> Result<Html<String>, PageError> {
    let organisations = current.organisation_ids();
    let grants = repo::for_owners(&state.db, &organisations).await?;
    let page = ReviewPage {
        chrome: Chrome::for_session("緊急閲覧の確認", state.settings.demo, Some(&current)),
        grants,
        csrf_token: current.csrf_token.clone(),
        now_ms: state.clock.now().timestamp_millis(),
    };
    Ok(Html(page.render()?))
}

async fn revoke(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let organisations = current.organisation_ids();
    let now = state.clock.now();
    let ctx = audit_context(&parts, Some(&current));
    let Some(grant) = repo::get(&state.db, &id)
        .await?
        .filter(|g| organisations.contains(&g.owner_organisation_id))
    else {
        return Err(denied(&state, &ctx, "break_glass_grant", &id, "revoke").await);
    };
    let mut tx = state.db.pool().begin().await.map_err(AppError::from)?;
    if repo::revoke(&mut tx, &id, &current.account.id, now)
        .await
        .map_err(AppError::from)?
    {
        audit::record(
            &mut tx,
            &ctx,
            &Event::new(Action::BreakGlassRevoked, Outcome::Allowed)
                .resource(&grant.resource_type, &grant.resource_id)
                .child(&grant.resource_id),
            now,
        )
        .await
        .map_err(AppError::from)?;
    }
    tx.commit().await.map_err(AppError::from)?;
    Ok(Redirect::to("/break-glass").into_response())
}

/// Audits a refused attempt (on something missing or out of reach alike) and answers 404.
async fn denied(
    state: &AppState,
    ctx: &audit::Context,
    resource_type: &str,
    id: &str,
    what: &str,
) -> PageError {
    let event = Event::new(Action::Denied, Outcome::Denied)
        .resource(resource_type, id)
        .detail(what);
    match audit::record_standalone(&state.db, ctx, &event, state.clock.now()).await {
        Ok(_) => AppError::NotFound.into(),
        Err(err) => AppError::from(err).into(),
    }
}
