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
    pub care_score: i64,
    pub care_tier: String,
}

impl Child {
    pub fn tier_ja(&self) -> &'static str {
        tsunagu_core::care::Tier::parse(&self.care_tier)
            .map(|t| t.label_ja())
            .unwrap_or("")
    }

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
            "c.name, c.kana, c.birth_date, c.sex, c.status, c.version, c.care_score, c.care_tier ",
            "FROM children c JOIN organisations o ON o.id = c.owner_organisation_id ",
            "JOIN municipalities m ON m.code = c.municipality_code ",
            $($tail)+
        )
    };
}

/// The scope filter of `tsunagu_core::access::scope_filter` as SQL: `$1`–`$8` are the
/// organisation ids and department keys of the actor (padded with a value that matches nothing), `$9` today, `$10`
/// the guardian's account id (or ''). Each branch can use an index, so a town's list does
/// not scan the nation's children.
macro_rules! in_scope {
    () => {
        "(c.owner_organisation_id IN ($1,$2,$3,$4,$5,$6,$7,$8) \
          OR c.id IN (SELECT k.child_id FROM child_consents k WHERE k.recipient IN ($1,$2,$3,$4,$5,$6,$7,$8) \
              AND k.withdrawn_at IS NULL AND (k.expires_on IS NULL OR k.expires_on >= $9)) \
          OR c.id IN (SELECT s.child_id FROM child_shares s WHERE s.organisation_id IN ($1,$2,$3,$4,$5,$6,$7,$8)) \
          OR c.id IN (SELECT g.child_id FROM child_guardians g WHERE g.account_id = $10))"
    };
}

/// The list filters, `$11`–`$19`; '' means "any".
macro_rules! filtered {
    () => {
        " AND c.search_key LIKE $11 ESCAPE '\\' \
          AND ($12 = '' OR c.municipality_code = $12) \
          AND ($13 = '' OR EXISTS (SELECT 1 FROM child_care_items ci WHERE ci.child_id = c.id AND ci.item = $13)) \
          AND ($14 = '' OR EXISTS (SELECT 1 FROM child_devices dv WHERE dv.child_id = c.id AND dv.kind = $14)) \
          AND ($15 = '' OR c.care_tier = $15) \
          AND ($16 = '' OR c.birth_date >= $16) \
          AND ($17 = '' OR c.birth_date <= $17) \
          AND ($18 = '' OR c.status = $18) \
          AND ($19 = '' OR EXISTS (SELECT 1 FROM guardians gw WHERE gw.child_id = c.id AND gw.wishes_to_work = $19))"
    };
}

/// Matches no organisation id, department key or stored recipient.
const NO_RECIPIENT: &str = "\u{1}none";

/// How many organisations and departments one person's list query can carry.
pub const SCOPE_SLOTS: usize = 8;

/// What a list is narrowed to, each field '' for "any". Birth dates come from the age band
/// or life stage chosen (see `filters`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    pub text: String,
    pub municipality: String,
    pub care_item: String,
    pub device: String,
    pub tier: String,
    pub born_from: String,
    pub born_to: String,
    pub status: String,
    pub wishes_to_work: String,
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
        care_score: row.try_get("care_score")?,
        care_tier: row.try_get("care_tier")?,
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
/// Consents count when not withdrawn and not expired on `today`.
pub async fn get(
    db: &Db,
    id: &str,
    today: NaiveDate,
) -> Result<Option<(Child, Target)>, sqlx::Error> {
    let Some(row) = sqlx::query(select_child!("WHERE c.id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
    else {
        return Ok(None);
    };
    let child = from_row(&row)?;
    let mut shared_with =
        sqlx::query("SELECT organisation_id FROM child_shares WHERE child_id = $1")
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
    let mut consented_departments = Vec::new();
    for consent in super::consent::active(db, id, today).await? {
        match (consent.organisation_id, consent.department) {
            (Some(org), _) => shared_with.push(org),
            // A department consent belongs to the town the child lived in when it was given.
            (None, Some(department))
                if consent.recipient
                    == tsunagu_core::access::department_key(&municipality_code, department) =>
            {
                consented_departments.push(department)
            }
            _ => {}
        }
    }
    let guardian_account_ids =
        sqlx::query("SELECT account_id FROM child_guardians WHERE child_id = $1")
            .bind(id)
            .fetch_all(db.pool())
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<Vec<String>, _>>()?;
    let target = Target {
        resource_type: RESOURCE_TYPE.into(),
        resource_id: child.id.clone(),
        owner_organisation_id: child.owner_organisation_id.clone(),
        municipality_code,
        shared_with,
        consented_departments,
        guardian_account_ids,
    };
    Ok(Some((child, target)))
}

/// A scope the list query cannot express (wider than organisations and departments).
#[derive(Debug, thiserror::Error)]
#[error(
    "この権限の範囲は一覧で扱えません（所属が{SCOPE_SLOTS}を超えるか、全国・都道府県単位の閲覧権限です）"
)]
pub struct UnsupportedScope;

/// One page of the children in reach, by kana, with the total.
pub async fn list(
    db: &Db,
    scope: &ScopeFilter,
    filter: &ListFilter,
    today: NaiveDate,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Child>, i64), sqlx::Error> {
    if scope.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let mut slots: Vec<String> = scope
        .organisations
        .iter()
        .chain(&scope.department_keys)
        .cloned()
        .collect();
    if scope.everything || !scope.prefectures.is_empty() || slots.len() > SCOPE_SLOTS {
        return Err(sqlx::Error::Protocol(UnsupportedScope.to_string()));
    }
    // Pad with a value that matches nothing, never with '': consents without a recipient
    // (registry, disaster plan, mentor) store '' and would otherwise match everyone's.
    // (Copies of a real slot are correct too, but make PostgreSQL expect 8× the rows and
    // scan the consents instead of using the index.)
    let filler = NO_RECIPIENT.to_string();
    slots.resize(SCOPE_SLOTS, filler);
    let pattern = codec::like_contains(&search_key(&filter.text));
    let guardian = scope.guardian_account_id.clone().unwrap_or_default();
    let today = codec::date_to_db(today);
    macro_rules! bind_all {
        ($query:expr) => {{
            let mut q = $query;
            for slot in &slots {
                q = q.bind(slot);
            }
            q.bind(&today)
                .bind(&guardian)
                .bind(&pattern)
                .bind(&filter.municipality)
                .bind(&filter.care_item)
                .bind(&filter.device)
                .bind(&filter.tier)
                .bind(&filter.born_from)
                .bind(&filter.born_to)
                .bind(&filter.status)
                .bind(&filter.wishes_to_work)
        }};
    }
    let total: i64 = bind_all!(sqlx::query(concat!(
        "SELECT count(*) FROM children c WHERE ",
        in_scope!(),
        filtered!()
    )))
    .fetch_one(db.pool())
    .await?
    .try_get(0)?;
    let rows = bind_all!(sqlx::query(select_child!(
        "WHERE ",
        in_scope!(),
        filtered!(),
        " ORDER BY c.kana, c.id LIMIT $20 OFFSET $21"
    )))
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
    // Lists filter on the tier, so the computed score is kept beside the items.
    let score = tsunagu_core::care::score(entries, &tsunagu_core::care::SCORE_TABLE_2021)
        .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    sqlx::query("UPDATE children SET care_score = $1, care_tier = $2 WHERE id = $3")
        .bind(i64::from(score.total))
        .bind(score.tier.code())
        .bind(child_id)
        .execute(&mut *conn)
        .await?;
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
