//! Sessions in the database, so several app instances share them. The cookie holds a
//! random token; the table holds only its SHA-256, so a copy of the database opens nothing.

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};
use tsunagu_core::access::Actor;
use tsunagu_core::ids::{AccountId, OrganisationId};

use super::repo;
use crate::auth::repo::accounts::{self, Account, MembershipView};
use crate::db::{Db, codec};

pub const COOKIE_NAME: &str = "tsunagu_session";

/// How far a session got through sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The password was right; a second factor, a password change or an enrolment is due.
    Password,
    Complete,
}

impl Stage {
    fn as_str(self) -> &'static str {
        match self {
            Stage::Password => "password",
            Stage::Complete => "complete",
        }
    }
}

/// What the person must do before anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingStep {
    VerifyTotp,
    ChangePassword,
    EnrolTotp,
}

impl PendingStep {
    pub fn path(self) -> &'static str {
        match self {
            PendingStep::VerifyTotp => "/login/totp",
            PendingStep::ChangePassword => "/account/password",
            PendingStep::EnrolTotp => "/account/two-factor",
        }
    }

    pub fn api_code(self) -> &'static str {
        match self {
            PendingStep::VerifyTotp => "totp_required",
            PendingStep::ChangePassword => "password_change_required",
            PendingStep::EnrolTotp => "totp_enrolment_required",
        }
    }
}

/// The signed-in person for this request.
#[derive(Debug, Clone)]
pub struct CurrentSession {
    pub token_hash: String,
    pub stage: Stage,
    pub csrf_token: String,
    /// Notices not yet read (the header shows the count).
    pub unread_notices: i64,
    pub account: Account,
    pub memberships: Vec<MembershipView>,
    pub actor: Actor,
}

impl CurrentSession {
    pub fn requires_two_factor(&self) -> bool {
        self.account.totp_enabled
            || self
                .memberships
                .iter()
                .any(|m| m.role.requires_two_factor())
    }

    pub fn pending_step(&self) -> Option<PendingStep> {
        if self.stage == Stage::Password && self.account.totp_enabled {
            return Some(PendingStep::VerifyTotp);
        }
        if self.account.must_change_password {
            return Some(PendingStep::ChangePassword);
        }
        if self.stage == Stage::Password && self.requires_two_factor() {
            return Some(PendingStep::EnrolTotp);
        }
        None
    }

    /// The organisation acting, for the audit trail: the first membership.
    pub fn organisation_id(&self) -> Option<&OrganisationId> {
        self.memberships.first().map(|m| &m.organisation_id)
    }

    /// Every organisation the person belongs to.
    pub fn organisation_ids(&self) -> Vec<OrganisationId> {
        self.memberships
            .iter()
            .map(|m| m.organisation_id.clone())
            .collect()
    }
}

pub use crate::state::Lifetimes;

pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// 256 bits from the OS random source (two v4 UUIDs carry 244 random bits; four give margin).
pub fn random_token() -> String {
    (0..2)
        .map(|_| uuid::Uuid::new_v4().simple().to_string())
        .collect()
}

/// Starts a new session (a new id every time: the id rotates at each step of sign-in).
/// Returns the cookie value.
pub async fn create(
    conn: &mut AnyConnection,
    account_id: &AccountId,
    stage: Stage,
    now: DateTime<Utc>,
    client_addr: &str,
    user_agent: &str,
) -> Result<String, sqlx::Error> {
    let token = random_token();
    let user_agent: String = user_agent.chars().take(300).collect();
    repo::insert_session(
        conn,
        &repo::NewSession {
            token_hash: &hash_token(&token),
            account_id,
            stage: stage.as_str(),
            csrf_token: &random_token(),
            now,
            client_addr,
            user_agent: &user_agent,
        },
    )
    .await?;
    Ok(token)
}

/// Moves a session on to the next stage under a new id; the old id stops working at once.
pub async fn rotate(
    conn: &mut AnyConnection,
    old_token_hash: &str,
    stage: Stage,
    now: DateTime<Utc>,
) -> Result<Option<String>, sqlx::Error> {
    let token = random_token();
    let moved = repo::rotate_session(
        conn,
        old_token_hash,
        &hash_token(&token),
        stage.as_str(),
        &random_token(),
        now,
    )
    .await?;
    Ok(moved.then_some(token))
}

pub use super::repo::{delete_all_sessions_of as delete_all_of, delete_session as delete};

/// Why a cookie did not give a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    Unknown,
    Expired,
}

