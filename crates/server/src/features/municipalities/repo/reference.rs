//! The dated snapshot of 全国地方公共団体コード and areas, embedded in the binary and
//! loaded into the database by `migrate`. See `crates/server/data/SOURCE.md`.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use tsunagu_core::kana::search_key;
use tsunagu_core::municipality::MunicipalityCode;

use crate::db::{Db, backend, codec};
use crate::error::StartupError;

pub const MUNICIPALITIES_CSV: &str = include_str!("../../../../data/municipalities.csv");
pub const AREAS_CSV: &str = include_str!("../../../../data/areas.csv");
/// Codes created or retired after the snapshot, each with its dates and source (kept by
/// hand from 総務省's notices until the snapshot's source catches up; see SOURCE.md).
pub const CHANGES_CSV: &str = include_str!("../../../../data/municipality_changes.csv");
const SNAPSHOT_NAME: &str = "municipalities";
/// Rows per INSERT: well under both backends' limits on bound parameters.
const BATCH: usize = 200;

#[derive(Debug, Clone, Deserialize)]
pub struct MunicipalityRecord {
    pub code: String,
    pub prefecture_code: String,
    pub name: String,
    pub kana: String,
    pub kind: String,
    pub parent_code: String,
    /// The first day the code is in use, when created after the snapshot ("" otherwise).
    #[serde(default)]
    pub valid_from: String,
    /// The last day a retired code was in use ("" while in use).
    #[serde(default)]
    pub valid_until: String,
    /// The code that took over from a retired one.
    #[serde(default)]
    pub successor_code: String,
    /// What the successor does not say alone (part of the area went elsewhere).
    #[serde(default)]
    pub note: String,
    /// Where a change comes from ("" for the snapshot's own rows).
    #[serde(default)]
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AreaRecord {
    pub area_id: String,
    pub prefecture_code: String,
    pub name: String,
    pub kana: String,
    pub municipality_code: String,
}

fn bad_snapshot(detail: String) -> StartupError {
    StartupError::Migrate(format!("参照データのスナップショットが不正です: {detail}"))
}

/// Parses the embedded municipality list with the changes since, and checks every code's
/// check digit, every date and that every successor exists.
pub fn municipalities() -> Result<Vec<MunicipalityRecord>, StartupError> {
    let read = |text: &str| -> Result<Vec<MunicipalityRecord>, StartupError> {
        csv::Reader::from_reader(text.as_bytes())
            .deserialize()
            .collect::<Result<_, _>>()
            .map_err(|err| bad_snapshot(err.to_string()))
    };
    let mut records = read(MUNICIPALITIES_CSV)?;
    for change in read(CHANGES_CSV)? {
        match records.iter_mut().find(|r| r.code == change.code) {
            Some(known) => *known = change,
            None => records.push(change),
        }
    }
    let codes: std::collections::HashSet<String> = records.iter().map(|r| r.code.clone()).collect();
    for record in &records {
        for date in [&record.valid_from, &record.valid_until] {
            if !date.is_empty() && chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_err() {
                return Err(bad_snapshot(format!("{}: date {date}", record.code)));
            }
        }
        if !record.successor_code.is_empty() && !codes.contains(&record.successor_code) {
            return Err(bad_snapshot(format!(
                "{}: successor {} is not in the list",
                record.code, record.successor_code
            )));
        }
    }
    for record in &records {
        let code =
            MunicipalityCode::parse(&record.code).map_err(|err| bad_snapshot(err.to_string()))?;
        if code.to_string() != record.code {
            return Err(bad_snapshot(format!(
                "{} is not a 6-digit code",
                record.code
            )));
        }
    }
    // Parents before the wards that refer to them.
    records.sort_by_key(|r| (!r.parent_code.is_empty(), r.code.clone()));
    Ok(records)
}

pub fn areas() -> Result<Vec<AreaRecord>, StartupError> {
    csv::Reader::from_reader(AREAS_CSV.as_bytes())
        .deserialize()
        .collect::<Result<_, _>>()
        .map_err(|err| bad_snapshot(err.to_string()))
}

fn optional(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

/// A content hash names the snapshot, so a refreshed CSV reloads by itself.
fn snapshot_id() -> String {
    let mut hasher = Sha256::new();
    hasher.update(MUNICIPALITIES_CSV.as_bytes());
    hasher.update(CHANGES_CSV.as_bytes());
    hasher.update(AREAS_CSV.as_bytes());
    let digest = hasher.finalize();
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// Loads the snapshot unless this exact snapshot is already there. Upserts, so rows that
/// other tables refer to are never deleted; all in one transaction.
pub async fn ensure_loaded(db: &Db) -> Result<(), StartupError> {
    let wanted = snapshot_id();
    let loaded: Option<String> =
        sqlx::query("SELECT snapshot FROM reference_snapshots WHERE name = $1")
            .bind(SNAPSHOT_NAME)
            .fetch_optional(db.pool())
            .await?
            .map(|row| row.try_get(0))
            .transpose()?;
    if loaded.as_deref() == Some(wanted.as_str()) {
        return Ok(());
    }
    let municipalities = municipalities()?;
    let areas = areas()?;
    let mut tx = db.pool().begin().await?;
    for chunk in municipalities.chunks(BATCH) {
        // Only generated `$n` placeholders are formatted into the SQL; every value is bound.
        let sql = format!(
            "INSERT INTO municipalities (code, prefecture_code, name, kana, kind, parent_code, search_key, \
             valid_from, valid_until, successor_code, note) VALUES {} \
             ON CONFLICT (code) DO UPDATE SET prefecture_code = excluded.prefecture_code, \
             name = excluded.name, kana = excluded.kana, kind = excluded.kind, \
             parent_code = excluded.parent_code, search_key = excluded.search_key, \
             valid_from = excluded.valid_from, valid_until = excluded.valid_until, \
             successor_code = excluded.successor_code, note = excluded.note",
            backend::placeholder_rows(chunk.len(), 11)
        );
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
        for m in chunk {
            insert = insert
                .bind(m.code.clone())
                .bind(m.prefecture_code.clone())
                .bind(m.name.clone())
                .bind(m.kana.clone())
                .bind(m.kind.clone())
                .bind((!m.parent_code.is_empty()).then(|| m.parent_code.clone()))
                .bind(search_key(&format!("{} {} {}", m.name, m.kana, m.code)))
                .bind(optional(&m.valid_from))
                .bind(optional(&m.valid_until))
                .bind(optional(&m.successor_code))
                .bind(optional(&m.note));
        }
        insert.execute(&mut *tx).await?;
    }
    sqlx::query("DELETE FROM area_members")
        .execute(&mut *tx)
        .await?;
    let mut seen_areas = std::collections::BTreeSet::new();
    for area in &areas {
        if seen_areas.insert(area.area_id.clone()) {
            sqlx::query(
                "INSERT INTO areas (id, prefecture_code, name, kana) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO UPDATE SET prefecture_code = excluded.prefecture_code, \
                 name = excluded.name, kana = excluded.kana",
            )
            .bind(area.area_id.clone())
            .bind(area.prefecture_code.clone())
            .bind(area.name.clone())
            .bind(area.kana.clone())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("INSERT INTO area_members (area_id, municipality_code) VALUES ($1, $2)")
            .bind(area.area_id.clone())
            .bind(area.municipality_code.clone())
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO reference_snapshots (name, snapshot, loaded_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET snapshot = excluded.snapshot, loaded_at = excluded.loaded_at",
    )
    .bind(SNAPSHOT_NAME)
    .bind(wanted)
    // When the snapshot was loaded, for operators (`tsunagu check`): the real time, as the
    // load runs at start-up before any request (and its clock) exists.
    .bind(codec::instant_to_db(tsunagu_core::clock::Clock::now(
        &tsunagu_core::clock::SystemClock,
    )))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(
        municipalities = municipalities.len(),
        areas = seen_areas.len(),
        "reference data loaded"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_parses_and_every_code_verifies() {
        let all = municipalities().unwrap();
        let prefectures = all.iter().filter(|m| m.kind == "prefecture").count();
        assert_eq!(prefectures, 47);
        // 1,718 cities, towns and villages plus the 23 special wards.
        let local = all
            .iter()
            .filter(|m| {
                matches!(
                    m.kind.as_str(),
                    "city" | "designated_city" | "special_ward" | "town" | "village"
                )
            })
            .count();
        assert_eq!(local, 1741);
        let itabashi = all.iter().find(|m| m.code == "131199").unwrap();
        assert_eq!(
            (itabashi.name.as_str(), itabashi.kana.as_str()),
            ("板橋区", "いたばしく")
        );
    }

    #[test]
    fn hamamatsus_wards_of_2024_are_in_and_the_seven_old_ones_lead_to_them() {
        let all = municipalities().unwrap();
        let find = |code: &str| all.iter().find(|m| m.code == code).unwrap();
        let chuo = find("221384");
        assert_eq!(
            (chuo.name.as_str(), chuo.valid_from.as_str()),
            ("浜松市中央区", "2024-01-01")
        );
        assert_eq!(find("221392").name, "浜松市浜名区");
        // 天竜区 kept its code.
        assert!(find("221376").valid_until.is_empty());
        for (old, successor) in [
            ("221317", "221384"),
            ("221325", "221384"),
            ("221333", "221384"),
            ("221341", "221384"),
            ("221350", "221392"),
            ("221368", "221392"),
        ] {
            let ward = find(old);
            assert_eq!(ward.valid_until, "2023-12-31", "{old}");
            assert_eq!(ward.successor_code, successor, "{old}");
            assert!(ward.source.contains("総務省"), "{old}");
        }
        // The snapshot's own count plus the two new wards.
        assert_eq!(all.len(), 1963 + 2);
    }

    #[test]
    fn every_area_member_exists() {
        let codes: std::collections::HashSet<String> = municipalities()
            .unwrap()
            .into_iter()
            .map(|m| m.code)
            .collect();
        for area in areas().unwrap() {
            assert!(codes.contains(&area.municipality_code), "{area:?}");
        }
    }
}
