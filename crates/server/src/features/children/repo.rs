//! The children table and what it is shared with. Reads that return a child always come
//! with the [`Target`] the policy needs to decide on it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use tsunagu_core::access::{ScopeFilter, Target};
use tsunagu_core::care::{CareEntry, CareItem, CareVariant, Watch};
use tsunagu_core::kana::search_key;
use tsunagu_core::municipality::MunicipalityCode;

use crate::db::{Db, codec};

pub const RESOURCE_TYPE: &str = "child";

#[derive(Debug, Clone, Serialize)]
pub struct Child {
    pub id: String,
    pub owner_organisation_id: String,
    pub owner_organisation_name: String,
    pub municipality_code: String,
    pub municipality_name: String,
    pub name: String,
    pub kana: String,
    pub birth_date: NaiveDate,
    pub sex: String,
    pub status: String,
    pub version: i64,
}

impl Child {
    pub fn sex_ja(&self) -> &'static str {
        match self.sex.as_str() {
            "female" => "女",
            "male" => "男",
            "other" => "その他",
            _ => "不明",
        }
    }

    pub fn status_ja(&self) -> &'static str {
        match self.status.as_str() {
            "active" => "支援中",
            "moved_out" => "転出",
            "aged_out" => "対象年齢外",
            "deceased" => "死亡",
            _ => "不明",
        }
    }
}

macro_rules! select_child {
    ($($tail:tt)+) => {
        concat!(
            "SELECT c.id, c.owner_organisation_id, o.name AS owner_name, c.municipality_code, m.name AS municipality_name, ",
            "c.name, c.kana, c.birth_date, c.sex, c.status, c.version ",
            "FROM children c JOIN organisations o ON o.id = c.owner_organisation_id ",
            "JOIN municipalities m ON m.code = c.municipality_code ",
            $($tail)+
        )
    };
}

/// The scope filter of `tsunagu_core::access::scope_filter` as SQL, parameters `$1`–`$5`.
macro_rules! in_scope {
    () => {
        "($5 = 1 \
          OR ($1 <> '' AND $1 LIKE ('%|' || c.municipality_code || '|%')) \
          OR ($2 <> '' AND $2 LIKE ('%|' || substr(c.municipality_code, 1, 2) || '|%')) \
          OR ($3 <> '' AND ($3 LIKE ('%|' || c.owner_organisation_id || '|%') \
              OR EXISTS (SELECT 1 FROM child_shares s WHERE s.child_id = c.id AND $3 LIKE ('%|' || s.organisation_id || '|%')))) \
          OR ($4 <> '' AND EXISTS (SELECT 1 FROM child_guardians g WHERE g.child_id = c.id AND g.account_id = $4)))"
    };
}

fn from_row(row: &AnyRow) -> Result<Child, sqlx::Error> {
    Ok(Child {
        id: row.try_get("id")?,
        owner_organisation_id: row.try_get("owner_organisation_id")?,
        owner_organisation_name: row.try_get("owner_name")?,
        municipality_code: row.try_get("municipality_code")?,
        municipality_name: row.try_get("municipality_name")?,
        name: row.try_get("name")?,
        kana: row.try_get("kana")?,
        birth_date: codec::get_date(row, "birth_date")?,
        sex: row.try_get("sex")?,
        status: row.try_get("status")?,
        version: row.try_get("version")?,
    })
}

#[derive(Debug, Clone)]
pub struct NewChild {
    pub owner_organisation_id: String,
    pub municipality_code: MunicipalityCode,
    pub name: String,
    pub kana: String,
    pub birth_date: NaiveDate,
    pub sex: String,
}

pub async fn create(
    conn: &mut AnyConnection,
    new: &NewChild,
    now: DateTime<Utc>,
) -> Result<String, sqlx::Error> {
    let id = uuid::Uuid::new_v4().to_string();
    let at = codec::instant_to_db(now);
    sqlx::query(
        "INSERT INTO children (id, owner_organisation_id, municipality_code, name, kana, search_key, birth_date, sex, \
         status, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', 1, $9, $9)",
    )
    .bind(&id)
    .bind(&new.owner_organisation_id)
    .bind(new.municipality_code.to_string())
    .bind(&new.name)
    .bind(&new.kana)
    .bind(search_key(&format!("{} {}", new.name, new.kana)))
    .bind(codec::date_to_db(new.birth_date))
    .bind(&new.sex)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(id)
}

