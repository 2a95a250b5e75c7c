//! Children's records, as far as the policy needs them: a scoped list, the audited read of
//! one record (or a refusal that offers break-glass), registration, CSV export and the
//! record's access history for the family and the owner.

pub mod repo;

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use tsunagu_core::access::{Permission, Target, may, registering_membership, scope_filter};
use tsunagu_core::care::{self, CareEntry, CareItem, CareVariant, Watch};
use tsunagu_core::municipality::MunicipalityCode;

use crate::audit::{self, Action, AuditEntry, AuditQuery, Event, Outcome};
use crate::auth::guard::{Access, Routes, audit_context};
use crate::auth::session::CurrentSession;
use crate::error::{AppError, PageError};
use crate::features::break_glass::{self, GrantView};
use crate::state::AppState;
use crate::web::layout::Chrome;
use crate::web::params;
use repo::{Child, NewChild};

const PAGE_SIZE: i64 = 50;

pub fn routes() -> Routes {
    Routes::new()
        .get("/children", Access::Permission(Permission::ReadChild), list)
        .get(
            "/children/new",
            Access::Permission(Permission::WriteChild),
            new_form,
        )
        .post(
            "/children",
            Access::Permission(Permission::WriteChild),
            create,
        )
        .get(
            "/children/export.csv",
            Access::Permission(Permission::ExportChildren),
            export,
        )
        .get(
            "/children/{id}",
            Access::Permission(Permission::ReadChild),
            detail,
        )
        .get(
            "/children/{id}/access-log",
            Access::Permission(Permission::ReadChild),
            access_log,
        )
}

#[derive(Template)]
#[template(path = "children/list.html")]
struct ListPage {
    chrome: Chrome,
    children: Vec<Child>,
    query: String,
    total: i64,
    page: i64,
    pages: i64,
    can_write: bool,
    can_export: bool,
}

