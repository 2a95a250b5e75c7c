//! Reading the log back: the search behind the administrators' audit page, and its CSV.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Action, Outcome};
use crate::db::{Db, codec};

/// Rows per page when the query asks for none (limit ≤ 0), and the most it may ask for.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 10_000;

/// Filters are ANDed; `None` or an empty (after trimming) string means "any".
/// `from` is inclusive, `until` exclusive.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub actor_account_id: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub child_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Only entries whose actor organisation lies in one of these prefectures (two-digit
    /// numbers, "13" for 東京都), for a prefecture's administrator; empty means any. System
    /// organisations (kind `system`) lie in none, and entries without an actor organisation
    /// (failed sign-ins) never match.
    pub actor_prefectures: Vec<String>,
    pub limit: i64,
    pub offset: i64,
}

/// One stored entry with all its columns. `action` and `outcome` stay the stored text,
/// so an entry written by a newer version still shows instead of failing the page.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_account_id: Option<String>,
    pub actor_organisation_id: Option<String>,
    pub action: String,
    pub outcome: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub child_id: Option<String>,
    pub fields: Vec<String>,
    pub detail: String,
    pub client_addr: String,
    pub user_agent: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    /// Who acted, as `(account, organisation)`; empty where there is none.
    pub fn actor(&self) -> (&str, &str) {
        (
            self.actor_account_id.as_deref().unwrap_or_default(),
            self.actor_organisation_id.as_deref().unwrap_or_default(),
        )
    }

    /// 「閲覧」 etc.; the stored text when the action is unknown to this version.
    pub fn action_label(&self) -> &str {
        match Action::parse(&self.action) {
            Some(action) => action.label_ja(),
            None => &self.action,
        }
    }

    pub fn outcome_label(&self) -> &str {
        match Outcome::parse(&self.outcome) {
            Some(outcome) => outcome.label_ja(),
            None => &self.outcome,
        }
    }

    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let fields: String = row.try_get("fields")?;
        Ok(Self {
            seq: row.try_get("seq")?,
            at: codec::get_instant(row, "at")?,
            actor_account_id: row.try_get("actor_account_id")?,
            actor_organisation_id: row.try_get("actor_organisation_id")?,
            action: row.try_get("action")?,
            outcome: row.try_get("outcome")?,
            resource_type: row.try_get("resource_type")?,
            resource_id: row.try_get("resource_id")?,
            child_id: row.try_get("child_id")?,
            // A damaged value is shown as it is rather than hiding the entry from the auditor.
            fields: serde_json::from_str(&fields).unwrap_or_else(|_| vec![fields]),
            detail: row.try_get("detail")?,
            client_addr: row.try_get("client_addr")?,
            user_agent: row.try_get("user_agent")?,
            prev_hash: row.try_get("prev_hash")?,
            hash: row.try_get("hash")?,
        })
    }
}

/// `($1 = '' OR col = $1)` switches a filter off with an empty string (PostgreSQL cannot
/// type a lone `$1 IS NULL` through the Any driver); time bounds use sentinels.
/// `$lead` repeats the most selective filter that is set as a plain equality, so both
/// planners can use its index instead of scanning the whole log.
macro_rules! filters {
    ($lead:literal) => {
        concat!(
            " WHERE ",
            $lead,
            "($1 = '' OR actor_account_id = $1) AND ($2 = '' OR resource_type = $2) \
             AND ($3 = '' OR resource_id = $3) AND ($4 = '' OR child_id = $4) \
             AND at >= $5 AND at < $6 \
             AND ($7 = '' OR actor_organisation_id IN (SELECT o.id FROM organisations o \
                  WHERE o.kind <> 'system' AND $7 LIKE ('%|' || substr(o.municipality_code, 1, 2) || '|%')))"
        )
    };
}

/// (count, page) for one choice of leading filter; each is one `&'static str`.
macro_rules! statements {
    ($lead:literal) => {
        (
            concat!("SELECT count(*) FROM audit_log", filters!($lead)),
            concat!(
                "SELECT seq, at, actor_account_id, actor_organisation_id, action, outcome, \
                 resource_type, resource_id, child_id, fields, detail, client_addr, user_agent, \
                 prev_hash, hash FROM audit_log",
                filters!($lead),
                " ORDER BY seq DESC LIMIT $8 OFFSET $9"
            ),
        )
    };
}

fn filter_text(value: Option<&String>) -> String {
    value.map(|v| v.trim().to_owned()).unwrap_or_default()
}

/// Matching entries, newest first (by seq, the order of commit), and how many match in all.
pub async fn search(db: &Db, q: &AuditQuery) -> Result<(Vec<AuditEntry>, i64), sqlx::Error> {
    let actor = filter_text(q.actor_account_id.as_ref());
    let resource_type = filter_text(q.resource_type.as_ref());
    let resource_id = filter_text(q.resource_id.as_ref());
    let child = filter_text(q.child_id.as_ref());
    let from = q.from.map_or(i64::MIN, codec::instant_to_db);
    let until = q.until.map_or(i64::MAX, codec::instant_to_db);
    let limit = if q.limit <= 0 {
        DEFAULT_LIMIT
    } else {
        q.limit.min(MAX_LIMIT)
    };
    let offset = q.offset.max(0);
    let prefectures = tsunagu_core::access::ScopeFilter::joined(&q.actor_prefectures);

    let (count_sql, page_sql) = if !child.is_empty() {
        statements!("child_id = $4 AND ")
    } else if !resource_type.is_empty() {
        statements!("resource_type = $2 AND ")
    } else if !actor.is_empty() {
        statements!("actor_account_id = $1 AND ")
    } else {
        statements!("")
    };

    let total: i64 = sqlx::query(count_sql)
        .bind(&actor)
        .bind(&resource_type)
        .bind(&resource_id)
        .bind(&child)
        .bind(from)
        .bind(until)
        .bind(&prefectures)
        .fetch_one(db.pool())
        .await?
        .try_get(0)?;
    let rows = sqlx::query(page_sql)
        .bind(&actor)
        .bind(&resource_type)
        .bind(&resource_id)
        .bind(&child)
        .bind(from)
        .bind(until)
        .bind(&prefectures)
        .bind(limit)
        .bind(offset)
        .fetch_all(db.pool())
        .await?;
    let entries = rows
        .iter()
        .map(AuditEntry::from_row)
        .collect::<Result<_, _>>()?;
    Ok((entries, total))
}
