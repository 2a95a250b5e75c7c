//! The break_glass_grants table.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use tsunagu_core::access::Target;
use tsunagu_core::ids::{AccountId, OrganisationId};

use crate::db::{Db, codec};

#[derive(Debug, Clone, Serialize)]
pub struct GrantView {
    pub id: String,
    pub account_name: String,
    pub organisation_name: String,
    pub resource_type: String,
    pub resource_id: String,
    pub owner_organisation_id: OrganisationId,
    pub reason: String,
    pub started_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

impl GrantView {
    pub fn started_jst(&self) -> String {
        crate::view::format_instant_jst(self.started_at)
    }

    pub fn expires_jst(&self) -> String {
        crate::view::format_instant_jst(self.expires_at)
    }

    pub fn is_open(&self, now_ms: &i64) -> bool {
        self.revoked_at.is_none() && self.expires_at > *now_ms
    }
}

macro_rules! select_grant {
    ($($tail:tt)+) => {
        concat!(
            "SELECT g.id, a.display_name, o.name AS organisation_name, g.resource_type, g.resource_id, ",
            "g.owner_organisation_id, g.reason, g.started_at, g.expires_at, g.revoked_at ",
            "FROM break_glass_grants g JOIN accounts a ON a.id = g.account_id ",
            "JOIN organisations o ON o.id = g.organisation_id ",
            $($tail)+
        )
    };
}

fn from_row(row: &AnyRow) -> Result<GrantView, sqlx::Error> {
    Ok(GrantView {
        id: row.try_get("id")?,
        account_name: row.try_get("display_name")?,
        organisation_name: row.try_get("organisation_name")?,
        resource_type: row.try_get("resource_type")?,
        resource_id: row.try_get("resource_id")?,
        owner_organisation_id: OrganisationId::from_stored(row.try_get("owner_organisation_id")?),
        reason: row.try_get("reason")?,
        started_at: row.try_get("started_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

pub async fn create(
    conn: &mut AnyConnection,
    account_id: &AccountId,
    organisation_id: &OrganisationId,
    target: &Target,
    reason: &str,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> Result<String, sqlx::Error> {
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO break_glass_grants (id, account_id, organisation_id, resource_type, resource_id, \
         owner_organisation_id, reason, started_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(account_id.as_str())
    .bind(organisation_id.as_str())
    .bind(&target.resource_type)
    .bind(&target.resource_id)
    .bind(target.owner_organisation_id.as_str())
    .bind(reason)
    .bind(codec::instant_to_db(now))
    .bind(codec::instant_to_db(expires))
    .execute(conn)
    .await?;
    Ok(id)
}

pub async fn get(db: &Db, id: &str) -> Result<Option<GrantView>, sqlx::Error> {
    sqlx::query(select_grant!("WHERE g.id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Grants on records owned by any of `organisations`, newest first (at most 200).
pub async fn for_owners(
    db: &Db,
    organisations: &[OrganisationId],
) -> Result<Vec<GrantView>, sqlx::Error> {
    let joined = tsunagu_core::access::ScopeFilter::joined(organisations);
    if joined.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(select_grant!(
        "WHERE $1 LIKE ('%|' || g.owner_organisation_id || '|%') ORDER BY g.started_at DESC LIMIT 200"
    ))
    .bind(joined)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

/// Grants on one record, newest first: for the family's access history.
pub async fn for_resource(
    db: &Db,
    resource_type: &str,
    resource_id: &str,
) -> Result<Vec<GrantView>, sqlx::Error> {
    let rows = sqlx::query(select_grant!(
        "WHERE g.resource_type = $1 AND g.resource_id = $2 ORDER BY g.started_at DESC"
    ))
    .bind(resource_type)
    .bind(resource_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn revoke(
    conn: &mut AnyConnection,
    id: &str,
    by: &AccountId,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE break_glass_grants SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL")
        .bind(codec::instant_to_db(now))
        .bind(by.as_str())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
