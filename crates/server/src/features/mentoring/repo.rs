//! The programme's SQL: mentors with their weekly pattern and days off, applications, and
//! confirmed consultations (one per mentor and slot, by a unique index).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use tsunagu_core::access::Target;
use tsunagu_core::ids::{AccountId, ApplicationId, ChildId, MentorId, OrganisationId};
use tsunagu_core::municipality::MunicipalityCode;

use crate::db::{Db, codec};

pub const APPLICATION: &str = "mentor_application";

fn list(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

// ---------------------------------------------------------------------------------------
// Mentors
// ---------------------------------------------------------------------------------------

/// A mentor as stored, with their weekly pattern and days off.
#[derive(Debug, Clone)]
pub struct Mentor {
    pub id: MentorId,
    pub office_id: OrganisationId,
    pub account_id: Option<AccountId>,
    pub nickname: String,
    pub child_care: Vec<String>,
    pub industry: String,
    pub work_style: String,
    pub work_path: String,
    pub story: String,
    pub topics: Vec<String>,
    pub public_consent: bool,
    pub monthly_cap: i64,
    pub active: bool,
    pub version: i64,
    /// `(weekday from Monday = 0, slot index)`.
    pub weekly: Vec<(u32, usize)>,
    pub days_off: Vec<NaiveDate>,
}

/// What the office's form writes.
#[derive(Debug, Clone, PartialEq)]
pub struct MentorInput {
    pub account_id: Option<AccountId>,
    pub nickname: String,
    pub child_care: Vec<String>,
    pub industry: String,
    pub work_style: String,
    pub work_path: String,
    pub story: String,
    pub topics: Vec<String>,
    pub public_consent: bool,
    pub monthly_cap: i64,
    pub active: bool,
    pub weekly: Vec<(u32, usize)>,
    pub days_off: Vec<NaiveDate>,
}

const MENTOR_COLUMNS: &str = "SELECT id, office_id, account_id, nickname, child_care, industry, work_style, \
     work_path, story, topics, public_consent, monthly_cap, active, version FROM mentors ";

fn mentor_from(row: &AnyRow) -> Result<Mentor, sqlx::Error> {
    let care: String = row.try_get("child_care")?;
    let topics: String = row.try_get("topics")?;
    let account: Option<String> = row.try_get("account_id")?;
    Ok(Mentor {
        id: MentorId::from_stored(row.try_get("id")?),
        office_id: OrganisationId::from_stored(row.try_get("office_id")?),
        account_id: account.map(AccountId::from_stored),
        nickname: row.try_get("nickname")?,
        child_care: list(&care),
        industry: row.try_get("industry")?,
        work_style: row.try_get("work_style")?,
        work_path: row.try_get("work_path")?,
        story: row.try_get("story")?,
        topics: list(&topics),
        public_consent: codec::get_flag(row, "public_consent")?,
        monthly_cap: row.try_get("monthly_cap")?,
        active: codec::get_flag(row, "active")?,
        version: row.try_get("version")?,
        weekly: Vec::new(),
        days_off: Vec::new(),
    })
}

/// Fills in the weekly patterns and days off of these mentors (two statements).
async fn with_availability(db: &Db, mut mentors: Vec<Mentor>) -> Result<Vec<Mentor>, sqlx::Error> {
    if mentors.is_empty() {
        return Ok(mentors);
    }
    let office = mentors[0].office_id.clone();
    let rows = sqlx::query(
        "SELECT w.mentor_id, w.weekday, w.slot_index FROM mentor_weekly w \
         JOIN mentors m ON m.id = w.mentor_id WHERE m.office_id = $1 \
         ORDER BY w.mentor_id, w.weekday, w.slot_index",
    )
    .bind(office.as_str())
    .fetch_all(db.pool())
    .await?;
    for row in rows {
        let id: String = row.try_get(0)?;
        let weekday: i64 = row.try_get(1)?;
        let slot: i64 = row.try_get(2)?;
        if let Some(m) = mentors.iter_mut().find(|m| m.id.as_str() == id) {
            m.weekly.push((weekday as u32, slot as usize));
        }
    }
    let rows = sqlx::query(
        "SELECT d.mentor_id, d.day FROM mentor_days_off d JOIN mentors m ON m.id = d.mentor_id \
         WHERE m.office_id = $1 ORDER BY d.mentor_id, d.day",
    )
    .bind(office.as_str())
    .fetch_all(db.pool())
    .await?;
    for row in rows {
        let id: String = row.try_get(0)?;
        let day: String = row.try_get(1)?;
        if let Some(m) = mentors.iter_mut().find(|m| m.id.as_str() == id) {
            m.days_off.push(codec::date_from_db(&day, "day")?);
        }
    }
    Ok(mentors)
}

/// Every mentor of an office, by nickname.
pub async fn mentors_of(db: &Db, office: &OrganisationId) -> Result<Vec<Mentor>, sqlx::Error> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{MENTOR_COLUMNS} WHERE office_id = $1 ORDER BY nickname, id"
    )))
    .bind(office.as_str())
    .fetch_all(db.pool())
    .await?;
    let mentors = rows
        .iter()
        .map(mentor_from)
        .collect::<Result<Vec<_>, _>>()?;
    with_availability(db, mentors).await
}