async fn list(
    State(state): State<AppState>,
    current: CurrentSession,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Html<String>, PageError> {
    let text = params::search_text(q.get("q").map(String::as_str))?;
    let page = params::number(
        q.get("page").map(String::as_str),
        "ページ番号",
        1,
        1,
        10_000,
    )?;
    let scope = scope_filter(&current.actor, Permission::ReadChild);
    let (children, total) =
        repo::list(&state.db, &scope, &text, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    let page = ListPage {
        chrome: Chrome::for_session("児童の記録", state.settings.demo, Some(&current)),
        can_write: may(&current.actor, Permission::WriteChild, None).allowed(),
        can_export: may(&current.actor, Permission::ExportChildren, None).allowed(),
        children,
        query: text,
        total,
        page,
        pages: (total + PAGE_SIZE - 1) / PAGE_SIZE,
    };
    Ok(Html(page.render()?))
}

#[derive(Template)]
#[template(path = "children/detail.html")]
struct DetailPage {
    chrome: Chrome,
    child: Child,
    birth_wareki: String,
    via_break_glass: bool,
    life_stage: String,
    care: Vec<CareLine>,
    score: Result<care::Score, String>,
    score_source: &'static str,
    transitions: Vec<TransitionLine>,
}

/// A care item as the profile shows it.
struct CareLine {
    label: &'static str,
    variant: &'static str,
    watch: &'static str,
}

struct TransitionLine {
    label: &'static str,
    date: String,
    prepare_from: String,
}

#[derive(Template)]
#[template(path = "children/denied.html")]
struct DeniedPage {
    chrome: Chrome,
    child_id: String,
    csrf_token: String,
    can_break_glass: bool,
    hours: i64,
}

/// Out of scope and missing look the same (404), so ids cannot be probed; the attempt is
/// audited, and a person who holds break-glass is offered it.
async fn refuse(
    state: &AppState,
    current: &CurrentSession,
    parts: &Parts,
    id: &str,
) -> Result<Response, PageError> {
    let ctx = audit_context(parts, Some(current));
    let event = Event::new(Action::Denied, Outcome::Denied)
        .resource(repo::RESOURCE_TYPE, id)
        .detail("read");
    audit::record_standalone(&state.db, &ctx, &event, state.clock.now())
        .await
        .map_err(AppError::from)?;
    let page = DeniedPage {
        chrome: Chrome::for_session("記録を表示できません", state.settings.demo, Some(current)),
        child_id: id.to_string(),
        csrf_token: current.csrf_token.clone(),
        can_break_glass: may(&current.actor, Permission::BreakGlass, None).allowed(),
        hours: state.settings.break_glass_hours,
    };
    Ok((StatusCode::NOT_FOUND, Html(page.render()?)).into_response())
}

/// Loads a child the actor may use with `permission`, or `None` after refusing.
async fn load_in_scope(
    state: &AppState,
    current: &CurrentSession,
    id: &str,
    permission: Permission,
) -> Result<Option<(Child, Target, bool)>, AppError> {
    let Some((child, target)) = repo::get(&state.db, id).await? else {
        return Ok(None);
    };
    match may(&current.actor, permission, Some(&target)) {
        tsunagu_core::access::Decision::Allow(basis) => Ok(Some((
            child,
            target,
            basis == tsunagu_core::access::Basis::BreakGlass,
        ))),
        tsunagu_core::access::Decision::Deny => Ok(None),
    }
}

async fn detail(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let Some((child, _, via_break_glass)) =
        load_in_scope(&state, &current, &id, Permission::ReadChild).await?
    else {
        return refuse(&state, &current, &parts, &id).await;
    };
    let ctx = audit_context(&parts, Some(&current));
    let detail = if via_break_glass { "break_glass" } else { "" };
    let event = Event::new(Action::Read, Outcome::Allowed)
        .resource(repo::RESOURCE_TYPE, &child.id)
        .child(&child.id)
        .detail(detail);
    if !cfg!(feature = "bench-unaudited-reads") {
        audit::record_standalone(&state.db, &ctx, &event, state.clock.now())
            .await
            .map_err(AppError::from)?;
    }
    let entries = repo::care_of(&state.db, &child.id)
        .await
        .map_err(AppError::from)?;
    let today = state.clock.today_jst();
    let fiscal_year = tsunagu_core::calendar::fiscal_year(today);
    let page = DetailPage {
        life_stage: tsunagu_core::calendar::life_stage(child.birth_date, fiscal_year).label_ja(),
        care: entries
            .iter()
            .map(|e| CareLine {
                label: e.item.label_ja(),
                variant: e.variant.map(|v| v.label_ja()).unwrap_or(""),
                watch: e.watch.map(|w| w.label_ja()).unwrap_or("未判定"),
            })
            .collect(),
        score: care::score(&entries, &care::SCORE_TABLE_2021).map_err(|e| e.to_string()),
        score_source: care::SCORE_TABLE_2021.source,
        transitions: tsunagu_core::transitions::upcoming(
            child.birth_date,
            today,
            tsunagu_core::transitions::BOARD_HORIZON_MONTHS,
        )
        .into_iter()
        .map(|t| TransitionLine {
            label: t.kind.label_ja(),
            date: tsunagu_core::calendar::format_wareki_with_seireki(t.date),
            prepare_from: tsunagu_core::calendar::format_wareki_with_seireki(t.prepare_from),
        })
        .collect(),
        chrome: Chrome::for_session(
            format!("{}（児童の記録）", child.name),
            state.settings.demo,
            Some(&current),
        ),
        birth_wareki: tsunagu_core::calendar::format_wareki_with_seireki(child.birth_date),
        child,
        via_break_glass,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "children/new.html")]
struct NewPage {
    chrome: Chrome,
    csrf_token: String,
    values: HashMap<String, String>,
    errors: Vec<String>,
    care: Vec<CareFormRow>,
}

impl NewPage {
    fn value(&self, key: &str) -> String {
        self.values.get(key).cloned().unwrap_or_default()
    }
}

async fn new_form(
    State(state): State<AppState>,
    current: CurrentSession,
) -> Result<Html<String>, PageError> {
    let mut values = HashMap::new();
    if let Some(m) = current.memberships.first() {
        values.insert("municipality_code".to_string(), m.municipality_code.clone());
    }
    let page = NewPage {
        chrome: Chrome::for_session("児童の登録", state.settings.demo, Some(&current)),
        csrf_token: current.csrf_token.clone(),
        care: care_rows(&values),
        values,
        errors: Vec::new(),
    };
    Ok(Html(page.render()?))
}

/// One row of the care-item part of the form, as it was filled in.
struct CareFormRow {
    code: &'static str,
    label: &'static str,
    variants: Vec<(&'static str, &'static str)>,
    checked: bool,
    watch: String,
    variant: String,
}

fn care_rows(form: &HashMap<String, String>) -> Vec<CareFormRow> {
    CareItem::ALL
        .iter()
        .map(|item| CareFormRow {
            code: item.code(),
            label: item.label_ja(),
            variants: item
                .variants()
                .iter()
                .map(|v| (v.code(), v.label_ja()))
                .collect(),
            checked: form.contains_key(&format!("care_{}", item.code())),
            watch: form
                .get(&format!("watch_{}", item.code()))
                .cloned()
                .unwrap_or_default(),
            variant: form
                .get(&format!("variant_{}", item.code()))
                .cloned()
                .unwrap_or_default(),
        })
        .collect()
}

/// The ticked care items with their 見守り level and kind, checked against the score table
/// so an impossible combination is refused with the table's own Japanese message.
fn parse_care(form: &HashMap<String, String>) -> Result<Vec<CareEntry>, Vec<String>> {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for row in care_rows(form).into_iter().filter(|r| r.checked) {
        let Ok(item) = CareItem::parse(row.code) else {
            continue;
        };
        let watch = match row.watch.as_str() {
            "" => None,
            text => match Watch::parse(text) {
                Ok(w) => Some(w),
                Err(e) => {
                    errors.push(e.to_string());
                    continue;
                }
            },
        };
        let variant = match row.variant.as_str() {
            "" => None,
            text => match CareVariant::parse(text) {
                Ok(v) => Some(v),
                Err(e) => {
                    errors.push(e.to_string());
                    continue;
                }
            },
        };
        entries.push(CareEntry {
            item,
            variant,
            watch,
        });
    }
    if errors.is_empty()
        && let Err(e) = care::score(&entries, &care::SCORE_TABLE_2021)
    {
        errors.push(e.to_string());
    }
    if errors.is_empty() {
        Ok(entries)
    } else {
        Err(errors)
    }
}

fn is_kana(text: &str) -> bool {
    text.chars()
        .all(|c| matches!(c, 'ぁ'..='ゖ' | 'ァ'..='ヺ' | 'ー' | '・' | ' ' | '　'))
}

/// Checks every field and names every problem at once, in Japanese.
fn parse_new(
    form: &HashMap<String, String>,
    today: NaiveDate,
    owner: &str,
) -> Result<NewChild, Vec<String>> {
    let get = |k: &str| {
        form.get(k)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let mut errors = Vec::new();
    let name = get("name");
    if name.is_empty() || name.chars().count() > 100 {
        errors.push("氏名を100文字以内で入力してください".to_string());
    }
    let kana = get("kana");
    if kana.is_empty() || kana.chars().count() > 100 || !is_kana(&kana) {
        errors.push("ふりがなを、ひらがなまたはカタカナ100文字以内で入力してください".to_string());
    }
    let birth = NaiveDate::parse_from_str(&get("birth_date"), "%Y-%m-%d").ok();
    match birth {
        None => errors.push("生年月日を 2020-04-02 の形式で入力してください".to_string()),
        Some(d) if d > today => errors.push("生年月日が未来の日付になっています".to_string()),
        Some(d) if d < NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or(d) => {
            errors.push("生年月日が古すぎます（1990年以降）".to_string())
        }
        _ => {}
    }
    let sex = get("sex");
    if !matches!(sex.as_str(), "female" | "male" | "other" | "unknown") {
        errors.push("性別を選んでください".to_string());
    }
    let code = MunicipalityCode::parse(&get("municipality_code"));
    if let Err(err) = &code {
        errors.push(format!("住所地の市区町村: {err}"));
    }
    match (birth, code) {
        (Some(birth_date), Ok(municipality_code)) if errors.is_empty() => Ok(NewChild {
            owner_organisation_id: owner.to_string(),
            municipality_code,
            name,
            kana,
            birth_date,
            sex,
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
    // Validate first with a placeholder owner; the place then decides who owns the record.
    let parsed = parse_new(&form, state.clock.today_jst(), "");
    let care_entries = parse_care(&form);
    let (mut new, care_entries) = match (parsed, care_entries) {
        (Ok(new), Ok(care)) => (new, care),
        (parsed, care) => {
            let mut errors = parsed.err().unwrap_or_default();
            errors.extend(care.err().unwrap_or_default());
            let page = NewPage {
                chrome: Chrome::for_session("児童の登録", state.settings.demo, Some(&current)),
                csrf_token: current.csrf_token.clone(),
                care: care_rows(&form),
                values: form,
                errors,
            };
            return Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response());
        }
    };
    let Some(writer) = registering_membership(
        &current.actor,
        Permission::WriteChild,
        &new.municipality_code,
    ) else {
        return Err(AppError::BadRequest("担当外の市区町村の児童は登録できません".into()).into());
    };
    new.owner_organisation_id = writer.organisation_id.clone();
    let now = state.clock.now();
    let ctx = audit_context(&parts, Some(&current));
    let mut tx = state.db.pool().begin().await.map_err(AppError::from)?;
    let id = repo::create(&mut tx, &new, now)
        .await
        .map_err(AppError::from)?;
    repo::set_care(&mut tx, &id, &care_entries)
        .await
        .map_err(AppError::from)?;
    let event = Event::new(Action::Create, Outcome::Allowed)
        .resource(repo::RESOURCE_TYPE, &id)
        .child(&id)
        .fields([
            "name",
            "kana",
            "birth_date",
            "sex",
            "municipality_code",
            "care_items",
        ]);
    audit::record(&mut tx, &ctx, &event, now)
        .await
        .map_err(AppError::from)?;
    tx.commit().await.map_err(AppError::from)?;
    Ok(Redirect::to(&format!("/children/{id}")).into_response())
}

/// The visible list as CSV (UTF-8 with BOM, for Excel), audited with the filter used.
async fn export(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let text = params::search_text(q.get("q").map(String::as_str))?;
    let scope = scope_filter(&current.actor, Permission::ExportChildren);
    let (children, total) = repo::list(&state.db, &scope, &text, 100_000, 0).await?;
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let csv_error = |e: csv::Error| AppError::Internal(e.to_string());
    out.write_record([
        "ID",
        "氏名",
        "ふりがな",
        "生年月日",
        "性別",
        "住所地",
        "団体コード",
        "状態",
    ])
    .map_err(csv_error)?;
    for c in &children {
        out.write_record([
            c.id.as_str(),
            &params::csv_safe(&c.name),
            &params::csv_safe(&c.kana),
            &c.birth_date.format("%Y-%m-%d").to_string(),
            c.sex_ja(),
            &c.municipality_name,
            &c.municipality_code,
            c.status_ja(),
        ])
        .map_err(csv_error)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let ctx = audit_context(&parts, Some(&current));
    let event = Event::new(Action::Export, Outcome::Allowed)
        .resource(repo::RESOURCE_TYPE, "list")
        .detail(format!("q={text}; rows={total}"));
    audit::record_standalone(&state.db, &ctx, &event, state.clock.now())
        .await
        .map_err(AppError::from)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"children.csv\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

/// One line of the access history as the family reads it.
struct AccessRow {
    at: String,
    who: String,
    organisation: String,
    role: String,
    action: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "children/access_log.html")]
struct AccessLogPage {
    chrome: Chrome,
    child: Child,
    rows: Vec<AccessRow>,
    grants: Vec<GrantView>,
}

/// Names the actors of the entries (one lookup per distinct actor and organisation).
async fn access_rows(
    state: &AppState,
    entries: Vec<AuditEntry>,
) -> Result<Vec<AccessRow>, AppError> {
    let mut labels: HashMap<(String, String), crate::features::accounts::repo::ActorLabel> =
        HashMap::new();
    let mut rows = Vec::with_capacity(entries.len());
    for e in entries {
        let account = e.actor_account_id.clone().unwrap_or_default();
        let org = e.actor_organisation_id.clone().unwrap_or_default();
        let key = (account.clone(), org.clone());
        if !labels.contains_key(&key) {
            let label =
                crate::features::accounts::repo::actor_label(&state.db, &account, Some(&org))
                    .await?;
            labels.insert(key.clone(), label);
        }
        let label = labels.get(&key).cloned().unwrap_or_default();
        rows.push(AccessRow {
            at: crate::web::layout::format_instant_jst(e.at.timestamp_millis()),
            who: label.display_name,
            organisation: label.organisation_name,
            role: label
                .role
                .map(|r| r.label_ja().to_string())
                .unwrap_or_default(),
            action: e.action_label().to_string(),
            detail: if e.action == "break_glass" {
                e.detail.clone()
            } else {
                String::new()
            },
        });
    }
    Ok(rows)
}

/// Who opened the record, when and how; for the family and the owner organisation only.
async fn access_log(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let Some((child, target, _)) =
        load_in_scope(&state, &current, &id, Permission::ReadChild).await?
    else {
        return refuse(&state, &current, &parts, &id).await;
    };
    let is_guardian = target.guardian_account_ids.contains(&current.account.id);
    let is_owner = current
        .memberships
        .iter()
        .any(|m| m.organisation_id == target.owner_organisation_id);
    if !is_guardian && !is_owner {
        return refuse(&state, &current, &parts, &id).await;
    }
    let query = AuditQuery {
        child_id: Some(id.clone()),
        limit: 500,
        ..AuditQuery::default()
    };
    let (entries, _) = audit::search(&state.db, &query)
        .await
        .map_err(AppError::from)?;
    let grants = break_glass::repo::for_resource(&state.db, repo::RESOURCE_TYPE, &id)
        .await
        .map_err(AppError::from)?;
    let page = AccessLogPage {
        chrome: Chrome::for_session(
            format!("{} さんの記録の閲覧履歴", child.name),
            state.settings.demo,
            Some(&current),
        ),
        child,
        rows: access_rows(&state, entries).await?,
        grants,
    };
    Ok(Html(page.render()?).into_response())
}
