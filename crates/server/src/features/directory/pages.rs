//! The directory's pages: search (staff and public), a service's page, the entries a
//! person keeps, and the form a facility keeps its entry with (care, capacity, vacancies).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawForm, RawQuery, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use tsunagu_core::access::{Permission, may};
use tsunagu_core::care::{CareItem, Tier};
use tsunagu_core::device::DeviceKind;

use super::service::{self, Query, Saved, ServiceView};
use crate::auth::guard::MaybeSession;
use crate::auth::session::CurrentSession;
use crate::error::{AppError, FieldError, PageError};
use crate::gate::Gate;
use crate::state::AppState;
use crate::view::Chrome;
use crate::web::params;

const PAGE_SIZE: i64 = 30;

/// Choices the search and the form offer.
pub struct Choices {
    pub kinds: Vec<(&'static str, &'static str)>,
    pub care: Vec<(&'static str, String)>,
    pub devices: Vec<(&'static str, &'static str)>,
    pub tiers: Vec<(&'static str, &'static str)>,
    pub ages: Vec<(i64, String)>,
}

impl Default for Choices {
    fn default() -> Self {
        Self::new()
    }
}

impl Choices {
    pub fn new() -> Self {
        Choices {
            kinds: service::kind_choices(),
            care: CareItem::ALL
                .iter()
                .filter(|c| c.parent().is_none())
                .map(|c| (c.code(), c.short_label_ja().to_string()))
                .collect(),
            devices: DeviceKind::ALL
                .iter()
                .filter(|d| **d != DeviceKind::Other)
                .map(|d| (d.code(), d.label_ja()))
                .collect(),
            tiers: Tier::ALL.iter().map(|t| (t.code(), t.label_ja())).collect(),
            ages: (0..=18)
                .map(|a| (a, tsunagu_core::directory::class_age_ja(a as i32)))
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "directory/search.html")]
struct SearchPage {
    chrome: Chrome,
    public: bool,
    choices: Choices,
    values: HashMap<String, String>,
    care_chosen: Vec<String>,
    problems: Vec<String>,
    results: Vec<ServiceView>,
    total: i64,
    page: i64,
    pages: i64,
    query_string: String,
    /// A search was asked (the page opened with conditions).
    asked: bool,
    can_edit: bool,
    /// The areas (圏域) of the staff's prefecture: `(id, name)`.
    areas: Vec<(String, String)>,
}

impl SearchPage {
    fn value(&self, key: &str) -> String {
        self.values.get(key).cloned().unwrap_or_default()
    }

    fn care_checked(&self, code: &str) -> bool {
        self.care_chosen.iter().any(|c| c == code)
    }

