//! Storing a whole profile: create, load, and update with a version check that keeps the
//! edit history. The second of two concurrent writers gets [`Saved::Conflict`] and the
//! changes made since the version they started from, never a silent overwrite.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use tsunagu_core::ids::{AccountId, ChildId, OrganisationId};

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use tsunagu_core::device::DeviceKind;
use tsunagu_core::kana::search_key;
use tsunagu_core::municipality::MunicipalityCode;

use crate::db::{Db, codec};
use crate::features::children::profile::{Change, Device, Guardian, Profile, Sibling};
use crate::features::children::repo;

fn optional_date(text: Option<String>) -> Option<NaiveDate> {
    text.and_then(|t| NaiveDate::parse_from_str(&t, "%Y-%m-%d").ok())
}

fn decode(column: &str, message: String) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source: message.into(),
    }
}

/// The profile and its version, or `None` for no such child.
pub async fn load(db: &Db, id: &ChildId) -> Result<Option<(Profile, i64)>, sqlx::Error> {
    load_on(&mut *db.pool().acquire().await?, id).await
}

/// [`load`] on a connection the caller holds (a page that reads more on the same one).
pub async fn load_on(
    conn: &mut AnyConnection,
    id: &ChildId,
) -> Result<Option<(Profile, i64)>, sqlx::Error> {
    let mut found = load_chunk(conn, &[id.as_str()]).await?;
    Ok(found.remove(id.as_str()))
}

/// Children per statement when loading many: well under both backends' limits on bound
/// parameters (the lists' statement binds each id once).
const LOAD_CHUNK: usize = 500;

/// The profiles of many children (an export), two statements per 500 children instead of
/// two per child; children not found are absent from the map.
pub async fn load_many(
    db: &Db,
    ids: &[ChildId],
) -> Result<HashMap<String, (Profile, i64)>, sqlx::Error> {
    let mut conn = db.pool().acquire().await?;
    let mut all = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(LOAD_CHUNK) {
        let chunk: Vec<&str> = chunk.iter().map(ChildId::as_str).collect();
        all.extend(load_chunk(&mut conn, &chunk).await?);
    }
    Ok(all)
}

