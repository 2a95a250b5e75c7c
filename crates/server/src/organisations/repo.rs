//! The organisations table.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use tsunagu_core::ids::OrganisationId;
use tsunagu_core::municipality::MunicipalityCode;

use super::{Department, OrganisationKind};
use crate::db::{Db, codec};

#[derive(Debug, Clone, Serialize)]
pub struct Organisation {
    pub id: OrganisationId,
    pub name: String,
    pub kana: String,
    pub kind: OrganisationKind,
    pub department: Option<Department>,
    pub municipality_code: String,
    pub active: bool,
    pub version: i64,
}

impl Organisation {
    /// 「障害福祉」 for a department, else the kind: what a list shows beside the name.
    pub fn kind_label(&self) -> &'static str {
        self.department
            .map(Department::label_ja)
            .unwrap_or_else(|| self.kind.label_ja())
    }
}

/// A new organisation; the kind and department arrive already parsed.
#[derive(Debug, Clone)]
pub struct NewOrganisation {
    pub name: String,
    pub kana: String,
    pub kind: OrganisationKind,
    pub department: Option<Department>,
    pub municipality_code: MunicipalityCode,
}

fn from_row(row: &AnyRow) -> Result<Organisation, sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    let department: Option<String> = row.try_get("department")?;
    let decode = |what: &str| sqlx::Error::ColumnDecode {
        index: what.into(),
        source: "unknown value".into(),
    };
    Ok(Organisation {
        id: OrganisationId::from_stored(row.try_get("id")?),
        name: row.try_get("name")?,
        kana: row.try_get("kana")?,
        kind: OrganisationKind::parse(&kind).ok_or_else(|| decode("kind"))?,
        department: department
            .map(|d| Department::parse(&d).ok_or_else(|| decode("department")))
            .transpose()?,
        municipality_code: row.try_get("municipality_code")?,
        active: codec::get_flag(row, "active")?,
        version: row.try_get("version")?,
    })
}

pub async fn create(
    db: &Db,
    new: &NewOrganisation,
    now: DateTime<Utc>,
) -> Result<Organisation, sqlx::Error> {
    let mut conn = db.pool().acquire().await?;
    insert(&mut conn, new, now).await
}

/// Active organisations tied to one municipality (or prefecture), by kana.
pub async fn in_municipality(db: &Db, code: &str) -> Result<Vec<Organisation>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, name, kana, kind, department, municipality_code, active, version \
         FROM organisations WHERE municipality_code = $1 AND active = $2 ORDER BY kana, id",
    )
    .bind(code)
    .bind(true)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

/// How far an administrator reaches: everywhere, or the organisations of some prefectures
/// (two-digit numbers, "13" for 東京都). System organisations (kind `system`) belong to no
/// prefecture: only `everything` reaches them, so a prefecture's administrator never sees
/// the operators' organisation or accounts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reach {
    pub everything: bool,
    pub prefectures: Vec<String>,
}

impl Reach {
    /// The prefectures and "everything" of a scope filter; organisation- and municipality-wide
    /// grants do not make anyone an administrator of organisations.
    pub fn from_filter(filter: &tsunagu_core::access::ScopeFilter) -> Self {
        let mut prefectures = filter.prefectures.clone();
        prefectures.sort();
        prefectures.dedup();
        Self {
            everything: filter.everything,
            prefectures,
        }
    }

    pub fn is_empty(&self) -> bool {
        !self.everything && self.prefectures.is_empty()
    }

    /// Whether an organisation of this kind at this municipality is within reach.
    pub fn covers(&self, kind: OrganisationKind, municipality_code: &str) -> bool {
        self.everything || (kind != OrganisationKind::System && self.covers_code(municipality_code))
    }

    /// Whether a municipality (by its code) lies in one of the prefectures.
    pub fn covers_code(&self, municipality_code: &str) -> bool {
        self.everything
            || municipality_code
                .get(..2)
                .is_some_and(|p| self.prefectures.iter().any(|x| x == p))
    }

    /// `$1`: 1 for everything; `$2`: the prefectures as `|13|01|`.
    pub(crate) fn binds(&self) -> (i64, String) {
        (
            i64::from(self.everything),
            tsunagu_core::access::ScopeFilter::joined(&self.prefectures),
        )
    }
}

/// An organisation (alias `o`) within a [`Reach`], parameters `$1` (everything) and `$2`
/// (`|13|01|`).
macro_rules! org_in_reach {
    () => {
        "($1 = 1 OR (o.kind <> 'system' AND $2 <> '' \
          AND $2 LIKE ('%|' || substr(o.municipality_code, 1, 2) || '|%')))"
    };
}
pub(crate) use org_in_reach;

macro_rules! select_organisation {
    ($($tail:tt)+) => {
        concat!(
            "SELECT o.id, o.name, o.kana, o.kind, o.department, o.municipality_code, o.active, o.version \
             FROM organisations o ",
            $($tail)+
        )
    };
}

