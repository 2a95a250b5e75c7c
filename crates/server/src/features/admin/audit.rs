//! The audit trail for administrators: search by person, record and day (JST), page by
//! page, newest first, and the same selection as CSV. A prefecture's administrator sees
//! the entries of actors from organisations in their prefecture only. Every export is
//! itself audited with the filter used.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use tsunagu_core::access::Permission;
use tsunagu_core::clock::JST;

use super::{field, page_number, pages, reach};
use crate::audit::{self, Action, AuditEntry, AuditQuery, Event, Outcome};
use crate::auth::guard::{Access, Routes, audit_context};
use crate::auth::repo::accounts;
use crate::auth::session::CurrentSession;
use crate::error::{AppError, PageError};
use crate::organisations::OrganisationKind;
use crate::organisations::repo::Reach;
use crate::state::AppState;
use crate::tabular::{self, Cell, Sheet};
use crate::view::Chrome;
use crate::web::params;

const PERMISSION: Permission = Permission::ViewAudit;
const PAGE_SIZE: i64 = 100;
/// Filter values longer than this are refused (ids are UUIDs, types short words).
const MAX_FILTER_CHARS: usize = 200;

pub fn routes() -> Routes {
    let access = Access::Permission(PERMISSION);
    Routes::new().get("/admin/audit", access, search_page).get(
        "/admin/audit/export.csv",
        access,
        export,
    )
}

/// The record types an administrator can pick, with their Japanese names.
const RESOURCE_TYPES: [(&str, &str); 5] = [
    ("child", "児童の記録"),
    ("account", "アカウント"),
    ("organisation", "組織"),
    ("route", "画面"),
    ("audit_log", "監査ログ"),
];

/// Fields of accounts and organisations named in their audit entries, as people read them
/// (a child's fields are named by the registry, `children::profile::audit_field_label`).
const FIELD_LABELS: [(&str, &str); 16] = [
    ("login_id", "ログインID"),
    ("display_name", "氏名"),
    ("kana", "よみがな"),
    ("password", "パスワード"),
    ("must_change_password", "次回パスワード変更"),
    ("memberships", "所属と権限"),
    ("active", "有効・無効"),
    ("failed_logins", "ログイン失敗回数"),
    ("locked_until", "ロック"),
    ("totp_secret", "二要素認証の鍵"),
    ("totp_enabled", "二要素認証"),
    ("recovery_codes", "回復コード"),
    ("name", "名称"),
    ("kind", "種別"),
    ("department", "部署"),
    ("municipality_code", "市区町村"),
];

fn field_label(resource_type: Option<&str>, key: &str) -> String {
    let label = match resource_type {
        Some("child") => crate::features::children::profile::audit_field_label(key),
        _ => FIELD_LABELS
            .iter()
            .find(|(k, _)| *k == key)
            .map_or("", |(_, label)| *label),
    };
    if label.is_empty() {
        key.to_string()
    } else {
        label.to_string()
    }
}

/// The parts of an entry's detail that name how something was seen, as people read them;
/// the rest (ids, filters, counts) is kept as written.
const DETAIL_WORDS: [(&str, &str); 12] = [
    ("api", "API"),
    ("break_glass", "緊急閲覧"),
    ("view", "記録"),
    ("history", "変更履歴"),
    ("access_log", "アクセス履歴"),
    ("guardians", "家族アカウント"),
    ("consents", "同意"),
    ("created", "登録直後の表示"),
    ("form", "画面で変更"),
    ("import", "ファイルから取り込み"),
    ("proposal", "家族の申出"),
    ("demo", "デモデータ"),
];

fn detail_ja(detail: &str) -> String {
    detail
        .split(';')
        .map(str::trim)
        .map(|part| {
            DETAIL_WORDS
                .iter()
                .find(|(word, _)| *word == part)
                .map_or(part, |(_, ja)| *ja)
        })
        .collect::<Vec<_>>()
        .join("・")
}

