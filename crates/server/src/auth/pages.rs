//! The sign-in pages: password, second factor, forced password change, two-factor
//! enrolment with recovery codes, sign-out (here and everywhere). The personal home is
//! `features::home`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, RawForm, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::guard::{Access, Routes, audit_context};
use super::login::{self, Attempt};
use super::session::{self, CurrentSession, PendingStep, Stage};
use super::{password, totp};
use crate::audit::{self, Action, Event, Outcome};
use crate::auth::repo::accounts;
use crate::error::{AppError, PageError};
use crate::state::AppState;
use crate::view::Chrome;
use crate::web::params;

pub fn routes() -> Routes {
    Routes::new()
        .get("/login", Access::Public, login_form)
        .post("/login", Access::Public, login_submit)
        .get("/login/totp", Access::FirstFactor, totp_form)
        .post("/login/totp", Access::FirstFactor, totp_submit)
        .get("/account/password", Access::FirstFactor, password_form)
        .post("/account/password", Access::FirstFactor, password_submit)
        .get("/account/two-factor", Access::FirstFactor, enrol_form)
        .post("/account/two-factor", Access::FirstFactor, enrol_submit)
        .post("/logout", Access::FirstFactor, logout)
        .post("/logout/everywhere", Access::SignedIn, logout_everywhere)
}

/// Sets or clears the session cookie on a response.
pub fn with_cookie(mut response: Response, token: Option<&str>, secure: bool) -> Response {
    if let Ok(value) = HeaderValue::from_str(&session::cookie(token, secure)) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// Only our own paths are followed after sign-in: never another site.
fn safe_next(next: Option<&String>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.clone(),
        _ => "/home".into(),
    }
}

/// Where a session goes next: the pending step, or where the person wanted to go.
fn continue_to(current_step: Option<PendingStep>, next: &str) -> Redirect {
    Redirect::to(current_step.map(PendingStep::path).unwrap_or(next))
}

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    chrome: Chrome,
    login_id: String,
    next: String,
    error: Option<String>,
    notice: Option<&'static str>,
}

