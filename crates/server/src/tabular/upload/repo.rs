//! The `uploads` table: uploaded tables kept for a day between the upload, the column
//! mapping and the commit of an import, each for one purpose. The table itself is stored
//! as JSON text.

use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, Row};
use tsunagu_core::ids::AccountId;

use crate::db::{Db, codec};

/// An upload as stored.
pub struct Upload {
    pub id: String,
    pub filename: String,
    pub data: String,
}

/// Drops uploads created before `cutoff`, then stores this one, in one transaction.
pub async fn save(
    db: &Db,
    purpose: &str,
    upload: &Upload,
    account_id: &AccountId,
    row_count: usize,
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let _turn = db.sqlite_writer_turn().await;
    let mut tx = db.pool().begin().await?;
    sqlx::query("DELETE FROM uploads WHERE created_at < $1")
        .bind(codec::instant_to_db(cutoff))
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO uploads (id, purpose, account_id, created_at, filename, row_count, data) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&upload.id)
    .bind(purpose)
    .bind(account_id.as_str())
    .bind(codec::instant_to_db(now))
    .bind(&upload.filename)
    .bind(i64::try_from(row_count).unwrap_or(i64::MAX))
    .bind(&upload.data)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// The upload if it is this account's, for this purpose, not committed, and was created at
/// `cutoff` or later.
pub async fn load(
    db: &Db,
    purpose: &str,
    id: &str,
    account_id: &AccountId,
    cutoff: DateTime<Utc>,
) -> Result<Option<Upload>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, filename, data FROM uploads \
         WHERE id = $1 AND purpose = $2 AND account_id = $3 AND created_at >= $4 \
         AND committed_at IS NULL",
    )
    .bind(id)
    .bind(purpose)
    .bind(account_id.as_str())
    .bind(codec::instant_to_db(cutoff))
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| {
        Ok(Upload {
            id: row.try_get("id")?,
            filename: row.try_get("filename")?,
            data: row.try_get("data")?,
        })
    })
    .transpose()
}

/// Marks the upload committed as the first write of the commit's transaction (its table is
/// dropped, `result` kept); false when it was committed already (a second click, a replayed
/// request) or is gone. Concurrent commits wait on the row: exactly one marks it.
pub async fn take(
    conn: &mut AnyConnection,
    purpose: &str,
    id: &str,
    account_id: &AccountId,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE uploads SET committed_at = $1, data = '' \
         WHERE id = $2 AND purpose = $3 AND account_id = $4 AND committed_at IS NULL",
    )
    .bind(codec::instant_to_db(now))
    .bind(id)
    .bind(purpose)
    .bind(account_id.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Keeps what a commit created (JSON), in the commit's transaction.
pub async fn set_result(
    conn: &mut AnyConnection,
    id: &str,
    result: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE uploads SET result = $1 WHERE id = $2")
        .bind(result)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A committed import of this account: its file name, when, and what it created (JSON).
pub struct Committed {
    pub filename: String,
    pub committed_at: DateTime<Utc>,
    pub result: String,
}

pub async fn committed(
    db: &Db,
    purpose: &str,
    id: &str,
    account_id: &AccountId,
) -> Result<Option<Committed>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT filename, committed_at, result FROM uploads \
         WHERE id = $1 AND purpose = $2 AND account_id = $3 AND committed_at IS NOT NULL",
    )
    .bind(id)
    .bind(purpose)
    .bind(account_id.as_str())
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| {
        Ok(Committed {
            filename: row.try_get("filename")?,
            committed_at: codec::get_instant(&row, "committed_at")?,
            result: row.try_get("result")?,
        })
    })
    .transpose()
}
