//! Registering a child and editing the profile: one form for both, every problem named in
//! Japanese, and on edit a version check that shows the other person's change instead of
//! overwriting it.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawForm, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use tsunagu_core::access::{Permission, registering_membership};
use tsunagu_core::care::CareLine;
use tsunagu_core::device::DeviceKind;

use super::profile;
use super::repo::{self, Child};
use super::service::{self, EditOutcome};
use super::store::{self, HistoryEntry};
use crate::auth::session::CurrentSession;
use crate::error::{AppError, FieldError, PageError};
use crate::gate::{Gate, Use};
use crate::state::AppState;
use crate::view::Chrome;
use crate::web::params;

/// One line of the care part of the form (an item, or a kind of 導尿 and 排便管理: the
/// sheet's own lines), as it was filled in.
pub(crate) struct CareFormRow {
    pub code: &'static str,
    pub label: String,
    /// The 見守り levels the score sheet has for the line: only these are offered.
    pub levels: Vec<(&'static str, &'static str)>,
    pub checked: bool,
    pub watch: String,
}

pub(crate) fn care_rows(form: &HashMap<String, String>) -> Vec<CareFormRow> {
    CareLine::all()
        .into_iter()
        .map(|line| CareFormRow {
            code: line.code(),
            label: line.label_ja(),
            levels: tsunagu_core::care::SCORE_TABLE_2021
                .line_levels(line)
                .into_iter()
                .map(|w| (w.code(), w.label_ja()))
                .collect(),
            checked: form.contains_key(&format!("care_{}", line.code())),
            watch: form
                .get(&format!("watch_{}", line.code()))
                .cloned()
                .unwrap_or_default(),
        })
        .collect()
}

/// The choices the form's selects offer.
pub(crate) struct Choices {
    pub sexes: &'static [(&'static str, &'static str)],
    pub statuses: &'static [(&'static str, &'static str)],
    pub intake_sources: &'static [(&'static str, &'static str)],
    pub employments: &'static [(&'static str, &'static str)],
    pub wishes: &'static [(&'static str, &'static str)],
    pub devices: Vec<(&'static str, &'static str)>,
    pub guardian_rows: Vec<usize>,
    pub device_rows: Vec<usize>,
    pub sibling_rows: Vec<usize>,
}

impl Choices {
    pub fn new() -> Self {
        Choices {
            sexes: &profile::SEXES,
            statuses: &profile::STATUSES,
            intake_sources: &profile::INTAKE_SOURCES,
            employments: &profile::EMPLOYMENTS,
            wishes: &profile::WISHES,
            devices: DeviceKind::ALL
                .iter()
                .map(|d| (d.code(), d.label_ja()))
                .collect(),
            guardian_rows: (0..profile::GUARDIAN_ROWS).collect(),
            device_rows: (0..profile::DEVICE_ROWS).collect(),
            sibling_rows: (0..profile::SIBLING_ROWS).collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "children/form.html")]
struct FormPage {
    chrome: Chrome,
    csrf_token: String,
    /// `None` when registering.
    child_id: Option<String>,
    version: i64,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
    conflict: Vec<HistoryEntry>,
    /// A child already registered that this registration may duplicate.
    duplicate: Option<service::Duplicate>,
    care: Vec<CareFormRow>,
    choices: Choices,
}

impl FormPage {
    fn value(&self, key: &str) -> String {
        self.values.get(key).cloned().unwrap_or_default()
    }

    fn row(&self, prefix: &str, i: &usize, key: &str) -> String {
        self.value(&format!("{prefix}{i}_{key}"))
    }

    /// The messages about one field, shown beside it (the summary above lists them all).
    fn errors_of(&self, key: &str) -> Vec<&str> {
        FieldError::messages_for(&self.errors, key)
    }

    /// The messages for one field of a numbered row (保護者, 医療機器, きょうだい).
    fn row_errors(&self, prefix: &str, i: &usize, key: &str) -> Vec<&str> {
        FieldError::messages_for(&self.errors, &format!("{prefix}{i}_{key}"))
    }

    fn has_error(&self, key: &str) -> bool {
        self.errors.iter().any(|e| e.field == key)
    }

