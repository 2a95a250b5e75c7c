//! Exports of the visible list: CSV for Excel (UTF-8 with BOM, or Shift_JIS/CP932 refused
//! with the record and character named when a character has no CP932 code) and .xlsx.
//! The columns are the import template's (plus ID, 市区町村 and the score), so an export
//! reads back in. Each export is audited with the filter used and the format, and every
//! child in it gets an entry of its own (the family's access history shows the export).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use tsunagu_core::access::{Permission, scope_filter};

use super::import::{TARGETS, profile_cells};
use super::{filters, repo, store};
use crate::audit::{self, Action, Event, Outcome};
use crate::auth::guard::{Access, Routes, audit_context};
use crate::auth::session::CurrentSession;
use crate::error::{AppError, PageError};
use crate::state::AppState;
use crate::web::params;

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

/// One cell of the export.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Text(String),
    Date(NaiveDate),
    Number(i64),
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Text(t) => t.clone(),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
            Cell::Number(n) => n.to_string(),
        }
    }
}

/// The rows of an export: headings, then one row per child (with the child's name, for
/// messages).
struct Sheet {
    header: Vec<String>,
    rows: Vec<(String, Vec<Cell>)>,
    child_ids: Vec<String>,
    describe: String,
    total: i64,
}

const DATE_KEYS: [&str; 3] = ["birth_date", "status_date", "intake_date"];

/// The visible list with every child's whole profile, in the order of the list (by kana).
async fn sheet(
    state: &AppState,
    current: &CurrentSession,
    q: &HashMap<String, String>,
) -> Result<Sheet, AppError> {
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
    let ids: Vec<String> = children.iter().map(|c| c.id.clone()).collect();
    let mut profiles = store::load_many(&state.db, &ids).await?;
    let mut rows = Vec::with_capacity(children.len());
    let mut child_ids = Vec::with_capacity(children.len());
    for c in &children {
        let Some((profile, _)) = profiles.remove(&c.id) else {
            continue;
        };
        let mut cells = vec![Cell::Text(c.id.clone())];
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
        rows.push((c.name.clone(), cells));
        child_ids.push(c.id.clone());
    }
    Ok(Sheet {
        header,
        rows,
        child_ids,
        describe: chosen.describe(),
        total,
    })
}