async fn login_form(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Html<String>, PageError> {
    let notice = if q.contains_key("expired") {
        Some("一定時間操作がなかったため、サインインが切れました。もう一度サインインしてください。")
    } else if q.contains_key("signed_out") {
        Some("サインアウトしました。")
    } else {
        None
    };
    let page = LoginPage {
        chrome: Chrome::new("サインイン", state.settings.demo),
        login_id: String::new(),
        next: safe_next(q.get("next")),
        error: None,
        notice,
    };
    Ok(Html(page.render()?))
}

async fn login_submit(
    State(state): State<AppState>,
    parts: Parts,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let login_id = form.get("login_id").cloned().unwrap_or_default();
    let next = safe_next(form.get("next"));
    let ctx = audit_context(&parts, None);
    let attempt = Attempt {
        login_id: &login_id,
        password: form.get("password").map(String::as_str).unwrap_or_default(),
        ctx: &ctx,
        now: state.clock.now(),
    };
    match login::first_factor(&state.db, &attempt).await {
        Ok(done) => {
            let step = if done.stage == Stage::Complete {
                None
            } else if done.account.totp_enabled {
                Some(PendingStep::VerifyTotp)
            } else if done.account.must_change_password {
                Some(PendingStep::ChangePassword)
            } else {
                Some(PendingStep::EnrolTotp)
            };
            let target = match step {
                // After the extra steps, /home; the original target is kept only for a plain login.
                Some(step) => step.path().to_string(),
                None => next,
            };
            Ok(with_cookie(
                Redirect::to(&target).into_response(),
                Some(&done.token),
                state.settings.secure_cookies(),
            ))
        }
        Err(err @ (AppError::InvalidCredentials | AppError::Locked | AppError::RateLimited)) => {
            let page = LoginPage {
                chrome: Chrome::new("サインイン", state.settings.demo),
                login_id,
                next,
                error: Some(err.to_string()),
                notice: None,
            };
            Ok((err.status(), Html(page.render()?)).into_response())
        }
        Err(err) => Err(err.into()),
    }
}

#[derive(Template)]
#[template(path = "auth/totp.html")]
struct TotpPage {
    chrome: Chrome,
    csrf_token: String,
    error: Option<String>,
    demo_code: Option<String>,
}

fn demo_code(state: &AppState, s: &CurrentSession) -> Option<String> {
    if !state.settings.demo {
        return None;
    }
    s.account
        .totp_secret
        .as_deref()
        .and_then(|secret| totp::current_code(secret, state.clock.now()))
}

async fn totp_form(
    State(state): State<AppState>,
    current: CurrentSession,
) -> Result<Response, PageError> {
    if current.pending_step() != Some(PendingStep::VerifyTotp) {
        return Ok(continue_to(current.pending_step(), "/home").into_response());
    }
    let page = TotpPage {
        chrome: Chrome::new("確認コードの入力", state.settings.demo),
        csrf_token: current.csrf_token.clone(),
        error: None,
        demo_code: demo_code(&state, &current),
    };
    Ok(Html(page.render()?).into_response())
}

async fn totp_submit(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    if current.pending_step() != Some(PendingStep::VerifyTotp) {
        return Ok(continue_to(current.pending_step(), "/home").into_response());
    }
    let form = params::form(&body)?;
    let code = form.get("code").cloned().unwrap_or_default();
    let ctx = audit_context(&parts, Some(&current));
    match login::second_factor(&state.db, &current, &code, &ctx, state.clock.now()).await {
        Ok(token) => {
            let next = if current.account.must_change_password {
                PendingStep::ChangePassword.path()
            } else {
                "/home"
            };
            Ok(with_cookie(
                Redirect::to(next).into_response(),
                Some(&token),
                state.settings.secure_cookies(),
            ))
        }
        Err(AppError::InvalidCredentials) => {
            let page = TotpPage {
                chrome: Chrome::new("確認コードの入力", state.settings.demo),
                csrf_token: current.csrf_token.clone(),
                error: Some("確認コードが正しくないか、既に使われています。新しいコードを入力してください。".into()),
                demo_code: demo_code(&state, &current),
            };
            Ok((axum::http::StatusCode::UNAUTHORIZED, Html(page.render()?)).into_response())
        }
        Err(err) => Err(err.into()),
    }
}

#[derive(Template)]
#[template(path = "auth/password.html")]
struct PasswordPage {
    chrome: Chrome,
    csrf_token: String,
    forced: bool,
    min_length: usize,
    error: Option<String>,
}

fn password_page(
    state: &AppState,
    current: &CurrentSession,
    error: Option<String>,
) -> PasswordPage {
    PasswordPage {
        chrome: Chrome::for_session("パスワードの変更", state.settings.demo, Some(current)),
        csrf_token: current.csrf_token.clone(),
        forced: current.account.must_change_password,
        min_length: if current.requires_two_factor() { 8 } else { 13 },
        error,
    }
}

async fn password_form(
    State(state): State<AppState>,
    current: CurrentSession,
) -> Result<Response, PageError> {
    if current.pending_step() == Some(PendingStep::VerifyTotp) {
        return Ok(Redirect::to(PendingStep::VerifyTotp.path()).into_response());
    }
    Ok(Html(password_page(&state, &current, None).render()?).into_response())
}

async fn password_submit(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    if current.pending_step() == Some(PendingStep::VerifyTotp) {
        return Ok(Redirect::to(PendingStep::VerifyTotp.path()).into_response());
    }
    let form = params::form(&body)?;
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let fail = |message: String| -> Result<Response, PageError> {
        Ok((
            axum::http::StatusCode::BAD_REQUEST,
            Html(password_page(&state, &current, Some(message)).render()?),
        )
            .into_response())
    };
    if !password::verify(
        get("current_password"),
        Some(&current.account.password_hash),
    )
    .await
    {
        return fail("現在のパスワードが正しくありません。".into());
    }
    let new = get("new_password");
    if new != get("confirm_password") {
        return fail("新しいパスワードと確認用の入力が一致しません。".into());
    }
    if new == get("current_password") {
        return fail("現在と同じパスワードには変更できません。".into());
    }
    let rules = password::PasswordContext {
        two_factor: current.requires_two_factor(),
        login_id: &current.account.login_id,
        display_name: &current.account.display_name,
    };
    if let Err(problem) = password::check_new_password(new, &rules) {
        return fail(problem.to_string());
    }
    let hash = password::hash(new)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let now = state.clock.now();
    let ctx = audit_context(&parts, Some(&current));
    let mut tx = state.db.pool().begin().await.map_err(AppError::from)?;
    accounts::set_password(&mut tx, &current.account.id, &hash, false, now)
        .await
        .map_err(AppError::from)?;
    // Other sessions of this account end: whoever knew the old password is out.
    super::repo::delete_other_sessions_of(&mut tx, &current.account.id, &current.token_hash)
        .await
        .map_err(AppError::from)?;
    audit::record(
        &mut tx,
        &ctx,
        &Event::new(Action::PasswordChange, Outcome::Allowed)
            .resource("account", &current.account.id)
            .fields(["password"]),
        now,
    )
    .await
    .map_err(AppError::from)?;
    tx.commit().await.map_err(AppError::from)?;
    let next = if current.stage == Stage::Password
        && current.requires_two_factor()
        && !current.account.totp_enabled
    {
        PendingStep::EnrolTotp.path()
    } else {
        "/home?password_changed=1"
    };
    if current.stage == Stage::Password && !current.requires_two_factor() {
        // A guardian without two-factor is fully signed in once the password is theirs.
        let mut conn = state.db.pool().acquire().await.map_err(AppError::from)?;
        let token = session::rotate(&mut conn, &current.token_hash, Stage::Complete, now)
            .await?
            .ok_or(AppError::SessionExpired)?;
        return Ok(with_cookie(
            Redirect::to(next).into_response(),
            Some(&token),
            state.settings.secure_cookies(),
        ));
    }
    Ok(Redirect::to(next).into_response())
}

#[derive(Template)]
#[template(path = "auth/enrol.html")]
struct EnrolPage {
    chrome: Chrome,
    csrf_token: String,
    qr_svg: String,
    secret: String,
    error: Option<String>,
    demo_code: Option<String>,
}

#[derive(Template)]
#[template(path = "auth/recovery_codes.html")]
struct RecoveryCodesPage {
    chrome: Chrome,
    codes: Vec<String>,
}

/// Shows a new secret (kept pending until the first code confirms it).
async fn enrol_form(
    State(state): State<AppState>,
    current: CurrentSession,
) -> Result<Response, PageError> {
    if let Some(step) = current
        .pending_step()
        .filter(|s| *s != PendingStep::EnrolTotp)
    {
        return Ok(Redirect::to(step.path()).into_response());
    }
    let secret = totp::generate_secret();
    let mut conn = state.db.pool().acquire().await.map_err(AppError::from)?;
    if current.account.totp_enabled {
        // Re-enrolling from the home page replaces the old secret only once confirmed;
        // here we keep it simple: an enabled account must be reset by an administrator.
        return Ok(Redirect::to("/home").into_response());
    }
    accounts::set_pending_totp(&mut conn, &current.account.id, &secret)
        .await
        .map_err(AppError::from)?;
    Ok(Html(enrol_page(&state, &current, &secret, None).render()?).into_response())
}

fn enrol_page(
    state: &AppState,
    current: &CurrentSession,
    secret: &str,
    error: Option<String>,
) -> EnrolPage {
    let uri = totp::otpauth_uri(secret, &current.account.login_id, "つなぐ");
    EnrolPage {
        chrome: Chrome::new("二要素認証の設定", state.settings.demo),
        csrf_token: current.csrf_token.clone(),
        qr_svg: totp::qr_svg(&uri),
        secret: secret.to_string(),
        error,
        demo_code: state
            .settings
            .demo
            .then(|| totp::current_code(secret, state.clock.now()))
            .flatten(),
    }
}

async fn enrol_submit(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    if current.account.totp_enabled {
        return Ok(Redirect::to("/home").into_response());
    }
    let form = params::form(&body)?;
    let Some(secret) = current.account.totp_secret.clone() else {
        return Ok(Redirect::to(PendingStep::EnrolTotp.path()).into_response());
    };
    let now = state.clock.now();
    let Some(step) = totp::verify_code(
        &secret,
        form.get("code").map(String::as_str).unwrap_or_default(),
        now,
        None,
    ) else {
        let page = enrol_page(
            &state,
            &current,
            &secret,
            Some(
                "確認コードが正しくありません。アプリに表示されている6桁の数字を入力してください。"
                    .into(),
            ),
        );
        return Ok((axum::http::StatusCode::BAD_REQUEST, Html(page.render()?)).into_response());
    };
    let codes = totp::generate_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| totp::hash_recovery_code(c)).collect();
    let ctx = audit_context(&parts, Some(&current));
    let mut tx = state.db.pool().begin().await.map_err(AppError::from)?;
    accounts::enable_totp(&mut tx, &current.account.id, step)
        .await
        .map_err(AppError::from)?;
    accounts::replace_recovery_codes(&mut tx, &current.account.id, &hashes)
        .await
        .map_err(AppError::from)?;
    audit::record(
        &mut tx,
        &ctx,
        &Event::new(Action::TotpEnrolled, Outcome::Allowed)
            .resource("account", &current.account.id),
        now,
    )
    .await
    .map_err(AppError::from)?;
    let token = session::rotate(&mut tx, &current.token_hash, Stage::Complete, now)
        .await?
        .ok_or(AppError::SessionExpired)?;
    tx.commit().await.map_err(AppError::from)?;
    let page = RecoveryCodesPage {
        chrome: Chrome::new("回復コード", state.settings.demo),
        codes,
    };
    Ok(with_cookie(
        Html(page.render()?).into_response(),
        Some(&token),
        state.settings.secure_cookies(),
    ))
}

