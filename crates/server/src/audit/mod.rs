//! The append-only, hash-chained audit trail (MHLW guideline 6.0: who touched which
//! record, when; protected against deletion and tampering).
//!
//! Every entry stores the hash of the previous one, and its own hash covers all of its
//! columns (see [`chain`] for the exact canonical form). `audit_head` holds the last
//! sequence number and hash, so deleting the newest entries is detected too.
//!
//! [`record`] runs inside the caller's transaction: the entry commits or rolls back with
//! the change it describes.

pub mod batch;
pub mod chain;
pub mod search;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use crate::db::{Db, codec};

pub use chain::{
    ChainProblem, Checkpoint, ProblemKind, VerifyReport, check_checkpoints, parse_checkpoints,
    verify, verify_command, write_checkpoint,
};
pub use search::{AuditEntry, AuditQuery, search};

/// What was done (or attempted). Stored as the snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Login,
    LoginFailed,
    Logout,
    Read,
    Create,
    Update,
    Delete,
    Export,
    Import,
    BreakGlass,
    BreakGlassRevoked,
    RoleChange,
    PasswordChange,
    TotpEnrolled,
    TotpReset,
    AccountLocked,
    AccountUnlocked,
    /// An attempt refused by the policy.
    Denied,
    SessionExpired,
}

impl Action {
    pub const ALL: [Action; 19] = [
        Action::Login,
        Action::LoginFailed,
        Action::Logout,
        Action::Read,
        Action::Create,
        Action::Update,
        Action::Delete,
        Action::Export,
        Action::Import,
        Action::BreakGlass,
        Action::BreakGlassRevoked,
        Action::RoleChange,
        Action::PasswordChange,
        Action::TotpEnrolled,
        Action::TotpReset,
        Action::AccountLocked,
        Action::AccountUnlocked,
        Action::Denied,
        Action::SessionExpired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::LoginFailed => "login_failed",
            Action::Logout => "logout",
            Action::Read => "read",
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Export => "export",
            Action::Import => "import",
            Action::BreakGlass => "break_glass",
            Action::BreakGlassRevoked => "break_glass_revoked",
            Action::RoleChange => "role_change",
            Action::PasswordChange => "password_change",
            Action::TotpEnrolled => "totp_enrolled",
            Action::TotpReset => "totp_reset",
            Action::AccountLocked => "account_locked",
            Action::AccountUnlocked => "account_unlocked",
            Action::Denied => "denied",
            Action::SessionExpired => "session_expired",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == text)
    }

    /// The name an administrator reads on the audit page and in the CSV.
    pub fn label_ja(self) -> &'static str {
        match self {
            Action::Login => "ログイン",
            Action::LoginFailed => "ログイン失敗",
            Action::Logout => "ログアウト",
            Action::Read => "閲覧",
            Action::Create => "登録",
            Action::Update => "更新",
            Action::Delete => "削除",
            Action::Export => "出力",
            Action::Import => "取込",
            Action::BreakGlass => "緊急閲覧",
            Action::BreakGlassRevoked => "緊急閲覧の取消",
            Action::RoleChange => "権限変更",
            Action::PasswordChange => "パスワード変更",
            Action::TotpEnrolled => "二要素認証の登録",
            Action::TotpReset => "二要素認証のリセット",
            Action::AccountLocked => "アカウントロック",
            Action::AccountUnlocked => "アカウントロック解除",
            Action::Denied => "アクセス拒否",
            Action::SessionExpired => "セッション期限切れ",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Allowed,
    Denied,
    Failed,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Allowed, Outcome::Denied, Outcome::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == text)
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Outcome::Allowed => "許可",
            Outcome::Denied => "拒否",
            Outcome::Failed => "失敗",
        }
    }
}

/// Who acted, from where: taken from the session and the request.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub actor_account_id: Option<String>,
    pub actor_organisation_id: Option<String>,
    pub client_addr: String,
    pub user_agent: String,
}