/// One mentor, with their availability.
pub async fn mentor(db: &Db, id: &str) -> Result<Option<Mentor>, sqlx::Error> {
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{MENTOR_COLUMNS} WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(db.pool())
    .await?
    else {
        return Ok(None);
    };
    let found = mentor_from(&row)?;
    let id = found.id.to_string();
    Ok(with_availability(db, vec![found])
        .await?
        .into_iter()
        .find(|m| m.id.as_str() == id))
}

/// The mentor whose own account this is.
pub async fn mentor_of_account(
    db: &Db,
    account: &AccountId,
) -> Result<Option<Mentor>, sqlx::Error> {
    let id: Option<String> = sqlx::query("SELECT id FROM mentors WHERE account_id = $1")
        .bind(account.as_str())
        .fetch_optional(db.pool())
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    match id {
        Some(id) => mentor(db, &id).await,
        None => Ok(None),
    }
}

async fn write_availability(
    conn: &mut AnyConnection,
    id: &str,
    input: &MentorInput,
) -> Result<(), sqlx::Error> {
    for statement in [
        "DELETE FROM mentor_weekly WHERE mentor_id = $1",
        "DELETE FROM mentor_days_off WHERE mentor_id = $1",
    ] {
        sqlx::query(statement).bind(id).execute(&mut *conn).await?;
    }
    for (weekday, slot) in &input.weekly {
        sqlx::query(
            "INSERT INTO mentor_weekly (mentor_id, weekday, slot_index) VALUES ($1, $2, $3)",
        )
        .bind(id)
        .bind(i64::from(*weekday))
        .bind(*slot as i64)
        .execute(&mut *conn)
        .await?;
    }
    for day in &input.days_off {
        sqlx::query("INSERT INTO mentor_days_off (mentor_id, day) VALUES ($1, $2)")
            .bind(id)
            .bind(codec::date_to_db(*day))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn insert_mentor(
    conn: &mut AnyConnection,
    id: &str,
    office: &OrganisationId,
    input: &MentorInput,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let at = codec::instant_to_db(now);
    sqlx::query(
        "INSERT INTO mentors (id, office_id, account_id, nickname, child_care, industry, work_style, \
         work_path, story, topics, public_consent, monthly_cap, active, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
    )
    .bind(id)
    .bind(office.as_str())
    .bind(input.account_id.as_ref().map(AccountId::as_str))
    .bind(&input.nickname)
    .bind(input.child_care.join(","))
    .bind(&input.industry)
    .bind(&input.work_style)
    .bind(&input.work_path)
    .bind(&input.story)
    .bind(input.topics.join(","))
    .bind(input.public_consent)
    .bind(input.monthly_cap)
    .bind(input.active)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    write_availability(conn, id, input).await
}

/// Saves an edit if the mentor is still at `expected`; false otherwise.
pub async fn update_mentor(
    conn: &mut AnyConnection,
    id: &str,
    expected: i64,
    input: &MentorInput,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE mentors SET account_id = $1, nickname = $2, child_care = $3, industry = $4, \
         work_style = $5, work_path = $6, story = $7, topics = $8, public_consent = $9, \
         monthly_cap = $10, active = $11, updated_at = $12, version = version + 1 \
         WHERE id = $13 AND version = $14",
    )
    .bind(input.account_id.as_ref().map(AccountId::as_str))
    .bind(&input.nickname)
    .bind(input.child_care.join(","))
    .bind(&input.industry)
    .bind(&input.work_style)
    .bind(&input.work_path)
    .bind(&input.story)
    .bind(input.topics.join(","))
    .bind(input.public_consent)
    .bind(input.monthly_cap)
    .bind(input.active)
    .bind(codec::instant_to_db(now))
    .bind(id)
    .bind(expected)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    write_availability(conn, id, input).await?;
    Ok(true)
}

impl crate::gate::Record for Mentor {
    const RESOURCE: &'static str = "mentor";
    const NOT_FOUND_JA: &'static str =
        "指定されたメンターは見つかりません（存在しないか、担当する範囲の外にあります）";
    const BACK: (&'static str, &'static str) = ("/mentoring/mentors", "メンターの一覧へ戻る");

    type Id = MentorId;

    async fn load(
        db: &Db,
        id: &MentorId,
        _today: NaiveDate,
    ) -> Result<Option<(Self, Target)>, sqlx::Error> {
        let Some(found) = mentor(db, id.as_str()).await? else {
            return Ok(None);
        };
        let Some(target) = office_target(db, &found.office_id, "mentor", id.as_str()).await? else {
            return Ok(None);
        };
        Ok(Some((found, target)))
    }

    fn id(&self) -> &MentorId {
        &self.id
    }

    fn child_id(&self) -> Option<&ChildId> {
        None
    }
}

/// What the policy decides on for a record of an office: the office's place (its
/// municipality, the prefecture's own code), owned by the office.
async fn office_target(
    db: &Db,
    office: &OrganisationId,
    resource: &str,
    id: &str,
) -> Result<Option<Target>, sqlx::Error> {
    let Some(office) = crate::organisations::repo::get(db, office).await? else {
        return Ok(None);
    };
    let Ok(place) = MunicipalityCode::parse(&office.municipality_code) else {
        return Ok(None);
    };
    let mut target = Target::place(resource, place);
    target.resource_id = id.to_string();
    target.owner_organisation_id = office.id;
    Ok(Some(target))
}

// ---------------------------------------------------------------------------------------
// Applications
// ---------------------------------------------------------------------------------------

/// An application as stored.
#[derive(Debug, Clone)]
pub struct Application {
    pub id: ApplicationId,
    pub reference: String,
    pub office_id: OrganisationId,
    pub account_id: Option<AccountId>,
    pub name: String,
    pub email: String,
    pub municipality_code: String,
    pub child_care: Vec<String>,
    pub work: String,
    pub topics: Vec<String>,
    pub preference: String,
    pub message: String,
    /// Slot keys, in the family's order.
    pub wishes: Vec<String>,
    pub status: String,
    pub decline_reason: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

/// What an application writes.
pub struct NewApplication<'a> {
    pub id: &'a str,
    pub reference: &'a str,
    pub office_id: &'a OrganisationId,
    pub idempotency_key: &'a str,
    pub family_key: &'a str,
    pub account_id: Option<&'a AccountId>,
    pub name: &'a str,
    pub email: &'a str,
    pub municipality_code: &'a str,
    pub child_care: &'a [String],
    pub work: &'a str,
    pub topics: &'a [String],
    pub preference: &'a str,
    pub message: &'a str,
    pub wishes: &'a [String],
}

const APPLICATION_COLUMNS: &str = "SELECT id, reference, office_id, account_id, name, email, municipality_code, \
     child_care, work, topics, preference, message, wishes, status, decline_reason, version, \
     created_at FROM mentor_applications ";

fn application_from(row: &AnyRow) -> Result<Application, sqlx::Error> {
    let care: String = row.try_get("child_care")?;
    let topics: String = row.try_get("topics")?;
    let wishes: String = row.try_get("wishes")?;
    let account: Option<String> = row.try_get("account_id")?;
    Ok(Application {
        id: ApplicationId::from_stored(row.try_get("id")?),
        reference: row.try_get("reference")?,
        office_id: OrganisationId::from_stored(row.try_get("office_id")?),
        account_id: account.map(AccountId::from_stored),
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        municipality_code: row.try_get("municipality_code")?,
        child_care: list(&care),
        work: row.try_get("work")?,
        topics: list(&topics),
        preference: row.try_get("preference")?,
        message: row.try_get("message")?,
        wishes: list(&wishes),
        status: row.try_get("status")?,
        decline_reason: row.try_get("decline_reason")?,
        version: row.try_get("version")?,
        created_at: codec::get_instant(row, "created_at")?,
    })
}

/// Stores an application unless one with its idempotency key exists (a form sent twice):
/// true when this call stored it. Refused (false, nothing written) when the family already
/// has `pending_limit` applications waiting.
pub async fn insert_application(
    conn: &mut AnyConnection,
    new: &NewApplication<'_>,
    pending_limit: i64,
    now: DateTime<Utc>,
) -> Result<Inserted, sqlx::Error> {
    let at = codec::instant_to_db(now);
    // The write first (SQLite takes its lock before the count is read).
    let done = sqlx::query(
        "INSERT INTO mentor_applications (id, reference, office_id, idempotency_key, family_key, \
         account_id, name, email, municipality_code, child_care, work, topics, preference, message, \
         wishes, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16) \
         ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(new.id)
    .bind(new.reference)
    .bind(new.office_id.as_str())
    .bind(new.idempotency_key)
    .bind(new.family_key)
    .bind(new.account_id.map(AccountId::as_str))
    .bind(new.name)
    .bind(new.email)
    .bind(new.municipality_code)
    .bind(new.child_care.join(","))
    .bind(new.work)
    .bind(new.topics.join(","))
    .bind(new.preference)
    .bind(new.message)
    .bind(new.wishes.join(","))
    .bind(at)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(Inserted::Again);
    }
    let pending: i64 = sqlx::query(
        "SELECT count(*) FROM mentor_applications WHERE family_key = $1 AND status = 'pending'",
    )
    .bind(new.family_key)
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?;
    if pending > pending_limit {
        return Ok(Inserted::TooMany);
    }
    Ok(Inserted::Stored)
}

/// What storing an application came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    Stored,
    /// The same form was sent before: the first one stands.
    Again,
    /// The family has as many applications waiting as the programme allows: the caller
    /// rolls back.
    TooMany,
}

