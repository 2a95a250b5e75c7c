//! Signing in and out, shared by the pages and the JSON API: password, lockout and rate
//! limit, second factor, session rotation, and the audit entries for each.

use chrono::{DateTime, Duration, Utc};
use tsunagu_core::ids::AccountId;

use super::session::{self, CurrentSession, Stage};
use super::{password, repo, totp};
use crate::audit::{self, Action, Event, Outcome};
use crate::auth::repo::accounts::{self, Account};
use crate::db::Db;
use crate::error::AppError;

/// Five failures in a row lock an account for 15 minutes (MHLW guideline; issue text).
pub const LOCK_THRESHOLD: i64 = 5;
pub const LOCK_MINUTES: i64 = 15;
/// Failures from one client address within the window before it must wait.
pub const ADDRESS_LIMIT: i64 = 20;
pub const ADDRESS_WINDOW_MINUTES: i64 = 15;

pub struct Attempt<'a> {
    pub login_id: &'a str,
    pub password: &'a str,
    pub ctx: &'a audit::Context,
    pub now: DateTime<Utc>,
}

/// The result of a right password: the new session's cookie value and what it may do now.
pub struct FirstFactor {
    pub token: String,
    pub account: Account,
    pub stage: Stage,
}

async fn failures_from(db: &Db, client_addr: &str, now: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    repo::failures_from_address_since(
        db,
        client_addr,
        now - Duration::minutes(ADDRESS_WINDOW_MINUTES),
    )
    .await
}

async fn failures_for_login(
    db: &Db,
    login_id: &str,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    repo::failures_for_login_since(db, login_id, now - Duration::minutes(LOCK_MINUTES)).await
}

/// Deletes sessions past their absolute limit and sign-in failures older than any window.
/// Idempotent, so every instance may run it.
pub async fn purge_expired(
    db: &Db,
    now: DateTime<Utc>,
    absolute: Duration,
) -> Result<(), sqlx::Error> {
    repo::purge_sessions_created_before(db, now - absolute).await?;
    let window = Duration::minutes(ADDRESS_WINDOW_MINUTES.max(LOCK_MINUTES));
    repo::purge_failures_before(db, now - window).await
}

/// Checks the password. Never tells whether the login id exists: an unknown id, a wrong
/// password and an inactive account all answer `InvalidCredentials` after the same work.
pub async fn first_factor(db: &Db, attempt: &Attempt<'_>) -> Result<FirstFactor, AppError> {
    if failures_from(db, &attempt.ctx.client_addr, attempt.now).await? >= ADDRESS_LIMIT {
        let event = Event::new(Action::LoginFailed, Outcome::Denied).detail("rate_limited");
        audit::record_standalone(db, attempt.ctx, &event, attempt.now).await?;
        return Err(AppError::RateLimited);
    }
    let account = accounts::by_login_id(db, attempt.login_id).await?;
    let password_ok = password::verify(
        attempt.password,
        account.as_ref().map(|a| a.password_hash.as_str()),
    )
    .await;
    let folded_login = tsunagu_core::kana::fold_login_id(attempt.login_id);
    // Read before the transaction: in SQLite a read-then-write transaction can fail to upgrade.
    let unknown_locked = account.as_ref().is_none_or(|a| !a.active)
        && failures_for_login(db, &folded_login, attempt.now).await? >= LOCK_THRESHOLD;
    let mut tx = db.pool().begin().await?;
    let ctx = audit::Context {
        actor_account_id: account.as_ref().map(|a| a.id.to_string()),
        ..attempt.ctx.clone()
    };
    if unknown_locked {
        // An unknown id "locks" like a real one, so the lock answer reveals nothing.
        let event = Event::new(Action::LoginFailed, Outcome::Denied).detail("locked");
        audit::record(&mut tx, &ctx, &event, attempt.now).await?;
        tx.commit().await?;
        return Err(AppError::Locked);
    }
    match account {
        Some(account) if account.active && account.is_locked(attempt.now) => {
            let event = Event::new(Action::LoginFailed, Outcome::Denied)
                .resource("account", &account.id)
                .detail("locked");
            audit::record(&mut tx, &ctx, &event, attempt.now).await?;
            tx.commit().await?;
            Err(AppError::Locked)
        }
        Some(account) if account.active && password_ok => {
            // With two-factor on, only a right second factor clears the count: clearing it
            // here would let anyone who knows the password guess codes without ever locking.
            if !account.totp_enabled {
                accounts::clear_failed_logins(&mut tx, &account.id).await?;
            }
            let needs_more = account.totp_enabled
                || account.must_change_password
                || requires_two_factor(&mut tx, &account.id).await?;
            let stage = if needs_more {
                Stage::Password
            } else {
                Stage::Complete
            };
            let token = session::create(
                &mut tx,
                &account.id,
                stage,
                attempt.now,
                &ctx.client_addr,
                &ctx.user_agent,
            )
            .await?;
            let detail = if stage == Stage::Complete {
                "complete"
            } else {
                "password"
            };
            audit::record(
                &mut tx,
                &ctx,
                &Event::new(Action::Login, Outcome::Allowed)
                    .resource("account", &account.id)
                    .detail(detail),
                attempt.now,
            )
            .await?;
            tx.commit().await?;
            Ok(FirstFactor {
                token,
                account,
                stage,
            })
        }
        other => {
            repo::insert_failure(&mut tx, &ctx.client_addr, &folded_login, attempt.now).await?;
            let mut event = Event::new(Action::LoginFailed, Outcome::Failed);
            if let Some(account) = other.filter(|a| a.active) {
                event = event.resource("account", &account.id);
                let lock_until = attempt.now + Duration::minutes(LOCK_MINUTES);
                if accounts::record_failed_login(&mut tx, &account.id, LOCK_THRESHOLD, lock_until)
                    .await?
                {
                    audit::record(
                        &mut tx,
                        &ctx,
                        &Event::new(Action::AccountLocked, Outcome::Allowed)
                            .resource("account", &account.id),
                        attempt.now,
                    )
                    .await?;
                }
            }
            audit::record(&mut tx, &ctx, &event, attempt.now).await?;
            tx.commit().await?;
            Err(AppError::InvalidCredentials)
        }
    }
}

