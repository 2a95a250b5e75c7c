//! Errors. `StartupError` ends the CLI with one line and exit code 2;
//! `AppError` is the one error of the web layer: a stable code for the API,
//! a Japanese message for people.

use std::path::PathBuf;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;
use tsunagu_core::calendar::HolidayError;
use tsunagu_core::municipality::MunicipalityCodeError;

/// A problem that stops a command before or while it starts. Each message is one line,
/// Japanese first, English after a slash, for an operator reading a terminal or a log.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(
        "データベースURLの形式が不明です: {0}（sqlite:// または postgres:// を指定してください） / unknown database URL scheme: {0}"
    )]
    UnknownDatabaseScheme(String),
    #[error("待ち受けアドレスが不正です: {0} / invalid listen address: {0}")]
    BadListenAddress(String),
    #[error(
        "データフォルダを作成または書き込みできません: {path} ({source}) / data folder is not writable: {path}"
    )]
    DataFolder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("ポート {addr} は使用中か、待ち受けできません ({source}) / cannot listen on {addr}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("データベースに接続できません: {url} ({source}) / cannot connect to the database")]
    Connect { url: String, source: sqlx::Error },
    #[error("マイグレーションに失敗しました ({0}) / migration failed")]
    Migrate(String),
    #[error("データベースエラー ({0}) / database error")]
    Database(#[from] sqlx::Error),
    #[error("{0} / {1}")]
    Input(String, &'static str),
    #[error("{0} / I/O error")]
    Io(String),
}

impl From<HolidayError> for StartupError {
    fn from(err: HolidayError) -> Self {
        StartupError::Input(err.to_string(), "year out of range (1955-2099)")
    }
}

/// One problem with one field of what a person sent: the field's key (as the form and the
/// API name it), a stable code for programs and the Japanese message shown beside it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    /// required, too_long, format, future_date, too_old, not_a_choice, out_of_range,
    /// inconsistent, not_allowed (a town not served, a field that may not change),
    /// unchanged, conflict, shape (the API body's form: a list that is not one, an unknown
    /// member)
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    /// The messages about one field, for showing beside it (pages list them all above too).
    pub fn messages_for<'a>(errors: &'a [FieldError], field: &str) -> Vec<&'a str> {
        errors
            .iter()
            .filter(|e| e.field == field)
            .map(|e| e.message.as_str())
            .collect()
    }

    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

fn joined(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| e.message.as_str())
        .collect::<Vec<_>>()
        .join(" / ")
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// One error type for every handler. `code` is stable and machine-readable.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    InvalidMunicipalityCode(#[from] MunicipalityCodeError),
    #[error("団体コード {0} の市区町村は見つかりません")]
    MunicipalityNotFound(String),
    #[error("お探しのページは見つかりません")]
    NotFound,
    #[error("入力内容を確認してください: {0}")]
    BadRequest(String),
    #[error("サインインしてください")]
    Unauthenticated,
    #[error("一定時間操作がなかったため、サインインが切れました。もう一度サインインしてください")]
    SessionExpired,
    #[error("ログインIDまたはパスワード（または確認コード）が正しくありません")]
    InvalidCredentials,
    #[error("確認コード（二要素認証）を入力してください")]
    TotpRequired,
    #[error("続けるには、先にサインインの手続きを完了してください")]
    StepRequired(&'static str),
    #[error(
        "ログインに続けて失敗したため、このアカウントは一時的にロックされています。しばらくしてから、または管理者に連絡してください"
    )]
    Locked,
    #[error("短時間に多くのログイン失敗がありました。しばらくしてから再度お試しください")]
    RateLimited,
    #[error("この操作を行う権限がありません")]
    Forbidden,
    /// Forbidden, with what exactly (e.g. a town the person does not serve).
    #[error("{0}")]
    ForbiddenBecause(String),
    /// A child's record as sent breaks rules: each problem with its field.
    #[error("入力内容を確認してください: {}", joined(.0))]
    InvalidChild(Vec<FieldError>),
    #[error(
        "変更のもとにした版（version、1以上の整数）を指定してください。記録を取得し直してから送信してください"
    )]
    VersionRequired,
    /// Someone saved the record after the version the change was made on.
    #[error("{message}")]
    VersionConflict {
        message: String,
        current_version: i64,
        /// The changes made meanwhile, as the API shows them.
        others: serde_json::Value,
    },
    /// A registration that may duplicate a child already registered: the message says
    /// what may be known of it; `duplicate_of` is the record's id when the caller may open it.
    #[error("{message}")]
    PossibleDuplicate {
        message: String,
        duplicate_of: Option<String>,
    },
    #[error(
        "不正な送信元からの操作のため受け付けませんでした。ページを開き直してから操作してください"
    )]
    CsrfFailed,
    #[error("{0}")]
    Conflict(String),
    #[error("送信データが大きすぎます（{0} MBまで）。ファイルは分けて送ってください")]
    TooLarge(usize),
    #[error("システムで問題が発生しました。時間をおいて再度お試しください")]
    Internal(String),
    /// The gate refused a record (missing or out of reach; audited): the answer is ready.
    #[error("お探しの記録は見つかりません")]
    Refused(Refusal),
}

