//! The consents page of a child: what the family agreed to share, with whom, since when;
//! the family (online) and staff (from paper) record and withdraw them here.

use std::collections::HashMap;
use tsunagu_core::ids::OrganisationId;

use askama::Template;
use axum::extract::{Path, RawForm, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use tsunagu_core::access::{Department, Permission, Target, may};

use super::repo::{self, Child};
use super::{profile, service};
use crate::auth::session::CurrentSession;
use crate::error::{AppError, PageError};
use crate::features::consent::{self, Consent, NewConsent, Purpose};
use crate::gate::{Gate, Opened, Use};
use crate::organisations::repo::{Organisation, partners_in_prefecture};
use crate::state::AppState;
use crate::view::Chrome;
use crate::web::params;

#[derive(Template)]
#[template(path = "children/consents.html")]
struct ConsentsPage {
    chrome: Chrome,
    csrf_token: String,
    child: repo::Child,
    consents: Vec<Consent>,
    today: NaiveDate,
    can_record: bool,
    is_guardian: bool,
    partners: Vec<Organisation>,
    purposes: Vec<(&'static str, &'static str)>,
    departments: Vec<(&'static str, &'static str)>,
    values: HashMap<String, String>,
    errors: Vec<String>,
    notice: String,
}

impl ConsentsPage {
    fn value(&self, key: &str) -> String {
        self.values.get(key).cloned().unwrap_or_default()
    }
}

fn is_guardian(current: &CurrentSession, target: &Target) -> bool {
    target.guardian_account_ids.contains(&current.account.id)
}

#[allow(clippy::too_many_arguments)]
async fn render(
    state: &AppState,
    current: &CurrentSession,
    child: repo::Child,
    target: &Target,
    values: HashMap<String, String>,
    errors: Vec<String>,
    notice: String,
    status: StatusCode,
) -> Result<Response, PageError> {
    let prefecture = format!("{:02}", target.municipality_code.prefecture_number());
    // Its own statement, so the connection is back in the pool before the next read.
    let consents = consent::for_child(
        &mut *state.db.pool().acquire().await.map_err(AppError::from)?,
        &child.id,
    )
    .await?;
    let page = ConsentsPage {
        chrome: Chrome::for_session(
            format!("{} さんの同意の記録", child.name),
            state.settings.demo,
            Some(current),
        ),
        csrf_token: current.csrf_token.clone(),
        consents,
        today: state.clock.today_jst(),
        can_record: may(&current.actor, Permission::RecordConsent, Some(target)).allowed(),
        is_guardian: is_guardian(current, target),
        partners: partners_in_prefecture(&state.db, &prefecture).await?,
        purposes: Purpose::ALL
            .iter()
            .map(|p| (p.code(), p.label_ja()))
            .collect(),
        departments: Department::ALL
            .iter()
            .map(|d| (d.as_str(), d.label_ja()))
            .collect(),
        child,
        values,
        errors,
        notice,
    };
    Ok((status, Html(page.render()?)).into_response())
}

pub async fn page(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let Opened {
        record: child,
        target,
        ..
    } = Gate::page(&state, &current, &parts)
        .read::<Child>(&id, "consents")
        .await?;
    let notice = match parts.uri.query() {
        Some("saved=1") => "同意を記録しました。".to_string(),
        Some("withdrawn=1") => {
            "同意を撤回しました。この時点から共有先は記録を開けません。".to_string()
        }
        _ => String::new(),
    };
    render(
        &state,
        &current,
        child,
        &target,
        HashMap::new(),
        Vec::new(),
        notice,
        StatusCode::OK,
    )
    .await
}

/// Checks a consent as submitted; a guardian's consent is given online, today.
fn parse_consent(
    form: &HashMap<String, String>,
    today: NaiveDate,
    guardian: bool,
    partners: &[Organisation],
    owner: &OrganisationId,
) -> Result<NewConsent, Vec<String>> {
    let get = |k: &str| {
        form.get(k)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let mut errors = Vec::new();
    let purpose = Purpose::parse(&get("purpose"));
    if purpose.is_none() {
        errors.push("同意の目的を選んでください".to_string());
    }
    let mut department = None;
    let mut organisation_id = None;
    match purpose {
        Some(Purpose::Department) => match Department::parse(&get("department")) {
            Some(d) => department = Some(d),
            None => errors.push("共有する担当課を選んでください".to_string()),
        },
        Some(Purpose::Organisation) => {
            let chosen = OrganisationId::parse(&get("organisation_id")).ok();
            if chosen.as_ref() == Some(owner) {
                errors.push("記録を管理する組織は同意がなくても記録を扱います".to_string());
            } else if let Some(chosen) = chosen.filter(|c| partners.iter().any(|o| o.id == *c)) {
                organisation_id = Some(chosen);
            } else {
                errors.push("共有する外部機関を一覧から選んでください".to_string());
            }
        }
        _ => {}
    }
    let date = |key: &str, label: &str, errors: &mut Vec<String>| {
        let text = get(key);
        if text.is_empty() {
            return None;
        }
        let parsed = profile::parse_date(&text);
        if parsed.is_none() {
            errors.push(format!(
                "{label}「{text}」を 2026-04-01 や 令和8年4月1日 の形で入力してください"
            ));
        }
        parsed
    };
    let (given_on, method) = if guardian {
        (Some(today), "online".to_string())
    } else {
        let given = date("given_on", "同意日", &mut errors);
        if given.is_none() && get("given_on").is_empty() {
            errors.push("同意日を入力してください".to_string());
        }
        if given.is_some_and(|d| d > today) {
            errors.push("同意日が未来の日付になっています".to_string());
        }
        let method = get("method");
        if !matches!(method.as_str(), "paper" | "online") {
            errors.push("同意の方法（書面・オンライン）を選んでください".to_string());
        }
        (given, method)
    };
    let expires_on = date("expires_on", "有効期限", &mut errors);
    if let (Some(e), Some(g)) = (expires_on, given_on)
        && e <= g.max(today)
    {
        errors.push("有効期限は今日より後の日付にしてください".to_string());
    }
    match (purpose, given_on) {
        (Some(purpose), Some(given_on)) if errors.is_empty() => Ok(NewConsent {
            purpose,
            department,
            organisation_id,
            given_on,
            method,
            expires_on,
        }),
        _ => Err(errors),
    }
}

pub async fn record(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let gate = Gate::page(&state, &current, &parts);
    let opened = gate
        .open::<Child>(&id, Permission::RecordConsent, Use::Change)
        .await?;
    let target = &opened.target;
    let today = state.clock.today_jst();
    let prefecture = format!("{:02}", target.municipality_code.prefecture_number());
    let partners = partners_in_prefecture(&state.db, &prefecture).await?;
    let guardian = is_guardian(&current, target);
    let new = parse_consent(
        &form,
        today,
        guardian,
        &partners,
        &target.owner_organisation_id,
    );
    let new = match new {
        Ok(n) => n,
        Err(errors) => {
            return render(
                &state,
                &current,
                opened.record,
                target,
                form,
                errors,
                String::new(),
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    if let Err(duplicate) = service::record_consent(&gate, &state, &opened, &new).await? {
        return render(
            &state,
            &current,
            opened.record,
            &opened.target,
            form,
            vec![duplicate],
            String::new(),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    Ok(Redirect::to(&format!("/children/{id}/consents?saved=1")).into_response())
}

pub async fn withdraw(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path((id, consent_id)): Path<(String, String)>,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let gate = Gate::page(&state, &current, &parts);
    let opened = gate
        .open::<Child>(&id, Permission::RecordConsent, Use::Change)
        .await?;
    let reason = form
        .get("reason")
        .map(|r| r.trim().to_string())
        .unwrap_or_default();
    if reason.chars().count() > 200 {
        return Err(
            AppError::BadRequest("撤回の理由は200文字以内で入力してください".into()).into(),
        );
    }
    if let Some(c) = tsunagu_core::text::hidden_character(&reason, false) {
        let message = tsunagu_core::text::hidden_character_message("撤回の理由", c);
        return Err(AppError::BadRequest(message).into());
    }
    let reason = if reason.is_empty() {
        "撤回".to_string()
    } else {
        reason
    };
    service::withdraw_consent(&gate, &state, &opened, &consent_id, &reason).await?;
    Ok(Redirect::to(&format!("/children/{id}/consents?withdrawn=1")).into_response())
}