async fn requires_two_factor(
    conn: &mut sqlx::AnyConnection,
    account_id: &AccountId,
) -> Result<bool, sqlx::Error> {
    Ok(accounts::memberships(conn, account_id)
        .await?
        .iter()
        .any(|m| m.role.requires_two_factor()))
}

/// The second factor: a TOTP code (never the same step twice) or an unused recovery code.
/// On success the session moves to `Complete` under a new id.
pub async fn second_factor(
    db: &Db,
    current: &CurrentSession,
    code: &str,
    ctx: &audit::Context,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let account = &current.account;
    let secret = account
        .totp_secret
        .as_deref()
        .filter(|_| account.totp_enabled)
        .ok_or(AppError::TotpRequired)?;
    let mut tx = db.pool().begin().await?;
    let via = if let Some(step) = totp::verify_code(secret, code, now, account.totp_last_step) {
        accounts::advance_totp_step(&mut tx, &account.id, step)
            .await?
            .then_some("totp")
    } else {
        let hashed = totp::hash_recovery_code(code);
        accounts::use_recovery_code(&mut tx, &account.id, &hashed, now)
            .await?
            .then_some("recovery_code")
    };
    let Some(via) = via else {
        let lock_until = now + Duration::minutes(LOCK_MINUTES);
        if accounts::record_failed_login(&mut tx, &account.id, LOCK_THRESHOLD, lock_until).await? {
            audit::record(
                &mut tx,
                ctx,
                &Event::new(Action::AccountLocked, Outcome::Allowed)
                    .resource("account", &account.id),
                now,
            )
            .await?;
            session::delete(&mut tx, &current.token_hash).await?;
        }
        audit::record(
            &mut tx,
            ctx,
            &Event::new(Action::LoginFailed, Outcome::Failed)
                .resource("account", &account.id)
                .detail("second_factor"),
            now,
        )
        .await?;
        tx.commit().await?;
        return Err(AppError::InvalidCredentials);
    };
    accounts::clear_failed_logins(&mut tx, &account.id).await?;
    let token = session::rotate(&mut tx, &current.token_hash, Stage::Complete, now)
        .await?
        .ok_or(AppError::SessionExpired)?;
    audit::record(
        &mut tx,
        ctx,
        &Event::new(Action::Login, Outcome::Allowed)
            .resource("account", &account.id)
            .detail(via),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// Client addresses with failed sign-ins in the current window, most first: what an
/// administrator checks when people report being told to wait.
pub async fn recent_failures_by_address(
    db: &Db,
    now: DateTime<Utc>,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    repo::failures_by_address_since(db, now - Duration::minutes(ADDRESS_WINDOW_MINUTES)).await
}