pub async fn add_guardian(
    conn: &mut AnyConnection,
    child_id: &str,
    account_id: &str,
    relation: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO child_guardians (child_id, account_id, relation) VALUES ($1, $2, $3)")
        .bind(child_id)
        .bind(account_id)
        .bind(relation)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn share(
    conn: &mut AnyConnection,
    child_id: &str,
    organisation_id: &str,
    basis: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO child_shares (child_id, organisation_id, basis, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (child_id, organisation_id) DO NOTHING",
    )
    .bind(child_id)
    .bind(organisation_id)
    .bind(basis)
    .bind(codec::instant_to_db(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// A child with what the policy needs to decide on it; `None` when there is no such child.
pub async fn get(db: &Db, id: &str) -> Result<Option<(Child, Target)>, sqlx::Error> {
    let Some(row) = sqlx::query(select_child!("WHERE c.id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
    else {
        return Ok(None);
    };
    let child = from_row(&row)?;
    let shared_with = sqlx::query("SELECT organisation_id FROM child_shares WHERE child_id = $1")
        .bind(id)
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<Vec<String>, _>>()?;
    let guardian_account_ids =
        sqlx::query("SELECT account_id FROM child_guardians WHERE child_id = $1")
            .bind(id)
            .fetch_all(db.pool())
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<Vec<String>, _>>()?;
    let municipality_code = MunicipalityCode::parse(&child.municipality_code).map_err(|e| {
        sqlx::Error::ColumnDecode {
            index: "municipality_code".into(),
            source: Box::new(e),
        }
    })?;
    let target = Target {
        resource_type: RESOURCE_TYPE.into(),
        resource_id: child.id.clone(),
        owner_organisation_id: child.owner_organisation_id.clone(),
        municipality_code,
        shared_with,
        guardian_account_ids,
    };
    Ok(Some((child, target)))
}

/// One page of the children in reach, by kana; `text` matches name or kana.
pub async fn list(
    db: &Db,
    scope: &ScopeFilter,
    text: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Child>, i64), sqlx::Error> {
    if scope.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let pattern = codec::like_contains(&search_key(text));
    let municipalities = ScopeFilter::joined(&scope.municipalities);
    let prefectures = ScopeFilter::joined(&scope.prefectures);
    let organisations = ScopeFilter::joined(&scope.organisations);
    let guardian = scope.guardian_account_id.clone().unwrap_or_default();
    let everything = i64::from(scope.everything);
    let total: i64 = sqlx::query(concat!(
        "SELECT count(*) FROM children c WHERE ",
        in_scope!(),
        " AND c.search_key LIKE $6 ESCAPE '\\'"
    ))
    .bind(&municipalities)
    .bind(&prefectures)
    .bind(&organisations)
    .bind(&guardian)
    .bind(everything)
    .bind(&pattern)
    .fetch_one(db.pool())
    .await?
    .try_get(0)?;
    let rows = sqlx::query(select_child!(
        "WHERE ",
        in_scope!(),
        " AND c.search_key LIKE $6 ESCAPE '\\' ORDER BY c.kana, c.id LIMIT $7 OFFSET $8"
    ))
    .bind(&municipalities)
    .bind(&prefectures)
    .bind(&organisations)
    .bind(&guardian)
    .bind(everything)
    .bind(&pattern)
    .bind(limit)
    .bind(offset)
    .fetch_all(db.pool())
    .await?;
    Ok((rows.iter().map(from_row).collect::<Result<_, _>>()?, total))
}

/// Replaces the child's care items (the caller has already checked them with `care::score`).
pub async fn set_care(
    conn: &mut AnyConnection,
    child_id: &str,
    entries: &[CareEntry],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM child_care_items WHERE child_id = $1")
        .bind(child_id)
        .execute(&mut *conn)
        .await?;
    for e in entries {
        sqlx::query(
            "INSERT INTO child_care_items (child_id, item, variant, watch) VALUES ($1, $2, $3, $4)",
        )
        .bind(child_id)
        .bind(e.item.code())
        .bind(e.variant.map(|v| v.code()))
        .bind(e.watch.map(|w| w.code()))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The child's care items in the score sheet's order. A stored code this version does not
/// know is a decode error rather than a silently lower score.
pub async fn care_of(db: &Db, child_id: &str) -> Result<Vec<CareEntry>, sqlx::Error> {
    let rows = sqlx::query("SELECT item, variant, watch FROM child_care_items WHERE child_id = $1")
        .bind(child_id)
        .fetch_all(db.pool())
        .await?;
    let decode = |e: tsunagu_core::care::CareError| sqlx::Error::ColumnDecode {
        index: "item".into(),
        source: Box::new(e),
    };
    let mut entries = rows
        .iter()
        .map(|row| {
            let item: String = row.try_get("item")?;
            let variant: Option<String> = row.try_get("variant")?;
            let watch: Option<String> = row.try_get("watch")?;
            Ok(CareEntry {
                item: CareItem::parse(&item).map_err(decode)?,
                variant: variant
                    .as_deref()
                    .map(CareVariant::parse)
                    .transpose()
                    .map_err(decode)?,
                watch: watch
                    .as_deref()
                    .map(Watch::parse)
                    .transpose()
                    .map_err(decode)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    entries.sort_by_key(|e| e.item);
    Ok(entries)
}