pub async fn get(db: &Db, id: &OrganisationId) -> Result<Option<Organisation>, sqlx::Error> {
    sqlx::query(select_organisation!("WHERE o.id = $1"))
        .bind(id.as_str())
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// One page of the organisations in reach (active or not), by kana; `text` matches a part
/// of the name or the kana.
pub async fn list_in_reach(
    db: &Db,
    reach: &Reach,
    text: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Organisation>, i64), sqlx::Error> {
    if reach.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let (everything, prefectures) = reach.binds();
    let pattern = codec::like_contains(&text.to_lowercase());
    let total: i64 = sqlx::query(concat!(
        "SELECT count(*) FROM organisations o WHERE ",
        org_in_reach!(),
        " AND ($3 = '' OR lower(o.name) LIKE $4 ESCAPE '\\' OR lower(o.kana) LIKE $4 ESCAPE '\\')"
    ))
    .bind(everything)
    .bind(&prefectures)
    .bind(text)
    .bind(&pattern)
    .fetch_one(db.pool())
    .await?
    .try_get(0)?;
    let rows = sqlx::query(select_organisation!(
        "WHERE ",
        org_in_reach!(),
        " AND ($3 = '' OR lower(o.name) LIKE $4 ESCAPE '\\' OR lower(o.kana) LIKE $4 ESCAPE '\\') \
         ORDER BY o.kana, o.id LIMIT $5 OFFSET $6"
    ))
    .bind(everything)
    .bind(&prefectures)
    .bind(text)
    .bind(&pattern)
    .bind(limit)
    .bind(offset)
    .fetch_all(db.pool())
    .await?;
    Ok((rows.iter().map(from_row).collect::<Result<_, _>>()?, total))
}

/// Every active organisation in reach but the families', by municipality and kana: the
/// choices when granting a role (a family's account is made from their child's record).
pub async fn active_in_reach(db: &Db, reach: &Reach) -> Result<Vec<Organisation>, sqlx::Error> {
    if reach.is_empty() {
        return Ok(Vec::new());
    }
    let (everything, prefectures) = reach.binds();
    let rows = sqlx::query(select_organisation!(
        "WHERE ",
        org_in_reach!(),
        " AND o.active = $3 AND o.kind <> 'family' ORDER BY o.municipality_code, o.kana, o.id"
    ))
    .bind(everything)
    .bind(&prefectures)
    .bind(true)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

/// [`create`] inside the caller's transaction, so the audit entry commits with it.
pub async fn insert(
    conn: &mut sqlx::AnyConnection,
    new: &NewOrganisation,
    now: DateTime<Utc>,
) -> Result<Organisation, sqlx::Error> {
    let id = OrganisationId::from_uuid(uuid::Uuid::new_v4());
    let at = codec::instant_to_db(now);
    sqlx::query(
        "INSERT INTO organisations (id, name, kana, kind, department, municipality_code, active, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8)",
    )
    .bind(id.as_str())
    .bind(&new.name)
    .bind(&new.kana)
    .bind(new.kind.as_str())
    .bind(new.department.map(Department::as_str))
    .bind(new.municipality_code.to_string())
    .bind(true)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(Organisation {
        id,
        name: new.name.clone(),
        kana: new.kana.clone(),
        kind: new.kind,
        department: new.department,
        municipality_code: new.municipality_code.to_string(),
        active: true,
        version: 1,
    })
}

/// Replaces an organisation's fields if it is still at `expected_version`; false (and
/// nothing changed) when someone else saved first or it does not exist.
pub async fn update(
    conn: &mut sqlx::AnyConnection,
    id: &OrganisationId,
    expected_version: i64,
    changed: &NewOrganisation,
    active: bool,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE organisations SET name = $1, kana = $2, kind = $3, department = $4, municipality_code = $5, \
         active = $6, version = version + 1, updated_at = $7 WHERE id = $8 AND version = $9",
    )
    .bind(&changed.name)
    .bind(&changed.kana)
    .bind(changed.kind.as_str())
    .bind(changed.department.map(Department::as_str))
    .bind(changed.municipality_code.to_string())
    .bind(active)
    .bind(codec::instant_to_db(now))
    .bind(id.as_str())
    .bind(expected_version)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The active outside organisations a family may share a record with, in one prefecture
/// (`prefecture` is the two-digit number): support centre, consultation offices,
/// facilities, hospitals and the mentor office.
pub async fn partners_in_prefecture(
    db: &Db,
    prefecture: &str,
) -> Result<Vec<Organisation>, sqlx::Error> {
    let rows = sqlx::query(select_organisation!(
        "WHERE substr(o.municipality_code, 1, 2) = $1 AND o.active = $2 ",
        "AND o.kind IN ('support_center','consultation_office','facility','hospital','mentor_office') ",
        "ORDER BY o.kind, o.kana, o.id"
    ))
    .bind(prefecture)
    .bind(true)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

/// The families' organisation of a municipality. Its id is fixed by the code (migration 19
/// names the same one), so two staff making the town's first family accounts at once make
/// one organisation.
pub fn families_id(municipality_code: &str) -> OrganisationId {
    OrganisationId::from_stored(format!("f0000000-0000-4000-8000-000000{municipality_code}"))
}

/// The families' organisation of the municipality `department` serves, made the first time
/// one of its families gets an account: where a guardian's membership is held, so that the
/// family belongs to no office.
pub async fn families_of(
    conn: &mut sqlx::AnyConnection,
    department: &OrganisationId,
    now: DateTime<Utc>,
) -> Result<OrganisationId, sqlx::Error> {
    let code: String = sqlx::query("SELECT municipality_code FROM organisations WHERE id = $1")
        .bind(department.as_str())
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    let id = families_id(&code);
    sqlx::query(
        "INSERT INTO organisations (id, name, kana, kind, department, municipality_code, active, version, created_at, updated_at) \
         SELECT $1, m.name || 'のご家族', 'ごかぞく', 'family', NULL, m.code, $2, 1, $3, $3 \
         FROM municipalities m WHERE m.code = $4 \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id.as_str())
    .bind(true)
    .bind(codec::instant_to_db(now))
    .bind(&code)
    .execute(conn)
    .await?;
    Ok(id)
}
