//! The registry's own pages: the list of children in reach, one child's record (printable
//! A4) and who opened it.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};
use tsunagu_core::access::{Basis, Permission, may};
use tsunagu_core::care;

use super::repo::Child;
use super::service::{self, AccessHistory, AccessRow, ChildRecord};
use super::{filters, profile, proposals};
use crate::auth::session::CurrentSession;
use crate::error::PageError;
use crate::features::break_glass::GrantView;
use crate::features::consent;
use crate::gate::{Gate, Opened, Use};
use crate::state::AppState;
use crate::view::Chrome;
use crate::web::params;

const PAGE_SIZE: i64 = 50;

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
pub(super) async fn list(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
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
    let gate = Gate::page(&state, &current, &parts);
    let (children, total) =
        service::list_in_reach(&gate, &state, &chosen.filter, page, PAGE_SIZE).await?;
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
    proposals: Vec<proposals::PendingReview>,
    /// The family's accounts linked to the record (shown to its staff).
    linked_guardians: Vec<consent::LinkedGuardian>,
    notice: &'static str,
    can_write: bool,
    can_consent: bool,
    can_propose: bool,
    printed_on: String,
}

impl DetailPage {
    /// A date as people read it: 和暦 with the 西暦 year beside it.
    fn wareki(&self, date: &chrono::NaiveDate) -> String {
        tsunagu_core::calendar::format_wareki_with_seireki(*date)
    }

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
    attending: &str,
) -> Vec<TransitionLine> {
    tsunagu_core::transitions::upcoming_for(
        birth,
        today,
        tsunagu_core::transitions::BOARD_HORIZON_MONTHS,
        attending,
    )
    .into_iter()
    .map(|t| TransitionLine {
        label: t.kind.label_ja(),
        date: tsunagu_core::calendar::format_wareki_with_seireki(t.date),
        prepare_from: tsunagu_core::calendar::format_wareki_with_seireki(t.prepare_from),
    })
    .collect()
}

pub(super) async fn detail(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let gate = Gate::page(&state, &current, &parts);
    // The page's own reads on the connection the profile was read on.
    let (record, mut conn) = service::open_record_keeping_connection(
        &gate,
        &state,
        &id,
        Permission::ReadChild,
        Use::Read(""),
    )
    .await?;
    let ChildRecord {
        opened: Opened {
            record: child,
            target,
            basis,
        },
        profile,
        version,
    } = record;
    let via_break_glass = basis == Basis::BreakGlass;
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
    let can_write =
        !via_break_glass && may(&current.actor, Permission::WriteChild, Some(&target)).allowed();
    let page = DetailPage {
        life_stage: tsunagu_core::calendar::life_stage(child.birth_date, fiscal_year).label_ja(),
        score,
        score_source: care::SCORE_TABLE_2021.source,
        category_mismatch,
        transitions: transition_lines(child.birth_date, today, &profile.attending),
        consents: consent::for_child(&mut conn, &child.id).await?,
        proposals: {
            let fields = profile.to_fields();
            proposals::for_child(&mut conn, &child.id)
                .await?
                .into_iter()
                .map(|proposal| proposals::PendingReview {
                    review: (proposal.status == "pending")
                        .then(|| service::review(&proposal, &fields, version)),
                    proposal,
                })
                .collect()
        },
        notice: match parts.uri.query() {
            Some("proposed=1") => "変更の申出を送りました。担当者が確認すると記録に反映されます。",
            Some("proposal_accepted=1") => "申出を確認し、記録に反映しました。",
            Some("proposal_declined=1") => "申出を見送りました。",
            Some("saved=1") => "保存しました。",
            Some("registered=1") => "登録しました。",
            Some("merged=1") => {
                "2つの記録を1つに統合しました。もう一方の記録の内容は変更履歴に残っています。"
            }
            _ => "",
        },
        // The reach already says whether any family account is linked: most records have
        // none, and their page asks for no names.
        linked_guardians: if can_write && !target.guardian_account_ids.is_empty() {
            consent::linked_guardians(&mut conn, &child.id).await?
        } else {
            Vec::new()
        },
        can_write,
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

#[derive(Template)]
#[template(path = "children/access_log.html")]
struct AccessLogPage {
    chrome: Chrome,
    child: Child,
    rows: Vec<AccessRow>,
    grants: Vec<GrantView>,
}

/// Who opened the record, when and how; for the family and the owner organisation only.
pub(super) async fn access_log(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let AccessHistory {
        child,
        rows,
        grants,
        ..
    } = service::access_history(&Gate::page(&state, &current, &parts), &state, &id).await?;
    let page = AccessLogPage {
        chrome: Chrome::for_session(
            format!("{} さんの記録の閲覧履歴", child.name),
            state.settings.demo,
            Some(&current),
        ),
        child,
        rows,
        grants,
    };
    Ok(Html(page.render()?).into_response())
}