/// One thing that happened. `fields` holds the NAMES of changed fields, never values;
/// `detail` is short free text (a reason, a filter), never a secret or medical content.
#[derive(Debug, Clone)]
pub struct Event {
    pub action: Action,
    pub outcome: Outcome,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub child_id: Option<String>,
    pub fields: Vec<String>,
    pub detail: String,
}

impl Event {
    pub fn new(action: Action, outcome: Outcome) -> Self {
        Self {
            action,
            outcome,
            resource_type: None,
            resource_id: None,
            child_id: None,
            fields: Vec::new(),
            detail: String::new(),
        }
    }

    pub fn resource(mut self, resource_type: impl Into<String>, id: impl Into<String>) -> Self {
        self.resource_type = Some(resource_type.into());
        self.resource_id = Some(id.into());
        self
    }

    pub fn child(mut self, child_id: impl Into<String>) -> Self {
        self.child_id = Some(child_id.into());
        self
    }

    pub fn fields<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.fields = names.into_iter().map(Into::into).collect();
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }
}

/// Bounds on stored text, applied BEFORE hashing and storing, so the hash covers exactly
/// what is stored and one request cannot bloat the log. Counted in characters.
pub const MAX_USER_AGENT_CHARS: usize = 300;
pub const MAX_DETAIL_CHARS: usize = 1000;
/// Ids, types, addresses and field names: nothing legitimate comes near this.
pub const MAX_ID_CHARS: usize = 200;

/// Truncates to `max` characters and replaces NUL, which PostgreSQL refuses in TEXT
/// (SQLite would accept it): the same input must be storable on both backends.
fn bounded(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .map(|c| if c == '\0' { '\u{FFFD}' } else { c })
        .collect()
}

fn bounded_opt(text: Option<&String>) -> Option<String> {
    text.map(|t| bounded(t, MAX_ID_CHARS))
}

/// Appends one entry inside the caller's transaction and returns its sequence number.
///
/// Starts with a WRITE to `audit_head`: on PostgreSQL the row lock queues concurrent
/// writers; on SQLite the first statement takes the write lock at once (a read first
/// would risk the deferred read→write upgrade failing with SQLITE_BUSY). Callers on
/// SQLite should therefore not read in the same transaction before their first write.
pub async fn record(
    conn: &mut AnyConnection,
    ctx: &Context,
    event: &Event,
    at: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let seqs = append(conn, &[(ctx, event, at)]).await?;
    seqs.first()
        .copied()
        .ok_or_else(|| sqlx::Error::Protocol("audit append returned no sequence".into()))
}

/// The stored form of one entry (bounded text, `at` in ms), before its place in the chain.
struct Stored {
    at: i64,
    actor_account_id: Option<String>,
    actor_organisation_id: Option<String>,
    action: &'static str,
    outcome: &'static str,
    resource_type: Option<String>,
    resource_id: Option<String>,
    child_id: Option<String>,
    fields: String,
    detail: String,
    client_addr: String,
    user_agent: String,
}

impl Stored {
    fn new(ctx: &Context, event: &Event, at: DateTime<Utc>) -> Result<Self, sqlx::Error> {
        let names: Vec<String> = event
            .fields
            .iter()
            .map(|f| bounded(f, MAX_ID_CHARS))
            .collect();
        Ok(Self {
            at: codec::instant_to_db(at),
            actor_account_id: bounded_opt(ctx.actor_account_id.as_ref()),
            actor_organisation_id: bounded_opt(ctx.actor_organisation_id.as_ref()),
            action: event.action.as_str(),
            outcome: event.outcome.as_str(),
            resource_type: bounded_opt(event.resource_type.as_ref()),
            resource_id: bounded_opt(event.resource_id.as_ref()),
            child_id: bounded_opt(event.child_id.as_ref()),
            fields: serde_json::to_string(&names).map_err(|err| sqlx::Error::Encode(err.into()))?,
            detail: bounded(&event.detail, MAX_DETAIL_CHARS),
            client_addr: bounded(&ctx.client_addr, MAX_ID_CHARS),
            user_agent: bounded(&ctx.user_agent, MAX_USER_AGENT_CHARS),
        })
    }