pub async fn application_by_key(db: &Db, key: &str) -> Result<Option<Application>, sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "{APPLICATION_COLUMNS} WHERE idempotency_key = $1"
    )))
    .bind(key)
    .fetch_optional(db.pool())
    .await?
    .as_ref()
    .map(application_from)
    .transpose()
}

pub async fn application(db: &Db, id: &str) -> Result<Option<Application>, sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "{APPLICATION_COLUMNS} WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(db.pool())
    .await?
    .as_ref()
    .map(application_from)
    .transpose()
}

/// An office's applications, waiting ones first, newest first within.
pub async fn applications_of(
    db: &Db,
    office: &OrganisationId,
    limit: i64,
) -> Result<Vec<Application>, sqlx::Error> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{APPLICATION_COLUMNS} WHERE office_id = $1 \
         ORDER BY CASE status WHEN 'pending' THEN 0 ELSE 1 END, created_at DESC, id LIMIT $2"
    )))
    .bind(office.as_str())
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(application_from).collect()
}

/// A family's own applications (a signed-in guardian), newest first.
pub async fn applications_by(
    db: &Db,
    account: &AccountId,
) -> Result<Vec<Application>, sqlx::Error> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{APPLICATION_COLUMNS} WHERE account_id = $1 ORDER BY created_at DESC, id LIMIT 50"
    )))
    .bind(account.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(application_from).collect()
}