async fn logout(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let ctx = audit_context(&parts, Some(&current));
    let mut tx = state.db.pool().begin().await.map_err(AppError::from)?;
    session::delete(&mut tx, &current.token_hash)
        .await
        .map_err(AppError::from)?;
    audit::record(
        &mut tx,
        &ctx,
        &Event::new(Action::Logout, Outcome::Allowed).resource("account", &current.account.id),
        now,
    )
    .await
    .map_err(AppError::from)?;
    tx.commit().await.map_err(AppError::from)?;
    Ok(with_cookie(
        Redirect::to("/login?signed_out=1").into_response(),
        None,
        state.settings.secure_cookies(),
    ))
}

async fn logout_everywhere(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let ctx = audit_context(&parts, Some(&current));
    let mut tx = state.db.pool().begin().await.map_err(AppError::from)?;
    let ended = session::delete_all_of(&mut tx, &current.account.id)
        .await
        .map_err(AppError::from)?;
    audit::record(
        &mut tx,
        &ctx,
        &Event::new(Action::Logout, Outcome::Allowed)
            .resource("account", &current.account.id)
            .detail(format!("everywhere: {ended} sessions")),
        now,
    )
    .await
    .map_err(AppError::from)?;
    tx.commit().await.map_err(AppError::from)?;
    Ok(with_cookie(
        Redirect::to("/login?signed_out=1").into_response(),
        None,
        state.settings.secure_cookies(),
    ))
}
