//! Children's records, as far as the policy needs them: a scoped list, the audited read of
//! one record (or a refusal that offers break-glass), registration, CSV export and the
//! record's access history for the family and the owner.

pub mod api;
pub mod consents;
pub mod export;
pub mod filters;
pub mod form;
pub mod import;
pub mod profile;
pub mod proposals;
pub mod repo;
pub mod service;
pub mod transitions_board;

pub use repo::store;

use crate::features::consent;

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};
use tsunagu_core::access::{Basis, Permission, Target, is_family_or_owner, may, scope_filter};
use tsunagu_core::care;

use crate::audit::{self, AuditEntry, AuditQuery};
use crate::auth::guard::{Access, Routes};
use crate::auth::session::CurrentSession;
use crate::db::Db;
use crate::error::{AppError, PageError};
use crate::features::break_glass::{self, GrantView};
use crate::gate::{self, Gate, Opened, Use};
use crate::state::AppState;
use crate::view::Chrome;
use crate::web::params;
use repo::Child;

const PAGE_SIZE: i64 = 50;

pub fn routes() -> Routes {
    use Permission as P;
    Routes::new()
        .get("/children", Access::Permission(P::ReadChild), list)
        .get(
            "/children/new",
            Access::Permission(P::WriteChild),
            form::new_form,
        )
        .post("/children", Access::Permission(P::WriteChild), form::create)
        .get(
            "/children/transitions",
            Access::Permission(P::ReadChild),
            transitions_board::board,
        )
        .get("/children/{id}", Access::Permission(P::ReadChild), detail)
        .post(
            "/children/{id}",
            Access::Permission(P::WriteChild),
            form::update,
        )
        .get(
            "/children/{id}/edit",
            Access::Permission(P::WriteChild),
            form::edit_form,
        )
        .get(
            "/children/{id}/history",
            Access::Permission(P::ReadChild),
            form::history_page,
        )
        .get(
            "/children/{id}/consents",
            Access::Permission(P::ReadChild),
            consents::page,
        )
        .post(
            "/children/{id}/consents",
            Access::Permission(P::RecordConsent),
            consents::record,
        )
        .post(
            "/children/{id}/consents/{consent_id}/withdraw",
            Access::Permission(P::RecordConsent),
            consents::withdraw,
        )
        .get(
            "/children/{id}/proposals/new",
            Access::Permission(P::ProposeChange),
            proposals::new_form,
        )
        .post(
            "/children/{id}/proposals",
            Access::Permission(P::ProposeChange),
            proposals::create,
        )
        .post(
            "/children/{id}/proposals/{proposal_id}/decision",
            Access::Permission(P::WriteChild),
            proposals::decide,
        )
        .get(
            "/children/{id}/access-log",
            Access::Permission(P::ReadChild),
            access_log,
        )
        .merge(export::routes())
        .merge(import::routes())
        .merge(api::routes())
}

/// A guardian's own children (empty for everyone else), for the family's home page.
pub async fn own_children(
    state: &AppState,
    current: &CurrentSession,
) -> Result<Vec<Child>, AppError> {
    let scope = scope_filter(&current.actor, Permission::ReadChild);
    if scope.guardian_account_id.is_none() {
        return Ok(Vec::new());
    }
    let family_only = tsunagu_core::access::ScopeFilter {
        guardian_account_id: scope.guardian_account_id,
        ..Default::default()
    };
    let today = state.clock.today_jst();
    let (children, _) = repo::list(
        &state.db,
        &family_only,
        &repo::ListFilter::default(),
        today,
        20,
        0,
    )
    .await?;
    Ok(children)
}

#[derive(Template)]
#[template(path = "children/list.html")]
struct ListPage {
    chrome: Chrome,
    children: Vec<Child>,
    chosen: filters::Chosen,
    query_string: String,
    total: i64,
    page: i64,
    pages: i64,
    can_write: bool,
    can_export: bool,
    care_items: Vec<(&'static str, &'static str)>,
    devices: Vec<(&'static str, &'static str)>,
    tiers: Vec<(&'static str, &'static str)>,
    ages: Vec<(&'static str, &'static str)>,
    stages: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
}

