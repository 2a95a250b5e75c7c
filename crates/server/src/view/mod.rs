//! The page frame every HTML page shares, and the error page. Imports nothing of the app
//! but the assets, so errors, the gate and every feature can use it.

use askama::Template;
use axum::http::StatusCode;

use tsunagu_core::access::{Actor, Permission, may};

pub mod assets;

/// Who is looking at a page, as the header shows them (the signed-in session implements it).
pub trait Viewer {
    /// Still signing in (a second factor, a password change): no menu yet.
    fn signing_in(&self) -> bool;
    fn display_name(&self) -> &str;
    /// Unread notices, for the count beside お知らせ.
    fn unread_notices(&self) -> i64;
    fn organisation_name(&self) -> &str;
    fn csrf_token(&self) -> &str;
    fn actor(&self) -> &Actor;
}

/// What the base layout needs from every page.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub title: String,
    pub demo: bool,
    pub user: Option<ChromeUser>,
}

/// The signed-in person as the header shows them, with the menu their permissions open.
#[derive(Debug, Clone)]
pub struct ChromeUser {
    pub display_name: String,
    pub organisation: String,
    pub csrf_token: String,
    pub nav: Vec<(&'static str, &'static str)>,
    pub unread_notices: i64,
}

impl Chrome {
    /// The signed-in person's CSRF token for the forms of a page (empty when signed out).
    pub fn csrf_token(&self) -> &str {
        self.user
            .as_ref()
            .map(|u| u.csrf_token.as_str())
            .unwrap_or("")
    }

    pub fn new(title: impl Into<String>, demo: bool) -> Self {
        Self {
            title: title.into(),
            demo,
            user: None,
        }
    }

    /// The menu follows the permissions, asked of the one policy.
    pub fn for_session(
        title: impl Into<String>,
        demo: bool,
        session: Option<&impl Viewer>,
    ) -> Self {
        let mut chrome = Self::new(title, demo);
        if let Some(s) = session.filter(|s| !s.signing_in()) {
            let can = |p| may(s.actor(), p, None).allowed();
            let mut nav = vec![("/home", "マイページ")];
            if can(Permission::ReadChild) {
                nav.push(("/children", "児童の記録"));
            }
            if can(Permission::ReadDirectory) {
                nav.push(("/directory", "資源"));
            } else {
                nav.push(("/public/directory", "施設を探す"));
            }
            if can(Permission::ManageMentoring) {
                nav.push(("/mentoring", "メンター相談"));
            }
            if can(Permission::MentorConsult) {
                nav.push(("/mentoring/me", "相談の予定"));
            }
            if can(Permission::ViewAggregates) {
                nav.push(("/gaps", "不足と計画"));
            }
            if can(Permission::ReviewBreakGlass) {
                nav.push(("/break-glass", "緊急閲覧の確認"));
            }
            if can(Permission::ManageOrganisations) {
                nav.push(("/admin/organisations", "組織"));
            }
            if can(Permission::ManageAccounts) {
                nav.push(("/admin/accounts", "アカウント"));
            }
            if can(Permission::ViewAudit) {
                nav.push(("/admin/audit", "監査ログ"));
            }
            chrome.user = Some(ChromeUser {
                display_name: s.display_name().to_string(),
                organisation: s.organisation_name().to_string(),
                csrf_token: s.csrf_token().to_string(),
                unread_notices: s.unread_notices(),
                nav,
            });
        }
        chrome
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
    /// Where the way back leads, and what it says.
    pub back: (String, &'static str),
}

/// Marks an error page rendered without knowing who is signed in (`PageError`), so the
/// layer that knows can show it in their frame, with their menu and a way back.
#[derive(Debug, Clone)]
pub struct ErrorShown {
    pub message: String,
}

impl ErrorPage {
    /// The same error in the signed-in person's frame, back to where they came from when
    /// that was a page of this site (`came_from`: the Referer's path), else their home.
    pub fn for_viewer(
        status: StatusCode,
        message: &str,
        demo: bool,
        viewer: &impl Viewer,
        came_from: Option<&str>,
    ) -> Self {
        let mut page = Self::new(status, message);
        page.chrome = Chrome::for_session(page.chrome.title.clone(), demo, Some(viewer));
        page.back = match came_from {
            Some(path) if path.starts_with('/') && !path.starts_with("//") => {
                (path.to_string(), "前のページへ戻る")
            }
            _ => ("/home".to_string(), "マイページへ戻る"),
        };
        page
    }
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
            back: ("/".to_string(), "トップページへ戻る"),
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

/// Unix ms as Japan time, 「2026-11-21 12:00」 style used in lists and CSV.
pub fn format_instant_jst(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|t| {
            t.with_timezone(&tsunagu_core::clock::JST)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}
