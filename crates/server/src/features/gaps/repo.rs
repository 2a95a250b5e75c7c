//! The `plan_forums` table: the 協議の場 a municipality or a 圏域 recorded as set up.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{AnyConnection, Row};
use tsunagu_core::ids::AccountId;

use crate::db::{Db, codec};

/// One recorded 協議の場.
#[derive(Debug, Clone)]
pub struct Forum {
    /// A municipality code or an area id.
    pub place: String,
    pub established_on: NaiveDate,
    pub note: String,
    pub recorded_by_name: String,
    pub recorded_at: DateTime<Utc>,
}

/// The forums recorded for any of these places.
pub async fn forums_of(db: &Db, places: &[String]) -> Result<Vec<Forum>, sqlx::Error> {
    let mut found = Vec::new();
    for chunk in places.chunks(500) {
        let sql = format!(
            "SELECT f.place, f.established_on, f.note, f.recorded_at, \
             COALESCE(a.display_name, '') AS recorded_by_name \
             FROM plan_forums f LEFT JOIN accounts a ON a.id = f.recorded_by \
             WHERE f.place IN ({})",
            codec::placeholders(chunk.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for place in chunk {
            query = query.bind(place.as_str());
        }
        for row in query.fetch_all(db.pool()).await? {
            let on: String = row.try_get("established_on")?;
            found.push(Forum {
                place: row.try_get("place")?,
                established_on: codec::date_from_db(&on, "established_on")?,
                note: row.try_get("note")?,
                recorded_by_name: row.try_get("recorded_by_name")?,
                recorded_at: codec::get_instant(&row, "recorded_at")?,
            });
        }
    }
    Ok(found)
}

/// Records (or re-dates) the forum of a place.
pub async fn record(
    conn: &mut AnyConnection,
    place: &str,
    established_on: NaiveDate,
    note: &str,
    account_id: &AccountId,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    // One statement, so two people recording at once leave one row (the later one).
    sqlx::query(
        "INSERT INTO plan_forums (place, established_on, note, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (place) DO UPDATE SET \
         established_on = excluded.established_on, note = excluded.note, \
         recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
    )
    .bind(place)
    .bind(codec::date_to_db(established_on))
    .bind(note)
    .bind(account_id.as_str())
    .bind(codec::instant_to_db(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes the forum of a place; false when there was none.
pub async fn remove(conn: &mut AnyConnection, place: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM plan_forums WHERE place = $1")
        .bind(place)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