/// The gate's answer to a refused record: the 404 page (with break-glass where held) or
/// the API's 404 JSON, built where the session and the record kind are known.
#[derive(Debug)]
pub struct Refusal(pub Box<Response>);

/// Every `code` the API answers with; the OpenAPI description's `Error` lists them (a unit
/// test checks each error's code is here).
pub const API_ERROR_CODES: [&str; 21] = [
    "invalid_municipality_code",
    "municipality_not_found",
    "not_found",
    "bad_request",
    "unauthenticated",
    "session_expired",
    "invalid_credentials",
    "totp_required",
    "password_change_required",
    "totp_enrolment_required",
    "locked",
    "rate_limited",
    "forbidden",
    "invalid_child",
    "version_required",
    "version_conflict",
    "possible_duplicate",
    "csrf_failed",
    "conflict",
    "payload_too_large",
    "internal",
];

/// Every `code` of a [`FieldError`].
pub const FIELD_ERROR_CODES: [&str; 12] = [
    "required",
    "too_long",
    "format",
    "future_date",
    "too_old",
    "not_a_choice",
    "out_of_range",
    "inconsistent",
    "not_allowed",
    "unchanged",
    "conflict",
    "shape",
];

/// The API's error body, `{"error":{"code","message",…}}`, as the OpenAPI description
/// shows it (component `Error`).
pub struct ErrorBody;

impl utoipa::PartialSchema for ErrorBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
        let text = |description: &str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(description))
        };
        let field_error = ObjectBuilder::new()
            .property("field", text("項目のキー（本文の形の問題は空）"))
            .property(
                "code",
                text("機械可読のコード").enum_values(Some(FIELD_ERROR_CODES)),
            )
            .property("message", text("日本語のメッセージ"))
            .required("field")
            .required("code")
            .required("message");
        let error = ObjectBuilder::new()
            .property(
                "code",
                text("機械可読で不変のコード").enum_values(Some(API_ERROR_CODES)),
            )
            .property("message", text("日本語のメッセージ"))
            .property(
                "errors",
                ArrayBuilder::new()
                    .items(text(""))
                    .description(Some("invalid_child のとき：問題ごとの日本語のメッセージ")),
            )
            .property(
                "fields",
                ArrayBuilder::new().items(field_error).description(Some(
                    "invalid_child のとき：問題ごとの項目（field）、コード（code）とメッセージ",
                )),
            )
            .property(
                "duplicate_of",
                text("possible_duplicate のとき：呼び出した人が開ける、同じ児童らしい記録の ID"),
            )
            .property(
                "current_version",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .description(Some("version_conflict のとき：いまの版")),
            )
            .property(
                "others",
                ArrayBuilder::new()
                    .items(utoipa::openapi::Ref::from_schema_name("HistoryEntry"))
                    .description(Some(
                        "version_conflict のとき：送られた version の後の変更（古い順）",
                    )),
            )
            .required("code")
            .required("message");
        ObjectBuilder::new()
            .property("error", error)
            .required("error")
            .into()
    }
}

impl utoipa::ToSchema for ErrorBody {
    fn name() -> std::borrow::Cow<'static, str> {
        "Error".into()
    }
}