    fn hash(&self, seq: i64, prev_hash: &str) -> String {
        chain::entry_hash(&chain::Columns {
            seq,
            at: self.at,
            actor_account_id: self.actor_account_id.as_deref(),
            actor_organisation_id: self.actor_organisation_id.as_deref(),
            action: self.action,
            outcome: self.outcome,
            resource_type: self.resource_type.as_deref(),
            resource_id: self.resource_id.as_deref(),
            child_id: self.child_id.as_deref(),
            fields: &self.fields,
            detail: &self.detail,
            client_addr: &self.client_addr,
            user_agent: &self.user_agent,
            prev_hash,
        })
    }
}

/// Columns of `audit_log` written per entry.
const COLUMNS: usize = 15;
/// Rows per INSERT: SQLite binds parameters by a linear name lookup, so statements stay
/// under ~200 parameters (see `demo::bulk`).
const ROWS_PER_INSERT: usize = 13;

/// Appends entries in order inside the caller's transaction: one `audit_head` update takes
/// their sequence numbers (and the lock, see [`record`]), multi-row INSERTs write them, and
/// a second update moves the head to the last hash.
async fn append(
    conn: &mut AnyConnection,
    entries: &[(&Context, &Event, DateTime<Utc>)],
) -> Result<Vec<i64>, sqlx::Error> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let stored = entries
        .iter()
        .map(|(ctx, event, at)| Stored::new(ctx, event, *at))
        .collect::<Result<Vec<_>, _>>()?;
    let count = i64::try_from(stored.len()).map_err(|e| sqlx::Error::Encode(e.into()))?;
    let head = sqlx::query(
        "UPDATE audit_head SET last_seq = last_seq + $1 WHERE id = 1 RETURNING last_seq, last_hash",
    )
    .bind(count)
    .fetch_one(&mut *conn)
    .await?;
    let last_seq: i64 = head.try_get("last_seq")?;
    let mut prev_hash: String = head.try_get("last_hash")?;
    let first_seq = last_seq - count + 1;
    let mut chained = Vec::with_capacity(stored.len());
    for (seq, entry) in (first_seq..).zip(&stored) {
        let hash = entry.hash(seq, &prev_hash);
        chained.push((
            seq,
            entry,
            std::mem::replace(&mut prev_hash, hash.clone()),
            hash,
        ));
    }
    for chunk in chained.chunks(ROWS_PER_INSERT) {
        // Only generated `$n` placeholders are formatted into the SQL; every value is bound.
        let sql = format!(
            "INSERT INTO audit_log (seq, at, actor_account_id, actor_organisation_id, action, outcome, \
             resource_type, resource_id, child_id, fields, detail, client_addr, user_agent, prev_hash, hash) \
             VALUES {}",
            crate::db::backend::placeholder_rows(chunk.len(), COLUMNS)
        );
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (seq, e, prev, hash) in chunk {
            insert = insert
                .bind(*seq)
                .bind(e.at)
                .bind(e.actor_account_id.as_deref())
                .bind(e.actor_organisation_id.as_deref())
                .bind(e.action)
                .bind(e.outcome)
                .bind(e.resource_type.as_deref())
                .bind(e.resource_id.as_deref())
                .bind(e.child_id.as_deref())
                .bind(e.fields.as_str())
                .bind(e.detail.as_str())
                .bind(e.client_addr.as_str())
                .bind(e.user_agent.as_str())
                .bind(prev.as_str())
                .bind(hash.as_str());
        }
        insert.execute(&mut *conn).await?;
    }
    sqlx::query("UPDATE audit_head SET last_hash = $1 WHERE id = 1")
        .bind(prev_hash)
        .execute(&mut *conn)
        .await?;
    Ok(chained.iter().map(|(seq, ..)| *seq).collect())
}

/// Records in a transaction of its own: for reads, sign-ins and refused attempts, where
/// there is no change to commit with. Returns once the entry is committed, so no read goes
/// unaudited; concurrent callers share one transaction (see [`batch`]).
pub async fn record_standalone(
    db: &Db,
    ctx: &Context,
    event: &Event,
    at: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    batch::record(db, ctx.clone(), event.clone(), at).await
}

#[cfg(test)]
mod tests;
