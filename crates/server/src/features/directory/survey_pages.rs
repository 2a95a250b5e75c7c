//! The pages of survey rounds: the runner's list, the form that opens a round, a round's
//! progress with reminders, closing and the results; and the answer form of one service.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawForm, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use tsunagu_core::directory::{SERVICE_KINDS, has_places, service_kind};

use super::repo::surveys::Round;
use super::service::{self as entries, Saved};
use super::surveys::{self, Answering, RoundView};
use crate::auth::session::CurrentSession;
use crate::error::{FieldError, PageError};
use crate::gate::Gate;
use crate::state::AppState;
use crate::tabular;
use crate::view::Chrome;
use crate::web::params;

#[derive(Template)]
#[template(path = "directory/surveys.html")]
struct ListPage {
    chrome: Chrome,
    rounds: Vec<Round>,
    today: chrono::NaiveDate,
}

impl ListPage {
    fn place_of(&self, round: &Round) -> String {
        match &round.municipality_code {
            Some(code) => crate::features::municipalities::repo::name_of(code).to_string(),
            None => "都道府県の全域".to_string(),
        }
    }
}

pub async fn list(
    State(state): State<AppState>,
    current: CurrentSession,
) -> Result<Response, PageError> {
    let page = ListPage {
        chrome: Chrome::for_session("資源調査", state.settings.demo, Some(&current)),
        rounds: surveys::rounds_for(&state, &current).await?,
        today: state.clock.today_jst(),
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "directory/survey_new.html")]
struct NewPage {
    chrome: Chrome,
    csrf_token: String,
    /// `(value, label)`: a town by its code, the prefecture by its two digits.
    places: Vec<(String, String)>,
    kinds: Vec<(&'static str, &'static str)>,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
}

impl NewPage {
    fn value(&self, key: &str) -> String {
        self.values.get(key).cloned().unwrap_or_default()
    }

    fn checked(&self, key: &str) -> bool {
        self.values.get(key).is_some_and(|v| !v.is_empty())
    }

    fn error_of(&self, field: &str) -> Option<&FieldError> {
        self.errors.iter().find(|e| e.field == field)
    }
}

fn new_page(
    state: &AppState,
    current: &CurrentSession,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
) -> NewPage {
    NewPage {
        chrome: Chrome::for_session("資源調査を始める", state.settings.demo, Some(current)),
        csrf_token: current.csrf_token.clone(),
        places: surveys::places_for(current, state.clock.today_jst())
            .into_iter()
            .map(|(code, prefecture, label)| {
                if code.is_empty() {
                    (prefecture, label)
                } else {
                    (code, label)
                }
            })
            .collect(),
        kinds: SERVICE_KINDS.iter().map(|k| (k.code, k.label)).collect(),
        values,
        errors,
    }
}