/// The devices of these children, by id, as a mask (`DeviceKind::mask`): the transition
/// board weighs services for them (lists do not carry devices).
pub async fn device_masks_of(
    db: &Db,
    ids: &[&ChildId],
) -> Result<HashMap<String, i64>, sqlx::Error> {
    let mut found = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(LOAD_CHUNK) {
        let sql = format!(
            "SELECT id, device_mask FROM children WHERE id IN ({})",
            placeholders(chunk.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(db.pool()).await? {
            found.insert(row.try_get("id")?, row.try_get("device_mask")?);
        }
    }
    Ok(found)
}

/// The 在籍先 of these children, by id: the transition board asks for the few whose next
/// step is nursery entry (lists do not carry it).
pub async fn attending_of(
    db: &Db,
    ids: &[&ChildId],
) -> Result<HashMap<String, String>, sqlx::Error> {
    let mut found = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(LOAD_CHUNK) {
        let sql = format!(
            "SELECT id, attending FROM children WHERE id IN ({})",
            placeholders(chunk.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(db.pool()).await? {
            found.insert(row.try_get("id")?, row.try_get("attending")?);
        }
    }
    Ok(found)
}

use codec::placeholders;

async fn load_chunk(
    conn: &mut AnyConnection,
    ids: &[&str],
) -> Result<HashMap<String, (Profile, i64)>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let list = placeholders(ids.len());
    let sql = format!(
        "SELECT id, name, kana, birth_date, sex, municipality_code, address, status, status_date, intake_source, \
         intake_date, diagnoses, hospital, doctor, physical_disability_grade, ryoiku_techo, recipient_certificate, \
         care_category, attending, version FROM children WHERE id IN ({list})"
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in ids {
        query = query.bind(*id);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    if rows.is_empty() {
        return Ok(HashMap::new());
    }
    // The four lists in one round trip: one row per member, tagged with its list; text in
    // columns a–g and numbers in n1–n3, as each list needs them.
    let sql = format!(
        "SELECT child_id, 'guardian' AS list, position, name AS a, kana AS b, relation AS c, phone AS d, \
         email AS e, employment AS f, wishes_to_work AS g, CAST(NULL AS BIGINT) AS n1, \
         CAST(NULL AS BIGINT) AS n2, CAST(NULL AS BIGINT) AS n3 FROM guardians WHERE child_id IN ({list}) \
         UNION ALL SELECT child_id, 'device', position, kind, note, NULL, NULL, NULL, NULL, NULL, power_watts, \
         battery_internal_minutes, battery_external_minutes FROM child_devices WHERE child_id IN ({list}) \
         UNION ALL SELECT child_id, 'sibling', position, name, birth_date, note, NULL, NULL, NULL, NULL, NULL, \
         NULL, NULL FROM child_siblings WHERE child_id IN ({list}) \
         UNION ALL SELECT child_id, 'care', 0, item, variant, watch, NULL, NULL, NULL, NULL, NULL, NULL, NULL \
         FROM child_care_items WHERE child_id IN ({list}) \
         ORDER BY 1, 2, 3"
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in ids {
        query = query.bind(*id);
    }
    let members = query.fetch_all(&mut *conn).await?;
    let mut lists: HashMap<String, Lists> = HashMap::new();
    for r in &members {
        let child: String = r.try_get("child_id")?;
        lists.entry(child).or_default().push(r)?;
    }
    let mut found = HashMap::with_capacity(rows.len());
    for row in &rows {
        let id: String = row.try_get("id")?;
        let lists = lists.remove(&id).unwrap_or_default();
        found.insert(id, profile_of(row, lists)?);
    }
    Ok(found)
}

/// A child's lists as read, before they join the profile.
#[derive(Default)]
struct Lists {
    guardians: Vec<Guardian>,
    devices: Vec<Device>,
    siblings: Vec<Sibling>,
    care: Vec<tsunagu_core::care::CareEntry>,
}

impl Lists {
    fn push(&mut self, r: &AnyRow) -> Result<(), sqlx::Error> {
        let list: String = r.try_get("list")?;
        match list.as_str() {
            "guardian" => self.guardians.push(Guardian {
                name: r.try_get("a")?,
                kana: r.try_get("b")?,
                relation: r.try_get("c")?,
                phone: r.try_get("d")?,
                email: r.try_get("e")?,
                employment: r.try_get("f")?,
                wishes_to_work: r.try_get("g")?,
            }),
            "device" => {
                let kind: String = r.try_get("a")?;
                self.devices.push(Device {
                    kind: DeviceKind::parse(&kind)
                        .ok_or_else(|| decode("kind", format!("unknown device {kind}")))?,
                    note: r.try_get("b")?,
                    power_watts: r.try_get("n1")?,
                    battery_internal_minutes: r.try_get("n2")?,
                    battery_external_minutes: r.try_get("n3")?,
                })
            }
            "sibling" => self.siblings.push(Sibling {
                name: r.try_get("a")?,
                birth_date: optional_date(r.try_get("b")?),
                note: r.try_get("c")?,
            }),
            _ => self.care.push(repo::care_entry(
                &r.try_get::<String, _>("a")?,
                r.try_get::<Option<String>, _>("b")?.as_deref(),
                r.try_get::<Option<String>, _>("c")?.as_deref(),
            )?),
        }
        Ok(())
    }
}

fn profile_of(row: &AnyRow, mut lists: Lists) -> Result<(Profile, i64), sqlx::Error> {
    let code: String = row.try_get("municipality_code")?;
    // In the score sheet's order.
    lists.care.sort_by_key(|e| (e.item, e.variant));
    let profile = Profile {
        name: row.try_get("name")?,
        kana: row.try_get("kana")?,
        birth_date: codec::get_date(row, "birth_date")?,
        sex: row.try_get("sex")?,
        municipality_code: MunicipalityCode::parse(&code)
            .map_err(|e| decode("municipality_code", e.to_string()))?,
        address: row.try_get("address")?,
        status: row.try_get("status")?,
        status_date: optional_date(row.try_get("status_date")?),
        intake_source: row.try_get("intake_source")?,
        intake_date: optional_date(row.try_get("intake_date")?),
        diagnoses: row.try_get("diagnoses")?,
        hospital: row.try_get("hospital")?,
        doctor: row.try_get("doctor")?,
        physical_disability_grade: row.try_get("physical_disability_grade")?,
        ryoiku_techo: row.try_get("ryoiku_techo")?,
        recipient_certificate: row.try_get("recipient_certificate")?,
        care_category: row.try_get("care_category")?,
        attending: row.try_get("attending")?,
        care: lists.care,
        guardians: lists.guardians,
        devices: lists.devices,
        siblings: lists.siblings,
    };
    Ok((profile, row.try_get("version")?))
}

/// Writes the lists that hang off the child (guardians, devices, siblings, care items).
async fn write_lists(
    conn: &mut AnyConnection,
    id: &ChildId,
    profile: &Profile,
) -> Result<(), sqlx::Error> {
    for table in [
        "DELETE FROM guardians WHERE child_id = $1",
        "DELETE FROM child_devices WHERE child_id = $1",
        "DELETE FROM child_siblings WHERE child_id = $1",
    ] {
        sqlx::query(table)
            .bind(id.as_str())
            .execute(&mut *conn)
            .await?;
    }
    for (position, g) in profile.guardians.iter().enumerate() {
        sqlx::query(
            "INSERT INTO guardians (id, child_id, position, name, kana, relation, phone, email, employment, \
             wishes_to_work) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(id.as_str())
        .bind(position as i64)
        .bind(&g.name)
        .bind(&g.kana)
        .bind(&g.relation)
        .bind(&g.phone)
        .bind(&g.email)
        .bind(&g.employment)
        .bind(&g.wishes_to_work)
        .execute(&mut *conn)
        .await?;
    }
    for (position, d) in profile.devices.iter().enumerate() {
        sqlx::query(
            "INSERT INTO child_devices (id, child_id, position, kind, power_watts, battery_internal_minutes, \
             battery_external_minutes, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(id.as_str())
        .bind(position as i64)
        .bind(d.kind.code())
        .bind(d.power_watts)
        .bind(d.battery_internal_minutes)
        .bind(d.battery_external_minutes)
        .bind(&d.note)
        .execute(&mut *conn)
        .await?;
    }
    for (position, s) in profile.siblings.iter().enumerate() {
        sqlx::query(
            "INSERT INTO child_siblings (id, child_id, position, name, birth_date, note) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(id.as_str())
        .bind(position as i64)
        .bind(&s.name)
        .bind(s.birth_date.map(codec::date_to_db))
        .bind(&s.note)
        .execute(&mut *conn)
        .await?;
    }
    repo::set_care(conn, id, &profile.care).await
}

/// Creates the record `id` owned by `owner`; the caller audits in the same transaction.
pub async fn create(
    conn: &mut AnyConnection,
    id: &ChildId,
    owner: &OrganisationId,
    profile: &Profile,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    repo::create(
        conn,
        id,
        &repo::NewChild {
            owner_organisation_id: owner.clone(),
            municipality_code: profile.municipality_code,
            name: profile.name.clone(),
            kana: profile.kana.clone(),
            birth_date: profile.birth_date,
            sex: profile.sex.clone(),
        },
        now,
    )
    .await?;
    write_details(conn, id, profile, None).await?;
    write_lists(conn, id, profile).await
}

/// The scalar fields beyond the ones `repo::create` writes. With `version`, only when the
/// record is still at that version (and the version moves on); the answer says whether a
/// row was written.
async fn write_details(
    conn: &mut AnyConnection,
    id: &ChildId,
    p: &Profile,
    version: Option<(i64, DateTime<Utc>)>,
) -> Result<bool, sqlx::Error> {
    let query = sqlx::query(
        "UPDATE children SET name = $1, kana = $2, search_key = $3, birth_date = $4, sex = $5, address = $6, \
         status = $7, status_date = $8, intake_source = $9, intake_date = $10, diagnoses = $11, hospital = $12, \
         doctor = $13, physical_disability_grade = $14, ryoiku_techo = $15, recipient_certificate = $16, \
         care_category = $17, attending = $18, version = version + $19, updated_at = COALESCE($20, updated_at), \
         device_mask = $21 WHERE id = $22 AND ($23 = 0 OR version = $24)",
    )
    .bind(&p.name)
    .bind(&p.kana)
    .bind(search_key(&format!("{} {}", p.name, p.kana)))
    .bind(codec::date_to_db(p.birth_date))
    .bind(&p.sex)
    .bind(&p.address)
    .bind(&p.status)
    .bind(p.status_date.map(codec::date_to_db))
    .bind(&p.intake_source)
    .bind(p.intake_date.map(codec::date_to_db))
    .bind(&p.diagnoses)
    .bind(&p.hospital)
    .bind(&p.doctor)
    .bind(&p.physical_disability_grade)
    .bind(&p.ryoiku_techo)
    .bind(&p.recipient_certificate)
    .bind(&p.care_category)
    .bind(&p.attending)
    .bind(i64::from(version.is_some()))
    .bind(version.map(|(_, at)| codec::instant_to_db(at)))
    // Lists filter on a device kind through this mask (the devices are written next).
    .bind(DeviceKind::mask(p.devices.iter().map(|d| &d.kind)))
    .bind(id.as_str())
    .bind(i64::from(version.is_some()))
    .bind(version.map(|(v, _)| v).unwrap_or(0));
    Ok(query.execute(conn).await?.rows_affected() == 1)
}

/// One edit as the history shows it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub version: i64,
    pub at: DateTime<Utc>,
    pub account_name: String,
    /// form / api / import / proposal
    pub source: String,
    pub changes: Vec<Change>,
}

impl HistoryEntry {
    pub fn source_ja(&self) -> &'static str {
        match self.source.as_str() {
            "api" => "API",
            "import" => "ファイル取込",
            "proposal" => "家族の申出を確認",
            _ => "画面",
        }
    }
}

/// Who edits which record, starting from which version, through what.
pub struct Edit<'a> {
    pub id: &'a ChildId,
    pub expected: i64,
    pub account_id: &'a AccountId,
    /// form / api / import / proposal
    pub source: &'a str,
    pub now: DateTime<Utc>,
}

/// Writes `profile` over the record if it is still at `edit.expected`, with its history
/// entry; `false` (nothing written) when someone else saved in between. Runs inside the
/// caller's transaction, which audits the change.
pub async fn write_edit(
    conn: &mut AnyConnection,
    edit: &Edit<'_>,
    profile: &Profile,
    changes: &[Change],
) -> Result<bool, sqlx::Error> {
    // Serialised first: an edit whose history cannot be written is not saved at all.
    let changes_json =
        serde_json::to_string(changes).map_err(|err| sqlx::Error::Encode(err.into()))?;
    if !write_details(conn, edit.id, profile, Some((edit.expected, edit.now))).await? {
        return Ok(false);
    }
    write_lists(conn, edit.id, profile).await?;
    sqlx::query(
        "INSERT INTO child_history (id, child_id, version, at, account_id, source, changes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(edit.id.as_str())
    .bind(edit.expected + 1)
    .bind(codec::instant_to_db(edit.now))
    .bind(edit.account_id.as_str())
    .bind(edit.source)
    .bind(changes_json)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

/// The edits after version `since`, oldest first.
pub async fn history(db: &Db, id: &ChildId, since: i64) -> Result<Vec<HistoryEntry>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT h.version, h.at, a.display_name, h.source, h.changes FROM child_history h \
         JOIN accounts a ON a.id = h.account_id WHERE h.child_id = $1 AND h.version > $2 ORDER BY h.version",
    )
    .bind(id.as_str())
    .bind(since)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let changes: String = r.try_get("changes")?;
            Ok(HistoryEntry {
                version: r.try_get("version")?,
                at: codec::get_instant(r, "at")?,
                account_name: r.try_get("display_name")?,
                source: r.try_get("source")?,
                changes: serde_json::from_str(&changes)
                    .map_err(|e| decode("changes", e.to_string()))?,
            })
        })
        .collect()
}

/// One active child as the gaps table counts them: where they live, their age, care, tier
/// and devices, and whether a guardian works or wishes to.
pub struct Facts {
    pub municipality_code: String,
    pub birth_date: NaiveDate,
    pub care_mask: i64,
    pub care_tier: String,
    pub device_mask: i64,
    pub family_works: bool,
}

/// The active children living in a prefecture (two digits), for counts only.
pub async fn facts_in_prefecture(db: &Db, prefecture: &str) -> Result<Vec<Facts>, sqlx::Error> {
    let upper = prefecture
        .parse::<u32>()
        .map(|n| format!("{:02}", n + 1))
        .unwrap_or_default();
    let rows = sqlx::query(
        "SELECT c.municipality_code, c.birth_date, c.care_mask, c.care_tier, c.device_mask, \
         CAST(CASE WHEN EXISTS (SELECT 1 FROM guardians g WHERE g.child_id = c.id \
           AND (g.wishes_to_work = 'yes' OR g.employment IN ('working', 'on_leave', 'seeking'))) \
         THEN 1 ELSE 0 END AS BIGINT) AS family_works \
         FROM children c WHERE c.status = 'active' \
         AND c.municipality_code >= $1 AND c.municipality_code < $2",
    )
    .bind(prefecture)
    .bind(upper)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let birth: String = row.try_get("birth_date")?;
            Ok(Facts {
                municipality_code: row.try_get("municipality_code")?,
                birth_date: codec::date_from_db(&birth, "birth_date")?,
                care_mask: row.try_get("care_mask")?,
                care_tier: row.try_get("care_tier")?,
                device_mask: row.try_get("device_mask")?,
                family_works: row.try_get::<i64, _>("family_works")? != 0,
            })
        })
        .collect()
}
