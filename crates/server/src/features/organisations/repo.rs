//! The organisations table.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use tsunagu_core::municipality::MunicipalityCode;

use super::{Department, OrganisationKind};
use crate::db::{Db, codec};

#[derive(Debug, Clone, Serialize)]
pub struct Organisation {
    pub id: String,
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
        id: row.try_get("id")?,
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
    let id = uuid::Uuid::new_v4().to_string();
    let at = codec::instant_to_db(now);
    sqlx::query(
        "INSERT INTO organisations (id, name, kana, kind, department, municipality_code, active, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8)",
    )
    .bind(&id)
    .bind(&new.name)
    .bind(&new.kana)
    .bind(new.kind.as_str())
    .bind(new.department.map(Department::as_str))
    .bind(new.municipality_code.to_string())
    .bind(true)
    .bind(at)
    .execute(db.pool())
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