    fn base(&self) -> &'static str {
        if self.public {
            "/public/directory"
        } else {
            "/directory"
        }
    }
}

async fn search_page(
    state: &AppState,
    current: Option<&CurrentSession>,
    raw_query: Option<String>,
    public: bool,
) -> Result<Response, PageError> {
    let pairs = params::pairs(raw_query.as_deref().unwrap_or(""))?;
    let care_chosen: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "care")
        .map(|(_, v)| v.clone())
        .collect();
    let values: HashMap<String, String> = pairs
        .iter()
        .filter(|(k, _)| k != "care" && k != "page")
        .cloned()
        .collect();
    let (mut query, mut problems) = Query::parse(&values, &care_chosen);
    // Staff search their prefecture unless they name a town; the public, any town.
    let prefecture: String = current
        .and_then(|c| c.memberships.first())
        .map(|m| m.municipality_code.to_string().chars().take(2).collect())
        .unwrap_or_default();
    if current.is_some() && query.municipality_code.is_empty() {
        query.prefecture = prefecture.clone();
    }
    // An area (圏域) of the staff's prefecture: its towns, read from the reference data.
    let area_id = values.get("area").map(|a| a.trim()).unwrap_or_default();
    if !area_id.is_empty() {
        match crate::features::municipalities::repo::area_members(&state.db, area_id).await? {
            Some((area, towns))
                if !public && !query.prefecture.is_empty() && area_id.starts_with(&prefecture) =>
            {
                query.area = Some((area.name, towns));
            }
            _ => problems.push("圏域を一覧から選んでください".into()),
        }
    }
    let areas = if public || prefecture.is_empty() {
        Vec::new()
    } else {
        crate::features::municipalities::repo::areas_in(&state.db, &prefecture)
            .await?
            .into_iter()
            .map(|a| (a.id, a.name))
            .collect()
    };
    let page = pairs
        .iter()
        .find(|(k, _)| k == "page")
        .and_then(|(_, v)| v.parse::<i64>().ok())
        .unwrap_or(1)
        .clamp(1, 10_000);
    let asked = !values.values().all(|v| v.is_empty()) || !care_chosen.is_empty();
    let (results, total) = if problems.is_empty() && (asked || !public) {
        service::search(state, &query, public, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?
    } else {
        (Vec::new(), 0)
    };
    let query_string = pairs
        .iter()
        .filter(|(k, v)| k != "page" && !v.is_empty())
        .map(|(k, v)| format!("{}={}", params::url_encode(k), params::url_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let title = if public {
        "医療的ケア児を受け入れる施設・サービスを探す"
    } else {
        "資源を探す"
    };
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = SearchPage {
        chrome: Chrome::for_session(title, state.settings.demo, current),
        public,
        choices: Choices::new(),
        values,
        care_chosen,
        problems,
        results,
        total,
        page,
        pages: (total + PAGE_SIZE - 1) / PAGE_SIZE,
        query_string,
        asked,
        can_edit: current.is_some_and(|c| may(&c.actor, Permission::EditDirectory, None).allowed()),
        areas,
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// Staff search the prefecture's directory, staff-only fields included.
pub async fn search(
    State(state): State<AppState>,
    current: CurrentSession,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    search_page(&state, Some(&current), query, false).await
}

/// Anyone searches the public fields, without signing in.
pub async fn public_search(
    State(state): State<AppState>,
    MaybeSession(current): MaybeSession,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    search_page(&state, current.as_ref(), query, true).await
}

#[derive(Template)]
#[template(path = "directory/detail.html")]
struct DetailPage {
    chrome: Chrome,
    public: bool,
    service: ServiceView,
    history: Vec<String>,
    can_edit: bool,
    notice: &'static str,
}

async fn detail_page(
    state: &AppState,
    current: Option<&CurrentSession>,
    parts: &Parts,
    id: &str,
    public: bool,
) -> Result<Response, PageError> {
    let Some((view, detail)) = service::view(state, id, public).await? else {
        // A signed-in reader's miss is audited like any id out of reach.
        if let (Some(current), false) = (current, public) {
            let gate = Gate::page(state, current, parts);
            return Err(gate.refused::<super::repo::Service>(id).await.into());
        }
        let page = crate::view::ErrorPage::new(
            StatusCode::NOT_FOUND,
            "指定されたサービスは見つかりません。検索からやり直してください",
        );
        return Ok((StatusCode::NOT_FOUND, Html(page.render_or_plain())).into_response());
    };
    let history = if public {
        Vec::new()
    } else {
        service::history(state, &view.id).await?
    };
    let can_edit = !public && current.is_some_and(|c| service::may_edit(c, &detail.service));
    let notice = match parts.uri.query() {
        Some("saved=1") => "保存しました。",
        Some("vacancies=1") => "空き状況を保存しました。",
        Some("confirmed=1") => "情報が最新であることを確認しました。",
        Some("answered=1") => "資源調査に回答しました。回答した内容を資源情報に反映しました。",
        _ => "",
    };
    let page = DetailPage {
        chrome: Chrome::for_session(view.name.clone(), state.settings.demo, current),
        public,
        service: view,
        history,
        can_edit,
        notice,
    };
    Ok(Html(page.render()?).into_response())
}

pub async fn detail(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    detail_page(&state, Some(&current), &parts, &id, false).await
}

pub async fn public_detail(
    State(state): State<AppState>,
    MaybeSession(current): MaybeSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    detail_page(&state, current.as_ref(), &parts, &id, true).await
}

#[derive(Template)]
#[template(path = "directory/mine.html")]
struct MinePage {
    chrome: Chrome,
    services: Vec<ServiceView>,
    stale_days: i64,
    /// Survey rounds waiting for an answer on these entries.
    questions: Vec<super::surveys::Question>,
    /// The person runs survey rounds (a link to them).
    runs_surveys: bool,
    /// A town's staff may import its sheet of facilities.
    may_import: bool,
}

impl MinePage {
    fn stale_count(&self) -> usize {
        self.services.iter().filter(|s| s.stale).count()
    }
}

/// The entries the person keeps, out-of-date ones marked.
pub async fn mine(
    State(state): State<AppState>,
    current: CurrentSession,
) -> Result<Response, PageError> {
    let services = service::kept_by(&state, &current).await?;
    let page = MinePage {
        chrome: Chrome::for_session("事業所の資源情報", state.settings.demo, Some(&current)),
        services,
        stale_days: state.settings.directory_stale_days,
        questions: super::surveys::questions_for(&state, &current).await?,
        runs_surveys: may(&current.actor, Permission::RunSurvey, None).allowed(),
        may_import: super::import::may_import(&current),
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "directory/form.html")]
struct FormPage {
    chrome: Chrome,
    csrf_token: String,
    /// `None` for a new entry.
    editing: Option<String>,
    organisations: Vec<(String, String)>,
    choices: Choices,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
    conflict: bool,
    staff_only_fields: [(&'static str, &'static str); 7],
    /// The vacancy rows: `(class age, label)`; empty for a new entry.
    vacancy_ages: Vec<(i64, String)>,
    has_places: bool,
    today: String,
}

impl FormPage {
    fn value(&self, key: &str) -> String {
        self.values.get(key).cloned().unwrap_or_default()
    }

    fn checked(&self, key: &str) -> bool {
        self.values.get(key).is_some_and(|v| !v.is_empty())
    }

    fn error_of(&self, field: &str) -> Option<&FieldError> {
        self.errors.iter().find(|e| e.field == field)
    }

    fn action(&self) -> String {
        match &self.editing {
            Some(id) => format!("/directory/services/{id}"),
            None => "/directory/services".to_string(),
        }
    }
}

async fn form_page(
    state: &AppState,
    current: &CurrentSession,
    editing: Option<&super::repo::ServiceDetail>,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
    conflict: bool,
) -> Result<FormPage, AppError> {
    let organisations = service::organisations_kept_by(state, current)
        .await?
        .into_iter()
        .map(|o| {
            let town = crate::features::municipalities::repo::name_of(&o.municipality_code);
            (o.id.to_string(), format!("{}（{town}）", o.name))
        })
        .collect();
    let (vacancy_ages, has_places) = match editing {
        Some(d) => (
            service::vacancy_ages(&d.service)
                .into_iter()
                .map(|a| (a, service::class_age_label(a)))
                .collect(),
            tsunagu_core::directory::service_kind(&d.service.kind)
                .is_some_and(tsunagu_core::directory::has_places),
        ),
        None => (Vec::new(), false),
    };
    let title = match editing {
        Some(d) => format!("{} の情報を更新", d.service.name),
        None => "サービスを登録".to_string(),
    };
    Ok(FormPage {
        chrome: Chrome::for_session(title, state.settings.demo, Some(current)),
        csrf_token: current.csrf_token.clone(),
        editing: editing.map(|d| d.service.id.to_string()),
        organisations,
        choices: Choices::new(),
        values,
        errors,
        conflict,
        staff_only_fields: service::STAFF_ONLY_FIELDS,
        vacancy_ages,
        has_places,
        today: state.clock.today_jst().to_string(),
    })
}

pub async fn new_form(
    State(state): State<AppState>,
    current: CurrentSession,
) -> Result<Response, PageError> {
    let kept = service::organisations_kept_by(&state, &current).await?;
    let mut values = service::new_values(
        kept.first()
            .map(|o| o.municipality_code.as_str())
            .unwrap_or(""),
    );
    if let Some(o) = kept.first() {
        values.insert("organisation_id".into(), o.id.to_string());
    }
    let page = form_page(&state, &current, None, values, Vec::new(), false).await?;
    Ok(Html(page.render()?).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let gate = Gate::page(&state, &current, &parts);
    let errors = match service::parse_entry(&state, &form).await? {
        Ok(entry) => {
            let organisation = form.get("organisation_id").cloned().unwrap_or_default();
            match service::create(&gate, &state, &organisation, &entry).await? {
                Ok(id) => {
                    return Ok(
                        Redirect::to(&format!("/directory/services/{id}?saved=1")).into_response()
                    );
                }
                Err(errors) => errors,
            }
        }
        Err(errors) => errors,
    };
    let page = form_page(&state, &current, None, form, errors, false).await?;
    Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response())
}

pub async fn edit_form(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let gate = Gate::page(&state, &current, &parts);
    let detail = service::open_for_change(&gate, &state, &id).await?;
    let values = service::values_of(&detail);
    let page = form_page(&state, &current, Some(&detail), values, Vec::new(), false).await?;
    Ok(Html(page.render()?).into_response())
}

/// The form again after a refused save: what was typed, the problems beside the fields.
async fn again(
    gate: &Gate<'_>,
    state: &AppState,
    current: &CurrentSession,
    id: &str,
    mut form: HashMap<String, String>,
    errors: Vec<FieldError>,
    conflict: bool,
) -> Result<Response, PageError> {
    let detail = service::open_for_change(gate, state, id).await?;
    if conflict {
        // The entry as it is now, to start again from.
        form = service::values_of(&detail);
    }
    let page = form_page(state, current, Some(&detail), form, errors, conflict).await?;
    let status = if conflict {
        StatusCode::CONFLICT
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok((status, Html(page.render()?)).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let gate = Gate::page(&state, &current, &parts);
    let expected = service::sent_version(&form);
    let entry = match service::parse_entry(&state, &form).await? {
        Ok(entry) => entry,
        Err(errors) => {
            return again(&gate, &state, &current, &id, form, errors, false).await;
        }
    };
    match service::update(&gate, &state, &id, expected, &entry).await? {
        Saved::Saved => {
            Ok(Redirect::to(&format!("/directory/services/{id}?saved=1")).into_response())
        }
        Saved::Invalid(errors) => again(&gate, &state, &current, &id, form, errors, false).await,
        Saved::Conflict => again(&gate, &state, &current, &id, form, Vec::new(), true).await,
    }
}

pub async fn vacancies(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let gate = Gate::page(&state, &current, &parts);
    match service::record_vacancies(&gate, &state, &id, &form).await? {
        Saved::Saved => {
            Ok(Redirect::to(&format!("/directory/services/{id}?vacancies=1")).into_response())
        }
        Saved::Invalid(errors) => {
            let detail = service::open_for_change(&gate, &state, &id).await?;
            let mut values = service::values_of(&detail);
            for (k, v) in form {
                if k.starts_with("vac_") || k == "as_of" {
                    values.insert(k, v);
                }
            }
            let page = form_page(&state, &current, Some(&detail), values, errors, false).await?;
            Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response())
        }
        Saved::Conflict => again(&gate, &state, &current, &id, form, Vec::new(), true).await,
    }
}

pub async fn confirm(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let gate = Gate::page(&state, &current, &parts);
    let expected = service::sent_version(&form);
    match service::confirm(&gate, &state, &id, expected).await? {
        Saved::Saved => {
            Ok(Redirect::to(&format!("/directory/services/{id}?confirmed=1")).into_response())
        }
        Saved::Invalid(errors) => again(&gate, &state, &current, &id, form, errors, false).await,
        Saved::Conflict => again(&gate, &state, &current, &id, form, Vec::new(), true).await,
    }
}
