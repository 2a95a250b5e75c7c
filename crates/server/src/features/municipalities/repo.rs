//! The municipality tables. The only place that writes SQL about them.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use tsunagu_core::kana::search_key;
use tsunagu_core::municipality::MunicipalityCode;

use crate::db::{Db, codec};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Municipality {
    pub code: String,
    pub prefecture_code: String,
    pub prefecture_name: String,
    pub name: String,
    pub kana: String,
    pub kind: String,
    pub parent_code: Option<String>,
}

impl Municipality {
    /// The kind as people read it.
    pub fn kind_ja(&self) -> &'static str {
        match self.kind.as_str() {
            "prefecture" => "都道府県",
            "designated_city" => "政令指定都市",
            "city" => "市",
            "special_ward" => "特別区",
            "ward" => "行政区",
            "town" => "町",
            "village" => "村",
            _ => "その他",
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Area {
    pub id: String,
    pub name: String,
    pub kana: String,
}

/// What to look for. Empty text and no prefecture lists everything, in code order.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub text: String,
    pub prefecture_code: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchPage {
    pub items: Vec<Municipality>,
    pub total: i64,
}

/// Every query starts from the same columns, joined to the prefecture for its name.
/// A macro so each query stays one `&'static str`: sqlx refuses SQL built at run time.
macro_rules! select {
    ($($tail:tt)+) => {
        concat!(
            "SELECT m.code, m.prefecture_code, p.name AS prefecture_name, m.name, m.kana, m.kind, m.parent_code ",
            "FROM municipalities m JOIN municipalities p ON p.prefecture_code = m.prefecture_code AND p.kind = 'prefecture' ",
            $($tail)+
        )
    };
}

/// `$2 = ''` switches the prefecture filter off, so one statement serves both cases.
macro_rules! search_filter {
    () => {
        "WHERE m.search_key LIKE $1 ESCAPE '\\' AND ($2 = '' OR m.prefecture_code = $2)"
    };
}

fn from_row(row: &AnyRow) -> Result<Municipality, sqlx::Error> {
    Ok(Municipality {
        code: row.try_get("code")?,
        prefecture_code: row.try_get("prefecture_code")?,
        prefecture_name: row.try_get("prefecture_name")?,
        name: row.try_get("name")?,
        kana: row.try_get("kana")?,
        kind: row.try_get("kind")?,
        parent_code: row.try_get("parent_code")?,
    })
}

/// Matches name, kana (either script, either width) or code anywhere in the text.
pub async fn search(db: &Db, search: &Search) -> Result<SearchPage, sqlx::Error> {
    let key = search_key(&search.text);
    let pattern = codec::like_contains(&key);
    let prefecture = search.prefecture_code.clone().unwrap_or_default();
    let total: i64 = sqlx::query(concat!(
        "SELECT count(*) FROM municipalities m ",
        search_filter!()
    ))
    .bind(&pattern)
    .bind(&prefecture)
    .fetch_one(db.pool())
    .await?
    .try_get(0)?;
    let rows = sqlx::query(select!(concat!(
        search_filter!(),
        " ORDER BY m.code LIMIT $3 OFFSET $4"
    )))
    .bind(&pattern)
    .bind(&prefecture)
    .bind(search.limit)
    .bind(search.offset)
    .fetch_all(db.pool())
    .await?;
    let items = rows.iter().map(from_row).collect::<Result<_, _>>()?;
    Ok(SearchPage { items, total })
}

pub async fn get(db: &Db, code: MunicipalityCode) -> Result<Option<Municipality>, sqlx::Error> {
    sqlx::query(select!("WHERE m.code = $1"))
        .bind(code.to_string())
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The wards of a designated city, or the municipalities of a prefecture.
pub async fn children(db: &Db, parent: &Municipality) -> Result<Vec<Municipality>, sqlx::Error> {
    let rows = if parent.kind == "prefecture" {
        sqlx::query(select!("WHERE m.prefecture_code = $1 AND m.kind <> 'prefecture' AND m.kind <> 'ward' ORDER BY m.code"))
        .bind(&parent.prefecture_code)
        .fetch_all(db.pool())
        .await?
    } else {
        sqlx::query(select!("WHERE m.parent_code = $1 ORDER BY m.code"))
            .bind(&parent.code)
            .fetch_all(db.pool())
            .await?
    };
    rows.iter().map(from_row).collect()
}

pub async fn areas_of(db: &Db, code: &str) -> Result<Vec<Area>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT a.id, a.name, a.kana FROM areas a JOIN area_members am ON am.area_id = a.id \
         WHERE am.municipality_code = $1 ORDER BY a.id",
    )
    .bind(code)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Area {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                kana: row.try_get("kana")?,
            })
        })
        .collect()
}

/// All 47 prefectures, for browsing.
pub async fn prefectures(db: &Db) -> Result<Vec<Municipality>, sqlx::Error> {
    let rows = sqlx::query(select!("WHERE m.kind = 'prefecture' ORDER BY m.code"))
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(from_row).collect()
}
