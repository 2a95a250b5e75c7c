//! Organisations: the list within reach, registration and editing (with a version check,
//! so two administrators never overwrite each other silently).

use std::collections::HashMap;
use tsunagu_core::ids::OrganisationId;

use askama::Template;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use tsunagu_core::access::Permission;
use tsunagu_core::municipality::MunicipalityCode;

use super::{PAGE_SIZE, check_kana, check_name, field, not_found, page_number, pages, reach};
use crate::audit::{self, Action, Event, Outcome};
use crate::auth::guard::{Access, Routes, audit_context};
use crate::auth::session::CurrentSession;
use crate::error::{AppError, PageError};
use crate::features::municipalities::repo as municipalities;
use crate::organisations::repo::{self as repo, Reach};
use crate::organisations::{Department, NewOrganisation, Organisation, OrganisationKind};
use crate::state::AppState;
use crate::view::Chrome;
use crate::web::params;

pub const RESOURCE_TYPE: &str = "organisation";
const PERMISSION: Permission = Permission::ManageOrganisations;

pub fn routes() -> Routes {
    let access = Access::Permission(PERMISSION);
    Routes::new()
        .get("/admin/organisations", access, list)
        .get("/admin/organisations/new", access, new_form)
        .post("/admin/organisations", access, create)
        .get("/admin/organisations/{id}", access, edit_form)
        .post("/admin/organisations/{id}", access, update)
}

/// One row of the list, with the municipality's name.
struct Row {
    organisation: Organisation,
    municipality_name: String,
}

#[derive(Template)]
#[template(path = "admin/organisations.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    query: String,
    total: i64,
    page: i64,
    pages: i64,
}

async fn municipality_names(
    state: &AppState,
    codes: impl Iterator<Item = String>,
) -> Result<HashMap<String, String>, AppError> {
    let mut names = HashMap::new();
    for code in codes {
        if names.contains_key(&code) {
            continue;
        }
        let name = match MunicipalityCode::parse(&code) {
            Ok(parsed) => municipalities::get(&state.db, parsed)
                .await?
                .map(|m| {
                    if m.kind == "prefecture" {
                        m.name
                    } else {
                        format!("{}{}", m.prefecture_name, m.name)
                    }
                })
                .unwrap_or_default(),
            Err(_) => String::new(),
        };
        names.insert(code, name);
    }
    Ok(names)
}

