//! The gaps page, its spreadsheet, and the 協議の場 recorded for a place.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, RawForm, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use tsunagu_core::aggregate::{Cell as Count, SMALL_CELL_MAX};
use tsunagu_core::plan::{
    GAP_NEEDS, GAP_NEEDS_REVISED, GAP_NEEDS_SOURCE, GapNeed, PLAN_TARGETS, PLAN_TARGETS_REVISED,
    PLAN_TARGETS_SOURCE, TargetLevel,
};

use super::service::{self, GapTable, PlaceRow};
use crate::auth::session::CurrentSession;
use crate::error::{AppError, FieldError, PageError};
use crate::gate::Gate;
use crate::state::AppState;
use crate::tabular::{self, Cell, Row, Sheet};
use crate::view::Chrome;
use crate::web::params;

#[derive(Template)]
#[template(path = "gaps/table.html")]
struct GapPage {
    chrome: Chrome,
    csrf_token: String,
    table: GapTable,
    prefectures: Vec<(String, String)>,
    needs: &'static [GapNeed],
    target_labels: Vec<&'static str>,
    needs_source: &'static str,
    needs_revised: &'static str,
    targets_source: &'static str,
    targets_revised: &'static str,
    small_cell_max: i64,
    /// Places the person may record a 協議の場 for: (place, name).
    forum_places: Vec<(String, String)>,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
    saved: bool,
    removed: bool,
    today: String,
}

impl GapPage {
    fn error_of(&self, field: &str) -> Option<&FieldError> {
        self.errors.iter().find(|e| e.field == field)
    }

    fn value(&self, key: &str) -> String {
        self.values.get(key).cloned().unwrap_or_default()
    }
}

/// The prefecture asked for, if the person may open it; else their first.
fn chosen_prefecture(
    current: &CurrentSession,
    q: &HashMap<String, String>,
) -> Result<String, AppError> {
    let mine = service::prefectures_of(&current.actor);
    match q.get("prefecture").map(|p| p.trim()) {
        Some(p) if !p.is_empty() => mine.into_iter().find(|m| m == p).ok_or(AppError::NotFound),
        _ => mine.into_iter().next().ok_or(AppError::NotFound),
    }
}