fn resource_type_label(kind: &str) -> &str {
    RESOURCE_TYPES
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, label)| *label)
        .unwrap_or(kind)
}

/// The filters as typed on the form (kept to show them again and to build links).
#[derive(Debug, Clone, Default)]
struct Filters {
    login_id: String,
    resource_type: String,
    resource_id: String,
    child_id: String,
    from: String,
    to: String,
}

impl Filters {
    fn read(q: &HashMap<String, String>) -> Self {
        Self {
            login_id: field(q, "login_id"),
            resource_type: field(q, "resource_type"),
            resource_id: field(q, "resource_id"),
            child_id: field(q, "child_id"),
            from: field(q, "from"),
            to: field(q, "to"),
        }
    }

    fn pairs(&self) -> [(&'static str, &str); 6] {
        [
            ("login_id", &self.login_id),
            ("resource_type", &self.resource_type),
            ("resource_id", &self.resource_id),
            ("child_id", &self.child_id),
            ("from", &self.from),
            ("to", &self.to),
        ]
    }

    /// `login_id=..&from=..`: the filters that are set, for links to other pages and the CSV.
    fn query_string(&self) -> String {
        self.pairs()
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", params::url_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The filter as the export's audit entry records it.
    fn describe(&self) -> String {
        self.pairs()
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// A JST day as `YYYY-MM-DD`.
fn parse_day(text: &str, label: &str, errors: &mut Vec<String>) -> Option<NaiveDate> {
    if text.is_empty() {
        return None;
    }
    match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(day) => Some(day),
        Err(_) => {
            errors.push(format!(
                "{label}は 2026-04-01 のように「年-月-日」の形で入力してください（入力：{text}）"
            ));
            None
        }
    }
}

/// Midnight at the start of a JST day, as UTC.
fn jst_midnight(day: NaiveDate) -> Option<DateTime<Utc>> {
    day.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(JST).single())
        .map(|t| t.with_timezone(&Utc))
}

/// The query the filters mean, or every problem with them in Japanese. `Ok(None)` when the
/// person named is unknown (or out of reach): nothing can match.
async fn build_query(
    state: &AppState,
    reach: &Reach,
    filters: &Filters,
) -> Result<Result<Option<AuditQuery>, Vec<String>>, AppError> {
    let mut errors = Vec::new();
    for (key, value) in filters.pairs() {
        if value.chars().count() > MAX_FILTER_CHARS {
            errors.push(format!(
                "検索条件（{key}）は{MAX_FILTER_CHARS}文字以内で入力してください"
            ));
        }
    }
    let from = parse_day(&filters.from, "期間の開始日", &mut errors);
    let to = parse_day(&filters.to, "期間の終了日", &mut errors);
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        errors.push("期間の開始日が終了日より後になっています".to_string());
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let mut query = AuditQuery {
        resource_type: Some(filters.resource_type.clone()),
        resource_id: Some(filters.resource_id.clone()),
        child_id: Some(filters.child_id.clone()),
        from: from.and_then(jst_midnight),
        // Inclusive of the whole last day: up to the next midnight, exclusive.
        until: to.and_then(|t| jst_midnight(t + Duration::days(1))),
        actor_prefectures: if reach.everything {
            Vec::new()
        } else {
            reach.prefectures.clone()
        },
        ..AuditQuery::default()
    };
    if reach.is_empty() {
        return Ok(Ok(None));
    }
    if !filters.login_id.is_empty() {
        // The login id as typed, else a part of a name or its reading in reach.
        let account = match accounts::by_login_id(&state.db, &filters.login_id).await? {
            Some(account) => Some(account.id),
            None => {
                let (found, total) = accounts::list_in_reach(
                    &state.db,
                    reach,
                    &filters.login_id,
                    5,
                    0,
                    state.clock.now(),
                )
                .await?;
                if total > 1 {
                    let names: Vec<String> = found
                        .iter()
                        .map(|a| format!("{}（{}）", a.display_name, a.login_id))
                        .collect();
                    return Ok(Err(vec![format!(
                        "「{}」に当てはまる人が{total}人います。ログインIDで指定してください：{}{}",
                        filters.login_id,
                        names.join("、"),
                        if total > 5 { "…" } else { "" }
                    )]));
                }
                found.into_iter().next().map(|a| a.id)
            }
        };
        let Some(account_id) = account else {
            return Ok(Ok(None));
        };
        if !reach.everything {
            let memberships = accounts::all_memberships(&state.db, &account_id).await?;
            let in_reach = memberships.iter().any(|m| {
                OrganisationKind::parse(&m.organisation_kind)
                    .is_some_and(|kind| reach.covers(kind, &m.municipality_code))
            });
            if !in_reach {
                return Ok(Ok(None));
            }
        }
        query.actor_account_id = Some(account_id.into_string());
    }
    Ok(Ok(Some(query)))
}

/// One line of the table.
struct Row {
    at: String,
    actor: String,
    organisation: String,
    action: String,
    outcome: String,
    target: String,
    fields: String,
    detail: String,
    client_addr: String,
}

async fn rows(state: &AppState, entries: &[AuditEntry]) -> Result<Vec<Row>, AppError> {
    let labels = accounts::actor_labels(&state.db, entries.iter().map(AuditEntry::actor)).await?;
    let mut rows = Vec::with_capacity(entries.len());
    for e in entries {
        let (account, org) = e.actor();
        let label = labels
            .get(&(account.to_string(), org.to_string()))
            .cloned()
            .unwrap_or_default();
        let account = account.to_string();
        let mut target = match (&e.resource_type, &e.resource_id) {
            (Some(kind), Some(id)) => format!("{} {id}", resource_type_label(kind)),
            (Some(kind), None) => resource_type_label(kind).to_string(),
            _ => String::new(),
        };
        if let Some(child) = e
            .child_id
            .as_ref()
            .filter(|c| Some(*c) != e.resource_id.as_ref())
        {
            target = format!("{target}（児童 {child}）");
        }
        rows.push(Row {
            at: e
                .at
                .with_timezone(&JST)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
            actor: if label.display_name.is_empty() {
                account
            } else {
                label.display_name
            },
            organisation: label.organisation_name,
            action: e.action_label().to_string(),
            outcome: e.outcome_label().to_string(),
            target,
            fields: e
                .fields
                .iter()
                .map(|f| field_label(e.resource_type.as_deref(), f))
                .collect::<Vec<_>>()
                .join("、"),
            detail: detail_ja(&e.detail),
            client_addr: e.client_addr.clone(),
        });
    }
    Ok(rows)
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct SearchPage {
    chrome: Chrome,
    filters: Filters,
    resource_types: Vec<(&'static str, &'static str)>,
    errors: Vec<String>,
    unknown_person: bool,
    searched: bool,
    rows: Vec<Row>,
    total: i64,
    page: i64,
    pages: i64,
    query_string: String,
}

async fn search_page(
    State(state): State<AppState>,
    current: CurrentSession,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let filters = Filters::read(&q);
    let reach = reach(&current, PERMISSION);
    let mut page = SearchPage {
        chrome: Chrome::for_session("監査ログ", state.settings.demo, Some(&current)),
        query_string: filters.query_string(),
        filters,
        resource_types: RESOURCE_TYPES.to_vec(),
        errors: Vec::new(),
        unknown_person: false,
        searched: false,
        rows: Vec::new(),
        total: 0,
        page: 1,
        pages: 0,
    };
    let number = match page_number(&q) {
        Ok(n) => n,
        Err(err) => {
            page.errors.push(err.to_string());
            return Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response());
        }
    };
    match build_query(&state, &reach, &page.filters).await? {
        Err(errors) => {
            page.errors = errors;
            return Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response());
        }
        Ok(None) => {
            page.searched = true;
            page.unknown_person = !page.filters.login_id.is_empty();
        }
        Ok(Some(mut query)) => {
            query.limit = PAGE_SIZE;
            query.offset = (number - 1) * PAGE_SIZE;
            let (entries, total) = audit::search(&state.db, &query)
                .await
                .map_err(AppError::from)?;
            page.searched = true;
            page.rows = rows(&state, &entries).await?;
            page.total = total;
            page.page = number;
            page.pages = pages(total, PAGE_SIZE);
        }
    }
    Ok(Html(page.render()?).into_response())
}

/// The selection as CSV (UTF-8 with BOM, Japanese header, JST), newest first, at most
/// `audit::search::MAX_LIMIT` rows; audited with the filter and the number of rows.
async fn export(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let filters = Filters::read(&q);
    let reach = reach(&current, PERMISSION);
    let (entries, total) = match build_query(&state, &reach, &filters).await? {
        Err(errors) => return Err(AppError::BadRequest(errors.join("。")).into()),
        Ok(None) => (Vec::new(), 0),
        Ok(Some(mut query)) => {
            query.limit = audit::search::MAX_LIMIT;
            audit::search(&state.db, &query)
                .await
                .map_err(AppError::from)?
        }
    };
    let bytes = to_csv(&entries);
    let ctx = audit_context(&parts, Some(&current));
    let mut detail = filters.describe();
    if !detail.is_empty() {
        detail.push_str("; ");
    }
    detail.push_str(&format!("rows={}; matched={total}", entries.len()));
    let event = Event::new(Action::Export, Outcome::Allowed)
        .resource("audit_log", "search")
        .detail(detail);
    audit::record_standalone(&state.db, &ctx, &event, state.clock.now())
        .await
        .map_err(AppError::from)?;
    let filename = format!(
        "attachment; filename=\"audit-{}.csv\"",
        state
            .clock
            .now()
            .with_timezone(&JST)
            .format("%Y%m%d-%H%M%S")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, filename),
        ],
        bytes,
    )
        .into_response())
}

