//! The identity tables: accounts with their memberships and recovery codes ([`accounts`]),
//! sessions and sign-in failures. The only place with their SQL.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use tsunagu_core::ids::AccountId;

pub mod accounts;

use crate::db::{Db, codec};

/// A session as it starts.
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub account_id: &'a AccountId,
    pub stage: &'a str,
    pub csrf_token: &'a str,
    pub now: DateTime<Utc>,
    pub client_addr: &'a str,
    pub user_agent: &'a str,
}

pub async fn insert_session(
    conn: &mut AnyConnection,
    new: &NewSession<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, account_id, stage, csrf_token, created_at, last_seen_at, client_addr, user_agent) \
         VALUES ($1, $2, $3, $4, $5, $5, $6, $7)",
    )
    .bind(new.token_hash)
    .bind(new.account_id.as_str())
    .bind(new.stage)
    .bind(new.csrf_token)
    .bind(codec::instant_to_db(new.now))
    .bind(new.client_addr)
    .bind(new.user_agent)
    .execute(conn)
    .await?;
    Ok(())
}

/// Gives the session a new id, stage and CSRF token; `false` when there was no such session.
pub async fn rotate_session(
    conn: &mut AnyConnection,
    old_token_hash: &str,
    new_token_hash: &str,
    stage: &str,
    csrf_token: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE sessions SET token_hash = $1, stage = $2, csrf_token = $3, last_seen_at = $4 WHERE token_hash = $5",
    )
    .bind(new_token_hash)
    .bind(stage)
    .bind(csrf_token)
    .bind(codec::instant_to_db(now))
    .bind(old_token_hash)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_session(conn: &mut AnyConnection, token_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete_all_sessions_of(
    conn: &mut AnyConnection,
    account_id: &AccountId,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM sessions WHERE account_id = $1")
        .bind(account_id.as_str())
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Ends every other session of the account (after a password change).
pub async fn delete_other_sessions_of(
    conn: &mut AnyConnection,
    account_id: &AccountId,
    keep_token_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND token_hash <> $2")
        .bind(account_id.as_str())
        .bind(keep_token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn touch_session(
    conn: &mut AnyConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
        .bind(codec::instant_to_db(now))
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// The session, its account and the account's memberships (one row each, at least one
/// row) and the number of open break-glass grants: `$1` token hash, `$2` now, `$3` true.
/// Every signed-in request runs it, so it reads the accounts, memberships, organisations
/// and break-glass tables and counts the unread notices in one round trip (declared in the
/// structure test).
pub const RESOLVE: &str = "SELECT s.stage, s.csrf_token, s.created_at, s.last_seen_at, a.id, a.login_id, a.display_name, a.kana, \
     a.password_hash, a.must_change_password, a.totp_secret, a.totp_enabled, a.totp_last_step, a.active, \
     a.failed_logins, a.locked_until, a.version, \
     (SELECT count(*) FROM break_glass_grants g WHERE g.account_id = a.id AND g.revoked_at IS NULL \
       AND g.expires_at > $2) AS open_grants, \
     (SELECT count(*) FROM notices n WHERE n.account_id = a.id AND n.read_at IS NULL) AS unread_notices, \
     m.organisation_id, o.id AS active_organisation, o.name AS organisation_name, o.municipality_code, \
     m.role, o.department \
     FROM sessions s JOIN accounts a ON a.id = s.account_id \
     LEFT JOIN memberships m ON m.account_id = a.id \
     LEFT JOIN organisations o ON o.id = m.organisation_id AND o.active = $3 \
     WHERE s.token_hash = $1 ORDER BY o.kana, m.role";

pub async fn resolve_rows(
    conn: &mut AnyConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Vec<AnyRow>, sqlx::Error> {
    sqlx::query(RESOLVE)
        .bind(token_hash)
        .bind(codec::instant_to_db(now))
        .bind(true)
        .fetch_all(conn)
        .await
}

/// Sessions past their absolute limit.
pub async fn purge_sessions_created_before(
    db: &Db,
    before: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE created_at < $1")
        .bind(codec::instant_to_db(before))
        .execute(db.pool())
        .await?;
    Ok(())
}

pub async fn failures_from_address_since(
    db: &Db,
    client_addr: &str,
    since: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let row = sqlx::query("SELECT count(*) FROM login_failures WHERE client_addr = $1 AND at > $2")
        .bind(client_addr)
        .bind(codec::instant_to_db(since))
        .fetch_one(db.pool())
        .await?;
    row.try_get(0)
}

pub async fn failures_for_login_since(
    db: &Db,
    login_id: &str,
    since: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let row = sqlx::query("SELECT count(*) FROM login_failures WHERE login_id = $1 AND at > $2")
        .bind(login_id)
        .bind(codec::instant_to_db(since))
        .fetch_one(db.pool())
        .await?;
    row.try_get(0)
}

pub async fn insert_failure(
    conn: &mut AnyConnection,
    client_addr: &str,
    login_id: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO login_failures (client_addr, login_id, at) VALUES ($1, $2, $3)")
        .bind(client_addr)
        .bind(login_id)
        .bind(codec::instant_to_db(at))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn purge_failures_before(db: &Db, before: DateTime<Utc>) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_failures WHERE at < $1")
        .bind(codec::instant_to_db(before))
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Client addresses with failures since `since`, most first (at most 50).
pub async fn failures_by_address_since(
    db: &Db,
    since: DateTime<Utc>,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT client_addr, count(*) AS failures FROM login_failures WHERE at > $1 \
         GROUP BY client_addr ORDER BY count(*) DESC, client_addr LIMIT 50",
    )
    .bind(codec::instant_to_db(since))
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// `(resource_type, resource_id)` of the account's grants that are still open: read with
/// the session (declared in the structure test; the grants are break_glass's to write).
pub async fn active_grants(
    conn: &mut AnyConnection,
    account_id: &AccountId,
    now: DateTime<Utc>,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT resource_type, resource_id FROM break_glass_grants \
         WHERE account_id = $1 AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(account_id.as_str())
    .bind(codec::instant_to_db(now))
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}
