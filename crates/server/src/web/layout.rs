//! The page frame every HTML page shares, and the error page.

use askama::Template;
use axum::http::StatusCode;

use super::assets;

/// What the base layout needs from every page.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub title: String,
    pub demo: bool,
}

impl Chrome {
    pub fn new(title: impl Into<String>, demo: bool) -> Self {
        Self {
            title: title.into(),
            demo,
        }
    }

    pub fn asset(&self, name: &str) -> String {
        assets::url(name)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub chrome: Chrome,
    pub status: u16,
    pub message: String,
}

impl ErrorPage {
    pub fn new(status: StatusCode, message: &str) -> Self {
        let title = match status {
            StatusCode::NOT_FOUND => "ページが見つかりません",
            StatusCode::BAD_REQUEST => "入力内容に誤りがあります",
            StatusCode::PAYLOAD_TOO_LARGE => "送信データが大きすぎます",
            _ => "エラーが発生しました",
        };
        Self {
            chrome: Chrome::new(title, false),
            status: status.as_u16(),
            message: message.to_string(),
        }
    }

    /// Rendering the error page must not fail in turn; fall back to plain text.
    pub fn render_or_plain(&self) -> String {
        self.render()
            .unwrap_or_else(|_| format!("{} {}", self.status, self.message))
    }
}

/// 「令和8年度（2026年度）」: the 年度 as offices write it, with the Western year beside it.
pub fn fiscal_year_label(fiscal_year: i32) -> String {
    use tsunagu_core::calendar::{era_of, fiscal_year_start};
    match era_of(fiscal_year_start(fiscal_year)) {
        Some((era, 1)) => format!("{}元年度（{fiscal_year}年度）", era.name_ja()),
        Some((era, year)) => format!("{}{year}年度（{fiscal_year}年度）", era.name_ja()),
        None => format!("{fiscal_year}年度"),
    }
}