// The trail as CSV: the export of this page (the audit module keeps the trail itself).
const CSV_HEADER: [&str; 13] = [
    "連番",
    "日時(JST)",
    "操作者",
    "組織",
    "操作",
    "結果",
    "対象種別",
    "対象ID",
    "児童ID",
    "項目",
    "詳細",
    "接続元",
    "ブラウザ",
];

/// UTF-8 with a BOM (so Excel reads the Japanese), CRLF rows (RFC 4180), header in
/// Japanese, times in JST, every cell through the formula guard.
pub fn to_csv(entries: &[AuditEntry]) -> Vec<u8> {
    let text = |v: &str| Cell::Text(v.to_string());
    let opt = |v: &Option<String>| Cell::Text(v.clone().unwrap_or_default());
    let sheet = Sheet {
        name: "監査ログ".into(),
        header: CSV_HEADER.iter().map(|h| (*h).to_string()).collect(),
        rows: entries
            .iter()
            .map(|e| tabular::Row {
                about: format!("監査ログ {}", e.seq),
                cells: vec![
                    Cell::Number(e.seq),
                    text(
                        &e.at
                            .with_timezone(&JST)
                            .format("%Y-%m-%d %H:%M:%S")
                            .to_string(),
                    ),
                    opt(&e.actor_account_id),
                    opt(&e.actor_organisation_id),
                    text(e.action_label()),
                    text(e.outcome_label()),
                    opt(&e.resource_type),
                    opt(&e.resource_id),
                    opt(&e.child_id),
                    text(&e.fields.join(", ")),
                    text(&e.detail),
                    text(&e.client_addr),
                    text(&e.user_agent),
                ],
            })
            .collect(),
    };
    // Writing into memory cannot fail; log rather than panic should that ever change.
    tabular::csv_utf8_bom(&sheet).unwrap_or_else(|err| {
        tracing::error!(%err, "audit CSV could not be written");
        b"\xEF\xBB\xBF".to_vec()
    })
}
