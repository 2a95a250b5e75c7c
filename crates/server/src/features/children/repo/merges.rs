//! Two records of one child in a town: the pairs a town reviews, and the `child_merges`
//! table that keeps what a record merged away was.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{AnyConnection, Row};
use tsunagu_core::ids::{AccountId, ChildId, OrganisationId};

use super::store::HistoryEntry;
use crate::db::{Db, codec};
use crate::features::children::profile::Change;

/// One record of a possible pair, as the review shows it: enough to tell the two apart,
/// nothing of the care.
#[derive(Debug, Clone)]
pub struct PairSide {
    pub id: ChildId,
    pub name: String,
    pub kana: String,
    pub birth_date: NaiveDate,
    pub owner_organisation_id: OrganisationId,
    pub owner_name: String,
    pub created_at: DateTime<Utc>,
}

/// Records of the town `code` that share a birth date and a folded kana with another
/// record there, at least one of the two owned by one of `owners` (`ScopeFilter::joined`):
/// (the owners' side, the other side), oldest pair first, at most `limit`. SQL narrows to
/// pairs sharing a birth date (few per town); the folded kana decides among them here.
pub async fn possible_pairs(
    db: &Db,
    code: &str,
    owners: &str,
    limit: i64,
) -> Result<Vec<(PairSide, PairSide)>, sqlx::Error> {
    if owners.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT a.id AS a_id, a.name AS a_name, a.kana AS a_kana, a.birth_date AS a_birth, \
         a.owner_organisation_id AS a_owner, oa.name AS a_owner_name, a.created_at AS a_created, \
         b.id AS b_id, b.name AS b_name, b.kana AS b_kana, b.birth_date AS b_birth, \
         b.owner_organisation_id AS b_owner, ob.name AS b_owner_name, b.created_at AS b_created \
         FROM children a JOIN children b ON b.municipality_code = a.municipality_code \
         AND b.birth_date = a.birth_date AND b.id <> a.id \
         JOIN organisations oa ON oa.id = a.owner_organisation_id \
         JOIN organisations ob ON ob.id = b.owner_organisation_id \
         WHERE a.municipality_code = $1 AND $2 LIKE ('%|' || a.owner_organisation_id || '|%') \
         AND ($2 NOT LIKE ('%|' || b.owner_organisation_id || '|%') OR a.id < b.id) \
         ORDER BY a.created_at, a.id, b.id",
    )
    .bind(code)
    .bind(owners)
    .fetch_all(db.pool())
    .await?;
    let side = |r: &sqlx::any::AnyRow, p: &str| -> Result<PairSide, sqlx::Error> {
        let column = |c: &str| format!("{p}_{c}");
        Ok(PairSide {
            id: ChildId::from_stored(r.try_get(column("id").as_str())?),
            name: r.try_get(column("name").as_str())?,
            kana: r.try_get(column("kana").as_str())?,
            birth_date: codec::get_date(r, &column("birth"))?,
            owner_organisation_id: OrganisationId::from_stored(
                r.try_get(column("owner").as_str())?,
            ),
            owner_name: r.try_get(column("owner_name").as_str())?,
            created_at: codec::get_instant(r, &column("created"))?,
        })
    };
    let mut pairs = Vec::new();
    for row in &rows {
        let (a, b) = (side(row, "a")?, side(row, "b")?);
        // The same child written in other scripts or widths: the folded kana decides.
        if tsunagu_core::kana::search_key(&a.kana) == tsunagu_core::kana::search_key(&b.kana)
            && pairs.len() < usize::try_from(limit).unwrap_or(0)
        {
            pairs.push((a, b));
        }
    }
    Ok(pairs)
}

