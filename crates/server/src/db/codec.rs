//! The storage conventions shared by both backends:
//! flags as INTEGER (SQLite) / BOOLEAN (PostgreSQL), dates as TEXT `YYYY-MM-DD`,
//! instants as BIGINT Unix milliseconds UTC.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

/// Reads a flag column whichever way the backend stored it.
pub fn get_flag(row: &AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    match row.try_get::<bool, _>(column) {
        Ok(flag) => Ok(flag),
        Err(_) => Ok(row.try_get::<i64, _>(column)? != 0),
    }
}

/// Dates are stored as ISO text so both backends sort and compare them the same way.
pub fn date_to_db(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

pub fn get_date(row: &AnyRow, column: &str) -> Result<NaiveDate, sqlx::Error> {
    let text: String = row.try_get(column)?;
    date_from_db(&text, column)
}

/// A stored date (see [`date_to_db`]); `column` names it in the error.
pub fn date_from_db(text: &str, column: &str) -> Result<NaiveDate, sqlx::Error> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|err| sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source: Box::new(err),
    })
}

/// Instants are Unix milliseconds in UTC: no time-zone handling in SQL at all.
pub fn instant_to_db(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub fn get_instant(row: &AnyRow, column: &str) -> Result<DateTime<Utc>, sqlx::Error> {
    let millis: i64 = row.try_get(column)?;
    DateTime::from_timestamp_millis(millis).ok_or_else(|| sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source: format!("{millis} ms is out of range").into(),
    })
}

/// Escapes `%`, `_` and the escape character itself for `LIKE … ESCAPE '\'`,
/// so a user's search text is always matched literally.
pub fn like_contains(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// `$1, $2, …, $n`: placeholders only, never values, for an `IN (…)` of bound values.
pub fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_are_literal() {
        assert_eq!(like_contains("いたばし"), "%いたばし%");
        assert_eq!(like_contains("100%_\\"), "%100\\%\\_\\\\%");
    }

    #[test]
    fn dates_are_iso_text() {
        let d = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
        assert_eq!(date_to_db(d), "2026-04-01");
    }
}
