//! Administration: organisations, accounts, the audit trail.
//!
//! An administrator reaches everything (システム管理者) or the organisations of their
//! prefecture (都道府県管理者), as `tsunagu_core::access::scope_filter` says for the
//! permission of the page. System organisations belong to no prefecture. Anything out of
//! reach answers 404, the same as something that does not exist, and the attempt is audited.

pub mod accounts;
pub mod audit;
pub mod organisations;

use std::collections::HashMap;

use axum::http::request::Parts;
use tsunagu_core::access::{Permission, scope_filter};

use crate::audit::{Action, Event, Outcome};
use crate::auth::guard::{Routes, audit_context};
use crate::auth::session::CurrentSession;
use crate::error::AppError;
use crate::organisations::repo::Reach;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::new()
        .merge(organisations::routes())
        .merge(accounts::routes())
        .merge(audit::routes())
}

/// Rows per page of the organisation and account lists.
const PAGE_SIZE: i64 = 50;
/// Longest name, display name or kana accepted.
const MAX_NAME_CHARS: usize = 100;

/// How far the signed-in administrator reaches with `permission`.
fn reach(current: &CurrentSession, permission: Permission) -> Reach {
    Reach::from_filter(&scope_filter(&current.actor, permission))
}

/// A form field, trimmed; empty when absent.
fn field(form: &HashMap<String, String>, key: &str) -> String {
    form.get(key)
        .map(|v| v.trim().to_string())
        .unwrap_or_default()
}

use tsunagu_core::text::is_kana;

/// A name of 1 to 100 characters without control characters, or the Japanese message.
fn check_name(value: &str, label: &str, errors: &mut Vec<String>) {
    let chars = value.chars().count();
    if let Some(c) = tsunagu_core::text::hidden_character(value, false) {
        errors.push(tsunagu_core::text::hidden_character_message(label, c));
    } else if chars == 0 || chars > MAX_NAME_CHARS {
        errors.push(format!(
            "{label}を{MAX_NAME_CHARS}文字以内で入力してください"
        ));
    }
}

/// Kana of 1 to 100 characters: ひらがな or カタカナ (spaces allowed).
fn check_kana(value: &str, errors: &mut Vec<String>) {
    let chars = value.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS || !is_kana(value) {
        errors.push(format!(
            "ふりがなを、ひらがなまたはカタカナ{MAX_NAME_CHARS}文字以内で入力してください"
        ));
    }
}

/// Audits an attempt on something missing or out of reach and answers 404.
async fn not_found(
    state: &AppState,
    current: &CurrentSession,
    parts: &Parts,
    resource_type: &str,
    id: &str,
    what: &str,
) -> AppError {
    let ctx = audit_context(parts, Some(current));
    let event = Event::new(Action::Denied, Outcome::Denied)
        .resource(resource_type, id)
        .detail(what);
    match crate::audit::record_standalone(&state.db, &ctx, &event, state.clock.now()).await {
        Ok(_) => AppError::NotFound,
        Err(err) => err.into(),
    }
}

/// 「1 / 3 ページ」: the page number from the query, 1-based.
fn page_number(q: &HashMap<String, String>) -> Result<i64, AppError> {
    crate::web::params::number(
        q.get("page").map(String::as_str),
        "ページ番号",
        1,
        1,
        10_000,
    )
}

/// How many pages `total` rows make.
fn pages(total: i64, size: i64) -> i64 {
    (total + size - 1) / size
}
