//! Exports of the visible list: CSV for Excel (UTF-8 with BOM, or Shift_JIS/CP932 refused
//! with the record and character named when a character has no CP932 code) and .xlsx.
//! The columns are the import template's (plus ID, 市区町村 and the score), so an export
//! reads back in. Each export is audited with the filter used and the format, and every
//! child in it gets an entry of its own (the family's access history shows the export).

use std::collections::HashMap;
use tsunagu_core::ids::ChildId;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;
use tsunagu_core::access::{Permission, scope_filter};

use super::import::{TARGETS, profile_cells};
use super::{filters, repo, store};
use crate::audit::{Action, Event, Outcome};
use crate::auth::guard::{Access, Routes};
use crate::auth::session::CurrentSession;
use crate::error::{AppError, PageError};
use crate::gate::Gate;
use crate::state::AppState;
use crate::tabular::{self, Cell, Row, Sheet, WriteError};
use crate::view::Chrome;

pub fn routes() -> Routes {
    Routes::new()
        .get(
            "/children/export.csv",
            Access::Permission(Permission::ExportChildren),
            export_csv,
        )
        .get(
            "/children/export.xlsx",
            Access::Permission(Permission::ExportChildren),
            export_xlsx,
        )
}

/// The rows of an export (one per child, the child's name for messages), with what the
/// audit entry names.
struct Export {
    sheet: Sheet,
    child_ids: Vec<ChildId>,
    describe: String,
    total: i64,
    /// The one municipality every row lives in, if they share one (for the file's name).
    town: Option<String>,
    /// The list's filters as a query string, for links to the same export.
    query: String,
}

impl Export {
    /// 「児童一覧_板橋区_20261207_Shift_JIS.csv」: what it is, whose, when, and (for CSV)
    /// the encoding, so a folder of downloads reads by itself.
    fn file_name(&self, today: NaiveDate, suffix: &str) -> String {
        let town = self.town.as_deref().unwrap_or("複数市区町村");
        format!("児童一覧_{town}_{}{suffix}", today.format("%Y%m%d"))
    }
}

const DATE_KEYS: [&str; 3] = ["birth_date", "status_date", "intake_date"];

/// The visible list with every child's whole profile, in the order of the list (by kana).
async fn sheet(
    state: &AppState,
    current: &CurrentSession,
    q: &HashMap<String, String>,
) -> Result<Export, AppError> {
    let today = state.clock.today_jst();
    let chosen = filters::parse(q, today)?;
    let scope = scope_filter(&current.actor, Permission::ExportChildren);
    let (children, total) =
        repo::list(&state.db, &scope, &chosen.filter, today, 100_000, 0).await?;
    let mut header = vec!["ID".to_string()];
    for t in TARGETS.iter() {
        header.push(t.label.clone());
        match t.key.as_str() {
            "municipality_code" => header.push("市区町村".into()),
            "care_items" => {
                header.push("判定スコア".into());
                header.push("スコア区分".into());
            }
            _ => {}
        }
    }
    let ids: Vec<ChildId> = children.iter().map(|c| c.id.clone()).collect();
    let mut profiles = store::load_many(&state.db, &ids).await?;
    let mut rows = Vec::with_capacity(children.len());
    let mut child_ids = Vec::with_capacity(children.len());
    for c in &children {
        let Some((profile, _)) = profiles.remove(c.id.as_str()) else {
            continue;
        };
        let mut cells = vec![Cell::Text(c.id.to_string())];
        for (t, text) in TARGETS.iter().zip(profile_cells(&profile)) {
            let cell = if DATE_KEYS.contains(&t.key.as_str()) && !text.is_empty() {
                NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                    .map(Cell::Date)
                    .unwrap_or(Cell::Text(text))
            } else {
                Cell::Text(text)
            };
            cells.push(cell);
            match t.key.as_str() {
                "municipality_code" => cells.push(Cell::Text(c.municipality_name.clone())),
                "care_items" => {
                    cells.push(Cell::Number(c.care_score));
                    cells.push(Cell::Text(c.tier_ja().to_string()));
                }
                _ => {}
            }
        }
        rows.push(Row {
            about: format!("「{}」さん", c.name),
            cells,
        });
        child_ids.push(c.id.clone());
    }
    let mut towns = children.iter().map(|c| c.municipality_name.as_str());
    let first = towns.next();
    let town = first
        .filter(|t| towns.all(|other| other == *t))
        .map(str::to_string);
    Ok(Export {
        sheet: Sheet {
            name: "児童の記録".into(),
            header,
            rows,
        },
        child_ids,
        describe: chosen.describe(),
        query: chosen.query_string(),
        total,
        town,
    })
}