/// The children in reach, by kana, narrowed by the filters; the page is not a read of any
/// one child's record (names and birth dates only), the profile is.
async fn list(
    State(state): State<AppState>,
    current: CurrentSession,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Html<String>, PageError> {
    let today = state.clock.today_jst();
    let chosen = filters::parse(&q, today)?;
    let page = params::number(
        q.get("page").map(String::as_str),
        "ページ番号",
        1,
        1,
        10_000,
    )?;
    let scope = scope_filter(&current.actor, Permission::ReadChild);
    let (children, total) = repo::list(
        &state.db,
        &scope,
        &chosen.filter,
        today,
        PAGE_SIZE,
        (page - 1) * PAGE_SIZE,
    )
    .await?;
    let page = ListPage {
        chrome: Chrome::for_session("児童の記録", state.settings.demo, Some(&current)),
        can_write: may(&current.actor, Permission::WriteChild, None).allowed(),
        can_export: may(&current.actor, Permission::ExportChildren, None).allowed(),
        children,
        query_string: chosen.query_string(),
        chosen,
        total,
        page,
        pages: (total + PAGE_SIZE - 1) / PAGE_SIZE,
        care_items: care::CareItem::ALL
            .iter()
            .map(|c| (c.code(), c.label_ja()))
            .collect(),
        devices: tsunagu_core::device::DeviceKind::ALL
            .iter()
            .map(|d| (d.code(), d.label_ja()))
            .collect(),
        tiers: care::Tier::ALL
            .iter()
            .map(|t| (t.code(), t.label_ja()))
            .collect(),
        ages: filters::AGE_BANDS.iter().map(|a| (a.0, a.1)).collect(),
        stages: filters::STAGES.iter().map(|s| (s.0, s.1)).collect(),
        statuses: profile::STATUSES.to_vec(),
    };
    Ok(Html(page.render()?))
}

#[derive(Template)]
#[template(path = "children/detail.html")]
struct DetailPage {
    chrome: Chrome,
    child: Child,
    profile: profile::Profile,
    version: i64,
    birth_wareki: String,
    via_break_glass: bool,
    life_stage: String,
    score: Result<care::Score, String>,
    score_source: &'static str,
    category_mismatch: bool,
    transitions: Vec<TransitionLine>,
    consents: Vec<consent::Consent>,
    proposals: Vec<proposals::Proposal>,
    notice: &'static str,
    can_write: bool,
    can_consent: bool,
    can_propose: bool,
    printed_on: String,
}

impl DetailPage {
    fn active_consents(&self) -> usize {
        self.consents
            .iter()
            .filter(|c| c.withdrawn_at.is_none())
            .count()
    }

    fn label(&self, table: &[(&'static str, &'static str)], code: &str) -> &'static str {
        profile::label_of(table, code)
    }
}

pub(crate) struct TransitionLine {
    pub label: &'static str,
    pub date: String,
    pub prepare_from: String,
}

pub(crate) fn transition_lines(
    birth: chrono::NaiveDate,
    today: chrono::NaiveDate,
) -> Vec<TransitionLine> {
    tsunagu_core::transitions::upcoming(
        birth,
        today,
        tsunagu_core::transitions::BOARD_HORIZON_MONTHS,
    )
    .into_iter()
    .map(|t| TransitionLine {
        label: t.kind.label_ja(),
        date: tsunagu_core::calendar::format_wareki_with_seireki(t.date),
        prepare_from: tsunagu_core::calendar::format_wareki_with_seireki(t.prepare_from),
    })
    .collect()
}

/// A child's record, as the gate opens it: the row and what reaches it, in one statement.
impl gate::Record for Child {
    const RESOURCE: &'static str = repo::RESOURCE_TYPE;
    const NOT_FOUND_JA: &'static str =
        "指定された児童の記録は見つかりません（存在しないか、参照できる範囲の外にあります）";
    const BACK: (&'static str, &'static str) = ("/children", "児童の記録へ戻る");