pub async fn new_form(
    State(state): State<AppState>,
    current: CurrentSession,
) -> Result<Response, PageError> {
    // The usual survey: nurseries and the services for 重症心身障害児, due in a month.
    let due = state.clock.today_jst() + chrono::Duration::days(30);
    let values = HashMap::from([
        ("kind_nursery".to_string(), "1".to_string()),
        ("kind_certified_childcare".to_string(), "1".to_string()),
        ("kind_small_nursery".to_string(), "1".to_string()),
        ("closes_on".to_string(), due.to_string()),
    ]);
    let page = new_page(&state, &current, values, Vec::new());
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
    match surveys::open(&gate, &state, &form).await? {
        Ok(id) => Ok(Redirect::to(&format!("/directory/surveys/{id}?opened=1")).into_response()),
        Err(errors) => {
            let page = new_page(&state, &current, form, errors);
            Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "directory/survey.html")]
struct RoundPage {
    chrome: Chrome,
    csrf_token: String,
    view: RoundView,
    notice: Option<String>,
}

pub async fn detail(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let gate = Gate::page(&state, &current, &parts);
    let view = surveys::view(&gate, &state, &id).await?;
    let notice = if q.contains_key("opened") {
        Some(format!(
            "資源調査を始めました。{}件の事業所に、お知らせで回答を依頼しました。",
            view.round.asked
        ))
    } else if let Some(n) = q.get("reminded") {
        Some(if n == "0" {
            "未回答の事業所はありません（または調査は締め切られています）。お知らせは送っていません。".to_string()
        } else {
            format!("未回答の{n}件の事業所に、お知らせで回答を再度依頼しました。")
        })
    } else if q.contains_key("closed") {
        Some("資源調査を締め切りました。これ以降の回答は受け付けません。".to_string())
    } else {
        None
    };
    let page = RoundPage {
        chrome: Chrome::for_session(
            format!("資源調査：{}", view.round.title),
            state.settings.demo,
            Some(&current),
        ),
        csrf_token: current.csrf_token.clone(),
        view,
        notice,
    };
    Ok(Html(page.render()?).into_response())
}

pub async fn remind(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let gate = Gate::page(&state, &current, &parts);
    let told = surveys::remind(&gate, &state, &id).await?;
    Ok(Redirect::to(&format!("/directory/surveys/{id}?reminded={told}")).into_response())
}

pub async fn close(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let gate = Gate::page(&state, &current, &parts);
    surveys::close(&gate, &state, &id).await?;
    Ok(Redirect::to(&format!("/directory/surveys/{id}?closed=1")).into_response())
}

async fn results(
    state: &AppState,
    current: &CurrentSession,
    parts: &Parts,
    id: &str,
    xlsx: bool,
) -> Result<Response, PageError> {
    let gate = Gate::page(state, current, parts);
    let view = surveys::view(&gate, state, id).await?;
    let sheet = surveys::results_sheet(&view);
    let name = format!(
        "資源調査_{}_{}",
        view.round.title,
        state.clock.today_jst().format("%Y%m%d")
    );
    Ok(tabular::download(&sheet, xlsx, "survey", &name)?)
}

pub async fn results_xlsx(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    results(&state, &current, &parts, &id, true).await
}

pub async fn results_csv(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    results(&state, &current, &parts, &id, false).await
}

#[derive(Template)]
#[template(path = "directory/survey_answer.html")]
struct AnswerPage {
    chrome: Chrome,
    csrf_token: String,
    answering: Answering,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
    conflict: bool,
    choices: super::pages::Choices,
    vacancy_ages: Vec<(i64, String)>,
    has_places: bool,
    today: String,
}

impl AnswerPage {
    fn value(&self, key: &str) -> String {
        self.values.get(key).cloned().unwrap_or_default()
    }

    fn checked(&self, key: &str) -> bool {
        self.values.get(key).is_some_and(|v| !v.is_empty())
    }

    fn error_of(&self, field: &str) -> Option<&FieldError> {
        self.errors.iter().find(|e| e.field == field)
    }
}

fn answer_page(
    state: &AppState,
    current: &CurrentSession,
    answering: Answering,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
    conflict: bool,
) -> AnswerPage {
    let service = &answering.detail.service;
    AnswerPage {
        chrome: Chrome::for_session(
            format!("資源調査への回答：{}", service.name),
            state.settings.demo,
            Some(current),
        ),
        csrf_token: current.csrf_token.clone(),
        vacancy_ages: entries::vacancy_ages(service)
            .into_iter()
            .map(|a| (a, entries::class_age_label(a)))
            .collect(),
        has_places: service_kind(&service.kind).is_some_and(has_places),
        choices: super::pages::Choices::new(),
        today: state.clock.today_jst().to_string(),
        answering,
        values,
        errors,
        conflict,
    }
}

pub async fn answer_form(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path((round, service)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let gate = Gate::page(&state, &current, &parts);
    let (answering, _) = surveys::answering(&gate, &state, &round, &service).await?;
    // Prefilled from the entry as it stands: the last answer, or the edits since.
    let mut values = entries::values_of(&answering.detail);
    for v in &answering.detail.vacancies {
        values.insert(format!("vac_{}", v.class_age), v.vacancies.to_string());
    }
    let errors = if answering.open {
        Vec::new()
    } else {
        vec![FieldError::new(
            "survey",
            "closed",
            "この資源調査は締め切られました。回答はできません",
        )]
    };
    let page = answer_page(&state, &current, answering, values, errors, false);
    Ok(Html(page.render()?).into_response())
}

pub async fn answer(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path((round, service)): Path<(String, String)>,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let gate = Gate::page(&state, &current, &parts);
    let (errors, conflict) = match surveys::answer(&gate, &state, &round, &service, &form).await? {
        Saved::Saved => {
            return Ok(
                Redirect::to(&format!("/directory/services/{service}?answered=1")).into_response(),
            );
        }
        Saved::Invalid(errors) => (errors, false),
        Saved::Conflict => (Vec::new(), true),
    };
    let (answering, _) = surveys::answering(&gate, &state, &round, &service).await?;
    let values = if conflict {
        entries::values_of(&answering.detail)
    } else {
        surveys::answer_values(&answering.detail, &form)
    };
    let status = if conflict {
        StatusCode::CONFLICT
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = answer_page(&state, &current, answering, values, errors, conflict);
    Ok((status, Html(page.render()?)).into_response())
}
