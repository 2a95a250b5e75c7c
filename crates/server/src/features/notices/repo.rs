//! The `notices` table.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use tsunagu_core::ids::{AccountId, NoticeId};

use crate::db::{Db, codec};

#[derive(Debug, Clone)]
pub struct Notice {
    pub id: NoticeId,
    pub kind: String,
    pub message: String,
    pub link: String,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

impl Notice {
    pub fn at_ja(&self) -> String {
        crate::view::format_instant_jst(self.created_at.timestamp_millis())
    }
}

fn from_row(row: &AnyRow) -> Result<Notice, sqlx::Error> {
    Ok(Notice {
        id: NoticeId::from_stored(row.try_get("id")?),
        kind: row.try_get("kind")?,
        message: row.try_get("message")?,
        link: row.try_get("link")?,
        created_at: codec::get_instant(row, "created_at")?,
        read: row.try_get::<Option<i64>, _>("read_at")?.is_some(),
    })
}

pub async fn insert(
    conn: &mut AnyConnection,
    account_id: &AccountId,
    kind: &str,
    message: &str,
    link: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO notices (id, account_id, kind, message, link, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(NoticeId::from_uuid(uuid::Uuid::new_v4()).as_str())
    .bind(account_id.as_str())
    .bind(kind)
    .bind(message)
    .bind(link)
    .bind(codec::instant_to_db(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// One page of the account's notices, newest first, and how many there are.
pub async fn page(
    db: &Db,
    account_id: &AccountId,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Notice>, i64), sqlx::Error> {
    let mut conn = db.pool().acquire().await?;
    let rows = sqlx::query(
        "SELECT id, kind, message, link, created_at, read_at FROM notices WHERE account_id = $1 \
         ORDER BY created_at DESC, id LIMIT $2 OFFSET $3",
    )
    .bind(account_id.as_str())
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total: i64 = sqlx::query("SELECT count(*) FROM notices WHERE account_id = $1")
        .bind(account_id.as_str())
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    Ok((rows.iter().map(from_row).collect::<Result<_, _>>()?, total))
}

/// The account's notice `id`, marked read; `None` if it is not theirs.
pub async fn open(
    db: &Db,
    account_id: &AccountId,
    id: &NoticeId,
    now: DateTime<Utc>,
) -> Result<Option<Notice>, sqlx::Error> {
    let mut conn = db.pool().acquire().await?;
    let row = sqlx::query(
        "SELECT id, kind, message, link, created_at, read_at FROM notices WHERE id = $1 AND account_id = $2",
    )
    .bind(id.as_str())
    .bind(account_id.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let notice = from_row(&row)?;
    if !notice.read {
        sqlx::query("UPDATE notices SET read_at = $1 WHERE id = $2 AND account_id = $3")
            .bind(codec::instant_to_db(now))
            .bind(id.as_str())
            .bind(account_id.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(Some(notice))
}

/// Marks every unread notice of the account read; how many were.
pub async fn read_all(
    conn: &mut AnyConnection,
    account_id: &AccountId,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let done =
        sqlx::query("UPDATE notices SET read_at = $1 WHERE account_id = $2 AND read_at IS NULL")
            .bind(codec::instant_to_db(now))
            .bind(account_id.as_str())
            .execute(conn)
            .await?;
    Ok(done.rows_affected())
}