    async fn load(
        db: &Db,
        id: &str,
        today: chrono::NaiveDate,
    ) -> Result<Option<(Self, Target)>, sqlx::Error> {
        repo::get(db, id, today).await
    }

    fn child_id(&self) -> Option<&str> {
        Some(&self.id)
    }
}

async fn detail(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let gate = Gate::page(&state, &current, &parts);
    let Opened {
        record: child,
        target,
        basis,
    } = gate.read::<Child>(&id, "").await?;
    let via_break_glass = basis == Basis::BreakGlass;
    // The page's own reads on one connection: each connection taken from the pool and
    // given back costs sqlx a round trip of its own.
    let mut conn = state.db.pool().acquire().await.map_err(AppError::from)?;
    let Some((profile, version)) = store::load_on(&mut conn, &child.id).await? else {
        // Give the connection back first: refusing audits, which needs one.
        drop(conn);
        return Err(gate.refused::<Child>(&id).await.into());
    };
    let today = state.clock.today_jst();
    let fiscal_year = tsunagu_core::calendar::fiscal_year(today);
    let score = profile.score().map_err(|e| e.to_string());
    let category_mismatch = match (&score, profile.care_category.as_str()) {
        (Ok(s), c) if !c.is_empty() => {
            let expected = match s.tier {
                care::Tier::Tier32 => "3",
                care::Tier::Tier16 => "2",
                care::Tier::Tier3 => "1",
                care::Tier::BelowThree => "",
            };
            c != expected
        }
        _ => false,
    };
    let page = DetailPage {
        life_stage: tsunagu_core::calendar::life_stage(child.birth_date, fiscal_year).label_ja(),
        score,
        score_source: care::SCORE_TABLE_2021.source,
        category_mismatch,
        transitions: transition_lines(child.birth_date, today),
        consents: consent::for_child(&mut conn, &child.id).await?,
        proposals: proposals::for_child(&mut conn, &child.id).await?,
        notice: if parts.uri.query() == Some("proposed=1") {
            "変更の申出を送りました。担当者が確認すると記録に反映されます。"
        } else {
            ""
        },
        can_write: !via_break_glass
            && may(&current.actor, Permission::WriteChild, Some(&target)).allowed(),
        can_consent: !via_break_glass
            && may(&current.actor, Permission::RecordConsent, Some(&target)).allowed(),
        can_propose: may(&current.actor, Permission::ProposeChange, Some(&target)).allowed(),
        printed_on: tsunagu_core::calendar::format_wareki(today),
        chrome: Chrome::for_session(
            format!("{}（児童の記録）", child.name),
            state.settings.demo,
            Some(&current),
        ),
        birth_wareki: tsunagu_core::calendar::format_wareki_with_seireki(child.birth_date),
        child,
        profile,
        version,
        via_break_glass,
    };
    Ok(Html(page.render()?).into_response())
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
    let mut labels: HashMap<(String, String), crate::auth::repo::accounts::ActorLabel> =
        HashMap::new();
    let mut rows = Vec::with_capacity(entries.len());
    for e in entries {
        let account = e.actor_account_id.clone().unwrap_or_default();
        let org = e.actor_organisation_id.clone().unwrap_or_default();
        let key = (account.clone(), org.clone());
        if !labels.contains_key(&key) {
            let label =
                crate::auth::repo::accounts::actor_label(&state.db, &account, Some(&org)).await?;
            labels.insert(key.clone(), label);
        }
        let label = labels.get(&key).cloned().unwrap_or_default();
        rows.push(AccessRow {
            at: crate::view::format_instant_jst(e.at.timestamp_millis()),
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
    // The access history is for the family and the owner organisation's members only.
    let child = Gate::page(&state, &current, &parts)
        .open_where::<Child>(
            &id,
            Permission::ReadChild,
            Use::Read("access_log"),
            is_family_or_owner,
        )
        .await?
        .record;
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