/// What a merged record was, kept when it is removed.
pub struct Merged<'a> {
    pub merged_id: &'a ChildId,
    pub survivor_id: &'a ChildId,
    pub merged_owner: &'a OrganisationId,
    pub merged_by: &'a AccountId,
    pub reason: &'a str,
    pub profile: &'a [(&'static str, &'static str, String)],
    pub history: &'a [HistoryEntry],
    pub at: DateTime<Utc>,
}

/// Keeps the merged record's profile and history, then removes the record (its care
/// items, devices, lists and history go with it; its consents, links and shares were moved
/// before). False when the record was gone already (merged meanwhile by someone else).
pub async fn record_and_remove(
    conn: &mut AnyConnection,
    merged: &Merged<'_>,
) -> Result<bool, sqlx::Error> {
    let profile: Vec<Change> = merged
        .profile
        .iter()
        .map(|(field, label, value)| Change {
            field: (*field).to_string(),
            label: (*label).to_string(),
            before: value.clone(),
            after: String::new(),
        })
        .collect();
    let encode = |e: serde_json::Error| sqlx::Error::Encode(e.into());
    sqlx::query(
        "INSERT INTO child_merges (merged_id, survivor_id, merged_owner_organisation_id, merged_at, \
         merged_by, reason, profile, history) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(merged.merged_id.as_str())
    .bind(merged.survivor_id.as_str())
    .bind(merged.merged_owner.as_str())
    .bind(codec::instant_to_db(merged.at))
    .bind(merged.merged_by.as_str())
    .bind(merged.reason)
    .bind(serde_json::to_string(&profile).map_err(encode)?)
    .bind(serde_json::to_string(merged.history).map_err(encode)?)
    .execute(&mut *conn)
    .await?;
    // Records merged into it before are now merged into the survivor: their history stays.
    sqlx::query("UPDATE child_merges SET survivor_id = $1 WHERE survivor_id = $2")
        .bind(merged.survivor_id.as_str())
        .bind(merged.merged_id.as_str())
        .execute(&mut *conn)
        .await?;
    // Its pending requests go with the child; decided ones stay with what was merged.
    sqlx::query(
        "UPDATE child_proposals SET child_id = $1 WHERE child_id = $2 AND status = 'pending'",
    )
    .bind(merged.survivor_id.as_str())
    .bind(merged.merged_id.as_str())
    .execute(&mut *conn)
    .await?;
    let done = sqlx::query("DELETE FROM children WHERE id = $1")
        .bind(merged.merged_id.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A record merged into `survivor`, as its history page shows it.
pub struct MergedRecord {
    pub merged_id: String,
    pub owner_name: String,
    pub merged_at: DateTime<Utc>,
    pub merged_by_name: String,
    pub reason: String,
    pub profile: Vec<Change>,
    pub history: Vec<HistoryEntry>,
}

pub async fn merged_into(db: &Db, survivor: &ChildId) -> Result<Vec<MergedRecord>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT m.merged_id, o.name AS owner_name, m.merged_at, a.display_name, m.reason, m.profile, \
         m.history FROM child_merges m JOIN organisations o ON o.id = m.merged_owner_organisation_id \
         JOIN accounts a ON a.id = m.merged_by WHERE m.survivor_id = $1 ORDER BY m.merged_at",
    )
    .bind(survivor.as_str())
    .fetch_all(db.pool())
    .await?;
    let decode = |column: &str, e: serde_json::Error| sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source: Box::new(e),
    };
    rows.iter()
        .map(|r| {
            let profile: String = r.try_get("profile")?;
            let history: String = r.try_get("history")?;
            Ok(MergedRecord {
                merged_id: r.try_get("merged_id")?,
                owner_name: r.try_get("owner_name")?,
                merged_at: codec::get_instant(r, "merged_at")?,
                merged_by_name: r.try_get("display_name")?,
                reason: r.try_get("reason")?,
                profile: serde_json::from_str(&profile).map_err(|e| decode("profile", e))?,
                history: serde_json::from_str(&history).map_err(|e| decode("history", e))?,
            })
        })
        .collect()
}