pub async fn pending_count(db: &Db, office: &OrganisationId) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "SELECT count(*) FROM mentor_applications WHERE office_id = $1 AND status = 'pending'",
    )
    .bind(office.as_str())
    .fetch_one(db.pool())
    .await?
    .try_get(0)
}

impl crate::gate::Record for Application {
    const RESOURCE: &'static str = APPLICATION;
    const NOT_FOUND_JA: &'static str =
        "指定された申込は見つかりません（存在しないか、担当する範囲の外にあります）";
    const BACK: (&'static str, &'static str) = ("/mentoring", "申込の一覧へ戻る");

    type Id = ApplicationId;

    async fn load(
        db: &Db,
        id: &ApplicationId,
        _today: NaiveDate,
    ) -> Result<Option<(Self, Target)>, sqlx::Error> {
        let Some(found) = application(db, id.as_str()).await? else {
            return Ok(None);
        };
        let Some(mut target) =
            office_target(db, &found.office_id, APPLICATION, found.id.as_str()).await?
        else {
            return Ok(None);
        };
        target.guardian_account_ids = found.account_id.iter().cloned().collect();
        Ok(Some((found, target)))
    }

    fn id(&self) -> &ApplicationId {
        &self.id
    }

    fn child_id(&self) -> Option<&ChildId> {
        None
    }
}

// ---------------------------------------------------------------------------------------
// Consultations
// ---------------------------------------------------------------------------------------

/// A consultation as a list shows it.
#[derive(Debug, Clone)]
pub struct Consultation {
    pub id: String,
    pub application_id: String,
    pub mentor_id: String,
    pub mentor_nickname: String,
    pub slot: String,
    pub meeting_url: String,
    pub status: String,
    pub sequence: i64,
    pub family_name: String,
    pub topics: Vec<String>,
}