async fn list(
    State(state): State<AppState>,
    current: CurrentSession,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Html<String>, PageError> {
    let text = params::search_text(q.get("q").map(String::as_str))?;
    let page = page_number(&q)?;
    let reach = reach(&current, PERMISSION);
    let (organisations, total) =
        repo::list_in_reach(&state.db, &reach, &text, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    let names = municipality_names(
        &state,
        organisations.iter().map(|o| o.municipality_code.clone()),
    )
    .await?;
    let rows = organisations
        .into_iter()
        .map(|organisation| Row {
            municipality_name: names
                .get(&organisation.municipality_code)
                .cloned()
                .unwrap_or_default(),
            organisation,
        })
        .collect();
    let page = ListPage {
        chrome: Chrome::for_session("組織の管理", state.settings.demo, Some(&current)),
        rows,
        query: text,
        total,
        page,
        pages: pages(total, PAGE_SIZE),
    };
    Ok(Html(page.render()?))
}

#[derive(Template)]
#[template(path = "admin/organisation_form.html")]
struct FormPage {
    chrome: Chrome,
    csrf_token: String,
    /// `Some(id)` when editing.
    editing: Option<String>,
    values: HashMap<String, String>,
    errors: Vec<String>,
    notice: Option<&'static str>,
    kinds: Vec<(&'static str, &'static str)>,
    departments: Vec<(&'static str, &'static str)>,
}

impl FormPage {
    fn new(
        state: &AppState,
        current: &CurrentSession,
        editing: Option<String>,
        values: HashMap<String, String>,
    ) -> Self {
        let title = if editing.is_some() {
            "組織の編集"
        } else {
            "組織の登録"
        };
        let reach = reach(current, PERMISSION);
        Self {
            chrome: Chrome::for_session(title, state.settings.demo, Some(current)),
            csrf_token: current.csrf_token.clone(),
            editing,
            values,
            errors: Vec::new(),
            notice: None,
            kinds: OrganisationKind::ALL
                .into_iter()
                .filter(|k| k.registered_by_administrators(reach.everything))
                .map(|k| (k.as_str(), k.label_ja()))
                .collect(),
            departments: Department::ALL
                .into_iter()
                .map(|d| (d.as_str(), d.label_ja()))
                .collect(),
        }
    }

    fn value(&self, key: &str) -> String {
        self.values.get(key).cloned().unwrap_or_default()
    }

    fn action(&self) -> String {
        match &self.editing {
            Some(id) => format!("/admin/organisations/{id}"),
            None => "/admin/organisations".to_string(),
        }
    }

    fn respond(self, status: StatusCode) -> Result<Response, PageError> {
        Ok((status, Html(self.render()?)).into_response())
    }
}

fn values_of(o: &Organisation) -> HashMap<String, String> {
    HashMap::from([
        ("name".to_string(), o.name.clone()),
        ("kana".to_string(), o.kana.clone()),
        ("kind".to_string(), o.kind.as_str().to_string()),
        (
            "department".to_string(),
            o.department
                .map(|d| d.as_str().to_string())
                .unwrap_or_default(),
        ),
        ("municipality_code".to_string(), o.municipality_code.clone()),
        (
            "active".to_string(),
            if o.active { "1" } else { "0" }.to_string(),
        ),
        ("version".to_string(), o.version.to_string()),
    ])
}

async fn new_form(
    State(state): State<AppState>,
    current: CurrentSession,
) -> Result<Response, PageError> {
    let mut values = HashMap::new();
    let reach = reach(&current, PERMISSION);
    if let Some(m) = current
        .memberships
        .iter()
        .find(|m| reach.covers_code(&m.municipality_code))
    {
        values.insert("municipality_code".to_string(), m.municipality_code.clone());
    }
    FormPage::new(&state, &current, None, values).respond(StatusCode::OK)
}

/// Checks every field, names every problem at once, in Japanese.
async fn parse(
    state: &AppState,
    form: &HashMap<String, String>,
    reach: &Reach,
) -> Result<NewOrganisation, Vec<String>> {
    let mut errors = Vec::new();
    let name = field(form, "name");
    check_name(&name, "名称", &mut errors);
    let kana = field(form, "kana");
    check_kana(&kana, &mut errors);
    let chosen = OrganisationKind::parse(&field(form, "kind"));
    let kind = chosen.filter(|k| k.registered_by_administrators(reach.everything));
    match chosen {
        Some(OrganisationKind::Family) => errors.push(
            "「ご家族」の組織は、児童の記録からご家族のアカウントを作ると自動で作られます。ここでは登録・変更できません"
                .to_string(),
        ),
        _ if kind.is_none() => errors.push("種別を選んでください".to_string()),
        _ => {}
    }
    let department_text = field(form, "department");
    let department = Department::parse(&department_text);
    match kind {
        Some(OrganisationKind::MunicipalDepartment) if department.is_none() => {
            errors.push("市区町村の担当課では、担当分野（障害福祉・保健・保育・教育・防災）を選んでください".to_string());
        }
        Some(k) if k != OrganisationKind::MunicipalDepartment && !department_text.is_empty() => {
            errors
                .push("担当分野は、種別が「市区町村の担当課」のときだけ選んでください".to_string());
        }
        _ => {}
    }
    let code_text = field(form, "municipality_code");
    let code = match MunicipalityCode::parse(&code_text) {
        Ok(code) => match municipalities::get(&state.db, code).await {
            Ok(Some(_)) if reach.covers_code(&code.to_string()) => Some(code),
            Ok(Some(_)) => {
                errors.push(format!(
                    "団体コード {code} の市区町村は、あなたが管理する都道府県の外にあります"
                ));
                None
            }
            Ok(None) => {
                errors.push(format!("団体コード {code} の市区町村は見つかりません"));
                None
            }
            Err(err) => {
                tracing::error!(%err, "municipality lookup failed");
                errors.push(
                    "団体コードを確認できませんでした。時間をおいて再度お試しください".to_string(),
                );
                None
            }
        },
        Err(err) => {
            errors.push(format!("市区町村の団体コード: {err}"));
            None
        }
    };
    match (kind, code) {
        (Some(kind), Some(municipality_code)) if errors.is_empty() => Ok(NewOrganisation {
            name,
            kana,
            kind,
            department: if kind == OrganisationKind::MunicipalDepartment {
                department
            } else {
                None
            },
            municipality_code,
        }),
        _ => Err(errors),
    }
}

async fn create(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let reach = reach(&current, PERMISSION);
    let new = match parse(&state, &form, &reach).await {
        Ok(new) => new,
        Err(errors) => {
            let mut page = FormPage::new(&state, &current, None, form);
            page.errors = errors;
            return page.respond(StatusCode::BAD_REQUEST);
        }
    };
    let now = state.clock.now();
    let ctx = audit_context(&parts, Some(&current));
    let mut tx = state.db.pool().begin().await.map_err(AppError::from)?;
    let created = repo::insert(&mut tx, &new, now)
        .await
        .map_err(AppError::from)?;
    let event = Event::new(Action::Create, Outcome::Allowed)
        .resource(RESOURCE_TYPE, &created.id)
        .fields(["name", "kana", "kind", "department", "municipality_code"]);
    audit::record(&mut tx, &ctx, &event, now)
        .await
        .map_err(AppError::from)?;
    tx.commit().await.map_err(AppError::from)?;
    Ok(Redirect::to(&format!("/admin/organisations/{}?saved=1", created.id)).into_response())
}

/// The organisation if it exists and is within reach; otherwise the audited 404.
async fn load(
    state: &AppState,
    current: &CurrentSession,
    parts: &Parts,
    id: &str,
) -> Result<Organisation, AppError> {
    let reach = reach(current, PERMISSION);
    let found = match OrganisationId::parse(id) {
        Ok(organisation_id) => repo::get(&state.db, &organisation_id).await?,
        Err(_) => None,
    };
    match found {
        Some(o) if reach.covers(o.kind, &o.municipality_code) => Ok(o),
        _ => Err(not_found(state, current, parts, RESOURCE_TYPE, id, "manage").await),
    }
}

async fn edit_form(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let organisation = load(&state, &current, &parts, &id).await?;
    let mut page = FormPage::new(&state, &current, Some(id), values_of(&organisation));
    if q.get("saved").is_some_and(|v| v == "1") {
        page.notice = Some("保存しました。");
    }
    page.respond(StatusCode::OK)
}

/// The names of the fields that differ.
fn changed_fields(old: &Organisation, new: &NewOrganisation, active: bool) -> Vec<&'static str> {
    let mut changed = Vec::new();
    if old.name != new.name {
        changed.push("name");
    }
    if old.kana != new.kana {
        changed.push("kana");
    }
    if old.kind != new.kind {
        changed.push("kind");
    }
    if old.department != new.department {
        changed.push("department");
    }
    if old.municipality_code != new.municipality_code.to_string() {
        changed.push("municipality_code");
    }
    if old.active != active {
        changed.push("active");
    }
    changed
}

const CONFLICT_MESSAGE: &str = "この組織は、編集を始めた後にほかの人が更新しました。あなたの変更は保存していません。最新の内容を表示していますので、確認してからもう一度変更してください。";

async fn update(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let organisation = load(&state, &current, &parts, &id).await?;
    let reach = reach(&current, PERMISSION);
    let conflict = |organisation: &Organisation| {
        let mut page = FormPage::new(&state, &current, Some(id.clone()), values_of(organisation));
        page.errors = vec![CONFLICT_MESSAGE.to_string()];
        page.respond(StatusCode::CONFLICT)
    };
    let Ok(version) = field(&form, "version").parse::<i64>() else {
        return Err(AppError::BadRequest(
            "送信された内容を読み取れませんでした。ページを開き直してください".into(),
        )
        .into());
    };
    if version != organisation.version {
        return conflict(&organisation);
    }
    let mut errors = Vec::new();
    let active = match field(&form, "active").as_str() {
        "1" => true,
        "0" => false,
        _ => {
            errors.push("状態（有効・無効）を選んでください".to_string());
            organisation.active
        }
    };
    if !active
        && organisation.active
        && current
            .memberships
            .iter()
            .any(|m| m.organisation_id == organisation.id)
    {
        errors
            .push("自分が所属する組織は無効にできません。別の管理者に依頼してください".to_string());
    }
    let new = match parse(&state, &form, &reach).await {
        Ok(new) if errors.is_empty() => new,
        Ok(_) => {
            let mut page = FormPage::new(&state, &current, Some(id), form);
            page.errors = errors;
            return page.respond(StatusCode::BAD_REQUEST);
        }
        Err(more) => {
            errors.extend(more);
            let mut page = FormPage::new(&state, &current, Some(id), form);
            page.errors = errors;
            return page.respond(StatusCode::BAD_REQUEST);
        }
    };
    let changed = changed_fields(&organisation, &new, active);
    if changed.is_empty() {
        return Ok(Redirect::to(&format!("/admin/organisations/{id}")).into_response());
    }
    let now = state.clock.now();
    let ctx = audit_context(&parts, Some(&current));
    let mut tx = state.db.pool().begin().await.map_err(AppError::from)?;
    if !repo::update(&mut tx, &organisation.id, version, &new, active, now)
        .await
        .map_err(AppError::from)?
    {
        tx.rollback().await.map_err(AppError::from)?;
        // Saved by someone else between our read and our write: show what is there now.
        let latest = load(&state, &current, &parts, &id).await?;
        return conflict(&latest);
    }
    let event = Event::new(Action::Update, Outcome::Allowed)
        .resource(RESOURCE_TYPE, &id)
        .fields(changed);
    audit::record(&mut tx, &ctx, &event, now)
        .await
        .map_err(AppError::from)?;
    tx.commit().await.map_err(AppError::from)?;
    Ok(Redirect::to(&format!("/admin/organisations/{id}?saved=1")).into_response())
}