    fn action(&self) -> String {
        match &self.child_id {
            Some(id) => format!("/children/{id}"),
            None => "/children".into(),
        }
    }
}

fn form_page(
    state: &AppState,
    current: &CurrentSession,
    child_id: Option<String>,
    version: i64,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
    conflict: Vec<HistoryEntry>,
) -> FormPage {
    let title = if child_id.is_some() {
        "児童の記録の編集"
    } else {
        "児童の登録"
    };
    FormPage {
        chrome: Chrome::for_session(title, state.settings.demo, Some(current)),
        csrf_token: current.csrf_token.clone(),
        child_id,
        version,
        care: care_rows(&values),
        values,
        errors,
        conflict,
        duplicate: None,
        choices: Choices::new(),
    }
}

pub async fn new_form(
    State(state): State<AppState>,
    current: CurrentSession,
) -> Result<Html<String>, PageError> {
    let mut values = HashMap::new();
    if let Some(m) = current.memberships.first() {
        values.insert("municipality_code".to_string(), m.municipality_code.clone());
    }
    values.insert(
        "intake_date".to_string(),
        state.clock.today_jst().format("%Y-%m-%d").to_string(),
    );
    let page = form_page(&state, &current, None, 0, values, Vec::new(), Vec::new());
    Ok(Html(page.render()?))
}

pub async fn create(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let profile = match profile::parse(&form, state.clock.today_jst()) {
        Ok(p) => p,
        Err(errors) => {
            let page = form_page(&state, &current, None, 0, form, errors, Vec::new());
            return Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response());
        }
    };
    let Some(writer) = registering_membership(
        &current.actor,
        Permission::WriteChild,
        &profile.municipality_code,
    ) else {
        let errors = vec![FieldError::new(
            "municipality_code",
            "not_allowed",
            "担当外の市区町村の児童は登録できません",
        )];
        let page = form_page(&state, &current, None, 0, form, errors, Vec::new());
        return Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response());
    };
    let gate = Gate::page(&state, &current, &parts);
    let reason = form.get("duplicate_reason").map(String::as_str);
    match service::register_unless_duplicate(&gate, &state, writer, &profile, reason).await? {
        Ok(id) => Ok(Redirect::to(&format!("/children/{id}?registered=1")).into_response()),
        Err((duplicate, errors)) => {
            let mut page = form_page(&state, &current, None, 0, form, errors, Vec::new());
            page.duplicate = Some(duplicate);
            Ok((StatusCode::CONFLICT, Html(page.render()?)).into_response())
        }
    }
}

/// A department asks the department that holds the child's record (found from the
/// registration form's kana, birth date and town) to share it.
pub async fn request_access(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let field = |k: &str| form.get(k).map(|v| v.trim()).unwrap_or_default();
    let code = tsunagu_core::municipality::MunicipalityCode::parse(field("municipality_code"))
        .map_err(AppError::from)?;
    let birth = profile::parse_date(field("birth_date"))
        .ok_or_else(|| AppError::BadRequest("生年月日を確かめてください".into()))?;
    let message = field("access_message");
    if message.chars().count() > 200
        || tsunagu_core::text::hidden_character(message, false).is_some()
    {
        return Err(AppError::BadRequest(
            "連絡事項は200文字以内で、見えない文字を含めずに入力してください".into(),
        )
        .into());
    }
    let gate = Gate::page(&state, &current, &parts);
    let told =
        service::request_access(&gate, &state, (&code, birth, field("kana")), message).await?;
    if !told {
        return Err(AppError::BadRequest(
            "依頼先の記録が見つかりませんでした。登録の画面に戻り、ふりがな・生年月日を確かめてください"
                .into(),
        )
        .into());
    }
    let page = RequestedPage {
        chrome: Chrome::for_session("共有を依頼しました", state.settings.demo, Some(&current)),
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "children/access_requested.html")]
struct RequestedPage {
    chrome: Chrome,
}

pub async fn edit_form(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let gate = Gate::page(&state, &current, &parts);
    let stored = service::open_record(
        &gate,
        &state,
        &id,
        Permission::WriteChild,
        Use::Read("edit"),
    )
    .await?;
    let page = form_page(
        &state,
        &current,
        Some(id),
        stored.version,
        stored.profile.to_fields(),
        Vec::new(),
        Vec::new(),
    );
    Ok(Html(page.render()?).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let expected = params::number(
        form.get("version").map(String::as_str),
        "版",
        0,
        1,
        i64::MAX,
    )?;
    if expected == 0 {
        return Err(AppError::BadRequest(
            "版の情報がありません。編集画面を開き直してください".into(),
        )
        .into());
    }
    let gate = Gate::page(&state, &current, &parts);
    let stored =
        service::open_record(&gate, &state, &id, Permission::WriteChild, Use::Change).await?;
    match service::edit(&gate, &state, &stored, expected, &form, "form").await? {
        EditOutcome::Saved { .. } => {
            Ok(Redirect::to(&format!("/children/{id}?saved=1")).into_response())
        }
        EditOutcome::Invalid(errors) => {
            let page = form_page(
                &state,
                &current,
                Some(id),
                expected,
                form,
                errors,
                Vec::new(),
            );
            Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response())
        }
        EditOutcome::Conflict { current: v, others } => {
            let errors = vec![FieldError::new(
                "version",
                "conflict",
                format!(
                    "この記録は、編集を始めた後に他の人が更新しました（版 {expected} → {v}）。下の変更内容を確認し、必要なら入力し直して保存してください。入力した内容はまだ保存されていません。"
                ),
            )];
            let page = form_page(&state, &current, Some(id), v, form, errors, others);
            Ok((StatusCode::CONFLICT, Html(page.render()?)).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "children/history.html")]
struct HistoryPage {
    chrome: Chrome,
    child: repo::Child,
    entries: Vec<HistoryEntry>,
    /// Records of the same child merged into this one, with what they were.
    merged: Vec<repo::merges::MergedRecord>,
}

/// Every edit of the record: who, when, which fields, before and after.
pub async fn history_page(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let child = Gate::page(&state, &current, &parts)
        .read::<Child>(&id, "history")
        .await?
        .record;
    let mut entries = store::history(&state.db, &child.id, 0).await?;
    entries.reverse();
    let merged = repo::merges::merged_into(&state.db, &child.id).await?;
    let page = HistoryPage {
        chrome: Chrome::for_session(
            format!("{} さんの記録の変更履歴", child.name),
            state.settings.demo,
            Some(&current),
        ),
        child,
        entries,
        merged,
    };
    Ok(Html(page.render()?).into_response())
}