/// Looks the token up, enforces idle and absolute limits (deleting an expired session),
/// and touches `last_seen_at` at most once a minute to keep reads cheap.
pub async fn resolve(
    db: &Db,
    token: &str,
    now: DateTime<Utc>,
    lifetimes: Lifetimes,
) -> Result<Result<CurrentSession, Miss>, sqlx::Error> {
    let token_hash = hash_token(token);
    let mut conn = db.pool().acquire().await?;
    // The session, its account and the account's memberships (one row each, at least one
    // row) in one round trip: every signed-in request starts here. Break-glass grants are
    // rare, so only their number comes along; they are read when there are any.
    let rows = repo::resolve_rows(&mut conn, &token_hash, now).await?;
    let Some(row) = rows.first() else {
        return Ok(Err(Miss::Unknown));
    };
    let created = codec::get_instant(row, "created_at")?;
    let last_seen = codec::get_instant(row, "last_seen_at")?;
    if now - last_seen > lifetimes.idle || now - created > lifetimes.absolute {
        delete(&mut conn, &token_hash).await?;
        return Ok(Err(Miss::Expired));
    }
    let account = accounts::from_row(row)?;
    if !account.active {
        delete(&mut conn, &token_hash).await?;
        return Ok(Err(Miss::Unknown));
    }
    if now - last_seen > Duration::minutes(1) {
        repo::touch_session(&mut conn, &token_hash, now).await?;
    }
    let mut memberships = Vec::with_capacity(rows.len());
    for member in &rows {
        // No membership, or one in an organisation since closed: nothing to add.
        if member
            .try_get::<Option<String>, _>("active_organisation")?
            .is_some()
        {
            memberships.push(accounts::membership_from_row(member)?);
        }
    }
    let open_grants: i64 = row.try_get("open_grants")?;
    let grants = if open_grants > 0 {
        repo::active_grants(&mut conn, &account.id, now).await?
    } else {
        Vec::new()
    };
    let stage: String = row.try_get("stage")?;
    let actor = Actor {
        account_id: account.id.clone(),
        memberships: memberships
            .iter()
            .filter_map(MembershipView::to_membership)
            .collect(),
        break_glass: grants,
    };
    Ok(Ok(CurrentSession {
        token_hash,
        stage: if stage == "complete" {
            Stage::Complete
        } else {
            Stage::Password
        },
        csrf_token: row.try_get("csrf_token")?,
        unread_notices: row.try_get("unread_notices")?,
        account,
        memberships,
        actor,
    }))
}

impl crate::view::Viewer for CurrentSession {
    fn signing_in(&self) -> bool {
        self.pending_step().is_some()
    }

    fn display_name(&self) -> &str {
        &self.account.display_name
    }

    fn unread_notices(&self) -> i64 {
        self.unread_notices
    }

    /// A family belongs to no office: their membership is held in their town's families'
    /// organisation, and the header says only that they are family.
    fn organisation_name(&self) -> &str {
        match self.memberships.first() {
            Some(m) if m.role == tsunagu_core::access::Role::Guardian => "ご家族",
            Some(m) => m.organisation_name.as_str(),
            None => "",
        }
    }

    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }

    fn actor(&self) -> &tsunagu_core::access::Actor {
        &self.actor
    }
}

/// The session cookie's name. Served over https it carries the `__Host-` prefix: the
/// browser then keeps it only when set Secure, for this host, on `/` — no other host of
/// the domain can plant or shadow it.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_COOKIE_NAME
    } else {
        COOKIE_NAME
    }
}

pub const SECURE_COOKIE_NAME: &str = "__Host-tsunagu_session";

/// The `Set-Cookie` value for a session token (or for removing it).
pub fn cookie(token: Option<&str>, secure: bool) -> String {
    let name = cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    match token {
        Some(token) => format!("{name}={token}; Path=/; HttpOnly; SameSite=Lax{secure}"),
        None => format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    }
}

/// The session token from a request's `Cookie` headers: only the cookie of the name in
/// use (over https, a cookie without the prefix is not ours).
pub fn token_from_headers(headers: &axum::http::HeaderMap, secure: bool) -> Option<String> {
    let wanted = cookie_name(secure);
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == wanted && !value.is_empty())
        .map(|(_, value)| value.to_string())
}

#[cfg(test)]
mod tests {
    use crate::db::plans;

    #[test]
    fn over_https_the_cookie_has_the_host_prefix_and_only_that_cookie_is_read() {
        let set = super::cookie(Some("abc"), true);
        assert!(set.starts_with("__Host-tsunagu_session=abc;"), "{set}");
        assert!(set.contains("; Secure") && set.contains("Path=/") && !set.contains("Domain"));
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            axum::http::HeaderValue::from_static("tsunagu_session=planted"),
        );
        assert_eq!(super::token_from_headers(&headers, true), None);
        assert_eq!(
            super::token_from_headers(&headers, false).as_deref(),
            Some("planted")
        );
        headers.insert(
            axum::http::header::COOKIE,
            axum::http::HeaderValue::from_static(
                "tsunagu_session=planted; __Host-tsunagu_session=ours",
            ),
        );
        assert_eq!(
            super::token_from_headers(&headers, true).as_deref(),
            Some("ours")
        );
        assert!(super::cookie(None, false).starts_with("tsunagu_session=;"));
    }

    /// Every signed-in request runs this: each table through an index (a first version
    /// joined every organisation on each request).
    #[tokio::test]
    async fn every_request_finds_its_session_through_indexes() {
        let (_dir, db) = plans::database().await;
        let plan = plans::plan(&db, crate::auth::repo::RESOLVE).await;
        assert!(plans::full_scans(&plan, &[]).is_empty(), "{plan:?}");
    }
}
