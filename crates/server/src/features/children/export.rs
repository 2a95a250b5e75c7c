//! Exports of the visible list: CSV for Excel (UTF-8 with BOM), audited with the filter used.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use tsunagu_core::access::{Permission, scope_filter};

use super::{filters, repo};
use crate::audit::{self, Action, Event, Outcome};
use crate::auth::guard::{Access, Routes, audit_context};
use crate::auth::session::CurrentSession;
use crate::error::{AppError, PageError};
use crate::state::AppState;
use crate::web::params;

pub fn routes() -> Routes {
    Routes::new().get(
        "/children/export.csv",
        Access::Permission(Permission::ExportChildren),
        export,
    )
}

/// The visible list as CSV (UTF-8 with BOM, for Excel), audited with the filter used.
pub async fn export(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let today = state.clock.today_jst();
    let chosen = filters::parse(&q, today)?;
    let scope = scope_filter(&current.actor, Permission::ExportChildren);
    let (children, total) =
        repo::list(&state.db, &scope, &chosen.filter, today, 100_000, 0).await?;
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
        .detail(format!("{}; rows={total}", chosen.describe()));
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
