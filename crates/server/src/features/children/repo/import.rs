//! The `child_imports` table: uploaded tables kept for a day between the upload, the
//! column mapping and the commit. The table itself is stored as JSON text.

use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, Row};

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
    upload: &Upload,
    account_id: &str,
    row_count: usize,
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let _turn = db.sqlite_writer_turn().await;
    let mut tx = db.pool().begin().await?;
    sqlx::query("DELETE FROM child_imports WHERE created_at < $1")
        .bind(codec::instant_to_db(cutoff))
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO child_imports (id, account_id, created_at, filename, row_count, data) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&upload.id)
    .bind(account_id)
    .bind(codec::instant_to_db(now))
    .bind(&upload.filename)
    .bind(i64::try_from(row_count).unwrap_or(i64::MAX))
    .bind(&upload.data)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// The upload if it is this account's and was created at `cutoff` or later.
pub async fn load(
    db: &Db,
    id: &str,
    account_id: &str,
    cutoff: DateTime<Utc>,
) -> Result<Option<Upload>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, filename, data FROM child_imports \
         WHERE id = $1 AND account_id = $2 AND created_at >= $3",
    )
    .bind(id)
    .bind(account_id)
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

/// Removes the upload as the first write of the commit's transaction; false when it is
/// gone already (committed by a second click).
pub async fn take(
    conn: &mut AnyConnection,
    id: &str,
    account_id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM child_imports WHERE id = $1 AND account_id = $2")
        .bind(id)
        .bind(account_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
