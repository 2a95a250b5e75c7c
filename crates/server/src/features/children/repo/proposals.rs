//! The `child_proposals` table: changes a family proposed, pending until staff decide.

use std::collections::{BTreeMap, HashMap};
use tsunagu_core::ids::{AccountId, ChildId, ProposalId};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

use crate::db::{Db, codec};
use crate::features::children::profile::{Change, proposable_field};

/// The audit trail's resource type of a proposal.
pub const RESOURCE_TYPE: &str = "child_proposal";

/// What is stored: the proposed values of the fields the family changed, the values they
/// saw in those fields (absent in proposals stored before it was kept), and the changes
/// in words.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    fields: HashMap<String, String>,
    #[serde(default)]
    seen: Option<BTreeMap<String, String>>,
    changes: Vec<Change>,
}

#[derive(Debug, Clone)]
pub struct Proposal {
    pub id: ProposalId,
    /// The proposer's name, and their account.
    pub proposed_by: String,
    pub proposed_by_account: AccountId,
    pub proposed_at: DateTime<Utc>,
    pub message: String,
    pub status: String,
    pub changes: Vec<Change>,
    pub decision_note: String,
    /// The record's version the family saw when proposing.
    pub base_version: i64,
    /// The proposed values of the fields the family changed.
    pub fields: HashMap<String, String>,
    /// What those fields held when the family saw them; `None` for a proposal stored
    /// before this was kept (its `fields` then hold every proposable field).
    pub seen: Option<BTreeMap<String, String>>,
}

impl Proposal {
    pub fn status_ja(&self) -> &'static str {
        match self.status.as_str() {
            "accepted" => "反映済み",
            "declined" => "見送り",
            _ => "確認待ち",
        }
    }

    pub fn at_ja(&self) -> String {
        crate::view::format_instant_jst(self.proposed_at.timestamp_millis())
    }
}

