//! `POST /api/v1/session`, `DELETE /api/v1/session`, `GET /api/v1/me`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::guard::{Access, Routes, audit_context};
use super::login::{self, Attempt};
use super::pages::with_cookie;
use super::session::{self, CurrentSession, PendingStep};
use crate::audit::{self, Action, Event, Outcome};
use crate::auth::repo::accounts::MembershipView;
use crate::error::{ApiError, AppError, ErrorBody};
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::new()
        .post("/api/v1/session", Access::Public, create)
        .delete("/api/v1/session", Access::FirstFactor, destroy)
        .get("/api/v1/me", Access::SignedIn, me)
}

#[derive(Deserialize, utoipa::ToSchema)]
struct Credentials {
    /// ログインID
    login: String,
    password: String,
    /// 二要素認証を使うアカウントのとき、いまの確認コード（6桁）
    #[serde(default)]
    totp: Option<String>,
}

/// サインインしている人と、その所属・役割
#[derive(Serialize, utoipa::ToSchema)]
struct Me {
    id: String,
    login: String,
    display_name: String,
    kana: String,
    two_factor: bool,
    memberships: Vec<MembershipView>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct SessionCreated {
    /// 変更の要求（POST / PATCH / DELETE）に X-CSRF-Token として付けるトークン
    csrf_token: String,
    me: Me,
}

fn me_of(s: &CurrentSession) -> Me {
    Me {
        id: s.account.id.to_string(),
        login: s.account.login_id.clone(),
        display_name: s.account.display_name.clone(),
        kana: s.account.kana.clone(),
        two_factor: s.account.totp_enabled,
        memberships: s.memberships.clone(),
    }
}

/// サインインする
///
/// パスワードと、二要素認証を使うアカウントではいまの確認コードを、1回の要求で送ります。成功すると Cookie（tsunagu_session）でセッションを返し、本文に csrf_token を返します。
#[utoipa::path(post, path = "/api/v1/session", tag = "session", operation_id = "signIn",
    request_body(content = Credentials, content_type = "application/json"),
    responses(
        (status = 200, description = "サインインしました", body = SessionCreated,
            headers(("Set-Cookie" = String, description = "tsunagu_session（HttpOnly）"))),
        (status = 400, description = "login と password を含むJSONでない（bad_request）", body = ErrorBody),
        (status = 401, description = "ログインIDかパスワードか確認コードの誤り（invalid_credentials）、確認コードがない（totp_required）、先にパスワードの変更か二要素認証の設定が要る（password_change_required / totp_enrolment_required）", body = ErrorBody),
        (status = 423, description = "続けて失敗したため一時的にロック（locked）", body = ErrorBody),
        (status = 429, description = "短時間に多くの失敗（rate_limited）", body = ErrorBody),
    ))]
async fn create(
    State(state): State<AppState>,
    parts: Parts,
    body: Bytes,
) -> Result<Response, ApiError> {
    let credentials: Credentials = serde_json::from_slice(&body).map_err(|_| {
        AppError::BadRequest("login と password を含むJSONを送信してください".into())
    })?;
    let ctx = audit_context(&parts, None);
    let now = state.clock.now();
    let attempt = Attempt {
        login_id: &credentials.login,
        password: &credentials.password,
        ctx: &ctx,
        now,
    };
    let first = login::first_factor(&state.db, &attempt).await?;
    let lifetimes = state.settings.lifetimes();
    let mut token = first.token;
    let mut current = session::resolve(&state.db, &token, now, lifetimes)
        .await?
        .map_err(|_| AppError::SessionExpired)?;
    if current.pending_step() == Some(PendingStep::VerifyTotp) {
        let Some(code) = credentials.totp.filter(|c| !c.trim().is_empty()) else {
            // The half-open session is of no use to an API client: end it.
            let mut conn = state.db.pool().acquire().await?;
            session::delete(&mut conn, &current.token_hash).await?;
            return Err(AppError::TotpRequired.into());
        };
        let ctx = audit_context(&parts, Some(&current));
        token = match login::second_factor(&state.db, &current, &code, &ctx, now).await {
            Ok(token) => token,
            Err(err) => {
                // Nobody holds this half-open session's token: end it.
                let mut conn = state.db.pool().acquire().await?;
                session::delete(&mut conn, &current.token_hash).await?;
                return Err(err.into());
            }
        };
        current = session::resolve(&state.db, &token, now, lifetimes)
            .await?
            .map_err(|_| AppError::SessionExpired)?;
    }
    if let Some(step) = current.pending_step() {
        let mut conn = state.db.pool().acquire().await?;
        session::delete(&mut conn, &current.token_hash).await?;
        return Err(AppError::StepRequired(step.api_code()).into());
    }
    let body = SessionCreated {
        csrf_token: current.csrf_token.clone(),
        me: me_of(&current),
    };
    Ok(with_cookie(
        Json(body).into_response(),
        Some(&token),
        state.settings.secure_cookies(),
    ))
}

/// サインアウトする
#[utoipa::path(delete, path = "/api/v1/session", tag = "session", operation_id = "signOut",
    responses((status = 204, description = "サインアウトしました（Cookie を消します）")))]
async fn destroy(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let ctx = audit_context(&parts, Some(&current));
    let mut tx = state.db.pool().begin().await?;
    session::delete(&mut tx, &current.token_hash).await?;
    audit::record(
        &mut tx,
        &ctx,
        &Event::new(Action::Logout, Outcome::Allowed).resource("account", &current.account.id),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(with_cookie(
        axum::http::StatusCode::NO_CONTENT.into_response(),
        None,
        state.settings.secure_cookies(),
    ))
}

/// サインインしている人
#[utoipa::path(get, path = "/api/v1/me", tag = "session", operation_id = "getMe",
    responses((status = 200, description = "サインインしている人", body = Me)))]
async fn me(current: CurrentSession) -> Json<Me> {
    Json(me_of(&current))
}