impl AppError {
    pub fn code(&self) -> &'static str {
        match self {
            AppError::InvalidMunicipalityCode(_) => "invalid_municipality_code",
            AppError::MunicipalityNotFound(_) => "municipality_not_found",
            AppError::NotFound => "not_found",
            AppError::BadRequest(_) => "bad_request",
            AppError::Unauthenticated => "unauthenticated",
            AppError::SessionExpired => "session_expired",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::TotpRequired => "totp_required",
            AppError::StepRequired(code) => code,
            AppError::Locked => "locked",
            AppError::RateLimited => "rate_limited",
            AppError::Forbidden | AppError::ForbiddenBecause(_) => "forbidden",
            AppError::InvalidChild(_) => "invalid_child",
            AppError::VersionRequired => "version_required",
            AppError::VersionConflict { .. } => "version_conflict",
            AppError::PossibleDuplicate { .. } => "possible_duplicate",
            AppError::CsrfFailed => "csrf_failed",
            AppError::Conflict(_) => "conflict",
            AppError::TooLarge(_) => "payload_too_large",
            AppError::Internal(_) => "internal",
            AppError::Refused(_) => "not_found",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::InvalidMunicipalityCode(_)
            | AppError::BadRequest(_)
            | AppError::InvalidChild(_)
            | AppError::VersionRequired => StatusCode::BAD_REQUEST,
            AppError::MunicipalityNotFound(_) | AppError::NotFound | AppError::Refused(_) => {
                StatusCode::NOT_FOUND
            }
            AppError::Unauthenticated
            | AppError::SessionExpired
            | AppError::InvalidCredentials
            | AppError::TotpRequired
            | AppError::StepRequired(_) => StatusCode::UNAUTHORIZED,
            AppError::Locked => StatusCode::LOCKED,
            AppError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            AppError::Forbidden | AppError::ForbiddenBecause(_) | AppError::CsrfFailed => {
                StatusCode::FORBIDDEN
            }
            AppError::Conflict(_)
            | AppError::VersionConflict { .. }
            | AppError::PossibleDuplicate { .. } => StatusCode::CONFLICT,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Members the API adds beside `code` and `message`.
    fn details(&self) -> Option<serde_json::Value> {
        match self {
            AppError::InvalidChild(errors) => Some(json!({
                "errors": errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>(),
                "fields": errors,
            })),
            AppError::VersionConflict {
                current_version,
                others,
                ..
            } => Some(json!({ "current_version": current_version, "others": others })),
            AppError::PossibleDuplicate {
                duplicate_of: Some(id),
                ..
            } => Some(json!({ "duplicate_of": id })),
            _ => None,
        }
    }

    fn log_if_internal(&self) {
        if let AppError::Internal(detail) = self {
            tracing::error!(error = %detail, "internal error");
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        AppError::Internal(err.to_string())
    }
}

impl From<askama::Error> for AppError {
    fn from(err: askama::Error) -> Self {
        AppError::Internal(err.to_string())
    }
}

/// Whether the request is the JSON API's (its refusals are JSON, not pages).
pub fn is_api(req: &axum::extract::Request) -> bool {
    req.uri().path().starts_with("/api/")
}

/// A refusal as the caller reads it: the JSON error for the API, a page otherwise.
pub fn refuse(api: bool, err: AppError) -> Response {
    if api {
        ApiError(err).into_response()
    } else {
        PageError(err).into_response()
    }
}

/// The error as the JSON API answers it: `{"error":{"code","message"}}`.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(err: E) -> Self {
        ApiError(err.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.log_if_internal();
        if let AppError::Refused(Refusal(answer)) = self.0 {
            return *answer;
        }
        let mut error = json!({"code": self.0.code(), "message": self.0.to_string()});
        if let (Some(serde_json::Value::Object(more)), Some(fields)) =
            (self.0.details(), error.as_object_mut())
        {
            fields.extend(more);
        }
        (self.0.status(), axum::Json(json!({ "error": error }))).into_response()
    }
}

/// The error as a person sees it: a Japanese page inside the normal layout.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl<E: Into<AppError>> From<E> for PageError {
    fn from(err: E) -> Self {
        PageError(err.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.0.log_if_internal();
        if let AppError::Refused(Refusal(answer)) = self.0 {
            return *answer;
        }
        let message = self.0.to_string();
        let page = crate::view::ErrorPage::new(self.0.status(), &message);
        let mut response = (self.0.status(), Html(page.render_or_plain())).into_response();
        // The guard, which knows who is signed in, renders it again in their frame.
        response
            .extensions_mut()
            .insert(crate::view::ErrorShown { message });
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_code_is_listed_for_the_api_description() {
        let every = [
            AppError::InvalidMunicipalityCode(MunicipalityCodeError::Malformed(String::new())),
            AppError::MunicipalityNotFound(String::new()),
            AppError::NotFound,
            AppError::BadRequest(String::new()),
            AppError::Unauthenticated,
            AppError::SessionExpired,
            AppError::InvalidCredentials,
            AppError::TotpRequired,
            AppError::StepRequired("password_change_required"),
            AppError::StepRequired("totp_enrolment_required"),
            AppError::Locked,
            AppError::RateLimited,
            AppError::Forbidden,
            AppError::ForbiddenBecause(String::new()),
            AppError::InvalidChild(Vec::new()),
            AppError::VersionRequired,
            AppError::VersionConflict {
                message: String::new(),
                current_version: 1,
                others: serde_json::Value::Null,
            },
            AppError::PossibleDuplicate {
                message: String::new(),
                duplicate_of: None,
            },
            AppError::CsrfFailed,
            AppError::Conflict(String::new()),
            AppError::TooLarge(1),
            AppError::Internal(String::new()),
        ];
        for error in &every {
            assert!(API_ERROR_CODES.contains(&error.code()), "{}", error.code());
        }
        let answered: std::collections::HashSet<&str> = every.iter().map(AppError::code).collect();
        assert_eq!(
            answered.len(),
            API_ERROR_CODES.len(),
            "a listed code no error has"
        );
    }
}