macro_rules! select_proposals {
    () => {
        "SELECT p.id, a.display_name, p.proposed_by, p.proposed_at, p.message, p.status, p.changes, \
         p.decision_note, p.base_version FROM child_proposals p JOIN accounts a ON a.id = p.proposed_by "
    };
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<Proposal, sqlx::Error> {
    let stored: String = r.try_get("changes")?;
    let stored: Stored = serde_json::from_str(&stored).map_err(|e| sqlx::Error::ColumnDecode {
        index: "changes".into(),
        source: Box::new(e),
    })?;
    Ok(Proposal {
        id: ProposalId::from_stored(r.try_get("id")?),
        proposed_by: r.try_get("display_name")?,
        proposed_by_account: AccountId::from_stored(r.try_get("proposed_by")?),
        proposed_at: codec::get_instant(r, "proposed_at")?,
        message: r.try_get("message")?,
        status: r.try_get("status")?,
        decision_note: r.try_get("decision_note")?,
        base_version: r.try_get("base_version")?,
        changes: stored.changes,
        fields: stored.fields,
        seen: stored.seen,
    })
}

/// The child's proposals, newest first.
pub async fn for_child(
    conn: &mut AnyConnection,
    child_id: &ChildId,
) -> Result<Vec<Proposal>, sqlx::Error> {
    let rows = sqlx::query(concat!(
        select_proposals!(),
        "WHERE p.child_id = $1 ORDER BY p.proposed_at DESC, p.id"
    ))
    .bind(child_id.as_str())
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The child's proposal `id` while it is pending.
pub async fn pending(
    db: &Db,
    child_id: &ChildId,
    id: &ProposalId,
) -> Result<Option<Proposal>, sqlx::Error> {
    let row = sqlx::query(concat!(
        select_proposals!(),
        "WHERE p.child_id = $1 AND p.id = $2 AND p.status = 'pending'"
    ))
    .bind(child_id.as_str())
    .bind(id.as_str())
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Whether the child has a proposal `id` at all (decided or not).
pub async fn exists(db: &Db, child_id: &ChildId, id: &ProposalId) -> Result<bool, sqlx::Error> {
    let row = sqlx::query("SELECT count(*) FROM child_proposals WHERE child_id = $1 AND id = $2")
        .bind(child_id.as_str())
        .bind(id.as_str())
        .fetch_one(db.pool())
        .await?;
    Ok(row.try_get::<i64, _>(0)? > 0)
}

/// A family proposal as stored: who, when, on which version of the record, what.
pub struct NewProposal<'a> {
    pub child_id: &'a ChildId,
    pub proposed_by: &'a AccountId,
    pub proposed_at: DateTime<Utc>,
    pub base_version: i64,
    /// The proposed values of the fields the family changed; only proposable ones are kept.
    pub fields: HashMap<String, String>,
    /// What those fields held in the version the family saw.
    pub seen: BTreeMap<String, String>,
    pub changes: Vec<Change>,
    pub message: &'a str,
}

/// Stores a pending proposal (the form, the demo); the caller audits in the same transaction.
pub async fn insert_pending(
    conn: &mut AnyConnection,
    id: &ProposalId,
    new: &NewProposal<'_>,
) -> Result<(), sqlx::Error> {
    let stored = Stored {
        fields: new
            .fields
            .iter()
            .filter(|(k, _)| proposable_field(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        seen: Some(new.seen.clone()),
        changes: new.changes.clone(),
    };
    sqlx::query(
        "INSERT INTO child_proposals (id, child_id, proposed_by, proposed_at, base_version, changes, message) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id.as_str())
    .bind(new.child_id.as_str())
    .bind(new.proposed_by.as_str())
    .bind(codec::instant_to_db(new.proposed_at))
    .bind(new.base_version)
    .bind(serde_json::to_string(&stored).map_err(|e| sqlx::Error::Encode(e.into()))?)
    .bind(new.message)
    .execute(conn)
    .await?;
    Ok(())
}

/// Staff's decision on a pending proposal.
pub struct Decision<'a> {
    pub proposal_id: &'a ProposalId,
    pub accept: bool,
    pub decided_by: &'a AccountId,
    pub note: &'a str,
}

impl Decision<'_> {
    pub fn status(&self) -> &'static str {
        if self.accept { "accepted" } else { "declined" }
    }
}

/// Marks the proposal decided if it is still pending; `false` when it no longer is (decided
/// by someone else meanwhile), so the caller rolls back.
pub async fn decide(
    conn: &mut AnyConnection,
    decision: &Decision<'_>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE child_proposals SET status = $1, decided_by = $2, decided_at = $3, decision_note = $4 \
         WHERE id = $5 AND status = 'pending'",
    )
    .bind(decision.status())
    .bind(decision.decided_by.as_str())
    .bind(codec::instant_to_db(now))
    .bind(decision.note)
    .bind(decision.proposal_id.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Pending proposals by child, as a home page lists them: (child id, child name, count).
pub type PendingByChild = Vec<(ChildId, String, i64)>;

fn pending_rows(rows: &[sqlx::any::AnyRow]) -> Result<PendingByChild, sqlx::Error> {
    rows.iter()
        .map(|r| {
            Ok((
                ChildId::from_stored(r.try_get(0)?),
                r.try_get(1)?,
                r.try_get(2)?,
            ))
        })
        .collect()
}

/// Pending proposals on the records the organisations own (`joined`:
/// `ScopeFilter::joined`), oldest first: the staff's work.
pub async fn pending_for_owners(db: &Db, joined: &str) -> Result<PendingByChild, sqlx::Error> {
    if joined.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT c.id, c.name, count(*) AS n, min(p.proposed_at) AS first_at \
         FROM child_proposals p JOIN children c ON c.id = p.child_id \
         WHERE p.status = 'pending' AND $1 LIKE ('%|' || c.owner_organisation_id || '|%') \
         GROUP BY c.id, c.name ORDER BY first_at, c.id LIMIT 100",
    )
    .bind(joined)
    .fetch_all(db.pool())
    .await?;
    pending_rows(&rows)
}

/// The account's own pending proposals, by child: what a family still waits for.
pub async fn pending_by(db: &Db, account_id: &AccountId) -> Result<PendingByChild, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT c.id, c.name, count(*) AS n FROM child_proposals p JOIN children c ON c.id = p.child_id \
         WHERE p.status = 'pending' AND p.proposed_by = $1 GROUP BY c.id, c.name ORDER BY c.name, c.id",
    )
    .bind(account_id.as_str())
    .fetch_all(db.pool())
    .await?;
    pending_rows(&rows)
}