async fn render(
    state: &AppState,
    current: &CurrentSession,
    parts: &Parts,
    prefecture: &str,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
    flags: (bool, bool),
) -> Result<Response, PageError> {
    let gate = Gate::page(state, current, parts);
    let table = service::table(&gate, state, prefecture).await?;
    let mut forum_places: Vec<(String, String)> = table
        .targets
        .iter()
        .filter(|t| t.may_record)
        .map(|t| (t.code.clone(), t.name.clone()))
        .collect();
    forum_places.extend(
        table
            .area_forums
            .iter()
            .filter(|a| a.may_record)
            .map(|a| (a.id.clone(), format!("{}（圏域）", a.name))),
    );
    let prefectures = service::prefectures_of(&current.actor)
        .into_iter()
        .map(|p| {
            let name = crate::features::municipalities::repo::prefecture_list()
                .into_iter()
                .find(|m| m.prefecture_code == p)
                .map(|m| m.name)
                .unwrap_or_default();
            (p, name)
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = GapPage {
        chrome: Chrome::for_session(
            format!("資源の不足と計画目標（{}）", table.prefecture_name),
            state.settings.demo,
            Some(current),
        ),
        csrf_token: current.csrf_token.clone(),
        prefectures,
        needs: GAP_NEEDS,
        target_labels: PLAN_TARGETS
            .iter()
            .filter(|t| t.level == TargetLevel::Municipality)
            .map(|t| t.label)
            .collect(),
        needs_source: GAP_NEEDS_SOURCE,
        needs_revised: GAP_NEEDS_REVISED,
        targets_source: PLAN_TARGETS_SOURCE,
        targets_revised: PLAN_TARGETS_REVISED,
        small_cell_max: SMALL_CELL_MAX,
        forum_places,
        values,
        errors,
        saved: flags.0,
        removed: flags.1,
        today: tsunagu_core::calendar::format_wareki_with_seireki(table.as_of),
        table,
    };
    Ok((status, Html(page.render()?)).into_response())
}

pub async fn page(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let prefecture = chosen_prefecture(&current, &q)?;
    render(
        &state,
        &current,
        &parts,
        &prefecture,
        HashMap::new(),
        Vec::new(),
        (q.contains_key("saved"), q.contains_key("removed")),
    )
    .await
}

/// A count for a spreadsheet: the number, or the words in its place.
fn count_cell(count: Count) -> Cell {
    match count.number() {
        Some(n) => Cell::Number(n),
        None => Cell::Text(count.label_ja()),
    }
}

fn place_rows(kind: &str, rows: &[PlaceRow]) -> Vec<Row> {
    rows.iter()
        .map(|r| {
            let mut cells = vec![
                Cell::Text(kind.to_string()),
                Cell::Text(r.code.clone()),
                Cell::Text(r.name.clone()),
            ];
            for c in &r.cells {
                cells.push(count_cell(c.children));
                cells.push(count_cell(c.uncovered));
                cells.push(Cell::Number(c.services as i64));
                cells.push(Cell::Number(c.vacancies));
            }
            Row {
                about: r.name.clone(),
                cells,
            }
        })
        .collect()
}

/// The table as a sheet: one row per municipality and 圏域, then the plan targets.
fn sheet_of(table: &GapTable) -> Sheet {
    let mut header = vec!["区分".to_string(), "コード".into(), "名称".into()];
    for need in GAP_NEEDS {
        header.push(format!("{}：必要な児童", need.label));
        header.push(format!("{}：合う受け皿のない児童", need.label));
        header.push(format!("{}：受け入れる事業所数", need.label));
        header.push(format!("{}：空き（人）", need.label));
    }
    let mut rows = place_rows("市区町村", &table.municipalities);
    rows.extend(place_rows("圏域", &table.areas));
    let targets = PLAN_TARGETS
        .iter()
        .filter(|t| t.level == TargetLevel::Municipality);
    for t in &table.targets {
        let mut cells = vec![
            Cell::Text("計画目標".into()),
            Cell::Text(t.code.clone()),
            Cell::Text(t.name.clone()),
        ];
        for (target, status) in targets.clone().zip(&t.statuses) {
            cells.push(Cell::Text(format!("{}：{}", target.label, status.words())));
        }
        rows.push(Row {
            about: t.name.clone(),
            cells,
        });
    }
    // CSV wants every row as wide as the heading.
    for row in &mut rows {
        row.cells.resize(header.len(), Cell::Text(String::new()));
    }
    Sheet {
        name: "資源の不足".into(),
        header,
        rows,
    }
}

async fn export(
    state: &AppState,
    current: &CurrentSession,
    parts: &Parts,
    q: &HashMap<String, String>,
    xlsx: bool,
) -> Result<Response, PageError> {
    let prefecture = chosen_prefecture(current, q)?;
    let gate = Gate::page(state, current, parts);
    let table = service::table(&gate, state, &prefecture).await?;
    let sheet = sheet_of(&table);
    let name = format!(
        "資源の不足_{}_{}",
        table.prefecture_name,
        table.as_of.format("%Y%m%d")
    );
    Ok(tabular::download(&sheet, xlsx, "gaps", &name)?)
}

pub async fn export_xlsx(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    export(&state, &current, &parts, &q, true).await
}

pub async fn export_csv(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    export(&state, &current, &parts, &q, false).await
}

pub async fn record_forum(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let gate = Gate::page(&state, &current, &parts);
    match service::record_forum(
        &gate,
        &state,
        &get("place"),
        &get("established_on"),
        &get("note"),
    )
    .await?
    {
        Ok(prefecture) => Ok(Redirect::to(&format!(
            "/gaps?prefecture={prefecture}&saved=1#forums"
        ))
        .into_response()),
        Err(errors) => {
            let prefecture = chosen_prefecture(&current, &HashMap::new())?;
            render(
                &state,
                &current,
                &parts,
                &prefecture,
                form,
                errors,
                (false, false),
            )
            .await
        }
    }
}

pub async fn remove_forum(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let place = form.get("place").cloned().unwrap_or_default();
    let gate = Gate::page(&state, &current, &parts);
    let prefecture = service::remove_forum(&gate, &state, &place).await?;
    Ok(Redirect::to(&format!("/gaps?prefecture={prefecture}&removed=1#forums")).into_response())
}
