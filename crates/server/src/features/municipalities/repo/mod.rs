//! The municipality tables. The only place that writes SQL about them.

pub mod reference;

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use tsunagu_core::municipality::MunicipalityCode;

pub use super::index::{
    Municipality, Search, SearchPage, by_name, get as lookup, in_prefecture, parent_of,
    prefectures as prefecture_list,
};
use crate::db::Db;

/// 圏域（市区町村が属する地域）
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Area {
    pub id: String,
    pub name: String,
    pub kana: String,
}

/// Every query starts from the same columns, joined to the prefecture for its name.
/// A macro so each query stays one `&'static str`: sqlx refuses SQL built at run time.
macro_rules! select {
    ($($tail:tt)+) => {
        concat!(
            "SELECT m.code, m.prefecture_code, p.name AS prefecture_name, m.name, m.kana, m.kind, m.parent_code, ",
            "m.valid_from, m.valid_until, m.successor_code, m.note ",
            "FROM municipalities m JOIN municipalities p ON p.prefecture_code = m.prefecture_code AND p.kind = 'prefecture' ",
            $($tail)+
        )
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
        valid_from: optional_date(row, "valid_from")?,
        valid_until: optional_date(row, "valid_until")?,
        successor_code: row.try_get("successor_code")?,
        note: row.try_get("note")?,
    })
}

fn optional_date(row: &AnyRow, column: &str) -> Result<Option<chrono::NaiveDate>, sqlx::Error> {
    row.try_get::<Option<String>, _>(column)?
        .map(|text| crate::db::codec::date_from_db(&text, column))
        .transpose()
}

/// Matches name, kana (either script, either width) or code anywhere in the text.
/// Served from the in-memory reference index (see `index.rs`); async like the rest of the repo.
pub async fn search(_db: &Db, search: &Search) -> Result<SearchPage, sqlx::Error> {
    Ok(super::index::search(search))
}

pub async fn get(_db: &Db, code: MunicipalityCode) -> Result<Option<Municipality>, sqlx::Error> {
    Ok(super::index::get(&code.to_string()))
}

/// The six villages of the 北方領土 that 全国地方公共団体コード lists (総務省; the same
/// package as the snapshot, see data/SOURCE.md "Known limitations" 2). They have codes but
/// no functioning local government, so no one can be registered there and they are not in
/// the municipalities table; their codes still answer, with that said.
pub const NORTHERN_TERRITORIES: [(&str, &str, &str); 6] = [
    ("016951", "色丹村", "しこたんむら"),
    ("016969", "泊村", "とまりむら"),
    ("016977", "留夜別村", "るよべつむら"),
    ("016985", "留別村", "るべつむら"),
    ("016993", "紗那村", "しゃなむら"),
    ("017001", "蘂取村", "しべとろむら"),
];

/// A village of the 北方領土 by its code (see [`NORTHERN_TERRITORIES`]).
pub fn northern_territory(code: MunicipalityCode) -> Option<Municipality> {
    let code = code.to_string();
    NORTHERN_TERRITORIES
        .iter()
        .find(|(c, ..)| *c == code)
        .map(|(code, name, kana)| Municipality {
            code: (*code).to_string(),
            prefecture_code: "01".into(),
            prefecture_name: "北海道".into(),
            name: (*name).to_string(),
            kana: (*kana).to_string(),
            kind: "village".into(),
            ..Municipality::default()
        })
}

/// What a page or the API says of a 北方領土 village.
pub const NO_RESIDENTS_NOTE: &str =
    "北方領土の村です。団体コードはありますが、この村に住む人を登録することはできません。";

/// The name of the municipality with this code, from the in-memory reference index ("" for a
/// code not in the snapshot, which the table's foreign keys do not let a child have).
pub fn name_of(code: &str) -> &'static str {
    super::index::name_of(code)
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

/// The areas (圏域) of a prefecture (two digits), by id.
pub async fn areas_in(db: &Db, prefecture: &str) -> Result<Vec<Area>, sqlx::Error> {
    let rows =
        sqlx::query("SELECT id, name, kana FROM areas WHERE prefecture_code = $1 ORDER BY id")
            .bind(prefecture)
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

/// The municipality codes of an area, with its name; `None` for an id no area has.
pub async fn area_members(
    db: &Db,
    area_id: &str,
) -> Result<Option<(Area, Vec<String>)>, sqlx::Error> {
    let Some(row) = sqlx::query("SELECT id, name, kana FROM areas WHERE id = $1")
        .bind(area_id)
        .fetch_optional(db.pool())
        .await?
    else {
        return Ok(None);
    };
    let area = Area {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        kana: row.try_get("kana")?,
    };
    let codes = sqlx::query(
        "SELECT municipality_code FROM area_members WHERE area_id = $1 ORDER BY municipality_code",
    )
    .bind(area_id)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|row| row.try_get(0))
    .collect::<Result<Vec<String>, _>>()?;
    Ok(Some((area, codes)))
}

/// All 47 prefectures, for browsing.
pub async fn prefectures(_db: &Db) -> Result<Vec<Municipality>, sqlx::Error> {
    Ok(super::index::prefectures())
}

/// The areas (圏域) of a prefecture with the codes of their municipalities, by id.
pub async fn areas_with_members(
    db: &Db,
    prefecture: &str,
) -> Result<Vec<(Area, Vec<String>)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT a.id, a.name, a.kana, am.municipality_code FROM areas a \
         JOIN area_members am ON am.area_id = a.id \
         WHERE a.prefecture_code = $1 ORDER BY a.id, am.municipality_code",
    )
    .bind(prefecture)
    .fetch_all(db.pool())
    .await?;
    let mut areas: Vec<(Area, Vec<String>)> = Vec::new();
    for row in &rows {
        let id: String = row.try_get("id")?;
        let code: String = row.try_get("municipality_code")?;
        match areas.last_mut() {
            Some((area, codes)) if area.id == id => codes.push(code),
            _ => areas.push((
                Area {
                    id,
                    name: row.try_get("name")?,
                    kana: row.try_get("kana")?,
                },
                vec![code],
            )),
        }
    }
    Ok(areas)
}