/// One entry for the export with its filter and format, and one per child in it, in one
/// transaction.
async fn audit_export(
    state: &AppState,
    current: &CurrentSession,
    parts: &Parts,
    sheet: &Sheet,
    format: &str,
) -> Result<(), AppError> {
    let now = state.clock.now();
    let ctx = audit_context(parts, Some(current));
    let _turn = state.db.sqlite_writer_turn().await;
    let mut tx = state.db.pool().begin().await?;
    let event = Event::new(Action::Export, Outcome::Allowed)
        .resource(repo::RESOURCE_TYPE, "list")
        .detail(format!(
            "format={format}; {}; rows={}",
            sheet.describe, sheet.total
        ));
    audit::record(&mut tx, &ctx, &event, now).await?;
    for id in &sheet.child_ids {
        let event = Event::new(Action::Export, Outcome::Allowed)
            .resource(repo::RESOURCE_TYPE, id)
            .child(id)
            .detail(format!("list export; format={format}"));
        audit::record(&mut tx, &ctx, &event, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The characters that JIS X 0208 and Windows (CP932) give different Unicode code points —
/// the "wave dash problem". Text typed on a Mac or produced by our own labels (「3〜15点」)
/// uses the first; CP932 holds the same character under the second, so they are swapped
/// before encoding rather than refused. Nothing else is ever substituted.
const CP932_EQUIVALENTS: [(char, char); 6] = [
    ('\u{301C}', '\u{FF5E}'), // 〜 WAVE DASH → ～
    ('\u{2016}', '\u{2225}'), // ‖ → ∥
    ('\u{2212}', '\u{FF0D}'), // − MINUS SIGN → －
    ('\u{00A2}', '\u{FFE0}'), // ¢ → ￠
    ('\u{00A3}', '\u{FFE1}'), // £ → ￡
    ('\u{00AC}', '\u{FFE2}'), // ¬ → ￢
];

/// `text` with the JIS forms above replaced by their CP932 forms.
pub fn to_cp932_forms(text: &str) -> String {
    text.chars()
        .map(|c| {
            CP932_EQUIVALENTS
                .iter()
                .find(|(jis, _)| *jis == c)
                .map_or(c, |(_, windows)| *windows)
        })
        .collect()
}

/// The first character of `text` that Shift_JIS (CP932) cannot hold, if any.
pub fn unencodable_char(text: &str) -> Option<char> {
    let (_, _, had_errors) = encoding_rs::SHIFT_JIS.encode(text);
    if !had_errors {
        return None;
    }
    text.chars().find(|c| {
        let mut buf = [0u8; 4];
        encoding_rs::SHIFT_JIS.encode(c.encode_utf8(&mut buf)).2
    })
}

/// The whole CSV text; for Shift_JIS, every cell is checked first, so a character without
/// a code is refused with the child and the column named (encoding_rs would write it as
/// `&#NNNN;`, which must never reach a file).
fn csv_text(sheet: &Sheet, cp932: bool) -> Result<String, AppError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let csv_error = |e: csv::Error| AppError::Internal(e.to_string());
    out.write_record(&sheet.header).map_err(csv_error)?;
    for (name, cells) in &sheet.rows {
        let texts: Vec<String> = cells
            .iter()
            .map(|c| {
                let text = params::csv_safe(&c.text());
                if cp932 { to_cp932_forms(&text) } else { text }
            })
            .collect();
        if cp932 {
            for (heading, text) in sheet.header.iter().zip(&texts) {
                if let Some(c) = unencodable_char(text) {
                    return Err(AppError::BadRequest(format!(
                        "「{name}」さんの{heading}にある「{c}」はShift_JISで表せません。UTF-8のCSVかExcel形式で出力してください"
                    )));
                }
            }
        }
        out.write_record(&texts).map_err(csv_error)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| AppError::Internal(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| AppError::Internal(e.to_string()))
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
    let text = csv_text(&sheet, cp932)?;
    let bytes = if cp932 {
        let (bytes, _, had_errors) = encoding_rs::SHIFT_JIS.encode(&text);
        if had_errors {
            // Every cell was checked above; refuse rather than write a replacement.
            return Err(PageError(AppError::BadRequest(
                "Shift_JISで表せない文字があります。UTF-8のCSVかExcel形式で出力してください".into(),
            )));
        }
        bytes.into_owned()
    } else {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(text.as_bytes());
        bytes
    };
    audit_export(
        &state,
        &current,
        &parts,
        &sheet,
        if cp932 { "csv-cp932" } else { "csv-utf8" },
    )
    .await?;
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
                "attachment; filename=\"children.csv\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

fn xlsx_bytes(sheet: &Sheet) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let ws = book.add_worksheet();
    ws.set_name("児童の記録")?;
    for (col, heading) in sheet.header.iter().enumerate() {
        let col = col as u16;
        ws.write_string_with_format(0, col, heading, &bold)?;
        ws.set_column_width(col, if heading == "ID" { 12 } else { 16 })?;
    }
    for (i, (_, cells)) in sheet.rows.iter().enumerate() {
        let row = i as u32 + 1;
        for (col, cell) in cells.iter().enumerate() {
            let col = col as u16;
            match cell {
                Cell::Text(t) if t.is_empty() => {}
                Cell::Text(t) => {
                    ws.write_string(row, col, t)?;
                }
                Cell::Number(n) => {
                    ws.write_number(row, col, *n as f64)?;
                }
                Cell::Date(d) => {
                    let when =
                        ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)?;
                    ws.write_datetime_with_format(row, col, &when, &date)?;
                }
            }
        }
    }
    ws.set_freeze_panes(1, 0)?;
    if !sheet.header.is_empty() {
        ws.autofilter(0, 0, sheet.rows.len() as u32, sheet.header.len() as u16 - 1)?;
    }
    book.save_to_buffer()
}

/// The visible list as an Excel workbook (one sheet, headings bold, dates as dates).
pub async fn export_xlsx(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let sheet = sheet(&state, &current, &q).await?;
    let bytes = xlsx_bytes(&sheet).map_err(|e| AppError::Internal(e.to_string()))?;
    audit_export(&state, &current, &parts, &sheet, "xlsx").await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"children.xlsx\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_jis_coverage_is_cp932s() {
        // CP932's IBM extensions (髙, 﨑) are in encoding_rs's Shift_JIS; JIS X 0213-only
        // characters and emoji are not.
        assert_eq!(unencodable_char("髙橋 﨑山 ①"), None);
        assert_eq!(unencodable_char("𠮷野 はると"), Some('𠮷'));
        assert_eq!(unencodable_char("はると🙂"), Some('🙂'));
        // encoding_rs would write a numeric character reference: never let that through.
        assert_eq!(to_cp932_forms("3〜15点"), "3～15点");
        assert_eq!(unencodable_char(&to_cp932_forms("3〜15点 −1")), None);
        let (bytes, _, had_errors) = encoding_rs::SHIFT_JIS.encode("𠮷");
        assert!(had_errors && bytes.starts_with(b"&#"));
    }
}