/// One entry for the export with its filter and format, and one per child in it, in one
/// transaction.
async fn audit_export(
    state: &AppState,
    current: &CurrentSession,
    parts: &Parts,
    sheet: &Export,
    format: &str,
) -> Result<(), AppError> {
    let mut events = vec![
        Event::new(Action::Export, Outcome::Allowed)
            .resource(repo::RESOURCE_TYPE, "list")
            .detail(format!(
                "format={format}; {}; rows={}",
                sheet.describe, sheet.total
            )),
    ];
    events.extend(sheet.child_ids.iter().map(|id| {
        Event::new(Action::Export, Outcome::Allowed)
            .resource(repo::RESOURCE_TYPE, id)
            .child(id)
            .detail(format!("list export; format={format}"))
    }));
    Gate::page(state, current, parts).audit_all(&events).await
}

/// The visible list as CSV: UTF-8 with BOM (for Excel) or, with `encoding=cp932`,
/// Shift_JIS (CP932) for older software.
pub async fn export_csv(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let cp932 = match q.get("encoding").map(|e| e.trim().to_ascii_lowercase()) {
        None => false,
        Some(e) if e.is_empty() || e == "utf-8" || e == "utf8" => false,
        Some(e) if matches!(e.as_str(), "cp932" | "shift_jis" | "sjis" | "windows-31j") => true,
        Some(e) => {
            return Err(PageError(AppError::BadRequest(format!(
                "文字コード「{e}」には対応していません（utf-8 か cp932）"
            ))));
        }
    };
    let sheet = sheet(&state, &current, &q).await?;
    let geta = q.get("substitute").map(String::as_str) == Some("geta");
    let mut format = if cp932 { "csv-cp932" } else { "csv-utf8" }.to_string();
    let written = if cp932 {
        let problems = tabular::cp932_problems(&sheet.sheet);
        if !problems.is_empty() && !geta {
            // Not one name blocking everyone's export: say which, and let the person choose.
            let page = Cp932Page {
                chrome: Chrome::for_session(
                    "Shift_JISで表せない文字があります",
                    state.settings.demo,
                    Some(&current),
                ),
                problems,
                with_geta: export_link(&sheet.query, "encoding=cp932&substitute=geta"),
                as_utf8: export_link(&sheet.query, "encoding=utf-8"),
            };
            return Ok((StatusCode::CONFLICT, Html(page.render()?)).into_response());
        }
        if !problems.is_empty() {
            format = format!("csv-cp932-geta; replaced={}", problems.len());
        }
        tabular::csv_cp932_geta(&sheet.sheet)
    } else {
        tabular::csv_utf8_bom(&sheet.sheet)
    };
    let bytes = written.map_err(write_error)?;
    audit_export(&state, &current, &parts, &sheet, &format).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                if cp932 {
                    "text/csv; charset=Shift_JIS"
                } else {
                    "text/csv; charset=utf-8"
                },
            ),
            (
                header::CONTENT_DISPOSITION,
                &tabular::attachment(
                    "children.csv",
                    &sheet.file_name(
                        state.clock.today_jst(),
                        if cp932 {
                            "_Shift_JIS.csv"
                        } else {
                            "_UTF-8.csv"
                        },
                    ),
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The choice offered when a Shift_JIS export meets characters Shift_JIS lacks: each record,
/// column and character, and the two ways on.
#[derive(Template)]
#[template(path = "children/export_cp932.html")]
struct Cp932Page {
    chrome: Chrome,
    problems: Vec<tabular::Unencodable>,
    with_geta: String,
    as_utf8: String,
}

impl Cp932Page {
    fn code_point(&self, c: &char) -> String {
        format!("U+{:04X}", u32::from(*c))
    }
}

/// The CSV export of the same list (its filters kept), written as `how`.
fn export_link(filters: &str, how: &str) -> String {
    if filters.is_empty() {
        format!("/children/export.csv?{how}")
    } else {
        format!("/children/export.csv?{filters}&{how}")
    }
}

/// A sheet that cannot be written as asked: the person is told why (a character CP932
/// lacks); anything else is ours.
fn write_error(err: WriteError) -> AppError {
    match err {
        WriteError::NotInCp932 { .. } => AppError::BadRequest(err.to_string()),
        WriteError::Failed(detail) => AppError::Internal(detail),
    }
}

/// The visible list as an Excel workbook (one sheet, headings bold, dates as dates).
pub async fn export_xlsx(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let sheet = sheet(&state, &current, &q).await?;
    let bytes = tabular::xlsx(&sheet.sheet).map_err(write_error)?;
    audit_export(&state, &current, &parts, &sheet, "xlsx").await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            (
                header::CONTENT_DISPOSITION,
                &tabular::attachment(
                    "children.xlsx",
                    &sheet.file_name(state.clock.today_jst(), ".xlsx"),
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}