/// Confirmed consultations of an office's mentors whose slot key lies in [from, to).
pub async fn taken(
    db: &Db,
    office: &OrganisationId,
    from: &str,
    to: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT c.mentor_id, c.slot FROM mentor_consultations c JOIN mentors m ON m.id = c.mentor_id \
         WHERE m.office_id = $1 AND c.status = 'confirmed' AND c.slot >= $2 AND c.slot < $3",
    )
    .bind(office.as_str())
    .bind(from)
    .bind(to)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

const CONSULTATION_COLUMNS: &str = "SELECT c.id, c.application_id, c.mentor_id, m.nickname, c.slot, c.meeting_url, \
     c.status, c.sequence, a.name AS family_name, a.topics FROM mentor_consultations c \
     JOIN mentors m ON m.id = c.mentor_id JOIN mentor_applications a ON a.id = c.application_id ";

fn consultation_from(row: &AnyRow) -> Result<Consultation, sqlx::Error> {
    let topics: String = row.try_get("topics")?;
    Ok(Consultation {
        id: row.try_get("id")?,
        application_id: row.try_get("application_id")?,
        mentor_id: row.try_get("mentor_id")?,
        mentor_nickname: row.try_get("nickname")?,
        slot: row.try_get("slot")?,
        meeting_url: row.try_get("meeting_url")?,
        status: row.try_get("status")?,
        sequence: row.try_get("sequence")?,
        family_name: row.try_get("family_name")?,
        topics: list(&topics),
    })
}

/// A mentor's confirmed consultations from `from` (a slot key) on, soonest first.
pub async fn consultations_of_mentor(
    db: &Db,
    mentor: &str,
    from: &str,
) -> Result<Vec<Consultation>, sqlx::Error> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{CONSULTATION_COLUMNS} WHERE c.mentor_id = $1 AND c.status = 'confirmed' AND c.slot >= $2 \
         ORDER BY c.slot LIMIT 100"
    )))
    .bind(mentor)
    .bind(from)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(consultation_from).collect()
}

/// The confirmed consultation of an application, if any.
pub async fn consultation_of(
    db: &Db,
    application: &str,
) -> Result<Option<Consultation>, sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "{CONSULTATION_COLUMNS} WHERE c.application_id = $1 AND c.status = 'confirmed'"
    )))
    .bind(application)
    .fetch_optional(db.pool())
    .await?
    .as_ref()
    .map(consultation_from)
    .transpose()
}

/// Confirms a waiting application at `expected` with a mentor and slot. `Ok(false)` when the
/// application is no longer waiting at that version. A mentor already confirmed in the slot
/// is refused by the unique index: the caller turns that error into a conflict (and the
/// transaction rolls back).
#[allow(clippy::too_many_arguments)]
pub async fn confirm(
    conn: &mut AnyConnection,
    application: &str,
    expected: i64,
    consultation_id: &str,
    mentor: &str,
    slot: &str,
    meeting_url: &str,
    by: &AccountId,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let at = codec::instant_to_db(now);
    let done = sqlx::query(
        "UPDATE mentor_applications SET status = 'confirmed', updated_at = $1, version = version + 1 \
         WHERE id = $2 AND version = $3 AND status = 'pending'",
    )
    .bind(at)
    .bind(application)
    .bind(expected)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO mentor_consultations (id, application_id, mentor_id, slot, meeting_url, \
         confirmed_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(consultation_id)
    .bind(application)
    .bind(mentor)
    .bind(slot)
    .bind(meeting_url)
    .bind(by.as_str())
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

/// Declines a waiting application at `expected`, with the reason; false otherwise.
pub async fn decline(
    conn: &mut AnyConnection,
    application: &str,
    expected: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE mentor_applications SET status = 'declined', decline_reason = $1, updated_at = $2, \
         version = version + 1 WHERE id = $3 AND version = $4 AND status = 'pending'",
    )
    .bind(reason)
    .bind(codec::instant_to_db(now))
    .bind(application)
    .bind(expected)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many consultations a mentor has confirmed in a month (`YYYY-MM`).
pub async fn load_in_month(db: &Db, mentor: &str, month: &str) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "SELECT count(*) FROM mentor_consultations WHERE mentor_id = $1 AND status = 'confirmed' \
         AND slot >= $2 AND slot < $3",
    )
    .bind(mentor)
    .bind(format!("{month}-01"))
    .bind(format!("{month}-32"))
    .fetch_one(db.pool())
    .await?
    .try_get(0)
}
